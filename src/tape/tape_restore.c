/* Tape restore executor (see tape_restore.h). */
#include "tape/tape_restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "base/log.h"
#include "base/progress_bar.h"
#include "base/queue.h"
#include "base/timefmt.h"
#include "format/blob.h"
#include "format/chunk_archive.h"
#include "format/content_header.h"
#include "format/didx.h"
#include "format/fidx.h"
#include "format/media_label.h"
#include "format/snapshot_archive.h"
#include "format/tape_block.h"
#include "store/datastore.h"
#include "tape/drive_config.h"
#include "tape/inventory.h"
#include "tape/restore_plan.h"
#include "tape/tape_key.h"
#include "tape/tape_session.h"

/* blob buffers kept for reuse: mapped pages, no page faults and clearing per chunk */
#define SPARE_BUFS 8
/* chunk failures whose message is kept (each 240 bytes) */
#define BAD_MSGS 64

struct rjob {
	const tp_tape_restore_opts *o;
	tp_tape_restore_result *res;
	tp_restore_plan plan;
	char set_text[37];
	tp_datastore ds[TP_RESTORE_MAX_TARGETS];
	int ds_open[TP_RESTORE_MAX_TARGETS];
	char *staging[TP_RESTORE_MAX_TARGETS];   /* <target>/.tmp/<media-set> */
	tp_tape_session sess[8];
	int nsess;
	pthread_mutex_t mu;
	tp_digest_set bad;     /* digests that could not be restored; value: 1 + index into bad_msg, or 0 */
	char bad_msg[BAD_MSGS][240]; /* why, for the first failures: a snapshot's reason names its first chunk's */
	unsigned nbad_msg;
	char range_msg[240];   /* the first range that could not be read at all */
	/* progress in the task log (under mu) */
	double t_start, progress_last, progress_every;
	uint64_t bytes_done;   /* read from tape so far */
	uint64_t plan_done, bytes_planned; /* of the plan's bytes: done, total (0 = unknown: no catalog) */
	int fatal;             /* a drive thread failed: everyone stops */
	tp_err fatal_err;
	tp_queue work;         /* chunk items for the verify/insert workers */
	tp_buf spare[SPARE_BUFS]; /* blob buffers the workers are done with, for the next entries (under mu) */
	size_t nspare;
	tp_tape_counters counters;
	uint64_t chunks_restored;
	uint64_t tapes_loaded; /* needed tapes made ready, one per tape */
	uint64_t media_bytes;
	const tp_lto_gen *gen;
	/* full restore without a catalog: every file of every tape is read */
	int scan;
	/* each changer session's view of its changer when the plan is made (read once: a SCSI library answers slowly) */
	tp_changer_status cst[8];
	int cst_ok[8];
	const tp_store_map *map;
	size_t snap_cap;
};

struct witem {
	uint8_t digest[32];
	uint64_t mask;         /* targets that need it */
	uint8_t *blob;
	size_t len;
	size_t cap;            /* of blob's allocation, for reuse */
};

/*
 * The chunk stores sync in the background every this many bytes written:
 * the disk (or the host under a virtual disk, which writes only when told
 * to flush) works while the tape streams, instead of all at the end.
 */
static uint64_t flush_every(void)
{
	const char *e = getenv("TAPIR_RESTORE_FLUSH_MIB");
	return (e && *e ? strtoull(e, NULL, 10) : 64) << 20;
}

/* Seconds between progress lines in the task log ($TAPIR_PROGRESS_S, default 10; 0 = after every range read). */
static double progress_every(void)
{
	const char *e = getenv("TAPIR_PROGRESS_S");
	return e && *e ? strtod(e, NULL) : 10.0;
}

/* ---- verify + insert workers ---- */

/* Records that chunk d could not be restored, and why; called with J->mu held. */
static void mark_bad(struct rjob *J, const uint8_t d[32], const char *why)
{
	uint64_t v = 0;
	if (tp_digest_set_has(&J->bad, d))
		return;
	if (J->nbad_msg < BAD_MSGS) {
		snprintf(J->bad_msg[J->nbad_msg], sizeof(J->bad_msg[0]), "%s", why);
		v = ++J->nbad_msg;
	}
	tp_digest_set_add(&J->bad, d, v);
}

static void *worker_main(void *arg)
{
	struct rjob *J = arg;
	struct witem *it;
	tp_buf plain = TP_BUF_INIT;
	while ((it = tp_queue_pop(&J->work))) {
		tp_err e = { 0 };
		/*
		 * The chunk archive reader has checked magic, size and CRC
		 * (tp_chunk_blob_check): no second CRC pass here.  Unencrypted:
		 * decompress and check SHA-256 (a plain blob hashed in place).
		 */
		int kind = tp_blob_kind_of(it->blob, it->len, "chunk", &e);
		int r = kind < 0 ? kind : 0;
		if (r == 0 && !tp_blob_kind_encrypted(kind)) {
			r = tp_blob_verify_digest(it->blob, it->len, TP_BLOB_MAX_SIZE, it->digest, "chunk", &plain, &e);
			r = r < 0 ? r : 0;
		}
		for (int t = 0; r == 0 && t < J->plan.ntargets; t++)
			if (it->mask & (1ULL << t))
				r = tp_chunk_store_insert(&J->ds[t].cs, it->digest, it->blob, it->len, NULL, &e);
		pthread_mutex_lock(&J->mu);
		if (r == 0) {
			uint64_t *v = tp_digest_set_ref(&J->plan.needed, it->digest); /* NULL without a catalog */
			if (v)
				*v |= TP_RESTORE_DONE;
			J->chunks_restored++;
		} else {
			char hex[65];
			tp_hex_encode(it->digest, 32, hex);
			tp_warn("chunk %s from tape: %s", hex, e.msg);
			mark_bad(J, it->digest, e.msg);
		}
		if (J->nspare < SPARE_BUFS) {
			J->spare[J->nspare++] = (tp_buf){ it->blob, 0, it->cap };
			it->blob = NULL;
		}
		pthread_mutex_unlock(&J->mu);
		free(it->blob);
		free(it);
	}
	tp_buf_free(&plain);
	return NULL;
}

/* ---- reading one tape ---- */

struct snap_writer {
	char *dir;
	const char *datastore; /* the target's base, for the error of a full disk */
	int fd;
	char name[TP_SNAPSHOT_NAME_MAX + 1];
	tp_err *err;
};

