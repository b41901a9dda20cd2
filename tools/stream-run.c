/* stream-run - run a command (a pipeline, often `sh -c '...'`) in a process
 * group of its own, restart it by policy, forward signals, stop the whole
 * group, reap every process, and record each attempt in the state store. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exit.h"
#include "process.h"
#include "restart.h"
#include "run_status.h"
#include "stall.h"
#include "state.h"
#include "tail.h"
#include "util.h"

#define STALL_POLL_MS 1000      /* how often the stall watchdog reads the store */
#define HELD_LINE_MAX 4096      /* a partial stderr line held back at most this long */
#define STATUS_ATTEMPTS 5       /* attempts listed by --status */

static const char usage_text[] =
	"usage: stream-run [options] [--] COMMAND [ARGS]\n"
	"       stream-run [--state PATH] [--json] --status NAME\n"
	"\n"
	"Run COMMAND in a process group of its own; restart it by policy.\n"
	"\n"
	"      --name NAME          record attempts under NAME (default $STREAMKIT_NAME)\n"
	"      --state PATH         the state store (default $STREAMKIT_STATE)\n"
	"      --restart POLICY     no, on-failure (default) or always\n"
	"      --restart-on LIST    also restart after these exit codes or signals\n"
	"      --no-restart-on LIST never restart after these exit codes or signals\n"
	"      --delay T            wait T before a restart after a failure (default 1s)\n"
	"      --delay-step T       add T to the delay after each failure (default 0)\n"
	"      --delay-factor F     multiply the delay by F after each failure (default 2)\n"
	"      --delay-max T        the longest delay (default 1m)\n"
	"      --healthy-after T    a run this long resets the delay (default 1m, 0: never)\n"
	"      --max-failures N     give up after N failures in a row (default 0: never)\n"
	"      --window T           give up after N failures within T instead\n"
	"      --stop-signal SIG    the signal that stops the command (default TERM)\n"
	"      --stop-timeout T     then SIGKILL what is left after T (default 10s)\n"
	"      --stall-timeout T    restart when read messages stay unchecked for T\n"
	"      --status NAME        what the supervisor of NAME does, then exit\n"
	"      --json               --status as JSON\n"
	"  -q, --quiet              no warnings\n"
	"  -v, --verbose            more detail on stderr\n"
	"      --help               this text\n"
	"      --version            the version\n";

struct config {
	const char *name, *state, *status;
	int name_from_env, json;
	sk_policy policy;
	int stop_signal;
	int64_t stop_timeout_ms, stall_timeout_ms;
	char **argv;
};

enum {
	OPT_NAME = 256, OPT_STATE, OPT_RESTART, OPT_RESTART_ON, OPT_NO_RESTART_ON, OPT_DELAY,
	OPT_DELAY_STEP, OPT_DELAY_FACTOR, OPT_DELAY_MAX, OPT_HEALTHY, OPT_MAX_FAILURES, OPT_WINDOW,
	OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_STALL, OPT_STATUS, OPT_JSON, OPT_HELP, OPT_VERSION,
};

