/* Logging (see log.h). */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static tp_log_sink log_sink;
static void *log_ctx;
static int log_max = -1;
static int log_quiet;
static __thread tp_log_sink thr_sink;
static __thread void *thr_ctx;

void tp_log_set_thread_sink(tp_log_sink sink, void *ctx)
{
	thr_sink = sink;
	thr_ctx = ctx;
}

void tp_log_get_thread_sink(tp_log_sink *sink, void **ctx)
{
	*sink = thr_sink;
	*ctx = thr_ctx;
}

void tp_log_set_sink(tp_log_sink sink, void *ctx)
{
	pthread_mutex_lock(&log_mu);
	log_sink = sink;
	log_ctx = ctx;
	pthread_mutex_unlock(&log_mu);
}

void tp_log_set_level(enum tp_log_level max) { log_max = (int)max; }
void tp_log_set_quiet(int quiet) { log_quiet = quiet; }
int tp_log_quiet(void) { return log_quiet; }

void tp_log(enum tp_log_level lvl, const char *fmt, ...)
{
	if (log_max < 0) {
		const char *d = getenv("TAPIR_DEBUG");
		log_max = d && *d && *d != '0' ? TP_LOG_DEBUG : TP_LOG_INFO;
	}
	if ((int)lvl > log_max)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (thr_sink) {
		thr_sink(thr_ctx, lvl, line);
		return;
	}
	pthread_mutex_lock(&log_mu);
	if (log_sink) {
		log_sink(log_ctx, lvl, line);
	} else if (!log_quiet || lvl <= TP_LOG_WARN) {
		/* progress goes to stdout so that stderr carries only problems */
		const char *p = lvl == TP_LOG_ERROR ? "error: " : lvl == TP_LOG_WARN ? "warning: " : "";
		FILE *f = lvl <= TP_LOG_WARN ? stderr : stdout;
		fprintf(f, "%s%s\n", p, line);
		if (f == stdout)
			fflush(stdout);
	}
	pthread_mutex_unlock(&log_mu);
}
