/* Snapshot verification (see verify.h). */
#include "store/verify.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/digest_set.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "format/blob.h"
#include "format/manifest.h"
#include "store/archive_reader.h"

/*
 * Chunks are checked by a small pool of threads (read, CRC, decompress,
 * SHA-256 all in the worker) in batches; the main thread owns the digest set
 * and the report, so only the batch hand-over is shared.
 */
#define VERIFY_BATCH 1024
#define VERIFY_MAX_THREADS 8

struct vjob {
	uint8_t d[32];
	int bad;            /* 0 good, 1 corrupt or missing */
	char *reason;       /* malloc'd when bad */
	uint64_t bytes;
};

struct vpool {
	tp_datastore *ds;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct vjob jobs[VERIFY_BATCH];
	size_t njobs, next, finished;
	unsigned gen;       /* bumped for every batch */
	int stop;
	pthread_t th[VERIFY_MAX_THREADS];
	int nth;
};

/* value in the checked set: 0 good, 1 bad */
struct vctx {
	tp_datastore *ds;
	tp_digest_set checked;
	json_t *bad;        /* digest hex -> {reason, snapshots[]} */
	tp_verify_stats *st;
	struct vpool *pool;
};

static void check_chunk(tp_datastore *ds, struct vjob *j, tp_buf *raw, tp_buf *plain)
{
	tp_err e = { 0 };
	tp_buf_reset(raw);
	int r = tp_chunk_store_read(&ds->cs, j->d, raw, &e);
	if (r == 0) {
		j->bytes = raw->len;
		int kind = tp_blob_check(raw->data, raw->len, "chunk", &e);
		r = kind < 0 ? kind : 0;
		if (r == 0 && !tp_blob_kind_encrypted(kind)) {
			tp_buf_reset(plain);
			r = tp_blob_decode(raw->data, raw->len, NULL, TP_BLOB_MAX_SIZE, j->d, "chunk", plain, &e);
		}
	}
	j->bad = r < 0;
	if (r < 0) {
		j->reason = strdup(r == -TP_ENOTFOUND ? "missing" : e.msg);
		if (r != -TP_ENOTFOUND)
			tp_chunk_store_mark_bad(&ds->cs, j->d, NULL);
	}
}

static void *pool_worker(void *arg)
{
	struct vpool *p = arg;
	tp_buf raw = TP_BUF_INIT, plain = TP_BUF_INIT;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next >= p->njobs)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->stop)
			break;
		struct vjob *j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->mu);
		check_chunk(p->ds, j, &raw, &plain);
		pthread_mutex_lock(&p->mu);
		if (++p->finished == p->njobs)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	tp_buf_free(&raw);
	tp_buf_free(&plain);
	return NULL;
}

static int pool_start(struct vpool *p, tp_datastore *ds, tp_err *err)
{
	memset(p, 0, sizeof(*p));
	p->ds = ds;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus < 1 ? 1 : cpus > VERIFY_MAX_THREADS ? VERIFY_MAX_THREADS : (int)cpus;
	for (int i = 0; i < want; i++) {
		int e = pthread_create(&p->th[i], NULL, pool_worker, p);
		if (e) {
			if (p->nth > 0)
				break; /* fewer threads still work */
			return tp_err_set(err, -e, "start verify worker: %s", strerror(e));
		}
		p->nth++;
	}
	return 0;
}

static void pool_stop(struct vpool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
}

/* Checks the queued chunks on the pool, then records the results in the set and the report. */
static int run_batch(struct vctx *v, tp_err *err)
{
	struct vpool *p = v->pool;
	if (!p->njobs)
		return 0;
	pthread_mutex_lock(&p->mu);
	p->next = 0;
	p->finished = 0;
	pthread_cond_broadcast(&p->work);
	while (p->finished < p->njobs)
		pthread_cond_wait(&p->done, &p->mu);
	size_t n = p->njobs;
	p->njobs = 0;
	pthread_mutex_unlock(&p->mu);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		struct vjob *j = &p->jobs[i];
		v->st->chunks++;
		v->st->bytes += j->bytes;
		if (j->bad) {
			char hex[65];
			tp_hex_encode(j->d, 32, hex);
			uint64_t *state = tp_digest_set_ref(&v->checked, j->d);
			if (state)
				*state = 1;
			v->st->chunks_bad++;
			const char *reason = j->reason ? j->reason : "out of memory";
			json_object_set_new(v->bad, hex, json_pack("{s:s,s:[]}", "reason", reason, "snapshots"));
			tp_warn("chunk %s: %s", hex, reason);
		}
		free(j->reason);
		memset(j, 0, sizeof(*j));
	}
	(void)err;
	return r;
}

