/* Unit test: catalog scan and fast restore of a tape written with the format writers on a virtual drive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "crypto/cipher.h"
#include "format/blob.h"
#include "format/catalog_archive.h"
#include "format/chunk_archive.h"
#include "format/content_header.h"
#include "format/didx.h"
#include "format/fidx.h"
#include "format/manifest.h"
#include "format/media_catalog_log.h"
#include "format/snapshot_archive.h"
#include "format/tape_block.h"
#include "tape/catalog_scan.h"
#include "tape/tape_inventory.h"

#define STORE "store1"
#define SNAP "vm/100/2024-01-01T00:00:00Z"
#define SNAP0 "vm/200/2024-01-01T00:00:00Z"
#define BIG 700000

/* What the writer did, to compare the scan with. */
typedef struct expect_file {
	int present;
	int kind;
	int64_t first, nblocks;
	uint8_t cuuid[16];
	int complete;
} expect_file;

typedef struct fx {
	char dir[64];
	char ddir[96], db_w[96], db_s[96], invdir[96];
	tp_drive *d;
	tp_tape_session s;
	tp_tape_io io;
	tp_media_label ml, ml0;
	tp_media_set_label msl, msl0;
	uint8_t dig[7][32];       /* A B C D(not on tape) F(aborted) G(tape 0) */
	tp_buf blob[7];
	uint64_t off[3];          /* entry offsets of A, B, C */
	expect_file ef[10];
	uint8_t sorted[4][32];    /* the snapshot's chunk list, sorted: A B C D */
	tp_catalog_db *w;         /* the writer's catalog */
} fx;

enum { A, B, C, D, F, G };

static uint64_t obj(fx *f)
{
	tp_drive_pos p;
	tp_err e = { 0 };
	assert_int_equal(tp_drive_read_position(f->d, &p, &e), 0);
	return p.object;
}

static void make_chunk(fx *f, int i, size_t len)
{
	uint8_t *data = malloc(len);
	assert_non_null(data);
	assert_int_equal(tp_random_bytes(data, len), 0);
	tp_err e = { 0 };
	assert_int_equal(tp_blob_encode_chunk(data, len, NULL, 0, &f->blob[i], f->dig[i], &e), 0);
	free(data);
}

typedef struct mem_files {
	const tp_buf *b[3];
	size_t off[3];
} mem_files;

static long rd(void *ctx, size_t i, uint8_t *buf, size_t cap, tp_err *err)
{
	(void)err;
	mem_files *m = ctx;
	size_t left = m->b[i]->len - m->off[i];
	size_t n = left < cap ? left : cap;
	memcpy(buf, m->b[i]->data + m->off[i], n);
	m->off[i] += n;
	return (long)n;
}

