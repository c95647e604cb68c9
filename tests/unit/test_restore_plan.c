/* Unit test: the restore planner over a hand-built catalog (tape order, one pass, locate vs read through, present chunks, missing chunks) and the 2021 emulation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "format/media_label.h"
#include "format/tape_block.h"
#include "tape/catalog_db.h"
#include "tape/inventory.h"
#include "tape/restore_plan.h"

#define NEAR(a, b) assert_true(((a) - (b)) < 1e-6 * (1.0 + (b)) && ((b) - (a)) < 1e-6 * (1.0 + (b)))

static char home[256];
static const uint8_t SET[16] = { 0x5e, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
/* media uuids deliberately not in sequence order: C < A < D < B */
static const uint8_t MA[16] = { 0x40, 0xa }, MB[16] = { 0x90, 0xb }, MC[16] = { 0x10, 0xc }, MD[16] = { 0x70, 0xd };
static const uint8_t *const MEDIA[4] = { MA, MB, MC, MD };
static const char *const LABELS[4] = { "A00000L9", "B00001L9", "C00002L9", "D00003L9" };

#define CHUNK_FILE_FIRST 4 /* labels and their filemarks take objects 0..3 */
#define ENTRY 1000          /* bytes of every chunk entry (header + blob) */

/* chunk archive blocks are TP_TAPE_BLOCK_PAYLOAD bytes of stream: entry k starts in block `block` */
static int64_t at_block(uint64_t block) { return (int64_t)(block * TP_TAPE_BLOCK_PAYLOAD); }

static void digest(uint8_t d[32], int n)
{
	memset(d, 0, 32);
	d[0] = (uint8_t)n;
	d[31] = 0xdd;
}

/* blocks the LTO-9 break-even allows to read through on a real cartridge (media_bytes 0) */
static uint64_t kb;

static int setup(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-ut-rplan.XXXXXX");
	assert_non_null(mkdtemp(home));
	setenv("TAPIR_HOME", home, 1);
	tp_err e = { 0 };
	char path[300];
	snprintf(path, sizeof(path), "%s/tgt", home);
	assert_int_equal(tp_datastore_create("tgt", path, 0, &e), 0);

	/* inventory: four tapes of one set, seq 0..3 */
	tp_inventory inv;
	assert_int_equal(tp_inventory_open(&inv, NULL, NULL, &e), 0);
	for (int i = 0; i < 4; i++) {
		tp_media_label l;
		tp_media_set_label s;
		memset(&l, 0, sizeof(l));
		memset(&s, 0, sizeof(s));
		memcpy(l.uuid, MEDIA[i], 16);
		snprintf(l.label_text, sizeof(l.label_text), "%s", LABELS[i]);
		l.ctime = 1767225600;
		snprintf(l.pool, sizeof(l.pool), "p1");
		snprintf(s.pool, sizeof(s.pool), "p1");
		memcpy(s.uuid, SET, 16);
		s.seq_nr = (uint64_t)i;
		s.ctime = 1767225600 + i;
		assert_int_equal(tp_inventory_store(&inv, &l, &s, 0, &e), 0);
	}
	tp_inventory_close(&inv);

	kb = (uint64_t)(tp_lto_break_even_bytes(tp_lto_gen_get(9)) / TP_TAPE_BLOCK_SIZE);
	assert_true(kb > 100); /* ~3060 blocks of 256 KiB */

	/*
	 * Tape A (seq 0): file 2 chunk archive: d1 in block 0, d2 in block kb+1
	 *   (kb whole blocks between: read through), d3 in block 2kb+3 (kb+1
	 *   blocks between: locate); file 3 = snapshot archive of vm/100.
	 * Tape B (seq 1): file 2 chunk archive d6 in block 0, d5 in block 5
	 *   (d5 is in the target already); file 3 = snapshot archive of vm/101.
	 * Tape C (seq 2): file 2 chunk archive d4 in block 3.
	 * Tape D (seq 3): file 2 chunk archive d7; file 3 = snapshot archive of
	 *   vm/102, which also references d9, a chunk the catalog does not know.
	 */
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	assert_int_equal(tp_catalog_add_media_set(db, SET, "p1", 1767225600, NULL, &e), 0);
	int64_t chunk_blocks[4] = { (int64_t)(2 * kb + 5), 10, 10, 10 };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(tp_catalog_add_media(db, MEDIA[i], LABELS[i], SET, (uint64_t)i, 1767225600, &e), 0);
		tp_tape_file f = { .file_nr = 2, .kind = TP_TAPE_FILE_CHUNK_ARCHIVE, .first_block = CHUNK_FILE_FIRST,
				   .nblocks = chunk_blocks[i], .complete = 1 };
		memcpy(f.media, MEDIA[i], 16);
		snprintf(f.store, sizeof(f.store), "src");
		assert_int_equal(tp_catalog_add_tape_file(db, &f, &e), 0);
		if (i == 2)
			continue;
		tp_tape_file s = { .file_nr = 3, .kind = TP_TAPE_FILE_SNAPSHOT_ARCHIVE,
				   .first_block = CHUNK_FILE_FIRST + chunk_blocks[i] + 1, .nblocks = 2, .complete = 1 };
		memcpy(s.media, MEDIA[i], 16);
		s.content_uuid[0] = (uint8_t)(0xc0 + i);
		snprintf(s.store, sizeof(s.store), "src");
		assert_int_equal(tp_catalog_add_tape_file(db, &s, &e), 0);
		if (i == 3) { /* file 4: vm/103's snapshot archive */
			s.file_nr = 4;
			s.first_block += 3;
			s.content_uuid[0] = 0xc4;
			assert_int_equal(tp_catalog_add_tape_file(db, &s, &e), 0);
		}
	}
	struct { int d, tape; uint64_t block; } chunks[] = {
		{ 1, 0, 0 }, { 2, 0, 0 }, { 3, 0, 0 }, { 6, 1, 0 }, { 5, 1, 5 }, { 4, 2, 3 }, { 7, 3, 1 },
	};
	chunks[1].block = kb + 1;
	chunks[2].block = 2 * kb + 3;
	uint8_t d[32];
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		digest(d, chunks[i].d);
		assert_int_equal(tp_catalog_add_chunk(db, MEDIA[chunks[i].tape], 2, "src", d, at_block(chunks[i].block),
						      ENTRY, &e),
				 0);
	}
	static const struct { int tape; const char *path; int digests[4]; int n; } snaps[] = {
		{ 0, "vm/100/2026-01-01T00:00:00Z", { 1, 2, 3, 4 }, 4 },
		{ 1, "vm/101/2026-01-01T00:00:00Z", { 6, 5, 1 }, 3 },
		{ 3, "vm/102/2026-01-01T00:00:00Z", { 7, 9 }, 2 },
		{ 3, "vm/103/2026-01-01T00:00:00Z", { 7 }, 1 },
	};
	for (size_t i = 0; i < 4; i++) {
		uint8_t cu[16] = { (uint8_t)(0xc0 + snaps[i].tape) };
		int64_t id;
		assert_int_equal(tp_catalog_add_snapshot(db, MEDIA[snaps[i].tape], 3 + (i == 3), "src", snaps[i].path, cu,
							 &id, &e),
				 0);
		uint8_t list[4][32];
		for (int k = 0; k < snaps[i].n; k++)
			digest(list[k], snaps[i].digests[k]);
		assert_int_equal(tp_catalog_add_snapshot_chunks(db, id, (const uint8_t(*)[32])list, (size_t)snaps[i].n, &e), 0);
	}
	tp_catalog_close(db);

	/* d5 is in the target already */
	tp_datastore ds;
	assert_int_equal(tp_datastore_open(&ds, "tgt", &e), 0);
	digest(d, 5);
	static const uint8_t blob[16] = { 1, 2, 3 };
	assert_int_equal(tp_chunk_store_insert(&ds.cs, d, blob, sizeof(blob), NULL, &e), 0);
	tp_datastore_close(&ds);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tp_rm_rf(home, NULL);
	return 0;
}

