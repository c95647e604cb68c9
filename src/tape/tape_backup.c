/* Tape backup (see tape_backup.h): pool writer over a drive session and the catalog. */
#include "tape/tape_backup.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/digest_set.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/log.h"
#include "base/progress_bar.h"
#include "base/queue.h"
#include "base/timefmt.h"
#include "format/blob.h"
#include "format/catalog_archive.h"
#include "format/chunk_archive.h"
#include "format/manifest.h"
#include "format/snapshot_archive.h"
#include "store/archive_reader.h"
#include "store/datastore.h"
#include "tape/drive_config.h"
#include "tape/catalog_db.h"
#include "tape/media_pool.h"
#include "tape/tape_key.h"
#include "tape/tape_session.h"

#define READ_AHEAD 8 /* chunks loaded ahead of the drive */

struct job {
	const tp_tape_backup_opts *o;
	tp_tape_backup_result *res;
	tp_datastore ds;
	int ds_open;
	tp_tape_session sess;
	int sess_open;
	tp_pool_config pcfg;
	tp_media_pool pool;
	int pool_open;
	tp_catalog_db *db;
	uint8_t set[16];
	/* the tape being written */
	int have_tape;
	tp_inventory_entry tape;
	int positioned;          /* at end of data, ready to append */
	tp_digest_set written;   /* chunks written by this job (the catalog knows them too) */
	int wrote;               /* anything written on the current tape since its catalog archive */
};

/* ---- helpers ---- */

static int tape_pos(struct job *J, uint64_t *object, uint64_t *file, tp_err *err)
{
	tp_drive_pos p;
	int r = tp_drive_read_position(J->sess.drive, &p, err);
	if (r == 0) {
		*object = p.object;
		if (file)
			*file = p.file;
	}
	return r;
}

/* Registers a finished tape file (and, via add, its rows) in one transaction. */
static int begin_file_tx(struct job *J, tp_err *err) { return tp_catalog_begin(J->db, err); }

static int mark_full(struct job *J, tp_err *err)
{
	tp_drive_status st;
	if (tp_drive_get_status(J->sess.drive, &st, NULL) == 0 && st.used)
		tp_inventory_set_bytes_used(&J->pool.inv, J->tape.label.uuid, st.used, NULL);
	tp_info("tape %s is full", J->tape.label.label_text);
	J->have_tape = 0;
	J->positioned = 0;
	return tp_inventory_set_status(&J->pool.inv, J->tape.label.uuid, TP_MEDIA_FULL, err);
}

/*
 * An archive that ended inside the early-warning zone (its last block, or the
 * end marker, met LEOM) leaves too little room for the next one: a zone of
 * two blocks is one block of data plus the end block.  The tape is full.
 */
static int full_if_leom(struct job *J, tp_err *err)
{
	return J->have_tape && J->sess.drive->leom ? mark_full(J, err) : 0;
}

/* Everything after the labels is written with the set's drive key when the pool encrypts. */
static int enable_encryption(struct job *J, tp_err *err)
{
	if (!J->pcfg.has_encrypt)
		return 0;
	uint8_t key[32];
	int r = tp_tape_key_drive_key(J->pcfg.encrypt, J->set, key, err);
	if (r == 0)
		r = tp_drive_set_encryption(J->sess.drive, key, err);
	memset(key, 0, sizeof(key));
	return r;
}

/* Positions at end of data; a file left open by a crash gets its filemark. */
static int position_at_eod(struct job *J, tp_err *err)
{
	int r = tp_drive_move_to_eod(J->sess.drive, err);
	if (r < 0)
		return r;
	uint64_t obj = 0, file = 0;
	if ((r = tape_pos(J, &obj, &file, err)) < 0)
		return r;
	if (file < 2)
		return tp_err_set(err, -TP_EFORMAT, "tape %s: end of data inside the labels (file %llu)",
				  J->tape.label.label_text, (unsigned long long)file);
	r = tp_drive_space(J->sess.drive, TP_SPACE_BLOCKS, -1, err);
	if (r < 0)
		return r;
	int last_is_fm = r == TP_SPACE_HIT_FILEMARK;
	if ((r = tp_drive_move_to_eod(J->sess.drive, err)) < 0)
		return r;
	if (!last_is_fm) {
		tp_warn("tape %s: the last file has no filemark (interrupted job); closing it",
			J->tape.label.label_text);
		if ((r = tp_drive_write_filemarks(J->sess.drive, 1, err)) < 0)
			return r;
	}
	J->positioned = 1;
	return 0;
}

