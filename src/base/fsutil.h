/* File-system helpers: atomic replace, whole-file reads, directory trees. */
#ifndef TAPIR_BASE_FSUTIL_H
#define TAPIR_BASE_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * Writes data to path atomically: a unique temp file in the same directory,
 * fsync, rename over path, fsync of the directory.  The temp file is removed
 * on any failure, so a reader sees the old content or the new, never a mix.
 */
int tp_write_atomic(const char *path, const void *data, size_t len, mode_t mode, tp_err *err);
/*
 * The same with durable = 0: no fsync of the file or the directory, so
 * still all-or-nothing for readers and after a crash of the process, but
 * after a power loss the old content may be back.  For state that is
 * re-learnt anyway (a virtual drive's memory): every fsync flushes the
 * whole device cache, which stalls a restore streaming to that disk.
 */
int tp_write_atomic_ex(const char *path, const void *data, size_t len, mode_t mode, int durable, tp_err *err);

/* Appends the whole file to out; fails with -EFBIG when it exceeds max bytes. */
int tp_read_file(const char *path, tp_buf *out, size_t max, tp_err *err);

/* Reads exactly len bytes at offset; -EIO/TP_EFORMAT on short read. */
int tp_pread_exact(int fd, void *buf, size_t len, off_t off, tp_err *err, const char *what);
int tp_write_all(int fd, const void *buf, size_t len, tp_err *err, const char *what);
int tp_read_all(int fd, void *buf, size_t len, size_t *got, tp_err *err, const char *what);

int tp_mkdir_p(const char *path, mode_t mode, tp_err *err);
int tp_fsync_dir(const char *dir, tp_err *err);       /* fsync of a directory path */
int tp_fsync_parent(const char *path, tp_err *err);   /* fsync of path's directory */
int tp_rm_rf(const char *path, tp_err *err);          /* missing path is success */
int tp_path_exists(const char *path);                 /* 1 exists, 0 not */
int tp_is_dir(const char *path);

/* Returns a malloc'd "a/b" (caller frees); NULL on OOM. */
char *tp_path_join(const char *a, const char *b);
/* Returns a malloc'd printf result (caller frees); NULL on OOM. */
char *tp_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
