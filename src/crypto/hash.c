/* SHA-256, HMAC and CRC-32 wrappers (see hash.h). */
#include "crypto/hash.h"

#include <errno.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <zlib.h>

void tp_sha256(const void *data, size_t len, uint8_t out[TP_DIGEST_LEN])
{
	SHA256(data, len, out);
}

int tp_sha256_init(tp_sha256_ctx *s)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c);
		s->ctx = NULL;
		return -ENOMEM;
	}
	s->ctx = c;
	return 0;
}

void tp_sha256_update(tp_sha256_ctx *s, const void *data, size_t len)
{
	EVP_DigestUpdate(s->ctx, data, len);
}

void tp_sha256_final(tp_sha256_ctx *s, uint8_t out[TP_DIGEST_LEN])
{
	unsigned int n = TP_DIGEST_LEN;
	EVP_DigestFinal_ex(s->ctx, out, &n);
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void tp_sha256_abort(tp_sha256_ctx *s)
{
	EVP_MD_CTX_free(s->ctx);
	s->ctx = NULL;
}

void tp_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
		    uint8_t out[TP_DIGEST_LEN])
{
	unsigned int n = TP_DIGEST_LEN;
	HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &n);
}

uint32_t tp_crc32_zlib(uint32_t crc, const void *data, size_t len)
{
	const Bytef *p = data;
	while (len) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;
		crc = (uint32_t)crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(TP_CRC_NO_SIMD) /* the latter: to build the fallback */
#define TP_CRC_PCLMUL 1
#include <immintrin.h>

/*
 * CRC-32 by carry-less multiplication (Intel, "Fast CRC Computation for
 * Generic Polynomials Using PCLMULQDQ Instruction", 2009), bit-reflected
 * form for the IEEE polynomial P = 0x104C11DB7.  Each constant is
 * (x^n mod P), bit-reflected over 32 bits and shifted left by one (the
 * paper's "k = [x^n mod P]' << 1"); n is given beside it.  Folding a 128-bit
 * lane forward by D bits multiplies its low half by x^(D+32) and its high
 * half by x^(D-32) mod P.
 */
static const uint64_t K_FOLD8[2] = { 0x1e88ef372ull,   /* n = 8*128 + 32 */
				     0x14a7fe880ull }; /* n = 8*128 - 32 */
static const uint64_t K_FOLD4[2] = { 0x154442bd4ull,   /* n = 4*128 + 32 */
				     0x1c6e41596ull }; /* n = 4*128 - 32 */
static const uint64_t K_FOLD2[2] = { 0x0f1da05aaull,   /* n = 2*128 + 32 */
				     0x15a546366ull }; /* n = 2*128 - 32 */
static const uint64_t K_FOLD1[2] = { 0x1751997d0ull,   /* n = 128 + 32 */
				     0x0ccaa009eull }; /* n = 128 - 32 */
static const uint64_t K_64[2] = { 0x163cd6124ull, 0 }; /* n = 64 */
/* Barrett reduction: P' (reflected P, 33 bits) and mu' = reflected floor(x^64 / P) */
static const uint64_t K_BARRETT[2] = { 0x1db710641ull, 0x1f7011641ull };

/* x folded forward over the 128 bits `next` (distance set by k): x.lo * k[0] ^ x.hi * k[1] ^ next */
__attribute__((target("pclmul,sse2"))) static inline __m128i fold128(__m128i x, __m128i k, __m128i next)
{
	__m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
	__m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
	return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

/* Folds the remaining 16-byte blocks (len a multiple of 16) into x, then reduces x to the 32-bit state. */
__attribute__((target("pclmul,sse2"))) static inline uint32_t crc32_finish(__m128i x, const uint8_t *p, size_t len)
{
	__m128i k = _mm_loadu_si128((const __m128i *)K_FOLD1);
	for (; len >= 16; p += 16, len -= 16)
		x = fold128(x, k, _mm_loadu_si128((const __m128i *)p));
	/* 128 -> 96 bits: the low 64 bits times x^(128-32) onto the high 64 */
	const __m128i mask32 = _mm_setr_epi32(-1, 0, -1, 0);
	x = _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x10), _mm_srli_si128(x, 8));
	/* 96 -> 64 bits: the low 32 bits times x^64 onto the rest */
	__m128i k64 = _mm_loadu_si128((const __m128i *)K_64);
	x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, mask32), k64, 0x00), _mm_srli_si128(x, 4));
	/* Barrett: q = (x.lo32 * mu') .lo32; crc = (x ^ q * P') bits 32..63 */
	__m128i kb = _mm_loadu_si128((const __m128i *)K_BARRETT);
	__m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x, mask32), kb, 0x10), mask32);
	x = _mm_xor_si128(x, _mm_clmulepi64_si128(q, kb, 0x00));
	return (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(x, 4));
}

