/* PBS media catalog .log records: encoder and validating streaming decoder (see media_catalog_log.h). */
#include "format/media_catalog_log.h"

#include <string.h>

#include "base/hex.h"
#include "format/magic.h"

int tp_mclog_append_magic(tp_buf *b)
{
	return tp_buf_append(b, tp_magic(TP_MAGIC_MEDIA_CATALOG_1_1), 8);
}

/* Appends type + a zeroed struct of `size` bytes; returns a pointer to the struct or NULL. */
static uint8_t *rec(tp_buf *b, char type, size_t size)
{
	if (tp_buf_reserve(b, 1 + size) < 0)
		return NULL;
	uint8_t *p = b->data + b->len;
	p[0] = (uint8_t)type;
	memset(p + 1, 0, size);
	b->len += 1 + size;
	return p + 1;
}

int tp_mclog_append_label(tp_buf *b, uint64_t file, const uint8_t uuid[16], uint64_t seq_nr)
{
	uint8_t *p = rec(b, 'L', 32);
	if (!p)
		return -ENOMEM;
	tp_put_le64(p, file);
	memcpy(p + 8, uuid, 16);
	tp_put_le64(p + 24, seq_nr);
	return 0;
}

int tp_mclog_append_archive_start(tp_buf *b, uint64_t file, const uint8_t uuid[16], const char *store,
				  tp_err *err)
{
	size_t sl = strlen(store);
	if (sl == 0 || sl > 255)
		return tp_err_set(err, -EINVAL, "media catalog: store name of %zu bytes", sl);
	size_t keep = b->len;
	uint8_t *p = rec(b, 'A', 32);
	if (!p)
		return tp_err_set(err, -ENOMEM, "media catalog: out of memory");
	tp_put_le64(p, file);
	memcpy(p + 8, uuid, 16);
	p[24] = (uint8_t)sl;
	if (tp_buf_append(b, store, sl) < 0) {
		b->len = keep;
		return tp_err_set(err, -ENOMEM, "media catalog: out of memory");
	}
	return 0;
}

int tp_mclog_append_chunk(tp_buf *b, const uint8_t digest[32])
{
	uint8_t *p = rec(b, 'C', 32);
	if (!p)
		return -ENOMEM;
	memcpy(p, digest, 32);
	return 0;
}

int tp_mclog_append_archive_end(tp_buf *b, uint64_t file, const uint8_t uuid[16])
{
	uint8_t *p = rec(b, 'E', 24);
	if (!p)
		return -ENOMEM;
	tp_put_le64(p, file);
	memcpy(p + 8, uuid, 16);
	return 0;
}

int tp_mclog_append_snapshot(tp_buf *b, uint64_t file, const uint8_t uuid[16], const char *store,
			     const char *snapshot, tp_err *err)
{
	size_t sl = strlen(store), nl = strlen(snapshot);
	if (sl == 0 || sl > 255)
		return tp_err_set(err, -EINVAL, "media catalog: store name of %zu bytes", sl);
	int r = tp_snapshot_path_check(snapshot, nl, NULL, err);
	if (r < 0)
		return tp_err_wrap(err, -EINVAL, "media catalog");
	size_t keep = b->len;
	uint8_t *p = rec(b, 'S', 32);
	if (!p)
		return tp_err_set(err, -ENOMEM, "media catalog: out of memory");
	tp_put_le64(p, file);
	memcpy(p + 8, uuid, 16);
	p[24] = (uint8_t)sl;
	tp_put_le16(p + 26, (uint16_t)nl);
	if (tp_buf_append(b, store, sl) < 0 || tp_buf_append_u8(b, ':') < 0 || tp_buf_append(b, snapshot, nl) < 0) {
		b->len = keep;
		return tp_err_set(err, -ENOMEM, "media catalog: out of memory");
	}
	return 0;
}

/* ---- decoder ---- */

static int utf8_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			k = 1, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < k + 1)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

void tp_mclog_decoder_init(tp_mclog_decoder *d, tp_mclog_record_fn cb, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->cb = cb;
	d->ctx = ctx;
}

void tp_mclog_decoder_free(tp_mclog_decoder *d)
{
	tp_buf_free(&d->pend);
}

#define BAD(...) tp_err_set(err, -TP_EFORMAT, __VA_ARGS__)

