/* Unit test: UPID format/parse, systemd escaping, task log/status/archive, abort and death across processes, notify. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "access/user.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "task/notify.h"
#include "task/task.h"

static char home[64];

static int setup_home(void **state)
{
	(void)state;
	snprintf(home, sizeof(home), "/tmp/tapir-test-task.XXXXXX");
	if (!mkdtemp(home))
		return -1;
	setenv("TAPIR_HOME", home, 1);
	unsetenv("TAPIR_SENDMAIL");
	return 0;
}

static int teardown_home(void **state)
{
	(void)state;
	tp_rm_rf(home, NULL);
	return 0;
}

static void test_escape(void **state)
{
	(void)state;
	char out[256], back[256];
	assert_int_equal(tp_systemd_escape("store1", out, sizeof(out)), 6);
	assert_string_equal(out, "store1");
	tp_systemd_escape("store1:ns/a-b", out, sizeof(out));
	assert_string_equal(out, "store1\\x3ans-a\\x2db");
	tp_systemd_escape(".hidden/x.y_z", out, sizeof(out));
	assert_string_equal(out, "\\x2ehidden-x.y_z");
	tp_systemd_escape("a b", out, sizeof(out));
	assert_string_equal(out, "a\\x20b");
	assert_int_equal(tp_systemd_escape("tab\there", out, sizeof(out)), -EINVAL);
	assert_int_equal(tp_systemd_escape("abcdef", out, 4), -ENAMETOOLONG);
	static const char *const rt[] = { "store1:vm/100/2026-01-01T00:00:00Z", "ü-ß", ".x", "", "a\\b", NULL };
	for (int i = 0; rt[i]; i++) {
		assert_true(tp_systemd_escape(rt[i], out, sizeof(out)) >= 0);
		assert_true(tp_systemd_unescape(out, back, sizeof(back)) >= 0);
		assert_string_equal(back, rt[i]);
	}
	assert_int_equal(tp_systemd_unescape("bad\\x4", back, sizeof(back)), -EINVAL);
	assert_int_equal(tp_systemd_unescape("bad\\y41", back, sizeof(back)), -EINVAL);
	assert_int_equal(tp_systemd_unescape("ctl\\x0a", back, sizeof(back)), -EINVAL);
}

static void test_upid(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_upid u = { 0 }, v;
	snprintf(u.node, sizeof(u.node), "pbs1");
	u.pid = 0x3f5;
	u.pstart = 0x1c2;
	u.task_id = 1;
	u.starttime = 0x5f3c1a2b;
	snprintf(u.worker_type, sizeof(u.worker_type), "tape-restore");
	snprintf(u.worker_id, sizeof(u.worker_id), "store1:vm/100");
	snprintf(u.authid, sizeof(u.authid), "root@pam");
	char s[TP_UPID_MAX], s2[TP_UPID_MAX];
	assert_int_equal(tp_upid_format(&u, s, &e), 0);
	assert_string_equal(s, "UPID:pbs1:000003F5:000001C2:00000001:5F3C1A2B:tape-restore:store1\\x3avm-100:root@pam:");
	assert_int_equal(tp_upid_parse(s, &v, &e), 0);
	assert_string_equal(v.node, "pbs1");
	assert_int_equal(v.pid, 0x3f5);
	assert_int_equal(v.pstart, 0x1c2);
	assert_int_equal(v.task_id, 1);
	assert_int_equal(v.starttime, 0x5f3c1a2b);
	assert_string_equal(v.worker_type, "tape-restore");
	assert_string_equal(v.worker_id, "store1:vm/100");
	assert_string_equal(v.authid, "root@pam");
	assert_int_equal(tp_upid_format(&v, s2, &e), 0);
	assert_string_equal(s, s2);
	/* wide fields: 9-digit pstart, 16-digit task id, no worker id, token auth id */
	u.pstart = 0x123456789ULL;
	u.task_id = 0x1122334455667788ULL;
	u.worker_id[0] = 0;
	snprintf(u.authid, sizeof(u.authid), "alice@pbs!ci");
	assert_int_equal(tp_upid_format(&u, s, &e), 0);
	assert_string_equal(s, "UPID:pbs1:000003F5:123456789:1122334455667788:5F3C1A2B:tape-restore::alice@pbs!ci:");
	assert_int_equal(tp_upid_parse(s, &v, &e), 0);
	assert_true(v.pstart == 0x123456789ULL && v.task_id == 0x1122334455667788ULL);
	assert_string_equal(v.worker_id, "");
	assert_string_equal(v.authid, "alice@pbs!ci");
	/* PBS-written UPID (lowercase hex is accepted on input) */
	assert_int_equal(tp_upid_parse("UPID:backup-srv:0000a1b2:0123abcd:00000000:65a1b2c3:garbage_collection:store1:root@pam:",
				       &v, &e), 0);
	assert_int_equal(v.pid, 0xa1b2);
	static const char *const bad[] = {
		"UPID:pbs1:000003F5:000001C2:00000001:5F3C1A2B:t:id:root@pam",      /* no trailing ':' */
		"UPID:pbs1:3F5:000001C2:00000001:5F3C1A2B:t:id:root@pam:",          /* short pid */
		"UPID:-pbs:000003F5:000001C2:00000001:5F3C1A2B:t:id:root@pam:",     /* bad node */
		"UPID:pbs1:000003F5:000001C2:00000001:5F3C1A2B::id:root@pam:",      /* empty type */
		"UPID:pbs1:000003F5:000001C2:00000001:5F3C1A2B:t:id:root:",         /* bad authid */
		"UPID:pbs1:000003F5:000001C2:00000001:5F3C1A2G:t:id:root@pam:",     /* bad hex */
		"UPID:pbs1:000003F5:000001C2:00000001:5F3C1A2B:t:a b:root@pam:",    /* whitespace */
		"UPID:pbs1:000003F5:000001C2:00000001:5F3C1A2B:t:id:root@pam:x:",   /* extra field */
		"XPID:pbs1:000003F5:000001C2:00000001:5F3C1A2B:t:id:root@pam:",
		NULL
	};
	for (int i = 0; bad[i]; i++) {
		if (tp_upid_parse(bad[i], &v, &e) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
	}
	/* types with ':' or '/' cannot be encoded */
	snprintf(u.worker_type, sizeof(u.worker_type), "a/b");
	assert_int_equal(tp_upid_format(&u, s, &e), -EINVAL);
}