/* Writes the catalog archive of tape `media` (rows committed so far) at the current position. */
static int write_catalog_archive(struct job *J, const uint8_t media[16], uint64_t seq, tp_err *err)
{
	tp_buf log = TP_BUF_INIT;
	tp_tape_io io;
	uint8_t cuuid[16] = { 0 };
	uint64_t first = 0, file = 0, after = 0;
	int r = tp_catalog_export_log(J->db, media, &log, err);
	if (r < 0)
		goto out;
	if ((r = tape_pos(J, &first, &file, err)) < 0)
		goto out;
	tp_drive_tape_io(J->sess.drive, &io);
	int with_ns = J->o->max_depth != 0 || (J->o->ns && *J->o->ns);
	r = tp_catalog_archive_write(&io, media, J->set, seq, with_ns, log.data, log.len, cuuid, tp_now(), err);
	if (r < 0)
		goto out;
	if (r == 0) { /* LEOM while writing: the caller moves on to the next tape */
		r = 0;
		goto out;
	}
	if ((r = tape_pos(J, &after, NULL, err)) < 0)
		goto out;
	tp_tape_file tf = { .file_nr = file, .kind = TP_TAPE_FILE_CATALOG_ARCHIVE, .first_block = (int64_t)first,
			    .nblocks = (int64_t)(after - first - 1), .complete = 1 };
	memcpy(tf.media, J->tape.label.uuid, 16);
	memcpy(tf.content_uuid, cuuid, 16);
	if ((r = begin_file_tx(J, err)) == 0 && (r = tp_catalog_add_tape_file(J->db, &tf, err)) == 0)
		r = tp_catalog_commit(J->db, err);
	else
		tp_catalog_rollback(J->db, NULL);
	if (r == 0)
		r = 1;
out:
	tp_buf_free(&log);
	return r;
}

/*
 * Makes a writable tape of the set ready at end of data: the last tape if it
 * is still writable, otherwise the next one the pool allocates (a new member
 * gets its set label and the catalogs of the earlier members).
 */
static int ensure_tape(struct job *J, tp_err *err)
{
	int r;
	/* an archive that ended inside the early-warning zone leaves the tape full */
	if (J->have_tape && J->positioned && J->sess.drive->leom && (r = mark_full(J, err)) < 0)
		return r;
	if (J->have_tape && J->positioned)
		return 0;
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set = 0;
	if (!J->have_tape) {
		if ((r = tp_media_pool_alloc_writable_media(&J->pool, tp_now(), J->db, &J->tape, err)) < 0)
			return r;
		J->have_tape = 1;
		J->res->tapes_used++;
		json_array_append_new(J->res->tapes, json_string(J->tape.label.label_text));
	}
	tp_info("loading tape %s (media set seq %llu)", J->tape.label.label_text,
		(unsigned long long)J->tape.set.seq_nr);
	r = tp_tape_load(&J->sess, J->tape.label.label_text, J->tape.label.uuid, &ml, &msl, &has_set, err);
	if (r < 0)
		return r;
	int same = has_set && !memcmp(msl.uuid, J->set, 16) && msl.seq_nr == J->tape.set.seq_nr;
	if (has_set && !memcmp(msl.uuid, J->set, 16) && msl.seq_nr != J->tape.set.seq_nr) {
		tp_media_set_label_clear(&msl);
		return tp_err_set(err, -TP_EWRONGMEDIA, "tape %s: sequence number %llu on tape, %llu in the inventory",
				  ml.label_text, (unsigned long long)msl.seq_nr, (unsigned long long)J->tape.set.seq_nr);
	}
	if (has_set)
		tp_media_set_label_clear(&msl);
	if ((r = tp_drive_check_tapealert(J->sess.drive, err)) < 0) {
		/* as PBS: critical flags (-EIO; the check warns about anything else) retire the tape from allocation */
		if (r == -EIO && tp_inventory_set_status(&J->pool.inv, J->tape.label.uuid, TP_MEDIA_DAMAGED, NULL) == 0)
			tp_warn("tape %s marked damaged", J->tape.label.label_text);
		return r;
	}
	if (same) {
		if ((r = enable_encryption(J, err)) < 0 || (r = position_at_eod(J, err)) < 0)
			return r;
		/*
		 * A job killed after the early warning leaves the tape nearly full
		 * without the inventory knowing: with less than a few blocks left,
		 * move on to the next tape before writing anything.
		 */
		tp_drive_status st;
		if (tp_drive_get_status(J->sess.drive, &st, NULL) == 0 && st.capacity &&
		    st.used + 4 * (uint64_t)TP_TAPE_BLOCK_SIZE > st.capacity) {
			if ((r = mark_full(J, err)) < 0)
				return r;
			return ensure_tape(J, err);
		}
		return 0;
	}
	/* a new member of the set: set label (with the key config when encrypted), then the catalogs of the earlier members */
	tp_media_set_label nl = J->tape.set;
	nl.key_config = NULL;
	if (J->pcfg.has_encrypt && (r = tp_tape_key_config(J->pcfg.encrypt, &nl.key_config, err)) < 0)
		return r;
	r = tp_tape_write_set_label(&J->sess, &nl, err);
	json_decref(nl.key_config);
	if (r < 0 || (r = enable_encryption(J, err)) < 0)
		return r;
	tp_media_set ms;
	if ((r = tp_inventory_media_set(&J->pool.inv, J->set, &ms, err)) < 0)
		return r;
	for (uint64_t seq = 0; seq < J->tape.set.seq_nr && r >= 0; seq++) {
		if (seq >= ms.n || !ms.present[seq])
			continue;
		r = write_catalog_archive(J, ms.members[seq], seq, err);
		if (r == 0) {
			r = -ENOSPC;
			tp_err_set(err, r, "tape %s: no room for the catalogs of the earlier tapes", ml.label_text);
		}
	}
	tp_media_set_free(&ms);
	if (r < 0)
		return r;
	J->positioned = 1;
	return 0;
}

