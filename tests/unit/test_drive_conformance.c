/* Unit test: drive conformance suite over the ops table, run here against the virtual backend.
 *
 * The suite only uses the generic tp_drive_* API, so another backend (the
 * SCSI `lto` one against tgt) can reuse it: #define TP_CONFORMANCE_NO_MAIN,
 * #include this file, fill a tp_drive_factory and call
 * tp_drive_conformance_run(&factory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "tape/drive.h"

/*
 * make: a drive with a fresh blank cartridge loaded at BOT.  With small != 0
 * the cartridge must be small enough to fill in a test (a few MiB); return
 * -ENOTSUP when the backend cannot provide one (fill tests are skipped).
 */
typedef struct tp_drive_factory {
	const char *name;
	void *ctx;
	int (*make)(void *ctx, int small, tp_drive **out, tp_err *err);
	void (*destroy)(void *ctx, tp_drive *d);
} tp_drive_factory;

#define BS TP_TAPE_BLOCK_SIZE

static uint8_t *cf_block(unsigned file, unsigned n)
{
	uint8_t *b = malloc(BS);
	assert_non_null(b);
	uint32_t x = file * 7919u + n * 104729u + 1;
	for (size_t i = 0; i < BS; i += 4) {
		x = x * 1664525u + 1013904223u;
		memcpy(b + i, &x, 4);
	}
	b[0] = (uint8_t)file;
	b[1] = (uint8_t)n;
	return b;
}

static tp_drive *cf_make(const tp_drive_factory *f, int small)
{
	tp_drive *d = NULL;
	tp_err err = { 0 };
	int r = f->make(f->ctx, small, &d, &err);
	if (r == -ENOTSUP)
		return NULL;
	if (r < 0)
		fail_msg("%s: make drive: %s", f->name, err.msg);
	assert_true(d->loaded);
	return d;
}

/* Writes `blocks` blocks of file `file` and one filemark. */
static void cf_write_file(tp_drive *d, unsigned file, unsigned blocks)
{
	tp_err err = { 0 };
	for (unsigned i = 0; i < blocks; i++) {
		uint8_t *b = cf_block(file, i);
		int r = tp_drive_write_block(d, b, BS, &err);
		free(b);
		if (r < 0)
			fail_msg("write file %u block %u: %s", file, i, err.msg);
	}
	if (tp_drive_write_filemarks(d, 1, &err) < 0)
		fail_msg("write filemark after file %u: %s", file, err.msg);
}

/* Reads `blocks` blocks of file `file`, checks them, then expects its filemark. */
static void cf_read_file(tp_drive *d, unsigned file, unsigned blocks)
{
	tp_err err = { 0 };
	uint8_t *buf = malloc(BS);
	assert_non_null(buf);
	for (unsigned i = 0; i < blocks; i++) {
		long r = tp_drive_read_block(d, buf, BS, &err);
		if (r != (long)BS)
			fail_msg("file %u block %u: read returned %ld (%s)", file, i, r, err.msg);
		uint8_t *want = cf_block(file, i);
		assert_memory_equal(buf, want, BS);
		free(want);
	}
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), TP_TAPE_READ_FILEMARK);
	free(buf);
}

static void cf_expect_pos(tp_drive *d, uint64_t object, uint64_t file)
{
	tp_drive_pos p;
	tp_err err = { 0 };
	if (tp_drive_read_position(d, &p, &err) < 0)
		fail_msg("read position: %s", err.msg);
	assert_int_equal(p.object, object);
	assert_int_equal(p.file, file);
	/* the generic layer's cache agrees with the device */
	assert_int_equal(d->pos.object, object);
	assert_int_equal(d->pos.file, file);
}

