/* Unit test: the `lto` drive backend against a private tgtd (iSCSI on 127.0.0.1): the drive conformance suite plus lto specifics. */
#define TP_CONFORMANCE_NO_MAIN
#include "test_drive_conformance.c"

#include <unistd.h>

#include "tape/drive_diag.h"

#ifndef TAPIR_FIXTURES
#define TAPIR_FIXTURES "tests/fixtures"
#endif

#define NTAPES 14
#define SLOT0 1000
#define DRIVE_ELEM 500
#define TIMEOUT_MS 30000
#define SMALL_CAPACITY (8u << 20) /* tgt has no hard end: capacity and leom-reserve stand in */
#define LEOM_RESERVE (1u << 20)

static struct {
	char dir[64], home[64];
	char script[1024];
	char changer_url[256], drive_url[256];
	tp_scsi_dev *chg;
	int next_tape;
	int cur_slot; /* slot whose cartridge is in the drive, 0 none */
	tp_drive *open; /* the drive lf_make opened, until lf_destroy */
} g;

static const char *script_path(void)
{
	const char *fx = getenv("TAPIR_FIXTURES");
	if (!fx || !*fx)
		fx = TAPIR_FIXTURES;
	snprintf(g.script, sizeof(g.script), "%s/../e2e/tgt-lib.sh", fx);
	return g.script;
}