static int sw_begin(void *ctx, const tp_snapshot_entry *e, tp_err *err)
{
	struct snap_writer *W = ctx;
	snprintf(W->name, sizeof(W->name), "%s", e->name);
	int dfd = open(W->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return tp_err_errno(err, "open staging directory %s", W->dir);
	/* the decoder has rejected '/', '.', '..' and empty names already */
	W->fd = openat(dfd, e->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	close(dfd);
	if (W->fd < 0)
		return tp_err_errno(err, "create %s/%s", W->dir, e->name);
	return 0;
}

static int sw_data(void *ctx, const uint8_t *buf, size_t len, tp_err *err)
{
	struct snap_writer *W = ctx;
	int r = tp_write_all(W->fd, buf, len, err, W->name);
	return r < 0 ? tp_err_wrap(err, r, "datastore %s", W->datastore) : r; /* a full disk: say which */
}

/*
 * No fsync here: it would flush the device cache (all chunk data written so
 * far) while the tape waits; publish fsyncs every staged file before the
 * rename, after the one syncfs of the chunk store.
 */
static int sw_end(void *ctx, const tp_snapshot_entry *e, tp_err *err)
{
	struct snap_writer *W = ctx;
	(void)e;
	int r = 0;
	if (close(W->fd) < 0)
		r = tp_err_errno(err, "close %s/%s", W->dir, W->name);
	W->fd = -1;
	return r;
}

static char *staging_path(struct rjob *J, const tp_restore_snap *s)
{
	return tp_strdup_printf("%s/%s/%s", J->staging[s->target], s->store, s->path);
}

/* Decodes the snapshot archive br is in (after its header) into a fresh directory dir of datastore (removed again on failure). */
static int stage_into(const char *dir, const char *datastore, tp_block_reader *br, tp_err *err)
{
	struct snap_writer W = { .fd = -1, .datastore = datastore };
	int r;
	if ((r = tp_rm_rf(dir, err)) == 0)
		r = tp_mkdir_p(dir, 0755, err);
	if (r == 0) {
		W.dir = (char *)dir;
		tp_snapshot_decode_ops ops = { sw_begin, sw_data, sw_end };
		long n = tp_snapshot_archive_decode(br, &ops, &W, err);
		r = n < 0 ? (int)n : 0;
		if (W.fd >= 0)
			close(W.fd);
	}
	if (r < 0)
		tp_rm_rf(dir, NULL);
	return r;
}

/* Decodes the snapshot archive br is in (after its header) into the staging directory of s. */
static int stage_snapshot(struct rjob *J, const tp_restore_snap *s, tp_block_reader *br, tp_err *err)
{
	char *dir = staging_path(J, s);
	if (!dir)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = stage_into(dir, J->ds[s->target].base, br, err);
	free(dir);
	return r;
}

/*
 * Without a catalog two drives may read two copies of one snapshot archive
 * at the same time (one cut by early warning, the rewritten one): each
 * stages into a directory of its own drive, and the first complete copy is
 * renamed into place under the job mutex.  Snapshot i must still be waiting
 * for a copy (state FAILED, see scan_snap); on success it becomes PENDING.
 */
static int stage_scan_copy(struct rjob *J, long i, const tp_restore_snap *copy, tp_block_reader *br, int drive,
			   tp_err *err)
{
	char *dir = staging_path(J, copy);
	char *part = dir ? tp_strdup_printf("%s.~drive%d", dir, drive) : NULL;
	int r = part ? stage_into(part, J->ds[copy->target].base, br, err) : tp_err_set(err, -ENOMEM, "out of memory");
	if (r == 0) {
		pthread_mutex_lock(&J->mu);
		tp_restore_snap *s = &J->plan.snaps[i];
		if (s->state == TP_RS_FAILED) {
			if ((r = tp_rm_rf(dir, err)) == 0 && rename(part, dir) < 0)
				r = tp_err_errno(err, "rename %s to %s", part, dir);
			if (r == 0) {
				s->state = TP_RS_PENDING;
				s->reason[0] = 0;
			}
		}
		pthread_mutex_unlock(&J->mu);
		tp_rm_rf(part, NULL); /* a complete copy was there already, or the rename failed */
	}
	free(part);
	free(dir);
	return r;
}

static int read_snapshot(struct rjob *J, tp_tape_session *S, const tp_restore_read *rd, tp_err *err)
{
	tp_restore_snap *s = &J->plan.snaps[rd->snap];
	tp_tape_io io;
	tp_drive_tape_io(S->drive, &io);
	tp_block_reader br;
	int r = tp_block_reader_open(&br, &io, 0, err);
	if (r != 0) {
		if (r > 0)
			r = tp_err_set(err, -TP_EFORMAT, "snapshot archive of %s: no data at file %llu", s->spec,
				       (unsigned long long)rd->file_nr);
		return r;
	}
	tp_content_header h;
	json_t *hj = NULL;
	r = tp_content_header_read_json(&br, &h, 1 << 20, &hj, err);
	int kind = r == 0 ? tp_content_header_kind(&h) : -1;
	if (r == 0 && kind != TP_MAGIC_SNAPSHOT_ARCHIVE_1_1 && kind != TP_MAGIC_SNAPSHOT_ARCHIVE_1_2)
		r = tp_err_set(err, -TP_EFORMAT, "file %llu is not a snapshot archive", (unsigned long long)rd->file_nr);
	const char *hs = r == 0 ? tp_json_opt_str(hj, "snapshot") : NULL;
	if (r == 0 && (!hs || strcmp(hs, s->path)))
		r = tp_err_set(err, -TP_EFORMAT, "file %llu holds snapshot %s, the catalog says %s",
			       (unsigned long long)rd->file_nr, hs ? hs : "?", s->path);
	if (r == 0)
		r = stage_snapshot(J, s, &br, err);
	json_decref(hj);
	tp_block_reader_free(&br);
	return r;
}

/*
 * Decodes chunk entries from br up to stream offset `end` and queues the
 * wanted ones for the verify/insert workers.  With a plan (target < 0) the
 * wanted chunks are the planned ones not done yet; without a catalog
 * (target >= 0) every chunk that target lacks.
 */
static int pump_chunks(struct rjob *J, tp_tape_session *S, tp_block_reader *br, uint64_t file_nr, uint64_t end,
		       int target, int resync, tp_err *err)
{
	int r = 0;
	tp_chunk_archive_reader cr;
	tp_chunk_archive_reader_init(&cr, br);
	if (resync && (r = tp_chunk_archive_reader_resync(&cr, err)) <= 0) {
		tp_chunk_archive_reader_free(&cr);
		return r;
	}
	r = 0;
	for (;;) {
		if ((r = tp_cancel_check(err)) < 0)
			break;
		/* the range ends here: decoding the next entry would read a whole chunk for nothing */
		if (tp_block_reader_offset(br) >= end)
			break;
		tp_chunk_entry e;
		tp_err ee = { 0 };
		int x = tp_chunk_archive_reader_next(&cr, &e, &ee);
		if (x == 0)
			break;
		if (x < 0 && (x == -TP_ECRC || x == -TP_EFORMAT) && !cr.failed) {
			/* a damaged entry: only the snapshots that need it fail */
			char why[sizeof(J->bad_msg[0])];
			snprintf(why, sizeof(why), "tape %s file %llu offset %llu: %s", S->drive->label,
				 (unsigned long long)file_nr, (unsigned long long)e.offset, ee.msg);
			pthread_mutex_lock(&J->mu);
			mark_bad(J, e.digest, why);
			pthread_mutex_unlock(&J->mu);
			tp_warn("%s", why);
			if (e.offset >= end)
				break;
			continue;
		}
		if (x < 0) {
			r = x;
			*err = ee;
			break;
		}
		if (e.offset >= end)
			break;
		uint64_t v = 0;
		int want;
		if (target < 0) {
			pthread_mutex_lock(&J->mu);
			want = tp_digest_set_get(&J->plan.needed, e.digest, &v) && (v & TP_RESTORE_MASK) &&
			       !(v & TP_RESTORE_DONE);
			pthread_mutex_unlock(&J->mu);
		} else {
			want = !tp_chunk_store_exists(&J->ds[target].cs, e.digest);
			v = 1ULL << target;
			if (!want) {
				pthread_mutex_lock(&J->mu);
				J->res->chunks_present++;
				pthread_mutex_unlock(&J->mu);
			}
		}
		if (!want)
			continue;
		/* the worker gets the decoder's buffer itself (no copy); the decoder a spare one */
		struct witem *it = malloc(sizeof(*it));
		if (!it) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		tp_buf b = TP_BUF_INIT;
		pthread_mutex_lock(&J->mu);
		if (J->nspare)
			b = J->spare[--J->nspare];
		pthread_mutex_unlock(&J->mu);
		tp_chunk_archive_reader_swap_blob(&cr, &b);
		memcpy(it->digest, e.digest, 32);
		it->mask = v & TP_RESTORE_MASK;
		it->blob = b.data;
		it->len = b.len;
		it->cap = b.cap;
		if (tp_queue_push(&J->work, it) < 0) {
			free(it->blob);
			free(it);
			break;
		}
	}
	tp_chunk_archive_reader_free(&cr);
	return r;
}

/* Keeps the first part of a tape that could not be read, for the reasons of the snapshots that miss chunks. */
static void note_unreadable(struct rjob *J, const char *label, uint64_t file_nr, const char *msg)
{
	pthread_mutex_lock(&J->mu);
	if (!J->range_msg[0])
		snprintf(J->range_msg, sizeof(J->range_msg), "tape %s file %llu: %s", label, (unsigned long long)file_nr,
			 msg);
	pthread_mutex_unlock(&J->mu);
}

/*
 * One planned range of a chunk archive.  A medium error loses the entries
 * in the damaged blocks only (their snapshots fail at publish): reading
 * goes on from the block after it, at the next entry header found there.
 */
static int read_chunks(struct rjob *J, tp_tape_session *S, const tp_restore_read *rd, tp_err *err)
{
	tp_tape_io io;
	tp_drive_tape_io(S->drive, &io);
	uint64_t blk = tp_tape_block_of(rd->start);
	uint64_t skip = rd->start - blk * TP_TAPE_BLOCK_PAYLOAD;
	for (int resync = 0;; resync = 1) {
		tp_block_reader br;
		int r = tp_block_reader_open(&br, &io, (uint32_t)blk, err);
		if (r != 0)
			return r > 0 ? tp_err_set(err, -TP_EFORMAT, "no data at block %llu of file %llu",
						  (unsigned long long)blk, (unsigned long long)rd->file_nr) : r;
		if (skip && (r = tp_block_reader_discard(&br, skip, err)) < 0) {
			tp_block_reader_free(&br);
			return r;
		}
		r = pump_chunks(J, S, &br, rd->file_nr, rd->end, -1, resync, err);
		tp_block_reader_free(&br);
		if (r != -EIO)
			return r;
		tp_drive_pos p;
		if (tp_drive_read_position(S->drive, &p, NULL) < 0 || rd->file_first_block < 0 ||
		    p.object <= (uint64_t)rd->file_first_block + blk)
			return r; /* where the tape stands is not known: the rest of the range is lost */
		uint64_t next = p.object - (uint64_t)rd->file_first_block;
		if (next * TP_TAPE_BLOCK_PAYLOAD >= rd->end)
			return r;
		tp_warn("tape %s file %llu: %s; reading on from block %llu of the file", S->drive->label,
			(unsigned long long)rd->file_nr, err->msg, (unsigned long long)next);
		note_unreadable(J, S->drive->label, rd->file_nr, err->msg);
		blk = next;
		skip = 0;
	}
}

/*
 * Moves forward to object `target`: reads through a gap when that costs no
 * more tape time than a LOCATE over it (the LTO model, distances scaled from
 * the cartridge to a native one), LOCATEs otherwise.
 */
static int seek_forward(struct rjob *J, tp_tape_session *S, uint64_t target, tp_err *err)
{
	tp_drive_pos p;
	int r = tp_drive_read_position(S->drive, &p, err);
	if (r < 0)
		return r;
	if (p.object == target)
		return 0;
	int read_through = 0;
	if (p.object < target) {
		uint64_t gap = (target - p.object) * TP_TAPE_BLOCK_SIZE;
		uint64_t native = (uint64_t)((double)gap * tp_lto_scale(J->gen, J->media_bytes));
		read_through = tp_lto_transfer_seconds(J->gen, native) <= tp_lto_locate_seconds(J->gen, native);
	}
	if (!read_through)
		return tp_drive_locate(S->drive, target, err);
	uint8_t *buf = malloc(TP_TAPE_BLOCK_SIZE);
	if (!buf)
		return tp_err_set(err, -ENOMEM, "out of memory");
	for (uint64_t o = p.object; o < target && r >= 0; o++) {
		long n = tp_drive_read_block(S->drive, buf, TP_TAPE_BLOCK_SIZE, err);
		if (n == TP_TAPE_READ_EOD)
			r = tp_err_set(err, -TP_EFORMAT, "end of data before object %llu", (unsigned long long)target);
		else if (n < 0)
			r = (int)n;
	}
	free(buf);
	return r < 0 ? r : 0;
}

/* ---- full restore without a catalog: every file of every tape ---- */

/*
 * The snapshot `store:path` found on tape: its entry in plan.snaps (created
 * with the checks the planner makes), copied to *out.  Returns its index
 * when its archive should be staged, -1 when not (skipped, or a complete
 * copy was staged already), or a negative error below -1.  Under J->mu.
 */
static long scan_snap(struct rjob *J, const char *store, const char *path, tp_restore_snap *out)
{
	tp_restore_plan *P = &J->plan;
	char spec[sizeof(P->snaps[0].spec)];
	snprintf(spec, sizeof(spec), "%s:%s", store, path);
	for (size_t i = 0; i < P->nsnaps; i++)
		if (!strcmp(P->snaps[i].spec, spec)) {
			/* pending: staged from a complete copy; failed reading an earlier copy: try this one */
			if (P->snaps[i].state != TP_RS_FAILED || (strncmp(P->snaps[i].reason, "its snapshot archive", 20) &&
								  strncmp(P->snaps[i].reason, "reading its snapshot archive", 28)))
				return -1;
			*out = P->snaps[i];
			return (long)i;
		}
	if (P->nsnaps == J->snap_cap) {
		size_t nc = J->snap_cap ? J->snap_cap * 2 : 32;
		tp_restore_snap *ns = realloc(P->snaps, nc * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		P->snaps = ns;
		J->snap_cap = nc;
	}
	tp_restore_snap *s = &P->snaps[P->nsnaps];
	memset(s, 0, sizeof(*s));
	s->target = -1;
	snprintf(s->spec, sizeof(s->spec), "%s", spec);
	snprintf(s->store, sizeof(s->store), "%s", store);
	snprintf(s->path, sizeof(s->path), "%s", path);
	long idx = (long)P->nsnaps++;
	tp_err e = { 0 };
	const char *tgt = tp_store_map_target(J->map, store);
	s->state = TP_RS_SKIPPED;
	if (tp_snapshot_ref_parse(path, &s->src, &e) < 0) {
		s->state = TP_RS_FAILED;
		snprintf(s->reason, sizeof(s->reason), "invalid snapshot path on tape: %s", e.msg);
		return -1;
	}
	s->dst = s->src;
	if (!tgt) {
		snprintf(s->reason, sizeof(s->reason), "no target datastore mapped for store '%s'", store);
		return -1;
	}
	for (int t = 0; t < P->ntargets; t++)
		if (!strcmp(P->targets[t], tgt))
			s->target = t;
	tp_datastore *ds = &J->ds[s->target];
	const char *authid = J->o->authid ? J->o->authid : "root@pam";
	const char *owner = J->o->owner ? J->o->owner : authid;
	char cur[TP_AUTHID_MAX + 1];
	if (tp_restore_check_target(J->o->check_priv, authid, owner, tgt, ds, s->dst.ns, &e) < 0) {
		s->state = TP_RS_FAILED;
		snprintf(s->reason, sizeof(s->reason), "%s", e.msg);
	} else if (tp_datastore_ns_exists(ds, s->dst.ns) && tp_group_owner(ds, &s->dst, cur, NULL) == 0 &&
		   !tp_owner_matches(owner, cur)) {
		snprintf(s->reason, sizeof(s->reason), "backup group %s/%s in %s is owned by %s, not %s", s->dst.type,
			 s->dst.id, tgt, cur, owner);
	} else if (tp_snapshot_exists(ds, &s->dst, NULL)) {
		snprintf(s->reason, sizeof(s->reason), "snapshot already exists in datastore %s", tgt);
	} else {
		s->state = TP_RS_FAILED; /* until a complete copy of its archive is staged */
		snprintf(s->reason, sizeof(s->reason), "its snapshot archive could not be read");
		*out = *s;
		return idx;
	}
	return -1;
}

static int scan_target(struct rjob *J, const char *store)
{
	const char *tgt = tp_store_map_target(J->map, store);
	for (int t = 0; tgt && t < J->plan.ntargets; t++)
		if (!strcmp(J->plan.targets[t], tgt))
			return t;
	return -1;
}

/* Reads files 2.. of the loaded tape to end of data: chunk archives into the targets, snapshot archives staged. */
static int scan_tape(struct rjob *J, tp_tape_session *S, const tp_restore_tape *T, tp_err *err)
{
	tp_tape_io io;
	tp_drive_tape_io(S->drive, &io);
	for (uint64_t file = 2;; file++) {
		pthread_mutex_lock(&J->mu);
		int stop = J->fatal;
		pthread_mutex_unlock(&J->mu);
		int r;
		if (stop || (r = tp_cancel_check(err)) < 0)
			return stop ? -TP_EABORT : r;
		tp_err e = { 0 };
		r = tp_drive_move_to_file(S->drive, file, &e);
		if (r == -ENOENT)
			return 0; /* past the last file */
		if (r < 0) {
			*err = e;
			return r;
		}
		tp_block_reader br;
		r = tp_block_reader_open(&br, &io, 0, &e);
		if (r == TP_BLOCK_OPEN_EOD)
			return 0;
		if (r == TP_BLOCK_OPEN_FILEMARK)
			continue; /* an empty file */
		tp_content_header h;
		json_t *hj = NULL;
		if (r == 0)
			r = tp_content_header_read_json(&br, &h, 1 << 20, &hj, &e);
		int kind = r == 0 ? tp_content_header_kind(&h) : -1;
		if (r == 0 && (kind == TP_MAGIC_CHUNK_ARCHIVE_1_0 || kind == TP_MAGIC_CHUNK_ARCHIVE_1_1)) {
			char store[TP_ARCHIVE_STORE_MAX + 1];
			int t = -1;
			if ((r = tp_chunk_archive_header_parse(hj, store, &e)) == 0 && (t = scan_target(J, store)) >= 0)
				r = pump_chunks(J, S, &br, file, UINT64_MAX, t, 0, &e);
		} else if (r == 0 && (kind == TP_MAGIC_SNAPSHOT_ARCHIVE_1_1 || kind == TP_MAGIC_SNAPSHOT_ARCHIVE_1_2)) {
			char store[TP_ARCHIVE_STORE_MAX + 1], path[TP_ARCHIVE_PATH_MAX + 1];
			if ((r = tp_snapshot_archive_header_parse(hj, store, path, &e)) == 0) {
				tp_restore_snap *copy = malloc(sizeof(*copy));
				pthread_mutex_lock(&J->mu);
				long i = copy ? scan_snap(J, store, path, copy) : -ENOMEM;
				pthread_mutex_unlock(&J->mu);
				if (i < -1)
					r = tp_err_set(&e, (int)i, "out of memory");
				if (i >= 0) {
					/* an INCOMPLETE copy (cut by early warning) fails here; the next tape has it whole */
					r = stage_scan_copy(J, i, copy, &br, (int)(S - J->sess), &e);
					pthread_mutex_lock(&J->mu);
					tp_restore_snap *s = &J->plan.snaps[i];
					if (r < 0 && s->state == TP_RS_FAILED) {
						snprintf(s->reason, sizeof(s->reason), "reading its snapshot archive (tape %s file %llu): %s",
							 T->label, (unsigned long long)file, e.msg);
					}
					pthread_mutex_unlock(&J->mu);
				}
				free(copy);
			}
		}
		/* catalog archives and unknown content are passed over */
		if (r < 0 && r != -TP_EABORT)
			tp_warn("tape %s file %llu: %s", T->label, (unsigned long long)file, e.msg);
		json_decref(hj);
		tp_block_reader_free(&br);
		if (r == -TP_EABORT) {
			*err = e;
			return r;
		}
	}
}

/* Mails a request for tape `label` to --notify-user, when one was given and a mail sender is configured. */
static void mail_request(struct rjob *J, const char *label, const char *where, const char *extra)
{
	if (!J->o->notify_user || !*J->o->notify_user) {
		tp_info("no --notify-user given: the request for tape %s was not mailed", label);
		return;
	}
	char subject[300], body[1024];
	snprintf(subject, sizeof(subject), "Load media '%s' request", label);
	snprintf(body, sizeof(body),
		 "The tape restore of media set %s (task %s) needs tape %s in %s.\n%s"
		 "Please insert it; the restore looks every few seconds and goes on by itself.\n",
		 J->set_text, J->o->lock_owner ? J->o->lock_owner : "-", label, where, extra);
	if (J->o->notify)
		J->o->notify(J->o->notify_user, subject, body);
	else
		tp_info("no mail sender here: the request for tape %s was not mailed to %s", label, J->o->notify_user);
}

/* A standalone drive needs the operator: task log, and a mail to --notify-user the first time. */
static void media_request(void *ctx, const char *label, const char *drive, const char *found, int first)
{
	struct rjob *J = ctx;
	if (first)
		tp_info("please insert tape %s into drive %s (restore of media set %s)", label, drive, J->set_text);
	if (found)
		tp_info("tape %s is in drive %s, waiting for %s", found[0] ? found : "(blank or unreadable)", drive, label);
	else if (!first)
		tp_info("drive %s is empty, waiting for %s", drive, label);
	if (!first)
		return;
	char where[TP_DRIVE_NAME_MAX + 8];
	snprintf(where, sizeof(where), "drive %s", drive);
	mail_request(J, label, where, found ? "The drive holds another tape now.\n" : "");
}

static void media_request_import(void *ctx, const char *label, const char *changer)
{
	struct rjob *J = ctx;
	tp_info("please insert tape %s into changer %s, e.g. into an import/export slot (restore of media set %s)", label,
		changer, J->set_text);
	char where[TP_DRIVE_NAME_MAX + 10];
	snprintf(where, sizeof(where), "changer %s", changer);
	mail_request(J, label, where, "It is not in the changer now (an import/export slot will do).\n");
}

static int media_abort(void *ctx, tp_err *err)
{
	struct rjob *J = ctx;
	pthread_mutex_lock(&J->mu);
	int stop = J->fatal;
	pthread_mutex_unlock(&J->mu);
	if (stop)
		return tp_err_set(err, -TP_EABORT, "another drive of the restore failed");
	return tp_cancel_check(err);
}

/*
 * Adds a finished part of the plan (`planned` bytes of it; `read` bytes the
 * drive actually read for it, labels and read-through gaps included) and, at
 * most every progress_every seconds (always when `force`), logs how far the
 * restore is and how fast the drives read.
 */
static void progress(struct rjob *J, uint64_t planned, uint64_t read, int force)
{
	pthread_mutex_lock(&J->mu);
	J->plan_done += planned;
	J->bytes_done += read;
	double now = tp_monotonic(), dt = now - J->t_start;
	/* at the pace so far, tape swaps and waits included: rough early on, honest about a slow drive */
	char t[16], left[32] = "";
	tp_time_left(dt, J->plan_done, J->bytes_planned, t);
	if (t[0])
		snprintf(left, sizeof(left), ", about %s left", t);
	if (J->bytes_planned) { /* the bar follows every range; the log gets a line every progress_every */
		char text[96];
		snprintf(text, sizeof(text), "%.1f of %.1f MiB%s", (double)J->plan_done / 1048576.0,
			 (double)J->bytes_planned / 1048576.0, left);
		tp_progress_bar_set((double)J->plan_done / (double)J->bytes_planned, text);
	}
	if (force || now - J->progress_last >= J->progress_every) {
		J->progress_last = now;
		double mib = (double)J->bytes_done / 1048576.0;
		double rate = mib / (dt > 1e-3 ? dt : 1e-3);
		if (J->bytes_planned)
			tp_info("progress: %.0f%% of the planned tape data (%.1f of %.1f MiB), %.1f MiB read at %.1f MiB/s, "
				"%llu chunks restored so far%s",
				100.0 * (double)J->plan_done / (double)J->bytes_planned, (double)J->plan_done / 1048576.0,
				(double)J->bytes_planned / 1048576.0, mib, rate, (unsigned long long)J->chunks_restored, left);
		else
			tp_info("progress: %.1f MiB read from tape at %.1f MiB/s, %llu chunks restored so far", mib, rate,
				(unsigned long long)J->chunks_restored);
	}
	pthread_mutex_unlock(&J->mu);
}

/* Bytes the session's drive has read in this restore (its counters survive an operator's tape change). */
static uint64_t drive_bytes(const tp_tape_session *S)
{
	return S->drive ? S->drive->counters.bytes_read : S->carrying ? S->carried.bytes_read : 0;
}

/* Reads tape T's planned ranges; *counted = the bytes already reported to progress(). */
static int restore_tape(struct rjob *J, tp_tape_session *S, const tp_restore_tape *T, uint64_t *counted, tp_err *err)
{
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set = 0;
	tp_info("loading tape %s (seq %llu) into drive %s", T->label, (unsigned long long)T->seq, S->name);
	tp_media_wait w = { .poll_ms = J->o->media_poll_ms, .timeout_s = J->o->media_wait_s, .request = media_request,
			    .request_import = media_request_import, .check_abort = media_abort, .ctx = J };
	int r = tp_tape_load_wait(S, T->label, T->media, &w, &ml, &msl, &has_set, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&J->mu);
	J->tapes_loaded++;
	pthread_mutex_unlock(&J->mu);
	if (!has_set || memcmp(msl.uuid, J->plan.set, 16)) {
		char got[37] = "none";
		if (has_set)
			tp_uuid_unparse(msl.uuid, got);
		if (has_set)
			tp_media_set_label_clear(&msl);
		return tp_err_set(err, -TP_EWRONGMEDIA, "tape %s belongs to media set %s, not %s", T->label, got,
				  J->set_text);
	}
	if (msl.has_fingerprint) { /* an encrypted set: the drive needs the set's key */
		uint8_t key[32];
		r = tp_tape_key_drive_key(msl.fingerprint, msl.uuid, key, err);
		if (r == 0)
			r = tp_drive_set_encryption(S->drive, key, err);
		memset(key, 0, sizeof(key));
		if (r < 0) {
			tp_media_set_label_clear(&msl);
			return tp_err_wrap(err, r, "tape %s", T->label);
		}
	}
	tp_media_set_label_clear(&msl);
	if (J->scan)
		return scan_tape(J, S, T, err);
	for (size_t k = T->first_read; k < T->first_read + T->nreads; k++) {
		const tp_restore_read *rd = &J->plan.reads[k];
		pthread_mutex_lock(&J->mu);
		int stop = J->fatal;
		pthread_mutex_unlock(&J->mu);
		if (stop || (r = tp_cancel_check(err)) < 0)
			return r < 0 ? r : -TP_EABORT;
		uint64_t before = drive_bytes(S);
		if ((r = seek_forward(J, S, rd->first_object, err)) < 0)
			return r;
		tp_err e = { 0 };
		if (rd->kind == TP_READ_SNAPSHOT) {
			r = read_snapshot(J, S, rd, &e);
			if (r < 0) {
				tp_restore_snap *s = &J->plan.snaps[rd->snap];
				pthread_mutex_lock(&J->mu);
				s->state = TP_RS_FAILED;
				snprintf(s->reason, sizeof(s->reason), "reading its snapshot archive: %s", e.msg);
				pthread_mutex_unlock(&J->mu);
				tp_warn("snapshot %s: %s", s->spec, s->reason);
			}
		} else {
			r = read_chunks(J, S, rd, &e);
			if (r == -TP_EABORT) {
				*err = e;
				return r;
			}
			if (r < 0) { /* a damaged range: its chunks stay missing, their snapshots fail */
				tp_warn("tape %s file %llu: %s", T->label, (unsigned long long)rd->file_nr, e.msg);
				note_unreadable(J, T->label, rd->file_nr, e.msg);
			}
		}
		uint64_t got = drive_bytes(S) - before; /* a gap read through counts too */
		*counted += got;
		progress(J, tp_restore_read_bytes(rd), got, 0);
		/* after an error the position is uncertain: the next read LOCATEs */
	}
	return 0;
}

struct drive_thread {
	struct rjob *J;
	int idx;
	pthread_t th;
	tp_thread_ctx ctx; /* the task's log and abort check, handed on to the drive's thread */
};

/* Drive d's i-th turn in its reading order (the tape found in the drive first, pass 0, then the others in sequence order). */
static int drive_turn(const struct rjob *J, int d, size_t i)
{
	size_t t = i % J->plan.ntapes;
	return J->plan.tapes[t].drive == d && J->plan.tapes[t].preloaded == (i < J->plan.ntapes);
}

static void *drive_main(void *arg)
{
	struct drive_thread *D = arg;
	struct rjob *J = D->J;
	tp_thread_ctx_set(&D->ctx);
	for (size_t i = 0; i < 2 * J->plan.ntapes; i++) {
		size_t t = i % J->plan.ntapes;
		if (!drive_turn(J, D->idx, i))
			continue;
		tp_err e = { 0 };
		tp_tape_session *S = &J->sess[D->idx];
		double t0 = tp_monotonic();
		uint64_t b0 = drive_bytes(S), counted = 0;
		int r = restore_tape(J, S, &J->plan.tapes[t], &counted, &e);
		if (r == 0) {
			/* the tape's own figures: loading and positioning included, so the rate is what the drive achieved */
			uint64_t got = drive_bytes(S) - b0;
			double dt = tp_monotonic() - t0, mib = (double)got / 1048576.0;
			tp_info("tape %s done in drive %s: %.1f MiB read in %.1f s (%.1f MiB/s)", J->plan.tapes[t].label, S->name,
				mib, dt, mib / (dt > 1e-3 ? dt : 1e-3));
			/* the labels read at the load; without a catalog the whole tape */
			progress(J, 0, got - counted, 1);
			/* a standalone drive hands the operator the finished tape when another is needed (the plan counts it) */
			size_t k = i + 1;
			while (k < 2 * J->plan.ntapes && !drive_turn(J, D->idx, k))
				k++;
			tp_err ue = { 0 };
			if (!S->changer && k < 2 * J->plan.ntapes && S->drive) {
				if (tp_tape_unload(S, &ue) == 0)
					tp_info("tape %s ejected from drive %s", J->plan.tapes[t].label, S->name);
				else /* the operator can still take it out by hand */
					tp_warn("ejecting tape %s from drive %s: %s", J->plan.tapes[t].label, S->name, ue.msg);
			}
		}
		if (r < 0) {
			pthread_mutex_lock(&J->mu);
			if (!J->fatal) {
				J->fatal = r;
				J->fatal_err = e;
			}
			pthread_mutex_unlock(&J->mu);
			break;
		}
	}
	return NULL;
}

/* ---- completeness and publishing ---- */

static int check_index_file(struct rjob *J, tp_restore_snap *s, const char *path, uint64_t *missing, uint8_t first[32])
{
	const char *ext = strrchr(path, '.');
	tp_fidx fx;
	tp_didx dx;
	int fixed = ext && !strcmp(ext, ".fidx");
	if (!ext || (!fixed && strcmp(ext, ".didx")))
		return 0;
	tp_err e = { 0 };
	int r = fixed ? tp_fidx_open(&fx, path, &e) : tp_didx_open(&dx, path, &e);
	if (r < 0) {
		snprintf(s->reason, sizeof(s->reason), "restored index %s: %s", strrchr(path, '/') + 1, e.msg);
		return r;
	}
	size_t n = fixed ? fx.count : dx.count;
	tp_chunk_store *cs = &J->ds[s->target].cs;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = fixed ? tp_fidx_digest(&fx, i) : tp_didx_digest(&dx, i);
		if (!tp_chunk_store_exists(cs, d)) {
			if (!*missing)
				memcpy(first, d, 32);
			(*missing)++;
		}
	}
	if (fixed)
		tp_fidx_close(&fx);
	else
		tp_didx_close(&dx);
	return 0;
}

static void publish(struct rjob *J, tp_restore_snap *s)
{
	char *dir = staging_path(J, s);
	tp_err e = { 0 };
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d) {
		s->state = TP_RS_FAILED;
		snprintf(s->reason, sizeof(s->reason), "its snapshot archive was not restored");
		free(dir);
		return;
	}
	uint64_t missing = 0;
	uint8_t first[32];
	int r = 0, has_manifest = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		has_manifest |= !strcmp(de->d_name, "index.json.blob");
		char *p = tp_path_join(dir, de->d_name);
		r = p ? check_index_file(J, s, p, &missing, first) : -ENOMEM;
		free(p);
	}
	closedir(d);
	if (r < 0) {
		s->state = TP_RS_FAILED;
		goto out;
	}
	if (!has_manifest) {
		s->state = TP_RS_FAILED;
		snprintf(s->reason, sizeof(s->reason), "its snapshot archive holds no manifest");
		goto out;
	}
	if (missing) {
		char hex[65];
		tp_hex_encode(first, 32, hex);
		s->state = TP_RS_FAILED;
		/* why that chunk is missing, when the restore knows: its write failed, its copy on tape was bad, or a range was unreadable */
		uint64_t v = 0;
		const char *sep = "", *why = "";
		if (tp_digest_set_get(&J->bad, first, &v)) {
			sep = ": ";
			why = v ? J->bad_msg[v - 1] : "it failed its check or could not be written";
		} else if (J->range_msg[0]) {
			sep = "; unreadable on tape: ";
			why = J->range_msg;
		}
		snprintf(s->reason, sizeof(s->reason), "%llu referenced chunk%s missing after reading the tapes (first: %s%s%s)",
			 (unsigned long long)missing, missing > 1 ? "s" : "", hex, sep, why);
		goto out;
	}
	tp_datastore *ds = &J->ds[s->target];
	const char *owner = J->o->owner ? J->o->owner : J->o->authid;
	tp_lock gl = TP_LOCK_INIT;
	char cur[TP_AUTHID_MAX + 1];
	if ((r = tp_datastore_ns_create(ds, s->dst.ns, 1, &e)) < 0 ||
	    (r = tp_group_create_locked(ds, &s->dst, owner, cur, &gl, &e)) < 0) {
		s->state = TP_RS_FAILED;
		snprintf(s->reason, sizeof(s->reason), "%s", e.msg);
		goto out;
	}
	if (!tp_owner_matches(owner, cur)) {
		s->state = TP_RS_SKIPPED;
		snprintf(s->reason, sizeof(s->reason), "backup group owned by %s, not %s", cur, owner);
	} else if ((r = tp_snapshot_publish(ds, dir, &s->dst, &e)) < 0) {
		s->state = r == -TP_EEXISTS ? TP_RS_SKIPPED : TP_RS_FAILED;
		snprintf(s->reason, sizeof(s->reason), "%s", e.msg);
	} else {
		s->state = TP_RS_RESTORED;
	}
	tp_lock_release(&gl);
out:
	free(dir);
}

