/* Media changers: ops table + capability bits per backend, registry by name, generic handle. */
#ifndef TAPIR_TAPE_CHANGER_H
#define TAPIR_TAPE_CHANGER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "tape/drive.h"

enum {
	TP_CHANGER_CAP_TRANSFER = 1u << 0, /* slot to slot moves */
	TP_CHANGER_CAP_EXPORT = 1u << 1,   /* import/export (mail) slots */
	TP_CHANGER_CAP_INSERT = 1u << 2,   /* insert(label): a new cartridge appears (virtual only) */
	TP_CHANGER_CAP_BARCODES = 1u << 3, /* slots report barcodes */
};

enum tp_changer_elem_kind { TP_CHANGER_SLOT, TP_CHANGER_IMPORT_EXPORT, TP_CHANGER_DRIVE };

/*
 * One element.  Slots are numbered from 1: storage slots 1..S, then the
 * import/export slots S+1..S+E (as PBS numbers them).  Drives from 0.
 */
typedef struct tp_changer_element {
	enum tp_changer_elem_kind kind;
	unsigned number;
	int full;
	char label[TP_DRIVE_LABEL_MAX + 1]; /* barcode; "" when empty or unknown */
	unsigned from_slot;                 /* drives: the slot the cartridge came from (0 unknown) */
} tp_changer_element;

/* Element status; arrays malloc'd, freed by tp_changer_status_free. */
typedef struct tp_changer_status {
	tp_changer_element *drives;
	size_t ndrives;
	tp_changer_element *slots; /* storage then import/export, by number */
	size_t nslots;
} tp_changer_status;

void tp_changer_status_free(tp_changer_status *st);
/* {"drives":[{drive,label|null,from-slot}],"slots":[{slot,import-export,label|null}]} (new reference). */
json_t *tp_changer_status_to_json(const tp_changer_status *st);

/*
 * The backend interface (same conventions as tp_drive_ops).
 * unload: slot 0 = back to the slot it came from if free, else the first
 *         free storage slot; *to_slot receives the slot used.
 * insert: an operator puts a new cartridge `label` into slot (0 = the first
 *         free import/export slot).
 */
typedef struct tp_changer_ops {
	const char *type;
	unsigned caps;
	int (*open)(const char *name, const json_t *conf, void **priv, tp_err *err);
	void (*close)(void *priv);
	int (*status)(void *priv, tp_changer_status *st, tp_err *err);
	int (*load)(void *priv, unsigned slot, unsigned drivenum, tp_err *err);
	int (*unload)(void *priv, unsigned drivenum, unsigned slot, unsigned *to_slot, tp_err *err);
	int (*transfer)(void *priv, unsigned from, unsigned to, tp_err *err);
	int (*insert)(void *priv, const char *label, unsigned slot, tp_err *err);
} tp_changer_ops;

const tp_changer_ops *tp_changer_ops_lookup(const char *type);
/* Registered type names, NULL-terminated. */
const char *const *tp_changer_types(void);

typedef struct tp_changer_counters {
	uint64_t moves;      /* every robot move: loads, unloads, transfers (exports are transfers) */
	uint64_t loads, unloads, transfers;
} tp_changer_counters;

typedef struct tp_changer {
	const tp_changer_ops *ops;
	void *priv;
	char name[TP_DRIVE_NAME_MAX + 1];
	tp_changer_counters counters;
	tp_err last_err;
} tp_changer;

/* Opens changer `name` of backend `type`; *out malloc'd, freed by tp_changer_close. */
int tp_changer_open(const char *type, const char *name, const json_t *conf, tp_changer **out, tp_err *err);
void tp_changer_close(tp_changer *c);

int tp_changer_get_status(tp_changer *c, tp_changer_status *st, tp_err *err);
int tp_changer_load_slot(tp_changer *c, unsigned slot, unsigned drivenum, tp_err *err);
/* Finds the cartridge by label in the storage or I/E slots and loads it; no-op if already in that drive. */
int tp_changer_load_label(tp_changer *c, const char *label, unsigned drivenum, tp_err *err);
/* 1 when a cartridge labelled label is in the changer (a slot, an import/export slot or a drive), 0 when not, < 0 on error. */
int tp_changer_has_label(tp_changer *c, const char *label, tp_err *err);
/* The same on a status already read: 1 or 0. */
int tp_changer_status_has_label(const tp_changer_status *st, const char *label);
int tp_changer_unload(tp_changer *c, unsigned drivenum, unsigned slot, unsigned *to_slot, tp_err *err);
int tp_changer_transfer(tp_changer *c, unsigned from, unsigned to, tp_err *err);
/*
 * Moves the cartridge `label` to a free import/export slot (unloading it from
 * a drive first if needed); *to_slot receives it.  -ENOSPC when every I/E slot
 * is full, -TP_ENOTFOUND for an unknown label.
 */
int tp_changer_export(tp_changer *c, const char *label, unsigned *to_slot, tp_err *err);
int tp_changer_insert(tp_changer *c, const char *label, unsigned slot, tp_err *err);

/*
 * The virtual backend (changer_virtual.c).  Configuration keys: "path"
 * (absolute directory: changer-status.json, .changer.lck; cartridge files of
 * the drives attached to it live there too), "slots" (1..1024),
 * "import-export-slots" (0..64), "drives" (array indexed by drive number of
 * the attached virtual drives' directories, null for none),
 * "lock-timeout-ms" (default 10000).
 */
#define TP_VCHANGER_STATUS_FILE "changer-status.json"
#define TP_VCHANGER_MAX_SLOTS 1024
#define TP_VCHANGER_MAX_IE 64
#define TP_VCHANGER_MAX_DRIVES 64

#endif
