/* Unit test: the `scsi` (SMC) changer backend against a private tgtd library: status with barcodes, load, unload, transfer, export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "tape/changer.h"
#include "tape/drive.h"
#include "tape/drive_diag.h"

#ifndef TAPIR_FIXTURES
#define TAPIR_FIXTURES "tests/fixtures"
#endif

/* tgt-lib layout: 6 storage slots (1..6), 2 import/export (7, 8), 2 drives; 3 cartridges in slots 1..3 */
#define NSLOTS 6
#define NTAPES 3
#define NDRIVES 2

static struct {
	char dir[64], home[64];
	char script[1024];
	char changer_url[256], drive_url[256], drive1_url[256];
	char barcodes[NTAPES][16];
} g;

static int lib_cmd(const char *what, char *out, size_t cap)
{
	const char *fx = getenv("TAPIR_FIXTURES");
	if (!fx || !*fx)
		fx = TAPIR_FIXTURES;
	snprintf(g.script, sizeof(g.script), "%s/../e2e/tgt-lib.sh", fx);
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "TGT_TAPE_MB=4 bash '%s' %s '%s' %d %d %d 2>&1", g.script, what, g.dir, NSLOTS, NTAPES,
		 NDRIVES);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = 0;
	return pclose(p) == 0 ? 0 : -1;
}

static void env_value(const char *text, const char *key, char *out, size_t cap)
{
	out[0] = 0;
	size_t kl = strlen(key);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) == 0 && l[kl] == '=') {
			const char *v = l + kl + 1;
			size_t n = strcspn(v, "\n");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = 0;
			return;
		}
	}
}

static tp_changer *open_changer(int cache_ms)
{
	json_t *conf = json_pack("{s:s,s:i}", "path", g.changer_url, "cache-ms", cache_ms);
	tp_changer *c = NULL;
	tp_err e = { 0 };
	int r = tp_changer_open("scsi", "lib", conf, &c, &e);
	json_decref(conf);
	if (r < 0)
		fail_msg("open changer: %s", e.msg);
	return c;
}

static void get_status(tp_changer *c, tp_changer_status *st)
{
	tp_err e = { 0 };
	if (tp_changer_get_status(c, st, &e) < 0)
		fail_msg("status: %s", e.msg);
}

/* Slot or drive label ("" empty) from a fresh status read by a second handle (no cache). */
static void fresh(tp_changer_status *st)
{
	tp_changer *c = open_changer(0);
	get_status(c, st);
	tp_changer_close(c);
}

static const char *slot_label(const tp_changer_status *st, unsigned slot)
{
	assert_true(slot >= 1 && slot <= st->nslots);
	assert_int_equal(st->slots[slot - 1].number, slot);
	return st->slots[slot - 1].full ? st->slots[slot - 1].label : "";
}

static void test_open_and_status(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_changer *c = NULL;
	json_t *conf = json_pack("{s:s}", "path", g.drive_url);
	assert_int_equal(tp_changer_open("scsi", "notachanger", conf, &c, &e), -ENODEV);
	assert_non_null(strstr(e.msg, "not a media changer"));
	json_decref(conf);
	conf = json_object();
	assert_int_equal(tp_changer_open("scsi", "nopath", conf, &c, &e), -EINVAL);
	json_decref(conf);

	c = open_changer(10000);
	assert_true(c->ops->caps & TP_CHANGER_CAP_BARCODES);
	tp_changer_status st;
	get_status(c, &st);
	assert_int_equal(st.nslots, NSLOTS + 2);
	assert_int_equal(st.ndrives, NDRIVES);
	for (unsigned i = 1; i <= NSLOTS + 2; i++) {
		assert_int_equal(st.slots[i - 1].kind, i <= NSLOTS ? TP_CHANGER_SLOT : TP_CHANGER_IMPORT_EXPORT);
		assert_string_equal(slot_label(&st, i), i <= NTAPES ? g.barcodes[i - 1] : "");
	}
	for (unsigned i = 0; i < NDRIVES; i++) {
		assert_int_equal(st.drives[i].number, i);
		assert_false(st.drives[i].full);
	}
	json_t *j = tp_changer_status_to_json(&st);
	json_t *s0 = json_array_get(json_object_get(j, "slots"), 0);
	assert_string_equal(json_string_value(json_object_get(s0, "label")), g.barcodes[0]);
	json_decref(j);
	tp_changer_status_free(&st);
	tp_changer_close(c);
}

