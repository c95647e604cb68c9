/* Tape encryption key store (PBS tape-encryption-keys.json + key configs), restore from tape, set keys. */
#include "tape/tape_key.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "base/lock.h"
#include "base/paths.h"
#include "base/timefmt.h"
#include "crypto/cipher.h"
#include "crypto/crypt_config.h"
#include "format/media_label.h"
#include "tape/pool_config.h"

#define LOCK_TIMEOUT_MS 10000
#define PAPERKEY_BEGIN "-----BEGIN PROXMOX BACKUP KEY-----"
#define PAPERKEY_END "-----END PROXMOX BACKUP KEY-----"

/* Both files, loaded and validated; the arrays are owned. */
typedef struct key_store {
	char *keys_path, *cfg_path;
	json_t *keys;     /* [{fingerprint, key}] */
	json_t *configs;  /* [KeyConfig] */
} key_store;

static void fp_text(const uint8_t fp[32], char out[TP_FINGERPRINT_TEXT_LEN])
{
	tp_fingerprint_text(fp, out);
}

static void store_free(key_store *s)
{
	free(s->keys_path);
	free(s->cfg_path);
	json_decref(s->keys);
	json_decref(s->configs);
	memset(s, 0, sizeof(*s));
}

/* A missing file is an empty list; anything else must be a JSON array. */
static int load_array(const char *path, json_t **out, tp_err *err)
{
	*out = NULL;
	if (!tp_path_exists(path)) {
		*out = json_array();
		return *out ? 0 : tp_err_set(err, -ENOMEM, "out of memory");
	}
	tp_err e = { 0 };
	json_t *v = tp_json_load_file(path, TP_TAPE_KEYS_MAX_SIZE, &e);
	if (!v)
		return tp_err_set(err, e.code ? e.code : -TP_EFORMAT, "%s", e.msg);
	if (!json_is_array(v)) {
		json_decref(v);
		return tp_err_set(err, -TP_EFORMAT, "%s: not a JSON array", path);
	}
	*out = v;
	return 0;
}

static int entry_fingerprint(const json_t *o, const char *path, size_t i, uint8_t fp[32], tp_err *err)
{
	const char *s;
	if (!json_is_object(o))
		return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu is not an object", path, i);
	if (tp_json_get_str(o, "fingerprint", &s, path, err) < 0)
		return tp_err_wrap(err, -TP_EFORMAT, "entry %zu", i);
	if (tp_fingerprint_from_text(s, fp) < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu: invalid fingerprint '%.100s'", path, i, s);
	return 0;
}

/* Checks the plain-key list: objects with a fingerprint and 64 hex digits, no duplicates. */
static int check_keys(const json_t *arr, const char *path, tp_err *err)
{
	size_t n = json_array_size(arr);
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(arr, i);
		uint8_t fp[32], key[32];
		const char *k;
		int r = entry_fingerprint(o, path, i, fp, err);
		if (r < 0)
			return r;
		if (tp_json_get_str(o, "key", &k, path, err) < 0)
			return tp_err_wrap(err, -TP_EFORMAT, "entry %zu", i);
		if (strlen(k) != 64 || tp_hex_decode(k, key, 32) < 0)
			return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu: key is not 64 hex digits", path, i);
		explicit_bzero(key, sizeof(key));
		for (size_t j = 0; j < i; j++) {
			uint8_t other[32];
			entry_fingerprint(json_array_get(arr, j), path, j, other, NULL);
			if (!memcmp(fp, other, 32)) {
				char t[TP_FINGERPRINT_TEXT_LEN];
				fp_text(fp, t);
				return tp_err_set(err, -TP_EFORMAT, "%s: entry %zu: duplicate fingerprint %s", path, i, t);
			}
		}
	}
	return 0;
}

