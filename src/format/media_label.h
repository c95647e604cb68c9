/* Media label (tape file 0) and media-set label (tape file 1): structs and JSON. */
#ifndef TAPIR_FORMAT_MEDIA_LABEL_H
#define TAPIR_FORMAT_MEDIA_LABEL_H

#include <jansson.h>
#include <stdint.h>

#include "base/err.h"

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

#endif
