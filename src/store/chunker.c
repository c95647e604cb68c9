/* PBS buzhash and fixed chunkers (see chunker.h). */
#include "store/chunker.h"

#include <string.h>

const uint32_t tp_buzhash_table[256] = {
	0x458be752, 0xc10748cc, 0xfbbcdbb8, 0x6ded5b68, 0xb10a82b5, 0x20d75648,
	0xdfc5665f, 0xa8428801, 0x7ebf5191, 0x841135c7, 0x65cc53b3, 0x280a597c,
	0x16f60255, 0xc78cbc3e, 0x294415f5, 0xb938d494, 0xec85c4e6, 0xb7d33edc,
	0xe549b544, 0xfdeda5aa, 0x882bf287, 0x3116737c, 0x05569956, 0xe8cc1f68,
	0x0806ac5e, 0x22a14443, 0x15297e10, 0x50d090e7, 0x4ba60f6f, 0xefd9f1a7,
	0x5c5c885c, 0x82482f93, 0x9bfd7c64, 0x0b3e7276, 0xf2688e77, 0x8fad8abc,
	0xb0509568, 0xf1ada29f, 0xa53efdfe, 0xcb2b1d00, 0xf2a9e986, 0x6463432b,
	0x95094051, 0x5a223ad2, 0x9be8401b, 0x61e579cb, 0x1a556a14, 0x5840fdc2,
	0x9261ddf6, 0xcde002bb, 0x52432bb0, 0xbf17373e, 0x7b7c222f, 0x2955ed16,
	0x9f10ca59, 0xe840c4c9, 0xccabd806, 0x14543f34, 0x1462417a, 0x0d4a1f9c,
	0x087ed925, 0xd7f8f24c, 0x7338c425, 0xcf86c8f5, 0xb19165cd, 0x9891c393,
	0x325384ac, 0x0308459d, 0x86141d7e, 0xc922116a, 0xe2ffa6b6, 0x53f52aed,
	0x2cd86197, 0xf5b9f498, 0xbf319c8f, 0xe0411fae, 0x977eb18c, 0xd8770976,
	0x9833466a, 0xc674df7f, 0x8c297d45, 0x8ca48d26, 0xc49ed8e2, 0x7344f874,
	0x556f79c7, 0x6b25eaed, 0xa03e2b42, 0xf68f66a4, 0x8e8b09a2, 0xf2e0e62a,
	0x0d3a9806, 0x9729e493, 0x8c72b0fc, 0x160b94f6, 0x450e4d3d, 0x7a320e85,
	0xbef8f0e1, 0x21d73653, 0x4e3d977a, 0x1e7b3929, 0x1cc6c719, 0xbe478d53,
	0x8d752809, 0xe6d8c2c6, 0x275f0892, 0xc8acc273, 0x4cc21580, 0xecc4a617,
	0xf5f7be70, 0xe795248a, 0x375a2fe9, 0x425570b6, 0x8898dcf8, 0xdc2d97c4,
	0x0106114b, 0x364dc22f, 0x1e0cad1f, 0xbe63803c, 0x5f69fac2, 0x4d5afa6f,
	0x1bc0dfb5, 0xfb273589, 0x0ea47f7b, 0x3c1c2b50, 0x21b2a932, 0x6b1223fd,
	0x2fe706a8, 0xf9bd6ce2, 0xa268e64e, 0xe987f486, 0x3eacf563, 0x1ca2018c,
	0x65e18228, 0x2207360a, 0x57cf1715, 0x34c37d2b, 0x1f8f3cde, 0x93b657cf,
	0x31a019fd, 0xe69eb729, 0x8bca7b9b, 0x4c9d5bed, 0x277ebeaf, 0xe0d8f8ae,
	0xd150821c, 0x31381871, 0xafc3f1b0, 0x927db328, 0xe95effac, 0x305a47bd,
	0x426ba35b, 0x1233af3f, 0x686a5b83, 0x50e072e5, 0xd9d3bb2a, 0x8befc475,
	0x487f0de6, 0xc88dff89, 0xbd664d5e, 0x971b5d18, 0x63b14847, 0xd7d3c1ce,
	0x7f583cf3, 0x72cbcb09, 0xc0d0a81c, 0x7fa3429b, 0xe9158a1b, 0x225ea19a,
	0xd8ca9ea3, 0xc763b282, 0xbb0c6341, 0x020b8293, 0xd4cd299d, 0x58cfa7f8,
	0x91b4ee53, 0x37e4d140, 0x95ec764c, 0x30f76b06, 0x5ee68d24, 0x679c8661,
	0xa41979c2, 0xf2b61284, 0x4fac1475, 0x0adb49f9, 0x19727a23, 0x15a7e374,
	0xc43a18d5, 0x3fb1aa73, 0x342fc615, 0x924c0793, 0xbee2d7f0, 0x8a279de9,
	0x4aa2d70c, 0xe24dd37f, 0xbe862c0b, 0x177c22c2, 0x5388e5ee, 0xcd8a7510,
	0xf901b4fd, 0xdbc13dbc, 0x6c0bae5b, 0x64efe8c7, 0x48b02079, 0x80331a49,
	0xca3d8ae6, 0xf3546190, 0xfed7108b, 0xc49b941b, 0x32baf4a9, 0xeb833a4a,
	0x88a3f1a5, 0x3a91ce0a, 0x3cc27da1, 0x7112e684, 0x4a3096b1, 0x3794574c,
	0xa3c8b6f3, 0x1d213941, 0x6e0a2e00, 0x233479f1, 0x0f4cd82f, 0x6093edd2,
	0x5d7d209e, 0x464fe319, 0xd4dcac9e, 0x0db845cb, 0xfb5e4bc3, 0xe0256ce1,
	0x09fb4ed1, 0x0914be1e, 0xa5bdb2c3, 0xc6eb57bb, 0x30320350, 0x3f397e91,
	0xa67791bc, 0x86bc0e2c, 0xefa0a7e2, 0xe9ff7543, 0xe733612c, 0xd185897b,
	0x329e5388, 0x91dd236b, 0x2ecb0d93, 0xf4d82a3d, 0x35b5c03f, 0xe4e606f0,
	0x05b21843, 0x37b45964, 0x5eff22f4, 0x6027f4cc, 0x77178b3c, 0xae507131,
	0x7bf7cabc, 0xf9c18d66, 0x593ade65, 0xd95ddf11,
};

