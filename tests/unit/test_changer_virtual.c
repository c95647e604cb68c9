/* Unit test: virtual changer flows (insert, load, unload, transfer, export, busy drive) and tape.json config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "tape/changer.h"
#include "tape/drive_config.h"

typedef struct fx {
	char dir[64];
	char cdir[96], d0[96], d1[96];
	json_t *conf;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-vchanger-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cdir, sizeof(f->cdir), "%s/changer", f->dir);
	snprintf(f->d0, sizeof(f->d0), "%s/drive0", f->dir);
	snprintf(f->d1, sizeof(f->d1), "%s/drive1", f->dir);
	f->conf = json_pack("{s:s,s:i,s:i,s:[s,s],s:i}", "path", f->cdir, "slots", 4, "import-export-slots", 2,
			    "drives", f->d0, f->d1, "lock-timeout-ms", 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tp_rm_rf(f->dir, NULL);
	json_decref(f->conf);
	free(f);
	return 0;
}

static tp_changer *open_changer(fx *f)
{
	tp_changer *c = NULL;
	tp_err err = { 0 };
	if (tp_changer_open("virtual", "vc", f->conf, &c, &err) < 0)
		fail_msg("open changer: %s", err.msg);
	return c;
}

static tp_drive *open_drive(fx *f, const char *dir)
{
	tp_drive *d = NULL;
	tp_err err = { 0 };
	json_t *conf = json_pack("{s:s,s:s,s:i}", "path", dir, "media-path", f->cdir, "lock-timeout-ms", 0);
	if (tp_drive_open("virtual", "vd", conf, &d, &err) < 0)
		fail_msg("open drive: %s", err.msg);
	json_decref(conf);
	return d;
}

/* The label in slot n (1-based) or in drive n, "" when empty. */
static const char *slot_label(tp_changer *c, unsigned n, int drive)
{
	static char out[TP_DRIVE_LABEL_MAX + 1];
	tp_changer_status st;
	tp_err err = { 0 };
	assert_int_equal(tp_changer_get_status(c, &st, &err), 0);
	const tp_changer_element *e = drive ? &st.drives[n] : &st.slots[n - 1];
	snprintf(out, sizeof(out), "%s", e->full ? e->label : "");
	tp_changer_status_free(&st);
	return out;
}

static void test_status_and_insert(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_changer *c = open_changer(f);
	tp_changer_status st;
	assert_int_equal(tp_changer_get_status(c, &st, &err), 0);
	assert_int_equal(st.nslots, 6);
	assert_int_equal(st.ndrives, 2);
	assert_int_equal(st.slots[3].kind, TP_CHANGER_SLOT);
	assert_int_equal(st.slots[4].kind, TP_CHANGER_IMPORT_EXPORT);
	assert_int_equal(st.slots[4].number, 5);
	assert_false(st.slots[0].full);
	tp_changer_status_free(&st);

	assert_int_equal(tp_changer_insert(c, "AAA001L9", 1, &err), 0);
	assert_int_equal(tp_changer_insert(c, "BBB001L9", 0, &err), 0); /* first free I/E slot */
	assert_string_equal(slot_label(c, 5, 0), "BBB001L9");
	assert_int_equal(tp_changer_insert(c, "AAA001L9", 2, &err), -TP_EEXISTS);
	assert_non_null(strstr(err.msg, "already"));
	assert_int_equal(tp_changer_insert(c, "CCC001L9", 1, &err), -EBUSY);
	assert_int_equal(tp_changer_insert(c, "DDD001L9", 7, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "slot 7"));
	assert_int_equal(tp_changer_insert(c, "../x", 2, &err), -EINVAL);
	assert_int_equal(tp_changer_insert(c, "CCC001L9", 0, &err), 0);
	assert_int_equal(tp_changer_insert(c, "DDD001L9", 0, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "import/export"));
	/* whether a cartridge is anywhere in the changer: storage and import/export slots count */
	assert_int_equal(tp_changer_has_label(c, "AAA001L9", &err), 1);
	assert_int_equal(tp_changer_has_label(c, "BBB001L9", &err), 1);
	assert_int_equal(tp_changer_has_label(c, "DDD001L9", &err), 0);
	tp_changer_close(c);

	/* state survives reopening; JSON form */
	c = open_changer(f);
	assert_int_equal(tp_changer_get_status(c, &st, &err), 0);
	json_t *j = tp_changer_status_to_json(&st);
	json_t *s1 = json_array_get(json_object_get(j, "slots"), 0);
	assert_string_equal(json_string_value(json_object_get(s1, "label")), "AAA001L9");
	json_t *s5 = json_array_get(json_object_get(j, "slots"), 4);
	assert_true(json_is_true(json_object_get(s5, "import-export")));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(j, "drives"), 0), "label")));
	json_decref(j);
	tp_changer_status_free(&st);
	tp_changer_close(c);
}

