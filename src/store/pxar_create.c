/* Directory tree -> pxar v1 archive: fd-based walk with PBS's metadata rules (see pxar_create.h). */
#include "store/pxar_create.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "format/pcat1.h"
#include "store/pxar_exclude.h"

#define IO_PIECE (1u << 20)

/* statfs magics */
#define M_EXT4 0xEF53u
#define M_XFS 0x58465342u
#define M_ZFS 0x2fc12fc1u
#define M_BTRFS 0x9123683Eu
#define M_TMPFS 0x01021994u
#define M_MSDOS 0x4d44u
#define M_FUSE 0x65735546u

#ifndef FAT_IOCTL_GET_ATTRIBUTES
#define FAT_IOCTL_GET_ATTRIBUTES _IOR('r', 0x10, uint32_t)
#endif

/* What PBS's Flags::from_magic allows per file system. */
enum { F_XATTRS = 1, F_ACL = 2, F_FCAPS = 4, F_PROJID = 8, F_FAT = 16 };

static unsigned fs_features(unsigned long magic)
{
	switch (magic) {
	case M_EXT4: case M_XFS: case M_ZFS: return F_XATTRS | F_ACL | F_FCAPS | F_PROJID;
	case M_BTRFS: return F_XATTRS | F_ACL | F_FCAPS;
	case M_TMPFS: return F_ACL; /* ACLs are found through the xattr list, which tmpfs skips */
	case M_MSDOS: return F_FAT;
	case M_FUSE: return F_XATTRS | F_FAT;
	default: return F_XATTRS | F_ACL | F_FCAPS;
	}
}

/* Pseudo file systems whose directories are stored without children. */
static int fs_virtual(unsigned long magic)
{
	static const unsigned long v[] = {
		0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x1cd1, 0x64626720, 0x73636673, 0x6165676C,
		0xde5e81e4, 0x19800202, 0x958458f6, 0x62656570, 0x42494e4d, 0x65735543, 0x6e667364,
		0x67596969, 0xf97cff8c, 0x43415d53,
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (magic == v[i])
			return 1;
	return 0;
}

struct hl_slot {
	dev_t dev;
	ino_t ino;
	uint64_t offset;          /* FILENAME offset of the first occurrence */
	char *path;               /* NULL = empty slot */
};

struct cr {
	tp_pxar_enc enc;
	tp_pxar_create_opts o;
	tp_pxar_create_stats st;
	dev_t root_dev;
	tp_buf path;
	struct hl_slot *hl;
	size_t hl_n, hl_cap;
	uint8_t *io;
	tp_pxar_excludes ex;      /* CLI patterns first, then those of the .pxarexclude files on the current path */
	size_t n_cli;
	tp_buf mpath;             /* "/" + path, for matching */
};

/* Sets c->mpath to "/" + the current path (+ "/" + name when name is given). */
static int match_path(struct cr *c, const char *name)
{
	tp_buf_reset(&c->mpath);
	int r = 0;
	if (c->path.len)
		r = tp_buf_append_u8(&c->mpath, '/') < 0 || tp_buf_append(&c->mpath, c->path.data, c->path.len) < 0;
	if (!r && name)
		r = tp_buf_append_u8(&c->mpath, '/') < 0 || tp_buf_append_str(&c->mpath, name) < 0;
	if (!r)
		tp_buf_cstr(&c->mpath);
	return r ? -ENOMEM : 0;
}

/* ------------------------------------------------------------- hardlinks */

static size_t hl_hash(dev_t dev, ino_t ino, size_t cap)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev * 0xc2b2ae3d27d4eb4fULL;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static struct hl_slot *hl_find(struct cr *c, dev_t dev, ino_t ino)
{
	if (!c->hl_cap)
		return NULL;
	for (size_t i = hl_hash(dev, ino, c->hl_cap);; i = (i + 1) & (c->hl_cap - 1)) {
		struct hl_slot *s = &c->hl[i];
		if (!s->path)
			return NULL;
		if (s->dev == dev && s->ino == ino)
			return s;
	}
}

static int hl_add(struct cr *c, dev_t dev, ino_t ino, uint64_t offset, const char *path, tp_err *err)
{
	if (2 * (c->hl_n + 1) > c->hl_cap) {
		size_t nc = c->hl_cap ? c->hl_cap * 2 : 64;
		struct hl_slot *n = calloc(nc, sizeof(*n));
		if (!n)
			return tp_err_set(err, -ENOMEM, "pxar create: out of memory for the hardlink table");
		for (size_t i = 0; i < c->hl_cap; i++) {
			if (!c->hl[i].path)
				continue;
			size_t k = hl_hash(c->hl[i].dev, c->hl[i].ino, nc);
			while (n[k].path)
				k = (k + 1) & (nc - 1);
			n[k] = c->hl[i];
		}
		free(c->hl);
		c->hl = n;
		c->hl_cap = nc;
	}
	size_t k = hl_hash(dev, ino, c->hl_cap);
	while (c->hl[k].path)
		k = (k + 1) & (c->hl_cap - 1);
	if (!(c->hl[k].path = strdup(path)))
		return tp_err_set(err, -ENOMEM, "pxar create: out of memory for the hardlink table");
	c->hl[k].dev = dev;
	c->hl[k].ino = ino;
	c->hl[k].offset = offset;
	c->hl_n++;
	return 0;
}

/* ------------------------------------------------------------- metadata */

static int xattr_stored(const char *name)
{
	if (strlen(name) > TP_PXAR_MAX_XATTR_NAME)
		return 0;
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) || !strcmp(name, "security.NTACL");
}

