/* Unit test: inventory persistence (PBS JSON), store semantics, locks, media sets, expiry, status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "tape/inventory.h"

typedef struct fixture {
	char dir[64];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-inv.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	setenv("TZ", "UTC", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	tp_rm_rf(f->dir, NULL);
	free(f);
	return 0;
}

static void ok(int r, tp_err *e)
{
	if (r < 0)
		fail_msg("%d: %s", r, e->msg);
}

static tp_media_label mk_label(uint8_t id, const char *text, int64_t ctime, const char *pool)
{
	tp_media_label l;
	memset(&l, 0, sizeof(l));
	l.uuid[0] = id;
	l.uuid[15] = 0x42;
	snprintf(l.label_text, sizeof(l.label_text), "%s", text);
	l.ctime = ctime;
	if (pool)
		snprintf(l.pool, sizeof(l.pool), "%s", pool);
	return l;
}

static tp_media_set_label mk_set(uint8_t id, const char *pool, uint64_t seq, int64_t ctime)
{
	tp_media_set_label s;
	memset(&s, 0, sizeof(s));
	if (id)
		s.uuid[0] = id, s.uuid[1] = 0x5e;
	snprintf(s.pool, sizeof(s.pool), "%s", pool);
	s.seq_nr = seq;
	s.ctime = ctime;
	return s;
}

static const uint8_t *uuid_of(uint8_t id)
{
	static uint8_t u[16];
	memset(u, 0, 16);
	u[0] = id;
	u[15] = 0x42;
	return u;
}

static void test_persistence_and_format(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_inventory inv;
	ok(tp_inventory_open(&inv, f->dir, NULL, &e), &e);
	assert_int_equal(inv.n, 0);
	tp_media_label l3 = mk_label(3, "TAPE3", 300, "p1"), l1 = mk_label(1, "TAPE1", 100, NULL);
	tp_media_set_label s3 = mk_set(9, "p1", 0, 1000);
	s3.has_fingerprint = 1;
	memset(s3.fingerprint, 0xab, 32);
	ok(tp_inventory_store(&inv, &l3, &s3, 0, &e), &e);
	ok(tp_inventory_store(&inv, &l1, NULL, 0, &e), &e);
	tp_media_location loc;
	ok(tp_media_location_parse("online-changer1", &loc, &e), &e);
	ok(tp_inventory_set_location(&inv, uuid_of(3), &loc, &e), &e);
	ok(tp_inventory_set_status(&inv, uuid_of(3), TP_MEDIA_FULL, &e), &e);
	ok(tp_inventory_set_bytes_used(&inv, uuid_of(3), 123456, &e), &e);
	tp_inventory_close(&inv);

	/* the file is PBS's format: an array sorted by uuid, mode 0640 */
	char *path = tp_path_join(f->dir, "inventory.json");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	json_t *j = tp_json_load_file(path, 1 << 20, &e);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 2);
	json_t *a = json_array_get(j, 0), *b = json_array_get(j, 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(a, "id"), "label"), "label_text")), "TAPE1");
	assert_null(json_object_get(a, "status"));
	assert_null(json_object_get(json_object_get(a, "id"), "media_set_label"));
	assert_string_equal(json_string_value(json_object_get(b, "location")), "online-changer1");
	assert_string_equal(json_string_value(json_object_get(b, "status")), "full");
	assert_int_equal(json_integer_value(json_object_get(b, "bytes_used")), 123456);
	json_t *set = json_object_get(json_object_get(b, "id"), "media_set_label");
	assert_int_equal(json_integer_value(json_object_get(set, "seq_nr")), 0);
	assert_string_equal(json_string_value(json_object_get(set, "uuid")), "095e0000-0000-0000-0000-000000000000");
	assert_string_equal(json_string_value(json_object_get(set, "encryption_key_fingerprint")),
			    "ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab:ab");
	json_decref(j);

	ok(tp_inventory_open(&inv, f->dir, NULL, &e), &e);
	assert_int_equal(inv.n, 2);
	const tp_inventory_entry *x = tp_inventory_find_label(&inv, "TAPE3");
	assert_non_null(x);
	assert_ptr_equal(x, tp_inventory_find(&inv, uuid_of(3)));
	assert_true(x->has_set && x->set.has_fingerprint);
	assert_int_equal(x->location.kind, TP_LOC_ONLINE);
	assert_string_equal(x->location.name, "changer1");
	assert_int_equal(x->status, TP_MEDIA_FULL);
	assert_int_equal(x->bytes_used, 123456);
	assert_string_equal(tp_inventory_entry_pool(x), "p1");
	assert_null(tp_inventory_entry_pool(tp_inventory_find_label(&inv, "TAPE1")));
	assert_null(tp_inventory_find_label(&inv, "NOPE"));

	ok(tp_inventory_remove(&inv, uuid_of(1), &e), &e);
	assert_int_equal(inv.n, 1);
	assert_int_equal(tp_inventory_remove(&inv, uuid_of(1), &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "not in the inventory"));
	tp_inventory_close(&inv);

	/* an inventory as PBS writes it (keys in any order, pool omitted) */
	static const char pbs[] =
		"[\n  {\n    \"id\": {\n      \"label\": {\n        \"ctime\": 1700000000,\n"
		"        \"label_text\": \"PBS001L8\",\n        \"uuid\": \"7f3a1c2e-0b4d-4e5f-8a9b-0c1d2e3f4a5b\"\n      },\n"
		"      \"media_set_label\": {\n        \"ctime\": 1700000100,\n        \"pool\": \"weekly\",\n"
		"        \"seq_nr\": 0,\n        \"uuid\": \"11111111-2222-3333-4444-555555555555\"\n      }\n    },\n"
		"    \"location\": \"vault-offsite\",\n    \"status\": \"full\"\n  }\n]";
	ok(tp_write_atomic(path, pbs, sizeof(pbs) - 1, 0640, &e), &e);
	ok(tp_inventory_open(&inv, f->dir, NULL, &e), &e);
	assert_int_equal(inv.n, 1);
	x = tp_inventory_find_label(&inv, "PBS001L8");
	assert_non_null(x);
	assert_int_equal(x->location.kind, TP_LOC_VAULT);
	assert_string_equal(x->location.name, "offsite");
	assert_string_equal(tp_inventory_entry_pool(x), "weekly");
	assert_false(x->has_bytes_used);
	tp_inventory_close(&inv);

	/* corrupt entries are named */
	static const char bad[] = "[{\"id\": {\"label\": {\"label_text\": \"X\", \"ctime\": 1}}}]";
	ok(tp_write_atomic(path, bad, sizeof(bad) - 1, 0640, &e), &e);
	assert_int_equal(tp_inventory_open(&inv, f->dir, NULL, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "entry 0"));
	assert_non_null(strstr(e.msg, "uuid"));
	static const char bad2[] =
		"[{\"id\": {\"label\": {\"label_text\": \"X\", \"ctime\": 1, \"uuid\": \"7f3a1c2e-0b4d-4e5f-8a9b-0c1d2e3f4a5b\"}},"
		" \"status\": \"shiny\"}]";
	ok(tp_write_atomic(path, bad2, sizeof(bad2) - 1, 0640, &e), &e);
	assert_int_equal(tp_inventory_open(&inv, f->dir, NULL, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "status"));
	ok(tp_write_atomic(path, "{}", 2, 0640, &e), &e);
	assert_int_equal(tp_inventory_open(&inv, f->dir, NULL, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "not a JSON array"));
	free(path);
}

