/* Worker tasks: UPIDs, task logs, status files, active/archive lists, abort flags (see task.h). */
#include "task/task.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cancel.h"
#include "base/fsutil.h"
#include "base/lock.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/progress_bar.h"
#include "base/timefmt.h"

/* A UPID is used as a file name. */
#define UPID_FILE_MAX 255

struct tp_task {
	tp_upid u;
	char upid[TP_UPID_MAX];
	char *log_path;
	char *status_path;
	char *abort_path;
	int fd;
	int echo;
	unsigned warnings;
	double next_abort_check;
	pthread_mutex_t mu;
};

static tp_task *cur_task;
/* Per-thread current task (server workers), taking precedence over cur_task. */
static __thread tp_task *thr_task;
static pthread_mutex_t id_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t next_task_id;

/* ---- systemd escaping ---- */

int tp_systemd_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; in[i]; i++) {
		unsigned char c = (unsigned char)in[i];
		char tmp[5];
		size_t n;
		if (c < 0x20)
			return -EINVAL;
		if (c == '/') {
			tmp[0] = '-';
			n = 1;
		} else if ((i == 0 && c == '.') || (!(isalnum(c) && c < 0x80) && c != '_' && c != '.')) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			n = 4;
		} else {
			tmp[0] = (char)c;
			n = 1;
		}
		if (o + n >= outlen)
			return -ENAMETOOLONG;
		memcpy(out + o, tmp, n);
		o += n;
	}
	if (outlen == 0)
		return -ENAMETOOLONG;
	out[o] = 0;
	return (int)o;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int tp_systemd_unescape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; in[i]; i++) {
		int c = (unsigned char)in[i];
		if (c == '-') {
			c = '/';
		} else if (c == '\\') {
			if (in[i + 1] != 'x' || hexval(in[i + 2]) < 0 || hexval(in[i + 3]) < 0)
				return -EINVAL;
			c = hexval(in[i + 2]) * 16 + hexval(in[i + 3]);
			i += 3;
		}
		if (c < 0x20)
			return -EINVAL;
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	if (outlen == 0)
		return -ENAMETOOLONG;
	out[o] = 0;
	return (int)o;
}

/* ---- UPID ---- */