/* fgetxattr into a malloc'd buffer; 0 = skip this name, 1 = got it, <0 = error. */
static int get_xattr(int fd, const char *name, uint8_t **val, size_t *len, const char *path, tp_err *err)
{
	for (int tries = 0; tries < 4; tries++) {
		ssize_t n = fgetxattr(fd, name, NULL, 0);
		if (n < 0)
			goto fail;
		uint8_t *b = malloc(n ? (size_t)n : 1);
		if (!b)
			return tp_err_set(err, -ENOMEM, "pxar create: out of memory for xattr %s", name);
		ssize_t m = fgetxattr(fd, name, b, (size_t)n);
		if (m < 0) {
			int e = errno;
			free(b);
			errno = e;
			if (e == ERANGE)
				continue; /* grew between the calls */
			goto fail;
		}
		*val = b;
		*len = (size_t)m;
		return 1;
	}
	errno = ERANGE;
fail:
	if (errno == ENODATA || errno == EOPNOTSUPP || errno == EBADF)
		return 0;
	return tp_err_errno(err, "pxar create: reading xattr %s of '%s'", name, path);
}

static int cmp_acl(const void *a, const void *b)
{
	const tp_pxar_acl_entry *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->perms < y->perms ? -1 : x->perms > y->perms;
}

static int acl_push(tp_pxar_acl_entry **arr, size_t *n, uint64_t id, uint64_t perms)
{
	tp_pxar_acl_entry *p = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!p)
		return -ENOMEM;
	*arr = p;
	p[*n].id = id;
	p[*n].perms = perms;
	(*n)++;
	return 0;
}

