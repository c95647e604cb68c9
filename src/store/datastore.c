/* Datastore (see datastore.h): layout, names and locks compatible with PBS. */
#include "store/datastore.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/paths.h"
#include "base/timefmt.h"

static int safe_id(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
		if (!alnum && (i == 0 || (c != '.' && c != '-')))
			return 0;
	}
	return 1;
}

int tp_valid_store_name(const char *name, tp_err *err)
{
	if (!safe_id(name, 3, TP_STORE_NAME_MAX))
		return tp_err_set(err, -EINVAL,
				  "invalid datastore name '%s' (3-32 characters [A-Za-z0-9_][A-Za-z0-9._-]*)", name);
	return 0;
}

int tp_valid_backup_type(const char *type, tp_err *err)
{
	if (strcmp(type, "vm") && strcmp(type, "ct") && strcmp(type, "host"))
		return tp_err_set(err, -EINVAL, "invalid backup type '%s' (expected vm, ct or host)", type);
	return 0;
}

int tp_valid_backup_id(const char *id, tp_err *err)
{
	if (!safe_id(id, 1, TP_BACKUP_ID_MAX))
		return tp_err_set(err, -EINVAL,
				  "invalid backup id '%s' (1-%d characters [A-Za-z0-9_][A-Za-z0-9._-]*)", id,
				  TP_BACKUP_ID_MAX);
	return 0;
}

int tp_valid_ns(const char *ns, tp_err *err)
{
	if (!*ns)
		return 0;
	if (strlen(ns) > TP_NS_MAX_LEN)
		return tp_err_set(err, -EINVAL, "namespace '%.40s...' is longer than %d characters", ns, TP_NS_MAX_LEN);
	int depth = 0;
	const char *p = ns;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char comp[TP_NS_MAX_LEN + 1];
		memcpy(comp, p, n);
		comp[n] = 0;
		if (!safe_id(comp, 1, 32))
			return tp_err_set(err, -EINVAL, "invalid namespace '%s': bad component '%s'", ns, comp);
		if (++depth > TP_NS_MAX_DEPTH)
			return tp_err_set(err, -EINVAL, "namespace '%s' is deeper than %d levels", ns, TP_NS_MAX_DEPTH);
		if (!e)
			break;
		p = e + 1;
		if (!*p)
			return tp_err_set(err, -EINVAL, "invalid namespace '%s': trailing '/'", ns);
	}
	return 0;
}

int tp_ns_depth(const char *ns)
{
	if (!*ns)
		return 0;
	int d = 1;
	for (; *ns; ns++)
		d += *ns == '/';
	return d;
}

void tp_ns_rel_path(const char *ns, char *out, size_t n)
{
	size_t o = 0;
	out[0] = 0;
	const char *p = ns;
	while (*p && o < n) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		o += (size_t)snprintf(out + o, n - o, "%sns/%.*s", o ? "/" : "", (int)len, p);
		if (!e)
			break;
		p = e + 1;
	}
}

void tp_group_ref_path(const tp_snapshot_ref *r, char *out, size_t n)
{
	char nsp[2 * TP_NS_MAX_LEN + 8];
	tp_ns_rel_path(r->ns, nsp, sizeof(nsp));
	snprintf(out, n, "%s%s%s/%s", nsp, nsp[0] ? "/" : "", r->type, r->id);
}

void tp_snapshot_ref_path(const tp_snapshot_ref *r, char *out, size_t n)
{
	char g[TP_SNAPSHOT_PATH_MAX], t[21];
	tp_group_ref_path(r, g, sizeof(g));
	tp_time_utc(r->time, t);
	snprintf(out, n, "%s/%s", g, t);
}