/* Verifies the chunks of one index; returns the number of bad chunks it references. */
static long verify_index(struct vctx *v, const char *path, const char *snapname, tp_err *err)
{
	tp_archive_reader ar;
	int r = tp_archive_reader_open(&ar, &v->ds->cs, path, NULL, err);
	if (r < 0)
		return r;
	/* pass 1: every chunk not seen in this run goes to the pool */
	for (size_t i = 0; i < ar.count && r == 0; i++) {
		const uint8_t *d = tp_archive_reader_digest(&ar, i);
		int added = tp_digest_set_add(&v->checked, d, 0);
		if (added < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (!added)
			continue;
		memcpy(v->pool->jobs[v->pool->njobs++].d, d, 32);
		if (v->pool->njobs == VERIFY_BATCH && (r = tp_cancel_check(err)) == 0)
			r = run_batch(v, err);
	}
	if (r == 0)
		r = run_batch(v, err);
	if (r < 0) {
		tp_archive_reader_close(&ar);
		return r;
	}
	/* pass 2: count this index's references to bad chunks, name the snapshot at each */
	long bad = 0;
	for (size_t i = 0; i < ar.count; i++) {
		const uint8_t *d = tp_archive_reader_digest(&ar, i);
		uint64_t state = 0;
		tp_digest_set_get(&v->checked, d, &state);
		if (!state)
			continue;
		char hex[65];
		tp_hex_encode(d, 32, hex);
		bad++;
		json_t *snaps = json_object_get(json_object_get(v->bad, hex), "snapshots");
		size_t k;
		json_t *x;
		int seen = 0;
		json_array_foreach(snaps, k, x) seen |= !strcmp(json_string_value(x), snapname);
		if (!seen)
			json_array_append_new(snaps, json_string(snapname));
	}
	tp_archive_reader_close(&ar);
	return bad;
}

static int verify_snapshot(struct vctx *v, const tp_snapshot_ref *s, char reason[512], tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX], snapname[TP_SNAPSHOT_PATH_MAX + 40];
	tp_snapshot_ref_path(s, rel, sizeof(rel));
	snprintf(snapname, sizeof(snapname), "%s", rel);
	char *dir = tp_datastore_path(v->ds, rel);
	char *mpath = dir ? tp_path_join(dir, TP_MANIFEST_NAME) : NULL;
	tp_buf b = TP_BUF_INIT;
	tp_manifest m;
	int have_m = 0, r;
	tp_err e = { 0 };
	if (!mpath) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = tp_read_file(mpath, &b, TP_BLOB_MAX_SIZE, &e);
	if (r == 0)
		r = tp_manifest_decode_blob(&m, b.data, b.len, mpath, &e);
	if (r < 0) {
		snprintf(reason, 512, "manifest: %s", e.msg);
		r = 1;
		goto out;
	}
	have_m = 1;
	long bad = 0;
	for (size_t i = 0; i < m.nfiles; i++) {
		const tp_manifest_file *f = &m.files[i];
		char *p = tp_path_join(dir, f->filename);
		if (!p) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		const char *ext = strrchr(f->filename, '.');
		if (ext && !strcmp(ext, ".blob")) {
			tp_buf fb = TP_BUF_INIT;
			uint8_t d[32];
			if (tp_read_file(p, &fb, TP_BLOB_MAX_SIZE, &e) < 0) {
				snprintf(reason, 512, "%s: %s", f->filename, e.msg);
				r = 1;
			} else {
				tp_sha256(fb.data, fb.len, d);
				if (fb.len != f->size || memcmp(d, f->csum, 32)) {
					snprintf(reason, 512, "%s: size or checksum differs from the manifest", f->filename);
					r = 1;
				}
			}
			tp_buf_free(&fb);
		} else {
			tp_archive_reader ar;
			uint8_t csum[32];
			int x = tp_archive_reader_open(&ar, &v->ds->cs, p, NULL, &e);
			if (x == 0) {
				x = ar.fixed ? tp_fidx_compute_csum(&ar.fidx, csum) : tp_didx_compute_csum(&ar.didx, csum);
				if (x == 0 && (memcmp(csum, f->csum, 32) || ar.size != f->size)) {
					x = -TP_EDIGEST;
					snprintf(e.msg, sizeof(e.msg), "index checksum or size differs from the manifest");
				}
				tp_archive_reader_close(&ar);
			}
			if (x < 0) {
				snprintf(reason, 512, "%s: %s", f->filename, e.msg);
				r = 1;
			} else {
				long n = verify_index(v, p, snapname, err);
				if (n < 0) {
					free(p);
					r = (int)n;
					goto out;
				}
				bad += n;
			}
		}
		free(p);
		if (r)
			goto out;
	}
	if (bad) {
		snprintf(reason, 512, "%ld corrupt or missing chunk reference%s", bad, bad > 1 ? "s" : "");
		r = 1;
	}
out:
	if (have_m)
		tp_manifest_free(&m);
	tp_buf_free(&b);
	free(mpath);
	free(dir);
	return r;
}

