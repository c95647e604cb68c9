/* Unit test: SCSI sense parsing (fixed/descriptor) and classification, with buffers as real drives and tgt send them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tape/scsi_sense.h"

/* An 18-byte fixed-format sense buffer. */
static void fixed(uint8_t b[18], uint8_t rc, uint8_t flags_key, int32_t info, uint8_t asc, uint8_t ascq)
{
	memset(b, 0, 18);
	b[0] = rc;
	b[2] = flags_key;
	b[3] = (uint8_t)((uint32_t)info >> 24);
	b[4] = (uint8_t)((uint32_t)info >> 16);
	b[5] = (uint8_t)((uint32_t)info >> 8);
	b[6] = (uint8_t)info;
	b[7] = 0x0a;
	b[12] = asc;
	b[13] = ascq;
}

static enum tp_sense_class classify(const uint8_t *b, size_t len, tp_sense *s)
{
	tp_err e = { 0 };
	assert_int_equal(tp_sense_parse(b, len, s, &e), 0);
	return tp_sense_classify(s);
}

static void test_tgt_filemark_variable(void **state)
{
	(void)state;
	/* tgt, READ(6) 64 KiB in variable mode onto a filemark (tgt-vtl.md "Sense data seen"). */
	static const uint8_t b[18] = { 0xf0, 0x00, 0x80, 0x00, 0x01, 0x00, 0x00, 0x0a, 0, 0, 0, 0, 0x00, 0x01 };
	tp_sense s;
	assert_int_equal(classify(b, sizeof(b), &s), TP_SENSE_FILEMARK);
	assert_int_equal(s.response_code, 0x70);
	assert_false(s.descriptor);
	assert_false(s.deferred);
	assert_int_equal(s.key, TP_SK_NO_SENSE);
	assert_true(s.filemark);
	assert_false(s.eom);
	assert_false(s.ili);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 65536);
	assert_int_equal(s.asc, 0);
	assert_int_equal(s.ascq, 1);
	assert_int_equal(s.len, 18);
	/* FM is not ILI: no residual claimed */
	assert_int_equal(tp_sense_residual(&s), 0);
}

static void test_tgt_ili_long_and_short(void **state)
{
	(void)state;
	/* 256 KiB buffer on a 64 KiB block: INFO = +196608 */
	uint8_t b[18];
	fixed(b, 0xf0, 0x20, 196608, 0, 0);
	assert_int_equal(b[4], 0x03);
	tp_sense s;
	assert_int_equal(classify(b, sizeof(b), &s), TP_SENSE_ILI);
	assert_true(s.ili);
	assert_int_equal(s.info, 196608);
	assert_int_equal(tp_sense_residual(&s), 196608);
	/* 512-byte buffer on a 1000-byte block: INFO = -488, bytes ff ff fe 18 */
	static const uint8_t neg[18] = { 0xf0, 0x00, 0x20, 0xff, 0xff, 0xfe, 0x18, 0x0a };
	assert_int_equal(classify(neg, sizeof(neg), &s), TP_SENSE_ILI);
	assert_int_equal(s.info, -488);
	assert_int_equal(tp_sense_residual(&s), -488);
	/* ILI without VALID: no residual can be derived */
	uint8_t nv[18];
	fixed(nv, 0x70, 0x20, 100, 0, 0);
	assert_int_equal(classify(nv, sizeof(nv), &s), TP_SENSE_ILI);
	assert_false(s.info_valid);
	assert_int_equal(tp_sense_residual(&s), 0);
}

static void test_fixed_mode_filemark_info_blocks(void **state)
{
	(void)state;
	/* READ fixed x4 with 2 blocks before the FM: INFO = 2 blocks not read */
	static const uint8_t b[18] = { 0xf0, 0x00, 0x80, 0x00, 0x00, 0x00, 0x02, 0x0a, 0, 0, 0, 0, 0x00, 0x01 };
	tp_sense s;
	assert_int_equal(classify(b, sizeof(b), &s), TP_SENSE_FILEMARK);
	assert_int_equal(s.info, 2);
}

static void test_eod_variants(void **state)
{
	(void)state;
	tp_sense s;
	/* tgt: BLANK CHECK with the EOM bit and ASC 00/00, VALID = 0 */
	static const uint8_t tgt[18] = { 0x70, 0x00, 0x48, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x00, 0x00 };
	assert_int_equal(classify(tgt, sizeof(tgt), &s), TP_SENSE_EOD);
	assert_true(s.eom);
	assert_false(s.info_valid);
	assert_int_equal(s.key, TP_SK_BLANK_CHECK);
	/* SSC: BLANK CHECK 00/05 with INFO */
	uint8_t std[18];
	fixed(std, 0xf0, 0x08, 262144, 0x00, 0x05);
	assert_int_equal(classify(std, sizeof(std), &s), TP_SENSE_EOD);
	assert_int_equal(s.info, 262144);
	/* tgt SPACE into EOD: NO SENSE 00/05 without EOM or INFO */
	uint8_t sp[18];
	fixed(sp, 0x70, 0x00, 0, 0x00, 0x05);
	assert_int_equal(classify(sp, sizeof(sp), &s), TP_SENSE_EOD);
	/* tgt READ fixed at EOD: MEDIUM ERROR 31/00 (a tgt bug; classified by key) */
	uint8_t me[18];
	fixed(me, 0x70, 0x03, 0, 0x31, 0x00);
	assert_int_equal(classify(me, sizeof(me), &s), TP_SENSE_MEDIUM_ERROR);
}

