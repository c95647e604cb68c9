/* Unit test: the lto backend against an in-memory SCSI tape device (mock transport): MAM at labelling, TapeAlert before writing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "tape/drive_diag.h"
#include "tape/drive_config.h"
#include "tape/tape_session.h"

/* ---- the mock device: one tape drive, its cartridge as a list of blocks and filemarks ---- */

#define MAX_OBJ 256
#define MAX_OPS 512

enum { LOG_NONE, LOG_PAGE12, LOG_PAGE2E_ONLY };
enum { MAM_ACCEPT, MAM_NO_COMMAND };

struct obj {
	int fm;
	size_t len;
	uint8_t *data;
};

static struct {
	struct obj o[MAX_OBJ];
	size_t n, pos;
	int loaded;
	int log_mode;
	uint64_t flags; /* TapeAlert, bit n-1 = flag n */
	int mam_mode;
	uint8_t mam_cdb[16];
	uint8_t mam[1024];
	size_t mam_len;
	int mam_writes;
	uint8_t ops[MAX_OPS];     /* opcodes in order */
	uint8_t log_pages[MAX_OPS]; /* page of each LOG SENSE */
	size_t nops, nlog;
} T;

static void mock_reset(int log_mode, uint64_t flags, int mam_mode)
{
	for (size_t i = 0; i < T.n; i++)
		free(T.o[i].data);
	memset(&T, 0, sizeof(T));
	T.loaded = 1;
	T.log_mode = log_mode;
	T.flags = flags;
	T.mam_mode = mam_mode;
}

static size_t count_op(uint8_t op)
{
	size_t c = 0;
	for (size_t i = 0; i < T.nops; i++)
		c += T.ops[i] == op;
	return c;
}

/* LOG SENSE reads of a TapeAlert page (12h or 2Eh; volume statistics 17h do not count) */
static size_t alert_reads(void)
{
	size_t c = 0;
	for (size_t i = 0; i < T.nlog; i++)
		c += T.log_pages[i] == 0x12 || T.log_pages[i] == 0x2e;
	return c;
}

static uint8_t last_alert_page(void)
{
	uint8_t p = 0;
	for (size_t i = 0; i < T.nlog; i++)
		if (T.log_pages[i] == 0x12 || T.log_pages[i] == 0x2e)
			p = T.log_pages[i];
	return p;
}

static void truncate_at(size_t pos)
{
	while (T.n > pos) {
		T.n--;
		free(T.o[T.n].data);
		T.o[T.n].data = NULL;
	}
}

/* Fixed-format sense: key, ASC/ASCQ, FM/EOM/ILI bits and a valid INFO when info_valid. */
static int check(tp_scsi_result *res, uint8_t key, uint8_t asc, uint8_t ascq, uint8_t bits, int info_valid,
		 int32_t info)
{
	memset(res->sense, 0, 18);
	res->sense[0] = 0x70 | (info_valid ? 0x80 : 0);
	res->sense[2] = (uint8_t)(key | bits);
	res->sense[3] = (uint8_t)((uint32_t)info >> 24);
	res->sense[4] = (uint8_t)((uint32_t)info >> 16);
	res->sense[5] = (uint8_t)((uint32_t)info >> 8);
	res->sense[6] = (uint8_t)info;
	res->sense[7] = 10;
	res->sense[12] = asc;
	res->sense[13] = ascq;
	res->sense_len = 18;
	res->status = TP_SCSI_STATUS_CHECK_CONDITION;
	return 0;
}

static int illegal(tp_scsi_result *res, uint8_t asc)
{
	return check(res, 0x05, asc, 0, 0, 0, 0);
}

