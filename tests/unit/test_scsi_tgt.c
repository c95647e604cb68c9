/* Unit test: the SCSI layer end to end against a private tgtd (iSCSI on 127.0.0.1) emulating a changer and a drive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tape/scsi_cdb.h"
#include "tape/scsi_sense.h"
#include "tape/scsi_transport.h"

#ifndef TAPIR_FIXTURES
#define TAPIR_FIXTURES "tests/fixtures"
#endif

#define TIMEOUT_MS 30000

static struct {
	int skipped;
	char dir[64];
	char script[1024];
	char changer_url[256];
	char drive_url[256];
	char barcodes[2][16];
	tp_scsi_dev *chg;
	tp_scsi_dev *drv;
} g;

static const char *script_path(void)
{
	const char *fx = getenv("TAPIR_FIXTURES");
	if (!fx || !*fx)
		fx = TAPIR_FIXTURES;
	snprintf(g.script, sizeof(g.script), "%s/../e2e/tgt-lib.sh", fx);
	return g.script;
}

static int lib_cmd(const char *what, char *out, size_t cap)
{
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "bash '%s' %s '%s' 4 2 1 2>&1", script_path(), what, g.dir);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return st == 0 ? 0 : -1;
}

static void env_value(const char *text, const char *key, char *out, size_t cap)
{
	out[0] = 0;
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
			const char *v = l + kl + 1;
			size_t n = strcspn(v, "\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return;
		}
	}
}

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_scsi_tgt: tgtd needs root (run the tests as root to exercise the SCSI layer)\n");
		g.skipped = 1;
		return 0;
	}
	snprintf(g.dir, sizeof(g.dir), "/tmp/tapir-tgt.XXXXXX");
	if (!mkdtemp(g.dir)) {
		fprintf(stderr, "mkdtemp failed\n");
		return -1;
	}
	char out[4096];
	if (lib_cmd("start", out, sizeof(out)) < 0) {
		fprintf(stderr, "starting tgt failed:\n%s\n", out);
		return -1;
	}
	env_value(out, "TGT_CHANGER_URL", g.changer_url, sizeof(g.changer_url));
	env_value(out, "TGT_DRIVE_URL", g.drive_url, sizeof(g.drive_url));
	char bcs[64];
	env_value(out, "TGT_BARCODES", bcs, sizeof(bcs));
	if (sscanf(bcs, "'%15s %15[^']'", g.barcodes[0], g.barcodes[1]) != 2 || !g.changer_url[0] || !g.drive_url[0]) {
		fprintf(stderr, "unexpected tgt-lib output:\n%s\n", out);
		lib_cmd("stop", out, sizeof(out));
		return -1;
	}
	tp_err e = { 0 };
	if (tp_scsi_open(g.changer_url, &g.chg, &e) < 0 || tp_scsi_open(g.drive_url, &g.drv, &e) < 0) {
		fprintf(stderr, "open: %s\n", e.msg);
		tp_scsi_close(g.chg);
		g.chg = NULL;
		lib_cmd("stop", out, sizeof(out));
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (g.skipped)
		return 0;
	tp_scsi_close(g.drv);
	tp_scsi_close(g.chg);
	char out[4096];
	if (lib_cmd("stop", out, sizeof(out)) < 0) {
		fprintf(stderr, "stopping tgt failed:\n%s\n", out);
		return -1;
	}
	return 0;
}

#define SKIP_IF_NOT_ROOT()          \
	do {                        \
		if (g.skipped)      \
			skip();     \
	} while (0)

/* Runs a CDB; a UNIT ATTENTION (first command per LUN, reset) is retried once, as drivers do. */
static int run(tp_scsi_dev *d, const tp_cdb *c, uint8_t *buf, size_t len, tp_scsi_result *res, tp_sense *s,
	       enum tp_sense_class *cls, tp_err *e)
{
	int rc = tp_scsi_run(d, c, buf, len, TIMEOUT_MS, res, s, cls, e);
	if (rc < 0 && *cls == TP_SENSE_UNIT_ATTENTION)
		rc = tp_scsi_run(d, c, buf, len, TIMEOUT_MS, res, s, cls, e);
	return rc;
}