static void test_early_warning_and_overflow(void **state)
{
	(void)state;
	tp_sense s;
	/* tgt WRITE past --size: NO SENSE + EOM, ASC 00/00 */
	static const uint8_t tgt[18] = { 0x70, 0x00, 0x40, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x00, 0x00 };
	assert_int_equal(classify(tgt, sizeof(tgt), &s), TP_SENSE_EARLY_WARNING);
	/* SSC: NO SENSE, EOM, 00/02 end-of-partition/medium detected */
	uint8_t std[18];
	fixed(std, 0x70, 0x40, 0, 0x00, 0x02);
	assert_int_equal(classify(std, sizeof(std), &s), TP_SENSE_EARLY_WARNING);
	/* programmable early warning 00/07 without the EOM bit */
	uint8_t pew[18];
	fixed(pew, 0x70, 0x00, 0, 0x00, 0x07);
	assert_int_equal(classify(pew, sizeof(pew), &s), TP_SENSE_EARLY_WARNING);
	/* physical end: VOLUME OVERFLOW 00/02 with EOM, INFO = bytes not written */
	uint8_t vo[18];
	fixed(vo, 0xf0, 0x4d, 4096, 0x00, 0x02);
	assert_int_equal(classify(vo, sizeof(vo), &s), TP_SENSE_VOLUME_OVERFLOW);
	assert_int_equal(s.info, 4096);
	/* SPACE backwards into BOT: NO SENSE, EOM, 00/04 */
	uint8_t bot[18];
	fixed(bot, 0x70, 0x40, 0, 0x00, 0x04);
	assert_int_equal(classify(bot, sizeof(bot), &s), TP_SENSE_BOT);
}

static void test_keys(void **state)
{
	(void)state;
	static const struct {
		uint8_t key, asc, ascq;
		enum tp_sense_class want;
	} t[] = {
		{ 0x05, 0x20, 0x00, TP_SENSE_ILLEGAL_REQUEST },  /* tgt: LOCATE, LOG SENSE, MAM, SPIN/SPOUT */
		{ 0x05, 0x24, 0x00, TP_SENSE_ILLEGAL_REQUEST },
		{ 0x02, 0x3a, 0x00, TP_SENSE_NO_MEDIUM },        /* tgt: empty drive */
		{ 0x02, 0x04, 0x01, TP_SENSE_BECOMING_READY },
		{ 0x02, 0x04, 0x03, TP_SENSE_NOT_READY },
		{ 0x06, 0x29, 0x00, TP_SENSE_UNIT_ATTENTION },   /* tgt: first command per LUN */
		{ 0x06, 0x28, 0x00, TP_SENSE_UNIT_ATTENTION },
		{ 0x07, 0x27, 0x00, TP_SENSE_DATA_PROTECT },
		{ 0x07, 0x74, 0x03, TP_SENSE_DATA_PROTECT },
		{ 0x04, 0x44, 0x00, TP_SENSE_HARDWARE_ERROR },
		{ 0x03, 0x11, 0x00, TP_SENSE_MEDIUM_ERROR },
		{ 0x0b, 0x00, 0x00, TP_SENSE_ABORTED },
		{ 0x01, 0x00, 0x00, TP_SENSE_OK },               /* recovered, nothing else */
		{ 0x00, 0x00, 0x00, TP_SENSE_OK },
		{ 0x00, 0x00, 0x01, TP_SENSE_FILEMARK },         /* 00/01 without the FM bit */
		{ 0x09, 0x80, 0x00, TP_SENSE_OTHER },
		{ 0x0e, 0x1d, 0x00, TP_SENSE_OTHER },
		{ 0x0a, 0x00, 0x00, TP_SENSE_OTHER },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t b[18];
		fixed(b, 0x70, t[i].key, 0, t[i].asc, t[i].ascq);
		tp_sense s;
		enum tp_sense_class c = classify(b, sizeof(b), &s);
		if (c != t[i].want)
			fail_msg("row %zu: key %x %02x/%02x classified %s, want %s", i, t[i].key, t[i].asc, t[i].ascq,
				 tp_sense_class_name(c), tp_sense_class_name(t[i].want));
	}
}

