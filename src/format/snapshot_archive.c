/* Snapshot archive writer and decoder over the tape block stream (see snapshot_archive.h). */
#include "format/snapshot_archive.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/timefmt.h"
#include "crypto/siphash.h"
#include "format/magic.h"
#include "format/pxar.h"

/* one block of payload per write, so LEOM stops the archive before the hard end */
#define COPY_BUF TP_TAPE_BLOCK_PAYLOAD
#define ROOT_MODE 0040664u
#define ENTRY_ITEM (TP_PXAR_HEADER_SIZE + TP_PXAR_STAT_SIZE)

/* ---- snapshot paths and header ---- */

static int safe_id(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			 (i > 0 && (c == '.' || c == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

int tp_snapshot_path_check(const char *s, size_t len, int *has_ns, tp_err *err)
{
	const char *comp[3 + 2 * 8];
	size_t clen[3 + 2 * 8];
	size_t k = 0, start = 0;
	if (len == 0 || len > TP_ARCHIVE_PATH_MAX || memchr(s, 0, len))
		return tp_err_set(err, -TP_EFORMAT, "snapshot path: empty, too long or with NUL (%zu bytes)", len);
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		if (k == sizeof(comp) / sizeof(comp[0]))
			return tp_err_set(err, -TP_EFORMAT, "snapshot path \"%.*s\": too many components",
					  (int)len, s);
		comp[k] = s + start;
		clen[k++] = i - start;
		start = i + 1;
	}
	if (k < 3 || (k - 3) % 2)
		return tp_err_set(err, -TP_EFORMAT, "snapshot path \"%.*s\": want [ns/<name>/...]type/id/time",
				  (int)len, s);
	for (size_t i = 0; i + 3 < k; i += 2)
		if (clen[i] != 2 || memcmp(comp[i], "ns", 2) || !safe_id(comp[i + 1], clen[i + 1]))
			return tp_err_set(err, -TP_EFORMAT, "snapshot path \"%.*s\": bad namespace component",
					  (int)len, s);
	if ((k - 3) / 2 > 7)
		return tp_err_set(err, -TP_EFORMAT, "snapshot path \"%.*s\": namespace deeper than 7", (int)len, s);
	const char *t = comp[k - 3];
	size_t tl = clen[k - 3];
	if (!((tl == 2 && !memcmp(t, "vm", 2)) || (tl == 2 && !memcmp(t, "ct", 2)) ||
	      (tl == 4 && !memcmp(t, "host", 4))))
		return tp_err_set(err, -TP_EFORMAT, "snapshot path \"%.*s\": unknown backup type", (int)len, s);
	if (!safe_id(comp[k - 2], clen[k - 2]))
		return tp_err_set(err, -TP_EFORMAT, "snapshot path \"%.*s\": bad backup id", (int)len, s);
	char tm[21];
	int64_t epoch;
	if (clen[k - 1] != 20 || (memcpy(tm, comp[k - 1], 20), tm[20] = 0, tp_time_parse_utc(tm, &epoch) < 0))
		return tp_err_set(err, -TP_EFORMAT, "snapshot path \"%.*s\": bad backup time", (int)len, s);
	if (has_ns)
		*has_ns = k > 3;
	return 0;
}

char *tp_snapshot_archive_header_json(const char *store, const char *snapshot)
{
	json_t *o = json_pack("{s:s, s:s}", "snapshot", snapshot, "store", store);
	char *s = o ? tp_content_json_pretty(o, 0) : NULL;
	json_decref(o);
	return s;
}

int tp_snapshot_archive_header_parse(const json_t *j, char store[TP_ARCHIVE_STORE_MAX + 1],
				     char snapshot[TP_ARCHIVE_PATH_MAX + 1], tp_err *err)
{
	json_t *v = json_object_get(j, "snapshot");
	if (!json_is_string(v))
		return tp_err_set(err, -TP_EFORMAT, "snapshot archive header: missing or non-string \"snapshot\"");
	size_t n = json_string_length(v);
	int r = tp_snapshot_path_check(json_string_value(v), n, NULL, err);
	if (r < 0)
		return tp_err_wrap(err, r, "snapshot archive header");
	r = tp_chunk_archive_header_parse(j, store, err);
	if (r < 0)
		return tp_err_wrap(err, r, "snapshot archive header");
	memcpy(snapshot, json_string_value(v), n + 1);
	return 0;
}

/* ---- pxar pieces ---- */

static void put_header(uint8_t *p, uint64_t htype, uint64_t full_size)
{
	tp_put_le64(p, htype);
	tp_put_le64(p + 8, full_size);
}

static void put_entry(uint8_t p[ENTRY_ITEM], uint64_t mode, uint32_t uid, uint32_t gid, int64_t secs,
		      uint32_t nanos)
{
	put_header(p, TP_PXAR_ENTRY, ENTRY_ITEM);
	tp_put_le64(p + 16, mode);
	tp_put_le64(p + 24, 0); /* flags */
	tp_put_le32(p + 32, uid);
	tp_put_le32(p + 36, gid);
	tp_put_le64(p + 40, (uint64_t)secs);
	tp_put_le32(p + 48, nanos);
	tp_put_le32(p + 52, 0);
}

typedef struct gb_item {
	uint64_t hash, start, size;
} gb_item;

static int gb_cmp(const void *a, const void *b)
{
	const gb_item *x = a, *y = b;
	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* The goodbye item (header included) for items[0..n) at goodbye_start; items are sorted in place. */
static int goodbye_build(gb_item *items, size_t n, uint64_t goodbye_start, tp_buf *out)
{
	uint64_t full = TP_PXAR_HEADER_SIZE + (uint64_t)TP_PXAR_GOODBYE_ITEM_SIZE * (n + 1);
	size_t *perm = malloc((n ? n : 1) * sizeof(*perm));
	if (!perm || tp_buf_reserve(out, (size_t)full) < 0) {
		free(perm);
		return -ENOMEM;
	}
	qsort(items, n, sizeof(*items), gb_cmp);
	tp_pxar_bst_permutation(n, perm);
	uint8_t *p = out->data + out->len;
	put_header(p, TP_PXAR_GOODBYE, full);
	p += TP_PXAR_HEADER_SIZE;
	for (size_t k = 0; k < n; k++, p += TP_PXAR_GOODBYE_ITEM_SIZE) {
		const gb_item *it = &items[perm[k]];
		tp_put_le64(p, it->hash);
		tp_put_le64(p + 8, goodbye_start - it->start);
		tp_put_le64(p + 16, it->size);
	}
	tp_put_le64(p, TP_PXAR_GOODBYE_TAIL_MARKER);
	tp_put_le64(p + 8, goodbye_start); /* the root ENTRY is at pxar offset 0 */
	tp_put_le64(p + 16, full);
	out->len += (size_t)full;
	free(perm);
	return 0;
}

static int name_ok(const char *name, size_t len)
{
	return len <= TP_SNAPSHOT_NAME_MAX && tp_pxar_name_valid(name, len);
}

/* ---- writer ---- */

/* LEOM seen while writing the archive: PBS's pxar writer gets ENOSPC here. */
#define LEOM_STOP 1

static int put(tp_block_writer *w, uint64_t *pos, const void *d, size_t len, tp_err *err)
{
	int r = tp_block_writer_write(w, d, len, err);
	if (r < 0)
		return r;
	*pos += len;
	return r == 1 ? LEOM_STOP : 0;
}

int tp_snapshot_archive_write(const tp_tape_io *io, const char *store, const char *snapshot,
			      const tp_snapshot_file *files, size_t n, tp_snapshot_read_fn read, void *ctx,
			      uint8_t uuid_io[16], int64_t ctime, tp_err *err)
{
	int has_ns = 0, r;
	size_t sl = strlen(store);
	if (sl == 0 || sl > TP_ARCHIVE_STORE_MAX || strchr(store, '/'))
		return tp_err_set(err, -EINVAL, "snapshot archive: bad store name \"%.64s\"", store);
	r = tp_snapshot_path_check(snapshot, strlen(snapshot), &has_ns, err);
	if (r < 0)
		return r;
	if (n == 0 || strcmp(files[0].name, "index.json.blob"))
		return tp_err_set(err, -EINVAL, "snapshot archive %s: the first file must be index.json.blob",
				  snapshot);
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(files[i].name, strlen(files[i].name)))
			return tp_err_set(err, -EINVAL, "snapshot archive %s: bad file name \"%.64s\"", snapshot,
					  files[i].name);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(files[k].name, files[i].name))
				return tp_err_set(err, -EINVAL, "snapshot archive %s: duplicate file name '%s'",
						  snapshot, files[i].name);
		if (!S_ISREG(files[i].mode))
			return tp_err_set(err, -EINVAL, "snapshot archive %s: file '%s' is not a regular file",
					  snapshot, files[i].name);
	}

	tp_block_writer w;
	uint8_t *buf = NULL;
	gb_item *items = calloc(n, sizeof(*items));
	tp_buf gb = TP_BUF_INIT;
	char *js = tp_snapshot_archive_header_json(store, snapshot);
	int done = 0;
	if (!items || !js || !(buf = malloc(COPY_BUF))) {
		r = tp_err_set(err, -ENOMEM, "snapshot archive %s: out of memory", snapshot);
		goto out;
	}
	r = tp_block_writer_init(&w, io, err);
	if (r < 0)
		goto out;
	r = tp_content_header_write(&w, has_ns ? TP_MAGIC_SNAPSHOT_ARCHIVE_1_2 : TP_MAGIC_SNAPSHOT_ARCHIVE_1_1,
				    uuid_io, ctime, js, strlen(js), err);
	uint64_t pos = 0; /* pxar offset */
	uint8_t item[ENTRY_ITEM];
	if (r == 0) {
		put_entry(item, ROOT_MODE, 0, 0, 0, 0);
		r = put(&w, &pos, item, ENTRY_ITEM, err);
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		const tp_snapshot_file *f = &files[i];
		size_t nl = strlen(f->name);
		items[i].hash = tp_pxar_hash(f->name, nl);
		items[i].start = pos;
		put_header(item, TP_PXAR_FILENAME, TP_PXAR_HEADER_SIZE + nl + 1);
		r = put(&w, &pos, item, TP_PXAR_HEADER_SIZE, err);
		if (r == 0)
			r = put(&w, &pos, f->name, nl + 1, err);
		if (r == 0) {
			put_entry(item, f->mode, f->uid, f->gid, f->mtime_secs, f->mtime_nanos);
			r = put(&w, &pos, item, ENTRY_ITEM, err);
		}
		if (r == 0) {
			put_header(item, TP_PXAR_PAYLOAD, TP_PXAR_HEADER_SIZE + f->size);
			r = put(&w, &pos, item, TP_PXAR_HEADER_SIZE, err);
		}
		uint64_t remaining = f->size;
		while (r == 0 && remaining > 0) {
			long got = read(ctx, i, buf, COPY_BUF, err);
			if (got < 0)
				r = tp_err_wrap(err, (int)got, "snapshot archive %s: reading '%s'", snapshot, f->name);
			else if (got == 0)
				r = tp_err_set(err, -EIO, "snapshot archive %s: file '%s' shrunk while reading",
					       snapshot, f->name);
			else if ((uint64_t)got > remaining)
				r = tp_err_set(err, -EIO, "snapshot archive %s: file '%s' changed while reading",
					       snapshot, f->name);
			else {
				remaining -= (uint64_t)got;
				r = put(&w, &pos, buf, (size_t)got, err);
			}
		}
		items[i].size = pos - items[i].start;
	}
	if (r == 0) {
		if (goodbye_build(items, n, pos, &gb) < 0)
			r = tp_err_set(err, -ENOMEM, "snapshot archive %s: out of memory", snapshot);
		else
			r = put(&w, &pos, gb.data, gb.len, err);
	}
	if (r == 0) {
		r = tp_block_writer_finish(&w, 0, err);
		done = 1;
	} else if (r == LEOM_STOP) {
		/* as PBS: finish INCOMPLETE; the caller writes the whole archive on the next tape */
		r = tp_block_writer_finish(&w, 1, err);
	} else {
		tp_block_writer_abort(&w, NULL);
	}
	tp_block_writer_free(&w);
	if (r < 0)
		tp_err_wrap(err, r, "snapshot archive %s", snapshot);
out:
	free(js);
	free(buf);
	free(items);
	tp_buf_free(&gb);
	return r < 0 ? r : done;
}

