/* stream-read - print the messages of a streaming endpoint, one JSON
 * envelope per line. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "lines.h"
#include "on_error.h"
#include "program.h"
#include "reader.h"
#include "source.h"
#include "state.h"
#include "util.h"

#define DEFAULT_DRAIN_MS 10000  /* --drain-timeout */

static const char usage_text[] =
	"usage: stream-read [options] [ENDPOINT]\n"
	"\n"
	"Print the messages of ENDPOINT (default -, standard input) as JSON lines.\n"
	"\n"
	"      --name NAME          resume from the positions stored for NAME\n"
	"      --state PATH         the state store (default $STREAMKIT_STATE)\n"
	"      --endpoints FILE     named endpoints (default $STREAMKIT_ENDPOINTS)\n"
	"      --from WHERE         without a stored position: earliest (beginning),\n"
	"                           latest (end); kafka also OFFSET, -N (N before\n"
	"                           the end), @MS (s@MS); stored: with --name only\n"
	"  -o WHERE                 the same (kcat's habit)\n"
	"  -f, --follow             keep reading as the file grows, across rotation\n"
	"      --partial-line MODE  hold or emit a last line without a newline\n"
	"                           (default: hold with --name or --follow)\n"
	"  -e, --exit-at-end        stop once caught up with the data there is\n"
	"  -c, --count N            stop after N messages\n"
	"      --idle-timeout T     stop after T without a message (250ms, 5s, 1m)\n"
	"      --json               embed values that are JSON text as JSON\n"
	"      --binary MODE        escape (default) or base64 values\n"
	"      --max-line SIZE      longest message accepted (default 16M)\n"
	"  -X KEY=VALUE             kafka: a librdkafka setting (repeatable)\n"
	"  -F, --kafka-config FILE  kafka: librdkafka settings, KEY=VALUE lines\n"
	"      --group GROUP        kafka: consume as a member of GROUP\n"
	"      --drain-timeout T    kafka groups: wait up to T for the checkpoint to\n"
	"                           cover what was printed, at a stop (default 10s)\n"
	"      --on-error ACTION    fail, skip or dead-letter:PATH for bad messages\n"
	"      --filter PROGRAM     print the results of a jq program over each message\n"
	"      --arg NAME VALUE     $NAME in the program is the string VALUE\n"
	"      --argjson NAME JSON  $NAME in the program is the JSON value\n"
	"  -q, --quiet              no warnings\n"
	"  -v, --verbose            more detail on stderr\n"
	"      --help               this text\n"
	"      --version            the version\n";

struct config {
	const char *endpoint, *name, *state, *endpoints, *filter;
	sk_program_args *args;  /* --arg, --argjson */
	int name_from_env, exit_at_end, have_count;
	int from_stored;        /* --from stored: resume, else earliest */
	const char **kafka_props;   /* -X */
	uint64_t count;
	int64_t idle_ms;        /* -1: none */
	sk_on_error on_error;
	sk_source_opts src;
};

enum {
	OPT_STATE = 256, OPT_ENDPOINTS, OPT_FROM, OPT_IDLE,
	OPT_JSON, OPT_BINARY, OPT_MAX_LINE, OPT_ON_ERROR, OPT_FILTER, OPT_ARG, OPT_ARGJSON,
	OPT_HELP, OPT_VERSION, OPT_GROUP, OPT_DRAIN, OPT_PARTIAL_LINE,
};

