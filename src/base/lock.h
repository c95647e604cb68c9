/* File locks: flock with a timeout (named holder), fcntl shared/exclusive. */
#ifndef TAPIR_BASE_LOCK_H
#define TAPIR_BASE_LOCK_H

#include "base/err.h"

enum tp_lock_mode { TP_LOCK_SHARED, TP_LOCK_EXCLUSIVE };

/*
 * A held lock: the open fd of the lock file.  Released by tp_lock_release
 * (or process exit).  fd is -1 when not held.
 */
typedef struct tp_lock {
	int fd;
	int is_fcntl;
} tp_lock;

#define TP_LOCK_INIT { -1, 0 }

/*
 * flock()s path (created 0600 if missing) in the given mode, retrying every
 * 100 ms for up to timeout_ms (0 = try once, <0 = wait forever).  On success
 * with TP_LOCK_EXCLUSIVE and a non-NULL owner, the owner text (e.g. a task
 * UPID) is written into the file so that a later contender can name the
 * holder in its error message.  Fails with -TP_ELOCKED naming what is locked.
 */
int tp_lock_file(tp_lock *l, const char *path, enum tp_lock_mode mode, int timeout_ms,
		 const char *owner, const char *what, tp_err *err);

/* flock() on an already-open directory or file fd (no wait); dup()s fd. */
int tp_lock_fd(tp_lock *l, int fd, enum tp_lock_mode mode, const char *what, tp_err *err);

/* fcntl(F_SETLK) whole-file lock, as PBS uses on the chunk store's .lock. */
int tp_lock_fcntl(tp_lock *l, const char *path, enum tp_lock_mode mode, int timeout_ms,
		  const char *what, tp_err *err);

void tp_lock_release(tp_lock *l);

#endif