static const char *const DRIVES[] = { "d0" };

static void request(tp_restore_request *req, tp_store_map *map, const char *const *snaps, int n)
{
	tp_err e = { 0 };
	assert_int_equal(tp_store_map_parse("tgt", map, &e), 0);
	memset(req, 0, sizeof(*req));
	req->set = SET;
	req->map = map;
	req->snapshots = snaps;
	req->nsnapshots = n;
	req->authid = "root@pam";
	req->pool = "p1";
	req->drives = DRIVES;
	req->ndrives = 1;
	req->gen = tp_lto_gen_get(9);
	req->media_bytes = 0; /* a real cartridge: the break-even is kb blocks */
}

static void test_plan(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	const char *const sel[] = { "src:vm/100/2026-01-01T00:00:00Z", "src:vm/101/2026-01-01T00:00:00Z",
				    "src:vm/102/2026-01-01T00:00:00Z" };
	tp_store_map map;
	tp_restore_request req;
	request(&req, &map, sel, 3);
	tp_restore_plan P;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), 0);

	/* vm/102 fails in the plan, before any tape: d9 is unknown */
	assert_int_equal(P.nsnaps, 3);
	assert_int_equal(P.snaps[0].state, TP_RS_PENDING);
	assert_int_equal(P.snaps[1].state, TP_RS_PENDING);
	assert_int_equal(P.snaps[2].state, TP_RS_FAILED);
	assert_non_null(strstr(P.snaps[2].reason, "1 of its chunks are not in the media set's catalog"));

	/* tapes in sequence order, each once; tape D (only vm/102's) not at all */
	assert_int_equal(P.ntapes, 3);
	for (size_t t = 0; t < 3; t++) {
		assert_int_equal(P.tapes[t].seq, t);
		assert_string_equal(P.tapes[t].label, LABELS[t]);
		assert_memory_equal(P.tapes[t].media, MEDIA[t], 16);
		assert_int_equal(P.tapes[t].drive, 0);
		/* one forward pass: reads of a tape in ascending, non-overlapping order */
		for (size_t k = P.tapes[t].first_read + 1; k < P.tapes[t].first_read + P.tapes[t].nreads; k++)
			assert_true(P.reads[k].first_object >= P.reads[k - 1].first_object + P.reads[k - 1].nobjects);
		if (t)
			assert_int_equal(P.tapes[t].first_read, P.tapes[t - 1].first_read + P.tapes[t - 1].nreads);
	}
	assert_int_equal(P.nreads, 3 + 2 + 1);

	/* tape A: d1..d2 merged (kb blocks between = break-even), d3 its own read (kb + 1 between), snapshot archive */
	const tp_restore_read *r = &P.reads[P.tapes[0].first_read];
	assert_int_equal(P.tapes[0].nreads, 3);
	assert_int_equal(r[0].kind, TP_READ_CHUNKS);
	assert_int_equal(r[0].first_object, CHUNK_FILE_FIRST);
	assert_int_equal(r[0].nobjects, kb + 2);
	assert_int_equal(r[0].useful, 2 * ENTRY);
	assert_int_equal(r[1].kind, TP_READ_CHUNKS);
	assert_int_equal(r[1].first_object, CHUNK_FILE_FIRST + 2 * kb + 3);
	assert_int_equal(r[1].nobjects, 1);
	assert_int_equal(r[2].kind, TP_READ_SNAPSHOT);
	assert_int_equal(r[2].first_object, CHUNK_FILE_FIRST + 2 * kb + 5 + 1);
	assert_int_equal(r[2].nobjects, 3);
	/* to d3 and to the snapshot archive; d1 is the first object after the labels, where the load leaves the tape */
	assert_int_equal(P.tapes[0].locates, 2);

	/* tape B: d6 only, d5 is in the target; then vm/101's archive */
	r = &P.reads[P.tapes[1].first_read];
	assert_int_equal(P.tapes[1].nreads, 2);
	assert_int_equal(r[0].first_object, CHUNK_FILE_FIRST);
	assert_int_equal(r[0].nobjects, 1);
	assert_int_equal(r[0].useful, ENTRY);
	assert_int_equal(r[1].kind, TP_READ_SNAPSHOT);
	uint8_t d[32];
	digest(d, 5);
	assert_false(tp_digest_set_has(&P.needed, d));
	digest(d, 6);
	assert_true(tp_digest_set_has(&P.needed, d));
	digest(d, 7); /* only the failed snapshot's */
	assert_false(tp_digest_set_has(&P.needed, d));

	/* tape C: d4 in block 3 */
	r = &P.reads[P.tapes[2].first_read];
	assert_int_equal(P.tapes[2].nreads, 1);
	assert_int_equal(r[0].first_object, CHUNK_FILE_FIRST + 3);

	/* d1 is needed by both snapshots, counted once */
	assert_int_equal(P.chunks_needed, 5);
	assert_int_equal(P.chunks_present, 1);
	assert_int_equal(P.bytes_needed, 5 * ENTRY + 2 * 2 * TP_TAPE_BLOCK_SIZE);

	/*
	 * Estimate, one drive: 3 moves in, 2 moves back = 5 x 26 s, 3 loads of
	 * 16 s, 2 unloads of 56 s (the last tape stays).  Reading: the two
	 * label blocks at each load, then kb + 2 + 1 + 2 (A), 1 + 2 (B) and 1 (C)
	 * blocks, at 400 MB/s (a snapshot archive's filemark is no data).
	 */
	NEAR(P.estimate.changer_s, 5 * 26.0);
	NEAR(P.estimate.load_s, 3 * 16.0);
	NEAR(P.estimate.unload_s, 2 * 56.0);
	NEAR(P.estimate.read_s, (double)((3 * 2 + kb + 9) * TP_TAPE_BLOCK_SIZE) / 400e6);
	/* locates: 2 on A, 1 on B, 1 on C (d1 and d6 are where a load leaves the tape), each at least 2 s */
	assert_true(P.estimate.locate_s > 4 * 2.0 && P.estimate.locate_s < 4 * 2.1);

	/*
	 * 2021 emulation: phase 1 loads A and B (snapshot archives), phase 2
	 * loads C, A, B (uuid order): 5 loads, 4 unloads, two label blocks
	 * each; phase 1 reads both snapshot archives (2 blocks each), phase 2
	 * the chunk archive of A from its first block to d3 (2kb + 4 blocks),
	 * of B to d6 (1), of C to d4 (4).
	 */
	tp_tape_counters c;
	tp_lto_estimate pe;
	assert_int_equal(tp_restore_plan_pbs2021(db, &P, &req, &c, &pe, &e), 0);
	assert_int_equal(c.loads, 5);
	assert_int_equal(c.unloads, 4);
	assert_int_equal(c.bytes_read, (5 * 2 + 2 + 2 + (2 * kb + 4) + 1 + 4) * (uint64_t)TP_TAPE_BLOCK_SIZE);
	assert_int_equal(c.blocks_read, 5 * 2 + 2 + 2 + (2 * kb + 4) + 1 + 4);
	NEAR(pe.changer_s, 9 * 26.0);
	assert_true(pe.total_s > P.estimate.total_s);

	/* a standalone drive: the operator swaps the tapes, no robot time in either estimate; the rest is the same */
	double robot_total = P.estimate.total_s, robot_2021 = pe.total_s;
	tp_restore_plan_free(&P);
	req.standalone = 1;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), 0);
	NEAR(P.estimate.changer_s, 0.0);
	NEAR(P.estimate.total_s, robot_total - 5 * 26.0);
	assert_int_equal(tp_restore_plan_pbs2021(db, &P, &req, &c, &pe, &e), 0);
	NEAR(pe.changer_s, 0.0);
	NEAR(pe.total_s, robot_2021 - 9 * 26.0);

	/* one drive: the elapsed estimate is the whole estimate */
	NEAR(P.elapsed_s, P.estimate.total_s);
	/*
	 * three drives: a tape each, the longest (tape A: its chunk archive
	 * from block 0 to 2kb + 4) on drive 0; elapsed = the slowest drive's part
	 */
	static const char *const DRIVES3[] = { "d0", "d1", "d2" };
	double one_drive_total = P.estimate.total_s;
	tp_restore_plan_free(&P);
	req.drives = DRIVES3;
	req.ndrives = 3;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), 0);
	assert_int_equal(P.ntapes, 3);
	assert_int_equal(P.tapes[0].drive + P.tapes[1].drive + P.tapes[2].drive, 0 + 1 + 2);
	assert_int_not_equal(P.tapes[0].drive, P.tapes[1].drive);
	size_t longest = 0;
	for (size_t t = 1; t < P.ntapes; t++)
		if (P.tapes[t].bytes > P.tapes[longest].bytes)
			longest = t;
	assert_int_equal(P.tapes[longest].drive, 0);
	/* no swaps on any drive: less drive time than one drive; elapsed = the slowest part (not the sum, not the least) */
	assert_true(P.estimate.total_s < one_drive_total);
	assert_true(P.elapsed_s < P.estimate.total_s);
	assert_true(P.elapsed_s * 3 > P.estimate.total_s);
	/* two drives, three tapes: the longest alone on drive 0, the two others on drive 1 (LPT), not round robin */
	tp_restore_plan_free(&P);
	req.ndrives = 2;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), 0);
	for (size_t t = 0; t < P.ntapes; t++)
		assert_int_equal(P.tapes[t].drive, t == longest ? 0 : 1);
	req.drives = DRIVES;
	req.ndrives = 1;

	json_t *j = tp_restore_plan_json(&P);
	NEAR(json_real_value(json_object_get(j, "estimated-elapsed-seconds")), P.elapsed_s);
	assert_int_equal(json_array_size(json_object_get(j, "tapes")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "chunks-present")), 1);
	json_decref(j);
	tp_restore_plan_free(&P);
	tp_catalog_close(db);
}

