/* API handlers of tape/drive/{drive}/…: load, unload, eject, label, read-label, inventory, catalog, status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "api/worker.h"
#include "base/json_util.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "tape/catalog_db.h"
#include "tape/catalog_scan.h"
#include "tape/drive_diag.h"
#include "tape/inventory.h"
#include "tape/pool_config.h"
#include "tape/tape_inventory.h"
#include "tape/tape_session.h"
#include "task/task.h"

/*
 * What a drive worker needs: the session is opened (and the drive locked)
 * by the handler, as PBS's run_drive_worker does, so a busy drive answers
 * 409 at once instead of failing inside a task.
 */
typedef struct drive_job {
	tp_tape_session s;
	char label[TP_LABEL_TEXT_MAX + 1];
	char pool[TP_POOL_NAME_MAX + 1];
	unsigned slot;
	int read_all_labels, catalog, force, scan, verbose, barcode_label;
} drive_job;

static void drive_job_free(void *p)
{
	drive_job *j = p;
	tp_tape_session_close(&j->s);
	free(j);
}

/* Opens the session of {drive} without waiting: -TP_ELOCKED naming the holder when it is in use. */
static int session_open(tp_api_call *c, const char *what, tp_tape_session *s, tp_err *err)
{
	char owner[TP_AUTHID_MAX + 96];
	snprintf(owner, sizeof(owner), "api %s by %s", what, c->authid);
	memset(s, 0, sizeof(*s));
	return tp_tape_session_open(s, tp_api_arg_str(c, "drive"), owner, 0, err);
}