static void test_load_unload_with_drive(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_changer *c = open_changer(f);
	assert_int_equal(tp_changer_insert(c, "AAA001L9", 2, &err), 0);
	assert_int_equal(tp_changer_insert(c, "BBB001L9", 3, &err), 0);
	assert_int_equal(tp_changer_load_slot(c, 2, 0, &err), 0);
	assert_string_equal(slot_label(c, 2, 0), "");
	assert_string_equal(slot_label(c, 0, 1), "AAA001L9");
	assert_int_equal(tp_changer_has_label(c, "AAA001L9", &err), 1); /* in a drive is in the changer */

	/* the drive sees the cartridge and can write it */
	tp_drive *d = open_drive(f, f->d0);
	assert_true(d->loaded);
	assert_string_equal(d->label, "AAA001L9");
	uint8_t block[4096];
	memset(block, 0x42, sizeof(block));
	assert_int_equal(tp_drive_write_block(d, block, sizeof(block), &err), 0);
	assert_int_equal(tp_drive_write_filemarks(d, 1, &err), 0);

	/* the changer cannot move media of an open drive */
	unsigned to = 0;
	assert_int_equal(tp_changer_unload(c, 0, 0, &to, &err), -TP_ELOCKED);
	assert_non_null(strstr(err.msg, "drive 0"));
	assert_string_equal(slot_label(c, 0, 1), "AAA001L9");
	tp_drive_close(d);

	/* occupied drive, empty slot, bad numbers */
	assert_int_equal(tp_changer_load_slot(c, 3, 0, &err), -EBUSY);
	assert_int_equal(tp_changer_load_slot(c, 1, 1, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "slot 1 is empty"));
	assert_int_equal(tp_changer_load_slot(c, 3, 5, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "drive number 5"));
	assert_non_null(strstr(c->last_err.msg, "changer vc: no drive number 5"));

	/* unload goes back to the slot it came from */
	assert_int_equal(tp_changer_unload(c, 0, 0, &to, &err), 0);
	assert_int_equal(to, 2);
	assert_string_equal(slot_label(c, 2, 0), "AAA001L9");
	d = open_drive(f, f->d0);
	assert_false(d->loaded);
	tp_drive_close(d);

	/* load by label into drive 1; data written through drive 0 is there */
	assert_int_equal(tp_changer_load_label(c, "AAA001L9", 1, &err), 0);
	assert_int_equal(tp_changer_load_label(c, "AAA001L9", 1, &err), 0); /* already there */
	assert_int_equal(tp_changer_load_label(c, "AAA001L9", 0, &err), -EBUSY);
	assert_int_equal(tp_changer_load_label(c, "ZZZ999L9", 0, &err), -TP_ENOTFOUND);
	d = open_drive(f, f->d1);
	assert_string_equal(d->label, "AAA001L9");
	uint8_t buf[8192];
	assert_int_equal(tp_drive_read_block(d, buf, sizeof(buf), &err), (long)sizeof(block));
	assert_memory_equal(buf, block, sizeof(block));
	tp_drive_close(d);

	/* unload into an explicit slot, and refuse a full one */
	assert_int_equal(tp_changer_unload(c, 1, 3, &to, &err), -EBUSY);
	assert_int_equal(tp_changer_unload(c, 1, 4, &to, &err), 0);
	assert_int_equal(to, 4);
	assert_int_equal(tp_changer_unload(c, 1, 0, &to, &err), -ENOENT);
	assert_int_equal(c->counters.loads, 2);
	assert_int_equal(c->counters.unloads, 2);
	assert_int_equal(c->counters.moves, 4);

	/* a drive that loaded a cartridge by itself is not overwritten by the changer */
	d = open_drive(f, f->d0);
	assert_int_equal(tp_drive_load(d, "OWN001", &err), 0);
	tp_drive_close(d);
	assert_int_equal(tp_changer_load_slot(c, 4, 0, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "OWN001"));
	tp_changer_close(c);
}

