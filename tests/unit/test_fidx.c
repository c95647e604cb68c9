/* Unit test: fixed index golden layout, parse checks, csum, writer (tmp file, rename). */
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
#include "format/fidx.h"

static const uint8_t fidx_magic[8] = { 47, 127, 65, 237, 145, 253, 15, 205 };

static void fill_digests(uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		memset(d + 32 * i, (int)(i + 1), 32);
}

static void test_golden_layout(void **state)
{
	(void)state;
	uint8_t uuid[16], dg[5 * 32], csum[32];
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)i;
	fill_digests(dg, 5);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_fidx_encode(uuid, 0x0102030405060708LL, 300000, 65536, dg, 5, &b, NULL), 0);
	assert_int_equal(b.len, 4096 + 160);
	assert_memory_equal(b.data, fidx_magic, 8);
	assert_memory_equal(b.data + 8, uuid, 16);
	static const uint8_t ctime_le[8] = { 8, 7, 6, 5, 4, 3, 2, 1 };
	assert_memory_equal(b.data + 24, ctime_le, 8);
	tp_sha256(dg, sizeof(dg), csum);
	assert_memory_equal(b.data + 32, csum, 32);
	static const uint8_t size_le[8] = { 0xe0, 0x93, 0x04, 0, 0, 0, 0, 0 }; /* 300000 */
	static const uint8_t cs_le[8] = { 0, 0, 1, 0, 0, 0, 0, 0 };            /* 65536 */
	assert_memory_equal(b.data + 64, size_le, 8);
	assert_memory_equal(b.data + 72, cs_le, 8);
	for (size_t i = 80; i < 4096; i++)
		assert_int_equal(b.data[i], 0);
	assert_memory_equal(b.data + 4096, dg, sizeof(dg));

	tp_fidx x;
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "t", NULL), 0);
	assert_int_equal(x.count, 5);
	assert_int_equal(x.size, 300000);
	assert_int_equal(x.chunk_size, 65536);
	assert_true(x.ctime == 0x0102030405060708LL);
	assert_memory_equal(x.uuid, uuid, 16);
	assert_memory_equal(x.csum, csum, 32);
	assert_memory_equal(tp_fidx_digest(&x, 4), dg + 128, 32);
	uint64_t s, e;
	assert_int_equal(tp_fidx_chunk_range(&x, 0, &s, &e), 0);
	assert_true(s == 0 && e == 65536);
	assert_int_equal(tp_fidx_chunk_range(&x, 4, &s, &e), 0);
	assert_true(s == 262144 && e == 300000);
	assert_int_equal(tp_fidx_chunk_range(&x, 5, &s, &e), -ERANGE);
	assert_int_equal(tp_fidx_verify_csum(&x, "t", NULL), 0);
	tp_buf_free(&b);
}

static void test_corruption(void **state)
{
	(void)state;
	uint8_t uuid[16] = { 0 }, dg[4 * 32];
	fill_digests(dg, 4);
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	tp_fidx x;
	assert_int_equal(tp_fidx_encode(uuid, 1, 4 * 65536, 65536, dg, 4, &b, NULL), 0);
	/* a flipped digest parses but fails the csum */
	b.data[4096 + 70] ^= 1;
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), 0);
	assert_int_equal(tp_fidx_verify_csum(&x, "f.fidx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "f.fidx: index checksum mismatch (stored "));
	b.data[4096 + 70] ^= 1;
	/* one byte short or long: size mismatch */
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len - 1, "f.fidx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "index size mismatch"));
	tp_buf_append_u8(&b, 0);
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), -TP_EFORMAT);
	b.len--;
	/* header truncated */
	assert_int_equal(tp_fidx_parse(&x, b.data, 4095, "f.fidx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "truncated"));
	/* wrong magic */
	b.data[3] ^= 1;
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "wrong magic"));
	b.data[3] ^= 1;
	/* size field grown by one byte needs one more digest */
	tp_put_le64(b.data + 64, 4 * 65536 + 1);
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), -TP_EFORMAT);
	/* absurd size: no overflow, just a mismatch */
	tp_put_le64(b.data + 64, UINT64_MAX);
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), -TP_EFORMAT);
	tp_put_le64(b.data + 64, 4 * 65536);
	/* chunk sizes that are not powers of two */
	tp_put_le64(b.data + 72, 0);
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "power of two"));
	tp_put_le64(b.data + 72, 65535);
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), -TP_EFORMAT);
	tp_put_le64(b.data + 72, 65536);
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), 0);
	/* an empty image is a bare header */
	assert_int_equal(tp_fidx_encode(uuid, 1, 0, 65536, NULL, 0, &b, NULL), 0);
	assert_int_equal(b.len, 4096);
	assert_int_equal(tp_fidx_parse(&x, b.data, b.len, "f.fidx", &e), 0);
	assert_int_equal(x.count, 0);
	assert_int_equal(tp_fidx_verify_csum(&x, "f.fidx", &e), 0);
	/* encode refuses a count that does not fit the size */
	assert_int_equal(tp_fidx_encode(uuid, 1, 65537, 65536, dg, 1, &b, &e), -EINVAL);
	tp_buf_free(&b);
}

