/* Tape backup jobs (config/tape-backup-job, tape/backup[/{id}]), scheduler, and tape/restore as worker tasks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/acl.h"
#include "api/handlers.h"
#include "api/jobs.h"
#include "api/worker.h"
#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "tape/backup_job.h"
#include "tape/inventory.h"
#include "tape/tape_backup.h"
#include "tape/tape_restore.h"
#include "task/notify.h"
#include "task/task.h"

/* ---- running a backup ---- */

typedef struct backup_run {
	tp_backup_job job;        /* job id "" for an ad-hoc backup */
	int force_media_set, eject_media, export_media_set;
	char **groups;
	int ngroups;
} backup_run;

static void backup_run_free(void *p)
{
	backup_run *b = p;
	for (int i = 0; i < b->ngroups; i++)
		free(b->groups[i]);
	free(b->groups);
	free(b);
}

/* Status text as the task will record it. */
static void status_text(int r, const char *msg, char *out, size_t n)
{
	tp_task *t = tp_task_current();
	unsigned w = t ? tp_task_warnings(t) : 0;
	if (r == -TP_EABORT)
		snprintf(out, n, "aborted");
	else if (r < 0)
		snprintf(out, n, "%s", msg && *msg ? msg : tp_strerror(r));
	else if (w)
		snprintf(out, n, "WARNINGS: %u", w);
	else
		snprintf(out, n, "OK");
}

static int backup_worker(void *arg, tp_err *err)
{
	backup_run *b = arg;
	const tp_backup_job *j = &b->job;
	tp_task *t = tp_task_current();
	const char *upid = t ? tp_task_upid(t) : "";
	tp_err e = { 0 };
	if (j->id[0] && tp_backup_job_state_started(j->id, upid, tp_now(), &e) < 0)
		tp_warn("job %s: cannot record the start: %s", j->id, e.msg);
	tp_info("tape backup%s%s: datastore %s, pool %s, drive %s%s%s", j->id[0] ? " job " : "", j->id, j->store, j->pool,
		j->drive, j->ns[0] ? ", namespace " : "", j->ns);
	tp_tape_backup_opts o = { 0 };
	o.store = j->store;
	o.pool = j->pool;
	o.drive = j->drive;
	o.ns = j->ns;
	o.max_depth = j->max_depth;
	o.latest_only = j->latest_only;
	o.force_media_set = b->force_media_set;
	o.eject_media = b->eject_media;
	o.export_media_set = b->export_media_set;
	o.groups = (const char *const *)b->groups;
	o.ngroups = b->ngroups;
	o.owner = upid;
	tp_tape_backup_result res;
	memset(&res, 0, sizeof(res));
	int r = tp_tape_backup_run(&o, &res, err);
	char summary[512];
	snprintf(summary, sizeof(summary),
		 "%llu snapshots written, %llu skipped, %llu failed; %llu chunks (%llu bytes); %llu tapes; media set %s",
		 (unsigned long long)res.snapshots_written, (unsigned long long)res.snapshots_skipped,
		 (unsigned long long)res.snapshots_failed, (unsigned long long)res.chunks_written,
		 (unsigned long long)res.chunk_bytes_written, (unsigned long long)res.tapes_used,
		 res.media_set[0] ? res.media_set : "-");
	tp_info("tape backup: %s", summary);
	tp_tape_backup_result_free(&res);
	char status[512];
	status_text(r, err->msg, status, sizeof(status));
	if (j->notify_user[0]) {
		char subject[200], body[2048];
		snprintf(subject, sizeof(subject), "Tape backup %s%s: %s", j->id[0] ? "job " : "", j->id[0] ? j->id : j->store,
			 r < 0 ? "failed" : "finished");
		snprintf(body, sizeof(body), "Tape backup of datastore %s to pool %s on drive %s\nTask: %s\nResult: %s\n%s\n",
			 j->store, j->pool, j->drive, upid, status, summary);
		tp_notify_user(j->notify_user, subject, body);
	}
	if (j->id[0] && tp_backup_job_state_finished(j->id, upid, tp_now(), status, &e) < 0)
		tp_warn("job %s: cannot record the result: %s", j->id, e.msg);
	return r;
}

int tp_api_backup_job_start(const tp_backup_job *j, const char *authid, char *upid_out, tp_err *err)
{
	backup_run *b = calloc(1, sizeof(*b));
	if (!b)
		return tp_err_set(err, -ENOMEM, "out of memory");
	b->job = *j;
	return tp_api_worker_start("tape-backup-job", j->id, authid, backup_worker, b, backup_run_free, upid_out, err);
}