static void test_virtual_cartridge_locates_every_block_gap(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	const char *const sel[] = { "src:vm/100/2026-01-01T00:00:00Z" };
	tp_store_map map;
	tp_restore_request req;
	request(&req, &map, sel, 1);
	/*
	 * 1 GiB virtual cartridge for 18 TB: the break-even is
	 * 802 MB x 2^30 / 18e12 = 47.9 KB, less than a block, so d1 and d2 are
	 * no longer merged: three chunk reads on tape A.
	 */
	req.media_bytes = 1ull << 30;
	tp_restore_plan P;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), 0);
	assert_int_equal(P.ntapes, 2); /* A and C */
	assert_int_equal(P.tapes[0].nreads, 4);
	assert_int_equal(P.tapes[0].locates, 3); /* d1 needs none: it is where the load leaves the tape */
	assert_int_equal(P.reads[0].nobjects, 1);
	/*
	 * reading is scaled too: 10 blocks (2 labels + 1 + 1 + 1 + 2 on A — the
	 * snapshot archive's filemark is an object but no data —, 2 labels + 1
	 * on C) of 1 GiB for 18 TB at 400 MB/s
	 */
	NEAR(P.estimate.read_s, 10.0 * TP_TAPE_BLOCK_SIZE * 18e12 / (double)(1ull << 30) / 400e6);
	tp_restore_plan_free(&P);
	tp_catalog_close(db);
}