static int cmpd(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Writes the tape (see the layout in the comment below) and the writer's catalog rows. */
static void write_tape(fx *f)
{
	tp_err e = { 0 };
	/* tape 0 of the set, only known through its catalog archive on tape 1 */
	memset(&f->ml0, 0, sizeof(f->ml0));
	memset(f->ml0.uuid, 0x10, 16);
	snprintf(f->ml0.label_text, sizeof(f->ml0.label_text), "TAPE0");
	f->ml0.ctime = 1700000000;
	memset(&f->ml, 0, sizeof(f->ml));
	memset(f->ml.uuid, 0x11, 16);
	snprintf(f->ml.label_text, sizeof(f->ml.label_text), "TAPE1");
	f->ml.ctime = 1700000001;
	memset(&f->msl, 0, sizeof(f->msl));
	snprintf(f->msl.pool, sizeof(f->msl.pool), "pool1");
	memset(f->msl.uuid, 0x22, 16);
	f->msl.seq_nr = 1;
	f->msl.ctime = 1700000100;
	f->msl0 = f->msl;
	f->msl0.seq_nr = 0;

	assert_int_equal(tp_catalog_open(&f->w, f->db_w, &e), 0);
	assert_int_equal(tp_catalog_sync_media(f->w, &f->ml, &f->msl, 1700000050, &e), 0);

	/*
	 * 0 label, 1 set label, 2 catalog archive of tape 0, 3 chunk archive
	 * A B C, 4 snapshot archive (manifest, didx A B C A, fidx B D), 5 chunk
	 * archive F aborted, 6 snapshot archive INCOMPLETE, 7 empty file,
	 * 8 catalog archive of this tape.
	 */
	assert_int_equal(tp_drive_rewind(f->d, &e), 0);
	assert_int_equal(tp_media_label_write(&f->io, &f->ml, &e), 0);
	assert_int_equal(tp_media_set_label_write(&f->io, &f->msl, &e), 0);

	/* 2: the .log of tape 0 */
	f->ef[2] = (expect_file){ 1, TP_TAPE_FILE_CATALOG_ARCHIVE, (int64_t)obj(f), 0, { 0 }, 1 };
	tp_buf log0 = TP_BUF_INIT;
	uint8_t cu0[16], cs0[16];
	memset(cu0, 0x30, 16);
	memset(cs0, 0x31, 16);
	assert_int_equal(tp_mclog_append_magic(&log0), 0);
	assert_int_equal(tp_mclog_append_label(&log0, 0, f->ml0.uuid, 0), 0);
	assert_int_equal(tp_mclog_append_label(&log0, 1, f->msl.uuid, 0), 0);
	assert_int_equal(tp_mclog_append_archive_start(&log0, 2, cu0, STORE, &e), 0);
	assert_int_equal(tp_mclog_append_chunk(&log0, f->dig[G]), 0);
	assert_int_equal(tp_mclog_append_archive_end(&log0, 2, cu0), 0);
	assert_int_equal(tp_mclog_append_snapshot(&log0, 3, cs0, STORE, SNAP0, &e), 0);
	assert_int_equal(tp_catalog_archive_write(&f->io, f->ml0.uuid, f->msl.uuid, 0, 1, log0.data, log0.len,
						  f->ef[2].cuuid, 1700000200, &e), 1);
	f->ef[2].nblocks = (int64_t)obj(f) - f->ef[2].first - 1;
	tp_buf_free(&log0);

	/* 3: chunk archive */
	tp_chunk_archive_writer cw;
	f->ef[3] = (expect_file){ 1, TP_TAPE_FILE_CHUNK_ARCHIVE, (int64_t)obj(f), 0, { 0 }, 1 };
	assert_int_equal(tp_chunk_archive_writer_open(&cw, &f->io, STORE, NULL, 1700000300, &e), 0);
	memcpy(f->ef[3].cuuid, cw.uuid, 16);
	for (int i = A; i <= C; i++)
		assert_int_equal(tp_chunk_archive_writer_add(&cw, f->dig[i], f->blob[i].data, f->blob[i].len, &f->off[i], &e), 1);
	assert_int_equal(tp_chunk_archive_writer_finish(&cw, &e), 0);
	tp_chunk_archive_writer_free(&cw);
	f->ef[3].nblocks = (int64_t)obj(f) - f->ef[3].first - 1;
	/* A is small, B spans blocks, C lands after B */
	assert_true(f->off[B] < TP_TAPE_BLOCK_PAYLOAD && f->off[C] > 2 * TP_TAPE_BLOCK_PAYLOAD);
	assert_int_equal(f->ef[3].nblocks, 3);
	tp_tape_file tf = { .file_nr = 3, .kind = TP_TAPE_FILE_CHUNK_ARCHIVE, .first_block = f->ef[3].first,
			    .nblocks = f->ef[3].nblocks, .store = STORE, .complete = 1 };
	memcpy(tf.media, f->ml.uuid, 16);
	memcpy(tf.content_uuid, f->ef[3].cuuid, 16);
	assert_int_equal(tp_catalog_begin(f->w, &e), 0);
	assert_int_equal(tp_catalog_add_tape_file(f->w, &tf, &e), 0);
	for (int i = A; i <= C; i++)
		assert_int_equal(tp_catalog_add_chunk(f->w, f->ml.uuid, 3, STORE, f->dig[i], (int64_t)f->off[i],
						      (int64_t)(TP_CHUNK_ENTRY_HEADER_SIZE + f->blob[i].len), &e), 0);
	assert_int_equal(tp_catalog_commit(f->w, &e), 0);

	/* 4: snapshot archive with a manifest, a didx and a fidx */
	tp_buf didx = TP_BUF_INIT, fidx = TP_BUF_INIT, man = TP_BUF_INIT;
	uint8_t dd[4 * 32], fd[2 * 32], uu[16];
	memset(uu, 0x44, 16);
	memcpy(dd, f->dig[A], 32);
	memcpy(dd + 32, f->dig[B], 32);
	memcpy(dd + 64, f->dig[C], 32);
	memcpy(dd + 96, f->dig[A], 32);
	uint64_t ends[4] = { 100, 200, 300, 400 };
	assert_int_equal(tp_didx_encode(uu, 1704067200, ends, dd, 4, &didx, &e), 0);
	memcpy(fd, f->dig[B], 32);
	memcpy(fd + 32, f->dig[D], 32);
	assert_int_equal(tp_fidx_encode(uu, 1704067200, 8 << 20, 4 << 20, fd, 2, &fidx, &e), 0);
	tp_manifest m;
	assert_int_equal(tp_manifest_init(&m, "vm", "100", 1704067200, &e), 0);
	uint8_t cs[32] = { 0 };
	assert_int_equal(tp_manifest_add_file(&m, "root.pxar.didx", "none", 400, cs, &e), 0);
	assert_int_equal(tp_manifest_add_file(&m, "drive-scsi0.img.fidx", "none", 8 << 20, cs, &e), 0);
	assert_int_equal(tp_manifest_encode_blob(&m, NULL, &man, &e), 0);
	tp_manifest_free(&m);
	mem_files mf = { { &man, &didx, &fidx }, { 0 } };
	tp_snapshot_file files[3] = {
		{ "index.json.blob", 0100644, 0, 0, 1704067200, 0, man.len },
		{ "root.pxar.didx", 0100644, 0, 0, 1704067200, 0, didx.len },
		{ "drive-scsi0.img.fidx", 0100644, 0, 0, 1704067200, 0, fidx.len },
	};
	f->ef[4] = (expect_file){ 1, TP_TAPE_FILE_SNAPSHOT_ARCHIVE, (int64_t)obj(f), 0, { 0 }, 1 };
	assert_int_equal(tp_snapshot_archive_write(&f->io, STORE, SNAP, files, 3, rd, &mf, f->ef[4].cuuid, 1700000400, &e), 1);
	f->ef[4].nblocks = (int64_t)obj(f) - f->ef[4].first - 1;
	tp_buf_free(&didx);
	tp_buf_free(&fidx);
	tp_buf_free(&man);
	memcpy(f->sorted[0], f->dig[A], 32);
	memcpy(f->sorted[1], f->dig[B], 32);
	memcpy(f->sorted[2], f->dig[C], 32);
	memcpy(f->sorted[3], f->dig[D], 32);
	qsort(f->sorted, 4, 32, cmpd);
	tf = (tp_tape_file){ .file_nr = 4, .kind = TP_TAPE_FILE_SNAPSHOT_ARCHIVE, .first_block = f->ef[4].first,
			     .nblocks = f->ef[4].nblocks, .store = STORE, .complete = 1 };
	memcpy(tf.media, f->ml.uuid, 16);
	memcpy(tf.content_uuid, f->ef[4].cuuid, 16);
	int64_t id;
	assert_int_equal(tp_catalog_begin(f->w, &e), 0);
	assert_int_equal(tp_catalog_add_tape_file(f->w, &tf, &e), 0);
	assert_int_equal(tp_catalog_add_snapshot(f->w, f->ml.uuid, 4, STORE, SNAP, f->ef[4].cuuid, &id, &e), 0);
	assert_int_equal(tp_catalog_add_snapshot_chunks(f->w, id, (const uint8_t(*)[32])f->sorted, 4, &e), 0);
	assert_int_equal(tp_catalog_commit(f->w, &e), 0);

	/* 5: a chunk archive whose job died: two whole blocks, filemark, no end marker */
	f->ef[5] = (expect_file){ 1, TP_TAPE_FILE_CHUNK_ARCHIVE, (int64_t)obj(f), 2, { 0 }, 0 };
	assert_int_equal(tp_chunk_archive_writer_open(&cw, &f->io, STORE, NULL, 1700000500, &e), 0);
	memcpy(f->ef[5].cuuid, cw.uuid, 16);
	uint64_t off;
	assert_int_equal(tp_chunk_archive_writer_add(&cw, f->dig[F], f->blob[F].data, f->blob[F].len, &off, &e), 1);
	tp_chunk_archive_writer_abort(&cw);
	assert_int_equal((int64_t)obj(f) - f->ef[5].first - 1, 2);

	/* 6: a snapshot archive cut by LEOM: finished INCOMPLETE */
	f->ef[6] = (expect_file){ 1, TP_TAPE_FILE_SNAPSHOT_ARCHIVE, (int64_t)obj(f), 1, { 0 }, 0 };
	tp_block_writer bw;
	assert_int_equal(tp_block_writer_init(&bw, &f->io, &e), 0);
	char *hj = tp_snapshot_archive_header_json(STORE, "vm/100/2024-01-02T00:00:00Z");
	assert_non_null(hj);
	assert_true(tp_content_header_write(&bw, TP_MAGIC_SNAPSHOT_ARCHIVE_1_1, f->ef[6].cuuid, 1700000600, hj,
					    strlen(hj), &e) >= 0);
	free(hj);
	assert_true(tp_block_writer_write(&bw, "\xef\xac\x88\xe5\x74\x64\x95\xd5", 8, &e) >= 0);
	assert_int_equal(tp_block_writer_finish(&bw, 1, &e), 0);
	tp_block_writer_free(&bw);

	/* 7: empty file (an abort before the first block) */
	assert_int_equal(f->io.write_filemark(f->io.ctx, &e), 0);

	/* 8: this tape's catalog, as the writer recorded it */
	tp_buf log = TP_BUF_INIT;
	assert_int_equal(tp_catalog_export_log(f->w, f->ml.uuid, &log, &e), 0);
	f->ef[8] = (expect_file){ 1, TP_TAPE_FILE_CATALOG_ARCHIVE, (int64_t)obj(f), 0, { 0 }, 1 };
	assert_int_equal(tp_catalog_archive_write(&f->io, f->ml.uuid, f->msl.uuid, 1, 1, log.data, log.len, f->ef[8].cuuid,
						  1700000800, &e), 1);
	f->ef[8].nblocks = (int64_t)obj(f) - f->ef[8].first - 1;
	tp_buf_free(&log);
	f->ef[0] = (expect_file){ 1, TP_TAPE_FILE_LABEL, 0, 1, { 0 }, 1 };
	f->ef[1] = (expect_file){ 1, TP_TAPE_FILE_SET_LABEL, 2, 1, { 0 }, 1 };
}

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-cscan-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->ddir, sizeof(f->ddir), "%s/drive", f->dir);
	snprintf(f->db_w, sizeof(f->db_w), "%s/writer.db", f->dir);
	snprintf(f->db_s, sizeof(f->db_s), "%s/scan.db", f->dir);
	snprintf(f->invdir, sizeof(f->invdir), "%s/inv", f->dir);
	tp_err e = { 0 };
	assert_int_equal(tp_mkdir_p(f->invdir, 0700, &e), 0);
	json_t *conf = json_pack("{s:s,s:i}", "path", f->ddir, "lock-timeout-ms", 0);
	if (tp_drive_open("virtual", "vd", conf, &f->d, &e) < 0)
		fail_msg("open drive: %s", e.msg);
	json_decref(conf);
	assert_int_equal(tp_drive_load(f->d, "TAPE1", &e), 0);
	f->s.drive = f->d;
	f->s.lock.fd = -1;
	f->s.drivenum = -1;
	snprintf(f->s.name, sizeof(f->s.name), "vd");
	tp_drive_tape_io(f->d, &f->io);
	make_chunk(f, A, 1000);
	make_chunk(f, B, BIG);
	make_chunk(f, C, 2000);
	make_chunk(f, D, 3000);
	make_chunk(f, F, BIG);
	make_chunk(f, G, 500);
	write_tape(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tp_catalog_close(f->w);
	tp_drive_close(f->d);
	for (int i = 0; i < 7; i++)
		tp_buf_free(&f->blob[i]);
	tp_rm_rf(f->dir, NULL);
	free(f);
	return 0;
}

