/* The `lto` drive backend: SSC commands over the SCSI transport layer (SG_IO or iSCSI), as PBS drives LTO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/json_util.h"
#include "base/lock.h"
#include "base/log.h"
#include "base/paths.h"
#include "tape/drive_diag.h" /* first: it includes scsi_cdb.h and drive.h without their name clash */
#include "tape/scsi_sense.h"

#define LTO_TUR_TIMEOUT_MS 30000u
#define LTO_IO_TIMEOUT_MS 600000u        /* READ/WRITE/filemarks */
#define LTO_MOVE_TIMEOUT_MS 3600000u     /* REWIND, SPACE, LOCATE, LOAD, ERASE on a full tape */
#define LTO_DEFAULT_READY_MS 600000      /* wait for ready, as PBS */
#define LTO_MAX_XFER (8u << 20)          /* largest block read or written */
#define LTO_PROBE_LEN 512u               /* buffer of a read that only learns what the next object is */
#define LTO_MAM_ALLOC 32768u
#define LTO_MAX_MAP_FILEMARKS (1u << 24) /* bound of the tracked filemark map */

#define LTO_MAM_VERSION "0.1.0"        /* 0802h: the tapir version (8 bytes, as `tapir version`) */

/*
 * Where the device has no LOCATE/READ POSITION (tgt), the position is
 * tracked here: a map of what is known about the cartridge from BOT
 * (filemark object numbers, the number of objects known, end of data when
 * seen), learned from every read, write and space this handle did.  All
 * moves are then REWIND + forward SPACE filemarks / SPACE blocks inside one
 * file, and reads of the unknown rest; nothing relies on backward SPACE or
 * on SPACE blocks stopping at filemarks (tgt gets both wrong).
 */
typedef struct lto_map {
	uint64_t *fm;       /* object numbers of filemarks 0..nfm-1 */
	size_t nfm, cap;
	uint64_t known_end; /* every object below this is known */
	int eod_known;      /* end of data is at known_end */
} lto_map;

typedef struct lto_drive {
	char name[TP_DRIVE_NAME_MAX + 1];
	tp_scsi_dev *dev;
	tp_lock lock;
	int has_changer, compression, ready_ms;
	uint64_t leom_reserve, conf_capacity;
	tp_inquiry inq;
	char serial[65];
	/* per cartridge */
	int loaded, native, write_protected;
	uint8_t density;
	uint64_t capacity, used;
	/* tracked mode */
	lto_map map;
	int pos_valid;
	uint64_t pos_obj, pos_file;
	/* native mode */
	int at_eod, eod_valid;
	uint64_t eod_obj;
	/* software hard end after the early warning (leom-reserve) */
	int ew_seen;
	uint64_t ew_obj, ew_bytes;
	int enc_on, enc_supported; /* enc_supported: -1 unknown, 0 no, 1 yes */
	uint8_t alert_page;        /* LOG SENSE page of the TapeAlert flags: 12h, 2Eh, 0 = none (probed at open) */
	int mam_unsupported;       /* WRITE ATTRIBUTE was refused as an unknown command */
} lto_drive;

/* ---- commands ---- */

/* Runs a CDB; a UNIT ATTENTION (first command per LUN, medium changed, reset) is retried once. */
static int run(lto_drive *d, const tp_cdb *c, uint8_t *buf, size_t len, unsigned timeout, tp_scsi_result *res,
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
	int r = tp_scsi_run(d->dev, c, buf, len, timeout, res, s, cls, err);
	if (r == -EIO && *cls == TP_SENSE_UNIT_ATTENTION)
		r = tp_scsi_run(d->dev, c, buf, len, timeout, res, s, cls, err);
	if (r < 0 && *cls == TP_SENSE_OK && r != -EIO)
		*cls = TP_SENSE_OTHER; /* transport failure: no sense */
	return r;
}

static int is_unsupported(int r, enum tp_sense_class cls, const tp_sense *s)
{
	return r == -EIO && cls == TP_SENSE_ILLEGAL_REQUEST && (s->asc == 0x20 || s->asc == 0x24 || s->asc == 0x26);
}

