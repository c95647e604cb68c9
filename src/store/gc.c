/* Garbage collection (see gc.h and docs/datastore.md for the locking and atime rule). */
#include "store/gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/digest_set.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "format/didx.h"
#include "format/fidx.h"

/* Snapshot dirs sit at most 2*7 (namespaces) + 3 levels deep; anything deeper is refused, not skipped. */
#define GC_MAX_DEPTH 32
/* A multiple of both entry sizes (32 and 40) so entries never straddle reads. */
#define PARTIAL_READ 1310720

struct gc {
	tp_datastore *ds;
	tp_gc_stats *st;
	tp_digest_set seen;
	int dry_run;
};

int64_t tp_gc_cutoff(int64_t start, int64_t oldest_writer)
{
	int64_t min_atime = start - TP_GC_MIN_AGE;
	if (oldest_writer < min_atime)
		min_atime = oldest_writer;
	return min_atime - TP_GC_SAFETY_GAP;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

/* Keeps the .bad copies of a missing chunk, so a later backup that rewrites it makes them removable (as PBS). */
static void touch_bad_copies(struct gc *g, const uint8_t d[32])
{
	char sub[72], bad[96];
	struct timespec ts[2] = { { 0, UTIME_NOW }, { 0, UTIME_OMIT } };
	tp_chunk_sub_path(d, sub);
	for (int n = 0; n < 10; n++) {
		snprintf(bad, sizeof(bad), "%s.%d.bad", sub, n);
		(void)utimensat(g->ds->cs.chunks_fd, bad, ts, 0);
	}
}

static int mark_digest(struct gc *g, const uint8_t d[32], const char *index, tp_err *err)
{
	int r = tp_digest_set_add(&g->seen, d, 0);
	if (r < 0)
		return tp_err_set(err, -ENOMEM, "out of memory marking the chunks of %s", index);
	if (r == 0)
		return 0; /* touched already in this run */
	g->st->referenced_chunks++;
	r = tp_chunk_store_touch(&g->ds->cs, d, err);
	if (r < 0)
		return tp_err_wrap(err, r, "mark chunks of %s", index);
	if (r == 0) {
		char hex[65];
		tp_hex_encode(d, 32, hex);
		g->st->missing_chunks++;
		tp_warn("chunk %s referenced by %s is missing", hex, index);
		touch_bad_copies(g, d);
	}
	return 0;
}

/* A finished index: it must parse, otherwise we cannot know what it references. */
static int mark_index(struct gc *g, const char *path, int fixed, tp_err *err)
{
	tp_fidx f;
	tp_didx x;
	size_t count;
	int r = fixed ? tp_fidx_open(&f, path, err) : tp_didx_open(&x, path, err);
	if (r == -ENOENT)
		return 0; /* forgotten or published while we walked: covered elsewhere */
	if (r < 0)
		return r;
	count = fixed ? f.count : x.count;
	for (size_t i = 0; i < count && r == 0; i++)
		r = mark_digest(g, fixed ? tp_fidx_digest(&f, i) : tp_didx_digest(&x, i), path, err);
	g->st->index_files++;
	g->st->index_data_bytes += fixed ? f.size : tp_didx_size(&x);
	if (fixed)
		tp_fidx_close(&f);
	else
		tp_didx_close(&x);
	return r;
}

/*
 * An index a running writer is still filling: no header or checksum yet, maybe
 * a torn last entry.  Every whole entry after the header is a reference.
 */
static int mark_partial_index(struct gc *g, const char *path, int fixed, tp_err *err)
{
	static const uint8_t zero[32];
	size_t stride = fixed ? 32 : 40, doff = fixed ? 0 : 8;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : tp_err_errno(err, "open %s", path);
	uint8_t *buf = malloc(PARTIAL_READ);
	int r = 0;
	if (!buf) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (off_t off = TP_INDEX_HEADER_SIZE;;) {
		ssize_t n = pread(fd, buf, PARTIAL_READ, off);
		if (n < 0) {
			r = tp_err_errno(err, "read %s", path);
			goto out;
		}
		size_t whole = (size_t)n / stride * stride;
		for (size_t p = 0; p < whole && r == 0; p += stride)
			if (memcmp(buf + p + doff, zero, 32))
				r = mark_digest(g, buf + p + doff, path, err);
		if (r < 0 || (size_t)n < PARTIAL_READ)
			break;
		off += n;
	}
	if (r == 0)
		g->st->index_files++;
out:
	free(buf);
	close(fd);
	return r;
}

static int mark_file(struct gc *g, const char *path, const char *name, int staging, tp_err *err)
{
	if (ends_with(name, ".fidx"))
		return staging ? mark_partial_index(g, path, 1, err) : mark_index(g, path, 1, err);
	if (ends_with(name, ".didx"))
		return staging ? mark_partial_index(g, path, 0, err) : mark_index(g, path, 0, err);
	if (ends_with(name, ".tmp_fidx"))
		return mark_partial_index(g, path, 1, err);
	if (ends_with(name, ".tmp_didx"))
		return mark_partial_index(g, path, 0, err);
	return 0;
}

/*
 * Marks every index file below the directory dfd (path for messages).  In the
 * datastore proper hidden entries are skipped (.chunks, .tmp, .lock), as PBS
 * does; inside a staging directory everything is read.
 */
static int mark_tree(struct gc *g, int dfd, const char *path, int depth, int staging, tp_err *err)
{
	if (depth > GC_MAX_DEPTH) {
		close(dfd);
		return tp_err_set(err, -ELOOP, "%s: directories nested deeper than %d levels", path, GC_MAX_DEPTH);
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		int r = tp_err_errno(err, "read directory %s", path);
		close(dfd);
		return r;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (r = tp_cancel_check(err)) == 0 && (errno = 0, de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || (!staging && n[0] == '.'))
			continue;
		unsigned type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat sb;
			if (fstatat(dirfd(d), n, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				continue; /* vanished */
			type = S_ISDIR(sb.st_mode) ? DT_DIR : S_ISREG(sb.st_mode) ? DT_REG : DT_LNK;
		}
		if (type != DT_DIR && type != DT_REG)
			continue; /* symlinks are never followed */
		char *child = tp_path_join(path, n);
		if (!child) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (type == DT_REG) {
			r = mark_file(g, child, n, staging, err);
		} else {
			int cfd = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd >= 0)
				r = mark_tree(g, cfd, child, depth + 1, staging, err);
			else if (errno != ENOENT)
				r = tp_err_errno(err, "open directory %s", child);
		}
		free(child);
	}
	if (r == 0 && errno)
		r = tp_err_errno(err, "read directory %s", path);
	closedir(d);
	return r;
}

/* 1 when a process other than us holds a lock on the chunk store's .lock (any running writer or reader). */
static int store_in_use(tp_chunk_store *cs)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(cs->process_lock.fd, F_OFD_GETLK, &fl) < 0)
		return 1; /* cannot tell: assume busy, which only makes GC keep more */
	return fl.l_type != F_UNLCK;
}