static int check_size(size_t s, const char *what, tp_err *err)
{
	if (s < TP_CHUNK_SIZE_MIN_ALLOWED || s > TP_CHUNK_SIZE_MAX_ALLOWED || (s & (s - 1)))
		return tp_err_set(err, -EINVAL,
				  "%s %zu is not a power of two between 64 KiB and 4 MiB", what, s);
	return 0;
}

int tp_chunker_init(tp_chunker *c, size_t avg, tp_err *err)
{
	int r = check_size(avg, "chunker average size", err);
	if (r < 0)
		return r;
	memset(c, 0, sizeof(*c));
	c->min = avg / 4;
	c->max = avg * 4;
	c->mask = (uint32_t)(2 * avg - 1);
	c->threshold = c->mask - 2;
	return 0;
}

void tp_chunker_reset(tp_chunker *c)
{
	c->h = 0;
	c->chunk_size = 0;
	c->window_size = 0;
}

static inline uint32_t rotl1(uint32_t x) { return x << 1 | x >> 31; }

size_t tp_chunker_scan(tp_chunker *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t pos = 0;
	uint32_t h = c->h;
	/* fill phase: no boundary test until the window is full */
	while (c->window_size < TP_CHUNKER_WINDOW && pos < len) {
		uint8_t b = p[pos++];
		c->window[c->window_size++] = b;
		h = rotl1(h) ^ tp_buzhash_table[b];
		c->chunk_size++;
	}
	size_t cs = c->chunk_size;
	const size_t min = c->min, max = c->max;
	const uint32_t mask = c->mask, thr = c->threshold;
	while (pos < len) {
		size_t idx = cs & (TP_CHUNKER_WINDOW - 1);
		uint8_t in = p[pos++], out = c->window[idx];
		/* T[out] would be rotated by 64 = identity on 32 bits */
		h = rotl1(h) ^ tp_buzhash_table[out] ^ tp_buzhash_table[in];
		c->window[idx] = in;
		cs++;
		if (cs >= max || (cs >= min && (h & mask) >= thr)) {
			tp_chunker_reset(c);
			return pos;
		}
	}
	c->h = h;
	c->chunk_size = cs;
	return 0;
}

int tp_fixed_chunker_init(tp_fixed_chunker *c, size_t chunk_size, tp_err *err)
{
	int r = check_size(chunk_size, "fixed chunk size", err);
	if (r < 0)
		return r;
	c->chunk_size = chunk_size;
	c->pos = 0;
	return 0;
}

size_t tp_fixed_chunker_scan(tp_fixed_chunker *c, size_t len)
{
	size_t need = c->chunk_size - c->pos;
	if (len >= need) {
		c->pos = 0;
		return need;
	}
	c->pos += len;
	return 0;
}

