/* Unit test: tape sessions loading a tape on a standalone drive, and waiting for an operator (request, wrong tape, timeout, abort, insertion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "tape/drive_config.h"
#include "tape/tape_inventory.h"
#include "tape/tape_session.h"

static char home[64];

static void write_label(tp_tape_session *s, const char *text, uint8_t id)
{
	tp_err e = { 0 };
	tp_media_label l;
	memset(&l, 0, sizeof(l));
	memset(l.uuid, id, 16);
	snprintf(l.label_text, sizeof(l.label_text), "%s", text);
	l.ctime = 1700000000;
	assert_int_equal(tp_drive_load(s->drive, text, &e), 0);
	if (tp_tape_write_media_label(s, &l, 0, &e) < 0)
		fail_msg("label %s: %s", text, e.msg);
}

static int setup(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-tsess-XXXXXX");
	assert_non_null(mkdtemp(home));
	setenv("TAPIR_HOME", home, 1);
	unsetenv("TAPIR_VIRTUAL_MANUAL_LOAD");
	tp_err e = { 0 };
	tp_tape_config c;
	memset(&c, 0, sizeof(c));
	tp_drive_conf d;
	memset(&d, 0, sizeof(d));
	char path[128];
	snprintf(path, sizeof(path), "%s/vtl", home);
	snprintf(d.name, sizeof(d.name), "v1");
	snprintf(d.type, sizeof(d.type), "virtual");
	d.path = path;
	d.max_size = 4 << 20;
	d.changer_drivenum = -1;
	assert_int_equal(tp_tape_config_add_drive(&c, &d, &e), 0);
	assert_int_equal(tp_tape_config_save(&c, &e), 0);
	tp_tape_config_free(&c);
	tp_tape_session s;
	assert_int_equal(tp_tape_session_open(&s, "v1", "test", 1000, &e), 0);
	write_label(&s, "TA", 0xa1);
	write_label(&s, "TB", 0xb2);
	assert_int_equal(tp_drive_unload(s.drive, &e), 0);
	tp_tape_session_close(&s);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unsetenv("TAPIR_VIRTUAL_MANUAL_LOAD");
	tp_rm_rf(home, NULL);
	return 0;
}

struct waitlog {
	int requests, firsts, checks;
	char found[64];
	int found_null;
	int abort_after;          /* check_abort fails at this call (0 = never) */
	int insert_at;            /* at this call, "the operator" inserts insert_label */
	const char *insert_label;
};

static void on_request(void *ctx, const char *label, const char *drive, const char *found, int first)
{
	struct waitlog *w = ctx;
	assert_string_equal(label, "TA");
	assert_string_equal(drive, "v1");
	w->requests++;
	w->firsts += first;
	w->found_null = found == NULL;
	snprintf(w->found, sizeof(w->found), "%s", found ? found : "");
}

static int on_check(void *ctx, tp_err *err)
{
	struct waitlog *w = ctx;
	w->checks++;
	if (w->insert_at && w->checks == w->insert_at) {
		/* the lock is free while waiting: an operator command can take the drive */
		tp_tape_session o;
		tp_err e = { 0 };
		if (tp_tape_session_open(&o, "v1", "operator", 0, &e) < 0)
			fail_msg("the drive should be free while waiting: %s", e.msg);
		if (tp_tape_load_cartridge(&o, w->insert_label, &e) < 0)
			fail_msg("insert: %s", e.msg);
		tp_tape_session_close(&o);
	}
	if (w->abort_after && w->checks >= w->abort_after)
		return tp_err_set(err, -TP_EABORT, "task aborted");
	return 0;
}

static void test_virtual_loads_by_label(void **state)
{
	(void)state;
	tp_tape_session s;
	tp_err e = { 0 };
	tp_media_label ml;
	int has_set = 1;
	assert_int_equal(tp_tape_session_open(&s, "v1", "test", 1000, &e), 0);
	assert_int_equal(tp_tape_session_needs_operator(&s), 0);
	uint64_t at = 7;
	assert_int_equal(tp_tape_changer_drive_pos(&s, 1, &at, &e), -EINVAL); /* no changer: no other drives */
	assert_int_equal(at, 7);
	assert_int_equal(tp_tape_load(&s, "TA", NULL, &ml, NULL, &has_set, &e), 0);
	assert_string_equal(ml.label_text, "TA");
	assert_int_equal(has_set, 0);
	uint8_t other[16];
	memset(other, 0x77, 16);
	assert_int_equal(tp_tape_load(&s, "TA", other, &ml, NULL, &has_set, &e), -TP_EWRONGMEDIA);
	assert_non_null(strstr(e.msg, "wrong tape"));
	assert_int_equal(tp_drive_unload(s.drive, &e), 0);
	tp_tape_session_close(&s);
}

