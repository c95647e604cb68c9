/* Parallel chunk pipeline: encode + digest + insert on worker threads, results in order. */
#ifndef TAPIR_STORE_CHUNK_PIPELINE_H
#define TAPIR_STORE_CHUNK_PIPELINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/queue.h"
#include "store/chunk_store.h"

/*
 * Turns raw chunk data into a blob and its digest (runs on worker threads,
 * must be thread-safe).  blob is an empty buffer owned by the pipeline.
 */
typedef int (*tp_chunk_encode_fn)(void *ctx, const uint8_t *data, size_t len, uint8_t digest[32],
				  tp_buf *blob, tp_err *err);
/* Receives each chunk's result in submission order (on the submitting thread). */
typedef int (*tp_chunk_result_fn)(void *ctx, const uint8_t digest[32], uint64_t raw_len,
				  uint64_t blob_len, int dup, tp_err *err);

struct tp_chunk_job;

typedef struct tp_chunk_pipeline {
	tp_chunk_store *cs;
	tp_chunk_encode_fn encode;
	void *encode_ctx;
	tp_chunk_result_fn result;
	void *result_ctx;
	tp_queue pending_jobs;
	pthread_t *threads;
	int nthreads;
	/* jobs in submission order; a window of at most `depth` in flight */
	struct tp_chunk_job **ring;
	size_t depth, head, count;
	uint64_t next_seq;
	pthread_mutex_t mu;
	pthread_cond_t done_cv;
	int failed;
	tp_err first_err;
	/* statistics */
	uint64_t chunks, dups, raw_bytes, stored_bytes, new_blob_bytes;
} tp_chunk_pipeline;

/* nthreads 0 = number of CPUs. */
int tp_chunk_pipeline_start(tp_chunk_pipeline *p, tp_chunk_store *cs, int nthreads, tp_chunk_encode_fn enc,
			    void *enc_ctx, tp_chunk_result_fn res, void *res_ctx, tp_err *err);
/* Copies data into a job and queues it; may block and deliver earlier results. */
int tp_chunk_pipeline_submit(tp_chunk_pipeline *p, const uint8_t *data, size_t len, tp_err *err);
/* Waits for every submitted job and delivers the remaining results. */
int tp_chunk_pipeline_flush(tp_chunk_pipeline *p, tp_err *err);
/* Stops the threads (after flush, or to abandon on error). */
void tp_chunk_pipeline_stop(tp_chunk_pipeline *p);

#endif
