/* pxar v1 sequential decoder and goodbye-table random access. */
#include "format/pxar.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/siphash.h"

#define IFMT 0170000ULL

enum { ST_START, ST_DIR, ST_END, ST_DONE, ST_FAILED };

static unsigned long long ull(uint64_t v) { return (unsigned long long)v; }

static const char *item_name(uint64_t t)
{
	switch (t) {
	case TP_PXAR_FORMAT_VERSION: return "FORMAT_VERSION";
	case TP_PXAR_ENTRY: return "ENTRY";
	case TP_PXAR_ENTRY_V1: return "ENTRY_V1";
	case TP_PXAR_PRELUDE: return "PRELUDE";
	case TP_PXAR_FILENAME: return "FILENAME";
	case TP_PXAR_SYMLINK: return "SYMLINK";
	case TP_PXAR_DEVICE: return "DEVICE";
	case TP_PXAR_XATTR: return "XATTR";
	case TP_PXAR_ACL_USER: return "ACL_USER";
	case TP_PXAR_ACL_GROUP: return "ACL_GROUP";
	case TP_PXAR_ACL_GROUP_OBJ: return "ACL_GROUP_OBJ";
	case TP_PXAR_ACL_DEFAULT: return "ACL_DEFAULT";
	case TP_PXAR_ACL_DEFAULT_USER: return "ACL_DEFAULT_USER";
	case TP_PXAR_ACL_DEFAULT_GROUP: return "ACL_DEFAULT_GROUP";
	case TP_PXAR_FCAPS: return "FCAPS";
	case TP_PXAR_QUOTA_PROJID: return "QUOTA_PROJID";
	case TP_PXAR_HARDLINK: return "HARDLINK";
	case TP_PXAR_PAYLOAD: return "PAYLOAD";
	case TP_PXAR_PAYLOAD_REF: return "PAYLOAD_REF";
	case TP_PXAR_GOODBYE: return "GOODBYE";
	case TP_PXAR_PAYLOAD_START_MARKER: return "PAYLOAD_START_MARKER";
	case TP_PXAR_PAYLOAD_TAIL_MARKER: return "PAYLOAD_TAIL_MARKER";
	}
	return NULL;
}

/* Body size rules per item type (Header::check_header_size plus exact sizes). */
static int check_header(uint64_t type, uint64_t full, uint64_t off, tp_err *err)
{
	const char *n = item_name(type);
	if (!n)
		return tp_err_set(err, -TP_EFORMAT, "pxar: unknown item type %016llx at offset %llu", ull(type),
				  ull(off));
	if (type == TP_PXAR_FORMAT_VERSION)
		return tp_err_set(err, -TP_EFORMAT, "pxar v2 (split) archives are not supported (FORMAT_VERSION at offset %llu)",
				  ull(off));
	if (type == TP_PXAR_PRELUDE || type == TP_PXAR_PAYLOAD_REF || type == TP_PXAR_PAYLOAD_START_MARKER ||
	    type == TP_PXAR_PAYLOAD_TAIL_MARKER)
		return tp_err_set(err, -TP_EFORMAT, "pxar v2 (split) archives are not supported (%s at offset %llu)", n,
				  ull(off));
	if (full < TP_PXAR_HEADER_SIZE)
		return tp_err_set(err, -TP_EFORMAT, "pxar: %s item at offset %llu has size %llu < 16", n, ull(off),
				  ull(full));
	uint64_t body = full - TP_PXAR_HEADER_SIZE, lo = 0, hi = UINT64_MAX;
	switch (type) {
	case TP_PXAR_ENTRY: lo = hi = TP_PXAR_STAT_SIZE; break;
	case TP_PXAR_ENTRY_V1: lo = hi = 32; break;
	case TP_PXAR_FILENAME:
	case TP_PXAR_SYMLINK: lo = 2; hi = TP_PXAR_MAX_FILENAME + 1; break;
	case TP_PXAR_DEVICE:
	case TP_PXAR_ACL_USER:
	case TP_PXAR_ACL_GROUP:
	case TP_PXAR_ACL_DEFAULT_USER:
	case TP_PXAR_ACL_DEFAULT_GROUP: lo = hi = 16; break;
	case TP_PXAR_ACL_GROUP_OBJ:
	case TP_PXAR_QUOTA_PROJID: lo = hi = 8; break;
	case TP_PXAR_ACL_DEFAULT: lo = hi = 32; break;
	case TP_PXAR_XATTR: lo = 2; hi = TP_PXAR_MAX_XATTR_BODY; break;
	case TP_PXAR_FCAPS: hi = TP_PXAR_MAX_XATTR_BODY; break;
	case TP_PXAR_HARDLINK: lo = 10; hi = 8 + TP_PXAR_MAX_FILENAME + 1; break;
	case TP_PXAR_GOODBYE: lo = TP_PXAR_GOODBYE_ITEM_SIZE; break;
	default: break;
	}
	if (body < lo || body > hi)
		return tp_err_set(err, -TP_EFORMAT, "pxar: %s item at offset %llu has invalid size %llu", n, ull(off),
				  ull(full));
	if (type == TP_PXAR_GOODBYE && body % TP_PXAR_GOODBYE_ITEM_SIZE)
		return tp_err_set(err, -TP_EFORMAT, "pxar: GOODBYE at offset %llu: size %llu is not 16 + 24*k",
				  ull(off), ull(full));
	return 0;
}

