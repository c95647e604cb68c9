/* Discovery of SCSI tape drives and changers (see scsi_scan.h). */
#include "tape/scsi_scan.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "tape/scsi_cdb.h"
#include "tape/scsi_transport.h"

#define MAX_SG 4096

const char *tp_scsi_type_name(uint8_t type)
{
	switch (type) {
	case TP_PDT_TAPE: return "tape";
	case TP_PDT_CHANGER: return "changer";
	default: return "other";
	}
}

/* Reads a small sysfs attribute into out without the trailing newline/blanks; "" if missing. */
static void read_attr(const char *dir, const char *name, char *out, size_t cap)
{
	out[0] = 0;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	size_t n = fread(out, 1, cap - 1, f);
	fclose(f);
	out[n] = 0;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' ' || out[n - 1] == 0))
		out[--n] = 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
}

static int sg_number(const char *name)
{
	if (strncmp(name, "sg", 2) != 0 || name[2] == 0)
		return -1;
	long v = 0;
	for (const char *p = name + 2; *p; p++) {
		if (*p < '0' || *p > '9' || v > 100000)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return (int)v;
}

static int cmp_entry(const void *a, const void *b)
{
	return sg_number(((const tp_scsi_scan_entry *)a)->name) - sg_number(((const tp_scsi_scan_entry *)b)->name);
}

static void serial_from_sysfs(const char *devdir, char *serial, size_t cap)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/vpd_pg80", devdir);
	tp_buf b = TP_BUF_INIT;
	if (tp_read_file(path, &b, 4096, NULL) == 0)
		tp_vpd_serial_parse(b.data, b.len, serial, cap, NULL);
	tp_buf_free(&b);
}

static void serial_from_device(const char *path, char *serial, size_t cap)
{
	void *h = NULL;
	if (tp_scsi_transport_sg.open(path, &h, NULL) < 0)
		return;
	tp_cdb c;
	uint8_t buf[256];
	tp_scsi_result res;
	if (tp_cdb_inquiry(&c, 1, 0x80, sizeof(buf), NULL) == 0 &&
	    tp_scsi_transport_sg.execute(h, c.b, c.len, c.dir, buf, sizeof(buf), 10000, &res, NULL) == 0 &&
	    res.status == TP_SCSI_STATUS_GOOD)
		tp_vpd_serial_parse(buf, res.transferred, serial, cap, NULL);
	tp_scsi_transport_sg.close(h);
}

int tp_scsi_scan(const char *sysfs_root, const char *dev_root, int query_devices, tp_scsi_scan_entry **out,
		 size_t *n, tp_err *err)
{
	*out = NULL;
	*n = 0;
	if (!sysfs_root)
		sysfs_root = "/sys";
	if (!dev_root)
		dev_root = "/dev";
	char classdir[PATH_MAX];
	snprintf(classdir, sizeof(classdir), "%s/class/scsi_generic", sysfs_root);
	DIR *d = opendir(classdir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return tp_err_errno(err, "list SCSI generic devices in %s", classdir);
	}
	tp_scsi_scan_entry *list = NULL;
	size_t cnt = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (sg_number(de->d_name) < 0)
			continue;
		char devdir[PATH_MAX], text[64];
		snprintf(devdir, sizeof(devdir), "%s/%s/device", classdir, de->d_name);
		read_attr(devdir, "type", text, sizeof(text));
		char *end;
		long type = strtol(text, &end, 10);
		if (text[0] == 0 || *end != 0 || (type != TP_PDT_TAPE && type != TP_PDT_CHANGER))
			continue;
		if (cnt == MAX_SG) {
			rc = tp_err_set(err, -E2BIG, "%s: more than %d SCSI generic devices", classdir, MAX_SG);
			goto out;
		}
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			tp_scsi_scan_entry *nl = realloc(list, ncap * sizeof(*nl));
			if (!nl) {
				rc = tp_err_set(err, -ENOMEM, "scan %s: out of memory", classdir);
				goto out;
			}
			list = nl;
			cap = ncap;
		}
		tp_scsi_scan_entry *e = &list[cnt++];
		memset(e, 0, sizeof(*e));
		snprintf(e->name, sizeof(e->name), "%s", de->d_name);
		snprintf(e->path, sizeof(e->path), "%s/%s", dev_root, de->d_name);
		e->type = (uint8_t)type;
		read_attr(devdir, "vendor", e->vendor, sizeof(e->vendor));
		read_attr(devdir, "model", e->model, sizeof(e->model));
		read_attr(devdir, "rev", e->revision, sizeof(e->revision));
		char link[PATH_MAX];
		ssize_t ll = readlink(devdir, link, sizeof(link) - 1);
		if (ll > 0) {
			link[ll] = 0;
			const char *base = strrchr(link, '/');
			snprintf(e->hctl, sizeof(e->hctl), "%s", base ? base + 1 : link);
		}
		serial_from_sysfs(devdir, e->serial, sizeof(e->serial));
		if (!e->serial[0] && query_devices)
			serial_from_device(e->path, e->serial, sizeof(e->serial));
	}
	if (cnt > 1)
		qsort(list, cnt, sizeof(*list), cmp_entry);
	*out = list;
	*n = cnt;
	list = NULL;
out:
	closedir(d);
	free(list);
	return rc;
}
