/* stream-run - run a command (a pipeline, often `sh -c '...'`) in a process
 * group of its own, restart it by policy, forward signals, stop the whole
 * group, reap every process, and record each attempt in the state store. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"
#include "output.h"
#include "process.h"
#include "restart.h"
#include "run_status.h"
#include "state.h"
#include "supervise.h"
#include "util.h"

#define STATUS_ATTEMPTS 5       /* attempts listed by --status */

#define HELP_HEAD "usage: stream-run [options] [--] COMMAND [ARGS]\n" \
	"       stream-run [--state PATH] [--json] --status NAME\n\n" \
	"Run COMMAND in a process group of its own; restart it by policy.\n\n"

struct config {
	const char *name, *state, *status;
	const char *show;       /* --help, --version: print it and stop */
	int name_from_env, json;
	sk_policy policy;
	int stop_signal;
	int64_t stop_timeout_ms, stall_timeout_ms;
	char **argv;
};

enum {
	OPT_NAME, OPT_STATE, OPT_RESTART, OPT_RESTART_ON, OPT_NO_RESTART_ON, OPT_DELAY,
	OPT_DELAY_STEP, OPT_DELAY_FACTOR, OPT_DELAY_MAX, OPT_HEALTHY, OPT_MAX_FAILURES, OPT_WINDOW,
	OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_STALL, OPT_STATUS, OPT_JSON,
	OPT_COMMON,     /* sk_options_common's */
};

static const sk_option options[] = {
	{ "name", 0, SK_OPT_VALUE, "NAME", "record attempts under NAME (default $STREAMKIT_NAME)", OPT_NAME, 0 },
	{ "state", 0, SK_OPT_VALUE, "PATH", "the state store (default $STREAMKIT_STATE)", OPT_STATE, 0 },
	{ "restart", 0, SK_OPT_VALUE, "POLICY", "no, on-failure (default) or always", OPT_RESTART, 0 },
	{ "restart-on", 0, SK_OPT_VALUE, "LIST", "also restart after these exit codes or signals", OPT_RESTART_ON, 0 },
	{ "no-restart-on", 0, SK_OPT_VALUE, "LIST", "never restart after these exit codes or signals",
	  OPT_NO_RESTART_ON, 0 },
	{ "delay", 0, SK_OPT_VALUE, "T", "wait T before a restart after a failure (default 1s)", OPT_DELAY, 0 },
	{ "delay-step", 0, SK_OPT_VALUE, "T", "add T to the delay after each failure (default 0)", OPT_DELAY_STEP, 0 },
	{ "delay-factor", 0, SK_OPT_VALUE, "F", "multiply the delay by F after each failure (default 2)",
	  OPT_DELAY_FACTOR, 0 },
	{ "delay-max", 0, SK_OPT_VALUE, "T", "the longest delay (default 1m)", OPT_DELAY_MAX, 0 },
	{ "healthy-after", 0, SK_OPT_VALUE, "T", "a run this long resets the delay (default 1m, 0: never)",
	  OPT_HEALTHY, 0 },
	{ "max-failures", 0, SK_OPT_VALUE, "N", "give up after N failures in a row (default 0: never)",
	  OPT_MAX_FAILURES, 0 },
	{ "window", 0, SK_OPT_VALUE, "T", "give up after N failures within T instead", OPT_WINDOW, 0 },
	{ "stop-signal", 0, SK_OPT_VALUE, "SIG", "the signal that stops the command (default TERM)", OPT_STOP_SIGNAL, 0 },
	{ "stop-timeout", 0, SK_OPT_VALUE, "T", "then SIGKILL what is left after T (default 10s)", OPT_STOP_TIMEOUT, 0 },
	{ "stall-timeout", 0, SK_OPT_VALUE, "T", "restart when read messages stay unchecked for T", OPT_STALL, 0 },
	{ "status", 0, SK_OPT_VALUE, "NAME", "what the supervisor of NAME does, then exit", OPT_STATUS, 0 },
	{ "json", 0, SK_OPT_FLAG, NULL, "--status as JSON", OPT_JSON, 0 },
	SK_OPTIONS_COMMON(OPT_COMMON),
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};


/* All of p on standard output: 0, also when its reader went away (EPIPE,
 * a clean stop), else the exit status of the error. */
static int write_out(const char *p, size_t n)
{
	sk_output out;
	sk_err e = { 0 };
	int rc;

	signal(SIGPIPE, SIG_IGN);
	sk_output_init(&out, STDOUT_FILENO, "standard output");
	if ((rc = sk_output_add(&out, p, n, 0, &e)) == 0)
		rc = sk_output_flush(&out, &e);
	sk_output_free(&out);
	return rc < 0 ? sk_fail(&e) : 0;
}

#define USAGE "stream-run [options] [--] COMMAND [ARGS]; see stream-run --help"

/* A duration option's value into *ms. */
static int duration_arg(const sk_option *o, const char *v, int64_t *ms, sk_err *e)
{
	return sk_parse_duration(v, ms, e) < 0 ? sk_err_prefix(e, "--%s", o->name) : 0;
}

static int parse_factor(const char *s, double *f)
{
	char *end;

	*f = strtod(s, &end);
	return end != s && *end == '\0' && *f >= 1 && *f <= 1000 ? 0 : -1;
}