/* ----------------------------------------------------------- byte input */

static int fail(tp_pxar_dec *dec, int r)
{
	dec->state = ST_FAILED;
	return r;
}

/* Reads up to len bytes; returns the count (short only at end of stream). */
static long rd_some(tp_pxar_dec *dec, void *buf, size_t len, tp_err *err)
{
	size_t got = 0;
	while (got < len) {
		long n = dec->read(dec->ctx, (uint8_t *)buf + got, len - got, err);
		if (n < 0)
			return tp_err_wrap(err, (int)n, "pxar: reading at offset %llu", ull(dec->pos));
		if (n == 0)
			break;
		if ((size_t)n > len - got)
			return tp_err_set(err, -EIO, "pxar: read callback returned too many bytes");
		got += (size_t)n;
		dec->pos += (uint64_t)n;
	}
	return (long)got;
}

static int rd_exact(tp_pxar_dec *dec, void *buf, size_t len, const char *what, tp_err *err)
{
	uint64_t at = dec->pos;
	long n = rd_some(dec, buf, len, err);
	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return tp_err_set(err, -TP_EFORMAT, "pxar: truncated archive: %s at offset %llu needs %zu bytes, got %ld",
				  what, ull(at), len, n);
	return 0;
}

static int rd_skip(tp_pxar_dec *dec, uint64_t n, const char *what, tp_err *err)
{
	uint8_t tmp[16384];
	while (n) {
		size_t k = n > sizeof(tmp) ? sizeof(tmp) : (size_t)n;
		int r = rd_exact(dec, tmp, k, what, err);
		if (r < 0)
			return r;
		n -= k;
	}
	return 0;
}

/*
 * Reads the next item header into dec->hdr_* (or returns the look-ahead).
 * Returns 1, or 0 at a clean end of stream when eof_ok.
 */
static int rd_header(tp_pxar_dec *dec, int eof_ok, tp_err *err)
{
	if (dec->have_hdr) {
		dec->have_hdr = 0;
		return 1;
	}
	uint8_t h[16];
	uint64_t at = dec->pos;
	long n = rd_some(dec, h, sizeof(h), err);
	if (n < 0)
		return (int)n;
	if (n == 0 && eof_ok)
		return 0;
	if (n != (long)sizeof(h))
		return tp_err_set(err, -TP_EFORMAT, "pxar: truncated archive: item header at offset %llu", ull(at));
	dec->hdr_type = tp_le64(h);
	dec->hdr_size = tp_le64(h + 8);
	dec->hdr_offset = at;
	int r = check_header(dec->hdr_type, dec->hdr_size, at, err);
	return r < 0 ? r : 1;
}

/* Reads the current item's body into b (bounded by check_header). */
static int rd_body(tp_pxar_dec *dec, tp_buf *b, tp_err *err)
{
	size_t len = (size_t)(dec->hdr_size - TP_PXAR_HEADER_SIZE);
	tp_buf_reset(b);
	if (tp_buf_reserve(b, len + 1) < 0)
		return tp_err_set(err, -ENOMEM, "pxar: out of memory for a %zu byte item", len);
	int r = rd_exact(dec, b->data, len, item_name(dec->hdr_type), err);
	if (r < 0)
		return r;
	b->len = len;
	b->data[len] = 0;
	return 0;
}

/* A NUL-terminated string body without inner NUL; returns its length. */
static int body_cstr(tp_pxar_dec *dec, const tp_buf *b, const char *what, tp_err *err)
{
	if (b->len == 0 || b->data[b->len - 1] != 0)
		return tp_err_set(err, -TP_EFORMAT, "pxar: %s at offset %llu is not NUL-terminated", what,
				  ull(dec->hdr_offset));
	if (memchr(b->data, 0, b->len - 1))
		return tp_err_set(err, -TP_EFORMAT, "pxar: %s at offset %llu contains a NUL byte", what,
				  ull(dec->hdr_offset));
	return (int)(b->len - 1);
}

/* ------------------------------------------------------------ metadata */

static int grow(void **arr, size_t *n, size_t elem, tp_err *err)
{
	if (*n >= TP_PXAR_MAX_ATTR_ITEMS)
		return tp_err_set(err, -TP_EFORMAT, "pxar: more than %d attribute items in one entry",
				  TP_PXAR_MAX_ATTR_ITEMS);
	/* capacity is implied by n (4, then powers of two): no quadratic copying */
	size_t n0 = *n;
	if (n0 < 4 ? n0 != 0 : (n0 & (n0 - 1)) != 0)
		return 0;
	void *p = realloc(*arr, (n0 < 4 ? 4 : 2 * n0) * elem);
	if (!p)
		return tp_err_set(err, -ENOMEM, "pxar: out of memory for attributes");
	*arr = p;
	return 0;
}

static int add_acl(tp_pxar_acl_entry **arr, size_t *n, const uint8_t *b, tp_err *err)
{
	int r = grow((void **)arr, n, sizeof(**arr), err);
	if (r < 0)
		return r;
	(*arr)[*n].id = tp_le64(b);
	(*arr)[*n].perms = tp_le64(b + 8);
	(*n)++;
	return 0;
}