static const struct option long_options[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "restart", required_argument, NULL, OPT_RESTART },
	{ "restart-on", required_argument, NULL, OPT_RESTART_ON },
	{ "no-restart-on", required_argument, NULL, OPT_NO_RESTART_ON },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "delay-step", required_argument, NULL, OPT_DELAY_STEP },
	{ "delay-factor", required_argument, NULL, OPT_DELAY_FACTOR },
	{ "delay-max", required_argument, NULL, OPT_DELAY_MAX },
	{ "healthy-after", required_argument, NULL, OPT_HEALTHY },
	{ "max-failures", required_argument, NULL, OPT_MAX_FAILURES },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "stop-signal", required_argument, NULL, OPT_STOP_SIGNAL },
	{ "stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT },
	{ "stall-timeout", required_argument, NULL, OPT_STALL },
	{ "status", required_argument, NULL, OPT_STATUS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	if (fmt)
		sk_error(fmt, arg);
	fprintf(stderr, "usage: stream-run [options] [--] COMMAND [ARGS]; see stream-run --help\n");
	return EX_USAGE;
}

/* A duration option; -1 with the usage status in *rc. */
static int duration_arg(const char *opt, int64_t *ms, int *rc)
{
	sk_err e;

	if (sk_parse_duration(optarg, ms, &e) < 0) {
		char msg[1200];
		snprintf(msg, sizeof msg, "%s: %s", opt, e.msg);
		*rc = usage_error("%s", msg);
		return -1;
	}
	return 0;
}

static int parse_factor(const char *s, double *f)
{
	char *end;

	*f = strtod(s, &end);
	return end != s && *end == '\0' && *f >= 1 && *f <= 1000 ? 0 : -1;
}

/* One option into c; -1 when the program is done (exit status in *rc). */
static int parse_option(int opt, struct config *c, int *rc)
{
	sk_policy *p = &c->policy;
	uint64_t n;
	sk_err e;

	switch (opt) {
	case OPT_NAME: c->name = optarg; c->name_from_env = 0; return 0;
	case OPT_STATE: c->state = optarg; return 0;
	case OPT_RESTART:
		if (sk_policy_parse_restart(p, optarg, &e) < 0)
			return *rc = usage_error("%s", e.msg), -1;
		return 0;
	case OPT_RESTART_ON:
	case OPT_NO_RESTART_ON:
		if (sk_policy_parse_codes(p, optarg, opt == OPT_RESTART_ON, &e) < 0)
			return *rc = usage_error("%s", e.msg), -1;
		return 0;
	case OPT_DELAY: return duration_arg("--delay", &p->delay_ms, rc);
	case OPT_DELAY_STEP: return duration_arg("--delay-step", &p->delay_step_ms, rc);
	case OPT_DELAY_MAX: return duration_arg("--delay-max", &p->delay_max_ms, rc);
	case OPT_HEALTHY: return duration_arg("--healthy-after", &p->healthy_after_ms, rc);
	case OPT_WINDOW: return duration_arg("--window", &p->window_ms, rc);
	case OPT_STOP_TIMEOUT: return duration_arg("--stop-timeout", &c->stop_timeout_ms, rc);
	case OPT_STALL: return duration_arg("--stall-timeout", &c->stall_timeout_ms, rc);
	case OPT_DELAY_FACTOR:
		if (parse_factor(optarg, &p->delay_factor) < 0)
			return *rc = usage_error("invalid --delay-factor '%s' (expected a number from 1 to"
			                         " 1000)", optarg), -1;
		return 0;
	case OPT_MAX_FAILURES:
		if (sk_parse_count(optarg, &n, &e) < 0 || n > 1000000)
			return *rc = usage_error("invalid --max-failures '%s' (expected 0 to 1000000)",
			                         optarg), -1;
		p->max_failures = (unsigned)n;
		return 0;
	case OPT_STOP_SIGNAL:
		if (sk_signal_parse(optarg, &c->stop_signal, &e) < 0)
			return *rc = usage_error("--stop-signal: %s", e.msg), -1;
		return 0;
	case OPT_STATUS: c->status = optarg; return 0;
	case OPT_JSON: c->json = 1; return 0;
	case 'q': sk_verbosity = -1; return 0;
	case 'v': sk_verbosity = sk_verbosity < 0 ? 1 : sk_verbosity + 1; return 0;
	case OPT_HELP:
		fputs(usage_text, stdout);
		return *rc = 0, -1;
	case OPT_VERSION:
		printf("stream-run (streamkit) %s\n", PACKAGE_VERSION);
		return *rc = 0, -1;
	default:
		return *rc = usage_error(NULL, NULL), -1;
	}
}

static int parse_args(int argc, char **argv, struct config *c, int *rc)
{
	int opt;

	/* '+': the first argument that is not an option is the command. */
	while ((opt = getopt_long(argc, argv, "+qv", long_options, NULL)) != -1)
		if (parse_option(opt, c, rc) < 0)
			return -1;
	if (c->name && *c->name == '\0')
		c->name = NULL;
	if (c->status) {
		if (optind < argc)
			return *rc = usage_error("--status takes no command: '%s'", argv[optind]), -1;
		return 0;
	}
	if (c->json)
		return *rc = usage_error("%s", "--json is for --status"), -1;
	if (optind >= argc)
		return *rc = usage_error("%s", "missing COMMAND"), -1;
	if (c->stall_timeout_ms > 0 && c->name == NULL)
		return *rc = usage_error("%s", "--stall-timeout needs --name (or $STREAMKIT_NAME)"), -1;
	if (c->policy.window_ms > 0 && c->policy.max_failures == 0)
		return *rc = usage_error("%s", "--window needs --max-failures"), -1;
	if (c->policy.delay_max_ms < c->policy.delay_ms)
		c->policy.delay_max_ms = c->policy.delay_ms;
	c->argv = argv + optind;
	return 0;
}

/* --- --status --- */

struct status_out {
	const struct config *c;
	sk_buf b;
	int nomem;
};

static int status_summary(void *arg, const sk_run_info *r)
{
	struct status_out *o = arg;

	if (sk_run_status_format(&o->b, r, sk_wall_ms(), o->c->json) < 0)
		return o->nomem = 1;
	/* JSON: the recent attempts go inside the object. */
	if (o->c->json)
		o->b.len--;
	if (sk_buf_adds(&o->b, o->c->json ? ",\"recent\":[" : "recent attempts:\n") < 0)
		return o->nomem = 1;
	return 0;
}

static int status_attempt(void *arg, const sk_attempt *a)
{
	struct status_out *o = arg;

	if ((o->c->json && o->b.p[o->b.len - 1] != '[' && sk_buf_addc(&o->b, ',') < 0) ||
	    sk_attempt_format(&o->b, a, sk_wall_ms(), o->c->json) < 0 ||
	    (!o->c->json && sk_buf_addc(&o->b, '\n') < 0))
		return o->nomem = 1;
	return 0;
}

static int show_status(const struct config *c)
{
	struct status_out o = { .c = c };
	sk_state *st;
	sk_err e = { 0 };
	int found, cb_rc = 0, code = 0;

	if (sk_state_open_readonly(c->state, &st, &e) < 0)
		return sk_fail(&e);
	found = sk_state_get_run(st, c->status, status_summary, &o, &cb_rc, &e);
	if (found == 1 && !o.nomem &&
	    sk_state_each_attempt(st, c->status, STATUS_ATTEMPTS, status_attempt, &o, &e) < 0)
		found = -1;
	if (found == 1 && c->json && sk_buf_adds(&o.b, "]}\n") < 0)
		o.nomem = 1;
	sk_state_close(st);
	if (found < 0) {
		code = sk_fail(&e);
	} else if (o.nomem) {
		code = sk_fail_oom();
	} else if (found == 0) {
		sk_warn("%s: no supervisor has recorded it", c->status);
	} else if (fwrite(o.b.p, 1, o.b.len, stdout) != o.b.len || fflush(stdout) != 0) {
		if (errno != EPIPE) {
			sk_error("standard output: %s", strerror(errno));
			code = EX_IOERR;
		}
	}
	sk_buf_free(&o.b);
	return code;
}

/* --- the supervisor --- */

enum phase {
	RUNNING,        /* the command's leader runs */
	ENDING,         /* it has exited: the rest of its group is being stopped */
	WAITING,        /* for the delay before the next attempt */
	DONE,
};

struct sv {
	const struct config *c;
	const char *label;       /* the name, else the command: what messages are about */
	sk_state *st;            /* with a name */
	int record;              /* this run owns the name's supervisor row and history */
	sk_supervisor row;
	char run_id[64];
	sk_restarts restarts;
	sigset_t child_mask, child_defaults;
	int sigfd;
	enum phase phase;
	pid_t pid;               /* the running leader, 0 none */
	pid_t pgid;              /* its process group, while any of it may remain */
	int err_fd;              /* the read end of the command's stderr, -1 */
	sk_buf held;             /* an unfinished stderr line, held back */
	sk_tail tail;
	int64_t attempt, attempt_id;
	int64_t started_mono, started_wall, ended_mono;
	sk_exit last;
	int stopping, stalled, hup_sent, killing, ending_signalled;
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
	v->row.desired = v->stopping ? "down" : "up";
	v->row.pid = v->phase == RUNNING ? v->pid : -1;
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
	if (v->kill_at < 0 && !v->killing)
		v->kill_at = sk_now_ms() + v->c->stop_timeout_ms;
}

static const char *const policy_names[] = { "no", "on-failure", "always" };

static void give_up(struct sv *v, const sk_decision *d, const char *how)
{
	const sk_policy *p = &v->c->policy;
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
	if (v->stopping) {
		v->last.requested = 0;
		v->phase = DONE;
		put_row(v, "stopped");
		return;
	}
	d = sk_restarts_decide(&v->restarts, &v->last, v->started_mono, v->ended_mono);
	/* A SIGHUP that ends the run ends it as any signal does. */
	if (d.verdict != SK_VERDICT_RESTART)
		v->last.requested = 0;
	if (d.verdict == SK_VERDICT_GIVE_UP) {
		give_up(v, &d, how);
		v->phase = DONE;
		put_row(v, "gave-up");
		return;
	}
	if (d.verdict == SK_VERDICT_EXIT) {
		if (sk_exit_failed(&v->last)) {
			snprintf(v->message, sizeof v->message, "attempt %lld %s; not restarted (--restart=%s)",
			         (long long)v->attempt, how, policy_names[v->c->policy.restart]);
			v->row.message = v->message;
			/* Why on-failure did not restart; the rest says itself. */
			if (v->c->policy.restart != SK_RESTART_NO && !v->last.exec_errno)
				sk_warn("%s: %s", v->label, v->message);
		}
		v->phase = DONE;
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
	v->phase = WAITING;
	v->restart_at = sk_now_ms() + d.delay_ms;
	put_row(v, "waiting");
}

/* Every process of the attempt is gone: decide, then record it (a
 * restart at once does not wait for the store). */
static void attempt_over(struct sv *v)
{
	int64_t id = v->attempt_id, ended_ms = sk_wall_ms();
	sk_exit x;
	char how[256], *tail = NULL;
	int nomem;
	sk_err e;

	pass_stderr(v, 1);
	v->pgid = 0;
	v->kill_at = -1;
	v->killing = 0;
	v->row.last_status = sk_exit_status(&v->last);
	if (v->record)
		tail = sk_tail_text(&v->tail, &nomem);
	sk_tail_reset(&v->tail);
	decide(v);
	x = v->last;        /* as decide left it: a SIGHUP is no failure only when restarted */
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
	v->phase = ENDING;
}

/* Reap every child that has ended; once the leader has, stop the rest of
 * its group, and once nothing is left, the attempt is over. */
static void reap(struct sv *v)
{
	int status;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			if (pid == v->pid)
				leader_exited(v, status);
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		break;
	}
	if (v->phase != ENDING)
		return;
	if (pid < 0) {          /* ECHILD: nothing left */
		attempt_over(v);
		return;
	}
	/* Some processes remain after the leader: stop them before anything
	 * else; the group once, unless a stop or a stall has already sent it
	 * the stop signal. */
	if (v->killing) {
		signal_all(v, SIGKILL, 1, 1);
	} else if (!v->ending_signalled) {
		v->ending_signalled = 1;
		signal_all(v, v->c->stop_signal, v->group_signal != v->c->stop_signal, 1);
		set_kill_deadline(v);
	}
}

/* Start the next attempt; -1 when the command could not be run (the
 * attempt is over then: the caller says so). */
static int start_attempt(struct sv *v)
{
	char num[32];
	int fds[2];
	sk_err e;

	v->attempt++;
	v->phase = RUNNING;
	v->stalled = v->hup_sent = v->killing = v->ending_signalled = v->group_signal = 0;
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
		if (sk_spawn(v->c->argv, &v->child_mask, &v->child_defaults, fds[1], &v->pid) < 0)
			v->last = sk_exit_from_exec(errno);
		close(fds[1]);
	}
	v->started_mono = sk_now_ms();
	v->started_wall = sk_wall_ms();
	v->err_fd = fds[0];
	if (v->last.exec_errno) {
		sk_error("%s: %s", v->c->argv[0], v->last.exec_errno == ENOENT ? "command not found" :
		         strerror(v->last.exec_errno));
		v->pid = 0;
	}
	v->pgid = v->pid;
	if (v->record)
		store_warn(v, sk_state_attempt_start(v->st, v->row.name, v->run_id, v->attempt,
		                                     v->pid > 0 ? v->pid : -1, v->started_wall,
		                                     &v->attempt_id, &e), &e);
	sk_stall_reset(&v->stall);
	v->stall_at = v->c->stall_timeout_ms > 0 ? v->started_mono + STALL_POLL_MS : -1;
	if (v->pid == 0) {
		v->ended_mono = v->started_mono;
		v->phase = ENDING;
		return -1;
	}
	put_row(v, "running");
	return 0;
}

