/* Unit test: media / media-set label JSON (PBS field names, order-independent parse) and label tape files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "format/content_header.h"
#include "format/media_label.h"
#include "format/tape_block.h"

static const char *U1 = "0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9";
static const char *FP = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
			"01:23:45:67:89:ab:cd:ef:fe:dc:ba:98:76:54:32:10";

static void test_uuid_fingerprint(void **state)
{
	(void)state;
	uint8_t u[16], fp[32];
	char s[37], f[96];
	assert_int_equal(tp_uuid_parse(U1, u), 0);
	assert_int_equal(u[0], 0x0a);
	assert_int_equal(u[15], 0xf9);
	tp_uuid_unparse(u, s);
	assert_string_equal(s, U1);
	assert_int_equal(tp_uuid_parse("0A1B2C3D-4E5F-4071-8293-A4B5C6D7E8F9", u), 0);
	tp_uuid_unparse(u, s);
	assert_string_equal(s, U1);
	assert_int_equal(tp_uuid_parse("0a1b2c3d4e5f40718293a4b5c6d7e8f9", u), -EINVAL);
	assert_int_equal(tp_uuid_parse("0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f", u), -EINVAL);
	assert_int_equal(tp_fingerprint_parse(FP, fp), 0);
	assert_int_equal(fp[10], 0xaa);
	tp_fingerprint_unparse(fp, f);
	assert_string_equal(f, FP);
	assert_int_equal(strlen(f), 95);
	char bad[96];
	strcpy(bad, FP);
	bad[2] = '-';
	assert_int_equal(tp_fingerprint_parse(bad, fp), -EINVAL);
	strcpy(bad, FP);
	bad[4] = 'g';
	assert_int_equal(tp_fingerprint_parse(bad, fp), -EINVAL);
	assert_int_equal(tp_fingerprint_parse(FP + 3, fp), -EINVAL);
	uint8_t z[16] = { 0 };
	assert_true(tp_uuid_is_zero(z));
	z[15] = 1;
	assert_false(tp_uuid_is_zero(z));
}

static void test_label_json(void **state)
{
	(void)state;
	tp_media_label l = { .ctime = 1700000001 };
	tp_uuid_parse(U1, l.uuid);
	strcpy(l.label_text, "TAPE01L8");
	char *s = tp_media_label_json_text(&l);
	assert_string_equal(s, "{\n  \"ctime\": 1700000001,\n  \"label_text\": \"TAPE01L8\",\n"
			       "  \"uuid\": \"0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9\"\n}");
	free(s);
	strcpy(l.pool, "daily");
	s = tp_media_label_json_text(&l);
	assert_non_null(strstr(s, "\"pool\": \"daily\""));
	tp_media_label b;
	tp_err e = { 0 };
	assert_int_equal(tp_media_label_parse(s, strlen(s), &b, &e), 0);
	assert_memory_equal(&b, &l, sizeof(l));
	free(s);

	/* order-independent, unknown keys ignored, null pool = no pool */
	const char *j = "{\"pool\":null,\"x\":[1],\"uuid\":\"0A1B2C3D-4E5F-4071-8293-A4B5C6D7E8F9\","
			"\"ctime\":5,\"label_text\":\"A\"}";
	assert_int_equal(tp_media_label_parse(j, strlen(j), &b, &e), 0);
	assert_int_equal(b.pool[0], 0);
	assert_true(b.ctime == 5);
	assert_memory_equal(b.uuid, l.uuid, 16);

	static const struct { const char *j, *msg; } bad[] = {
		{ "{\"label_text\":\"A\",\"ctime\":5}", "\"uuid\"" },
		{ "{\"uuid\":\"nope\",\"label_text\":\"A\",\"ctime\":5}", "not a UUID" },
		{ "{\"uuid\":\"0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9\",\"label_text\":\"\",\"ctime\":5}", "empty" },
		{ "{\"uuid\":\"0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9\",\"label_text\":\"A\",\"ctime\":\"5\"}", "\"ctime\"" },
		{ "{\"uuid\":\"0a1b2c3d-4e5f-4071-8293-a4b5c6d7e8f9\",\"label_text\":\"A\",\"ctime\":5,\"pool\":7}", "\"pool\"" },
		{ "[1]", "not a JSON object" },
		{ "{", "invalid JSON" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tp_media_label_parse(bad[i].j, strlen(bad[i].j), &b, &e), -TP_EFORMAT);
		assert_non_null(strstr(e.msg, bad[i].msg));
	}
	char *big = malloc(TP_LABEL_TEXT_MAX + 200);
	int n = sprintf(big, "{\"uuid\":\"%s\",\"ctime\":1,\"label_text\":\"", U1);
	memset(big + n, 'x', TP_LABEL_TEXT_MAX + 1);
	strcpy(big + n + TP_LABEL_TEXT_MAX + 1, "\"}");
	assert_int_equal(tp_media_label_parse(big, strlen(big), &b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "longer than 128"));
	free(big);
	assert_int_equal(tp_media_label_parse("{}", 0, &b, &e), -TP_EFORMAT);
}