static void test_store_semantics(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_inventory inv;
	ok(tp_inventory_open(&inv, f->dir, NULL, &e), &e);
	tp_media_label l = mk_label(5, "T5", 10, "p1");
	tp_media_set_label zero = mk_set(0, "p1", 0, 10);
	ok(tp_inventory_store(&inv, &l, &zero, 0, &e), &e);
	tp_media_location loc = { TP_LOC_VAULT, "v1" };
	ok(tp_inventory_set_location(&inv, l.uuid, &loc, &e), &e);
	ok(tp_inventory_set_status(&inv, l.uuid, TP_MEDIA_DAMAGED, &e), &e);
	ok(tp_inventory_set_bytes_used(&inv, l.uuid, 77, &e), &e);
	/* re-store without set label: zero set label, location, status, bytes kept */
	ok(tp_inventory_store(&inv, &l, NULL, 0, &e), &e);
	const tp_inventory_entry *x = tp_inventory_find(&inv, l.uuid);
	assert_true(x->has_set);
	assert_true(tp_uuid_is_zero(x->set.uuid));
	assert_false(tp_inventory_entry_in_set(x));
	assert_int_equal(x->location.kind, TP_LOC_VAULT);
	assert_int_equal(x->status, TP_MEDIA_DAMAGED);
	assert_int_equal(x->bytes_used, 77);
	/* assigning to a set with clear_status clears only the status */
	tp_media_set_label s = mk_set(7, "p1", 0, 20);
	ok(tp_inventory_store(&inv, &l, &s, 1, &e), &e);
	x = tp_inventory_find(&inv, l.uuid);
	assert_true(tp_inventory_entry_in_set(x));
	assert_false(x->has_status);
	assert_int_equal(x->location.kind, TP_LOC_VAULT);
	ok(tp_inventory_clear_status(&inv, l.uuid, &e), &e);

	/* a concurrent writer's change is not lost: mutations reload first */
	tp_inventory other;
	ok(tp_inventory_open(&other, f->dir, NULL, &e), &e);
	tp_media_label l6 = mk_label(6, "T6", 30, NULL);
	ok(tp_inventory_store(&other, &l6, NULL, 0, &e), &e);
	ok(tp_inventory_set_status(&inv, l.uuid, TP_MEDIA_RETIRED, &e), &e);
	assert_int_equal(inv.n, 2);
	ok(tp_inventory_reload(&other, &e), &e);
	assert_int_equal(tp_inventory_find(&other, l.uuid)->status, TP_MEDIA_RETIRED);
	tp_inventory_close(&other);

	assert_int_equal(tp_media_location_parse("online-", &loc, &e), -EINVAL);
	assert_int_equal(tp_media_location_parse("somewhere", &loc, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "somewhere"));
	enum tp_media_status stv;
	assert_int_equal(tp_media_status_parse("retired", &stv), 0);
	assert_int_equal(stv, TP_MEDIA_RETIRED);
	assert_int_equal(tp_media_status_parse("bogus", &stv), -EINVAL);
	tp_inventory_close(&inv);
}

