/* `tapir tape ...`: dispatches the tape subcommands to their handlers. */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static const tp_cmd_group tape_cmds[] = {
	/* one line per subcommand; handlers live in cmd_tape_*.c */
	{ "restore", cmd_tape_restore, "restore MEDIA_SET STORE_MAP [SNAPSHOT...] --drive D [--drive D2 ...] [--namespaces ...] [--owner AUTHID] [--notify-user USERID] [--dry-run]" },
	{ "backup-job", cmd_tape_backup_job, "backup-job create ID --store S --pool P --drive D [--ns NS] [--max-depth N] [--latest-only 0|1] [--schedule CALENDAR] [--notify-user USERID] [--comment C] | list | show ID | update ID ... [--delete PROP] | remove ID | run ID" },
	{ "backup", cmd_tape_backup, "backup STORE POOL --drive D [--ns NS] [--max-depth N] [--latest-only] [--force-media-set] [--eject-media] [--export-media-set]" },
	{ "key", cmd_tape_key, "key create [--kdf scrypt|pbkdf2|none] [--hint H] | list | show FP | change-passphrase FP [--kdf K] [--hint H] | paperkey FP | restore --key-config FILE|--drive D | remove FP [--force]" },
	{ "label", cmd_tape_label, "label --drive D --label-text T [--pool P]" },
	{ "barcode-label", cmd_tape_barcode_label, "barcode-label --drive D [--pool P]" },
	{ "load-media", cmd_tape_load_media, "load-media --drive D LABEL" },
	{ "unload", cmd_tape_unload, "unload --drive D [--target-slot N]" },
	{ "eject", cmd_tape_eject, "eject --drive D" },
	{ "read-label", cmd_tape_read_label, "read-label --drive D [--inventorize]" },
	{ "inventory", cmd_tape_inventory, "inventory --drive D [--read-all-labels] [--catalog]" },
	{ "status", cmd_tape_status, "status --drive D" },
	{ "catalog", cmd_tape_catalog, "catalog --drive D [--scan] [--force]" },
	{ NULL, NULL, NULL },
};

int cmd_tape(int argc, char **argv, tp_err *err)
{
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir tape SUBCOMMAND ... (try 'tapir tape help')");
	for (const tp_cmd_group *c = tape_cmds; c->name; c++)
		if (!strcmp(argv[0], c->name))
			return c->fn(argc - 1, argv + 1, err);
	if (!strcmp(argv[0], "help")) {
		for (const tp_cmd_group *c = tape_cmds; c->name; c++)
			printf("  tape %s\n", c->help);
		return 0;
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'tape %s' (try 'tapir tape help')", argv[0]);
}
