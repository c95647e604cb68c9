/* libFuzzer target: pxar sequential decoder, goodbye lookups, extraction into a temp dir, pcat1 reader. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "format/pcat1.h"
#include "format/pxar.h"
#include "store/pxar_extract.h"

static char base[128], target[400], canary[160];

struct src {
	const uint8_t *p;
	size_t len, pos;
};

static long src_read(void *ctx, void *buf, size_t len, tp_err *err)
{
	(void)err;
	struct src *s = ctx;
	size_t n = s->len - s->pos < len ? s->len - s->pos : len;
	memcpy(buf, s->p + s->pos, n);
	s->pos += n;
	return (long)n;
}

static void quiet(void *ctx, enum tp_log_level lvl, const char *line)
{
	(void)ctx;
	(void)lvl;
	(void)line;
}

/* Immutable/append-only attributes from the archive would block the cleanup. */
static int clear_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			int fl = 0;
			ioctl(fd, FS_IOC_SETFLAGS, &fl);
			if (S_ISDIR(st->st_mode))
				fchmod(fd, 0700);
			close(fd);
		}
	}
	return 0;
}

static void cleanup(void)
{
	nftw(target, clear_one, 16, FTW_PHYS);
	if (tp_rm_rf(target, NULL) < 0)
		abort();
}

static void check_canary(void)
{
	DIR *d = opendir(canary);
	struct dirent *de;
	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			abort(); /* something was written outside the target */
	closedir(d);
}

static void remove_base(void)
{
	tp_rm_rf(base, NULL);
}

/* libFuzzer may leave without running atexit: remove the dirs of runs that are gone. */
static void remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		int pid;
		if (sscanf(de->d_name, "tapir-fuzz-pxar-%d", &pid) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) < 0 && errno == ESRCH) {
			char p[300];
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			snprintf(target, sizeof(target), "%s/t", p);
			nftw(target, clear_one, 16, FTW_PHYS);
			tp_rm_rf(p, NULL);
		}
	}
	closedir(d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* a RAM file system when there is one: extraction is most of the run time */
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	remove_stale(dir);
	snprintf(base, sizeof(base), "%s/tapir-fuzz-pxar-%d", dir, (int)getpid());
	tp_rm_rf(base, NULL);
	if (mkdir(base, 0700) < 0)
		abort();
	atexit(remove_base);
	snprintf(target, sizeof(target), "%s/t", base);
	snprintf(canary, sizeof(canary), "%s/canary", base);
	if (mkdir(canary, 0755) < 0)
		abort();
	tp_log_set_sink(quiet, NULL);
	return 0;
}

static void decode(const uint8_t *data, size_t size)
{
	struct src s = { data, size, 0 };
	tp_pxar_dec dec;
	const tp_pxar_entry *e;
	tp_err err;
	uint8_t buf[4096];
	tp_pxar_dec_init(&dec, src_read, &s, &err);
	int n = 0;
	while (tp_pxar_dec_next(&dec, &e, &err) > 0) {
		if (e->kind == TP_PXAR_KIND_FILE && (n++ & 1))
			while (tp_pxar_dec_read_payload(&dec, buf, sizeof(buf), &err) > 0)
				;
	}
	tp_pxar_dec_free(&dec);
}

static void lookups(const uint8_t *data, size_t size)
{
	tp_pxar_acc acc;
	tp_pxar_acc_dir root, sub;
	tp_pxar_acc_item *it = malloc(sizeof(*it));
	tp_err err;
	tp_pxar_acc_init_mem(&acc, data, size, &err);
	if (!it || tp_pxar_acc_root(&acc, &root, &err) < 0)
		goto out;
	for (size_t i = 0; i < root.n && i < 64; i++) {
		if (tp_pxar_acc_child(&acc, &root, i, it, &err) < 0)
			continue;
		tp_pxar_dec dec;
		const tp_pxar_entry *e;
		if (tp_pxar_acc_decode(&acc, it, &dec, &e, &err) > 0)
			tp_pxar_dec_free(&dec);
		if (tp_pxar_acc_open_dir(&acc, it, &sub, &err) == 0 && sub.n)
			tp_pxar_acc_child(&acc, &sub, 0, it, &err);
	}
	tp_pxar_acc_lookup_path(&acc, "bin/tool2", it, &err);
	tp_pxar_acc_lookup_path(&acc, "a.txt", it, &err);
out:
	free(it);
}

static void catalog(const uint8_t *data, size_t size)
{
	tp_pcat1 c;
	tp_err err;
	if (tp_pcat1_open(&c, data, size, &err) < 0)
		return;
	tp_buf out = TP_BUF_INIT;
	tp_pcat1_dump(&c, &out, &err);
	tp_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(data, size);
	lookups(data, size);
	catalog(data, size);
	struct src s = { data, size, 0 };
	tp_err err;
	tp_pxar_extract(src_read, &s, target, NULL, &err);
	cleanup();
	check_canary();
	return 0;
}