/* ---- the run ---- */

/*
 * The plan of a full restore without a catalog: Tape.Read checked as the
 * planner does, every tape of the set from the inventory in sequence order
 * (all must be known), the targets of the store map.
 */
static int scan_plan(struct rjob *J, tp_inventory *inv, const uint8_t set[16], const char *pool, tp_err *err)
{
	const tp_tape_restore_opts *o = J->o;
	tp_restore_plan *P = &J->plan;
	const char *authid = o->authid ? o->authid : "root@pam";
	int r = tp_restore_check_tape_read(o->check_priv, authid, pool, o->drives, o->ndrives, err);
	if (r < 0)
		return r;
	memcpy(P->set, set, 16);
	P->full = 1;
	const char *names[TP_RESTORE_MAX_MAP + 1];
	int nn = 0;
	for (int i = 0; i < J->map->n; i++)
		names[nn++] = J->map->dst[i];
	if (J->map->def[0])
		names[nn++] = J->map->def;
	for (int i = 0; i < nn; i++) {
		int dup = 0;
		for (int t = 0; t < P->ntargets; t++)
			dup |= !strcmp(P->targets[t], names[i]);
		if (!dup)
			snprintf(P->targets[P->ntargets++], sizeof(P->targets[0]), "%s", names[i]);
	}
	tp_media_set ms;
	if ((r = tp_inventory_media_set(inv, set, &ms, err)) < 0)
		return r;
	P->tapes = calloc(ms.n ? ms.n : 1, sizeof(*P->tapes));
	if (!P->tapes)
		r = tp_err_set(err, -ENOMEM, "out of memory");
	for (size_t k = 0; r == 0 && k < ms.n; k++) {
		if (!ms.present[k]) {
			r = tp_err_set(err, -TP_ENOTFOUND, "media set %s: tape with sequence number %zu is not in the inventory",
				       J->set_text, k);
			break;
		}
		tp_restore_tape *T = &P->tapes[P->ntapes++];
		T->seq = k;
		memcpy(T->media, ms.members[k], 16);
		const tp_inventory_entry *e = tp_inventory_find(inv, T->media);
		snprintf(T->label, sizeof(T->label), "%s", e ? e->label.label_text : "?");
		T->drive = (int)(k % (size_t)o->ndrives);
	}
	tp_media_set_free(&ms);
	if (r == 0)
		tp_info("media set %s has no local catalog: full restore reading every file of its %zu tape(s)",
			J->set_text, P->ntapes);
	return r;
}

