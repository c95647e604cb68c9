/* Unit test: pool config file, write sessions and the allocation order of pbs-formats §7 on fake clocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "tape/media_pool.h"

typedef struct fixture {
	char dir[64];
	tp_inventory inv;   /* a second handle to prepare and inspect the inventory */
} fixture;

static const int64_t T0 = 1704067200;  /* 2024-01-01T00:00:00Z, a Monday */
static const int64_t DAY = 86400;

static void ok(int r, tp_err *e)
{
	if (r < 0)
		fail_msg("%d: %s", r, e->msg);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-pool.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	setenv("TAPIR_HOME", f->dir, 1);
	setenv("TZ", "UTC", 1);
	tp_err e = { 0 };
	ok(tp_inventory_open(&f->inv, f->dir, "test-helper", &e), &e);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tp_inventory_close(&f->inv);
	tp_rm_rf(f->dir, NULL);
	unsetenv("TAPIR_HOME");
	free(f);
	return 0;
}

/* A labelled tape: id in uuid[0]; pool NULL = unassigned; set 0 = no set. */
static void tape(fixture *f, uint8_t id, const char *text, int64_t ctime, const char *pool, uint8_t set,
		 uint64_t seq, int64_t set_ctime, const char *location)
{
	tp_err e = { 0 };
	tp_media_label l;
	memset(&l, 0, sizeof(l));
	l.uuid[0] = id;
	l.uuid[15] = 0x77;
	snprintf(l.label_text, sizeof(l.label_text), "%s", text);
	l.ctime = ctime;
	if (pool)
		snprintf(l.pool, sizeof(l.pool), "%s", pool);
	tp_media_set_label s;
	memset(&s, 0, sizeof(s));
	s.uuid[0] = set;
	s.uuid[1] = 0x5e;
	snprintf(s.pool, sizeof(s.pool), "%s", pool ? pool : "");
	s.seq_nr = seq;
	s.ctime = set_ctime;
	ok(tp_inventory_store(&f->inv, &l, set ? &s : NULL, 0, &e), &e);
	if (location) {
		tp_media_location loc;
		ok(tp_media_location_parse(location, &loc, &e), &e);
		ok(tp_inventory_set_location(&f->inv, l.uuid, &loc, &e), &e);
	}
}

static const uint8_t *tape_uuid(uint8_t id)
{
	static uint8_t u[16];
	memset(u, 0, 16);
	u[0] = id;
	u[15] = 0x77;
	return u;
}

static void set_status(fixture *f, uint8_t id, enum tp_media_status st)
{
	tp_err e = { 0 };
	ok(tp_inventory_set_status(&f->inv, tape_uuid(id), st, &e), &e);
}

static tp_pool_config pool_cfg(const char *alloc, const char *ret)
{
	tp_pool_config c;
	tp_err e = { 0 };
	ok(tp_pool_config_init(&c, "p1", &e), &e);
	ok(tp_pool_set_allocation(&c, alloc, &e), &e);
	ok(tp_pool_set_retention(&c, ret, &e), &e);
	return c;
}

static void open_pool(fixture *f, tp_media_pool *p, const tp_pool_config *c, const char *changer)
{
	tp_err e = { 0 };
	ok(tp_media_pool_open(p, c, f->dir, changer, "UPID:test-writer", &e), &e);
	p->inv.lock_timeout_ms = 1000;
}

/* Allocates and returns the chosen label text (static buffer). */
static const char *alloc(tp_media_pool *p, int64_t now)
{
	static char text[TP_LABEL_TEXT_MAX + 1];
	tp_inventory_entry out;
	tp_err e = { 0 };
	ok(tp_media_pool_alloc_writable_media(p, now, NULL, &out, &e), &e);
	snprintf(text, sizeof(text), "%s", out.label.label_text);
	return text;
}