/* vm/102 fails (d9 unknown) and drops d7; vm/103, selected after it, needs d7 too: it must still be read */
static void test_failed_snapshot_does_not_hide_shared_chunks(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	const char *const sel[] = { "src:vm/102/2026-01-01T00:00:00Z", "src:vm/103/2026-01-01T00:00:00Z" };
	tp_store_map map;
	tp_restore_request req;
	request(&req, &map, sel, 2);
	tp_restore_plan P;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), 0);
	assert_int_equal(P.snaps[0].state, TP_RS_FAILED);
	assert_int_equal(P.snaps[1].state, TP_RS_PENDING);
	assert_int_equal(P.ntapes, 1);
	assert_int_equal(P.tapes[0].seq, 3);
	assert_int_equal(P.chunks_needed, 1);
	assert_int_equal(P.tapes[0].nreads, 2); /* d7, then vm/103's archive (file 4), not vm/102's */
	assert_int_equal(P.reads[0].kind, TP_READ_CHUNKS);
	assert_int_equal(P.reads[0].first_object, CHUNK_FILE_FIRST + 1);
	assert_int_equal(P.reads[1].kind, TP_READ_SNAPSHOT);
	assert_int_equal(P.reads[1].file_nr, 4);
	uint8_t d[32];
	uint64_t v = 0;
	digest(d, 7);
	assert_true(tp_digest_set_get(&P.needed, d, &v));
	assert_int_equal(v & 0xffffffffu, 1); /* target 0 lacks it */
	assert_int_equal(P.needed.n, 1);
	tp_restore_plan_free(&P);
	tp_catalog_close(db);
}

