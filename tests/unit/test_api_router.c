/* Unit test: API route lookup, parameter validation, auth/privilege errors, handlers, workers, CSRF, server basics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "access/acl.h"
#include "access/user.h"
#include "api/handlers.h"
#include "api/router.h"
#include "api/server.h"
#include "api/tls_cert.h"
#include "api/worker.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/timefmt.h"
#include "task/task.h"

static char home[64];

static int setup_home(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-test-api.XXXXXX");
	if (!mkdtemp(home))
		return -1;
	setenv("TAPIR_HOME", home, 1);
	tp_log_set_quiet(1);
	return 0;
}

static int teardown_home(void **state)
{
	(void)state;
	tp_rm_rf(home, NULL);
	return 0;
}

/* Dispatches and returns the status; *resp receives the response (caller frees). */
static int call(enum tp_http_method m, const char *path, const char *authid, const char *query_json,
		const char *body_json, json_t **resp)
{
	json_t *q = query_json ? json_loads(query_json, 0, NULL) : NULL;
	json_t *b = body_json ? json_loads(body_json, 0, NULL) : NULL;
	tp_api_request req = { m, path, authid, q, b };
	json_t *r = NULL;
	int st = tp_api_dispatch(&req, &r);
	json_decref(q);
	json_decref(b);
	if (resp)
		*resp = r;
	else
		json_decref(r);
	return st;
}

static const char *msg_of(json_t *r) { return json_string_value(json_object_get(r, "message")); }

static void test_route_find(void **state)
{
	(void)state;
	tp_err e = { 0 };
	json_t *p = json_object();
	const tp_api_route *r = tp_api_route_find(TP_HTTP_GET, "admin/datastore/s1/snapshots", p, &e);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(p, "store")), "s1");
	r = tp_api_route_find(TP_HTTP_DELETE, "nodes/localhost/tasks/UPID:x", p, &e);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_task_stop);
	assert_null(tp_api_route_find(TP_HTTP_GET, "nosuch/path", p, &e));
	assert_int_equal(e.code, -TP_ENOTFOUND);
	assert_null(tp_api_route_find(TP_HTTP_PUT, "config/datastore", p, &e));
	assert_int_equal(e.code, -ENOTSUP);
	assert_null(tp_api_route_find(TP_HTTP_GET, "config//datastore", p, &e));
	assert_null(tp_api_route_find(TP_HTTP_GET, "", p, &e));
	r = tp_api_route_find(TP_HTTP_POST, "tape/restore-single", p, &e);
	assert_non_null(r);
	assert_ptr_equal(r->fn, h_tape_restore);
	/* drive and GC paths: PBS's privileges on the paths the ACL editor accepts */
	static const struct {
		enum tp_http_method m;
		const char *path;
		uint64_t priv;
		const char *acl;
	} pbs[] = {
		{ TP_HTTP_POST, "tape/drive/d0/load-media", TP_PRIV_TAPE_READ, "/tape/device/{drive}" },
		{ TP_HTTP_POST, "tape/drive/d0/unload", TP_PRIV_TAPE_READ, "/tape/device/{drive}" },
		{ TP_HTTP_POST, "tape/drive/d0/eject-media", TP_PRIV_TAPE_READ, "/tape/device/{drive}" },
		{ TP_HTTP_POST, "tape/drive/d0/label-media", TP_PRIV_TAPE_WRITE, "/tape/device/{drive}" },
		{ TP_HTTP_GET, "tape/drive/d0/read-label", TP_PRIV_TAPE_READ, "/tape/device/{drive}" },
		{ TP_HTTP_GET, "tape/drive/d0/inventory", TP_PRIV_TAPE_READ, "/tape/device/{drive}" },
		{ TP_HTTP_PUT, "tape/drive/d0/inventory", TP_PRIV_TAPE_READ, "/tape/device/{drive}" },
		{ TP_HTTP_POST, "tape/drive/d0/catalog", TP_PRIV_TAPE_READ, "/tape/device/{drive}" },
		{ TP_HTTP_GET, "tape/drive/d0/status", TP_PRIV_TAPE_AUDIT, "/tape/device/{drive}" },
		{ TP_HTTP_POST, "admin/datastore/s1/gc", TP_PRIV_DATASTORE_MODIFY, "/datastore/{store}" },
		{ TP_HTTP_GET, "admin/datastore/s1/gc", TP_PRIV_DATASTORE_AUDIT, "/datastore/{store}" },
	};
	for (size_t i = 0; i < sizeof(pbs) / sizeof(pbs[0]); i++) {
		json_object_clear(p);
		r = tp_api_route_find(pbs[i].m, pbs[i].path, p, &e);
		if (!r)
			fail_msg("%s: %s", pbs[i].path, e.msg);
		assert_true(r->priv == pbs[i].priv);
		assert_string_equal(r->acl_path, pbs[i].acl);
		assert_string_equal(json_string_value(json_object_get(p, strstr(pbs[i].acl, "drive") ? "drive" : "store")),
				    strstr(pbs[i].acl, "drive") ? "d0" : "s1");
	}
	assert_null(tp_api_route_find(TP_HTTP_DELETE, "tape/drive/d0/status", p, &e));
	assert_int_equal(e.code, -ENOTSUP);
	json_decref(p);
	/* every route's template parameters are in its schema */
	for (const tp_api_route *rt = tp_api_routes; rt->path; rt++)
		for (const char *s = strchr(rt->path, '{'); s; s = strchr(s + 1, '{')) {
			char name[64];
			size_t n = strcspn(s + 1, "}");
			snprintf(name, sizeof(name), "%.*s", (int)n, s + 1);
			int found = 0;
			for (const tp_api_param *pp = rt->params; pp->name; pp++)
				found |= !strcmp(pp->name, name);
			if (!found)
				fail_msg("route %s: path parameter %s not in schema", rt->path, name);
		}
}

