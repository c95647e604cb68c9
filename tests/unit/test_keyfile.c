/* Unit test: crypt config golden values, base64, PBS KeyConfig (none/scrypt/pbkdf2), key files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "crypto/crypt_config.h"
#include "crypto/keyfile.h"

static uint8_t key0[32];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++)
		key0[i] = (uint8_t)i;
	return 0;
}

/* Golden values computed with Python's hashlib/hmac from the fact sheet's definitions. */
static void test_crypt_config_golden(void **state)
{
	(void)state;
	tp_crypt_config cc;
	char hex[65], fp[TP_FINGERPRINT_TEXT_LEN];
	uint8_t d[32], back[32];
	assert_int_equal(tp_crypt_config_init(&cc, key0, NULL), 0);
	tp_hex_encode(cc.id_key, 32, hex);
	assert_string_equal(hex, "7c2c013efd07f3b25717a485263343cd4d292a4b65c200bb3b18ea227abe225c");
	tp_fingerprint_text(cc.fingerprint, fp);
	assert_string_equal(fp, "0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b");
	assert_int_equal(tp_crypt_digest(&cc, "hello", 5, d), 0);
	tp_hex_encode(d, 32, hex);
	assert_string_equal(hex, "e34178a27b992c4a218599bf7f43ed50bc464a03d624d9092306fe2ed74d557e");
	tp_crypt_auth_tag(&cc, "hello", 5, d);
	tp_hex_encode(d, 32, hex);
	assert_string_equal(hex, "607767f76cc1b68b1a3f00b51a864436380f474db7940f9c6d06b6e5c643331a");
	/* fingerprint text round trip and rejects */
	assert_int_equal(tp_fingerprint_from_text(fp, back), 0);
	assert_memory_equal(back, cc.fingerprint, 32);
	fp[2] = '-';
	assert_int_equal(tp_fingerprint_from_text(fp, back), -EINVAL);
	fp[2] = ':';
	fp[5] = 'g';
	assert_int_equal(tp_fingerprint_from_text(fp, back), -EINVAL);
	assert_int_equal(tp_fingerprint_from_text("0e:ab", back), -EINVAL);
	/* encrypt/decrypt with the key */
	uint8_t iv[16], tag[16], ct[11], pt[11];
	assert_int_equal(tp_crypt_encrypt(&cc, "hello world", 11, ct, iv, tag, NULL), 0);
	assert_int_equal(tp_crypt_decrypt(&cc, iv, tag, ct, 11, pt, NULL), 0);
	assert_memory_equal(pt, "hello world", 11);
	ct[0] ^= 1;
	assert_int_equal(tp_crypt_decrypt(&cc, iv, tag, ct, 11, pt, NULL), -TP_EKEY);
	tp_crypt_config_clear(&cc);
	assert_int_equal(cc.enc_key[1], 0);
}

static void test_base64(void **state)
{
	(void)state;
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	uint8_t out[16];
	size_t n;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *e = tp_base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]));
		assert_string_equal(e, v[i][1]);
		free(e);
		assert_int_equal(tp_base64_decode(v[i][1], out, sizeof(out), &n), 0);
		assert_int_equal(n, strlen(v[i][0]));
		assert_memory_equal(out, v[i][0], n);
	}
	char *e = tp_base64_encode(key0, 32);
	assert_string_equal(e, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	free(e);
	static const char *const bad[] = { "Zg=", "Zh==", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm=v", "====", "Zm9v\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tp_base64_decode(bad[i], out, sizeof(out), &n), -EINVAL);
	assert_int_equal(tp_base64_decode("Zm9vYmFy", out, 5, &n), -ENOSPC);
}

static json_t *parse(const char *s)
{
	json_t *j = tp_json_parse(s, strlen(s), "test", NULL);
	assert_non_null(j);
	return j;
}

/*
 * Made with Python (hashlib.scrypt/pbkdf2_hmac + cryptography's AESGCM), salt 100..131, iv 200..215.
 * scrypt n is 1024 to keep the test fast; PBS's default 65536 is covered by the create tests.
 */
