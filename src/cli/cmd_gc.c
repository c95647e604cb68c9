/* `tapir garbage-collect --store S [--dry-run]`: removes chunks no index references (PBS atime rule). */
#include <stdio.h>

#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "store/gc.h"

int cmd_gc(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", NULL };
	static const char *const flags[] = { "dry-run", NULL };
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, flags, err);
	if (r < 0)
		return r;
	const char *store = tp_args_get(&a, "store");
	if (!store || a.npos)
		return tp_err_set(err, -EINVAL, "usage: tapir garbage-collect --store S [--dry-run]");
	tp_datastore ds;
	if ((r = tp_datastore_open(&ds, store, err)) < 0)
		return r;
	tp_gc_opts o = { tp_args_flag(&a, "dry-run") };
	tp_gc_stats st;
	r = tp_gc_run(&ds, &o, &st, err);
	tp_datastore_close(&ds);
	if (r < 0)
		return r;
	if (a.out == TP_OUT_TEXT) {
		char cut[21];
		tp_time_utc(st.min_atime, cut);
		printf("garbage collection of %s%s: %llu index files, %llu chunks referenced (%llu missing)\n", store,
		       o.dry_run ? " (dry run, nothing removed)" : "", (unsigned long long)st.index_files,
		       (unsigned long long)st.referenced_chunks, (unsigned long long)st.missing_chunks);
		printf("removed %llu chunks, %llu bad, %llu temp files (%llu bytes); kept %llu chunks (%llu bytes); "
		       "pending %llu chunks (%llu bytes, unused since before %s); still bad %llu\n",
		       (unsigned long long)st.removed_chunks, (unsigned long long)st.removed_bad,
		       (unsigned long long)st.removed_tmp, (unsigned long long)st.removed_bytes,
		       (unsigned long long)st.disk_chunks, (unsigned long long)st.disk_bytes,
		       (unsigned long long)st.pending_chunks, (unsigned long long)st.pending_bytes, cut,
		       (unsigned long long)st.still_bad);
		if (st.staging_stale)
			printf("staging: %llu entries of writers that are gone, %llu %s (unchanged for %d min or more)\n",
			       (unsigned long long)st.staging_stale, (unsigned long long)st.staging_removed,
			       o.dry_run ? "would be removed" : "removed", TP_GC_STAGING_GRACE / 60);
	} else {
		json_t *j = tp_gc_stats_json(&st);
		json_object_set_new(j, "store", json_string(store));
		json_object_set_new(j, "dry-run", json_boolean(o.dry_run));
		tp_print_json(&a, j);
	}
	return 0;
}
