/* Tape inventory, media sets and tape locks (see inventory.h). */
#include "tape/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/paths.h"

#define INVENTORY_MAX (64u << 20)
#define INVENTORY_ENTRIES_MAX 1000000

static const char *const status_names[] = {
	[TP_MEDIA_UNKNOWN] = "unknown", [TP_MEDIA_WRITABLE] = "writable", [TP_MEDIA_FULL] = "full",
	[TP_MEDIA_DAMAGED] = "damaged", [TP_MEDIA_RETIRED] = "retired",
};

const char *tp_media_status_name(enum tp_media_status s)
{
	return (unsigned)s <= TP_MEDIA_RETIRED ? status_names[s] : "unknown";
}

int tp_media_status_parse(const char *s, enum tp_media_status *out)
{
	for (int i = 0; i <= TP_MEDIA_RETIRED; i++) {
		if (!strcmp(s, status_names[i])) {
			*out = (enum tp_media_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

void tp_media_location_text(const tp_media_location *l, char out[80])
{
	if (l->kind == TP_LOC_ONLINE)
		snprintf(out, 80, "online-%s", l->name);
	else if (l->kind == TP_LOC_VAULT)
		snprintf(out, 80, "vault-%s", l->name);
	else
		snprintf(out, 80, "offline");
}

int tp_media_location_parse(const char *s, tp_media_location *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *name = NULL;
	if (!strcmp(s, "offline")) {
		out->kind = TP_LOC_OFFLINE;
		return 0;
	}
	if (!strncmp(s, "online-", 7)) {
		out->kind = TP_LOC_ONLINE;
		name = s + 7;
	} else if (!strncmp(s, "vault-", 6)) {
		out->kind = TP_LOC_VAULT;
		name = s + 6;
	} else {
		return tp_err_set(err, -EINVAL, "invalid media location '%.80s' (offline, online-CHANGER, vault-NAME)", s);
	}
	size_t n = strlen(name);
	int okc = n > 0 && n <= TP_MEDIA_LOCATION_MAX;
	for (size_t i = 0; okc && i < n; i++)
		okc = (unsigned char)name[i] >= 0x20 && name[i] != '/';
	if (!okc)
		return tp_err_set(err, -EINVAL, "invalid media location '%.80s': bad name", s);
	memcpy(out->name, name, n + 1);
	return 0;
}

/* ---- load / save ---- */

static int cmp_entry(const void *a, const void *b)
{
	return memcmp(((const tp_inventory_entry *)a)->label.uuid, ((const tp_inventory_entry *)b)->label.uuid, 16);
}

static int entry_from_json(const json_t *j, size_t idx, const char *path, tp_inventory_entry *e, tp_err *err)
{
	memset(e, 0, sizeof(*e));
	json_t *id = json_object_get(j, "id");
	int r;
	if (!json_is_object(j) || !json_is_object(id))
		return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu: missing \"id\" object", path, idx);
	if ((r = tp_media_label_from_json(json_object_get(id, "label"), &e->label, err)) < 0)
		return tp_err_wrap(err, r, "%s: entry %zu", path, idx);
	json_t *set = json_object_get(id, "media_set_label");
	if (set && !json_is_null(set)) {
		if ((r = tp_media_set_label_from_json(set, &e->set, err)) < 0)
			return tp_err_wrap(err, r, "%s: entry %zu (%s)", path, idx, e->label.label_text);
		tp_media_set_label_clear(&e->set);
		e->has_set = 1;
	}
	json_t *v = json_object_get(j, "location");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || tp_media_location_parse(json_string_value(v), &e->location, err) < 0)
			return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu (%s): invalid \"location\"", path, idx,
					  e->label.label_text);
		e->has_location = 1;
	}
	v = json_object_get(j, "status");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) || tp_media_status_parse(json_string_value(v), &e->status) < 0)
			return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu (%s): invalid \"status\"", path, idx,
					  e->label.label_text);
		e->has_status = 1;
	}
	v = json_object_get(j, "bytes_used");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu (%s): invalid \"bytes_used\"", path, idx,
					  e->label.label_text);
		e->bytes_used = (uint64_t)json_integer_value(v);
		e->has_bytes_used = 1;
	}
	return 0;
}

