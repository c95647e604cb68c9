/* Unit test: datastore names, paths, groups/owner/locks, listing, publish, chunk store rules. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "format/magic.h"
#include "store/datastore.h"

static char home[256], base[300];

static int setup(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-ut-ds.XXXXXX");
	assert_non_null(mkdtemp(home));
	setenv("TAPIR_HOME", home, 1);
	snprintf(base, sizeof(base), "%s/store", home);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tp_rm_rf(home, NULL);
	return 0;
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(tp_valid_store_name("store1", NULL), 0);
	assert_true(tp_valid_store_name("ab", NULL) < 0);
	assert_true(tp_valid_store_name("-abc", NULL) < 0);
	assert_true(tp_valid_store_name("a/bc", NULL) < 0);
	assert_int_equal(tp_valid_backup_id("100", NULL), 0);
	assert_int_equal(tp_valid_backup_id("web.example-1_x", NULL), 0);
	assert_true(tp_valid_backup_id("", NULL) < 0);
	assert_true(tp_valid_backup_id("..", NULL) < 0);
	assert_true(tp_valid_backup_id(".hidden", NULL) < 0);
	assert_true(tp_valid_backup_id("a/b", NULL) < 0);
	assert_true(tp_valid_backup_type("lxc", NULL) < 0);
	assert_int_equal(tp_valid_ns("a/b/c", NULL), 0);
	assert_true(tp_valid_ns("a//b", NULL) < 0);
	assert_true(tp_valid_ns("a/../b", NULL) < 0);
	assert_true(tp_valid_ns("a/b/", NULL) < 0);
	assert_true(tp_valid_ns("1/2/3/4/5/6/7/8", NULL) < 0);
	assert_int_equal(tp_valid_ns("1/2/3/4/5/6/7", NULL), 0);
}

static void test_snapshot_paths(void **state)
{
	(void)state;
	tp_snapshot_ref r;
	tp_err e = { 0 };
	char out[TP_SNAPSHOT_PATH_MAX];
	assert_int_equal(tp_snapshot_ref_parse("vm/100/2024-01-01T00:00:00Z", &r, &e), 0);
	assert_string_equal(r.ns, "");
	assert_string_equal(r.type, "vm");
	assert_string_equal(r.id, "100");
	assert_int_equal(r.time, 1704067200);
	assert_int_equal(tp_snapshot_ref_parse("ns/a/ns/b/host/web/2024-01-01T00:00:00Z", &r, &e), 0);
	assert_string_equal(r.ns, "a/b");
	tp_snapshot_ref_path(&r, out, sizeof(out));
	assert_string_equal(out, "ns/a/ns/b/host/web/2024-01-01T00:00:00Z");
	tp_group_ref_path(&r, out, sizeof(out));
	assert_string_equal(out, "ns/a/ns/b/host/web");
	assert_true(tp_snapshot_ref_parse("vm/100/2024-13-01T00:00:00Z", &r, &e) < 0);
	assert_non_null(strstr(e.msg, "invalid backup time"));
	assert_true(tp_snapshot_ref_parse("xx/a/vm/100/2024-01-01T00:00:00Z", &r, &e) < 0);
	assert_true(tp_snapshot_ref_parse("vm/../2024-01-01T00:00:00Z", &r, &e) < 0);
	assert_true(tp_snapshot_ref_parse("/vm/100/2024-01-01T00:00:00Z", &r, &e) < 0);
	assert_true(tp_snapshot_ref_parse("vm/100", &r, &e) < 0);
	assert_int_equal(tp_group_ref_parse("ct/7", &r, &e), 0);
}

static void test_create_group_owner_lock_publish(void **state)
{
	(void)state;
	tp_err e = { 0 };
	assert_int_equal(tp_datastore_create("store1", base, 0, &e), 0);
	assert_true(tp_datastore_create("store1", base, 0, &e) < 0);
	tp_datastore ds;
	assert_int_equal(tp_datastore_open(&ds, "store1", &e), 0);
	tp_snapshot_ref g;
	assert_int_equal(tp_group_ref_parse("vm/100", &g, &e), 0);
	char owner[TP_AUTHID_MAX + 1];
	tp_lock l1 = TP_LOCK_INIT, l2 = TP_LOCK_INIT;
	assert_int_equal(tp_group_create_locked(&ds, &g, "root@pam", owner, &l1, &e), 0);
	assert_string_equal(owner, "root@pam");
	/* second locker fails while the first holds it */
	assert_int_equal(tp_group_create_locked(&ds, &g, "other@pbs", owner, &l2, &e), -TP_ELOCKED);
	tp_lock_release(&l1);
	assert_int_equal(tp_group_create_locked(&ds, &g, "other@pbs", owner, &l2, &e), 0);
	assert_string_equal(owner, "root@pam"); /* owner stays */

	char *staged = NULL;
	assert_int_equal(tp_datastore_staging_dir(&ds, "test-1", &staged, &e), 0);
	char *f = tp_path_join(staged, "index.json.blob");
	assert_int_equal(tp_write_atomic(f, "x", 1, 0644, &e), 0);
	free(f);
	g.time = 1704067200;
	assert_int_equal(tp_snapshot_publish(&ds, staged, &g, &e), 0);
	assert_false(tp_path_exists(staged));
	int fin = 0;
	assert_true(tp_snapshot_exists(&ds, &g, &fin));
	assert_true(fin);
	/* publishing over an existing snapshot fails and keeps it */
	free(staged);
	assert_int_equal(tp_datastore_staging_dir(&ds, "test-2", &staged, &e), 0);
	assert_int_equal(tp_snapshot_publish(&ds, staged, &g, &e), -TP_EEXISTS);
	tp_lock_release(&l2);
	free(staged);

	tp_snapshot_list sl;
	assert_int_equal(tp_datastore_ns_create(&ds, "a/b", 1, &e), 0);
	tp_snapshot_ref g2;
	assert_int_equal(tp_snapshot_ref_parse("ns/a/ns/b/ct/7/2024-02-01T00:00:00Z", &g2, &e), 0);
	assert_int_equal(tp_group_create_locked(&ds, &g2, "root@pam", NULL, &l1, &e), 0);
	assert_int_equal(tp_datastore_staging_dir(&ds, "test-3", &staged, &e), 0);
	assert_int_equal(tp_snapshot_publish(&ds, staged, &g2, &e), 0);
	free(staged);
	tp_lock_release(&l1);
	assert_int_equal(tp_datastore_list_snapshots(&ds, "", -1, &sl, &e), 0);
	assert_int_equal(sl.n, 2);
	assert_string_equal(sl.items[0].ns, "");
	assert_string_equal(sl.items[1].ns, "a/b");
	tp_snapshot_list_free(&sl);
	assert_int_equal(tp_datastore_list_snapshots(&ds, "", 0, &sl, &e), 0);
	assert_int_equal(sl.n, 1);
	tp_snapshot_list_free(&sl);
	assert_int_equal(tp_snapshot_remove(&ds, &g, &e), 0);
	assert_false(tp_snapshot_exists(&ds, &g, NULL));
	tp_datastore_close(&ds);
}

