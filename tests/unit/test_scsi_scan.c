/* Unit test: tape/changer discovery over a fabricated sysfs tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "tape/scsi_cdb.h"
#include "tape/scsi_scan.h"

static char root[64];

static void put(const char *rel, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void mk(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(tp_mkdir_p(path, 0755, NULL), 0);
}

/* sysfs: class/scsi_generic/sgN/device -> ../../../devices/H:C:T:L */
static void add_sg(const char *name, const char *hctl, const char *type, const char *vendor, const char *model)
{
	char rel[256], target[256], link[512];
	snprintf(rel, sizeof(rel), "devices/%s", hctl);
	mk(rel);
	snprintf(rel, sizeof(rel), "class/scsi_generic/%s", name);
	mk(rel);
	snprintf(target, sizeof(target), "../../../devices/%s", hctl);
	snprintf(link, sizeof(link), "%s/class/scsi_generic/%s/device", root, name);
	assert_int_equal(symlink(target, link), 0);
	snprintf(rel, sizeof(rel), "devices/%s/type", hctl);
	put(rel, type, strlen(type));
	snprintf(rel, sizeof(rel), "devices/%s/vendor", hctl);
	put(rel, vendor, strlen(vendor));
	snprintf(rel, sizeof(rel), "devices/%s/model", hctl);
	put(rel, model, strlen(model));
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tapir-scan.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return tp_rm_rf(root, NULL);
}

static void test_scan(void **state)
{
	(void)state;
	add_sg("sg10", "3:0:2:0", "1\n", "HP      \n", "Ultrium 8-SCSI  \n");
	add_sg("sg0", "2:0:0:0", "1\n", "IBM     \n", "ULT3580-TD8     \n");
	add_sg("sg1", "1:0:0:0", "0\n", "ATA     \n", "disk\n");
	add_sg("sg2", "2:0:1:0", "8\n", "IBM     \n", "3573-TL         \n");
	add_sg("sgx", "9:0:0:0", "1\n", "X\n", "Y\n");
	put("devices/2:0:0:0/rev", "Q3F0\n", 5);
	/* VPD 80h as the kernel exposes it */
	static const uint8_t pg80[14] = { 0x01, 0x80, 0x00, 0x0a, '1', '0', '7', '8', '0', '0', '1', '2', '3', '4' };
	put("devices/2:0:0:0/vpd_pg80", pg80, sizeof(pg80));
	mk("dev");
	char dev[128];
	snprintf(dev, sizeof(dev), "%s/dev", root);

	tp_scsi_scan_entry *list;
	size_t n;
	tp_err e = { 0 };
	assert_int_equal(tp_scsi_scan(root, dev, 1, &list, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].name, "sg0");
	assert_int_equal(list[0].type, TP_PDT_TAPE);
	assert_string_equal(list[0].vendor, "IBM");
	assert_string_equal(list[0].model, "ULT3580-TD8");
	assert_string_equal(list[0].revision, "Q3F0");
	assert_string_equal(list[0].hctl, "2:0:0:0");
	assert_string_equal(list[0].serial, "1078001234");
	char want[300];
	snprintf(want, sizeof(want), "%s/sg0", dev);
	assert_string_equal(list[0].path, want);
	assert_string_equal(list[1].name, "sg2");
	assert_int_equal(list[1].type, TP_PDT_CHANGER);
	assert_string_equal(list[1].model, "3573-TL");
	assert_string_equal(list[1].serial, ""); /* no vpd_pg80 and no device node to ask */
	assert_string_equal(list[2].name, "sg10");
	assert_string_equal(list[2].vendor, "HP");
	assert_string_equal(list[2].model, "Ultrium 8-SCSI");
	assert_string_equal(tp_scsi_type_name(list[1].type), "changer");
	assert_string_equal(tp_scsi_type_name(list[0].type), "tape");
	assert_string_equal(tp_scsi_type_name(0), "other");
	free(list);

	/* no scsi_generic class at all: an empty list */
	char none[128];
	snprintf(none, sizeof(none), "%s/nothing", root);
	assert_int_equal(tp_scsi_scan(none, NULL, 0, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
