/* RFC 3339 time helpers (see timefmt.h). */
#include "base/timefmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void tp_time_utc(int64_t epoch, char out[21])
{
	time_t t = (time_t)epoch;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void tp_time_local(int64_t epoch, char out[32])
{
	time_t t = (time_t)epoch;
	struct tm tm;
	localtime_r(&t, &tm);
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	if (off < 0)
		off = -off;
	char base[24];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s%c%02ld:%02ld", base, sign, off / 3600, (off / 60) % 60);
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int parse_base(const char *s, struct tm *tm)
{
	int y, mo, d, h, mi, se;
	if (strlen(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return -EINVAL;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return -EINVAL;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -EINVAL;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = se;
	/* reject dates that timegm would normalise (e.g. Feb 31) */
	struct tm chk = *tm;
	time_t t = timegm(&chk);
	if (t == (time_t)-1 || chk.tm_mday != d || chk.tm_mon != mo - 1)
		return -EINVAL;
	return 0;
}

int tp_time_parse_utc(const char *s, int64_t *epoch)
{
	struct tm tm;
	if (strlen(s) != 20 || s[19] != 'Z' || parse_base(s, &tm) < 0)
		return -EINVAL;
	*epoch = (int64_t)timegm(&tm);
	return 0;
}

int tp_time_parse_rfc3339(const char *s, int64_t *epoch)
{
	struct tm tm;
	if (parse_base(s, &tm) < 0)
		return -EINVAL;
	const char *p = s + 19;
	if (*p == '.') { /* fractional seconds are ignored */
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	int64_t t = (int64_t)timegm(&tm);
	if (!strcmp(p, "Z")) {
		*epoch = t;
		return 0;
	}
	int oh, om;
	if ((p[0] != '+' && p[0] != '-') || strlen(p) != 6 || p[3] != ':' || digits(p + 1, 2, &oh) ||
	    digits(p + 4, 2, &om))
		return -EINVAL;
	int64_t off = (int64_t)oh * 3600 + om * 60;
	*epoch = p[0] == '+' ? t - off : t + off;
	return 0;
}

int64_t tp_now(void) { return (int64_t)time(NULL); }

double tp_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tp_time_left(double elapsed_s, uint64_t done, uint64_t total, char out[16])
{
	out[0] = 0;
	if (!done || done >= total || !(elapsed_s >= 1.0))
		return;
	double s = elapsed_s * ((double)(total - done) / (double)done);
	long v = s < 3599999.0 ? (long)(s + 0.5) : 3599999L;
	snprintf(out, 16, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
}
