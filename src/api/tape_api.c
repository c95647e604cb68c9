/* API handlers of config/drive|changer|media-pool and tape/drive|changer|media. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/acl.h"
#include "api/handlers.h"
#include "base/fsutil.h"
#include "base/timefmt.h"
#include "store/datastore.h"
#include "tape/catalog_db.h"
#include "tape/changer.h"
#include "tape/drive_config.h"
#include "tape/inventory.h"
#include "tape/pool_config.h"

static int device_priv(const tp_api_call *c, const char *name, uint64_t priv)
{
	char p[TP_ACL_PATH_MAX + 1];
	snprintf(p, sizeof(p), "/tape/device/%s", name);
	return tp_api_has_priv(c, p, priv, 0);
}

static int pool_priv(const tp_api_call *c, const char *pool, uint64_t priv)
{
	char p[TP_ACL_PATH_MAX + 1];
	snprintf(p, sizeof(p), "/tape/pool%s%s", pool ? "/" : "", pool ? pool : "");
	return tp_api_has_priv(c, p, priv, 0);
}

/* ---- config/drive, config/changer ---- */

int h_drive_config_list(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_config tc;
	int r = tp_tape_config_load(&tc, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < tc.ndrives; i++)
		if (device_priv(c, tc.drives[i].name, TP_PRIV_TAPE_AUDIT))
			json_array_append_new(arr, tp_drive_conf_to_json(&tc.drives[i]));
	tp_tape_config_free(&tc);
	*data = arr;
	return 0;
}

int h_drive_config_create(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_drive_conf d;
	memset(&d, 0, sizeof(d));
	d.changer_drivenum = -1;
	snprintf(d.name, sizeof(d.name), "%s", tp_api_arg_str(c, "name"));
	const char *type = tp_api_arg_str(c, "type");
	snprintf(d.type, sizeof(d.type), "%s", type ? type : "lto");
	d.path = (char *)tp_api_arg_str(c, "path");
	if (tp_api_arg(c, "max-size")) {
		if (strcmp(d.type, "virtual"))
			return tp_err_set(err, -EINVAL, "parameter 'max-size': applies to virtual drives only");
		d.max_size = (uint64_t)tp_api_arg_int(c, "max-size", 0);
	}
	const char *changer = tp_api_arg_str(c, "changer");
	if (changer) {
		snprintf(d.changer, sizeof(d.changer), "%s", changer);
		d.changer_drivenum = (int)tp_api_arg_int(c, "changer-drivenum", 0);
	} else if (tp_api_arg(c, "changer-drivenum")) {
		return tp_err_set(err, -EINVAL, "parameter 'changer-drivenum': needs 'changer'");
	}
	return tp_tape_config_create_drive(&d, NULL, err);
}

int h_drive_config_get(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_config tc;
	int r = tp_tape_config_load(&tc, err);
	if (r < 0)
		return r;
	const char *name = tp_api_arg_str(c, "name");
	const tp_drive_conf *d = tp_tape_config_drive(&tc, name);
	if (d)
		*data = tp_drive_conf_to_json(d);
	else
		r = tp_err_set(err, -TP_ENOTFOUND, "drive '%s' does not exist", name);
	tp_tape_config_free(&tc);
	return r;
}

int h_drive_config_delete(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	return tp_tape_config_delete_drive(tp_api_arg_str(c, "name"), err);
}

int h_changer_config_list(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_config tc;
	int r = tp_tape_config_load(&tc, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < tc.nchangers; i++)
		if (device_priv(c, tc.changers[i].name, TP_PRIV_TAPE_AUDIT))
			json_array_append_new(arr, tp_changer_conf_to_json(&tc.changers[i]));
	tp_tape_config_free(&tc);
	*data = arr;
	return 0;
}

int h_changer_config_create(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_changer_conf ch;
	memset(&ch, 0, sizeof(ch));
	snprintf(ch.name, sizeof(ch.name), "%s", tp_api_arg_str(c, "name"));
	const char *type = tp_api_arg_str(c, "type");
	snprintf(ch.type, sizeof(ch.type), "%s", type ? type : "scsi");
	ch.path = (char *)tp_api_arg_str(c, "path");
	int virt = !strcmp(ch.type, "virtual");
	if (!virt && (tp_api_arg(c, "slots") || tp_api_arg(c, "import-export-slots")))
		return tp_err_set(err, -EINVAL, "parameter '%s': applies to virtual changers only",
				  tp_api_arg(c, "slots") ? "slots" : "import-export-slots");
	ch.slots = virt ? (unsigned)tp_api_arg_int(c, "slots", 8) : 0;
	ch.ie_slots = (unsigned)tp_api_arg_int(c, "import-export-slots", 0);
	return tp_tape_config_create_changer(&ch, NULL, err);
}