/* A snapshot for a second target fails in the plan: a chunk another snapshot planned gets no write to that target. */
static void test_failed_snapshot_leaves_no_target_bit(void **state)
{
	(void)state;
	tp_err e = { 0 };
	char path[300];
	snprintf(path, sizeof(path), "%s/tgt2", home);
	assert_int_equal(tp_datastore_create("tgt2", path, 0, &e), 0);
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	/* store src2's vm/104 on tape D references d7 (catalogued for src) and d9 (not in the catalog) */
	uint8_t cu[16] = { 0xc3 }, list[2][32];
	int64_t id;
	assert_int_equal(tp_catalog_add_snapshot(db, MD, 5, "src2", "vm/104/2026-01-01T00:00:00Z", cu, &id, &e), 0);
	digest(list[0], 7);
	digest(list[1], 9);
	assert_int_equal(tp_catalog_add_snapshot_chunks(db, id, (const uint8_t(*)[32])list, 2, &e), 0);
	const char *const sel[] = { "src:vm/103/2026-01-01T00:00:00Z", "src2:vm/104/2026-01-01T00:00:00Z" };
	tp_store_map map;
	tp_restore_request req;
	request(&req, &map, sel, 2);
	assert_int_equal(tp_store_map_parse("src=tgt,src2=tgt2", &map, &e), 0);
	tp_restore_plan P;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), 0);
	assert_int_equal(P.snaps[0].state, TP_RS_PENDING);
	assert_int_equal(P.snaps[1].state, TP_RS_FAILED);
	assert_int_equal(P.snaps[1].target, 1);
	uint8_t d[32];
	uint64_t v = 0;
	digest(d, 7);
	assert_true(tp_digest_set_get(&P.needed, d, &v));
	assert_int_equal(v & 0xffffffffu, 1); /* target 0 only: tgt2's snapshot failed */
	tp_restore_plan_free(&P);
	tp_catalog_close(db);
}

/* A catalog row whose chunk size does not fit an entry fails the plan, naming the snapshot, instead of wrapping. */
static void test_chunk_location_out_of_range(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	uint8_t cu[16] = { 0xc6 }, list[1][32];
	int64_t id;
	digest(list[0], 10);
	assert_int_equal(tp_catalog_add_chunk(db, MD, 2, "src", list[0], at_block(4), (int64_t)1 << 33, &e), 0);
	assert_int_equal(tp_catalog_add_snapshot(db, MD, 6, "src", "vm/106/2026-01-01T00:00:00Z", cu, &id, &e), 0);
	assert_int_equal(tp_catalog_add_snapshot_chunks(db, id, (const uint8_t(*)[32])list, 1, &e), 0);
	const char *const sel[] = { "src:vm/106/2026-01-01T00:00:00Z" };
	tp_store_map map;
	tp_restore_request req;
	request(&req, &map, sel, 1);
	tp_restore_plan P;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "src:vm/106/2026-01-01T00:00:00Z"));
	assert_non_null(strstr(e.msg, "out of range"));
	tp_restore_plan_free(&P);
	tp_catalog_close(db);
}

/* The catalog, a request for vm/100 and vm/101 (tapes A, B, C) and its plan from an empty drive in P0. */
static tp_catalog_db *three_tape_plan(tp_restore_request *req, tp_store_map *map, tp_restore_plan *P0)
{
	static const char *const sel[] = { "src:vm/100/2026-01-01T00:00:00Z", "src:vm/101/2026-01-01T00:00:00Z" };
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	request(req, map, sel, 2);
	assert_int_equal(tp_restore_plan_build(db, req, P0, &e), 0);
	assert_int_equal(P0->ntapes, 3);
	return db;
}

