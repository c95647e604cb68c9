/* libFuzzer target: chunk archive decoder over a stream made from the input (or a scripted tape), skipping bad blobs, optionally resynchronising first. */
#include <stddef.h>
#include <stdint.h>

#include "format/chunk_archive.h"
#include "format/tape_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	tp_mem_tape t;
	tp_err e = { 0 };
	tp_mem_tape_init(&t);
	if (data[0] & 1) {
		if (tp_mem_tape_from_script(&t, data + 1, size - 1) < 0)
			goto out;
	} else {
		tp_block_writer w;
		if (tp_block_writer_init(&w, &t.io, &e) < 0)
			goto out;
		tp_block_writer_write(&w, data + 1, size - 1, &e);
		tp_block_writer_finish(&w, (data[0] & 2) != 0, &e);
		tp_block_writer_free(&w);
		tp_mem_tape_rewind(&t);
	}
	tp_block_reader r;
	if (tp_block_reader_open(&r, &t.io, 0, &e) != 0)
		goto out;
	tp_chunk_archive_reader cr;
	tp_chunk_archive_reader_init(&cr, &r);
	tp_chunk_entry en;
	uint64_t last = 0;
	/* as after a medium error: the stream starts anywhere, the next header is searched for */
	if ((data[0] & 4) && tp_chunk_archive_reader_resync(&cr, &e) <= 0)
		goto done;
	for (int i = 0; i < 100000; i++) {
		int rc = tp_chunk_archive_reader_next(&cr, &en, &e);
		if (rc == 0)
			break;
		if (rc == 1 && tp_chunk_blob_check(en.digest, en.blob, en.size, &e) != 0)
			__builtin_trap();
		if (rc == 1 || rc == -TP_ECRC || (rc == -TP_EFORMAT && !cr.failed)) {
			if (i > 0 && en.offset <= last)
				__builtin_trap();
			last = en.offset;
			continue;
		}
		break;
	}
done:
	tp_chunk_archive_reader_free(&cr);
	tp_block_reader_free(&r);
out:
	tp_mem_tape_free(&t);
	return 0;
}
