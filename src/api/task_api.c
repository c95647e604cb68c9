/* API handlers of nodes/{node}/tasks: list, status, log, abort. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access/acl.h"
#include "api/handlers.h"
#include "base/buf.h"
#include "task/task.h"

/* The node parameter must name this host (as UPIDs do) or be "localhost". */
static int check_node(const tp_api_call *c, tp_err *err)
{
	const char *node = tp_api_arg_str(c, "node");
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = 0;
	host[strcspn(host, ".")] = 0;
	if (!strcmp(node, "localhost") || !strcmp(node, host))
		return 0;
	return tp_err_set(err, -TP_ENOTFOUND, "no such node '%s'", node);
}

int h_node_index(tp_api_call *c, json_t **data, tp_err *err)
{
	int r = check_node(c, err);
	if (r < 0)
		return r;
	*data = json_pack("[{s:s}]", "subdir", "tasks");
	return 0;
}

/* A task belongs to the caller when started by it, by its user, or by one of its user's tokens. */
static int owns_task(const tp_api_call *c, const char *task_authid)
{
	size_t ul = strcspn(c->authid, "!");
	if (!strcmp(task_authid, c->authid))
		return 1;
	if (strchr(c->authid, '!'))
		return 0;   /* a token sees only its own tasks */
	return !strncmp(task_authid, c->authid, ul) && (task_authid[ul] == 0 || task_authid[ul] == '!');
}

static json_t *task_item(const tp_task_info *t)
{
	json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:o,s:s}", "upid", t->upid_str, "node", t->upid.node, "pid",
			      (json_int_t)t->upid.pid, "pstart", (json_int_t)t->upid.pstart, "starttime",
			      (json_int_t)t->upid.starttime, "worker_type", t->upid.worker_type, "worker_id",
			      t->upid.worker_id[0] ? json_string(t->upid.worker_id) : json_null(), "user", t->upid.authid);
	if (!t->running) {
		json_object_set_new(o, "endtime", json_integer(t->endtime));
		json_object_set_new(o, "status", json_string(t->status));
	}
	return o;
}

int h_tasks_list(tp_api_call *c, json_t **data, tp_err *err)
{
	int r = check_node(c, err);
	if (r < 0)
		return r;
	int all = tp_api_has_priv(c, "/system/tasks", TP_PRIV_SYS_AUDIT, 0);
	tp_task_filter f = { 0 };
	f.running_only = tp_api_arg_bool(c, "running", 0);
	f.worker_type = tp_api_arg_str(c, "typefilter");
	f.since = tp_api_arg_int(c, "since", 0);
	const char *userfilter = tp_api_arg_str(c, "userfilter");
	int errors_only = tp_api_arg_bool(c, "errors", 0);
	size_t start = (size_t)tp_api_arg_int(c, "start", 0), limit = (size_t)tp_api_arg_int(c, "limit", 50);
	tp_task_info *v;
	size_t n;
	if ((r = tp_task_list(&f, &v, &n, err)) < 0)
		return r;
	json_t *arr = json_array();
	size_t matched = 0;
	for (size_t i = 0; i < n; i++) {
		if (!all && !owns_task(c, v[i].upid.authid))
			continue;
		if (userfilter && !strstr(v[i].upid.authid, userfilter))
			continue;
		if (errors_only && (v[i].running || !strcmp(v[i].status, "OK")))
			continue;
		if (matched++ < start)
			continue;
		if (limit && json_array_size(arr) >= limit)
			continue;
		json_array_append_new(arr, task_item(&v[i]));
	}
	free(v);
	tp_api_set_extra(c, "total", json_integer((json_int_t)matched));
	*data = arr;
	return 0;
}

/* Loads the task and checks that the caller may see it (own, or audit; modify for stop). */
static int task_access(const tp_api_call *c, uint64_t priv, tp_task_info *ti, tp_err *err)
{
	int r = check_node(c, err);
	if (r < 0)
		return r;
	const char *upid = tp_api_arg_str(c, "upid");
	if ((r = tp_task_status(upid, ti, err)) < 0)
		return r;
	if (!owns_task(c, ti->upid.authid) && (r = tp_api_check_priv(c, "/system/tasks", priv, 0, err)) < 0)
		return r;
	return 0;
}

int h_task_index(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_task_info ti;
	int r = task_access(c, TP_PRIV_SYS_AUDIT, &ti, err);
	if (r < 0)
		return r;
	*data = json_pack("[{s:s},{s:s}]", "subdir", "log", "subdir", "status");
	return 0;
}

int h_task_status(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_task_info t;
	int r = task_access(c, TP_PRIV_SYS_AUDIT, &t, err);
	if (r < 0)
		return r;
	json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:o,s:s,s:s}", "upid", t.upid_str, "node", t.upid.node, "pid",
			      (json_int_t)t.upid.pid, "pstart", (json_int_t)t.upid.pstart, "starttime",
			      (json_int_t)t.upid.starttime, "type", t.upid.worker_type, "id",
			      t.upid.worker_id[0] ? json_string(t.upid.worker_id) : json_null(), "user", t.upid.authid,
			      "status", t.running ? "running" : "stopped");
	if (strchr(t.upid.authid, '!'))
		json_object_set_new(o, "tokenid", json_string(strchr(t.upid.authid, '!') + 1));
	if (!t.running) {
		json_object_set_new(o, "exitstatus", json_string(t.status));
		json_object_set_new(o, "endtime", json_integer(t.endtime));
	}
	*data = o;
	return 0;
}

int h_task_log(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_task_info t;
	int r = task_access(c, TP_PRIV_SYS_AUDIT, &t, err);
	if (r < 0)
		return r;
	tp_buf b = TP_BUF_INIT;
	if ((r = tp_task_read_log(t.upid_str, &b, err)) < 0) {
		tp_buf_free(&b);
		return r;
	}
	int64_t start = tp_api_arg_int(c, "start", 0), limit = tp_api_arg_int(c, "limit", 50);
	json_t *arr = json_array();
	char *s = (char *)tp_buf_cstr(&b), *save = NULL;
	int64_t n = 0;
	for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		n++;
		if (n - 1 < start || (limit && n - 1 >= start + limit))
			continue;
		json_array_append_new(arr, json_pack("{s:I,s:s}", "n", (json_int_t)n, "t", l));
	}
	tp_buf_free(&b);
	tp_api_set_extra(c, "total", json_integer(n));
	tp_api_set_extra(c, "active", json_boolean(t.running));
	*data = arr;
	return 0;
}

int h_task_stop(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_task_info t;
	int r = task_access(c, TP_PRIV_SYS_MODIFY, &t, err);
	if (r < 0)
		return r;
	if (!t.running)
		return tp_err_set(err, -EINVAL, "parameter 'upid': task %s is not running", t.upid_str);
	return tp_task_stop(t.upid_str, err);
}
