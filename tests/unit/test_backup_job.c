/* Unit test: tape backup job config (validation, JSON, CRUD), run state and schedule with catch-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/paths.h"
#include "base/timefmt.h"
#include "tape/backup_job.h"

static char home[64];

static int setup_home(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-test-job.XXXXXX");
	if (!mkdtemp(home))
		return -1;
	setenv("TAPIR_HOME", home, 1);
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static int teardown_home(void **state)
{
	(void)state;
	tp_rm_rf(home, NULL);
	return 0;
}

static void sample(tp_backup_job *j, const char *id)
{
	tp_backup_job_init(j, id);
	snprintf(j->store, sizeof(j->store), "store1");
	snprintf(j->pool, sizeof(j->pool), "pool1");
	snprintf(j->drive, sizeof(j->drive), "drive1");
}

static void test_id_and_check(void **state)
{
	(void)state;
	tp_err e = { 0 };
	assert_int_equal(tp_backup_job_id_valid("job1", &e), 0);
	assert_int_equal(tp_backup_job_id_valid("a.b-c_d", &e), 0);
	assert_int_equal(tp_backup_job_id_valid("ab", &e), -EINVAL);
	assert_int_equal(tp_backup_job_id_valid("../x", &e), -EINVAL);
	assert_int_equal(tp_backup_job_id_valid("a/b/c", &e), -EINVAL);
	assert_int_equal(tp_backup_job_id_valid("-abc", &e), -EINVAL);
	assert_int_equal(tp_backup_job_id_valid("0123456789012345678901234567890123", &e), -EINVAL);

	tp_backup_job j;
	sample(&j, "job1");
	assert_int_equal(tp_backup_job_check(&j, &e), 0);
	j.store[0] = 0;
	assert_int_equal(tp_backup_job_check(&j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "store"));
	sample(&j, "job1");
	snprintf(j.drive, sizeof(j.drive), "..");
	assert_int_equal(tp_backup_job_check(&j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "drive"));
	sample(&j, "job1");
	snprintf(j.schedule, sizeof(j.schedule), "someday");
	assert_int_equal(tp_backup_job_check(&j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "schedule"));
	sample(&j, "job1");
	j.max_depth = 8;
	assert_int_equal(tp_backup_job_check(&j, &e), -EINVAL);
	sample(&j, "job1");
	snprintf(j.ns, sizeof(j.ns), "a/../b");
	assert_int_equal(tp_backup_job_check(&j, &e), -EINVAL);
	sample(&j, "job1");
	snprintf(j.notify_user, sizeof(j.notify_user), "nobody");
	assert_int_equal(tp_backup_job_check(&j, &e), -EINVAL);
	snprintf(j.notify_user, sizeof(j.notify_user), "alice@pbs");
	snprintf(j.schedule, sizeof(j.schedule), "mon..fri 02:00");
	assert_int_equal(tp_backup_job_check(&j, &e), 0);
}

static void test_json(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_backup_job j, k;
	sample(&j, "job1");
	snprintf(j.schedule, sizeof(j.schedule), "daily");
	j.latest_only = 1;
	j.max_depth = 2;
	json_t *o = tp_backup_job_to_json(&j, 0);
	assert_null(json_object_get(o, "id"));
	assert_string_equal(json_string_value(json_object_get(o, "schedule")), "daily");
	assert_true(json_is_true(json_object_get(o, "latest-only")));
	assert_null(json_object_get(o, "ns"));
	tp_backup_job_init(&k, "job1");
	assert_int_equal(tp_backup_job_apply_json(&k, o, &e), 0);
	assert_memory_equal(&j, &k, sizeof(j));
	json_decref(o);

	o = json_pack("{s:s}", "bogus", "x");
	assert_int_equal(tp_backup_job_apply_json(&k, o, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "bogus"));
	json_decref(o);
	o = json_pack("{s:i}", "store", 5);
	assert_int_equal(tp_backup_job_apply_json(&k, o, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "store"));
	json_decref(o);
	o = json_pack("{s:i}", "max-depth", 9);
	assert_int_equal(tp_backup_job_apply_json(&k, o, &e), -EINVAL);
	json_decref(o);
	char longs[400];
	memset(longs, 'a', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = 0;
	o = json_pack("{s:s}", "comment", longs);
	assert_int_equal(tp_backup_job_apply_json(&k, o, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "comment"));
	json_decref(o);
	o = json_pack("{s:n,s:n}", "schedule", "max-depth");
	assert_int_equal(tp_backup_job_apply_json(&k, o, &e), 0);
	assert_string_equal(k.schedule, "");
	assert_int_equal(k.max_depth, -1);
	json_decref(o);
}

static void test_crud(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_backup_job j, g, *v;
	size_t n;
	assert_int_equal(tp_backup_job_list(&v, &n, &e), 0);
	assert_int_equal(n, 0);
	free(v);
	sample(&j, "zeta");
	assert_int_equal(tp_backup_job_create(&j, &e), 0);
	sample(&j, "alpha");
	snprintf(j.comment, sizeof(j.comment), "first");
	assert_int_equal(tp_backup_job_create(&j, &e), 0);
	assert_int_equal(tp_backup_job_create(&j, &e), -TP_EEXISTS);
	j.store[0] = 0;
	assert_int_equal(tp_backup_job_create(&j, &e), -EINVAL);
	assert_int_equal(tp_backup_job_list(&v, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].id, "alpha");
	assert_string_equal(v[1].id, "zeta");
	free(v);
	assert_int_equal(tp_backup_job_get("alpha", &g, &e), 0);
	assert_string_equal(g.comment, "first");
	snprintf(g.schedule, sizeof(g.schedule), "*-*-01 03:00");
	assert_int_equal(tp_backup_job_update(&g, &e), 0);
	assert_int_equal(tp_backup_job_get("alpha", &j, &e), 0);
	assert_string_equal(j.schedule, "*-*-01 03:00");
	sample(&j, "nosuch");
	assert_int_equal(tp_backup_job_update(&j, &e), -TP_ENOTFOUND);
	tp_backup_job_state st;
	assert_int_equal(tp_backup_job_state_load("alpha", &st, &e), 0);
	assert_true(st.created > 0);
	assert_int_equal(tp_backup_job_remove("alpha", &e), 0);
	assert_int_equal(tp_backup_job_get("alpha", &j, &e), -TP_ENOTFOUND);
	assert_int_equal(tp_backup_job_remove("alpha", &e), -TP_ENOTFOUND);
	assert_int_equal(tp_backup_job_state_load("alpha", &st, &e), 1);
	assert_int_equal(tp_backup_job_remove("../etc", &e), -EINVAL);

	/* a hand-edited bad entry is refused naming the job */
	char *p = tp_config_path("tape-job.json");
	const char *bad = "{\"zeta\": {\"store\": \"store1\", \"pool\": \"pool1\", \"drive\": \"d/../x\"}}";
	assert_int_equal(tp_write_atomic(p, bad, strlen(bad), 0640, &e), 0);
	assert_int_equal(tp_backup_job_list(&v, &n, &e), -TP_EFORMAT);
	assert_non_null(strstr(e.msg, "zeta"));
	unlink(p);
	free(p);
}

