/* Unit test: calendar event parsing and next-event computation, time spans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "base/calendar.h"
#include "base/timefmt.h"

static int64_t utc(const char *s)
{
	int64_t t = 0;
	assert_int_equal(tp_time_parse_utc(s, &t), 0);
	return t;
}

/* Next event after `from` (UTC), as the 20-char UTC string. */
static void expect_next(const char *event, const char *from, const char *want)
{
	tp_calendar_event ev;
	tp_err e = { 0 };
	int r = tp_calendar_parse(event, &ev, &e);
	if (r < 0)
		fail_msg("parse '%s': %s", event, e.msg);
	int64_t next = 0;
	r = tp_calendar_next(&ev, utc(from), 1, &next, &e);
	if (r < 0)
		fail_msg("next '%s' after %s: %s", event, from, e.msg);
	char got[21];
	tp_time_utc(next, got);
	if (strcmp(got, want))
		fail_msg("'%s' after %s: got %s, want %s", event, from, got, want);
}

static void test_shorthands(void **state)
{
	(void)state;
	/* 2024-01-03 is a Wednesday */
	expect_next("daily", "2024-01-03T10:00:00Z", "2024-01-04T00:00:00Z");
	expect_next("hourly", "2024-01-03T10:00:00Z", "2024-01-03T11:00:00Z");
	expect_next("hourly", "2024-01-03T10:59:59Z", "2024-01-03T11:00:00Z");
	expect_next("weekly", "2024-01-03T10:00:00Z", "2024-01-08T00:00:00Z");
	expect_next("monthly", "2024-01-03T10:00:00Z", "2024-02-01T00:00:00Z");
	expect_next("monthly", "2024-12-03T10:00:00Z", "2025-01-01T00:00:00Z");
	expect_next("yearly", "2024-01-03T10:00:00Z", "2025-01-01T00:00:00Z");
	expect_next("minutely", "2024-01-03T10:00:30Z", "2024-01-03T10:01:00Z");
	expect_next("quarterly", "2024-05-03T10:00:00Z", "2024-07-01T00:00:00Z");
	expect_next("  Daily ", "2024-01-03T10:00:00Z", "2024-01-04T00:00:00Z");
}

static void test_weekdays_and_times(void **state)
{
	(void)state;
	expect_next("mon..fri 02:00", "2024-01-03T01:00:00Z", "2024-01-03T02:00:00Z");
	expect_next("mon..fri 02:00", "2024-01-03T02:00:00Z", "2024-01-04T02:00:00Z");
	expect_next("mon..fri 02:00", "2024-01-05T03:00:00Z", "2024-01-08T02:00:00Z");  /* Fri -> Mon */
	expect_next("sat 18:00", "2024-01-03T10:00:00Z", "2024-01-06T18:00:00Z");
	expect_next("sat 18:00", "2024-01-06T18:00:00Z", "2024-01-13T18:00:00Z");
	expect_next("mon,wed,fri 12:30", "2024-01-03T12:31:00Z", "2024-01-05T12:30:00Z");
	expect_next("Sunday", "2024-01-03T10:00:00Z", "2024-01-07T00:00:00Z");
	expect_next("sat..mon 05:00", "2024-01-02T10:00:00Z", "2024-01-06T05:00:00Z"); /* wraps */
	expect_next("sat..mon 05:00", "2024-01-07T06:00:00Z", "2024-01-08T05:00:00Z");
	expect_next("*:0/15", "2024-01-03T10:01:00Z", "2024-01-03T10:15:00Z");
	expect_next("*:0/15", "2024-01-03T10:45:00Z", "2024-01-03T11:00:00Z");
	expect_next("8..17/3:00", "2024-01-03T12:00:00Z", "2024-01-03T14:00:00Z");
	expect_next("8..17/3:00", "2024-01-03T17:00:00Z", "2024-01-04T08:00:00Z");
	expect_next("12:00:30", "2024-01-03T12:00:00Z", "2024-01-03T12:00:30Z");
	expect_next("*:*:0/20", "2024-01-03T12:00:41Z", "2024-01-03T12:01:00Z");
}

static void test_dates(void **state)
{
	(void)state;
	expect_next("*-*-01 03:00", "2024-01-03T10:00:00Z", "2024-02-01T03:00:00Z");
	expect_next("*-*-01 03:00", "2024-02-01T02:59:59Z", "2024-02-01T03:00:00Z");
	expect_next("*-02-29", "2024-03-01T00:00:00Z", "2028-02-29T00:00:00Z");
	expect_next("2025-06-15 08:00", "2024-01-01T00:00:00Z", "2025-06-15T08:00:00Z");
	expect_next("12-24 18:00", "2024-12-25T00:00:00Z", "2025-12-24T18:00:00Z");
	expect_next("*-*-31", "2024-04-01T00:00:00Z", "2024-05-31T00:00:00Z");
	expect_next("2024..2030/2-01-01", "2024-06-01T00:00:00Z", "2026-01-01T00:00:00Z");
	expect_next("fri *-*-13", "2024-01-01T00:00:00Z", "2024-09-13T00:00:00Z");

	tp_calendar_event ev;
	tp_err e = { 0 };
	int64_t next;
	assert_int_equal(tp_calendar_parse("2020-01-01", &ev, &e), 0);
	assert_int_equal(tp_calendar_next(&ev, utc("2021-01-01T00:00:00Z"), 1, &next, &e), -TP_ENOTFOUND);
	assert_int_equal(tp_calendar_parse("*-02-30", &ev, &e), 0);
	assert_int_equal(tp_calendar_next(&ev, utc("2021-01-01T00:00:00Z"), 1, &next, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "no occurrence"));
}

