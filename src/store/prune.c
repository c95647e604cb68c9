/* Prune selection (see prune.h). */
#include "store/prune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tp_prune_opts_any(const tp_prune_opts *o)
{
	return o->keep_last || o->keep_hourly || o->keep_daily || o->keep_weekly || o->keep_monthly ||
	       o->keep_yearly;
}

static int by_time_desc(const void *a, const void *b)
{
	const tp_prune_item *x = *(tp_prune_item *const *)a, *y = *(tp_prune_item *const *)b;
	return x->time < y->time ? 1 : x->time > y->time ? -1 : 0;
}

typedef void (*period_fn)(int64_t t, char out[32]);

static void p_last(int64_t t, char out[32]) { snprintf(out, 32, "%lld", (long long)t); }
static void fmt_local(int64_t t, const char *f, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	strftime(out, 32, f, &tm);
}
static void p_hour(int64_t t, char out[32]) { fmt_local(t, "%Y/%m/%d/%H", out); }
static void p_day(int64_t t, char out[32]) { fmt_local(t, "%Y/%m/%d", out); }
static void p_week(int64_t t, char out[32]) { fmt_local(t, "%G/%V", out); }
static void p_month(int64_t t, char out[32]) { fmt_local(t, "%Y/%m", out); }
static void p_year(int64_t t, char out[32]) { fmt_local(t, "%Y", out); }

static int in_set(char (*set)[32], size_t n, const char *k)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(set[i], k))
			return 1;
	return 0;
}

/* items sorted newest first; marks: -1 = unmarked */
static void mark_selection(tp_prune_item **items, int *marked, size_t n, unsigned keep, period_fn fn)
{
	if (!keep)
		return;
	char (*already)[32] = calloc(n + 1, 32);
	char (*included)[32] = calloc(n + 1, 32);
	size_t na = 0, ni = 0;
	if (!already || !included)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (marked[i] && (items[i]->mark == TP_PRUNE_KEEP || items[i]->mark == TP_PRUNE_KEEP_PARTIAL))
			fn(items[i]->time, already[na++]);
	for (size_t i = 0; i < n; i++) {
		if (marked[i])
			continue;
		if (items[i]->protected_) {
			items[i]->mark = TP_PRUNE_PROTECTED;
			marked[i] = 1;
			continue;
		}
		char key[32];
		fn(items[i]->time, key);
		if (in_set(already, na, key))
			continue;
		if (!in_set(included, ni, key)) {
			if (ni >= keep)
				break;
			strcpy(included[ni++], key);
			items[i]->mark = TP_PRUNE_KEEP;
			marked[i] = 1;
		} else {
			items[i]->mark = TP_PRUNE_REMOVE;
			marked[i] = 1;
		}
	}
out:
	free(already);
	free(included);
}

void tp_prune_select(tp_prune_item *items, size_t n, const tp_prune_opts *o)
{
	if (!n)
		return;
	tp_prune_item **v = calloc(n, sizeof(*v));
	int *marked = calloc(n, sizeof(int));
	if (!v || !marked) {
		for (size_t i = 0; i < n; i++) /* keep everything rather than guess */
			items[i].mark = TP_PRUNE_KEEP;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &items[i];
	qsort(v, n, sizeof(*v), by_time_desc);
	if (!tp_prune_opts_any(o)) {
		for (size_t i = 0; i < n; i++)
			v[i]->mark = v[i]->protected_ ? TP_PRUNE_PROTECTED : TP_PRUNE_KEEP;
		goto out;
	}
	/* the newest unfinished backup may still be running: keep it */
	for (size_t i = 0; i < n; i++) {
		if (!v[i]->finished) {
			v[i]->mark = TP_PRUNE_KEEP_PARTIAL;
			marked[i] = 1;
			break;
		}
	}
	mark_selection(v, marked, n, o->keep_last, p_last);
	mark_selection(v, marked, n, o->keep_hourly, p_hour);
	mark_selection(v, marked, n, o->keep_daily, p_day);
	mark_selection(v, marked, n, o->keep_weekly, p_week);
	mark_selection(v, marked, n, o->keep_monthly, p_month);
	mark_selection(v, marked, n, o->keep_yearly, p_year);
	for (size_t i = 0; i < n; i++) {
		if (marked[i])
			continue;
		v[i]->mark = v[i]->protected_ ? TP_PRUNE_PROTECTED : TP_PRUNE_REMOVE;
	}
out:
	free(v);
	free(marked);
}
