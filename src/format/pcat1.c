/* PBS client file catalog (catalog.pcat1): writer, reader and dump. */
#include "format/pcat1.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "format/magic.h"

/* ----------------------------------------------------------- varints */

size_t tp_pcat1_put_uvarint(uint8_t out[10], uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

size_t tp_pcat1_put_svarint(uint8_t out[11], int64_t v)
{
	if (v >= 0)
		return tp_pcat1_put_uvarint(out, (uint64_t)v);
	/* |v| in 7-bit groups, every one with the continuation bit, then a 0 byte */
	uint64_t a = (uint64_t)0 - (uint64_t)v;
	size_t n = 0;
	while (a) {
		out[n++] = (uint8_t)((a & 0x7f) | 0x80);
		a >>= 7;
	}
	out[n++] = 0;
	return n;
}

int tp_pcat1_get_uvarint(const uint8_t *p, size_t len, uint64_t *v)
{
	uint64_t r = 0;
	for (size_t i = 0; i < 10; i++) {
		if (i >= len)
			return -TP_EFORMAT;
		uint8_t b = p[i];
		if (i == 9 && b > 1)
			return -TP_EFORMAT; /* beyond 64 bits */
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return (int)i + 1;
		}
	}
	return -TP_EFORMAT;
}

int tp_pcat1_get_svarint(const uint8_t *p, size_t len, int64_t *v)
{
	uint64_t r = 0;
	for (size_t i = 0; i < 11; i++) {
		if (i >= len)
			return -TP_EFORMAT;
		uint8_t b = p[i];
		if (b == 0) {
			/* terminator of a negative value (or a lone 0) */
			if (r > (uint64_t)1 << 63)
				return -TP_EFORMAT;
			*v = r == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)r;
			return (int)i + 1;
		}
		if (i >= 10 || (i == 9 && (b & 0x7f) > 1))
			return -TP_EFORMAT;
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (r > (uint64_t)INT64_MAX)
				return -TP_EFORMAT;
			*v = (int64_t)r;
			return (int)i + 1;
		}
	}
	return -TP_EFORMAT;
}

/* ------------------------------------------------------------ writer */

static int w_out(tp_pcat1_writer *w, const void *buf, size_t len, tp_err *err)
{
	if (w->failed)
		return tp_err_set(err, -EINVAL, "catalog writer: an earlier write failed");
	int r = w->write(w->ctx, buf, len, err);
	if (r < 0) {
		w->failed = 1;
		return tp_err_wrap(err, r, "catalog writer: writing at offset %llu", (unsigned long long)w->pos);
	}
	w->pos += len;
	return 0;
}

static int push(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	if (w->depth == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
		tp_pcat1_wdir *d = realloc(w->dirs, nc * sizeof(*d));
		if (!d)
			return tp_err_set(err, -ENOMEM, "catalog writer: out of memory");
		w->dirs = d;
		w->cap = nc;
	}
	tp_pcat1_wdir *d = &w->dirs[w->depth];
	memset(d, 0, sizeof(*d));
	if (name && !(d->name = strdup(name)))
		return tp_err_set(err, -ENOMEM, "catalog writer: out of memory");
	w->depth++;
	return 0;
}

int tp_pcat1_writer_init(tp_pcat1_writer *w, tp_pxar_write_fn write, void *ctx, tp_err *err)
{
	memset(w, 0, sizeof(*w));
	w->write = write;
	w->ctx = ctx;
	int r = push(w, NULL, err);
	if (r == 0)
		r = w_out(w, tp_magic(TP_MAGIC_CLIENT_CATALOG), 8, err);
	return r;
}

static void free_dir(tp_pcat1_wdir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->ents[i].name);
	free(d->ents);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

void tp_pcat1_writer_free(tp_pcat1_writer *w)
{
	for (size_t i = 0; i < w->depth; i++)
		free_dir(&w->dirs[i]);
	free(w->dirs);
	w->dirs = NULL;
	w->depth = w->cap = 0;
}

static int check_name(const char *name, tp_err *err)
{
	size_t len = strlen(name);
	if (len > TP_PCAT1_MAX_NAME || !tp_pxar_name_valid(name, len))
		return tp_err_set(err, -EINVAL, "catalog writer: invalid name '%.100s'", name);
	return 0;
}

