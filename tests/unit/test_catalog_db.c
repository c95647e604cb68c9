/* Unit test: SQLite tape catalog (durability, lookups across tapes, streaming lists, deletion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "base/fsutil.h"
#include "format/media_catalog_log.h"
#include "tape/catalog_db.h"

typedef struct fixture {
	char dir[64];
	char *path;
} fixture;

static const uint8_t SET1[16] = { 0x51, 1 }, SET2[16] = { 0x52, 2 };
static const uint8_t TAPE_A[16] = { 0xa0, 1 }, TAPE_B[16] = { 0xb0, 2 }, TAPE_C[16] = { 0xc0, 3 };
static const uint8_t TAPE_X[16] = { 0xee, 9 };
static const uint8_t CUUID[16] = { 0xcc, 0xdd };

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-catdb.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->path = tp_path_join(f->dir, "catalog.db");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tp_rm_rf(f->dir, NULL);
	free(f->path);
	free(f);
	return 0;
}

static void digest_of(unsigned i, uint8_t d[32])
{
	memset(d, 0, 32);
	/* big-endian counter in front so that digest order = i order */
	d[0] = (uint8_t)(i >> 24);
	d[1] = (uint8_t)(i >> 16);
	d[2] = (uint8_t)(i >> 8);
	d[3] = (uint8_t)i;
	d[31] = 0x5a;
}

static tp_catalog_db *open_db(fixture *f)
{
	tp_catalog_db *db = NULL;
	tp_err e = { 0 };
	if (tp_catalog_open(&db, f->path, &e) < 0)
		fail_msg("open: %s", e.msg);
	return db;
}

static void ok(int r, tp_err *e)
{
	if (r < 0)
		fail_msg("%d: %s", r, e->msg);
}

/* Set 1 with tapes A (seq 0) and B (seq 1); set 2 with tape C. */
static void add_sets(tp_catalog_db *db)
{
	tp_err e = { 0 };
	uint8_t fp[32];
	memset(fp, 0x77, sizeof(fp));
	ok(tp_catalog_add_media_set(db, SET1, "pool1", 1000, NULL, &e), &e);
	ok(tp_catalog_add_media_set(db, SET2, "pool1", 2000, fp, &e), &e);
	ok(tp_catalog_add_media(db, TAPE_A, "TAPE-A", SET1, 0, 1000, &e), &e);
	ok(tp_catalog_add_media(db, TAPE_B, "TAPE-B", SET1, 1, 1100, &e), &e);
	ok(tp_catalog_add_media(db, TAPE_C, "TAPE-C", SET2, 0, 2000, &e), &e);
	ok(tp_catalog_add_media(db, TAPE_X, "TAPE-X", NULL, 0, 500, &e), &e);
}

static void add_file(tp_catalog_db *db, const uint8_t media[16], uint64_t nr, enum tp_tape_file_kind k,
		     int64_t first_block, const char *store)
{
	tp_tape_file tf;
	memset(&tf, 0, sizeof(tf));
	memcpy(tf.media, media, 16);
	tf.file_nr = nr;
	tf.kind = k;
	tf.first_block = first_block;
	tf.nblocks = 10;
	memcpy(tf.content_uuid, CUUID, 16);
	tf.content_uuid[15] = (uint8_t)nr;
	snprintf(tf.store, sizeof(tf.store), "%s", store);
	tf.complete = 1;
	tp_err e = { 0 };
	ok(tp_catalog_add_tape_file(db, &tf, &e), &e);
}

typedef struct files { int n; uint64_t nr[8]; int kind[8]; } files;

static int files_cb(void *ctx, const tp_tape_file *tf)
{
	files *fl = ctx;
	if (fl->n < 8) {
		fl->nr[fl->n] = tf->file_nr;
		fl->kind[fl->n] = (int)tf->kind;
	}
	fl->n++;
	return 0;
}

