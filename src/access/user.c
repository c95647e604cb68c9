/* Users, API tokens and their secrets (see user.h). */
#include "access/user.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "access/acl.h"
#include "access/auth.h"
#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/paths.h"
#include "base/timefmt.h"

#define CONFIG_MAX (16u << 20)

static int safe_id(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	if (!(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(isalnum(c) || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

int tp_userid_check(const char *userid, tp_err *err)
{
	if (!userid || !*userid)
		return tp_err_set(err, -EINVAL, "invalid user id '': empty");
	size_t n = strlen(userid);
	if (n > TP_USERID_MAX)
		return tp_err_set(err, -EINVAL, "invalid user id '%.80s...': longer than %d characters", userid,
				  TP_USERID_MAX);
	const char *at = strrchr(userid, '@');
	if (!at)
		return tp_err_set(err, -EINVAL, "invalid user id '%s': expected NAME@REALM", userid);
	if (at == userid)
		return tp_err_set(err, -EINVAL, "invalid user id '%s': empty user name", userid);
	for (const char *p = userid; p < at; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f || isspace(c) || c == ':' || c == '/' || c == '@' || c == '!')
			return tp_err_set(err, -EINVAL,
					  "invalid user id '%s': user name must not contain whitespace, control "
					  "characters, ':', '/', '@' or '!'", userid);
	}
	if (!safe_id(at + 1, 2, 32))
		return tp_err_set(err, -EINVAL, "invalid user id '%s': bad realm '%s'", userid, at + 1);
	return 0;
}

int tp_token_name_check(const char *name, tp_err *err)
{
	if (!name || !safe_id(name, 2, TP_TOKENNAME_MAX))
		return tp_err_set(err, -EINVAL,
				  "invalid token name '%s': expected 2 to %d characters of [A-Za-z0-9_.-], "
				  "not starting with '.' or '-'", name ? name : "", TP_TOKENNAME_MAX);
	return 0;
}

int tp_authid_parse(const char *s, tp_authid *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return tp_err_set(err, -EINVAL, "missing auth id");
	if (strlen(s) > TP_AUTHID_MAX)
		return tp_err_set(err, -EINVAL, "invalid auth id '%.80s...': too long", s);
	const char *bang = strchr(s, '!');
	size_t ulen = bang ? (size_t)(bang - s) : strlen(s);
	if (ulen > TP_USERID_MAX)
		return tp_err_set(err, -EINVAL, "invalid auth id '%s': user id too long", s);
	memcpy(out->userid, s, ulen);
	out->userid[ulen] = 0;
	int r = tp_userid_check(out->userid, err);
	if (r < 0)
		return r;
	if (bang) {
		r = tp_token_name_check(bang + 1, err);
		if (r < 0)
			return tp_err_wrap(err, r, "invalid auth id '%s'", s);
		snprintf(out->tokenname, sizeof(out->tokenname), "%s", bang + 1);
	}
	snprintf(out->realm, sizeof(out->realm), "%s", strrchr(out->userid, '@') + 1);
	return 0;
}

void tp_authid_format(const tp_authid *a, char *out)
{
	if (a->tokenname[0])
		snprintf(out, TP_AUTHID_MAX + 1, "%s!%s", a->userid, a->tokenname);
	else
		snprintf(out, TP_AUTHID_MAX + 1, "%s", a->userid);
}

int tp_realm_known(const char *realm) { return !strcmp(realm, "pam") || !strcmp(realm, "pbs"); }

static int text_check(const char *what, const char *s, size_t max, tp_err *err)
{
	if (strlen(s) > max)
		return tp_err_set(err, -EINVAL, "%s too long (max %zu characters)", what, max);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return tp_err_set(err, -EINVAL, "%s must be a single line without control characters", what);
	return 0;
}

static int email_check(const char *s, tp_err *err)
{
	int r = text_check("email", s, TP_EMAIL_MAX, err);
	if (r < 0 || !*s)
		return r;
	const char *at = strchr(s, '@');
	if (!at || at == s || !at[1] || strchr(at + 1, '@') || strpbrk(s, " <>,;\"'\\"))
		return tp_err_set(err, -EINVAL, "invalid email address '%s'", s);
	return 0;
}

/* ---- user.json ---- */

void tp_user_config_free(tp_user_config *cfg)
{
	free(cfg->users);
	free(cfg->tokens);
	memset(cfg, 0, sizeof(*cfg));
}

static int get_bool(json_t *o, const char *key, int def, const char *what, tp_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return def;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
		return (int)json_integer_value(v);
	return tp_err_set(err, -TP_EFORMAT, "%s: \"%s\" must be a boolean", what, key);
}

static int get_text(json_t *o, const char *key, char *out, size_t cap, const char *what, tp_err *err)
{
	json_t *v = json_object_get(o, key);
	out[0] = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) >= cap)
		return tp_err_set(err, -TP_EFORMAT, "%s: \"%s\" must be a string of at most %zu bytes", what, key,
				  cap - 1);
	snprintf(out, cap, "%s", json_string_value(v));
	return 0;
}

static int get_expire(json_t *o, int64_t *out, const char *what, tp_err *err)
{
	json_t *v = json_object_get(o, "expire");
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: \"expire\" must be a non-negative integer", what);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int tp_user_config_load(tp_user_config *cfg, tp_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	char *path = tp_config_path("user.json");
	json_t *root = NULL;
	int r = 0;
	if (!path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if (!tp_path_exists(path))
		goto out;
	root = tp_json_load_file(path, CONFIG_MAX, err);
	if (!root) {
		r = err && err->code ? err->code : -TP_EFORMAT;
		goto out;
	}
	json_t *users = json_object_get(root, "users"), *tokens = json_object_get(root, "tokens");
	if (!json_is_object(root) || (users && !json_is_array(users)) || (tokens && !json_is_array(tokens))) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: expected an object with \"users\" and \"tokens\" arrays", path);
		goto out;
	}
	size_t nu = users ? json_array_size(users) : 0, nt = tokens ? json_array_size(tokens) : 0;
	cfg->users = calloc(nu ? nu : 1, sizeof(tp_user));
	cfg->tokens = calloc(nt ? nt : 1, sizeof(tp_token));
	if (!cfg->users || !cfg->tokens) {
		r = tp_err_set(err, -ENOMEM, "out of memory loading %s", path);
		goto out;
	}
	for (size_t i = 0; i < nu; i++) {
		json_t *o = json_array_get(users, i);
		char what[600];
		snprintf(what, sizeof(what), "%s: user #%zu", path, i);
		const char *id;
		tp_user *u = &cfg->users[i];
		if ((r = tp_json_get_str(o, "userid", &id, what, err)) < 0)
			goto out;
		if ((r = tp_userid_check(id, err)) < 0) {
			r = tp_err_wrap(err, -TP_EFORMAT, "%s", what);
			goto out;
		}
		if (tp_user_find(cfg, id)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: duplicate user '%s'", what, id);
			goto out;
		}
		snprintf(u->userid, sizeof(u->userid), "%s", id);
		snprintf(what, sizeof(what), "%s: user '%s'", path, id);
		if ((r = get_text(o, "email", u->email, sizeof(u->email), what, err)) < 0 ||
		    (r = get_text(o, "comment", u->comment, sizeof(u->comment), what, err)) < 0 ||
		    (r = get_expire(o, &u->expire, what, err)) < 0 ||
		    (r = get_bool(o, "enable", 1, what, err)) < 0)
			goto out;
		u->enable = r;
		r = 0;
		cfg->nusers++;
	}
	for (size_t i = 0; i < nt; i++) {
		json_t *o = json_array_get(tokens, i);
		char what[600];
		snprintf(what, sizeof(what), "%s: token #%zu", path, i);
		const char *id;
		tp_authid a;
		tp_token *t = &cfg->tokens[i];
		if ((r = tp_json_get_str(o, "tokenid", &id, what, err)) < 0)
			goto out;
		if ((r = tp_authid_parse(id, &a, err)) < 0 || !tp_authid_is_token(&a)) {
			r = r < 0 ? tp_err_wrap(err, -TP_EFORMAT, "%s", what)
				  : tp_err_set(err, -TP_EFORMAT, "%s: '%s' is not a token id", what, id);
			goto out;
		}
		if (!tp_user_find(cfg, a.userid) && strcmp(a.userid, TP_ROOT_USERID)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: token '%s' belongs to unknown user '%s'", what, id,
				       a.userid);
			goto out;
		}
		if (tp_token_find(cfg, id)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: duplicate token '%s'", what, id);
			goto out;
		}
		snprintf(t->tokenid, sizeof(t->tokenid), "%s", id);
		snprintf(what, sizeof(what), "%s: token '%s'", path, id);
		if ((r = get_text(o, "comment", t->comment, sizeof(t->comment), what, err)) < 0 ||
		    (r = get_expire(o, &t->expire, what, err)) < 0 ||
		    (r = get_bool(o, "enable", 1, what, err)) < 0)
			goto out;
		t->enable = r;
		r = 0;
		cfg->ntokens++;
	}
