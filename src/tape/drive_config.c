/* Drive and changer configuration in tape.json (see drive_config.h). */
#include "tape/drive_config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/paths.h"

#define PATH_MAX_LEN 4095

int tp_tape_name_valid(const char *name, const char *what, tp_err *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0)
		return tp_err_set(err, -EINVAL, "%s name is empty", what);
	if (n > TP_DRIVE_NAME_MAX)
		return tp_err_set(err, -EINVAL, "%s name '%s' is longer than %d characters", what, name,
				  TP_DRIVE_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		int ok = isalnum(c) || c == '_' || (i > 0 && (c == '.' || c == '-'));
		if (!ok || c > 0x7f)
			return tp_err_set(err, -EINVAL,
					  "%s name '%s': character %zu not allowed (use [A-Za-z0-9_][A-Za-z0-9._-]*)",
					  what, name, i + 1);
	}
	return 0;
}

int tp_tape_device_path_valid(const char *path, tp_err *err)
{
	if (!path || !*path)
		return tp_err_set(err, -EINVAL, "device path is empty");
	if (strlen(path) > PATH_MAX_LEN)
		return tp_err_set(err, -EINVAL, "device path is too long");
	if (path[0] == '/') {
		for (const char *p = path; *p; p++)
			if ((unsigned char)*p < 0x20)
				return tp_err_set(err, -EINVAL, "device path '%s' contains control characters", path);
		return 0;
	}
	if (strncmp(path, "iscsi://", 8))
		return tp_err_set(err, -EINVAL,
				  "device path '%s': expected an absolute device path or iscsi://HOST[:PORT]/IQN/LUN", path);
	const char *h = path + 8, *slash = strchr(h, '/');
	if (!slash || slash == h)
		return tp_err_set(err, -EINVAL, "'%s': missing host (iscsi://HOST[:PORT]/IQN/LUN)", path);
	const char *host_end = slash, *port = NULL;
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(slash - h));
		if (!rb || rb == h + 1)
			return tp_err_set(err, -EINVAL, "'%s': bad [IPv6] host", path);
		if (rb + 1 < slash) {
			if (rb[1] != ':')
				return tp_err_set(err, -EINVAL, "'%s': junk after ]", path);
			port = rb + 2;
		}
		host_end = rb + 1;
	} else {
		const char *colon = memchr(h, ':', (size_t)(slash - h));
		if (colon) {
			port = colon + 1;
			host_end = colon;
		}
		for (const char *p = h; p < host_end; p++)
			if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_')
				return tp_err_set(err, -EINVAL, "'%s': bad character in host", path);
	}
	if (host_end == h)
		return tp_err_set(err, -EINVAL, "'%s': missing host", path);
	if (port) {
		long v = 0;
		const char *p = port;
		for (; p < slash && isdigit((unsigned char)*p) && v <= 65535; p++)
			v = v * 10 + (*p - '0');
		if (p == port || p != slash || v < 1 || v > 65535)
			return tp_err_set(err, -EINVAL, "'%s': port must be 1..65535", path);
	}
	const char *iqn = slash + 1, *lunp = strrchr(iqn, '/');
	if (!lunp || lunp == iqn)
		return tp_err_set(err, -EINVAL, "'%s': missing target IQN or LUN (iscsi://HOST[:PORT]/IQN/LUN)", path);
	if (strncmp(iqn, "iqn.", 4) && strncmp(iqn, "eui.", 4) && strncmp(iqn, "naa.", 4))
		return tp_err_set(err, -EINVAL, "'%s': target name must start with iqn., eui. or naa.", path);
	for (const char *p = iqn; p < lunp; p++)
		if ((unsigned char)*p <= 0x20 || *p == '/' || (unsigned char)*p >= 0x7f)
			return tp_err_set(err, -EINVAL, "'%s': bad character in target name", path);
	const char *l = lunp + 1;
	long lun = 0;
	const char *p = l;
	for (; *p && isdigit((unsigned char)*p) && lun <= 16383; p++)
		lun = lun * 10 + (*p - '0');
	if (p == l || *p || lun > 16383)
		return tp_err_set(err, -EINVAL, "'%s': LUN must be a number 0..16383", path);
	return 0;
}

