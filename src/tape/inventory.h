/* Tape inventory (inventory.json, PBS format), media sets, expiry and the tape locks. */
#ifndef TAPIR_TAPE_INVENTORY_H
#define TAPIR_TAPE_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/lock.h"
#include "format/media_label.h"
#include "tape/pool_config.h"

#define TP_TAPE_LOCK_TIMEOUT_MS 10000
#define TP_MEDIA_LOCATION_MAX 64

enum tp_media_status {
	TP_MEDIA_UNKNOWN = 0,   /* default when no status is stored */
	TP_MEDIA_WRITABLE,
	TP_MEDIA_FULL,
	TP_MEDIA_DAMAGED,
	TP_MEDIA_RETIRED,
};
const char *tp_media_status_name(enum tp_media_status s);     /* "writable", ... */
int tp_media_status_parse(const char *s, enum tp_media_status *out);

enum tp_media_location_kind {
	TP_LOC_OFFLINE = 0,     /* default: on a shelf or in a standalone drive */
	TP_LOC_ONLINE,          /* in the changer `name` */
	TP_LOC_VAULT,           /* in the vault `name` */
};

typedef struct tp_media_location {
	enum tp_media_location_kind kind;
	char name[TP_MEDIA_LOCATION_MAX + 1];
} tp_media_location;

/* "offline", "online-<changer>", "vault-<name>" (out holds 80 bytes). */
void tp_media_location_text(const tp_media_location *l, char out[80]);
int tp_media_location_parse(const char *s, tp_media_location *out, tp_err *err);

/* One tape.  The set label never carries key_config here (NULL). */
typedef struct tp_inventory_entry {
	tp_media_label label;
	int has_set;
	tp_media_set_label set;
	int has_location;
	tp_media_location location;
	int has_status;
	enum tp_media_status status;
	int has_bytes_used;
	uint64_t bytes_used;
} tp_inventory_entry;

/*
 * The inventory as last loaded: entries sorted by media uuid.  Queries work
 * on this snapshot; every mutation takes .inventory.lck, reloads the file,
 * changes it, rewrites it atomically (mode 0640) and releases the lock, so
 * concurrent processes never lose each other's changes.  Entry pointers
 * (tp_inventory_find, inv->e) are invalidated by every reload and mutation;
 * passing them to a mutation is fine (it copies its arguments first).
 */
typedef struct tp_inventory {
	char *dir;              /* state directory holding inventory.json and the lock files */
	char *path;
	tp_inventory_entry *e;
	size_t n;
	int lock_timeout_ms;    /* for mutations; TP_TAPE_LOCK_TIMEOUT_MS by default */
	char owner[128];        /* written into the locks we hold, names us to contenders */
} tp_inventory;

/*
 * Loads dir/inventory.json (dir NULL = tp_state_path("")); a missing file is
 * an empty inventory.  owner (may be NULL: "pid N") names the holder in
 * lock files, e.g. a task UPID.
 */
int tp_inventory_open(tp_inventory *inv, const char *dir, const char *owner, tp_err *err);
int tp_inventory_reload(tp_inventory *inv, tp_err *err);
void tp_inventory_close(tp_inventory *inv);

/*
 * Locks below the inventory directory (flock, exclusive, timeout_ms; < 0 =
 * TP_TAPE_LOCK_TIMEOUT_MS).  A contender's error names the holder's owner text.
 */
int tp_inventory_lock(tp_inventory *inv, int timeout_ms, tp_lock *l, tp_err *err);
/* pool NULL = the unassigned-media pseudo pool ("__UNASSIGNED__"). */
int tp_inventory_lock_pool(tp_inventory *inv, const char *pool, int timeout_ms, tp_lock *l, tp_err *err);
int tp_inventory_lock_media_set(tp_inventory *inv, const uint8_t set[16], int timeout_ms, tp_lock *l, tp_err *err);

