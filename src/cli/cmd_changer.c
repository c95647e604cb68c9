/* `tapir changer create|list|remove|scan|status|transfer|load|unload|export|insert`: media changers. */
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

static int changer_create(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1,
				 "tapir changer create NAME --path DEVICE|iscsi://HOST[:PORT]/IQN/LUN [--eject-before-unload] | "
				 "--type virtual --path DIR --slots N [--import-export-slots N]",
				 err);
	if (r < 0)
		return r;
	const char *type = tp_args_get(a, "type"), *path = tp_args_get(a, "path");
	if (!type)
		type = "scsi";
	if (!path)
		return tp_err_set(err, -EINVAL, "changer create: --path is required");
	tp_changer_conf ch;
	memset(&ch, 0, sizeof(ch));
	if ((r = tp_tape_name_valid(a->pos[0], "changer", err)) < 0)
		return r;
	snprintf(ch.name, sizeof(ch.name), "%s", a->pos[0]);
	if (strlen(type) >= sizeof(ch.type))
		return tp_err_set(err, -EINVAL, "unknown changer type '%s'", type);
	snprintf(ch.type, sizeof(ch.type), "%s", type);
	int virt = !strcmp(type, "virtual");
	unsigned long long slots = 0, ie = 0;
	if (virt) {
		if ((r = tp_args_u64(a, "slots", 8, 0, &slots, err)) < 0 ||
		    (r = tp_args_u64(a, "import-export-slots", 0, 0, &ie, err)) < 0)
			return r;
		if (slots > 100000 || ie > 100000)
			return tp_err_set(err, -EINVAL, "--slots/--import-export-slots out of range");
	} else if (tp_args_get(a, "slots") || tp_args_get(a, "import-export-slots")) {
		return tp_err_set(err, -EINVAL, "--slots/--import-export-slots apply to --type virtual only");
	}
	ch.slots = (unsigned)slots;
	ch.ie_slots = (unsigned)ie;
	ch.eject_before_unload = tp_args_flag(a, "eject-before-unload");
	char *p = NULL;
	if (virt && path[0] != '/') {
		char cwd[4096];
		p = getcwd(cwd, sizeof(cwd)) ? tp_path_join(cwd, path) : NULL;
	} else {
		p = strdup(path);
	}
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	ch.path = p;
	json_t *stored = NULL;
	if ((r = tp_tape_config_create_changer(&ch, a->out == TP_OUT_TEXT ? NULL : &stored, err)) == 0) {
		if (a->out == TP_OUT_TEXT)
			printf("created %s changer '%s' at %s\n", ch.type, ch.name, ch.path);
		else
			tp_print_json(a, stored);
	}
	free(p);
	return r;
}

static int changer_list(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 0, 0, "tapir changer list", err);
	if (r < 0)
		return r;
	tp_tape_config c;
	if ((r = tp_tape_config_load(&c, err)) < 0)
		return r;
	if (a->out == TP_OUT_TEXT) {
		for (size_t i = 0; i < c.nchangers; i++) {
			const tp_changer_conf *ch = &c.changers[i];
			printf("%-20s %-8s %s", ch->name, ch->type, ch->path);
			if (!strcmp(ch->type, "virtual"))
				printf(" slots=%u import-export-slots=%u", ch->slots, ch->ie_slots);
			printf("\n");
		}
	} else {
		json_t *arr = json_array();
		for (size_t i = 0; i < c.nchangers; i++)
			json_array_append_new(arr, tp_changer_conf_to_json(&c.changers[i]));
		tp_print_json(a, arr);
	}
	tp_tape_config_free(&c);
	return 0;
}

static int changer_remove(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir changer remove NAME", err);
	if (r < 0)
		return r;
	if ((r = tp_tape_config_delete_changer(a->pos[0], err)) == 0 && a->out == TP_OUT_TEXT)
		printf("removed changer '%s'\n", a->pos[0]);
	return r;
}

/* The configured name of drive number n of changer `name`, or NULL. */
static const char *drive_name(const tp_tape_config *c, const char *name, unsigned n)
{
	for (size_t i = 0; i < c->ndrives; i++)
		if (!strcmp(c->drives[i].changer, name) && c->drives[i].changer_drivenum == (int)n)
			return c->drives[i].name;
	return NULL;
}

static int changer_status(const tp_args *a, tp_changer *ch, tp_err *err)
{
	tp_changer_status st;
	int r = tp_changer_get_status(ch, &st, err);
	if (r < 0)
		return r;
	tp_tape_config c;
	if ((r = tp_tape_config_load(&c, err)) < 0) {
		tp_changer_status_free(&st);
		return r;
	}
	if (a->out == TP_OUT_TEXT) {
		for (size_t i = 0; i < st.ndrives; i++) {
			const tp_changer_element *e = &st.drives[i];
			const char *dn = drive_name(&c, ch->name, e->number);
			printf("drive %u%s%s%s: %s\n", e->number, dn ? " (" : "", dn ? dn : "", dn ? ")" : "",
			       e->full ? e->label : "empty");
		}
		for (size_t i = 0; i < st.nslots; i++) {
			const tp_changer_element *e = &st.slots[i];
			printf("slot %u%s: %s\n", e->number, e->kind == TP_CHANGER_IMPORT_EXPORT ? " (import/export)" : "",
			       e->full ? (e->label[0] ? e->label : "(no barcode)") : "empty");
		}
	} else {
		json_t *o = tp_changer_status_to_json(&st);
		json_t *dr = json_object_get(o, "drives"), *x;
		size_t i;
		json_array_foreach(dr, i, x) {
			const char *dn = drive_name(&c, ch->name, st.drives[i].number);
			json_object_set_new(x, "name", dn ? json_string(dn) : json_null());
		}
		json_object_set_new(o, "changer", json_string(ch->name));
		tp_print_json(a, o);
	}
	tp_tape_config_free(&c);
	tp_changer_status_free(&st);
	return 0;
}

