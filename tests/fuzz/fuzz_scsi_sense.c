/* libFuzzer target: SCSI sense, READ ELEMENT STATUS, READ POSITION and the other response parsers of the tape layer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tape/scsi_cdb.h"
#include "tape/scsi_sense.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_attr(void *ctx, const tp_mam_attr *a)
{
	(*(size_t *)ctx) += a->len;
	return 0;
}

static int count_param(void *ctx, uint16_t code, uint8_t control, const uint8_t *v, size_t vlen)
{
	(void)code;
	(void)control;
	(void)v;
	(*(size_t *)ctx) += vlen;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tp_err e = { 0 };
	tp_sense s;
	if (tp_sense_parse(data, size, &s, &e) == 0) {
		if (s.len > size)
			__builtin_trap();
		char text[200];
		tp_sense_describe(&s, text, sizeof(text));
		if (strlen(text) >= sizeof(text))
			__builtin_trap();
		if (!tp_sense_class_message(tp_sense_classify(&s)))
			__builtin_trap();
	}

	tp_element *el = NULL;
	size_t n = 0;
	if (tp_element_status_parse(data, size, &el, &n, &e) == 0) {
		if (n > size / 12 + 1)
			__builtin_trap();
		for (size_t i = 0; i < n; i++)
			if (strlen(el[i].volume_tag) > 32 || strlen(el[i].dvcid) > 64)
				__builtin_trap();
	}
	free(el);

	tp_position pos;
	tp_position_parse_long(data, size, &pos, &e);

	for (int ten = 0; ten < 2; ten++) {
		tp_mode_data md;
		if (tp_mode_parse(data, size, ten, &md, &e) == 0) {
			if (md.end > size || md.pages_off > md.end)
				__builtin_trap();
			const uint8_t *pg;
			size_t plen;
			if (tp_mode_find_page(data, &md, TP_MODE_PAGE_COMPRESSION, 0, &pg, &plen, &e) == 0) {
				if (pg < data || pg + plen > data + size)
					__builtin_trap();
				tp_compression_page cp;
				tp_compression_page_parse(pg, plen, &cp, &e);
			}
			if (tp_mode_find_page(data, &md, TP_MODE_PAGE_ELEMENT_ADDRESS, 0, &pg, &plen, &e) == 0) {
				tp_element_addresses a;
				tp_element_addresses_parse(pg, plen, &a, &e);
			}
		}
	}

	tp_inquiry q;
	tp_inquiry_parse(data, size, &q, &e);
	char serial[65];
	tp_vpd_serial_parse(data, size, serial, sizeof(serial), &e);
	tp_density_desc dd[8];
	int nd = tp_density_report_parse(data, size, dd, 8, &e);
	if (nd > 8)
		__builtin_trap();
	if (nd > 0)
		tp_density_report_max_generation(dd, (size_t)nd);
	uint64_t flags;
	tp_tapealert_parse(data, size, &flags, &e);
	tp_volume_stats vs;
	tp_volume_stats_parse(data, size, &vs, &e);
	size_t total = 0;
	if (tp_log_page_walk(data, size, -1, count_param, &total, &e) == 0 && total > size)
		__builtin_trap();
	total = 0;
	if (tp_mam_parse(data, size, count_attr, &total, &e) >= 0 && total > size)
		__builtin_trap();
	tp_enc_status st;
	tp_spin_status_parse(data, size, &st, &e);
	tp_enc_alg algs[8];
	int na = tp_spin_capabilities_parse(data, size, algs, 8, NULL, &e);
	if (na > 0)
		tp_spin_find_aes_gcm(algs, (size_t)na, &e);
	tp_block_limits bl;
	tp_block_limits_parse(data, size, &bl, &e);
	return 0;
}