typedef struct files_out {
	tp_tape_file f[16];
	int n;
} files_out;

static int collect_files(void *ctx, const tp_tape_file *tf)
{
	files_out *o = ctx;
	if (o->n < 16)
		o->f[o->n++] = *tf;
	return 0;
}

typedef struct digests_out {
	uint8_t d[8][32];
	int n;
} digests_out;

static int collect_digest(void *ctx, const uint8_t digest[32])
{
	digests_out *o = ctx;
	if (o->n < 8)
		memcpy(o->d[o->n], digest, 32);
	o->n++;
	return 0;
}

static void test_scan_rows_and_positions(void **state)
{
	fx *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, f->db_s, &e), 0);
	/* stale rows of the tape from an earlier catalog are replaced */
	assert_int_equal(tp_catalog_sync_media(db, &f->ml, &f->msl, -1, &e), 0);
	assert_int_equal(tp_catalog_add_chunk(db, f->ml.uuid, 9, STORE, f->dig[D], 5, 5, &e), 0);
	tp_catalog_scan_stats st;
	if (tp_catalog_scan_tape(&f->s, db, &f->ml, &f->msl, &st, &e) < 0)
		fail_msg("scan: %s", e.msg);
	assert_int_equal(st.files, 9); /* 0..8; file 7 is the empty one */
	assert_int_equal(st.empty_files, 1);
	assert_int_equal(st.chunk_archives, 2);
	assert_int_equal(st.snapshot_archives, 2);
	assert_int_equal(st.catalog_archives, 2);
	assert_int_equal(st.incomplete, 2);
	assert_int_equal(st.chunks, 3);
	assert_int_equal(st.snapshots, 1);
	assert_int_equal(st.snapshot_chunks, 4);
	assert_int_equal(st.corrupt_chunks, 0);
	assert_false(st.fast);
	assert_false(st.truncated);
	assert_true(st.bytes_read >= (uint64_t)(obj(f) - 9) * TP_TAPE_BLOCK_SIZE);

	/* every file: kind, first block, blocks, content uuid, store, complete */
	files_out fo = { .n = 0 };
	assert_int_equal(tp_catalog_list_tape_files(db, f->ml.uuid, collect_files, &fo, &e), 0);
	assert_int_equal(fo.n, 8);
	int k = 0;
	for (int nr = 0; nr <= 8; nr++) {
		if (!f->ef[nr].present)
			continue;
		const tp_tape_file *t = &fo.f[k++];
		assert_int_equal(t->file_nr, nr);
		assert_int_equal(t->kind, f->ef[nr].kind);
		assert_int_equal(t->first_block, f->ef[nr].first);
		assert_int_equal(t->nblocks, f->ef[nr].nblocks);
		assert_memory_equal(t->content_uuid, f->ef[nr].cuuid, 16);
		assert_int_equal(t->complete, f->ef[nr].complete);
		int with_store = t->kind == TP_TAPE_FILE_CHUNK_ARCHIVE || t->kind == TP_TAPE_FILE_SNAPSHOT_ARCHIVE;
		assert_string_equal(t->store, with_store ? STORE : "");
	}
	assert_int_equal(fo.f[2].first_block, 4);
	assert_int_equal(fo.f[3].first_block, 6);

	/* the rows the writer made are the same, position for position */
	files_out wo = { .n = 0 };
	assert_int_equal(tp_catalog_list_tape_files(f->w, f->ml.uuid, collect_files, &wo, &e), 0);
	assert_int_equal(wo.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fo.f[3 + i].file_nr, wo.f[i].file_nr);
		assert_int_equal(fo.f[3 + i].first_block, wo.f[i].first_block);
		assert_int_equal(fo.f[3 + i].nblocks, wo.f[i].nblocks);
	}

	/* chunks: stream offsets and sizes as written; the aborted archive's chunk is not there */
	for (int i = A; i <= C; i++) {
		tp_chunk_loc loc[2];
		assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[i], loc, 2, &e), 1);
		assert_memory_equal(loc[0].media, f->ml.uuid, 16);
		assert_int_equal(loc[0].seq_nr, 1);
		assert_int_equal(loc[0].file_nr, 3);
		assert_int_equal(loc[0].offset, (int64_t)f->off[i]);
		assert_int_equal(loc[0].size, (int64_t)(TP_CHUNK_ENTRY_HEADER_SIZE + f->blob[i].len));
		assert_int_equal(loc[0].file_first_block, f->ef[3].first);
		tp_chunk_loc wl[2];
		assert_int_equal(tp_catalog_lookup_chunk(f->w, f->msl.uuid, STORE, f->dig[i], wl, 2, &e), 1);
		assert_int_equal(wl[0].offset, loc[0].offset);
		assert_int_equal(wl[0].size, loc[0].size);
	}
	tp_chunk_loc loc[2];
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[F], loc, 2, &e), 0);
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[D], loc, 2, &e), 0);

	/* the complete snapshot with its whole chunk list; the incomplete one is absent */
	tp_snapshot_loc sl;
	assert_int_equal(tp_catalog_lookup_snapshot(db, f->msl.uuid, STORE, SNAP, &sl, &e), 0);
	assert_int_equal(sl.file_nr, 4);
	assert_int_equal(sl.chunks_known, 1);
	assert_int_equal(sl.nchunks, 4);
	assert_memory_equal(sl.content_uuid, f->ef[4].cuuid, 16);
	digests_out dg = { .n = 0 };
	assert_int_equal(tp_catalog_snapshot_chunks(db, sl.id, collect_digest, &dg, &e), 0);
	assert_int_equal(dg.n, 4);
	assert_memory_equal(dg.d, f->sorted, 4 * 32);
	assert_int_equal(tp_catalog_lookup_snapshot(db, f->msl.uuid, STORE, "vm/100/2024-01-02T00:00:00Z", &sl, &e),
			 -TP_ENOTFOUND);

	/* the .log of the scanned rows equals the writer's */
	tp_buf l1 = TP_BUF_INIT, l2 = TP_BUF_INIT;
	assert_int_equal(tp_catalog_export_log(db, f->ml.uuid, &l1, &e), 0);
	assert_int_equal(tp_catalog_export_log(f->w, f->ml.uuid, &l2, &e), 0);
	/* the scan also has the aborted chunk archive (A + E, no chunks) */
	assert_true(l1.len > l2.len);
	tp_buf_free(&l1);
	tp_buf_free(&l2);
	tp_catalog_close(db);
}

