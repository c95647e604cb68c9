/* Unit tests for the terminal progress bar: its rendering, and that it stays off when output is not a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/progress_bar.h"

static void test_render(void **state)
{
	(void)state;
	char out[128];
	size_t n = tp_progress_bar_render(0.5, "3.0 of 6.0 MiB", 10, out, sizeof(out));
	assert_int_equal(n, strlen(out));
	assert_string_equal(out, "[#####-----]  50% 3.0 of 6.0 MiB");
	tp_progress_bar_render(0.0, NULL, 4, out, sizeof(out));
	assert_string_equal(out, "[----]   0%");
	tp_progress_bar_render(1.0, "", 4, out, sizeof(out));
	assert_string_equal(out, "[####] 100%");
	/* out of range and NaN are clamped, never drawn past the bar */
	tp_progress_bar_render(7.0, "x", 4, out, sizeof(out));
	assert_string_equal(out, "[####] 100% x");
	tp_progress_bar_render(-1.0, "x", 4, out, sizeof(out));
	assert_string_equal(out, "[----]   0% x");
	tp_progress_bar_render(0.0 / 0.0, "x", 4, out, sizeof(out));
	assert_string_equal(out, "[----]   0% x");
	tp_progress_bar_render(0.999, "x", 4, out, sizeof(out));
	assert_string_equal(out, "[###-]  99% x");
	/* cut to the room there is: a wrapped line could not be taken back */
	assert_int_equal(tp_progress_bar_render(0.5, "a long status text", 4, out, 12), 11);
	assert_string_equal(out, "[##--]  50%");
	assert_int_equal(tp_progress_bar_render(0.5, "x", 4, out, 3), 2);
	assert_string_equal(out, "[#");
	assert_int_equal(tp_progress_bar_render(0.5, "x", 4, out, 1), 0);
	assert_string_equal(out, "");
}

/* Not a terminal: the bar stays off and writes nothing, whatever is asked of it. */
static void test_off_without_terminal(void **state)
{
	(void)state;
	char path[] = "/tmp/tapir-bar-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(tp_progress_bar_start(fd), 0);
	tp_progress_bar_set(0.5, "half");
	tp_progress_bar_hide();
	tp_progress_bar_show();
	tp_progress_bar_set(1.0, "done");
	tp_progress_bar_stop();
	assert_int_equal(lseek(fd, 0, SEEK_END), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_off_without_terminal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
