/* Content-defined (PBS buzhash) and fixed-size chunkers, plus a buffering chunk stream. */
#ifndef TAPIR_STORE_CHUNKER_H
#define TAPIR_STORE_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define TP_CHUNKER_WINDOW 64
#define TP_CHUNK_SIZE_DEFAULT (4u << 20)
#define TP_CHUNK_SIZE_MIN_ALLOWED (64u << 10)  /* PBS verify_chunk_size: 64 KiB ... 4 MiB, powers of two */
#define TP_CHUNK_SIZE_MAX_ALLOWED (4u << 20)

/* PBS's BUZHASH_TABLE (pxar-format.md section 7.2). */
extern const uint32_t tp_buzhash_table[256];

/*
 * Buzhash CDC exactly as PBS pbs-datastore/src/chunker.rs: 64-byte window,
 * min = avg/4, max = avg*4, cut when (h & (2avg-1)) >= 2avg-3 once min bytes
 * are in the chunk, always at max.  Plain state, no allocation.
 */
typedef struct tp_chunker {
	uint32_t h;
	size_t chunk_size;   /* bytes consumed into the current chunk */
	size_t window_size;  /* 0..64 */
	size_t min, max;
	uint32_t mask, threshold;
	uint8_t window[TP_CHUNKER_WINDOW];
} tp_chunker;

/* avg must be a power of two in [64 KiB, 4 MiB]; -EINVAL otherwise. */
int tp_chunker_init(tp_chunker *c, size_t avg, tp_err *err);
/*
 * Feeds data.  Returns the 1-based position just after the cut byte (the
 * current chunk ends at data[ret-1]; the state is reset, so call again with
 * the rest), or 0 when no cut happens in data (all of it was absorbed).
 * The cuts depend only on the byte stream, not on how it is split.
 */
size_t tp_chunker_scan(tp_chunker *c, const void *data, size_t len);
/* Forgets the current chunk (start of a new stream). */
void tp_chunker_reset(tp_chunker *c);

/* Fixed-size chunks for images: same scan contract, cuts every chunk_size bytes. */
typedef struct tp_fixed_chunker {
	size_t chunk_size;
	size_t pos; /* bytes in the current chunk */
} tp_fixed_chunker;

/* chunk_size must be a power of two in [64 KiB, 4 MiB]; -EINVAL otherwise. */
int tp_fixed_chunker_init(tp_fixed_chunker *c, size_t chunk_size, tp_err *err);
size_t tp_fixed_chunker_scan(tp_fixed_chunker *c, size_t len);

/*
 * Scans a chunk held contiguously: chunk[0..len) are all bytes of the current
 * chunk so far (len only grows between calls), of which c->chunk_size were
 * scanned before.  Same cuts as tp_chunker_scan, but it needs no window copy
 * and skips hashing the first min-64 bytes (the hash depends only on the last
 * 64).  Returns the cut (chunk length) with the state reset, or 0.  Do not mix
 * with tp_chunker_scan on one chunk.
 */
size_t tp_chunker_scan_chunk(tp_chunker *c, const uint8_t *chunk, size_t len);

/*
 * Where a chunk stream's buffers come from and where finished chunks go.
 * Every buffer holds `cap` bytes (the largest possible chunk).
 */
typedef struct tp_chunk_stream_ops {
	/* Stores a buffer of cap bytes in *buf; may block. */
	int (*get)(void *ctx, size_t cap, uint8_t **buf, tp_err *err);
	/* A finished chunk buf[0..len); ownership of buf passes to the callee, also on error. */
	int (*chunk)(void *ctx, uint8_t *buf, size_t len, tp_err *err);
	/* Takes back a buffer that holds no chunk. */
	void (*put)(void *ctx, uint8_t *buf);
} tp_chunk_stream_ops;

/*
 * Chunk stream (PBS ChunkStream): bytes go straight into the current chunk's
 * buffer, either copied by push or written in place by the caller (space,
 * then commit); each finished chunk is handed over once, without a copy
 * (only the bytes after a cut move to the next buffer).  At finish the
 * remainder (any size > 0) is the last chunk; an empty stream gives none.
 * A negative return of ops->chunk stops the stream and is returned.
 */
typedef struct tp_chunk_stream {
	int fixed;
	tp_chunker cdc;
	size_t cap;               /* largest chunk: max (buzhash) or the fixed size */
	uint8_t *cur;             /* current chunk's buffer (NULL until first needed) */
	size_t len;               /* bytes in cur */
	const tp_chunk_stream_ops *ops;
	void *ctx;
	uint64_t offset;          /* bytes emitted so far */
	uint64_t chunks;          /* chunks emitted so far */
} tp_chunk_stream;

/* fixed = 0: buzhash with average size `size`; fixed = 1: fixed chunks of `size`. */
int tp_chunk_stream_init(tp_chunk_stream *s, int fixed, size_t size, const tp_chunk_stream_ops *ops, void *ctx,
			 tp_err *err);
/*
 * Free space in the current chunk's buffer (at least 1 byte): write up to
 * *avail bytes at *space, then call commit with the count.
 */
int tp_chunk_stream_space(tp_chunk_stream *s, uint8_t **space, size_t *avail, tp_err *err);
int tp_chunk_stream_commit(tp_chunk_stream *s, size_t n, tp_err *err);
/* Copies data in (no copy when data is the pointer space returned, i.e. written in place). */
int tp_chunk_stream_push(tp_chunk_stream *s, const void *data, size_t len, tp_err *err);
int tp_chunk_stream_finish(tp_chunk_stream *s, tp_err *err);
/* Gives the current buffer back (ops->put). */
void tp_chunk_stream_free(tp_chunk_stream *s);

#endif
