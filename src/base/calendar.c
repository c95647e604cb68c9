/* Calendar events and time spans (see calendar.h). */
#include "base/calendar.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CAL_TEXT_MAX 256

static const char *const wday_short[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
static const char *const wday_long[7] = { "sunday", "monday", "tuesday", "wednesday",
					  "thursday", "friday", "saturday" };

static int parse_uint(const char **p, int *out)
{
	const char *s = *p;
	if (!isdigit((unsigned char)*s))
		return -1;
	long v = 0;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s - '0');
		if (v > 1000000)
			return -1;
		s++;
	}
	*p = s;
	*out = (int)v;
	return 0;
}

/*
 * One comma-separated COMPONENT list of values in lo..hi.  For each item
 * calls add(start, end, step).  Returns 0 or -1 on syntax/range errors.
 */
typedef int (*range_fn)(void *ctx, int start, int end, int step);

static int parse_component(const char *s, int lo, int hi, range_fn add, void *ctx)
{
	if (!*s)
		return -1;
	for (;;) {
		int start, end, step = 1;
		if (*s == '*') {
			start = lo;
			end = hi;
			s++;
		} else {
			if (parse_uint(&s, &start) < 0)
				return -1;
			end = start;
			if (s[0] == '.' && s[1] == '.') {
				s += 2;
				if (parse_uint(&s, &end) < 0)
					return -1;
			}
		}
		if (*s == '/') {
			s++;
			if (parse_uint(&s, &step) < 0 || step < 1)
				return -1;
			if (end == start)
				end = hi;   /* "V/STEP": from V to the end of the range */
		}
		if (start < lo || end > hi || start > end)
			return -1;
		if (add(ctx, start, end, step) < 0)
			return -1;
		if (*s == 0)
			return 0;
		if (*s != ',')
			return -1;
		s++;
	}
}

static int add_bits(void *ctx, int start, int end, int step)
{
	uint64_t *m = ctx;
	for (int v = start; v <= end; v += step)
		*m |= (uint64_t)1 << v;
	return 0;
}

static int add_years(void *ctx, int start, int end, int step)
{
	tp_calendar_event *ev = ctx;
	if (ev->n_years >= TP_CAL_MAX_YEAR_RANGES)
		return -1;
	ev->years[ev->n_years].start = start;
	ev->years[ev->n_years].end = end;
	ev->years[ev->n_years].step = step;
	ev->n_years++;
	return 0;
}

static int field_bits(const char *s, int lo, int hi, uint64_t *out)
{
	uint64_t m = 0;
	if (parse_component(s, lo, hi, add_bits, &m) < 0 || m == 0)
		return -1;
	*out = m;
	return 0;
}

static int weekday_index(const char *s, size_t n)
{
	for (int i = 0; i < 7; i++) {
		if ((strlen(wday_short[i]) == n && !strncmp(s, wday_short[i], n)) ||
		    (strlen(wday_long[i]) == n && !strncmp(s, wday_long[i], n)))
			return i;
	}
	return -1;
}

/* "mon..fri,sun": ranges wrap around the week like systemd (sat..mon). */
static int parse_weekdays(const char *s, uint8_t *out)
{
	uint8_t m = 0;
	while (*s) {
		const char *e = s;
		while (isalpha((unsigned char)*e))
			e++;
		int a = weekday_index(s, (size_t)(e - s)), b = a;
		if (a < 0)
			return -1;
		s = e;
		if (s[0] == '.' && s[1] == '.') {
			s += 2;
			e = s;
			while (isalpha((unsigned char)*e))
				e++;
			b = weekday_index(s, (size_t)(e - s));
			if (b < 0)
				return -1;
			s = e;
		}
		for (int i = a;; i = (i + 1) % 7) {
			m |= (uint8_t)(1u << i);
			if (i == b)
				break;
		}
		if (*s == ',' && s[1])
			s++;
		else if (*s)
			return -1;
	}
	if (!m)
		return -1;
	*out = m;
	return 0;
}

static int split(char *s, char sep, char **parts, int max)
{
	int n = 0;
	parts[n++] = s;
	for (char *p = s; *p; p++) {
		if (*p == sep) {
			if (n == max)
				return -1;
			*p = 0;
			parts[n++] = p + 1;
		}
	}
	return n;
}

static const struct { const char *name; const char *expansion; } shorthands[] = {
	{ "minutely", "*-*-* *:*:00" },
	{ "hourly", "*-*-* *:00:00" },
	{ "daily", "*-*-* 00:00:00" },
	{ "weekly", "mon *-*-* 00:00:00" },
	{ "monthly", "*-*-01 00:00:00" },
	{ "yearly", "*-01-01 00:00:00" },
	{ "annually", "*-01-01 00:00:00" },
	{ "quarterly", "*-01,04,07,10-01 00:00:00" },
	{ "semiannually", "*-01,07-01 00:00:00" },
};

