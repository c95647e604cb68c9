/* `tapir tape label|barcode-label|load-media|unload|eject|read-label|inventory|status|catalog`: tapes in drives. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json_util.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tape/catalog_db.h"
#include "tape/catalog_scan.h"
#include "tape/drive_diag.h"
#include "tape/inventory.h"
#include "tape/pool_config.h"
#include "tape/tape_inventory.h"
#include "tape/tape_session.h"
#include "task/task.h"

/* Everything one handler holds open; closed in reverse by cm_close. */
typedef struct cm_ctx {
	tp_args a;
	tp_tape_session s;
	int have_session;
	tp_inventory inv;
	int have_inv;
	tp_catalog_db *db;
	char owner[96];
	tp_task *task;      /* the worker task of a command that changes something, as its API twin */
} cm_ctx;

/* Closes what cm_open opened and finishes the task with r; returns r. */
static int cm_close(cm_ctx *c, int r, const tp_err *err)
{
	if (c->task)
		tp_task_finish(c->task, r, r < 0 ? err->msg : NULL);
	c->task = NULL;
	tp_catalog_close(c->db);
	c->db = NULL;
	if (c->have_inv)
		tp_inventory_close(&c->inv);
	c->have_inv = 0;
	if (c->have_session)
		tp_tape_session_close(&c->s);
	c->have_session = 0;
	return r;
}

/*
 * Parses argv, then opens the drive session (--drive, else $TAPIR_TAPE_DRIVE)
 * and, when asked, the inventory and the catalog.  With a task_type, starts
 * the worker task its API twin runs (same type and id, in `tapir task
 * list`), once the drive is ours: a busy drive is refused without a task.
 */
static int cm_open(cm_ctx *c, const char *cmd, const char *task_type, int argc, char **argv,
		   const char *const *allowed, const char *const *flags, int npos, const char *usage, int need_inv,
		   tp_err *err)
{
	memset(c, 0, sizeof(*c));
	int r = tp_args_parse(&c->a, argc, argv, allowed, flags, err);
	if (r < 0)
		return r;
	if ((r = tp_args_need_pos(&c->a, npos, npos, usage, err)) < 0)
		return r;
	/* progress lines would break the JSON on stdout */
	if (c->a.out != TP_OUT_TEXT)
		tp_log_set_quiet(1);
	const char *drive = tp_args_get(&c->a, "drive");
	if (!drive || !*drive)
		drive = getenv("TAPIR_TAPE_DRIVE");
	if (!drive || !*drive)
		return tp_err_set(err, -EINVAL, "no drive given (--drive D or TAPIR_TAPE_DRIVE); usage: %s", usage);
	snprintf(c->owner, sizeof(c->owner), "tapir tape %s (pid %ld)", cmd, (long)getpid());
	if ((r = tp_tape_session_open(&c->s, drive, c->owner, -1, err)) < 0)
		return r;
	c->have_session = 1;
	if (need_inv) {
		if ((r = tp_inventory_open(&c->inv, NULL, c->owner, err)) < 0)
			return r;
		c->have_inv = 1;
		if ((r = tp_catalog_open(&c->db, NULL, err)) < 0)
			return r;
	}
	if (!task_type)
		return 0;
	if (!strcmp(task_type, "barcode-label-media") && !c->s.changer) /* refused before a task, as the API does */
		return tp_err_set(err, -EINVAL, "drive %s has no changer: barcode-label needs one (use 'tape label')",
				  c->s.name);
	char id[TP_DRIVE_NAME_MAX + TP_LABEL_TEXT_MAX + 2];
	if (!strcmp(task_type, "load-media"))
		snprintf(id, sizeof(id), "%s:%s", c->s.name, c->a.pos[0]);
	else
		snprintf(id, sizeof(id), "%s", c->s.name);
	if ((r = tp_task_start(task_type, id, "root@pam", &c->task, err)) < 0)
		return r;
	/* as these commands printed before they were tasks: progress on stdout, only problems on stderr */
	tp_task_set_echo(c->task, TP_TASK_ECHO_SPLIT);
	if (c->a.out == TP_OUT_TEXT) {
		printf("task %s\n", tp_task_upid(c->task));
		fflush(stdout);
	}
	return 0;
}

