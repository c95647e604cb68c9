/* Catalog recovery of one tape: import its catalog archives (fast) or rebuild its rows by reading it (scan). */
#ifndef TAPIR_TAPE_CATALOG_SCAN_H
#define TAPIR_TAPE_CATALOG_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "format/media_label.h"
#include "tape/catalog_db.h"
#include "tape/inventory.h"
#include "tape/tape_session.h"

/* Largest .fidx/.didx decoded from a snapshot archive (a 32 TiB image in 4 MiB chunks). */
#define TP_CATALOG_SCAN_INDEX_MAX (256u * 1024 * 1024)
/* Largest catalog archive body imported by the fast path. */
#define TP_CATALOG_SCAN_LOG_MAX (1024u * 1024 * 1024)

typedef struct tp_catalog_scan_stats {
	uint64_t files;              /* tape files read, labels included */
	uint64_t chunk_archives, snapshot_archives, catalog_archives;
	uint64_t incomplete;         /* archives aborted (no end marker) or flagged INCOMPLETE */
	uint64_t empty_files;        /* a filemark right away (writer aborted before any block) */
	uint64_t chunks;             /* chunk rows recorded */
	uint64_t corrupt_chunks;     /* entries whose blob failed its check (not recorded) */
	uint64_t snapshots;          /* snapshot rows recorded */
	uint64_t snapshot_chunks;    /* digests of their chunk lists (distinct per snapshot) */
	uint64_t catalogs_imported;  /* fast path: .log copies imported (this tape and others) */
	uint64_t bytes_read;         /* bytes of whole blocks read from tape (drive counters) */
	int fast;                    /* 1 when the rows came from this tape's catalog archive */
	int truncated;               /* the last file ran into end of data without filemark */
} tp_catalog_scan_stats;

/* stats as a JSON object (new reference). */
json_t *tp_catalog_scan_stats_to_json(const tp_catalog_scan_stats *st);
/* The one-line report of a recovered tape catalog ("tape L: catalog rebuilt by a scan: N files, ..."), into out. */
void tp_catalog_scan_summary(const char *label, int in_set, const tp_catalog_scan_stats *st, char *out, size_t n);

/*
 * Makes the catalog's media and media-set rows say what the labels say:
 * rows of the tape that name another set or seq are deleted first (PBS
 * destroy_unrelated_catalog), then the set (msl NULL or all-zero = no set;
 * set_ctime < 0 keeps a stored start time, else the label's ctime) and the
 * tape are added or updated.  Its file, chunk and snapshot rows are kept
 * when the set and seq did not change.
 */
int tp_catalog_sync_media(tp_catalog_db *db, const tp_media_label *ml, const tp_media_set_label *msl,
			  int64_t set_ctime, tp_err *err);

/* 1 when the catalog has any file, chunk or snapshot row of the tape, 0 when none (or unknown tape). */
int tp_catalog_media_has_rows(tp_catalog_db *db, const uint8_t uuid[16], tp_err *err);

/*
 * Rebuilds the rows of the tape in the drive (labels ml / msl, as read by
 * the caller; the tape must be in a set) by reading every file: the labels
 * are read again and must match, then file 2 to end of data.  Every file
 * gets a tape_file row with its first logical object and its data blocks;
 * chunk archives their chunks (stream offset of the entry header, entry
 * size), complete snapshot archives a snapshot row with the full chunk list
 * of their .fidx/.didx files.  The tape's old rows are deleted first and
 * rows are committed per archive.  Encryption is left as the caller set it
 * (labels are readable either way): an encrypted set needs its key loaded.
 * Errors name the tape and file.  st may be NULL.
 */
int tp_catalog_scan_tape(tp_tape_session *s, tp_catalog_db *db, const tp_media_label *ml,
			 const tp_media_set_label *msl, tp_catalog_scan_stats *st, tp_err *err);

/*
 * PBS fast_catalog_restore: reads the catalog archives from file 2 on and
 * imports those of this set (tp_catalog_import_log) — for an earlier tape
 * only when the catalog has no rows of it (and it is in the catalog or, with
 * inv, in the inventory with this set) — then at the first other file
 * moves to the last file, which must be a catalog archive of this tape.
 * Returns 0 when this tape's newest catalog was imported, -TP_ENOTFOUND when
 * the tape has none at its end (the caller then scans), other negative
 * codes on errors.  inv and st may be NULL.
 */
int tp_catalog_fast_restore(tp_tape_session *s, tp_catalog_db *db, const tp_inventory *inv,
			    const tp_media_label *ml, const tp_media_set_label *msl, tp_catalog_scan_stats *st,
			    tp_err *err);

/*
 * For a set encrypted with a key (msl->has_fingerprint): gives the drive the
 * set's drive key from the key store (-TP_ENOTFOUND naming the fingerprint
 * when the key is missing).  Nothing to do for a clear set.
 */
int tp_catalog_load_set_key(tp_tape_session *s, const tp_media_label *ml, const tp_media_set_label *msl,
			    tp_err *err);

typedef struct tp_catalog_recover_opts {
	int scan;       /* read the whole tape instead of the catalog archives */
	int force;      /* rebuild even when the catalog has rows of the tape, or the inventory has it in another set */
	const char *owner; /* lock owner text (task UPID), may be NULL */
} tp_catalog_recover_opts;

/*
 * `tape catalog` (pbs-formats §9.4) on the loaded tape: reads its labels;
 * a tape in no set gets its rows cleared; otherwise, under the pool and
 * media-set locks, the tape must not be in another set per the inventory
 * (-TP_EWRONGMEDIA, unless force), its labels are stored in the inventory
 * and the catalog, it must have no rows yet (-TP_EEXISTS, unless force), and
 * the fast path runs unless opts->scan; when it finds nothing the tape is
 * scanned.  ml / msl receive the labels (msl's key_config owned by the caller:
 * tp_media_set_label_clear); *has_set tells whether the tape is in a set.
 */
int tp_catalog_recover_tape(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db,
			    const tp_catalog_recover_opts *opts, tp_media_label *ml, tp_media_set_label *msl,
			    int *has_set, tp_catalog_scan_stats *st, tp_err *err);

#endif
