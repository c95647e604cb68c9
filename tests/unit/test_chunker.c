/* Unit test: buzhash table, PBS chunker vectors VEC1-VEC5, split independence, fixed chunker, stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "store/chunker.h"

#define MAXCH 256

typedef struct lens {
	size_t n;
	size_t v[MAXCH];
} lens;

static uint8_t *gen_counter(size_t n)
{
	uint8_t *p = malloc(n);
	for (size_t i = 0; i < n / 4; i++)
		tp_put_le32(p + 4 * i, (uint32_t)i);
	return p;
}

static uint8_t *gen_lcg(size_t n)
{
	uint8_t *p = malloc(n);
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(x >> 56);
	}
	return p;
}

/* Chunks data with scan() fed in pieces of `piece` bytes (0 = all at once). */
static void chunk_all(const uint8_t *data, size_t n, size_t avg, size_t piece, lens *out)
{
	tp_chunker c;
	assert_int_equal(tp_chunker_init(&c, avg, NULL), 0);
	out->n = 0;
	size_t start = 0, pos = 0;
	while (pos < n) {
		size_t len = piece && n - pos > piece ? piece : n - pos;
		size_t k = tp_chunker_scan(&c, data + pos, len);
		if (k) {
			assert_true(out->n < MAXCH);
			out->v[out->n++] = pos + k - start;
			pos += k;
			start = pos;
		} else {
			pos += len;
		}
	}
	if (start < n)
		out->v[out->n++] = n - start;
}

/* Reads "VECn ...: [a, b, ...]" from the fixture file copied from the fact sheet. */
static void fixture_lens(const char *vec, lens *out)
{
	const char *dir = getenv("TAPIR_FIXTURES");
	char path[1024];
	snprintf(path, sizeof(path), "%s/chunker/chunker-and-hash-vectors.txt", dir ? dir : TAPIR_FIXTURES);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[8192];
	out->n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, vec, strlen(vec)) || line[strlen(vec)] != ' ')
			continue;
		char *p = strchr(line, '[');
		assert_non_null(p);
		p++;
		while (*p && *p != ']') {
			char *end;
			unsigned long long v = strtoull(p, &end, 10);
			assert_true(end != p);
			out->v[out->n++] = (size_t)v;
			p = end;
			while (*p == ',' || *p == ' ')
				p++;
		}
	}
	fclose(f);
	assert_true(out->n > 0);
}

static void assert_lens_equal(const lens *a, const lens *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_int_equal(a->v[i], b->v[i]);
}

static void test_table_selfcheck(void **state)
{
	(void)state;
	uint32_t x = 0, sum = 0;
	uint8_t le[1024], dg[32];
	char hex[65];
	for (int i = 0; i < 256; i++) {
		x ^= tp_buzhash_table[i];
		sum += tp_buzhash_table[i];
		tp_put_le32(le + 4 * i, tp_buzhash_table[i]);
	}
	assert_int_equal(x, 0);
	assert_int_equal(sum, 0xffffff80u);
	tp_sha256(le, sizeof(le), dg);
	tp_hex_encode(dg, 32, hex);
	assert_string_equal(hex, "5b52080d38287da9d2e278466e3e0db7ec98e5e8b226f50612a56fa012b1f660");
	assert_int_equal(tp_buzhash_table[0], 0x458be752u);
	assert_int_equal(tp_buzhash_table[255], 0xd95ddf11u);
}

static void test_params(void **state)
{
	(void)state;
	tp_chunker c;
	tp_err e = { 0 };
	assert_int_equal(tp_chunker_init(&c, 4u << 20, NULL), 0);
	assert_int_equal(c.min, 1u << 20);
	assert_int_equal(c.max, 16u << 20);
	assert_int_equal(c.mask, 0x7fffff);
	assert_int_equal(c.threshold, 0x7ffffd);
	assert_int_equal(tp_chunker_init(&c, 65536, NULL), 0);
	assert_int_equal(c.mask, 0x1ffff);
	assert_int_equal(c.threshold, 0x1fffd);
	assert_int_equal(tp_chunker_init(&c, 100000, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "100000"));
	assert_int_equal(tp_chunker_init(&c, 32768, &e), -EINVAL);
	assert_int_equal(tp_chunker_init(&c, 8u << 20, &e), -EINVAL);
	tp_fixed_chunker f;
	assert_int_equal(tp_fixed_chunker_init(&f, 3u << 20, &e), -EINVAL);
	assert_int_equal(tp_fixed_chunker_init(&f, 0, &e), -EINVAL);
}