int h_changer_config_get(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_config tc;
	int r = tp_tape_config_load(&tc, err);
	if (r < 0)
		return r;
	const char *name = tp_api_arg_str(c, "name");
	const tp_changer_conf *ch = tp_tape_config_changer(&tc, name);
	if (ch)
		*data = tp_changer_conf_to_json(ch);
	else
		r = tp_err_set(err, -TP_ENOTFOUND, "changer '%s' does not exist", name);
	tp_tape_config_free(&tc);
	return r;
}

int h_changer_config_delete(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	return tp_tape_config_delete_changer(tp_api_arg_str(c, "name"), err);
}

/* ---- config/media-pool ---- */

int h_pool_list(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_pool_config *v;
	size_t n;
	int r = tp_pool_config_list(&v, &n, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!pool_priv(c, v[i].name, TP_PRIV_TAPE_AUDIT))
			continue;
		json_t *o = json_pack("{s:s}", "name", v[i].name);
		json_t *cfg = tp_pool_config_to_json(&v[i]);
		json_object_update(o, cfg);
		json_decref(cfg);
		json_array_append_new(arr, o);
	}
	free(v);
	*data = arr;
	return 0;
}

/* Applies the optional pool properties of the call to cfg. */
static int pool_apply(tp_api_call *c, tp_pool_config *cfg, tp_err *err)
{
	const char *s;
	int r = 0;
	json_t *del = tp_api_arg(c, "delete");
	size_t i;
	json_t *v;
	json_array_foreach(del, i, v) {
		const char *p = json_string_value(v);
		if (!strcmp(p, "allocation"))
			r = tp_pool_set_allocation(cfg, "continue", err);
		else if (!strcmp(p, "retention"))
			r = tp_pool_set_retention(cfg, "keep", err);
		else if (!strcmp(p, "template"))
			r = tp_pool_set_template(cfg, "", err);
		else if (!strcmp(p, "encrypt"))
			r = tp_pool_set_encrypt(cfg, NULL, err);
		else if (!strcmp(p, "comment"))
			r = tp_pool_set_comment(cfg, "", err);
		else
			r = tp_err_set(err, -EINVAL, "parameter 'delete': unknown property '%s'", p);
		if (r < 0)
			return r;
	}
	static const char *const keys[] = { "allocation", "retention", "template", "encrypt", "comment" };
	for (int k = 0; k < 5; k++) {
		if (!(s = tp_api_arg_str(c, keys[k])))
			continue;
		switch (k) {
		case 0: r = tp_pool_set_allocation(cfg, s, err); break;
		case 1: r = tp_pool_set_retention(cfg, s, err); break;
		case 2: r = tp_pool_set_template(cfg, s, err); break;
		case 3: r = tp_pool_set_encrypt(cfg, s, err); break;
		default: r = tp_pool_set_comment(cfg, s, err); break;
		}
		if (r < 0)
			return tp_err_set(err, -EINVAL, "parameter '%s': %s", keys[k], err->msg);
	}
	return 0;
}

int h_pool_create(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_pool_config cfg;
	int r = tp_pool_config_init(&cfg, tp_api_arg_str(c, "name"), err);
	if (r < 0 || (r = pool_apply(c, &cfg, err)) < 0)
		return r;
	return tp_pool_config_create(&cfg, err);
}

int h_pool_get(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_pool_config cfg;
	int r = tp_pool_config_get(tp_api_arg_str(c, "name"), &cfg, err);
	if (r < 0)
		return r;
	json_t *o = json_pack("{s:s}", "name", cfg.name), *j = tp_pool_config_to_json(&cfg);
	json_object_update(o, j);
	json_decref(j);
	*data = o;
	return 0;
}

int h_pool_update(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_pool_config cfg;
	int r = tp_pool_config_get(tp_api_arg_str(c, "name"), &cfg, err);
	if (r < 0 || (r = pool_apply(c, &cfg, err)) < 0)
		return r;
	return tp_pool_config_update(&cfg, err);
}

int h_pool_delete(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	return tp_pool_config_remove(tp_api_arg_str(c, "name"), err);
}

/* ---- tape/drive, tape/changer ---- */