/*
 * Whether a writer owns the staging entry `name` (fd = the entry opened, or
 * -1), modified `age` seconds ago.  Within the grace period (a writer may
 * not have locked its new directory yet) it is owned while any other
 * process holds the chunk store lock, as every entry that is not a backup's.
 * An older backup directory is owned while its flock is held; when GC gets
 * the flock instead, it keeps it (fd stays open) so no writer can take over
 * what is being removed.
 */
static int staging_owned(int in_use, const char *name, int fd, int64_t age)
{
	if (age < TP_GC_STAGING_GRACE || fd < 0 ||
	    strncmp(name, TP_GC_LOCKED_STAGING_PREFIX, strlen(TP_GC_LOCKED_STAGING_PREFIX)))
		return in_use;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 1 : in_use;
	return 0;
}

/* A staging entry no writer owns: removed once older than the grace, else left for a later run. */
static int stale_staging(struct gc *g, const char *tmp, const char *name, int64_t mtime, tp_err *err)
{
	char age[32];
	int64_t a = g->st->start - mtime;
	snprintf(age, sizeof(age), "%lldh%02lldm", (long long)(a / 3600), (long long)(a % 3600 / 60));
	g->st->staging_stale++;
	if (a < TP_GC_STAGING_GRACE) {
		tp_warn("staging entry %s/%s belongs to no running writer; modified %s ago, left in place until %d min",
			tmp, name, a < 0 ? "0h00m" : age, TP_GC_STAGING_GRACE / 60);
		return 0;
	}
	g->st->staging_removed++;
	if (g->dry_run) {
		tp_info("would remove stale staging entry %s/%s (no running writer, modified %s ago)", tmp, name, age);
		return 0;
	}
	char *child = tp_path_join(tmp, name);
	if (!child)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_rm_rf(child, err);
	if (r == 0)
		tp_info("removed stale staging entry %s (no running writer, modified %s ago)", child, age);
	else
		tp_err_wrap(err, r, "removing stale staging entry %s", child);
	free(child);
	return r;
}

/*
 * Every top-level .tmp entry a writer owns is a running writer's staging
 * area: its indexes are marked and its age bounds the cutoff (birth time, or
 * the modification time when older or birth time is unknown).  Entries no
 * writer owns are stale: not marked, and removed after the grace period.
 */
