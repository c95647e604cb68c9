/* Dynamic index reader and writer (see didx.h). */
#include "format/didx.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/hex.h"
#include "crypto/cipher.h"
#include "format/magic.h"

int tp_didx_parse(tp_didx *x, const void *data, size_t len, const char *what, tp_err *err)
{
	const uint8_t *p = data;
	memset(x, 0, sizeof(*x));
	if (len < TP_INDEX_HEADER_SIZE)
		return tp_err_set(err, -TP_EFORMAT, "%s: truncated dynamic index (%zu bytes, header is %d)",
				  what, len, TP_INDEX_HEADER_SIZE);
	if (memcmp(p, tp_magic(TP_MAGIC_DYNAMIC_INDEX), 8)) {
		char hex[17];
		tp_hex_encode(p, 8, hex);
		return tp_err_set(err, -TP_EFORMAT, "%s: wrong magic %s (not a dynamic index)", what, hex);
	}
	if ((len - TP_INDEX_HEADER_SIZE) % TP_DIDX_ENTRY_SIZE)
		return tp_err_set(err, -TP_EFORMAT,
				  "%s: index size mismatch (%zu bytes after the header is not a multiple of %d)",
				  what, len - TP_INDEX_HEADER_SIZE, TP_DIDX_ENTRY_SIZE);
	memcpy(x->uuid, p + 8, 16);
	x->ctime = (int64_t)tp_le64(p + 24);
	memcpy(x->csum, p + 32, 32);
	x->count = (len - TP_INDEX_HEADER_SIZE) / TP_DIDX_ENTRY_SIZE;
	x->entries = p + TP_INDEX_HEADER_SIZE;
	uint64_t prev = 0;
	for (size_t i = 0; i < x->count; i++) {
		uint64_t e = tp_didx_end(x, i);
		if (e < prev) {
			size_t n = x->count;
			memset(x, 0, sizeof(*x));
			return tp_err_set(err, -TP_EFORMAT,
					  "%s: entry %zu of %zu (file offset %zu): end offset %llu is below the previous %llu",
					  what, i, n, (size_t)TP_INDEX_HEADER_SIZE + 40 * i, (unsigned long long)e,
					  (unsigned long long)prev);
		}
		prev = e;
	}
	return 0;
}

int tp_didx_open(tp_didx *x, const char *path, tp_err *err)
{
	memset(x, 0, sizeof(*x));
	void *m;
	size_t len;
	int r = tp_index_map_file(path, "dynamic", &m, &len, err);
	if (r < 0)
		return r;
	if ((r = tp_didx_parse(x, m, len, path, err)) < 0) {
		munmap(m, len);
		return r;
	}
	x->map = m;
	x->map_len = len;
	return 0;
}

void tp_didx_close(tp_didx *x)
{
	if (x->map)
		munmap(x->map, x->map_len);
	memset(x, 0, sizeof(*x));
}

int tp_didx_chunk_range(const tp_didx *x, size_t i, uint64_t *start, uint64_t *end)
{
	if (i >= x->count)
		return -ERANGE;
	*start = i ? tp_didx_end(x, i - 1) : 0;
	*end = tp_didx_end(x, i);
	return 0;
}

int tp_didx_find(const tp_didx *x, uint64_t offset, size_t *index)
{
	/* first entry whose end is beyond offset */
	size_t lo = 0, hi = x->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tp_didx_end(x, mid) > offset)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo >= x->count)
		return -ERANGE;
	*index = lo;
	return 0;
}

int tp_didx_compute_csum(const tp_didx *x, uint8_t out[32])
{
	tp_sha256(x->entries ? x->entries : (const uint8_t *)"", TP_DIDX_ENTRY_SIZE * x->count, out);
	return 0;
}

int tp_didx_verify_csum(const tp_didx *x, const char *what, tp_err *err)
{
	uint8_t c[32];
	tp_didx_compute_csum(x, c);
	if (memcmp(c, x->csum, 32)) {
		char a[65], b[65];
		tp_hex_encode(x->csum, 32, a);
		tp_hex_encode(c, 32, b);
		return tp_err_set(err, -TP_EFORMAT, "%s: index checksum mismatch (stored %s, computed %s)",
				  what, a, b);
	}
	return 0;
}

static void put_header(uint8_t h[TP_INDEX_HEADER_SIZE], const uint8_t uuid[16], int64_t ctime,
		       const uint8_t csum[32])
{
	memset(h, 0, TP_INDEX_HEADER_SIZE);
	memcpy(h, tp_magic(TP_MAGIC_DYNAMIC_INDEX), 8);
	memcpy(h + 8, uuid, 16);
	tp_put_le64(h + 24, (uint64_t)ctime);
	memcpy(h + 32, csum, 32);
}