static void test_durability(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	uint8_t d[32];
	tp_catalog_counts c;

	/* close without commit: rows gone */
	tp_catalog_db *db = open_db(f);
	ok(tp_catalog_begin(db, &e), &e);
	add_sets(db);
	digest_of(1, d);
	ok(tp_catalog_add_chunk(db, TAPE_A, 2, "store1", d, 48, 1000, &e), &e);
	ok(tp_catalog_count(db, NULL, &c, &e), &e);
	assert_int_equal(c.chunks, 1);
	tp_catalog_close(db);
	db = open_db(f);
	ok(tp_catalog_count(db, NULL, &c, &e), &e);
	assert_int_equal(c.media_sets, 0);
	assert_int_equal(c.media, 0);
	assert_int_equal(c.chunks, 0);

	/* committed rows survive a reopen */
	ok(tp_catalog_begin(db, &e), &e);
	add_sets(db);
	add_file(db, TAPE_A, 2, TP_TAPE_FILE_CHUNK_ARCHIVE, 7, "store1");
	ok(tp_catalog_add_chunk(db, TAPE_A, 2, "store1", d, 48, 1000, &e), &e);
	ok(tp_catalog_commit(db, &e), &e);
	/* a second archive rolled back explicitly */
	ok(tp_catalog_begin(db, &e), &e);
	digest_of(2, d);
	ok(tp_catalog_add_chunk(db, TAPE_A, 3, "store1", d, 48, 1000, &e), &e);
	ok(tp_catalog_rollback(db, &e), &e);
	assert_int_equal(tp_catalog_begin(db, &e), 0);
	assert_int_equal(tp_catalog_begin(db, &e), -EBUSY);
	ok(tp_catalog_commit(db, &e), &e);
	assert_int_equal(tp_catalog_commit(db, &e), -EINVAL);
	tp_catalog_close(db);

	db = open_db(f);
	ok(tp_catalog_count(db, NULL, &c, &e), &e);
	assert_int_equal(c.media_sets, 2);
	assert_int_equal(c.media, 4);
	assert_int_equal(c.tape_files, 1);
	assert_int_equal(c.chunks, 1);
	digest_of(1, d);
	assert_int_equal(tp_catalog_has_chunk_in_set(db, SET1, "store1", d, &e), 1);
	digest_of(2, d);
	assert_int_equal(tp_catalog_has_chunk_in_set(db, SET1, "store1", d, &e), 0);

	/* a second handle sees committed rows */
	tp_catalog_db *db2 = open_db(f);
	ok(tp_catalog_begin(db, &e), &e);
	ok(tp_catalog_add_chunk(db, TAPE_A, 3, "store1", d, 48, 1000, &e), &e);
	assert_int_equal(tp_catalog_has_chunk_in_set(db2, SET1, "store1", d, &e), 0);
	ok(tp_catalog_commit(db, &e), &e);
	assert_int_equal(tp_catalog_has_chunk_in_set(db2, SET1, "store1", d, &e), 1);
	tp_catalog_close(db2);

	tp_catalog_media m;
	ok(tp_catalog_get_media(db, TAPE_B, &m, &e), &e);
	assert_string_equal(m.label_text, "TAPE-B");
	assert_true(m.has_set);
	assert_memory_equal(m.media_set, SET1, 16);
	assert_int_equal(m.seq_nr, 1);
	ok(tp_catalog_get_media(db, TAPE_X, &m, &e), &e);
	assert_false(m.has_set);
	char pool[65];
	int64_t sct;
	ok(tp_catalog_get_media_set(db, SET2, pool, &sct, &e), &e);
	assert_string_equal(pool, "pool1");
	assert_int_equal(sct, 2000);
	uint8_t nope[16] = { 1 };
	assert_int_equal(tp_catalog_get_media_set(db, nope, pool, &sct, &e), -TP_ENOTFOUND);
	assert_int_equal(tp_catalog_get_media(db, nope, &m, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "01000000-0000-0000-0000-000000000000"));
	tp_catalog_close(db);
}

typedef struct {
	size_t n, stop_after;
	uint8_t digest[8][32];
	size_t ncopies[8];
	uint64_t first_seq[8], second_seq[8];
	int64_t first_offset[8], first_block[8];
} locs_seen;

static int locs_cb(void *ctx, const uint8_t digest[32], const tp_chunk_loc *locs, size_t ncopies)
{
	locs_seen *ls = ctx;
	if (ls->n >= 8)
		return -1;
	memcpy(ls->digest[ls->n], digest, 32);
	ls->ncopies[ls->n] = ncopies;
	if (ncopies > 0) {
		ls->first_seq[ls->n] = locs[0].seq_nr;
		ls->first_offset[ls->n] = locs[0].offset;
		ls->first_block[ls->n] = locs[0].file_first_block;
	}
	if (ncopies > 1)
		ls->second_seq[ls->n] = locs[1].seq_nr;
	ls->n++;
	return ls->stop_after && ls->n >= ls->stop_after ? 1 : 0;
}