static void test_pool_config_file(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_pool_config c, g;
	ok(tp_pool_config_init(&c, "weekly", &e), &e);
	ok(tp_pool_set_allocation(&c, "sat 18:00", &e), &e);
	ok(tp_pool_set_retention(&c, "30 days", &e), &e);
	assert_int_equal(c.allocation, TP_POOL_ALLOC_CALENDAR);
	assert_int_equal(c.retention_secs, 30 * DAY);
	ok(tp_pool_set_template(&c, "weekly-%Y-%m-%d-%id%", &e), &e);
	ok(tp_pool_set_encrypt(&c, "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef", &e), &e);
	ok(tp_pool_set_comment(&c, "offsite rotation", &e), &e);
	ok(tp_pool_config_create(&c, &e), &e);
	assert_int_equal(tp_pool_config_create(&c, &e), -TP_EEXISTS);
	assert_non_null(strstr(e.msg, "'weekly' already exists"));

	ok(tp_pool_config_get("weekly", &g, &e), &e);
	assert_int_equal(g.allocation, TP_POOL_ALLOC_CALENDAR);
	assert_string_equal(g.allocation_text, "sat 18:00");
	assert_int_equal(g.retention, TP_POOL_RETAIN_SPAN);
	assert_int_equal(g.retention_secs, 30 * DAY);
	assert_true(g.has_encrypt);
	assert_int_equal(g.encrypt[1], 0x23);
	assert_string_equal(g.comment, "offsite rotation");
	char name[128];
	uint8_t su[16] = { 0xde, 0xad };
	tp_pool_media_set_name(&g, su, T0, name, sizeof(name));
	assert_string_equal(name, "weekly-2024-01-01-dead0000-0000-0000-0000-000000000000");
	ok(tp_pool_set_template(&g, "", &e), &e);
	tp_pool_media_set_name(&g, su, T0, name, sizeof(name));
	assert_string_equal(name, "weekly 2024-01-01 00:00:00");

	tp_pool_config c2;
	ok(tp_pool_config_init(&c2, "daily", &e), &e);
	ok(tp_pool_config_create(&c2, &e), &e);
	tp_pool_config *list;
	size_t n;
	ok(tp_pool_config_list(&list, &n, &e), &e);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "daily");
	assert_int_equal(list[0].allocation, TP_POOL_ALLOC_CONTINUE);
	assert_int_equal(list[0].retention, TP_POOL_RETAIN_KEEP);
	free(list);

	ok(tp_pool_set_encrypt(&g, NULL, &e), &e);
	ok(tp_pool_config_update(&g, &e), &e);
	ok(tp_pool_config_get("weekly", &g, &e), &e);
	assert_false(g.has_encrypt);
	ok(tp_pool_config_remove("daily", &e), &e);
	assert_int_equal(tp_pool_config_remove("daily", &e), -TP_ENOTFOUND);
	assert_int_equal(tp_pool_config_get("daily", &g, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "media pool 'daily' does not exist"));
	tp_pool_config nope;
	ok(tp_pool_config_init(&nope, "nope", &e), &e);
	assert_int_equal(tp_pool_config_update(&nope, &e), -TP_ENOTFOUND);

	/* bad values name themselves */
	assert_int_equal(tp_pool_config_init(&c, "a/b", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "invalid media pool name 'a/b'"));
	assert_int_equal(tp_pool_config_init(&c, "x", &e), -EINVAL);
	ok(tp_pool_config_init(&c, "good", &e), &e);
	assert_int_equal(tp_pool_set_allocation(&c, "sometimes", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "allocation"));
	assert_non_null(strstr(e.msg, "sometimes"));
	assert_int_equal(tp_pool_set_retention(&c, "forever", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "retention"));
	assert_int_equal(tp_pool_set_encrypt(&c, "01:23", &e), -EINVAL);
	assert_non_null(strstr(e.msg, "fingerprint"));
	assert_int_equal(tp_pool_set_template(&c, "a/b", &e), -EINVAL);
	assert_int_equal(tp_pool_set_comment(&c, "line\nbreak", &e), -EINVAL);
	/* a damaged config file is reported, not ignored */
	char *cfgp = tp_strdup_printf("%s/etc/media-pool.json", f->dir);
	ok(tp_write_atomic(cfgp, "{\"weekly\": {\"retention\": 5}}", 28, 0640, &e), &e);
	assert_int_equal(tp_pool_config_get("weekly", &g, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "retention"));
	ok(tp_write_atomic(cfgp, "{\"weekly\": {\"retention\": \"5 parsecs\"}}", 38, 0640, &e), &e);
	assert_true(tp_pool_config_get("weekly", &g, &e) < 0);
	assert_non_null(strstr(e.msg, "parsecs"));
	free(cfgp);
}

