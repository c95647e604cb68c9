/* libFuzzer target: fixed index parse, ranges and csum. */
#include <stddef.h>
#include <stdint.h>

#include "format/fidx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tp_fidx x;
	tp_err e = { 0 };
	if (tp_fidx_parse(&x, data, size, "fuzz", &e) < 0)
		return 0;
	if (TP_INDEX_HEADER_SIZE + 32 * x.count != size)
		__builtin_trap();
	uint64_t total = 0, s, en;
	for (size_t i = 0; i < x.count; i++) {
		if (tp_fidx_chunk_range(&x, i, &s, &en) < 0 || s != total || en <= s)
			__builtin_trap();
		total = en;
	}
	if (total != x.size)
		__builtin_trap();
	tp_fidx_verify_csum(&x, "fuzz", &e);
	return 0;
}