static int parse_uint(const char *s, const char *what, unsigned max, unsigned *out, tp_err *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v > max)
		return tp_err_set(err, -EINVAL, "%s '%s' is not a number 0..%u", what, s, max);
	*out = (unsigned)v;
	return 0;
}

/* Subcommands that act on an open changer. */
static int changer_action(const char *sub, const tp_args *a, tp_err *err)
{
	static const struct { const char *sub; int min, max; const char *usage; } u[] = {
		{ "status", 1, 1, "tapir changer status NAME" },
		{ "transfer", 3, 3, "tapir changer transfer NAME FROM TO" },
		{ "load", 2, 2, "tapir changer load NAME SLOT [--drivenum N]" },
		{ "unload", 1, 1, "tapir changer unload NAME [--drivenum N] [--target-slot S]" },
		{ "export", 2, 2, "tapir changer export NAME LABEL" },
		{ "insert", 2, 2, "tapir changer insert NAME LABEL [--slot S]" },
	};
	size_t k = 0;
	while (k < sizeof(u) / sizeof(u[0]) && strcmp(u[k].sub, sub))
		k++;
	if (k == sizeof(u) / sizeof(u[0]))
		return tp_err_set(err, -EINVAL,
				  "unknown subcommand 'changer %s' (create, list, remove, scan, status, transfer, load, unload, export, insert)",
				  sub);
	int r = tp_args_need_pos(a, u[k].min, u[k].max, u[k].usage, err);
	if (r < 0)
		return r;
	tp_changer *ch = NULL;
	if ((r = tp_changer_open_by_name(a->pos[0], &ch, err)) < 0)
		return r;
	unsigned x = 0, y = 0, to = 0;
	unsigned long long n = 0;
	if (!strcmp(sub, "status")) {
		r = changer_status(a, ch, err);
	} else if (!strcmp(sub, "transfer")) {
		if ((r = parse_uint(a->pos[1], "slot", 100000, &x, err)) == 0 &&
		    (r = parse_uint(a->pos[2], "slot", 100000, &y, err)) == 0 &&
		    (r = tp_changer_transfer(ch, x, y, err)) == 0 && a->out == TP_OUT_TEXT)
			printf("moved slot %u to slot %u\n", x, y);
	} else if (!strcmp(sub, "load")) {
		if ((r = parse_uint(a->pos[1], "slot", 100000, &x, err)) == 0 &&
		    (r = tp_args_u64(a, "drivenum", 0, 0, &n, err)) == 0 &&
		    (r = tp_changer_load_slot(ch, x, (unsigned)(n > 1000 ? 1000 : n), err)) == 0 && a->out == TP_OUT_TEXT)
			printf("loaded slot %u into drive %llu\n", x, n);
	} else if (!strcmp(sub, "unload")) {
		unsigned long long t = 0;
		if ((r = tp_args_u64(a, "drivenum", 0, 0, &n, err)) == 0 &&
		    (r = tp_args_u64(a, "target-slot", 0, 0, &t, err)) == 0 &&
		    (r = tp_changer_unload(ch, (unsigned)(n > 1000 ? 1000 : n), (unsigned)(t > 100000 ? 100000 : t), &to,
					   err)) == 0 &&
		    a->out == TP_OUT_TEXT)
			printf("unloaded drive %llu into slot %u\n", n, to);
	} else if (!strcmp(sub, "export")) {
		if ((r = tp_changer_export(ch, a->pos[1], &to, err)) == 0 && a->out == TP_OUT_TEXT)
			printf("exported %s to import/export slot %u\n", a->pos[1], to);
	} else {
		unsigned long long s = 0;
		if ((r = tp_args_u64(a, "slot", 0, 0, &s, err)) == 0 &&
		    (r = tp_changer_insert(ch, a->pos[1], (unsigned)(s > 100000 ? 100000 : s), err)) == 0 &&
		    a->out == TP_OUT_TEXT)
			printf("inserted %s\n", a->pos[1]);
	}
	if (r == 0 && a->out != TP_OUT_TEXT && strcmp(sub, "status"))
		tp_print_json(a, json_pack("{s:s,s:s}", "changer", ch->name, "result", "ok"));
	tp_changer_close(ch);
	return r;
}

/* `tapir changer scan`: the SCSI media changers in sysfs (/dev/sgN) with vendor, model and serial. */
static int changer_scan(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 0, 0, "tapir changer scan", err);
	if (r < 0)
		return r;
	tp_scsi_scan_entry *list = NULL;
	size_t n = 0;
	if ((r = tp_scsi_scan(NULL, NULL, 1, &list, &n, err)) < 0)
		return r;
	json_t *arr = a->out == TP_OUT_TEXT ? NULL : json_array();
	for (size_t i = 0; i < n; i++) {
		const tp_scsi_scan_entry *e = &list[i];
		if (e->type != 8) /* TP_PDT_CHANGER */
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

int cmd_changer(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "type", "path", "slots", "import-export-slots", "drivenum",
					       "target-slot", "slot", NULL };
	static const char *const flags[] = { "eject-before-unload", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir changer create|list|remove|status|transfer ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "create"))
		return changer_create(&a, err);
	if (!strcmp(sub, "list"))
		return changer_list(&a, err);
	if (!strcmp(sub, "remove"))
		return changer_remove(&a, err);
	if (!strcmp(sub, "scan"))
		return changer_scan(&a, err);
	return changer_action(sub, &a, err);
}