int tp_tape_config_lock(tp_lock *l, tp_err *err)
{
	char *p = tp_config_path(TP_TAPE_CONFIG_LOCK);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, 10000, NULL, "tape configuration", err);
	free(p);
	return r;
}

static void drive_conf_clear(tp_drive_conf *d)
{
	free(d->path);
	json_decref(d->faults);
	memset(d, 0, sizeof(*d));
}

void tp_tape_config_free(tp_tape_config *c)
{
	for (size_t i = 0; i < c->ndrives; i++)
		drive_conf_clear(&c->drives[i]);
	for (size_t i = 0; i < c->nchangers; i++)
		free(c->changers[i].path);
	free(c->drives);
	free(c->changers);
	memset(c, 0, sizeof(*c));
}

const tp_drive_conf *tp_tape_config_drive(const tp_tape_config *c, const char *name)
{
	for (size_t i = 0; i < c->ndrives; i++)
		if (!strcmp(c->drives[i].name, name))
			return &c->drives[i];
	return NULL;
}

int tp_tape_config_check_drive(const char *name, tp_err *err)
{
	tp_tape_config c;
	int r = tp_tape_name_valid(name, "drive", err);
	if (r < 0 || (r = tp_tape_config_load(&c, err)) < 0)
		return r;
	if (!tp_tape_config_drive(&c, name))
		r = tp_err_set(err, -TP_ENOTFOUND, "drive '%s' does not exist", name);
	tp_tape_config_free(&c);
	return r;
}

const tp_changer_conf *tp_tape_config_changer(const tp_tape_config *c, const char *name)
{
	for (size_t i = 0; i < c->nchangers; i++)
		if (!strcmp(c->changers[i].name, name))
			return &c->changers[i];
	return NULL;
}

static int check_type(const char *type, const char *const *types, const char *what, tp_err *err)
{
	for (; *types; types++)
		if (!strcmp(type, *types))
			return 0;
	return tp_err_set(err, -EINVAL, "unknown %s type '%s'", what, type);
}

static int check_dir_path(const char *path, const char *what, tp_err *err)
{
	if (!path || path[0] != '/')
		return tp_err_set(err, -EINVAL, "%s path '%s' must be an absolute directory", what, path ? path : "");
	if (strlen(path) > PATH_MAX_LEN)
		return tp_err_set(err, -EINVAL, "%s path is too long", what);
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20)
			return tp_err_set(err, -EINVAL, "%s path contains control characters", what);
	return 0;
}

static int name_taken(const tp_tape_config *c, const char *name, tp_err *err)
{
	if (tp_tape_config_drive(c, name))
		return tp_err_set(err, -TP_EEXISTS, "a drive named '%s' already exists", name);
	if (tp_tape_config_changer(c, name))
		return tp_err_set(err, -TP_EEXISTS, "a changer named '%s' already exists", name);
	return 0;
}

