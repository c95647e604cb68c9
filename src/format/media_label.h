/* Media label (tape file 0) and media-set label (tape file 1): structs and JSON. */
#ifndef TAPIR_FORMAT_MEDIA_LABEL_H
#define TAPIR_FORMAT_MEDIA_LABEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "format/tape_io.h"

#define TP_LABEL_TEXT_MAX 128
#define TP_POOL_NAME_MAX 64

/* File 0.  pool[0] == 0 means "no pool" (the key is omitted in JSON). */
typedef struct tp_media_label {
	uint8_t uuid[16];
	char label_text[TP_LABEL_TEXT_MAX + 1];
	int64_t ctime;
	char pool[TP_POOL_NAME_MAX + 1];
} tp_media_label;

/*
 * File 1.  An all-zero uuid means "assigned to pool, no set" (legacy).
 * key_config, when non-NULL, is the password-protected key config carried
 * for encrypted sets (owned by the struct: tp_media_set_label_clear frees it).
 */
typedef struct tp_media_set_label {
	char pool[TP_POOL_NAME_MAX + 1];
	uint8_t uuid[16];
	uint64_t seq_nr;
	int64_t ctime;
	int has_fingerprint;
	uint8_t fingerprint[32];
	json_t *key_config;
} tp_media_set_label;

/* JSON objects as PBS writes them (new reference, caller decrefs). */
json_t *tp_media_label_to_json(const tp_media_label *l);
json_t *tp_media_set_label_to_json(const tp_media_set_label *l);
/* Parse, order-independent; -TP_EFORMAT naming the bad field. */
int tp_media_label_from_json(const json_t *j, tp_media_label *out, tp_err *err);
int tp_media_set_label_from_json(const json_t *j, tp_media_set_label *out, tp_err *err);
void tp_media_set_label_clear(tp_media_set_label *l);
int tp_uuid_is_zero(const uint8_t uuid[16]);

/* UUID text: libuuid lowercase hyphenated form (out holds 37 bytes). */
void tp_uuid_unparse(const uint8_t uuid[16], char out[37]);
/* Parses the 36-char hyphenated form (either case); -EINVAL otherwise. */
int tp_uuid_parse(const char *s, uint8_t uuid[16]);
/* Key fingerprint text "aa:bb:...", 95 chars (out holds 96 bytes), and its strict parse. */
void tp_fingerprint_unparse(const uint8_t fp[32], char out[96]);
int tp_fingerprint_parse(const char *s, uint8_t fp[32]);

/* The header-data bytes of the label files: JSON-pretty with sorted keys (caller frees). */
char *tp_media_label_json_text(const tp_media_label *l);
char *tp_media_set_label_json_text(const tp_media_set_label *l);
/* Parses header-data bytes (len 1..64 KiB); -TP_EFORMAT naming the problem. */
int tp_media_label_parse(const void *data, size_t len, tp_media_label *out, tp_err *err);
int tp_media_set_label_parse(const void *data, size_t len, tp_media_set_label *out, tp_err *err);

/*
 * Label tape files.  write: one whole tape file at the current position
 * (content header with the label magic, a random content uuid and ctime now,
 * the JSON, END_OF_STREAM, filemark).  read: the file at the current position;
 * returns 0, TP_LABEL_NONE when the position is end of data (blank tape, or no
 * set label yet), or a negative error (a filemark, wrong magic, bad JSON, data
 * after the JSON, a stream without end marker).
 */
enum { TP_LABEL_NONE = 1 };
int tp_media_label_write(const tp_tape_io *io, const tp_media_label *l, tp_err *err);
int tp_media_set_label_write(const tp_tape_io *io, const tp_media_set_label *l, tp_err *err);
int tp_media_label_read(const tp_tape_io *io, tp_media_label *out, tp_err *err);
int tp_media_set_label_read(const tp_tape_io *io, tp_media_set_label *out, tp_err *err);

#endif