static void test_vec1_lengths_and_digests(void **state)
{
	(void)state;
	static const char *const want_dg[5] = {
		"891dda90913ff7628129fca42890e95bc5f83139c2ac53e5efdb7548b8985169",
		"dd6840938b244a8d859db2c01009963226c19ac054d427958908857f07b7e072",
		"4cb96dd2dca66dbce1f49383ca1d2c276b6d0dc1aa9c541828f354694c4d4f3c",
		"7b85905339559e704376a0dcbfd4405c0e48060496b1f5dea8a8544aef1f5217",
		"d704ea8aeaa787ff83a2712716e33a0517f499cb66ba575201810dd13f8464b9",
	};
	static const size_t want_len[5] = { 143377, 262144, 262144, 262144, 118767 };
	size_t n = 1 << 20;
	uint8_t *d = gen_counter(n);
	lens got, fx;
	chunk_all(d, n, 65536, 0, &got);
	assert_int_equal(got.n, 5);
	fixture_lens("VEC1", &fx);
	assert_lens_equal(&got, &fx);
	size_t off = 0;
	for (int i = 0; i < 5; i++) {
		assert_int_equal(got.v[i], want_len[i]);
		uint8_t dg[32];
		char hex[65];
		tp_sha256(d + off, got.v[i], dg);
		tp_hex_encode(dg, 32, hex);
		assert_string_equal(hex, want_dg[i]);
		off += got.v[i];
	}
	/* fed one byte at a time: identical */
	chunk_all(d, n, 65536, 1, &got);
	assert_lens_equal(&got, &fx);
	free(d);
}

static void test_vec2_and_split_independence(void **state)
{
	(void)state;
	size_t n = 4u << 20;
	uint8_t *d = gen_lcg(n);
	lens got, fx;
	fixture_lens("VEC2", &fx);
	assert_int_equal(fx.n, 62);
	assert_int_equal(fx.v[0], 46887);
	assert_int_equal(fx.v[61], 27477);
	static const size_t pieces[] = { 0, 1, 63, 64, 65, 777, 4099, 1 << 20 };
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		chunk_all(d, n, 65536, pieces[i], &got);
		assert_lens_equal(&got, &fx);
	}
	free(d);
}

static void test_vec3_default_avg(void **state)
{
	(void)state;
	static const size_t want[12] = { 10128996, 1102367, 5522542, 2487976, 2242622, 1701699,
					 1595074, 1879028, 4305039, 1802245, 11162790, 6401270 };
	size_t n = 48u << 20;
	uint8_t *d = gen_lcg(n);
	lens got, fx;
	chunk_all(d, n, TP_CHUNK_SIZE_DEFAULT, 1 << 20, &got);
	fixture_lens("VEC3", &fx);
	assert_lens_equal(&got, &fx);
	assert_int_equal(got.n, 12);
	for (int i = 0; i < 12; i++)
		assert_int_equal(got.v[i], want[i]);
	free(d);
}

static void test_vec4_vec5_zeros(void **state)
{
	(void)state;
	size_t n = 3u << 20;
	uint8_t *d = calloc(1, n);
	lens got, fx;
	chunk_all(d, n, 65536, 0, &got);
	fixture_lens("VEC4", &fx);
	assert_lens_equal(&got, &fx);
	assert_int_equal(got.n, 12);
	for (size_t i = 0; i < got.n; i++)
		assert_int_equal(got.v[i], 262144);
	chunk_all(d, 100, 65536, 0, &got);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.v[0], 100);
	/* scan of fewer bytes than a window never cuts */
	tp_chunker c;
	assert_int_equal(tp_chunker_init(&c, 65536, NULL), 0);
	assert_int_equal(tp_chunker_scan(&c, d, 100), 0);
	assert_int_equal(c.chunk_size, 100);
	free(d);
}

typedef struct collect {
	lens l;
	tp_buf all;
	int fail_at;
	int bufs_out;   /* buffers handed out and not yet returned */
} collect;