static int read_stat(tp_pxar_dec *dec, tp_pxar_meta *m, tp_err *err)
{
	uint8_t b[TP_PXAR_STAT_SIZE];
	size_t len = (size_t)(dec->hdr_size - TP_PXAR_HEADER_SIZE);
	int r = rd_exact(dec, b, len, item_name(dec->hdr_type), err);
	if (r < 0)
		return r;
	m->mode = tp_le64(b);
	m->flags = tp_le64(b + 8);
	m->uid = tp_le32(b + 16);
	m->gid = tp_le32(b + 20);
	if (dec->hdr_type == TP_PXAR_ENTRY_V1) {
		uint64_t ns = tp_le64(b + 24);
		m->mtime_secs = (int64_t)(ns / 1000000000u);
		m->mtime_nanos = (uint32_t)(ns % 1000000000u);
	} else {
		/* the padding at 36 is ignored: old encoders left garbage there */
		m->mtime_secs = (int64_t)tp_le64(b + 24);
		m->mtime_nanos = tp_le32(b + 32);
		if (m->mtime_nanos >= 1000000000u)
			return tp_err_set(err, -TP_EFORMAT, "pxar: ENTRY at offset %llu: mtime nanoseconds %u out of range",
					  ull(dec->hdr_offset), m->mtime_nanos);
	}
	return 0;
}

static int dup_err(tp_pxar_dec *dec, tp_err *err)
{
	return tp_err_set(err, -TP_EFORMAT, "pxar: duplicate %s item at offset %llu in entry '%s'",
			  item_name(dec->hdr_type), ull(dec->hdr_offset), dec->path.len ? (char *)dec->path.data : "/");
}

/*
 * Reads attribute items after ENTRY until the item that ends the entry.
 * Sets *term to that item's type with its header consumed (SYMLINK, DEVICE,
 * PAYLOAD), or to 0 when the next item (FILENAME, GOODBYE; or end of stream in
 * single-entry mode) belongs to what follows and stays as look-ahead.
 */
static int read_attrs(tp_pxar_dec *dec, tp_pxar_meta *m, uint64_t *term, tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	int ret = 0;
	int r;
	*term = 0;
	for (;;) {
		r = rd_header(dec, dec->single, err);
		if (r <= 0) {
			ret = r;
			goto out;
		}
		uint64_t t = dec->hdr_type;
		if (t == TP_PXAR_SYMLINK || t == TP_PXAR_DEVICE || t == TP_PXAR_PAYLOAD) {
			*term = t;
			goto out;
		}
		if (t == TP_PXAR_FILENAME || t == TP_PXAR_GOODBYE) {
			dec->have_hdr = 1;
			ret = 0;
			goto out;
		}
		if (t == TP_PXAR_HARDLINK || t == TP_PXAR_ENTRY || t == TP_PXAR_ENTRY_V1) {
			ret = tp_err_set(err, -TP_EFORMAT, "pxar: unexpected %s item at offset %llu after an ENTRY",
					 item_name(t), ull(dec->hdr_offset));
			goto out;
		}
		r = rd_body(dec, &b, err);
		if (r < 0) {
			ret = r;
			goto out;
		}
		switch (t) {
		case TP_PXAR_XATTR: {
			uint8_t *nul = memchr(b.data, 0, b.len);
			if (!nul || nul == b.data || (size_t)(nul - b.data) > TP_PXAR_MAX_XATTR_NAME) {
				ret = tp_err_set(err, -TP_EFORMAT, "pxar: XATTR at offset %llu has no valid name",
						 ull(dec->hdr_offset));
				goto out;
			}
			size_t nl = (size_t)(nul - b.data), vl = b.len - nl - 1;
			r = grow((void **)&m->xattrs, &m->n_xattrs, sizeof(*m->xattrs), err);
			if (r < 0) {
				ret = r;
				goto out;
			}
			tp_pxar_xattr *x = &m->xattrs[m->n_xattrs];
			x->name = malloc(nl + 1);
			x->value = malloc(vl ? vl : 1);
			if (!x->name || !x->value) {
				free(x->name);
				free(x->value);
				ret = tp_err_set(err, -ENOMEM, "pxar: out of memory for an xattr");
				goto out;
			}
			memcpy(x->name, b.data, nl + 1);
			memcpy(x->value, nul + 1, vl);
			x->value_len = vl;
			m->n_xattrs++;
			break;
		}
		case TP_PXAR_ACL_USER: r = add_acl(&m->acl_users, &m->n_acl_users, b.data, err); break;
		case TP_PXAR_ACL_GROUP: r = add_acl(&m->acl_groups, &m->n_acl_groups, b.data, err); break;
		case TP_PXAR_ACL_DEFAULT_USER:
			r = add_acl(&m->acl_default_users, &m->n_acl_default_users, b.data, err);
			break;
		case TP_PXAR_ACL_DEFAULT_GROUP:
			r = add_acl(&m->acl_default_groups, &m->n_acl_default_groups, b.data, err);
			break;
		case TP_PXAR_ACL_GROUP_OBJ:
			if (m->has_acl_group_obj) {
				r = dup_err(dec, err);
				break;
			}
			m->has_acl_group_obj = 1;
			m->acl_group_obj = tp_le64(b.data);
			break;
		case TP_PXAR_ACL_DEFAULT:
			if (m->has_acl_default) {
				r = dup_err(dec, err);
				break;
			}
			m->has_acl_default = 1;
			m->acl_default.user_obj = tp_le64(b.data);
			m->acl_default.group_obj = tp_le64(b.data + 8);
			m->acl_default.other = tp_le64(b.data + 16);
			m->acl_default.mask = tp_le64(b.data + 24);
			break;
		case TP_PXAR_FCAPS:
			if (m->has_fcaps) {
				r = dup_err(dec, err);
				break;
			}
			m->has_fcaps = 1;
			m->fcaps_len = b.len;
			m->fcaps = tp_buf_steal(&b, NULL);
			if (!m->fcaps)
				m->fcaps = calloc(1, 1);
			if (!m->fcaps)
				r = tp_err_set(err, -ENOMEM, "pxar: out of memory for fcaps");
			break;
		case TP_PXAR_QUOTA_PROJID:
			if (m->has_projid) {
				r = dup_err(dec, err);
				break;
			}
			m->has_projid = 1;
			m->projid = tp_le64(b.data);
			break;
		default:
			r = tp_err_set(err, -TP_EFORMAT, "pxar: unexpected %s item at offset %llu", item_name(t),
				       ull(dec->hdr_offset));
			break;
		}
		if (r < 0) {
			ret = r;
			goto out;
		}
	}
out:
	tp_buf_free(&b);
	return ret;
}

