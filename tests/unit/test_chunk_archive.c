/* Unit test: chunk archive writer (offsets, LEOM close rule, size limit) and decoder (CRC isolation, truncation, mid-archive start, swapping a blob out). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "crypto/hash.h"
#include "format/chunk_archive.h"
#include "format/magic.h"
#include "format/tape_block.h"

#define P TP_TAPE_BLOCK_PAYLOAD

typedef struct blob {
	uint8_t digest[32];
	uint8_t *data;
	size_t len;
} blob;

/* A plain (or encrypted-layout) blob of n payload bytes with a correct CRC. */
static blob make_blob(size_t n, unsigned seed, int encrypted)
{
	blob b;
	size_t hdr = encrypted ? 44 : 12;
	b.len = hdr + n;
	b.data = malloc(b.len);
	memcpy(b.data, tp_magic(encrypted ? TP_MAGIC_BLOB_ENCR : TP_MAGIC_BLOB_PLAIN), 8);
	uint32_t x = seed * 747796405u + 1;
	for (size_t i = 12; i < b.len; i++) {
		x = x * 1103515245u + 12345u;
		b.data[i] = (uint8_t)(x >> 16);
	}
	tp_put_le32(b.data + 8, tp_crc32(0, b.data + hdr, n));
	tp_sha256(b.data + hdr, n, b.digest);
	return b;
}

static void write_archive(tp_mem_tape *t, blob *bs, int n, uint64_t *offs, int *complete)
{
	tp_chunk_archive_writer w;
	tp_err e = { 0 };
	uint8_t u[16];
	memset(u, 7, 16);
	assert_int_equal(tp_chunk_archive_writer_open(&w, &t->io, "store1", u, 1700000000, &e), 0);
	for (int i = 0; i < n; i++) {
		int r = tp_chunk_archive_writer_add(&w, bs[i].digest, bs[i].data, bs[i].len, &offs[i], &e);
		assert_true(r >= 0);
		complete[i] = r;
	}
	assert_int_equal(tp_chunk_archive_writer_finish(&w, &e), 0);
	tp_chunk_archive_writer_free(&w);
}

static void open_archive(tp_mem_tape *t, tp_block_reader *r, char *store)
{
	tp_err e = { 0 };
	tp_content_header h;
	json_t *j;
	assert_int_equal(tp_block_reader_open(r, &t->io, 0, &e), 0);
	assert_int_equal(tp_content_header_read_json(r, &h, TP_ARCHIVE_JSON_MAX, &j, &e), 0);
	assert_int_equal(tp_content_header_kind(&h), TP_MAGIC_CHUNK_ARCHIVE_1_1);
	assert_int_equal(tp_chunk_archive_header_parse(j, store, &e), 0);
	json_decref(j);
}