/* Parses a system.posix_acl_* xattr value (version 2, 8-byte entries: tag u16, perm u16, id u32). */
static int parse_acl(tp_pxar_meta *m, const uint8_t *v, size_t len, int is_default, const char *path, tp_err *err)
{
	enum { USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10, OTHER = 0x20 };
	if (len < 4 || (len - 4) % 8 || tp_le32(v) != 2)
		return tp_err_set(err, -TP_EFORMAT, "pxar create: '%s': malformed POSIX ACL xattr", path);
	int has_mask = 0, r = 0;
	uint64_t group_obj = 0;
	int has_group_obj = 0;
	tp_pxar_acl_default d = { TP_PXAR_ACL_NO_MASK, TP_PXAR_ACL_NO_MASK, TP_PXAR_ACL_NO_MASK,
				  TP_PXAR_ACL_NO_MASK };
	int any_default = 0;
	for (size_t off = 4; off < len && r == 0; off += 8) {
		uint16_t tag = tp_le16(v + off);
		uint64_t perm = tp_le16(v + off + 2) & 7;
		uint32_t id = tp_le32(v + off + 4);
		switch (tag) {
		case USER_OBJ: d.user_obj = perm; any_default = 1; break;
		case GROUP_OBJ: d.group_obj = perm; group_obj = perm; has_group_obj = 1; any_default = 1; break;
		case OTHER: d.other = perm; any_default = 1; break;
		case MASK: d.mask = perm; has_mask = 1; any_default = 1; break;
		case USER:
			r = is_default ? acl_push(&m->acl_default_users, &m->n_acl_default_users, id, perm)
				       : acl_push(&m->acl_users, &m->n_acl_users, id, perm);
			break;
		case GROUP:
			r = is_default ? acl_push(&m->acl_default_groups, &m->n_acl_default_groups, id, perm)
				       : acl_push(&m->acl_groups, &m->n_acl_groups, id, perm);
			break;
		default:
			return tp_err_set(err, -TP_EFORMAT, "pxar create: '%s': unknown ACL tag 0x%x", path, tag);
		}
	}
	if (r < 0)
		return tp_err_set(err, -ENOMEM, "pxar create: out of memory for ACLs");
	if (is_default) {
		if (any_default) {
			m->has_acl_default = 1;
			m->acl_default = d;
		}
		qsort(m->acl_default_users, m->n_acl_default_users, sizeof(tp_pxar_acl_entry), cmp_acl);
		qsort(m->acl_default_groups, m->n_acl_default_groups, sizeof(tp_pxar_acl_entry), cmp_acl);
	} else {
		/* with a mask the mode's group bits hold the mask: keep the real group_obj */
		if (has_mask && has_group_obj) {
			m->has_acl_group_obj = 1;
			m->acl_group_obj = group_obj;
		}
		qsort(m->acl_users, m->n_acl_users, sizeof(tp_pxar_acl_entry), cmp_acl);
		qsort(m->acl_groups, m->n_acl_groups, sizeof(tp_pxar_acl_entry), cmp_acl);
	}
	return 0;
}

static int add_xattr(tp_pxar_meta *m, const char *name, uint8_t *val, size_t len)
{
	tp_pxar_xattr *x = realloc(m->xattrs, (m->n_xattrs + 1) * sizeof(*x));
	if (!x)
		return -ENOMEM;
	m->xattrs = x;
	if (!(x[m->n_xattrs].name = strdup(name)))
		return -ENOMEM;
	x[m->n_xattrs].value = val;
	x[m->n_xattrs].value_len = len;
	m->n_xattrs++;
	return 0;
}

