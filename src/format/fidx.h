/* Fixed index `.fidx` (image archives): reader, writer, in-memory encode/parse. */
#ifndef TAPIR_FORMAT_FIDX_H
#define TAPIR_FORMAT_FIDX_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/hash.h"

#define TP_INDEX_HEADER_SIZE 4096

/*
 * A parsed fixed index.  digests points into the caller's buffer
 * (tp_fidx_parse) or into a private read-only mapping (tp_fidx_open, released
 * by tp_fidx_close).  count = ceil(size / chunk_size); the last chunk may be
 * short.
 */
typedef struct tp_fidx {
	uint8_t uuid[16];
	int64_t ctime;
	uint8_t csum[32];        /* stored index_csum */
	uint64_t size;           /* logical image size */
	uint64_t chunk_size;     /* power of two */
	size_t count;
	const uint8_t *digests;  /* count * 32 bytes */
	void *map;
	size_t map_len;
} tp_fidx;

/*
 * Checks magic, chunk_size (non-zero power of
 * two) and the exact length 4096 + 32*count; -TP_EFORMAT naming `what`.
 */
int tp_fidx_parse(tp_fidx *x, const void *data, size_t len, const char *what, tp_err *err);
/* mmaps path read-only and parses it. */
int tp_fidx_open(tp_fidx *x, const char *path, tp_err *err);
void tp_fidx_close(tp_fidx *x);

static inline const uint8_t *tp_fidx_digest(const tp_fidx *x, size_t i) { return x->digests + 32 * i; }
/* Byte range [start, end) of chunk i; -ERANGE when i >= count. */
int tp_fidx_chunk_range(const tp_fidx *x, size_t i, uint64_t *start, uint64_t *end);
/* SHA-256 over all digests (-ENOMEM), and comparison with the stored csum (-TP_EFORMAT). */
int tp_fidx_compute_csum(const tp_fidx *x, uint8_t out[32]);
int tp_fidx_verify_csum(const tp_fidx *x, const char *what, tp_err *err);

/* Whole file in memory (out reset first); count must equal ceil(size/chunk_size). */
int tp_fidx_encode(const uint8_t uuid[16], int64_t ctime, uint64_t size, uint64_t chunk_size,
		   const uint8_t *digests, size_t count, tp_buf *out, tp_err *err);

/*
 * Sequential writer: creates `<name>.tmp_fidx` next to path (path's ".fidx"
 * replaced, or appended), takes the digests in order, and on close writes
 * the header with the csum, fsyncs, renames to path and fsyncs the
 * directory.  uuid is random.  size may be corrected with
 * tp_fidx_writer_set_size before close (streams of unknown length).
 */
typedef struct tp_fidx_writer {
	int fd;
	char *path, *tmp;
	uint8_t uuid[16];
	int64_t ctime;
	uint64_t size, chunk_size;
	size_t count;
	tp_sha256_ctx sha;
	tp_buf buf;             /* digests not yet written */
	uint64_t written;       /* digest bytes written to fd */
} tp_fidx_writer;

int tp_fidx_writer_create(tp_fidx_writer *w, const char *path, uint64_t size, uint64_t chunk_size,
			  int64_t ctime, tp_err *err);
int tp_fidx_writer_add(tp_fidx_writer *w, const uint8_t digest[32], tp_err *err);
void tp_fidx_writer_set_size(tp_fidx_writer *w, uint64_t size);
/* Fails (and removes the temp file) unless count == ceil(size/chunk_size). */
int tp_fidx_writer_close(tp_fidx_writer *w, uint8_t csum[32], uint64_t *size, tp_err *err);
/* Drops the temp file; safe after close or a failed create. */
void tp_fidx_writer_abort(tp_fidx_writer *w);

/*
 * Maps the index file at path read-only and private (*map, *len; release with
 * munmap) after checking it holds at least the header; `kind` ("fixed",
 * "dynamic") names it in the errors.  Shared with didx.
 */
int tp_index_map_file(const char *path, const char *kind, void **map, size_t *len, tp_err *err);
/* "x.fidx" -> "x.tmp_fidx", otherwise path + suffix (malloc'd; NULL on OOM).  Shared with didx. */
char *tp_index_tmp_path(const char *path, const char *ext, const char *tmp_ext);
/*
 * Finishes an index writer's temp file: writes the 4096-byte header at offset
 * 0, fsyncs, closes fd (always), renames tmp to path and fsyncs the directory.
 * Shared with didx.  The caller removes tmp on failure.
 */
int tp_index_publish(int fd, const uint8_t header[TP_INDEX_HEADER_SIZE], const char *tmp, const char *path,
		     tp_err *err);

#endif
