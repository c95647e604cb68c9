/* Command-line argument parsing shared by every tapir subcommand. */
#ifndef TAPIR_CLI_ARGS_H
#define TAPIR_CLI_ARGS_H

#include <jansson.h>

#include "base/err.h"

#define TP_ARGS_MAX 128

enum tp_output_format { TP_OUT_TEXT, TP_OUT_JSON, TP_OUT_JSON_PRETTY };

/*
 * Parsed arguments: positionals in order, options as key/value pairs in
 * order (an option may repeat, e.g. --drive A --drive B).  "--key=value" and
 * "--key value" are both accepted; keys listed in `flags` take no value
 * (their value is "1").  Strings point into argv.
 */
typedef struct tp_args {
	int npos;
	const char *pos[TP_ARGS_MAX];
	int nopt;
	const char *key[TP_ARGS_MAX];
	const char *val[TP_ARGS_MAX];
	enum tp_output_format out;
} tp_args;

/*
 * Parses argv (without the command words).  `allowed` is a NULL-terminated
 * list of accepted option names (without "--"); `flags` those that take no
 * value.  --output-format is always accepted.  Unknown options fail with a
 * message naming them.
 */
int tp_args_parse(tp_args *a, int argc, char **argv, const char *const *allowed,
		  const char *const *flags, tp_err *err);

const char *tp_args_get(const tp_args *a, const char *key);          /* last value or NULL */
int tp_args_get_all(const tp_args *a, const char *key, const char **out, int max); /* count */
int tp_args_flag(const tp_args *a, const char *key);                 /* 1 if set (not "0") */
/* Parses an unsigned integer option (with optional K/M/G/T suffix when size=1). */
int tp_args_u64(const tp_args *a, const char *key, unsigned long long def, int size,
		unsigned long long *out, tp_err *err);
/* Requires exactly n positionals (or between min and max). */
int tp_args_need_pos(const tp_args *a, int min, int max, const char *usage, tp_err *err);

/* Prints v per the output format (text falls back to pretty JSON); steals v. */
void tp_print_json(const tp_args *a, json_t *v);

#endif
