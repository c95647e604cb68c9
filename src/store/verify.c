/* Snapshot verification (see verify.h). */
#include "store/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/digest_set.h"
#include "base/fsutil.h"
#include "base/hex.h"
#include "base/json_util.h"
#include "base/log.h"
#include "crypto/hash.h"
#include "format/blob.h"
#include "format/manifest.h"
#include "store/archive_reader.h"

/* value in the checked set: 0 good, otherwise 1 + index into the bad list */
struct vctx {
	tp_datastore *ds;
	tp_digest_set checked;
	json_t *bad;        /* digest hex -> {reason, snapshots[]} */
	tp_buf raw, plain;
	tp_verify_stats *st;
};

static int check_chunk(struct vctx *v, const uint8_t d[32], char reason[512])
{
	tp_err e = { 0 };
	tp_buf_reset(&v->raw);
	int r = tp_chunk_store_read(&v->ds->cs, d, &v->raw, &e);
	if (r == 0) {
		v->st->bytes += v->raw.len;
		int kind = tp_blob_check(v->raw.data, v->raw.len, "chunk", &e);
		r = kind < 0 ? kind : 0;
		if (r == 0 && !tp_blob_kind_encrypted(kind))
			r = tp_blob_decode(v->raw.data, v->raw.len, NULL, TP_BLOB_MAX_SIZE, d, "chunk", &v->plain, &e);
	}
	if (r < 0) {
		snprintf(reason, 512, "%s", r == -TP_ENOTFOUND ? "missing" : e.msg);
		if (r != -TP_ENOTFOUND)
			tp_chunk_store_mark_bad(&v->ds->cs, d, NULL);
	}
	return r;
}

/* Verifies the chunks of one index; returns the number of bad chunks it references. */
static long verify_index(struct vctx *v, const char *path, const char *snapname, tp_err *err)
{
	tp_archive_reader ar;
	int r = tp_archive_reader_open(&ar, &v->ds->cs, path, NULL, err);
	if (r < 0)
		return r;
	long bad = 0;
	for (size_t i = 0; i < ar.count; i++) {
		const uint8_t *d = tp_archive_reader_digest(&ar, i);
		uint64_t state;
		char hex[65];
		tp_hex_encode(d, 32, hex);
		if (!tp_digest_set_get(&v->checked, d, &state)) {
			char reason[512];
			state = check_chunk(v, d, reason) < 0;
			v->st->chunks++;
			if (tp_digest_set_add(&v->checked, d, state) < 0) {
				tp_archive_reader_close(&ar);
				return tp_err_set(err, -ENOMEM, "out of memory");
			}
			if (state) {
				v->st->chunks_bad++;
				json_object_set_new(v->bad, hex, json_pack("{s:s,s:[]}", "reason", reason, "snapshots"));
				tp_warn("chunk %s: %s", hex, reason);
			}
		}
		if (state) {
			bad++;
			json_t *snaps = json_object_get(json_object_get(v->bad, hex), "snapshots");
			size_t k;
			json_t *x;
			int seen = 0;
			json_array_foreach(snaps, k, x) seen |= !strcmp(json_string_value(x), snapname);
			if (!seen)
				json_array_append_new(snaps, json_string(snapname));
		}
	}
	tp_archive_reader_close(&ar);
	return bad;
}

