/* Dynamic index `.didx` (pxar archives): reader, writer, in-memory encode/parse. */
#ifndef TAPIR_FORMAT_DIDX_H
#define TAPIR_FORMAT_DIDX_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "crypto/hash.h"
#include "format/fidx.h"

#define TP_DIDX_ENTRY_SIZE 40

/*
 * A parsed dynamic index: count entries of (end u64 LE, digest[32]) where end
 * is the cumulative end offset of the chunk.  entries points into the
 * caller's buffer (tp_didx_parse) or a private mapping (tp_didx_open,
 * released by tp_didx_close).
 */
typedef struct tp_didx {
	uint8_t uuid[16];
	int64_t ctime;
	uint8_t csum[32];
	size_t count;
	const uint8_t *entries;
	void *map;
	size_t map_len;
} tp_didx;

/*
 * Checks magic, (len - 4096) % 40 == 0 and non-decreasing end offsets;
 * -TP_EFORMAT naming `what` and the entry.
 */
int tp_didx_parse(tp_didx *x, const void *data, size_t len, const char *what, tp_err *err);
int tp_didx_open(tp_didx *x, const char *path, tp_err *err);
void tp_didx_close(tp_didx *x);

static inline uint64_t tp_didx_end(const tp_didx *x, size_t i) { return tp_le64(x->entries + 40 * i); }
static inline const uint8_t *tp_didx_digest(const tp_didx *x, size_t i) { return x->entries + 40 * i + 8; }
/* Logical archive size: the last end offset, 0 when empty. */
static inline uint64_t tp_didx_size(const tp_didx *x) { return x->count ? tp_didx_end(x, x->count - 1) : 0; }
/* [start, end) of chunk i; -ERANGE when i >= count. */
int tp_didx_chunk_range(const tp_didx *x, size_t i, uint64_t *start, uint64_t *end);
/* Index of the chunk holding byte offset (binary search); -ERANGE past the end. */
int tp_didx_find(const tp_didx *x, uint64_t offset, size_t *index);
/* SHA-256 over all entries (end LE || digest), and comparison with the stored csum. */
int tp_didx_compute_csum(const tp_didx *x, uint8_t out[32]);
int tp_didx_verify_csum(const tp_didx *x, const char *what, tp_err *err);

/* Whole file in memory (out reset first); ends must be non-decreasing. */
int tp_didx_encode(const uint8_t uuid[16], int64_t ctime, const uint64_t *ends,
		   const uint8_t *digests, size_t count, tp_buf *out, tp_err *err);

/*
 * Writer: `<name>.tmp_didx` next to path, entries appended in order, on close
 * the header with the csum, fsync, rename to path, fsync of the directory.
 */
typedef struct tp_didx_writer {
	int fd;
	char *path, *tmp;
	uint8_t uuid[16];
	int64_t ctime;
	size_t count;
	uint64_t last_end;
	tp_sha256_ctx sha;
	tp_buf buf;
} tp_didx_writer;

int tp_didx_writer_create(tp_didx_writer *w, const char *path, int64_t ctime, tp_err *err);
/* end is the cumulative end offset; -EINVAL when it is below the previous one. */
int tp_didx_writer_add(tp_didx_writer *w, uint64_t end, const uint8_t digest[32], tp_err *err);
int tp_didx_writer_close(tp_didx_writer *w, uint8_t csum[32], uint64_t *size, tp_err *err);
void tp_didx_writer_abort(tp_didx_writer *w);

#endif
