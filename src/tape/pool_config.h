/* Media pool configuration: allocation and retention policy, template, encryption key. */
#ifndef TAPIR_TAPE_POOL_CONFIG_H
#define TAPIR_TAPE_POOL_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/calendar.h"
#include "base/err.h"
#include "format/media_label.h"

enum tp_pool_allocation {
	TP_POOL_ALLOC_CONTINUE = 0,  /* keep appending to the current set (default) */
	TP_POOL_ALLOC_ALWAYS,        /* a new set for every write session */
	TP_POOL_ALLOC_CALENDAR,      /* a new set when the calendar event is due */
};

enum tp_pool_retention {
	TP_POOL_RETAIN_KEEP = 0,     /* never overwrite (default) */
	TP_POOL_RETAIN_OVERWRITE,    /* reusable as soon as the set is no longer in use */
	TP_POOL_RETAIN_SPAN,         /* reusable retention_secs after the set's last use */
};

#define TP_POOL_TEMPLATE_MAX 127
#define TP_POOL_COMMENT_MAX 255

typedef struct tp_pool_config {
	char name[TP_POOL_NAME_MAX + 1];
	enum tp_pool_allocation allocation;
	char allocation_text[128];         /* "continue", "always" or the event text */
	tp_calendar_event event;           /* parsed event for TP_POOL_ALLOC_CALENDAR */
	enum tp_pool_retention retention;
	char retention_text[64];           /* "keep", "overwrite" or the span text */
	int64_t retention_secs;
	char template_[TP_POOL_TEMPLATE_MAX + 1]; /* media-set name template, "" = default */
	int has_encrypt;
	uint8_t encrypt[32];               /* key fingerprint */
	char comment[TP_POOL_COMMENT_MAX + 1];
} tp_pool_config;

/* Pool names: 2..32 chars [A-Za-z0-9_][A-Za-z0-9._-]* (PBS's SAFE_ID). */
int tp_pool_valid_name(const char *name, tp_err *err);

/* Defaults: continue, keep, no template, no encryption. */
int tp_pool_config_init(tp_pool_config *cfg, const char *name, tp_err *err);
/* Setters validating their text; each fails with -EINVAL naming the value. */
int tp_pool_set_allocation(tp_pool_config *cfg, const char *text, tp_err *err);
int tp_pool_set_retention(tp_pool_config *cfg, const char *text, tp_err *err);
int tp_pool_set_template(tp_pool_config *cfg, const char *text, tp_err *err);
/* "aa:bb:..." fingerprint; NULL or "" removes encryption. */
int tp_pool_set_encrypt(tp_pool_config *cfg, const char *fingerprint, tp_err *err);
int tp_pool_set_comment(tp_pool_config *cfg, const char *text, tp_err *err);

/* {"allocation", "retention", "template"?, "encrypt"?, "comment"?} (new reference). */
json_t *tp_pool_config_to_json(const tp_pool_config *cfg);
int tp_pool_config_from_json(const char *name, const json_t *j, tp_pool_config *cfg, tp_err *err);

/*
 * The configuration file is tp_config_path("media-pool.json"), an object
 * {name: config}; writers hold tp_config_path(".media-pool.lck").
 */
int tp_pool_config_get(const char *name, tp_pool_config *cfg, tp_err *err);   /* -TP_ENOTFOUND */
/* All pools sorted by name; *out malloc'd (caller frees), may be NULL when n = 0. */
int tp_pool_config_list(tp_pool_config **out, size_t *n, tp_err *err);
int tp_pool_config_create(const tp_pool_config *cfg, tp_err *err);            /* -TP_EEXISTS */
int tp_pool_config_update(const tp_pool_config *cfg, tp_err *err);            /* must exist */
int tp_pool_config_remove(const char *name, tp_err *err);

/*
 * Name of a media set: the template with %id% replaced by the set uuid and
 * then strftime'd in local time at ctime; without a template
 * "<pool> <YYYY-MM-DD HH:MM:SS>" (local time).  out holds n bytes.
 */
void tp_pool_media_set_name(const tp_pool_config *cfg, const uint8_t set_uuid[16], int64_t ctime, char *out,
			    size_t n);

#endif
