/* The `virtual` drive backend: cartridges as index + data files in a directory, with fault injection. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/lock.h"
#include "crypto/cipher.h"
#include "crypto/hash.h"
#include "tape/drive.h"

/*
 * Cartridge file layout (docs/tape-drives.md is normative):
 *   tape-<label>.idx  64-byte header, then one 64-byte entry per logical object
 *   tape-<label>.dat  the bytes of the data blocks, back to back
 * Data is written before its index entry, so a kill leaves at worst a torn
 * trailing entry or unreferenced trailing data; reopening drops both.
 */
#define VT_MAGIC "TPVTAPE1"
#define VT_VERSION 1
#define VT_HDR 64
#define VT_ENT 64
#define VT_KIND_BLOCK 1
#define VT_KIND_FILEMARK 2
#define VT_FLAG_ENCRYPTED 1
#define VT_MAX_BLOCK (8u << 20)       /* largest block accepted (SCSI WRITE limit PBS uses) */
#define VT_MAX_FAULTS 1024
#define VT_TORN_MAX 2                 /* trailing entries a crash may have torn */

typedef struct vt_entry {
	uint64_t data_offset;
	uint32_t length;
	uint32_t file_number;
	uint8_t kind, flags;
	uint32_t data_crc;
	uint64_t nonce;
	uint8_t tag[16];
	uint8_t key_id[8];
} vt_entry;

typedef struct vt_cart {
	char label[TP_DRIVE_LABEL_MAX + 1];
	int idx_fd, dat_fd;
	uint8_t uuid[16];
	uint64_t count;     /* objects */
	uint64_t dat_end;   /* bytes of data */
	uint64_t filemarks; /* total filemarks */
} vt_cart;

typedef struct vt_faults {
	char media[TP_DRIVE_LABEL_MAX + 1]; /* "" = every cartridge */
	uint64_t *read_error;
	size_t n_read_error;
	uint64_t *corrupt;
	size_t n_corrupt;
	int has_early_eom;
	uint64_t early_eom;
	int not_ready;
	unsigned read_delay_ms; /* every block read sleeps this long (a slow drive for abort tests) */
	uint64_t tapealert;     /* TapeAlert flags the drive reports, bit n-1 = flag n */
} vt_faults;

typedef struct vt_drive {
	char name[TP_DRIVE_NAME_MAX + 1];
	char *path, *media_path;
	uint64_t max_size, ew_bytes;
	tp_lock lock;
	json_t *conf_faults;
	vt_faults faults;
	int loaded;
	vt_cart cart;
	uint64_t pos;
	int have_key;
	uint8_t key[32], key_id[8];
} vt_drive;

int tp_virtual_label_valid(const char *label, tp_err *err)
{
	size_t n = label ? strlen(label) : 0;
	if (n == 0 || n > TP_DRIVE_LABEL_MAX)
		return tp_err_set(err, -EINVAL, "cartridge label must be 1..%d characters", TP_DRIVE_LABEL_MAX);
	if (label[0] == '.')
		return tp_err_set(err, -EINVAL, "cartridge label '%s' must not start with '.'", label);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)label[i];
		if (c < 0x21 || c == 0x7f || c == '/' || c == '\\')
			return tp_err_set(err, -EINVAL, "cartridge label '%s': character %zu is not allowed", label, i);
	}
	return 0;
}

/* ---- entries ---- */

static void entry_encode(const vt_entry *e, uint8_t b[VT_ENT])
{
	memset(b, 0, VT_ENT);
	tp_put_le64(b, e->data_offset);
	tp_put_le32(b + 8, e->length);
	tp_put_le32(b + 12, e->file_number);
	b[16] = e->kind;
	b[17] = e->flags;
	tp_put_le32(b + 20, e->data_crc);
	tp_put_le64(b + 24, e->nonce);
	memcpy(b + 32, e->tag, 16);
	memcpy(b + 48, e->key_id, 8);
	tp_put_le32(b + 60, tp_crc32(0, b, 60));
}

static int entry_decode(const uint8_t b[VT_ENT], vt_entry *e)
{
	if (tp_le32(b + 60) != tp_crc32(0, b, 60))
		return -1;
	e->data_offset = tp_le64(b);
	e->length = tp_le32(b + 8);
	e->file_number = tp_le32(b + 12);
	e->kind = b[16];
	e->flags = b[17];
	e->data_crc = tp_le32(b + 20);
	e->nonce = tp_le64(b + 24);
	memcpy(e->tag, b + 32, 16);
	memcpy(e->key_id, b + 48, 8);
	if (e->kind != VT_KIND_BLOCK && e->kind != VT_KIND_FILEMARK)
		return -1;
	if (e->kind == VT_KIND_FILEMARK ? e->length != 0 : (e->length == 0 || e->length > VT_MAX_BLOCK))
		return -1;
	return 0;
}

