/* Chunk archive writer and decoder (see chunk_archive.h). */
#include "format/chunk_archive.h"

#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/hash.h"
#include "format/magic.h"

/* one block at a time, so LEOM is seen before the next block: a small early-warning zone must not be overrun */
#define SLICE TP_TAPE_BLOCK_PAYLOAD

void tp_chunk_entry_header_encode(uint8_t out[TP_CHUNK_ENTRY_HEADER_SIZE], const uint8_t digest[32],
				  uint64_t size)
{
	memcpy(out, tp_magic(TP_MAGIC_CHUNK_ARCHIVE_ENTRY), 8);
	memcpy(out + 8, digest, 32);
	tp_put_le64(out + 40, size);
}

char *tp_chunk_archive_header_json(const char *store)
{
	json_t *o = json_pack("{s:s}", "store", store);
	char *s = o ? tp_content_json_pretty(o, 0) : NULL;
	json_decref(o);
	return s;
}

int tp_chunk_archive_header_parse(const json_t *j, char store[TP_ARCHIVE_STORE_MAX + 1], tp_err *err)
{
	json_t *v = json_object_get(j, "store");
	if (!json_is_string(v))
		return tp_err_set(err, -TP_EFORMAT, "chunk archive header: missing or non-string \"store\"");
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n == 0 || n > TP_ARCHIVE_STORE_MAX || strlen(s) != n || strchr(s, '/'))
		return tp_err_set(err, -TP_EFORMAT, "chunk archive header: bad store name (%zu bytes)", n);
	memcpy(store, s, n + 1);
	return 0;
}

int tp_chunk_blob_check(const uint8_t digest[32], const uint8_t *blob, size_t len, tp_err *err)
{
	char hx[65];
	size_t hdr;
	tp_hex_encode(digest, 32, hx);
	if (len < 12)
		return tp_err_set(err, -TP_EFORMAT, "chunk %s: blob of %zu bytes is too short", hx, len);
	switch (tp_magic_lookup(blob)) {
	case TP_MAGIC_BLOB_PLAIN:
	case TP_MAGIC_BLOB_ZSTD:
		hdr = 12;
		break;
	case TP_MAGIC_BLOB_ENCR:
	case TP_MAGIC_BLOB_ZSTD_ENCR:
		hdr = 44;
		break;
	default:
		return tp_err_set(err, -TP_EFORMAT, "chunk %s: unknown blob magic", hx);
	}
	if (len < hdr)
		return tp_err_set(err, -TP_EFORMAT, "chunk %s: encrypted blob of %zu bytes is too short", hx, len);
	uint32_t want = tp_le32(blob + 8);
	uint32_t got = tp_crc32(0, blob + hdr, len - hdr);
	if (want != got)
		return tp_err_set(err, -TP_ECRC, "chunk %s: blob CRC mismatch (stored %08x, computed %08x)", hx, want,
				  got);
	return 0;
}

/* ---- writer ---- */

int tp_chunk_archive_writer_open(tp_chunk_archive_writer *w, const tp_tape_io *io, const char *store,
				 const uint8_t *uuid, int64_t ctime, tp_err *err)
{
	memset(w, 0, sizeof(*w));
	w->max_size = TP_CHUNK_ARCHIVE_MAX_SIZE;
	size_t sl = strlen(store);
	if (sl == 0 || sl > TP_ARCHIVE_STORE_MAX)
		return tp_err_set(err, -EINVAL, "chunk archive: bad store name length %zu", sl);
	if (uuid)
		memcpy(w->uuid, uuid, 16);
	char *js = tp_chunk_archive_header_json(store);
	if (!js)
		return tp_err_set(err, -ENOMEM, "chunk archive: out of memory");
	int r = tp_block_writer_init(&w->bw, io, err);
	if (r == 0) {
		r = tp_content_header_write(&w->bw, TP_MAGIC_CHUNK_ARCHIVE_1_1, w->uuid, ctime, js, strlen(js), err);
		if (r < 0) {
			tp_block_writer_abort(&w->bw, NULL);
			tp_block_writer_free(&w->bw);
			w->closed = 1;
		}
	}
	free(js);
	return r < 0 ? tp_err_wrap(err, r, "chunk archive for store %s", store) : 0;
}