/* Parses the ns/A/ns/B/ prefix and the type/id (and time when want_time). */
static int parse_path(const char *path, tp_snapshot_ref *out, int want_time, tp_err *err)
{
	memset(out, 0, sizeof(*out));
	char buf[TP_SNAPSHOT_PATH_MAX + 1];
	if (strlen(path) > TP_SNAPSHOT_PATH_MAX)
		return tp_err_set(err, -EINVAL, "snapshot path too long: '%.60s...'", path);
	strcpy(buf, path);
	char *parts[2 * TP_NS_MAX_DEPTH + 8];
	int np = 0;
	char *save = NULL;
	size_t len = strlen(buf);
	if (len == 0 || buf[0] == '/' || buf[len - 1] == '/' || strstr(buf, "//"))
		return tp_err_set(err, -EINVAL, "malformed %s path '%s'", want_time ? "snapshot" : "group", path);
	for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (np >= (int)(sizeof(parts) / sizeof(parts[0])))
			return tp_err_set(err, -EINVAL, "malformed path '%s': too many components", path);
		parts[np++] = t;
	}
	int need = want_time ? 3 : 2;
	if (np < need || (np - need) % 2)
		return tp_err_set(err, -EINVAL, "malformed %s path '%s' (expected [ns/NAME/...]type/id%s)",
				  want_time ? "snapshot" : "group", path, want_time ? "/time" : "");
	size_t o = 0;
	for (int i = 0; i < np - need; i += 2) {
		if (strcmp(parts[i], "ns"))
			return tp_err_set(err, -EINVAL, "malformed path '%s': expected 'ns' before '%s'", path,
					  parts[i + 1]);
		o += (size_t)snprintf(out->ns + o, sizeof(out->ns) - o, "%s%s", o ? "/" : "", parts[i + 1]);
		if (o >= sizeof(out->ns))
			return tp_err_set(err, -EINVAL, "namespace too long in '%s'", path);
	}
	int r = tp_valid_ns(out->ns, err);
	if (r < 0)
		return r;
	const char *type = parts[np - need], *id = parts[np - need + 1];
	if ((r = tp_valid_backup_type(type, err)) < 0 || (r = tp_valid_backup_id(id, err)) < 0)
		return r;
	strcpy(out->type, type);
	strcpy(out->id, id);
	if (want_time && tp_time_parse_utc(parts[np - 1], &out->time) < 0)
		return tp_err_set(err, -EINVAL, "invalid backup time '%s' in '%s' (expected YYYY-MM-DDTHH:MM:SSZ)",
				  parts[np - 1], path);
	return 0;
}

int tp_snapshot_ref_parse(const char *path, tp_snapshot_ref *out, tp_err *err)
{
	return parse_path(path, out, 1, err);
}

int tp_group_ref_parse(const char *path, tp_snapshot_ref *out, tp_err *err)
{
	return parse_path(path, out, 0, err);
}

/* ---- configuration ---- */

static int config_lock(tp_lock *l, tp_err *err)
{
	char *p = tp_config_path(".datastore.lck");
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_lock_file(l, p, TP_LOCK_EXCLUSIVE, 10000, NULL, "datastore configuration", err);
	free(p);
	return r;
}