static void test_load_unload_transfer_export(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_changer *c = open_changer(10000);
	tp_changer_status st;

	/* load slot 2 into drive 1, by label slot 1 into drive 0 */
	assert_int_equal(tp_changer_load_slot(c, 2, 1, &e), 0);
	assert_int_equal(tp_changer_load_label(c, g.barcodes[0], 0, &e), 0);
	/* again: already there */
	assert_int_equal(tp_changer_load_label(c, g.barcodes[0], 0, &e), 0);
	assert_int_equal(tp_changer_load_label(c, g.barcodes[0], 1, &e), -EBUSY);
	get_status(c, &st);
	assert_string_equal(st.drives[0].label, g.barcodes[0]);
	assert_int_equal(st.drives[0].from_slot, 1);
	assert_string_equal(st.drives[1].label, g.barcodes[1]);
	assert_int_equal(st.drives[1].from_slot, 2);
	assert_string_equal(slot_label(&st, 1), "");
	tp_changer_status_free(&st);
	/* the cached status agrees with the device */
	fresh(&st);
	assert_true(st.drives[0].full);
	assert_string_equal(st.drives[0].label, g.barcodes[0]);
	assert_int_equal(st.drives[0].from_slot, 1);
	assert_string_equal(st.drives[1].label, g.barcodes[1]);
	assert_false(st.slots[0].full);
	tp_changer_status_free(&st);

	/* errors name the element: full drive, empty slot, unknown slot/drive, unknown label */
	assert_int_equal(tp_changer_load_slot(c, 3, 0, &e), -EEXIST);
	assert_non_null(strstr(e.msg, "drive 0 already holds"));
	assert_int_equal(tp_changer_load_slot(c, 5, 0, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "slot 5 is empty"));
	assert_int_equal(tp_changer_load_slot(c, 99, 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "slot 99"));
	assert_int_equal(tp_changer_load_slot(c, 3, 7, &e), -EINVAL);
	assert_int_equal(tp_changer_load_label(c, "NOPE01L6", 0, &e), -TP_ENOTFOUND);

	/* unload drive 0 back to where it came from, drive 1 to a chosen slot */
	unsigned to = 0;
	assert_int_equal(tp_changer_unload(c, 0, 0, &to, &e), 0);
	assert_int_equal(to, 1);
	assert_int_equal(tp_changer_unload(c, 1, 6, &to, &e), 0);
	assert_int_equal(to, 6);
	assert_int_equal(tp_changer_unload(c, 1, 0, &to, &e), -ENOMEDIUM);
	/* transfer slot 6 -> 4 */
	assert_int_equal(tp_changer_transfer(c, 6, 4, &e), 0);
	assert_int_equal(tp_changer_transfer(c, 6, 4, &e), -ENOENT);
	assert_int_equal(tp_changer_transfer(c, 1, 3, &e), -EEXIST);
	/* export by label: to the first free import/export slot (7), from a drive too */
	assert_int_equal(tp_changer_export(c, g.barcodes[2], &to, &e), 0);
	assert_int_equal(to, 7);
	assert_int_equal(tp_changer_load_slot(c, 4, 0, &e), 0);
	assert_int_equal(tp_changer_export(c, g.barcodes[1], &to, &e), 0);
	assert_int_equal(to, 8);
	/* both I/E slots are full now */
	assert_int_equal(tp_changer_export(c, g.barcodes[0], &to, &e), -ENOSPC);
	assert_int_equal(c->counters.moves, 8);

	fresh(&st);
	assert_string_equal(slot_label(&st, 1), g.barcodes[0]);
	assert_string_equal(slot_label(&st, 2), "");
	assert_string_equal(slot_label(&st, 3), "");
	assert_string_equal(slot_label(&st, 4), "");
	assert_string_equal(slot_label(&st, 7), g.barcodes[2]);
	assert_string_equal(slot_label(&st, 8), g.barcodes[1]);
	assert_false(st.drives[0].full);
	assert_false(st.drives[1].full);
	tp_changer_status_free(&st);

	/* import back: I/E slot to storage */
	assert_int_equal(tp_changer_transfer(c, 7, 3, &e), 0);
	assert_int_equal(tp_changer_transfer(c, 8, 2, &e), 0);
	assert_int_equal(tp_changer_insert(c, "NEW001L6", 0, &e), -ENOTSUP);
	tp_changer_close(c);
}

/* Moves by another handle are picked up once the cache is stale or a move fails. */
static void test_cache(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_changer *c = open_changer(60000);
	tp_changer *other = open_changer(0);
	tp_changer_status st;
	get_status(c, &st);
	assert_true(st.slots[0].full);
	tp_changer_status_free(&st);
	assert_int_equal(tp_changer_transfer(other, 1, 5, &e), 0);
	/* c still believes slot 1 is full: its move fails on the device, and then it knows better */
	assert_int_equal(tp_changer_load_slot(c, 1, 0, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "source empty"));
	get_status(c, &st);
	assert_false(st.slots[0].full);
	assert_string_equal(slot_label(&st, 5), g.barcodes[0]);
	tp_changer_status_free(&st);
	assert_int_equal(tp_changer_transfer(c, 5, 1, &e), 0);
	tp_changer_close(other);
	tp_changer_close(c);
}

static tp_changer *open_ejecting(const char *drive0, const char *drive1)
{
	json_t *conf = json_pack("{s:s,s:i,s:i,s:b,s:[s?,s?]}", "path", g.changer_url, "cache-ms", 10000,
				 "lock-timeout-ms", 300, "eject-before-unload", 1, "drives", drive0, drive1);
	tp_changer *c = NULL;
	tp_err e = { 0 };
	int r = tp_changer_open("scsi", "lib", conf, &c, &e);
	json_decref(conf);
	if (r < 0)
		fail_msg("open changer: %s", e.msg);
	return c;
}

