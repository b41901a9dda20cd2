/* test-restart.c - stream-run's restart decisions (lib/restart.c): the
 * restart policy, the delay sequence, giving up; each option's effect,
 * without timing anything. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "restart.h"

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

int main(void)
{
	test_policy();
	test_delay_sequences();
	test_delays();
	test_give_up();
	return tap_done();
}