int tp_chunk_archive_writer_add(tp_chunk_archive_writer *w, const uint8_t digest[32], const uint8_t *blob,
				size_t len, uint64_t *entry_offset, tp_err *err)
{
	if (w->closed)
		return 0;
	uint8_t hdr[TP_CHUNK_ENTRY_HEADER_SIZE];
	uint64_t off = tp_block_writer_offset(&w->bw);
	tp_chunk_entry_header_encode(hdr, digest, len);
	int r = tp_block_writer_write(&w->bw, hdr, sizeof(hdr), err);
	for (size_t done = 0; r >= 0 && done < len;) {
		size_t n = len - done < SLICE ? len - done : SLICE;
		r = tp_block_writer_write(&w->bw, blob + done, n, err);
		if (r < 0)
			break;
		done += n;
		if (r == 1) {
			/* PBS close_on_leom: finish now, not INCOMPLETE, even inside a blob */
			w->closed = w->closed_on_leom = 1;
			r = tp_block_writer_finish(&w->bw, 0, err);
			if (r < 0)
				break;
			if (done < len)
				return 0;
			w->chunks++;
			if (entry_offset)
				*entry_offset = off;
			return 1;
		}
	}
	if (r < 0) {
		char hx[65];
		tp_hex_encode(digest, 32, hx);
		return tp_err_wrap(err, r, "chunk archive: writing chunk %s at stream offset %llu", hx,
				   (unsigned long long)off);
	}
	w->chunks++;
	if (entry_offset)
		*entry_offset = off;
	return 1;
}

int tp_chunk_archive_writer_full(const tp_chunk_archive_writer *w)
{
	return w->closed_on_leom || tp_block_writer_bytes_written(&w->bw) > w->max_size;
}

int tp_chunk_archive_writer_finish(tp_chunk_archive_writer *w, tp_err *err)
{
	if (w->closed)
		return 0;
	w->closed = 1;
	int r = tp_block_writer_finish(&w->bw, 0, err);
	return r < 0 ? tp_err_wrap(err, r, "chunk archive: finishing the stream") : 0;
}

void tp_chunk_archive_writer_abort(tp_chunk_archive_writer *w)
{
	if (!w->closed && w->bw.block)
		tp_block_writer_abort(&w->bw, NULL);
	w->closed = 1;
	tp_chunk_archive_writer_free(w);
}

void tp_chunk_archive_writer_free(tp_chunk_archive_writer *w)
{
	tp_block_writer_free(&w->bw);
}

/* ---- decoder ---- */

void tp_chunk_archive_reader_init(tp_chunk_archive_reader *cr, tp_block_reader *r)
{
	memset(cr, 0, sizeof(*cr));
	cr->r = r;
}

void tp_chunk_archive_reader_swap_blob(tp_chunk_archive_reader *cr, tp_buf *buf)
{
	tp_buf mine = cr->blob;
	cr->blob = *buf;
	tp_buf_reset(&cr->blob);
	*buf = mine;
}

void tp_chunk_archive_reader_free(tp_chunk_archive_reader *cr)
{
	tp_buf_free(&cr->blob);
}

static int fatal(tp_chunk_archive_reader *cr, int code)
{
	cr->failed = code;
	return code;
}

