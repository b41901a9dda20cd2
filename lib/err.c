/* err.c - error values carried from lib/ to the tools. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int sk_err_set(sk_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int sk_err_prefix(sk_err *e, const char *fmt, ...)
{
	char prefix[512];
	size_t n;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	n = strlen(prefix);
	/* Shift the message right and put "PREFIX: " before it. */
	memmove(e->msg + n + 2, e->msg, sizeof e->msg - n - 2);
	memcpy(e->msg, prefix, n);
	memcpy(e->msg + n, ": ", 2);
	e->msg[sizeof e->msg - 1] = '\0';
	return -1;
}

void sk_err_clear(sk_err *e)
{
	if (e) {
		e->code = 0;
		e->msg[0] = '\0';
	}
}

int sk_err_code_for_errno(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
		return EX_UNAVAILABLE;
	case ENOMEM:
		return EX_OSERR;
	default:
		return EX_IOERR;
	}
}

int sk_err_oom(sk_err *e)
{
	return sk_err_set(e, EX_OSERR, "out of memory");
}
