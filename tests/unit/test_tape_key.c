/* Unit test: tape encryption key store, change-passphrase, paperkey, restore (file and tape), set-key vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "base/paths.h"
#include "crypto/crypt_config.h"
#include "crypto/keyfile.h"
#include "format/media_label.h"
#include "format/tape_block.h"
#include "tape/drive.h"
#include "tape/pool_config.h"
#include "tape/tape_key.h"

typedef struct fixture {
	char dir[64];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-tapekey-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	setenv("TAPIR_HOME", f->dir, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tp_rm_rf(f->dir, NULL);
	unsetenv("TAPIR_HOME");
	free(f);
	return 0;
}

static void fp_of(const uint8_t key[32], uint8_t fp[32])
{
	tp_crypt_config cc;
	assert_int_equal(tp_crypt_config_init(&cc, key, NULL), 0);
	memcpy(fp, cc.fingerprint, 32);
	tp_crypt_config_clear(&cc);
}

static void assert_mode_0600(const char *name)
{
	char *p = tp_config_path(name);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(p);
}

static void test_media_set_key_vector(void **state)
{
	(void)state;
	/*
	 * Computed independently with python:
	 * hashlib.pbkdf2_hmac('sha256', bytes(range(32)),
	 *     bytes.fromhex('a1b2c3d4e5f60718293a4b5c6d7e8f90'), 10, 32).hex()
	 * hashlib.pbkdf2_hmac('sha256', b'\xff' * 32, bytes(16), 10, 32).hex()
	 */
	uint8_t key[32], uuid[16], out[32], want[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	assert_int_equal(tp_hex_decode("a1b2c3d4e5f60718293a4b5c6d7e8f90", uuid, 16), 0);
	assert_int_equal(tp_tape_media_set_key(key, uuid, out), 0);
	assert_int_equal(tp_hex_decode("9e3137a7ca705400276cfdef111107a8461235eee3f9c3a11aa6568901e2f092", want, 32), 0);
	assert_memory_equal(out, want, 32);
	memset(key, 0xff, 32);
	memset(uuid, 0, 16);
	assert_int_equal(tp_tape_media_set_key(key, uuid, out), 0);
	assert_int_equal(tp_hex_decode("28e3f5a69aa6bf975e0ff620cc52b24fe4a8172c3d587084489c9ac51c2f3ae4", want, 32), 0);
	assert_memory_equal(out, want, 32);
}