/* SIGTERM, SIGINT, SIGQUIT: stop for good, with sig to the group. */
static void stop(struct sv *v, int sig)
{
	v->stopping = 1;
	if (v->phase == WAITING) {
		decide(v);
		return;
	}
	if (v->phase != RUNNING && v->phase != ENDING)
		return;
	signal_all(v, sig, 1, v->phase == ENDING);
	v->group_signal = sig;
	set_kill_deadline(v);
	put_row(v, "stopping");
}

static void on_signal(struct sv *v, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap(v);
		break;
	case SIGTERM:
		stop(v, v->c->stop_signal);
		break;
	case SIGINT:
	case SIGQUIT:
		stop(v, sig);
		break;
	default:        /* SIGHUP, SIGUSR1, SIGUSR2: passed on */
		if (v->phase == RUNNING || v->phase == ENDING) {
			signal_all(v, sig, 1, 0);
			v->hup_sent |= sig == SIGHUP;
		} else if (v->phase == WAITING && sig == SIGHUP) {
			v->restart_at = sk_now_ms();    /* a restart now */
		}
	}
}

static void read_signals(struct sv *v)
{
	struct signalfd_siginfo si;

	while (read(v->sigfd, &si, sizeof si) == (ssize_t)sizeof si)
		on_signal(v, (int)si.ssi_signo);
}