static int add(tp_pcat1_writer *w, uint8_t type, const char *name, uint64_t size, int64_t mtime, uint64_t child,
	       tp_err *err)
{
	if (w->finished || w->depth == 0)
		return tp_err_set(err, -EINVAL, "catalog writer: entry '%s' after finish", name);
	int r = check_name(name, err);
	if (r < 0)
		return r;
	tp_pcat1_wdir *d = &w->dirs[w->depth - 1];
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 16;
		tp_pcat1_went *e = realloc(d->ents, nc * sizeof(*e));
		if (!e)
			return tp_err_set(err, -ENOMEM, "catalog writer: out of memory");
		d->ents = e;
		d->cap = nc;
	}
	tp_pcat1_went *e = &d->ents[d->n];
	if (!(e->name = strdup(name)))
		return tp_err_set(err, -ENOMEM, "catalog writer: out of memory");
	e->type = type;
	e->size = size;
	e->mtime = mtime;
	e->child = child;
	d->n++;
	return 0;
}

int tp_pcat1_begin_dir(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	if (w->finished || w->depth == 0)
		return tp_err_set(err, -EINVAL, "catalog writer: directory '%s' after finish", name);
	int r = check_name(name, err);
	return r < 0 ? r : push(w, name, err);
}

/* Writes the innermost directory's block; returns its start offset in *start. */
static int write_block(tp_pcat1_writer *w, uint64_t *start, tp_err *err)
{
	tp_pcat1_wdir *d = &w->dirs[w->depth - 1];
	tp_buf t = TP_BUF_INIT;
	uint8_t v[11];
	uint64_t b = w->pos;
	int r = tp_buf_append(&t, v, tp_pcat1_put_uvarint(v, d->n));
	for (size_t i = 0; r == 0 && i < d->n; i++) {
		const tp_pcat1_went *e = &d->ents[i];
		size_t nl = strlen(e->name);
		r = tp_buf_append_u8(&t, e->type);
		if (r == 0)
			r = tp_buf_append(&t, v, tp_pcat1_put_uvarint(v, nl));
		if (r == 0)
			r = tp_buf_append(&t, e->name, nl);
		if (r == 0 && e->type == TP_PCAT1_DIR)
			r = tp_buf_append(&t, v, tp_pcat1_put_uvarint(v, b - e->child));
		if (r == 0 && e->type == TP_PCAT1_FILE) {
			r = tp_buf_append(&t, v, tp_pcat1_put_uvarint(v, e->size));
			if (r == 0)
				r = tp_buf_append(&t, v, tp_pcat1_put_svarint(v, e->mtime));
		}
	}
	if (r < 0) {
		r = tp_err_set(err, -ENOMEM, "catalog writer: out of memory");
		goto out;
	}
	if ((r = w_out(w, v, tp_pcat1_put_uvarint(v, t.len), err)) < 0)
		goto out;
	if ((r = w_out(w, t.data, t.len, err)) < 0)
		goto out;
	*start = b;
out:
	tp_buf_free(&t);
	return r;
}

int tp_pcat1_end_dir(tp_pcat1_writer *w, tp_err *err)
{
	if (w->finished || w->depth < 2)
		return tp_err_set(err, -EINVAL, "catalog writer: directory end without an open directory");
	uint64_t start;
	int r = write_block(w, &start, err);
	if (r < 0)
		return r;
	tp_pcat1_wdir done = w->dirs[--w->depth];
	r = add(w, TP_PCAT1_DIR, done.name, 0, 0, start, err);
	free_dir(&done);
	return r;
}

int tp_pcat1_add_file(tp_pcat1_writer *w, const char *name, uint64_t size, int64_t mtime, tp_err *err)
{
	return add(w, TP_PCAT1_FILE, name, size, mtime, 0, err);
}

int tp_pcat1_add_symlink(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	return add(w, TP_PCAT1_SYMLINK, name, 0, 0, 0, err);
}

int tp_pcat1_add_hardlink(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	return add(w, TP_PCAT1_HARDLINK, name, 0, 0, 0, err);
}

int tp_pcat1_add_block_device(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	return add(w, TP_PCAT1_BLOCKDEV, name, 0, 0, 0, err);
}

int tp_pcat1_add_char_device(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	return add(w, TP_PCAT1_CHARDEV, name, 0, 0, 0, err);
}

int tp_pcat1_add_fifo(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	return add(w, TP_PCAT1_FIFO, name, 0, 0, 0, err);
}

int tp_pcat1_add_socket(tp_pcat1_writer *w, const char *name, tp_err *err)
{
	return add(w, TP_PCAT1_SOCKET, name, 0, 0, 0, err);
}