static int good(tp_scsi_result *res, size_t len, size_t transferred)
{
	res->status = TP_SCSI_STATUS_GOOD;
	res->transferred = transferred;
	res->residual = len - transferred;
	return 0;
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static int32_t sbe24(const uint8_t *p)
{
	uint32_t v = be24(p);
	return v & 0x800000 ? (int32_t)(v | 0xff000000u) : (int32_t)v;
}

static int log_sense(const uint8_t *cdb, uint8_t *buf, size_t len, tp_scsi_result *res)
{
	uint8_t page = cdb[2] & 0x3f;
	T.log_pages[T.nlog++] = page;
	if (T.log_mode == LOG_NONE)
		return illegal(res, 0x20);
	uint8_t p[4 + 64 * 5];
	size_t n;
	memset(p, 0, sizeof(p));
	if (page == TP_LOG_PAGE_TAPEALERT_RESPONSE && T.log_mode == LOG_PAGE12) {
		/* one parameter 0000h with the 64-bit bitmap, MSB of the first byte = flag 1 */
		p[0] = 0x12;
		p[3] = 12;
		p[6] = 0x03;
		p[7] = 8;
		for (int f = 1; f <= 64; f++)
			if (T.flags & (1ull << (f - 1)))
				p[8 + (f - 1) / 8] |= (uint8_t)(0x80 >> ((f - 1) % 8));
		n = 16;
	} else if (page == TP_LOG_PAGE_TAPEALERT) {
		/* 64 parameters of one byte; reading the page clears the flags (SSC-2) */
		p[0] = 0x2e;
		p[2] = (64 * 5) >> 8;
		p[3] = (64 * 5) & 0xff;
		for (int f = 1; f <= 64; f++) {
			uint8_t *q = p + 4 + (f - 1) * 5;
			q[1] = (uint8_t)f;
			q[3] = 1;
			q[4] = (T.flags >> (f - 1)) & 1;
		}
		T.flags = 0;
		n = 4 + 64 * 5;
	} else {
		return illegal(res, 0x24);
	}
	if (n > len)
		n = len;
	memcpy(buf, p, n);
	return good(res, len, n);
}

static int do_read(const uint8_t *cdb, uint8_t *buf, size_t len, tp_scsi_result *res)
{
	uint32_t want = be24(cdb + 2);
	if (T.pos >= T.n)
		return check(res, 0x08, 0x00, 0x05, 0x40, 0, 0); /* BLANK CHECK, end of data */
	struct obj *o = &T.o[T.pos++];
	if (o->fm)
		return check(res, 0x00, 0x00, 0x01, 0x80, 1, (int32_t)want);
	size_t n = o->len < want ? o->len : want;
	if (n > len)
		n = len;
	memcpy(buf, o->data, n);
	if (o->len == want)
		return good(res, len, n);
	res->transferred = n;
	return check(res, 0x00, 0x00, 0x00, 0x20, 1, (int32_t)want - (int32_t)o->len);
}

static int do_space(const uint8_t *cdb, tp_scsi_result *res)
{
	int code = cdb[1] & 0x07;
	int32_t count = sbe24(cdb + 2);
	if (code == 3) {
		T.pos = T.n;
		return good(res, 0, 0);
	}
	if (count < 0)
		return illegal(res, 0x24); /* the backend tracks positions here: it never spaces backwards */
	for (int32_t i = 0; i < count; i++) {
		if (T.pos >= T.n)
			return check(res, 0x08, 0x00, 0x05, 0x40, 0, count - i);
		struct obj *o = &T.o[T.pos++];
		if (code == 0 && o->fm)
			return check(res, 0x00, 0x00, 0x01, 0x80, 1, count - i - 1);
		if (code == 1 && !o->fm)
			i--;
	}
	return good(res, 0, 0);
}

static int mock_execute(void *h, const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len,
			unsigned timeout_ms, tp_scsi_result *res, tp_err *err)
{
	(void)h;
	(void)cdb_len;
	(void)dir;
	(void)timeout_ms;
	(void)err;
	memset(res, 0, sizeof(*res));
	if (T.nops < MAX_OPS)
		T.ops[T.nops++] = cdb[0];
	switch (cdb[0]) {
	case TP_OP_INQUIRY: {
		uint8_t q[64];
		memset(q, 0, sizeof(q));
		size_t n;
		if (cdb[1] & 1) {
			q[0] = 0x01;
			q[1] = 0x80;
			q[3] = 8;
			memcpy(q + 4, "MOCK0001", 8);
			n = 12;
		} else {
			q[0] = 0x01;
			q[1] = 0x80;
			q[2] = 0x05;
			q[3] = 0x02;
			q[4] = 31;
			memcpy(q + 8, "MOCKVEND", 8);
			memcpy(q + 16, "MOCK LTO-8 DRIVE", 16);
			memcpy(q + 32, "0001", 4);
			n = 36;
		}
		if (n > len)
			n = len;
		memcpy(buf, q, n);
		return good(res, len, n);
	}
	case TP_OP_TEST_UNIT_READY:
		return T.loaded ? good(res, 0, 0) : check(res, 0x02, 0x3a, 0x00, 0, 0, 0);
	case TP_OP_MODE_SENSE6: {
		/* header + one block descriptor (density 5Eh, variable blocks), no compression page */
		uint8_t m[12] = { 11, 0, 0x10, 8, 0x5e, 0, 0, 0, 0, 0, 0, 0 };
		size_t n = len < sizeof(m) ? len : sizeof(m);
		memcpy(buf, m, n);
		return good(res, len, n);
	}
	case TP_OP_MODE_SELECT6:
	case TP_OP_PREVENT_ALLOW:
		return good(res, len, len);
	case TP_OP_LOAD_UNLOAD:
		T.loaded = cdb[4] & 1;
		T.pos = 0;
		return good(res, 0, 0);
	case TP_OP_REWIND:
		T.pos = 0;
		return good(res, 0, 0);
	case TP_OP_READ6:
		return do_read(cdb, buf, len, res);
	case TP_OP_WRITE6: {
		if (T.n >= MAX_OBJ)
			return check(res, 0x0d, 0x00, 0x02, 0x40, 0, 0);
		truncate_at(T.pos);
		uint32_t n = be24(cdb + 2);
		T.o[T.n].fm = 0;
		T.o[T.n].len = n;
		T.o[T.n].data = malloc(n ? n : 1);
		memcpy(T.o[T.n].data, buf, n);
		T.n++;
		T.pos = T.n;
		return good(res, len, len);
	}
	case TP_OP_WRITE_FILEMARKS6: {
		uint32_t n = be24(cdb + 2);
		if (n == 0)
			return good(res, 0, 0); /* a flush */
		truncate_at(T.pos);
		for (uint32_t i = 0; i < n && T.n < MAX_OBJ; i++) {
			T.o[T.n].fm = 1;
			T.o[T.n].len = 0;
			T.o[T.n].data = NULL;
			T.n++;
		}
		T.pos = T.n;
		return good(res, 0, 0);
	}
	case TP_OP_SPACE6:
		return do_space(cdb, res);
	case TP_OP_LOG_SENSE:
		return log_sense(cdb, buf, len, res);
	case TP_OP_WRITE_ATTRIBUTE:
		T.mam_writes++;
		if (T.mam_mode == MAM_NO_COMMAND)
			return illegal(res, 0x20);
		memcpy(T.mam_cdb, cdb, 16);
		T.mam_len = len < sizeof(T.mam) ? len : sizeof(T.mam);
		memcpy(T.mam, buf, T.mam_len);
		return good(res, len, len);
	default:
		/* READ POSITION, LOCATE, SPIN/SPOUT, ...: not there, as on tgt (the position is tracked) */
		return illegal(res, 0x20);
	}
}

static int mock_open(const char *path, void **h, tp_err *err)
{
	(void)path;
	(void)err;
	*h = &T;
	return 0;
}

static void mock_close(void *h)
{
	(void)h;
}

static const tp_scsi_transport_ops mock_ops = {
	.name = "mock-tape", .open = mock_open, .execute = mock_execute, .close = mock_close,
};

/* ---- log capture ---- */

static char logbuf[8192];

static void sink(void *ctx, enum tp_log_level lvl, const char *line)
{
	(void)ctx;
	if (lvl > TP_LOG_WARN)
		return;
	size_t l = strlen(logbuf);
	snprintf(logbuf + l, sizeof(logbuf) - l, "%s\n", line);
}

/* ---- fixture: TAPIR_HOME with a tape.json naming one standalone lto drive on the mock ---- */

static char home[64];

static int setup(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-ltomock-XXXXXX");
	assert_non_null(mkdtemp(home));
	setenv("TAPIR_HOME", home, 1);
	tp_err e = { 0 };
	assert_int_equal(tp_scsi_transport_register("/mocktape/", &mock_ops, &e), 0);
	tp_tape_config c;
	memset(&c, 0, sizeof(c));
	tp_drive_conf d;
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "lto0");
	snprintf(d.type, sizeof(d.type), "lto");
	d.path = "/mocktape/0";
	d.changer_drivenum = -1;
	assert_int_equal(tp_tape_config_add_drive(&c, &d, &e), 0);
	assert_int_equal(tp_tape_config_save(&c, &e), 0);
	tp_tape_config_free(&c);
	tp_log_set_sink(sink, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tp_log_set_sink(NULL, NULL);
	mock_reset(LOG_NONE, 0, MAM_ACCEPT);
	tp_rm_rf(home, NULL);
	return 0;
}

static void open_session(tp_tape_session *s)
{
	tp_err e = { 0 };
	logbuf[0] = 0;
	int r = tp_tape_session_open(s, "lto0", "test", 1000, &e);
	if (r < 0)
		fail_msg("session open: %s", e.msg);
}

static tp_media_label label(const char *text, const char *pool)
{
	tp_media_label l;
	memset(&l, 0, sizeof(l));
	memset(l.uuid, 0x42, 16);
	snprintf(l.label_text, sizeof(l.label_text), "%s", text);
	snprintf(l.pool, sizeof(l.pool), "%s", pool);
	l.ctime = 1700000000;
	return l;
}

static void put_attr(uint8_t *p, size_t *o, uint16_t id, uint8_t fmt, const char *v, uint16_t alen, uint8_t pad)
{
	p[*o] = (uint8_t)(id >> 8);
	p[*o + 1] = (uint8_t)id;
	p[*o + 2] = fmt;
	p[*o + 3] = (uint8_t)(alen >> 8);
	p[*o + 4] = (uint8_t)alen;
	memset(p + *o + 5, pad, alen);
	memcpy(p + *o + 5, v, strlen(v));
	*o += 5 + (size_t)alen;
}

/* ---- tests ---- */

static void test_label_writes_mam(void **state)
{
	(void)state;
	mock_reset(LOG_NONE, 0, MAM_ACCEPT);
	tp_tape_session s;
	open_session(&s);
	tp_media_label ml = label("TPR001L6", "p1");
	tp_err e = { 0 };
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 0, &e), 0);
	assert_int_equal(T.mam_writes, 1);

	/* SPC-4 WRITE ATTRIBUTE: 8Dh, WTC, volume 0, partition 0, parameter list length, control */
	uint8_t list[512];
	size_t n = 4;
	memset(list, 0, sizeof(list));
	put_attr(list, &n, 0x0800, 1, "tapir", 8, ' ');
	put_attr(list, &n, 0x0801, 1, "tapir backup server", 32, ' ');
	put_attr(list, &n, 0x0802, 1, "0.1.0", 8, ' ');
	put_attr(list, &n, 0x0803, 2, "TPR001L6", 160, 0);
	put_attr(list, &n, 0x0808, 2, "p1", 160, 0);
	assert_int_equal(n, 397);
	list[2] = (uint8_t)((n - 4) >> 8);
	list[3] = (uint8_t)(n - 4);
	const uint8_t cdb[16] = { 0x8d, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x01, 0x8d, 0, 0 };
	assert_memory_equal(T.mam_cdb, cdb, 16);
	assert_int_equal(T.mam_len, n);
	assert_memory_equal(T.mam, list, n);

	/* the label is on tape (a block, a filemark) and the MAM came after it */
	assert_true(T.n >= 2);
	assert_int_equal(T.o[T.n - 1].fm, 1);
	size_t last_write = 0, mam_at = 0;
	for (size_t i = 0; i < T.nops; i++) {
		if (T.ops[i] == TP_OP_WRITE6)
			last_write = i;
		if (T.ops[i] == TP_OP_WRITE_ATTRIBUTE)
			mam_at = i;
	}
	assert_true(mam_at > last_write);
	/* tgt-like: no LOG SENSE, found at open; not asked again before the write, and no warning about it */
	assert_int_equal(alert_reads(), 1);
	assert_int_equal(tp_drive_caps(s.drive) & TP_DRIVE_CAP_TAPEALERT, 0);
	assert_null(strstr(logbuf, "TapeAlert"));
	assert_null(strstr(logbuf, "MAM"));
	tp_tape_session_close(&s);
}

