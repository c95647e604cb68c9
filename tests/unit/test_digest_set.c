/* Unit test: digest set insert/lookup/iterate across growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/digest_set.h"
#include "crypto/hash.h"

static void mk(uint32_t i, uint8_t d[32]) { tp_sha256(&i, sizeof(i), d); }

static void test_set(void **state)
{
	(void)state;
	tp_digest_set s = TP_DIGEST_SET_INIT;
	uint8_t d[32];
	assert_int_equal(tp_digest_set_has(&s, (uint8_t[32]){ 0 }), 0);
	for (uint32_t i = 0; i < 20000; i++) {
		mk(i, d);
		assert_int_equal(tp_digest_set_add(&s, d, i * 3u), 1);
	}
	for (uint32_t i = 0; i < 20000; i += 7) {
		mk(i, d);
		assert_int_equal(tp_digest_set_add(&s, d, 0), 0);
		uint64_t v = 0;
		assert_int_equal(tp_digest_set_get(&s, d, &v), 1);
		assert_int_equal(v, i * 3u);
	}
	mk(20001, d);
	assert_int_equal(tp_digest_set_has(&s, d), 0);
	assert_int_equal(s.n, 20000);
	size_t pos = 0, count = 0;
	uint64_t sum = 0, v;
	while (tp_digest_set_next(&s, &pos, &v)) {
		count++;
		sum += v;
	}
	assert_int_equal(count, 20000);
	assert_int_equal(sum, 3ull * 20000 * 19999 / 2);
	mk(5, d);
	*tp_digest_set_ref(&s, d) = 42;
	assert_int_equal(tp_digest_set_get(&s, d, &v), 1);
	assert_int_equal(v, 42);
	tp_digest_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_set) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
