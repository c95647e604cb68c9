/* Privileges, roles, ACL path validation, acl.json and permission checks (see acl.h). */
#include "access/acl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/paths.h"
#include "base/timefmt.h"

const tp_priv_def tp_privs[] = {
	{ "Sys.Audit", TP_PRIV_SYS_AUDIT },
	{ "Sys.Modify", TP_PRIV_SYS_MODIFY },
	{ "Sys.PowerManagement", TP_PRIV_SYS_POWER_MANAGEMENT },
	{ "Sys.Console", TP_PRIV_SYS_CONSOLE },
	{ "Datastore.Audit", TP_PRIV_DATASTORE_AUDIT },
	{ "Datastore.Allocate", TP_PRIV_DATASTORE_ALLOCATE },
	{ "Datastore.Modify", TP_PRIV_DATASTORE_MODIFY },
	{ "Datastore.Read", TP_PRIV_DATASTORE_READ },
	{ "Datastore.Verify", TP_PRIV_DATASTORE_VERIFY },
	{ "Datastore.Backup", TP_PRIV_DATASTORE_BACKUP },
	{ "Datastore.Prune", TP_PRIV_DATASTORE_PRUNE },
	{ "Permissions.Modify", TP_PRIV_PERMISSIONS_MODIFY },
	{ "Remote.Audit", TP_PRIV_REMOTE_AUDIT },
	{ "Remote.Modify", TP_PRIV_REMOTE_MODIFY },
	{ "Remote.Read", TP_PRIV_REMOTE_READ },
	{ "Remote.DatastoreBackup", TP_PRIV_REMOTE_DATASTORE_BACKUP },
	{ "Remote.DatastoreModify", TP_PRIV_REMOTE_DATASTORE_MODIFY },
	{ "Remote.DatastorePrune", TP_PRIV_REMOTE_DATASTORE_PRUNE },
	{ "Tape.Audit", TP_PRIV_TAPE_AUDIT },
	{ "Tape.Read", TP_PRIV_TAPE_READ },
	{ "Tape.Write", TP_PRIV_TAPE_WRITE },
	{ "Tape.Modify", TP_PRIV_TAPE_MODIFY },
	{ "Realm.Allocate", TP_PRIV_REALM_ALLOCATE },
};
const size_t tp_priv_count = sizeof(tp_privs) / sizeof(tp_privs[0]);

#define DS_ADMIN (TP_PRIV_DATASTORE_AUDIT | TP_PRIV_DATASTORE_MODIFY | TP_PRIV_DATASTORE_READ | \
		  TP_PRIV_DATASTORE_VERIFY | TP_PRIV_DATASTORE_BACKUP | TP_PRIV_DATASTORE_PRUNE)

const tp_role_def tp_roles[] = {
	{ "Admin", TP_PRIV_ALL, "Administrator" },
	{ "Audit", TP_PRIV_SYS_AUDIT | TP_PRIV_DATASTORE_AUDIT, "Auditor" },
	{ "NoAccess", 0, "Disable Access" },
	{ "DatastoreAdmin", DS_ADMIN, "Datastore Administrator" },
	{ "DatastoreReader", TP_PRIV_DATASTORE_AUDIT | TP_PRIV_DATASTORE_VERIFY | TP_PRIV_DATASTORE_READ,
	  "Datastore Reader (inspect datastore content and do restores)" },
	{ "DatastoreBackup", TP_PRIV_DATASTORE_BACKUP, "Datastore Backup (backup and restore owned backups)" },
	{ "DatastorePowerUser", TP_PRIV_DATASTORE_PRUNE | TP_PRIV_DATASTORE_BACKUP,
	  "Datastore PowerUser (backup, restore and prune owned backup)" },
	{ "DatastoreAudit", TP_PRIV_DATASTORE_AUDIT, "Datastore Auditor" },
	{ "RemoteAudit", TP_PRIV_REMOTE_AUDIT, "Remote Auditor" },
	{ "RemoteAdmin", TP_PRIV_REMOTE_AUDIT | TP_PRIV_REMOTE_MODIFY | TP_PRIV_REMOTE_READ, "Remote Administrator" },
	{ "RemoteSyncOperator", TP_PRIV_REMOTE_AUDIT | TP_PRIV_REMOTE_READ, "Synchronization Operator" },
	{ "RemoteSyncPushOperator", TP_PRIV_REMOTE_AUDIT | TP_PRIV_REMOTE_DATASTORE_BACKUP,
	  "Synchronisation Operator (push direction)" },
	{ "RemoteDatastorePowerUser",
	  TP_PRIV_REMOTE_AUDIT | TP_PRIV_REMOTE_DATASTORE_BACKUP | TP_PRIV_REMOTE_DATASTORE_PRUNE,
	  "Remote Datastore Prune" },
	{ "RemoteDatastoreAdmin",
	  TP_PRIV_REMOTE_AUDIT | TP_PRIV_REMOTE_DATASTORE_BACKUP | TP_PRIV_REMOTE_DATASTORE_MODIFY |
		  TP_PRIV_REMOTE_DATASTORE_PRUNE,
	  "Remote Datastore Admin" },
	{ "TapeAudit", TP_PRIV_TAPE_AUDIT, "Tape Auditor" },
	{ "TapeAdmin", TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_MODIFY | TP_PRIV_TAPE_READ | TP_PRIV_TAPE_WRITE,
	  "Tape Administrator" },
	{ "TapeOperator", TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ | TP_PRIV_TAPE_WRITE, "Tape Operator" },
	{ "TapeReader", TP_PRIV_TAPE_AUDIT | TP_PRIV_TAPE_READ, "Tape Reader" },
};
const size_t tp_role_count = sizeof(tp_roles) / sizeof(tp_roles[0]);

