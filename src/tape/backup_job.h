/* Tape backup jobs: configuration (tape-job.json), schedule, and last-run state. */
#ifndef TAPIR_TAPE_BACKUP_JOB_H
#define TAPIR_TAPE_BACKUP_JOB_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/calendar.h"
#include "base/err.h"
#include "format/media_label.h"
#include "store/datastore.h"
#include "tape/drive.h"

#define TP_JOB_ID_MAX 32
#define TP_JOB_SCHEDULE_MAX 128
#define TP_JOB_COMMENT_MAX 256
#define TP_JOB_USERID_MAX 64

/*
 * One job: the parameters of a tape backup plus a schedule.  Strings are ""
 * when unset; max_depth -1 = unlimited.  JSON keys are PBS's
 * (TapeBackupJobConfig): id, store, pool, drive, ns, max-depth,
 * latest-only, schedule, notify-user, comment.
 */
typedef struct tp_backup_job {
	char id[TP_JOB_ID_MAX + 1];
	char store[TP_STORE_NAME_MAX + 1];
	char pool[TP_POOL_NAME_MAX + 1];
	char drive[TP_DRIVE_NAME_MAX + 1];
	char ns[TP_NS_MAX_LEN + 1];
	int max_depth;
	int latest_only;
	char schedule[TP_JOB_SCHEDULE_MAX + 1];
	char notify_user[TP_JOB_USERID_MAX + 1];
	char comment[TP_JOB_COMMENT_MAX + 1];
} tp_backup_job;

/* id: safe id [A-Za-z0-9_][A-Za-z0-9._-]*, 3..32 chars (PBS's JOB_ID). -EINVAL naming it. */
int tp_backup_job_id_valid(const char *id, tp_err *err);
/* Every field valid (names, namespace, schedule parses, depth 0..7 or -1); -EINVAL naming the field. */
int tp_backup_job_check(const tp_backup_job *j, tp_err *err);
/* An empty job with id (max_depth -1). */
void tp_backup_job_init(tp_backup_job *j, const char *id);

/* The stored object without "id" (new reference); with_id = 1 adds "id". */
json_t *tp_backup_job_to_json(const tp_backup_job *j, int with_id);
/*
 * Sets fields of j from a JSON object (keys as above, "id" ignored);
 * unknown keys, wrong types and overlong strings fail with -EINVAL naming
 * the key.  A key with null value resets the field.  Does not run
 * tp_backup_job_check.
 */
int tp_backup_job_apply_json(tp_backup_job *j, const json_t *o, tp_err *err);

/*
 * The configuration is tp_config_path("tape-job.json"), an object {id: job};
 * writers hold tp_config_path(".tape-job.lck").  A missing file is empty.
 */
int tp_backup_job_list(tp_backup_job **out, size_t *n, tp_err *err);      /* sorted by id; caller frees */
int tp_backup_job_get(const char *id, tp_backup_job *out, tp_err *err);   /* -TP_ENOTFOUND */
int tp_backup_job_create(const tp_backup_job *j, tp_err *err);            /* -TP_EEXISTS; records "created" */
int tp_backup_job_update(const tp_backup_job *j, tp_err *err);            /* -TP_ENOTFOUND */
int tp_backup_job_remove(const char *id, tp_err *err);                    /* also its state */

/*
 * Run state, tp_state_path("jobstates/tape-backup-job-ID.json") as PBS's
 * jobstate: {"state": "created"|"started"|"finished", "time": created,
 * "upid": ..., "starttime": ..., "endtime": ..., "status": ...}.
 */
typedef struct tp_backup_job_state {
	int64_t created;        /* when the job was created (schedule base before the first run) */
	int running;            /* state "started" */
	char upid[1024];        /* last run, "" when never run */
	int64_t last_start;     /* 0 when never run */
	int64_t last_end;       /* 0 while running or never run */
	char status[512];       /* "OK", "WARNINGS: N", error text, "" */
} tp_backup_job_state;

/*
 * A missing state file reads as created = now, never run, and returns 1
 * (the scheduler then records it with tp_backup_job_state_init, so the
 * schedule has a fixed base); 0 when it was read.
 */
int tp_backup_job_state_load(const char *id, tp_backup_job_state *st, tp_err *err);
/* Writes a fresh "created" state at time `created`. */
int tp_backup_job_state_init(const char *id, int64_t created, tp_err *err);
int tp_backup_job_state_started(const char *id, const char *upid, int64_t start, tp_err *err);
int tp_backup_job_state_finished(const char *id, const char *upid, int64_t end, const char *status, tp_err *err);

/*
 * Next scheduled run: the first calendar event after the last run's start
 * (or after creation when never run).  A time in the past means the job is
 * due; a server that was down over several events thus runs it once, and
 * the next event is computed from that run.  -TP_ENOTFOUND when the job has
 * no schedule or the event never comes again.
 */
int tp_backup_job_next_run(const tp_backup_job *j, const tp_backup_job_state *st, int64_t *next, tp_err *err);
/* 1 when the job has a schedule, is not running and its next run is <= now. */
int tp_backup_job_due(const tp_backup_job *j, const tp_backup_job_state *st, int64_t now);

#endif
