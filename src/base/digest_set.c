/* Hash set of digests (see digest_set.h). */
#include "base/digest_set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t slot_of(const uint8_t d[32], size_t cap)
{
	uint64_t h;
	memcpy(&h, d, 8);
	return (size_t)(h & (cap - 1));
}

static size_t find(const tp_digest_set *s, const uint8_t d[32])
{
	size_t i = slot_of(d, s->cap);
	while (s->used[i] && memcmp(s->keys + i * 32, d, 32))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int grow(tp_digest_set *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	tp_digest_set n = { calloc(ncap, 32), calloc(ncap, sizeof(uint64_t)), calloc(ncap, 1), ncap, 0 };
	if (!n.keys || !n.vals || !n.used) {
		tp_digest_set_free(&n);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->used[i])
			continue;
		size_t j = find(&n, s->keys + i * 32);
		memcpy(n.keys + j * 32, s->keys + i * 32, 32);
		n.vals[j] = s->vals[i];
		n.used[j] = 1;
		n.n++;
	}
	tp_digest_set_free(s);
	*s = n;
	return 0;
}

int tp_digest_set_add(tp_digest_set *s, const uint8_t d[32], uint64_t val)
{
	if ((s->n + 1) * 4 > s->cap * 3 && grow(s) < 0)
		return -ENOMEM;
	size_t i = find(s, d);
	if (s->used[i])
		return 0;
	memcpy(s->keys + i * 32, d, 32);
	s->vals[i] = val;
	s->used[i] = 1;
	s->n++;
	return 1;
}

int tp_digest_set_get(const tp_digest_set *s, const uint8_t d[32], uint64_t *val)
{
	if (!s->cap)
		return 0;
	size_t i = find(s, d);
	if (!s->used[i])
		return 0;
	if (val)
		*val = s->vals[i];
	return 1;
}

uint64_t *tp_digest_set_ref(tp_digest_set *s, const uint8_t d[32])
{
	if (!s->cap)
		return NULL;
	size_t i = find(s, d);
	return s->used[i] ? &s->vals[i] : NULL;
}

const uint8_t *tp_digest_set_next(const tp_digest_set *s, size_t *pos, uint64_t *val)
{
	for (size_t i = *pos; i < s->cap; i++) {
		if (s->used[i]) {
			*pos = i + 1;
			if (val)
				*val = s->vals[i];
			return s->keys + i * 32;
		}
	}
	*pos = s->cap;
	return NULL;
}

void tp_digest_set_free(tp_digest_set *s)
{
	free(s->keys);
	free(s->vals);
	free(s->used);
	memset(s, 0, sizeof(*s));
}
