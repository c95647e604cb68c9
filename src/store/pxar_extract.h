/* pxar v1 stream -> directory tree on disk, created only through directory fds inside the target. */
#ifndef TAPIR_STORE_PXAR_EXTRACT_H
#define TAPIR_STORE_PXAR_EXTRACT_H

#include <stdint.h>

#include "base/err.h"
#include "format/pxar.h"

/* Called for every decoded entry (and goodbye event) before it is extracted; negative aborts. */
typedef int (*tp_pxar_extract_cb)(void *ctx, const tp_pxar_entry *e, tp_err *err);

typedef struct tp_pxar_extract_opts {
	int list_only;            /* decode and report entries only; target may be NULL */
	tp_pxar_extract_cb on_entry;
	void *cb_ctx;
	uint64_t *warnings;       /* optional: metadata that could not be restored */
} tp_pxar_extract_opts;

/*
 * Extracts the archive read from read(ctx) into target (created with mode
 * 0700 if missing; existing directories are reused, any other existing name
 * is an error).  Every object is created relative to its parent's directory
 * fd with O_NOFOLLOW semantics; hardlink paths must be relative and are
 * resolved from the target without following symlinks.  Metadata is applied
 * in PBS order (chown, xattrs, fcaps, ACLs, project id, chmod, mtime, file
 * attributes); a directory's metadata when its GOODBYE is reached, the
 * root's last.  When not running as root, chown failing with EPERM is
 * ignored and other refused metadata counts as a warning.  opts may be NULL.
 */
int tp_pxar_extract(tp_pxar_read_fn read, void *ctx, const char *target, const tp_pxar_extract_opts *opts,
		    tp_err *err);

#endif
