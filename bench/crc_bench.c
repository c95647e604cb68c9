/* CRC-32 micro-benchmark (by hand, see crc_bench.sh): tp_crc32 vs zlib's crc32 over cached buffers. */
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
	printf("tp_crc32 implementation: %s\n", tp_crc32_impl());
	printf("%10s %14s %14s %8s\n", "bytes", "tp_crc32 GB/s", "zlib GB/s", "speedup");
	int bad = 0;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t a, b;
		double fast = rate(tp_crc32, buf, lens[i], &a);
		double ref = rate(tp_crc32_zlib, buf, lens[i], &b);
		printf("%10zu %14.2f %14.2f %7.1fx%s\n", lens[i], fast, ref, fast / ref, a == b ? "" : "  MISMATCH");
		bad |= a != b;
	}
	free(buf);
	return bad;
}
