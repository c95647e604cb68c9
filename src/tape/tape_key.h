/* Tape encryption keys as PBS keeps them: plain keys (root only) plus password-protected key configs. */
#ifndef TAPIR_TAPE_TAPE_KEY_H
#define TAPIR_TAPE_TAPE_KEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keyfile.h"
#include "tape/drive.h"

/*
 * Both files live below tp_config_path() (a 0700 directory), mode 0600, and
 * are replaced atomically while holding TP_TAPE_KEYS_LOCK:
 *   tape-encryption-keys.json        [{"fingerprint": "aa:..", "key": "<64 hex>"}]
 *   tape-encryption-key-config.json  [KeyConfig, ...] (each with fingerprint and hint)
 * A missing file is an empty list.
 */
#define TP_TAPE_KEYS_FILE "tape-encryption-keys.json"
#define TP_TAPE_KEY_CONFIG_FILE "tape-encryption-key-config.json"
#define TP_TAPE_KEYS_LOCK ".tape-encryption-keys.lck"
#define TP_TAPE_KEYS_MAX_SIZE (4u << 20)
/* The new passphrase of `tape key change-passphrase` (the old one is TP_KEY_PASSWORD_ENV). */
#define TP_NEW_KEY_PASSWORD_ENV "TAPIR_NEW_KEY_PASSWORD"
/* PBS derives the per-media-set drive key with this many PBKDF2 iterations. */
#define TP_TAPE_SET_KEY_ITERATIONS 10

/* What list/show report about one key (no secret material). */
typedef struct tp_tape_key_info {
	uint8_t fingerprint[32];
	int kdf;                  /* TP_KDF_* of the password-protected copy */
	int64_t created, modified;
	int has_hint;
	char hint[TP_KEYFILE_HINT_MAX + 1];
	int has_key;              /* the plain key is in tape-encryption-keys.json */
	int has_config;           /* the key config is in tape-encryption-key-config.json */
} tp_tape_key_info;

/*
 * Creates a random key, stores it and its key config (kdf TP_KDF_SCRYPT or
 * TP_KDF_PBKDF2 with a non-empty passphrase; TP_KDF_NONE stores the key
 * unprotected, for tests only).  hint may be NULL.  fp receives the fingerprint.
 */
int tp_tape_key_create(int kdf, const char *passphrase, const char *hint, uint8_t fp[32], tp_err *err);

/*
 * Every known key (present in either file), oldest first (created, then
 * fingerprint).  *out is malloc'd (caller frees), NULL when *n is 0.
 */
int tp_tape_key_list(tp_tape_key_info **out, size_t *n, tp_err *err);
/* One key; -TP_ENOTFOUND naming the fingerprint. */
int tp_tape_key_show(const uint8_t fp[32], tp_tape_key_info *info, tp_err *err);

/*
 * Re-encrypts the same key under new_pass: old_pass must open the stored
 * config (-TP_EKEY otherwise).  kdf < 0 keeps the current kdf (scrypt when
 * it was none); hint NULL keeps the current hint.  created is kept, modified
 * is now.
 */
int tp_tape_key_change_passphrase(const uint8_t fp[32], const char *old_pass, const char *new_pass, int kdf,
				  const char *hint, tp_err *err);

/*
 * Printable form of a key config: a framed text block holding the JSON
 * between "-----BEGIN PROXMOX BACKUP KEY-----" / "-----END ...-----" lines
 * (see docs/tape-encryption.md).  *text is malloc'd (caller frees).
 */
int tp_tape_key_paperkey_text(const json_t *kc, char **text, tp_err *err);
/* The paperkey of a stored key. */
int tp_tape_key_paperkey(const uint8_t fp[32], char **text, tp_err *err);

/*
 * Finds a key config in len bytes of text: a KeyConfig JSON object, a
 * media-set label JSON carrying "key-config", or a paperkey (framed or
 * not).  *kc is a new reference.  -TP_EFORMAT naming `what`.
 */
int tp_tape_key_config_parse(const void *data, size_t len, const char *what, json_t **kc, tp_err *err);

/*
 * Restores a key from its key config (e.g. a media-set label's "key-config"):
 * decrypts it with passphrase, recomputes the fingerprint from the key and
 * checks it against the config's own and against expect_fp (when not NULL,
 * e.g. the label's encryption_key_fingerprint); then stores both.  A key
 * whose config is already stored fails with -TP_EEXISTS.  fp may be NULL.
 */
int tp_tape_key_restore(const json_t *kc, const char *passphrase, const uint8_t *expect_fp, uint8_t fp[32],
			tp_err *err);

/*
 * Restores the key of the set of the tape loaded in drive d: rewinds, reads
 * the media label (file 0), positions at file 1 and reads the media-set
 * label, then tp_tape_key_restore with its key-config and fingerprint.
 * label (may be NULL, TP_DRIVE_LABEL_MAX + 1 bytes) receives the tape's label text.
 */
int tp_tape_key_restore_from_drive(tp_drive *d, const char *passphrase, uint8_t fp[32], char *label,
				   tp_err *err);

/*
 * Removes a key from both files.  Refuses with -EBUSY while a media pool
 * encrypts with it, unless force.  -TP_ENOTFOUND naming the fingerprint.
 */
int tp_tape_key_remove(const uint8_t fp[32], int force, tp_err *err);

/*
 * The plain key for fingerprint fp (checked against its fingerprint).
 * -TP_ENOTFOUND: "no tape encryption key with fingerprint X; restore it
 * with `tapir tape key restore`".
 */
int tp_tape_key_load(const uint8_t fp[32], uint8_t key[32], tp_err *err);
/* The stored key config of fp, for a media-set label's "key-config" (new reference). */
int tp_tape_key_config(const uint8_t fp[32], json_t **kc, tp_err *err);

/*
 * Per-media-set drive key (PBS sg_tape set_encryption): PBKDF2-HMAC-SHA256
 * with password = key, salt = the 16 raw set-uuid bytes, 10 iterations,
 * 32 bytes.  -EIO if the KDF fails.
 */
int tp_tape_media_set_key(const uint8_t key[32], const uint8_t set_uuid[16], uint8_t out[32]);
/* tp_tape_key_load + tp_tape_media_set_key: the key to give tp_drive_set_encryption. */
int tp_tape_key_drive_key(const uint8_t fp[32], const uint8_t set_uuid[16], uint8_t out[32], tp_err *err);

#endif
