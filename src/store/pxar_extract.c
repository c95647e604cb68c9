/* pxar v1 extraction into a directory (see pxar_extract.h): fd-relative, no symlink following. */
#include "store/pxar_extract.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"

#define IO_PIECE (1u << 20)
#define SPARSE_BLOCK 4096

#ifndef FAT_IOCTL_GET_ATTRIBUTES
#define FAT_IOCTL_GET_ATTRIBUTES _IOR('r', 0x10, uint32_t)
#endif
#ifndef FAT_IOCTL_SET_ATTRIBUTES
#define FAT_IOCTL_SET_ATTRIBUTES _IOW('r', 0x11, uint32_t)
#endif

/* chattr bits that are set on the empty file before its data (PBS: initial attributes) */
#define INITIAL_FLAGS (TP_PXAR_FLAG_NOATIME | TP_PXAR_FLAG_COMPR | TP_PXAR_FLAG_NOCOW | TP_PXAR_FLAG_NOCOMP | \
		       TP_PXAR_FLAG_PROJINHERIT)

struct xdir {
	int fd;
	tp_pxar_meta meta;
	char *path;
};

struct ex {
	int root;                 /* running as root */
	uint64_t warnings;
	struct xdir *dirs;
	size_t depth, cap;
	uint8_t *io;
};

static void warn(struct ex *x, const char *path, const char *what, int e)
{
	x->warnings++;
	tp_warn("pxar extract: '%s': %s: %s", path[0] ? path : "/", what, strerror(e));
}

static int xattr_restorable(const char *name)
{
	return strlen(name) <= TP_PXAR_MAX_XATTR_NAME &&
	       (!strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) || !strcmp(name, "security.NTACL"));
}

static int ignorable_ioctl_errno(int e)
{
	return e == ENOTTY || e == ENOSYS || e == EBADF || e == EOPNOTSUPP || e == EINVAL;
}

static void put_acl(tp_buf *b, uint16_t tag, uint64_t perm, uint32_t id)
{
	uint8_t e[8];
	tp_put_le16(e, tag);
	tp_put_le16(e + 2, (uint16_t)(perm == TP_PXAR_ACL_NO_MASK ? 0 : perm & 7));
	tp_put_le32(e + 4, id);
	tp_buf_append(b, e, 8);
}

/* Builds the system.posix_acl_* xattr values (entries in the kernel's tag order). */
static int build_acls(const tp_pxar_meta *m, tp_buf *acc, tp_buf *def)
{
	enum { USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10, OTHER = 0x20 };
	const uint32_t undef = 0xffffffffu;
	uint64_t mode = m->mode;
	if (m->n_acl_users || m->n_acl_groups || m->has_acl_group_obj) {
		tp_buf_append_le32(acc, 2);
		put_acl(acc, USER_OBJ, (mode >> 6) & 7, undef);
		for (size_t i = 0; i < m->n_acl_users; i++)
			put_acl(acc, USER, m->acl_users[i].perms, (uint32_t)m->acl_users[i].id);
		put_acl(acc, GROUP_OBJ, m->has_acl_group_obj ? m->acl_group_obj : (mode >> 3) & 7, undef);
		for (size_t i = 0; i < m->n_acl_groups; i++)
			put_acl(acc, GROUP, m->acl_groups[i].perms, (uint32_t)m->acl_groups[i].id);
		if (m->has_acl_group_obj || m->n_acl_users || m->n_acl_groups)
			put_acl(acc, MASK, (mode >> 3) & 7, undef);
		put_acl(acc, OTHER, mode & 7, undef);
	}
	if (m->has_acl_default) {
		const tp_pxar_acl_default *d = &m->acl_default;
		tp_buf_append_le32(def, 2);
		put_acl(def, USER_OBJ, d->user_obj, undef);
		for (size_t i = 0; i < m->n_acl_default_users; i++)
			put_acl(def, USER, m->acl_default_users[i].perms, (uint32_t)m->acl_default_users[i].id);
		put_acl(def, GROUP_OBJ, d->group_obj, undef);
		for (size_t i = 0; i < m->n_acl_default_groups; i++)
			put_acl(def, GROUP, m->acl_default_groups[i].perms, (uint32_t)m->acl_default_groups[i].id);
		if (d->mask != TP_PXAR_ACL_NO_MASK)
			put_acl(def, MASK, d->mask, undef);
		put_acl(def, OTHER, d->other, undef);
	}
	return 0;
}

