/* REST API router: route lookup, parameter validation, privilege checks, error mapping (see router.h). */
#include "api/router.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access/acl.h"
#include "access/user.h"
#include "base/calendar.h"
#include "base/timefmt.h"
#include "format/media_label.h"
#include "store/datastore.h"
#include "tape/backup_job.h"
#include "tape/drive_config.h"
#include "tape/pool_config.h"
#include "task/task.h"

#define DEFAULT_STR_MAX 256
#define STRLIST_MAX_ITEMS 1024

const char *tp_http_method_name(enum tp_http_method m)
{
	switch (m) {
	case TP_HTTP_GET: return "GET";
	case TP_HTTP_POST: return "POST";
	case TP_HTTP_PUT: return "PUT";
	case TP_HTTP_DELETE: return "DELETE";
	}
	return "?";
}

enum tp_http_method tp_http_method_parse(const char *s)
{
	if (!strcmp(s, "GET") || !strcmp(s, "HEAD"))
		return TP_HTTP_GET;
	if (!strcmp(s, "POST"))
		return TP_HTTP_POST;
	if (!strcmp(s, "PUT"))
		return TP_HTTP_PUT;
	if (!strcmp(s, "DELETE"))
		return TP_HTTP_DELETE;
	return 0;
}

/* ---- checkers ---- */

static int no_ctrl(const char *v, tp_err *err)
{
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return tp_err_set(err, -EINVAL, "contains a control character");
	return 0;
}

int tp_api_check_safe_text(const char *v, tp_err *err) { return no_ctrl(v, err); }

int tp_api_check_notification_mode(const char *v, tp_err *err)
{
	if (strcmp(v, "legacy-sendmail") && strcmp(v, "notification-system"))
		return tp_err_set(err, -EINVAL, "expected legacy-sendmail or notification-system, not '%s'", v);
	return 0;
}

int tp_api_check_store(const char *v, tp_err *err) { return tp_valid_store_name(v, err) < 0 ? -EINVAL : 0; }

int tp_api_check_ns(const char *v, tp_err *err) { return tp_valid_ns(v, err) < 0 ? -EINVAL : 0; }

int tp_api_check_backup_type(const char *v, tp_err *err)
{
	return tp_valid_backup_type(v, err) < 0 ? -EINVAL : 0;
}

int tp_api_check_backup_id(const char *v, tp_err *err) { return tp_valid_backup_id(v, err) < 0 ? -EINVAL : 0; }

int tp_api_check_snapshot(const char *v, tp_err *err)
{
	/* restore accepts "store:snapshot" (PBS's snapshots[] form) as well as a bare snapshot path */
	const char *colon = strchr(v, ':');
	const char *snap = v;
	if (colon && colon - v <= TP_STORE_NAME_MAX && !memchr(v, '/', (size_t)(colon - v))) {
		char store[TP_STORE_NAME_MAX + 1];
		memcpy(store, v, (size_t)(colon - v));
		store[colon - v] = 0;
		if (tp_valid_store_name(store, err) < 0)
			return -EINVAL;
		snap = colon + 1;
	}
	tp_snapshot_ref ref;
	return tp_snapshot_ref_parse(snap, &ref, err) < 0 ? -EINVAL : 0;
}

int tp_api_check_tape_name(const char *v, tp_err *err)
{
	return tp_tape_name_valid(v, "name", err) < 0 ? -EINVAL : 0;
}

int tp_api_check_pool(const char *v, tp_err *err) { return tp_pool_valid_name(v, err) < 0 ? -EINVAL : 0; }
int tp_api_check_userid(const char *v, tp_err *err) { return tp_userid_check(v, err) < 0 ? -EINVAL : 0; }

int tp_api_check_authid(const char *v, tp_err *err)
{
	tp_authid a;
	return tp_authid_parse(v, &a, err) < 0 ? -EINVAL : 0;
}

int tp_api_check_token_name(const char *v, tp_err *err)
{
	return tp_token_name_check(v, err) < 0 ? -EINVAL : 0;
}

int tp_api_check_acl_path(const char *v, tp_err *err) { return tp_acl_path_check(v, err) < 0 ? -EINVAL : 0; }