static void test_transfer_and_export(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_changer *c = open_changer(f);
	assert_int_equal(tp_changer_insert(c, "AAA001L9", 0, &err), 0); /* into I/E slot 5 */
	assert_int_equal(tp_changer_transfer(c, 5, 1, &err), 0);
	assert_string_equal(slot_label(c, 1, 0), "AAA001L9");
	assert_string_equal(slot_label(c, 5, 0), "");
	assert_int_equal(tp_changer_transfer(c, 5, 2, &err), -ENOENT);
	assert_int_equal(tp_changer_insert(c, "BBB001L9", 2, &err), 0);
	assert_int_equal(tp_changer_transfer(c, 1, 2, &err), -EBUSY);
	assert_non_null(strstr(err.msg, "BBB001L9"));
	assert_int_equal(tp_changer_transfer(c, 1, 9, &err), -EINVAL);

	unsigned to = 0;
	assert_int_equal(tp_changer_export(c, "AAA001L9", &to, &err), 0);
	assert_int_equal(to, 5);
	assert_string_equal(slot_label(c, 5, 0), "AAA001L9");
	/* exporting from a drive unloads straight into the mail slot */
	assert_int_equal(tp_changer_load_slot(c, 2, 0, &err), 0);
	assert_int_equal(tp_changer_export(c, "BBB001L9", &to, &err), 0);
	assert_int_equal(to, 6);
	assert_string_equal(slot_label(c, 0, 1), "");
	tp_drive *d = open_drive(f, f->d0);
	assert_false(d->loaded);
	tp_drive_close(d);
	/* no room left; unknown label */
	assert_int_equal(tp_changer_insert(c, "CCC001L9", 3, &err), 0);
	assert_int_equal(tp_changer_export(c, "CCC001L9", &to, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "no free import/export slot"));
	assert_int_equal(tp_changer_export(c, "NOPE", &to, &err), -TP_ENOTFOUND);
	tp_changer_close(c);
}

static void test_bad_config_and_state(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	tp_changer *c = NULL;
	json_t *bad = json_pack("{s:s,s:i}", "path", f->cdir, "slots", 0);
	assert_int_equal(tp_changer_open("virtual", "vc", bad, &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "slots"));
	json_decref(bad);
	bad = json_pack("{s:s}", "path", "rel");
	assert_int_equal(tp_changer_open("virtual", "vc", bad, &c, &err), -EINVAL);
	json_decref(bad);
	assert_int_equal(tp_changer_open("nosuch", "vc", f->conf, &c, &err), -EINVAL);

	/* a state file naming more slots than configured is refused, naming the file */
	c = open_changer(f);
	assert_int_equal(tp_changer_insert(c, "AAA001L9", 4, &err), 0);
	tp_changer_close(c);
	json_object_set_new(f->conf, "slots", json_integer(2));
	json_object_set_new(f->conf, "import-export-slots", json_integer(0));
	c = open_changer(f);
	tp_changer_status st;
	assert_int_equal(tp_changer_get_status(c, &st, &err), -TP_EFORMAT);
	assert_non_null(strstr(err.msg, "changer-status.json"));
	assert_non_null(strstr(err.msg, "AAA001L9"));
	tp_changer_close(c);
}


