/* Unit test: DataBlob layout, encode/decode round trips, zstd bounds, encryption, corruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>
#include <zstd.h>

#include "base/hex.h"
#include "crypto/crypt_config.h"
#include "crypto/hash.h"
#include "format/blob.h"
#include "format/magic.h"

static tp_crypt_config key_a, key_b;

static int setup(void **state)
{
	(void)state;
	uint8_t k[32];
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	if (tp_crypt_config_init(&key_a, k, NULL) < 0)
		return -1;
	k[0] ^= 0xff;
	return tp_crypt_config_init(&key_b, k, NULL);
}

static uint8_t *pseudo_random(size_t n, uint64_t seed)
{
	uint8_t *p = malloc(n);
	uint64_t x = seed;
	for (size_t i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(x >> 56);
	}
	return p;
}

static void test_golden_plain_layout(void **state)
{
	(void)state;
	static const uint8_t want[] = { 66, 171, 56, 7, 190, 131, 112, 161, /* magic */
					0x86, 0xa6, 0x10, 0x36,          /* crc32("hello") LE */
					'h', 'e', 'l', 'l', 'o' };
	tp_buf b = TP_BUF_INIT, d = TP_BUF_INIT;
	assert_int_equal(tp_blob_encode("hello", 5, NULL, 1, &b, NULL), 0);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_int_equal(tp_blob_check(b.data, b.len, "t", NULL), TP_BLOB_PLAIN);
	assert_int_equal(tp_blob_stored_crc(b.data), 0x3610a686u);
	uint8_t dg[32];
	tp_sha256("hello", 5, dg);
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, 100, dg, "t", &d, NULL), 0);
	assert_int_equal(d.len, 5);
	assert_memory_equal(d.data, "hello", 5);
	tp_buf_free(&b);
	tp_buf_free(&d);
}

static void test_magics(void **state)
{
	(void)state;
	static const uint8_t m[4][8] = {
		{ 66, 171, 56, 7, 190, 131, 112, 161 }, { 49, 185, 88, 66, 111, 182, 163, 127 },
		{ 123, 103, 133, 190, 34, 45, 76, 240 }, { 230, 89, 27, 191, 11, 191, 216, 11 },
	};
	for (int k = 0; k < 4; k++) {
		uint8_t blob[44] = { 0 };
		memcpy(blob, m[k], 8);
		assert_int_equal(tp_blob_kind_of(blob, sizeof(blob), "t", NULL), k);
		static const char *const text[4] = {
			"Proxmox Backup uncompressed blob v1.0", "Proxmox Backup zstd compressed blob v1.0",
			"Proxmox Backup encrypted blob v1.0", "Proxmox Backup zstd compressed encrypted blob v1.0",
		};
		uint8_t full[32];
		tp_sha256(text[k], strlen(text[k]), full);
		assert_memory_equal(full, m[k], 8);
	}
	assert_int_equal(tp_blob_header_len(TP_BLOB_PLAIN), 12);
	assert_int_equal(tp_blob_header_len(TP_BLOB_ZSTD_ENCR), 44);
}

static void test_zstd_roundtrip(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	uint8_t *z = calloc(1, n);
	memset(z + 1000, 'x', 5000);
	tp_buf b = TP_BUF_INIT, d = TP_BUF_INIT;
	assert_int_equal(tp_blob_encode(z, n, NULL, 1, &b, NULL), 0);
	assert_int_equal(tp_blob_kind_of(b.data, b.len, "t", NULL), TP_BLOB_ZSTD);
	assert_true(b.len < n / 100);
	assert_int_equal(tp_le32(b.data + 8), tp_crc32(0, b.data + 12, b.len - 12));
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n, NULL, "t", &d, NULL), 0);
	assert_int_equal(d.len, n);
	assert_memory_equal(d.data, z, n);
	/* the output bound: one byte short fails, naming the limit */
	tp_err e = { 0 };
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n - 1, NULL, "t", &d, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "exceeds the limit"));
	/* a huge limit is capped at TP_BLOB_MAX_SIZE, not overflowed */
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, SIZE_MAX, NULL, "t", &d, &e), 0);
	assert_int_equal(d.len, n);
	/* compress=0 stores it plain */
	assert_int_equal(tp_blob_encode(z, n, NULL, 0, &b, NULL), 0);
	assert_int_equal(tp_blob_kind_of(b.data, b.len, "t", NULL), TP_BLOB_PLAIN);
	assert_int_equal(b.len, n + 12);
	free(z);
	tp_buf_free(&b);
	tp_buf_free(&d);
}