/*
 * eject-before-unload: the drive gets UNLOAD (through its own device, under
 * its device lock) before MOVE MEDIUM; when the eject fails the robot does
 * not move.  tgt's UNLOAD does nothing, so the failures show the order.
 */
static void test_eject_before_unload(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_changer_status st;
	tp_changer *c = open_ejecting(g.drive_url, NULL);
	assert_int_equal(tp_changer_load_slot(c, 1, 0, &e), 0);

	/* the drive is open elsewhere: not ejected under its user, the cartridge stays */
	json_t *dconf = json_pack("{s:s,s:s}", "path", g.drive_url, "changer", "lib");
	tp_drive *busy = NULL;
	if (tp_drive_open("lto", "busy0", dconf, &busy, &e) < 0)
		fail_msg("open drive: %s", e.msg);
	json_decref(dconf);
	unsigned to = 0;
	assert_int_equal(tp_changer_unload(c, 0, 0, &to, &e), -TP_ELOCKED);
	assert_non_null(strstr(e.msg, "unload drive 0"));
	assert_non_null(strstr(e.msg, "busy0"));
	fresh(&st);
	assert_true(st.drives[0].full);
	assert_string_equal(st.drives[0].label, g.barcodes[0]);
	tp_changer_status_free(&st);
	tp_drive_close(busy);

	/* free now: UNLOAD, then MOVE MEDIUM back to slot 1 */
	assert_int_equal(tp_changer_unload(c, 0, 0, &to, &e), 0);
	assert_int_equal(to, 1);
	fresh(&st);
	assert_false(st.drives[0].full);
	assert_string_equal(slot_label(&st, 1), g.barcodes[0]);
	tp_changer_status_free(&st);

	/* no drive configured as drive 1: moved without an eject (a warning) */
	assert_int_equal(tp_changer_load_slot(c, 2, 1, &e), 0);
	assert_int_equal(tp_changer_unload(c, 1, 0, &to, &e), 0);
	assert_int_equal(to, 2);
	tp_changer_close(c);

	/* a drive path that does not answer: the eject fails and nothing moves */
	char bad[300];
	snprintf(bad, sizeof(bad), "%.*s/9", (int)(strrchr(g.drive_url, '/') - g.drive_url), g.drive_url);
	c = open_ejecting(bad, NULL);
	assert_int_equal(tp_changer_load_slot(c, 1, 0, &e), 0);
	assert_true(tp_changer_unload(c, 0, 0, &to, &e) < 0);
	assert_non_null(strstr(e.msg, "unload drive 0"));
	fresh(&st);
	assert_true(st.drives[0].full);
	tp_changer_status_free(&st);
	tp_changer_close(c);
	c = open_changer(0);
	assert_int_equal(tp_changer_unload(c, 0, 0, &to, &e), 0);
	assert_int_equal(to, 1);
	tp_changer_close(c);

	/* a wrong type is refused at open */
	json_t *conf = json_pack("{s:s,s:s}", "path", g.changer_url, "eject-before-unload", "yes");
	assert_int_equal(tp_changer_open("scsi", "lib", conf, &c, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "eject-before-unload"));
	json_decref(conf);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_changer_smc_tgt: tgtd needs root; run the tests as root\n");
		return 1;
	}
	snprintf(g.dir, sizeof(g.dir), "/tmp/tapir-smctgt.XXXXXX");
	snprintf(g.home, sizeof(g.home), "/tmp/tapir-smchome.XXXXXX");
	if (!mkdtemp(g.dir) || !mkdtemp(g.home)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("TAPIR_HOME", g.home, 1);
	char out[4096];
	if (lib_cmd("start", out, sizeof(out)) < 0) {
		fprintf(stderr, "starting tgt failed:\n%s\n", out);
		return 1;
	}
	env_value(out, "TGT_CHANGER_URL", g.changer_url, sizeof(g.changer_url));
	env_value(out, "TGT_DRIVE0_URL", g.drive_url, sizeof(g.drive_url));
	char bcs[128];
	env_value(out, "TGT_BARCODES", bcs, sizeof(bcs));
	int fails = 1;
	if (sscanf(bcs, "'%15s %15s %15[^']'", g.barcodes[0], g.barcodes[1], g.barcodes[2]) != 3 || !g.changer_url[0]) {
		fprintf(stderr, "unexpected tgt-lib output:\n%s\n", out);
	} else {
		const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_open_and_status),
			cmocka_unit_test(test_load_unload_transfer_export),
			cmocka_unit_test(test_cache),
			cmocka_unit_test(test_eject_before_unload),
		};
		fails = cmocka_run_group_tests_name("scsi changer on tgt", tests, NULL, NULL);
	}
	if (lib_cmd("stop", out, sizeof(out)) < 0) {
		fprintf(stderr, "stopping tgt failed:\n%s\n", out);
		fails++;
	}
	tp_rm_rf(g.home, NULL);
	return fails;
}
