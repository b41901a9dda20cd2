/* exit.c - how an attempt ended, and signals by name. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "exit.h"
#include "util.h"

/* --- how an attempt ended --- */

sk_exit sk_exit_from_wait(int status)
{
	sk_exit x = { .code = -1 };

	if (WIFEXITED(status))
		x.code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		x.signal = WTERMSIG(status);
	return x;
}

sk_exit sk_exit_from_exec(int errnum)
{
	sk_exit x = { .code = errnum == ENOENT ? 127 : 126, .exec_errno = errnum };

	return x;
}

int sk_exit_status(const sk_exit *x)
{
	return x->signal ? 128 + x->signal : x->code;
}

int sk_exit_failed(const sk_exit *x)
{
	return x->stalled || x->signal != 0 || x->code != 0;
}

int sk_exit_is_failure(const sk_exit *x)
{
	return sk_exit_failed(x) && !x->requested;
}

void sk_exit_describe(const sk_exit *x, char *buf, size_t size)
{
	char how[128], sig[64];

	if (x->exec_errno) {
		snprintf(buf, size, "could not be executed: %s",
		         x->exec_errno == ENOENT ? "command not found" : strerror(x->exec_errno));
		return;
	}
	if (x->signal) {
		sk_signal_describe(x->signal, sig, sizeof sig);
		snprintf(how, sizeof how, "killed by %s", sig);
	} else
		snprintf(how, sizeof how, "exited with status %d", x->code);
	if (x->stalled)
		snprintf(buf, size, "stalled, then %s", how);
	else
		snprintf(buf, size, "%s", how);
}

void sk_signal_describe(int sig, char *buf, size_t size)
{
	const char *name = sk_signal_name(sig);

	if (name)
		snprintf(buf, size, "signal %d (%s)", sig, name);
	else
		snprintf(buf, size, "signal %d", sig);
}

/* --- signals by name --- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "SYS", SIGSYS },
};

#define NSIGNALS (sizeof signals / sizeof signals[0])

int sk_signal_parse(const char *s, int *sig, sk_err *e)
{
	const char *name = s;
	uint64_t n;
	size_t i;

	if (sk_parse_count(s, &n, NULL) == 0) {
		if (n < 1 || n > SK_SIGNAL_MAX)
			goto bad;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < NSIGNALS; i++)
		if (strcasecmp(name, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
bad:
	return sk_err_set(e, EX_USAGE, "invalid signal '%s' (expected a name such as TERM, or 1-%d)",
	                  s, SK_SIGNAL_MAX);
}

const char *sk_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < NSIGNALS; i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

