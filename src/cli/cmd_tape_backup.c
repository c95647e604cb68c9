/* `tapir tape backup STORE POOL --drive D ...`: a tape backup job as a worker task. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/progress_bar.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tape/tape_backup.h"
#include "task/task.h"

int cmd_tape_backup(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", "ns", "max-depth", "group", "chunk-archive-max", NULL };
	static const char *const flags[] = { "latest-only", "force-media-set", "eject-media", "export-media-set", NULL };
	static const char *usage = "tapir tape backup STORE POOL --drive D [--ns NS] [--max-depth N] [--group TYPE/ID ...] "
				   "[--latest-only] [--force-media-set] [--eject-media] [--export-media-set]";
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, flags, err);
	if (r < 0)
		return r;
	const char *drive = tp_args_get(&a, "drive");
	if (a.npos != 2 || !drive)
		return tp_err_set(err, -EINVAL, "usage: %s", usage);
	tp_tape_backup_opts o = { 0 };
	o.store = a.pos[0];
	o.pool = a.pos[1];
	o.drive = drive;
	o.ns = tp_args_get(&a, "ns");
	unsigned long long depth, camax;
	if ((r = tp_args_u64(&a, "max-depth", 7, 0, &depth, err)) < 0 ||
	    (r = tp_args_u64(&a, "chunk-archive-max", 0, 1, &camax, err)) < 0)
		return r;
	o.max_depth = depth > 7 ? 7 : (int)depth;
	o.chunk_archive_max = camax;
	o.latest_only = tp_args_flag(&a, "latest-only");
	o.force_media_set = tp_args_flag(&a, "force-media-set");
	o.eject_media = tp_args_flag(&a, "eject-media");
	o.export_media_set = tp_args_flag(&a, "export-media-set");
	const char *groups[64];
	o.ngroups = tp_args_get_all(&a, "group", groups, 64);
	o.groups = groups;
	if ((r = tp_tape_backup_check(&o, err)) < 0)
		return r;
	char wid[160];
	snprintf(wid, sizeof(wid), "%s:%s:%s", o.store, o.pool, drive);
	tp_task *task = NULL;
	if ((r = tp_task_start("tape-backup", wid, "root@pam", &task, err)) < 0)
		return r;
	o.owner = tp_task_upid(task);
	printf("task %s\n", tp_task_upid(task));
	double t0 = tp_monotonic();
	tp_tape_backup_result res;
	tp_progress_bar_start(STDERR_FILENO);
	r = tp_tape_backup_run(&o, &res, err);
	tp_progress_bar_stop();
	json_t *sum = tp_tape_backup_result_json(&res);
	json_object_set_new(sum, "upid", json_string(tp_task_upid(task)));
	json_object_set_new(sum, "seconds", json_real(tp_monotonic() - t0));
	tp_info("tape backup: %llu snapshots written, %llu skipped, %llu failed, %llu chunks (%llu bytes)",
		(unsigned long long)res.snapshots_written, (unsigned long long)res.snapshots_skipped,
		(unsigned long long)res.snapshots_failed, (unsigned long long)res.chunks_written,
		(unsigned long long)res.chunk_bytes_written);
	tp_tape_backup_result_free(&res);
	tp_task_finish(task, r, r < 0 ? err->msg : NULL);
	if (a.out != TP_OUT_TEXT)
		tp_print_json(&a, sum);
	else
		json_decref(sum);
	return r;
}