static json_t *entry_to_json(const tp_inventory_entry *e)
{
	json_t *o = json_object(), *id = json_object();
	json_t *label = tp_media_label_to_json(&e->label);
	int bad = !o || !id || !label;
	if (!bad)
		bad = json_object_set_new(id, "label", label) < 0;
	else
		json_decref(label);
	if (!bad && e->has_set)
		bad = json_object_set_new(id, "media_set_label", tp_media_set_label_to_json(&e->set)) < 0;
	if (!bad) {
		bad = json_object_set(o, "id", id) < 0;
	}
	json_decref(id);
	if (!bad && e->has_location) {
		char loc[80];
		tp_media_location_text(&e->location, loc);
		bad = json_object_set_new(o, "location", json_string(loc)) < 0;
	}
	if (!bad && e->has_status)
		bad = json_object_set_new(o, "status", json_string(tp_media_status_name(e->status))) < 0;
	if (!bad && e->has_bytes_used)
		bad = json_object_set_new(o, "bytes_used", json_integer((json_int_t)e->bytes_used)) < 0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int tp_inventory_reload(tp_inventory *inv, tp_err *err)
{
	free(inv->e);
	inv->e = NULL;
	inv->n = 0;
	if (!tp_path_exists(inv->path))
		return 0;
	json_t *j = tp_json_load_file(inv->path, INVENTORY_MAX, err);
	if (!j)
		return err ? err->code : -EIO;
	int r = 0;
	tp_inventory_entry *list = NULL;
	if (!json_is_array(j)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: not a JSON array", inv->path);
		goto out;
	}
	size_t n = json_array_size(j);
	if (n > INVENTORY_ENTRIES_MAX) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: %zu entries (more than %d)", inv->path, n, INVENTORY_ENTRIES_MAX);
		goto out;
	}
	if (n && !(list = calloc(n, sizeof(*list)))) {
		r = tp_err_set(err, -ENOMEM, "out of memory loading %s", inv->path);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = entry_from_json(json_array_get(j, i), i, inv->path, &list[i], err)) < 0)
			goto out;
	qsort(list, n, sizeof(*list), cmp_entry);
	for (size_t i = 1; i < n; i++) {
		if (!memcmp(list[i - 1].label.uuid, list[i].label.uuid, 16)) {
			char u[37];
			tp_uuid_unparse(list[i].label.uuid, u);
			r = tp_err_set(err, -TP_EFORMAT, "%s: media %s is listed twice", inv->path, u);
			goto out;
		}
	}
	inv->e = list;
	inv->n = n;
	list = NULL;
out:
	free(list);
	json_decref(j);
	return r;
}

static int save(tp_inventory *inv, tp_err *err)
{
	json_t *arr = json_array();
	if (!arr)
		return tp_err_set(err, -ENOMEM, "out of memory saving %s", inv->path);
	int r = 0;
	for (size_t i = 0; i < inv->n; i++) {
		json_t *o = entry_to_json(&inv->e[i]);
		if (!o || json_array_append_new(arr, o) < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory saving %s", inv->path);
			goto out;
		}
	}
	r = tp_json_save_file(inv->path, arr, 0640, err);
out:
	json_decref(arr);
	return r;
}

int tp_inventory_open(tp_inventory *inv, const char *dir, const char *owner, tp_err *err)
{
	memset(inv, 0, sizeof(*inv));
	inv->lock_timeout_ms = TP_TAPE_LOCK_TIMEOUT_MS;
	if (owner)
		snprintf(inv->owner, sizeof(inv->owner), "%s", owner);
	else
		snprintf(inv->owner, sizeof(inv->owner), "tapir pid %ld", (long)getpid());
	inv->dir = dir ? strdup(dir) : tp_state_path("");
	inv->path = inv->dir ? tp_path_join(inv->dir, "inventory.json") : NULL;
	if (!inv->dir || !inv->path) {
		tp_inventory_close(inv);
		return tp_err_set(err, -ENOMEM, "out of memory opening the inventory");
	}
	int r = tp_mkdir_p(inv->dir, 0700, err);
	if (r == 0)
		r = tp_inventory_reload(inv, err);
	if (r < 0)
		tp_inventory_close(inv);
	return r;
}