static int simple(lto_drive *d, const tp_cdb *c, unsigned timeout, tp_err *err)
{
	return run(d, c, NULL, 0, timeout, NULL, NULL, NULL, err);
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * TEST UNIT READY until ready.  Returns 0 ready, -ENOMEDIUM for an empty
 * drive (after one LOAD when try_load), -EBUSY after the timeout.
 */
static int wait_ready(lto_drive *d, int try_load, int timeout_ms, tp_err *err)
{
	int64_t end = now_ms() + timeout_ms;
	int loaded_once = 0;
	for (;;) {
		tp_cdb c;
		tp_sense s;
		enum tp_sense_class cls;
		tp_err e = { 0 };
		tp_cdb_test_unit_ready(&c);
		int r = run(d, &c, NULL, 0, LTO_TUR_TIMEOUT_MS, NULL, &s, &cls, &e);
		if (r == 0)
			return 0;
		if (r != -EIO) {
			*err = e;
			return r;
		}
		if ((cls == TP_SENSE_NO_MEDIUM || cls == TP_SENSE_NOT_READY) && try_load && !loaded_once) {
			/* a changer put the cartridge in: some drives need LOAD to thread it */
			tp_cdb_load_unload(&c, 0, 1, 0, 0, 0);
			tp_err le = { 0 };
			loaded_once = 1;
			if (simple(d, &c, LTO_MOVE_TIMEOUT_MS, &le) == 0)
				continue;
		}
		if (cls == TP_SENSE_NO_MEDIUM && (!try_load || loaded_once))
			return tp_err_set(err, -ENOMEDIUM, "drive %s: no cartridge in the drive (%s)", d->name, e.msg);
		if (cls != TP_SENSE_UNIT_ATTENTION && cls != TP_SENSE_BECOMING_READY && cls != TP_SENSE_NOT_READY &&
		    cls != TP_SENSE_NO_MEDIUM) {
			*err = e;
			return r;
		}
		if (now_ms() >= end)
			return tp_err_set(err, -EBUSY, "drive %s: not ready after %d s (%s)", d->name, timeout_ms / 1000,
					  e.msg);
		msleep(cls == TP_SENSE_UNIT_ATTENTION ? 10 : 200);
	}
}

/* ---- tracked position map ---- */

static void map_reset(lto_map *m)
{
	m->nfm = 0;
	m->known_end = 0;
	m->eod_known = 0;
}

/* Forgets everything at and after object o (a write there replaces it). */
static void map_truncate(lto_map *m, uint64_t o)
{
	while (m->nfm > 0 && m->fm[m->nfm - 1] >= o)
		m->nfm--;
	if (m->known_end > o)
		m->known_end = o;
	m->eod_known = 0;
}

static int map_push_fm(lto_map *m, uint64_t o, tp_err *err)
{
	if (m->nfm == m->cap) {
		if (m->cap >= LTO_MAX_MAP_FILEMARKS)
			return tp_err_set(err, -E2BIG, "more than %u filemarks on the tape", LTO_MAX_MAP_FILEMARKS);
		size_t nc = m->cap ? m->cap * 2 : 64;
		uint64_t *n = realloc(m->fm, nc * sizeof(*n));
		if (!n)
			return tp_err_set(err, -ENOMEM, "out of memory");
		m->fm = n;
		m->cap = nc;
	}
	m->fm[m->nfm++] = o;
	return 0;
}

/* Filemarks strictly before object o (o <= known_end). */
static uint64_t map_files_before(const lto_map *m, uint64_t o)
{
	size_t lo = 0, hi = m->nfm;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->fm[mid] < o)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

enum { OBJ_BLOCK, OBJ_FILEMARK, OBJ_EOD };

/* Records what was found at the tracked position (which must be valid) and advances it. */
static int learn(lto_drive *d, int what, tp_err *err)
{
	lto_map *m = &d->map;
	uint64_t o = d->pos_obj;
	int r;
	if (o < m->known_end) {
		uint64_t f = map_files_before(m, o);
		int is_fm = f < m->nfm && m->fm[f] == o;
		if (what == OBJ_EOD || is_fm != (what == OBJ_FILEMARK))
			map_truncate(m, o); /* the tape differs from the map (written elsewhere): relearn */
	}
	if (what == OBJ_EOD) {
		if (o == m->known_end)
			m->eod_known = 1;
		return 0;
	}
	if (o == m->known_end) {
		if (what == OBJ_FILEMARK && (r = map_push_fm(m, o, err)) < 0)
			return r;
		m->known_end++;
	}
	d->pos_obj++;
	if (what == OBJ_FILEMARK)
		d->pos_file++;
	return 0;
}

static void pos_set(lto_drive *d, uint64_t o)
{
	d->pos_obj = o;
	d->pos_file = map_files_before(&d->map, o);
	d->pos_valid = 1;
}

/* ---- data transfer ---- */

/*
 * One READ(6), variable, SILI.  Returns bytes (> 0), TP_TAPE_READ_FILEMARK,
 * TP_TAPE_READ_EOD, -EOVERFLOW (block longer than cap, position after it),
 * or an error.  The length comes from the sense INFO on ILI (tgt's
 * transport residual is wrong), from the transport on GOOD.
 */
static long read_raw(lto_drive *d, uint8_t *buf, size_t cap, long *block_len, tp_err *err)
{
	tp_cdb c;
	tp_scsi_result res;
	tp_sense s;
	enum tp_sense_class cls;
	if (cap > LTO_MAX_XFER)
		cap = LTO_MAX_XFER;
	int r = tp_cdb_read6(&c, 0, 1, (uint32_t)cap, err);
	if (r < 0)
		return r;
	if (block_len)
		*block_len = 0;
	tp_err e = { 0 };
	r = run(d, &c, buf, cap, LTO_IO_TIMEOUT_MS, &res, &s, &cls, &e);
	if (r == 0) {
		if (res.transferred == 0 || res.transferred > cap)
			return tp_err_set(err, -EIO, "READ on %s: GOOD status but %zu bytes transferred", d->dev->path,
					  res.transferred);
		if (block_len)
			*block_len = (long)res.transferred;
		return (long)res.transferred;
	}
	switch (r == -EIO ? cls : TP_SENSE_OTHER) {
	case TP_SENSE_FILEMARK:
		return TP_TAPE_READ_FILEMARK;
	case TP_SENSE_EOD:
		return TP_TAPE_READ_EOD;
	case TP_SENSE_ILI: {
		if (!s.info_valid)
			return tp_err_set(err, -EIO, "READ on %s: incorrect length without a valid INFO field", d->dev->path);
		int64_t resid = tp_sense_residual(&s);
		if (resid < 0) {
			if (block_len)
				*block_len = (long)((int64_t)cap - resid);
			return tp_err_set(err, -EOVERFLOW, "READ on %s: block of %lld bytes is longer than the %zu-byte buffer",
					  d->dev->path, (long long)((int64_t)cap - resid), cap);
		}
		if ((uint64_t)resid >= cap)
			return tp_err_set(err, -EIO, "READ on %s: residual %lld of a %zu-byte read leaves no data",
					  d->dev->path, (long long)resid, cap);
		if (block_len)
			*block_len = (long)(cap - (size_t)resid);
		return (long)(cap - (size_t)resid);
	}
	case TP_SENSE_MEDIUM_ERROR:
		*err = e;
		return -EIO;
	case TP_SENSE_NO_MEDIUM:
		*err = e;
		return -ENOMEDIUM;
	default:
		*err = e;
		return r < 0 ? r : -EIO;
	}
}

/* ---- medium setup ---- */

/* Variable block mode, buffered mode 1, compression per configuration (page 0Fh only if the drive has it). */
static int set_modes(lto_drive *d, tp_err *err)
{
	tp_cdb c;
	uint8_t buf[255];
	tp_scsi_result res;
	int r = tp_cdb_mode_sense6(&c, 0, 0, TP_MODE_PAGE_COMPRESSION, 0, sizeof(buf), err);
	if (r < 0)
		return r;
	if ((r = run(d, &c, buf, sizeof(buf), LTO_TUR_TIMEOUT_MS, &res, NULL, NULL, err)) < 0)
		return r;
	tp_mode_data md;
	if ((r = tp_mode_parse(buf, res.transferred, 0, &md, err)) < 0)
		return tp_err_wrap(err, r, "MODE SENSE on %s", d->dev->path);
	d->write_protected = md.write_protected;
	d->density = md.density;
	const uint8_t *pg = NULL;
	size_t plen = 0;
	tp_compression_page cp;
	int have_page = tp_mode_find_page(buf, &md, TP_MODE_PAGE_COMPRESSION, 0, &pg, &plen, NULL) == 0 &&
			tp_compression_page_parse(pg, plen, &cp, NULL) == 0 && cp.dcc;
	uint8_t page[TP_MODE_PAGE_COMPRESSION_LEN], list[64];
	if (have_page) {
		cp.dce = d->compression;
		tp_compression_page_encode(&cp, page);
	}
	int len = tp_mode_select_build(0, 1, 1, md.density, 0, have_page ? page : NULL, have_page ? sizeof(page) : 0,
				       list, sizeof(list), err);
	if (len < 0)
		return len;
	tp_cdb_mode_select6(&c, 1, 0, (uint8_t)len);
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	r = run(d, &c, list, (size_t)len, LTO_TUR_TIMEOUT_MS, NULL, &s, &cls, &e);
	if (r < 0 && have_page && is_unsupported(r, cls, &s)) {
		tp_debug("drive %s: compression page refused (%s), setting the block size only", d->name, e.msg);
		len = tp_mode_select_build(0, 1, 1, md.density, 0, NULL, 0, list, sizeof(list), err);
		if (len < 0)
			return len;
		tp_cdb_mode_select6(&c, 1, 0, (uint8_t)len);
		r = run(d, &c, list, (size_t)len, LTO_TUR_TIMEOUT_MS, NULL, NULL, NULL, &e);
	}
	if (r < 0) {
		*err = e;
		return tp_err_wrap(err, r, "drive %s: setting variable block mode", d->name);
	}
	return 0;
}

/* READ POSITION long form; -ENOTSUP when the device has none. */
static int read_position_dev(lto_drive *d, tp_position *p, tp_err *err)
{
	tp_cdb c;
	uint8_t buf[TP_READPOS_LONG_LEN];
	tp_scsi_result res;
	tp_sense s;
	enum tp_sense_class cls;
	int r = tp_cdb_read_position(&c, TP_READPOS_LONG, 0, err);
	if (r < 0)
		return r;
	memset(buf, 0, sizeof(buf));
	r = run(d, &c, buf, sizeof(buf), LTO_TUR_TIMEOUT_MS, &res, &s, &cls, err);
	if (r < 0)
		return is_unsupported(r, cls, &s) ? -ENOTSUP : r;
	if ((r = tp_position_parse_long(buf, res.transferred, p, err)) < 0)
		return r;
	if (p->lonu)
		return tp_err_set(err, -EIO, "READ POSITION on %s: logical object number unknown", d->dev->path);
	if (p->partition != 0)
		return tp_err_set(err, -ENOTSUP, "READ POSITION on %s: partitioned tape (partition %u) not supported",
				  d->dev->path, p->partition);
	return 0;
}

static int locate_dev(lto_drive *d, uint64_t object, tp_sense *s, enum tp_sense_class *cls, tp_err *err)
{
	tp_cdb c;
	int r = tp_cdb_locate16(&c, TP_LOCATE_OBJECT, 0, 0, 0, object, err);
	if (r < 0)
		return r;
	return run(d, &c, NULL, 0, LTO_MOVE_TIMEOUT_MS, NULL, s, cls, err);
}

static int rewind_dev(lto_drive *d, tp_err *err)
{
	tp_cdb c;
	tp_cdb_rewind(&c, 0);
	return simple(d, &c, LTO_MOVE_TIMEOUT_MS, err);
}

/* Capacity from volume statistics (LTO-5+), best effort. */
static void read_volume_capacity(lto_drive *d)
{
	tp_volume_stats vs;
	if (tp_lto_volume_stats_dev(d->dev, &vs, NULL) == 0 && vs.total_native_capacity) {
		d->capacity = vs.total_native_capacity * 1000000ull;
		d->used = vs.total_used_native_capacity * 1000000ull;
	}
}

/*
 * After the cartridge became ready: modes, capability detection and a known
 * position.  Native positioning needs READ POSITION and LOCATE(16): tgt
 * answers READ POSITION with a placeholder page (object 0 everywhere), so LOCATE(16) to
 * the reported object decides.  Tracked mode starts with a REWIND.
 */
static int medium_ready(lto_drive *d, tp_err *err)
{
	int r;
	d->loaded = 1;
	d->native = 0;
	d->pos_valid = 0;
	d->at_eod = d->eod_valid = 0;
	d->ew_seen = 0;
	d->ew_bytes = 0;
	d->capacity = d->conf_capacity;
	d->used = 0;
	map_reset(&d->map);
	if ((r = set_modes(d, err)) < 0)
		return r;
	tp_position p;
	tp_err e = { 0 };
	if (read_position_dev(d, &p, &e) == 0) {
		tp_sense s;
		enum tp_sense_class cls;
		r = locate_dev(d, p.object, &s, &cls, &e);
		if (r == 0)
			d->native = 1;
		else if (!is_unsupported(r, cls, &s))
			tp_warn("drive %s: LOCATE(16) failed, tracking the position instead: %s", d->name, e.msg);
	}
	if (!d->native) {
		if ((r = rewind_dev(d, err)) < 0)
			return r;
		pos_set(d, 0);
	}
	if (!d->conf_capacity)
		read_volume_capacity(d);
	return 0;
}

static void medium_gone(lto_drive *d)
{
	d->loaded = 0;
	d->pos_valid = 0;
	d->native = 0;
	d->at_eod = d->eod_valid = 0;
	d->enc_on = 0;
	map_reset(&d->map);
}

static int ensure_loaded(lto_drive *d, tp_err *err)
{
	if (d->loaded)
		return 0;
	return tp_err_set(err, -ENOMEDIUM, "drive %s: no cartridge loaded", d->name);
}

/* ---- ops ---- */

static void lto_close(void *priv)
{
	lto_drive *d = priv;
	if (!d)
		return;
	if (d->dev && d->enc_on) {
		/* a drive keeps its key until power cycle: do not leave it behind */
		tp_err e = { 0 };
		if (tp_lto_encryption_dev(d->dev, NULL, &e) < 0)
			tp_warn("drive %s: clearing the encryption key at close failed: %s", d->name, e.msg);
	}
	tp_scsi_close(d->dev);
	tp_lock_release(&d->lock);
	free(d->map.fm);
	free(d);
}

static int lock_device(lto_drive *d, const char *path, int timeout_ms, tp_err *err)
{
	char name[300];
	size_t j = 0;
	j += (size_t)snprintf(name, sizeof(name), "lto-");
	for (const char *p = path; *p && j < sizeof(name) - 5; p++)
		name[j++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
						   *p == '.' || *p == '-'
					   ? *p
					   : '_');
	snprintf(name + j, sizeof(name) - j, ".lck");
	char *lp = tp_run_path(name);
	if (!lp)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(&d->lock, lp, TP_LOCK_EXCLUSIVE, timeout_ms, d->name, "tape drive", err);
	free(lp);
	if (r < 0)
		return tp_err_wrap(err, r, "drive %s: device %s is in use", d->name, path);
	return 0;
}

/*
 * Which log page carries the TapeAlert flags.  Page 12h (TapeAlert
 * response, SSC-4) leaves the flags set, as PBS reads them; a drive that
 * has LOG SENSE but not that page (ILLEGAL REQUEST 24/00 or 26/00: SSC-2
 * drives) gets page 2Eh, read only when checking because reading it clears
 * the flags; a drive without LOG SENSE (20/00: tgt) has no TapeAlert.
 * Other failures leave 12h, and the check reports them.
 */
static void probe_tapealert(lto_drive *d)
{
	tp_cdb c;
	tp_sense s;
	enum tp_sense_class cls = TP_SENSE_OK;
	tp_scsi_result res;
	uint8_t buf[256];
	d->alert_page = TP_LOG_PAGE_TAPEALERT_RESPONSE;
	if (tp_cdb_log_sense(&c, 0, 1, TP_LOG_PAGE_TAPEALERT_RESPONSE, 0, 0, sizeof(buf), NULL) < 0)
		return;
	tp_err e = { 0 };
	int r = run(d, &c, buf, sizeof(buf), LTO_TUR_TIMEOUT_MS, &res, &s, &cls, &e);
	if (r == -EIO && cls == TP_SENSE_ILLEGAL_REQUEST && s.asc == 0x20) {
		d->alert_page = 0;
		tp_debug("drive %s: no LOG SENSE, no TapeAlert (%s)", d->name, e.msg);
	} else if (r == -EIO && cls == TP_SENSE_ILLEGAL_REQUEST && (s.asc == 0x24 || s.asc == 0x26)) {
		d->alert_page = TP_LOG_PAGE_TAPEALERT;
	}
}

static int conf_uint(const json_t *conf, const char *key, int64_t def, int64_t max, int64_t *out, tp_err *err)
{
	json_t *v = json_object_get(conf, key);
	if (!v || json_is_null(v)) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return tp_err_set(err, -EINVAL, "lto drive configuration: \"%s\" must be an integer 0..%lld", key,
				  (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int lto_open(const char *name, const json_t *conf, void **priv, tp_err *err)
{
	*priv = NULL;
	const char *path = tp_json_opt_str(conf, "path");
	if (!path || !*path)
		return tp_err_set(err, -EINVAL, "lto drive configuration: \"path\" (device or iscsi:// URL) is missing");
	lto_drive *d = calloc(1, sizeof(*d));
	if (!d)
		return tp_err_set(err, -ENOMEM, "out of memory");
	d->lock = (tp_lock)TP_LOCK_INIT;
	d->enc_supported = -1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	int r;
	int64_t v;
	const char *ch = tp_json_opt_str(conf, "changer");
	d->has_changer = ch && *ch;
	json_t *comp = json_object_get(conf, "compression");
	if (comp && !json_is_boolean(comp)) {
		r = tp_err_set(err, -EINVAL, "lto drive configuration: \"compression\" must be true or false");
		goto out;
	}
	d->compression = comp ? json_is_true(comp) : 1;
	if ((r = conf_uint(conf, "ready-timeout-ms", LTO_DEFAULT_READY_MS, 24 * 3600 * 1000, &v, err)) < 0)
		goto out;
	d->ready_ms = (int)v;
	if ((r = conf_uint(conf, "leom-reserve", 0, INT64_MAX, &v, err)) < 0)
		goto out;
	d->leom_reserve = (uint64_t)v;
	if ((r = conf_uint(conf, "capacity", 0, INT64_MAX, &v, err)) < 0)
		goto out;
	d->conf_capacity = (uint64_t)v;
	if ((r = conf_uint(conf, "lock-timeout-ms", 10000, 3600 * 1000, &v, err)) < 0)
		goto out;
	if ((r = lock_device(d, path, (int)v, err)) < 0)
		goto out;
	if ((r = tp_scsi_open(path, &d->dev, err)) < 0) {
		tp_err_wrap(err, r, "opening the lto device");
		goto out;
	}

	tp_cdb c;
	uint8_t buf[255];
	tp_scsi_result res;
	if ((r = tp_cdb_inquiry(&c, 0, 0, sizeof(buf), err)) < 0)
		goto out;
	if ((r = run(d, &c, buf, sizeof(buf), LTO_TUR_TIMEOUT_MS, &res, NULL, NULL, err)) < 0 ||
	    (r = tp_inquiry_parse(buf, res.transferred, &d->inq, err)) < 0)
		goto out;
	if (d->inq.type != TP_PDT_TAPE) {
		r = tp_err_set(err, -ENODEV, "%s is not a tape drive (%s %s, peripheral device type %u)", path,
			       d->inq.vendor, d->inq.product, d->inq.type);
		goto out;
	}
	if (tp_cdb_inquiry(&c, 1, 0x80, sizeof(buf), NULL) == 0 &&
	    run(d, &c, buf, sizeof(buf), LTO_TUR_TIMEOUT_MS, &res, NULL, NULL, NULL) == 0)
		tp_vpd_serial_parse(buf, res.transferred, d->serial, sizeof(d->serial), NULL);
	probe_tapealert(d);

	tp_err e = { 0 };
	r = wait_ready(d, d->has_changer, d->ready_ms, &e);
	if (r == -ENOMEDIUM) {
		r = 0; /* an empty drive opens fine */
	} else if (r < 0) {
		*err = e;
		goto out;
	} else if ((r = medium_ready(d, err)) < 0) {
		goto out;
	}
	*priv = d;
	d = NULL;
out:
	if (d)
		lto_close(d);
	return r;
}

static int lto_load(void *priv, const char *label, tp_err *err)
{
	lto_drive *d = priv;
	if (label)
		return tp_err_set(err, -ENOTSUP, "an lto drive cannot fetch cartridge '%s' itself (use its changer)",
				  label);
	int r = wait_ready(d, 1, d->ready_ms, err);
	if (r < 0) {
		medium_gone(d);
		return r;
	}
	return medium_ready(d, err);
}

static int lto_unload(void *priv, tp_err *err)
{
	lto_drive *d = priv;
	tp_err e = { 0 };
	int r = wait_ready(d, 0, LTO_TUR_TIMEOUT_MS, &e);
	if (r == -ENOMEDIUM) {
		medium_gone(d);
		return tp_err_set(err, -ENOMEDIUM, "drive %s: unload: no cartridge in the drive", d->name);
	}
	tp_cdb c;
	tp_cdb_prevent_allow(&c, 0);
	simple(d, &c, LTO_TUR_TIMEOUT_MS, NULL);
	tp_cdb_load_unload(&c, 0, 0, 0, 0, 0);
	if ((r = simple(d, &c, LTO_MOVE_TIMEOUT_MS, err)) < 0)
		return r;
	medium_gone(d);
	return 0;
}

static int lto_rewind(void *priv, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0 || (r = rewind_dev(d, err)) < 0) {
		d->pos_valid = 0;
		return r;
	}
	d->at_eod = d->eod_valid && d->eod_obj == 0;
	d->ew_seen = 0;
	d->ew_bytes = 0;
	if (!d->native)
		pos_set(d, 0);
	return 0;
}

static long lto_read_block(void *priv, uint8_t *buf, size_t cap, tp_err *err)
{
	lto_drive *d = priv;
	int r0 = ensure_loaded(d, err);
	if (r0 < 0)
		return r0;
	if (cap == 0)
		return tp_err_set(err, -EINVAL, "drive %s: read with an empty buffer", d->name);
	long r = read_raw(d, buf, cap, NULL, err);
	if (r == TP_TAPE_READ_EOD) {
		d->at_eod = 1;
		if (d->native) {
			tp_position p;
			if (read_position_dev(d, &p, NULL) == 0) {
				d->eod_obj = p.object;
				d->eod_valid = 1;
			}
		}
	} else {
		d->at_eod = 0;
	}
	if (!d->native && d->pos_valid) {
		int what = r == TP_TAPE_READ_EOD ? OBJ_EOD : r == TP_TAPE_READ_FILEMARK ? OBJ_FILEMARK : OBJ_BLOCK;
		if (r > 0 || r == TP_TAPE_READ_EOD || r == TP_TAPE_READ_FILEMARK || r == -EOVERFLOW) {
			tp_err le = { 0 };
			if (learn(d, what, &le) < 0) {
				d->pos_valid = 0;
				*err = le;
				return le.code;
			}
		} else {
			d->pos_valid = 0; /* a medium error may or may not have moved the tape */
		}
	}
	return r;
}

/* Common result handling for WRITE and WRITE FILEMARKS: 0, LEOM, -ENOSPC, -EROFS or the error. */
static int write_result(lto_drive *d, int r, enum tp_sense_class cls, tp_err *e, tp_err *err)
{
	if (r == 0)
		return TP_TAPE_WRITE_OK;
	if (r == -EIO && cls == TP_SENSE_EARLY_WARNING)
		return TP_TAPE_WRITE_LEOM;
	*err = *e;
	if (r == -EIO && cls == TP_SENSE_VOLUME_OVERFLOW)
		return tp_err_wrap(err, -ENOSPC, "drive %s: end of tape", d->name);
	if (r == -EIO && cls == TP_SENSE_DATA_PROTECT)
		return tp_err_wrap(err, -EROFS, "drive %s: cartridge is write protected", d->name);
	return r;
}

/* Position bookkeeping after something was written at the position. */
static void wrote(lto_drive *d, unsigned blocks, unsigned filemarks)
{
	if (!d->native && d->pos_valid) {
		map_truncate(&d->map, d->pos_obj);
		tp_err e = { 0 };
		for (unsigned i = 0; i < filemarks; i++)
			if (map_push_fm(&d->map, d->pos_obj + blocks + i, &e) < 0) {
				d->pos_valid = 0;
				map_reset(&d->map);
				return;
			}
		d->pos_obj += blocks + filemarks;
		d->pos_file += filemarks;
		d->map.known_end = d->pos_obj;
		d->map.eod_known = 1;
	}
	d->at_eod = 1;
	d->eod_valid = 0;
}

static int lto_write_block(void *priv, const uint8_t *buf, size_t len, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0)
		return r;
	if (len == 0 || len > LTO_MAX_XFER)
		return tp_err_set(err, -EINVAL, "drive %s: block length %zu is not 1..%u", d->name, len, LTO_MAX_XFER);
	if (!d->native && !d->pos_valid)
		return tp_err_set(err, -EIO, "drive %s: position unknown after an error; rewind before writing", d->name);
	uint64_t here = d->native ? 0 : d->pos_obj;
	if (d->ew_seen && !d->native && here < d->ew_obj) {
		d->ew_seen = 0;
		d->ew_bytes = 0;
	}
	if (d->ew_seen && d->leom_reserve && d->ew_bytes + len > d->leom_reserve)
		return tp_err_set(err, -ENOSPC,
				  "drive %s: end of tape (the %llu bytes allowed after the early warning are used up)",
				  d->name, (unsigned long long)d->leom_reserve);
	tp_cdb c;
	if ((r = tp_cdb_write6(&c, 0, (uint32_t)len, err)) < 0)
		return r;
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	r = run(d, &c, (uint8_t *)buf, len, LTO_IO_TIMEOUT_MS, NULL, &s, &cls, &e);
	r = write_result(d, r, cls, &e, err);
	if (r < 0) {
		if (r != -ENOSPC && r != -EROFS)
			d->pos_valid = 0;
		return r;
	}
	if (r == TP_TAPE_WRITE_LEOM || d->ew_seen) {
		if (!d->ew_seen) {
			d->ew_seen = 1;
			d->ew_obj = here;
			d->ew_bytes = 0;
		}
		d->ew_bytes += len;
		r = TP_TAPE_WRITE_LEOM;
	}
	wrote(d, 1, 0);
	return r;
}

static int lto_write_filemarks(void *priv, unsigned count, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0)
		return r;
	if (!d->native && !d->pos_valid)
		return tp_err_set(err, -EIO, "drive %s: position unknown after an error; rewind before writing", d->name);
	tp_cdb c;
	if ((r = tp_cdb_write_filemarks6(&c, 0, count, err)) < 0)
		return r;
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	r = run(d, &c, NULL, 0, LTO_IO_TIMEOUT_MS, NULL, &s, &cls, &e);
	r = write_result(d, r, cls, &e, err);
	if (r < 0) {
		d->pos_valid = 0;
		return r;
	}
	if (count)
		wrote(d, 0, count);
	return 0;
}

/* SPACE(6), or SPACE(16) when the count does not fit 24 bits. */
static int space_dev(lto_drive *d, enum tp_space_code code, int64_t count, tp_sense *s, enum tp_sense_class *cls,
		     tp_err *err)
{
	tp_cdb c;
	int r = count >= -8388608 && count <= 8388607 ? tp_cdb_space6(&c, code, (int32_t)count, err)
						      : tp_cdb_space16(&c, code, count, err);
	if (r < 0)
		return r;
	return run(d, &c, NULL, 0, LTO_MOVE_TIMEOUT_MS, NULL, s, cls, err);
}

/* Tracked mode: moves forward from a valid position to object `to` (<= known_end) with the map. */
static int fwd_known(lto_drive *d, uint64_t to, tp_err *err)
{
	lto_map *m = &d->map;
	tp_sense s;
	enum tp_sense_class cls;
	int r;
	uint64_t fto = map_files_before(m, to);
	if (fto > d->pos_file) {
		if ((r = space_dev(d, TP_SCSI_SPACE_FILEMARKS, (int64_t)(fto - d->pos_file), &s, &cls, err)) < 0) {
			d->pos_valid = 0;
			return r;
		}
		pos_set(d, m->fm[fto - 1] + 1);
	}
	if (to > d->pos_obj) {
		/* blocks inside one file: no filemark is crossed */
		r = space_dev(d, TP_SCSI_SPACE_BLOCKS, (int64_t)(to - d->pos_obj), &s, &cls, err);
		if (r < 0 && !(r == -EIO && cls == TP_SENSE_EOD && m->eod_known && to == m->known_end)) {
			d->pos_valid = 0;
			return r;
		}
		pos_set(d, to);
	}
	return 0;
}

/* Tracked mode: learns the next object by reading it (small buffer); OBJ_* or an error. */
static int probe_next(lto_drive *d, tp_err *err)
{
	uint8_t buf[LTO_PROBE_LEN];
	long r = read_raw(d, buf, sizeof(buf), NULL, err);
	int what;
	if (r == TP_TAPE_READ_EOD)
		what = OBJ_EOD;
	else if (r == TP_TAPE_READ_FILEMARK)
		what = OBJ_FILEMARK;
	else if (r > 0 || r == -EOVERFLOW)
		what = OBJ_BLOCK;
	else {
		d->pos_valid = 0;
		return (int)r;
	}
	int e = learn(d, what, err);
	if (e < 0) {
		d->pos_valid = 0;
		return e;
	}
	return what;
}

/*
 * Tracked mode: positions at object `to`, stopping early when stop(d)
 * says so after each learned object.  Rewinds first when going backwards.
 * Returns 0 at the target, 1 when end of data came first.
 */
static int goto_obj(lto_drive *d, uint64_t to, tp_err *err)
{
	int r;
	if (!d->pos_valid || to < d->pos_obj) {
		if ((r = rewind_dev(d, err)) < 0) {
			d->pos_valid = 0;
			return r;
		}
		pos_set(d, 0);
	}
	uint64_t mid = to < d->map.known_end ? to : d->map.known_end;
	if (mid > d->pos_obj && (r = fwd_known(d, mid, err)) < 0)
		return r;
	while (d->pos_obj < to) {
		if (d->map.eod_known && d->pos_obj == d->map.known_end)
			return 1;
		if ((r = probe_next(d, err)) < 0)
			return r;
		if (r == OBJ_EOD)
			return 1;
	}
	return 0;
}

/* Tracked mode: forward until `files` filemarks are before the position or end of data (1). */
static int goto_file(lto_drive *d, uint64_t files, tp_err *err)
{
	int r;
	if (files == 0)
		return goto_obj(d, 0, err);
	if (files <= d->map.nfm)
		return goto_obj(d, d->map.fm[files - 1] + 1, err);
	if ((r = goto_obj(d, d->map.known_end, err)) != 0)
		return r;
	while (d->pos_file < files) {
		if ((r = probe_next(d, err)) < 0)
			return r;
		if (r == OBJ_EOD)
			return 1;
	}
	return 0;
}

static int space_tracked(lto_drive *d, enum tp_space_kind kind, int64_t count, tp_err *err)
{
	int r;
	lto_map *m = &d->map;
	if (!d->pos_valid)
		return tp_err_set(err, -EIO, "drive %s: position unknown after an error; rewind first", d->name);
	if (kind == TP_SPACE_EOD) {
		r = goto_obj(d, UINT64_MAX, err);
		return r < 0 ? r : TP_SPACE_DONE;
	}
	if (kind == TP_SPACE_FILEMARKS) {
		if (count > 0) {
			r = goto_file(d, d->pos_file + (uint64_t)count, err);
			return r < 0 ? r : r == 1 ? TP_SPACE_HIT_EOD : TP_SPACE_DONE;
		}
		uint64_t back = (uint64_t)(-count);
		if (d->pos_file < back) {
			r = goto_obj(d, 0, err);
			return r < 0 ? r : TP_SPACE_HIT_BOT;
		}
		/* onto the BOT side of filemark pos_file - back */
		r = goto_obj(d, m->fm[d->pos_file - back], err);
		return r < 0 ? r : TP_SPACE_DONE;
	}
	if (count < 0) {
		uint64_t back = (uint64_t)(-count);
		uint64_t f = d->pos_file; /* filemarks before the position; the nearest is fm[f-1] */
		if (f > 0 && m->fm[f - 1] + back >= d->pos_obj) {
			r = goto_obj(d, m->fm[f - 1], err);
			return r < 0 ? r : TP_SPACE_HIT_FILEMARK;
		}
		if (back > d->pos_obj) {
			r = goto_obj(d, 0, err);
			return r < 0 ? r : TP_SPACE_HIT_BOT;
		}
		r = goto_obj(d, d->pos_obj - back, err);
		return r < 0 ? r : TP_SPACE_DONE;
	}
	/* forward blocks: stop after a filemark */
	uint64_t left = (uint64_t)count;
	while (left > 0) {
		if (d->pos_obj < m->known_end) {
			uint64_t f = d->pos_file;
			uint64_t next_fm = f < m->nfm ? m->fm[f] : UINT64_MAX;
			uint64_t end = m->known_end < next_fm ? m->known_end : next_fm;
			uint64_t n = end - d->pos_obj < left ? end - d->pos_obj : left;
			if (n > 0) {
				if ((r = goto_obj(d, d->pos_obj + n, err)) < 0)
					return r;
				left -= n;
				continue;
			}
			/* at a known filemark */
			if ((r = goto_obj(d, d->pos_obj + 1, err)) < 0)
				return r;
			return TP_SPACE_HIT_FILEMARK;
		}
		if (m->eod_known)
			return TP_SPACE_HIT_EOD;
		if ((r = probe_next(d, err)) < 0)
			return r;
		if (r == OBJ_EOD)
			return TP_SPACE_HIT_EOD;
		if (r == OBJ_FILEMARK)
			return TP_SPACE_HIT_FILEMARK;
		left--;
	}
	return TP_SPACE_DONE;
}

static int space_native(lto_drive *d, enum tp_space_kind kind, int64_t count, tp_err *err)
{
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	enum tp_space_code code = kind == TP_SPACE_EOD	     ? TP_SCSI_SPACE_EOD
				  : kind == TP_SPACE_FILEMARKS ? TP_SCSI_SPACE_FILEMARKS
							       : TP_SCSI_SPACE_BLOCKS;
	int r = space_dev(d, code, kind == TP_SPACE_EOD ? 0 : count, &s, &cls, &e);
	d->at_eod = 0;
	if (r == 0) {
		if (kind == TP_SPACE_EOD)
			d->at_eod = 1;
		return TP_SPACE_DONE;
	}
	if (r != -EIO) {
		*err = e;
		return r;
	}
	switch (cls) {
	case TP_SENSE_FILEMARK:
		return kind == TP_SPACE_BLOCKS ? TP_SPACE_HIT_FILEMARK : TP_SPACE_DONE;
	case TP_SENSE_EOD:
		d->at_eod = 1;
		return kind == TP_SPACE_EOD ? TP_SPACE_DONE : TP_SPACE_HIT_EOD;
	case TP_SENSE_BOT:
		return TP_SPACE_HIT_BOT;
	default:
		*err = e;
		return r;
	}
}

static int lto_space(void *priv, enum tp_space_kind kind, int64_t count, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0)
		return r;
	if (d->native)
		return space_native(d, kind, count, err);
	return space_tracked(d, kind, count, err);
}

