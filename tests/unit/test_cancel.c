/* Unit test: cancellation checks (process-wide, per thread) and the thread context handed to new threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/cancel.h"

static int stop_after(void *ctx, tp_err *err)
{
	int *left = ctx;
	if (*left > 0) {
		(*left)--;
		return 0;
	}
	return tp_err_set(err, -TP_EABORT, "job aborted (test)");
}

static void test_process_check(void **state)
{
	(void)state;
	tp_err e = { 0 };
	assert_int_equal(tp_cancel_check(&e), 0); /* nothing installed: go on */
	int left = 2;
	tp_cancel_set(stop_after, &left);
	assert_int_equal(tp_cancel_check(&e), 0);
	assert_int_equal(tp_cancel_check(&e), 0);
	assert_int_equal(tp_cancel_check(&e), -TP_EABORT);
	assert_string_equal(e.msg, "job aborted (test)");
	tp_cancel_set(NULL, NULL);
	assert_int_equal(tp_cancel_check(&e), 0);
}

static void test_thread_check_wins(void **state)
{
	(void)state;
	int proc_left = 0, thr_left = 1;
	tp_err e = { 0 };
	tp_cancel_set(stop_after, &proc_left);
	tp_cancel_set_thread(stop_after, &thr_left);
	assert_int_equal(tp_cancel_check(&e), 0); /* the thread's check, not the aborted process one */
	assert_int_equal(thr_left, 0);
	assert_int_equal(tp_cancel_check(&e), -TP_EABORT);
	tp_cancel_set_thread(NULL, NULL);
	assert_int_equal(tp_cancel_check(&e), -TP_EABORT); /* back to the process check */
	tp_cancel_set(NULL, NULL);
}

static char sunk[256];
static void sink(void *ctx, enum tp_log_level lvl, const char *line)
{
	(void)lvl;
	snprintf(sunk, sizeof(sunk), "%s:%s", (const char *)ctx, line);
}

struct child {
	tp_thread_ctx ctx;
	int use_ctx;
	int rc;
};

static void *child_main(void *arg)
{
	struct child *c = arg;
	if (c->use_ctx)
		tp_thread_ctx_set(&c->ctx);
	tp_err e = { 0 };
	c->rc = tp_cancel_check(&e);
	tp_info("from the child");
	return NULL;
}

static void test_thread_ctx_handed_on(void **state)
{
	(void)state;
	int left = 0;
	tp_log_set_thread_sink(sink, "job1");
	tp_cancel_set_thread(stop_after, &left);
	struct child c = { .use_ctx = 1 };
	tp_thread_ctx_get(&c.ctx);
	sunk[0] = 0;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, child_main, &c), 0);
	pthread_join(th, NULL);
	assert_int_equal(c.rc, -TP_EABORT);
	assert_string_equal(sunk, "job1:from the child");

	/* a thread started without the context has neither */
	struct child bare = { .use_ctx = 0 };
	sunk[0] = 0;
	tp_log_set_quiet(1);
	assert_int_equal(pthread_create(&th, NULL, child_main, &bare), 0);
	pthread_join(th, NULL);
	assert_int_equal(bare.rc, 0);
	assert_string_equal(sunk, "");
	tp_log_set_thread_sink(NULL, NULL);
	tp_cancel_set_thread(NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_check),
		cmocka_unit_test(test_thread_check_wins),
		cmocka_unit_test(test_thread_ctx_handed_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