static json_t *config_load(tp_err *err)
{
	char *p = tp_config_path("datastore.json");
	if (!p) {
		tp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	json_t *j = tp_path_exists(p) ? tp_json_load_file(p, 1 << 20, err) : json_object();
	if (j && !json_is_object(j)) {
		tp_err_set(err, -TP_EFORMAT, "%s: expected a JSON object", p);
		json_decref(j);
		j = NULL;
	}
	free(p);
	return j;
}

json_t *tp_datastore_config_list(tp_err *err) { return config_load(err); }

int tp_datastore_lookup(const char *name, char **path_out, tp_err *err)
{
	int r = tp_valid_store_name(name, err);
	if (r < 0)
		return r;
	json_t *cfg = config_load(err);
	if (!cfg)
		return err ? err->code : -EIO;
	const char *path = tp_json_opt_str(json_object_get(cfg, name), "path");
	if (!path)
		r = tp_err_set(err, -TP_ENOTFOUND, "datastore '%s' does not exist", name);
	else if (!(*path_out = strdup(path)))
		r = tp_err_set(err, -ENOMEM, "out of memory");
	json_decref(cfg);
	return r;
}

int tp_datastore_create(const char *name, const char *path, int reuse, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	json_t *cfg = NULL;
	char *abs = NULL, *chunks = NULL;
	int r = tp_valid_store_name(name, err);
	if (r < 0)
		return r;
	if (path[0] != '/')
		return tp_err_set(err, -EINVAL, "datastore path '%s' must be absolute", path);
	r = config_lock(&l, err);
	if (r < 0)
		return r;
	cfg = config_load(err);
	if (!cfg) {
		r = err ? err->code : -EIO;
		goto out;
	}
	if (json_object_get(cfg, name)) {
		r = tp_err_set(err, -TP_EEXISTS, "datastore '%s' already exists", name);
		goto out;
	}
	chunks = tp_path_join(path, ".chunks");
	if (!chunks) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if (reuse) {
		if (!tp_is_dir(chunks)) {
			r = tp_err_set(err, -TP_ENOTFOUND, "%s is not a datastore (no .chunks directory)", path);
			goto out;
		}
	} else {
		if (tp_is_dir(path)) {
			DIR *d = opendir(path);
			int nonempty = 0;
			struct dirent *de;
			while (d && (de = readdir(d)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, "lost+found"))
					nonempty = 1;
			if (d)
				closedir(d);
			if (nonempty) {
				r = tp_err_set(err, -TP_EEXISTS,
					       "directory %s is not empty (use --reuse-datastore to adopt an existing datastore)",
					       path);
				goto out;
			}
		}
		r = tp_mkdir_p(path, 0750, err);
		if (r < 0)
			goto out;
		r = tp_chunk_store_create(path, err);
		if (r < 0)
			goto out;
	}
	json_object_set_new(cfg, name, json_pack("{s:s}", "path", path));
	abs = tp_config_path("datastore.json");
	r = abs ? tp_json_save_file(abs, cfg, 0640, err) : tp_err_set(err, -ENOMEM, "out of memory");
out:
	json_decref(cfg);
	free(abs);
	free(chunks);
	tp_lock_release(&l);
	return r;
}

int tp_datastore_remove_config(const char *name, tp_err *err)
{
	tp_lock l = TP_LOCK_INIT;
	int r = config_lock(&l, err);
	if (r < 0)
		return r;
	json_t *cfg = config_load(err);
	char *p = NULL;
	if (!cfg) {
		r = err ? err->code : -EIO;
		goto out;
	}
	if (json_object_del(cfg, name) < 0) {
		r = tp_err_set(err, -TP_ENOTFOUND, "datastore '%s' does not exist", name);
		goto out;
	}
	p = tp_config_path("datastore.json");
	r = tp_json_save_file(p, cfg, 0640, err);
out:
	free(p);
	json_decref(cfg);
	tp_lock_release(&l);
	return r;
}

int tp_datastore_open_path(tp_datastore *ds, const char *name, const char *path, tp_err *err)
{
	memset(ds, 0, sizeof(*ds));
	snprintf(ds->name, sizeof(ds->name), "%s", name);
	ds->base = strdup(path);
	if (!ds->base)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_chunk_store_open(&ds->cs, path, err);
	if (r < 0) {
		free(ds->base);
		ds->base = NULL;
		tp_err_wrap(err, r, "datastore '%s'", name);
	}
	return r;
}

int tp_datastore_open(tp_datastore *ds, const char *name, tp_err *err)
{
	char *path = NULL;
	int r = tp_datastore_lookup(name, &path, err);
	if (r < 0)
		return r;
	r = tp_datastore_open_path(ds, name, path, err);
	free(path);
	return r;
}

void tp_datastore_close(tp_datastore *ds)
{
	if (!ds->base)
		return;
	tp_chunk_store_close(&ds->cs);
	free(ds->base);
	ds->base = NULL;
}

char *tp_datastore_path(const tp_datastore *ds, const char *rel)
{
	return rel && *rel ? tp_path_join(ds->base, rel) : strdup(ds->base);
}

int tp_datastore_ns_exists(tp_datastore *ds, const char *ns)
{
	char rel[2 * TP_NS_MAX_LEN + 8];
	tp_ns_rel_path(ns, rel, sizeof(rel));
	char *p = tp_datastore_path(ds, rel);
	int e = p && tp_is_dir(p);
	free(p);
	return e;
}

int tp_datastore_ns_create(tp_datastore *ds, const char *ns, int parents, tp_err *err)
{
	int r = tp_valid_ns(ns, err);
	if (r < 0 || !*ns)
		return r;
	char parent[TP_NS_MAX_LEN + 1];
	snprintf(parent, sizeof(parent), "%s", ns);
	char *slash = strrchr(parent, '/');
	if (slash)
		*slash = 0;
	else
		parent[0] = 0;
	if (!tp_datastore_ns_exists(ds, parent)) {
		if (!parents)
			return tp_err_set(err, -TP_ENOTFOUND, "parent namespace '%s' does not exist in datastore '%s'",
					  parent, ds->name);
		r = tp_datastore_ns_create(ds, parent, 1, err);
		if (r < 0)
			return r;
	}
	char rel[2 * TP_NS_MAX_LEN + 8];
	tp_ns_rel_path(ns, rel, sizeof(rel));
	char *p = tp_datastore_path(ds, rel);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	r = tp_mkdir_p(p, 0755, err);
	free(p);
	return r;
}

static int read_owner_file(const char *path, char owner[TP_AUTHID_MAX + 1], tp_err *err)
{
	tp_buf b = TP_BUF_INIT;
	int r = tp_read_file(path, &b, 4096, err);
	if (r == 0) {
		size_t n = b.len;
		while (n && (b.data[n - 1] == '\n' || b.data[n - 1] == ' '))
			n--;
		if (n == 0 || n > TP_AUTHID_MAX)
			r = tp_err_set(err, -TP_EFORMAT, "%s: invalid owner", path);
		else {
			memcpy(owner, b.data, n);
			owner[n] = 0;
		}
	}
	tp_buf_free(&b);
	return r;
}

int tp_group_owner(tp_datastore *ds, const tp_snapshot_ref *group, char owner[TP_AUTHID_MAX + 1], tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX + 16];
	tp_group_ref_path(group, rel, sizeof(rel));
	strcat(rel, "/owner");
	char *p = tp_datastore_path(ds, rel);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r;
	if (!tp_path_exists(p))
		r = tp_err_set(err, -TP_ENOTFOUND, "backup group %s has no owner file", rel);
	else
		r = read_owner_file(p, owner, err);
	free(p);
	return r;
}