int tp_api_scheduler_tick(int64_t now)
{
	tp_backup_job *v;
	size_t n;
	tp_err e = { 0 };
	if (tp_backup_job_list(&v, &n, &e) < 0) {
		tp_warn("scheduler: %s", e.msg);
		return 0;
	}
	int started = 0;
	for (size_t i = 0; i < n; i++) {
		tp_backup_job_state st;
		int r = tp_backup_job_state_load(v[i].id, &st, &e);
		if (r < 0) {
			tp_warn("scheduler: job %s: %s", v[i].id, e.msg);
			continue;
		}
		if (r == 1 && tp_backup_job_state_init(v[i].id, st.created, &e) < 0)
			tp_warn("scheduler: job %s: %s", v[i].id, e.msg);
		if (st.running && !tp_api_worker_is_running(st.upid)) {
			/* started by a process that is gone (or a CLI run): take the result from the task */
			tp_task_info ti;
			if (tp_task_status(st.upid, &ti, NULL) == 0 && ti.running)
				continue;
			const char *status = tp_task_status(st.upid, &ti, NULL) == 0 ? ti.status : "unknown";
			tp_backup_job_state_finished(v[i].id, st.upid, tp_now(), status, NULL);
			tp_backup_job_state_load(v[i].id, &st, NULL);
		}
		if (!tp_backup_job_due(&v[i], &st, now))
			continue;
		char upid[TP_UPID_MAX];
		if (tp_api_backup_job_start(&v[i], TP_ROOT_USERID, upid, &e) < 0) {
			tp_warn("scheduler: job %s: %s", v[i].id, e.msg);
			continue;
		}
		/* recorded here too, so the next pass does not start it again before the worker does */
		tp_backup_job_state_started(v[i].id, upid, now, NULL);
		tp_info("scheduler: started tape backup job %s: %s", v[i].id, upid);
		started++;
	}
	free(v);
	return started;
}

/* ---- permissions ---- */

static int backup_privs(const tp_api_call *c, const char *store, const char *pool, const char *drive, tp_err *err)
{
	char p[TP_ACL_PATH_MAX + 1];
	int r;
	snprintf(p, sizeof(p), "/datastore/%s", store);
	if ((r = tp_api_check_priv(c, p, TP_PRIV_DATASTORE_READ, 0, err)) < 0)
		return r;
	snprintf(p, sizeof(p), "/tape/device/%s", drive);
	if ((r = tp_api_check_priv(c, p, TP_PRIV_TAPE_WRITE, 0, err)) < 0)
		return r;
	snprintf(p, sizeof(p), "/tape/pool/%s", pool);
	return tp_api_check_priv(c, p, TP_PRIV_TAPE_WRITE, 0, err);
}

static int job_priv(const tp_api_call *c, const char *id, uint64_t priv)
{
	char p[TP_ACL_PATH_MAX + 1];
	snprintf(p, sizeof(p), "/tape/job/%s", id);
	return tp_api_has_priv(c, p, priv, 0);
}

/* ---- config/tape-backup-job ---- */

int h_job_config_list(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_backup_job *v;
	size_t n;
	int r = tp_backup_job_list(&v, &n, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		if (job_priv(c, v[i].id, TP_PRIV_TAPE_AUDIT))
			json_array_append_new(arr, tp_backup_job_to_json(&v[i], 1));
	free(v);
	*data = arr;
	return 0;
}

/* The job properties of the call (every parameter but id and delete). */
static int job_apply(tp_api_call *c, tp_backup_job *j, tp_err *err)
{
	json_t *props = json_deep_copy(c->args);
	json_object_del(props, "id");
	json_object_del(props, "delete");
	json_object_del(props, "digest");
	json_t *del = tp_api_arg(c, "delete");
	size_t i;
	json_t *v;
	int r = 0;
	json_array_foreach(del, i, v) {
		const char *k = json_string_value(v);
		if (!strcmp(k, "store") || !strcmp(k, "pool") || !strcmp(k, "drive") || json_object_get(props, k)) {
			r = tp_err_set(err, -EINVAL, "parameter 'delete': '%s' cannot be deleted here", k);
			break;
		}
		json_object_set_new(props, k, json_null());
	}
	if (r == 0 && (r = tp_backup_job_apply_json(j, props, err)) < 0) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		r = tp_err_set(err, -EINVAL, "parameter 'delete': %s", msg);
	}
	json_decref(props);
	if (r == 0 && (r = tp_backup_job_check(j, err)) < 0)
		r = -EINVAL;
	return r;
}