static int lto_locate(void *priv, uint64_t object, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0)
		return r;
	if (d->native) {
		tp_sense s;
		enum tp_sense_class cls;
		tp_err e = { 0 };
		r = locate_dev(d, object, &s, &cls, &e);
		if (r == 0) {
			d->at_eod = d->eod_valid && object == d->eod_obj;
			return 0;
		}
		if (r == -EIO && cls == TP_SENSE_EOD) {
			d->at_eod = 1;
			return tp_err_set(err, -ESPIPE, "drive %s: locate to object %llu beyond end of data", d->name,
					  (unsigned long long)object);
		}
		*err = e;
		return r;
	}
	r = goto_obj(d, object, err);
	if (r == 1)
		return tp_err_set(err, -ESPIPE, "drive %s: locate to object %llu beyond end of data (%llu objects)",
				  d->name, (unsigned long long)object, (unsigned long long)d->pos_obj);
	return r;
}

static int lto_read_position(void *priv, tp_drive_pos *pos, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0)
		return r;
	if (d->native) {
		tp_position p;
		if ((r = read_position_dev(d, &p, err)) < 0)
			return r;
		pos->object = p.object;
		pos->file = p.file;
		pos->eod = d->at_eod;
		return 0;
	}
	if (!d->pos_valid)
		return tp_err_set(err, -EIO, "drive %s: position unknown after an error (no READ POSITION on %s %s)",
				  d->name, d->inq.vendor, d->inq.product);
	pos->object = d->pos_obj;
	pos->file = d->pos_file;
	pos->eod = d->map.eod_known && d->pos_obj == d->map.known_end;
	return 0;
}