static int lock_dir(const char *path, int exclusive, const char *what, tp_lock *lock, tp_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return tp_err_errno(err, "open %s", path);
	int r = tp_lock_fd(lock, fd, exclusive ? TP_LOCK_EXCLUSIVE : TP_LOCK_SHARED, what, err);
	close(fd);
	return r;
}

int tp_group_create_locked(tp_datastore *ds, const tp_snapshot_ref *group, const char *owner,
			   char owner_out[TP_AUTHID_MAX + 1], tp_lock *lock, tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX], what[TP_SNAPSHOT_PATH_MAX + 64];
	char *gdir = NULL, *opath = NULL;
	int r = 0;
	lock->fd = -1;
	if (!tp_datastore_ns_exists(ds, group->ns))
		return tp_err_set(err, -TP_ENOTFOUND, "namespace '%s' does not exist in datastore '%s'", group->ns,
				  ds->name);
	tp_group_ref_path(group, rel, sizeof(rel));
	snprintf(what, sizeof(what), "backup group %s:%s", ds->name, rel);
	gdir = tp_datastore_path(ds, rel);
	opath = gdir ? tp_path_join(gdir, "owner") : NULL;
	if (!opath) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = tp_mkdir_p(gdir, 0755, err);
	if (r < 0)
		goto out;
	r = lock_dir(gdir, 1, what, lock, err);
	if (r < 0) {
		if (r == -TP_ELOCKED)
			tp_err_set(err, r, "%s is locked by another backup or restore", what);
		goto out;
	}
	int fd = open(opath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		char line[TP_AUTHID_MAX + 2];
		int n = snprintf(line, sizeof(line), "%s\n", owner);
		r = tp_write_all(fd, line, (size_t)n, err, opath);
		if (r == 0 && fsync(fd) < 0)
			r = tp_err_errno(err, "fsync %s", opath);
		close(fd);
		if (r < 0) {
			unlink(opath);
			goto out;
		}
		if (owner_out)
			snprintf(owner_out, TP_AUTHID_MAX + 1, "%s", owner);
	} else if (errno == EEXIST) {
		char cur[TP_AUTHID_MAX + 1];
		r = read_owner_file(opath, cur, err);
		if (r < 0)
			goto out;
		if (owner_out)
			strcpy(owner_out, cur);
	} else {
		r = tp_err_errno(err, "create %s", opath);
	}
