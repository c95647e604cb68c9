/* Exclusion patterns for pxar archives (see pxar_exclude.h). */
#include "store/pxar_exclude.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"

/* Length of the [...] class at p (p[0] == '['), or 0 when it is not closed. */
static size_t class_len(const char *p)
{
	size_t i = 1;
	if (p[i] == '!' || p[i] == '^')
		i++;
	if (p[i] == ']')
		i++;
	for (; p[i]; i++) {
		if (p[i] == '\\' && p[i + 1])
			i++;
		else if (p[i] == ']')
			return i + 1;
	}
	return 0;
}

static int class_match(const char *p, size_t len, unsigned char c)
{
	size_t i = 1;
	int neg = 0, hit = 0;
	if (p[i] == '!' || p[i] == '^') {
		neg = 1;
		i++;
	}
	size_t end = len - 1; /* the closing ']' */
	int first = 1;
	while (i < end) {
		unsigned char lo = (unsigned char)p[i];
		if (lo == '\\' && i + 1 < end)
			lo = (unsigned char)p[++i];
		else if (lo == ']' && !first)
			break;
		first = 0;
		i++;
		unsigned char hi = lo;
		if (p[i] == '-' && i + 1 < end) {
			hi = (unsigned char)p[i + 1];
			if (hi == '\\' && i + 2 < end)
				hi = (unsigned char)p[++i + 1];
			i += 2;
		}
		if (c >= lo && c <= hi)
			hit = 1;
	}
	return hit != neg;
}

/*
 * Backtracking match: each '*' tries every split, which is exponential in
 * the number of stars for a pattern like "**a**a**a**b" against a long path
 * (a .pxarexclude in the tree being backed up could stall the backup).  The
 * result is a pure function of the (pattern, string) positions, so when a
 * first try runs out of steps the match runs again remembering the pairs
 * that failed: then it costs at most (pattern + 1) x (string + 1) of them.
 */
struct glob_ctx {
	const char *p0, *s0;
	size_t slen;
	uint8_t *failed;      /* bitmap of failed (p, s) pairs; NULL on the first try */
	unsigned long steps;  /* of the first try, against GLOB_STEPS */
	int out_of_steps;
};

#define GLOB_STEPS (1ul << 16)
#define GLOB_MEMO_MAX_BITS ((size_t)1 << 33) /* 1 GiB of bitmap: beyond that a pattern matches nothing */

static int glob_at(struct glob_ctx *g, const char *p, const char *s);

static int glob_body(struct glob_ctx *g, const char *p, const char *s)
{
	while (*p) {
		if (p[0] == '*' && p[1] == '*') {
			while (*p == '*')
				p++;
			if (*p == 0)
				return 1;
			if (*p == '/') {
				/* "**" + "/": zero or more whole components */
				p++;
				for (const char *t = s;; t++) {
					if ((t == s || t[-1] == '/') && glob_at(g, p, t))
						return 1;
					if (!*t || g->out_of_steps)
						return 0;
				}
			}
			for (const char *t = s;; t++) {
				if (glob_at(g, p, t))
					return 1;
				if (!*t || g->out_of_steps)
					return 0;
			}
		}
		if (*p == '*') {
			p++;
			for (const char *t = s;; t++) {
				if (glob_at(g, p, t))
					return 1;
				if (!*t || *t == '/' || g->out_of_steps)
					return 0;
			}
		}
		if (!*s)
			return 0;
		if (*p == '?') {
			if (*s == '/')
				return 0;
		} else if (*p == '[') {
			size_t n = class_len(p);
			if (!n) {
				if (*s != '[')
					return 0;
			} else {
				if (*s == '/' || !class_match(p, n, (unsigned char)*s))
					return 0;
				p += n - 1;
			}
		} else {
			if (*p == '\\' && p[1])
				p++;
			if (*p != *s)
				return 0;
		}
		p++;
		s++;
	}
	return *s == 0;
}

