/* `tapir user ...`: users, API tokens and effective permissions, through the API router (access/users, access/permissions). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/router.h"
#include "base/json_util.h"
#include "cli/args.h"
#include "cli/commands.h"

/* --enable 0|1 into args as a boolean. */
static int bool_opt(const tp_args *a, const char *key, json_t *args, tp_err *err)
{
	const char *v = tp_args_get(a, key);
	if (!v)
		return 0;
	int b;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		b = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
		b = 0;
	else
		return tp_err_set(err, -EINVAL, "--%s: expected 0 or 1, got '%s'", key, v);
	json_object_set_new(args, key, json_boolean(b));
	return 0;
}

/* --expire EPOCH into args as an integer. */
static int expire_opt(const tp_args *a, json_t *args, tp_err *err)
{
	unsigned long long v;
	if (!tp_args_get(a, "expire"))
		return 0;
	int r = tp_args_u64(a, "expire", 0, 0, &v, err);
	if (r == 0 && v > 0xffffffffULL)
		r = tp_err_set(err, -EINVAL, "--expire: %llu out of range", v);
	if (r == 0)
		json_object_set_new(args, "expire", json_integer((json_int_t)v));
	return r;
}

/* The string options of keys that are given, into args. */
static void str_opts(const tp_args *a, const char *const *keys, json_t *args)
{
	for (; *keys; keys++) {
		const char *v = tp_args_get(a, *keys);
		if (v)
			json_object_set_new(args, *keys, json_string(v));
	}
}

/* Calls the route with args (stolen); *out receives the data (may be NULL). */
static int call(enum tp_http_method m, const char *route, json_t *args, json_t **out, tp_err *err)
{
	json_t *data = NULL;
	int r = tp_api_call_route(m, route, NULL, args, &data, err);
	json_decref(args);
	if (out)
		*out = data;
	else
		json_decref(data);
	return r;
}

static int do_list(const tp_args *a, tp_err *err)
{
	json_t *arr;
	int r = call(TP_HTTP_GET, "access/users", json_object(), &arr, err);
	if (r < 0)
		return r;
	if (a->out != TP_OUT_TEXT) {
		tp_print_json(a, arr);
		return 0;
	}
	size_t i;
	json_t *v;
	printf("%-32s %-6s %-10s %-30s %s\n", "userid", "enable", "expire", "email", "comment");
	json_array_foreach(arr, i, v) {
		const char *email = tp_json_opt_str(v, "email"), *comment = tp_json_opt_str(v, "comment");
		printf("%-32s %-6d %-10lld %-30s %s\n", tp_json_opt_str(v, "userid"),
		       json_is_true(json_object_get(v, "enable")), (long long)tp_json_opt_int(v, "expire", 0),
		       email ? email : "", comment ? comment : "");
	}
	json_decref(arr);
	return 0;
}

static int do_list_tokens(const tp_args *a, const char *userid, tp_err *err)
{
	json_t *arr;
	int r = call(TP_HTTP_GET, "access/users/{userid}/token", json_pack("{s:s}", "userid", userid), &arr, err);
	if (r < 0)
		return r;
	if (a->out != TP_OUT_TEXT) {
		tp_print_json(a, arr);
		return 0;
	}
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *c = tp_json_opt_str(v, "comment");
		printf("%-40s %d %lld %s\n", tp_json_opt_str(v, "tokenid"), json_is_true(json_object_get(v, "enable")),
		       (long long)tp_json_opt_int(v, "expire", 0), c ? c : "");
	}
	json_decref(arr);
	return 0;
}

static int do_permissions(const tp_args *a, const char *authid, tp_err *err)
{
	json_t *args = json_pack("{s:s}", "auth-id", authid), *res;
	str_opts(a, (const char *const[]){ "path", NULL }, args);
	int r = call(TP_HTTP_GET, "access/permissions", args, &res, err);
	if (r < 0)
		return r;
	if (a->out != TP_OUT_TEXT) {
		tp_print_json(a, res);
		return 0;
	}
	const char *p;
	json_t *m;
	json_object_foreach(res, p, m) {
		printf("Path: %s\n", p);
		const char *k;
		json_t *b;
		json_object_foreach(m, k, b)
			printf("- %s%s\n", k, json_is_true(b) ? " (*)" : "");
	}
	json_decref(res);
	return 0;
}