/* Validation shared by add and load (load skips the duplicate check against itself). */
static int validate_drive(const tp_tape_config *c, const tp_drive_conf *d, tp_err *err)
{
	int r;
	if ((r = tp_tape_name_valid(d->name, "drive", err)) < 0)
		return r;
	if ((r = check_type(d->type, tp_drive_types(), "drive", err)) < 0)
		return tp_err_wrap(err, r, "drive %s", d->name);
	if (!strcmp(d->type, "virtual")) {
		if ((r = check_dir_path(d->path, "virtual drive", err)) < 0)
			return tp_err_wrap(err, r, "drive %s", d->name);
		if (d->max_size && d->max_size < TP_VIRTUAL_MIN_MAX_SIZE)
			return tp_err_set(err, -EINVAL, "drive %s: --max-size %llu is below the minimum of %u bytes (1 MiB)",
					  d->name, (unsigned long long)d->max_size, TP_VIRTUAL_MIN_MAX_SIZE);
		if (d->max_size > ((uint64_t)1 << 50))
			return tp_err_set(err, -EINVAL, "drive %s: --max-size %llu is unreasonably large", d->name,
					  (unsigned long long)d->max_size);
		if (d->capacity || d->leom_reserve)
			return tp_err_set(err, -EINVAL, "drive %s: --capacity and --leom-reserve apply to lto drives only",
					  d->name);
	} else {
		if (d->capacity > ((uint64_t)1 << 50) || d->leom_reserve > ((uint64_t)1 << 50))
			return tp_err_set(err, -EINVAL, "drive %s: --capacity or --leom-reserve is unreasonably large",
					  d->name);
		if ((r = tp_tape_device_path_valid(d->path, err)) < 0)
			return tp_err_wrap(err, r, "drive %s", d->name);
		if (d->max_size)
			return tp_err_set(err, -EINVAL, "drive %s: --max-size applies to virtual drives only", d->name);
		if (d->faults)
			return tp_err_set(err, -EINVAL, "drive %s: faults apply to virtual drives only", d->name);
	}
	if (d->faults && !json_is_object(d->faults))
		return tp_err_set(err, -EINVAL, "drive %s: faults must be a JSON object", d->name);
	if (!d->changer[0]) {
		if (d->changer_drivenum >= 0)
			return tp_err_set(err, -EINVAL, "drive %s: --changer-drivenum needs --changer", d->name);
		return 0;
	}
	const tp_changer_conf *ch = tp_tape_config_changer(c, d->changer);
	if (!ch)
		return tp_err_set(err, -EINVAL, "drive %s: unknown changer '%s'", d->name, d->changer);
	if (d->changer_drivenum < 0 || d->changer_drivenum >= TP_VCHANGER_MAX_DRIVES)
		return tp_err_set(err, -EINVAL, "drive %s: --changer-drivenum must be 0..%d", d->name,
				  TP_VCHANGER_MAX_DRIVES - 1);
	int virt_drive = !strcmp(d->type, "virtual"), virt_changer = !strcmp(ch->type, "virtual");
	if (virt_drive != virt_changer)
		return tp_err_set(err, -EINVAL, "drive %s: a %s drive cannot be in %s changer '%s'", d->name, d->type,
				  virt_changer ? "virtual" : "a SCSI", ch->name);
	for (size_t i = 0; i < c->ndrives; i++) {
		const tp_drive_conf *o = &c->drives[i];
		if (o != d && strcmp(o->name, d->name) && !strcmp(o->changer, d->changer) &&
		    o->changer_drivenum == d->changer_drivenum)
			return tp_err_set(err, -EINVAL, "drive %s: changer '%s' drive number %d is already drive '%s'",
					  d->name, d->changer, d->changer_drivenum, o->name);
	}
	return 0;
}

static int validate_changer(const tp_changer_conf *ch, tp_err *err)
{
	int r;
	if ((r = tp_tape_name_valid(ch->name, "changer", err)) < 0)
		return r;
	if ((r = check_type(ch->type, tp_changer_types(), "changer", err)) < 0)
		return tp_err_wrap(err, r, "changer %s", ch->name);
	if (!strcmp(ch->type, "virtual")) {
		if ((r = check_dir_path(ch->path, "virtual changer", err)) < 0)
			return tp_err_wrap(err, r, "changer %s", ch->name);
		if (ch->eject_before_unload)
			return tp_err_set(err, -EINVAL, "changer %s: eject-before-unload applies to SCSI changers only",
					  ch->name);
		if (ch->slots < 1 || ch->slots > TP_VCHANGER_MAX_SLOTS)
			return tp_err_set(err, -EINVAL, "changer %s: --slots must be 1..%d", ch->name, TP_VCHANGER_MAX_SLOTS);
		if (ch->ie_slots > TP_VCHANGER_MAX_IE)
			return tp_err_set(err, -EINVAL, "changer %s: --import-export-slots must be 0..%d", ch->name,
					  TP_VCHANGER_MAX_IE);
		return 0;
	}
	if ((r = tp_tape_device_path_valid(ch->path, err)) < 0)
		return tp_err_wrap(err, r, "changer %s", ch->name);
	if (ch->slots || ch->ie_slots)
		return tp_err_set(err, -EINVAL, "changer %s: --slots/--import-export-slots apply to virtual changers only (a SCSI changer reports its own)",
				  ch->name);
	return 0;
}

