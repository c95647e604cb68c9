/* Restore planning (see restore_plan.h). */
#include "tape/restore_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/hex.h"
#include "format/media_label.h"
#include "format/tape_block.h"
#include "format/tape_io.h"
#include "tape/inventory.h"

/* ---- maps ---- */

int tp_store_map_parse(const char *s, tp_store_map *m, tp_err *err)
{
	memset(m, 0, sizeof(*m));
	char buf[4096];
	if (!*s || strlen(s) >= sizeof(buf))
		return tp_err_set(err, -EINVAL, "invalid datastore map '%s'", s);
	strcpy(buf, s);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		const char *dst = eq ? eq + 1 : t;
		int r = tp_valid_store_name(dst, err);
		if (r < 0)
			return tp_err_wrap(err, r, "datastore map '%s'", s);
		if (!eq) {
			if (m->def[0])
				return tp_err_set(err, -EINVAL, "datastore map '%s': more than one default target", s);
			snprintf(m->def, sizeof(m->def), "%s", dst);
			continue;
		}
		*eq = 0;
		if (!*t || strlen(t) > 255 || strchr(t, ':') || strchr(t, '/'))
			return tp_err_set(err, -EINVAL, "datastore map '%s': bad source store '%s'", s, t);
		if (m->n >= TP_RESTORE_MAX_MAP)
			return tp_err_set(err, -E2BIG, "datastore map '%s': too many entries", s);
		for (int i = 0; i < m->n; i++)
			if (!strcmp(m->src[i], t))
				return tp_err_set(err, -EINVAL, "datastore map '%s': source '%s' mapped twice", s, t);
		snprintf(m->src[m->n], sizeof(m->src[0]), "%s", t);
		snprintf(m->dst[m->n], sizeof(m->dst[0]), "%s", dst);
		m->n++;
	}
	return 0;
}

const char *tp_store_map_target(const tp_store_map *m, const char *src)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->src[i], src))
			return m->dst[i];
	return m->def[0] ? m->def : NULL;
}

int tp_ns_map_parse(const char *s, tp_ns_map *m, tp_err *err)
{
	memset(m, 0, sizeof(*m));
	m->max_depth = -1;
	char buf[1024];
	if (strlen(s) >= sizeof(buf))
		return tp_err_set(err, -EINVAL, "--namespaces: value too long");
	strcpy(buf, s);
	char *save = NULL;
	int r;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '=');
		if (!eq)
			return tp_err_set(err, -EINVAL, "--namespaces '%s': expected key=value, got '%s'", s, t);
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(t, "store")) {
			if (!*v || strlen(v) > 255)
				return tp_err_set(err, -EINVAL, "--namespaces '%s': bad store", s);
			snprintf(m->store, sizeof(m->store), "%s", v);
		} else if (!strcmp(t, "source") || !strcmp(t, "target")) {
			if ((r = tp_valid_ns(v, err)) < 0)
				return tp_err_wrap(err, r, "--namespaces '%s'", s);
			if (!strcmp(t, "source"))
				snprintf(m->source, sizeof(m->source), "%s", v);
			else {
				snprintf(m->target, sizeof(m->target), "%s", v);
				m->has_target = 1;
			}
		} else if (!strcmp(t, "max-depth")) {
			char *end;
			long d = strtol(v, &end, 10);
			if (*end || d < 0 || d > TP_NS_MAX_DEPTH)
				return tp_err_set(err, -EINVAL, "--namespaces '%s': max-depth must be 0..%d", s, TP_NS_MAX_DEPTH);
			m->max_depth = (int)d;
		} else {
			return tp_err_set(err, -EINVAL, "--namespaces '%s': unknown key '%s'", s, t);
		}
	}
	if (!m->store[0])
		return tp_err_set(err, -EINVAL, "--namespaces '%s': store= is required", s);
	return 0;
}

/* ns below (or equal to) prefix: returns the remainder depth, or -1. */
static int ns_below(const char *ns, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if (n == 0) {
		*rest = ns;
		return tp_ns_depth(ns);
	}
	if (strncmp(ns, prefix, n) || (ns[n] && ns[n] != '/'))
		return -1;
	*rest = ns[n] ? ns + n + 1 : "";
	return tp_ns_depth(*rest);
}

/* ---- plan building ---- */

/*
 * One chunk to read.  A full restore of a large set has tens of millions, so
 * 32 bytes and no digest: the digest lives once, in plan->needed, whose value
 * holds this entry's index while planning.
 */
struct need {
	int64_t offset;           /* entry's stream offset in its chunk archive */
	int64_t file_first_block; /* the archive's first block */
	uint32_t seq;             /* tape's sequence number in the set */
	uint32_t file_nr;
	uint32_t size;            /* entry header + blob */
	uint16_t store;           /* index into builder.stores: the source datastore of its chunk archive */
	uint8_t live;             /* 0 when dropped (its snapshot failed before use) */
};

/* plan->needed values while planning: (need index + 1) << 32 | target mask */
#define NEED_INDEX(v) ((v) >> 32)

struct builder {
	tp_catalog_db *db;
	const tp_restore_request *req;
	tp_restore_plan *plan;
	size_t cap_snaps;
	struct need *needs;
	size_t nneeds, cap_needs;
	char (*stores)[256];   /* source datastore names the needs refer to by index */
	size_t nstores;
	tp_datastore ds[TP_RESTORE_MAX_TARGETS];
	int ds_open[TP_RESTORE_MAX_TARGETS];
	/* per snapshot being processed */
	tp_restore_snap *cur;
	uint64_t missing, present;
	int cur_store;         /* its source store's index in stores */
	tp_buf added;          /* 32-byte digests planned before for which it set its target's bit: undone if it fails */
	size_t mark;           /* needs from this index on are the current snapshot's */
	size_t dropped;        /* needs dropped with failed snapshots */
	int bad_loc;           /* the catalog gave a location out of range */
};

static tp_restore_snap *add_snap(struct builder *B)
{
	tp_restore_plan *P = B->plan;
	if (P->nsnaps == B->cap_snaps) {
		size_t nc = B->cap_snaps ? B->cap_snaps * 2 : 16;
		tp_restore_snap *ns = realloc(P->snaps, nc * sizeof(*ns));
		if (!ns)
			return NULL;
		P->snaps = ns;
		B->cap_snaps = nc;
	}
	tp_restore_snap *s = &P->snaps[P->nsnaps++];
	memset(s, 0, sizeof(*s));
	s->target = -1;
	return s;
}

static void snap_fail(tp_restore_snap *s, enum tp_restore_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void snap_fail(tp_restore_snap *s, enum tp_restore_state st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->reason, sizeof(s->reason), fmt, ap);
	va_end(ap);
	s->state = st;
}

