/* restart.h - stream-run's restart decisions, apart from its event loop:
 * the restart policy (--restart, --restart-on, --no-restart-on), the
 * delay before each restart and when to give up. Pure functions over
 * values, so that every option's effect is unit-tested without timing
 * anything. */
#ifndef SK_RESTART_H
#define SK_RESTART_H

#include <stdint.h>
#include "err.h"
#include "exit.h"

/* --- the restart policy --- */

enum sk_restart { SK_RESTART_NO, SK_RESTART_ON_FAILURE, SK_RESTART_ALWAYS };

typedef struct sk_policy {
	enum sk_restart restart;
	signed char code_rule[256];     /* 1: --restart-on, -1: --no-restart-on, 0: the default */
	signed char signal_rule[SK_SIGNAL_MAX + 1];
	int64_t delay_ms;               /* --delay: before the first restart after a failure */
	int64_t delay_step_ms;          /* --delay-step: added after each failure */
	double delay_factor;            /* --delay-factor: multiplied after each failure */
	int64_t delay_max_ms;           /* --delay-max */
	int64_t healthy_after_ms;       /* --healthy-after: a run this long resets the delay */
	unsigned max_failures;          /* --max-failures: 0, never give up */
	int64_t window_ms;              /* --window: 0, count failures in a row */
} sk_policy;

/* The defaults: on-failure, delay 1s growing by a factor of 2 up to 1m,
 * reset after 1m of running, never give up. */
void sk_policy_init(sk_policy *p);
/* "no", "on-failure" or "always". */
int sk_policy_parse_restart(sk_policy *p, const char *s, sk_err *e);
/* A comma-separated list of exit codes (0-255) and signal names (TERM,
 * SIGKILL) for --restart-on (restart 1) or --no-restart-on (restart 0). A
 * code already in the other list is a usage error. */
int sk_policy_parse_codes(sk_policy *p, const char *list, int restart, sk_err *e);
/* Whether the policy restarts after x, leaving aside --max-failures: a
 * stopping supervisor never restarts (the caller knows that). */
int sk_policy_restarts(const sk_policy *p, const sk_exit *x);

/* --- restarts: delays and giving up --- */

enum sk_verdict { SK_VERDICT_EXIT, SK_VERDICT_RESTART, SK_VERDICT_GIVE_UP };

typedef struct sk_decision {
	enum sk_verdict verdict;
	int64_t delay_ms;               /* SK_VERDICT_RESTART: wait this long first */
	unsigned failures;              /* failures counted toward --max-failures */
} sk_decision;

typedef struct sk_restarts {
	const sk_policy *p;
	int64_t next_delay_ms;          /* the delay after the next failure */
	unsigned in_a_row;              /* failures since the last healthy run */
	int64_t *ends;                  /* end times of the last max_failures failures */
	unsigned nends, head;
} sk_restarts;

int sk_restarts_init(sk_restarts *r, const sk_policy *p, sk_err *e);
void sk_restarts_free(sk_restarts *r);
/* An attempt that ran from started_ms to ended_ms (a monotonic clock)
 * ended as x: restart (after how long), exit, or give up. */
sk_decision sk_restarts_decide(sk_restarts *r, const sk_exit *x, int64_t started_ms,
                               int64_t ended_ms);

#endif