static int copy_str(char *dst, size_t cap, const char *src, const char *what, tp_err *err)
{
	if (strlen(src) >= cap)
		return tp_err_set(err, -EINVAL, "%s '%s' is too long", what, src);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int grow(void **arr, size_t n, size_t elem)
{
	void *p = realloc(*arr, (n + 1) * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	memset((char *)p + n * elem, 0, elem);
	return 0;
}

/* Appends a deep copy of d without validation. */
static int push_drive(tp_tape_config *c, const tp_drive_conf *d, tp_err *err)
{
	if (grow((void **)&c->drives, c->ndrives, sizeof(*c->drives)) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_drive_conf *n = &c->drives[c->ndrives];
	*n = *d;
	n->path = strdup(d->path ? d->path : "");
	n->faults = d->faults ? json_deep_copy(d->faults) : NULL;
	if (!n->path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	c->ndrives++;
	return 0;
}

static int push_changer(tp_tape_config *c, const tp_changer_conf *ch, tp_err *err)
{
	if (grow((void **)&c->changers, c->nchangers, sizeof(*c->changers)) < 0)
		return tp_err_set(err, -ENOMEM, "out of memory");
	tp_changer_conf *n = &c->changers[c->nchangers];
	*n = *ch;
	n->path = strdup(ch->path ? ch->path : "");
	if (!n->path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	c->nchangers++;
	return 0;
}

int tp_tape_config_add_changer(tp_tape_config *c, const tp_changer_conf *ch, tp_err *err)
{
	int r;
	if ((r = validate_changer(ch, err)) < 0 || (r = name_taken(c, ch->name, err)) < 0)
		return r;
	return push_changer(c, ch, err);
}

int tp_tape_config_add_drive(tp_tape_config *c, const tp_drive_conf *d, tp_err *err)
{
	int r;
	if ((r = tp_tape_name_valid(d->name, "drive", err)) < 0 || (r = name_taken(c, d->name, err)) < 0)
		return r;
	if ((r = validate_drive(c, d, err)) < 0)
		return r;
	return push_drive(c, d, err);
}

int tp_tape_config_remove_drive(tp_tape_config *c, const char *name, tp_err *err)
{
	for (size_t i = 0; i < c->ndrives; i++) {
		if (strcmp(c->drives[i].name, name))
			continue;
		drive_conf_clear(&c->drives[i]);
		memmove(&c->drives[i], &c->drives[i + 1], (c->ndrives - i - 1) * sizeof(*c->drives));
		c->ndrives--;
		return 0;
	}
	return tp_err_set(err, -TP_ENOTFOUND, "no drive named '%s'", name);
}

int tp_tape_config_remove_changer(tp_tape_config *c, const char *name, tp_err *err)
{
	for (size_t i = 0; i < c->nchangers; i++) {
		if (strcmp(c->changers[i].name, name))
			continue;
		for (size_t k = 0; k < c->ndrives; k++)
			if (!strcmp(c->drives[k].changer, name))
				return tp_err_set(err, -EBUSY, "changer '%s' is still used by drive '%s'", name,
						  c->drives[k].name);
		free(c->changers[i].path);
		memmove(&c->changers[i], &c->changers[i + 1], (c->nchangers - i - 1) * sizeof(*c->changers));
		c->nchangers--;
		return 0;
	}
	return tp_err_set(err, -TP_ENOTFOUND, "no changer named '%s'", name);
}

json_t *tp_drive_conf_to_json(const tp_drive_conf *d)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "name", d->name, "type", d->type, "path", d->path ? d->path : "");
	if (!o)
		return NULL;
	if (!strcmp(d->type, "virtual"))
		json_object_set_new(o, "max-size",
				    json_integer((json_int_t)(d->max_size ? d->max_size : TP_VIRTUAL_DEFAULT_MAX_SIZE)));
	if (d->changer[0]) {
		json_object_set_new(o, "changer", json_string(d->changer));
		json_object_set_new(o, "changer-drivenum", json_integer(d->changer_drivenum));
	}
	if (d->faults)
		json_object_set(o, "faults", d->faults);
	if (d->capacity)
		json_object_set_new(o, "capacity", json_integer((json_int_t)d->capacity));
	if (d->leom_reserve)
		json_object_set_new(o, "leom-reserve", json_integer((json_int_t)d->leom_reserve));
	return o;
}

json_t *tp_changer_conf_to_json(const tp_changer_conf *ch)
{
	json_t *o = json_pack("{s:s,s:s,s:s}", "name", ch->name, "type", ch->type, "path", ch->path ? ch->path : "");
	if (o && !strcmp(ch->type, "virtual")) {
		json_object_set_new(o, "slots", json_integer(ch->slots));
		json_object_set_new(o, "import-export-slots", json_integer(ch->ie_slots));
	}
	if (o && ch->eject_before_unload)
		json_object_set_new(o, "eject-before-unload", json_true());
	return o;
}

static char *config_file(tp_err *err)
{
	char *p = tp_config_path(TP_TAPE_CONFIG_FILE);
	if (!p)
		tp_err_set(err, -ENOMEM, "out of memory");
	return p;
}

static int parse_name_type_path(const json_t *e, const char *file, const char *what, size_t i, char *name,
				char *type, char **path, tp_err *err)
{
	const char *n, *t, *p;
	char ctx[64];
	snprintf(ctx, sizeof(ctx), "%s: %s #%zu", file, what, i + 1);
	int r;
	if ((r = tp_json_get_str(e, "name", &n, ctx, err)) < 0 || (r = tp_json_get_str(e, "type", &t, ctx, err)) < 0 ||
	    (r = tp_json_get_str(e, "path", &p, ctx, err)) < 0)
		return r;
	if ((r = copy_str(name, TP_DRIVE_NAME_MAX + 1, n, "name", err)) < 0 ||
	    (r = copy_str(type, TP_TYPE_MAX + 1, t, "type", err)) < 0)
		return tp_err_wrap(err, -TP_EFORMAT, "%s", ctx);
	if (!(*path = strdup(p)))
		return tp_err_set(err, -ENOMEM, "out of memory");
	return 0;
}

int tp_tape_config_load(tp_tape_config *c, tp_err *err)
{
	memset(c, 0, sizeof(*c));
	char *file = config_file(err);
	if (!file)
		return -ENOMEM;
	int r = 0;
	json_t *o = NULL;
	if (!tp_path_exists(file))
		goto out;
	o = tp_json_load_file(file, 16 << 20, err);
	if (!o) {
		r = err && err->code ? err->code : -TP_EFORMAT;
		goto out;
	}
	json_t *chs = json_object_get(o, "changers"), *drs = json_object_get(o, "drives");
	if ((chs && !json_is_array(chs)) || (drs && !json_is_array(drs))) {
		r = tp_err_set(err, -TP_EFORMAT, "%s: \"drives\" and \"changers\" must be arrays", file);
		goto out;
	}
	for (size_t i = 0; chs && i < json_array_size(chs); i++) {
		json_t *e = json_array_get(chs, i);
		tp_changer_conf ch;
		memset(&ch, 0, sizeof(ch));
		if ((r = parse_name_type_path(e, file, "changer", i, ch.name, ch.type, &ch.path, err)) < 0)
			goto out;
		int64_t s = tp_json_opt_int(e, "slots", 0), ie = tp_json_opt_int(e, "import-export-slots", 0);
		ch.slots = s > 0 && s <= TP_VCHANGER_MAX_SLOTS ? (unsigned)s : (s ? TP_VCHANGER_MAX_SLOTS + 1 : 0);
		ch.ie_slots = ie >= 0 && ie <= TP_VCHANGER_MAX_IE ? (unsigned)ie : TP_VCHANGER_MAX_IE + 1;
		json_t *ej = json_object_get(e, "eject-before-unload");
		if (ej && !json_is_boolean(ej) && !json_is_null(ej)) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: changer %s: \"eject-before-unload\" must be true or false",
				       file, ch.name);
			free(ch.path);
			goto out;
		}
		ch.eject_before_unload = ej && json_is_true(ej);
		r = validate_changer(&ch, err);
		if (r == 0 && tp_tape_config_changer(c, ch.name))
			r = tp_err_set(err, -TP_EFORMAT, "duplicate changer '%s'", ch.name);
		if (r == 0)
			r = push_changer(c, &ch, err);
		free(ch.path);
		if (r < 0) {
			tp_err_wrap(err, r, "%s", file);
			goto out;
		}
	}
	for (size_t i = 0; drs && i < json_array_size(drs); i++) {
		json_t *e = json_array_get(drs, i);
		tp_drive_conf d;
		memset(&d, 0, sizeof(d));
		d.changer_drivenum = -1;
		if ((r = parse_name_type_path(e, file, "drive", i, d.name, d.type, &d.path, err)) < 0)
			goto out;
		int64_t ms = tp_json_opt_int(e, "max-size", 0);
		d.max_size = ms > 0 ? (uint64_t)ms : 0;
		int64_t cap = tp_json_opt_int(e, "capacity", 0), res = tp_json_opt_int(e, "leom-reserve", 0);
		if (cap < 0 || res < 0) {
			r = tp_err_set(err, -TP_EFORMAT, "%s: drive %s: capacity and leom-reserve must be byte counts", file,
				       d.name);
			drive_conf_clear(&d);
			goto out;
		}
		d.capacity = (uint64_t)cap;
		d.leom_reserve = (uint64_t)res;
		const char *chn = tp_json_opt_str(e, "changer");
		if (chn)
			snprintf(d.changer, sizeof(d.changer), "%s", chn);
		if (json_object_get(e, "changer-drivenum"))
			d.changer_drivenum = (int)tp_json_opt_int(e, "changer-drivenum", -1);
		json_t *f = json_object_get(e, "faults");
		d.faults = f && !json_is_null(f) ? json_incref(f) : NULL;
		r = validate_drive(c, &d, err);
		if (r == 0 && (tp_tape_config_drive(c, d.name) || tp_tape_config_changer(c, d.name)))
			r = tp_err_set(err, -TP_EFORMAT, "duplicate name '%s'", d.name);
		if (r == 0)
			r = push_drive(c, &d, err);
		drive_conf_clear(&d);
		if (r < 0) {
			tp_err_wrap(err, r, "%s", file);
			goto out;
		}
	}
out:
	json_decref(o);
	free(file);
	if (r < 0)
		tp_tape_config_free(c);
	return r;
}

int tp_tape_config_save(const tp_tape_config *c, tp_err *err)
{
	char *file = config_file(err);
	if (!file)
		return -ENOMEM;
	json_t *o = json_object(), *drs = json_array(), *chs = json_array();
	int r;
	if (!o || !drs || !chs) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		json_decref(drs);
		json_decref(chs);
		goto out;
	}
	for (size_t i = 0; i < c->nchangers; i++)
		json_array_append_new(chs, tp_changer_conf_to_json(&c->changers[i]));
	for (size_t i = 0; i < c->ndrives; i++)
		json_array_append_new(drs, tp_drive_conf_to_json(&c->drives[i]));
	json_object_set_new(o, "changers", chs);
	json_object_set_new(o, "drives", drs);
	r = tp_json_save_file(file, o, 0600, err);
out:
	json_decref(o);
	free(file);
	return r;
}