static const struct option long_options[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "endpoints", required_argument, NULL, OPT_ENDPOINTS },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "follow", no_argument, NULL, 'f' },
	{ "partial-line", required_argument, NULL, OPT_PARTIAL_LINE },
	{ "exit-at-end", no_argument, NULL, 'e' },
	{ "count", required_argument, NULL, 'c' },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "binary", required_argument, NULL, OPT_BINARY },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "kafka-config", required_argument, NULL, 'F' },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
	{ "on-error", required_argument, NULL, OPT_ON_ERROR },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "arg", required_argument, NULL, OPT_ARG },
	{ "argjson", required_argument, NULL, OPT_ARGJSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static int usage_error(const char *fmt, const char *arg)
{
	if (fmt)
		sk_error(fmt, arg);
	fprintf(stderr, "usage: stream-read [options] [ENDPOINT]; see stream-read --help\n");
	return EX_USAGE;
}

/* --arg NAME VALUE and --argjson NAME JSON, as jq takes them: NAME in
 * optarg, the value in the next argument. */
static int program_arg(int argc, char **argv, int json, struct config *c, sk_err *e)
{
	const char *opt = json ? "--argjson" : "--arg";

	if (optind >= argc)
		return sk_err_set(e, EX_USAGE, "%s %s: missing value (%s NAME %s)", opt, optarg, opt,
		                  json ? "JSON" : "VALUE");
	if (c->args == NULL && (c->args = sk_program_args_new()) == NULL)
		return sk_err_oom(e);
	if ((json ? sk_program_args_add_json : sk_program_args_add)(c->args, optarg, argv[optind], e) < 0)
		return sk_err_prefix(e, "%s", opt);
	optind++;
	return 0;
}

static int add_kafka_prop(struct config *c, const char *kv)
{
	const char **p = realloc(c->kafka_props, (c->src.nkafka_props + 1) * sizeof *p);

	if (p == NULL)
		return -1;
	p[c->src.nkafka_props++] = kv;
	c->kafka_props = p;
	c->src.kafka_props = p;
	return 0;
}

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

/* Parse argv into c; -1 when the program is done (exit code in *rc). */
static int parse_args(int argc, char **argv, struct config *c, int *rc)
{
	sk_err e;
	uint64_t v;
	int64_t ms;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:efF:o:qvX:", long_options, NULL)) != -1) {
		switch (opt) {
		case 'n': c->name = optarg; c->name_from_env = 0; break;
		case OPT_STATE: c->state = optarg; break;
		case OPT_ENDPOINTS: c->endpoints = optarg; break;
		case OPT_FROM:
		case 'o':
			if (parse_from(optarg, c, &e) < 0)
				return *rc = usage_error("%s", e.msg), -1;
			break;
		case OPT_PARTIAL_LINE:
			if (strcmp(optarg, "hold") == 0)
				c->src.partial_line = SK_PARTIAL_HOLD;
			else if (strcmp(optarg, "emit") == 0)
				c->src.partial_line = SK_PARTIAL_EMIT;
			else
				return *rc = usage_error("invalid --partial-line '%s' (expected hold or emit)", optarg), -1;
			break;
		case 'X':
			if (add_kafka_prop(c, optarg) < 0) {
				sk_err_oom(&e);
				return *rc = sk_fail(&e), -1;
			}
			break;
		case 'F': c->src.kafka_config_file = optarg; break;
		case OPT_GROUP: c->src.group = optarg; break;
		case OPT_DRAIN:
			if (sk_parse_duration(optarg, &ms, &e) < 0)
				return *rc = usage_error("--drain-timeout: %s", e.msg), -1;
			c->src.drain_ms = ms > INT_MAX ? INT_MAX : (int)ms;
			break;
		case 'f': c->src.follow = 1; break;
		case 'e': c->exit_at_end = 1; break;
		case 'c':
			if (sk_parse_count(optarg, &c->count, &e) < 0)
				return *rc = usage_error("--count: %s", e.msg), -1;
			c->have_count = 1;
			break;
		case OPT_IDLE:
			if (sk_parse_duration(optarg, &c->idle_ms, &e) < 0)
				return *rc = usage_error("--idle-timeout: %s", e.msg), -1;
			break;
		case OPT_JSON: c->src.json = 1; break;
		case OPT_BINARY:
			if (strcmp(optarg, "escape") == 0)
				c->src.base64 = 0;
			else if (strcmp(optarg, "base64") == 0)
				c->src.base64 = 1;
			else
				return *rc = usage_error("invalid --binary '%s' (expected escape or base64)", optarg), -1;
			break;
		case OPT_MAX_LINE:
			if (sk_parse_size(optarg, &v, &e) < 0)
				return *rc = usage_error("--max-line: %s", e.msg), -1;
			if (v == 0 || v > SIZE_MAX / 4)
				return *rc = usage_error("invalid --max-line '%s' (expected at least 1 byte)", optarg), -1;
			c->src.max_line = (size_t)v;
			break;
		case OPT_ON_ERROR:
			if (sk_on_error_parse(optarg, SK_ON_ERROR_TAKES_ALL, &c->on_error, &e) < 0)
				return *rc = usage_error("%s", e.msg), -1;
			break;
		case OPT_FILTER: c->filter = optarg; break;
		case OPT_ARG:
		case OPT_ARGJSON:
			if (program_arg(argc, argv, opt == OPT_ARGJSON, c, &e) < 0) {
				if (e.code != EX_USAGE)
					return *rc = sk_fail(&e), -1;
				return *rc = usage_error("%s", e.msg), -1;
			}
			break;
		case 'q': sk_verbosity = -1; break;
		case 'v': sk_verbosity = sk_verbosity < 0 ? 1 : sk_verbosity + 1; break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			*rc = 0;
			return -1;
		case OPT_VERSION:
			printf("stream-read (streamkit) %s\n", PACKAGE_VERSION);
			*rc = 0;
			return -1;
		default:
			return *rc = usage_error(NULL, NULL), -1;
		}
	}
	if (argc - optind > 1)
		return *rc = usage_error("unexpected argument '%s'", argv[optind + 1]), -1;
	if (optind < argc)
		c->endpoint = argv[optind];
	if (c->args && c->filter == NULL)
		return *rc = usage_error("%s", "--arg and --argjson need --filter"), -1;
	return 0;
}

