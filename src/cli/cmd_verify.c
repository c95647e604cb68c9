/* `tapir verify --store S [SNAPSHOT]`: checks manifests, indexes and every chunk. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "store/verify.h"

int cmd_verify(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", NULL };
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, NULL, err);
	if (r < 0)
		return r;
	const char *store = tp_args_get(&a, "store");
	if (!store || a.npos > 1)
		return tp_err_set(err, -EINVAL, "usage: tapir verify --store S [SNAPSHOT]");
	tp_snapshot_ref only;
	if (a.npos == 1 && (r = tp_snapshot_ref_parse(a.pos[0], &only, err)) < 0)
		return r;
	tp_datastore ds;
	if ((r = tp_datastore_open(&ds, store, err)) < 0)
		return r;
	json_t *report = json_object();
	tp_verify_stats st;
	r = tp_verify_datastore(&ds, a.npos ? &only : NULL, report, &st, err);
	tp_datastore_close(&ds);
	if (r == 0 || r == -TP_EDIGEST) {
		if (a.out == TP_OUT_TEXT)
			printf("verified %llu snapshots, %llu chunks (%llu bytes): %llu snapshots failed, %llu bad chunks\n",
			       (unsigned long long)st.snapshots, (unsigned long long)st.chunks, (unsigned long long)st.bytes,
			       (unsigned long long)st.snapshots_failed, (unsigned long long)st.chunks_bad);
		else {
			json_object_set_new(report, "snapshots", json_integer((json_int_t)st.snapshots));
			json_object_set_new(report, "chunks", json_integer((json_int_t)st.chunks));
			tp_print_json(&a, json_incref(report));
		}
	}
	json_decref(report);
	return r;
}
