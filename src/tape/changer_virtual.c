/* The `virtual` changer backend: slots, import/export slots and drives kept in changer-status.json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/lock.h"
#include "tape/changer.h"

typedef struct vc_drive_state {
	char label[TP_DRIVE_LABEL_MAX + 1];
	unsigned from_slot;
} vc_drive_state;

typedef struct vc_state {
	char (*slots)[TP_DRIVE_LABEL_MAX + 1]; /* storage then import/export; "" = empty */
	vc_drive_state *drives;
} vc_state;

typedef struct vc_changer {
	char name[TP_DRIVE_NAME_MAX + 1];
	char *path;
	unsigned nslots, nie, ndrives;
	char **drive_paths; /* by drive number; NULL = no drive there */
	int timeout_ms;
} vc_changer;

static unsigned total_slots(const vc_changer *c)
{
	return c->nslots + c->nie;
}

static void state_free(vc_state *s)
{
	free(s->slots);
	free(s->drives);
	s->slots = NULL;
	s->drives = NULL;
}

static int label_from_json(const json_t *v, char *out, const char *file, const char *where, unsigned n, tp_err *err)
{
	out[0] = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || tp_virtual_label_valid(json_string_value(v), NULL) < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: %s %u: not a cartridge label", file, where, n);
	snprintf(out, TP_DRIVE_LABEL_MAX + 1, "%s", json_string_value(v));
	return 0;
}

static int state_load(vc_changer *c, vc_state *s, tp_err *err)
{
	int r = 0;
	json_t *o = NULL;
	s->slots = calloc(total_slots(c) ? total_slots(c) : 1, sizeof(*s->slots));
	s->drives = calloc(c->ndrives ? c->ndrives : 1, sizeof(*s->drives));
	char *p = tp_path_join(c->path, TP_VCHANGER_STATUS_FILE);
	if (!s->slots || !s->drives || !p) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (!tp_path_exists(p))
		goto out;
	o = tp_json_load_file(p, 1 << 20, err);
	if (!o) {
		r = err && err->code ? err->code : -TP_EFORMAT;
		goto out;
	}
	static const char *const keys[2] = { "slots", "import-export" };
	for (int k = 0; k < 2; k++) {
		json_t *a = json_object_get(o, keys[k]);
		unsigned have = k == 0 ? c->nslots : c->nie, base = k == 0 ? 0 : c->nslots;
		if (a && !json_is_array(a)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: \"%s\" must be an array", p, keys[k]);
			goto out;
		}
		for (size_t i = 0; a && i < json_array_size(a); i++) {
			char label[TP_DRIVE_LABEL_MAX + 1];
			if ((r = label_from_json(json_array_get(a, i), label, p, keys[k], (unsigned)i + 1, err)) < 0)
				goto out;
			if (!label[0])
				continue;
			if (i >= have) {
				r = tp_err_set(err, -TP_EFORMAT, "%s: cartridge %s in %s position %zu, but only %u are configured",
					       p, label, keys[k], i + 1, have);
				goto out;
			}
			memcpy(s->slots[base + i], label, sizeof(label));
		}
	}
	json_t *a = json_object_get(o, "drives");
	if (a && !json_is_array(a)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: \"drives\" must be an array", p);
		goto out;
	}
	for (size_t i = 0; a && i < json_array_size(a); i++) {
		json_t *d = json_array_get(a, i);
		if (json_is_null(d))
			continue;
		char label[TP_DRIVE_LABEL_MAX + 1];
		if ((r = label_from_json(json_object_get(d, "label"), label, p, "drive", (unsigned)i, err)) < 0)
			goto out;
		if (!label[0])
			continue;
		if (i >= c->ndrives) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: cartridge %s in drive %zu, but only %u drives are attached", p,
				       label, i, c->ndrives);
			goto out;
		}
		memcpy(s->drives[i].label, label, sizeof(label));
		int64_t from = tp_json_opt_int(d, "from-slot", 0);
		s->drives[i].from_slot = from > 0 && from <= (int64_t)total_slots(c) ? (unsigned)from : 0;
	}
out:
	json_decref(o);
	free(p);
	if (r < 0)
		state_free(s);
	return r;
}

