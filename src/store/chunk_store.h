/* Chunk store: `.chunks/<first 4 hex digits>/<digest>` blob files, deduplicated by digest. */
#ifndef TAPIR_STORE_CHUNK_STORE_H
#define TAPIR_STORE_CHUNK_STORE_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/lock.h"

typedef struct tp_chunk_store {
	char *base;          /* datastore base directory (owned) */
	int chunks_fd;       /* fd of base/.chunks */
	pthread_mutex_t mu;  /* serialises the insert decision, as PBS does */
	tp_lock process_lock; /* shared or exclusive fcntl lock on base/.lock */
	int64_t lock_time;   /* when the shared lock was taken (GC atime rule) */
	/* flush-behind (tp_chunk_store_flush_behind), under mu */
	uint64_t flush_every, unflushed, flushes; /* flushes: background syncs done */
	int flusher;         /* 0 none, 1 idle, 2 asked to sync or syncing, 3 asked to stop */
	pthread_t flusher_th;
	pthread_cond_t flush_cv;
} tp_chunk_store;

/* Creates base/.chunks with its 65536 sub-directories and base/.lock. */
int tp_chunk_store_create(const char *base, tp_err *err);
/* Opens an existing store (checks .chunks exists); no lock is taken yet. */
int tp_chunk_store_open(tp_chunk_store *cs, const char *base, tp_err *err);
void tp_chunk_store_close(tp_chunk_store *cs);

/* Shared lock for writers/readers/restore; exclusive for GC (see docs). */
int tp_chunk_store_lock(tp_chunk_store *cs, int exclusive, int timeout_ms, tp_err *err);

/* Relative path ".chunks/<4 hex>/<hex>" and the path below the store's .chunks fd ("<4 hex>/<hex>"). */
void tp_chunk_rel_path(const uint8_t digest[32], char out[80]);
void tp_chunk_sub_path(const uint8_t digest[32], char out[72]);

/*
 * Inserts blob bytes as the chunk `digest` following PBS's rules: an existing
 * file of the same size is a duplicate (atime touched, *dup = 1); a 0-byte
 * file is overwritten; encrypted over unencrypted is an error; differing
 * sizes keep the smaller (unencrypted) or the existing (encrypted, some
 * compressed) one.  New files are written to a temp name and renamed.
 */
int tp_chunk_store_insert(tp_chunk_store *cs, const uint8_t digest[32], const void *blob,
			  size_t len, int *dup, tp_err *err);

/* 1 if the chunk exists (and touches its atime, PBS cond_touch_chunk), 0 if not, <0 error. */
int tp_chunk_store_touch(tp_chunk_store *cs, const uint8_t digest[32], tp_err *err);
/* 1 if present without touching; 0 if not. */
int tp_chunk_store_exists(tp_chunk_store *cs, const uint8_t digest[32]);
/* Reads the chunk file into out (appends); -TP_ENOTFOUND when missing. */
int tp_chunk_store_read(tp_chunk_store *cs, const uint8_t digest[32], tp_buf *out, tp_err *err);
/* Renames a corrupt chunk to <hex>.<n>.bad (as PBS verify does). */
int tp_chunk_store_mark_bad(tp_chunk_store *cs, const uint8_t digest[32], tp_err *err);
/* Flushes everything written to the store's file system (syncfs). */
int tp_chunk_store_sync(tp_chunk_store *cs, tp_err *err);
/*
 * From now on a thread of the store syncs its file system in the background
 * whenever `every` bytes of new chunk files were written since the last
 * such sync began (no new sync while one runs).  For bulk writers (tape
 * restore) that end with tp_chunk_store_sync: the device writes while they
 * stream, and the final sync waits for the tail only.  Background errors
 * are ignored; the final sync reports.  Stopped by tp_chunk_store_close.
 */
int tp_chunk_store_flush_behind(tp_chunk_store *cs, uint64_t every, tp_err *err);

/*
 * Calls fn for every chunk file (digest, size, atime) in .chunks; used by GC
 * and benchmarks.  A non-zero return of fn stops the walk and is returned.
 */
typedef int (*tp_chunk_iter_fn)(void *ctx, const uint8_t digest[32], uint64_t size, int64_t atime,
				int sub_fd, const char *name);
int tp_chunk_store_foreach(tp_chunk_store *cs, tp_chunk_iter_fn fn, void *ctx, tp_err *err);

#endif
