/* stream-read - print the messages of a streaming endpoint, one JSON
 * envelope per line. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "lines.h"
#include "on_error.h"
#include "options.h"
#include "program.h"
#include "reader.h"
#include "source.h"
#include "state.h"
#include "stop.h"
#include "util.h"

#define HELP_HEAD "usage: stream-read [options] [ENDPOINT]\n\n" \
	"Print the messages of ENDPOINT (default -, standard input) as JSON lines.\n\n"
#define USAGE "stream-read [options] [ENDPOINT]; see stream-read --help"

struct config {
	const char *endpoint, *name, *state, *endpoints, *filter;
	sk_program_args *args;  /* --arg, --argjson */
	int argc;               /* argv, for --arg NAME VALUE */
	char **argv;
	int name_from_env, exit_at_end, have_count;
	int from_stored;        /* --from stored: resume, else earliest */
	const char *show;       /* --help, --version: print it and stop */
	uint64_t count;
	int64_t idle_ms;        /* -1: none */
	sk_on_error on_error;
	sk_kindopts kindopts;   /* the options of the endpoint's kind */
	sk_source_opts src;
};

enum {
	OPT_NAME, OPT_STATE, OPT_ENDPOINTS, OPT_FROM, OPT_EXIT_AT_END, OPT_COUNT, OPT_IDLE,
	OPT_JSON, OPT_BINARY, OPT_MAX_LINE, OPT_ON_ERROR, OPT_FILTER, OPT_ARG, OPT_ARGJSON,
	OPT_COMMON,     /* sk_options_common's */
};

