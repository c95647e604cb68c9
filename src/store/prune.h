/* Prune selection: which snapshots of a group the keep-* options keep (PBS rules). */
#ifndef TAPIR_STORE_PRUNE_H
#define TAPIR_STORE_PRUNE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tp_prune_opts {
	unsigned keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly;
} tp_prune_opts;

enum tp_prune_mark { TP_PRUNE_REMOVE = 0, TP_PRUNE_KEEP, TP_PRUNE_KEEP_PARTIAL, TP_PRUNE_PROTECTED };

typedef struct tp_prune_item {
	int64_t time;       /* backup time */
	int finished;       /* manifest present */
	int protected_;     /* .protected marker */
	enum tp_prune_mark mark; /* output */
} tp_prune_item;

/* 1 when any keep option is set (no option at all keeps everything). */
int tp_prune_opts_any(const tp_prune_opts *o);

/*
 * Marks the items of ONE group (any order) as kept or removed, exactly as
 * PBS's compute_prune_info: protected snapshots are kept, the newest
 * unfinished one is kept as partial, then keep-last, -hourly, -daily,
 * -weekly (ISO week), -monthly, -yearly each keep the newest snapshot of
 * each of their N newest periods not already covered; periods are computed
 * in local time.
 */
void tp_prune_select(tp_prune_item *items, size_t n, const tp_prune_opts *o);

#endif