static void test_empty_pool_errors(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_pool_config c = pool_cfg("continue", "keep");
	tp_media_pool p;
	open_pool(f, &p, &c, NULL);
	tp_inventory_entry out;
	assert_int_equal(tp_media_pool_alloc_writable_media(&p, T0, NULL, &out, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no write session"));
	char why[256];
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0, why, sizeof(why), &e), 1);
	assert_string_equal(why, "no current media set");
	assert_int_equal(tp_media_pool_alloc_writable_media(&p, T0, NULL, &out, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "label a new tape"));
	assert_non_null(strstr(e.msg, "--pool p1"));

	/* tapes exist but sit elsewhere: the error names what to load */
	tape(f, 1, "IN-CHANGER", T0, "p1", 0, 0, 0, "online-ch1");
	tape(f, 2, "IN-VAULT", T0, "p1", 0, 0, 0, "vault-safe");
	assert_int_equal(tp_media_pool_alloc_writable_media(&p, T0, NULL, &out, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "'IN-CHANGER'"));
	assert_null(strstr(e.msg, "IN-VAULT"));
	assert_non_null(strstr(e.msg, "into the drive"));

	/* a second writer of the same pool is refused, naming the first */
	tp_inventory tmp;
	ok(tp_inventory_open(&tmp, f->dir, "second", &e), &e);
	tp_lock l = TP_LOCK_INIT;
	assert_int_equal(tp_inventory_lock_pool(&tmp, "p1", 0, &l, &e), -TP_ELOCKED);
	assert_non_null(strstr(e.msg, "UPID:test-writer"));
	tp_inventory_close(&tmp);
	tp_media_pool_close(&p);

	/* with the changer: only its online tapes count */
	open_pool(f, &p, &c, "ch2");
	ok(tp_media_pool_start_write_session(&p, 0, T0, NULL, 0, &e), &e);
	assert_int_equal(tp_media_pool_alloc_writable_media(&p, T0, NULL, &out, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "changer 'ch2'"));
	assert_non_null(strstr(e.msg, "IN-CHANGER"));
	tp_media_pool_close(&p);
	open_pool(f, &p, &c, "ch1");
	ok(tp_media_pool_start_write_session(&p, 0, T0, NULL, 0, &e), &e);
	assert_string_equal(alloc(&p, T0), "IN-CHANGER");
	tp_media_pool_close(&p);
}