static const char golden_scrypt[] =
	"{\"kdf\": {\"Scrypt\": {\"n\": 1024, \"r\": 8, \"p\": 1, \"salt\": \"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=\"}},"
	" \"created\": \"2024-01-02T03:04:05+01:00\", \"modified\": \"2024-01-02T02:04:05Z\","
	" \"data\": \"yMnKy8zNzs/Q0dLT1NXW14KYb5YYAEMb+/roGGmvsGMhcauTxqlhM/kwF5pPUC7IiTY3FVcDc/U9jIYnlEkTdw==\","
	" \"fingerprint\": \"0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b\","
	" \"hint\": \"the usual\"}";
static const char golden_pbkdf2[] =
	"{\"kdf\": {\"PBKDF2\": {\"iter\": 65535, \"salt\": \"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM=\"}},"
	" \"created\": \"2024-01-02T03:04:05Z\", \"modified\": \"2024-01-02T03:04:05Z\","
	" \"data\": \"yMnKy8zNzs/Q0dLT1NXW16oNA+CJRDF1CwfCKcbUHghbPcN/X2MuYWYSKU2MKKZRRcTOhRTH7JYvURn3qordtg==\"}";

static void test_golden_key_configs(void **state)
{
	(void)state;
	tp_key_config kc;
	tp_err e = { 0 };
	uint8_t k[32];
	json_t *j = parse(golden_scrypt);
	assert_int_equal(tp_key_config_from_json(j, &kc, "golden", &e), 0);
	assert_int_equal(kc.kdf, TP_KDF_SCRYPT);
	assert_true(kc.n == 1024 && kc.r == 8 && kc.p == 1);
	assert_int_equal(kc.salt_len, 32);
	assert_int_equal(kc.salt[0], 100);
	assert_true(kc.created == 1704161045 && kc.modified == 1704161045);
	assert_int_equal(kc.has_hint, 1);
	assert_string_equal(kc.hint, "the usual");
	assert_int_equal(tp_key_config_decrypt(&kc, "tapir-test", k, &e), 0);
	assert_memory_equal(k, key0, 32);
	assert_int_equal(tp_key_config_decrypt(&kc, "tapir-tesT", k, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, "wrong passphrase"));
	assert_int_equal(tp_key_config_decrypt(&kc, NULL, k, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, TP_KEY_PASSWORD_ENV));
	/* a stored fingerprint that does not belong to the key */
	json_object_set_new(j, "fingerprint", json_string("00:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b"));
	assert_int_equal(tp_key_config_from_json(j, &kc, "golden", &e), 0);
	assert_int_equal(tp_key_config_decrypt(&kc, "tapir-test", k, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, "wrong fingerprint 00:ab"));
	json_decref(j);

	j = parse(golden_pbkdf2);
	assert_int_equal(tp_key_config_from_json(j, &kc, "golden", &e), 0);
	assert_int_equal(kc.kdf, TP_KDF_PBKDF2);
	assert_true(kc.iter == 65535);
	assert_int_equal(kc.has_fingerprint, 0);
	assert_int_equal(tp_key_config_decrypt(&kc, "tapir-test", k, &e), 0);
	assert_memory_equal(k, key0, 32);
	assert_int_equal(tp_key_config_decrypt(&kc, "nope", k, &e), -TP_EKEY);
	json_decref(j);
}

