/* SCSI transport over iSCSI with libiscsi: iscsi://HOST[:PORT]/IQN/LUN, one session per opened LUN. */
#include "tape/scsi_transport.h"

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"

#define ISCSI_DEFAULT_PORT 3260
#define ISCSI_INITIATOR "iqn.2026-01.org.tapir:client"
#define LOGIN_TIMEOUT_S 30

/* Completion state lives in the handle, not on a stack, so a late libiscsi callback never hits a dead frame. */
typedef struct iscsi_handle {
	struct iscsi_context *ctx;
	int lun;
	char portal[300];
	char target[224];
	int finished;
	int status;
	int broken;                 /* the event loop failed: the session is unusable */
	struct scsi_task *stuck;    /* a task libiscsi still owns; freed after the context */
} iscsi_handle;

/* Splits iscsi://HOST[:PORT]/IQN/LUN; host may be [v6]. */
static int parse_url(const char *url, iscsi_handle *h, tp_err *err)
{
	const char *p = url + strlen("iscsi://");
	const char *slash = strchr(p, '/');
	if (!slash || slash == p)
		return tp_err_set(err, -EINVAL, "iSCSI URL '%s': expected iscsi://HOST[:PORT]/IQN/LUN", url);
	char host[256];
	size_t hl = (size_t)(slash - p);
	if (hl >= sizeof(host))
		return tp_err_set(err, -EINVAL, "iSCSI URL '%s': host part too long", url);
	memcpy(host, p, hl);
	host[hl] = 0;
	long port = ISCSI_DEFAULT_PORT;
	char *colon = NULL;
	if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (!close)
			return tp_err_set(err, -EINVAL, "iSCSI URL '%s': unterminated [IPv6] host", url);
		if (close[1] == ':')
			colon = close + 1;
		else if (close[1] != 0)
			return tp_err_set(err, -EINVAL, "iSCSI URL '%s': junk after ]", url);
	} else {
		colon = strchr(host, ':');
	}
	if (colon) {
		char *end;
		port = strtol(colon + 1, &end, 10);
		if (colon[1] == 0 || *end != 0 || port < 1 || port > 65535)
			return tp_err_set(err, -EINVAL, "iSCSI URL '%s': port '%s' is not 1..65535", url, colon + 1);
		*colon = 0;
	}
	if (host[0] == 0 || strcmp(host, "[]") == 0)
		return tp_err_set(err, -EINVAL, "iSCSI URL '%s': empty host", url);
	snprintf(h->portal, sizeof(h->portal), "%s:%ld", host, port);

	const char *iqn = slash + 1;
	const char *slash2 = strchr(iqn, '/');
	if (!slash2 || slash2 == iqn)
		return tp_err_set(err, -EINVAL, "iSCSI URL '%s': missing target IQN or LUN (iscsi://HOST[:PORT]/IQN/LUN)",
				  url);
	size_t il = (size_t)(slash2 - iqn);
	if (il >= sizeof(h->target))
		return tp_err_set(err, -EINVAL, "iSCSI URL '%s': target name longer than 223 characters", url);
	memcpy(h->target, iqn, il);
	h->target[il] = 0;
	const char *lun = slash2 + 1;
	char *end;
	long l = strtol(lun, &end, 10);
	if (*lun < '0' || *lun > '9' || *end != 0 || l < 0 || l > 16383)
		return tp_err_set(err, -EINVAL, "iSCSI URL '%s': LUN '%s' is not a number 0..16383", url, lun);
	h->lun = (int)l;
	return 0;
}

static void free_handle(iscsi_handle *h)
{
	if (!h)
		return;
	if (h->ctx) {
		if (!h->broken && iscsi_is_logged_in(h->ctx))
			iscsi_logout_sync(h->ctx);
		iscsi_destroy_context(h->ctx);
	}
	if (h->stuck)
		scsi_free_scsi_task(h->stuck);
	free(h);
}

static int iscsi_open(const char *path, void **hp, tp_err *err)
{
	*hp = NULL;
	iscsi_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return tp_err_set(err, -ENOMEM, "%s: out of memory", path);
	int rc = parse_url(path, h, err);
	if (rc < 0)
		goto fail;
	const char *initiator = getenv("TAPIR_ISCSI_INITIATOR");
	h->ctx = iscsi_create_context(initiator && *initiator ? initiator : ISCSI_INITIATOR);
	if (!h->ctx) {
		rc = tp_err_set(err, -ENOMEM, "%s: cannot create iSCSI context", path);
		goto fail;
	}
	if (iscsi_set_targetname(h->ctx, h->target) != 0 || iscsi_set_session_type(h->ctx, ISCSI_SESSION_NORMAL) != 0 ||
	    iscsi_set_header_digest(h->ctx, ISCSI_HEADER_DIGEST_NONE_CRC32C) != 0) {
		rc = tp_err_set(err, -EINVAL, "%s: iSCSI session setup: %s", path, iscsi_get_error(h->ctx));
		goto fail;
	}
	iscsi_set_timeout(h->ctx, LOGIN_TIMEOUT_S);
	if (iscsi_full_connect_sync(h->ctx, h->portal, h->lun) != 0) {
		rc = tp_err_set(err, -EIO, "%s: iSCSI login to %s at %s failed: %s", path, h->target, h->portal,
				iscsi_get_error(h->ctx));
		goto fail;
	}
	*hp = h;
	return 0;
fail:
	h->broken = 1;
	free_handle(h);
	return rc;
}

