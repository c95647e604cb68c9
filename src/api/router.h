/* REST API router: one route table (method, path pattern, handler, privilege, parameter schema), shared by server and CLI. */
#ifndef TAPIR_API_ROUTER_H
#define TAPIR_API_ROUTER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum tp_http_method { TP_HTTP_GET = 1, TP_HTTP_POST = 2, TP_HTTP_PUT = 4, TP_HTTP_DELETE = 8 };

const char *tp_http_method_name(enum tp_http_method m);
/* "GET" etc.; 0 when unknown. */
enum tp_http_method tp_http_method_parse(const char *s);

enum tp_api_ptype {
	TP_API_STR,      /* string, at most max (default 256) bytes, no control characters */
	TP_API_INT,      /* integer in min..max */
	TP_API_BOOL,     /* true/false (query: 1/0/true/false/yes/no/on/off) */
	TP_API_STRLIST,  /* array of strings (query: repeated key), each as TP_API_STR, at most 1024 items */
};

#define TP_API_REQUIRED 1u

/* Value checker of a string parameter: 0 or a negative code with a message (without the name). */
typedef int (*tp_api_check_fn)(const char *value, tp_err *err);

typedef struct tp_api_param {
	const char *name;
	enum tp_api_ptype type;
	unsigned flags;
	int64_t min, max;           /* INT: range; STR/STRLIST: max = longest string (0 = 256) */
	tp_api_check_fn check;      /* STR/STRLIST: per-value check, may be NULL */
	const char *desc;
} tp_api_param;

typedef struct tp_api_call tp_api_call;
/*
 * A handler: reads c->args (validated), sets *data to the response data (a
 * new reference, or NULL for JSON null), returns 0 or a negative code with
 * err set.  Codes map to HTTP status by tp_api_status_of().
 */
typedef int (*tp_api_handler)(tp_api_call *c, json_t **data, tp_err *err);

/* Route flags. */
#define TP_API_NOAUTH 1u      /* callable without credentials (access/ticket) */
#define TP_API_ROOT_ONLY 2u   /* only root@pam (PBS's Superuser default) */
#define TP_API_ANY_PRIV 4u    /* any one privilege of priv suffices */

typedef struct tp_api_route {
	enum tp_http_method method;
	const char *path;           /* below /api2/json/, {name} = a path parameter (one component) */
	tp_api_handler fn;
	uint64_t priv;              /* checked by the router on acl_path; 0 = handler checks (or anybody) */
	const char *acl_path;       /* template: "/datastore/{store}/{ns}" ({x} = parameter x, "" when unset) */
	unsigned flags;
	const tp_api_param *params; /* terminated by an entry with name NULL; path parameters included */
	const char *desc;
} tp_api_route;

/* The one table (routes.c), terminated by an entry with path NULL. */
extern const tp_api_route tp_api_routes[];

/* One call being handled. */
struct tp_api_call {
	const tp_api_route *route;
	char authid[130];           /* "" only for TP_API_NOAUTH routes called without credentials */
	json_t *args;               /* validated parameters, typed (owned by the call) */
	json_t *extra;              /* extra top-level response members (e.g. "total"); may stay NULL */
	void *acl_cache;            /* user.json + acl.json, loaded once per call by the privilege checks */
};

/* Typed argument reads (after validation, so the types are right). */
const char *tp_api_arg_str(const tp_api_call *c, const char *name);          /* NULL when absent */
int64_t tp_api_arg_int(const tp_api_call *c, const char *name, int64_t def);
int tp_api_arg_bool(const tp_api_call *c, const char *name, int def);
json_t *tp_api_arg(const tp_api_call *c, const char *name);                  /* borrowed; NULL when absent */
/* Adds a top-level member to the response (steals v). */
void tp_api_set_extra(tp_api_call *c, const char *key, json_t *v);

/* Privilege check for handlers: -TP_EPERM naming what is missing. */
int tp_api_check_priv(const tp_api_call *c, const char *acl_path, uint64_t need, int any, tp_err *err);
/* 1 when the caller has the privileges (no error). */
int tp_api_has_priv(const tp_api_call *c, const char *acl_path, uint64_t need, int any);

