/* Privileges, roles, ACL paths and the ACL tree (acl.json): who may do what where. */
#ifndef TAPIR_ACCESS_ACL_H
#define TAPIR_ACCESS_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "access/user.h"
#include "base/err.h"
#include "base/lock.h"
#include "store/datastore.h"

/* PBS's privileges (names as in PBS; bit values are tapir's own). */
#define TP_PRIV_SYS_AUDIT               (1ULL << 0)
#define TP_PRIV_SYS_MODIFY              (1ULL << 1)
#define TP_PRIV_SYS_POWER_MANAGEMENT    (1ULL << 2)
#define TP_PRIV_SYS_CONSOLE             (1ULL << 3)
#define TP_PRIV_DATASTORE_AUDIT         (1ULL << 4)
#define TP_PRIV_DATASTORE_ALLOCATE      (1ULL << 5)
#define TP_PRIV_DATASTORE_MODIFY        (1ULL << 6)
#define TP_PRIV_DATASTORE_READ          (1ULL << 7)
#define TP_PRIV_DATASTORE_VERIFY        (1ULL << 8)
#define TP_PRIV_DATASTORE_BACKUP        (1ULL << 9)
#define TP_PRIV_DATASTORE_PRUNE         (1ULL << 10)
#define TP_PRIV_PERMISSIONS_MODIFY      (1ULL << 11)
#define TP_PRIV_REMOTE_AUDIT            (1ULL << 12)
#define TP_PRIV_REMOTE_MODIFY           (1ULL << 13)
#define TP_PRIV_REMOTE_READ             (1ULL << 14)
#define TP_PRIV_REMOTE_DATASTORE_BACKUP (1ULL << 15)
#define TP_PRIV_REMOTE_DATASTORE_MODIFY (1ULL << 16)
#define TP_PRIV_REMOTE_DATASTORE_PRUNE  (1ULL << 17)
#define TP_PRIV_TAPE_AUDIT              (1ULL << 18)
#define TP_PRIV_TAPE_READ               (1ULL << 19)
#define TP_PRIV_TAPE_WRITE              (1ULL << 20)
#define TP_PRIV_TAPE_MODIFY             (1ULL << 21)
#define TP_PRIV_REALM_ALLOCATE          (1ULL << 22)
#define TP_PRIV_ALL                     ((1ULL << 23) - 1)

typedef struct tp_priv_def {
	const char *name;   /* "Tape.Read" */
	uint64_t bit;
} tp_priv_def;

typedef struct tp_role_def {
	const char *name;   /* "TapeReader" */
	uint64_t privs;
	const char *comment;
} tp_role_def;

extern const tp_priv_def tp_privs[];
extern const size_t tp_priv_count;
extern const tp_role_def tp_roles[];
extern const size_t tp_role_count;

const tp_role_def *tp_role_lookup(const char *name);   /* NULL when unknown */
/* Privilege bit of a name ("Datastore.Read"); -EINVAL naming it when unknown. */
int tp_priv_parse(const char *name, uint64_t *bit, tp_err *err);
/* Comma-separated privilege names of mask into out (truncated to len). */
void tp_privs_format(uint64_t mask, char *out, size_t len);

/*
 * ACL paths.  Accepted (as PBS's ACL editor accepts them, empty components
 * ignored): "/", /access, /access/{acl,users,domains}, /access/openid[/X],
 * /datastore[/STORE[/NS1/../NS7]], /remote[/R[/STORE]], /system,
 * /system/{certificates,disks,log,status,tasks,time}, /system/services[/S],
 * /system/network[/dns|/interfaces[/IF]], /tape, /tape/device[/NAME],
 * /tape/pool[/NAME], /tape/job[/ID].  Components must not be "." or ".."
 * nor contain whitespace or control characters.  tapir checks drives and
 * changers at /tape/device/NAME (never /tape/drive or /tape/changer).
 */
