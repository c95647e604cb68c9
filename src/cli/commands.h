/* Entry points of the tapir subcommand groups (one cmd_*.c file each). */
#ifndef TAPIR_CLI_COMMANDS_H
#define TAPIR_CLI_COMMANDS_H

#include "base/err.h"

/*
 * Each handler gets argv after its group word (argv[0] = the subcommand, if
 * any) and returns 0 or a negative code with err filled.  Only main() exits.
 */
typedef int (*tp_cmd_fn)(int argc, char **argv, tp_err *err);

typedef struct tp_cmd_group {
	const char *name;
	tp_cmd_fn fn;
	const char *help;
} tp_cmd_group;

int cmd_version(int argc, char **argv, tp_err *err);
int cmd_drive(int argc, char **argv, tp_err *err);
int cmd_changer(int argc, char **argv, tp_err *err);
int cmd_datastore(int argc, char **argv, tp_err *err);
int cmd_snapshot(int argc, char **argv, tp_err *err);
int cmd_prune(int argc, char **argv, tp_err *err);
int cmd_backup(int argc, char **argv, tp_err *err);
int cmd_restore(int argc, char **argv, tp_err *err);
int cmd_tape(int argc, char **argv, tp_err *err);
int cmd_tape_backup(int argc, char **argv, tp_err *err);
int cmd_tape_restore(int argc, char **argv, tp_err *err);
int cmd_verify(int argc, char **argv, tp_err *err);
int cmd_catalog(int argc, char **argv, tp_err *err);
int cmd_key(int argc, char **argv, tp_err *err);
int cmd_user(int argc, char **argv, tp_err *err);
int cmd_acl(int argc, char **argv, tp_err *err);
int cmd_task(int argc, char **argv, tp_err *err);
int cmd_pool(int argc, char **argv, tp_err *err);
int cmd_media(int argc, char **argv, tp_err *err);
int cmd_media_set(int argc, char **argv, tp_err *err);
int cmd_gc(int argc, char **argv, tp_err *err);
/* `tapir tape key ...` (cmd_tape_key.c), dispatched by the `tape` group. */
int cmd_tape_key(int argc, char **argv, tp_err *err);
int cmd_server(int argc, char **argv, tp_err *err);
/* `tapir tape backup-job ...`: argv[0] = create|list|show|update|remove|run (dispatched by cmd_tape). */
int cmd_tape_backup_job(int argc, char **argv, tp_err *err);

/* Tapes in drives (cmd_tape_media.c), dispatched by the `tape` group. */
int cmd_tape_label(int argc, char **argv, tp_err *err);
int cmd_tape_barcode_label(int argc, char **argv, tp_err *err);
int cmd_tape_load_media(int argc, char **argv, tp_err *err);
int cmd_tape_unload(int argc, char **argv, tp_err *err);
int cmd_tape_eject(int argc, char **argv, tp_err *err);
int cmd_tape_read_label(int argc, char **argv, tp_err *err);
int cmd_tape_inventory(int argc, char **argv, tp_err *err);
int cmd_tape_status(int argc, char **argv, tp_err *err);
int cmd_tape_catalog(int argc, char **argv, tp_err *err);

#endif