/* Checks the key-config list: valid PBS KeyConfigs, each with a fingerprint, no duplicates. */
static int check_configs(const json_t *arr, const char *path, tp_err *err)
{
	size_t n = json_array_size(arr);
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(arr, i);
		char what[600];
		snprintf(what, sizeof(what), "%s: entry %zu", path, i);
		tp_key_config kc;
		int r = tp_key_config_from_json(o, &kc, what, err);
		if (r < 0)
			return r;
		int has = kc.has_fingerprint;
		tp_key_config_clear(&kc);
		if (!has)
			return tp_err_set(err, -TP_EFORMAT, "%s: key config without fingerprint", what);
		uint8_t fp[32], other[32];
		entry_fingerprint(o, path, i, fp, NULL);
		for (size_t j = 0; j < i; j++) {
			entry_fingerprint(json_array_get(arr, j), path, j, other, NULL);
			if (!memcmp(fp, other, 32)) {
				char t[TP_FINGERPRINT_TEXT_LEN];
				fp_text(fp, t);
				return tp_err_set(err, -TP_EFORMAT, "%s: duplicate fingerprint %s", what, t);
			}
		}
	}
	return 0;
}

enum { LOAD_KEYS = 1, LOAD_CONFIGS = 2, LOAD_BOTH = 3 };

static int store_load(key_store *s, int which, tp_err *err)
{
	int r;
	memset(s, 0, sizeof(*s));
	s->keys_path = tp_config_path(TP_TAPE_KEYS_FILE);
	s->cfg_path = tp_config_path(TP_TAPE_KEY_CONFIG_FILE);
	if (!s->keys_path || !s->cfg_path) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (which & LOAD_KEYS) {
		if ((r = load_array(s->keys_path, &s->keys, err)) < 0 || (r = check_keys(s->keys, s->keys_path, err)) < 0)
			goto fail;
	}
	if (which & LOAD_CONFIGS) {
		if ((r = load_array(s->cfg_path, &s->configs, err)) < 0 ||
		    (r = check_configs(s->configs, s->cfg_path, err)) < 0)
			goto fail;
	}
	return 0;
fail:
	store_free(s);
	return r;
}

/* Index of the (validated) entry with fingerprint fp, or -1. */
static long find_fp(const json_t *arr, const uint8_t fp[32])
{
	size_t n = json_array_size(arr);
	for (size_t i = 0; i < n; i++) {
		uint8_t x[32];
		if (entry_fingerprint(json_array_get(arr, i), "", i, x, NULL) == 0 && !memcmp(x, fp, 32))
			return (long)i;
	}
	return -1;
}

static int entry_key(const json_t *o, uint8_t key[32])
{
	const char *k = json_string_value(json_object_get(o, "key"));
	return k && strlen(k) == 64 ? tp_hex_decode(k, key, 32) : -EINVAL;
}

static json_t *key_entry_new(const uint8_t fp[32], const uint8_t key[32])
{
	char t[TP_FINGERPRINT_TEXT_LEN], hex[65];
	fp_text(fp, t);
	tp_hex_encode(key, 32, hex);
	json_t *o = json_pack("{s:s,s:s}", "fingerprint", t, "key", hex);
	explicit_bzero(hex, sizeof(hex));
	return o;
}

static int store_lock(tp_lock *l, tp_err *err)
{
	char *p = tp_config_path(TP_TAPE_KEYS_LOCK);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, LOCK_TIMEOUT_MS, NULL, "tape encryption keys", err);
	free(p);
	return r;
}

/*
 * Writes the changed files: plain keys first (as PBS), then the configs; if
 * the second write fails the keys file is put back as it was.
 */
static int store_save(const key_store *s, const json_t *old_keys, int keys_changed, int configs_changed,
		      tp_err *err)
{
	int r;
	if (keys_changed && (r = tp_json_save_file(s->keys_path, s->keys, 0600, err)) < 0)
		return r;
	if (configs_changed && (r = tp_json_save_file(s->cfg_path, s->configs, 0600, err)) < 0) {
		if (keys_changed && old_keys)
			tp_json_save_file(s->keys_path, old_keys, 0600, NULL);
		return r;
	}
	return 0;
}

