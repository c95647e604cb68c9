/* Unit test: manifest JSON (golden text), canonical JSON, signature (golden HMAC), parse checks, blob. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"
#include "format/blob.h"
#include "format/magic.h"
#include "format/manifest.h"

static tp_crypt_config key_a, key_b;

static int setup(void **state)
{
	(void)state;
	uint8_t k[32];
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	if (tp_crypt_config_init(&key_a, k, NULL) < 0)
		return -1;
	k[5] ^= 1;
	return tp_crypt_config_init(&key_b, k, NULL);
}

static void build(tp_manifest *m)
{
	uint8_t a[32], b[32];
	memset(a, 0xaa, 32);
	assert_int_equal(tp_hex_decode("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", b, 32), 0);
	assert_int_equal(tp_manifest_init(m, "vm", "100", 1700000000, NULL), 0);
	assert_int_equal(tp_manifest_add_file(m, "drive-scsi0.img.fidx", "encrypt", 10737418240ULL, a, NULL), 0);
	assert_int_equal(tp_manifest_add_file(m, "qemu-server.conf.blob", "none", 421, b, NULL), 0);
}

static const char golden_unsigned[] =
	"{\n"
	"  \"backup-id\": \"100\",\n"
	"  \"backup-time\": 1700000000,\n"
	"  \"backup-type\": \"vm\",\n"
	"  \"files\": [\n"
	"    {\n"
	"      \"crypt-mode\": \"encrypt\",\n"
	"      \"csum\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\n"
	"      \"filename\": \"drive-scsi0.img.fidx\",\n"
	"      \"size\": 10737418240\n"
	"    },\n"
	"    {\n"
	"      \"crypt-mode\": \"none\",\n"
	"      \"csum\": \"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\n"
	"      \"filename\": \"qemu-server.conf.blob\",\n"
	"      \"size\": 421\n"
	"    }\n"
	"  ],\n"
	"  \"signature\": null,\n"
	"  \"unprotected\": {}\n"
	"}";

/* HMAC-SHA256(id_key of key 00..1f, canonical signed part), computed with Python's hmac/json. */
static const char golden_sig[] = "150479118419eaf668f27d2864caccd455a7863acfda52c727894cc72fc1ed0a";

static void test_golden_json(void **state)
{
	(void)state;
	tp_manifest m;
	char *s;
	build(&m);
	assert_int_equal(tp_manifest_to_json(&m, NULL, &s, NULL), 0);
	assert_string_equal(s, golden_unsigned);
	free(s);
	tp_manifest_free(&m);
}

static void test_signature_golden(void **state)
{
	(void)state;
	tp_manifest m, p;
	char *s, hex[65];
	tp_err e = { 0 };
	build(&m);
	assert_int_equal(tp_manifest_to_json(&m, &key_a, &s, &e), 0);
	assert_int_equal(m.has_signature, 1);
	tp_hex_encode(m.signature, 32, hex);
	assert_string_equal(hex, golden_sig);
	assert_non_null(strstr(s, "\"signature\": \"150479118419eaf6"));
	assert_non_null(strstr(s, "\"key-fingerprint\": \"0e:ab:d4:46:0b:6e:b9:ca:34:50:23:de:e2:b7:78:c7:90:e5:4a:16:83:b9:65:9c:0a:57:ae:19:90:90:15:9b\""));
	/* parse it back and verify */
	assert_int_equal(tp_manifest_parse(&p, s, strlen(s), "index.json", &e), 0);
	assert_string_equal(p.backup_type, "vm");
	assert_string_equal(p.backup_id, "100");
	assert_true(p.backup_time == 1700000000);
	assert_int_equal(p.nfiles, 2);
	const tp_manifest_file *f = tp_manifest_find(&p, "drive-scsi0.img.fidx");
	assert_non_null(f);
	assert_int_equal(f->crypt_mode, TP_CRYPT_MODE_ENCRYPT);
	assert_true(f->size == 10737418240ULL);
	assert_int_equal(f->csum[31], 0xaa);
	assert_null(tp_manifest_find(&p, "nope.blob"));
	uint8_t fp[32];
	assert_int_equal(tp_manifest_key_fingerprint(&p, fp), 1);
	assert_memory_equal(fp, key_a.fingerprint, 32);
	assert_int_equal(tp_manifest_verify(&p, &key_a, &e), 0);
	assert_int_equal(tp_manifest_verify(&p, NULL, &e), 0);
	/* wrong key: the fingerprint tells */
	assert_int_equal(tp_manifest_verify(&p, &key_b, &e), -TP_EKEY);
	assert_non_null(strstr(e.msg, "wrong key"));
	/* without the fingerprint, the signature tells */
	json_object_del(p.unprotected, "key-fingerprint");
	assert_int_equal(tp_manifest_verify(&p, &key_b, &e), -TP_EDIGEST);
	assert_non_null(strstr(e.msg, "wrong signature"));
	/* unprotected is not signed */
	json_object_set_new(p.unprotected, "notes", json_string("changed"));
	assert_int_equal(tp_manifest_verify(&p, &key_a, &e), 0);
	/* re-serialised without a key: the stored signature stays and still verifies */
	char *s2;
	assert_int_equal(tp_manifest_to_json(&p, NULL, &s2, &e), 0);
	assert_non_null(strstr(s2, golden_sig));
	assert_non_null(strstr(s2, "\"notes\": \"changed\""));
	tp_manifest p2;
	assert_int_equal(tp_manifest_parse(&p2, s2, strlen(s2), "t", &e), 0);
	assert_int_equal(tp_manifest_verify(&p2, &key_a, &e), 0);
	tp_manifest_free(&p2);
	free(s2);
	tp_manifest_free(&p);

	/* a changed signed field breaks the signature */
	char *t = strdup(s);
	char *at = strstr(t, "\"size\": 421");
	assert_non_null(at);
	at[8] = '5';
	assert_int_equal(tp_manifest_parse(&p, t, strlen(t), "t", &e), 0);
	assert_int_equal(tp_manifest_verify(&p, &key_a, &e), -TP_EDIGEST);
	tp_manifest_free(&p);
	/* an unknown top-level key is covered by the signature too */
	strcpy(t, s);
	at = strchr(t, '{');
	char *u = malloc(strlen(t) + 32);
	sprintf(u, "{\"zz-extra\": 1, %s", at + 1);
	assert_int_equal(tp_manifest_parse(&p, u, strlen(u), "t", &e), 0);
	assert_int_equal(tp_manifest_verify(&p, &key_a, &e), -TP_EDIGEST);
	tp_manifest_free(&p);
	free(u);
	free(t);
	free(s);
	/* a built (not parsed) manifest verifies against its own signature */
	assert_int_equal(tp_manifest_verify(&m, &key_a, &e), 0);
	tp_manifest_free(&m);
}