int tp_chunk_archive_reader_next(tp_chunk_archive_reader *cr, tp_chunk_entry *e, tp_err *err)
{
	if (cr->failed)
		return tp_err_set(err, cr->failed, "chunk archive: decoder failed earlier");
	if (cr->done)
		return 0;
	uint8_t hdr[TP_CHUNK_ENTRY_HEADER_SIZE];
	size_t have = 0;
	if (cr->have_magic) {
		memcpy(hdr, tp_magic(TP_MAGIC_CHUNK_ARCHIVE_ENTRY), 8);
		have = 8;
		cr->have_magic = 0;
	}
	uint64_t off = tp_block_reader_offset(cr->r) - have;
	long n = tp_block_reader_read_full(cr->r, hdr + have, sizeof(hdr) - have, err);
	if (n < 0)
		return fatal(cr, tp_err_wrap(err, (int)n, "chunk archive: entry header at offset %llu",
					     (unsigned long long)off));
	n += (long)have;
	if ((size_t)n < sizeof(hdr)) {
		cr->done = 1;
		cr->truncated = n > 0;
		return 0;
	}
	if (memcmp(hdr, tp_magic(TP_MAGIC_CHUNK_ARCHIVE_ENTRY), 8))
		return fatal(cr, tp_err_set(err, -TP_EFORMAT, "chunk archive: wrong entry magic at offset %llu",
					    (unsigned long long)off));
	uint64_t size = tp_le64(hdr + 40);
	if (size > TP_CHUNK_ARCHIVE_MAX_BLOB)
		return fatal(cr, tp_err_set(err, -TP_EFORMAT,
					    "chunk archive: entry at offset %llu claims %llu bytes (max %u)",
					    (unsigned long long)off, (unsigned long long)size, TP_CHUNK_ARCHIVE_MAX_BLOB));
	memcpy(e->digest, hdr + 8, 32);
	e->offset = off;
	tp_buf_reset(&cr->blob);
	/* grow as bytes arrive, so a lying size on a short stream costs no memory */
	while (cr->blob.len < size) {
		size_t want = size - cr->blob.len < SLICE ? (size_t)(size - cr->blob.len) : SLICE;
		if (tp_buf_reserve(&cr->blob, want) < 0)
			return fatal(cr, tp_err_set(err, -ENOMEM, "chunk archive: out of memory for a %llu byte blob",
						    (unsigned long long)size));
		n = tp_block_reader_read_full(cr->r, cr->blob.data + cr->blob.len, want, err);
		if (n < 0)
			return fatal(cr, tp_err_wrap(err, (int)n, "chunk archive: blob of the entry at offset %llu",
						     (unsigned long long)off));
		cr->blob.len += (size_t)n;
		if ((size_t)n < want) {
			/* PBS: "last chunk truncated" ends the archive; it is not an error */
			cr->done = 1;
			cr->truncated = 1;
			return 0;
		}
	}
	e->blob = cr->blob.data;
	e->size = (size_t)size;
	int rc = tp_chunk_blob_check(e->digest, e->blob, e->size, err);
	if (rc < 0)
		return tp_err_wrap(err, rc, "chunk archive: entry at offset %llu", (unsigned long long)off);
	return 1;
}

int tp_chunk_archive_reader_resync(tp_chunk_archive_reader *cr, tp_err *err)
{
	const uint8_t *magic = tp_magic(TP_MAGIC_CHUNK_ARCHIVE_ENTRY);
	uint8_t win[8];
	size_t filled = 0;
	for (;;) {
		uint8_t c;
		long n = tp_block_reader_read(cr->r, &c, 1, err);
		if (n < 0)
			return fatal(cr, tp_err_wrap(err, (int)n, "chunk archive: resynchronising"));
		if (n == 0) {
			cr->done = 1;
			return 0;
		}
		if (filled < sizeof(win)) {
			win[filled++] = c;
		} else {
			memmove(win, win + 1, sizeof(win) - 1);
			win[sizeof(win) - 1] = c;
		}
		if (filled == sizeof(win) && !memcmp(win, magic, sizeof(win))) {
			cr->have_magic = 1;
			return 1;
		}
	}
}
