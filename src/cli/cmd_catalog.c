/* `tapir catalog dump --store S SNAPSHOT`: lists the files of a snapshot from its pcat1 catalog. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "format/pcat1.h"
#include "store/archive_reader.h"
#include "store/datastore.h"

int cmd_catalog(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", NULL };
	tp_args a;
	if (argc < 1 || strcmp(argv[0], "dump"))
		return tp_err_set(err, -EINVAL, "usage: tapir catalog dump --store S SNAPSHOT");
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, NULL, err);
	if (r < 0)
		return r;
	const char *store = tp_args_get(&a, "store");
	if (!store || a.npos != 1)
		return tp_err_set(err, -EINVAL, "usage: tapir catalog dump --store S SNAPSHOT");
	tp_snapshot_ref snap;
	if ((r = tp_snapshot_ref_parse(a.pos[0], &snap, err)) < 0)
		return r;
	tp_datastore ds;
	if ((r = tp_datastore_open(&ds, store, err)) < 0)
		return r;
	char rel[TP_SNAPSHOT_PATH_MAX + 32];
	tp_snapshot_ref_path(&snap, rel, sizeof(rel));
	int fin = 0;
	tp_buf cat = TP_BUF_INIT, out = TP_BUF_INIT;
	char *p = NULL;
	if (!tp_snapshot_exists(&ds, &snap, &fin) || !fin) {
		r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%s does not exist", store, rel);
		goto out;
	}
	strcat(rel, "/catalog.pcat1.didx");
	p = tp_datastore_path(&ds, rel);
	if (!tp_path_exists(p)) {
		r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%s has no file catalog (no pxar archive)", store, a.pos[0]);
		goto out;
	}
	tp_archive_reader ar;
	if ((r = tp_archive_reader_open(&ar, &ds.cs, p, NULL, err)) < 0)
		goto out;
	r = tp_archive_reader_read_all(&ar, &cat, 1u << 30, err);
	tp_archive_reader_close(&ar);
	tp_pcat1 c;
	if (r == 0)
		r = tp_pcat1_open(&c, cat.data, cat.len, err);
	if (r == 0)
		r = tp_pcat1_dump(&c, &out, err);
	if (r == 0)
		fwrite(out.data, 1, out.len, stdout);
out:
	free(p);
	tp_buf_free(&cat);
	tp_buf_free(&out);
	tp_datastore_close(&ds);
	return r;
}