static void test_lookup_across_tapes(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db = open_db(f);
	ok(tp_catalog_begin(db, &e), &e);
	add_sets(db);
	add_file(db, TAPE_A, 2, TP_TAPE_FILE_CHUNK_ARCHIVE, 3, "store1");
	add_file(db, TAPE_A, 3, TP_TAPE_FILE_SNAPSHOT_ARCHIVE, 40, "store1");
	add_file(db, TAPE_B, 3, TP_TAPE_FILE_CHUNK_ARCHIVE, 5, "store1");
	add_file(db, TAPE_C, 2, TP_TAPE_FILE_CHUNK_ARCHIVE, 3, "store1");
	uint8_t d[32];
	for (unsigned i = 0; i < 10; i++) {
		digest_of(i, d);
		ok(tp_catalog_add_chunk(db, TAPE_A, 2, "store1", d, 48 + i * 1000, 1000, &e), &e);
	}
	/* chunk 9 was cut by LEOM on tape A and written again on tape B */
	digest_of(9, d);
	ok(tp_catalog_add_chunk(db, TAPE_B, 3, "store1", d, 48, 1000, &e), &e);
	digest_of(20, d);
	ok(tp_catalog_add_chunk(db, TAPE_B, 3, "store1", d, 1048, 2000, &e), &e);
	/* same digest in another store and in another set */
	digest_of(30, d);
	ok(tp_catalog_add_chunk(db, TAPE_C, 2, "store2", d, 48, 100, &e), &e);
	ok(tp_catalog_commit(db, &e), &e);

	tp_chunk_loc loc[4];
	digest_of(9, d);
	assert_int_equal(tp_catalog_lookup_chunk(db, SET1, "store1", d, loc, 4, &e), 2);
	assert_memory_equal(loc[0].media, TAPE_A, 16);
	assert_int_equal(loc[0].seq_nr, 0);
	assert_int_equal(loc[0].file_nr, 2);
	assert_int_equal(loc[0].offset, 9048);
	assert_int_equal(loc[0].file_first_block, 3);
	assert_memory_equal(loc[1].media, TAPE_B, 16);
	assert_int_equal(loc[1].seq_nr, 1);
	assert_int_equal(loc[1].file_nr, 3);
	assert_int_equal(loc[1].file_first_block, 5);
	/* max smaller than the number of copies: count still reported */
	assert_int_equal(tp_catalog_lookup_chunk(db, SET1, "store1", d, loc, 1, &e), 2);
	digest_of(20, d);
	assert_int_equal(tp_catalog_lookup_chunk(db, SET1, "store1", d, loc, 4, &e), 1);
	assert_int_equal(loc[0].size, 2000);
	assert_int_equal(loc[0].offset, 1048);
	assert_int_equal(tp_catalog_lookup_chunk(db, SET2, "store1", d, loc, 4, &e), 0);
	digest_of(30, d);
	assert_int_equal(tp_catalog_has_chunk_in_set(db, SET2, "store2", d, &e), 1);
	assert_int_equal(tp_catalog_has_chunk_in_set(db, SET2, "store1", d, &e), 0);
	assert_int_equal(tp_catalog_has_chunk_in_set(db, SET1, "store2", d, &e), 0);
	assert_int_equal(tp_catalog_has_chunk_in_set(db, SET1, "nostore", d, &e), 0);
	uint8_t noset[16] = { 9, 9 };
	assert_int_equal(tp_catalog_has_chunk_in_set(db, noset, "store2", d, &e), 0);

	/* a snapshot's chunk list with every copy, in one pass: 9 twice, 20 once, 77 not in the set */
	int64_t sid;
	uint8_t list[3][32];
	digest_of(9, list[0]);
	digest_of(20, list[1]);
	digest_of(77, list[2]);
	ok(tp_catalog_begin(db, &e), &e);
	ok(tp_catalog_add_snapshot(db, TAPE_A, 3, "store1", "vm/100/2026-01-01T00:00:00Z", CUUID, &sid, &e), &e);
	ok(tp_catalog_add_snapshot_chunks(db, sid, (const uint8_t(*)[32])list, 3, &e), &e);
	ok(tp_catalog_commit(db, &e), &e);
	locs_seen ls;
	memset(&ls, 0, sizeof(ls));
	ok(tp_catalog_snapshot_chunk_locs(db, sid, SET1, "store1", locs_cb, &ls, &e), &e);
	assert_int_equal(ls.n, 3);
	for (int i = 0; i < 3; i++) {
		int found = 0;
		for (size_t j = 0; j < ls.n; j++)
			if (!memcmp(ls.digest[j], list[i], 32)) {
				found = 1;
				assert_int_equal(ls.ncopies[j], i == 0 ? 2 : i == 1 ? 1 : 0);
				if (i == 0) { /* in sequence order, as tp_catalog_lookup_chunk */
					assert_int_equal(ls.first_seq[j], 0);
					assert_int_equal(ls.second_seq[j], 1);
					assert_int_equal(ls.first_offset[j], 9048);
				}
				if (i == 1) {
					assert_int_equal(ls.first_seq[j], 1);
					assert_int_equal(ls.first_offset[j], 1048);
					assert_int_equal(ls.first_block[j], 5);
				}
			}
		assert_true(found);
	}
	for (size_t j = 1; j < ls.n; j++) /* digest order */
		assert_true(memcmp(ls.digest[j - 1], ls.digest[j], 32) < 0);
	memset(&ls, 0, sizeof(ls)); /* another set, an unknown store: no copies anywhere */
	ok(tp_catalog_snapshot_chunk_locs(db, sid, SET2, "store1", locs_cb, &ls, &e), &e);
	assert_int_equal(ls.n, 3);
	assert_int_equal(ls.ncopies[0] + ls.ncopies[1] + ls.ncopies[2], 0);
	memset(&ls, 0, sizeof(ls));
	ok(tp_catalog_snapshot_chunk_locs(db, sid, SET1, "nostore", locs_cb, &ls, &e), &e);
	assert_int_equal(ls.ncopies[0] + ls.ncopies[1] + ls.ncopies[2], 0);
	memset(&ls, 0, sizeof(ls));
	ls.stop_after = 1; /* a callback's non-zero return stops the stream */
	ok(tp_catalog_snapshot_chunk_locs(db, sid, SET1, "store1", locs_cb, &ls, &e), &e);
	assert_int_equal(ls.n, 1);

	/* tape files in file order */
	files fl = { 0, { 0 }, { 0 } };
	ok(tp_catalog_list_tape_files(db, TAPE_A, files_cb, &fl, &e), &e);
	assert_int_equal(fl.n, 2);
	assert_int_equal(fl.nr[0], 2);
	assert_int_equal(fl.kind[0], TP_TAPE_FILE_CHUNK_ARCHIVE);
	assert_int_equal(fl.nr[1], 3);
	assert_int_equal(fl.kind[1], TP_TAPE_FILE_SNAPSHOT_ARCHIVE);
	assert_string_equal(tp_tape_file_kind_name(TP_TAPE_FILE_CATALOG_ARCHIVE), "catalog-archive");

	tp_catalog_counts c;
	ok(tp_catalog_count(db, SET1, &c, &e), &e);
	assert_int_equal(c.media, 2);
	assert_int_equal(c.chunks, 12);
	assert_int_equal(c.tape_files, 3);
	ok(tp_catalog_count(db, SET2, &c, &e), &e);
	assert_int_equal(c.chunks, 1);
	tp_catalog_close(db);
}