int tp_calendar_parse(const char *text, tp_calendar_event *ev, tp_err *err)
{
	char buf[CAL_TEXT_MAX];
	size_t n = strlen(text);
	memset(ev, 0, sizeof(*ev));
	if (n == 0 || n >= sizeof(buf))
		return tp_err_set(err, -EINVAL, "invalid calendar event '%s': %s", text,
				  n ? "too long" : "empty");
	for (size_t i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)text[i]);
	char *s = buf;
	while (isspace((unsigned char)*s))
		s++;
	for (char *e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		e[-1] = 0;
	for (size_t i = 0; i < sizeof(shorthands) / sizeof(shorthands[0]); i++) {
		if (!strcmp(s, shorthands[i].name)) {
			snprintf(buf, sizeof(buf), "%s", shorthands[i].expansion);
			s = buf;
			break;
		}
	}

	char *wd = NULL, *date = NULL, *tim = NULL;
	char *save = NULL;
	for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (isalpha((unsigned char)tok[0]) && !wd && !date && !tim)
			wd = tok;
		else if (strchr(tok, ':') && !tim)
			tim = tok;
		else if (strchr(tok, '-') && !date && !tim)
			date = tok;
		else
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': unexpected '%s'", text, tok);
	}
	if (!wd && !date && !tim)
		return tp_err_set(err, -EINVAL, "invalid calendar event '%s': empty", text);

	ev->wday = 0x7f;
	if (wd && parse_weekdays(wd, &ev->wday) < 0)
		return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad weekday list '%s'", text, wd);

	uint64_t m;
	ev->mon = 0x1ffe;
	ev->mday = 0xfffffffeu;
	if (date) {
		if (strchr(date, '~'))
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': '~' (days from month end) is not supported", text);
		char *p[3];
		int np = split(date, '-', p, 3);
		if (np < 2)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad date '%s'", text, date);
		int off = np == 3 ? 1 : 0;
		if (np == 3 && strcmp(p[0], "*") &&
		    parse_component(p[0], 1970, 9999, add_years, ev) < 0)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad year '%s'", text, p[0]);
		if (field_bits(p[off], 1, 12, &m) < 0)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad month '%s'", text, p[off]);
		ev->mon = (uint16_t)m;
		if (field_bits(p[off + 1], 1, 31, &m) < 0)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad day '%s'", text, p[off + 1]);
		ev->mday = (uint32_t)m;
	}

	ev->hour = 1;
	ev->min = 1;
	ev->sec = 1;
	if (tim) {
		if (strchr(tim, '.'))
			for (char *q = tim; (q = strchr(q, '.')); q += 2)
				if (q[1] != '.')
					return tp_err_set(err, -EINVAL, "invalid calendar event '%s': fractional seconds are not supported", text);
		char *p[3];
		int np = split(tim, ':', p, 3);
		if (np < 2)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad time '%s'", text, tim);
		if (field_bits(p[0], 0, 23, &m) < 0)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad hour '%s'", text, p[0]);
		ev->hour = (uint32_t)m;
		if (field_bits(p[1], 0, 59, &ev->min) < 0)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad minute '%s'", text, p[1]);
		if (np == 3 && field_bits(p[2], 0, 59, &ev->sec) < 0)
			return tp_err_set(err, -EINVAL, "invalid calendar event '%s': bad second '%s'", text, p[2]);
	}
	return 0;
}

static int year_ok(const tp_calendar_event *ev, int year)
{
	if (ev->n_years == 0)
		return 1;
	for (int i = 0; i < ev->n_years; i++)
		if (year >= ev->years[i].start && year <= ev->years[i].end &&
		    (year - ev->years[i].start) % ev->years[i].step == 0)
			return 1;
	return 0;
}

static int year_exhausted(const tp_calendar_event *ev, int year)
{
	if (ev->n_years == 0)
		return 0;
	for (int i = 0; i < ev->n_years; i++)
		if (year <= ev->years[i].end)
			return 0;
	return 1;
}

/* Lowest set bit >= from in mask (of width bits), or -1. */
static int next_bit(uint64_t mask, int from, int width)
{
	for (int i = from; i < width; i++)
		if (mask & ((uint64_t)1 << i))
			return i;
	return -1;
}

static void breakdown(int64_t t, int utc, struct tm *tm)
{
	time_t tt = (time_t)t;
	if (utc)
		gmtime_r(&tt, tm);
	else
		localtime_r(&tt, tm);
}

static int64_t compose(struct tm *tm, int utc)
{
	tm->tm_isdst = -1;
	return utc ? (int64_t)timegm(tm) : (int64_t)mktime(tm);
}

