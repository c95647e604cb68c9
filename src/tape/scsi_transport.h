/* SCSI transport interface (execute one CDB, get status, sense and residual) and its registry by path. */
#ifndef TAPIR_TAPE_SCSI_TRANSPORT_H
#define TAPIR_TAPE_SCSI_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "tape/scsi_cdb.h"
#include "tape/scsi_sense.h"

#define TP_SCSI_SENSE_MAX 252

/* SCSI status bytes (SAM). */
enum {
	TP_SCSI_STATUS_GOOD = 0x00,
	TP_SCSI_STATUS_CHECK_CONDITION = 0x02,
	TP_SCSI_STATUS_BUSY = 0x08,
	TP_SCSI_STATUS_RESERVATION_CONFLICT = 0x18,
	TP_SCSI_STATUS_TASK_SET_FULL = 0x28,
	TP_SCSI_STATUS_TASK_ABORTED = 0x40,
};

/*
 * Outcome of one command that reached the device.  residual is what the
 * transport reports as not transferred (len - transferred); for tape reads
 * trust the sense INFORMATION field instead (tgt gets the residual wrong).
 */
typedef struct tp_scsi_result {
	uint8_t status;
	size_t transferred;
	size_t residual;
	uint8_t sense[TP_SCSI_SENSE_MAX];
	size_t sense_len;
} tp_scsi_result;

/*
 * One transport.  open parses path, connects and stores a handle in *h.
 * execute runs one CDB: dir is enum tp_scsi_dir, buf/len the data buffer
 * (len 0 for none), timeout_ms 0 means the transport's default.  It returns
 * 0 whenever the device answered with a SCSI status (GOOD or not: see
 * res->status and res->sense), and a negative code only for a transport
 * failure: -ETIMEDOUT, -EIO (connection lost, host/driver error), -EINVAL.
 * close frees the handle (NULL allowed).
 */
typedef struct tp_scsi_transport_ops {
	const char *name;
	int (*open)(const char *path, void **h, tp_err *err);
	int (*execute)(void *h, const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len,
		       unsigned timeout_ms, tp_scsi_result *res, tp_err *err);
	void (*close)(void *h);
} tp_scsi_transport_ops;

extern const tp_scsi_transport_ops tp_scsi_transport_sg;    /* /dev/sgN, /dev/tape/by-id/...-sg */
extern const tp_scsi_transport_ops tp_scsi_transport_iscsi; /* iscsi://HOST[:PORT]/IQN/LUN */

/*
 * Registry: the transport for a path by prefix.  Built in: "/dev/" → sg,
 * "iscsi://" → iscsi.  Tests and other backends may register a further
 * prefix (at most 8, process-wide, before use; a later registration of the
 * same prefix replaces the earlier).  Returns NULL when nothing matches.
 */
const tp_scsi_transport_ops *tp_scsi_transport_for_path(const char *path);
int tp_scsi_transport_register(const char *prefix, const tp_scsi_transport_ops *ops, tp_err *err);

/* An open device: a transport plus its handle. */
typedef struct tp_scsi_dev {
	const tp_scsi_transport_ops *ops;
	void *h;
	char path[256];
	unsigned default_timeout_ms;
} tp_scsi_dev;

/* Opens path with the transport its prefix selects; *out is malloc'd, free with tp_scsi_close. */
int tp_scsi_open(const char *path, tp_scsi_dev **out, tp_err *err);
void tp_scsi_close(tp_scsi_dev *d);

/* Raw execute through the device's transport (see tp_scsi_transport_ops.execute). */
int tp_scsi_execute(tp_scsi_dev *d, const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len,
		    unsigned timeout_ms, tp_scsi_result *res, tp_err *err);

/*
 * Runs a built CDB with buf/len (the direction comes from the CDB).  Returns
 * 0 for GOOD.  For CHECK CONDITION the sense is parsed into *sense (if not
 * NULL), *cls (if not NULL) receives its class, and the return is -EIO with
 * err = "<CDB name> on <path>: <sense description>"; callers that expect
 * conditions (filemark, EOD, ILI) look at *cls instead of the code.  Other
 * statuses (BUSY, RESERVATION CONFLICT, ...) give -EBUSY / -EIO naming the
 * status; transport failures are passed through.
 */
int tp_scsi_run(tp_scsi_dev *d, const tp_cdb *cdb, uint8_t *buf, size_t len, unsigned timeout_ms,
		tp_scsi_result *res, tp_sense *sense, enum tp_sense_class *cls, tp_err *err);

/* "GOOD", "CHECK CONDITION", ... ("status 0xNN" style text for unknown values goes into buf). */
const char *tp_scsi_status_name(uint8_t status);

#endif
