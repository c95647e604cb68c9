/* Tape backup jobs (see backup_job.h). */
#include "tape/backup_job.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/lock.h"
#include "base/paths.h"
#include "base/timefmt.h"
#include "tape/drive_config.h"
#include "tape/pool_config.h"

#define JOB_FILE "tape-job.json"
#define JOB_LOCK ".tape-job.lck"
#define JOB_FILE_MAX (4u << 20)
#define JOB_LOCK_TIMEOUT_MS 10000

int tp_backup_job_id_valid(const char *id, tp_err *err)
{
	size_t n = strlen(id);
	if (n < 3 || n > TP_JOB_ID_MAX)
		return tp_err_set(err, -EINVAL, "job id '%.64s' must have 3 to %d characters", id, TP_JOB_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];
		int ok = isascii(c) && (isalnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-')));
		if (!ok)
			return tp_err_set(err, -EINVAL, "job id '%s': character %zu is not allowed", id, i + 1);
	}
	return 0;
}

void tp_backup_job_init(tp_backup_job *j, const char *id)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->id, sizeof(j->id), "%s", id ? id : "");
	j->max_depth = -1;
}

/* A user id as far as the tape layer can tell (the access layer checks it fully). */
static int userid_shape(const char *u)
{
	const char *at = strchr(u, '@');
	if (!at || at == u || !at[1] || strchr(at + 1, '@'))
		return 0;
	for (const char *p = u; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == ':' || *p == '/' || *p == '!' || *p == 0x7f)
			return 0;
	return 1;
}

int tp_backup_job_check(const tp_backup_job *j, tp_err *err)
{
	int r;
	if ((r = tp_backup_job_id_valid(j->id, err)) < 0)
		return r;
	if (!j->store[0] || (r = tp_valid_store_name(j->store, err)) < 0)
		return tp_err_set(err, -EINVAL, "job %s: store: %s", j->id, j->store[0] ? err->msg : "missing");
	if (!j->pool[0] || (r = tp_pool_valid_name(j->pool, err)) < 0)
		return tp_err_set(err, -EINVAL, "job %s: pool: %s", j->id, j->pool[0] ? err->msg : "missing");
	if (!j->drive[0] || (r = tp_tape_name_valid(j->drive, "drive", err)) < 0)
		return tp_err_set(err, -EINVAL, "job %s: drive: %s", j->id, j->drive[0] ? err->msg : "missing");
	if (j->ns[0] && (r = tp_valid_ns(j->ns, err)) < 0)
		return tp_err_set(err, -EINVAL, "job %s: ns: %s", j->id, err->msg);
	if (j->max_depth < -1 || j->max_depth > TP_NS_MAX_DEPTH)
		return tp_err_set(err, -EINVAL, "job %s: max-depth %d is not in 0..%d", j->id, j->max_depth,
				  TP_NS_MAX_DEPTH);
	if (j->schedule[0]) {
		tp_calendar_event ev;
		if (tp_calendar_parse(j->schedule, &ev, err) < 0)
			return tp_err_set(err, -EINVAL, "job %s: schedule: %s", j->id, err->msg);
	}
	if (j->notify_user[0] && !userid_shape(j->notify_user))
		return tp_err_set(err, -EINVAL, "job %s: notify-user '%s' is not a user id (NAME@REALM)", j->id,
				  j->notify_user);
	for (const char *p = j->comment; *p; p++)
		if ((unsigned char)*p < ' ')
			return tp_err_set(err, -EINVAL, "job %s: comment contains a control character", j->id);
	return 0;
}

json_t *tp_backup_job_to_json(const tp_backup_job *j, int with_id)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (with_id)
		json_object_set_new(o, "id", json_string(j->id));
	json_object_set_new(o, "store", json_string(j->store));
	json_object_set_new(o, "pool", json_string(j->pool));
	json_object_set_new(o, "drive", json_string(j->drive));
	if (j->ns[0])
		json_object_set_new(o, "ns", json_string(j->ns));
	if (j->max_depth >= 0)
		json_object_set_new(o, "max-depth", json_integer(j->max_depth));
	if (j->latest_only)
		json_object_set_new(o, "latest-only", json_true());
	if (j->schedule[0])
		json_object_set_new(o, "schedule", json_string(j->schedule));
	if (j->notify_user[0])
		json_object_set_new(o, "notify-user", json_string(j->notify_user));
	if (j->comment[0])
		json_object_set_new(o, "comment", json_string(j->comment));
	return o;
}