/* The result line of a task: on stdout in text mode (the caller prints JSON), always in the task's log. */
static void cm_result(cm_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cm_result(cm_ctx *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->a.out == TP_OUT_TEXT)
		printf("%s\n", line);
	if (c->task)
		tp_task_note(c->task, "%s", line);
}

/* The task's UPID in a JSON result object. */
static json_t *with_upid(cm_ctx *c, json_t *o)
{
	if (o && c->task)
		json_object_set_new(o, "upid", json_string(tp_task_upid(c->task)));
	return o;
}

static void print_labels_text(const tp_media_label *ml, const tp_media_set_label *msl)
{
	char u[37], t[21];
	tp_uuid_unparse(ml->uuid, u);
	tp_time_utc(ml->ctime, t);
	printf("label-text: %s\nuuid: %s\nctime: %s\npool: %s\n", ml->label_text, u, t, ml->pool[0] ? ml->pool : "-");
	if (msl && !tp_uuid_is_zero(msl->uuid)) {
		char su[37], st[21];
		tp_uuid_unparse(msl->uuid, su);
		tp_time_utc(msl->ctime, st);
		printf("media-set: %s\nmedia-set-pool: %s\nseq-nr: %llu\nmedia-set-ctime: %s\n", su, msl->pool,
		       (unsigned long long)msl->seq_nr, st);
		if (msl->has_fingerprint) {
			char fp[96];
			tp_fingerprint_unparse(msl->fingerprint, fp);
			printf("encryption-key-fingerprint: %s\n", fp);
		}
	} else {
		printf("media-set: -\n");
	}
}

int cmd_tape_label(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", "label-text", "pool", NULL };
	static const char *const usage = "tapir tape label --drive D --label-text T [--pool P]";
	cm_ctx c;
	int r = cm_open(&c, "label", "label-media", argc, argv, allowed, NULL, 0, usage, 1, err);
	const char *text = tp_args_get(&c.a, "label-text");
	if (r == 0 && !text)
		r = tp_err_set(err, -EINVAL, "--label-text is required; usage: %s", usage);
	tp_media_label ml;
	if (r == 0 && (r = tp_tape_label_media(&c.s, &c.inv, c.db, text, tp_args_get(&c.a, "pool"), &ml, err)) == 0) {
		char u[37];
		tp_uuid_unparse(ml.uuid, u);
		cm_result(&c, "labelled tape %s (uuid %s)%s%s", ml.label_text, u, ml.pool[0] ? " in pool " : "", ml.pool);
		if (c.a.out != TP_OUT_TEXT)
			tp_print_json(&c.a, with_upid(&c, tp_media_label_to_json(&ml)));
	}
	return cm_close(&c, r, err);
}

static void print_report(const tp_args *a, json_t *report)
{
	if (a->out != TP_OUT_TEXT) {
		tp_print_json(a, report);
		return;
	}
	size_t i;
	json_t *v;
	json_array_foreach(report, i, v) {
		const char *msg = tp_json_opt_str(v, "message"), *set = tp_json_opt_str(v, "media-set");
		const char *cat = tp_json_opt_str(v, "catalog");
		printf("%-16s %-11s", tp_json_opt_str(v, "label-text") ? tp_json_opt_str(v, "label-text") : "?",
		       tp_json_opt_str(v, "action"));
		if (set)
			printf(" set %s seq %lld", set, (long long)tp_json_opt_int(v, "seq-nr", 0));
		if (cat)
			printf(" catalog: %s", cat);
		if (msg)
			printf(" (%s)", msg);
		printf("\n");
	}
	json_decref(report);
}