static void test_validate(void **state)
{
	(void)state;
	json_t *r;
	/* unknown parameter, wrong type, overlong string, traversal: 400 naming the parameter */
	assert_int_equal(call(TP_HTTP_GET, "nodes/localhost/tasks", "root@pam", "{\"bogus\":\"1\"}", NULL, &r), 400);
	assert_non_null(strstr(msg_of(r), "'bogus'"));
	assert_non_null(json_object_get(json_object_get(r, "errors"), "bogus"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "nodes/localhost/tasks", "root@pam", "{\"limit\":\"ten\"}", NULL, &r), 400);
	assert_non_null(strstr(msg_of(r), "'limit'"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "nodes/localhost/tasks", "root@pam", "{\"limit\":\"10\"}", NULL, NULL), 200);
	assert_int_equal(call(TP_HTTP_POST, "config/datastore", "root@pam", NULL, "{\"name\":\"abc\",\"path\":5}", &r), 400);
	assert_non_null(strstr(msg_of(r), "'path'"));
	json_decref(r);
	char big[600], body[700];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	snprintf(body, sizeof(body), "{\"username\":\"x@pbs\",\"password\":\"p\",\"x\":\"%s\"}", big);
	assert_int_equal(call(TP_HTTP_POST, "access/ticket", NULL, NULL, body, &r), 400);
	json_decref(r);
	snprintf(body, sizeof(body), "{\"name\":\"%.300s\",\"path\":\"/tmp/x\"}", big);
	assert_int_equal(call(TP_HTTP_POST, "config/datastore", "root@pam", NULL, body, &r), 400);
	assert_non_null(strstr(msg_of(r), "'name'"));
	assert_non_null(strstr(msg_of(r), "longer than"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "admin/datastore/../snapshots", "root@pam", NULL, NULL, &r), 400);
	assert_non_null(strstr(msg_of(r), "'store'"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "config/drive/..", "root@pam", NULL, NULL, &r), 400);
	assert_non_null(strstr(msg_of(r), "'name'"));
	json_decref(r);
	const char *restore = "{\"store\":\"s1\",\"drive\":\"d1\",\"media-set\":\"00000000-0000-0000-0000-000000000001\","
			      "\"snapshots\":[\"store1:vm/100/../../etc\"]}";
	assert_int_equal(call(TP_HTTP_POST, "tape/restore", "root@pam", NULL, restore, &r), 400);
	assert_non_null(strstr(msg_of(r), "'snapshots'"));
	json_decref(r);
	restore = "{\"store\":\"s1\",\"drive\":\"../d\",\"media-set\":\"00000000-0000-0000-0000-000000000001\"}";
	assert_int_equal(call(TP_HTTP_POST, "tape/restore-single", "root@pam", NULL, restore, &r), 400);
	assert_non_null(strstr(msg_of(r), "'drive'"));
	json_decref(r);
	/* PBS's notification-mode: its two values pass the schema (the unknown media set is what fails), others do not */
	restore = "{\"store\":\"s1\",\"drive\":\"d1\",\"media-set\":\"00000000-0000-0000-0000-000000000001\","
		  "\"notification-mode\":\"bogus\"}";
	assert_int_equal(call(TP_HTTP_POST, "tape/restore", "root@pam", NULL, restore, &r), 400);
	assert_non_null(strstr(msg_of(r), "'notification-mode'"));
	json_decref(r);
	restore = "{\"store\":\"s1\",\"drive\":\"d1\",\"media-set\":\"00000000-0000-0000-0000-000000000001\","
		  "\"notification-mode\":\"notification-system\"}";
	int code = call(TP_HTTP_POST, "tape/restore", "root@pam", NULL, restore, &r);
	assert_null(strstr(msg_of(r), "notification-mode"));
	assert_true(code != 200);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_POST, "tape/backup", "root@pam", NULL,
			      "{\"store\":\"s1x\",\"pool\":\"p1\",\"drive\":\"d1\",\"notification-mode\":\"x\"}", &r), 400);
	assert_non_null(strstr(msg_of(r), "'notification-mode'"));
	json_decref(r);
	/* missing required parameter; path and body disagreeing */
	assert_int_equal(call(TP_HTTP_POST, "config/datastore", "root@pam", NULL, "{\"name\":\"abc\"}", &r), 400);
	assert_non_null(strstr(msg_of(r), "'path'"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "config/drive/d1", "root@pam", "{\"name\":\"d2\"}", NULL, &r), 400);
	json_decref(r);
	/* booleans from text and JSON, lists */
	const tp_api_route *rt = tp_api_route_find(TP_HTTP_GET, "nodes/localhost/tasks", NULL, NULL);
	json_t *q = json_pack("{s:s,s:s}", "running", "yes", "node", "localhost"), *args = NULL;
	const char *badp = NULL;
	assert_int_equal(tp_api_validate(rt, NULL, q, NULL, &args, &badp, NULL), 0);
	assert_true(json_is_true(json_object_get(args, "running")));
	json_decref(args);
	json_decref(q);
	q = json_pack("{s:s}", "running", "maybe");
	assert_int_equal(tp_api_validate(rt, NULL, q, NULL, &args, &badp, NULL), -EINVAL);
	assert_string_equal(badp, "running");
	json_decref(q);
	q = json_pack("{s:[s,s]}", "limit", "1", "2");
	assert_int_equal(tp_api_validate(rt, NULL, q, NULL, &args, &badp, NULL), -EINVAL);
	assert_string_equal(badp, "limit");
	json_decref(q);
	rt = tp_api_route_find(TP_HTTP_POST, "tape/restore", NULL, NULL);
	json_t *b = json_pack("{s:s,s:s,s:s,s:s}", "store", "s1", "drive", "d1", "media-set",
			      "00000000-0000-0000-0000-000000000001", "snapshots", "store1:vm/100/2026-01-01T00:00:00Z");
	assert_int_equal(tp_api_validate(rt, NULL, NULL, b, &args, &badp, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(args, "snapshots")), 1);
	json_decref(args);
	json_decref(b);
	b = json_pack("{s:i}", "store", 7);
	assert_int_equal(tp_api_validate(rt, NULL, NULL, b, &args, &badp, NULL), -EINVAL);
	assert_string_equal(badp, "store");
	json_decref(b);
}