static void test_scan_wrong_tape_and_no_set(void **state)
{
	fx *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, f->db_s, &e), 0);
	tp_media_set_label other = f->msl;
	memset(other.uuid, 0x99, 16);
	assert_int_equal(tp_catalog_scan_tape(&f->s, db, &f->ml, &other, NULL, &e), -TP_EWRONGMEDIA);
	assert_non_null(strstr(e.msg, "belongs to media set 22222222-"));
	assert_non_null(strstr(e.msg, "expected media set 99999999-"));
	/* nothing was written for the other set */
	assert_int_equal(tp_catalog_media_has_rows(db, f->ml.uuid, &e), 0);
	tp_media_label wrong = f->ml;
	snprintf(wrong.label_text, sizeof(wrong.label_text), "TAPE9");
	assert_int_equal(tp_catalog_scan_tape(&f->s, db, &wrong, &f->msl, NULL, &e), -TP_EWRONGMEDIA);
	assert_non_null(strstr(e.msg, "wrong tape"));
	assert_int_equal(tp_catalog_scan_tape(&f->s, db, &f->ml, NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no media set"));
	tp_catalog_close(db);
}

static void test_fast_restore(void **state)
{
	fx *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, f->db_s, &e), 0);
	/* tape 0 is known to the catalog, without rows: its catalog archive is imported too */
	assert_int_equal(tp_catalog_sync_media(db, &f->ml0, &f->msl0, 1700000050, &e), 0);
	tp_catalog_scan_stats st;
	if (tp_catalog_fast_restore(&f->s, db, NULL, &f->ml, &f->msl, &st, &e) < 0)
		fail_msg("fast restore: %s", e.msg);
	assert_true(st.fast);
	assert_int_equal(st.catalogs_imported, 2);
	assert_int_equal(st.catalog_archives, 2);
	assert_int_equal(st.chunk_archives, 1);
	assert_int_equal(st.snapshots, 1);
	/* the fast path skipped the data: it read files 2, 3 and 8 only */
	assert_true(st.bytes_read < (uint64_t)(f->ef[2].nblocks + 1 + 1 + f->ef[8].nblocks + 2) * TP_TAPE_BLOCK_SIZE);
	tp_chunk_loc loc[2];
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[B], loc, 2, &e), 1);
	assert_int_equal(loc[0].file_nr, 3);
	assert_int_equal(loc[0].offset, -1);
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[G], loc, 2, &e), 1);
	assert_memory_equal(loc[0].media, f->ml0.uuid, 16);
	tp_snapshot_loc sl;
	assert_int_equal(tp_catalog_lookup_snapshot(db, f->msl.uuid, STORE, SNAP, &sl, &e), 0);
	assert_int_equal(sl.chunks_known, 0);
	assert_int_equal(tp_catalog_lookup_snapshot(db, f->msl.uuid, STORE, SNAP0, &sl, &e), 0);
	assert_memory_equal(sl.media, f->ml0.uuid, 16);

	/* a job appended after the catalog: the last file is no catalog, so the fast path gives up */
	tp_err e2 = { 0 };
	assert_int_equal(tp_drive_move_to_eod(f->d, &e2), 0);
	tp_chunk_archive_writer cw;
	uint64_t off;
	assert_int_equal(tp_chunk_archive_writer_open(&cw, &f->io, STORE, NULL, 1, &e2), 0);
	assert_int_equal(tp_chunk_archive_writer_add(&cw, f->dig[D], f->blob[D].data, f->blob[D].len, &off, &e2), 1);
	assert_int_equal(tp_chunk_archive_writer_finish(&cw, &e2), 0);
	tp_chunk_archive_writer_free(&cw);
	assert_int_equal(tp_catalog_fast_restore(&f->s, db, NULL, &f->ml, &f->msl, &st, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "not a catalog archive"));
	/* the scan sees the new archive */
	if (tp_catalog_scan_tape(&f->s, db, &f->ml, &f->msl, &st, &e) < 0)
		fail_msg("scan: %s", e.msg);
	assert_int_equal(st.chunks, 4);
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[D], loc, 2, &e), 1);
	assert_int_equal(loc[0].file_nr, 9);
	assert_int_equal(loc[0].file_first_block, (int64_t)f->ef[8].first + f->ef[8].nblocks + 1);
	tp_catalog_close(db);
}

