/* API handlers of the access paths: tickets, users, tokens, ACLs, permissions; CSRF tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/acl.h"
#include "access/auth.h"
#include "access/user.h"
#include "api/handlers.h"
#include "base/hex.h"
#include "base/timefmt.h"
#include "crypto/hash.h"

/* ---- CSRF ---- */

static void csrf_sig(const uint8_t key[32], const char *authid, uint32_t t, char hex[65])
{
	char msg[TP_AUTHID_MAX + 32];
	int n = snprintf(msg, sizeof(msg), "CSRF:%08X:%s", t, authid);
	uint8_t mac[32];
	tp_hmac_sha256(key, 32, msg, (size_t)n, mac);
	tp_hex_encode(mac, 32, hex);
}

int tp_api_csrf_create(const char *authid, int64_t now, char *out, size_t outlen, tp_err *err)
{
	uint8_t key[32];
	int r = tp_auth_key_load(key, err);
	if (r < 0)
		return r;
	char hex[65];
	csrf_sig(key, authid, (uint32_t)now, hex);
	snprintf(out, outlen, "%08X:%s", (uint32_t)now, hex);
	return 0;
}

int tp_api_csrf_verify(const char *authid, const char *token, int64_t now, tp_err *err)
{
	uint8_t key[32];
	int r = tp_auth_key_load(key, err);
	if (r < 0)
		return r;
	if (!token || strlen(token) != 8 + 1 + 64 || token[8] != ':')
		return tp_err_set(err, -TP_EPERM, "missing or malformed CSRFPreventionToken");
	char *end;
	char th[9];
	memcpy(th, token, 8);
	th[8] = 0;
	unsigned long t = strtoul(th, &end, 16);
	if (*end)
		return tp_err_set(err, -TP_EPERM, "malformed CSRFPreventionToken");
	char hex[65];
	csrf_sig(key, authid, (uint32_t)t, hex);
	unsigned diff = 0;
	for (int i = 0; i < 64; i++)
		diff |= (unsigned)(hex[i] ^ token[9 + i]);
	int64_t age = now - (int64_t)t;
	if (diff || age < -300 || age > TP_TICKET_LIFETIME)
		return tp_err_set(err, -TP_EPERM, "invalid CSRFPreventionToken");
	return 0;
}

/* ---- tickets ---- */

int h_ticket_get(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)c;
	(void)err;
	*data = NULL;
	return 0;
}

int h_ticket_post(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *user = tp_api_arg_str(c, "username"), *pw = tp_api_arg_str(c, "password");
	int r = tp_auth_password(user, pw, err);
	if (r < 0)
		return r == -TP_EPERM || r == -EINVAL ? tp_err_set(err, -TP_EPERM, "authentication failed for %s", user) : r;
	char ticket[TP_TICKET_MAX], csrf[128];
	int64_t now = tp_now();
	if ((r = tp_ticket_create(user, now, ticket, err)) < 0 ||
	    (r = tp_api_csrf_create(user, now, csrf, sizeof(csrf), err)) < 0)
		return r;
	*data = json_pack("{s:s,s:s,s:s}", "username", user, "ticket", ticket, "CSRFPreventionToken", csrf);
	return 0;
}

/* ---- users ---- */

static json_t *user_json(const tp_user *u)
{
	json_t *o = json_pack("{s:s,s:b,s:I}", "userid", u->userid, "enable", u->enable, "expire", (json_int_t)u->expire);
	if (u->email[0])
		json_object_set_new(o, "email", json_string(u->email));
	if (u->comment[0])
		json_object_set_new(o, "comment", json_string(u->comment));
	return o;
}

static json_t *token_json(const tp_token *t)
{
	const char *bang = strchr(t->tokenid, '!');
	json_t *o = json_pack("{s:s,s:s,s:b,s:I}", "tokenid", t->tokenid, "token-name", bang ? bang + 1 : "", "enable",
			      t->enable, "expire", (json_int_t)t->expire);
	if (t->comment[0])
		json_object_set_new(o, "comment", json_string(t->comment));
	return o;
}

/* The user part of the caller ("a@pbs" for "a@pbs!tok"). */
static void caller_user(const tp_api_call *c, char *out)
{
	snprintf(out, TP_USERID_MAX + 1, "%.*s", (int)strcspn(c->authid, "!"), c->authid);
}

/* Own user (not through a token), or Sys.Audit / the given privilege on /access/users. */
static int may_see_user(const tp_api_call *c, const char *userid, uint64_t priv, tp_err *err)
{
	char me[TP_USERID_MAX + 1];
	caller_user(c, me);
	if (!strcmp(me, userid) && !strchr(c->authid, '!'))
		return 0;
	return tp_api_check_priv(c, "/access/users", priv, 0, err);
}

/* A user, with its tokens when asked. */
static json_t *user_row(const tp_user_config *cfg, const tp_user *u, int tokens)
{
	json_t *o = user_json(u);
	if (tokens) {
		json_t *ta = json_array();
		size_t ul = strlen(u->userid);
		for (size_t k = 0; k < cfg->ntokens; k++)
			if (!strncmp(cfg->tokens[k].tokenid, u->userid, ul) && cfg->tokens[k].tokenid[ul] == '!')
				json_array_append_new(ta, token_json(&cfg->tokens[k]));
		json_object_set_new(o, "tokens", ta);
	}
	return o;
}

