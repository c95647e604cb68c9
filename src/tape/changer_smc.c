/* The `scsi` changer backend: a SCSI media changer (SMC) driven by READ ELEMENT STATUS and MOVE MEDIUM. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json_util.h"
#include "base/lock.h"
#include "base/log.h"
#include "base/paths.h"
#include "tape/changer.h"
#include "tape/drive_diag.h" /* scsi_cdb.h and drive.h without their name clash */
#include "tape/scsi_sense.h"

#define SMC_TIMEOUT_MS 30000u
#define SMC_MOVE_TIMEOUT_MS 600000u  /* a robot move, including a drive unthreading */
#define SMC_MAX_ELEMENTS 4096u
#define SMC_DESC_MAX 128u            /* allocation per element: 12 fixed + 36 primary tag + DVCID */
#define SMC_DEFAULT_CACHE_MS 10000

typedef struct smc_changer {
	char name[TP_DRIVE_NAME_MAX + 1];
	char path[256];
	tp_scsi_dev *dev;
	tp_element_addresses ea;
	int lock_timeout_ms, cache_ms;
	int eject_before_unload;  /* the drive ejects (UNLOAD) before the robot takes its cartridge */
	char **drive_paths;       /* device of drive n (NULL: none configured), from the "drives" key */
	size_t ndrive_paths;
	/* cached element status, kept up to date by this handle's own moves */
	tp_changer_status cache;
	uint16_t *slot_addr, *drive_addr; /* element address by slot index / drive number */
	int cache_valid;
	int64_t cache_time;
} smc_changer;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run(smc_changer *c, const tp_cdb *cdb, uint8_t *buf, size_t len, unsigned timeout, tp_scsi_result *res,
	       tp_sense *s, enum tp_sense_class *cls, tp_err *err)
{
	tp_scsi_result lres;
	tp_sense ls;
	enum tp_sense_class lcls;
	if (!res)
		res = &lres;
	if (!s)
		s = &ls;
	if (!cls)
		cls = &lcls;
	int r = tp_scsi_run(c->dev, cdb, buf, len, timeout, res, s, cls, err);
	if (r == -EIO && *cls == TP_SENSE_UNIT_ATTENTION)
		r = tp_scsi_run(c->dev, cdb, buf, len, timeout, res, s, cls, err);
	return r;
}

/* Serialises robot use among processes: one lock file per device in the run directory. */
static int lock_changer(smc_changer *c, tp_lock *l, tp_err *err)
{
	char name[300];
	size_t j = (size_t)snprintf(name, sizeof(name), "smc-");
	for (const char *p = c->path; *p && j < sizeof(name) - 5; p++)
		name[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
						   *p == '.' || *p == '-'
					   ? *p
					   : '_');
	snprintf(name + j, sizeof(name) - j, ".lck");
	char *lp = tp_run_path(name);
	if (!lp)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, lp, TP_LOCK_EXCLUSIVE, c->lock_timeout_ms, c->name, "media changer", err);
	free(lp);
	return r;
}

static int read_addresses(smc_changer *c, tp_err *err)
{
	tp_cdb cdb;
	uint8_t buf[255];
	tp_scsi_result res;
	int r = tp_cdb_mode_sense6(&cdb, 1, 0, TP_MODE_PAGE_ELEMENT_ADDRESS, 0, sizeof(buf), err);
	if (r < 0)
		return r;
	if ((r = run(c, &cdb, buf, sizeof(buf), SMC_TIMEOUT_MS, &res, NULL, NULL, err)) < 0)
		return r;
	tp_mode_data md;
	const uint8_t *pg;
	size_t plen;
	if ((r = tp_mode_parse(buf, res.transferred, 0, &md, err)) < 0 ||
	    (r = tp_mode_find_page(buf, &md, TP_MODE_PAGE_ELEMENT_ADDRESS, 0, &pg, &plen, err)) < 0 ||
	    (r = tp_element_addresses_parse(pg, plen, &c->ea, err)) < 0)
		return tp_err_wrap(err, r, "element address page of %s", c->path);
	if (c->ea.transport_count == 0)
		return tp_err_set(err, -TP_EFORMAT, "changer %s reports no medium transport element", c->path);
	if ((unsigned)c->ea.storage_count + c->ea.ie_count > SMC_MAX_ELEMENTS || c->ea.drive_count > SMC_MAX_ELEMENTS)
		return tp_err_set(err, -TP_EFORMAT, "changer %s reports more than %u elements", c->path,
				  SMC_MAX_ELEMENTS);
	return 0;
}