static void test_create_list_show_load(void **state)
{
	(void)state;
	tp_err err = { 0 };
	uint8_t fp1[32], fp2[32], key[32], fp[32];
	tp_tape_key_info *v;
	size_t n;
	assert_int_equal(tp_tape_key_list(&v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_null(v);

	assert_int_equal(tp_tape_key_create(TP_KDF_PBKDF2, "secret", "the usual", fp1, &err), 0);
	assert_int_equal(tp_tape_key_create(TP_KDF_NONE, NULL, NULL, fp2, &err), 0);
	assert_memory_not_equal(fp1, fp2, 32);
	assert_mode_0600(TP_TAPE_KEYS_FILE);
	assert_mode_0600(TP_TAPE_KEY_CONFIG_FILE);
	char *dir = tp_config_path(NULL);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	free(dir);

	assert_int_equal(tp_tape_key_list(&v, &n, &err), 0);
	assert_int_equal(n, 2);
	int i1 = !memcmp(v[0].fingerprint, fp1, 32) ? 0 : 1;
	assert_memory_equal(v[i1].fingerprint, fp1, 32);
	assert_memory_equal(v[1 - i1].fingerprint, fp2, 32);
	assert_int_equal(v[i1].kdf, TP_KDF_PBKDF2);
	assert_int_equal(v[1 - i1].kdf, TP_KDF_NONE);
	assert_true(v[i1].has_hint);
	assert_string_equal(v[i1].hint, "the usual");
	assert_false(v[1 - i1].has_hint);
	assert_true(v[i1].has_key && v[i1].has_config);
	assert_true(v[i1].created > 1600000000 && v[i1].modified == v[i1].created);
	free(v);

	tp_tape_key_info x;
	assert_int_equal(tp_tape_key_show(fp1, &x, &err), 0);
	assert_string_equal(x.hint, "the usual");

	/* the plain key's fingerprint is the one create returned */
	assert_int_equal(tp_tape_key_load(fp1, key, &err), 0);
	fp_of(key, fp);
	assert_memory_equal(fp, fp1, 32);

	/* the stored config opens to the same key with the passphrase */
	json_t *kcj;
	tp_key_config kc;
	uint8_t key2[32];
	assert_int_equal(tp_tape_key_config(fp1, &kcj, &err), 0);
	assert_int_equal(tp_key_config_from_json(kcj, &kc, "t", &err), 0);
	assert_int_equal(tp_key_config_decrypt(&kc, "wrong", key2, &err), -TP_EKEY);
	assert_int_equal(tp_key_config_decrypt(&kc, "secret", key2, &err), 0);
	assert_memory_equal(key, key2, 32);
	assert_string_equal(json_string_value(json_object_get(kcj, "hint")), "the usual");
	tp_key_config_clear(&kc);
	json_decref(kcj);

	/* the keys file is PBS's [{fingerprint, key}] */
	char *kp = tp_config_path(TP_TAPE_KEYS_FILE);
	json_t *keys = tp_json_load_file(kp, 1 << 20, &err);
	assert_non_null(keys);
	assert_int_equal(json_array_size(keys), 2);
	char t[TP_FINGERPRINT_TEXT_LEN], hex[65];
	tp_fingerprint_text(fp1, t);
	tp_hex_encode(key, 32, hex);
	int found = 0;
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(keys, i);
		if (!strcmp(json_string_value(json_object_get(e, "fingerprint")), t)) {
			assert_string_equal(json_string_value(json_object_get(e, "key")), hex);
			found = 1;
		}
	}
	assert_true(found);
	json_decref(keys);
	free(kp);

	/* unknown fingerprint: clear message */
	uint8_t other[32];
	memset(other, 0xab, 32);
	tp_fingerprint_text(other, t);
	assert_int_equal(tp_tape_key_load(other, key, &err), -TP_ENOTFOUND);
	assert_non_null(strstr(err.msg, t));
	assert_non_null(strstr(err.msg, "tapir tape key restore"));
	assert_int_equal(tp_tape_key_show(other, &x, &err), -TP_ENOTFOUND);
	assert_int_equal(tp_tape_key_config(other, &kcj, &err), -TP_ENOTFOUND);
	assert_null(kcj);

	/* bad arguments */
	assert_int_equal(tp_tape_key_create(TP_KDF_PBKDF2, "", NULL, fp, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_create(TP_KDF_SCRYPT, NULL, NULL, fp, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_create(7, "x", NULL, fp, &err), -EINVAL);

	/* drive key = PBKDF2 of the stored key */
	uint8_t uuid[16], dk[32], want[32];
	memset(uuid, 0x42, 16);
	assert_int_equal(tp_tape_key_drive_key(fp1, uuid, dk, &err), 0);
	assert_int_equal(tp_tape_key_load(fp1, key, &err), 0);
	assert_int_equal(tp_tape_media_set_key(key, uuid, want), 0);
	assert_memory_equal(dk, want, 32);
	assert_int_equal(tp_tape_key_drive_key(other, uuid, dk, &err), -TP_ENOTFOUND);
}

static void test_scrypt_default(void **state)
{
	(void)state;
	tp_err err = { 0 };
	uint8_t fp[32], key[32], key2[32];
	assert_int_equal(tp_tape_key_create(TP_KDF_SCRYPT, "pw", NULL, fp, &err), 0);
	json_t *kcj;
	assert_int_equal(tp_tape_key_config(fp, &kcj, &err), 0);
	json_t *sc = json_object_get(json_object_get(kcj, "kdf"), "Scrypt");
	assert_non_null(sc);
	assert_int_equal(json_integer_value(json_object_get(sc, "n")), 65536);
	tp_key_config kc;
	assert_int_equal(tp_key_config_from_json(kcj, &kc, "t", &err), 0);
	assert_int_equal(tp_key_config_decrypt(&kc, "pw", key2, &err), 0);
	assert_int_equal(tp_tape_key_load(fp, key, &err), 0);
	assert_memory_equal(key, key2, 32);
	tp_key_config_clear(&kc);
	json_decref(kcj);
}

static void test_change_passphrase(void **state)
{
	(void)state;
	tp_err err = { 0 };
	uint8_t fp[32], key[32], key2[32];
	assert_int_equal(tp_tape_key_create(TP_KDF_PBKDF2, "old", "first", fp, &err), 0);
	assert_int_equal(tp_tape_key_load(fp, key, &err), 0);
	tp_tape_key_info before, after;
	assert_int_equal(tp_tape_key_show(fp, &before, &err), 0);

	assert_int_equal(tp_tape_key_change_passphrase(fp, "bad", "new", -1, NULL, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_change_passphrase(fp, "old", "", -1, NULL, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_change_passphrase(fp, "old", "new", -1, NULL, &err), 0);
	assert_mode_0600(TP_TAPE_KEY_CONFIG_FILE);
	assert_int_equal(tp_tape_key_show(fp, &after, &err), 0);
	assert_int_equal(after.kdf, TP_KDF_PBKDF2);
	assert_string_equal(after.hint, "first");
	assert_int_equal(after.created, before.created);

	json_t *kcj;
	tp_key_config kc;
	assert_int_equal(tp_tape_key_config(fp, &kcj, &err), 0);
	assert_int_equal(tp_key_config_from_json(kcj, &kc, "t", &err), 0);
	assert_int_equal(tp_key_config_decrypt(&kc, "old", key2, &err), -TP_EKEY);
	assert_int_equal(tp_key_config_decrypt(&kc, "new", key2, &err), 0);
	assert_memory_equal(key, key2, 32);
	tp_key_config_clear(&kc);
	json_decref(kcj);

	/* kdf and hint can change too; the plain key stays the same */
	assert_int_equal(tp_tape_key_change_passphrase(fp, "old", "x", TP_KDF_NONE, NULL, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_change_passphrase(fp, "new", "newer", TP_KDF_SCRYPT, "second", &err), 0);
	assert_int_equal(tp_tape_key_show(fp, &after, &err), 0);
	assert_int_equal(after.kdf, TP_KDF_SCRYPT);
	assert_string_equal(after.hint, "second");
	assert_int_equal(tp_tape_key_load(fp, key2, &err), 0);
	assert_memory_equal(key, key2, 32);

	uint8_t other[32];
	memset(other, 1, 32);
	assert_int_equal(tp_tape_key_change_passphrase(other, "a", "b", -1, NULL, &err), -TP_ENOTFOUND);
}

static void test_restore_from_config(void **state)
{
	(void)state;
	tp_err err = { 0 };
	uint8_t fp[32], key[32], key2[32], got[32];
	assert_int_equal(tp_tape_key_create(TP_KDF_PBKDF2, "pw", "h", fp, &err), 0);
	assert_int_equal(tp_tape_key_load(fp, key, &err), 0);
	json_t *kcj;
	assert_int_equal(tp_tape_key_config(fp, &kcj, &err), 0);

	/* a config is already there */
	assert_int_equal(tp_tape_key_restore(kcj, "pw", NULL, got, &err), -TP_EEXISTS);
	assert_int_equal(tp_tape_key_remove(fp, 0, &err), 0);
	assert_int_equal(tp_tape_key_load(fp, key2, &err), -TP_ENOTFOUND);

	assert_int_equal(tp_tape_key_restore(kcj, "wrong", NULL, got, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_restore(kcj, NULL, NULL, got, &err), -TP_EKEY);
	uint8_t other[32];
	memset(other, 7, 32);
	assert_int_equal(tp_tape_key_restore(kcj, "pw", other, got, &err), -TP_EKEY);
	assert_non_null(strstr(err.msg, "was expected"));
	assert_int_equal(tp_tape_key_load(fp, key2, &err), -TP_ENOTFOUND);

	assert_int_equal(tp_tape_key_restore(kcj, "pw", fp, got, &err), 0);
	assert_memory_equal(got, fp, 32);
	assert_int_equal(tp_tape_key_load(fp, key2, &err), 0);
	assert_memory_equal(key, key2, 32);
	tp_tape_key_info x;
	assert_int_equal(tp_tape_key_show(fp, &x, &err), 0);
	assert_string_equal(x.hint, "h");
	assert_mode_0600(TP_TAPE_KEYS_FILE);
	assert_mode_0600(TP_TAPE_KEY_CONFIG_FILE);
	json_decref(kcj);
}

static void test_restore_fingerprint_mismatch(void **state)
{
	(void)state;
	tp_err err = { 0 };
	uint8_t fp[32], fp2[32], got[32];
	assert_int_equal(tp_tape_key_create(TP_KDF_NONE, NULL, NULL, fp, &err), 0);
	assert_int_equal(tp_tape_key_create(TP_KDF_NONE, NULL, NULL, fp2, &err), 0);
	json_t *kcj;
	assert_int_equal(tp_tape_key_config(fp, &kcj, &err), 0);
	assert_int_equal(tp_tape_key_remove(fp, 0, &err), 0);
	/* the config claims another key's fingerprint */
	char t[TP_FINGERPRINT_TEXT_LEN];
	tp_fingerprint_text(fp2, t);
	json_object_set_new(kcj, "fingerprint", json_string(t));
	assert_int_equal(tp_tape_key_restore(kcj, NULL, NULL, got, &err), -TP_EKEY);
	assert_non_null(strstr(err.msg, "wrong fingerprint"));
	tp_tape_key_info *v;
	size_t n;
	assert_int_equal(tp_tape_key_list(&v, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(v[0].fingerprint, fp2, 32);
	free(v);
	/* without a stored fingerprint it is recomputed and added */
	json_object_del(kcj, "fingerprint");
	assert_int_equal(tp_tape_key_restore(kcj, NULL, NULL, got, &err), 0);
	assert_memory_equal(got, fp, 32);
	json_t *back;
	assert_int_equal(tp_tape_key_config(fp, &back, &err), 0);
	tp_fingerprint_text(fp, t);
	assert_string_equal(json_string_value(json_object_get(back, "fingerprint")), t);
	json_decref(back);
	json_decref(kcj);
}

static void test_remove_pool_reference(void **state)
{
	(void)state;
	tp_err err = { 0 };
	uint8_t fp[32], fp2[32], key[32];
	assert_int_equal(tp_tape_key_create(TP_KDF_NONE, NULL, NULL, fp, &err), 0);
	assert_int_equal(tp_tape_key_create(TP_KDF_NONE, NULL, NULL, fp2, &err), 0);
	tp_pool_config pc;
	char t[TP_FINGERPRINT_TEXT_LEN];
	tp_fingerprint_text(fp, t);
	assert_int_equal(tp_pool_config_init(&pc, "secure", &err), 0);
	assert_int_equal(tp_pool_set_encrypt(&pc, t, &err), 0);
	assert_int_equal(tp_pool_config_create(&pc, &err), 0);

	assert_int_equal(tp_tape_key_remove(fp, 0, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "'secure'"));
	assert_int_equal(tp_tape_key_load(fp, key, &err), 0);
	assert_int_equal(tp_tape_key_remove(fp2, 0, &err), 0);
	assert_int_equal(tp_tape_key_remove(fp, 1, &err), 0);
	assert_int_equal(tp_tape_key_load(fp, key, &err), -TP_ENOTFOUND);
	assert_int_equal(tp_tape_key_remove(fp, 1, &err), -TP_ENOTFOUND);
	tp_tape_key_info *v;
	size_t n;
	assert_int_equal(tp_tape_key_list(&v, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_mode_0600(TP_TAPE_KEYS_FILE);
}

static void test_paperkey(void **state)
{
	(void)state;
	tp_err err = { 0 };
	uint8_t fp[32];
	assert_int_equal(tp_tape_key_create(TP_KDF_PBKDF2, "pw", "on paper", fp, &err), 0);
	char *text;
	assert_int_equal(tp_tape_key_paperkey(fp, &text, &err), 0);
	char t[TP_FINGERPRINT_TEXT_LEN];
	tp_fingerprint_text(fp, t);
	assert_non_null(strstr(text, "-----BEGIN PROXMOX BACKUP KEY-----"));
	assert_non_null(strstr(text, "-----END PROXMOX BACKUP KEY-----"));
	assert_non_null(strstr(text, t));
	/* every line is part of the frame, all of the same width */
	size_t width = strchr(text, '\n') - text;
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		assert_non_null(e);
		assert_int_equal((size_t)(e - p), width);
		assert_true(*p == '|' || *p == '+');
		assert_true(e[-1] == '|' || e[-1] == '+');
		p = e + 1;
	}
	/* the text gives back the stored config */
	json_t *kc, *stored;
	assert_int_equal(tp_tape_key_config_parse(text, strlen(text), "paper", &kc, &err), 0);
	assert_int_equal(tp_tape_key_config(fp, &stored, &err), 0);
	assert_true(json_equal(kc, stored));
	json_decref(kc);

	/* so do a set label carrying it and the bare JSON */
	tp_media_set_label msl;
	memset(&msl, 0, sizeof(msl));
	snprintf(msl.pool, sizeof(msl.pool), "p1");
	msl.key_config = json_incref(stored);
	char *lj = tp_media_set_label_json_text(&msl);
	assert_non_null(lj);
	assert_int_equal(tp_tape_key_config_parse(lj, strlen(lj), "label", &kc, &err), 0);
	assert_true(json_equal(kc, stored));
	json_decref(kc);
	free(lj);
	tp_media_set_label_clear(&msl);
	char *bare = tp_json_pretty(stored);
	assert_int_equal(tp_tape_key_config_parse(bare, strlen(bare), "bare", &kc, &err), 0);
	assert_true(json_equal(kc, stored));
	json_decref(kc);
	free(bare);

	/* cut-off paperkey, unrelated JSON, bad data */
	char *cut = strstr(text, "| -----END");
	assert_non_null(cut);
	assert_int_equal(tp_tape_key_config_parse(text, (size_t)(cut - text), "cut", &kc, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, "cut"));
	assert_int_equal(tp_tape_key_config_parse("{\"a\": 1}", 8, "other", &kc, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, "no key config found"));
	assert_int_equal(tp_tape_key_config_parse("nonsense", 8, "junk", &kc, &err), -TP_EFORMAT);
	assert_int_equal(tp_tape_key_config_parse("", 0, "empty", &kc, &err), -TP_EFORMAT);
	json_object_set_new(stored, "data", json_string("!!"));
	bare = tp_json_pretty(stored);
	assert_int_equal(tp_tape_key_config_parse(bare, strlen(bare), "baddata", &kc, &err), -TP_EFORMAT);
	free(bare);
	json_decref(stored);
	free(text);
}

static void write_config_file(const char *name, const char *text)
{
	char *p = tp_config_path(name);
	assert_int_equal(tp_write_atomic(p, text, strlen(text), 0600, NULL), 0);
	free(p);
}

static void test_bad_files(void **state)
{
	(void)state;
	tp_err err = { 0 };
	tp_tape_key_info *v;
	size_t n;
	uint8_t fp[32], key[32];
	memset(fp, 0x11, 32);
	write_config_file(TP_TAPE_KEYS_FILE, "{\"not\": \"a list\"}");
	assert_int_equal(tp_tape_key_list(&v, &n, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, TP_TAPE_KEYS_FILE));
	write_config_file(TP_TAPE_KEYS_FILE, "[{\"fingerprint\": \"11:22\", \"key\": \"00\"}]");
	assert_int_equal(tp_tape_key_load(fp, key, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, "entry 0"));
	char t[TP_FINGERPRINT_TEXT_LEN], buf[400];
	tp_fingerprint_text(fp, t);
	snprintf(buf, sizeof(buf), "[{\"fingerprint\": \"%s\", \"key\": \"%064d\"}]", t, 0);
	write_config_file(TP_TAPE_KEYS_FILE, buf);
	/* the stored key does not have the fingerprint it is filed under */
	assert_int_equal(tp_tape_key_load(fp, key, &err), -TP_EKEY);
	snprintf(buf, sizeof(buf), "[{\"fingerprint\": \"%s\", \"key\": \"%064d\"}, {\"fingerprint\": \"%s\", \"key\": \"%064d\"}]",
		 t, 0, t, 1);
	write_config_file(TP_TAPE_KEYS_FILE, buf);
	assert_int_equal(tp_tape_key_load(fp, key, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, "duplicate"));
	write_config_file(TP_TAPE_KEYS_FILE, "[]");
	write_config_file(TP_TAPE_KEY_CONFIG_FILE, "[{\"kdf\": null}]");
	assert_int_equal(tp_tape_key_list(&v, &n, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, TP_TAPE_KEY_CONFIG_FILE));
	/* a writer does not overwrite files it cannot read */
	assert_int_equal(tp_tape_key_create(TP_KDF_NONE, NULL, NULL, fp, &err), -TP_EFORMAT);
}

/* A media label + set label (with key-config when kc) on cartridge TAPE01 of a virtual drive. */
static tp_drive *tape_with_labels(const char *dir, const json_t *kc, const uint8_t *fp, const uint8_t set_uuid[16])
{
	tp_err err = { 0 };
	char path[128];
	snprintf(path, sizeof(path), "%s/vdrive", dir);
	json_t *conf = json_pack("{s:s}", "path", path);
	tp_drive *d;
	assert_int_equal(tp_drive_open("virtual", "vd", conf, &d, &err), 0);
	json_decref(conf);
	assert_int_equal(tp_drive_load(d, "TAPE01", &err), 0);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	tp_tape_io io;
	tp_drive_tape_io(d, &io);
	tp_media_label ml;
	memset(&ml, 0, sizeof(ml));
	memset(ml.uuid, 0x5c, 16);
	snprintf(ml.label_text, sizeof(ml.label_text), "TAPE01");
	ml.ctime = 1700000000;
	snprintf(ml.pool, sizeof(ml.pool), "secure");
	assert_int_equal(tp_media_label_write(&io, &ml, &err), 0);
	tp_media_set_label msl;
	memset(&msl, 0, sizeof(msl));
	snprintf(msl.pool, sizeof(msl.pool), "secure");
	memcpy(msl.uuid, set_uuid, 16);
	msl.ctime = 1700000100;
	if (fp) {
		msl.has_fingerprint = 1;
		memcpy(msl.fingerprint, fp, 32);
	}
	msl.key_config = kc ? json_deep_copy(kc) : NULL;
	assert_int_equal(tp_media_set_label_write(&io, &msl, &err), 0);
	tp_media_set_label_clear(&msl);
	return d;
}

static void test_restore_from_drive(void **state)
{
	fixture *f = *state;
	tp_err err = { 0 };
	uint8_t fp[32], key[32], got[32], set_uuid[16], dk[32];
	char label[TP_DRIVE_LABEL_MAX + 1];
	memset(set_uuid, 0x3e, 16);
	assert_int_equal(tp_tape_key_create(TP_KDF_PBKDF2, "tape-pw", "vault", fp, &err), 0);
	assert_int_equal(tp_tape_key_load(fp, key, &err), 0);
	json_t *kcj;
	assert_int_equal(tp_tape_key_config(fp, &kcj, &err), 0);
	tp_drive *d = tape_with_labels(f->dir, kcj, fp, set_uuid);

	/* file 2 is written encrypted with the set's drive key */
	assert_int_equal(tp_tape_key_drive_key(fp, set_uuid, dk, &err), 0);
	assert_int_equal(tp_drive_set_encryption(d, dk, &err), 0);
	uint8_t *blk = calloc(1, TP_TAPE_BLOCK_SIZE);
	assert_non_null(blk);
	memcpy(blk, "secret payload", 14);
	assert_int_equal(tp_drive_write_block(d, blk, TP_TAPE_BLOCK_SIZE, &err), 0);
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);
	assert_int_equal(tp_drive_set_encryption(d, NULL, &err), 0);

	/* the key is lost locally, then restored from the tape */
	assert_int_equal(tp_tape_key_remove(fp, 1, &err), 0);
	assert_int_equal(tp_tape_key_drive_key(fp, set_uuid, dk, &err), -TP_ENOTFOUND);
	assert_int_equal(tp_tape_key_restore_from_drive(d, "wrong", got, label, &err), -TP_EKEY);
	assert_non_null(strstr(err.msg, "TAPE01"));
	assert_int_equal(tp_tape_key_restore_from_drive(d, "tape-pw", got, label, &err), 0);
	assert_memory_equal(got, fp, 32);
	assert_string_equal(label, "TAPE01");
	uint8_t key2[32];
	assert_int_equal(tp_tape_key_load(fp, key2, &err), 0);
	assert_memory_equal(key, key2, 32);

	/* and the restored key reads the encrypted file */
	assert_int_equal(tp_drive_move_to_file(d, 2, &err), 0);
	assert_int_equal(tp_drive_read_block(d, blk, TP_TAPE_BLOCK_SIZE, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_drive_key(fp, set_uuid, dk, &err), 0);
	assert_int_equal(tp_drive_set_encryption(d, dk, &err), 0);
	assert_int_equal(tp_drive_move_to_file(d, 2, &err), 0);
	memset(blk, 0, TP_TAPE_BLOCK_SIZE);
	assert_int_equal(tp_drive_read_block(d, blk, TP_TAPE_BLOCK_SIZE, &err), (long)TP_TAPE_BLOCK_SIZE);
	assert_memory_equal(blk, "secret payload", 14);
	assert_int_equal(tp_drive_set_encryption(d, NULL, &err), 0);

	/* restoring twice: already there */
	assert_int_equal(tp_tape_key_restore_from_drive(d, "tape-pw", got, label, &err), -TP_EEXISTS);
	tp_drive_close(d);
	free(blk);

	/* a label naming another fingerprint than its key-config's key is refused */
	uint8_t bogus[32];
	memset(bogus, 0x99, 32);
	assert_int_equal(tp_tape_key_remove(fp, 1, &err), 0);
	d = tape_with_labels(f->dir, kcj, bogus, set_uuid);
	assert_int_equal(tp_tape_key_restore_from_drive(d, "tape-pw", got, label, &err), -TP_EKEY);
	assert_int_equal(tp_tape_key_load(fp, key2, &err), -TP_ENOTFOUND);
	tp_drive_close(d);

	/* an unencrypted set: nothing to restore */
	d = tape_with_labels(f->dir, NULL, NULL, set_uuid);
	assert_int_equal(tp_tape_key_restore_from_drive(d, "tape-pw", got, label, &err), -TP_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no key-config"));
	/* a blank tape */
	assert_int_equal(tp_drive_load(d, "BLANK1", &err), 0);
	assert_int_equal(tp_tape_key_restore_from_drive(d, "tape-pw", got, label, &err), -TP_ENOTFOUND);
	assert_non_null(strstr(err.msg, "blank"));
	tp_drive_close(d);
	json_decref(kcj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_media_set_key_vector),
		cmocka_unit_test_setup_teardown(test_create_list_show_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scrypt_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_change_passphrase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_from_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_fingerprint_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_pool_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paperkey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_from_drive, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