static void test_operator_no_wait(void **state)
{
	(void)state;
	setenv("TAPIR_VIRTUAL_MANUAL_LOAD", "1", 1);
	tp_tape_session s;
	tp_err e = { 0 };
	tp_media_label ml;
	int has_set;
	assert_int_equal(tp_tape_session_open(&s, "v1", "test", 1000, &e), 0);
	assert_int_equal(tp_tape_session_needs_operator(&s), 1);
	assert_int_equal(tp_tape_load(&s, "TA", NULL, &ml, NULL, &has_set, &e), -TP_EWRONGMEDIA);
	assert_string_equal(e.msg, "please insert tape TA into drive v1");
	assert_int_equal(tp_drive_load(s.drive, "TB", &e), 0);
	assert_int_equal(tp_tape_load(&s, "TA", NULL, &ml, NULL, &has_set, &e), -TP_EWRONGMEDIA);
	assert_string_equal(e.msg, "tape TB is in drive v1: please insert tape TA");
	assert_int_equal(tp_drive_unload(s.drive, &e), 0);
	tp_tape_session_close(&s);
}

static void test_wait_timeout_and_abort(void **state)
{
	(void)state;
	setenv("TAPIR_VIRTUAL_MANUAL_LOAD", "1", 1);
	tp_tape_session s;
	tp_err e = { 0 };
	tp_media_label ml;
	int has_set;
	assert_int_equal(tp_tape_session_open(&s, "v1", "test", 1000, &e), 0);
	struct waitlog L = { 0 };
	tp_media_wait w = { .poll_ms = 50, .timeout_s = 1, .request = on_request, .check_abort = on_check, .ctx = &L };
	assert_int_equal(tp_tape_load_wait(&s, "TA", NULL, &w, &ml, NULL, &has_set, &e), -ETIMEDOUT);
	assert_string_equal(e.msg, "tape TA was not inserted into drive v1 within 1 s");
	assert_int_equal(L.requests, 1); /* the empty drive is asked for once */
	assert_int_equal(L.firsts, 1);
	assert_true(L.found_null);
	assert_true(L.checks > 3);
	/* the session holds its drive again */
	assert_true(s.lock.fd >= 0);
	assert_non_null(s.drive);
	/*
	 * A wrong tape in the drive before anyone is asked is ejected first
	 * (counted as that unload; looking at it is not counted), then the
	 * empty drive is asked for; one the operator puts in later is logged
	 * with its label and left alone; abort ends the wait.
	 */
	assert_int_equal(tp_drive_load(s.drive, "TB", &e), 0);
	tp_drive_reset_counters(s.drive);
	memset(&L, 0, sizeof(L));
	L.insert_at = 3;
	L.insert_label = "TB";
	L.abort_after = 8;
	w.timeout_s = 0;
	assert_int_equal(tp_tape_load_wait(&s, "TA", NULL, &w, &ml, NULL, &has_set, &e), -TP_EABORT);
	assert_int_equal(L.requests, 2);
	assert_int_equal(L.firsts, 1);
	assert_string_equal(L.found, "TB");
	assert_int_equal(L.checks, 8);
	assert_non_null(s.drive);
	assert_int_equal(s.drive->counters.unloads, 1);
	assert_int_equal(s.drive->counters.loads, 0);
	tp_drive_status st;
	assert_int_equal(tp_drive_get_status(s.drive, &st, &e), 0);
	assert_true(st.loaded);
	assert_string_equal(st.label, "TB");
	assert_int_equal(tp_drive_unload(s.drive, &e), 0);
	tp_tape_session_close(&s);
}

static void test_wait_until_inserted(void **state)
{
	(void)state;
	setenv("TAPIR_VIRTUAL_MANUAL_LOAD", "1", 1);
	tp_tape_session s;
	tp_err e = { 0 };
	tp_media_label ml;
	int has_set;
	assert_int_equal(tp_tape_session_open(&s, "v1", "test", 1000, &e), 0);
	tp_drive_reset_counters(s.drive);
	struct waitlog L = { .insert_at = 3, .insert_label = "TA", .abort_after = 400 };
	tp_media_wait w = { .poll_ms = 30, .request = on_request, .check_abort = on_check, .ctx = &L };
	uint8_t uuid[16];
	memset(uuid, 0xa1, 16);
	int r = tp_tape_load_wait(&s, "TA", uuid, &w, &ml, NULL, &has_set, &e);
	if (r < 0)
		fail_msg("wait: %s", e.msg);
	assert_string_equal(ml.label_text, "TA");
	assert_int_equal(L.requests, 1);
	assert_true(L.checks < 400);
	assert_int_equal(s.drive->counters.loads, 1);
	assert_int_equal(tp_drive_unload(s.drive, &e), 0);
	tp_tape_session_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_virtual_loads_by_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_operator_no_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_timeout_and_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_until_inserted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
