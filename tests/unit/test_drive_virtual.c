/* Unit test: virtual drive specifics: capacity numbers, restart, torn writes, faults, encryption, tape_io. */
#include <fcntl.h>
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
#include "tape/drive.h"

#define BS TP_TAPE_BLOCK_SIZE

typedef struct fx {
	char dir[64];
	json_t *conf;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-vdrive-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->conf = json_pack("{s:s,s:i}", "path", f->dir, "lock-timeout-ms", 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tp_rm_rf(f->dir, NULL);
	json_decref(f->conf);
	free(f);
	return 0;
}

static tp_drive *open_drive(fx *f)
{
	tp_drive *d = NULL;
	tp_err err = { 0 };
	if (tp_drive_open("virtual", "vd", f->conf, &d, &err) < 0)
		fail_msg("open: %s", err.msg);
	return d;
}

static uint8_t *pattern(unsigned n, size_t len)
{
	uint8_t *b = malloc(len);
	assert_non_null(b);
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + n * 7 + (i >> 9));
	return b;
}

static void write_n(tp_drive *d, unsigned from, unsigned n)
{
	tp_err err = { 0 };
	for (unsigned i = from; i < from + n; i++) {
		uint8_t *b = pattern(i, BS);
		if (tp_drive_write_block(d, b, BS, &err) < 0)
			fail_msg("write %u: %s", i, err.msg);
		free(b);
	}
}

static void expect_block(tp_drive *d, unsigned n)
{
	tp_err err = { 0 };
	uint8_t *buf = malloc(BS), *want = pattern(n, BS);
	long r = tp_drive_read_block(d, buf, BS, &err);
	if (r != (long)BS)
		fail_msg("read block %u: %ld %s", n, r, err.msg);
	assert_memory_equal(buf, want, BS);
	free(buf);
	free(want);
}

static void write_faults(fx *f, const char *json)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/faults.json", f->dir);
	assert_int_equal(tp_write_atomic(p, json, strlen(json), 0600, NULL), 0);
}

static void test_capacity_numbers(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	/* default capacity is PBS's 64 MiB */
	tp_drive *d = open_drive(f);
	tp_drive_status st;
	assert_int_equal(tp_drive_get_status(d, &st, &err), 0);
	assert_int_equal(st.capacity, 64ull << 20);
	assert_false(st.loaded);
	tp_drive_close(d);
	assert_int_equal(tp_virtual_early_warning(64ull << 20), (64ull << 20) / 50);
	assert_int_equal(tp_virtual_early_warning(4ull << 20), 2ull * BS);

	/* 4 MiB = 16 blocks, early warning 512 KiB: LEOM once more than 14 blocks are used */
	json_object_set_new(f->conf, "max-size", json_integer(4 << 20));
	d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "CAP001", &err), 0);
	uint8_t *b = pattern(0, BS);
	for (int i = 1; i <= 16; i++) {
		int r = tp_drive_write_block(d, b, BS, &err);
		assert_int_equal(r, i <= 14 ? TP_TAPE_WRITE_OK : TP_TAPE_WRITE_LEOM);
	}
	assert_int_equal(tp_drive_write_block(d, b, BS, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "end of medium"));
	assert_non_null(strstr(err.msg, "CAP001"));
	/* a smaller block still fits nowhere: the tape is exactly full */
	assert_int_equal(tp_drive_write_block(d, b, 1, &err), -ENOSPC);
	/* overwriting from the middle frees the space again */
	assert_int_equal(tp_drive_locate(d, 8, &err), 0);
	assert_int_equal(tp_drive_write_block(d, b, BS, &err), TP_TAPE_WRITE_OK);
	assert_int_equal(tp_drive_get_status(d, &st, &err), 0);
	assert_int_equal(st.eod_object, 9);
	assert_int_equal(st.used, 9ull * BS);
	/* bad block sizes */
	assert_int_equal(tp_drive_write_block(d, b, 0, &err), -EINVAL);
	free(b);
	tp_drive_close(d);

	/* too small a max-size is refused */
	json_object_set_new(f->conf, "max-size", json_integer(1000));
	tp_drive *d2 = NULL;
	assert_int_equal(tp_drive_open("virtual", "vd", f->conf, &d2, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "max-size"));
	assert_null(d2);
}

