/* supervise.c - stream-run's supervisor (see supervise.h): the state
 * machine's table, the actions it names, and the loop that turns signals,
 * the reaping of children and timers into its events. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervise.h"
#include "exit.h"
#include "process.h"
#include "run_status.h"
#include "stall.h"
#include "state.h"
#include "tail.h"
#include "util.h"

#define STALL_POLL_MS 1000      /* how often the stall watchdog reads the store */
#define HELD_LINE_MAX 4096      /* a partial stderr line held back at most this long */

struct sv {
	const sk_supervise_opts *o;
	const char *label;       /* the name, else the command: what messages are about */
	sk_state *st;            /* with a name */
	int record;              /* this run owns the name's supervisor row and history */
	sk_supervisor row;
	char run_id[64];
	sk_restarts restarts;
	sigset_t child_mask, child_defaults;
	int sigfd;
	enum sk_sv_state state;
	int want_down;           /* a stop was asked for: no attempt after this one */
	pid_t pid;               /* the running leader, 0 none */
	pid_t pgid;              /* its process group, while any of it may remain */
	int err_fd;              /* the read end of the command's stderr, -1 */
	sk_buf held;             /* an unfinished stderr line, held back */
	sk_tail tail;
	int64_t attempt, attempt_id;
	int64_t started_mono, started_wall, ended_mono;
	sk_exit last;
	/* How the attempt is ending, for its exit record. */
	int stalled;             /* the stall watchdog stopped it */
	int hup_sent;            /* a SIGHUP was passed on to it */
	int group_signal;        /* what a stop or a stall sent the group, 0 none */
	char message[512];       /* why the run ended, for the supervisor row */
	int64_t kill_at, restart_at, stall_at;    /* monotonic deadlines, -1 none */
	sk_stall stall;
	int status;
};

/* A failed write to the store does not stop the supervision: say so. */
static void store_warn(struct sv *v, int rc, const sk_err *e)
{
	if (rc < 0)
		sk_warn("%s: state store: %s", v->label, e->msg);
}

static void put_row(struct sv *v, const char *state)
{
	sk_err e;

	if (!v->record)
		return;
	v->row.state = state;
	v->row.desired = v->want_down ? "down" : "up";
	v->row.pid = v->pid > 0 ? v->pid : -1;
	v->row.attempt = v->attempt;
	store_warn(v, sk_state_put_supervisor(v->st, &v->row, &e), &e);
}

/* Copy the command's stderr to ours a line at a time, keeping its tail;
 * with drain, everything there is (its writers are gone). */
static void pass_stderr(struct sv *v, int drain)
{
	char buf[65536];
	ssize_t n;
	size_t done;
	sk_err e;

	while (v->err_fd >= 0) {
		n = read(v->err_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !drain)
			return;
		if (n > 0) {
			sk_tail_feed(&v->tail, buf, (size_t)n);
			if (sk_buf_add(&v->held, buf, (size_t)n) < 0)
				v->held.len = 0;
			done = sk_complete_lines(v->held.p, v->held.len);
			if (v->held.len - done > HELD_LINE_MAX)
				done = v->held.len;
		} else {
			close(v->err_fd);
			v->err_fd = -1;
			done = v->held.len;
		}
		if (done && sk_write_all(STDERR_FILENO, v->held.p, done, &e, "standard error") < 0)
			done = v->held.len;     /* nowhere to write it: drop it */
		if (done) {
			memmove(v->held.p, v->held.p + done, v->held.len - done);
			v->held.len -= done;
		}
		if (n > 0 && !drain)
			return;
	}
}

/* Send sig to the command's group and, with orphans, to every other child
 * of ours: a process that left the group and lost its parent is ours. */
