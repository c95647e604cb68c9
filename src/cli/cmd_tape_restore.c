/* `tapir tape restore MEDIA_SET STORE_MAP [SNAPSHOT...] --drive D ...`: selective or full restore. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "access/acl.h"
#include "base/json_util.h"
#include "base/log.h"
#include "base/progress_bar.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tape/tape_restore.h"
#include "task/notify.h"
#include "task/task.h"

/*
 * SIGTERM/SIGINT stop the restore like `tapir task stop`: the handler only
 * posts a semaphore; a watcher thread sets the task's abort flag, which the
 * drive threads (also while waiting for a tape) and the workers look at.
 */
static sem_t sig_sem;
static volatile sig_atomic_t sig_done;

static void on_signal(int sig)
{
	(void)sig;
	sem_post(&sig_sem);
}

static void *sig_watch(void *arg)
{
	const char *upid = arg;
	while (sem_wait(&sig_sem) < 0 && errno == EINTR) {
	}
	if (!sig_done) {
		tp_err e = { 0 };
		tp_warn("signal received: stopping the restore");
		if (tp_task_stop(upid, &e) < 0)
			tp_warn("stopping task %s: %s", upid, e.msg);
	}
	return NULL;
}

/* "3 h 48 min", "12 min 5 s", "40 s": estimates are read by people planning a maintenance window. */
static void fmt_duration(double s, char *buf, size_t size)
{
	unsigned long long t = s < 0 ? 0 : (unsigned long long)(s + 0.5);
	if (t >= 3600)
		snprintf(buf, size, "%llu h %llu min", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(buf, size, "%llu min %llu s", t / 60, t % 60);
	else
		snprintf(buf, size, "%llu s", t);
}

/* --dry-run in text mode: what would be restored, which tapes in which order on which drive, how long. */
static void print_plan_text(const json_t *plan, const char *const *drives, int ndrives)
{
	size_t i;
	json_t *v;
	printf("restore plan for media set %s%s\n", tp_json_opt_str(plan, "media-set") ? tp_json_opt_str(plan, "media-set") : "?",
	       json_is_false(json_object_get(plan, "catalog")) ? " (no catalog: every file of every tape is read)" : "");
	json_array_foreach(json_object_get(plan, "snapshots"), i, v) {
		const char *st = tp_json_opt_str(v, "state"), *reason = tp_json_opt_str(v, "reason");
		printf("  %-8s %s", st ? st : "?", tp_json_opt_str(v, "snapshot") ? tp_json_opt_str(v, "snapshot") : "?");
		if (tp_json_opt_str(v, "target"))
			printf(" -> %s", tp_json_opt_str(v, "target"));
		if (json_object_get(v, "chunks"))
			printf(" (%lld chunks)", (long long)tp_json_opt_int(v, "chunks", 0));
		if (reason)
			printf(": %s", reason);
		printf("\n");
	}
	printf("tapes, in the order they are read:\n");
	json_array_foreach(json_object_get(plan, "tapes"), i, v) {
		long long d = tp_json_opt_int(v, "drive", 0);
		const char *where = json_is_true(json_object_get(v, "in-drive")) ? " (in that drive already: read first)"
				  : json_is_true(json_object_get(v, "in-other-drive")) ? " (in another drive: taken out of it first)"
				  : json_is_true(json_object_get(v, "offline")) ? " (not in the changer: asked for when its turn comes)"
				  : "";
		printf("  %-12s seq %-3lld drive %-10s %4zu reads, %3lld locates, %.1f MiB%s\n",
		       tp_json_opt_str(v, "label") ? tp_json_opt_str(v, "label") : "?", (long long)tp_json_opt_int(v, "seq", 0),
		       d >= 0 && d < ndrives ? drives[d] : "?", json_array_size(json_object_get(v, "reads")),
		       (long long)tp_json_opt_int(v, "locates", 0), (double)tp_json_opt_int(v, "bytes", 0) / 1048576.0, where);
	}
	if (json_is_false(json_object_get(plan, "catalog")))
		return;
	char a[32], b[32];
	printf("chunks: %lld to read, %lld already in the target; %.1f MiB needed\n",
	       (long long)tp_json_opt_int(plan, "chunks-needed", 0), (long long)tp_json_opt_int(plan, "chunks-present", 0),
	       (double)tp_json_opt_int(plan, "bytes-needed", 0) / 1048576.0);
	fmt_duration(json_real_value(json_object_get(plan, "estimated-elapsed-seconds")), a, sizeof(a));
	fmt_duration(json_real_value(json_object_get(plan, "estimated-seconds")), b, sizeof(b));
	printf("estimated tape time (LTO model): %s", a);
	if (ndrives > 1)
		printf(" with %d drives at once (%s of drive time)", ndrives, b);
	printf("\n");
}

int cmd_tape_restore(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", "namespaces", "owner", "notify-user", "lto-gen", "workers",
						 "media-wait", NULL };
	static const char *const flags[] = { "dry-run", NULL };
	static const char *usage = "tapir tape restore MEDIA_SET STORE_MAP [SNAPSHOT...] --drive D [--drive D2 ...] "
				   "[--namespaces store=S[,source=NS][,target=NS][,max-depth=N] ...] [--owner AUTHID] "
				   "[--notify-user USERID] [--media-wait SECONDS] [--dry-run]";
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, flags, err);
	if (r < 0)
		return r;
	tp_tape_restore_opts o = { 0 };
	const char *drives[8], *nss[16];
	o.ndrives = tp_args_get_all(&a, "drive", drives, 8);
	if (a.npos < 2 || o.ndrives < 1)
		return tp_err_set(err, -EINVAL, "usage: %s", usage);
	o.drives = drives;
	o.media_set = a.pos[0];
	o.store_map = a.pos[1];
	o.snapshots = a.pos + 2;
	o.nsnapshots = a.npos - 2;
	o.nnamespaces = tp_args_get_all(&a, "namespaces", nss, 16);
	o.namespaces = nss;
	o.owner = tp_args_get(&a, "owner");
	o.notify_user = tp_args_get(&a, "notify-user");
	o.notify = tp_notify_user;
	o.check_priv = tp_acl_check_named;
	o.authid = "root@pam";
	o.dry_run = tp_args_flag(&a, "dry-run");
	unsigned long long gen, workers, wait_s;
	if ((r = tp_args_u64(&a, "lto-gen", 9, 0, &gen, err)) < 0 || (r = tp_args_u64(&a, "workers", 0, 0, &workers, err)) < 0 ||
	    (r = tp_args_u64(&a, "media-wait", 0, 0, &wait_s, err)) < 0)
		return r;
	if (wait_s > 30 * 86400ULL)
		return tp_err_set(err, -EINVAL, "--media-wait must be at most 30 days (2592000 s); 0 waits until the task is stopped");
	o.media_wait_s = (int)wait_s;
	if (gen < 5 || gen > 9)
		return tp_err_set(err, -EINVAL, "--lto-gen must be 5..9");
	o.lto_gen = (int)gen;
	o.workers = (int)workers;
	if ((r = tp_tape_restore_check(&o, err)) < 0)
		return r;
	tp_task *task = NULL;
	char wid[160];
	snprintf(wid, sizeof(wid), "%s:%s", o.media_set, o.store_map);
	if ((r = tp_task_start("tape-restore", wid, o.authid, &task, err)) < 0)
		return r;
	o.lock_owner = tp_task_upid(task);
	printf("task %s\n", tp_task_upid(task));
	fflush(stdout);
	double t0 = tp_monotonic();
	tp_tape_restore_result res;
	pthread_t watcher;
	int watching = 0;
	struct sigaction sa, old_term, old_int;
	if (!o.dry_run && sem_init(&sig_sem, 0, 0) == 0) {
		sig_done = 0;
		if (pthread_create(&watcher, NULL, sig_watch, (void *)tp_task_upid(task)) == 0) {
			watching = 1;
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = on_signal;
			sigemptyset(&sa.sa_mask);
			sigaction(SIGTERM, &sa, &old_term);
			sigaction(SIGINT, &sa, &old_int);
		}
	}
	if (!o.dry_run)
		tp_progress_bar_start(STDERR_FILENO);
	r = tp_tape_restore_run(&o, &res, err);
	tp_progress_bar_stop();
	if (watching) {
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGINT, &old_int, NULL);
		sig_done = 1;
		sem_post(&sig_sem);
		pthread_join(watcher, NULL);
		sem_destroy(&sig_sem);
	}
	json_t *sum = tp_tape_restore_result_json(&res, tp_task_upid(task), tp_monotonic() - t0);
	if (o.dry_run && res.plan && a.out == TP_OUT_TEXT)
		print_plan_text(res.plan, drives, o.ndrives);
	if (o.dry_run && res.plan && (r == 0 || r == -TP_EDIGEST)) {
		size_t sel = 0, i;
		json_t *v;
		json_array_foreach(json_object_get(res.plan, "snapshots"), i, v)
			sel += !strcmp(tp_json_opt_str(v, "state") ? tp_json_opt_str(v, "state") : "", "selected");
		tp_info("dry run, no tape touched: %zu snapshot(s) would be restored, %zu skipped, %zu failed; %zu tape(s) to "
			"read, %.0f s estimated tape time (%.0f s elapsed)",
			sel, json_object_size(res.skipped), json_object_size(res.failed),
			json_array_size(json_object_get(res.plan, "tapes")), res.simulated_tape_seconds,
			res.simulated_elapsed_seconds);
	} else if (r == 0 || r == -TP_EDIGEST)
		tp_info("restore: %zu restored, %zu skipped, %zu failed; %llu tape loads, %llu locates, %llu bytes read "
			"from tape, %llu chunks restored, %llu already present, %.0f s simulated tape time (%.0f s elapsed)",
			json_array_size(res.restored), json_object_size(res.skipped), json_object_size(res.failed),
			(unsigned long long)res.tape_loads, (unsigned long long)res.tape_locates,
			(unsigned long long)res.bytes_read_from_tape, (unsigned long long)res.chunks_restored,
			(unsigned long long)res.chunks_present, res.simulated_tape_seconds, res.simulated_elapsed_seconds);
	tp_tape_restore_notify_result(&o, &res, r, r == 0 ? "OK" : r == -TP_EABORT ? "aborted" : err->msg,
				      tp_monotonic() - t0);
	tp_tape_restore_result_free(&res);
	tp_task_finish(task, r, r < 0 ? err->msg : NULL);
	if (a.out != TP_OUT_TEXT && sum)
		tp_print_json(&a, sum);
	else
		json_decref(sum);
	return r;
}
