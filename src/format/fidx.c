/* Fixed index reader and writer (see fidx.h). */
#include "format/fidx.h"

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

static size_t chunk_count(uint64_t size, uint64_t chunk_size)
{
	return (size_t)(size / chunk_size + (size % chunk_size != 0));
}

static int check_chunk_size(uint64_t cs, const char *what, tp_err *err)
{
	if (cs == 0 || (cs & (cs - 1)))
		return tp_err_set(err, -TP_EFORMAT, "%s: chunk size %llu is not a power of two", what,
				  (unsigned long long)cs);
	return 0;
}

int tp_fidx_parse(tp_fidx *x, const void *data, size_t len, const char *what, tp_err *err)
{
	const uint8_t *p = data;
	memset(x, 0, sizeof(*x));
	if (len < TP_INDEX_HEADER_SIZE)
		return tp_err_set(err, -TP_EFORMAT, "%s: truncated fixed index (%zu bytes, header is %d)",
				  what, len, TP_INDEX_HEADER_SIZE);
	if (memcmp(p, tp_magic(TP_MAGIC_FIXED_INDEX), 8)) {
		char hex[17];
		tp_hex_encode(p, 8, hex);
		return tp_err_set(err, -TP_EFORMAT, "%s: wrong magic %s (not a fixed index)", what, hex);
	}
	memcpy(x->uuid, p + 8, 16);
	x->ctime = (int64_t)tp_le64(p + 24);
	memcpy(x->csum, p + 32, 32);
	x->size = tp_le64(p + 64);
	x->chunk_size = tp_le64(p + 72);
	int r = check_chunk_size(x->chunk_size, what, err);
	if (r < 0)
		return r;
	uint64_t n = x->size / x->chunk_size + (x->size % x->chunk_size != 0);
	if (n > (SIZE_MAX - TP_INDEX_HEADER_SIZE) / 32 || len != TP_INDEX_HEADER_SIZE + 32 * n)
		return tp_err_set(err, -TP_EFORMAT,
				  "%s: index size mismatch (file has %zu bytes, size %llu / chunk size %llu needs %llu)",
				  what, len, (unsigned long long)x->size, (unsigned long long)x->chunk_size,
				  (unsigned long long)(n > (UINT64_MAX - TP_INDEX_HEADER_SIZE) / 32
							       ? UINT64_MAX : TP_INDEX_HEADER_SIZE + 32 * n));
	x->count = (size_t)n;
	x->digests = p + TP_INDEX_HEADER_SIZE;
	return 0;
}

int tp_fidx_open(tp_fidx *x, const char *path, tp_err *err)
{
	memset(x, 0, sizeof(*x));
	void *m;
	size_t len;
	int r = tp_index_map_file(path, "fixed", &m, &len, err);
	if (r < 0)
		return r;
	if ((r = tp_fidx_parse(x, m, len, path, err)) < 0) {
		munmap(m, len);
		return r;
	}
	x->map = m;
	x->map_len = len;
	return 0;
}

void tp_fidx_close(tp_fidx *x)
{
	if (x->map)
		munmap(x->map, x->map_len);
	memset(x, 0, sizeof(*x));
}

int tp_fidx_chunk_range(const tp_fidx *x, size_t i, uint64_t *start, uint64_t *end)
{
	if (i >= x->count)
		return -ERANGE;
	*start = (uint64_t)i * x->chunk_size;
	*end = *start + x->chunk_size;
	if (*end > x->size)
		*end = x->size;
	return 0;
}

int tp_fidx_compute_csum(const tp_fidx *x, uint8_t out[32])
{
	tp_sha256(x->digests ? x->digests : (const uint8_t *)"", 32 * x->count, out);
	return 0;
}

int tp_fidx_verify_csum(const tp_fidx *x, const char *what, tp_err *err)
{
	uint8_t c[32];
	tp_fidx_compute_csum(x, c);
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
		       const uint8_t csum[32], uint64_t size, uint64_t chunk_size)
{
	memset(h, 0, TP_INDEX_HEADER_SIZE);
	memcpy(h, tp_magic(TP_MAGIC_FIXED_INDEX), 8);
	memcpy(h + 8, uuid, 16);
	tp_put_le64(h + 24, (uint64_t)ctime);
	memcpy(h + 32, csum, 32);
	tp_put_le64(h + 64, size);
	tp_put_le64(h + 72, chunk_size);
}

