/* `tapir tape key create|list|show|change-passphrase|paperkey|restore|remove`: tape encryption keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/paths.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "crypto/crypt_config.h"
#include "tape/tape_key.h"
#include "tape/tape_session.h"

#define USAGE                                                                                               \
	"tapir tape key create [--kdf scrypt|pbkdf2|none] [--hint H] | list | show FP | "                  \
	"change-passphrase FP [--kdf K] [--hint H] | paperkey FP | restore --key-config FILE|--drive D | "  \
	"remove FP [--force]"

static int parse_fp(const char *s, uint8_t fp[32], tp_err *err)
{
	if (tp_fingerprint_from_text(s, fp) < 0)
		return tp_err_set(err, -EINVAL, "invalid key fingerprint '%s' (32 hex bytes joined by ':')", s);
	return 0;
}

/* --kdf, default def; -1 when absent and def < 0. */
static int get_kdf(const tp_args *a, int def, tp_err *err)
{
	const char *s = tp_args_get(a, "kdf");
	if (!s)
		return def;
	int kdf = tp_kdf_parse(s);
	if (kdf < 0)
		return tp_err_set(err, -EINVAL, "invalid --kdf '%s' (scrypt, pbkdf2 or none)", s);
	return kdf;
}

static const char *env_pass(const char *name)
{
	const char *p = getenv(name);
	return p && *p ? p : NULL;
}

static json_t *info_json(const tp_tape_key_info *x)
{
	char t[TP_FINGERPRINT_TEXT_LEN];
	tp_fingerprint_text(x->fingerprint, t);
	json_t *o = json_pack("{s:s}", "fingerprint", t);
	if (!o)
		return NULL;
	if (x->has_config) {
		json_object_set_new(o, "kdf", json_string(tp_kdf_name(x->kdf)));
		json_object_set_new(o, "created", json_integer(x->created));
		json_object_set_new(o, "modified", json_integer(x->modified));
		if (x->has_hint)
			json_object_set_new(o, "hint", json_string(x->hint));
	}
	json_object_set_new(o, "key", json_boolean(x->has_key));
	json_object_set_new(o, "key-config", json_boolean(x->has_config));
	return o;
}

static const char *state_text(const tp_tape_key_info *x)
{
	if (!x->has_key)
		return "plain key missing (restore it)";
	if (!x->has_config)
		return "key config missing";
	return "ok";
}

static int key_create(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 0, 0, "tapir tape key create [--kdf scrypt|pbkdf2|none] [--hint H]", err);
	if (r < 0)
		return r;
	int kdf = get_kdf(a, TP_KDF_SCRYPT, err);
	if (kdf < 0)
		return kdf;
	const char *pass = env_pass(TP_KEY_PASSWORD_ENV);
	if (kdf != TP_KDF_NONE && !pass)
		return tp_err_set(err, -TP_EKEY, "tape key create: set the passphrase in %s", TP_KEY_PASSWORD_ENV);
	uint8_t fp[32];
	if ((r = tp_tape_key_create(kdf, pass, tp_args_get(a, "hint"), fp, err)) < 0)
		return r;
	char t[TP_FINGERPRINT_TEXT_LEN];
	tp_fingerprint_text(fp, t);
	if (a->out == TP_OUT_TEXT)
		printf("%s\n", t);
	else
		tp_print_json(a, json_pack("{s:s,s:s}", "fingerprint", t, "kdf", tp_kdf_name(kdf)));
	return 0;
}

static void print_info_text(const tp_tape_key_info *x)
{
	char t[TP_FINGERPRINT_TEXT_LEN], c[32] = "-", m[32] = "-";
	tp_fingerprint_text(x->fingerprint, t);
	if (x->has_config) {
		tp_time_local(x->created, c);
		tp_time_local(x->modified, m);
	}
	printf("fingerprint: %s\nkdf:         %s\ncreated:     %s\nmodified:    %s\nhint:        %s\nstate:       %s\n",
	       t, x->has_config ? tp_kdf_name(x->kdf) : "-", c, m, x->has_hint ? x->hint : "-", state_text(x));
}