/* ---- chunk reading ahead of the drive ---- */

struct chunk_item {
	uint8_t digest[32];
	tp_buf blob;
	int rc;            /* < 0: this chunk could not be loaded */
	char msg[512];
};

#define SPARES (READ_AHEAD + 2) /* items in the queue, one being written, one being read */

struct reader {
	struct job *J;
	const uint8_t (*list)[32];
	size_t n;
	tp_queue q;
	pthread_t th;
	volatile int stop;
	/*
	 * Items the writer is done with: their chunk buffers, already faulted
	 * in, are read into again instead of fresh memory (page faults and page
	 * clearing cost as much as a copy of every chunk).
	 */
	pthread_mutex_t mu;
	struct chunk_item *spare[SPARES];
	size_t nspare;
};

static void item_free(struct chunk_item *it)
{
	if (it) {
		tp_buf_free(&it->blob);
		free(it);
	}
}

/* A cleared item, from the spares when there is one. */
static struct chunk_item *item_get(struct reader *R)
{
	struct chunk_item *it = NULL;
	pthread_mutex_lock(&R->mu);
	if (R->nspare)
		it = R->spare[--R->nspare];
	pthread_mutex_unlock(&R->mu);
	if (!it)
		return calloc(1, sizeof(*it));
	tp_buf keep = it->blob;
	tp_buf_reset(&keep);
	memset(it, 0, sizeof(*it));
	it->blob = keep;
	return it;
}

/* The writer hands a written (or skipped) item back for reuse. */
static void item_recycle(struct reader *R, struct chunk_item *it)
{
	pthread_mutex_lock(&R->mu);
	if (it && R->nspare < SPARES) {
		R->spare[R->nspare++] = it;
		it = NULL;
	}
	pthread_mutex_unlock(&R->mu);
	item_free(it);
}

static void *reader_main(void *arg)
{
	struct reader *R = arg;
	for (size_t i = 0; i < R->n && !R->stop; i++) {
		struct chunk_item *it = item_get(R);
		if (!it)
			break;
		memcpy(it->digest, R->list[i], 32);
		tp_err e = { 0 };
		it->rc = tp_chunk_store_read(&R->J->ds.cs, it->digest, &it->blob, &e);
		if (it->rc == 0) {
			int k = tp_blob_check(it->blob.data, it->blob.len, "chunk", &e);
			it->rc = k < 0 ? k : 0;
		}
		if (it->rc < 0)
			snprintf(it->msg, sizeof(it->msg), "%s", e.msg);
		if (tp_queue_push(&R->q, it) < 0) {
			tp_buf_free(&it->blob);
			free(it);
			break;
		}
	}
	tp_queue_close(&R->q);
	return NULL;
}

/* ---- per snapshot ---- */

struct snapfiles {
	char *dir;
	char names[64][TP_MANIFEST_FILENAME_MAX + 1];
	tp_snapshot_file files[64];
	size_t n;
	int fd;            /* the file being streamed */
	size_t fd_index;
};