static void test_roundtrip_offsets(void **state)
{
	(void)state;
	blob bs[4] = { make_blob(100, 1, 0), make_blob(300000, 2, 1), make_blob(5, 3, 0), make_blob(600000, 4, 0) };
	uint64_t offs[4];
	int ok[4];
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	write_archive(&t, bs, 4, offs, ok);
	const char *js = "{\n  \"store\": \"store1\"\n}";
	assert_int_equal(offs[0], 48 + strlen(js));
	for (int i = 1; i < 4; i++)
		assert_int_equal(offs[i], offs[i - 1] + 48 + bs[i - 1].len);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ok[i], 1);
	/* the first entry header sits right after the header-data in block 0 */
	assert_memory_equal(t.objs[0].data + 16 + offs[0], tp_magic(TP_MAGIC_CHUNK_ARCHIVE_ENTRY), 8);
	assert_memory_equal(t.objs[0].data + 16 + offs[0] + 8, bs[0].digest, 32);
	assert_int_equal(tp_le64(t.objs[0].data + 16 + offs[0] + 40), 112);

	tp_mem_tape_rewind(&t);
	tp_block_reader r;
	char store[256];
	open_archive(&t, &r, store);
	assert_string_equal(store, "store1");
	tp_chunk_archive_reader cr;
	tp_chunk_archive_reader_init(&cr, &r);
	tp_chunk_entry en;
	tp_err e = { 0 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
		assert_memory_equal(en.digest, bs[i].digest, 32);
		assert_int_equal(en.offset, offs[i]);
		assert_int_equal(en.size, bs[i].len);
		assert_memory_equal(en.blob, bs[i].data, bs[i].len);
	}
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	assert_int_equal(cr.truncated, 0);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);

	/* start in the middle: LOCATE to the block holding entry 3, skip to its header */
	uint64_t k = tp_tape_block_of(offs[3]);
	assert_true(k >= 1);
	assert_int_equal(tp_mem_tape_seek_block(&t, 0, k), 0);
	assert_int_equal(tp_block_reader_open(&r, &t.io, (uint32_t)k, &e), 0);
	assert_int_equal(tp_block_reader_discard(&r, offs[3] - k * P, &e), 0);
	tp_chunk_archive_reader_init(&cr, &r);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_memory_equal(en.digest, bs[3].digest, 32);
	assert_int_equal(en.offset, offs[3]);
	assert_memory_equal(en.blob, bs[3].data, bs[3].len);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);

	/* damage isolation: flip a payload byte of entry 1 */
	size_t at = (size_t)(offs[1] + 48 + 100);
	t.objs[at / P].data[16 + at % P] ^= 0x40;
	tp_mem_tape_rewind(&t);
	open_archive(&t, &r, store);
	tp_chunk_archive_reader_init(&cr, &r);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), -TP_ECRC);
	assert_memory_equal(en.digest, bs[1].digest, 32);
	assert_non_null(strstr(e.msg, "CRC mismatch"));
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_memory_equal(en.digest, bs[2].digest, 32);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);

	/* wrong entry magic is fatal */
	at = (size_t)offs[2];
	t.objs[at / P].data[16 + at % P] ^= 1;
	tp_mem_tape_rewind(&t);
	open_archive(&t, &r, store);
	tp_chunk_archive_reader_init(&cr, &r);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), -TP_ECRC);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "wrong entry magic"));
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "failed earlier"));
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);

	for (int i = 0; i < 4; i++)
		free(bs[i].data);
	tp_mem_tape_free(&t);
}

/* After a medium error: a stream that starts inside an entry resumes at the next entry header. */
static void test_resync(void **state)
{
	(void)state;
	blob bs[4] = { make_blob(100, 5, 0), make_blob(700000, 6, 0), make_blob(5, 7, 0), make_blob(400000, 8, 0) };
	uint64_t offs[4];
	int ok[4];
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	write_archive(&t, bs, 4, offs, ok);
	/* entry 1 covers all of block 1; entry 2 starts in block 2 */
	assert_int_equal(tp_tape_block_of(offs[1]), 0);
	assert_int_equal(tp_tape_block_of(offs[2]), 2);
	tp_block_reader r;
	tp_chunk_archive_reader cr;
	tp_chunk_entry en;
	tp_err e = { 0 };
	assert_int_equal(tp_mem_tape_seek_block(&t, 0, 1), 0);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 1, &e), 0);
	tp_chunk_archive_reader_init(&cr, &r);
	assert_int_equal(tp_chunk_archive_reader_resync(&cr, &e), 1);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_memory_equal(en.digest, bs[2].digest, 32);
	assert_int_equal(en.offset, offs[2]);
	assert_memory_equal(en.blob, bs[2].data, bs[2].len);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_memory_equal(en.digest, bs[3].digest, 32);
	assert_memory_equal(en.blob, bs[3].data, bs[3].len);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);
	/* from inside the last entry no header is left: the end */
	uint64_t kl = tp_tape_block_of(offs[3] + 48 + 300000);
	assert_true(kl > tp_tape_block_of(offs[3]));
	assert_int_equal(tp_mem_tape_seek_block(&t, 0, kl), 0);
	assert_int_equal(tp_block_reader_open(&r, &t.io, (uint32_t)kl, &e), 0);
	tp_chunk_archive_reader_init(&cr, &r);
	assert_int_equal(tp_chunk_archive_reader_resync(&cr, &e), 0);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);
	tp_mem_tape_free(&t);
	for (int i = 0; i < 4; i++)
		free(bs[i].data);
}