/* State s (the inverted CRC) over p[0..len), len >= 64 and a multiple of 16. */
__attribute__((target("pclmul,sse2"))) static uint32_t crc32_pclmul(uint32_t s, const uint8_t *p, size_t len)
{
	__m128i x0 = _mm_loadu_si128((const __m128i *)p);
	__m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
	__m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
	__m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
	x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)s));
	p += 64;
	len -= 64;
	/* four independent lanes, each folded 512 bits forward per step */
	__m128i k = _mm_loadu_si128((const __m128i *)K_FOLD4);
	while (len >= 64) {
		x0 = fold128(x0, k, _mm_loadu_si128((const __m128i *)p));
		x1 = fold128(x1, k, _mm_loadu_si128((const __m128i *)(p + 16)));
		x2 = fold128(x2, k, _mm_loadu_si128((const __m128i *)(p + 32)));
		x3 = fold128(x3, k, _mm_loadu_si128((const __m128i *)(p + 48)));
		p += 64;
		len -= 64;
	}
	/* lanes into one */
	k = _mm_loadu_si128((const __m128i *)K_FOLD1);
	__m128i x = fold128(x0, k, x1);
	x = fold128(x, k, x2);
	x = fold128(x, k, x3);
	return crc32_finish(x, p, len);
}

#define VPCLMUL_TARGET "vpclmulqdq,avx2,pclmul"

/* Each 128-bit lane of x folded as fold128 does, two lanes per instruction. */
__attribute__((target(VPCLMUL_TARGET))) static inline __m256i fold256(__m256i x, __m256i k, __m256i next)
{
	__m256i lo = _mm256_clmulepi64_epi128(x, k, 0x00);
	__m256i hi = _mm256_clmulepi64_epi128(x, k, 0x11);
	return _mm256_xor_si256(_mm256_xor_si256(lo, hi), next);
}

/* As crc32_pclmul with 256-bit registers (VPCLMULQDQ): len >= 128 and a multiple of 16. */
__attribute__((target(VPCLMUL_TARGET))) static uint32_t crc32_vpclmul(uint32_t s, const uint8_t *p, size_t len)
{
	__m256i y0 = _mm256_loadu_si256((const __m256i *)p);
	__m256i y1 = _mm256_loadu_si256((const __m256i *)(p + 32));
	__m256i y2 = _mm256_loadu_si256((const __m256i *)(p + 64));
	__m256i y3 = _mm256_loadu_si256((const __m256i *)(p + 96));
	y0 = _mm256_xor_si256(y0, _mm256_setr_epi32((int)s, 0, 0, 0, 0, 0, 0, 0));
	p += 128;
	len -= 128;
	/* eight 128-bit lanes, each folded 1024 bits forward per step */
	__m256i k = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)K_FOLD8));
	while (len >= 128) {
		y0 = fold256(y0, k, _mm256_loadu_si256((const __m256i *)p));
		y1 = fold256(y1, k, _mm256_loadu_si256((const __m256i *)(p + 32)));
		y2 = fold256(y2, k, _mm256_loadu_si256((const __m256i *)(p + 64)));
		y3 = fold256(y3, k, _mm256_loadu_si256((const __m256i *)(p + 96)));
		p += 128;
		len -= 128;
	}
	/* four registers into one (256 bits apart), then its two lanes into one */
	k = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)K_FOLD2));
	__m256i y = fold256(y0, k, y1);
	y = fold256(y, k, y2);
	y = fold256(y, k, y3);
	__m128i x = fold128(_mm256_castsi256_si128(y), _mm_loadu_si128((const __m128i *)K_FOLD1),
			    _mm256_extracti128_si256(y, 1));
	return crc32_finish(x, p, len);
}

/* 2: VPCLMULQDQ + AVX2, 1: PCLMULQDQ, 0: neither. */
static int cpu_level(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("pclmul") || !__builtin_cpu_supports("sse2"))
		return 0;
	return __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx2") ? 2 : 1;
}

/* What tp_crc32 uses; decided at the first call (a racing first call stores the same value). */
static int crc_selected = -1;

static int crc_level(void)
{
	int v = __atomic_load_n(&crc_selected, __ATOMIC_RELAXED);
	if (v < 0) {
		v = cpu_level();
		__atomic_store_n(&crc_selected, v, __ATOMIC_RELAXED);
	}
	return v;
}
#endif

static const char *const crc_impl_names[3] = { "zlib", "pclmul", "vpclmulqdq" };

int tp_crc32_select(const char *name)
{
	for (int level = 0; level < 3; level++) {
		if (!name || strcmp(name, crc_impl_names[level]))
			continue;
#ifdef TP_CRC_PCLMUL
		if (level > cpu_level())
			return -ENOTSUP;
		__atomic_store_n(&crc_selected, level, __ATOMIC_RELAXED);
		return 0;
#else
		return level == 0 ? 0 : -ENOTSUP;
#endif
	}
	return -EINVAL;
}

const char *tp_crc32_impl(void)
{
#ifdef TP_CRC_PCLMUL
	return crc_impl_names[crc_level()];
#else
	return crc_impl_names[0];
#endif
}

uint32_t tp_crc32(uint32_t crc, const void *data, size_t len)
{
#ifdef TP_CRC_PCLMUL
	int level = len >= 64 ? crc_level() : 0;
	if (level) {
		size_t n = len & ~(size_t)15;
		if (level == 2 && n >= 128)
			crc = ~crc32_vpclmul(~crc, data, n);
		else
			crc = ~crc32_pclmul(~crc, data, n);
		data = (const uint8_t *)data + n;
		len -= n;
	}
#endif
	return len ? tp_crc32_zlib(crc, data, len) : crc;
}