static long snap_read(void *ctx, size_t index, uint8_t *buf, size_t cap, tp_err *err)
{
	struct snapfiles *S = ctx;
	if (S->fd < 0 || S->fd_index != index) {
		if (S->fd >= 0)
			close(S->fd);
		char *p = tp_path_join(S->dir, S->names[index]);
		S->fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
		S->fd_index = index;
		if (S->fd < 0) {
			int e = tp_err_errno(err, "open %s", p ? p : S->names[index]);
			free(p);
			return e;
		}
		free(p);
	}
	ssize_t n = read(S->fd, buf, cap);
	if (n < 0)
		return tp_err_errno(err, "read %s/%s", S->dir, S->names[index]);
	return (long)n;
}

static int add_snapfile(struct snapfiles *S, const char *name, tp_err *err)
{
	if (S->n >= 64)
		return tp_err_set(err, -E2BIG, "snapshot has more than 64 files");
	char *p = tp_path_join(S->dir, name);
	struct stat st;
	int r = p && stat(p, &st) == 0 ? 0 : tp_err_errno(err, "stat %s", p ? p : name);
	free(p);
	if (r < 0)
		return r;
	snprintf(S->names[S->n], sizeof(S->names[S->n]), "%s", name);
	S->files[S->n] = (tp_snapshot_file){ S->names[S->n], st.st_mode, st.st_uid, st.st_gid, st.st_mtim.tv_sec,
					      (uint32_t)st.st_mtim.tv_nsec, (uint64_t)st.st_size };
	S->n++;
	return 0;
}

/* Collects every digest the snapshot's indexes reference (dedup, in index order). */
static int collect_digests(struct job *J, struct snapfiles *S, const tp_manifest *m, tp_buf *all, tp_err *err)
{
	tp_digest_set seen = TP_DIGEST_SET_INIT;
	int r = 0;
	for (size_t i = 0; i < m->nfiles && r == 0; i++) {
		const char *fn = m->files[i].filename;
		const char *ext = strrchr(fn, '.');
		if (!ext || (strcmp(ext, ".fidx") && strcmp(ext, ".didx")))
			continue;
		char *p = tp_path_join(S->dir, fn);
		tp_archive_reader ar;
		if (!p) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		r = tp_archive_reader_open(&ar, &J->ds.cs, p, NULL, err);
		free(p);
		if (r < 0)
			break;
		for (size_t k = 0; k < ar.count && r == 0; k++) {
			const uint8_t *d = tp_archive_reader_digest(&ar, k);
			int added = tp_digest_set_add(&seen, d, 0);
			if (added < 0)
				r = tp_err_set(err, -ENOMEM, "out of memory");
			else if (added)
				r = tp_buf_append(all, d, 32);
		}
		tp_archive_reader_close(&ar);
	}
	tp_digest_set_free(&seen);
	return r;
}

/*
 * Writes the chunks in `list` as chunk archives (several if a tape fills).
 * Returns 0, or 1 when a chunk could not be loaded from the datastore (the
 * snapshot fails; reason in `why`), or a negative (fatal) error.
 */