int h_users_list(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_user_config cfg;
	int r = tp_user_config_load(&cfg, err);
	if (r < 0)
		return r;
	int all = tp_api_has_priv(c, "/access/users", TP_PRIV_SYS_AUDIT, 0);
	int tokens = tp_api_arg_bool(c, "include_tokens", 0);
	char me[TP_USERID_MAX + 1];
	caller_user(c, me);
	json_t *arr = json_array();
	if (!tp_user_find(&cfg, TP_ROOT_USERID) && (all || !strcmp(me, TP_ROOT_USERID))) {
		/* root@pam exists without an entry (PBS's default user.cfg has it) */
		tp_user root;
		memset(&root, 0, sizeof(root));
		root.enable = 1;
		snprintf(root.userid, sizeof(root.userid), "%s", TP_ROOT_USERID);
		snprintf(root.comment, sizeof(root.comment), "Superuser");
		json_array_append_new(arr, user_row(&cfg, &root, tokens));
	}
	for (size_t i = 0; i < cfg.nusers; i++) {
		if (!all && strcmp(cfg.users[i].userid, me))
			continue;
		json_array_append_new(arr, user_row(&cfg, &cfg.users[i], tokens));
	}
	tp_user_config_free(&cfg);
	*data = arr;
	return 0;
}

int h_user_create(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_user u;
	memset(&u, 0, sizeof(u));
	snprintf(u.userid, sizeof(u.userid), "%s", tp_api_arg_str(c, "userid"));
	const char *s;
	if ((s = tp_api_arg_str(c, "email")))
		snprintf(u.email, sizeof(u.email), "%s", s);
	if ((s = tp_api_arg_str(c, "comment")))
		snprintf(u.comment, sizeof(u.comment), "%s", s);
	u.enable = tp_api_arg_bool(c, "enable", 1);
	u.expire = tp_api_arg_int(c, "expire", 0);
	return tp_user_create(&u, tp_api_arg_str(c, "password"), err);
}

int h_user_get(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *userid = tp_api_arg_str(c, "userid");
	int r = may_see_user(c, userid, TP_PRIV_SYS_AUDIT, err);
	if (r < 0)
		return r;
	tp_user_config cfg;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	const tp_user *u = tp_user_find(&cfg, userid);
	if (u)
		*data = user_json(u);
	else
		r = tp_err_set(err, -TP_ENOTFOUND, "user '%s' does not exist", userid);
	tp_user_config_free(&cfg);
	return r;
}

int h_user_update(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	const char *userid = tp_api_arg_str(c, "userid");
	tp_user_changes ch = TP_USER_CHANGES_INIT;
	ch.email = tp_api_arg_str(c, "email");
	ch.comment = tp_api_arg_str(c, "comment");
	ch.password = tp_api_arg_str(c, "password");
	ch.enable = tp_api_arg(c, "enable") ? tp_api_arg_bool(c, "enable", 1) : -1;
	ch.expire = tp_api_arg(c, "expire") ? tp_api_arg_int(c, "expire", 0) : -1;
	/* a user may change its own password; everything else needs Permissions.Modify */
	int only_pw = ch.password && !ch.email && !ch.comment && ch.enable < 0 && ch.expire < 0;
	int r = only_pw ? may_see_user(c, userid, TP_PRIV_PERMISSIONS_MODIFY, err)
			: tp_api_check_priv(c, "/access/users", TP_PRIV_PERMISSIONS_MODIFY, 0, err);
	if (r < 0)
		return r;
	return tp_user_update(userid, &ch, err);
}

int h_user_delete(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	const char *userid = tp_api_arg_str(c, "userid");
	if (!strcmp(userid, TP_ROOT_USERID))
		return tp_err_set(err, -EINVAL, "parameter 'userid': %s cannot be removed", TP_ROOT_USERID);
	return tp_user_remove(userid, err);
}

int h_tokens_list(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *userid = tp_api_arg_str(c, "userid");
	int r = may_see_user(c, userid, TP_PRIV_SYS_AUDIT, err);
	if (r < 0)
		return r;
	tp_user_config cfg;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	if (!tp_user_find(&cfg, userid) && strcmp(userid, TP_ROOT_USERID)) {
		tp_user_config_free(&cfg);
		return tp_err_set(err, -TP_ENOTFOUND, "user '%s' does not exist", userid);
	}
	json_t *arr = json_array();
	size_t ul = strlen(userid);
	for (size_t k = 0; k < cfg.ntokens; k++)
		if (!strncmp(cfg.tokens[k].tokenid, userid, ul) && cfg.tokens[k].tokenid[ul] == '!')
			json_array_append_new(arr, token_json(&cfg.tokens[k]));
	tp_user_config_free(&cfg);
	*data = arr;
	return 0;
}

