/* exit.h - how an attempt of stream-run's command ended (an exit code, a
 * signal, a command that could not be run, a stall), what counts as a
 * failure, how to say it, and signals by name. */
#ifndef SK_EXIT_H
#define SK_EXIT_H

#include <stddef.h>
#include "err.h"

/* --- how an attempt ended --- */

typedef struct sk_exit {
	int code;            /* the exit code, or -1 when killed by a signal */
	int signal;          /* the signal that killed it, or 0 */
	int exec_errno;      /* the command could not be executed (code 126 or 127) */
	int stalled;         /* stopped by the stall watchdog */
	int requested;       /* killed by a signal sent on request (SIGHUP passed on, a stop's) */
} sk_exit;

/* From a waitpid status. */
sk_exit sk_exit_from_wait(int status);
/* From a failed exec: 127 for a command not found, else 126, as a shell. */
sk_exit sk_exit_from_exec(int errnum);
/* The shell's convention: the exit code, or 128 + the signal. */
int sk_exit_status(const sk_exit *x);
/* Anything but exit 0 (a stall is a failure whatever the status). */
int sk_exit_failed(const sk_exit *x);
/* What counts as a failure (toward --max-failures, in the attempts'
 * history and --status): anything failed but a command killed by the
 * SIGHUP it was passed, which is restarted at once. */
int sk_exit_is_failure(const sk_exit *x);
/* "exited with status 75", "killed by signal 9 (KILL)", "stalled (...)",
 * "could not be executed: ...". */
void sk_exit_describe(const sk_exit *x, char *buf, size_t size);

/* --- signals by name --- */

#define SK_SIGNAL_MAX 64         /* the highest signal number taken */

/* "TERM", "SIGTERM", "term" or "15"; -1 with EX_USAGE otherwise. */
int sk_signal_parse(const char *s, int *sig, sk_err *e);
/* "TERM" for SIGTERM; NULL for a number without a name. */
const char *sk_signal_name(int sig);
/* "signal 15 (TERM)", or "signal N" for one without a name, at buf. */
void sk_signal_describe(int sig, char *buf, size_t size);

#endif
