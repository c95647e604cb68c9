/* PBS client file catalog (catalog.pcat1): streaming writer, bounded reader and text dump. */
#ifndef TAPIR_FORMAT_PCAT1_H
#define TAPIR_FORMAT_PCAT1_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "format/pxar.h"

#define TP_PCAT1_MAX_NAME 4095   /* the PBS reader rejects names of 4096 bytes or more */
#define TP_PCAT1_MAX_DEPTH 2048  /* directory nesting accepted by the reader */

/* Entry type bytes. */
enum {
	TP_PCAT1_DIR = 'd',
	TP_PCAT1_FILE = 'f',
	TP_PCAT1_SYMLINK = 'l',
	TP_PCAT1_HARDLINK = 'h',
	TP_PCAT1_BLOCKDEV = 'b',
	TP_PCAT1_CHARDEV = 'c',
	TP_PCAT1_FIFO = 'p',
	TP_PCAT1_SOCKET = 's',
};

/* Varints: unsigned LEB128 (max 10 bytes) and PBS's signed form (max 11 bytes). */
size_t tp_pcat1_put_uvarint(uint8_t out[10], uint64_t v);
size_t tp_pcat1_put_svarint(uint8_t out[11], int64_t v);
/* Return bytes consumed, or a negative code for truncated/overlong input. */
int tp_pcat1_get_uvarint(const uint8_t *p, size_t len, uint64_t *v);
int tp_pcat1_get_svarint(const uint8_t *p, size_t len, int64_t *v);

/* ------------------------------------------------------------ writer */

typedef struct tp_pcat1_went {
	uint8_t type;
	char *name;
	uint64_t size;
	int64_t mtime;
	uint64_t child;           /* 'd': absolute offset of the child's block */
} tp_pcat1_went;

typedef struct tp_pcat1_wdir {
	char *name;               /* NULL for the catalog root */
	tp_pcat1_went *ents;
	size_t n, cap;
} tp_pcat1_wdir;

/*
 * Directory blocks are written when a directory ends (post-order), so memory
 * is one entry per child of each open directory.
 */
typedef struct tp_pcat1_writer {
	tp_pxar_write_fn write;
	void *ctx;
	uint64_t pos;
	tp_pcat1_wdir *dirs;      /* [0] = the catalog root "/" */
	size_t depth, cap;
	int failed, finished;
} tp_pcat1_writer;

/* Writes the magic; the catalog root is open.  Use tp_pxar_sink_buf to collect into a tp_buf. */
int tp_pcat1_writer_init(tp_pcat1_writer *w, tp_pxar_write_fn write, void *ctx, tp_err *err);
void tp_pcat1_writer_free(tp_pcat1_writer *w);
/* Opens a subdirectory of the current one (for the catalog root: one per archive, e.g. "root.pxar.didx"). */
int tp_pcat1_begin_dir(tp_pcat1_writer *w, const char *name, tp_err *err);
/* Writes the current directory's block and records it in its parent. */
int tp_pcat1_end_dir(tp_pcat1_writer *w, tp_err *err);
/* mtime in whole seconds (st_mtime). */
int tp_pcat1_add_file(tp_pcat1_writer *w, const char *name, uint64_t size, int64_t mtime, tp_err *err);
int tp_pcat1_add_symlink(tp_pcat1_writer *w, const char *name, tp_err *err);
int tp_pcat1_add_hardlink(tp_pcat1_writer *w, const char *name, tp_err *err);
int tp_pcat1_add_block_device(tp_pcat1_writer *w, const char *name, tp_err *err);
int tp_pcat1_add_char_device(tp_pcat1_writer *w, const char *name, tp_err *err);
int tp_pcat1_add_fifo(tp_pcat1_writer *w, const char *name, tp_err *err);
int tp_pcat1_add_socket(tp_pcat1_writer *w, const char *name, tp_err *err);
/* Writes the root block and the trailer; every subdirectory must be ended. */
int tp_pcat1_finish(tp_pcat1_writer *w, tp_err *err);

/* ------------------------------------------------------------ reader */

/* A catalog held in memory (borrowed). */
typedef struct tp_pcat1 {
	const uint8_t *data;
	size_t len;
	uint64_t root;            /* offset of the root block */
} tp_pcat1;

typedef struct tp_pcat1_entry {
	uint8_t type;             /* TP_PCAT1_* */
	const uint8_t *name;      /* points into the catalog, not NUL-terminated */
	size_t name_len;
	uint64_t size;            /* 'f' only */
	int64_t mtime;            /* 'f' only */
	uint64_t child;           /* 'd' only: absolute offset of the child's block */
} tp_pcat1_entry;

/* Checks the magic and the trailer. */
int tp_pcat1_open(tp_pcat1 *c, const void *data, size_t len, tp_err *err);
/* Parses the block at off; *ents is malloc'd (caller frees), names point into the catalog. */
int tp_pcat1_read_dir(const tp_pcat1 *c, uint64_t off, tp_pcat1_entry **ents, size_t *n, tp_err *err);

/* Called per entry in pre-order; path starts with '/' ("/root.pxar.didx/bin/tool"). */
typedef int (*tp_pcat1_visit_fn)(void *ctx, const char *path, const tp_pcat1_entry *e, tp_err *err);
/* Walks the whole tree; every block may be referenced once only (no cycles, no sharing). */
int tp_pcat1_walk(const tp_pcat1 *c, tp_pcat1_visit_fn visit, void *ctx, tp_err *err);
/*
 * Appends one line per entry: "TYPE SIZE MTIME PATH", with "-" for the size
 * and mtime of non-files, mtime as RFC 3339 UTC and control bytes and '\'
 * in the path escaped as \xNN.
 */
int tp_pcat1_dump(const tp_pcat1 *c, tp_buf *out, tp_err *err);

#endif
