/* Catalog archive writer and reader (see catalog_archive.h). */
#include "format/catalog_archive.h"

#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "format/magic.h"
#include "format/media_label.h"

char *tp_catalog_archive_header_json(const uint8_t media_uuid[16], const uint8_t set_uuid[16], uint64_t seq_nr)
{
	char m[37], s[37];
	tp_uuid_unparse(media_uuid, m);
	tp_uuid_unparse(set_uuid, s);
	json_t *o = json_pack("{s:s, s:s, s:I}", "uuid", m, "media_set_uuid", s, "seq_nr", (json_int_t)seq_nr);
	char *t = o ? tp_content_json_pretty(o, 0) : NULL;
	json_decref(o);
	return t;
}

int tp_catalog_archive_header_parse(const json_t *j, uint8_t media_uuid[16], uint8_t set_uuid[16],
				    uint64_t *seq_nr, tp_err *err)
{
	static const char what[] = "catalog archive header";
	const char *m, *s;
	int64_t seq;
	int r = tp_json_get_str(j, "uuid", &m, what, err);
	if (r == 0)
		r = tp_json_get_str(j, "media_set_uuid", &s, what, err);
	if (r == 0)
		r = tp_json_get_int(j, "seq_nr", &seq, what, err);
	if (r < 0)
		return r;
	if (tp_uuid_parse(m, media_uuid) < 0 || tp_uuid_parse(s, set_uuid) < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: bad \"uuid\" or \"media_set_uuid\"", what);
	if (seq < 0)
		return tp_err_set(err, -TP_EFORMAT, "%s: negative \"seq_nr\"", what);
	*seq_nr = (uint64_t)seq;
	return 0;
}

int tp_catalog_archive_write(const tp_tape_io *io, const uint8_t media_uuid[16], const uint8_t set_uuid[16],
			     uint64_t seq_nr, int with_ns, const uint8_t *log, size_t len, uint8_t uuid_io[16],
			     int64_t ctime, tp_err *err)
{
	char *js = tp_catalog_archive_header_json(media_uuid, set_uuid, seq_nr);
	if (!js)
		return tp_err_set(err, -ENOMEM, "catalog archive: out of memory");
	tp_block_writer w;
	int done = 0;
	int r = tp_block_writer_init(&w, io, err);
	if (r < 0)
		goto out;
	r = tp_content_header_write(&w, with_ns ? TP_MAGIC_CATALOG_ARCHIVE_1_1 : TP_MAGIC_CATALOG_ARCHIVE_1_0,
				    uuid_io, ctime, js, strlen(js), err);
	if (r == 1) {
		r = tp_block_writer_finish(&w, 1, err);
		goto out_w;
	}
	/* PBS copies the file in block-sized pieces and ignores LEOM here */
	for (size_t off = 0; r >= 0 && off < len;) {
		size_t n = len - off < TP_TAPE_BLOCK_SIZE ? len - off : TP_TAPE_BLOCK_SIZE;
		r = tp_block_writer_write(&w, log + off, n, err);
		off += n;
	}
	if (r >= 0) {
		r = tp_block_writer_finish(&w, 0, err);
		done = r == 0;
	} else if (r == -ENOSPC && tp_block_writer_leom(&w)) {
		tp_err keep = { 0 };
		if (err)
			keep = *err;
		r = tp_block_writer_finish(&w, 1, err);
		if (r < 0 && err)
			*err = keep;
		if (r < 0)
			r = -ENOSPC;
	} else {
		tp_block_writer_abort(&w, NULL);
	}
out_w:
	tp_block_writer_free(&w);
out:
	free(js);
	if (r < 0)
		return tp_err_wrap(err, r, "catalog archive of seq_nr %llu", (unsigned long long)seq_nr);
	return done;
}

int tp_catalog_archive_read_body(tp_block_reader *r, tp_buf *out, size_t max, tp_err *err)
{
	size_t start = out->len;
	for (;;) {
		if (tp_buf_reserve(out, TP_TAPE_BLOCK_PAYLOAD) < 0)
			return tp_err_set(err, -ENOMEM, "catalog archive: out of memory");
		long n = tp_block_reader_read(r, out->data + out->len, TP_TAPE_BLOCK_PAYLOAD, err);
		if (n < 0)
			return tp_err_wrap(err, (int)n, "catalog archive: reading the catalog");
		if (n == 0)
			return 0;
		out->len += (size_t)n;
		if (out->len - start > max)
			return tp_err_set(err, -EFBIG, "catalog archive: catalog larger than %zu bytes", max);
	}
}
