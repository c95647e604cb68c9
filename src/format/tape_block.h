/* Tape block stream (PBS BlockedWriter/BlockedReader): 256 KiB blocks with a 16-byte header, plus an in-memory tape. */
#ifndef TAPIR_FORMAT_TAPE_BLOCK_H
#define TAPIR_FORMAT_TAPE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "format/tape_io.h"

/* Block header flags (byte 8). */
#define TP_TAPE_BLOCK_END_OF_STREAM 0x01u
#define TP_TAPE_BLOCK_INCOMPLETE 0x02u

/* Index of the block (inside its tape file) that holds stream byte `offset`. */
static inline uint64_t tp_tape_block_of(uint64_t offset) { return offset / TP_TAPE_BLOCK_PAYLOAD; }

/* Fills a 16-byte block header. */
void tp_tape_block_header_encode(uint8_t out[TP_TAPE_BLOCK_HEADER_SIZE], uint8_t flags, uint32_t size,
				 uint32_t seq_nr);

/*
 * Writes one tape file: the stream bytes cut into blocks of 262128 payload
 * bytes, seq_nr from 0, the last block flagged END_OF_STREAM (zero padded,
 * possibly empty), then one filemark.
 *
 * LEOM (early warning) from the drive is sticky and only recorded: writing
 * goes on and the caller decides (tp_block_writer_leom).  A write error
 * (e.g. -ENOSPC at the physical end) makes further writes fail; finish or
 * abort may still be tried.  Either finish or abort must end every stream
 * (abort = "dropped without finish": a filemark without end marker); free
 * only releases memory.
 */
typedef struct tp_block_writer {
	const tp_tape_io *io;
	uint8_t *block;          /* one whole block; payload at +16 (owned) */
	size_t used;             /* payload bytes in block */
	uint32_t seq_nr;         /* of the next block */
	uint64_t blocks;         /* blocks written to the tape */
	uint64_t offset;         /* stream bytes accepted so far */
	int leom;
	int failed;              /* a write returned an error */
	int closed;              /* finish or abort done */
} tp_block_writer;

/* Allocates the block buffer; nothing is written yet. */
int tp_block_writer_init(tp_block_writer *w, const tp_tape_io *io, tp_err *err);
/*
 * Appends len stream bytes.  Returns 0, or 1 when LEOM has been reached (now
 * or earlier; the data is written either way), or a negative error.
 */
int tp_block_writer_write(tp_block_writer *w, const void *data, size_t len, tp_err *err);
/* Writes the END_OF_STREAM block (| INCOMPLETE) and the filemark. */
int tp_block_writer_finish(tp_block_writer *w, int incomplete, tp_err *err);
/* Ends the file without end marker (buffered bytes are dropped): one filemark. */
int tp_block_writer_abort(tp_block_writer *w, tp_err *err);
void tp_block_writer_free(tp_block_writer *w);

static inline int tp_block_writer_leom(const tp_block_writer *w) { return w->leom; }
/* Whole blocks written so far (the final block counts once finished). */
static inline uint64_t tp_block_writer_blocks(const tp_block_writer *w) { return w->blocks; }
/* PBS bytes_written: whole 256 KiB blocks. */
static inline uint64_t tp_block_writer_bytes_written(const tp_block_writer *w)
{
	return w->blocks * TP_TAPE_BLOCK_SIZE;
}
/* Stream offset of the next byte written (its block is tp_tape_block_of()). */
static inline uint64_t tp_block_writer_offset(const tp_block_writer *w) { return w->offset; }

/* Results of tp_block_reader_open besides 0 (opened) and negative errors. */
enum {
	TP_BLOCK_OPEN_FILEMARK = 1, /* a filemark right away: empty file (position after it) */
	TP_BLOCK_OPEN_EOD = 2,      /* end of recorded data */
};

/*
 * Reads one tape file back, checking every block (in this order): a short
 * block, the magic, seq_nr, the size rules.  After the END_OF_STREAM block
 * the filemark is consumed at once ("block after end marker" / "unexpected
 * end of tape" otherwise).  A filemark without end marker is an error for
 * read ("stream without end marker"), tolerated by skip_data.  Any error
 * poisons the reader.
 */