static void cf_write_read_files(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	cf_expect_pos(d, 0, 0);
	cf_write_file(d, 0, 3);
	cf_expect_pos(d, 4, 1);
	cf_write_file(d, 1, 2);
	cf_write_file(d, 2, 1);
	cf_expect_pos(d, 9, 3);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	cf_expect_pos(d, 0, 0);
	cf_read_file(d, 0, 3);
	cf_expect_pos(d, 4, 1);
	cf_read_file(d, 1, 2);
	cf_read_file(d, 2, 1);
	uint8_t buf[512];
	assert_int_equal(tp_drive_read_block(d, buf, sizeof(buf), &err), TP_TAPE_READ_EOD);
	/* EOD does not move: reading again still says EOD */
	assert_int_equal(tp_drive_read_block(d, buf, sizeof(buf), &err), TP_TAPE_READ_EOD);
	cf_expect_pos(d, 9, 3);
	const tp_drive_counters *c = tp_drive_get_counters(d);
	assert_int_equal(c->blocks_written, 6);
	assert_int_equal(c->bytes_written, 6ull * BS);
	assert_int_equal(c->filemarks_written, 3);
	assert_int_equal(c->blocks_read, 6);
	assert_int_equal(c->filemarks_read, 3);
	assert_int_equal(c->rewinds, 1);
	f->destroy(f->ctx, d);
}

static void cf_blank_and_eod(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	uint8_t buf[512];
	assert_int_equal(tp_drive_read_block(d, buf, sizeof(buf), &err), TP_TAPE_READ_EOD);
	cf_write_file(d, 0, 2);
	cf_write_file(d, 1, 1);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	cf_expect_pos(d, 5, 2);
	assert_true(d->pos.eod);
	assert_int_equal(tp_drive_read_block(d, buf, sizeof(buf), &err), TP_TAPE_READ_EOD);
	f->destroy(f->ctx, d);
}

static void cf_locate_to_file(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	uint64_t start[4];
	for (unsigned i = 0; i < 4; i++) {
		start[i] = d->pos.object;
		cf_write_file(d, i, i + 1);
	}
	/* out of order, forward and backward */
	static const unsigned order[] = { 2, 0, 3, 1, 1, 3 };
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		unsigned i = order[k];
		if (tp_drive_locate(d, start[i], &err) < 0)
			fail_msg("locate to %llu: %s", (unsigned long long)start[i], err.msg);
		cf_expect_pos(d, start[i], i);
		cf_read_file(d, i, i + 1);
	}
	/* locate into the middle of a file and read the second block */
	assert_int_equal(tp_drive_locate(d, start[3] + 1, &err), 0);
	cf_expect_pos(d, start[3] + 1, 3);
	uint8_t *buf = malloc(BS), *want = cf_block(3, 1);
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), (long)BS);
	assert_memory_equal(buf, want, BS);
	free(buf);
	free(want);
	/* locate to end of data is allowed; beyond it is an error */
	uint64_t eod = start[3] + 5;
	assert_int_equal(tp_drive_locate(d, eod, &err), 0);
	cf_expect_pos(d, eod, 4);
	assert_true(tp_drive_locate(d, eod + 10, &err) < 0);
	assert_true(strlen(err.msg) > 0);
	assert_true(tp_drive_get_counters(d)->locates >= 7);
	f->destroy(f->ctx, d);
}

