/* SHA-256 (OpenSSL libcrypto) and CRC-32 (PCLMULQDQ folding, or zlib). */
#ifndef TAPIR_CRYPTO_HASH_H
#define TAPIR_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#define TP_DIGEST_LEN 32

typedef struct tp_sha256_ctx {
	void *ctx; /* EVP_MD_CTX */
} tp_sha256_ctx;

void tp_sha256(const void *data, size_t len, uint8_t out[TP_DIGEST_LEN]);
/* Incremental form; init returns -ENOMEM on failure.  final frees the context. */
int tp_sha256_init(tp_sha256_ctx *s);
void tp_sha256_update(tp_sha256_ctx *s, const void *data, size_t len);
void tp_sha256_final(tp_sha256_ctx *s, uint8_t out[TP_DIGEST_LEN]);
void tp_sha256_abort(tp_sha256_ctx *s);

/* HMAC-SHA256. */
void tp_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
		    uint8_t out[TP_DIGEST_LEN]);

/*
 * CRC-32 (IEEE, as zlib's crc32), continuing from crc (start with 0).  On
 * x86-64 it folds with carry-less multiplication when the CPU has it
 * (detected at run time): 128 bytes per step with VPCLMULQDQ + AVX2, 64 with
 * PCLMULQDQ; elsewhere it is zlib's.
 */
uint32_t tp_crc32(uint32_t crc, const void *data, size_t len);
/* The same through zlib only (the reference the fast paths are tested against). */
uint32_t tp_crc32_zlib(uint32_t crc, const void *data, size_t len);
/* "vpclmulqdq", "pclmul" or "zlib": what tp_crc32 uses now. */
const char *tp_crc32_impl(void);
/*
 * For tests and benchmarks (not thread-safe against running CRCs): makes
 * tp_crc32 use the named implementation.  -ENOTSUP when this CPU or build
 * lacks it, -EINVAL for an unknown name.
 */
int tp_crc32_select(const char *name);

#endif
