/* Snapshot archive tape files: {"snapshot","store"} header, then a pxar v1 directory of the snapshot's regular files. */
#ifndef TAPIR_FORMAT_SNAPSHOT_ARCHIVE_H
#define TAPIR_FORMAT_SNAPSHOT_ARCHIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "format/chunk_archive.h"
#include "format/content_header.h"
#include "format/tape_block.h"

#define TP_SNAPSHOT_NAME_MAX 255      /* file names inside the archive */
#define TP_ARCHIVE_PATH_MAX 1024     /* "[ns/a/ns/b/]type/id/time" */
#define TP_SNAPSHOT_MAX_FILES 65536   /* files per archive accepted by the decoder */

/*
 * Checks a snapshot path as used on tape and in catalogs:
 * "[ns/<n1>/ns/<n2>/...]<vm|ct|host>/<id>/<YYYY-MM-DDTHH:MM:SSZ>" with at most
 * 7 namespace levels, components matching [A-Za-z0-9_][A-Za-z0-9._-]*.
 * *has_ns (optional) = 1 when a namespace prefix is present.
 */
int tp_snapshot_path_check(const char *s, size_t len, int *has_ns, tp_err *err);

/* Header-data JSON in declaration order {"snapshot", "store"} (caller frees). */
char *tp_snapshot_archive_header_json(const char *store, const char *snapshot);
/* Extracts and checks store (1..255) and snapshot path from parsed header-data. */
int tp_snapshot_archive_header_parse(const json_t *j, char store[TP_ARCHIVE_STORE_MAX + 1],
				     char snapshot[TP_ARCHIVE_PATH_MAX + 1], tp_err *err);

/* One file of the archive: a name and the stat of the real (regular) file. */
typedef struct tp_snapshot_file {
	const char *name;
	uint64_t mode;           /* st_mode incl. S_IFREG */
	uint32_t uid, gid;
	int64_t mtime_secs;
	uint32_t mtime_nanos;
	uint64_t size;           /* st_size: exactly this many bytes are stored */
} tp_snapshot_file;

/* Reads the next up to cap bytes of file `index`: count, 0 at its end, or a negative error. */
typedef long (*tp_snapshot_read_fn)(void *ctx, size_t index, uint8_t *buf, size_t cap, tp_err *err);

/*
 * Writes one snapshot archive as a whole tape file: content header (v1.1 for
 * the root namespace, v1.2 with an "ns/" prefix; uuid *uuid_io or random if
 * all-zero, written back), JSON, pxar (root ENTRY 040664, per file FILENAME +
 * ENTRY + PAYLOAD streamed from `read`, GOODBYE).  The caller gives the PBS
 * order: index.json.blob first, the manifest's files, client.log.blob last.
 * Returns 1 when complete; 0 when LEOM was reached (the stream is finished
 * INCOMPLETE and the whole archive must be written again on the next tape);
 * negative on error (the stream then ends with a filemark without end marker).
 */
int tp_snapshot_archive_write(const tp_tape_io *io, const char *store, const char *snapshot,
			      const tp_snapshot_file *files, size_t n, tp_snapshot_read_fn read, void *ctx,
			      uint8_t uuid_io[16], int64_t ctime, tp_err *err);

/* A decoded file (name NUL-terminated). */
typedef struct tp_snapshot_entry {
	char name[TP_SNAPSHOT_NAME_MAX + 1];
	uint64_t mode;
	uint32_t uid, gid;
	int64_t mtime_secs;
	uint32_t mtime_nanos;
	uint64_t size;
	uint64_t offset;         /* pxar offset of its FILENAME item */
} tp_snapshot_entry;

/* Decoder callbacks; any may be NULL; a negative return stops the decode with that code. */
typedef struct tp_snapshot_decode_ops {
	int (*begin)(void *ctx, const tp_snapshot_entry *e, tp_err *err);
	int (*data)(void *ctx, const uint8_t *buf, size_t len, tp_err *err);
	int (*end)(void *ctx, const tp_snapshot_entry *e, tp_err *err);
} tp_snapshot_decode_ops;

/*
 * Decodes the pxar of a snapshot archive from r (positioned right after the
 * header-data) to its end: a directory root, then only regular files with
 * valid names (no '/', '.', '..', empty, > 255 bytes, duplicates), then the
 * goodbye table, which must be exactly the one the encoder writes, then the
 * end of the stream.  Returns the number of files or a negative error.
 */
int tp_snapshot_archive_decode(tp_block_reader *r, const tp_snapshot_decode_ops *ops, void *ctx, tp_err *err);

#endif