static void cf_space_filemarks(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	for (unsigned i = 0; i < 4; i++)
		cf_write_file(d, i, 2);
	/* by SPACE filemarks (move_to_file uses SPACE, not LOCATE) */
	uint64_t locates = tp_drive_get_counters(d)->locates;
	static const unsigned order[] = { 3, 1, 2, 0, 2, 2 };
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		unsigned i = order[k];
		if (tp_drive_move_to_file(d, i, &err) < 0)
			fail_msg("move to file %u: %s", i, err.msg);
		cf_expect_pos(d, (uint64_t)i * 3, i);
		cf_read_file(d, i, 2);
	}
	assert_int_equal(tp_drive_get_counters(d)->locates, locates);
	/* file 4 is the append point (EOD); file 5 does not exist */
	assert_int_equal(tp_drive_move_to_file(d, 4, &err), 0);
	cf_expect_pos(d, 12, 4);
	assert_true(tp_drive_move_to_file(d, 5, &err) < 0);
	assert_non_null(strstr(err.msg, "file 5"));

	/* block space stops at a filemark: forward after it, backward before it */
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	assert_int_equal(tp_drive_space(d, TP_SPACE_BLOCKS, 1, &err), TP_SPACE_DONE);
	cf_expect_pos(d, 1, 0);
	assert_int_equal(tp_drive_space(d, TP_SPACE_BLOCKS, 5, &err), TP_SPACE_HIT_FILEMARK);
	cf_expect_pos(d, 3, 1);
	assert_int_equal(tp_drive_space(d, TP_SPACE_BLOCKS, -5, &err), TP_SPACE_HIT_FILEMARK);
	cf_expect_pos(d, 2, 0);
	assert_int_equal(tp_drive_space(d, TP_SPACE_BLOCKS, -5, &err), TP_SPACE_HIT_BOT);
	cf_expect_pos(d, 0, 0);
	/* filemark space: forward n lands after the n-th filemark; backward on its BOT side */
	assert_int_equal(tp_drive_space(d, TP_SPACE_FILEMARKS, 2, &err), TP_SPACE_DONE);
	cf_expect_pos(d, 6, 2);
	assert_int_equal(tp_drive_space(d, TP_SPACE_FILEMARKS, -1, &err), TP_SPACE_DONE);
	cf_expect_pos(d, 5, 1);
	assert_int_equal(tp_drive_space(d, TP_SPACE_FILEMARKS, 10, &err), TP_SPACE_HIT_EOD);
	cf_expect_pos(d, 12, 4);
	assert_int_equal(tp_drive_space(d, TP_SPACE_FILEMARKS, -10, &err), TP_SPACE_HIT_BOT);
	cf_expect_pos(d, 0, 0);
	assert_true(tp_drive_get_counters(d)->spaces > 0);
	assert_true(tp_drive_get_counters(d)->space_objects > 0);
	f->destroy(f->ctx, d);
}

static void cf_fill(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 1);
	if (!d)
		skip();
	tp_err err = { 0 };
	tp_drive_status st;
	assert_int_equal(tp_drive_get_status(d, &st, &err), 0);
	assert_true(st.capacity > 0);
	uint64_t max_blocks = st.capacity / BS + 16;
	uint64_t n = 0, first_leom = 0;
	int r = 0;
	for (;;) {
		uint8_t *b = cf_block(0, (unsigned)n);
		r = tp_drive_write_block(d, b, BS, &err);
		free(b);
		if (r < 0)
			break;
		n++;
		if (r == TP_TAPE_WRITE_LEOM && !first_leom)
			first_leom = n;
		assert_true(n < max_blocks);
	}
	assert_int_equal(r, -ENOSPC);
	assert_true(strlen(err.msg) > 0);
	assert_true(first_leom > 0);
	assert_true(first_leom < n + 1);
	assert_true(n * BS <= st.capacity);
	assert_true(d->leom);
	/* the failed block was not written: position and data end unchanged */
	cf_expect_pos(d, n, 0);
	uint8_t *b = cf_block(0, 0);
	assert_int_equal(tp_drive_write_block(d, b, BS, &err), -ENOSPC);
	free(b);
	/* a filemark still fits after the hard end */
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	assert_false(d->leom);
	cf_read_file(d, 0, (unsigned)n);
	uint8_t small[512];
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), TP_TAPE_READ_EOD);
	f->destroy(f->ctx, d);
}

static void cf_append_after_eod(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	cf_write_file(d, 0, 2);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	cf_read_file(d, 0, 2);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	cf_write_file(d, 1, 3);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	cf_write_file(d, 2, 1);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	cf_read_file(d, 0, 2);
	cf_read_file(d, 1, 3);
	cf_read_file(d, 2, 1);
	uint8_t small[512];
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), TP_TAPE_READ_EOD);
	f->destroy(f->ctx, d);
}

static void cf_short_buffer(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	cf_write_file(d, 0, 1);
	cf_write_file(d, 1, 1);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	uint8_t small[512];
	/* a block longer than the buffer: error, position after the block */
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), -EOVERFLOW);
	assert_true(strlen(err.msg) > 0);
	cf_expect_pos(d, 1, 0);
	/* a filemark is read fine with a short buffer (as PBS's reader does) */
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), TP_TAPE_READ_FILEMARK);
	cf_expect_pos(d, 2, 1);
	cf_read_file(d, 1, 1);
	f->destroy(f->ctx, d);
}