int tp_calendar_next(const tp_calendar_event *ev, int64_t after, int utc, int64_t *next, tp_err *err)
{
	int64_t t = after + 1;
	const int64_t limit = after + (int64_t)200 * 366 * 86400;
	struct tm tm;
	for (long iter = 0; iter < 2000000 && t <= limit; iter++) {
		breakdown(t, utc, &tm);
		int year = tm.tm_year + 1900;
		int64_t t2;
		if (year_exhausted(ev, year))
			break;
		if (!year_ok(ev, year)) {
			tm.tm_year++;
			tm.tm_mon = 0;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!(ev->mon & (1u << (tm.tm_mon + 1)))) {
			tm.tm_mon++;
			tm.tm_mday = 1;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else if (!(ev->mday & (1u << tm.tm_mday)) || !(ev->wday & (1u << tm.tm_wday))) {
			tm.tm_mday++;
			tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		} else {
			int h = next_bit(ev->hour, tm.tm_hour, 24);
			if (h < 0) {
				tm.tm_mday++;
				tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
			} else if (h > tm.tm_hour) {
				tm.tm_hour = h;
				tm.tm_min = tm.tm_sec = 0;
			} else {
				int mi = next_bit(ev->min, tm.tm_min, 60);
				if (mi < 0) {
					tm.tm_hour++;
					tm.tm_min = tm.tm_sec = 0;
				} else if (mi > tm.tm_min) {
					tm.tm_min = mi;
					tm.tm_sec = 0;
				} else {
					int s = next_bit(ev->sec, tm.tm_sec, 60);
					if (s == tm.tm_sec) {
						/* every field of t itself matches */
						*next = t;
						return 0;
					}
					if (s < 0) {
						tm.tm_min++;
						tm.tm_sec = 0;
					} else {
						tm.tm_sec = s;
					}
				}
			}
		}
		t2 = compose(&tm, utc);
		t = t2 > t ? t2 : t + 1;
	}
	return tp_err_set(err, -TP_ENOTFOUND, "calendar event has no occurrence after %lld", (long long)after);
}

static const struct { const char *name; int64_t secs; } units[] = {
	{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
	{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
	{ "h", 3600 }, { "hr", 3600 }, { "hour", 3600 }, { "hours", 3600 },
	{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
	{ "w", 604800 }, { "week", 604800 }, { "weeks", 604800 },
	{ "M", 2630016 }, { "month", 2630016 }, { "months", 2630016 },
	{ "y", 31557600 }, { "year", 31557600 }, { "years", 31557600 },
};

int tp_timespan_parse(const char *text, int64_t *seconds, tp_err *err)
{
	const char *s = text;
	int64_t total = 0;
	int terms = 0;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (!isdigit((unsigned char)*s))
			return tp_err_set(err, -EINVAL, "invalid time span '%s': expected a number at '%s'", text, s);
		int64_t v = 0;
		while (isdigit((unsigned char)*s)) {
			if (v > (INT64_MAX - 9) / 10)
				return tp_err_set(err, -ERANGE, "invalid time span '%s': number too large", text);
			v = v * 10 + (*s++ - '0');
		}
		while (*s == ' ')
			s++;
		const char *u = s;
		while (isalpha((unsigned char)*s))
			s++;
		size_t ul = (size_t)(s - u);
		int64_t mult = -1;
		if (ul == 0) {
			mult = 1;
		} else {
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
				if (strlen(units[i].name) != ul || strncmp(units[i].name, u, ul))
					continue;
				mult = units[i].secs;
				break;
			}
			/* "M" is month, but "Min"/"Hours" etc. in any case are accepted */
			if (mult < 0 && ul > 1) {
				char low[16];
				if (ul < sizeof(low)) {
					for (size_t i = 0; i < ul; i++)
						low[i] = (char)tolower((unsigned char)u[i]);
					low[ul] = 0;
					for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
						if (!strcmp(units[i].name, low))
							mult = units[i].secs;
				}
			}
		}
		if (mult < 0)
			return tp_err_set(err, -EINVAL, "invalid time span '%s': unknown unit '%.*s'", text,
					  (int)(ul > 32 ? 32 : ul), u);
		if (v > (INT64_MAX - total) / mult)
			return tp_err_set(err, -ERANGE, "invalid time span '%s': too large", text);
		total += v * mult;
		terms++;
	}
	if (!terms)
		return tp_err_set(err, -EINVAL, "invalid time span '%s': empty", text);
	*seconds = total;
	return 0;
}

void tp_timespan_format(int64_t seconds, char out[64])
{
	static const struct { char u; int64_t s; } parts[] = { { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t o = 0;
	out[0] = 0;
	if (seconds <= 0) {
		snprintf(out, 64, "%llds", (long long)seconds);
		return;
	}
	for (size_t i = 0; i < 4; i++) {
		int64_t v = seconds / parts[i].s;
		seconds %= parts[i].s;
		if (v && o < 63)
			o += (size_t)snprintf(out + o, 64 - o, "%s%lld%c", o ? " " : "", (long long)v, parts[i].u);
	}
}
