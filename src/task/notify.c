/* Mail notifications through a sendmail-compatible command (see notify.h). */
#include "task/notify.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "access/user.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/log.h"
#include "base/paths.h"

static json_t *notify_config(tp_err *err, int *failed)
{
	char *p = tp_config_path("notify.json");
	json_t *j = NULL;
	*failed = 0;
	if (!p) {
		*failed = tp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (tp_path_exists(p)) {
		j = tp_json_load_file(p, 1 << 20, err);
		if (!j)
			*failed = err && err->code ? err->code : -TP_EFORMAT;
		else if (!json_is_object(j)) {
			*failed = tp_err_set(err, -TP_EFORMAT, "%s: expected a JSON object", p);
			json_decref(j);
			j = NULL;
		}
	}
	free(p);
	return j;
}

char *tp_notify_mailer(tp_err *err)
{
	const char *env = getenv("TAPIR_SENDMAIL");
	char *m = NULL;
	int failed;
	if (env && *env) {
		m = strdup(env);
	} else {
		json_t *j = notify_config(err, &failed);
		const char *s = j ? tp_json_opt_str(j, "sendmail") : NULL;
		if (s && *s)
			m = strdup(s);
		json_decref(j);
	}
	return m;
}

static int header_safe(const char *s)
{
	return !strpbrk(s, "\r\n");
}

static int ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int build_message(tp_buf *b, const char *from, const char *to, const char *subject, const char *body)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	int r = tp_buf_printf(b, "To: %s\nFrom: %s\n", to, from);
	if (r < 0)
		return r;
	if (ascii_only(subject)) {
		r = tp_buf_printf(b, "Subject: %s\n", subject);
	} else {
		/* RFC 2047 encoded word */
		size_t n = strlen(subject);
		unsigned char *enc = malloc(4 * ((n + 2) / 3) + 1);
		if (!enc)
			return -ENOMEM;
		EVP_EncodeBlock(enc, (const unsigned char *)subject, (int)n);
		r = tp_buf_printf(b, "Subject: =?UTF-8?B?%s?=\n", enc);
		free(enc);
	}
	if (r < 0)
		return r;
	r = tp_buf_printf(b, "Date: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
			  "Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n%s", date, body);
	if (r == 0 && (!*body || body[strlen(body) - 1] != '\n'))
		r = tp_buf_append_str(b, "\n");
	return r;
}

static int run_mailer(const char *mailer, const char *from, const char *to, const tp_buf *msg, tp_err *err)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return tp_err_errno(err, "pipe for %s", mailer);
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return tp_err_errno(err, "fork for %s", mailer);
	}
	if (pid == 0) {
		if (dup2(pfd[0], 0) < 0)
			_exit(127);
		char *const argv[] = { (char *)mailer, "-oi", "-f", (char *)from, "--", (char *)to, NULL };
		execv(mailer, argv);
		_exit(127);
	}
	close(pfd[0]);
	/* A mailer that exits early must not kill us with SIGPIPE: block it on this thread, then drain it. */
	sigset_t pipeset, old;
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &old);
	tp_err we = { 0 };
	int wr = tp_write_all(pfd[1], msg->data, msg->len, &we, mailer);
	close(pfd[1]);
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&pipeset, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return tp_err_errno(err, "wait for %s", mailer);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		return tp_err_set(err, -EIO, "mail command %s could not be run", mailer);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return tp_err_set(err, -EIO, "mail command %s failed (%s %d)", mailer,
				  WIFEXITED(st) ? "exit status" : "signal",
				  WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	if (wr < 0)
		return tp_err_set(err, -EIO, "mail command %s did not read the message: %s", mailer, we.msg);
	return 0;
}

int tp_notify_send(const char *userid, const char *subject, const char *body, tp_err *err)
{
	tp_user_config cfg = { 0 };
	tp_buf msg = TP_BUF_INIT;
	char *mailer = NULL, from[300];
	json_t *ncfg = NULL;
	int r = tp_userid_check(userid, err), failed;
	if (r < 0)
		return r;
	if (!subject || !header_safe(subject))
		return tp_err_set(err, -EINVAL, "mail subject must be one line");
	if ((r = tp_user_config_load(&cfg, err)) < 0)
		return r;
	const tp_user *u = tp_user_find(&cfg, userid);
	if (!u) {
		r = tp_err_set(err, -TP_ENOTFOUND, "cannot notify %s: no such user", userid);
		goto out;
	}
	if (!u->email[0]) {
		r = tp_err_set(err, -TP_ENOTFOUND, "cannot notify %s: the user has no e-mail address", userid);
		goto out;
	}
	if (!header_safe(u->email) || u->email[0] == '-') {
		r = tp_err_set(err, -EINVAL, "cannot notify %s: bad e-mail address", userid);
		goto out;
	}
	mailer = tp_notify_mailer(err);
	if (!mailer) {
		r = tp_err_set(err, TP_NOTIFY_NO_MAILER, "not sent: no mail command configured");
		goto out;
	}
	if (mailer[0] != '/') {
		r = tp_err_set(err, -EINVAL, "mail command '%s' must be an absolute path", mailer);
		goto out;
	}
	ncfg = notify_config(err, &failed);
	if (failed) {
		r = failed;
		goto out;
	}
	const char *f = ncfg ? tp_json_opt_str(ncfg, "mail-from") : NULL;
	if (f && *f) {
		if (!header_safe(f) || f[0] == '-' || strlen(f) >= sizeof(from)) {
			r = tp_err_set(err, -EINVAL, "notify.json: bad mail-from '%s'", f);
			goto out;
		}
		snprintf(from, sizeof(from), "%s", f);
	} else {
		char host[256] = "localhost";
		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = 0;
		snprintf(from, sizeof(from), "tapir@%s", host);
	}
	if (build_message(&msg, from, u->email, subject, body ? body : "") < 0) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = run_mailer(mailer, from, u->email, &msg, err);
out:
	json_decref(ncfg);
	tp_buf_free(&msg);
	free(mailer);
	tp_user_config_free(&cfg);
	return r;
}

int tp_notify_user(const char *userid, const char *subject, const char *body)
{
	tp_err e = { 0 };
	int r = tp_notify_send(userid, subject, body, &e);
	if (r == 0)
		tp_info("sent notification '%s' to %s", subject, userid);
	else if (r == TP_NOTIFY_NO_MAILER)
		tp_info("notification to %s not sent: no mail command configured", userid);
	else
		tp_warn("notification to %s not sent: %s", userid, e.msg);
	return r;
}
