/* Media label (file 0) and media-set label (file 1): JSON and label tape files (see media_label.h). */
#include "format/media_label.h"

#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "base/hex.h"
#include "base/json_util.h"
#include "base/timefmt.h"
#include "format/content_header.h"
#include "format/tape_block.h"

int tp_uuid_is_zero(const uint8_t uuid[16])
{
	for (int i = 0; i < 16; i++)
		if (uuid[i])
			return 0;
	return 1;
}

void tp_uuid_unparse(const uint8_t uuid[16], char out[37])
{
	uuid_unparse_lower(uuid, out);
}

int tp_uuid_parse(const char *s, uint8_t uuid[16])
{
	if (strlen(s) != 36 || uuid_parse(s, uuid) < 0)
		return -EINVAL;
	return 0;
}

void tp_fingerprint_unparse(const uint8_t fp[32], char out[96])
{
	tp_hex_colons(fp, 32, out);
}

int tp_fingerprint_parse(const char *s, uint8_t fp[32])
{
	if (strlen(s) != 95)
		return -EINVAL;
	for (int i = 0; i < 32; i++) {
		if (i < 31 && s[3 * i + 2] != ':')
			return -EINVAL;
		char pair[3] = { s[3 * i], s[3 * i + 1], 0 };
		if (tp_hex_decode(pair, fp + i, 1) < 0)
			return -EINVAL;
	}
	return 0;
}

/* ---- JSON ---- */

static int set_or_fail(json_t *o, const char *k, json_t *v)
{
	return v ? json_object_set_new(o, k, v) : -1;
}