const tp_role_def *tp_role_lookup(const char *name)
{
	for (size_t i = 0; name && i < tp_role_count; i++)
		if (!strcmp(tp_roles[i].name, name))
			return &tp_roles[i];
	return NULL;
}

int tp_priv_parse(const char *name, uint64_t *bit, tp_err *err)
{
	for (size_t i = 0; name && i < tp_priv_count; i++)
		if (!strcmp(tp_privs[i].name, name)) {
			*bit = tp_privs[i].bit;
			return 0;
		}
	return tp_err_set(err, -EINVAL, "unknown privilege '%s'", name ? name : "");
}

void tp_privs_format(uint64_t mask, char *out, size_t len)
{
	size_t o = 0;
	if (len)
		out[0] = 0;
	for (size_t i = 0; i < tp_priv_count && len; i++) {
		if (!(mask & tp_privs[i].bit))
			continue;
		int n = snprintf(out + o, len - o, "%s%s", o ? "," : "", tp_privs[i].name);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

/* ---- paths ---- */

#define MAX_COMPS 16

/* Splits a canonical-izable path into components (pointers into buf). */
static int split_path(const char *path, char *buf, char **comps, int *n, tp_err *err)
{
	*n = 0;
	if (!path || path[0] != '/')
		return tp_err_set(err, -EINVAL, "invalid ACL path '%s': must start with '/'", path ? path : "");
	if (strlen(path) > TP_ACL_PATH_MAX)
		return tp_err_set(err, -EINVAL, "invalid ACL path '%.60s...': longer than %d characters", path,
				  TP_ACL_PATH_MAX);
	strcpy(buf, path);
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (*n >= MAX_COMPS)
			return tp_err_set(err, -EINVAL, "invalid ACL path '%s': too many components", path);
		if (!strcmp(c, ".") || !strcmp(c, ".."))
			return tp_err_set(err, -EINVAL, "invalid ACL path '%s': '.' and '..' are not allowed", path);
		for (const char *p = c; *p; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f)
				return tp_err_set(err, -EINVAL,
						  "invalid ACL path '%s': whitespace or control character", path);
		comps[(*n)++] = c;
	}
	return 0;
}

static int in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

/* The paths PBS's ACL editor accepts (pbs-config check_acl_path), and nothing else. */
static int comps_valid(char **c, int n)
{
	static const char *const access2[] = { "acl", "users", "domains", NULL };
	static const char *const system2[] = { "certificates", "disks", "log", "status", "tasks", "time", NULL };
	static const char *const tape2[] = { "device", "pool", "job", NULL };
	if (n == 0)
		return 1;
	if (!strcmp(c[0], "access")) {
		if (n == 1)
			return 1;
		if (in(c[1], access2))
			return n == 2;
		if (!strcmp(c[1], "openid"))
			return n <= 3;
		return 0;
	}
	if (!strcmp(c[0], "datastore"))
		return n <= 2 + 7;   /* store plus up to 7 namespace levels (PBS MAX_NAMESPACE_DEPTH) */
	if (!strcmp(c[0], "remote"))
		return n <= 3;
	if (!strcmp(c[0], "system")) {
		if (n == 1)
			return 1;
		if (in(c[1], system2))
			return n == 2;
		if (!strcmp(c[1], "services"))
			return n <= 3;
		if (!strcmp(c[1], "network")) {
			if (n == 2)
				return 1;
			if (!strcmp(c[2], "dns"))
				return n == 3;
			if (!strcmp(c[2], "interfaces"))
				return n <= 4;
		}
		return 0;
	}
	if (!strcmp(c[0], "tape")) {
		if (n == 1)
			return 1;
		return in(c[1], tape2) && n <= 3;
	}
	return 0;
}

int tp_acl_path_normalize(const char *path, char *out, tp_err *err)
{
	char buf[TP_ACL_PATH_MAX + 1];
	char *comps[MAX_COMPS];
	int n, r = split_path(path, buf, comps, &n, err);
	if (r < 0)
		return r;
	if (!comps_valid(comps, n))
		return tp_err_set(err, -EINVAL, "invalid ACL path '%s'", path);
	size_t o = 0;
	out[0] = '/';
	out[1] = 0;
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, TP_ACL_PATH_MAX + 1 - o, "/%s", comps[i]);
	return 0;
}

