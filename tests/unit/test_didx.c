/* Unit test: dynamic index golden layout, parse checks, lookup, csum, writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "crypto/hash.h"
#include "format/didx.h"

static const uint8_t didx_magic[8] = { 28, 145, 78, 165, 25, 186, 179, 205 };

static void test_golden_layout(void **state)
{
	(void)state;
	uint8_t uuid[16], dg[3 * 32], csum[32];
	uint64_t ends[3] = { 100, 250, 1000 };
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)(0xa0 + i);
	for (int i = 0; i < 3; i++)
		memset(dg + 32 * i, 0x11 * (i + 1), 32);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_didx_encode(uuid, 1234567890, ends, dg, 3, &b, NULL), 0);
	assert_int_equal(b.len, 4096 + 120);
	assert_memory_equal(b.data, didx_magic, 8);
	assert_memory_equal(b.data + 8, uuid, 16);
	assert_true(tp_le64(b.data + 24) == 1234567890);
	for (size_t i = 64; i < 4096; i++)
		assert_int_equal(b.data[i], 0);
	/* entries: end u64 LE then digest */
	static const uint8_t e1[8] = { 250, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(b.data + 4096 + 40, e1, 8);
	assert_memory_equal(b.data + 4096 + 48, dg + 32, 32);
	tp_sha256(b.data + 4096, 120, csum);
	assert_memory_equal(b.data + 32, csum, 32);

	tp_didx x;
	assert_int_equal(tp_didx_parse(&x, b.data, b.len, "t", NULL), 0);
	assert_int_equal(x.count, 3);
	assert_true(tp_didx_size(&x) == 1000);
	assert_true(x.ctime == 1234567890);
	assert_memory_equal(x.uuid, uuid, 16);
	assert_memory_equal(tp_didx_digest(&x, 2), dg + 64, 32);
	uint64_t s, e;
	assert_int_equal(tp_didx_chunk_range(&x, 0, &s, &e), 0);
	assert_true(s == 0 && e == 100);
	assert_int_equal(tp_didx_chunk_range(&x, 2, &s, &e), 0);
	assert_true(s == 250 && e == 1000);
	assert_int_equal(tp_didx_chunk_range(&x, 3, &s, &e), -ERANGE);
	size_t i;
	assert_int_equal(tp_didx_find(&x, 0, &i), 0);
	assert_int_equal(i, 0);
	assert_int_equal(tp_didx_find(&x, 99, &i), 0);
	assert_int_equal(i, 0);
	assert_int_equal(tp_didx_find(&x, 100, &i), 0);
	assert_int_equal(i, 1);
	assert_int_equal(tp_didx_find(&x, 999, &i), 0);
	assert_int_equal(i, 2);
	assert_int_equal(tp_didx_find(&x, 1000, &i), -ERANGE);
	assert_int_equal(tp_didx_verify_csum(&x, "t", NULL), 0);
	tp_buf_free(&b);
}