out:
	json_decref(root);
	free(path);
	if (r < 0)
		tp_user_config_free(cfg);
	return r;
}

int tp_user_config_save(const tp_user_config *cfg, tp_err *err)
{
	json_t *root = json_object(), *users = json_array(), *tokens = json_array();
	int r = 0;
	char *path = NULL;
	if (!root || !users || !tokens) {
		json_decref(users);
		json_decref(tokens);
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_object_set_new(root, "users", users);
	json_object_set_new(root, "tokens", tokens);
	for (size_t i = 0; i < cfg->nusers; i++) {
		const tp_user *u = &cfg->users[i];
		json_t *o = json_object();
		json_object_set_new(o, "userid", json_string(u->userid));
		json_object_set_new(o, "enable", json_boolean(u->enable));
		json_object_set_new(o, "expire", json_integer(u->expire));
		if (u->email[0])
			json_object_set_new(o, "email", json_string(u->email));
		if (u->comment[0])
			json_object_set_new(o, "comment", json_string(u->comment));
		json_array_append_new(users, o);
	}
	for (size_t i = 0; i < cfg->ntokens; i++) {
		const tp_token *t = &cfg->tokens[i];
		json_t *o = json_object();
		json_object_set_new(o, "tokenid", json_string(t->tokenid));
		json_object_set_new(o, "enable", json_boolean(t->enable));
		json_object_set_new(o, "expire", json_integer(t->expire));
		if (t->comment[0])
			json_object_set_new(o, "comment", json_string(t->comment));
		json_array_append_new(tokens, o);
	}
	path = tp_config_path("user.json");
	r = path ? tp_json_save_file(path, root, 0640, err) : tp_err_set(err, -ENOMEM, "out of memory");
out:
	json_decref(root);
	free(path);
	return r;
}

int tp_user_config_lock(tp_lock *l, tp_err *err)
{
	char *p = tp_config_path(".user.lck");
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, 10000, NULL, "user configuration", err);
	free(p);
	return r;
}