void tp_inventory_close(tp_inventory *inv)
{
	free(inv->e);
	free(inv->path);
	free(inv->dir);
	inv->e = NULL;
	inv->path = inv->dir = NULL;
	inv->n = 0;
}

/* ---- locks ---- */

static int lock_named(tp_inventory *inv, const char *file, const char *what, int timeout_ms, tp_lock *l,
		      tp_err *err)
{
	char *p = tp_path_join(inv->dir, file);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, timeout_ms < 0 ? TP_TAPE_LOCK_TIMEOUT_MS : timeout_ms,
			     inv->owner, what, err);
	free(p);
	return r;
}

int tp_inventory_lock(tp_inventory *inv, int timeout_ms, tp_lock *l, tp_err *err)
{
	return lock_named(inv, ".inventory.lck", "tape inventory", timeout_ms, l, err);
}

int tp_inventory_lock_pool(tp_inventory *inv, const char *pool, int timeout_ms, tp_lock *l, tp_err *err)
{
	char file[TP_POOL_NAME_MAX + 16], what[TP_POOL_NAME_MAX + 32];
	if (pool && tp_pool_valid_name(pool, err) < 0)
		return err ? err->code : -EINVAL;
	snprintf(file, sizeof(file), ".pool-%s.lck", pool ? pool : "__UNASSIGNED__");
	if (pool)
		snprintf(what, sizeof(what), "media pool '%s'", pool);
	else
		snprintf(what, sizeof(what), "unassigned media");
	return lock_named(inv, file, what, timeout_ms, l, err);
}

int tp_inventory_lock_media_set(tp_inventory *inv, const uint8_t set[16], int timeout_ms, tp_lock *l, tp_err *err)
{
	char u[37], file[64], what[64];
	tp_uuid_unparse(set, u);
	snprintf(file, sizeof(file), ".media-set-%s.lck", u);
	snprintf(what, sizeof(what), "media set %s", u);
	return lock_named(inv, file, what, timeout_ms, l, err);
}

/* ---- lookups ---- */