/* ---- decoder ---- */

typedef struct dec {
	tp_block_reader *r;
	uint64_t pos;     /* pxar offset of the next byte */
	tp_err *err;
} dec;

static int need(dec *d, void *buf, size_t len, const char *what)
{
	long n = tp_block_reader_read_full(d->r, buf, len, d->err);
	if (n < 0)
		return tp_err_wrap(d->err, (int)n, "snapshot archive: reading %s at pxar offset %llu", what,
				   (unsigned long long)d->pos);
	if ((size_t)n < len)
		return tp_err_set(d->err, -TP_EFORMAT, "snapshot archive: stream ends inside %s at pxar offset %llu",
				  what, (unsigned long long)(d->pos + (uint64_t)n));
	d->pos += len;
	return 0;
}

static int read_header(dec *d, uint64_t *htype, uint64_t *full)
{
	uint8_t h[TP_PXAR_HEADER_SIZE];
	int r = need(d, h, sizeof(h), "an item header");
	if (r < 0)
		return r;
	*htype = tp_le64(h);
	*full = tp_le64(h + 8);
	if (*full < TP_PXAR_HEADER_SIZE)
		return tp_err_set(d->err, -TP_EFORMAT, "snapshot archive: item size %llu < 16 at pxar offset %llu",
				  (unsigned long long)*full, (unsigned long long)(d->pos - 16));
	return 0;
}