/* A needed tape already in a drive is read there, first and without a load; the estimate knows. */
static void test_tape_in_drive(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_store_map map;
	tp_restore_request req;
	tp_restore_plan P0, P1, P2;
	tp_catalog_db *db = three_tape_plan(&req, &map, &P0);
	for (size_t t = 0; t < 3; t++)
		assert_int_equal(P0.tapes[t].preloaded, 0);

	/* one drive holding C (sequence 2): C is pinned, and the drive spares C's load and the unload of B */
	const char *in_c[] = { LABELS[2] };
	req.loaded = in_c;
	int r1 = tp_restore_plan_build(db, &req, &P1, &e);
	if (r1)
		print_message("%s\n", e.msg);
	assert_int_equal(r1, 0);
	assert_int_equal(P1.tapes[2].preloaded, 1);
	assert_int_equal(P1.tapes[2].drive, 0);
	assert_int_equal(P1.tapes[0].preloaded + P1.tapes[1].preloaded, 0);
	assert_true(P1.estimate.total_s < P0.estimate.total_s - 30);
	assert_true(P1.estimate.load_s < P0.estimate.load_s);
	json_t *j = tp_restore_plan_json(&P1);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "tapes"), 2), "in-drive")));
	assert_null(json_object_get(json_array_get(json_object_get(j, "tapes"), 0), "in-drive"));
	json_decref(j);
	/* C is taken back to BOT from where the drive reports it, as tp_drive_reload counts: no rewind at BOT, a long one from mid-tape */
	tp_restore_plan Pb, Pf;
	uint64_t bot[] = { 0 }, far[] = { 9000000000000ull };
	req.loaded_pos = bot;
	assert_int_equal(tp_restore_plan_build(db, &req, &Pb, &e), 0);
	req.loaded_pos = far;
	assert_int_equal(tp_restore_plan_build(db, &req, &Pf, &e), 0);
	assert_int_equal(Pb.tapes[2].preloaded + Pf.tapes[2].preloaded, 2);
	assert_true(Pb.estimate.rewind_s < P1.estimate.rewind_s); /* unknown position: the shortest rewind */
	assert_true(Pf.estimate.rewind_s > P1.estimate.rewind_s + 1.0);
	assert_true(fabs(Pf.estimate.load_s - Pb.estimate.load_s) < 1e-6);
	tp_restore_plan_free(&Pb);
	tp_restore_plan_free(&Pf);
	req.loaded_pos = NULL;

	/* two drives, the second holding A: A stays with it whatever the spread would say; a label no tape has is ignored */
	static const char *const DRIVES2[] = { "d0", "d1" };
	const char *in_a[] = { "Z99999L9", LABELS[0] };
	req.drives = DRIVES2;
	req.ndrives = 2;
	req.loaded = in_a;
	int r2 = tp_restore_plan_build(db, &req, &P2, &e);
	if (r2)
		print_message("%s\n", e.msg);
	assert_int_equal(r2, 0);
	assert_int_equal(P2.tapes[0].preloaded, 1);
	assert_int_equal(P2.tapes[0].drive, 1);
	assert_int_equal(P2.tapes[1].preloaded + P2.tapes[2].preloaded, 0);
	tp_restore_plan_free(&P0);
	tp_restore_plan_free(&P1);
	tp_restore_plan_free(&P2);
	tp_catalog_close(db);
}

/*
 * A needed tape in a drive the restore does not use is taken out of there
 * first, and a tape the restore's drive holds that it does not need is
 * unloaded before the first load: the estimate charges each an unload and
 * a robot move, as the executor's counters do.
 */
