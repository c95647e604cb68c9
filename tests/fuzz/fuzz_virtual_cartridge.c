/* libFuzzer target: the virtual drive over damaged cartridge files (index and data), then reads, spaces and locates. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "crypto/hash.h"
#include "tape/drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "FZ0001L9"
#define ENT 64 /* index header and entry size (docs/tape-drives.md) */

static char dir[64];
static json_t *conf;
static uint8_t *base_idx, *base_dat;
static size_t base_idx_len, base_dat_len;

static int slurp(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*out = malloc(*len + 1);
	int r = *out && pread(fd, *out, *len, 0) == (ssize_t)*len ? 0 : -1;
	close(fd);
	return r;
}

static int spew(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int r = len == 0 || write(fd, b, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return r;
}

static void remove_dir(void) { tp_rm_rf(dir, NULL); }

/* A real cartridge to damage: three files of blocks of a few sizes, written by the driver itself. */
static int make_base(void)
{
	snprintf(dir, sizeof(dir), "/tmp/tapir-fuzz-vt-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	atexit(remove_dir);
	conf = json_pack("{s:s,s:i}", "path", dir, "lock-timeout-ms", 0);
	tp_drive *d = NULL;
	tp_err e = { 0 };
	static uint8_t blk[70000 + 4];
	for (size_t i = 0; i < sizeof(blk); i++)
		blk[i] = (uint8_t)(i * 131 + (i >> 8));
	if (tp_drive_open("virtual", "fz", conf, &d, &e) < 0 || tp_drive_load(d, LABEL, &e) < 0)
		return -1;
	static const size_t sizes[] = { 512, 70000, 4096, 1, 65536, 300 };
	for (int f = 0; f < 3; f++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (tp_drive_write_block(d, blk + f, sizes[(i + (size_t)f) % 6], &e) < 0)
				return -1;
		if (tp_drive_write_filemarks(d, 1, &e) < 0)
			return -1;
	}
	if (tp_drive_unload(d, &e) < 0)
		return -1;
	tp_drive_close(d);
	char p[128];
	snprintf(p, sizeof(p), "%s/tape-%s.idx", dir, LABEL);
	if (slurp(p, &base_idx, &base_idx_len) < 0)
		return -1;
	snprintf(p, sizeof(p), "%s/tape-%s.dat", dir, LABEL);
	return slurp(p, &base_dat, &base_dat_len);
}

/*
 * Input: a list of 8-byte edits, then the operations.  An edit:
 * [0] 0x00-0x3f index byte, 0x40-0x7f index byte with the entry's CRC
 * made right again (so a wild field gets past the CRC), 0x80-0xbf data
 * byte, 0xc0-0xfe cut (bit 0: index, else data) to offset, 0xff: end of edits;
 * [1..4] offset (LE, modulo the length); [5] value to XOR.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!base_idx && make_base() < 0)
		__builtin_trap();
	uint8_t *idx = malloc(base_idx_len + 1), *dat = malloc(base_dat_len + 1);
	size_t il = base_idx_len, dl = base_dat_len, pos = 0;
	memcpy(idx, base_idx, il);
	memcpy(dat, base_dat, dl);
	while (pos + 8 <= size && data[pos] != 0xff) {
		const uint8_t *c = data + pos;
		uint32_t off = (uint32_t)c[1] | (uint32_t)c[2] << 8 | (uint32_t)c[3] << 16 | (uint32_t)c[4] << 24;
		pos += 8;
		if (c[0] < 0x80) {
			if (!il)
				continue;
			size_t o = off % il;
			idx[o] ^= c[5];
			if (c[0] >= 0x40 && o >= ENT) {
				size_t ent = o - (o - ENT) % ENT;
				if (ent + ENT <= il) {
					uint32_t crc = tp_crc32(0, idx + ent, 60);
					for (int i = 0; i < 4; i++)
						idx[ent + 60 + i] = (uint8_t)(crc >> (8 * i));
				}
			}
		} else if (c[0] < 0xc0) {
			if (dl)
				dat[off % dl] ^= c[5];
		} else if (c[0] & 1) {
			il = il ? off % (il + 1) : 0;
		} else {
			dl = dl ? off % (dl + 1) : 0;
		}
	}
	if (pos < size && data[pos] == 0xff)
		pos++;
	char p[128];
	snprintf(p, sizeof(p), "%s/tape-%s.idx", dir, LABEL);
	if (spew(p, idx, il) < 0)
		__builtin_trap();
	snprintf(p, sizeof(p), "%s/tape-%s.dat", dir, LABEL);
	if (spew(p, dat, dl) < 0)
		__builtin_trap();
	free(idx);
	free(dat);

	tp_drive *d = NULL;
	tp_err e = { 0 };
	if (tp_drive_open("virtual", "fz", conf, &d, &e) < 0)
		__builtin_trap(); /* the drive itself is fine; only the cartridge is damaged */
	if (tp_drive_load(d, LABEL, &e) == 0) {
		static uint8_t buf[70000 + 16];
		for (; pos < size; pos++) {
			uint8_t op = data[pos];
			int64_t arg = (int8_t)(pos + 1 < size ? data[pos + 1] : 0);
			tp_drive_pos dp;
			switch (op % 8) {
			case 0:
			case 1: {
				size_t cap = op & 0x80 ? 1000 : sizeof(buf);
				long n = tp_drive_read_block(d, buf, cap, &e);
				if (n > (long)cap)
					__builtin_trap();
				break;
			}
			case 2: tp_drive_space(d, TP_SPACE_FILEMARKS, arg, &e); pos++; break;
			case 3: tp_drive_space(d, TP_SPACE_BLOCKS, arg, &e); pos++; break;
			case 4: tp_drive_locate(d, (uint64_t)(uint8_t)arg, &e); pos++; break;
			case 5: tp_drive_move_to_file(d, (uint64_t)(uint8_t)arg % 8, &e); pos++; break;
			case 6:
				if (tp_drive_read_position(d, &dp, &e) == 0 && op & 0x80)
					tp_drive_move_to_eod(d, &e);
				break;
			default:
				if (op & 0x80)
					tp_drive_write_block(d, buf, 1 + (size_t)(uint8_t)arg * 200, &e);
				else
					tp_drive_rewind(d, &e);
				pos++;
				break;
			}
		}
		tp_drive_status st;
		tp_drive_get_status(d, &st, &e);
		tp_drive_unload(d, &e);
	}
	tp_drive_close(d);
	return 0;
}