int tp_verify_datastore(tp_datastore *ds, const tp_snapshot_ref *only, json_t *report, tp_verify_stats *st,
			tp_err *err)
{
	struct vctx v;
	memset(&v, 0, sizeof(v));
	memset(st, 0, sizeof(*st));
	v.ds = ds;
	v.st = st;
	v.bad = json_object();
	json_t *failed = json_object();
	tp_snapshot_list l = { 0 };
	struct vpool *pool = calloc(1, sizeof(*pool));
	int pool_started = 0;
	int r = pool ? 0 : tp_err_set(err, -ENOMEM, "out of memory");
	if (r < 0)
		goto out;
	if ((r = tp_chunk_store_lock(&ds->cs, 0, 10000, err)) < 0)
		goto out;
	if ((r = pool_start(pool, ds, err)) < 0)
		goto out;
	pool_started = 1;
	v.pool = pool;
	if (only) {
		int fin = 0;
		char rel[TP_SNAPSHOT_PATH_MAX];
		tp_snapshot_ref_path(only, rel, sizeof(rel));
		if (!tp_snapshot_exists(ds, only, &fin) || !fin) {
			r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%s does not exist", ds->name, rel);
			goto out;
		}
	} else if ((r = tp_datastore_list_snapshots(ds, "", -1, &l, err)) < 0) {
		goto out;
	}
	size_t n = only ? 1 : l.n;
	for (size_t i = 0; i < n; i++) {
		const tp_snapshot_ref *s = only ? only : &l.items[i];
		if (!only && !l.finished[i])
			continue;
		if ((r = tp_cancel_check(err)) < 0)
			goto out;
		char reason[512] = "";
		char rel[TP_SNAPSHOT_PATH_MAX];
		tp_snapshot_ref_path(s, rel, sizeof(rel));
		int x = verify_snapshot(&v, s, reason, err);
		if (x < 0) {
			r = x;
			goto out;
		}
		st->snapshots++;
		if (x) {
			st->snapshots_failed++;
			json_object_set_new(failed, rel, json_string(reason));
			tp_warn("snapshot %s: %s", rel, reason);
		} else {
			tp_info("snapshot %s: ok", rel);
		}
	}
	if (st->snapshots_failed) {
		const char *k;
		json_t *x;
		tp_buf msg = TP_BUF_INIT;
		tp_buf_printf(&msg, "verification failed for %llu of %llu snapshots",
			      (unsigned long long)st->snapshots_failed, (unsigned long long)st->snapshots);
		json_object_foreach(v.bad, k, x) {
			tp_buf_printf(&msg, "; chunk %s %s, referenced by", k, tp_json_opt_str(x, "reason"));
			size_t j;
			json_t *sn;
			json_array_foreach(json_object_get(x, "snapshots"), j, sn)
				tp_buf_printf(&msg, " %s", json_string_value(sn));
			break; /* the first one in the message, all of them in the report */
		}
		if (!json_object_size(v.bad)) {
			/* no chunk to blame: name the first snapshot and the file that failed */
			json_object_foreach(failed, k, x) {
				tp_buf_printf(&msg, "; %s: %s", k, json_string_value(x));
				break;
			}
		}
		r = tp_err_set(err, -TP_EDIGEST, "%s", tp_buf_cstr(&msg));
		tp_buf_free(&msg);
	}
out:
	if (report) {
		json_object_set(report, "failed", failed);
		json_object_set(report, "bad-chunks", v.bad);
	}
	json_decref(failed);
	json_decref(v.bad);
	tp_snapshot_list_free(&l);
	tp_digest_set_free(&v.checked);
	if (pool_started)
		pool_stop(pool);
	free(pool);
	return r;
}