static void test_tape_elsewhere(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_store_map map;
	tp_restore_request req;
	tp_restore_plan P0, P1, P2;
	tp_catalog_db *db = three_tape_plan(&req, &map, &P0);

	const char *other[] = { "Z99999L9", LABELS[1] }; /* B in another drive, and a tape of no interest */
	req.elsewhere = other;
	req.nelsewhere = 2;
	assert_int_equal(tp_restore_plan_build(db, &req, &P1, &e), 0);
	assert_int_equal(P1.tapes[0].elsewhere + P1.tapes[2].elsewhere, 0);
	assert_int_equal(P1.tapes[1].elsewhere, 1);
	assert_int_equal(P1.tapes[1].preloaded, 0);
	const tp_lto_gen *g = tp_lto_gen_get(9);
	assert_true(fabs(P1.estimate.unload_s - P0.estimate.unload_s - g->unload_s) < 1e-6);
	assert_true(fabs(P1.estimate.changer_s - P0.estimate.changer_s - TP_LTO_CHANGER_MOVE_S) < 1e-6);
	assert_true(P1.estimate.rewind_s > P0.estimate.rewind_s + g->min_locate_s - 1e-3);
	assert_true(fabs(P1.estimate.load_s - P0.estimate.load_s) < 1e-6);
	json_t *j = tp_restore_plan_json(&P1);
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(j, "tapes"), 1), "in-other-drive")));
	assert_null(json_object_get(json_array_get(json_object_get(j, "tapes"), 0), "in-other-drive"));
	json_decref(j);
	/* where B stands in that drive, when it says: rewound from there before it comes out (none at BOT) */
	tp_restore_plan Pfar, Pbot;
	uint64_t far_b[] = { 0, 9000000000000ull }, bot_b[] = { 0, 0 };
	req.elsewhere_pos = far_b;
	assert_int_equal(tp_restore_plan_build(db, &req, &Pfar, &e), 0);
	req.elsewhere_pos = bot_b;
	assert_int_equal(tp_restore_plan_build(db, &req, &Pbot, &e), 0);
	assert_int_equal(Pfar.tapes[1].elsewhere_pos, far_b[1]);
	assert_true(Pfar.estimate.rewind_s > P1.estimate.rewind_s + 1.0);
	assert_true(Pbot.estimate.rewind_s < P1.estimate.rewind_s);
	assert_true(fabs(Pfar.estimate.unload_s - Pbot.estimate.unload_s) < 1e-6);
	tp_restore_plan_free(&Pfar);
	tp_restore_plan_free(&Pbot);
	req.elsewhere_pos = NULL;

	/* our drive holds a tape the restore does not need: unloaded and moved back before A comes in */
	req.elsewhere = NULL;
	req.nelsewhere = 0;
	const char *in_x[] = { "?" };
	req.loaded = in_x;
	assert_int_equal(tp_restore_plan_build(db, &req, &P2, &e), 0);
	for (size_t t = 0; t < 3; t++)
		assert_int_equal(P2.tapes[t].preloaded, 0);
	assert_true(fabs(P2.estimate.unload_s - P0.estimate.unload_s - g->unload_s) < 1e-6);
	assert_true(fabs(P2.estimate.changer_s - P0.estimate.changer_s - TP_LTO_CHANGER_MOVE_S) < 1e-6);
	assert_true(fabs(P2.estimate.load_s - P0.estimate.load_s) < 1e-6);
	/* where that tape stands, when the drive knows: rewound from there (at BOT: no rewind at all) */
	tp_restore_plan P3, P4;
	uint64_t far[] = { 9000000000000ull }, bot[] = { 0 }; /* half an LTO-9 cartridge */
	req.loaded_pos = far;
	assert_int_equal(tp_restore_plan_build(db, &req, &P3, &e), 0);
	assert_true(P3.estimate.rewind_s > P2.estimate.rewind_s + 1.0);
	req.loaded_pos = bot;
	assert_int_equal(tp_restore_plan_build(db, &req, &P4, &e), 0);
	assert_true(P4.estimate.rewind_s < P2.estimate.rewind_s - 1.0);
	assert_true(fabs(P4.estimate.unload_s - P2.estimate.unload_s) < 1e-6);
	tp_restore_plan_free(&P3);
	tp_restore_plan_free(&P4);
	tp_restore_plan_free(&P0);
	tp_restore_plan_free(&P1);
	tp_restore_plan_free(&P2);
	tp_catalog_close(db);
}

static void test_no_catalog(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, NULL, &e), 0);
	static const uint8_t other[16] = { 0x77 };
	tp_store_map map;
	tp_restore_request req;
	request(&req, &map, NULL, 0);
	req.set = other;
	tp_restore_plan P;
	assert_int_equal(tp_restore_plan_build(db, &req, &P, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "has no local catalog"));
	assert_non_null(strstr(e.msg, "tapir tape catalog"));
	tp_restore_plan_free(&P);
	tp_catalog_close(db);
}

/* PBS's datastore map and --namespaces values: the forms accepted, and one clear error for each bad one. */
static void test_store_and_ns_maps(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_store_map m;
	assert_int_equal(tp_store_map_parse("only", &m, &e), 0);
	assert_string_equal(tp_store_map_target(&m, "anything"), "only");
	assert_int_equal(tp_store_map_parse("a=tga,b=tgb,deflt", &m, &e), 0);
	assert_string_equal(tp_store_map_target(&m, "a"), "tga");
	assert_string_equal(tp_store_map_target(&m, "b"), "tgb");
	assert_string_equal(tp_store_map_target(&m, "c"), "deflt");
	assert_int_equal(tp_store_map_parse("a=tga", &m, &e), 0);
	assert_null(tp_store_map_target(&m, "c")); /* unmapped: that store's snapshots are skipped */
	static const struct { const char *map, *msg; } bad[] = {
		{ "", "invalid datastore map" },
		{ "xxx,yyy", "more than one default target" },
		{ "a=tga,a=tgb", "source 'a' mapped twice" },
		{ "=tga", "bad source store ''" },
		{ "a/b=tga", "bad source store 'a/b'" },
		{ "a=", "datastore map 'a='" },
		{ "a=../x", "datastore map 'a=../x'" },
		{ "a=tg", "invalid datastore name 'tg'" },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		e.msg[0] = 0;
		assert_true(tp_store_map_parse(bad[k].map, &m, &e) < 0);
		if (!strstr(e.msg, bad[k].msg))
			fail_msg("map '%s': '%s' does not say '%s'", bad[k].map, e.msg, bad[k].msg);
	}
	tp_ns_map n;
	assert_int_equal(tp_ns_map_parse("store=s", &n, &e), 0);
	assert_string_equal(n.store, "s");
	assert_string_equal(n.source, "");
	assert_int_equal(n.has_target, 0);
	assert_int_equal(n.max_depth, -1);
	assert_int_equal(tp_ns_map_parse("store=s,source=a/b,target=x,max-depth=2", &n, &e), 0);
	assert_string_equal(n.source, "a/b");
	assert_string_equal(n.target, "x");
	assert_int_equal(n.has_target, 1);
	assert_int_equal(n.max_depth, 2);
	static const struct { const char *v, *msg; } badns[] = {
		{ "source=a", "store= is required" },
		{ "store=s,depth=1", "unknown key 'depth'" },
		{ "store=s,max-depth=-1", "max-depth must be" },
		{ "store=s,max-depth=99", "max-depth must be" },
		{ "store=s,max-depth=1x", "max-depth must be" },
		{ "store=s,source=../x", "--namespaces 'store=s,source=../x'" },
		{ "store=s,target", "expected key=value" },
		{ "store=", "bad store" },
	};
	for (size_t k = 0; k < sizeof(badns) / sizeof(badns[0]); k++) {
		e.msg[0] = 0;
		assert_true(tp_ns_map_parse(badns[k].v, &n, &e) < 0);
		if (!strstr(e.msg, badns[k].msg))
			fail_msg("--namespaces '%s': '%s' does not say '%s'", badns[k].v, e.msg, badns[k].msg);
	}
}

