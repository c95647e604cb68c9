/* PBS KeyConfig key files (see keyfile.h). */
#include "crypto/keyfile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/timefmt.h"
#include "crypto/cipher.h"
#include "crypto/crypt_config.h"

/* PBS's defaults for new keys (pbs-key-config). */
#define SCRYPT_N 65536
#define SCRYPT_R 8
#define SCRYPT_P 1
#define PBKDF2_ITER 65535
/* Bounds for configs read from disk or tape: no key file may cost more than ~1 GiB / seconds. */
#define SCRYPT_N_MAX (1u << 20)
#define SCRYPT_R_MAX 32
#define SCRYPT_P_MAX 16
#define SCRYPT_MEM_MAX (1024ULL << 20)
#define PBKDF2_ITER_MAX 10000000

const char *tp_kdf_name(int kdf)
{
	switch (kdf) {
	case TP_KDF_NONE: return "none";
	case TP_KDF_SCRYPT: return "scrypt";
	case TP_KDF_PBKDF2: return "pbkdf2";
	default: return "?";
	}
}

int tp_kdf_parse(const char *s)
{
	if (!strcasecmp(s, "none"))
		return TP_KDF_NONE;
	if (!strcasecmp(s, "scrypt"))
		return TP_KDF_SCRYPT;
	if (!strcasecmp(s, "pbkdf2"))
		return TP_KDF_PBKDF2;
	return -EINVAL;
}

/* ---- base64 ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *tp_base64_encode(const uint8_t *in, size_t n)
{
	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = b64[(v >> 6) & 63];
		*o++ = '=';
	}
	*o = 0;
	return out;
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;
	return p ? (int)(p - b64) : -1;
}

int tp_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	if (n % 4)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 4) {
		int last = i + 4 == n;
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && last && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad) /* data after '=' */
				return -EINVAL;
			v[k] = b64val(s[i + k]);
			if (v[k] < 0)
				return -EINVAL;
		}
		uint32_t x = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* non-canonical encodings (stray bits under the padding) are rejected */
		if ((pad == 1 && (x & 0xff)) || (pad == 2 && (x & 0xffff)))
			return -EINVAL;
		size_t k = 3 - (size_t)pad;
		if (o + k > cap)
			return -ENOSPC;
		out[o++] = (uint8_t)(x >> 16);
		if (k > 1)
			out[o++] = (uint8_t)(x >> 8);
		if (k > 2)
			out[o++] = (uint8_t)x;
	}
	*outlen = o;
	return 0;
}

/* ---- key config ---- */

void tp_key_config_clear(tp_key_config *kc)
{
	volatile uint8_t *p = (volatile uint8_t *)kc;
	for (size_t i = 0; i < sizeof(*kc); i++)
		p[i] = 0;
}

static int derive(const tp_key_config *kc, const char *pass, uint8_t out[32], tp_err *err)
{
	int r;
	size_t pl = strlen(pass);
	if (kc->kdf == TP_KDF_SCRYPT)
		r = tp_scrypt(pass, pl, kc->salt, kc->salt_len, kc->n, kc->r, kc->p, out, 32);
	else
		r = tp_pbkdf2_sha256(pass, pl, kc->salt, kc->salt_len, (unsigned)kc->iter, out, 32);
	if (r < 0)
		return tp_err_set(err, -EIO, "%s key derivation failed", tp_kdf_name(kc->kdf));
	return 0;
}

int tp_key_config_create(tp_key_config *kc, const uint8_t key[32], int kdf, const char *passphrase,
			 const char *hint, tp_err *err)
{
	int r;
	tp_crypt_config cc;
	uint8_t wrap[32];
	memset(kc, 0, sizeof(*kc));
	if (kdf != TP_KDF_NONE && kdf != TP_KDF_SCRYPT && kdf != TP_KDF_PBKDF2)
		return tp_err_set(err, -EINVAL, "unknown key derivation function %d", kdf);
	if (hint && strlen(hint) > TP_KEYFILE_HINT_MAX)
		return tp_err_set(err, -EINVAL, "password hint longer than %d bytes", TP_KEYFILE_HINT_MAX);
	kc->kdf = kdf;
	kc->created = kc->modified = tp_now();
	if (hint) {
		kc->has_hint = 1;
		strcpy(kc->hint, hint);
	}
	if ((r = tp_crypt_config_init(&cc, key, err)) < 0)
		return r;
	memcpy(kc->fingerprint, cc.fingerprint, 32);
	kc->has_fingerprint = 1;
	tp_crypt_config_clear(&cc);
	if (kdf == TP_KDF_NONE) {
		memcpy(kc->data, key, 32);
		kc->data_len = 32;
		return 0;
	}
	if (!passphrase || !*passphrase) {
		r = tp_err_set(err, -TP_EKEY, "a passphrase is required for kdf %s", tp_kdf_name(kdf));
		goto fail;
	}
	kc->salt_len = 32;
	if (tp_random_bytes(kc->salt, 32) < 0 || tp_random_bytes(kc->data, 16) < 0) {
		r = tp_err_set(err, -EIO, "no random bytes for the key file");
		goto fail;
	}
	if (kdf == TP_KDF_SCRYPT) {
		kc->n = SCRYPT_N;
		kc->r = SCRYPT_R;
		kc->p = SCRYPT_P;
	} else {
		kc->iter = PBKDF2_ITER;
	}
	if ((r = derive(kc, passphrase, wrap, err)) < 0)
		goto fail;
	r = tp_aes_gcm_encrypt(wrap, kc->data, key, 32, kc->data + 32, kc->data + 16, err);
	memset(wrap, 0, sizeof(wrap));
	if (r < 0)
		goto fail;
	kc->data_len = 64;
	return 0;
fail:
	tp_key_config_clear(kc);
	return r;
}

