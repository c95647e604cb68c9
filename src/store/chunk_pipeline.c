/* Parallel chunk pipeline (see chunk_pipeline.h). */
#include "store/chunk_pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct tp_chunk_job {
	uint8_t *data;
	size_t len;
	tp_buf blob;
	uint8_t digest[32];
	int dup;
	int done;
	int rc;
	tp_err err;
	tp_chunk_pipeline *p;
};

static void *worker(void *arg)
{
	tp_chunk_pipeline *p = arg;
	struct tp_chunk_job *j;
	while ((j = tp_queue_pop(&p->pending_jobs))) {
		j->rc = p->encode(p->encode_ctx, j->data, j->len, j->digest, &j->blob, &j->err);
		if (j->rc == 0)
			j->rc = tp_chunk_store_insert(p->cs, j->digest, j->blob.data, j->blob.len, &j->dup, &j->err);
		free(j->data);
		j->data = NULL;
		pthread_mutex_lock(&p->mu);
		j->done = 1;
		pthread_cond_broadcast(&p->done_cv);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

int tp_chunk_pipeline_start(tp_chunk_pipeline *p, tp_chunk_store *cs, int nthreads, tp_chunk_encode_fn enc,
			    void *enc_ctx, tp_chunk_result_fn res, void *res_ctx, tp_err *err)
{
	memset(p, 0, sizeof(*p));
	if (nthreads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (int)n : 1;
	}
	p->cs = cs;
	p->encode = enc;
	p->encode_ctx = enc_ctx;
	p->result = res;
	p->result_ctx = res_ctx;
	p->depth = (size_t)nthreads * 2 + 2;
	p->ring = calloc(p->depth, sizeof(*p->ring));
	p->threads = calloc((size_t)nthreads, sizeof(pthread_t));
	if (!p->ring || !p->threads || tp_queue_init(&p->pending_jobs, p->depth) < 0) {
		free(p->ring);
		free(p->threads);
		return tp_err_set(err, -ENOMEM, "out of memory (chunk pipeline)");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	for (int i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
			p->nthreads = i;
			tp_chunk_pipeline_stop(p);
			return tp_err_set(err, -EAGAIN, "cannot start chunk worker thread");
		}
		p->nthreads = i + 1;
	}
	return 0;
}

/* Delivers the oldest job's result once it is done (blocking when `wait`). */
static int deliver_one(tp_chunk_pipeline *p, int wait, tp_err *err)
{
	struct tp_chunk_job *j = p->ring[p->head];
	pthread_mutex_lock(&p->mu);
	while (!j->done && wait)
		pthread_cond_wait(&p->done_cv, &p->mu);
	int done = j->done;
	pthread_mutex_unlock(&p->mu);
	if (!done)
		return 1;
	int r = j->rc;
	if (r < 0) {
		if (err)
			*err = j->err;
	} else {
		p->chunks++;
		p->raw_bytes += j->len;
		p->stored_bytes += j->blob.len;
		if (j->dup)
			p->dups++;
		else
			p->new_blob_bytes += j->blob.len;
		r = p->result(p->result_ctx, j->digest, j->len, j->blob.len, j->dup, err);
	}
	tp_buf_free(&j->blob);
	free(j);
	p->ring[p->head] = NULL;
	p->head = (p->head + 1) % p->depth;
	p->count--;
	return r < 0 ? r : 0;
}

int tp_chunk_pipeline_submit(tp_chunk_pipeline *p, const uint8_t *data, size_t len, tp_err *err)
{
	int r;
	/* deliver finished results without waiting, then make room */
	while (p->count && (r = deliver_one(p, 0, err)) != 1)
		if (r < 0)
			return r;
	if (p->count == p->depth && (r = deliver_one(p, 1, err)) < 0)
		return r;
	struct tp_chunk_job *j = calloc(1, sizeof(*j));
	if (!j || !(j->data = malloc(len ? len : 1))) {
		free(j);
		return tp_err_set(err, -ENOMEM, "out of memory (chunk of %zu bytes)", len);
	}
	memcpy(j->data, data, len);
	j->len = len;
	j->p = p;
	p->ring[(p->head + p->count) % p->depth] = j;
	p->count++;
	p->next_seq++;
	if (tp_queue_push(&p->pending_jobs, j) < 0)
		return tp_err_set(err, -EPIPE, "chunk pipeline stopped");
	return 0;
}

int tp_chunk_pipeline_flush(tp_chunk_pipeline *p, tp_err *err)
{
	int r = 0;
	while (p->count) {
		int x = deliver_one(p, 1, r < 0 ? NULL : err);
		if (x < 0 && r == 0)
			r = x;
	}
	return r;
}

void tp_chunk_pipeline_stop(tp_chunk_pipeline *p)
{
	if (!p->threads)
		return;
	tp_queue_close(&p->pending_jobs);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* drop results nobody collected */
	while (p->count) {
		struct tp_chunk_job *j = p->ring[p->head];
		free(j->data);
		tp_buf_free(&j->blob);
		free(j);
		p->head = (p->head + 1) % p->depth;
		p->count--;
	}
	tp_queue_destroy(&p->pending_jobs);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->done_cv);
	free(p->ring);
	free(p->threads);
	p->ring = NULL;
	p->threads = NULL;
}