static void test_sense_key_specific(void **state)
{
	(void)state;
	/* ILLEGAL REQUEST 24/00, SKSV, C/D = 1 (CDB), field pointer = byte 1 */
	uint8_t b[18];
	fixed(b, 0x70, 0x05, 0, 0x24, 0x00);
	b[15] = 0xc0;
	b[16] = 0x00;
	b[17] = 0x01;
	tp_sense s;
	assert_int_equal(classify(b, sizeof(b), &s), TP_SENSE_ILLEGAL_REQUEST);
	assert_true(s.sks_valid);
	assert_int_equal(s.sks[0], 0xc0);
	assert_int_equal(s.sks[2], 0x01);
	assert_int_equal(tp_sense_progress(&s), -1); /* not a progress indication */
	/* NOT READY 04/01 with progress 0x8000 (50 %) */
	fixed(b, 0x70, 0x02, 0, 0x04, 0x01);
	b[15] = 0x80;
	b[16] = 0x80;
	b[17] = 0x00;
	assert_int_equal(classify(b, sizeof(b), &s), TP_SENSE_BECOMING_READY);
	assert_int_equal(tp_sense_progress(&s), 0x8000);
	/* SKSV clear: no progress */
	b[15] = 0x00;
	assert_int_equal(classify(b, sizeof(b), &s), TP_SENSE_BECOMING_READY);
	assert_int_equal(tp_sense_progress(&s), -1);
}

static void test_descriptor_format(void **state)
{
	(void)state;
	/* 72h, NO SENSE 00/01, information descriptor (VALID, 65536) and stream descriptor with FM */
	static const uint8_t b[] = {
		0x72, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10,
		0x00, 0x0a, 0x80, 0x00, 0, 0, 0, 0, 0x00, 0x01, 0x00, 0x00, /* information */
		0x04, 0x02, 0x00, 0x80,                                     /* stream commands: FM */
	};
	tp_sense s;
	assert_int_equal(classify(b, sizeof(b), &s), TP_SENSE_FILEMARK);
	assert_true(s.descriptor);
	assert_int_equal(s.response_code, 0x72);
	assert_true(s.filemark);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 65536);

	/* ILI via the stream descriptor, INFO = -488 in 8 bytes */
	static const uint8_t ili[] = {
		0x72, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
		0x04, 0x02, 0x00, 0x20,
		0x00, 0x0a, 0x80, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x18,
	};
	assert_int_equal(classify(ili, sizeof(ili), &s), TP_SENSE_ILI);
	assert_int_equal(s.info, -488);
	assert_int_equal(tp_sense_residual(&s), -488);

	/* EOM via the stream descriptor on NO SENSE 00/02 */
	static const uint8_t eom[] = { 0x72, 0x00, 0x00, 0x02, 0, 0, 0, 0x04, 0x04, 0x02, 0x00, 0x40 };
	assert_int_equal(classify(eom, sizeof(eom), &s), TP_SENSE_EARLY_WARNING);
	assert_true(s.eom);
	assert_false(s.info_valid);

	/* deferred 73h MEDIUM ERROR 0C/00 with a sense-key specific descriptor */
	static const uint8_t def[] = { 0x73, 0x03, 0x0c, 0x00, 0, 0, 0, 0x08,
				       0x02, 0x06, 0x00, 0x00, 0x80, 0x12, 0x34, 0x00 };
	assert_int_equal(classify(def, sizeof(def), &s), TP_SENSE_MEDIUM_ERROR);
	assert_true(s.deferred);
	assert_true(s.sks_valid);
	assert_int_equal(s.sks[1], 0x12);
	char text[160];
	tp_sense_describe(&s, text, sizeof(text));
	assert_string_equal(text, "deferred MEDIUM ERROR 0C/00 write error");

	/* a descriptor whose length overruns the buffer is ignored, not read past the end */
	static const uint8_t over[] = { 0x72, 0x00, 0x00, 0x00, 0, 0, 0, 0x06, 0x00, 0x0a, 0x80, 0x00, 0x01, 0x02 };
	assert_int_equal(classify(over, sizeof(over), &s), TP_SENSE_OK);
	assert_false(s.info_valid);
}