json_t *tp_key_config_to_json(const tp_key_config *kc)
{
	json_t *o = json_object(), *kdf = NULL;
	char *salt = NULL, *data = NULL;
	char created[32], modified[32];
	if (!o)
		return NULL;
	if (kc->kdf != TP_KDF_NONE) {
		salt = tp_base64_encode(kc->salt, kc->salt_len);
		if (!salt)
			goto fail;
		if (kc->kdf == TP_KDF_SCRYPT)
			kdf = json_pack("{s:{s:I,s:I,s:I,s:s}}", "Scrypt", "n", (json_int_t)kc->n, "r",
					(json_int_t)kc->r, "p", (json_int_t)kc->p, "salt", salt);
		else
			kdf = json_pack("{s:{s:I,s:s}}", "PBKDF2", "iter", (json_int_t)kc->iter, "salt", salt);
	} else {
		kdf = json_null();
	}
	data = tp_base64_encode(kc->data, kc->data_len);
	if (!kdf || !data)
		goto fail;
	tp_time_local(kc->created, created);
	tp_time_local(kc->modified, modified);
	if (json_object_set_new(o, "kdf", kdf) < 0)
		goto fail_o;
	kdf = NULL;
	if (json_object_set_new(o, "created", json_string(created)) < 0 ||
	    json_object_set_new(o, "modified", json_string(modified)) < 0 ||
	    json_object_set_new(o, "data", json_string(data)) < 0)
		goto fail;
	if (kc->has_fingerprint) {
		char fp[TP_FINGERPRINT_TEXT_LEN];
		tp_fingerprint_text(kc->fingerprint, fp);
		if (json_object_set_new(o, "fingerprint", json_string(fp)) < 0)
			goto fail;
	}
	if (kc->has_hint && json_object_set_new(o, "hint", json_string(kc->hint)) < 0)
		goto fail;
	free(salt);
	free(data);
	return o;
fail:
	json_decref(kdf);
fail_o:
	json_decref(o);
	free(salt);
	free(data);
	return NULL;
}

static int get_u64(const json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *out,
		   const char *what, tp_err *err)
{
	int64_t v;
	int r = tp_json_get_int(o, key, &v, what, err);
	if (r < 0)
		return r;
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return tp_err_set(err, -TP_EFORMAT, "%s: kdf parameter %s = %lld out of range [%llu, %llu]",
				  what, key, (long long)v, (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)v;
	return 0;
}

static int get_b64(const json_t *o, const char *key, uint8_t *out, size_t cap, size_t *len,
		   const char *what, tp_err *err)
{
	const char *s;
	int r = tp_json_get_str(o, key, &s, what, err);
	if (r < 0)
		return r;
	r = tp_base64_decode(s, out, cap, len);
	if (r == -ENOSPC)
		return tp_err_set(err, -TP_EFORMAT, "%s: \"%s\" is longer than %zu bytes", what, key, cap);
	if (r < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: \"%s\" is not valid base64", what, key);
	return 0;
}

static int get_time(const json_t *o, const char *key, int64_t *out, const char *what, tp_err *err)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v)) { /* tolerate epoch numbers */
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v) || tp_time_parse_rfc3339(json_string_value(v), out) < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: missing or malformed RFC 3339 time \"%s\"", what, key);
	return 0;
}