static int lto_set_encryption(void *priv, const uint8_t *key32, tp_err *err)
{
	lto_drive *d = priv;
	if (!key32 && d->enc_supported == 0)
		return 0; /* a drive without encryption has no key to clear */
	tp_err e = { 0 };
	int r = tp_lto_encryption_dev(d->dev, key32, &e);
	if (r == -ENOTSUP) {
		d->enc_supported = 0;
		if (!key32)
			return 0;
	} else if (r == 0) {
		d->enc_supported = 1;
		d->enc_on = key32 != NULL;
		return 0;
	}
	*err = e;
	return tp_err_wrap(err, r, "drive %s", d->name);
}

static int lto_erase(void *priv, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0)
		return r;
	if ((r = rewind_dev(d, err)) < 0) {
		d->pos_valid = 0;
		return r;
	}
	tp_cdb c;
	tp_sense s;
	enum tp_sense_class cls;
	tp_cdb_erase(&c, 0, 0);
	tp_err e = { 0 };
	r = run(d, &c, NULL, 0, LTO_MOVE_TIMEOUT_MS, NULL, &s, &cls, &e);
	if (!d->native)
		pos_set(d, 0);
	if (is_unsupported(r, cls, &s))
		return tp_err_set(err, -ENOTSUP, "drive %s: the device has no ERASE (%s)", d->name, e.msg);
	if (r < 0) {
		*err = e;
		return r;
	}
	map_reset(&d->map);
	d->map.eod_known = 1;
	if (!d->native)
		pos_set(d, 0);
	d->at_eod = 1;
	d->eod_valid = 1;
	d->eod_obj = 0;
	return 0;
}

