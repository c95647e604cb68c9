/* Tape drives: ops table + capability bits per backend, registry by name, generic handle. */
#ifndef TAPIR_TAPE_DRIVE_H
#define TAPIR_TAPE_DRIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "format/tape_io.h"
#include "tape/lto_model.h"

#define TP_DRIVE_NAME_MAX 32
#define TP_DRIVE_LABEL_MAX 128

/* What a backend can do beyond the basics (open/close/load/unload/rewind/read/write/filemarks). */
enum {
	TP_DRIVE_CAP_LOCATE = 1u << 0,         /* LOCATE to a logical object, READ POSITION */
	TP_DRIVE_CAP_SPACE_BACKWARD = 1u << 1, /* SPACE with negative counts */
	TP_DRIVE_CAP_ENCRYPTION = 1u << 2,     /* set_encryption */
	TP_DRIVE_CAP_LOAD_BY_LABEL = 1u << 3,  /* load(label) finds/creates the cartridge itself (virtual) */
	TP_DRIVE_CAP_FAULTS = 1u << 4,         /* configurable fault injection */
	TP_DRIVE_CAP_ERASE = 1u << 5,          /* erase: drop everything from BOT */
	TP_DRIVE_CAP_TAPEALERT = 1u << 6,      /* tapealert: the device reports TapeAlert flags */
	TP_DRIVE_CAP_MAM = 1u << 7,            /* write_mam: medium auxiliary memory (cartridge memory) */
};

/* Logical position on the loaded cartridge. */
typedef struct tp_drive_pos {
	uint64_t object;  /* logical object number (blocks and filemarks count one each) */
	uint64_t file;    /* number of filemarks before the position */
	int eod;          /* 1 when the position is end of data */
} tp_drive_pos;

/* Blocks before the position: the tape length behind it in blocks (a filemark takes next to no tape). */
static inline uint64_t tp_drive_pos_blocks(const tp_drive_pos *p)
{
	return p->object > p->file ? p->object - p->file : 0;
}

typedef struct tp_drive_status {
	int loaded;                               /* a cartridge is in the drive and ready */
	char label[TP_DRIVE_LABEL_MAX + 1];       /* its label ("" if unknown) */
	tp_drive_pos pos;                         /* valid when loaded */
	uint64_t eod_object;                      /* objects on the cartridge (when known) */
	uint64_t capacity;                        /* bytes (0 unknown) */
	uint64_t used;                            /* bytes before end of data (when known) */
	int encryption;                           /* a key is set */
	int leom;                                 /* the early-warning zone was reached */
} tp_drive_status;

enum tp_space_kind { TP_SPACE_BLOCKS, TP_SPACE_FILEMARKS, TP_SPACE_EOD };

/* Results of space besides negative errors: where a space stopped early. */
enum {
	TP_SPACE_DONE = 0,
	TP_SPACE_HIT_FILEMARK = 1, /* block space crossed (forward) or reached (backward) a filemark */
	TP_SPACE_HIT_EOD = 2,      /* forward space reached end of data */
	TP_SPACE_HIT_BOT = 3,      /* backward space reached the beginning of tape */
};

/*
 * The backend interface.  priv is the backend's state; each call returns 0
 * (or the documented non-negative result) or a negative code with err set.
 * Positions are kept by the backend (the device has one) and reported by
 * read_position; the generic layer caches them and keeps the counters.
 *
 * open:        conf is the drive's configuration object (backend-specific keys,
 *              e.g. "path", "max-size", "faults").  Exclusive: a second open of
 *              the same device fails with -TP_ELOCKED.
 * load:        label NULL: make the cartridge in the drive ready.  With
 *              TP_DRIVE_CAP_LOAD_BY_LABEL: unload what is there and load the
 *              cartridge `label` (created blank if missing).  Position: BOT.
 * unload:      rewind and eject; -ENOMEDIUM if empty.
 * read_block:  as tp_tape_io.read_block (> 0 bytes, 0 filemark, -1 EOD).
 * write_block: as tp_tape_io.write_block (0, 1 = LEOM, -ENOSPC not written);
 *              everything after the position is discarded first.
 * space:       count may be negative (backward).  Returns TP_SPACE_*.
 * locate:      to logical object n (n <= end of data); -ESPIPE beyond.
 *
 * Optional ops (NULL when the type has no such thing):
 * tapealert:   the TapeAlert flags, bit n-1 = flag n; -ENOTSUP when the
 *              device turns out to have none.
 * write_mam:   writes the cartridge memory attributes of labelling (label
 *              text, pool; either may be NULL); -ENOTSUP without MAM.
 * missing_caps: the bits of caps the device itself lacks, as probed at open
 *              and at every load (tgt: no LOG SENSE → TAPEALERT).
 */
