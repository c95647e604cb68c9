/* `tapir prune`: removes snapshots not selected by the keep-* options. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "store/datastore.h"
#include "store/prune.h"

static const char *mark_name(enum tp_prune_mark m)
{
	switch (m) {
	case TP_PRUNE_KEEP: return "keep";
	case TP_PRUNE_KEEP_PARTIAL: return "keep-partial";
	case TP_PRUNE_PROTECTED: return "protected";
	default: return "remove";
	}
}

int cmd_prune(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", "ns", "keep-last", "keep-hourly", "keep-daily",
					       "keep-weekly", "keep-monthly", "keep-yearly", NULL };
	static const char *const flags[] = { "dry-run", NULL };
	static const char *usage =
		"tapir prune --store S [--ns NS] [GROUP] [--keep-last N] [--keep-hourly N] [--keep-daily N] "
		"[--keep-weekly N] [--keep-monthly N] [--keep-yearly N] [--dry-run]";
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, flags, err);
	if (r < 0)
		return r;
	const char *store = tp_args_get(&a, "store");
	if (!store || a.npos > 1)
		return tp_err_set(err, -EINVAL, "usage: %s", usage);
	tp_prune_opts o = { 0 };
	unsigned long long v;
	const char *keys[] = { "keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly" };
	unsigned *dst[] = { &o.keep_last, &o.keep_hourly, &o.keep_daily, &o.keep_weekly, &o.keep_monthly, &o.keep_yearly };
	for (int i = 0; i < 6; i++) {
		if ((r = tp_args_u64(&a, keys[i], 0, 0, &v, err)) < 0)
			return r;
		if (v > 1000000)
			return tp_err_set(err, -EINVAL, "--%s: %llu is too large", keys[i], v);
		*dst[i] = (unsigned)v;
	}
	tp_snapshot_ref group;
	int have_group = a.npos == 1;
	if (have_group && (r = tp_group_ref_parse(a.pos[0], &group, err)) < 0)
		return r;
	const char *ns = tp_args_get(&a, "ns");
	if (have_group && ns && *ns)
		snprintf(group.ns, sizeof(group.ns), "%s", ns);
	int dry = tp_args_flag(&a, "dry-run");
	tp_datastore ds;
	if ((r = tp_datastore_open(&ds, store, err)) < 0)
		return r;
	tp_snapshot_list l;
	r = tp_datastore_list_snapshots(&ds, have_group ? group.ns : (ns ? ns : ""), 0, &l, err);
	if (r < 0)
		goto out;
	json_t *arr = json_array();
	size_t i = 0;
	while (i < l.n && r == 0) {
		size_t j = i;
		while (j < l.n && !strcmp(l.items[j].type, l.items[i].type) && !strcmp(l.items[j].id, l.items[i].id))
			j++;
		if (have_group && (strcmp(group.type, l.items[i].type) || strcmp(group.id, l.items[i].id))) {
			i = j;
			continue;
		}
		size_t n = j - i;
		tp_prune_item *it = calloc(n, sizeof(*it));
		if (!it) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		for (size_t k = 0; k < n; k++)
			it[k] = (tp_prune_item){ l.items[i + k].time, l.finished[i + k], l.protected_[i + k], 0 };
		tp_prune_select(it, n, &o);
		for (size_t k = 0; k < n && r == 0; k++) {
			char path[TP_SNAPSHOT_PATH_MAX];
			tp_snapshot_ref_path(&l.items[i + k], path, sizeof(path));
			if (a.out == TP_OUT_TEXT)
				printf("%s %s\n", path, mark_name(it[k].mark));
			json_array_append_new(arr, json_pack("{s:s,s:s}", "backup-dir", path, "mark", mark_name(it[k].mark)));
			if (!dry && it[k].mark == TP_PRUNE_REMOVE)
				r = tp_snapshot_remove(&ds, &l.items[i + k], err);
		}
		free(it);
		i = j;
	}
	if (a.out != TP_OUT_TEXT && r == 0)
		tp_print_json(&a, arr);
	else
		json_decref(arr);
	tp_snapshot_list_free(&l);
out:
	tp_datastore_close(&ds);
	return r;
}