static void test_set_label_writes_pool_mam(void **state)
{
	(void)state;
	mock_reset(LOG_NONE, 0, MAM_ACCEPT);
	tp_tape_session s;
	open_session(&s);
	tp_media_label ml = label("TPR005L6", "");
	tp_err e = { 0 };
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 0, &e), 0);
	assert_int_equal(T.mam_writes, 1);
	tp_media_set_label msl;
	memset(&msl, 0, sizeof(msl));
	snprintf(msl.pool, sizeof(msl.pool), "%s", "weekly");
	memset(msl.uuid, 0x17, 16);
	msl.ctime = 1700000100;
	if (tp_tape_write_set_label(&s, &msl, &e) < 0)
		fail_msg("set label: %s", e.msg);
	/* a second WRITE ATTRIBUTE after the set label: the application attributes and 0808h, no label text */
	assert_int_equal(T.mam_writes, 2);
	uint8_t list[512];
	size_t n = 4;
	memset(list, 0, sizeof(list));
	put_attr(list, &n, 0x0800, 1, "tapir", 8, ' ');
	put_attr(list, &n, 0x0801, 1, "tapir backup server", 32, ' ');
	put_attr(list, &n, 0x0802, 1, "0.1.0", 8, ' ');
	put_attr(list, &n, 0x0808, 2, "weekly", 160, 0);
	list[2] = (uint8_t)((n - 4) >> 8);
	list[3] = (uint8_t)(n - 4);
	assert_int_equal(T.mam_len, n);
	assert_memory_equal(T.mam, list, n);
	tp_tape_session_close(&s);
}

