/* Inventory updates from drives and changers (see tape_inventory.h). */
#include "tape/tape_inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "crypto/cipher.h"
#include "tape/catalog_scan.h"
#include "tape/drive_config.h"
#include "tape/pool_config.h"

void tp_tape_session_location(const tp_tape_session *s, tp_media_location *out)
{
	memset(out, 0, sizeof(*out));
	if (s->changer) {
		out->kind = TP_LOC_ONLINE;
		snprintf(out->name, sizeof(out->name), "%s", s->changer_name);
	} else {
		out->kind = TP_LOC_OFFLINE;
	}
}

/* Robot moves with the drive closed (tp_tape_session_drive_close); the session's drive lock stays held. */
static int drive_close_for_move(tp_tape_session *s)
{
	tp_tape_session_drive_close(s);
	return 0;
}

static int drive_reopen(tp_tape_session *s, tp_err *err)
{
	return tp_tape_session_drive_reopen(s, err);
}

/* The label of the cartridge in the session's changer drive ("" = empty). */
static int changer_drive_label(tp_tape_session *s, char *out, size_t size, tp_err *err)
{
	tp_changer_status st;
	int r = tp_changer_get_status(s->changer, &st, err);
	if (r < 0)
		return r;
	out[0] = 0;
	for (size_t i = 0; i < st.ndrives; i++)
		if (st.drives[i].number == (unsigned)s->drivenum && st.drives[i].full)
			snprintf(out, size, "%s", st.drives[i].label[0] ? st.drives[i].label : "?");
	tp_changer_status_free(&st);
	return 0;
}

int tp_tape_load_cartridge(tp_tape_session *s, const char *label, tp_err *err)
{
	int r;
	if (s->changer) {
		char cur[TP_DRIVE_LABEL_MAX + 1];
		if ((r = changer_drive_label(s, cur, sizeof(cur), err)) < 0)
			return r;
		if (!strcmp(cur, label))
			return tp_drive_reload(s->drive, err); /* no robot move: the tape only goes back to BOT */
		drive_close_for_move(s);
		unsigned to;
		if (cur[0] && (r = tp_changer_unload(s->changer, (unsigned)s->drivenum, 0, &to, err)) < 0)
			goto reopen;
		r = tp_changer_load_label(s->changer, label, (unsigned)s->drivenum, err);
		if (r == -TP_ENOTFOUND)
			tp_err_set(err, r, "tape %s is not in changer %s", label, s->changer_name);
	reopen:;
		tp_err e2 = { 0 };
		int r2 = drive_reopen(s, &e2);
		if (r < 0)
			return r;
		if (r2 < 0) {
			*err = e2;
			return r2;
		}
		return tp_drive_load(s->drive, NULL, err);
	}
	if (s->drive->ops->caps & TP_DRIVE_CAP_LOAD_BY_LABEL)
		return tp_drive_load(s->drive, label, err);
	r = tp_drive_load(s->drive, NULL, err);
	if (r == -ENOMEDIUM)
		return tp_err_set(err, -TP_EWRONGMEDIA, "drive %s is empty: please insert tape %s", s->name, label);
	return r;
}

int tp_tape_unload_to_slot(tp_tape_session *s, unsigned slot, unsigned *to, tp_err *err)
{
	if (to)
		*to = 0;
	if (!s->changer) {
		int r = tp_drive_unload(s->drive, err);
		return r == -ENOMEDIUM ? 0 : r < 0 ? r : 1;
	}
	char cur[TP_DRIVE_LABEL_MAX + 1];
	int r = changer_drive_label(s, cur, sizeof(cur), err);
	if (r < 0 || !cur[0])
		return r < 0 ? r : 0;
	drive_close_for_move(s);
	unsigned dummy;
	r = tp_changer_unload(s->changer, (unsigned)s->drivenum, slot, to ? to : &dummy, err);
	tp_err e2 = { 0 };
	int r2 = drive_reopen(s, &e2);
	if (r >= 0 && r2 < 0) {
		*err = e2;
		r = r2;
	}
	return r < 0 ? r : 1;
}

