/* Unit test: storing labels (inventory + catalog sync) and changer locations in the inventory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "tape/catalog_scan.h"
#include "tape/tape_inventory.h"

typedef struct fx {
	char dir[64];
	char db[96];
	tp_inventory inv;
	tp_catalog_db *cat;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapir-tinv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/catalog.db", f->dir);
	tp_err e = { 0 };
	assert_int_equal(tp_inventory_open(&f->inv, f->dir, "test", &e), 0);
	assert_int_equal(tp_catalog_open(&f->cat, f->db, &e), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	tp_catalog_close(f->cat);
	tp_inventory_close(&f->inv);
	tp_rm_rf(f->dir, NULL);
	free(f);
	return 0;
}

static tp_media_label label(const char *text, uint8_t id)
{
	tp_media_label l;
	memset(&l, 0, sizeof(l));
	memset(l.uuid, id, 16);
	snprintf(l.label_text, sizeof(l.label_text), "%s", text);
	l.ctime = 1700000000 + id;
	return l;
}

static tp_media_set_label set_label(uint8_t id, uint64_t seq)
{
	tp_media_set_label s;
	memset(&s, 0, sizeof(s));
	snprintf(s.pool, sizeof(s.pool), "p1");
	memset(s.uuid, id, 16);
	s.seq_nr = seq;
	s.ctime = 1700001000 + id;
	return s;
}

static void loc_text(fx *f, const char *label_text, char out[80])
{
	tp_err e = { 0 };
	assert_int_equal(tp_inventory_reload(&f->inv, &e), 0);
	const tp_inventory_entry *x = tp_inventory_find_label(&f->inv, label_text);
	assert_non_null(x);
	tp_media_location off = { TP_LOC_OFFLINE, "" };
	tp_media_location_text(x->has_location ? &x->location : &off, out);
}

static void test_store_labels_syncs_catalog(void **state)
{
	fx *f = *state;
	tp_err e = { 0 };
	tp_media_label l = label("TAPE01", 0x11);
	tp_media_set_label s1 = set_label(0x21, 0);
	tp_media_location on = { TP_LOC_ONLINE, "lib1" };
	assert_int_equal(tp_tape_inventory_store_labels(&f->inv, f->cat, &l, &s1, &on, &e), 0);
	char loc[80];
	loc_text(f, "TAPE01", loc);
	assert_string_equal(loc, "online-lib1");
	tp_catalog_media m;
	assert_int_equal(tp_catalog_get_media(f->cat, l.uuid, &m, &e), 0);
	assert_true(m.has_set);
	assert_memory_equal(m.media_set, s1.uuid, 16);
	char pool[65];
	int64_t ct;
	/* the set starts with its seq 0 label, taken from the inventory */
	assert_int_equal(tp_catalog_get_media_set(f->cat, s1.uuid, pool, &ct, &e), 0);
	assert_string_equal(pool, "p1");
	assert_int_equal(ct, s1.ctime);

	uint8_t dg[32];
	memset(dg, 0xaa, 32);
	assert_int_equal(tp_catalog_add_chunk(f->cat, l.uuid, 2, "store1", dg, 100, 200, &e), 0);
	tp_tape_file tf = { .file_nr = 2, .kind = TP_TAPE_FILE_CHUNK_ARCHIVE, .first_block = 4, .nblocks = 1,
			    .store = "store1", .complete = 1 };
	memcpy(tf.media, l.uuid, 16);
	assert_int_equal(tp_catalog_add_tape_file(f->cat, &tf, &e), 0);
	assert_int_equal(tp_catalog_media_has_rows(f->cat, l.uuid, &e), 1);

	/* the same labels again: rows kept, location kept when none is given */
	assert_int_equal(tp_tape_inventory_store_labels(&f->inv, f->cat, &l, &s1, NULL, &e), 0);
	assert_int_equal(tp_catalog_media_has_rows(f->cat, l.uuid, &e), 1);
	loc_text(f, "TAPE01", loc);
	assert_string_equal(loc, "online-lib1");

	/* the tape now carries another set: its old rows are unrelated and go */
	tp_media_set_label s2 = set_label(0x22, 0);
	assert_int_equal(tp_tape_inventory_store_labels(&f->inv, f->cat, &l, &s2, NULL, &e), 0);
	assert_int_equal(tp_catalog_media_has_rows(f->cat, l.uuid, &e), 0);
	assert_int_equal(tp_catalog_has_chunk_in_set(f->cat, s1.uuid, "store1", dg, &e), 0);
	assert_int_equal(tp_catalog_get_media(f->cat, l.uuid, &m, &e), 0);
	assert_memory_equal(m.media_set, s2.uuid, 16);
	assert_int_equal(tp_inventory_reload(&f->inv, &e), 0);
	assert_memory_equal(tp_inventory_find_label(&f->inv, "TAPE01")->set.uuid, s2.uuid, 16);

	/* and no set at all: the media row stays, without set */
	assert_int_equal(tp_tape_inventory_store_labels(&f->inv, f->cat, &l, NULL, NULL, &e), 0);
	assert_int_equal(tp_catalog_get_media(f->cat, l.uuid, &m, &e), 0);
	assert_false(m.has_set);
	assert_string_equal(m.label_text, "TAPE01");
}

