/* API handlers of config/datastore and admin/datastore/{store}: groups, snapshots, forget, verify, prune. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access/acl.h"
#include "api/handlers.h"
#include "api/worker.h"
#include "base/log.h"
#include "base/json_util.h"
#include "base/timefmt.h"
#include "store/datastore.h"
#include "store/gc.h"
#include "store/prune.h"
#include "store/verify.h"
#include "task/task.h"

/* ---- config/datastore ---- */

int h_datastore_list(tp_api_call *c, json_t **data, tp_err *err)
{
	json_t *cfg = tp_datastore_config_list(err);
	if (!cfg)
		return err && err->code ? err->code : -EIO;
	json_t *arr = json_array();
	const char *name;
	json_t *v;
	json_object_foreach(cfg, name, v) {
		char p[TP_ACL_PATH_MAX + 1];
		snprintf(p, sizeof(p), "/datastore/%s", name);
		if (!tp_api_has_priv(c, p, TP_PRIV_DATASTORE_AUDIT, 0))
			continue;
		json_t *o = json_pack("{s:s}", "name", name);
		json_object_update(o, v);
		json_array_append_new(arr, o);
	}
	json_decref(cfg);
	*data = arr;
	return 0;
}

int h_datastore_create(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	return tp_datastore_create(tp_api_arg_str(c, "name"), tp_api_arg_str(c, "path"),
				   tp_api_arg_bool(c, "reuse-datastore", 0), err);
}

int h_datastore_get(tp_api_call *c, json_t **data, tp_err *err)
{
	char *path = NULL;
	const char *name = tp_api_arg_str(c, "name");
	int r = tp_datastore_lookup(name, &path, err);
	if (r < 0)
		return r;
	*data = json_pack("{s:s,s:s}", "name", name, "path", path);
	free(path);
	return 0;
}

int h_datastore_delete(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	return tp_datastore_remove_config(tp_api_arg_str(c, "name"), err);
}

/* ---- admin/datastore ---- */

static void ds_acl_path(const tp_api_call *c, char *out)
{
	const char *ns = tp_api_arg_str(c, "ns");
	snprintf(out, TP_ACL_PATH_MAX + 1, "/datastore/%s%s%s", tp_api_arg_str(c, "store"), ns && *ns ? "/" : "",
		 ns ? ns : "");
}

/*
 * Whether the caller may act on a group owned by owner: `full` privileges
 * on the datastore path, or `own` privileges there and ownership.
 */
static int group_access(const tp_api_call *c, const char *acl_path, const char *owner, uint64_t full, uint64_t own,
			tp_err *err)
{
	if (tp_api_has_priv(c, acl_path, full, 1))
		return 0;
	if (own && tp_api_has_priv(c, acl_path, own, 1) && owner && tp_owner_matches(c->authid, owner))
		return 0;
	char names[256];
	tp_privs_format(full, names, sizeof(names));
	return tp_err_set(err, -TP_EPERM, "permission check failed: %s lacks %s on %s%s", c->authid, names, acl_path,
			  own ? " and does not own the group" : "");
}

static int open_store(const tp_api_call *c, tp_datastore *ds, tp_err *err)
{
	int r = tp_datastore_open(ds, tp_api_arg_str(c, "store"), err);
	if (r < 0)
		return r;
	const char *ns = tp_api_arg_str(c, "ns");
	if (ns && *ns && !tp_datastore_ns_exists(ds, ns)) {
		tp_datastore_close(ds);
		return tp_err_set(err, -TP_ENOTFOUND, "namespace '%s' does not exist in datastore %s", ns, ds->name);
	}
	return 0;
}

/* Owner of a group, "" when unreadable. */
static void owner_of(tp_datastore *ds, const tp_snapshot_ref *g, char owner[TP_AUTHID_MAX + 1])
{
	tp_snapshot_ref gr = *g;
	gr.time = 0;
	if (tp_group_owner(ds, &gr, owner, NULL) < 0)
		owner[0] = 0;
}

