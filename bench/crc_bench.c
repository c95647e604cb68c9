/* CRC-32 micro-benchmark (by hand, see crc_bench.sh): each tp_crc32 implementation vs zlib's crc32 over cached buffers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "crypto/hash.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* GB/s of fn over len bytes at buf, repeated for about 0.3 s; *out gets the last CRC. */
static double rate(uint32_t (*fn)(uint32_t, const void *, size_t), const uint8_t *buf, size_t len, uint32_t *out)
{
	uint32_t c = 0;
	size_t reps = 0, bytes = 0;
	double t0 = now(), t;
	do {
		for (int i = 0; i < 16; i++, reps++)
			c = fn(0, buf, len);
		bytes = reps * len;
		t = now() - t0;
	} while (t < 0.3);
	*out = c;
	return (double)bytes / t / 1e9;
}

int main(void)
{
	static const size_t lens[] = { 64, 1024, 16384, 262144, 4194304 };
	static const char *const impls[] = { "vpclmulqdq", "pclmul" };
	size_t maxlen = lens[sizeof(lens) / sizeof(lens[0]) - 1];
	uint8_t *buf = malloc(maxlen);
	if (!buf)
		return 1;
	uint64_t s = 88172645463325252ULL;
	for (size_t i = 0; i < maxlen; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		buf[i] = (uint8_t)s;
	}
	const char *dflt = tp_crc32_impl();
	printf("tp_crc32 default implementation: %s (GB/s; speedup over zlib in brackets)\n", dflt);
	printf("%10s %18s %18s %10s\n", "bytes", impls[0], impls[1], "zlib");
	int bad = 0;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t ref, got;
		double z = rate(tp_crc32_zlib, buf, lens[i], &ref);
		printf("%10zu", lens[i]);
		for (size_t k = 0; k < 2; k++) {
			if (tp_crc32_select(impls[k]) < 0) {
				printf(" %18s", "n/a");
				continue;
			}
			double g = rate(tp_crc32, buf, lens[i], &got);
			printf(" %8.2f (%5.1fx)%s", g, g / z, got == ref ? " " : "!");
			bad |= got != ref;
		}
		printf(" %10.2f\n", z);
	}
	tp_crc32_select(dflt);
	if (bad)
		printf("! = CRC differs from zlib's\n");
	free(buf);
	return bad;
}
