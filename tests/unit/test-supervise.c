/* test-supervise.c - stream-run's decisions (lib/supervise.c): the restart
 * policy, the delay sequence, giving up, the stall watchdog, the stderr
 * tail; each option's effect, without timing anything. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "supervise.h"

static sk_exit exited(int code)
{
	return (sk_exit){ .code = code };
}

static sk_exit killed(int sig)
{
	return (sk_exit){ .code = -1, .signal = sig };
}

static sk_policy policy(const char *restart)
{
	sk_policy p;

	sk_policy_init(&p);
	if (restart && sk_policy_parse_restart(&p, restart, NULL) < 0)
		abort();
	return p;
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

static void test_policy(void)
{
	sk_policy p = policy(NULL);
	sk_exit x;
	sk_err e = { 0 };
	int code;

	is_int(p.restart, SK_RESTART_ON_FAILURE, "on-failure is the default");
	for (code = 1; code < 256; code++) {
		x = exited(code);
		if (code == 64 || code == 65 || code == 78 || code == 126 || code == 127) {
			if (sk_policy_restarts(&p, &x))
				break;
		} else if (!sk_policy_restarts(&p, &x)) {
			break;
		}
	}
	is_int(code, 256, "on-failure restarts after every failing status but 64, 65, 78, 126, 127");
	x = exited(69);
	ok(sk_policy_restarts(&p, &x), "on-failure restarts after 69");
	x = exited(74);
	ok(sk_policy_restarts(&p, &x), "after 74");
	x = exited(75);
	ok(sk_policy_restarts(&p, &x), "after 75");
	x = killed(SIGKILL);
	ok(sk_policy_restarts(&p, &x), "after a signal");
	x = exited(78);
	ok(!sk_policy_restarts(&p, &x), "not after 78");
	x = exited(0);
	ok(!sk_policy_restarts(&p, &x), "not after 0");
	x = sk_exit_from_exec(ENOENT);
	ok(!sk_policy_restarts(&p, &x), "not after a command that cannot be executed");
	x = exited(0);
	x.stalled = 1;
	ok(sk_policy_restarts(&p, &x), "after a stall");

	p = policy("always");
	x = exited(0);
	ok(sk_policy_restarts(&p, &x), "always restarts after 0");
	x = exited(78);
	ok(sk_policy_restarts(&p, &x), "and after 78");
	p = policy("no");
	x = killed(SIGKILL);
	ok(!sk_policy_restarts(&p, &x), "no never restarts, not after a signal");
	x.stalled = 1;
	ok(!sk_policy_restarts(&p, &x), "nor after a stall");
	x = killed(SIGHUP);
	x.requested = 1;
	ok(!sk_policy_restarts(&p, &x), "nor after a SIGHUP restart");

	p = policy(NULL);
	ok(sk_policy_parse_codes(&p, "78,1", 1, &e) == 0, "--restart-on 78,1");
	x = exited(78);
	ok(sk_policy_restarts(&p, &x), "restarts after 78 then");
	ok(sk_policy_parse_codes(&p, "75,TERM", 0, &e) == 0, "--no-restart-on 75,TERM");
	x = exited(75);
	ok(!sk_policy_restarts(&p, &x), "does not restart after 75 then");
	x = killed(SIGTERM);
	ok(!sk_policy_restarts(&p, &x), "nor after SIGTERM");
	x = killed(SIGKILL);
	ok(sk_policy_restarts(&p, &x), "but still after SIGKILL");
	p.restart = SK_RESTART_ALWAYS;
	x = exited(75);
	ok(!sk_policy_restarts(&p, &x), "--no-restart-on holds for always too");
	p.restart = SK_RESTART_NO;
	x = exited(78);
	ok(sk_policy_restarts(&p, &x), "and --restart-on for no");

	is_int(sk_policy_parse_codes(&p, "1", 0, &e), -1, "a status in both lists is refused");
	ok(strstr(e.msg, "both") != NULL, "saying so: %s", e.msg);
	is_int(sk_policy_parse_codes(&p, "256", 1, &e), -1, "a status above 255 is refused");
	is_int(sk_policy_parse_codes(&p, "3x", 1, &e), -1, "so is a malformed one");
	is_int(sk_policy_parse_codes(&p, "", 1, &e), -1, "and an empty list");
	is_int(sk_policy_parse_codes(&p, "NOSIG", 1, &e), -1, "and an unknown signal");
	is_int(sk_policy_parse_restart(&p, "sometimes", &e), -1, "an unknown policy is refused");
	is_int(e.code, EX_USAGE, "as a usage error");
}

/* The delays of n failures in a row, each run lasting ran ms. */
static void delays(sk_restarts *r, int n, int64_t ran, int64_t *out)
{
	sk_exit x = exited(75);
	int64_t t = 0;
	int i;

	for (i = 0; i < n; i++) {
		sk_decision d = sk_restarts_decide(r, &x, t, t + ran);
		out[i] = d.verdict == SK_VERDICT_RESTART ? d.delay_ms : -1;
		t += ran + out[i];
	}
}

