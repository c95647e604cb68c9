/* Unit test: LTO timing model constants, monotonic locate/rewind, counter and plan estimates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tape/lto_model.h"

#define NEAR(a, b) assert_true(fabs_((a) - (b)) < 1e-6 * (1.0 + fabs_(b)))

static double fabs_(double x) { return x < 0 ? -x : x; }

static void test_constants_match_docs(void **state)
{
	(void)state;
	/* docs/tape-drives.md, table "LTO generations" */
	static const struct { int gen; double rate; unsigned long long cap; double load, unload, rewind, locate; } t[] = {
		{ 5, 140, 1500000000000ULL, 15, 20, 60, 56 },
		{ 6, 160, 2500000000000ULL, 15, 20, 60, 56 },
		{ 7, 300, 6000000000000ULL, 15, 20, 60, 56 },
		{ 8, 360, 12000000000000ULL, 15, 24, 59, 59 },
		{ 9, 400, 18000000000000ULL, 16, 56, 62, 65 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const tp_lto_gen *g = tp_lto_gen_get(t[i].gen);
		assert_non_null(g);
		assert_int_equal(g->gen, t[i].gen);
		NEAR(g->rate_mb_s, t[i].rate);
		assert_true(g->capacity == t[i].cap);
		NEAR(g->load_s, t[i].load);
		NEAR(g->unload_s, t[i].unload);
		NEAR(g->avg_rewind_s, t[i].rewind);
		NEAR(g->avg_locate_s, t[i].locate);
		NEAR(g->min_locate_s, 2.0);
	}
	assert_null(tp_lto_gen_get(4));
	assert_null(tp_lto_gen_get(10));
	assert_string_equal(tp_lto_gen_get(9)->name, "LTO-9");
}

static void test_gen_parse(void **state)
{
	(void)state;
	int g = 0;
	tp_err err = { 0 };
	assert_int_equal(tp_lto_gen_parse("LTO-9", &g, &err), 0);
	assert_int_equal(g, 9);
	assert_int_equal(tp_lto_gen_parse("lto7", &g, &err), 0);
	assert_int_equal(g, 7);
	assert_int_equal(tp_lto_gen_parse("5", &g, &err), 0);
	assert_int_equal(g, 5);
	assert_int_equal(tp_lto_gen_parse("LTO-4", &g, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "LTO-4"));
	assert_int_equal(tp_lto_gen_parse("LTO-99", &g, &err), -EINVAL);
	assert_int_equal(tp_lto_gen_parse(NULL, &g, &err), -EINVAL);
}

static void test_transfer(void **state)
{
	(void)state;
	const tp_lto_gen *g9 = tp_lto_gen_get(9), *g5 = tp_lto_gen_get(5);
	NEAR(tp_lto_transfer_seconds(g9, 400000000ULL), 1.0);
	NEAR(tp_lto_transfer_seconds(g5, 1400000000ULL), 10.0);
	/* a full LTO-9 cartridge at native rate: 45000 s = 12.5 h */
	NEAR(tp_lto_transfer_seconds(g9, g9->capacity), 45000.0);
	NEAR(tp_lto_transfer_seconds(g9, 0), 0.0);
}