static int read_entry(vt_cart *c, uint64_t n, vt_entry *e, tp_err *err)
{
	uint8_t b[VT_ENT];
	int r = tp_pread_exact(c->idx_fd, b, VT_ENT, (off_t)(VT_HDR + n * VT_ENT), err, "cartridge index");
	if (r < 0)
		return tp_err_wrap(err, r, "tape %s: object %llu", c->label, (unsigned long long)n);
	if (entry_decode(b, e) < 0)
		return tp_err_set(err, -TP_EFORMAT, "tape %s: index entry of object %llu is corrupt", c->label,
				  (unsigned long long)n);
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off, tp_err *err, const char *what)
{
	if (lseek(fd, (off_t)off, SEEK_SET) < 0)
		return tp_err_errno(err, "seek %s", what);
	return tp_write_all(fd, buf, len, err, what);
}

/* Filemarks before object o (o <= count). */
static int filemarks_before(vt_cart *c, uint64_t o, uint64_t *out, tp_err *err)
{
	if (o >= c->count) {
		*out = c->filemarks;
		return 0;
	}
	vt_entry e;
	int r = read_entry(c, o, &e, err);
	if (r == 0)
		*out = e.file_number;
	return r;
}

/* Smallest object o in [lo, count] with filemarks_before(o) >= target (count if none). */
static int first_with_files(vt_cart *c, uint64_t lo, uint64_t target, uint64_t *out, tp_err *err)
{
	uint64_t hi = c->count;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2, f = 0;
		int r = filemarks_before(c, mid, &f, err);
		if (r < 0)
			return r;
		if (f >= target)
			hi = mid;
		else
			lo = mid + 1;
	}
	*out = lo;
	return 0;
}

/* ---- cartridge files ---- */

static char *cart_file(const vt_drive *d, const char *label, const char *ext)
{
	return tp_strdup_printf("%s/tape-%s.%s", d->media_path, label, ext);
}

static void cart_close(vt_cart *c)
{
	if (c->idx_fd >= 0)
		close(c->idx_fd);
	if (c->dat_fd >= 0)
		close(c->dat_fd);
	c->idx_fd = c->dat_fd = -1;
}

/* Checks that entry n-1 is whole and its data is there; 1 if good, 0 if torn, <0 on I/O error. */
static int tail_ok(vt_cart *c, uint64_t n, uint64_t dat_size, tp_err *err)
{
	uint8_t b[VT_ENT];
	vt_entry e;
	int r = tp_pread_exact(c->idx_fd, b, VT_ENT, (off_t)(VT_HDR + (n - 1) * VT_ENT), err, "cartridge index");
	if (r < 0)
		return r;
	if (entry_decode(b, &e) < 0)
		return 0;
	if (e.data_offset + e.length > dat_size)
		return 0;
	if (e.kind == VT_KIND_BLOCK) {
		uint8_t *data = malloc(e.length);
		if (!data)
			return tp_err_set(err, -ENOMEM, "out of memory");
		r = tp_pread_exact(c->dat_fd, data, e.length, (off_t)e.data_offset, err, "cartridge data");
		int good = r == 0 && tp_crc32(0, data, e.length) == e.data_crc;
		free(data);
		if (r < 0)
			return r;
		if (!good)
			return 0;
	}
	c->dat_end = e.data_offset + e.length;
	c->filemarks = e.file_number + (e.kind == VT_KIND_FILEMARK);
	return 1;
}