typedef struct snaps {
	int n;
	char paths[16][128];
	int stop_after;
} snaps;

static int snaps_cb(void *ctx, const tp_snapshot_loc *s)
{
	snaps *l = ctx;
	if (l->n < 16)
		snprintf(l->paths[l->n], sizeof(l->paths[0]), "%s:%s", s->store, s->path);
	l->n++;
	return l->stop_after && l->n >= l->stop_after ? 1 : 0;
}

static void test_snapshots(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db = open_db(f);
	ok(tp_catalog_begin(db, &e), &e);
	add_sets(db);
	static const char *paths[] = {
		"vm/100/2024-01-01T00:00:00Z", "ns/a/vm/101/2024-01-01T00:00:00Z",
		"ns/a/ns/b/ct/102/2024-01-01T00:00:00Z", "ns/ab/host/x/2024-01-01T00:00:00Z",
	};
	int64_t ids[4];
	for (int i = 0; i < 4; i++)
		ok(tp_catalog_add_snapshot(db, i < 2 ? TAPE_A : TAPE_B, (uint64_t)(5 + i), "store1", paths[i], CUUID,
					   &ids[i], &e), &e);
	int64_t again;
	ok(tp_catalog_add_snapshot(db, TAPE_A, 5, "store1", paths[0], CUUID, &again, &e), &e);
	assert_int_equal(again, ids[0]);
	int64_t other;
	ok(tp_catalog_add_snapshot(db, TAPE_C, 9, "store2", paths[0], CUUID, &other, &e), &e);
	ok(tp_catalog_commit(db, &e), &e);

	tp_snapshot_loc s;
	ok(tp_catalog_lookup_snapshot(db, SET1, "store1", paths[2], &s, &e), &e);
	assert_memory_equal(s.media, TAPE_B, 16);
	assert_memory_equal(s.media_set, SET1, 16);
	assert_int_equal(s.seq_nr, 1);
	assert_int_equal(s.file_nr, 7);
	assert_int_equal(s.id, ids[2]);
	assert_false(s.chunks_known);
	assert_int_equal(tp_catalog_lookup_snapshot(db, SET2, "store1", paths[2], &s, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "ns/a/ns/b/ct/102"));

	snaps l = { 0 };
	ok(tp_catalog_list_snapshots(db, SET1, NULL, NULL, snaps_cb, &l, &e), &e);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.paths[0], "store1:ns/a/ns/b/ct/102/2024-01-01T00:00:00Z");
	memset(&l, 0, sizeof(l));
	ok(tp_catalog_list_snapshots(db, SET1, "store1", "a", snaps_cb, &l, &e), &e);
	assert_int_equal(l.n, 2);  /* ns a and a/b, not ab */
	assert_string_equal(l.paths[1], "store1:ns/a/vm/101/2024-01-01T00:00:00Z");
	memset(&l, 0, sizeof(l));
	ok(tp_catalog_list_snapshots(db, SET1, NULL, "a/b", snaps_cb, &l, &e), &e);
	assert_int_equal(l.n, 1);
	memset(&l, 0, sizeof(l));
	ok(tp_catalog_list_snapshots(db, NULL, "store2", NULL, snaps_cb, &l, &e), &e);
	assert_int_equal(l.n, 1);
	memset(&l, 0, sizeof(l));
	ok(tp_catalog_list_snapshots(db, NULL, NULL, NULL, snaps_cb, &l, &e), &e);
	assert_int_equal(l.n, 5);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;
	ok(tp_catalog_list_snapshots(db, NULL, NULL, NULL, snaps_cb, &l, &e), &e);
	assert_int_equal(l.n, 2);
	assert_int_equal(tp_catalog_list_snapshots(db, NULL, NULL, "a//b", snaps_cb, &l, &e), -EINVAL);
	tp_catalog_close(db);
}

