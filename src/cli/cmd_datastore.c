/* `tapir datastore create|list|remove`: datastore configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "store/datastore.h"

int cmd_datastore(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { NULL };
	static const char *const flags[] = { "reuse-datastore", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir datastore create|list|remove ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "create")) {
		if ((r = tp_args_need_pos(&a, 2, 2, "tapir datastore create NAME PATH [--reuse-datastore]", err)) < 0)
			return r;
		r = tp_datastore_create(a.pos[0], a.pos[1], tp_args_flag(&a, "reuse-datastore"), err);
		if (r == 0 && a.out == TP_OUT_TEXT)
			printf("created datastore '%s' at %s\n", a.pos[0], a.pos[1]);
		return r;
	}
	if (!strcmp(sub, "list")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir datastore list", err)) < 0)
			return r;
		json_t *cfg = tp_datastore_config_list(err);
		if (!cfg)
			return err->code;
		json_t *arr = json_array();
		const char *k;
		json_t *v;
		json_object_foreach(cfg, k, v) {
			json_array_append_new(arr, json_pack("{s:s,s:s}", "name", k, "path", tp_json_opt_str(v, "path")));
		}
		json_decref(cfg);
		if (a.out == TP_OUT_TEXT) {
			size_t i;
			json_array_foreach(arr, i, v)
				printf("%-20s %s\n", tp_json_opt_str(v, "name"), tp_json_opt_str(v, "path"));
			json_decref(arr);
		} else {
			tp_print_json(&a, arr);
		}
		return 0;
	}
	if (!strcmp(sub, "remove")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir datastore remove NAME", err)) < 0)
			return r;
		return tp_datastore_remove_config(a.pos[0], err);
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'datastore %s' (create, list, remove)", sub);
}
