/* Unit test: MediaContentHeader bytes, header-data limits, JSON pretty form, write/read through a block stream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "format/content_header.h"
#include "format/magic.h"
#include "format/tape_block.h"

static void test_encode_decode(void **state)
{
	(void)state;
	tp_content_header h = { .ctime = 0x0102030405060708LL, .size = 0xa1b2c3d4u, .part_number = 0 };
	memcpy(h.content_magic, tp_magic(TP_MAGIC_CHUNK_ARCHIVE_1_1), 8);
	for (int i = 0; i < 16; i++)
		h.uuid[i] = (uint8_t)(0xf0 + i);
	uint8_t raw[48];
	memset(raw, 0xee, sizeof(raw));
	tp_content_header_encode(&h, raw);
	static const uint8_t want_tail[] = { 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
					     0xd4, 0xc3, 0xb2, 0xa1, 0x00, 0x00, 0x00, 0x00 };
	assert_memory_equal(raw, tp_magic(TP_MAGIC_CONTENT_HEADER), 8);
	assert_memory_equal(raw + 8, tp_magic(TP_MAGIC_CHUNK_ARCHIVE_1_1), 8);
	assert_memory_equal(raw + 16, h.uuid, 16);
	assert_memory_equal(raw + 32, want_tail, 16);

	tp_content_header g;
	tp_err e = { 0 };
	assert_int_equal(tp_content_header_decode(raw, &g, &e), 0);
	assert_memory_equal(&g.content_magic, h.content_magic, 8);
	assert_memory_equal(g.uuid, h.uuid, 16);
	assert_true(g.ctime == h.ctime);
	assert_int_equal(g.size, h.size);
	assert_int_equal(tp_content_header_kind(&g), TP_MAGIC_CHUNK_ARCHIVE_1_1);
	memcpy(g.content_magic, tp_magic(TP_MAGIC_BLOB_PLAIN), 8);
	assert_int_equal(tp_content_header_kind(&g), -1);
	raw[0] ^= 0x80;
	assert_int_equal(tp_content_header_decode(raw, &g, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "wrong magic"));
}

static void test_json_pretty(void **state)
{
	(void)state;
	json_t *o = json_pack("{s:s, s:s, s:i}", "store", "s1", "snapshot", "vm/100/x", "a", 5);
	char *s = tp_content_json_pretty(o, 0);
	assert_string_equal(s, "{\n  \"store\": \"s1\",\n  \"snapshot\": \"vm/100/x\",\n  \"a\": 5\n}");
	free(s);
	s = tp_content_json_pretty(o, 1);
	assert_string_equal(s, "{\n  \"a\": 5,\n  \"snapshot\": \"vm/100/x\",\n  \"store\": \"s1\"\n}");
	free(s);
	json_decref(o);
}

static void test_write_read(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	tp_block_writer w;
	tp_err e = { 0 };
	uint8_t uuid[16] = { 0 };
	const char *js = "{\n  \"store\": \"s1\"\n}";
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_content_header_write(&w, TP_MAGIC_CHUNK_ARCHIVE_1_1, uuid, 1700000000, js, strlen(js), &e), 0);
	uint8_t zero[16] = { 0 };
	assert_memory_not_equal(uuid, zero, 16);
	assert_int_equal(uuid[6] >> 4, 4); /* random v4 uuid */
	assert_int_equal(tp_block_writer_write(&w, "tail", 4, &e), 0);
	assert_int_equal(tp_block_writer_finish(&w, 0, &e), 0);
	tp_block_writer_free(&w);
	/* second file: fixed uuid, oversized header-data claim */
	uint8_t fixed[16];
	memset(fixed, 0x11, 16);
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_content_header_write(&w, TP_MAGIC_CATALOG_ARCHIVE_1_0, fixed, 5, "[1]", 3, &e), 0);
	assert_int_equal(fixed[0], 0x11);
	assert_int_equal(tp_block_writer_finish(&w, 0, &e), 0);
	tp_block_writer_free(&w);

	tp_mem_tape_rewind(&t);
	tp_block_reader r;
	tp_content_header h;
	json_t *j = NULL;
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	assert_int_equal(tp_content_header_read_json(&r, &h, TP_ARCHIVE_JSON_MAX, &j, &e), 0);
	assert_memory_equal(h.uuid, uuid, 16);
	assert_true(h.ctime == 1700000000);
	assert_int_equal(h.size, strlen(js));
	assert_string_equal(json_string_value(json_object_get(j, "store")), "s1");
	json_decref(j);
	char tail[8];
	assert_int_equal(tp_block_reader_read_full(&r, tail, sizeof(tail), &e), 4);
	assert_memory_equal(tail, "tail", 4);
	tp_block_reader_free(&r);

	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	assert_int_equal(tp_content_header_read_json(&r, &h, TP_ARCHIVE_JSON_MAX, &j, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "not a JSON object"));
	tp_block_reader_free(&r);

	/* size limit: a max of 2 rejects the 3-byte header-data */
	assert_int_equal(tp_mem_tape_seek_file(&t, 1), 0);
	uint8_t *d;
	size_t len;
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	assert_int_equal(tp_content_header_read(&r, &h, 2, &d, &len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "size 3 not in 1..2"));
	tp_block_reader_free(&r);
	tp_mem_tape_free(&t);
}

static void test_truncated(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	tp_block_writer w;
	tp_err e = { 0 };
	tp_content_header h = { .size = 100 };
	memcpy(h.content_magic, tp_magic(TP_MAGIC_MEDIA_LABEL), 8);
	uint8_t raw[48];
	tp_content_header_encode(&h, raw);
	/* file 0: 20 bytes only; file 1: header claiming 100 bytes, 10 present; file 2: size 0 */
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_block_writer_write(&w, raw, 20, &e), 0);
	assert_int_equal(tp_block_writer_finish(&w, 0, &e), 0);
	tp_block_writer_free(&w);
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_block_writer_write(&w, raw, 48, &e), 0);
	assert_int_equal(tp_block_writer_write(&w, "0123456789", 10, &e), 0);
	assert_int_equal(tp_block_writer_finish(&w, 0, &e), 0);
	tp_block_writer_free(&w);
	h.size = 0;
	tp_content_header_encode(&h, raw);
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_block_writer_write(&w, raw, 48, &e), 0);
	assert_int_equal(tp_block_writer_finish(&w, 0, &e), 0);
	tp_block_writer_free(&w);

	tp_mem_tape_rewind(&t);
	tp_block_reader r;
	uint8_t *d;
	size_t len;
	const char *want[] = { "after 20 of 48", "after 10 of 100", "size 0 not in" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
		assert_int_equal(tp_content_header_read(&r, &h, TP_LABEL_JSON_MAX, &d, &len, &e), -TP_EFORMAT);
		assert_non_null(strstr(e.msg, want[i]));
		assert_null(d);
		uint64_t sk;
		assert_int_equal(tp_block_reader_skip_data(&r, &sk, &e), 0);
		tp_block_reader_free(&r);
	}
	tp_mem_tape_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_decode),
		cmocka_unit_test(test_json_pretty),
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
