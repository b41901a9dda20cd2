/* stream-run - run a command (a pipeline, often `sh -c '...'`) in a process
 * group of its own, restart it by policy, forward signals, stop the whole
 * group, reap every process, and record each attempt in the state store. */
#include "config.h"

#include <getopt.h>
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

static const char version_text[] = "stream-run (streamkit) " PACKAGE_VERSION "\n";

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

/* A duration option; -1 with the usage status in *rc. */
static int duration_arg(const char *opt, int64_t *ms, int *rc)
{
	sk_err e;

	if (sk_parse_duration(optarg, ms, &e) < 0) {
		char msg[1200];
		snprintf(msg, sizeof msg, "%s: %s", opt, e.msg);
		*rc = sk_usage_error(USAGE, "%s", msg);
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
			return *rc = sk_usage_error(USAGE, "%s", e.msg), -1;
		return 0;
	case OPT_RESTART_ON:
	case OPT_NO_RESTART_ON:
		if (sk_policy_parse_codes(p, optarg, opt == OPT_RESTART_ON, &e) < 0)
			return *rc = sk_usage_error(USAGE, "%s", e.msg), -1;
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
			return *rc = sk_usage_error(USAGE, "invalid --delay-factor '%s' (expected a number from 1 to"
			                         " 1000)", optarg), -1;
		return 0;
	case OPT_MAX_FAILURES:
		if (sk_parse_count(optarg, &n, &e) < 0 || n > 1000000)
			return *rc = sk_usage_error(USAGE, "invalid --max-failures '%s' (expected 0 to 1000000)",
			                         optarg), -1;
		p->max_failures = (unsigned)n;
		return 0;
	case OPT_STOP_SIGNAL:
		if (sk_signal_parse(optarg, &c->stop_signal, &e) < 0)
			return *rc = sk_usage_error(USAGE, "--stop-signal: %s", e.msg), -1;
		return 0;
	case OPT_STATUS: c->status = optarg; return 0;
	case OPT_JSON: c->json = 1; return 0;
	case 'q': sk_verbosity = -1; return 0;
	case 'v': sk_verbosity = sk_verbosity < 0 ? 1 : sk_verbosity + 1; return 0;
	case OPT_HELP:
		return *rc = write_out(usage_text, sizeof usage_text - 1), -1;
	case OPT_VERSION:
		return *rc = write_out(version_text, sizeof version_text - 1), -1;
	default:
		return *rc = sk_usage_error(USAGE, NULL), -1;
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
			return *rc = sk_usage_error(USAGE, "--status takes no command: '%s'", argv[optind]), -1;
		return 0;
	}
	if (c->json)
		return *rc = sk_usage_error(USAGE, "%s", "--json is for --status"), -1;
	if (optind >= argc)
		return *rc = sk_usage_error(USAGE, "%s", "missing COMMAND"), -1;
	if (c->stall_timeout_ms > 0 && c->name == NULL)
		return *rc = sk_usage_error(USAGE, "%s", "--stall-timeout needs --name (or $STREAMKIT_NAME)"), -1;
	if (c->policy.window_ms > 0 && c->policy.max_failures == 0)
		return *rc = sk_usage_error(USAGE, "%s", "--window needs --max-failures"), -1;
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