static int cart_open(vt_drive *d, const char *label, int create, vt_cart *c, tp_err *err)
{
	int r;
	char *ip = NULL, *dp = NULL;
	memset(c, 0, sizeof(*c));
	c->idx_fd = c->dat_fd = -1;
	snprintf(c->label, sizeof(c->label), "%s", label);
	if ((r = tp_virtual_label_valid(label, err)) < 0)
		return r;
	ip = cart_file(d, label, "idx");
	dp = cart_file(d, label, "dat");
	if (!ip || !dp) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (!create && !tp_path_exists(ip)) {
		r = tp_err_set(err, -TP_ENOTFOUND, "tape %s: no cartridge files in %s", label, d->media_path);
		goto out;
	}
	c->idx_fd = open(ip, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->idx_fd < 0) {
		r = tp_err_errno(err, "open %s", ip);
		goto out;
	}
	c->dat_fd = open(dp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->dat_fd < 0) {
		r = tp_err_errno(err, "open %s", dp);
		goto out;
	}
	struct stat si, sd;
	if (fstat(c->idx_fd, &si) < 0 || fstat(c->dat_fd, &sd) < 0) {
		r = tp_err_errno(err, "stat cartridge %s", label);
		goto out;
	}
	uint8_t h[VT_HDR];
	if (si.st_size < VT_HDR) {
		/* new (or never completed) cartridge: blank */
		memset(h, 0, sizeof(h));
		memcpy(h, VT_MAGIC, 8);
		tp_put_le32(h + 8, VT_VERSION);
		tp_put_le32(h + 12, VT_ENT);
		if ((r = tp_random_bytes(h + 16, 16)) < 0) {
			tp_err_set(err, r, "tape %s: no random bytes for the cartridge uuid", label);
			goto out;
		}
		tp_put_le32(h + 60, tp_crc32(0, h, 60));
		if (ftruncate(c->dat_fd, 0) < 0 || ftruncate(c->idx_fd, 0) < 0) {
			r = tp_err_errno(err, "truncate cartridge %s", label);
			goto out;
		}
		if ((r = pwrite_all(c->idx_fd, h, sizeof(h), 0, err, ip)) < 0)
			goto out;
		if (fsync(c->idx_fd) < 0) {
			r = tp_err_errno(err, "fsync %s", ip);
			goto out;
		}
		tp_fsync_dir(d->media_path, NULL);
		memcpy(c->uuid, h + 16, 16);
		r = 0;
		goto out;
	}
	if ((r = tp_pread_exact(c->idx_fd, h, sizeof(h), 0, err, ip)) < 0)
		goto out;
	if (memcmp(h, VT_MAGIC, 8) || tp_le32(h + 60) != tp_crc32(0, h, 60)) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: not a tapir virtual cartridge index (bad magic or header CRC)", ip);
		goto out;
	}
	if (tp_le32(h + 8) != VT_VERSION || tp_le32(h + 12) != VT_ENT) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: unsupported version %u / entry size %u", ip, tp_le32(h + 8),
			       tp_le32(h + 12));
		goto out;
	}
	memcpy(c->uuid, h + 16, 16);
	uint64_t n = ((uint64_t)si.st_size - VT_HDR) / VT_ENT;
	int dropped = 0;
	while (n > 0) {
		r = tail_ok(c, n, (uint64_t)sd.st_size, err);
		if (r < 0)
			goto out;
		if (r == 1)
			break;
		if (++dropped > VT_TORN_MAX) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: more than %d damaged entries at the end (object %llu)", ip,
				       VT_TORN_MAX, (unsigned long long)(n - 1));
			goto out;
		}
		n--;
	}
	if (n == 0) {
		c->dat_end = 0;
		c->filemarks = 0;
	}
	c->count = n;
	/* drop a torn tail: partial entry bytes and data nobody references */
	if ((uint64_t)si.st_size != VT_HDR + n * VT_ENT && ftruncate(c->idx_fd, (off_t)(VT_HDR + n * VT_ENT)) < 0) {
		r = tp_err_errno(err, "truncate %s", ip);
		goto out;
	}
	if ((uint64_t)sd.st_size != c->dat_end && ftruncate(c->dat_fd, (off_t)c->dat_end) < 0) {
		r = tp_err_errno(err, "truncate %s", dp);
		goto out;
	}
	r = 0;
out:
	if (r < 0)
		cart_close(c);
	free(ip);
	free(dp);
	return r;
}

/* Drops objects >= pos (writing at a position discards everything after it). */
static int cart_truncate(vt_cart *c, uint64_t pos, tp_err *err)
{
	if (pos >= c->count)
		return 0;
	vt_entry e;
	int r = read_entry(c, pos, &e, err);
	if (r < 0)
		return r;
	if (ftruncate(c->idx_fd, (off_t)(VT_HDR + pos * VT_ENT)) < 0 || ftruncate(c->dat_fd, (off_t)e.data_offset) < 0)
		return tp_err_errno(err, "tape %s: truncate at object %llu", c->label, (unsigned long long)pos);
	c->count = pos;
	c->dat_end = e.data_offset;
	c->filemarks = e.file_number;
	return 0;
}

static int cart_append(vt_cart *c, vt_entry *e, const uint8_t *data, tp_err *err)
{
	int r;
	e->data_offset = c->dat_end;
	e->file_number = (uint32_t)c->filemarks;
	if (e->length && (r = pwrite_all(c->dat_fd, data, e->length, c->dat_end, err, "cartridge data")) < 0)
		return tp_err_wrap(err, r, "tape %s: object %llu", c->label, (unsigned long long)c->count);
	uint8_t b[VT_ENT];
	entry_encode(e, b);
	if ((r = pwrite_all(c->idx_fd, b, VT_ENT, VT_HDR + c->count * VT_ENT, err, "cartridge index")) < 0)
		return tp_err_wrap(err, r, "tape %s: object %llu", c->label, (unsigned long long)c->count);
	c->count++;
	c->dat_end += e->length;
	if (e->kind == VT_KIND_FILEMARK)
		c->filemarks++;
	return 0;
}

/* ---- drive state ---- */

static int save_status(vt_drive *d, tp_err *err)
{
	json_t *o = json_object();
	if (!o)
		return tp_err_set(err, -ENOMEM, "out of memory");
	json_t *cur = json_null();
	if (d->loaded)
		cur = json_pack("{s:s,s:I}", "name", d->cart.label, "pos", (json_int_t)d->pos);
	json_object_set_new(o, "current_tape", cur ? cur : json_null());
	char *p = tp_path_join(d->path, TP_VIRTUAL_STATUS_FILE);
	/*
	 * Not fsynced: this is the emulated drive's memory (which cartridge,
	 * where), written at every load, unload and close.  An fsync here
	 * flushed all chunk data a restore had written so far and stalled the
	 * tape stream for 0.3 s per tape change.  After a power loss the drive
	 * may name the previous cartridge or position; every user re-reads the
	 * labels and locates anyway.
	 */
	int r = p ? tp_json_save_file_ex(p, o, 0600, 0, err) : tp_err_set(err, -ENOMEM, "out of memory");
	free(p);
	json_decref(o);
	return r;
}