static void test_recover(void **state)
{
	fx *f = *state;
	tp_err e = { 0 };
	tp_catalog_db *db;
	tp_inventory inv;
	assert_int_equal(tp_catalog_open(&db, f->db_s, &e), 0);
	assert_int_equal(tp_inventory_open(&inv, f->invdir, "test", &e), 0);
	tp_catalog_recover_opts o = { 0 };
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set;
	tp_catalog_scan_stats st;
	if (tp_catalog_recover_tape(&f->s, &inv, db, &o, &ml, &msl, &has_set, &st, &e) < 0)
		fail_msg("recover: %s", e.msg);
	assert_true(has_set);
	assert_true(st.fast);
	assert_memory_equal(msl.uuid, f->msl.uuid, 16);
	tp_media_set_label_clear(&msl);
	/* the labels went into the inventory */
	assert_int_equal(tp_inventory_reload(&inv, &e), 0);
	const tp_inventory_entry *ie = tp_inventory_find_label(&inv, "TAPE1");
	assert_non_null(ie);
	assert_int_equal(ie->set.seq_nr, 1);

	/* rows exist now: refused without force */
	assert_int_equal(tp_catalog_recover_tape(&f->s, &inv, db, &o, &ml, &msl, &has_set, &st, &e), -TP_EEXISTS);
	assert_non_null(strstr(e.msg, "already has rows for tape TAPE1"));
	o.force = 1;
	o.scan = 1;
	if (tp_catalog_recover_tape(&f->s, &inv, db, &o, &ml, &msl, &has_set, &st, &e) < 0)
		fail_msg("recover --scan: %s", e.msg);
	tp_media_set_label_clear(&msl);
	assert_false(st.fast);
	tp_chunk_loc loc[2];
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[C], loc, 2, &e), 1);
	assert_int_equal(loc[0].offset, (int64_t)f->off[C]);

	/* the inventory has the tape in another set: refused, naming both */
	tp_media_set_label other = f->msl;
	memset(other.uuid, 0x77, 16);
	assert_int_equal(tp_inventory_store(&inv, &f->ml, &other, 0, &e), 0);
	o.force = 0;
	assert_int_equal(tp_catalog_recover_tape(&f->s, &inv, db, &o, &ml, &msl, &has_set, &st, &e), -TP_EWRONGMEDIA);
	assert_non_null(strstr(e.msg, "belongs to media set 22222222-"));
	assert_non_null(strstr(e.msg, "inventory has it in media set 77777777-"));
	tp_inventory_close(&inv);
	tp_catalog_close(db);
}

