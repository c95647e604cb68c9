/* Cancellation points and per-thread job context (see cancel.h). */
#include "base/cancel.h"

#include <pthread.h>

static pthread_mutex_t cancel_mu = PTHREAD_MUTEX_INITIALIZER;
static tp_cancel_fn proc_fn;
static void *proc_ctx;
static __thread tp_cancel_fn thr_fn;
static __thread void *thr_ctx;

void tp_cancel_set(tp_cancel_fn fn, void *ctx)
{
	pthread_mutex_lock(&cancel_mu);
	proc_fn = fn;
	proc_ctx = ctx;
	pthread_mutex_unlock(&cancel_mu);
}

void tp_cancel_set_thread(tp_cancel_fn fn, void *ctx)
{
	thr_fn = fn;
	thr_ctx = ctx;
}

int tp_cancel_check(tp_err *err)
{
	if (thr_fn)
		return thr_fn(thr_ctx, err);
	pthread_mutex_lock(&cancel_mu);
	tp_cancel_fn fn = proc_fn;
	void *ctx = proc_ctx;
	pthread_mutex_unlock(&cancel_mu);
	return fn ? fn(ctx, err) : 0;
}

void tp_thread_ctx_get(tp_thread_ctx *c)
{
	tp_log_get_thread_sink(&c->sink, &c->sink_ctx);
	c->cancel = thr_fn;
	c->cancel_ctx = thr_ctx;
}

void tp_thread_ctx_set(const tp_thread_ctx *c)
{
	tp_log_set_thread_sink(c->sink, c->sink_ctx);
	tp_cancel_set_thread(c->cancel, c->cancel_ctx);
}