static void test_incompressible_stays_plain(void **state)
{
	(void)state;
	uint8_t *r = pseudo_random(100000, 7);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_blob_encode(r, 100000, NULL, 1, &b, NULL), 0);
	assert_int_equal(tp_blob_kind_of(b.data, b.len, "t", NULL), TP_BLOB_PLAIN);
	assert_memory_equal(b.data + 12, r, 100000);
	assert_int_equal(tp_blob_encode(r, 100000, &key_a, 1, &b, NULL), 0);
	assert_int_equal(tp_blob_kind_of(b.data, b.len, "t", NULL), TP_BLOB_ENCR);
	assert_int_equal(b.len, 100000 + 44);
	/* empty data: plain (a zstd frame is never smaller than nothing) */
	assert_int_equal(tp_blob_encode("", 0, NULL, 1, &b, NULL), 0);
	assert_int_equal(b.len, 12);
	assert_int_equal(tp_blob_check(b.data, b.len, "t", NULL), TP_BLOB_PLAIN);
	free(r);
	tp_buf_free(&b);
}

/* Blob around a zstd frame made elsewhere (no content size, other level, several frames). */
static void make_zstd_blob(const uint8_t *data, size_t n, int frames, tp_buf *out)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 19);
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
	size_t cap = ZSTD_compressBound(n) * (size_t)frames + 64;
	uint8_t *z = malloc(cap);
	size_t zl = 0;
	for (int f = 0; f < frames; f++) {
		size_t part = n / (size_t)frames, off = part * (size_t)f;
		if (f == frames - 1)
			part = n - off;
		ZSTD_inBuffer ib = { data + off, part, 0 };
		ZSTD_outBuffer ob = { z + zl, cap - zl, 0 };
		size_t rem;
		do
			rem = ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end);
		while (rem != 0 && !ZSTD_isError(rem));
		assert_false(ZSTD_isError(rem));
		zl += ob.pos;
	}
	tp_buf_reset(out);
	tp_buf_append(out, tp_magic(TP_MAGIC_BLOB_ZSTD), 8);
	tp_buf_append_le32(out, tp_crc32(0, z, zl));
	tp_buf_append(out, z, zl);
	free(z);
	ZSTD_freeCCtx(c);
}

static void test_foreign_zstd_frames(void **state)
{
	(void)state;
	size_t n = 300000;
	uint8_t *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (uint8_t)(i / 1000);
	tp_buf b = TP_BUF_INIT, d = TP_BUF_INIT;
	tp_err e = { 0 };
	for (int frames = 1; frames <= 3; frames++) {
		make_zstd_blob(data, n, frames, &b);
		assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n, NULL, "t", &d, &e), 0);
		assert_int_equal(d.len, n);
		assert_memory_equal(d.data, data, n);
		/* without a content size in the header the cap is enforced while streaming */
		assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n - 1, NULL, "t", &d, &e), -TP_EFORMAT);
		assert_non_null(strstr(e.msg, "exceeds the limit"));
	}
	/* a truncated frame with a valid CRC is a zstd error, not a crash */
	make_zstd_blob(data, n, 1, &b);
	b.len -= 10;
	tp_put_le32(b.data + 8, tp_crc32(0, b.data + 12, b.len - 12));
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n, NULL, "t", &d, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "zstd"));
	/* trailing garbage after the frame */
	make_zstd_blob(data, n, 1, &b);
	tp_buf_append(&b, "garbage!", 8);
	tp_put_le32(b.data + 8, tp_crc32(0, b.data + 12, b.len - 12));
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n, NULL, "t", &d, &e), -TP_EFORMAT);
	/* a zstd blob with an empty payload */
	b.len = 12;
	tp_put_le32(b.data + 8, 0);
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n, NULL, "t", &d, &e), -TP_EFORMAT);
	free(data);
	tp_buf_free(&b);
	tp_buf_free(&d);
}

