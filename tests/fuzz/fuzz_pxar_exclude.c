/* libFuzzer target: .pxarexclude lines (as read from the tree being backed up) and matching paths against them. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/pxar_exclude.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: pattern lines, then a NUL byte, then paths (one per line) to
 * match; a pattern line starting with '@' is added as a CLI --exclude.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	tp_pxar_excludes x = { 0 };
	tp_err e = { 0 };
	for (size_t i = 0; i < plen;) {
		const uint8_t *nl = memchr(data + i, '\n', plen - i);
		size_t len = nl ? (size_t)(nl - (data + i)) : plen - i;
		if (len && data[i] == '@') {
			char pat[512];
			size_t n = len - 1 < sizeof(pat) - 1 ? len - 1 : sizeof(pat) - 1;
			memcpy(pat, data + i + 1, n);
			pat[n] = 0;
			tp_pxar_excludes_add_cli(&x, pat, &e);
		} else {
			tp_pxar_excludes_add_line(&x, (const char *)data + i, len, (i & 1) ? "/sub" : "", &e);
		}
		i += len + 1;
	}
	if (nul) {
		const uint8_t *p = nul + 1, *end = data + size;
		while (p < end) {
			const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
			size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
			char path[4200];
			path[0] = '/';
			size_t n = len < sizeof(path) - 2 ? len : sizeof(path) - 2;
			memcpy(path + 1, p, n);
			path[n + 1] = 0;
			if (strlen(path) == n + 1) { /* no NUL inside */
				int a = tp_pxar_excludes_match(&x, path, 0), b = tp_pxar_excludes_match(&x, path, 1);
				if ((a != 0 && a != 1) || (b != 0 && b != 1))
					__builtin_trap();
				for (size_t k = 0; k < x.n; k++)
					tp_pxar_glob_match(x.v[k].glob, path);
			}
			p += len + 1;
		}
	}
	tp_buf cli = TP_BUF_INIT;
	tp_pxar_excludes_cli_text(&x, x.n, &cli);
	tp_buf_free(&cli);
	tp_pxar_excludes_free(&x);
	return 0;
}