static int write_chunks(struct job *J, const uint8_t (*list)[32], size_t n, char why[512], tp_err *err)
{
	if (!n)
		return 0;
	struct reader R = { .J = J, .list = list, .n = n };
	if (tp_queue_init(&R.q, READ_AHEAD) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory");
	pthread_mutex_init(&R.mu, NULL);
	if (pthread_create(&R.th, NULL, reader_main, &R) != 0) {
		tp_queue_destroy(&R.q);
		pthread_mutex_destroy(&R.mu);
		return tp_err_set(err, -EAGAIN, "cannot start the chunk reader thread");
	}
	int r = 0, snap_failed = 0;
	struct chunk_item *pending = NULL; /* a chunk cut by LEOM, for the next tape */
	while (r == 0) {
		if ((r = tp_cancel_check(err)) < 0)
			break;
		if ((r = ensure_tape(J, err)) < 0)
			break;
		tp_chunk_archive_writer w;
		tp_tape_io io;
		uint64_t first = 0, file = 0, after = 0;
		if ((r = tape_pos(J, &first, &file, err)) < 0)
			break;
		tp_drive_tape_io(J->sess.drive, &io);
		if ((r = tp_chunk_archive_writer_open(&w, &io, J->ds.name, NULL, tp_now(), err)) < 0)
			break;
		if (J->o->chunk_archive_max)
			w.max_size = J->o->chunk_archive_max;
		J->wrote = 1;
		/* rows of this archive, committed when it is complete */
		tp_buf rows = TP_BUF_INIT; /* digest(32) offset(8) size(8) */
		int done = 0;
		while (r == 0 && !tp_chunk_archive_writer_full(&w)) {
			struct chunk_item *it = pending ? pending : tp_queue_pop(&R.q);
			pending = NULL;
			if (!it) {
				done = 1;
				break;
			}
			if (it->rc < 0) {
				char hex[65];
				tp_hex_encode(it->digest, 32, hex);
				if (!snap_failed)
					snprintf(why, 512, "chunk %s: %s", hex, it->msg);
				snap_failed = 1;
				item_recycle(&R, it);
				continue;
			}
			if (tp_digest_set_has(&J->written, it->digest)) { /* another snapshot of this job wrote it */
				item_recycle(&R, it);
				continue;
			}
			uint64_t off = 0;
			int x = tp_chunk_archive_writer_add(&w, it->digest, it->blob.data, it->blob.len, &off, err);
			if (x < 0) {
				r = x;
				item_recycle(&R, it);
				break;
			}
			if (x == 0) { /* cut by early warning: rewrite it on the next tape */
				pending = it;
				break;
			}
			uint8_t row[48];
			memcpy(row, it->digest, 32);
			tp_put_le64(row + 32, off);
			tp_put_le64(row + 40, TP_CHUNK_ENTRY_HEADER_SIZE + it->blob.len);
			tp_buf_append(&rows, row, 48);
			J->res->chunks_written++;
			J->res->chunk_bytes_written += it->blob.len;
			item_recycle(&R, it);
		}
		int leom = tp_chunk_archive_writer_leom(&w);
		if (r < 0) {
			tp_chunk_archive_writer_abort(&w);
			tp_buf_free(&rows);
			break;
		}
		r = tp_chunk_archive_writer_finish(&w, err);
		uint64_t nchunks = rows.len / 48;
		if (r == 0)
			r = tape_pos(J, &after, NULL, err);
		tp_chunk_archive_writer_free(&w);
		if (r == 0) {
			tp_tape_file tf = { .file_nr = file, .kind = TP_TAPE_FILE_CHUNK_ARCHIVE, .first_block = (int64_t)first,
					    .nblocks = (int64_t)(after - first - 1), .complete = 1 };
			memcpy(tf.media, J->tape.label.uuid, 16);
			memcpy(tf.content_uuid, w.uuid, 16);
			snprintf(tf.store, sizeof(tf.store), "%s", J->ds.name);
			r = begin_file_tx(J, err);
			if (r == 0)
				r = tp_catalog_add_tape_file(J->db, &tf, err);
			for (uint64_t i = 0; i < nchunks && r == 0; i++) {
				const uint8_t *row = rows.data + 48 * i;
				r = tp_catalog_add_chunk(J->db, J->tape.label.uuid, file, J->ds.name, row,
							 (int64_t)tp_le64(row + 32), (int64_t)tp_le64(row + 40), err);
				if (r == 0 && tp_digest_set_add(&J->written, row, 0) < 0)
					r = tp_err_set(err, -ENOMEM, "out of memory");
			}
			if (r == 0)
				r = tp_catalog_commit(J->db, err);
			else
				tp_catalog_rollback(J->db, NULL);
			if (r == 0)
				tp_info("chunk archive %llu on %s: %llu chunks", (unsigned long long)file,
					J->tape.label.label_text, (unsigned long long)nchunks);
		}
		tp_buf_free(&rows);
		if (r == 0)
			r = leom ? mark_full(J, err) : full_if_leom(J, err);
		if (done)
			break;
	}
	R.stop = 1;
	struct chunk_item *it;
	while ((it = tp_queue_pop(&R.q)))
		item_free(it);
	pthread_join(R.th, NULL);
	tp_queue_destroy(&R.q);
	item_free(pending);
	while (R.nspare)
		item_free(R.spare[--R.nspare]);
	pthread_mutex_destroy(&R.mu);
	if (r < 0)
		return r;
	return snap_failed;
}

static int backup_snapshot(struct job *J, const tp_snapshot_ref *snap, const char *path, char why[512], tp_err *err)
{
	struct snapfiles S;
	memset(&S, 0, sizeof(S));
	S.fd = -1;
	tp_lock lk = TP_LOCK_INIT;
	tp_manifest m;
	int have_m = 0, r;
	tp_buf b = TP_BUF_INIT, all = TP_BUF_INIT, newl = TP_BUF_INIT;
	tp_err e = { 0 };
	if ((r = tp_snapshot_lock(&J->ds, snap, 0, &lk, &e)) < 0) {
		snprintf(why, 512, "%s", e.msg);
		r = r == -TP_ENOTFOUND ? 2 : 1; /* vanished: skipped */
		goto out;
	}
	S.dir = tp_datastore_path(&J->ds, path);
	char *mp = S.dir ? tp_path_join(S.dir, TP_MANIFEST_NAME) : NULL;
	r = mp ? tp_read_file(mp, &b, TP_BLOB_MAX_SIZE, &e) : tp_err_set(&e, -ENOMEM, "out of memory");
	free(mp);
	if (r == 0 && (r = tp_manifest_decode_blob(&m, b.data, b.len, "manifest", &e)) == 0)
		have_m = 1;
	if (r == 0 && (r = add_snapfile(&S, TP_MANIFEST_NAME, &e)) == 0)
		for (size_t i = 0; i < m.nfiles && r == 0; i++)
			r = add_snapfile(&S, m.files[i].filename, &e);
	if (r == 0) {
		char *cl = tp_path_join(S.dir, "client.log.blob");
		if (cl && tp_path_exists(cl))
			r = add_snapfile(&S, "client.log.blob", &e);
		free(cl);
	}
	if (r == 0)
		r = collect_digests(J, &S, &m, &all, &e);
	if (r < 0) {
		snprintf(why, 512, "%s", e.msg);
		r = 1;
		goto out;
	}
	size_t nall = all.len / 32;
	for (size_t i = 0; i < nall; i++) {
		const uint8_t *d = all.data + 32 * i;
		if (tp_digest_set_has(&J->written, d))
			continue;
		int has = tp_catalog_has_chunk_in_set(J->db, J->set, J->ds.name, d, err);
		if (has < 0) {
			r = has;
			goto out;
		}
		if (!has)
			tp_buf_append(&newl, d, 32);
	}
	tp_info("snapshot %s: %zu chunks, %zu new in this media set", path, nall, newl.len / 32);
	r = write_chunks(J, (const uint8_t(*)[32])newl.data, newl.len / 32, why, err);
	if (r != 0)
		goto out; /* 1: a chunk failed, the snapshot archive is not written */
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((r = ensure_tape(J, err)) < 0)
			goto out;
		uint64_t first = 0, file = 0, after = 0;
		uint8_t cuuid[16] = { 0 };
		tp_tape_io io;
		if ((r = tape_pos(J, &first, &file, err)) < 0)
			goto out;
		tp_drive_tape_io(J->sess.drive, &io);
		J->wrote = 1;
		int x = tp_snapshot_archive_write(&io, J->ds.name, path, S.files, S.n, snap_read, &S, cuuid, tp_now(), err);
		if (x < 0) {
			r = x;
			goto out;
		}
		if (x == 0) { /* LEOM: the whole archive again on the next tape */
			if ((r = mark_full(J, err)) < 0)
				goto out;
			continue;
		}
		if ((r = tape_pos(J, &after, NULL, err)) < 0)
			goto out;
		tp_tape_file tf = { .file_nr = file, .kind = TP_TAPE_FILE_SNAPSHOT_ARCHIVE, .first_block = (int64_t)first,
				    .nblocks = (int64_t)(after - first - 1), .complete = 1 };
		memcpy(tf.media, J->tape.label.uuid, 16);
		memcpy(tf.content_uuid, cuuid, 16);
		snprintf(tf.store, sizeof(tf.store), "%s", J->ds.name);
		int64_t id = 0;
		if ((r = begin_file_tx(J, err)) < 0)
			goto out;
		r = tp_catalog_add_tape_file(J->db, &tf, err);
		if (r == 0)
			r = tp_catalog_add_snapshot(J->db, J->tape.label.uuid, file, J->ds.name, path, cuuid, &id, err);
		for (size_t i = 0; r == 0 && i < nall; i += 4096)
			r = tp_catalog_add_snapshot_chunks(J->db, id, (const uint8_t(*)[32])(all.data + 32 * i),
							   nall - i < 4096 ? nall - i : 4096, err);
		if (r == 0 && nall == 0)
			r = tp_catalog_add_snapshot_chunks(J->db, id, NULL, 0, err);
		if (r == 0)
			r = tp_catalog_commit(J->db, err);
		else
			tp_catalog_rollback(J->db, NULL);
		if (r == 0)
			tp_info("snapshot archive %llu on %s: %s", (unsigned long long)file, J->tape.label.label_text, path);
		if (r == 0)
			r = full_if_leom(J, err);
		goto out;
	}
	r = tp_err_set(err, -ENOSPC, "snapshot %s: the snapshot archive did not fit on two tapes", path);
out:
	if (S.fd >= 0)
		close(S.fd);
	free(S.dir);
	if (have_m)
		tp_manifest_free(&m);
	tp_buf_free(&b);
	tp_buf_free(&all);
	tp_buf_free(&newl);
	tp_lock_release(&lk);
	return r;
}