json_t *tp_tape_config_drive_backend(const tp_tape_config *c, const tp_drive_conf *d)
{
	json_t *o = tp_drive_conf_to_json(d);
	if (!o)
		return NULL;
	const tp_changer_conf *ch = d->changer[0] ? tp_tape_config_changer(c, d->changer) : NULL;
	if (ch && !strcmp(ch->type, "virtual") && !strcmp(d->type, "virtual"))
		json_object_set_new(o, "media-path", json_string(ch->path));
	return o;
}

json_t *tp_tape_config_changer_backend(const tp_tape_config *c, const tp_changer_conf *ch)
{
	json_t *o = tp_changer_conf_to_json(ch);
	if (!o)
		return NULL;
	int max = -1;
	for (size_t i = 0; i < c->ndrives; i++)
		if (!strcmp(c->drives[i].changer, ch->name) && c->drives[i].changer_drivenum > max)
			max = c->drives[i].changer_drivenum;
	json_t *a = json_array();
	for (int n = 0; a && n <= max; n++) {
		json_t *p = json_null();
		for (size_t i = 0; i < c->ndrives; i++)
			if (!strcmp(c->drives[i].changer, ch->name) && c->drives[i].changer_drivenum == n)
				p = json_string(c->drives[i].path);
		json_array_append_new(a, p);
	}
	json_object_set_new(o, "drives", a ? a : json_array());
	return o;
}