int tp_acl_path_check(const char *path, tp_err *err)
{
	char tmp[TP_ACL_PATH_MAX + 1];
	return tp_acl_path_normalize(path, tmp, err);
}

/* ---- acl.json ---- */

void tp_acl_free(tp_acl *acl)
{
	free(acl->e);
	acl->e = NULL;
	acl->n = 0;
}

static int ugid_check(const char *ugid, tp_err *err)
{
	if (ugid && ugid[0] == '@')
		return tp_err_set(err, -EINVAL, "'%s': groups are currently not supported", ugid);
	tp_authid a;
	return tp_authid_parse(ugid, &a, err);
}

static int entry_cmp(const void *a, const void *b)
{
	const tp_acl_entry *x = a, *y = b;
	int c = strcmp(x->path, y->path);
	if (!c)
		c = strcmp(x->ugid, y->ugid);
	if (!c)
		c = strcmp(x->role, y->role);
	return c;
}

static int acl_add(tp_acl *acl, const tp_acl_entry *e, tp_err *err)
{
	tp_acl_entry *ne = realloc(acl->e, (acl->n + 1) * sizeof(*ne));
	if (!ne)
		return tp_err_set(err, -ENOMEM, "out of memory");
	acl->e = ne;
	acl->e[acl->n++] = *e;
	qsort(acl->e, acl->n, sizeof(*acl->e), entry_cmp);
	return 0;
}

int tp_acl_load(tp_acl *acl, tp_err *err)
{
	acl->e = NULL;
	acl->n = 0;
	char *path = tp_config_path("acl.json");
	json_t *root = NULL;
	int r = 0;
	if (!path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if (!tp_path_exists(path))
		goto out;
	root = tp_json_load_file(path, 16u << 20, err);
	if (!root) {
		r = err && err->code ? err->code : -TP_EFORMAT;
		goto out;
	}
	if (!json_is_array(root)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: expected an array of ACL entries", path);
		goto out;
	}
	size_t i;
	json_t *o;
	json_array_foreach(root, i, o) {
		char what[600];
		snprintf(what, sizeof(what), "%s: entry #%zu", path, i);
		const char *p, *ugid, *role;
		tp_acl_entry e = { 0 };
		if ((r = tp_json_get_str(o, "path", &p, what, err)) < 0 ||
		    (r = tp_json_get_str(o, "ugid", &ugid, what, err)) < 0 ||
		    (r = tp_json_get_str(o, "roleid", &role, what, err)) < 0)
			goto out;
		json_t *prop = json_object_get(o, "propagate");
		if ((r = tp_acl_path_normalize(p, e.path, err)) < 0 || (r = ugid_check(ugid, err)) < 0) {
			r = tp_err_wrap(err, -TP_EFORMAT, "%s", what);
			goto out;
		}
		if (!tp_role_lookup(role)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: unknown role '%s'", what, role);
			goto out;
		}
		if (prop && !json_is_boolean(prop)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: \"propagate\" must be a boolean", what);
			goto out;
		}
		snprintf(e.ugid, sizeof(e.ugid), "%s", ugid);
		snprintf(e.role, sizeof(e.role), "%s", role);
		e.propagate = prop ? json_is_true(prop) : 1;
		if ((r = acl_add(acl, &e, err)) < 0)
			goto out;
	}
out:
	json_decref(root);
	free(path);
	if (r < 0)
		tp_acl_free(acl);
	return r;
}