/* xattrs (listxattr order), fcaps and ACLs of a regular file or directory. */
static int read_xattrs(int fd, int is_dir, unsigned feat, tp_pxar_meta *m, const char *path, tp_err *err)
{
	char *list = NULL;
	ssize_t n = 0;
	int r = 0;
	if (!(feat & F_XATTRS))
		return 0;
	for (int tries = 0; tries < 4; tries++) {
		n = flistxattr(fd, NULL, 0);
		if (n <= 0)
			break;
		free(list);
		if (!(list = malloc((size_t)n)))
			return tp_err_set(err, -ENOMEM, "pxar create: out of memory for the xattr list");
		n = flistxattr(fd, list, (size_t)n);
		if (n >= 0 || errno != ERANGE)
			break;
	}
	if (n < 0) {
		if (errno == EOPNOTSUPP || errno == EBADF || errno == ENODATA)
			goto out;
		r = tp_err_errno(err, "pxar create: listing xattrs of '%s'", path);
		goto out;
	}
	for (ssize_t i = 0; i < n && r >= 0;) {
		const char *name = list + i;
		size_t nl = strnlen(name, (size_t)(n - i));
		i += (ssize_t)nl + 1;
		if (nl == 0 || name[nl] != 0)
			continue;
		uint8_t *val = NULL;
		size_t vl = 0;
		int acc = !strcmp(name, "system.posix_acl_access"), def = !strcmp(name, "system.posix_acl_default");
		int fcaps = !strcmp(name, "security.capability");
		if ((acc || (def && is_dir)) && !(feat & F_ACL))
			continue;
		if (fcaps && !(feat & F_FCAPS))
			continue;
		if (!acc && !(def && is_dir) && !fcaps && !xattr_stored(name))
			continue;
		if ((r = get_xattr(fd, name, &val, &vl, path, err)) <= 0)
			continue;
		if (acc || def) {
			r = parse_acl(m, val, vl, def, path, err);
			free(val);
		} else if (fcaps) {
			if (m->has_fcaps) {
				free(val);
				continue;
			}
			m->has_fcaps = 1;
			m->fcaps = val;
			m->fcaps_len = vl;
		} else if (vl > 65536) {
			free(val);
			r = tp_err_set(err, -E2BIG, "pxar create: xattr %s of '%s' is larger than 64 KiB", name, path);
		} else if (add_xattr(m, name, val, vl) < 0) {
			free(val);
			r = tp_err_set(err, -ENOMEM, "pxar create: out of memory for xattrs");
		}
	}
out:
	free(list);
	return r < 0 ? r : 0;
}