static void test_config_names_and_paths(void **state)
{
	(void)state;
	tp_err err = { 0 };
	assert_int_equal(tp_tape_name_valid("drive_1.a-b", "drive", &err), 0);
	assert_int_equal(tp_tape_name_valid("_x", "drive", &err), 0);
	assert_int_equal(tp_tape_name_valid("-x", "drive", &err), -EINVAL);
	assert_int_equal(tp_tape_name_valid(".x", "drive", &err), -EINVAL);
	assert_int_equal(tp_tape_name_valid("a/b", "changer", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "changer name 'a/b'"));
	assert_int_equal(tp_tape_name_valid("", "drive", &err), -EINVAL);
	assert_int_equal(tp_tape_name_valid("abcdefghijabcdefghijabcdefghijab", "drive", &err), 0);
	assert_int_equal(tp_tape_name_valid("abcdefghijabcdefghijabcdefghijabc", "drive", &err), -EINVAL);
	static const char *const good[] = {
		"/dev/sg3", "/dev/tape/by-id/scsi-1IBM_ULT3580-sg", "iscsi://host/iqn.2003-01.org.x:tgt/0",
		"iscsi://10.0.0.1:3260/iqn.2003-01.org.x:tgt/16383", "iscsi://[fe80::1]:860/naa.5000/1",
		"iscsi://[::1]/eui.0123456789abcdef/2",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (tp_tape_device_path_valid(good[i], &err) < 0)
			fail_msg("%s: %s", good[i], err.msg);
	static const char *const bad[] = {
		"", "sg3", "iscsi://", "iscsi:///iqn.x/1", "iscsi://h:0/iqn.x/1", "iscsi://h:65536/iqn.x/1",
		"iscsi://h:/iqn.x/1", "iscsi://h/iqn.x", "iscsi://h/iqn.x/", "iscsi://h/iqn.x/16384", "iscsi://h/tgt/1",
		"iscsi://h/iqn.x/1a", "iscsi://[::1/iqn.x/1", "iscsi://h h/iqn.x/1", "http://h/iqn.x/1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tp_tape_device_path_valid(bad[i], &err) != -EINVAL)
			fail_msg("accepted bad path '%s'", bad[i]);
}

static void test_config_roundtrip(void **state)
{
	fx *f = *state;
	tp_err err = { 0 };
	char home[128];
	snprintf(home, sizeof(home), "%s/home", f->dir);
	setenv("TAPIR_HOME", home, 1);
	tp_tape_config c;
	assert_int_equal(tp_tape_config_load(&c, &err), 0); /* missing file: empty */
	assert_int_equal(c.ndrives + c.nchangers, 0);
	tp_changer_conf ch = { .name = "lib", .type = "virtual", .path = f->cdir, .slots = 4, .ie_slots = 1 };
	assert_int_equal(tp_tape_config_add_changer(&c, &ch, &err), 0);
	tp_drive_conf d = { .name = "d0", .type = "virtual", .path = f->d0, .max_size = 4 << 20,
			    .changer = "lib", .changer_drivenum = 0 };
	assert_int_equal(tp_tape_config_add_drive(&c, &d, &err), 0);
	tp_drive_conf l = { .name = "l0", .type = "lto", .path = "/dev/sg1", .changer_drivenum = -1 };
	assert_int_equal(tp_tape_config_add_drive(&c, &l, &err), 0);
	/* duplicates across drives and changers, wrong kinds */
	tp_drive_conf dup = { .name = "lib", .type = "lto", .path = "/dev/sg2", .changer_drivenum = -1 };
	assert_int_equal(tp_tape_config_add_drive(&c, &dup, &err), -TP_EEXISTS);
	assert_non_null(strstr(err.msg, "changer named 'lib'"));
	tp_drive_conf mix = { .name = "l1", .type = "lto", .path = "/dev/sg2", .changer = "lib", .changer_drivenum = 1 };
	assert_int_equal(tp_tape_config_add_drive(&c, &mix, &err), -EINVAL);
	tp_drive_conf same = { .name = "d1", .type = "virtual", .path = f->d1, .changer = "lib", .changer_drivenum = 0 };
	assert_int_equal(tp_tape_config_add_drive(&c, &same, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "already drive 'd0'"));
	tp_drive_conf rel = { .name = "d2", .type = "virtual", .path = "rel", .changer_drivenum = -1 };
	assert_int_equal(tp_tape_config_add_drive(&c, &rel, &err), -EINVAL);
	assert_int_equal(tp_tape_config_save(&c, &err), 0);
	tp_tape_config_free(&c);

	assert_int_equal(tp_tape_config_load(&c, &err), 0);
	assert_int_equal(c.ndrives, 2);
	assert_int_equal(c.nchangers, 1);
	const tp_drive_conf *g = tp_tape_config_drive(&c, "d0");
	assert_non_null(g);
	assert_int_equal(g->max_size, 4 << 20);
	assert_string_equal(g->changer, "lib");
	assert_int_equal(tp_tape_config_drive(&c, "l0")->changer_drivenum, -1);
	/* backend objects: the drive's cartridges live in the changer directory */
	json_t *b = tp_tape_config_drive_backend(&c, g);
	assert_string_equal(tp_json_opt_str(b, "media-path"), f->cdir);
	json_decref(b);
	b = tp_tape_config_changer_backend(&c, tp_tape_config_changer(&c, "lib"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "drives"), 0)), f->d0);
	json_decref(b);
	assert_int_equal(tp_tape_config_remove_changer(&c, "lib", &err), -EBUSY);
	assert_int_equal(tp_tape_config_remove_drive(&c, "d0", &err), 0);
	assert_int_equal(tp_tape_config_remove_drive(&c, "d0", &err), -TP_ENOTFOUND);
	assert_int_equal(tp_tape_config_remove_changer(&c, "lib", &err), 0);
	assert_int_equal(tp_tape_config_save(&c, &err), 0);
	tp_tape_config_free(&c);

	/* open by name; unknown names and backend-less types are clear errors */
	tp_drive *dr = NULL;
	assert_int_equal(tp_drive_open_by_name("nope", &dr, &err), -TP_ENOTFOUND);
	assert_non_null(strstr(err.msg, "no drive named 'nope'"));
	/* the lto backend tries the device (absent here, or not a tape drive) and names it */
	assert_true(tp_drive_open_by_name("l0", &dr, &err) < 0);
	assert_non_null(strstr(err.msg, "/dev/sg1"));
	tp_changer *cc = NULL;
	assert_int_equal(tp_changer_open_by_name("lib", &cc, &err), -TP_ENOTFOUND);

	/* a hand-edited file with a bad entry is refused, naming the file */
	char p[160];
	snprintf(p, sizeof(p), "%s/etc/tape.json", home);
	const char *txt = "{\"drives\": [{\"name\": \"x y\", \"type\": \"lto\", \"path\": \"/dev/sg1\"}]}";
	assert_int_equal(tp_write_atomic(p, txt, strlen(txt), 0600, NULL), 0);
	assert_int_equal(tp_tape_config_load(&c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "tape.json"));
	assert_non_null(strstr(err.msg, "x y"));
	unsetenv("TAPIR_HOME");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_and_insert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_unload_with_drive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_and_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_config_and_state, setup, teardown),
		cmocka_unit_test(test_config_names_and_paths),
		cmocka_unit_test_setup_teardown(test_config_roundtrip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