/* Metadata of a regular file or directory through its fd, in PBS's order. */
static int apply_fd(struct ex *x, int fd, const tp_pxar_meta *m, const char *path, tp_err *err)
{
	/* 1. ownership first: it clears setuid and fcaps, and fails early without rights */
	if (fchown(fd, m->uid, m->gid) < 0) {
		if (x->root || errno != EPERM)
			return tp_err_errno(err, "pxar extract: chown of '%s'", path);
	}
	/* 2. xattrs, 3. fcaps */
	int xattrs_ok = 1;
	for (size_t i = 0; i < m->n_xattrs && xattrs_ok; i++) {
		const tp_pxar_xattr *a = &m->xattrs[i];
		if (!xattr_restorable(a->name)) {
			warn(x, path, "xattr name not restorable", EINVAL);
			continue;
		}
		if (fsetxattr(fd, a->name, a->value, a->value_len, 0) < 0) {
			if (errno == EOPNOTSUPP)
				xattrs_ok = 0;
			else
				warn(x, path, a->name, errno);
		}
	}
	if (m->has_fcaps && xattrs_ok && fsetxattr(fd, "security.capability", m->fcaps, m->fcaps_len, 0) < 0)
		warn(x, path, "fcaps", errno);
	/* 4. ACLs */
	tp_buf acc = TP_BUF_INIT, def = TP_BUF_INIT;
	build_acls(m, &acc, &def);
	if (acc.len && fsetxattr(fd, "system.posix_acl_access", acc.data, acc.len, 0) < 0 && errno != EOPNOTSUPP)
		warn(x, path, "access ACL", errno);
	if (def.len && S_ISDIR(m->mode) &&
	    fsetxattr(fd, "system.posix_acl_default", def.data, def.len, 0) < 0 && errno != EOPNOTSUPP)
		warn(x, path, "default ACL", errno);
	tp_buf_free(&acc);
	tp_buf_free(&def);
	/* 5. quota project id */
	if (m->has_projid) {
		struct fsxattr fx;
		if (ioctl(fd, FS_IOC_FSGETXATTR, &fx) == 0) {
			fx.fsx_projid = (uint32_t)m->projid;
			if (ioctl(fd, FS_IOC_FSSETXATTR, &fx) < 0 && !ignorable_ioctl_errno(errno))
				warn(x, path, "quota project id", errno);
		}
	}
	/* 6. permissions after chown and ACLs: restores setuid/setgid and matches the ACL mask */
	if (fchmod(fd, (mode_t)(m->mode & 07777)) < 0)
		return tp_err_errno(err, "pxar extract: chmod of '%s'", path);
	/* 7. mtime; atime is not stored */
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { (time_t)m->mtime_secs, (long)m->mtime_nanos } };
	if (futimens(fd, ts) < 0)
		return tp_err_errno(err, "pxar extract: setting the mtime of '%s'", path);
	/* 8. file attributes last, so immutable/append-only does not block the steps above */
	uint32_t want = tp_pxar_flags_to_chattr(m->flags & ~TP_PXAR_FLAG_NODUMP);
	if (want) {
		int cur = 0;
		if (ioctl(fd, FS_IOC_GETFLAGS, &cur) == 0) {
			int nf = cur | (int)want;
			if (nf != cur && ioctl(fd, FS_IOC_SETFLAGS, &nf) < 0 && !ignorable_ioctl_errno(errno))
				warn(x, path, "file attributes", errno);
		} else if (!ignorable_ioctl_errno(errno)) {
			warn(x, path, "file attributes", errno);
		}
	}
	uint32_t fat = tp_pxar_flags_to_fat(m->flags);
	if (fat && ioctl(fd, FAT_IOCTL_SET_ATTRIBUTES, &fat) < 0 && !ignorable_ioctl_errno(errno))
		warn(x, path, "FAT attributes", errno);
	return 0;
}

/* Metadata of symlinks, devices, FIFOs and sockets, by name in their directory (never followed). */
static int apply_at(struct ex *x, int dfd, const char *name, const tp_pxar_meta *m, const char *path, tp_err *err)
{
	if (fchownat(dfd, name, m->uid, m->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		if (x->root || errno != EPERM)
			return tp_err_errno(err, "pxar extract: chown of '%s'", path);
	}
	if ((m->mode & S_IFMT) != S_IFLNK && fchmodat(dfd, name, (mode_t)(m->mode & 07777), 0) < 0)
		return tp_err_errno(err, "pxar extract: chmod of '%s'", path);
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { (time_t)m->mtime_secs, (long)m->mtime_nanos } };
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return tp_err_errno(err, "pxar extract: setting the mtime of '%s'", path);
	return 0;
}