static int read_entry(dec *d, tp_snapshot_entry *e)
{
	uint64_t htype, full;
	uint8_t st[TP_PXAR_STAT_SIZE];
	uint64_t at = d->pos;
	int r = read_header(d, &htype, &full);
	if (r < 0)
		return r;
	if (htype != TP_PXAR_ENTRY || full != ENTRY_ITEM)
		return tp_err_set(d->err, -TP_EFORMAT, "snapshot archive: want an ENTRY item at pxar offset %llu",
				  (unsigned long long)at);
	r = need(d, st, sizeof(st), "an ENTRY");
	if (r < 0)
		return r;
	e->mode = tp_le64(st);
	e->uid = tp_le32(st + 16);
	e->gid = tp_le32(st + 20);
	e->mtime_secs = (int64_t)tp_le64(st + 24);
	e->mtime_nanos = tp_le32(st + 32);
	return 0;
}

int tp_snapshot_archive_decode(tp_block_reader *r, const tp_snapshot_decode_ops *ops, void *ctx, tp_err *err)
{
	dec d = { .r = r, .err = err };
	tp_snapshot_entry e;
	gb_item *items = NULL;
	size_t n = 0, cap = 0;
	uint8_t *buf = NULL, *body = NULL;
	tp_buf want = TP_BUF_INIT;
	uint64_t htype, full;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = read_entry(&d, &e);
	if (rc < 0)
		goto out;
	if (!S_ISDIR(e.mode)) {
		rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: the root is not a directory (mode %llo)",
				(unsigned long long)e.mode);
		goto out;
	}
	buf = malloc(64 * 1024);
	if (!buf) {
		rc = tp_err_set(err, -ENOMEM, "snapshot archive: out of memory");
		goto out;
	}
	for (;;) {
		uint64_t at = d.pos;
		rc = read_header(&d, &htype, &full);
		if (rc < 0)
			goto out;
		if (htype == TP_PXAR_GOODBYE)
			break;
		if (htype != TP_PXAR_FILENAME) {
			rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: unexpected item %016llx at pxar offset %llu",
					(unsigned long long)htype, (unsigned long long)at);
			goto out;
		}
		size_t nl = (size_t)(full - TP_PXAR_HEADER_SIZE);
		if (full - TP_PXAR_HEADER_SIZE > TP_SNAPSHOT_NAME_MAX + 1 || nl < 2) {
			rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: file name of %llu bytes at pxar offset %llu",
					(unsigned long long)(full - TP_PXAR_HEADER_SIZE), (unsigned long long)at);
			goto out;
		}
		memset(&e, 0, sizeof(e));
		rc = need(&d, e.name, nl, "a FILENAME");
		if (rc < 0)
			goto out;
		if (e.name[nl - 1] != 0 || !name_ok(e.name, nl - 1)) {
			e.name[nl - 1] = 0;
			rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: invalid file name \"%s\" at pxar offset %llu",
					e.name, (unsigned long long)at);
			goto out;
		}
		uint64_t h = tp_pxar_hash(e.name, nl - 1);
		for (size_t i = 0; i < n; i++) {
			if (items[i].hash != h)
				continue;
			/* equal hash: compare the real names (kept in `want` as NUL-separated list) */
			const char *p = (const char *)want.data;
			for (size_t k = 0; k < i; k++)
				p += strlen(p) + 1;
			if (!strcmp(p, e.name)) {
				rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: duplicate file name \"%s\"", e.name);
				goto out;
			}
		}
		if (n == TP_SNAPSHOT_MAX_FILES) {
			rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: more than %u files", TP_SNAPSHOT_MAX_FILES);
			goto out;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			gb_item *ni = realloc(items, nc * sizeof(*ni));
			if (!ni) {
				rc = tp_err_set(err, -ENOMEM, "snapshot archive: out of memory");
				goto out;
			}
			items = ni;
			cap = nc;
		}
		if (tp_buf_append(&want, e.name, nl) < 0) {
			rc = tp_err_set(err, -ENOMEM, "snapshot archive: out of memory");
			goto out;
		}
		e.offset = at;
		rc = read_entry(&d, &e);
		if (rc < 0)
			goto out;
		if (!S_ISREG(e.mode)) {
			rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: '%s' is not a regular file (mode %llo)",
					e.name, (unsigned long long)e.mode);
			goto out;
		}
		uint64_t pat = d.pos;
		rc = read_header(&d, &htype, &full);
		if (rc < 0)
			goto out;
		if (htype != TP_PXAR_PAYLOAD) {
			rc = tp_err_set(err, -TP_EFORMAT,
					"snapshot archive: '%s': want a PAYLOAD item at pxar offset %llu, got %016llx",
					e.name, (unsigned long long)pat, (unsigned long long)htype);
			goto out;
		}
		e.size = full - TP_PXAR_HEADER_SIZE;
		if (ops && ops->begin && (rc = ops->begin(ctx, &e, err)) < 0)
			goto out;
		for (uint64_t left = e.size; left > 0;) {
			size_t k = left < 64 * 1024 ? (size_t)left : 64 * 1024;
			rc = need(&d, buf, k, "a PAYLOAD");
			if (rc < 0)
				goto out;
			if (ops && ops->data && (rc = ops->data(ctx, buf, k, err)) < 0)
				goto out;
			left -= k;
		}
		if (ops && ops->end && (rc = ops->end(ctx, &e, err)) < 0)
			goto out;
		items[n].hash = h;
		items[n].start = at;
		items[n].size = d.pos - at;
		n++;
	}
	/* the goodbye table must be exactly the one the encoder derives from the items */
	uint64_t gstart = d.pos - TP_PXAR_HEADER_SIZE;
	uint64_t gfull = TP_PXAR_HEADER_SIZE + (uint64_t)TP_PXAR_GOODBYE_ITEM_SIZE * (n + 1);
	if (full != gfull) {
		rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: goodbye of %llu bytes for %zu files (want %llu)",
				(unsigned long long)full, n, (unsigned long long)gfull);
		goto out;
	}
	tp_buf_reset(&want);
	if (goodbye_build(items, n, gstart, &want) < 0 || !(body = malloc((size_t)gfull))) {
		rc = tp_err_set(err, -ENOMEM, "snapshot archive: out of memory");
		goto out;
	}
	rc = need(&d, body, (size_t)(gfull - TP_PXAR_HEADER_SIZE), "the GOODBYE table");
	if (rc < 0)
		goto out;
	if (memcmp(body, want.data + TP_PXAR_HEADER_SIZE, (size_t)(gfull - TP_PXAR_HEADER_SIZE))) {
		rc = tp_err_set(err, -TP_EFORMAT, "snapshot archive: goodbye table at pxar offset %llu does not match",
				(unsigned long long)gstart);
		goto out;
	}
	uint8_t extra;
	long x = tp_block_reader_read(r, &extra, 1, err);
	if (x != 0) {
		rc = x < 0 ? tp_err_wrap(err, (int)x, "snapshot archive: after the goodbye table")
			   : tp_err_set(err, -TP_EFORMAT, "snapshot archive: data after the goodbye table");
		goto out;
	}
	rc = (int)n;
out:
	free(items);
	free(buf);
	free(body);
	tp_buf_free(&want);
	return rc;
}
