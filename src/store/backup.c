/* Local backup client (see backup.h). */
#include "store/backup.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "format/blob.h"
#include "format/didx.h"
#include "format/fidx.h"
#include "format/manifest.h"
#include "format/pcat1.h"
#include "store/chunk_pipeline.h"
#include "store/chunker.h"
#include "store/gc.h"
#include "store/pxar_create.h"

#define CATALOG_NAME "catalog.pcat1.didx"

int tp_backup_source_parse(const char *arg, tp_backup_source *out, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || !colon[1])
		return tp_err_set(err, -EINVAL, "invalid backup source '%s' (expected NAME.pxar:DIR or NAME.img:FILE)", arg);
	size_t n = (size_t)(colon - arg);
	if (n >= sizeof(out->name))
		return tp_err_set(err, -EINVAL, "archive name too long in '%s'", arg);
	memcpy(out->name, arg, n);
	out->name[n] = 0;
	const char *dot = strrchr(out->name, '.');
	if (dot && !strcmp(dot, ".pxar"))
		out->is_image = 0;
	else if (dot && !strcmp(dot, ".img"))
		out->is_image = 1;
	else
		return tp_err_set(err, -EINVAL, "archive name '%s' must end in .pxar or .img", out->name);
	/* the name becomes a file name in the snapshot directory */
	for (const char *p = out->name; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return tp_err_set(err, -EINVAL, "invalid archive name '%s' (letters, digits, '_', '-', '.')", out->name);
	}
	if (out->name[0] == '.' || dot == out->name || !strcmp(out->name, "catalog.pcat1") ||
	    !strncmp(out->name, "index.json", 10))
		return tp_err_set(err, -EINVAL, "invalid archive name '%s'", out->name);
	out->path = colon + 1;
	return 0;
}

/* ---- one archive: chunk stream -> pipeline -> index writer ---- */

struct arc {
	const tp_backup_opts *o;
	tp_chunk_pipeline pipe;
	int pipe_started;
	tp_chunk_stream cs;
	int cs_started;
	int fixed;
	tp_fidx_writer fw;
	tp_didx_writer dw;
	int writer_open;
	uint64_t end;
	tp_backup_stats *st;
};

/* One zstd context per worker thread, freed when the thread ends. */
static pthread_key_t cctx_key;
static pthread_once_t cctx_once = PTHREAD_ONCE_INIT;
static int cctx_key_ok;

static void cctx_free(void *c)
{
	ZSTD_freeCCtx(c);
}

static void cctx_key_init(void)
{
	cctx_key_ok = pthread_key_create(&cctx_key, cctx_free) == 0;
}

static int encode_chunk(void *ctx, const uint8_t *data, size_t len, uint8_t digest[32], tp_buf *blob, tp_err *err)
{
	const tp_backup_opts *o = ctx;
	pthread_once(&cctx_once, cctx_key_init);
	ZSTD_CCtx *z = cctx_key_ok ? pthread_getspecific(cctx_key) : NULL;
	if (!z && cctx_key_ok) {
		if (!(z = ZSTD_createCCtx()) || pthread_setspecific(cctx_key, z) != 0) {
			ZSTD_freeCCtx(z);
			return tp_err_set(err, -ENOMEM, "out of memory for a zstd context");
		}
	}
	int r = tp_blob_digest(o->cc, data, len, digest, err);
	/* without a context (no thread key) tp_blob_encode_cctx compresses the plain way */
	return r < 0 ? r : tp_blob_encode_cctx(z, data, len, o->cc, 1, blob, err);
}

static int on_chunk_result(void *ctx, const uint8_t digest[32], uint64_t raw_len, uint64_t blob_len, int dup,
			   tp_err *err)
{
	struct arc *a = ctx;
	a->st->chunks++;
	if (dup)
		a->st->dup_chunks++;
	else
		a->st->new_bytes += blob_len;
	a->end += raw_len;
	if (a->fixed)
		return tp_fidx_writer_add(&a->fw, digest, err);
	return tp_didx_writer_add(&a->dw, a->end, digest, err);
}

static int arc_open(struct arc *a, tp_datastore *ds, const tp_backup_opts *o, tp_backup_stats *st, int fixed,
		    size_t chunk_size, const char *index_path, uint64_t image_size, int64_t ctime, tp_err *err)
{
	memset(a, 0, sizeof(*a));
	a->o = o;
	a->st = st;
	a->fixed = fixed;
	int r = fixed ? tp_fidx_writer_create(&a->fw, index_path, image_size, chunk_size, ctime, err)
		      : tp_didx_writer_create(&a->dw, index_path, ctime, err);
	if (r < 0)
		return r;
	a->writer_open = 1;
	r = tp_chunk_stream_init(&a->cs, fixed, chunk_size, &tp_chunk_pipeline_stream_ops, &a->pipe, err);
	if (r < 0)
		return r;
	/* pages above the average chunk size are returned after each large chunk */
	r = tp_chunk_pipeline_start(&a->pipe, &ds->cs, o->threads, a->cs.cap, chunk_size, encode_chunk, (void *)o,
				    on_chunk_result, a, err);
	if (r < 0)
		return r;
	a->pipe_started = 1;
	a->cs_started = 1;
	return 0;
}

