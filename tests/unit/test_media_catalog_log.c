/* Unit test: media catalog .log records (worked example bytes of pbs-formats §5), every decoder invariant, catalog archives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "format/catalog_archive.h"
#include "format/magic.h"
#include "format/tape_block.h"
#include "format/media_catalog_log.h"

static uint8_t MEDIA[16], SET[16], CU[16], CU2[16], DG[32];

static void init_ids(void)
{
	for (int i = 0; i < 16; i++) {
		MEDIA[i] = (uint8_t)(0x10 + i);
		SET[i] = (uint8_t)(0x20 + i);
		CU[i] = (uint8_t)(0x30 + i);
		CU2[i] = (uint8_t)(0x40 + i);
	}
	for (int i = 0; i < 32; i++)
		DG[i] = (uint8_t)(0xa0 + i);
}

static void test_worked_example(void **state)
{
	(void)state;
	init_ids();
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	assert_int_equal(tp_mclog_append_snapshot(&b, 5, CU, "store1", "vm/100/2024-01-01T00:00:00Z", &e), 0);
	/* §5: 53, file 5 LE, 16 uuid bytes, 06, pad, 1b 00, 4 pad, "store1", ':', 27 path bytes = 67 */
	assert_int_equal(b.len, 67);
	static const uint8_t head[] = { 0x53, 5, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(b.data, head, sizeof(head));
	assert_memory_equal(b.data + 9, CU, 16);
	assert_int_equal(b.data[25], 6);
	assert_int_equal(b.data[26], 0);
	assert_int_equal(b.data[27], 0x1b);
	assert_int_equal(b.data[28], 0);
	for (int i = 29; i < 33; i++)
		assert_int_equal(b.data[i], 0);
	assert_memory_equal(b.data + 33, "store1:vm/100/2024-01-01T00:00:00Z", 34);

	/* chunk archive at file 3 with two chunks: 41+32+store, 43+32, 43+32, 45+24 */
	tp_buf_reset(&b);
	assert_int_equal(tp_mclog_append_archive_start(&b, 3, CU2, "store1", &e), 0);
	assert_int_equal(tp_mclog_append_chunk(&b, DG), 0);
	assert_int_equal(tp_mclog_append_chunk(&b, DG), 0);
	assert_int_equal(tp_mclog_append_archive_end(&b, 3, CU2), 0);
	assert_int_equal(b.len, 33 + 6 + 33 + 33 + 25);
	assert_int_equal(b.data[0], 0x41);
	assert_int_equal(b.data[1], 3);
	assert_int_equal(b.data[25], 6);
	for (int i = 26; i < 33; i++)
		assert_int_equal(b.data[i], 0);
	assert_int_equal(b.data[39], 0x43);
	assert_memory_equal(b.data + 40, DG, 32);
	assert_int_equal(b.data[105], 0x45);
	assert_int_equal(b.data[106], 3);
	assert_memory_equal(b.data + 114, CU2, 16);

	tp_buf_reset(&b);
	assert_int_equal(tp_mclog_append_label(&b, 1, SET, 7), 0);
	assert_int_equal(b.len, 33);
	assert_int_equal(b.data[0], 'L');
	assert_int_equal(b.data[1], 1);
	assert_memory_equal(b.data + 9, SET, 16);
	assert_int_equal(b.data[25], 7);
	assert_int_equal(tp_mclog_append_snapshot(&b, 5, CU, "store1", "vm/100", &e), -EINVAL);
	assert_int_equal(tp_mclog_append_archive_start(&b, 5, CU, "", &e), -EINVAL);
	assert_int_equal(b.len, 33);
	tp_buf_free(&b);
}

typedef struct seen {
	char types[64];
	int n;
	char store[64], snap[128];
	uint64_t chunk_file;
} seen;

static int on_rec(void *ctx, const tp_mclog_record *r, tp_err *err)
{
	(void)err;
	seen *s = ctx;
	s->types[s->n++] = r->type;
	if (r->type == 'S') {
		strcpy(s->store, r->store);
		strcpy(s->snap, r->snapshot);
	}
	if (r->type == 'C')
		s->chunk_file = r->archive_file;
	return 0;
}