static void test_restart_persistence(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "PERS01", &err), 0);
	write_n(d, 0, 3);
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);
	write_n(d, 3, 2);
	assert_int_equal(tp_drive_locate(d, 2, &err), 0);
	tp_drive_close(d);

	char p[128];
	snprintf(p, sizeof(p), "%s/drive-status.json", f->dir);
	assert_true(tp_path_exists(p));

	d = open_drive(f);
	assert_true(d->loaded);
	assert_string_equal(d->label, "PERS01");
	assert_int_equal(d->pos.object, 2);
	expect_block(d, 2);
	tp_drive_pos pos;
	assert_int_equal(tp_drive_read_position(d, &pos, &err), 0);
	assert_int_equal(pos.object, 3);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	assert_int_equal(d->pos.object, 6);
	assert_int_equal(d->pos.file, 1);
	/* unload persists too */
	assert_int_equal(tp_drive_unload(d, &err), 0);
	tp_drive_close(d);
	d = open_drive(f);
	assert_false(d->loaded);
	/* the cartridge survives; loading it by label finds the data */
	assert_int_equal(tp_drive_load(d, "PERS01", &err), 0);
	expect_block(d, 0);
	tp_drive_close(d);
}

static void test_exclusive_open(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_drive *d = open_drive(f), *d2 = NULL;
	assert_int_equal(tp_drive_open("virtual", "vd", f->conf, &d2, &err), -TP_ELOCKED);
	assert_non_null(strstr(err.msg, "virtual drive vd"));
	tp_drive_close(d);
	d2 = open_drive(f);
	tp_drive_close(d2);
}

static void test_torn_tail(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "TORN01", &err), 0);
	write_n(d, 0, 3);
	tp_drive_close(d);

	char ip[128], dp[128];
	snprintf(ip, sizeof(ip), "%s/tape-TORN01.idx", f->dir);
	snprintf(dp, sizeof(dp), "%s/tape-TORN01.dat", f->dir);
	struct stat si, sd;
	assert_int_equal(stat(ip, &si), 0);
	assert_int_equal(stat(dp, &sd), 0);
	assert_int_equal(si.st_size, 64 + 3 * 64);
	assert_int_equal(sd.st_size, 3 * BS);

	/* killed mid-write: data of block 4 half there, its entry half written */
	int fd = open(dp, O_WRONLY | O_APPEND);
	uint8_t junk[1000];
	memset(junk, 0xab, sizeof(junk));
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	fd = open(ip, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, junk, 40), 40);
	close(fd);

	d = open_drive(f);
	assert_true(d->loaded);
	assert_int_equal(stat(ip, &si), 0);
	assert_int_equal(stat(dp, &sd), 0);
	assert_int_equal(si.st_size, 64 + 3 * 64);
	assert_int_equal(sd.st_size, 3 * BS);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	assert_int_equal(d->pos.object, 3);
	tp_drive_close(d);

	/* a whole but garbage trailing entry (power loss reordering) is dropped too */
	fd = open(ip, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, junk, 64), 64);
	close(fd);
	d = open_drive(f);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	assert_int_equal(d->pos.object, 3);
	/* and an entry whose data never reached the data file */
	write_n(d, 3, 1);
	tp_drive_close(d);
	assert_int_equal(truncate(dp, 3 * BS + 100), 0);
	d = open_drive(f);
	assert_int_equal(tp_drive_move_to_eod(d, &err), 0);
	assert_int_equal(d->pos.object, 3);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	expect_block(d, 0);
	expect_block(d, 1);
	expect_block(d, 2);
	uint8_t small[16];
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), TP_TAPE_READ_EOD);
	tp_drive_close(d);

	/* a damaged header is a clear format error, not a silent blank tape */
	fd = open(ip, O_WRONLY);
	assert_int_equal(pwrite(fd, "XXXX", 4, 0), 4);
	close(fd);
	tp_drive *d3 = NULL;
	/* drive-status.json names the cartridge; opening it fails on the header */
	assert_int_equal(tp_drive_open("virtual", "vd", f->conf, &d3, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, "tape-TORN01.idx"));
}