static void test_update_locations(void **state)
{
	fx *f = *state;
	tp_err e = { 0 };
	const char *names[4] = { "AAA001", "BBB001", "CCC001", "DDD001" };
	tp_media_location locs[4] = { { TP_LOC_OFFLINE, "" }, { TP_LOC_ONLINE, "lib1" }, { TP_LOC_ONLINE, "lib1" },
				      { TP_LOC_ONLINE, "lib2" } };
	for (int i = 0; i < 4; i++) {
		tp_media_label l = label(names[i], (uint8_t)(0x31 + i));
		assert_int_equal(tp_tape_inventory_store_labels(&f->inv, NULL, &l, NULL, &locs[i], &e), 0);
	}
	/* lib1 holds AAA001 in drive 1 and BBB001 and an unknown cartridge in slots */
	tp_changer_element drives[2] = { { TP_CHANGER_DRIVE, 0, 0, "", 0 }, { TP_CHANGER_DRIVE, 1, 1, "AAA001", 3 } };
	tp_changer_element slots[3] = { { TP_CHANGER_SLOT, 1, 1, "BBB001", 0 }, { TP_CHANGER_SLOT, 2, 0, "", 0 },
					{ TP_CHANGER_SLOT, 3, 1, "NEW001", 0 } };
	tp_changer_status st = { drives, 2, slots, 3 };
	unsigned on = 9, off = 9;
	assert_int_equal(tp_tape_inventory_update_locations(&f->inv, "lib1", &st, &on, &off, &e), 0);
	assert_int_equal(on, 1);   /* AAA001 came online */
	assert_int_equal(off, 1);  /* CCC001 left lib1 */
	char loc[80];
	loc_text(f, "AAA001", loc);
	assert_string_equal(loc, "online-lib1");
	loc_text(f, "BBB001", loc);
	assert_string_equal(loc, "online-lib1");
	loc_text(f, "CCC001", loc);
	assert_string_equal(loc, "offline");
	loc_text(f, "DDD001", loc);
	assert_string_equal(loc, "online-lib2");
	assert_null(tp_inventory_find_label(&f->inv, "NEW001"));
	/* nothing left to change */
	assert_int_equal(tp_tape_inventory_update_locations(&f->inv, "lib1", &st, &on, &off, &e), 0);
	assert_int_equal(on + off, 0);
}

static void test_labels_json(void **state)
{
	(void)state;
	tp_media_label l = label("TAPE07", 0x41);
	snprintf(l.pool, sizeof(l.pool), "p1");
	tp_media_set_label s = set_label(0x51, 3);
	s.key_config = json_pack("{s:s}", "kdf", "secret");
	json_t *j = tp_tape_labels_to_json(&l, &s);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "label"), "label_text")), "TAPE07");
	json_t *ms = json_object_get(j, "media-set-label");
	assert_int_equal(json_integer_value(json_object_get(ms, "seq_nr")), 3);
	assert_null(json_object_get(ms, "key-config"));
	json_decref(j);
	tp_media_set_label_clear(&s);
	j = tp_tape_labels_to_json(&l, NULL);
	assert_true(json_is_null(json_object_get(j, "media-set-label")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_store_labels_syncs_catalog, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_locations, setup, teardown),
		cmocka_unit_test(test_labels_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
