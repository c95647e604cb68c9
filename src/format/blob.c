/* PBS DataBlob encoder/decoder (see blob.h). */
#include "format/blob.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "base/fsutil.h"
#include "base/hex.h"
#include "crypto/hash.h"
#include "format/magic.h"

static const enum tp_magic_id kind_magic[4] = {
	TP_MAGIC_BLOB_PLAIN, TP_MAGIC_BLOB_ZSTD, TP_MAGIC_BLOB_ENCR, TP_MAGIC_BLOB_ZSTD_ENCR,
};

const char *tp_blob_kind_name(int kind)
{
	switch (kind) {
	case TP_BLOB_PLAIN: return "plain";
	case TP_BLOB_ZSTD: return "zstd";
	case TP_BLOB_ENCR: return "encrypted";
	case TP_BLOB_ZSTD_ENCR: return "zstd+encrypted";
	default: return "unknown";
	}
}

int tp_blob_kind_of(const void *blob, size_t len, const char *what, tp_err *err)
{
	if (len < 8)
		return tp_err_set(err, -TP_EFORMAT, "blob %s: truncated (%zu bytes, no room for the magic)",
				  what, len);
	for (int k = 0; k < 4; k++)
		if (!memcmp(blob, tp_magic(kind_magic[k]), 8))
			return k;
	char hex[17];
	tp_hex_encode(blob, 8, hex);
	return tp_err_set(err, -TP_EFORMAT, "blob %s: wrong magic %s (not a data blob)", what, hex);
}

uint32_t tp_blob_stored_crc(const void *blob)
{
	return tp_le32((const uint8_t *)blob + 8);
}

uint32_t tp_blob_compute_crc(const void *blob, size_t len, int kind)
{
	size_t h = tp_blob_header_len(kind);
	if (len < h)
		return 0;
	return tp_crc32(0, (const uint8_t *)blob + h, len - h);
}

int tp_blob_check(const void *blob, size_t len, const char *what, tp_err *err)
{
	int kind = tp_blob_kind_of(blob, len, what, err);
	if (kind < 0)
		return kind;
	size_t h = tp_blob_header_len(kind);
	if (len < h)
		return tp_err_set(err, -TP_EFORMAT, "blob %s: truncated (%zu bytes, %s header needs %zu)",
				  what, len, tp_blob_kind_name(kind), h);
	uint32_t stored = tp_blob_stored_crc(blob), computed = tp_blob_compute_crc(blob, len, kind);
	if (stored != computed)
		return tp_err_set(err, -TP_ECRC, "blob %s: CRC mismatch (stored %08x, computed %08x)", what,
				  stored, computed);
	return kind;
}

int tp_blob_load(const char *path, size_t max, tp_buf *out, tp_err *err)
{
	size_t start = out->len;
	int r = tp_read_file(path, out, max, err);
	if (r < 0)
		return r;
	return tp_blob_check(out->data + start, out->len - start, path, err);
}