static void command_done(struct iscsi_context *ctx, int status, void *command_data, void *private_data)
{
	iscsi_handle *h = private_data;
	(void)ctx;
	(void)command_data;
	h->status = status;
	h->finished = 1;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits for command_done.  libiscsi only checks its PDU timeouts inside
 * iscsi_service, so the loop also calls it when poll times out; our own
 * deadline (libiscsi's plus a margin) ends a wait on a stalled session.
 */
static int wait_done(iscsi_handle *h, unsigned timeout_ms, tp_err *err)
{
	long long deadline = now_ms() + (long long)timeout_ms + 5000;
	while (!h->finished) {
		struct pollfd pfd = { .fd = iscsi_get_fd(h->ctx), .events = (short)iscsi_which_events(h->ctx) };
		int n = poll(&pfd, 1, 250);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			h->broken = 1;
			return tp_err_errno(err, "iSCSI %s: poll", h->target);
		}
		if (iscsi_service(h->ctx, n > 0 ? pfd.revents : 0) < 0) {
			h->broken = 1;
			return tp_err_set(err, -EIO, "iSCSI %s at %s: connection failed: %s", h->target, h->portal,
					  iscsi_get_error(h->ctx));
		}
		if (!h->finished && now_ms() > deadline) {
			h->broken = 1;
			return tp_err_set(err, -ETIMEDOUT, "iSCSI %s at %s: no answer within %u ms", h->target, h->portal,
					  timeout_ms);
		}
	}
	return 0;
}

static int iscsi_execute(void *hv, const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len,
			 unsigned timeout_ms, tp_scsi_result *res, tp_err *err)
{
	iscsi_handle *h = hv;
	if (h->broken)
		return tp_err_set(err, -EIO, "iSCSI %s at %s: session is broken after an earlier failure", h->target,
				  h->portal);
	if (len > 0x7fffffff)
		return tp_err_set(err, -EINVAL, "iSCSI %s: transfer of %zu bytes too large", h->target, len);
	uint8_t cdb_copy[16];
	memcpy(cdb_copy, cdb, cdb_len);
	int xfer = len == 0 ? SCSI_XFER_NONE : dir == TP_SCSI_DIR_IN ? SCSI_XFER_READ : SCSI_XFER_WRITE;
	struct scsi_task *t = scsi_create_task((int)cdb_len, cdb_copy, xfer, (int)len);
	if (!t)
		return tp_err_set(err, -ENOMEM, "iSCSI %s: cannot create task", h->target);
	/* Our own iovec: without it the data of a READ ending in CHECK CONDITION is lost. */
	struct scsi_iovec iov = { .iov_base = buf, .iov_len = len };
	if (xfer == SCSI_XFER_READ)
		scsi_task_set_iov_in(t, &iov, 1);
	else if (xfer == SCSI_XFER_WRITE)
		scsi_task_set_iov_out(t, &iov, 1);
	iscsi_set_timeout(h->ctx, (int)((timeout_ms + 999) / 1000));
	h->finished = 0;
	h->status = 0;
	int rc = 0;
	if (iscsi_scsi_command_async(h->ctx, h->lun, t, command_done, NULL, h) != 0) {
		rc = tp_err_set(err, -EIO, "iSCSI %s: sending command 0x%02x failed: %s", h->target, cdb[0],
				iscsi_get_error(h->ctx));
		goto out;
	}
	rc = wait_done(h, timeout_ms, err);
	if (rc < 0) {
		h->stuck = t; /* still queued inside libiscsi */
		return rc;
	}
	switch (h->status) {
	case SCSI_STATUS_TIMEOUT:
		rc = tp_err_set(err, -ETIMEDOUT, "iSCSI %s: command 0x%02x timed out after %u ms", h->target, cdb[0],
				timeout_ms);
		goto out;
	case SCSI_STATUS_ERROR:
	case SCSI_STATUS_CANCELLED:
		rc = tp_err_set(err, -EIO, "iSCSI %s: command 0x%02x failed in the transport: %s", h->target, cdb[0],
				iscsi_get_error(h->ctx));
		goto out;
	default:
		break;
	}
	if (h->status < 0 || h->status > 0xff) {
		rc = tp_err_set(err, -EIO, "iSCSI %s: command 0x%02x ended with transport status 0x%x", h->target, cdb[0],
				(unsigned)h->status);
		goto out;
	}
	res->status = (uint8_t)h->status;
	size_t resid = 0;
	if (t->residual_status == SCSI_RESIDUAL_UNDERFLOW)
		resid = t->residual <= len ? t->residual : len;
	res->residual = resid;
	res->transferred = len - resid;
	if (res->status == TP_SCSI_STATUS_CHECK_CONDITION && t->datain.data && t->datain.size >= 2) {
		/* The sense segment: 2-byte length, then the raw sense bytes. */
		size_t sl = tp_be16(t->datain.data);
		size_t avail = (size_t)t->datain.size - 2;
		if (sl > avail)
			sl = avail;
		if (sl > TP_SCSI_SENSE_MAX)
			sl = TP_SCSI_SENSE_MAX;
		memcpy(res->sense, t->datain.data + 2, sl);
		res->sense_len = sl;
	}
out:
	scsi_free_scsi_task(t);
	return rc;
}

static void iscsi_close(void *hv)
{
	free_handle(hv);
}

const tp_scsi_transport_ops tp_scsi_transport_iscsi = {
	.name = "iscsi",
	.open = iscsi_open,
	.execute = iscsi_execute,
	.close = iscsi_close,
};