/* One of the options (sk_option_cb): 0, or -1 with e set. */
static int take_option(void *arg, const sk_option *o, const char *v, sk_err *e)
{
	struct config *c = arg;
	sk_policy *p = &c->policy;
	uint64_t n;

	switch (o->id) {
	case OPT_NAME: c->name = v; c->name_from_env = 0; return 0;
	case OPT_STATE: c->state = v; return 0;
	case OPT_RESTART: return sk_policy_parse_restart(p, v, e);
	case OPT_RESTART_ON:
	case OPT_NO_RESTART_ON: return sk_policy_parse_codes(p, v, o->id == OPT_RESTART_ON, e);
	case OPT_DELAY: return duration_arg(o, v, &p->delay_ms, e);
	case OPT_DELAY_STEP: return duration_arg(o, v, &p->delay_step_ms, e);
	case OPT_DELAY_MAX: return duration_arg(o, v, &p->delay_max_ms, e);
	case OPT_HEALTHY: return duration_arg(o, v, &p->healthy_after_ms, e);
	case OPT_WINDOW: return duration_arg(o, v, &p->window_ms, e);
	case OPT_STOP_TIMEOUT: return duration_arg(o, v, &c->stop_timeout_ms, e);
	case OPT_STALL: return duration_arg(o, v, &c->stall_timeout_ms, e);
	case OPT_DELAY_FACTOR:
		if (parse_factor(v, &p->delay_factor) < 0)
			return sk_err_set(e, EX_USAGE, "invalid --delay-factor '%s' (expected a number from 1 to 1000)", v);
		return 0;
	case OPT_MAX_FAILURES:
		if (sk_parse_count(v, &n, e) < 0 || n > 1000000)
			return sk_err_set(e, EX_USAGE, "invalid --max-failures '%s' (expected 0 to 1000000)", v);
		p->max_failures = (unsigned)n;
		return 0;
	case OPT_STOP_SIGNAL:
		return sk_signal_parse(v, &c->stop_signal, e) < 0 ? sk_err_prefix(e, "--stop-signal") : 0;
	case OPT_STATUS: c->status = v; return 0;
	case OPT_JSON: c->json = 1; return 0;
	default:
		return sk_options_common(o, &c->show, e) < 0 ? -1 : 0;
	}
}

static int parse_args(int argc, char **argv, struct config *c, int *rc)
{
	sk_err e = { 0 };
	int i;

	if ((i = sk_options_parse_command(argc, argv, options, take_option, c, &e)) < 0) {
		if (c->show)
			*rc = sk_options_show(c->show, "stream-run", PACKAGE_VERSION, HELP_HEAD, options, NULL, 0);
		else
			*rc = e.code == EX_USAGE ? sk_usage_error(USAGE, "%s", e.msg) : sk_fail(&e);
		return -1;
	}
	if (c->name && *c->name == '\0')
		c->name = NULL;
	if (c->status) {
		if (i < argc)
			return *rc = sk_usage_error(USAGE, "--status takes no command: '%s'", argv[i]), -1;
		return 0;
	}
	if (c->json)
		return *rc = sk_usage_error(USAGE, "%s", "--json is for --status"), -1;
	if (i >= argc)
		return *rc = sk_usage_error(USAGE, "%s", "missing COMMAND"), -1;
	if (c->stall_timeout_ms > 0 && c->name == NULL)
		return *rc = sk_usage_error(USAGE, "%s", "--stall-timeout needs --name (or $STREAMKIT_NAME)"), -1;
	if (c->policy.window_ms > 0 && c->policy.max_failures == 0)
		return *rc = sk_usage_error(USAGE, "%s", "--window needs --max-failures"), -1;
	if (c->policy.delay_max_ms < c->policy.delay_ms)
		c->policy.delay_max_ms = c->policy.delay_ms;
	c->argv = argv + i;
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
	} else {
		code = write_out(o.b.p, o.b.len);
	}
	sk_buf_free(&o.b);
	return code;
}

int main(int argc, char **argv)
{
	struct config c = { .stop_signal = SIGTERM, .stop_timeout_ms = 10000 };
	sk_supervise_opts so;
	sk_err e = { 0 };
	int code = 0;

	sk_log_init(argv[0]);
	sk_policy_init(&c.policy);
	c.name = getenv("STREAMKIT_NAME");
	c.name_from_env = c.name != NULL;
	if (parse_args(argc, argv, &c, &code) < 0)
		return code;
	if (c.status)
		return show_status(&c);
	so = (sk_supervise_opts){
		.name = c.name, .name_from_env = c.name_from_env, .state = c.state, .policy = &c.policy,
		.stop_signal = c.stop_signal, .stop_timeout_ms = c.stop_timeout_ms,
		.stall_timeout_ms = c.stall_timeout_ms, .argv = c.argv,
	};
	if ((code = sk_supervise(&so, &e)) >= 0)
		return code;
	/* Started from cron while it runs: as it should be, quietly with -q. */
	if (e.code == EX_TEMPFAIL) {
		sk_warn("%s", e.msg);
		return EX_TEMPFAIL;
	}
	return sk_fail(&e);
}
