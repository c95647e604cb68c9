/* Parallel chunk pipeline: encode + digest + insert on worker threads, results in order, bounded buffers. */
#ifndef TAPIR_STORE_CHUNK_PIPELINE_H
#define TAPIR_STORE_CHUNK_PIPELINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/queue.h"
#include "store/chunk_store.h"
#include "store/chunker.h"

/*
 * Turns raw chunk data into a blob and its digest (runs on worker threads,
 * must be thread-safe).  blob is an empty buffer owned by the worker.
 */
typedef int (*tp_chunk_encode_fn)(void *ctx, const uint8_t *data, size_t len, uint8_t digest[32],
				  tp_buf *blob, tp_err *err);
/* Receives each chunk's result in submission order (on the submitting thread). */
typedef int (*tp_chunk_result_fn)(void *ctx, const uint8_t digest[32], uint64_t raw_len,
				  uint64_t blob_len, int dup, tp_err *err);

struct tp_chunk_job;
struct tp_chunk_worker;

/*
 * Memory is bounded: chunk data lives in a fixed pool of buffers of buf_cap
 * bytes (worker threads + 2), each either free, being filled by the
 * submitter, or owned by one job until its result is delivered.  Pages
 * beyond buf_keep bytes of a returned buffer are given back to the kernel.
 */
typedef struct tp_chunk_pipeline {
	tp_chunk_store *cs;
	tp_chunk_encode_fn encode;
	void *encode_ctx;
	tp_chunk_result_fn result;
	void *result_ctx;
	tp_queue pending_jobs;
	pthread_t *threads;
	struct tp_chunk_worker *workers;
	int nthreads;
	/* jobs in submission order; at most `depth` (= number of buffers) in flight */
	struct tp_chunk_job *jobs;
	size_t depth, head, count;
	/* buffer pool */
	uint8_t **bufs;           /* every buffer (NULL = not mapped yet) */
	uint8_t **free_bufs;
	size_t nfree;
	size_t buf_cap, buf_keep;
	pthread_mutex_t mu;
	pthread_cond_t done_cv;
	/* statistics */
	uint64_t chunks, dups, raw_bytes, stored_bytes, new_blob_bytes;
} tp_chunk_pipeline;

/*
 * nthreads 0 = number of CPUs.  buf_cap is the largest chunk (for a chunk
 * stream: its cap), buf_keep the pages kept resident per free buffer.
 */
int tp_chunk_pipeline_start(tp_chunk_pipeline *p, tp_chunk_store *cs, int nthreads, size_t buf_cap,
			    size_t buf_keep, tp_chunk_encode_fn enc, void *enc_ctx, tp_chunk_result_fn res,
			    void *res_ctx, tp_err *err);
/* A free buffer of buf_cap bytes; while none is free, waits for and delivers the oldest result. */
int tp_chunk_pipeline_get_buf(tp_chunk_pipeline *p, uint8_t **buf, tp_err *err);
/* Takes a buffer back unused. */
void tp_chunk_pipeline_put_buf(tp_chunk_pipeline *p, uint8_t *buf);
/* Queues buf[0..len) (a buffer from get_buf; ownership passes, also on error); delivers finished results. */
int tp_chunk_pipeline_submit_buf(tp_chunk_pipeline *p, uint8_t *buf, size_t len, tp_err *err);
/* Copies data (at most buf_cap bytes) into a pool buffer and queues it. */
int tp_chunk_pipeline_submit(tp_chunk_pipeline *p, const uint8_t *data, size_t len, tp_err *err);
/* Waits for every submitted job and delivers the remaining results. */
int tp_chunk_pipeline_flush(tp_chunk_pipeline *p, tp_err *err);
/* Stops the threads (after flush, or to abandon on error) and unmaps the buffers. */
void tp_chunk_pipeline_stop(tp_chunk_pipeline *p);

/* Chunk stream ops feeding a pipeline (ctx = the tp_chunk_pipeline); its cap must be <= buf_cap. */
extern const tp_chunk_stream_ops tp_chunk_pipeline_stream_ops;

#endif