static void test_lengths_and_errors(void **state)
{
	(void)state;
	tp_sense s;
	tp_err e = { 0 };
	assert_int_equal(tp_sense_parse(NULL, 0, &s, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "empty"));
	static const uint8_t bad[] = { 0x00, 0x00, 0x05 };
	assert_int_equal(tp_sense_parse(bad, sizeof(bad), &s, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "response code 0x00"));
	static const uint8_t two[] = { 0x70, 0x00 };
	assert_int_equal(tp_sense_parse(two, sizeof(two), &s, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "byte 2"));
	static const uint8_t one_desc[] = { 0x72 };
	assert_int_equal(tp_sense_parse(one_desc, sizeof(one_desc), &s, &e), -TP_EFORMAT);

	/* 3 bytes: key only, everything else zero */
	static const uint8_t three[] = { 0x70, 0x00, 0x06 };
	assert_int_equal(tp_sense_parse(three, sizeof(three), &s, &e), 0);
	assert_int_equal(s.key, 6);
	assert_int_equal(s.asc, 0);
	assert_int_equal(tp_sense_classify(&s), TP_SENSE_UNIT_ATTENTION);

	/* ADDITIONAL SENSE LENGTH 0: bytes after 8 are not sense data even if the buffer has them */
	uint8_t b[18];
	fixed(b, 0x70, 0x05, 0, 0x20, 0x00);
	b[7] = 0;
	assert_int_equal(tp_sense_parse(b, sizeof(b), &s, &e), 0);
	assert_int_equal(s.len, 8);
	assert_int_equal(s.asc, 0);
	/* and a length larger than the buffer is capped */
	b[7] = 0xf0;
	assert_int_equal(tp_sense_parse(b, sizeof(b), &s, &e), 0);
	assert_int_equal(s.len, 18);
	assert_int_equal(s.asc, 0x20);
}

static void test_describe_and_names(void **state)
{
	(void)state;
	char text[160];
	tp_sense s;
	static const uint8_t fm[18] = { 0xf0, 0x00, 0x80, 0x00, 0x01, 0x00, 0x00, 0x0a, 0, 0, 0, 0, 0x00, 0x01 };
	assert_int_equal(tp_sense_parse(fm, sizeof(fm), &s, NULL), 0);
	assert_string_equal(tp_sense_describe(&s, text, sizeof(text)),
			    "NO SENSE 00/01 filemark detected [FM info 65536]");
	static const uint8_t eod[18] = { 0x70, 0x00, 0x48, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0x00, 0x00 };
	assert_int_equal(tp_sense_parse(eod, sizeof(eod), &s, NULL), 0);
	assert_string_equal(tp_sense_describe(&s, text, sizeof(text)),
			    "BLANK CHECK 00/00 no additional sense information [EOM]");
	uint8_t me[18];
	fixed(me, 0x70, 0x03, 0, 0x31, 0x00);
	assert_int_equal(tp_sense_parse(me, sizeof(me), &s, NULL), 0);
	assert_string_equal(tp_sense_describe(&s, text, sizeof(text)), "MEDIUM ERROR 31/00 medium format corrupted");
	uint8_t vendor[18];
	fixed(vendor, 0x70, 0x04, 0, 0x82, 0x83);
	assert_int_equal(tp_sense_parse(vendor, sizeof(vendor), &s, NULL), 0);
	assert_string_equal(tp_sense_describe(&s, text, sizeof(text)), "HARDWARE ERROR 82/83");
	/* a tiny output buffer is still NUL-terminated */
	char small[6];
	tp_sense_describe(&s, small, sizeof(small));
	assert_int_equal(strlen(small), 5);

	assert_string_equal(tp_sense_key_name(0x05), "ILLEGAL REQUEST");
	assert_string_equal(tp_sense_key_name(0x0d), "VOLUME OVERFLOW");
	assert_string_equal(tp_sense_key_name(0xff), "RESERVED");
	assert_string_equal(tp_sense_asc_text(0x3b, 0x0e), "medium source element empty");
	assert_null(tp_sense_asc_text(0x99, 0x99));
	/* every class has a distinct name and a message */
	for (int a = TP_SENSE_OK; a <= TP_SENSE_OTHER; a++) {
		assert_string_not_equal(tp_sense_class_name((enum tp_sense_class)a), "unknown");
		assert_string_not_equal(tp_sense_class_message((enum tp_sense_class)a), "unknown sense class");
		for (int b2 = a + 1; b2 <= TP_SENSE_OTHER; b2++)
			assert_string_not_equal(tp_sense_class_name((enum tp_sense_class)a),
						tp_sense_class_name((enum tp_sense_class)b2));
	}
	assert_string_equal(tp_sense_class_name((enum tp_sense_class)99), "unknown");
	assert_string_equal(tp_sense_class_message(TP_SENSE_EOD), "end of data (blank check)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tgt_filemark_variable),
		cmocka_unit_test(test_tgt_ili_long_and_short),
		cmocka_unit_test(test_fixed_mode_filemark_info_blocks),
		cmocka_unit_test(test_eod_variants),
		cmocka_unit_test(test_early_warning_and_overflow),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_sense_key_specific),
		cmocka_unit_test(test_descriptor_format),
		cmocka_unit_test(test_lengths_and_errors),
		cmocka_unit_test(test_describe_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