/* create / update: USERID and the user properties. */
static int user_change(const tp_args *a, int create, tp_err *err)
{
	static const char *const keys[] = { "password", "email", "comment", NULL };
	json_t *args = json_pack("{s:s}", "userid", a->pos[0]);
	str_opts(a, keys, args);
	int r;
	if ((r = bool_opt(a, "enable", args, err)) < 0 || (r = expire_opt(a, args, err)) < 0) {
		json_decref(args);
		return r;
	}
	if (create)
		r = call(TP_HTTP_POST, "access/users", args, NULL, err);
	else
		r = call(TP_HTTP_PUT, "access/users/{userid}", args, NULL, err);
	if (r == 0 && create && a->out == TP_OUT_TEXT)
		printf("created user %s\n", a->pos[0]);
	return r;
}

int cmd_user(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "password", "email", "comment", "enable", "expire", "path", NULL };
	static const char *const flags[] = { NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir user create|list|update|remove|generate-token|"
				  "list-tokens|delete-token|permissions ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "create") || !strcmp(sub, "update")) {
		char usage[160];
		snprintf(usage, sizeof(usage),
			 "tapir user %s USERID [--password P] [--email E] [--comment C] [--enable 0|1] [--expire EPOCH]", sub);
		if ((r = tp_args_need_pos(&a, 1, 1, usage, err)) < 0)
			return r;
		return user_change(&a, !strcmp(sub, "create"), err);
	}
	if (!strcmp(sub, "list")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir user list", err)) < 0)
			return r;
		return do_list(&a, err);
	}
	if (!strcmp(sub, "remove") || !strcmp(sub, "delete")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir user remove USERID", err)) < 0)
			return r;
		return call(TP_HTTP_DELETE, "access/users/{userid}", json_pack("{s:s}", "userid", a.pos[0]), NULL, err);
	}
	if (!strcmp(sub, "generate-token")) {
		if ((r = tp_args_need_pos(&a, 2, 2, "tapir user generate-token USERID NAME [--comment C] [--expire EPOCH]",
					  err)) < 0)
			return r;
		json_t *args = json_pack("{s:s,s:s}", "userid", a.pos[0], "token-name", a.pos[1]), *tok;
		str_opts(&a, (const char *const[]){ "comment", NULL }, args);
		if ((r = expire_opt(&a, args, err)) < 0) {
			json_decref(args);
			return r;
		}
		if ((r = call(TP_HTTP_POST, "access/users/{userid}/token/{token-name}", args, &tok, err)) < 0)
			return r;
		/* the secret is shown once, always as JSON */
		tp_print_json(&a, tok);
		return 0;
	}
	if (!strcmp(sub, "list-tokens")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir user list-tokens USERID", err)) < 0)
			return r;
		return do_list_tokens(&a, a.pos[0], err);
	}
	if (!strcmp(sub, "delete-token") || !strcmp(sub, "remove-token")) {
		if ((r = tp_args_need_pos(&a, 2, 2, "tapir user delete-token USERID NAME", err)) < 0)
			return r;
		return call(TP_HTTP_DELETE, "access/users/{userid}/token/{token-name}",
			    json_pack("{s:s,s:s}", "userid", a.pos[0], "token-name", a.pos[1]), NULL, err);
	}
	if (!strcmp(sub, "permissions")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir user permissions AUTHID [--path P]", err)) < 0)
			return r;
		return do_permissions(&a, a.pos[0], err);
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'user %s' (create, list, update, remove, generate-token, "
			  "list-tokens, delete-token, permissions)", sub);
}