/* Adds key + its config (which must carry the key's fingerprint) under the lock. */
static int store_insert(const uint8_t key[32], const tp_key_config *kc, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	key_store s;
	json_t *old_keys = NULL, *kj = NULL;
	char t[TP_FINGERPRINT_TEXT_LEN];
	fp_text(kc->fingerprint, t);
	int r = store_lock(&l, err);
	if (r < 0)
		return r;
	if ((r = store_load(&s, LOAD_BOTH, err)) < 0)
		goto out_lock;
	long ki = find_fp(s.keys, kc->fingerprint), ci = find_fp(s.configs, kc->fingerprint);
	if (ci >= 0) {
		r = tp_err_set(err, -TP_EEXISTS, "tape encryption key %s already exists", t);
		goto out;
	}
	if (ki >= 0) {
		/* a plain key without its config (interrupted write): the config completes it */
		uint8_t have[32];
		int same = entry_key(json_array_get(s.keys, (size_t)ki), have) == 0 && !memcmp(have, key, 32);
		explicit_bzero(have, sizeof(have));
		if (!same) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: the stored key with fingerprint %s is a different key",
				       s.keys_path, t);
			goto out;
		}
	} else {
		old_keys = json_deep_copy(s.keys);
		kj = key_entry_new(kc->fingerprint, key);
		if (!old_keys || !kj) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		r = json_array_append_new(s.keys, kj);
		kj = NULL;
		if (r < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	json_t *cj = tp_key_config_to_json(kc);
	if (!cj || json_array_append_new(s.configs, cj) < 0) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = store_save(&s, old_keys, ki < 0, 1, err);
out:
	json_decref(old_keys);
	json_decref(kj);
	store_free(&s);
out_lock:
	tp_lock_release(&l);
	return r;
}

int tp_tape_key_create(int kdf, const char *passphrase, const char *hint, uint8_t fp[32], tp_err *err)
{
	uint8_t key[32];
	tp_key_config kc;
	int r;
	if (kdf != TP_KDF_NONE && kdf != TP_KDF_SCRYPT && kdf != TP_KDF_PBKDF2)
		return tp_err_set(err, -EINVAL, "unknown key derivation function %d", kdf);
	if (kdf != TP_KDF_NONE && (!passphrase || !*passphrase))
		return tp_err_set(err, -TP_EKEY, "a tape encryption key with kdf %s needs a passphrase",
				  tp_kdf_name(kdf));
	if (hint && strlen(hint) > TP_KEYFILE_HINT_MAX)
		return tp_err_set(err, -EINVAL, "password hint is longer than %d bytes", TP_KEYFILE_HINT_MAX);
	if (tp_random_bytes(key, sizeof(key)) < 0)
		return tp_err_set(err, -EIO, "no random bytes for a new tape encryption key");
	if ((r = tp_key_config_create(&kc, key, kdf, passphrase, hint, err)) < 0)
		goto out;
	if ((r = store_insert(key, &kc, err)) < 0)
		goto out;
	if (fp)
		memcpy(fp, kc.fingerprint, 32);
out:
	explicit_bzero(key, sizeof(key));
	tp_key_config_clear(&kc);
	return r;
}

static int info_cmp(const void *a, const void *b)
{
	const tp_tape_key_info *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return memcmp(x->fingerprint, y->fingerprint, 32);
}

int tp_tape_key_list(tp_tape_key_info **out, size_t *n, tp_err *err)
{
	key_store s;
	*out = NULL;
	*n = 0;
	int r = store_load(&s, LOAD_BOTH, err);
	if (r < 0)
		return r;
	size_t nc = json_array_size(s.configs), nk = json_array_size(s.keys), cnt = 0;
	tp_tape_key_info *v = calloc(nc + nk + 1, sizeof(*v));
	if (!v) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nc; i++) {
		tp_key_config kc;
		if ((r = tp_key_config_from_json(json_array_get(s.configs, i), &kc, s.cfg_path, err)) < 0)
			goto out;
		tp_tape_key_info *x = &v[cnt++];
		memcpy(x->fingerprint, kc.fingerprint, 32);
		x->kdf = kc.kdf;
		x->created = kc.created;
		x->modified = kc.modified;
		x->has_hint = kc.has_hint;
		memcpy(x->hint, kc.hint, sizeof(x->hint));
		x->has_config = 1;
		x->has_key = find_fp(s.keys, kc.fingerprint) >= 0;
		tp_key_config_clear(&kc);
	}
	for (size_t i = 0; i < nk; i++) {
		uint8_t fp[32];
		entry_fingerprint(json_array_get(s.keys, i), s.keys_path, i, fp, NULL);
		if (find_fp(s.configs, fp) >= 0)
			continue;
		tp_tape_key_info *x = &v[cnt++];
		memcpy(x->fingerprint, fp, 32);
		x->kdf = -1;
		x->has_key = 1;
	}
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), info_cmp);
	if (cnt == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	*n = cnt;
	v = NULL;
	r = 0;
out:
	free(v);
	store_free(&s);
	return r;
}

