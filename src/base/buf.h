/* Growable byte buffer. */
#ifndef TAPIR_BASE_BUF_H
#define TAPIR_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

/* A buffer owns data (malloc'd); tp_buf_free releases it.  len <= cap. */
typedef struct tp_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
} tp_buf;

#define TP_BUF_INIT { NULL, 0, 0 }

int tp_buf_reserve(tp_buf *b, size_t extra);      /* ensures cap >= len + extra; -ENOMEM */
int tp_buf_append(tp_buf *b, const void *p, size_t n);
int tp_buf_append_u8(tp_buf *b, uint8_t v);
int tp_buf_append_le16(tp_buf *b, uint16_t v);
int tp_buf_append_le32(tp_buf *b, uint32_t v);
int tp_buf_append_le64(tp_buf *b, uint64_t v);
int tp_buf_append_zeros(tp_buf *b, size_t n);
int tp_buf_printf(tp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tp_buf_append_str(tp_buf *b, const char *s);   /* without NUL */
/* Ensures a NUL after len (not counted in len) and returns data as a C string. */
const char *tp_buf_cstr(tp_buf *b);
void tp_buf_reset(tp_buf *b);                       /* len = 0, keeps memory */
void tp_buf_free(tp_buf *b);
/* Hands data to the caller (who frees it) and resets b. */
uint8_t *tp_buf_steal(tp_buf *b, size_t *len);

/* Little-endian loads/stores on raw memory. */
static inline uint16_t tp_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t tp_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tp_le64(const uint8_t *p) { return (uint64_t)tp_le32(p) | (uint64_t)tp_le32(p + 4) << 32; }
static inline void tp_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void tp_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void tp_put_le64(uint8_t *p, uint64_t v) { tp_put_le32(p, (uint32_t)v); tp_put_le32(p + 4, (uint32_t)(v >> 32)); }
static inline uint32_t tp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint64_t tp_be64(const uint8_t *p) { return (uint64_t)tp_be32(p) << 32 | tp_be32(p + 4); }
static inline uint16_t tp_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void tp_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tp_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void tp_put_be64(uint8_t *p, uint64_t v) { tp_put_be32(p, (uint32_t)(v >> 32)); tp_put_be32(p + 4, (uint32_t)v); }

#endif
