/* Unit test: SCSI transport registry, tp_scsi_run status/sense handling (mock transport), URL and device checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tape/scsi_cdb.h"
#include "tape/scsi_transport.h"

struct mock {
	char path[64];
	int calls;
	unsigned last_timeout;
};

static int mock_open(const char *path, void **h, tp_err *err)
{
	if (strstr(path, "fail"))
		return tp_err_set(err, -ENODEV, "mock open of %s refused", path);
	struct mock *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->path, sizeof(m->path), "%s", path);
	*h = m;
	return 0;
}

static const uint8_t fm_sense[18] = { 0xf0, 0x00, 0x80, 0x00, 0x01, 0x00, 0x00, 0x0a, 0, 0, 0, 0, 0x00, 0x01 };

static int mock_execute(void *h, const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len,
			unsigned timeout_ms, tp_scsi_result *res, tp_err *err)
{
	struct mock *m = h;
	(void)cdb_len;
	(void)dir;
	m->calls++;
	m->last_timeout = timeout_ms;
	switch (cdb[0]) {
	case TP_OP_TEST_UNIT_READY:
		res->status = TP_SCSI_STATUS_GOOD;
		return 0;
	case TP_OP_INQUIRY:
		memset(buf, 0, len);
		buf[0] = TP_PDT_CHANGER;
		res->status = TP_SCSI_STATUS_GOOD;
		res->transferred = len < 36 ? len : 36;
		res->residual = len - res->transferred;
		return 0;
	case TP_OP_READ6:
		res->status = TP_SCSI_STATUS_CHECK_CONDITION;
		memcpy(res->sense, fm_sense, sizeof(fm_sense));
		res->sense_len = sizeof(fm_sense);
		return 0;
	case TP_OP_REWIND:
		res->status = TP_SCSI_STATUS_BUSY;
		return 0;
	case TP_OP_ERASE6:
		res->status = TP_SCSI_STATUS_CHECK_CONDITION; /* no sense bytes */
		return 0;
	case TP_OP_PREVENT_ALLOW:
		res->status = TP_SCSI_STATUS_RESERVATION_CONFLICT;
		return 0;
	default:
		return tp_err_set(err, -ETIMEDOUT, "mock: command 0x%02x timed out", cdb[0]);
	}
}

static void mock_close(void *h)
{
	free(h);
}

static const tp_scsi_transport_ops mock_ops = {
	.name = "mock", .open = mock_open, .execute = mock_execute, .close = mock_close,
};
static const tp_scsi_transport_ops mock2_ops = {
	.name = "mock2", .open = mock_open, .execute = mock_execute, .close = mock_close,
};

static void test_registry(void **state)
{
	(void)state;
	tp_err e = { 0 };
	assert_ptr_equal(tp_scsi_transport_for_path("/dev/sg3"), &tp_scsi_transport_sg);
	assert_ptr_equal(tp_scsi_transport_for_path("/dev/tape/by-id/scsi-123-sg"), &tp_scsi_transport_sg);
	assert_ptr_equal(tp_scsi_transport_for_path("iscsi://127.0.0.1/iqn.x:y/1"), &tp_scsi_transport_iscsi);
	assert_null(tp_scsi_transport_for_path("sg3"));
	assert_null(tp_scsi_transport_for_path("mock:a"));
	assert_null(tp_scsi_transport_for_path(NULL));
	assert_string_equal(tp_scsi_transport_sg.name, "sg");
	assert_string_equal(tp_scsi_transport_iscsi.name, "iscsi");

	assert_int_equal(tp_scsi_transport_register("mock:", &mock2_ops, &e), 0);
	assert_ptr_equal(tp_scsi_transport_for_path("mock:a"), &mock2_ops);
	/* same prefix again replaces */
	assert_int_equal(tp_scsi_transport_register("mock:", &mock_ops, &e), 0);
	assert_ptr_equal(tp_scsi_transport_for_path("mock:a"), &mock_ops);
	/* the longest prefix wins */
	assert_int_equal(tp_scsi_transport_register("mock:two:", &mock2_ops, &e), 0);
	assert_ptr_equal(tp_scsi_transport_for_path("mock:two:x"), &mock2_ops);
	assert_ptr_equal(tp_scsi_transport_for_path("mock:one"), &mock_ops);

	assert_int_equal(tp_scsi_transport_register("", &mock_ops, &e), -EINVAL);
	tp_scsi_transport_ops incomplete = { .name = "x" };
	assert_int_equal(tp_scsi_transport_register("x:", &incomplete, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "incomplete"));
	/* at most 8 extra prefixes */
	char p[16];
	int rc = 0, i;
	for (i = 0; i < 10 && rc == 0; i++) {
		snprintf(p, sizeof(p), "fill%d:", i);
		rc = tp_scsi_transport_register(p, &mock_ops, &e);
	}
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(i, 7); /* mock: and mock:two: took two of the eight */
}