static void cf_overwrite_truncates(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	cf_write_file(d, 0, 2);
	cf_write_file(d, 1, 2);
	cf_write_file(d, 2, 2);
	cf_write_file(d, 3, 2);
	assert_int_equal(tp_drive_move_to_file(d, 1, &err), 0);
	cf_write_file(d, 7, 1); /* new file 1, one block */
	cf_expect_pos(d, 5, 2);
	assert_true(d->pos.eod);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	cf_read_file(d, 0, 2);
	cf_read_file(d, 7, 1);
	uint8_t small[512];
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), TP_TAPE_READ_EOD);
	/* a lone filemark written at a position truncates too */
	assert_int_equal(tp_drive_locate(d, 1, &err), 0);
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	cf_expect_pos(d, 2, 1);
	f->destroy(f->ctx, d);
}

static void cf_unload_load(void **state)
{
	const tp_drive_factory *f = *state;
	tp_drive *d = cf_make(f, 0);
	tp_err err = { 0 };
	cf_write_file(d, 0, 1);
	assert_int_equal(tp_drive_unload(d, &err), 0);
	assert_false(d->loaded);
	uint8_t small[512];
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), -ENOMEDIUM);
	assert_non_null(strstr(err.msg, "no cartridge"));
	assert_non_null(strstr(tp_drive_last_error(d), "no cartridge"));
	assert_int_equal(tp_drive_get_counters(d)->unloads, 1);
	assert_int_equal(tp_drive_get_counters(d)->rewinds, 1); /* unload rewinds first */
	f->destroy(f->ctx, d);
}

static int tp_drive_conformance_run(const tp_drive_factory *f)
{
	void *st = (void *)f;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(cf_write_read_files, st),
		cmocka_unit_test_prestate(cf_blank_and_eod, st),
		cmocka_unit_test_prestate(cf_locate_to_file, st),
		cmocka_unit_test_prestate(cf_space_filemarks, st),
		cmocka_unit_test_prestate(cf_fill, st),
		cmocka_unit_test_prestate(cf_append_after_eod, st),
		cmocka_unit_test_prestate(cf_short_buffer, st),
		cmocka_unit_test_prestate(cf_overwrite_truncates, st),
		cmocka_unit_test_prestate(cf_unload_load, st),
	};
	return _cmocka_run_group_tests(f->name, tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
}

#ifndef TP_CONFORMANCE_NO_MAIN

typedef struct vf_ctx {
	char dirs[16][256];
	int n;
} vf_ctx;

static int vf_make(void *ctx, int small, tp_drive **out, tp_err *err)
{
	vf_ctx *c = ctx;
	assert_true(c->n < 16);
	char *dir = c->dirs[c->n];
	snprintf(dir, 256, "/tmp/tapir-conf-XXXXXX");
	if (!mkdtemp(dir))
		return tp_err_errno(err, "mkdtemp");
	c->n++;
	json_t *conf = json_pack("{s:s,s:i}", "path", dir, "lock-timeout-ms", 0);
	if (small)
		json_object_set_new(conf, "max-size", json_integer(4 << 20));
	int r = tp_drive_open("virtual", "conf0", conf, out, err);
	json_decref(conf);
	if (r < 0)
		return r;
	r = tp_drive_load(*out, "TAPE01", err);
	if (r < 0) {
		tp_drive_close(*out);
		*out = NULL;
	}
	return r;
}

static void vf_destroy(void *ctx, tp_drive *d)
{
	vf_ctx *c = ctx;
	tp_drive_close(d);
	for (int i = 0; i < c->n; i++)
		tp_rm_rf(c->dirs[i], NULL);
	c->n = 0;
}

int main(void)
{
	vf_ctx ctx = { .n = 0 };
	tp_drive_factory f = { "drive conformance: virtual", &ctx, vf_make, vf_destroy };
	return tp_drive_conformance_run(&f);
}

#endif