struct run {
	const sk_endpoint *ep;
	sk_source *src;
	sk_reader *reader;
	sk_reader_opts ro;
};

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;     /* no SA_RESTART: waits return early */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Options that only make sense with, or without, a name. */
static int check_resuming(const struct config *c, const sk_endpoint *ep, sk_err *e)
{
	if (c->from_stored && c->name == NULL)
		return sk_err_set(e, EX_USAGE, "--from stored (-o stored) needs --name: "
		                  "positions are stored for a name");
	if (c->src.partial_line != SK_PARTIAL_DEFAULT && ep->kind != SK_EP_FILE && ep->kind != SK_EP_STDIO)
		return sk_err_set(e, EX_USAGE, "%s: --partial-line is for files", ep->arg);
	if (c->src.partial_line == SK_PARTIAL_EMIT && c->name)
		return sk_err_set(e, EX_USAGE, "%s: --partial-line=emit cannot be used with --name: a line "
		                  "emitted before its newline would be committed, and its rest read "
		                  "later as a line of its own", ep->arg);
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
	if ((*ep)->kind != SK_EP_KAFKA && c->src.from != SK_FROM_EARLIEST && c->src.from != SK_FROM_LATEST)
		return sk_err_set(e, EX_USAGE, "%s: --from OFFSET, -N and @MS are for kafka endpoints", (*ep)->arg);
	if ((*ep)->kind != SK_EP_KAFKA && (c->src.nkafka_props || c->src.kafka_config_file || c->src.group))
		return sk_err_set(e, EX_USAGE, "%s: -X, -F and --group are for kafka endpoints",
		                  (*ep)->arg);
	if (c->name && c->name_from_env && (*ep)->kind == SK_EP_STDIO) {
		/* Inside stream-run every program gets the name; a pipe has no position. */
		sk_info("standard input is not resumed: ignoring STREAMKIT_NAME");
		c->name = NULL;
	}
	if (check_resuming(c, *ep, e) < 0)
		return -1;
	c->src.json = c->src.json || sk_endpoint_flag(*ep, "json", 0);
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

/* Compile --filter, open the dead-letter file: the reader, before the
 * source, which flushes through it. */
static int start_reader(const struct config *c, struct run *r, sk_err *e)
{
	r->ro = (sk_reader_opts){
		.out_fd = STDOUT_FILENO, .out_name = "standard output",
		.have_count = c->have_count, .count = c->count, .exit_at_end = c->exit_at_end,
		.idle_ms = c->idle_ms, .on_error = c->on_error, .filter = c->filter, .args = c->args,
		.stop = &stop_signal,
	};
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
	struct config c = { .endpoint = "-", .idle_ms = -1,
	                    .src = { .max_line = SK_LINES_DEFAULT_MAX, .drain_ms = DEFAULT_DRAIN_MS } };
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
	setup_signals();
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
	free(c.kafka_props);
	return ran ? code : close_stdout(code);
}