static void test_auth_and_privileges(void **state)
{
	(void)state;
	json_t *r;
	tp_err e = { 0 };
	assert_int_equal(call(TP_HTTP_GET, "config/datastore", NULL, NULL, NULL, &r), 401);
	assert_non_null(strstr(msg_of(r), "authentication"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "access/ticket", NULL, NULL, NULL, NULL), 200);
	assert_int_equal(call(TP_HTTP_POST, "access/users", "root@pam", NULL,
			      "{\"userid\":\"bob@pbs\",\"password\":\"bobsecret1\"}", NULL), 200);
	assert_int_equal(call(TP_HTTP_POST, "access/users", "root@pam", NULL, "{\"userid\":\"bob@pbs\"}", &r), 409);
	json_decref(r);
	/* login */
	assert_int_equal(call(TP_HTTP_POST, "access/ticket", NULL, NULL, "{\"username\":\"bob@pbs\",\"password\":\"wrongpass\"}",
			      &r), 403);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_POST, "access/ticket", NULL, NULL,
			      "{\"username\":\"bob@pbs\",\"password\":\"bobsecret1\"}", &r), 200);
	const char *csrf = json_string_value(json_object_get(json_object_get(r, "data"), "CSRFPreventionToken"));
	assert_non_null(csrf);
	assert_int_equal(tp_api_csrf_verify("bob@pbs", csrf, tp_now(), &e), 0);
	assert_int_equal(tp_api_csrf_verify("eve@pbs", csrf, tp_now(), &e), -TP_EPERM);
	assert_int_equal(tp_api_csrf_verify("bob@pbs", csrf, tp_now() + 3 * 86400, &e), -TP_EPERM);
	assert_int_equal(tp_api_csrf_verify("bob@pbs", "garbage", tp_now(), &e), -TP_EPERM);
	json_decref(r);
	/* bob has no privileges: 403, then with DatastoreAdmin on /datastore 200 */
	assert_int_equal(call(TP_HTTP_POST, "config/datastore", "bob@pbs", NULL,
			      "{\"name\":\"store1\",\"path\":\"/tmp/tapir-nonexistent-xyz\"}", &r), 403);
	assert_non_null(strstr(msg_of(r), "Datastore.Allocate"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_PUT, "access/acl", "bob@pbs", NULL,
			      "{\"path\":\"/datastore\",\"role\":\"Admin\",\"auth-id\":\"bob@pbs\"}", NULL), 403);
	assert_int_equal(call(TP_HTTP_PUT, "access/acl", "root@pam", NULL,
			      "{\"path\":\"/datastore\",\"role\":\"Admin\",\"auth-id\":\"bob@pbs\"}", NULL), 200);
	char *dir = tp_strdup_printf("%s/ds1", home);
	char body[512];
	snprintf(body, sizeof(body), "{\"name\":\"store1\",\"path\":\"%s\"}", dir);
	assert_int_equal(call(TP_HTTP_POST, "config/datastore", "bob@pbs", NULL, body, &r), 200);
	json_decref(r);
	free(dir);
	assert_int_equal(call(TP_HTTP_GET, "config/datastore", "bob@pbs", NULL, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r, "data")), 1);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "admin/datastore/store1/snapshots", "bob@pbs", NULL, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r, "data")), 0);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "admin/datastore/nosuch/snapshots", "root@pam", NULL, NULL, &r), 404);
	json_decref(r);
	/* tape paths: drives and changers are /tape/device/NAME */
	assert_int_equal(call(TP_HTTP_GET, "config/drive/d1", "bob@pbs", NULL, NULL, &r), 403);
	assert_non_null(strstr(msg_of(r), "/tape/device/d1"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "tape/media/destroy", "bob@pbs", "{\"label-text\":\"T1\"}", NULL, &r), 403);
	json_decref(r);
	/* permissions of oneself */
	assert_int_equal(call(TP_HTTP_GET, "access/permissions", "bob@pbs", NULL, NULL, &r), 200);
	assert_non_null(json_object_get(json_object_get(json_object_get(r, "data"), "/datastore"), "Datastore.Allocate"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "access/permissions", "bob@pbs", "{\"auth-id\":\"root@pam\"}", NULL, &r), 403);
	json_decref(r);
	/* a user sees only itself */
	assert_int_equal(call(TP_HTTP_GET, "access/users", "bob@pbs", NULL, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r, "data")), 1);
	json_decref(r);
	/* tokens: secret shown once, and listed */
	assert_int_equal(call(TP_HTTP_POST, "access/users/bob@pbs/token/tok1", "bob@pbs", NULL, NULL, &r), 200);
	assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(r, "data"), "value"))), 36);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "access/users/bob@pbs/token", "bob@pbs", NULL, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r, "data")), 1);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "access/users/root@pam/token", "bob@pbs", NULL, NULL, &r), 403);
	json_decref(r);
	/* local calls from the CLI */
	json_t *data = NULL;
	assert_int_equal(tp_api_call_local(TP_HTTP_GET, "config/datastore", NULL, NULL, &data, &e), 0);
	assert_int_equal(json_array_size(data), 1);
	json_decref(data);
	assert_int_equal(tp_api_call_local(TP_HTTP_GET, "no/where", NULL, NULL, &data, &e), -TP_ENOTFOUND);
	/* the handler's own code comes back, not one guessed from the HTTP status */
	json_t *args = json_pack("{s:s}", "userid", "bob@pbs");
	assert_int_equal(tp_api_call_local(TP_HTTP_POST, "access/users", NULL, args, &data, &e), -TP_EEXISTS);
	assert_null(data);
	/* by route pattern: path parameters are ordinary arguments, checked by the schema */
	assert_int_equal(tp_api_call_route(TP_HTTP_GET, "access/users/{userid}", NULL, args, &data, &e), 0);
	assert_string_equal(json_string_value(json_object_get(data, "userid")), "bob@pbs");
	json_decref(data);
	json_decref(args);
	args = json_pack("{s:s}", "userid", "../x@pbs");
	assert_int_equal(tp_api_call_route(TP_HTTP_GET, "access/users/{userid}", NULL, args, &data, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "parameter 'userid'"));
	json_decref(args);
	args = json_object();
	assert_int_equal(tp_api_call_route(TP_HTTP_GET, "access/users/{userid}", NULL, args, &data, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "parameter 'userid'"));
	assert_int_equal(tp_api_call_route(TP_HTTP_DELETE, "access/ticket", NULL, args, &data, &e), -TP_ENOTFOUND);
	/* root@pam is listed without an entry of its own */
	assert_int_equal(tp_api_call_route(TP_HTTP_GET, "access/users", NULL, args, &data, &e), 0);
	assert_string_equal(json_string_value(json_object_get(json_array_get(data, 0), "userid")), "root@pam");
	json_decref(data);
	json_decref(args);
}

