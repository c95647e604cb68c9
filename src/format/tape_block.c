/* Tape block stream writer/reader and the in-memory tape (see tape_block.h). */
#include "format/tape_block.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "format/magic.h"

void tp_tape_block_header_encode(uint8_t out[TP_TAPE_BLOCK_HEADER_SIZE], uint8_t flags, uint32_t size,
				 uint32_t seq_nr)
{
	memcpy(out, tp_magic(TP_MAGIC_TAPE_BLOCK_HEADER), 8);
	out[8] = flags;
	out[9] = (uint8_t)size;
	out[10] = (uint8_t)(size >> 8);
	out[11] = (uint8_t)(size >> 16);
	tp_put_le32(out + 12, seq_nr);
}

/* ---- writer ---- */

int tp_block_writer_init(tp_block_writer *w, const tp_tape_io *io, tp_err *err)
{
	memset(w, 0, sizeof(*w));
	w->io = io;
	w->block = calloc(1, TP_TAPE_BLOCK_SIZE);
	if (!w->block)
		return tp_err_set(err, -ENOMEM, "out of memory for a tape block buffer");
	return 0;
}

void tp_block_writer_free(tp_block_writer *w)
{
	free(w->block);
	w->block = NULL;
}

/* Writes the buffered block with the given flags; the seq_nr advances only when it is on tape. */
static int writer_emit(tp_block_writer *w, uint8_t flags, tp_err *err)
{
	if (w->used < TP_TAPE_BLOCK_PAYLOAD)
		memset(w->block + TP_TAPE_BLOCK_HEADER_SIZE + w->used, 0, TP_TAPE_BLOCK_PAYLOAD - w->used);
	tp_tape_block_header_encode(w->block, flags, (uint32_t)w->used, w->seq_nr);
	int r = w->io->write_block(w->io->ctx, w->block, TP_TAPE_BLOCK_SIZE, err);
	if (r < 0) {
		w->failed = 1;
		return tp_err_wrap(err, r, "writing tape block %u", w->seq_nr);
	}
	if (r == TP_TAPE_WRITE_LEOM)
		w->leom = 1;
	w->seq_nr++;
	w->blocks++;
	w->used = 0;
	return 0;
}

int tp_block_writer_write(tp_block_writer *w, const void *data, size_t len, tp_err *err)
{
	const uint8_t *p = data;
	if (w->closed)
		return tp_err_set(err, -EINVAL, "tape block writer: write after the stream was closed");
	if (w->failed)
		return tp_err_set(err, -EIO, "tape block writer: write after a failed block write");
	while (len > 0) {
		size_t n = TP_TAPE_BLOCK_PAYLOAD - w->used;
		if (n > len)
			n = len;
		memcpy(w->block + TP_TAPE_BLOCK_HEADER_SIZE + w->used, p, n);
		w->used += n;
		w->offset += n;
		p += n;
		len -= n;
		if (w->used == TP_TAPE_BLOCK_PAYLOAD) {
			int r = writer_emit(w, 0, err);
			if (r < 0)
				return r;
		}
	}
	return w->leom ? 1 : 0;
}

int tp_block_writer_finish(tp_block_writer *w, int incomplete, tp_err *err)
{
	if (w->closed)
		return tp_err_set(err, -EINVAL, "tape block writer: stream already closed");
	uint8_t flags = TP_TAPE_BLOCK_END_OF_STREAM | (incomplete ? TP_TAPE_BLOCK_INCOMPLETE : 0);
	/* A failed block is still buffered in full; it goes out with the end marker. */
	int r = writer_emit(w, flags, err);
	if (r < 0)
		return r;
	w->closed = 1;
	r = w->io->write_filemark(w->io->ctx, err);
	if (r < 0)
		return tp_err_wrap(err, r, "writing the filemark after tape block %u", w->seq_nr - 1);
	return 0;
}

int tp_block_writer_abort(tp_block_writer *w, tp_err *err)
{
	if (w->closed)
		return 0;
	w->closed = 1;
	w->used = 0;
	int r = w->io->write_filemark(w->io->ctx, err);
	if (r < 0)
		return tp_err_wrap(err, r, "writing the filemark of an aborted stream");
	return 0;
}

/* ---- reader ---- */

enum { GOT_BLOCK = 0, GOT_FILEMARK = 1, GOT_EOD = 2 };

static int reader_fail(tp_block_reader *r, int code)
{
	if (!r->poisoned)
		r->poisoned = code < 0 ? code : -EIO;
	return code;
}