int cmd_tape_barcode_label(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", "pool", NULL };
	static const char *const usage = "tapir tape barcode-label --drive D [--pool P]";
	cm_ctx c;
	int r = cm_open(&c, "barcode-label", "barcode-label-media", argc, argv, allowed, NULL, 0, usage, 1, err);
	const char *pool = tp_args_get(&c.a, "pool");
	if (r == 0 && pool) {
		tp_pool_config cfg;
		tp_err tmp = { 0 };
		if ((r = tp_pool_valid_name(pool, err)) == 0 && tp_pool_config_get(pool, &cfg, &tmp) < 0)
			r = tp_err_set(err, -TP_ENOTFOUND, "media pool '%s' does not exist", pool);
	}
	json_t *report = NULL;
	tp_tape_inventory_opts o = { .barcode_label = 1, .pool = pool };
	if (r == 0 && (r = tp_tape_inventory_run(&c.s, &c.inv, c.db, &o, &report, err)) == 0) {
		char first[1200] = "";
		size_t nerr = tp_tape_inventory_report_errors(report, first, sizeof(first));
		print_report(&c.a, report);
		if (nerr)
			r = tp_err_set(err, -EIO, "%zu tape(s) not labelled; %s", nerr, first);
	}
	return cm_close(&c, r, err);
}

int cmd_tape_load_media(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", NULL };
	static const char *const usage = "tapir tape load-media --drive D LABEL";
	cm_ctx c;
	int r = cm_open(&c, "load-media", "load-media", argc, argv, allowed, NULL, 1, usage, 0, err);
	if (r == 0 && (r = tp_tape_load_cartridge(&c.s, c.a.pos[0], err)) == 0) {
		/* report what is in it: a standalone non-virtual drive takes whatever was inserted */
		tp_media_label ml;
		int has_set = 0;
		tp_err lerr = { 0 };
		int lr = tp_tape_read_labels(&c.s, &ml, NULL, &has_set, &lerr);
		const char *found = lr == 0 ? ml.label_text : NULL;
		cm_result(&c, "loaded %s into drive %s%s%s", c.a.pos[0], c.s.name, found ? ", label " : " (blank or unreadable)",
			  found ? found : "");
		if (c.a.out != TP_OUT_TEXT)
			tp_print_json(&c.a, with_upid(&c, json_pack("{s:s,s:s,s:o}", "drive", c.s.name, "loaded", c.a.pos[0],
								    "label-text", found ? json_string(found) : json_null())));
	}
	return cm_close(&c, r, err);
}

static int unload_common(int argc, char **argv, int eject, tp_err *err)
{
	static const char *const allowed_unload[] = { "drive", "target-slot", NULL };
	static const char *const allowed_eject[] = { "drive", NULL };
	cm_ctx c;
	const char *usage = eject ? "tapir tape eject --drive D" : "tapir tape unload --drive D [--target-slot N]";
	int r = cm_open(&c, eject ? "eject" : "unload", eject ? "eject-media" : "unload-media", argc, argv,
			eject ? allowed_eject : allowed_unload, NULL, 0, usage, 0, err);
	unsigned long long slot = 0;
	if (r == 0 && (r = tp_args_u64(&c.a, "target-slot", 0, 0, &slot, err)) == 0 && slot && !c.s.changer)
		r = tp_err_set(err, -EINVAL, "drive %s has no changer: --target-slot needs one", c.s.name);
	if (r == 0 && slot > 65535)
		r = tp_err_set(err, -EINVAL, "--target-slot %llu out of range", slot);
	unsigned to = 0;
	if (r == 0 && (r = tp_tape_unload_to_slot(&c.s, (unsigned)slot, &to, err)) >= 0) {
		int did = r;
		r = 0;
		if (!did)
			cm_result(&c, "drive %s is empty", c.s.name);
		else if (c.s.changer)
			cm_result(&c, "unloaded drive %s to slot %u of changer %s", c.s.name, to, c.s.changer_name);
		else
			cm_result(&c, "%s drive %s", eject ? "ejected the tape from" : "unloaded", c.s.name);
		if (c.a.out != TP_OUT_TEXT) {
			json_t *o = json_pack("{s:s,s:b}", "drive", c.s.name, "unloaded", did);
			if (did && c.s.changer)
				json_object_set_new(o, "slot", json_integer(to));
			tp_print_json(&c.a, with_upid(&c, o));
		}
	}
	return cm_close(&c, r, err);
}

