/* AES-256-GCM with 16-byte IVs, PBKDF2-HMAC-SHA256, scrypt, random bytes. */
#ifndef TAPIR_CRYPTO_CIPHER_H
#define TAPIR_CRYPTO_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define TP_AES_KEY_LEN 32
#define TP_GCM_IV_LEN 16
#define TP_GCM_TAG_LEN 16

/* out receives len bytes of ciphertext (length-preserving); tag 16 bytes. Empty AAD. */
int tp_aes_gcm_encrypt(const uint8_t key[32], const uint8_t iv[16], const void *in, size_t len,
		       uint8_t *out, uint8_t tag[16], tp_err *err);
/* -TP_EKEY when the tag does not verify (wrong key or corrupt data). */
int tp_aes_gcm_decrypt(const uint8_t key[32], const uint8_t iv[16], const void *in, size_t len,
		       const uint8_t tag[16], uint8_t *out, tp_err *err);

int tp_pbkdf2_sha256(const void *pass, size_t passlen, const void *salt, size_t saltlen,
		     unsigned iter, uint8_t *out, size_t outlen);
int tp_scrypt(const void *pass, size_t passlen, const void *salt, size_t saltlen, uint64_t n,
	      uint64_t r, uint64_t p, uint8_t *out, size_t outlen);

/* Cryptographically random bytes; -EIO on failure. */
int tp_random_bytes(void *out, size_t n);

#endif