static void test_locks_name_holder(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_inventory a, b;
	ok(tp_inventory_open(&a, f->dir, "UPID:node:0001:holder-task", &e), &e);
	ok(tp_inventory_open(&b, f->dir, "UPID:node:0002:waiter", &e), &e);
	b.lock_timeout_ms = 200;

	tp_lock l = TP_LOCK_INIT, l2 = TP_LOCK_INIT;
	ok(tp_inventory_lock(&a, 0, &l, &e), &e);
	tp_media_label lab = mk_label(1, "T1", 1, NULL);
	assert_int_equal(tp_inventory_store(&b, &lab, NULL, 0, &e), -TP_ELOCKED);
	assert_non_null(strstr(e.msg, "tape inventory"));
	assert_non_null(strstr(e.msg, "UPID:node:0001:holder-task"));
	tp_lock_release(&l);
	ok(tp_inventory_store(&b, &lab, NULL, 0, &e), &e);

	ok(tp_inventory_lock_pool(&a, "pool1", 0, &l, &e), &e);
	assert_int_equal(tp_inventory_lock_pool(&b, "pool1", 100, &l2, &e), -TP_ELOCKED);
	assert_non_null(strstr(e.msg, "media pool 'pool1'"));
	assert_non_null(strstr(e.msg, "holder-task"));
	ok(tp_inventory_lock_pool(&b, "pool2", 0, &l2, &e), &e);   /* other pools are independent */
	tp_lock_release(&l2);
	tp_lock_release(&l);
	assert_int_equal(tp_inventory_lock_pool(&b, "../x", 0, &l2, &e), -EINVAL);

	uint8_t set[16] = { 0x12, 0x34 };
	ok(tp_inventory_lock_media_set(&a, set, 0, &l, &e), &e);
	assert_int_equal(tp_inventory_lock_media_set(&b, set, 0, &l2, &e), -TP_ELOCKED);
	assert_non_null(strstr(e.msg, "media set 12340000-0000-0000-0000-000000000000"));
	assert_non_null(strstr(e.msg, "holder-task"));
	tp_lock_release(&l);
	ok(tp_inventory_lock_pool(&a, NULL, 0, &l, &e), &e);
	assert_int_equal(tp_inventory_lock_pool(&b, NULL, 0, &l2, &e), -TP_ELOCKED);
	assert_non_null(strstr(e.msg, "unassigned media"));
	tp_lock_release(&l);
	char *p = tp_path_join(f->dir, ".pool-__UNASSIGNED__.lck");
	assert_true(tp_path_exists(p));
	free(p);
	tp_inventory_close(&a);
	tp_inventory_close(&b);
}

