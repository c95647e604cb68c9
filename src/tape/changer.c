/* Generic media changer layer: registry, label lookups, export, errors, move counters (see changer.h). */
#include "tape/changer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const tp_changer_ops tp_changer_virtual_ops;
extern const tp_changer_ops tp_changer_smc_ops;

static const tp_changer_ops *const registry[] = {
	&tp_changer_virtual_ops,
	&tp_changer_smc_ops,
};

static const char *const type_names[] = { "virtual", "scsi", NULL };

const tp_changer_ops *tp_changer_ops_lookup(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (!strcmp(registry[i]->type, type))
			return registry[i];
	return NULL;
}

const char *const *tp_changer_types(void)
{
	return type_names;
}

void tp_changer_status_free(tp_changer_status *st)
{
	free(st->drives);
	free(st->slots);
	memset(st, 0, sizeof(*st));
}

json_t *tp_changer_status_to_json(const tp_changer_status *st)
{
	json_t *o = json_object(), *dr = json_array(), *sl = json_array();
	if (!o || !dr || !sl) {
		json_decref(o);
		json_decref(dr);
		json_decref(sl);
		return NULL;
	}
	for (size_t i = 0; i < st->ndrives; i++) {
		const tp_changer_element *e = &st->drives[i];
		json_t *x = json_pack("{s:I,s:o,s:o}", "drive", (json_int_t)e->number, "label",
				      e->full && e->label[0] ? json_string(e->label) : json_null(), "from-slot",
				      e->from_slot ? json_integer(e->from_slot) : json_null());
		json_array_append_new(dr, x);
	}
	for (size_t i = 0; i < st->nslots; i++) {
		const tp_changer_element *e = &st->slots[i];
		json_t *x = json_pack("{s:I,s:b,s:o}", "slot", (json_int_t)e->number, "import-export",
				      e->kind == TP_CHANGER_IMPORT_EXPORT, "label",
				      e->full && e->label[0] ? json_string(e->label) : json_null());
		json_array_append_new(sl, x);
	}
	json_object_set_new(o, "drives", dr);
	json_object_set_new(o, "slots", sl);
	return o;
}

static int fail(tp_changer *c, int r, tp_err *e, tp_err *err)
{
	tp_err_wrap(e, r, "changer %s", c->name);
	c->last_err = *e;
	if (err)
		*err = *e;
	return r;
}