int h_job_config_create(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_backup_job j;
	tp_backup_job_init(&j, tp_api_arg_str(c, "id"));
	int r = job_apply(c, &j, err);
	if (r < 0)
		return r;
	return tp_backup_job_create(&j, err);
}

int h_job_config_get(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_backup_job j;
	int r = tp_backup_job_get(tp_api_arg_str(c, "id"), &j, err);
	if (r < 0)
		return r;
	*data = tp_backup_job_to_json(&j, 1);
	return 0;
}

int h_job_config_update(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_backup_job j;
	int r = tp_backup_job_get(tp_api_arg_str(c, "id"), &j, err);
	if (r < 0 || (r = job_apply(c, &j, err)) < 0)
		return r;
	return tp_backup_job_update(&j, err);
}

int h_job_config_delete(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	return tp_backup_job_remove(tp_api_arg_str(c, "id"), err);
}

/* ---- tape/backup ---- */

int h_tape_backup_jobs(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_backup_job *v;
	size_t n;
	int r = tp_backup_job_list(&v, &n, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!job_priv(c, v[i].id, TP_PRIV_TAPE_AUDIT))
			continue;
		json_t *o = tp_backup_job_to_json(&v[i], 1);
		tp_backup_job_state st;
		if (tp_backup_job_state_load(v[i].id, &st, NULL) >= 0) {
			int64_t next;
			if (tp_backup_job_next_run(&v[i], &st, &next, NULL) == 0)
				json_object_set_new(o, "next-run", json_integer(next));
			if (st.upid[0]) {
				json_object_set_new(o, "last-run-upid", json_string(st.upid));
				if (!st.running) {
					json_object_set_new(o, "last-run-state", json_string(st.status));
					json_object_set_new(o, "last-run-endtime", json_integer(st.last_end));
				}
			}
		}
		json_array_append_new(arr, o);
	}
	free(v);
	*data = arr;
	return 0;
}

int h_tape_backup_job_run(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_backup_job j;
	int r = tp_backup_job_get(tp_api_arg_str(c, "id"), &j, err);
	if (r < 0)
		return r;
	/* PBS: Tape.Write on the job, or the privileges of the backup itself */
	if (!job_priv(c, j.id, TP_PRIV_TAPE_WRITE) && (r = backup_privs(c, j.store, j.pool, j.drive, err)) < 0)
		return r;
	char upid[TP_UPID_MAX];
	if ((r = tp_api_backup_job_start(&j, c->authid, upid, err)) < 0)
		return r;
	*data = json_string(upid);
	return 0;
}

int h_tape_backup(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *store = tp_api_arg_str(c, "store"), *pool = tp_api_arg_str(c, "pool"),
		   *drive = tp_api_arg_str(c, "drive");
	int r = backup_privs(c, store, pool, drive, err);
	if (r < 0)
		return r;
	backup_run *b = calloc(1, sizeof(*b));
	if (!b)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_backup_job_init(&b->job, "");
	snprintf(b->job.store, sizeof(b->job.store), "%s", store);
	snprintf(b->job.pool, sizeof(b->job.pool), "%s", pool);
	snprintf(b->job.drive, sizeof(b->job.drive), "%s", drive);
	const char *ns = tp_api_arg_str(c, "ns"), *nu = tp_api_arg_str(c, "notify-user");
	snprintf(b->job.ns, sizeof(b->job.ns), "%s", ns ? ns : "");
	snprintf(b->job.notify_user, sizeof(b->job.notify_user), "%s", nu ? nu : "");
	b->job.max_depth = (int)tp_api_arg_int(c, "max-depth", -1);
	b->job.latest_only = tp_api_arg_bool(c, "latest-only", 0);
	b->force_media_set = tp_api_arg_bool(c, "force-media-set", 0);
	b->eject_media = tp_api_arg_bool(c, "eject-media", 0);
	b->export_media_set = tp_api_arg_bool(c, "export-media-set", 0);
	json_t *groups = tp_api_arg(c, "group-filter");
	if (groups && json_array_size(groups)) {
		b->groups = calloc(json_array_size(groups), sizeof(char *));
		size_t i;
		json_t *g;
		json_array_foreach(groups, i, g) {
			/* PBS's group filter "group:TYPE/ID"; a bare TYPE/ID is accepted too */
			const char *s = json_string_value(g);
			if (!strncmp(s, "group:", 6))
				s += 6;
			tp_snapshot_ref ref;
			if (tp_group_ref_parse(s, &ref, err) < 0) {
				backup_run_free(b);
				return tp_err_set(err, -EINVAL, "parameter 'group-filter': %s", err->msg);
			}
			if (b->groups)
				b->groups[b->ngroups++] = strdup(s);
		}
	}
	char wid[TP_WORKER_ID_MAX + 1], upid[TP_UPID_MAX];
	snprintf(wid, sizeof(wid), "%s:%s:%s", store, pool, drive);
	if ((r = tp_api_worker_start("tape-backup", wid, c->authid, backup_worker, b, backup_run_free, upid, err)) < 0)
		return r;
	*data = json_string(upid);
	return 0;
}