static int not_found(const uint8_t fp[32], tp_err *err)
{
	char t[TP_FINGERPRINT_TEXT_LEN];
	fp_text(fp, t);
	return tp_err_set(err, -TP_ENOTFOUND,
			  "no tape encryption key with fingerprint %s; restore it with `tapir tape key restore`", t);
}

int tp_tape_key_show(const uint8_t fp[32], tp_tape_key_info *info, tp_err *err)
{
	tp_tape_key_info *v;
	size_t n;
	int r = tp_tape_key_list(&v, &n, err);
	if (r < 0)
		return r;
	r = not_found(fp, err);
	for (size_t i = 0; i < n; i++) {
		if (!memcmp(v[i].fingerprint, fp, 32)) {
			*info = v[i];
			tp_err_clear(err);
			r = 0;
			break;
		}
	}
	free(v);
	return r;
}

int tp_tape_key_change_passphrase(const uint8_t fp[32], const char *old_pass, const char *new_pass, int kdf,
				  const char *hint, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	key_store s;
	tp_key_config kc, nkc;
	uint8_t key[32];
	json_t *old_keys = NULL;
	int r, keys_changed = 0;
	char t[TP_FINGERPRINT_TEXT_LEN];
	memset(&kc, 0, sizeof(kc));
	memset(&nkc, 0, sizeof(nkc));
	memset(key, 0, sizeof(key));
	fp_text(fp, t);
	if (kdf >= 0 && kdf != TP_KDF_NONE && kdf != TP_KDF_SCRYPT && kdf != TP_KDF_PBKDF2)
		return tp_err_set(err, -EINVAL, "unknown key derivation function %d", kdf);
	if (hint && strlen(hint) > TP_KEYFILE_HINT_MAX)
		return tp_err_set(err, -EINVAL, "password hint is longer than %d bytes", TP_KEYFILE_HINT_MAX);
	if ((r = store_lock(&l, err)) < 0)
		return r;
	if ((r = store_load(&s, LOAD_BOTH, err)) < 0)
		goto out_lock;
	long ci = find_fp(s.configs, fp), ki = find_fp(s.keys, fp);
	if (ci < 0) {
		r = ki < 0 ? not_found(fp, err)
			   : tp_err_set(err, -TP_ENOTFOUND,
					"tape encryption key %s has no key config to change; restore it with "
					"`tapir tape key restore`", t);
		goto out;
	}
	if ((r = tp_key_config_from_json(json_array_get(s.configs, (size_t)ci), &kc, s.cfg_path, err)) < 0)
		goto out;
	if ((r = tp_key_config_decrypt(&kc, old_pass, key, err)) < 0) {
		tp_err_wrap(err, r, "tape encryption key %s", t);
		goto out;
	}
	int nkdf = kdf >= 0 ? kdf : (kc.kdf == TP_KDF_NONE ? TP_KDF_SCRYPT : kc.kdf);
	if (nkdf != TP_KDF_NONE && (!new_pass || !*new_pass)) {
		r = tp_err_set(err, -TP_EKEY, "tape encryption key %s: the new passphrase is empty", t);
		goto out;
	}
	if ((r = tp_key_config_create(&nkc, key, nkdf, new_pass, hint ? hint : (kc.has_hint ? kc.hint : NULL),
				      err)) < 0)
		goto out;
	nkc.created = kc.created;
	if (ki >= 0) {
		uint8_t have[32];
		int same = entry_key(json_array_get(s.keys, (size_t)ki), have) == 0 && !memcmp(have, key, 32);
		explicit_bzero(have, sizeof(have));
		if (!same) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: the stored key with fingerprint %s is a different key",
				       s.keys_path, t);
			goto out;
		}
	} else {
		/* the plain key went missing: the config we just opened brings it back */
		json_t *kj = key_entry_new(fp, key);
		old_keys = json_deep_copy(s.keys);
		if (!old_keys || !kj || json_array_append_new(s.keys, kj) < 0) {
			if (!old_keys)
				json_decref(kj);
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		keys_changed = 1;
	}
	json_t *cj = tp_key_config_to_json(&nkc);
	if (!cj || json_array_set_new(s.configs, (size_t)ci, cj) < 0) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = store_save(&s, old_keys, keys_changed, 1, err);
out:
	explicit_bzero(key, sizeof(key));
	tp_key_config_clear(&kc);
	tp_key_config_clear(&nkc);
	json_decref(old_keys);
	store_free(&s);
out_lock:
	tp_lock_release(&l);
	return r;
}