static int lto_status(void *priv, tp_drive_status *st, tp_err *err)
{
	lto_drive *d = priv;
	memset(st, 0, sizeof(*st));
	tp_cdb c;
	tp_sense s;
	enum tp_sense_class cls;
	tp_err e = { 0 };
	tp_cdb_test_unit_ready(&c);
	int r = run(d, &c, NULL, 0, LTO_TUR_TIMEOUT_MS, NULL, &s, &cls, &e);
	if (r == -EIO && cls == TP_SENSE_NO_MEDIUM)
		medium_gone(d);
	else if (r < 0 && r != -EIO) {
		*err = e;
		return r;
	}
	st->encryption = d->enc_on;
	st->capacity = d->capacity;
	if (!d->loaded)
		return 0;
	st->loaded = 1;
	st->used = d->used;
	tp_drive_pos p;
	if (lto_read_position(d, &p, NULL) == 0)
		st->pos = p;
	if (!d->native && d->map.eod_known)
		st->eod_object = d->map.known_end;
	else if (d->native && d->eod_valid)
		st->eod_object = d->eod_obj;
	return 0;
}

/* TapeAlert flags from the page found at open; -ENOTSUP for a drive without them. */
static int lto_tapealert(void *priv, uint64_t *flags, tp_err *err)
{
	lto_drive *d = priv;
	*flags = 0;
	if (!d->alert_page)
		return tp_err_set(err, -ENOTSUP, "drive %s: no TapeAlert log page", d->name);
	tp_cdb c;
	tp_sense s;
	enum tp_sense_class cls = TP_SENSE_OK;
	tp_scsi_result res;
	uint8_t buf[1024];
	int r = tp_cdb_log_sense(&c, 0, 1, d->alert_page, 0, 0, sizeof(buf), err);
	if (r < 0)
		return r;
	tp_err e = { 0 };
	r = run(d, &c, buf, sizeof(buf), LTO_TUR_TIMEOUT_MS, &res, &s, &cls, &e);
	if (is_unsupported(r, cls, &s)) {
		tp_err_set(err, -ENOTSUP, "drive %s: TapeAlert page 0x%02x not supported (%s)", d->name, d->alert_page,
			   e.msg);
		d->alert_page = 0;
		return -ENOTSUP;
	}
	if (r < 0) {
		*err = e;
		return r;
	}
	if ((r = tp_tapealert_parse(buf, res.transferred > sizeof(buf) ? sizeof(buf) : res.transferred, flags, err)) < 0)
		return tp_err_wrap(err, r, "TapeAlert of %s", d->dev->path);
	return 0;
}

