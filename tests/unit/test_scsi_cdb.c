/* Unit test: golden CDB bytes (SPC/SSC/SMC layouts) and the response parsers of scsi_cdb. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tape/scsi_cdb.h"

#define CDB(...) ((const uint8_t[]){ __VA_ARGS__ })

static void expect_cdb(const tp_cdb *c, const uint8_t *want, size_t len, int dir, uint32_t xfer)
{
	if (c->len != len || memcmp(c->b, want, len) != 0) {
		char got[64];
		fail_msg("%s: got %s (len %u)", c->name ? c->name : "?", tp_cdb_hex(c, got, sizeof(got)), c->len);
	}
	for (size_t i = len; i < sizeof(c->b); i++)
		assert_int_equal(c->b[i], 0);
	assert_int_equal(c->dir, dir);
	assert_int_equal(c->xfer, xfer);
	assert_non_null(c->name);
}

static void test_spc_basics(void **state)
{
	(void)state;
	tp_cdb c;
	tp_err e = { 0 };
	tp_cdb_test_unit_ready(&c);
	expect_cdb(&c, CDB(0, 0, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	assert_string_equal(c.name, "TEST UNIT READY");

	assert_int_equal(tp_cdb_inquiry(&c, 0, 0, 96, &e), 0);
	expect_cdb(&c, CDB(0x12, 0, 0, 0, 96, 0), 6, TP_SCSI_DIR_IN, 96);
	assert_int_equal(tp_cdb_inquiry(&c, 1, 0x80, 0x104, &e), 0);
	expect_cdb(&c, CDB(0x12, 0x01, 0x80, 0x01, 0x04, 0), 6, TP_SCSI_DIR_IN, 0x104);
	assert_int_equal(tp_cdb_inquiry(&c, 0, 0x80, 96, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "INQUIRY"));
	assert_non_null(strstr(e.msg, "EVPD"));
	assert_int_equal(c.len, 0); /* cleared on error */

	tp_cdb_request_sense(&c, 0, 252);
	expect_cdb(&c, CDB(0x03, 0, 0, 0, 252, 0), 6, TP_SCSI_DIR_IN, 252);
	tp_cdb_request_sense(&c, 1, 18);
	expect_cdb(&c, CDB(0x03, 0x01, 0, 0, 18, 0), 6, TP_SCSI_DIR_IN, 18);
	tp_cdb_read_block_limits(&c);
	expect_cdb(&c, CDB(0x05, 0, 0, 0, 0, 0), 6, TP_SCSI_DIR_IN, 6);
}

static void test_read_write(void **state)
{
	(void)state;
	tp_cdb c;
	tp_err e = { 0 };
	/* PBS reads 256 KiB variable with SILI: 08 02 04 00 00 00 */
	assert_int_equal(tp_cdb_read6(&c, 0, 1, 262144, &e), 0);
	expect_cdb(&c, CDB(0x08, 0x02, 0x04, 0x00, 0x00, 0x00), 6, TP_SCSI_DIR_IN, 262144);
	assert_int_equal(tp_cdb_read6(&c, 0, 0, 512, &e), 0);
	expect_cdb(&c, CDB(0x08, 0x00, 0x00, 0x02, 0x00, 0x00), 6, TP_SCSI_DIR_IN, 512);
	assert_int_equal(tp_cdb_read6(&c, 1, 0, 4, &e), 0);
	expect_cdb(&c, CDB(0x08, 0x01, 0x00, 0x00, 0x04, 0x00), 6, TP_SCSI_DIR_IN, 0);
	assert_int_equal(tp_cdb_read6(&c, 0, 0, 0xffffff, &e), 0);
	expect_cdb(&c, CDB(0x08, 0x00, 0xff, 0xff, 0xff, 0x00), 6, TP_SCSI_DIR_IN, 0xffffff);
	assert_int_equal(tp_cdb_read6(&c, 0, 0, 0x1000000, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "24 bits"));
	assert_int_equal(tp_cdb_read6(&c, 1, 1, 1, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "SILI"));

	/* WRITE(6) variable 256 KiB: 0A 00 04 00 00 00 */
	assert_int_equal(tp_cdb_write6(&c, 0, 262144, &e), 0);
	expect_cdb(&c, CDB(0x0a, 0x00, 0x04, 0x00, 0x00, 0x00), 6, TP_SCSI_DIR_OUT, 262144);
	assert_int_equal(tp_cdb_write6(&c, 1, 3, &e), 0);
	expect_cdb(&c, CDB(0x0a, 0x01, 0x00, 0x00, 0x03, 0x00), 6, TP_SCSI_DIR_OUT, 0);
	assert_int_equal(tp_cdb_write6(&c, 0, 0x1000000, &e), -EINVAL);

	/* WRITE FILEMARKS(6): IMMED + 1 after a stream, 0 without IMMED = flush */
	assert_int_equal(tp_cdb_write_filemarks6(&c, 1, 1, &e), 0);
	expect_cdb(&c, CDB(0x10, 0x01, 0x00, 0x00, 0x01, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_write_filemarks6(&c, 0, 0, &e), 0);
	expect_cdb(&c, CDB(0x10, 0x00, 0x00, 0x00, 0x00, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_write_filemarks6(&c, 0, 0x010203, &e), 0);
	expect_cdb(&c, CDB(0x10, 0x00, 0x01, 0x02, 0x03, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_write_filemarks6(&c, 0, 0x1000000, &e), -EINVAL);
}

static void test_space_locate(void **state)
{
	(void)state;
	tp_cdb c;
	tp_err e = { 0 };
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_FILEMARKS, 1, &e), 0);
	expect_cdb(&c, CDB(0x11, 0x01, 0x00, 0x00, 0x01, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	/* -1 filemark: 24-bit two's complement ff ff ff */
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_FILEMARKS, -1, &e), 0);
	expect_cdb(&c, CDB(0x11, 0x01, 0xff, 0xff, 0xff, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_BLOCKS, -2, &e), 0);
	expect_cdb(&c, CDB(0x11, 0x00, 0xff, 0xff, 0xfe, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_BLOCKS, -8388608, &e), 0);
	expect_cdb(&c, CDB(0x11, 0x00, 0x80, 0x00, 0x00, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_BLOCKS, 8388607, &e), 0);
	expect_cdb(&c, CDB(0x11, 0x00, 0x7f, 0xff, 0xff, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_EOD, 0, &e), 0);
	expect_cdb(&c, CDB(0x11, 0x03, 0x00, 0x00, 0x00, 0x00), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_BLOCKS, 8388608, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "8388608"));
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_BLOCKS, -8388609, &e), -EINVAL);
	assert_int_equal(tp_cdb_space6(&c, (enum tp_space_code)4, 1, &e), -EINVAL);

	/* SPACE(16): count in bytes 4..11 */
	assert_int_equal(tp_cdb_space16(&c, TP_SCSI_SPACE_FILEMARKS, 0x123456789LL, &e), 0);
	expect_cdb(&c, CDB(0x91, 0x01, 0, 0, 0x00, 0x00, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0, 0, 0, 0), 16,
		   TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_space16(&c, TP_SCSI_SPACE_BLOCKS, -1, &e), 0);
	expect_cdb(&c, CDB(0x91, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), 16,
		   TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_space16(&c, (enum tp_space_code)7, 1, &e), -EINVAL);

	/* LOCATE(16) to filemark n as PBS does: 92 08 00 00 <u64> 00 00 00 00 */
	assert_int_equal(tp_cdb_locate16(&c, TP_LOCATE_FILEMARK, 0, 0, 0, 5, &e), 0);
	expect_cdb(&c, CDB(0x92, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05, 0, 0, 0, 0), 16, TP_SCSI_DIR_NONE, 0);
	/* to logical object 0x0102030405060708, IMMED, change to partition 1 */
	assert_int_equal(tp_cdb_locate16(&c, TP_LOCATE_OBJECT, 1, 1, 1, 0x0102030405060708ULL, &e), 0);
	expect_cdb(&c, CDB(0x92, 0x03, 0, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0), 16, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_locate16(&c, TP_LOCATE_EOD, 0, 0, 0, 0, &e), 0);
	expect_cdb(&c, CDB(0x92, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 16, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_locate16(&c, (enum tp_locate_dest)2, 0, 0, 0, 0, &e), -EINVAL);
	assert_int_equal(tp_cdb_locate16(&c, TP_LOCATE_OBJECT, 0, 0, 3, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "CP"));
}

