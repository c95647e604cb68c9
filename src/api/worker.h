/* API worker tasks: long operations in threads of the server process that outlive the request. */
#ifndef TAPIR_API_WORKER_H
#define TAPIR_API_WORKER_H

#include <stddef.h>

#include "base/err.h"

/* The body of a worker: runs inside its task (tp_info/tp_task_check_abort work); 0 or -code with err set. */
typedef int (*tp_api_worker_fn)(void *arg, tp_err *err);

/*
 * Starts a worker task (type, id, authid) in a new thread of this process:
 * the thread starts the task, runs fn(arg), finishes the task with fn's
 * result and calls free_arg(arg) (may be NULL; also called when the start
 * fails).  Returns once the task exists, with its UPID in upid_out
 * (TP_UPID_MAX bytes).  In synchronous mode fn runs in the calling thread
 * and the call returns after the task finished (its result is not
 * returned: read the task status).  A client disconnecting does not
 * matter: nothing ties the thread to the request.
 */
int tp_api_worker_start(const char *type, const char *id, const char *authid, tp_api_worker_fn fn, void *arg,
			void (*free_arg)(void *), char *upid_out, tp_err *err);

/* Synchronous mode for the CLI (default off). */
void tp_api_workers_set_sync(int sync);

/* Number of worker threads still running. */
size_t tp_api_workers_running(void);

/* 1 when upid is a worker of this process that is still running. */
int tp_api_worker_is_running(const char *upid);

/*
 * Refuses new workers, asks every running one to abort (their tasks end
 * "aborted" when they honour it) and waits up to timeout_ms for them to
 * finish.  Returns how many are still running.
 */
size_t tp_api_workers_shutdown(int timeout_ms);

/* Allows new workers again after a shutdown (tests). */
void tp_api_workers_reset(void);

#endif