typedef struct tp_drive_ops {
	const char *type;   /* registry name: "virtual", "lto" */
	unsigned caps;
	int (*open)(const char *name, const json_t *conf, void **priv, tp_err *err);
	void (*close)(void *priv);
	int (*load)(void *priv, const char *label, tp_err *err);
	int (*unload)(void *priv, tp_err *err);
	int (*rewind)(void *priv, tp_err *err);
	long (*read_block)(void *priv, uint8_t *buf, size_t cap, tp_err *err);
	int (*write_block)(void *priv, const uint8_t *buf, size_t len, tp_err *err);
	int (*write_filemarks)(void *priv, unsigned count, tp_err *err);
	int (*space)(void *priv, enum tp_space_kind kind, int64_t count, tp_err *err);
	int (*locate)(void *priv, uint64_t object, tp_err *err);
	int (*read_position)(void *priv, tp_drive_pos *pos, tp_err *err);
	int (*set_encryption)(void *priv, const uint8_t *key32, tp_err *err);
	int (*erase)(void *priv, tp_err *err);
	int (*status)(void *priv, tp_drive_status *st, tp_err *err);
	int (*tapealert)(void *priv, uint64_t *flags, tp_err *err);
	int (*write_mam)(void *priv, const char *label, const char *pool, tp_err *err);
	unsigned (*missing_caps)(void *priv);
} tp_drive_ops;

/* Registry: the ops of a backend type, or NULL. */
const tp_drive_ops *tp_drive_ops_lookup(const char *type);
/* The registered type names, NULL-terminated (static storage). */
const char *const *tp_drive_types(void);

typedef tp_tape_counters tp_drive_counters;

/*
 * An open drive.  Owns the backend state, the cached position, the last
 * error and the counters.  Not thread-safe: one user at a time.
 */
typedef struct tp_drive {
	const tp_drive_ops *ops;
	void *priv;
	char name[TP_DRIVE_NAME_MAX + 1];
	int loaded;
	char label[TP_DRIVE_LABEL_MAX + 1];
	tp_drive_pos pos;      /* cached; pos_known 0 after an error that may have moved the tape */
	int pos_known;
	int leom;              /* sticky early-warning flag, cleared when the position moves back */
	int encryption;
	uint64_t media_bytes;  /* cartridge size for the timing model (0 = real cartridge) */
	unsigned caps;         /* ops->caps without what the device lacks (missing_caps) */
	int alerts_checked;    /* TapeAlert read and clear of critical flags since the cartridge was loaded */
	tp_drive_counters counters;
	tp_err last_err;
} tp_drive;

/*
 * Opens drive `name` with backend `type` and its configuration object.
 * *out is malloc'd; tp_drive_close frees it.  The loaded-cartridge state of
 * the device is picked up (a virtual drive remembers it across restarts).
 */
int tp_drive_open(const char *type, const char *name, const json_t *conf, tp_drive **out, tp_err *err);
void tp_drive_close(tp_drive *d);

int tp_drive_load(tp_drive *d, const char *label, tp_err *err);
/*
 * LOAD of the cartridge already in the drive, by a caller that knows it was
 * there before (a restore finding its tape in its drive): a threaded
 * cartridge only goes back to BOT, counted as a rewind from where it stood,
 * not as a load; one the drive had not threaded is counted as a load.
 */
int tp_drive_reload(tp_drive *d, tp_err *err);
int tp_drive_unload(tp_drive *d, tp_err *err);
int tp_drive_rewind(tp_drive *d, tp_err *err);
long tp_drive_read_block(tp_drive *d, uint8_t *buf, size_t cap, tp_err *err);
int tp_drive_write_block(tp_drive *d, const uint8_t *buf, size_t len, tp_err *err);
int tp_drive_write_filemarks(tp_drive *d, unsigned count, tp_err *err);
int tp_drive_space(tp_drive *d, enum tp_space_kind kind, int64_t count, tp_err *err);
int tp_drive_locate(tp_drive *d, uint64_t object, tp_err *err);
/* Asks the device (authoritative) and refreshes the cache. */
int tp_drive_read_position(tp_drive *d, tp_drive_pos *pos, tp_err *err);
int tp_drive_move_to_eod(tp_drive *d, tp_err *err);
/* Positions at the start of tape file n (after n filemarks) by LOCATE or SPACE. */
int tp_drive_move_to_file(tp_drive *d, uint64_t file, tp_err *err);
/* key32 = 32 bytes, or NULL to switch encryption off; -ENOTSUP without the capability. */
int tp_drive_set_encryption(tp_drive *d, const uint8_t *key32, tp_err *err);
int tp_drive_erase(tp_drive *d, tp_err *err);
int tp_drive_get_status(tp_drive *d, tp_drive_status *st, tp_err *err);