/* Entry lookups on the loaded snapshot; NULL when absent. */
const tp_inventory_entry *tp_inventory_find(const tp_inventory *inv, const uint8_t uuid[16]);
const tp_inventory_entry *tp_inventory_find_label(const tp_inventory *inv, const char *label_text);
/* Pool of a tape: its set label's pool, else its label's pool, else NULL. */
const char *tp_inventory_entry_pool(const tp_inventory_entry *e);
/* 1 when the tape has a set label with a non-zero uuid. */
int tp_inventory_entry_in_set(const tp_inventory_entry *e);

/*
 * Adds or replaces a tape (lock, reload, change, write).  set may be NULL.
 * Keeps the previous location, bytes_used and (unless clear_status) status;
 * a new id without set label keeps a previous all-zero ("unassigned") one.
 */
int tp_inventory_store(tp_inventory *inv, const tp_media_label *label, const tp_media_set_label *set,
		       int clear_status, tp_err *err);
int tp_inventory_set_status(tp_inventory *inv, const uint8_t uuid[16], enum tp_media_status status, tp_err *err);
/* Clears the stored status (back to "computed"). */
int tp_inventory_clear_status(tp_inventory *inv, const uint8_t uuid[16], tp_err *err);
int tp_inventory_set_location(tp_inventory *inv, const uint8_t uuid[16], const tp_media_location *loc,
			      tp_err *err);
int tp_inventory_set_bytes_used(tp_inventory *inv, const uint8_t uuid[16], uint64_t bytes, tp_err *err);
int tp_inventory_remove(tp_inventory *inv, const uint8_t uuid[16], tp_err *err);

/* Members of a media set by seq_nr, from the inventory. */
typedef struct tp_media_set {
	uint8_t uuid[16];
	char pool[TP_POOL_NAME_MAX + 1];
	int64_t start_time;     /* ctime of the seq 0 label; -1 when seq 0 is missing */
	size_t n;               /* highest seq_nr + 1 */
	uint8_t (*members)[16]; /* members[seq] (zero when missing) */
	unsigned char *present; /* present[seq] */
	int complete;           /* every seq 0..n-1 present */
} tp_media_set;

/* -TP_ENOTFOUND when no tape of the set is inventoried.  Free with tp_media_set_free. */
int tp_inventory_media_set(const tp_inventory *inv, const uint8_t set[16], tp_media_set *out, tp_err *err);
void tp_media_set_free(tp_media_set *ms);
/* Distinct set uuids (non-zero) of a pool (NULL = all), oldest start first; *out malloc'd. */
int tp_inventory_list_sets(const tp_inventory *inv, const char *pool, uint8_t (**out)[16], size_t *n, tp_err *err);
/*
 * The set with the newest label ctime in the pool; 0 when there is none or
 * when another set has a label as new (ambiguous), 1 with out filled.
 */
int tp_inventory_latest_set(const tp_inventory *inv, const char *pool, uint8_t out[16]);
/* Start time (seq 0 ctime) of a set; -TP_ENOTFOUND when seq 0 is not inventoried. */
int tp_inventory_set_start_time(const tp_inventory *inv, const uint8_t set[16], int64_t *t);
/* Start time of the next newer set of the same pool: 1 found, 0 none. */
int tp_inventory_set_next_start_time(const tp_inventory *inv, const uint8_t set[16], int64_t *t);

/*
 * When the tape may be overwritten (pbs-formats §7), INT64_MAX = never:
 * keep -> never; no set -> never; newer set in the pool -> its start
 * (own start with "always"); otherwise continue -> never, always -> own
 * start, calendar -> next event after the own start (local time); then
 * overwrite -> that, span -> that + span.  Whether the tape is Full is the
 * caller's check (tp_media_pool_is_expired).
 */
int64_t tp_inventory_expire_time(const tp_inventory *inv, const tp_inventory_entry *e, const tp_pool_config *cfg);

/*
 * Status as the pool sees it (PBS compute_media_state): a stored Full,
 * Damaged or Retired is kept; no set (or all-zero) -> Writable; a set other
 * than current_set -> Full; in current_set the last member is Writable, the
 * others Full.  current_set NULL = the latest set of the tape's pool.
 */
enum tp_media_status tp_inventory_media_status(const tp_inventory *inv, const tp_inventory_entry *e,
					       const uint8_t *current_set);

#endif
