/* libFuzzer target: content header + header-data over a block stream made from the input, the snapshot and catalog archive headers, then the snapshot archive decoder on the rest. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "format/catalog_archive.h"
#include "format/content_header.h"
#include "format/snapshot_archive.h"
#include "format/tape_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_data(void *ctx, const uint8_t *buf, size_t len, tp_err *err)
{
	(void)err;
	uint8_t *x = ctx;
	for (size_t i = 0; i < len; i++)
		*x ^= buf[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tp_content_header h;
	tp_err e = { 0 };
	if (size >= TP_CONTENT_HEADER_SIZE && tp_content_header_decode(data, &h, &e) == 0) {
		uint8_t back[TP_CONTENT_HEADER_SIZE];
		tp_content_header_encode(&h, back);
		if (memcmp(back, data, 45))
			__builtin_trap();
	}
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	tp_block_writer w;
	if (tp_block_writer_init(&w, &t.io, &e) < 0)
		goto out;
	/* the input is the stream: the first byte chooses "finish" or "abort" */
	int abort_it = size > 0 && (data[size - 1] & 1);
	tp_block_writer_write(&w, data, size, &e);
	if (abort_it)
		tp_block_writer_abort(&w, &e);
	else
		tp_block_writer_finish(&w, 0, &e);
	tp_block_writer_free(&w);
	tp_mem_tape_rewind(&t);
	tp_block_reader r;
	if (tp_block_reader_open(&r, &t.io, 0, &e) != 0)
		goto out;
	json_t *j = NULL;
	if (tp_content_header_read_json(&r, &h, TP_LABEL_JSON_MAX, &j, &e) == 0) {
		char store[TP_ARCHIVE_STORE_MAX + 1], snap[TP_ARCHIVE_PATH_MAX + 1];
		uint8_t mu[16], su[16];
		uint64_t seq = 0;
		tp_catalog_archive_header_parse(j, mu, su, &seq, &e);
		if (tp_snapshot_archive_header_parse(j, store, snap, &e) == 0 || (data[0] & 2)) {
			uint8_t x = 0;
			tp_snapshot_decode_ops ops = { NULL, on_data, NULL };
			tp_snapshot_archive_decode(&r, &ops, &x, &e);
		}
		json_decref(j);
	}
	tp_block_reader_free(&r);
out:
	tp_mem_tape_free(&t);
	return 0;
}