int tp_key_config_from_json(const json_t *j, tp_key_config *kc, const char *what, tp_err *err)
{
	int r;
	memset(kc, 0, sizeof(*kc));
	if (!json_is_object(j))
		return tp_err_set(err, -TP_EFORMAT, "%s: key config is not a JSON object", what);
	json_t *kdf = json_object_get(j, "kdf");
	if (!kdf || json_is_null(kdf)) {
		kc->kdf = TP_KDF_NONE;
	} else {
		json_t *sc = json_object_get(kdf, "Scrypt"), *pb = json_object_get(kdf, "PBKDF2");
		if (!json_is_object(kdf) || json_object_size(kdf) != 1 || (!json_is_object(sc) && !json_is_object(pb))) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: \"kdf\" must be null, {\"Scrypt\": …} or {\"PBKDF2\": …}", what);
			goto fail;
		}
		if (sc) {
			kc->kdf = TP_KDF_SCRYPT;
			if ((r = get_u64(sc, "n", 2, SCRYPT_N_MAX, &kc->n, what, err)) < 0 ||
			    (r = get_u64(sc, "r", 1, SCRYPT_R_MAX, &kc->r, what, err)) < 0 ||
			    (r = get_u64(sc, "p", 1, SCRYPT_P_MAX, &kc->p, what, err)) < 0)
				goto fail;
			if (kc->n & (kc->n - 1)) {
				r = tp_err_set(err, -TP_EFORMAT, "%s: scrypt n = %llu is not a power of two", what,
					       (unsigned long long)kc->n);
				goto fail;
			}
			if (128ULL * kc->n * kc->r * kc->p > SCRYPT_MEM_MAX * SCRYPT_P_MAX ||
			    128ULL * kc->n * kc->r > SCRYPT_MEM_MAX) {
				r = tp_err_set(err, -TP_EFORMAT, "%s: scrypt parameters need more than 1 GiB", what);
				goto fail;
			}
		} else {
			kc->kdf = TP_KDF_PBKDF2;
			if ((r = get_u64(pb, "iter", 1, PBKDF2_ITER_MAX, &kc->iter, what, err)) < 0)
				goto fail;
		}
		if ((r = get_b64(sc ? sc : pb, "salt", kc->salt, sizeof(kc->salt), &kc->salt_len, what, err)) < 0)
			goto fail;
	}
	if ((r = get_time(j, "created", &kc->created, what, err)) < 0 ||
	    (r = get_time(j, "modified", &kc->modified, what, err)) < 0)
		goto fail;
	if ((r = get_b64(j, "data", kc->data, sizeof(kc->data), &kc->data_len, what, err)) < 0)
		goto fail;
	size_t want = kc->kdf == TP_KDF_NONE ? 32 : 64;
	if (kc->data_len != want) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: \"data\" holds %zu bytes, expected %zu for kdf %s", what,
			       kc->data_len, want, tp_kdf_name(kc->kdf));
		goto fail;
	}
	json_t *fp = json_object_get(j, "fingerprint");
	if (fp && !json_is_null(fp)) {
		if (!json_is_string(fp) || tp_fingerprint_from_text(json_string_value(fp), kc->fingerprint) < 0) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: malformed \"fingerprint\"", what);
			goto fail;
		}
		kc->has_fingerprint = 1;
	}
	json_t *hint = json_object_get(j, "hint");
	if (hint && !json_is_null(hint)) {
		if (!json_is_string(hint) || json_string_length(hint) > TP_KEYFILE_HINT_MAX ||
		    strlen(json_string_value(hint)) != json_string_length(hint)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: \"hint\" is not a string of at most %d bytes", what,
				       TP_KEYFILE_HINT_MAX);
			goto fail;
		}
		kc->has_hint = 1;
		strcpy(kc->hint, json_string_value(hint));
	}
	return 0;
fail:
	tp_key_config_clear(kc);
	return r;
}

