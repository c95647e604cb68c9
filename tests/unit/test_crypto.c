/* Unit test: SipHash vectors (incl. the 23 pxar htypes), CRC-32 (fast path against zlib), AES-GCM, PBKDF2. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "crypto/siphash.h"

static void test_siphash_vectors(void **state)
{
	(void)state;
	assert_true(tp_pxar_hash("", 0) == 0x76614015f8d1bb6cULL);
	assert_true(tp_pxar_hash("a", 1) == 0x0c26e9067c2c7bcfULL);
	assert_true(tp_pxar_hash("abcdefgh", 8) == 0xea82693c92359125ULL);
	assert_true(tp_pxar_hash("abcdefghi", 9) == 0xba687b3dd67d2933ULL);
}

static void test_siphash_htypes(void **state)
{
	(void)state;
	static const struct { const char *x; uint64_t v; } t[] = {
		{ "VERSION", 0x730f6c75df16a40dULL }, { "ENTRY_V2", 0xd5956474e588acefULL },
		{ "ENTRY", 0x11da850a1c1cceffULL }, { "PRELUDE", 0xe309d79d9f7b771bULL },
		{ "FILENAME", 0x16701121063917b3ULL }, { "SYMLINK", 0x27f971e7dbf5dc5fULL },
		{ "DEVICE", 0x9fc9e906586d5ce9ULL }, { "XATTR", 0x0dab0229b57dcd03ULL },
		{ "ACL_USER", 0x2ce8540a457d55b8ULL }, { "ACL_GROUP", 0x136e3eceb04c03abULL },
		{ "ACL_GROUP_OBJ", 0x10868031e9582876ULL }, { "ACL_DEFAULT", 0xbbbb13415a6896f5ULL },
		{ "ACL_DEFAULT_USER", 0xc89357b40532cd1fULL }, { "ACL_DEFAULT_GROUP", 0xf90a8a5816038ffeULL },
		{ "FCAPS", 0x2da9dd9db5f7fb67ULL }, { "QUOTA_PROJID", 0xe07540e82f7d1cbbULL },
		{ "HARDLINK", 0x51269c8422bd7275ULL }, { "PXAR_PAYLOAD", 0x28147a1b0b7c1a25ULL },
		{ "PXAR_PAYLOAD_REF", 0x419d3d6bc4ba977eULL }, { "GOODBYE", 0x2fec4fa642d5731dULL },
		{ "PXAR_GOODBYE_TAIL_MARKER", 0xef5eed5b753e1555ULL },
		{ "PXAR_PAYLOAD_START_MARKER", 0x834c68c2194a4ed2ULL },
		{ "PXAR_PAYLOAD_TAIL_MARKER", 0x6c72b78b984c81b5ULL },
	};
	assert_int_equal(sizeof(t) / sizeof(t[0]), 23);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char s[64];
		snprintf(s, sizeof(s), "__PROXMOX_FORMAT_%s__", t[i].x);
		assert_true(tp_pxar_hash(s, strlen(s)) == t[i].v);
	}
}

static void test_crc32(void **state)
{
	(void)state;
	assert_int_equal(tp_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(tp_crc32(tp_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	assert_int_equal(tp_crc32_zlib(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(tp_crc32(0x1234u, "", 0), 0x1234u);
}

/* xorshift64*, so failures reproduce */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* Each implementation this CPU has against zlib's crc32 on random lengths, offsets and seeds. */
static void crc32_vs_zlib(void)
{
	enum { MAXLEN = 70000, PAD = 64 };
	uint8_t *buf = malloc(MAXLEN + PAD);
	assert_non_null(buf);
	uint64_t s = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < MAXLEN + PAD; i++)
		buf[i] = (uint8_t)(rng_next(&s) >> 56);
	/* every length around the fold thresholds (16, 64, 128, 256) at every alignment */
	for (size_t len = 0; len <= 300; len++)
		for (size_t off = 0; off < 16; off++)
			assert_int_equal(tp_crc32(0, buf + off, len), (uint32_t)crc32(0, buf + off, (uInt)len));
	for (int i = 0; i < 2000; i++) {
		size_t len = (size_t)(rng_next(&s) % (MAXLEN + 1));
		size_t off = (size_t)(rng_next(&s) % PAD);
		uint32_t seed = (uint32_t)rng_next(&s);
		uint32_t want = (uint32_t)crc32(seed, buf + off, (uInt)len);
		assert_int_equal(tp_crc32(seed, buf + off, len), want);
		assert_int_equal(tp_crc32_zlib(seed, buf + off, len), want);
		/* split at a random point: continuing a CRC gives the same value */
		size_t cut = len ? (size_t)(rng_next(&s) % len) : 0;
		assert_int_equal(tp_crc32(tp_crc32(seed, buf + off, cut), buf + off + cut, len - cut), want);
	}
	/* a single flipped bit anywhere changes the CRC */
	uint32_t whole = tp_crc32(0, buf, MAXLEN);
	for (size_t at = 0; at < MAXLEN; at += 997) {
		buf[at] ^= 0x10;
		assert_int_not_equal(tp_crc32(0, buf, MAXLEN), whole);
		buf[at] ^= 0x10;
	}
	assert_int_equal(tp_crc32(0, buf, MAXLEN), whole);
	/* all zeros and all ones over a long run */
	memset(buf, 0, MAXLEN);
	assert_int_equal(tp_crc32(0, buf, MAXLEN), (uint32_t)crc32(0, buf, MAXLEN));
	memset(buf, 0xff, MAXLEN);
	assert_int_equal(tp_crc32(0xffffffffu, buf, MAXLEN), (uint32_t)crc32(0xffffffffu, buf, MAXLEN));
	assert_int_equal(tp_crc32(0, "123456789", 9), 0xcbf43926u);
	free(buf);
}