static char *read_all(const char *upid)
{
	tp_buf b = TP_BUF_INIT;
	tp_err e = { 0 };
	assert_int_equal(tp_task_read_log(upid, &b, &e), 0);
	return (char *)tp_buf_steal(&b, NULL);
}

static void test_task_lifecycle(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_task *t;
	assert_int_equal(tp_task_start("verify", "store1", "root@pam", &t, &e), 0);
	tp_task_set_echo(t, 0);
	char upid[TP_UPID_MAX];
	snprintf(upid, sizeof(upid), "%s", tp_task_upid(t));
	assert_true(tp_task_current() == t);
	tp_task_log(t, "first line\nsecond line");
	tp_info("through the log sink");
	assert_int_equal(tp_task_check_abort(&e), 0);
	tp_task_info ti;
	assert_int_equal(tp_task_status(upid, &ti, &e), 0);
	assert_int_equal(ti.running, 1);
	assert_string_equal(ti.status, "");
	tp_task_filter f = { .running_only = 1 };
	tp_task_info *v;
	size_t n;
	assert_int_equal(tp_task_list(&f, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].upid_str, upid);
	free(v);
	assert_int_equal(tp_task_finish(t, 0, NULL), 0);
	assert_null(tp_task_current());
	char *log = read_all(upid);
	assert_non_null(strstr(log, ": first line\n"));
	assert_non_null(strstr(log, ": second line\n"));
	assert_non_null(strstr(log, ": through the log sink\n"));
	assert_non_null(strstr(log, ": TASK OK\n"));
	free(log);
	assert_int_equal(tp_task_status(upid, &ti, &e), 0);
	assert_int_equal(ti.running, 0);
	assert_string_equal(ti.status, "OK");
	assert_true(ti.endtime >= ti.upid.starttime);

	/* warnings and errors */
	assert_int_equal(tp_task_start("tape-backup", "store1:pool1", "root@pam", &t, &e), 0);
	tp_task_set_echo(t, 0);
	char upid2[TP_UPID_MAX];
	snprintf(upid2, sizeof(upid2), "%s", tp_task_upid(t));
	tp_warn("careful");
	tp_task_warn(t, "twice");
	assert_int_equal(tp_task_warnings(t), 2);
	tp_task_finish(t, 0, NULL);
	assert_int_equal(tp_task_status(upid2, &ti, &e), 0);
	assert_string_equal(ti.status, "WARNINGS: 2");
	log = read_all(upid2);
	assert_non_null(strstr(log, "WARN: careful"));
	assert_non_null(strstr(log, "TASK WARNINGS: 2"));
	free(log);

	assert_int_equal(tp_task_start("tape-backup", "store2", "root@pam", &t, &e), 0);
	tp_task_set_echo(t, 0);
	char upid3[TP_UPID_MAX];
	snprintf(upid3, sizeof(upid3), "%s", tp_task_upid(t));
	assert_int_equal(tp_task_finish(t, -EIO, "drive d1: read error\nat block 7"), -EIO);
	assert_int_equal(tp_task_status(upid3, &ti, &e), 0);
	assert_string_equal(ti.status, "drive d1: read error at block 7");
	log = read_all(upid3);
	assert_non_null(strstr(log, "TASK ERROR: drive d1: read error at block 7\n"));
	free(log);

	/* filters: newest first, type, limit */
	assert_int_equal(tp_task_list(NULL, &v, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0].upid_str, upid3);
	assert_string_equal(v[2].upid_str, upid);
	free(v);
	tp_task_filter f2 = { .worker_type = "tape-backup", .limit = 1 };
	assert_int_equal(tp_task_list(&f2, &v, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].upid_str, upid3);
	free(v);
	tp_task_filter f3 = { .since = time(NULL) + 3600 };
	assert_int_equal(tp_task_list(&f3, &v, &n, &e), 0);
	assert_int_equal(n, 0);
	free(v);
	/* bad input */
	assert_int_equal(tp_task_start("bad type", NULL, "root@pam", &t, &e), -EINVAL);
	assert_int_equal(tp_task_start("ok", NULL, "nobody", &t, &e), -EINVAL);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_task_read_log("UPID:x:00000001:00000001:00000001:00000001:t::root@pam:", &b, &e),
			 -TP_ENOTFOUND);
	assert_int_equal(tp_task_read_log("../../etc/passwd", &b, &e), -EINVAL);
	assert_int_equal(tp_task_stop(upid, &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "not running"));
	tp_buf_free(&b);
}

