/* Unit test: tape block stream writer/reader over the in-memory tape (layout, LEOM, every reader check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "format/magic.h"
#include "format/tape_block.h"

#define P TP_TAPE_BLOCK_PAYLOAD

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
	return p;
}

/* Writes one stream of n bytes in pieces of `piece` bytes. */
static void write_stream(tp_mem_tape *t, const uint8_t *d, size_t n, size_t piece, int incomplete)
{
	tp_block_writer w;
	tp_err e = { 0 };
	assert_int_equal(tp_block_writer_init(&w, &t->io, &e), 0);
	for (size_t off = 0; off < n; off += piece) {
		size_t k = n - off < piece ? n - off : piece;
		assert_true(tp_block_writer_write(&w, d + off, k, &e) >= 0);
	}
	assert_int_equal(tp_block_writer_offset(&w), n);
	assert_int_equal(tp_block_writer_finish(&w, incomplete, &e), 0);
	assert_int_equal(tp_block_writer_blocks(&w), n / P + 1);
	assert_int_equal(tp_block_writer_bytes_written(&w), (n / P + 1) * TP_TAPE_BLOCK_SIZE);
	tp_block_writer_free(&w);
}

static void check_header(const tp_mem_tape_obj *o, uint8_t flags, uint32_t size, uint32_t seq)
{
	assert_non_null(o->data);
	assert_int_equal(o->len, TP_TAPE_BLOCK_SIZE);
	assert_memory_equal(o->data, tp_magic(TP_MAGIC_TAPE_BLOCK_HEADER), 8);
	assert_int_equal(o->data[8], flags);
	assert_int_equal(o->data[9] | o->data[10] << 8 | o->data[11] << 16, size);
	assert_int_equal(tp_le32(o->data + 12), seq);
}

static void test_layout(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	size_t n = 2 * P + 1000;
	uint8_t *d = pattern(n, 1);
	write_stream(&t, d, n, 70000, 0);
	/* 3 blocks + filemark */
	assert_int_equal(t.n, 4);
	check_header(&t.objs[0], 0, P, 0);
	check_header(&t.objs[1], 0, P, 1);
	check_header(&t.objs[2], TP_TAPE_BLOCK_END_OF_STREAM, 1000, 2);
	assert_null(t.objs[3].data);
	assert_memory_equal(t.objs[0].data + 16, d, P);
	assert_memory_equal(t.objs[1].data + 16, d + P, P);
	assert_memory_equal(t.objs[2].data + 16, d + 2 * P, 1000);
	for (size_t i = 16 + 1000; i < TP_TAPE_BLOCK_SIZE; i++)
		assert_int_equal(t.objs[2].data[i], 0);
	free(d);
	tp_mem_tape_free(&t);
}

static void test_empty_and_exact(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	write_stream(&t, NULL, 0, 1, 1);
	assert_int_equal(t.n, 2);
	check_header(&t.objs[0], TP_TAPE_BLOCK_END_OF_STREAM | TP_TAPE_BLOCK_INCOMPLETE, 0, 0);
	uint8_t *d = pattern(P, 2);
	write_stream(&t, d, P, P, 0);
	assert_int_equal(t.n, 5);
	check_header(&t.objs[2], 0, P, 0);
	check_header(&t.objs[3], TP_TAPE_BLOCK_END_OF_STREAM, 0, 1);

	tp_err e = { 0 };
	tp_block_reader r;
	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	int v = -1;
	uint8_t buf[16];
	assert_int_equal(tp_block_reader_read(&r, buf, sizeof(buf), &e), 0);
	assert_int_equal(tp_block_reader_is_incomplete(&r, &v, &e), 0);
	assert_int_equal(v, 1);
	tp_block_reader_free(&r);

	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	uint8_t *back = malloc(P + 10);
	assert_int_equal(tp_block_reader_read_full(&r, back, P + 10, &e), P);
	assert_memory_equal(back, d, P);
	assert_int_equal(tp_block_reader_is_incomplete(&r, &v, &e), 0);
	assert_int_equal(v, 0);
	assert_int_equal(tp_block_reader_has_end_marker(&r, &v, &e), 0);
	assert_int_equal(v, 1);
	tp_block_reader_free(&r);
	/* next is EOD */
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), TP_BLOCK_OPEN_EOD);
	free(back);
	free(d);
	tp_mem_tape_free(&t);
}