struct list_ctx {
	struct builder *B;
	const tp_ns_map *map; /* NULL: whole set */
};

static int on_listed(void *ctx, const tp_snapshot_loc *loc)
{
	struct list_ctx *L = ctx;
	tp_restore_snap *s = add_snap(L->B);
	if (!s)
		return -ENOMEM;
	s->loc = *loc;
	snprintf(s->store, sizeof(s->store), "%s", loc->store);
	snprintf(s->path, sizeof(s->path), "%s", loc->path);
	snprintf(s->spec, sizeof(s->spec), "%s:%s", loc->store, loc->path);
	if (tp_snapshot_ref_parse(loc->path, &s->src, NULL) < 0) {
		snap_fail(s, TP_RS_FAILED, "invalid snapshot path in the catalog");
		return 0;
	}
	s->dst = s->src;
	if (L->map) {
		const char *rest;
		int depth = ns_below(s->src.ns, L->map->source, &rest);
		if (depth < 0 || (L->map->max_depth >= 0 && depth > L->map->max_depth)) {
			L->B->plan->nsnaps--; /* outside this mapping */
			return 0;
		}
		if (L->map->has_target) {
			char t[TP_NS_MAX_LEN + 2];
			int n = snprintf(t, sizeof(t), "%s%s%s", L->map->target, *L->map->target && *rest ? "/" : "", rest);
			if (n >= (int)sizeof(t) || tp_valid_ns(t, NULL) < 0) {
				snap_fail(s, TP_RS_FAILED, "mapped namespace too long or too deep");
				return 0;
			}
			snprintf(s->dst.ns, sizeof(s->dst.ns), "%s", t);
		}
	}
	return 0;
}

static int target_index(struct builder *B, const char *name, tp_err *err)
{
	tp_restore_plan *P = B->plan;
	for (int i = 0; i < P->ntargets; i++)
		if (!strcmp(P->targets[i], name))
			return i;
	if (P->ntargets >= TP_RESTORE_MAX_TARGETS)
		return tp_err_set(err, -E2BIG, "too many target datastores");
	int i = P->ntargets;
	int r = tp_datastore_open(&B->ds[i], name, err);
	if (r < 0)
		return r;
	B->ds_open[i] = 1;
	snprintf(P->targets[i], sizeof(P->targets[i]), "%s", name);
	P->ntargets++;
	return i;
}