/* -------------------------------------------------------------- walking */

static void reset_cur(tp_pxar_dec *dec)
{
	tp_pxar_meta_free(&dec->cur.meta);
	memset(&dec->cur, 0, sizeof(dec->cur));
}

static int set_path(tp_pxar_dec *dec, const uint8_t *name, size_t len, tp_err *err)
{
	size_t base = dec->depth ? dec->path_lens[dec->depth - 1] : 0;
	dec->path.len = base;
	int r = 0;
	if (base)
		r = tp_buf_append_u8(&dec->path, '/');
	if (r == 0)
		r = tp_buf_append(&dec->path, name, len);
	if (r == 0)
		r = tp_buf_reserve(&dec->path, 0);
	if (r < 0)
		return tp_err_set(err, -ENOMEM, "pxar: out of memory for a path");
	dec->path.data[dec->path.len] = 0;
	dec->cur.path = (const char *)dec->path.data;
	dec->cur.name = dec->cur.path + dec->path.len - len;
	return 0;
}

static int push_dir(tp_pxar_dec *dec, tp_err *err)
{
	if (dec->depth >= TP_PXAR_MAX_DEPTH)
		return tp_err_set(err, -TP_EFORMAT, "pxar: directories nested deeper than %d at '%s'", TP_PXAR_MAX_DEPTH,
				  dec->cur.path);
	if (dec->depth == dec->cap_depth) {
		size_t nc = dec->cap_depth ? dec->cap_depth * 2 : 32;
		size_t *p = realloc(dec->path_lens, nc * sizeof(*p));
		if (!p)
			return tp_err_set(err, -ENOMEM, "pxar: out of memory for the directory stack");
		dec->path_lens = p;
		dec->cap_depth = nc;
	}
	dec->path_lens[dec->depth++] = dec->path.len;
	return 0;
}

/* Reads ENTRY (already the current header), attributes and the item that ends the entry. */
static int decode_entry(tp_pxar_dec *dec, tp_err *err)
{
	tp_pxar_entry *e = &dec->cur;
	e->entry_offset = dec->hdr_offset;
	int r = read_stat(dec, &e->meta, err);
	if (r < 0)
		return r;
	uint64_t term;
	if ((r = read_attrs(dec, &e->meta, &term, err)) < 0)
		return r;
	uint64_t type = e->meta.mode & IFMT;
	const char *p = e->path[0] ? e->path : "/";
	switch (term) {
	case 0:
		if (type == S_IFIFO)
			e->kind = TP_PXAR_KIND_FIFO;
		else if (type == S_IFSOCK)
			e->kind = TP_PXAR_KIND_SOCKET;
		else if (type == S_IFDIR)
			e->kind = TP_PXAR_KIND_DIR;
		else
			return tp_err_set(err, -TP_EFORMAT,
					  "pxar: entry '%s' at offset %llu with mode 0%llo has no content item", p,
					  ull(e->entry_offset), ull(e->meta.mode));
		e->end_offset = dec->have_hdr ? dec->hdr_offset : dec->pos;
		return 0;
	case TP_PXAR_PAYLOAD:
		if (type != S_IFREG)
			return tp_err_set(err, -TP_EFORMAT, "pxar: PAYLOAD at offset %llu for '%s' with mode 0%llo",
					  ull(dec->hdr_offset), p, ull(e->meta.mode));
		e->kind = TP_PXAR_KIND_FILE;
		e->size = dec->hdr_size - TP_PXAR_HEADER_SIZE;
		e->payload_offset = dec->pos;
		e->end_offset = dec->pos + e->size;
		dec->payload_left = e->size;
		return 0;
	case TP_PXAR_SYMLINK:
		if (type != S_IFLNK)
			return tp_err_set(err, -TP_EFORMAT, "pxar: SYMLINK at offset %llu for '%s' with mode 0%llo",
					  ull(dec->hdr_offset), p, ull(e->meta.mode));
		r = rd_body(dec, &dec->target, err);
		if (r == 0)
			r = body_cstr(dec, &dec->target, "symlink target", err);
		if (r < 0)
			return r;
		e->kind = TP_PXAR_KIND_SYMLINK;
		e->link_target = (const char *)dec->target.data;
		e->end_offset = dec->pos;
		return 0;
	case TP_PXAR_DEVICE: {
		uint8_t b[16];
		if (type != S_IFCHR && type != S_IFBLK)
			return tp_err_set(err, -TP_EFORMAT, "pxar: DEVICE at offset %llu for '%s' with mode 0%llo",
					  ull(dec->hdr_offset), p, ull(e->meta.mode));
		r = rd_exact(dec, b, 16, "DEVICE", err);
		if (r < 0)
			return r;
		e->kind = TP_PXAR_KIND_DEVICE;
		e->dev_major = tp_le64(b);
		e->dev_minor = tp_le64(b + 8);
		e->end_offset = dec->pos;
		return 0;
	}
	}
	return tp_err_set(err, -TP_EFORMAT, "pxar: internal decoder state error");
}

