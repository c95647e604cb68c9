/* SCSI transport over the Linux SCSI generic driver (SG_IO on /dev/sgN). */
#include "tape/scsi_transport.h"

#include <fcntl.h>
#include <limits.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Host status codes of the SCSI midlayer that matter here. */
#define SG_DID_OK 0x00
#define SG_DID_NO_CONNECT 0x01
#define SG_DID_BUS_BUSY 0x02
#define SG_DID_TIME_OUT 0x03
#define SG_DRIVER_TIMEOUT 0x06

typedef struct sg_handle {
	int fd;
	char path[256];
} sg_handle;

static int sg_open(const char *path, void **h, tp_err *err)
{
	*h = NULL;
	/* O_NONBLOCK keeps open from waiting for the device; it is cleared again so that SG_IO blocks. */
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return tp_err_errno(err, "open SCSI generic device %s", path);
	int rc = 0;
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
		rc = tp_err_errno(err, "%s: clear O_NONBLOCK", path);
		goto fail;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		rc = tp_err_errno(err, "stat %s", path);
		goto fail;
	}
	int version = 0;
	if (!S_ISCHR(st.st_mode) || ioctl(fd, SG_GET_VERSION_NUM, &version) < 0 || version < 30000) {
		rc = tp_err_set(err, -ENOTTY, "%s is not a SCSI generic (sg) device; use /dev/sgN or /dev/tape/by-id/*-sg",
				path);
		goto fail;
	}
	sg_handle *s = calloc(1, sizeof(*s));
	if (!s) {
		rc = tp_err_set(err, -ENOMEM, "%s: out of memory", path);
		goto fail;
	}
	s->fd = fd;
	snprintf(s->path, sizeof(s->path), "%s", path);
	*h = s;
	return 0;
fail:
	close(fd);
	return rc;
}

static int sg_execute(void *h, const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len,
		      unsigned timeout_ms, tp_scsi_result *res, tp_err *err)
{
	sg_handle *s = h;
	if (len > UINT_MAX)
		return tp_err_set(err, -EINVAL, "%s: transfer of %zu bytes is too large for SG_IO", s->path, len);
	uint8_t cdb_copy[16];
	memcpy(cdb_copy, cdb, cdb_len);
	struct sg_io_hdr io;
	memset(&io, 0, sizeof(io));
	io.interface_id = 'S';
	io.cmd_len = (unsigned char)cdb_len;
	io.cmdp = cdb_copy;
	io.mx_sb_len = TP_SCSI_SENSE_MAX;
	io.sbp = res->sense;
	io.dxfer_len = (unsigned)len;
	io.dxferp = len ? buf : NULL;
	io.dxfer_direction = len == 0 ? SG_DXFER_NONE : dir == TP_SCSI_DIR_IN ? SG_DXFER_FROM_DEV : SG_DXFER_TO_DEV;
	io.timeout = timeout_ms;
	if (ioctl(s->fd, SG_IO, &io) < 0)
		return tp_err_errno(err, "%s: SG_IO", s->path);
	res->sense_len = io.sb_len_wr <= TP_SCSI_SENSE_MAX ? io.sb_len_wr : TP_SCSI_SENSE_MAX;
	res->status = io.status;
	size_t resid = io.resid > 0 && (size_t)io.resid <= len ? (size_t)io.resid : 0;
	res->residual = resid;
	res->transferred = len - resid;
	if (io.host_status == SG_DID_TIME_OUT || (io.driver_status & 0x0f) == SG_DRIVER_TIMEOUT)
		return tp_err_set(err, -ETIMEDOUT, "%s: command 0x%02x timed out after %u ms", s->path, cdb[0],
				  timeout_ms);
	if (io.host_status != SG_DID_OK)
		return tp_err_set(err, io.host_status == SG_DID_BUS_BUSY ? -EBUSY : -EIO,
				  "%s: command 0x%02x failed in the host adapter (host status 0x%02x)", s->path, cdb[0],
				  io.host_status);
	/* A CHECK CONDITION without status but with sense (old drivers) is still a CHECK CONDITION. */
	if (res->status == 0 && res->sense_len > 0 && (io.driver_status & 0x08))
		res->status = TP_SCSI_STATUS_CHECK_CONDITION;
	return 0;
}

static void sg_close(void *h)
{
	sg_handle *s = h;
	if (!s)
		return;
	close(s->fd);
	free(s);
}

const tp_scsi_transport_ops tp_scsi_transport_sg = {
	.name = "sg",
	.open = sg_open,
	.execute = sg_execute,
	.close = sg_close,
};