static int lib_cmd(const char *what, char *out, size_t cap)
{
	char cmd[1400];
	snprintf(cmd, sizeof(cmd), "TGT_TAPE_MB=4 bash '%s' %s '%s' %d %d 1 2>&1", script_path(), what, g.dir, NTAPES,
		 NTAPES);
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

static int move_medium(uint16_t src, uint16_t dst, tp_err *e)
{
	tp_cdb c;
	tp_cdb_move_medium(&c, 1, src, dst, 0);
	tp_sense s;
	enum tp_sense_class cls;
	int r = tp_scsi_run(g.chg, &c, NULL, 0, TIMEOUT_MS, NULL, &s, &cls, e);
	if (r == -EIO && cls == TP_SENSE_UNIT_ATTENTION)
		r = tp_scsi_run(g.chg, &c, NULL, 0, TIMEOUT_MS, NULL, &s, &cls, e);
	return r;
}

static json_t *drive_conf(const char *url)
{
	return json_pack("{s:s,s:s,s:I,s:I,s:i,s:i}", "path", url, "changer", "tgtchg", "capacity",
			 (json_int_t)SMALL_CAPACITY, "leom-reserve", (json_int_t)LEOM_RESERVE, "ready-timeout-ms", 10000,
			 "lock-timeout-ms", 0);
}

/* A fresh (never written) tgt cartridge moved into the drive, then the drive opened on it. */
static int lf_make(void *ctx, int small, tp_drive **out, tp_err *err)
{
	(void)ctx;
	(void)small;
	if (g.next_tape >= NTAPES)
		return tp_err_set(err, -ENOSPC, "test library has no fresh cartridge left");
	int slot = SLOT0 + g.next_tape++;
	int r;
	/* a failed test leaves its drive open and its cartridge in: put it back first */
	if (g.open) {
		tp_drive_close(g.open);
		g.open = NULL;
	}
	if (g.cur_slot && (r = move_medium(DRIVE_ELEM, (uint16_t)g.cur_slot, err)) < 0)
		return r;
	g.cur_slot = 0;
	r = move_medium((uint16_t)slot, DRIVE_ELEM, err);
	if (r < 0)
		return r;
	g.cur_slot = slot;
	json_t *conf = drive_conf(g.drive_url);
	r = tp_drive_open("lto", "tgt0", conf, out, err);
	json_decref(conf);
	if (r == 0)
		g.open = *out;
	return r;
}

static void lf_destroy(void *ctx, tp_drive *d)
{
	(void)ctx;
	tp_drive_close(d);
	if (d == g.open)
		g.open = NULL;
	tp_err e = { 0 };
	if (g.cur_slot && move_medium(DRIVE_ELEM, (uint16_t)g.cur_slot, &e) < 0)
		fail_msg("moving the cartridge back to slot %d: %s", g.cur_slot, e.msg);
	g.cur_slot = 0;
}

/* ---- lto specifics ---- */

static void close_drive(tp_drive *d)
{
	if (d == g.open)
		g.open = NULL;
	tp_drive_close(d);
}

static tp_drive *open_tgt(const char *url)
{
	json_t *conf = drive_conf(url);
	tp_drive *d = NULL;
	tp_err e = { 0 };
	int r = tp_drive_open("lto", "tgt0", conf, &d, &e);
	json_decref(conf);
	if (r < 0)
		fail_msg("open %s: %s", url, e.msg);
	g.open = d;
	return d;
}

static void test_open_checks(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_drive *d = NULL;
	/* the changer LUN is not a tape drive */
	json_t *conf = drive_conf(g.changer_url);
	assert_int_equal(tp_drive_open("lto", "notadrive", conf, &d, &e), -ENODEV);
	assert_non_null(strstr(e.msg, "not a tape drive"));
	assert_non_null(strstr(e.msg, "type 8"));
	json_decref(conf);
	/* missing path and bad option types */
	conf = json_pack("{s:s}", "changer", "x");
	assert_int_equal(tp_drive_open("lto", "nopath", conf, &d, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "\"path\""));
	json_decref(conf);
	conf = json_pack("{s:s,s:s}", "path", g.drive_url, "compression", "yes");
	assert_int_equal(tp_drive_open("lto", "badcomp", conf, &d, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "compression"));
	json_decref(conf);

	/* empty drive: opens, nothing loaded, I/O says so */
	d = open_tgt(g.drive_url);
	assert_false(d->loaded);
	uint8_t buf[512];
	assert_int_equal(tp_drive_read_block(d, buf, sizeof(buf), &e), -ENOMEDIUM);
	/* load with an empty drive: -ENOMEDIUM after trying LOAD */
	assert_int_equal(tp_drive_load(d, NULL, &e), -ENOMEDIUM);
	assert_non_null(strstr(e.msg, "no cartridge"));
	/* by label needs a changer */
	assert_int_equal(tp_drive_load(d, "TPR001L6", &e), -ENOTSUP);
	/* a second handle on the same device is refused */
	tp_drive *d2 = NULL;
	conf = drive_conf(g.drive_url);
	assert_int_equal(tp_drive_open("lto", "tgt0b", conf, &d2, &e), -TP_ELOCKED);
	json_decref(conf);
	close_drive(d);
}

/* Position tracking learns a cartridge written by an earlier handle: EOD, files and locate by reading. */
static void test_tracked_relearn(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_drive *d = NULL;
	assert_int_equal(lf_make(NULL, 0, &d, &e), 0);
	cf_write_file(d, 0, 2);
	cf_write_file(d, 1, 1);
	cf_write_file(d, 2, 3);
	close_drive(d);
	/* reopen with the cartridge in the drive: a new handle knows nothing, rewinds */
	d = open_tgt(g.drive_url);
	assert_true(d->loaded);
	cf_expect_pos(d, 0, 0);
	assert_int_equal(tp_drive_move_to_file(d, 2, &e), 0);
	cf_expect_pos(d, 5, 2);
	cf_read_file(d, 2, 3);
	assert_int_equal(tp_drive_move_to_eod(d, &e), 0);
	cf_expect_pos(d, 9, 3);
	assert_true(d->pos.eod);
	assert_int_equal(tp_drive_locate(d, 3, &e), 0);
	cf_read_file(d, 1, 1);
	close_drive(d);

	/* a handle that never saw end of data learns it by locate past it */
	d = open_tgt(g.drive_url);
	assert_int_equal(tp_drive_locate(d, 20, &e), -ESPIPE);
	assert_non_null(strstr(e.msg, "beyond end of data"));
	cf_expect_pos(d, 9, 3);
	/* appending there works and is read back after a rewind */
	cf_write_file(d, 3, 1);
	assert_int_equal(tp_drive_rewind(d, &e), 0);
	assert_int_equal(tp_drive_space(d, TP_SPACE_FILEMARKS, 3, &e), TP_SPACE_DONE);
	cf_read_file(d, 3, 1);
	lf_destroy(NULL, d);
}

static void test_unsupported_features(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_drive *d = NULL;
	assert_int_equal(lf_make(NULL, 0, &d, &e), 0);
	/* tgt has no SECURITY PROTOCOL IN/OUT: a key is refused clearly, clearing is a no-op */
	uint8_t key[32];
	memset(key, 0x11, sizeof(key));
	int r = tp_drive_set_encryption(d, key, &e);
	assert_int_equal(r, -ENOTSUP);
	assert_non_null(strstr(e.msg, "not supported"));
	assert_false(d->encryption);
	assert_int_equal(tp_drive_set_encryption(d, NULL, &e), 0);
	/* no ERASE, no TapeAlert, no MAM */
	assert_int_equal(tp_drive_erase(d, &e), -ENOTSUP);
	assert_non_null(strstr(e.msg, "ERASE"));
	uint64_t flags = 1;
	assert_int_equal(tp_lto_tapealert(d, &flags, &e), -ENOTSUP);
	assert_int_equal(flags, 0);
	assert_int_equal(tp_lto_write_mam(d, "TPR001L6", "pool1", &e), -ENOTSUP);
	/* writing still works after all that (position known, TapeAlert check skipped) */
	cf_write_file(d, 0, 1);
	cf_expect_pos(d, 2, 1);
	lf_destroy(NULL, d);
}

static void test_diag(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_drive *d = NULL;
	assert_int_equal(lf_make(NULL, 0, &d, &e), 0);
	cf_write_file(d, 0, 2);
	tp_lto_dev_info info;
	assert_int_equal(tp_lto_get_info(d, &info, &e), 0);
	assert_false(info.native_position); /* tgt: LOCATE(16) missing, READ POSITION a stub */
	assert_string_equal(info.inq.vendor, "IET");
	assert_string_equal(info.serial, "TAPIRDRV00");
	tp_drive_diag g2;
	assert_int_equal(tp_drive_diag_get(d, &g2, &e), 0);
	assert_true(g2.loaded);
	assert_true(g2.position_valid);
	assert_true(g2.position_tracked);
	assert_int_equal(g2.pos.object, 3);
	assert_int_equal(g2.pos.file, 1);
	assert_true(g2.pos.eod);
	assert_false(g2.has_tapealert);
	assert_false(g2.has_volume_stats);
	assert_int_equal(g2.write_protected, 0);
	assert_int_equal(g2.capacity, SMALL_CAPACITY);
	json_t *j = tp_drive_diag_to_json(&g2);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "vendor")), "IET");
	assert_string_equal(json_string_value(json_object_get(j, "serial")), "TAPIRDRV00");
	assert_int_equal(json_integer_value(json_object_get(j, "position")), 3);
	assert_true(json_is_true(json_object_get(j, "position-tracked")));
	assert_true(json_is_null(json_object_get(j, "tapealert")));
	assert_true(json_is_null(json_object_get(j, "volume-statistics")));
	json_decref(j);
	char *t = tp_drive_diag_text(&g2);
	assert_non_null(t);
	assert_non_null(strstr(t, "object 3, file 1, end of data (tracked by tapir)"));
	assert_non_null(strstr(t, "tapealert:      not reported"));
	assert_non_null(strstr(t, "write protect:  no"));
	free(t);
	/* the virtual backend is not an lto drive */
	assert_int_equal(tp_lto_tapealert(NULL, NULL, &e), -ENOTSUP);
	lf_destroy(NULL, d);
}

