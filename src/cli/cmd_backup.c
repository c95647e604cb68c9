/* `tapir backup`: back up directories (pxar) and files/images (fidx) into a datastore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "crypto/keyfile.h"
#include "store/backup.h"

int cmd_backup(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", "ns", "type", "id", "time", "keyfile", "owner", "threads", "exclude", NULL };
	static const char *usage = "tapir backup --store S [--ns NS] --type vm|ct|host --id ID [--time T] "
				   "[--keyfile F] [--exclude PATTERN]... NAME.pxar:DIR|NAME.img:FILE ...";
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, NULL, err);
	if (r < 0)
		return r;
	const char *store = tp_args_get(&a, "store"), *type = tp_args_get(&a, "type"), *id = tp_args_get(&a, "id");
	if (!store || !type || !id || a.npos < 1)
		return tp_err_set(err, -EINVAL, "usage: %s", usage);
	tp_backup_source src[32];
	if (a.npos > 32)
		return tp_err_set(err, -E2BIG, "at most 32 archives per backup");
	for (int i = 0; i < a.npos; i++)
		if ((r = tp_backup_source_parse(a.pos[i], &src[i], err)) < 0)
			return r;
	tp_backup_opts o = { 0 };
	const char *excludes[TP_ARGS_MAX];
	o.n_excludes = (size_t)tp_args_get_all(&a, "exclude", excludes, TP_ARGS_MAX);
	o.excludes = excludes;
	for (size_t i = 0; i < o.n_excludes; i++)
		if (!excludes[i][0])
			return tp_err_set(err, -EINVAL, "--exclude: empty pattern");
	o.ns = tp_args_get(&a, "ns");
	o.type = type;
	o.id = id;
	o.owner = tp_args_get(&a, "owner");
	unsigned long long threads;
	if ((r = tp_args_u64(&a, "threads", 0, 0, &threads, err)) < 0)
		return r;
	o.threads = (int)(threads > 64 ? 64 : threads);
	const char *t = tp_args_get(&a, "time");
	if (t && tp_time_parse_rfc3339(t, &o.time) < 0) {
		char *end;
		long long v = strtoll(t, &end, 10);
		if (*end || v <= 0)
			return tp_err_set(err, -EINVAL, "--time: '%s' is neither RFC 3339 nor epoch seconds", t);
		o.time = v;
	}
	tp_crypt_config cc;
	const char *keyfile = tp_args_get(&a, "keyfile");
	if (keyfile) {
		uint8_t key[32];
		r = tp_keyfile_load(keyfile, NULL, key, NULL, err);
		if (r == 0)
			r = tp_crypt_config_init(&cc, key, err);
		memset(key, 0, sizeof(key));
		if (r < 0)
			return r;
		o.cc = &cc;
	}
	tp_datastore ds;
	if ((r = tp_datastore_open(&ds, store, err)) < 0)
		goto out;
	tp_backup_stats st;
	r = tp_backup_run(&ds, &o, src, a.npos, &st, err);
	tp_datastore_close(&ds);
	if (r < 0)
		goto out;
	if (a.out == TP_OUT_TEXT)
		printf("snapshot %s:%s: %llu archives, %llu bytes, %llu chunks (%llu already stored), %llu new bytes\n",
		       store, st.snapshot, (unsigned long long)st.archives, (unsigned long long)st.bytes,
		       (unsigned long long)st.chunks, (unsigned long long)st.dup_chunks, (unsigned long long)st.new_bytes);
	else
		tp_print_json(&a, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I}", "store", store, "snapshot", st.snapshot,
					    "bytes", (json_int_t)st.bytes, "chunks", (json_int_t)st.chunks,
					    "duplicate-chunks", (json_int_t)st.dup_chunks, "new-bytes",
					    (json_int_t)st.new_bytes));
out:
	if (o.cc)
		tp_crypt_config_clear(&cc);
	return r;
}