/* The delays of the first failures in a row: each option's effect. */
static void test_delay_sequences(void)
{
	static const struct {
		int64_t delay, step, max;
		double factor;
		int64_t want[8];
		const char *what;
	} cases[] = {
		{ 1000, 0, 60000, 2, { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 },
		  "the defaults: 1s doubling, up to --delay-max 1m" },
		{ 100, 50, 250, 1, { 100, 150, 200, 250, 250, 250, 250, 250 },
		  "--delay-step with --delay-factor 1: a step at a time, up to the maximum" },
		{ 10, 5, 1000, 3, { 10, 35, 110, 335, 1000, 1000, 1000, 1000 },
		  "the factor, then the step" },
		{ 0, 0, 60000, 2, { 0, 0, 0, 0, 0, 0, 0, 0 }, "--delay 0 restarts at once, every time" },
	};
	sk_restarts r;
	sk_policy p;
	int64_t got[8];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		p = policy(NULL);
		p.delay_ms = cases[i].delay;
		p.delay_step_ms = cases[i].step;
		p.delay_max_ms = cases[i].max;
		p.delay_factor = cases[i].factor;
		sk_restarts_init(&r, &p, NULL);
		delays(&r, 8, 10, got);
		ok(memcmp(got, cases[i].want, sizeof got) == 0, "%s (%lld %lld %lld %lld %lld ...)",
		   cases[i].what, (long long)got[0], (long long)got[1], (long long)got[2], (long long)got[3],
		   (long long)got[4]);
		sk_restarts_free(&r);
	}
}

/* What resets the delay, and restarts that are not failures. */
static void test_delays(void)
{
	sk_policy p;
	sk_restarts r;
	sk_decision d;
	sk_exit x;
	int64_t got[6];

	p = policy(NULL);
	p.healthy_after_ms = 5000;
	sk_restarts_init(&r, &p, NULL);
	delays(&r, 3, 10, got);
	is_int(got[2], 4000, "three quick failures: 4s");
	delays(&r, 1, 5000, got);
	is_int(got[0], 1000, "a failure after a run of --healthy-after waits --delay again");
	delays(&r, 1, 4999, got);
	is_int(got[0], 2000, "a shorter one does not reset it");
	x = exited(0);
	p.restart = SK_RESTART_ALWAYS;
	d = sk_restarts_decide(&r, &x, 0, 1);
	ok(d.verdict == SK_VERDICT_RESTART && d.delay_ms == 1000, "always, after 0: --delay");
	delays(&r, 1, 1, got);
	is_int(got[0], 1000, "and an exit 0 resets the delay too");
	sk_restarts_free(&r);

	p = policy(NULL);
	p.healthy_after_ms = 0;
	sk_restarts_init(&r, &p, NULL);
	delays(&r, 2, 3600000, got);
	is_int(got[1], 2000, "--healthy-after 0: long runs do not reset the delay");
	sk_restarts_free(&r);

	p = policy(NULL);
	sk_restarts_init(&r, &p, NULL);
	x = killed(SIGHUP);
	x.requested = 1;
	d = sk_restarts_decide(&r, &x, 0, 1);
	ok(d.verdict == SK_VERDICT_RESTART && d.delay_ms == 0 && d.failures == 0,
	   "a SIGHUP restart is at once and no failure");
	delays(&r, 1, 10, got);
	is_int(got[0], 1000, "and leaves the delay as it was");
	x = exited(78);
	d = sk_restarts_decide(&r, &x, 0, 1);
	is_int(d.verdict, SK_VERDICT_EXIT, "a status the policy does not restart: exit");
	sk_restarts_free(&r);
}

/* Giving up: the verdict after a series of attempts that ran from start
 * to end (ms) and exited with code. */