static int next_root(tp_pxar_dec *dec, tp_err *err)
{
	int r = rd_header(dec, 0, err);
	if (r < 0)
		return r;
	if (dec->hdr_type != TP_PXAR_ENTRY && dec->hdr_type != TP_PXAR_ENTRY_V1)
		return tp_err_set(err, -TP_EFORMAT, "pxar: archive must start with an ENTRY item, found %s at offset %llu",
				  item_name(dec->hdr_type), ull(dec->hdr_offset));
	if ((r = set_path(dec, (const uint8_t *)"", 0, err)) < 0)
		return r;
	if ((r = decode_entry(dec, err)) < 0)
		return r;
	if (dec->single) {
		dec->state = ST_DONE;
		return 1;
	}
	if (dec->cur.kind != TP_PXAR_KIND_DIR)
		return tp_err_set(err, -TP_EFORMAT, "pxar: the archive root is a %s, not a directory",
				  tp_pxar_kind_name(dec->cur.kind));
	if ((r = push_dir(dec, err)) < 0)
		return r;
	dec->state = ST_DIR;
	return 1;
}

static int next_in_dir(tp_pxar_dec *dec, tp_err *err)
{
	tp_pxar_entry *e = &dec->cur;
	int r = rd_header(dec, 1, err);
	if (r < 0)
		return r;
	if (r == 0) {
		size_t base = dec->path_lens[dec->depth - 1];
		return tp_err_set(err, -TP_EFORMAT, "pxar: truncated archive: directory '%.*s' not closed at offset %llu",
				  (int)base, base ? (char *)dec->path.data : "/", ull(dec->pos));
	}
	if (dec->hdr_type == TP_PXAR_GOODBYE) {
		/* the sequential reader skips the table; random access checks it */
		e->kind = TP_PXAR_KIND_GOODBYE;
		e->entry_offset = dec->hdr_offset;
		dec->path.len = dec->path_lens[dec->depth - 1];
		tp_buf_cstr(&dec->path);
		e->path = (const char *)dec->path.data;
		e->name = strrchr(e->path, '/') ? strrchr(e->path, '/') + 1 : e->path;
		e->depth = dec->depth - 1;
		if ((r = rd_skip(dec, dec->hdr_size - TP_PXAR_HEADER_SIZE, "GOODBYE", err)) < 0)
			return r;
		e->end_offset = dec->pos;
		dec->depth--;
		if (dec->depth == 0)
			dec->state = ST_END;
		return 1;
	}
	if (dec->hdr_type != TP_PXAR_FILENAME)
		return tp_err_set(err, -TP_EFORMAT, "pxar: expected FILENAME or GOODBYE at offset %llu, found %s",
				  ull(dec->hdr_offset), item_name(dec->hdr_type));
	e->filename_offset = dec->hdr_offset;
	if ((r = rd_body(dec, &dec->name, err)) < 0)
		return r;
	int nl = body_cstr(dec, &dec->name, "FILENAME", err);
	if (nl < 0)
		return nl;
	if (!tp_pxar_name_valid((const char *)dec->name.data, (size_t)nl))
		return tp_err_set(err, -TP_EFORMAT, "pxar: invalid file name '%.100s' at offset %llu",
				  (char *)dec->name.data, ull(e->filename_offset));
	if ((r = set_path(dec, dec->name.data, (size_t)nl, err)) < 0)
		return r;
	e->depth = dec->depth;
	if ((r = rd_header(dec, 0, err)) < 0)
		return r;
	if (dec->hdr_type == TP_PXAR_HARDLINK) {
		e->kind = TP_PXAR_KIND_HARDLINK;
		e->entry_offset = dec->hdr_offset;
		if ((r = rd_body(dec, &dec->target, err)) < 0)
			return r;
		e->hardlink_offset = tp_le64(dec->target.data);
		if (e->hardlink_offset == 0 || e->hardlink_offset > e->filename_offset)
			return tp_err_set(err, -TP_EFORMAT, "pxar: hardlink '%s' at offset %llu: offset %llu points outside the archive",
					  e->path, ull(e->filename_offset), ull(e->hardlink_offset));
		/* keep the path as a C string at the start of the buffer */
		memmove(dec->target.data, dec->target.data + 8, dec->target.len - 8);
		dec->target.len -= 8;
		if ((r = body_cstr(dec, &dec->target, "hardlink target", err)) < 0)
			return r;
		e->link_target = (const char *)dec->target.data;
		e->end_offset = dec->pos;
		return 1;
	}
	if (dec->hdr_type != TP_PXAR_ENTRY && dec->hdr_type != TP_PXAR_ENTRY_V1)
		return tp_err_set(err, -TP_EFORMAT, "pxar: expected ENTRY or HARDLINK after FILENAME '%s' at offset %llu, found %s",
				  e->path, ull(dec->hdr_offset), item_name(dec->hdr_type));
	if ((r = decode_entry(dec, err)) < 0)
		return r;
	if (e->kind == TP_PXAR_KIND_DIR && (r = push_dir(dec, err)) < 0)
		return r;
	return 1;
}