static tp_inventory_entry *find_mut(const tp_inventory *inv, const uint8_t uuid[16])
{
	size_t lo = 0, hi = inv->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(inv->e[mid].label.uuid, uuid, 16);
		if (c == 0)
			return &inv->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const tp_inventory_entry *tp_inventory_find(const tp_inventory *inv, const uint8_t uuid[16])
{
	return find_mut(inv, uuid);
}

const tp_inventory_entry *tp_inventory_find_label(const tp_inventory *inv, const char *label_text)
{
	for (size_t i = 0; i < inv->n; i++)
		if (!strcmp(inv->e[i].label.label_text, label_text))
			return &inv->e[i];
	return NULL;
}

const char *tp_inventory_entry_pool(const tp_inventory_entry *e)
{
	if (e->has_set && e->set.pool[0])
		return e->set.pool;
	return e->label.pool[0] ? e->label.pool : NULL;
}

int tp_inventory_entry_in_set(const tp_inventory_entry *e)
{
	return e->has_set && !tp_uuid_is_zero(e->set.uuid);
}

/* ---- mutations: lock -> reload -> change -> write ---- */

typedef int (*change_fn)(tp_inventory *inv, const void *arg, tp_err *err);

static int mutate(tp_inventory *inv, change_fn fn, const void *arg, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	int r = tp_inventory_lock(inv, inv->lock_timeout_ms, &l, err);
	if (r < 0)
		return r;
	if ((r = tp_inventory_reload(inv, err)) == 0 && (r = fn(inv, arg, err)) == 0)
		r = save(inv, err);
	tp_lock_release(&l);
	return r;
}

struct store_arg {
	tp_media_label label;      /* copies, see field_arg */
	tp_media_set_label set;
	int has_set;
	int clear_status;
};

static int do_store(tp_inventory *inv, const void *argp, tp_err *err)
{
	const struct store_arg *a = argp;
	tp_inventory_entry ne;
	memset(&ne, 0, sizeof(ne));
	ne.label = a->label;
	if (a->has_set) {
		ne.set = a->set;
		ne.set.key_config = NULL;
		ne.has_set = 1;
	}
	tp_inventory_entry *old = find_mut(inv, a->label.uuid);
	if (old) {
		if (!ne.has_set && old->has_set && tp_uuid_is_zero(old->set.uuid)) {
			ne.set = old->set;
			ne.has_set = 1;
		}
		ne.has_location = old->has_location;
		ne.location = old->location;
		ne.has_bytes_used = old->has_bytes_used;
		ne.bytes_used = old->bytes_used;
		if (!a->clear_status) {
			ne.has_status = old->has_status;
			ne.status = old->status;
		}
		*old = ne;
		return 0;
	}
	if (inv->n >= INVENTORY_ENTRIES_MAX)
		return tp_err_set(err, -ENOSPC, "%s: too many tapes", inv->path);
	tp_inventory_entry *n = realloc(inv->e, (inv->n + 1) * sizeof(*n));
	if (!n)
		return tp_err_set(err, -ENOMEM, "out of memory");
	inv->e = n;
	size_t pos = 0;
	while (pos < inv->n && memcmp(inv->e[pos].label.uuid, ne.label.uuid, 16) < 0)
		pos++;
	memmove(&inv->e[pos + 1], &inv->e[pos], (inv->n - pos) * sizeof(*n));
	inv->e[pos] = ne;
	inv->n++;
	return 0;
}

int tp_inventory_store(tp_inventory *inv, const tp_media_label *label, const tp_media_set_label *set,
		       int clear_status, tp_err *err)
{
	if (!label->label_text[0])
		return tp_err_set(err, -EINVAL, "inventory: tape without label text");
	struct store_arg a;
	memset(&a, 0, sizeof(a));
	a.label = *label;
	if (set) {
		a.set = *set;
		a.set.key_config = NULL;
		a.has_set = 1;
	}
	a.clear_status = clear_status;
	return mutate(inv, do_store, &a, err);
}

struct field_arg {
	uint8_t uuid[16];         /* a copy: callers pass pointers into inv->e, which reload frees */
	int which;               /* 0 status, 1 clear status, 2 location, 3 bytes, 4 remove */
	enum tp_media_status status;
	tp_media_location loc;
	uint64_t bytes;
};

static int do_field(tp_inventory *inv, const void *argp, tp_err *err)
{
	const struct field_arg *a = argp;
	tp_inventory_entry *e = find_mut(inv, a->uuid);
	if (!e) {
		char u[37];
		tp_uuid_unparse(a->uuid, u);
		return tp_err_set(err, -TP_ENOTFOUND, "media %s is not in the inventory", u);
	}
	switch (a->which) {
	case 0:
		e->status = a->status;
		e->has_status = 1;
		break;
	case 1:
		e->has_status = 0;
		e->status = TP_MEDIA_UNKNOWN;
		break;
	case 2:
		e->location = a->loc;
		e->has_location = 1;
		break;
	case 3:
		e->bytes_used = a->bytes;
		e->has_bytes_used = 1;
		break;
	default: {
		size_t i = (size_t)(e - inv->e);
		memmove(&inv->e[i], &inv->e[i + 1], (inv->n - i - 1) * sizeof(*e));
		inv->n--;
	}
	}
	return 0;
}

int tp_inventory_set_status(tp_inventory *inv, const uint8_t uuid[16], enum tp_media_status status, tp_err *err)
{
	struct field_arg a = { .which = 0, .status = status };
	memcpy(a.uuid, uuid, 16);
	return mutate(inv, do_field, &a, err);
}

int tp_inventory_clear_status(tp_inventory *inv, const uint8_t uuid[16], tp_err *err)
{
	struct field_arg a = { .which = 1 };
	memcpy(a.uuid, uuid, 16);
	return mutate(inv, do_field, &a, err);
}

int tp_inventory_set_location(tp_inventory *inv, const uint8_t uuid[16], const tp_media_location *loc,
			      tp_err *err)
{
	struct field_arg a = { .which = 2, .loc = *loc };
	memcpy(a.uuid, uuid, 16);
	return mutate(inv, do_field, &a, err);
}

int tp_inventory_set_bytes_used(tp_inventory *inv, const uint8_t uuid[16], uint64_t bytes, tp_err *err)
{
	struct field_arg a = { .which = 3, .bytes = bytes };
	memcpy(a.uuid, uuid, 16);
	return mutate(inv, do_field, &a, err);
}

int tp_inventory_remove(tp_inventory *inv, const uint8_t uuid[16], tp_err *err)
{
	struct field_arg a = { .which = 4 };
	memcpy(a.uuid, uuid, 16);
	return mutate(inv, do_field, &a, err);
}

/* ---- media sets ---- */

int tp_inventory_media_set(const tp_inventory *inv, const uint8_t set[16], tp_media_set *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->uuid, set, 16);
	out->start_time = -1;
	uint64_t max = 0;
	size_t count = 0;
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		if (!e->has_set || memcmp(e->set.uuid, set, 16))
			continue;
		if (count == 0 || e->set.seq_nr > max)
			max = e->set.seq_nr;
		count++;
	}
	char u[37];
	tp_uuid_unparse(set, u);
	if (count == 0)
		return tp_err_set(err, -TP_ENOTFOUND, "media set %s is not in the inventory", u);
	if (max >= INVENTORY_ENTRIES_MAX)
		return tp_err_set(err, -TP_EFORMAT, "media set %s: sequence number %llu out of range", u,
				  (unsigned long long)max);
	out->n = (size_t)max + 1;
	out->members = calloc(out->n, 16);
	out->present = calloc(out->n, 1);
	if (!out->members || !out->present) {
		tp_media_set_free(out);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		if (!e->has_set || memcmp(e->set.uuid, set, 16))
			continue;
		if (out->present[e->set.seq_nr]) {
			char a[37], b[37];
			tp_uuid_unparse(out->members[e->set.seq_nr], a);
			tp_uuid_unparse(e->label.uuid, b);
			int r = tp_err_set(err, -TP_EFORMAT, "media set %s: tapes %s and %s both claim sequence number %llu",
					   u, a, b, (unsigned long long)e->set.seq_nr);
			tp_media_set_free(out);
			return r;
		}
		memcpy(out->members[e->set.seq_nr], e->label.uuid, 16);
		out->present[e->set.seq_nr] = 1;
		if (e->set.seq_nr == 0)
			out->start_time = e->set.ctime;
		snprintf(out->pool, sizeof(out->pool), "%s", e->set.pool);
	}
	out->complete = 1;
	for (size_t s = 0; s < out->n; s++)
		if (!out->present[s])
			out->complete = 0;
	return 0;
}