int tp_blob_digest(const tp_crypt_config *cc, const void *data, size_t len, uint8_t out[32],
		   tp_err *err)
{
	if (!cc) {
		tp_sha256(data, len, out);
		return 0;
	}
	if (tp_crypt_digest(cc, data, len, out) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory computing a chunk digest");
	return 0;
}

int tp_blob_encode(const void *data, size_t len, const tp_crypt_config *cc, int compress,
		   tp_buf *out, tp_err *err)
{
	int r = 0;
	uint8_t *zbuf = NULL;
	const uint8_t *payload = data;
	size_t plen = len;
	int kind = cc ? TP_BLOB_ENCR : TP_BLOB_PLAIN;

	tp_buf_reset(out);
	if (len > TP_BLOB_MAX_SIZE)
		return tp_err_set(err, -EFBIG, "blob encode: data too large (%zu bytes, limit %u)", len,
				  TP_BLOB_MAX_SIZE);
	if (compress && len > 0) {
		size_t bound = ZSTD_compressBound(len);
		zbuf = malloc(bound);
		if (!zbuf) {
			r = tp_err_set(err, -ENOMEM, "out of memory compressing a blob");
			goto out;
		}
		size_t z = ZSTD_compress(zbuf, bound, data, len, 1);
		if (ZSTD_isError(z)) {
			r = tp_err_set(err, -EIO, "blob encode: zstd: %s", ZSTD_getErrorName(z));
			goto out;
		}
		if (z < len) { /* PBS 3.x keeps the compressed form only when strictly smaller */
			payload = zbuf;
			plen = z;
			kind = cc ? TP_BLOB_ZSTD_ENCR : TP_BLOB_ZSTD;
		}
	}
	size_t h = tp_blob_header_len(kind);
	if ((r = tp_buf_reserve(out, h + plen)) < 0) {
		tp_err_set(err, r, "out of memory encoding a blob");
		goto out;
	}
	memcpy(out->data, tp_magic(kind_magic[kind]), 8);
	if (cc) {
		r = tp_crypt_encrypt(cc, payload, plen, out->data + h, out->data + 12, out->data + 28, err);
		if (r < 0)
			goto out;
	} else if (plen) {
		memcpy(out->data + h, payload, plen);
	}
	out->len = h + plen;
	tp_put_le32(out->data + 8, tp_crc32(0, out->data + h, plen));
out:
	free(zbuf);
	if (r < 0)
		tp_buf_reset(out);
	return r;
}

int tp_blob_encode_cctx(void *zstd_cctx, const void *data, size_t len, const tp_crypt_config *cc,
			int compress, tp_buf *out, tp_err *err)
{
	if (cc || !compress || !zstd_cctx || len == 0)
		return tp_blob_encode(data, len, cc, compress, out, err);
	tp_buf_reset(out);
	if (len > TP_BLOB_MAX_SIZE)
		return tp_err_set(err, -EFBIG, "blob encode: data too large (%zu bytes, limit %u)", len,
				  TP_BLOB_MAX_SIZE);
	size_t h = tp_blob_header_len(TP_BLOB_ZSTD), bound = ZSTD_compressBound(len);
	int r = tp_buf_reserve(out, h + bound);
	if (r < 0)
		return tp_err_set(err, r, "out of memory encoding a blob");
	/* PBS 3.x keeps the compressed form only when strictly smaller: bound the output at len - 1 */
	size_t z = ZSTD_compressCCtx(zstd_cctx, out->data + h, len - 1, data, len, 1);
	int kind = TP_BLOB_ZSTD;
	if (ZSTD_isError(z)) {
		if (ZSTD_getErrorCode(z) != ZSTD_error_dstSize_tooSmall)
			return tp_err_set(err, -EIO, "blob encode: zstd: %s", ZSTD_getErrorName(z));
		kind = TP_BLOB_PLAIN;
		z = len;
		memcpy(out->data + tp_blob_header_len(kind), data, len);
	}
	h = tp_blob_header_len(kind);
	memcpy(out->data, tp_magic(kind_magic[kind]), 8);
	out->len = h + z;
	tp_put_le32(out->data + 8, tp_crc32(0, out->data + h, z));
	return 0;
}

int tp_blob_encode_chunk(const void *data, size_t len, const tp_crypt_config *cc, int compress,
			 tp_buf *out, uint8_t digest[32], tp_err *err)
{
	int r = tp_blob_digest(cc, data, len, digest, err);
	if (r < 0)
		return r;
	return tp_blob_encode(data, len, cc, compress, out, err);
}

/* Digest mismatch message for want vs got. */
static int digest_mismatch(const uint8_t *want, const uint8_t *got, const char *what, tp_err *err)
{
	char want_hex[65], got_hex[65];
	tp_hex_encode(want, 32, want_hex);
	tp_hex_encode(got, 32, got_hex);
	return tp_err_set(err, -TP_EDIGEST, "blob %s: digest mismatch (expected %s, computed %s)", what, want_hex,
			  got_hex);
}

/* Streams every zstd frame of in into out, failing once more than max bytes come out. */
static int zstd_decode(const uint8_t *in, size_t len, size_t max, const char *what, tp_buf *out,
		       tp_err *err)
{
	int r = 0;
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return tp_err_set(err, -ENOMEM, "out of memory for the zstd decoder");
	unsigned long long csize = ZSTD_getFrameContentSize(in, len);
	if (csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != ZSTD_CONTENTSIZE_ERROR && csize > max) {
		r = tp_err_set(err, -TP_EFORMAT, "blob %s: decompressed size %llu exceeds the limit %zu",
			       what, csize, max);
		goto out;
	}
	size_t first = csize != ZSTD_CONTENTSIZE_UNKNOWN && csize != ZSTD_CONTENTSIZE_ERROR
			       ? (size_t)csize + 1 : (len < max / 4 ? len * 4 : max) + 1;
	if (first < 4096)
		first = 4096;
	if ((r = tp_buf_reserve(out, first)) < 0) {
		tp_err_set(err, r, "blob %s: out of memory decompressing", what);
		goto out;
	}
	ZSTD_inBuffer ib = { in, len, 0 };
	for (;;) {
		size_t avail = out->cap - out->len - 1; /* tp_buf keeps one byte for a NUL */
		if (avail == 0) {
			size_t grow = out->len < 65536 ? 65536 : out->len;
			if (grow > max + 1 - out->len)
				grow = max + 1 - out->len;
			if ((r = tp_buf_reserve(out, grow)) < 0) {
				tp_err_set(err, r, "blob %s: out of memory decompressing", what);
				goto out;
			}
			avail = out->cap - out->len - 1;
		}
		if (avail > max + 1 - out->len)
			avail = max + 1 - out->len;
		ZSTD_outBuffer ob = { out->data + out->len, avail, 0 };
		size_t ret = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(ret)) {
			r = tp_err_set(err, -TP_EFORMAT, "blob %s: zstd: %s (input offset %zu)", what,
				       ZSTD_getErrorName(ret), ib.pos);
			goto out;
		}
		out->len += ob.pos;
		if (out->len > max) {
			r = tp_err_set(err, -TP_EFORMAT, "blob %s: decompressed data exceeds the limit %zu",
				       what, max);
			goto out;
		}
		if (ib.pos == ib.size && ret == 0)
			break;
		if (ib.pos == ib.size && ob.pos < ob.size) {
			r = tp_err_set(err, -TP_EFORMAT, "blob %s: truncated zstd frame (%zu bytes)", what, len);
			goto out;
		}
	}
out:
	ZSTD_freeDCtx(d);
	return r;
}

