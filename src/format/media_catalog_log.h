/* PBS media catalog ".log" (mclog): magic + L/A/C/E/S records; encoder and streaming validating decoder. */
#ifndef TAPIR_FORMAT_MEDIA_CATALOG_LOG_H
#define TAPIR_FORMAT_MEDIA_CATALOG_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/snapshot_archive.h"

/* Record sizes: type byte + repr(C) struct (padding written as zeros). */
#define TP_MCLOG_LABEL_SIZE (1 + 32)
#define TP_MCLOG_ARCHIVE_START_SIZE (1 + 32)   /* + store name */
#define TP_MCLOG_CHUNK_SIZE (1 + 32)
#define TP_MCLOG_ARCHIVE_END_SIZE (1 + 24)
#define TP_MCLOG_SNAPSHOT_SIZE (1 + 32)        /* + store ':' snapshot */

/* Encoder: each appends one record (or the 8-byte magic v1.1) to b. */
int tp_mclog_append_magic(tp_buf *b);
int tp_mclog_append_label(tp_buf *b, uint64_t file, const uint8_t uuid[16], uint64_t seq_nr);
int tp_mclog_append_archive_start(tp_buf *b, uint64_t file, const uint8_t uuid[16], const char *store,
				  tp_err *err);
int tp_mclog_append_chunk(tp_buf *b, const uint8_t digest[32]);
int tp_mclog_append_archive_end(tp_buf *b, uint64_t file, const uint8_t uuid[16]);
int tp_mclog_append_snapshot(tp_buf *b, uint64_t file, const uint8_t uuid[16], const char *store,
			     const char *snapshot, tp_err *err);

/* One decoded record; strings are NUL-terminated and valid during the callback. */
typedef struct tp_mclog_record {
	char type;                 /* 'L', 'A', 'C', 'E', 'S' */
	uint64_t pos;              /* byte offset of the type byte in the .log */
	uint64_t file;             /* L, A, E, S */
	uint8_t uuid[16];          /* L: media / media-set uuid; A, E, S: content uuid */
	uint64_t seq_nr;           /* L */
	uint8_t digest[32];        /* C */
	const char *store;         /* A, S */
	const char *snapshot;      /* S */
	uint64_t archive_file;     /* C: file of the enclosing chunk archive */
} tp_mclog_record;

typedef int (*tp_mclog_record_fn)(void *ctx, const tp_mclog_record *rec, tp_err *err);

/*
 * Streaming decoder: feed the .log bytes in any pieces; every record is
 * checked against the PBS invariants before the callback sees it:
 *  - the magic v1.1 first (v1.0 is refused),
 *  - L file 0 first (uuid = expected media uuid if given, seq_nr 0), then
 *    optionally L file 1 (uuid / seq_nr = expected set if given),
 *  - A and S at file >= 2 and > the last file, C only inside A..E, E with
 *    A's file and uuid, no S inside A..E, names valid UTF-8 without NUL,
 *    S with ':' after the store and a valid snapshot path,
 *  - an unknown type byte is an error.
 * finish checks that the log did not end inside a record or inside A..E.
 */
typedef struct tp_mclog_decoder {
	tp_mclog_record_fn cb;
	void *ctx;
	const uint8_t *expect_media;     /* optional (16 bytes, borrowed) */
	const uint8_t *expect_set;       /* optional */
	uint64_t expect_seq_nr;          /* checked when expect_set is set */
	tp_buf pend;                     /* bytes of an incomplete record */
	uint64_t pos;                    /* .log offset of pend[0] */
	int have_magic;
	int labels;                      /* L records seen */
	int have_last;
	uint64_t last_file;
	int in_archive;
	uint64_t arch_file;
	uint8_t arch_uuid[16];
	int failed;
} tp_mclog_decoder;

void tp_mclog_decoder_init(tp_mclog_decoder *d, tp_mclog_record_fn cb, void *ctx);
int tp_mclog_decoder_feed(tp_mclog_decoder *d, const void *data, size_t len, tp_err *err);
int tp_mclog_decoder_finish(tp_mclog_decoder *d, tp_err *err);
void tp_mclog_decoder_free(tp_mclog_decoder *d);
/* Whole buffer in one go (init, feed, finish, free). */
int tp_mclog_decode(const void *data, size_t len, const uint8_t *expect_media, tp_mclog_record_fn cb, void *ctx,
		    tp_err *err);

#endif