int tp_pxar_dec_init(tp_pxar_dec *dec, tp_pxar_read_fn read, void *ctx, tp_err *err)
{
	(void)err;
	memset(dec, 0, sizeof(*dec));
	dec->read = read;
	dec->ctx = ctx;
	dec->state = ST_START;
	return 0;
}

int tp_pxar_dec_next(tp_pxar_dec *dec, const tp_pxar_entry **out, tp_err *err)
{
	int r;
	*out = NULL;
	if (dec->state == ST_FAILED)
		return tp_err_set(err, -TP_EFORMAT, "pxar: decoder already failed");
	if (dec->payload_left) {
		if ((r = rd_skip(dec, dec->payload_left, "PAYLOAD", err)) < 0)
			return fail(dec, r);
		dec->payload_left = 0;
	}
	reset_cur(dec);
	switch (dec->state) {
	case ST_START:
		r = next_root(dec, err);
		break;
	case ST_DIR:
		r = next_in_dir(dec, err);
		break;
	case ST_END: {
		uint8_t c;
		long n = rd_some(dec, &c, 1, err);
		if (n < 0)
			return fail(dec, (int)n);
		if (n > 0)
			return fail(dec, tp_err_set(err, -TP_EFORMAT, "pxar: data after the root GOODBYE at offset %llu",
						    ull(dec->pos - 1)));
		dec->state = ST_DONE;
		return 0;
	}
	default:
		return 0;
	}
	if (r < 0) {
		reset_cur(dec);
		return fail(dec, r);
	}
	*out = &dec->cur;
	return r;
}

long tp_pxar_dec_read_payload(tp_pxar_dec *dec, void *buf, size_t len, tp_err *err)
{
	if (dec->state == ST_FAILED)
		return tp_err_set(err, -TP_EFORMAT, "pxar: decoder already failed");
	if (len > dec->payload_left)
		len = (size_t)dec->payload_left;
	if (len > 0x40000000)
		len = 0x40000000;
	if (len == 0)
		return 0;
	int r = rd_exact(dec, buf, len, "PAYLOAD", err);
	if (r < 0)
		return fail(dec, r);
	dec->payload_left -= len;
	return (long)len;
}

void tp_pxar_dec_free(tp_pxar_dec *dec)
{
	reset_cur(dec);
	tp_buf_free(&dec->path);
	tp_buf_free(&dec->name);
	tp_buf_free(&dec->target);
	free(dec->path_lens);
	dec->path_lens = NULL;
	dec->depth = dec->cap_depth = 0;
}

/* -------------------------------------------------------- random access */

static int acc_read(const tp_pxar_acc *acc, void *buf, size_t len, uint64_t off, const char *what, tp_err *err)
{
	if (off > acc->size || len > acc->size - off)
		return tp_err_set(err, -TP_EFORMAT, "pxar: %s at offset %llu (+%zu) lies beyond the archive end %llu",
				  what, ull(off), len, ull(acc->size));
	if (acc->mem) {
		memcpy(buf, acc->mem + off, len);
		return 0;
	}
	size_t got = 0;
	while (got < len) {
		long n = acc->pread(acc->ctx, (uint8_t *)buf + got, len - got, off + got, err);
		if (n < 0)
			return tp_err_wrap(err, (int)n, "pxar: reading %s at offset %llu", what, ull(off));
		if (n == 0 || (size_t)n > len - got)
			return tp_err_set(err, -TP_EFORMAT, "pxar: short read of %s at offset %llu", what, ull(off));
		got += (size_t)n;
	}
	return 0;
}

int tp_pxar_acc_init(tp_pxar_acc *acc, tp_pxar_pread_fn pread, void *ctx, uint64_t size, tp_err *err)
{
	(void)err;
	memset(acc, 0, sizeof(*acc));
	acc->pread = pread;
	acc->ctx = ctx;
	acc->size = size;
	return 0;
}

int tp_pxar_acc_init_mem(tp_pxar_acc *acc, const void *data, size_t size, tp_err *err)
{
	(void)err;
	memset(acc, 0, sizeof(*acc));
	acc->mem = data;
	acc->size = size;
	return 0;
}

