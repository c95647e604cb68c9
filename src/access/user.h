/* Users, realms and API tokens: user.json, plus hashed secrets in shadow.json and token.shadow. */
#ifndef TAPIR_ACCESS_USER_H
#define TAPIR_ACCESS_USER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/lock.h"

/*
 * Identifiers, with PBS's rules:
 *   userid    NAME@REALM; NAME has no whitespace, control characters, ':',
 *             '/', '@' or '!'; REALM is a safe id ([A-Za-z0-9_][A-Za-z0-9._-]*,
 *             2..32 chars); at most 64 chars in all.
 *   token id  USERID!TOKENNAME; TOKENNAME is a safe id of 2..64 chars.
 *   auth id   a userid or a token id.
 * tapir knows the realms "pam" (Linux PAM) and "pbs" (tapir's own passwords).
 */
#define TP_USERID_MAX 64
#define TP_TOKENNAME_MAX 64
#define TP_AUTHID_MAX (TP_USERID_MAX + 1 + TP_TOKENNAME_MAX)
#define TP_EMAIL_MAX 254
#define TP_COMMENT_MAX 512
/* Token secrets are lowercase UUIDs (as PBS generates them). */
#define TP_TOKEN_SECRET_LEN 36

#define TP_ROOT_USERID "root@pam"

/* A parsed auth id.  tokenname is "" for a plain user. */
typedef struct tp_authid {
	char userid[TP_USERID_MAX + 1];
	char tokenname[TP_TOKENNAME_MAX + 1];
	char realm[33];
} tp_authid;

int tp_userid_check(const char *userid, tp_err *err);      /* -EINVAL naming the problem */
int tp_token_name_check(const char *name, tp_err *err);
int tp_authid_parse(const char *s, tp_authid *out, tp_err *err);
static inline int tp_authid_is_token(const tp_authid *a) { return a->tokenname[0] != 0; }
/* Writes "userid[!token]" into out (TP_AUTHID_MAX + 1 bytes). */
void tp_authid_format(const tp_authid *a, char *out);
/* 1 when realm is one tapir can authenticate ("pam", "pbs"). */
int tp_realm_known(const char *realm);

typedef struct tp_user {
	char userid[TP_USERID_MAX + 1];
	char email[TP_EMAIL_MAX + 1];      /* "" when unset */
	char comment[TP_COMMENT_MAX + 1];  /* "" when unset */
	int enable;                         /* 0 or 1 */
	int64_t expire;                     /* epoch seconds; 0 = never */
} tp_user;

typedef struct tp_token {
	char tokenid[TP_AUTHID_MAX + 1];
	char comment[TP_COMMENT_MAX + 1];
	int enable;
	int64_t expire;
} tp_token;

/* The parsed user.json; arrays owned by the config (tp_user_config_free). */
typedef struct tp_user_config {
	tp_user *users;
	size_t nusers;
	tp_token *tokens;
	size_t ntokens;
} tp_user_config;

/*
 * Loads tp_config_path("user.json"); a missing file is an empty config.
 * Every entry is validated (ids, lengths, token owners exist); a bad entry
 * fails with -TP_EFORMAT naming the file and the entry.
 */
int tp_user_config_load(tp_user_config *cfg, tp_err *err);
/* Atomically writes user.json (0640). */
int tp_user_config_save(const tp_user_config *cfg, tp_err *err);
void tp_user_config_free(tp_user_config *cfg);
/* Exclusive lock (.user.lck) that every read-modify-write of users, tokens and secrets holds. */
int tp_user_config_lock(tp_lock *l, tp_err *err);

const tp_user *tp_user_find(const tp_user_config *cfg, const char *userid);
const tp_token *tp_token_find(const tp_user_config *cfg, const char *tokenid);

/*
 * Whether authid may act at time now: the user exists, is enabled and not
 * expired, and for a token also the token.  root@pam is always active (it
 * exists implicitly, as in PBS).  Returns 0 or -TP_EPERM with the reason.
 */
int tp_authid_active(const tp_user_config *cfg, const char *authid, int64_t now, tp_err *err);

/*
 * Creates a user (enable/expire/email/comment taken from u).  password is
 * only allowed for realm pbs, where it is hashed into shadow.json.  Fails
 * with -TP_EEXISTS when the user exists, -EINVAL for bad fields.
 */
int tp_user_create(const tp_user *u, const char *password, tp_err *err);

/* Fields to change; NULL / -1 leave a field as it is ("" clears a string). */
typedef struct tp_user_update {
	const char *email;
	const char *comment;
	int enable;         /* -1 unchanged */
	int64_t expire;     /* -1 unchanged */
	const char *password;
} tp_user_changes;
#define TP_USER_CHANGES_INIT { NULL, NULL, -1, -1, NULL }

int tp_user_update(const char *userid, const tp_user_changes *upd, tp_err *err);
/* Removes the user, its tokens, its secrets and its ACL entries. */
int tp_user_remove(const char *userid, tp_err *err);

/*
 * Creates token USERID!NAME with a fresh random secret; writes the token id
 * (TP_AUTHID_MAX + 1 bytes) and the secret (TP_TOKEN_SECRET_LEN + 1 bytes).
 * Only the hash of the secret is stored; the secret cannot be shown again.
 */
int tp_token_generate(const char *userid, const char *name, const char *comment, int64_t expire,
		      char *tokenid_out, char *secret_out, tp_err *err);
/* Removes a token, its secret and its ACL entries. */
int tp_token_remove(const char *tokenid, tp_err *err);

/*
 * Stored hash (crypt(3) string) of a pbs-realm user's password or of a
 * token's secret; malloc'd into *hash (caller frees).  -TP_ENOTFOUND when
 * there is none.
 */
int tp_user_password_hash(const char *userid, char **hash, tp_err *err);
int tp_token_secret_hash(const char *tokenid, char **hash, tp_err *err);

#endif