static void test_corrupt_chunk_skipped(void **state)
{
	fx *f = *state;
	tp_err e = { 0 };
	/* object 7 is file 3's second block, inside blob B: the drive returns it with bytes flipped */
	tp_drive_close(f->d);
	json_t *conf = json_pack("{s:s,s:i,s:{s:i}}", "path", f->ddir, "lock-timeout-ms", 0, "faults", "corrupt", 7);
	assert_int_equal(tp_drive_open("virtual", "vd", conf, &f->d, &e), 0);
	json_decref(conf);
	f->s.drive = f->d;
	tp_drive_tape_io(f->d, &f->io);
	tp_catalog_db *db;
	assert_int_equal(tp_catalog_open(&db, f->db_s, &e), 0);
	tp_catalog_scan_stats st;
	if (tp_catalog_scan_tape(&f->s, db, &f->ml, &f->msl, &st, &e) < 0)
		fail_msg("scan: %s", e.msg);
	assert_int_equal(st.corrupt_chunks, 1);
	assert_int_equal(st.chunks, 2);
	tp_chunk_loc loc[2];
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[B], loc, 2, &e), 0);
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[A], loc, 2, &e), 1);
	assert_int_equal(tp_catalog_lookup_chunk(db, f->msl.uuid, STORE, f->dig[C], loc, 2, &e), 1);
	assert_int_equal(loc[0].offset, (int64_t)f->off[C]);
	tp_catalog_close(db);

	/* a damaged content header is fatal and named */
	tp_drive_close(f->d);
	conf = json_pack("{s:s,s:i,s:{s:i}}", "path", f->ddir, "lock-timeout-ms", 0, "faults", "corrupt", 6);
	assert_int_equal(tp_drive_open("virtual", "vd", conf, &f->d, &e), 0);
	json_decref(conf);
	f->s.drive = f->d;
	assert_int_equal(tp_catalog_open(&db, f->db_s, &e), 0);
	assert_true(tp_catalog_scan_tape(&f->s, db, &f->ml, &f->msl, &st, &e) < 0);
	assert_non_null(strstr(e.msg, "tape TAPE1: file 3"));
	tp_catalog_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan_rows_and_positions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_wrong_tape_and_no_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fast_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_chunk_skipped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