static int slow_worker(void *arg, tp_err *err)
{
	int *secs = arg;
	tp_info("slow worker: %d seconds", *secs);
	for (int i = 0; i < *secs * 20; i++) {
		int r = tp_task_check_abort(err);
		if (r < 0)
			return r;
		usleep(50000);
	}
	return 0;
}

static void test_workers_and_tasks(void **state)
{
	(void)state;
	json_t *r;
	char upid[TP_UPID_MAX], path[TP_UPID_MAX + 64];
	static int long_secs = 30, short_secs = 0;
	tp_api_workers_reset();
	assert_int_equal(tp_api_worker_start("testwork", "a/b", "bob@pbs", slow_worker, &long_secs, NULL, upid, NULL), 0);
	assert_true(tp_api_worker_is_running(upid));
	assert_int_equal(tp_api_workers_running(), 1);
	/* bob sees his task; an unknown caller with no rights sees nothing */
	assert_int_equal(call(TP_HTTP_GET, "nodes/localhost/tasks", "bob@pbs", "{\"running\":\"1\"}", NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r, "data")), 1);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_POST, "access/users", "root@pam", NULL, "{\"userid\":\"carol@pbs\"}", NULL), 200);
	assert_int_equal(call(TP_HTTP_GET, "nodes/localhost/tasks", "carol@pbs", NULL, NULL, &r), 200);
	assert_int_equal(json_array_size(json_object_get(r, "data")), 0);
	json_decref(r);
	snprintf(path, sizeof(path), "nodes/localhost/tasks/%s", upid);
	assert_int_equal(call(TP_HTTP_DELETE, path, "carol@pbs", NULL, NULL, &r), 403);
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "nodes/othernode/tasks", "bob@pbs", NULL, NULL, &r), 404);
	json_decref(r);
	snprintf(path, sizeof(path), "nodes/localhost/tasks/%s/status", upid);
	assert_int_equal(call(TP_HTTP_GET, path, "bob@pbs", NULL, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "status")), "running");
	json_decref(r);
	/* abort via DELETE; the worker ends "aborted" */
	snprintf(path, sizeof(path), "nodes/localhost/tasks/%s", upid);
	assert_int_equal(call(TP_HTTP_DELETE, path, "bob@pbs", NULL, NULL, NULL), 200);
	for (int i = 0; i < 100 && tp_api_workers_running(); i++)
		usleep(50000);
	assert_int_equal(tp_api_workers_running(), 0);
	snprintf(path, sizeof(path), "nodes/localhost/tasks/%s/status", upid);
	assert_int_equal(call(TP_HTTP_GET, path, "bob@pbs", NULL, NULL, &r), 200);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "exitstatus")), "aborted");
	json_decref(r);
	snprintf(path, sizeof(path), "nodes/localhost/tasks/%s/log", upid);
	assert_int_equal(call(TP_HTTP_GET, path, "bob@pbs", NULL, NULL, &r), 200);
	json_t *lines = json_object_get(r, "data");
	assert_true(json_array_size(lines) >= 2);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(lines, 0), "t")), "slow worker"));
	assert_int_equal(json_integer_value(json_object_get(r, "total")), (json_int_t)json_array_size(lines));
	json_decref(r);
	snprintf(path, sizeof(path), "nodes/localhost/tasks/%s", upid);
	assert_int_equal(call(TP_HTTP_DELETE, path, "bob@pbs", NULL, NULL, &r), 400);
	json_decref(r);

	/* two concurrent workers log into their own task logs */
	char u1[TP_UPID_MAX], u2[TP_UPID_MAX];
	assert_int_equal(tp_api_worker_start("testwork", "one", "root@pam", slow_worker, &short_secs, NULL, u1, NULL), 0);
	assert_int_equal(tp_api_worker_start("testwork", "two", "root@pam", slow_worker, &short_secs, NULL, u2, NULL), 0);
	for (int i = 0; i < 100 && tp_api_workers_running(); i++)
		usleep(20000);
	tp_task_info ti;
	assert_int_equal(tp_task_status(u1, &ti, NULL), 0);
	assert_string_equal(ti.status, "OK");
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_task_read_log(u2, &b, NULL), 0);
	assert_int_equal(strstr(tp_buf_cstr(&b), "slow worker: 0 seconds") != NULL, 1);
	assert_null(strstr(tp_buf_cstr(&b), u1));
	tp_buf_free(&b);

	/* shutdown aborts running workers and refuses new ones */
	assert_int_equal(tp_api_worker_start("testwork", "three", "root@pam", slow_worker, &long_secs, NULL, u1, NULL), 0);
	assert_int_equal(tp_api_workers_shutdown(5000), 0);
	assert_int_equal(tp_task_status(u1, &ti, NULL), 0);
	assert_string_equal(ti.status, "aborted");
	tp_err e = { 0 };
	assert_int_equal(tp_api_worker_start("testwork", "four", "root@pam", slow_worker, &short_secs, NULL, u2, &e),
			 -ESHUTDOWN);
	tp_api_workers_reset();
}