static void signal_all(struct sv *v, int sig, int group, int orphans)
{
	pid_t *pids;
	size_t i, n;

	if (group && v->pgid > 0)
		kill(-v->pgid, sig);
	if (!orphans || sk_own_children(&pids, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		if (getpgid(pids[i]) != v->pgid)
			kill(pids[i], sig);
	free(pids);
}

static void set_kill_deadline(struct sv *v)
{
	if (v->kill_at < 0 && v->state != SK_SV_KILLING)
		v->kill_at = sk_now_ms() + v->o->stop_timeout_ms;
}

static const char *const policy_names[] = { "no", "on-failure", "always" };

static void give_up(struct sv *v, const sk_decision *d, const char *how)
{
	const sk_policy *p = v->o->policy;
	char window[32] = "";

	if (p->window_ms > 0)
		sk_duration_format(p->window_ms, window, sizeof window);
	snprintf(v->message, sizeof v->message, "giving up after %u failures %s%s (--restart=%s"
	         " --max-failures %u%s%s): attempt %lld %s", d->failures, window[0] ? "in " : "in a row",
	         window, policy_names[p->restart], p->max_failures, window[0] ? " --window " : "", window,
	         (long long)v->attempt, how);
	sk_error("%s: %s", v->label, v->message);
	v->row.message = v->message;
}

/* What the policy says once an attempt is over and every process gone. */
static void decide(struct sv *v)
{
	sk_decision d;
	char how[256], delay[32];

	sk_exit_describe(&v->last, how, sizeof how);
	v->status = sk_exit_status(&v->last);
	if (v->want_down) {
		/* Killed by the signal the stop sent it, as systemd counts a
		 * service stopped by its stop signal: no failure. A SIGHUP that
		 * ends it then, a stall's signal, SIGKILL after --stop-timeout
		 * and any exit status but 0 are. */
		v->last.requested = v->group_signal != 0 && v->last.signal == v->group_signal && !v->last.stalled;
		v->state = SK_SV_DONE;
		put_row(v, "stopped");
		return;
	}
	d = sk_restarts_decide(&v->restarts, &v->last, v->started_mono, v->ended_mono);
	/* A SIGHUP that ends the run ends it as any signal does. */
	if (d.verdict != SK_VERDICT_RESTART)
		v->last.requested = 0;
	if (d.verdict == SK_VERDICT_GIVE_UP) {
		give_up(v, &d, how);
		v->state = SK_SV_DONE;
		put_row(v, "gave-up");
		return;
	}
	if (d.verdict == SK_VERDICT_EXIT) {
		if (sk_exit_failed(&v->last)) {
			snprintf(v->message, sizeof v->message, "attempt %lld %s; not restarted (--restart=%s)",
			         (long long)v->attempt, how, policy_names[v->o->policy->restart]);
			v->row.message = v->message;
			/* Why on-failure did not restart; the rest says itself. */
			if (v->o->policy->restart != SK_RESTART_NO && !v->last.exec_errno)
				sk_warn("%s: %s", v->label, v->message);
		}
		v->state = SK_SV_DONE;
		put_row(v, "exited");
		return;
	}
	sk_duration_format(d.delay_ms, delay, sizeof delay);
	if (v->last.requested)
		sk_warn("%s: attempt %lld ended by the SIGHUP passed on to it; restarting", v->label,
		        (long long)v->attempt);
	else if (sk_exit_failed(&v->last))
		sk_warn("%s: attempt %lld %s; restarting in %s", v->label, (long long)v->attempt, how, delay);
	else
		sk_info("%s: attempt %lld %s; restarting in %s", v->label, (long long)v->attempt, how, delay);
	v->state = SK_SV_WAITING;
	v->restart_at = sk_now_ms() + d.delay_ms;
	put_row(v, "waiting");
}

/* Every process of the attempt is gone: decide, then record it (a
 * restart at once does not wait for the store). */
static void attempt_over(struct sv *v, int sig)
{
	int64_t id = v->attempt_id, ended_ms = sk_wall_ms();
	sk_exit x;
	char how[256], *tail = NULL;
	int nomem;
	sk_err e;

	(void)sig;
	pass_stderr(v, 1);
	v->pgid = 0;
	v->kill_at = -1;
	v->row.last_status = sk_exit_status(&v->last);
	if (v->record)
		tail = sk_tail_text(&v->tail, &nomem);
	sk_tail_reset(&v->tail);
	decide(v);
	x = v->last;        /* as decide left it: a SIGHUP is no failure only when restarted, the stop's signal
	                     * only when it stops the run */
	if (v->record) {
		sk_exit_describe(&x, how, sizeof how);
		store_warn(v, sk_state_attempt_end(v->st, id, ended_ms, x.code, x.signal ? x.signal : -1,
		                                   sk_exit_is_failure(&x) ? how : NULL, tail, &e), &e);
	}
	free(tail);
}

static void leader_exited(struct sv *v, int status)
{
	v->last = sk_exit_from_wait(status);
	v->last.stalled = v->stalled;
	v->last.requested = v->hup_sent && v->last.signal == SIGHUP;
	v->ended_mono = sk_now_ms();
	v->pid = 0;
}

/* Start the next attempt; -1 when the command could not be run (the
 * attempt is over then: the caller says so). */
static int start_attempt(struct sv *v)
{
	char num[32];
	int fds[2];
	sk_err e;

	v->attempt++;
	v->stalled = v->hup_sent = v->group_signal = 0;
	v->kill_at = v->restart_at = -1;
	v->last = (sk_exit){ .code = 0 };
	snprintf(num, sizeof num, "%lld", (long long)v->attempt);
	if (setenv("STREAMKIT_ATTEMPT", num, 1) < 0 || pipe(fds) < 0) {
		v->last = sk_exit_from_exec(errno);
		fds[0] = fds[1] = -1;
	} else {
		fcntl(fds[0], F_SETFD, FD_CLOEXEC);
		fcntl(fds[1], F_SETFD, FD_CLOEXEC);
		fcntl(fds[0], F_SETFL, O_NONBLOCK);
		if (sk_spawn(v->o->argv, &v->child_mask, &v->child_defaults, fds[1], &v->pid) < 0)
			v->last = sk_exit_from_exec(errno);
		close(fds[1]);
	}
	v->started_mono = sk_now_ms();
	v->started_wall = sk_wall_ms();
	v->err_fd = fds[0];
	if (v->last.exec_errno) {
		sk_error("%s: %s", v->o->argv[0], v->last.exec_errno == ENOENT ? "command not found" :
		         strerror(v->last.exec_errno));
		v->pid = 0;
	}
	v->pgid = v->pid;
	if (v->record)
		store_warn(v, sk_state_attempt_start(v->st, v->row.name, v->run_id, v->attempt,
		                                     v->pid > 0 ? v->pid : -1, v->started_wall,
		                                     &v->attempt_id, &e), &e);
	sk_stall_reset(&v->stall);
	v->stall_at = v->o->stall_timeout_ms > 0 ? v->started_mono + STALL_POLL_MS : -1;
	if (v->pid == 0) {
		v->ended_mono = v->started_mono;
		return -1;
	}
	put_row(v, "running");
	return 0;
}

static void check_stall(struct sv *v, int sig)
{
	int64_t now = sk_now_ms(), read_ms = 0, checkpoint_ms = 0;
	char t[32];
	sk_err e;

	(void)sig;
	v->stall_at = now + STALL_POLL_MS;
	if (sk_state_read_progress(v->st, v->o->name, &read_ms, &checkpoint_ms, &e) < 0) {
		store_warn(v, -1, &e);
		return;
	}
	if (!sk_stall_check(&v->stall, now, v->started_wall, read_ms, checkpoint_ms))
		return;
	sk_duration_format(v->o->stall_timeout_ms, t, sizeof t);
	sk_warn("%s: stalled: messages read in attempt %lld are not checkpointed after %s; stopping it",
	        v->label, (long long)v->attempt, t);
	v->stalled = 1;
	v->stall_at = -1;
	signal_all(v, v->o->stop_signal, 1, 0);
	v->group_signal = v->o->stop_signal;
	set_kill_deadline(v);
}

/* --- the actions --- */

/* The leader has exited and processes of its group remain: stop them
 * before anything else; the group once, unless a stop or a stall has
 * already sent it the stop signal. */
static void stop_rest(struct sv *v, int sig)
{
	(void)sig;
	signal_all(v, v->o->stop_signal, v->group_signal != v->o->stop_signal, 1);
	set_kill_deadline(v);
}

/* SIGKILL for whatever is left once the leader is gone. */
static void kill_rest(struct sv *v, int sig)
{
	(void)sig;
	if (v->pid == 0)
		signal_all(v, SIGKILL, 1, 1);
}

/* The stop timeout passed. */
static void kill_all(struct sv *v, int sig)
{
	(void)sig;
	signal_all(v, SIGKILL, 1, 1);
}

/* SIGTERM, SIGINT, SIGQUIT: stop for good, with sig to the group (and,
 * once the leader is gone, to the orphans). */
static void stop_group(struct sv *v, int sig)
{
	v->want_down = 1;
	signal_all(v, sig, 1, v->pid == 0);
	v->group_signal = sig;
	set_kill_deadline(v);
	put_row(v, "stopping");
}

/* A stop while waiting to restart: nothing runs; done. */
static void stop_waiting(struct sv *v, int sig)
{
	(void)sig;
	v->want_down = 1;
	decide(v);
}

static void pass_on(struct sv *v, int sig)
{
	signal_all(v, sig, 1, 0);
	v->hup_sent |= sig == SIGHUP;
}

static void restart_now(struct sv *v, int sig)
{
	(void)sig;
	v->restart_at = sk_now_ms();
}

static void start_next(struct sv *v, int sig)
{
	(void)sig;
	if (start_attempt(v) < 0)
		attempt_over(v, 0);
}

/* --- the table --- */

struct transition {
	void (*act)(struct sv *v, int sig);    /* NULL: the event is ignored */
	int next;                              /* a state, or SK_SV_DECIDED by act */
	const char *what;
};

#define STAY -2                 /* the state does not change */
#define T(act, next, what) { act, next, what }

static const struct transition actions[SK_SV_NSTATES][SK_SV_NEVENTS] = {
	[SK_SV_RUNNING] = {
		[SK_SV_LEADER_EXITED] = T(stop_rest, SK_SV_ENDING, "stop the rest of the group"),
		[SK_SV_ALL_GONE] = T(attempt_over, SK_SV_DECIDED, "end the attempt"),
		[SK_SV_STOP] = T(stop_group, STAY, "stop the group"),
		[SK_SV_PASS] = T(pass_on, STAY, "pass the signal on"),
		[SK_SV_HUP] = T(pass_on, STAY, "pass the signal on"),
		[SK_SV_KILL_TIMER] = T(kill_all, SK_SV_KILLING, "kill everything"),
		[SK_SV_STALL_TIMER] = T(check_stall, STAY, "check the checkpoint's progress"),
	},
	[SK_SV_ENDING] = {
		[SK_SV_ALL_GONE] = T(attempt_over, SK_SV_DECIDED, "end the attempt"),
		[SK_SV_STOP] = T(stop_group, STAY, "stop the group"),
		[SK_SV_PASS] = T(pass_on, STAY, "pass the signal on"),
		[SK_SV_HUP] = T(pass_on, STAY, "pass the signal on"),
		[SK_SV_KILL_TIMER] = T(kill_all, SK_SV_KILLING, "kill everything"),
	},
	[SK_SV_KILLING] = {
		[SK_SV_LEADER_EXITED] = T(kill_rest, STAY, "kill what is left"),
		[SK_SV_REAPED] = T(kill_rest, STAY, "kill what is left"),
		[SK_SV_ALL_GONE] = T(attempt_over, SK_SV_DECIDED, "end the attempt"),
		[SK_SV_STOP] = T(stop_group, STAY, "stop the group"),
		[SK_SV_PASS] = T(pass_on, STAY, "pass the signal on"),
		[SK_SV_HUP] = T(pass_on, STAY, "pass the signal on"),
	},
	[SK_SV_WAITING] = {
		[SK_SV_STOP] = T(stop_waiting, SK_SV_DECIDED, "end"),
		[SK_SV_HUP] = T(restart_now, STAY, "restart now"),
		[SK_SV_RESTART_TIMER] = T(start_next, SK_SV_RUNNING, "start the next attempt"),
	},
};

int sk_supervise_next(enum sk_sv_state state, enum sk_sv_event event)
{
	const struct transition *t = &actions[state][event];

	return t->act == NULL || t->next == STAY ? (int)state : t->next;
}

const char *sk_supervise_action(enum sk_sv_state state, enum sk_sv_event event)
{
	return actions[state][event].what;
}

static void on_event(struct sv *v, enum sk_sv_event event, int sig)
{
	const struct transition *t = &actions[v->state][event];

	if (t->act == NULL)
		return;
	if (t->next >= 0)
		v->state = (enum sk_sv_state)t->next;
	t->act(v, sig);
}

/* --- the loop --- */

/* Reap every child that has ended, then say what that means. */
static void reap(struct sv *v)
{
	int status, leader = 0;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			if (pid == v->pid) {
				leader_exited(v, status);
				leader = 1;
			}
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		break;
	}
	if (pid < 0 && v->pid == 0)          /* ECHILD: nothing left */
		on_event(v, SK_SV_ALL_GONE, 0);
	else
		on_event(v, leader ? SK_SV_LEADER_EXITED : SK_SV_REAPED, 0);
}

static void on_signal(struct sv *v, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap(v);
		break;
	case SIGTERM:
		on_event(v, SK_SV_STOP, v->o->stop_signal);
		break;
	case SIGINT:
	case SIGQUIT:
		on_event(v, SK_SV_STOP, sig);
		break;
	case SIGHUP:
		on_event(v, SK_SV_HUP, sig);
		break;
	default:        /* SIGUSR1, SIGUSR2 */
		on_event(v, SK_SV_PASS, sig);
	}
}

