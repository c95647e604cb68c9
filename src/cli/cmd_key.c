/* `tapir key create|show`: PBS-compatible encryption key files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "crypto/crypt_config.h"
#include "crypto/keyfile.h"

static int key_create(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir key create FILE [--kdf none|scrypt|pbkdf2] [--hint TEXT]", err);
	if (r < 0)
		return r;
	const char *path = a->pos[0], *kdf_s = tp_args_get(a, "kdf"), *hint = tp_args_get(a, "hint");
	int kdf = kdf_s ? tp_kdf_parse(kdf_s) : TP_KDF_SCRYPT;
	if (kdf < 0)
		return tp_err_set(err, -EINVAL, "invalid --kdf '%s' (none, scrypt or pbkdf2)", kdf_s);
	const char *pass = NULL;
	if (kdf != TP_KDF_NONE) {
		pass = getenv(TP_KEY_PASSWORD_ENV);
		if (!pass || !*pass)
			return tp_err_set(err, -TP_EKEY,
					  "kdf %s needs a passphrase: set %s (or use --kdf none for an unprotected key)",
					  tp_kdf_name(kdf), TP_KEY_PASSWORD_ENV);
	}
	uint8_t fp[32];
	if ((r = tp_keyfile_create(path, kdf, pass, hint, fp, err)) < 0)
		return r;
	char fps[TP_FINGERPRINT_TEXT_LEN];
	tp_fingerprint_text(fp, fps);
	if (a->out == TP_OUT_TEXT)
		printf("created key file %s (kdf %s), fingerprint %s\n", path, tp_kdf_name(kdf), fps);
	else
		tp_print_json(a, json_pack("{s:s,s:s,s:s}", "path", path, "kdf", tp_kdf_name(kdf), "fingerprint", fps));
	return 0;
}

static int key_show(const tp_args *a, tp_err *err)
{
	int r = tp_args_need_pos(a, 1, 1, "tapir key show FILE", err);
	if (r < 0)
		return r;
	const char *path = a->pos[0];
	tp_key_config kc;
	if ((r = tp_keyfile_read_config(path, &kc, err)) < 0)
		return r;
	int have_fp = kc.has_fingerprint;
	uint8_t fp[32];
	memcpy(fp, kc.fingerprint, 32);
	if (!have_fp) {
		/* old key files carry no fingerprint: derive it from the key itself */
		uint8_t key[32];
		tp_crypt_config cc;
		const char *pass = getenv(TP_KEY_PASSWORD_ENV);
		if ((kc.kdf == TP_KDF_NONE || pass) && tp_key_config_decrypt(&kc, pass, key, err) == 0 &&
		    tp_crypt_config_init(&cc, key, err) == 0) {
			memcpy(fp, cc.fingerprint, 32);
			have_fp = 1;
			tp_crypt_config_clear(&cc);
		}
		memset(key, 0, sizeof(key));
		tp_err_clear(err);
	}
	char fps[TP_FINGERPRINT_TEXT_LEN], created[32], modified[32];
	if (have_fp)
		tp_fingerprint_text(fp, fps);
	tp_time_local(kc.created, created);
	tp_time_local(kc.modified, modified);
	if (a->out == TP_OUT_TEXT) {
		printf("path:        %s\nkdf:         %s\ncreated:     %s\nmodified:    %s\nfingerprint: %s\n",
		       path, tp_kdf_name(kc.kdf), created, modified, have_fp ? fps : "(unknown, passphrase needed)");
		if (kc.has_hint)
			printf("hint:        %s\n", kc.hint);
	} else {
		json_t *o = json_pack("{s:s,s:s,s:I,s:I}", "path", path, "kdf", tp_kdf_name(kc.kdf), "created",
				      (json_int_t)kc.created, "modified", (json_int_t)kc.modified);
		if (o && have_fp)
			json_object_set_new(o, "fingerprint", json_string(fps));
		if (o && kc.has_hint)
			json_object_set_new(o, "hint", json_string(kc.hint));
		tp_print_json(a, o);
	}
	tp_key_config_clear(&kc);
	return 0;
}

int cmd_key(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "kdf", "hint", NULL };
	static const char *const flags[] = { NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir key create|show FILE ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "create"))
		return key_create(&a, err);
	if (!strcmp(sub, "show")) {
		if (tp_args_get(&a, "kdf") || tp_args_get(&a, "hint"))
			return tp_err_set(err, -EINVAL, "key show takes no --kdf or --hint");
		return key_show(&a, err);
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'key %s' (create, show)", sub);
}
