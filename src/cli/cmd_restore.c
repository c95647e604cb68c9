/* `tapir restore --store S SNAPSHOT ARCHIVE TARGET [--keyfile F]`. */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "crypto/keyfile.h"
#include "store/restore.h"

int cmd_restore(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "store", "keyfile", NULL };
	tp_args a;
	int r = tp_args_parse(&a, argc, argv, allowed, NULL, err);
	if (r < 0)
		return r;
	const char *store = tp_args_get(&a, "store");
	if (!store || a.npos != 3)
		return tp_err_set(err, -EINVAL, "usage: tapir restore --store S SNAPSHOT ARCHIVE TARGET [--keyfile F]");
	tp_snapshot_ref snap;
	if ((r = tp_snapshot_ref_parse(a.pos[0], &snap, err)) < 0)
		return r;
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
	}
	tp_datastore ds;
	if ((r = tp_datastore_open(&ds, store, err)) == 0) {
		r = tp_restore_archive(&ds, &snap, a.pos[1], a.pos[2], keyfile ? &cc : NULL, err);
		tp_datastore_close(&ds);
	}
	if (keyfile)
		tp_crypt_config_clear(&cc);
	return r;
}