static void test_create_roundtrip(void **state)
{
	(void)state;
	tp_key_config kc, back;
	tp_err e = { 0 };
	uint8_t k[32];
	/* kdf none: data is the raw key */
	assert_int_equal(tp_key_config_create(&kc, key0, TP_KDF_NONE, NULL, NULL, &e), 0);
	json_t *j = tp_key_config_to_json(&kc);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "kdf")));
	assert_string_equal(json_string_value(json_object_get(j, "data")), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	assert_string_equal(json_string_value(json_object_get(j, "fingerprint")),
			    "0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b");
	assert_null(json_object_get(j, "hint"));
	/* PBS's field order */
	char *text = tp_json_pretty(j);
	char *pk = strstr(text, "\"kdf\""), *pc = strstr(text, "\"created\""), *pm = strstr(text, "\"modified\""),
	     *pd = strstr(text, "\"data\""), *pf = strstr(text, "\"fingerprint\"");
	assert_true(pk && pc && pm && pd && pf && pk < pc && pc < pm && pm < pd && pd < pf);
	free(text);
	assert_int_equal(tp_key_config_from_json(j, &back, "t", &e), 0);
	assert_int_equal(tp_key_config_decrypt(&back, NULL, k, &e), 0);
	assert_memory_equal(k, key0, 32);
	assert_true(back.created == kc.created);
	json_decref(j);

	/* scrypt and pbkdf2 */
	for (int kdf = TP_KDF_SCRYPT; kdf <= TP_KDF_PBKDF2; kdf++) {
		assert_int_equal(tp_key_config_create(&kc, key0, kdf, NULL, NULL, &e), -TP_EKEY);
		assert_int_equal(tp_key_config_create(&kc, key0, kdf, "secret pass", "hint text", &e), 0);
		assert_int_equal(kc.data_len, 64);
		j = tp_key_config_to_json(&kc);
		json_t *params = json_object_get(json_object_get(j, "kdf"), kdf == TP_KDF_SCRYPT ? "Scrypt" : "PBKDF2");
		assert_non_null(params);
		if (kdf == TP_KDF_SCRYPT)
			assert_int_equal(json_integer_value(json_object_get(params, "n")), 65536);
		else
			assert_int_equal(json_integer_value(json_object_get(params, "iter")), 65535);
		assert_int_equal(strlen(json_string_value(json_object_get(j, "data"))), 88);
		assert_string_equal(json_string_value(json_object_get(j, "hint")), "hint text");
		assert_int_equal(tp_key_config_from_json(j, &back, "t", &e), 0);
		assert_int_equal(tp_key_config_decrypt(&back, "secret pass", k, &e), 0);
		assert_memory_equal(k, key0, 32);
		if (kdf == TP_KDF_PBKDF2) /* scrypt's wrong-passphrase case is in the golden test */
			assert_int_equal(tp_key_config_decrypt(&back, "secret pasS", k, &e), -TP_EKEY);
		json_decref(j);
	}
}

static void expect_bad(const char *json, const char *needle)
{
	tp_key_config kc;
	tp_err e = { 0 };
	json_t *j = parse(json);
	int r = tp_key_config_from_json(j, &kc, "bad", &e);
	if (r != -TP_EFORMAT || !strstr(e.msg, needle))
		fail_msg("%s: got %d '%s', wanted '%s'", json, r, e.msg, needle);
	json_decref(j);
}

#define T "\"created\":\"2024-01-02T03:04:05Z\",\"modified\":\"2024-01-02T03:04:05Z\""
#define D32 "\"data\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\""
#define SALT "\"salt\":\"AAEC\""