static void test_corruption(void **state)
{
	(void)state;
	uint8_t uuid[16] = { 0 }, dg[3 * 32] = { 0 };
	uint64_t ends[3] = { 100, 250, 1000 };
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	tp_didx x;
	assert_int_equal(tp_didx_encode(uuid, 1, ends, dg, 3, &b, NULL), 0);
	b.data[4096 + 50] ^= 1;
	assert_int_equal(tp_didx_parse(&x, b.data, b.len, "a.didx", &e), 0);
	assert_int_equal(tp_didx_verify_csum(&x, "a.didx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "a.didx: index checksum mismatch"));
	b.data[4096 + 50] ^= 1;
	for (size_t cut = 1; cut < 40; cut++) {
		assert_int_equal(tp_didx_parse(&x, b.data, b.len - cut, "a.didx", &e), -TP_EFORMAT);
		assert_non_null(strstr(e.msg, "index size mismatch"));
	}
	assert_int_equal(tp_didx_parse(&x, b.data, b.len - 40, "a.didx", &e), 0);
	assert_int_equal(x.count, 2);
	assert_int_equal(tp_didx_verify_csum(&x, "a.didx", &e), -TP_EFORMAT);
	assert_int_equal(tp_didx_parse(&x, b.data, 4000, "a.didx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "truncated"));
	b.data[0] ^= 0x80;
	assert_int_equal(tp_didx_parse(&x, b.data, b.len, "a.didx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "wrong magic"));
	b.data[0] ^= 0x80;
	/* a decreasing end offset is rejected, naming the entry */
	tp_put_le64(b.data + 4096 + 80, 249);
	assert_int_equal(tp_didx_parse(&x, b.data, b.len, "a.didx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "entry 2 of 3"));
	assert_int_equal(x.count, 0);
	/* equal ends (an empty chunk) are accepted */
	tp_put_le64(b.data + 4096 + 80, 250);
	assert_int_equal(tp_didx_parse(&x, b.data, b.len, "a.didx", &e), 0);
	/* the encoder refuses decreasing ends too */
	ends[2] = 5;
	assert_int_equal(tp_didx_encode(uuid, 1, ends, dg, 3, &b, &e), -EINVAL);
	/* an empty index */
	assert_int_equal(tp_didx_encode(uuid, 1, NULL, NULL, 0, &b, NULL), 0);
	assert_int_equal(tp_didx_parse(&x, b.data, b.len, "a.didx", &e), 0);
	assert_int_equal(x.count, 0);
	assert_true(tp_didx_size(&x) == 0);
	size_t i;
	assert_int_equal(tp_didx_find(&x, 0, &i), -ERANGE);
	assert_int_equal(tp_didx_verify_csum(&x, "a.didx", &e), 0);
	tp_buf_free(&b);
}

static void test_writer(void **state)
{
	(void)state;
	char t[] = "/tmp/tapir-test-didx-XXXXXX";
	assert_non_null(mkdtemp(t));
	char *path = tp_path_join(t, "root.pxar.didx");
	char *tmp = tp_path_join(t, "root.pxar.tmp_didx");
	size_t n = 5000;
	uint64_t *ends = malloc(sizeof(uint64_t) * n);
	uint8_t *dg = malloc(32 * n);
	uint64_t end = 0;
	for (size_t i = 0; i < n; i++) {
		end += 1000 + i;
		ends[i] = end;
		tp_sha256(&i, sizeof(i), dg + 32 * i);
	}
	tp_didx_writer w;
	tp_err e = { 0 };
	assert_int_equal(tp_didx_writer_create(&w, path, 1700000001, &e), 0);
	assert_int_equal(tp_path_exists(tmp), 1);
	assert_int_equal(tp_path_exists(path), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tp_didx_writer_add(&w, ends[i], dg + 32 * i, &e), 0);
	assert_int_equal(tp_didx_writer_add(&w, ends[n - 1] - 1, dg, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "before the previous end"));
	uint8_t uuid[16], csum[32];
	uint64_t size = 0;
	memcpy(uuid, w.uuid, 16);
	assert_int_equal(tp_didx_writer_close(&w, csum, &size, &e), 0);
	assert_true(size == end);
	assert_int_equal(tp_path_exists(tmp), 0);
	tp_buf want = TP_BUF_INIT, got = TP_BUF_INIT;
	assert_int_equal(tp_didx_encode(uuid, 1700000001, ends, dg, n, &want, NULL), 0);
	assert_int_equal(tp_read_file(path, &got, 1 << 20, NULL), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	assert_memory_equal(csum, want.data + 32, 32);
	tp_didx x;
	assert_int_equal(tp_didx_open(&x, path, &e), 0);
	assert_int_equal(x.count, n);
	assert_true(tp_didx_size(&x) == end);
	assert_int_equal(tp_didx_verify_csum(&x, path, &e), 0);
	size_t i;
	assert_int_equal(tp_didx_find(&x, ends[1234], &i), 0);
	assert_int_equal(i, 1235);
	tp_didx_close(&x);
	/* close on a closed writer fails cleanly */
	assert_int_equal(tp_didx_writer_close(&w, NULL, NULL, &e), -EBADF);
	/* a truncated file on disk */
	assert_int_equal(truncate(path, 4096 + 39), 0);
	assert_int_equal(tp_didx_open(&x, path, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, path));
	/* abort leaves nothing */
	assert_int_equal(tp_didx_writer_create(&w, path, 1, &e), 0);
	tp_didx_writer_abort(&w);
	assert_int_equal(tp_path_exists(tmp), 0);
	tp_rm_rf(t, NULL);
	free(path);
	free(tmp);
	free(ends);
	free(dg);
	tp_buf_free(&want);
	tp_buf_free(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_layout),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