int tp_drive_open_by_name(const char *name, tp_drive **out, tp_err *err)
{
	tp_tape_config c;
	*out = NULL;
	int r = tp_tape_config_load(&c, err);
	if (r < 0)
		return r;
	const tp_drive_conf *d = tp_tape_config_drive(&c, name);
	if (!d) {
		r = tp_err_set(err, -TP_ENOTFOUND, "no drive named '%s'", name);
		goto out;
	}
	if (!tp_drive_ops_lookup(d->type)) {
		r = tp_err_set(err, -ENOTSUP, "drive %s: no backend for drive type '%s' in this build", name, d->type);
		goto out;
	}
	json_t *conf = tp_tape_config_drive_backend(&c, d);
	if (!conf) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = tp_drive_open(d->type, d->name, conf, out, err);
	json_decref(conf);
out:
	tp_tape_config_free(&c);
	return r;
}

int tp_changer_open_by_name(const char *name, tp_changer **out, tp_err *err)
{
	tp_tape_config c;
	*out = NULL;
	int r = tp_tape_config_load(&c, err);
	if (r < 0)
		return r;
	const tp_changer_conf *ch = tp_tape_config_changer(&c, name);
	if (!ch) {
		r = tp_err_set(err, -TP_ENOTFOUND, "no changer named '%s'", name);
		goto out;
	}
	if (!tp_changer_ops_lookup(ch->type)) {
		r = tp_err_set(err, -ENOTSUP, "changer %s: no backend for changer type '%s' in this build", name, ch->type);
		goto out;
	}
	json_t *conf = tp_tape_config_changer_backend(&c, ch);
	if (!conf) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = tp_changer_open(ch->type, ch->name, conf, out, err);
	json_decref(conf);
out:
	tp_tape_config_free(&c);
	return r;
}

