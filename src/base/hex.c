/* Hex encoding (see hex.h). */
#include "base/hex.h"

#include <errno.h>
#include <string.h>

static const char digits[] = "0123456789abcdef";

void tp_hex_encode(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

static int nib(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

int tp_hex_decode(const char *in, uint8_t *out, size_t n)
{
	if (strlen(in) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int h = nib(in[2 * i]), l = nib(in[2 * i + 1]);
		if (h < 0 || l < 0)
			return -EINVAL;
		out[i] = (uint8_t)(h << 4 | l);
	}
	return 0;
}

void tp_hex_colons(const uint8_t *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[3 * i] = digits[in[i] >> 4];
		out[3 * i + 1] = digits[in[i] & 15];
		out[3 * i + 2] = i + 1 < n ? ':' : 0;
	}
	if (n == 0)
		out[0] = 0;
}