int tp_virtual_status_read(const char *dir, char *label, size_t label_size, uint64_t *pos, tp_err *err)
{
	label[0] = 0;
	*pos = 0;
	char *p = tp_path_join(dir, TP_VIRTUAL_STATUS_FILE);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if (!tp_path_exists(p)) {
		free(p);
		return 0;
	}
	json_t *o = tp_json_load_file(p, 65536, err);
	int r = 0;
	if (!o) {
		r = err && err->code ? err->code : -TP_EFORMAT;
		goto out;
	}
	json_t *cur = json_object_get(o, "current_tape");
	if (cur && !json_is_null(cur)) {
		const char *name;
		if ((r = tp_json_get_str(cur, "name", &name, p, err)) < 0)
			goto out;
		if ((r = tp_virtual_label_valid(name, err)) < 0) {
			tp_err_wrap(err, r, "%s", p);
			goto out;
		}
		json_t *jp = json_object_get(cur, "pos");
		if (jp && (!json_is_integer(jp) || json_integer_value(jp) < 0)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: \"pos\" must be a non-negative integer", p);
			goto out;
		}
		snprintf(label, label_size, "%s", name);
		*pos = jp ? (uint64_t)json_integer_value(jp) : 0;
	}
out:
	json_decref(o);
	free(p);
	return r;
}

int tp_virtual_status_write(const char *dir, const char *label, tp_err *err)
{
	json_t *o = json_object();
	if (!o)
		return tp_err_set(err, -ENOMEM, "out of memory");
	json_t *cur = label ? json_pack("{s:s,s:i}", "name", label, "pos", 0) : json_null();
	json_object_set_new(o, "current_tape", cur ? cur : json_null());
	char *p = tp_path_join(dir, TP_VIRTUAL_STATUS_FILE);
	int r = p ? tp_json_save_file(p, o, 0600, err) : tp_err_set(err, -ENOMEM, "out of memory");
	free(p);
	json_decref(o);
	return r;
}

static void faults_clear(vt_faults *f)
{
	free(f->read_error);
	free(f->corrupt);
	memset(f, 0, sizeof(*f));
}

static int fault_list(const json_t *v, const char *key, const char *what, uint64_t **out, size_t *n, tp_err *err)
{
	size_t cnt = json_is_array(v) ? json_array_size(v) : 1;
	if (cnt > VT_MAX_FAULTS)
		return tp_err_set(err, -EINVAL, "%s: \"%s\" lists more than %d objects", what, key, VT_MAX_FAULTS);
	uint64_t *a = calloc(cnt ? cnt : 1, sizeof(*a));
	if (!a)
		return tp_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < cnt; i++) {
		const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
		if (!json_is_integer(x) || json_integer_value(x) < 0) {
			free(a);
			return tp_err_set(err, -EINVAL, "%s: \"%s\" must be a non-negative number or a list of them", what,
					  key);
		}
		a[i] = (uint64_t)json_integer_value(x);
	}
	free(*out);
	*out = a;
	*n = cnt;
	return 0;
}

static int faults_merge(vt_faults *f, const json_t *o, const char *what, tp_err *err)
{
	if (!o || json_is_null(o))
		return 0;
	if (!json_is_object(o))
		return tp_err_set(err, -EINVAL, "%s: faults must be a JSON object", what);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		int r = 0;
		if (!strcmp(k, "read-error")) {
			r = fault_list(v, k, what, &f->read_error, &f->n_read_error, err);
		} else if (!strcmp(k, "corrupt")) {
			r = fault_list(v, k, what, &f->corrupt, &f->n_corrupt, err);
		} else if (!strcmp(k, "early-eom")) {
			if (json_is_null(v)) {
				f->has_early_eom = 0;
			} else if (!json_is_integer(v) || json_integer_value(v) < 0) {
				r = tp_err_set(err, -EINVAL, "%s: \"early-eom\" must be an object number", what);
			} else {
				f->has_early_eom = 1;
				f->early_eom = (uint64_t)json_integer_value(v);
			}
		} else if (!strcmp(k, "not-ready")) {
			if (!json_is_boolean(v))
				r = tp_err_set(err, -EINVAL, "%s: \"not-ready\" must be true or false", what);
			else
				f->not_ready = json_is_true(v);
		} else if (!strcmp(k, "read-delay-ms")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 60000)
				r = tp_err_set(err, -EINVAL, "%s: \"read-delay-ms\" must be 0..60000", what);
			else
				f->read_delay_ms = (unsigned)json_integer_value(v);
		} else if (!strcmp(k, "tapealert")) {
			uint64_t *fl = NULL;
			size_t nfl = 0;
			f->tapealert = 0;
			if ((r = fault_list(v, k, what, &fl, &nfl, err)) == 0) {
				for (size_t i = 0; i < nfl && r == 0; i++) {
					if (fl[i] < 1 || fl[i] > 64)
						r = tp_err_set(err, -EINVAL, "%s: \"tapealert\" flags are 1..64, not %llu", what,
							       (unsigned long long)fl[i]);
					else
						f->tapealert |= 1ull << (fl[i] - 1);
				}
				free(fl);
			}
		} else if (!strcmp(k, "media")) {
			if (json_is_null(v))
				f->media[0] = 0;
			else if (!json_is_string(v) || tp_virtual_label_valid(json_string_value(v), NULL) < 0)
				r = tp_err_set(err, -EINVAL, "%s: \"media\" must be a cartridge label", what);
			else
				snprintf(f->media, sizeof(f->media), "%s", json_string_value(v));
		} else {
			r = tp_err_set(err, -EINVAL, "%s: unknown fault \"%s\" (known: read-error, corrupt, early-eom, not-ready, read-delay-ms, tapealert, media)",
				       what, k);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

/* Faults come from the configuration, then faults.json in the drive directory (re-read at open and load). */
static int faults_reload(vt_drive *d, tp_err *err)
{
	vt_faults f;
	memset(&f, 0, sizeof(f));
	int r = faults_merge(&f, d->conf_faults, "drive configuration", err);
	char *p = tp_path_join(d->path, TP_VIRTUAL_FAULTS_FILE);
	if (!p)
		r = tp_err_set(err, -ENOMEM, "out of memory");
	if (r == 0 && tp_path_exists(p)) {
		json_t *o = tp_json_load_file(p, 1 << 20, err);
		if (!o)
			r = err && err->code ? err->code : -TP_EFORMAT;
		else
			r = faults_merge(&f, o, p, err);
		json_decref(o);
	}
	free(p);
	if (r < 0) {
		faults_clear(&f);
		return r;
	}
	faults_clear(&d->faults);
	d->faults = f;
	return 0;
}

static int fault_applies(const vt_drive *d)
{
	return !d->faults.media[0] || (d->loaded && !strcmp(d->faults.media, d->cart.label));
}

static int in_list(const uint64_t *a, size_t n, uint64_t x)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == x)
			return 1;
	return 0;
}