static void test_encrypted_roundtrip(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT, b2 = TP_BUF_INIT, d = TP_BUF_INIT;
	tp_err e = { 0 };
	size_t n = 200000;
	uint8_t *z = calloc(1, n);
	uint8_t dg[32];
	strcpy((char *)z + 100, "some text in a sea of zeros");
	assert_int_equal(tp_blob_encode_chunk(z, n, &key_a, 1, &b, dg, NULL), 0);
	assert_int_equal(tp_blob_check(b.data, b.len, "t", NULL), TP_BLOB_ZSTD_ENCR);
	assert_true(b.len < n);
	/* digest = SHA-256(plain || id_key) */
	uint8_t *cat = malloc(n + 32);
	memcpy(cat, z, n);
	memcpy(cat + n, key_a.id_key, 32);
	uint8_t want[32];
	tp_sha256(cat, n + 32, want);
	assert_memory_equal(dg, want, 32);
	free(cat);
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, n, dg, "t", &d, &e), 0);
	assert_int_equal(d.len, n);
	assert_memory_equal(d.data, z, n);
	/* a fresh IV each time: same input, different bytes */
	assert_int_equal(tp_blob_encode(z, n, &key_a, 1, &b2, NULL), 0);
	assert_int_equal(b.len, b2.len);
	assert_memory_not_equal(b.data + 12, b2.data + 12, 16);
	/* no key */
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, n, NULL, "chunk1", &d, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, "blob chunk1: encrypted, no key given"));
	assert_int_equal(d.len, 0);
	/* wrong key */
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_b, n, NULL, "chunk1", &d, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, "wrong key"));
	/* tampered tag with a recomputed CRC: the tag catches it */
	b.data[30] ^= 1;
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, n, NULL, "t", &d, &e), -TP_EKEY);
	b.data[30] ^= 1;
	b.data[50] ^= 1;
	tp_put_le32(b.data + 8, tp_crc32(0, b.data + 44, b.len - 44));
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, n, NULL, "t", &d, &e), -TP_EKEY);
	/* an unencrypted digest expectation against an encrypted blob fails */
	uint8_t plain_dg[32];
	tp_sha256(z, n, plain_dg);
	assert_int_equal(tp_blob_encode(z, n, &key_a, 0, &b, NULL), 0);
	assert_int_equal(tp_blob_check(b.data, b.len, "t", NULL), TP_BLOB_ENCR);
	assert_int_equal(b.len, n + 44);
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, n, plain_dg, "t", &d, &e), -TP_EDIGEST);
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, n, dg, "t", &d, &e), 0);
	/* bounded output for the uncompressed encrypted form */
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, n - 1, NULL, "t", &d, &e), -TP_EFORMAT);
	free(z);
	tp_buf_free(&b);
	tp_buf_free(&b2);
	tp_buf_free(&d);
}

