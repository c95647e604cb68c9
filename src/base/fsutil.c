/* File-system helpers (see fsutil.h). */
#include "base/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *tp_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *tp_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	if (la && a[la - 1] == '/')
		return tp_strdup_printf("%s%s", a, b);
	return tp_strdup_printf("%s/%s", a, b);
}

int tp_write_all(int fd, const void *buf, size_t len, tp_err *err, const char *what)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return tp_err_errno(err, "write %s", what);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int tp_read_all(int fd, void *buf, size_t len, size_t *got, tp_err *err, const char *what)
{
	uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return tp_err_errno(err, "read %s", what);
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	if (got)
		*got = done;
	return 0;
}

int tp_pread_exact(int fd, void *buf, size_t len, off_t off, tp_err *err, const char *what)
{
	uint8_t *p = buf;
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, off + (off_t)done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return tp_err_errno(err, "read %s", what);
		}
		if (n == 0)
			return tp_err_set(err, -TP_EFORMAT, "%s: unexpected end of file at offset %lld",
					  what, (long long)(off + (off_t)done));
		done += (size_t)n;
	}
	return 0;
}

int tp_fsync_dir(const char *dir, tp_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return tp_err_errno(err, "open directory %s", dir);
	int r = 0;
	if (fsync(fd) < 0)
		r = tp_err_errno(err, "fsync directory %s", dir);
	close(fd);
	return r;
}

int tp_fsync_parent(const char *path, tp_err *err)
{
	char *copy = strdup(path);
	if (!copy)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_fsync_dir(dirname(copy), err);
	free(copy);
	return r;
}

int tp_write_atomic(const char *path, const void *data, size_t len, mode_t mode, tp_err *err)
{
	return tp_write_atomic_ex(path, data, len, mode, 1, err);
}

int tp_write_atomic_ex(const char *path, const void *data, size_t len, mode_t mode, int durable, tp_err *err)
{
	int r = 0, fd = -1;
	char *tmp = tp_strdup_printf("%s.tmp_%d_%lx", path, (int)getpid(), (unsigned long)random());
	if (!tmp)
		return tp_err_set(err, -ENOMEM, "out of memory");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		r = tp_err_errno(err, "create %s", tmp);
		goto out;
	}
	r = tp_write_all(fd, data, len, err, tmp);
	if (r < 0)
		goto out;
	if (fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0)) {
		r = tp_err_errno(err, "sync %s", tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = tp_err_errno(err, "close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = tp_err_errno(err, "rename %s to %s", tmp, path);
		goto out;
	}
	if (durable)
		r = tp_fsync_parent(path, err);
out:
	if (fd >= 0)
		close(fd);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

int tp_read_file(const char *path, tp_buf *out, size_t max, tp_err *err)
{
	int r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tp_err_errno(err, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = tp_err_errno(err, "stat %s", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = tp_err_set(err, -EFBIG, "%s: file too large (%lld bytes, limit %zu)", path,
			       (long long)st.st_size, max);
		goto out;
	}
	r = tp_buf_reserve(out, (size_t)st.st_size);
	if (r < 0) {
		tp_err_set(err, r, "out of memory reading %s", path);
		goto out;
	}
	for (;;) {
		if (out->len - 0 > max) {
			r = tp_err_set(err, -EFBIG, "%s: file too large", path);
			goto out;
		}
		r = tp_buf_reserve(out, 65536);
		if (r < 0) {
			tp_err_set(err, r, "out of memory reading %s", path);
			goto out;
		}
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = tp_err_errno(err, "read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	if (out->len > max)
		r = tp_err_set(err, -EFBIG, "%s: file too large", path);
out:
	close(fd);
	return r;
}

int tp_mkdir_p(const char *path, mode_t mode, tp_err *err)
{
	char *p = strdup(path);
	int r = 0;
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == 0) {
			char c = *s;
			*s = 0;
			if (mkdir(p, mode) < 0 && errno != EEXIST) {
				r = tp_err_errno(err, "create directory %s", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	if (r == 0 && !tp_is_dir(path))
		r = tp_err_set(err, -ENOTDIR, "%s exists and is not a directory", path);
	free(p);
	return r;
}

int tp_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int tp_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int rm_rf_at(int parent, const char *name, tp_err *err, const char *top)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : tp_err_errno(err, "stat %s", top);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
			return tp_err_errno(err, "remove under %s", top);
		return 0;
	}
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return tp_err_errno(err, "open directory under %s", top);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return tp_err_errno(err, "read directory under %s", top);
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = rm_rf_at(dirfd(d), de->d_name, err, top);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = tp_err_errno(err, "remove directory under %s", top);
	return r;
}

int tp_rm_rf(const char *path, tp_err *err)
{
	return rm_rf_at(AT_FDCWD, path, err, path);
}