out:
	if (r < 0)
		tp_lock_release(lock);
	free(gdir);
	free(opath);
	return r;
}

int tp_snapshot_lock(tp_datastore *ds, const tp_snapshot_ref *snap, int exclusive, tp_lock *lock, tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX], what[TP_SNAPSHOT_PATH_MAX + 32];
	tp_snapshot_ref_path(snap, rel, sizeof(rel));
	snprintf(what, sizeof(what), "snapshot %s:%s", ds->name, rel);
	char *p = tp_datastore_path(ds, rel);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_is_dir(p) ? lock_dir(p, exclusive, what, lock, err)
			     : tp_err_set(err, -TP_ENOTFOUND, "%s does not exist", what);
	free(p);
	return r;
}

int tp_snapshot_exists(tp_datastore *ds, const tp_snapshot_ref *snap, int *finished)
{
	char rel[TP_SNAPSHOT_PATH_MAX + 32];
	tp_snapshot_ref_path(snap, rel, sizeof(rel));
	char *p = tp_datastore_path(ds, rel);
	int e = p && tp_is_dir(p);
	if (finished) {
		*finished = 0;
		if (e) {
			strcat(rel, "/index.json.blob");
			char *m = tp_datastore_path(ds, rel);
			*finished = m && tp_path_exists(m);
			free(m);
		}
	}
	free(p);
	return e;
}

/* ---- listing ---- */