static void test_run_statuses(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_scsi_dev *d = NULL;
	assert_int_equal(tp_scsi_transport_register("mock:", &mock_ops, &e), 0);
	assert_int_equal(tp_scsi_open("mock:fail", &d, &e), -ENODEV);
	assert_null(d);
	assert_int_equal(tp_scsi_open("mock:drive0", &d, &e), 0);
	assert_string_equal(d->path, "mock:drive0");
	struct mock *m = d->h;

	tp_cdb c;
	tp_scsi_result res;
	tp_sense s;
	enum tp_sense_class cls = TP_SENSE_OTHER;
	tp_cdb_test_unit_ready(&c);
	assert_int_equal(tp_scsi_run(d, &c, NULL, 0, 0, &res, &s, &cls, &e), 0);
	assert_int_equal(cls, TP_SENSE_OK);
	assert_int_equal(m->last_timeout, 60000); /* 0 = the device default */
	assert_int_equal(tp_scsi_run(d, &c, NULL, 0, 1234, NULL, NULL, NULL, &e), 0);
	assert_int_equal(m->last_timeout, 1234);

	uint8_t buf[96];
	assert_int_equal(tp_cdb_inquiry(&c, 0, 0, sizeof(buf), &e), 0);
	assert_int_equal(tp_scsi_run(d, &c, buf, sizeof(buf), 0, &res, &s, &cls, &e), 0);
	assert_int_equal(res.transferred, 36);
	assert_int_equal(res.residual, 60);
	assert_int_equal(buf[0], TP_PDT_CHANGER);

	/* CHECK CONDITION: parsed and classified, message names command, device and sense */
	assert_int_equal(tp_cdb_read6(&c, 0, 1, 65536, &e), 0);
	assert_int_equal(tp_scsi_run(d, &c, buf, sizeof(buf), 0, &res, &s, &cls, &e), -EIO);
	assert_int_equal(cls, TP_SENSE_FILEMARK);
	assert_true(s.filemark);
	assert_int_equal(s.info, 65536);
	assert_string_equal(e.msg, "READ(6) on mock:drive0: NO SENSE 00/01 filemark detected [FM info 65536]");

	tp_cdb_rewind(&c, 0);
	assert_int_equal(tp_scsi_run(d, &c, NULL, 0, 0, &res, &s, &cls, &e), -EBUSY);
	assert_int_equal(cls, TP_SENSE_ABORTED);
	assert_non_null(strstr(e.msg, "BUSY"));
	tp_cdb_prevent_allow(&c, 1);
	assert_int_equal(tp_scsi_run(d, &c, NULL, 0, 0, &res, &s, &cls, &e), -EIO);
	assert_int_equal(cls, TP_SENSE_OTHER);
	assert_non_null(strstr(e.msg, "RESERVATION CONFLICT"));
	tp_cdb_erase(&c, 0, 0);
	assert_int_equal(tp_scsi_run(d, &c, NULL, 0, 0, &res, &s, &cls, &e), -EIO);
	assert_non_null(strstr(e.msg, "unusable sense"));
	assert_non_null(strstr(e.msg, "ERASE"));
	/* a transport failure keeps its code and gets the command as context */
	tp_cdb_initialize_element_status(&c);
	assert_int_equal(tp_scsi_run(d, &c, NULL, 0, 0, &res, &s, &cls, &e), -ETIMEDOUT);
	assert_string_equal(e.msg, "INITIALIZE ELEMENT STATUS on mock:drive0: mock: command 0x07 timed out");

	/* argument checks before the transport is called */
	int calls = m->calls;
	uint8_t cdb[17] = { 0 };
	assert_int_equal(tp_scsi_execute(d, cdb, 0, TP_SCSI_DIR_NONE, NULL, 0, 0, &res, &e), -EINVAL);
	assert_int_equal(tp_scsi_execute(d, cdb, 17, TP_SCSI_DIR_NONE, NULL, 0, 0, &res, &e), -EINVAL);
	assert_int_equal(tp_scsi_execute(d, cdb, 6, 7, NULL, 0, 0, &res, &e), -EINVAL);
	assert_int_equal(tp_scsi_execute(d, cdb, 6, TP_SCSI_DIR_IN, NULL, 10, 0, &res, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "without a buffer"));
	assert_int_equal(m->calls, calls);
	tp_scsi_close(d);
	tp_scsi_close(NULL);

	assert_string_equal(tp_scsi_status_name(0x02), "CHECK CONDITION");
	assert_string_equal(tp_scsi_status_name(0x77), "unknown status");
}

