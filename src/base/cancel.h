/* Cancellation points: the layer that runs jobs says how to ask "aborted?"; store and tape loops only ask. */
#ifndef TAPIR_BASE_CANCEL_H
#define TAPIR_BASE_CANCEL_H

#include "base/err.h"
#include "base/log.h"

/* Returns 0 to go on, or a negative code (-TP_EABORT) with the reason in err. */
typedef int (*tp_cancel_fn)(void *ctx, tp_err *err);

/* Process-wide check (a job in the main thread); NULL removes it. */
void tp_cancel_set(tp_cancel_fn fn, void *ctx);
/* The calling thread's check, taking precedence (concurrent jobs in a server); NULL removes it. */
void tp_cancel_set_thread(tp_cancel_fn fn, void *ctx);
/* 0 when no check is installed or the job goes on; else the check's code. */
int tp_cancel_check(tp_err *err);

/*
 * What a thread runs under (its own log sink and cancel check), so that a
 * thread started for a job logs into and stops with that job: get it in the
 * starting thread, set it first thing in the new one.
 */
typedef struct tp_thread_ctx {
	tp_log_sink sink;
	void *sink_ctx;
	tp_cancel_fn cancel;
	void *cancel_ctx;
} tp_thread_ctx;

void tp_thread_ctx_get(tp_thread_ctx *c);
void tp_thread_ctx_set(const tp_thread_ctx *c);

#endif