/* Child: start a task, report its UPID, loop until aborted (or 10 s), finish. */
static void child_worker(int fd, int die)
{
	tp_err e = { 0 };
	tp_task *t;
	if (tp_task_start("abort-test", die ? "die" : "loop", "root@pam", &t, &e) < 0)
		_exit(10);
	tp_task_set_echo(t, 0);
	char line[TP_UPID_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n", tp_task_upid(t));
	if (write(fd, line, (size_t)n) != n)
		_exit(11);
	close(fd);
	if (die)
		_exit(0);   /* never finishes: the list must show it as unknown */
	int r = 0;
	for (int i = 0; i < 1000 && r == 0; i++) {
		tp_task_log(t, "iteration %d", i);
		usleep(10000);
		r = tp_task_check_abort(&e);
	}
	tp_task_finish(t, r, e.msg);
	_exit(r == -TP_EABORT ? 0 : 12);
}

static pid_t spawn(int die, char *upid)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child_worker(p[1], die);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t k;
	while ((k = read(p[0], upid + got, TP_UPID_MAX - 1 - got)) > 0)
		got += (size_t)k;
	close(p[0]);
	assert_true(got > 0 && upid[got - 1] == '\n');
	upid[got - 1] = 0;
	return pid;
}

static void test_abort_across_processes(void **state)
{
	(void)state;
	tp_err e = { 0 };
	char upid[TP_UPID_MAX];
	pid_t pid = spawn(0, upid);
	tp_task_info ti;
	assert_int_equal(tp_task_status(upid, &ti, &e), 0);
	assert_int_equal(ti.running, 1);
	assert_int_equal(ti.upid.pid, (uint32_t)pid);
	usleep(50000);
	assert_int_equal(tp_task_stop(upid, &e), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(tp_task_status(upid, &ti, &e), 0);
	assert_int_equal(ti.running, 0);
	assert_string_equal(ti.status, "aborted");
	char *log = read_all(upid);
	assert_non_null(strstr(log, "iteration 0\n"));
	assert_non_null(strstr(log, "TASK ERROR: aborted\n"));
	free(log);
}

static void test_died_task(void **state)
{
	(void)state;
	tp_err e = { 0 };
	char upid[TP_UPID_MAX];
	pid_t pid = spawn(1, upid);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	tp_task_info *v;
	size_t n, found = 0;
	assert_int_equal(tp_task_list(NULL, &v, &n, &e), 0);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].upid_str, upid)) {
			found++;
			assert_int_equal(v[i].running, 0);
			assert_string_equal(v[i].status, "unknown");
		}
	free(v);
	assert_int_equal(found, 1);
	/* it was archived once: a second listing shows it once, still not running */
	tp_task_filter f = { .running_only = 1 };
	assert_int_equal(tp_task_list(&f, &v, &n, &e), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(v[i].upid_str, upid);
	free(v);
	found = 0;
	assert_int_equal(tp_task_list(NULL, &v, &n, &e), 0);
	for (size_t i = 0; i < n; i++)
		found += !strcmp(v[i].upid_str, upid);
	free(v);
	assert_int_equal(found, 1);
	assert_int_equal(tp_task_stop(upid, &e), -TP_ENOTFOUND);
}