int tp_pcat1_finish(tp_pcat1_writer *w, tp_err *err)
{
	if (w->finished || w->depth != 1)
		return tp_err_set(err, -EINVAL, "catalog writer: finish with %zu directories still open",
				  w->depth ? w->depth - 1 : 0);
	uint64_t start;
	uint8_t t[8];
	int r = write_block(w, &start, err);
	if (r < 0)
		return r;
	tp_put_le64(t, start);
	if ((r = w_out(w, t, 8, err)) < 0)
		return r;
	w->finished = 1;
	return 0;
}

/* ------------------------------------------------------------ reader */

int tp_pcat1_open(tp_pcat1 *c, const void *data, size_t len, tp_err *err)
{
	memset(c, 0, sizeof(*c));
	if (len < 8 + 2 + 8)
		return tp_err_set(err, -TP_EFORMAT, "catalog: %zu bytes is too short", len);
	if (memcmp(data, tp_magic(TP_MAGIC_CLIENT_CATALOG), 8))
		return tp_err_set(err, -TP_EFORMAT, "catalog: bad magic (not a pcat1 file catalog)");
	c->data = data;
	c->len = len;
	c->root = tp_le64(c->data + len - 8);
	if (c->root < 8 || c->root >= len - 8)
		return tp_err_set(err, -TP_EFORMAT, "catalog: root block offset %llu outside the data (%zu bytes)",
				  (unsigned long long)c->root, len);
	return 0;
}

int tp_pcat1_read_dir(const tp_pcat1 *c, uint64_t off, tp_pcat1_entry **ents, size_t *n, tp_err *err)
{
	*ents = NULL;
	*n = 0;
	size_t end = c->len - 8; /* blocks lie between magic and trailer */
	if (off < 8 || off >= end)
		return tp_err_set(err, -TP_EFORMAT, "catalog: block offset %llu outside the data",
				  (unsigned long long)off);
	const uint8_t *p = c->data;
	size_t at = (size_t)off;
	uint64_t tlen, count;
	int k = tp_pcat1_get_uvarint(p + at, end - at, &tlen);
	if (k < 0 || tlen > end - at - (size_t)k)
		return tp_err_set(err, -TP_EFORMAT, "catalog: block at %zu: bad table length", at);
	at += (size_t)k;
	size_t tend = at + (size_t)tlen;
	k = tp_pcat1_get_uvarint(p + at, tend - at, &count);
	if (k < 0 || count > (tend - at) / 2)
		return tp_err_set(err, -TP_EFORMAT, "catalog: block at %llu: bad entry count", (unsigned long long)off);
	at += (size_t)k;
	tp_pcat1_entry *e = calloc(count ? (size_t)count : 1, sizeof(*e));
	if (!e)
		return tp_err_set(err, -ENOMEM, "catalog: out of memory for %llu entries", (unsigned long long)count);
	int r = 0;
	for (size_t i = 0; i < count; i++) {
		uint64_t nl;
		size_t ent_at = at;
		if (at >= tend) {
			r = -TP_EFORMAT;
			goto bad;
		}
		e[i].type = p[at++];
		switch (e[i].type) {
		case 'd': case 'f': case 'l': case 'h': case 'b': case 'c': case 'p': case 's': break;
		default:
			r = tp_err_set(err, -TP_EFORMAT, "catalog: entry at %zu: unknown type byte 0x%02x", ent_at,
				       e[i].type);
			goto out;
		}
		if ((k = tp_pcat1_get_uvarint(p + at, tend - at, &nl)) < 0 || nl > tend - at - (size_t)k) {
			r = -TP_EFORMAT;
			goto bad;
		}
		at += (size_t)k;
		e[i].name = p + at;
		e[i].name_len = (size_t)nl;
		if (nl > TP_PCAT1_MAX_NAME || !tp_pxar_name_valid((const char *)e[i].name, (size_t)nl)) {
			r = tp_err_set(err, -TP_EFORMAT, "catalog: entry at %zu: invalid name", ent_at);
			goto out;
		}
		at += (size_t)nl;
		if (e[i].type == 'd') {
			uint64_t rel;
			if ((k = tp_pcat1_get_uvarint(p + at, tend - at, &rel)) < 0 || rel == 0 || rel > off - 8) {
				r = tp_err_set(err, -TP_EFORMAT, "catalog: entry at %zu: bad child block offset", ent_at);
				goto out;
			}
			at += (size_t)k;
			e[i].child = off - rel;
		} else if (e[i].type == 'f') {
			if ((k = tp_pcat1_get_uvarint(p + at, tend - at, &e[i].size)) < 0) {
				r = -TP_EFORMAT;
				goto bad;
			}
			at += (size_t)k;
			if ((k = tp_pcat1_get_svarint(p + at, tend - at, &e[i].mtime)) < 0) {
				r = -TP_EFORMAT;
				goto bad;
			}
			at += (size_t)k;
		}
	}
	if (at != tend) {
		r = tp_err_set(err, -TP_EFORMAT, "catalog: block at %llu: %zu unparsed bytes", (unsigned long long)off,
			       tend - at);
		goto out;
	}
	*ents = e;
	*n = (size_t)count;
	return 0;
bad:
	r = tp_err_set(err, r, "catalog: block at %llu: truncated or malformed entry at %zu", (unsigned long long)off,
		       at);
out:
	free(e);
	return r;
}