static int collect_get(void *ctx, size_t cap, uint8_t **buf, tp_err *err)
{
	collect *c = ctx;
	if (!(*buf = malloc(cap)))
		return tp_err_set(err, -ENOMEM, "no memory");
	c->bufs_out++;
	return 0;
}

static int collect_chunk(void *ctx, uint8_t *chunk, size_t len, tp_err *err)
{
	collect *c = ctx;
	int r;
	if (c->fail_at >= 0 && (int)c->l.n == c->fail_at)
		r = tp_err_set(err, -EIO, "sink full at chunk %zu", c->l.n);
	else {
		c->l.v[c->l.n++] = len;
		r = tp_buf_append(&c->all, chunk, len);
	}
	free(chunk);
	c->bufs_out--;
	return r;
}

static void collect_put(void *ctx, uint8_t *buf)
{
	collect *c = ctx;
	free(buf);
	c->bufs_out--;
}

static const tp_chunk_stream_ops collect_ops = { collect_get, collect_chunk, collect_put };

/* Chunks data with scan_chunk() over a growing contiguous chunk, grown by `piece` bytes. */
static void chunk_all_contig(const uint8_t *data, size_t n, size_t avg, size_t piece, lens *out)
{
	tp_chunker c;
	assert_int_equal(tp_chunker_init(&c, avg, NULL), 0);
	out->n = 0;
	size_t start = 0, have = 0;
	while (start < n) {
		size_t k = tp_chunker_scan_chunk(&c, data + start, have);
		if (k) {
			assert_true(out->n < MAXCH);
			assert_true(k <= have);
			out->v[out->n++] = k;
			start += k;
			have -= k;
			continue;
		}
		if (start + have == n)
			break;
		have += piece && n - start - have > piece ? piece : n - start - have;
	}
	if (have)
		out->v[out->n++] = have;
}

static void test_scan_chunk_matches(void **state)
{
	(void)state;
	size_t n = 4u << 20;
	uint8_t *d = gen_lcg(n);
	lens got, fx;
	fixture_lens("VEC2", &fx);
	static const size_t pieces[] = { 0, 1, 63, 64, 65, 777, 4099, 16384, 16385, 1 << 20 };
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		chunk_all_contig(d, n, 65536, pieces[i], &got);
		assert_lens_equal(&got, &fx);
	}
	free(d);
	n = 48u << 20;
	d = gen_lcg(n);
	fixture_lens("VEC3", &fx);
	chunk_all_contig(d, n, TP_CHUNK_SIZE_DEFAULT, 1 << 20, &got);
	assert_lens_equal(&got, &fx);
	free(d);
	n = 1u << 20;
	d = gen_counter(n);
	fixture_lens("VEC1", &fx);
	chunk_all_contig(d, n, 65536, 3000, &got);
	assert_lens_equal(&got, &fx);
	free(d);
	n = 3u << 20;
	d = calloc(1, n);
	fixture_lens("VEC4", &fx); /* zeros: every cut at max */
	chunk_all_contig(d, n, 65536, 100000, &got);
	assert_lens_equal(&got, &fx);
	free(d);
}