/* The index of source store `name` in B->stores, added when new; < 0 on failure. */
static int store_index(struct builder *B, const char *name)
{
	for (size_t i = 0; i < B->nstores; i++)
		if (!strcmp(B->stores[i], name))
			return (int)i;
	if (B->nstores >= UINT16_MAX)
		return -E2BIG;
	char(*ns)[256] = realloc(B->stores, (B->nstores + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	B->stores = ns;
	snprintf(B->stores[B->nstores], sizeof(B->stores[0]), "%s", name);
	return (int)B->nstores++;
}

static int on_digest(void *ctx, const uint8_t d[32], const tp_chunk_loc *loc, size_t n)
{
	struct builder *B = ctx;
	tp_restore_snap *s = B->cur;
	s->nchunks++;
	tp_chunk_store *cs = &B->ds[s->target].cs;
	uint64_t *v = tp_digest_set_ref(&B->plan->needed, d);
	uint64_t bit = 1ULL << s->target;
	if (v && *v) { /* already planned for some target (0: dropped with a failed snapshot, plan it again) */
		if (!(*v & bit)) {
			if (tp_chunk_store_exists(cs, d)) {
				B->present++;
			} else {
				if (tp_buf_append(&B->added, d, 32) < 0)
					return -ENOMEM;
				*v |= bit;
			}
		}
		return 0;
	}
	if (tp_chunk_store_exists(cs, d)) {
		B->present++;
		return 0;
	}
	if (n == 0) {
		B->missing++;
		return 0;
	}
	tp_chunk_loc l = loc[0];
	for (size_t i = 1; i < n && i < TP_CATALOG_LOCS_MAX; i++) /* prefer a copy with a known position */
		if (l.offset < 0 && loc[i].offset >= 0)
			l = loc[i];
	if (l.seq_nr > UINT32_MAX || l.file_nr > UINT32_MAX || l.size > (int64_t)UINT32_MAX) {
		B->bad_loc = 1;
		return -TP_EFORMAT;
	}
	if (B->nneeds == B->cap_needs) { /* 1.5x: the slack of a large plan is memory nobody uses */
		size_t nc = B->cap_needs ? B->cap_needs + B->cap_needs / 2 : 1024;
		struct need *nn = realloc(B->needs, nc * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		B->needs = nn;
		B->cap_needs = nc;
	}
	struct need *x = &B->needs[B->nneeds];
	*x = (struct need){ .offset = l.offset, .file_first_block = l.file_first_block, .seq = (uint32_t)l.seq_nr,
			    .file_nr = (uint32_t)l.file_nr, .size = (uint32_t)l.size, .store = (uint16_t)B->cur_store,
			    .live = 1 };
	if (v)
		*v = ((uint64_t)(B->nneeds + 1) << 32) | bit;
	else if (tp_digest_set_add(&B->plan->needed, d, ((uint64_t)(B->nneeds + 1) << 32) | bit) < 0)
		return -ENOMEM;
	B->nneeds++;
	return 0;
}

/* A failed snapshot's chunks again: forget the needs it created (the entries from B->mark on). */
static int on_undo(void *ctx, const uint8_t d[32])
{
	struct builder *B = ctx;
	uint64_t *v = tp_digest_set_ref(&B->plan->needed, d);
	if (v && NEED_INDEX(*v) > B->mark)
		*v = 0;
	return 0;
}

static int check_snapshot(struct builder *B, tp_restore_snap *s, tp_err *err)
{
	const tp_restore_request *req = B->req;
	const char *tgt = tp_store_map_target(req->map, s->store);
	if (!tgt) {
		snap_fail(s, TP_RS_SKIPPED, "no target datastore mapped for store '%s'", s->store);
		return 0;
	}
	tp_err e = { 0 };
	int t = target_index(B, tgt, &e);
	if (t < 0) {
		if (t == -TP_ENOTFOUND || t == -EINVAL) {
			snap_fail(s, TP_RS_FAILED, "%s", e.msg);
			return 0;
		}
		*err = e;
		return t;
	}
	s->target = t;
	tp_datastore *ds = &B->ds[t];
	const char *owner = req->owner ? req->owner : req->authid;
	if (tp_restore_check_target(req->check_priv, req->authid, owner, tgt, ds, s->dst.ns, &e) < 0) {
		snap_fail(s, TP_RS_FAILED, "%s", e.msg);
		return 0;
	}
	char cur[TP_AUTHID_MAX + 1];
	if (tp_datastore_ns_exists(ds, s->dst.ns) && tp_group_owner(ds, &s->dst, cur, NULL) == 0 &&
	    !tp_owner_matches(owner, cur)) {
		snap_fail(s, TP_RS_SKIPPED, "backup group %s/%s in %s is owned by %s, not %s", s->dst.type, s->dst.id, tgt,
			  cur, owner);
		return 0;
	}
	if (tp_snapshot_exists(ds, &s->dst, NULL)) {
		snap_fail(s, TP_RS_SKIPPED, "snapshot already exists in datastore %s", tgt);
		return 0;
	}
	if (!s->loc.chunks_known) {
		snap_fail(s, TP_RS_FAILED,
			  "the catalog does not know this snapshot's chunks (imported PBS catalog); run 'tapir tape catalog --scan'");
		return 0;
	}
	B->cur = s;
	B->missing = B->present = 0;
	tp_buf_reset(&B->added);
	if ((B->cur_store = store_index(B, s->store)) < 0)
		return tp_err_set(err, B->cur_store, "restore plan: too many source datastores or out of memory");
	B->mark = B->nneeds;
	int r = tp_catalog_snapshot_chunk_locs(B->db, s->loc.id, B->req->set, s->store, on_digest, B, err);
	if (r < 0) {
		if (B->bad_loc)
			tp_err_set(err, r, "catalog of media set: a chunk of %s:%s has a location out of range", s->store,
				   s->path);
		return r;
	}
	if (B->missing) {
		/* its new needs are dropped; a later snapshot referencing one of them plans it again */
		if ((r = tp_catalog_snapshot_chunks(B->db, s->loc.id, on_undo, B, err)) < 0)
			return r;
		for (size_t i = B->mark; i < B->nneeds; i++)
			B->needs[i].live = 0;
		B->dropped += B->nneeds - B->mark;
		/* and the chunks other snapshots planned are not written to its target for nothing */
		for (size_t i = 0; i + 32 <= B->added.len; i += 32) {
			uint64_t *v = tp_digest_set_ref(&B->plan->needed, B->added.data + i);
			if (v)
				*v &= ~(1ULL << s->target);
		}
		snap_fail(s, TP_RS_FAILED, "%llu of its chunks are not in the media set's catalog",
			  (unsigned long long)B->missing);
		return 0;
	}
	B->plan->chunks_present += B->present;
	return 0;
}

static int need_cmp(const void *a, const void *b)
{
	const struct need *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->file_nr != y->file_nr)
		return x->file_nr < y->file_nr ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int read_cmp(const void *a, const void *b)
{
	const tp_restore_read *x = a, *y = b;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->first_object < y->first_object ? -1 : x->first_object > y->first_object;
}

static int push_read(tp_restore_plan *P, size_t *cap, const tp_restore_read *rd)
{
	if (P->nreads == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		tp_restore_read *n = realloc(P->reads, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		P->reads = n;
		*cap = nc;
	}
	P->reads[P->nreads++] = *rd;
	return 0;
}

struct file_find {
	uint64_t file_nr;
	tp_tape_file f;
	int found;
};

static int on_file(void *ctx, const tp_tape_file *f)
{
	struct file_find *F = ctx;
	if (f->file_nr == F->file_nr) {
		F->f = *f;
		F->found = 1;
		return 1;
	}
	return 0;
}

static const tp_lto_gen *gen_of(const tp_restore_request *req)
{
	return req->gen ? req->gen : tp_lto_gen_get(9);
}

/*
 * Two ranges of one file are merged when the whole blocks between them cost
 * no more to read than a LOCATE over them (tp_lto_read_through, the same
 * scaled model as the estimate and the executor's seek_forward).  Ranges
 * that touch the same or adjacent blocks are always merged: nothing lies
 * between them to skip.
 */
static int gap_worth_reading(const tp_restore_request *req, uint64_t prev_end, uint64_t next_start)
{
	uint64_t last = tp_tape_block_of(prev_end > 0 ? prev_end - 1 : 0), next = tp_tape_block_of(next_start);
	if (next <= last + 1)
		return 1;
	return tp_lto_read_through(gen_of(req), (next - last - 1) * TP_TAPE_BLOCK_SIZE, req->media_bytes);
}

static int build_reads(struct builder *B, tp_err *err)
{
	tp_restore_plan *P = B->plan;
	size_t cap = 0;
	/* chunk reads: per tape file, ranges of needed entries */
	size_t live = 0;
	for (size_t i = 0; i < B->nneeds; i++)
		if (B->needs[i].live)
			B->needs[live++] = B->needs[i];
	B->nneeds = live;
	/*
	 * The executor reads plan->needed: values become target masks, and the
	 * entries of failed snapshots go — by a copy only when there are any,
	 * since a copy doubles the plan's largest allocation.
	 */
	size_t pos = 0;
	if (B->dropped) {
		tp_digest_set keep = TP_DIGEST_SET_INIT;
		uint64_t val;
		for (const uint8_t *d; (d = tp_digest_set_next(&P->needed, &pos, &val));)
			if (val && tp_digest_set_add(&keep, d, val & TP_RESTORE_MASK) < 0) {
				tp_digest_set_free(&keep);
				return tp_err_set(err, -ENOMEM, "out of memory");
			}
		tp_digest_set_free(&P->needed);
		P->needed = keep;
	} else {
		for (const uint8_t *d; (d = tp_digest_set_next(&P->needed, &pos, NULL));)
			*tp_digest_set_ref(&P->needed, d) &= TP_RESTORE_MASK;
	}
	qsort(B->needs, B->nneeds, sizeof(*B->needs), need_cmp);
	for (size_t i = 0; i < B->nneeds;) {
		struct need *n = &B->needs[i];
		if (n->offset < 0 || n->file_first_block < 0)
			return tp_err_set(err, -TP_EFORMAT,
					  "chunk position unknown in the catalog (imported PBS catalog); run 'tapir tape catalog --scan'");
		tp_restore_read rd = { .seq = n->seq, .file_nr = n->file_nr, .file_first_block = n->file_first_block,
				       .kind = TP_READ_CHUNKS, .start = (uint64_t)n->offset,
				       .end = (uint64_t)n->offset + n->size, .snap = -1 };
		snprintf(rd.store, sizeof(rd.store), "%s", B->stores[n->store]);
		rd.useful = n->size;
		P->chunks_needed++;
		P->bytes_needed += n->size;
		size_t j = i + 1;
		while (j < B->nneeds && B->needs[j].seq == rd.seq && B->needs[j].file_nr == rd.file_nr) {
			uint64_t s = (uint64_t)B->needs[j].offset;
			if (s > rd.end && !gap_worth_reading(B->req, rd.end, s))
				break;
			uint64_t e = s + B->needs[j].size;
			if (e > rd.end)
				rd.end = e;
			rd.useful += B->needs[j].size;
			P->chunks_needed++;
			P->bytes_needed += B->needs[j].size;
			j++;
		}
		rd.first_object = (uint64_t)rd.file_first_block + tp_tape_block_of(rd.start);
		rd.nobjects = tp_tape_block_of(rd.end - 1) - tp_tape_block_of(rd.start) + 1;
		if (push_read(P, &cap, &rd) < 0)
			return tp_err_set(err, -ENOMEM, "out of memory");
		i = j;
	}
	/* snapshot archives: whole files */
	for (size_t i = 0; i < P->nsnaps; i++) {
		tp_restore_snap *s = &P->snaps[i];
		if (s->state != TP_RS_PENDING)
			continue;
		struct file_find F = { .file_nr = s->loc.file_nr };
		int r = tp_catalog_list_tape_files(B->db, s->loc.media, on_file, &F, err);
		if (r < 0)
			return r;
		if (!F.found || F.f.first_block < 0 || F.f.nblocks < 0) {
			snap_fail(s, TP_RS_FAILED, "position of its snapshot archive unknown; run 'tapir tape catalog --scan'");
			continue;
		}
		tp_restore_read rd = { .seq = s->loc.seq_nr, .file_nr = s->loc.file_nr, .file_first_block = F.f.first_block,
				       .kind = TP_READ_SNAPSHOT, .start = 0,
				       .end = (uint64_t)F.f.nblocks * TP_TAPE_BLOCK_PAYLOAD,
				       .first_object = (uint64_t)F.f.first_block, .nobjects = (uint64_t)F.f.nblocks + 1,
				       .snap = (int)i };
		rd.useful = rd.end;
		snprintf(rd.store, sizeof(rd.store), "%s", s->store);
		P->bytes_needed += (uint64_t)F.f.nblocks * TP_TAPE_BLOCK_SIZE;
		if (push_read(P, &cap, &rd) < 0)
			return tp_err_set(err, -ENOMEM, "out of memory");
	}
	qsort(P->reads, P->nreads, sizeof(*P->reads), read_cmp);
	return 0;
}

/* object after the label files (media label, filemark, media-set label, filemark): where a load leaves the tape */
#define FIRST_DATA_OBJECT 4

/* Where the drive stands after read rd: past the archive's filemark when the reader reached the archive's end. */
static uint64_t pos_after(const tp_restore_read *rd)
{
	return rd->first_object + rd->nobjects + (rd->to_file_end ? 1 : 0);
}

struct file_ends {
	tp_buf ends; /* (file_nr, end object) pairs of one tape's chunk archives */
};

static int on_file_end(void *ctx, const tp_tape_file *f)
{
	struct file_ends *F = ctx;
	if (f->kind != TP_TAPE_FILE_CHUNK_ARCHIVE || f->first_block < 0 || f->nblocks < 0)
		return 0;
	uint64_t pair[2] = { f->file_nr, (uint64_t)(f->first_block + f->nblocks) };
	return tp_buf_append(&F->ends, pair, sizeof(pair)) < 0 ? -ENOMEM : 0;
}

/* Marks the chunk reads of tape t that end with their archive (to_file_end). */
static int mark_file_ends(struct builder *B, tp_restore_tape *t, tp_err *err)
{
	struct file_ends F = { TP_BUF_INIT };
	int r = tp_catalog_list_tape_files(B->db, t->media, on_file_end, &F, err);
	for (size_t k = t->first_read; r >= 0 && k < t->first_read + t->nreads; k++) {
		tp_restore_read *rd = &B->plan->reads[k];
		for (size_t i = 0; rd->kind == TP_READ_CHUNKS && i + 16 <= F.ends.len; i += 16) {
			uint64_t pair[2];
			memcpy(pair, F.ends.data + i, sizeof(pair));
			if (pair[0] == rd->file_nr) {
				rd->to_file_end = rd->first_object + rd->nobjects == pair[1];
				break;
			}
		}
	}
	tp_buf_free(&F.ends);
	return r < 0 ? r : 0;
}

static int build_tapes(struct builder *B, tp_err *err)
{
	tp_restore_plan *P = B->plan;
	tp_inventory inv;
	int r = tp_inventory_open(&inv, NULL, NULL, err);
	if (r < 0)
		return r;
	tp_media_set ms;
	int have_ms = tp_inventory_media_set(&inv, B->req->set, &ms, NULL) == 0;
	for (size_t i = 0; i < P->nreads;) {
		size_t j = i;
		while (j < P->nreads && P->reads[j].seq == P->reads[i].seq)
			j++;
		tp_restore_tape *nt = realloc(P->tapes, (P->ntapes + 1) * sizeof(*nt));
		if (!nt) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		P->tapes = nt;
		tp_restore_tape *t = &P->tapes[P->ntapes++];
		memset(t, 0, sizeof(*t));
		t->seq = P->reads[i].seq;
		t->first_read = i;
		t->nreads = j - i;
		t->drive = (int)((P->ntapes - 1) % (size_t)(B->req->ndrives > 0 ? B->req->ndrives : 1));
		if (!have_ms || t->seq >= ms.n || !ms.present[t->seq]) {
			r = tp_err_set(err, -TP_ENOTFOUND, "media set: tape with sequence number %llu is not in the inventory",
				       (unsigned long long)t->seq);
			break;
		}
		memcpy(t->media, ms.members[t->seq], 16);
		const tp_inventory_entry *e = tp_inventory_find(&inv, t->media);
		snprintf(t->label, sizeof(t->label), "%s", e ? e->label.label_text : "?");
		if ((r = mark_file_ends(B, t, err)) < 0)
			break;
		uint64_t pos = FIRST_DATA_OBJECT;
		for (size_t k = i; k < j; k++) {
			t->bytes += tp_restore_read_bytes(&P->reads[k]);
			t->blocks += tp_restore_read_bytes(&P->reads[k]) / TP_TAPE_BLOCK_SIZE;
			if (P->reads[k].first_object != pos)
				t->locates++;
			pos = pos_after(&P->reads[k]);
		}
		i = j;
	}
	if (have_ms)
		tp_media_set_free(&ms);
	tp_inventory_close(&inv);
	return r;
}

/*
 * Byte position for the model of an object in file file_nr.  Filemarks are
 * objects but take (almost) no tape — one ends each of the file_nr files
 * before it — so they are not counted: counted, the continuous reads of a
 * nearly full cartridge would run past its end.  Clamped to the cartridge
 * all the same.
 */
static uint64_t model_pos(const tp_restore_request *req, uint64_t object, uint64_t file_nr, uint64_t len)
{
	uint64_t pos = (object > file_nr ? object - file_nr : 0) * TP_TAPE_BLOCK_SIZE;
	if (req->media_bytes && pos + len > req->media_bytes)
		pos = req->media_bytes > len ? req->media_bytes - len : 0;
	return pos;
}

static uint64_t model_len(const tp_restore_request *req, uint64_t len)
{
	return req->media_bytes && len > req->media_bytes ? req->media_bytes : len;
}

/* A read that continues from model position mpos, clamped to the cartridge (filemarks overshoot, see model_pos). */
static uint64_t model_read(const tp_restore_request *req, uint64_t *mpos, uint64_t len)
{
	if (req->media_bytes && len > req->media_bytes - (*mpos < req->media_bytes ? *mpos : req->media_bytes))
		len = req->media_bytes - (*mpos < req->media_bytes ? *mpos : req->media_bytes);
	*mpos += len;
	return len;
}

/* media label and media-set label: one block each, read at every load */
#define LABEL_BYTES (2ull * TP_TAPE_BLOCK_SIZE)
/* a tape found in a drive that cannot say where it stands: its rewind is charged the shortest, as the executor counts it */
#define UNKNOWN_POS 1

/* Model position of the tape in restore drive d when the plan is made. */
static uint64_t model_at(uint64_t p)
{
	return p == TP_RESTORE_POS_UNKNOWN ? UNKNOWN_POS : p;
}

static uint64_t loaded_pos(const tp_restore_request *req, int d)
{
	return model_at(req->loaded_pos ? req->loaded_pos[d] : TP_RESTORE_POS_UNKNOWN);
}

static void estimate_add(tp_lto_estimate *sum, const tp_lto_estimate *e)
{
	sum->load_s += e->load_s;
	sum->unload_s += e->unload_s;
	sum->rewind_s += e->rewind_s;
	sum->locate_s += e->locate_s;
	sum->space_s += e->space_s;
	sum->read_s += e->read_s;
	sum->write_s += e->write_s;
	sum->changer_s += e->changer_s;
	sum->total_s += e->total_s;
}

/*
 * The model steps of making a tape ready, appended at st: the tape before
 * (when one is loaded) is unloaded — rewind, eject — and moved back to its
 * slot; a tape in another drive of the changer (elsewhere) is unloaded
 * there and moved back to its slot first; then this one is moved in,
 * loaded and its two labels read (tapir and PBS's request_and_load_media
 * check them at every load).  Robot moves only with a changer.  Returns the
 * number of steps (at most LOAD_STEPS_MAX).
 */
#define LOAD_STEPS_MAX 8
static size_t load_steps(tp_lto_step *st, int loaded, int robot, int elsewhere, uint64_t elsewhere_pos)
{
	size_t n = 0;
	if (loaded) {
		st[n++] = (tp_lto_step){ TP_LTO_STEP_UNLOAD, 0 };
		if (robot)
			st[n++] = (tp_lto_step){ TP_LTO_STEP_CHANGER_MOVE, 0 };
	}
	if (robot && elsewhere) {
		st[n++] = (tp_lto_step){ TP_LTO_STEP_IN_DRIVE, model_at(elsewhere_pos) };
		st[n++] = (tp_lto_step){ TP_LTO_STEP_UNLOAD, 0 };
		st[n++] = (tp_lto_step){ TP_LTO_STEP_CHANGER_MOVE, 0 };
	}
	if (robot)
		st[n++] = (tp_lto_step){ TP_LTO_STEP_CHANGER_MOVE, 0 };
	st[n++] = (tp_lto_step){ TP_LTO_STEP_LOAD, 0 };
	st[n++] = (tp_lto_step){ TP_LTO_STEP_READ, LABEL_BYTES };
	return n;
}

/*
 * The model steps of tape t appended at st: made ready (load_steps), then
 * its locates and reads.  Returns the number of steps (at most
 * LOAD_STEPS_MAX + 2 per read).
 */
static size_t tape_steps(const tp_restore_plan *P, const tp_restore_request *req, size_t t, int loaded, int robot,
			 tp_lto_step *st)
{
	size_t n = 0;
	if (P->tapes[t].preloaded) { /* in the drive already: back to BOT and its labels read again, nothing moves */
		uint64_t at = loaded_pos(req, P->tapes[t].drive);
		st[n++] = (tp_lto_step){ TP_LTO_STEP_IN_DRIVE, at };
		if (at)
			st[n++] = (tp_lto_step){ TP_LTO_STEP_REWIND, 0 };
		st[n++] = (tp_lto_step){ TP_LTO_STEP_READ, LABEL_BYTES };
	} else {
		n = load_steps(st, loaded, robot, P->tapes[t].elsewhere, P->tapes[t].elsewhere_pos);
	}
	uint64_t pos = FIRST_DATA_OBJECT, mpos = LABEL_BYTES;
	for (size_t k = P->tapes[t].first_read; k < P->tapes[t].first_read + P->tapes[t].nreads; k++) {
		const tp_restore_read *rd = &P->reads[k];
		uint64_t len = model_len(req, tp_restore_read_bytes(rd)); /* a filemark takes no tape */
		if (rd->first_object != pos) {
			mpos = model_pos(req, rd->first_object, rd->file_nr, len);
			st[n++] = (tp_lto_step){ TP_LTO_STEP_LOCATE, mpos };
		}
		st[n++] = (tp_lto_step){ TP_LTO_STEP_READ, model_read(req, &mpos, len) };
		pos = pos_after(rd);
	}
	return n;
}

/*
 * A needed tape already in one of the restore's changer drives stays
 * there: that drive reads it first, without a load (and without the
 * unload and reload a tape read later in sequence order would cost).  One
 * in a drive the restore does not use is taken out of there before its
 * load: the estimate counts that unload and move.
 */
static void pin_loaded(tp_restore_plan *P, const tp_restore_request *req)
{
	int ndrives = req->ndrives > 0 ? req->ndrives : 1;
	for (int d = 0; req->loaded && d < ndrives; d++) {
		const char *l = req->loaded[d];
		for (size_t t = 0; l && *l && t < P->ntapes; t++)
			if (!P->tapes[t].preloaded && !strcmp(P->tapes[t].label, l)) {
				P->tapes[t].drive = d;
				P->tapes[t].preloaded = 1;
				break;
			}
	}
	for (size_t i = 0; req->elsewhere && i < req->nelsewhere; i++)
		for (size_t t = 0; req->elsewhere[i] && t < P->ntapes; t++)
			if (!P->tapes[t].preloaded && !strcmp(P->tapes[t].label, req->elsewhere[i])) {
				P->tapes[t].elsewhere = 1;
				P->tapes[t].elsewhere_pos = req->elsewhere_pos ? req->elsewhere_pos[i] : TP_RESTORE_POS_UNKNOWN;
			}
}

/*
 * Several drives: each tape goes to the drive with the least estimated
 * work so far, the longest tapes first (LPT), so that the slowest drive —
 * the elapsed time — finishes as early as the tapes allow; round robin put
 * a small tape beside the largest one.  A tape already in a drive stays
 * there (pin_loaded) and counts as that drive's work from the start.  Each
 * drive reads its tapes in sequence order after that one.  Ties go to the
 * lower drive and tape, so the plan is deterministic.
 */
static int assign_drives(tp_restore_plan *P, const tp_restore_request *req, tp_err *err)
{
	int ndrives = req->ndrives > 0 ? req->ndrives : 1, r = 0;
	pin_loaded(P, req);
	if (ndrives < 2 || P->ntapes < 2) {
		for (size_t t = 0; t < P->ntapes; t++)
			if (!P->tapes[t].preloaded)
				P->tapes[t].drive = 0;
		return 0;
	}
	size_t maxreads = 0;
	for (size_t t = 0; t < P->ntapes; t++)
		if (P->tapes[t].nreads > maxreads)
			maxreads = P->tapes[t].nreads;
	tp_lto_step *st = calloc(LOAD_STEPS_MAX + 2 * maxreads, sizeof(*st));
	double *cost = calloc(P->ntapes, sizeof(*cost)), load[64] = { 0 };
	size_t *order = calloc(P->ntapes, sizeof(*order));
	if (!st || !cost || !order) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (ndrives > 64)
		ndrives = 64;
	for (size_t t = 0; r == 0 && t < P->ntapes; t++) {
		tp_lto_estimate e;
		size_t n = tape_steps(P, req, t, 0, !(req->standalone & 1u), st); /* the swap costs every tape the same */
		if ((r = tp_lto_estimate_plan(gen_of(req), st, n, req->media_bytes, &e, err)) == 0)
			cost[t] = e.total_s;
		order[t] = t;
	}
	if (r < 0)
		goto out;
	for (size_t i = 1; i < P->ntapes; i++) /* insertion sort: longest first, then sequence order */
		for (size_t j = i; j > 0 && cost[order[j]] > cost[order[j - 1]]; j--) {
			size_t x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	for (size_t t = 0; t < P->ntapes; t++)
		if (P->tapes[t].preloaded && P->tapes[t].drive < 64)
			load[P->tapes[t].drive] += cost[t];
	for (size_t i = 0; i < P->ntapes; i++) {
		if (P->tapes[order[i]].preloaded)
			continue;
		int best = 0;
		for (int d = 1; d < ndrives; d++)
			if (load[d] < load[best])
				best = d;
		P->tapes[order[i]].drive = best;
		load[best] += cost[order[i]];
	}
out:
	free(st);
	free(cost);
	free(order);
	return r;
}

/* Whether drive d holds a tape the restore does not read there (unloaded before its first load; by the robot or, standalone, ejected for the operator). */
static int holds_other_tape(const tp_restore_plan *P, const tp_restore_request *req, int d)
{
	if (!req->loaded || !req->loaded[d] || !*req->loaded[d])
		return 0;
	for (size_t t = 0; t < P->ntapes; t++)
		if (P->tapes[t].preloaded && P->tapes[t].drive == d)
			return 0;
	return 1;
}

/*
 * The plan under the model, drive by drive: a tape is moved in by the
 * changer and loaded; the one before it — also a tape the drive held when
 * the restore began — is unloaded (rewind, eject) and moved back first; the
 * last tape of each drive stays in it, as the executor leaves it.  The same
 * accounting as the 2021 emulation and the executor's counters
 * (tp_tape_load counts the unload before a swap).
 */
static int estimate(tp_restore_plan *P, const tp_restore_request *req, tp_err *err)
{
	int ndrives = req->ndrives > 0 ? req->ndrives : 1, r = 0;
	size_t cap = (size_t)ndrives + P->ntapes * LOAD_STEPS_MAX + P->nreads * 2;
	tp_lto_step *st = calloc(cap, sizeof(*st));
	tp_lto_estimate *out = &P->estimate;
	memset(out, 0, sizeof(*out));
	P->elapsed_s = 0;
	if (!st)
		return tp_err_set(err, -ENOMEM, "out of memory");
	for (int d = 0; r == 0 && d < ndrives; d++) {
		size_t n = 0;
		int loaded = 0, robot = d >= 32 || !(req->standalone & (1u << d));
		for (int pass = 0; pass < 2; pass++) /* the tape in the drive first, as the executor reads them */
			for (size_t t = 0; t < P->ntapes; t++) {
				if (P->tapes[t].drive != d || P->tapes[t].preloaded != !pass)
					continue;
				if (!n && holds_other_tape(P, req, d)) {
					st[n++] = (tp_lto_step){ TP_LTO_STEP_IN_DRIVE, loaded_pos(req, d) };
					loaded = 1;
				}
				n += tape_steps(P, req, t, loaded, robot, st + n);
				loaded = 1;
			}
		tp_lto_estimate e;
		if (n && (r = tp_lto_estimate_plan(gen_of(req), st, n, req->media_bytes, &e, err)) == 0) {
			estimate_add(out, &e);
			/* a shared robot serialises moves; at 26 s each against loads and reads, ignored */
			if (e.total_s > P->elapsed_s)
				P->elapsed_s = e.total_s;
		}
	}
	free(st);
	return r;
}

int tp_restore_plan_build(tp_catalog_db *db, const tp_restore_request *req, tp_restore_plan *plan, tp_err *err)
{
	struct builder B;
	memset(&B, 0, sizeof(B));
	memset(plan, 0, sizeof(*plan));
	B.db = db;
	B.req = req;
	B.plan = plan;
	memcpy(plan->set, req->set, 16);
	char pool[65];
	int64_t ctime;
	char su[37];
	tp_uuid_unparse(req->set, su);
	int r = tp_catalog_get_media_set(db, req->set, pool, &ctime, err);
	if (r == -TP_ENOTFOUND) {
		r = tp_err_set(err, -TP_ENOTFOUND,
			       "media set %s has no local catalog: run 'tapir tape catalog --drive D' with its tapes "
			       "(a full restore of the set works without one)", su);
		goto out;
	}
	if (r < 0)
		goto out;
	if ((r = tp_restore_check_tape_read(req->check_priv, req->authid, req->pool ? req->pool : pool, req->drives,
					    req->ndrives, err)) < 0)
		goto out;
	/* selection */
	for (int i = 0; i < req->nsnapshots; i++) {
		tp_restore_snap *s = add_snap(&B);
		if (!s) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		const char *spec = req->snapshots[i];
		snprintf(s->spec, sizeof(s->spec), "%s", spec);
		const char *colon = strchr(spec, ':');
		tp_err e = { 0 };
		if (!colon || colon == spec || (size_t)(colon - spec) > 255) {
			snap_fail(s, TP_RS_FAILED, "malformed snapshot '%s' (expected store:[ns/A/]type/id/time)", spec);
			continue;
		}
		snprintf(s->store, sizeof(s->store), "%.*s", (int)(colon - spec), spec);
		snprintf(s->path, sizeof(s->path), "%s", colon + 1);
		if (tp_snapshot_ref_parse(s->path, &s->src, &e) < 0) {
			snap_fail(s, TP_RS_FAILED, "malformed snapshot '%s': %s", spec, e.msg);
			continue;
		}
		tp_snapshot_ref_path(&s->src, s->path, sizeof(s->path)); /* canonical form */
		s->dst = s->src;
		r = tp_catalog_lookup_snapshot(db, req->set, s->store, s->path, &s->loc, &e);
		if (r == -TP_ENOTFOUND) {
			snap_fail(s, TP_RS_FAILED, "not in media set %s", su);
			r = 0;
			continue;
		}
		if (r < 0) {
			*err = e;
			goto out;
		}
		for (int k = 0; k < req->nns; k++) { /* a namespace mapping of its store applies */
			const char *rest;
			if (strcmp(req->ns[k].store, s->store) || !req->ns[k].has_target ||
			    ns_below(s->src.ns, req->ns[k].source, &rest) < 0)
				continue;
			snprintf(s->dst.ns, sizeof(s->dst.ns), "%s%s%s", req->ns[k].target,
				 *req->ns[k].target && *rest ? "/" : "", rest);
			break;
		}
	}
	if (req->nsnapshots == 0) {
		if (req->nns == 0) {
			plan->full = 1;
			struct list_ctx L = { &B, NULL };
			if ((r = tp_catalog_list_snapshots(db, req->set, NULL, NULL, on_listed, &L, err)) < 0)
				goto out;
		}
		for (int k = 0; k < req->nns; k++) {
			struct list_ctx L = { &B, &req->ns[k] };
			if ((r = tp_catalog_list_snapshots(db, req->set, req->ns[k].store, req->ns[k].source, on_listed, &L,
							   err)) < 0)
				goto out;
		}
	}
	/* checks and chunk needs */
	for (size_t i = 0; i < plan->nsnaps; i++) {
		if (plan->snaps[i].state != TP_RS_PENDING)
			continue;
		for (size_t k = 0; k < i; k++) { /* the same snapshot twice */
			const tp_restore_snap *a = &plan->snaps[k], *b = &plan->snaps[i];
			if (a->state != TP_RS_PENDING || strcmp(a->spec, b->spec))
				continue;
			/* PBS restores into every namespace that several mappings give; tapir into the first (docs/tape-restore.md) */
			if (strcmp(a->dst.ns, b->dst.ns))
				snap_fail(&plan->snaps[i], TP_RS_SKIPPED,
					  "also mapped to namespace '%s' by another --namespaces entry: restored once, into '%s'",
					  b->dst.ns, a->dst.ns);
			else
				snap_fail(&plan->snaps[i], TP_RS_SKIPPED, "given twice");
			break;
		}
		if (plan->snaps[i].state != TP_RS_PENDING)
			continue;
		if ((r = check_snapshot(&B, &plan->snaps[i], err)) < 0)
			goto out;
	}
	if ((r = build_reads(&B, err)) < 0 || (r = build_tapes(&B, err)) < 0 ||
	    (r = assign_drives(plan, req, err)) < 0 || (r = estimate(plan, req, err)) < 0)
		goto out;
out:
	for (int i = 0; i < TP_RESTORE_MAX_TARGETS; i++)
		if (B.ds_open[i])
			tp_datastore_close(&B.ds[i]);
	free(B.needs);
	free(B.stores);
	tp_buf_free(&B.added);
	return r;
}

void tp_restore_plan_free(tp_restore_plan *plan)
{
	free(plan->snaps);
	free(plan->reads);
	free(plan->tapes);
	tp_digest_set_free(&plan->needed);
	memset(plan, 0, sizeof(*plan));
}

static const char *state_name(enum tp_restore_state s)
{
	switch (s) {
	case TP_RS_SKIPPED: return "skipped";
	case TP_RS_FAILED: return "failed";
	case TP_RS_RESTORED: return "restored";
	default: return "selected";
	}
}

json_t *tp_restore_plan_json(const tp_restore_plan *P)
{
	char su[37];
	tp_uuid_unparse(P->set, su);
	json_t *snaps = json_array(), *tapes = json_array();
	for (size_t i = 0; i < P->nsnaps; i++) {
		const tp_restore_snap *s = &P->snaps[i];
		json_t *o = json_pack("{s:s,s:s}", "snapshot", s->spec, "state", state_name(s->state));
		if (s->target >= 0) {
			char p[TP_SNAPSHOT_PATH_MAX];
			tp_snapshot_ref_path(&s->dst, p, sizeof(p));
			json_object_set_new(o, "target", json_sprintf("%s:%s", P->targets[s->target], p));
			json_object_set_new(o, "chunks", json_integer((json_int_t)s->nchunks));
		}
		if (s->reason[0])
			json_object_set_new(o, "reason", json_string(s->reason));
		json_array_append_new(snaps, o);
	}
	for (size_t t = 0; t < P->ntapes; t++) {
		const tp_restore_tape *T = &P->tapes[t];
		json_t *reads = json_array();
		for (size_t k = T->first_read; k < T->first_read + T->nreads; k++) {
			const tp_restore_read *rd = &P->reads[k];
			json_array_append_new(reads, json_pack("{s:I,s:s,s:I,s:I,s:I}", "file", (json_int_t)rd->file_nr,
							       "kind", rd->kind == TP_READ_CHUNKS ? "chunks" : "snapshot",
							       "first-block", (json_int_t)rd->first_object, "blocks",
							       (json_int_t)rd->nobjects, "needed-bytes", (json_int_t)rd->useful));
		}
		json_t *o = json_pack("{s:I,s:s,s:I,s:I,s:I,s:o}", "seq", (json_int_t)T->seq, "label", T->label, "bytes",
				      (json_int_t)T->bytes, "locates", (json_int_t)T->locates, "drive",
				      (json_int_t)T->drive, "reads", reads);
		if (T->preloaded)
			json_object_set_new(o, "in-drive", json_true());
		if (T->elsewhere)
			json_object_set_new(o, "in-other-drive", json_true());
		if (T->offline)
			json_object_set_new(o, "offline", json_true());
		json_array_append_new(tapes, o);
	}
	return json_pack("{s:s,s:o,s:o,s:I,s:I,s:I,s:f,s:f}", "media-set", su, "snapshots", snaps, "tapes", tapes,
			 "chunks-needed", (json_int_t)P->chunks_needed, "chunks-present", (json_int_t)P->chunks_present,
			 "bytes-needed", (json_int_t)P->bytes_needed, "estimated-seconds", P->estimate.total_s,
			 "estimated-elapsed-seconds", P->elapsed_s);
}

/* ---- the 2021 three-phase design, for the benchmark ---- */

struct pbs_tape {
	uint8_t media[16];
	uint64_t seq;
};

static int uuid_cmp(const void *a, const void *b) { return memcmp(a, b, 16); }

int tp_restore_plan_pbs2021(tp_catalog_db *db, const tp_restore_plan *P, const tp_restore_request *req,
			    tp_tape_counters *c, tp_lto_estimate *est, tp_err *err)
{
	(void)db;
	memset(c, 0, sizeof(*c));
	size_t cap = 8 + P->ntapes * 14 + P->nreads * 4, n = 0;
	tp_lto_step *st = calloc(cap, sizeof(*st));
	struct pbs_tape *tapes = calloc(P->ntapes + 1, sizeof(*tapes));
	if (!st || !tapes) {
		free(st);
		free(tapes);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t t = 0; t < P->ntapes; t++) {
		memcpy(tapes[t].media, P->tapes[t].media, 16);
		tapes[t].seq = P->tapes[t].seq;
	}
	/* BTreeMap<Uuid, ...>: tapes in media-UUID order (the uuid is the first member) */
	qsort(tapes, P->ntapes, sizeof(*tapes), uuid_cmp);
	int loaded = 0, robot = !(req->standalone & 1u); /* PBS restores with one drive */
	for (int phase = 1; phase <= 2; phase++) {
		for (size_t t = 0; t < P->ntapes; t++) {
			const tp_restore_tape *T = NULL;
			for (size_t k = 0; k < P->ntapes; k++)
				if (P->tapes[k].seq == tapes[t].seq)
					T = &P->tapes[k];
			int any = 0;
			for (size_t k = T->first_read; k < T->first_read + T->nreads; k++)
				any |= (phase == 1) == (P->reads[k].kind == TP_READ_SNAPSHOT);
			if (!any)
				continue;
			n += load_steps(st + n, loaded, robot, 0, 0);
			c->unloads += loaded;
			c->loads++;
			c->blocks_read += 2;
			c->bytes_read += LABEL_BYTES;
			loaded = 1;
			uint64_t last_file = UINT64_MAX, pos = FIRST_DATA_OBJECT, mpos = LABEL_BYTES;
			for (size_t k = T->first_read; k < T->first_read + T->nreads; k++) {
				const tp_restore_read *rd = &P->reads[k];
				if ((phase == 1) != (rd->kind == TP_READ_SNAPSHOT))
					continue;
				/* phase 2 reads each needed chunk archive from its first block */
				uint64_t from = (uint64_t)rd->file_first_block;
				uint64_t to = rd->first_object + rd->nobjects;
				uint64_t len = to > from ? model_len(req, (to - from) * TP_TAPE_BLOCK_SIZE) : 0;
				if (rd->file_nr == last_file) {
					from = pos; /* same archive: the read continues */
					len = to > from ? model_len(req, (to - from) * TP_TAPE_BLOCK_SIZE) : 0;
				} else if (from != pos) { /* PBS moves only when not at that file already */
					mpos = model_pos(req, from, rd->file_nr, len);
					st[n++] = (tp_lto_step){ TP_LTO_STEP_LOCATE, mpos };
					c->locates++;
				}
				/* a snapshot archive's read ends with its filemark: an object, but no data */
				uint64_t fm = rd->kind == TP_READ_SNAPSHOT && to > from ? 1 : 0;
				if (fm)
					len = model_len(req, (to - from - fm) * TP_TAPE_BLOCK_SIZE);
				if (to > from + fm) {
					st[n++] = (tp_lto_step){ TP_LTO_STEP_READ, model_read(req, &mpos, len) };
					c->blocks_read += to - from - fm;
					c->bytes_read += (to - from - fm) * TP_TAPE_BLOCK_SIZE;
				}
				pos = to;
				last_file = rd->file_nr;
			}
		}
	}
	int r = tp_lto_estimate_plan(gen_of(req), st, n, req->media_bytes, est, err);
	free(st);
	free(tapes);
	return r;
}

static int check_one(tp_restore_priv_fn check, const char *authid, const char *path, const char *priv, tp_err *err)
{
	if (check)
		return check(authid, path, priv, err);
	if (!authid || !strcmp(authid, "root@pam"))
		return 0;
	return tp_err_set(err, -EACCES, "%s: %s on %s cannot be checked here", authid, priv, path);
}

int tp_restore_check_tape_read(tp_restore_priv_fn check, const char *authid, const char *pool,
			       const char *const *drives, int ndrives, tp_err *err)
{
	char path[128];
	snprintf(path, sizeof(path), "/tape/pool/%s", pool);
	int r = check_one(check, authid, path, "Tape.Read", err);
	for (int i = 0; r == 0 && i < ndrives; i++) {
		snprintf(path, sizeof(path), "/tape/device/%s", drives[i]);
		r = check_one(check, authid, path, "Tape.Read", err);
	}
	return r;
}

int tp_restore_check_target(tp_restore_priv_fn check, const char *authid, const char *owner, const char *store,
			    tp_datastore *ds, const char *ns, tp_err *err)
{
	char acl[TP_NS_MAX_LEN + 64];
	int r = 0;
	/* a missing level is created under its parent: Modify there, from the first missing level down */
	for (size_t i = 0; ds && ns[i] && r == 0;) {
		size_t end = i + strcspn(ns + i, "/");
		char prefix[TP_NS_MAX_LEN + 1];
		snprintf(prefix, sizeof(prefix), "%.*s", (int)end, ns);
		if (!tp_datastore_ns_exists(ds, prefix)) {
			snprintf(acl, sizeof(acl), "/datastore/%s%s%.*s", store, i ? "/" : "", i ? (int)i - 1 : 0, ns);
			if ((r = check_one(check, authid, acl, "Datastore.Modify", err)) < 0)
				tp_err_wrap(err, r, "creating namespace %s", prefix);
		}
		i = ns[end] ? end + 1 : end;
	}
	snprintf(acl, sizeof(acl), "/datastore/%s%s%s", store, ns[0] ? "/" : "", ns);
	if (r == 0)
		r = check_one(check, authid, acl, "Datastore.Backup", err);
	if (r == 0 && owner && authid && strcmp(owner, authid) &&
	    (r = check_one(check, authid, acl, "Datastore.Modify", err)) < 0)
		tp_err_wrap(err, r, "restoring with owner %s", owner);
	return r;
}