static int ready(vt_drive *d, int need_media, tp_err *err)
{
	if (d->faults.not_ready && fault_applies(d))
		return tp_err_set(err, -EBUSY, "not ready (injected fault)");
	if (need_media && !d->loaded)
		return tp_err_set(err, -ENOMEDIUM, "no cartridge loaded");
	return 0;
}

/* ---- ops ---- */

static void vt_close(void *priv)
{
	vt_drive *d = priv;
	if (!d)
		return;
	if (d->loaded) {
		save_status(d, NULL);
		cart_close(&d->cart);
	}
	faults_clear(&d->faults);
	json_decref(d->conf_faults);
	tp_lock_release(&d->lock);
	free(d->path);
	free(d->media_path);
	memset(d->key, 0, sizeof(d->key));
	free(d);
}

static int vt_open(const char *name, const json_t *conf, void **priv, tp_err *err)
{
	int r;
	char *lp = NULL;
	vt_drive *d = calloc(1, sizeof(*d));
	if (!d)
		return tp_err_set(err, -ENOMEM, "out of memory");
	d->lock.fd = -1;
	d->cart.idx_fd = d->cart.dat_fd = -1;
	snprintf(d->name, sizeof(d->name), "%s", name);
	const char *path = tp_json_opt_str(conf, "path");
	if (!path || path[0] != '/') {
		r = tp_err_set(err, -EINVAL, "virtual drive needs an absolute \"path\" (directory)");
		goto out;
	}
	const char *mpath = tp_json_opt_str(conf, "media-path");
	d->path = strdup(path);
	d->media_path = strdup(mpath ? mpath : path);
	if (!d->path || !d->media_path) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	json_t *ms = json_object_get(conf, "max-size");
	d->max_size = TP_VIRTUAL_DEFAULT_MAX_SIZE;
	if (ms && !json_is_null(ms)) {
		if (!json_is_integer(ms) || json_integer_value(ms) < (json_int_t)TP_VIRTUAL_MIN_MAX_SIZE) {
			r = tp_err_set(err, -EINVAL, "virtual drive: \"max-size\" must be an integer >= %u bytes",
				       TP_VIRTUAL_MIN_MAX_SIZE);
			goto out;
		}
		d->max_size = (uint64_t)json_integer_value(ms);
	}
	d->ew_bytes = tp_virtual_early_warning(d->max_size);
	int64_t timeout = tp_json_opt_int(conf, "lock-timeout-ms", 10000);
	if ((r = tp_mkdir_p(d->path, 0700, err)) < 0 || (r = tp_mkdir_p(d->media_path, 0700, err)) < 0)
		goto out;
	lp = tp_path_join(d->path, ".drive.lck");
	if (!lp) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	char what[64];
	snprintf(what, sizeof(what), "virtual drive %s", name);
	if ((r = tp_lock_file(&d->lock, lp, TP_LOCK_EXCLUSIVE, (int)timeout, NULL, what, err)) < 0)
		goto out;
	json_t *f = json_object_get(conf, "faults");
	d->conf_faults = f ? json_deep_copy(f) : NULL;
	if ((r = faults_reload(d, err)) < 0)
		goto out;
	char label[TP_DRIVE_LABEL_MAX + 1];
	uint64_t pos;
	if ((r = tp_virtual_status_read(d->path, label, sizeof(label), &pos, err)) < 0)
		goto out;
	if (label[0]) {
		/* a cartridge a changer just put in may never have been written: it is blank */
		if ((r = cart_open(d, label, 1, &d->cart, err)) < 0)
			goto out;
		d->loaded = 1;
		d->pos = pos > d->cart.count ? d->cart.count : pos;
	}
	r = 0;
out:
	free(lp);
	if (r < 0) {
		vt_close(d);
		return r;
	}
	*priv = d;
	return 0;
}