/*
 * The attributes PBS writes at labelling (pbs-formats §10.3): 0800h
 * application vendor, 0801h application name, 0802h application version,
 * 0803h user medium text = the label, 0808h media pool.
 */
static int lto_write_mam(void *priv, const char *label, const char *pool, tp_err *err)
{
	lto_drive *d = priv;
	int r = ensure_loaded(d, err);
	if (r < 0)
		return r;
	if (d->mam_unsupported)
		return tp_err_set(err, -ENOTSUP, "drive %s: WRITE ATTRIBUTE not supported by the device", d->name);
	enum { CAP = 5 * 5 + 8 + 32 + 8 + 160 + 160 + 4 };
	uint8_t buf[CAP];
	size_t used = 0;
	if ((r = tp_mam_append(buf, CAP, &used, 0x0800, TP_MAM_ASCII, "tapir", 5, 8, err)) < 0 ||
	    (r = tp_mam_append(buf, CAP, &used, 0x0801, TP_MAM_ASCII, "tapir backup server", 19, 32, err)) < 0 ||
	    (r = tp_mam_append(buf, CAP, &used, 0x0802, TP_MAM_ASCII, LTO_MAM_VERSION, strlen(LTO_MAM_VERSION), 8,
			       err)) < 0)
		return r;
	if (label && (r = tp_mam_append(buf, CAP, &used, 0x0803, TP_MAM_TEXT, label, strlen(label), 160, err)) < 0)
		return r;
	if (pool && (r = tp_mam_append(buf, CAP, &used, 0x0808, TP_MAM_TEXT, pool, strlen(pool), 160, err)) < 0)
		return r;
	tp_mam_finish(buf, used);
	tp_cdb c;
	tp_cdb_write_attribute(&c, 1, 0, 0, (uint32_t)used);
	tp_sense s;
	enum tp_sense_class cls = TP_SENSE_OK;
	tp_err e = { 0 };
	r = run(d, &c, buf, used, LTO_TUR_TIMEOUT_MS, NULL, &s, &cls, &e);
	if (r == 0)
		return 0;
	*err = e;
	if (is_unsupported(r, cls, &s)) {
		if (s.asc == 0x20)
			d->mam_unsupported = 1;
		return tp_err_wrap(err, -ENOTSUP, "drive %s: WRITE ATTRIBUTE", d->name);
	}
	return tp_err_wrap(err, r, "drive %s: WRITE ATTRIBUTE", d->name);
}

