/* `tapir drive create|list|remove|status|scan`: tape drive configuration and discovery. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tape/drive_config.h"
#include "tape/scsi_scan.h"

/* An absolute form of a directory argument (malloc'd). */
static char *absolute_dir(const char *p)
{
	if (p[0] == '/')
		return strdup(p);
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	return tp_path_join(cwd, p);
}

static int drive_create(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1,
				 "tapir drive create NAME --type virtual --path DIR [--max-size BYTES] | "
				 "--type lto --path DEVICE|iscsi://HOST[:PORT]/IQN/LUN [--changer C --changer-drivenum N] "
				 "[--capacity BYTES] [--leom-reserve BYTES]",
				 err);
	if (r < 0)
		return r;
	const char *type = tp_args_get(a, "type"), *path = tp_args_get(a, "path");
	if (!type)
		return tp_err_set(err, -EINVAL, "drive create: --type virtual|lto is required");
	if (!path)
		return tp_err_set(err, -EINVAL, "drive create: --path is required");
	tp_drive_conf d;
	memset(&d, 0, sizeof(d));
	d.changer_drivenum = -1;
	if ((r = tp_tape_name_valid(a->pos[0], "drive", err)) < 0)
		return r;
	snprintf(d.name, sizeof(d.name), "%s", a->pos[0]);
	if (strlen(type) >= sizeof(d.type))
		return tp_err_set(err, -EINVAL, "unknown drive type '%s'", type);
	snprintf(d.type, sizeof(d.type), "%s", type);
	unsigned long long ms = 0, dn = 0;
	if (tp_args_get(a, "max-size")) {
		if (strcmp(type, "virtual"))
			return tp_err_set(err, -EINVAL, "--max-size applies to virtual drives only");
		if ((r = tp_args_u64(a, "max-size", 0, 1, &ms, err)) < 0)
			return r;
		if (ms == 0)
			return tp_err_set(err, -EINVAL, "--max-size must be at least 1M");
	}
	d.max_size = ms;
	/* for drives without a capacity model (tgt): see the lto backend in docs/tape-drives.md */
	unsigned long long cap = 0, res = 0;
	if ((tp_args_get(a, "capacity") || tp_args_get(a, "leom-reserve")) && strcmp(type, "lto"))
		return tp_err_set(err, -EINVAL, "--capacity and --leom-reserve apply to lto drives only");
	if ((r = tp_args_u64(a, "capacity", 0, 1, &cap, err)) < 0 || (r = tp_args_u64(a, "leom-reserve", 0, 1, &res, err)) < 0)
		return r;
	d.capacity = cap;
	d.leom_reserve = res;
	const char *changer = tp_args_get(a, "changer");
	if (changer) {
		if (strlen(changer) > TP_DRIVE_NAME_MAX)
			return tp_err_set(err, -EINVAL, "unknown changer '%s'", changer);
		snprintf(d.changer, sizeof(d.changer), "%s", changer);
		if ((r = tp_args_u64(a, "changer-drivenum", 0, 0, &dn, err)) < 0)
			return r;
		if (dn > 1000)
			return tp_err_set(err, -EINVAL, "--changer-drivenum %llu is out of range", dn);
		d.changer_drivenum = (int)dn;
	} else if (tp_args_get(a, "changer-drivenum")) {
		return tp_err_set(err, -EINVAL, "--changer-drivenum needs --changer");
	}
	const char *faults = tp_args_get(a, "faults");
	if (faults) {
		d.faults = tp_json_parse(faults, strlen(faults), "--faults", err);
		if (!d.faults)
			return err->code ? err->code : -EINVAL;
	}
	char *p = !strcmp(type, "virtual") ? absolute_dir(path) : strdup(path);
	if (!p) {
		json_decref(d.faults);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	d.path = p;
	json_t *stored = NULL;
	if ((r = tp_tape_config_create_drive(&d, a->out == TP_OUT_TEXT ? NULL : &stored, err)) == 0) {
		if (a->out == TP_OUT_TEXT)
			printf("created %s drive '%s' at %s\n", d.type, d.name, d.path);
		else
			tp_print_json(a, stored);
	}
	free(p);
	json_decref(d.faults);
	return r;
}