int h_tape_drive_list(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_config tc;
	int r = tp_tape_config_load(&tc, err);
	if (r < 0)
		return r;
	const char *changer = tp_api_arg_str(c, "changer");
	json_t *arr = json_array();
	for (size_t i = 0; i < tc.ndrives; i++) {
		const tp_drive_conf *d = &tc.drives[i];
		if ((changer && strcmp(changer, d->changer)) || !device_priv(c, d->name, TP_PRIV_TAPE_AUDIT))
			continue;
		json_t *o = json_pack("{s:s,s:s,s:s}", "name", d->name, "type", d->type, "path", d->path);
		if (d->changer[0]) {
			json_object_set_new(o, "changer", json_string(d->changer));
			json_object_set_new(o, "changer-drivenum", json_integer(d->changer_drivenum));
		}
		json_array_append_new(arr, o);
	}
	tp_tape_config_free(&tc);
	*data = arr;
	return 0;
}

int h_tape_changer_list(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_tape_config tc;
	int r = tp_tape_config_load(&tc, err);
	if (r < 0)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < tc.nchangers; i++)
		if (device_priv(c, tc.changers[i].name, TP_PRIV_TAPE_AUDIT))
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "name", tc.changers[i].name, "type",
							     tc.changers[i].type, "path", tc.changers[i].path));
	tp_tape_config_free(&tc);
	*data = arr;
	return 0;
}

static json_t *mtx_entry(const char *kind, unsigned id, const tp_changer_element *e)
{
	json_t *o = json_pack("{s:s,s:I}", "entry-kind", kind, "entry-id", (json_int_t)id);
	if (e->full && e->label[0])
		json_object_set_new(o, "label-text", json_string(e->label));
	if (!strcmp(kind, "drive") && e->full && e->from_slot)
		json_object_set_new(o, "loaded-slot", json_integer(e->from_slot));
	return o;
}

int h_changer_status(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_changer *ch;
	int r = tp_changer_open_by_name(tp_api_arg_str(c, "name"), &ch, err);
	if (r < 0)
		return r;
	tp_changer_status st;
	memset(&st, 0, sizeof(st));
	if ((r = tp_changer_get_status(ch, &st, err)) == 0) {
		/* PBS's MtxStatusEntry list: drives, then slots, then import/export slots */
		json_t *arr = json_array();
		for (size_t i = 0; i < st.ndrives; i++)
			json_array_append_new(arr, mtx_entry("drive", st.drives[i].number, &st.drives[i]));
		for (size_t i = 0; i < st.nslots; i++)
			json_array_append_new(arr, mtx_entry(st.slots[i].kind == TP_CHANGER_IMPORT_EXPORT ? "import-export"
											 : "slot",
							     st.slots[i].number, &st.slots[i]));
		*data = arr;
		tp_changer_status_free(&st);
	}
	tp_changer_close(ch);
	return r;
}

int h_changer_transfer(tp_api_call *c, json_t **data, tp_err *err)
{
	(void)data;
	tp_changer *ch;
	int r = tp_changer_open_by_name(tp_api_arg_str(c, "name"), &ch, err);
	if (r < 0)
		return r;
	r = tp_changer_transfer(ch, (unsigned)tp_api_arg_int(c, "from", 0), (unsigned)tp_api_arg_int(c, "to", 0), err);
	tp_changer_close(ch);
	return r;
}

/* ---- tape/media ---- */

static const tp_pool_config *pool_of(const char *pool, tp_pool_config *buf)
{
	if (!pool || tp_pool_config_get(pool, buf, NULL) < 0)
		return NULL;
	return buf;
}

static json_t *media_row(const tp_inventory *inv, const tp_inventory_entry *e, int64_t now)
{
	char u[37], loc[80];
	tp_uuid_unparse(e->label.uuid, u);
	tp_media_location off = { TP_LOC_OFFLINE, "" };
	tp_media_location_text(e->has_location ? &e->location : &off, loc);
	enum tp_media_status st = tp_inventory_media_status(inv, e, NULL);
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s}", "label-text", e->label.label_text, "uuid", u, "ctime",
			      (json_int_t)e->label.ctime, "status", tp_media_status_name(st), "location", loc);
	const char *pool = tp_inventory_entry_pool(e);
	if (pool)
		json_object_set_new(o, "pool", json_string(pool));
	if (tp_inventory_entry_in_set(e)) {
		char su[37];
		tp_uuid_unparse(e->set.uuid, su);
		json_object_set_new(o, "media-set-uuid", json_string(su));
		json_object_set_new(o, "seq-nr", json_integer((json_int_t)e->set.seq_nr));
		int64_t start;
		int have_start = tp_inventory_set_start_time(inv, e->set.uuid, &start) == 0;
		if (have_start)
			json_object_set_new(o, "media-set-ctime", json_integer(start));
		tp_pool_config cbuf;
		const tp_pool_config *cfg = pool_of(e->set.pool, &cbuf);
		if (cfg) {
			char name[256];
			tp_pool_media_set_name(cfg, e->set.uuid, have_start ? start : e->set.ctime, name, sizeof(name));
			json_object_set_new(o, "media-set-name", json_string(name));
			int64_t exp = tp_inventory_expire_time(inv, e, cfg);
			json_object_set_new(o, "expired", json_boolean(st == TP_MEDIA_FULL && now >= exp));
			if (st == TP_MEDIA_FULL && exp != INT64_MAX) {
				char t[21];
				tp_time_utc(exp, t);
				json_object_set_new(o, "expire-time", json_string(t));
			}
		}
	}
	if (e->has_bytes_used)
		json_object_set_new(o, "bytes-used", json_integer((json_int_t)e->bytes_used));
	return o;
}