/* Appends "| text<pad> |\n" for a frame of inner width w. */
static int frame_line(tp_buf *b, const char *text, size_t len, size_t w)
{
	int r = tp_buf_append(b, "| ", 2);
	if (r == 0 && len)
		r = tp_buf_append(b, text, len);
	for (size_t i = len; r == 0 && i < w; i++)
		r = tp_buf_append(b, " ", 1);
	if (r == 0)
		r = tp_buf_append(b, " |\n", 3);
	return r;
}

static int frame_rule(tp_buf *b, size_t w)
{
	int r = tp_buf_append(b, "+", 1);
	for (size_t i = 0; r == 0 && i < w + 2; i++)
		r = tp_buf_append(b, "-", 1);
	if (r == 0)
		r = tp_buf_append(b, "+\n", 2);
	return r;
}

int tp_tape_key_paperkey_text(const json_t *kc, char **text, tp_err *err)
{
	tp_key_config c;
	tp_buf b = TP_BUF_INIT;
	char *json = NULL;
	int r;
	*text = NULL;
	if ((r = tp_key_config_from_json(kc, &c, "paperkey", err)) < 0)
		return r;
	char t[TP_FINGERPRINT_TEXT_LEN] = "(none)", head[160], created[32];
	if (c.has_fingerprint)
		fp_text(c.fingerprint, t);
	tp_time_local(c.created, created);
	json = tp_json_pretty(kc);
	if (!json) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* inner width: the longest line of the block */
	const char *heads[4];
	char h0[200], h1[200], h2[200];
	snprintf(h0, sizeof(h0), "tapir tape encryption key (PBS KeyConfig), kdf %s, created %s", tp_kdf_name(c.kdf),
		 created);
	snprintf(h1, sizeof(h1), "fingerprint: %s", t);
	snprintf(h2, sizeof(h2), "restore: tapir tape key restore --key-config FILE-WITH-THIS-TEXT");
	heads[0] = h0;
	heads[1] = h1;
	heads[2] = h2;
	heads[3] = NULL;
	size_t w = strlen(PAPERKEY_BEGIN);
	for (int i = 0; heads[i]; i++)
		if (strlen(heads[i]) > w)
			w = strlen(heads[i]);
	for (const char *p = json; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len > w)
			w = len;
		p += len + (e ? 1 : 0);
	}
	snprintf(head, sizeof(head), "%s", PAPERKEY_BEGIN);
	r = frame_rule(&b, w);
	for (int i = 0; r == 0 && heads[i]; i++)
		r = frame_line(&b, heads[i], strlen(heads[i]), w);
	if (r == 0)
		r = frame_rule(&b, w);
	if (r == 0)
		r = frame_line(&b, head, strlen(head), w);
	for (const char *p = json; r == 0 && *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		r = frame_line(&b, p, len, w);
		p += len + (e ? 1 : 0);
	}
	if (r == 0)
		r = frame_line(&b, PAPERKEY_END, strlen(PAPERKEY_END), w);
	if (r == 0)
		r = frame_rule(&b, w);
	if (r == 0)
		r = tp_buf_append(&b, "", 1);
	if (r < 0) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	*text = (char *)b.data;
	b.data = NULL;
