/* Media pool configuration (see pool_config.h). */
#include "tape/pool_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/fsutil.h"
#include "base/json_util.h"
#include "base/lock.h"
#include "base/paths.h"

#define CONFIG_MAX (4u << 20)
#define LOCK_TIMEOUT_MS 10000

int tp_pool_valid_name(const char *name, tp_err *err)
{
	size_t n = strlen(name);
	int okc = n >= 2 && n <= 32 && (isalnum((unsigned char)name[0]) || name[0] == '_');
	for (size_t i = 1; okc && i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		okc = isalnum(c) || c == '_' || c == '.' || c == '-';
	}
	if (!okc)
		return tp_err_set(err, -EINVAL,
				  "invalid media pool name '%.64s' (2-32 characters [A-Za-z0-9_][A-Za-z0-9._-]*)", name);
	return 0;
}

int tp_pool_config_init(tp_pool_config *cfg, const char *name, tp_err *err)
{
	memset(cfg, 0, sizeof(*cfg));
	int r = tp_pool_valid_name(name, err);
	if (r < 0)
		return r;
	snprintf(cfg->name, sizeof(cfg->name), "%s", name);
	cfg->allocation = TP_POOL_ALLOC_CONTINUE;
	snprintf(cfg->allocation_text, sizeof(cfg->allocation_text), "continue");
	cfg->retention = TP_POOL_RETAIN_KEEP;
	snprintf(cfg->retention_text, sizeof(cfg->retention_text), "keep");
	return 0;
}

int tp_pool_set_allocation(tp_pool_config *cfg, const char *text, tp_err *err)
{
	if (strlen(text) >= sizeof(cfg->allocation_text))
		return tp_err_set(err, -EINVAL, "invalid allocation policy '%.64s...': too long", text);
	if (!strcmp(text, "continue")) {
		cfg->allocation = TP_POOL_ALLOC_CONTINUE;
	} else if (!strcmp(text, "always")) {
		cfg->allocation = TP_POOL_ALLOC_ALWAYS;
	} else {
		tp_calendar_event ev;
		int r = tp_calendar_parse(text, &ev, err);
		if (r < 0)
			return tp_err_wrap(err, r, "invalid allocation policy (continue, always or a calendar event)");
		cfg->allocation = TP_POOL_ALLOC_CALENDAR;
		cfg->event = ev;
	}
	snprintf(cfg->allocation_text, sizeof(cfg->allocation_text), "%s", text);
	return 0;
}

int tp_pool_set_retention(tp_pool_config *cfg, const char *text, tp_err *err)
{
	if (strlen(text) >= sizeof(cfg->retention_text))
		return tp_err_set(err, -EINVAL, "invalid retention policy '%.40s...': too long", text);
	if (!strcmp(text, "keep")) {
		cfg->retention = TP_POOL_RETAIN_KEEP;
		cfg->retention_secs = 0;
	} else if (!strcmp(text, "overwrite")) {
		cfg->retention = TP_POOL_RETAIN_OVERWRITE;
		cfg->retention_secs = 0;
	} else {
		int64_t secs;
		int r = tp_timespan_parse(text, &secs, err);
		if (r < 0)
			return tp_err_wrap(err, r, "invalid retention policy (keep, overwrite or a time span)");
		cfg->retention = TP_POOL_RETAIN_SPAN;
		cfg->retention_secs = secs;
	}
	snprintf(cfg->retention_text, sizeof(cfg->retention_text), "%s", text);
	return 0;
}

