/* Error reporting: negative errno-style codes plus a message saying what failed where. */
#ifndef TAPIR_BASE_ERR_H
#define TAPIR_BASE_ERR_H

#include <errno.h>
#include <stdarg.h>

/*
 * Every fallible function returns 0 (or a non-negative count) on success and a
 * negative code on failure; the caller-supplied tp_err receives one line of
 * human-readable context.  A NULL tp_err is allowed: the message is dropped.
 * Codes are negative errno values, plus the tapir-specific ones below.
 */
enum {
	TP_EFORMAT = 1000,   /* bytes on disk or tape violate the format */
	TP_ECRC = 1001,      /* CRC mismatch */
	TP_EDIGEST = 1002,   /* digest mismatch */
	TP_EKEY = 1003,      /* missing or wrong encryption key */
	TP_ELOCKED = 1004,   /* a lock is held by someone else */
	TP_EEXISTS = 1005,   /* object already exists (snapshot, label, ...) */
	TP_ENOTFOUND = 1006, /* object does not exist */
	TP_EABORT = 1007,    /* the task was aborted */
	TP_ELEOM = 1008,     /* logical end of medium (early warning) reached */
	TP_EPERM = 1009,     /* permission (ACL/owner) denied */
	TP_EWRONGMEDIA = 1010, /* wrong tape in the drive */
};

typedef struct tp_err {
	int code;        /* last negative code, 0 when clear */
	char msg[1024];  /* last message */
} tp_err;

/* Records code (negative) and a printf-style message; returns code. */
int tp_err_set(tp_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int tp_err_setv(tp_err *e, int code, const char *fmt, va_list ap);

/* Like tp_err_set with -errno and ": strerror(errno)" appended. */
int tp_err_errno(tp_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with more context ("what: previous"). */
int tp_err_wrap(tp_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void tp_err_clear(tp_err *e);

/* Short text for a code (strerror for errno codes). */
const char *tp_strerror(int code);

#endif
