/* JSON helpers over jansson: PBS-style pretty printing and checked reads. */
#ifndef TAPIR_BASE_JSON_UTIL_H
#define TAPIR_BASE_JSON_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * serde_json to_string_pretty style: 2-space indent, "key": value, keys in
 * insertion order, no trailing newline.  Returns a malloc'd string (caller
 * frees) or NULL on OOM.
 */
char *tp_json_pretty(const json_t *v);
/* Compact one-line form (caller frees). */
char *tp_json_compact(const json_t *v);

/* Parses len bytes (not NUL-terminated) as one JSON value; names `what` in errors. */
json_t *tp_json_parse(const void *data, size_t len, const char *what, tp_err *err);
json_t *tp_json_load_file(const char *path, size_t max, tp_err *err);
/* Atomically writes pretty JSON plus a newline to path. */
int tp_json_save_file(const char *path, const json_t *v, unsigned mode, tp_err *err);
/* The same; durable = 0 skips the fsyncs (see tp_write_atomic_ex). */
int tp_json_save_file_ex(const char *path, const json_t *v, unsigned mode, int durable, tp_err *err);

/* Typed member reads; each fails with TP_EFORMAT naming the key and `what`. */
int tp_json_get_str(const json_t *o, const char *key, const char **out, const char *what, tp_err *err);
int tp_json_get_int(const json_t *o, const char *key, int64_t *out, const char *what, tp_err *err);
/* Optional: returns NULL / def when the key is absent or null. */
const char *tp_json_opt_str(const json_t *o, const char *key);
int64_t tp_json_opt_int(const json_t *o, const char *key, int64_t def);

#endif