/* Opens the directory whose goodbye table ends at end; its ENTRY must be at entry_offset. */
static int open_dir_at(tp_pxar_acc *acc, uint64_t end, uint64_t entry_offset, tp_pxar_acc_dir *dir, tp_err *err)
{
	uint8_t t[24], h[16];
	if (end < entry_offset + TP_PXAR_HEADER_SIZE + TP_PXAR_STAT_SIZE + 40)
		return tp_err_set(err, -TP_EFORMAT, "pxar: directory at offset %llu is too small (ends at %llu)",
				  ull(entry_offset), ull(end));
	int r = acc_read(acc, t, 24, end - 24, "goodbye tail", err);
	if (r < 0)
		return r;
	uint64_t size = tp_le64(t + 16), off = tp_le64(t + 8);
	if (tp_le64(t) != TP_PXAR_GOODBYE_TAIL_MARKER)
		return tp_err_set(err, -TP_EFORMAT, "pxar: no goodbye tail marker at offset %llu", ull(end - 24));
	if (size < 40 || size > end - entry_offset || (size - 16) % 24)
		return tp_err_set(err, -TP_EFORMAT, "pxar: goodbye tail at offset %llu has invalid size %llu",
				  ull(end - 24), ull(size));
	uint64_t gb = end - size;
	if (off > gb || gb - off != entry_offset || off < TP_PXAR_HEADER_SIZE + TP_PXAR_STAT_SIZE)
		return tp_err_set(err, -TP_EFORMAT, "pxar: goodbye at offset %llu points to ENTRY %llu, expected %llu",
				  ull(gb), off > gb ? 0ULL : ull(gb - off), ull(entry_offset));
	if ((r = acc_read(acc, h, 16, gb, "goodbye header", err)) < 0)
		return r;
	if (tp_le64(h) != TP_PXAR_GOODBYE || tp_le64(h + 8) != size)
		return tp_err_set(err, -TP_EFORMAT, "pxar: no GOODBYE header of size %llu at offset %llu", ull(size),
				  ull(gb));
	dir->entry_offset = entry_offset;
	dir->goodbye_offset = gb;
	dir->end = end;
	dir->n = (size_t)((size - 16) / 24 - 1);
	return 0;
}

int tp_pxar_acc_root(tp_pxar_acc *acc, tp_pxar_acc_dir *dir, tp_err *err)
{
	uint8_t h[16];
	int r = acc_read(acc, h, 16, 0, "archive start", err);
	if (r < 0)
		return r;
	if (tp_le64(h) == TP_PXAR_FORMAT_VERSION)
		return tp_err_set(err, -TP_EFORMAT, "pxar v2 (split) archives are not supported");
	return open_dir_at(acc, acc->size, 0, dir, err);
}

int tp_pxar_acc_open_dir(tp_pxar_acc *acc, const tp_pxar_acc_item *item, tp_pxar_acc_dir *dir, tp_err *err)
{
	return open_dir_at(acc, item->end, item->entry_offset, dir, err);
}

int tp_pxar_acc_child(tp_pxar_acc *acc, const tp_pxar_acc_dir *dir, size_t i, tp_pxar_acc_item *item, tp_err *err)
{
	uint8_t g[24], h[16];
	if (i >= dir->n)
		return tp_err_set(err, -EINVAL, "pxar: goodbye item %zu of %zu", i, dir->n);
	uint64_t at = dir->goodbye_offset + 16 + 24 * (uint64_t)i;
	int r = acc_read(acc, g, 24, at, "goodbye item", err);
	if (r < 0)
		return r;
	uint64_t off = tp_le64(g + 8), size = tp_le64(g + 16);
	uint64_t fn = dir->goodbye_offset - off;
	/* the child lies between the directory's ENTRY and its GOODBYE */
	if (off > dir->goodbye_offset - dir->entry_offset - 56 || size > off || size < 18 + 16)
		return tp_err_set(err, -TP_EFORMAT, "pxar: goodbye item at offset %llu has invalid offset %llu/size %llu",
				  ull(at), ull(off), ull(size));
	if ((r = acc_read(acc, h, 16, fn, "FILENAME header", err)) < 0)
		return r;
	uint64_t fsz = tp_le64(h + 8);
	if (tp_le64(h) != TP_PXAR_FILENAME || fsz < 18 || fsz > 16 + TP_PXAR_MAX_FILENAME + 1 || fsz + 16 > size)
		return tp_err_set(err, -TP_EFORMAT, "pxar: goodbye item at offset %llu: no valid FILENAME at offset %llu",
				  ull(at), ull(fn));
	size_t nl = (size_t)(fsz - 16);
	if ((r = acc_read(acc, item->name, nl, fn + 16, "FILENAME", err)) < 0)
		return r;
	if (item->name[nl - 1] != 0 || !tp_pxar_name_valid(item->name, nl - 1))
		return tp_err_set(err, -TP_EFORMAT, "pxar: invalid FILENAME at offset %llu", ull(fn));
	item->hash = tp_le64(g);
	if (item->hash != tp_pxar_hash(item->name, nl - 1))
		return tp_err_set(err, -TP_EFORMAT, "pxar: goodbye item at offset %llu: hash does not match name '%s'",
				  ull(at), item->name);
	item->filename_offset = fn;
	item->entry_offset = fn + fsz;
	item->end = fn + size;
	return 0;
}

int tp_pxar_acc_lookup(tp_pxar_acc *acc, const tp_pxar_acc_dir *dir, const char *name, tp_pxar_acc_item *item,
		       tp_err *err)
{
	size_t len = strlen(name);
	if (!tp_pxar_name_valid(name, len))
		return 0;
	uint64_t h = tp_pxar_hash(name, len);
	size_t i = 0;
	int r;
	while (i < dir->n) {
		uint8_t g[8];
		if ((r = acc_read(acc, g, 8, dir->goodbye_offset + 16 + 24 * (uint64_t)i, "goodbye item", err)) < 0)
			return r;
		uint64_t v = tp_le64(g);
		if (h == v)
			break;
		i = h < v ? 2 * i + 1 : 2 * i + 2;
	}
	if (i >= dir->n)
		return 0;
	if ((r = tp_pxar_acc_child(acc, dir, i, item, err)) < 0)
		return r;
	if (strcmp(item->name, name) == 0)
		return 1;
	/* 64-bit hash collision: scan every item with the same hash */
	for (size_t k = 0; k < dir->n; k++) {
		uint8_t g[8];
		if ((r = acc_read(acc, g, 8, dir->goodbye_offset + 16 + 24 * (uint64_t)k, "goodbye item", err)) < 0)
			return r;
		if (tp_le64(g) != h || k == i)
			continue;
		if ((r = tp_pxar_acc_child(acc, dir, k, item, err)) < 0)
			return r;
		if (strcmp(item->name, name) == 0)
			return 1;
	}
	return 0;
}