static void test_alloc_empty_then_continue(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	/* empty tapes of the pool: oldest label first, ties by label text */
	tape(f, 1, "Z-OLD", T0 - 100, "p1", 0, 0, 0, NULL);
	tape(f, 2, "A-OLD", T0 - 100, "p1", 0, 0, 0, NULL);
	tape(f, 3, "NEW", T0 - 10, "p1", 0, 0, 0, NULL);
	tape(f, 4, "OTHER-POOL", T0 - 1000, "p2", 0, 0, 0, NULL);
	tape(f, 5, "FREE", T0 - 1000, NULL, 0, 0, 0, NULL);
	tp_pool_config c = pool_cfg("continue", "keep");
	tp_media_pool p;
	open_pool(f, &p, &c, NULL);
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0, NULL, 0, &e), 1);
	tp_inventory_entry out;
	ok(tp_media_pool_alloc_writable_media(&p, T0, NULL, &out, &e), &e);
	assert_string_equal(out.label.label_text, "A-OLD");
	assert_true(out.has_set);
	assert_int_equal(out.set.seq_nr, 0);
	assert_int_equal(out.set.ctime, T0);
	assert_memory_equal(out.set.uuid, p.current_set, 16);
	assert_string_equal(out.set.pool, "p1");
	/* the last tape stays the choice while writable */
	assert_string_equal(alloc(&p, T0 + 1), "A-OLD");
	set_status(f, 2, TP_MEDIA_FULL);
	assert_string_equal(alloc(&p, T0 + 2), "Z-OLD");
	ok(tp_inventory_reload(&f->inv, &e), &e);
	assert_int_equal(tp_inventory_find_label(&f->inv, "Z-OLD")->set.seq_nr, 1);
	uint8_t set1[16];
	memcpy(set1, p.current_set, 16);
	tp_media_pool_close(&p);

	/* a later session continues the same set on its writable last tape */
	open_pool(f, &p, &c, NULL);
	assert_memory_equal(p.current_set, set1, 16);
	char why[256] = "";
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + DAY, why, sizeof(why), &e), 0);
	assert_string_equal(alloc(&p, T0 + DAY), "Z-OLD");
	/* a full last tape is no reason for a new set: the set grows */
	set_status(f, 1, TP_MEDIA_FULL);
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + DAY, why, sizeof(why), &e), 0);
	assert_string_equal(alloc(&p, T0 + DAY), "NEW");
	/* then the unassigned tape, never another pool's */
	set_status(f, 3, TP_MEDIA_FULL);
	tp_inventory_entry fr;
	ok(tp_media_pool_alloc_writable_media(&p, T0 + DAY, NULL, &fr, &e), &e);
	assert_string_equal(fr.label.label_text, "FREE");
	assert_int_equal(fr.set.seq_nr, 3);
	assert_string_equal(tp_inventory_entry_pool(&fr), "p1");
	set_status(f, 5, TP_MEDIA_FULL);
	assert_int_equal(tp_media_pool_alloc_writable_media(&p, T0 + DAY, NULL, &out, &e), -TP_ENOTFOUND);

	/* forced: a new set, whose first tape starts at seq 0 */
	tape(f, 6, "FRESH", T0, "p1", 0, 0, 0, NULL);
	assert_int_equal(tp_media_pool_start_write_session(&p, 1, T0 + 2 * DAY, why, sizeof(why), &e), 1);
	assert_string_equal(why, "forced");
	assert_memory_not_equal(p.current_set, set1, 16);
	ok(tp_media_pool_alloc_writable_media(&p, T0 + 2 * DAY, NULL, &out, &e), &e);
	assert_string_equal(out.label.label_text, "FRESH");
	assert_int_equal(out.set.seq_nr, 0);
	assert_int_equal(out.set.ctime, T0 + 2 * DAY);

	/* another new set in the same second: dated a second later, so the pool's latest set stays defined */
	uint8_t set2[16], latest[16];
	memcpy(set2, p.current_set, 16);
	tape(f, 7, "FRESH2", T0, "p1", 0, 0, 0, NULL);
	assert_int_equal(tp_media_pool_start_write_session(&p, 1, T0 + 2 * DAY, why, sizeof(why), &e), 1);
	ok(tp_media_pool_alloc_writable_media(&p, T0 + 2 * DAY, NULL, &out, &e), &e);
	assert_string_equal(out.label.label_text, "FRESH2");
	assert_int_equal(out.set.ctime, T0 + 2 * DAY + 1);
	assert_int_equal(p.current_start, T0 + 2 * DAY + 1);
	ok(tp_inventory_reload(&f->inv, &e), &e);
	assert_int_equal(tp_inventory_latest_set(&f->inv, "p1", latest), 1);
	assert_memory_equal(latest, p.current_set, 16);
	assert_memory_not_equal(latest, set2, 16);
	tp_media_pool_close(&p);
}

