/* Exclusion patterns for pxar archives as PBS's client applies them: CLI --exclude and per-directory .pxarexclude. */
#ifndef TAPIR_STORE_PXAR_EXCLUDE_H
#define TAPIR_STORE_PXAR_EXCLUDE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define TP_PXAR_EXCLUDE_FILE ".pxarexclude"
#define TP_PXAR_EXCLUDE_CLI_FILE ".pxarexclude-cli"
#define TP_PXAR_EXCLUDE_FILE_MAX (1u << 20)  /* a larger .pxarexclude is refused */
#define TP_PXAR_PATTERN_MAX 4096u            /* a longer pattern (directory prefix included) is refused */

/*
 * One pattern (gitignore style, as the pathpatterns crate): matched against
 * "/" + the path relative to the archive root.  An anchored glob (starting
 * with '/') must match the whole path; any other glob matches any trailing
 * run of whole components.  '*' and '?' do not match '/', "**" matches
 * across components, [...] classes and backslash escapes work as in fnmatch.
 */
typedef struct tp_pxar_pattern {
	char *glob;
	int include;             /* "!" lines: re-include what an earlier pattern excluded */
	int dir_only;            /* written with a trailing '/': matches directories only */
} tp_pxar_pattern;

/* Patterns in force; the last one that matches decides. */
typedef struct tp_pxar_excludes {
	tp_pxar_pattern *v;
	size_t n, cap;
} tp_pxar_excludes;

/* 1 when the glob matches the whole of str (see tp_pxar_pattern for the syntax). */
int tp_pxar_glob_match(const char *glob, const char *str);

/*
 * Adds one line of a .pxarexclude in the directory `dir` ("" = archive root,
 * else "/a/b"): ASCII whitespace trimmed; empty and '#' lines skipped
 * (returns 1); "/x" excludes anchored at dir, "!/x" includes anchored,
 * "!x" includes, anything else excludes.  A malformed glob (unclosed '[',
 * trailing '\') gives -EINVAL naming it.
 */
int tp_pxar_excludes_add_line(tp_pxar_excludes *x, const char *line, size_t len, const char *dir, tp_err *err);
/* Adds a CLI --exclude pattern (an exclusion, '/' anchors at the root; no '!' or '#' rules). */
int tp_pxar_excludes_add_cli(tp_pxar_excludes *x, const char *pattern, tp_err *err);
/*
 * Reads TP_PXAR_EXCLUDE_FILE in the open directory dfd (path `dir` as for
 * add_line); a missing file adds nothing.  Bad lines are logged with the
 * file and line number and skipped, as PBS does.  Returns the patterns added.
 */
int tp_pxar_excludes_load(tp_pxar_excludes *x, int dfd, const char *dir, tp_err *err);
/* 1 when the entry at path ("/" + relative path) with the given type is excluded. */
int tp_pxar_excludes_match(const tp_pxar_excludes *x, const char *path, int is_dir);
/* Drops the patterns added after the first n (leaving a directory's subtree). */
void tp_pxar_excludes_truncate(tp_pxar_excludes *x, size_t n);
/* The .pxarexclude-cli content for the first n patterns: one line each, '!' for includes, '/' for dir-only. */
int tp_pxar_excludes_cli_text(const tp_pxar_excludes *x, size_t n, tp_buf *out);
void tp_pxar_excludes_free(tp_pxar_excludes *x);

#endif