static void test_canonical(void **state)
{
	(void)state;
	tp_err e = { 0 };
	json_error_t je;
	json_t *v = json_loads("{\"b\":\"x\\\"\\\\\\n\\u0001\\u001f\xc3\xa9/\",\"a\":[1,true,false,{\"d\":-5,\"c\":\"\"}],"
			       "\"B\":{}}", 0, &je);
	assert_non_null(v);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_canonical_json(v, &b, &e), 0);
	const char *want = "{\"B\":{},\"a\":[1,true,false,{\"c\":\"\",\"d\":-5}],\"b\":\"x\\\"\\\\\\n\\u0001\\u001f\xc3\xa9/\"}";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	json_decref(v);
	tp_buf_reset(&b);
	v = json_pack("{s:n}", "a");
	assert_int_equal(tp_canonical_json(v, &b, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "null"));
	json_decref(v);
	v = json_pack("[f]", 1.5);
	assert_int_equal(tp_canonical_json(v, &b, &e), -EINVAL);
	json_decref(v);
	tp_buf_free(&b);
}

static void expect_parse_error(const char *json, const char *needle)
{
	tp_manifest m;
	tp_err e = { 0 };
	int r = tp_manifest_parse(&m, json, strlen(json), "bad.json", &e);
	if (r != -TP_EFORMAT || !strstr(e.msg, needle))
		fail_msg("parse of %s gave %d '%s', wanted '%s'", json, r, e.msg, needle);
	assert_null(m.files);
	assert_null(m.raw);
}

#define CS "\"csum\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\""
#define HEAD "\"backup-type\":\"ct\",\"backup-id\":\"a.b-c_1\",\"backup-time\":5"