/* One locked read-modify-write of tape.json (kind 'd' / 'c' for a removal by name). */
static int config_change(const tp_drive_conf *d, const tp_changer_conf *ch, const char *remove_name, int kind,
			 json_t **stored, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	tp_tape_config tc;
	memset(&tc, 0, sizeof(tc));
	int r;
	if ((r = tp_tape_config_lock(&l, err)) < 0)
		return r;
	if ((r = tp_tape_config_load(&tc, err)) < 0)
		goto out;
	if (d)
		r = tp_tape_config_add_drive(&tc, d, err);
	else if (ch)
		r = tp_tape_config_add_changer(&tc, ch, err);
	else if (kind == 'd')
		r = tp_tape_config_remove_drive(&tc, remove_name, err);
	else
		r = tp_tape_config_remove_changer(&tc, remove_name, err);
	if (r < 0)
		goto out;
	const char *vdir = d && !strcmp(d->type, "virtual") ? d->path : ch && !strcmp(ch->type, "virtual") ? ch->path : NULL;
	if (vdir && (r = tp_mkdir_p(vdir, 0700, err)) < 0)
		goto out;
	if ((r = tp_tape_config_save(&tc, err)) < 0)
		goto out;
	if (stored && d)
		*stored = tp_drive_conf_to_json(tp_tape_config_drive(&tc, d->name));
	else if (stored && ch)
		*stored = tp_changer_conf_to_json(tp_tape_config_changer(&tc, ch->name));
out:
	tp_tape_config_free(&tc);
	tp_lock_release(&l);
	return r;
}

int tp_tape_config_create_drive(const tp_drive_conf *d, json_t **stored, tp_err *err)
{
	return config_change(d, NULL, NULL, 0, stored, err);
}

int tp_tape_config_create_changer(const tp_changer_conf *ch, json_t **stored, tp_err *err)
{
	return config_change(NULL, ch, NULL, 0, stored, err);
}

int tp_tape_config_delete_drive(const char *name, tp_err *err) { return config_change(NULL, NULL, name, 'd', NULL, err); }

int tp_tape_config_delete_changer(const char *name, tp_err *err)
{
	return config_change(NULL, NULL, name, 'c', NULL, err);
}