out:
	free(json);
	tp_buf_free(&b);
	tp_key_config_clear(&c);
	return r;
}

int tp_tape_key_paperkey(const uint8_t fp[32], char **text, tp_err *err)
{
	json_t *kc;
	*text = NULL;
	int r = tp_tape_key_config(fp, &kc, err);
	if (r < 0)
		return r;
	r = tp_tape_key_paperkey_text(kc, text, err);
	json_decref(kc);
	return r;
}

/* The JSON between the paperkey markers, with any "| ... |" frame taken off each line (malloc'd). */
static int paperkey_extract(const char *s, size_t len, const char *what, char **out, size_t *outlen, tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	int in = 0, done = 0, r = 0;
	const char *end = s + len;
	for (const char *p = s; p < end && !done;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *a = p, *z = le;
		p = nl ? nl + 1 : end;
		while (a < z && (*a == ' ' || *a == '\t'))
			a++;
		while (z > a && (z[-1] == ' ' || z[-1] == '\t' || z[-1] == '\r'))
			z--;
		if (a < z && *a == '|') {
			a++;
			if (a < z && *a == ' ')
				a++;
			if (z > a && z[-1] == '|') {
				z--;
				while (z > a && z[-1] == ' ')
					z--;
			}
		}
		size_t n = (size_t)(z - a);
		if (!in) {
			if (n == strlen(PAPERKEY_BEGIN) && !memcmp(a, PAPERKEY_BEGIN, n))
				in = 1;
			continue;
		}
		if (n == strlen(PAPERKEY_END) && !memcmp(a, PAPERKEY_END, n)) {
			done = 1;
			break;
		}
		if ((n && tp_buf_append(&b, a, n) < 0) || tp_buf_append(&b, "\n", 1) < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!done) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: paperkey without \"%s\" line", what, PAPERKEY_END);
		goto out;
	}
	*out = (char *)b.data;
	*outlen = b.len;
	b.data = NULL;
out:
	tp_buf_free(&b);
	return r;
}

int tp_tape_key_config_parse(const void *data, size_t len, const char *what, json_t **kc, tp_err *err)
{
	char *extracted = NULL;
	json_t *j = NULL;
	int r;
	*kc = NULL;
	if (len == 0 || len > TP_TAPE_KEYS_MAX_SIZE)
		return tp_err_set(err, -TP_EFORMAT, "%s: %zu bytes is not a key config", what, len);
	if (memmem(data, len, PAPERKEY_BEGIN, strlen(PAPERKEY_BEGIN))) {
		size_t n = 0;
		if ((r = paperkey_extract(data, len, what, &extracted, &n, err)) < 0)
			return r;
		data = extracted;
		len = n;
	}
	if (!(j = tp_json_parse(data, len, what, err))) {
		r = -TP_EFORMAT;
		goto out;
	}
	json_t *c = json_is_object(j) ? json_object_get(j, "key-config") : NULL;
	if (!c && json_is_object(j) && json_object_get(j, "data") && json_object_get(j, "kdf"))
		c = j;
	if (!c || !json_is_object(c)) {
		r = tp_err_set(err, -TP_EFORMAT,
			       "%s: no key config found (expected a KeyConfig, a media-set label with key-config or "
			       "a paperkey)",
			       what);
		goto out;
	}
	tp_key_config k;
	if ((r = tp_key_config_from_json(c, &k, what, err)) < 0)
		goto out;
	tp_key_config_clear(&k);
	*kc = json_incref(c);
	r = 0;
out:
	json_decref(j);
	free(extracted);
	return r;
}