int tp_changer_open(const char *type, const char *name, const json_t *conf, tp_changer **out, tp_err *err)
{
	*out = NULL;
	const tp_changer_ops *ops = tp_changer_ops_lookup(type);
	if (!ops)
		return tp_err_set(err, -EINVAL, "changer %s: unknown changer type '%s'", name ? name : "",
				  type ? type : "");
	if (!name || strlen(name) > TP_DRIVE_NAME_MAX)
		return tp_err_set(err, -EINVAL, "changer name missing or longer than %d characters", TP_DRIVE_NAME_MAX);
	tp_changer *c = calloc(1, sizeof(*c));
	if (!c)
		return tp_err_set(err, -ENOMEM, "changer %s: out of memory", name);
	c->ops = ops;
	snprintf(c->name, sizeof(c->name), "%s", name);
	tp_err e = { 0 };
	int r = ops->open(name, conf, &c->priv, &e);
	if (r < 0) {
		fail(c, r, &e, err);
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void tp_changer_close(tp_changer *c)
{
	if (!c)
		return;
	c->ops->close(c->priv);
	free(c);
}

int tp_changer_get_status(tp_changer *c, tp_changer_status *st, tp_err *err)
{
	memset(st, 0, sizeof(*st));
	tp_err e = { 0 };
	int r = c->ops->status(c->priv, st, &e);
	if (r < 0) {
		tp_changer_status_free(st);
		return fail(c, r, &e, err);
	}
	return 0;
}

int tp_changer_load_slot(tp_changer *c, unsigned slot, unsigned drivenum, tp_err *err)
{
	tp_err e = { 0 };
	int r = c->ops->load(c->priv, slot, drivenum, &e);
	if (r < 0)
		return fail(c, r, &e, err);
	c->counters.loads++;
	c->counters.moves++;
	return 0;
}

int tp_changer_unload(tp_changer *c, unsigned drivenum, unsigned slot, unsigned *to_slot, tp_err *err)
{
	tp_err e = { 0 };
	unsigned to = 0;
	int r = c->ops->unload(c->priv, drivenum, slot, &to, &e);
	if (r < 0)
		return fail(c, r, &e, err);
	if (to_slot)
		*to_slot = to;
	c->counters.unloads++;
	c->counters.moves++;
	return 0;
}

int tp_changer_transfer(tp_changer *c, unsigned from, unsigned to, tp_err *err)
{
	tp_err e = { 0 };
	if (!(c->ops->caps & TP_CHANGER_CAP_TRANSFER)) {
		tp_err_set(&e, -ENOTSUP, "transfer is not supported by changer type '%s'", c->ops->type);
		return fail(c, -ENOTSUP, &e, err);
	}
	int r = c->ops->transfer(c->priv, from, to, &e);
	if (r < 0)
		return fail(c, r, &e, err);
	c->counters.transfers++;
	c->counters.moves++;
	return 0;
}

int tp_changer_insert(tp_changer *c, const char *label, unsigned slot, tp_err *err)
{
	tp_err e = { 0 };
	if (!(c->ops->caps & TP_CHANGER_CAP_INSERT)) {
		tp_err_set(&e, -ENOTSUP, "insert is not supported by changer type '%s' (put the cartridge in by hand)",
			   c->ops->type);
		return fail(c, -ENOTSUP, &e, err);
	}
	int r = c->ops->insert(c->priv, label, slot, &e);
	if (r < 0)
		return fail(c, r, &e, err);
	return 0;
}

/* Where is label: the kind and number of the element holding it; -TP_ENOTFOUND if nowhere. */
static int find_label(const tp_changer_status *st, const char *label, enum tp_changer_elem_kind *kind,
		      unsigned *number)
{
	for (size_t i = 0; i < st->ndrives; i++)
		if (st->drives[i].full && !strcmp(st->drives[i].label, label)) {
			*kind = TP_CHANGER_DRIVE;
			*number = st->drives[i].number;
			return 0;
		}
	for (size_t i = 0; i < st->nslots; i++)
		if (st->slots[i].full && !strcmp(st->slots[i].label, label)) {
			*kind = st->slots[i].kind;
			*number = st->slots[i].number;
			return 0;
		}
	return -TP_ENOTFOUND;
}

int tp_changer_status_has_label(const tp_changer_status *st, const char *label)
{
	enum tp_changer_elem_kind kind;
	unsigned num;
	return find_label(st, label, &kind, &num) == 0;
}

int tp_changer_has_label(tp_changer *c, const char *label, tp_err *err)
{
	tp_changer_status st;
	int r = tp_changer_get_status(c, &st, err);
	if (r < 0)
		return r;
	r = tp_changer_status_has_label(&st, label);
	tp_changer_status_free(&st);
	return r;
}

int tp_changer_load_label(tp_changer *c, const char *label, unsigned drivenum, tp_err *err)
{
	tp_changer_status st;
	int r = tp_changer_get_status(c, &st, err);
	if (r < 0)
		return r;
	enum tp_changer_elem_kind kind;
	unsigned num;
	tp_err e = { 0 };
	if (find_label(&st, label, &kind, &num) < 0) {
		r = tp_err_set(&e, -TP_ENOTFOUND, "no cartridge '%s' in the changer", label);
	} else if (kind == TP_CHANGER_DRIVE) {
		if (num != drivenum)
			r = tp_err_set(&e, -EBUSY, "cartridge '%s' is in drive %u, not %u", label, num, drivenum);
		else
			r = 0;
	} else {
		tp_changer_status_free(&st);
		return tp_changer_load_slot(c, num, drivenum, err);
	}
	tp_changer_status_free(&st);
	return r < 0 ? fail(c, r, &e, err) : 0;
}

int tp_changer_export(tp_changer *c, const char *label, unsigned *to_slot, tp_err *err)
{
	tp_changer_status st;
	int r = tp_changer_get_status(c, &st, err);
	if (r < 0)
		return r;
	enum tp_changer_elem_kind kind;
	unsigned num, ie = 0;
	tp_err e = { 0 };
	for (size_t i = 0; i < st.nslots && !ie; i++)
		if (st.slots[i].kind == TP_CHANGER_IMPORT_EXPORT && !st.slots[i].full)
			ie = st.slots[i].number;
	if (find_label(&st, label, &kind, &num) < 0) {
		r = tp_err_set(&e, -TP_ENOTFOUND, "export: no cartridge '%s' in the changer", label);
		goto out;
	}
	if (kind == TP_CHANGER_IMPORT_EXPORT) {
		if (to_slot)
			*to_slot = num; /* already there */
		r = 0;
		goto out;
	}
	if (!ie) {
		r = tp_err_set(&e, -ENOSPC, "export '%s': no free import/export slot", label);
		goto out;
	}
	if (kind == TP_CHANGER_DRIVE) {
		/* straight from the drive into the mail slot */
		tp_changer_status_free(&st);
		r = tp_changer_unload(c, num, ie, NULL, err);
		if (r == 0 && to_slot)
			*to_slot = ie;
		return r;
	}
	tp_changer_status_free(&st);
	r = tp_changer_transfer(c, num, ie, err);
	if (r == 0 && to_slot)
		*to_slot = ie;
	return r;
out:
	tp_changer_status_free(&st);
	return r < 0 ? fail(c, r, &e, err) : 0;
}