static void token_id(const tp_api_call *c, char *out)
{
	snprintf(out, TP_AUTHID_MAX + 1, "%s!%s", tp_api_arg_str(c, "userid"), tp_api_arg_str(c, "token-name"));
}

int h_token_get(tp_api_call *c, json_t **data, tp_err *err)
{
	int r = may_see_user(c, tp_api_arg_str(c, "userid"), TP_PRIV_SYS_AUDIT, err);
	if (r < 0)
		return r;
	char id[TP_AUTHID_MAX + 1];
	token_id(c, id);
	tp_user_config cfg;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	const tp_token *t = tp_token_find(&cfg, id);
	if (t)
		*data = token_json(t);
	else
		r = tp_err_set(err, -TP_ENOTFOUND, "token '%s' does not exist", id);
	tp_user_config_free(&cfg);
	return r;
}

int h_token_create(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *userid = tp_api_arg_str(c, "userid");
	int r = may_see_user(c, userid, TP_PRIV_PERMISSIONS_MODIFY, err);
	if (r < 0)
		return r;
	char id[TP_AUTHID_MAX + 1], secret[TP_TOKEN_SECRET_LEN + 1];
	const char *comment = tp_api_arg_str(c, "comment");
	if ((r = tp_token_generate(userid, tp_api_arg_str(c, "token-name"), comment ? comment : "",
				   tp_api_arg_int(c, "expire", 0), id, secret, err)) < 0)
		return r;
	*data = json_pack("{s:s,s:s}", "tokenid", id, "value", secret);
	return 0;
}

int h_token_delete(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	int r = may_see_user(c, tp_api_arg_str(c, "userid"), TP_PRIV_PERMISSIONS_MODIFY, err);
	if (r < 0)
		return r;
	char id[TP_AUTHID_MAX + 1];
	token_id(c, id);
	return tp_token_remove(id, err);
}

/* ---- ACLs ---- */

int h_acl_get(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *path = tp_api_arg_str(c, "path");
	char canon[TP_ACL_PATH_MAX + 1] = "";
	int r;
	if (path && (r = tp_acl_path_normalize(path, canon, err)) < 0)
		return r;
	int exact = tp_api_arg_bool(c, "exact", 0);
	tp_acl acl;
	if ((r = tp_acl_load(&acl, err)) < 0)
		return r;
	json_t *arr = json_array();
	size_t cl = strlen(canon);
	for (size_t i = 0; i < acl.n; i++) {
		const tp_acl_entry *e = &acl.e[i];
		if (path) {
			int same = !strcmp(e->path, canon);
			int below = !strcmp(canon, "/") || (!strncmp(e->path, canon, cl) && e->path[cl] == '/');
			if (exact ? !same : !(same || below))
				continue;
		}
		/* an entry is shown to whoever may audit its path */
		if (!tp_api_has_priv(c, e->path, TP_PRIV_SYS_AUDIT | TP_PRIV_PERMISSIONS_MODIFY, 1))
			continue;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:b}", "path", e->path, "ugid", e->ugid, "ugid_type",
						     strchr(e->ugid, '!') ? "token" : "user", "roleid", e->role,
						     "propagate", e->propagate));
	}
	tp_acl_free(&acl);
	*data = arr;
	return 0;
}

int h_acl_update(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	const char *authid = tp_api_arg_str(c, "auth-id");
	if (!authid)
		return tp_err_set(err, -EINVAL, "parameter 'auth-id': missing (groups are not supported)");
	return tp_acl_update(tp_api_arg_str(c, "path"), tp_api_arg_str(c, "role"), authid,
			     tp_api_arg_bool(c, "propagate", 1), tp_api_arg_bool(c, "delete", 0), err);
}

static void add_path(json_t *paths, const char *p)
{
	size_t i;
	json_t *v;
	json_array_foreach(paths, i, v)
		if (!strcmp(json_string_value(v), p))
			return;
	json_array_append_new(paths, json_string(p));
}

int h_permissions(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *authid = tp_api_arg_str(c, "auth-id");
	if (!authid)
		authid = c->authid;
	/* own permissions (or those of one's tokens) are free; others need Sys.Audit on /access */
	char me[TP_USERID_MAX + 1];
	caller_user(c, me);
	tp_authid id;
	int r = tp_authid_parse(authid, &id, err);
	if (r < 0)
		return r;
	if (strcmp(authid, c->authid) && strcmp(id.userid, me) &&
	    (r = tp_api_check_priv(c, "/access", TP_PRIV_SYS_AUDIT, 0, err)) < 0)
		return r;
	const char *only = tp_api_arg_str(c, "path");
	tp_user_config cfg;
	tp_acl acl;
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
			break;
		if (!privs && !only)
			continue;
		json_t *m = json_object();
		for (size_t k = 0; k < tp_priv_count; k++)
			if (privs & tp_privs[k].bit)
				json_object_set_new(m, tp_privs[k].name, json_boolean(prop & tp_privs[k].bit));
		json_object_set_new(res, p, m);
	}
	json_decref(paths);
	tp_acl_free(&acl);
	tp_user_config_free(&cfg);
	if (r < 0) {
		json_decref(res);
		return r;
	}
	*data = res;
	return 0;
}