int tp_acl_save(const tp_acl *acl, tp_err *err)
{
	json_t *arr = json_array();
	if (!arr)
		return tp_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < acl->n; i++) {
		const tp_acl_entry *e = &acl->e[i];
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:b}", "path", e->path, "ugid", e->ugid,
						     "ugid_type", "user", "roleid", e->role, "propagate",
						     e->propagate));
	}
	char *path = tp_config_path("acl.json");
	int r = path ? tp_json_save_file(path, arr, 0640, err) : tp_err_set(err, -ENOMEM, "out of memory");
	free(path);
	json_decref(arr);
	return r;
}

int tp_acl_lock(tp_lock *l, tp_err *err)
{
	char *p = tp_config_path(".acl.lck");
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, 10000, NULL, "ACL configuration", err);
	free(p);
	return r;
}

int tp_acl_set(tp_acl *acl, const char *path, const char *ugid, const char *role, int propagate, int del,
	       tp_err *err)
{
	tp_acl_entry e = { 0 };
	int r = tp_acl_path_normalize(path, e.path, err);
	if (r < 0 || (r = ugid_check(ugid, err)) < 0)
		return r;
	if (!tp_role_lookup(role))
		return tp_err_set(err, -EINVAL, "unknown role '%s'", role ? role : "");
	snprintf(e.ugid, sizeof(e.ugid), "%s", ugid);
	snprintf(e.role, sizeof(e.role), "%s", role);
	e.propagate = propagate ? 1 : 0;
	for (size_t i = 0; i < acl->n; i++) {
		if (entry_cmp(&acl->e[i], &e))
			continue;
		if (del) {
			memmove(&acl->e[i], &acl->e[i + 1], (acl->n - i - 1) * sizeof(e));
			acl->n--;
		} else {
			acl->e[i].propagate = e.propagate;
		}
		return 0;
	}
	if (del)
		return tp_err_set(err, -TP_ENOTFOUND, "no ACL entry %s %s %s", e.path, ugid, role);
	return acl_add(acl, &e, err);
}


size_t tp_acl_drop_authid(tp_acl *acl, const char *authid)
{
	size_t w = 0, dropped = 0;
	for (size_t i = 0; i < acl->n; i++) {
		if (tp_authid_covers(authid, acl->e[i].ugid))
			dropped++;
		else
			acl->e[w++] = acl->e[i];
	}
	acl->n = w;
	return dropped;
}

int tp_acl_update(const char *path, const char *role, const char *ugid, int propagate, int del, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_acl acl = { 0 };
	int r = ugid_check(ugid, err);
	if (r < 0 || (r = tp_acl_path_check(path, err)) < 0)
		return r;
	if (!del && strcmp(ugid, TP_ROOT_USERID)) {
		tp_user_config cfg;
		if ((r = tp_user_config_load(&cfg, err)) < 0)
			return r;
		int known = strchr(ugid, '!') ? tp_token_find(&cfg, ugid) != NULL : tp_user_find(&cfg, ugid) != NULL;
		tp_user_config_free(&cfg);
		if (!known)
			return tp_err_set(err, -TP_ENOTFOUND, "%s '%s' does not exist",
					  strchr(ugid, '!') ? "API token" : "user", ugid);
	}
	if ((r = tp_acl_lock(&l, err)) < 0)
		return r;
	if ((r = tp_acl_load(&acl, err)) < 0 || (r = tp_acl_set(&acl, path, ugid, role, propagate, del, err)) < 0)
		goto out;
	r = tp_acl_save(&acl, err);
out:
	tp_acl_free(&acl);
	tp_lock_release(&l);
	return r;
}

int tp_acl_delete_authid(const char *authid, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_acl acl = { 0 };
	int r = tp_acl_lock(&l, err);
	if (r < 0)
		return r;
	if ((r = tp_acl_load(&acl, err)) < 0)
		goto out;
	if (tp_acl_drop_authid(&acl, authid) > 0)
		r = tp_acl_save(&acl, err);
out:
	tp_acl_free(&acl);
	tp_lock_release(&l);
	return r;
}

/* ---- permission evaluation ---- */