static int key_list(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 0, 0, "tapir tape key list", err);
	if (r < 0)
		return r;
	tp_tape_key_info *v;
	size_t n;
	if ((r = tp_tape_key_list(&v, &n, err)) < 0)
		return r;
	if (a->out == TP_OUT_TEXT) {
		if (n)
			printf("%-95s %-6s %-25s %s\n", "FINGERPRINT", "KDF", "CREATED", "HINT");
		for (size_t i = 0; i < n; i++) {
			char t[TP_FINGERPRINT_TEXT_LEN], c[32] = "-";
			tp_fingerprint_text(v[i].fingerprint, t);
			if (v[i].has_config)
				tp_time_local(v[i].created, c);
			printf("%-95s %-6s %-25s %s%s%s\n", t, v[i].has_config ? tp_kdf_name(v[i].kdf) : "-", c,
			       v[i].has_hint ? v[i].hint : "", v[i].has_key && v[i].has_config ? "" : "  !",
			       v[i].has_key && v[i].has_config ? "" : state_text(&v[i]));
		}
	} else {
		json_t *arr = json_array();
		for (size_t i = 0; arr && i < n; i++)
			json_array_append_new(arr, info_json(&v[i]));
		tp_print_json(a, arr);
	}
	free(v);
	return 0;
}

static int key_show(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir tape key show FINGERPRINT", err);
	if (r < 0)
		return r;
	uint8_t fp[32];
	tp_tape_key_info x;
	if ((r = parse_fp(a->pos[0], fp, err)) < 0 || (r = tp_tape_key_show(fp, &x, err)) < 0)
		return r;
	if (a->out == TP_OUT_TEXT)
		print_info_text(&x);
	else
		tp_print_json(a, info_json(&x));
	return 0;
}

static int key_change(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir tape key change-passphrase FINGERPRINT [--kdf K] [--hint H]", err);
	if (r < 0)
		return r;
	uint8_t fp[32];
	if ((r = parse_fp(a->pos[0], fp, err)) < 0)
		return r;
	int kdf = get_kdf(a, -1, err);
	if (kdf < -1)
		return kdf;
	const char *old_pass = env_pass(TP_KEY_PASSWORD_ENV), *new_pass = env_pass(TP_NEW_KEY_PASSWORD_ENV);
	if (kdf != TP_KDF_NONE && !new_pass)
		return tp_err_set(err, -TP_EKEY, "tape key change-passphrase: set the new passphrase in %s",
				  TP_NEW_KEY_PASSWORD_ENV);
	if ((r = tp_tape_key_change_passphrase(fp, old_pass, new_pass, kdf, tp_args_get(a, "hint"), err)) < 0)
		return r;
	tp_tape_key_info x;
	if ((r = tp_tape_key_show(fp, &x, err)) < 0)
		return r;
	if (a->out == TP_OUT_TEXT)
		printf("changed the passphrase of tape encryption key %s (kdf %s)\n", a->pos[0], tp_kdf_name(x.kdf));
	else
		tp_print_json(a, info_json(&x));
	return 0;
}

static int key_paperkey(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir tape key paperkey FINGERPRINT", err);
	if (r < 0)
		return r;
	uint8_t fp[32];
	if ((r = parse_fp(a->pos[0], fp, err)) < 0)
		return r;
	if (a->out != TP_OUT_TEXT) {
		json_t *kc;
		if ((r = tp_tape_key_config(fp, &kc, err)) < 0)
			return r;
		tp_print_json(a, kc);
		return 0;
	}
	char *text;
	if ((r = tp_tape_key_paperkey(fp, &text, err)) < 0)
		return r;
	fputs(text, stdout);
	free(text);
	return 0;
}