/* Everything of one entry; fd < 0 for entries without an open descriptor (symlinks, devices...). */
static int read_meta(int fd, const struct stat *st, unsigned feat, tp_pxar_meta *m, const char *path, tp_err *err)
{
	memset(m, 0, sizeof(*m));
	m->mode = st->st_mode;
	m->uid = st->st_uid;
	m->gid = st->st_gid;
	m->mtime_secs = st->st_mtim.tv_sec;
	m->mtime_nanos = (uint32_t)st->st_mtim.tv_nsec;
	if (fd < 0)
		return 0;
	int fl = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0)
		m->flags |= tp_pxar_flags_from_chattr((uint32_t)fl);
	uint32_t fat = 0;
	if ((feat & F_FAT) && ioctl(fd, FAT_IOCTL_GET_ATTRIBUTES, &fat) == 0)
		m->flags |= tp_pxar_flags_from_fat(fat);
	int r = read_xattrs(fd, S_ISDIR(st->st_mode), feat, m, path, err);
	if (r < 0)
		return r;
	if (feat & F_PROJID) {
		struct fsxattr fx;
		if (ioctl(fd, FS_IOC_FSGETXATTR, &fx) == 0 && fx.fsx_projid != 0) {
			m->has_projid = 1;
			m->projid = fx.fsx_projid;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ walk */

static int emit(struct cr *c, enum tp_pxar_create_ev type, const char *name, uint64_t size, int64_t mtime,
		tp_err *err)
{
	c->st.entries += type != TP_PXAR_EV_DIR_END;
	if (!c->o.on_entry)
		return 0;
	tp_pxar_create_event ev = { type, name, tp_buf_cstr(&c->path), size, mtime };
	return c->o.on_entry(c->o.cb_ctx, &ev, err);
}

static int skip_warn(struct cr *c, const char *what)
{
	c->st.warnings++;
	tp_warn("pxar create: %s '%s', skipped", what, tp_buf_cstr(&c->path));
	return 0;
}

/* Opens a regular file or directory the way the PBS client does; -ENOENT/-EACCES mean skip. */
static int open_entry(int dfd, const char *name, int dir)
{
	int fl = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (dir ? O_DIRECTORY : O_NONBLOCK);
	int fd = openat(dfd, name, fl | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dfd, name, fl);
	return fd < 0 ? -errno : fd;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int encode_children(struct cr *c, int dfd, int is_root, tp_err *err);

static int encode_file(struct cr *c, int dfd, const char *name, const struct stat *lst, unsigned feat,
		       tp_err *err)
{
	const char *path = tp_buf_cstr(&c->path);
	if (lst->st_nlink > 1) {
		struct hl_slot *s = hl_find(c, lst->st_dev, lst->st_ino);
		if (s) {
			int r = tp_pxar_enc_hardlink(&c->enc, name, s->path, s->offset, NULL, err);
			return r < 0 ? r : emit(c, TP_PXAR_EV_HARDLINK, name, 0, 0, err);
		}
	}
	int fd = open_entry(dfd, name, 0);
	if (fd == -ENOENT)
		return skip_warn(c, "vanished file");
	if (fd == -EACCES)
		return skip_warn(c, "permission denied on file");
	if (fd < 0) {
		errno = -fd;
		return tp_err_errno(err, "pxar create: opening '%s'", path);
	}
	tp_pxar_meta m;
	struct stat fst;
	uint64_t fn, size = (uint64_t)lst->st_size, done = 0;
	int r;
	if (fstat(fd, &fst) < 0 || !S_ISREG(fst.st_mode) || fst.st_ino != lst->st_ino || fst.st_dev != lst->st_dev) {
		close(fd);
		return skip_warn(c, "file replaced while reading");
	}
	/* O_NONBLOCK was only for the open (a FIFO swapped in must not block us) */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if ((r = read_meta(fd, lst, feat, &m, path, err)) < 0)
		goto out;
	if ((r = tp_pxar_enc_file_begin(&c->enc, name, &m, size, &fn, err)) < 0)
		goto out;
	int shrunk = 0;
	while (done < size) {
		size_t want = size - done > IO_PIECE ? IO_PIECE : (size_t)(size - done);
		uint8_t *io = c->io;
		if (c->o.io_space) {
			size_t avail = 0;
			if ((r = c->o.io_space(c->o.io_ctx, &io, &avail, err)) < 0)
				goto out;
			if (avail < want)
				want = avail;
		}
		ssize_t n = shrunk ? 0 : read(fd, io, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = tp_err_errno(err, "pxar create: reading '%s' at offset %llu", path, (unsigned long long)done);
			goto out;
		}
		if (n == 0) {
			/* the file shrank: pad with zeros as PBS does */
			if (!shrunk) {
				shrunk = 1;
				c->st.warnings++;
				tp_warn("pxar create: '%s' shrank while reading, padded with zeros", path);
			}
			memset(io, 0, want);
			n = (ssize_t)want;
		}
		if ((r = tp_pxar_enc_file_write(&c->enc, io, (size_t)n, err)) < 0)
			goto out;
		done += (uint64_t)n;
	}
	if ((r = tp_pxar_enc_file_end(&c->enc, err)) < 0)
		goto out;
	c->st.bytes += size;
	if (lst->st_nlink > 1 && (r = hl_add(c, lst->st_dev, lst->st_ino, fn, path, err)) < 0)
		goto out;
	r = emit(c, TP_PXAR_EV_FILE, name, size, lst->st_mtim.tv_sec, err);
out:
	tp_pxar_meta_free(&m);
	close(fd);
	return r;
}

static int encode_dir(struct cr *c, int dfd, const char *name, const struct stat *lst, tp_err *err)
{
	const char *path = tp_buf_cstr(&c->path);
	int fd = open_entry(dfd, name, 1);
	if (fd == -ENOENT)
		return skip_warn(c, "vanished directory");
	if (fd == -EACCES)
		return skip_warn(c, "permission denied on directory");
	if (fd < 0) {
		errno = -fd;
		return tp_err_errno(err, "pxar create: opening directory '%s'", path);
	}
	tp_pxar_meta m;
	struct statfs sfs;
	int r;
	memset(&m, 0, sizeof(m));
	if (fstatfs(fd, &sfs) < 0) {
		r = tp_err_errno(err, "pxar create: statfs of '%s'", path);
		goto out;
	}
	if ((r = read_meta(fd, lst, fs_features((unsigned long)sfs.f_type), &m, path, err)) < 0)
		goto out;
	if ((r = tp_pxar_enc_dir_begin(&c->enc, name, &m, NULL, err)) < 0)
		goto out;
	if ((r = emit(c, TP_PXAR_EV_DIR_BEGIN, name, 0, 0, err)) < 0)
		goto out;
	/* other file systems and pseudo file systems: the directory without children */
	if ((c->o.all_file_systems || lst->st_dev == c->root_dev) && !fs_virtual((unsigned long)sfs.f_type))
		if ((r = encode_children(c, fd, 0, err)) < 0)
			goto out;
	if ((r = tp_pxar_enc_dir_end(&c->enc, err)) < 0)
		goto out;
	r = emit(c, TP_PXAR_EV_DIR_END, name, 0, 0, err);
out:
	tp_pxar_meta_free(&m);
	close(fd);
	return r;
}

static int encode_one(struct cr *c, int dfd, const char *name, unsigned feat, tp_err *err)
{
	struct stat st;
	size_t base = c->path.len;
	int r = 0;
	if (base && tp_buf_append_u8(&c->path, '/') < 0)
		return tp_err_set(err, -ENOMEM, "pxar create: out of memory for a path");
	if (tp_buf_append_str(&c->path, name) < 0)
		return tp_err_set(err, -ENOMEM, "pxar create: out of memory for a path");
	const char *path = tp_buf_cstr(&c->path);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			r = skip_warn(c, "vanished");
		else
			r = tp_err_errno(err, "pxar create: stat of '%s'", path);
		goto out;
	}
	tp_pxar_meta m;
	read_meta(-1, &st, feat, &m, path, err);
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		r = encode_file(c, dfd, name, &st, feat, err);
		break;
	case S_IFDIR:
		r = encode_dir(c, dfd, name, &st, err);
		break;
	case S_IFLNK: {
		char target[TP_PXAR_MAX_FILENAME + 2];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));
		if (n < 0 && errno == ENOENT) {
			r = skip_warn(c, "vanished symlink");
			break;
		}
		if (n < 0) {
			r = tp_err_errno(err, "pxar create: readlink of '%s'", path);
			break;
		}
		if (n == 0 || n > TP_PXAR_MAX_FILENAME) {
			r = tp_err_set(err, -ENAMETOOLONG, "pxar create: symlink '%s' has a target of %zd bytes", path, n);
			break;
		}
		target[n] = 0;
		r = tp_pxar_enc_symlink(&c->enc, name, &m, target, NULL, err);
		if (r == 0)
			r = emit(c, TP_PXAR_EV_SYMLINK, name, 0, 0, err);
		break;
	}
	case S_IFCHR:
	case S_IFBLK:
		r = tp_pxar_enc_device(&c->enc, name, &m, major(st.st_rdev), minor(st.st_rdev), NULL, err);
		if (r == 0)
			r = emit(c, S_ISCHR(st.st_mode) ? TP_PXAR_EV_CHARDEV : TP_PXAR_EV_BLOCKDEV, name, 0, 0, err);
		break;
	case S_IFIFO:
		r = tp_pxar_enc_fifo(&c->enc, name, &m, NULL, err);
		if (r == 0)
			r = emit(c, TP_PXAR_EV_FIFO, name, 0, 0, err);
		break;
	case S_IFSOCK:
		r = tp_pxar_enc_socket(&c->enc, name, &m, NULL, err);
		if (r == 0)
			r = emit(c, TP_PXAR_EV_SOCKET, name, 0, 0, err);
		break;
	default:
		r = tp_err_set(err, -EINVAL, "pxar create: '%s' has unknown file type 0%o", path, st.st_mode & S_IFMT);
		break;
	}