static int set_str(char *dst, size_t cap, const char *key, const json_t *v, tp_err *err)
{
	if (json_is_null(v)) {
		dst[0] = 0;
		return 0;
	}
	if (!json_is_string(v))
		return tp_err_set(err, -EINVAL, "%s: expected a string", key);
	if (json_string_length(v) >= cap)
		return tp_err_set(err, -EINVAL, "%s: longer than %zu characters", key, cap - 1);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return tp_err_set(err, -EINVAL, "%s: contains a NUL character", key);
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int tp_backup_job_apply_json(tp_backup_job *j, const json_t *o, tp_err *err)
{
	if (!json_is_object(o))
		return tp_err_set(err, -EINVAL, "job %s: expected a JSON object", j->id);
	const char *key;
	json_t *v;
	int r = 0;
	json_object_foreach((json_t *)o, key, v) {
		if (!strcmp(key, "id"))
			continue;
		else if (!strcmp(key, "store"))
			r = set_str(j->store, sizeof(j->store), key, v, err);
		else if (!strcmp(key, "pool"))
			r = set_str(j->pool, sizeof(j->pool), key, v, err);
		else if (!strcmp(key, "drive"))
			r = set_str(j->drive, sizeof(j->drive), key, v, err);
		else if (!strcmp(key, "ns"))
			r = set_str(j->ns, sizeof(j->ns), key, v, err);
		else if (!strcmp(key, "schedule"))
			r = set_str(j->schedule, sizeof(j->schedule), key, v, err);
		else if (!strcmp(key, "notify-user"))
			r = set_str(j->notify_user, sizeof(j->notify_user), key, v, err);
		else if (!strcmp(key, "comment"))
			r = set_str(j->comment, sizeof(j->comment), key, v, err);
		else if (!strcmp(key, "max-depth")) {
			if (json_is_null(v))
				j->max_depth = -1;
			else if (!json_is_integer(v) || json_integer_value(v) < 0 ||
				 json_integer_value(v) > TP_NS_MAX_DEPTH)
				r = tp_err_set(err, -EINVAL, "max-depth: expected an integer 0..%d", TP_NS_MAX_DEPTH);
			else
				j->max_depth = (int)json_integer_value(v);
		} else if (!strcmp(key, "latest-only")) {
			if (json_is_null(v))
				j->latest_only = 0;
			else if (json_is_boolean(v))
				j->latest_only = json_is_true(v);
			else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
				j->latest_only = (int)json_integer_value(v);
			else
				r = tp_err_set(err, -EINVAL, "latest-only: expected a boolean");
		} else {
			r = tp_err_set(err, -EINVAL, "%s: unknown job property", key);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- configuration file ---- */

static int cmp_job(const void *a, const void *b)
{
	return strcmp(((const tp_backup_job *)a)->id, ((const tp_backup_job *)b)->id);
}

/* Loads {id: job} from the file; validates every entry. */
static int jobs_load(tp_backup_job **out, size_t *n, tp_err *err)
{
	*out = NULL;
	*n = 0;
	char *path = tp_config_path(JOB_FILE);
	if (!path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = 0;
	json_t *root = NULL;
	tp_backup_job *v = NULL;
	if (!tp_path_exists(path))
		goto out;
	if (!(root = tp_json_load_file(path, JOB_FILE_MAX, err))) {
		r = err && err->code ? err->code : -EIO;
		goto out;
	}
	if (!json_is_object(root)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: expected an object of jobs", path);
		goto out;
	}
	size_t cnt = json_object_size(root), i = 0;
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	const char *key;
	json_t *jv;
	json_object_foreach(root, key, jv) {
		tp_backup_job_init(&v[i], "");
		if (tp_backup_job_id_valid(key, err) == 0)
			tp_backup_job_init(&v[i], key);
		if (!v[i].id[0] || tp_backup_job_apply_json(&v[i], jv, err) < 0 || tp_backup_job_check(&v[i], err) < 0) {
			r = tp_err_wrap(err, -TP_EFORMAT, "%s: job '%.64s'", path, key);
			goto out;
		}
		i++;
	}
	qsort(v, i, sizeof(*v), cmp_job);
	*out = v;
	*n = i;
	v = NULL;
out:
	free(v);
	json_decref(root);
	free(path);
	return r;
}

static int jobs_save(const tp_backup_job *v, size_t n, tp_err *err)
{
	char *path = tp_config_path(JOB_FILE);
	json_t *root = json_object();
	int r = 0;
	if (!path || !root) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		json_object_set_new(root, v[i].id, tp_backup_job_to_json(&v[i], 0));
	r = tp_json_save_file(path, root, 0640, err);
out:
	json_decref(root);
	free(path);
	return r;
}

static int jobs_lock(tp_lock *l, tp_err *err)
{
	char *p = tp_config_path(JOB_LOCK);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, JOB_LOCK_TIMEOUT_MS, NULL, "tape backup job configuration", err);
	free(p);
	return r;
}

int tp_backup_job_list(tp_backup_job **out, size_t *n, tp_err *err) { return jobs_load(out, n, err); }

int tp_backup_job_get(const char *id, tp_backup_job *out, tp_err *err)
{
	tp_backup_job *v;
	size_t n;
	int r = jobs_load(&v, &n, err);
	if (r < 0)
		return r;
	r = -TP_ENOTFOUND;
	for (size_t i = 0; i < n && r < 0; i++)
		if (!strcmp(v[i].id, id)) {
			*out = v[i];
			r = 0;
		}
	free(v);
	if (r < 0)
		tp_err_set(err, r, "tape backup job '%.64s' does not exist", id);
	return r;
}

/* Locked read-modify-write: op 0 create, 1 update, 2 remove. */
static int jobs_modify(int op, const tp_backup_job *j, const char *id, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_backup_job *v = NULL;
	size_t n = 0;
	int r;
	if (op != 2 && (r = tp_backup_job_check(j, err)) < 0)
		return r;
	if ((r = jobs_lock(&l, err)) < 0)
		return r;
	if ((r = jobs_load(&v, &n, err)) < 0)
		goto out;
	size_t at = n;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			at = i;
	if (op == 0) {
		if (at < n) {
			r = tp_err_set(err, -TP_EEXISTS, "tape backup job '%s' already exists", id);
			goto out;
		}
		tp_backup_job *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		v = nv;
		v[n++] = *j;
	} else {
		if (at == n) {
			r = tp_err_set(err, -TP_ENOTFOUND, "tape backup job '%.64s' does not exist", id);
			goto out;
		}
		if (op == 1)
			v[at] = *j;
		else
			memmove(&v[at], &v[at + 1], (n - at - 1) * sizeof(*v)), n--;
	}
	qsort(v, n, sizeof(*v), cmp_job);
	r = jobs_save(v, n, err);
out:
	free(v);
	tp_lock_release(&l);
	return r;
}

static char *state_file(const char *id)
{
	char *dir = tp_state_path("jobstates");
	if (!dir)
		return NULL;
	tp_mkdir_p(dir, 0700, NULL);
	char *p = tp_strdup_printf("%s/tape-backup-job-%s.json", dir, id);
	free(dir);
	return p;
}

int tp_backup_job_create(const tp_backup_job *j, tp_err *err)
{
	int r = jobs_modify(0, j, j->id, err);
	if (r == 0)
		r = tp_backup_job_state_init(j->id, tp_now(), err);
	return r;
}

int tp_backup_job_update(const tp_backup_job *j, tp_err *err) { return jobs_modify(1, j, j->id, err); }

int tp_backup_job_remove(const char *id, tp_err *err)
{
	int r;
	if ((r = tp_backup_job_id_valid(id, err)) < 0)
		return r;
	if ((r = jobs_modify(2, NULL, id, err)) < 0)
		return r;
	char *p = state_file(id);
	if (p)
		unlink(p);
	free(p);
	return 0;
}

/* ---- run state ---- */

static int state_write(const char *id, const tp_backup_job_state *st, tp_err *err)
{
	char *p = state_file(id);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	json_t *o = json_object();
	json_object_set_new(o, "state", json_string(st->running ? "started" : st->upid[0] ? "finished" : "created"));
	json_object_set_new(o, "time", json_integer(st->created));
	if (st->upid[0]) {
		json_object_set_new(o, "upid", json_string(st->upid));
		json_object_set_new(o, "starttime", json_integer(st->last_start));
		if (!st->running) {
			json_object_set_new(o, "endtime", json_integer(st->last_end));
			json_object_set_new(o, "status", json_string(st->status));
		}
	}
	int r = tp_json_save_file(p, o, 0644, err);
	json_decref(o);
	free(p);
	return r;
}

int tp_backup_job_state_load(const char *id, tp_backup_job_state *st, tp_err *err)
{
	memset(st, 0, sizeof(*st));
	st->created = tp_now();
	int r;
	if ((r = tp_backup_job_id_valid(id, err)) < 0)
		return r;
	char *p = state_file(id);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if (!tp_path_exists(p)) {
		free(p);
		return 1;
	}
	json_t *o = tp_json_load_file(p, 1 << 16, err);
	if (!o) {
		free(p);
		return err && err->code ? err->code : -EIO;
	}
	const char *state = tp_json_opt_str(o, "state");
	const char *upid = tp_json_opt_str(o, "upid");
	const char *status = tp_json_opt_str(o, "status");
	if (!json_is_object(o) || !state ||
	    (strcmp(state, "created") && strcmp(state, "started") && strcmp(state, "finished")) ||
	    (upid && strlen(upid) >= sizeof(st->upid))) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: not a job state", p);
		goto out;
	}
	st->created = tp_json_opt_int(o, "time", st->created);
	st->running = !strcmp(state, "started");
	snprintf(st->upid, sizeof(st->upid), "%s", upid ? upid : "");
	snprintf(st->status, sizeof(st->status), "%s", status ? status : "");
	st->last_start = tp_json_opt_int(o, "starttime", 0);
	st->last_end = tp_json_opt_int(o, "endtime", 0);
	r = 0;
out:
	json_decref(o);
	free(p);
	return r;
}

int tp_backup_job_state_init(const char *id, int64_t created, tp_err *err)
{
	tp_backup_job_state st;
	memset(&st, 0, sizeof(st));
	st.created = created;
	return state_write(id, &st, err);
}

int tp_backup_job_state_started(const char *id, const char *upid, int64_t start, tp_err *err)
{
	tp_backup_job_state st;
	int r = tp_backup_job_state_load(id, &st, err);
	if (r < 0)
		return r;
	st.running = 1;
	snprintf(st.upid, sizeof(st.upid), "%s", upid);
	st.last_start = start;
	st.last_end = 0;
	st.status[0] = 0;
	return state_write(id, &st, err);
}

int tp_backup_job_state_finished(const char *id, const char *upid, int64_t end, const char *status, tp_err *err)
{
	tp_backup_job_state st;
	int r = tp_backup_job_state_load(id, &st, err);
	if (r < 0)
		return r;
	if (strcmp(st.upid, upid)) {
		/* the start was not recorded (e.g. state file lost); the end still counts as the last run */
		snprintf(st.upid, sizeof(st.upid), "%s", upid);
		st.last_start = end;
	}
	st.running = 0;
	st.last_end = end;
	snprintf(st.status, sizeof(st.status), "%s", status ? status : "");
	return state_write(id, &st, err);
}

int tp_backup_job_next_run(const tp_backup_job *j, const tp_backup_job_state *st, int64_t *next, tp_err *err)
{
	if (!j->schedule[0])
		return tp_err_set(err, -TP_ENOTFOUND, "job %s has no schedule", j->id);
	tp_calendar_event ev;
	int r = tp_calendar_parse(j->schedule, &ev, err);
	if (r < 0)
		return r;
	int64_t base = st->last_start ? st->last_start : st->created;
	return tp_calendar_next(&ev, base, 0, next, err);
}

int tp_backup_job_due(const tp_backup_job *j, const tp_backup_job_state *st, int64_t now)
{
	int64_t next;
	if (st->running || tp_backup_job_next_run(j, st, &next, NULL) < 0)
		return 0;
	return next <= now;
}