static void test_jobs_api(void **state)
{
	(void)state;
	json_t *r;
	const char *job = "{\"id\":\"job1\",\"store\":\"store1\",\"pool\":\"pool1\",\"drive\":\"drive1\",\"schedule\":\"daily\"}";
	assert_int_equal(call(TP_HTTP_POST, "config/tape-backup-job", "bob@pbs", NULL, job, &r), 403);
	assert_non_null(strstr(msg_of(r), "/tape/job"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_POST, "config/tape-backup-job", "root@pam", NULL, job, NULL), 200);
	assert_int_equal(call(TP_HTTP_POST, "config/tape-backup-job", "root@pam", NULL, job, NULL), 409);
	assert_int_equal(call(TP_HTTP_PUT, "config/tape-backup-job/job1", "root@pam", NULL,
			      "{\"schedule\":\"mon..fri 02:00\",\"comment\":\"c\"}", NULL), 200);
	assert_int_equal(call(TP_HTTP_PUT, "config/tape-backup-job/job1", "root@pam", NULL, "{\"schedule\":\"never ever\"}", &r),
			 400);
	assert_non_null(strstr(msg_of(r), "'schedule'"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_PUT, "config/tape-backup-job/job1", "root@pam", NULL, "{\"delete\":[\"comment\"]}", NULL),
			 200);
	assert_int_equal(call(TP_HTTP_GET, "config/tape-backup-job/job1", "root@pam", NULL, NULL, &r), 200);
	json_t *d = json_object_get(r, "data");
	assert_string_equal(json_string_value(json_object_get(d, "schedule")), "mon..fri 02:00");
	assert_null(json_object_get(d, "comment"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_GET, "tape/backup", "root@pam", NULL, NULL, &r), 200);
	assert_non_null(json_object_get(json_array_get(json_object_get(r, "data"), 0), "next-run"));
	json_decref(r);
	assert_int_equal(call(TP_HTTP_DELETE, "config/tape-backup-job/job1", "root@pam", NULL, NULL, NULL), 200);
	assert_int_equal(call(TP_HTTP_GET, "config/tape-backup-job/job1", "root@pam", NULL, NULL, NULL), 404);
}