static void read_signals(struct sv *v)
{
	struct signalfd_siginfo si;

	while (read(v->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
		on_signal(v, (int)si.ssi_signo);
}

/* The deadline of each timer event, -1 when it is not set or means
 * nothing in the current state. */
static int64_t deadline(const struct sv *v, enum sk_sv_event event)
{
	int64_t at = event == SK_SV_KILL_TIMER ? v->kill_at : event == SK_SV_RESTART_TIMER ? v->restart_at
	             : v->stall_at;

	return actions[v->state][event].act ? at : -1;
}

static const enum sk_sv_event timers[] = { SK_SV_KILL_TIMER, SK_SV_RESTART_TIMER, SK_SV_STALL_TIMER };

static void run_timers(struct sv *v)
{
	int64_t at, now = sk_now_ms();
	size_t i;

	for (i = 0; i < sizeof timers / sizeof timers[0] && v->state != SK_SV_DONE; i++) {
		if ((at = deadline(v, timers[i])) < 0 || now < at)
			continue;
		if (timers[i] == SK_SV_KILL_TIMER)
			v->kill_at = -1;
		on_event(v, timers[i], 0);
	}
}

static int poll_timeout(const struct sv *v)
{
	int64_t next = -1, now = sk_now_ms(), at;
	size_t i;

	for (i = 0; i < sizeof timers / sizeof timers[0]; i++)
		if ((at = deadline(v, timers[i])) >= 0 && (next < 0 || at < next))
			next = at;
	if (next < 0)
		return -1;
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static int supervise(struct sv *v, sk_err *e)
{
	struct pollfd fds[2];
	int n;

	v->state = SK_SV_RUNNING;
	if (start_attempt(v) < 0)
		attempt_over(v, 0);
	while (v->state != SK_SV_DONE) {
		fds[0] = (struct pollfd){ .fd = v->sigfd, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = v->err_fd, .events = POLLIN };
		n = poll(fds, v->err_fd >= 0 ? 2 : 1, poll_timeout(v));
		if (n < 0 && errno != EINTR)
			return sk_err_set(e, EX_OSERR, "poll: %s", strerror(errno));
		if (n > 0 && v->err_fd >= 0 && fds[1].revents)
			pass_stderr(v, 0);
		if (n > 0 && fds[0].revents)
			read_signals(v);
		if (v->state != SK_SV_DONE)
			run_timers(v);
	}
	return v->status;
}

/* Block the signals the supervisor handles, read them from a signalfd; the
 * command gets the mask and the dispositions the supervisor was given. A
 * signal ignored from the start (nohup) stays ignored, and is not passed on. */
static int setup_signals(struct sv *v, sk_err *e)
{
	static const int handled[] = { SIGCHLD, SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2 };
	struct sigaction sa, old;
	sigset_t set;
	size_t i;

	sigemptyset(&set);
	sigemptyset(&v->child_defaults);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof handled / sizeof handled[0]; i++) {
		sigaction(handled[i], NULL, &old);
		if (old.sa_handler == SIG_IGN && handled[i] != SIGCHLD)
			continue;
		if (handled[i] == SIGCHLD) {        /* not ignored, no SA_NOCLDWAIT */
			sa.sa_handler = SIG_DFL;
			sigaction(SIGCHLD, &sa, NULL);
		}
		sigaddset(&set, handled[i]);
	}
	sigaction(SIGPIPE, NULL, &old);
	if (old.sa_handler != SIG_IGN) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
		sigaddset(&v->child_defaults, SIGPIPE);
	}
	if (sigprocmask(SIG_BLOCK, &set, &v->child_mask) < 0 ||
	    (v->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return sk_err_set(e, EX_OSERR, "signalfd: %s", strerror(errno));
	/* Orphans of the command are reparented to us, to be reaped and stopped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		sk_warn("cannot become a child subreaper: %s", strerror(errno));
	return 0;
}

/* The state store, the name's row, and what the command inherits. */
static int open_store(struct sv *v, sk_err *e)
{
	const sk_supervise_opts *c = v->o;

	snprintf(v->run_id, sizeof v->run_id, "%lld-%ld", (long long)sk_wall_ms(), (long)getpid());
	if (c->name && setenv("STREAMKIT_NAME", c->name, 1) < 0)
		return sk_err_set(e, EX_OSERR, "setenv: %s", strerror(errno));
	if (c->name == NULL) {
		if (c->state && setenv("STREAMKIT_STATE", c->state, 1) < 0)
			return sk_err_set(e, EX_OSERR, "setenv: %s", strerror(errno));
		return 0;
	}
	if (sk_state_open(c->state, &v->st, e) < 0)
		return -1;
	if (setenv("STREAMKIT_STATE", sk_state_path(v->st), 1) < 0)
		return sk_err_set(e, EX_OSERR, "setenv: %s", strerror(errno));
	/* Inside another stream-run, a name from the environment is the outer
	 * one's: its supervisor records the pipeline, this one only runs a part. */
	v->record = !(c->name_from_env && getenv("STREAMKIT_ATTEMPT"));
	if (!v->record)
		return 0;
	v->row = (sk_supervisor){
		.name = c->name, .desired = "up", .state = "starting", .run_id = v->run_id,
		.supervisor_pid = getpid(), .supervisor_start = sk_process_start(getpid()),
		.pid = -1, .last_status = -1, .started_ms = sk_wall_ms(),
	};
	/* 1: held (EX_TEMPFAIL), as when started from cron while it runs. */
	return sk_state_claim_supervisor(v->st, &v->row, sk_process_alive, e) == 0 ? 0 : -1;
}

int sk_supervise(const sk_supervise_opts *o, sk_err *e)
{
	struct sv v = { .o = o, .sigfd = -1, .err_fd = -1, .kill_at = -1, .restart_at = -1, .stall_at = -1 };
	int rc = -1;

	v.label = o->name ? o->name : o->argv[0];
	if (sk_restarts_init(&v.restarts, o->policy, e) < 0)
		return -1;
	if (setup_signals(&v, e) == 0 && open_store(&v, e) == 0)
		rc = supervise(&v, e);
	sk_state_close(v.st);
	sk_restarts_free(&v.restarts);
	sk_buf_free(&v.held);
	sk_tail_reset(&v.tail);
	return rc;
}
