/* Unit test: tape.json changer keys (eject-before-unload) and the backend configuration built from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/paths.h"
#include "tape/drive_config.h"

static char home[64];

static int setup(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-dconf-XXXXXX");
	assert_non_null(mkdtemp(home));
	setenv("TAPIR_HOME", home, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tp_rm_rf(home, NULL);
	return 0;
}

static void write_config(const char *text)
{
	char *p = tp_config_path(TP_TAPE_CONFIG_FILE);
	assert_non_null(p);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static tp_changer_conf changer(const char *name, const char *type, const char *path, int eject)
{
	tp_changer_conf ch;
	memset(&ch, 0, sizeof(ch));
	snprintf(ch.name, sizeof(ch.name), "%s", name);
	snprintf(ch.type, sizeof(ch.type), "%s", type);
	ch.path = (char *)path;
	ch.eject_before_unload = eject;
	if (!strcmp(type, "virtual"))
		ch.slots = 4;
	return ch;
}

static void test_eject_before_unload_roundtrip(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_tape_config c;
	memset(&c, 0, sizeof(c));
	tp_changer_conf ch = changer("lib", "scsi", "iscsi://127.0.0.1:3260/iqn.2026-01.org.tapir.test:lib/1", 1);
	assert_int_equal(tp_tape_config_add_changer(&c, &ch, &e), 0);
	tp_changer_conf plain = changer("lib2", "scsi", "/dev/sg7", 0);
	assert_int_equal(tp_tape_config_add_changer(&c, &plain, &e), 0);
	tp_drive_conf d;
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "lto0");
	snprintf(d.type, sizeof(d.type), "lto");
	d.path = "iscsi://127.0.0.1:3260/iqn.2026-01.org.tapir.test:lib/2";
	snprintf(d.changer, sizeof(d.changer), "lib");
	d.changer_drivenum = 1;
	assert_int_equal(tp_tape_config_add_drive(&c, &d, &e), 0);
	assert_int_equal(tp_tape_config_save(&c, &e), 0);
	tp_tape_config_free(&c);

	assert_int_equal(tp_tape_config_load(&c, &e), 0);
	const tp_changer_conf *l = tp_tape_config_changer(&c, "lib");
	assert_non_null(l);
	assert_int_equal(l->eject_before_unload, 1);
	assert_int_equal(tp_tape_config_changer(&c, "lib2")->eject_before_unload, 0);

	/* stored only when set */
	json_t *j = tp_changer_conf_to_json(l);
	assert_true(json_is_true(json_object_get(j, "eject-before-unload")));
	json_decref(j);
	j = tp_changer_conf_to_json(tp_tape_config_changer(&c, "lib2"));
	assert_null(json_object_get(j, "eject-before-unload"));
	json_decref(j);

	/* the backend gets the flag and the drives' device paths by drive number */
	j = tp_tape_config_changer_backend(&c, l);
	assert_true(json_is_true(json_object_get(j, "eject-before-unload")));
	json_t *drives = json_object_get(j, "drives");
	assert_int_equal(json_array_size(drives), 2);
	assert_true(json_is_null(json_array_get(drives, 0)));
	assert_string_equal(json_string_value(json_array_get(drives, 1)), d.path);
	json_decref(j);
	tp_tape_config_free(&c);
}

static void test_eject_before_unload_refused(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_tape_config c;
	memset(&c, 0, sizeof(c));
	char dir[128];
	snprintf(dir, sizeof(dir), "%s/vlib", home);
	tp_changer_conf v = changer("vlib", "virtual", dir, 1);
	assert_int_equal(tp_tape_config_add_changer(&c, &v, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "changer vlib: eject-before-unload applies to SCSI changers only"));
	assert_int_equal(c.nchangers, 0);
	tp_tape_config_free(&c);

	/* a hand-edited file: a non-boolean value is a format error naming the file and the changer */
	write_config("{\"changers\": [{\"name\": \"lib\", \"type\": \"scsi\", \"path\": \"/dev/sg3\", "
		     "\"eject-before-unload\": \"yes\"}], \"drives\": []}");
	assert_int_equal(tp_tape_config_load(&c, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "tape.json"));
	assert_non_null(strstr(e.msg, "changer lib"));
	assert_non_null(strstr(e.msg, "eject-before-unload"));

	/* as PBS's flag: false and null are "off" */
	write_config("{\"changers\": [{\"name\": \"lib\", \"type\": \"scsi\", \"path\": \"/dev/sg3\", "
		     "\"eject-before-unload\": false}], \"drives\": []}");
	assert_int_equal(tp_tape_config_load(&c, &e), 0);
	assert_int_equal(c.changers[0].eject_before_unload, 0);
	tp_tape_config_free(&c);
	write_config("{\"changers\": [{\"name\": \"vlib\", \"type\": \"virtual\", \"path\": \"/tmp/x\", \"slots\": 2, "
		     "\"eject-before-unload\": true}], \"drives\": []}");
	assert_int_equal(tp_tape_config_load(&c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "SCSI changers only"));
}

/* The locked read-modify-write helpers the CLI and the API share. */
static void test_create_delete(void **state)
{
	(void)state;
	tp_err e = { 0 };
	char dir[128], ddir[128];
	snprintf(dir, sizeof(dir), "%s/lib", home);
	snprintf(ddir, sizeof(ddir), "%s/drv", home);
	tp_changer_conf v = changer("lib", "virtual", dir, 0);
	json_t *j = NULL;
	assert_int_equal(tp_tape_config_create_changer(&v, &j, &e), 0);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "lib");
	json_decref(j);
	assert_true(tp_path_exists(dir)); /* a virtual changer's directory is made */
	tp_drive_conf d = { .type = "virtual", .path = ddir, .changer_drivenum = 0 };
	snprintf(d.name, sizeof(d.name), "d1");
	snprintf(d.changer, sizeof(d.changer), "lib");
	assert_int_equal(tp_tape_config_create_drive(&d, NULL, &e), 0);
	assert_true(tp_path_exists(ddir));
	assert_int_equal(tp_tape_config_create_drive(&d, NULL, &e), -TP_EEXISTS);
	/* a changer with a drive attached stays */
	assert_int_equal(tp_tape_config_delete_changer("lib", &e), -EBUSY);
	assert_int_equal(tp_tape_config_delete_drive("d1", &e), 0);
	assert_int_equal(tp_tape_config_delete_drive("d1", &e), -TP_ENOTFOUND);
	assert_int_equal(tp_tape_config_delete_changer("lib", &e), 0);
	tp_tape_config c;
	assert_int_equal(tp_tape_config_load(&c, &e), 0);
	assert_int_equal(c.nchangers + c.ndrives, 0);
	tp_tape_config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eject_before_unload_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eject_before_unload_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