static void test_chunk_stream(void **state)
{
	(void)state;
	size_t n = 4u << 20;
	uint8_t *d = gen_lcg(n);
	lens fx;
	fixture_lens("VEC2", &fx);
	static const size_t pieces[] = { 1000, 65536, 300000, 4u << 20 };
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		collect c = { .fail_at = -1 };
		tp_chunk_stream s;
		assert_int_equal(tp_chunk_stream_init(&s, 0, 65536, &collect_ops, &c, NULL), 0);
		for (size_t off = 0; off < n; off += pieces[i])
			assert_int_equal(tp_chunk_stream_push(&s, d + off, n - off < pieces[i] ? n - off : pieces[i], NULL), 0);
		assert_int_equal(tp_chunk_stream_finish(&s, NULL), 0);
		assert_lens_equal(&c.l, &fx);
		assert_int_equal(s.offset, n);
		assert_int_equal(s.chunks, 62);
		assert_int_equal(c.all.len, n);
		assert_memory_equal(c.all.data, d, n);
		tp_chunk_stream_free(&s);
		assert_int_equal(c.bufs_out, 0);
		tp_buf_free(&c.all);
	}
	/* written in place through space/commit: same chunks */
	{
		collect c = { .fail_at = -1 };
		tp_chunk_stream s;
		assert_int_equal(tp_chunk_stream_init(&s, 0, 65536, &collect_ops, &c, NULL), 0);
		assert_int_equal(s.cap, 262144);
		size_t off = 0;
		while (off < n) {
			uint8_t *sp;
			size_t avail;
			assert_int_equal(tp_chunk_stream_space(&s, &sp, &avail, NULL), 0);
			assert_true(avail > 0 && avail <= s.cap);
			size_t k = avail < 5000 ? avail : 5000;
			if (k > n - off)
				k = n - off;
			memcpy(sp, d + off, k);
			assert_int_equal(tp_chunk_stream_push(&s, sp, k, NULL), 0); /* in place: no copy */
			off += k;
		}
		assert_int_equal(tp_chunk_stream_finish(&s, NULL), 0);
		assert_lens_equal(&c.l, &fx);
		assert_memory_equal(c.all.data, d, n);
		tp_err e = { 0 };
		uint8_t *sp;
		size_t avail;
		assert_int_equal(tp_chunk_stream_space(&s, &sp, &avail, NULL), 0);
		assert_int_equal(tp_chunk_stream_commit(&s, avail + 1, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "commit"));
		tp_chunk_stream_free(&s);
		assert_int_equal(c.bufs_out, 0);
		tp_buf_free(&c.all);
	}
	/* empty stream: no chunk */
	collect c = { .fail_at = -1 };
	tp_chunk_stream s;
	assert_int_equal(tp_chunk_stream_init(&s, 0, 65536, &collect_ops, &c, NULL), 0);
	assert_int_equal(tp_chunk_stream_finish(&s, NULL), 0);
	assert_int_equal(c.l.n, 0);
	tp_chunk_stream_free(&s);
	/* a sink error stops the stream and is returned */
	collect f = { .fail_at = 3 };
	tp_err e = { 0 };
	assert_int_equal(tp_chunk_stream_init(&s, 0, 65536, &collect_ops, &f, NULL), 0);
	assert_int_equal(tp_chunk_stream_push(&s, d, n, &e), -EIO);
	assert_non_null(strstr(e.msg, "sink full at chunk 3"));
	assert_int_equal(f.l.n, 3);
	tp_chunk_stream_free(&s);
	assert_int_equal(f.bufs_out, 0);
	tp_buf_free(&f.all);
	free(d);
}

static void test_fixed(void **state)
{
	(void)state;
	size_t n = (1u << 20) + 5;
	uint8_t *d = gen_lcg(n);
	collect c = { .fail_at = -1 };
	tp_chunk_stream s;
	assert_int_equal(tp_chunk_stream_init(&s, 1, 65536, &collect_ops, &c, NULL), 0);
	for (size_t off = 0; off < n; off += 10000)
		assert_int_equal(tp_chunk_stream_push(&s, d + off, n - off < 10000 ? n - off : 10000, NULL), 0);
	assert_int_equal(tp_chunk_stream_finish(&s, NULL), 0);
	assert_int_equal(c.l.n, 17);
	for (int i = 0; i < 16; i++)
		assert_int_equal(c.l.v[i], 65536);
	assert_int_equal(c.l.v[16], 5);
	assert_memory_equal(c.all.data, d, n);
	tp_chunk_stream_free(&s);
	assert_int_equal(c.bufs_out, 0);
	tp_buf_free(&c.all);
	tp_fixed_chunker f;
	assert_int_equal(tp_fixed_chunker_init(&f, 65536, NULL), 0);
	assert_int_equal(tp_fixed_chunker_scan(&f, 65535), 0);
	assert_int_equal(tp_fixed_chunker_scan(&f, 10), 1);
	assert_int_equal(tp_fixed_chunker_scan(&f, 65536), 65536);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_selfcheck),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_vec1_lengths_and_digests),
		cmocka_unit_test(test_vec2_and_split_independence),
		cmocka_unit_test(test_vec3_default_avg),
		cmocka_unit_test(test_vec4_vec5_zeros),
		cmocka_unit_test(test_scan_chunk_matches),
		cmocka_unit_test(test_chunk_stream),
		cmocka_unit_test(test_fixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