const tp_user *tp_user_find(const tp_user_config *cfg, const char *userid)
{
	for (size_t i = 0; i < cfg->nusers; i++)
		if (!strcmp(cfg->users[i].userid, userid))
			return &cfg->users[i];
	return NULL;
}

const tp_token *tp_token_find(const tp_user_config *cfg, const char *tokenid)
{
	for (size_t i = 0; i < cfg->ntokens; i++)
		if (!strcmp(cfg->tokens[i].tokenid, tokenid))
			return &cfg->tokens[i];
	return NULL;
}

int tp_authid_active(const tp_user_config *cfg, const char *authid, int64_t now, tp_err *err)
{
	tp_authid a;
	int r = tp_authid_parse(authid, &a, err);
	if (r < 0)
		return r;
	const tp_user *u = tp_user_find(cfg, a.userid);
	if (!u && strcmp(a.userid, TP_ROOT_USERID))
		return tp_err_set(err, -TP_EPERM, "user '%s' does not exist", a.userid);
	if (u && !u->enable)
		return tp_err_set(err, -TP_EPERM, "user '%s' is disabled", a.userid);
	if (u && u->expire > 0 && u->expire <= now)
		return tp_err_set(err, -TP_EPERM, "user '%s' has expired", a.userid);
	if (tp_authid_is_token(&a)) {
		const tp_token *t = tp_token_find(cfg, authid);
		if (!t)
			return tp_err_set(err, -TP_EPERM, "API token '%s' does not exist", authid);
		if (!t->enable)
			return tp_err_set(err, -TP_EPERM, "API token '%s' is disabled", authid);
		if (t->expire > 0 && t->expire <= now)
			return tp_err_set(err, -TP_EPERM, "API token '%s' has expired", authid);
	}
	return 0;
}

