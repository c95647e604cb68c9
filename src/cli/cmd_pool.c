/* `tapir pool create|list|update|remove`: media pool configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "tape/inventory.h"
#include "tape/pool_config.h"

/* Applies the options given on the command line to cfg. */
static int apply_options(const tp_args *a, tp_pool_config *cfg, tp_err *err)
{
	const char *v;
	int r = 0;
	if ((v = tp_args_get(a, "allocation")) && (r = tp_pool_set_allocation(cfg, v, err)) < 0)
		return r;
	if ((v = tp_args_get(a, "retention")) && (r = tp_pool_set_retention(cfg, v, err)) < 0)
		return r;
	if ((v = tp_args_get(a, "template")) && (r = tp_pool_set_template(cfg, v, err)) < 0)
		return r;
	if ((v = tp_args_get(a, "encrypt")) && (r = tp_pool_set_encrypt(cfg, v, err)) < 0)
		return r;
	if ((v = tp_args_get(a, "comment")) && (r = tp_pool_set_comment(cfg, v, err)) < 0)
		return r;
	return 0;
}

static int pool_remove(const tp_args *a, tp_err *err)
{
	const char *name = a->pos[0];
	tp_pool_config cfg;
	int r = tp_pool_config_get(name, &cfg, err);
	if (r < 0)
		return r;
	if (!tp_args_flag(a, "force")) {
		/* removing the config of a pool with tapes would orphan their retention policy */
		tp_inventory inv;
		if ((r = tp_inventory_open(&inv, NULL, NULL, err)) < 0)
			return r;
		size_t count = 0;
		const char *first = NULL;
		for (size_t i = 0; i < inv.n; i++) {
			const char *p = tp_inventory_entry_pool(&inv.e[i]);
			if (p && !strcmp(p, name)) {
				if (!count)
					first = inv.e[i].label.label_text;
				count++;
			}
		}
		if (count)
			r = tp_err_set(err, -EBUSY, "media pool '%s' still has %zu tape(s) (e.g. '%s'); destroy them or use --force",
				       name, count, first);
		tp_inventory_close(&inv);
		if (r < 0)
			return r;
	}
	return tp_pool_config_remove(name, err);
}

int cmd_pool(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "allocation", "retention", "template", "encrypt", "comment", "delete", NULL };
	static const char *const flags[] = { "force", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir pool create|list|update|remove ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	tp_pool_config cfg;
	if (!strcmp(sub, "create")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir pool create NAME [--allocation continue|always|CALENDAR] "
						    "[--retention keep|overwrite|SPAN] [--template T] [--encrypt FINGERPRINT] [--comment C]",
					  err)) < 0)
			return r;
		if (tp_args_get(&a, "delete"))
			return tp_err_set(err, -EINVAL, "--delete is only for 'pool update'");
		if ((r = tp_pool_config_init(&cfg, a.pos[0], err)) < 0 || (r = apply_options(&a, &cfg, err)) < 0 ||
		    (r = tp_pool_config_create(&cfg, err)) < 0)
			return r;
		if (a.out == TP_OUT_TEXT)
			printf("created media pool '%s'\n", cfg.name);
		return 0;
	}
	if (!strcmp(sub, "update")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir pool update NAME [--allocation A] [--retention R] [--template T] "
						    "[--encrypt FP] [--comment C] [--delete template|encrypt|comment]",
					  err)) < 0)
			return r;
		if ((r = tp_pool_config_get(a.pos[0], &cfg, err)) < 0)
			return r;
		const char *del[8];
		int nd = tp_args_get_all(&a, "delete", del, 8);
		for (int i = 0; i < nd; i++) {
			if (!strcmp(del[i], "template"))
				cfg.template_[0] = 0;
			else if (!strcmp(del[i], "encrypt"))
				tp_pool_set_encrypt(&cfg, NULL, NULL);
			else if (!strcmp(del[i], "comment"))
				cfg.comment[0] = 0;
			else if (!strcmp(del[i], "allocation"))
				tp_pool_set_allocation(&cfg, "continue", NULL);
			else if (!strcmp(del[i], "retention"))
				tp_pool_set_retention(&cfg, "keep", NULL);
			else
				return tp_err_set(err, -EINVAL, "--delete: unknown property '%s' (allocation, retention, template, encrypt, comment)",
						  del[i]);
		}
		if ((r = apply_options(&a, &cfg, err)) < 0)
			return r;
		return tp_pool_config_update(&cfg, err);
	}
	if (!strcmp(sub, "remove")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir pool remove NAME [--force]", err)) < 0)
			return r;
		return pool_remove(&a, err);
	}
	if (!strcmp(sub, "list") || !strcmp(sub, "config")) {
		int one = !strcmp(sub, "config");
		if ((r = tp_args_need_pos(&a, one, one, one ? "tapir pool config NAME" : "tapir pool list", err)) < 0)
			return r;
		tp_pool_config *list = NULL;
		size_t n = 0;
		if (one) {
			if ((r = tp_pool_config_get(a.pos[0], &cfg, err)) < 0)
				return r;
			list = &cfg;
			n = 1;
		} else if ((r = tp_pool_config_list(&list, &n, err)) < 0) {
			return r;
		}
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *o = tp_pool_config_to_json(&list[i]);
			json_t *row = json_pack("{s:s}", "name", list[i].name);
			if (o && row)
				json_object_update(row, o);
			json_decref(o);
			json_array_append_new(arr, row);
		}
		if (a.out == TP_OUT_TEXT) {
			if (one) {
				printf("name:       %s\nallocation: %s\nretention:  %s\n", cfg.name, cfg.allocation_text,
				       cfg.retention_text);
				if (cfg.template_[0])
					printf("template:   %s\n", cfg.template_);
				if (cfg.has_encrypt)
					printf("encrypt:    %s\n", tp_json_opt_str(json_array_get(arr, 0), "encrypt"));
				if (cfg.comment[0])
					printf("comment:    %s\n", cfg.comment);
			} else {
				printf("%-20s %-20s %-12s %s\n", "name", "allocation", "retention", "encrypt");
				for (size_t i = 0; i < n; i++)
					printf("%-20s %-20s %-12s %s\n", list[i].name, list[i].allocation_text,
					       list[i].retention_text, list[i].has_encrypt ? "yes" : "-");
			}
			json_decref(arr);
		} else {
			tp_print_json(&a, arr);
		}
		if (!one)
			free(list);
		return 0;
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'pool %s' (create, list, config, update, remove)", sub);
}