static void test_sessions_policies(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	char why[256];
	/* current set S (start T0) with one writable tape */
	tape(f, 1, "S0", T0 - 10, "p1", 0x51, 0, T0, NULL);
	tp_pool_config c = pool_cfg("continue", "keep");
	tp_media_pool p;
	open_pool(f, &p, &c, NULL);
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + 100 * DAY, why, sizeof(why), &e), 0);
	assert_string_equal(alloc(&p, T0 + 100 * DAY), "S0");
	tp_media_pool_close(&p);

	/* always: a new set each session */
	c = pool_cfg("always", "keep");
	open_pool(f, &p, &c, NULL);
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + 1, why, sizeof(why), &e), 1);
	assert_non_null(strstr(why, "always"));
	tp_media_pool_close(&p);

	/* calendar: daily at 02:00 -> not due before 2024-01-02 02:00, due after */
	c = pool_cfg("*-*-* 02:00", "keep");
	open_pool(f, &p, &c, NULL);
	assert_int_equal(p.current_start, T0);
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + 3600, why, sizeof(why), &e), 0);
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + 2 * 3600 - 1, why, sizeof(why), &e), 0);
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + 2 * 3600, why, sizeof(why), &e), 1);
	assert_non_null(strstr(why, "is due"));
	tp_media_pool_close(&p);

	/* unusable current set: damaged member, encryption changed, writable tape in a vault */
	c = pool_cfg("continue", "keep");
	set_status(f, 1, TP_MEDIA_DAMAGED);
	open_pool(f, &p, &c, NULL);
	assert_int_equal(tp_media_pool_current_set_usable(&p, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "'S0' is damaged"));
	assert_int_equal(tp_media_pool_start_write_session(&p, 0, T0 + 1, why, sizeof(why), &e), 1);
	tp_media_pool_close(&p);
	ok(tp_inventory_clear_status(&f->inv, tape_uuid(1), &e), &e);

	ok(tp_pool_set_encrypt(&c, "aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa:aa", &e), &e);
	open_pool(f, &p, &c, NULL);
	assert_int_equal(tp_media_pool_current_set_usable(&p, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "encryption key changed"));
	tp_media_pool_close(&p);

	c = pool_cfg("continue", "keep");
	tp_media_location v = { TP_LOC_VAULT, "safe" };
	ok(tp_inventory_set_location(&f->inv, tape_uuid(1), &v, &e), &e);
	open_pool(f, &p, &c, NULL);
	assert_int_equal(tp_media_pool_current_set_usable(&p, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "vault 'safe'"));
	tp_media_pool_close(&p);

	/* incomplete: seq 2 without seq 1 */
	v.kind = TP_LOC_OFFLINE;
	ok(tp_inventory_set_location(&f->inv, tape_uuid(1), &v, &e), &e);
	tape(f, 3, "S2", T0, "p1", 0x51, 2, T0 + 50, NULL);
	open_pool(f, &p, &c, NULL);
	assert_int_equal(tp_media_pool_current_set_usable(&p, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "incomplete"));
	tp_media_pool_close(&p);
}