typedef struct stream_ctx {
	unsigned n;
	uint8_t last[32];
	unsigned stop_at;
} stream_ctx;

static int stream_cb(void *ctx, const uint8_t d[32])
{
	stream_ctx *s = ctx;
	uint8_t want[32];
	digest_of(s->n, want);
	if (memcmp(d, want, 32))
		return -TP_EDIGEST;
	memcpy(s->last, d, 32);
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 1 : 0;
}

static void test_stream_100k(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db = open_db(f);
	ok(tp_catalog_begin(db, &e), &e);
	add_sets(db);
	int64_t id;
	ok(tp_catalog_add_snapshot(db, TAPE_A, 4, "store1", "vm/100/2024-01-01T00:00:00Z", CUUID, &id, &e), &e);
	enum { N = 100000, BATCH = 1000 };
	uint8_t(*batch)[32] = malloc(BATCH * 32);
	/* added in reverse batches: the list comes back in digest order */
	for (int b = N / BATCH - 1; b >= 0; b--) {
		for (unsigned i = 0; i < BATCH; i++)
			digest_of((unsigned)b * BATCH + i, batch[i]);
		ok(tp_catalog_add_snapshot_chunks(db, id, (const uint8_t(*)[32])batch, BATCH, &e), &e);
	}
	/* duplicates are ignored */
	ok(tp_catalog_add_snapshot_chunks(db, id, (const uint8_t(*)[32])batch, 10, &e), &e);
	ok(tp_catalog_commit(db, &e), &e);
	free(batch);

	tp_snapshot_loc s;
	ok(tp_catalog_lookup_snapshot(db, SET1, "store1", "vm/100/2024-01-01T00:00:00Z", &s, &e), &e);
	assert_true(s.chunks_known);
	assert_int_equal(s.nchunks, N);
	stream_ctx sc = { 0 };
	ok(tp_catalog_snapshot_chunks(db, id, stream_cb, &sc, &e), &e);
	assert_int_equal(sc.n, N);
	memset(&sc, 0, sizeof(sc));
	sc.stop_at = 5;
	ok(tp_catalog_snapshot_chunks(db, id, stream_cb, &sc, &e), &e);
	assert_int_equal(sc.n, 5);
	/* an empty chunk list is "known" */
	int64_t id2;
	ok(tp_catalog_add_snapshot(db, TAPE_A, 6, "store1", "vm/200/2024-01-01T00:00:00Z", CUUID, &id2, &e), &e);
	ok(tp_catalog_add_snapshot_chunks(db, id2, NULL, 0, &e), &e);
	ok(tp_catalog_lookup_snapshot(db, SET1, "store1", "vm/200/2024-01-01T00:00:00Z", &s, &e), &e);
	assert_true(s.chunks_known);
	assert_int_equal(s.nchunks, 0);
	assert_int_equal(tp_catalog_add_snapshot_chunks(db, 999999, NULL, 0, &e), -TP_ENOTFOUND);
	tp_catalog_close(db);
}