int tp_blob_decode(const void *blob, size_t len, const tp_crypt_config *cc, size_t max_out,
		   const uint8_t *expect_digest, const char *what, tp_buf *out, tp_err *err)
{
	int r;
	uint8_t *plain = NULL;
	tp_buf_reset(out);
	if (max_out > TP_BLOB_MAX_SIZE) /* also keeps max_out + 1 below from overflowing */
		max_out = TP_BLOB_MAX_SIZE;
	int kind = tp_blob_check(blob, len, what, err);
	if (kind < 0)
		return kind;
	const uint8_t *b = blob;
	size_t h = tp_blob_header_len(kind);
	const uint8_t *payload = b + h;
	size_t plen = len - h;

	if (tp_blob_kind_encrypted(kind)) {
		if (!cc)
			return tp_err_set(err, -TP_EKEY, "blob %s: encrypted, no key given", what);
		if (plen > max_out && kind == TP_BLOB_ENCR)
			return tp_err_set(err, -TP_EFORMAT, "blob %s: payload of %zu bytes exceeds the limit %zu",
					  what, plen, max_out);
		plain = malloc(plen ? plen : 1);
		if (!plain)
			return tp_err_set(err, -ENOMEM, "blob %s: out of memory decrypting", what);
		if (tp_crypt_decrypt(cc, b + 12, b + 28, payload, plen, plain, NULL) < 0) {
			r = tp_err_set(err, -TP_EKEY, "blob %s: wrong key (AES-GCM authentication failed)", what);
			goto out;
		}
		payload = plain;
	}
	if (tp_blob_kind_compressed(kind)) {
		if ((r = zstd_decode(payload, plen, max_out, what, out, err)) < 0)
			goto out;
	} else {
		if (plen > max_out) {
			r = tp_err_set(err, -TP_EFORMAT, "blob %s: payload of %zu bytes exceeds the limit %zu",
				       what, plen, max_out);
			goto out;
		}
		if ((r = tp_buf_append(out, payload, plen)) < 0) {
			tp_err_set(err, r, "blob %s: out of memory", what);
			goto out;
		}
	}
	if (expect_digest) {
		uint8_t got[32];
		r = tp_blob_digest(tp_blob_kind_encrypted(kind) ? cc : NULL, out->data ? out->data : (uint8_t *)"",
				   out->len, got, err);
		if (r < 0)
			goto out;
		if (memcmp(got, expect_digest, 32)) {
			r = digest_mismatch(expect_digest, got, what, err);
			goto out;
		}
	}
	r = 0;
out:
	free(plain);
	if (r < 0)
		tp_buf_reset(out);
	return r;
}

int tp_blob_verify_digest(const void *blob, size_t len, size_t max_out, const uint8_t digest[32],
			  const char *what, tp_buf *scratch, tp_err *err)
{
	if (max_out > TP_BLOB_MAX_SIZE)
		max_out = TP_BLOB_MAX_SIZE;
	int kind = tp_blob_kind_of(blob, len, what, err);
	if (kind < 0)
		return kind;
	if (tp_blob_kind_encrypted(kind))
		return tp_err_set(err, -TP_EKEY, "blob %s: encrypted, its digest needs the key", what);
	if (len < TP_BLOB_HEADER_LEN)
		return tp_err_set(err, -TP_EFORMAT, "blob %s: truncated (%zu bytes, %s header needs %u)", what, len,
				  tp_blob_kind_name(kind), TP_BLOB_HEADER_LEN);
	const uint8_t *payload = (const uint8_t *)blob + TP_BLOB_HEADER_LEN;
	size_t plen = len - TP_BLOB_HEADER_LEN;
	uint8_t got[32];
	if (kind == TP_BLOB_ZSTD) {
		tp_buf_reset(scratch);
		int r = zstd_decode(payload, plen, max_out, what, scratch, err);
		if (r < 0)
			return r;
		tp_sha256(scratch->data ? scratch->data : (const uint8_t *)"", scratch->len, got);
	} else {
		if (plen > max_out)
			return tp_err_set(err, -TP_EFORMAT, "blob %s: payload of %zu bytes exceeds the limit %zu", what,
					  plen, max_out);
		tp_sha256(payload, plen, got);
	}
	if (memcmp(got, digest, 32))
		return digest_mismatch(digest, got, what, err);
	return kind;
}