/* ---- secrets: shadow.json (user passwords) and token.shadow (token secrets), both 0600 ---- */

static json_t *shadow_load(const char *name, char **path_out, tp_err *err)
{
	char *path = tp_config_path(name);
	json_t *j = NULL;
	if (!path) {
		tp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (!tp_path_exists(path)) {
		j = json_object();
	} else {
		j = tp_json_load_file(path, CONFIG_MAX, err);
		if (j && !json_is_object(j)) {
			tp_err_set(err, -TP_EFORMAT, "%s: expected an object of id -> hash", path);
			json_decref(j);
			j = NULL;
		}
	}
	if (j && path_out)
		*path_out = path;
	else
		free(path);
	return j;
}

/* Sets (hash != NULL) or removes ids in a shadow file; prefix_match removes every "ID!..." too. */
static int shadow_update(const char *name, const char *id, const char *hash, int with_tokens, tp_err *err)
{
	char *path = NULL;
	json_t *j = shadow_load(name, &path, err);
	if (!j)
		return err && err->code ? err->code : -TP_EFORMAT;
	int r = 0;
	if (hash) {
		json_object_set_new(j, id, json_string(hash));
	} else {
		json_object_del(j, id);
		if (with_tokens) {
			size_t n = strlen(id);
			const char *k;
			json_t *v, *tmp;
			json_object_foreach_safe(j, tmp, k, v) {
				if (!strncmp(k, id, n) && k[n] == '!')
					json_object_del(j, k);
			}
		}
	}
	r = tp_json_save_file(path, j, 0600, err);
	json_decref(j);
	free(path);
	return r;
}

static int shadow_get(const char *name, const char *id, char **hash, tp_err *err)
{
	json_t *j = shadow_load(name, NULL, err);
	if (!j)
		return err && err->code ? err->code : -TP_EFORMAT;
	const char *h = tp_json_opt_str(j, id);
	int r = 0;
	if (!h)
		r = tp_err_set(err, -TP_ENOTFOUND, "no stored secret for '%s'", id);
	else if (!(*hash = strdup(h)))
		r = tp_err_set(err, -ENOMEM, "out of memory");
	json_decref(j);
	return r;
}

int tp_user_password_hash(const char *userid, char **hash, tp_err *err)
{
	return shadow_get("shadow.json", userid, hash, err);
}

int tp_token_secret_hash(const char *tokenid, char **hash, tp_err *err)
{
	return shadow_get("token.shadow", tokenid, hash, err);
}

static int set_password_locked(const char *userid, const char *password, tp_err *err)
{
	if (strlen(password) < 8 || strlen(password) > 64)
		return tp_err_set(err, -EINVAL, "password for '%s' must have 8 to 64 characters", userid);
	char *hash = NULL;
	int r = tp_password_hash(password, &hash, err);
	if (r < 0)
		return r;
	r = shadow_update("shadow.json", userid, hash, 0, err);
	free(hash);
	return r;
}

/* ---- operations ---- */

static int user_fields_check(const tp_user *u, tp_err *err)
{
	int r;
	if ((r = email_check(u->email, err)) < 0 || (r = text_check("comment", u->comment, TP_COMMENT_MAX, err)) < 0)
		return r;
	if (u->expire < 0)
		return tp_err_set(err, -EINVAL, "expire must be 0 (never) or an epoch time");
	return 0;
}

int tp_user_create(const tp_user *u, const char *password, tp_err *err)
{
	tp_authid a;
	tp_lock l = TP_LOCK_INIT;
	tp_user_config cfg = { 0 };
	int r = tp_authid_parse(u->userid, &a, err);
	if (r < 0)
		return r;
	if (tp_authid_is_token(&a))
		return tp_err_set(err, -EINVAL, "'%s' is a token id, not a user id", u->userid);
	if (!tp_realm_known(a.realm))
		return tp_err_set(err, -EINVAL, "user '%s': unknown realm '%s' (tapir knows pam and pbs)", u->userid,
				  a.realm);
	if (password && strcmp(a.realm, "pbs"))
		return tp_err_set(err, -EINVAL, "user '%s': a password can only be set for realm pbs", u->userid);
	if ((r = user_fields_check(u, err)) < 0)
		return r;
	if ((r = tp_user_config_lock(&l, err)) < 0)
		return r;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		goto out;
	if (tp_user_find(&cfg, u->userid) || !strcmp(u->userid, TP_ROOT_USERID)) {
		r = tp_err_set(err, -TP_EEXISTS, "user '%s' already exists", u->userid);
		goto out;
	}
	tp_user *nu = realloc(cfg.users, (cfg.nusers + 1) * sizeof(tp_user));
	if (!nu) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	cfg.users = nu;
	cfg.users[cfg.nusers] = *u;
	cfg.users[cfg.nusers++].enable = u->enable ? 1 : 0;
	if (password && (r = set_password_locked(u->userid, password, err)) < 0)
		goto out;
	r = tp_user_config_save(&cfg, err);
out:
	tp_user_config_free(&cfg);
	tp_lock_release(&l);
	return r;
}

int tp_user_update(const char *userid, const tp_user_changes *upd, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_user_config cfg = { 0 };
	tp_authid a;
	int r = tp_authid_parse(userid, &a, err);
	if (r < 0)
		return r;
	if (tp_authid_is_token(&a))
		return tp_err_set(err, -EINVAL, "'%s' is a token id, not a user id", userid);
	if (upd->password && strcmp(a.realm, "pbs"))
		return tp_err_set(err, -EINVAL, "user '%s': a password can only be set for realm pbs", userid);
	if ((r = tp_user_config_lock(&l, err)) < 0)
		return r;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		goto out;
	tp_user *u = (tp_user *)tp_user_find(&cfg, userid);
	if (!u) {
		r = tp_err_set(err, -TP_ENOTFOUND, "user '%s' does not exist", userid);
		goto out;
	}
	tp_user nu = *u;
	if (upd->email) {
		if (strlen(upd->email) > TP_EMAIL_MAX) {
			r = tp_err_set(err, -EINVAL, "email too long (max %d characters)", TP_EMAIL_MAX);
			goto out;
		}
		snprintf(nu.email, sizeof(nu.email), "%s", upd->email);
	}
	if (upd->comment) {
		if (strlen(upd->comment) > TP_COMMENT_MAX) {
			r = tp_err_set(err, -EINVAL, "comment too long (max %d characters)", TP_COMMENT_MAX);
			goto out;
		}
		snprintf(nu.comment, sizeof(nu.comment), "%s", upd->comment);
	}
	if (upd->enable >= 0)
		nu.enable = upd->enable ? 1 : 0;
	if (upd->expire >= 0)
		nu.expire = upd->expire;
	if ((r = user_fields_check(&nu, err)) < 0)
		goto out;
	*u = nu;
	if (upd->password && (r = set_password_locked(userid, upd->password, err)) < 0)
		goto out;
	r = tp_user_config_save(&cfg, err);
out:
	tp_user_config_free(&cfg);
	tp_lock_release(&l);
	return r;
}

int tp_user_remove(const char *userid, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_user_config cfg = { 0 };
	int r = tp_userid_check(userid, err);
	if (r < 0)
		return r;
	if (!strcmp(userid, TP_ROOT_USERID))
		return tp_err_set(err, -EINVAL, "user '%s' cannot be removed", userid);
	if ((r = tp_user_config_lock(&l, err)) < 0)
		return r;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		goto out;
	const tp_user *u = tp_user_find(&cfg, userid);
	if (!u) {
		r = tp_err_set(err, -TP_ENOTFOUND, "user '%s' does not exist", userid);
		goto out;
	}
	size_t idx = (size_t)(u - cfg.users);
	memmove(&cfg.users[idx], &cfg.users[idx + 1], (cfg.nusers - idx - 1) * sizeof(tp_user));
	cfg.nusers--;
	size_t n = strlen(userid), w = 0;
	for (size_t i = 0; i < cfg.ntokens; i++) {
		const char *t = cfg.tokens[i].tokenid;
		if (!(strncmp(t, userid, n) == 0 && t[n] == '!'))
			cfg.tokens[w++] = cfg.tokens[i];
	}
	cfg.ntokens = w;
	/* ACL entries first: a crash then leaves a user without rights, never rights without a user. */
	if ((r = tp_acl_delete_authid(userid, err)) < 0)
		goto out;
	if ((r = tp_user_config_save(&cfg, err)) < 0)
		goto out;
	if ((r = shadow_update("shadow.json", userid, NULL, 0, err)) < 0)
		goto out;
	r = shadow_update("token.shadow", userid, NULL, 1, err);
out:
	tp_user_config_free(&cfg);
	tp_lock_release(&l);
	return r;
}

int tp_token_generate(const char *userid, const char *name, const char *comment, int64_t expire,
		      char *tokenid_out, char *secret_out, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_user_config cfg = { 0 };
	char tokenid[TP_AUTHID_MAX + 2], secret[TP_TOKEN_SECRET_LEN + 1];
	char *hash = NULL;
	int r = tp_userid_check(userid, err);
	if (r < 0)
		return r;
	if ((r = tp_token_name_check(name, err)) < 0)
		return r;
	if (comment && (r = text_check("comment", comment, TP_COMMENT_MAX, err)) < 0)
		return r;
	if (expire < 0)
		return tp_err_set(err, -EINVAL, "expire must be 0 (never) or an epoch time");
	snprintf(tokenid, sizeof(tokenid), "%s!%s", userid, name);
	if (strlen(tokenid) > TP_AUTHID_MAX)
		return tp_err_set(err, -EINVAL, "token id '%s' too long", tokenid);
	if ((r = tp_user_config_lock(&l, err)) < 0)
		return r;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		goto out;
	if (!tp_user_find(&cfg, userid) && strcmp(userid, TP_ROOT_USERID)) {
		r = tp_err_set(err, -TP_ENOTFOUND, "user '%s' does not exist", userid);
		goto out;
	}
	if (tp_token_find(&cfg, tokenid)) {
		r = tp_err_set(err, -TP_EEXISTS, "API token '%s' already exists", tokenid);
		goto out;
	}
	uuid_t uu;
	uuid_generate_random(uu);
	uuid_unparse_lower(uu, secret);
	/* SHA-256-crypt as PBS uses for token secrets: they are random, so a slow hash buys nothing. */
	if ((r = tp_password_hash_with("$5$", secret, &hash, err)) < 0)
		goto out;
	tp_token *nt = realloc(cfg.tokens, (cfg.ntokens + 1) * sizeof(tp_token));
	if (!nt) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	cfg.tokens = nt;
	tp_token *t = &cfg.tokens[cfg.ntokens++];
	memset(t, 0, sizeof(*t));
	snprintf(t->tokenid, sizeof(t->tokenid), "%s", tokenid);
	snprintf(t->comment, sizeof(t->comment), "%s", comment ? comment : "");
	t->enable = 1;
	t->expire = expire;
	if ((r = shadow_update("token.shadow", tokenid, hash, 0, err)) < 0)
		goto out;
	if ((r = tp_user_config_save(&cfg, err)) < 0)
		goto out;
	snprintf(tokenid_out, TP_AUTHID_MAX + 1, "%s", tokenid);
	memcpy(secret_out, secret, sizeof(secret));
out:
	free(hash);
	tp_user_config_free(&cfg);
	tp_lock_release(&l);
	return r;
}

int tp_token_remove(const char *tokenid, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_user_config cfg = { 0 };
	tp_authid a;
	int r = tp_authid_parse(tokenid, &a, err);
	if (r < 0)
		return r;
	if (!tp_authid_is_token(&a))
		return tp_err_set(err, -EINVAL, "'%s' is not a token id (USER@REALM!NAME)", tokenid);
	if ((r = tp_user_config_lock(&l, err)) < 0)
		return r;
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		goto out;
	const tp_token *t = tp_token_find(&cfg, tokenid);
	if (!t) {
		r = tp_err_set(err, -TP_ENOTFOUND, "API token '%s' does not exist", tokenid);
		goto out;
	}
	size_t idx = (size_t)(t - cfg.tokens);
	memmove(&cfg.tokens[idx], &cfg.tokens[idx + 1], (cfg.ntokens - idx - 1) * sizeof(tp_token));
	cfg.ntokens--;
	if ((r = tp_acl_delete_authid(tokenid, err)) < 0)
		goto out;
	if ((r = tp_user_config_save(&cfg, err)) < 0)
		goto out;
	r = shadow_update("token.shadow", tokenid, NULL, 0, err);
out:
	tp_user_config_free(&cfg);
	tp_lock_release(&l);
	return r;
}
