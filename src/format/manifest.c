/* Snapshot manifest (see manifest.h). */
#include "format/manifest.h"

#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "base/json_util.h"
#include "format/blob.h"

const char *tp_crypt_mode_name(int mode)
{
	switch (mode) {
	case TP_CRYPT_MODE_NONE: return "none";
	case TP_CRYPT_MODE_ENCRYPT: return "encrypt";
	case TP_CRYPT_MODE_SIGN_ONLY: return "sign-only";
	default: return "?";
	}
}

int tp_crypt_mode_parse(const char *s)
{
	if (!strcmp(s, "none"))
		return TP_CRYPT_MODE_NONE;
	if (!strcmp(s, "encrypt"))
		return TP_CRYPT_MODE_ENCRYPT;
	if (!strcmp(s, "sign-only"))
		return TP_CRYPT_MODE_SIGN_ONLY;
	return -EINVAL;
}

static int valid_type(const char *t)
{
	return !strcmp(t, "vm") || !strcmp(t, "ct") || !strcmp(t, "host");
}

static int valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > TP_MANIFEST_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
			 (i > 0 && (c == '.' || c == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

static int ends_with(const char *s, size_t n, const char *suf)
{
	size_t k = strlen(suf);
	return n > k && !memcmp(s + n - k, suf, k);
}

int tp_manifest_check_filename(const char *name, tp_err *err)
{
	size_t n = strlen(name);
	if (n == 0 || n > TP_MANIFEST_FILENAME_MAX)
		return tp_err_set(err, -TP_EFORMAT, "manifest file name '%.64s' is empty or longer than %d bytes",
				  name, TP_MANIFEST_FILENAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return tp_err_set(err, -TP_EFORMAT,
					  "manifest file name '%.64s' contains '/' or a control character", name);
	if (!ends_with(name, n, ".fidx") && !ends_with(name, n, ".didx") && !ends_with(name, n, ".blob"))
		return tp_err_set(err, -TP_EFORMAT,
				  "manifest file name '%.64s' does not end in .fidx, .didx or .blob", name);
	return 0;
}

static void manifest_zero(tp_manifest *m)
{
	memset(m, 0, sizeof(*m));
}

int tp_manifest_init(tp_manifest *m, const char *type, const char *id, int64_t time, tp_err *err)
{
	manifest_zero(m);
	if (!valid_type(type))
		return tp_err_set(err, -EINVAL, "manifest: invalid backup type '%.16s' (vm, ct or host)", type);
	if (!valid_id(id))
		return tp_err_set(err, -EINVAL, "manifest: invalid backup id '%.140s'", id);
	strcpy(m->backup_type, type);
	strcpy(m->backup_id, id);
	m->backup_time = time;
	m->unprotected = json_object();
	if (!m->unprotected)
		return tp_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

void tp_manifest_free(tp_manifest *m)
{
	free(m->files);
	json_decref(m->unprotected);
	json_decref(m->raw);
	manifest_zero(m);
}

const tp_manifest_file *tp_manifest_find(const tp_manifest *m, const char *filename)
{
	for (size_t i = 0; i < m->nfiles; i++)
		if (!strcmp(m->files[i].filename, filename))
			return &m->files[i];
	return NULL;
}

static int add_file(tp_manifest *m, const char *filename, int mode, uint64_t size,
		    const uint8_t csum[32], tp_err *err)
{
	int r = tp_manifest_check_filename(filename, err);
	if (r < 0)
		return r;
	if (tp_manifest_find(m, filename))
		return tp_err_set(err, -TP_EFORMAT, "manifest: file '%s' is listed twice", filename);
	if (m->nfiles >= TP_MANIFEST_MAX_FILES)
		return tp_err_set(err, -TP_EFORMAT, "manifest: more than %d files", TP_MANIFEST_MAX_FILES);
	if (m->nfiles == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		tp_manifest_file *f = realloc(m->files, cap * sizeof(*f));
		if (!f)
			return tp_err_set(err, -ENOMEM, "out of memory");
		m->files = f;
		m->cap = cap;
	}
	tp_manifest_file *f = &m->files[m->nfiles++];
	memset(f, 0, sizeof(*f));
	strcpy(f->filename, filename);
	f->crypt_mode = mode;
	f->size = size;
	memcpy(f->csum, csum, 32);
	return 0;
}

int tp_manifest_add_file(tp_manifest *m, const char *filename, const char *crypt_mode,
			 uint64_t size, const uint8_t csum[32], tp_err *err)
{
	int mode = tp_crypt_mode_parse(crypt_mode);
	if (mode < 0)
		return tp_err_set(err, -EINVAL, "manifest: invalid crypt-mode '%.32s' for %s", crypt_mode, filename);
	if (size > (uint64_t)INT64_MAX)
		return tp_err_set(err, -EINVAL, "manifest: size of %s does not fit JSON", filename);
	return add_file(m, filename, mode, size, csum, err);
}

/* ---- canonical JSON ---- */

static int canon_string(const char *s, size_t n, tp_buf *out)
{
	static const char hex[] = "0123456789abcdef";
	int r = tp_buf_append_u8(out, '"');
	for (size_t i = 0; i < n && r == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': r = tp_buf_append(out, "\\\"", 2); break;
		case '\\': r = tp_buf_append(out, "\\\\", 2); break;
		case '\b': r = tp_buf_append(out, "\\b", 2); break;
		case '\f': r = tp_buf_append(out, "\\f", 2); break;
		case '\n': r = tp_buf_append(out, "\\n", 2); break;
		case '\r': r = tp_buf_append(out, "\\r", 2); break;
		case '\t': r = tp_buf_append(out, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				r = tp_buf_append(out, u, 6);
			} else {
				r = tp_buf_append_u8(out, c);
			}
		}
	}
	return r ? r : tp_buf_append_u8(out, '"');
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int canon(const json_t *v, tp_buf *out, int depth, tp_err *err)
{
	int r = 0;
	if (depth > 64)
		return tp_err_set(err, -EINVAL, "canonical JSON: nesting deeper than 64");
	switch (json_typeof(v)) {
	case JSON_NULL:
		return tp_err_set(err, -EINVAL, "canonical JSON: unexpected null value");
	case JSON_REAL:
		return tp_err_set(err, -EINVAL, "canonical JSON: non-integer number");
	case JSON_TRUE:
		return tp_buf_append_str(out, "true");
	case JSON_FALSE:
		return tp_buf_append_str(out, "false");
	case JSON_INTEGER:
		return tp_buf_printf(out, "%lld", (long long)json_integer_value(v));
	case JSON_STRING:
		return canon_string(json_string_value(v), json_string_length(v), out);
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		r = tp_buf_append_u8(out, '[');
		json_array_foreach(v, i, x) {
			if (r == 0 && i)
				r = tp_buf_append_u8(out, ',');
			if (r == 0)
				r = canon(x, out, depth + 1, err);
		}
		return r ? r : tp_buf_append_u8(out, ']');
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys = malloc((n ? n : 1) * sizeof(*keys));
		if (!keys)
			return tp_err_set(err, -ENOMEM, "out of memory");
		const char *key;
		json_t *x;
		json_object_foreach((json_t *)v, key, x)
			keys[k++] = key;
		qsort(keys, n, sizeof(*keys), key_cmp);
		r = tp_buf_append_u8(out, '{');
		for (size_t i = 0; i < n && r == 0; i++) {
			if (i)
				r = tp_buf_append_u8(out, ',');
			if (r == 0)
				r = canon_string(keys[i], strlen(keys[i]), out);
			if (r == 0)
				r = tp_buf_append_u8(out, ':');
			if (r == 0)
				r = canon(json_object_get(v, keys[i]), out, depth + 1, err);
		}
		free(keys);
		return r ? r : tp_buf_append_u8(out, '}');
	}
	}
	return tp_err_set(err, -EINVAL, "canonical JSON: unknown value type");
}

int tp_canonical_json(const json_t *v, tp_buf *out, tp_err *err)
{
	int r = canon(v, out, 0, err);
	if (r == -ENOMEM)
		tp_err_set(err, r, "out of memory");
	return r;
}

int tp_manifest_compute_signature(const json_t *v, const tp_crypt_config *cc, uint8_t out[32],
				  tp_err *err)
{
	if (!json_is_object(v))
		return tp_err_set(err, -EINVAL, "manifest signature: not a JSON object");
	json_t *c = json_copy((json_t *)v);
	if (!c)
		return tp_err_set(err, -ENOMEM, "out of memory");
	json_object_del(c, "unprotected");
	json_object_del(c, "signature");
	tp_buf b = TP_BUF_INIT;
	int r = tp_canonical_json(c, &b, err);
	if (r == 0)
		tp_crypt_auth_tag(cc, b.data, b.len, out);
	tp_buf_free(&b);
	json_decref(c);
	return r;
}

/* ---- JSON out ---- */

/* The signed part: everything but unprotected and signature. */
static json_t *signed_json(const tp_manifest *m)
{
	json_t *files = json_array();
	json_t *o = json_object();
	if (!files || !o)
		goto fail;
	for (size_t i = 0; i < m->nfiles; i++) {
		const tp_manifest_file *f = &m->files[i];
		char hex[65];
		tp_hex_encode(f->csum, 32, hex);
		json_t *fo = json_pack("{s:s,s:s,s:I,s:s}", "filename", f->filename, "crypt-mode",
				       tp_crypt_mode_name(f->crypt_mode), "size", (json_int_t)f->size,
				       "csum", hex);
		if (!fo || json_array_append_new(files, fo) < 0)
			goto fail;
	}
	if (json_object_set_new(o, "backup-type", json_string(m->backup_type)) < 0 ||
	    json_object_set_new(o, "backup-id", json_string(m->backup_id)) < 0 ||
	    json_object_set_new(o, "backup-time", json_integer(m->backup_time)) < 0 ||
	    json_object_set_new(o, "files", files) < 0)
		goto fail_o;
	return o;
fail:
	json_decref(files);
fail_o:
	json_decref(o);
	return NULL;
}

int tp_manifest_to_json(tp_manifest *m, const tp_crypt_config *cc, char **out, tp_err *err)
{
	int r = 0;
	*out = NULL;
	json_t *o = signed_json(m);
	if (!o)
		return tp_err_set(err, -ENOMEM, "out of memory building the manifest");
	if (cc) {
		char fp[TP_FINGERPRINT_TEXT_LEN];
		if ((r = tp_manifest_compute_signature(o, cc, m->signature, err)) < 0)
			goto out;
		m->has_signature = 1;
		tp_fingerprint_text(cc->fingerprint, fp);
		if (json_object_set_new(m->unprotected, "key-fingerprint", json_string(fp)) < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	json_t *sig = json_null();
	if (m->has_signature) {
		char hex[65];
		tp_hex_encode(m->signature, 32, hex);
		sig = json_string(hex);
	}
	if (json_object_set(o, "unprotected", m->unprotected) < 0 ||
	    json_object_set_new(o, "signature", sig) < 0) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	*out = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!*out)
		r = tp_err_set(err, -ENOMEM, "out of memory encoding the manifest");
out:
	json_decref(o);
	return r;
}

int tp_manifest_encode_blob(tp_manifest *m, const tp_crypt_config *cc, tp_buf *out, tp_err *err)
{
	char *s = NULL;
	int r = tp_manifest_to_json(m, cc, &s, err);
	if (r < 0)
		return r;
	r = tp_blob_encode(s, strlen(s), NULL, 1, out, err);
	free(s);
	return r;
}

/* ---- parse ---- */

int tp_manifest_parse(tp_manifest *m, const void *json, size_t len, const char *what, tp_err *err)
{
	int r;
	const char *s;
	int64_t t;
	manifest_zero(m);
	json_t *root = tp_json_parse(json, len, what, err);
	if (!root)
		return -TP_EFORMAT;
	if (!json_is_object(root)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: manifest is not a JSON object", what);
		goto fail;
	}
	if ((r = tp_json_get_str(root, "backup-type", &s, what, err)) < 0)
		goto fail;
	if (!valid_type(s)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: invalid backup-type '%.16s'", what, s);
		goto fail;
	}
	strcpy(m->backup_type, s);
	if ((r = tp_json_get_str(root, "backup-id", &s, what, err)) < 0)
		goto fail;
	if (!valid_id(s)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: invalid backup-id '%.140s'", what, s);
		goto fail;
	}
	strcpy(m->backup_id, s);
	if ((r = tp_json_get_int(root, "backup-time", &t, what, err)) < 0)
		goto fail;
	m->backup_time = t;

	json_t *files = json_object_get(root, "files");
	if (!json_is_array(files)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: missing or non-array \"files\"", what);
		goto fail;
	}
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		char fwhat[96];
		const char *name, *csum_hex;
		int64_t size;
		snprintf(fwhat, sizeof(fwhat), "%.64s: files[%zu]", what, i);
		if (!json_is_object(f)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s is not an object", fwhat);
			goto fail;
		}
		if ((r = tp_json_get_str(f, "filename", &name, fwhat, err)) < 0 ||
		    (r = tp_json_get_int(f, "size", &size, fwhat, err)) < 0 ||
		    (r = tp_json_get_str(f, "csum", &csum_hex, fwhat, err)) < 0)
			goto fail;
		json_t *cm = json_object_get(f, "crypt-mode");
		int mode = TP_CRYPT_MODE_NONE; /* serde default for manifests from old clients */
		if (cm && !json_is_null(cm)) {
			mode = json_is_string(cm) ? tp_crypt_mode_parse(json_string_value(cm)) : -EINVAL;
			if (mode < 0) {
				r = tp_err_set(err, -TP_EFORMAT, "%s: invalid crypt-mode", fwhat);
				goto fail;
			}
		}
		uint8_t csum[32];
		if (size < 0) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: negative size", fwhat);
			goto fail;
		}
		if (tp_hex_decode(csum_hex, csum, 32) < 0) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: csum is not 64 hex digits", fwhat);
			goto fail;
		}
		if ((r = add_file(m, name, mode, (uint64_t)size, csum, err)) < 0) {
			tp_err_wrap(err, r, "%s", fwhat);
			goto fail;
		}
	}

	json_t *u = json_object_get(root, "unprotected");
	if (u && !json_is_null(u) && !json_is_object(u)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: \"unprotected\" is not an object", what);
		goto fail;
	}
	m->unprotected = json_is_object(u) ? json_deep_copy(u) : json_object();
	if (!m->unprotected) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	json_t *fp = json_object_get(m->unprotected, "key-fingerprint");
	uint8_t fpb[32];
	if (fp && !json_is_null(fp) &&
	    (!json_is_string(fp) || tp_fingerprint_from_text(json_string_value(fp), fpb) < 0)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: malformed unprotected.key-fingerprint", what);
		goto fail;
	}
	json_t *sig = json_object_get(root, "signature");
	if (sig && !json_is_null(sig)) {
		if (!json_is_string(sig) || tp_hex_decode(json_string_value(sig), m->signature, 32) < 0) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: signature is not null or 64 hex digits", what);
			goto fail;
		}
		m->has_signature = 1;
	}
	m->raw = root;
	return 0;