/* A recording privilege check: allows all but `deny`, and lists what was asked. */
static char asked[1024];
static const char *deny;
static int record_priv(const char *authid, const char *path, const char *priv, tp_err *err)
{
	size_t n = strlen(asked);
	snprintf(asked + n, sizeof(asked) - n, "%s%s %s", n ? "; " : "", priv, path);
	if (deny && !strcmp(deny, path))
		return tp_err_set(err, -EACCES, "%s lacks %s on %s", authid, priv, path);
	return 0;
}

/*
 * The target namespace's missing levels need Datastore.Modify on their
 * parents (the restore creates them), then Datastore.Backup on the
 * namespace itself; levels that exist need nothing more.
 */
static void test_check_target_namespaces(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_datastore ds;
	assert_int_equal(tp_datastore_open(&ds, "tgt", &e), 0);
	assert_int_equal(tp_datastore_ns_create(&ds, "a", 1, &e), 0);
	asked[0] = 0;
	deny = NULL;
	assert_int_equal(tp_restore_check_target(record_priv, "u@pbs", "u@pbs", "tgt", &ds, "a/b/c", &e), 0);
	assert_string_equal(asked, "Datastore.Modify /datastore/tgt/a; Datastore.Modify /datastore/tgt/a/b; "
				   "Datastore.Backup /datastore/tgt/a/b/c");
	asked[0] = 0;
	assert_int_equal(tp_restore_check_target(record_priv, "u@pbs", "u@pbs", "tgt", &ds, "a", &e), 0);
	assert_string_equal(asked, "Datastore.Backup /datastore/tgt/a");
	asked[0] = 0;
	assert_int_equal(tp_restore_check_target(record_priv, "u@pbs", "u@pbs", "tgt", &ds, "new", &e), 0);
	assert_string_equal(asked, "Datastore.Modify /datastore/tgt; Datastore.Backup /datastore/tgt/new");
	/* refused: the error says which namespace and which privilege, and Backup is not asked after it */
	asked[0] = 0;
	deny = "/datastore/tgt/a";
	assert_int_equal(tp_restore_check_target(record_priv, "u@pbs", "u@pbs", "tgt", &ds, "a/b", &e), -EACCES);
	assert_non_null(strstr(e.msg, "creating namespace a/b"));
	assert_non_null(strstr(e.msg, "Datastore.Modify on /datastore/tgt/a"));
	assert_null(strstr(asked, "Backup"));
	/* another owner: Modify on the namespace itself as well */
	asked[0] = 0;
	deny = NULL;
	assert_int_equal(tp_restore_check_target(record_priv, "u@pbs", "o@pbs", "tgt", &ds, "a", &e), 0);
	assert_string_equal(asked, "Datastore.Backup /datastore/tgt/a; Datastore.Modify /datastore/tgt/a");
	tp_datastore_close(&ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_virtual_cartridge_locates_every_block_gap),
		cmocka_unit_test(test_failed_snapshot_does_not_hide_shared_chunks),
		cmocka_unit_test(test_failed_snapshot_leaves_no_target_bit),
		cmocka_unit_test(test_no_catalog),
		cmocka_unit_test(test_chunk_location_out_of_range),
		cmocka_unit_test(test_tape_in_drive),
		cmocka_unit_test(test_tape_elsewhere),
		cmocka_unit_test(test_check_target_namespaces),
		cmocka_unit_test(test_store_and_ns_maps),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