static int state_save(vc_changer *c, const vc_state *s, tp_err *err)
{
	json_t *o = json_object(), *sl = json_array(), *ie = json_array(), *dr = json_array();
	int r;
	if (!o || !sl || !ie || !dr) {
		json_decref(o);
		json_decref(sl);
		json_decref(ie);
		json_decref(dr);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	for (unsigned i = 0; i < total_slots(c); i++)
		json_array_append_new(i < c->nslots ? sl : ie, s->slots[i][0] ? json_string(s->slots[i]) : json_null());
	for (unsigned i = 0; i < c->ndrives; i++)
		json_array_append_new(dr, s->drives[i].label[0]
						  ? json_pack("{s:s,s:I}", "label", s->drives[i].label, "from-slot",
							      (json_int_t)s->drives[i].from_slot)
						  : json_null());
	json_object_set_new(o, "slots", sl);
	json_object_set_new(o, "import-export", ie);
	json_object_set_new(o, "drives", dr);
	char *p = tp_path_join(c->path, TP_VCHANGER_STATUS_FILE);
	r = p ? tp_json_save_file(p, o, 0600, err) : tp_err_set(err, -ENOMEM, "out of memory");
	free(p);
	json_decref(o);
	return r;
}

static int lock_changer(vc_changer *c, tp_lock *l, tp_err *err)
{
	char *p = tp_path_join(c->path, ".changer.lck");
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	char what[64];
	snprintf(what, sizeof(what), "virtual changer %s", c->name);
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, c->timeout_ms, NULL, what, err);
	free(p);
	return r;
}

/* Runs fn on the locked, loaded state and saves it when fn succeeds with save set. */
typedef int (*vc_fn)(vc_changer *c, vc_state *s, void *arg, tp_err *err);

static int with_state(vc_changer *c, vc_fn fn, void *arg, int save, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	vc_state s = { NULL, NULL };
	int r = lock_changer(c, &l, err);
	if (r < 0)
		return r;
	if ((r = state_load(c, &s, err)) < 0)
		goto out;
	if ((r = fn(c, &s, arg, err)) < 0)
		goto out;
	if (save)
		r = state_save(c, &s, err);
out:
	state_free(&s);
	tp_lock_release(&l);
	return r;
}

static int check_slot(vc_changer *c, unsigned slot, const char *what, tp_err *err)
{
	if (slot < 1 || slot > total_slots(c))
		return tp_err_set(err, -EINVAL, "%s slot %u does not exist (slots 1..%u%s)", what, slot, c->nslots,
				  c->nie ? ", import/export after them" : "");
	return 0;
}

static int check_drive(vc_changer *c, unsigned drivenum, tp_err *err)
{
	if (drivenum >= c->ndrives || !c->drive_paths[drivenum])
		return tp_err_set(err, -EINVAL, "no drive number %u attached to this changer", drivenum);
	return 0;
}

/*
 * Puts label into (or, label NULL, takes `expect` out of) a virtual drive's
 * directory.  The drive must not be open: its lock is taken without waiting.
 */
static int drive_set_media(vc_changer *c, unsigned drivenum, const char *label, const char *expect, tp_err *err)
{
	const char *dir = c->drive_paths[drivenum];
	char *lp = tp_path_join(dir, ".drive.lck");
	if (!lp)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_lock l = TP_LOCK_INIT;
	char what[64];
	snprintf(what, sizeof(what), "drive %u (%s)", drivenum, dir);
	int r = tp_mkdir_p(dir, 0700, err);
	if (r == 0)
		r = tp_lock_file(&l, lp, TP_LOCK_EXCLUSIVE, 0, NULL, what, err);
	free(lp);
	if (r < 0)
		return r;
	char cur[TP_DRIVE_LABEL_MAX + 1];
	uint64_t pos;
	if ((r = tp_virtual_status_read(dir, cur, sizeof(cur), &pos, err)) < 0)
		goto out;
	if (label && cur[0]) {
		r = tp_err_set(err, -EBUSY, "drive %u already holds cartridge '%s' that the changer does not know about",
			       drivenum, cur);
		goto out;
	}
	if (!label && cur[0] && strcmp(cur, expect)) {
		r = tp_err_set(err, -EBUSY, "drive %u holds cartridge '%s', the changer expected '%s'", drivenum, cur,
			       expect);
		goto out;
	}
	r = tp_virtual_status_write(dir, label, err);
out:
	tp_lock_release(&l);
	return r;
}

static int find_anywhere(vc_changer *c, const vc_state *s, const char *label)
{
	for (unsigned i = 0; i < total_slots(c); i++)
		if (!strcmp(s->slots[i], label))
			return 1;
	for (unsigned i = 0; i < c->ndrives; i++)
		if (!strcmp(s->drives[i].label, label))
			return 1;
	return 0;
}

/* ---- ops ---- */

static void vc_close(void *priv)
{
	vc_changer *c = priv;
	if (!c)
		return;
	for (unsigned i = 0; i < c->ndrives; i++)
		free(c->drive_paths[i]);
	free(c->drive_paths);
	free(c->path);
	free(c);
}