static unsigned lto_missing_caps(void *priv)
{
	lto_drive *d = priv;
	return (d->alert_page ? 0u : (unsigned)TP_DRIVE_CAP_TAPEALERT) | (d->mam_unsupported ? (unsigned)TP_DRIVE_CAP_MAM : 0u);
}

const tp_drive_ops tp_drive_lto_ops = {
	.type = "lto",
	.caps = TP_DRIVE_CAP_LOCATE | TP_DRIVE_CAP_SPACE_BACKWARD | TP_DRIVE_CAP_ENCRYPTION | TP_DRIVE_CAP_ERASE |
		TP_DRIVE_CAP_TAPEALERT | TP_DRIVE_CAP_MAM,
	.open = lto_open,
	.close = lto_close,
	.load = lto_load,
	.unload = lto_unload,
	.rewind = lto_rewind,
	.read_block = lto_read_block,
	.write_block = lto_write_block,
	.write_filemarks = lto_write_filemarks,
	.space = lto_space,
	.locate = lto_locate,
	.read_position = lto_read_position,
	.set_encryption = lto_set_encryption,
	.erase = lto_erase,
	.status = lto_status,
	.tapealert = lto_tapealert,
	.write_mam = lto_write_mam,
	.missing_caps = lto_missing_caps,
};