static void test_label_without_pool_and_mam_refused(void **state)
{
	(void)state;
	mock_reset(LOG_NONE, 0, MAM_NO_COMMAND);
	tp_tape_session s;
	open_session(&s);
	tp_media_label ml = label("TPR002L6", "");
	tp_err e = { 0 };
	/* the drive rejects WRITE ATTRIBUTE (tgt): a warning, the label is written all the same */
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 0, &e), 0);
	assert_int_equal(T.mam_writes, 1);
	assert_non_null(strstr(logbuf, "drive lto0"));
	assert_non_null(strstr(logbuf, "MAM"));
	assert_int_equal(tp_drive_caps(s.drive) & TP_DRIVE_CAP_MAM, 0);
	assert_true(T.n >= 2);
	/* known now: relabelling does not ask again */
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 1, &e), 0);
	assert_int_equal(T.mam_writes, 1);
	tp_tape_session_close(&s);

	/* without a pool there is no 0808h attribute */
	mock_reset(LOG_NONE, 0, MAM_ACCEPT);
	open_session(&s);
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 0, &e), 0);
	assert_int_equal(T.mam_len, 4 + 13 + 37 + 13 + 165);
	assert_int_equal(T.mam[4 + 13 + 37 + 13], 0x08);
	assert_int_equal(T.mam[4 + 13 + 37 + 13 + 1], 0x03);
	tp_tape_session_close(&s);
}