static int get_count(const json_t *conf, const char *key, unsigned def, unsigned min, unsigned max, unsigned *out,
		     tp_err *err)
{
	json_t *v = json_object_get(conf, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min || json_integer_value(v) > (json_int_t)max)
		return tp_err_set(err, -EINVAL, "virtual changer: \"%s\" must be an integer %u..%u", key, min, max);
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int vc_open(const char *name, const json_t *conf, void **priv, tp_err *err)
{
	int r;
	vc_changer *c = calloc(1, sizeof(*c));
	if (!c)
		return tp_err_set(err, -ENOMEM, "out of memory");
	snprintf(c->name, sizeof(c->name), "%s", name);
	const char *path = tp_json_opt_str(conf, "path");
	if (!path || path[0] != '/') {
		r = tp_err_set(err, -EINVAL, "virtual changer needs an absolute \"path\" (directory)");
		goto out;
	}
	if (!(c->path = strdup(path))) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = get_count(conf, "slots", 8, 1, TP_VCHANGER_MAX_SLOTS, &c->nslots, err)) < 0 ||
	    (r = get_count(conf, "import-export-slots", 0, 0, TP_VCHANGER_MAX_IE, &c->nie, err)) < 0)
		goto out;
	c->timeout_ms = (int)tp_json_opt_int(conf, "lock-timeout-ms", 10000);
	json_t *dr = json_object_get(conf, "drives");
	if (dr && !json_is_array(dr)) {
		r = tp_err_set(err, -EINVAL, "virtual changer: \"drives\" must be an array of directories");
		goto out;
	}
	c->ndrives = dr ? (unsigned)json_array_size(dr) : 0;
	if (c->ndrives > TP_VCHANGER_MAX_DRIVES) {
		r = tp_err_set(err, -EINVAL, "virtual changer: more than %d drives", TP_VCHANGER_MAX_DRIVES);
		goto out;
	}
	c->drive_paths = calloc(c->ndrives ? c->ndrives : 1, sizeof(char *));
	if (!c->drive_paths) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < c->ndrives; i++) {
		json_t *x = json_array_get(dr, i);
		if (json_is_null(x))
			continue;
		if (!json_is_string(x) || json_string_value(x)[0] != '/') {
			r = tp_err_set(err, -EINVAL, "virtual changer: drive %u: not an absolute directory", i);
			goto out;
		}
		if (!(c->drive_paths[i] = strdup(json_string_value(x)))) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	r = tp_mkdir_p(c->path, 0700, err);
out:
	if (r < 0) {
		vc_close(c);
		return r;
	}
	*priv = c;
	return 0;
}

static int do_status(vc_changer *c, vc_state *s, void *arg, tp_err *err)
{
	tp_changer_status *st = arg;
	st->nslots = total_slots(c);
	st->ndrives = c->ndrives;
	st->slots = calloc(st->nslots ? st->nslots : 1, sizeof(*st->slots));
	st->drives = calloc(st->ndrives ? st->ndrives : 1, sizeof(*st->drives));
	if (!st->slots || !st->drives)
		return tp_err_set(err, -ENOMEM, "out of memory");
	for (unsigned i = 0; i < total_slots(c); i++) {
		tp_changer_element *e = &st->slots[i];
		e->kind = i < c->nslots ? TP_CHANGER_SLOT : TP_CHANGER_IMPORT_EXPORT;
		e->number = i + 1;
		e->full = s->slots[i][0] != 0;
		memcpy(e->label, s->slots[i], sizeof(e->label));
	}
	for (unsigned i = 0; i < c->ndrives; i++) {
		tp_changer_element *e = &st->drives[i];
		e->kind = TP_CHANGER_DRIVE;
		e->number = i;
		e->full = s->drives[i].label[0] != 0;
		memcpy(e->label, s->drives[i].label, sizeof(e->label));
		e->from_slot = s->drives[i].from_slot;
	}
	return 0;
}

static int vc_status(void *priv, tp_changer_status *st, tp_err *err)
{
	return with_state(priv, do_status, st, 0, err);
}

struct move_arg {
	unsigned a, b;
	unsigned *to;
	const char *label;
};

static int do_load(vc_changer *c, vc_state *s, void *arg, tp_err *err)
{
	struct move_arg *m = arg;
	int r;
	if ((r = check_slot(c, m->a, "source", err)) < 0 || (r = check_drive(c, m->b, err)) < 0)
		return r;
	char *label = s->slots[m->a - 1];
	if (!label[0])
		return tp_err_set(err, -ENOENT, "slot %u is empty", m->a);
	if (s->drives[m->b].label[0])
		return tp_err_set(err, -EBUSY, "drive %u already holds cartridge '%s'", m->b, s->drives[m->b].label);
	if ((r = drive_set_media(c, m->b, label, NULL, err)) < 0)
		return r;
	memcpy(s->drives[m->b].label, label, sizeof(s->drives[m->b].label));
	s->drives[m->b].from_slot = m->a;
	label[0] = 0;
	return 0;
}

