/* supervise.h - stream-run's supervisor: run a command in a process group
 * of its own, restart it by policy (restart.h), forward signals, stop the
 * whole group, reap every process, watch for a stall (stall.h), and record
 * each attempt in the state store.
 *
 * Its loop is a table of what each event does in each state (s6-supervise's
 * actions[state][event]): the behaviour is read off the table, not off a
 * phase and a handful of flags. */
#ifndef SK_SUPERVISE_H
#define SK_SUPERVISE_H

#include <stdint.h>
#include "err.h"
#include "restart.h"

typedef struct sk_supervise_opts {
	const char *name;            /* record attempts under it; NULL: none */
	int name_from_env;           /* name is $STREAMKIT_NAME */
	const char *state;           /* the store's path; NULL: the default */
	const sk_policy *policy;
	int stop_signal;
	int64_t stop_timeout_ms;     /* then SIGKILL what is left */
	int64_t stall_timeout_ms;    /* 0: no stall watchdog */
	char **argv;                 /* the command */
} sk_supervise_opts;

/* Supervise o->argv until the policy says done: the status to exit with
 * (the last attempt's), or -1 with e when supervision could not start
 * (EX_TEMPFAIL: another supervisor holds the name; EX_OSERR; the store's). */
int sk_supervise(const sk_supervise_opts *o, sk_err *e);

/* --- the state machine, as data (for tests) --- */

enum sk_sv_state {
	SK_SV_RUNNING,     /* the command's leader runs */
	SK_SV_ENDING,      /* it has exited: the rest of its group is being stopped */
	SK_SV_KILLING,     /* the stop timeout passed: SIGKILL for whatever is left */
	SK_SV_WAITING,     /* for the delay before the next attempt */
	SK_SV_DONE,
	SK_SV_NSTATES,
	SK_SV_DECIDED = -1,    /* the policy says, once the attempt is over */
};

enum sk_sv_event {
	SK_SV_LEADER_EXITED,   /* reaped the leader; processes of the attempt remain */
	SK_SV_REAPED,          /* reaped some other process; some remain */
	SK_SV_ALL_GONE,        /* the leader has exited and nothing of the attempt is left */
	SK_SV_STOP,            /* SIGTERM, SIGINT, SIGQUIT: stop for good */
	SK_SV_PASS,            /* SIGUSR1, SIGUSR2: passed on to the group */
	SK_SV_HUP,             /* SIGHUP: passed on; a restart now when waiting */
	SK_SV_KILL_TIMER,      /* the stop timeout passed */
	SK_SV_RESTART_TIMER,   /* the delay before the next attempt passed */
	SK_SV_STALL_TIMER,     /* time to look at the checkpoint's progress */
	SK_SV_NEVENTS,
};

/* The state after event in state: a state, SK_SV_DECIDED, or state itself
 * (the event changes nothing or what it does keeps the state). */
int sk_supervise_next(enum sk_sv_state state, enum sk_sv_event event);
/* What event does in state, by name ("stop the group"), or NULL: ignored. */
const char *sk_supervise_action(enum sk_sv_state state, enum sk_sv_event event);

#endif