static void test_open_errors(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_scsi_dev *d = NULL;
	assert_int_equal(tp_scsi_open("", &d, &e), -EINVAL);
	assert_int_equal(tp_scsi_open("tape0", &d, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "unknown transport"));
	char longp[400];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	memcpy(longp, "/dev/", 5);
	assert_int_equal(tp_scsi_open(longp, &d, &e), -ENAMETOOLONG);
	/* SG_IO needs an sg character device */
	assert_int_equal(tp_scsi_open("/dev/null", &d, &e), -ENOTTY);
	assert_non_null(strstr(e.msg, "/dev/null is not a SCSI generic"));
	assert_int_equal(tp_scsi_open("/dev/tapir-no-such-sg", &d, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "/dev/tapir-no-such-sg"));
	assert_null(d);

	/* iSCSI URL syntax */
	static const struct { const char *url, *msg; } bad[] = {
		{ "iscsi://", "expected iscsi://HOST" },
		{ "iscsi://host", "expected iscsi://HOST" },
		{ "iscsi://host/iqn.x:y", "missing target IQN or LUN" },
		{ "iscsi://host//1", "missing target IQN or LUN" },
		{ "iscsi://host/iqn.x:y/abc", "LUN 'abc'" },
		{ "iscsi://host/iqn.x:y/-1", "LUN '-1'" },
		{ "iscsi://host/iqn.x:y/1x", "LUN '1x'" },
		{ "iscsi://host/iqn.x:y/99999", "LUN '99999'" },
		{ "iscsi://host:0/iqn.x:y/1", "port '0'" },
		{ "iscsi://host:70000/iqn.x:y/1", "port '70000'" },
		{ "iscsi://host:/iqn.x:y/1", "port ''" },
		{ "iscsi://[::1/iqn.x:y/1", "unterminated" },
		{ "iscsi://:3260/iqn.x:y/1", "empty host" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_err_clear(&e);
		int rc = tp_scsi_open(bad[i].url, &d, &e);
		if (rc != -EINVAL || !strstr(e.msg, bad[i].msg))
			fail_msg("%s: rc %d, message '%s' lacks '%s'", bad[i].url, rc, e.msg, bad[i].msg);
	}
	/* nothing listens on port 1: the login fails with a message naming target and portal */
	assert_int_equal(tp_scsi_open("iscsi://127.0.0.1:1/iqn.2026-01.org.tapir.test:none/1", &d, &e), -EIO);
	assert_non_null(strstr(e.msg, "iqn.2026-01.org.tapir.test:none"));
	assert_non_null(strstr(e.msg, "127.0.0.1:1"));
	assert_null(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_run_statuses),
		cmocka_unit_test(test_open_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