/*
 * Finds the route of method + path (relative to /api2/json/, no query, no
 * leading or trailing '/'); path parameters go into params (a JSON object).
 * -TP_ENOTFOUND "no such path" / -ENOTSUP "method not allowed" (405).
 */
const tp_api_route *tp_api_route_find(enum tp_http_method m, const char *path, json_t *params, tp_err *err);

/*
 * Validates query (object: name -> string or array of strings, may be
 * NULL), body (object or NULL) and path parameters against the schema and
 * builds typed args (new reference).  -EINVAL "parameter 'NAME': ..." for
 * an unknown parameter, a wrong type, an overlong string, a failed check or
 * a missing required one; *bad_param (may be NULL) receives the name.
 */
int tp_api_validate(const tp_api_route *r, const json_t *path_params, const json_t *query, const json_t *body,
		    json_t **args, const char **bad_param, tp_err *err);

/* HTTP status of a handler's error code. */
int tp_api_status_of(int code);

typedef struct tp_api_request {
	enum tp_http_method method;
	const char *path;      /* below /api2/json/ */
	const char *authid;    /* authenticated caller, NULL when none */
	const json_t *query;   /* may be NULL */
	const json_t *body;    /* may be NULL */
} tp_api_request;

/*
 * Routes, authenticates (401 without an auth id unless TP_API_NOAUTH),
 * validates, checks privileges and calls the handler.  Returns the HTTP
 * status and sets *response (new reference): {"data": ...} on success,
 * {"data": null, "message": "...", "errors": {param: msg}} on failure.
 */
int tp_api_dispatch(const tp_api_request *req, json_t **response);

/* Same for a local caller (the CLI, as root@pam unless authid is given); returns 0 or -code, *data on success. */
int tp_api_call_local(enum tp_http_method m, const char *path, const char *authid, const json_t *args,
		      json_t **data, tp_err *err);

/*
 * Same, naming the route by its pattern ("access/users/{userid}"): the path
 * parameters come from args like any other parameter and are validated by
 * the route's schema, so a value with '/' gets the parameter's own 400
 * message instead of "no such path".  For the CLI.
 */
int tp_api_call_route(enum tp_http_method m, const char *route_path, const char *authid, const json_t *args,
		      json_t **data, tp_err *err);

/* Parameter checkers shared with the handlers. */
int tp_api_check_store(const char *v, tp_err *err);
int tp_api_check_ns(const char *v, tp_err *err);
int tp_api_check_backup_type(const char *v, tp_err *err);
int tp_api_check_backup_id(const char *v, tp_err *err);
int tp_api_check_snapshot(const char *v, tp_err *err);       /* [ns/..]type/id/time or store:... */
int tp_api_check_tape_name(const char *v, tp_err *err);      /* drive / changer */
int tp_api_check_pool(const char *v, tp_err *err);
int tp_api_check_userid(const char *v, tp_err *err);
int tp_api_check_authid(const char *v, tp_err *err);
int tp_api_check_token_name(const char *v, tp_err *err);
int tp_api_check_acl_path(const char *v, tp_err *err);
int tp_api_check_role(const char *v, tp_err *err);
int tp_api_check_upid(const char *v, tp_err *err);
int tp_api_check_node(const char *v, tp_err *err);
int tp_api_check_job_id(const char *v, tp_err *err);
int tp_api_check_uuid(const char *v, tp_err *err);
int tp_api_check_label(const char *v, tp_err *err);
int tp_api_check_abs_path(const char *v, tp_err *err);
int tp_api_check_schedule(const char *v, tp_err *err);
int tp_api_check_safe_text(const char *v, tp_err *err);      /* one line, no control characters */
/*
 * PBS's NotificationMode (legacy-sendmail | notification-system).  tapir has
 * one notification path, the mail to notify-user (task/notify.c), which both
 * modes use; the parameter is accepted so that PBS's clients work unchanged.
 */
int tp_api_check_notification_mode(const char *v, tp_err *err);

#endif