out:
	c->path.len = base;
	tp_buf_cstr(&c->path);
	return r;
}

static int encode_children(struct cr *c, int dfd, int is_root, tp_err *err)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct statfs sfs;
	if (fstatfs(dfd, &sfs) < 0)
		return tp_err_errno(err, "pxar create: statfs of '%s'", tp_buf_cstr(&c->path));
	unsigned feat = fs_features((unsigned long)sfs.f_type);
	/* this directory's .pxarexclude applies to its subtree only */
	size_t ex_n0 = c->ex.n;
	if (match_path(c, NULL) < 0)
		return tp_err_set(err, -ENOMEM, "pxar create: out of memory for a path");
	if ((r = tp_pxar_excludes_load(&c->ex, dfd, tp_buf_cstr(&c->mpath), err)) < 0)
		return r;
	r = 0;
	int dup_fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	if (!d) {
		r = tp_err_errno(err, "pxar create: listing '%s'", c->path.len ? tp_buf_cstr(&c->path) : ".");
		if (dup_fd >= 0)
			close(dup_fd);
		tp_pxar_excludes_truncate(&c->ex, ex_n0);
		return r;
	}
	struct dirent *de;
	for (;;) {
		errno = 0;
		if (!(de = readdir(d)))
			break;
		const char *nm = de->d_name;
		if (!strcmp(nm, ".") || !strcmp(nm, ".."))
			continue;
		/* PBS always skips a real .pxarexclude-cli in the root (it writes its own) */
		if (is_root && !strcmp(nm, TP_PXAR_EXCLUDE_CLI_FILE))
			continue;
		if (c->ex.n) {
			int is_dir = de->d_type == DT_DIR;
			if (de->d_type == DT_UNKNOWN) {
				struct stat sb;
				is_dir = fstatat(dfd, nm, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
			}
			if (match_path(c, nm) < 0) {
				r = tp_err_set(err, -ENOMEM, "pxar create: out of memory for a path");
				goto out;
			}
			if (tp_pxar_excludes_match(&c->ex, tp_buf_cstr(&c->mpath), is_dir))
				continue;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **p = realloc(names, nc * sizeof(*p));
			if (!p) {
				r = tp_err_set(err, -ENOMEM, "pxar create: out of memory listing '%s'", tp_buf_cstr(&c->path));
				goto out;
			}
			names = p;
			cap = nc;
		}
		if (!(names[n] = strdup(nm))) {
			r = tp_err_set(err, -ENOMEM, "pxar create: out of memory listing '%s'", tp_buf_cstr(&c->path));
			goto out;
		}
		n++;
	}
	if (errno) {
		r = tp_err_errno(err, "pxar create: reading directory '%s'", tp_buf_cstr(&c->path));
		goto out;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n && r == 0; i++)
		r = encode_one(c, dfd, names[i], feat, err);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	tp_pxar_excludes_truncate(&c->ex, ex_n0);
	return r;
}