static void good(tp_scsi_dev *d, const tp_cdb *c, uint8_t *buf, size_t len, tp_scsi_result *res)
{
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	tp_scsi_result lres;
	if (!res)
		res = &lres;
	if (run(d, c, buf, len, res, &s, &cls, &e) != 0)
		fail_msg("%s: %s", c->name, e.msg);
}

/* Runs a command that must end in CHECK CONDITION of class want; returns the sense. */
static tp_sense expect_class(tp_scsi_dev *d, const tp_cdb *c, uint8_t *buf, size_t len, enum tp_sense_class want,
			     tp_scsi_result *res)
{
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	tp_scsi_result lres;
	if (!res)
		res = &lres;
	int rc = run(d, c, buf, len, res, &s, &cls, &e);
	if (rc != -EIO || cls != want)
		fail_msg("%s: rc %d class %s, want %s (%s)", c->name, rc, tp_sense_class_name(cls), tp_sense_class_name(want),
			 e.msg);
	assert_int_equal(res->status, TP_SCSI_STATUS_CHECK_CONDITION);
	assert_non_null(strstr(e.msg, c->name));
	return s;
}

static void wait_ready(tp_scsi_dev *d)
{
	tp_cdb c;
	tp_cdb_test_unit_ready(&c);
	for (int i = 0; i < 50; i++) {
		tp_sense s;
		enum tp_sense_class cls;
		tp_err e = { 0 };
		tp_scsi_result res;
		if (tp_scsi_run(d, &c, NULL, 0, TIMEOUT_MS, &res, &s, &cls, &e) == 0)
			return;
		if (cls != TP_SENSE_UNIT_ATTENTION && cls != TP_SENSE_BECOMING_READY)
			fail_msg("drive not ready: %s", e.msg);
		usleep(100000);
	}
	fail_msg("drive did not become ready");
}

static void test_inquiry(void **state)
{
	(void)state;
	SKIP_IF_NOT_ROOT();
	tp_cdb c;
	uint8_t buf[255];
	tp_scsi_result res;
	tp_inquiry q;
	tp_err e = { 0 };
	assert_int_equal(tp_cdb_inquiry(&c, 0, 0, sizeof(buf), &e), 0);
	good(g.chg, &c, buf, sizeof(buf), &res);
	assert_int_equal(tp_inquiry_parse(buf, res.transferred, &q, &e), 0);
	assert_int_equal(q.type, TP_PDT_CHANGER);
	assert_string_equal(q.product, "VIRTUAL-CHANGER");
	good(g.drv, &c, buf, sizeof(buf), &res);
	assert_int_equal(tp_inquiry_parse(buf, res.transferred, &q, &e), 0);
	assert_int_equal(q.type, TP_PDT_TAPE);
	assert_true(q.removable);
	assert_string_equal(q.vendor, "IET");

	/* VPD 80h: tgt pads the serial on the left */
	char serial[65];
	assert_int_equal(tp_cdb_inquiry(&c, 1, 0x80, sizeof(buf), &e), 0);
	good(g.drv, &c, buf, sizeof(buf), &res);
	assert_int_equal(tp_vpd_serial_parse(buf, res.transferred, serial, sizeof(serial), &e), 0);
	assert_string_equal(serial, "TAPIRDRV00");
	good(g.chg, &c, buf, sizeof(buf), &res);
	assert_int_equal(tp_vpd_serial_parse(buf, res.transferred, serial, sizeof(serial), &e), 0);
	assert_string_equal(serial, "TAPIRCHGR01");
}

static void test_unit_ready(void **state)
{
	(void)state;
	SKIP_IF_NOT_ROOT();
	tp_cdb c;
	tp_cdb_test_unit_ready(&c);
	good(g.chg, &c, NULL, 0, NULL);
	/* the empty drive: NOT READY 3A/00 */
	tp_sense s = expect_class(g.drv, &c, NULL, 0, TP_SENSE_NO_MEDIUM, NULL);
	assert_int_equal(s.key, TP_SK_NOT_READY);
	assert_int_equal(s.asc, 0x3a);
	/* REQUEST SENSE answers with GOOD and fixed-format data */
	uint8_t buf[252];
	tp_scsi_result res;
	tp_cdb_request_sense(&c, 0, sizeof(buf));
	good(g.drv, &c, buf, sizeof(buf), &res);
	tp_sense rs;
	assert_int_equal(tp_sense_parse(buf, res.transferred, &rs, NULL), 0);
	assert_int_equal(rs.response_code, 0x70);
}