static void test_alloc_expired(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	/* three old sets of p1, every tape full; retention overwrite, allocation always */
	tape(f, 0x10, "A0", T0, "p1", 0xa, 0, T0 + 1 * DAY, NULL);
	tape(f, 0x11, "A1", T0, "p1", 0xa, 1, T0 + 1 * DAY + 10, NULL);
	tape(f, 0x20, "B0", T0, "p1", 0xb, 0, T0 + 2 * DAY, NULL);
	tape(f, 0x30, "C0", T0, "p1", 0xc, 0, T0 + 3 * DAY, NULL);
	tape(f, 0x40, "X0", T0, "p2", 0xd, 0, T0, NULL);  /* another pool's: never taken */
	tp_pool_config c = pool_cfg("always", "overwrite");
	tp_media_pool p;
	open_pool(f, &p, &c, NULL);
	ok(tp_media_pool_start_write_session(&p, 0, T0 + 4 * DAY, NULL, 0, &e), &e);
	/* every old tape is Full now (not in the current set) and expired */
	assert_true(tp_media_pool_is_expired(&p, tp_inventory_find_label(&p.inv, "A1"), T0 + 4 * DAY));
	assert_false(tp_media_pool_is_expired(&p, tp_inventory_find_label(&p.inv, "A1"), T0 + DAY - 1));

	/* set A is locked (e.g. being restored): skipped, B is next oldest */
	tp_inventory other;
	ok(tp_inventory_open(&other, f->dir, "restore-task", &e), &e);
	tp_lock l = TP_LOCK_INIT;
	uint8_t seta[16] = { 0xa, 0x5e };
	ok(tp_inventory_lock_media_set(&other, seta, 0, &l, &e), &e);
	assert_string_equal(alloc(&p, T0 + 4 * DAY), "B0");
	tp_lock_release(&l);
	tp_inventory_close(&other);
	/* B0 joined the new set; when full, the oldest set's first tape follows */
	set_status(f, 0x20, TP_MEDIA_FULL);
	tp_inventory_entry out;
	ok(tp_media_pool_alloc_writable_media(&p, T0 + 4 * DAY, NULL, &out, &e), &e);
	assert_string_equal(out.label.label_text, "A0");
	assert_int_equal(out.set.seq_nr, 1);
	assert_false(out.has_status);   /* the stored Full was cleared on reuse */
	tp_media_pool_close(&p);

	/* keep: nothing expires */
	c = pool_cfg("always", "keep");
	open_pool(f, &p, &c, NULL);
	ok(tp_media_pool_start_write_session(&p, 0, T0 + 400 * DAY, NULL, 0, &e), &e);
	assert_int_equal(tp_media_pool_alloc_writable_media(&p, T0 + 400 * DAY, NULL, &out, &e), -TP_ENOTFOUND);
	tp_media_pool_close(&p);

	/* a span: C (start day 3, always) expires 10 days later */
	c = pool_cfg("always", "10d");
	open_pool(f, &p, &c, NULL);
	ok(tp_media_pool_start_write_session(&p, 0, T0 + 12 * DAY, NULL, 0, &e), &e);
	assert_int_equal(tp_media_pool_alloc_writable_media(&p, T0 + 12 * DAY, NULL, &out, &e), -TP_ENOTFOUND);
	assert_string_equal(alloc(&p, T0 + 13 * DAY), "C0");
	tp_media_pool_close(&p);
}

static void test_alloc_updates_catalog(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	char *dbp = tp_path_join(f->dir, "catalog.db");
	tp_catalog_db *db;
	ok(tp_catalog_open(&db, dbp, &e), &e);
	/* old set O with tape T holding a chunk; T is expired and reused */
	uint8_t old[16] = { 0x0f, 0x5e };
	tape(f, 1, "T", T0, "p1", 0x0f, 0, T0, NULL);
	ok(tp_catalog_add_media_set(db, old, "p1", T0, NULL, &e), &e);
	ok(tp_catalog_add_media(db, tape_uuid(1), "T", old, 0, T0, &e), &e);
	uint8_t d[32] = { 7 };
	ok(tp_catalog_add_chunk(db, tape_uuid(1), 2, "s1", d, 0, 10, &e), &e);
	tp_pool_config c = pool_cfg("always", "overwrite");
	tp_media_pool p;
	open_pool(f, &p, &c, NULL);
	ok(tp_media_pool_start_write_session(&p, 0, T0 + DAY, NULL, 0, &e), &e);
	tp_inventory_entry out;
	ok(tp_media_pool_alloc_writable_media(&p, T0 + DAY, db, &out, &e), &e);
	assert_string_equal(out.label.label_text, "T");
	assert_int_equal(tp_catalog_has_chunk_in_set(db, old, "s1", d, &e), 0);
	tp_catalog_media m;
	ok(tp_catalog_get_media(db, tape_uuid(1), &m, &e), &e);
	assert_true(m.has_set);
	assert_memory_equal(m.media_set, p.current_set, 16);
	tp_catalog_counts cnt;
	ok(tp_catalog_count(db, NULL, &cnt, &e), &e);
	assert_int_equal(cnt.media_sets, 1);   /* the old set had no other tape */
	assert_int_equal(cnt.chunks, 0);
	uint8_t guess[16];
	ok(tp_media_pool_guess_writable_media(&p, T0 + DAY, guess, &e), &e);
	assert_memory_equal(guess, tape_uuid(1), 16);
	tp_media_pool_close(&p);
	tp_catalog_close(db);
	free(dbp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_config_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_pool_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_empty_then_continue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sessions_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_updates_catalog, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