int tp_fidx_encode(const uint8_t uuid[16], int64_t ctime, uint64_t size, uint64_t chunk_size,
		   const uint8_t *digests, size_t count, tp_buf *out, tp_err *err)
{
	tp_buf_reset(out);
	int r = check_chunk_size(chunk_size, "fixed index encode", err);
	if (r < 0)
		return r;
	if (count != chunk_count(size, chunk_size))
		return tp_err_set(err, -EINVAL, "fixed index encode: %zu digests for size %llu / chunk size %llu",
				  count, (unsigned long long)size, (unsigned long long)chunk_size);
	if (count > (SIZE_MAX - TP_INDEX_HEADER_SIZE) / 32 ||
	    (r = tp_buf_reserve(out, TP_INDEX_HEADER_SIZE + 32 * count)) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory encoding a fixed index");
	uint8_t csum[32];
	tp_sha256(count ? digests : (const uint8_t *)"", 32 * count, csum);
	put_header(out->data, uuid, ctime, csum, size, chunk_size);
	if (count)
		memcpy(out->data + TP_INDEX_HEADER_SIZE, digests, 32 * count);
	out->len = TP_INDEX_HEADER_SIZE + 32 * count;
	return 0;
}

char *tp_index_tmp_path(const char *path, const char *ext, const char *tmp_ext)
{
	size_t n = strlen(path), e = strlen(ext);
	if (n > e && !strcmp(path + n - e, ext))
		return tp_strdup_printf("%.*s%s", (int)(n - e), path, tmp_ext);
	return tp_strdup_printf("%s%s", path, tmp_ext);
}

int tp_fidx_writer_create(tp_fidx_writer *w, const char *path, uint64_t size, uint64_t chunk_size,
			  int64_t ctime, tp_err *err)
{
	int r;
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if ((r = check_chunk_size(chunk_size, path, err)) < 0)
		return r;
	w->size = size;
	w->chunk_size = chunk_size;
	w->ctime = ctime;
	if (tp_random_bytes(w->uuid, 16) < 0)
		return tp_err_set(err, -EIO, "%s: no random bytes for the index uuid", path);
	w->uuid[6] = (uint8_t)((w->uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	w->uuid[8] = (uint8_t)((w->uuid[8] & 0x3f) | 0x80);
	w->path = strdup(path);
	w->tmp = tp_index_tmp_path(path, ".fidx", ".tmp_fidx");
	if (!w->path || !w->tmp) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (tp_sha256_init(&w->sha) < 0) {
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
	tp_fidx_writer_abort(w);
	return r;
}

static int flush(tp_fidx_writer *w, tp_err *err)
{
	if (!w->buf.len)
		return 0;
	int r = tp_write_all(w->fd, w->buf.data, w->buf.len, err, w->tmp);
	if (r < 0)
		return r;
	w->written += w->buf.len;
	tp_buf_reset(&w->buf);
	return 0;
}

int tp_fidx_writer_add(tp_fidx_writer *w, const uint8_t digest[32], tp_err *err)
{
	if (w->fd < 0)
		return tp_err_set(err, -EBADF, "fixed index writer is closed");
	int r = tp_buf_append(&w->buf, digest, 32);
	if (r < 0)
		return tp_err_set(err, r, "out of memory");
	tp_sha256_update(&w->sha, digest, 32);
	w->count++;
	return w->buf.len >= 65536 ? flush(w, err) : 0;
}

void tp_fidx_writer_set_size(tp_fidx_writer *w, uint64_t size)
{
	w->size = size;
}

int tp_fidx_writer_close(tp_fidx_writer *w, uint8_t csum[32], uint64_t *size, tp_err *err)
{
	int r;
	uint8_t c[32], h[TP_INDEX_HEADER_SIZE];
	if (w->fd < 0)
		return tp_err_set(err, -EBADF, "fixed index writer is closed");
	if (w->count != chunk_count(w->size, w->chunk_size)) {
		r = tp_err_set(err, -EINVAL, "%s: %zu digests written, size %llu / chunk size %llu needs %zu",
			       w->path, w->count, (unsigned long long)w->size,
			       (unsigned long long)w->chunk_size, chunk_count(w->size, w->chunk_size));
		goto fail;
	}
	if ((r = flush(w, err)) < 0)
		goto fail;
	tp_sha256_final(&w->sha, c);
	put_header(h, w->uuid, w->ctime, c, w->size, w->chunk_size);
	r = tp_index_publish(w->fd, h, w->tmp, w->path, err);
	w->fd = -1;
	if (r < 0)
		goto fail;
	if (csum)
		memcpy(csum, c, 32);
	if (size)
		*size = w->size;
	free(w->tmp);
	w->tmp = NULL;
	tp_fidx_writer_abort(w);
	return 0;
fail:
	tp_fidx_writer_abort(w);
	return r;
}

void tp_fidx_writer_abort(tp_fidx_writer *w)
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

int tp_index_map_file(const char *path, const char *kind, void **map, size_t *len, tp_err *err)
{
	int r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tp_err_errno(err, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = tp_err_errno(err, "stat %s", path);
		goto out;
	}
	if (st.st_size < TP_INDEX_HEADER_SIZE) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: truncated %s index (%lld bytes, header is %d)", path, kind,
			       (long long)st.st_size, TP_INDEX_HEADER_SIZE);
		goto out;
	}
	*len = (size_t)st.st_size;
	*map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (*map == MAP_FAILED)
		r = tp_err_errno(err, "mmap %s", path);
out:
	close(fd);
	return r;
}

int tp_index_publish(int fd, const uint8_t header[TP_INDEX_HEADER_SIZE], const char *tmp, const char *path,
		     tp_err *err)
{
	int r = 0;
	if (pwrite(fd, header, TP_INDEX_HEADER_SIZE, 0) != (ssize_t)TP_INDEX_HEADER_SIZE)
		r = tp_err_errno(err, "write header of %s", tmp);
	else if (fsync(fd) < 0)
		r = tp_err_errno(err, "fsync %s", tmp);
	if (close(fd) < 0 && r == 0)
		r = tp_err_errno(err, "close %s", tmp);
	if (r == 0 && rename(tmp, path) < 0)
		r = tp_err_errno(err, "rename %s to %s", tmp, path);
	if (r == 0)
		r = tp_fsync_parent(path, err);
	return r;
}