static int find_elem(const tp_element *el, size_t n, uint16_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (el[i].address == addr)
			return (int)i;
	return -1;
}

static size_t element_status(enum tp_element_type type, uint16_t start, tp_element **el)
{
	tp_cdb c;
	tp_err e = { 0 };
	uint8_t buf[4096];
	tp_scsi_result res;
	assert_int_equal(tp_cdb_read_element_status(&c, type, 1, start, 64, 0, 0, sizeof(buf), &e), 0);
	good(g.chg, &c, buf, sizeof(buf), &res);
	size_t n;
	if (tp_element_status_parse(buf, res.transferred, el, &n, &e) != 0)
		fail_msg("%s", e.msg);
	return n;
}

static void test_changer_status(void **state)
{
	(void)state;
	SKIP_IF_NOT_ROOT();
	tp_cdb c;
	tp_err e = { 0 };
	uint8_t buf[255];
	tp_scsi_result res;
	assert_int_equal(tp_cdb_mode_sense6(&c, 1, 0, TP_MODE_PAGE_ELEMENT_ADDRESS, 0, sizeof(buf), &e), 0);
	good(g.chg, &c, buf, sizeof(buf), &res);
	tp_mode_data md;
	assert_int_equal(tp_mode_parse(buf, res.transferred, 0, &md, &e), 0);
	const uint8_t *pg;
	size_t plen;
	assert_int_equal(tp_mode_find_page(buf, &md, TP_MODE_PAGE_ELEMENT_ADDRESS, 0, &pg, &plen, &e), 0);
	tp_element_addresses a;
	assert_int_equal(tp_element_addresses_parse(pg, plen, &a, &e), 0);
	assert_int_equal(a.transport_first, 1);
	assert_int_equal(a.storage_first, 1000);
	assert_int_equal(a.storage_count, 4);
	assert_int_equal(a.ie_first, 10);
	assert_int_equal(a.ie_count, 2);
	assert_int_equal(a.drive_first, 500);
	assert_int_equal(a.drive_count, 1);

	tp_cdb_initialize_element_status(&c);
	good(g.chg, &c, NULL, 0, NULL);

	tp_element *el;
	size_t n = element_status(TP_ELEM_STORAGE, 1000, &el);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(el[i].type, TP_ELEM_STORAGE);
		assert_int_equal(el[i].address, 1000 + i);
	}
	assert_true(el[0].full);
	assert_string_equal(el[0].volume_tag, g.barcodes[0]);
	assert_true(el[1].full);
	assert_string_equal(el[1].volume_tag, g.barcodes[1]);
	assert_false(el[2].full);
	assert_string_equal(el[2].volume_tag, "");
	assert_false(el[3].full);
	free(el);
	n = element_status(TP_ELEM_DRIVE, 500, &el);
	assert_int_equal(n, 1);
	assert_int_equal(el[0].address, 500);
	assert_false(el[0].full);
	free(el);
	n = element_status(TP_ELEM_IMPORT_EXPORT, 10, &el);
	assert_int_equal(n, 2);
	assert_int_equal(el[1].address, 11);
	free(el);
}

static void move(uint16_t src, uint16_t dst)
{
	tp_cdb c;
	tp_cdb_move_medium(&c, 1, src, dst, 0);
	good(g.chg, &c, NULL, 0, NULL);
}

