/* The block-device interface that tape stream encoders/decoders run on. */
#ifndef TAPIR_FORMAT_TAPE_IO_H
#define TAPIR_FORMAT_TAPE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define TP_TAPE_BLOCK_SIZE 262144u          /* every block written or read */
#define TP_TAPE_BLOCK_HEADER_SIZE 16u
#define TP_TAPE_BLOCK_PAYLOAD (TP_TAPE_BLOCK_SIZE - TP_TAPE_BLOCK_HEADER_SIZE)

/* Results of tp_tape_io.read_block besides a positive byte count. */
enum {
	TP_TAPE_READ_FILEMARK = 0,  /* a filemark was read (position is after it) */
	TP_TAPE_READ_EOD = -1,      /* end of recorded data: nothing more on the tape */
};

/* Results of tp_tape_io.write_block besides negative errors. */
enum {
	TP_TAPE_WRITE_OK = 0,
	TP_TAPE_WRITE_LEOM = 1,     /* written, but the early-warning zone is reached */
};

/*
 * What the format layer needs from a drive; the tape layer implements it over
 * its drive ops table (virtual, LTO).  All calls are synchronous.
 *
 * write_block:    write len bytes as one block.  Returns TP_TAPE_WRITE_OK,
 *                 TP_TAPE_WRITE_LEOM (block written, early warning), or a
 *                 negative code: -ENOSPC means the physical end was hit and
 *                 the block was NOT written.
 * write_filemark: write one filemark (ends the current tape file).
 * read_block:     read the next block into buf (cap bytes).  Returns the
 *                 number of bytes of the block (> 0; a block longer than cap
 *                 is an error -EOVERFLOW, the position is after it anyway),
 *                 TP_TAPE_READ_FILEMARK, TP_TAPE_READ_EOD (-1 is not an
 *                 error code here: real errors are <= -2, e.g. -EIO).
 */
typedef struct tp_tape_io {
	void *ctx;
	int (*write_block)(void *ctx, const uint8_t *buf, size_t len, tp_err *err);
	int (*write_filemark)(void *ctx, tp_err *err);
	long (*read_block)(void *ctx, uint8_t *buf, size_t cap, tp_err *err);
} tp_tape_io;

#endif
