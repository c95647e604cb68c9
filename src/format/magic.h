/* The 8-byte magic numbers of PBS's formats: SHA-256(text)[0..8]. */
#ifndef TAPIR_FORMAT_MAGIC_H
#define TAPIR_FORMAT_MAGIC_H

#include <stdint.h>

enum tp_magic_id {
	TP_MAGIC_TAPE_BLOCK_HEADER,
	TP_MAGIC_CONTENT_HEADER,
	TP_MAGIC_MEDIA_LABEL,
	TP_MAGIC_MEDIA_SET_LABEL,
	TP_MAGIC_CHUNK_ARCHIVE_1_0,
	TP_MAGIC_CHUNK_ARCHIVE_1_1,
	TP_MAGIC_CHUNK_ARCHIVE_ENTRY,
	TP_MAGIC_SNAPSHOT_ARCHIVE_1_0,
	TP_MAGIC_SNAPSHOT_ARCHIVE_1_1,
	TP_MAGIC_SNAPSHOT_ARCHIVE_1_2,
	TP_MAGIC_CATALOG_ARCHIVE_1_0,
	TP_MAGIC_CATALOG_ARCHIVE_1_1,
	TP_MAGIC_MEDIA_CATALOG_1_0,
	TP_MAGIC_MEDIA_CATALOG_1_1,
	TP_MAGIC_BLOB_PLAIN,
	TP_MAGIC_BLOB_ZSTD,
	TP_MAGIC_BLOB_ENCR,
	TP_MAGIC_BLOB_ZSTD_ENCR,
	TP_MAGIC_FIXED_INDEX,
	TP_MAGIC_DYNAMIC_INDEX,
	TP_MAGIC_CLIENT_CATALOG,
	TP_MAGIC_COUNT
};

typedef struct tp_magic_def {
	const char *text;     /* the text hashed */
	uint8_t bytes[8];     /* the value from PBS's fact sheet */
} tp_magic_def;

extern const tp_magic_def tp_magics[TP_MAGIC_COUNT];

/* The 8 bytes of a magic. */
static inline const uint8_t *tp_magic(enum tp_magic_id id) { return tp_magics[id].bytes; }

/* Returns the id whose bytes equal p[0..8], or -1. */
int tp_magic_lookup(const uint8_t *p);

#endif