/* Privileges of exactly authid's own entries walked down to the path (see acl.h). */
static void walk(const tp_acl *acl, const char *authid, char **comps, int n, uint64_t *privs, uint64_t *prop)
{
	uint64_t p = 0, pp = 0;
	char node[TP_ACL_PATH_MAX + 1];
	size_t o = 0;
	for (int d = 0; d <= n; d++) {
		if (d == 0) {
			strcpy(node, "/");
		} else {
			o += (size_t)snprintf(node + o, sizeof(node) - o, "/%s", comps[d - 1]);
		}
		int found = 0, noaccess = 0;
		uint64_t lp = 0, lpp = 0;
		for (size_t i = 0; i < acl->n; i++) {
			const tp_acl_entry *e = &acl->e[i];
			if (strcmp(e->path, node) || strcmp(e->ugid, authid) || !(e->propagate || d == n))
				continue;
			const tp_role_def *role = tp_role_lookup(e->role);
			found = 1;
			if (!role || role->privs == 0) {
				noaccess = 1;
				continue;
			}
			lp |= role->privs;
			if (e->propagate)
				lpp |= role->privs;
		}
		if (found) {
			p = noaccess ? 0 : lp;
			pp = noaccess ? 0 : lpp;
		}
	}
	*privs = p;
	*prop = pp;
}

int tp_acl_privs(const tp_acl *acl, const tp_user_config *users, const char *authid, const char *path,
		 int64_t now, uint64_t *privs, uint64_t *propagated, tp_err *err)
{
	char buf[TP_ACL_PATH_MAX + 1];
	char *comps[MAX_COMPS];
	int n;
	tp_authid a;
	uint64_t p = 0, pp = 0;
	int r = tp_authid_parse(authid, &a, err);
	if (r < 0 || (r = split_path(path, buf, comps, &n, err)) < 0)
		return r;
	if (!comps_valid(comps, n))
		return tp_err_set(err, -EINVAL, "invalid ACL path '%s'", path);
	if (tp_authid_active(users, authid, now, NULL) < 0)
		goto out;
	if (!tp_authid_is_token(&a) && !strcmp(a.userid, TP_ROOT_USERID)) {
		p = pp = TP_PRIV_ALL;
		goto out;
	}
	walk(acl, authid, comps, n, &p, &pp);
	if (tp_authid_is_token(&a)) {
		uint64_t up = 0, upp = 0;
		if (!strcmp(a.userid, TP_ROOT_USERID))
			up = upp = TP_PRIV_ALL;
		else
			walk(acl, a.userid, comps, n, &up, &upp);
		p &= up;
		pp &= upp;
	}
out:
	*privs = p;
	if (propagated)
		*propagated = pp;
	return 0;
}

int tp_acl_lookup_privs(const char *authid, const char *path, uint64_t *privs, uint64_t *propagated, tp_err *err)
{
	tp_user_config cfg;
	tp_acl acl;
	int r = tp_user_config_load(&cfg, err);
	if (r < 0)
		return r;
	if ((r = tp_acl_load(&acl, err)) == 0) {
		r = tp_acl_privs(&acl, &cfg, authid, path, tp_now(), privs, propagated, err);
		tp_acl_free(&acl);
	}
	tp_user_config_free(&cfg);
	return r;
}

int tp_acl_check(const char *authid, const char *path, uint64_t need, int any, tp_err *err)
{
	uint64_t have = 0;
	int r = tp_acl_lookup_privs(authid, path, &have, NULL, err);
	if (r < 0)
		return r;
	if (any ? (have & need) != 0 : (have & need) == need)
		return 0;
	char names[512];
	tp_privs_format(any ? need : need & ~have, names, sizeof(names));
	return tp_err_set(err, -TP_EPERM, "permission check failed: %s lacks %s%s on %s", authid,
			  any ? "any of " : "", names, path);
}

int tp_acl_check_named(const char *authid, const char *path, const char *priv, tp_err *err)
{
	uint64_t bit = 0;
	int r = tp_priv_parse(priv, &bit, err);
	return r < 0 ? r : tp_acl_check(authid, path, bit, 0, err);
}

int tp_acl_check_owner(const char *authid, const char *owner, const char *acl_path, tp_err *err)
{
	tp_authid a, o;
	int r = tp_authid_parse(authid, &a, err);
	if (r < 0 || (r = tp_authid_parse(owner, &o, err)) < 0)
		return r;
	if (tp_owner_matches(authid, owner))
		return 0;
	uint64_t have = 0;
	if ((r = tp_acl_lookup_privs(authid, acl_path, &have, NULL, err)) < 0)
		return r;
	if (have & TP_PRIV_DATASTORE_MODIFY)
		return 0;
	return tp_err_set(err, -TP_EPERM,
			  "backup owner check failed (%s != %s) and %s lacks Datastore.Modify on %s", authid, owner,
			  authid, acl_path);
}
