/* Inventory updates from what drives and changers see: labelling tapes, reading labels, changer locations. */
#ifndef TAPIR_TAPE_TAPE_INVENTORY_H
#define TAPIR_TAPE_TAPE_INVENTORY_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "format/media_label.h"
#include "tape/catalog_db.h"
#include "tape/changer.h"
#include "tape/inventory.h"
#include "tape/tape_session.h"

/* Barcodes of cleaning cartridges start with this (they are never read or labelled). */
#define TP_CLEANING_PREFIX "CLN"

/* Where a tape in the session's drive is: online-<changer>, or offline for a standalone drive. */
void tp_tape_session_location(const tp_tape_session *s, tp_media_location *out);

/*
 * Makes cartridge `label` ready in the drive without reading it: with a
 * changer it is moved there (-TP_ENOTFOUND naming the changer when it is
 * not in it); a virtual standalone drive loads it by label, creating a blank
 * cartridge if needed; any other standalone drive just gets its cartridge
 * made ready (whatever is inserted).
 */
int tp_tape_load_cartridge(tp_tape_session *s, const char *label, tp_err *err);

/*
 * Unloads the drive: with a changer to slot `slot` (0 = the slot it came
 * from, else the first free one; *to receives it), a standalone drive
 * rewinds and ejects.  Returns 1 when a tape was unloaded, 0 when the drive
 * was empty.  to may be NULL.
 */
int tp_tape_unload_to_slot(tp_tape_session *s, unsigned slot, unsigned *to, tp_err *err);

/*
 * Records a tape's labels: inventory entry (status kept; location set to
 * *loc when loc != NULL) and, with db, the catalog's media and set rows
 * (tp_catalog_sync_media: rows naming another set or seq are dropped).
 * msl NULL = no set label.
 */
int tp_tape_inventory_store_labels(tp_inventory *inv, tp_catalog_db *db, const tp_media_label *ml,
				   const tp_media_set_label *msl, const tp_media_location *loc, tp_err *err);

/*
 * Labels the cartridge `label_text` (PBS label_media): the label must be
 * new to the inventory (-TP_EEXISTS), the pool (NULL/"" = none) must exist,
 * the cartridge is made ready (tp_tape_load_cartridge) and must hold no data
 * (-TP_EEXISTS "the tape holds data (label X)"); file 0 gets a label with a
 * random uuid and ctime now; the tape goes into the inventory (location
 * online-<changer> or offline) and the catalog (media row, no set).  The
 * pool lock (or the unassigned-media lock) is held meanwhile.  out may be
 * NULL.
 */
int tp_tape_label_media(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db, const char *label_text,
			const char *pool, tp_media_label *out, tp_err *err);

/*
 * Updates locations from a changer's element status: every cartridge in a
 * slot or drive of changer `name` that is inventoried (by label text) goes
 * online-<name>; inventoried tapes online-<name> that are not in it go
 * offline.  *online / *offline (optional) receive the counts changed.
 */
int tp_tape_inventory_update_locations(tp_inventory *inv, const char *name, const tp_changer_status *st,
				       unsigned *online, unsigned *offline, tp_err *err);

typedef struct tp_tape_inventory_opts {
	int read_all_labels;  /* read every online tape, not only unknown ones */
	int catalog;          /* fast catalog restore for tapes in a set without catalog rows */
	int barcode_label;    /* barcode-label mode: label unknown blank tapes (pool below) */
	const char *pool;     /* barcode-label: pool of the new labels (NULL = none) */
} tp_tape_inventory_opts;

/*
 * `tape inventory` / `tape barcode-label` on a session.  With a changer:
 * locations are updated from its status, then every online tape that is
 * not inventoried (every one with read_all_labels) is loaded, its labels
 * read and stored (a label text differing from the barcode is reported and
 * not stored; cleaning cartridges are skipped), and the tape goes back to
 * its slot.  Without a changer only the loaded tape is read.  In
 * barcode-label mode unknown tapes are labelled with their
 * barcode instead when blank.  *report receives a JSON array, one object
 * per tape looked at ({"label-text", "action", "uuid"?, "media-set"?,
 * "seq-nr"?, "message"?, "catalog"?}), owned by the caller.  Per-tape
 * problems go into the report; errors of the drive, changer or inventory
 * stop the run.
 */
int tp_tape_inventory_run(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db,
			  const tp_tape_inventory_opts *o, json_t **report, tp_err *err);
/* How many report rows are errors ("action": "error"); the first as "LABEL: message" into first. */
size_t tp_tape_inventory_report_errors(const json_t *report, char *first, size_t size);

/* The loaded tape's labels as JSON ({"label":{..},"media-set-label":{..}|null}, key config omitted). */
json_t *tp_tape_labels_to_json(const tp_media_label *ml, const tp_media_set_label *msl);

#endif
