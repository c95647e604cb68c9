/* Discovery of SCSI tape drives and media changers through sysfs and /dev/sgN. */
#ifndef TAPIR_TAPE_SCSI_SCAN_H
#define TAPIR_TAPE_SCSI_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

typedef struct tp_scsi_scan_entry {
	char name[32];      /* "sg3" */
	char path[300];     /* "/dev/sg3" (dev_root + name) */
	uint8_t type;       /* TP_PDT_TAPE (1) or TP_PDT_CHANGER (8) */
	char hctl[32];      /* "2:0:1:0" when sysfs links the device, "" otherwise */
	char vendor[9];
	char model[17];
	char revision[5];
	char serial[65];    /* unit serial (VPD page 80h), "" when unavailable */
} tp_scsi_scan_entry;

/*
 * Lists the tape drives (peripheral type 1) and changers (type 8) among
 * <sysfs_root>/class/scsi_generic/sg*, reading device/{type,vendor,model,rev}.
 * The serial comes from device/vpd_pg80 when the kernel exposes it, else,
 * if query_devices, from INQUIRY VPD 80h sent through SG_IO to
 * <dev_root>/sgN (a device that cannot be opened keeps an empty serial).
 * NULL roots mean "/sys" and "/dev".  *out is a malloc'd array sorted by sg
 * number (caller frees), *n its length; no scsi_generic class is an empty
 * list, not an error.
 */
int tp_scsi_scan(const char *sysfs_root, const char *dev_root, int query_devices, tp_scsi_scan_entry **out,
		 size_t *n, tp_err *err);

/* "tape", "changer" or "other" for a peripheral device type. */
const char *tp_scsi_type_name(uint8_t type);

#endif