int tp_api_check_role(const char *v, tp_err *err)
{
	return tp_role_lookup(v) ? 0 : tp_err_set(err, -EINVAL, "unknown role '%.64s'", v);
}

int tp_api_check_upid(const char *v, tp_err *err)
{
	tp_upid u;
	return tp_upid_parse(v, &u, err) < 0 ? -EINVAL : 0;
}

int tp_api_check_node(const char *v, tp_err *err)
{
	size_t n = strlen(v);
	if (n == 0 || n > 63)
		return tp_err_set(err, -EINVAL, "node name must have 1 to 63 characters");
	for (size_t i = 0; i < n; i++)
		if (!isascii((unsigned char)v[i]) || !(isalnum((unsigned char)v[i]) || (v[i] == '-' && i > 0)))
			return tp_err_set(err, -EINVAL, "'%s' is not a node name", v);
	return 0;
}

int tp_api_check_job_id(const char *v, tp_err *err)
{
	return tp_backup_job_id_valid(v, err) < 0 ? -EINVAL : 0;
}

int tp_api_check_uuid(const char *v, tp_err *err)
{
	uint8_t u[16];
	return tp_uuid_parse(v, u) < 0 ? tp_err_set(err, -EINVAL, "'%.64s' is not a UUID", v) : 0;
}

int tp_api_check_label(const char *v, tp_err *err)
{
	size_t n = strlen(v);
	if (n == 0 || n > TP_DRIVE_LABEL_MAX)
		return tp_err_set(err, -EINVAL, "label must have 1 to %d characters", TP_DRIVE_LABEL_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!isascii(c) || !(isalnum(c) || c == '_' || (i > 0 && (c == '-' || c == '.'))))
			return tp_err_set(err, -EINVAL, "label '%s': character %zu is not allowed", v, i + 1);
	}
	return 0;
}

int tp_api_check_abs_path(const char *v, tp_err *err)
{
	if (v[0] != '/')
		return tp_err_set(err, -EINVAL, "'%.64s' is not an absolute path", v);
	for (const char *p = v; *p;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return tp_err_set(err, -EINVAL, "path '%.64s' contains '.' or '..'", v);
		p += n;
	}
	return no_ctrl(v, err);
}

int tp_api_check_schedule(const char *v, tp_err *err)
{
	tp_calendar_event ev;
	return tp_calendar_parse(v, &ev, err) < 0 ? -EINVAL : 0;
}

/* ---- route lookup ---- */

/* Splits path into at most max components (empty ones refused); returns the count or -1. */
static int split(char *path, char **comp, int max)
{
	int n = 0;
	if (!*path)
		return 0;
	for (char *p = path;;) {
		char *s = strchr(p, '/');
		if (s)
			*s = 0;
		if (!*p || n == max)
			return -1;
		comp[n++] = p;
		if (!s)
			break;
		p = s + 1;
	}
	return n;
}

#define MAX_COMPONENTS 16
#define MAX_PATH_LEN 4096

const tp_api_route *tp_api_route_find(enum tp_http_method m, const char *path, json_t *params, tp_err *err)
{
	if (strlen(path) > MAX_PATH_LEN) {
		tp_err_set(err, -TP_ENOTFOUND, "no such path (too long)");
		return NULL;
	}
	char buf[MAX_PATH_LEN + 1], pbuf[512];
	char *comp[MAX_COMPONENTS], *pc[MAX_COMPONENTS];
	snprintf(buf, sizeof(buf), "%s", path);
	int n = split(buf, comp, MAX_COMPONENTS);
	int path_matched = 0;
	if (n > 0) {
		for (const tp_api_route *r = tp_api_routes; r->path; r++) {
			snprintf(pbuf, sizeof(pbuf), "%s", r->path);
			int pn = split(pbuf, pc, MAX_COMPONENTS);
			if (pn != n)
				continue;
			int ok = 1;
			for (int i = 0; i < n && ok; i++)
				ok = pc[i][0] == '{' || !strcmp(pc[i], comp[i]);
			if (!ok)
				continue;
			path_matched = 1;
			if (r->method != m)
				continue;
			if (params) {
				json_object_clear(params);
				for (int i = 0; i < n; i++)
					if (pc[i][0] == '{') {
						pc[i][strlen(pc[i]) - 1] = 0;
						json_object_set_new(params, pc[i] + 1, json_string(comp[i]));
					}
			}
			return r;
		}
	}
	if (path_matched)
		tp_err_set(err, -ENOTSUP, "method %s not allowed on '%.200s'", tp_http_method_name(m), path);
	else
		tp_err_set(err, -TP_ENOTFOUND, "no such path '%.200s'", path);
	return NULL;
}