static void test_roundtrip_and_middle(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	size_t n = 5 * P + 12345;
	uint8_t *d = pattern(n, 3);
	write_stream(&t, d, n, 100001, 0);
	tp_err e = { 0 };
	tp_block_reader r;
	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	int v;
	assert_int_equal(tp_block_reader_is_incomplete(&r, &v, &e), -EINVAL);
	uint8_t *back = malloc(n);
	size_t got = 0;
	while (got < n) {
		long k = tp_block_reader_read(&r, back + got, 7777, &e);
		assert_true(k > 0);
		got += (size_t)k;
		assert_int_equal(tp_block_reader_offset(&r), got);
	}
	assert_int_equal(tp_block_reader_read(&r, back, 1, &e), 0);
	assert_memory_equal(back, d, n);
	tp_block_reader_free(&r);

	/* LOCATE into block 3: the stream continues from 3 * P */
	assert_int_equal(tp_mem_tape_seek_block(&t, 0, 3), 0);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 3, &e), 0);
	assert_int_equal(tp_block_reader_start_offset(&r), 3 * (uint64_t)P);
	assert_int_equal(tp_block_reader_discard(&r, 500, &e), 0);
	assert_int_equal(tp_block_reader_offset(&r), 3 * (uint64_t)P + 500);
	long k = tp_block_reader_read_full(&r, back, n, &e);
	assert_int_equal(k, n - 3 * P - 500);
	assert_memory_equal(back, d + 3 * P + 500, (size_t)k);
	tp_block_reader_free(&r);

	/* wrong first seq after locate */
	assert_int_equal(tp_mem_tape_seek_block(&t, 0, 3), 0);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 2, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "seq_nr 3, expected 2"));

	/* discarding past the end fails */
	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	assert_int_equal(tp_block_reader_discard(&r, n + 1, &e), -TP_EFORMAT);
	tp_block_reader_free(&r);
	free(back);
	free(d);
	tp_mem_tape_free(&t);
}

static void test_leom_and_enospc(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	t.early_warning = 2;
	t.hard_end = 4;
	tp_block_writer w;
	tp_err e = { 0 };
	uint8_t *d = pattern(P, 4);
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_block_writer_write(&w, d, P, &e), 0);   /* object 0 */
	assert_int_equal(tp_block_writer_write(&w, d, P, &e), 0);   /* object 1 */
	assert_int_equal(tp_block_writer_leom(&w), 0);
	assert_int_equal(tp_block_writer_write(&w, d, P, &e), 1);   /* object 2: early warning */
	assert_int_equal(tp_block_writer_write(&w, d, 10, &e), 1);  /* sticky, buffered */
	assert_int_equal(tp_block_writer_leom(&w), 1);
	assert_int_equal(tp_block_writer_write(&w, d, P, &e), 1);   /* object 3 written */
	assert_int_equal(tp_block_writer_write(&w, d, P, &e), -ENOSPC);
	assert_non_null(strstr(e.msg, "writing tape block 4"));
	assert_int_equal(tp_block_writer_write(&w, d, 1, &e), -EIO);
	assert_int_equal(tp_block_writer_finish(&w, 1, &e), -ENOSPC);
	assert_int_equal(tp_block_writer_abort(&w, &e), 0);
	assert_int_equal(t.n, 5);
	assert_null(t.objs[4].data);
	tp_block_writer_free(&w);
	free(d);
	tp_mem_tape_free(&t);
}

static void test_abort_without_end_marker(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	tp_block_writer w;
	tp_err e = { 0 };
	uint8_t *d = pattern(P + 99, 5);
	assert_int_equal(tp_block_writer_init(&w, &t.io, &e), 0);
	assert_int_equal(tp_block_writer_write(&w, d, P + 99, &e), 0);
	assert_int_equal(tp_block_writer_abort(&w, &e), 0);
	assert_int_equal(tp_block_writer_write(&w, d, 1, &e), -EINVAL);
	tp_block_writer_free(&w);
	assert_int_equal(t.n, 2); /* one block, filemark: the 99 buffered bytes are dropped */

	tp_block_reader r;
	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	uint8_t *back = malloc(P + 99);
	assert_int_equal(tp_block_reader_read(&r, back, P + 99, &e), P);
	assert_int_equal(tp_block_reader_read(&r, back, 1, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "without end marker"));
	assert_int_equal(tp_block_reader_read(&r, back, 1, &e), -TP_EFORMAT); /* poisoned */
	assert_non_null(strstr(e.msg, "failed earlier"));
	tp_block_reader_free(&r);

	tp_mem_tape_rewind(&t);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	uint64_t sk = 0;
	assert_int_equal(tp_block_reader_skip_data(&r, &sk, &e), 0);
	assert_int_equal(sk, P);
	int v = 1;
	assert_int_equal(tp_block_reader_has_end_marker(&r, &v, &e), 0);
	assert_int_equal(v, 0);
	tp_block_reader_free(&r);
	free(back);
	free(d);
	tp_mem_tape_free(&t);
}

/* Builds a tape holding exactly one raw block (+ whatever follows) for the reader checks. */
static void put_block(tp_mem_tape *t, uint8_t flags, uint32_t size, uint32_t seq, size_t len)
{
	uint8_t *b = calloc(1, TP_TAPE_BLOCK_SIZE);
	tp_tape_block_header_encode(b, flags, size, seq);
	tp_err e = { 0 };
	assert_true(t->io.write_block(t->io.ctx, b, len, &e) >= 0);
	free(b);
}

