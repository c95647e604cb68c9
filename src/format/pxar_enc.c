/* pxar v1 streaming encoder: items, entries and goodbye tables written to a sink. */
#include "format/pxar.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/siphash.h"

#define IFMT 0170000ULL

static int enc_out(tp_pxar_enc *enc, const void *buf, size_t len, tp_err *err)
{
	if (enc->failed)
		return tp_err_set(err, -EINVAL, "pxar encoder: an earlier write failed");
	if (len == 0)
		return 0;
	int r = enc->write(enc->ctx, buf, len, err);
	if (r < 0) {
		enc->failed = 1;
		return tp_err_wrap(err, r, "pxar encoder: writing at offset %llu", (unsigned long long)enc->pos);
	}
	enc->pos += len;
	return 0;
}

static int write_header(tp_pxar_enc *enc, uint64_t type, uint64_t body_len, tp_err *err)
{
	uint8_t h[16];
	tp_put_le64(h, type);
	tp_put_le64(h + 8, body_len + TP_PXAR_HEADER_SIZE);
	return enc_out(enc, h, sizeof(h), err);
}

static int write_item(tp_pxar_enc *enc, uint64_t type, const void *body, size_t len, tp_err *err)
{
	int r = write_header(enc, type, len, err);
	return r < 0 ? r : enc_out(enc, body, len, err);
}

static int write_u64_item(tp_pxar_enc *enc, uint64_t type, uint64_t v, tp_err *err)
{
	uint8_t b[8];
	tp_put_le64(b, v);
	return write_item(enc, type, b, 8, err);
}