static void test_fault_read_error_and_corrupt(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	write_faults(f, "{\"read-error\": [1], \"corrupt\": 2}");
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "FLT001", &err), 0);
	write_n(d, 0, 4);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	expect_block(d, 0);
	uint8_t *buf = malloc(BS), *want = pattern(2, BS);
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), -EIO);
	assert_non_null(strstr(err.msg, "object 1"));
	assert_non_null(strstr(err.msg, "FLT001"));
	assert_non_null(strstr(tp_drive_last_error(d), "object 1"));
	/* position after the failed object: the next read gets object 2, corrupted */
	assert_int_equal(d->pos.object, 2);
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), (long)BS);
	assert_memory_not_equal(buf, want, BS);
	size_t diff = 0;
	for (size_t i = 0; i < BS; i++)
		diff += buf[i] != want[i];
	assert_true(diff >= 1 && diff <= 3);
	expect_block(d, 3);
	free(buf);
	free(want);
	tp_drive_close(d);

	/* restricted to another cartridge: no effect on this one */
	write_faults(f, "{\"read-error\": [1], \"media\": \"OTHER\"}");
	d = open_drive(f);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	expect_block(d, 0);
	expect_block(d, 1);
	tp_drive_close(d);

	/* unknown fault names are refused with the file and key named */
	write_faults(f, "{\"explode\": true}");
	tp_drive *d2 = NULL;
	assert_int_equal(tp_drive_open("virtual", "vd", f->conf, &d2, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "explode"));
	assert_non_null(strstr(err.msg, "faults.json"));
	write_faults(f, "{\"corrupt\": [\"x\"]}");
	assert_int_equal(tp_drive_open("virtual", "vd", f->conf, &d2, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "corrupt"));
}

static void test_fault_early_eom_and_not_ready(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	/* from the configuration this time */
	json_object_set_new(f->conf, "faults", json_pack("{s:i}", "early-eom", 5));
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "EOM001", &err), 0);
	uint8_t *b = pattern(0, BS);
	int results[6];
	for (int i = 0; i < 6; i++)
		results[i] = tp_drive_write_block(d, b, BS, &err);
	free(b);
	assert_int_equal(results[0], TP_TAPE_WRITE_OK);
	assert_int_equal(results[1], TP_TAPE_WRITE_OK);
	assert_int_equal(results[2], TP_TAPE_WRITE_LEOM);
	assert_int_equal(results[4], TP_TAPE_WRITE_LEOM);
	assert_int_equal(results[5], -ENOSPC);
	assert_non_null(strstr(err.msg, "injected early end of medium"));
	assert_int_equal(d->pos.object, 5);
	tp_drive_close(d);
	json_object_del(f->conf, "faults");

	write_faults(f, "{\"not-ready\": true}");
	d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "EOM001", &err), -EBUSY);
	assert_non_null(strstr(err.msg, "not ready"));
	assert_non_null(strstr(err.msg, "drive vd"));
	tp_drive_close(d);
	write_faults(f, "{\"not-ready\": false}");
	d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "EOM001", &err), 0);
	tp_drive_close(d);
}

static void test_encryption(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	uint8_t key[32], key2[32];
	for (int i = 0; i < 32; i++) {
		key[i] = (uint8_t)i;
		key2[i] = (uint8_t)(i + 1);
	}
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "ENC001", &err), 0);
	write_n(d, 0, 1);                                   /* plain */
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);
	assert_int_equal(tp_drive_set_encryption(d, key, &err), 0);
	assert_true(d->encryption);
	write_n(d, 1, 2);                                   /* encrypted */
	assert_int_equal(tp_drive_set_encryption(d, NULL, &err), 0);
	assert_false(d->encryption);

	/* ciphertext on disk: the plaintext pattern is not in the data file */
	char dp[128];
	snprintf(dp, sizeof(dp), "%s/tape-ENC001.dat", f->dir);
	tp_buf raw = TP_BUF_INIT;
	assert_int_equal(tp_read_file(dp, &raw, 16 << 20, NULL), 0);
	assert_int_equal(raw.len, 3 * BS);
	uint8_t *p1 = pattern(1, BS);
	assert_memory_not_equal(raw.data + BS, p1, 4096);
	free(p1);
	tp_buf_free(&raw);

	/* no key */
	assert_int_equal(tp_drive_locate(d, 2, &err), 0);
	uint8_t *buf = malloc(BS);
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), -TP_EKEY);
	assert_non_null(strstr(err.msg, "encrypted, no key"));
	/* wrong key */
	assert_int_equal(tp_drive_set_encryption(d, key2, &err), 0);
	assert_int_equal(tp_drive_locate(d, 2, &err), 0);
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), -TP_EKEY);
	assert_non_null(strstr(err.msg, "wrong key"));
	/* right key; plain blocks read with a key set too (mixed mode) */
	assert_int_equal(tp_drive_set_encryption(d, key, &err), 0);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	expect_block(d, 0);
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), TP_TAPE_READ_FILEMARK);
	expect_block(d, 1);
	expect_block(d, 2);
	free(buf);
	/* a key is not remembered across a restart (as a drive loses it on power cycle) */
	tp_drive_close(d);
	d = open_drive(f);
	assert_false(d->encryption);
	assert_int_equal(tp_drive_locate(d, 2, &err), 0);
	buf = malloc(BS);
	assert_int_equal(tp_drive_read_block(d, buf, BS, &err), -TP_EKEY);
	free(buf);
	tp_drive_close(d);
}

