/* `tapir snapshot list|forget|protect`: snapshots of a datastore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "store/datastore.h"

static int list(tp_args *a, tp_err *err)
{
	const char *store = tp_args_get(a, "store");
	if (!store)
		return tp_err_set(err, -EINVAL, "usage: tapir snapshot list --store S [--ns NS] [--max-depth N]");
	const char *ns = tp_args_get(a, "ns");
	unsigned long long depth;
	int r = tp_args_u64(a, "max-depth", 7, 0, &depth, err);
	if (r < 0)
		return r;
	tp_datastore ds;
	r = tp_datastore_open(&ds, store, err);
	if (r < 0)
		return r;
	tp_snapshot_list l;
	r = tp_datastore_list_snapshots(&ds, ns ? ns : "", (int)depth, &l, err);
	if (r < 0)
		goto out;
	json_t *arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		if (!l.finished[i])
			continue;
		char path[TP_SNAPSHOT_PATH_MAX];
		tp_snapshot_ref_path(&l.items[i], path, sizeof(path));
		if (a->out == TP_OUT_TEXT) {
			printf("%s\n", path);
			continue;
		}
		json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:b}", "backup-type", l.items[i].type, "backup-id",
				      l.items[i].id, "backup-time", (json_int_t)l.items[i].time, "path", path,
				      "protected", l.protected_[i]);
		if (l.items[i].ns[0])
			json_object_set_new(o, "ns", json_string(l.items[i].ns));
		json_array_append_new(arr, o);
	}
	if (a->out == TP_OUT_TEXT)
		json_decref(arr);
	else
		tp_print_json(a, arr);
	tp_snapshot_list_free(&l);
out:
	tp_datastore_close(&ds);
	return r;
}

static int forget(tp_args *a, tp_err *err)
{
	const char *store = tp_args_get(a, "store");
	if (!store || a->npos != 1)
		return tp_err_set(err, -EINVAL, "usage: tapir snapshot forget --store S SNAPSHOT");
	tp_snapshot_ref ref;
	int r = tp_snapshot_ref_parse(a->pos[0], &ref, err);
	if (r < 0)
		return r;
	tp_datastore ds;
	if ((r = tp_datastore_open(&ds, store, err)) < 0)
		return r;
	if (!tp_snapshot_exists(&ds, &ref, NULL))
		r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%s does not exist", store, a->pos[0]);
	else
		r = tp_snapshot_remove(&ds, &ref, err);
	tp_datastore_close(&ds);
	return r;
}

int cmd_snapshot(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", "ns", "max-depth", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir snapshot list|forget ...");
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, NULL, err);
	if (r < 0)
		return r;
	if (!strcmp(argv[0], "list"))
		return list(&a, err);
	if (!strcmp(argv[0], "forget"))
		return forget(&a, err);
	return tp_err_set(err, -EINVAL, "unknown subcommand 'snapshot %s' (list, forget)", argv[0]);
}