static int vt_unload(void *priv, tp_err *err)
{
	vt_drive *d = priv;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	cart_close(&d->cart);
	d->loaded = 0;
	d->pos = 0;
	return save_status(d, err);
}

static int vt_load(void *priv, const char *label, tp_err *err)
{
	vt_drive *d = priv;
	int r;
	if ((r = faults_reload(d, err)) < 0)
		return r;
	if (!label) {
		if ((r = ready(d, 1, err)) < 0)
			return r;
		d->pos = 0;
		return save_status(d, err);
	}
	if ((r = tp_virtual_label_valid(label, err)) < 0)
		return r;
	if ((r = ready(d, 0, err)) < 0)
		return r;
	if (d->loaded && (r = vt_unload(d, err)) < 0)
		return r;
	if ((r = cart_open(d, label, 1, &d->cart, err)) < 0)
		return r;
	d->loaded = 1;
	d->pos = 0;
	if ((r = ready(d, 1, err)) < 0) /* a fault restricted to this cartridge */
		return r;
	return save_status(d, err);
}

static int vt_rewind(void *priv, tp_err *err)
{
	vt_drive *d = priv;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	d->pos = 0;
	return 0;
}

static void iv_for(const vt_cart *c, uint64_t object, uint64_t nonce, uint8_t iv[16])
{
	uint8_t m[32], h[32];
	memcpy(m, c->uuid, 16);
	tp_put_le64(m + 16, object);
	tp_put_le64(m + 24, nonce);
	tp_sha256(m, sizeof(m), h);
	memcpy(iv, h, 16);
}

static void key_id_of(const uint8_t key[32], uint8_t id[8])
{
	uint8_t h[32];
	tp_hmac_sha256(key, 32, "tapir virtual drive key id", 26, h);
	memcpy(id, h, 8);
}

static void flip_bytes(uint8_t *buf, size_t len)
{
	size_t at[3] = { len > 16 ? 16 : 0, len / 2, len - 1 };
	for (int i = 0; i < 3; i++)
		if (i == 0 || (at[i] != at[0] && at[i] != at[i - 1]))
			buf[at[i]] ^= 0x5a;
}

