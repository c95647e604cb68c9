/* Unit test: every magic equals SHA-256(text)[0..8] and lookup finds it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "crypto/hash.h"
#include "format/magic.h"

static void test_magics_are_sha256_prefixes(void **state)
{
	(void)state;
	for (int i = 0; i < TP_MAGIC_COUNT; i++) {
		uint8_t d[32];
		tp_sha256(tp_magics[i].text, strlen(tp_magics[i].text), d);
		assert_memory_equal(d, tp_magics[i].bytes, 8);
		assert_int_equal(tp_magic_lookup(d), i);
	}
}

static void test_lookup_unknown(void **state)
{
	(void)state;
	uint8_t z[8] = { 0 };
	assert_int_equal(tp_magic_lookup(z), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_magics_are_sha256_prefixes),
		cmocka_unit_test(test_lookup_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
