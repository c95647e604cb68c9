/* Unit test: media catalog .log records (worked example bytes of pbs-formats §5) and every decoder invariant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "format/magic.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_example),
		cmocka_unit_test(test_decode_streaming),
		cmocka_unit_test(test_invariants),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
