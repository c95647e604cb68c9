/* File locks (see lock.h). */
#include "base/lock.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void read_owner(int fd, char *out, size_t n)
{
	ssize_t got = pread(fd, out, n - 1, 0);
	out[got > 0 ? got : 0] = 0;
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = 0;
}

int tp_lock_file(tp_lock *l, const char *path, enum tp_lock_mode mode, int timeout_ms,
		 const char *owner, const char *what, tp_err *err)
{
	l->fd = -1;
	l->is_fcntl = 0;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return tp_err_errno(err, "open lock file %s", path);
	int op = (mode == TP_LOCK_SHARED ? LOCK_SH : LOCK_EX) | LOCK_NB;
	int waited = 0;
	for (;;) {
		if (flock(fd, op) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int r = tp_err_errno(err, "lock %s", path);
			close(fd);
			return r;
		}
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			char holder[256];
			read_owner(fd, holder, sizeof(holder));
			close(fd);
			if (holder[0])
				return tp_err_set(err, -TP_ELOCKED, "%s is locked by %s (gave up after %d ms)",
						  what, holder, timeout_ms);
			return tp_err_set(err, -TP_ELOCKED, "%s is locked by another process (gave up after %d ms)",
					  what, timeout_ms);
		}
		sleep_ms(100);
		waited += 100;
	}
	if (mode == TP_LOCK_EXCLUSIVE && owner) {
		if (ftruncate(fd, 0) == 0) {
			size_t n = strlen(owner);
			if (pwrite(fd, owner, n, 0) != (ssize_t)n)
				(void)0; /* the owner text is advisory */
		}
	}
	l->fd = fd;
	return 0;
}

int tp_lock_fd(tp_lock *l, int fd, enum tp_lock_mode mode, const char *what, tp_err *err)
{
	l->fd = -1;
	l->is_fcntl = 0;
	int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return tp_err_errno(err, "dup fd for %s", what);
	if (flock(d, (mode == TP_LOCK_SHARED ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		int e = errno;
		close(d);
		if (e == EWOULDBLOCK)
			return tp_err_set(err, -TP_ELOCKED, "%s is locked by another operation", what);
		errno = e;
		return tp_err_errno(err, "lock %s", what);
	}
	l->fd = d;
	return 0;
}

int tp_lock_fcntl(tp_lock *l, const char *path, enum tp_lock_mode mode, int timeout_ms,
		  const char *what, tp_err *err)
{
	l->fd = -1;
	l->is_fcntl = 1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return tp_err_errno(err, "open lock file %s", path);
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = mode == TP_LOCK_SHARED ? F_RDLCK : F_WRLCK;
	fl.l_whence = SEEK_SET;
	int waited = 0;
	for (;;) {
		if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
			break;
		if (errno != EAGAIN && errno != EACCES && errno != EINTR) {
			int r = tp_err_errno(err, "lock %s", path);
			close(fd);
			return r;
		}
		if (timeout_ms >= 0 && waited >= timeout_ms) {
			close(fd);
			return tp_err_set(err, -TP_ELOCKED, "%s is locked by another process", what);
		}
		sleep_ms(100);
		waited += 100;
	}
	l->fd = fd;
	return 0;
}

void tp_lock_release(tp_lock *l)
{
	if (l && l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
}