static int node_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= 64 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '-') || (unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static int worker_type_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TP_WORKER_TYPE_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ':' || s[i] == '/' || (unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int tp_upid_format(const tp_upid *u, char *out, tp_err *err)
{
	char wid[TP_WORKER_ID_MAX * 4 + 1];
	tp_authid a;
	if (!node_valid(u->node))
		return tp_err_set(err, -EINVAL, "invalid node name '%s' for a UPID", u->node);
	if (!worker_type_valid(u->worker_type))
		return tp_err_set(err, -EINVAL, "invalid worker type '%s': must be 1 to %d characters without "
				  "':', '/' or whitespace", u->worker_type, TP_WORKER_TYPE_MAX);
	if (tp_systemd_escape(u->worker_id, wid, sizeof(wid)) < 0)
		return tp_err_set(err, -EINVAL, "invalid worker id '%s': control characters", u->worker_id);
	int r = tp_authid_parse(u->authid, &a, err);
	if (r < 0)
		return r;
	if (u->starttime < 0 || u->starttime > 0xffffffffLL)
		return tp_err_set(err, -EINVAL, "UPID start time %lld out of range", (long long)u->starttime);
	int n = snprintf(out, TP_UPID_MAX, "UPID:%s:%08X:%08llX:%08llX:%08llX:%s:%s:%s:", u->node, u->pid,
			 (unsigned long long)u->pstart, (unsigned long long)u->task_id,
			 (unsigned long long)u->starttime, u->worker_type, wid, u->authid);
	if (n < 0 || n >= TP_UPID_MAX)
		return tp_err_set(err, -ENAMETOOLONG, "UPID too long");
	return 0;
}

static int parse_hex(const char *s, size_t min, size_t max, uint64_t *out)
{
	size_t n = strlen(s);
	uint64_t v = 0;
	if (n < min || n > max)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | (uint64_t)h;
	}
	*out = v;
	return 0;
}

int tp_upid_parse(const char *s, tp_upid *u, tp_err *err)
{
	char buf[TP_UPID_MAX];
	char *f[10];
	int n = 0;
	memset(u, 0, sizeof(*u));
	if (!s || strlen(s) >= sizeof(buf))
		return tp_err_set(err, -EINVAL, "invalid UPID: missing or too long");
	strcpy(buf, s);
	for (char *p = buf, *q; n < 10; p = q + 1) {
		q = strchr(p, ':');
		f[n++] = p;
		if (!q)
			break;
		*q = 0;
	}
	if (n != 10 || strcmp(f[0], "UPID") || f[9][0])
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': expected UPID:NODE:PID:PSTART:TASKID:STARTTIME:TYPE:ID:AUTHID:", s);
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p))
			return tp_err_set(err, -EINVAL, "invalid UPID '%s': contains whitespace", s);
	uint64_t pid, st;
	if (!node_valid(f[1]))
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': bad node name", s);
	if (parse_hex(f[2], 8, 8, &pid) < 0)
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': bad pid", s);
	if (parse_hex(f[3], 8, 9, &u->pstart) < 0)
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': bad process start", s);
	if (parse_hex(f[4], 8, 16, &u->task_id) < 0)
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': bad task id", s);
	if (parse_hex(f[5], 8, 8, &st) < 0)
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': bad start time", s);
	if (!worker_type_valid(f[6]))
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': bad worker type", s);
	if (tp_systemd_unescape(f[7], u->worker_id, sizeof(u->worker_id)) < 0)
		return tp_err_set(err, -EINVAL, "invalid UPID '%s': bad worker id escaping", s);
	tp_authid a;
	if (tp_authid_parse(f[8], &a, err) < 0)
		return tp_err_wrap(err, -EINVAL, "invalid UPID '%s'", s);
	snprintf(u->node, sizeof(u->node), "%s", f[1]);
	u->pid = (uint32_t)pid;
	u->starttime = (int64_t)st;
	snprintf(u->worker_type, sizeof(u->worker_type), "%s", f[6]);
	snprintf(u->authid, sizeof(u->authid), "%s", f[8]);
	return 0;
}

/* ---- files ---- */

static int proc_pstart(uint32_t pid, uint64_t *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	/* fields 3..21 to skip, then field 22 = starttime */
	for (int i = 0; i < 20; i++) {
		while (*p == ' ')
			p++;
		if (i == 19)
			break;
		while (*p && *p != ' ')
			p++;
		if (!*p)
			return -EIO;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EIO;
	*out = v;
	return 0;
}

static int task_alive(const tp_upid *u)
{
	uint64_t ps;
	return proc_pstart(u->pid, &ps) == 0 && ps == u->pstart;
}

static char *tasks_file(const char *name)
{
	char *dir = tp_log_path("tasks");
	if (!dir)
		return NULL;
	tp_mkdir_p(dir, 0755, NULL);
	char *p = name ? tp_path_join(dir, name) : NULL;
	free(dir);
	return p;
}

/* tasks/XX/UPID[suffix]; XX from pstart as PBS. */
static char *upid_file(const char *upid, uint64_t pstart, const char *suffix, int mkdir)
{
	char sub[8];
	snprintf(sub, sizeof(sub), "%02llX", (unsigned long long)(pstart & 0xff));
	char *dir = tasks_file(sub);
	if (!dir)
		return NULL;
	if (mkdir)
		tp_mkdir_p(dir, 0755, NULL);
	char *p = tp_strdup_printf("%s/%s%s", dir, upid, suffix);
	free(dir);
	return p;
}

static char *abort_file(const char *upid)
{
	char *dir = tp_run_path("task-abort");
	if (!dir)
		return NULL;
	tp_mkdir_p(dir, 0700, NULL);
	char *p = tp_path_join(dir, upid);
	free(dir);
	return p;
}

static int list_lock(tp_lock *l, tp_err *err)
{
	char *p = tasks_file(".active.lock");
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, 10000, NULL, "task list", err);
	free(p);
	return r;
}

/* Reads a list file into lines (each malloc'd in one buffer); missing = empty. */
typedef struct lines {
	tp_buf buf;
	char **v;
	size_t n;
} lines;