/* ---- validation ---- */

static const tp_api_param *param_def(const tp_api_route *r, const char *name)
{
	for (const tp_api_param *p = r->params; p && p->name; p++)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

static int bad(const char **bad_param, const char *name, tp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int bad(const char **bad_param, const char *name, tp_err *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (bad_param)
		*bad_param = name;
	return tp_err_set(err, -EINVAL, "parameter '%.64s': %s", name, msg);
}

static int check_string(const tp_api_param *p, const char *s, size_t len, const char **bad_param, tp_err *err)
{
	size_t max = p->max > 0 ? (size_t)p->max : DEFAULT_STR_MAX;
	if (len > max)
		return bad(bad_param, p->name, err, "longer than %zu characters", max);
	if (strlen(s) != len)
		return bad(bad_param, p->name, err, "contains a NUL character");
	tp_err e = { 0 };
	if (no_ctrl(s, &e) < 0 || (p->check && p->check(s, &e) < 0))
		return bad(bad_param, p->name, err, "%s", e.msg[0] ? e.msg : "invalid value");
	return 0;
}

static int parse_bool_text(const char *s, int *out)
{
	static const char *const t[] = { "1", "true", "yes", "on" }, *const f[] = { "0", "false", "no", "off" };
	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(s, t[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, f[i]))
			return *out = 0, 0;
	}
	return -1;
}

/* Converts one value (from_text: query/path strings) into its typed JSON (new reference in *out). */
static int convert(const tp_api_param *p, const json_t *v, int from_text, json_t **out, const char **bad_param,
		   tp_err *err)
{
	*out = NULL;
	switch (p->type) {
	case TP_API_STR:
		if (!json_is_string(v))
			return bad(bad_param, p->name, err, "expected a string");
		if (check_string(p, json_string_value(v), json_string_length(v), bad_param, err) < 0)
			return -EINVAL;
		*out = json_incref((json_t *)v);
		return 0;
	case TP_API_INT: {
		json_int_t iv;
		if (from_text && json_is_string(v)) {
			const char *s = json_string_value(v);
			char *end;
			errno = 0;
			long long x = strtoll(s, &end, 10);
			if (!*s || *end || errno)
				return bad(bad_param, p->name, err, "expected an integer, got '%.32s'", s);
			iv = x;
		} else if (json_is_integer(v)) {
			iv = json_integer_value(v);
		} else {
			return bad(bad_param, p->name, err, "expected an integer");
		}
		if (iv < p->min || iv > p->max)
			return bad(bad_param, p->name, err, "%lld is not in %lld..%lld", (long long)iv, (long long)p->min,
				   (long long)p->max);
		*out = json_integer(iv);
		return 0;
	}
	case TP_API_BOOL: {
		int b;
		if (from_text && json_is_string(v)) {
			if (parse_bool_text(json_string_value(v), &b) < 0)
				return bad(bad_param, p->name, err, "expected a boolean, got '%.32s'", json_string_value(v));
		} else if (json_is_boolean(v)) {
			b = json_is_true(v);
		} else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
			b = (int)json_integer_value(v);
		} else {
			return bad(bad_param, p->name, err, "expected a boolean");
		}
		*out = json_boolean(b);
		return 0;
	}
	case TP_API_STRLIST: {
		json_t *arr = json_array();
		if (json_is_string(v)) {
			if (check_string(p, json_string_value(v), json_string_length(v), bad_param, err) < 0) {
				json_decref(arr);
				return -EINVAL;
			}
			json_array_append(arr, (json_t *)v);
		} else if (json_is_array(v)) {
			if (json_array_size(v) > STRLIST_MAX_ITEMS) {
				json_decref(arr);
				return bad(bad_param, p->name, err, "more than %d items", STRLIST_MAX_ITEMS);
			}
			size_t i;
			json_t *it;
			json_array_foreach(v, i, it) {
				if (!json_is_string(it)) {
					json_decref(arr);
					return bad(bad_param, p->name, err, "item %zu: expected a string", i);
				}
				if (check_string(p, json_string_value(it), json_string_length(it), bad_param, err) < 0) {
					json_decref(arr);
					return -EINVAL;
				}
				json_array_append(arr, it);
			}
		} else {
			json_decref(arr);
			return bad(bad_param, p->name, err, "expected an array of strings");
		}
		*out = arr;
		return 0;
	}
	}
	return bad(bad_param, p->name, err, "unsupported type");
}