static void test_local_time(void **state)
{
	(void)state;
	/* evaluated in TZ: 02:00 in UTC+2 (no DST) is 00:00Z */
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	setenv("TZ", "<+02>-2", 1);
	tzset();
	tp_calendar_event ev;
	int64_t next = 0;
	assert_int_equal(tp_calendar_parse("02:00", &ev, NULL), 0);
	assert_int_equal(tp_calendar_next(&ev, utc("2024-01-03T10:00:00Z"), 0, &next, NULL), 0);
	char got[21];
	tp_time_utc(next, got);
	assert_string_equal(got, "2024-01-04T00:00:00Z");
	assert_int_equal(tp_calendar_next(&ev, utc("2024-01-03T10:00:00Z"), 1, &next, NULL), 0);
	tp_time_utc(next, got);
	assert_string_equal(got, "2024-01-04T02:00:00Z");
	if (old) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

static void test_bad_events(void **state)
{
	(void)state;
	static const char *bad[] = {
		"", "   ", "funday", "mon..xyz", "25:00", "12:60", "*-13-01", "*-00-01", "*-*-32",
		"1969-01-01", "*-*-~1", "12:00:00.5", "mon 12:00 13:00", "*:0/0", "5..3:00", "12",
		"mon,", "a-b-c",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tp_calendar_event ev;
		tp_err e = { 0 };
		if (tp_calendar_parse(bad[i], &ev, &e) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(e.msg, "invalid calendar event"));
	}
}

static void test_timespans(void **state)
{
	(void)state;
	static const struct { const char *s; int64_t v; } ok[] = {
		{ "1d 2h", 93600 }, { "30 days", 2592000 }, { "1w", 604800 }, { "90", 90 },
		{ "1h30min", 5400 }, { "2 weeks 1 day", 1296000 }, { "1M", 2630016 },
		{ "1y", 31557600 }, { "5m", 300 }, { "10s", 10 }, { "3 Hours", 10800 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t v = -1;
		tp_err e = { 0 };
		if (tp_timespan_parse(ok[i].s, &v, &e) < 0)
			fail_msg("'%s': %s", ok[i].s, e.msg);
		if (v != ok[i].v)
			fail_msg("'%s' = %lld, want %lld", ok[i].s, (long long)v, (long long)ok[i].v);
	}
	static const char *bad[] = { "", "d", "1x", "-1d", "1.5h" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v;
		tp_err e = { 0 };
		if (tp_timespan_parse(bad[i], &v, &e) >= 0)
			fail_msg("'%s' was accepted", bad[i]);
		assert_non_null(strstr(e.msg, "invalid time span"));
	}
	int64_t v;
	assert_int_equal(tp_timespan_parse("99999999999999999y", &v, NULL), -ERANGE);
	char out[64];
	tp_timespan_format(93784, out);
	assert_string_equal(out, "1d 2h 3m 4s");
	tp_timespan_format(0, out);
	assert_string_equal(out, "0s");
}

/* Time left at the pace so far: nothing said too early, too late or before anything is done; capped. */
static void test_time_left(void **state)
{
	(void)state;
	char t[16];
	tp_time_left(60.0, 25, 100, t); /* a quarter in a minute: three more */
	assert_string_equal(t, "0:03:00");
	tp_time_left(3600.0, 1, 3, t);
	assert_string_equal(t, "2:00:00");
	tp_time_left(10.0, 999, 1000, t); /* rounded to the second */
	assert_string_equal(t, "0:00:00");
	tp_time_left(1.5, 1, 4, t);
	assert_string_equal(t, "0:00:05"); /* 4.5 s rounds up */
	tp_time_left(86400.0, 1, 1000000, t);
	assert_string_equal(t, "999:59:59");
	tp_time_left(0.5, 1, 2, t);
	assert_string_equal(t, "");
	tp_time_left(60.0, 0, 100, t);
	assert_string_equal(t, "");
	tp_time_left(60.0, 100, 100, t);
	assert_string_equal(t, "");
	tp_time_left(60.0, 200, 100, t);
	assert_string_equal(t, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shorthands),
		cmocka_unit_test(test_weekdays_and_times),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_local_time),
		cmocka_unit_test(test_bad_events),
		cmocka_unit_test(test_timespans),
		cmocka_unit_test(test_time_left),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