static void test_locate_monotonic_and_mean(void **state)
{
	(void)state;
	for (int gen = TP_LTO_GEN_MIN; gen <= TP_LTO_GEN_MAX; gen++) {
		const tp_lto_gen *g = tp_lto_gen_get(gen);
		NEAR(tp_lto_locate_seconds(g, 0), 0.0);
		NEAR(tp_lto_rewind_seconds(g, 0), 0.0);
		NEAR(tp_lto_locate_seconds(g, 1), g->min_locate_s + 2.0 * (g->avg_locate_s - g->min_locate_s) / (double)g->capacity);
		double prev = 0, prevr = 0, sum = 0, sumr = 0;
		const int steps = 1000;
		for (int i = 1; i <= steps; i++) {
			uint64_t dist = (uint64_t)((double)g->capacity * i / steps);
			double t = tp_lto_locate_seconds(g, dist), tr = tp_lto_rewind_seconds(g, dist);
			assert_true(t > prev);
			assert_true(tr > prevr);
			prev = t;
			prevr = tr;
			/* midpoint rule for the mean over a uniformly random target */
			uint64_t mid = (uint64_t)((double)g->capacity * (i - 0.5) / steps);
			sum += tp_lto_locate_seconds(g, mid);
			sumr += tp_lto_rewind_seconds(g, mid);
		}
		assert_true(fabs_(sum / steps - g->avg_locate_s) < 0.01);
		assert_true(fabs_(sumr / steps - g->avg_rewind_s) < 0.01);
		/* full length: 2 avg - min; saturates beyond the cartridge */
		NEAR(tp_lto_locate_seconds(g, g->capacity), 2 * g->avg_locate_s - g->min_locate_s);
		NEAR(tp_lto_locate_seconds(g, g->capacity * 3), 2 * g->avg_locate_s - g->min_locate_s);
	}
}

static void test_scale(void **state)
{
	(void)state;
	const tp_lto_gen *g = tp_lto_gen_get(9);
	NEAR(tp_lto_scale(g, 0), 1.0);
	NEAR(tp_lto_scale(g, 64ull << 20), 18e12 / (double)(64ull << 20));
	assert_true(tp_lto_native_bytes(g, 32ull << 20, 64ull << 20) == 9000000000000ULL);
	assert_true(tp_lto_native_bytes(g, 12345, 0) == 12345);
	assert_true(tp_lto_native_bytes(g, UINT64_MAX, 1) == UINT64_MAX); /* saturates */
	/* half of a virtual cartridge is half of a native one */
	tp_tape_counters c;
	memset(&c, 0, sizeof(c));
	c.locates = 1;
	c.locate_bytes = 32ull << 20;
	tp_lto_estimate e;
	tp_lto_estimate_counters(g, &c, 64ull << 20, &e);
	NEAR(e.locate_s, tp_lto_locate_seconds(g, g->capacity / 2));
	NEAR(e.locate_s, 65.0);
	NEAR(e.total_s, e.locate_s);
	/*
	 * Transfers are scaled too: reading a quarter of a 64 MiB virtual
	 * cartridge is reading 4.5 TB = 4.5e12 / 400e6 = 11250 s on LTO-9, and
	 * writing all of it 18e12 / 400e6 = 45000 s.
	 */
	memset(&c, 0, sizeof(c));
	c.bytes_read = 16ull << 20;
	c.bytes_written = 64ull << 20;
	tp_lto_estimate_counters(g, &c, 64ull << 20, &e);
	NEAR(e.read_s, 11250.0);
	NEAR(e.write_s, 45000.0);
	NEAR(e.total_s, 56250.0);
	/* on a real cartridge (media_bytes 0) nothing is scaled: 16 MiB = 16777216 / 400e6 s */
	tp_lto_estimate_counters(g, &c, 0, &e);
	NEAR(e.read_s, 16777216.0 / 400e6);
}

static void test_break_even(void **state)
{
	(void)state;
	const tp_lto_gen *g = tp_lto_gen_get(9);
	/*
	 * 2 + 2 (65 - 2) d / 18e12 = d / 400e6
	 * => d = 2 / (1 / 400e6 - 126 / 18e12) = 2 / (2.5e-9 - 7e-12) = 802 246 289.6 bytes
	 */
	double be = tp_lto_break_even_bytes(g);
	assert_true(fabs_(be - 802246289.6) < 1.0);
	NEAR(tp_lto_transfer_seconds(g, (uint64_t)be), tp_lto_locate_seconds(g, (uint64_t)be));
	/* real cartridge: 800 MB is read through, 805 MB located over, 0 always "read" */
	assert_int_equal(tp_lto_read_through(g, 800000000ULL, 0), 1);
	assert_int_equal(tp_lto_read_through(g, 805000000ULL, 0), 0);
	assert_int_equal(tp_lto_read_through(g, 0, 0), 1);
	/*
	 * A 64 MiB virtual cartridge: the same break-even scaled down,
	 * 802246289.6 * 67108864 / 18e12 = 2991 bytes, so 2 KiB are read
	 * through and one 256 KiB block (70 GB native) is located over.
	 */
	assert_int_equal(tp_lto_read_through(g, 2048, 64ull << 20), 1);
	assert_int_equal(tp_lto_read_through(g, 4096, 64ull << 20), 0);
	assert_int_equal(tp_lto_read_through(g, 256 * 1024, 64ull << 20), 0);
	/* LTO-5: 2 / (1 / 140e6 - 108 / 1.5e12) = 282 851 139.5 bytes */
	assert_true(fabs_(tp_lto_break_even_bytes(tp_lto_gen_get(5)) - 282851139.5) < 1.0);
}

