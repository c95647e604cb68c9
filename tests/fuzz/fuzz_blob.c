/* libFuzzer target: data blob check and decode, with and without a key. */
#include <stddef.h>
#include <stdint.h>

#include "format/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tp_crypt_config cc;
	static int init;
	if (!init) {
		uint8_t k[32] = { 0 };
		tp_crypt_config_init(&cc, k, NULL);
		init = 1;
	}
	tp_buf out = TP_BUF_INIT;
	tp_err e = { 0 };
	int kind = tp_blob_check(data, size, "fuzz", &e);
	if (kind >= 0 && (uint32_t)tp_blob_stored_crc(data) != tp_blob_compute_crc(data, size, kind))
		__builtin_trap();
	/* the fuzzer rarely gets a CRC right, so also decode with the CRC patched in */
	if (size >= TP_BLOB_ENCR_HEADER_LEN && size < (1u << 20)) {
		uint8_t *copy = __builtin_malloc(size);
		__builtin_memcpy(copy, data, size);
		int k = tp_blob_kind_of(copy, size, "fuzz", NULL);
		if (k >= 0) {
			tp_put_le32(copy + 8, tp_blob_compute_crc(copy, size, k));
			uint8_t dg[32] = { 0 };
			if (tp_blob_decode(copy, size, &cc, TP_CHUNK_MAX_SIZE, dg, "fuzz", &out, &e) == 0 &&
			    out.len > TP_CHUNK_MAX_SIZE)
				__builtin_trap();
			tp_blob_decode(copy, size, NULL, 4096, NULL, "fuzz", &out, &e);
		}
		__builtin_free(copy);
	}
	tp_blob_decode(data, size, &cc, TP_CHUNK_MAX_SIZE, NULL, "fuzz", &out, &e);
	tp_buf_free(&out);
	return 0;
}
