/* Catalog recovery of one tape (see catalog_scan.h): fast import of catalog archives, full scan with block positions. */
#include "tape/catalog_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "format/catalog_archive.h"
#include "format/chunk_archive.h"
#include "format/content_header.h"
#include "format/didx.h"
#include "format/fidx.h"
#include "format/snapshot_archive.h"
#include "format/tape_block.h"
#include "tape/tape_inventory.h"
#include "tape/tape_key.h"

/* Snapshot chunk lists go to the catalog in slices of this many digests. */
#define CHUNK_LIST_BATCH 4096

json_t *tp_catalog_scan_stats_to_json(const tp_catalog_scan_stats *st)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:b}", "files", (json_int_t)st->files,
			 "chunk-archives", (json_int_t)st->chunk_archives, "snapshot-archives",
			 (json_int_t)st->snapshot_archives, "catalog-archives", (json_int_t)st->catalog_archives,
			 "incomplete", (json_int_t)st->incomplete, "empty-files", (json_int_t)st->empty_files, "chunks",
			 (json_int_t)st->chunks, "corrupt-chunks", (json_int_t)st->corrupt_chunks, "snapshots",
			 (json_int_t)st->snapshots, "snapshot-chunks", (json_int_t)st->snapshot_chunks,
			 "catalogs-imported", (json_int_t)st->catalogs_imported, "bytes-read",
			 (json_int_t)st->bytes_read, "fast", st->fast, "truncated", st->truncated);
}

static int in_set(const tp_media_set_label *msl) { return msl && !tp_uuid_is_zero(msl->uuid); }

int tp_catalog_sync_media(tp_catalog_db *db, const tp_media_label *ml, const tp_media_set_label *msl,
			  int64_t set_ctime, tp_err *err)
{
	int want_set = in_set(msl);
	tp_catalog_media m;
	tp_err tmp = { 0 };
	int r = tp_catalog_get_media(db, ml->uuid, &m, &tmp);
	if (r < 0 && r != -TP_ENOTFOUND) {
		*err = tmp;
		return r;
	}
	if (r == 0) {
		int same = want_set ? m.has_set && !memcmp(m.media_set, msl->uuid, 16) && m.seq_nr == msl->seq_nr
				    : !m.has_set;
		/* rows of an earlier life of the tape (relabel, reuse in a new set) are unrelated now */
		if (!same && (r = tp_catalog_delete_media(db, ml->uuid, 0, err)) < 0)
			return r;
	}
	if (want_set) {
		int64_t ct = set_ctime;
		char pool[65];
		int64_t old;
		if (ct < 0)
			ct = tp_catalog_get_media_set(db, msl->uuid, pool, &old, NULL) == 0 ? old : msl->ctime;
		if ((r = tp_catalog_add_media_set(db, msl->uuid, msl->pool, ct,
						  msl->has_fingerprint ? msl->fingerprint : NULL, err)) < 0)
			return r;
	}
	return tp_catalog_add_media(db, ml->uuid, ml->label_text, want_set ? msl->uuid : NULL,
				    want_set ? msl->seq_nr : 0, ml->ctime, err);
}

static int stop_at_first(void *ctx, const tp_tape_file *f)
{
	(void)f;
	*(int *)ctx = 1;
	return 1;
}

int tp_catalog_media_has_rows(tp_catalog_db *db, const uint8_t uuid[16], tp_err *err)
{
	int found = 0;
	tp_err tmp = { 0 };
	int r = tp_catalog_list_tape_files(db, uuid, stop_at_first, &found, &tmp);
	if (r == -TP_ENOTFOUND)
		return 0;
	if (r < 0) {
		*err = tmp;
		return r;
	}
	return found;
}

/* ---- reading files ---- */

typedef struct scan_ctx {
	tp_tape_session *s;
	tp_catalog_db *db;
	const tp_media_label *ml;
	const tp_media_set_label *msl;
	tp_catalog_scan_stats *st;
	tp_tape_io io;
} scan_ctx;

/* The logical object where file `file_nr` starts; the drive must be there. */
static int file_start(scan_ctx *c, uint64_t file_nr, int64_t *first, tp_err *err)
{
	tp_drive_pos p;
	int r = tp_drive_read_position(c->s->drive, &p, err);
	if (r < 0)
		return tp_err_wrap(err, r, "tape %s: file %llu", c->ml->label_text, (unsigned long long)file_nr);
	if (p.file != file_nr)
		return tp_err_set(err, -EIO, "tape %s: expected to be at the start of file %llu, the drive is in file %llu",
				  c->ml->label_text, (unsigned long long)file_nr, (unsigned long long)p.file);
	*first = (int64_t)p.object;
	return 0;
}

