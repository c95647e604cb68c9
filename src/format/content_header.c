/* MediaContentHeader encode/decode and header-data I/O (see content_header.h). */
#include "format/content_header.h"

#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "base/buf.h"
#include "base/json_util.h"
#include "base/hex.h"

void tp_content_header_encode(const tp_content_header *h, uint8_t out[TP_CONTENT_HEADER_SIZE])
{
	memcpy(out, tp_magic(TP_MAGIC_CONTENT_HEADER), 8);
	memcpy(out + 8, h->content_magic, 8);
	memcpy(out + 16, h->uuid, 16);
	tp_put_le64(out + 32, (uint64_t)h->ctime);
	tp_put_le32(out + 40, h->size);
	out[44] = h->part_number;
	out[45] = out[46] = out[47] = 0;
}

int tp_content_header_decode(const uint8_t in[TP_CONTENT_HEADER_SIZE], tp_content_header *h, tp_err *err)
{
	if (memcmp(in, tp_magic(TP_MAGIC_CONTENT_HEADER), 8)) {
		char hx[17];
		tp_hex_encode(in, 8, hx);
		return tp_err_set(err, -TP_EFORMAT, "media content header: wrong magic %s", hx);
	}
	memcpy(h->content_magic, in + 8, 8);
	memcpy(h->uuid, in + 16, 16);
	h->ctime = (int64_t)tp_le64(in + 32);
	h->size = tp_le32(in + 40);
	h->part_number = in[44];
	return 0;
}

int tp_content_header_kind(const tp_content_header *h)
{
	int id = tp_magic_lookup(h->content_magic);
	switch (id) {
	case TP_MAGIC_MEDIA_LABEL:
	case TP_MAGIC_MEDIA_SET_LABEL:
	case TP_MAGIC_CHUNK_ARCHIVE_1_0:
	case TP_MAGIC_CHUNK_ARCHIVE_1_1:
	case TP_MAGIC_SNAPSHOT_ARCHIVE_1_0:
	case TP_MAGIC_SNAPSHOT_ARCHIVE_1_1:
	case TP_MAGIC_SNAPSHOT_ARCHIVE_1_2:
	case TP_MAGIC_CATALOG_ARCHIVE_1_0:
	case TP_MAGIC_CATALOG_ARCHIVE_1_1:
		return id;
	default:
		return -1;
	}
}

char *tp_content_json_pretty(const json_t *v, int sorted)
{
	return json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | (sorted ? JSON_SORT_KEYS : JSON_PRESERVE_ORDER));
}

int tp_content_header_write(tp_block_writer *w, enum tp_magic_id content, uint8_t uuid_io[16], int64_t ctime,
			    const void *data, size_t len, tp_err *err)
{
	static const uint8_t zero[16];
	if (len > UINT32_MAX)
		return tp_err_set(err, -EINVAL, "media content header: header-data of %zu bytes is too large", len);
	tp_content_header h = { .ctime = ctime, .size = (uint32_t)len };
	memcpy(h.content_magic, tp_magic(content), 8);
	if (!memcmp(uuid_io, zero, 16))
		uuid_generate_random(uuid_io);
	memcpy(h.uuid, uuid_io, 16);
	uint8_t raw[TP_CONTENT_HEADER_SIZE];
	tp_content_header_encode(&h, raw);
	int r = tp_block_writer_write(w, raw, sizeof(raw), err);
	if (r < 0)
		return tp_err_wrap(err, r, "writing the media content header");
	r = tp_block_writer_write(w, data, len, err);
	if (r < 0)
		return tp_err_wrap(err, r, "writing the media content header-data");
	return r;
}

int tp_content_header_read(tp_block_reader *r, tp_content_header *h, size_t max, uint8_t **data, size_t *len,
			   tp_err *err)
{
	uint8_t raw[TP_CONTENT_HEADER_SIZE];
	*data = NULL;
	*len = 0;
	long n = tp_block_reader_read_full(r, raw, sizeof(raw), err);
	if (n < 0)
		return tp_err_wrap(err, (int)n, "reading the media content header");
	if ((size_t)n < sizeof(raw))
		return tp_err_set(err, -TP_EFORMAT, "media content header: stream ends after %ld of 48 bytes", n);
	int rc = tp_content_header_decode(raw, h, err);
	if (rc < 0)
		return rc;
	if (h->size == 0 || h->size > max)
		return tp_err_set(err, -TP_EFORMAT, "media content header: header-data size %u not in 1..%zu",
				  h->size, max);
	uint8_t *d = malloc((size_t)h->size + 1);
	if (!d)
		return tp_err_set(err, -ENOMEM, "out of memory for %u bytes of header-data", h->size);
	n = tp_block_reader_read_full(r, d, h->size, err);
	if (n < 0) {
		free(d);
		return tp_err_wrap(err, (int)n, "reading the media content header-data");
	}
	if ((size_t)n < h->size) {
		free(d);
		return tp_err_set(err, -TP_EFORMAT, "media content header: stream ends after %ld of %u header-data bytes",
				  n, h->size);
	}
	d[h->size] = 0;
	*data = d;
	*len = h->size;
	return 0;
}

int tp_content_header_read_json(tp_block_reader *r, tp_content_header *h, size_t max, json_t **json,
				tp_err *err)
{
	uint8_t *d;
	size_t len;
	*json = NULL;
	int rc = tp_content_header_read(r, h, max, &d, &len, err);
	if (rc < 0)
		return rc;
	json_t *v = tp_json_parse(d, len, "media content header-data", err);
	free(d);
	if (!v)
		return -TP_EFORMAT;
	if (!json_is_object(v)) {
		json_decref(v);
		return tp_err_set(err, -TP_EFORMAT, "media content header-data is not a JSON object");
	}
	*json = v;
	return 0;
}