struct walk {
	const tp_pcat1 *c;
	tp_pcat1_visit_fn visit;
	void *ctx;
	tp_buf path;
	uint8_t *seen; /* one bit per catalog byte: block starts already visited */
};

static int walk_dir(struct walk *w, uint64_t off, size_t depth, tp_err *err)
{
	if (depth > TP_PCAT1_MAX_DEPTH)
		return tp_err_set(err, -TP_EFORMAT, "catalog: directories nested deeper than %d", TP_PCAT1_MAX_DEPTH);
	if (w->seen[off / 8] & (1u << (off % 8)))
		return tp_err_set(err, -TP_EFORMAT, "catalog: block at %llu is referenced twice",
				  (unsigned long long)off);
	w->seen[off / 8] |= (uint8_t)(1u << (off % 8));
	tp_pcat1_entry *e;
	size_t n;
	int r = tp_pcat1_read_dir(w->c, off, &e, &n, err);
	if (r < 0)
		return r;
	size_t base = w->path.len;
	for (size_t i = 0; i < n && r == 0; i++) {
		w->path.len = base;
		r = tp_buf_append_u8(&w->path, '/');
		if (r == 0)
			r = tp_buf_append(&w->path, e[i].name, e[i].name_len);
		if (r < 0) {
			r = tp_err_set(err, -ENOMEM, "catalog: out of memory for a path");
			break;
		}
		r = w->visit(w->ctx, tp_buf_cstr(&w->path), &e[i], err);
		if (r == 0 && e[i].type == 'd')
			r = walk_dir(w, e[i].child, depth + 1, err);
	}
	w->path.len = base;
	free(e);
	return r;
}

int tp_pcat1_walk(const tp_pcat1 *c, tp_pcat1_visit_fn visit, void *ctx, tp_err *err)
{
	struct walk w = { c, visit, ctx, TP_BUF_INIT, calloc(c->len / 8 + 1, 1) };
	if (!w.seen)
		return tp_err_set(err, -ENOMEM, "catalog: out of memory");
	int r = walk_dir(&w, c->root, 0, err);
	free(w.seen);
	tp_buf_free(&w.path);
	return r;
}

static int dump_visit(void *ctx, const char *path, const tp_pcat1_entry *e, tp_err *err)
{
	tp_buf *out = ctx;
	int r;
	if (e->type == 'f') {
		/* RFC 3339 only for years 0..9999 */
		if (e->mtime >= -62167219200LL && e->mtime <= 253402300799LL) {
			char t[21];
			tp_time_utc(e->mtime, t);
			r = tp_buf_printf(out, "f %" PRIu64 " %s ", e->size, t);
		} else {
			r = tp_buf_printf(out, "f %" PRIu64 " %" PRId64 " ", e->size, e->mtime);
		}
	} else {
		r = tp_buf_printf(out, "%c - - ", e->type);
	}
	for (const unsigned char *p = (const unsigned char *)path; r == 0 && *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			r = tp_buf_printf(out, "\\x%02x", *p);
		else
			r = tp_buf_append_u8(out, *p);
	}
	if (r == 0)
		r = tp_buf_append_u8(out, '\n');
	if (r < 0)
		return tp_err_set(err, -ENOMEM, "catalog: out of memory for the dump");
	return 0;
}

int tp_pcat1_dump(const tp_pcat1 *c, tp_buf *out, tp_err *err)
{
	return tp_pcat1_walk(c, dump_visit, out, err);
}
