/* Command-line argument parsing (see args.h). */
#include "cli/args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_util.h"

/* The matching entry of list (its storage outlives the parse), or NULL. */
static const char *in_list(const char *const *list, const char *k, size_t n)
{
	for (; list && *list; list++)
		if (strlen(*list) == n && !strncmp(*list, k, n))
			return *list;
	return NULL;
}

int tp_args_parse(tp_args *a, int argc, char **argv, const char *const *allowed,
		  const char *const *flags, tp_err *err)
{
	memset(a, 0, sizeof(*a));
	int only_pos = 0;
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		if (only_pos || strncmp(s, "--", 2) != 0 || s[2] == 0) {
			if (!only_pos && !strcmp(s, "--")) {
				only_pos = 1;
				continue;
			}
			if (a->npos >= TP_ARGS_MAX)
				return tp_err_set(err, -E2BIG, "too many arguments");
			a->pos[a->npos++] = s;
			continue;
		}
		const char *k = s + 2;
		const char *eq = strchr(k, '=');
		size_t kn = eq ? (size_t)(eq - k) : strlen(k);
		const char *flag_name = in_list(flags, k, kn);
		int is_flag = flag_name != NULL;
		int is_fmt = kn == 13 && !strncmp(k, "output-format", 13);
		/* keys point at the caller's allowed/flags strings: nothing to allocate or free */
		const char *key = flag_name ? flag_name : in_list(allowed, k, kn);
		if (!key && !is_fmt)
			return tp_err_set(err, -EINVAL, "unknown option --%.*s", (int)kn, k);
		const char *v;
		if (eq) {
			v = eq + 1;
		} else if (is_flag) {
			v = "1";
		} else {
			if (i + 1 >= argc)
				return tp_err_set(err, -EINVAL, "option --%s needs a value", k);
			v = argv[++i];
		}
		if (is_fmt) {
			if (!strcmp(v, "text")) a->out = TP_OUT_TEXT;
			else if (!strcmp(v, "json")) a->out = TP_OUT_JSON;
			else if (!strcmp(v, "json-pretty")) a->out = TP_OUT_JSON_PRETTY;
			else return tp_err_set(err, -EINVAL, "--output-format: expected text, json or json-pretty, got '%s'", v);
			continue;
		}
		if (a->nopt >= TP_ARGS_MAX)
			return tp_err_set(err, -E2BIG, "too many options");
		a->key[a->nopt] = key;
		a->val[a->nopt++] = v;
	}
	return 0;
}

const char *tp_args_get(const tp_args *a, const char *key)
{
	for (int i = a->nopt - 1; i >= 0; i--)
		if (!strcmp(a->key[i], key))
			return a->val[i];
	return NULL;
}

int tp_args_get_all(const tp_args *a, const char *key, const char **out, int max)
{
	int n = 0;
	for (int i = 0; i < a->nopt; i++)
		if (!strcmp(a->key[i], key) && n < max)
			out[n++] = a->val[i];
	return n;
}

int tp_args_flag(const tp_args *a, const char *key)
{
	const char *v = tp_args_get(a, key);
	return v && strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no");
}

int tp_args_u64(const tp_args *a, const char *key, unsigned long long def, int size,
		unsigned long long *out, tp_err *err)
{
	const char *v = tp_args_get(a, key);
	if (!v) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (end == v || errno || v[0] == '-')
		return tp_err_set(err, -EINVAL, "--%s: '%s' is not a non-negative integer", key, v);
	if (size && *end) {
		unsigned long long m = 1;
		switch (*end) {
		case 'K': case 'k': m = 1ULL << 10; break;
		case 'M': case 'm': m = 1ULL << 20; break;
		case 'G': case 'g': m = 1ULL << 30; break;
		case 'T': case 't': m = 1ULL << 40; break;
		default: return tp_err_set(err, -EINVAL, "--%s: bad size suffix in '%s'", key, v);
		}
		end++;
		if (*end == 'i' && end[1] == 'B') end += 2;
		else if (*end == 'B') end++;
		if (x > ~0ULL / m)
			return tp_err_set(err, -ERANGE, "--%s: '%s' is too large", key, v);
		x *= m;
	}
	if (*end)
		return tp_err_set(err, -EINVAL, "--%s: '%s' is not a number", key, v);
	*out = x;
	return 0;
}

int tp_args_need_pos(const tp_args *a, int min, int max, const char *usage, tp_err *err)
{
	if (a->npos < min || (max >= 0 && a->npos > max))
		return tp_err_set(err, -EINVAL, "usage: %s", usage);
	return 0;
}

void tp_print_json(const tp_args *a, json_t *v)
{
	char *s = a->out == TP_OUT_JSON ? tp_json_compact(v) : tp_json_pretty(v);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
	json_decref(v);
}