static void test_give_up(void)
{
	static const struct {
		unsigned max;
		int64_t window, healthy;
		enum sk_restart restart;
		int n;
		struct { int64_t start, end; int code; } runs[4];
		enum sk_verdict verdict;
		unsigned failures;
		const char *what;
	} cases[] = {
		{ 3, 0, 60000, SK_RESTART_ON_FAILURE, 2, { { 1000, 1010, 75 }, { 2000, 2010, 75 } },
		  SK_VERDICT_RESTART, 2, "--max-failures 3: a second failure in a row restarts" },
		{ 3, 0, 60000, SK_RESTART_ON_FAILURE, 3,
		  { { 1000, 1010, 75 }, { 2000, 2010, 75 }, { 3000, 3010, 75 } },
		  SK_VERDICT_GIVE_UP, 3, "the third gives up" },
		{ 3, 0, 60000, SK_RESTART_ALWAYS, 4,
		  { { 0, 10, 75 }, { 20, 30, 75 }, { 40, 50, 0 }, { 60, 70, 75 } },
		  SK_VERDICT_RESTART, 1, "an exit 0 between failures breaks the row" },
		{ 3, 0, 1000, SK_RESTART_ON_FAILURE, 3, { { 0, 10, 75 }, { 20, 30, 75 }, { 40, 1040, 75 } },
		  SK_VERDICT_RESTART, 1, "so does a healthy run" },
		{ 3, 10000, 60000, SK_RESTART_ON_FAILURE, 3,
		  { { 0, 1000, 75 }, { 5000, 6000, 75 }, { 11000, 12000, 75 } },
		  SK_VERDICT_RESTART, 2, "--window 10s: failures at 1s, 6s and 12s are 2 in the window" },
		{ 3, 10000, 60000, SK_RESTART_ON_FAILURE, 4,
		  { { 0, 1000, 75 }, { 5000, 6000, 75 }, { 11000, 12000, 75 }, { 13000, 14000, 75 } },
		  SK_VERDICT_GIVE_UP, 3, "one more at 14s makes 3 within 10s: give up" },
		{ 2, 1000, 10, SK_RESTART_ON_FAILURE, 2, { { 0, 100, 75 }, { 200, 300, 75 } },
		  SK_VERDICT_GIVE_UP, 2, "with a window, healthy runs do not reset the count" },
		{ 1, 0, 60000, SK_RESTART_ON_FAILURE, 1, { { 0, 1, 78 } },
		  SK_VERDICT_EXIT, 1, "a status that is not restarted exits, it does not give up" },
	};
	sk_decision d = { 0 };
	sk_restarts r;
	sk_policy p;
	sk_exit x;
	size_t i;
	int k;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		p = policy(NULL);
		p.max_failures = cases[i].max;
		p.window_ms = cases[i].window;
		p.healthy_after_ms = cases[i].healthy;
		p.restart = cases[i].restart;
		sk_restarts_init(&r, &p, NULL);
		for (k = 0; k < cases[i].n; k++) {
			x = exited(cases[i].runs[k].code);
			d = sk_restarts_decide(&r, &x, cases[i].runs[k].start, cases[i].runs[k].end);
		}
		ok(d.verdict == cases[i].verdict && d.failures == cases[i].failures,
		   "%s (verdict %d, %u failures)", cases[i].what, d.verdict, d.failures);
		sk_restarts_free(&r);
	}
}

static void test_stall(void)
{
	sk_stall s = { .timeout_ms = 5000 };
	int64_t start = 1000000;      /* the attempt's start, wall clock */

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, 0, 0), "nothing read: no stall");
	ok(!sk_stall_check(&s, 100000, start, 0, 0), "ever");
	ok(!sk_stall_check(&s, 0, start, start - 10, 0), "reads of an earlier attempt do not count");
	ok(!sk_stall_check(&s, 100000, start, start - 10, 0), "however long ago");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 10, start + 20), "read then checkpointed: nothing pending");
	ok(!sk_stall_check(&s, 100000, start, start + 10, start + 20), "a quiet source is not a stall");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, start + 20), "read after the checkpoint: pending");
	ok(!sk_stall_check(&s, 4999, start, start + 40, start + 20), "not yet stalled before the timeout");
	ok(sk_stall_check(&s, 5000, start, start + 40, start + 20), "stalled once pending for the timeout");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, start + 20), "pending");
	ok(!sk_stall_check(&s, 4000, start, start + 4030, start + 4000), "the checkpoint moves");
	ok(!sk_stall_check(&s, 8000, start, start + 8030, start + 8000), "and moves again");
	ok(!sk_stall_check(&s, 12000, start, start + 12030, start + 8000), "it stops moving");
	ok(!sk_stall_check(&s, 12999, start, start + 12999, start + 8000), "not stalled yet");
	ok(sk_stall_check(&s, 13000, start, start + 13030, start + 8000), "stalled 5s after it last moved");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, 0), "a name never checkpointed, read: pending");
	ok(sk_stall_check(&s, 5000, start, start + 30, 0), "stalled after the timeout");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, start + 20), "pending");
	ok(!sk_stall_check(&s, 3000, start, start + 30, start + 40), "covered");
	ok(!sk_stall_check(&s, 100000, start, start + 30, start + 40), "then quiet: never stalled");
}