static void test_counters_estimate(void **state)
{
	(void)state;
	const tp_lto_gen *g = tp_lto_gen_get(8);
	tp_tape_counters a, b, sum;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&sum, 0, sizeof(sum));
	a.loads = 2;
	a.unloads = 1;
	a.rewinds = 1;
	a.rewind_bytes = g->capacity / 4;
	a.locates = 3;
	a.locate_bytes = g->capacity / 2;
	a.bytes_read = 3600000000ULL; /* 10 s at 360 MB/s */
	b.loads = 1;
	b.bytes_written = 720000000ULL; /* 2 s */
	b.spaces = 2;
	b.space_bytes = 0;
	tp_lto_estimate ea, eb, es;
	tp_lto_estimate_counters(g, &a, 0, &ea);
	tp_lto_estimate_counters(g, &b, 0, &eb);
	NEAR(ea.load_s, 30.0);
	NEAR(ea.unload_s, 24.0);
	NEAR(ea.rewind_s, 2.0 + 2.0 * (59.0 - 2.0) * 0.25);
	NEAR(ea.locate_s, 3 * 2.0 + 2.0 * (59.0 - 2.0) * 0.5);
	NEAR(ea.read_s, 10.0);
	NEAR(eb.write_s, 2.0);
	NEAR(eb.space_s, 4.0);
	NEAR(ea.total_s, ea.load_s + ea.unload_s + ea.rewind_s + ea.locate_s + ea.read_s);
	tp_tape_counters_add(&sum, &a);
	tp_tape_counters_add(&sum, &b);
	assert_int_equal(sum.loads, 3);
	assert_int_equal(sum.spaces, 2);
	assert_true(sum.bytes_read == a.bytes_read && sum.bytes_written == b.bytes_written);
	tp_lto_estimate_counters(g, &sum, 0, &es);
	NEAR(es.total_s, ea.total_s + eb.total_s);
}

