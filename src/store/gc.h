/* Garbage collection of a datastore's chunk store: PBS's mark (atime touch) and sweep (atime cutoff). */
#ifndef TAPIR_STORE_GC_H
#define TAPIR_STORE_GC_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "store/datastore.h"

/* PBS keeps every chunk used within 24 h (relatime) and adds a 5-minute safety gap. */
#define TP_GC_MIN_AGE (24 * 3600)
#define TP_GC_SAFETY_GAP 300
/*
 * A staging directory (.tmp/<name>) that no running writer owns is removed
 * once it has not been modified for this long (its writer crashed).  Backups
 * hold an exclusive flock on their `backup-*` staging directory; other
 * entries (tape restores) count as owned while any other process holds the
 * chunk store lock.  The grace covers the moment between a writer creating
 * its directory and locking it.
 */
#define TP_GC_STAGING_GRACE 3600
#define TP_GC_LOCKED_STAGING_PREFIX "backup-"

typedef struct tp_gc_opts {
	int dry_run;               /* mark and count only: nothing is removed, no .gc-status written */
} tp_gc_opts;

typedef struct tp_gc_stats {
	int64_t start;             /* wall clock when the mark phase began */
	int64_t oldest_writer;     /* start, or the oldest running writer's staging directory */
	int64_t min_atime;         /* sweep cutoff: files with an older atime are removed */
	uint64_t index_files;      /* index files read (snapshots and running writers' staging) */
	uint64_t index_data_bytes; /* logical bytes those indexes describe */
	uint64_t staging_active;   /* .tmp entries of running writers (marked) */
	uint64_t staging_stale;    /* .tmp entries left by writers that are gone (not marked) */
	uint64_t staging_removed;  /* of those, removed (older than TP_GC_STAGING_GRACE; counted in dry runs too) */
	uint64_t referenced_chunks;/* distinct chunks referenced by some index */
	uint64_t missing_chunks;   /* referenced but absent from .chunks */
	uint64_t disk_chunks, disk_bytes;       /* kept: used or younger than the start */
	uint64_t removed_chunks, removed_bytes; /* removed (including .bad and temp files) */
	uint64_t pending_chunks, pending_bytes; /* unused, but too young to remove yet */
	uint64_t removed_bad, still_bad;        /* <digest>.<n>.bad files */
	uint64_t removed_tmp;                   /* stale <digest>.tmp_* chunk temp files */
} tp_gc_stats;

/* Sweep cutoff of PBS: min(start - 24 h, oldest_writer) - 5 min. */
int64_t tp_gc_cutoff(int64_t start, int64_t oldest_writer);

/*
 * Runs garbage collection on ds.  Takes the chunk store lock shared (backups,
 * restores and verifies keep running) and an exclusive flock on .chunks (one
 * GC at a time; a second fails with -TP_ELOCKED).  Mark: every .fidx/.didx
 * below the datastore (every namespace, finished or not) and, when another
 * process holds the chunk store lock, every index in the .tmp staging
 * directories, touch the atime of each chunk they reference (and of the .bad
 * copies of missing ones).  Staging directories no writer owns are not marked
 * and, once older than TP_GC_STAGING_GRACE, removed (each one is logged).
 * Sweep: chunk, .bad and stale temp files older than
 * tp_gc_cutoff() are removed.  An unreadable index aborts GC before anything
 * is removed (err names the file).  Writes <base>/.gc-status (PBS keys).
 */
int tp_gc_run(tp_datastore *ds, const tp_gc_opts *o, tp_gc_stats *st, tp_err *err);

/* The statistics as PBS's GC status object plus tapir's extra counters (new reference). */
json_t *tp_gc_stats_json(const tp_gc_stats *st);

#endif