static void test_critical_tapealert_refuses(void **state)
{
	(void)state;
	/* flag 4 Media and 20 Clean now are critical; 7 Media life is a warning */
	mock_reset(LOG_PAGE12, (1ull << 3) | (1ull << 19) | (1ull << 6), MAM_ACCEPT);
	tp_tape_session s;
	open_session(&s);
	assert_true(tp_drive_caps(s.drive) & TP_DRIVE_CAP_TAPEALERT);
	tp_media_label ml = label("TPR003L6", "p1");
	tp_err e = { 0 };
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 0, &e), -EIO);
	assert_non_null(strstr(e.msg, "drive lto0"));
	assert_non_null(strstr(e.msg, "4 (Media)"));
	assert_non_null(strstr(e.msg, "20 (Clean now)"));
	assert_null(strstr(e.msg, "Media life"));
	assert_non_null(strstr(logbuf, "7 (Media life)"));
	/* nothing was written: no WRITE, no filemark, no MAM */
	assert_int_equal(T.n, 0);
	assert_int_equal(count_op(TP_OP_WRITE6), 0);
	assert_int_equal(count_op(TP_OP_WRITE_FILEMARKS6), 0);
	assert_int_equal(T.mam_writes, 0);

	/* the check tape backup runs after loading a tape refuses the same way, every time */
	tp_err e2 = { 0 };
	assert_int_equal(tp_drive_check_tapealert(s.drive, &e2), -EIO);
	assert_non_null(strstr(e2.msg, "critical TapeAlert flags 4 (Media), 20 (Clean now)"));
	assert_int_equal(tp_drive_write_block(s.drive, (const uint8_t *)"x", 1, &e2), -EIO);
	assert_int_equal(T.n, 0);

	/* once the drive is cleaned and the flags are gone, writing goes on */
	T.flags = 0;
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 0, &e), 0);
	assert_true(T.n >= 2);
	tp_tape_session_close(&s);
}