/* The root's last entry when there are CLI patterns, as the PBS client writes it. */
static int encode_cli_file(struct cr *c, tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	tp_pxar_meta m;
	memset(&m, 0, sizeof(m));
	m.mode = 0100600;
	int r = tp_pxar_excludes_cli_text(&c->ex, c->n_cli, &b);
	if (r < 0)
		return tp_err_set(err, r, "pxar create: out of memory for %s", TP_PXAR_EXCLUDE_CLI_FILE);
	r = tp_pxar_enc_file(&c->enc, TP_PXAR_EXCLUDE_CLI_FILE, &m, b.data, b.len, NULL, err);
	if (r == 0)
		r = emit(c, TP_PXAR_EV_FILE, TP_PXAR_EXCLUDE_CLI_FILE, b.len, 0, err);
	tp_buf_free(&b);
	return r;
}

int tp_pxar_create(const char *path, tp_pxar_write_fn write, void *ctx, const tp_pxar_create_opts *opts,
		   tp_err *err)
{
	struct cr c;
	memset(&c, 0, sizeof(c));
	if (opts)
		c.o = *opts;
	tp_pxar_meta m;
	memset(&m, 0, sizeof(m));
	struct stat st;
	struct statfs sfs;
	int r;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return tp_err_errno(err, "pxar create: opening source directory '%s'", path);
	if (!(c.io = malloc(IO_PIECE))) {
		r = tp_err_set(err, -ENOMEM, "pxar create: out of memory");
		goto out;
	}
	if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0) {
		r = tp_err_errno(err, "pxar create: stat of '%s'", path);
		goto out;
	}
	if (fs_virtual((unsigned long)sfs.f_type)) {
		r = tp_err_set(err, -EINVAL, "pxar create: '%s' is on a virtual file system (magic 0x%lx)", path,
			       (unsigned long)sfs.f_type);
		goto out;
	}
	c.root_dev = st.st_dev;
	for (size_t i = 0; i < c.o.n_excludes; i++)
		if ((r = tp_pxar_excludes_add_cli(&c.ex, c.o.excludes[i], err)) < 0)
			goto out;
	c.n_cli = c.ex.n;
	if ((r = read_meta(fd, &st, fs_features((unsigned long)sfs.f_type), &m, path, err)) < 0)
		goto out;
	if ((r = tp_pxar_enc_init(&c.enc, write, ctx, &m, err)) < 0)
		goto out;
	if ((r = encode_children(&c, fd, 1, err)) < 0)
		goto out;
	if (c.n_cli && (r = encode_cli_file(&c, err)) < 0)
		goto out;
	r = tp_pxar_enc_finish(&c.enc, err);