/*
 * The label of the tape in each of our drives ("" when empty, "?" when the
 * drive holds one it cannot name without reading it), and in `other` (up to TP_RESTORE_MAX_OTHER)
 * those in the drives of our changers that the restore does not use: a
 * needed one is taken out of there, which the estimate counts from where
 * it stands (other_pos; asked of that drive only for tapes of this set).
 */
#define TP_RESTORE_MAX_OTHER 64
static size_t loaded_labels(struct rjob *J, const tp_inventory *inv, const uint8_t set[16],
			    char labels[][TP_LABEL_TEXT_MAX + 1], char other[][TP_LABEL_TEXT_MAX + 1], uint64_t *other_pos)
{
	size_t nother = 0;
	for (int i = 0; i < J->nsess; i++) {
		tp_tape_session *S = &J->sess[i];
		labels[i][0] = 0;
		tp_drive_status ds;
		if (!S->changer && S->drive && tp_drive_get_status(S->drive, &ds, NULL) == 0 && ds.loaded)
			snprintf(labels[i], sizeof(labels[i]), "%s", ds.label[0] ? ds.label : "?");
		if (!J->cst_ok[i])
			continue;
		const tp_changer_status *st = &J->cst[i];
		int first = 1; /* the drives of a changer are listed once, by its first session */
		for (int k = 0; k < i; k++)
			if (J->sess[k].changer && !strcmp(J->sess[k].changer_name, S->changer_name))
				first = 0;
		for (size_t k = 0; k < st->ndrives; k++) {
			if (!st->drives[k].full)
				continue;
			const char *l = st->drives[k].label[0] ? st->drives[k].label : "?";
			int ours = 0;
			for (int m = 0; m < J->nsess; m++)
				if (J->sess[m].changer && !strcmp(J->sess[m].changer_name, S->changer_name) &&
				    st->drives[k].number == (unsigned)J->sess[m].drivenum)
					ours = 1;
			if (st->drives[k].number == (unsigned)S->drivenum)
				snprintf(labels[i], sizeof(labels[i]), "%s", l);
			else if (!ours && first && nother < TP_RESTORE_MAX_OTHER) {
				const tp_inventory_entry *e = tp_inventory_find_label(inv, l);
				other_pos[nother] = TP_RESTORE_POS_UNKNOWN; /* kept when that drive is busy or cannot say */
				if (e && e->has_set && !memcmp(e->set.uuid, set, 16))
					tp_tape_changer_drive_pos(S, (int)st->drives[k].number, &other_pos[nother], NULL);
				snprintf(other[nother++], sizeof(other[0]), "%s", l);
			}
		}
	}
	return nother;
}

