/* Generic tape drive layer: registry, cached position and state, errors, counters (see drive.h). */
#include "tape/drive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "tape/scsi_cdb.h"

extern const tp_drive_ops tp_drive_virtual_ops;
extern const tp_drive_ops tp_drive_lto_ops;

static const tp_drive_ops *const registry[] = {
	&tp_drive_virtual_ops,
	&tp_drive_lto_ops,
};

static const char *const type_names[] = { "virtual", "lto", NULL };

const tp_drive_ops *tp_drive_ops_lookup(const char *type)
{
	if (!type)
		return NULL;
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (!strcmp(registry[i]->type, type))
			return registry[i];
	return NULL;
}

const char *const *tp_drive_types(void)
{
	return type_names;
}

/* Records a failure as the drive's last error, prefixed with the drive name, and hands it to err. */
static int fail(tp_drive *d, int r, tp_err *e, tp_err *err)
{
	tp_err_wrap(e, r, "drive %s", d->name);
	d->last_err = *e;
	if (err)
		*err = *e;
	return r;
}

static int need_media(tp_drive *d, const char *op, tp_err *err)
{
	if (d->loaded)
		return 0;
	tp_err e = { 0 };
	tp_err_set(&e, -ENOMEDIUM, "%s: no cartridge loaded", op);
	return fail(d, -ENOMEDIUM, &e, err);
}

static int need_cap(tp_drive *d, unsigned cap, const char *op, tp_err *err)
{
	if (d->caps & cap)
		return 0;
	tp_err e = { 0 };
	tp_err_set(&e, -ENOTSUP, "%s is not supported by drive type '%s'", op, d->ops->type);
	return fail(d, -ENOTSUP, &e, err);
}