int tp_tape_inventory_store_labels(tp_inventory *inv, tp_catalog_db *db, const tp_media_label *ml,
				   const tp_media_set_label *msl, const tp_media_location *loc, tp_err *err)
{
	int r = tp_inventory_store(inv, ml, msl, 0, err);
	if (r < 0)
		return r;
	if (loc && (r = tp_inventory_set_location(inv, ml->uuid, loc, err)) < 0)
		return r;
	if (!db)
		return 0;
	int64_t start = -1;
	if (msl && !tp_uuid_is_zero(msl->uuid) && tp_inventory_set_start_time(inv, msl->uuid, &start) < 0)
		start = -1;
	return tp_catalog_sync_media(db, ml, msl, start, err);
}

/* PBS MEDIA_LABEL_SCHEMA: a safe id of 2..32 characters. */
static int label_text_valid(const char *t, tp_err *err)
{
	size_t n = strlen(t);
	int ok = n >= 2 && n <= 32 && t[0] != '.' && t[0] != '-';
	for (size_t i = 0; ok && i < n; i++) {
		char ch = t[i];
		ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
		     ch == '-' || ch == '.';
	}
	if (!ok)
		return tp_err_set(err, -EINVAL,
				  "invalid label text '%.64s': 2 to 32 characters [A-Za-z0-9_.-], not starting with '.' or '-'",
				  t);
	return 0;
}

static int check_new_label(tp_inventory *inv, const char *label_text, tp_err *err)
{
	int r = tp_inventory_reload(inv, err);
	if (r < 0)
		return r;
	const tp_inventory_entry *dup = tp_inventory_find_label(inv, label_text);
	if (dup) {
		char u[37];
		tp_uuid_unparse(dup->label.uuid, u);
		return tp_err_set(err, -TP_EEXISTS, "a tape labelled '%s' is already in the inventory (uuid %s)",
				  label_text, u);
	}
	return 0;
}

