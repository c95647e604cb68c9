/* libFuzzer target: dynamic index parse, lookup and csum. */
#include <stddef.h>
#include <stdint.h>

#include "format/didx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tp_didx x;
	tp_err e = { 0 };
	if (tp_didx_parse(&x, data, size, "fuzz", &e) < 0)
		return 0;
	uint64_t prev = 0, s, en;
	for (size_t i = 0; i < x.count; i++) {
		if (tp_didx_chunk_range(&x, i, &s, &en) < 0 || s != prev || en < s)
			__builtin_trap();
		prev = en;
		size_t j;
		if (en > s && (tp_didx_find(&x, s, &j) < 0 || j > i || tp_didx_end(&x, j) <= s))
			__builtin_trap();
	}
	if (prev != tp_didx_size(&x))
		__builtin_trap();
	size_t j;
	if (tp_didx_find(&x, prev, &j) != -ERANGE)
		__builtin_trap();
	tp_didx_verify_csum(&x, "fuzz", &e);
	return 0;
}
