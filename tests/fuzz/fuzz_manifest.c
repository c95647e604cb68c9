/* libFuzzer target: manifest JSON parse, verify and re-encode (and the blob form). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/blob.h"
#include "format/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tp_crypt_config cc;
	static int init;
	if (!init) {
		uint8_t k[32] = { 1 };
		tp_crypt_config_init(&cc, k, NULL);
		init = 1;
	}
	tp_manifest m, again;
	tp_err e = { 0 };
	if (tp_manifest_parse(&m, data, size, "fuzz", &e) == 0) {
		for (size_t i = 0; i < m.nfiles; i++)
			if (tp_manifest_check_filename(m.files[i].filename, NULL) < 0 || strchr(m.files[i].filename, '/'))
				__builtin_trap();
		tp_manifest_verify(&m, &cc, &e);
		/* what we write we must read back, and a signature we make must verify */
		char *s = NULL;
		if (tp_manifest_to_json(&m, &cc, &s, &e) == 0) {
			if (tp_manifest_parse(&again, s, strlen(s), "again", &e) < 0 || again.nfiles != m.nfiles ||
			    tp_manifest_verify(&again, &cc, &e) < 0)
				__builtin_trap();
			tp_manifest_free(&again);
		}
		free(s);
		tp_manifest_free(&m);
	}
	if (tp_manifest_decode_blob(&m, data, size, "fuzz", &e) == 0)
		tp_manifest_free(&m);
	return 0;
}