static void make_blob(uint8_t *b, size_t len, int kind, uint8_t fill)
{
	memset(b, fill, len);
	memcpy(b, tp_magic(kind), 8);
}

static void test_chunk_insert_rules(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_datastore ds;
	assert_int_equal(tp_datastore_open(&ds, "store1", &e), 0);
	uint8_t d[32] = { 0xab, 0xcd, 1 }, big[100], small[60], enc[80];
	make_blob(big, sizeof(big), TP_MAGIC_BLOB_PLAIN, 1);
	make_blob(small, sizeof(small), TP_MAGIC_BLOB_ZSTD, 2);
	make_blob(enc, sizeof(enc), TP_MAGIC_BLOB_ENCR, 3);
	int dup = -1;
	assert_int_equal(tp_chunk_store_exists(&ds.cs, d), 0);
	assert_int_equal(tp_chunk_store_insert(&ds.cs, d, big, sizeof(big), &dup, &e), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(tp_chunk_store_insert(&ds.cs, d, big, sizeof(big), &dup, &e), 0);
	assert_int_equal(dup, 1);
	/* smaller unencrypted replaces */
	assert_int_equal(tp_chunk_store_insert(&ds.cs, d, small, sizeof(small), &dup, &e), 0);
	assert_int_equal(dup, 0);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_chunk_store_read(&ds.cs, d, &b, &e), 0);
	assert_int_equal(b.len, sizeof(small));
	/* larger unencrypted does not */
	assert_int_equal(tp_chunk_store_insert(&ds.cs, d, big, sizeof(big), &dup, &e), 0);
	assert_int_equal(dup, 1);
	/* encrypted over unencrypted is refused */
	assert_true(tp_chunk_store_insert(&ds.cs, d, enc, sizeof(enc), &dup, &e) < 0);
	assert_int_equal(tp_chunk_store_touch(&ds.cs, d, &e), 1);
	assert_int_equal(tp_chunk_store_mark_bad(&ds.cs, d, &e), 0);
	assert_int_equal(tp_chunk_store_exists(&ds.cs, d), 0);
	assert_int_equal(tp_chunk_store_read(&ds.cs, d, &b, &e), -TP_ENOTFOUND);
	tp_buf_free(&b);
	tp_datastore_close(&ds);
}