/*
 * Data blocks of the file that started at `first`, from the position now:
 * after its filemark, or at end of data when it has none.
 */
static int file_blocks(scan_ctx *c, int64_t first, int after_filemark, int64_t *nblocks, tp_err *err)
{
	tp_drive_pos p;
	int r = tp_drive_read_position(c->s->drive, &p, err);
	if (r < 0)
		return r;
	int64_t n = (int64_t)p.object - first - (after_filemark ? 1 : 0);
	if (n < 0)
		return tp_err_set(err, -EIO, "tape %s: the drive reports object %llu, before the file's start %lld",
				  c->ml->label_text, (unsigned long long)p.object, (long long)first);
	*nblocks = n;
	return 0;
}

/*
 * How a file ended after its decoder returned dr.  The rest of the stream
 * is consumed if the decoder stopped early.  Aborted (no end marker) and
 * INCOMPLETE streams are normal on tape: *complete = 0 and 0 is returned
 * even when the decoder failed on the missing bytes.  A stream cut by end
 * of data sets *at_eod.  A decoder error on a complete stream is returned.
 */
static int file_end(scan_ctx *c, tp_block_reader *rd, int dr, int *complete, int *at_eod, tp_err *err)
{
	*complete = 0;
	*at_eod = 0;
	if (dr >= 0 && !(rd->at_end && rd->pos == rd->len)) {
		uint64_t skipped;
		int r = tp_block_reader_skip_data(rd, &skipped, err);
		if (r < 0)
			dr = r;
	}
	if (rd->at_end && rd->pos == rd->len) {
		*complete = rd->end_marker && !rd->incomplete;
		return dr < 0 && *complete ? dr : 0;
	}
	tp_drive_pos p;
	if (dr < 0 && tp_drive_read_position(c->s->drive, &p, NULL) == 0 && p.eod) {
		*at_eod = 1;
		return 0;
	}
	return dr < 0 ? dr : tp_err_set(err, -EIO, "tape stream did not end with a filemark");
}

static int commit_or_rollback(tp_catalog_db *db, int r, tp_err *err)
{
	if (r < 0) {
		tp_catalog_rollback(db, NULL);
		return r;
	}
	return tp_catalog_commit(db, err);
}

typedef struct chunk_row {
	uint8_t digest[32];
	int64_t offset, size;
} chunk_row;

static int scan_chunk_archive(scan_ctx *c, tp_block_reader *rd, const json_t *hj, tp_tape_file *f, int *at_eod,
			      tp_err *err)
{
	char store[TP_ARCHIVE_STORE_MAX + 1];
	int r = tp_chunk_archive_header_parse(hj, store, err);
	if (r < 0)
		return r;
	snprintf(f->store, sizeof(f->store), "%s", store);
	chunk_row *rows = NULL;
	size_t n = 0, cap = 0;
	tp_chunk_archive_reader cr;
	tp_chunk_archive_reader_init(&cr, rd);
	int dr;
	for (;;) {
		tp_chunk_entry e;
		dr = tp_chunk_archive_reader_next(&cr, &e, err);
		if (dr == 0)
			break;
		if (dr < 0 && !cr.failed) {
			/* a blob failing its check is not recorded: a restore must not count on it */
			tp_warn("tape %s: file %llu: chunk at stream offset %llu skipped: %s", c->ml->label_text,
				(unsigned long long)f->file_nr, (unsigned long long)e.offset, err->msg);
			c->st->corrupt_chunks++;
			continue;
		}
		if (dr < 0)
			break;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			chunk_row *nr = realloc(rows, nc * sizeof(*rows));
			if (!nr) {
				dr = tp_err_set(err, -ENOMEM, "out of memory");
				break;
			}
			rows = nr;
			cap = nc;
		}
		memcpy(rows[n].digest, e.digest, 32);
		rows[n].offset = (int64_t)e.offset;
		rows[n].size = (int64_t)(TP_CHUNK_ENTRY_HEADER_SIZE + e.size);
		n++;
	}
	tp_chunk_archive_reader_free(&cr);
	int complete;
	if ((r = file_end(c, rd, dr < 0 ? dr : 0, &complete, at_eod, err)) < 0)
		goto out;
	f->complete = complete;
	/* as PBS: an aborted archive (no end marker) registers nothing */
	int keep = rd->end_marker;
	int64_t nb;
	if ((r = file_blocks(c, f->first_block, !*at_eod, &nb, err)) < 0)
		goto out;
	f->nblocks = nb;
	if ((r = tp_catalog_begin(c->db, err)) < 0)
		goto out;
	r = tp_catalog_add_tape_file(c->db, f, err);
	for (size_t i = 0; keep && r >= 0 && i < n; i++)
		r = tp_catalog_add_chunk(c->db, c->ml->uuid, f->file_nr, store, rows[i].digest, rows[i].offset,
					 rows[i].size, err);
	if ((r = commit_or_rollback(c->db, r, err)) < 0)
		goto out;
	c->st->chunk_archives++;
	if (keep)
		c->st->chunks += n;
	if (!complete)
		c->st->incomplete++;