/*
 * A needed tape already in one of our drives is read by that drive,
 * first: no robot move and no load for it, and no drive thread has to take
 * it out of a drive another thread of this restore holds.  The planner pins
 * them (the estimate knows); the scan plan of a set without catalog here.
 */
static void claim_loaded_tapes(struct rjob *J, char labels[][TP_LABEL_TEXT_MAX + 1])
{
	for (int i = 0; i < J->nsess; i++)
		for (size_t t = 0; labels[i][0] && t < J->plan.ntapes; t++) {
			tp_restore_tape *T = &J->plan.tapes[t];
			if (strcmp(T->label, labels[i]))
				continue;
			tp_info("tape %s is in drive %s already: it is read there first", T->label, J->sess[i].name);
			T->drive = i;
			T->preloaded = 1;
		}
}

/*
 * A planned tape that is not in its drive's changer (in the vault, taken
 * out of the mailslot) is named up front, with the whole list of what is
 * needed, so the operator can fetch it before the restore gets there; when
 * it does, the restore asks for it and waits (changer_wait).
 */
static void mark_offline_tapes(struct rjob *J)
{
	for (size_t t = 0; t < J->plan.ntapes; t++) {
		tp_restore_tape *T = &J->plan.tapes[t];
		if (T->drive < 0 || T->drive >= J->nsess || !J->cst_ok[T->drive])
			continue;
		T->offline = !tp_changer_status_has_label(&J->cst[T->drive], T->label);
		if (T->offline)
			tp_info("tape %s (seq %llu) is not in changer %s: put it in before the restore gets there, or "
				"the restore will ask for it and wait", T->label, (unsigned long long)T->seq,
				J->sess[T->drive].changer_name);
	}
}

