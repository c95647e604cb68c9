/* tapir command-line entry point: dispatches to the subcommand groups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/commands.h"

static const tp_cmd_group groups[] = {
	{ "version", cmd_version, "version" },
	{ "drive", cmd_drive, "drive create NAME --type virtual|lto --path P [--max-size B] [--changer C --changer-drivenum N] | list | remove NAME | status NAME" },
	{ "changer", cmd_changer, "changer create NAME [--type virtual|scsi] --path P [--slots N --import-export-slots N] | list | remove NAME | status NAME | transfer NAME FROM TO | load | unload | export | insert" },
	{ "datastore", cmd_datastore, "datastore create NAME PATH [--reuse-datastore] | list | remove NAME" },
	{ "verify", cmd_verify, "verify --store S [SNAPSHOT]" },
	{ "catalog", cmd_catalog, "catalog dump --store S SNAPSHOT" },
	{ "backup", cmd_backup, "backup --store S [--ns NS] --type vm|ct|host --id ID [--time T] [--keyfile F] NAME.pxar:DIR|NAME.img:FILE ..." },
	{ "tape", cmd_tape, "tape SUBCOMMAND ... (tapir tape help)" },
	{ "restore", cmd_restore, "restore --store S SNAPSHOT ARCHIVE TARGET [--keyfile F]" },
	{ "garbage-collect", cmd_gc, "garbage-collect --store S [--dry-run]" },
	{ "prune", cmd_prune, "prune --store S [--ns NS] [GROUP] --keep-last|hourly|daily|weekly|monthly|yearly N [--dry-run]" },
	{ "key", cmd_key, "key create FILE [--kdf none|scrypt|pbkdf2] [--hint TEXT] | show FILE" },
	{ "snapshot", cmd_snapshot, "snapshot list --store S [--ns NS] | forget --store S SNAPSHOT" },
	{ "user", cmd_user, "user create USERID [--password P] [--email E] | list | update USERID ... | remove USERID | generate-token USERID NAME | list-tokens USERID | delete-token USERID NAME | permissions AUTHID [--path P]" },
	{ "acl", cmd_acl, "acl update PATH ROLE --auth-id AUTHID [--propagate 0|1] [--delete] | list [--path P] | roles" },
	{ "pool", cmd_pool, "pool create NAME [--allocation continue|always|CALENDAR] [--retention keep|overwrite|SPAN] [--template T] [--encrypt FINGERPRINT] [--comment C] | list | config NAME | update NAME ... [--delete PROP] | remove NAME [--force]" },
	{ "media", cmd_media, "media list [--pool P] | content [--pool P] [--media-set UUID] | destroy LABEL|UUID [--force]" },
	{ "media-set", cmd_media_set, "media-set list [--pool P]" },
	{ "server", cmd_server, "server [--listen ADDR:PORT] [--no-tls]" },
	{ "task", cmd_task, "task list [--running] [--type T] [--limit N] [--since T] | log UPID | stop UPID | status UPID | selftest [--seconds N] [--warnings N] [--fail MSG]" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tapir COMMAND [ARGS...]\ncommands:\n");
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		fprintf(f, "  %s\n", groups[i].help);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (strcmp(argv[1], groups[i].name))
			continue;
		tp_err err = { 0 };
		int r = groups[i].fn(argc - 2, argv + 2, &err);
		fflush(stdout);
		if (r < 0) {
			fprintf(stderr, "tapir %s: %s\n", argv[1], err.msg[0] ? err.msg : tp_strerror(r));
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "tapir: unknown command '%s' (try 'tapir help')\n", argv[1]);
	return 2;
}