static void test_delete_media(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db = open_db(f);
	ok(tp_catalog_begin(db, &e), &e);
	add_sets(db);
	uint8_t d[32];
	digest_of(1, d);
	add_file(db, TAPE_A, 2, TP_TAPE_FILE_CHUNK_ARCHIVE, 3, "store1");
	ok(tp_catalog_add_chunk(db, TAPE_A, 2, "store1", d, 48, 10, &e), &e);
	ok(tp_catalog_add_chunk(db, TAPE_B, 2, "store1", d, 48, 10, &e), &e);
	ok(tp_catalog_add_chunk(db, TAPE_C, 2, "store1", d, 48, 10, &e), &e);
	int64_t id;
	ok(tp_catalog_add_snapshot(db, TAPE_A, 3, "store1", "vm/1/2024-01-01T00:00:00Z", CUUID, &id, &e), &e);
	ok(tp_catalog_add_snapshot_chunks(db, id, (const uint8_t(*)[32])d, 1, &e), &e);
	ok(tp_catalog_commit(db, &e), &e);

	ok(tp_catalog_delete_media(db, TAPE_A, 1, &e), &e);
	tp_chunk_loc loc[2];
	assert_int_equal(tp_catalog_lookup_chunk(db, SET1, "store1", d, loc, 2, &e), 1);
	assert_memory_equal(loc[0].media, TAPE_B, 16);
	tp_snapshot_loc s;
	assert_int_equal(tp_catalog_lookup_snapshot(db, SET1, "store1", "vm/1/2024-01-01T00:00:00Z", &s, &e),
			 -TP_ENOTFOUND);
	tp_catalog_counts c;
	ok(tp_catalog_count(db, NULL, &c, &e), &e);
	assert_int_equal(c.media, 4);
	assert_int_equal(c.tape_files, 0);
	assert_int_equal(c.snapshot_chunks, 0);
	assert_int_equal(c.chunks, 2);

	/* removing the only tape of set 2 removes the set too */
	ok(tp_catalog_delete_media(db, TAPE_C, 0, &e), &e);
	ok(tp_catalog_count(db, NULL, &c, &e), &e);
	assert_int_equal(c.media, 3);
	assert_int_equal(c.media_sets, 1);
	assert_int_equal(c.chunks, 1);
	assert_int_equal(tp_catalog_delete_media(db, TAPE_C, 0, &e), -TP_ENOTFOUND);
	tp_catalog_close(db);
}

