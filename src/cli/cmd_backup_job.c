/* `tapir tape backup-job create|list|show|update|remove|run`: tape backup jobs, through the API router as root@pam. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/router.h"
#include "api/worker.h"
#include "base/json_util.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "task/task.h"

/* Calls the router with the options as query-style text arguments; *data on success. */
static int call(enum tp_http_method m, const char *path, json_t *query, json_t **data, tp_err *err)
{
	tp_api_request req = { m, path, "root@pam", query, NULL };
	json_t *resp = NULL;
	int status = tp_api_dispatch(&req, &resp);
	json_decref(query);
	if (status == 200) {
		if (data)
			*data = json_incref(json_object_get(resp, "data"));
		json_decref(resp);
		return 0;
	}
	const char *msg = json_string_value(json_object_get(resp, "message"));
	int code = status == 400 ? -EINVAL : status == 404 ? -TP_ENOTFOUND : status == 409 ? -TP_EEXISTS : -EIO;
	tp_err_set(err, code, "%s", msg ? msg : "error");
	json_decref(resp);
	return code;
}

/* Options as text arguments; "delete" may repeat ("--delete schedule --delete comment" or "a,b"). */
static json_t *options(const tp_args *a)
{
	json_t *q = json_object();
	for (int i = 0; i < a->nopt; i++) {
		if (!strcmp(a->key[i], "output-format"))
			continue;
		if (!strcmp(a->key[i], "delete")) {
			json_t *arr = json_object_get(q, "delete");
			if (!arr)
				json_object_set_new(q, "delete", arr = json_array());
			char buf[512];
			snprintf(buf, sizeof(buf), "%s", a->val[i]);
			char *save = NULL;
			for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
				json_array_append_new(arr, json_string(p));
			continue;
		}
		json_object_set_new(q, a->key[i], json_string(a->val[i]));
	}
	return q;
}

static void print_list(const json_t *arr)
{
	printf("%-16s %-12s %-12s %-10s %-20s %-20s %s\n", "id", "store", "pool", "drive", "schedule", "next-run",
	       "last-run");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		char next[32] = "-";
		json_t *nr = json_object_get(v, "next-run");
		if (nr)
			tp_time_local(json_integer_value(nr), next);
		const char *last = tp_json_opt_str(v, "last-run-state");
		const char *sched = tp_json_opt_str(v, "schedule");
		printf("%-16s %-12s %-12s %-10s %-20s %-20s %s\n", tp_json_opt_str(v, "id"), tp_json_opt_str(v, "store"),
		       tp_json_opt_str(v, "pool"), tp_json_opt_str(v, "drive"), sched ? sched : "-", next,
		       last ? last : json_object_get(v, "last-run-upid") ? "running" : "-");
	}
}

int cmd_tape_backup_job(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", "pool", "drive", "ns", "max-depth", "latest-only", "schedule",
					       "notify-user", "comment", "delete", NULL };
	static const char *const flags[] = { NULL };
	static const char usage[] =
		"tapir tape backup-job create ID --store S --pool P --drive D [--ns NS] [--max-depth N] "
		"[--latest-only 0|1] [--schedule CALENDAR] [--notify-user USERID] [--comment C] | list | show ID | "
		"update ID [options] [--delete PROP] | remove ID | run ID";
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: %s", usage);
	const char *sub = argv[0];
	tp_args a;
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	char path[128];
	json_t *data = NULL;
	int need_id = strcmp(sub, "list") != 0;
	if ((r = tp_args_need_pos(&a, need_id, need_id, usage, err)) < 0)
		return r;
	if (need_id && strlen(a.pos[0]) > 64)
		return tp_err_set(err, -EINVAL, "job id '%.64s...' is too long", a.pos[0]);
	if (need_id)
		snprintf(path, sizeof(path), "config/tape-backup-job/%s", a.pos[0]);
	if (!strcmp(sub, "list")) {
		/* tape/backup: the jobs with next run and last result */
		if ((r = call(TP_HTTP_GET, "tape/backup", options(&a), &data, err)) < 0)
			return r;
		if (a.out == TP_OUT_TEXT) {
			print_list(data);
			json_decref(data);
		} else {
			tp_print_json(&a, data);
		}
		return 0;
	}
	if (!strcmp(sub, "create")) {
		json_t *q = options(&a);
		json_object_set_new(q, "id", json_string(a.pos[0]));
		if ((r = call(TP_HTTP_POST, "config/tape-backup-job", q, NULL, err)) < 0)
			return r;
		if (a.out == TP_OUT_TEXT)
			printf("created tape backup job '%s'\n", a.pos[0]);
		return 0;
	}
	if (!strcmp(sub, "show")) {
		if (a.nopt > 0 && !(a.nopt == 1 && !strcmp(a.key[0], "output-format")))
			return tp_err_set(err, -EINVAL, "usage: tapir tape backup-job show ID");
		if ((r = call(TP_HTTP_GET, path, json_object(), &data, err)) < 0)
			return r;
		tp_print_json(&a, data);
		return 0;
	}
	if (!strcmp(sub, "update")) {
		if ((r = call(TP_HTTP_PUT, path, options(&a), NULL, err)) < 0)
			return r;
		if (a.out == TP_OUT_TEXT)
			printf("updated tape backup job '%s'\n", a.pos[0]);
		return 0;
	}
	if (!strcmp(sub, "remove")) {
		if ((r = call(TP_HTTP_DELETE, path, json_object(), NULL, err)) < 0)
			return r;
		if (a.out == TP_OUT_TEXT)
			printf("removed tape backup job '%s'\n", a.pos[0]);
		return 0;
	}
	if (!strcmp(sub, "run")) {
		snprintf(path, sizeof(path), "tape/backup/%s", a.pos[0]);
		/* the worker runs here, in this process, like every CLI worker */
		tp_api_workers_set_sync(1);
		r = call(TP_HTTP_POST, path, json_object(), &data, err);
		tp_api_workers_set_sync(0);
		if (r < 0)
			return r;
		const char *upid = json_string_value(data);
		tp_task_info ti;
		if (upid && tp_task_status(upid, &ti, err) == 0) {
			if (a.out == TP_OUT_TEXT)
				printf("%s\n", upid);
			else
				tp_print_json(&a, json_pack("{s:s,s:s}", "upid", upid, "status", ti.status));
			if (strcmp(ti.status, "OK") && strncmp(ti.status, "WARNINGS", 8))
				r = tp_err_set(err, -EIO, "job %s: %s", a.pos[0], ti.status);
		}
		json_decref(data);
		return r;
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'tape backup-job %s' (create, list, show, update, remove, run)",
			  sub);
}