static long vt_read_block(void *priv, uint8_t *buf, size_t cap, tp_err *err)
{
	vt_drive *d = priv;
	vt_cart *c = &d->cart;
	uint8_t *tmp = NULL;
	long r = ready(d, 1, err);
	if (r < 0)
		return r;
	if (d->pos >= c->count)
		return TP_TAPE_READ_EOD;
	uint64_t obj = d->pos;
	vt_entry e;
	if ((r = read_entry(c, obj, &e, err)) < 0)
		return r;
	d->pos++; /* also after a failed read: the object passed under the head */
	if (d->faults.read_delay_ms && fault_applies(d)) {
		struct timespec ts = { d->faults.read_delay_ms / 1000, (long)(d->faults.read_delay_ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (fault_applies(d) && in_list(d->faults.read_error, d->faults.n_read_error, obj))
		return tp_err_set(err, -EIO, "tape %s: medium error reading object %llu (injected fault)", c->label,
				  (unsigned long long)obj);
	if (e.kind == VT_KIND_FILEMARK)
		return TP_TAPE_READ_FILEMARK;
	if (e.length > cap)
		return tp_err_set(err, -EOVERFLOW, "tape %s: block at object %llu has %u bytes, buffer holds only %zu",
				  c->label, (unsigned long long)obj, e.length, cap);
	int enc = e.flags & VT_FLAG_ENCRYPTED;
	uint8_t *dst = buf;
	if (enc) {
		if (!d->have_key)
			return tp_err_set(err, -TP_EKEY, "tape %s: block at object %llu is encrypted, no key loaded",
					  c->label, (unsigned long long)obj);
		if (memcmp(e.key_id, d->key_id, 8))
			return tp_err_set(err, -TP_EKEY, "tape %s: block at object %llu is encrypted, wrong key", c->label,
					  (unsigned long long)obj);
		tmp = malloc(e.length);
		if (!tmp)
			return tp_err_set(err, -ENOMEM, "out of memory");
		dst = tmp;
	}
	if ((r = tp_pread_exact(c->dat_fd, dst, e.length, (off_t)e.data_offset, err, "cartridge data")) < 0) {
		tp_err_wrap(err, (int)r, "tape %s: object %llu", c->label, (unsigned long long)obj);
		goto out;
	}
	if (tp_crc32(0, dst, e.length) != e.data_crc) {
		r = tp_err_set(err, -EIO, "tape %s: medium error at object %llu (data CRC mismatch in %s/tape-%s.dat)",
			       c->label, (unsigned long long)obj, d->media_path, c->label);
		goto out;
	}
	if (enc) {
		uint8_t iv[16];
		iv_for(c, obj, e.nonce, iv);
		if (tp_aes_gcm_decrypt(d->key, iv, tmp, e.length, e.tag, buf, NULL) < 0) {
			r = tp_err_set(err, -TP_EKEY, "tape %s: block at object %llu is encrypted, wrong key (tag mismatch)",
				       c->label, (unsigned long long)obj);
			goto out;
		}
	}
	if (fault_applies(d) && in_list(d->faults.corrupt, d->faults.n_corrupt, obj))
		flip_bytes(buf, e.length);
	r = (long)e.length;
out:
	free(tmp);
	return r;
}

/* Hard end for the next object: the configured capacity or an injected early end of medium. */
static int check_space(vt_drive *d, uint64_t start, size_t len, tp_err *err)
{
	if (d->faults.has_early_eom && fault_applies(d) && d->pos >= d->faults.early_eom)
		return tp_err_set(err, -ENOSPC, "tape %s: end of medium at object %llu (injected early end of medium)",
				  d->cart.label, (unsigned long long)d->pos);
	if (start + len > d->max_size)
		return tp_err_set(err, -ENOSPC, "tape %s: end of medium at object %llu (%llu of %llu bytes used, block of %zu not written)",
				  d->cart.label, (unsigned long long)d->pos, (unsigned long long)start,
				  (unsigned long long)d->max_size, len);
	return 0;
}

static int vt_write_block(void *priv, const uint8_t *buf, size_t len, tp_err *err)
{
	vt_drive *d = priv;
	vt_cart *c = &d->cart;
	uint8_t *ct = NULL;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	if (len == 0 || len > VT_MAX_BLOCK)
		return tp_err_set(err, -EINVAL, "tape %s: block length %zu out of range 1..%u", c->label, len,
				  VT_MAX_BLOCK);
	uint64_t start = c->dat_end;
	if (d->pos < c->count) {
		vt_entry at;
		if ((r = read_entry(c, d->pos, &at, err)) < 0)
			return r;
		start = at.data_offset;
	}
	if ((r = check_space(d, start, len, err)) < 0)
		return r;
	if ((r = cart_truncate(c, d->pos, err)) < 0)
		return r;
	vt_entry e;
	memset(&e, 0, sizeof(e));
	e.kind = VT_KIND_BLOCK;
	e.length = (uint32_t)len;
	const uint8_t *data = buf;
	if (d->have_key) {
		ct = malloc(len);
		if (!ct)
			return tp_err_set(err, -ENOMEM, "out of memory");
		uint8_t iv[16];
		if ((r = tp_random_bytes(&e.nonce, sizeof(e.nonce))) < 0) {
			tp_err_set(err, r, "no random bytes for the block nonce");
			goto out;
		}
		iv_for(c, d->pos, e.nonce, iv);
		if ((r = tp_aes_gcm_encrypt(d->key, iv, buf, len, ct, e.tag, err)) < 0)
			goto out;
		e.flags = VT_FLAG_ENCRYPTED;
		memcpy(e.key_id, d->key_id, 8);
		data = ct;
	}
	e.data_crc = tp_crc32(0, data, len);
	if ((r = cart_append(c, &e, data, err)) < 0)
		goto out;
	d->pos++;
	r = TP_TAPE_WRITE_OK;
	if (c->dat_end > d->max_size - d->ew_bytes)
		r = TP_TAPE_WRITE_LEOM;
	if (d->faults.has_early_eom && fault_applies(d) && d->pos + TP_VIRTUAL_EW_BLOCKS >= d->faults.early_eom)
		r = TP_TAPE_WRITE_LEOM;
out:
	free(ct);
	return r;
}

static int vt_write_filemarks(void *priv, unsigned count, tp_err *err)
{
	vt_drive *d = priv;
	vt_cart *c = &d->cart;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	if ((r = cart_truncate(c, d->pos, err)) < 0)
		return r;
	for (unsigned i = 0; i < count; i++) {
		vt_entry e;
		memset(&e, 0, sizeof(e));
		e.kind = VT_KIND_FILEMARK;
		if ((r = cart_append(c, &e, NULL, err)) < 0)
			return r;
		d->pos++;
	}
	/* a filemark flushes the drive buffer */
	if (fsync(c->dat_fd) < 0 || fsync(c->idx_fd) < 0)
		return tp_err_errno(err, "tape %s: fsync", c->label);
	return 0;
}

static int vt_space(void *priv, enum tp_space_kind kind, int64_t count, tp_err *err)
{
	vt_drive *d = priv;
	vt_cart *c = &d->cart;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	if (kind == TP_SPACE_EOD) {
		d->pos = c->count;
		return TP_SPACE_DONE;
	}
	if (kind == TP_SPACE_BLOCKS) {
		vt_entry e;
		for (int64_t i = 0; i < (count < 0 ? -count : count); i++) {
			if (count > 0) {
				if (d->pos >= c->count)
					return TP_SPACE_HIT_EOD;
				if ((r = read_entry(c, d->pos, &e, err)) < 0)
					return r;
				d->pos++;
			} else {
				if (d->pos == 0)
					return TP_SPACE_HIT_BOT;
				if ((r = read_entry(c, d->pos - 1, &e, err)) < 0)
					return r;
				d->pos--;
			}
			if (e.kind == VT_KIND_FILEMARK)
				return TP_SPACE_HIT_FILEMARK;
		}
		return TP_SPACE_DONE;
	}
	if (kind != TP_SPACE_FILEMARKS)
		return tp_err_set(err, -EINVAL, "unknown space kind %d", (int)kind);
	uint64_t fb = 0;
	if ((r = filemarks_before(c, d->pos, &fb, err)) < 0)
		return r;
	if (count > 0) {
		uint64_t target = fb + (uint64_t)count;
		if (c->filemarks < target) {
			d->pos = c->count;
			return TP_SPACE_HIT_EOD;
		}
		if ((r = first_with_files(c, d->pos, target, &d->pos, err)) < 0)
			return r;
		return TP_SPACE_DONE;
	}
	uint64_t back = (uint64_t)(-count);
	if (fb < back) {
		d->pos = 0;
		return TP_SPACE_HIT_BOT;
	}
	/* onto the BOP side of filemark number fb - back (0-based) */
	uint64_t after;
	if ((r = first_with_files(c, 0, fb - back + 1, &after, err)) < 0)
		return r;
	d->pos = after - 1;
	return TP_SPACE_DONE;
}

static int vt_locate(void *priv, uint64_t object, tp_err *err)
{
	vt_drive *d = priv;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	if (object > d->cart.count) {
		d->pos = d->cart.count;
		return tp_err_set(err, -ESPIPE, "tape %s: locate to object %llu beyond end of data (%llu objects)",
				  d->cart.label, (unsigned long long)object, (unsigned long long)d->cart.count);
	}
	d->pos = object;
	return 0;
}

static int vt_read_position(void *priv, tp_drive_pos *pos, tp_err *err)
{
	vt_drive *d = priv;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	uint64_t f = 0;
	if ((r = filemarks_before(&d->cart, d->pos, &f, err)) < 0)
		return r;
	pos->object = d->pos;
	pos->file = f;
	pos->eod = d->pos >= d->cart.count;
	return 0;
}

static int vt_set_encryption(void *priv, const uint8_t *key32, tp_err *err)
{
	vt_drive *d = priv;
	int r = ready(d, 0, err);
	if (r < 0)
		return r;
	if (!key32) {
		memset(d->key, 0, sizeof(d->key));
		d->have_key = 0;
		return 0;
	}
	memcpy(d->key, key32, 32);
	key_id_of(d->key, d->key_id);
	d->have_key = 1;
	return 0;
}

static int vt_erase(void *priv, tp_err *err)
{
	vt_drive *d = priv;
	int r = ready(d, 1, err);
	if (r < 0)
		return r;
	if (ftruncate(d->cart.idx_fd, VT_HDR) < 0 || ftruncate(d->cart.dat_fd, 0) < 0)
		return tp_err_errno(err, "tape %s: erase", d->cart.label);
	d->cart.count = d->cart.dat_end = d->cart.filemarks = 0;
	d->pos = 0;
	return 0;
}

static int vt_status(void *priv, tp_drive_status *st, tp_err *err)
{
	vt_drive *d = priv;
	(void)err;
	memset(st, 0, sizeof(*st));
	st->capacity = d->max_size;
	st->encryption = d->have_key;
	if (!d->loaded)
		return 0;
	st->loaded = 1;
	snprintf(st->label, sizeof(st->label), "%s", d->cart.label);
	st->eod_object = d->cart.count;
	st->used = d->cart.dat_end;
	st->pos.object = d->pos;
	st->pos.eod = d->pos >= d->cart.count;
	if (filemarks_before(&d->cart, d->pos, &st->pos.file, NULL) < 0)
		st->pos.file = 0;
	return 0;
}

/* The flags of the "tapealert" fault: a virtual drive is a healthy drive otherwise. */
static int vt_tapealert(void *priv, uint64_t *flags, tp_err *err)
{
	(void)err;
	vt_drive *d = priv;
	*flags = fault_applies(d) ? d->faults.tapealert : 0;
	return 0;
}

uint64_t tp_virtual_early_warning(uint64_t max_size)
{
	uint64_t ew = max_size / 50;
	uint64_t min = (uint64_t)TP_VIRTUAL_EW_BLOCKS * TP_TAPE_BLOCK_SIZE;
	return ew < min ? min : ew;
}

const tp_drive_ops tp_drive_virtual_ops = {
	.type = "virtual",
	.caps = TP_DRIVE_CAP_LOCATE | TP_DRIVE_CAP_SPACE_BACKWARD | TP_DRIVE_CAP_ENCRYPTION |
		TP_DRIVE_CAP_LOAD_BY_LABEL | TP_DRIVE_CAP_FAULTS | TP_DRIVE_CAP_ERASE | TP_DRIVE_CAP_TAPEALERT,
	.tapealert = vt_tapealert,
	.open = vt_open,
	.close = vt_close,
	.load = vt_load,
	.unload = vt_unload,
	.rewind = vt_rewind,
	.read_block = vt_read_block,
	.write_block = vt_write_block,
	.write_filemarks = vt_write_filemarks,
	.space = vt_space,
	.locate = vt_locate,
	.read_position = vt_read_position,
	.set_encryption = vt_set_encryption,
	.erase = vt_erase,
	.status = vt_status,
};