size_t tp_chunker_scan_chunk(tp_chunker *c, const uint8_t *chunk, size_t len)
{
	const size_t min = c->min, max = c->max;
	const uint32_t mask = c->mask, thr = c->threshold;
	size_t cs = c->chunk_size;
	uint32_t h = c->h;
	if (len <= cs)
		return 0;
	if (cs < min) {
		/* nothing is tested before min bytes, and the hash there is that of the last 64 */
		if (len < min) {
			c->chunk_size = len;
			return 0;
		}
		h = 0;
		for (size_t i = min - TP_CHUNKER_WINDOW; i < min; i++)
			h = rotl1(h) ^ tp_buzhash_table[chunk[i]];
		cs = min;
		if ((h & mask) >= thr)
			goto cut;
	}
	size_t end = len < max ? len : max;
	const uint32_t *T = tp_buzhash_table;
	const uint8_t *in = chunk, *out = chunk - TP_CHUNKER_WINDOW;
	size_t i = cs;
	/* (T[out] ^ T[in]) is off the dependency chain: one rotate and one xor per byte on it */
	for (; i + 4 <= end; i += 4) {
		uint32_t d0 = T[out[i]] ^ T[in[i]], d1 = T[out[i + 1]] ^ T[in[i + 1]];
		uint32_t d2 = T[out[i + 2]] ^ T[in[i + 2]], d3 = T[out[i + 3]] ^ T[in[i + 3]];
		uint32_t h0 = rotl1(h) ^ d0, h1 = rotl1(h0) ^ d1, h2 = rotl1(h1) ^ d2, h3 = rotl1(h2) ^ d3;
		if (((h0 & mask) >= thr) | ((h1 & mask) >= thr) | ((h2 & mask) >= thr) | ((h3 & mask) >= thr)) {
			if ((h0 & mask) >= thr) { cs = i + 1; goto cut; }
			if ((h1 & mask) >= thr) { cs = i + 2; goto cut; }
			if ((h2 & mask) >= thr) { cs = i + 3; goto cut; }
			cs = i + 4;
			goto cut;
		}
		h = h3;
	}
	for (; i < end; i++) {
		h = rotl1(h) ^ (T[out[i]] ^ T[in[i]]);
		if ((h & mask) >= thr) {
			cs = i + 1;
			goto cut;
		}
	}
	if (end == max) {
		cs = max;
		goto cut;
	}
	c->h = h;
	c->chunk_size = end;
	return 0;
cut:
	tp_chunker_reset(c);
	return cs;
}

int tp_chunk_stream_init(tp_chunk_stream *s, int fixed, size_t size, const tp_chunk_stream_ops *ops, void *ctx,
			 tp_err *err)
{
	memset(s, 0, sizeof(*s));
	s->fixed = fixed;
	s->ops = ops;
	s->ctx = ctx;
	int r = fixed ? check_size(size, "fixed chunk size", err) : tp_chunker_init(&s->cdc, size, err);
	if (r < 0)
		return r;
	s->cap = fixed ? size : s->cdc.max;
	return 0;
}

int tp_chunk_stream_space(tp_chunk_stream *s, uint8_t **space, size_t *avail, tp_err *err)
{
	if (!s->cur) {
		int r = s->ops->get(s->ctx, s->cap, &s->cur, err);
		if (r < 0)
			return r;
		s->len = 0;
	}
	*avail = s->cap - s->len; /* commit always cuts a full buffer, so this is > 0 */
	*space = s->cur + s->len;
	return 0;
}

int tp_chunk_stream_commit(tp_chunk_stream *s, size_t n, tp_err *err)
{
	if (n > s->cap - s->len)
		return tp_err_set(err, -EINVAL, "chunk stream: commit of %zu bytes with %zu free", n, s->cap - s->len);
	s->len += n;
	for (;;) {
		size_t k;
		if (s->fixed)
			k = s->len == s->cap ? s->cap : 0;
		else
			k = tp_chunker_scan_chunk(&s->cdc, s->cur, s->len);
		if (k == 0)
			return 0;
		/* the bytes after the cut start the next chunk */
		uint8_t *next;
		int r = s->ops->get(s->ctx, s->cap, &next, err);
		if (r < 0)
			return r;
		size_t tail = s->len - k;
		if (tail)
			memcpy(next, s->cur + k, tail);
		uint8_t *done = s->cur;
		s->cur = next;
		s->len = tail;
		if ((r = s->ops->chunk(s->ctx, done, k, err)) < 0)
			return r;
		s->offset += k;
		s->chunks++;
	}
}

int tp_chunk_stream_push(tp_chunk_stream *s, const void *data, size_t len, tp_err *err)
{
	const uint8_t *p = data;
	while (len) {
		size_t avail;
		uint8_t *dst;
		int r = tp_chunk_stream_space(s, &dst, &avail, err);
		if (r < 0)
			return r;
		size_t n = len < avail ? len : avail;
		if (dst != p)
			memcpy(dst, p, n);
		r = tp_chunk_stream_commit(s, n, err);
		if (r < 0)
			return r;
		p += n;
		len -= n;
	}
	return 0;
}

int tp_chunk_stream_finish(tp_chunk_stream *s, tp_err *err)
{
	int r = 0;
	if (s->len) {
		uint8_t *done = s->cur;
		size_t k = s->len;
		s->cur = NULL;
		s->len = 0;
		r = s->ops->chunk(s->ctx, done, k, err);
		if (r == 0) {
			s->offset += k;
			s->chunks++;
		}
	}
	if (!s->fixed)
		tp_chunker_reset(&s->cdc);
	return r;
}

void tp_chunk_stream_free(tp_chunk_stream *s)
{
	if (s->cur)
		s->ops->put(s->ctx, s->cur);
	s->cur = NULL;
	s->len = 0;
}