int h_media_list(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *pool = tp_api_arg_str(c, "pool");
	tp_inventory inv;
	int r = tp_inventory_open(&inv, NULL, NULL, err);
	if (r < 0)
		return r;
	int64_t now = tp_now();
	json_t *arr = json_array();
	for (size_t i = 0; i < inv.n; i++) {
		const tp_inventory_entry *e = &inv.e[i];
		const char *p = tp_inventory_entry_pool(e);
		if (pool && (!p || strcmp(p, pool)))
			continue;
		/* tapes of a pool need Tape.Audit on it; free tapes on /tape/pool */
		if (!pool_priv(c, p, TP_PRIV_TAPE_AUDIT))
			continue;
		json_array_append_new(arr, media_row(&inv, e, now));
	}
	tp_inventory_close(&inv);
	*data = arr;
	return 0;
}

struct content_ctx {
	tp_api_call *c;
	tp_catalog_db *db;
	const char *pool, *label, *type, *id;
	json_t *arr;
	tp_err *err;
};

static int content_cb(void *ctxp, const tp_snapshot_loc *s)
{
	struct content_ctx *x = ctxp;
	char pool[65];
	int64_t set_ctime;
	if (tp_catalog_get_media_set(x->db, s->media_set, pool, &set_ctime, x->err) < 0)
		return x->err->code;
	if ((x->pool && strcmp(pool, x->pool)) || !pool_priv(x->c, pool, TP_PRIV_TAPE_AUDIT))
		return 0;
	tp_catalog_media m;
	if (tp_catalog_get_media(x->db, s->media, &m, x->err) < 0)
		return x->err->code;
	if (x->label && strcmp(m.label_text, x->label))
		return 0;
	tp_snapshot_ref ref;
	if ((x->type || x->id) && (tp_snapshot_ref_parse(s->path, &ref, NULL) < 0 || (x->type && strcmp(ref.type, x->type)) ||
				   (x->id && strcmp(ref.id, x->id))))
		return 0;
	char su[37], mu[37];
	tp_uuid_unparse(s->media_set, su);
	tp_uuid_unparse(s->media, mu);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s,s:I}", "label-text", m.label_text, "uuid", mu, "pool",
			      pool, "media-set-uuid", su, "media-set-ctime", (json_int_t)set_ctime, "seq-nr",
			      (json_int_t)s->seq_nr, "store", s->store, "snapshot", s->path, "file-nr",
			      (json_int_t)s->file_nr);
	tp_pool_config cbuf;
	const tp_pool_config *cfg = pool_of(pool, &cbuf);
	if (o && cfg) {
		char name[256];
		tp_pool_media_set_name(cfg, s->media_set, set_ctime, name, sizeof(name));
		json_object_set_new(o, "media-set-name", json_string(name));
	}
	/* the snapshot time is the last path component */
	const char *t = strrchr(s->path, '/');
	int64_t bt;
	if (o && t && tp_time_parse_utc(t + 1, &bt) == 0)
		json_object_set_new(o, "backup-time", json_integer(bt));
	if (!o || json_array_append_new(x->arr, o) < 0)
		return tp_err_set(x->err, -ENOMEM, "out of memory");
	return 0;
}