/* ---- tape/restore ---- */

typedef struct restore_run {
	tp_tape_restore_opts o;
	char *media_set, *store_map, *drive, *owner, *notify_user, *authid;
	char **snapshots, **namespaces, **extra; /* extra: the further drives (tapir extension), nextra of them */
	int nextra;
	const char *drives[8];
} restore_run;

static void restore_run_free(void *p)
{
	restore_run *x = p;
	for (int i = 0; i < x->o.nsnapshots; i++)
		free(x->snapshots[i]);
	for (int i = 0; i < x->o.nnamespaces; i++)
		free(x->namespaces[i]);
	for (int i = 0; i < x->nextra; i++)
		free(x->extra[i]);
	free(x->snapshots);
	free(x->namespaces);
	free(x->extra);
	free(x->media_set);
	free(x->store_map);
	free(x->drive);
	free(x->owner);
	free(x->notify_user);
	free(x->authid);
	free(x);
}

static int restore_worker(void *arg, tp_err *err)
{
	restore_run *x = arg;
	tp_task *t = tp_task_current();
	x->o.lock_owner = t ? tp_task_upid(t) : NULL;
	tp_info("tape restore: media set %s, datastore %s, drive %s%s, %d snapshot(s)", x->media_set, x->store_map,
		x->drive, x->nextra ? " and further drives" : "", x->o.nsnapshots);
	double t0 = tp_monotonic();
	tp_tape_restore_result res;
	memset(&res, 0, sizeof(res));
	int r = tp_tape_restore_run(&x->o, &res, err);
	json_t *sum = tp_tape_restore_result_json(&res, x->o.lock_owner, tp_monotonic() - t0);
	json_object_del(sum, "plan");
	char *s = sum ? tp_json_compact(sum) : NULL;
	if (s)
		tp_info("restore result: %s", s);
	char status[512];
	status_text(r, err->msg, status, sizeof(status));
	tp_tape_restore_notify_result(&x->o, &res, r, status, tp_monotonic() - t0);
	free(s);
	json_decref(sum);
	tp_tape_restore_result_free(&res);
	return r;
}

static char **dup_list(json_t *arr, int *n)
{
	*n = 0;
	if (!arr || !json_array_size(arr))
		return NULL;
	char **v = calloc(json_array_size(arr), sizeof(char *));
	size_t i;
	json_t *s;
	json_array_foreach(arr, i, s)
		if (v && (v[*n] = strdup(json_string_value(s))))
			(*n)++;
	return v;
}

/* Target datastores of a store map "target" or "src=dst,...[,default]". */
static int check_restore_targets(const tp_api_call *c, const char *map, const char *owner, tp_err *err)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", map);
	char *save = NULL;
	int r = 0;
	for (char *it = strtok_r(buf, ",", &save); it && r == 0; it = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(it, '=');
		const char *dst = eq ? eq + 1 : it;
		if ((eq && (*eq = 0, tp_api_check_store(it, err) < 0)) || tp_api_check_store(dst, err) < 0)
			return tp_err_set(err, -EINVAL, "parameter 'store': %s", err->msg);
		char p[TP_ACL_PATH_MAX + 1];
		snprintf(p, sizeof(p), "/datastore/%s", dst);
		if ((r = tp_api_check_priv(c, p, TP_PRIV_DATASTORE_BACKUP, 0, err)) < 0)
			return r;
		if (owner && strcmp(owner, c->authid) && (r = tp_api_check_priv(c, p, TP_PRIV_DATASTORE_MODIFY, 0, err)) < 0)
			return tp_err_set(err, r, "restoring with owner %s needs Datastore.Modify: %s", owner, err->msg);
	}
	return r;
}