static int push_dir(struct ex *x, int fd, const tp_pxar_meta *m, const char *path, tp_err *err)
{
	if (x->depth == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 32;
		struct xdir *d = realloc(x->dirs, nc * sizeof(*d));
		if (!d)
			return tp_err_set(err, -ENOMEM, "pxar extract: out of memory");
		x->dirs = d;
		x->cap = nc;
	}
	struct xdir *d = &x->dirs[x->depth];
	d->fd = fd;
	d->path = strdup(path);
	if (!d->path || tp_pxar_meta_copy(&d->meta, m) < 0) {
		free(d->path);
		return tp_err_set(err, -ENOMEM, "pxar extract: out of memory");
	}
	x->depth++;
	return 0;
}

static void pop_dir(struct ex *x)
{
	struct xdir *d = &x->dirs[--x->depth];
	close(d->fd);
	tp_pxar_meta_free(&d->meta);
	free(d->path);
}

static int make_dir(struct ex *x, int pfd, const tp_pxar_entry *e, tp_err *err)
{
	/* 0700 until the goodbye: children must be creatable even in a read-only directory */
	if (mkdirat(pfd, e->name, 0700) < 0) {
		struct stat st;
		if (errno != EEXIST)
			return tp_err_errno(err, "pxar extract: creating directory '%s'", e->path);
		if (fstatat(pfd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			return tp_err_set(err, -EEXIST, "pxar extract: '%s' exists and is not a directory", e->path);
	}
	int fd = openat(pfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return tp_err_errno(err, "pxar extract: opening directory '%s'", e->path);
	int r = push_dir(x, fd, &e->meta, e->path, err);
	if (r < 0)
		close(fd);
	return r;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int make_file(struct ex *x, tp_pxar_dec *dec, int pfd, const tp_pxar_entry *e, tp_err *err)
{
	int fd = openat(pfd, e->name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return tp_err_errno(err, "pxar extract: creating file '%s'", e->path);
	int r = 0;
	uint64_t off = 0;
	uint32_t initial = tp_pxar_flags_to_chattr(e->meta.flags & INITIAL_FLAGS);
	if (initial) {
		int fl = 0;
		if (ioctl(fd, FS_IOC_GETFLAGS, &fl) == 0) {
			fl |= (int)initial;
			ioctl(fd, FS_IOC_SETFLAGS, &fl);
		}
	}
	for (;;) {
		long n = tp_pxar_dec_read_payload(dec, x->io, IO_PIECE, err);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		/* zero blocks become holes */
		for (size_t at = 0; at < (size_t)n;) {
			size_t k = (size_t)n - at > SPARSE_BLOCK ? SPARSE_BLOCK : (size_t)n - at;
			if (!all_zero(x->io + at, k)) {
				size_t done = 0;
				while (done < k) {
					ssize_t w = pwrite(fd, x->io + at + done, k - done, (off_t)(off + done));
					if (w < 0 && errno == EINTR)
						continue;
					if (w < 0) {
						r = tp_err_errno(err, "pxar extract: writing '%s'", e->path);
						goto out;
					}
					done += (size_t)w;
				}
			}
			at += k;
			off += k;
		}
	}
	if (off != e->size) {
		r = tp_err_set(err, -TP_EFORMAT, "pxar extract: '%s': got %llu of %llu payload bytes", e->path,
			       (unsigned long long)off, (unsigned long long)e->size);
		goto out;
	}
	if (ftruncate(fd, (off_t)off) < 0) {
		r = tp_err_errno(err, "pxar extract: setting the size of '%s'", e->path);
		goto out;
	}
	r = apply_fd(x, fd, &e->meta, e->path, err);
out:
	close(fd);
	return r;
}

/* Opens the directory holding a hardlink target, walking from the root without following symlinks. */
static int resolve_link(int rootfd, const char *target, int *dfd, const char **last, tp_err *err)
{
	size_t len = strlen(target);
	if (len == 0 || target[0] == '/')
		return tp_err_set(err, -EINVAL, "pxar extract: hardlink target '%s' is not a relative path", target);
	int cur = dup(rootfd);
	if (cur < 0)
		return tp_err_errno(err, "pxar extract: dup");
	const char *p = target;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		char comp[TP_PXAR_MAX_FILENAME + 1];
		if (!tp_pxar_name_valid(p, n)) {
			close(cur);
			return tp_err_set(err, -EINVAL, "pxar extract: hardlink target '%s' has an invalid component",
					  target);
		}
		if (!slash) {
			*dfd = cur;
			*last = p;
			return 0;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		int nfd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(cur);
		if (nfd < 0)
			return tp_err_errno(err, "pxar extract: hardlink target '%s': directory '%s'", target, comp);
		cur = nfd;
		p = slash + 1;
	}
}

static int extract_entry(struct ex *x, tp_pxar_dec *dec, const tp_pxar_entry *e, tp_err *err)
{
	int r;
	if (e->kind == TP_PXAR_KIND_GOODBYE) {
		struct xdir *d = &x->dirs[x->depth - 1];
		r = apply_fd(x, d->fd, &d->meta, d->path, err);
		pop_dir(x);
		return r;
	}
	if (e->depth == 0)
		return tp_err_set(err, -TP_EFORMAT, "pxar extract: unexpected root entry");
	if (x->depth != e->depth || !tp_pxar_name_valid(e->name, strlen(e->name)))
		return tp_err_set(err, -TP_EFORMAT, "pxar extract: invalid entry '%s'", e->path);
	int pfd = x->dirs[x->depth - 1].fd;
	switch (e->kind) {
	case TP_PXAR_KIND_DIR:
		return make_dir(x, pfd, e, err);
	case TP_PXAR_KIND_FILE:
		return make_file(x, dec, pfd, e, err);
	case TP_PXAR_KIND_SYMLINK:
		if (symlinkat(e->link_target, pfd, e->name) < 0)
			return tp_err_errno(err, "pxar extract: creating symlink '%s'", e->path);
		return apply_at(x, pfd, e->name, &e->meta, e->path, err);
	case TP_PXAR_KIND_HARDLINK: {
		int dfd = -1;
		const char *last = NULL;
		if ((r = resolve_link(x->dirs[0].fd, e->link_target, &dfd, &last, err)) < 0)
			return tp_err_wrap(err, r, "'%s'", e->path);
		r = linkat(dfd, last, pfd, e->name, 0);
		if (r < 0)
			r = tp_err_errno(err, "pxar extract: hardlink '%s' -> '%s'", e->path, e->link_target);
		close(dfd);
		return r;
	}
	case TP_PXAR_KIND_DEVICE:
	case TP_PXAR_KIND_FIFO:
	case TP_PXAR_KIND_SOCKET: {
		dev_t dev = 0;
		if (e->kind == TP_PXAR_KIND_DEVICE)
			dev = makedev((unsigned)e->dev_major, (unsigned)e->dev_minor);
		if (mknodat(pfd, e->name, (mode_t)(e->meta.mode & (S_IFMT | 07777)) & ~(mode_t)07077, dev) < 0) {
			if (errno == EPERM && !x->root) {
				warn(x, e->path, "creating device node", errno);
				return 0;
			}
			return tp_err_errno(err, "pxar extract: creating '%s'", e->path);
		}
		return apply_at(x, pfd, e->name, &e->meta, e->path, err);
	}
	default:
		return tp_err_set(err, -TP_EFORMAT, "pxar extract: unexpected entry kind for '%s'", e->path);
	}
}

int tp_pxar_extract(tp_pxar_read_fn read, void *ctx, const char *target, const tp_pxar_extract_opts *opts,
		    tp_err *err)
{
	struct ex x;
	tp_pxar_dec dec;
	const tp_pxar_entry *e;
	int r, list = opts && opts->list_only;
	memset(&x, 0, sizeof(x));
	x.root = geteuid() == 0;
	tp_pxar_dec_init(&dec, read, ctx, err);
	if (!list) {
		if (!(x.io = malloc(IO_PIECE))) {
			r = tp_err_set(err, -ENOMEM, "pxar extract: out of memory");
			goto out;
		}
		if (mkdir(target, 0700) < 0 && errno != EEXIST) {
			r = tp_err_errno(err, "pxar extract: creating target directory '%s'", target);
			goto out;
		}
	}
	while ((r = tp_pxar_dec_next(&dec, &e, err)) > 0) {
		if (opts && opts->on_entry && (r = opts->on_entry(opts->cb_ctx, e, err)) < 0)
			goto out;
		if (list)
			continue;
		if (e->depth == 0 && e->kind == TP_PXAR_KIND_DIR) {
			/* the root's metadata goes to the target, applied at the root goodbye */
			int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) {
				r = tp_err_errno(err, "pxar extract: opening target directory '%s'", target);
				goto out;
			}
			if ((r = push_dir(&x, fd, &e->meta, "", err)) < 0) {
				close(fd);
				goto out;
			}
			continue;
		}
		if ((r = extract_entry(&x, &dec, e, err)) < 0)
			goto out;
	}
out:
	while (x.depth)
		pop_dir(&x);
	free(x.dirs);
	free(x.io);
	tp_pxar_dec_free(&dec);
	if (opts && opts->warnings)
		*opts->warnings = x.warnings;
	return r < 0 ? r : 0;
}
