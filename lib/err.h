/* err.h - how lib/ reports failure: a sysexits code and one line of text. */
#ifndef SK_ERR_H
#define SK_ERR_H

#include <sysexits.h>

/* Return values shared by readers of streams (lines, sources). */
#define SK_EOF 2   /* no more data, ever */
#define SK_END 3   /* caught up with the data there is now; more may come */

typedef struct sk_err {
	int code;          /* sysexits code: EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, ... */
	char msg[1024];    /* lowercase, no program name, no full stop */
} sk_err;

/* Fill e (which may be NULL) and return -1, so that callers can write
 * `return sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));`. */
int sk_err_set(sk_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* sk_err_set(e, EX_OSERR, "out of memory"): the one way to say it. */
int sk_err_oom(sk_err *e);
/* Prefix an existing message with more context: "CONTEXT: old message". */
int sk_err_prefix(sk_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sk_err_clear(sk_err *e);
/* The sysexits code for an errno value met while doing I/O: 69 for a
 * missing file (it may appear: a retry can help), 74 otherwise. */
int sk_err_code_for_errno(int errnum);

#endif