static int glob_at(struct glob_ctx *g, const char *p, const char *s)
{
	size_t key = 0;
	if (g->failed) {
		key = (size_t)(p - g->p0) * (g->slen + 1) + (size_t)(s - g->s0);
		if (g->failed[key >> 3] & (1u << (key & 7)))
			return 0;
	} else if (g->out_of_steps || ++g->steps > GLOB_STEPS) {
		g->out_of_steps = 1;
		return 0;
	}
	int m = glob_body(g, p, s);
	if (!m && g->failed)
		g->failed[key >> 3] |= (uint8_t)(1u << (key & 7));
	return m;
}

int tp_pxar_glob_match(const char *glob, const char *str)
{
	struct glob_ctx g = { glob, str, strlen(str), NULL, 0, 0 };
	int m = glob_at(&g, glob, str);
	if (!g.out_of_steps)
		return m;
	size_t plen = strlen(glob);
	if (plen + 1 > GLOB_MEMO_MAX_BITS / (g.slen + 1))
		return 0;
	size_t bits = (plen + 1) * (g.slen + 1);
	g.failed = calloc(bits / 8 + 1, 1);
	if (!g.failed)
		return 0;
	g.out_of_steps = 0;
	m = glob_at(&g, glob, str);
	free(g.failed);
	return m;
}

static int check_glob(const char *g, tp_err *err)
{
	for (const char *p = g; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return tp_err_set(err, -EINVAL, "exclude pattern '%s': trailing backslash", g);
			p++;
		} else if (*p == '[') {
			size_t n = class_len(p);
			if (!n)
				return tp_err_set(err, -EINVAL, "exclude pattern '%s': unclosed '['", g);
			p += n - 1;
		}
	}
	return 0;
}

