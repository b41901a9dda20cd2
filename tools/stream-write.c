/* stream-write - read JSON rows from stdin and write them to an endpoint,
 * committing the rows' cursors with them at each checkpoint. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "sink.h"
#include "writer.h"

#define SHOW_BAD 10     /* bad rows reported one by one without -v */

static const char usage_text[] =
	"usage: stream-write [options] ENDPOINT\n"
	"Read JSON rows from stdin and write them to ENDPOINT: -, file:PATH, dataset:DIR,\n"
	"sqlite:PATH?table=TABLE or kafka://HOST:PORT/TOPIC.\n"
	"\n"
	"  --name NAME              commit the rows' cursors under this recipe name\n"
	"  --state PATH             the state store (default $STREAMKIT_STATE)\n"
	"  --endpoints FILE         named endpoints (default $STREAMKIT_ENDPOINTS)\n"
	"  --schema FILE|JSON       the schema rows are coerced to\n"
	"  --format ndjson|csv      format of a new dataset's parts (default ndjson);\n"
	"                           an existing dataset keeps its own\n"
	"  --checkpoint-rows N      checkpoint every N rows (default 10000, 0: never)\n"
	"  --checkpoint-interval T  checkpoint every T (default 1s, 0: never)\n"
	"  --on-error fail|skip|dead-letter:PATH\n"
	"                           what to do with a bad row (default fail)\n"
	"  --max-line SIZE          longest line accepted (default 16M)\n"
	"  --map PROGRAM            run a jq program over each row: its results are the rows\n"
	"  --arg NAME VALUE         $NAME in the programs is the string VALUE\n"
	"  --argjson NAME JSON      $NAME in the programs is the JSON value\n"
	"  --key EXPR               kafka: the message key (jq expression over the row)\n"
	"  --value EXPR             kafka: the message value (default: the row as JSON)\n"
	"  --partition EXPR         kafka: the partition (default: librdkafka's partitioner)\n"
	"  --timestamp EXPR         kafka: the timestamp, ms since 1970 (default: now)\n"
	"  --header NAME=EXPR       kafka: a header (repeatable)\n"
	"  --headers EXPR           kafka: headers from an object, NAME: value or [values]\n"
	"  --binary MODE            kafka: escape (default) or base64: key and value\n"
	"                           strings are base64, sent decoded\n"
	"  --compression CODEC      kafka: none, gzip, snappy, lz4 or zstd\n"
	"  --sync                   kafka: deliver each row before reading the next\n"
	"  -X KEY=VALUE             kafka: a librdkafka setting (repeatable)\n"
	"  -F, --kafka-config FILE  kafka: librdkafka settings, KEY=VALUE lines\n"
	"  -q, --quiet              no warnings\n"
	"  -v, --verbose            more detail\n"
	"  --help, --version\n";

enum {
	OPT_NAME = 256, OPT_STATE, OPT_ENDPOINTS, OPT_SCHEMA, OPT_FORMAT, OPT_CHECKPOINT_ROWS,
	OPT_CHECKPOINT_INTERVAL, OPT_ON_ERROR, OPT_MAX_LINE, OPT_MAP, OPT_ARG, OPT_ARGJSON,
	OPT_KEY, OPT_VALUE, OPT_PARTITION, OPT_TIMESTAMP, OPT_HEADER, OPT_HEADERS, OPT_BINARY,
	OPT_COMPRESSION, OPT_SYNC, OPT_HELP, OPT_VERSION,
};