typedef struct tp_block_reader {
	const tp_tape_io *io;
	uint8_t *block;          /* owned, TP_TAPE_BLOCK_SIZE */
	size_t pos, len;         /* unread payload window: block + 16 + [pos, len) */
	uint32_t seq_nr;         /* expected seq_nr of the next block */
	uint64_t start_offset;   /* stream offset of the first payload byte */
	uint64_t offset;         /* stream offset of the next byte returned */
	uint64_t blocks;         /* blocks read */
	int end_marker;          /* END_OF_STREAM seen */
	int incomplete;          /* ... with INCOMPLETE */
	int at_end;              /* file consumed (filemark read) */
	int poisoned;            /* negative code of the first error, 0 if none */
} tp_block_reader;

/*
 * Opens the reader at the current tape position and reads the first block.
 * first_seq is the seq_nr expected there: 0 at the start of a file, k after
 * a LOCATE to block k of a file, whose first payload byte is stream offset
 * k * 262128.  Returns 0, TP_BLOCK_OPEN_FILEMARK, TP_BLOCK_OPEN_EOD or a
 * negative error (the reader then needs no free, but free is harmless).
 */
int tp_block_reader_open(tp_block_reader *r, const tp_tape_io *io, uint32_t first_seq, tp_err *err);
void tp_block_reader_free(tp_block_reader *r);
/* Up to len bytes; 0 = end of stream; negative on error. */
long tp_block_reader_read(tp_block_reader *r, void *buf, size_t len, tp_err *err);
/* Reads until len bytes or end of stream; returns the count (< len only at the end). */
long tp_block_reader_read_full(tp_block_reader *r, void *buf, size_t len, tp_err *err);
/* Drops the next n bytes; -TP_EFORMAT when the stream ends first. */
int tp_block_reader_discard(tp_block_reader *r, uint64_t n, tp_err *err);
/*
 * Reads the rest of the file, tolerating a missing end marker.  Returns the
 * number of stream bytes skipped (>= 0) in *skipped, or a negative error.
 */
int tp_block_reader_skip_data(tp_block_reader *r, uint64_t *skipped, tp_err *err);
/* Valid only once the whole file was read; -EINVAL earlier. */
int tp_block_reader_is_incomplete(const tp_block_reader *r, int *out, tp_err *err);
int tp_block_reader_has_end_marker(const tp_block_reader *r, int *out, tp_err *err);
static inline uint64_t tp_block_reader_start_offset(const tp_block_reader *r) { return r->start_offset; }
static inline uint64_t tp_block_reader_offset(const tp_block_reader *r) { return r->offset; }

/*
 * In-memory tape for tests and fuzzing: a vector of blocks and filemarks with
 * one position.  Writing discards everything after the position (as a drive
 * does).  A block written at object index >= early_warning reports LEOM; a
 * block at index >= hard_end is refused with -ENOSPC (filemarks always fit).
 * Both default to "none" (SIZE_MAX).
 */
typedef struct tp_mem_tape_obj {
	uint8_t *data;   /* NULL for a filemark (owned) */
	size_t len;
} tp_mem_tape_obj;

typedef struct tp_mem_tape {
	tp_tape_io io;   /* ready to pass to the stream functions (ctx = this) */
	tp_mem_tape_obj *objs;
	size_t n, cap;
	size_t pos;      /* next object */
	size_t early_warning;
	size_t hard_end;
} tp_mem_tape;

void tp_mem_tape_init(tp_mem_tape *t);
void tp_mem_tape_free(tp_mem_tape *t);
static inline void tp_mem_tape_rewind(tp_mem_tape *t) { t->pos = 0; }
/* Positions at the start of file `file` (after that many filemarks); -ESPIPE if missing. */
int tp_mem_tape_seek_file(tp_mem_tape *t, uint64_t file);
/* Positions at block `block` of file `file` (LOCATE); -ESPIPE if beyond. */
int tp_mem_tape_seek_block(tp_mem_tape *t, uint64_t file, uint64_t block);
/* Number of filemarks on the tape. */
size_t tp_mem_tape_filemarks(const tp_mem_tape *t);
/*
 * Appends objects described by a compact script (fuzzers and tests), at most
 * 32 objects.  Per object one control byte c, by c & 3:
 *   0: a filemark;
 *   1: a raw block: u16 LE n, then n bytes as the whole block (short blocks);
 *   2: a well-formed 256 KiB block: flags byte, u16 LE n, n payload bytes;
 *      magic correct, size = n, seq_nr counting from 0 per file (+1 when
 *      c & 4, to make a gap);
 *   3: a 256 KiB block whose 16 header bytes come from the script, then
 *      u16 LE n and n payload bytes.
 * Missing script bytes read as zero.  Returns 0 or -ENOMEM.
 */
int tp_mem_tape_from_script(tp_mem_tape *t, const uint8_t *script, size_t len);

#endif
