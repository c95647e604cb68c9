/* Parallel chunk pipeline (see chunk_pipeline.h). */
#include "store/chunk_pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct tp_chunk_job {
	uint8_t *buf;
	size_t len;
	uint8_t digest[32];
	uint64_t blob_len;
	int dup;
	int done;
	int rc;
	tp_err err;
};

struct tp_chunk_worker {
	tp_chunk_pipeline *p;
	tp_buf blob; /* reused for every chunk this worker encodes */
};

static size_t page_round(size_t n)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t pg = ps > 0 ? (size_t)ps : 4096;
	return (n + pg - 1) / pg * pg;
}

static void *worker(void *arg)
{
	struct tp_chunk_worker *w = arg;
	tp_chunk_pipeline *p = w->p;
	struct tp_chunk_job *j;
	while ((j = tp_queue_pop(&p->pending_jobs))) {
		tp_buf_reset(&w->blob);
		j->rc = p->encode(p->encode_ctx, j->buf, j->len, j->digest, &w->blob, &j->err);
		if (j->rc == 0)
			j->rc = tp_chunk_store_insert(p->cs, j->digest, w->blob.data, w->blob.len, &j->dup, &j->err);
		j->blob_len = w->blob.len;
		/* an unusually large blob should not stay resident for the rest of the run */
		if (w->blob.cap > p->buf_keep + (p->buf_keep >> 3) + 4096)
			tp_buf_free(&w->blob);
		pthread_mutex_lock(&p->mu);
		j->done = 1;
		pthread_cond_broadcast(&p->done_cv);
		pthread_mutex_unlock(&p->mu);
	}
	tp_buf_free(&w->blob);
	return NULL;
}

int tp_chunk_pipeline_start(tp_chunk_pipeline *p, tp_chunk_store *cs, int nthreads, size_t buf_cap,
			    size_t buf_keep, tp_chunk_encode_fn enc, void *enc_ctx, tp_chunk_result_fn res,
			    void *res_ctx, tp_err *err)
{
	memset(p, 0, sizeof(*p));
	if (nthreads <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = n > 0 ? (int)n : 1;
	}
	if (nthreads > 64)
		nthreads = 64;
	if (buf_cap == 0 || buf_cap > (256u << 20))
		return tp_err_set(err, -EINVAL, "chunk pipeline: buffer size %zu out of range", buf_cap);
	p->cs = cs;
	p->encode = enc;
	p->encode_ctx = enc_ctx;
	p->result = res;
	p->result_ctx = res_ctx;
	p->buf_cap = page_round(buf_cap);
	p->buf_keep = page_round(buf_keep < buf_cap ? buf_keep : buf_cap);
	/* one buffer being filled, one per worker, one finished and waiting for delivery */
	p->depth = (size_t)nthreads + 2;
	p->jobs = calloc(p->depth, sizeof(*p->jobs));
	p->bufs = calloc(p->depth, sizeof(*p->bufs));
	p->free_bufs = calloc(p->depth, sizeof(*p->free_bufs));
	p->threads = calloc((size_t)nthreads, sizeof(pthread_t));
	p->workers = calloc((size_t)nthreads, sizeof(*p->workers));
	if (!p->jobs || !p->bufs || !p->free_bufs || !p->threads || !p->workers ||
	    tp_queue_init(&p->pending_jobs, p->depth) < 0) {
		free(p->jobs);
		free(p->bufs);
		free(p->free_bufs);
		free(p->threads);
		free(p->workers);
		memset(p, 0, sizeof(*p));
		return tp_err_set(err, -ENOMEM, "out of memory (chunk pipeline)");
	}
	/* every slot starts free and unmapped */
	p->nfree = p->depth;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	for (int i = 0; i < nthreads; i++) {
		p->workers[i].p = p;
		if (pthread_create(&p->threads[i], NULL, worker, &p->workers[i]) != 0) {
			p->nthreads = i;
			tp_chunk_pipeline_stop(p);
			return tp_err_set(err, -EAGAIN, "cannot start chunk worker thread");
		}
		p->nthreads = i + 1;
	}
	return 0;
}

static void release_buf(tp_chunk_pipeline *p, uint8_t *buf, size_t used)
{
	if (used > p->buf_keep)
		madvise(buf + p->buf_keep, p->buf_cap - p->buf_keep, MADV_DONTNEED);
	p->free_bufs[p->nfree++] = buf;
}

/* Delivers the oldest job's result once it is done (blocking when `wait`); 1 = not done yet. */
static int deliver_one(tp_chunk_pipeline *p, int wait, tp_err *err)
{
	struct tp_chunk_job *j = &p->jobs[p->head];
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
		p->stored_bytes += j->blob_len;
		if (j->dup)
			p->dups++;
		else
			p->new_blob_bytes += j->blob_len;
		r = p->result(p->result_ctx, j->digest, j->len, j->blob_len, j->dup, err);
	}
	release_buf(p, j->buf, j->len);
	j->buf = NULL;
	p->head = (p->head + 1) % p->depth;
	p->count--;
	return r < 0 ? r : 0;
}