int tp_pxar_acc_lookup_path(tp_pxar_acc *acc, const char *path, tp_pxar_acc_item *item, tp_err *err)
{
	tp_pxar_acc_dir dir;
	char comp[TP_PXAR_MAX_FILENAME + 1];
	int r = tp_pxar_acc_root(acc, &dir, err);
	if (r < 0)
		return r;
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > TP_PXAR_MAX_FILENAME)
			return tp_err_set(err, -EINVAL, "pxar: invalid path '%s'", path);
		memcpy(comp, p, n);
		comp[n] = 0;
		if ((r = tp_pxar_acc_lookup(acc, &dir, comp, item, err)) <= 0)
			return r;
		if (!slash)
			return 1;
		uint8_t h[24];
		if ((r = acc_read(acc, h, 24, item->entry_offset, "ENTRY", err)) < 0)
			return r;
		if ((tp_le64(h) != TP_PXAR_ENTRY && tp_le64(h) != TP_PXAR_ENTRY_V1) || (tp_le64(h + 16) & IFMT) != S_IFDIR)
			return 0;
		if ((r = tp_pxar_acc_open_dir(acc, item, &dir, err)) < 0)
			return r;
		p = slash + 1;
	}
}

static long range_read(void *ctx, void *buf, size_t len, tp_err *err)
{
	tp_pxar_dec *dec = ctx;
	const tp_pxar_acc *acc = dec->racc;
	if (dec->pos >= dec->rend)
		return 0;
	if (len > dec->rend - dec->pos)
		len = (size_t)(dec->rend - dec->pos);
	int r = acc_read(acc, buf, len, dec->pos, "entry", err);
	return r < 0 ? r : (long)len;
}

static int decode_range(tp_pxar_acc *acc, uint64_t start, uint64_t end, uint64_t fn_offset, tp_pxar_dec *dec,
			const tp_pxar_entry **out, tp_err *err)
{
	tp_pxar_dec_init(dec, range_read, NULL, err);
	dec->ctx = dec;
	dec->racc = acc;
	dec->rend = end;
	dec->pos = start;
	dec->single = 1;
	int r = tp_pxar_dec_next(dec, out, err);
	if (r == 0)
		r = tp_err_set(err, -TP_EFORMAT, "pxar: no entry at offset %llu", ull(start));
	if (r < 0) {
		tp_pxar_dec_free(dec);
		return r;
	}
	dec->cur.filename_offset = fn_offset;
	return 1;
}

int tp_pxar_acc_decode(tp_pxar_acc *acc, const tp_pxar_acc_item *item, tp_pxar_dec *dec,
		       const tp_pxar_entry **out, tp_err *err)
{
	uint8_t h[24];
	memset(dec, 0, sizeof(*dec));
	int r = acc_read(acc, h, 16, item->entry_offset, "entry header", err);
	if (r < 0)
		return r;
	if (tp_le64(h) != TP_PXAR_HARDLINK)
		return decode_range(acc, item->entry_offset, item->end, item->filename_offset, dec, out, err);
	uint64_t hsz = tp_le64(h + 8);
	if (hsz < 26 || item->entry_offset + hsz != item->end)
		return tp_err_set(err, -TP_EFORMAT, "pxar: HARDLINK at offset %llu has invalid size %llu",
				  ull(item->entry_offset), ull(hsz));
	if ((r = acc_read(acc, h + 16, 8, item->entry_offset + 16, "HARDLINK", err)) < 0)
		return r;
	uint64_t off = tp_le64(h + 16);
	if (off == 0 || off > item->filename_offset)
		return tp_err_set(err, -TP_EFORMAT, "pxar: HARDLINK at offset %llu: target offset %llu out of range",
				  ull(item->entry_offset), ull(off));
	uint64_t tfn = item->filename_offset - off;
	if ((r = acc_read(acc, h, 16, tfn, "hardlink target FILENAME", err)) < 0)
		return r;
	uint64_t fsz = tp_le64(h + 8);
	if (tp_le64(h) != TP_PXAR_FILENAME || fsz < 18 || fsz > 16 + TP_PXAR_MAX_FILENAME + 1)
		return tp_err_set(err, -TP_EFORMAT, "pxar: hardlink at offset %llu: no FILENAME at target offset %llu",
				  ull(item->filename_offset), ull(tfn));
	if ((r = decode_range(acc, tfn + fsz, acc->size, tfn, dec, out, err)) < 0)
		return r;
	if ((*out)->kind != TP_PXAR_KIND_FILE) {
		tp_pxar_dec_free(dec);
		*out = NULL;
		return tp_err_set(err, -TP_EFORMAT, "pxar: hardlink at offset %llu points to a non-file at %llu",
				  ull(item->filename_offset), ull(tfn));
	}
	return 1;
}