int h_media_content(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *set_text = tp_api_arg_str(c, "media-set");
	uint8_t set[16];
	if (set_text && tp_uuid_parse(set_text, set) < 0)
		return tp_err_set(err, -EINVAL, "parameter 'media-set': '%s' is not a UUID", set_text);
	tp_catalog_db *db;
	int r = tp_catalog_open(&db, NULL, err);
	if (r < 0)
		return r;
	struct content_ctx x = { c, db, tp_api_arg_str(c, "pool"), tp_api_arg_str(c, "label-text"),
				 tp_api_arg_str(c, "backup-type"), tp_api_arg_str(c, "backup-id"), json_array(), err };
	r = tp_catalog_list_snapshots(db, set_text ? set : NULL, NULL, NULL, content_cb, &x, err);
	tp_catalog_close(db);
	if (r < 0) {
		json_decref(x.arr);
		return r;
	}
	*data = x.arr;
	return 0;
}

int h_media_sets(tp_api_call *c, json_t **data, tp_err *err)
{
	tp_inventory inv;
	int r = tp_inventory_open(&inv, NULL, NULL, err);
	if (r < 0)
		return r;
	uint8_t(*sets)[16] = NULL;
	size_t n = 0;
	json_t *arr = json_array();
	if ((r = tp_inventory_list_sets(&inv, tp_api_arg_str(c, "pool"), &sets, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		tp_media_set ms;
		if ((r = tp_inventory_media_set(&inv, sets[i], &ms, err)) < 0)
			goto out;
		if (!pool_priv(c, ms.pool, TP_PRIV_TAPE_AUDIT)) {
			tp_media_set_free(&ms);
			continue;
		}
		char su[37];
		tp_uuid_unparse(ms.uuid, su);
		/* the members by seq-nr, null for one not in the inventory */
		json_t *tapes = json_array();
		for (size_t k = 0; k < ms.n; k++) {
			const tp_inventory_entry *e = ms.present[k] ? tp_inventory_find(&inv, ms.members[k]) : NULL;
			json_array_append_new(tapes, e ? json_string(e->label.label_text) : json_null());
		}
		json_t *o = json_pack("{s:s,s:s,s:b,s:I,s:o}", "media-set-uuid", su, "pool", ms.pool, "complete",
				      ms.complete, "count", (json_int_t)ms.n, "tapes", tapes);
		tp_pool_config cbuf;
		const tp_pool_config *cfg = pool_of(ms.pool, &cbuf);
		if (ms.start_time >= 0) {
			json_object_set_new(o, "media-set-ctime", json_integer(ms.start_time));
			if (cfg) {
				char name[256];
				tp_pool_media_set_name(cfg, ms.uuid, ms.start_time, name, sizeof(name));
				json_object_set_new(o, "media-set-name", json_string(name));
			}
		}
		tp_media_set_free(&ms);
		json_array_append_new(arr, o);
	}
	*data = arr;
	arr = NULL;
out:
	json_decref(arr);
	free(sets);
	tp_inventory_close(&inv);
	return r;
}

int h_media_destroy(tp_api_call *c, json_t **data, tp_err *err)
{
	const char *label = tp_api_arg_str(c, "label-text"), *uuid = tp_api_arg_str(c, "uuid");
	if (!!label == !!uuid)
		return tp_err_set(err, -EINVAL, "parameter '%s': give exactly one of label-text and uuid",
				  label ? "uuid" : "label-text");
	tp_inventory inv;
	int r = tp_inventory_open(&inv, NULL, NULL, err);
	if (r < 0)
		return r;
	uint8_t u[16];
	const tp_inventory_entry *e = label ? tp_inventory_find_label(&inv, label)
					    : (tp_uuid_parse(uuid, u) == 0 ? tp_inventory_find(&inv, u) : NULL);
	if (!e) {
		r = tp_err_set(err, -TP_ENOTFOUND, "media '%s' is not in the inventory", label ? label : uuid);
		goto out;
	}
	tp_media_label ml = e->label;
	if (tp_inventory_entry_in_set(e) && !tp_api_arg_bool(c, "force", 0)) {
		r = tp_err_set(err, -EBUSY, "media '%s' contains data of a media set (use force / --force to remove it anyway)",
			       ml.label_text);
		goto out;
	}
	tp_catalog_db *db;
	if ((r = tp_catalog_open(&db, NULL, err)) < 0)
		goto out;
	tp_err tmp = { 0 };
	r = tp_catalog_delete_media(db, ml.uuid, 0, &tmp);
	tp_catalog_close(db);
	if (r < 0 && r != -TP_ENOTFOUND) {
		*err = tmp;
		goto out;
	}
	if ((r = tp_inventory_remove(&inv, ml.uuid, err)) == 0) {
		char u[37];
		tp_uuid_unparse(ml.uuid, u);
		*data = json_pack("{s:s,s:s}", "label-text", ml.label_text, "uuid", u);
	}
out:
	tp_inventory_close(&inv);
	return r;
}