int tp_didx_encode(const uint8_t uuid[16], int64_t ctime, const uint64_t *ends,
		   const uint8_t *digests, size_t count, tp_buf *out, tp_err *err)
{
	tp_buf_reset(out);
	if (count > (SIZE_MAX - TP_INDEX_HEADER_SIZE) / TP_DIDX_ENTRY_SIZE ||
	    tp_buf_reserve(out, TP_INDEX_HEADER_SIZE + TP_DIDX_ENTRY_SIZE * count) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory encoding a dynamic index");
	uint8_t *e = out->data + TP_INDEX_HEADER_SIZE;
	for (size_t i = 0; i < count; i++) {
		if (i && ends[i] < ends[i - 1])
			return tp_err_set(err, -EINVAL, "dynamic index encode: end %llu of entry %zu below %llu",
					  (unsigned long long)ends[i], i, (unsigned long long)ends[i - 1]);
		tp_put_le64(e + 40 * i, ends[i]);
		memcpy(e + 40 * i + 8, digests + 32 * i, 32);
	}
	uint8_t csum[32];
	tp_sha256(e, TP_DIDX_ENTRY_SIZE * count, csum);
	put_header(out->data, uuid, ctime, csum);
	out->len = TP_INDEX_HEADER_SIZE + TP_DIDX_ENTRY_SIZE * count;
	return 0;
}

int tp_didx_writer_create(tp_didx_writer *w, const char *path, int64_t ctime, tp_err *err)
{
	int r;
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->ctime = ctime;
	if (tp_random_bytes(w->uuid, 16) < 0)
		return tp_err_set(err, -EIO, "%s: no random bytes for the index uuid", path);
	w->uuid[6] = (uint8_t)((w->uuid[6] & 0x0f) | 0x40);
	w->uuid[8] = (uint8_t)((w->uuid[8] & 0x3f) | 0x80);
	w->path = strdup(path);
	w->tmp = tp_index_tmp_path(path, ".didx", ".tmp_didx");
	if (!w->path || !w->tmp || tp_sha256_init(&w->sha) < 0) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		r = tp_err_errno(err, "create %s", w->tmp);
		goto fail;
	}
	uint8_t zero[TP_INDEX_HEADER_SIZE] = { 0 };
	if ((r = tp_write_all(w->fd, zero, sizeof(zero), err, w->tmp)) < 0)
		goto fail;
	return 0;
fail:
	tp_didx_writer_abort(w);
	return r;
}

static int flush(tp_didx_writer *w, tp_err *err)
{
	if (!w->buf.len)
		return 0;
	int r = tp_write_all(w->fd, w->buf.data, w->buf.len, err, w->tmp);
	tp_buf_reset(&w->buf);
	return r;
}

int tp_didx_writer_add(tp_didx_writer *w, uint64_t end, const uint8_t digest[32], tp_err *err)
{
	if (w->fd < 0)
		return tp_err_set(err, -EBADF, "dynamic index writer is closed");
	if (end < w->last_end)
		return tp_err_set(err, -EINVAL, "%s: entry %zu ends at %llu, before the previous end %llu",
				  w->path, w->count, (unsigned long long)end, (unsigned long long)w->last_end);
	uint8_t e[TP_DIDX_ENTRY_SIZE];
	tp_put_le64(e, end);
	memcpy(e + 8, digest, 32);
	int r = tp_buf_append(&w->buf, e, sizeof(e));
	if (r < 0)
		return tp_err_set(err, r, "out of memory");
	tp_sha256_update(&w->sha, e, sizeof(e));
	w->count++;
	w->last_end = end;
	return w->buf.len >= 65536 ? flush(w, err) : 0;
}

int tp_didx_writer_close(tp_didx_writer *w, uint8_t csum[32], uint64_t *size, tp_err *err)
{
	int r;
	uint8_t c[32], h[TP_INDEX_HEADER_SIZE];
	if (w->fd < 0)
		return tp_err_set(err, -EBADF, "dynamic index writer is closed");
	if ((r = flush(w, err)) < 0)
		goto fail;
	tp_sha256_final(&w->sha, c);
	put_header(h, w->uuid, w->ctime, c);
	r = tp_index_publish(w->fd, h, w->tmp, w->path, err);
	w->fd = -1;
	if (r < 0)
		goto fail;
	if (csum)
		memcpy(csum, c, 32);
	if (size)
		*size = w->last_end;
	free(w->tmp);
	w->tmp = NULL;
	tp_didx_writer_abort(w);
	return 0;
fail:
	tp_didx_writer_abort(w);
	return r;
}

void tp_didx_writer_abort(tp_didx_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->path);
	w->tmp = w->path = NULL;
	tp_sha256_abort(&w->sha);
	tp_buf_free(&w->buf);
}