static int verify_snapshot(struct vctx *v, const tp_snapshot_ref *s, char reason[512], tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX], snapname[TP_SNAPSHOT_PATH_MAX + 40];
	tp_snapshot_ref_path(s, rel, sizeof(rel));
	snprintf(snapname, sizeof(snapname), "%s", rel);
	char *dir = tp_datastore_path(v->ds, rel);
	char *mpath = dir ? tp_path_join(dir, TP_MANIFEST_NAME) : NULL;
	tp_buf b = TP_BUF_INIT;
	tp_manifest m;
	int have_m = 0, r;
	tp_err e = { 0 };
	if (!mpath) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = tp_read_file(mpath, &b, TP_BLOB_MAX_SIZE, &e);
	if (r == 0)
		r = tp_manifest_decode_blob(&m, b.data, b.len, mpath, &e);
	if (r < 0) {
		snprintf(reason, 512, "manifest: %s", e.msg);
		r = 1;
		goto out;
	}
	have_m = 1;
	long bad = 0;
	for (size_t i = 0; i < m.nfiles; i++) {
		const tp_manifest_file *f = &m.files[i];
		char *p = tp_path_join(dir, f->filename);
		if (!p) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		const char *ext = strrchr(f->filename, '.');
		if (ext && !strcmp(ext, ".blob")) {
			tp_buf fb = TP_BUF_INIT;
			uint8_t d[32];
			if (tp_read_file(p, &fb, TP_BLOB_MAX_SIZE, &e) < 0) {
				snprintf(reason, 512, "%s: %s", f->filename, e.msg);
				r = 1;
			} else {
				tp_sha256(fb.data, fb.len, d);
				if (fb.len != f->size || memcmp(d, f->csum, 32)) {
					snprintf(reason, 512, "%s: size or checksum differs from the manifest", f->filename);
					r = 1;
				}
			}
			tp_buf_free(&fb);
		} else {
			tp_archive_reader ar;
			uint8_t csum[32];
			int x = tp_archive_reader_open(&ar, &v->ds->cs, p, NULL, &e);
			if (x == 0) {
				x = ar.fixed ? tp_fidx_compute_csum(&ar.fidx, csum) : tp_didx_compute_csum(&ar.didx, csum);
				if (x == 0 && (memcmp(csum, f->csum, 32) || ar.size != f->size)) {
					x = -TP_EDIGEST;
					snprintf(e.msg, sizeof(e.msg), "index checksum or size differs from the manifest");
				}
				tp_archive_reader_close(&ar);
			}
			if (x < 0) {
				snprintf(reason, 512, "%s: %s", f->filename, e.msg);
				r = 1;
			} else {
				long n = verify_index(v, p, snapname, err);
				if (n < 0) {
					free(p);
					r = (int)n;
					goto out;
				}
				bad += n;
			}
		}
		free(p);
		if (r)
			goto out;
	}
	if (bad) {
		snprintf(reason, 512, "%ld corrupt or missing chunk reference%s", bad, bad > 1 ? "s" : "");
		r = 1;
	}
out:
	if (have_m)
		tp_manifest_free(&m);
	tp_buf_free(&b);
	free(mpath);
	free(dir);
	return r;
}

int tp_verify_datastore(tp_datastore *ds, const tp_snapshot_ref *only, json_t *report, tp_verify_stats *st,
			tp_err *err)
{
	struct vctx v;
	memset(&v, 0, sizeof(v));
	memset(st, 0, sizeof(*st));
	v.ds = ds;
	v.st = st;
	v.bad = json_object();
	json_t *failed = json_object();
	tp_snapshot_list l = { 0 };
	int r = tp_chunk_store_lock(&ds->cs, 0, 10000, err);
	if (r < 0)
		goto out;
	if (only) {
		int fin = 0;
		char rel[TP_SNAPSHOT_PATH_MAX];
		tp_snapshot_ref_path(only, rel, sizeof(rel));
		if (!tp_snapshot_exists(ds, only, &fin) || !fin) {
			r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%s does not exist", ds->name, rel);
			goto out;
		}
	} else if ((r = tp_datastore_list_snapshots(ds, "", -1, &l, err)) < 0) {
		goto out;
	}
	size_t n = only ? 1 : l.n;
	for (size_t i = 0; i < n; i++) {
		const tp_snapshot_ref *s = only ? only : &l.items[i];
		if (!only && !l.finished[i])
			continue;
		char reason[512] = "";
		char rel[TP_SNAPSHOT_PATH_MAX];
		tp_snapshot_ref_path(s, rel, sizeof(rel));
		int x = verify_snapshot(&v, s, reason, err);
		if (x < 0) {
			r = x;
			goto out;
		}
		st->snapshots++;
		if (x) {
			st->snapshots_failed++;
			json_object_set_new(failed, rel, json_string(reason));
			tp_warn("snapshot %s: %s", rel, reason);
		} else {
			tp_info("snapshot %s: ok", rel);
		}
	}
	if (st->snapshots_failed) {
		const char *k;
		json_t *x;
		tp_buf msg = TP_BUF_INIT;
		tp_buf_printf(&msg, "verification failed for %llu of %llu snapshots",
			      (unsigned long long)st->snapshots_failed, (unsigned long long)st->snapshots);
		json_object_foreach(v.bad, k, x) {
			tp_buf_printf(&msg, "; chunk %s %s, referenced by", k, tp_json_opt_str(x, "reason"));
			size_t j;
			json_t *sn;
			json_array_foreach(json_object_get(x, "snapshots"), j, sn)
				tp_buf_printf(&msg, " %s", json_string_value(sn));
			break; /* the first one in the message, all of them in the report */
		}
		r = tp_err_set(err, -TP_EDIGEST, "%s", tp_buf_cstr(&msg));
		tp_buf_free(&msg);
	}
out:
	if (report) {
		json_object_set(report, "failed", failed);
		json_object_set(report, "bad-chunks", v.bad);
	}
	json_decref(failed);
	json_decref(v.bad);
	tp_snapshot_list_free(&l);
	tp_digest_set_free(&v.checked);
	tp_buf_free(&v.raw);
	tp_buf_free(&v.plain);
	return r;
}
