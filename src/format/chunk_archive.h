/* Chunk archive tape files: {"store"} header, then (48-byte entry header + raw blob) per chunk. */
#ifndef TAPIR_FORMAT_CHUNK_ARCHIVE_H
#define TAPIR_FORMAT_CHUNK_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/content_header.h"
#include "format/tape_block.h"

#define TP_CHUNK_ENTRY_HEADER_SIZE 48u
/* PBS closes an archive once more than this many bytes (whole blocks) are written. */
#define TP_CHUNK_ARCHIVE_MAX_SIZE (4ull * 1024 * 1024 * 1024)
/* Largest blob accepted in an entry: PBS MAX_BLOB_SIZE (128 MiB) plus the encrypted blob header. */
#define TP_CHUNK_ARCHIVE_MAX_BLOB (128u * 1024 * 1024 + 44u)
/* Datastore names in the header (the .log stores them with a u8 length). */
#define TP_ARCHIVE_STORE_MAX 255

/* Packs / unpacks an entry header (magic, digest, u64 LE size). */
void tp_chunk_entry_header_encode(uint8_t out[TP_CHUNK_ENTRY_HEADER_SIZE], const uint8_t digest[32],
				  uint64_t size);
/* The header-data JSON (declaration order): {"store": name}.  Caller frees. */
char *tp_chunk_archive_header_json(const char *store);
/* Extracts the store name (1..255 bytes) from parsed header-data. */
int tp_chunk_archive_header_parse(const json_t *j, char store[TP_ARCHIVE_STORE_MAX + 1], tp_err *err);

/*
 * Checks the blob layout of a chunk file: known blob magic, minimum size
 * (12 plain, 44 encrypted) and the CRC-32 (LE at offset 8) over everything
 * after the header.  -TP_EFORMAT / -TP_ECRC naming the digest.
 */
int tp_chunk_blob_check(const uint8_t digest[32], const uint8_t *blob, size_t len, tp_err *err);

/*
 * Writer.  Rules as PBS (close_on_leom): the blob is written in slices of at
 * most 1 MiB; when LEOM is reported after a slice the stream is finished at
 * once (without INCOMPLETE), and the chunk counts only if all its bytes were
 * written.  A chunk that did not make it is not in the archive and must go
 * to the next tape.
 */
typedef struct tp_chunk_archive_writer {
	tp_block_writer bw;
	uint8_t uuid[16];        /* content uuid */
	uint64_t max_size;       /* close threshold; TP_CHUNK_ARCHIVE_MAX_SIZE by default */
	uint64_t chunks;         /* complete chunks written */
	int closed;              /* finished (on LEOM or by finish) */
	int closed_on_leom;
} tp_chunk_archive_writer;

/*
 * Starts the tape file: content header (Chunk Archive v1.1, uuid = *uuid or
 * random if all-zero or NULL, ctime) and the JSON.  LEOM during the header
 * is recorded (sticky) but not acted on, as in PBS.
 */
int tp_chunk_archive_writer_open(tp_chunk_archive_writer *w, const tp_tape_io *io, const char *store,
				 const uint8_t *uuid, int64_t ctime, tp_err *err);
/*
 * Appends one chunk (the raw chunk file bytes).  Returns 1 when the chunk is
 * completely in the archive (register it; *entry_offset = stream offset of
 * its entry header), 0 when it is not (the archive is closed on LEOM: write
 * it on the next tape), or a negative error.
 */
int tp_chunk_archive_writer_add(tp_chunk_archive_writer *w, const uint8_t digest[32], const uint8_t *blob,
				size_t len, uint64_t *entry_offset, tp_err *err);
/* 1 when the caller should stop adding: closed on LEOM, or more than max_size bytes written. */
int tp_chunk_archive_writer_full(const tp_chunk_archive_writer *w);
/* LEOM seen (sticky). */
static inline int tp_chunk_archive_writer_leom(const tp_chunk_archive_writer *w) { return w->bw.leom; }
/* Whole blocks written (PBS bytes_written / 256 KiB). */
static inline uint64_t tp_chunk_archive_writer_bytes_written(const tp_chunk_archive_writer *w)
{
	return tp_block_writer_bytes_written(&w->bw);
}
/* Ends the stream (END_OF_STREAM + filemark) unless it was closed on LEOM already. */
int tp_chunk_archive_writer_finish(tp_chunk_archive_writer *w, tp_err *err);
/* Ends without end marker (job aborted), then frees. */
void tp_chunk_archive_writer_abort(tp_chunk_archive_writer *w);
void tp_chunk_archive_writer_free(tp_chunk_archive_writer *w);

/* One decoded entry; blob points into the decoder (valid until the next call). */
typedef struct tp_chunk_entry {
	uint8_t digest[32];
	uint64_t offset;         /* stream offset of the entry header */
	const uint8_t *blob;
	size_t size;
} tp_chunk_entry;

/*
 * Decoder over a block reader positioned at an entry header (right after the
 * header-data, or at any entry offset after tp_block_reader_discard).  It
 * borrows r.
 */
typedef struct tp_chunk_archive_reader {
	tp_block_reader *r;
	tp_buf blob;
	int done;
	int truncated;           /* the last chunk was cut (EOF inside it or inside its header) */
	int failed;              /* a fatal error: next() keeps failing */
	int have_magic;          /* resync consumed the next entry's magic */
} tp_chunk_archive_reader;

void tp_chunk_archive_reader_init(tp_chunk_archive_reader *cr, tp_block_reader *r);
/*
 * Next entry: 1 with *e filled, 0 at the end (clean, or the last chunk
 * truncated: cr->truncated), or a negative error.  -TP_ECRC / -TP_EFORMAT for
 * a blob that fails tp_chunk_blob_check is not fatal: e holds the entry (its
 * digest and offset), the caller may skip it and call next again.  A wrong
 * entry magic, an oversized entry or a stream error is fatal.
 */
int tp_chunk_archive_reader_next(tp_chunk_archive_reader *cr, tp_chunk_entry *e, tp_err *err);
/*
 * Swaps the reader's blob buffer with *buf: afterwards buf holds the blob of
 * the entry next() just returned (buf->len = e->size, e->blob points into
 * it) and the reader reads the next entry into buf's former memory, if any
 * (its contents dropped).  So a blob goes to another thread without a copy,
 * and that thread can hand back a buffer whose pages are mapped already.
 */
void tp_chunk_archive_reader_swap_blob(tp_chunk_archive_reader *cr, tp_buf *buf);
/*
 * Resynchronises on a stream that starts in the middle of an entry (the
 * blocks after a medium error): skips bytes up to the next entry magic, so
 * that next() returns that entry.  1 when found, 0 at the end of the stream
 * first, or a negative stream error.  A magic inside chunk data is possible
 * but its "entry" then fails the blob check like any damaged entry.
 */
int tp_chunk_archive_reader_resync(tp_chunk_archive_reader *cr, tp_err *err);
void tp_chunk_archive_reader_free(tp_chunk_archive_reader *cr);

#endif
