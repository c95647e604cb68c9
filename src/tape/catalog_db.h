/* Tape catalog in SQLite: media sets, media, tape files, chunk and snapshot locations. */
#ifndef TAPIR_TAPE_CATALOG_DB_H
#define TAPIR_TAPE_CATALOG_DB_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * One database (tp_state_path("catalog.db")) for every tape.  Schema,
 * durability and semantics: docs/tape-catalog.md.  The handle is not
 * thread-safe; open one per thread.  Several processes may open the same
 * file (WAL: readers never block, one writer at a time, busy timeout 10 s).
 *
 * Writes happen inside tp_catalog_begin/commit (one transaction per tape
 * archive); a commit returns only when the rows are on stable storage
 * (WAL + synchronous=FULL).  Without begin, every add is its own durable
 * transaction (slow, but correct).  Closing with an open transaction rolls
 * it back.
 *
 * Lists are never loaded whole: iterators take a callback that returns 0 to
 * continue, > 0 to stop early (the iterator then returns 0), or a negative
 * code that the iterator returns.  A callback must not call the same
 * iterator recursively on the same handle; other calls are fine.
 */
typedef struct tp_catalog_db tp_catalog_db;

#define TP_CATALOG_STORE_MAX 255     /* the .log's u8 length */
#define TP_CATALOG_PATH_MAX 4096     /* snapshot path; the .log allows 65535 */

enum tp_tape_file_kind {
	TP_TAPE_FILE_LABEL = 0,
	TP_TAPE_FILE_SET_LABEL = 1,
	TP_TAPE_FILE_CHUNK_ARCHIVE = 2,
	TP_TAPE_FILE_SNAPSHOT_ARCHIVE = 3,
	TP_TAPE_FILE_CATALOG_ARCHIVE = 4,
};
const char *tp_tape_file_kind_name(enum tp_tape_file_kind k);

/* One file on a tape.  -1 in first_block / nblocks means unknown (imported). */
typedef struct tp_tape_file {
	uint8_t media[16];
	uint64_t file_nr;
	enum tp_tape_file_kind kind;
	int64_t first_block;     /* logical object number of the file's first block */
	int64_t nblocks;         /* data blocks of the file (filemark not counted) */
	uint8_t content_uuid[16];/* MediaContentHeader uuid (zero for labels) */
	char store[TP_CATALOG_STORE_MAX + 1]; /* "" for labels and catalog archives */
	int complete;            /* the stream ended with its end marker, not INCOMPLETE */
} tp_tape_file;

/* Where one copy of a chunk is. */
typedef struct tp_chunk_loc {
	uint8_t media[16];
	uint64_t seq_nr;         /* the tape's position in its media set */
	uint64_t file_nr;
	int64_t offset;          /* entry header's byte offset in the file stream, -1 unknown */
	int64_t size;            /* entry header + blob bytes, -1 unknown */
	int64_t file_first_block;/* tape_file.first_block, -1 unknown */
} tp_chunk_loc;

/* A snapshot archive on tape. */
typedef struct tp_snapshot_loc {
	int64_t id;              /* row id, for tp_catalog_snapshot_chunks */
	uint8_t media_set[16];
	uint8_t media[16];
	uint64_t seq_nr;
	uint64_t file_nr;
	uint8_t content_uuid[16];
	char store[TP_CATALOG_STORE_MAX + 1];
	char path[TP_CATALOG_PATH_MAX + 1];   /* [ns/A/..]type/id/time */
	int chunks_known;        /* 1 when its chunk list was recorded */
	int64_t nchunks;         /* rows in its chunk list */
} tp_snapshot_loc;

/* A tape known to the catalog. */
typedef struct tp_catalog_media {
	uint8_t uuid[16];
	char label_text[129];
	int has_set;
	uint8_t media_set[16];
	uint64_t seq_nr;
	int64_t ctime;
} tp_catalog_media;

typedef struct tp_catalog_counts {
	int64_t media_sets, media, tape_files, chunks, snapshots, snapshot_chunks;
} tp_catalog_counts;

typedef int (*tp_catalog_snapshot_cb)(void *ctx, const tp_snapshot_loc *s);
typedef int (*tp_catalog_digest_cb)(void *ctx, const uint8_t digest[32]);
typedef int (*tp_catalog_file_cb)(void *ctx, const tp_tape_file *f);
/* One chunk of a snapshot and where it is: up to TP_CATALOG_LOCS_MAX copies in locs, ncopies in all (0: not in the set). */
#define TP_CATALOG_LOCS_MAX 4
typedef int (*tp_catalog_locs_cb)(void *ctx, const uint8_t digest[32], const tp_chunk_loc *locs, size_t ncopies);

/* Opens (creating the schema if needed); path NULL = tp_state_path("catalog.db"). */
int tp_catalog_open(tp_catalog_db **db, const char *path, tp_err *err);
/* Rolls back an open transaction and closes; NULL is fine. */
void tp_catalog_close(tp_catalog_db *db);

/* BEGIN IMMEDIATE (takes the write lock now, waiting up to the busy timeout). */
int tp_catalog_begin(tp_catalog_db *db, tp_err *err);
int tp_catalog_commit(tp_catalog_db *db, tp_err *err);
int tp_catalog_rollback(tp_catalog_db *db, tp_err *err);

/* Inserts or updates a media set (fingerprint NULL = unencrypted). */
int tp_catalog_add_media_set(tp_catalog_db *db, const uint8_t uuid[16], const char *pool, int64_t ctime,
			     const uint8_t *fingerprint, tp_err *err);
