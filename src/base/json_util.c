/* JSON helpers (see json_util.h). */
#include "base/json_util.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"

char *tp_json_pretty(const json_t *v)
{
	return json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

char *tp_json_compact(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
}

json_t *tp_json_parse(const void *data, size_t len, const char *what, tp_err *err)
{
	json_error_t je;
	json_t *v = json_loadb(data, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!v)
		tp_err_set(err, -TP_EFORMAT, "%s: invalid JSON at line %d column %d: %s", what, je.line,
			   je.column, je.text);
	return v;
}

json_t *tp_json_load_file(const char *path, size_t max, tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	json_t *v = NULL;
	if (tp_read_file(path, &b, max, err) == 0)
		v = tp_json_parse(b.data ? (const char *)b.data : "", b.len, path, err);
	tp_buf_free(&b);
	return v;
}

int tp_json_save_file(const char *path, const json_t *v, unsigned mode, tp_err *err)
{
	return tp_json_save_file_ex(path, v, mode, 1, err);
}

int tp_json_save_file_ex(const char *path, const json_t *v, unsigned mode, int durable, tp_err *err)
{
	char *s = tp_json_pretty(v);
	if (!s)
		return tp_err_set(err, -ENOMEM, "out of memory encoding %s", path);
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return tp_err_set(err, -ENOMEM, "out of memory encoding %s", path);
	}
	t[n] = '\n';
	int r = tp_write_atomic_ex(path, t, n + 1, mode, durable, err);
	free(t);
	return r;
}

int tp_json_get_str(const json_t *o, const char *key, const char **out, const char *what, tp_err *err)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (!json_is_string(v))
		return tp_err_set(err, -TP_EFORMAT, "%s: missing or non-string \"%s\"", what, key);
	*out = json_string_value(v);
	return 0;
}

int tp_json_get_int(const json_t *o, const char *key, int64_t *out, const char *what, tp_err *err)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	if (!json_is_integer(v))
		return tp_err_set(err, -TP_EFORMAT, "%s: missing or non-integer \"%s\"", what, key);
	*out = (int64_t)json_integer_value(v);
	return 0;
}

const char *tp_json_opt_str(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t tp_json_opt_int(const json_t *o, const char *key, int64_t def)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}