static int write_acl_list(tp_pxar_enc *enc, uint64_t type, const tp_pxar_acl_entry *l, size_t n, tp_err *err)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b[16];
		tp_put_le64(b, l[i].id);
		tp_put_le64(b + 8, l[i].perms);
		int r = write_item(enc, type, b, 16, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Checks metadata before anything of the entry is written, so a refusal leaves the stream intact. */
static int check_meta(const char *what, const tp_pxar_meta *m, tp_err *err)
{
	int is_dir = (m->mode & IFMT) == S_IFDIR;
	if (m->mtime_nanos >= 1000000000u)
		return tp_err_set(err, -EINVAL, "pxar encoder: %s: mtime nanoseconds %u out of range", what,
				  m->mtime_nanos);
	if (!is_dir && (m->has_acl_default || m->n_acl_default_users || m->n_acl_default_groups))
		return tp_err_set(err, -EINVAL, "pxar encoder: %s: default ACL on a non-directory", what);
	for (size_t i = 0; i < m->n_xattrs; i++) {
		size_t nl = m->xattrs[i].name ? strlen(m->xattrs[i].name) : 0;
		if (nl == 0 || nl > TP_PXAR_MAX_XATTR_NAME || m->xattrs[i].value_len > 65536)
			return tp_err_set(err, -EINVAL, "pxar encoder: %s: xattr #%zu has an empty or too long name/value",
					  what, i);
	}
	if (m->has_fcaps && m->fcaps_len > TP_PXAR_MAX_XATTR_BODY)
		return tp_err_set(err, -EINVAL, "pxar encoder: %s: fcaps value too long", what);

	return 0;
}

/* ENTRY plus attribute items, in the order the PBS encoder uses. */
static int write_meta(tp_pxar_enc *enc, const tp_pxar_meta *m, tp_err *err)
{
	uint8_t st[TP_PXAR_STAT_SIZE];
	tp_put_le64(st, m->mode);
	tp_put_le64(st + 8, m->flags);
	tp_put_le32(st + 16, m->uid);
	tp_put_le32(st + 20, m->gid);
	tp_put_le64(st + 24, (uint64_t)m->mtime_secs);
	tp_put_le32(st + 32, m->mtime_nanos);
	tp_put_le32(st + 36, 0);
	int r = write_item(enc, TP_PXAR_ENTRY, st, sizeof(st), err);
	for (size_t i = 0; r == 0 && i < m->n_xattrs; i++) {
		size_t nl = strlen(m->xattrs[i].name);
		r = write_header(enc, TP_PXAR_XATTR, nl + 1 + m->xattrs[i].value_len, err);
		if (r == 0)
			r = enc_out(enc, m->xattrs[i].name, nl + 1, err);
		if (r == 0)
			r = enc_out(enc, m->xattrs[i].value, m->xattrs[i].value_len, err);
	}
	if (r == 0)
		r = write_acl_list(enc, TP_PXAR_ACL_USER, m->acl_users, m->n_acl_users, err);
	if (r == 0)
		r = write_acl_list(enc, TP_PXAR_ACL_GROUP, m->acl_groups, m->n_acl_groups, err);
	if (r == 0 && m->has_acl_group_obj)
		r = write_u64_item(enc, TP_PXAR_ACL_GROUP_OBJ, m->acl_group_obj, err);
	if (r == 0 && m->has_acl_default) {
		uint8_t b[32];
		tp_put_le64(b, m->acl_default.user_obj);
		tp_put_le64(b + 8, m->acl_default.group_obj);
		tp_put_le64(b + 16, m->acl_default.other);
		tp_put_le64(b + 24, m->acl_default.mask);
		r = write_item(enc, TP_PXAR_ACL_DEFAULT, b, 32, err);
	}
	if (r == 0)
		r = write_acl_list(enc, TP_PXAR_ACL_DEFAULT_USER, m->acl_default_users, m->n_acl_default_users, err);
	if (r == 0)
		r = write_acl_list(enc, TP_PXAR_ACL_DEFAULT_GROUP, m->acl_default_groups, m->n_acl_default_groups,
				   err);
	if (r == 0 && m->has_fcaps)
		r = write_item(enc, TP_PXAR_FCAPS, m->fcaps, m->fcaps_len, err);
	if (r == 0 && m->has_projid)
		r = write_u64_item(enc, TP_PXAR_QUOTA_PROJID, m->projid, err);
	return r;
}

static int push_dir(tp_pxar_enc *enc, uint64_t entry_offset, uint64_t fn_offset, uint64_t hash, tp_err *err)
{
	if (enc->depth == enc->cap_dirs) {
		size_t nc = enc->cap_dirs ? enc->cap_dirs * 2 : 16;
		tp_pxar_enc_dir *d = realloc(enc->dirs, nc * sizeof(*d));
		if (!d)
			return tp_err_set(err, -ENOMEM, "pxar encoder: out of memory for directory stack");
		enc->dirs = d;
		enc->cap_dirs = nc;
	}
	tp_pxar_enc_dir *d = &enc->dirs[enc->depth++];
	memset(d, 0, sizeof(*d));
	d->entry_offset = entry_offset;
	d->filename_offset = fn_offset;
	d->name_hash = hash;
	return 0;
}

/* Records a finished child (FILENAME at fn_offset up to the current position) in the open directory. */
static int add_child(tp_pxar_enc *enc, uint64_t hash, uint64_t fn_offset, tp_err *err)
{
	tp_pxar_enc_dir *d = &enc->dirs[enc->depth - 1];
	if (d->n_items == d->cap_items) {
		size_t nc = d->cap_items ? d->cap_items * 2 : 16;
		tp_pxar_gb_item *it = realloc(d->items, nc * sizeof(*it));
		if (!it)
			return tp_err_set(err, -ENOMEM, "pxar encoder: out of memory for goodbye items");
		d->items = it;
		d->cap_items = nc;
	}
	d->items[d->n_items].hash = hash;
	d->items[d->n_items].offset = fn_offset;
	d->items[d->n_items].size = enc->pos - fn_offset;
	d->n_items++;
	return 0;
}

static int cmp_hash(const void *a, const void *b)
{
	uint64_t x = ((const tp_pxar_gb_item *)a)->hash, y = ((const tp_pxar_gb_item *)b)->hash;
	return x < y ? -1 : x > y;
}

/* Writes the goodbye table of the innermost directory and pops it. */
static int write_goodbye(tp_pxar_enc *enc, tp_err *err)
{
	tp_pxar_enc_dir *d = &enc->dirs[enc->depth - 1];
	size_t n = d->n_items;
	uint64_t gb = enc->pos;
	uint64_t full = TP_PXAR_HEADER_SIZE + (uint64_t)TP_PXAR_GOODBYE_ITEM_SIZE * (n + 1);
	size_t *perm = NULL;
	uint8_t *buf = malloc((size_t)full);
	if (n)
		perm = malloc(n * sizeof(*perm));
	int r;
	if (!buf || (n && !perm)) {
		r = tp_err_set(err, -ENOMEM, "pxar encoder: out of memory for a goodbye table of %zu items", n);
		goto out;
	}
	if (n)
		qsort(d->items, n, sizeof(*d->items), cmp_hash);
	tp_pxar_bst_permutation(n, perm);
	tp_put_le64(buf, TP_PXAR_GOODBYE);
	tp_put_le64(buf + 8, full);
	uint8_t *p = buf + TP_PXAR_HEADER_SIZE;
	for (size_t k = 0; k < n; k++, p += TP_PXAR_GOODBYE_ITEM_SIZE) {
		const tp_pxar_gb_item *it = &d->items[perm[k]];
		tp_put_le64(p, it->hash);
		tp_put_le64(p + 8, gb - it->offset);
		tp_put_le64(p + 16, it->size);
	}
	tp_put_le64(p, TP_PXAR_GOODBYE_TAIL_MARKER);
	tp_put_le64(p + 8, gb - d->entry_offset);
	tp_put_le64(p + 16, full);
	r = enc_out(enc, buf, (size_t)full, err);
	if (r == 0) {
		free(d->items);
		enc->depth--;
	}
out:
	free(buf);
	free(perm);
	return r;
}

int tp_pxar_enc_init(tp_pxar_enc *enc, tp_pxar_write_fn write, void *ctx, const tp_pxar_meta *root, tp_err *err)
{
	memset(enc, 0, sizeof(*enc));
	enc->write = write;
	enc->ctx = ctx;
	if ((root->mode & IFMT) != S_IFDIR)
		return tp_err_set(err, -EINVAL, "pxar encoder: the archive root must be a directory (mode 0%llo)",
				  (unsigned long long)root->mode);
	int r = check_meta("archive root", root, err);
	if (r == 0)
		r = push_dir(enc, 0, 0, 0, err);
	if (r == 0)
		r = write_meta(enc, root, err);
	return r;
}

void tp_pxar_enc_free(tp_pxar_enc *enc)
{
	for (size_t i = 0; i < enc->depth; i++)
		free(enc->dirs[i].items);
	free(enc->dirs);
	enc->dirs = NULL;
	enc->depth = enc->cap_dirs = 0;
}

/* Common start of a child: state checks and its FILENAME item. */
static int begin_child(tp_pxar_enc *enc, const char *name, uint64_t *fn_offset, uint64_t *hash, tp_err *err)
{
	if (enc->finished || enc->depth == 0)
		return tp_err_set(err, -EINVAL, "pxar encoder: entry '%s' after the archive was finished", name);
	if (enc->in_file)
		return tp_err_set(err, -EINVAL, "pxar encoder: entry '%s' while a file payload is still open", name);
	size_t len = strlen(name);
	if (!tp_pxar_name_valid(name, len))
		return tp_err_set(err, -EINVAL, "pxar encoder: invalid file name '%.100s'", name);
	*fn_offset = enc->pos;
	*hash = tp_pxar_hash(name, len);
	return write_item(enc, TP_PXAR_FILENAME, name, len + 1, err);
}

static int check_type(const tp_pxar_meta *m, uint64_t t1, uint64_t t2, const char *name, const char *what,
		      tp_err *err)
{
	uint64_t t = m->mode & IFMT;
	if (t != t1 && t != t2)
		return tp_err_set(err, -EINVAL, "pxar encoder: '%s': mode 0%llo is not a %s", name,
				  (unsigned long long)m->mode, what);
	return check_meta(name, m, err);
}

int tp_pxar_enc_file_begin(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t size,
			   uint64_t *filename_offset, tp_err *err)
{
	uint64_t fn, h;
	int r = check_type(meta, S_IFREG, S_IFREG, name, "regular file", err);
	if (r == 0)
		r = begin_child(enc, name, &fn, &h, err);
	if (r == 0)
		r = write_meta(enc, meta, err);
	if (r == 0)
		r = write_header(enc, TP_PXAR_PAYLOAD, size, err);
	if (r < 0)
		return r;
	enc->in_file = 1;
	enc->file_left = size;
	enc->file_fn_offset = fn;
	enc->file_hash = h;
	if (filename_offset)
		*filename_offset = fn;
	return 0;
}

int tp_pxar_enc_file_write(tp_pxar_enc *enc, const void *data, size_t len, tp_err *err)
{
	if (!enc->in_file)
		return tp_err_set(err, -EINVAL, "pxar encoder: payload write without an open file");
	if (len > enc->file_left)
		return tp_err_set(err, -EINVAL, "pxar encoder: payload write of %zu bytes exceeds the %llu declared",
				  len, (unsigned long long)enc->file_left);
	int r = enc_out(enc, data, len, err);
	if (r == 0)
		enc->file_left -= len;
	return r;
}

int tp_pxar_enc_file_end(tp_pxar_enc *enc, tp_err *err)
{
	if (!enc->in_file)
		return tp_err_set(err, -EINVAL, "pxar encoder: file end without an open file");
	if (enc->file_left)
		return tp_err_set(err, -EINVAL, "pxar encoder: file ended with %llu payload bytes missing",
				  (unsigned long long)enc->file_left);
	enc->in_file = 0;
	return add_child(enc, enc->file_hash, enc->file_fn_offset, err);
}

int tp_pxar_enc_file(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, const void *data,
		     uint64_t size, uint64_t *filename_offset, tp_err *err)
{
	int r = tp_pxar_enc_file_begin(enc, name, meta, size, filename_offset, err);
	if (r == 0)
		r = tp_pxar_enc_file_write(enc, data, (size_t)size, err);
	if (r == 0)
		r = tp_pxar_enc_file_end(enc, err);
	return r;
}

int tp_pxar_enc_symlink(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, const char *target,
			uint64_t *filename_offset, tp_err *err)
{
	size_t tl = strlen(target);
	if (tl == 0 || tl > TP_PXAR_MAX_FILENAME)
		return tp_err_set(err, -EINVAL, "pxar encoder: symlink '%s': target length %zu out of range", name, tl);
	uint64_t fn, h;
	int r = check_type(meta, S_IFLNK, S_IFLNK, name, "symlink", err);
	if (r == 0)
		r = begin_child(enc, name, &fn, &h, err);
	if (r == 0)
		r = write_meta(enc, meta, err);
	if (r == 0)
		r = write_item(enc, TP_PXAR_SYMLINK, target, tl + 1, err);
	if (r == 0)
		r = add_child(enc, h, fn, err);
	if (r == 0 && filename_offset)
		*filename_offset = fn;
	return r;
}

int tp_pxar_enc_device(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t major,
		       uint64_t minor, uint64_t *filename_offset, tp_err *err)
{
	uint64_t fn, h;
	uint8_t b[16];
	tp_put_le64(b, major);
	tp_put_le64(b + 8, minor);
	int r = check_type(meta, S_IFCHR, S_IFBLK, name, "device", err);
	if (r == 0)
		r = begin_child(enc, name, &fn, &h, err);
	if (r == 0)
		r = write_meta(enc, meta, err);
	if (r == 0)
		r = write_item(enc, TP_PXAR_DEVICE, b, sizeof(b), err);
	if (r == 0)
		r = add_child(enc, h, fn, err);
	if (r == 0 && filename_offset)
		*filename_offset = fn;
	return r;
}

static int enc_special(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t type,
		       const char *what, uint64_t *filename_offset, tp_err *err)
{
	uint64_t fn, h;
	int r = check_type(meta, type, type, name, what, err);
	if (r == 0)
		r = begin_child(enc, name, &fn, &h, err);
	if (r == 0)
		r = write_meta(enc, meta, err);
	if (r == 0)
		r = add_child(enc, h, fn, err);
	if (r == 0 && filename_offset)
		*filename_offset = fn;
	return r;
}

int tp_pxar_enc_fifo(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t *filename_offset,
		     tp_err *err)
{
	return enc_special(enc, name, meta, S_IFIFO, "fifo", filename_offset, err);
}

int tp_pxar_enc_socket(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta, uint64_t *filename_offset,
		       tp_err *err)
{
	return enc_special(enc, name, meta, S_IFSOCK, "socket", filename_offset, err);
}

int tp_pxar_enc_hardlink(tp_pxar_enc *enc, const char *name, const char *target_path,
			 uint64_t target_filename_offset, uint64_t *filename_offset, tp_err *err)
{
	size_t tl = strlen(target_path);
	if (tl == 0 || tl > TP_PXAR_MAX_FILENAME)
		return tp_err_set(err, -EINVAL, "pxar encoder: hardlink '%s': target path length %zu out of range",
				  name, tl);
	if (target_filename_offset >= enc->pos)
		return tp_err_set(err, -EINVAL, "pxar encoder: hardlink '%s': target offset %llu is not before it",
				  name, (unsigned long long)target_filename_offset);
	uint64_t fn, h;
	int r = begin_child(enc, name, &fn, &h, err);
	if (r < 0)
		return r;
	uint8_t off[8];
	tp_put_le64(off, fn - target_filename_offset);
	r = write_header(enc, TP_PXAR_HARDLINK, 8 + tl + 1, err);
	if (r == 0)
		r = enc_out(enc, off, 8, err);
	if (r == 0)
		r = enc_out(enc, target_path, tl + 1, err);
	if (r == 0)
		r = add_child(enc, h, fn, err);
	if (r == 0 && filename_offset)
		*filename_offset = fn;
	return r;
}

int tp_pxar_enc_dir_begin(tp_pxar_enc *enc, const char *name, const tp_pxar_meta *meta,
			  uint64_t *filename_offset, tp_err *err)
{
	uint64_t fn, h;
	int r = check_type(meta, S_IFDIR, S_IFDIR, name, "directory", err);
	if (r == 0)
		r = begin_child(enc, name, &fn, &h, err);
	if (r == 0)
		r = push_dir(enc, enc->pos, fn, h, err);
	if (r == 0)
		r = write_meta(enc, meta, err);
	if (r == 0 && filename_offset)
		*filename_offset = fn;
	return r;
}

int tp_pxar_enc_dir_end(tp_pxar_enc *enc, tp_err *err)
{
	if (enc->in_file)
		return tp_err_set(err, -EINVAL, "pxar encoder: directory end while a file payload is open");
	if (enc->finished || enc->depth < 2)
		return tp_err_set(err, -EINVAL, "pxar encoder: directory end without an open subdirectory");
	uint64_t fn = enc->dirs[enc->depth - 1].filename_offset;
	uint64_t h = enc->dirs[enc->depth - 1].name_hash;
	int r = write_goodbye(enc, err);
	if (r == 0)
		r = add_child(enc, h, fn, err);
	return r;
}

int tp_pxar_enc_finish(tp_pxar_enc *enc, tp_err *err)
{
	if (enc->in_file)
		return tp_err_set(err, -EINVAL, "pxar encoder: finish while a file payload is open");
	if (enc->finished || enc->depth != 1)
		return tp_err_set(err, -EINVAL, "pxar encoder: finish with %zu directories still open",
				  enc->depth ? enc->depth - 1 : 0);
	int r = write_goodbye(enc, err);
	if (r == 0)
		enc->finished = 1;
	return r;
}