static void cleanup_staging(struct rjob *J)
{
	for (int t = 0; t < J->plan.ntargets; t++)
		if (J->staging[t])
			tp_rm_rf(J->staging[t], NULL);
}

/* The options' media set, store map and namespace mappings parsed; the drives checked. */
static int parse_request(const tp_tape_restore_opts *o, uint8_t set[16], tp_store_map *map, tp_ns_map nsm[16],
			 tp_err *err)
{
	int r;
	if (tp_uuid_parse(o->media_set, set) < 0)
		return tp_err_set(err, -EINVAL, "invalid media set uuid '%s'", o->media_set);
	if ((r = tp_store_map_parse(o->store_map, map, err)) < 0)
		return r;
	if (o->nnamespaces > 16)
		return tp_err_set(err, -E2BIG, "at most 16 --namespaces");
	for (int i = 0; i < o->nnamespaces; i++)
		if ((r = tp_ns_map_parse(o->namespaces[i], &nsm[i], err)) < 0)
			return r;
	if ((r = tp_tape_restore_check_drives(o->drives, o->ndrives, err)) < 0)
		return r;
	for (int i = 0; i < o->ndrives; i++)
		if ((r = tp_tape_config_check_drive(o->drives[i], err)) < 0)
			return r;
	return 0;
}

static int media_set_of(tp_inventory *inv, const uint8_t set[16], tp_media_set *ms, tp_err *err)
{
	int r = tp_inventory_media_set(inv, set, ms, err);
	if (r < 0) {
		char u[37];
		tp_uuid_unparse(set, u);
		return tp_err_set(err, r, "media set %s is not in the inventory", u);
	}
	return 0;
}

int tp_tape_restore_check(const tp_tape_restore_opts *o, tp_err *err)
{
	uint8_t set[16];
	tp_store_map map;
	tp_ns_map nsm[16];
	tp_inventory inv;
	tp_media_set ms;
	int r = parse_request(o, set, &map, nsm, err);
	if (r < 0 || (r = tp_inventory_open(&inv, NULL, NULL, err)) < 0)
		return r;
	if ((r = media_set_of(&inv, set, &ms, err)) == 0)
		tp_media_set_free(&ms);
	tp_inventory_close(&inv);
	return r;
}

