/* `tapir user ...`: users, API tokens and effective permissions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/acl.h"
#include "access/user.h"
#include "base/json_util.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"

static int parse_bool_opt(const tp_args *a, const char *key, int *out, tp_err *err)
{
	const char *v = tp_args_get(a, key);
	if (!v)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"))
		*out = 1;
	else if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no"))
		*out = 0;
	else
		return tp_err_set(err, -EINVAL, "--%s: expected 0 or 1, got '%s'", key, v);
	return 0;
}

static int parse_expire(const tp_args *a, int64_t *out, tp_err *err)
{
	unsigned long long v;
	if (!tp_args_get(a, "expire"))
		return 0;
	int r = tp_args_u64(a, "expire", 0, 0, &v, err);
	if (r == 0 && v > 0xffffffffULL)
		r = tp_err_set(err, -EINVAL, "--expire: %llu out of range", v);
	if (r == 0)
		*out = (int64_t)v;
	return r;
}

static json_t *user_json(const tp_user *u)
{
	json_t *o = json_object();
	json_object_set_new(o, "userid", json_string(u->userid));
	json_object_set_new(o, "enable", json_boolean(u->enable));
	json_object_set_new(o, "expire", json_integer(u->expire));
	if (u->email[0])
		json_object_set_new(o, "email", json_string(u->email));
	if (u->comment[0])
		json_object_set_new(o, "comment", json_string(u->comment));
	return o;
}

static json_t *token_json(const tp_token *t)
{
	json_t *o = json_object();
	json_object_set_new(o, "tokenid", json_string(t->tokenid));
	json_object_set_new(o, "enable", json_boolean(t->enable));
	json_object_set_new(o, "expire", json_integer(t->expire));
	if (t->comment[0])
		json_object_set_new(o, "comment", json_string(t->comment));
	return o;
}

static int do_list(const tp_args *a, tp_err *err)
{
	tp_user_config cfg;
	int r = tp_user_config_load(&cfg, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	if (!tp_user_find(&cfg, TP_ROOT_USERID)) {
		tp_user root = { .enable = 1 };
		snprintf(root.userid, sizeof(root.userid), TP_ROOT_USERID);
		snprintf(root.comment, sizeof(root.comment), "Superuser");
		json_array_append_new(arr, user_json(&root));
	}
	for (size_t i = 0; i < cfg.nusers; i++)
		json_array_append_new(arr, user_json(&cfg.users[i]));
	tp_user_config_free(&cfg);
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
	tp_user_config cfg;
	int r = tp_userid_check(userid, err);
	if (r < 0 || (r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	if (!tp_user_find(&cfg, userid) && strcmp(userid, TP_ROOT_USERID)) {
		tp_user_config_free(&cfg);
		return tp_err_set(err, -TP_ENOTFOUND, "user '%s' does not exist", userid);
	}
	json_t *arr = json_array();
	size_t n = strlen(userid);
	for (size_t i = 0; i < cfg.ntokens; i++)
		if (!strncmp(cfg.tokens[i].tokenid, userid, n) && cfg.tokens[i].tokenid[n] == '!')
			json_array_append_new(arr, token_json(&cfg.tokens[i]));
	tp_user_config_free(&cfg);
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

static int add_path(json_t *paths, const char *p)
{
	size_t i;
	json_t *v;
	json_array_foreach(paths, i, v)
		if (!strcmp(json_string_value(v), p))
			return 0;
	return json_array_append_new(paths, json_string(p));
}

static int do_permissions(const tp_args *a, const char *authid, tp_err *err)
{
	tp_user_config cfg;
	tp_acl acl;
	tp_authid id;
	int r = tp_authid_parse(authid, &id, err);
	if (r < 0)
		return r;
	const char *only = tp_args_get(a, "path");
	if (only && (r = tp_acl_path_check(only, err)) < 0)
		return r;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	if ((r = tp_acl_load(&acl, err)) < 0) {
		tp_user_config_free(&cfg);
		return r;
	}
	json_t *paths = json_array(), *res = json_object();
	if (only) {
		char canon[TP_ACL_PATH_MAX + 1];
		tp_acl_path_normalize(only, canon, NULL);
		add_path(paths, canon);
	} else {
		static const char *const base[] = { "/", "/access", "/datastore", "/system", "/tape", NULL };
		for (int i = 0; base[i]; i++)
			add_path(paths, base[i]);
		for (size_t i = 0; i < acl.n; i++)
			if (!strcmp(acl.e[i].ugid, authid) || !strcmp(acl.e[i].ugid, id.userid))
				add_path(paths, acl.e[i].path);
	}
	size_t i;
	json_t *pv;
	json_array_foreach(paths, i, pv) {
		const char *p = json_string_value(pv);
		uint64_t privs = 0, prop = 0;
		if ((r = tp_acl_privs(&acl, &cfg, authid, p, tp_now(), &privs, &prop, err)) < 0)
			goto out;
		if (!privs && !only)
			continue;
		json_t *m = json_object();
		for (size_t k = 0; k < tp_priv_count; k++)
			if (privs & tp_privs[k].bit)
				json_object_set_new(m, tp_privs[k].name, json_boolean(prop & tp_privs[k].bit));
		json_object_set_new(res, p, m);
	}
	if (a->out != TP_OUT_TEXT) {
		tp_print_json(a, res);
		res = NULL;
	} else {
		const char *p;
		json_t *m;
		json_object_foreach(res, p, m) {
			printf("Path: %s\n", p);
			const char *k;
			json_t *b;
			json_object_foreach(m, k, b)
				printf("- %s%s\n", k, json_is_true(b) ? " (*)" : "");
		}
	}
out:
	json_decref(res);
	json_decref(paths);
	tp_acl_free(&acl);
	tp_user_config_free(&cfg);
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
	if (!strcmp(sub, "create")) {
		static const char usage[] =
			"tapir user create USERID [--password P] [--email E] [--comment C] [--enable 0|1] [--expire EPOCH]";
		tp_user u = { .enable = 1 };
		if ((r = tp_args_need_pos(&a, 1, 1, usage, err)) < 0 || (r = parse_bool_opt(&a, "enable", &u.enable, err)) < 0 ||
		    (r = parse_expire(&a, &u.expire, err)) < 0)
			return r;
		const char *email = tp_args_get(&a, "email"), *comment = tp_args_get(&a, "comment");
		if (strlen(a.pos[0]) > TP_USERID_MAX || (email && strlen(email) > TP_EMAIL_MAX) ||
		    (comment && strlen(comment) > TP_COMMENT_MAX))
			return tp_err_set(err, -EINVAL, "user id, email or comment too long");
		snprintf(u.userid, sizeof(u.userid), "%s", a.pos[0]);
		snprintf(u.email, sizeof(u.email), "%s", email ? email : "");
		snprintf(u.comment, sizeof(u.comment), "%s", comment ? comment : "");
		if ((r = tp_user_create(&u, tp_args_get(&a, "password"), err)) == 0 && a.out == TP_OUT_TEXT)
			printf("created user %s\n", u.userid);
		return r;
	}
	if (!strcmp(sub, "list")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir user list", err)) < 0)
			return r;
		return do_list(&a, err);
	}
	if (!strcmp(sub, "update")) {
		static const char usage[] =
			"tapir user update USERID [--password P] [--email E] [--comment C] [--enable 0|1] [--expire EPOCH]";
		tp_user_changes c = TP_USER_CHANGES_INIT;
		if ((r = tp_args_need_pos(&a, 1, 1, usage, err)) < 0 || (r = parse_bool_opt(&a, "enable", &c.enable, err)) < 0 ||
		    (r = parse_expire(&a, &c.expire, err)) < 0)
			return r;
		c.email = tp_args_get(&a, "email");
		c.comment = tp_args_get(&a, "comment");
		c.password = tp_args_get(&a, "password");
		return tp_user_update(a.pos[0], &c, err);
	}
	if (!strcmp(sub, "remove") || !strcmp(sub, "delete")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir user remove USERID", err)) < 0)
			return r;
		return tp_user_remove(a.pos[0], err);
	}
	if (!strcmp(sub, "generate-token")) {
		char id[TP_AUTHID_MAX + 1], secret[TP_TOKEN_SECRET_LEN + 1];
		int64_t expire = 0;
		if ((r = tp_args_need_pos(&a, 2, 2, "tapir user generate-token USERID NAME [--comment C] [--expire EPOCH]",
					  err)) < 0 || (r = parse_expire(&a, &expire, err)) < 0)
			return r;
		r = tp_token_generate(a.pos[0], a.pos[1], tp_args_get(&a, "comment"), expire, id, secret, err);
		if (r < 0)
			return r;
		tp_print_json(&a, json_pack("{s:s,s:s}", "tokenid", id, "value", secret));
		return 0;
	}
	if (!strcmp(sub, "list-tokens")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir user list-tokens USERID", err)) < 0)
			return r;
		return do_list_tokens(&a, a.pos[0], err);
	}
	if (!strcmp(sub, "delete-token") || !strcmp(sub, "remove-token")) {
		char id[TP_AUTHID_MAX + 2];
		if ((r = tp_args_need_pos(&a, 2, 2, "tapir user delete-token USERID NAME", err)) < 0)
			return r;
		if (strlen(a.pos[0]) + strlen(a.pos[1]) + 1 > TP_AUTHID_MAX)
			return tp_err_set(err, -EINVAL, "token id too long");
		snprintf(id, sizeof(id), "%s!%s", a.pos[0], a.pos[1]);
		return tp_token_remove(id, err);
	}
	if (!strcmp(sub, "permissions")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir user permissions AUTHID [--path P]", err)) < 0)
			return r;
		return do_permissions(&a, a.pos[0], err);
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'user %s' (create, list, update, remove, generate-token, "
			  "list-tokens, delete-token, permissions)", sub);
}
