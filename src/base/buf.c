/* Growable byte buffer (see buf.h). */
#include "base/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tp_buf_reserve(tp_buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		return -ENOMEM;
	size_t need = b->len + extra + 1; /* room for a NUL in tp_buf_cstr */
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int tp_buf_append(tp_buf *b, const void *p, size_t n)
{
	int r = tp_buf_reserve(b, n);
	if (r < 0)
		return r;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int tp_buf_append_u8(tp_buf *b, uint8_t v) { return tp_buf_append(b, &v, 1); }

int tp_buf_append_le16(tp_buf *b, uint16_t v)
{
	uint8_t t[2];
	tp_put_le16(t, v);
	return tp_buf_append(b, t, 2);
}

int tp_buf_append_le32(tp_buf *b, uint32_t v)
{
	uint8_t t[4];
	tp_put_le32(t, v);
	return tp_buf_append(b, t, 4);
}

int tp_buf_append_le64(tp_buf *b, uint64_t v)
{
	uint8_t t[8];
	tp_put_le64(t, v);
	return tp_buf_append(b, t, 8);
}

int tp_buf_append_zeros(tp_buf *b, size_t n)
{
	int r = tp_buf_reserve(b, n);
	if (r < 0)
		return r;
	memset(b->data + b->len, 0, n);
	b->len += n;
	return 0;
}

int tp_buf_append_str(tp_buf *b, const char *s) { return tp_buf_append(b, s, strlen(s)); }

int tp_buf_printf(tp_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	int r = n < 0 ? -EINVAL : tp_buf_reserve(b, (size_t)n);
	if (r == 0) {
		vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
	return r;
}

const char *tp_buf_cstr(tp_buf *b)
{
	if (tp_buf_reserve(b, 0) < 0)
		return "";
	b->data[b->len] = 0;
	return (const char *)b->data;
}

void tp_buf_reset(tp_buf *b) { b->len = 0; }

void tp_buf_free(tp_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *tp_buf_steal(tp_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