int tp_tape_key_restore(const json_t *kcj, const char *passphrase, const uint8_t *expect_fp, uint8_t fp[32],
			tp_err *err)
{
	tp_key_config kc;
	tp_crypt_config cc;
	uint8_t key[32];
	int r;
	memset(&cc, 0, sizeof(cc));
	memset(key, 0, sizeof(key));
	if ((r = tp_key_config_from_json(kcj, &kc, "key config", err)) < 0)
		return r;
	/* decrypt checks the config's own fingerprint against the key */
	if ((r = tp_key_config_decrypt(&kc, passphrase, key, err)) < 0)
		goto out;
	if ((r = tp_crypt_config_init(&cc, key, err)) < 0)
		goto out;
	if (expect_fp && memcmp(cc.fingerprint, expect_fp, 32)) {
		char a[TP_FINGERPRINT_TEXT_LEN], b[TP_FINGERPRINT_TEXT_LEN];
		fp_text(cc.fingerprint, a);
		fp_text(expect_fp, b);
		r = tp_err_set(err, -TP_EKEY, "the key config holds key %s, but %s was expected", a, b);
		goto out;
	}
	kc.has_fingerprint = 1;
	memcpy(kc.fingerprint, cc.fingerprint, 32);
	if ((r = store_insert(key, &kc, err)) < 0)
		goto out;
	if (fp)
		memcpy(fp, cc.fingerprint, 32);
out:
	explicit_bzero(key, sizeof(key));
	tp_crypt_config_clear(&cc);
	tp_key_config_clear(&kc);
	return r;
}

int tp_tape_key_restore_from_drive(tp_drive *d, const char *passphrase, uint8_t fp[32], char *label, tp_err *err)
{
	tp_drive_status st;
	tp_media_label ml;
	tp_media_set_label msl;
	tp_tape_io io;
	int r;
	memset(&msl, 0, sizeof(msl));
	if (label)
		label[0] = 0;
	if ((r = tp_drive_get_status(d, &st, err)) < 0)
		return r;
	if (!st.loaded)
		return tp_err_set(err, -ENOMEDIUM, "drive %s: no tape loaded", d->name);
	if ((r = tp_drive_rewind(d, err)) < 0)
		return r;
	tp_drive_tape_io(d, &io);
	r = tp_media_label_read(&io, &ml, err);
	if (r == TP_LABEL_NONE)
		return tp_err_set(err, -TP_ENOTFOUND, "drive %s: the tape is blank (no media label)", d->name);
	if (r < 0)
		return tp_err_wrap(err, r, "drive %s: reading the media label", d->name);
	if (label)
		snprintf(label, TP_DRIVE_LABEL_MAX + 1, "%s", ml.label_text);
	if ((r = tp_drive_move_to_file(d, 1, err)) < 0)
		return tp_err_wrap(err, r, "tape %s in drive %s: positioning at file 1", ml.label_text, d->name);
	r = tp_media_set_label_read(&io, &msl, err);
	if (r == TP_LABEL_NONE)
		return tp_err_set(err, -TP_ENOTFOUND, "tape %s in drive %s has no media-set label", ml.label_text,
				  d->name);
	if (r < 0)
		return tp_err_wrap(err, r, "tape %s in drive %s: reading the media-set label", ml.label_text, d->name);
	char u[37];
	tp_uuid_unparse(msl.uuid, u);
	if (!msl.key_config) {
		r = tp_err_set(err, -TP_ENOTFOUND,
			       "tape %s (media set %s): the media-set label carries no key-config (set not encrypted)",
			       ml.label_text, u);
		goto out;
	}
	if ((r = tp_tape_key_restore(msl.key_config, passphrase, msl.has_fingerprint ? msl.fingerprint : NULL, fp,
				     err)) < 0)
		tp_err_wrap(err, r, "tape %s (media set %s)", ml.label_text, u);
out:
	tp_media_set_label_clear(&msl);
	return r;
}