/* Flushes everything and closes the index; csum/size receive the manifest values. */
static int arc_finish(struct arc *a, uint8_t csum[32], uint64_t *size, tp_err *err)
{
	int r = tp_chunk_stream_finish(&a->cs, err);
	if (r == 0)
		r = tp_chunk_pipeline_flush(&a->pipe, err);
	if (r < 0)
		return r;
	if (a->fixed) {
		tp_fidx_writer_set_size(&a->fw, a->end);
		r = tp_fidx_writer_close(&a->fw, csum, size, err);
	} else {
		r = tp_didx_writer_close(&a->dw, csum, size, err);
	}
	a->writer_open = 0;
	return r;
}

static void arc_free(struct arc *a)
{
	if (a->cs_started)
		tp_chunk_stream_free(&a->cs);
	if (a->pipe_started)
		tp_chunk_pipeline_stop(&a->pipe);
	if (a->writer_open) {
		if (a->fixed)
			tp_fidx_writer_abort(&a->fw);
		else
			tp_didx_writer_abort(&a->dw);
	}
}

/* ---- per-run state: the file catalog spans every pxar archive ---- */

struct run {
	tp_datastore *ds;
	const tp_backup_opts *o;
	const char *staging;
	tp_backup_stats *st;
	tp_manifest *man;
	int64_t ctime;
	struct arc cat;           /* catalog.pcat1.didx */
	int cat_open;
	tp_pcat1_writer pw;
	int pw_open;
};

static int cat_sink(void *ctx, const void *buf, size_t len, tp_err *err)
{
	struct run *R = ctx;
	return tp_chunk_stream_push(&R->cat.cs, buf, len, err);
}

static int pxar_sink(void *ctx, const void *buf, size_t len, tp_err *err)
{
	struct arc *a = ctx;
	a->st->bytes += len;
	return tp_chunk_stream_push(&a->cs, buf, len, err);
}

/* File contents are read straight into the current chunk's buffer. */
static int pxar_io_space(void *ctx, uint8_t **buf, size_t *avail, tp_err *err)
{
	struct arc *a = ctx;
	return tp_chunk_stream_space(&a->cs, buf, avail, err);
}

/* ---- sources ---- */

static int backup_image(struct run *R, const tp_backup_source *s, tp_err *err)
{
	tp_datastore *ds = R->ds;
	const tp_backup_opts *o = R->o;
	tp_backup_stats *st = R->st;
	int64_t ctime = R->ctime;
	tp_manifest *man = R->man;
	const char *staging = R->staging;
	struct arc a;
	int r, fd = open(s->path, O_RDONLY | O_CLOEXEC);
	char fname[160], *ipath = NULL;
	if (fd < 0)
		return tp_err_errno(err, "open backup source %s", s->path);
	struct stat stt;
	if (fstat(fd, &stt) < 0 || !S_ISREG(stt.st_mode)) {
		close(fd);
		return tp_err_set(err, -EINVAL, "backup source %s is not a regular file", s->path);
	}
	snprintf(fname, sizeof(fname), "%s.fidx", s->name);
	ipath = tp_path_join(staging, fname);
	if (!ipath) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out0;
	}
	r = arc_open(&a, ds, o, st, 1, TP_CHUNK_SIZE_DEFAULT, ipath, (uint64_t)stt.st_size, ctime, err);
	if (r < 0)
		goto out;
	for (;;) {
		/* read straight into the chunk buffer: no copy on the way to the workers */
		size_t got = 0, avail;
		uint8_t *space;
		if ((r = tp_chunk_stream_space(&a.cs, &space, &avail, err)) < 0)
			break;
		r = tp_read_all(fd, space, avail, &got, err, s->path);
		if (r < 0 || got == 0)
			break;
		st->bytes += got;
		if ((r = tp_chunk_stream_commit(&a.cs, got, err)) < 0)
			break;
	}
	uint8_t csum[32];
	uint64_t size = 0;
	if (r == 0)
		r = arc_finish(&a, csum, &size, err);
	if (r == 0)
		r = tp_manifest_add_file(man, fname, o->cc ? "encrypt" : "none", size, csum, err);
out:
	arc_free(&a);
