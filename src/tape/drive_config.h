/* Drive and changer configuration: tape.json below the config directory, validated, under a lock. */
#ifndef TAPIR_TAPE_DRIVE_CONFIG_H
#define TAPIR_TAPE_DRIVE_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/lock.h"
#include "tape/changer.h"
#include "tape/drive.h"

#define TP_TAPE_CONFIG_FILE "tape.json"
#define TP_TAPE_CONFIG_LOCK ".tape.lck"
#define TP_TYPE_MAX 15

/* One drive.  path: directory (virtual), device path or iscsi:// URL (lto). */
typedef struct tp_drive_conf {
	char name[TP_DRIVE_NAME_MAX + 1];
	char type[TP_TYPE_MAX + 1];         /* "virtual" or "lto" */
	char *path;
	uint64_t max_size;                  /* virtual: bytes, 0 = default 64 MiB */
	char changer[TP_DRIVE_NAME_MAX + 1]; /* "" = standalone */
	int changer_drivenum;               /* -1 when no changer */
	json_t *faults;                     /* virtual: fault injection object, or NULL */
	uint64_t capacity;                  /* lto: bytes when the drive reports none (tgt), 0 = not set */
	uint64_t leom_reserve;              /* lto: bytes accepted after the early warning, 0 = no software end */
} tp_drive_conf;

typedef struct tp_changer_conf {
	char name[TP_DRIVE_NAME_MAX + 1];
	char type[TP_TYPE_MAX + 1];         /* "virtual" or "scsi" */
	char *path;
	unsigned slots, ie_slots;           /* virtual only */
	int eject_before_unload;            /* scsi: drives eject (UNLOAD) before the robot takes a cartridge */
} tp_changer_conf;

/* The whole file; arrays and strings owned, freed by tp_tape_config_free. */
typedef struct tp_tape_config {
	tp_drive_conf *drives;
	size_t ndrives;
	tp_changer_conf *changers;
	size_t nchangers;
} tp_tape_config;

/* [A-Za-z0-9_][A-Za-z0-9._-]*, at most 32 characters; what = "drive" / "changer". */
int tp_tape_name_valid(const char *name, const char *what, tp_err *err);
/* An absolute device path or iscsi://HOST[:PORT]/IQN/LUN (HOST may be [v6]). */
int tp_tape_device_path_valid(const char *path, tp_err *err);

/* Exclusive lock for read-modify-write of tape.json (10 s). */
int tp_tape_config_lock(tp_lock *l, tp_err *err);
/* A missing file is an empty configuration. */
int tp_tape_config_load(tp_tape_config *c, tp_err *err);
int tp_tape_config_save(const tp_tape_config *c, tp_err *err);
void tp_tape_config_free(tp_tape_config *c);

const tp_drive_conf *tp_tape_config_drive(const tp_tape_config *c, const char *name);
/* 0 when drive `name` is configured, else -TP_ENOTFOUND "drive 'X' does not exist" (or the config's error). */
int tp_tape_config_check_drive(const char *name, tp_err *err);
const tp_changer_conf *tp_tape_config_changer(const tp_tape_config *c, const char *name);

/*
 * Validate and add (copies d / ch; the caller keeps its own).  Errors:
 * -TP_EEXISTS for a name used by any drive or changer, -EINVAL for bad
 * names, types, paths, sizes, a changer reference to a missing changer or
 * of the wrong kind, or a drive number already taken in that changer.
 */
int tp_tape_config_add_drive(tp_tape_config *c, const tp_drive_conf *d, tp_err *err);
int tp_tape_config_add_changer(tp_tape_config *c, const tp_changer_conf *ch, tp_err *err);
/* -TP_ENOTFOUND for an unknown name; a changer with attached drives is not removed (-EBUSY). */
int tp_tape_config_remove_drive(tp_tape_config *c, const char *name, tp_err *err);
int tp_tape_config_remove_changer(tp_tape_config *c, const char *name, tp_err *err);

/*
 * The same as one locked read-modify-write of tape.json: add a drive or a
 * changer (a virtual one's directory is created too), or remove one.  With
 * stored non-NULL, *stored = the JSON of the entry as saved (new reference).
 */
int tp_tape_config_create_drive(const tp_drive_conf *d, json_t **stored, tp_err *err);
int tp_tape_config_create_changer(const tp_changer_conf *ch, json_t **stored, tp_err *err);
int tp_tape_config_delete_drive(const char *name, tp_err *err);
int tp_tape_config_delete_changer(const char *name, tp_err *err);

/* JSON of one entry as stored (new reference). */
json_t *tp_drive_conf_to_json(const tp_drive_conf *d);
json_t *tp_changer_conf_to_json(const tp_changer_conf *ch);

/*
 * Backend configuration objects built from the file (new references): for a
 * virtual drive in a virtual changer, "media-path" is the changer's
 * directory; a changer gets "drives" = its drives' directories (virtual)
 * or device paths (scsi) by drive number, and "eject-before-unload".
 */
json_t *tp_tape_config_drive_backend(const tp_tape_config *c, const tp_drive_conf *d);
json_t *tp_tape_config_changer_backend(const tp_tape_config *c, const tp_changer_conf *ch);

/* Open by configured name (loads tape.json); -TP_ENOTFOUND naming unknown names. */
int tp_drive_open_by_name(const char *name, tp_drive **out, tp_err *err);
int tp_changer_open_by_name(const char *name, tp_changer **out, tp_err *err);

#endif