static void test_crc32_vs_zlib(void **state)
{
	(void)state;
	const char *dflt = tp_crc32_impl();
	assert_true(!strcmp(dflt, "vpclmulqdq") || !strcmp(dflt, "pclmul") || !strcmp(dflt, "zlib"));
	static const char *const names[] = { "zlib", "pclmul", "vpclmulqdq" };
	int tested = 0;
	for (int i = 0; i < 3; i++) {
		int r = tp_crc32_select(names[i]);
		if (r == -ENOTSUP)
			continue;
		assert_int_equal(r, 0);
		assert_string_equal(tp_crc32_impl(), names[i]);
		crc32_vs_zlib();
		tested++;
	}
	assert_true(tested >= 1);
	assert_int_equal(tp_crc32_select("sse9"), -EINVAL);
	assert_int_equal(tp_crc32_select(dflt), 0);
	assert_string_equal(tp_crc32_impl(), dflt);
#if defined(__x86_64__) && !defined(TP_CRC_NO_SIMD)
	/* a CPU with PCLMULQDQ gets a folding implementation by default */
	if (__builtin_cpu_supports("pclmul"))
		assert_string_not_equal(dflt, "zlib");
	if (__builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx2"))
		assert_string_equal(dflt, "vpclmulqdq");
#endif
}

static void test_aes_gcm_roundtrip_and_tamper(void **state)
{
	(void)state;
	uint8_t key[32], iv[16], tag[16], ct[100], pt[100], in[100];
	for (int i = 0; i < 32; i++) key[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++) iv[i] = (uint8_t)(100 + i);
	for (int i = 0; i < 100; i++) in[i] = (uint8_t)(i * 7);
	assert_int_equal(tp_aes_gcm_encrypt(key, iv, in, 100, ct, tag, NULL), 0);
	assert_memory_not_equal(ct, in, 100);
	assert_int_equal(tp_aes_gcm_decrypt(key, iv, ct, 100, tag, pt, NULL), 0);
	assert_memory_equal(pt, in, 100);
	ct[5] ^= 1;
	tp_err e = { 0 };
	assert_int_equal(tp_aes_gcm_decrypt(key, iv, ct, 100, tag, pt, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, "authentication"));
}

static void test_pbkdf2_rfc7914_vector(void **state)
{
	(void)state;
	/* RFC 7914 section 11: PBKDF2-HMAC-SHA256("passwd", "salt", 1, 64) */
	static const uint8_t want[16] = { 0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f,
					  0xec, 0x16, 0x91, 0xc2, 0x25, 0x44, 0xb6, 0x05 };
	uint8_t out[64];
	assert_int_equal(tp_pbkdf2_sha256("passwd", 6, "salt", 4, 1, out, 64), 0);
	assert_memory_equal(out, want, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_siphash_htypes),
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_crc32_vs_zlib),
		cmocka_unit_test(test_aes_gcm_roundtrip_and_tamper),
		cmocka_unit_test(test_pbkdf2_rfc7914_vector),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