#define TP_ACL_PATH_MAX 512
int tp_acl_path_check(const char *path, tp_err *err);
/* Checks and writes the canonical form ("/a/b", or "/") into out (TP_ACL_PATH_MAX + 1). */
int tp_acl_path_normalize(const char *path, char *out, tp_err *err);

typedef struct tp_acl_entry {
	char path[TP_ACL_PATH_MAX + 1];   /* canonical */
	char ugid[TP_AUTHID_MAX + 1];     /* user or token auth id */
	char role[32];
	int propagate;
} tp_acl_entry;

/* The parsed acl.json; entries owned by the struct (tp_acl_free). */
typedef struct tp_acl {
	tp_acl_entry *e;
	size_t n;
} tp_acl;

/* Loads tp_config_path("acl.json") (missing = empty), validating every entry. */
int tp_acl_load(tp_acl *acl, tp_err *err);
int tp_acl_save(const tp_acl *acl, tp_err *err);
void tp_acl_free(tp_acl *acl);
int tp_acl_lock(tp_lock *l, tp_err *err);   /* .acl.lck, held across read-modify-write */

/*
 * In memory: adds (or with del=1 removes) role for ugid on path.  Adding an
 * existing (path, ugid, role) updates its propagate flag.  Removing one that
 * is not there fails with -TP_ENOTFOUND.
 */
int tp_acl_set(tp_acl *acl, const char *path, const char *ugid, const char *role, int propagate,
	       int del, tp_err *err);
/* In memory: drops every entry of authid (and, for a user, of its tokens); returns the count. */
size_t tp_acl_drop_authid(tp_acl *acl, const char *authid);

/*
 * Locked read-modify-write of acl.json (tapir acl update).  When adding, the
 * user or token must exist (root@pam always does); groups are refused, as in
 * PBS ("groups are currently not supported").
 */
int tp_acl_update(const char *path, const char *role, const char *ugid, int propagate, int del,
		  tp_err *err);
int tp_acl_delete_authid(const char *authid, tp_err *err);

/*
 * Effective privileges of authid on path (pure; no file access):
 *  - root@pam has every privilege everywhere;
 *  - an inactive (disabled, expired, unknown) user or token has none;
 *  - the entries are walked from "/" down to path: at each level above path
 *    only propagating entries count, at path itself all do; a level with
 *    entries for authid replaces what was inherited (the most specific
 *    level wins); a NoAccess role there clears everything;
 *  - a token gets the intersection of its own and its user's privileges.
 * *propagated (may be NULL) receives the subset that comes from propagating
 * entries.  Fails only for a malformed path or auth id.
 */
int tp_acl_privs(const tp_acl *acl, const tp_user_config *users, const char *authid, const char *path,
		 int64_t now, uint64_t *privs, uint64_t *propagated, tp_err *err);

/* The same, loading user.json and acl.json. */
int tp_acl_lookup_privs(const char *authid, const char *path, uint64_t *privs, uint64_t *propagated,
			tp_err *err);

/*
 * Requires all privileges in need (any one of them when any=1) on path.
 * 0, or -TP_EPERM "permission check failed: AUTHID lacks PRIV on PATH".
 */
int tp_acl_check(const char *authid, const char *path, uint64_t need, int any, tp_err *err);
/* tp_acl_check of one privilege by its PBS name ("Tape.Read"); -EINVAL for an unknown name. */
int tp_acl_check_named(const char *authid, const char *path, const char *priv, tp_err *err);

/* tp_owner_matches (whether authid counts as the group's owner) is in store/datastore.h. */
/*
 * Backup/restore into a group owned by owner: allowed when
 * tp_owner_matches, or when authid has Datastore.Modify on acl_path (the
 * datastore or namespace path).  0 or -TP_EPERM naming both ids.
 */
int tp_acl_check_owner(const char *authid, const char *owner, const char *acl_path, tp_err *err);

#endif
