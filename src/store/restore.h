/* Restore of one archive of a snapshot: pxar -> directory, image -> file. */
#ifndef TAPIR_STORE_RESTORE_H
#define TAPIR_STORE_RESTORE_H

#include "base/err.h"
#include "crypto/crypt_config.h"
#include "store/datastore.h"

/*
 * archive: "root.pxar", "root.pxar.didx", "disk.img" or "disk.img.fidx".
 * Checks the snapshot is finished, the archive is in its manifest with the
 * same index checksum, and the key (encrypted archives need cc; a key with
 * another fingerprint fails).  An image is written to a temp file next to
 * target and renamed; a pxar archive is extracted into target (which must
 * not exist or be an empty directory).  Every chunk is verified on the way.
 */
int tp_restore_archive(tp_datastore *ds, const tp_snapshot_ref *snap, const char *archive, const char *target,
		       const tp_crypt_config *cc, tp_err *err);

#endif
