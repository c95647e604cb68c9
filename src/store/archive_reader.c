/* Sequential archive reader (see archive_reader.h). */
#include "store/archive_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/blob.h"

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

int tp_archive_reader_open(tp_archive_reader *r, tp_chunk_store *cs, const char *index_path,
			   const tp_crypt_config *cc, tp_err *err)
{
	memset(r, 0, sizeof(*r));
	r->cs = cs;
	r->cc = cc;
	r->what = strdup(index_path);
	if (!r->what)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int rc;
	if (ends_with(index_path, ".fidx")) {
		r->fixed = 1;
		rc = tp_fidx_open(&r->fidx, index_path, err);
		if (rc == 0) {
			r->count = r->fidx.count;
			r->size = r->fidx.size;
		}
	} else if (ends_with(index_path, ".didx")) {
		rc = tp_didx_open(&r->didx, index_path, err);
		if (rc == 0) {
			r->count = r->didx.count;
			r->size = tp_didx_size(&r->didx);
		}
	} else {
		rc = tp_err_set(err, -EINVAL, "%s: not an index file (.fidx or .didx)", index_path);
	}
	if (rc < 0) {
		free(r->what);
		r->what = NULL;
		return rc;
	}
	return 0;
}

const uint8_t *tp_archive_reader_digest(const tp_archive_reader *r, size_t i)
{
	return r->fixed ? tp_fidx_digest(&r->fidx, i) : tp_didx_digest(&r->didx, i);
}

static int load_next(tp_archive_reader *r, tp_err *err)
{
	size_t i = r->next;
	const uint8_t *d = tp_archive_reader_digest(r, i);
	uint64_t start, end;
	int rc = r->fixed ? tp_fidx_chunk_range(&r->fidx, i, &start, &end) : tp_didx_chunk_range(&r->didx, i, &start, &end);
	if (rc < 0)
		return tp_err_set(err, rc, "%s: bad chunk range %zu", r->what, i);
	tp_buf_reset(&r->raw);
	rc = tp_chunk_store_read(r->cs, d, &r->raw, err);
	if (rc < 0)
		return tp_err_wrap(err, rc, "%s chunk %zu", r->what, i);
	char what[64];
	snprintf(what, sizeof(what), "chunk %zu of archive", i);
	rc = tp_blob_decode(r->raw.data, r->raw.len, r->cc, TP_BLOB_MAX_SIZE, d, what, &r->plain, err);
	if (rc < 0)
		return tp_err_wrap(err, rc, "%s", r->what);
	if (r->plain.len != end - start)
		return tp_err_set(err, -TP_EFORMAT, "%s: chunk %zu has %zu bytes, index says %llu", r->what, i,
				  r->plain.len, (unsigned long long)(end - start));
	r->plain_off = 0;
	r->next++;
	return 0;
}

long tp_archive_reader_read(tp_archive_reader *r, void *buf, size_t len, tp_err *err)
{
	size_t done = 0;
	while (done < len) {
		if (r->plain_off == r->plain.len) {
			if (r->next >= r->count)
				break;
			int rc = load_next(r, err);
			if (rc < 0)
				return rc;
			continue;
		}
		size_t n = r->plain.len - r->plain_off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, r->plain.data + r->plain_off, n);
		r->plain_off += n;
		done += n;
	}
	r->pos += done;
	return (long)done;
}

long tp_archive_reader_read_cb(void *ctx, void *buf, size_t len, tp_err *err)
{
	return tp_archive_reader_read(ctx, buf, len, err);
}

int tp_archive_reader_read_all(tp_archive_reader *r, tp_buf *out, size_t max, tp_err *err)
{
	if (r->size > max)
		return tp_err_set(err, -EFBIG, "%s: archive of %llu bytes exceeds %zu", r->what,
				  (unsigned long long)r->size, max);
	int rc = tp_buf_reserve(out, (size_t)r->size);
	if (rc < 0)
		return tp_err_set(err, rc, "out of memory");
	for (;;) {
		if ((rc = tp_buf_reserve(out, 1 << 20)) < 0)
			return tp_err_set(err, rc, "out of memory");
		long n = tp_archive_reader_read(r, out->data + out->len, 1 << 20, err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > max)
			return tp_err_set(err, -EFBIG, "%s: archive exceeds %zu bytes", r->what, max);
	}
	return 0;
}

void tp_archive_reader_close(tp_archive_reader *r)
{
	if (!r->what)
		return;
	if (r->fixed)
		tp_fidx_close(&r->fidx);
	else
		tp_didx_close(&r->didx);
	tp_buf_free(&r->raw);
	tp_buf_free(&r->plain);
	free(r->what);
	r->what = NULL;
}