static void test_load_drive(void **state)
{
	(void)state;
	SKIP_IF_NOT_ROOT();
	move(1000, 500);
	tp_element *el;
	size_t n = element_status(TP_ELEM_DRIVE, 500, &el);
	assert_int_equal(n, 1);
	assert_true(el[0].full);
	assert_string_equal(el[0].volume_tag, g.barcodes[0]);
	assert_true(el[0].svalid);
	assert_int_equal(el[0].source, 1000);
	free(el);
	n = element_status(TP_ELEM_STORAGE, 1000, &el);
	assert_false(el[find_elem(el, n, 1000)].full);
	free(el);
	wait_ready(g.drv);

	/* drive parameters: block limits, mode sense, variable block mode by MODE SELECT(6) */
	tp_cdb c;
	tp_err e = { 0 };
	uint8_t buf[255];
	tp_scsi_result res;
	tp_cdb_read_block_limits(&c);
	good(g.drv, &c, buf, 6, &res);
	tp_block_limits bl;
	assert_int_equal(tp_block_limits_parse(buf, res.transferred, &bl, &e), 0);
	assert_int_equal(bl.max_block, 1048576);
	assert_int_equal(tp_cdb_mode_sense6(&c, 0, 0, TP_MODE_PAGE_COMPRESSION, 0, sizeof(buf), &e), 0);
	good(g.drv, &c, buf, sizeof(buf), &res);
	tp_mode_data md;
	assert_int_equal(tp_mode_parse(buf, res.transferred, 0, &md, &e), 0);
	assert_true(md.has_block_desc);
	assert_int_equal(md.buffered_mode, 1);
	const uint8_t *pg;
	size_t plen;
	assert_int_equal(tp_mode_find_page(buf, &md, TP_MODE_PAGE_COMPRESSION, 0, &pg, &plen, &e), 0);
	tp_compression_page cp;
	assert_int_equal(tp_compression_page_parse(pg, plen, &cp, &e), 0);
	uint8_t list[16];
	int len = tp_mode_select_build(0, 1, 1, md.density, 0, NULL, 0, list, sizeof(list), &e);
	assert_int_equal(len, 12);
	tp_cdb_mode_select6(&c, 1, 0, (uint8_t)len);
	good(g.drv, &c, list, (size_t)len, NULL);
	assert_int_equal(tp_cdb_mode_sense6(&c, 0, 0, TP_MODE_PAGE_COMPRESSION, 0, sizeof(buf), &e), 0);
	good(g.drv, &c, buf, sizeof(buf), &res);
	assert_int_equal(tp_mode_parse(buf, res.transferred, 0, &md, &e), 0);
	assert_int_equal(md.block_len, 0);
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void write_block(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n);
	assert_non_null(b);
	pattern(b, n, seed);
	tp_cdb c;
	assert_int_equal(tp_cdb_write6(&c, 0, (uint32_t)n, NULL), 0);
	good(g.drv, &c, b, n, NULL);
	free(b);
}

static void filemark(int immed)
{
	tp_cdb c;
	assert_int_equal(tp_cdb_write_filemarks6(&c, immed, 1, NULL), 0);
	good(g.drv, &c, NULL, 0, NULL);
}

static void rewind_drive(void)
{
	tp_cdb c;
	tp_cdb_rewind(&c, 0);
	good(g.drv, &c, NULL, 0, NULL);
}

/*
 * Reads the next block with a 256 KiB buffer and SILI, and returns its length
 * from the sense data (tgt ignores SILI and reports ILI, its residual is
 * wrong), or -1 for a filemark, -2 for EOD.
 */
static long read_next(uint8_t *buf, size_t cap)
{
	tp_cdb c;
	assert_int_equal(tp_cdb_read6(&c, 0, 1, (uint32_t)cap, NULL), 0);
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	tp_scsi_result res;
	int rc = run(g.drv, &c, buf, cap, &res, &s, &cls, &e);
	if (rc == 0)
		return (long)res.transferred;
	switch (cls) {
	case TP_SENSE_ILI:
		assert_true(s.info_valid);
		assert_true(s.info > 0);
		return (long)(cap - (size_t)tp_sense_residual(&s));
	case TP_SENSE_FILEMARK:
		return -1;
	case TP_SENSE_EOD:
		return -2;
	default:
		fail_msg("READ: %s", e.msg);
	}
	return -3;
}

static void expect_block(uint8_t *buf, size_t cap, size_t n, unsigned seed)
{
	long got = read_next(buf, cap);
	assert_int_equal(got, (long)n);
	uint8_t *want = malloc(n);
	assert_non_null(want);
	pattern(want, n, seed);
	assert_memory_equal(buf, want, n);
	free(want);
}