/* ---- the job ---- */

static int group_selected(const tp_tape_backup_opts *o, const tp_snapshot_ref *s)
{
	if (!o->groups || o->ngroups == 0)
		return 1;
	char g[TP_BACKUP_ID_MAX + 16];
	snprintf(g, sizeof(g), "%s/%s", s->type, s->id);
	for (int i = 0; i < o->ngroups; i++)
		if (!strcmp(o->groups[i], g))
			return 1;
	return 0;
}

static int finish_tape(struct job *J, tp_err *err)
{
	/* the catalog archive of this tape; if it does not fit, the next tape carries it */
	for (int attempt = 0; attempt < 2; attempt++) {
		int r = ensure_tape(J, err);
		if (r < 0)
			return r;
		r = write_catalog_archive(J, J->tape.label.uuid, J->tape.set.seq_nr, err);
		if (r == -ENOSPC) { /* hit the physical end: the next tape carries this catalog */
			tp_warn("tape %s: no room for its catalog archive (%s)", J->tape.label.label_text, err->msg);
			r = 0;
		}
		if (r < 0)
			return r;
		if (r == 1) {
			J->wrote = 0;
			tp_drive_status st;
			if (tp_drive_get_status(J->sess.drive, &st, NULL) == 0 && st.used)
				tp_inventory_set_bytes_used(&J->pool.inv, J->tape.label.uuid, st.used, NULL);
			return full_if_leom(J, err);
		}
		if ((r = mark_full(J, err)) < 0)
			return r;
	}
	return tp_err_set(err, -ENOSPC, "no room for the catalog archive on two tapes");
}

