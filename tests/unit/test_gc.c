/* Unit test: garbage collection mark/sweep with atimes set into the past (utimensat). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/cancel.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "base/timefmt.h"
#include "format/blob.h"
#include "format/didx.h"
#include "format/fidx.h"
#include "store/gc.h"

#define DAY 86400

static char home[256], base[300];
static tp_datastore ds;

/* One datastore for the whole group, without the 65536 chunk directories (slow to create and remove). */
static int group_setup(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-ut-gc.XXXXXX");
	assert_non_null(mkdtemp(home));
	setenv("TAPIR_HOME", home, 1);
	snprintf(base, sizeof(base), "%s/store", home);
	/* only .chunks itself: chunk sub-directories are made on demand, GC skips absent ones */
	char chunks[400];
	snprintf(chunks, sizeof(chunks), "%s/.chunks", base);
	tp_err e = { 0 };
	assert_int_equal(tp_mkdir_p(chunks, 0750, &e), 0);
	assert_int_equal(tp_datastore_open_path(&ds, "gcstore", base, &e), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tp_datastore_close(&ds);
	tp_rm_rf(home, NULL);
	return 0;
}

/* Empties the datastore between tests: snapshots, staging and every file in .chunks. */
static int wipe(void **state)
{
	(void)state;
	static const char *const top[] = { "host", "vm", "ct", "ns", ".tmp", ".gc-status" };
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]); i++) {
		char p[400];
		snprintf(p, sizeof(p), "%s/%s", base, top[i]);
		tp_rm_rf(p, NULL);
	}
	for (unsigned i = 0; i < 65536; i++) {
		char sub[8];
		snprintf(sub, sizeof(sub), "%04x", i);
		int fd = openat(ds.cs.chunks_fd, sub, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			continue;
		DIR *d = fdopendir(fd);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		if (d)
			closedir(d);
	}
	return 0;
}

