/* MediaContentHeader: the 48-byte header (+ JSON header-data) that starts every tape file. */
#ifndef TAPIR_FORMAT_CONTENT_HEADER_H
#define TAPIR_FORMAT_CONTENT_HEADER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "format/magic.h"
#include "format/tape_block.h"

#define TP_CONTENT_HEADER_SIZE 48u
/* Header-data sizes accepted on read: labels 1..64 KiB (as PBS), archives up to 1 MiB. */
#define TP_LABEL_JSON_MAX 65536u
#define TP_ARCHIVE_JSON_MAX (1024u * 1024u)

typedef struct tp_content_header {
	uint8_t content_magic[8];  /* what follows: one of the tape magics */
	uint8_t uuid[16];          /* content uuid, random per stream */
	int64_t ctime;
	uint32_t size;             /* header-data bytes that follow */
	uint8_t part_number;       /* always 0 */
} tp_content_header;

/* Packs h (magic, content magic, uuid, ctime, size, part_number, 3 zero bytes). */
void tp_content_header_encode(const tp_content_header *h, uint8_t out[TP_CONTENT_HEADER_SIZE]);
/* Unpacks and checks the header magic; -TP_EFORMAT otherwise. */
int tp_content_header_decode(const uint8_t in[TP_CONTENT_HEADER_SIZE], tp_content_header *h, tp_err *err);
/* The content magic id of h, or -1 when it is not a known tape magic. */
int tp_content_header_kind(const tp_content_header *h);

/*
 * serde_json to_string_pretty of v (2-space indent).  sorted != 0 orders
 * object keys alphabetically at every level (what PBS gets for labels, which
 * go through serde_json::Value); otherwise keys keep insertion order
 * (declaration order of the archive header structs).  Caller frees.
 */
char *tp_content_json_pretty(const json_t *v, int sorted);

/*
 * Starts a tape file: writes the content header (content magic `content`,
 * uuid = *uuid_io, or a fresh random v4 uuid written back when uuid_io is
 * all-zero; ctime) and the header-data `data` bytes to w.  Returns 0, 1 if
 * LEOM was reached while writing, or a negative error.
 */
int tp_content_header_write(tp_block_writer *w, enum tp_magic_id content, uint8_t uuid_io[16], int64_t ctime,
			    const void *data, size_t len, tp_err *err);

/*
 * Reads and checks the content header of the file r is on, then its
 * header-data: 1..max bytes, returned malloc'd (NUL-terminated, caller frees)
 * in *data with its length in *len.  Errors name what was wrong.
 */
int tp_content_header_read(tp_block_reader *r, tp_content_header *h, size_t max, uint8_t **data, size_t *len,
			   tp_err *err);
/* Same as above, then parses header-data as a JSON object (caller decrefs *json). */
int tp_content_header_read_json(tp_block_reader *r, tp_content_header *h, size_t max, json_t **json,
				tp_err *err);

#endif
