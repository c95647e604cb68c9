/* libFuzzer target: media catalog .log decoder, whole and fed in pieces (both must agree). */
#include <stddef.h>
#include <stdint.h>

#include "format/media_catalog_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, const tp_mclog_record *r, tp_err *err)
{
	(void)err;
	if (r->type == 'S' && (!r->store || !r->snapshot))
		__builtin_trap();
	(*(size_t *)ctx)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t piece = 1 + data[0] % 37;
	data++;
	size--;
	tp_err e = { 0 };
	size_t n1 = 0, n2 = 0;
	int r1 = tp_mclog_decode(data, size, NULL, count, &n1, &e);
	tp_mclog_decoder d;
	tp_mclog_decoder_init(&d, count, &n2);
	int r2 = 0;
	for (size_t off = 0; r2 == 0 && off < size; off += piece)
		r2 = tp_mclog_decoder_feed(&d, data + off, size - off < piece ? size - off : piece, &e);
	if (r2 == 0)
		r2 = tp_mclog_decoder_finish(&d, &e);
	tp_mclog_decoder_free(&d);
	if (r1 != r2 || n1 != n2)
		__builtin_trap();
	return 0;
}