/* Adds one source's members to args. */
static int merge(const tp_api_route *r, const json_t *src, int from_text, const char *srcname, json_t *args,
		 const char **bad_param, tp_err *err)
{
	if (!src)
		return 0;
	if (!json_is_object(src))
		return tp_err_set(err, -EINVAL, "%s: expected a JSON object", srcname);
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)src, key, v) {
		const tp_api_param *p = param_def(r, key);
		if (!p)
			return bad(bad_param, key, err, "unknown parameter");
		const json_t *val = v;
		/* a repeated query key arrives as an array; only list parameters take several values */
		if (from_text && json_is_array(v) && p->type != TP_API_STRLIST) {
			if (json_array_size(v) != 1)
				return bad(bad_param, p->name, err, "given more than once");
			val = json_array_get(v, 0);
		}
		json_t *typed;
		if (convert(p, val, from_text, &typed, bad_param, err) < 0)
			return -EINVAL;
		json_t *prev = json_object_get(args, key);
		if (prev && !json_equal(prev, typed)) {
			json_decref(typed);
			return bad(bad_param, p->name, err, "given twice with different values");
		}
		json_object_set_new(args, key, typed);
	}
	return 0;
}

int tp_api_validate(const tp_api_route *r, const json_t *path_params, const json_t *query, const json_t *body,
		    json_t **args, const char **bad_param, tp_err *err)
{
	json_t *a = json_object();
	*args = NULL;
	if (bad_param)
		*bad_param = NULL;
	if (!a)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int rc;
	if ((rc = merge(r, path_params, 1, "path", a, bad_param, err)) < 0 ||
	    (rc = merge(r, query, 1, "query", a, bad_param, err)) < 0 ||
	    (rc = merge(r, body, 0, "body", a, bad_param, err)) < 0) {
		json_decref(a);
		return rc;
	}
	for (const tp_api_param *p = r->params; p && p->name; p++)
		if ((p->flags & TP_API_REQUIRED) && !json_object_get(a, p->name)) {
			json_decref(a);
			return bad(bad_param, p->name, err, "missing (required)");
		}
	*args = a;
	return 0;
}

/* ---- arguments ---- */

json_t *tp_api_arg(const tp_api_call *c, const char *name) { return json_object_get(c->args, name); }

const char *tp_api_arg_str(const tp_api_call *c, const char *name)
{
	return json_string_value(json_object_get(c->args, name));
}

