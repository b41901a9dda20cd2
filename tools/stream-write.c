/* stream-write - read JSON rows from stdin and write them to an endpoint,
 * committing the rows' cursors with them at each checkpoint. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "options.h"
#include "sink.h"
#include "stop.h"
#include "writer.h"

#define SHOW_BAD 10     /* bad rows reported one by one without -v */

#define HELP_HEAD "usage: stream-write [options] ENDPOINT\n" \
	"Read JSON rows from stdin and write them to ENDPOINT: -, a path, a URL or\n" \
	"a named endpoint; stream-write(1) lists the kinds it writes.\n\n"
#define USAGE "stream-write [options] ENDPOINT (see --help)"

enum {
	OPT_NAME, OPT_STATE, OPT_ENDPOINTS, OPT_SCHEMA, OPT_CHECKPOINT_ROWS, OPT_CHECKPOINT_INTERVAL,
	OPT_ON_ERROR, OPT_MAX_LINE, OPT_MAP, OPT_ARG, OPT_ARGJSON, OPT_COMMON,
};

/* The program's own options; each kind's follow them (sk_sink_option_groups). */
static const sk_option options[] = {
	{ "name", 0, SK_OPT_VALUE, "NAME", "commit the rows' cursors under this recipe name", OPT_NAME, 0 },
	{ "state", 0, SK_OPT_VALUE, "PATH", "the state store (default $STREAMKIT_STATE)", OPT_STATE, 0 },
	{ "endpoints", 0, SK_OPT_VALUE, "FILE", "named endpoints (default $STREAMKIT_ENDPOINTS)", OPT_ENDPOINTS, 0 },
	{ "schema", 0, SK_OPT_VALUE, "FILE|JSON", "the schema rows are coerced to", OPT_SCHEMA, 0 },
	{ "checkpoint-rows", 0, SK_OPT_VALUE, "N", "checkpoint every N rows (default 10000, 0: never)",
	  OPT_CHECKPOINT_ROWS, 0 },
	{ "checkpoint-interval", 0, SK_OPT_VALUE, "T", "checkpoint every T (default 1s, 0: never)",
	  OPT_CHECKPOINT_INTERVAL, 0 },
	{ "on-error", 0, SK_OPT_VALUE, "fail|skip|dead-letter:PATH", "what to do with a bad row (default fail)",
	  OPT_ON_ERROR, 0 },
	{ "max-line", 0, SK_OPT_VALUE, "SIZE", "longest line accepted (default 16M)", OPT_MAX_LINE, 0 },
	{ "map", 0, SK_OPT_VALUE, "PROGRAM", "run a jq program over each row: its results are the rows", OPT_MAP, 0 },
	{ "arg", 0, SK_OPT_VALUE, "NAME VALUE", "$NAME in the programs is the string VALUE", OPT_ARG, 0 },
	{ "argjson", 0, SK_OPT_VALUE, "NAME JSON", "$NAME in the programs is the JSON value", OPT_ARGJSON, 0 },
	SK_OPTIONS_COMMON(OPT_COMMON),
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

struct config {
	const char *endpoint, *name, *state, *endpoints, *schema, *map;
	sk_program_args *args;      /* --arg, --argjson */
	int argc;                   /* argv, for --arg NAME VALUE */
	char **argv;
	const char *show;           /* --help, --version: print it and stop */
	sk_writer_opts w;
	sk_kindopts kindopts;       /* the options of the endpoint's kind */
};

/* One of the program's own options (sk_option_cb). */
static int own_option(void *arg, const sk_option *o, const char *v, sk_err *e)
{
	struct config *c = arg;
	uint64_t n;

	switch (o->id) {
	case OPT_NAME: c->name = v; break;
	case OPT_STATE: c->state = v; break;
	case OPT_ENDPOINTS: c->endpoints = v; break;
	case OPT_SCHEMA: c->schema = v; break;
	case OPT_CHECKPOINT_ROWS:
		if (sk_parse_count(v, &n, e) < 0)
			return sk_err_prefix(e, "--checkpoint-rows");
		c->w.checkpoint_rows = n;
		break;
	case OPT_CHECKPOINT_INTERVAL:
		return sk_parse_duration(v, &c->w.checkpoint_ms, e) < 0 ? sk_err_prefix(e, "--checkpoint-interval") : 0;
	case OPT_ON_ERROR:
		return sk_on_error_parse(v, SK_ON_ERROR_TAKES_ALL, &c->w.on_error, e);
	case OPT_MAX_LINE:
		if (sk_parse_size(v, &n, e) < 0 || n == 0 || n > SIZE_MAX / 2)
			return sk_err_set(e, EX_USAGE, "invalid --max-line '%s' (expected a size such as 64k or 16M)", v);
		c->w.max_line = (size_t)n;
		break;
	case OPT_MAP: c->map = v; break;
	case OPT_ARG:
	case OPT_ARGJSON:
		return sk_program_arg(&c->args, c->argc, c->argv, o->id == OPT_ARG ? "--arg" : "--argjson", v, e);
	default:
		return sk_options_common(o, &c->show, e) < 0 ? -1 : 0;
	}
	return 0;
}

/* 0 to go on, or the exit code (EX_OK after --help, --version). */
static int parse_args(int argc, char **argv, struct config *c)
{
	const sk_option_group *groups;
	size_t n;
	sk_buf need = { 0 };
	sk_err e = { 0 };
	int i, rc;

	c->argc = argc;
	c->argv = argv;
	groups = sk_sink_option_groups(&n);
	if ((i = sk_options_parse(argc, argv, options, groups, n, own_option, c, &c->kindopts, &e)) < 0) {
		if (c->show)
			return sk_options_show(c->show, "stream-write", PACKAGE_VERSION, HELP_HEAD, options, groups, n);
		return e.code == EX_USAGE ? sk_usage_error(USAGE, "%s", e.msg) : sk_fail(&e);
	}
	if (i != argc - 1)
		return sk_usage_error(USAGE, "%s", i < argc ? "expected one ENDPOINT" : "missing ENDPOINT");
	if (c->args && c->map == NULL && !sk_kindopts_flagged(&c->kindopts, groups, n, SK_OPTF_PROGRAM)) {
		/* "--map, --key, ... or --headers": the options that run a program. */
		if (sk_buf_adds(&need, "--map, ") < 0 || sk_options_list(&need, groups, n, SK_OPTF_PROGRAM) < 0)
			return sk_fail_oom();
		rc = sk_usage_error(USAGE, "--arg and --argjson need %s", need.p);
		sk_buf_free(&need);
		return rc;
	}
	c->endpoint = argv[i];
	return 0;
}

static void report_bad(void *arg, const char *msg)
{
	uint64_t *shown = arg;

	++*shown;
	if (*shown <= SHOW_BAD || sk_verbosity > 0)
		sk_warn("%s", msg);
	else if (*shown == SHOW_BAD + 1)
		sk_warn("more bad rows: counted, not shown (-v shows each)");
}

/* Open what the config names and run the writer; the exit code. */
static int write_rows(struct config *c, sk_writer_stats *stats)
{
	sk_sink_opts so = { .kindopts = &c->kindopts, .args = c->args };
	sk_endpoint *ep = NULL;
	sk_schema *schema = NULL;
	sk_state *st = NULL;
	sk_sink *k = NULL;
	char *ini = NULL;
	sk_err e = { 0 };
	int rc = -1;

	if (c->schema && (schema = sk_schema_from_arg(c->schema, &e)) == NULL) {
		sk_err_prefix(&e, "--schema");
		goto out;
	}
	if ((ini = sk_endpoints_file(c->endpoints)) == NULL) {
		sk_err_oom(&e);
		goto out;
	}
	if (sk_endpoint_resolve(c->endpoint, ini, &ep, &e) < 0 || sk_sink_check(ep, &c->kindopts, &e) < 0)
		goto out;
	if (c->name && sk_state_open(c->state, &st, &e) < 0)
		goto out;
	so.name = c->name;
	so.state = st;
	so.schema = schema;
	so.stop = c->w.stop;
	if (sk_sink_open(ep, &so, &k, &e) < 0)
		goto out;
	rc = sk_writer_run(k, STDIN_FILENO, &c->w, stats, &e);
	if (sk_sink_dropped(k))
		sk_info("%s: dropped %llu rows the destination held already", ep->arg,
		        (unsigned long long)sk_sink_dropped(k));
	if (rc == SK_EOF)
		sk_info("%s: the reader went away; stopping", ep->arg);
out:
	sk_sink_close(k);
	sk_state_close(st);
	sk_endpoint_free(ep);
	sk_schema_free(schema);
	free(ini);
	return rc < 0 ? sk_fail(&e) : EX_OK;
}

int main(int argc, char **argv)
{
	struct config c = { 0 };
	sk_writer_stats stats = { 0 };
	uint64_t shown = 0;
	const char *env;
	sk_err e;
	int rc;

	sk_log_init(argv[0]);
	c.w.checkpoint_rows = 10000;
	c.w.checkpoint_ms = 1000;
	c.w.input = "<stdin>";
	c.w.on_bad = report_bad;
	c.w.arg = &shown;
	rc = parse_args(argc, argv, &c);
	if (rc == 0 && c.endpoint && c.map && (c.w.map = sk_program_compile(c.map, c.args, &e)) == NULL) {
		sk_err_prefix(&e, "--map");
		rc = sk_fail(&e);
	}
	if (rc != 0 || c.endpoint == NULL) {
		sk_program_args_free(c.args);
		sk_kindopts_free(&c.kindopts);
		return rc;
	}
	if (c.name == NULL && (env = getenv("STREAMKIT_NAME")) != NULL && *env)
		c.name = env;
	/* Each stop signal counts: a second ends the wait for Kafka's
	 * delivery reports at once. */
	if ((c.w.stop = sk_stop_catch(&e)) == NULL)
		rc = sk_fail(&e);
	else {
		c.w.wake_fd = sk_stop_wake_fd();
		rc = write_rows(&c, &stats);
	}
	sk_program_args_free(c.args);
	sk_kindopts_free(&c.kindopts);
	sk_program_free(c.w.map);
	if (stats.skipped)
		sk_error("skipped %llu bad rows", (unsigned long long)stats.skipped);
	if (stats.dead_lettered)
		sk_error("dead-lettered %llu bad rows to %s", (unsigned long long)stats.dead_lettered,
		         c.w.on_error.dead_letter);
	sk_info("wrote %llu rows from %llu lines in %llu checkpoints", (unsigned long long)stats.rows,
	        (unsigned long long)stats.lines, (unsigned long long)stats.checkpoints);
	return rc;
}