static void test_parse_errors(void **state)
{
	(void)state;
	expect_parse_error("[]", "not a JSON object");
	expect_parse_error("{", "invalid JSON");
	expect_parse_error("{\"backup-id\":\"1\",\"backup-time\":5,\"files\":[]}", "backup-type");
	expect_parse_error("{\"backup-type\":\"xx\",\"backup-id\":\"1\",\"backup-time\":5,\"files\":[]}", "invalid backup-type");
	expect_parse_error("{\"backup-type\":\"vm\",\"backup-id\":\"../1\",\"backup-time\":5,\"files\":[]}", "invalid backup-id");
	expect_parse_error("{\"backup-type\":\"vm\",\"backup-id\":\"1\",\"backup-time\":\"5\",\"files\":[]}", "backup-time");
	expect_parse_error("{" HEAD "}", "files");
	expect_parse_error("{" HEAD ",\"files\":{}}", "files");
	expect_parse_error("{" HEAD ",\"files\":[1]}", "files[0] is not an object");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"../x.blob\",\"size\":1," CS "}]}", "contains '/'");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"x.txt\",\"size\":1," CS "}]}", "does not end in");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\".blob\",\"size\":1," CS "}]}", "does not end in");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"a\\nb.blob\",\"size\":1," CS "}]}", "control");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"x.blob\",\"size\":1," CS "},"
			   "{\"filename\":\"x.blob\",\"size\":2," CS "}]}", "listed twice");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"x.blob\",\"size\":-1," CS "}]}", "negative size");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"x.blob\",\"size\":1,\"csum\":\"abc\"}]}", "csum");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"x.blob\",\"size\":1," CS ",\"crypt-mode\":\"rot13\"}]}", "crypt-mode");
	expect_parse_error("{" HEAD ",\"files\":[{\"filename\":\"x.blob\"," CS "}]}", "size");
	expect_parse_error("{" HEAD ",\"files\":[],\"unprotected\":[]}", "unprotected");
	expect_parse_error("{" HEAD ",\"files\":[],\"unprotected\":{\"key-fingerprint\":\"zz\"}}", "key-fingerprint");
	expect_parse_error("{" HEAD ",\"files\":[],\"signature\":\"abcd\"}", "signature");
	expect_parse_error("{" HEAD ",\"files\":[],\"signature\":5}", "signature");

	/* minimal valid form: crypt-mode defaults to none, unprotected to {} */
	const char *ok = "{" HEAD ",\"files\":[{\"filename\":\"root.pxar.didx\",\"size\":7," CS "}],\"signature\":null}";
	tp_manifest m;
	tp_err e = { 0 };
	assert_int_equal(tp_manifest_parse(&m, ok, strlen(ok), "t", &e), 0);
	assert_int_equal(m.files[0].crypt_mode, TP_CRYPT_MODE_NONE);
	assert_true(json_is_object(m.unprotected));
	assert_int_equal(m.has_signature, 0);
	uint8_t fp[32];
	assert_int_equal(tp_manifest_key_fingerprint(&m, fp), 0);
	/* unsigned manifests pass verification with any key, as in PBS */
	assert_int_equal(tp_manifest_verify(&m, &key_b, &e), 0);
	tp_manifest_free(&m);
}

static void test_builder_checks(void **state)
{
	(void)state;
	tp_manifest m;
	tp_err e = { 0 };
	uint8_t c[32] = { 0 };
	assert_int_equal(tp_manifest_init(&m, "vmx", "1", 0, &e), -EINVAL);
	assert_int_equal(tp_manifest_init(&m, "vm", "", 0, &e), -EINVAL);
	assert_int_equal(tp_manifest_init(&m, "vm", "-a", 0, &e), -EINVAL);
	assert_int_equal(tp_manifest_init(&m, "host", "my.host-1", 0, &e), 0);
	assert_int_equal(tp_manifest_add_file(&m, "a/b.blob", "none", 1, c, &e), -TP_EFORMAT);
	assert_int_equal(tp_manifest_add_file(&m, "b.blob", "secret", 1, c, &e), -EINVAL);
	assert_int_equal(tp_manifest_add_file(&m, "b.blob", "sign-only", 1, c, &e), 0);
	assert_int_equal(tp_manifest_add_file(&m, "b.blob", "none", 1, c, &e), -TP_EFORMAT);
	assert_int_equal(m.nfiles, 1);
	assert_int_equal(tp_manifest_check_filename("index.json.blob", NULL), 0);
	assert_int_equal(tp_manifest_check_filename("catalog.pcat1.didx", NULL), 0);
	char longname[300];
	memset(longname, 'a', sizeof(longname));
	strcpy(longname + 290, ".blob");
	assert_int_equal(tp_manifest_check_filename(longname, NULL), -TP_EFORMAT);
	assert_string_equal(tp_crypt_mode_name(TP_CRYPT_MODE_SIGN_ONLY), "sign-only");
	tp_manifest_free(&m);
}

static void test_blob(void **state)
{
	(void)state;
	tp_manifest m, p;
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	build(&m);
	assert_int_equal(tp_manifest_encode_blob(&m, &key_a, &b, &e), 0);
	/* compressed, never encrypted */
	assert_int_equal(tp_blob_kind_of(b.data, b.len, "t", NULL), TP_BLOB_ZSTD);
	assert_int_equal(tp_manifest_decode_blob(&p, b.data, b.len, "index.json.blob", &e), 0);
	assert_int_equal(p.nfiles, 2);
	assert_int_equal(tp_manifest_verify(&p, &key_a, &e), 0);
	tp_manifest_free(&p);
	b.data[b.len - 1] ^= 1;
	assert_int_equal(tp_manifest_decode_blob(&p, b.data, b.len, "index.json.blob", &e), -TP_ECRC);
	assert_non_null(strstr(e.msg, "index.json.blob: CRC mismatch"));
	tp_buf_free(&b);
	tp_manifest_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_json),
		cmocka_unit_test(test_signature_golden),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_builder_checks),
		cmocka_unit_test(test_blob),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
