/* PBS DataBlob: the container of chunks and *.blob files (CRC, zstd, AES-256-GCM). */
#ifndef TAPIR_FORMAT_BLOB_H
#define TAPIR_FORMAT_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/crypt_config.h"

#define TP_BLOB_HEADER_LEN 12        /* magic + crc32 */
#define TP_BLOB_ENCR_HEADER_LEN 44   /* magic + crc32 + iv[16] + tag[16] */
#define TP_BLOB_MAX_SIZE (128u << 20) /* PBS MAX_BLOB_SIZE: bound for any decoded blob */
#define TP_CHUNK_MAX_SIZE (16u << 20) /* largest chunk the chunkers produce */

/* Values follow the magic order in PBS's file_formats.rs. */
enum tp_blob_kind {
	TP_BLOB_PLAIN = 0,
	TP_BLOB_ZSTD = 1,
	TP_BLOB_ENCR = 2,
	TP_BLOB_ZSTD_ENCR = 3,
};

static inline int tp_blob_kind_encrypted(int kind) { return kind == TP_BLOB_ENCR || kind == TP_BLOB_ZSTD_ENCR; }
static inline int tp_blob_kind_compressed(int kind) { return kind == TP_BLOB_ZSTD || kind == TP_BLOB_ZSTD_ENCR; }
static inline size_t tp_blob_header_len(int kind)
{
	return tp_blob_kind_encrypted(kind) ? TP_BLOB_ENCR_HEADER_LEN : TP_BLOB_HEADER_LEN;
}
/* "plain", "zstd", "encrypted", "zstd+encrypted". */
const char *tp_blob_kind_name(int kind);

/*
 * Kind from the first 8 bytes (no CRC check).  -TP_EFORMAT for fewer than 8
 * bytes or an unknown magic; `what` names the blob in the message.
 */
int tp_blob_kind_of(const void *blob, size_t len, const char *what, tp_err *err);

/*
 * Encodes data (at most TP_BLOB_MAX_SIZE bytes) into out (reset first).  With
 * compress, zstd level 1 output is kept only when smaller than data.  With a
 * crypt config the (compressed) payload is encrypted with a random IV.
 */
int tp_blob_encode(const void *data, size_t len, const tp_crypt_config *cc, int compress,
		   tp_buf *out, tp_err *err);

/* The chunk digest of plaintext: SHA-256(data), or SHA-256(data || id_key) with cc. */
int tp_blob_digest(const tp_crypt_config *cc, const void *data, size_t len, uint8_t out[32],
		   tp_err *err);

/* tp_blob_encode plus tp_blob_digest: what a backup writer needs per chunk. */
int tp_blob_encode_chunk(const void *data, size_t len, const tp_crypt_config *cc, int compress,
			 tp_buf *out, uint8_t digest[32], tp_err *err);

/*
 * tp_blob_encode with a caller-owned zstd compression context (a ZSTD_CCtx *,
 * reused across calls by one thread): an unencrypted blob is compressed
 * straight into out, without a scratch buffer or a copy.  Same bytes as
 * tp_blob_encode.
 */
int tp_blob_encode_cctx(void *zstd_cctx, const void *data, size_t len, const tp_crypt_config *cc,
			int compress, tp_buf *out, tp_err *err);

/* Stored CRC (LE at offset 8) and the CRC-32 over everything after the header. */
uint32_t tp_blob_stored_crc(const void *blob);
uint32_t tp_blob_compute_crc(const void *blob, size_t len, int kind);

/*
 * What tape backup does with a chunk: magic, minimum size for the kind, CRC.
 * Returns the kind (>= 0).  Errors: -TP_EFORMAT (wrong magic, truncated),
 * -TP_ECRC "blob <what>: CRC mismatch (stored X, computed Y)".
 */
int tp_blob_check(const void *blob, size_t len, const char *what, tp_err *err);

/* Reads a blob file (at most max bytes) into out (appended) and tp_blob_check()s it. */
int tp_blob_load(const char *path, size_t max, tp_buf *out, tp_err *err);

/*
 * Full decode: check, decrypt (cc required for encrypted kinds, -TP_EKEY
 * "encrypted, no key given" / "wrong key"), decompress (any valid zstd
 * frames, output bounded by max_out, e.g. TP_CHUNK_MAX_SIZE for chunks or
 * TP_BLOB_MAX_SIZE for blob files; larger values count as TP_BLOB_MAX_SIZE)
 * into out (reset first).  With a non-NULL
 * expect_digest the plaintext digest is checked (-TP_EDIGEST): SHA-256 for
 * unencrypted kinds, SHA-256(plaintext || id_key) for encrypted ones.
 */
int tp_blob_decode(const void *blob, size_t len, const tp_crypt_config *cc, size_t max_out,
		   const uint8_t *expect_digest, const char *what, tp_buf *out, tp_err *err);

/*
 * Restore's check of an unencrypted blob whose CRC the caller has verified
 * already (tp_blob_check, tp_chunk_blob_check): decompresses a zstd payload
 * (output bounded by max_out as in tp_blob_decode) into scratch (reused
 * between calls, its contents are undefined afterwards) and compares the
 * SHA-256 of the plain data with digest; a plain payload is hashed where it
 * lies, without a copy.  The CRC is not computed again.  Returns the kind.
 * Errors: -TP_EFORMAT (magic, truncated, zstd), -TP_EKEY for encrypted kinds
 * (their digest needs the key: use tp_blob_decode), -TP_EDIGEST.
 */
int tp_blob_verify_digest(const void *blob, size_t len, size_t max_out, const uint8_t digest[32],
			  const char *what, tp_buf *scratch, tp_err *err);

#endif
