/* `tapir tape restore MEDIA_SET STORE_MAP [SNAPSHOT...] --drive D ...`: selective or full restore. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tape/tape_restore.h"
#include "task/task.h"

int cmd_tape_restore(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", "namespaces", "owner", "notify-user", "lto-gen", "workers", NULL };
	static const char *const flags[] = { "dry-run", NULL };
	static const char *usage = "tapir tape restore MEDIA_SET STORE_MAP [SNAPSHOT...] --drive D [--drive D2 ...] "
				   "[--namespaces store=S[,source=NS][,target=NS][,max-depth=N] ...] [--owner AUTHID] "
				   "[--notify-user USERID] [--dry-run]";
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
	o.authid = "root@pam";
	o.dry_run = tp_args_flag(&a, "dry-run");
	unsigned long long gen, workers;
	if ((r = tp_args_u64(&a, "lto-gen", 9, 0, &gen, err)) < 0 || (r = tp_args_u64(&a, "workers", 0, 0, &workers, err)) < 0)
		return r;
	if (gen < 5 || gen > 9)
		return tp_err_set(err, -EINVAL, "--lto-gen must be 5..9");
	o.lto_gen = (int)gen;
	o.workers = (int)workers;
	tp_task *task = NULL;
	char wid[160];
	snprintf(wid, sizeof(wid), "%s:%s", o.media_set, o.store_map);
	if ((r = tp_task_start("tape-restore", wid, o.authid, &task, err)) < 0)
		return r;
	o.lock_owner = tp_task_upid(task);
	printf("task %s\n", tp_task_upid(task));
	double t0 = tp_monotonic();
	tp_tape_restore_result res;
	r = tp_tape_restore_run(&o, &res, err);
	json_t *sum = tp_tape_restore_result_json(&res, tp_task_upid(task), tp_monotonic() - t0);
	if (o.dry_run && res.plan && a.out == TP_OUT_TEXT) {
		tp_print_json(&a, json_incref(res.plan));
	}
	if (r == 0 || r == -TP_EDIGEST)
		tp_info("restore: %zu restored, %zu skipped, %zu failed; %llu tape loads, %llu locates, %llu bytes read "
			"from tape, %llu chunks restored, %llu already present, %.0f s simulated tape time",
			json_array_size(res.restored), json_object_size(res.skipped), json_object_size(res.failed),
			(unsigned long long)res.tape_loads, (unsigned long long)res.tape_locates,
			(unsigned long long)res.bytes_read_from_tape, (unsigned long long)res.chunks_restored,
			(unsigned long long)res.chunks_present, res.simulated_tape_seconds);
	tp_tape_restore_result_free(&res);
	tp_task_finish(task, r, r < 0 ? err->msg : NULL);
	if (a.out != TP_OUT_TEXT && sum)
		tp_print_json(&a, sum);
	else
		json_decref(sum);
	return r;
}