out:
	if (opts && opts->stats)
		*opts->stats = c.st;
	tp_pxar_meta_free(&m);
	tp_pxar_enc_free(&c.enc);
	for (size_t i = 0; i < c.hl_cap; i++)
		free(c.hl[i].path);
	free(c.hl);
	tp_buf_free(&c.path);
	tp_buf_free(&c.mpath);
	tp_pxar_excludes_free(&c.ex);
	free(c.io);
	close(fd);
	return r;
}

int tp_pxar_create_pcat1_cb(void *ctx, const tp_pxar_create_event *ev, tp_err *err)
{
	tp_pcat1_writer *w = ctx;
	switch (ev->type) {
	case TP_PXAR_EV_DIR_BEGIN: return tp_pcat1_begin_dir(w, ev->name, err);
	case TP_PXAR_EV_DIR_END: return tp_pcat1_end_dir(w, err);
	case TP_PXAR_EV_FILE: return tp_pcat1_add_file(w, ev->name, ev->size, ev->mtime, err);
	case TP_PXAR_EV_SYMLINK: return tp_pcat1_add_symlink(w, ev->name, err);
	case TP_PXAR_EV_HARDLINK: return tp_pcat1_add_hardlink(w, ev->name, err);
	case TP_PXAR_EV_BLOCKDEV: return tp_pcat1_add_block_device(w, ev->name, err);
	case TP_PXAR_EV_CHARDEV: return tp_pcat1_add_char_device(w, ev->name, err);
	case TP_PXAR_EV_FIFO: return tp_pcat1_add_fifo(w, ev->name, err);
	case TP_PXAR_EV_SOCKET: return tp_pcat1_add_socket(w, ev->name, err);
	}
	return tp_err_set(err, -EINVAL, "pxar create: unknown event %d", (int)ev->type);
}
