/* Encryption key context of PBS: id_key, key fingerprint, chunk digests, AES-GCM, auth tags. */
#ifndef TAPIR_CRYPTO_CRYPT_CONFIG_H
#define TAPIR_CRYPTO_CRYPT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define TP_FINGERPRINT_LEN 32
/* "aa:bb:...:ff" text form: 32 pairs joined by ':' (95 chars) plus NUL. */
#define TP_FINGERPRINT_TEXT_LEN 96

/*
 * Everything derived from one 32-byte encryption key (PBS CryptConfig).
 * id_key = PBKDF2-HMAC-SHA256(key, "_id_key", 10 iterations, 32 bytes);
 * fingerprint = SHA-256(FINGERPRINT_INPUT || id_key).  Plain data: callers
 * should tp_crypt_config_clear() it when done so the key does not linger.
 */
typedef struct tp_crypt_config {
	uint8_t enc_key[32];
	uint8_t id_key[32];
	uint8_t fingerprint[TP_FINGERPRINT_LEN];
} tp_crypt_config;

/* The fixed 32-byte constant PBS hashes in front of id_key for the fingerprint. */
extern const uint8_t tp_fingerprint_input[32];

int tp_crypt_config_init(tp_crypt_config *cc, const uint8_t key[32], tp_err *err);
/* Zeroes the key material. */
void tp_crypt_config_clear(tp_crypt_config *cc);

/* SHA-256(data || id_key): the digest (chunk name) of encrypted data; -ENOMEM. */
int tp_crypt_digest(const tp_crypt_config *cc, const void *data, size_t len, uint8_t out[32]);
/* HMAC-SHA256 keyed with id_key (manifest signatures, PBS compute_auth_tag). */
void tp_crypt_auth_tag(const tp_crypt_config *cc, const void *data, size_t len, uint8_t out[32]);

/*
 * AES-256-GCM with enc_key.  encrypt draws a fresh random 16-byte IV into iv;
 * out must hold len bytes (ciphertext length = plaintext length).  decrypt
 * fails with -TP_EKEY when the tag does not verify (wrong key or corrupt data).
 */
int tp_crypt_encrypt(const tp_crypt_config *cc, const void *in, size_t len, uint8_t *out,
		     uint8_t iv[16], uint8_t tag[16], tp_err *err);
int tp_crypt_decrypt(const tp_crypt_config *cc, const uint8_t iv[16], const uint8_t tag[16],
		     const void *in, size_t len, uint8_t *out, tp_err *err);

/* Lowercase "aa:bb:..." form of a fingerprint (out >= TP_FINGERPRINT_TEXT_LEN). */
void tp_fingerprint_text(const uint8_t fp[32], char out[TP_FINGERPRINT_TEXT_LEN]);
/* Parses the colon form (either case; exactly 95 chars); -EINVAL otherwise. */
int tp_fingerprint_from_text(const char *s, uint8_t out[32]);

#endif
