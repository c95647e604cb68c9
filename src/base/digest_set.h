/* Open-addressing hash set (optionally map to a u64) of 32-byte digests. */
#ifndef TAPIR_BASE_DIGEST_SET_H
#define TAPIR_BASE_DIGEST_SET_H

#include <stddef.h>
#include <stdint.h>

/*
 * Keys are SHA-256 digests, so their first bytes are already uniformly
 * distributed and serve as the hash.  Each entry carries a u64 value for
 * callers that need a map (e.g. digest -> index of the snapshots using it).
 */
typedef struct tp_digest_set {
	uint8_t *keys;     /* cap * 32 bytes */
	uint64_t *vals;    /* cap values */
	uint8_t *used;     /* cap flags */
	size_t cap, n;
} tp_digest_set;

#define TP_DIGEST_SET_INIT { NULL, NULL, NULL, 0, 0 }

/* Inserts d; returns 1 if newly added, 0 if present, -ENOMEM. val stored on insert only. */
int tp_digest_set_add(tp_digest_set *s, const uint8_t d[32], uint64_t val);
/* 1 if present (and *val filled when non-NULL), else 0. */
int tp_digest_set_get(const tp_digest_set *s, const uint8_t d[32], uint64_t *val);
/* Pointer to the stored value of d, or NULL. */
uint64_t *tp_digest_set_ref(tp_digest_set *s, const uint8_t d[32]);
static inline int tp_digest_set_has(const tp_digest_set *s, const uint8_t d[32]) { return tp_digest_set_get(s, d, NULL); }
/* Iterates: pos starts at 0; returns the next used slot's key or NULL at the end. */
const uint8_t *tp_digest_set_next(const tp_digest_set *s, size_t *pos, uint64_t *val);
void tp_digest_set_free(tp_digest_set *s);

#endif
