/* Worker tasks: PBS UPIDs, per-task log and status files, active/archive lists, abort flags. */
#ifndef TAPIR_TASK_TASK_H
#define TAPIR_TASK_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "access/user.h"
#include "base/buf.h"
#include "base/err.h"

/*
 * UPID, in PBS's text form:
 *   UPID:{node}:{pid:08X}:{pstart:08X}:{task_id:08X}:{starttime:08X}:{worker_type}:{worker_id}:{authid}:
 * pstart is the process start time in clock ticks since boot (/proc/PID/stat
 * field 22); task_id counts the tasks a process started; worker_id is
 * systemd-escaped (tp_systemd_escape) and empty when the task has none.
 */
#define TP_UPID_MAX 1024
#define TP_WORKER_TYPE_MAX 64
#define TP_WORKER_ID_MAX 256

typedef struct tp_upid {
	char node[64];
	uint32_t pid;
	uint64_t pstart;
	uint64_t task_id;
	int64_t starttime;
	char worker_type[TP_WORKER_TYPE_MAX + 1];
	char worker_id[TP_WORKER_ID_MAX + 1];   /* unescaped; "" = none */
	char authid[TP_AUTHID_MAX + 1];
} tp_upid;

/* Writes the UPID text (out holds TP_UPID_MAX bytes); -EINVAL for fields that cannot be encoded. */
int tp_upid_format(const tp_upid *u, char *out, tp_err *err);
/* Strict parse of the text form (PBS's UPID regex); -EINVAL naming the bad part. */
int tp_upid_parse(const char *s, tp_upid *u, tp_err *err);

/*
 * systemd unit-name escaping as PBS applies it to worker ids
 * (proxmox_sys::systemd::escape_unit(id, false)): '/' becomes '-';
 * ASCII letters, digits, '_' and '.' (except a leading '.') stay; every
 * other byte becomes "\xHH" (lowercase hex).  Control bytes below 0x10
 * are refused (PBS would write a single hex digit there that it cannot
 * parse back).  Returns the length or -EINVAL / -ENAMETOOLONG.
 */
int tp_systemd_escape(const char *in, char *out, size_t outlen);
int tp_systemd_unescape(const char *in, char *out, size_t outlen);

/* A running task of this process (opaque). */
typedef struct tp_task tp_task;

/*
 * Starts a task: builds the UPID (this node, pid, pstart, next task id, now),
 * creates its log below tp_log_path("tasks/XX/UPID") (XX = pstart & 0xff in
 * two hex digits, as PBS), writes the status file ("running"), adds the UPID
 * to the active list, and redirects tp_log() into the task log (lines also
 * echoed to stderr).  It becomes the process's current task (the one
 * tp_task_check_abort() looks at).  *out is freed by tp_task_finish.
 */
int tp_task_start(const char *worker_type, const char *worker_id, const char *authid, tp_task **out,
		  tp_err *err);
/*
 * The same for a process running several tasks at once (the server): the
 * task is current, and receives tp_log(), only in the calling thread; call
 * tp_task_finish from that thread too.
 */
int tp_task_start_thread(const char *worker_type, const char *worker_id, const char *authid, tp_task **out,
			 tp_err *err);
/* Makes t the current task of the calling thread (NULL: none), e.g. in a worker's helper thread. */
void tp_task_attach_thread(tp_task *t);
const char *tp_task_upid(const tp_task *t);
tp_task *tp_task_current(void);
/* Appends a timestamped line (each line of a multi-line message) to the task log. */
void tp_task_log(tp_task *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line for the log only, never echoed: the caller shows the same result its own way (stdout). */
void tp_task_note(tp_task *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, counted as a warning ("WARN: " prefix). */
void tp_task_warn(tp_task *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Warnings logged so far (tp_task_warn and tp_warn/tp_error through the sink). */
unsigned tp_task_warnings(const tp_task *t);
/*
 * Whether to echo log lines: 0 no, 1 to stderr (the default), or
 * TP_TASK_ECHO_SPLIT as tp_log does without a task — progress to stdout,
 * warnings and errors to stderr.  When tp_log_quiet(), only warnings and
 * errors.
 */
#define TP_TASK_ECHO_SPLIT 2
void tp_task_set_echo(tp_task *t, int echo);

/*
 * Whether someone asked the current task to stop (tapir task stop).  Cheap
 * enough for every loop iteration (the flag file is looked at no more than
 * every 50 ms).  0 when there is no current task or no request;
 * -TP_EABORT with "task aborted" otherwise.
 */
int tp_task_check_abort(tp_err *err);
/* The same for a given task, without the rate limit. */
int tp_task_aborted(tp_task *t);

/*
 * Ends the task: status is "OK", "WARNINGS: N", "aborted" (rc ==
 * -TP_EABORT) or the error (err_msg, or tp_strerror(rc) when NULL/empty);
 * writes the last log line ("TASK OK", "TASK WARNINGS: N", "TASK ERROR:
 * ..."), the status file, moves the UPID from the active list to the
 * archive, restores the stderr log sink and frees t.  Returns rc.  Join
 * every worker thread that may still log or check abort before calling it.
 */
int tp_task_finish(tp_task *t, int rc, const char *err_msg);

/* One listed task. */
typedef struct tp_task_info {
	char upid_str[TP_UPID_MAX];
	tp_upid upid;
	int running;            /* 1 while active and the process lives */
	int64_t endtime;        /* 0 while running */
	char status[512];       /* "" while running; "unknown" when the process died */
} tp_task_info;

typedef struct tp_task_filter {
	int running_only;
	const char *worker_type;   /* NULL = any */
	int64_t since;             /* starttime >= since; 0 = any */
	size_t limit;              /* 0 = no limit */
} tp_task_filter;

/*
 * Lists tasks newest first.  Active tasks whose process died (pid and
 * pstart no longer match /proc) are moved to the archive on the way, with
 * the status from their status file, or "unknown" when they never wrote
 * one.  *out is malloc'd (caller frees).
 */
int tp_task_list(const tp_task_filter *f, tp_task_info **out, size_t *n, tp_err *err);
/* State of one task (-TP_ENOTFOUND when unknown). */
int tp_task_status(const char *upid, tp_task_info *out, tp_err *err);
/* Appends the task log to out (at most 64 MiB). */
int tp_task_read_log(const char *upid, tp_buf *out, tp_err *err);
/* Asks a running task to abort (creates its abort flag); -TP_ENOTFOUND if it is not running. */
int tp_task_stop(const char *upid, tp_err *err);

#endif