out0:
	free(ipath);
	close(fd);
	if (r < 0)
		tp_err_wrap(err, r, "archive %s", s->name);
	return r;
}

static int backup_pxar(struct run *R, const tp_backup_source *s, tp_err *err)
{
	struct arc a;
	char fname[160], *ipath = NULL, *cpath = NULL;
	int r = 0;
	memset(&a, 0, sizeof(a));
	if (!R->cat_open) {
		cpath = tp_path_join(R->staging, CATALOG_NAME);
		if (!cpath)
			return tp_err_set(err, -ENOMEM, "out of memory");
		r = arc_open(&R->cat, R->ds, R->o, R->st, 0, 512u << 10, cpath, 0, R->ctime, err);
		free(cpath);
		R->cat_open = 1;
		if (r < 0)
			return r;
		if ((r = tp_pcat1_writer_init(&R->pw, cat_sink, R, err)) < 0)
			return r;
		R->pw_open = 1;
	}
	snprintf(fname, sizeof(fname), "%s.didx", s->name);
	if ((r = tp_pcat1_begin_dir(&R->pw, fname, err)) < 0)
		return r;
	ipath = tp_path_join(R->staging, fname);
	if (!ipath)
		return tp_err_set(err, -ENOMEM, "out of memory");
	r = arc_open(&a, R->ds, R->o, R->st, 0, TP_CHUNK_SIZE_DEFAULT, ipath, 0, R->ctime, err);
	if (r == 0) {
		tp_pxar_create_stats cst;
		tp_pxar_create_opts co = { 0, tp_pxar_create_pcat1_cb, &R->pw, &cst, pxar_io_space, &a,
					   R->o->excludes, R->o->n_excludes };
		r = tp_pxar_create(s->path, pxar_sink, &a, &co, err);
		if (r == 0 && cst.warnings)
			tp_warn("archive %s: %llu entries skipped or changed while reading (see warnings above)", s->name,
				(unsigned long long)cst.warnings);
	}
	uint8_t csum[32];
	uint64_t size = 0;
	if (r == 0)
		r = arc_finish(&a, csum, &size, err);
	if (r == 0)
		r = tp_manifest_add_file(R->man, fname, R->o->cc ? "encrypt" : "none", size, csum, err);
	if (r == 0)
		r = tp_pcat1_end_dir(&R->pw, err);
	arc_free(&a);
	free(ipath);
	if (r < 0)
		tp_err_wrap(err, r, "archive %s", s->name);
	return r;
}

static int write_catalog(struct run *R, tp_err *err)
{
	uint8_t csum[32];
	uint64_t size = 0;
	int r = tp_pcat1_finish(&R->pw, err);
	if (r == 0)
		r = arc_finish(&R->cat, csum, &size, err);
	if (r == 0)
		r = tp_manifest_add_file(R->man, CATALOG_NAME, R->o->cc ? "encrypt" : "none", size, csum, err);
	return r;
}

/* ---- manifest ---- */

static int write_manifest(tp_manifest *man, const tp_backup_opts *o, const char *staging, tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	char *path = tp_path_join(staging, TP_MANIFEST_NAME);
	int r = path ? tp_manifest_encode_blob(man, o->cc, &b, err) : tp_err_set(err, -ENOMEM, "out of memory");
	if (r == 0)
		r = tp_write_atomic(path, b.data, b.len, 0644, err);
	tp_buf_free(&b);
	free(path);
	return r;
}

/* ---- the run ---- */

static int check_group(tp_datastore *ds, const tp_snapshot_ref *snap, tp_err *err)
{
	tp_snapshot_list l;
	int r = tp_datastore_list_snapshots(ds, snap->ns, 0, &l, err);
	if (r < 0)
		return r;
	char path[TP_SNAPSHOT_PATH_MAX];
	tp_snapshot_ref_path(snap, path, sizeof(path));
	for (size_t i = 0; i < l.n && r == 0; i++) {
		const tp_snapshot_ref *x = &l.items[i];
		if (strcmp(x->type, snap->type) || strcmp(x->id, snap->id) || !l.finished[i])
			continue;
		if (x->time == snap->time)
			r = tp_err_set(err, -TP_EEXISTS, "snapshot %s:%s already exists", ds->name, path);
		else if (x->time > snap->time) {
			char t[21];
			tp_time_utc(x->time, t);
			r = tp_err_set(err, -EINVAL, "backup time of %s is older than the group's last snapshot %s",
				       path, t);
		}
	}
	tp_snapshot_list_free(&l);
	return r;
}