/* ---- lto-only helpers (drive_diag.h) ---- */

static lto_drive *lto_of(tp_drive *d, tp_err *err)
{
	if (!d || d->ops != &tp_drive_lto_ops) {
		tp_err_set(err, -ENOTSUP, "drive %s is not an lto drive", d ? d->name : "?");
		return NULL;
	}
	return d->priv;
}

int tp_lto_get_info(tp_drive *drv, tp_lto_dev_info *out, tp_err *err)
{
	lto_drive *d = lto_of(drv, err);
	if (!d)
		return -ENOTSUP;
	memset(out, 0, sizeof(*out));
	out->dev = d->dev;
	out->inq = d->inq;
	snprintf(out->serial, sizeof(out->serial), "%s", d->serial);
	out->loaded = d->loaded;
	out->native_position = d->native;
	out->write_protected = d->write_protected;
	out->density = d->density;
	out->compression = d->compression;
	return 0;
}

int tp_lto_tapealert(tp_drive *drv, uint64_t *flags, tp_err *err)
{
	lto_drive *d = lto_of(drv, err);
	if (!d)
		return -ENOTSUP;
	return tp_lto_tapealert_dev(d->dev, flags, err);
}

int tp_lto_write_mam(tp_drive *drv, const char *label, const char *pool, tp_err *err)
{
	if (!lto_of(drv, err))
		return -ENOTSUP;
	return tp_drive_write_mam(drv, label, pool, err);
}

int tp_lto_eject_path(const char *path, const char *who, int lock_timeout_ms, tp_err *err)
{
	lto_drive *d = calloc(1, sizeof(*d));
	if (!d)
		return tp_err_set(err, -ENOMEM, "out of memory");
	d->lock = (tp_lock)TP_LOCK_INIT;
	snprintf(d->name, sizeof(d->name), "%s", who && *who ? who : "changer");
	int r;
	if ((r = lock_device(d, path, lock_timeout_ms, err)) < 0)
		goto out;
	if ((r = tp_scsi_open(path, &d->dev, err)) < 0) {
		tp_err_wrap(err, r, "opening tape drive %s", path);
		goto out;
	}
	tp_cdb c;
	tp_sense s;
	enum tp_sense_class cls = TP_SENSE_OK;
	tp_cdb_prevent_allow(&c, 0);
	simple(d, &c, LTO_TUR_TIMEOUT_MS, NULL);
	tp_cdb_load_unload(&c, 0, 0, 0, 0, 0);
	tp_err e = { 0 };
	r = run(d, &c, NULL, 0, LTO_MOVE_TIMEOUT_MS, NULL, &s, &cls, &e);
	if (r == -EIO && cls == TP_SENSE_NO_MEDIUM)
		r = 0; /* nothing in the drive (or already ejected) */
	if (r < 0) {
		*err = e;
		tp_err_wrap(err, r, "ejecting the cartridge of tape drive %s", path);
	}
out:
	tp_scsi_close(d->dev);
	tp_lock_release(&d->lock);
	free(d);
	return r;
}
