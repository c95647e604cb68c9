/* Hex encoding of digests and raw bytes. */
#ifndef TAPIR_BASE_HEX_H
#define TAPIR_BASE_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Writes 2*n lowercase hex chars plus NUL into out (size >= 2n+1). */
void tp_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parses exactly 2*n hex chars (either case) into out; -EINVAL if malformed. */
int tp_hex_decode(const char *in, uint8_t *out, size_t n);
/* "aa:bb:..." fingerprint form (3n chars incl. NUL). */
void tp_hex_colons(const uint8_t *in, size_t n, char *out);

#endif
