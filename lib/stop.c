/* stop.c - a clean stop asked by SIGTERM or SIGINT (see stop.h). What a
 * signal handler touches has to live at file scope: it is here, once,
 * rather than in every program. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "stop.h"

static volatile sig_atomic_t stops, last_signal;
static int wake[2] = { -1, -1 };

static void on_stop(int sig)
{
	int saved = errno;

	last_signal = sig;
	if (stops < 2)
		stops++;
	if (wake[1] >= 0 && write(wake[1], "", 1) < 0) {
		/* Full: a wake-up is pending already. */
	}
	errno = saved;
}

volatile sig_atomic_t *sk_stop_catch(sk_err *e)
{
	struct sigaction sa;
	int i;

	if (wake[0] < 0) {
		if (pipe(wake) < 0)
			return sk_err_set(e, EX_OSERR, "pipe: %s", strerror(errno)), NULL;
		for (i = 0; i < 2; i++)
			if (fcntl(wake[i], F_SETFL, O_NONBLOCK) < 0 || fcntl(wake[i], F_SETFD, FD_CLOEXEC) < 0)
				return sk_err_set(e, EX_OSERR, "pipe: %s", strerror(errno)), NULL;
	}
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;        /* no SA_RESTART */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return &stops;
}

int sk_stop_wake_fd(void)
{
	return wake[0];
}

int sk_stop_signal(void)
{
	return last_signal;
}
