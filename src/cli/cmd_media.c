/* `tapir media list|content|destroy` and `tapir media-set list`: tapes, their sets and catalogued content. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tape/catalog_db.h"
#include "tape/inventory.h"
#include "tape/pool_config.h"

/* The pool's config, or NULL when the pool is not configured (removed). */
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
	if (!o)
		return NULL;
	const char *pool = tp_inventory_entry_pool(e);
	if (pool)
		json_object_set_new(o, "pool", json_string(pool));
	if (tp_inventory_entry_in_set(e)) {
		char su[37];
		tp_uuid_unparse(e->set.uuid, su);
		json_object_set_new(o, "media-set-uuid", json_string(su));
		json_object_set_new(o, "seq-nr", json_integer((json_int_t)e->set.seq_nr));
		int64_t start;
		if (tp_inventory_set_start_time(inv, e->set.uuid, &start) == 0)
			json_object_set_new(o, "media-set-ctime", json_integer(start));
		tp_pool_config cbuf;
		const tp_pool_config *cfg = pool_of(e->set.pool, &cbuf);
		if (cfg) {
			char name[256];
			tp_pool_media_set_name(cfg, e->set.uuid, tp_inventory_set_start_time(inv, e->set.uuid, &start) == 0 ? start : e->set.ctime,
					       name, sizeof(name));
			json_object_set_new(o, "media-set-name", json_string(name));
			int64_t exp = tp_inventory_expire_time(inv, e, cfg);
			int expired = st == TP_MEDIA_FULL && now >= exp;
			json_object_set_new(o, "expired", json_boolean(expired));
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

static int media_list(const tp_args *a, tp_err *err)
{
	const char *pool = tp_args_get(a, "pool");
	tp_inventory inv;
	int r = tp_inventory_open(&inv, NULL, NULL, err);
	if (r < 0)
		return r;
	int64_t now = tp_now();
	json_t *arr = json_array();
	/* sorted by pool, set start, seq, label */
	for (size_t i = 0; i < inv.n; i++) {
		const tp_inventory_entry *e = &inv.e[i];
		const char *p = tp_inventory_entry_pool(e);
		if (pool && (!p || strcmp(p, pool)))
			continue;
		json_t *row = media_row(&inv, e, now);
		if (!row || json_array_append_new(arr, row) < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (a->out == TP_OUT_TEXT) {
		printf("%-16s %-36s %-12s %-36s %-4s %-9s %-16s %s\n", "label-text", "uuid", "pool", "media-set", "seq",
		       "status", "location", "expire-time");
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v) {
			const char *set = tp_json_opt_str(v, "media-set-uuid");
			char seq[24] = "-";
			if (set)
				snprintf(seq, sizeof(seq), "%lld", (long long)tp_json_opt_int(v, "seq-nr", 0));
			const char *exp = tp_json_opt_str(v, "expire-time");
			printf("%-16s %-36s %-12s %-36s %-4s %-9s %-16s %s%s\n", tp_json_opt_str(v, "label-text"),
			       tp_json_opt_str(v, "uuid"), tp_json_opt_str(v, "pool") ? tp_json_opt_str(v, "pool") : "-",
			       set ? set : "-", seq, tp_json_opt_str(v, "status"), tp_json_opt_str(v, "location"),
			       exp ? exp : "never", json_is_true(json_object_get(v, "expired")) ? " (expired)" : "");
		}
		json_decref(arr);
	} else {
		tp_print_json(a, arr);
	}
	arr = NULL;
out:
	json_decref(arr);
	tp_inventory_close(&inv);
	return r;
}

struct content_ctx {
	tp_catalog_db *db;
	const char *pool;
	json_t *arr;
	tp_err *err;
};

static int content_cb(void *ctxp, const tp_snapshot_loc *s)
{
	struct content_ctx *c = ctxp;
	char pool[65];
	int64_t set_ctime;
	if (tp_catalog_get_media_set(c->db, s->media_set, pool, &set_ctime, c->err) < 0)
		return c->err->code;
	if (c->pool && strcmp(pool, c->pool))
		return 0;
	tp_catalog_media m;
	if (tp_catalog_get_media(c->db, s->media, &m, c->err) < 0)
		return c->err->code;
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
	if (!o || json_array_append_new(c->arr, o) < 0)
		return tp_err_set(c->err, -ENOMEM, "out of memory");
	return 0;
}

static int media_content(const tp_args *a, tp_err *err)
{
	const char *set_text = tp_args_get(a, "media-set");
	uint8_t set[16];
	if (set_text && tp_uuid_parse(set_text, set) < 0)
		return tp_err_set(err, -EINVAL, "--media-set: '%s' is not a UUID", set_text);
	const char *pool = tp_args_get(a, "pool");
	if (pool && tp_pool_valid_name(pool, err) < 0)
		return err->code;
	tp_catalog_db *db;
	int r = tp_catalog_open(&db, NULL, err);
	if (r < 0)
		return r;
	struct content_ctx c = { db, pool, json_array(), err };
	r = tp_catalog_list_snapshots(db, set_text ? set : NULL, NULL, NULL, content_cb, &c, err);
	tp_catalog_close(db);
	if (r < 0) {
		json_decref(c.arr);
		return r;
	}
	if (a->out == TP_OUT_TEXT) {
		printf("%-16s %-4s %-12s %-36s %-5s %-16s %s\n", "label-text", "seq", "pool", "media-set", "file", "store",
		       "snapshot");
		size_t i;
		json_t *v;
		json_array_foreach(c.arr, i, v)
			printf("%-16s %-4lld %-12s %-36s %-5lld %-16s %s\n", tp_json_opt_str(v, "label-text"),
			       (long long)tp_json_opt_int(v, "seq-nr", 0), tp_json_opt_str(v, "pool"),
			       tp_json_opt_str(v, "media-set-uuid"), (long long)tp_json_opt_int(v, "file-nr", 0),
			       tp_json_opt_str(v, "store"), tp_json_opt_str(v, "snapshot"));
		json_decref(c.arr);
	} else {
		tp_print_json(a, c.arr);
	}
	return 0;
}

static int media_destroy(const tp_args *a, tp_err *err)
{
	const char *which = a->pos[0];
	tp_inventory inv;
	int r = tp_inventory_open(&inv, NULL, NULL, err);
	if (r < 0)
		return r;
	uint8_t u[16];
	const tp_inventory_entry *e = tp_inventory_find_label(&inv, which);
	if (!e && tp_uuid_parse(which, u) == 0)
		e = tp_inventory_find(&inv, u);
	if (!e) {
		r = tp_err_set(err, -TP_ENOTFOUND, "media '%s' is not in the inventory", which);
		goto out;
	}
	tp_media_label label = e->label;
	if (tp_inventory_entry_in_set(e) && !tp_args_flag(a, "force")) {
		r = tp_err_set(err, -EBUSY, "media '%s' contains data of a media set (use --force to remove it anyway)",
			       label.label_text);
		goto out;
	}
	/* the catalog first: a tape left in the inventory without rows can be re-catalogued */
	tp_catalog_db *db;
	if ((r = tp_catalog_open(&db, NULL, err)) < 0)
		goto out;
	tp_err tmp = { 0 };
	r = tp_catalog_delete_media(db, label.uuid, 0, &tmp);
	tp_catalog_close(db);
	if (r < 0 && r != -TP_ENOTFOUND) {
		*err = tmp;
		goto out;
	}
	if ((r = tp_inventory_remove(&inv, label.uuid, err)) < 0)
		goto out;
	if (a->out == TP_OUT_TEXT)
		printf("removed media '%s'\n", label.label_text);
out:
	tp_inventory_close(&inv);
	return r;
}

int cmd_media(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "pool", "media-set", NULL };
	static const char *const flags[] = { "force", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir media list|content|destroy ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "list")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir media list [--pool P]", err)) < 0)
			return r;
		return media_list(&a, err);
	}
	if (!strcmp(sub, "content")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir media content [--pool P] [--media-set UUID]", err)) < 0)
			return r;
		return media_content(&a, err);
	}
	if (!strcmp(sub, "destroy")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir media destroy LABEL|UUID [--force]", err)) < 0)
			return r;
		return media_destroy(&a, err);
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'media %s' (list, content, destroy)", sub);
}

int cmd_media_set(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "pool", NULL };
	static const char *const flags[] = { NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir media-set list [--pool P]");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (strcmp(sub, "list"))
		return tp_err_set(err, -EINVAL, "unknown subcommand 'media-set %s' (list)", sub);
	if ((r = tp_args_need_pos(&a, 0, 0, "tapir media-set list [--pool P]", err)) < 0)
		return r;
	tp_inventory inv;
	if ((r = tp_inventory_open(&inv, NULL, NULL, err)) < 0)
		return r;
	uint8_t(*sets)[16] = NULL;
	size_t n = 0;
	json_t *arr = json_array();
	if ((r = tp_inventory_list_sets(&inv, tp_args_get(&a, "pool"), &sets, &n, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		tp_media_set ms;
		if ((r = tp_inventory_media_set(&inv, sets[i], &ms, err)) < 0)
			goto out;
		char su[37];
		tp_uuid_unparse(ms.uuid, su);
		json_t *tapes = json_array();
		for (size_t s = 0; s < ms.n; s++) {
			const tp_inventory_entry *e = ms.present[s] ? tp_inventory_find(&inv, ms.members[s]) : NULL;
			json_array_append_new(tapes, e ? json_string(e->label.label_text) : json_null());
		}
		json_t *o = json_pack("{s:s,s:s,s:o,s:b,s:I}", "media-set-uuid", su, "pool", ms.pool, "tapes", tapes,
				      "complete", ms.complete, "count", (json_int_t)ms.n);
		if (o && ms.start_time >= 0)
			json_object_set_new(o, "media-set-ctime", json_integer(ms.start_time));
		tp_pool_config cbuf;
		const tp_pool_config *cfg = pool_of(ms.pool, &cbuf);
		if (o && cfg && ms.start_time >= 0) {
			char name[256];
			tp_pool_media_set_name(cfg, ms.uuid, ms.start_time, name, sizeof(name));
			json_object_set_new(o, "media-set-name", json_string(name));
		}
		tp_media_set_free(&ms);
		if (!o || json_array_append_new(arr, o) < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (a.out == TP_OUT_TEXT) {
		printf("%-36s %-12s %-20s %-8s %s\n", "media-set", "pool", "start", "complete", "tapes");
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v) {
			char t[21] = "-";
			json_t *ct = json_object_get(v, "media-set-ctime");
			if (ct)
				tp_time_utc(json_integer_value(ct), t);
			printf("%-36s %-12s %-20s %-8s", tp_json_opt_str(v, "media-set-uuid"), tp_json_opt_str(v, "pool"), t,
			       json_is_true(json_object_get(v, "complete")) ? "yes" : "no");
			size_t k;
			json_t *tv;
			json_array_foreach(json_object_get(v, "tapes"), k, tv)
				printf("%s%s", k ? "," : " ", json_is_string(tv) ? json_string_value(tv) : "(missing)");
			printf("\n");
		}
	} else {
		tp_print_json(&a, arr);
		arr = NULL;
	}
out:
	json_decref(arr);
	free(sets);
	tp_inventory_close(&inv);
	return r;
}