static int printable(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int tp_pool_set_template(tp_pool_config *cfg, const char *text, tp_err *err)
{
	if (!printable(text, TP_POOL_TEMPLATE_MAX) || strchr(text, '/'))
		return tp_err_set(err, -EINVAL,
				  "invalid media set template '%.64s' (at most %d printable characters, no '/')", text,
				  TP_POOL_TEMPLATE_MAX);
	snprintf(cfg->template_, sizeof(cfg->template_), "%s", text);
	return 0;
}

int tp_pool_set_encrypt(tp_pool_config *cfg, const char *fingerprint, tp_err *err)
{
	if (!fingerprint || !*fingerprint) {
		cfg->has_encrypt = 0;
		memset(cfg->encrypt, 0, sizeof(cfg->encrypt));
		return 0;
	}
	if (tp_fingerprint_parse(fingerprint, cfg->encrypt) < 0)
		return tp_err_set(err, -EINVAL, "invalid key fingerprint '%.100s' (32 hex bytes 'aa:bb:...')",
				  fingerprint);
	cfg->has_encrypt = 1;
	return 0;
}

int tp_pool_set_comment(tp_pool_config *cfg, const char *text, tp_err *err)
{
	if (!printable(text, TP_POOL_COMMENT_MAX))
		return tp_err_set(err, -EINVAL, "invalid comment (at most %d printable characters)",
				  TP_POOL_COMMENT_MAX);
	snprintf(cfg->comment, sizeof(cfg->comment), "%s", text);
	return 0;
}

json_t *tp_pool_config_to_json(const tp_pool_config *cfg)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = json_object_set_new(o, "allocation", json_string(cfg->allocation_text)) ||
		  json_object_set_new(o, "retention", json_string(cfg->retention_text));
	if (!bad && cfg->template_[0])
		bad = json_object_set_new(o, "template", json_string(cfg->template_));
	if (!bad && cfg->has_encrypt) {
		char fp[96];
		tp_fingerprint_unparse(cfg->encrypt, fp);
		bad = json_object_set_new(o, "encrypt", json_string(fp));
	}
	if (!bad && cfg->comment[0])
		bad = json_object_set_new(o, "comment", json_string(cfg->comment));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int opt_string(const json_t *j, const char *key, const char **out, const char *name, tp_err *err)
{
	json_t *v = json_object_get(j, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return tp_err_set(err, -TP_EFORMAT, "media pool '%s': \"%s\" is not a string", name, key);
	*out = json_string_value(v);
	return 0;
}

int tp_pool_config_from_json(const char *name, const json_t *j, tp_pool_config *cfg, tp_err *err)
{
	int r = tp_pool_config_init(cfg, name, err);
	if (r < 0)
		return r;
	if (!json_is_object(j))
		return tp_err_set(err, -TP_EFORMAT, "media pool '%s': configuration is not an object", name);
	const char *s;
	if ((r = opt_string(j, "allocation", &s, name, err)) < 0 || (s && (r = tp_pool_set_allocation(cfg, s, err)) < 0) ||
	    (r = opt_string(j, "retention", &s, name, err)) < 0 || (s && (r = tp_pool_set_retention(cfg, s, err)) < 0) ||
	    (r = opt_string(j, "template", &s, name, err)) < 0 || (s && (r = tp_pool_set_template(cfg, s, err)) < 0) ||
	    (r = opt_string(j, "encrypt", &s, name, err)) < 0 || (s && (r = tp_pool_set_encrypt(cfg, s, err)) < 0) ||
	    (r = opt_string(j, "comment", &s, name, err)) < 0 || (s && (r = tp_pool_set_comment(cfg, s, err)) < 0))
		return tp_err_wrap(err, r < -1 ? r : -TP_EFORMAT, "media pool '%s'", name);
	return 0;
}

static json_t *config_load(const char *path, tp_err *err)
{
	if (!tp_path_exists(path))
		return json_object();
	json_t *j = tp_json_load_file(path, CONFIG_MAX, err);
	if (j && !json_is_object(j)) {
		json_decref(j);
		tp_err_set(err, -TP_EFORMAT, "%s: not a JSON object", path);
		return NULL;
	}
	return j;
}

int tp_pool_config_get(const char *name, tp_pool_config *cfg, tp_err *err)
{
	int r = tp_pool_valid_name(name, err);
	if (r < 0)
		return r;
	char *path = tp_config_path("media-pool.json");
	if (!path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	json_t *all = config_load(path, err);
	free(path);
	if (!all)
		return err ? err->code : -EIO;
	json_t *j = json_object_get(all, name);
	if (!j)
		r = tp_err_set(err, -TP_ENOTFOUND, "media pool '%s' does not exist", name);
	else
		r = tp_pool_config_from_json(name, j, cfg, err);
	json_decref(all);
	return r;
}

static int cmp_pool(const void *a, const void *b)
{
	return strcmp(((const tp_pool_config *)a)->name, ((const tp_pool_config *)b)->name);
}

int tp_pool_config_list(tp_pool_config **out, size_t *n, tp_err *err)
{
	*out = NULL;
	*n = 0;
	char *path = tp_config_path("media-pool.json");
	if (!path)
		return tp_err_set(err, -ENOMEM, "out of memory");
	json_t *all = config_load(path, err);
	free(path);
	if (!all)
		return err ? err->code : -EIO;
	int r = 0;
	size_t cnt = json_object_size(all);
	tp_pool_config *list = cnt ? calloc(cnt, sizeof(*list)) : NULL;
	if (cnt && !list) {
		r = tp_err_set(err, -ENOMEM, "out of memory listing media pools");
		goto out;
	}
	const char *k;
	json_t *v;
	size_t i = 0;
	json_object_foreach(all, k, v) {
		if ((r = tp_pool_config_from_json(k, v, &list[i], err)) < 0)
			goto out;
		i++;
	}
	if (cnt > 1)
		qsort(list, cnt, sizeof(*list), cmp_pool);
	*out = list;
	*n = cnt;
	list = NULL;
out:
	free(list);
	json_decref(all);
	return r;
}

/* Locked read-modify-write of the config file; op 0 create, 1 update, 2 remove. */
static int config_change(const tp_pool_config *cfg, const char *name, int op, tp_err *err)
{
	int r = tp_pool_valid_name(name, err);
	if (r < 0)
		return r;
	char *path = tp_config_path("media-pool.json");
	char *lockp = tp_config_path(".media-pool.lck");
	tp_lock lk = TP_LOCK_INIT;
	json_t *all = NULL;
	if (!path || !lockp) {
		r = tp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	if ((r = tp_lock_file(&lk, lockp, TP_LOCK_EXCLUSIVE, LOCK_TIMEOUT_MS, NULL, "media pool configuration", err)) < 0)
		goto out;
	if (!(all = config_load(path, err))) {
		r = err ? err->code : -EIO;
		goto out;
	}
	int exists = json_object_get(all, name) != NULL;
	if (op == 0 && exists) {
		r = tp_err_set(err, -TP_EEXISTS, "media pool '%s' already exists", name);
		goto out;
	}
	if (op != 0 && !exists) {
		r = tp_err_set(err, -TP_ENOTFOUND, "media pool '%s' does not exist", name);
		goto out;
	}
	if (op == 2) {
		json_object_del(all, name);
	} else {
		json_t *j = tp_pool_config_to_json(cfg);
		if (!j || json_object_set_new(all, name, j) < 0) {
			r = tp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	r = tp_json_save_file(path, all, 0640, err);
out:
	json_decref(all);
	tp_lock_release(&lk);
	free(path);
	free(lockp);
	return r;
}

int tp_pool_config_create(const tp_pool_config *cfg, tp_err *err) { return config_change(cfg, cfg->name, 0, err); }
int tp_pool_config_update(const tp_pool_config *cfg, tp_err *err) { return config_change(cfg, cfg->name, 1, err); }
int tp_pool_config_remove(const char *name, tp_err *err) { return config_change(NULL, name, 2, err); }

void tp_pool_media_set_name(const tp_pool_config *cfg, const uint8_t set_uuid[16], int64_t ctime, char *out,
			    size_t n)
{
	char fmt[512], u[37];
	tp_uuid_unparse(set_uuid, u);
	if (cfg->template_[0]) {
		size_t o = 0;
		for (const char *p = cfg->template_; *p && o + 40 < sizeof(fmt);) {
			if (!strncmp(p, "%id%", 4)) {
				o += (size_t)snprintf(fmt + o, sizeof(fmt) - o, "%s", u);
				p += 4;
			} else {
				fmt[o++] = *p++;
			}
		}
		fmt[o] = 0;
	} else {
		snprintf(fmt, sizeof(fmt), "%s %%Y-%%m-%%d %%H:%%M:%%S", cfg->name);
	}
	time_t t = (time_t)ctime;
	struct tm tm;
	localtime_r(&t, &tm);
	if (n == 0)
		return;
	if (strftime(out, n, fmt, &tm) == 0)
		snprintf(out, n, "%s", u);
}