static void test_leom_close(void **state)
{
	(void)state;
	/* entry 0: 1.5 MiB blob; LEOM at block 2 is reported after its first 1 MiB slice */
	blob bs[2] = { make_blob(1536 * 1024, 5, 0), make_blob(10, 6, 0) };
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	t.early_warning = 2;
	uint64_t offs[2] = { 0, 0 };
	int ok[2];
	write_archive(&t, bs, 2, offs, ok);
	assert_int_equal(ok[0], 0);
	assert_int_equal(ok[1], 0); /* closed: never written */
	/* finished on LEOM without INCOMPLETE, then a filemark */
	assert_null(t.objs[t.n - 1].data);
	assert_int_equal(t.objs[t.n - 2].data[8], TP_TAPE_BLOCK_END_OF_STREAM);
	tp_mem_tape_rewind(&t);
	tp_block_reader r;
	char store[256];
	open_archive(&t, &r, store);
	tp_chunk_archive_reader cr;
	tp_chunk_archive_reader_init(&cr, &r);
	tp_chunk_entry en;
	tp_err e = { 0 };
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	assert_int_equal(cr.truncated, 1);
	int v;
	assert_int_equal(tp_block_reader_is_incomplete(&r, &v, &e), 0);
	assert_int_equal(v, 0);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);
	tp_mem_tape_free(&t);

	/*
	 * LEOM during the last slice: the chunk is complete and counts; the next
	 * one does not.  Slices are one block payload (262128): the stream holds
	 * 66 (content header + JSON) + 48+700000 + 48+20 bytes, i.e. blocks 0 and
	 * 1 are out and 175926 bytes are buffered; the third entry (48+100000
	 * bytes, one slice) completes block 2, which is in the early-warning zone.
	 */
	tp_mem_tape_init(&t);
	t.early_warning = 2;
	blob cs[4] = { make_blob(700000, 7, 0), make_blob(20, 8, 0), make_blob(30, 9, 0), make_blob(100000, 10, 0) };
	tp_chunk_archive_writer w;
	assert_int_equal(tp_chunk_archive_writer_open(&w, &t.io, "s", NULL, 1, &e), 0);
	assert_int_equal(tp_chunk_archive_writer_add(&w, cs[0].digest, cs[0].data, cs[0].len, &offs[0], &e), 1);
	assert_int_equal(tp_chunk_archive_writer_full(&w), 0);
	assert_int_equal(tp_chunk_archive_writer_add(&w, cs[1].digest, cs[1].data, cs[1].len, &offs[1], &e), 1);
	assert_int_equal(tp_chunk_archive_writer_add(&w, cs[3].digest, cs[3].data, cs[3].len, &offs[0], &e), 1);
	assert_int_equal(tp_chunk_archive_writer_leom(&w), 1);
	assert_int_equal(tp_chunk_archive_writer_full(&w), 1);
	assert_int_equal(tp_chunk_archive_writer_add(&w, cs[2].digest, cs[2].data, cs[2].len, &offs[2], &e), 0);
	assert_int_equal(tp_chunk_archive_writer_finish(&w, &e), 0);
	assert_int_equal(w.chunks, 3);
	tp_chunk_archive_writer_free(&w);
	tp_mem_tape_rewind(&t);
	open_archive(&t, &r, store);
	tp_chunk_archive_reader_init(&cr, &r);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
	assert_memory_equal(en.digest, cs[3].digest, 32);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	assert_int_equal(cr.truncated, 0);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);
	tp_mem_tape_free(&t);
	for (int i = 0; i < 4; i++)
		free(cs[i].data);
	for (int i = 0; i < 2; i++)
		free(bs[i].data);
}