/* What this drive can do: the type's capability bits without those the device lacks. */
static inline unsigned tp_drive_caps(const tp_drive *d) { return d->caps; }

/*
 * Reads the TapeAlert flags of the loaded cartridge's drive.  A flag that
 * makes writing unsafe (TapeAlert severity "critical": media, read/write
 * failure, write protect, clean now, hardware, ...) is an -EIO naming the
 * drive and every such flag; the other flags are logged as warnings (the
 * task log).  A drive without TapeAlert passes silently.  The first write
 * after a load runs this check itself unless it already passed.
 */
int tp_drive_check_tapealert(tp_drive *d, tp_err *err);
/*
 * Writes the MAM attributes of labelling (application, version, label text,
 * pool: NULL for none) to the loaded cartridge.  Best effort as in PBS: a
 * drive without cartridge memory, or one that refuses, gets a warning in the
 * log and the negative code is returned for callers that care; a drive type
 * without MAM returns 0 silently.
 */
int tp_drive_write_mam(tp_drive *d, const char *label, const char *pool, tp_err *err);

static inline const tp_drive_counters *tp_drive_get_counters(const tp_drive *d) { return &d->counters; }
static inline void tp_drive_reset_counters(tp_drive *d) { memset(&d->counters, 0, sizeof(d->counters)); }
static inline const char *tp_drive_last_error(const tp_drive *d) { return d->last_err.msg; }
/* sum += c (alias of tp_tape_counters_add). */
void tp_drive_counters_add(tp_drive_counters *sum, const tp_drive_counters *c);
/*
 * Estimated tape seconds of what this handle did on LTO generation g; a
 * virtual cartridge stands for a full native one (distances scaled by
 * capacity / max-size).
 */
void tp_drive_estimate(const tp_drive *d, const tp_lto_gen *g, tp_lto_estimate *out);
/* Counters as a JSON object (new reference). */
json_t *tp_drive_counters_to_json(const tp_drive_counters *c);
json_t *tp_drive_status_to_json(const tp_drive_status *st);

/*
 * The virtual backend (drive_virtual.c).  Its configuration keys: "path"
 * (absolute directory: lock, drive-status.json, faults.json), "media-path"
 * (where cartridge files live; default path), "max-size" (bytes, default
 * 64 MiB, at least 1 MiB), "faults" (object, see docs/tape-drives.md),
 * "lock-timeout-ms" (default 10000).
 */
#define TP_VIRTUAL_DEFAULT_MAX_SIZE (64ull << 20)
#define TP_VIRTUAL_MIN_MAX_SIZE (1u << 20)
#define TP_VIRTUAL_EW_BLOCKS 2            /* early warning zone: at least this many blocks */
#define TP_VIRTUAL_STATUS_FILE "drive-status.json"
#define TP_VIRTUAL_FAULTS_FILE "faults.json"

/* Size of the early-warning zone: max(2 % of max_size, 2 blocks). */
uint64_t tp_virtual_early_warning(uint64_t max_size);
/* Accepts a cartridge label usable as a file name part; -EINVAL naming the problem. */
int tp_virtual_label_valid(const char *label, tp_err *err);
/*
 * drive-status.json of a virtual drive directory: the loaded cartridge
 * (label "" = none) and its position.  A virtual changer uses these to put
 * a cartridge into a drive that is not open.  write: label NULL = empty.
 */
int tp_virtual_status_read(const char *dir, char *label, size_t label_size, uint64_t *pos, tp_err *err);
int tp_virtual_status_write(const char *dir, const char *label, tp_err *err);

/* A tp_tape_io over an open drive (drive_io.c); the drive must outlive io. */
void tp_drive_tape_io(tp_drive *d, tp_tape_io *io);

#endif
