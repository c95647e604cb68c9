/* Media pool: write sessions, media-set rollover, writable tape allocation, expiry. */
#ifndef TAPIR_TAPE_MEDIA_POOL_H
#define TAPIR_TAPE_MEDIA_POOL_H

#include <stdint.h>

#include "base/err.h"
#include "base/lock.h"
#include "tape/catalog_db.h"
#include "tape/inventory.h"
#include "tape/pool_config.h"

/*
 * A pool opened for writing.  Holds the pool lock (.pool-<name>.lck) and the
 * lock of its current media set (.media-set-<uuid>.lck) until closed, so
 * that no other writer uses the pool and no restore reuses the set.  Every
 * decision takes an explicit `now` (seconds) so that tests run on fake
 * clocks.
 */
typedef struct tp_media_pool {
	tp_pool_config cfg;
	tp_inventory inv;
	char changer[TP_MEDIA_LOCATION_MAX + 1]; /* "" = standalone drive */
	int has_current;
	uint8_t current_set[16];
	int64_t current_start;   /* set start (seq 0 ctime, or creation time of a new set) */
	tp_lock pool_lock;
	tp_lock set_lock;
} tp_media_pool;

/*
 * Opens the pool: loads the inventory from inv_dir (NULL = state dir), locks
 * the pool and takes the latest set of the pool as current (locking it).
 * changer: the changer of the drive to write with, NULL/"" for a
 * standalone drive.  owner names the task in lock files.
 */
int tp_media_pool_open(tp_media_pool *p, const tp_pool_config *cfg, const char *inv_dir, const char *changer,
		       const char *owner, tp_err *err);
void tp_media_pool_close(tp_media_pool *p);

/* 1 when a tape in that location can be loaded into the drive now (vault: never). */
int tp_media_pool_location_available(const tp_media_pool *p, const tp_inventory_entry *e);
/* Status computed against the pool's current set. */
enum tp_media_status tp_media_pool_status(const tp_media_pool *p, const tp_inventory_entry *e);
/* Full and now >= its expire time. */
int tp_media_pool_is_expired(const tp_media_pool *p, const tp_inventory_entry *e, int64_t now);

/*
 * 1 when writing may continue in the current set, 0 when not (why filled:
 * no set, incomplete, sequence/owner mismatch, encryption key changed or
 * inconsistent, a Damaged/Retired/Unknown member, the writable last tape in
 * a vault).
 */
int tp_media_pool_current_set_usable(tp_media_pool *p, char *why, size_t why_len);

/*
 * Starts a write session (pbs-formats §7): a new set is created (and
 * locked) when forced, when the current set is unusable, with allocation
 * "always", or when the calendar event after the set start is due at now.
 * A full last tape is no reason.  Returns 1 when a new set was started
 * (reason, may be NULL, tells why), 0 when the current set continues.
 */
int tp_media_pool_start_write_session(tp_media_pool *p, int force_new, int64_t now, char *reason,
				      size_t reason_len, tp_err *err);

/*
 * Picks the tape to write next, in this order: 1. the last tape of the
 * current set if Writable and available; 2. an empty tape of the pool,
 * oldest label first, ties by label text; 3. an expired tape of another set
 * of the pool, oldest set first, skipping sets whose lock is held; 4. an
 * unassigned tape, oldest first.  A tape from 2-4 joins the current set:
 * its new set label (seq = set length, ctime = now, the pool's key
 * fingerprint) is stored in the inventory with its status cleared and, when
 * db is given, its catalog rows are replaced by the new media/set rows.
 * *out receives the tape as now inventoried.  Fails with -TP_ENOTFOUND
 * naming the tapes to load, or asking to label one, when none is usable.
 */
int tp_media_pool_alloc_writable_media(tp_media_pool *p, int64_t now, tp_catalog_db *db, tp_inventory_entry *out,
				       tp_err *err);

/* The same choice without side effects (what to ask the operator to load). */
int tp_media_pool_guess_writable_media(tp_media_pool *p, int64_t now, uint8_t uuid[16], tp_err *err);

#endif