int h_groups(tp_api_call *c, json_t **data, tp_err *err)
{
	char ap[TP_ACL_PATH_MAX + 1];
	ds_acl_path(c, ap);
	int audit = tp_api_has_priv(c, ap, TP_PRIV_DATASTORE_AUDIT, 0);
	tp_datastore ds;
	int r = open_store(c, &ds, err);
	if (r < 0)
		return r;
	const char *ns = tp_api_arg_str(c, "ns");
	tp_snapshot_list l;
	if ((r = tp_datastore_list_snapshots(&ds, ns ? ns : "", 0, &l, err)) < 0)
		goto out;
	json_t *arr = json_array();
	for (size_t i = 0; i < l.n;) {
		size_t j = i;
		int64_t last = 0;
		size_t count = 0;
		while (j < l.n && !strcmp(l.items[j].type, l.items[i].type) && !strcmp(l.items[j].id, l.items[i].id)) {
			if (l.finished[j]) {
				count++;
				if (l.items[j].time > last)
					last = l.items[j].time;
			}
			j++;
		}
		char owner[TP_AUTHID_MAX + 1];
		owner_of(&ds, &l.items[i], owner);
		if (audit || (owner[0] && tp_owner_matches(c->authid, owner))) {
			json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "backup-type", l.items[i].type, "backup-id", l.items[i].id,
					      "last-backup", (json_int_t)last, "backup-count", (json_int_t)count);
			if (owner[0])
				json_object_set_new(o, "owner", json_string(owner));
			json_array_append_new(arr, o);
		}
		i = j;
	}
	tp_snapshot_list_free(&l);
	*data = arr;
out:
	tp_datastore_close(&ds);
	return r;
}

int h_snapshots(tp_api_call *c, json_t **data, tp_err *err)
{
	char ap[TP_ACL_PATH_MAX + 1];
	ds_acl_path(c, ap);
	int audit = tp_api_has_priv(c, ap, TP_PRIV_DATASTORE_AUDIT, 0);
	const char *type = tp_api_arg_str(c, "backup-type"), *id = tp_api_arg_str(c, "backup-id");
	tp_datastore ds;
	int r = open_store(c, &ds, err);
	if (r < 0)
		return r;
	const char *ns = tp_api_arg_str(c, "ns");
	tp_snapshot_list l;
	if ((r = tp_datastore_list_snapshots(&ds, ns ? ns : "", 0, &l, err)) < 0)
		goto out;
	json_t *arr = json_array();
	char owner[TP_AUTHID_MAX + 1] = "", owner_key[300] = "";
	for (size_t i = 0; i < l.n; i++) {
		const tp_snapshot_ref *s = &l.items[i];
		if ((type && strcmp(type, s->type)) || (id && strcmp(id, s->id)))
			continue;
		char key[300];
		snprintf(key, sizeof(key), "%s/%s", s->type, s->id);
		if (strcmp(key, owner_key)) {
			owner_of(&ds, s, owner);
			snprintf(owner_key, sizeof(owner_key), "%s", key);
		}
		if (!audit && !(owner[0] && tp_owner_matches(c->authid, owner)))
			continue;
		json_t *o = json_pack("{s:s,s:s,s:I,s:b}", "backup-type", s->type, "backup-id", s->id, "backup-time",
				      (json_int_t)s->time, "protected", l.protected_[i]);
		if (owner[0])
			json_object_set_new(o, "owner", json_string(owner));
		if (!l.finished[i])
			json_object_set_new(o, "finished", json_false());
		json_array_append_new(arr, o);
	}
	tp_snapshot_list_free(&l);
	*data = arr;
out:
	tp_datastore_close(&ds);
	return r;
}

static void snap_from_args(const tp_api_call *c, tp_snapshot_ref *s)
{
	memset(s, 0, sizeof(*s));
	const char *ns = tp_api_arg_str(c, "ns");
	snprintf(s->ns, sizeof(s->ns), "%s", ns ? ns : "");
	snprintf(s->type, sizeof(s->type), "%s", tp_api_arg_str(c, "backup-type"));
	snprintf(s->id, sizeof(s->id), "%s", tp_api_arg_str(c, "backup-id"));
	s->time = tp_api_arg_int(c, "backup-time", 0);
}

int h_snapshot_forget(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	char ap[TP_ACL_PATH_MAX + 1];
	ds_acl_path(c, ap);
	tp_datastore ds;
	int r = open_store(c, &ds, err);
	if (r < 0)
		return r;
	tp_snapshot_ref s;
	snap_from_args(c, &s);
	char owner[TP_AUTHID_MAX + 1];
	owner_of(&ds, &s, owner);
	int fin;
	if ((r = group_access(c, ap, owner, TP_PRIV_DATASTORE_MODIFY, TP_PRIV_DATASTORE_PRUNE, err)) < 0)
		goto out;
	if (!tp_snapshot_exists(&ds, &s, &fin)) {
		char p[TP_SNAPSHOT_PATH_MAX];
		tp_snapshot_ref_path(&s, p, sizeof(p));
		r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s does not exist in datastore %s", p, ds.name);
		goto out;
	}
	r = tp_snapshot_remove(&ds, &s, err);
out:
	tp_datastore_close(&ds);
	return r;
}

typedef struct verify_job {
	char store[TP_STORE_NAME_MAX + 1];
	int one;
	tp_snapshot_ref snap;
} verify_job;