/* Delivers whatever is finished without waiting. */
static int deliver_ready(tp_chunk_pipeline *p, tp_err *err)
{
	int r;
	while (p->count && (r = deliver_one(p, 0, err)) != 1)
		if (r < 0)
			return r;
	return 0;
}

int tp_chunk_pipeline_get_buf(tp_chunk_pipeline *p, uint8_t **buf, tp_err *err)
{
	int r = deliver_ready(p, err);
	if (r < 0)
		return r;
	while (p->nfree == 0) {
		if (p->count == 0)
			return tp_err_set(err, -EINVAL, "chunk pipeline: every buffer is held by the caller");
		if ((r = deliver_one(p, 1, err)) < 0)
			return r;
	}
	uint8_t *b = p->free_bufs[--p->nfree];
	if (!b) {
		b = mmap(NULL, p->buf_cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (b == MAP_FAILED) {
			p->free_bufs[p->nfree++] = NULL;
			return tp_err_errno(err, "chunk pipeline: mapping a buffer of %zu bytes", p->buf_cap);
		}
		for (size_t i = 0; i < p->depth; i++)
			if (!p->bufs[i]) {
				p->bufs[i] = b;
				break;
			}
	}
	*buf = b;
	return 0;
}

void tp_chunk_pipeline_put_buf(tp_chunk_pipeline *p, uint8_t *buf)
{
	if (buf)
		release_buf(p, buf, p->buf_cap);
}

int tp_chunk_pipeline_submit_buf(tp_chunk_pipeline *p, uint8_t *buf, size_t len, tp_err *err)
{
	if (len > p->buf_cap || p->count == p->depth) {
		tp_chunk_pipeline_put_buf(p, buf);
		return tp_err_set(err, -EINVAL, "chunk pipeline: chunk of %zu bytes does not fit (buffer %zu, %zu queued)",
				  len, p->buf_cap, p->count);
	}
	struct tp_chunk_job *j = &p->jobs[(p->head + p->count) % p->depth];
	memset(j, 0, sizeof(*j));
	j->buf = buf;
	j->len = len;
	p->count++;
	if (tp_queue_push(&p->pending_jobs, j) < 0) {
		j->done = 1;
		j->rc = tp_err_set(&j->err, -EPIPE, "chunk pipeline stopped");
		return tp_err_set(err, -EPIPE, "chunk pipeline stopped");
	}
	return deliver_ready(p, err);
}

int tp_chunk_pipeline_submit(tp_chunk_pipeline *p, const uint8_t *data, size_t len, tp_err *err)
{
	if (len > p->buf_cap)
		return tp_err_set(err, -EINVAL, "chunk pipeline: chunk of %zu bytes exceeds the buffer size %zu", len,
				  p->buf_cap);
	uint8_t *b;
	int r = tp_chunk_pipeline_get_buf(p, &b, err);
	if (r < 0)
		return r;
	memcpy(b, data, len);
	return tp_chunk_pipeline_submit_buf(p, b, len, err);
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
	/* results nobody collected: the workers are gone, so every job is finished or never started */
	p->count = 0;
	tp_queue_destroy(&p->pending_jobs);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->done_cv);
	for (size_t i = 0; i < p->depth; i++)
		if (p->bufs[i])
			munmap(p->bufs[i], p->buf_cap);
	free(p->jobs);
	free(p->bufs);
	free(p->free_bufs);
	free(p->threads);
	free(p->workers);
	p->jobs = NULL;
	p->bufs = p->free_bufs = NULL;
	p->threads = NULL;
	p->workers = NULL;
}

static int ops_get(void *ctx, size_t cap, uint8_t **buf, tp_err *err)
{
	tp_chunk_pipeline *p = ctx;
	if (cap > p->buf_cap)
		return tp_err_set(err, -EINVAL, "chunk pipeline: stream wants buffers of %zu bytes, pool has %zu", cap,
				  p->buf_cap);
	return tp_chunk_pipeline_get_buf(p, buf, err);
}

static int ops_chunk(void *ctx, uint8_t *buf, size_t len, tp_err *err)
{
	return tp_chunk_pipeline_submit_buf(ctx, buf, len, err);
}

static void ops_put(void *ctx, uint8_t *buf)
{
	tp_chunk_pipeline_put_buf(ctx, buf);
}

const tp_chunk_stream_ops tp_chunk_pipeline_stream_ops = { ops_get, ops_chunk, ops_put };