/* Labels the cartridge in the drive (already ready); the inventory must not know label_text. */
static int label_loaded(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db, const char *label_text,
			const char *pool, tp_media_label *out, tp_err *err)
{
	int r = check_new_label(inv, label_text, err);
	if (r < 0)
		return r;
	tp_media_label ml;
	memset(&ml, 0, sizeof(ml));
	if (tp_random_bytes(ml.uuid, 16) < 0)
		return tp_err_set(err, -EIO, "no random bytes for the media uuid");
	ml.uuid[6] = (uint8_t)((ml.uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	ml.uuid[8] = (uint8_t)((ml.uuid[8] & 0x3f) | 0x80);
	snprintf(ml.label_text, sizeof(ml.label_text), "%s", label_text);
	ml.ctime = tp_now();
	if (pool)
		snprintf(ml.pool, sizeof(ml.pool), "%s", pool);
	if ((r = tp_tape_write_media_label(s, &ml, 0, err)) < 0)
		return r;
	/* read it back: a label that does not read is no label */
	tp_media_label back;
	int has_set;
	if ((r = tp_tape_read_labels(s, &back, NULL, &has_set, err)) < 0)
		return r;
	if (r == TP_LABEL_NONE || memcmp(back.uuid, ml.uuid, 16))
		return tp_err_set(err, -EIO, "drive %s: the label just written does not read back", s->name);
	tp_media_location loc;
	tp_tape_session_location(s, &loc);
	if ((r = tp_tape_inventory_store_labels(inv, db, &ml, NULL, &loc, err)) < 0)
		return r;
	if (out)
		*out = ml;
	return 0;
}

static int lock_pool(tp_inventory *inv, const char *pool, tp_lock *l, tp_err *err)
{
	return tp_inventory_lock_pool(inv, pool && *pool ? pool : NULL, -1, l, err);
}

static int pool_exists(const char *pool, tp_err *err)
{
	if (!pool || !*pool)
		return 0;
	int r = tp_pool_valid_name(pool, err);
	if (r < 0)
		return r;
	tp_pool_config cfg;
	tp_err tmp = { 0 };
	r = tp_pool_config_get(pool, &cfg, &tmp);
	if (r == -TP_ENOTFOUND)
		return tp_err_set(err, r, "media pool '%s' does not exist", pool);
	if (r < 0)
		*err = tmp;
	return r;
}

int tp_tape_label_media(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db, const char *label_text,
			const char *pool, tp_media_label *out, tp_err *err)
{
	int r;
	if ((r = label_text_valid(label_text, err)) < 0 || (r = pool_exists(pool, err)) < 0)
		return r;
	tp_lock l = TP_LOCK_INIT;
	if ((r = lock_pool(inv, pool, &l, err)) < 0)
		return r;
	/* the duplicate check before touching the tape */
	if ((r = check_new_label(inv, label_text, err)) < 0)
		goto out;
	if ((r = tp_tape_load_cartridge(s, label_text, err)) < 0)
		goto out;
	r = label_loaded(s, inv, db, label_text, pool, out, err);
out:
	tp_lock_release(&l);
	return r;
}

int tp_tape_inventory_update_locations(tp_inventory *inv, const char *name, const tp_changer_status *st,
				       unsigned *online, unsigned *offline, tp_err *err)
{
	unsigned non = 0, noff = 0;
	int r = tp_inventory_reload(inv, err);
	if (r < 0)
		return r;
	size_t n = inv->n;
	uint8_t(*to_on)[16] = calloc(n ? n : 1, 16);
	uint8_t(*to_off)[16] = calloc(n ? n : 1, 16);
	if (!to_on || !to_off) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		int here = 0;
		for (size_t k = 0; !here && k < st->ndrives; k++)
			here = st->drives[k].full && !strcmp(st->drives[k].label, e->label.label_text);
		for (size_t k = 0; !here && k < st->nslots; k++)
			here = st->slots[k].full && !strcmp(st->slots[k].label, e->label.label_text);
		int is_online_here = e->has_location && e->location.kind == TP_LOC_ONLINE && !strcmp(e->location.name, name);
		if (here && !is_online_here)
			memcpy(to_on[non++], e->label.uuid, 16);
		else if (!here && is_online_here)
			memcpy(to_off[noff++], e->label.uuid, 16);
	}
	tp_media_location on = { TP_LOC_ONLINE, "" }, off = { TP_LOC_OFFLINE, "" };
	snprintf(on.name, sizeof(on.name), "%s", name);
	for (unsigned i = 0; i < non; i++)
		if ((r = tp_inventory_set_location(inv, to_on[i], &on, err)) < 0)
			goto out;
	for (unsigned i = 0; i < noff; i++)
		if ((r = tp_inventory_set_location(inv, to_off[i], &off, err)) < 0)
			goto out;
	if (online)
		*online = non;
	if (offline)
		*offline = noff;
	r = 0;
out:
	free(to_on);
	free(to_off);
	return r;
}

json_t *tp_tape_labels_to_json(const tp_media_label *ml, const tp_media_set_label *msl)
{
	json_t *o = json_object();
	json_object_set_new(o, "label", tp_media_label_to_json(ml));
	if (msl && !tp_uuid_is_zero(msl->uuid)) {
		tp_media_set_label c = *msl;
		c.key_config = NULL;
		json_object_set_new(o, "media-set-label", tp_media_set_label_to_json(&c));
	} else {
		json_object_set_new(o, "media-set-label", json_null());
	}
	return o;
}

static void row_set(json_t *row, const char *key, const char *val)
{
	json_object_set_new(row, key, json_string(val));
}

/* Fast catalog restore of a tape in a set that has no rows yet; the outcome goes into row["catalog"]. */
static int maybe_restore_catalog(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db, const tp_media_label *ml,
				 const tp_media_set_label *msl, json_t *row, tp_err *err)
{
	if (tp_uuid_is_zero(msl->uuid)) {
		row_set(row, "catalog", "no media set");
		return 0;
	}
	int r = tp_catalog_media_has_rows(db, ml->uuid, err);
	if (r < 0)
		return r;
	if (r > 0) {
		row_set(row, "catalog", "present");
		return 0;
	}
	tp_lock lp = TP_LOCK_INIT, ls = TP_LOCK_INIT;
	if ((r = tp_inventory_lock_pool(inv, msl->pool, -1, &lp, err)) < 0)
		return r;
	if ((r = tp_inventory_lock_media_set(inv, msl->uuid, -1, &ls, err)) < 0) {
		tp_lock_release(&lp);
		return r;
	}
	tp_err ferr = { 0 };
	tp_catalog_scan_stats st;
	r = tp_catalog_load_set_key(s, ml, msl, &ferr);
	if (r == 0)
		r = tp_catalog_fast_restore(s, db, inv, ml, msl, &st, &ferr);
	tp_lock_release(&ls);
	tp_lock_release(&lp);
	if (r < 0) {
		char msg[1100];
		snprintf(msg, sizeof(msg), "failed: %s", ferr.msg);
		row_set(row, "catalog", msg);
		return 0;
	}
	row_set(row, "catalog", "restored");
	return 0;
}

/* Reads (or in barcode mode labels) the tape now in the drive; `barcode` NULL for a standalone drive. */
static int read_loaded(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db, const tp_tape_inventory_opts *o,
		       const char *barcode, json_t *row, tp_err *err)
{
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set = 0;
	tp_err terr = { 0 };
	int r = tp_tape_read_labels(s, &ml, &msl, &has_set, &terr);
	if (r < 0) {
		row_set(row, "action", "error");
		row_set(row, "message", terr.msg);
		return 0;
	}
	if (r == TP_LABEL_NONE) {
		if (o->barcode_label && barcode) {
			tp_media_label nl;
			r = label_loaded(s, inv, db, barcode, o->pool, &nl, &terr);
			if (r < 0) {
				row_set(row, "action", "error");
				row_set(row, "message", terr.msg);
				return 0;
			}
			char u[37];
			tp_uuid_unparse(nl.uuid, u);
			row_set(row, "action", "labelled");
			row_set(row, "uuid", u);
			if (o->pool)
				row_set(row, "pool", o->pool);
			return 0;
		}
		row_set(row, "action", "blank");
		row_set(row, "message", "the tape is blank (not labelled)");
		return 0;
	}
	char u[37];
	tp_uuid_unparse(ml.uuid, u);
	row_set(row, "uuid", u);
	if (!barcode)
		row_set(row, "label-text", ml.label_text);
	if (o->barcode_label) {
		/* PBS refuses too: a tape with data is never relabelled by barcode-label */
		char msg[300];
		snprintf(msg, sizeof(msg), "the tape holds data (label %s)", ml.label_text);
		row_set(row, "action", "error");
		row_set(row, "message", msg);
		goto out;
	}
	if (barcode && strcmp(ml.label_text, barcode)) {
		char msg[400];
		snprintf(msg, sizeof(msg), "label text mismatch: barcode %s, the tape says %s", barcode, ml.label_text);
		row_set(row, "action", "mismatch");
		row_set(row, "message", msg);
		goto out;
	}
	tp_media_location loc;
	tp_tape_session_location(s, &loc);
	if ((r = tp_tape_inventory_store_labels(inv, db, &ml, has_set ? &msl : NULL, s->changer ? &loc : NULL, err)) < 0)
		goto out;
	row_set(row, "action", "inventoried");
	if (has_set && !tp_uuid_is_zero(msl.uuid)) {
		char su[37];
		tp_uuid_unparse(msl.uuid, su);
		row_set(row, "media-set", su);
		json_object_set_new(row, "seq-nr", json_integer((json_int_t)msl.seq_nr));
		row_set(row, "pool", msl.pool);
	} else if (ml.pool[0]) {
		row_set(row, "pool", ml.pool);
	}
	if (o->catalog && has_set)
		r = maybe_restore_catalog(s, inv, db, &ml, &msl, row, err);
out:
	if (has_set)
		tp_media_set_label_clear(&msl);
	return r;
}

static int cleaning_cartridge(const char *label)
{
	return !strncmp(label, TP_CLEANING_PREFIX, strlen(TP_CLEANING_PREFIX));
}

int tp_tape_inventory_run(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db,
			  const tp_tape_inventory_opts *o, json_t **report, tp_err *err)
{
	json_t *arr = json_array();
	tp_changer_status st = { 0 };
	int r;
	if (!arr)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if (o->barcode_label && !s->changer) {
		r = tp_err_set(err, -EINVAL, "drive %s has no changer: barcode-label needs one (use 'tape label')", s->name);
		goto out;
	}
	if (!s->changer) {
		tp_drive_status ds;
		if ((r = tp_drive_get_status(s->drive, &ds, err)) < 0)
			goto out;
		if (!ds.loaded) {
			r = tp_err_set(err, -ENOMEDIUM, "drive %s is empty: nothing to inventory", s->name);
			goto out;
		}
		if ((r = tp_drive_load(s->drive, NULL, err)) < 0)
			goto out;
		json_t *row = json_object();
		json_array_append_new(arr, row);
		if ((r = read_loaded(s, inv, db, o, NULL, row, err)) < 0)
			goto out;
		r = 0;
		goto out;
	}
	if ((r = tp_changer_get_status(s->changer, &st, err)) < 0)
		goto out;
	if (!o->barcode_label && (r = tp_tape_inventory_update_locations(inv, s->changer_name, &st, NULL, NULL, err)) < 0)
		goto out;
	/* the drive's own cartridge first: it is read where it is */
	size_t total = st.ndrives + st.nslots;
	for (size_t i = 0; i < total; i++) {
		const tp_changer_element *el = i < st.ndrives ? &st.drives[i] : &st.slots[i - st.ndrives];
		if (!el->full || !el->label[0])
			continue;
		if (i < st.ndrives && el->number != (unsigned)s->drivenum)
			continue; /* in another drive: that drive's business */
		if ((r = tp_inventory_reload(inv, err)) < 0)
			goto out;
		const tp_inventory_entry *known = tp_inventory_find_label(inv, el->label);
		json_t *row = json_pack("{s:s}", "label-text", el->label);
		json_array_append_new(arr, row);
		if (cleaning_cartridge(el->label)) {
			row_set(row, "action", "skipped");
			row_set(row, "message", "cleaning cartridge");
			continue;
		}
		int want_catalog = 0;
		if (known && o->catalog && tp_inventory_entry_in_set(known)) {
			tp_err tmp = { 0 };
			want_catalog = tp_catalog_media_has_rows(db, known->label.uuid, &tmp) == 0;
		}
		if (known && (o->barcode_label || (!o->read_all_labels && !want_catalog))) {
			row_set(row, "action", "known");
			continue;
		}
		int was_loaded = i < st.ndrives;
		tp_err lerr = { 0 };
		if ((r = tp_tape_load_cartridge(s, el->label, &lerr)) < 0) {
			row_set(row, "action", "error");
			row_set(row, "message", lerr.msg);
			if (r == -TP_ELOCKED || r == -EBUSY) {
				*err = lerr;
				goto out;
			}
			continue;
		}
		r = read_loaded(s, inv, db, o, el->label, row, err);
		if (r >= 0 && !was_loaded) {
			r = tp_tape_unload_to_slot(s, 0, NULL, err);
		}
		if (r < 0)
			goto out;
		tp_info("%s: %s", el->label, tp_json_opt_str(row, "action"));
	}
	r = 0;
out:
	tp_changer_status_free(&st);
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*report = arr;
	return 0;
}

size_t tp_tape_inventory_report_errors(const json_t *report, char *first, size_t size)
{
	size_t n = 0, i;
	const json_t *v;
	json_array_foreach(report, i, v) {
		const char *act = tp_json_opt_str(v, "action");
		if (act && !strcmp(act, "error")) {
			if (!n++)
				snprintf(first, size, "%s: %s", tp_json_opt_str(v, "label-text") ? tp_json_opt_str(v, "label-text") : "?",
					 tp_json_opt_str(v, "message") ? tp_json_opt_str(v, "message") : "failed");
		}
	}
	return n;
}