static int list_push(tp_snapshot_list *l, size_t *cap, const tp_snapshot_ref *r, int finished, int prot)
{
	if (l->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		tp_snapshot_ref *ni = realloc(l->items, nc * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		l->items = ni;
		unsigned char *nf = realloc(l->finished, nc);
		if (!nf)
			return -ENOMEM;
		l->finished = nf;
		unsigned char *np = realloc(l->protected_, nc);
		if (!np)
			return -ENOMEM;
		l->protected_ = np;
		*cap = nc;
	}
	l->items[l->n] = *r;
	l->finished[l->n] = (unsigned char)finished;
	l->protected_[l->n] = (unsigned char)prot;
	l->n++;
	return 0;
}

static int list_ns(tp_datastore *ds, const char *ns, int depth_left, tp_snapshot_list *l, size_t *cap,
		   tp_err *err)
{
	char nsrel[2 * TP_NS_MAX_LEN + 8];
	tp_ns_rel_path(ns, nsrel, sizeof(nsrel));
	char *nsdir = tp_datastore_path(ds, nsrel);
	if (!nsdir)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = 0;
	static const char *types[] = { "ct", "host", "vm" };
	for (int t = 0; t < 3 && r == 0; t++) {
		char *tdir = tp_path_join(nsdir, types[t]);
		DIR *d = tdir ? opendir(tdir) : NULL;
		struct dirent *de;
		while (d && r == 0 && (de = readdir(d))) {
			if (de->d_name[0] == '.' || tp_valid_backup_id(de->d_name, NULL) < 0)
				continue;
			char *gdir = tp_path_join(tdir, de->d_name);
			DIR *g = gdir ? opendir(gdir) : NULL;
			struct dirent *se;
			while (g && r == 0 && (se = readdir(g))) {
				tp_snapshot_ref ref;
				memset(&ref, 0, sizeof(ref));
				if (strlen(se->d_name) != 20 || tp_time_parse_utc(se->d_name, &ref.time) < 0)
					continue;
				snprintf(ref.ns, sizeof(ref.ns), "%s", ns);
				strcpy(ref.type, types[t]);
				snprintf(ref.id, sizeof(ref.id), "%s", de->d_name);
				char *sdir = tp_path_join(gdir, se->d_name);
				char *man = sdir ? tp_path_join(sdir, "index.json.blob") : NULL;
				char *prot = sdir ? tp_path_join(sdir, ".protected") : NULL;
				if (!man || !prot)
					r = tp_err_set(err, -ENOMEM, "out of memory");
				else if (list_push(l, cap, &ref, tp_path_exists(man), tp_path_exists(prot)) < 0)
					r = tp_err_set(err, -ENOMEM, "out of memory");
				free(sdir);
				free(man);
				free(prot);
			}
			if (g)
				closedir(g);
			free(gdir);
		}
		if (d)
			closedir(d);
		free(tdir);
	}
	if (r == 0 && depth_left != 0) {
		char *sub = tp_path_join(nsdir, "ns");
		DIR *d = sub ? opendir(sub) : NULL;
		struct dirent *de;
		while (d && r == 0 && (de = readdir(d))) {
			if (de->d_name[0] == '.' || !safe_id(de->d_name, 1, 32))
				continue;
			char child[TP_NS_MAX_LEN + 1];
			int n = snprintf(child, sizeof(child), "%s%s%s", ns, *ns ? "/" : "", de->d_name);
			if (n >= (int)sizeof(child) || tp_valid_ns(child, NULL) < 0)
				continue;
			r = list_ns(ds, child, depth_left > 0 ? depth_left - 1 : -1, l, cap, err);
		}
		if (d)
			closedir(d);
		free(sub);
	}
	free(nsdir);
	return r;
}

static int ref_cmp(const void *a, const void *b)
{
	const tp_snapshot_ref *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);
	if (!c) c = strcmp(x->type, y->type);
	if (!c) c = strcmp(x->id, y->id);
	if (!c) c = x->time < y->time ? -1 : x->time > y->time;
	return c;
}

