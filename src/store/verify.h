/* Verification of snapshots: manifest, index checksums, every chunk's CRC and digest. */
#ifndef TAPIR_STORE_VERIFY_H
#define TAPIR_STORE_VERIFY_H

#include <jansson.h>

#include "base/err.h"
#include "store/datastore.h"

typedef struct tp_verify_stats {
	uint64_t snapshots, snapshots_failed;
	uint64_t chunks, chunks_bad, bytes;
} tp_verify_stats;

/*
 * Verifies one snapshot (only != NULL) or every finished snapshot of the
 * datastore.  Each chunk is read once per run: CRC always, and for
 * unencrypted chunks decompression and SHA-256 against its name.  A corrupt
 * chunk is renamed to <digest>.<n>.bad.  report (a JSON object) receives
 * "failed": {snapshot: reason} and "bad-chunks": {digest: {reason,
 * snapshots: [...]}}.  Returns 0 when everything verified, -TP_EDIGEST when
 * anything failed (err names the first problem and the count).
 */
int tp_verify_datastore(tp_datastore *ds, const tp_snapshot_ref *only, json_t *report, tp_verify_stats *st,
			tp_err *err);

#endif
