/* `tapir task list|log|stop|status`: worker tasks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json_util.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "task/task.h"

/* PBS's TaskListItem fields. */
static json_t *task_json(const tp_task_info *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "upid", json_string(t->upid_str));
	json_object_set_new(o, "node", json_string(t->upid.node));
	json_object_set_new(o, "pid", json_integer(t->upid.pid));
	json_object_set_new(o, "pstart", json_integer((json_int_t)t->upid.pstart));
	json_object_set_new(o, "starttime", json_integer(t->upid.starttime));
	json_object_set_new(o, "worker_type", json_string(t->upid.worker_type));
	json_object_set_new(o, "worker_id", t->upid.worker_id[0] ? json_string(t->upid.worker_id) : json_null());
	json_object_set_new(o, "user", json_string(t->upid.authid));
	if (!t->running) {
		json_object_set_new(o, "endtime", json_integer(t->endtime));
		json_object_set_new(o, "status", json_string(t->status));
	}
	return o;
}

static int parse_since(const char *s, int64_t *out, tp_err *err)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (end != s && !*end && v >= 0) {
		*out = v;
		return 0;
	}
	if (tp_time_parse_rfc3339(s, out) == 0)
		return 0;
	return tp_err_set(err, -EINVAL, "--since: '%s' is neither an epoch time nor an RFC 3339 time", s);
}

static int do_list(const tp_args *a, tp_err *err)
{
	tp_task_filter f = { 0 };
	unsigned long long limit;
	int r = tp_args_u64(a, "limit", 50, 0, &limit, err);
	if (r < 0)
		return r;
	f.limit = (size_t)limit;
	f.running_only = tp_args_flag(a, "running");
	f.worker_type = tp_args_get(a, "type");
	if (tp_args_get(a, "since") && (r = parse_since(tp_args_get(a, "since"), &f.since, err)) < 0)
		return r;
	tp_task_info *v;
	size_t n;
	if ((r = tp_task_list(&f, &v, &n, err)) < 0)
		return r;
	if (a->out != TP_OUT_TEXT) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, task_json(&v[i]));
		tp_print_json(a, arr);
	} else {
		for (size_t i = 0; i < n; i++) {
			char st[32], et[32] = "";
			tp_time_local(v[i].upid.starttime, st);
			if (!v[i].running)
				tp_time_local(v[i].endtime, et);
			printf("%-25s %-25s %-20s %s\n", st, v[i].running ? "-" : et,
			       v[i].running ? "running" : v[i].status, v[i].upid_str);
		}
	}
	free(v);
	return 0;
}

/*
 * A diagnostic worker that exercises the task plumbing end to end: it logs
 * a line every 100 ms for --seconds, emits --warnings warnings, honours
 * `tapir task stop`, and fails with --fail MSG when given.
 */
static int do_selftest(const tp_args *a, tp_err *err)
{
	unsigned long long secs, warns;
	int r = tp_args_u64(a, "seconds", 0, 0, &secs, err);
	if (r < 0 || (r = tp_args_u64(a, "warnings", 0, 0, &warns, err)) < 0)
		return r;
	if (secs > 86400 || warns > 1000)
		return tp_err_set(err, -EINVAL, "--seconds at most 86400, --warnings at most 1000");
	tp_task *t;
	if ((r = tp_task_start("selftest", tp_args_get(a, "id"), "root@pam", &t, err)) < 0)
		return r;
	printf("%s\n", tp_task_upid(t));
	fflush(stdout);
	tp_info("selftest: %llu seconds, %llu warnings", secs, warns);
	for (unsigned long long i = 0; i < warns; i++)
		tp_warn("selftest warning %llu", i + 1);
	for (unsigned long long i = 0; i < secs * 10 && r == 0; i++) {
		if (i % 10 == 0)
			tp_info("selftest: second %llu", i / 10);
		usleep(100000);
		r = tp_task_check_abort(err);
	}
	const char *fail = tp_args_get(a, "fail");
	if (r == 0 && fail)
		r = tp_err_set(err, -EIO, "%s", fail);
	return tp_task_finish(t, r, r < 0 ? err->msg : NULL);
}

int cmd_task(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "type", "limit", "since", "seconds", "warnings", "fail", "id", NULL };
	static const char *const flags[] = { "running", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir task list|log|stop|status ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "list")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir task list [--running] [--type T] [--limit N] [--since T]",
					  err)) < 0)
			return r;
		return do_list(&a, err);
	}
	if (!strcmp(sub, "log")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir task log UPID", err)) < 0)
			return r;
		tp_buf b = TP_BUF_INIT;
		if ((r = tp_task_read_log(a.pos[0], &b, err)) < 0) {
			tp_buf_free(&b);
			return r;
		}
		if (a.out == TP_OUT_TEXT) {
			fwrite(b.data, 1, b.len, stdout);
		} else {
			json_t *arr = json_array();
			char *s = (char *)tp_buf_cstr(&b), *save = NULL;
			int n = 0;
			for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
				json_array_append_new(arr, json_pack("{s:i,s:s}", "n", ++n, "t", l));
			tp_print_json(&a, arr);
		}
		tp_buf_free(&b);
		return 0;
	}
	if (!strcmp(sub, "stop")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir task stop UPID", err)) < 0)
			return r;
		if ((r = tp_task_stop(a.pos[0], err)) == 0 && a.out == TP_OUT_TEXT)
			printf("requested abort of %s\n", a.pos[0]);
		return r;
	}
	if (!strcmp(sub, "status")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir task status UPID", err)) < 0)
			return r;
		tp_task_info t;
		if ((r = tp_task_status(a.pos[0], &t, err)) < 0)
			return r;
		json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:o,s:s,s:s}", "upid", t.upid_str, "node", t.upid.node,
				      "pid", (json_int_t)t.upid.pid, "pstart", (json_int_t)t.upid.pstart, "starttime",
				      (json_int_t)t.upid.starttime, "type", t.upid.worker_type, "id",
				      t.upid.worker_id[0] ? json_string(t.upid.worker_id) : json_null(), "user",
				      t.upid.authid, "status", t.running ? "running" : "stopped");
		if (!t.running)
			json_object_set_new(o, "exitstatus", json_string(t.status));
		if (a.out == TP_OUT_TEXT) {
			printf("%s\n", t.running ? "running" : t.status);
			json_decref(o);
		} else {
			tp_print_json(&a, o);
		}
		return 0;
	}
	if (!strcmp(sub, "selftest")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir task selftest [--seconds N] [--warnings N] [--fail MSG] [--id ID]",
					  err)) < 0)
			return r;
		return do_selftest(&a, err);
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'task %s' (list, log, stop, status, selftest)", sub);
}
