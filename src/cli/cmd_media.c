/* `tapir media list|content|destroy` and `tapir media-set list`: tapes, their sets and catalogued content (through the API router, tape/media/...). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"
#include "base/timefmt.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "api/router.h"
#include "format/media_label.h"

/* Calls the route with args (stolen): *out receives the data. */
static int call(enum tp_http_method m, const char *route, json_t *args, json_t **out, tp_err *err)
{
	int r = tp_api_call_route(m, route, NULL, args, out, err);
	json_decref(args);
	return r;
}

/* args with the string options of keys that are given. */
static json_t *opts(const tp_args *a, const char *const *keys)
{
	json_t *o = json_object();
	for (; *keys; keys++)
		if (tp_args_get(a, *keys))
			json_object_set_new(o, *keys, json_string(tp_args_get(a, *keys)));
	return o;
}

static int media_list(const tp_args *a, tp_err *err)
{
	json_t *arr;
	int r = call(TP_HTTP_GET, "tape/media/list", opts(a, (const char *const[]){ "pool", NULL }), &arr, err);
	if (r < 0)
		return r;
	if (a->out != TP_OUT_TEXT) {
		tp_print_json(a, arr);
		return 0;
	}
	printf("%-16s %-36s %-12s %-36s %-4s %-9s %-16s %s\n", "label-text", "uuid", "pool", "media-set", "seq", "status",
	       "location", "expire-time");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v) {
		const char *set = tp_json_opt_str(v, "media-set-uuid");
		char seq[24] = "-";
		if (set)
			snprintf(seq, sizeof(seq), "%lld", (long long)tp_json_opt_int(v, "seq-nr", 0));
		const char *exp = tp_json_opt_str(v, "expire-time");
		printf("%-16s %-36s %-12s %-36s %-4s %-9s %-16s %s%s\n", tp_json_opt_str(v, "label-text"),
		       tp_json_opt_str(v, "uuid"), tp_json_opt_str(v, "pool") ? tp_json_opt_str(v, "pool") : "-",
		       set ? set : "-", seq, tp_json_opt_str(v, "status"), tp_json_opt_str(v, "location"),
		       exp ? exp : "never", json_is_true(json_object_get(v, "expired")) ? " (expired)" : "");
	}
	json_decref(arr);
	return 0;
}

static int media_content(const tp_args *a, tp_err *err)
{
	json_t *arr;
	int r = call(TP_HTTP_GET, "tape/media/content", opts(a, (const char *const[]){ "pool", "media-set", NULL }), &arr,
		     err);
	if (r < 0)
		return r;
	if (a->out != TP_OUT_TEXT) {
		tp_print_json(a, arr);
		return 0;
	}
	printf("%-16s %-4s %-12s %-36s %-5s %-16s %s\n", "label-text", "seq", "pool", "media-set", "file", "store",
	       "snapshot");
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		printf("%-16s %-4lld %-12s %-36s %-5lld %-16s %s\n", tp_json_opt_str(v, "label-text"),
		       (long long)tp_json_opt_int(v, "seq-nr", 0), tp_json_opt_str(v, "pool"),
		       tp_json_opt_str(v, "media-set-uuid"), (long long)tp_json_opt_int(v, "file-nr", 0),
		       tp_json_opt_str(v, "store"), tp_json_opt_str(v, "snapshot"));
	json_decref(arr);
	return 0;
}

/* LABEL|UUID: tried as a label first, then as a uuid (a label may look like one). */
static int media_destroy(const tp_args *a, tp_err *err)
{
	const char *which = a->pos[0];
	int force = tp_args_flag(a, "force");
	json_t *data = NULL;
	int r = call(TP_HTTP_POST, "tape/media/destroy", json_pack("{s:s,s:b}", "label-text", which, "force", force),
		     &data, err);
	uint8_t u[16];
	if ((r == -TP_ENOTFOUND || r == -EINVAL) && tp_uuid_parse(which, u) == 0) {
		tp_err e2 = { 0 };
		int r2 = call(TP_HTTP_POST, "tape/media/destroy", json_pack("{s:s,s:b}", "uuid", which, "force", force),
			      &data, &e2);
		/* the label's "not in the inventory" stands unless the uuid says more */
		if (r2 != -TP_ENOTFOUND || r == -EINVAL) {
			r = r2;
			*err = e2;
		}
	}
	if (r == 0 && a->out == TP_OUT_TEXT)
		printf("removed media '%s'\n", tp_json_opt_str(data, "label-text") ? tp_json_opt_str(data, "label-text") : which);
	json_decref(data);
	return r;
}

int cmd_media(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "pool", "media-set", NULL };
	static const char *const flags[] = { "force", NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir media list|content|destroy ...");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (!strcmp(sub, "list")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir media list [--pool P]", err)) < 0)
			return r;
		return media_list(&a, err);
	}
	if (!strcmp(sub, "content")) {
		if ((r = tp_args_need_pos(&a, 0, 0, "tapir media content [--pool P] [--media-set UUID]", err)) < 0)
			return r;
		return media_content(&a, err);
	}
	if (!strcmp(sub, "destroy")) {
		if ((r = tp_args_need_pos(&a, 1, 1, "tapir media destroy LABEL|UUID [--force]", err)) < 0)
			return r;
		return media_destroy(&a, err);
	}
	return tp_err_set(err, -EINVAL, "unknown subcommand 'media %s' (list, content, destroy)", sub);
}

int cmd_media_set(int argc, char **argv, tp_err *err)
{
	static const char *const allowed[] = { "pool", NULL };
	static const char *const flags[] = { NULL };
	tp_args a;
	if (argc < 1)
		return tp_err_set(err, -EINVAL, "usage: tapir media-set list [--pool P]");
	const char *sub = argv[0];
	int r = tp_args_parse(&a, argc - 1, argv + 1, allowed, flags, err);
	if (r < 0)
		return r;
	if (strcmp(sub, "list"))
		return tp_err_set(err, -EINVAL, "unknown subcommand 'media-set %s' (list)", sub);
	if ((r = tp_args_need_pos(&a, 0, 0, "tapir media-set list [--pool P]", err)) < 0)
		return r;
	json_t *arr;
	if ((r = call(TP_HTTP_GET, "tape/media/media-sets", opts(&a, (const char *const[]){ "pool", NULL }), &arr, err)) < 0)
		return r;
	if (a.out == TP_OUT_TEXT) {
		printf("%-36s %-12s %-20s %-8s %s\n", "media-set", "pool", "start", "complete", "tapes");
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v) {
			char t[21] = "-";
			json_t *ct = json_object_get(v, "media-set-ctime");
			if (ct)
				tp_time_utc(json_integer_value(ct), t);
			printf("%-36s %-12s %-20s %-8s", tp_json_opt_str(v, "media-set-uuid"), tp_json_opt_str(v, "pool"), t,
			       json_is_true(json_object_get(v, "complete")) ? "yes" : "no");
			size_t k;
			json_t *tv;
			json_array_foreach(json_object_get(v, "tapes"), k, tv)
				printf("%s%s", k ? "," : " ", json_is_string(tv) ? json_string_value(tv) : "(missing)");
			printf("\n");
		}
		json_decref(arr);
	} else {
		tp_print_json(&a, arr);
	}
	return 0;
}