int tp_key_config_decrypt(const tp_key_config *kc, const char *passphrase, uint8_t key[32],
			  tp_err *err)
{
	int r;
	uint8_t wrap[32];
	if (kc->kdf == TP_KDF_NONE) {
		if (kc->data_len != 32)
			return tp_err_set(err, -TP_EFORMAT, "key config: unencrypted key is not 32 bytes");
		memcpy(key, kc->data, 32);
	} else {
		if (!passphrase)
			return tp_err_set(err, -TP_EKEY, "the key is protected by a passphrase (set %s)",
					  TP_KEY_PASSWORD_ENV);
		if (kc->data_len != 64)
			return tp_err_set(err, -TP_EFORMAT, "key config: encrypted key data is not 64 bytes");
		if ((r = derive(kc, passphrase, wrap, err)) < 0)
			return r;
		r = tp_aes_gcm_decrypt(wrap, kc->data, kc->data + 32, 32, kc->data + 16, key, NULL);
		memset(wrap, 0, sizeof(wrap));
		if (r < 0)
			return tp_err_set(err, -TP_EKEY, "unable to decrypt the key (wrong passphrase?)");
	}
	if (kc->has_fingerprint) {
		tp_crypt_config cc;
		if ((r = tp_crypt_config_init(&cc, key, err)) < 0)
			goto wipe;
		int same = !memcmp(cc.fingerprint, kc->fingerprint, 32);
		char a[TP_FINGERPRINT_TEXT_LEN], b[TP_FINGERPRINT_TEXT_LEN];
		tp_fingerprint_text(kc->fingerprint, a);
		tp_fingerprint_text(cc.fingerprint, b);
		tp_crypt_config_clear(&cc);
		if (!same) {
			r = tp_err_set(err, -TP_EKEY,
				       "key config contains wrong fingerprint %s, the key has fingerprint %s", a, b);
			goto wipe;
		}
	}
	return 0;
wipe:
	memset(key, 0, 32);
	return r;
}

int tp_keyfile_read_config(const char *path, tp_key_config *kc, tp_err *err)
{
	json_t *j = tp_json_load_file(path, TP_KEYFILE_MAX_SIZE, err);
	if (!j)
		return err && err->code ? err->code : -TP_EFORMAT;
	int r = tp_key_config_from_json(j, kc, path, err);
	json_decref(j);
	return r;
}

int tp_keyfile_load(const char *path, const char *passphrase, uint8_t key[32], tp_key_config *kc,
		    tp_err *err)
{
	tp_key_config local;
	tp_key_config *c = kc ? kc : &local;
	int r = tp_keyfile_read_config(path, c, err);
	if (r < 0)
		return r;
	if (!passphrase)
		passphrase = getenv(TP_KEY_PASSWORD_ENV);
	r = tp_key_config_decrypt(c, passphrase, key, err);
	if (r < 0)
		tp_err_wrap(err, r, "key file %s", path);
	if (!kc)
		tp_key_config_clear(&local);
	return r;
}

int tp_keyfile_save_new(const char *path, const tp_key_config *kc, tp_err *err)
{
	int r = 0, fd = -1;
	char *text = NULL, *tmp = NULL;
	json_t *j = tp_key_config_to_json(kc);
	if (!j)
		return tp_err_set(err, -ENOMEM, "out of memory encoding key file %s", path);
	text = tp_json_pretty(j);
	json_decref(j);
	tmp = tp_strdup_printf("%s.tmp_%d_%lx", path, (int)getpid(), (unsigned long)random());
	if (!text || !tmp) {
		r = tp_err_set(err, -ENOMEM, "out of memory encoding key file %s", path);
		goto out;
	}
	if (tp_path_exists(path)) {
		r = tp_err_set(err, -TP_EEXISTS, "key file %s already exists (not overwriting it)", path);
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = tp_err_errno(err, "create %s", tmp);
		goto out;
	}
	if ((r = tp_write_all(fd, text, strlen(text), err, tmp)) < 0 ||
	    (r = tp_write_all(fd, "\n", 1, err, tmp)) < 0)
		goto out;
	if (fchmod(fd, 0600) < 0 || fsync(fd) < 0) {
		r = tp_err_errno(err, "sync %s", tmp);
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = tp_err_errno(err, "close %s", tmp);
		goto out;
	}
	/* link() instead of rename(): it fails when path appeared meanwhile */
	if (link(tmp, path) < 0) {
		if (errno == EEXIST)
			r = tp_err_set(err, -TP_EEXISTS, "key file %s already exists (not overwriting it)", path);
		else
			r = tp_err_errno(err, "link %s to %s", tmp, path);
		goto out;
	}
	r = tp_fsync_parent(path, err);
out:
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	free(tmp);
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	return r;
}

int tp_keyfile_create(const char *path, int kdf, const char *passphrase, const char *hint,
		      uint8_t fp[32], tp_err *err)
{
	uint8_t key[32];
	tp_key_config kc;
	if (tp_path_exists(path))
		return tp_err_set(err, -TP_EEXISTS, "key file %s already exists (not overwriting it)", path);
	if (tp_random_bytes(key, 32) < 0)
		return tp_err_set(err, -EIO, "no random bytes for a new key");
	int r = tp_key_config_create(&kc, key, kdf, passphrase, hint, err);
	memset(key, 0, sizeof(key));
	if (r < 0)
		return r;
	r = tp_keyfile_save_new(path, &kc, err);
	if (r == 0 && fp)
		memcpy(fp, kc.fingerprint, 32);
	tp_key_config_clear(&kc);
	return r;
}
