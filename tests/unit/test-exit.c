/* test-exit.c - how an attempt ended (lib/exit.c): exit codes, signals,
 * commands that cannot be run, stalls, what counts as a failure and how
 * it is said; signals by name. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "tap.h"
#include "exit.h"

static sk_exit exited(int code)
{
	return (sk_exit){ .code = code };
}

static void test_exit(void)
{
	sk_exit x;
	char buf[128];

	x = sk_exit_from_wait(75 << 8);
	is_int(x.code, 75, "an exit status from waitpid");
	is_int(sk_exit_status(&x), 75, "is the status");
	ok(sk_exit_failed(&x), "and a failure");
	sk_exit_describe(&x, buf, sizeof buf);
	is_str(buf, "exited with status 75", "described");

	x = sk_exit_from_wait(SIGKILL);
	is_int(x.signal, SIGKILL, "a signal from waitpid");
	is_int(sk_exit_status(&x), 128 + SIGKILL, "is 128 + N, as a shell says");
	sk_exit_describe(&x, buf, sizeof buf);
	is_str(buf, "killed by signal 9 (KILL)", "described with its name");

	x = sk_exit_from_wait(SIGHUP);
	ok(sk_exit_is_failure(&x), "a SIGHUP of its own is a failure");
	x.requested = 1;
	ok(!sk_exit_is_failure(&x), "the SIGHUP passed on to it is none");

	x = exited(0);
	ok(!sk_exit_failed(&x), "exit 0 is no failure");
	ok(!sk_exit_is_failure(&x), "nor counted as one");
	x.stalled = 1;
	ok(sk_exit_failed(&x), "but a stall is, whatever the status");
	sk_exit_describe(&x, buf, sizeof buf);
	is_str(buf, "stalled, then exited with status 0", "and says so");

	x = sk_exit_from_exec(ENOENT);
	is_int(sk_exit_status(&x), 127, "a command not found is 127");
	sk_exit_describe(&x, buf, sizeof buf);
	is_str(buf, "could not be executed: command not found", "described");
	x = sk_exit_from_exec(EACCES);
	is_int(sk_exit_status(&x), 126, "one that cannot be executed is 126");
}

static void test_signals(void)
{
	sk_err e = { 0 };
	int sig = 0;

	ok(sk_signal_parse("TERM", &sig, &e) == 0 && sig == SIGTERM, "TERM");
	ok(sk_signal_parse("SIGINT", &sig, &e) == 0 && sig == SIGINT, "SIGINT");
	ok(sk_signal_parse("hup", &sig, &e) == 0 && sig == SIGHUP, "hup, in any case");
	ok(sk_signal_parse("9", &sig, &e) == 0 && sig == 9, "a number");
	is_int(sk_signal_parse("NOPE", &sig, &e), -1, "an unknown name is refused");
	is_int(e.code, EX_USAGE, "as a usage error");
	is_int(sk_signal_parse("0", &sig, &e), -1, "so is 0");
	is_int(sk_signal_parse("65", &sig, &e), -1, "and 65");
	is_str(sk_signal_name(SIGUSR1), "USR1", "names without SIG");
}

int main(void)
{
	test_exit();
	test_signals();
	return tap_done();
}