static char *make_tmpdir(void)
{
	char t[] = "/tmp/tapir-test-fidx-XXXXXX";
	assert_non_null(mkdtemp(t));
	return strdup(t);
}

static void test_writer(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char *path = tp_path_join(dir, "drive-scsi0.img.fidx");
	char *tmp = tp_path_join(dir, "drive-scsi0.img.tmp_fidx");
	size_t n = 3000; /* more than one 64 KiB write buffer */
	uint64_t size = (uint64_t)(n - 1) * 65536 + 17;
	uint8_t *dg = malloc(32 * n);
	for (size_t i = 0; i < n; i++)
		tp_sha256(&i, sizeof(i), dg + 32 * i);
	tp_fidx_writer w;
	tp_err e = { 0 };
	assert_int_equal(tp_fidx_writer_create(&w, path, size, 65536, 1700000000, &e), 0);
	assert_int_equal(tp_path_exists(tmp), 1);
	assert_int_equal(tp_path_exists(path), 0);
	assert_int_equal(w.uuid[6] >> 4, 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tp_fidx_writer_add(&w, dg + 32 * i, &e), 0);
	uint8_t uuid[16], csum[32];
	uint64_t got_size = 0;
	memcpy(uuid, w.uuid, 16);
	assert_int_equal(tp_fidx_writer_close(&w, csum, &got_size, &e), 0);
	assert_true(got_size == size);
	assert_int_equal(tp_path_exists(tmp), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4096 + 32 * n);
	/* byte-identical to the in-memory encoder */
	tp_buf want = TP_BUF_INIT, got = TP_BUF_INIT;
	assert_int_equal(tp_fidx_encode(uuid, 1700000000, size, 65536, dg, n, &want, NULL), 0);
	assert_memory_equal(want.data + 32, csum, 32);
	assert_int_equal(tp_read_file(path, &got, 1 << 20, NULL), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	tp_fidx x;
	assert_int_equal(tp_fidx_open(&x, path, &e), 0);
	assert_int_equal(x.count, n);
	assert_true(x.ctime == 1700000000);
	assert_memory_equal(tp_fidx_digest(&x, n - 1), dg + 32 * (n - 1), 32);
	assert_int_equal(tp_fidx_verify_csum(&x, path, &e), 0);
	uint64_t s, en;
	assert_int_equal(tp_fidx_chunk_range(&x, n - 1, &s, &en), 0);
	assert_true(en - s == 17);
	tp_fidx_close(&x);

	/* wrong digest count: close fails, nothing is left behind */
	char *p2 = tp_path_join(dir, "short.img.fidx");
	assert_int_equal(tp_fidx_writer_create(&w, p2, 3 * 65536, 65536, 1, &e), 0);
	assert_int_equal(tp_fidx_writer_add(&w, dg, &e), 0);
	assert_int_equal(tp_fidx_writer_close(&w, NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "1 digests written"));
	assert_int_equal(tp_path_exists(p2), 0);
	char *t2 = tp_path_join(dir, "short.img.tmp_fidx");
	assert_int_equal(tp_path_exists(t2), 0);
	/* set_size fixes an unknown length */
	assert_int_equal(tp_fidx_writer_create(&w, p2, 0, 65536, 1, &e), 0);
	assert_int_equal(tp_fidx_writer_add(&w, dg, &e), 0);
	tp_fidx_writer_set_size(&w, 100);
	assert_int_equal(tp_fidx_writer_close(&w, NULL, &got_size, &e), 0);
	assert_true(got_size == 100);
	assert_int_equal(tp_fidx_open(&x, p2, &e), 0);
	assert_true(x.size == 100 && x.count == 1);
	tp_fidx_close(&x);
	/* abort removes the temp file */
	assert_int_equal(tp_fidx_writer_create(&w, p2, 0, 65536, 1, &e), 0);
	assert_int_equal(tp_path_exists(t2), 1);
	tp_fidx_writer_abort(&w);
	assert_int_equal(tp_path_exists(t2), 0);
	/* open of a non-index and of a missing file */
	assert_int_equal(tp_write_atomic(p2, "short", 5, 0644, NULL), 0);
	assert_int_equal(tp_fidx_open(&x, p2, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, p2));
	unlink(p2);
	assert_int_equal(tp_fidx_open(&x, p2, &e), -ENOENT);
	/* a bad chunk size is refused at create */
	assert_int_equal(tp_fidx_writer_create(&w, p2, 0, 1000, 1, &e), -TP_EFORMAT);

	char *tp = tp_index_tmp_path("a/b.fidx", ".fidx", ".tmp_fidx");
	assert_string_equal(tp, "a/b.tmp_fidx");
	free(tp);
	tp = tp_index_tmp_path("a/b", ".fidx", ".tmp_fidx");
	assert_string_equal(tp, "a/b.tmp_fidx");
	free(tp);
	tp_rm_rf(dir, NULL);
	free(dg);
	free(dir);
	free(path);
	free(tmp);
	free(p2);
	free(t2);
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