static void test_set_label_json(void **state)
{
	(void)state;
	tp_media_set_label l = { .seq_nr = 3, .ctime = 1700000002, .has_fingerprint = 1 };
	strcpy(l.pool, "p1");
	tp_uuid_parse(U1, l.uuid);
	tp_fingerprint_parse(FP, l.fingerprint);
	tp_err e = { 0 };
	l.key_config = json_loads("{\"kdf\":null,\"data\":\"abc\"}", 0, NULL);
	char *s = tp_media_set_label_json_text(&l);
	char want[1024];
	snprintf(want, sizeof(want),
		 "{\n  \"ctime\": 1700000002,\n  \"encryption_key_fingerprint\": \"%s\",\n  \"key-config\": {\n"
		 "    \"data\": \"abc\",\n    \"kdf\": null\n  },\n  \"pool\": \"p1\",\n  \"seq_nr\": 3,\n"
		 "  \"uuid\": \"%s\"\n}", FP, U1);
	assert_string_equal(s, want);
	tp_media_set_label b;
	assert_int_equal(tp_media_set_label_parse(s, strlen(s), &b, &e), 0);
	assert_true(b.seq_nr == 3 && b.ctime == 1700000002 && b.has_fingerprint);
	assert_memory_equal(b.fingerprint, l.fingerprint, 32);
	assert_memory_equal(b.uuid, l.uuid, 16);
	assert_string_equal(b.pool, "p1");
	assert_true(json_equal(b.key_config, l.key_config));
	tp_media_set_label_clear(&b);
	assert_null(b.key_config);
	free(s);
	tp_media_set_label_clear(&l);

	/* legacy "no set": all-zero uuid, no fingerprint */
	const char *j = "{\"uuid\":\"00000000-0000-0000-0000-000000000000\",\"seq_nr\":0,\"pool\":\"p\",\"ctime\":9}";
	assert_int_equal(tp_media_set_label_parse(j, strlen(j), &b, &e), 0);
	assert_true(tp_uuid_is_zero(b.uuid));
	assert_false(b.has_fingerprint);
	assert_null(b.key_config);
	j = "{\"uuid\":\"00000000-0000-0000-0000-000000000000\",\"seq_nr\":-1,\"pool\":\"p\",\"ctime\":9}";
	assert_int_equal(tp_media_set_label_parse(j, strlen(j), &b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "seq_nr"));
	j = "{\"uuid\":\"00000000-0000-0000-0000-000000000000\",\"seq_nr\":0,\"pool\":\"p\",\"ctime\":9,"
	    "\"encryption_key_fingerprint\":\"00:11\"}";
	assert_int_equal(tp_media_set_label_parse(j, strlen(j), &b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "fingerprint"));
	j = "{\"uuid\":\"00000000-0000-0000-0000-000000000000\",\"seq_nr\":0,\"pool\":\"p\",\"ctime\":9,"
	    "\"key-config\":3}";
	assert_int_equal(tp_media_set_label_parse(j, strlen(j), &b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "key-config"));
}

static void test_label_files(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	tp_err e = { 0 };
	tp_media_label l = { .ctime = 42 }, b;
	tp_uuid_parse(U1, l.uuid);
	strcpy(l.label_text, "L1");
	tp_media_set_label s = { .seq_nr = 1, .ctime = 43 }, sb;
	strcpy(s.pool, "p");
	memset(s.uuid, 0x5a, 16);

	/* blank tape: no label */
	assert_int_equal(tp_media_label_read(&t.io, &b, &e), TP_LABEL_NONE);
	assert_int_equal(tp_media_label_write(&t.io, &l, &e), 0);
	assert_int_equal(t.n, 2);
	/* the file holds content header + JSON exactly */
	char *text = tp_media_label_json_text(&l);
	tp_content_header h;
	assert_int_equal(tp_content_header_decode(t.objs[0].data + 16, &h, &e), 0);
	assert_memory_equal(h.content_magic, tp_magic(TP_MAGIC_MEDIA_LABEL), 8);
	assert_int_equal(h.size, strlen(text));
	assert_int_equal(t.objs[0].data[8], TP_TAPE_BLOCK_END_OF_STREAM);
	assert_int_equal(tp_le32(t.objs[0].data + 8) >> 8, 48 + strlen(text));
	assert_memory_equal(t.objs[0].data + 16 + 48, text, strlen(text));
	free(text);

	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_media_label_read(&t.io, &b, &e), 0);
	assert_memory_equal(&b, &l, sizeof(l));
	assert_int_equal(tp_media_set_label_read(&t.io, &sb, &e), TP_LABEL_NONE);
	assert_int_equal(tp_media_set_label_write(&t.io, &s, &e), 0);
	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_media_label_read(&t.io, &b, &e), 0);
	assert_int_equal(tp_media_set_label_read(&t.io, &sb, &e), 0);
	assert_memory_equal(sb.uuid, s.uuid, 16);
	assert_true(sb.seq_nr == 1);

	/* a set label where the media label belongs is refused */
	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_media_set_label_read(&t.io, &sb, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected content magic"));

	/* trailing data after the JSON */
	tp_mem_tape_free(&t);
	tp_mem_tape_init(&t);
	char *js = tp_media_label_json_text(&l);
	tp_block_writer w;
	uint8_t cu[16] = { 0 };
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_content_header_write(&w, TP_MAGIC_MEDIA_LABEL, cu, 1, js, strlen(js), &e), 0);
	assert_int_equal(tp_block_writer_write(&w, "x", 1, &e), 0);
	assert_int_equal(tp_block_writer_finish(&w, 0, &e), 0);
	tp_block_writer_free(&w);
	t.io.write_filemark(t.io.ctx, &e);
	free(js);
	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_media_label_read(&t.io, &b, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected data after the label"));
	/* the next file is an empty one: a filemark right away */
	assert_int_equal(tp_media_set_label_read(&t.io, &sb, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected filemark"));
	tp_mem_tape_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid_fingerprint),
		cmocka_unit_test(test_label_json),
		cmocka_unit_test(test_set_label_json),
		cmocka_unit_test(test_label_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
