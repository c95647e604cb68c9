/* libFuzzer target: media / media-set label JSON parse and round trip (with the key config a set label carries), and label files read from a scripted tape. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keyfile.h"
#include "format/media_label.h"
#include "format/tape_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tp_err e = { 0 };
	tp_media_label l, l2;
	if (tp_media_label_parse(data, size, &l, &e) == 0) {
		char *s = tp_media_label_json_text(&l);
		if (!s || tp_media_label_parse(s, strlen(s), &l2, &e) != 0 || memcmp(&l, &l2, sizeof(l)))
			__builtin_trap();
		free(s);
	}
	tp_media_set_label m, m2;
	if (tp_media_set_label_parse(data, size, &m, &e) == 0) {
		char *s = tp_media_set_label_json_text(&m);
		if (!s || tp_media_set_label_parse(s, strlen(s), &m2, &e) != 0 || m.seq_nr != m2.seq_nr ||
		    memcmp(m.uuid, m2.uuid, 16) || m.has_fingerprint != m2.has_fingerprint)
			__builtin_trap();
		free(s);
		/* the password-protected key travels in the set label: its KDF parameters come from the tape */
		tp_key_config kc;
		if (m.key_config && tp_key_config_from_json(m.key_config, &kc, "key config", &e) == 0)
			tp_key_config_clear(&kc);
		tp_media_set_label_clear(&m2);
		tp_media_set_label_clear(&m);
	}
	tp_mem_tape t;
	tp_mem_tape_init(&t);
	if (tp_mem_tape_from_script(&t, data, size) == 0) {
		if (tp_media_label_read(&t.io, &l, &e) == 0 && tp_media_set_label_read(&t.io, &m, &e) == 0)
			tp_media_set_label_clear(&m);
	}
	tp_mem_tape_free(&t);
	return 0;
}