static int verify_worker(void *arg, tp_err *err)
{
	verify_job *j = arg;
	tp_datastore ds;
	int r = tp_datastore_open(&ds, j->store, err);
	if (r < 0)
		return r;
	tp_info("verify datastore %s%s", j->store, j->one ? " (one snapshot)" : "");
	json_t *report = json_object();
	tp_verify_stats st = { 0 };
	r = tp_verify_datastore(&ds, j->one ? &j->snap : NULL, report, &st, err);
	tp_info("verified %llu snapshots (%llu failed), %llu chunks (%llu bad), %llu bytes",
		(unsigned long long)st.snapshots, (unsigned long long)st.snapshots_failed,
		(unsigned long long)st.chunks, (unsigned long long)st.chunks_bad, (unsigned long long)st.bytes);
	json_decref(report);
	tp_datastore_close(&ds);
	return r;
}

int h_verify(tp_api_call *c, json_t **data, tp_err *err)
{
	char ap[TP_ACL_PATH_MAX + 1];
	ds_acl_path(c, ap);
	const char *type = tp_api_arg_str(c, "backup-type"), *id = tp_api_arg_str(c, "backup-id");
	int have_time = tp_api_arg(c, "backup-time") != NULL;
	if (have_time && (!type || !id))
		return tp_err_set(err, -EINVAL, "parameter 'backup-time': needs backup-type and backup-id");
	if (!have_time && (type || id))
		return tp_err_set(err, -EINVAL, "parameter '%s': tapir verifies one snapshot (with backup-time) or the "
				  "whole datastore", type ? "backup-type" : "backup-id");
	verify_job *j = calloc(1, sizeof(*j));
	if (!j)
		return tp_err_set(err, -ENOMEM, "out of memory");
	snprintf(j->store, sizeof(j->store), "%s", tp_api_arg_str(c, "store"));
	int r;
	char worker_id[TP_WORKER_ID_MAX + 1];
	snprintf(worker_id, sizeof(worker_id), "%s", j->store);
	if (have_time) {
		j->one = 1;
		snap_from_args(c, &j->snap);
		tp_datastore ds;
		if ((r = open_store(c, &ds, err)) < 0) {
			free(j);
			return r;
		}
		char owner[TP_AUTHID_MAX + 1], p[TP_SNAPSHOT_PATH_MAX];
		owner_of(&ds, &j->snap, owner);
		int fin;
		tp_snapshot_ref_path(&j->snap, p, sizeof(p));
		r = group_access(c, ap, owner, TP_PRIV_DATASTORE_VERIFY, TP_PRIV_DATASTORE_BACKUP, err);
		if (r == 0 && !tp_snapshot_exists(&ds, &j->snap, &fin))
			r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s does not exist in datastore %s", p, ds.name);
		tp_datastore_close(&ds);
		if (r < 0) {
			free(j);
			return r;
		}
		snprintf(worker_id, sizeof(worker_id), "%s:%s", j->store, p);
	} else if ((r = tp_api_check_priv(c, ap, TP_PRIV_DATASTORE_VERIFY, 0, err)) < 0) {
		free(j);
		return r;
	}
	char upid[TP_UPID_MAX];
	if ((r = tp_api_worker_start("verify", worker_id, c->authid, verify_worker, j, free, upid, err)) < 0)
		return r;
	*data = json_string(upid);
	return 0;
}

int h_prune(tp_api_call *c, json_t **data, tp_err *err)
{
	char ap[TP_ACL_PATH_MAX + 1];
	ds_acl_path(c, ap);
	tp_prune_opts o = { 0 };
	static const char *const keys[] = { "keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly",
					    "keep-yearly" };
	unsigned *dst[] = { &o.keep_last, &o.keep_hourly, &o.keep_daily, &o.keep_weekly, &o.keep_monthly, &o.keep_yearly };
	for (int i = 0; i < 6; i++)
		*dst[i] = (unsigned)tp_api_arg_int(c, keys[i], 0);
	int dry = tp_api_arg_bool(c, "dry-run", 0);
	tp_snapshot_ref g;
	snap_from_args(c, &g);
	tp_datastore ds;
	int r = open_store(c, &ds, err);
	if (r < 0)
		return r;
	char owner[TP_AUTHID_MAX + 1];
	owner_of(&ds, &g, owner);
	tp_snapshot_list l = { 0 };
	tp_prune_item *it = NULL;
	json_t *arr = NULL;
	if ((r = group_access(c, ap, owner, TP_PRIV_DATASTORE_MODIFY, TP_PRIV_DATASTORE_PRUNE, err)) < 0)
		goto out;
	if ((r = tp_datastore_list_snapshots(&ds, g.ns, 0, &l, err)) < 0)
		goto out;
	size_t first = l.n, n = 0;
	for (size_t i = 0; i < l.n; i++)
		if (!strcmp(l.items[i].type, g.type) && !strcmp(l.items[i].id, g.id)) {
			if (first == l.n)
				first = i;
			n++;
		}
	if (!n) {
		r = tp_err_set(err, -TP_ENOTFOUND, "group %s/%s does not exist in datastore %s", g.type, g.id, ds.name);
		goto out;
	}
	if (!(it = calloc(n, sizeof(*it)))) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < n; k++)
		it[k] = (tp_prune_item){ l.items[first + k].time, l.finished[first + k], l.protected_[first + k], 0 };
	tp_prune_select(it, n, &o);
	arr = json_array();
	for (size_t k = 0; k < n && r == 0; k++) {
		int keep = it[k].mark != TP_PRUNE_REMOVE;
		json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:b,s:b}", "backup-type", g.type, "backup-id", g.id,
						     "backup-time", (json_int_t)it[k].time, "keep", keep, "protected",
						     it[k].mark == TP_PRUNE_PROTECTED));
		if (!dry && !keep)
			r = tp_snapshot_remove(&ds, &l.items[first + k], err);
	}
	if (r == 0) {
		*data = arr;
		arr = NULL;
	}