/* The program's own options; each kind's follow them (sk_source_option_groups). */
static const sk_option options[] = {
	{ "name", 0, SK_OPT_VALUE, "NAME", "resume from the positions stored for NAME", OPT_NAME, 0 },
	{ "state", 0, SK_OPT_VALUE, "PATH", "the state store (default $STREAMKIT_STATE)", OPT_STATE, 0 },
	{ "endpoints", 0, SK_OPT_VALUE, "FILE", "named endpoints (default $STREAMKIT_ENDPOINTS)", OPT_ENDPOINTS, 0 },
	{ "from", 0, SK_OPT_VALUE, "WHERE", "without a stored position: earliest (beginning),\n"
	  "latest (end); of a kind with offsets, also OFFSET,\n-N (N before the end), @MS (s@MS); stored: with\n--name only",
	  OPT_FROM, 0 },
	{ "o", 'o', SK_OPT_VALUE, "WHERE", "the same (kcat's habit)", OPT_FROM, 0 },
	{ "exit-at-end", 'e', SK_OPT_FLAG, NULL, "stop once caught up with the data there is", OPT_EXIT_AT_END, 0 },
	{ "count", 'c', SK_OPT_VALUE, "N", "stop after N messages", OPT_COUNT, 0 },
	{ "idle-timeout", 0, SK_OPT_VALUE, "T", "stop after T without a message (250ms, 5s, 1m)", OPT_IDLE, 0 },
	{ "json", 0, SK_OPT_FLAG, NULL, "embed values that are JSON text as JSON", OPT_JSON, 0 },
	{ "binary", 0, SK_OPT_VALUE, "MODE", "escape (default) or base64 values", OPT_BINARY, 0 },
	{ "max-line", 0, SK_OPT_VALUE, "SIZE", "longest message accepted (default 16M)", OPT_MAX_LINE, 0 },
	{ "on-error", 0, SK_OPT_VALUE, "ACTION", "fail, skip or dead-letter:PATH for bad messages", OPT_ON_ERROR, 0 },
	{ "filter", 0, SK_OPT_VALUE, "PROGRAM", "print the results of a jq program over each message", OPT_FILTER, 0 },
	{ "arg", 0, SK_OPT_VALUE, "NAME VALUE", "$NAME in the program is the string VALUE", OPT_ARG, 0 },
	{ "argjson", 0, SK_OPT_VALUE, "NAME JSON", "$NAME in the program is the JSON value", OPT_ARGJSON, 0 },
	SK_OPTIONS_COMMON(OPT_COMMON),
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

/* --from and -o: sk_from_parse's places, and stored: the stored position,
 * as --name does anyway, else the start (kcat's -o stored). */
static int parse_from(const char *arg, struct config *c, sk_err *e)
{
	if (strcmp(arg, "stored") != 0) {
		c->from_stored = 0;
		return sk_from_parse(arg, &c->src, e);
	}
	c->from_stored = 1;
	return sk_from_parse("earliest", &c->src, e);
}

/* One of the program's own options (sk_option_cb). */
static int own_option(void *arg, const sk_option *o, const char *v, sk_err *e)
{
	struct config *c = arg;
	uint64_t n;

	switch (o->id) {
	case OPT_NAME: c->name = v; c->name_from_env = 0; break;
	case OPT_STATE: c->state = v; break;
	case OPT_ENDPOINTS: c->endpoints = v; break;
	case OPT_FROM: return parse_from(v, c, e);
	case OPT_EXIT_AT_END: c->exit_at_end = 1; break;
	case OPT_COUNT:
		c->have_count = 1;
		return sk_parse_count(v, &c->count, e) < 0 ? sk_err_prefix(e, "--count") : 0;
	case OPT_IDLE:
		return sk_parse_duration(v, &c->idle_ms, e) < 0 ? sk_err_prefix(e, "--idle-timeout") : 0;
	case OPT_JSON: c->src.json = 1; break;
	case OPT_BINARY:
		if (strcmp(v, "escape") != 0 && strcmp(v, "base64") != 0)
			return sk_err_set(e, EX_USAGE, "invalid --binary '%s' (expected escape or base64)", v);
		c->src.base64 = strcmp(v, "base64") == 0;
		break;
	case OPT_MAX_LINE:
		if (sk_parse_size(v, &n, e) < 0)
			return sk_err_prefix(e, "--max-line");
		if (n == 0 || n > SIZE_MAX / 4)
			return sk_err_set(e, EX_USAGE, "invalid --max-line '%s' (expected at least 1 byte)", v);
		c->src.max_line = (size_t)n;
		break;
	case OPT_ON_ERROR:
		return sk_on_error_parse(v, SK_ON_ERROR_TAKES_ALL, &c->on_error, e);
	case OPT_FILTER: c->filter = v; break;
	case OPT_ARG:
	case OPT_ARGJSON:
		return sk_program_arg(&c->args, c->argc, c->argv, o->id == OPT_ARG ? "--arg" : "--argjson", v, e);
	default:
		return sk_options_common(o, &c->show, e) < 0 ? -1 : 0;
	}
	return 0;
}

/* Parse argv into c; -1 when the program is done (exit code in *rc). */
static int parse_args(int argc, char **argv, struct config *c, int *rc)
{
	const sk_option_group *groups;
	size_t n;
	sk_err e = { 0 };
	int i;

	c->argc = argc;
	c->argv = argv;
	groups = sk_source_option_groups(&n);
	if ((i = sk_options_parse(argc, argv, options, groups, n, own_option, c, &c->kindopts, &e)) < 0) {
		if (c->show)
			*rc = sk_options_show(c->show, "stream-read", PACKAGE_VERSION, HELP_HEAD, options, groups, n);
		else
			*rc = e.code == EX_USAGE ? sk_usage_error(USAGE, "%s", e.msg) : sk_fail(&e);
		return -1;
	}
	if (argc - i > 1)
		return *rc = sk_usage_error(USAGE, "unexpected argument '%s'", argv[i + 1]), -1;
	if (i < argc)
		c->endpoint = argv[i];
	if (c->args && c->filter == NULL)
		return *rc = sk_usage_error(USAGE, "%s", "--arg and --argjson need --filter"), -1;
	c->src.kindopts = &c->kindopts;
	return 0;
}

struct run {
	const sk_endpoint *ep;
	sk_source *src;
	sk_reader *reader;
	sk_reader_opts ro;
};

/* Options that only make sense with a name. */
static int check_resuming(const struct config *c, sk_err *e)
{
	if (c->from_stored && c->name == NULL)
		return sk_err_set(e, EX_USAGE, "--from stored (-o stored) needs --name: "
		                  "positions are stored for a name");
	return 0;
}

/* Resolve the endpoint, open the state store and the source. */
static int open_all(struct config *c, sk_endpoint **ep, sk_state **st, struct run *r, sk_err *e)
{
	char *ini = sk_endpoints_file(c->endpoints);

	if (ini == NULL)
		return sk_err_oom(e);
	if (sk_endpoint_resolve(c->endpoint, ini, ep, e) < 0) {
		free(ini);
		return -1;
	}
	free(ini);
	r->ep = *ep;
	if (sk_source_check(*ep, &c->kindopts, e) < 0)
		return -1;
	if (c->name && c->name_from_env && !sk_source_resumes(*ep)) {
		/* Inside stream-run every program gets the name; a pipe has no position. */
		sk_info("standard input is not resumed: ignoring STREAMKIT_NAME");
		c->name = NULL;
	}
	if (check_resuming(c, e) < 0)
		return -1;
	c->src.json = c->src.json || sk_endpoint_flag(*ep, "json", 0);
	/* jq's input is then built from what --json read: one parse a value. */
	c->src.keep_values = c->src.json && c->filter != NULL;
	if (c->name) {
		if (sk_state_open(c->state, st, e) < 0)
			return -1;
		c->src.name = c->name;
		c->src.state = *st;
	}
	if (sk_source_open(*ep, &c->src, &r->src, e) < 0)
		return sk_err_prefix(e, "%s", (*ep)->arg);
	/* For `stream-checkpoint lag`: where the positions of this source are
	 * read from (as written: never -X values, which may be secrets). */
	if (c->name && sk_state_set_endpoint(*st, c->name, sk_source_id(r->src), (*ep)->arg, e) < 0)
		return -1;
	return 0;
}

/* Catch stop signals, compile --filter, open the dead-letter file: the
 * reader, before the source, which flushes through it. */
static int start_reader(const struct config *c, struct run *r, sk_err *e)
{
	r->ro = (sk_reader_opts){
		.out_fd = STDOUT_FILENO, .out_name = "standard output",
		.have_count = c->have_count, .count = c->count, .exit_at_end = c->exit_at_end,
		.idle_ms = c->idle_ms, .on_error = c->on_error, .filter = c->filter, .args = c->args,
		.stop = sk_stop_catch(e),
	};
	if (r->ro.stop == NULL)
		return -1;
	return (r->reader = sk_reader_new(&r->ro, e)) ? 0 : -1;
}

/* Read, then say how many bad messages were left out: the exit code. */
static int read_all(const struct config *c, struct run *r)
{
	const char *input = r->ep->arg;
	sk_reader_stats n;
	sk_err e;
	int code = 0;

	r->ro.input = input;
	r->ro.state = c->src.state;
	r->ro.name = c->src.name;
	if (sk_reader_run(r->reader, r->src, &n, &e) < 0)
		code = sk_fail(&e);
	if (n.skipped)
		sk_warn("%s: %llu bad message%s skipped", input, (unsigned long long)n.skipped,
		        n.skipped == 1 ? "" : "s");
	if (n.dead_lettered)
		sk_warn("%s: %llu bad message%s written to %s", input, (unsigned long long)n.dead_lettered,
		        n.dead_lettered == 1 ? "" : "s", c->on_error.dead_letter);
	return code;
}

/* Standard output closed, so that the pipeline sees its end: the exit
 * code. (Once the reader has run, it has closed it.) */
static int close_stdout(int code)
{
	if (fclose(stdout) != 0 && errno != EPIPE && code == 0) {
		sk_error("standard output: %s", strerror(errno));
		code = EX_IOERR;
	}
	return code;
}

int main(int argc, char **argv)
{
	struct config c = { .endpoint = "-", .idle_ms = -1, .src = { .max_line = SK_LINES_DEFAULT_MAX } };
	struct run r = { 0 };
	sk_endpoint *ep = NULL;
	sk_state *st = NULL;
	sk_err e = { 0 };
	int code = 0, ran = 0;

	sk_log_init(argv[0]);
	c.name = getenv("STREAMKIT_NAME");
	c.name_from_env = c.name != NULL;
	if (parse_args(argc, argv, &c, &code) < 0)
		goto out;
	if (c.name && *c.name == '\0')
		c.name = NULL;
	if (start_reader(&c, &r, &e) < 0) {
		code = sk_fail(&e);
		goto out;
	}
	c.src.flush = sk_reader_flush;
	c.src.flush_arg = r.reader;
	if (open_all(&c, &ep, &st, &r, &e) < 0) {
		code = sk_fail(&e);
	} else {
		ran = 1;
		code = read_all(&c, &r);
	}
	sk_reader_free(r.reader);
	sk_source_close(r.src);
	if (st)
		sk_state_close(st);
	sk_endpoint_free(ep);
out:
	sk_program_args_free(c.args);
	sk_kindopts_free(&c.kindopts);
	return ran ? code : close_stdout(code);
}
