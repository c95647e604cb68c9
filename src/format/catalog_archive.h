/* Catalog archive tape files: {"uuid","media_set_uuid","seq_nr"} header, then a byte copy of a media catalog .log. */
#ifndef TAPIR_FORMAT_CATALOG_ARCHIVE_H
#define TAPIR_FORMAT_CATALOG_ARCHIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/content_header.h"
#include "format/tape_block.h"

/* Header-data JSON in declaration order (caller frees). */
char *tp_catalog_archive_header_json(const uint8_t media_uuid[16], const uint8_t set_uuid[16], uint64_t seq_nr);
int tp_catalog_archive_header_parse(const json_t *j, uint8_t media_uuid[16], uint8_t set_uuid[16],
				    uint64_t *seq_nr, tp_err *err);

/*
 * Writes one catalog archive as a whole tape file: content header (Catalog
 * Archive v1.1 when with_ns, else v1.0; uuid *uuid_io or random if all-zero,
 * written back), JSON, the len bytes of the .log.  As PBS: LEOM during the
 * header finishes the stream INCOMPLETE (returns 0: write it on the next
 * tape); LEOM during the data is ignored; -ENOSPC (physical end) during the
 * data finishes INCOMPLETE if the drive still takes the final block (returns
 * 0), else fails.  Returns 1 when complete.
 */
int tp_catalog_archive_write(const tp_tape_io *io, const uint8_t media_uuid[16], const uint8_t set_uuid[16],
			     uint64_t seq_nr, int with_ns, const uint8_t *log, size_t len, uint8_t uuid_io[16],
			     int64_t ctime, tp_err *err);

/* Appends the rest of the stream (the .log bytes) to out; -EFBIG beyond max bytes. */
int tp_catalog_archive_read_body(tp_block_reader *r, tp_buf *out, size_t max, tp_err *err);

#endif