static void test_parse_errors(void **state)
{
	(void)state;
	expect_bad("[]", "not a JSON object");
	expect_bad("{\"kdf\":{\"Argon\":{}}," T "," D32 "}", "\"kdf\" must be");
	expect_bad("{\"kdf\":\"scrypt\"," T "," D32 "}", "\"kdf\" must be");
	expect_bad("{\"kdf\":{\"Scrypt\":{\"n\":1000,\"r\":8,\"p\":1," SALT "}}," T "," D32 "}", "power of two");
	expect_bad("{\"kdf\":{\"Scrypt\":{\"n\":1073741824,\"r\":8,\"p\":1," SALT "}}," T "," D32 "}", "out of range");
	expect_bad("{\"kdf\":{\"Scrypt\":{\"n\":1048576,\"r\":32,\"p\":1," SALT "}}," T "," D32 "}", "1 GiB");
	expect_bad("{\"kdf\":{\"Scrypt\":{\"n\":1024,\"r\":8," SALT "}}," T "," D32 "}", "\"p\"");
	expect_bad("{\"kdf\":{\"PBKDF2\":{\"iter\":0," SALT "}}," T "," D32 "}", "out of range");
	expect_bad("{\"kdf\":{\"PBKDF2\":{\"iter\":10,\"salt\":\"@@@@\"}}," T "," D32 "}", "base64");
	/* 32 bytes of data with a kdf: it must be 64 */
	expect_bad("{\"kdf\":{\"PBKDF2\":{\"iter\":10," SALT "}}," T "," D32 "}", "expected 64");
	expect_bad("{\"kdf\":null," T ",\"data\":\"AAEC\"}", "expected 32");
	expect_bad("{\"kdf\":null,\"modified\":\"2024-01-02T03:04:05Z\"," D32 "}", "created");
	expect_bad("{\"kdf\":null,\"created\":\"yesterday\",\"modified\":\"2024-01-02T03:04:05Z\"," D32 "}", "created");
	expect_bad("{\"kdf\":null," T "}", "data");
	expect_bad("{\"kdf\":null," T "," D32 ",\"fingerprint\":\"ab:cd\"}", "fingerprint");
	expect_bad("{\"kdf\":null," T "," D32 ",\"hint\":5}", "hint");
	/* the minimal valid form */
	tp_key_config kc;
	json_t *j = parse("{\"kdf\":null," T "," D32 "}");
	assert_int_equal(tp_key_config_from_json(j, &kc, "ok", NULL), 0);
	json_decref(j);
	assert_int_equal(tp_kdf_parse("Scrypt"), TP_KDF_SCRYPT);
	assert_int_equal(tp_kdf_parse("argon2"), -EINVAL);
}

static void test_key_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/tapir-test-key-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *p1 = tp_path_join(dir, "plain.json"), *p2 = tp_path_join(dir, "scrypt.json");
	tp_err e = { 0 };
	uint8_t fp[32], k[32];
	tp_key_config kc;
	struct stat st;
	assert_int_equal(tp_keyfile_create(p1, TP_KDF_NONE, NULL, NULL, fp, &e), 0);
	assert_int_equal(stat(p1, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tp_keyfile_create(p1, TP_KDF_NONE, NULL, NULL, fp, &e), -TP_EEXISTS);
	assert_non_null(strstr(e.msg, "already exists"));
	assert_int_equal(tp_keyfile_load(p1, NULL, k, &kc, &e), 0);
	assert_memory_equal(kc.fingerprint, fp, 32);
	tp_crypt_config cc;
	assert_int_equal(tp_crypt_config_init(&cc, k, NULL), 0);
	assert_memory_equal(cc.fingerprint, fp, 32);

	assert_int_equal(tp_keyfile_create(p2, TP_KDF_SCRYPT, "pw for test", "hint", fp, &e), 0);
	unsetenv(TP_KEY_PASSWORD_ENV);
	assert_int_equal(tp_keyfile_load(p2, NULL, k, NULL, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, p2));
	setenv(TP_KEY_PASSWORD_ENV, "pw for test", 1);
	assert_int_equal(tp_keyfile_load(p2, NULL, k, NULL, &e), 0);
	assert_int_equal(tp_crypt_config_init(&cc, k, NULL), 0);
	assert_memory_equal(cc.fingerprint, fp, 32);
	assert_int_equal(tp_keyfile_load(p2, "other", k, NULL, &e), -TP_EKEY);
	unsetenv(TP_KEY_PASSWORD_ENV);
	/* reading only the config needs no passphrase */
	assert_int_equal(tp_keyfile_read_config(p2, &kc, &e), 0);
	assert_int_equal(kc.kdf, TP_KDF_SCRYPT);
	/* save_new refuses an existing path too */
	assert_int_equal(tp_keyfile_save_new(p2, &kc, &e), -TP_EEXISTS);
	/* a broken file names itself */
	assert_int_equal(tp_write_atomic(p1, "{\"kdf\":", 7, 0600, NULL), 0);
	assert_true(tp_keyfile_load(p1, NULL, k, NULL, &e) < 0);
	assert_non_null(strstr(e.msg, p1));
	tp_rm_rf(dir, NULL);
	free(p1);
	free(p2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crypt_config_golden),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_golden_key_configs),
		cmocka_unit_test(test_create_roundtrip),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_key_files),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