static void lines_free(lines *l)
{
	tp_buf_free(&l->buf);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int lines_read(const char *path, lines *l, tp_err *err)
{
	memset(l, 0, sizeof(*l));
	if (!tp_path_exists(path))
		return 0;
	int r = tp_read_file(path, &l->buf, 256u << 20, err);
	if (r < 0)
		return r;
	char *s = (char *)tp_buf_cstr(&l->buf);
	size_t cap = 0;
	for (char *save = NULL, *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nv = realloc(l->v, cap * sizeof(char *));
			if (!nv) {
				lines_free(l);
				return tp_err_set(err, -ENOMEM, "out of memory reading %s", path);
			}
			l->v = nv;
		}
		l->v[l->n++] = line;
	}
	return 0;
}

static int append_line(const char *path, const char *line, tp_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return tp_err_errno(err, "open %s", path);
	size_t n = strlen(line);
	char *s = malloc(n + 2);
	if (!s) {
		close(fd);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	memcpy(s, line, n);
	s[n] = '\n';
	int r = tp_write_all(fd, s, n + 1, err, path);
	free(s);
	if (close(fd) < 0 && r == 0)
		r = tp_err_errno(err, "close %s", path);
	return r;
}

/* Status file: "running" or "ENDTIME_HEX STATUS". Returns 1 final, 0 running/missing. */
static int status_read(const char *upid, uint64_t pstart, int64_t *endtime, char *status, size_t len)
{
	char *p = upid_file(upid, pstart, ".status", 0);
	tp_buf b = TP_BUF_INIT;
	int fin = 0;
	if (p && tp_read_file(p, &b, 4096, NULL) == 0) {
		const char *s = tp_buf_cstr(&b);
		char *end;
		unsigned long long t = strtoull(s, &end, 16);
		if (strncmp(s, "running", 7) && end != s && *end == ' ') {
			snprintf(status, len, "%s", end + 1);
			status[strcspn(status, "\n")] = 0;
			*endtime = (int64_t)t;
			fin = 1;
		}
	}
	tp_buf_free(&b);
	free(p);
	return fin;
}

/* ---- running a task ---- */

/* quiet: never echo this line (tp_task_note) */
static void task_write(tp_task *t, const char *prefix, const char *msg, int warn, int quiet)
{
	char ts[32];
	tp_time_local(tp_now(), ts);
	pthread_mutex_lock(&t->mu);
	if (warn)
		t->warnings++;
	const char *p = msg;
	do {
		size_t n = strcspn(p, "\n");
		char line[4096];
		int len = snprintf(line, sizeof(line), "%s: %s%.*s\n", ts, prefix, (int)n, p);
		if (len > (int)sizeof(line) - 1)
			len = (int)sizeof(line) - 1, line[len - 1] = '\n';
		if (t->fd >= 0 && write(t->fd, line, (size_t)len) < 0) {
			/* a full log disk must not stop the task; the status file still says how it ended */
		}
		if (t->echo && !quiet && (warn || !tp_log_quiet())) {
			FILE *f = t->echo == TP_TASK_ECHO_SPLIT && !warn ? stdout : stderr;
			tp_progress_bar_hide(); /* the line goes where the bar was; the bar comes back below it */
			fprintf(f, "%s%.*s\n", warn ? (prefix[0] == 'E' ? "error: " : "warning: ") : "", (int)n, p);
			if (f == stdout)
				fflush(stdout);
			tp_progress_bar_show();
		}
		p += n;
		if (*p == '\n')
			p++;
	} while (*p);
	pthread_mutex_unlock(&t->mu);
}

static void task_sink(void *ctx, enum tp_log_level lvl, const char *line)
{
	tp_task *t = ctx;
	const char *prefix = lvl == TP_LOG_ERROR ? "ERROR: " : lvl == TP_LOG_WARN ? "WARN: " : "";
	task_write(t, prefix, line, lvl <= TP_LOG_WARN, 0);
}

static void task_vwrite(tp_task *t, const char *prefix, int warn, int quiet, const char *fmt, va_list ap)
{
	char msg[4000];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	task_write(t, prefix, msg, warn, quiet);
}

#define TASK_WRITE_VA(t, prefix, warn, quiet, fmt)                  \
	do {                                                        \
		va_list ap;                                         \
		va_start(ap, fmt);                                  \
		task_vwrite(t, prefix, warn, quiet, fmt, ap);       \
		va_end(ap);                                         \
	} while (0)

void tp_task_log(tp_task *t, const char *fmt, ...) { TASK_WRITE_VA(t, "", 0, 0, fmt); }
void tp_task_note(tp_task *t, const char *fmt, ...) { TASK_WRITE_VA(t, "", 0, 1, fmt); }
void tp_task_warn(tp_task *t, const char *fmt, ...) { TASK_WRITE_VA(t, "WARN: ", 1, 0, fmt); }

unsigned tp_task_warnings(const tp_task *t)
{
	pthread_mutex_lock((pthread_mutex_t *)&t->mu);
	unsigned w = t->warnings;
	pthread_mutex_unlock((pthread_mutex_t *)&t->mu);
	return w;
}

void tp_task_set_echo(tp_task *t, int echo) { t->echo = echo; }
const char *tp_task_upid(const tp_task *t) { return t->upid; }
tp_task *tp_task_current(void) { return thr_task ? thr_task : __atomic_load_n(&cur_task, __ATOMIC_ACQUIRE); }

static int check_abort_of(tp_task *t, tp_err *err);

/* The cancel check store and tape loops reach through base/cancel.h; threads they start carry ctx on. */
static int task_cancel(void *ctx, tp_err *err) { return check_abort_of(ctx, err); }

void tp_task_attach_thread(tp_task *t)
{
	thr_task = t;
	tp_log_set_thread_sink(t ? task_sink : NULL, t);
	tp_cancel_set_thread(t ? task_cancel : NULL, t);
}

static void task_free(tp_task *t)
{
	if (t->fd >= 0)
		close(t->fd);
	free(t->log_path);
	free(t->status_path);
	free(t->abort_path);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

static void local_node(char *out, size_t len)
{
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = 0;
	host[strcspn(host, ".")] = 0;
	snprintf(out, len, "%s", node_valid(host) ? host : "localhost");
}

static int task_start(const char *worker_type, const char *worker_id, const char *authid, int per_thread,
		      tp_task **out, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	char *active = NULL;
	int r = 0;
	*out = NULL;
	tp_task *t = calloc(1, sizeof(*t));
	if (!t)
		return tp_err_set(err, -ENOMEM, "out of memory");
	t->fd = -1;
	t->echo = 1;
	pthread_mutex_init(&t->mu, NULL);
	if (worker_id && strlen(worker_id) > TP_WORKER_ID_MAX) {
		r = tp_err_set(err, -EINVAL, "worker id too long (max %d bytes)", TP_WORKER_ID_MAX);
		goto out;
	}
	local_node(t->u.node, sizeof(t->u.node));
	t->u.pid = (uint32_t)getpid();
	if ((r = proc_pstart(t->u.pid, &t->u.pstart)) < 0) {
		r = tp_err_set(err, r, "cannot read the process start time from /proc/self/stat");
		goto out;
	}
	pthread_mutex_lock(&id_mu);
	t->u.task_id = next_task_id++;
	pthread_mutex_unlock(&id_mu);
	t->u.starttime = tp_now();
	snprintf(t->u.worker_type, sizeof(t->u.worker_type), "%s", worker_type ? worker_type : "");
	if (worker_type && strlen(worker_type) > TP_WORKER_TYPE_MAX) {
		r = tp_err_set(err, -EINVAL, "worker type too long");
		goto out;
	}
	snprintf(t->u.worker_id, sizeof(t->u.worker_id), "%s", worker_id ? worker_id : "");
	snprintf(t->u.authid, sizeof(t->u.authid), "%s", authid ? authid : "");
	if ((r = tp_upid_format(&t->u, t->upid, err)) < 0)
		goto out;
	if (strlen(t->upid) > UPID_FILE_MAX) {
		r = tp_err_set(err, -ENAMETOOLONG, "UPID of task %s %s longer than %d characters", t->u.worker_type,
			       t->u.worker_id, UPID_FILE_MAX);
		goto out;
	}
	t->log_path = upid_file(t->upid, t->u.pstart, "", 1);
	t->status_path = upid_file(t->upid, t->u.pstart, ".status", 0);
	t->abort_path = abort_file(t->upid);
	active = tasks_file("active");
	if (!t->log_path || !t->status_path || !t->abort_path || !active) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	t->fd = open(t->log_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (t->fd < 0) {
		r = tp_err_errno(err, "create task log %s", t->log_path);
		goto out;
	}
	unlink(t->abort_path);
	if ((r = tp_write_atomic(t->status_path, "running\n", 8, 0644, err)) < 0)
		goto out;
	if ((r = list_lock(&l, err)) < 0)
		goto out;
	r = append_line(active, t->upid, err);
	tp_lock_release(&l);
	if (r < 0)
		goto out;
	if (per_thread) {
		tp_task_attach_thread(t);
	} else {
		__atomic_store_n(&cur_task, t, __ATOMIC_RELEASE);
		tp_log_set_sink(task_sink, t);
		tp_cancel_set(task_cancel, t);
	}
	*out = t;
out:
	free(active);
	if (r < 0) {
		if (t->fd >= 0 && t->log_path)
			unlink(t->log_path);
		if (t->status_path)
			unlink(t->status_path);
		task_free(t);
	}
	return r;
}

int tp_task_start(const char *worker_type, const char *worker_id, const char *authid, tp_task **out,
		  tp_err *err)
{
	return task_start(worker_type, worker_id, authid, 0, out, err);
}

int tp_task_start_thread(const char *worker_type, const char *worker_id, const char *authid, tp_task **out,
			 tp_err *err)
{
	return task_start(worker_type, worker_id, authid, 1, out, err);
}

int tp_task_aborted(tp_task *t)
{
	return t && tp_path_exists(t->abort_path);
}

/* At most every 50 ms a look at t's abort flag (a file another process may create). */
static int check_abort_of(tp_task *t, tp_err *err)
{
	if (!t)
		return 0;
	double now = tp_monotonic();
	pthread_mutex_lock(&t->mu);
	int look = now >= t->next_abort_check;
	if (look)
		t->next_abort_check = now + 0.05;
	pthread_mutex_unlock(&t->mu);
	if (look && tp_task_aborted(t))
		return tp_err_set(err, -TP_EABORT, "task aborted");
	return 0;
}

int tp_task_check_abort(tp_err *err) { return check_abort_of(tp_task_current(), err); }

/* Removes upid from the active list; call with the list lock held. */
static int active_remove(const char *upid, tp_err *err)
{
	char *active = tasks_file("active");
	lines ls;
	tp_buf nb = TP_BUF_INIT;
	int r = active ? lines_read(active, &ls, err) : tp_err_set(err, -ENOMEM, "out of memory");
	if (r < 0)
		goto out;
	for (size_t i = 0; i < ls.n; i++)
		if (strcmp(ls.v[i], upid))
			tp_buf_printf(&nb, "%s\n", ls.v[i]);
	r = tp_write_atomic(active, nb.data ? (const char *)nb.data : "", nb.len, 0644, err);
	lines_free(&ls);
out:
	tp_buf_free(&nb);
	free(active);
	return r;
}

static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

int tp_task_finish(tp_task *t, int rc, const char *err_msg)
{
	char status[512], line[600];
	tp_err e = { 0 };
	tp_lock l = TP_LOCK_INIT;
	unsigned w = tp_task_warnings(t);
	if (rc == -TP_EABORT)
		snprintf(status, sizeof(status), "aborted");
	else if (rc < 0)
		snprintf(status, sizeof(status), "%s", err_msg && *err_msg ? err_msg : tp_strerror(rc));
	else if (w)
		snprintf(status, sizeof(status), "WARNINGS: %u", w);
	else
		snprintf(status, sizeof(status), "OK");
	one_line(status);
	if (rc < 0) {
		/* the caller reports the error itself (the CLI's one error line): only the log gets it here */
		tp_task_note(t, "TASK ERROR: %s", status);
	}
	else
		tp_task_log(t, "TASK %s", status);
	if (thr_task == t) {
		tp_task_attach_thread(NULL);
	} else if (__atomic_load_n(&cur_task, __ATOMIC_ACQUIRE) == t) {
		tp_log_set_sink(NULL, NULL);
		tp_cancel_set(NULL, NULL);
		__atomic_store_n(&cur_task, NULL, __ATOMIC_RELEASE);
	}
	if (t->fd >= 0) {
		fsync(t->fd);
		close(t->fd);
		t->fd = -1;
	}
	int n = snprintf(line, sizeof(line), "%08llX %s\n", (unsigned long long)tp_now(), status);
	if (tp_write_atomic(t->status_path, line, (size_t)n, 0644, &e) < 0)
		tp_warn("task %s: %s", t->upid, e.msg);
	line[n - 1] = 0;
	char *archive = tasks_file("archive");
	if (list_lock(&l, &e) == 0) {
		if (active_remove(t->upid, &e) < 0)
			tp_warn("task %s: %s", t->upid, e.msg);
		char *entry = tp_strdup_printf("%s %s", t->upid, line);
		if (!archive || !entry || append_line(archive, entry, &e) < 0)
			tp_warn("task %s: cannot archive: %s", t->upid, e.msg);
		free(entry);
		tp_lock_release(&l);
	} else {
		tp_warn("task %s: %s", t->upid, e.msg);
	}
	free(archive);
	unlink(t->abort_path);
	task_free(t);
	return rc;
}

/* ---- listing ---- */

static int info_from_archive(const char *line, tp_task_info *ti)
{
	char upid[TP_UPID_MAX];
	const char *sp = strchr(line, ' ');
	if (!sp || (size_t)(sp - line) >= sizeof(upid))
		return -1;
	memcpy(upid, line, (size_t)(sp - line));
	upid[sp - line] = 0;
	memset(ti, 0, sizeof(*ti));
	if (tp_upid_parse(upid, &ti->upid, NULL) < 0)
		return -1;
	char *end;
	unsigned long long t = strtoull(sp + 1, &end, 16);
	if (end == sp + 1 || *end != ' ')
		return -1;
	snprintf(ti->upid_str, sizeof(ti->upid_str), "%s", upid);
	ti->endtime = (int64_t)t;
	snprintf(ti->status, sizeof(ti->status), "%s", end + 1);
	return 0;
}

static int64_t log_mtime(const char *upid, uint64_t pstart)
{
	char *p = upid_file(upid, pstart, "", 0);
	struct stat st;
	int64_t t = p && stat(p, &st) == 0 ? (int64_t)st.st_mtime : tp_now();
	free(p);
	return t;
}

static int info_cmp(const void *a, const void *b)
{
	const tp_task_info *x = a, *y = b;
	if (x->upid.starttime != y->upid.starttime)
		return x->upid.starttime > y->upid.starttime ? -1 : 1;
	if (x->upid.task_id != y->upid.task_id)
		return x->upid.task_id > y->upid.task_id ? -1 : 1;
	return strcmp(y->upid_str, x->upid_str);
}

static int push(tp_task_info **v, size_t *n, size_t *cap, const tp_task_info *ti)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		tp_task_info *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *ti;
	return 0;
}

/* Active tasks; dead ones are moved to the archive. */
static int collect_active(tp_task_info **v, size_t *n, size_t *cap, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	lines ls = { 0 };
	tp_buf keep = TP_BUF_INIT;
	char *active = tasks_file("active"), *archive = tasks_file("archive");
	int r = 0, dead = 0;
	if (!active || !archive) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = list_lock(&l, err)) < 0 || (r = lines_read(active, &ls, err)) < 0)
		goto out;
	for (size_t i = 0; i < ls.n; i++) {
		tp_task_info ti = { 0 };
		if (tp_upid_parse(ls.v[i], &ti.upid, NULL) < 0) {
			dead = 1;   /* unreadable lines are dropped */
			continue;
		}
		snprintf(ti.upid_str, sizeof(ti.upid_str), "%s", ls.v[i]);
		if (task_alive(&ti.upid)) {
			ti.running = 1;
			tp_buf_printf(&keep, "%s\n", ls.v[i]);
		} else {
			dead = 1;
			if (!status_read(ti.upid_str, ti.upid.pstart, &ti.endtime, ti.status, sizeof(ti.status))) {
				snprintf(ti.status, sizeof(ti.status), "unknown");
				ti.endtime = log_mtime(ti.upid_str, ti.upid.pstart);
			}
			char *entry = tp_strdup_printf("%s %08llX %s", ti.upid_str, (unsigned long long)ti.endtime,
						       ti.status);
			if (!entry) {
				r = tp_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			r = append_line(archive, entry, err);
			free(entry);
			if (r < 0)
				goto out;
		}
		if (push(v, n, cap, &ti) < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (dead)
		r = tp_write_atomic(active, keep.data ? (const char *)keep.data : "", keep.len, 0644, err);
out:
	tp_lock_release(&l);
	lines_free(&ls);
	tp_buf_free(&keep);
	free(active);
	free(archive);
	return r;
}

static int matches(const tp_task_filter *f, const tp_task_info *ti)
{
	if (!f)
		return 1;
	if (f->running_only && !ti->running)
		return 0;
	if (f->worker_type && strcmp(f->worker_type, ti->upid.worker_type))
		return 0;
	if (f->since && ti->upid.starttime < f->since)
		return 0;
	return 1;
}

int tp_task_list(const tp_task_filter *f, tp_task_info **out, size_t *nout, tp_err *err)
{
	tp_task_info *v = NULL;
	size_t n = 0, cap = 0;
	lines ls = { 0 };
	char *archive = NULL;
	*out = NULL;
	*nout = 0;
	int r = collect_active(&v, &n, &cap, err);
	if (r < 0)
		goto out;
	if (!f || !f->running_only) {
		size_t nactive = n;
		archive = tasks_file("archive");
		if (!archive) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
		if ((r = lines_read(archive, &ls, err)) < 0)
			goto out;
		for (size_t i = 0; i < ls.n; i++) {
			tp_task_info ti;
			if (info_from_archive(ls.v[i], &ti) < 0)
				continue;
			/* a task that died was just archived and is already listed */
			int dup = 0;
			for (size_t j = 0; j < nactive && !dup; j++)
				dup = !v[j].running && !strcmp(v[j].upid_str, ti.upid_str);
			if (!dup && push(&v, &n, &cap, &ti) < 0) {
				r = tp_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
		}
	}
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (matches(f, &v[i]))
			v[w++] = v[i];
	n = w;
	if (n)
		qsort(v, n, sizeof(*v), info_cmp);
	if (f && f->limit && n > f->limit)
		n = f->limit;
	*out = v;
	*nout = n;
	v = NULL;
out:
	free(v);
	lines_free(&ls);
	free(archive);
	return r;
}

int tp_task_status(const char *upid, tp_task_info *out, tp_err *err)
{
	tp_upid u;
	int r = tp_upid_parse(upid, &u, err);
	if (r < 0)
		return r;
	tp_task_info *v;
	size_t n;
	if ((r = tp_task_list(NULL, &v, &n, err)) < 0)
		return r;
	r = tp_err_set(err, -TP_ENOTFOUND, "no such task %s", upid);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].upid_str, upid)) {
			*out = v[i];
			tp_err_clear(err);
			r = 0;
			break;
		}
	free(v);
	return r;
}

int tp_task_read_log(const char *upid, tp_buf *out, tp_err *err)
{
	tp_upid u;
	int r = tp_upid_parse(upid, &u, err);
	if (r < 0)
		return r;
	if (strlen(upid) > UPID_FILE_MAX)
		return tp_err_set(err, -TP_ENOTFOUND, "no log for task %s", upid);
	char *p = upid_file(upid, u.pstart, "", 0);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	if (!tp_path_exists(p))
		r = tp_err_set(err, -TP_ENOTFOUND, "no log for task %s", upid);
	else
		r = tp_read_file(p, out, 64u << 20, err);
	free(p);
	return r;
}

int tp_task_stop(const char *upid, tp_err *err)
{
	tp_task_info ti;
	int r = tp_task_status(upid, &ti, err);
	if (r < 0)
		return r;
	if (!ti.running)
		return tp_err_set(err, -TP_ENOTFOUND, "task %s is not running (%s)", upid, ti.status);
	char *p = abort_file(upid);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		r = tp_err_errno(err, "create abort flag %s", p);
	else
		close(fd);
	free(p);
	return r;
}