out:
	json_decref(arr);
	free(it);
	tp_snapshot_list_free(&l);
	tp_datastore_close(&ds);
	return r;
}

/* ---- garbage collection ---- */

static int gc_worker(void *arg, tp_err *err)
{
	const char *store = arg;
	tp_datastore ds;
	int r = tp_datastore_open(&ds, store, err);
	if (r < 0)
		return r;
	tp_gc_opts o = { 0 };
	tp_gc_stats st;
	r = tp_gc_run(&ds, &o, &st, err);
	tp_datastore_close(&ds);
	if (r < 0)
		return r;
	tp_info("removed %llu chunks, %llu bad, %llu temp files (%llu bytes); kept %llu chunks (%llu bytes); "
		"pending %llu chunks (%llu bytes); still bad %llu",
		(unsigned long long)st.removed_chunks, (unsigned long long)st.removed_bad,
		(unsigned long long)st.removed_tmp, (unsigned long long)st.removed_bytes,
		(unsigned long long)st.disk_chunks, (unsigned long long)st.disk_bytes,
		(unsigned long long)st.pending_chunks, (unsigned long long)st.pending_bytes,
		(unsigned long long)st.still_bad);
	return 0;
}

int h_gc_start(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *store = tp_api_arg_str(c, "store");
	tp_datastore ds;
	int r = tp_datastore_open(&ds, store, err);   /* 404 now rather than a failed task */
	if (r < 0)
		return r;
	tp_datastore_close(&ds);
	char *arg = strdup(store), upid[TP_UPID_MAX];
	if (!arg)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if ((r = tp_api_worker_start("garbage_collection", store, c->authid, gc_worker, arg, free, upid, err)) < 0)
		return r;
	*data = json_string(upid);
	return 0;
}

/*
 * PBS's GarbageCollectionStatus: the counters of the last finished run
 * (.gc-status; zeros before the first), plus the newest GC task of the
 * store and its state.
 */
int h_gc_status(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *store = tp_api_arg_str(c, "store");
	tp_datastore ds;
	int r = tp_datastore_open(&ds, store, err);
	if (r < 0)
		return r;
	char *p = tp_datastore_path(&ds, ".gc-status");
	json_t *o = NULL;
	if (!p) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
	} else if (access(p, F_OK) == 0) {
		if (!(o = tp_json_load_file(p, 1 << 20, err)))
			r = err->code ? err->code : -TP_EFORMAT;
		else if (!json_is_object(o))
			r = tp_err_set(err, -TP_EFORMAT, "%s: not a JSON object", p);
	} else {
		tp_gc_stats zero;
		memset(&zero, 0, sizeof(zero));
		o = tp_gc_stats_json(&zero);
	}
	free(p);
	tp_datastore_close(&ds);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	json_object_set_new(o, "store", json_string(store));
	tp_task_filter f = { .worker_type = "garbage_collection" };
	tp_task_info *v;
	size_t n;
	if (tp_task_list(&f, &v, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp(v[i].upid.worker_id, store))
				continue;
			json_object_set_new(o, "upid", json_string(v[i].upid_str));
			json_object_set_new(o, "last-run-state", json_string(v[i].running ? "running" : v[i].status));
			if (!v[i].running)
				json_object_set_new(o, "last-run-endtime", json_integer(v[i].endtime));
			break;   /* newest first */
		}
		free(v);
	}
	*data = o;
	return 0;
}