static void store(tp_inventory *inv, uint8_t id, const char *text, int64_t lctime, uint8_t set, const char *pool,
		  uint64_t seq, int64_t sctime)
{
	tp_err e = { 0 };
	tp_media_label l = mk_label(id, text, lctime, NULL);
	tp_media_set_label s = mk_set(set, pool, seq, sctime);
	ok(tp_inventory_store(inv, &l, set ? &s : NULL, 0, &e), &e);
}

static const uint8_t *set_uuid(uint8_t id)
{
	static uint8_t u[16];
	memset(u, 0, 16);
	u[0] = id;
	u[1] = 0x5e;
	return u;
}

static void test_media_sets(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_inventory inv;
	ok(tp_inventory_open(&inv, f->dir, NULL, &e), &e);
	/* set A: seq 0, 1, 2 (stored out of order); set B: seq 0, 2 (1 missing) */
	store(&inv, 0x30, "A2", 1, 0xa, "p1", 2, 1300);
	store(&inv, 0x10, "A0", 1, 0xa, "p1", 0, 1000);
	store(&inv, 0x20, "A1", 1, 0xa, "p1", 1, 1200);
	store(&inv, 0x40, "B0", 1, 0xb, "p1", 0, 2000);
	store(&inv, 0x50, "B2", 1, 0xb, "p1", 2, 2100);
	store(&inv, 0x60, "C0", 1, 0xc, "p2", 0, 5000);

	tp_media_set ms;
	ok(tp_inventory_media_set(&inv, set_uuid(0xa), &ms, &e), &e);
	assert_int_equal(ms.n, 3);
	assert_true(ms.complete);
	assert_int_equal(ms.members[0][0], 0x10);
	assert_int_equal(ms.members[1][0], 0x20);
	assert_int_equal(ms.members[2][0], 0x30);
	assert_int_equal(ms.start_time, 1000);
	assert_string_equal(ms.pool, "p1");
	tp_media_set_free(&ms);
	ok(tp_inventory_media_set(&inv, set_uuid(0xb), &ms, &e), &e);
	assert_int_equal(ms.n, 3);
	assert_false(ms.complete);
	assert_false(ms.present[1]);
	tp_media_set_free(&ms);
	assert_int_equal(tp_inventory_media_set(&inv, set_uuid(0xd), &ms, &e), -TP_ENOTFOUND);

	int64_t t;
	ok(tp_inventory_set_start_time(&inv, set_uuid(0xb), &t), &e);
	assert_int_equal(t, 2000);
	assert_int_equal(tp_inventory_set_next_start_time(&inv, set_uuid(0xa), &t), 1);
	assert_int_equal(t, 2000);
	assert_int_equal(tp_inventory_set_next_start_time(&inv, set_uuid(0xb), &t), 0);

	uint8_t latest[16];
	assert_int_equal(tp_inventory_latest_set(&inv, "p1", latest), 1);
	assert_memory_equal(latest, set_uuid(0xb), 16);
	assert_int_equal(tp_inventory_latest_set(&inv, "p3", latest), 0);
	uint8_t(*sets)[16];
	size_t n;
	ok(tp_inventory_list_sets(&inv, "p1", &sets, &n, &e), &e);
	assert_int_equal(n, 2);
	assert_memory_equal(sets[0], set_uuid(0xa), 16);
	free(sets);
	ok(tp_inventory_list_sets(&inv, NULL, &sets, &n, &e), &e);
	assert_int_equal(n, 3);
	free(sets);

	/* computed status: current = latest (B); last of B writable */
	assert_int_equal(tp_inventory_media_status(&inv, tp_inventory_find_label(&inv, "B2"), NULL), TP_MEDIA_WRITABLE);
	assert_int_equal(tp_inventory_media_status(&inv, tp_inventory_find_label(&inv, "B0"), NULL), TP_MEDIA_FULL);
	assert_int_equal(tp_inventory_media_status(&inv, tp_inventory_find_label(&inv, "A2"), NULL), TP_MEDIA_FULL);
	assert_int_equal(tp_inventory_media_status(&inv, tp_inventory_find_label(&inv, "A2"), set_uuid(0xa)),
			 TP_MEDIA_WRITABLE);
	store(&inv, 0x70, "FREE", 1, 0, NULL, 0, 0);
	assert_int_equal(tp_inventory_media_status(&inv, tp_inventory_find_label(&inv, "FREE"), NULL), TP_MEDIA_WRITABLE);
	ok(tp_inventory_set_status(&inv, tp_inventory_find_label(&inv, "B2")->label.uuid, TP_MEDIA_DAMAGED, &e), &e);
	assert_int_equal(tp_inventory_media_status(&inv, tp_inventory_find_label(&inv, "B2"), NULL), TP_MEDIA_DAMAGED);

	/* a set with a label as new as the latest one: ambiguous */
	store(&inv, 0x80, "D0", 1, 0xd, "p1", 0, 2100);
	assert_int_equal(tp_inventory_latest_set(&inv, "p1", latest), 0);

	/* two tapes claiming one seq */
	store(&inv, 0x90, "A1bis", 1, 0xa, "p1", 1, 1250);
	assert_int_equal(tp_inventory_media_set(&inv, set_uuid(0xa), &ms, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "sequence number 1"));
	tp_inventory_close(&inv);
}