static void check_stall(struct sv *v, int64_t now)
{
	int64_t read_ms = 0, checkpoint_ms = 0;
	char t[32];
	sk_err e;

	v->stall_at = now + STALL_POLL_MS;
	if (sk_state_read_progress(v->st, v->c->name, &read_ms, &checkpoint_ms, &e) < 0) {
		store_warn(v, -1, &e);
		return;
	}
	if (!sk_stall_check(&v->stall, now, v->started_wall, read_ms, checkpoint_ms))
		return;
	sk_duration_format(v->c->stall_timeout_ms, t, sizeof t);
	sk_warn("%s: stalled: messages read in attempt %lld are not checkpointed after %s; stopping it",
	        v->label, (long long)v->attempt, t);
	v->stalled = 1;
	v->stall_at = -1;
	signal_all(v, v->c->stop_signal, 1, 0);
	v->group_signal = v->c->stop_signal;
	set_kill_deadline(v);
}

static void run_timers(struct sv *v)
{
	int64_t now = sk_now_ms();

	if (v->kill_at >= 0 && now >= v->kill_at) {
		v->kill_at = -1;
		v->killing = 1;
		signal_all(v, SIGKILL, 1, 1);
	}
	if (v->phase == WAITING && now >= v->restart_at && start_attempt(v) < 0)
		attempt_over(v);
	if (v->phase == RUNNING && v->stall_at >= 0 && now >= v->stall_at)
		check_stall(v, now);
}