int tp_datastore_list_snapshots(tp_datastore *ds, const char *ns, int max_depth, tp_snapshot_list *out,
				tp_err *err)
{
	memset(out, 0, sizeof(*out));
	size_t cap = 0;
	int r = tp_valid_ns(ns, err);
	if (r < 0)
		return r;
	if (!tp_datastore_ns_exists(ds, ns))
		return tp_err_set(err, -TP_ENOTFOUND, "namespace '%s' does not exist in datastore '%s'", ns, ds->name);
	r = list_ns(ds, ns, max_depth, out, &cap, err);
	if (r < 0) {
		tp_snapshot_list_free(out);
		return r;
	}
	/* sort items together with their flags */
	size_t n = out->n;
	struct row { tp_snapshot_ref ref; unsigned char f, p; } *rows = n ? malloc(n * sizeof(*rows)) : NULL;
	if (n && !rows) {
		tp_snapshot_list_free(out);
		return tp_err_set(err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		rows[i] = (struct row){ out->items[i], out->finished[i], out->protected_[i] };
	if (n)   /* qsort(NULL, 0) is undefined (UBSan) */
		qsort(rows, n, sizeof(*rows), ref_cmp); /* ref is the first member */
	for (size_t i = 0; i < n; i++) {
		out->items[i] = rows[i].ref;
		out->finished[i] = rows[i].f;
		out->protected_[i] = rows[i].p;
	}
	free(rows);
	return 0;
}

void tp_snapshot_list_free(tp_snapshot_list *l)
{
	free(l->items);
	free(l->finished);
	free(l->protected_);
	memset(l, 0, sizeof(*l));
}

/* ---- staging and publishing ---- */

int tp_datastore_staging_dir(tp_datastore *ds, const char *sub, char **path_out, tp_err *err)
{
	char *tmp = tp_datastore_path(ds, ".tmp");
	char *p = tmp ? tp_path_join(tmp, sub) : NULL;
	free(tmp);
	if (!p)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_mkdir_p(p, 0750, err);
	if (r < 0) {
		free(p);
		return r;
	}
	*path_out = p;
	return 0;
}

static int fsync_tree_files(const char *dir, tp_err *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return tp_err_errno(err, "open %s", dir);
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = tp_err_errno(err, "open %s/%s", dir, de->d_name);
			break;
		}
		if (fsync(fd) < 0)
			r = tp_err_errno(err, "fsync %s/%s", dir, de->d_name);
		close(fd);
	}
	closedir(d);
	if (r == 0)
		r = tp_fsync_dir(dir, err);
	return r;
}

int tp_snapshot_publish(tp_datastore *ds, const char *staged, const tp_snapshot_ref *snap, tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX];
	tp_snapshot_ref_path(snap, rel, sizeof(rel));
	char *dst = tp_datastore_path(ds, rel);
	if (!dst)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = fsync_tree_files(staged, err);
	if (r < 0)
		goto out;
	if (tp_path_exists(dst)) {
		r = tp_err_set(err, -TP_EEXISTS, "snapshot %s:%s already exists", ds->name, rel);
		goto out;
	}
	/* RENAME_NOREPLACE: a concurrent publisher cannot be overwritten */
	if (renameat2(AT_FDCWD, staged, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		if (errno == EEXIST)
			r = tp_err_set(err, -TP_EEXISTS, "snapshot %s:%s already exists", ds->name, rel);
		else
			r = tp_err_errno(err, "publish snapshot %s:%s", ds->name, rel);
		goto out;
	}
	r = tp_fsync_parent(dst, err);
out:
	free(dst);
	return r;
}

int tp_snapshot_remove(tp_datastore *ds, const tp_snapshot_ref *snap, tp_err *err)
{
	char rel[TP_SNAPSHOT_PATH_MAX];
	tp_snapshot_ref_path(snap, rel, sizeof(rel));
	tp_lock l = TP_LOCK_INIT;
	int r = tp_snapshot_lock(ds, snap, 1, &l, err);
	if (r < 0)
		return r;
	char *p = tp_datastore_path(ds, rel);
	char *prot = p ? tp_path_join(p, ".protected") : NULL;
	if (!prot)
		r = tp_err_set(err, -ENOMEM, "out of memory");
	else if (tp_path_exists(prot))
		r = tp_err_set(err, -EPERM, "snapshot %s:%s is protected", ds->name, rel);
	else
		r = tp_rm_rf(p, err);
	if (r == 0)
		r = tp_fsync_parent(p, err);
	free(prot);
	free(p);
	tp_lock_release(&l);
	return r;
}

int tp_authid_covers(const char *authid, const char *ugid)
{
	size_t n = strlen(authid);
	if (!strcmp(ugid, authid))
		return 1;
	return !strchr(authid, '!') && !strncmp(ugid, authid, n) && ugid[n] == '!';
}

int tp_owner_matches(const char *authid, const char *owner)
{
	if (!authid || !owner)
		return 0;
	return tp_authid_covers(owner, authid) || tp_authid_covers(authid, owner);
}