static int vc_load(void *priv, unsigned slot, unsigned drivenum, tp_err *err)
{
	struct move_arg m = { slot, drivenum, NULL, NULL };
	return with_state(priv, do_load, &m, 1, err);
}

static int do_unload(vc_changer *c, vc_state *s, void *arg, tp_err *err)
{
	struct move_arg m = *(struct move_arg *)arg;
	int r;
	if ((r = check_drive(c, m.a, err)) < 0)
		return r;
	vc_drive_state *d = &s->drives[m.a];
	if (!d->label[0])
		return tp_err_set(err, -ENOENT, "drive %u is empty", m.a);
	unsigned to = m.b;
	if (to) {
		if ((r = check_slot(c, to, "target", err)) < 0)
			return r;
		if (s->slots[to - 1][0])
			return tp_err_set(err, -EBUSY, "target slot %u is full ('%s')", to, s->slots[to - 1]);
	} else if (d->from_slot && !s->slots[d->from_slot - 1][0]) {
		to = d->from_slot;
	} else {
		for (unsigned i = 0; i < c->nslots && !to; i++)
			if (!s->slots[i][0])
				to = i + 1;
		if (!to)
			return tp_err_set(err, -ENOSPC, "unload drive %u: no free storage slot", m.a);
	}
	if ((r = drive_set_media(c, m.a, NULL, d->label, err)) < 0)
		return r;
	memcpy(s->slots[to - 1], d->label, sizeof(d->label));
	d->label[0] = 0;
	d->from_slot = 0;
	*m.to = to;
	return 0;
}

static int vc_unload(void *priv, unsigned drivenum, unsigned slot, unsigned *to_slot, tp_err *err)
{
	struct move_arg m = { drivenum, slot, to_slot, NULL };
	return with_state(priv, do_unload, &m, 1, err);
}

static int do_transfer(vc_changer *c, vc_state *s, void *arg, tp_err *err)
{
	struct move_arg *m = arg;
	int r;
	if ((r = check_slot(c, m->a, "source", err)) < 0 || (r = check_slot(c, m->b, "target", err)) < 0)
		return r;
	if (!s->slots[m->a - 1][0])
		return tp_err_set(err, -ENOENT, "source slot %u is empty", m->a);
	if (m->a == m->b)
		return 0;
	if (s->slots[m->b - 1][0])
		return tp_err_set(err, -EBUSY, "target slot %u is full ('%s')", m->b, s->slots[m->b - 1]);
	memcpy(s->slots[m->b - 1], s->slots[m->a - 1], sizeof(s->slots[0]));
	s->slots[m->a - 1][0] = 0;
	return 0;
}

static int vc_transfer(void *priv, unsigned from, unsigned to, tp_err *err)
{
	struct move_arg m = { from, to, NULL, NULL };
	return with_state(priv, do_transfer, &m, 1, err);
}

static int do_insert(vc_changer *c, vc_state *s, void *arg, tp_err *err)
{
	struct move_arg *m = arg;
	int r;
	if ((r = tp_virtual_label_valid(m->label, err)) < 0)
		return r;
	if (find_anywhere(c, s, m->label))
		return tp_err_set(err, -TP_EEXISTS, "cartridge '%s' is already in the changer", m->label);
	unsigned to = m->a;
	if (to) {
		if ((r = check_slot(c, to, "target", err)) < 0)
			return r;
		if (s->slots[to - 1][0])
			return tp_err_set(err, -EBUSY, "slot %u is full ('%s')", to, s->slots[to - 1]);
	} else {
		/* mail slots first; a changer without them takes it into a storage slot */
		for (unsigned i = c->nslots; i < total_slots(c) && !to; i++)
			if (!s->slots[i][0])
				to = i + 1;
		for (unsigned i = 0; i < c->nslots && !to && !c->nie; i++)
			if (!s->slots[i][0])
				to = i + 1;
		if (!to)
			return tp_err_set(err, -ENOSPC, "insert '%s': no free %s slot", m->label,
					  c->nie ? "import/export" : "storage");
	}
	snprintf(s->slots[to - 1], sizeof(s->slots[0]), "%s", m->label);
	return 0;
}

static int vc_insert(void *priv, const char *label, unsigned slot, tp_err *err)
{
	struct move_arg m = { slot, 0, NULL, label };
	return with_state(priv, do_insert, &m, 1, err);
}

const tp_changer_ops tp_changer_virtual_ops = {
	.type = "virtual",
	.caps = TP_CHANGER_CAP_TRANSFER | TP_CHANGER_CAP_EXPORT | TP_CHANGER_CAP_INSERT | TP_CHANGER_CAP_BARCODES,
	.open = vc_open,
	.close = vc_close,
	.status = vc_status,
	.load = vc_load,
	.unload = vc_unload,
	.transfer = vc_transfer,
	.insert = vc_insert,
};