static int mark_staging(struct gc *g, int in_use, tp_err *err)
{
	char *tmp = tp_datastore_path(g->ds, ".tmp");
	if (!tmp)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = 0;
	DIR *d = opendir(tmp);
	if (!d) {
		if (errno != ENOENT)
			r = tp_err_errno(err, "open staging directory %s", tmp);
		free(tmp);
		return r;
	}
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		struct statx sx;
		if (statx(dirfd(d), de->d_name, AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_MTIME | STATX_TYPE, &sx) < 0)
			continue; /* published or removed meanwhile */
		int efd = -1;
		if (S_ISDIR(sx.stx_mode)) {
			efd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (efd < 0 && errno == ENOENT)
				continue;
			if (efd < 0) {
				r = tp_err_errno(err, "open staging directory %s/%s", tmp, de->d_name);
				break;
			}
		}
		if (!staging_owned(in_use, de->d_name, efd, g->st->start - (int64_t)sx.stx_mtime.tv_sec)) {
			r = stale_staging(g, tmp, de->d_name, (int64_t)sx.stx_mtime.tv_sec, err);
			if (efd >= 0)
				close(efd); /* drops our flock too */
			continue;
		}
		int64_t t = (int64_t)sx.stx_mtime.tv_sec;
		if ((sx.stx_mask & STATX_BTIME) && (int64_t)sx.stx_btime.tv_sec < t)
			t = (int64_t)sx.stx_btime.tv_sec;
		if (t < g->st->oldest_writer)
			g->st->oldest_writer = t;
		g->st->staging_active++;
		char *child = tp_path_join(tmp, de->d_name);
		if (!child) {
			if (efd >= 0)
				close(efd);
			r = tp_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		if (efd >= 0)
			r = mark_tree(g, efd, child, 1, 1, err); /* takes over efd */
		else if (S_ISREG(sx.stx_mode))
			r = mark_file(g, child, de->d_name, 1, err);
		free(child);
	}
	closedir(d);
	free(tmp);
	return r;
}

enum { F_CHUNK, F_BAD, F_TMP, F_OTHER };

static int classify(const char *n)
{
	size_t len = strlen(n);
	uint8_t d[32];
	char hex[65];
	if (len < 64)
		return F_OTHER;
	memcpy(hex, n, 64);
	hex[64] = 0;
	if (tp_hex_decode(hex, d, 32) < 0)
		return F_OTHER;
	if (len == 64)
		return F_CHUNK;
	if (!strncmp(n + 64, ".tmp_", 5))
		return F_TMP;
	if (n[64] == '.' && len > 69 && ends_with(n, ".bad")) {
		for (size_t i = 65; i < len - 4; i++)
			if (n[i] < '0' || n[i] > '9')
				return F_OTHER;
		return F_BAD;
	}
	return F_OTHER;
}

static int sweep_dir(struct gc *g, DIR *d, const char *subname, tp_err *err)
{
	tp_gc_stats *st = g->st;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		int kind = classify(de->d_name);
		if (kind == F_OTHER)
			continue;
		struct stat sb;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
			continue;
		uint64_t size = (uint64_t)sb.st_size;
		/* a temp file is being written as long as its mtime moves */
		int64_t t = kind == F_TMP ? (int64_t)sb.st_mtime : (int64_t)sb.st_atime;
		if (t < st->min_atime) {
			if (!g->dry_run && unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
				if (kind == F_BAD)
					st->still_bad++;
				return tp_err_errno(err, "remove %s/.chunks/%s/%s", g->ds->base, subname, de->d_name);
			}
			if (kind == F_BAD)
				st->removed_bad++;
			else if (kind == F_TMP)
				st->removed_tmp++;
			else
				st->removed_chunks++;
			st->removed_bytes += size;
		} else if (kind == F_TMP) {
			continue; /* a writer's file in flight */
		} else if (t < st->oldest_writer) {
			if (kind == F_BAD) {
				st->still_bad++;
			} else {
				st->pending_chunks++;
				st->pending_bytes += size;
			}
		} else {
			if (kind == F_BAD) {
				st->still_bad++;
			} else {
				st->disk_chunks++;
				st->disk_bytes += size;
			}
		}
	}
	if (errno)
		return tp_err_errno(err, "read %s/.chunks/%s", g->ds->base, subname);
	return 0;
}