void tp_media_set_free(tp_media_set *ms)
{
	free(ms->members);
	free(ms->present);
	ms->members = NULL;
	ms->present = NULL;
	ms->n = 0;
}

int tp_inventory_set_start_time(const tp_inventory *inv, const uint8_t set[16], int64_t *t)
{
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		if (e->has_set && e->set.seq_nr == 0 && !memcmp(e->set.uuid, set, 16)) {
			*t = e->set.ctime;
			return 0;
		}
	}
	return -TP_ENOTFOUND;
}

struct set_info {
	uint8_t uuid[16];
	int64_t start;
	int has_seq0;
};

static int cmp_set_info(const void *a, const void *b)
{
	const struct set_info *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return memcmp(x->uuid, y->uuid, 16);
}

int tp_inventory_list_sets(const tp_inventory *inv, const char *pool, uint8_t (**out)[16], size_t *n, tp_err *err)
{
	*out = NULL;
	*n = 0;
	struct set_info *s = inv->n ? calloc(inv->n, sizeof(*s)) : NULL;
	if (inv->n && !s)
		return tp_err_set(err, -ENOMEM, "out of memory");
	size_t cnt = 0;
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		if (!tp_inventory_entry_in_set(e) || (pool && strcmp(e->set.pool, pool)))
			continue;
		size_t k;
		for (k = 0; k < cnt; k++)
			if (!memcmp(s[k].uuid, e->set.uuid, 16))
				break;
		if (k == cnt) {
			memcpy(s[cnt].uuid, e->set.uuid, 16);
			s[cnt].start = INT64_MAX;
			cnt++;
		}
		/* start = seq 0 ctime; a set missing seq 0 sorts by its oldest label */
		if (e->set.seq_nr == 0) {
			s[k].start = e->set.ctime;
			s[k].has_seq0 = 1;
		} else if (!s[k].has_seq0 && e->set.ctime < s[k].start) {
			s[k].start = e->set.ctime;
		}
	}
	qsort(s, cnt, sizeof(*s), cmp_set_info);
	uint8_t(*list)[16] = cnt ? malloc(cnt * 16) : NULL;
	if (cnt && !list) {
		free(s);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t k = 0; k < cnt; k++)
		memcpy(list[k], s[k].uuid, 16);
	free(s);
	*out = list;
	*n = cnt;
	return 0;
}

