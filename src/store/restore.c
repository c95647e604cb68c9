/* Restore of one archive (see restore.h). */
#include "store/restore.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "format/blob.h"
#include "format/manifest.h"
#include "store/archive_reader.h"
#include "store/pxar_extract.h"

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && !strcmp(s + a - b, suf);
}

static int dir_is_empty(const char *p)
{
	DIR *d = opendir(p);
	if (!d)
		return 0;
	struct dirent *de;
	int empty = 1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	closedir(d);
	return empty;
}

static int restore_image(tp_archive_reader *ar, const char *target, tp_err *err)
{
	char *tmp = tp_strdup_printf("%s.tmp_restore_%d", target, (int)getpid());
	uint8_t *buf = malloc(1 << 20);
	int r = 0, fd = -1;
	if (!tmp || !buf) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = tp_err_errno(err, "create %s", tmp);
		goto out;
	}
	for (;;) {
		long n = tp_archive_reader_read(ar, buf, 1 << 20, err);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		if ((r = tp_write_all(fd, buf, (size_t)n, err, tmp)) < 0)
			goto out;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		r = tp_err_errno(err, "sync %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, target) < 0)
		r = tp_err_errno(err, "rename %s to %s", tmp, target);
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp)
		unlink(tmp);
	free(tmp);
	free(buf);
	return r;
}

int tp_restore_archive(tp_datastore *ds, const tp_snapshot_ref *snap, const char *archive, const char *target,
		       const tp_crypt_config *cc, tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX], fname[300];
	char *dir = NULL, *mpath = NULL, *ipath = NULL;
	tp_buf b = TP_BUF_INIT;
	tp_manifest m;
	int have_m = 0, r, fin = 0;
	tp_snapshot_ref_path(snap, rel, sizeof(rel));
	if (ends_with(archive, ".pxar") || ends_with(archive, ".img"))
		snprintf(fname, sizeof(fname), "%s.%s", archive, ends_with(archive, ".pxar") ? "didx" : "fidx");
	else if (ends_with(archive, ".pxar.didx") || ends_with(archive, ".img.fidx"))
		snprintf(fname, sizeof(fname), "%s", archive);
	else
		return tp_err_set(err, -EINVAL, "archive '%s': expected NAME.pxar or NAME.img", archive);
	if ((r = tp_manifest_check_filename(fname, err)) < 0)
		return r;
	if (!tp_snapshot_exists(ds, snap, &fin) || !fin)
		return tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%s does not exist", ds->name, rel);
	dir = tp_datastore_path(ds, rel);
	mpath = dir ? tp_path_join(dir, TP_MANIFEST_NAME) : NULL;
	ipath = dir ? tp_path_join(dir, fname) : NULL;
	if (!ipath || !mpath) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = tp_read_file(mpath, &b, TP_BLOB_MAX_SIZE, err)) < 0 ||
	    (r = tp_manifest_decode_blob(&m, b.data, b.len, mpath, err)) < 0)
		goto out;
	have_m = 1;
	const tp_manifest_file *f = tp_manifest_find(&m, fname);
	if (!f) {
		r = tp_err_set(err, -TP_ENOTFOUND, "snapshot %s:%s has no archive %s", ds->name, rel, fname);
		goto out;
	}
	if (f->crypt_mode == TP_CRYPT_MODE_ENCRYPT && !cc) {
		r = tp_err_set(err, -TP_EKEY, "archive %s of %s is encrypted: give --keyfile", fname, rel);
		goto out;
	}
	if (cc && (r = tp_manifest_verify(&m, cc, err)) < 0)
		goto out;
	if (ends_with(fname, ".fidx") ? tp_path_exists(target) : (tp_path_exists(target) && !dir_is_empty(target))) {
		r = tp_err_set(err, -TP_EEXISTS, "restore target %s already exists%s", target,
			       ends_with(fname, ".fidx") ? "" : " and is not empty");
		goto out;
	}
	{
		char *parent = strdup(target), *slash = parent ? strrchr(parent, '/') : NULL;
		if (slash && slash != parent) {
			*slash = 0;
			r = tp_mkdir_p(parent, 0755, err);
		}
		free(parent);
		if (r < 0)
			goto out;
	}
	tp_archive_reader ar;
	if ((r = tp_archive_reader_open(&ar, &ds->cs, ipath, f->crypt_mode == TP_CRYPT_MODE_ENCRYPT ? cc : NULL, err)) < 0)
		goto out;
	uint8_t csum[32];
	r = ar.fixed ? tp_fidx_compute_csum(&ar.fidx, csum) : tp_didx_compute_csum(&ar.didx, csum);
	if (r == 0 && (memcmp(csum, f->csum, 32) || ar.size != f->size))
		r = tp_err_set(err, -TP_EDIGEST, "%s/%s: index does not match the manifest checksum", rel, fname);
	if (r == 0) {
		if (ar.fixed)
			r = restore_image(&ar, target, err);
		else
			r = tp_pxar_extract(tp_archive_reader_read_cb, &ar, target, NULL, err);
	}
	tp_archive_reader_close(&ar);
out:
	if (have_m)
		tp_manifest_free(&m);
	tp_buf_free(&b);
	free(dir);
	free(mpath);
	free(ipath);
	return r;
}