static const struct option options[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "state", required_argument, NULL, OPT_STATE },
	{ "endpoints", required_argument, NULL, OPT_ENDPOINTS },
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "checkpoint-rows", required_argument, NULL, OPT_CHECKPOINT_ROWS },
	{ "checkpoint-interval", required_argument, NULL, OPT_CHECKPOINT_INTERVAL },
	{ "on-error", required_argument, NULL, OPT_ON_ERROR },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "map", required_argument, NULL, OPT_MAP },
	{ "arg", required_argument, NULL, OPT_ARG },
	{ "argjson", required_argument, NULL, OPT_ARGJSON },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "value", required_argument, NULL, OPT_VALUE },
	{ "partition", required_argument, NULL, OPT_PARTITION },
	{ "timestamp", required_argument, NULL, OPT_TIMESTAMP },
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "headers", required_argument, NULL, OPT_HEADERS },
	{ "binary", required_argument, NULL, OPT_BINARY },
	{ "compression", required_argument, NULL, OPT_COMPRESSION },
	{ "sync", no_argument, NULL, OPT_SYNC },
	{ "kafka-config", required_argument, NULL, 'F' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

struct config {
	const char *endpoint, *name, *state, *endpoints, *schema, *map;
	sk_program_args *args;      /* --arg, --argjson */
	enum sk_format format;
	sk_writer_opts w;
	sk_sink_opts kafka;         /* the kafka_ members: --key ... -X */
	const char **headers, **props;
	int kafka_given;
};

static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = { -1, -1 };

/* Each signal counts: a second one ends the wait for Kafka's delivery
 * reports at once. */
static void on_stop_signal(int sig)
{
	int saved = errno;

	(void)sig;
	if (stop_requested < 2)
		stop_requested++;
	if (write(wake_pipe[1], "", 1) < 0) {
		/* Full: a wake-up is pending already. */
	}
	errno = saved;
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sk_error("%s", msg);
	fprintf(stderr, "usage: stream-write [options] ENDPOINT (see --help)\n");
	return EX_USAGE;
}

/* --arg NAME VALUE and --argjson NAME JSON, as jq takes them: NAME in
 * optarg, the value in the next argument. 0, or the exit code. */
static int program_arg(int argc, char **argv, int json, struct config *c)
{
	const char *opt = json ? "--argjson" : "--arg";
	sk_err e;

	if (optind >= argc)
		return usage_error("%s %s: missing value (%s NAME %s)", opt, optarg, opt, json ? "JSON" : "VALUE");
	if (c->args == NULL && (c->args = sk_program_args_new()) == NULL) {
		return sk_fail_oom();
	}
	if ((json ? sk_program_args_add_json : sk_program_args_add)(c->args, optarg, argv[optind], &e) < 0)
		return e.code == EX_USAGE ? usage_error("%s: %s", opt, e.msg) : sk_fail(&e);
	optind++;
	return 0;
}

/* Append s to a list of option values; -1 on ENOMEM. */
static int add_str(const char ***list, size_t *n, const char *s)
{
	const char **p = realloc(*list, (*n + 1) * sizeof *p);

	if (p == NULL)
		return -1;
	p[(*n)++] = s;
	*list = p;
	return 0;
}

static int has_expressions(const sk_sink_opts *k)
{
	return k->kafka_key || k->kafka_value || k->kafka_partition || k->kafka_timestamp || k->nkafka_headers ||
	       k->kafka_headers_expr;
}

/* 0 to go on, or the exit code (EX_OK after --help, --version). */
static int parse_args(int argc, char **argv, struct config *c)
{
	uint64_t n;
	int64_t ms;
	sk_err e;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "F:qvX:", options, NULL)) != -1) {
		switch (opt) {
		case OPT_KEY: c->kafka.kafka_key = optarg; c->kafka_given = 1; break;
		case OPT_VALUE: c->kafka.kafka_value = optarg; c->kafka_given = 1; break;
		case OPT_PARTITION: c->kafka.kafka_partition = optarg; c->kafka_given = 1; break;
		case OPT_TIMESTAMP: c->kafka.kafka_timestamp = optarg; c->kafka_given = 1; break;
		case OPT_HEADERS: c->kafka.kafka_headers_expr = optarg; c->kafka_given = 1; break;
		case OPT_BINARY:
			if (strcmp(optarg, "base64") != 0 && strcmp(optarg, "escape") != 0)
				return usage_error("invalid --binary '%s' (expected escape or base64)", optarg);
			c->kafka.kafka_base64 = strcmp(optarg, "base64") == 0;
			c->kafka_given = 1;
			break;
		case OPT_COMPRESSION: c->kafka.kafka_compression = optarg; c->kafka_given = 1; break;
		case OPT_SYNC: c->kafka.kafka_sync = 1; c->kafka_given = 1; break;
		case 'F': c->kafka.kafka_config_file = optarg; c->kafka_given = 1; break;
		case OPT_HEADER:
		case 'X':
			if ((opt == 'X' ? add_str(&c->props, &c->kafka.nkafka_props, optarg)
			                : add_str(&c->headers, &c->kafka.nkafka_headers, optarg)) < 0) {
				return sk_fail_oom();
			}
			c->kafka.kafka_props = c->props;
			c->kafka.kafka_headers = c->headers;
			c->kafka_given = 1;
			break;
		case OPT_NAME: c->name = optarg; break;
		case OPT_STATE: c->state = optarg; break;
		case OPT_ENDPOINTS: c->endpoints = optarg; break;
		case OPT_SCHEMA: c->schema = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "ndjson") == 0)
				c->format = SK_FORMAT_NDJSON;
			else if (strcmp(optarg, "csv") == 0)
				c->format = SK_FORMAT_CSV;
			else
				return usage_error("invalid --format '%s' (expected ndjson or csv)", optarg);
			break;
		case OPT_CHECKPOINT_ROWS:
			if (sk_parse_count(optarg, &n, &e) < 0)
				return usage_error("--checkpoint-rows: %s", e.msg);
			c->w.checkpoint_rows = n;
			break;
		case OPT_CHECKPOINT_INTERVAL:
			if (sk_parse_duration(optarg, &ms, &e) < 0)
				return usage_error("--checkpoint-interval: %s", e.msg);
			c->w.checkpoint_ms = ms;
			break;
		case OPT_ON_ERROR:
			if (sk_on_error_parse(optarg, SK_ON_ERROR_TAKES_ALL, &c->w.on_error, &e) < 0)
				return usage_error("%s", e.msg);
			break;
		case OPT_MAX_LINE:
			if (sk_parse_size(optarg, &n, &e) < 0 || n == 0 || n > SIZE_MAX / 2)
				return usage_error("invalid --max-line '%s' (expected a size such as 64k or 16M)", optarg);
			c->w.max_line = (size_t)n;
			break;
		case OPT_MAP: c->map = optarg; break;
		case OPT_ARG:
		case OPT_ARGJSON:
			if ((rc = program_arg(argc, argv, opt == OPT_ARGJSON, c)) != 0)
				return rc;
			break;
		case 'q': sk_verbosity = -1; break;
		case 'v': sk_verbosity = sk_verbosity < 0 ? 1 : sk_verbosity + 1; break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
		case OPT_VERSION:
			printf("stream-write (streamkit) %s\n", PACKAGE_VERSION);
			return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
		default:
			fprintf(stderr, "usage: stream-write [options] ENDPOINT (see --help)\n");
			return EX_USAGE;
		}
	}
	if (optind != argc - 1)
		return usage_error("%s", optind < argc ? "expected one ENDPOINT" : "missing ENDPOINT");
	if (c->args && c->map == NULL && !has_expressions(&c->kafka))
		return usage_error("--arg and --argjson need --map, --key, --value, --partition, --timestamp, "
		                   "--header or --headers");
	c->endpoint = argv[optind];
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

