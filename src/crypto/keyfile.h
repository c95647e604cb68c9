/* PBS KeyConfig key files: JSON with kdf, created, modified, data, fingerprint, hint. */
#ifndef TAPIR_CRYPTO_KEYFILE_H
#define TAPIR_CRYPTO_KEYFILE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Environment variable the CLI (and tp_keyfile_load with a NULL passphrase) reads. */
#define TP_KEY_PASSWORD_ENV "TAPIR_KEY_PASSWORD"
#define TP_KEYFILE_SALT_MAX 64
#define TP_KEYFILE_HINT_MAX 255
#define TP_KEYFILE_MAX_SIZE 65536

enum tp_kdf { TP_KDF_NONE = 0, TP_KDF_SCRYPT = 1, TP_KDF_PBKDF2 = 2 };

/* "none", "scrypt", "pbkdf2"; parse (case-insensitive) returns the kdf or -EINVAL. */
const char *tp_kdf_name(int kdf);
int tp_kdf_parse(const char *s);

/*
 * One key config.  data is the raw 32-byte key for TP_KDF_NONE, otherwise
 * iv[16] || tag[16] || AES-256-GCM(key) under the passphrase-derived key
 * (64 bytes).  Plain data; tp_key_config_clear wipes it.
 */
typedef struct tp_key_config {
	int kdf;
	uint64_t n, r, p;               /* scrypt */
	uint64_t iter;                  /* PBKDF2 */
	uint8_t salt[TP_KEYFILE_SALT_MAX];
	size_t salt_len;
	int64_t created, modified;
	uint8_t data[64];
	size_t data_len;
	int has_fingerprint;
	uint8_t fingerprint[32];
	int has_hint;
	char hint[TP_KEYFILE_HINT_MAX + 1];
} tp_key_config;

/*
 * Builds a config for key: kdf none stores it as is; scrypt (n=65536, r=8,
 * p=1) and pbkdf2 (65535 iterations) derive a wrapping key from passphrase
 * (required, non-empty) and a fresh 32-byte salt.  created = modified = now;
 * the fingerprint is stored; hint may be NULL.
 */
int tp_key_config_create(tp_key_config *kc, const uint8_t key[32], int kdf, const char *passphrase,
			 const char *hint, tp_err *err);
void tp_key_config_clear(tp_key_config *kc);

/* PBS's JSON (new reference; NULL on OOM).  Keys in PBS declaration order. */
json_t *tp_key_config_to_json(const tp_key_config *kc);
/* Parses and validates (kdf parameters bounded); -TP_EFORMAT naming `what` and the field. */
int tp_key_config_from_json(const json_t *j, tp_key_config *kc, const char *what, tp_err *err);

/*
 * Recovers the 32-byte key: -TP_EKEY for a missing passphrase (kdf set and
 * passphrase NULL), a wrong passphrase, or a stored fingerprint that does
 * not match the key's.
 */
int tp_key_config_decrypt(const tp_key_config *kc, const char *passphrase, uint8_t key[32],
			  tp_err *err);

/* Loads and decrypts a key file; passphrase NULL means $TAPIR_KEY_PASSWORD.  kc may be NULL. */
int tp_keyfile_load(const char *path, const char *passphrase, uint8_t key[32], tp_key_config *kc,
		    tp_err *err);
/* Reads only the config (no passphrase needed). */
int tp_keyfile_read_config(const char *path, tp_key_config *kc, tp_err *err);
/*
 * Writes kc as pretty JSON to a new file with mode 0600 (temp file, fsync,
 * link into place, fsync dir); -TP_EEXISTS if path exists (never overwrites).
 */
int tp_keyfile_save_new(const char *path, const tp_key_config *kc, tp_err *err);
/* Random key + tp_key_config_create + tp_keyfile_save_new; fp receives the fingerprint. */
int tp_keyfile_create(const char *path, int kdf, const char *passphrase, const char *hint,
		      uint8_t fp[32], tp_err *err);

/* Standard base64 with '=' padding.  encode: malloc'd NUL-terminated text (NULL on OOM). */
char *tp_base64_encode(const uint8_t *in, size_t n);
/* Strict decode (length multiple of 4, padding only at the end); -EINVAL or -ENOSPC. */
int tp_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *outlen);

#endif