static void test_every_byte_flip_is_caught(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT, d = TP_BUF_INIT;
	tp_err e = { 0 };
	uint8_t data[300];
	for (int i = 0; i < 300; i++)
		data[i] = (uint8_t)(i % 7);
	for (int enc = 0; enc < 2; enc++) {
		assert_int_equal(tp_blob_encode(data, sizeof(data), enc ? &key_a : NULL, 1, &b, NULL), 0);
		for (size_t i = 0; i < b.len; i++) {
			b.data[i] ^= 0x40;
			int r = tp_blob_decode(b.data, b.len, &key_a, 1000, NULL, "x", &d, &e);
			if (i < 8) {
				assert_int_equal(r, -TP_EFORMAT);
				assert_non_null(strstr(e.msg, "wrong magic"));
			} else if (i < 12 || i >= (enc ? 44u : 12u)) {
				assert_int_equal(r, -TP_ECRC);
				assert_non_null(strstr(e.msg, "blob x: CRC mismatch (stored "));
				assert_int_equal(tp_blob_check(b.data, b.len, "x", NULL), -TP_ECRC);
			} else {
				/* IV and tag are outside the CRC: AES-GCM rejects them */
				assert_int_equal(r, -TP_EKEY);
			}
			b.data[i] ^= 0x40;
		}
		assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, 1000, NULL, "x", &d, &e), 0);
		assert_memory_equal(d.data, data, sizeof(data));
	}
	tp_buf_free(&b);
	tp_buf_free(&d);
}

static void test_truncated_and_wrong_magic(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT, d = TP_BUF_INIT;
	tp_err e = { 0 };
	assert_int_equal(tp_blob_encode("abc", 3, &key_a, 0, &b, NULL), 0);
	for (size_t n = 0; n < 44; n++) {
		assert_int_equal(tp_blob_decode(b.data, n, &key_a, 100, NULL, "y", &d, &e), -TP_EFORMAT);
		assert_non_null(strstr(e.msg, "truncated"));
	}
	/* truncating the payload breaks the CRC */
	assert_int_equal(tp_blob_check(b.data, 46, "y", &e), -TP_ECRC);
	assert_int_equal(tp_blob_encode("abc", 3, NULL, 0, &b, NULL), 0);
	assert_int_equal(tp_blob_check(b.data, 11, "y", &e), -TP_EFORMAT);
	assert_int_equal(tp_blob_check(b.data, 14, "y", &e), -TP_ECRC);
	memcpy(b.data, "NOTABLOB", 8);
	assert_int_equal(tp_blob_check(b.data, b.len, "y", &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "blob y: wrong magic 4e4f54414"));
	/* a fidx magic is not a blob */
	memcpy(b.data, tp_magic(TP_MAGIC_FIXED_INDEX), 8);
	assert_int_equal(tp_blob_kind_of(b.data, b.len, "y", &e), -TP_EFORMAT);
	tp_buf_free(&b);
	tp_buf_free(&d);
}

static void test_digest_mismatch_and_limits(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT, d = TP_BUF_INIT;
	tp_err e = { 0 };
	uint8_t dg[32];
	assert_int_equal(tp_blob_encode_chunk("chunk data", 10, NULL, 1, &b, dg, NULL), 0);
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, 10, dg, "c", &d, &e), 0);
	dg[31] ^= 1;
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, 10, dg, "c", &d, &e), -TP_EDIGEST);
	assert_non_null(strstr(e.msg, "blob c: digest mismatch (expected "));
	assert_int_equal(tp_blob_decode(b.data, b.len, NULL, 9, NULL, "c", &d, &e), -TP_EFORMAT);
	/* an unencrypted blob decodes with a key given; its digest is plain SHA-256 */
	tp_sha256("chunk data", 10, dg);
	assert_int_equal(tp_blob_decode(b.data, b.len, &key_a, 10, dg, "c", &d, &e), 0);
	/* encode refuses more than TP_BLOB_MAX_SIZE */
	static uint8_t one;
	assert_int_equal(tp_blob_encode(&one, (size_t)TP_BLOB_MAX_SIZE + 1, NULL, 0, &b, &e), -EFBIG);
	tp_buf_free(&b);
	tp_buf_free(&d);
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/tapir-test-blob-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	tp_buf b = TP_BUF_INIT, l = TP_BUF_INIT;
	tp_err e = { 0 };
	assert_int_equal(tp_blob_encode("file content", 12, NULL, 0, &b, NULL), 0);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	assert_int_equal(tp_blob_load(path, 1000, &l, &e), TP_BLOB_PLAIN);
	assert_int_equal(l.len, b.len);
	tp_buf_reset(&l);
	assert_int_equal(tp_blob_load(path, 10, &l, &e), -EFBIG);
	b.data[20] ^= 1;
	assert_int_equal(pwrite(fd, b.data, b.len, 0), (ssize_t)b.len);
	tp_buf_reset(&l);
	assert_int_equal(tp_blob_load(path, 1000, &l, &e), -TP_ECRC);
	assert_non_null(strstr(e.msg, path));
	close(fd);
	unlink(path);
	tp_buf_free(&b);
	tp_buf_free(&l);
}