int cmd_tape_unload(int argc, char **argv, tp_err *err) { return unload_common(argc, argv, 0, err); }
int cmd_tape_eject(int argc, char **argv, tp_err *err) { return unload_common(argc, argv, 1, err); }

int cmd_tape_read_label(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", NULL };
	static const char *const flags[] = { "inventorize", NULL };
	static const char *const usage = "tapir tape read-label --drive D [--inventorize]";
	cm_ctx c;
	int inventorize = 0;
	int r = cm_open(&c, "read-label", NULL, argc, argv, allowed, flags, 0, usage, 0, err);
	if (r == 0) {
		inventorize = tp_args_flag(&c.a, "inventorize");
		if (inventorize) {
			if ((r = tp_inventory_open(&c.inv, NULL, c.owner, err)) == 0) {
				c.have_inv = 1;
				r = tp_catalog_open(&c.db, NULL, err);
			}
		}
	}
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set = 0;
	if (r == 0 && (r = tp_drive_load(c.s.drive, NULL, err)) == 0 &&
	    (r = tp_tape_read_labels(&c.s, &ml, &msl, &has_set, err)) == TP_LABEL_NONE)
		r = tp_err_set(err, -TP_EWRONGMEDIA, "drive %s: the tape is blank (not labelled)", c.s.name);
	if (r == 0 && inventorize) {
		tp_media_location loc;
		tp_tape_session_location(&c.s, &loc);
		r = tp_tape_inventory_store_labels(&c.inv, c.db, &ml, has_set ? &msl : NULL, c.s.changer ? &loc : NULL, err);
	}
	if (r == 0) {
		if (c.a.out == TP_OUT_TEXT) {
			print_labels_text(&ml, has_set ? &msl : NULL);
			if (inventorize)
				printf("stored in the inventory\n");
		} else {
			json_t *o = tp_tape_labels_to_json(&ml, has_set ? &msl : NULL);
			json_object_set_new(o, "inventorized", json_boolean(inventorize));
			tp_print_json(&c.a, o);
		}
	}
	if (has_set)
		tp_media_set_label_clear(&msl);
	return cm_close(&c, r, err);
}

int cmd_tape_inventory(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", NULL };
	static const char *const flags[] = { "read-all-labels", "catalog", NULL };
	static const char *const usage = "tapir tape inventory --drive D [--read-all-labels] [--catalog]";
	cm_ctx c;
	int r = cm_open(&c, "inventory", "inventory-update", argc, argv, allowed, flags, 0, usage, 1, err);
	json_t *report = NULL;
	tp_tape_inventory_opts o = { .read_all_labels = tp_args_flag(&c.a, "read-all-labels"),
				     .catalog = tp_args_flag(&c.a, "catalog") };
	if (r == 0 && (r = tp_tape_inventory_run(&c.s, &c.inv, c.db, &o, &report, err)) == 0)
		print_report(&c.a, report);
	return cm_close(&c, r, err);
}

/*
 * A drive that cannot name its cartridge (an lto drive; the label is on the
 * tape, which status does not read) gets the barcode from its changer's
 * element status.  Best effort: a changer that does not answer leaves it "".
 */
static void barcode_from_changer(tp_tape_session *s, char *label, size_t size)
{
	if (label[0] || !s->changer)
		return;
	tp_changer_status cs;
	memset(&cs, 0, sizeof(cs));
	if (tp_changer_get_status(s->changer, &cs, NULL) < 0)
		return;
	for (size_t i = 0; i < cs.ndrives; i++)
		if (cs.drives[i].number == (unsigned)s->drivenum && cs.drives[i].full)
			snprintf(label, size, "%s", cs.drives[i].label);
	tp_changer_status_free(&cs);
}