/* Consumes the filemark that must follow the END_OF_STREAM block. */
static int consume_filemark(tp_block_reader *r, tp_err *err)
{
	uint8_t tmp[512];
	long n = r->io->read_block(r->io->ctx, tmp, sizeof(tmp), err);
	if (n == TP_TAPE_READ_FILEMARK)
		return 0;
	if (n > 0 || n == -EOVERFLOW)
		return tp_err_set(err, -TP_EFORMAT, "tape stream: block after end marker (after block %u)",
				  r->seq_nr - 1);
	if (n == TP_TAPE_READ_EOD)
		return tp_err_set(err, -TP_EFORMAT,
				  "tape stream: unexpected end of tape after the end marker (block %u)",
				  r->seq_nr - 1);
	return tp_err_wrap(err, (int)n, "tape stream: reading the filemark after block %u", r->seq_nr - 1);
}

/* Reads and checks the next block; GOT_* or a negative error. */
static int reader_next_block(tp_block_reader *r, tp_err *err)
{
	long n = r->io->read_block(r->io->ctx, r->block, TP_TAPE_BLOCK_SIZE, err);
	if (n == TP_TAPE_READ_FILEMARK)
		return GOT_FILEMARK;
	if (n == TP_TAPE_READ_EOD)
		return GOT_EOD;
	if (n < 0)
		return tp_err_wrap(err, (int)n, "tape stream: reading block %u", r->seq_nr);
	if ((size_t)n != TP_TAPE_BLOCK_SIZE)
		return tp_err_set(err, -TP_EFORMAT, "tape stream: short block %u (%ld bytes, want %u)", r->seq_nr,
				  n, TP_TAPE_BLOCK_SIZE);
	if (memcmp(r->block, tp_magic(TP_MAGIC_TAPE_BLOCK_HEADER), 8))
		return tp_err_set(err, -TP_EFORMAT,
				  "tape stream: block %u has an unknown magic (incompatible LTO version?)",
				  r->seq_nr);
	uint32_t seq = tp_le32(r->block + 12);
	if (seq != r->seq_nr)
		return tp_err_set(err, -TP_EFORMAT, "tape stream: got block seq_nr %u, expected %u", seq,
				  r->seq_nr);
	uint8_t flags = r->block[8];
	uint32_t size = (uint32_t)r->block[9] | (uint32_t)r->block[10] << 8 | (uint32_t)r->block[11] << 16;
	if (size > TP_TAPE_BLOCK_PAYLOAD)
		return tp_err_set(err, -TP_EFORMAT, "tape stream: block %u has a wrong size %u", seq, size);
	if (size == 0 && !(flags & TP_TAPE_BLOCK_END_OF_STREAM))
		return tp_err_set(err, -TP_EFORMAT, "tape stream: unexpected empty block %u", seq);
	r->seq_nr++;
	r->blocks++;
	r->pos = 0;
	r->len = size;
	if (flags & TP_TAPE_BLOCK_END_OF_STREAM) {
		r->end_marker = 1;
		r->incomplete = (flags & TP_TAPE_BLOCK_INCOMPLETE) != 0;
		int rc = consume_filemark(r, err);
		if (rc < 0)
			return rc;
		r->at_end = 1;
	}
	return GOT_BLOCK;
}

int tp_block_reader_open(tp_block_reader *r, const tp_tape_io *io, uint32_t first_seq, tp_err *err)
{
	memset(r, 0, sizeof(*r));
	r->io = io;
	r->seq_nr = first_seq;
	r->start_offset = r->offset = (uint64_t)first_seq * TP_TAPE_BLOCK_PAYLOAD;
	r->block = malloc(TP_TAPE_BLOCK_SIZE);
	if (!r->block)
		return tp_err_set(err, -ENOMEM, "out of memory for a tape block buffer");
	int rc = reader_next_block(r, err);
	if (rc == GOT_BLOCK)
		return 0;
	tp_block_reader_free(r);
	if (rc == GOT_FILEMARK)
		return TP_BLOCK_OPEN_FILEMARK;
	if (rc == GOT_EOD)
		return TP_BLOCK_OPEN_EOD;
	return rc;
}

void tp_block_reader_free(tp_block_reader *r)
{
	free(r->block);
	r->block = NULL;
}

/*
 * Makes payload available.  Returns 1 when bytes are there, 0 at the end of
 * the stream (or at a filemark without end marker if tolerate), < 0 on error.
 */