/* Restore's digest check: no CRC pass, zstd decompressed into scratch, plain hashed in place. */
static void test_verify_digest(void **state)
{
	(void)state;
	tp_buf b = TP_BUF_INIT, scratch = TP_BUF_INIT;
	tp_err e = { 0 };
	size_t n = 300000;
	uint8_t *z = calloc(1, n), dg[32], bad[32];
	for (size_t i = 0; i < n; i += 7)
		z[i] = (uint8_t)(i >> 3);
	/* compressible: zstd */
	assert_int_equal(tp_blob_encode_chunk(z, n, NULL, 1, &b, dg, NULL), 0);
	assert_int_equal(tp_blob_kind_of(b.data, b.len, "t", NULL), TP_BLOB_ZSTD);
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e), TP_BLOB_ZSTD);
	memcpy(bad, dg, 32);
	bad[31] ^= 1;
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, bad, "t", &scratch, &e), -TP_EDIGEST);
	assert_non_null(strstr(e.msg, "digest mismatch"));
	/* the output bound holds as in tp_blob_decode */
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, n - 1, dg, "t", &scratch, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "exceeds the limit"));
	/* a broken zstd payload (CRC not rechecked: caller's job) is a format or digest error, never success */
	tp_buf_reset(&scratch);
	b.data[b.len / 2] ^= 0xff;
	int r = tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e);
	assert_true(r == -TP_EFORMAT || r == -TP_EDIGEST);
	/* plain: hashed in place; the stored CRC is not looked at (a wrong one passes, the digest decides) */
	assert_int_equal(tp_blob_encode_chunk(z, n, NULL, 0, &b, dg, NULL), 0);
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e), TP_BLOB_PLAIN);
	b.data[8] ^= 1;
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e), TP_BLOB_PLAIN);
	b.data[100] ^= 1;
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e), -TP_EDIGEST);
	b.data[100] ^= 1;
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, n - 1, dg, "t", &scratch, &e), -TP_EFORMAT);
	/* an empty plain chunk */
	uint8_t dg0[32];
	assert_int_equal(tp_blob_encode_chunk("", 0, NULL, 0, &b, dg0, NULL), 0);
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, dg0, "t", &scratch, &e), TP_BLOB_PLAIN);
	/* encrypted: needs the key */
	assert_int_equal(tp_blob_encode_chunk(z, n, &key_a, 1, &b, dg, NULL), 0);
	assert_int_equal(tp_blob_verify_digest(b.data, b.len, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e), -TP_EKEY);
	/* wrong magic, truncated */
	assert_int_equal(tp_blob_verify_digest("garbage!xxxx", 12, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e), -TP_EFORMAT);
	assert_int_equal(tp_blob_verify_digest(tp_magic(TP_MAGIC_BLOB_PLAIN), 8, TP_CHUNK_MAX_SIZE, dg, "t", &scratch, &e),
			 -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "truncated"));
	free(z);
	tp_buf_free(&b);
	tp_buf_free(&scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_plain_layout),
		cmocka_unit_test(test_magics),
		cmocka_unit_test(test_zstd_roundtrip),
		cmocka_unit_test(test_incompressible_stays_plain),
		cmocka_unit_test(test_foreign_zstd_frames),
		cmocka_unit_test(test_encrypted_roundtrip),
		cmocka_unit_test(test_every_byte_flip_is_caught),
		cmocka_unit_test(test_truncated_and_wrong_magic),
		cmocka_unit_test(test_digest_mismatch_and_limits),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_verify_digest),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
