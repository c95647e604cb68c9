/* Tape restore: plan from the catalog, one forward pass per tape, verify, stage, publish. */
#ifndef TAPIR_TAPE_TAPE_RESTORE_H
#define TAPIR_TAPE_TAPE_RESTORE_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "tape/restore_plan.h"

typedef struct tp_tape_restore_opts {
	const char *media_set;               /* uuid */
	const char *store_map;               /* "target" or "src=dst,...[,default]" */
	const char *const *snapshots;        /* "store:[ns/..]type/id/time" */
	int nsnapshots;
	const char *const *namespaces;       /* "store=S[,source=NS][,target=NS][,max-depth=N]" */
	int nnamespaces;
	const char *const *drives;
	int ndrives;
	const char *authid;                  /* caller, root@pam for the local CLI */
	const char *owner;                   /* restore owner (default: authid) */
	tp_restore_priv_fn check_priv;       /* privilege check (tp_acl_check_named); NULL: root@pam only */
	const char *notify_user;
	/* sends a tape request to notify_user (the task layer's mail); NULL: requests are only logged */
	int (*notify)(const char *userid, const char *subject, const char *body);
	int dry_run;
	const char *lock_owner;              /* task UPID, written into the locks */
	int lto_gen;                         /* timing model generation (0 = LTO-9) */
	int workers;                         /* verify/insert threads (0 = 2) */
	int media_wait_s;                    /* standalone drive: give up waiting for a tape after this (0 = wait until aborted) */
	int media_poll_ms;                   /* standalone drive: look for the tape this often (0 = $TAPIR_MEDIA_POLL_MS or 5 s) */
} tp_tape_restore_opts;

typedef struct tp_tape_restore_result {
	json_t *restored;      /* ["store:path" -> as restored] */
	json_t *skipped;       /* {spec: reason} */
	json_t *failed;        /* {spec: reason} */
	json_t *plan;          /* the plan (always) */
	uint64_t tape_loads;   /* needed tapes made ready in a drive (one per tape, also when it was in the drive already) */
	uint64_t changer_moves;
	uint64_t tape_locates, bytes_read_from_tape;
	uint64_t chunks_restored, chunks_present;
	double simulated_tape_seconds;    /* LTO-model seconds of all drives added up (drive time) */
	double simulated_elapsed_seconds; /* the same for the busiest drive: the wall time with the drives working at once */
} tp_tape_restore_result;

/*
 * Runs the restore (or only plans it with dry_run).  Holds the media-set
 * lock, the drive locks and the target chunk stores' shared locks for the
 * whole run.  Each snapshot is published by one rename once every chunk its
 * indexes reference is present in the target; a snapshot that cannot be
 * completed is failed and named, the others go on.  Returns 0 when nothing
 * failed, -TP_EDIGEST when some snapshot failed (err names the count), or
 * another negative code for what stopped the whole restore.
 */
int tp_tape_restore_run(const tp_tape_restore_opts *o, tp_tape_restore_result *res, tp_err *err);
void tp_tape_restore_result_free(tp_tape_restore_result *res);
/* 1 to 8 drives, none named twice (a second session would wait for the lock the first holds). */
int tp_tape_restore_check_drives(const char *const *drives, int n, tp_err *err);
/*
 * What tp_tape_restore_run would refuse at once — a malformed media set,
 * store map or namespace mapping, a drive not configured or given twice, a
 * media set not in the inventory — checked before a task is started.
 */
int tp_tape_restore_check(const tp_tape_restore_opts *o, tp_err *err);
/*
 * When o->notify_user and o->notify are set: mails the result (status "OK",
 * "aborted" or the error; the summary without the plan) to that user.  The
 * CLI and the API worker call it once the restore returned.
 */
void tp_tape_restore_notify_result(const tp_tape_restore_opts *o, const tp_tape_restore_result *res, int r,
				   const char *status, double seconds);
/* The summary object of design.md (plus "plan"); new reference. */
json_t *tp_tape_restore_result_json(const tp_tape_restore_result *res, const char *upid, double seconds);

#endif
