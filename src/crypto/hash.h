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
 * x86-64 CPUs with PCLMULQDQ (detected at run time) it folds 64 bytes per
 * step with carry-less multiplication; elsewhere it is zlib's.
 */
uint32_t tp_crc32(uint32_t crc, const void *data, size_t len);
/* The same through zlib only (the reference the fast path is tested against). */
uint32_t tp_crc32_zlib(uint32_t crc, const void *data, size_t len);
/* "pclmul" or "zlib": what tp_crc32 uses on this CPU. */
const char *tp_crc32_impl(void);

#endif
