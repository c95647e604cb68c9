/* Restore planner benchmark (by hand, via bench/plan_bench.sh): plan time and memory for one snapshot of N chunks, against reading the same catalog rows. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/paths.h"
#include "store/datastore.h"
#include "tape/catalog_db.h"
#include "tape/inventory.h"
#include "tape/restore_plan.h"

#define TAPES 8

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long maxrss_kib(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return u.ru_maxrss;
}

static void die(const char *what, const tp_err *e)
{
	fprintf(stderr, "plan_bench: %s: %s\n", what, e ? e->msg : "failed");
	exit(1);
}

/* Digest of chunk i: distinct, spread like SHA-256 output. */
static void digest(uint8_t d[32], uint64_t i)
{
	uint64_t x = i * 0x9e3779b97f4a7c15ULL + 1;
	for (int k = 0; k < 4; k++) {
		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		memcpy(d + 8 * k, &x, 8);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: plan_bench N_CHUNKS (TAPIR_HOME must be an empty scratch directory)\n");
		return 2;
	}
	uint64_t n = strtoull(argv[1], NULL, 10);
	tp_err e = { 0 };
	static const uint8_t set[16] = { 0x5e, 1, 2, 3 };
	uint8_t media[TAPES][16];
	char labels[TAPES][16];
	char path[512];
	snprintf(path, sizeof(path), "%s/tgt", getenv("TAPIR_HOME"));
	if (tp_datastore_create("tgt", path, 0, &e) < 0)
		die("datastore", &e);
	tp_inventory inv;
	if (tp_inventory_open(&inv, NULL, NULL, &e) < 0)
		die("inventory", &e);
	for (int i = 0; i < TAPES; i++) {
		memset(media[i], 0, 16);
		media[i][0] = (uint8_t)(0x40 + i);
		snprintf(labels[i], sizeof(labels[i]), "P%05dL9", i);
		tp_media_label l;
		tp_media_set_label s;
		memset(&l, 0, sizeof(l));
		memset(&s, 0, sizeof(s));
		memcpy(l.uuid, media[i], 16);
		snprintf(l.label_text, sizeof(l.label_text), "%s", labels[i]);
		snprintf(l.pool, sizeof(l.pool), "p1");
		snprintf(s.pool, sizeof(s.pool), "p1");
		memcpy(s.uuid, set, 16);
		s.seq_nr = (uint64_t)i;
		s.ctime = 1767225600 + i;
		if (tp_inventory_store(&inv, &l, &s, 0, &e) < 0)
			die("inventory store", &e);
	}
	tp_inventory_close(&inv);

	/* the catalog: N chunks of 4 MiB spread evenly over the tapes, one snapshot referencing all of them */
	double t0 = now();
	tp_catalog_db *db;
	if (tp_catalog_open(&db, NULL, &e) < 0 || tp_catalog_begin(db, &e) < 0 ||
	    tp_catalog_add_media_set(db, set, "p1", 1767225600, NULL, &e) < 0)
		die("catalog", &e);
	uint64_t per = (n + TAPES - 1) / TAPES, entry = (4u << 20) + 64;
	for (int i = 0; i < TAPES; i++) {
		if (tp_catalog_add_media(db, media[i], labels[i], set, (uint64_t)i, 1767225600, &e) < 0)
			die("media", &e);
		tp_tape_file f = { .file_nr = 2, .kind = TP_TAPE_FILE_CHUNK_ARCHIVE, .first_block = 2,
				   .nblocks = (int64_t)(per * entry / TP_TAPE_BLOCK_PAYLOAD + 2), .complete = 1 };
		memcpy(f.media, media[i], 16);
		snprintf(f.store, sizeof(f.store), "src");
		if (tp_catalog_add_tape_file(db, &f, &e) < 0)
			die("tape file", &e);
	}
	tp_tape_file sf = { .file_nr = 3, .kind = TP_TAPE_FILE_SNAPSHOT_ARCHIVE,
			    .first_block = (int64_t)(per * entry / TP_TAPE_BLOCK_PAYLOAD + 5), .nblocks = 2, .complete = 1 };
	memcpy(sf.media, media[TAPES - 1], 16);
	snprintf(sf.store, sizeof(sf.store), "src");
	if (tp_catalog_add_tape_file(db, &sf, &e) < 0)
		die("snapshot file", &e);
	uint8_t(*list)[32] = malloc(n * 32);
	if (!list)
		die("memory", NULL);
	for (uint64_t i = 0; i < n; i++) {
		digest(list[i], i);
		if (tp_catalog_add_chunk(db, media[i / per], 2, "src", list[i], (int64_t)((i % per) * entry), (int64_t)entry,
					 &e) < 0)
			die("chunk", &e);
	}
	uint8_t cu[16] = { 0xc0 };
	int64_t id;
	if (tp_catalog_add_snapshot(db, media[TAPES - 1], 3, "src", "vm/100/2026-01-01T00:00:00Z", cu, &id, &e) < 0 ||
	    tp_catalog_add_snapshot_chunks(db, id, (const uint8_t(*)[32])list, (size_t)n, &e) < 0 ||
	    tp_catalog_commit(db, &e) < 0)
		die("snapshot", &e);
	free(list);
	tp_catalog_close(db);
	double fill = now() - t0;

	/* baseline: the rows the planner must look at, read with SQLite alone */
	char *cat = tp_state_path("catalog.db");
	sqlite3 *s3;
	sqlite3_stmt *st;
	long rss0 = maxrss_kib();
	double b0 = now();
	if (!cat || sqlite3_open_v2(cat, &s3, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s3, "SELECT c.digest, c.offset FROM chunk c", -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "plan_bench: baseline query on %s: %s\n", cat ? cat : "?", sqlite3_errmsg(s3));
		return 1;
	}
	uint64_t rows = 0, sum = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		rows++;
		sum += (uint64_t)sqlite3_column_int64(st, 1) + ((const uint8_t *)sqlite3_column_blob(st, 0))[0];
	}
	sqlite3_finalize(st);
	sqlite3_close(s3);
	double base = now() - b0;

	/* the plan */
	const char *sel[] = { "src:vm/100/2026-01-01T00:00:00Z" };
	const char *drives[] = { "d0" };
	tp_store_map map;
	if (tp_store_map_parse("tgt", &map, &e) < 0)
		die("store map", &e);
	tp_restore_request req;
	memset(&req, 0, sizeof(req));
	req.set = set;
	req.map = &map;
	req.snapshots = sel;
	req.nsnapshots = 1;
	req.authid = "root@pam";
	req.pool = "p1";
	req.drives = drives;
	req.ndrives = 1;
	req.gen = tp_lto_gen_get(9);
	if (tp_catalog_open(&db, NULL, &e) < 0)
		die("catalog", &e);
	long rss1 = maxrss_kib();
	double p0 = now();
	tp_restore_plan P;
	if (tp_restore_plan_build(db, &req, &P, &e) < 0)
		die("plan", &e);
	double plan = now() - p0;
	long rss2 = maxrss_kib();
	if (P.chunks_needed != n)
		die("plan: not every chunk planned", NULL);
	printf("chunks %llu over %d tapes (catalog filled in %.1f s; %llu rows, check %llu)\n", (unsigned long long)n,
	       TAPES, fill, (unsigned long long)rows, (unsigned long long)(sum & 0xff));
	printf("baseline: SQLite reads the chunk rows     %8.2f s\n", base);
	printf("tapir: plan of the snapshot               %8.2f s   %.2fx the baseline, %.1f us per chunk\n", plan,
	       plan / (base > 1e-9 ? base : 1e-9), plan * 1e6 / (double)n);
	printf("peak RSS: %ld MiB before, %ld MiB after planning: +%.0f bytes per chunk (digest alone: 32)\n",
	       rss0 / 1024, rss2 / 1024, (double)(rss2 - (rss1 > rss0 ? rss1 : rss0)) * 1024.0 / (double)n);
	tp_restore_plan_free(&P);
	tp_catalog_close(db);
	free(cat);
	return 0;
}
