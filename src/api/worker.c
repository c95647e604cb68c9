/* API worker threads (see worker.h). */
#include "api/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "task/task.h"

typedef struct worker {
	struct worker *next;
	char type[TP_WORKER_TYPE_MAX + 1];
	char id[TP_WORKER_ID_MAX + 1];
	char authid[TP_AUTHID_MAX + 1];
	tp_api_worker_fn fn;
	void *arg;
	void (*free_arg)(void *);
	char upid[TP_UPID_MAX];
	int started;     /* 1 task exists, -1 start failed */
	int done;
	int consumed;    /* the starter has read the start result */
	tp_err start_err;
	pthread_t thread;
} worker;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static worker *workers;     /* started threads, detached; removed when done */
static size_t nrunning;
static int sync_mode;
static int closed;

void tp_api_workers_set_sync(int sync) { sync_mode = sync; }

static int run_in_task(worker *w, tp_task *t)
{
	tp_err e = { 0 };
	tp_task_set_echo(t, 0);
	int r = w->fn(w->arg, &e);
	return tp_task_finish(t, r, r < 0 ? e.msg : NULL);
}

static void *thread_main(void *p)
{
	worker *w = p;
	tp_task *t = NULL;
	int r = tp_task_start_thread(w->type, w->id[0] ? w->id : NULL, w->authid, &t, &w->start_err);
	pthread_mutex_lock(&mu);
	if (r == 0)
		snprintf(w->upid, sizeof(w->upid), "%s", tp_task_upid(t));
	w->started = r == 0 ? 1 : -1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	if (r == 0)
		run_in_task(w, t);
	if (w->free_arg)
		w->free_arg(w->arg);
	pthread_mutex_lock(&mu);
	while (!w->consumed)
		pthread_cond_wait(&cv, &mu);
	w->done = 1;
	for (worker **pp = &workers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	nrunning--;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	free(w);
	return NULL;
}

int tp_api_worker_start(const char *type, const char *id, const char *authid, tp_api_worker_fn fn, void *arg,
			void (*free_arg)(void *), char *upid_out, tp_err *err)
{
	if (sync_mode) {
		tp_task *t;
		int r = tp_task_start(type, id && *id ? id : NULL, authid, &t, err);
		if (r == 0) {
			snprintf(upid_out, TP_UPID_MAX, "%s", tp_task_upid(t));
			tp_err e = { 0 };
			int rr = fn(arg, &e);
			tp_task_finish(t, rr, rr < 0 ? e.msg : NULL);
		}
		if (free_arg)
			free_arg(arg);
		return r;
	}
	worker *w = calloc(1, sizeof(*w));
	if (!w) {
		if (free_arg)
			free_arg(arg);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	snprintf(w->type, sizeof(w->type), "%s", type);
	snprintf(w->id, sizeof(w->id), "%s", id ? id : "");
	snprintf(w->authid, sizeof(w->authid), "%s", authid);
	w->fn = fn;
	w->arg = arg;
	w->free_arg = free_arg;
	pthread_mutex_lock(&mu);
	if (closed) {
		pthread_mutex_unlock(&mu);
		free(w);
		if (free_arg)
			free_arg(arg);
		return tp_err_set(err, -ESHUTDOWN, "the server is shutting down; no new tasks");
	}
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int pr = pthread_create(&w->thread, &at, thread_main, w);
	pthread_attr_destroy(&at);
	if (pr != 0) {
		pthread_mutex_unlock(&mu);
		free(w);
		if (free_arg)
			free_arg(arg);
		return tp_err_set(err, -pr, "cannot start a worker thread for %s: %s", type, strerror(pr));
	}
	w->next = workers;
	workers = w;
	nrunning++;
	while (!w->started)
		pthread_cond_wait(&cv, &mu);
	int r = 0;
	if (w->started < 0) {
		if (err)
			*err = w->start_err;
		r = w->start_err.code ? w->start_err.code : -EIO;
	} else {
		snprintf(upid_out, TP_UPID_MAX, "%s", w->upid);
	}
	w->consumed = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return r;
}

size_t tp_api_workers_running(void)
{
	pthread_mutex_lock(&mu);
	size_t n = nrunning;
	pthread_mutex_unlock(&mu);
	return n;
}

int tp_api_worker_is_running(const char *upid)
{
	int found = 0;
	pthread_mutex_lock(&mu);
	for (worker *w = workers; w && !found; w = w->next)
		found = w->started > 0 && !w->done && !strcmp(w->upid, upid);
	pthread_mutex_unlock(&mu);
	return found;
}

size_t tp_api_workers_shutdown(int timeout_ms)
{
	pthread_mutex_lock(&mu);
	closed = 1;
	for (worker *w = workers; w; w = w->next)
		if (w->started > 0 && !w->done)
			tp_task_stop(w->upid, NULL);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L)
		dl.tv_sec++, dl.tv_nsec -= 1000000000L;
	while (nrunning > 0)
		if (pthread_cond_timedwait(&cv, &mu, &dl) != 0)
			break;
	size_t n = nrunning;
	pthread_mutex_unlock(&mu);
	return n;
}

void tp_api_workers_reset(void)
{
	pthread_mutex_lock(&mu);
	closed = 0;
	pthread_mutex_unlock(&mu);
}