int tp_tape_restore_run(const tp_tape_restore_opts *o, tp_tape_restore_result *res, tp_err *err)
{
	struct rjob *J = calloc(1, sizeof(*J));
	if (!J)
		return tp_err_set(err, -ENOMEM, "out of memory");
	memset(res, 0, sizeof(*res));
	res->restored = json_array();
	res->skipped = json_object();
	res->failed = json_object();
	J->o = o;
	J->res = res;
	pthread_mutex_init(&J->mu, NULL);
	tp_store_map map;
	tp_ns_map nsm[16];
	uint8_t set[16];
	tp_inventory inv;
	int inv_open = 0, work_started = 0, nworkers = 0, r;
	tp_lock set_lock = TP_LOCK_INIT;
	tp_catalog_db *db = NULL;
	pthread_t workers[8];
	if ((r = parse_request(o, set, &map, nsm, err)) < 0)
		goto out;
	tp_uuid_unparse(set, J->set_text);
	if ((r = tp_inventory_open(&inv, NULL, o->lock_owner, err)) < 0)
		goto out;
	inv_open = 1;
	tp_media_set ms;
	if ((r = media_set_of(&inv, set, &ms, err)) < 0)
		goto out;
	char pool[TP_POOL_NAME_MAX + 1];
	snprintf(pool, sizeof(pool), "%s", ms.pool);
	tp_media_set_free(&ms);
	/* held for the whole restore: no backup may reuse this set meanwhile */
	if ((r = tp_inventory_lock_media_set(&inv, set, -1, &set_lock, err)) < 0)
		goto out;
	if ((r = tp_catalog_open(&db, NULL, err)) < 0)
		goto out;
	/* drives first: the model scales by the cartridge size of the first drive */
	for (int i = 0; i < o->ndrives; i++) {
		if ((r = tp_tape_session_open(&J->sess[i], o->drives[i], o->lock_owner, -1, err)) < 0)
			goto out;
		J->nsess++;
	}
	J->media_bytes = J->sess[0].drive->media_bytes;
	const tp_lto_gen *gen = tp_lto_gen_get(o->lto_gen ? o->lto_gen : 9);
	J->gen = gen;
	J->map = &map;
	{
		char cpool[65];
		int64_t cctime;
		/* no catalog for the set: a full restore still works, reading every file */
		if (o->nsnapshots == 0 && o->nnamespaces == 0 &&
		    tp_catalog_get_media_set(db, set, cpool, &cctime, NULL) == -TP_ENOTFOUND)
			J->scan = 1;
	}
	tp_restore_request req = { .set = set, .map = &map, .snapshots = o->snapshots, .nsnapshots = o->nsnapshots,
				   .ns = nsm, .nns = o->nnamespaces, .authid = o->authid ? o->authid : "root@pam",
				   .check_priv = o->check_priv, .owner = o->owner, .pool = pool, .drives = o->drives, .ndrives = o->ndrives,
				   .gen = gen, .media_bytes = J->media_bytes };
	for (int i = 0; i < J->nsess && i < 32; i++)
		if (!J->sess[i].changer)
			req.standalone |= 1u << i; /* the operator swaps tapes: no robot time in the estimate */
	char labels[8][TP_LABEL_TEXT_MAX + 1], other[TP_RESTORE_MAX_OTHER][TP_LABEL_TEXT_MAX + 1];
	const char *loaded[8], *elsewhere[TP_RESTORE_MAX_OTHER];
	for (int i = 0; i < J->nsess; i++)
		J->cst_ok[i] = J->sess[i].changer && tp_changer_get_status(J->sess[i].changer, &J->cst[i], NULL) == 0;
	uint64_t other_pos[TP_RESTORE_MAX_OTHER];
	size_t nother = loaded_labels(J, &inv, set, labels, other, other_pos);
	for (int i = 0; i < J->nsess; i++)
		loaded[i] = labels[i];
	for (size_t i = 0; i < nother; i++)
		elsewhere[i] = other[i];
	uint64_t pos[8];
	for (int i = 0; i < J->nsess && i < 8; i++) {
		const tp_drive *dr = J->sess[i].drive;
		pos[i] = dr && dr->loaded && dr->pos_known ? tp_drive_pos_blocks(&dr->pos) * (uint64_t)TP_TAPE_BLOCK_SIZE
							  : TP_RESTORE_POS_UNKNOWN;
	}
	req.loaded = loaded;
	req.loaded_pos = pos;
	req.elsewhere = elsewhere;
	req.elsewhere_pos = other_pos;
	req.nelsewhere = nother;
	if (J->scan) {
		if ((r = scan_plan(J, &inv, set, pool, err)) < 0)
			goto out;
		claim_loaded_tapes(J, labels);
		mark_offline_tapes(J);
		res->plan = tp_restore_plan_json(&J->plan);
		json_object_set_new(res->plan, "catalog", json_false());
	} else {
		if ((r = tp_restore_plan_build(db, &req, &J->plan, err)) < 0)
			goto out;
		claim_loaded_tapes(J, labels);
		mark_offline_tapes(J);
		res->plan = tp_restore_plan_json(&J->plan);
		json_object_set_new(res->plan, "catalog", json_true());
	}
	if (!J->scan) {
		/* for the benchmark: what the 2021 three-phase design would do with the same selection */
		tp_tape_counters pc;
		tp_lto_estimate pe;
		if (tp_restore_plan_pbs2021(db, &J->plan, &req, &pc, &pe, NULL) == 0)
			json_object_set_new(res->plan, "pbs-2021",
					    json_pack("{s:I,s:I,s:I,s:I,s:f}", "tape_loads", (json_int_t)pc.loads, "changer_moves",
						      (json_int_t)(pc.loads + pc.unloads), "tape_locates",
						      (json_int_t)pc.locates, "bytes_read_from_tape", (json_int_t)pc.bytes_read,
						      "simulated_tape_seconds", pe.total_s));
	}
	if (!J->scan)
		res->chunks_present = J->plan.chunks_present;
	/* the required media, up front */
	for (size_t t = 0; t < J->plan.ntapes; t++)
		tp_info("required tape %s (seq %llu): %llu reads, %llu bytes, drive %s%s", J->plan.tapes[t].label,
			(unsigned long long)J->plan.tapes[t].seq, (unsigned long long)J->plan.tapes[t].nreads,
			(unsigned long long)J->plan.tapes[t].bytes, o->drives[J->plan.tapes[t].drive],
			J->plan.tapes[t].preloaded ? " (in that drive already)"
			: J->plan.tapes[t].elsewhere ? " (in another drive of the changer: taken out of it first)" : "");
	tp_info("plan: %llu chunks to read, %llu already in the target, %llu bytes needed, estimated %.0f s of tape time",
		(unsigned long long)J->plan.chunks_needed, (unsigned long long)J->plan.chunks_present,
		(unsigned long long)J->plan.bytes_needed, J->plan.estimate.total_s);
	if (o->dry_run) {
		res->simulated_tape_seconds = J->plan.estimate.total_s;
		res->simulated_elapsed_seconds = J->plan.elapsed_s;
		goto summary;
	}
	/* targets: shared chunk-store locks for the whole run, fresh staging */
	for (int t = 0; t < J->plan.ntargets; t++) {
		if ((r = tp_datastore_open(&J->ds[t], J->plan.targets[t], err)) < 0)
			goto out;
		J->ds_open[t] = 1;
		if ((r = tp_chunk_store_lock(&J->ds[t].cs, 0, 10000, err)) < 0)
			goto out;
		if ((r = tp_chunk_store_flush_behind(&J->ds[t].cs, flush_every(), err)) < 0)
			goto out;
		if ((r = tp_datastore_staging_dir(&J->ds[t], J->set_text, &J->staging[t], err)) < 0)
			goto out;
		/* we hold the media-set lock: anything staged for this set is from a crashed run */
		if ((r = tp_rm_rf(J->staging[t], err)) < 0 || (r = tp_mkdir_p(J->staging[t], 0750, err)) < 0)
			goto out;
	}
	for (int i = 0; i < J->nsess; i++) {
		tp_drive_reset_counters(J->sess[i].drive);
		if (J->sess[i].changer)
			memset(&J->sess[i].changer->counters, 0, sizeof(J->sess[i].changer->counters));
	}
	if (tp_queue_init(&J->work, 16) < 0) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	work_started = 1;
	int nw = o->workers > 0 && o->workers <= 8 ? o->workers : 2;
	for (; nworkers < nw; nworkers++)
		if (pthread_create(&workers[nworkers], NULL, worker_main, J) != 0)
			break;
	J->t_start = J->progress_last = tp_monotonic();
	J->progress_every = progress_every();
	for (size_t t = 0; !J->scan && t < J->plan.ntapes; t++)
		J->bytes_planned += J->plan.tapes[t].bytes;
	struct drive_thread dt[8];
	for (int i = 0; i < J->nsess; i++) {
		dt[i] = (struct drive_thread){ J, i, 0, { 0 } };
		tp_thread_ctx_get(&dt[i].ctx);
		if (pthread_create(&dt[i].th, NULL, drive_main, &dt[i]) != 0) {
			dt[i].th = 0;
			drive_main(&dt[i]);
		}
	}
	for (int i = 0; i < J->nsess; i++)
		if (dt[i].th)
			pthread_join(dt[i].th, NULL);
	tp_queue_close(&J->work);
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	nworkers = 0;
	uint64_t moves = 0;
	double elapsed = 0;
	for (int i = 0; i < J->nsess; i++) {
		const tp_tape_counters *dc = NULL;
		if (J->sess[i].drive)
			dc = &J->sess[i].drive->counters;
		else if (J->sess[i].carrying) /* an operator wait ended without the drive back */
			dc = &J->sess[i].carried;
		uint64_t dmoves = J->sess[i].changer ? J->sess[i].changer->counters.moves : 0;
		moves += dmoves;
		if (!dc)
			continue;
		tp_tape_counters_add(&J->counters, dc);
		/* each session has its own changer handle, so its moves are the ones made for this drive */
		tp_lto_estimate de;
		tp_lto_estimate_counters(gen, dc, J->media_bytes, &de);
		double ds = de.total_s + (double)dmoves * TP_LTO_CHANGER_MOVE_S;
		if (ds > elapsed)
			elapsed = ds;
	}
	if (J->fatal) {
		r = J->fatal;
		*err = J->fatal_err;
		goto out;
	}
	/* the inserted chunks are on disk before any snapshot that references them appears (PBS's "filesystem" sync level) */
	for (int t = 0; t < J->plan.ntargets; t++) {
		tp_err e = { 0 };
		if (!J->ds_open[t] || tp_chunk_store_sync(&J->ds[t].cs, &e) == 0)
			continue;
		for (size_t i = 0; i < J->plan.nsnaps; i++) {
			tp_restore_snap *s = &J->plan.snaps[i];
			if (s->state == TP_RS_PENDING && s->target == t) {
				s->state = TP_RS_FAILED;
				snprintf(s->reason, sizeof(s->reason), "%s", e.msg);
			}
		}
	}
	for (size_t i = 0; i < J->plan.nsnaps; i++) {
		tp_restore_snap *s = &J->plan.snaps[i];
		if (s->state == TP_RS_PENDING)
			publish(J, s);
	}
	if (J->scan) { /* the snapshots became known while reading */
		json_decref(res->plan);
		res->plan = tp_restore_plan_json(&J->plan);
		json_object_set_new(res->plan, "catalog", json_false());
	}
	tp_lto_estimate est;
	tp_lto_estimate_counters(gen, &J->counters, J->media_bytes, &est);
	/* the robot's moves cost as much as in the plan's estimate and the 2021 emulation */
	res->simulated_tape_seconds = est.total_s + (double)moves * TP_LTO_CHANGER_MOVE_S;
	res->simulated_elapsed_seconds = elapsed;
	res->changer_moves = moves;
	res->tape_loads = J->tapes_loaded;
	res->tape_locates = J->counters.locates;
	res->bytes_read_from_tape = J->counters.bytes_read;
	res->chunks_restored = J->chunks_restored;
summary:
	for (size_t i = 0; i < J->plan.nsnaps; i++) {
		tp_restore_snap *s = &J->plan.snaps[i];
		if (s->state == TP_RS_RESTORED)
			json_array_append_new(res->restored, json_string(s->spec));
		else if (s->state == TP_RS_SKIPPED)
			json_object_set_new(res->skipped, s->spec, json_string(s->reason));
		else if (s->state == TP_RS_FAILED)
			json_object_set_new(res->failed, s->spec, json_string(s->reason));
		if (s->state == TP_RS_RESTORED)
			tp_info("restored %s", s->spec);
		else if (s->state != TP_RS_PENDING)
			tp_info("%s %s: %s", s->state == TP_RS_SKIPPED ? "skipped" : "failed", s->spec, s->reason);
	}
	r = 0;
	if (json_object_size(res->failed))
		r = tp_err_set(err, -TP_EDIGEST, "%zu snapshot(s) failed: %s: %s", json_object_size(res->failed),
			       json_object_iter_key(json_object_iter(res->failed)),
			       json_string_value(json_object_iter_value(json_object_iter(res->failed))));
out:
	if (work_started) {
		tp_queue_close(&J->work);
		for (int i = 0; i < nworkers; i++)
			pthread_join(workers[i], NULL);
		struct witem *it;
		while ((it = tp_queue_pop(&J->work))) {
			free(it->blob);
			free(it);
		}
		tp_queue_destroy(&J->work);
	}
	cleanup_staging(J);
	for (int t = 0; t < TP_RESTORE_MAX_TARGETS; t++) {
		free(J->staging[t]);
		if (J->ds_open[t])
			tp_datastore_close(&J->ds[t]);
	}
	for (int i = 0; i < J->nsess; i++) {
		if (J->cst_ok[i])
			tp_changer_status_free(&J->cst[i]);
		tp_tape_session_close(&J->sess[i]);
	}
	tp_catalog_close(db);
	tp_lock_release(&set_lock);
	if (inv_open)
		tp_inventory_close(&inv);
	tp_restore_plan_free(&J->plan);
	tp_digest_set_free(&J->bad);
	while (J->nspare)
		tp_buf_free(&J->spare[--J->nspare]);
	pthread_mutex_destroy(&J->mu);
	free(J);
	return r;
}