static void test_write_read_space(void **state)
{
	(void)state;
	SKIP_IF_NOT_ROOT();
	size_t cap = 262144;
	uint8_t *buf = malloc(cap);
	assert_non_null(buf);
	rewind_drive();
	write_block(65536, 1);
	write_block(32768, 2);
	filemark(0);
	write_block(1000, 3);
	filemark(1);
	rewind_drive();

	expect_block(buf, cap, 65536, 1);
	/* exact-length read without SILI: GOOD */
	tp_cdb c;
	tp_scsi_result res;
	assert_int_equal(tp_cdb_read6(&c, 0, 0, 32768, NULL), 0);
	good(g.drv, &c, buf, 32768, &res);
	assert_int_equal(res.transferred, 32768);
	uint8_t *want = malloc(32768);
	pattern(want, 32768, 2);
	assert_memory_equal(buf, want, 32768);
	free(want);
	assert_int_equal(read_next(buf, cap), -1);
	expect_block(buf, cap, 1000, 3);
	assert_int_equal(read_next(buf, cap), -1);
	/* end of data: tgt sends BLANK CHECK with EOM and ASC 00/00 */
	assert_int_equal(tp_cdb_read6(&c, 0, 1, (uint32_t)cap, NULL), 0);
	tp_sense s = expect_class(g.drv, &c, buf, cap, TP_SENSE_EOD, NULL);
	assert_int_equal(s.key, TP_SK_BLANK_CHECK);

	/* SPACE over the first filemark, then the third block is next */
	rewind_drive();
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_FILEMARKS, 1, NULL), 0);
	good(g.drv, &c, NULL, 0, NULL);
	expect_block(buf, cap, 1000, 3);
	/* SPACE to EOD, then reading hits EOD */
	rewind_drive();
	assert_int_equal(tp_cdb_space6(&c, TP_SCSI_SPACE_EOD, 0, NULL), 0);
	good(g.drv, &c, NULL, 0, NULL);
	assert_int_equal(read_next(buf, cap), -2);
	/* a 512-byte read of the 64 KiB block: ILI with a negative INFO (block longer than asked) */
	rewind_drive();
	assert_int_equal(tp_cdb_read6(&c, 0, 1, 512, NULL), 0);
	s = expect_class(g.drv, &c, buf, 512, TP_SENSE_ILI, NULL);
	assert_true(s.info_valid);
	assert_int_equal(s.info, 512 - 65536);
	/* the position moved past that block */
	expect_block(buf, cap, 32768, 2);
	free(buf);
}

static int count_attr(void *ctx, const tp_mam_attr *a)
{
	(void)a;
	(*(int *)ctx)++;
	return 0;
}