int tp_backup_run(tp_datastore *ds, const tp_backup_opts *o, const tp_backup_source *src, int nsrc,
		  tp_backup_stats *st, tp_err *err)
{
	tp_snapshot_ref snap;
	tp_lock glock = TP_LOCK_INIT, slock = TP_LOCK_INIT;
	char *staging = NULL;
	tp_manifest man;
	int man_init = 0;
	int r;
	struct run R;
	memset(&R, 0, sizeof(R));
	memset(st, 0, sizeof(*st));
	memset(&snap, 0, sizeof(snap));
	if (nsrc < 1)
		return tp_err_set(err, -EINVAL, "nothing to back up (give NAME.pxar:DIR or NAME.img:FILE)");
	for (int i = 0; i < nsrc; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(src[i].name, src[j].name))
				return tp_err_set(err, -EINVAL, "archive name '%s' given twice", src[i].name);
	snprintf(snap.ns, sizeof(snap.ns), "%s", o->ns ? o->ns : "");
	if ((r = tp_valid_ns(snap.ns, err)) < 0 || (r = tp_valid_backup_type(o->type, err)) < 0 ||
	    (r = tp_valid_backup_id(o->id, err)) < 0)
		return r;
	snprintf(snap.type, sizeof(snap.type), "%s", o->type);
	snprintf(snap.id, sizeof(snap.id), "%s", o->id);
	snap.time = o->time ? o->time : tp_now();
	tp_snapshot_ref_path(&snap, st->snapshot, sizeof(st->snapshot));
	for (int i = 0; i < nsrc; i++) {
		struct stat sb;
		if (stat(src[i].path, &sb) < 0)
			return tp_err_errno(err, "backup source %s", src[i].path);
		if (src[i].is_image ? !S_ISREG(sb.st_mode) : !S_ISDIR(sb.st_mode))
			return tp_err_set(err, -EINVAL, "backup source %s is not a %s", src[i].path,
					  src[i].is_image ? "regular file" : "directory");
		if (access(src[i].path, R_OK) < 0)
			return tp_err_errno(err, "backup source %s", src[i].path);
	}
	if (!tp_datastore_ns_exists(ds, snap.ns))
		return tp_err_set(err, -TP_ENOTFOUND, "namespace '%s' does not exist in datastore '%s'", snap.ns, ds->name);
	if ((r = tp_chunk_store_lock(&ds->cs, 0, 10000, err)) < 0)
		return r;
	char owner[TP_AUTHID_MAX + 1];
	const char *me = o->owner ? o->owner : "root@pam";
	if ((r = tp_group_create_locked(ds, &snap, me, owner, &glock, err)) < 0)
		return r;
	if (strcmp(owner, me)) {
		r = tp_err_set(err, -TP_EPERM, "backup group %s/%s is owned by %s, not %s", snap.type, snap.id, owner, me);
		goto out;
	}
	if ((r = check_group(ds, &snap, err)) < 0)
		goto out;
	char sub[TP_BACKUP_ID_MAX + 80];
	snprintf(sub, sizeof(sub), TP_GC_LOCKED_STAGING_PREFIX "%s-%s-%lld-%d", snap.type, snap.id, (long long)snap.time, (int)getpid());
	if ((r = tp_datastore_staging_dir(ds, sub, &staging, err)) < 0)
		goto out;
	/* held until the end: garbage collection leaves a locked staging directory alone */
	int sfd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		r = tp_err_errno(err, "open staging directory %s", staging);
		goto out;
	}
	r = tp_lock_fd(&slock, sfd, TP_LOCK_EXCLUSIVE, staging, err);
	close(sfd);
	if (r < 0)
		goto out;
	if ((r = tp_manifest_init(&man, snap.type, snap.id, snap.time, err)) < 0)
		goto out;
	man_init = 1;
	R.ds = ds;
	R.o = o;
	R.staging = staging;
	R.st = st;
	R.man = &man;
	R.ctime = snap.time;
	for (int i = 0; i < nsrc && r == 0; i++) {
		tp_info("archive %s from %s", src[i].name, src[i].path);
		r = src[i].is_image ? backup_image(&R, &src[i], err) : backup_pxar(&R, &src[i], err);
		st->archives++;
	}
	if (r == 0 && R.cat_open)
		r = write_catalog(&R, err);
	if (r == 0)
		r = write_manifest(&man, o, staging, err);
	if (r == 0)
		r = tp_chunk_store_sync(&ds->cs, err);
	if (r == 0)
		r = tp_snapshot_publish(ds, staging, &snap, err);
out:
	if (staging) {
		if (r < 0)
			tp_rm_rf(staging, NULL);
		free(staging);
	}
	if (R.pw_open)
		tp_pcat1_writer_free(&R.pw);
	if (R.cat_open)
		arc_free(&R.cat);
	if (man_init)
		tp_manifest_free(&man);
	tp_lock_release(&slock);
	tp_lock_release(&glock);
	return r;
}