static void test_informational_tapealert_warns(void **state)
{
	(void)state;
	/* 19 Nearing media life (information), 2 Write warning (warning) */
	mock_reset(LOG_PAGE12, (1ull << 18) | (1ull << 1), MAM_ACCEPT);
	tp_tape_session s;
	open_session(&s);
	tp_media_label ml = label("TPR004L6", "p1");
	tp_err e = { 0 };
	assert_int_equal(tp_tape_write_media_label(&s, &ml, 0, &e), 0);
	assert_non_null(strstr(logbuf, "drive lto0: TapeAlert flag 19 (Nearing media life)"));
	assert_non_null(strstr(logbuf, "drive lto0: TapeAlert flag 2 (Write warning)"));
	assert_true(T.n >= 2);
	/* read once per cartridge: the probe at open and the check before the first write, page 12h both times */
	assert_int_equal(alert_reads(), 2);
	assert_int_equal(T.log_pages[0], 0x12);
	assert_int_equal(last_alert_page(), 0x12);
	tp_tape_session_close(&s);
}

static void test_tapealert_page_2e(void **state)
{
	(void)state;
	/* an SSC-2 drive: LOG SENSE without page 12h; page 2Eh is read (only) at the check */
	mock_reset(LOG_PAGE2E_ONLY, 1ull << 5, MAM_ACCEPT);
	tp_tape_session s;
	open_session(&s);
	assert_int_equal(alert_reads(), 1);
	assert_int_equal(last_alert_page(), 0x12);
	assert_true(tp_drive_caps(s.drive) & TP_DRIVE_CAP_TAPEALERT);
	tp_err e = { 0 };
	assert_int_equal(tp_drive_check_tapealert(s.drive, &e), -EIO);
	assert_non_null(strstr(e.msg, "6 (Write failure)"));
	assert_int_equal(last_alert_page(), 0x2e);
	/* reading 2Eh cleared the flags in the drive: the next check passes */
	assert_int_equal(tp_drive_check_tapealert(s.drive, &e), 0);
	tp_tape_session_close(&s);
}

static void test_unsupported_log_sense_proceeds(void **state)
{
	(void)state;
	mock_reset(LOG_NONE, 0, MAM_ACCEPT);
	tp_tape_session s;
	open_session(&s);
	tp_err e = { 0 };
	assert_int_equal(tp_drive_check_tapealert(s.drive, &e), 0);
	assert_int_equal(tp_drive_write_block(s.drive, (const uint8_t *)"abcd", 4, &e), 0);
	assert_int_equal(T.n, 1);
	assert_int_equal(alert_reads(), 1);
	assert_null(strstr(logbuf, "TapeAlert"));
	tp_tape_session_close(&s);
}

static void test_severity(void **state)
{
	(void)state;
	assert_int_equal(tp_tapealert_severity(4), 'C');
	assert_int_equal(tp_tapealert_severity(5), 'C');
	assert_int_equal(tp_tapealert_severity(6), 'C');
	assert_int_equal(tp_tapealert_severity(9), 'C');
	assert_int_equal(tp_tapealert_severity(20), 'C');
	assert_int_equal(tp_tapealert_severity(30), 'C');
	assert_int_equal(tp_tapealert_severity(31), 'C');
	assert_int_equal(tp_tapealert_severity(55), 'C');
	assert_int_equal(tp_tapealert_severity(57), 'C');
	assert_int_equal(tp_tapealert_severity(3), 'W');
	assert_int_equal(tp_tapealert_severity(21), 'W');
	assert_int_equal(tp_tapealert_severity(39), 'W');
	assert_int_equal(tp_tapealert_severity(58), 'W');
	assert_int_equal(tp_tapealert_severity(60), 'W');
	assert_int_equal(tp_tapealert_severity(10), 'I');
	assert_int_equal(tp_tapealert_severity(19), 'I');
	assert_int_equal(tp_tapealert_severity(0), 'W');
	assert_int_equal(tp_tapealert_severity(61), 'W');
	assert_int_equal(tp_tapealert_severity(65), 'W');
	uint64_t m = tp_tapealert_critical_mask();
	int n = 0;
	for (int f = 1; f <= 64; f++)
		n += (m >> (f - 1)) & 1;
	assert_int_equal(n, 20);
	assert_true(m & (1ull << 19));
	assert_false(m & (1ull << 20));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_label_writes_mam, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_label_writes_pool_mam, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_without_pool_and_mam_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_critical_tapealert_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_informational_tapealert_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tapealert_page_2e, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsupported_log_sense_proceeds, setup, teardown),
		cmocka_unit_test(test_severity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