int tp_tape_backup_check(const tp_tape_backup_opts *o, tp_err *err)
{
	char *path = NULL;
	tp_pool_config pc;
	int r = tp_datastore_lookup(o->store, &path, err);
	free(path);
	if (r < 0 || (r = tp_pool_config_get(o->pool, &pc, err)) < 0)
		return r;
	return tp_tape_config_check_drive(o->drive, err);
}

int tp_tape_backup_run(const tp_tape_backup_opts *o, tp_tape_backup_result *res, tp_err *err)
{
	struct job J;
	memset(&J, 0, sizeof(J));
	memset(res, 0, sizeof(*res));
	res->failed = json_object();
	res->tapes = json_array();
	J.o = o;
	J.res = res;
	tp_snapshot_list l = { 0 };
	int r;
	if ((r = tp_datastore_open(&J.ds, o->store, err)) < 0)
		goto out;
	J.ds_open = 1;
	if ((r = tp_chunk_store_lock(&J.ds.cs, 0, 10000, err)) < 0)
		goto out;
	if ((r = tp_pool_config_get(o->pool, &J.pcfg, err)) < 0)
		goto out;
	if ((r = tp_tape_session_open(&J.sess, o->drive, o->owner, -1, err)) < 0)
		goto out;
	J.sess_open = 1;
	if ((r = tp_catalog_open(&J.db, NULL, err)) < 0)
		goto out;
	if ((r = tp_media_pool_open(&J.pool, &J.pcfg, NULL, J.sess.changer_name, o->owner, err)) < 0)
		goto out;
	J.pool_open = 1;
	char reason[256] = "";
	r = tp_media_pool_start_write_session(&J.pool, o->force_media_set, tp_now(), reason, sizeof(reason), err);
	if (r < 0)
		goto out;
	memcpy(J.set, J.pool.current_set, 16);
	tp_uuid_unparse(J.set, res->media_set);
	tp_info("media set %s%s%s", res->media_set, r == 1 ? ": new set, " : "", r == 1 ? reason : "");
	/* the set row must exist before any tape is added to it */
	if ((r = tp_catalog_begin(J.db, err)) < 0 ||
	    (r = tp_catalog_add_media_set(J.db, J.set, o->pool, J.pool.current_start, NULL, err)) < 0 ||
	    (r = tp_catalog_commit(J.db, err)) < 0)
		goto out;
	if ((r = tp_datastore_list_snapshots(&J.ds, o->ns ? o->ns : "", o->max_depth, &l, err)) < 0)
		goto out;
	for (size_t i = 0; i < l.n; i++) {
		const tp_snapshot_ref *s = &l.items[i];
		if (!l.finished[i] || !group_selected(o, s))
			continue;
		if (o->latest_only) { /* only the newest finished snapshot of its group */
			int newer = 0;
			for (size_t k = i + 1; k < l.n; k++)
				if (!strcmp(l.items[k].ns, s->ns) && !strcmp(l.items[k].type, s->type) &&
				    !strcmp(l.items[k].id, s->id) && l.finished[k])
					newer = 1;
			if (newer)
				continue;
		}
		if ((r = tp_cancel_check(err)) < 0)
			goto out;
		char path[TP_SNAPSHOT_PATH_MAX];
		tp_snapshot_ref_path(s, path, sizeof(path));
		tp_progress_bar_set((double)i / (double)l.n, path);
		tp_snapshot_loc loc;
		tp_err le = { 0 };
		int x = tp_catalog_lookup_snapshot(J.db, J.set, J.ds.name, path, &loc, &le);
		if (x == 0) {
			tp_info("skip snapshot %s (already in the media set)", path);
			res->snapshots_skipped++;
			continue;
		}
		if (x != -TP_ENOTFOUND) {
			r = x;
			*err = le;
			goto out;
		}
		char why[512] = "";
		x = backup_snapshot(&J, s, path, why, err);
		if (x < 0) {
			r = x;
			goto out;
		}
		if (x == 0) {
			res->snapshots_written++;
		} else if (x == 2) {
			tp_info("skip snapshot %s (vanished)", path);
			res->snapshots_skipped++;
		} else {
			tp_warn("snapshot %s failed: %s", path, why);
			json_object_set_new(res->failed, path, json_string(why));
			res->snapshots_failed++;
		}
	}
	if (J.wrote && (r = finish_tape(&J, err)) < 0)
		goto out;
	if (o->export_media_set) {
		tp_media_set ms;
		if (tp_inventory_reload(&J.pool.inv, err) == 0 && tp_inventory_media_set(&J.pool.inv, J.set, &ms, err) == 0) {
			for (size_t k = 0; k < ms.n; k++) {
				const tp_inventory_entry *e = ms.present[k] ? tp_inventory_find(&J.pool.inv, ms.members[k]) : NULL;
				if (e && tp_tape_export(&J.sess, e->label.label_text, err) < 0)
					tp_warn("export of %s failed: %s", e->label.label_text, err->msg);
			}
			tp_media_set_free(&ms);
		}
	} else if (o->eject_media && (r = tp_tape_unload(&J.sess, err)) < 0) {
		goto out;
	}
	tp_drive_status st;
	if (tp_drive_get_status(J.sess.drive, &st, NULL) == 0)
		res->tape_bytes_written = J.sess.drive->counters.bytes_written;
	r = 0;
	if (res->snapshots_failed)
		r = tp_err_set(err, -TP_EDIGEST, "%llu snapshot(s) failed (first: %s)",
			       (unsigned long long)res->snapshots_failed, json_object_iter_key(json_object_iter(res->failed)));
out:
	tp_snapshot_list_free(&l);
	tp_digest_set_free(&J.written);
	if (J.pool_open)
		tp_media_pool_close(&J.pool);
	tp_catalog_close(J.db);
	if (J.sess_open)
		tp_tape_session_close(&J.sess);
	if (J.ds_open)
		tp_datastore_close(&J.ds);
	return r;
}

void tp_tape_backup_result_free(tp_tape_backup_result *res)
{
	json_decref(res->failed);
	json_decref(res->tapes);
	res->failed = res->tapes = NULL;
}

json_t *tp_tape_backup_result_json(const tp_tape_backup_result *res)
{
	return json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:O,s:O}", "media-set", res->media_set, "snapshots-written",
			 (json_int_t)res->snapshots_written, "snapshots-skipped", (json_int_t)res->snapshots_skipped,
			 "snapshots-failed", (json_int_t)res->snapshots_failed, "chunks-written",
			 (json_int_t)res->chunks_written, "chunk-bytes-written", (json_int_t)res->chunk_bytes_written,
			 "tape-bytes-written", (json_int_t)res->tape_bytes_written, "failed", res->failed, "tapes",
			 res->tapes);
}