fail:
	json_decref(root);
	tp_manifest_free(m);
	return r;
}

int tp_manifest_decode_blob(tp_manifest *m, const void *blob, size_t len, const char *what,
			    tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	manifest_zero(m);
	int r = tp_blob_decode(blob, len, NULL, TP_BLOB_MAX_SIZE, NULL, what, &b, err);
	if (r == 0)
		r = tp_manifest_parse(m, b.data ? (const char *)b.data : "", b.len, what, err);
	tp_buf_free(&b);
	return r;
}

int tp_manifest_key_fingerprint(const tp_manifest *m, uint8_t fp[32])
{
	const char *s = m->unprotected ? tp_json_opt_str(m->unprotected, "key-fingerprint") : NULL;
	return s && tp_fingerprint_from_text(s, fp) == 0 ? 1 : 0;
}

int tp_manifest_verify(const tp_manifest *m, const tp_crypt_config *cc, tp_err *err)
{
	if (!cc || !m->has_signature)
		return 0;
	uint8_t fp[32];
	if (tp_manifest_key_fingerprint(m, fp) && memcmp(fp, cc->fingerprint, 32)) {
		char a[TP_FINGERPRINT_TEXT_LEN], b[TP_FINGERPRINT_TEXT_LEN];
		tp_fingerprint_text(fp, a);
		tp_fingerprint_text(cc->fingerprint, b);
		return tp_err_set(err, -TP_EKEY,
				  "wrong key - manifest's key %s does not match provided key %s", a, b);
	}
	uint8_t sig[32];
	int r;
	if (m->raw) {
		r = tp_manifest_compute_signature(m->raw, cc, sig, err);
	} else {
		json_t *o = signed_json(m);
		if (!o)
			return tp_err_set(err, -ENOMEM, "out of memory");
		r = tp_manifest_compute_signature(o, cc, sig, err);
		json_decref(o);
	}
	if (r < 0)
		return r;
	if (memcmp(sig, m->signature, 32))
		return tp_err_set(err, -TP_EDIGEST, "wrong signature in manifest of %s/%s/%lld", m->backup_type,
				  m->backup_id, (long long)m->backup_time);
	return 0;
}