static int catch_signals(void)
{
	struct sigaction sa;
	int i;

	if (pipe(wake_pipe) < 0)
		return -1;
	for (i = 0; i < 2; i++)
		if (fcntl(wake_pipe[i], F_SETFL, O_NONBLOCK) < 0 || fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
			return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop_signal;     /* no SA_RESTART: a wait returns at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);           /* EPIPE on stdout is a clean stop */
	return 0;
}

/* Open what the config names and run the writer; the exit code. */
static int write_rows(struct config *c, sk_writer_stats *stats)
{
	sk_sink_opts so = c->kafka;
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
	if (sk_endpoint_resolve(c->endpoint, ini, &ep, &e) < 0)
		goto out;
	if (c->kafka_given && ep->kind != SK_EP_KAFKA) {
		sk_err_set(&e, EX_USAGE, "%s: --key, --value, --partition, --timestamp, --header, --headers, "
		           "--binary, --compression, --sync, -X and -F are for kafka endpoints", ep->arg);
		goto out;
	}
	if (c->name && sk_state_open(c->state, &st, &e) < 0)
		goto out;
	so.name = c->name;
	so.state = st;
	so.schema = schema;
	so.kafka_args = c->args;
	so.stop = &stop_requested;
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
	c.w.stop = &stop_requested;
	rc = parse_args(argc, argv, &c);
	if (rc == 0 && c.endpoint && c.map && (c.w.map = sk_program_compile(c.map, c.args, &e)) == NULL) {
		sk_err_prefix(&e, "--map");
		rc = sk_fail(&e);
	}
	if (rc != 0 || c.endpoint == NULL) {
		sk_program_args_free(c.args);
		free(c.headers);
		free(c.props);
		return rc;
	}
	if (c.name == NULL && (env = getenv("STREAMKIT_NAME")) != NULL && *env)
		c.name = env;
	if (catch_signals() < 0) {
		sk_error("signals: %s", strerror(errno));
		sk_program_free(c.w.map);
		sk_program_args_free(c.args);
		free(c.headers);
		free(c.props);
		return EX_OSERR;
	}
	c.w.wake_fd = wake_pipe[0];
	c.kafka.format = c.format;
	rc = write_rows(&c, &stats);
	sk_program_args_free(c.args);
	free(c.headers);
	free(c.props);
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