/* A valid log: magic, L0, L1, A3 C C E3, S5. */
static void good_log(tp_buf *b)
{
	tp_err e = { 0 };
	tp_mclog_append_magic(b);
	tp_mclog_append_label(b, 0, MEDIA, 0);
	tp_mclog_append_label(b, 1, SET, 2);
	tp_mclog_append_archive_start(b, 3, CU2, "store1", &e);
	tp_mclog_append_chunk(b, DG);
	tp_mclog_append_chunk(b, DG);
	tp_mclog_append_archive_end(b, 3, CU2);
	tp_mclog_append_snapshot(b, 5, CU, "store1", "ns/x/vm/100/2024-01-01T00:00:00Z", &e);
}

static void test_decode_streaming(void **state)
{
	(void)state;
	init_ids();
	tp_buf b = TP_BUF_INIT;
	good_log(&b);
	tp_err e = { 0 };
	seen s = { 0 };
	assert_int_equal(tp_mclog_decode(b.data, b.len, MEDIA, on_rec, &s, &e), 0);
	assert_string_equal(s.types, "LLACCES");
	assert_string_equal(s.store, "store1");
	assert_string_equal(s.snap, "ns/x/vm/100/2024-01-01T00:00:00Z");
	assert_int_equal(s.chunk_file, 3);
	/* byte by byte */
	for (size_t step = 1; step <= 7; step += 6) {
		tp_mclog_decoder d;
		seen t = { 0 };
		tp_mclog_decoder_init(&d, on_rec, &t);
		d.expect_set = SET;
		d.expect_seq_nr = 2;
		for (size_t i = 0; i < b.len; i += step)
			assert_int_equal(tp_mclog_decoder_feed(&d, b.data + i, b.len - i < step ? b.len - i : step, &e), 0);
		assert_int_equal(tp_mclog_decoder_finish(&d, &e), 0);
		assert_string_equal(t.types, "LLACCES");
		tp_mclog_decoder_free(&d);
	}
	/* wrong expected media / set */
	uint8_t other[16] = { 0 };
	assert_int_equal(tp_mclog_decode(b.data, b.len, other, NULL, NULL, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "media uuid"));
	tp_mclog_decoder d;
	tp_mclog_decoder_init(&d, NULL, NULL);
	d.expect_set = SET;
	d.expect_seq_nr = 3;
	assert_int_equal(tp_mclog_decoder_feed(&d, b.data, b.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected media set uuid / sequence number"));
	assert_int_equal(tp_mclog_decoder_feed(&d, b.data, 1, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "failed earlier"));
	tp_mclog_decoder_free(&d);
	/* truncated in the middle of the last record */
	assert_int_equal(tp_mclog_decode(b.data, b.len - 1, NULL, NULL, NULL, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "ends inside a record"));
	tp_buf_free(&b);
}

/* Builds magic + L0 (+ L1) then runs `extra` records and expects an error containing msg. */
static void expect_bad(void (*build)(tp_buf *), const char *msg)
{
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	build(&b);
	int rc = tp_mclog_decode(b.data, b.len, NULL, NULL, NULL, &e);
	if (rc != -TP_EFORMAT || !strstr(e.msg, msg))
		fail_msg("want \"%s\", got %d \"%s\"", msg, rc, e.msg);
	tp_buf_free(&b);
}

static void hdr(tp_buf *b) { tp_mclog_append_magic(b); tp_mclog_append_label(b, 0, MEDIA, 0); }
static void b_old_magic(tp_buf *b) { tp_buf_append(b, tp_magic(TP_MAGIC_MEDIA_CATALOG_1_0), 8); }
static void b_no_label(tp_buf *b) { tp_mclog_append_magic(b); tp_mclog_append_chunk(b, DG); }
static void b_label_file1_first(tp_buf *b) { tp_mclog_append_magic(b); tp_mclog_append_label(b, 1, SET, 0); }
static void b_label_seq(tp_buf *b) { tp_mclog_append_magic(b); tp_mclog_append_label(b, 0, MEDIA, 1); }
static void b_third_label(tp_buf *b) { hdr(b); tp_mclog_append_label(b, 1, SET, 0); tp_mclog_append_label(b, 2, SET, 0); }
static void b_archive_file1(tp_buf *b) { tp_err e; hdr(b); tp_mclog_append_archive_start(b, 1, CU, "s", &e); }
static void b_backwards(tp_buf *b)
{
	tp_err e;
	hdr(b);
	tp_mclog_append_snapshot(b, 4, CU, "s", "vm/1/2024-01-01T00:00:00Z", &e);
	tp_mclog_append_snapshot(b, 4, CU, "s", "vm/2/2024-01-01T00:00:00Z", &e);
}
static void b_chunk_outside(tp_buf *b) { hdr(b); tp_mclog_append_chunk(b, DG); }
static void b_end_mismatch(tp_buf *b)
{
	tp_err e;
	hdr(b);
	tp_mclog_append_archive_start(b, 2, CU, "s", &e);
	tp_mclog_append_archive_end(b, 2, CU2);
}
static void b_snap_inside(tp_buf *b)
{
	tp_err e;
	hdr(b);
	tp_mclog_append_archive_start(b, 2, CU, "s", &e);
	tp_mclog_append_snapshot(b, 3, CU, "s", "vm/1/2024-01-01T00:00:00Z", &e);
}
static void b_open_archive(tp_buf *b) { tp_err e; hdr(b); tp_mclog_append_archive_start(b, 2, CU, "s", &e); }
static void b_unknown(tp_buf *b) { hdr(b); tp_buf_append_u8(b, 'X'); }
static void b_no_colon(tp_buf *b)
{
	tp_err e;
	hdr(b);
	tp_mclog_append_snapshot(b, 2, CU, "s", "vm/1/2024-01-01T00:00:00Z", &e);
	b->data[b->len - 26] = ';';
}
static void b_bad_path(tp_buf *b)
{
	tp_err e;
	hdr(b);
	tp_mclog_append_snapshot(b, 2, CU, "s", "vm/1/2024-01-01T00:00:00Z", &e);
	b->data[b->len - 25] = '/';
}
static void b_bad_utf8(tp_buf *b) { tp_err e; hdr(b); tp_mclog_append_archive_start(b, 2, CU, "s\xc3", &e); }
static void b_empty_store(tp_buf *b) { hdr(b); tp_buf_append_u8(b, 'A'); tp_buf_append_le64(b, 2); tp_buf_append_zeros(b, 24); }
static void b_empty(tp_buf *b) { tp_buf_append(b, "", 0); }

static void test_invariants(void **state)
{
	(void)state;
	init_ids();
	expect_bad(b_old_magic, "obsolete format v1.0");
	expect_bad(b_no_label, "before the media label record");
	expect_bad(b_label_file1_first, "label record for file 1");
	expect_bad(b_label_seq, "seq_nr 1");
	expect_bad(b_third_label, "label record for file 2");
	expect_bad(b_archive_file1, "with file 1");
	expect_bad(b_backwards, "with file 4");
	expect_bad(b_chunk_outside, "outside a chunk archive");
	expect_bad(b_end_mismatch, "does not match its start");
	expect_bad(b_snap_inside, "inside chunk archive 2");
	expect_bad(b_open_archive, "ends inside chunk archive 2");
	expect_bad(b_unknown, "unknown record type 0x58");
	expect_bad(b_no_colon, "missing ':'");
	expect_bad(b_bad_path, "snapshot record");
	expect_bad(b_bad_utf8, "bad store name");
	expect_bad(b_empty_store, "bad store name");
	expect_bad(b_empty, "no magic");
	/* gaps are allowed; S directly after L1 at file 2 is fine */
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	hdr(&b);
	tp_mclog_append_snapshot(&b, 2, CU, "s", "vm/1/2024-01-01T00:00:00Z", &e);
	tp_mclog_append_archive_start(&b, 9, CU, "s", &e);
	tp_mclog_append_archive_end(&b, 9, CU);
	tp_mclog_append_snapshot(&b, 10, CU, "s", "vm/1/2024-01-02T00:00:00Z", &e);
	assert_int_equal(tp_mclog_decode(b.data, b.len, MEDIA, NULL, NULL, &e), 0);
	tp_buf_free(&b);
}

static void test_catalog_archive(void **state)
{
	(void)state;
	init_ids();
	tp_buf log = TP_BUF_INIT;
	good_log(&log);
	/* make it span several blocks */
	for (int i = 0; i < 20000; i++) {
		tp_err e;
		tp_mclog_append_archive_start(&log, 10 + 2 * (uint64_t)i, CU, "s", &e);
		tp_mclog_append_archive_end(&log, 10 + 2 * (uint64_t)i, CU);
	}
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	t.early_warning = 1; /* LEOM during the data is ignored */
	tp_err e = { 0 };
	uint8_t u[16] = { 0 };
	assert_int_equal(tp_catalog_archive_write(&t.io, MEDIA, SET, 2, 1, log.data, log.len, u, 9, &e), 1);
	memset(u, 0, 16);
	assert_int_equal(tp_catalog_archive_write(&t.io, MEDIA, SET, 2, 0, log.data, 8, u, 9, &e), 1);
	for (int f = 0; f < 2; f++) {
		tp_block_reader r;
		tp_content_header h;
		json_t *j;
		uint8_t m[16], s[16];
		uint64_t seq = 0;
		assert_int_equal(tp_mem_tape_seek_file(&t, (uint64_t)f), 0);
		assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
		assert_int_equal(tp_content_header_read_json(&r, &h, TP_ARCHIVE_JSON_MAX, &j, &e), 0);
		assert_int_equal(tp_content_header_kind(&h), f == 0 ? TP_MAGIC_CATALOG_ARCHIVE_1_1 : TP_MAGIC_CATALOG_ARCHIVE_1_0);
		char *want = tp_catalog_archive_header_json(MEDIA, SET, 2);
		assert_non_null(strstr(want, "{\n  \"uuid\": \"10111213-1415-1617-1819-1a1b1c1d1e1f\",\n  \"media_set_uuid\": "));
		assert_non_null(strstr(want, ",\n  \"seq_nr\": 2\n}"));
		assert_int_equal(h.size, strlen(want));
		free(want);
		assert_int_equal(tp_catalog_archive_header_parse(j, m, s, &seq, &e), 0);
		assert_memory_equal(m, MEDIA, 16);
		assert_memory_equal(s, SET, 16);
		assert_int_equal(seq, 2);
		json_decref(j);
		tp_buf body = TP_BUF_INIT;
		if (f == 0) {
			assert_int_equal(tp_catalog_archive_read_body(&r, &body, log.len, &e), 0);
			assert_int_equal(body.len, log.len);
			assert_memory_equal(body.data, log.data, log.len);
			assert_int_equal(tp_mclog_decode(body.data, body.len, MEDIA, NULL, NULL, &e), 0);
		} else {
			assert_int_equal(tp_catalog_archive_read_body(&r, &body, 7, &e), -EFBIG);
		}
		tp_buf_free(&body);
		tp_block_reader_free(&r);
	}
	/* physical end inside the data: no room for the final block either */
	tp_mem_tape_free(&t);
	tp_mem_tape_init(&t);
	t.early_warning = 0;
	t.hard_end = 2;
	memset(u, 0, 16);
	assert_int_equal(tp_catalog_archive_write(&t.io, MEDIA, SET, 2, 1, log.data, log.len, u, 9, &e), -ENOSPC);
	json_t *bad = json_pack("{s:s, s:s, s:i}", "uuid", "x", "media_set_uuid", "y", "seq_nr", 1);
	uint8_t m[16], s[16];
	uint64_t seq;
	assert_int_equal(tp_catalog_archive_header_parse(bad, m, s, &seq, &e), -TP_EFORMAT);
	json_decref(bad);
	tp_mem_tape_free(&t);
	tp_buf_free(&log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_decode_streaming),
		cmocka_unit_test(test_invariants),
		cmocka_unit_test(test_catalog_archive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