/* Commands tgt lacks must come back as ILLEGAL REQUEST (or, in a tgt that has them, parse). */
static void test_unsupported_or_parsed(void **state)
{
	(void)state;
	SKIP_IF_NOT_ROOT();
	tp_cdb c;
	tp_err e = { 0 };
	uint8_t *buf = calloc(1, 65536);
	assert_non_null(buf);
	tp_scsi_result res;
	tp_sense s;
	enum tp_sense_class cls;

	assert_int_equal(tp_cdb_locate16(&c, TP_LOCATE_FILEMARK, 0, 0, 0, 1, &e), 0);
	if (run(g.drv, &c, NULL, 0, &res, &s, &cls, &e) != 0)
		assert_int_equal(cls, TP_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(tp_cdb_space16(&c, TP_SCSI_SPACE_FILEMARKS, 1, &e), 0);
	if (run(g.drv, &c, NULL, 0, &res, &s, &cls, &e) != 0)
		assert_int_equal(cls, TP_SENSE_ILLEGAL_REQUEST);

	rewind_drive();
	assert_int_equal(tp_cdb_read_position(&c, TP_READPOS_LONG, 0, &e), 0);
	if (run(g.drv, &c, buf, TP_READPOS_LONG_LEN, &res, &s, &cls, &e) == 0) {
		tp_position p;
		assert_int_equal(tp_position_parse_long(buf, res.transferred, &p, &e), 0);
		assert_int_equal(p.partition, 0);
		assert_int_equal(p.object, 0); /* at BOT (tgt's stub says 0 everywhere) */
	} else {
		assert_int_equal(cls, TP_SENSE_ILLEGAL_REQUEST);
	}

	assert_int_equal(tp_cdb_log_sense(&c, 0, 1, TP_LOG_PAGE_TAPEALERT, 0, 0, 1024, &e), 0);
	if (run(g.drv, &c, buf, 1024, &res, &s, &cls, &e) == 0) {
		uint64_t flags;
		assert_int_equal(tp_tapealert_parse(buf, res.transferred, &flags, &e), 0);
	} else {
		assert_int_equal(cls, TP_SENSE_ILLEGAL_REQUEST);
		assert_int_equal(s.asc, 0x20);
	}
	tp_cdb_read_attribute(&c, 0, 0, 0, 0, 65536);
	int attrs = 0;
	if (run(g.drv, &c, buf, 65536, &res, &s, &cls, &e) == 0)
		assert_int_equal(tp_mam_parse(buf, res.transferred, count_attr, &attrs, &e), attrs);
	else
		assert_int_equal(cls, TP_SENSE_ILLEGAL_REQUEST);
	tp_cdb_security_protocol_in(&c, TP_SECURITY_PROTOCOL_TAPE, TP_SPIN_PAGE_STATUS, 8192);
	if (run(g.drv, &c, buf, 8192, &res, &s, &cls, &e) == 0) {
		tp_enc_status st;
		assert_int_equal(tp_spin_status_parse(buf, res.transferred, &st, &e), 0);
	} else {
		assert_int_equal(cls, TP_SENSE_ILLEGAL_REQUEST);
	}
	tp_cdb_report_density_support(&c, 0, 0, 8192);
	if (run(g.drv, &c, buf, 8192, &res, &s, &cls, &e) == 0) {
		tp_density_desc d[16];
		assert_true(tp_density_report_parse(buf, res.transferred, d, 16, &e) >= 0);
	} else {
		assert_int_equal(cls, TP_SENSE_ILLEGAL_REQUEST);
	}
	free(buf);
}

static void test_changer_errors_and_unload(void **state)
{
	(void)state;
	SKIP_IF_NOT_ROOT();
	tp_cdb c;
	tp_sense s;
	/* PREVENT MEDIUM REMOVAL keeps the changer from taking the tape: 53/02 */
	tp_cdb_prevent_allow(&c, 1);
	good(g.drv, &c, NULL, 0, NULL);
	tp_cdb_move_medium(&c, 1, 500, 1000, 0);
	s = expect_class(g.chg, &c, NULL, 0, TP_SENSE_ILLEGAL_REQUEST, NULL);
	assert_int_equal(s.asc, 0x53);
	assert_int_equal(s.ascq, 0x02);
	tp_cdb_prevent_allow(&c, 0);
	good(g.drv, &c, NULL, 0, NULL);
	tp_cdb_load_unload(&c, 0, 0, 0, 0, 0);
	good(g.drv, &c, NULL, 0, NULL);
	move(500, 1000);
	tp_cdb_test_unit_ready(&c);
	expect_class(g.drv, &c, NULL, 0, TP_SENSE_NO_MEDIUM, NULL);
	/* source empty 3B/0E, destination full 3B/0D */
	tp_cdb_move_medium(&c, 1, 1003, 500, 0);
	s = expect_class(g.chg, &c, NULL, 0, TP_SENSE_ILLEGAL_REQUEST, NULL);
	assert_int_equal(s.asc, 0x3b);
	assert_int_equal(s.ascq, 0x0e);
	tp_cdb_move_medium(&c, 1, 1001, 1000, 0);
	s = expect_class(g.chg, &c, NULL, 0, TP_SENSE_ILLEGAL_REQUEST, NULL);
	assert_int_equal(s.ascq, 0x0d);
	/* the data survived the round trip through the slot */
	move(1000, 500);
	wait_ready(g.drv);
	rewind_drive();
	uint8_t *buf = malloc(262144);
	assert_non_null(buf);
	expect_block(buf, 262144, 65536, 1);
	free(buf);
	move(500, 1000);
	tp_element *el;
	size_t n = element_status(TP_ELEM_STORAGE, 1000, &el);
	assert_int_equal(n, 4);
	assert_true(el[0].full);
	assert_string_equal(el[0].volume_tag, g.barcodes[0]);
	free(el);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inquiry),
		cmocka_unit_test(test_unit_ready),
		cmocka_unit_test(test_changer_status),
		cmocka_unit_test(test_load_drive),
		cmocka_unit_test(test_write_read_space),
		cmocka_unit_test(test_unsupported_or_parsed),
		cmocka_unit_test(test_changer_errors_and_unload),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