/* READ ELEMENT STATUS for one element type (tgt garbles type 0), with volume tags. */
static int read_type(smc_changer *c, enum tp_element_type type, uint16_t first, uint16_t count, tp_element **el,
		     size_t *n, tp_err *err)
{
	*el = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	/* one element more than exists: tgt cuts the last 8 bytes of every reply */
	uint32_t alloc = 16 + ((uint32_t)count + 1) * SMC_DESC_MAX;
	uint8_t *buf = calloc(1, alloc);
	if (!buf)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_cdb cdb;
	tp_scsi_result res;
	int r = tp_cdb_read_element_status(&cdb, type, 1, first, count, 0, 0, alloc, err);
	if (r == 0)
		r = run(c, &cdb, buf, alloc, SMC_TIMEOUT_MS, &res, NULL, NULL, err);
	if (r == 0)
		r = tp_element_status_parse(buf, res.transferred > alloc ? alloc : res.transferred, el, n, err);
	free(buf);
	return r;
}

static void status_clear(smc_changer *c)
{
	tp_changer_status_free(&c->cache);
	free(c->slot_addr);
	free(c->drive_addr);
	c->slot_addr = c->drive_addr = NULL;
	c->cache_valid = 0;
}

static unsigned slot_of_address(const smc_changer *c, uint16_t addr)
{
	for (size_t i = 0; i < c->cache.nslots; i++)
		if (c->slot_addr[i] == addr)
			return c->cache.slots[i].number;
	return 0;
}

/* Fills element e from the device's descriptor d (NULL: the device did not report it: empty). */
static void fill_element(tp_changer_element *e, enum tp_changer_elem_kind kind, unsigned number, const tp_element *d)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->number = number;
	if (d && d->full) {
		e->full = 1;
		snprintf(e->label, sizeof(e->label), "%s", d->volume_tag);
	}
}

static const tp_element *find_addr(const tp_element *el, size_t n, uint8_t type, uint16_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (el[i].address == addr && (el[i].type == type || el[i].type == 0))
			return &el[i];
	return NULL;
}

static int refresh(smc_changer *c, tp_err *err)
{
	tp_element *st = NULL, *ie = NULL, *dr = NULL;
	size_t nst = 0, nie = 0, ndr = 0;
	status_clear(c);
	int r;
	if ((r = read_type(c, TP_ELEM_STORAGE, c->ea.storage_first, c->ea.storage_count, &st, &nst, err)) < 0 ||
	    (r = read_type(c, TP_ELEM_IMPORT_EXPORT, c->ea.ie_first, c->ea.ie_count, &ie, &nie, err)) < 0 ||
	    (r = read_type(c, TP_ELEM_DRIVE, c->ea.drive_first, c->ea.drive_count, &dr, &ndr, err)) < 0) {
		tp_err_wrap(err, r, "element status of %s", c->path);
		goto out;
	}
	size_t ns = (size_t)c->ea.storage_count + c->ea.ie_count;
	c->cache.slots = calloc(ns ? ns : 1, sizeof(*c->cache.slots));
	c->slot_addr = calloc(ns ? ns : 1, sizeof(*c->slot_addr));
	c->cache.drives = calloc(c->ea.drive_count ? c->ea.drive_count : 1, sizeof(*c->cache.drives));
	c->drive_addr = calloc(c->ea.drive_count ? c->ea.drive_count : 1, sizeof(*c->drive_addr));
	if (!c->cache.slots || !c->slot_addr || !c->cache.drives || !c->drive_addr) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < c->ea.storage_count; i++) {
		uint16_t a = (uint16_t)(c->ea.storage_first + i);
		c->slot_addr[i] = a;
		fill_element(&c->cache.slots[i], TP_CHANGER_SLOT, i + 1, find_addr(st, nst, TP_ELEM_STORAGE, a));
	}
	for (unsigned i = 0; i < c->ea.ie_count; i++) {
		uint16_t a = (uint16_t)(c->ea.ie_first + i);
		size_t k = c->ea.storage_count + i;
		c->slot_addr[k] = a;
		fill_element(&c->cache.slots[k], TP_CHANGER_IMPORT_EXPORT, (unsigned)k + 1,
			     find_addr(ie, nie, TP_ELEM_IMPORT_EXPORT, a));
	}
	c->cache.nslots = ns;
	for (unsigned i = 0; i < c->ea.drive_count; i++) {
		uint16_t a = (uint16_t)(c->ea.drive_first + i);
		c->drive_addr[i] = a;
		const tp_element *d = find_addr(dr, ndr, TP_ELEM_DRIVE, a);
		fill_element(&c->cache.drives[i], TP_CHANGER_DRIVE, i, d);
		if (d && d->full && d->svalid)
			c->cache.drives[i].from_slot = slot_of_address(c, d->source);
	}
	c->cache.ndrives = c->ea.drive_count;
	c->cache_valid = 1;
	c->cache_time = now_ms();
	r = 0;