static void test_status_map(void **state)
{
	(void)state;
	assert_int_equal(tp_api_status_of(-EINVAL), 400);
	assert_int_equal(tp_api_status_of(-TP_EPERM), 403);
	assert_int_equal(tp_api_status_of(-TP_ENOTFOUND), 404);
	assert_int_equal(tp_api_status_of(-TP_ELOCKED), 409);
	assert_int_equal(tp_api_status_of(-ENOMEDIUM), 409);
	assert_int_equal(tp_api_status_of(-TP_EWRONGMEDIA), 409);
	assert_int_equal(tp_api_status_of(-EFBIG), 413);
	assert_int_equal(tp_api_status_of(-EIO), 500);
}

/* One plain HTTP exchange; returns the status code. */
static int http(unsigned port, const char *request, char *out, size_t outlen)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	if (write(fd, request, strlen(request)) < 0) {
		close(fd);
		return -1;
	}
	size_t n = 0;
	ssize_t k;
	while (n + 1 < outlen && (k = read(fd, out + n, outlen - 1 - n)) > 0)
		n += (size_t)k;
	out[n] = 0;
	close(fd);
	int status = 0;
	sscanf(out, "HTTP/1.%*d %d", &status);
	return status;
}

static void test_server(void **state)
{
	(void)state;
	tp_err e = { 0 };
	struct sockaddr_storage ss;
	unsigned len;
	int lo;
	assert_int_equal(tp_server_parse_listen("127.0.0.1:8007", &ss, &len, &lo, &e), 0);
	assert_true(lo);
	assert_int_equal(tp_server_parse_listen("[::1]:8007", &ss, &len, &lo, &e), 0);
	assert_true(lo);
	assert_int_equal(tp_server_parse_listen("10.1.2.3:1", &ss, &len, &lo, &e), 0);
	assert_false(lo);
	assert_int_equal(tp_server_parse_listen("localhost:8007", &ss, &len, &lo, &e), -EINVAL);
	assert_int_equal(tp_server_parse_listen("127.0.0.1:99999", &ss, &len, &lo, &e), -EINVAL);
	assert_int_equal(tp_server_parse_listen("127.0.0.1", &ss, &len, &lo, &e), -EINVAL);

	tp_server *s;
	tp_server_opts o = { "10.1.2.3:0", 1, 0, -1 };
	assert_int_equal(tp_server_start(&o, &s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "loopback"));
	tp_server_opts o2 = { "127.0.0.1:0", 1, 4096, -1 };
	assert_int_equal(tp_server_start(&o2, &s, &e), 0);
	unsigned port = tp_server_port(s);
	assert_true(port > 0);
	char buf[8192];
	assert_int_equal(http(port, "GET /api2/json/config/datastore HTTP/1.0\r\n\r\n", buf, sizeof(buf)), 401);
	assert_int_equal(http(port, "GET /other HTTP/1.0\r\n\r\n", buf, sizeof(buf)), 404);
	assert_int_equal(http(port, "POST /api2/json/access/ticket HTTP/1.0\r\nContent-Length: 100000\r\n\r\n", buf,
			      sizeof(buf)), 413);
	assert_int_equal(http(port,
			      "POST /api2/json/access/ticket HTTP/1.0\r\nContent-Type: application/json\r\n"
			      "Content-Length: 9\r\n\r\n{\"user\":1",
			      buf, sizeof(buf)), 400);
	assert_non_null(strstr(buf, "request body"));
	/* a ticket works for GET; POST needs the CSRF token */
	const char *login = "{\"username\":\"bob@pbs\",\"password\":\"bobsecret1\"}";
	char req[1024];
	snprintf(req, sizeof(req),
		 "POST /api2/json/access/ticket HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 strlen(login), login);
	assert_int_equal(http(port, req, buf, sizeof(buf)), 200);
	json_t *j = json_loads(strstr(buf, "\r\n\r\n") + 4, 0, NULL);
	const char *ticket = json_string_value(json_object_get(json_object_get(j, "data"), "ticket"));
	snprintf(req, sizeof(req), "GET /api2/json/config/datastore HTTP/1.0\r\nCookie: PBSAuthCookie=%s\r\n\r\n", ticket);
	assert_int_equal(http(port, req, buf, sizeof(buf)), 200);
	snprintf(req, sizeof(req), "DELETE /api2/json/config/datastore/store1 HTTP/1.0\r\nCookie: PBSAuthCookie=%s\r\n\r\n",
		 ticket);
	assert_int_equal(http(port, req, buf, sizeof(buf)), 401);
	assert_non_null(strstr(buf, "CSRF"));
	json_decref(j);
	assert_int_equal(tp_server_stop(s, 1000), 0);
}

static void test_tls_cert(void **state)
{
	(void)state;
	tp_err e = { 0 };
	char *c1, *k1, *c2, *k2, fp1[TP_TLS_FINGERPRINT_LEN], fp2[TP_TLS_FINGERPRINT_LEN];
	int created;
	assert_int_equal(tp_tls_cert_ensure(&c1, &k1, fp1, &created, &e), 0);
	assert_true(created);
	assert_int_equal(strlen(fp1), 95);
	char *kp = tp_config_path("proxy.key");
	struct stat st;
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	free(kp);
	assert_int_equal(tp_tls_cert_ensure(&c2, &k2, fp2, &created, &e), 0);
	assert_false(created);
	assert_string_equal(fp1, fp2);
	assert_string_equal(c1, c2);
	assert_int_equal(tp_tls_cert_fingerprint("not a cert", fp2, &e), -EINVAL);
	free(c1);
	free(k1);
	free(c2);
	free(k2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_find),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_auth_and_privileges),
		cmocka_unit_test(test_workers_and_tasks),
		cmocka_unit_test(test_jobs_api),
		cmocka_unit_test(test_status_map),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_tls_cert),
	};
	return cmocka_run_group_tests(tests, setup_home, teardown_home);
}