static int poll_timeout(const struct sv *v)
{
	int64_t next = -1, now = sk_now_ms(), t[3];
	size_t i;

	t[0] = v->kill_at;
	t[1] = v->phase == WAITING ? v->restart_at : -1;
	t[2] = v->phase == RUNNING ? v->stall_at : -1;
	for (i = 0; i < 3; i++)
		if (t[i] >= 0 && (next < 0 || t[i] < next))
			next = t[i];
	if (next < 0)
		return -1;
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static int supervise(struct sv *v)
{
	struct pollfd fds[2];
	int n;

	if (start_attempt(v) < 0)
		attempt_over(v);
	while (v->phase != DONE) {
		fds[0] = (struct pollfd){ .fd = v->sigfd, .events = POLLIN };
		fds[1] = (struct pollfd){ .fd = v->err_fd, .events = POLLIN };
		n = poll(fds, v->err_fd >= 0 ? 2 : 1, poll_timeout(v));
		if (n < 0 && errno != EINTR) {
			sk_error("poll: %s", strerror(errno));
			return EX_OSERR;
		}
		if (n > 0 && v->err_fd >= 0 && fds[1].revents)
			pass_stderr(v, 0);
		if (n > 0 && fds[0].revents)
			read_signals(v);
		if (v->phase != DONE)
			run_timers(v);
	}
	return v->status;
}

/* Block the signals stream-run handles, read them from a signalfd; the
 * command gets the mask and the dispositions stream-run was given. A
 * signal ignored from the start (nohup) stays ignored, and is not passed on. */
static int setup_signals(struct sv *v)
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
	    (v->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		sk_error("signalfd: %s", strerror(errno));
		return -1;
	}
	/* Orphans of the command are reparented to us, to be reaped and stopped. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		sk_warn("cannot become a child subreaper: %s", strerror(errno));
	return 0;
}

/* The state store, the name's row, and what the command inherits. */
static int open_store(struct sv *v, const struct config *c)
{
	sk_err e = { 0 };

	snprintf(v->run_id, sizeof v->run_id, "%lld-%ld", (long long)sk_wall_ms(), (long)getpid());
	if (c->name && setenv("STREAMKIT_NAME", c->name, 1) < 0)
		return sk_err_set(&e, EX_OSERR, "setenv: %s", strerror(errno)), sk_fail(&e);
	if (c->name == NULL) {
		if (c->state && setenv("STREAMKIT_STATE", c->state, 1) < 0)
			return sk_err_set(&e, EX_OSERR, "setenv: %s", strerror(errno)), sk_fail(&e);
		return 0;
	}
	if (sk_state_open(c->state, &v->st, &e) < 0)
		return sk_fail(&e);
	if (setenv("STREAMKIT_STATE", sk_state_path(v->st), 1) < 0)
		return sk_err_set(&e, EX_OSERR, "setenv: %s", strerror(errno)), sk_fail(&e);
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
	switch (sk_state_claim_supervisor(v->st, &v->row, sk_process_alive, &e)) {
	case 0:
		return 0;
	case 1:         /* started from cron while it runs: as it should be, quietly with -q */
		sk_warn("%s", e.msg);
		return EX_TEMPFAIL;
	default:
		return sk_fail(&e);
	}
}

int main(int argc, char **argv)
{
	struct config c = { .stop_signal = SIGTERM, .stop_timeout_ms = 10000 };
	struct sv v = { .c = &c, .sigfd = -1, .err_fd = -1, .kill_at = -1, .restart_at = -1,
	                .stall_at = -1 };
	sk_err e;
	int code = 0;

	sk_log_init(argv[0]);
	sk_policy_init(&c.policy);
	c.name = getenv("STREAMKIT_NAME");
	c.name_from_env = c.name != NULL;
	if (parse_args(argc, argv, &c, &code) < 0)
		return code;
	if (c.status)
		return show_status(&c);
	v.label = c.name ? c.name : c.argv[0];
	if (sk_restarts_init(&v.restarts, &c.policy, &e) < 0)
		return sk_fail(&e);
	if (setup_signals(&v) < 0)
		code = EX_OSERR;
	else if ((code = open_store(&v, &c)) == 0)
		code = supervise(&v);
	sk_state_close(v.st);
	sk_restarts_free(&v.restarts);
	sk_buf_free(&v.held);
	sk_tail_reset(&v.tail);
	return code;
}
