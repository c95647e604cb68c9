/* tp_tape_io adapter over an open drive, so the format layer's stream codecs run on any backend. */
#include "tape/drive.h"

static int io_write_block(void *ctx, const uint8_t *buf, size_t len, tp_err *err)
{
	return tp_drive_write_block(ctx, buf, len, err);
}

static int io_write_filemark(void *ctx, tp_err *err)
{
	return tp_drive_write_filemarks(ctx, 1, err);
}

static long io_read_block(void *ctx, uint8_t *buf, size_t cap, tp_err *err)
{
	return tp_drive_read_block(ctx, buf, cap, err);
}

void tp_drive_tape_io(tp_drive *d, tp_tape_io *io)
{
	io->ctx = d;
	io->write_block = io_write_block;
	io->write_filemark = io_write_filemark;
	io->read_block = io_read_block;
}
