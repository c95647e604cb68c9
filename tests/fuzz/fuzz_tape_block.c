/* libFuzzer target: block stream reader over a scripted in-memory tape (every file until EOD). */
#include <stddef.h>
#include <stdint.h>

#include "format/tape_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	uint8_t mode = data[0];
	if (tp_mem_tape_from_script(&t, data + 1, size - 1) < 0)
		goto out;
	static uint8_t buf[300000];
	for (int file = 0; file < 40; file++) {
		tp_block_reader r;
		tp_err e = { 0 };
		int rc = tp_block_reader_open(&r, &t.io, mode & 0x80 ? 1 : 0, &e);
		if (rc == TP_BLOCK_OPEN_EOD || rc < 0)
			break;
		if (rc == TP_BLOCK_OPEN_FILEMARK)
			continue;
		size_t piece = 1 + (size_t)(mode & 0x3f) * 4099;
		long n;
		uint64_t total = 0;
		if (mode & 0x40) {
			uint64_t sk = 0;
			rc = tp_block_reader_skip_data(&r, &sk, &e);
			if (rc == 0 && sk != tp_block_reader_offset(&r) - tp_block_reader_start_offset(&r))
				__builtin_trap();
		} else {
			while ((n = tp_block_reader_read(&r, buf, piece, &e)) > 0) {
				if ((size_t)n > piece)
					__builtin_trap();
				total += (uint64_t)n;
			}
			if (n == 0 && total != tp_block_reader_offset(&r) - tp_block_reader_start_offset(&r))
				__builtin_trap();
			rc = (int)n;
		}
		int v;
		if (rc == 0 && tp_block_reader_has_end_marker(&r, &v, &e) != 0)
			__builtin_trap();
		tp_block_reader_free(&r);
		if (rc < 0)
			break;
	}
out:
	tp_mem_tape_free(&t);
	return 0;
}