static void test_max_size_and_bad_input(void **state)
{
	(void)state;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	tp_chunk_archive_writer w;
	tp_err e = { 0 };
	blob b = make_blob(200000, 10, 0);
	assert_int_equal(tp_chunk_archive_writer_open(&w, &t.io, "", NULL, 1, &e), -EINVAL);
	assert_int_equal(tp_chunk_archive_writer_open(&w, &t.io, "s", NULL, 1, &e), 0);
	w.max_size = 2 * TP_TAPE_BLOCK_SIZE;
	int adds = 0;
	while (!tp_chunk_archive_writer_full(&w)) {
		assert_int_equal(tp_chunk_archive_writer_add(&w, b.digest, b.data, b.len, NULL, &e), 1);
		adds++;
	}
	/* 3 blocks are written once the stream passes 3 * 262128 bytes: the 4th add */
	assert_int_equal(adds, 4);
	assert_int_equal(tp_chunk_archive_writer_bytes_written(&w), 3 * TP_TAPE_BLOCK_SIZE);
	tp_chunk_archive_writer_abort(&w);
	assert_null(t.objs[t.n - 1].data);
	assert_int_equal(t.objs[t.n - 2].data[8], 0); /* no end marker */

	/* blob checks */
	assert_int_equal(tp_chunk_blob_check(b.digest, b.data, b.len, &e), 0);
	assert_int_equal(tp_chunk_blob_check(b.digest, b.data, 11, &e), -TP_EFORMAT);
	blob enc = make_blob(0, 11, 1);
	assert_int_equal(tp_chunk_blob_check(enc.digest, enc.data, enc.len, &e), 0);
	assert_int_equal(tp_chunk_blob_check(enc.digest, enc.data, 40, &e), -TP_EFORMAT);
	enc.data[0] ^= 1;
	assert_int_equal(tp_chunk_blob_check(enc.digest, enc.data, enc.len, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "unknown blob magic"));
	free(enc.data);

	/* hand-made streams: truncated header, oversized size claim */
	tp_mem_tape_free(&t);
	tp_mem_tape_init(&t);
	uint8_t hdr[48];
	for (int i = 0; i < 2; i++) {
		tp_block_writer bw;
		assert_int_equal(tp_block_writer_init(&bw, &t.io, &e), 0);
		tp_chunk_entry_header_encode(hdr, b.digest, i == 0 ? 10 : TP_CHUNK_ARCHIVE_MAX_BLOB + 1ull);
		assert_int_equal(tp_block_writer_write(&bw, hdr, i == 0 ? 30 : 48, &e), 0);
		assert_int_equal(tp_block_writer_finish(&bw, 0, &e), 0);
		tp_block_writer_free(&bw);
	}
	tp_mem_tape_rewind(&t);
	tp_block_reader r;
	tp_chunk_archive_reader cr;
	tp_chunk_entry en;
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	tp_chunk_archive_reader_init(&cr, &r);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	assert_int_equal(cr.truncated, 1);
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);
	assert_int_equal(tp_block_reader_open(&r, &t.io, 0, &e), 0);
	tp_chunk_archive_reader_init(&cr, &r);
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "claims"));
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);

	json_t *j = json_pack("{s:s}", "store", "a/b");
	char store[256];
	assert_int_equal(tp_chunk_archive_header_parse(j, store, &e), -TP_EFORMAT);
	json_decref(j);
	free(b.data);
	tp_mem_tape_free(&t);
}

/* swap_blob hands over the buffer of the entry just read and gives the decoder the caller's one. */
static void test_swap_blob(void **state)
{
	(void)state;
	blob bs[4] = { make_blob(700000, 5, 0), make_blob(10, 6, 0), make_blob(300000, 7, 1), make_blob(90000, 8, 0) };
	uint64_t offs[4];
	int ok[4];
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	write_archive(&t, bs, 4, offs, ok);
	tp_mem_tape_rewind(&t);
	tp_block_reader r;
	char store[256];
	open_archive(&t, &r, store);
	tp_chunk_archive_reader cr;
	tp_chunk_archive_reader_init(&cr, &r);
	tp_buf got[4] = { TP_BUF_INIT, TP_BUF_INIT, TP_BUF_INIT, TP_BUF_INIT };
	tp_chunk_archive_reader_swap_blob(&cr, &got[0]); /* nothing read yet: an empty buffer */
	assert_int_equal(got[0].len, 0);
	tp_chunk_entry en;
	tp_err e = { 0 };
	tp_buf given = TP_BUF_INIT;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 1);
		if (i == 2) { /* hand in a used buffer with stale bytes: the reader must drop them */
			assert_int_equal(tp_buf_append(&given, "stale", 5), 0);
			got[i] = given;
		}
		uint8_t *handed = got[i].data;
		tp_chunk_archive_reader_swap_blob(&cr, &got[i]);
		assert_ptr_equal(got[i].data, en.blob);
		assert_int_equal(got[i].len, bs[i].len);
		if (i == 2) {
			assert_ptr_not_equal(got[i].data, handed);
			assert_ptr_equal(cr.blob.data, handed); /* the next entry goes into the given memory */
			assert_int_equal(cr.blob.len, 0);
		}
	}
	assert_int_equal(tp_chunk_archive_reader_next(&cr, &en, &e), 0);
	/* each swapped-out buffer still holds its own blob: none was reused by a later entry */
	for (int i = 0; i < 4; i++) {
		assert_memory_equal(got[i].data, bs[i].data, bs[i].len);
		tp_buf_free(&got[i]);
		free(bs[i].data);
	}
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);
	tp_mem_tape_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_offsets),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_leom_close),
		cmocka_unit_test(test_max_size_and_bad_input),
		cmocka_unit_test(test_swap_blob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