static int drive_list(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 0, 0, "tapir drive list", err);
	if (r < 0)
		return r;
	tp_tape_config c;
	if ((r = tp_tape_config_load(&c, err)) < 0)
		return r;
	if (a->out == TP_OUT_TEXT) {
		for (size_t i = 0; i < c.ndrives; i++) {
			const tp_drive_conf *d = &c.drives[i];
			printf("%-20s %-8s %s", d->name, d->type, d->path);
			if (!strcmp(d->type, "virtual"))
				printf(" max-size=%llu",
				       (unsigned long long)(d->max_size ? d->max_size : TP_VIRTUAL_DEFAULT_MAX_SIZE));
			if (d->changer[0])
				printf(" changer=%s drivenum=%d", d->changer, d->changer_drivenum);
			printf("\n");
		}
	} else {
		json_t *arr = json_array();
		for (size_t i = 0; i < c.ndrives; i++)
			json_array_append_new(arr, tp_drive_conf_to_json(&c.drives[i]));
		tp_print_json(a, arr);
	}
	tp_tape_config_free(&c);
	return 0;
}

static int drive_remove(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir drive remove NAME", err);
	if (r < 0)
		return r;
	if ((r = tp_tape_config_delete_drive(a->pos[0], err)) == 0 && a->out == TP_OUT_TEXT)
		printf("removed drive '%s'\n", a->pos[0]);
	return r;
}

static int drive_status(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir drive status NAME", err);
	if (r < 0)
		return r;
	tp_drive *d = NULL;
	if ((r = tp_drive_open_by_name(a->pos[0], &d, err)) < 0)
		return r;
	tp_drive_status st;
	if ((r = tp_drive_get_status(d, &st, err)) < 0)
		goto out;
	if (a->out == TP_OUT_TEXT) {
		printf("drive %s (%s): ", d->name, d->ops->type);
		if (!st.loaded)
			printf("no cartridge\n");
		else
			printf("cartridge %s, object %llu of %llu, file %llu, %llu of %llu bytes used\n", st.label,
			       (unsigned long long)st.pos.object, (unsigned long long)st.eod_object,
			       (unsigned long long)st.pos.file, (unsigned long long)st.used,
			       (unsigned long long)st.capacity);
	} else {
		json_t *o = tp_drive_status_to_json(&st);
		json_object_set_new(o, "name", json_string(d->name));
		json_object_set_new(o, "type", json_string(d->ops->type));
		tp_print_json(a, o);
	}
out:
	tp_drive_close(d);
	return r;
}

/* `tapir drive scan`: the SCSI tape drives in sysfs (/dev/sgN) with vendor, model and serial. */
static int drive_scan(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 0, 0, "tapir drive scan", err);
	if (r < 0)
		return r;
	tp_scsi_scan_entry *list = NULL;
	size_t n = 0;
	if ((r = tp_scsi_scan(NULL, NULL, 1, &list, &n, err)) < 0)
		return r;
	json_t *arr = a->out == TP_OUT_TEXT ? NULL : json_array();
	for (size_t i = 0; i < n; i++) {
		const tp_scsi_scan_entry *e = &list[i];
		if (e->type != 1) /* TP_PDT_TAPE (scsi_cdb.h clashes with drive.h) */
			continue;
		if (a->out == TP_OUT_TEXT)
			printf("%-12s %-8s %-16s %-20s %s\n", e->path, e->vendor, e->model, e->serial[0] ? e->serial : "-",
			       e->hctl);
		else
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o}", "path", e->path, "kind",
							     tp_scsi_type_name(e->type), "vendor", e->vendor, "model",
							     e->model, "revision", e->revision, "serial",
							     e->serial[0] ? json_string(e->serial) : json_null(), "hctl",
							     e->hctl[0] ? json_string(e->hctl) : json_null()));
	}
	if (arr)
		tp_print_json(a, arr);
	free(list);
	return 0;
}

int cmd_drive(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "type", "path", "max-size", "changer", "changer-drivenum", "faults",
					       "capacity", "leom-reserve", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir drive create|list|remove|status|scan ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, NULL, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "create"))
		return drive_create(&a, err);
	if (a.nopt > 0 && strcmp(sub, "create"))
		return tp_err_set(err, -EINVAL, "drive %s: unexpected option --%s", sub, a.key[0]);
	if (!strcmp(sub, "list"))
		return drive_list(&a, err);
	if (!strcmp(sub, "remove"))
		return drive_remove(&a, err);
	if (!strcmp(sub, "status"))
		return drive_status(&a, err);
	if (!strcmp(sub, "scan"))
		return drive_scan(&a, err);
	return tp_err_set(err, -EINVAL, "unknown subcommand 'drive %s' (create, list, remove, status, scan)", sub);
}
