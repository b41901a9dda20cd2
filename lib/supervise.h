/* supervise.h - stream-run's decisions, apart from its event loop: how an
 * attempt ended, whether to restart it and after how long, when to give up,
 * when a pipeline is stalled, the last lines of a child's stderr, and the
 * few process facts a supervisor needs (start a command in a process group
 * of its own, list its own children, tell whether a pid is still the
 * process it was). The decisions are pure functions over values, so that
 * every option's effect is unit-tested without timing anything. */
#ifndef SK_SUPERVISE_H
#define SK_SUPERVISE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "err.h"
#include "state.h"
#include "util.h"

/* --- how an attempt ended --- */

typedef struct sk_exit {
	int code;            /* the exit code, or -1 when killed by a signal */
	int signal;          /* the signal that killed it, or 0 */
	int exec_errno;      /* the command could not be executed (code 126 or 127) */
	int stalled;         /* stopped by the stall watchdog */
	int requested;       /* killed by a signal forwarded on request (SIGHUP) */
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

/* "TERM", "SIGTERM", "term" or "15"; -1 with EX_USAGE otherwise. */
int sk_signal_parse(const char *s, int *sig, sk_err *e);
/* "TERM" for SIGTERM; NULL for a number without a name. */
const char *sk_signal_name(int sig);

/* --- the restart policy --- */

enum sk_restart { SK_RESTART_NO, SK_RESTART_ON_FAILURE, SK_RESTART_ALWAYS };

typedef struct sk_policy {
	enum sk_restart restart;
	signed char code_rule[256];     /* 1: --restart-on, -1: --no-restart-on, 0: the default */
	signed char signal_rule[65];
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

/* --- the stall watchdog --- */

typedef struct sk_stall {
	int64_t timeout_ms;
	int64_t checkpoint_ms;          /* the newest checkpoint seen */
	int64_t pending_since;          /* monotonic: reads not covered since then; -1 none */
} sk_stall;

/* At the start of each attempt. */
void sk_stall_reset(sk_stall *s);
/* One look at the store at monotonic time now: read_ms is when the name's
 * reader last delivered messages, checkpoint_ms its newest checkpoint (wall
 * clock, 0 for none), started_ms when this attempt started (wall clock).
 * Messages read in this attempt and not covered by a checkpoint are
 * pending; 1 once they have been pending, with the checkpoint unchanged,
 * for the timeout. A quiet source has nothing pending: never a stall. */
int sk_stall_check(sk_stall *s, int64_t now, int64_t started_ms, int64_t read_ms,
                   int64_t checkpoint_ms);

/* --- the tail of a child's stderr --- */

#define SK_TAIL_LINES 10
#define SK_TAIL_LINE_MAX 512     /* longer lines are cut, with "..." */

typedef struct sk_tail {
	char *lines[SK_TAIL_LINES];     /* a ring of the complete lines */
	unsigned n, head;
	sk_buf partial;                 /* the line being written */
	int cut;                        /* it was longer than SK_TAIL_LINE_MAX */
	int nomem;
} sk_tail;

/* Bytes as they come, in any pieces. -1 on ENOMEM. */
int sk_tail_feed(sk_tail *t, const char *p, size_t n);
/* The last lines, '\n' between them, the unfinished one last; NULL when
 * there are none or on ENOMEM (*nomem set). malloc'd. */
char *sk_tail_text(const sk_tail *t, int *nomem);
void sk_tail_reset(sk_tail *t);
/* How many bytes of p make complete lines (up to the last '\n'). */
size_t sk_complete_lines(const char *p, size_t n);

/* --- durations for people --- */

/* "250ms", "1.5s", "42s", "3m12s", "2h5m", "3d4h". */
void sk_duration_format(int64_t ms, char *buf, size_t size);

/* --- processes --- */

/* posix_spawnp argv in a new process group, with the signal mask mask and
 * the default action for the signals in defaults, stderr to err_fd (-1:
 * inherited). 0 and *pid; -1 with errno when the command cannot be run. */
int sk_spawn(char *const argv[], const sigset_t *mask, const sigset_t *defaults, int err_fd,
             pid_t *pid);
/* The children of this process (its only thread), from /proc; -1 when
 * Linux does not say. *pids is malloc'd. */
int sk_own_children(pid_t **pids, size_t *n);
/* The start time of pid (clock ticks since boot, /proc/PID/stat), to tell
 * the same process from a later one with its pid; -1 when unknown. */
int64_t sk_process_start(pid_t pid);
/* Whether pid is alive and, when start is known (>= 0), started then. */
int sk_process_alive(int64_t pid, int64_t start);

/* --- the status of a supervised name --- */

/* stream-run --status NAME and stream-checkpoint show NAME: the
 * supervisor's state as "key: value" lines, or one JSON object (no
 * newline) when json. */
int sk_run_status_format(sk_buf *b, const sk_run_info *r, int64_t now_ms, int json);
/* One attempt of the history: a line "  attempt 3  pid 42  started 5m ago
 * ran 1.2s  exited with status 75" (no newline), or a JSON object. An
 * attempt that ended by a signal without a failure recorded ended by the
 * SIGHUP passed on to it, and says so. */
int sk_attempt_format(sk_buf *b, const sk_attempt *a, int64_t now_ms, int json);

#endif