static void test_early_warning_sense(void **state)
{
	(void)state;
	/* tgt reports EOM (NO SENSE + EOM bit) past --size, and the data is written: LEOM, not an error */
	tp_err e = { 0 };
	tp_drive *d = NULL;
	assert_int_equal(lf_make(NULL, 1, &d, &e), 0);
	uint8_t *b = cf_block(9, 0);
	int r = 0;
	unsigned n = 0;
	while (n < 64 && (r = tp_drive_write_block(d, b, BS, &e)) == TP_TAPE_WRITE_OK)
		n++;
	free(b);
	assert_int_equal(r, TP_TAPE_WRITE_LEOM);
	/* tgt's threshold is the 4 MB image size (plus the image header) */
	assert_true(n >= 14 && n <= 17);
	assert_true(d->leom);
	cf_expect_pos(d, n + 1, 0);
	lf_destroy(NULL, d);
}

static int group_setup(void **state)
{
	(void)state;
	return 0;
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_drive_lto_tgt: tgtd needs root; run the tests as root\n");
		return 1;
	}
	snprintf(g.dir, sizeof(g.dir), "/tmp/tapir-ltotgt.XXXXXX");
	snprintf(g.home, sizeof(g.home), "/tmp/tapir-ltohome.XXXXXX");
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
	env_value(out, "TGT_DRIVE_URL", g.drive_url, sizeof(g.drive_url));
	tp_err e = { 0 };
	int fails = 1;
	if (!g.changer_url[0] || !g.drive_url[0]) {
		fprintf(stderr, "unexpected tgt-lib output:\n%s\n", out);
	} else if (tp_scsi_open(g.changer_url, &g.chg, &e) < 0) {
		fprintf(stderr, "open changer: %s\n", e.msg);
	} else {
		tp_drive_factory f = { "drive conformance: lto on tgt", NULL, lf_make, lf_destroy };
		fails = tp_drive_conformance_run(&f);
		const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_open_checks),
			cmocka_unit_test(test_tracked_relearn),
			cmocka_unit_test(test_unsupported_features),
			cmocka_unit_test(test_diag),
			cmocka_unit_test(test_early_warning_sense),
		};
		fails += cmocka_run_group_tests_name("lto on tgt", tests, group_setup, NULL);
	}
	tp_scsi_close(g.chg);
	if (lib_cmd("stop", out, sizeof(out)) < 0) {
		fprintf(stderr, "stopping tgt failed:\n%s\n", out);
		fails++;
	}
	tp_rm_rf(g.home, NULL);
	return fails;
}