static int reader_fill(tp_block_reader *r, int tolerate, tp_err *err)
{
	if (r->poisoned)
		return tp_err_set(err, r->poisoned, "tape stream: reader failed earlier");
	if (!r->block)
		return tp_err_set(err, -EINVAL, "tape stream: reader is not open");
	while (r->pos == r->len) {
		if (r->at_end) {
			if (!r->end_marker && !tolerate)
				return reader_fail(r, tp_err_set(err, -TP_EFORMAT,
								  "tape stream without end marker (after block %u)",
								  r->seq_nr - 1));
			return 0;
		}
		int rc = reader_next_block(r, err);
		if (rc < 0)
			return reader_fail(r, rc);
		if (rc == GOT_EOD)
			return reader_fail(r, tp_err_set(err, -TP_EFORMAT,
							 "tape stream: unexpected end of tape after block %u",
							 r->seq_nr - 1));
		if (rc == GOT_FILEMARK)
			r->at_end = 1;
	}
	return 1;
}

long tp_block_reader_read(tp_block_reader *r, void *buf, size_t len, tp_err *err)
{
	if (len == 0)
		return 0;
	int rc = reader_fill(r, 0, err);
	if (rc <= 0)
		return rc;
	size_t n = r->len - r->pos;
	if (n > len)
		n = len;
	memcpy(buf, r->block + TP_TAPE_BLOCK_HEADER_SIZE + r->pos, n);
	r->pos += n;
	r->offset += n;
	return (long)n;
}

long tp_block_reader_read_full(tp_block_reader *r, void *buf, size_t len, tp_err *err)
{
	size_t got = 0;
	while (got < len) {
		size_t want = len - got;
		if (want > TP_TAPE_BLOCK_PAYLOAD)
			want = TP_TAPE_BLOCK_PAYLOAD;
		long n = tp_block_reader_read(r, (uint8_t *)buf + got, want, err);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (long)got;
}

int tp_block_reader_discard(tp_block_reader *r, uint64_t n, tp_err *err)
{
	while (n > 0) {
		int rc = reader_fill(r, 0, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			return tp_err_set(err, -TP_EFORMAT, "tape stream ends at offset %llu, %llu bytes early",
					  (unsigned long long)r->offset, (unsigned long long)n);
		size_t k = r->len - r->pos;
		if (k > n)
			k = (size_t)n;
		r->pos += k;
		r->offset += k;
		n -= k;
	}
	return 0;
}

int tp_block_reader_skip_data(tp_block_reader *r, uint64_t *skipped, tp_err *err)
{
	uint64_t total = 0;
	for (;;) {
		int rc = reader_fill(r, 1, err);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
		size_t k = r->len - r->pos;
		r->pos += k;
		r->offset += k;
		total += k;
	}
	if (skipped)
		*skipped = total;
	return 0;
}

int tp_block_reader_is_incomplete(const tp_block_reader *r, int *out, tp_err *err)
{
	if (!r->at_end || r->pos != r->len)
		return tp_err_set(err, -EINVAL, "tape stream: is_incomplete asked before the end of the file");
	*out = r->incomplete;
	return 0;
}

int tp_block_reader_has_end_marker(const tp_block_reader *r, int *out, tp_err *err)
{
	if (!r->at_end || r->pos != r->len)
		return tp_err_set(err, -EINVAL, "tape stream: has_end_marker asked before the end of the file");
	*out = r->end_marker;
	return 0;
}

/* ---- in-memory tape ---- */

static int mem_push(tp_mem_tape *t, const uint8_t *data, size_t len, int filemark)
{
	for (size_t i = t->pos; i < t->n; i++)
		free(t->objs[i].data);
	t->n = t->pos;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		tp_mem_tape_obj *o = realloc(t->objs, cap * sizeof(*o));
		if (!o)
			return -ENOMEM;
		t->objs = o;
		t->cap = cap;
	}
	tp_mem_tape_obj *o = &t->objs[t->n];
	o->data = NULL;
	o->len = 0;
	if (!filemark) {
		/* a block of 0 bytes still needs a non-NULL pointer to differ from a filemark */
		o->data = malloc(len ? len : 1);
		if (!o->data)
			return -ENOMEM;
		if (len)
			memcpy(o->data, data, len);
		o->len = len;
	}
	t->n++;
	t->pos = t->n;
	return 0;
}

static int mem_write_block(void *ctx, const uint8_t *buf, size_t len, tp_err *err)
{
	tp_mem_tape *t = ctx;
	if (t->pos >= t->hard_end)
		return tp_err_set(err, -ENOSPC, "memory tape: end of medium at object %zu", t->pos);
	size_t at = t->pos;
	if (mem_push(t, buf, len, 0) < 0)
		return tp_err_set(err, -ENOMEM, "memory tape: out of memory");
	return at >= t->early_warning ? TP_TAPE_WRITE_LEOM : TP_TAPE_WRITE_OK;
}

static int mem_write_filemark(void *ctx, tp_err *err)
{
	tp_mem_tape *t = ctx;
	if (mem_push(t, NULL, 0, 1) < 0)
		return tp_err_set(err, -ENOMEM, "memory tape: out of memory");
	return 0;
}

static long mem_read_block(void *ctx, uint8_t *buf, size_t cap, tp_err *err)
{
	tp_mem_tape *t = ctx;
	if (t->pos >= t->n)
		return TP_TAPE_READ_EOD;
	tp_mem_tape_obj *o = &t->objs[t->pos++];
	if (!o->data)
		return TP_TAPE_READ_FILEMARK;
	if (o->len > cap)
		return tp_err_set(err, -EOVERFLOW, "memory tape: block of %zu bytes at object %zu exceeds %zu",
				  o->len, t->pos - 1, cap);
	if (o->len == 0)
		return tp_err_set(err, -EIO, "memory tape: empty block at object %zu", t->pos - 1);
	memcpy(buf, o->data, o->len);
	return (long)o->len;
}

void tp_mem_tape_init(tp_mem_tape *t)
{
	memset(t, 0, sizeof(*t));
	t->io.ctx = t;
	t->io.write_block = mem_write_block;
	t->io.write_filemark = mem_write_filemark;
	t->io.read_block = mem_read_block;
	t->early_warning = SIZE_MAX;
	t->hard_end = SIZE_MAX;
}

void tp_mem_tape_free(tp_mem_tape *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->objs[i].data);
	free(t->objs);
	t->objs = NULL;
	t->n = t->cap = t->pos = 0;
}

