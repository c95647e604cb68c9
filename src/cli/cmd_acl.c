/* `tapir acl update|list|roles`: the ACL tree (update and list through the API router, access/acl). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/acl.h"
#include "api/router.h"
#include "base/json_util.h"
#include "cli/args.h"
#include "cli/commands.h"

int cmd_acl(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "auth-id", "group", "propagate", "path", NULL };
	static const char *const flags[] = { "delete", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir acl update|list ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "update")) {
		static const char usage[] = "tapir acl update PATH ROLE --auth-id AUTHID [--propagate 0|1] [--delete]";
		if ((r = tp_args_need_pos(&a, 2, 2, usage, err)) < 0)
			return r;
		if (tp_args_get(&a, "group"))
			return tp_err_set(err, -EINVAL, "parameter 'group' - groups are currently not supported");
		const char *who = tp_args_get(&a, "auth-id");
		if (!who)
			return tp_err_set(err, -EINVAL, "missing --auth-id (usage: %s)", usage);
		const char *p = tp_args_get(&a, "propagate");
		int prop = 1;
		if (p && !strcmp(p, "0"))
			prop = 0;
		else if (p && strcmp(p, "1"))
			return tp_err_set(err, -EINVAL, "--propagate: expected 0 or 1, got '%s'", p);
		json_t *args = json_pack("{s:s,s:s,s:s,s:b,s:b}", "path", a.pos[0], "role", a.pos[1], "auth-id", who,
					 "propagate", prop, "delete", tp_args_flag(&a, "delete")),
		       *data = NULL;
		r = tp_api_call_route(TP_HTTP_PUT, "access/acl", NULL, args, &data, err);
		json_decref(args);
		json_decref(data);
		return r;
	}
	if (!strcmp(sub, "list")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir acl list [--path P]", err)) < 0)
			return r;
		const char *only = tp_args_get(&a, "path");
		json_t *args = only ? json_pack("{s:s,s:b}", "path", only, "exact", 1) : json_object(), *arr = NULL;
		r = tp_api_call_route(TP_HTTP_GET, "access/acl", NULL, args, &arr, err);
		json_decref(args);
		if (r < 0)
			return r;
		if (a.out != TP_OUT_TEXT) {
			tp_print_json(&a, arr);
			return 0;
		}
		size_t i;
		json_t *v;
		printf("%-32s %-40s %-9s %s\n", "path", "ugid", "propagate", "roleid");
		json_array_foreach(arr, i, v)
			printf("%-32s %-40s %-9d %s\n", tp_json_opt_str(v, "path"), tp_json_opt_str(v, "ugid"),
			       json_is_true(json_object_get(v, "propagate")), tp_json_opt_str(v, "roleid"));
		json_decref(arr);
		return 0;
	}
	if (!strcmp(sub, "roles")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir acl roles", err)) < 0)
			return r;
		json_t *arr = json_array();
		for (size_t i = 0; i < tp_role_count; i++) {
			json_t *privs = json_array();
			for (size_t k = 0; k < tp_priv_count; k++)
				if (tp_roles[i].privs & tp_privs[k].bit)
					json_array_append_new(privs, json_string(tp_privs[k].name));
			json_array_append_new(arr, json_pack("{s:s,s:o,s:s}", "roleid", tp_roles[i].name, "privs", privs,
							     "comment", tp_roles[i].comment));
		}
		if (a.out != TP_OUT_TEXT) {
			tp_print_json(&a, arr);
			return 0;
		}
		for (size_t i = 0; i < tp_role_count; i++) {
			char names[1024];
			tp_privs_format(tp_roles[i].privs, names, sizeof(names));
			printf("%-26s %s\n", tp_roles[i].name, names);
		}
		json_decref(arr);
		return 0;
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'acl %s' (update, list, roles)", sub);
}
