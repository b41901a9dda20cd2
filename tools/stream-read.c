/* stream-read - print the messages of a streaming endpoint, one JSON
 * envelope per line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "filter.h"
#include "json.h"
#include "lines.h"
#include "options.h"
#include "program.h"
#include "source.h"
#include "state.h"
#include "util.h"

#define OUT_BATCH (64u << 10)   /* write stdout when this much is waiting */
#define MAX_WAIT_MS 1000        /* bound on one wait, so a stop is never missed */

#define HELP_HEAD "usage: stream-read [options] [ENDPOINT]\n\n" \
	"Print the messages of ENDPOINT (default -, standard input) as JSON lines.\n\n"
#define USAGE "stream-read [options] [ENDPOINT]; see stream-read --help"

enum on_error { ON_ERROR_FAIL, ON_ERROR_SKIP, ON_ERROR_DEAD_LETTER };

struct config {
	const char *endpoint, *name, *state, *endpoints, *dead_letter, *filter;
	sk_program_args *args;  /* --arg, --argjson */
	int argc;               /* argv, for --arg NAME VALUE */
	char **argv;
	int name_from_env, exit_at_end, have_count;
	int from_stored;        /* --from stored: resume, else earliest */
	const char *show;       /* --help, --version: print it and stop */
	uint64_t count;
	int64_t idle_ms;        /* -1: none */
	enum on_error on_error;
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
	  "latest (end); kafka also OFFSET, -N (N before\nthe end), @MS (s@MS); stored: with --name only",
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
	{ "quiet", 'q', SK_OPT_FLAG, NULL, "no warnings", OPT_COMMON, 0 },
	{ "verbose", 'v', SK_OPT_FLAG, NULL, "more detail on stderr", OPT_COMMON, 0 },
	{ "help", 0, SK_OPT_FLAG, NULL, "this text", OPT_COMMON, 0 },
	{ "version", 0, SK_OPT_FLAG, NULL, "the version", OPT_COMMON, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
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
		if (strcmp(v, "fail") == 0)
			c->on_error = ON_ERROR_FAIL;
		else if (strcmp(v, "skip") == 0)
			c->on_error = ON_ERROR_SKIP;
		else if (strncmp(v, "dead-letter:", 12) == 0 && v[12] != '\0') {
			c->on_error = ON_ERROR_DEAD_LETTER;
			c->dead_letter = v + 12;
		} else
			return sk_err_set(e, EX_USAGE, "invalid --on-error '%s' "
			                  "(expected fail, skip or dead-letter:PATH)", v);
		break;
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

/* Standard output, batched. EPIPE means the reader went away: a clean stop. */
static sk_buf out;
static int out_closed;
/* With --name: when messages last went out, for stream-run --stall-timeout. */
static struct { sk_state *st; const char *name; sk_read_note note; } reads;

static int out_flush(sk_err *e)
{
	size_t done = 0;

	if (out.len && reads.st && sk_state_note_read(reads.st, reads.name, &reads.note, 0, e) < 0)
		return -1;
	while (done < out.len) {
		ssize_t w = write(STDOUT_FILENO, out.p + done, out.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE) {
			out_closed = 1;
			break;
		}
		if (w < 0)
			return sk_err_set(e, EX_IOERR, "standard output: %s", strerror(errno));
		done += (size_t)w;
	}
	sk_buf_reset(&out);
	return 0;
}

static int out_message(const sk_msg *m, sk_err *e)
{
	if (sk_buf_add(&out, m->env, m->env_len) < 0 || sk_buf_addc(&out, '\n') < 0)
		return sk_err_oom(e);
	return out.len >= OUT_BATCH ? out_flush(e) : 0;
}

/* A bad message: one JSON line in the dead-letter file, saying where it
 * was and why. A message read whole (one a --filter program failed on)
 * is in "message", as its envelope; one that was not (too long) is located
 * by the members the source gives for it ("line_number" and "offset" in a
 * file, "topic", "partition" and "offset" in Kafka), so that no member
 * means two things. */
static int dead_letter_write(int fd, const char *path, const char *input, const sk_msg *m,
                             const sk_err *why, sk_err *e)
{
	int whole = m->cursor != NULL;
	sk_buf b = { 0 };
	int rc = -1;

	if (sk_buf_adds(&b, "{\"input\":") < 0 || sk_json_add_string(&b, input, strlen(input)) < 0 ||
	    sk_buf_adds(&b, ",\"error\":") < 0 || sk_json_add_string(&b, why->msg, strlen(why->msg)) < 0)
		goto oom;
	if (m->env && m->env_len > 2 && m->env[0] == '{') {
		if (whole ? (sk_buf_adds(&b, ",\"message\":") < 0 || sk_buf_add(&b, m->env, m->env_len) < 0 ||
		             sk_buf_addc(&b, '}') < 0)
		          : (sk_buf_addc(&b, ',') < 0 || sk_buf_add(&b, m->env + 1, m->env_len - 1) < 0))
			goto oom;
	} else if (sk_buf_addc(&b, '}') < 0)
		goto oom;
	if (sk_buf_addc(&b, '\n') < 0)
		goto oom;
	rc = sk_write_all(fd, b.p, b.len, e, path);
	sk_buf_free(&b);
	return rc;
oom:
	sk_buf_free(&b);
	return sk_err_oom(e);
}

struct run {
	const struct config *c;
	const sk_endpoint *ep;
	sk_source *src;
	sk_filter *filter;      /* --filter, or NULL */
	int dead_fd;
	uint64_t emitted, skipped, dead;
};

/* A message the source refused (e->code EX_DATAERR): 0 to go on. */
static int bad_message(struct run *r, const sk_msg *m, sk_err *e)
{
	sk_err werr;

	switch (r->c->on_error) {
	case ON_ERROR_SKIP:
		r->skipped++;
		sk_warn("%s: %s; skipped", r->ep->arg, e->msg);
		return 0;
	case ON_ERROR_DEAD_LETTER:
		if (dead_letter_write(r->dead_fd, r->c->dead_letter, r->ep->arg, m, e, &werr) < 0) {
			*e = werr;
			return -1;
		}
		r->dead++;
		sk_info("%s: %s; written to %s", r->ep->arg, e->msg, r->c->dead_letter);
		return 0;
	default:
		sk_err_prefix(e, "%s", r->ep->arg);
		return -1;
	}
}

/* The results of --filter over one message, each with its cursor. A
 * message the program fails on prints nothing and is a bad message. */
static int out_filtered(void *arg, const sk_filtered *f, sk_err *e)
{
	struct run *r = arg;
	sk_err why;

	if (f->error) {
		why = *f->error;
		if (why.code == EX_DATAERR) {
			sk_err_prefix(&why, "message %s: --filter", f->msg->cursor);
			if (bad_message(r, f->msg, &why) == 0)
				return 0;
		}
		*e = why;
		return -1;
	}
	if (sk_buf_add(&out, f->out, f->out_len) < 0)
		return sk_err_oom(e);
	return out.len >= OUT_BATCH ? out_flush(e) : 0;
}

/* Everything the filter holds, out: before a pause, a bad message, the end. */
static int drain(struct run *r, sk_err *e)
{
	return r->filter ? sk_filter_drain(r->filter, e) : 0;
}

/* The source gives messages up (a Kafka rebalance): everything printed
 * so far goes out first, so that the pipeline can checkpoint it. */
static int flush_output(void *arg, sk_err *e)
{
	return drain(arg, e) < 0 ? -1 : out_flush(e);
}

/* Standard output closed, so that the pipeline sees its end: the exit code. */
static int close_output(int code)
{
	static int closed;

	if (closed)
		return code;
	closed = 1;
	if (fclose(stdout) != 0 && errno != EPIPE && code == 0) {
		sk_error("standard output: %s", strerror(errno));
		code = EX_IOERR;
	}
	return code;
}

/* The next message, flushing stdout whenever none is ready: 1, 0 to
 * stop cleanly, -1 on error. */
static int next_message(struct run *r, sk_msg *m, sk_err *e)
{
	const struct config *c = r->c;
	int64_t idle_until = -1;
	sk_err held;
	int rc, wait;

	for (;;) {
		if (stop_signal || out_closed)
			return 0;
		rc = sk_source_next(r->src, m, 0, e);
		if (rc == 0 || rc == SK_END) {
			if (drain(r, e) < 0 || out_flush(e) < 0)
				return -1;
			if (out_closed || (rc == SK_END && c->exit_at_end))
				return 0;
			if (c->idle_ms >= 0 && idle_until < 0)
				idle_until = sk_now_ms() + c->idle_ms;
			wait = MAX_WAIT_MS;
			if (idle_until >= 0) {
				int64_t left = idle_until - sk_now_ms();
				if (left <= 0)
					return 0;
				if (left < wait)
					wait = (int)left;
			}
			rc = sk_source_next(r->src, m, wait, e);
		}
		if (rc == 1)
			return 1;
		if (rc == SK_EOF)
			return 0;
		if (rc < 0) {
			if (e->code != EX_DATAERR)
				return sk_err_prefix(e, "%s", r->ep->arg);
			/* In order: what the filter holds came before. */
			if (drain(r, &held) < 0) {
				*e = held;
				return -1;
			}
			if (bad_message(r, m, e) < 0)
				return -1;
			idle_until = -1;
		}
	}
}

static int run(struct run *r, sk_err *e)
{
	sk_err ignored;
	sk_msg m;
	int rc = 0;

	while (!(r->c->have_count && r->emitted >= r->c->count)) {
		rc = next_message(r, &m, e);
		if (rc <= 0)
			break;
		if ((rc = r->filter ? sk_filter_push(r->filter, &m, e) : out_message(&m, e)) < 0)
			break;
		r->emitted++;
	}
	if (rc >= 0)
		rc = drain(r, e);
	if (rc < 0) {
		/* What came before the error is good output: deliver it. */
		drain(r, &ignored);
		out_flush(&ignored);
		return -1;
	}
	return out_flush(e);
}

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
	if (c->name) {
		if (sk_state_open(c->state, st, e) < 0)
			return -1;
		c->src.name = c->name;
		c->src.state = *st;
		reads.st = *st;
		reads.name = c->name;
	}
	if (c->on_error == ON_ERROR_DEAD_LETTER) {
		r->dead_fd = open(c->dead_letter, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
		if (r->dead_fd < 0)
			return sk_err_set(e, EX_IOERR, "%s: %s", c->dead_letter, strerror(errno));
	}
	if (sk_source_open(*ep, &c->src, &r->src, e) < 0)
		return sk_err_prefix(e, "%s", (*ep)->arg);
	/* For `stream-checkpoint lag`: where the positions of this source are
	 * read from (as written: never -X values, which may be secrets). */
	if (c->name && sk_state_set_endpoint(*st, c->name, sk_source_id(r->src), (*ep)->arg, e) < 0)
		return -1;
	return 0;
}

static int report_and_close(struct run *r, sk_endpoint *ep, sk_state *st, int code)
{
	if (r->skipped)
		sk_warn("%s: %llu bad message%s skipped", ep->arg, (unsigned long long)r->skipped,
		        r->skipped == 1 ? "" : "s");
	if (r->dead)
		sk_warn("%s: %llu bad message%s written to %s", ep->arg, (unsigned long long)r->dead,
		        r->dead == 1 ? "" : "s", r->c->dead_letter);
	sk_filter_free(r->filter);
	sk_source_close(r->src);
	if (r->dead_fd >= 0 && close(r->dead_fd) < 0 && code == 0) {
		sk_error("%s: %s", r->c->dead_letter, strerror(errno));
		code = EX_IOERR;
	}
	if (st)
		sk_state_close(st);
	sk_endpoint_free(ep);
	sk_buf_free(&out);
	return code;
}

/* Compile --filter and start it: on a thread of its own when there is a
 * second CPU for it, as there would be for jq in a pipeline. */
static int start_filter(const struct config *c, struct run *r, sk_err *e)
{
	r->filter = sk_filter_new(c->filter, c->args, sysconf(_SC_NPROCESSORS_ONLN) > 1, out_filtered, r, e);
	return r->filter ? 0 : sk_err_prefix(e, "--filter");
}

int main(int argc, char **argv)
{
	struct config c = { .endpoint = "-", .idle_ms = -1, .src = { .max_line = SK_LINES_DEFAULT_MAX } };
	struct run r = { .c = &c, .dead_fd = -1 };
	sk_endpoint *ep = NULL;
	sk_state *st = NULL;
	sk_err e = { 0 };
	int code = 0;

	sk_log_init(argv[0]);
	c.name = getenv("STREAMKIT_NAME");
	c.name_from_env = c.name != NULL;
	if (parse_args(argc, argv, &c, &code) < 0)
		goto out;
	if (c.name && *c.name == '\0')
		c.name = NULL;
	if (c.filter && start_filter(&c, &r, &e) < 0) {
		code = sk_fail(&e);
		goto out;
	}
	setup_signals();
	c.src.flush = flush_output;
	c.src.flush_arg = &r;
	if (open_all(&c, &ep, &st, &r, &e) < 0 || run(&r, &e) < 0)
		code = sk_fail(&e);
	/* A clean stop: the output ends first, then the source waits for the
	 * pipeline's checkpoint and acknowledges what it covers. */
	code = close_output(code);
	if (code == 0 && reads.st && sk_state_note_read(reads.st, reads.name, &reads.note, 1, &e) < 0)
		code = sk_fail(&e);
	if (code == 0 && r.src && sk_source_drain(r.src, &e) < 0)
		code = sk_fail(&e);
	if (ep)
		code = report_and_close(&r, ep, st, code);
out:
	if (ep == NULL)
		sk_filter_free(r.filter);
	sk_program_args_free(c.args);
	sk_kindopts_free(&c.kindopts);
	return close_output(code);
}