out:
	free(st);
	free(ie);
	free(dr);
	if (r < 0)
		status_clear(c);
	return r;
}

static int ensure_status(smc_changer *c, tp_err *err)
{
	if (c->cache_valid && now_ms() - c->cache_time <= c->cache_ms)
		return 0;
	return refresh(c, err);
}

static void smc_close(void *priv)
{
	smc_changer *c = priv;
	if (!c)
		return;
	status_clear(c);
	tp_scsi_close(c->dev);
	for (size_t i = 0; i < c->ndrive_paths; i++)
		free(c->drive_paths[i]);
	free(c->drive_paths);
	free(c);
}

static int smc_open(const char *name, const json_t *conf, void **priv, tp_err *err)
{
	*priv = NULL;
	const char *path = tp_json_opt_str(conf, "path");
	if (!path || !*path)
		return tp_err_set(err, -EINVAL, "scsi changer configuration: \"path\" (device or iscsi:// URL) is missing");
	if (strlen(path) >= sizeof(((smc_changer *)0)->path))
		return tp_err_set(err, -EINVAL, "scsi changer configuration: \"path\" is too long");
	int64_t cache_ms = tp_json_opt_int(conf, "cache-ms", SMC_DEFAULT_CACHE_MS);
	int64_t lock_ms = tp_json_opt_int(conf, "lock-timeout-ms", 60000);
	if (cache_ms < 0 || cache_ms > 3600000 || lock_ms < 0 || lock_ms > 3600000)
		return tp_err_set(err, -EINVAL, "scsi changer configuration: \"cache-ms\"/\"lock-timeout-ms\" must be 0..3600000");
	smc_changer *c = calloc(1, sizeof(*c));
	if (!c)
		return tp_err_set(err, -ENOMEM, "out of memory");
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->cache_ms = (int)cache_ms;
	c->lock_timeout_ms = (int)lock_ms;
	int r;
	json_t *ej = json_object_get(conf, "eject-before-unload");
	if (ej && !json_is_boolean(ej) && !json_is_null(ej)) {
		r = tp_err_set(err, -EINVAL, "scsi changer configuration: \"eject-before-unload\" must be true or false");
		goto out;
	}
	c->eject_before_unload = ej && json_is_true(ej);
	json_t *drs = json_object_get(conf, "drives");
	if (drs && !json_is_array(drs) && !json_is_null(drs)) {
		r = tp_err_set(err, -EINVAL, "scsi changer configuration: \"drives\" must be an array of device paths");
		goto out;
	}
	if (drs && json_is_array(drs) && json_array_size(drs)) {
		if (json_array_size(drs) > SMC_MAX_ELEMENTS) {
			r = tp_err_set(err, -EINVAL, "scsi changer configuration: more than %u drives", SMC_MAX_ELEMENTS);
			goto out;
		}
		c->drive_paths = calloc(json_array_size(drs), sizeof(*c->drive_paths));
		if (!c->drive_paths) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		c->ndrive_paths = json_array_size(drs);
		for (size_t i = 0; i < c->ndrive_paths; i++) {
			json_t *p = json_array_get(drs, i);
			if (json_is_null(p))
				continue;
			if (!json_is_string(p) || !*json_string_value(p)) {
				r = tp_err_set(err, -EINVAL, "scsi changer configuration: \"drives\"[%zu] must be a device path or null", i);
				goto out;
			}
			if (!(c->drive_paths[i] = strdup(json_string_value(p)))) {
				r = tp_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	if ((r = tp_scsi_open(path, &c->dev, err)) < 0)
		goto out;
	tp_cdb cdb;
	uint8_t buf[255];
	tp_scsi_result res;
	tp_inquiry q;
	if ((r = tp_cdb_inquiry(&cdb, 0, 0, sizeof(buf), err)) < 0)
		goto out;
	if ((r = run(c, &cdb, buf, sizeof(buf), SMC_TIMEOUT_MS, &res, NULL, NULL, err)) < 0 ||
	    (r = tp_inquiry_parse(buf, res.transferred, &q, err)) < 0)
		goto out;
	if (q.type != TP_PDT_CHANGER) {
		r = tp_err_set(err, -ENODEV, "%s is not a media changer (%s %s, peripheral device type %u)", path,
			       q.vendor, q.product, q.type);
		goto out;
	}
	if ((r = read_addresses(c, err)) < 0)
		goto out;
	*priv = c;
	c = NULL;
out:
	smc_close(c);
	return r;
}

static int smc_status(void *priv, tp_changer_status *st, tp_err *err)
{
	smc_changer *c = priv;
	int r = ensure_status(c, err);
	if (r < 0)
		return r;
	memset(st, 0, sizeof(*st));
	st->slots = malloc((c->cache.nslots ? c->cache.nslots : 1) * sizeof(*st->slots));
	st->drives = malloc((c->cache.ndrives ? c->cache.ndrives : 1) * sizeof(*st->drives));
	if (!st->slots || !st->drives) {
		tp_changer_status_free(st);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(st->slots, c->cache.slots, c->cache.nslots * sizeof(*st->slots));
	memcpy(st->drives, c->cache.drives, c->cache.ndrives * sizeof(*st->drives));
	st->nslots = c->cache.nslots;
	st->ndrives = c->cache.ndrives;
	return 0;
}

static tp_changer_element *slot_el(smc_changer *c, unsigned slot, tp_err *err)
{
	if (slot == 0 || slot > c->cache.nslots) {
		tp_err_set(err, -EINVAL, "slot %u does not exist (slots 1..%zu)", slot, c->cache.nslots);
		return NULL;
	}
	return &c->cache.slots[slot - 1];
}

static tp_changer_element *drive_el(smc_changer *c, unsigned drivenum, tp_err *err)
{
	if (drivenum >= c->cache.ndrives) {
		tp_err_set(err, -EINVAL, "drive %u does not exist (the changer has %zu drives)", drivenum,
			   c->cache.ndrives);
		return NULL;
	}
	return &c->cache.drives[drivenum];
}

static const char *el_name(const tp_changer_element *e, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s %u", e->kind == TP_CHANGER_DRIVE ? "drive" : e->kind == TP_CHANGER_IMPORT_EXPORT
										 ? "import/export slot"
										 : "slot",
		 e->number);
	return buf;
}

/*
 * MOVE MEDIUM from one element to another, checked against the (refreshed)
 * status first, and the cache updated after it.
 */
static int move(smc_changer *c, tp_changer_element *from, uint16_t from_addr, tp_changer_element *to,
		uint16_t to_addr, tp_err *err)
{
	char a[48], b[48];
	if (!from->full)
		return tp_err_set(err, -ENOENT, "%s is empty", el_name(from, a, sizeof(a)));
	if (to->full)
		return tp_err_set(err, -EEXIST, "%s already holds %s", el_name(to, b, sizeof(b)),
				  to->label[0] ? to->label : "a cartridge");
	tp_lock l = TP_LOCK_INIT;
	int r = lock_changer(c, &l, err);
	if (r < 0)
		return r;
	tp_cdb cdb;
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	tp_cdb_move_medium(&cdb, c->ea.transport_first, from_addr, to_addr, 0);
	r = run(c, &cdb, NULL, 0, SMC_MOVE_TIMEOUT_MS, NULL, &s, &cls, &e);
	tp_lock_release(&l);
	if (r < 0) {
		c->cache_valid = 0; /* someone else may have moved things: read it again next time */
		*err = e;
		if (r == -EIO && s.asc == 0x3b && s.ascq == 0x0e)
			return tp_err_wrap(err, -ENOENT, "move %s to %s: source empty", el_name(from, a, sizeof(a)),
					   el_name(to, b, sizeof(b)));
		if (r == -EIO && s.asc == 0x3b && s.ascq == 0x0d)
			return tp_err_wrap(err, -EEXIST, "move %s to %s: destination full", el_name(from, a, sizeof(a)),
					   el_name(to, b, sizeof(b)));
		if (r == -EIO && s.asc == 0x53 && s.ascq == 0x02)
			return tp_err_wrap(err, -EBUSY, "move %s to %s: medium removal prevented (eject it in the drive)",
					   el_name(from, a, sizeof(a)), el_name(to, b, sizeof(b)));
		return tp_err_wrap(err, r, "move %s to %s", el_name(from, a, sizeof(a)), el_name(to, b, sizeof(b)));
	}
	to->full = 1;
	snprintf(to->label, sizeof(to->label), "%s", from->label);
	to->from_slot = 0;
	if (to->kind == TP_CHANGER_DRIVE)
		to->from_slot = from->kind == TP_CHANGER_DRIVE ? from->from_slot : from->number;
	from->full = 0;
	from->label[0] = 0;
	from->from_slot = 0;
	return 0;
}

static int smc_load(void *priv, unsigned slot, unsigned drivenum, tp_err *err)
{
	smc_changer *c = priv;
	int r = ensure_status(c, err);
	if (r < 0)
		return r;
	tp_changer_element *s = slot_el(c, slot, err), *d = s ? drive_el(c, drivenum, err) : NULL;
	if (!s || !d)
		return -EINVAL;
	return move(c, s, c->slot_addr[slot - 1], d, c->drive_addr[drivenum], err);
}

static int smc_unload(void *priv, unsigned drivenum, unsigned slot, unsigned *to_slot, tp_err *err)
{
	smc_changer *c = priv;
	int r = ensure_status(c, err);
	if (r < 0)
		return r;
	tp_changer_element *d = drive_el(c, drivenum, err);
	if (!d)
		return -EINVAL;
	if (!d->full)
		return tp_err_set(err, -ENOMEDIUM, "unload: drive %u is empty", drivenum);
	if (slot == 0) {
		/* back where it came from, else the first free storage slot */
		if (d->from_slot && d->from_slot <= c->cache.nslots && !c->cache.slots[d->from_slot - 1].full &&
		    c->cache.slots[d->from_slot - 1].kind == TP_CHANGER_SLOT)
			slot = d->from_slot;
		for (size_t i = 0; !slot && i < c->cache.nslots; i++)
			if (c->cache.slots[i].kind == TP_CHANGER_SLOT && !c->cache.slots[i].full)
				slot = c->cache.slots[i].number;
		if (!slot)
			return tp_err_set(err, -ENOSPC, "unload drive %u: no free storage slot", drivenum);
	}
	tp_changer_element *s = slot_el(c, slot, err);
	if (!s)
		return -EINVAL;
	if (c->eject_before_unload) {
		const char *dp = drivenum < c->ndrive_paths ? c->drive_paths[drivenum] : NULL;
		if (!dp) {
			tp_warn("changer %s: eject-before-unload, but no drive is configured as drive %u: moving without an eject",
				c->name, drivenum);
		} else if ((r = tp_lto_eject_path(dp, c->name, c->lock_timeout_ms, err)) < 0) {
			return tp_err_wrap(err, r, "unload drive %u", drivenum);
		}
	}
	if ((r = move(c, d, c->drive_addr[drivenum], s, c->slot_addr[slot - 1], err)) < 0)
		return r;
	if (to_slot)
		*to_slot = slot;
	return 0;
}

static int smc_transfer(void *priv, unsigned from, unsigned to, tp_err *err)
{
	smc_changer *c = priv;
	int r = ensure_status(c, err);
	if (r < 0)
		return r;
	tp_changer_element *a = slot_el(c, from, err), *b = a ? slot_el(c, to, err) : NULL;
	if (!a || !b)
		return -EINVAL;
	if (from == to)
		return tp_err_set(err, -EINVAL, "transfer: source and destination are both slot %u", from);
	return move(c, a, c->slot_addr[from - 1], b, c->slot_addr[to - 1], err);
}

static int smc_insert(void *priv, const char *label, unsigned slot, tp_err *err)
{
	(void)priv;
	(void)slot;
	return tp_err_set(err, -ENOTSUP, "insert '%s': put the cartridge into an import/export slot by hand",
			  label ? label : "");
}

const tp_changer_ops tp_changer_smc_ops = {
	.type = "scsi",
	.caps = TP_CHANGER_CAP_TRANSFER | TP_CHANGER_CAP_EXPORT | TP_CHANGER_CAP_BARCODES,
	.open = smc_open,
	.close = smc_close,
	.status = smc_status,
	.load = smc_load,
	.unload = smc_unload,
	.transfer = smc_transfer,
	.insert = smc_insert,
};