/* Under the drive's session lock (a running job on the drive is named in the error). */
static int restore_from_drive(const char *drive, const char *pass, uint8_t fp[32], char *label, tp_err *err)
{
	tp_tape_session s;
	/* the session's lock directory (run/drive-lock) may not exist yet */
	char *ld = tp_run_path("drive-lock");
	if (!ld)
		return tp_err_set(err, -ENOMEM, "out of memory");
	int r = tp_mkdir_p(ld, 0700, err);
	free(ld);
	if (r < 0)
		return r;
	r = tp_tape_session_open(&s, drive, "tapir tape key restore", -1, err);
	if (r < 0)
		return r;
	r = tp_tape_key_restore_from_drive(s.drive, pass, fp, label, err);
	tp_tape_session_close(&s);
	return r;
}

static int key_restore(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 0, 0, "tapir tape key restore --key-config FILE | --drive DRIVE", err);
	if (r < 0)
		return r;
	const char *file = tp_args_get(a, "key-config"), *drive = tp_args_get(a, "drive");
	if (!file == !drive)
		return tp_err_set(err, -EINVAL, "tape key restore: give exactly one of --key-config FILE or --drive D");
	const char *pass = env_pass(TP_KEY_PASSWORD_ENV);
	uint8_t fp[32];
	char label[TP_DRIVE_LABEL_MAX + 1] = "";
	if (file) {
		tp_buf b = TP_BUF_INIT;
		json_t *kc = NULL;
		if ((r = tp_read_file(file, &b, TP_TAPE_KEYS_MAX_SIZE, err)) == 0 &&
		    (r = tp_tape_key_config_parse(b.data, b.len, file, &kc, err)) == 0)
			r = tp_tape_key_restore(kc, pass, NULL, fp, err);
		json_decref(kc);
		tp_buf_free(&b);
	} else {
		r = restore_from_drive(drive, pass, fp, label, err);
	}
	if (r < 0)
		return r;
	char t[TP_FINGERPRINT_TEXT_LEN];
	tp_fingerprint_text(fp, t);
	if (a->out == TP_OUT_TEXT) {
		if (drive)
			printf("restored tape encryption key %s from tape %s in drive %s\n", t, label, drive);
		else
			printf("restored tape encryption key %s from %s\n", t, file);
	} else {
		json_t *o = json_pack("{s:s}", "fingerprint", t);
		if (o && drive) {
			json_object_set_new(o, "drive", json_string(drive));
			json_object_set_new(o, "label-text", json_string(label));
		}
		tp_print_json(a, o);
	}
	return 0;
}

static int key_remove(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir tape key remove FINGERPRINT [--force]", err);
	if (r < 0)
		return r;
	uint8_t fp[32];
	if ((r = parse_fp(a->pos[0], fp, err)) < 0 || (r = tp_tape_key_remove(fp, tp_args_flag(a, "force"), err)) < 0)
		return r;
	if (a->out == TP_OUT_TEXT)
		printf("removed tape encryption key %s\n", a->pos[0]);
	else
		tp_print_json(a, json_pack("{s:s}", "removed", a->pos[0]));
	return 0;
}

int cmd_tape_key(int argc, char **argv, tp_err *err)
{
	static const char *const no_flags[] = { NULL }, *const force[] = { "force", NULL };
	static const struct {
		const char *name;
		int (*fn)(const tp_args *, tp_err *);
		const char *const allowed[3];
		const char *const *flags;
	} subs[] = {
		{ "create", key_create, { "kdf", "hint", NULL }, no_flags },
		{ "list", key_list, { NULL }, no_flags },
		{ "show", key_show, { NULL }, no_flags },
		{ "change-passphrase", key_change, { "kdf", "hint", NULL }, no_flags },
		{ "paperkey", key_paperkey, { NULL }, no_flags },
		{ "restore", key_restore, { "key-config", "drive", NULL }, no_flags },
		{ "remove", key_remove, { NULL }, force },
	};
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: " USAGE);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(argv[0], subs[i].name))
			continue;
		tp_args a;
		int r = tp_args_parse(&a, argc - 1, argv + 1, subs[i].allowed, subs[i].flags, err);
		if (r < 0)
			return r;
		return subs[i].fn(&a, err);
	}
	return tp_err_set(err, -EINVAL,
			  "unknown subcommand 'tape key %s' (create, list, show, change-passphrase, paperkey, restore, "
			  "remove)",
			  argv[0]);
}