int cmd_tape_status(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", NULL };
	static const char *const usage = "tapir tape status --drive D";
	cm_ctx c;
	int r = cm_open(&c, "status", NULL, argc, argv, allowed, NULL, 0, usage, 0, err);
	tp_drive_status st;
	if (r == 0 && (r = tp_drive_get_status(c.s.drive, &st, err)) == 0) {
		tp_drive_diag g;
		tp_err derr = { 0 };
		int have_diag = tp_drive_diag_get(c.s.drive, &g, &derr) == 0;
		if (st.loaded) {
			barcode_from_changer(&c.s, st.label, sizeof(st.label));
			if (have_diag && !g.label[0])
				snprintf(g.label, sizeof(g.label), "%s", st.label);
		}
		if (c.a.out == TP_OUT_TEXT) {
			printf("drive %s (%s)%s%s\n", c.s.name, c.s.drive->ops->type, c.s.changer ? ", changer " : "",
			       c.s.changer ? c.s.changer_name : "");
			char *txt = have_diag ? tp_drive_diag_text(&g) : NULL;
			if (txt) {
				/* the diagnostics report covers cartridge, position, capacity and encryption */
				printf("%s", txt);
			} else if (!st.loaded) {
				printf("no cartridge\n");
			} else {
				printf("cartridge: %s\nposition: object %llu, file %llu%s\nend of data: object %llu\n"
				       "used: %llu of %llu bytes\nencryption: %s\nearly warning: %s\n",
				       st.label[0] ? st.label : "?", (unsigned long long)st.pos.object,
				       (unsigned long long)st.pos.file, st.pos.eod ? " (at end of data)" : "",
				       (unsigned long long)st.eod_object, (unsigned long long)st.used,
				       (unsigned long long)st.capacity, st.encryption ? "on" : "off", st.leom ? "yes" : "no");
			}
			free(txt);
		} else {
			json_t *o = tp_drive_status_to_json(&st);
			json_object_set_new(o, "name", json_string(c.s.name));
			json_object_set_new(o, "type", json_string(c.s.drive->ops->type));
			json_object_set_new(o, "changer", c.s.changer ? json_string(c.s.changer_name) : json_null());
			json_object_set_new(o, "diagnostics", have_diag ? tp_drive_diag_to_json(&g) : json_null());
			tp_print_json(&c.a, o);
		}
	}
	return cm_close(&c, r, err);
}

int cmd_tape_catalog(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "drive", NULL };
	static const char *const flags[] = { "scan", "force", NULL };
	static const char *const usage = "tapir tape catalog --drive D [--scan] [--force]";
	cm_ctx c;
	int r = cm_open(&c, "catalog", "catalog-media", argc, argv, allowed, flags, 0, usage, 1, err);
	tp_catalog_recover_opts o = { .scan = tp_args_flag(&c.a, "scan"), .force = tp_args_flag(&c.a, "force"),
				      .owner = c.owner };
	tp_media_label ml;
	tp_media_set_label msl;
	int has_set = 0;
	tp_catalog_scan_stats st;
	memset(&st, 0, sizeof(st));
	if (r == 0 && (r = tp_drive_load(c.s.drive, NULL, err)) == 0 &&
	    (r = tp_catalog_recover_tape(&c.s, &c.inv, c.db, &o, &ml, &msl, &has_set, &st, err)) == 0) {
		int in_set = has_set && !tp_uuid_is_zero(msl.uuid);
		char line[512];
		tp_catalog_scan_summary(ml.label_text, in_set, &st, line, sizeof(line));
		cm_result(&c, "%s", line);
		if (c.a.out != TP_OUT_TEXT) {
			json_t *j = with_upid(&c, tp_catalog_scan_stats_to_json(&st));
			json_object_set_new(j, "label-text", json_string(ml.label_text));
			char u[37];
			tp_uuid_unparse(ml.uuid, u);
			json_object_set_new(j, "uuid", json_string(u));
			if (in_set) {
				tp_uuid_unparse(msl.uuid, u);
				json_object_set_new(j, "media-set", json_string(u));
				json_object_set_new(j, "seq-nr", json_integer((json_int_t)msl.seq_nr));
			} else {
				json_object_set_new(j, "media-set", json_null());
			}
			tp_print_json(&c.a, j);
		}
		if (st.corrupt_chunks)
			tp_warn("tape %s: %llu chunk(s) failed their check and were not catalogued", ml.label_text,
				(unsigned long long)st.corrupt_chunks);
	}
	if (has_set)
		tp_media_set_label_clear(&msl);
	return cm_close(&c, r, err);
}