static int sweep(struct gc *g, tp_err *err)
{
	int r = 0;
	for (unsigned i = 0; i < 65536 && r == 0; i++) {
		if ((r = tp_cancel_check(err)) < 0)
			break;
		char subname[8];
		snprintf(subname, sizeof(subname), "%04x", i);
		int sfd = openat(g->ds->cs.chunks_fd, subname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (sfd < 0) {
			if (errno == ENOENT)
				continue;
			return tp_err_errno(err, "open %s/.chunks/%s", g->ds->base, subname);
		}
		DIR *d = fdopendir(sfd);
		if (!d) {
			r = tp_err_errno(err, "read %s/.chunks/%s", g->ds->base, subname);
			close(sfd);
			break;
		}
		r = sweep_dir(g, d, subname, err);
		closedir(d);
	}
	return r;
}

json_t *tp_gc_stats_json(const tp_gc_stats *st)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "index-file-count", (json_int_t)st->index_files,
			 "index-data-bytes", (json_int_t)st->index_data_bytes,
			 "disk-bytes", (json_int_t)st->disk_bytes,
			 "disk-chunks", (json_int_t)st->disk_chunks,
			 "removed-bytes", (json_int_t)st->removed_bytes,
			 "removed-chunks", (json_int_t)st->removed_chunks,
			 "pending-bytes", (json_int_t)st->pending_bytes,
			 "pending-chunks", (json_int_t)st->pending_chunks,
			 "removed-bad", (json_int_t)st->removed_bad,
			 "still-bad", (json_int_t)st->still_bad,
			 "removed-tmp", (json_int_t)st->removed_tmp,
			 "referenced-chunks", (json_int_t)st->referenced_chunks,
			 "missing-chunks", (json_int_t)st->missing_chunks,
			 "staging-active", (json_int_t)st->staging_active,
			 "staging-stale", (json_int_t)st->staging_stale,
			 "staging-removed", (json_int_t)st->staging_removed,
			 "start-time", (json_int_t)st->start,
			 "oldest-writer", (json_int_t)st->oldest_writer,
			 "min-atime", (json_int_t)st->min_atime);
}

int tp_gc_run(tp_datastore *ds, const tp_gc_opts *o, tp_gc_stats *st, tp_err *err)
{
	struct gc g;
	tp_lock gl = TP_LOCK_INIT;
	char what[TP_STORE_NAME_MAX + 64];
	int r;
	memset(&g, 0, sizeof(g));
	memset(st, 0, sizeof(*st));
	g.ds = ds;
	g.st = st;
	g.dry_run = o && o->dry_run;
	if ((r = tp_chunk_store_lock(&ds->cs, 0, 10000, err)) < 0)
		return r;
	snprintf(what, sizeof(what), "garbage collection of datastore '%s'", ds->name);
	/* a fresh open file description: a flock on a dup of chunks_fd would outlive tp_lock_release */
	char *cdir = tp_datastore_path(ds, ".chunks");
	int cfd = cdir ? open(cdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (cfd < 0) {
		r = cdir ? tp_err_errno(err, "open %s", cdir) : tp_err_set(err, -ENOMEM, "out of memory");
		free(cdir);
		goto out;
	}
	free(cdir);
	r = tp_lock_fd(&gl, cfd, TP_LOCK_EXCLUSIVE, what, err);
	close(cfd);
	if (r < 0) {
		if (r == -TP_ELOCKED)
			tp_err_set(err, r, "garbage collection of datastore '%s' is already running", ds->name);
		goto out;
	}
	st->start = tp_now();
	st->oldest_writer = st->start;
	int in_use = store_in_use(&ds->cs);
	/* staging first: a writer publishing meanwhile then shows up in the snapshot walk */
	if ((r = mark_staging(&g, in_use, err)) < 0)
		goto stopped;
	int bfd = open(ds->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0) {
		r = tp_err_errno(err, "open datastore %s", ds->base);
		goto stopped;
	}
	if ((r = mark_tree(&g, bfd, ds->base, 0, 0, err)) < 0)
		goto stopped;
	st->min_atime = tp_gc_cutoff(st->start, st->oldest_writer);
	char cut[21];
	tp_time_utc(st->min_atime, cut);
	tp_info("marked %llu chunks referenced by %llu index files (%llu missing); removing unused files older than %s",
		(unsigned long long)st->referenced_chunks, (unsigned long long)st->index_files,
		(unsigned long long)st->missing_chunks, cut);
	if ((r = sweep(&g, err)) < 0)
		goto out;
	if (!g.dry_run) {
		char *p = tp_datastore_path(ds, ".gc-status");
		json_t *j = tp_gc_stats_json(st);
		r = p && j ? tp_json_save_file(p, j, 0644, err) : tp_err_set(err, -ENOMEM, "out of memory");
		json_decref(j);
		free(p);
	}
	goto out;
stopped:
	tp_err_wrap(err, r, "garbage collection of '%s' stopped before removing anything", ds->name);
out:
	tp_lock_release(&gl);
	tp_lock_release(&ds->cs.process_lock);
	tp_digest_set_free(&g.seen);
	return r;
}