static drive_job *job_new(tp_api_call *c, const char *what, tp_err *err)
{
	drive_job *j = calloc(1, sizeof(*j));
	if (!j) {
		tp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (session_open(c, what, &j->s, err) < 0) {
		free(j);
		return NULL;
	}
	return j;
}

/* Starts j as worker `type` (id = drive, or drive:label as PBS's load-media); *data = the UPID. */
static int job_start(tp_api_call *c, const char *type, drive_job *j, tp_api_worker_fn fn, json_t **data, tp_err *err)
{
	char id[TP_WORKER_ID_MAX + 1], upid[TP_UPID_MAX];
	if (!strcmp(type, "load-media"))
		snprintf(id, sizeof(id), "%s:%s", j->s.name, j->label);
	else
		snprintf(id, sizeof(id), "%s", j->s.name);
	int r = tp_api_worker_start(type, id, c->authid, fn, j, drive_job_free, upid, err);
	if (r < 0)
		return r;
	*data = json_string(upid);
	return 0;
}

static const char *task_owner(void)
{
	tp_task *t = tp_task_current();
	return t ? tp_task_upid(t) : "api drive worker";
}

/* ---- load-media, unload, eject-media ---- */

static int load_worker(void *arg, tp_err *err)
{
	drive_job *j = arg;
	tp_info("loading %s into drive %s", j->label, j->s.name);
	int r = tp_tape_load_cartridge(&j->s, j->label, err);
	if (r < 0)
		return r;
	tp_media_label ml;
	int has_set = 0;
	tp_err lerr = { 0 };
	if (tp_tape_read_labels(&j->s, &ml, NULL, &has_set, &lerr) == 0)
		tp_info("loaded %s into drive %s, label %s", j->label, j->s.name, ml.label_text);
	else
		tp_info("loaded %s into drive %s (blank or unreadable%s%s)", j->label, j->s.name, lerr.msg[0] ? ": " : "",
			lerr.msg);
	return 0;
}

int h_drive_load_media(tp_api_call *c, json_t **data, tp_err *err)
{
	drive_job *j = job_new(c, "load-media", err);
	if (!j)
		return err->code;
	snprintf(j->label, sizeof(j->label), "%s", tp_api_arg_str(c, "label-text"));
	return job_start(c, "load-media", j, load_worker, data, err);
}

static int unload_worker(void *arg, tp_err *err)
{
	drive_job *j = arg;
	unsigned to = 0;
	int r = tp_tape_unload_to_slot(&j->s, j->slot, &to, err);
	if (r < 0)
		return r;
	if (!r)
		tp_info("drive %s is empty", j->s.name);
	else if (j->s.changer)
		tp_info("unloaded drive %s to slot %u of changer %s", j->s.name, to, j->s.changer_name);
	else
		tp_info("ejected the tape from drive %s", j->s.name);
	return 0;
}

int h_drive_unload(tp_api_call *c, json_t **data, tp_err *err)
{
	drive_job *j = job_new(c, "unload", err);
	if (!j)
		return err->code;
	j->slot = (unsigned)tp_api_arg_int(c, "target-slot", 0);
	if (j->slot && !j->s.changer) {
		int r = tp_err_set(err, -EINVAL, "parameter 'target-slot': drive %s has no changer", j->s.name);
		drive_job_free(j);
		return r;
	}
	return job_start(c, "unload-media", j, unload_worker, data, err);
}

int h_drive_eject_media(tp_api_call *c, json_t **data, tp_err *err)
{
	drive_job *j = job_new(c, "eject-media", err);
	if (!j)
		return err->code;
	return job_start(c, "eject-media", j, unload_worker, data, err);
}

/* ---- label-media ---- */

/* Opens the inventory (owner = the task) and the catalog; both closed by the caller on any result. */
static int open_inv_db(tp_inventory *inv, int *have_inv, tp_catalog_db **db, tp_err *err)
{
	int r = tp_inventory_open(inv, NULL, task_owner(), err);
	if (r < 0)
		return r;
	*have_inv = 1;
	return tp_catalog_open(db, NULL, err);
}

static void close_inv_db(tp_inventory *inv, int have_inv, tp_catalog_db *db)
{
	tp_catalog_close(db);
	if (have_inv)
		tp_inventory_close(inv);
}

static int label_worker(void *arg, tp_err *err)
{
	drive_job *j = arg;
	tp_inventory inv;
	int have_inv = 0;
	tp_catalog_db *db = NULL;
	tp_media_label ml;
	int r = open_inv_db(&inv, &have_inv, &db, err);
	if (r == 0)
		r = tp_tape_label_media(&j->s, &inv, db, j->label, j->pool[0] ? j->pool : NULL, &ml, err);
	if (r == 0) {
		char u[37];
		tp_uuid_unparse(ml.uuid, u);
		tp_info("labelled tape %s (uuid %s)%s%s", ml.label_text, u, ml.pool[0] ? " in pool " : "", ml.pool);
	}
	close_inv_db(&inv, have_inv, db);
	return r;
}

/* The optional pool parameter names a pool: refused before the drive is touched, as PBS checks the pool first. */
static int check_pool_arg(tp_api_call *c, tp_err *err)
{
	const char *pool = tp_api_arg_str(c, "pool");
	tp_pool_config cfg;
	tp_err tmp = { 0 };
	if (pool && tp_pool_config_get(pool, &cfg, &tmp) < 0)
		return tp_err_set(err, tmp.code == -TP_ENOTFOUND ? -EINVAL : tmp.code, "parameter 'pool': %s", tmp.msg);
	return 0;
}

int h_drive_label_media(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *pool = tp_api_arg_str(c, "pool");
	int r = check_pool_arg(c, err);
	if (r < 0)
		return r;
	drive_job *j = job_new(c, "label-media", err);
	if (!j)
		return err->code;
	snprintf(j->label, sizeof(j->label), "%s", tp_api_arg_str(c, "label-text"));
	snprintf(j->pool, sizeof(j->pool), "%s", pool ? pool : "");
	return job_start(c, "label-media", j, label_worker, data, err);
}

/* ---- read-label ---- */

/* PBS's MediaIdFlat: the media label's fields plus the set label's, flat. */
static json_t *media_id_flat(const tp_media_label *ml, const tp_media_set_label *msl)
{
	char u[37];
	tp_uuid_unparse(ml->uuid, u);
	json_t *o = json_pack("{s:s,s:s,s:I}", "label-text", ml->label_text, "uuid", u, "ctime", (json_int_t)ml->ctime);
	if (ml->pool[0])
		json_object_set_new(o, "pool", json_string(ml->pool));
	if (msl && !tp_uuid_is_zero(msl->uuid)) {
		tp_uuid_unparse(msl->uuid, u);
		json_object_set_new(o, "media-set-uuid", json_string(u));
		json_object_set_new(o, "media-set-ctime", json_integer(msl->ctime));
		json_object_set_new(o, "seq-nr", json_integer((json_int_t)msl->seq_nr));
		if (!ml->pool[0])
			json_object_set_new(o, "pool", json_string(msl->pool));
		if (msl->has_fingerprint) {
			char fp[96];
			tp_fingerprint_unparse(msl->fingerprint, fp);
			json_object_set_new(o, "encryption-key-fingerprint", json_string(fp));
		}
	}
	return o;
}

int h_drive_read_label(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_session s;
	int r = session_open(c, "read-label", &s, err);
	if (r < 0)
		return r;
	int inventorize = tp_api_arg_bool(c, "inventorize", 0);
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set = 0;
	tp_inventory inv;
	int have_inv = 0;
	tp_catalog_db *db = NULL;
	if ((r = tp_drive_load(s.drive, NULL, err)) < 0)
		goto out;
	if ((r = tp_tape_read_labels(&s, &ml, &msl, &has_set, err)) == TP_LABEL_NONE) {
		r = tp_err_set(err, -TP_ENOTFOUND, "drive %s: the tape is blank (no media label)", s.name);
		goto out;
	}
	if (r < 0)
		goto out;
	if (inventorize) {
		tp_media_location loc;
		tp_tape_session_location(&s, &loc);
		if ((r = tp_inventory_open(&inv, NULL, "api read-label", err)) < 0)
			goto out;
		have_inv = 1;
		if ((r = tp_catalog_open(&db, NULL, err)) < 0 ||
		    (r = tp_tape_inventory_store_labels(&inv, db, &ml, has_set ? &msl : NULL, s.changer ? &loc : NULL,
							err)) < 0)
			goto out;
	}
	*data = media_id_flat(&ml, has_set ? &msl : NULL);
out:
	if (has_set)
		tp_media_set_label_clear(&msl);
	close_inv_db(&inv, have_inv, db);
	tp_tape_session_close(&s);
	return r;
}

/* ---- inventory ---- */

int h_drive_inventory(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_session s;
	int r = session_open(c, "inventory", &s, err);
	if (r < 0)
		return r;
	tp_changer_status st;
	memset(&st, 0, sizeof(st));
	tp_inventory inv;
	int have_inv = 0;
	json_t *arr = NULL;
	if (!s.changer) {
		r = tp_err_set(err, -EINVAL, "parameter 'drive': drive %s has no changer", s.name);
		goto out;
	}
	if ((r = tp_changer_get_status(s.changer, &st, err)) < 0 || (r = tp_inventory_open(&inv, NULL, NULL, err)) < 0)
		goto out;
	have_inv = 1;
	/* PBS's LabelUuidMap list: every cartridge the changer holds (drives, then slots), cleaning ones left out */
	arr = json_array();
	for (int pass = 0; pass < 2; pass++) {
		const tp_changer_element *v = pass ? st.slots : st.drives;
		size_t n = pass ? st.nslots : st.ndrives;
		for (size_t i = 0; i < n; i++) {
			if (!v[i].full || !v[i].label[0] || !strncmp(v[i].label, TP_CLEANING_PREFIX, strlen(TP_CLEANING_PREFIX)))
				continue;
			json_t *o = json_pack("{s:s}", "label-text", v[i].label);
			const tp_inventory_entry *e = tp_inventory_find_label(&inv, v[i].label);
			char u[37];
			if (e) {
				tp_uuid_unparse(e->label.uuid, u);
				json_object_set_new(o, "uuid", json_string(u));
			}
			json_array_append_new(arr, o);
		}
	}
	*data = arr;
	arr = NULL;
out:
	json_decref(arr);
	if (have_inv)
		tp_inventory_close(&inv);
	tp_changer_status_free(&st);
	tp_tape_session_close(&s);
	return r;
}

/* inventory-update and barcode-label-media: one tape layer run, its report into the task log */
static int inventory_worker(void *arg, tp_err *err)
{
	drive_job *j = arg;
	tp_inventory inv;
	int have_inv = 0;
	tp_catalog_db *db = NULL;
	json_t *report = NULL;
	tp_tape_inventory_opts o = { .read_all_labels = j->read_all_labels, .catalog = j->catalog,
				     .barcode_label = j->barcode_label, .pool = j->pool[0] ? j->pool : NULL };
	int r = open_inv_db(&inv, &have_inv, &db, err);
	if (r == 0)
		r = tp_tape_inventory_run(&j->s, &inv, db, &o, &report, err);
	size_t i;
	json_t *v;
	json_array_foreach(report, i, v) {
		const char *label = tp_json_opt_str(v, "label-text"), *act = tp_json_opt_str(v, "action");
		const char *msg = tp_json_opt_str(v, "message"), *set = tp_json_opt_str(v, "media-set");
		if (act && !strcmp(act, "error"))
			tp_warn("%s: %s", label ? label : "?", msg ? msg : "failed");
		else
			tp_info("%s: %s%s%s%s%s", label ? label : "?", act ? act : "?", set ? ", media set " : "",
				set ? set : "", msg ? " - " : "", msg ? msg : "");
	}
	char first[1200] = "";
	size_t nerr = r == 0 && j->barcode_label ? tp_tape_inventory_report_errors(report, first, sizeof(first)) : 0;
	if (nerr) /* as the CLI: labelling that left tapes unlabelled failed */
		r = tp_err_set(err, -EIO, "%zu tape(s) not labelled; %s", nerr, first);
	json_decref(report);
	close_inv_db(&inv, have_inv, db);
	return r;
}

int h_drive_inventory_update(tp_api_call *c, json_t **data, tp_err *err)
{
	drive_job *j = job_new(c, "inventory-update", err);
	if (!j)
		return err->code;
	j->read_all_labels = tp_api_arg_bool(c, "read-all-labels", 0);
	j->catalog = tp_api_arg_bool(c, "catalog", 0);
	return job_start(c, "inventory-update", j, inventory_worker, data, err);
}

/* PBS's barcode-label-media: every unlabelled online tape of the changer labelled with its barcode. */
int h_drive_barcode_label_media(tp_api_call *c, json_t **data, tp_err *err)
{
	int r = check_pool_arg(c, err);
	if (r < 0)
		return r;
	drive_job *j = job_new(c, "barcode-label-media", err);
	if (!j)
		return err->code;
	if (!j->s.changer) {
		drive_job_free(j);
		return tp_err_set(err, -EINVAL, "parameter 'drive': drive %s has no changer", tp_api_arg_str(c, "drive"));
	}
	j->barcode_label = 1;
	snprintf(j->pool, sizeof(j->pool), "%s", tp_api_arg_str(c, "pool") ? tp_api_arg_str(c, "pool") : "");
	return job_start(c, "barcode-label-media", j, inventory_worker, data, err);
}

/* ---- catalog ---- */

static int catalog_worker(void *arg, tp_err *err)
{
	drive_job *j = arg;
	tp_inventory inv;
	int have_inv = 0;
	tp_catalog_db *db = NULL;
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set = 0;
	tp_catalog_scan_stats st;
	memset(&st, 0, sizeof(st));
	tp_catalog_recover_opts o = { .scan = j->scan, .force = j->force, .owner = task_owner() };
	int r = open_inv_db(&inv, &have_inv, &db, err);
	if (r == 0 && (r = tp_drive_load(j->s.drive, NULL, err)) == 0)
		r = tp_catalog_recover_tape(&j->s, &inv, db, &o, &ml, &msl, &has_set, &st, err);
	if (r == 0) {
		char line[512];
		tp_catalog_scan_summary(ml.label_text, has_set && !tp_uuid_is_zero(msl.uuid), &st, line, sizeof(line));
		tp_info("%s", line);
		if (st.corrupt_chunks)
			tp_warn("tape %s: %llu chunk(s) failed their check and were not catalogued", ml.label_text,
				(unsigned long long)st.corrupt_chunks);
		if (j->verbose) {
			json_t *js = tp_catalog_scan_stats_to_json(&st);
			char *txt = js ? json_dumps(js, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
			tp_info("statistics: %s", txt ? txt : "?");
			free(txt);
			json_decref(js);
		}
	}
	if (has_set)
		tp_media_set_label_clear(&msl);
	close_inv_db(&inv, have_inv, db);
	return r;
}

int h_drive_catalog(tp_api_call *c, json_t **data, tp_err *err)
{
	drive_job *j = job_new(c, "catalog-media", err);
	if (!j)
		return err->code;
	j->force = tp_api_arg_bool(c, "force", 0);
	j->scan = tp_api_arg_bool(c, "scan", 0);
	j->verbose = tp_api_arg_bool(c, "verbose", 0);
	return job_start(c, "catalog-media", j, catalog_worker, data, err);
}

/* ---- status ---- */

int h_drive_status(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_session s;
	int r = session_open(c, "status", &s, err);
	if (r < 0)
		return r;
	tp_drive_status st;
	if ((r = tp_drive_get_status(s.drive, &st, err)) == 0) {
		tp_drive_diag g;
		tp_err derr = { 0 };
		int have_diag = tp_drive_diag_get(s.drive, &g, &derr) == 0;
		if (st.loaded && !st.label[0] && s.changer) {
			/* a drive that cannot name its cartridge gets the barcode from the changer */
			tp_changer_status cs;
			memset(&cs, 0, sizeof(cs));
			if (tp_changer_get_status(s.changer, &cs, NULL) == 0) {
				for (size_t i = 0; i < cs.ndrives; i++)
					if (cs.drives[i].number == (unsigned)s.drivenum && cs.drives[i].full)
						snprintf(st.label, sizeof(st.label), "%s", cs.drives[i].label);
				tp_changer_status_free(&cs);
			}
		}
		json_t *o = tp_drive_status_to_json(&st);
		json_object_set_new(o, "name", json_string(s.name));
		json_object_set_new(o, "type", json_string(s.drive->ops->type));
		json_object_set_new(o, "changer", s.changer ? json_string(s.changer_name) : json_null());
		json_object_set_new(o, "diagnostics", have_diag ? tp_drive_diag_to_json(&g) : json_null());
		*data = o;
	}
	tp_tape_session_close(&s);
	return r;
}
