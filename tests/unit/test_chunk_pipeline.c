/* Unit test: the parallel chunk pipeline keeps order, dedups and propagates errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "crypto/hash.h"
#include "format/blob.h"
#include "format/magic.h"
#include <zstd.h>
#include "store/chunk_pipeline.h"

static char dir[64];

static int enc_plain(void *ctx, const uint8_t *data, size_t len, uint8_t digest[32], tp_buf *blob, tp_err *err)
{
	(void)ctx;
	if (len == 13)
		return tp_err_set(err, -EIO, "refusing chunk of 13 bytes");
	tp_sha256(data, len, digest);
	tp_buf_append(blob, tp_magic(TP_MAGIC_BLOB_PLAIN), 8);
	tp_buf_append_le32(blob, tp_crc32(0, data, len));
	return tp_buf_append(blob, data, len);
}

struct res { int n; uint64_t lens[100]; uint8_t first[100]; int dups; };

static int on_result(void *ctx, const uint8_t digest[32], uint64_t raw, uint64_t blob, int dup, tp_err *err)
{
	(void)digest; (void)err;
	struct res *r = ctx;
	assert_int_equal(blob, raw + 12);
	r->lens[r->n++] = raw;
	r->dups += dup;
	return 0;
}

static void test_order_and_dedup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tapir-ut-pipe.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tp_chunk_store_create(dir, NULL), 0);
	tp_chunk_store cs;
	assert_int_equal(tp_chunk_store_open(&cs, dir, NULL), 0);
	tp_chunk_pipeline p;
	struct res res = { 0 };
	assert_int_equal(tp_chunk_pipeline_start(&p, &cs, 3, 8192, 4096, enc_plain, NULL, on_result, &res, NULL), 0);
	uint8_t buf[5000];
	for (int i = 0; i < 60; i++) {
		size_t len = 100 + (size_t)(i % 30) * 100; /* sizes repeat every 30 → dups */
		memset(buf, i % 30, len);
		assert_int_equal(tp_chunk_pipeline_submit(&p, buf, len, NULL), 0);
	}
	assert_int_equal(tp_chunk_pipeline_flush(&p, NULL), 0);
	tp_chunk_pipeline_stop(&p);
	assert_int_equal(res.n, 60);
	for (int i = 0; i < 60; i++)
		assert_int_equal(res.lens[i], 100 + (uint64_t)(i % 30) * 100);
	assert_true(res.dups >= 30 - 3 * 2); /* racing identical chunks may both be new */
	assert_int_equal(p.chunks, 60);
	tp_chunk_store_close(&cs);
}

static void test_error_propagates(void **state)
{
	(void)state;
	tp_chunk_store cs;
	assert_int_equal(tp_chunk_store_open(&cs, dir, NULL), 0);
	tp_chunk_pipeline p;
	struct res res = { 0 };
	tp_err e = { 0 };
	assert_int_equal(tp_chunk_pipeline_start(&p, &cs, 2, 8192, 4096, enc_plain, NULL, on_result, &res, NULL), 0);
	uint8_t buf[100] = { 0 };
	int r = 0;
	for (int i = 0; i < 10 && r == 0; i++)
		r = tp_chunk_pipeline_submit(&p, buf, i == 4 ? 13 : 20 + (size_t)i, &e);
	if (r == 0)
		r = tp_chunk_pipeline_flush(&p, &e);
	assert_int_equal(r, -EIO);
	assert_non_null(strstr(e.msg, "13 bytes"));
	tp_chunk_pipeline_stop(&p);
	tp_chunk_store_close(&cs);
	tp_rm_rf(dir, NULL);
}

/* The backup workers' encoder (reused zstd context, compressed in place) gives tp_blob_encode's bytes. */
static void test_blob_encode_cctx_same_bytes(void **state)
{
	(void)state;
	ZSTD_CCtx *z = ZSTD_createCCtx();
	assert_non_null(z);
	size_t n = 300000;
	uint8_t *d = malloc(n);
	uint64_t x = 1;
	tp_buf a = TP_BUF_INIT, b = TP_BUF_INIT;
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < n; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			/* 0: text-like, 1: random, 2: zeros, 3: random with one compressible half */
			d[i] = round == 0 ? (uint8_t)('a' + (x >> 60)) : round == 2 ? 0 : round == 3 && i < n / 2 ? (uint8_t)(i / 1000) : (uint8_t)(x >> 56);
		}
		for (size_t len = 1; len <= n; len = len * 7 + 3) {
			assert_int_equal(tp_blob_encode(d, len, NULL, 1, &a, NULL), 0);
			assert_int_equal(tp_blob_encode_cctx(z, d, len, NULL, 1, &b, NULL), 0);
			assert_int_equal(a.len, b.len);
			assert_memory_equal(a.data, b.data, a.len);
			assert_int_equal(tp_blob_check(b.data, b.len, "t", NULL), tp_blob_kind_of(a.data, a.len, "t", NULL));
		}
		assert_int_equal(tp_blob_encode(d, n, NULL, 1, &a, NULL), 0);
		assert_int_equal(tp_blob_encode_cctx(z, d, n, NULL, 1, &b, NULL), 0);
		assert_int_equal(tp_blob_kind_of(b.data, b.len, "t", NULL), round == 1 ? TP_BLOB_PLAIN : TP_BLOB_ZSTD);
		assert_memory_equal(a.data, b.data, a.len);
	}
	tp_buf_free(&a);
	tp_buf_free(&b);
	free(d);
	ZSTD_freeCCtx(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_dedup),
		cmocka_unit_test(test_error_propagates),
		cmocka_unit_test(test_blob_encode_cctx_same_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