static void test_expiry(void **state)
{
	fixture *f = *state;
	tp_err e = { 0 };
	tp_inventory inv;
	ok(tp_inventory_open(&inv, f->dir, NULL, &e), &e);
	const int64_t day = 86400;
	const int64_t t0 = 1704067200;   /* 2024-01-01T00:00:00Z (Monday) */
	store(&inv, 0x10, "A0", 1, 0xa, "p1", 0, t0 + 3600);
	store(&inv, 0x11, "A1", 1, 0xa, "p1", 1, t0 + 2 * day);
	store(&inv, 0x20, "B0", 1, 0xb, "p1", 0, t0 + 10 * day);
	const tp_inventory_entry *a1 = tp_inventory_find_label(&inv, "A1");
	const tp_inventory_entry *b0 = tp_inventory_find_label(&inv, "B0");

	tp_pool_config cfg;
	ok(tp_pool_config_init(&cfg, "p1", &e), &e);
	/* keep: never */
	assert_true(tp_inventory_expire_time(&inv, a1, &cfg) == INT64_MAX);
	/* overwrite + continue: A ends when B started; B (latest) never */
	ok(tp_pool_set_retention(&cfg, "overwrite", &e), &e);
	assert_int_equal(tp_inventory_expire_time(&inv, a1, &cfg), t0 + 10 * day);
	assert_true(tp_inventory_expire_time(&inv, b0, &cfg) == INT64_MAX);
	/* span: + 7 days */
	ok(tp_pool_set_retention(&cfg, "1w", &e), &e);
	assert_int_equal(tp_inventory_expire_time(&inv, a1, &cfg), t0 + 17 * day);
	/* always: the own start, even with a newer set */
	ok(tp_pool_set_allocation(&cfg, "always", &e), &e);
	assert_int_equal(tp_inventory_expire_time(&inv, a1, &cfg), t0 + 3600 + 7 * day);
	assert_int_equal(tp_inventory_expire_time(&inv, b0, &cfg), t0 + 10 * day + 7 * day);
	/* calendar: newest set ends at the next event after its start */
	ok(tp_pool_set_allocation(&cfg, "monthly", &e), &e);
	ok(tp_pool_set_retention(&cfg, "overwrite", &e), &e);
	assert_int_equal(tp_inventory_expire_time(&inv, b0, &cfg), 1706745600);  /* 2024-02-01 */
	assert_int_equal(tp_inventory_expire_time(&inv, a1, &cfg), t0 + 10 * day);
	/* no set: never */
	store(&inv, 0x30, "FREE", 1, 0, NULL, 0, 0);
	assert_true(tp_inventory_expire_time(&inv, tp_inventory_find_label(&inv, "FREE"), &cfg) == INT64_MAX);
	tp_inventory_close(&inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_persistence_and_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks_name_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_media_sets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