int tp_tape_key_remove(const uint8_t fp[32], int force, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	key_store s;
	tp_pool_config *pools = NULL;
	size_t npools = 0;
	char t[TP_FINGERPRINT_TEXT_LEN];
	fp_text(fp, t);
	int r = store_lock(&l, err);
	if (r < 0)
		return r;
	if ((r = store_load(&s, LOAD_BOTH, err)) < 0)
		goto out_lock;
	long ki = find_fp(s.keys, fp), ci = find_fp(s.configs, fp);
	if (ki < 0 && ci < 0) {
		r = not_found(fp, err);
		goto out;
	}
	if (!force) {
		if ((r = tp_pool_config_list(&pools, &npools, err)) < 0)
			goto out;
		for (size_t i = 0; i < npools; i++) {
			if (pools[i].has_encrypt && !memcmp(pools[i].encrypt, fp, 32)) {
				r = tp_err_set(err, -EBUSY,
					       "tape encryption key %s is used by media pool '%s' (change the pool or use "
					       "--force)",
					       t, pools[i].name);
				goto out;
			}
		}
	}
	if (ki >= 0)
		json_array_remove(s.keys, (size_t)ki);
	if (ci >= 0)
		json_array_remove(s.configs, (size_t)ci);
	/* configs first: a failure then leaves the key usable and restorable */
	if (ci >= 0 && (r = tp_json_save_file(s.cfg_path, s.configs, 0600, err)) < 0)
		goto out;
	if (ki >= 0)
		r = tp_json_save_file(s.keys_path, s.keys, 0600, err);
out:
	free(pools);
	store_free(&s);
out_lock:
	tp_lock_release(&l);
	return r;
}

int tp_tape_key_load(const uint8_t fp[32], uint8_t key[32], tp_err *err)
{
	key_store s;
	tp_crypt_config cc;
	int r = store_load(&s, LOAD_KEYS, err);
	if (r < 0)
		return r;
	long ki = find_fp(s.keys, fp);
	if (ki < 0) {
		r = not_found(fp, err);
		goto out;
	}
	if (entry_key(json_array_get(s.keys, (size_t)ki), key) < 0) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: entry %ld: bad key", s.keys_path, ki);
		goto out;
	}
	if ((r = tp_crypt_config_init(&cc, key, err)) < 0)
		goto out;
	int same = !memcmp(cc.fingerprint, fp, 32);
	if (!same) {
		char a[TP_FINGERPRINT_TEXT_LEN], b[TP_FINGERPRINT_TEXT_LEN];
		fp_text(fp, a);
		fp_text(cc.fingerprint, b);
		r = tp_err_set(err, -TP_EKEY, "%s: the key stored for fingerprint %s has fingerprint %s", s.keys_path,
			       a, b);
	}
	tp_crypt_config_clear(&cc);
out:
	if (r < 0)
		explicit_bzero(key, 32);
	store_free(&s);
	return r;
}

int tp_tape_key_config(const uint8_t fp[32], json_t **kc, tp_err *err)
{
	key_store s;
	*kc = NULL;
	int r = store_load(&s, LOAD_CONFIGS, err);
	if (r < 0)
		return r;
	long ci = find_fp(s.configs, fp);
	if (ci < 0) {
		r = not_found(fp, err);
	} else if (!(*kc = json_deep_copy(json_array_get(s.configs, (size_t)ci)))) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
	}
	store_free(&s);
	return r;
}

int tp_tape_media_set_key(const uint8_t key[32], const uint8_t set_uuid[16], uint8_t out[32])
{
	return tp_pbkdf2_sha256(key, 32, set_uuid, 16, TP_TAPE_SET_KEY_ITERATIONS, out, 32);
}

int tp_tape_key_drive_key(const uint8_t fp[32], const uint8_t set_uuid[16], uint8_t out[32], tp_err *err)
{
	uint8_t key[32];
	int r = tp_tape_key_load(fp, key, err);
	if (r < 0)
		return r;
	r = tp_tape_media_set_key(key, set_uuid, out);
	explicit_bzero(key, sizeof(key));
	if (r < 0)
		return tp_err_set(err, r, "deriving the media-set drive key failed");
	return 0;
}