struct inserter {
	tp_datastore *ds;
	int id, errors, dups;
};

/* Every thread inserts the same 64 chunks (in its own order) and 16 of its own. */
static void *insert_main(void *arg)
{
	struct inserter *in = arg;
	uint8_t blob[3000];
	for (int k = 0; k < 80; k++) {
		int n = k < 64 ? (k * 7 + in->id * 13) % 64 : 1000 + in->id * 16 + (k - 64);
		uint8_t d[32] = { 0x5e, (uint8_t)(n >> 8), (uint8_t)n };
		make_blob(blob, sizeof(blob), TP_MAGIC_BLOB_PLAIN, (uint8_t)n);
		tp_err e = { 0 };
		int dup = 0;
		if (tp_chunk_store_insert(&in->ds->cs, d, blob, sizeof(blob), &dup, &e) < 0)
			in->errors++;
		in->dups += dup;
	}
	return NULL;
}

/* Writers write their chunk files at once (the store's mutex covers only decide-and-rename). */
static void test_chunk_insert_concurrent(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_datastore ds;
	assert_int_equal(tp_datastore_open(&ds, "store1", &e), 0);
	enum { N = 4 };
	struct inserter in[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		in[i] = (struct inserter){ &ds, i, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, insert_main, &in[i]), 0);
	}
	int dups = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(in[i].errors, 0);
		dups += in[i].dups;
	}
	/* each shared chunk was new exactly once */
	assert_int_equal(dups, (N - 1) * 64);
	tp_buf b = TP_BUF_INIT;
	for (int n = 0; n < 64 + 16 * N; n++) {
		int id = n < 64 ? n : 1000 + (n - 64);
		uint8_t d[32] = { 0x5e, (uint8_t)(id >> 8), (uint8_t)id }, want[3000];
		make_blob(want, sizeof(want), TP_MAGIC_BLOB_PLAIN, (uint8_t)id);
		tp_buf_reset(&b);
		assert_int_equal(tp_chunk_store_read(&ds.cs, d, &b, &e), 0);
		assert_int_equal(b.len, sizeof(want));
		assert_memory_equal(b.data, want, sizeof(want));
	}
	tp_buf_free(&b);
	/* no temp file is left in the chunk directory */
	char sub[72];
	uint8_t d0[32] = { 0x5e };
	tp_chunk_sub_path(d0, sub);
	sub[4] = 0;
	int fd = openat(ds.cs.chunks_fd, sub, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	DIR *dir = fdopendir(fd);
	struct dirent *de;
	while ((de = readdir(dir)))
		assert_null(strstr(de->d_name, ".tmp_"));
	closedir(dir);
	tp_datastore_close(&ds);
}

/*
 * Flush-behind: concurrent inserts past the threshold start background
 * syncs (counted), a chunk larger than the 256 KiB write piece reads back
 * whole, and close stops the flush thread.
 */
static void test_chunk_flush_behind(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_datastore ds;
	assert_int_equal(tp_datastore_open(&ds, "store1", &e), 0);
	assert_int_equal(tp_chunk_store_flush_behind(&ds.cs, 8192, &e), 0);
	enum { N = 3 };
	struct inserter in[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		in[i] = (struct inserter){ &ds, i + 10, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, insert_main, &in[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(in[i].errors, 0);
	}
	size_t big_len = (1u << 20) + 5;
	uint8_t *big = malloc(big_len), d[32] = { 0x77, 0x01 };
	assert_non_null(big);
	make_blob(big, big_len, TP_MAGIC_BLOB_PLAIN, 9);
	for (size_t i = 12; i < big_len; i++)
		big[i] = (uint8_t)(i * 31 + (i >> 12));
	assert_int_equal(tp_chunk_store_insert(&ds.cs, d, big, big_len, NULL, &e), 0);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_chunk_store_read(&ds.cs, d, &b, &e), 0);
	assert_int_equal(b.len, big_len);
	assert_memory_equal(b.data, big, big_len);
	tp_buf_free(&b);
	free(big);
	uint64_t flushes = 0;
	for (int i = 0; i < 500 && flushes == 0; i++) {
		pthread_mutex_lock(&ds.cs.mu);
		flushes = ds.cs.flushes;
		pthread_mutex_unlock(&ds.cs.mu);
		if (!flushes)
			usleep(10000);
	}
	assert_true(flushes >= 1);
	tp_datastore_close(&ds);
	assert_int_equal(ds.cs.flusher, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_snapshot_paths),
		cmocka_unit_test(test_create_group_owner_lock_publish),
		cmocka_unit_test(test_chunk_insert_rules),
		cmocka_unit_test(test_chunk_insert_concurrent),
		cmocka_unit_test(test_chunk_flush_behind),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