int64_t tp_api_arg_int(const tp_api_call *c, const char *name, int64_t def)
{
	json_t *v = json_object_get(c->args, name);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

int tp_api_arg_bool(const tp_api_call *c, const char *name, int def)
{
	json_t *v = json_object_get(c->args, name);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

void tp_api_set_extra(tp_api_call *c, const char *key, json_t *v)
{
	if (!c->extra)
		c->extra = json_object();
	json_object_set_new(c->extra, key, v);
}

/* ---- privileges ---- */

typedef struct acl_cache {
	tp_user_config users;
	tp_acl acl;
	int64_t now;
} acl_cache;

static void acl_cache_free(tp_api_call *c)
{
	acl_cache *k = c->acl_cache;
	if (k) {
		tp_user_config_free(&k->users);
		tp_acl_free(&k->acl);
		free(k);
		c->acl_cache = NULL;
	}
}

int tp_api_check_priv(const tp_api_call *c, const char *acl_path, uint64_t need, int any, tp_err *err)
{
	if (!c->authid[0])
		return tp_err_set(err, -TP_EPERM, "permission check failed: not authenticated");
	/* list handlers check every item: read the configuration once per call */
	tp_api_call *mc = (tp_api_call *)c;
	int r;
	if (!mc->acl_cache) {
		acl_cache *k = calloc(1, sizeof(*k));
		if (!k)
			return tp_err_set(err, -ENOMEM, "out of memory");
		if ((r = tp_user_config_load(&k->users, err)) < 0) {
			free(k);
			return r;
		}
		if ((r = tp_acl_load(&k->acl, err)) < 0) {
			tp_user_config_free(&k->users);
			free(k);
			return r;
		}
		k->now = tp_now();
		mc->acl_cache = k;
	}
	acl_cache *k = mc->acl_cache;
	uint64_t have = 0;
	if ((r = tp_acl_privs(&k->acl, &k->users, c->authid, acl_path, k->now, &have, NULL, err)) < 0)
		return r;
	if (any ? (have & need) != 0 : (have & need) == need)
		return 0;
	char names[512];
	tp_privs_format(any ? need : need & ~have, names, sizeof(names));
	return tp_err_set(err, -TP_EPERM, "permission check failed: %s lacks %s%s on %s", c->authid, any ? "any of " : "",
			  names, acl_path);
}

int tp_api_has_priv(const tp_api_call *c, const char *acl_path, uint64_t need, int any)
{
	return tp_api_check_priv(c, acl_path, need, any, NULL) == 0;
}

/* Expands {name} in tmpl from args (absent = ""); out holds TP_ACL_PATH_MAX + 1 bytes. */
static int expand_acl_path(const char *tmpl, const json_t *args, char *out, tp_err *err)
{
	size_t o = 0;
	for (const char *p = tmpl; *p;) {
		const char *piece = p;
		size_t n = 1;
		char name[64];
		if (*p == '{') {
			const char *e = strchr(p, '}');
			size_t k = e ? (size_t)(e - p - 1) : 0;
			if (!e || k >= sizeof(name))
				return tp_err_set(err, -EINVAL, "bad ACL path template '%s'", tmpl);
			memcpy(name, p + 1, k);
			name[k] = 0;
			piece = json_string_value(json_object_get(args, name));
			if (!piece)
				piece = "";
			n = strlen(piece);
			p = e + 1;
		} else {
			p++;
		}
		if (o + n > TP_ACL_PATH_MAX)
			return tp_err_set(err, -EINVAL, "ACL path from '%s' too long", tmpl);
		memcpy(out + o, piece, n);
		o += n;
	}
	out[o] = 0;
	return 0;
}

/* ---- dispatch ---- */

int tp_api_status_of(int code)
{
	switch (code) {
	case -EINVAL:
	case -ERANGE:
	case -ENAMETOOLONG:
	case -EDOM:
		return 400;
	case -TP_EPERM:
	case -EPERM:
	case -EACCES:
		return 403;
	case -TP_ENOTFOUND:
	case -ENOENT:
		return 404;
	case -TP_ELOCKED:
	case -TP_EEXISTS:
	case -EEXIST:
	case -EBUSY:
	case -ENOTEMPTY:
	case -ENOMEDIUM:        /* no tape in the drive */
	case -TP_EWRONGMEDIA:   /* another tape than the one asked for */
		return 409;
	case -EFBIG:
	case -E2BIG:
		return 413;
	case -ESHUTDOWN:
		return 503;
	default:
		return 500;
	}
}

static json_t *error_response(const char *msg, const char *bad_param)
{
	json_t *o = json_pack("{s:n,s:s}", "data", "message", msg);
	if (o && bad_param) {
		/* the message already names the parameter; errors carries it PBS-style */
		const char *m = strstr(msg, "': ");
		json_object_set_new(o, "errors", json_pack("{s:s}", bad_param, m ? m + 3 : msg));
	}
	return o;
}

/* tp_api_dispatch; *code_out (may be NULL) receives the failing call's error code (0 on success). */
static int dispatch(const tp_api_request *req, const tp_api_route *forced, json_t **response, int *code_out)
{
	tp_err err = { 0 };
	tp_api_call c;
	memset(&c, 0, sizeof(c));
	json_t *path_params = json_object();
	json_t *data = NULL;
	const char *bad_param = NULL;
	int status;
	const tp_api_route *r = forced ? forced : tp_api_route_find(req->method, req->path, path_params, &err);
	if (!r) {
		status = err.code == -ENOTSUP ? 405 : 404;
		goto fail;
	}
	if (!req->authid && !(r->flags & TP_API_NOAUTH)) {
		tp_err_set(&err, -TP_EPERM, "authentication required");
		status = 401;
		goto fail;
	}
	if (req->authid)
		snprintf(c.authid, sizeof(c.authid), "%s", req->authid);
	c.route = r;
	if (tp_api_validate(r, path_params, req->query, req->body, &c.args, &bad_param, &err) < 0) {
		status = tp_api_status_of(err.code);
		goto fail;
	}
	if ((r->flags & TP_API_ROOT_ONLY) && strcmp(c.authid, TP_ROOT_USERID)) {
		tp_err_set(&err, -TP_EPERM, "permission check failed: only %s may %s %s", TP_ROOT_USERID,
			   tp_http_method_name(r->method), r->path);
		status = 403;
		goto fail;
	}
	if (r->priv) {
		char acl_path[TP_ACL_PATH_MAX + 1];
		if (expand_acl_path(r->acl_path ? r->acl_path : "/", c.args, acl_path, &err) < 0 ||
		    tp_api_check_priv(&c, acl_path, r->priv, !!(r->flags & TP_API_ANY_PRIV), &err) < 0) {
			status = err.code == -TP_EPERM ? 403 : 400;
			goto fail;
		}
	}
	int rc = r->fn(&c, &data, &err);
	if (rc < 0) {
		json_decref(data);
		data = NULL;
		if (!err.msg[0])
			tp_err_set(&err, rc, "%s", tp_strerror(rc));
		status = tp_api_status_of(rc);
		goto fail;
	}
	*response = json_object();
	json_object_set_new(*response, "data", data ? data : json_null());
	if (c.extra)
		json_object_update(*response, c.extra);
	status = 200;
	goto out;
fail:
	*response = error_response(err.msg[0] ? err.msg : "error", bad_param);
	if (code_out)
		*code_out = err.code < 0 ? err.code : -EIO;
out:
	json_decref(c.args);
	json_decref(c.extra);
	json_decref(path_params);
	acl_cache_free(&c);
	return status;
}

int tp_api_dispatch(const tp_api_request *req, json_t **response)
{
	return dispatch(req, NULL, response, NULL);
}

static int call_local(enum tp_http_method m, const char *path, const tp_api_route *forced, const char *authid,
		      const json_t *args, json_t **data, tp_err *err)
{
	tp_api_request req = { m, path, authid ? authid : TP_ROOT_USERID, NULL, args };
	json_t *resp = NULL;
	*data = NULL;
	int code = 0;
	int status = dispatch(&req, forced, &resp, &code);
	if (status == 200) {
		*data = json_incref(json_object_get(resp, "data"));
		json_decref(resp);
		return 0;
	}
	/* the handler's own code (e.g. -TP_EEXISTS, not just "409"), so callers can tell cases apart */
	const char *msg = json_string_value(json_object_get(resp, "message"));
	if (code >= 0)
		code = -EIO;
	tp_err_set(err, code, "%s", msg ? msg : "error");
	json_decref(resp);
	return code;
}

int tp_api_call_local(enum tp_http_method m, const char *path, const char *authid, const json_t *args,
		      json_t **data, tp_err *err)
{
	return call_local(m, path, NULL, authid, args, data, err);
}

int tp_api_call_route(enum tp_http_method m, const char *route_path, const char *authid, const json_t *args,
		      json_t **data, tp_err *err)
{
	for (const tp_api_route *r = tp_api_routes; r->path; r++)
		if (r->method == m && !strcmp(r->path, route_path))
			return call_local(m, route_path, r, authid, args, data, err);
	*data = NULL;
	return tp_err_set(err, -TP_ENOTFOUND, "no route %s %s", tp_http_method_name(m), route_path);
}
