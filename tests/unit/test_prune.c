/* Unit test: prune selection follows PBS's keep-* rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/prune.h"

#define DAY 86400

static int setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	return 0;
}

static void test_no_options_keeps_all(void **state)
{
	(void)state;
	tp_prune_item it[3] = { { 1000, 1, 0, 0 }, { 2000, 1, 0, 0 }, { 3000, 1, 0, 0 } };
	tp_prune_opts o = { 0 };
	tp_prune_select(it, 3, &o);
	for (int i = 0; i < 3; i++)
		assert_int_equal(it[i].mark, TP_PRUNE_KEEP);
}

static void test_keep_last(void **state)
{
	(void)state;
	tp_prune_item it[5];
	for (int i = 0; i < 5; i++)
		it[i] = (tp_prune_item){ 1700000000 + i * 60, 1, 0, 0 };
	tp_prune_opts o = { .keep_last = 2 };
	tp_prune_select(it, 5, &o);
	assert_int_equal(it[4].mark, TP_PRUNE_KEEP);
	assert_int_equal(it[3].mark, TP_PRUNE_KEEP);
	assert_int_equal(it[2].mark, TP_PRUNE_REMOVE);
	assert_int_equal(it[0].mark, TP_PRUNE_REMOVE);
}

static void test_keep_daily_newest_per_day(void **state)
{
	(void)state;
	/* three days, two snapshots a day (06:00 and 18:00) */
	int64_t d0 = 1704067200; /* 2024-01-01 00:00 UTC */
	tp_prune_item it[6];
	for (int d = 0; d < 3; d++) {
		it[2 * d] = (tp_prune_item){ d0 + d * DAY + 6 * 3600, 1, 0, 0 };
		it[2 * d + 1] = (tp_prune_item){ d0 + d * DAY + 18 * 3600, 1, 0, 0 };
	}
	tp_prune_opts o = { .keep_daily = 2 };
	tp_prune_select(it, 6, &o);
	assert_int_equal(it[5].mark, TP_PRUNE_KEEP);   /* day 3, 18:00 */
	assert_int_equal(it[4].mark, TP_PRUNE_REMOVE); /* day 3, 06:00 */
	assert_int_equal(it[3].mark, TP_PRUNE_KEEP);   /* day 2, 18:00 */
	assert_int_equal(it[2].mark, TP_PRUNE_REMOVE);
	assert_int_equal(it[1].mark, TP_PRUNE_REMOVE); /* day 1: beyond keep-daily 2 */
	assert_int_equal(it[0].mark, TP_PRUNE_REMOVE);
}

static void test_last_plus_monthly_and_protected_partial(void **state)
{
	(void)state;
	int64_t jan = 1704067200, feb = jan + 31 * DAY, mar = feb + 29 * DAY;
	tp_prune_item it[6] = {
		{ jan + DAY, 1, 0, 0 }, { jan + 2 * DAY, 1, 0, 0 }, { feb + DAY, 1, 1, 0 },
		{ feb + 2 * DAY, 1, 0, 0 }, { mar + DAY, 1, 0, 0 }, { mar + 2 * DAY, 0, 0, 0 },
	};
	tp_prune_opts o = { .keep_last = 1, .keep_monthly = 2 };
	tp_prune_select(it, 6, &o);
	assert_int_equal(it[5].mark, TP_PRUNE_KEEP_PARTIAL); /* newest, unfinished */
	assert_int_equal(it[4].mark, TP_PRUNE_KEEP);         /* keep-last 1 */
	assert_int_equal(it[3].mark, TP_PRUNE_KEEP);         /* newest of February */
	assert_int_equal(it[2].mark, TP_PRUNE_PROTECTED);
	/* March is covered by keep-last/partial and (as in PBS) does not use up a
	 * monthly slot, so the two monthly slots go to February and January */
	assert_int_equal(it[1].mark, TP_PRUNE_KEEP);
	assert_int_equal(it[0].mark, TP_PRUNE_REMOVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_options_keeps_all),
		cmocka_unit_test(test_keep_last),
		cmocka_unit_test(test_keep_daily_newest_per_day),
		cmocka_unit_test(test_last_plus_monthly_and_protected_partial),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