json_t *tp_media_label_to_json(const tp_media_label *l)
{
	char u[37];
	json_t *o = json_object();
	if (!o)
		return NULL;
	tp_uuid_unparse(l->uuid, u);
	if (set_or_fail(o, "ctime", json_integer(l->ctime)) ||
	    set_or_fail(o, "label_text", json_string(l->label_text)) ||
	    (l->pool[0] && set_or_fail(o, "pool", json_string(l->pool))) ||
	    set_or_fail(o, "uuid", json_string(u))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *tp_media_set_label_to_json(const tp_media_set_label *l)
{
	char u[37], fp[96];
	json_t *o = json_object();
	if (!o)
		return NULL;
	tp_uuid_unparse(l->uuid, u);
	if (l->has_fingerprint)
		tp_fingerprint_unparse(l->fingerprint, fp);
	if (set_or_fail(o, "ctime", json_integer(l->ctime)) ||
	    (l->has_fingerprint && set_or_fail(o, "encryption_key_fingerprint", json_string(fp))) ||
	    (l->key_config && set_or_fail(o, "key-config", json_deep_copy(l->key_config))) ||
	    set_or_fail(o, "pool", json_string(l->pool)) ||
	    set_or_fail(o, "seq_nr", json_integer((json_int_t)l->seq_nr)) ||
	    set_or_fail(o, "uuid", json_string(u))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int get_uuid(const json_t *j, const char *what, uint8_t out[16], tp_err *err)
{
	const char *s;
	int r = tp_json_get_str(j, "uuid", &s, what, err);
	if (r < 0)
		return r;
	if (tp_uuid_parse(s, out) < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: \"uuid\" is not a UUID: \"%.40s\"", what, s);
	return 0;
}

static int get_name(const json_t *j, const char *key, int optional, size_t max, char *out, const char *what,
		    tp_err *err)
{
	json_t *v = json_object_get(j, key);
	out[0] = 0;
	if (optional && (!v || json_is_null(v)))
		return 0;
	if (!json_is_string(v))
		return tp_err_set(err, -TP_EFORMAT, "%s: missing or non-string \"%s\"", what, key);
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > max || strlen(s) != n)
		return tp_err_set(err, -TP_EFORMAT, "%s: \"%s\" is longer than %zu bytes or holds NUL", what, key,
				  max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return tp_err_set(err, -TP_EFORMAT, "%s: \"%s\" holds a control character", what, key);
	memcpy(out, s, n + 1);
	return 0;
}

int tp_media_label_from_json(const json_t *j, tp_media_label *out, tp_err *err)
{
	static const char what[] = "media label";
	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return tp_err_set(err, -TP_EFORMAT, "%s: not a JSON object", what);
	int r = get_uuid(j, what, out->uuid, err);
	if (r == 0)
		r = get_name(j, "label_text", 0, TP_LABEL_TEXT_MAX, out->label_text, what, err);
	if (r == 0 && !out->label_text[0])
		r = tp_err_set(err, -TP_EFORMAT, "%s: empty \"label_text\"", what);
	if (r == 0)
		r = tp_json_get_int(j, "ctime", &out->ctime, what, err);
	if (r == 0)
		r = get_name(j, "pool", 1, TP_POOL_NAME_MAX, out->pool, what, err);
	return r;
}

int tp_media_set_label_from_json(const json_t *j, tp_media_set_label *out, tp_err *err)
{
	static const char what[] = "media set label";
	memset(out, 0, sizeof(*out));
	if (!json_is_object(j))
		return tp_err_set(err, -TP_EFORMAT, "%s: not a JSON object", what);
	int64_t seq = 0;
	int r = get_name(j, "pool", 0, TP_POOL_NAME_MAX, out->pool, what, err);
	if (r == 0)
		r = get_uuid(j, what, out->uuid, err);
	if (r == 0)
		r = tp_json_get_int(j, "seq_nr", &seq, what, err);
	if (r == 0 && seq < 0)
		r = tp_err_set(err, -TP_EFORMAT, "%s: negative \"seq_nr\"", what);
	if (r == 0)
		r = tp_json_get_int(j, "ctime", &out->ctime, what, err);
	if (r < 0)
		return r;
	out->seq_nr = (uint64_t)seq;
	json_t *fp = json_object_get(j, "encryption_key_fingerprint");
	if (fp && !json_is_null(fp)) {
		if (!json_is_string(fp) || tp_fingerprint_parse(json_string_value(fp), out->fingerprint) < 0)
			return tp_err_set(err, -TP_EFORMAT,
					  "%s: \"encryption_key_fingerprint\" is not a 32-byte \"aa:bb:...\" fingerprint",
					  what);
		out->has_fingerprint = 1;
	}
	json_t *kc = json_object_get(j, "key-config");
	if (kc && !json_is_null(kc)) {
		if (!json_is_object(kc))
			return tp_err_set(err, -TP_EFORMAT, "%s: \"key-config\" is not an object", what);
		out->key_config = json_deep_copy(kc);
		if (!out->key_config)
			return tp_err_set(err, -ENOMEM, "%s: out of memory copying \"key-config\"", what);
	}
	return 0;
}

void tp_media_set_label_clear(tp_media_set_label *l)
{
	json_decref(l->key_config);
	l->key_config = NULL;
}

char *tp_media_label_json_text(const tp_media_label *l)
{
	json_t *j = tp_media_label_to_json(l);
	char *s = j ? tp_content_json_pretty(j, 1) : NULL;
	json_decref(j);
	return s;
}

char *tp_media_set_label_json_text(const tp_media_set_label *l)
{
	json_t *j = tp_media_set_label_to_json(l);
	char *s = j ? tp_content_json_pretty(j, 1) : NULL;
	json_decref(j);
	return s;
}

static json_t *parse_label_bytes(const void *data, size_t len, const char *what, tp_err *err)
{
	if (len == 0 || len > TP_LABEL_JSON_MAX) {
		tp_err_set(err, -TP_EFORMAT, "%s: JSON size %zu not in 1..%u", what, len, TP_LABEL_JSON_MAX);
		return NULL;
	}
	return tp_json_parse(data, len, what, err);
}

int tp_media_label_parse(const void *data, size_t len, tp_media_label *out, tp_err *err)
{
	json_t *j = parse_label_bytes(data, len, "media label", err);
	if (!j)
		return -TP_EFORMAT;
	int r = tp_media_label_from_json(j, out, err);
	json_decref(j);
	return r;
}

int tp_media_set_label_parse(const void *data, size_t len, tp_media_set_label *out, tp_err *err)
{
	json_t *j = parse_label_bytes(data, len, "media set label", err);
	if (!j)
		return -TP_EFORMAT;
	int r = tp_media_set_label_from_json(j, out, err);
	json_decref(j);
	if (r < 0)
		tp_media_set_label_clear(out);
	return r;
}

/* ---- label tape files ---- */

static int write_label_file(const tp_tape_io *io, enum tp_magic_id magic, char *text, const char *what,
			    tp_err *err)
{
	if (!text)
		return tp_err_set(err, -ENOMEM, "out of memory encoding the %s", what);
	tp_block_writer w;
	uint8_t uuid[16] = { 0 };
	int r = tp_block_writer_init(&w, io, err);
	if (r < 0)
		goto out_text;
	r = tp_content_header_write(&w, magic, uuid, tp_now(), text, strlen(text), err);
	if (r >= 0)
		r = tp_block_writer_finish(&w, 0, err);
	if (r < 0) {
		tp_block_writer_abort(&w, NULL);
		tp_err_wrap(err, r, "writing the %s", what);
	}
	tp_block_writer_free(&w);
out_text:
	free(text);
	return r < 0 ? r : 0;
}

int tp_media_label_write(const tp_tape_io *io, const tp_media_label *l, tp_err *err)
{
	return write_label_file(io, TP_MAGIC_MEDIA_LABEL, tp_media_label_json_text(l), "media label", err);
}

int tp_media_set_label_write(const tp_tape_io *io, const tp_media_set_label *l, tp_err *err)
{
	return write_label_file(io, TP_MAGIC_MEDIA_SET_LABEL, tp_media_set_label_json_text(l), "media set label",
				err);
}

/* Reads the label file at the position into *data; TP_LABEL_NONE at end of data. */
static int read_label_file(const tp_tape_io *io, enum tp_magic_id magic, const char *what, uint8_t **data,
			   size_t *len, tp_err *err)
{
	tp_block_reader r;
	tp_content_header h;
	*data = NULL;
	int rc = tp_block_reader_open(&r, io, 0, err);
	if (rc == TP_BLOCK_OPEN_EOD)
		return TP_LABEL_NONE;
	if (rc == TP_BLOCK_OPEN_FILEMARK)
		return tp_err_set(err, -TP_EFORMAT, "reading the %s: unexpected filemark (empty file)", what);
	if (rc < 0)
		return tp_err_wrap(err, rc, "reading the %s", what);
	rc = tp_content_header_read(&r, &h, TP_LABEL_JSON_MAX, data, len, err);
	if (rc < 0) {
		tp_err_wrap(err, rc, "reading the %s", what);
		goto out;
	}
	if (memcmp(h.content_magic, tp_magic(magic), 8)) {
		rc = tp_err_set(err, -TP_EFORMAT, "reading the %s: got unexpected content magic", what);
		goto out;
	}
	uint8_t extra;
	long n = tp_block_reader_read(&r, &extra, 1, err);
	if (n != 0) {
		rc = n < 0 ? tp_err_wrap(err, (int)n, "reading the %s", what)
			   : tp_err_set(err, -TP_EFORMAT, "reading the %s: unexpected data after the label", what);
		goto out;
	}
out:
	tp_block_reader_free(&r);
	if (rc < 0) {
		free(*data);
		*data = NULL;
	}
	return rc;
}

int tp_media_label_read(const tp_tape_io *io, tp_media_label *out, tp_err *err)
{
	uint8_t *d;
	size_t len;
	int rc = read_label_file(io, TP_MAGIC_MEDIA_LABEL, "media label", &d, &len, err);
	if (rc != 0)
		return rc;
	rc = tp_media_label_parse(d, len, out, err);
	free(d);
	return rc;
}

int tp_media_set_label_read(const tp_tape_io *io, tp_media_set_label *out, tp_err *err)
{
	uint8_t *d;
	size_t len;
	memset(out, 0, sizeof(*out));
	int rc = read_label_file(io, TP_MAGIC_MEDIA_SET_LABEL, "media set label", &d, &len, err);
	if (rc != 0)
		return rc;
	rc = tp_media_set_label_parse(d, len, out, err);
	free(d);
	return rc;
}
