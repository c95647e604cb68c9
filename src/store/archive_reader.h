/* Sequential reader of a snapshot archive (.fidx/.didx): chunks decoded and verified in order. */
#ifndef TAPIR_STORE_ARCHIVE_READER_H
#define TAPIR_STORE_ARCHIVE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/crypt_config.h"
#include "format/didx.h"
#include "format/fidx.h"
#include "store/chunk_store.h"

typedef struct tp_archive_reader {
	tp_chunk_store *cs;
	const tp_crypt_config *cc;  /* NULL for unencrypted archives */
	int fixed;
	tp_fidx fidx;
	tp_didx didx;
	size_t count;               /* chunks */
	size_t next;                /* next chunk to load */
	uint64_t size;              /* logical size */
	uint64_t pos;               /* logical offset of the next byte returned */
	tp_buf raw, plain;          /* current chunk: file bytes and decoded data */
	size_t plain_off;           /* bytes of plain already returned */
	char *what;                 /* archive path for messages */
} tp_archive_reader;

/*
 * Opens an index file (kind from the extension: .fidx or .didx) of a snapshot
 * whose chunks live in cs.  Every chunk is CRC-checked, decrypted with cc when
 * encrypted (-TP_EKEY without a key), decompressed and its digest verified.
 */
int tp_archive_reader_open(tp_archive_reader *r, tp_chunk_store *cs, const char *index_path,
			   const tp_crypt_config *cc, tp_err *err);
/* Reads up to len bytes; returns bytes read, 0 at the end, negative on error. */
long tp_archive_reader_read(tp_archive_reader *r, void *buf, size_t len, tp_err *err);
/* A read callback of the shape pxar's decoder takes (ctx = the reader). */
long tp_archive_reader_read_cb(void *ctx, void *buf, size_t len, tp_err *err);
/* Reads the whole archive into out (bounded by max bytes). */
int tp_archive_reader_read_all(tp_archive_reader *r, tp_buf *out, size_t max, tp_err *err);
void tp_archive_reader_close(tp_archive_reader *r);

/* Digest i and the chunk count of an open reader (verify, GC, tape backup). */
const uint8_t *tp_archive_reader_digest(const tp_archive_reader *r, size_t i);

#endif
