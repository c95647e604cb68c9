/* Error reporting helpers (see err.h). */
#include "base/err.h"

#include <stdio.h>
#include <string.h>

int tp_err_setv(tp_err *e, int code, const char *fmt, va_list ap)
{
	if (e) {
		e->code = code;
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	return code;
}

int tp_err_set(tp_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tp_err_setv(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int tp_err_errno(tp_err *e, const char *fmt, ...)
{
	int code = -errno;
	if (code == 0)
		code = -EIO;
	if (e) {
		char what[768];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(e->msg, sizeof(e->msg), "%s: %s", what, strerror(-code));
		e->code = code;
	}
	return code;
}

int tp_err_wrap(tp_err *e, int code, const char *fmt, ...)
{
	if (e) {
		char what[512], prev[sizeof(e->msg)];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		memcpy(prev, e->msg, sizeof(prev));
		if (prev[0])
			snprintf(e->msg, sizeof(e->msg), "%s: %s", what, prev);
		else
			snprintf(e->msg, sizeof(e->msg), "%s", what);
		e->code = code;
	}
	return code;
}

void tp_err_clear(tp_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = 0;
	}
}

const char *tp_strerror(int code)
{
	switch (-code) {
	case TP_EFORMAT: return "format error";
	case TP_ECRC: return "CRC mismatch";
	case TP_EDIGEST: return "digest mismatch";
	case TP_EKEY: return "encryption key error";
	case TP_ELOCKED: return "locked";
	case TP_EEXISTS: return "already exists";
	case TP_ENOTFOUND: return "not found";
	case TP_EABORT: return "aborted";
	case TP_ELEOM: return "logical end of medium";
	case TP_EPERM: return "permission denied";
	case TP_EWRONGMEDIA: return "wrong media";
	}
	return strerror(-code);
}