static void test_bad_input(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db = open_db(f);
	add_sets(db);
	uint8_t d[32] = { 1 };
	assert_int_equal(tp_catalog_add_chunk(db, TAPE_X, 2, "store1", d, 0, 10, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not in a media set"));
	uint8_t nope[16] = { 0x42 };
	assert_int_equal(tp_catalog_add_chunk(db, nope, 2, "store1", d, 0, 10, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "42000000-"));
	assert_int_equal(tp_catalog_add_chunk(db, TAPE_A, 2, "a:b", d, 0, 10, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "invalid datastore name 'a:b'"));
	assert_int_equal(tp_catalog_add_chunk(db, TAPE_A, 2, "", d, 0, 10, &e), -EINVAL);
	assert_int_equal(tp_catalog_add_chunk(db, TAPE_A, 2, "s", d, -5, 10, &e), -EINVAL);
	int64_t id;
	assert_int_equal(tp_catalog_add_snapshot(db, TAPE_A, 3, "store1", "vm/../etc", CUUID, &id, &e), -EINVAL);
	assert_int_equal(tp_catalog_add_snapshot(db, TAPE_A, 3, "store1", "/vm/1", CUUID, &id, &e), -EINVAL);
	assert_int_equal(tp_catalog_add_snapshot(db, TAPE_A, 3, "store1", "", CUUID, &id, &e), -EINVAL);
	assert_int_equal(tp_catalog_add_media(db, nope, "L", SET1 + 0, 0, 0, &e), 0);
	uint8_t noset[16] = { 0x99 };
	assert_int_equal(tp_catalog_add_media(db, nope, "L", noset, 0, 0, &e), -TP_ENOTFOUND);
	assert_int_equal(tp_catalog_add_media(db, nope, "", NULL, 0, 0, &e), -EINVAL);
	assert_int_equal(tp_catalog_add_media_set(db, noset, "", 0, NULL, &e), -EINVAL);
	tp_tape_file tf;
	memset(&tf, 0, sizeof(tf));
	memcpy(tf.media, TAPE_A, 16);
	tf.kind = (enum tp_tape_file_kind)9;
	assert_int_equal(tp_catalog_add_tape_file(db, &tf, &e), -EINVAL);
	tp_catalog_close(db);

	/* a file that is not a database */
	char *junk = tp_path_join(f->dir, "junk.db");
	assert_int_equal(tp_write_atomic(junk, "this is not sqlite, just some text of more than 100 bytes ........"
						 "...........................................................", 120,
					 0600, &e), 0);
	tp_catalog_db *bad = NULL;
	assert_true(tp_catalog_open(&bad, junk, &e) < 0);
	assert_null(bad);
	assert_non_null(strstr(e.msg, "junk.db"));
	free(junk);
}

static void sql(const char *path, const char *q)
{
	sqlite3 *s3;
	assert_int_equal(sqlite3_open(path, &s3), SQLITE_OK);
	char *msg = NULL;
	if (sqlite3_exec(s3, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
	sqlite3_close(s3);
}

static int count_cb(void *ctx, int n, char **v, char **c)
{
	(void)n;
	(void)c;
	*(int *)ctx = atoi(v[0] ? v[0] : "-1");
	return 0;
}

static int sql_int(const char *path, const char *q)
{
	sqlite3 *s3;
	int v = -1;
	assert_int_equal(sqlite3_open(path, &s3), SQLITE_OK);
	assert_int_equal(sqlite3_exec(s3, q, count_cb, &v, NULL), SQLITE_OK);
	sqlite3_close(s3);
	return v;
}

/* A schema-1 catalog gets the covering chunk index on open (its rows kept); a newer schema is refused. */
static void test_schema_upgrade(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db = open_db(f);
	add_sets(db);
	uint8_t d[32];
	digest_of(1, d);
	ok(tp_catalog_add_chunk(db, TAPE_A, 2, "store1", d, 48, 1000, &e), &e);
	tp_catalog_close(db);
	sql(f->path, "DROP INDEX chunk_loc; CREATE INDEX chunk_by_digest ON chunk(set_id, store_id, digest); "
		     "PRAGMA user_version = 1");
	db = open_db(f);
	tp_chunk_loc loc[2];
	assert_int_equal(tp_catalog_lookup_chunk(db, SET1, "store1", d, loc, 2, &e), 1);
	assert_int_equal(loc[0].offset, 48);
	tp_catalog_close(db);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 2);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'chunk_loc'"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'chunk_by_digest'"), 0);
	sql(f->path, "PRAGMA user_version = 3");
	tp_catalog_db *newer = NULL;
	assert_int_equal(tp_catalog_open(&newer, f->path, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "schema version 3 is newer than this tapir (2)"));
}

static void test_log_export_import(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db = open_db(f);
	ok(tp_catalog_begin(db, &e), &e);
	add_sets(db);
	uint8_t d[32];
	/* tape B (seq 1): chunk archive at 3 (chunks added out of stream order), snapshot at 4,
	 * chunk archive at 6, an incomplete snapshot archive at 7 (no snapshot row) */
	add_file(db, TAPE_B, 3, TP_TAPE_FILE_CHUNK_ARCHIVE, 10, "store1");
	static const unsigned order[] = { 2, 0, 1 };
	for (int i = 0; i < 3; i++) {
		digest_of(100 + order[i], d);
		ok(tp_catalog_add_chunk(db, TAPE_B, 3, "store1", d, 48 + order[i] * 500, 500, &e), &e);
	}
	add_file(db, TAPE_B, 4, TP_TAPE_FILE_SNAPSHOT_ARCHIVE, 20, "store1");
	uint8_t su[16] = { 0x5a };
	ok(tp_catalog_add_snapshot(db, TAPE_B, 4, "store1", "vm/100/2024-01-01T00:00:00Z", su, NULL, &e), &e);
	add_file(db, TAPE_B, 6, TP_TAPE_FILE_CHUNK_ARCHIVE, 30, "store2");
	digest_of(200, d);
	ok(tp_catalog_add_chunk(db, TAPE_B, 6, "store2", d, 48, 500, &e), &e);
	add_file(db, TAPE_B, 7, TP_TAPE_FILE_SNAPSHOT_ARCHIVE, 40, "store1");
	ok(tp_catalog_commit(db, &e), &e);

	tp_buf got = TP_BUF_INIT, want = TP_BUF_INIT;
	ok(tp_catalog_export_log(db, TAPE_B, &got, &e), &e);
	uint8_t cu[16];
	assert_int_equal(tp_mclog_append_magic(&want), 0);
	assert_int_equal(tp_mclog_append_label(&want, 0, TAPE_B, 0), 0);
	assert_int_equal(tp_mclog_append_label(&want, 1, SET1, 1), 0);
	memcpy(cu, CUUID, 16);
	cu[15] = 3;
	ok(tp_mclog_append_archive_start(&want, 3, cu, "store1", &e), &e);
	for (unsigned i = 0; i < 3; i++) {
		digest_of(100 + i, d);
		assert_int_equal(tp_mclog_append_chunk(&want, d), 0);
	}
	assert_int_equal(tp_mclog_append_archive_end(&want, 3, cu), 0);
	ok(tp_mclog_append_snapshot(&want, 4, su, "store1", "vm/100/2024-01-01T00:00:00Z", &e), &e);
	cu[15] = 6;
	ok(tp_mclog_append_archive_start(&want, 6, cu, "store2", &e), &e);
	digest_of(200, d);
	assert_int_equal(tp_mclog_append_chunk(&want, d), 0);
	assert_int_equal(tp_mclog_append_archive_end(&want, 6, cu), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	/* the S record of the worked example: 1 + 32 + 6 + 1 + 27 = 67 bytes */
	assert_int_equal(want.len, 8 + 2 * 33 + (33 + 6 + 3 * 33 + 25) + 67 + (33 + 6 + 33 + 25));

	/* import into a fresh database: same rows, offsets unknown, same export */
	char *p2 = tp_path_join(f->dir, "other.db");
	tp_catalog_db *db2 = NULL;
	ok(tp_catalog_open(&db2, p2, &e), &e);
	add_sets(db2);
	ok(tp_catalog_import_log(db2, TAPE_B, got.data, got.len, &e), &e);
	tp_chunk_loc loc[2];
	digest_of(101, d);
	assert_int_equal(tp_catalog_lookup_chunk(db2, SET1, "store1", d, loc, 2, &e), 1);
	assert_int_equal(loc[0].file_nr, 3);
	assert_int_equal(loc[0].offset, -1);
	assert_int_equal(loc[0].file_first_block, -1);
	tp_snapshot_loc s;
	ok(tp_catalog_lookup_snapshot(db2, SET1, "store1", "vm/100/2024-01-01T00:00:00Z", &s, &e), &e);
	assert_int_equal(s.file_nr, 4);
	assert_memory_equal(s.content_uuid, su, 16);
	assert_false(s.chunks_known);
	tp_buf again = TP_BUF_INIT;
	ok(tp_catalog_export_log(db2, TAPE_B, &again, &e), &e);
	assert_int_equal(again.len, got.len);
	assert_memory_equal(again.data, got.data, got.len);
	/* importing twice replaces, never duplicates */
	ok(tp_catalog_import_log(db2, TAPE_B, got.data, got.len, &e), &e);
	tp_catalog_counts c;
	ok(tp_catalog_count(db2, SET1, &c, &e), &e);
	assert_int_equal(c.chunks, 4);
	assert_int_equal(c.snapshots, 1);

	/* a log of another tape, or of another set position, is refused and changes nothing */
	assert_true(tp_catalog_import_log(db2, TAPE_A, got.data, got.len, &e) < 0);
	assert_non_null(strstr(e.msg, "a0010000-"));
	ok(tp_catalog_add_media(db2, TAPE_B, "TAPE-B", SET1, 2, 1100, &e), &e);
	assert_true(tp_catalog_import_log(db2, TAPE_B, got.data, got.len, &e) < 0);
	ok(tp_catalog_count(db2, SET1, &c, &e), &e);
	assert_int_equal(c.chunks, 4);
	/* truncated log */
	ok(tp_catalog_add_media(db2, TAPE_B, "TAPE-B", SET1, 1, 1100, &e), &e);
	assert_true(tp_catalog_import_log(db2, TAPE_B, got.data, got.len - 10, &e) < 0);
	ok(tp_catalog_count(db2, SET1, &c, &e), &e);
	assert_int_equal(c.chunks, 4);

	/* a tape without a set exports only its L 0 */
	tp_buf x = TP_BUF_INIT;
	ok(tp_catalog_export_log(db2, TAPE_X, &x, &e), &e);
	assert_int_equal(x.len, 8 + 33);
	tp_buf_free(&x);
	tp_buf_free(&again);
	tp_catalog_close(db2);
	free(p2);
	tp_buf_free(&got);
	tp_buf_free(&want);
	tp_catalog_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_durability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_across_tapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_100k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_media, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_export_import, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
