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
#include "format/magic.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_dedup),
		cmocka_unit_test(test_error_propagates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