/* Parses one record at p[0..avail); returns bytes used, 0 if more are needed, < 0 on error. */
static long parse_one(tp_mclog_decoder *d, const uint8_t *p, size_t avail, uint64_t pos, tp_err *err)
{
	if (!d->have_magic) {
		if (avail < 8)
			return 0;
		if (!memcmp(p, tp_magic(TP_MAGIC_MEDIA_CATALOG_1_0), 8))
			return BAD("media catalog: obsolete format v1.0");
		if (memcmp(p, tp_magic(TP_MAGIC_MEDIA_CATALOG_1_1), 8))
			return BAD("media catalog: wrong magic");
		d->have_magic = 1;
		return 8;
	}
	tp_mclog_record r = { .type = (char)p[0], .pos = pos };
	size_t need;
	switch (p[0]) {
	case 'L': case 'A': case 'C': case 'S': need = 33; break;
	case 'E': need = 25; break;
	default:
		return BAD("media catalog: unknown record type 0x%02x at offset %llu", p[0], (unsigned long long)pos);
	}
	if (avail < need)
		return 0;
	const uint8_t *s = p + 1;
	size_t sl = 0, nl = 0;
	if (p[0] != 'C') {
		r.file = tp_le64(s);
		memcpy(r.uuid, s + 8, 16);
	}
	if (p[0] == 'A' || p[0] == 'S') {
		sl = s[24];
		if (p[0] == 'S')
			nl = tp_le16(s + 26) + 1u; /* ':' + path */
		need += sl + nl;
		if (avail < need)
			return 0;
	}
	if (d->labels == 0 && p[0] != 'L')
		return BAD("media catalog: record '%c' at offset %llu before the media label record", p[0],
			   (unsigned long long)pos);
	char store[256], snap[TP_ARCHIVE_PATH_MAX + 1];
	if (sl || p[0] == 'A' || p[0] == 'S') {
		if (sl == 0 || !utf8_ok(p + 33, sl))
			return BAD("media catalog: bad store name in record '%c' at offset %llu", p[0],
				   (unsigned long long)pos);
		memcpy(store, p + 33, sl);
		store[sl] = 0;
		r.store = store;
	}
	switch (p[0]) {
	case 'L':
		r.seq_nr = tp_le64(s + 24);
		if (d->labels >= 2 || r.file != (uint64_t)d->labels)
			return BAD("media catalog: label record for file %llu at offset %llu (want file %d)",
				   (unsigned long long)r.file, (unsigned long long)pos, d->labels < 2 ? d->labels : 1);
		if (r.file == 0 && r.seq_nr != 0)
			return BAD("media catalog: media label record with seq_nr %llu", (unsigned long long)r.seq_nr);
		if (r.file == 0 && d->expect_media && memcmp(r.uuid, d->expect_media, 16))
			return BAD("media catalog: media uuid does not match the tape");
		if (r.file == 1 && d->expect_set &&
		    (memcmp(r.uuid, d->expect_set, 16) || r.seq_nr != d->expect_seq_nr))
			return BAD("media catalog: unexpected media set uuid / sequence number");
		d->labels++;
		d->have_last = 1;
		d->last_file = r.file;
		break;
	case 'A':
	case 'S':
		if (d->in_archive)
			return BAD("media catalog: record '%c' for file %llu inside chunk archive %llu", p[0],
				   (unsigned long long)r.file, (unsigned long long)d->arch_file);
		if (r.file < 2 || (d->have_last && r.file <= d->last_file))
			return BAD("media catalog: record '%c' with file %llu at offset %llu (last file %llu)", p[0],
				   (unsigned long long)r.file, (unsigned long long)pos,
				   (unsigned long long)d->last_file);
		if (p[0] == 'A') {
			d->in_archive = 1;
			d->arch_file = r.file;
			memcpy(d->arch_uuid, r.uuid, 16);
		} else {
			if (p[33 + sl] != ':')
				return BAD("media catalog: missing ':' in snapshot record at offset %llu",
					   (unsigned long long)pos);
			size_t pl = nl - 1;
			const uint8_t *path = p + 33 + sl + 1;
			if (!utf8_ok(path, pl) || tp_snapshot_path_check((const char *)path, pl, NULL, err) < 0)
				return tp_err_wrap(err, -TP_EFORMAT, "media catalog: snapshot record at offset %llu",
						   (unsigned long long)pos);
			memcpy(snap, path, pl);
			snap[pl] = 0;
			r.snapshot = snap;
		}
		d->have_last = 1;
		d->last_file = r.file;
		break;
	case 'C':
		if (!d->in_archive)
			return BAD("media catalog: chunk record outside a chunk archive at offset %llu",
				   (unsigned long long)pos);
		memcpy(r.digest, s, 32);
		r.archive_file = d->arch_file;
		break;
	case 'E':
		if (!d->in_archive || r.file != d->arch_file || memcmp(r.uuid, d->arch_uuid, 16))
			return BAD("media catalog: archive end for file %llu at offset %llu does not match its start",
				   (unsigned long long)r.file, (unsigned long long)pos);
		d->in_archive = 0;
		break;
	}
	if (d->cb) {
		int rc = d->cb(d->ctx, &r, err);
		if (rc < 0)
			return rc;
	}
	return (long)need;
}

int tp_mclog_decoder_feed(tp_mclog_decoder *d, const void *data, size_t len, tp_err *err)
{
	if (d->failed)
		return tp_err_set(err, d->failed, "media catalog: decoder failed earlier");
	if (tp_buf_append(&d->pend, data, len) < 0)
		return d->failed = tp_err_set(err, -ENOMEM, "media catalog: out of memory");
	size_t off = 0;
	while (off < d->pend.len) {
		long n = parse_one(d, d->pend.data + off, d->pend.len - off, d->pos + off, err);
		if (n < 0)
			return d->failed = (int)n;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off) {
		memmove(d->pend.data, d->pend.data + off, d->pend.len - off);
		d->pend.len -= off;
		d->pos += off;
	}
	return 0;
}

int tp_mclog_decoder_finish(tp_mclog_decoder *d, tp_err *err)
{
	if (d->failed)
		return tp_err_set(err, d->failed, "media catalog: decoder failed earlier");
	if (!d->have_magic)
		return BAD("media catalog: no magic (%zu bytes)", d->pend.len);
	if (d->pend.len)
		return BAD("media catalog: ends inside a record at offset %llu", (unsigned long long)d->pos);
	if (d->labels == 0)
		return BAD("media catalog: no media label record");
	if (d->in_archive)
		return BAD("media catalog: ends inside chunk archive %llu", (unsigned long long)d->arch_file);
	return 0;
}

int tp_mclog_decode(const void *data, size_t len, const uint8_t *expect_media, tp_mclog_record_fn cb, void *ctx,
		    tp_err *err)
{
	tp_mclog_decoder d;
	tp_mclog_decoder_init(&d, cb, ctx);
	d.expect_media = expect_media;
	int r = tp_mclog_decoder_feed(&d, data, len, err);
	if (r == 0)
		r = tp_mclog_decoder_finish(&d, err);
	tp_mclog_decoder_free(&d);
	return r;
}
