/* Snapshot manifest `index.json.blob`: build, sign, encode, parse, verify. */
#ifndef TAPIR_FORMAT_MANIFEST_H
#define TAPIR_FORMAT_MANIFEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/crypt_config.h"

#define TP_MANIFEST_NAME "index.json.blob"
#define TP_MANIFEST_ID_MAX 128        /* same bound as the datastore's backup ids */
#define TP_MANIFEST_FILENAME_MAX 255
#define TP_MANIFEST_MAX_FILES 65536

enum tp_crypt_mode {
	TP_CRYPT_MODE_NONE = 0,
	TP_CRYPT_MODE_ENCRYPT = 1,
	TP_CRYPT_MODE_SIGN_ONLY = 2,
};

/* "none", "encrypt", "sign-only"; parse returns the mode or -EINVAL. */
const char *tp_crypt_mode_name(int mode);
int tp_crypt_mode_parse(const char *s);

typedef struct tp_manifest_file {
	char filename[TP_MANIFEST_FILENAME_MAX + 1];
	int crypt_mode;        /* enum tp_crypt_mode */
	uint64_t size;         /* index: logical archive size; blob: file length */
	uint8_t csum[32];      /* index: index_csum; blob: SHA-256 of the file */
} tp_manifest_file;

/*
 * A manifest.  unprotected is an owned JSON object (never NULL after init or
 * parse) that callers may edit with jansson (notes, verify_state, ...); it is
 * not covered by the signature.  raw is the JSON a manifest was parsed from
 * (signature checks cover every signed key in it, known or not); NULL for a
 * manifest built with init/add_file.
 */
typedef struct tp_manifest {
	char backup_type[8];
	char backup_id[TP_MANIFEST_ID_MAX + 1];
	int64_t backup_time;
	tp_manifest_file *files;
	size_t nfiles, cap;
	json_t *unprotected;
	int has_signature;
	uint8_t signature[32];
	json_t *raw;
} tp_manifest;

/* type vm|ct|host, id [A-Za-z0-9_][A-Za-z0-9._-]* (1-128 chars); -EINVAL otherwise. */
int tp_manifest_init(tp_manifest *m, const char *type, const char *id, int64_t time, tp_err *err);
void tp_manifest_free(tp_manifest *m);

/*
 * Appends a file.  filename must be a plain name ending in .fidx, .didx or
 * .blob (no '/', no control characters, at most 255 bytes, not already
 * listed); crypt_mode is "none", "encrypt" or "sign-only".
 */
int tp_manifest_add_file(tp_manifest *m, const char *filename, const char *crypt_mode,
			 uint64_t size, const uint8_t csum[32], tp_err *err);
const tp_manifest_file *tp_manifest_find(const tp_manifest *m, const char *filename);
/* 0 if the name is acceptable as a manifest file name, -TP_EFORMAT (naming it) if not. */
int tp_manifest_check_filename(const char *name, tp_err *err);

/*
 * JSON text as PBS writes it: pretty (2-space indent), keys sorted, no
 * trailing newline; caller frees *out.  With cc the manifest is signed
 * (signature = hex HMAC) and unprotected["key-fingerprint"] set; without cc
 * a stored signature is kept as it is (valid: unprotected is not signed).
 */
int tp_manifest_to_json(tp_manifest *m, const tp_crypt_config *cc, char **out, tp_err *err);
/* The JSON text as a zstd-compressed, unencrypted blob (out reset first). */
int tp_manifest_encode_blob(tp_manifest *m, const tp_crypt_config *cc, tp_buf *out, tp_err *err);

/* Parses and validates JSON text into m (initialised here); -TP_EFORMAT naming `what`. */
int tp_manifest_parse(tp_manifest *m, const void *json, size_t len, const char *what, tp_err *err);
/* tp_blob_decode (unencrypted, at most TP_BLOB_MAX_SIZE) plus tp_manifest_parse. */
int tp_manifest_decode_blob(tp_manifest *m, const void *blob, size_t len, const char *what,
			    tp_err *err);

/*
 * With a key: if the manifest names a key-fingerprint that is not cc's,
 * -TP_EKEY "wrong key"; if it carries a signature that does not match,
 * -TP_EDIGEST.  An unsigned manifest, or cc == NULL, passes (as in PBS).
 */
int tp_manifest_verify(const tp_manifest *m, const tp_crypt_config *cc, tp_err *err);
/* 1 and fp filled when unprotected has a valid key-fingerprint, 0 when absent. */
int tp_manifest_key_fingerprint(const tp_manifest *m, uint8_t fp[32]);

/*
 * Canonical JSON as PBS signs it: objects with keys sorted bytewise, no
 * whitespace, strings escaped like serde_json (\" \\ \b \f \n \r \t, other
 * control characters \u00xx, everything else raw UTF-8), integers in
 * decimal.  null and non-integer numbers are refused (-EINVAL), as PBS
 * refuses null; the signed part of a manifest never holds either.
 */
int tp_canonical_json(const json_t *v, tp_buf *out, tp_err *err);
/* HMAC-SHA256(id_key, canonical(v without "unprotected" and "signature")). */
int tp_manifest_compute_signature(const json_t *v, const tp_crypt_config *cc, uint8_t out[32],
				  tp_err *err);

#endif