/* Adds glob (len bytes, prefixed by prefix) as a pattern. */
static int add(tp_pxar_excludes *x, const char *prefix, const char *glob, size_t len, int include, tp_err *err)
{
	int dir_only = 0;
	while (len > 1 && glob[len - 1] == '/') {
		dir_only = 1;
		len--;
	}
	if (len == 0 || (len == 1 && glob[0] == '/' && !*prefix))
		return tp_err_set(err, -EINVAL, "exclude pattern '%.*s' matches nothing", (int)len, glob);
	size_t pl = strlen(prefix);
	if (pl + len > TP_PXAR_PATTERN_MAX)
		return tp_err_set(err, -EINVAL, "exclude pattern '%.40s…' is longer than %u bytes", glob, TP_PXAR_PATTERN_MAX);
	char *g = malloc(pl + len + 1);
	if (!g)
		return tp_err_set(err, -ENOMEM, "out of memory for an exclude pattern");
	memcpy(g, prefix, pl);
	memcpy(g + pl, glob, len);
	g[pl + len] = 0;
	int r = check_glob(g, err);
	if (r < 0) {
		free(g);
		return r;
	}
	if (x->n == x->cap) {
		size_t nc = x->cap ? x->cap * 2 : 16;
		tp_pxar_pattern *v = realloc(x->v, nc * sizeof(*v));
		if (!v) {
			free(g);
			return tp_err_set(err, -ENOMEM, "out of memory for an exclude pattern");
		}
		x->v = v;
		x->cap = nc;
	}
	x->v[x->n++] = (tp_pxar_pattern){ g, include, dir_only };
	return 0;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int tp_pxar_excludes_add_line(tp_pxar_excludes *x, const char *line, size_t len, const char *dir, tp_err *err)
{
	while (len && is_space(*line)) {
		line++;
		len--;
	}
	while (len && is_space(line[len - 1]))
		len--;
	if (len == 0 || line[0] == '#')
		return 1;
	int include = 0;
	if (line[0] == '!') {
		include = 1;
		line++;
		len--;
		if (len == 0) /* nothing after the '!' (found by fuzz_pxar_exclude: line[0] was read past the line) */
			return tp_err_set(err, -EINVAL, "exclude pattern '!' names nothing to include");
	}
	/* "/x": anchored at the directory holding the .pxarexclude */
	return add(x, line[0] == '/' ? dir : "", line, len, include, err);
}

int tp_pxar_excludes_add_cli(tp_pxar_excludes *x, const char *pattern, tp_err *err)
{
	return add(x, "", pattern, strlen(pattern), 0, err);
}

int tp_pxar_excludes_load(tp_pxar_excludes *x, int dfd, const char *dir, tp_err *err)
{
	int fd = openat(dfd, TP_PXAR_EXCLUDE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ELOOP || errno == EACCES)
			return 0; /* none (a symlink or unreadable file is not read, as a missing one) */
		return tp_err_errno(err, "opening %s/%s", *dir ? dir : ".", TP_PXAR_EXCLUDE_FILE);
	}
	tp_buf b = TP_BUF_INIT;
	int r = 0, added = 0;
	for (;;) {
		if ((r = tp_buf_reserve(&b, 65536)) < 0) {
			tp_err_set(err, r, "out of memory reading %s", TP_PXAR_EXCLUDE_FILE);
			goto out;
		}
		ssize_t n = read(fd, b.data + b.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = tp_err_errno(err, "reading %s/%s", *dir ? dir : ".", TP_PXAR_EXCLUDE_FILE);
			goto out;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		if (b.len > TP_PXAR_EXCLUDE_FILE_MAX) {
			r = tp_err_set(err, -EFBIG, "%s/%s is larger than %u bytes", *dir ? dir : ".", TP_PXAR_EXCLUDE_FILE,
				       TP_PXAR_EXCLUDE_FILE_MAX);
			goto out;
		}
	}
	size_t start = 0, lineno = 0;
	while (start < b.len) {
		const char *nl = memchr(b.data + start, '\n', b.len - start);
		size_t end = nl ? (size_t)(nl - (const char *)b.data) : b.len;
		lineno++;
		tp_err e = { 0 };
		int x2 = tp_pxar_excludes_add_line(x, (const char *)b.data + start, end - start, dir, &e);
		if (x2 == -ENOMEM) {
			r = tp_err_set(err, x2, "%s", e.msg);
			goto out;
		}
		if (x2 < 0)
			tp_warn("%s/%s line %zu: %s (ignored)", *dir ? dir : ".", TP_PXAR_EXCLUDE_FILE, lineno, e.msg);
		else if (x2 == 0)
			added++;
		start = end + 1;
	}
	r = added;
out:
	tp_buf_free(&b);
	close(fd);
	return r;
}

int tp_pxar_excludes_match(const tp_pxar_excludes *x, const char *path, int is_dir)
{
	for (size_t i = x->n; i-- > 0;) {
		const tp_pxar_pattern *p = &x->v[i];
		if (p->dir_only && !is_dir)
			continue;
		int hit = 0;
		if (p->glob[0] == '/') {
			hit = tp_pxar_glob_match(p->glob, path);
		} else {
			/* any trailing run of whole components */
			for (const char *s = path; *s && !hit; s++)
				if (*s == '/')
					hit = tp_pxar_glob_match(p->glob, s + 1);
		}
		if (hit)
			return !p->include;
	}
	return 0;
}

void tp_pxar_excludes_truncate(tp_pxar_excludes *x, size_t n)
{
	while (x->n > n)
		free(x->v[--x->n].glob);
}

int tp_pxar_excludes_cli_text(const tp_pxar_excludes *x, size_t n, tp_buf *out)
{
	int r = 0;
	for (size_t i = 0; i < n && i < x->n && r == 0; i++) {
		const tp_pxar_pattern *p = &x->v[i];
		if (p->include)
			r = tp_buf_append_u8(out, '!');
		if (r == 0)
			r = tp_buf_append_str(out, p->glob);
		if (r == 0 && p->dir_only)
			r = tp_buf_append_u8(out, '/');
		if (r == 0)
			r = tp_buf_append_u8(out, '\n');
	}
	return r;
}

void tp_pxar_excludes_free(tp_pxar_excludes *x)
{
	tp_pxar_excludes_truncate(x, 0);
	free(x->v);
	x->v = NULL;
	x->cap = 0;
}