int tp_mem_tape_seek_file(tp_mem_tape *t, uint64_t file)
{
	size_t i = 0;
	for (uint64_t f = 0; f < file; i++) {
		if (i >= t->n)
			return -ESPIPE;
		if (!t->objs[i].data)
			f++;
	}
	t->pos = i;
	return 0;
}

int tp_mem_tape_seek_block(tp_mem_tape *t, uint64_t file, uint64_t block)
{
	int r = tp_mem_tape_seek_file(t, file);
	if (r < 0)
		return r;
	size_t i = t->pos;
	for (uint64_t b = 0; b < block; b++, i++)
		if (i >= t->n || !t->objs[i].data)
			return -ESPIPE;
	t->pos = i;
	return 0;
}

size_t tp_mem_tape_filemarks(const tp_mem_tape *t)
{
	size_t c = 0;
	for (size_t i = 0; i < t->n; i++)
		if (!t->objs[i].data)
			c++;
	return c;
}

/* Next script byte (0 past the end). */
static uint8_t sb(const uint8_t *s, size_t len, size_t *pos)
{
	return *pos < len ? s[(*pos)++] : 0;
}

int tp_mem_tape_from_script(tp_mem_tape *t, const uint8_t *script, size_t len)
{
	size_t pos = 0;
	uint32_t seq = 0;
	uint8_t *blk = calloc(1, TP_TAPE_BLOCK_SIZE);
	if (!blk)
		return -ENOMEM;
	int r = 0;
	t->pos = t->n;
	for (int objs = 0; r == 0 && pos < len && objs < 32; objs++) {
		uint8_t c = sb(script, len, &pos);
		size_t n, k;
		memset(blk, 0, TP_TAPE_BLOCK_SIZE);
		switch (c & 3) {
		case 0:
			r = mem_push(t, NULL, 0, 1);
			seq = 0;
			continue;
		case 1:
			n = sb(script, len, &pos);
			n |= (size_t)sb(script, len, &pos) << 8;
			k = n < len - pos ? n : len - pos;
			memcpy(blk, script + pos, k);
			pos += k;
			r = mem_push(t, blk, n ? n : 1, 0);
			continue;
		case 2: {
			uint8_t flags = sb(script, len, &pos);
			n = sb(script, len, &pos);
			n |= (size_t)sb(script, len, &pos) << 8;
			if (c & 4)
				seq++;
			tp_tape_block_header_encode(blk, flags, (uint32_t)n, seq++);
			break;
		}
		default:
			for (int i = 0; i < 16; i++)
				blk[i] = sb(script, len, &pos);
			n = sb(script, len, &pos);
			n |= (size_t)sb(script, len, &pos) << 8;
			break;
		}
		k = n < len - pos ? n : len - pos;
		memcpy(blk + TP_TAPE_BLOCK_HEADER_SIZE, script + pos, k);
		pos += k;
		r = mem_push(t, blk, TP_TAPE_BLOCK_SIZE, 0);
	}
	free(blk);
	t->pos = 0;
	return r;
}