/* Inserts a chunk of distinct content n and returns its digest. */
static void put_chunk(int n, uint8_t d[32])
{
	uint8_t data[3000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(n * 31 + i * 7 + (i >> 5) * n);
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	assert_int_equal(tp_blob_encode_chunk(data, sizeof(data), NULL, 1, &b, d, &e), 0);
	char sub[8];
	snprintf(sub, sizeof(sub), "%02x%02x", d[0], d[1]);
	mkdirat(ds.cs.chunks_fd, sub, 0750);
	int dup = 0;
	assert_int_equal(tp_chunk_store_insert(&ds.cs, d, b.data, b.len, &dup, &e), 0);
	tp_buf_free(&b);
}

static void chunk_path(const uint8_t d[32], const char *suffix, char *out, size_t n)
{
	char rel[80];
	tp_chunk_rel_path(d, rel);
	snprintf(out, n, "%s/%s%s", base, rel, suffix);
}

static void set_times(const char *path, int64_t atime, int64_t mtime)
{
	struct timespec ts[2] = { { atime, 0 }, { mtime, 0 } };
	if (atime < 0)
		ts[0].tv_nsec = UTIME_OMIT;
	if (mtime < 0)
		ts[1].tv_nsec = UTIME_OMIT;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void age_chunk(const uint8_t d[32], int64_t atime)
{
	char p[512];
	chunk_path(d, "", p, sizeof(p));
	set_times(p, atime, -1);
}

static int64_t chunk_atime(const uint8_t d[32])
{
	char p[512];
	struct stat sb;
	chunk_path(d, "", p, sizeof(p));
	if (stat(p, &sb) < 0)
		return -1;
	return (int64_t)sb.st_atime;
}

static int file_exists(const char *suffix, const uint8_t d[32])
{
	char p[512];
	chunk_path(d, suffix, p, sizeof(p));
	return tp_path_exists(p);
}

static void write_file(const char *path, const void *data, size_t len)
{
	tp_err e = { 0 };
	char *dir = strdup(path);
	*strrchr(dir, '/') = 0;
	assert_int_equal(tp_mkdir_p(dir, 0755, &e), 0);
	free(dir);
	assert_int_equal(tp_write_atomic(path, data, len, 0644, &e), 0);
}

static void write_fidx(const char *rel, const uint8_t *digests, size_t n)
{
	uint8_t uuid[16] = { 1 };
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	assert_int_equal(tp_fidx_encode(uuid, 1, (uint64_t)n * 4096, 4096, digests, n, &b, &e), 0);
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	write_file(p, b.data, b.len);
	tp_buf_free(&b);
}

static void write_didx(const char *rel, const uint8_t *digests, size_t n)
{
	uint8_t uuid[16] = { 2 };
	uint64_t ends[8];
	for (size_t i = 0; i < n; i++)
		ends[i] = 3000 * (i + 1);
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	assert_int_equal(tp_didx_encode(uuid, 1, ends, digests, n, &b, &e), 0);
	char p[600];
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	write_file(p, b.data, b.len);
	tp_buf_free(&b);
}

static void test_cutoff(void **state)
{
	(void)state;
	/* no older writer: 24 h plus the 5 min gap */
	assert_int_equal(tp_gc_cutoff(1000000, 1000000), 1000000 - DAY - 300);
	/* a writer that started 30 h ago moves the cutoff before its start */
	assert_int_equal(tp_gc_cutoff(1000000, 1000000 - 30 * 3600), 1000000 - 30 * 3600 - 300);
	/* a writer younger than 24 h does not matter */
	assert_int_equal(tp_gc_cutoff(1000000, 1000000 - 3600), 1000000 - DAY - 300);
}

static void test_mark_and_sweep(void **state)
{
	(void)state;
	tp_err e = { 0 };
	int64_t now = tp_now(), old = now - 2 * DAY;
	uint8_t a[32], b[32], c[32], pend[32], gone[32], missing[32], bad_gone[32];
	uint8_t fx[2 * 32], dx[2 * 32];
	put_chunk(1, a);
	put_chunk(2, b);
	put_chunk(3, c);
	put_chunk(4, pend);
	put_chunk(5, gone);
	put_chunk(6, bad_gone);
	memset(missing, 0x5a, 32);
	/* a finished snapshot in the root namespace, an unfinished one in a namespace */
	memcpy(fx, a, 32);
	memcpy(fx + 32, b, 32);
	write_fidx("host/h1/2026-01-01T00:00:00Z/disk.img.fidx", fx, 2);
	char man[600];
	snprintf(man, sizeof(man), "%s/host/h1/2026-01-01T00:00:00Z/index.json.blob", base);
	write_file(man, "x", 1);
	assert_int_equal(tp_datastore_ns_create(&ds, "n1", 0, &e), 0);
	memcpy(dx, c, 32);
	memcpy(dx + 32, missing, 32);
	write_didx("ns/n1/vm/100/2026-01-02T00:00:00Z/root.pxar.didx", dx, 2);

	age_chunk(a, old);
	age_chunk(b, old);
	age_chunk(c, old);
	age_chunk(pend, now - 2 * 3600);
	age_chunk(gone, old);
	/* bad copies: one of the missing referenced chunk (kept), one of an unused chunk (removed) */
	char p[512];
	chunk_path(missing, ".0.bad", p, sizeof(p));
	write_file(p, "bad", 3);
	set_times(p, old, old);
	tp_chunk_store_mark_bad(&ds.cs, bad_gone, NULL);
	chunk_path(bad_gone, ".0.bad", p, sizeof(p));
	set_times(p, old, old);
	/* temp files of an interrupted insert (old) and of one in flight (fresh) */
	chunk_path(gone, ".tmp_1_abc", p, sizeof(p));
	write_file(p, "tmp", 3);
	set_times(p, old, old);
	chunk_path(a, ".tmp_2_def", p, sizeof(p));
	write_file(p, "tmp", 3);

	tp_gc_opts o = { 1 };
	tp_gc_stats st;
	/* dry run: counts, removes nothing */
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_int_equal(st.removed_chunks, 1);
	assert_true(file_exists("", gone));
	assert_true(file_exists(".tmp_1_abc", gone));
	char gcs[400];
	snprintf(gcs, sizeof(gcs), "%s/.gc-status", base);
	assert_false(tp_path_exists(gcs));

	age_chunk(a, old); /* the dry run's mark touched them */
	age_chunk(b, old);
	age_chunk(c, old);
	o.dry_run = 0;
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_int_equal(st.index_files, 2);
	assert_int_equal(st.index_data_bytes, 2 * 4096 + 6000);
	assert_int_equal(st.referenced_chunks, 4);
	assert_int_equal(st.missing_chunks, 1);
	assert_int_equal(st.removed_chunks, 1);
	assert_int_equal(st.pending_chunks, 1);
	assert_int_equal(st.disk_chunks, 3);
	assert_int_equal(st.removed_bad, 1);
	assert_int_equal(st.still_bad, 1);
	assert_int_equal(st.removed_tmp, 1);
	assert_int_equal(st.min_atime, st.start - DAY - 300);
	assert_true(chunk_atime(a) >= st.start);
	assert_true(chunk_atime(c) >= st.start);
	assert_true(file_exists("", pend));
	assert_false(file_exists("", gone));
	assert_false(file_exists(".0.bad", bad_gone));
	assert_true(file_exists(".0.bad", missing));
	assert_false(file_exists(".tmp_1_abc", gone));
	assert_true(file_exists(".tmp_2_def", a));
	json_t *j = tp_json_load_file(gcs, 1 << 20, &e);
	assert_non_null(j);
	assert_int_equal(tp_json_opt_int(j, "removed-chunks", -1), 1);
	assert_int_equal(tp_json_opt_int(j, "pending-chunks", -1), 1);
	json_decref(j);
	/* the lock is released: a backup could take it exclusively now */
	assert_int_equal(ds.cs.process_lock.fd, -1);
}

static void test_staging_of_running_writer(void **state)
{
	(void)state;
	tp_err e = { 0 };
	int64_t now = tp_now(), old = now - 2 * DAY;
	uint8_t g[32], h[32];
	put_chunk(10, g);
	put_chunk(11, h);
	/* a partial index: zero header, one whole entry, a torn one */
	char dir[400], p[600];
	snprintf(dir, sizeof(dir), "%s/.tmp/backup-host-x-1-1", base);
	snprintf(p, sizeof(p), "%s/root.pxar.tmp_didx", dir);
	uint8_t raw[4096 + 40 + 20];
	memset(raw, 0, sizeof(raw));
	memcpy(raw + 4096 + 8, g, 32);
	memset(raw + 4096 + 40, 0x77, 20);
	write_file(p, raw, sizeof(raw));
	set_times(dir, -1, now - 30 * 3600); /* the writer started 30 h ago */
	age_chunk(g, old);
	age_chunk(h, now - 27 * 3600);

	/* a backup holds the shared chunk store lock and the flock on its staging directory */
	tp_lock holder = TP_LOCK_INIT, own = TP_LOCK_INIT;
	char lockp[400];
	snprintf(lockp, sizeof(lockp), "%s/.lock", base);
	assert_int_equal(tp_lock_fcntl(&holder, lockp, TP_LOCK_SHARED, 0, "test", &e), 0);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(tp_lock_fd(&own, dfd, TP_LOCK_EXCLUSIVE, "staging", &e), 0);
	close(dfd);
	tp_gc_opts o = { 0 };
	tp_gc_stats st;
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_int_equal(st.staging_active, 1);
	assert_int_equal(st.oldest_writer, now - 30 * 3600);
	assert_int_equal(st.min_atime, now - 30 * 3600 - 300);
	assert_true(file_exists("", g));        /* referenced by the partial index */
	assert_true(chunk_atime(g) >= st.start);
	assert_true(file_exists("", h));        /* 27 h old, but younger than the writer */
	assert_int_equal(st.removed_chunks, 0);
	assert_int_equal(st.staging_removed, 0);
	assert_true(tp_is_dir(dir));
	tp_lock_release(&own);

	/* its backup died (flock gone) while another process still holds the store lock: stale, removed */
	char young[400], restore[400];
	snprintf(young, sizeof(young), "%s/.tmp/backup-host-y-2-2", base);   /* just created, not locked yet */
	snprintf(restore, sizeof(restore), "%s/.tmp/media-set-1", base);      /* a tape restore's, never locked */
	assert_int_equal(tp_mkdir_p(young, 0750, NULL), 0);
	assert_int_equal(tp_mkdir_p(restore, 0750, NULL), 0);
	set_times(restore, -1, now - 30 * 3600);
	age_chunk(g, old);
	o.dry_run = 1;
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_int_equal(st.staging_stale, 1);
	assert_int_equal(st.staging_removed, 1);
	assert_int_equal(st.staging_active, 2); /* the young backup and the restore: the store is in use */
	assert_true(tp_is_dir(dir));            /* dry run */
	o.dry_run = 0;
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_int_equal(st.staging_removed, 1);
	assert_false(tp_is_dir(dir));
	assert_true(tp_is_dir(young));
	assert_true(tp_is_dir(restore));
	assert_false(file_exists("", g));       /* only the dead writer referenced it */
	assert_true(file_exists("", h));        /* younger than the restore's start */
	json_t *j = tp_gc_stats_json(&st);
	assert_int_equal(tp_json_opt_int(j, "staging-removed", -1), 1);
	json_decref(j);
	tp_lock_release(&holder);

	/* nobody holds the store lock: every entry is stale; the young one stays until the grace is over */
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_int_equal(st.staging_stale, 2);
	assert_int_equal(st.staging_removed, 1);
	assert_int_equal(st.staging_active, 0);
	assert_false(tp_is_dir(restore));
	assert_true(tp_is_dir(young));
	assert_false(file_exists("", h));
	set_times(young, -1, now - TP_GC_STAGING_GRACE - 60);
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_int_equal(st.staging_removed, 1);
	assert_false(tp_is_dir(young));
}

static int abort_after(void *ctx, tp_err *err)
{
	int *left = ctx;
	if ((*left)-- > 0)
		return 0;
	return tp_err_set(err, -TP_EABORT, "task aborted");
}

/* An aborted task stops GC at its next check: while marking nothing is removed, and a rerun finishes the job. */
static void test_abort(void **state)
{
	(void)state;
	tp_err e = { 0 };
	int64_t old = tp_now() - 2 * DAY;
	uint8_t used[32], unused[32];
	put_chunk(11, used);
	put_chunk(12, unused);
	write_fidx("host/h2/2026-01-01T00:00:00Z/disk.img.fidx", used, 1);
	age_chunk(used, old);
	age_chunk(unused, old);
	tp_gc_opts o = { 0 };
	tp_gc_stats st;
	int left = 0; /* the first check, in the mark phase */
	tp_cancel_set(abort_after, &left);
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), -TP_EABORT);
	assert_non_null(strstr(e.msg, "aborted"));
	assert_true(file_exists("", unused));
	assert_true(file_exists("", used));
	/* aborted in the sweep: the chunks marked before are all kept */
	left = 1000;
	int r = tp_gc_run(&ds, &o, &st, &e);
	tp_cancel_set(NULL, NULL);
	assert_true(left < 0); /* the check was reached more than 1000 times */
	assert_int_equal(r, -TP_EABORT);
	assert_true(file_exists("", used));
	age_chunk(used, old);
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
	assert_true(file_exists("", used));
	assert_false(file_exists("", unused));
}

