/* Directory tree on disk -> pxar v1 stream, collecting metadata the way the PBS client does. */
#ifndef TAPIR_STORE_PXAR_CREATE_H
#define TAPIR_STORE_PXAR_CREATE_H

#include <stdint.h>

#include "base/err.h"
#include "format/pxar.h"

enum tp_pxar_create_ev {
	TP_PXAR_EV_DIR_BEGIN = 1, /* a subdirectory starts (not sent for the archive root) */
	TP_PXAR_EV_DIR_END,
	TP_PXAR_EV_FILE,
	TP_PXAR_EV_SYMLINK,
	TP_PXAR_EV_HARDLINK,
	TP_PXAR_EV_BLOCKDEV,
	TP_PXAR_EV_CHARDEV,
	TP_PXAR_EV_FIFO,
	TP_PXAR_EV_SOCKET,
};

typedef struct tp_pxar_create_event {
	enum tp_pxar_create_ev type;
	const char *name;         /* entry name (for DIR_END: the directory's name) */
	const char *path;         /* relative to the archive root */
	uint64_t size;            /* FILE: bytes stored */
	int64_t mtime;            /* FILE: st_mtime seconds */
} tp_pxar_create_event;

/* Called once per encoded entry, in archive order; a negative return aborts the walk. */
typedef int (*tp_pxar_create_cb)(void *ctx, const tp_pxar_create_event *ev, tp_err *err);

typedef struct tp_pxar_create_stats {
	uint64_t entries;         /* entries encoded, root excluded */
	uint64_t bytes;           /* file content bytes */
	uint64_t warnings;        /* vanished/unreadable entries skipped, files that changed size */
} tp_pxar_create_stats;

typedef struct tp_pxar_create_opts {
	int all_file_systems;     /* descend into other mounted file systems */
	tp_pxar_create_cb on_entry;
	void *cb_ctx;
	tp_pxar_create_stats *stats; /* optional, filled on return */
	/*
	 * Optional: where to read file contents.  Returns up to *avail bytes
	 * of the sink's own buffer; the bytes read there are then passed to
	 * write() at that same address, so a sink that recognises it (see
	 * tp_chunk_stream_push) needs no copy.  NULL: a private 1 MiB buffer.
	 */
	int (*io_space)(void *ctx, uint8_t **buf, size_t *avail, tp_err *err);
	void *io_ctx;
	/*
	 * CLI exclude patterns (PBS client --exclude): applied everywhere and,
	 * when there are any, recorded in a synthetic `.pxarexclude-cli` file
	 * appended as the root's last entry (mode 0600, uid/gid 0, mtime 0).
	 */
	const char *const *excludes;
	size_t n_excludes;
} tp_pxar_create_opts;

/*
 * Encodes the directory at path as a pxar v1 archive written to write(ctx).
 * Entries matched by the exclude patterns (opts->excludes, and each
 * directory's `.pxarexclude`, which applies to its subtree and is itself
 * archived unless matched; see pxar_exclude.h) are left out, excluded
 * directories with everything below them.
 * Children are sorted bytewise; regular files with more than one link are
 * encoded once and then as HARDLINK; only the root's file system is entered
 * unless all_file_systems; vanished (ENOENT) and unreadable (EACCES)
 * entries are skipped with a warning.  Files are streamed in 1 MiB pieces.
 * opts may be NULL.
 */
int tp_pxar_create(const char *path, tp_pxar_write_fn write, void *ctx, const tp_pxar_create_opts *opts,
		   tp_err *err);

/* A tp_pxar_create_cb feeding the tp_pcat1_writer given as ctx (one walk, both outputs). */
int tp_pxar_create_pcat1_cb(void *ctx, const tp_pxar_create_event *ev, tp_err *err);

#endif
