/* Drive diagnostics for `tapir tape status` (density, position, EOM/WP, TapeAlert, volume statistics) and the LTO helpers behind them. */
#ifndef TAPIR_TAPE_DRIVE_DIAG_H
#define TAPIR_TAPE_DRIVE_DIAG_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"
#include "tape/scsi_cdb.h"
#include "tape/scsi_transport.h"
#include "tape/drive.h"

/*
 * Device-level LTO helpers (any open tp_scsi_dev).  Each returns -ENOTSUP
 * when the device answers ILLEGAL REQUEST (20/00, 24/00: no such command or
 * page, as tgt does), other negative codes for real failures.
 */
/* TapeAlert flags from LOG SENSE page 12h (does not clear them; bit n-1 = flag n). */
int tp_lto_tapealert_dev(tp_scsi_dev *dev, uint64_t *flags, tp_err *err);
/* Volume statistics, LOG SENSE page 17h. */
int tp_lto_volume_stats_dev(tp_scsi_dev *dev, tp_volume_stats *vs, tp_err *err);
/* REPORT DENSITY SUPPORT (media): highest LTO generation (0 = not LTO) and its density code. */
int tp_lto_density_dev(tp_scsi_dev *dev, int *generation, uint8_t *density, tp_err *err);
/*
 * Drive encryption (§11): key32 sets the AES-256-GCM key with encryption
 * ENCRYPT and decryption MIXED, NULL clears it; SECURITY PROTOCOL IN
 * capabilities pick the algorithm index, SECURITY PROTOCOL OUT sets it, and
 * the status page must then show the requested modes (-EIO otherwise).
 */
int tp_lto_encryption_dev(tp_scsi_dev *dev, const uint8_t *key32, tp_err *err);
int tp_lto_encryption_status_dev(tp_scsi_dev *dev, tp_enc_status *st, tp_err *err);

/* What an open lto drive knows about itself (tp_lto_get_info). */
typedef struct tp_lto_dev_info {
	tp_scsi_dev *dev;        /* borrowed: valid while the drive is open */
	tp_inquiry inq;
	char serial[65];
	int loaded;
	int native_position;     /* LOCATE + READ POSITION used; 0 = position tracked by tapir */
	int write_protected;
	int compression;         /* configured hardware compression */
	uint8_t density;         /* density code of the MODE SENSE block descriptor */
} tp_lto_dev_info;

/* lto drives only (-ENOTSUP for other backends). */
int tp_lto_get_info(tp_drive *d, tp_lto_dev_info *out, tp_err *err);
int tp_lto_tapealert(tp_drive *d, uint64_t *flags, tp_err *err);
/*
 * Writes the MAM attributes PBS writes at labelling: 0800h vendor
 * ("tapir"), 0801h application name, 0802h version, 0803h label text and
 * 0808h pool (label/pool may be NULL).  Best effort: a failure is logged
 * as a warning and returned (-ENOTSUP on a device without MAM).
 */
int tp_lto_write_mam(tp_drive *d, const char *label, const char *pool, tp_err *err);
/*
 * Ejects the cartridge of the tape drive at path (ALLOW MEDIUM REMOVAL,
 * LOAD/UNLOAD with load 0) without opening it as a drive: for changers whose
 * robot cannot take a threaded cartridge (eject-before-unload).  Takes the
 * drive's device lock (who names the holder), so a drive open elsewhere is
 * not ejected under its user (-TP_ELOCKED after lock_timeout_ms).  An empty
 * drive is not an error.
 */
int tp_lto_eject_path(const char *path, const char *who, int lock_timeout_ms, tp_err *err);

/* The status report of one drive. */
typedef struct tp_drive_diag {
	char name[TP_DRIVE_NAME_MAX + 1];
	char type[16];
	char vendor[9], product[17], revision[5], serial[65];
	int loaded;
	char label[TP_DRIVE_LABEL_MAX + 1];
	uint8_t density;          /* 0 unknown */
	int generation;           /* LTO generation, 0 unknown */
	int position_valid;
	tp_drive_pos pos;
	int position_tracked;     /* the device has no READ POSITION: tapir's own count */
	int leom;                 /* early warning seen */
	int write_protected;      /* -1 unknown */
	int compression;          /* -1 unknown */
	int encryption;
	int has_tapealert;
	uint64_t tapealert;
	int has_volume_stats;
	tp_volume_stats vs;
	uint64_t capacity, used;  /* bytes, 0 unknown */
} tp_drive_diag;

/* Fills the report; what the device does not report is marked unknown, not an error. */
int tp_drive_diag_get(tp_drive *d, tp_drive_diag *out, tp_err *err);
/* JSON object (new reference); unknown values are null. */
json_t *tp_drive_diag_to_json(const tp_drive_diag *g);
/* Text report, several lines (malloc'd, caller frees; NULL on OOM). */
char *tp_drive_diag_text(const tp_drive_diag *g);

#endif