int tp_inventory_latest_set(const tp_inventory *inv, const char *pool, uint8_t out[16])
{
	const tp_inventory_entry *best = NULL;
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		if (!tp_inventory_entry_in_set(e) || strcmp(e->set.pool, pool))
			continue;
		if (!best || e->set.ctime > best->set.ctime)
			best = e;
	}
	if (!best)
		return 0;
	/* another set with a label at least as new: ambiguous, as PBS */
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		if (tp_inventory_entry_in_set(e) && !strcmp(e->set.pool, pool) &&
		    memcmp(e->set.uuid, best->set.uuid, 16) && e->set.ctime >= best->set.ctime)
			return 0;
	}
	memcpy(out, best->set.uuid, 16);
	return 1;
}

int tp_inventory_set_next_start_time(const tp_inventory *inv, const uint8_t set[16], int64_t *t)
{
	int64_t start;
	if (tp_inventory_set_start_time(inv, set, &start) < 0)
		return 0;
	const char *pool = NULL;
	for (size_t i = 0; i < inv->n && !pool; i++)
		if (inv->e[i].has_set && !memcmp(inv->e[i].set.uuid, set, 16))
			pool = inv->e[i].set.pool;
	int found = 0;
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *e = &inv->e[i];
		if (!tp_inventory_entry_in_set(e) || e->set.seq_nr != 0 || strcmp(e->set.pool, pool) ||
		    !memcmp(e->set.uuid, set, 16) || e->set.ctime <= start)
			continue;
		if (!found || e->set.ctime < *t)
			*t = e->set.ctime;
		found = 1;
	}
	return found;
}

int64_t tp_inventory_expire_time(const tp_inventory *inv, const tp_inventory_entry *e, const tp_pool_config *cfg)
{
	if (cfg->retention == TP_POOL_RETAIN_KEEP || !tp_inventory_entry_in_set(e))
		return INT64_MAX;
	int64_t start, next, max_use;
	if (tp_inventory_set_start_time(inv, e->set.uuid, &start) < 0)
		return INT64_MAX;
	if (tp_inventory_set_next_start_time(inv, e->set.uuid, &next)) {
		max_use = cfg->allocation == TP_POOL_ALLOC_ALWAYS ? start : next;
	} else if (cfg->allocation == TP_POOL_ALLOC_CONTINUE) {
		return INT64_MAX;
	} else if (cfg->allocation == TP_POOL_ALLOC_ALWAYS) {
		max_use = start;
	} else if (tp_calendar_next(&cfg->event, start, 0, &max_use, NULL) < 0) {
		return INT64_MAX;
	}
	if (cfg->retention == TP_POOL_RETAIN_OVERWRITE)
		return max_use;
	if (cfg->retention_secs > INT64_MAX - max_use)
		return INT64_MAX;
	return max_use + cfg->retention_secs;
}

enum tp_media_status tp_inventory_media_status(const tp_inventory *inv, const tp_inventory_entry *e,
					       const uint8_t *current_set)
{
	if (e->has_status && (e->status == TP_MEDIA_FULL || e->status == TP_MEDIA_DAMAGED ||
			      e->status == TP_MEDIA_RETIRED))
		return e->status;
	if (!tp_inventory_entry_in_set(e))
		return TP_MEDIA_WRITABLE;
	uint8_t latest[16];
	if (!current_set) {
		if (!tp_inventory_latest_set(inv, e->set.pool, latest))
			return TP_MEDIA_FULL;
		current_set = latest;
	}
	if (memcmp(e->set.uuid, current_set, 16))
		return TP_MEDIA_FULL;
	for (size_t i = 0; i < inv->n; i++) {
		const tp_inventory_entry *o = &inv->e[i];
		if (o->has_set && !memcmp(o->set.uuid, e->set.uuid, 16) && o->set.seq_nr > e->set.seq_nr)
			return TP_MEDIA_FULL;
	}
	return TP_MEDIA_WRITABLE;
}