/*
 * Inserts or updates a tape; media_set NULL = not in a set.  The set must
 * have been added.  Moving a tape to another set or seq does not delete its
 * rows: call tp_catalog_delete_media first (a relabel or a reuse).
 */
int tp_catalog_add_media(tp_catalog_db *db, const uint8_t uuid[16], const char *label_text,
			 const uint8_t *media_set, uint64_t seq_nr, int64_t ctime, tp_err *err);
int tp_catalog_get_media(tp_catalog_db *db, const uint8_t uuid[16], tp_catalog_media *out, tp_err *err);

/* Pool and start time of a set; -TP_ENOTFOUND when absent.  pool holds 65 bytes. */
int tp_catalog_get_media_set(tp_catalog_db *db, const uint8_t uuid[16], char pool[65], int64_t *ctime,
			     tp_err *err);

/* Inserts or replaces the row of (media, file_nr).  The media must exist. */
int tp_catalog_add_tape_file(tp_catalog_db *db, const tp_tape_file *f, tp_err *err);

/*
 * Records one chunk of a chunk archive: its entry header at `offset` in the
 * file stream, `size` bytes with the header (-1/-1 when unknown).  The media
 * must be in a set.  A chunk may be recorded on several tapes of a set.
 */
int tp_catalog_add_chunk(tp_catalog_db *db, const uint8_t media[16], uint64_t file_nr, const char *store,
			 const uint8_t digest[32], int64_t offset, int64_t size, tp_err *err);

/* Records a (complete) snapshot archive; *id receives its row id. */
int tp_catalog_add_snapshot(tp_catalog_db *db, const uint8_t media[16], uint64_t file_nr, const char *store,
			    const char *path, const uint8_t content_uuid[16], int64_t *id, tp_err *err);
/*
 * Appends n digests to a snapshot's chunk list (call repeatedly for big
 * lists; duplicates are ignored) and marks the list known, also for n = 0.
 */
int tp_catalog_add_snapshot_chunks(tp_catalog_db *db, int64_t id, const uint8_t (*digests)[32], size_t n,
				   tp_err *err);

/* 1 when the set has the chunk on some tape, 0 when not, < 0 on error. */
int tp_catalog_has_chunk_in_set(tp_catalog_db *db, const uint8_t set[16], const char *store,
				const uint8_t digest[32], tp_err *err);
/*
 * Every copy of a chunk in the set, ordered by (seq_nr, file_nr): fills up
 * to max entries and returns how many copies exist (may exceed max).
 */
int tp_catalog_lookup_chunk(tp_catalog_db *db, const uint8_t set[16], const char *store,
			    const uint8_t digest[32], tp_chunk_loc *out, size_t max, tp_err *err);
/* The snapshot in the set (first copy by seq/file); -TP_ENOTFOUND when absent. */
int tp_catalog_lookup_snapshot(tp_catalog_db *db, const uint8_t set[16], const char *store, const char *path,
			       tp_snapshot_loc *out, tp_err *err);
/*
 * Snapshots of a set (set NULL = of every set), ordered by set, store, path;
 * store NULL = any; ns NULL or "" = any namespace, else only that namespace
 * ("a/b") and those below it.
 */
int tp_catalog_list_snapshots(tp_catalog_db *db, const uint8_t *set, const char *store, const char *ns,
			      tp_catalog_snapshot_cb cb, void *ctx, tp_err *err);
/* Streams a snapshot's chunk list in digest order. */
int tp_catalog_snapshot_chunks(tp_catalog_db *db, int64_t id, tp_catalog_digest_cb cb, void *ctx, tp_err *err);
/*
 * The same list with each chunk's copies in the media set under store
 * (as tp_catalog_lookup_chunk orders them), in one query: what the restore
 * planner reads.  A callback returning non-zero stops (< 0: the error).
 */
int tp_catalog_snapshot_chunk_locs(tp_catalog_db *db, int64_t id, const uint8_t set[16], const char *store,
				   tp_catalog_locs_cb cb, void *ctx, tp_err *err);
/* Streams the files of a tape in file order. */
int tp_catalog_list_tape_files(tp_catalog_db *db, const uint8_t media[16], tp_catalog_file_cb cb, void *ctx,
			       tp_err *err);
/* Row counts, of one set (set != NULL) or of the whole database. */
int tp_catalog_count(tp_catalog_db *db, const uint8_t *set, tp_catalog_counts *out, tp_err *err);

/*
 * Deletes every file, chunk and snapshot row of a tape; with keep_media = 0
 * also the tape itself (and its set when it was the set's last tape).
 */
int tp_catalog_delete_media(tp_catalog_db *db, const uint8_t media[16], int keep_media, tp_err *err);

/*
 * PBS on-disk media catalog (.log) of one tape: L records from the labels,
 * then per file in file order A, C.., E (chunk archives, chunks in stream
 * order) or S (snapshot archives).  Appends to out.
 */
int tp_catalog_export_log(tp_catalog_db *db, const uint8_t media[16], tp_buf *out, tp_err *err);
/*
 * Replaces a tape's rows with the content of a PBS .log (first_block,
 * offsets and sizes unknown: -1).  The tape must be in the catalog and its
 * L records must name it and its set/seq.  Runs in its own transaction
 * unless one is open; inside the caller's transaction a failure leaves
 * partial changes that the caller must roll back.
 */
int tp_catalog_import_log(tp_catalog_db *db, const uint8_t media[16], const void *data, size_t len, tp_err *err);

#endif