static void test_position_and_motion(void **state)
{
	(void)state;
	tp_cdb c;
	tp_err e = { 0 };
	assert_int_equal(tp_cdb_read_position(&c, TP_READPOS_LONG, 999, &e), 0);
	expect_cdb(&c, CDB(0x34, 0x06, 0, 0, 0, 0, 0, 0, 0, 0), 10, TP_SCSI_DIR_IN, 32);
	assert_int_equal(tp_cdb_read_position(&c, TP_READPOS_SHORT, 0, &e), 0);
	expect_cdb(&c, CDB(0x34, 0x00, 0, 0, 0, 0, 0, 0, 0, 0), 10, TP_SCSI_DIR_IN, 20);
	assert_int_equal(tp_cdb_read_position(&c, TP_READPOS_EXTENDED, 28, &e), 0);
	expect_cdb(&c, CDB(0x34, 0x08, 0, 0, 0, 0, 0, 0, 28, 0), 10, TP_SCSI_DIR_IN, 28);
	assert_int_equal(tp_cdb_read_position(&c, 0x07, 0, &e), -EINVAL);

	tp_cdb_rewind(&c, 0);
	expect_cdb(&c, CDB(0x01, 0, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	tp_cdb_rewind(&c, 1);
	expect_cdb(&c, CDB(0x01, 1, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	tp_cdb_load_unload(&c, 0, 1, 0, 0, 0);
	expect_cdb(&c, CDB(0x1b, 0, 0, 0, 0x01, 0), 6, TP_SCSI_DIR_NONE, 0);
	assert_string_equal(c.name, "LOAD");
	tp_cdb_load_unload(&c, 1, 0, 0, 0, 0);
	expect_cdb(&c, CDB(0x1b, 1, 0, 0, 0x00, 0), 6, TP_SCSI_DIR_NONE, 0);
	assert_string_equal(c.name, "UNLOAD");
	tp_cdb_load_unload(&c, 0, 0, 1, 1, 1);
	expect_cdb(&c, CDB(0x1b, 0, 0, 0, 0x0e, 0), 6, TP_SCSI_DIR_NONE, 0);
	tp_cdb_erase(&c, 0, 0);
	expect_cdb(&c, CDB(0x19, 0x00, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	tp_cdb_erase(&c, 1, 1);
	expect_cdb(&c, CDB(0x19, 0x03, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	tp_cdb_erase(&c, 0, 1);
	expect_cdb(&c, CDB(0x19, 0x01, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	/* FORMAT MEDIUM: plain 04, LTO-9 IMMED 04 01 */
	assert_int_equal(tp_cdb_format_medium(&c, 0, 0, 0, 0, &e), 0);
	expect_cdb(&c, CDB(0x04, 0, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_format_medium(&c, 1, 0, 0, 0, &e), 0);
	expect_cdb(&c, CDB(0x04, 0x01, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	assert_int_equal(tp_cdb_format_medium(&c, 0, 1, 2, 0x0102, &e), 0);
	expect_cdb(&c, CDB(0x04, 0x02, 0x02, 0x01, 0x02, 0), 6, TP_SCSI_DIR_OUT, 0x0102);
	assert_int_equal(tp_cdb_format_medium(&c, 0, 0, 16, 0, &e), -EINVAL);
	tp_cdb_prevent_allow(&c, 1);
	expect_cdb(&c, CDB(0x1e, 0, 0, 0, 0x01, 0), 6, TP_SCSI_DIR_NONE, 0);
	tp_cdb_prevent_allow(&c, 0);
	expect_cdb(&c, CDB(0x1e, 0, 0, 0, 0x00, 0), 6, TP_SCSI_DIR_NONE, 0);
}

static void test_mode_cdbs(void **state)
{
	(void)state;
	tp_cdb c;
	tp_err e = { 0 };
	assert_int_equal(tp_cdb_mode_sense6(&c, 0, 0, 0x0f, 0, 0xff, &e), 0);
	expect_cdb(&c, CDB(0x1a, 0x00, 0x0f, 0x00, 0xff, 0x00), 6, TP_SCSI_DIR_IN, 0xff);
	assert_int_equal(tp_cdb_mode_sense6(&c, 1, 1, 0x1d, 0, 0x20, &e), 0);
	expect_cdb(&c, CDB(0x1a, 0x08, 0x5d, 0x00, 0x20, 0x00), 6, TP_SCSI_DIR_IN, 0x20);
	assert_int_equal(tp_cdb_mode_sense10(&c, 0, 0, 0x10, 0x01, 0x1000, &e), 0);
	expect_cdb(&c, CDB(0x5a, 0x00, 0x10, 0x01, 0, 0, 0, 0x10, 0x00, 0), 10, TP_SCSI_DIR_IN, 0x1000);
	assert_int_equal(tp_cdb_mode_sense10(&c, 1, 2, 0x3f, 0xff, 0xffff, &e), 0);
	expect_cdb(&c, CDB(0x5a, 0x08, 0xbf, 0xff, 0, 0, 0, 0xff, 0xff, 0), 10, TP_SCSI_DIR_IN, 0xffff);
	assert_int_equal(tp_cdb_mode_sense6(&c, 0, 4, 0x0f, 0, 0xff, &e), -EINVAL);
	assert_int_equal(tp_cdb_mode_sense10(&c, 0, 0, 0x40, 0, 0xff, &e), -EINVAL);
	tp_cdb_mode_select6(&c, 1, 0, 28);
	expect_cdb(&c, CDB(0x15, 0x10, 0, 0, 28, 0), 6, TP_SCSI_DIR_OUT, 28);
	tp_cdb_mode_select6(&c, 1, 1, 12);
	expect_cdb(&c, CDB(0x15, 0x11, 0, 0, 12, 0), 6, TP_SCSI_DIR_OUT, 12);
	tp_cdb_mode_select10(&c, 1, 0, 0x0120);
	expect_cdb(&c, CDB(0x55, 0x10, 0, 0, 0, 0, 0, 0x01, 0x20, 0), 10, TP_SCSI_DIR_OUT, 0x120);
}

static void test_log_density_mam_security(void **state)
{
	(void)state;
	tp_cdb c;
	tp_err e = { 0 };
	tp_cdb_report_density_support(&c, 0, 0, 8192);
	expect_cdb(&c, CDB(0x44, 0, 0, 0, 0, 0, 0, 0x20, 0x00, 0), 10, TP_SCSI_DIR_IN, 8192);
	tp_cdb_report_density_support(&c, 1, 1, 0x1234);
	expect_cdb(&c, CDB(0x44, 0x03, 0, 0, 0, 0, 0, 0x12, 0x34, 0), 10, TP_SCSI_DIR_IN, 0x1234);
	/* LOG SENSE TapeAlert response page 12h, current cumulative values */
	assert_int_equal(tp_cdb_log_sense(&c, 0, 1, 0x12, 0, 0, 0x400, &e), 0);
	expect_cdb(&c, CDB(0x4d, 0x00, 0x52, 0x00, 0, 0x00, 0x00, 0x04, 0x00, 0), 10, TP_SCSI_DIR_IN, 0x400);
	assert_int_equal(tp_cdb_log_sense(&c, 1, 1, 0x17, 0, 0x0102, 0x8000, &e), 0);
	expect_cdb(&c, CDB(0x4d, 0x01, 0x57, 0x00, 0, 0x01, 0x02, 0x80, 0x00, 0), 10, TP_SCSI_DIR_IN, 0x8000);
	assert_int_equal(tp_cdb_log_sense(&c, 0, 1, 0x40, 0, 0, 1, &e), -EINVAL);

	/* READ ATTRIBUTE, service action 0, 32 KiB */
	tp_cdb_read_attribute(&c, 0, 0, 0, 0, 32768);
	expect_cdb(&c, CDB(0x8c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x80, 0x00, 0, 0), 16, TP_SCSI_DIR_IN, 32768);
	tp_cdb_read_attribute(&c, 0x21, 2, 1, 0x0800, 0x01020304);
	expect_cdb(&c, CDB(0x8c, 0x01, 0, 0, 0, 2, 0, 1, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0, 0), 16,
		   TP_SCSI_DIR_IN, 0x01020304);
	/* WRITE ATTRIBUTE 8D 01 (WTC) */
	tp_cdb_write_attribute(&c, 1, 0, 0, 53);
	expect_cdb(&c, CDB(0x8d, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 53, 0, 0), 16, TP_SCSI_DIR_OUT, 53);

	/* SPIN A2 20 00 20 00 00 <alloc> 00 00 (status page), SPOUT B5 20 00 10 ... */
	tp_cdb_security_protocol_in(&c, TP_SECURITY_PROTOCOL_TAPE, TP_SPIN_PAGE_STATUS, 8192);
	expect_cdb(&c, CDB(0xa2, 0x20, 0x00, 0x20, 0, 0, 0x00, 0x00, 0x20, 0x00, 0, 0), 12, TP_SCSI_DIR_IN, 8192);
	tp_cdb_security_protocol_in(&c, TP_SECURITY_PROTOCOL_TAPE, TP_SPIN_PAGE_CAPABILITIES, 8196);
	expect_cdb(&c, CDB(0xa2, 0x20, 0x00, 0x10, 0, 0, 0x00, 0x00, 0x20, 0x04, 0, 0), 12, TP_SCSI_DIR_IN, 8196);
	tp_cdb_security_protocol_out(&c, TP_SECURITY_PROTOCOL_TAPE, TP_SPOUT_PAGE_SET_DATA_ENCRYPTION, 52);
	expect_cdb(&c, CDB(0xb5, 0x20, 0x00, 0x10, 0, 0, 0, 0, 0, 52, 0, 0), 12, TP_SCSI_DIR_OUT, 52);
}

static void test_changer_cdbs(void **state)
{
	(void)state;
	tp_cdb c;
	tp_err e = { 0 };
	/* storage elements 1000.., VOLTAG, 64 KiB */
	assert_int_equal(tp_cdb_read_element_status(&c, TP_ELEM_STORAGE, 1, 1000, 8, 0, 0, 0x10000, &e), 0);
	expect_cdb(&c, CDB(0xb8, 0x12, 0x03, 0xe8, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0, 0), 12, TP_SCSI_DIR_IN,
		   0x10000);
	/* drives with DVCID and CURDATA */
	assert_int_equal(tp_cdb_read_element_status(&c, TP_ELEM_DRIVE, 1, 500, 1, 1, 1, 0x400, &e), 0);
	expect_cdb(&c, CDB(0xb8, 0x14, 0x01, 0xf4, 0x00, 0x01, 0x03, 0x00, 0x04, 0x00, 0, 0), 12, TP_SCSI_DIR_IN,
		   0x400);
	assert_int_equal(tp_cdb_read_element_status(&c, TP_ELEM_ALL, 0, 0, 0xffff, 0, 0, 100, &e), 0);
	expect_cdb(&c, CDB(0xb8, 0x00, 0, 0, 0xff, 0xff, 0x00, 0, 0, 100, 0, 0), 12, TP_SCSI_DIR_IN, 100);
	assert_int_equal(tp_cdb_read_element_status(&c, (enum tp_element_type)5, 0, 0, 1, 0, 0, 100, &e), -EINVAL);
	assert_int_equal(tp_cdb_read_element_status(&c, TP_ELEM_DRIVE, 0, 0, 1, 0, 0, 0x1000000, &e), -EINVAL);
	/* MOVE MEDIUM transport 1, slot 1000 → drive 500 */
	tp_cdb_move_medium(&c, 1, 1000, 500, 0);
	expect_cdb(&c, CDB(0xa5, 0, 0x00, 0x01, 0x03, 0xe8, 0x01, 0xf4, 0, 0, 0x00, 0), 12, TP_SCSI_DIR_NONE, 0);
	tp_cdb_move_medium(&c, 0, 500, 10, 1);
	expect_cdb(&c, CDB(0xa5, 0, 0x00, 0x00, 0x01, 0xf4, 0x00, 0x0a, 0, 0, 0x01, 0), 12, TP_SCSI_DIR_NONE, 0);
	tp_cdb_initialize_element_status(&c);
	expect_cdb(&c, CDB(0x07, 0, 0, 0, 0, 0), 6, TP_SCSI_DIR_NONE, 0);
	char hex[64];
	assert_string_equal(tp_cdb_hex(&c, hex, sizeof(hex)), "07 00 00 00 00 00");
	char tiny[7];
	assert_string_equal(tp_cdb_hex(&c, tiny, sizeof(tiny)), "07 00");
}

/* ---------------- parsers ---------------- */

static void put_text(uint8_t *p, size_t n, const char *s)
{
	memset(p, ' ', n);
	memcpy(p, s, strlen(s));
}

static void test_inquiry_parse(void **state)
{
	(void)state;
	uint8_t b[36] = { 0x01, 0x80, 0x05, 0x02, 31 };
	put_text(b + 8, 8, "IET");
	put_text(b + 16, 16, "VIRTUAL-TAPE");
	put_text(b + 32, 4, "0001");
	tp_inquiry q;
	tp_err e = { 0 };
	assert_int_equal(tp_inquiry_parse(b, sizeof(b), &q, &e), 0);
	assert_int_equal(q.type, TP_PDT_TAPE);
	assert_int_equal(q.qualifier, 0);
	assert_true(q.removable);
	assert_int_equal(q.version, 5);
	assert_string_equal(q.vendor, "IET");
	assert_string_equal(q.product, "VIRTUAL-TAPE");
	assert_string_equal(q.revision, "0001");
	b[0] = 0x28; /* qualifier 1, changer */
	assert_int_equal(tp_inquiry_parse(b, 20, &q, &e), 0);
	assert_int_equal(q.type, TP_PDT_CHANGER);
	assert_int_equal(q.qualifier, 1);
	assert_string_equal(q.vendor, "IET");
	assert_string_equal(q.product, ""); /* did not arrive */
	assert_int_equal(tp_inquiry_parse(b, 7, &q, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "INQUIRY"));

	/* VPD 80h as tgt sends it: left-padded with spaces */
	uint8_t v[4 + 36] = { 0x01, 0x80, 0x00, 36 };
	memset(v + 4, ' ', 36);
	memcpy(v + 4 + 26, "VTLTAPE001", 10);
	char serial[64];
	assert_int_equal(tp_vpd_serial_parse(v, sizeof(v), serial, sizeof(serial), &e), 0);
	assert_string_equal(serial, "VTLTAPE001");
	/* page length beyond the data is capped */
	assert_int_equal(tp_vpd_serial_parse(v, 4 + 30, serial, sizeof(serial), &e), 0);
	assert_string_equal(serial, "VTLT");
	v[1] = 0x83;
	assert_int_equal(tp_vpd_serial_parse(v, sizeof(v), serial, sizeof(serial), &e), -TP_EFORMAT);
	assert_int_equal(tp_vpd_serial_parse(v, 3, serial, sizeof(serial), &e), -TP_EFORMAT);
	assert_string_equal(serial, "");

	static const uint8_t bl[6] = { 0x00, 0x10, 0x00, 0x00, 0x00, 0x04 };
	tp_block_limits l;
	assert_int_equal(tp_block_limits_parse(bl, 6, &l, &e), 0);
	assert_int_equal(l.max_block, 1048576);
	assert_int_equal(l.min_block, 4);
	assert_int_equal(tp_block_limits_parse(bl, 5, &l, &e), -TP_EFORMAT);
}

static void test_position_parse(void **state)
{
	(void)state;
	uint8_t b[32] = { 0 };
	b[0] = 0x80; /* BOP */
	b[11] = 0;
	tp_position p;
	tp_err e = { 0 };
	assert_int_equal(tp_position_parse_long(b, 32, &p, &e), 0);
	assert_true(p.bop);
	assert_false(p.eop);
	assert_false(p.lonu);
	assert_int_equal(p.object, 0);
	memset(b, 0, sizeof(b));
	b[0] = 0x4c; /* EOP, MPU, LONU */
	b[7] = 0;
	b[8] = 0x01; /* object 0x0100000000000203 */
	b[14] = 0x02;
	b[15] = 0x03;
	b[23] = 7; /* file 7 */
	assert_int_equal(tp_position_parse_long(b, 32, &p, &e), 0);
	assert_false(p.bop);
	assert_true(p.eop);
	assert_true(p.mpu);
	assert_true(p.lonu);
	assert_int_equal(p.partition, 0);
	assert_true(p.object == 0x0100000000000203ULL);
	assert_int_equal(p.file, 7);
	b[7] = 1;
	assert_int_equal(tp_position_parse_long(b, 32, &p, &e), 0);
	assert_int_equal(p.partition, 1);
	/* tgt's stub reply: 20 00 00 ..., a reserved bit, LONU clear → "object 0, file 0" */
	memset(b, 0, sizeof(b));
	b[0] = 0x20;
	assert_int_equal(tp_position_parse_long(b, 32, &p, &e), 0);
	assert_false(p.lonu);
	assert_false(p.bop);
	assert_int_equal(tp_position_parse_long(b, 31, &p, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "32"));
}

static void test_mode_parse_and_select(void **state)
{
	(void)state;
	tp_err e = { 0 };
	/* MODE SENSE(6) as tgt answers for page 0Fh: header, 8-byte block descriptor, 16-byte page */
	uint8_t b[28] = { 27, 0x00, 0x10, 8, 0x5a, 0, 0, 0, 0, 0x04, 0x00, 0x00, 0x0f, 0x0e, 0xc0, 0x80 };
	b[16] = 0x00; b[17] = 0x00; b[18] = 0x00; b[19] = 0x01; /* compression algorithm 1 */
	b[23] = 0x01;                                           /* decompression algorithm 1 */
	tp_mode_data md;
	assert_int_equal(tp_mode_parse(b, sizeof(b), 0, &md, &e), 0);
	assert_int_equal(md.buffered_mode, 1);
	assert_false(md.write_protected);
	assert_true(md.has_block_desc);
	assert_int_equal(md.density, 0x5a);
	assert_int_equal(md.block_len, 0x040000);
	assert_int_equal(md.pages_off, 12);
	const uint8_t *pg;
	size_t plen;
	assert_int_equal(tp_mode_find_page(b, &md, 0x0f, 0, &pg, &plen, &e), 0);
	assert_ptr_equal(pg, b + 12);
	assert_int_equal(plen, 16);
	tp_compression_page cp;
	assert_int_equal(tp_compression_page_parse(pg, plen, &cp, &e), 0);
	assert_true(cp.dce);
	assert_true(cp.dcc);
	assert_true(cp.dde);
	assert_int_equal(cp.compression_alg, 1);
	assert_int_equal(cp.decompression_alg, 1);
	assert_int_equal(tp_mode_find_page(b, &md, 0x10, 0, &pg, &plen, &e), -TP_ENOTFOUND);

	/* encode round trip */
	uint8_t enc[16];
	tp_compression_page_encode(&cp, enc);
	static const uint8_t want[16] = { 0x0f, 0x0e, 0xc0, 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0 };
	assert_memory_equal(enc, want, 16);
	tp_compression_page back;
	assert_int_equal(tp_compression_page_parse(enc, 16, &back, &e), 0);
	assert_memory_equal(&back, &cp, sizeof(cp));
	assert_int_equal(tp_compression_page_parse(b, 16, &cp, &e), -TP_EFORMAT);
	assert_int_equal(tp_compression_page_parse(b + 12, 15, &cp, &e), -TP_EFORMAT);

	/* write protect bit and a truncated reply: mode data length says more than arrived */
	b[2] = 0x90;
	assert_int_equal(tp_mode_parse(b, 20, 0, &md, &e), 0);
	assert_true(md.write_protected);
	assert_int_equal(md.end, 20);
	assert_int_equal(tp_mode_find_page(b, &md, 0x0f, 0, &pg, &plen, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "overruns"));
	/* block descriptor length overrunning the data */
	b[3] = 200;
	assert_int_equal(tp_mode_parse(b, sizeof(b), 0, &md, &e), -TP_EFORMAT);
	assert_int_equal(tp_mode_parse(b, 3, 0, &md, &e), -TP_EFORMAT);

	/* MODE SENSE(10) header with a subpage-format page 10h/01h */
	uint8_t t[8 + 8] = { 0x00, 14, 0x00, 0x10, 0, 0, 0x00, 0x00, 0x50, 0x01, 0x00, 0x04, 0xaa, 0xbb, 0xcc, 0xdd };
	assert_int_equal(tp_mode_parse(t, sizeof(t), 1, &md, &e), 0);
	assert_false(md.has_block_desc);
	assert_int_equal(tp_mode_find_page(t, &md, 0x10, 0x01, &pg, &plen, &e), 0);
	assert_int_equal(plen, 8);
	assert_int_equal(pg[4], 0xaa);
	assert_int_equal(tp_mode_find_page(t, &md, 0x10, 0x00, &pg, &plen, &e), -TP_ENOTFOUND);

	/* MODE SELECT(6) list: buffered mode 1, variable block descriptor, page 0F with DCE */
	tp_compression_page on = { .dce = 1, .dde = 1 };
	uint8_t page[16];
	tp_compression_page_encode(&on, page);
	page[0] |= 0x80; /* a PS bit copied from MODE SENSE must be cleared */
	uint8_t list[64];
	int n = tp_mode_select_build(0, 1, 1, 0, 0, page, 16, list, sizeof(list), &e);
	assert_int_equal(n, 28);
	static const uint8_t want6[28] = { 0x00, 0x00, 0x10, 0x08, 0, 0, 0, 0, 0, 0, 0, 0,
					   0x0f, 0x0e, 0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(list, want6, 28);
	/* MODE SELECT(10), block descriptor only, density 0x5a, block length 0x040000 */
	n = tp_mode_select_build(1, 1, 1, 0x5a, 0x040000, NULL, 0, list, sizeof(list), &e);
	assert_int_equal(n, 16);
	static const uint8_t want10[16] = { 0, 0, 0, 0x10, 0, 0, 0, 8, 0x5a, 0, 0, 0, 0, 0x04, 0x00, 0x00 };
	assert_memory_equal(list, want10, 16);
	assert_int_equal(tp_mode_select_build(0, 1, 1, 0, 0, page, 16, list, 27, &e), -ENOSPC);
	assert_int_equal(tp_mode_select_build(0, 1, 1, 0, 0x1000000, NULL, 0, list, sizeof(list), &e), -EINVAL);
	uint8_t big[300] = { 0 };
	assert_int_equal(tp_mode_select_build(0, 0, 0, 0, 0, big, 260, big, sizeof(big), &e), -EINVAL);
}

static void test_element_address_page(void **state)
{
	(void)state;
	/* tgt-vtl layout: transport 1 x1, storage 1000 x8, I/E 10 x2, drive 500 x1 */
	uint8_t pg[20] = { 0x1d, 0x12, 0, 1, 0, 1, 0x03, 0xe8, 0, 8, 0, 10, 0, 2, 0x01, 0xf4, 0, 1, 0, 0 };
	tp_element_addresses a;
	tp_err e = { 0 };
	assert_int_equal(tp_element_addresses_parse(pg, sizeof(pg), &a, &e), 0);
	assert_int_equal(a.transport_first, 1);
	assert_int_equal(a.transport_count, 1);
	assert_int_equal(a.storage_first, 1000);
	assert_int_equal(a.storage_count, 8);
	assert_int_equal(a.ie_first, 10);
	assert_int_equal(a.ie_count, 2);
	assert_int_equal(a.drive_first, 500);
	assert_int_equal(a.drive_count, 1);
	assert_int_equal(tp_element_addresses_parse(pg, 17, &a, &e), -TP_EFORMAT);
	pg[0] = 0x1c;
	assert_int_equal(tp_element_addresses_parse(pg, sizeof(pg), &a, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "1Dh"));
}

static void density_desc(uint8_t *d, uint8_t code, const char *name, uint32_t cap_mb)
{
	memset(d, 0, 52);
	d[0] = code;
	d[1] = code;
	d[2] = 0xa1; /* WRTOK, DEFLT, DLV */
	d[4] = 0x31;
	d[14] = (uint8_t)(cap_mb >> 8);
	d[15] = (uint8_t)cap_mb;
	d[12] = (uint8_t)(cap_mb >> 24);
	d[13] = (uint8_t)(cap_mb >> 16);
	put_text(d + 16, 8, "LTO-CVE");
	put_text(d + 24, 8, name);
	put_text(d + 32, 20, "Ultrium tape");
}

static void test_density_report(void **state)
{
	(void)state;
	uint8_t b[4 + 3 * 52];
	memset(b, 0, sizeof(b));
	b[0] = 0;
	b[1] = (uint8_t)(sizeof(b) - 2);
	density_desc(b + 4, 0x5c, "U-732", 6000000);
	density_desc(b + 4 + 52, 0x5e, "U-832", 12000000);
	density_desc(b + 4 + 104, 0x5a, "U-632", 2500000);
	tp_density_desc d[4];
	tp_err e = { 0 };
	int n = tp_density_report_parse(b, sizeof(b), d, 4, &e);
	assert_int_equal(n, 3);
	assert_int_equal(d[1].primary, 0x5e);
	assert_true(d[1].wrtok);
	assert_true(d[1].deflt);
	assert_false(d[1].dup);
	assert_int_equal(d[1].capacity_mb, 12000000);
	assert_string_equal(d[1].name, "U-832");
	assert_string_equal(d[1].organization, "LTO-CVE");
	assert_string_equal(d[1].description, "Ultrium tape");
	assert_int_equal(tp_density_report_max_generation(d, (size_t)n), 8);
	/* max descriptors honoured, and a reply cut by the allocation length */
	assert_int_equal(tp_density_report_parse(b, sizeof(b), d, 1, &e), 1);
	assert_int_equal(tp_density_report_parse(b, 4 + 52 + 30, d, 4, &e), 1);
	/* DLV with a too-short descriptor length */
	b[4 + 4] = 0x10;
	assert_int_equal(tp_density_report_parse(b, sizeof(b), d, 4, &e), -TP_EFORMAT);
	assert_int_equal(tp_density_report_parse(b, 3, d, 4, &e), -TP_EFORMAT);

	static const struct { uint8_t code; int gen; } g[] = {
		{ 0x40, 1 }, { 0x42, 2 }, { 0x44, 3 }, { 0x46, 4 }, { 0x58, 5 }, { 0x5a, 6 },
		{ 0x5c, 7 }, { 0x5d, 8 }, { 0x5e, 8 }, { 0x60, 9 }, { 0x00, 0 }, { 0x41, 0 }, { 0x62, 0 },
	};
	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		assert_int_equal(tp_density_lto_generation(g[i].code), g[i].gen);
	assert_int_equal(tp_density_report_max_generation(d, 0), 0);
}

static void test_tapealert(void **state)
{
	(void)state;
	tp_err e = { 0 };
	uint64_t flags;
	/* page 2Eh: 64 parameters of 1 byte; set flags 3 (hard error) and 20 (clean now) */
	uint8_t b[4 + 64 * 5];
	memset(b, 0, sizeof(b));
	b[0] = 0x2e;
	b[2] = 0x01;
	b[3] = 0x40;
	for (int n = 1; n <= 64; n++) {
		uint8_t *p = b + 4 + (n - 1) * 5;
		p[1] = (uint8_t)n;
		p[2] = 0x40;
		p[3] = 1;
		p[4] = (n == 3 || n == 20) ? 0x01 : 0x00;
	}
	assert_int_equal(tp_tapealert_parse(b, sizeof(b), &flags, &e), 0);
	assert_true(flags == ((1ULL << 2) | (1ULL << 19)));
	/* value byte with only reserved bits set is not a flag */
	b[4 + 4 * 5 + 4] = 0xfe;
	assert_int_equal(tp_tapealert_parse(b, sizeof(b), &flags, &e), 0);
	assert_true(flags == ((1ULL << 2) | (1ULL << 19)));
	/* an inner parameter overrunning the declared page is an error */
	b[4 + 10 * 5 + 3] = 200;
	assert_int_equal(tp_tapealert_parse(b, sizeof(b), &flags, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "overruns"));

	/* page 12h: parameter 0000h, 8-byte bitmap, MSB of the first byte = flag 1 */
	uint8_t r[4 + 12] = { 0x12, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x63, 0x08,
			      0x20, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x01 };
	assert_int_equal(tp_tapealert_parse(r, sizeof(r), &flags, &e), 0);
	/* 0x20 in byte 0 = flag 3; 0x10 in byte 2 = flag 20; 0x01 in byte 7 = flag 64 */
	assert_true(flags == ((1ULL << 2) | (1ULL << 19) | (1ULL << 63)));
	r[7] = 4; /* too short bitmap */
	r[3] = 8;
	assert_int_equal(tp_tapealert_parse(r, 12, &flags, &e), -TP_EFORMAT);
	r[0] = 0x17;
	assert_int_equal(tp_tapealert_parse(r, sizeof(r), &flags, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "0x17"));

	assert_string_equal(tp_tapealert_name(20), "Clean now");
	assert_string_equal(tp_tapealert_name(3), "Hard error");
	assert_string_equal(tp_tapealert_name(0), "Unknown");
	assert_string_equal(tp_tapealert_name(63), "Unknown");
}

static size_t put_param(uint8_t *p, uint16_t code, const uint8_t *v, uint8_t len)
{
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	p[2] = 0x03;
	p[3] = len;
	memcpy(p + 4, v, len);
	return 4 + (size_t)len;
}

static void test_volume_stats(void **state)
{
	(void)state;
	uint8_t b[256] = { 0x17, 0x00 };
	size_t p = 4;
	p += put_param(b + p, 0x0001, (const uint8_t[]){ 0, 0, 0, 42 }, 4);
	p += put_param(b + p, 0x0002, (const uint8_t[]){ 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 }, 8);
	p += put_param(b + p, 0x0010, (const uint8_t[]){ 0x00, 0x0f, 0x42, 0x40 }, 4); /* 1,000,000 MB */
	p += put_param(b + p, 0x0011, (const uint8_t[]){ 0x07 }, 1);
	p += put_param(b + p, 0x0016, (const uint8_t[]){ 0x00, 0x5b, 0x8d, 0x80 }, 4); /* 6,000,000 MB */
	p += put_param(b + p, 0x0017, (const uint8_t[]){ 0x01, 0x00 }, 2);
	p += put_param(b + p, 0x0040, (const uint8_t *)"  VTL001L6  ", 12);
	p += put_param(b + p, 0x0080, (const uint8_t[]){ 1 }, 1);
	p += put_param(b + p, 0x0081, (const uint8_t[]){ 0 }, 1);
	p += put_param(b + p, 0x0101, (const uint8_t[]){ 0, 9 }, 2);
	p += put_param(b + p, 0x0102, (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0, 0, 3 }, 10); /* over 8 bytes */
	p += put_param(b + p, 0x7777, (const uint8_t[]){ 1, 2 }, 2);                          /* unknown */
	b[2] = (uint8_t)((p - 4) >> 8);
	b[3] = (uint8_t)(p - 4);
	tp_volume_stats s;
	tp_err e = { 0 };
	assert_int_equal(tp_volume_stats_parse(b, p, &s, &e), 0);
	assert_int_equal(s.volume_mounts, 42);
	assert_true(s.volume_datasets_written == 0x0102030405060708ULL);
	assert_true(s.lifetime_bytes_written == 1000000ULL * 1000000ULL);
	assert_int_equal(s.lifetime_bytes_read, 7000000);
	assert_int_equal(s.total_native_capacity, 6000000);
	assert_int_equal(s.total_used_native_capacity, 256);
	assert_string_equal(s.serial, "VTL001L6");
	assert_true(s.write_protect);
	assert_false(s.worm);
	assert_int_equal(s.beginning_of_medium_passes, 9);
	assert_int_equal(s.middle_of_tape_passes, 3);
	/* reply cut by a short allocation: what arrived is used, no error */
	assert_int_equal(tp_volume_stats_parse(b, 4 + 8 + 2, &s, &e), 0);
	assert_int_equal(s.volume_mounts, 42);
	assert_int_equal(s.volume_datasets_written, 0);
	b[0] = 0x2e;
	assert_int_equal(tp_volume_stats_parse(b, p, &s, &e), -TP_EFORMAT);
	assert_int_equal(tp_volume_stats_parse(b, 3, &s, &e), -TP_EFORMAT);
}

struct mam_seen {
	int n;
	uint16_t ids[8];
	char text[8][40];
	int ro[8];
};

static int mam_cb(void *ctx, const tp_mam_attr *a)
{
	struct mam_seen *m = ctx;
	if (m->n >= 8)
		return 1;
	m->ids[m->n] = a->id;
	m->ro[m->n] = a->read_only;
	size_t l = a->len < 39 ? a->len : 39;
	memcpy(m->text[m->n], a->value, l);
	m->text[m->n][l] = 0;
	m->n++;
	return 0;
}

static void test_mam(void **state)
{
	(void)state;
	tp_err e = { 0 };
	/* build the PBS attributes 0x0800 (8, ascii) and 0x0808 (160, text) */
	uint8_t list[512];
	memset(list, 0xee, sizeof(list));
	size_t used = 0;
	assert_int_equal(tp_mam_append(list, sizeof(list), &used, 0x0800, TP_MAM_ASCII, "Proxmox", 7, 8, &e), 0);
	assert_int_equal(used, 4 + 5 + 8);
	static const uint8_t want_hdr[13] = { 0, 0, 0, 0, 0x08, 0x00, 0x01, 0x00, 0x08, 'P', 'r', 'o', 'x' };
	assert_memory_equal(list, want_hdr, 13); /* length still 0 until finish */
	assert_memory_equal(list + 9, "Proxmox ", 8); /* ASCII is space padded */
	assert_int_equal(tp_mam_append(list, sizeof(list), &used, 0x0808, TP_MAM_TEXT, "pool-a", 6, 160, &e), 0);
	assert_int_equal(list[17 + 2], 0x02);
	assert_int_equal(list[17 + 5 + 6], 0); /* text is zero padded */
	tp_mam_finish(list, used);
	assert_int_equal(list[0], 0);
	assert_int_equal(list[2], (uint8_t)((used - 4) >> 8));
	assert_int_equal(list[3], (uint8_t)(used - 4));
	assert_int_equal(tp_mam_append(list, sizeof(list), &used, 0x0801, TP_MAM_ASCII, "x", 33, 32, &e), -EINVAL);
	assert_int_equal(tp_mam_append(list, sizeof(list), &used, 0x0801, 3, "x", 1, 32, &e), -EINVAL);
	size_t full = 500;
	assert_int_equal(tp_mam_append(list, sizeof(list), &full, 0x0801, TP_MAM_ASCII, "x", 1, 32, &e), -ENOSPC);

	/* parse it back as a READ ATTRIBUTE reply; mark the first read-only */
	list[6] |= 0x80;
	struct mam_seen m = { 0 };
	assert_int_equal(tp_mam_parse(list, used, mam_cb, &m, &e), 2);
	assert_int_equal(m.ids[0], 0x0800);
	assert_true(m.ro[0]);
	assert_string_equal(m.text[0], "Proxmox ");
	assert_int_equal(m.ids[1], 0x0808);
	assert_false(m.ro[1]);
	assert_string_equal(m.text[1], "pool-a");
	/* cut inside the second attribute: only the first is delivered */
	memset(&m, 0, sizeof(m));
	assert_int_equal(tp_mam_parse(list, used - 10, mam_cb, &m, &e), 1);
	assert_int_equal(tp_mam_parse(list, 3, mam_cb, &m, &e), -TP_EFORMAT);
}

static void test_encryption_pages(void **state)
{
	(void)state;
	tp_err e = { 0 };
	uint8_t key[32];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0xa0 + i);
	uint8_t page[64];
	int n = tp_spout_set_encryption_build(TP_ENC_MODE_ENCRYPT, TP_DEC_MODE_MIXED, 1, key, 32, page, sizeof(page), &e);
	assert_int_equal(n, 52);
	static const uint8_t hdr[20] = { 0x00, 0x10, 0x00, 48, 0x40, 0x00, 0x02, 0x03, 0x01, 0x00,
					 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x20 };
	assert_memory_equal(page, hdr, 20);
	assert_memory_equal(page + 20, key, 32);
	/* clearing: modes 0/0 and no key */
	n = tp_spout_set_encryption_build(0, 0, 1, NULL, 0, page, sizeof(page), &e);
	assert_int_equal(n, 20);
	static const uint8_t clr[20] = { 0x00, 0x10, 0x00, 16, 0x40, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	assert_memory_equal(page, clr, 20);
	assert_int_equal(tp_spout_set_encryption_build(2, 3, 1, key, 32, page, 51, &e), -ENOSPC);
	assert_int_equal(tp_spout_set_encryption_build(3, 3, 1, key, 32, page, sizeof(page), &e), -EINVAL);
	assert_int_equal(tp_spout_set_encryption_build(2, 3, 1, NULL, 32, page, sizeof(page), &e), -EINVAL);

	/* status page: scope 2 (all I_T) / key scope 0, mixed decryption, VCELB */
	uint8_t st[24] = { 0x00, 0x20, 0x00, 20, 0x40, 0x02, 0x03, 0x01, 0, 0, 0, 5, 0x08 };
	tp_enc_status s;
	assert_int_equal(tp_spin_status_parse(st, sizeof(st), &s, &e), 0);
	assert_int_equal(s.it_nexus_scope, 2);
	assert_int_equal(s.key_scope, 0);
	assert_int_equal(s.enc_mode, 2);
	assert_int_equal(s.dec_mode, TP_DEC_MODE_MIXED);
	assert_int_equal(s.alg_index, 1);
	assert_int_equal(s.key_instance, 5);
	assert_true(s.vcelb);
	assert_false(s.rdmd);
	assert_int_equal(tp_spin_status_parse(st, 12, &s, &e), -TP_EFORMAT);
	st[1] = 0x10;
	assert_int_equal(tp_spin_status_parse(st, sizeof(st), &s, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "0x0010"));

	/* capabilities: two descriptors of 24 bytes (descriptor length 20); index 2 is AES-GCM-256 in hardware */
	uint8_t cap[20 + 48];
	memset(cap, 0, sizeof(cap));
	cap[1] = 0x10;
	cap[3] = (uint8_t)(sizeof(cap) - 4);
	cap[4] = 0x01; /* CFG_P */
	uint8_t *d = cap + 20;
	d[0] = 1; d[3] = 20; d[4] = 0x05; d[11] = 32; /* software only */
	d[20] = 0x00; d[21] = 0x01; d[22] = 0x00; d[23] = 0x14;
	d = cap + 44;
	d[0] = 2; d[3] = 20; d[4] = 0xca; d[11] = 32; /* AVFMV, SDK_C?, decrypt 2, encrypt 2 */
	d[20] = 0x00; d[21] = 0x01; d[22] = 0x00; d[23] = 0x14;
	tp_enc_alg algs[4];
	uint8_t cfg_p = 9;
	n = tp_spin_capabilities_parse(cap, sizeof(cap), algs, 4, &cfg_p, &e);
	assert_int_equal(n, 2);
	assert_int_equal(cfg_p, 1);
	assert_int_equal(algs[0].index, 1);
	assert_int_equal(algs[0].encrypt_c, 1);
	assert_int_equal(algs[0].decrypt_c, 1);
	assert_int_equal(algs[1].index, 2);
	assert_true(algs[1].avfmv);
	assert_true(algs[1].sdk_c);
	assert_false(algs[1].mac_c);
	assert_int_equal(algs[1].encrypt_c, 2);
	assert_int_equal(algs[1].decrypt_c, 2);
	assert_int_equal(algs[1].key_size, 32);
	assert_int_equal(algs[1].alg_code, TP_ENC_ALG_AES256_GCM);
	assert_int_equal(tp_spin_find_aes_gcm(algs, 2, &e), 2);
	assert_int_equal(tp_spin_find_aes_gcm(algs, 1, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "AES-256-GCM"));
	/* a descriptor shorter than 24 bytes, and one overrunning the page */
	cap[20 + 3] = 8;
	assert_int_equal(tp_spin_capabilities_parse(cap, sizeof(cap), algs, 4, NULL, &e), -TP_EFORMAT);
	cap[20 + 3] = 20;
	assert_int_equal(tp_spin_capabilities_parse(cap, 20 + 30, algs, 4, NULL, &e), -TP_EFORMAT);
	assert_int_equal(tp_spin_capabilities_parse(cap, 19, algs, 4, NULL, &e), -TP_EFORMAT);
}

/* One element descriptor with a primary volume tag and 8 trailing bytes (12 + 36 + 8), as tgt sends. */
static void elem_desc(uint8_t *d, uint16_t addr, int full, const char *tag, int svalid, uint16_t src)
{
	memset(d, 0, 56);
	d[0] = (uint8_t)(addr >> 8);
	d[1] = (uint8_t)addr;
	d[2] = full ? 0x09 : 0x08; /* ACCESS (+ FULL) */
	d[9] = svalid ? 0x80 : 0x00;
	d[10] = (uint8_t)(src >> 8);
	d[11] = (uint8_t)src;
	if (tag)
		put_text(d + 12, 32, tag);
}

static void test_element_status(void **state)
{
	(void)state;
	tp_err e = { 0 };
	/* storage page with 3 slots (2 full), then a drive page with one full drive */
	uint8_t b[8 + 8 + 3 * 56 + 8 + 56];
	memset(b, 0, sizeof(b));
	size_t total = sizeof(b) - 8;
	b[0] = 0x03; b[1] = 0xe8; /* first 1000 */
	b[3] = 4;                 /* elements */
	b[5] = (uint8_t)(total >> 16);
	b[6] = (uint8_t)(total >> 8);
	b[7] = (uint8_t)total;
	uint8_t *p = b + 8;
	p[0] = TP_ELEM_STORAGE;
	p[1] = 0x80; /* PVOLTAG */
	p[3] = 56;
	p[7] = 3 * 56;
	elem_desc(p + 8, 1000, 1, "VTL001L6", 0, 0);
	elem_desc(p + 8 + 56, 1001, 0, NULL, 0, 0);
	elem_desc(p + 8 + 112, 1002, 1, "VTL003L6", 0, 0);
	p += 8 + 3 * 56;
	p[0] = TP_ELEM_DRIVE;
	p[1] = 0x80;
	p[3] = 56;
	p[7] = 56;
	elem_desc(p + 8, 500, 1, "VTL002L6", 1, 1001);
	p[8 + 2] |= 0x04; /* EXCEPT */
	p[8 + 4] = 0x30;
	p[8 + 5] = 0x03;

	tp_element *el;
	size_t n;
	assert_int_equal(tp_element_status_parse(b, sizeof(b), &el, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_int_equal(el[0].type, TP_ELEM_STORAGE);
	assert_int_equal(el[0].address, 1000);
	assert_true(el[0].full);
	assert_true(el[0].access);
	assert_string_equal(el[0].volume_tag, "VTL001L6");
	assert_int_equal(el[1].address, 1001);
	assert_false(el[1].full);
	assert_string_equal(el[1].volume_tag, "");
	assert_string_equal(el[2].volume_tag, "VTL003L6");
	assert_int_equal(el[3].type, TP_ELEM_DRIVE);
	assert_int_equal(el[3].address, 500);
	assert_true(el[3].svalid);
	assert_int_equal(el[3].source, 1001);
	assert_true(el[3].except);
	assert_int_equal(el[3].asc, 0x30);
	assert_int_equal(el[3].ascq, 0x03);
	assert_string_equal(el[3].volume_tag, "VTL002L6");
	assert_false(el[3].truncated);
	free(el);

	/* tgt: the reply is 8 bytes shorter than announced; the last tag still arrives */
	assert_int_equal(tp_element_status_parse(b, sizeof(b) - 8, &el, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_true(el[3].truncated);
	assert_string_equal(el[3].volume_tag, "VTL002L6");
	assert_int_equal(el[3].source, 1001);
	free(el);
	/* cut into the tag: descriptor kept, tag dropped */
	assert_int_equal(tp_element_status_parse(b, sizeof(b) - 20, &el, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_string_equal(el[3].volume_tag, "");
	free(el);
	/* cut into the 12 fixed bytes: descriptor dropped */
	assert_int_equal(tp_element_status_parse(b, sizeof(b) - 50, &el, &n, &e), 0);
	assert_int_equal(n, 3);
	free(el);

	/* drive with DVCID (no volume tags): ASCII identifier after the 12 bytes */
	uint8_t dv[8 + 8 + 36];
	memset(dv, 0, sizeof(dv));
	dv[7] = 8 + 36;
	dv[8] = TP_ELEM_DRIVE;
	dv[8 + 3] = 36;
	dv[8 + 7] = 36;
	uint8_t *dd = dv + 16;
	dd[0] = 0x01; dd[1] = 0xf4;
	dd[12] = 0x02; dd[13] = 0x01; dd[15] = 20;
	put_text(dd + 16, 20, "IBM ULT3580 12345");
	assert_int_equal(tp_element_status_parse(dv, sizeof(dv), &el, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(el[0].dvcid, "IBM ULT3580 12345");
	assert_string_equal(el[0].volume_tag, "");
	free(el);

	/* errors */
	assert_int_equal(tp_element_status_parse(b, 7, &el, &n, &e), -TP_EFORMAT);
	assert_null(el);
	b[8 + 3] = 8; /* descriptor length below 12 */
	assert_int_equal(tp_element_status_parse(b, sizeof(b), &el, &n, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "descriptor length 8"));
	assert_null(el);
	assert_int_equal(n, 0);
	/* empty report */
	static const uint8_t empty[8] = { 0 };
	assert_int_equal(tp_element_status_parse(empty, sizeof(empty), &el, &n, &e), 0);
	assert_int_equal(n, 0);
	free(el);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spc_basics),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_space_locate),
		cmocka_unit_test(test_position_and_motion),
		cmocka_unit_test(test_mode_cdbs),
		cmocka_unit_test(test_log_density_mam_security),
		cmocka_unit_test(test_changer_cdbs),
		cmocka_unit_test(test_inquiry_parse),
		cmocka_unit_test(test_position_parse),
		cmocka_unit_test(test_mode_parse_and_select),
		cmocka_unit_test(test_element_address_page),
		cmocka_unit_test(test_density_report),
		cmocka_unit_test(test_tapealert),
		cmocka_unit_test(test_volume_stats),
		cmocka_unit_test(test_mam),
		cmocka_unit_test(test_encryption_pages),
		cmocka_unit_test(test_element_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