static void test_notify(void **state)
{
	(void)state;
	tp_err e = { 0 };
	tp_user u = { .enable = 1 };
	snprintf(u.userid, sizeof(u.userid), "ops@pbs");
	snprintf(u.email, sizeof(u.email), "ops@example.com");
	assert_int_equal(tp_user_create(&u, NULL, &e), 0);
	tp_user n = { .enable = 1 };
	snprintf(n.userid, sizeof(n.userid), "nomail@pbs");
	assert_int_equal(tp_user_create(&n, NULL, &e), 0);

	/* nothing configured: a distinct code, nothing sent */
	assert_int_equal(tp_notify_send("ops@pbs", "subj", "body", &e), TP_NOTIFY_NO_MAILER);
	assert_non_null(strstr(e.msg, "no mail command configured"));

	char *script = tp_strdup_printf("%s/fake-sendmail", home);
	char *mail = tp_strdup_printf("%s/mail.out", home);
	char *args = tp_strdup_printf("%s/mail.args", home);
	char *text = tp_strdup_printf("#!/bin/sh\necho \"$@\" > '%s'\ncat > '%s'\n", args, mail);
	assert_int_equal(tp_write_atomic(script, text, strlen(text), 0755, &e), 0);
	setenv("TAPIR_SENDMAIL", script, 1);
	assert_int_equal(tp_notify_send("ops@pbs", "Tape restore finished", "restored 3 snapshots\n.\nend", &e), 0);
	tp_buf b = TP_BUF_INIT;
	assert_int_equal(tp_read_file(mail, &b, 1 << 20, &e), 0);
	const char *m = tp_buf_cstr(&b);
	assert_non_null(strstr(m, "To: ops@example.com\n"));
	assert_non_null(strstr(m, "Subject: Tape restore finished\n"));
	assert_non_null(strstr(m, "\n\nrestored 3 snapshots\n.\nend\n"));
	tp_buf_reset(&b);
	assert_int_equal(tp_read_file(args, &b, 1 << 20, &e), 0);
	assert_non_null(strstr(tp_buf_cstr(&b), "-- ops@example.com"));
	tp_buf_free(&b);

	assert_int_equal(tp_notify_send("nomail@pbs", "s", "b", &e), -TP_ENOTFOUND);
	assert_non_null(strstr(e.msg, "no e-mail"));
	assert_int_equal(tp_notify_send("ghost@pbs", "s", "b", &e), -TP_ENOTFOUND);
	assert_int_equal(tp_notify_send("ops@pbs", "two\nlines", "b", &e), -EINVAL);
	/* a failing mail command is an error with its exit status */
	const char *failing = "#!/bin/sh\ncat >/dev/null\nexit 3\n";
	assert_int_equal(tp_write_atomic(script, failing, strlen(failing), 0755, &e), 0);
	assert_int_equal(tp_notify_send("ops@pbs", "s", "b", &e), -EIO);
	assert_non_null(strstr(e.msg, "exit status 3"));
	/* a mail command that does not read its input must not kill us (SIGPIPE) */
	const char *deaf = "#!/bin/sh\nexit 0\n";
	assert_int_equal(tp_write_atomic(script, deaf, strlen(deaf), 0755, &e), 0);
	char *big = malloc(1 << 20);
	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = 0;
	int r = tp_notify_send("ops@pbs", "s", big, &e);
	assert_true(r == 0 || r == -EIO);
	free(big);
	setenv("TAPIR_SENDMAIL", "relative/sendmail", 1);
	assert_int_equal(tp_notify_send("ops@pbs", "s", "b", &e), -EINVAL);
	/* the config key works when the variable is unset */
	unsetenv("TAPIR_SENDMAIL");
	char *cfgp = tp_strdup_printf("%s/etc/notify.json", home);
	char *cfg = tp_strdup_printf("{\"sendmail\": \"%s\", \"mail-from\": \"backup@example.com\"}", script);
	assert_int_equal(tp_write_atomic(cfgp, cfg, strlen(cfg), 0640, &e), 0);
	assert_int_equal(tp_write_atomic(script, text, strlen(text), 0755, &e), 0);
	assert_int_equal(tp_notify_user("ops@pbs", "via config", "x"), 0);
	assert_int_equal(tp_read_file(mail, &b, 1 << 20, &e), 0);
	assert_non_null(strstr(tp_buf_cstr(&b), "From: backup@example.com\n"));
	tp_buf_free(&b);
	free(cfgp);
	free(cfg);
	free(script);
	free(mail);
	free(args);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_upid),
		cmocka_unit_test(test_task_lifecycle),
		cmocka_unit_test(test_abort_across_processes),
		cmocka_unit_test(test_died_task),
		cmocka_unit_test(test_notify),
	};
	return cmocka_run_group_tests(tests, setup_home, teardown_home);
}