void tp_tape_restore_result_free(tp_tape_restore_result *res)
{
	json_decref(res->restored);
	json_decref(res->skipped);
	json_decref(res->failed);
	json_decref(res->plan);
	memset(res, 0, sizeof(*res));
}

json_t *tp_tape_restore_result_json(const tp_tape_restore_result *res, const char *upid, double seconds)
{
	json_t *o = json_pack("{s:s?,s:O,s:O,s:O,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:f}", "upid", upid, "restored", res->restored,
			      "skipped", res->skipped, "failed", res->failed, "tape_loads", (json_int_t)res->tape_loads,
			      "changer_moves", (json_int_t)res->changer_moves,
			      "tape_locates", (json_int_t)res->tape_locates, "bytes_read_from_tape",
			      (json_int_t)res->bytes_read_from_tape, "chunks_restored", (json_int_t)res->chunks_restored,
			      "chunks_present", (json_int_t)res->chunks_present, "simulated_tape_seconds",
			      res->simulated_tape_seconds, "simulated_elapsed_seconds", res->simulated_elapsed_seconds, "seconds",
			      seconds);
	if (o && res->plan)
		json_object_set(o, "plan", res->plan);
	return o;
}

int tp_tape_restore_check_drives(const char *const *drives, int n, tp_err *err)
{
	if (n < 1 || n > 8)
		return tp_err_set(err, -EINVAL, "give 1 to 8 drives (--drive)");
	/* else the second session would wait 10 s for the lock the first holds, then blame the restore itself */
	for (int i = 0; i < n; i++)
		for (int k = 0; k < i; k++)
			if (!strcmp(drives[i], drives[k]))
				return tp_err_set(err, -EINVAL, "drive %s is given twice", drives[i]);
	return 0;
}

void tp_tape_restore_notify_result(const tp_tape_restore_opts *o, const tp_tape_restore_result *res, int r,
				   const char *status, double seconds)
{
	if (!o->notify_user || !o->notify || o->dry_run)
		return;
	json_t *sum = tp_tape_restore_result_json(res, o->lock_owner, seconds);
	json_object_del(sum, "plan");
	char *s = sum ? tp_json_compact(sum) : NULL;
	char subject[200];
	char *body = tp_strdup_printf("Tape restore of media set %s into %s\nTask: %s\nResult: %s\n%s\n", o->media_set,
				      o->store_map, o->lock_owner ? o->lock_owner : "", status, s ? s : "");
	snprintf(subject, sizeof(subject), "Tape restore %s: %s", o->media_set, r < 0 ? "failed" : "finished");
	o->notify(o->notify_user, subject, body ? body : status);
	free(body);
	free(s);
	json_decref(sum);
}
