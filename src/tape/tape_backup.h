/* Tape backup: datastore snapshots into a media pool's media set (PBS §8 layout). */
#ifndef TAPIR_TAPE_TAPE_BACKUP_H
#define TAPIR_TAPE_TAPE_BACKUP_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"

typedef struct tp_tape_backup_opts {
	const char *store;          /* datastore name */
	const char *pool;           /* media pool */
	const char *drive;          /* drive name */
	const char *ns;             /* namespace to start at ("" root) */
	int max_depth;              /* namespace recursion, -1 = unlimited */
	int latest_only;            /* only the newest finished snapshot of each group */
	int force_media_set;        /* start a new media set */
	int eject_media;            /* unload/eject at the end */
	int export_media_set;       /* move every tape of the set to import/export slots (changer) */
	const char *const *groups;  /* group filter "type/id" (NULL = all) */
	int ngroups;
	const char *owner;          /* lock owner text (task UPID) */
	uint64_t chunk_archive_max; /* close chunk archives above this size (0 = 4 GiB) */
} tp_tape_backup_opts;

typedef struct tp_tape_backup_result {
	char media_set[37];
	uint64_t snapshots_written, snapshots_skipped, snapshots_failed;
	uint64_t chunks_written, chunk_bytes_written, tape_bytes_written;
	uint64_t tapes_used;
	json_t *failed;             /* {snapshot path: reason} (owned) */
	json_t *tapes;              /* [label, ...] written in this job (owned) */
} tp_tape_backup_result;

/*
 * Runs one tape backup job.  Finished snapshots of the datastore (from ns,
 * down to max_depth) not yet in the media set are written: for each, the
 * chunks not yet in the set as chunk archives, then its snapshot archive;
 * catalog rows are committed per archive.  A snapshot whose chunk is missing
 * or corrupt in the datastore fails alone (named in res->failed) and the job
 * goes on; the job then returns -TP_EDIGEST.  Tape errors are fatal.  At the
 * end the catalog archive of the last tape is appended.  res must be
 * released with tp_tape_backup_result_free.
 */
int tp_tape_backup_run(const tp_tape_backup_opts *o, tp_tape_backup_result *res, tp_err *err);
/*
 * What tp_tape_backup_run would refuse at once (unknown datastore, pool or
 * drive), checked before a task is started for it: a refused job leaves
 * one error line and no failed task.
 */
int tp_tape_backup_check(const tp_tape_backup_opts *o, tp_err *err);
void tp_tape_backup_result_free(tp_tape_backup_result *res);
json_t *tp_tape_backup_result_json(const tp_tape_backup_result *res);

#endif