int h_tape_restore(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *set = tp_api_arg_str(c, "media-set"), *map = tp_api_arg_str(c, "store"),
		   *drive = tp_api_arg_str(c, "drive"), *owner = tp_api_arg_str(c, "owner");
	char p[TP_ACL_PATH_MAX + 1];
	int r;
	/* every check before the task starts, so a refused restore touches nothing */
	snprintf(p, sizeof(p), "/tape/device/%s", drive);
	if ((r = tp_api_check_priv(c, p, TP_PRIV_TAPE_READ, 0, err)) < 0)
		return r;
	/* tapir extension: more drives to spread the tapes over, each with Tape.Read */
	json_t *extra = tp_api_arg(c, "extra-drives");
	if (json_array_size(extra) > 7)
		return tp_err_set(err, -EINVAL, "parameter 'extra-drives': at most 7 (8 drives in all)");
	const char *all[8] = { drive };
	for (size_t i = 0; i < json_array_size(extra); i++)
		all[1 + i] = json_string_value(json_array_get(extra, i));
	if ((r = tp_tape_restore_check_drives(all, 1 + (int)json_array_size(extra), err)) < 0)
		return r;
	for (size_t i = 0; i < json_array_size(extra); i++) {
		snprintf(p, sizeof(p), "/tape/device/%s", all[1 + i]);
		if ((r = tp_api_check_priv(c, p, TP_PRIV_TAPE_READ, 0, err)) < 0)
			return r;
	}
	tp_inventory inv;
	if ((r = tp_inventory_open(&inv, NULL, NULL, err)) < 0)
		return r;
	uint8_t u[16];
	tp_media_set ms;
	tp_uuid_parse(set, u);
	r = tp_inventory_media_set(&inv, u, &ms, err);
	tp_inventory_close(&inv);
	if (r < 0)
		return tp_err_set(err, -TP_ENOTFOUND, "media set %s is not in the inventory", set);
	snprintf(p, sizeof(p), "/tape/pool/%s", ms.pool);
	tp_media_set_free(&ms);
	if ((r = tp_api_check_priv(c, p, TP_PRIV_TAPE_READ, 0, err)) < 0)
		return r;
	if ((r = check_restore_targets(c, map, owner, err)) < 0)
		return r;
	restore_run *x = calloc(1, sizeof(*x));
	if (!x)
		return tp_err_set(err, -ENOMEM, "out of memory");
	x->media_set = strdup(set);
	x->store_map = strdup(map);
	x->drive = strdup(drive);
	x->authid = strdup(c->authid);
	x->owner = owner ? strdup(owner) : NULL;
	x->notify_user = tp_api_arg_str(c, "notify-user") ? strdup(tp_api_arg_str(c, "notify-user")) : NULL;
	x->snapshots = dup_list(tp_api_arg(c, "snapshots"), &x->o.nsnapshots);
	x->namespaces = dup_list(tp_api_arg(c, "namespaces"), &x->o.nnamespaces);
	x->extra = dup_list(extra, &x->nextra);
	x->drives[0] = x->drive;
	for (int i = 0; i < x->nextra; i++)
		x->drives[1 + i] = x->extra[i];
	x->o.media_set = x->media_set;
	x->o.store_map = x->store_map;
	x->o.snapshots = (const char *const *)x->snapshots;
	x->o.namespaces = (const char *const *)x->namespaces;
	x->o.drives = x->drives;
	x->o.ndrives = 1 + x->nextra;
	x->o.authid = x->authid;
	x->o.owner = x->owner;
	x->o.notify_user = x->notify_user;
	x->o.notify = tp_notify_user;
	x->o.check_priv = tp_acl_check_named;
	if (!x->media_set || !x->store_map || !x->drive || !x->authid || (size_t)x->nextra != json_array_size(extra)) {
		restore_run_free(x);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	if (tp_api_arg_bool(c, "dry-run", 0)) {
		/* tapir extension: the plan now, from the catalog (no task, no tape moves): for a GUI's preview */
		char owner[TP_AUTHID_MAX + 64];
		snprintf(owner, sizeof(owner), "api restore dry-run by %s", c->authid);
		x->o.lock_owner = owner;
		x->o.dry_run = 1;
		tp_tape_restore_result res;
		memset(&res, 0, sizeof(res));
		if ((r = tp_tape_restore_run(&x->o, &res, err)) == 0 || r == -TP_EDIGEST) {
			*data = tp_tape_restore_result_json(&res, NULL, 0);
			r = 0;
		}
		tp_tape_restore_result_free(&res);
		restore_run_free(x);
		return r;
	}
	char wid[TP_WORKER_ID_MAX + 1], upid[TP_UPID_MAX];
	snprintf(wid, sizeof(wid), "%s:%s", set, map);
	if ((r = tp_api_worker_start("tape-restore", wid, c->authid, restore_worker, x, restore_run_free, upid, err)) < 0)
		return r;
	*data = json_string(upid);
	return 0;
}