out:
	free(rows);
	return r;
}

/* Collects the .fidx/.didx files of a snapshot archive and their digests. */
typedef struct snap_collect {
	const char *tape;
	uint64_t file_nr;
	tp_buf cur;
	int collecting;
	int is_didx;
	tp_buf digests; /* 32 bytes each */
} snap_collect;

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static int snap_begin(void *ctx, const tp_snapshot_entry *e, tp_err *err)
{
	snap_collect *sc = ctx;
	sc->collecting = ends_with(e->name, ".fidx") || ends_with(e->name, ".didx");
	if (!sc->collecting)
		return 0;
	sc->is_didx = ends_with(e->name, ".didx");
	if (e->size > TP_CATALOG_SCAN_INDEX_MAX)
		return tp_err_set(err, -EFBIG, "index %s is %llu bytes (at most %u are read)", e->name,
				  (unsigned long long)e->size, TP_CATALOG_SCAN_INDEX_MAX);
	tp_buf_reset(&sc->cur);
	if (tp_buf_reserve(&sc->cur, (size_t)e->size) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory for index %s", e->name);
	return 0;
}

static int snap_data(void *ctx, const uint8_t *buf, size_t len, tp_err *err)
{
	snap_collect *sc = ctx;
	if (sc->collecting && tp_buf_append(&sc->cur, buf, len) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

static int snap_end(void *ctx, const tp_snapshot_entry *e, tp_err *err)
{
	snap_collect *sc = ctx;
	if (!sc->collecting)
		return 0;
	sc->collecting = 0;
	int r;
	if (sc->is_didx) {
		tp_didx x;
		if ((r = tp_didx_parse(&x, sc->cur.data, sc->cur.len, e->name, err)) < 0 ||
		    (r = tp_didx_verify_csum(&x, e->name, err)) < 0)
			return r;
		for (size_t i = 0; i < x.count; i++)
			if (tp_buf_append(&sc->digests, tp_didx_digest(&x, i), 32) < 0)
				return tp_err_set(err, -ENOMEM, "out of memory");
	} else {
		tp_fidx x;
		if ((r = tp_fidx_parse(&x, sc->cur.data, sc->cur.len, e->name, err)) < 0 ||
		    (r = tp_fidx_verify_csum(&x, e->name, err)) < 0)
			return r;
		if (x.count > SIZE_MAX / 32 || tp_buf_append(&sc->digests, x.digests, x.count * 32) < 0)
			return tp_err_set(err, -ENOMEM, "out of memory");
	}
	return 0;
}

static int cmp_digest(const void *a, const void *b) { return memcmp(a, b, 32); }

/* Sorts the digests and drops duplicates; returns the distinct count. */
static size_t unique_digests(uint8_t *d, size_t n)
{
	if (n == 0)
		return 0;
	qsort(d, n, 32, cmp_digest);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (memcmp(d + 32 * i, d + 32 * (k - 1), 32))
			memmove(d + 32 * k++, d + 32 * i, 32);
	return k;
}

static int scan_snapshot_archive(scan_ctx *c, tp_block_reader *rd, const json_t *hj, tp_tape_file *f, int *at_eod,
				 tp_err *err)
{
	char store[TP_ARCHIVE_STORE_MAX + 1], path[TP_ARCHIVE_PATH_MAX + 1];
	int r = tp_snapshot_archive_header_parse(hj, store, path, err);
	if (r < 0)
		return r;
	snprintf(f->store, sizeof(f->store), "%s", store);
	snap_collect sc;
	memset(&sc, 0, sizeof(sc));
	static const tp_snapshot_decode_ops ops = { snap_begin, snap_data, snap_end };
	int dr = tp_snapshot_archive_decode(rd, &ops, &sc, err);
	tp_buf_free(&sc.cur);
	int complete;
	if ((r = file_end(c, rd, dr < 0 ? dr : 0, &complete, at_eod, err)) < 0) {
		tp_err_wrap(err, r, "snapshot %s", path);
		goto out;
	}
	f->complete = complete && dr >= 0;
	int64_t nb;
	if ((r = file_blocks(c, f->first_block, !*at_eod, &nb, err)) < 0)
		goto out;
	f->nblocks = nb;
	size_t nd = f->complete ? unique_digests(sc.digests.data, sc.digests.len / 32) : 0;
	if ((r = tp_catalog_begin(c->db, err)) < 0)
		goto out;
	r = tp_catalog_add_tape_file(c->db, f, err);
	/* only complete archives are snapshots; an incomplete one is written again on the next tape */
	if (r >= 0 && f->complete) {
		int64_t id;
		r = tp_catalog_add_snapshot(c->db, c->ml->uuid, f->file_nr, store, path, f->content_uuid, &id, err);
		for (size_t i = 0; r >= 0 && (i < nd || i == 0); i += CHUNK_LIST_BATCH) {
			size_t k = nd - i < CHUNK_LIST_BATCH ? nd - i : CHUNK_LIST_BATCH;
			r = tp_catalog_add_snapshot_chunks(c->db, id, (const uint8_t(*)[32])(sc.digests.data + 32 * i), k,
							   err);
			if (nd == 0)
				break;
		}
	}
	if ((r = commit_or_rollback(c->db, r, err)) < 0)
		goto out;
	c->st->snapshot_archives++;
	if (f->complete) {
		c->st->snapshots++;
		c->st->snapshot_chunks += nd;
	} else {
		c->st->incomplete++;
	}
out:
	tp_buf_free(&sc.digests);
	return r;
}

static int scan_catalog_archive(scan_ctx *c, tp_block_reader *rd, const json_t *hj, tp_tape_file *f, int *at_eod,
				tp_err *err)
{
	uint8_t mu[16], su[16];
	uint64_t seq;
	int r = tp_catalog_archive_header_parse(hj, mu, su, &seq, err);
	if (r < 0)
		return r;
	int complete;
	if ((r = file_end(c, rd, 0, &complete, at_eod, err)) < 0)
		return r;
	f->complete = complete;
	int64_t nb;
	if ((r = file_blocks(c, f->first_block, !*at_eod, &nb, err)) < 0)
		return r;
	f->nblocks = nb;
	if ((r = tp_catalog_begin(c->db, err)) < 0)
		return r;
	r = tp_catalog_add_tape_file(c->db, f, err);
	if ((r = commit_or_rollback(c->db, r, err)) < 0)
		return r;
	c->st->catalog_archives++;
	if (!complete)
		c->st->incomplete++;
	return 0;
}

/* Scans file file_nr at the current position; *stop = 1 at end of data. */
static int scan_file(scan_ctx *c, uint64_t file_nr, int *stop, tp_err *err)
{
	tp_tape_file f;
	memset(&f, 0, sizeof(f));
	memcpy(f.media, c->ml->uuid, 16);
	f.file_nr = file_nr;
	int r = file_start(c, file_nr, &f.first_block, err);
	if (r < 0)
		return r;
	tp_block_reader rd;
	r = tp_block_reader_open(&rd, &c->io, 0, err);
	if (r == TP_BLOCK_OPEN_EOD) {
		*stop = 1;
		return 0;
	}
	c->st->files++;
	if (r == TP_BLOCK_OPEN_FILEMARK) {
		c->st->empty_files++;
		return 0;
	}
	if (r < 0)
		return tp_err_wrap(err, r, "tape %s: file %llu", c->ml->label_text, (unsigned long long)file_nr);
	tp_content_header h;
	json_t *hj = NULL;
	int at_eod = 0;
	r = tp_content_header_read_json(&rd, &h, TP_ARCHIVE_JSON_MAX, &hj, err);
	if (r < 0) {
		int complete;
		/* a writer cut off inside the header: nothing to record but the end */
		if (file_end(c, &rd, r, &complete, &at_eod, NULL) == 0 && (!complete || at_eod)) {
			c->st->incomplete++;
			c->st->truncated = at_eod;
			*stop = at_eod;
			r = 0;
		}
		goto out;
	}
	memcpy(f.content_uuid, h.uuid, 16);
	switch (tp_content_header_kind(&h)) {
	case TP_MAGIC_CHUNK_ARCHIVE_1_0:
	case TP_MAGIC_CHUNK_ARCHIVE_1_1:
		f.kind = TP_TAPE_FILE_CHUNK_ARCHIVE;
		r = scan_chunk_archive(c, &rd, hj, &f, &at_eod, err);
		break;
	case TP_MAGIC_SNAPSHOT_ARCHIVE_1_0:
	case TP_MAGIC_SNAPSHOT_ARCHIVE_1_1:
	case TP_MAGIC_SNAPSHOT_ARCHIVE_1_2:
		f.kind = TP_TAPE_FILE_SNAPSHOT_ARCHIVE;
		r = scan_snapshot_archive(c, &rd, hj, &f, &at_eod, err);
		break;
	case TP_MAGIC_CATALOG_ARCHIVE_1_0:
	case TP_MAGIC_CATALOG_ARCHIVE_1_1:
		f.kind = TP_TAPE_FILE_CATALOG_ARCHIVE;
		r = scan_catalog_archive(c, &rd, hj, &f, &at_eod, err);
		break;
	case TP_MAGIC_MEDIA_LABEL:
	case TP_MAGIC_MEDIA_SET_LABEL:
		r = tp_err_set(err, -TP_EFORMAT, "a label file");
		break;
	default:
		r = tp_err_set(err, -TP_EFORMAT, "unknown content magic");
		break;
	}
	if (r >= 0 && at_eod) {
		c->st->truncated = 1;
		*stop = 1;
	}
out:
	json_decref(hj);
	tp_block_reader_free(&rd);
	if (r < 0)
		return tp_err_wrap(err, r, "tape %s: file %llu", c->ml->label_text, (unsigned long long)file_nr);
	return 0;
}

/* Reads labels at BOT (without touching encryption), checks they are ml / msl and fills their file rows. */
static int scan_labels(scan_ctx *c, tp_tape_file f[2], tp_err *err)
{
	memset(f, 0, 2 * sizeof(*f));
	int r = tp_drive_rewind(c->s->drive, err);
	if (r < 0)
		return r;
	tp_media_label l0;
	tp_media_set_label l1;
	memset(&l1, 0, sizeof(l1));
	for (int i = 0; i < 2; i++) {
		memcpy(f[i].media, c->ml->uuid, 16);
		f[i].file_nr = (uint64_t)i;
		f[i].kind = i ? TP_TAPE_FILE_SET_LABEL : TP_TAPE_FILE_LABEL;
		f[i].complete = 1;
		if ((r = file_start(c, (uint64_t)i, &f[i].first_block, err)) < 0)
			return r;
		r = i ? tp_media_set_label_read(&c->io, &l1, err) : tp_media_label_read(&c->io, &l0, err);
		if (r < 0)
			return tp_err_wrap(err, r, "tape %s: reading the %s label", c->ml->label_text, i ? "media-set" : "media");
		if (r == TP_LABEL_NONE)
			return tp_err_set(err, -TP_EWRONGMEDIA, "tape %s: %s", c->ml->label_text,
					  i ? "no media-set label (file 1)" : "the tape is blank");
		if ((r = file_blocks(c, f[i].first_block, 1, &f[i].nblocks, err)) < 0)
			return r;
		c->st->files++;
	}
	char want[37], got[37];
	if (memcmp(l0.uuid, c->ml->uuid, 16) || strcmp(l0.label_text, c->ml->label_text)) {
		tp_uuid_unparse(c->ml->uuid, want);
		tp_uuid_unparse(l0.uuid, got);
		r = tp_err_set(err, -TP_EWRONGMEDIA, "drive %s: wrong tape: expected %s (%s), found %s (%s)", c->s->name,
			       c->ml->label_text, want, l0.label_text, got);
	} else if (memcmp(l1.uuid, c->msl->uuid, 16) || l1.seq_nr != c->msl->seq_nr) {
		tp_uuid_unparse(c->msl->uuid, want);
		tp_uuid_unparse(l1.uuid, got);
		r = tp_err_set(err, -TP_EWRONGMEDIA,
			       "tape %s belongs to media set %s (seq %llu), expected media set %s (seq %llu)",
			       c->ml->label_text, got, (unsigned long long)l1.seq_nr, want,
			       (unsigned long long)c->msl->seq_nr);
	}
	tp_media_set_label_clear(&l1);
	return r;
}

static int need_set(const tp_media_label *ml, const tp_media_set_label *msl, tp_err *err)
{
	if (!in_set(msl))
		return tp_err_set(err, -EINVAL, "tape %s is in no media set: it holds no archives to catalog",
				  ml->label_text);
	return 0;
}

int tp_catalog_scan_tape(tp_tape_session *s, tp_catalog_db *db, const tp_media_label *ml,
			 const tp_media_set_label *msl, tp_catalog_scan_stats *st, tp_err *err)
{
	tp_catalog_scan_stats local;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	int r = need_set(ml, msl, err);
	if (r < 0)
		return r;
	scan_ctx c = { s, db, ml, msl, st, { 0 } };
	tp_drive_tape_io(s->drive, &c.io);
	uint64_t bytes0 = tp_drive_get_counters(s->drive)->bytes_read;
	/* the labels first: never wipe rows because the wrong tape is loaded */
	tp_tape_file lf[2];
	if ((r = scan_labels(&c, lf, err)) < 0)
		goto out;
	if ((r = tp_catalog_sync_media(db, ml, msl, -1, err)) < 0 ||
	    (r = tp_catalog_delete_media(db, ml->uuid, 1, err)) < 0 || (r = tp_catalog_begin(db, err)) < 0)
		goto out;
	r = tp_catalog_add_tape_file(db, &lf[0], err);
	if (r >= 0)
		r = tp_catalog_add_tape_file(db, &lf[1], err);
	if ((r = commit_or_rollback(db, r, err)) < 0)
		goto out;
	int stop = 0;
	for (uint64_t nr = 2; !stop; nr++)
		if ((r = scan_file(&c, nr, &stop, err)) < 0)
			goto out;
out:
	st->bytes_read = tp_drive_get_counters(s->drive)->bytes_read - bytes0;
	return r;
}

/* ---- fast path ---- */

/* Archive counts of the imported rows. */
static int count_kinds(void *ctx, const tp_tape_file *f)
{
	tp_catalog_scan_stats *st = ctx;
	if (f->kind == TP_TAPE_FILE_CHUNK_ARCHIVE)
		st->chunk_archives++;
	else if (f->kind == TP_TAPE_FILE_SNAPSHOT_ARCHIVE)
		st->snapshot_archives++, st->snapshots++;
	return 0;
}

/* Imports a catalog of another tape of the set when the catalog has nothing of that tape yet. */
static int import_other(scan_ctx *c, const tp_inventory *inv, const uint8_t media[16], const tp_buf *log,
			tp_err *err)
{
	tp_catalog_media m;
	char u[37];
	tp_uuid_unparse(media, u);
	int r = tp_catalog_get_media(c->db, media, &m, NULL);
	if (r == 0) {
		if (!m.has_set || memcmp(m.media_set, c->msl->uuid, 16))
			return 0;
	} else {
		const tp_inventory_entry *e = inv ? tp_inventory_find(inv, media) : NULL;
		if (!e || !tp_inventory_entry_in_set(e) || memcmp(e->set.uuid, c->msl->uuid, 16))
			return 0;
		int64_t start;
		if (tp_inventory_set_start_time(inv, e->set.uuid, &start) < 0)
			start = -1;
		if ((r = tp_catalog_sync_media(c->db, &e->label, &e->set, start, err)) < 0)
			return r;
	}
	if ((r = tp_catalog_media_has_rows(c->db, media, err)) != 0)
		return r < 0 ? r : 0;
	if ((r = tp_catalog_import_log(c->db, media, log->data, log->len, err)) < 0)
		return r;
	c->st->catalogs_imported++;
	tp_info("tape %s: imported the catalog of media %s", c->ml->label_text, u);
	return 0;
}

int tp_catalog_fast_restore(tp_tape_session *s, tp_catalog_db *db, const tp_inventory *inv,
			    const tp_media_label *ml, const tp_media_set_label *msl, tp_catalog_scan_stats *st,
			    tp_err *err)
{
	tp_catalog_scan_stats local;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	int r = need_set(ml, msl, err);
	if (r < 0)
		return r;
	scan_ctx c = { s, db, ml, msl, st, { 0 } };
	tp_drive_tape_io(s->drive, &c.io);
	uint64_t bytes0 = tp_drive_get_counters(s->drive)->bytes_read;
	tp_buf log = TP_BUF_INIT;
	if ((r = tp_catalog_sync_media(db, ml, msl, -1, err)) < 0)
		goto out;
	if ((r = tp_drive_move_to_file(s->drive, 2, err)) < 0)
		goto out;
	int moved_to_last = 0, own_last = 0;
	for (;;) {
		tp_drive_pos p;
		if ((r = tp_drive_read_position(s->drive, &p, err)) < 0)
			goto out;
		tp_block_reader rd;
		r = tp_block_reader_open(&rd, &c.io, 0, err);
		if (r == TP_BLOCK_OPEN_EOD) {
			r = 0;
			break;
		}
		if (r < 0) {
			tp_err_wrap(err, r, "tape %s: file %llu", ml->label_text, (unsigned long long)p.file);
			goto out;
		}
		st->files++;
		own_last = 0;
		tp_content_header h;
		json_t *hj = NULL;
		int kind = -1;
		if (r == 0 && (r = tp_content_header_read_json(&rd, &h, TP_ARCHIVE_JSON_MAX, &hj, err)) == 0)
			kind = tp_content_header_kind(&h);
		if (r < 0) {
			tp_block_reader_free(&rd);
			tp_err_wrap(err, r, "tape %s: file %llu", ml->label_text, (unsigned long long)p.file);
			goto out;
		}
		if (kind != TP_MAGIC_CATALOG_ARCHIVE_1_0 && kind != TP_MAGIC_CATALOG_ARCHIVE_1_1) {
			/* only catalogs of earlier tapes precede the data; this tape's newest one is the last file */
			json_decref(hj);
			tp_block_reader_free(&rd);
			if (moved_to_last)
				break;
			moved_to_last = 1;
			uint64_t cur = p.file;
			if ((r = tp_drive_move_to_eod(s->drive, err)) < 0 ||
			    (r = tp_drive_read_position(s->drive, &p, err)) < 0)
				goto out;
			/* the last file with a filemark; the one just read when nothing follows it */
			if (p.file == 0 || p.file - 1 <= cur)
				break;
			if ((r = tp_drive_move_to_file(s->drive, p.file - 1, err)) < 0)
				goto out;
			continue;
		}
		uint8_t mu[16], su[16];
		uint64_t seq;
		r = tp_catalog_archive_header_parse(hj, mu, su, &seq, err);
		json_decref(hj);
		int complete = 0, at_eod = 0;
		tp_buf_reset(&log);
		int dr = r;
		if (r == 0 && !memcmp(su, msl->uuid, 16))
			dr = tp_catalog_archive_read_body(&rd, &log, TP_CATALOG_SCAN_LOG_MAX, err);
		r = file_end(&c, &rd, dr, &complete, &at_eod, err);
		tp_block_reader_free(&rd);
		if (r < 0) {
			tp_err_wrap(err, r, "tape %s: catalog archive at file %llu", ml->label_text,
				    (unsigned long long)p.file);
			goto out;
		}
		st->catalog_archives++;
		if (!complete || memcmp(su, msl->uuid, 16)) {
			st->incomplete += !complete;
			if (at_eod)
				break;
			continue;
		}
		if (!memcmp(mu, ml->uuid, 16)) {
			if (seq != msl->seq_nr) {
				r = tp_err_set(err, -TP_EFORMAT, "tape %s: catalog archive at file %llu says seq %llu, the label %llu",
					       ml->label_text, (unsigned long long)p.file, (unsigned long long)seq,
					       (unsigned long long)msl->seq_nr);
				goto out;
			}
			if ((r = tp_catalog_import_log(db, ml->uuid, log.data, log.len, err)) < 0) {
				tp_err_wrap(err, r, "tape %s: catalog archive at file %llu", ml->label_text,
					    (unsigned long long)p.file);
				goto out;
			}
			st->catalogs_imported++;
			own_last = 1;
		} else {
			tp_err oerr = { 0 };
			if (import_other(&c, inv, mu, &log, &oerr) < 0)
				tp_warn("tape %s: catalog archive at file %llu: %s", ml->label_text,
					(unsigned long long)p.file, oerr.msg);
		}
	}
	if (!own_last) {
		r = tp_err_set(err, -TP_ENOTFOUND, "tape %s: its last file is not a catalog archive of this tape",
			       ml->label_text);
		goto out;
	}
	st->fast = 1;
	r = tp_catalog_list_tape_files(db, ml->uuid, count_kinds, st, err);
out:
	tp_buf_free(&log);
	st->bytes_read = tp_drive_get_counters(s->drive)->bytes_read - bytes0;
	return r;
}

/* ---- `tape catalog` ---- */

int tp_catalog_load_set_key(tp_tape_session *s, const tp_media_label *ml, const tp_media_set_label *msl, tp_err *err)
{
	if (!msl->has_fingerprint)
		return 0;
	uint8_t key[32];
	int r = tp_tape_key_drive_key(msl->fingerprint, msl->uuid, key, err);
	if (r < 0)
		return tp_err_wrap(err, r, "tape %s is encrypted", ml->label_text);
	r = tp_drive_set_encryption(s->drive, key, err);
	memset(key, 0, sizeof(key));
	return r;
}

int tp_catalog_recover_tape(tp_tape_session *s, tp_inventory *inv, tp_catalog_db *db,
			    const tp_catalog_recover_opts *opts, tp_media_label *ml, tp_media_set_label *msl,
			    int *has_set, tp_catalog_scan_stats *st, tp_err *err)
{
	tp_catalog_scan_stats local;
	if (!st)
		st = &local;
	memset(st, 0, sizeof(*st));
	*has_set = 0;
	int r = tp_tape_read_labels(s, ml, msl, has_set, err);
	if (r < 0)
		return r;
	if (r == TP_LABEL_NONE)
		return tp_err_set(err, -TP_EWRONGMEDIA, "drive %s: the tape is blank (not labelled)", s->name);
	tp_media_location loc;
	tp_tape_session_location(s, &loc);
	const tp_media_location *locp = s->changer ? &loc : NULL;
	if (!*has_set || tp_uuid_is_zero(msl->uuid)) {
		/* no set: nothing on the tape to catalog, whatever the catalog said is stale */
		tp_err tmp = { 0 };
		r = tp_catalog_delete_media(db, ml->uuid, 1, &tmp);
		if (r < 0 && r != -TP_ENOTFOUND) {
			*err = tmp;
			return r;
		}
		return tp_tape_inventory_store_labels(inv, db, ml, *has_set ? msl : NULL, locp, err);
	}
	tp_lock lp = TP_LOCK_INIT, ls = TP_LOCK_INIT;
	if ((r = tp_inventory_lock_pool(inv, msl->pool, -1, &lp, err)) < 0)
		return r;
	if ((r = tp_inventory_lock_media_set(inv, msl->uuid, -1, &ls, err)) < 0)
		goto out;
	if ((r = tp_inventory_reload(inv, err)) < 0)
		goto out;
	const tp_inventory_entry *e = tp_inventory_find(inv, ml->uuid);
	if (e && tp_inventory_entry_in_set(e) &&
	    (memcmp(e->set.uuid, msl->uuid, 16) || e->set.seq_nr != msl->seq_nr) && !opts->force) {
		char a[37], b[37];
		tp_uuid_unparse(msl->uuid, a);
		tp_uuid_unparse(e->set.uuid, b);
		r = tp_err_set(err, -TP_EWRONGMEDIA,
			       "tape %s belongs to media set %s (seq %llu), but the inventory has it in media set %s "
			       "(seq %llu); use --force to catalog it anyway",
			       ml->label_text, a, (unsigned long long)msl->seq_nr, b, (unsigned long long)e->set.seq_nr);
		goto out;
	}
	if ((r = tp_tape_inventory_store_labels(inv, db, ml, msl, locp, err)) < 0)
		goto out;
	if ((r = tp_catalog_media_has_rows(db, ml->uuid, err)) < 0)
		goto out;
	if (r > 0 && !opts->force) {
		r = tp_err_set(err, -TP_EEXISTS, "the catalog already has rows for tape %s (use --force to rebuild them)",
			       ml->label_text);
		goto out;
	}
	if ((r = tp_catalog_load_set_key(s, ml, msl, err)) < 0)
		goto out;
	if (!opts->scan) {
		tp_err ferr = { 0 };
		r = tp_catalog_fast_restore(s, db, inv, ml, msl, st, &ferr);
		if (r == 0)
			goto out;
		tp_info("tape %s: fast catalog restore failed (%s); scanning the whole tape", ml->label_text, ferr.msg);
	}
	r = tp_catalog_scan_tape(s, db, ml, msl, st, err);
out:
	tp_lock_release(&ls);
	tp_lock_release(&lp);
	if (r < 0 && *has_set) {
		tp_media_set_label_clear(msl);
		*has_set = 0;
	}
	return r;
}

void tp_catalog_scan_summary(const char *label, int in_set, const tp_catalog_scan_stats *st, char *out, size_t n)
{
	if (!in_set) {
		snprintf(out, n, "tape %s is in no media set: its catalog rows were cleared", label);
		return;
	}
	snprintf(out, n,
		 "tape %s: catalog %s: %llu files, %llu chunk archives (%llu chunks), %llu snapshot archives "
		 "(%llu snapshots), %llu catalog archives, %llu incomplete, %llu bytes read",
		 label, st->fast ? "restored from its catalog archive" : "rebuilt by a scan",
		 (unsigned long long)st->files, (unsigned long long)st->chunk_archives, (unsigned long long)st->chunks,
		 (unsigned long long)st->snapshot_archives, (unsigned long long)st->snapshots,
		 (unsigned long long)st->catalog_archives, (unsigned long long)st->incomplete,
		 (unsigned long long)st->bytes_read);
}