/* Distances in bytes are blocks passed: a filemark counts as an object, not as tape (the plan's model agrees). */
static void test_counters_skip_filemarks(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "F00001", &err), 0);
	write_n(d, 0, 2);
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);
	write_n(d, 2, 2);
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	tp_drive_reset_counters(d);
	const tp_drive_counters *c = tp_drive_get_counters(d);
	assert_int_equal(tp_drive_locate(d, 4, &err), 0); /* past two blocks and a filemark, onto the third block */
	assert_int_equal(c->locate_objects, 4);
	assert_int_equal(c->locate_bytes, 3ull * BS);
	expect_block(d, 3);
	assert_int_equal(tp_drive_locate(d, 1, &err), 0); /* back over the filemark */
	assert_int_equal(c->locate_objects, 8);
	assert_int_equal(c->locate_bytes, 6ull * BS);
	assert_int_equal(tp_drive_locate(d, 6, &err), 0); /* to end of data, past both filemarks */
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	assert_int_equal(c->rewinds, 1);
	assert_int_equal(c->rewind_bytes, 4ull * BS);
	tp_drive_close(d);
}

/*
 * A restore that finds its tape in the drive LOADs it again: counted as the
 * rewind from where it stood, as the plan's estimate charges it, not as a
 * load; an empty drive stays an error and nothing is counted.
 */
static void test_reload_counts_rewind(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_reload(d, &err), -ENOMEDIUM);
	assert_int_equal(tp_drive_load(d, "R00001", &err), 0);
	write_n(d, 0, 3);
	tp_drive_reset_counters(d);
	const tp_drive_counters *c = tp_drive_get_counters(d);
	assert_int_equal(tp_drive_reload(d, &err), 0);
	assert_int_equal(c->loads, 0);
	assert_int_equal(c->rewinds, 1);
	assert_int_equal(c->rewind_bytes, 3ull * BS);
	expect_block(d, 0); /* at BOT */
	tp_drive_pos pos;
	assert_int_equal(tp_drive_read_position(d, &pos, &err), 0);
	assert_int_equal(pos.object, 1);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	assert_int_equal(tp_drive_reload(d, &err), 0); /* at BOT already: nothing moves */
	assert_int_equal(c->rewinds, 2);
	assert_int_equal(c->rewind_bytes, 4ull * BS);
	assert_int_equal(c->loads, 0);
	/* a plain LOAD of the same cartridge is still a load: after a robot move it is one */
	assert_int_equal(tp_drive_load(d, NULL, &err), 0);
	assert_int_equal(c->loads, 1);
	tp_drive_close(d);
}