static void test_bad_index_stops_gc(void **state)
{
	(void)state;
	tp_err e = { 0 };
	uint8_t u[32];
	put_chunk(20, u);
	age_chunk(u, tp_now() - 2 * DAY);
	char p[600];
	snprintf(p, sizeof(p), "%s/host/h2/2026-01-01T00:00:00Z/disk.img.fidx", base);
	uint8_t junk[4096 + 32];
	memset(junk, 0xee, sizeof(junk));
	write_file(p, junk, sizeof(junk));
	tp_gc_opts o = { 0 };
	tp_gc_stats st;
	int r = tp_gc_run(&ds, &o, &st, &e);
	assert_int_equal(r, -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "h2/2026-01-01T00:00:00Z/disk.img.fidx"));
	assert_non_null(strstr(e.msg, "wrong magic"));
	assert_non_null(strstr(e.msg, "before removing anything"));
	assert_true(file_exists("", u));
	/* truncated below its header: named as well */
	assert_int_equal(truncate(p, 100), 0);
	r = tp_gc_run(&ds, &o, &st, &e);
	assert_int_equal(r, -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "disk.img.fidx"));
	assert_true(file_exists("", u));
	unlink(p);
}

static void test_second_gc_refused(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_lock other = TP_LOCK_INIT;
	int fd = open(base, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	int cfd = openat(fd, ".chunks", O_RDONLY | O_DIRECTORY);
	assert_true(cfd >= 0);
	assert_int_equal(tp_lock_fd(&other, cfd, TP_LOCK_EXCLUSIVE, "gc", &e), 0);
	tp_gc_opts o = { 0 };
	tp_gc_stats st;
	int r = tp_gc_run(&ds, &o, &st, &e);
	assert_int_equal(r, -TP_ELOCKED);
	assert_non_null(strstr(e.msg, "already running"));
	tp_lock_release(&other);
	close(cfd);
	close(fd);
	assert_int_equal(tp_gc_run(&ds, &o, &st, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cutoff),
		cmocka_unit_test_setup_teardown(test_mark_and_sweep, NULL, wipe),
		cmocka_unit_test_setup_teardown(test_staging_of_running_writer, NULL, wipe),
		cmocka_unit_test_setup_teardown(test_abort, NULL, wipe),
		cmocka_unit_test_setup_teardown(test_bad_index_stops_gc, NULL, wipe),
		cmocka_unit_test_setup_teardown(test_second_gc_refused, NULL, wipe),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