static int open_first(tp_mem_tape *t, tp_err *e)
{
	tp_block_reader r;
	tp_mem_tape_rewind(t);
	int rc = tp_block_reader_open(&r, &t->io, 0, e);
	if (rc == 0) {
		uint8_t buf[64];
		long n;
		while ((n = tp_block_reader_read(&r, buf, sizeof(buf), e)) > 0)
			;
		rc = (int)n;
		tp_block_reader_free(&r);
	}
	return rc;
}

static void test_reader_checks(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_mem_tape t;
	const uint8_t EOS = TP_TAPE_BLOCK_END_OF_STREAM;

	tp_mem_tape_init(&t);
	t.io.write_filemark(t.io.ctx, &e);
	assert_int_equal(open_first(&t, &e), TP_BLOCK_OPEN_FILEMARK);
	tp_mem_tape_free(&t);

	tp_mem_tape_init(&t);
	assert_int_equal(open_first(&t, &e), TP_BLOCK_OPEN_EOD);
	tp_mem_tape_free(&t);

	tp_mem_tape_init(&t);
	put_block(&t, EOS, 5, 0, TP_TAPE_BLOCK_SIZE - 1);
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "short block"));
	tp_mem_tape_free(&t);

	tp_mem_tape_init(&t);
	put_block(&t, EOS, 5, 0, TP_TAPE_BLOCK_SIZE);
	t.objs[0].data[3] ^= 1;
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unknown magic"));
	tp_mem_tape_free(&t);

	tp_mem_tape_init(&t);
	put_block(&t, EOS, 5, 1, TP_TAPE_BLOCK_SIZE);
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "seq_nr 1, expected 0"));
	tp_mem_tape_free(&t);

	tp_mem_tape_init(&t);
	put_block(&t, EOS, P + 1, 0, TP_TAPE_BLOCK_SIZE);
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "wrong size"));
	tp_mem_tape_free(&t);

	tp_mem_tape_init(&t);
	put_block(&t, 0, 0, 0, TP_TAPE_BLOCK_SIZE);
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected empty block"));
	tp_mem_tape_free(&t);

	/* the END_OF_STREAM block must be followed by a filemark */
	tp_mem_tape_init(&t);
	put_block(&t, EOS, 5, 0, TP_TAPE_BLOCK_SIZE);
	put_block(&t, EOS, 5, 1, TP_TAPE_BLOCK_SIZE);
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "block after end marker"));
	tp_mem_tape_free(&t);

	tp_mem_tape_init(&t);
	put_block(&t, EOS, 5, 0, TP_TAPE_BLOCK_SIZE);
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected end of tape"));
	tp_mem_tape_free(&t);

	/* data block then EOD without end marker or filemark */
	tp_mem_tape_init(&t);
	put_block(&t, 0, 5, 0, TP_TAPE_BLOCK_SIZE);
	assert_int_equal(open_first(&t, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unexpected end of tape after block 0"));
	tp_mem_tape_free(&t);

	/* a short non-final block is accepted (PBS checks only the rules above) */
	tp_mem_tape_init(&t);
	put_block(&t, 0, 5, 0, TP_TAPE_BLOCK_SIZE);
	put_block(&t, EOS, 3, 1, TP_TAPE_BLOCK_SIZE);
	t.io.write_filemark(t.io.ctx, &e);
	assert_int_equal(open_first(&t, &e), 0);
	tp_mem_tape_free(&t);
}

static void test_script(void **state)
{
	(void)state;
	/* a well-formed one-block stream "abc" + filemark, a gap block, a raw 3-byte block */
	static const uint8_t sc[] = { 2, TP_TAPE_BLOCK_END_OF_STREAM, 3, 0, 'a', 'b', 'c', 0, 6, 0, 1, 0, 'x', 1, 3, 0, 9, 9, 9 };
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	assert_int_equal(tp_mem_tape_from_script(&t, sc, sizeof(sc)), 0);
	assert_int_equal(t.n, 4);
	assert_int_equal(tp_mem_tape_filemarks(&t), 1);
	tp_err e = { 0 };
	tp_block_reader r;
	char buf[8];
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	assert_int_equal(tp_block_reader_read_full(&r, buf, sizeof(buf), &e), 3);
	assert_memory_equal(buf, "abc", 3);
	tp_block_reader_free(&r);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "seq_nr 1, expected 0"));
	assert_int_equal(t.objs[3].len, 3);
	tp_mem_tape_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_empty_and_exact),
		cmocka_unit_test(test_roundtrip_and_middle),
		cmocka_unit_test(test_leom_and_enospc),
		cmocka_unit_test(test_abort_without_end_marker),
		cmocka_unit_test(test_reader_checks),
		cmocka_unit_test(test_script),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