/* After an error the tape may have moved: ask the device, or forget the position. */
static void resync(tp_drive *d)
{
	tp_err e = { 0 };
	tp_drive_pos p;
	if (d->loaded && d->ops->read_position && d->ops->read_position(d->priv, &p, &e) == 0) {
		d->pos = p;
		d->pos_known = 1;
	} else {
		d->pos_known = 0;
	}
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

/* The capability bits of this device: the type's, without what the backend found missing. */
static void refresh_caps(tp_drive *d)
{
	d->caps = d->ops->caps;
	if (d->ops->missing_caps)
		d->caps &= ~d->ops->missing_caps(d->priv);
}

static void refresh_status(tp_drive *d)
{
	tp_drive_status st;
	tp_err e = { 0 };
	memset(&st, 0, sizeof(st));
	if (d->ops->status(d->priv, &st, &e) < 0)
		return;
	d->loaded = st.loaded;
	snprintf(d->label, sizeof(d->label), "%s", st.label);
	if (st.loaded) {
		d->pos = st.pos;
		d->pos_known = 1;
	}
	d->media_bytes = st.capacity;
	d->encryption = st.encryption;
}

int tp_drive_open(const char *type, const char *name, const json_t *conf, tp_drive **out, tp_err *err)
{
	*out = NULL;
	const tp_drive_ops *ops = tp_drive_ops_lookup(type);
	if (!ops)
		return tp_err_set(err, -EINVAL, "drive %s: unknown drive type '%s'", name, type ? type : "");
	if (!name || strlen(name) > TP_DRIVE_NAME_MAX)
		return tp_err_set(err, -EINVAL, "drive name missing or longer than %d characters", TP_DRIVE_NAME_MAX);
	tp_drive *d = calloc(1, sizeof(*d));
	if (!d)
		return tp_err_set(err, -ENOMEM, "drive %s: out of memory", name);
	d->ops = ops;
	snprintf(d->name, sizeof(d->name), "%s", name);
	tp_err e = { 0 };
	int r = ops->open(name, conf, &d->priv, &e);
	if (r < 0) {
		fail(d, r, &e, err);
		free(d);
		return r;
	}
	refresh_caps(d);
	refresh_status(d);
	*out = d;
	return 0;
}

void tp_drive_close(tp_drive *d)
{
	if (!d)
		return;
	d->ops->close(d->priv);
	free(d);
}

/* Counts the rewind the drive does when it leaves a position > 0 for BOT. */
static void count_rewind(tp_drive *d)
{
	if (d->pos_known && d->pos.object == 0)
		return;
	d->counters.rewinds++;
	if (d->pos_known)
		d->counters.rewind_bytes += tp_drive_pos_blocks(&d->pos) * (uint64_t)TP_TAPE_BLOCK_SIZE;
}

static void at_bot(tp_drive *d)
{
	memset(&d->pos, 0, sizeof(d->pos));
	d->pos_known = 1;
	d->leom = 0;
	resync(d); /* picks up eod on a blank cartridge */
}

int tp_drive_rewind(tp_drive *d, tp_err *err)
{
	int r = need_media(d, "rewind", err);
	if (r < 0)
		return r;
	tp_err e = { 0 };
	r = d->ops->rewind(d->priv, &e);
	if (r < 0) {
		resync(d);
		return fail(d, r, &e, err);
	}
	count_rewind(d);
	at_bot(d);
	return 0;
}

static int do_load(tp_drive *d, const char *label, int reload, tp_err *err);

int tp_drive_load(tp_drive *d, const char *label, tp_err *err)
{
	return do_load(d, label, 0, err);
}

int tp_drive_reload(tp_drive *d, tp_err *err)
{
	return do_load(d, NULL, d->loaded, err);
}

/* reload: the cartridge is threaded already, so LOAD only takes it back to BOT and is counted as that rewind */
static int do_load(tp_drive *d, const char *label, int reload, tp_err *err)
{
	tp_err e = { 0 };
	if (label && d->loaded && !strcmp(label, d->label))
		return tp_drive_rewind(d, err);
	if (label && !(d->ops->caps & TP_DRIVE_CAP_LOAD_BY_LABEL)) {
		tp_err_set(&e, -ENOTSUP, "cannot load cartridge '%s' by label: drive type '%s' needs a changer",
			   label, d->ops->type);
		return fail(d, -ENOTSUP, &e, err);
	}
	int was_loaded = d->loaded;
	int r = d->ops->load(d->priv, label, &e);
	if (was_loaded && label) {
		/* the backend unloaded the previous cartridge first */
		count_rewind(d);
		d->counters.unloads++;
	}
	if (r < 0) {
		refresh_status(d);
		return fail(d, r, &e, err);
	}
	if (reload)
		count_rewind(d);
	else
		d->counters.loads++;
	refresh_caps(d);
	refresh_status(d);
	d->loaded = 1;
	d->alerts_checked = 0;
	if (label)
		snprintf(d->label, sizeof(d->label), "%s", label);
	at_bot(d);
	return 0;
}

int tp_drive_unload(tp_drive *d, tp_err *err)
{
	int r = need_media(d, "unload", err);
	if (r < 0)
		return r;
	tp_err e = { 0 };
	r = d->ops->unload(d->priv, &e);
	if (r < 0) {
		refresh_status(d);
		return fail(d, r, &e, err);
	}
	count_rewind(d);
	d->counters.unloads++;
	d->alerts_checked = 0;
	d->loaded = 0;
	d->label[0] = 0;
	d->leom = 0;
	memset(&d->pos, 0, sizeof(d->pos));
	d->pos_known = 0;
	return 0;
}

long tp_drive_read_block(tp_drive *d, uint8_t *buf, size_t cap, tp_err *err)
{
	int r0 = need_media(d, "read", err);
	if (r0 < 0)
		return r0; /* -ENOMEDIUM, never -1 */
	tp_err e = { 0 };
	long r = d->ops->read_block(d->priv, buf, cap, &e);
	if (r > 0) {
		d->pos.object++;
		d->pos.eod = 0;
		d->counters.blocks_read++;
		d->counters.bytes_read += (uint64_t)r;
		return r;
	}
	if (r == TP_TAPE_READ_FILEMARK) {
		d->pos.object++;
		d->pos.file++;
		d->pos.eod = 0;
		d->counters.filemarks_read++;
		return r;
	}
	if (r == TP_TAPE_READ_EOD) {
		d->pos.eod = 1;
		return r;
	}
	resync(d);
	if (r == -EOVERFLOW) {
		/* the block passed under the head: it was read, just not delivered */
		d->counters.blocks_read++;
		d->counters.bytes_read += cap;
	}
	if (r == -EPERM)
		r = -EACCES; /* -1 means end of data to readers; keep errors <= -2 */
	return fail(d, (int)r, &e, err);
}

int tp_drive_write_block(tp_drive *d, const uint8_t *buf, size_t len, tp_err *err)
{
	int r = need_media(d, "write", err);
	if (r < 0)
		return r;
	if (!d->alerts_checked && (r = tp_drive_check_tapealert(d, err)) < 0)
		return r;
	tp_err e = { 0 };
	r = d->ops->write_block(d->priv, buf, len, &e);
	if (r >= 0) {
		d->pos.object++;
		d->pos.eod = 1;
		d->counters.blocks_written++;
		d->counters.bytes_written += len;
		if (r == TP_TAPE_WRITE_LEOM)
			d->leom = 1;
		return r;
	}
	if (r == -ENOSPC)
		d->leom = 1;
	resync(d);
	return fail(d, r, &e, err);
}

int tp_drive_write_filemarks(tp_drive *d, unsigned count, tp_err *err)
{
	int r = need_media(d, "write filemarks", err);
	if (r < 0)
		return r;
	if (count && !d->alerts_checked && (r = tp_drive_check_tapealert(d, err)) < 0)
		return r;
	tp_err e = { 0 };
	r = d->ops->write_filemarks(d->priv, count, &e);
	if (r < 0) {
		resync(d);
		return fail(d, r, &e, err);
	}
	d->pos.object += count;
	d->pos.file += count;
	d->pos.eod = 1;
	d->counters.filemarks_written += count;
	return 0;
}

/* Counts a positioning move from `before` to the device's new position. */
static void count_move(tp_drive *d, const tp_drive_pos *before, int known_before, int is_locate)
{
	resync(d);
	if (!known_before || !d->pos_known)
		return;
	/* objects as the drive counts them; tape passed as blocks, the filemarks between taking none */
	uint64_t n = absdiff(before->object, d->pos.object);
	uint64_t bytes = absdiff(tp_drive_pos_blocks(before), tp_drive_pos_blocks(&d->pos)) * (uint64_t)TP_TAPE_BLOCK_SIZE;
	if (is_locate) {
		d->counters.locates++;
		d->counters.locate_objects += n;
		d->counters.locate_bytes += bytes;
	} else {
		d->counters.spaces++;
		d->counters.space_objects += n;
		d->counters.space_bytes += bytes;
	}
	if (d->pos.object < before->object)
		d->leom = 0;
}

int tp_drive_space(tp_drive *d, enum tp_space_kind kind, int64_t count, tp_err *err)
{
	int r = need_media(d, "space", err);
	if (r < 0)
		return r;
	if (count < 0 && (r = need_cap(d, TP_DRIVE_CAP_SPACE_BACKWARD, "backward space", err)) < 0)
		return r;
	if (kind != TP_SPACE_EOD && count == 0)
		return TP_SPACE_DONE;
	tp_drive_pos before = d->pos;
	int known = d->pos_known;
	tp_err e = { 0 };
	r = d->ops->space(d->priv, kind, count, &e);
	count_move(d, &before, known, 0);
	if (r < 0)
		return fail(d, r, &e, err);
	return r;
}

int tp_drive_locate(tp_drive *d, uint64_t object, tp_err *err)
{
	int r = need_media(d, "locate", err);
	if (r < 0)
		return r;
	if ((r = need_cap(d, TP_DRIVE_CAP_LOCATE, "locate", err)) < 0)
		return r;
	if (d->pos_known && d->pos.object == object)
		return 0;
	tp_drive_pos before = d->pos;
	int known = d->pos_known;
	tp_err e = { 0 };
	r = d->ops->locate(d->priv, object, &e);
	count_move(d, &before, known, 1);
	if (r < 0)
		return fail(d, r, &e, err);
	return 0;
}

int tp_drive_read_position(tp_drive *d, tp_drive_pos *pos, tp_err *err)
{
	int r = need_media(d, "read position", err);
	if (r < 0)
		return r;
	if ((r = need_cap(d, TP_DRIVE_CAP_LOCATE, "read position", err)) < 0)
		return r;
	tp_err e = { 0 };
	r = d->ops->read_position(d->priv, pos, &e);
	if (r < 0) {
		d->pos_known = 0;
		return fail(d, r, &e, err);
	}
	d->pos = *pos;
	d->pos_known = 1;
	return 0;
}

int tp_drive_move_to_eod(tp_drive *d, tp_err *err)
{
	int r = tp_drive_space(d, TP_SPACE_EOD, 0, err);
	return r < 0 ? r : 0;
}

int tp_drive_move_to_file(tp_drive *d, uint64_t file, tp_err *err)
{
	int r = need_media(d, "move to file", err);
	if (r < 0)
		return r;
	if (file == 0)
		return tp_drive_rewind(d, err);
	if (!d->pos_known) {
		tp_drive_pos p;
		if ((r = tp_drive_read_position(d, &p, err)) < 0)
			return r;
	}
	int64_t delta;
	if (d->pos.file < file) {
		delta = (int64_t)(file - d->pos.file);
	} else if (d->caps & TP_DRIVE_CAP_SPACE_BACKWARD) {
		/* back onto the BOT side of filemark file-1, then forward over it */
		r = tp_drive_space(d, TP_SPACE_FILEMARKS, -(int64_t)(d->pos.file - file + 1), err);
		if (r < 0)
			return r;
		delta = 1;
	} else {
		if ((r = tp_drive_rewind(d, err)) < 0)
			return r;
		delta = (int64_t)file;
	}
	r = tp_drive_space(d, TP_SPACE_FILEMARKS, delta, err);
	if (r < 0)
		return r;
	if (r != TP_SPACE_DONE || d->pos.file != file) {
		tp_err e = { 0 };
		tp_err_set(&e, -ENOENT, "move to file %llu: the tape %s holds only %llu files",
			   (unsigned long long)file, d->label, (unsigned long long)d->pos.file);
		return fail(d, -ENOENT, &e, err);
	}
	return 0;
}

int tp_drive_set_encryption(tp_drive *d, const uint8_t *key32, tp_err *err)
{
	int r;
	if (!key32 && !(d->caps & TP_DRIVE_CAP_ENCRYPTION))
		return 0; /* nothing to switch off */
	if ((r = need_cap(d, TP_DRIVE_CAP_ENCRYPTION, "encryption", err)) < 0)
		return r;
	tp_err e = { 0 };
	r = d->ops->set_encryption(d->priv, key32, &e);
	if (r < 0)
		return fail(d, r, &e, err);
	d->encryption = key32 != NULL;
	return 0;
}

int tp_drive_erase(tp_drive *d, tp_err *err)
{
	int r = need_media(d, "erase", err);
	if (r < 0)
		return r;
	if ((r = need_cap(d, TP_DRIVE_CAP_ERASE, "erase", err)) < 0)
		return r;
	tp_err e = { 0 };
	r = d->ops->erase(d->priv, &e);
	if (r < 0) {
		resync(d);
		return fail(d, r, &e, err);
	}
	count_rewind(d);
	at_bot(d);
	return 0;
}

int tp_drive_get_status(tp_drive *d, tp_drive_status *st, tp_err *err)
{
	memset(st, 0, sizeof(*st));
	tp_err e = { 0 };
	int r = d->ops->status(d->priv, st, &e);
	if (r < 0)
		return fail(d, r, &e, err);
	d->loaded = st->loaded;
	snprintf(d->label, sizeof(d->label), "%s", st->label);
	if (st->loaded) {
		d->pos = st->pos;
		d->pos_known = 1;
	}
	st->leom = d->leom;
	return 0;
}

int tp_drive_check_tapealert(tp_drive *d, tp_err *err)
{
	int r = need_media(d, "TapeAlert check", err);
	if (r < 0)
		return r;
	if (!(d->caps & TP_DRIVE_CAP_TAPEALERT) || !d->ops->tapealert) {
		d->alerts_checked = 1;
		return 0;
	}
	uint64_t flags = 0;
	tp_err e = { 0 };
	r = d->ops->tapealert(d->priv, &flags, &e);
	if (r == -ENOTSUP) {
		/* found out only now (e.g. no TapeAlert page): remember it, as a probe at open would have */
		d->caps &= ~(unsigned)TP_DRIVE_CAP_TAPEALERT;
		d->alerts_checked = 1;
		return 0;
	}
	if (r < 0) {
		/* as PBS: a drive that cannot tell is not a drive that reports a fault */
		tp_warn("drive %s: reading the TapeAlert flags failed, not checked: %s", d->name, e.msg);
		d->alerts_checked = 1;
		return 0;
	}
	uint64_t crit = flags & tp_tapealert_critical_mask();
	for (int f = 1; f <= 64; f++)
		if ((flags & ~crit) & (1ull << (f - 1)))
			tp_warn("drive %s: TapeAlert flag %d (%s) is set", d->name, f, tp_tapealert_name(f));
	if (!crit) {
		d->alerts_checked = 1;
		return 0;
	}
	tp_buf b = { 0 };
	int br = 0;
	for (int f = 1; f <= 64; f++)
		if (crit & (1ull << (f - 1)))
			br |= tp_buf_printf(&b, "%s%d (%s)", b.len ? ", " : "", f, tp_tapealert_name(f));
	tp_err_set(&e, -EIO, "critical TapeAlert flag%s %s: not writing to this cartridge",
		   (crit & (crit - 1)) ? "s" : "", br < 0 ? "(out of memory)" : (const char *)tp_buf_cstr(&b));
	tp_buf_free(&b);
	return fail(d, -EIO, &e, err);
}

int tp_drive_write_mam(tp_drive *d, const char *label, const char *pool, tp_err *err)
{
	int r = need_media(d, "write MAM attributes", err);
	if (r < 0)
		return r;
	if (!(d->caps & TP_DRIVE_CAP_MAM) || !d->ops->write_mam)
		return 0;
	tp_err e = { 0 };
	r = d->ops->write_mam(d->priv, label, pool, &e);
	if (r == 0)
		return 0;
	if (r == -ENOTSUP) {
		d->caps &= ~(unsigned)TP_DRIVE_CAP_MAM;
		tp_warn("drive %s: the device does not take MAM attributes (WRITE ATTRIBUTE not supported), "
			"cartridge memory not written", d->name);
	} else {
		tp_warn("drive %s: writing the MAM attributes failed (ignored): %s", d->name, e.msg);
	}
	tp_err_wrap(&e, r, "drive %s: MAM attributes", d->name);
	if (err)
		*err = e;
	return r;
}

void tp_drive_counters_add(tp_drive_counters *sum, const tp_drive_counters *c)
{
	tp_tape_counters_add(sum, c);
}

void tp_drive_estimate(const tp_drive *d, const tp_lto_gen *g, tp_lto_estimate *out)
{
	tp_lto_estimate_counters(g, &d->counters, d->media_bytes, out);
}

json_t *tp_drive_counters_to_json(const tp_drive_counters *c)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			 "loads", (json_int_t)c->loads, "unloads", (json_int_t)c->unloads,
			 "rewinds", (json_int_t)c->rewinds, "rewind-bytes", (json_int_t)c->rewind_bytes,
			 "locates", (json_int_t)c->locates, "locate-objects", (json_int_t)c->locate_objects,
			 "locate-bytes", (json_int_t)c->locate_bytes, "spaces", (json_int_t)c->spaces,
			 "space-objects", (json_int_t)c->space_objects, "space-bytes", (json_int_t)c->space_bytes,
			 "blocks-read", (json_int_t)c->blocks_read, "bytes-read", (json_int_t)c->bytes_read,
			 "blocks-written", (json_int_t)c->blocks_written,
			 "bytes-written", (json_int_t)c->bytes_written,
			 "filemarks-read", (json_int_t)c->filemarks_read,
			 "filemarks-written", (json_int_t)c->filemarks_written);
}

json_t *tp_drive_status_to_json(const tp_drive_status *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "loaded", json_boolean(st->loaded));
	json_object_set_new(o, "label", st->loaded && st->label[0] ? json_string(st->label) : json_null());
	if (st->loaded) {
		json_object_set_new(o, "position", json_integer((json_int_t)st->pos.object));
		json_object_set_new(o, "file", json_integer((json_int_t)st->pos.file));
		json_object_set_new(o, "eod", json_boolean(st->pos.eod));
		json_object_set_new(o, "objects", json_integer((json_int_t)st->eod_object));
		json_object_set_new(o, "used", json_integer((json_int_t)st->used));
	}
	json_object_set_new(o, "capacity", json_integer((json_int_t)st->capacity));
	json_object_set_new(o, "encryption", json_boolean(st->encryption));
	json_object_set_new(o, "leom", json_boolean(st->leom));
	return o;
}