static void test_state_and_schedule(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_backup_job j;
	sample(&j, "sched1");
	snprintf(j.schedule, sizeof(j.schedule), "daily");
	int64_t created;
	assert_int_equal(tp_time_parse_utc("2026-01-01T10:00:00Z", &created), 0);
	assert_int_equal(tp_backup_job_state_init("sched1", created, &e), 0);
	tp_backup_job_state st;
	assert_int_equal(tp_backup_job_state_load("sched1", &st, &e), 0);
	assert_int_equal(st.created, created);
	assert_int_equal(st.running, 0);
	int64_t next, day2;
	assert_int_equal(tp_time_parse_utc("2026-01-02T00:00:00Z", &day2), 0);
	assert_int_equal(tp_backup_job_next_run(&j, &st, &next, &e), 0);
	assert_int_equal(next, day2);
	assert_false(tp_backup_job_due(&j, &st, day2 - 1));
	assert_true(tp_backup_job_due(&j, &st, day2));

	/* down for five days: due once; after the run the next event is in the future */
	int64_t now = day2 + 5 * 86400 + 3600;
	assert_true(tp_backup_job_due(&j, &st, now));
	assert_int_equal(tp_backup_job_state_started("sched1", "UPID:x", now, &e), 0);
	assert_int_equal(tp_backup_job_state_load("sched1", &st, &e), 0);
	assert_int_equal(st.running, 1);
	assert_false(tp_backup_job_due(&j, &st, now + 86400 * 3));
	assert_int_equal(tp_backup_job_state_finished("sched1", "UPID:x", now + 60, "OK", &e), 0);
	assert_int_equal(tp_backup_job_state_load("sched1", &st, &e), 0);
	assert_int_equal(st.running, 0);
	assert_string_equal(st.status, "OK");
	assert_int_equal(st.last_start, now);
	assert_int_equal(st.last_end, now + 60);
	assert_false(tp_backup_job_due(&j, &st, now + 120));
	assert_int_equal(tp_backup_job_next_run(&j, &st, &next, &e), 0);
	assert_int_equal(next, day2 + 6 * 86400);
	assert_true(tp_backup_job_due(&j, &st, next));

	/* no schedule: never due */
	j.schedule[0] = 0;
	assert_int_equal(tp_backup_job_next_run(&j, &st, &next, &e), -TP_ENOTFOUND);
	assert_false(tp_backup_job_due(&j, &st, now + 365 * 86400));

	/* a corrupt state file is an error, not "never run" */
	char *dir = tp_state_path("jobstates");
	char *p = tp_strdup_printf("%s/tape-backup-job-sched1.json", dir);
	assert_int_equal(tp_write_atomic(p, "{\"state\":\"weird\"}", 17, 0644, &e), 0);
	assert_int_equal(tp_backup_job_state_load("sched1", &st, &e), -TP_EFORMAT);
	free(p);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_and_check),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_crud),
		cmocka_unit_test(test_state_and_schedule),
	};
	return cmocka_run_group_tests(tests, setup_home, teardown_home);
}