static void test_load_by_label_and_counters(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "A00001", &err), 0);
	write_n(d, 0, 2);
	assert_int_equal(tp_drive_load(d, "B00001", &err), 0);
	assert_string_equal(d->label, "B00001");
	uint8_t small[16];
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), TP_TAPE_READ_EOD);
	write_n(d, 5, 1);
	assert_int_equal(tp_drive_load(d, "A00001", &err), 0);
	expect_block(d, 0);
	expect_block(d, 1);
	/* the same label again is a rewind, not a load */
	assert_int_equal(tp_drive_load(d, "A00001", &err), 0);
	const tp_drive_counters *c = tp_drive_get_counters(d);
	assert_int_equal(c->loads, 3);
	assert_int_equal(c->unloads, 2);
	assert_int_equal(c->rewinds, 3); /* two unloads away from BOT, one rewind */
	assert_int_equal(c->rewind_bytes, (2ull + 1 + 2) * BS);
	assert_int_equal(c->blocks_read, 2);
	assert_int_equal(c->bytes_read, 2ull * BS);

	/* locate distance in objects and bytes, both directions */
	tp_drive_reset_counters(d);
	assert_int_equal(tp_drive_locate(d, 2, &err), 0);
	assert_int_equal(tp_drive_locate(d, 1, &err), 0);
	assert_int_equal(tp_drive_locate(d, 1, &err), 0); /* no move, not counted */
	assert_int_equal(c->locates, 2);
	assert_int_equal(c->locate_objects, 3);
	assert_int_equal(c->locate_bytes, 3ull * BS);
	tp_drive_counters sum;
	memset(&sum, 0, sizeof(sum));
	tp_drive_counters_add(&sum, c);
	tp_drive_counters_add(&sum, c);
	assert_int_equal(sum.locates, 4);
	assert_int_equal(sum.locate_bytes, 6ull * BS);
	/* the timing model sees a 64 MiB virtual cartridge as a full LTO-9 one */
	tp_drive_reset_counters(d);
	assert_int_equal(tp_drive_locate(d, 0, &err), 0);
	tp_lto_estimate est;
	const tp_lto_gen *g9 = tp_lto_gen_get(9);
	tp_drive_estimate(d, g9, &est);
	double want = tp_lto_locate_seconds(g9, (uint64_t)((double)BS * g9->capacity / (double)(64ull << 20)));
	assert_true(est.locate_s > 2.0 && est.locate_s - want < 1e-6 && want - est.locate_s < 1e-6);
	assert_true(est.total_s >= est.locate_s);
	tp_drive_reset_counters(d);
	assert_int_equal(tp_drive_locate(d, 2, &err), 0);
	assert_int_equal(tp_drive_locate(d, 1, &err), 0);
	json_t *j = tp_drive_counters_to_json(c);
	assert_int_equal(json_integer_value(json_object_get(j, "locate-objects")), 3);
	json_decref(j);

	/* bad labels never become file names */
	assert_int_equal(tp_drive_load(d, "../evil", &err), -EINVAL);
	assert_int_equal(tp_drive_load(d, ".hidden", &err), -EINVAL);
	assert_int_equal(tp_drive_load(d, "", &err), -EINVAL);
	assert_string_equal(d->label, "A00001");

	/* erase drops everything */
	assert_int_equal(tp_drive_erase(d, &err), 0);
	assert_int_equal(tp_drive_read_block(d, small, sizeof(small), &err), TP_TAPE_READ_EOD);
	tp_drive_close(d);
}

static void test_tape_io_adapter(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_drive *d = open_drive(f);
	assert_int_equal(tp_drive_load(d, "IO0001", &err), 0);
	tp_tape_io io;
	tp_drive_tape_io(d, &io);
	uint8_t *b = pattern(9, BS);
	assert_int_equal(io.write_block(io.ctx, b, BS, &err), TP_TAPE_WRITE_OK);
	assert_int_equal(io.write_filemark(io.ctx, &err), 0);
	assert_int_equal(tp_drive_rewind(d, &err), 0);
	uint8_t *buf = malloc(BS);
	assert_int_equal(io.read_block(io.ctx, buf, BS, &err), (long)BS);
	assert_memory_equal(buf, b, BS);
	assert_int_equal(io.read_block(io.ctx, buf, 512, &err), TP_TAPE_READ_FILEMARK);
	assert_int_equal(io.read_block(io.ctx, buf, 512, &err), TP_TAPE_READ_EOD);
	free(buf);
	free(b);
	/* no cartridge: a real error, never -1 */
	assert_int_equal(tp_drive_unload(d, &err), 0);
	long r = io.read_block(io.ctx, (uint8_t *)&r, sizeof(r), &err);
	assert_true(r <= -2);
	tp_drive_close(d);
}

static void test_registry(void **state)
{
	(void)state;
	const tp_drive_ops *o = tp_drive_ops_lookup("virtual");
	assert_non_null(o);
	assert_true(o->caps & TP_DRIVE_CAP_LOCATE);
	assert_true(o->caps & TP_DRIVE_CAP_ENCRYPTION);
	assert_null(tp_drive_ops_lookup("nosuch"));
	assert_null(tp_drive_ops_lookup(NULL));
	tp_drive *d = NULL;
	tp_err err = { 0 };
	json_t *c = json_pack("{s:s}", "path", "relative/dir");
	assert_int_equal(tp_drive_open("virtual", "x", c, &d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "absolute"));
	assert_int_equal(tp_drive_open("nosuch", "x", c, &d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "nosuch"));
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capacity_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_read_error_and_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_early_eom_and_not_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encryption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_skip_filemarks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_counts_rewind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_by_label_and_counters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tape_io_adapter, setup, teardown),
		cmocka_unit_test(test_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