static void test_plan(void **state)
{
	(void)state;
	const tp_lto_gen *g = tp_lto_gen_get(9);
	tp_err err = { 0 };
	uint64_t media = 64ull << 20;
	/* a virtual cartridge: locate to its middle, read 4 MiB, unload */
	tp_lto_step steps[] = {
		{ TP_LTO_STEP_CHANGER_MOVE, 0 },
		{ TP_LTO_STEP_LOAD, 0 },
		{ TP_LTO_STEP_LOCATE, 32ull << 20 },
		{ TP_LTO_STEP_READ, 4ull << 20 },
		{ TP_LTO_STEP_UNLOAD, 0 },
	};
	tp_lto_estimate e;
	assert_int_equal(tp_lto_estimate_plan(g, steps, 5, media, &e, &err), 0);
	NEAR(e.changer_s, TP_LTO_CHANGER_MOVE_S);
	NEAR(e.load_s, 16.0);
	NEAR(e.locate_s, 65.0);
	/* 4 MiB of 64 MiB = 1/16 of 18 TB = 1.125e12 bytes / 400e6 = 2812.5 s */
	NEAR(e.read_s, 2812.5);
	NEAR(e.rewind_s, tp_lto_rewind_seconds(g, (uint64_t)(36.0 / 64.0 * 18e12)));
	NEAR(e.unload_s, 56.0);
	NEAR(e.total_s, e.changer_s + e.load_s + e.locate_s + e.read_s + e.rewind_s + e.unload_s);

	/* reading through a gap is cheaper than locating over it when the gap is small */
	tp_lto_step through[] = { { TP_LTO_STEP_LOAD, 0 }, { TP_LTO_STEP_READ, 1 << 20 }, { TP_LTO_STEP_READ, 1 << 20 } };
	tp_lto_step seek[] = { { TP_LTO_STEP_LOAD, 0 }, { TP_LTO_STEP_LOCATE, 1 << 20 }, { TP_LTO_STEP_READ, 1 << 20 } };
	tp_lto_estimate et, es;
	assert_int_equal(tp_lto_estimate_plan(g, through, 3, 0, &et, &err), 0);
	assert_int_equal(tp_lto_estimate_plan(g, seek, 3, 0, &es, &err), 0);
	assert_true(et.total_s < es.total_s);
	/*
	 * On a 64 MiB virtual cartridge the same 1 MiB gap stands for 281 GB:
	 * reading it takes 18e12 / 64 / 400e6 = 703.125 s, a LOCATE over it
	 * 2 + 126 / 64 = 3.96875 s, so locating wins, as the planner decides.
	 */
	assert_int_equal(tp_lto_estimate_plan(g, through, 3, media, &et, &err), 0);
	assert_int_equal(tp_lto_estimate_plan(g, seek, 3, media, &es, &err), 0);
	NEAR(et.read_s, 2 * 703.125);
	NEAR(es.locate_s, 3.96875);
	NEAR(es.read_s, 703.125);
	assert_true(es.total_s < et.total_s);
	assert_int_equal(tp_lto_read_through(g, 1 << 20, media), 0);

	/* a cartridge in the drive already: no load, and the next locate starts from where it was left */
	tp_lto_step in_drive[] = { { TP_LTO_STEP_IN_DRIVE, 32ull << 20 }, { TP_LTO_STEP_LOCATE, 0 }, { TP_LTO_STEP_READ, 4ull << 20 } };
	assert_int_equal(tp_lto_estimate_plan(g, in_drive, 3, media, &e, &err), 0);
	NEAR(e.load_s, 0.0);
	NEAR(e.changer_s, 0.0);
	NEAR(e.locate_s, 65.0);
	NEAR(e.read_s, 2812.5);
	tp_lto_step in_loaded[] = { { TP_LTO_STEP_LOAD, 0 }, { TP_LTO_STEP_IN_DRIVE, 0 } };
	assert_int_equal(tp_lto_estimate_plan(g, in_loaded, 2, media, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "step 1 (in-drive): a cartridge is already loaded"));

	/* errors name the step */
	tp_lto_step noload[] = { { TP_LTO_STEP_READ, 10 } };
	assert_int_equal(tp_lto_estimate_plan(g, noload, 1, media, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "step 0 (read)"));
	tp_lto_step past[] = { { TP_LTO_STEP_LOAD, 0 }, { TP_LTO_STEP_LOCATE, media + 1 } };
	assert_int_equal(tp_lto_estimate_plan(g, past, 2, media, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "step 1 (locate)"));
	tp_lto_step twice[] = { { TP_LTO_STEP_LOAD, 0 }, { TP_LTO_STEP_LOAD, 0 } };
	assert_int_equal(tp_lto_estimate_plan(g, twice, 2, media, &e, &err), -EINVAL);
	tp_lto_step bad[] = { { (enum tp_lto_step_kind)99, 0 } };
	assert_int_equal(tp_lto_estimate_plan(g, bad, 1, media, &e, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown kind"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constants_match_docs),
		cmocka_unit_test(test_gen_parse),
		cmocka_unit_test(test_transfer),
		cmocka_unit_test(test_locate_monotonic_and_mean),
		cmocka_unit_test(test_scale),
		cmocka_unit_test(test_break_even),
		cmocka_unit_test(test_counters_estimate),
		cmocka_unit_test(test_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