static void test_tail(void)
{
	sk_tail t = { 0 };
	char *text, big[2000];
	int nomem, i;

	text = sk_tail_text(&t, &nomem);
	ok(text == NULL && !nomem, "an empty tail has no text");
	sk_tail_feed(&t, "one\ntw", 6);
	sk_tail_feed(&t, "o\nthr", 5);
	text = sk_tail_text(&t, &nomem);
	is_str(text, "one\ntwo\nthr", "lines in pieces, the unfinished one last");
	free(text);
	for (i = 0; i < 20; i++) {
		char line[16];
		snprintf(line, sizeof line, "line %d\n", i);
		sk_tail_feed(&t, line, strlen(line));
	}
	text = sk_tail_text(&t, &nomem);
	ok(text && strncmp(text, "line 10\n", 8) == 0 && strcmp(text + strlen(text) - 7, "line 19") == 0,
	   "the last %d lines are kept", SK_TAIL_LINES);
	free(text);
	sk_tail_reset(&t);
	memset(big, 'x', sizeof big);
	sk_tail_feed(&t, big, sizeof big);
	sk_tail_feed(&t, "\nend\n", 5);
	text = sk_tail_text(&t, &nomem);
	ok(text && strlen(text) == SK_TAIL_LINE_MAX + 3 + 4 &&
	   strncmp(text + SK_TAIL_LINE_MAX, "...\nend", 7) == 0, "a long line is cut at %d bytes, with ...",
	   SK_TAIL_LINE_MAX);
	free(text);
	sk_tail_reset(&t);

	is_int(sk_complete_lines("a\nb\nc", 5), 4, "complete lines end at the last newline");
	is_int(sk_complete_lines("abc", 3), 0, "none without a newline");
	is_int(sk_complete_lines("a\n", 2), 2, "all of it when it ends with one");
}

static void test_durations(void)
{
	static const struct { int64_t ms; const char *want; } cases[] = {
		{ 0, "0ms" }, { 250, "250ms" }, { 1500, "1.5s" }, { 2000, "2s" }, { 42000, "42s" },
		{ 60000, "1m" }, { 192000, "3m12s" }, { 7500000, "2h5m" }, { 3600000, "1h" },
		{ 273600000, "3d4h" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sk_duration_format(cases[i].ms, buf, sizeof buf);
		is_str(buf, cases[i].want, "%lld ms is %s", (long long)cases[i].ms, cases[i].want);
	}
}

static void test_processes(void)
{
	sigset_t none;
	pid_t pid = 0, *kids;
	size_t n, i;
	int status = 0, found = 0;
	char *argv_true[] = { "sh", "-c", "exit 3", NULL };
	char *argv_none[] = { "streamkit-no-such-command", NULL };

	sigemptyset(&none);
	ok(sk_spawn(argv_true, &none, &none, -1, &pid) == 0 && pid > 0, "a command is spawned");
	ok(sk_own_children(&kids, &n) == 0, "our children are listed");
	for (i = 0; i < n; i++)
		found |= kids[i] == pid;
	ok(found, "the spawned command among them");
	free(kids);
	ok(sk_process_start(pid) > 0, "its start time is known");
	ok(sk_process_alive(pid, sk_process_start(pid)), "it is alive");
	ok(!sk_process_alive(pid, sk_process_start(pid) + 1), "a later start is another process");
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "it ran the command");
	ok(!sk_process_alive(pid, -1), "a reaped process is not alive");
	errno = 0;
	is_int(sk_spawn(argv_none, &none, &none, -1, &pid), -1, "a command that is not found");
	is_int(errno, ENOENT, "fails with ENOENT");
}

/* The lines of the attempts' history: what each ended by. */
static void test_attempt_lines(void)
{
	sk_attempt a = { .id = 1, .run_id = "r", .attempt = 2, .pid = 42, .started_ms = 1000,
	                 .ended_ms = 2500, .exit_code = -1, .signal = SIGHUP };
	sk_buf b = { 0 };

	is_int(sk_attempt_format(&b, &a, 61000, 0), 0, "an attempt ended by the SIGHUP passed on");
	is_str(b.p, "  attempt 2  pid 42  started 1m ago  ran 1.5s  ended by the SIGHUP passed on to it;"
	       " restarted", "says so, not that it failed");
	b.len = 0;
	a.error = "killed by signal 1 (HUP)";
	sk_attempt_format(&b, &a, 61000, 0);
	is_str(b.p, "  attempt 2  pid 42  started 1m ago  ran 1.5s  killed by signal 1 (HUP)",
	       "a failure is its error");
	b.len = 0;
	a.error = NULL;
	a.signal = -1;
	a.exit_code = 0;
	sk_attempt_format(&b, &a, 61000, 0);
	is_str(b.p, "  attempt 2  pid 42  started 1m ago  ran 1.5s  exited with status 0", "a success its status");
	sk_buf_free(&b);
}

int main(void)
{
	test_exit();
	test_signals();
	test_policy();
	test_delay_sequences();
	test_delays();
	test_give_up();
	test_stall();
	test_tail();
	test_durations();
	test_processes();
	test_attempt_lines();
	return tap_done();
}
