/* SCSI transport registry and the generic run-a-CDB helper (see scsi_transport.h). */
#include "tape/scsi_transport.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXTRA 8

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char prefix[64];
	const tp_scsi_transport_ops *ops;
} extra[MAX_EXTRA];
static size_t n_extra;

int tp_scsi_transport_register(const char *prefix, const tp_scsi_transport_ops *ops, tp_err *err)
{
	if (!prefix || !*prefix || strlen(prefix) >= sizeof(extra[0].prefix))
		return tp_err_set(err, -EINVAL, "SCSI transport registration: prefix must be 1..63 characters");
	if (!ops || !ops->name || !ops->open || !ops->execute || !ops->close)
		return tp_err_set(err, -EINVAL, "SCSI transport registration for '%s': incomplete ops table", prefix);
	int rc = 0;
	pthread_mutex_lock(&reg_lock);
	size_t i;
	for (i = 0; i < n_extra; i++)
		if (strcmp(extra[i].prefix, prefix) == 0)
			break;
	if (i == n_extra) {
		if (n_extra == MAX_EXTRA) {
			rc = tp_err_set(err, -ENOSPC, "SCSI transport registration for '%s': all %d slots in use", prefix,
					MAX_EXTRA);
			goto out;
		}
		n_extra++;
	}
	snprintf(extra[i].prefix, sizeof(extra[i].prefix), "%s", prefix);
	extra[i].ops = ops;
out:
	pthread_mutex_unlock(&reg_lock);
	return rc;
}

const tp_scsi_transport_ops *tp_scsi_transport_for_path(const char *path)
{
	if (!path)
		return NULL;
	const tp_scsi_transport_ops *found = NULL;
	size_t best = 0;
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < n_extra; i++) {
		size_t l = strlen(extra[i].prefix);
		if (l > best && strncmp(path, extra[i].prefix, l) == 0) {
			found = extra[i].ops;
			best = l;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	if (found)
		return found;
	if (strncmp(path, "/dev/", 5) == 0)
		return &tp_scsi_transport_sg;
	if (strncmp(path, "iscsi://", 8) == 0)
		return &tp_scsi_transport_iscsi;
	return NULL;
}

int tp_scsi_open(const char *path, tp_scsi_dev **out, tp_err *err)
{
	*out = NULL;
	if (!path || !*path)
		return tp_err_set(err, -EINVAL, "SCSI device: empty path");
	if (strlen(path) >= sizeof(((tp_scsi_dev *)0)->path))
		return tp_err_set(err, -ENAMETOOLONG, "SCSI device path too long (%zu characters)", strlen(path));
	const tp_scsi_transport_ops *ops = tp_scsi_transport_for_path(path);
	if (!ops)
		return tp_err_set(err, -EINVAL, "SCSI device '%s': unknown transport (expected /dev/... or iscsi://...)",
				  path);
	tp_scsi_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return tp_err_set(err, -ENOMEM, "SCSI device '%s': out of memory", path);
	snprintf(d->path, sizeof(d->path), "%s", path);
	d->ops = ops;
	d->default_timeout_ms = 60000;
	int rc = ops->open(path, &d->h, err);
	if (rc < 0) {
		free(d);
		return rc;
	}
	*out = d;
	return 0;
}

void tp_scsi_close(tp_scsi_dev *d)
{
	if (!d)
		return;
	d->ops->close(d->h);
	free(d);
}

int tp_scsi_execute(tp_scsi_dev *d, const uint8_t *cdb, size_t cdb_len, int dir, uint8_t *buf, size_t len,
		    unsigned timeout_ms, tp_scsi_result *res, tp_err *err)
{
	if (cdb_len == 0 || cdb_len > 16)
		return tp_err_set(err, -EINVAL, "%s: CDB length %zu is not 1..16", d->path, cdb_len);
	if (dir != TP_SCSI_DIR_NONE && dir != TP_SCSI_DIR_IN && dir != TP_SCSI_DIR_OUT)
		return tp_err_set(err, -EINVAL, "%s: data direction %d", d->path, dir);
	if (dir == TP_SCSI_DIR_NONE)
		len = 0;
	if (len && !buf)
		return tp_err_set(err, -EINVAL, "%s: %zu-byte transfer without a buffer", d->path, len);
	memset(res, 0, sizeof(*res));
	return d->ops->execute(d->h, cdb, cdb_len, dir, buf, len, timeout_ms ? timeout_ms : d->default_timeout_ms, res,
			       err);
}

const char *tp_scsi_status_name(uint8_t status)
{
	switch (status) {
	case TP_SCSI_STATUS_GOOD: return "GOOD";
	case TP_SCSI_STATUS_CHECK_CONDITION: return "CHECK CONDITION";
	case 0x04: return "CONDITION MET";
	case TP_SCSI_STATUS_BUSY: return "BUSY";
	case TP_SCSI_STATUS_RESERVATION_CONFLICT: return "RESERVATION CONFLICT";
	case TP_SCSI_STATUS_TASK_SET_FULL: return "TASK SET FULL";
	case 0x30: return "ACA ACTIVE";
	case TP_SCSI_STATUS_TASK_ABORTED: return "TASK ABORTED";
	default: return "unknown status";
	}
}

int tp_scsi_run(tp_scsi_dev *d, const tp_cdb *cdb, uint8_t *buf, size_t len, unsigned timeout_ms,
		tp_scsi_result *res, tp_sense *sense, enum tp_sense_class *cls, tp_err *err)
{
	tp_scsi_result lres;
	tp_sense lsense;
	if (!res)
		res = &lres;
	if (!sense)
		sense = &lsense;
	memset(sense, 0, sizeof(*sense));
	if (cls)
		*cls = TP_SENSE_OK;
	const char *name = cdb->name ? cdb->name : "SCSI command";
	int rc = tp_scsi_execute(d, cdb->b, cdb->len, cdb->dir, buf, len, timeout_ms, res, err);
	if (rc < 0)
		return tp_err_wrap(err, rc, "%s on %s", name, d->path);
	switch (res->status) {
	case TP_SCSI_STATUS_GOOD:
	case 0x04: /* CONDITION MET */
		return 0;
	case TP_SCSI_STATUS_CHECK_CONDITION:
		break;
	case TP_SCSI_STATUS_BUSY:
	case TP_SCSI_STATUS_TASK_SET_FULL:
		if (cls)
			*cls = TP_SENSE_ABORTED;
		return tp_err_set(err, -EBUSY, "%s on %s: status %s", name, d->path, tp_scsi_status_name(res->status));
	default:
		if (cls)
			*cls = TP_SENSE_OTHER;
		return tp_err_set(err, -EIO, "%s on %s: status 0x%02x (%s)", name, d->path, res->status,
				  tp_scsi_status_name(res->status));
	}
	tp_err perr = { 0 };
	if (tp_sense_parse(res->sense, res->sense_len, sense, &perr) < 0) {
		if (cls)
			*cls = TP_SENSE_OTHER;
		return tp_err_set(err, -EIO, "%s on %s: CHECK CONDITION with unusable sense data: %s", name, d->path,
				  perr.msg);
	}
	if (cls)
		*cls = tp_sense_classify(sense);
	char text[200];
	return tp_err_set(err, -EIO, "%s on %s: %s", name, d->path, tp_sense_describe(sense, text, sizeof(text)));
}
