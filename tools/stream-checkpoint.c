/* stream-checkpoint - the state store's command line: show, list, history,
 * set, reset and lag; and commit, a pass-through filter that checkpoints
 * the cursors of the lines it has written out (at-least-once delivery for
 * any script that prints what it has finished). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cursor.h"
#include "err.h"
#include "json.h"
#include "kafka_lag.h"
#include "commit.h"
#include "lines.h"
#include "on_error.h"
#include "source.h"
#include "state.h"
#include "run_status.h"
#include "util.h"

static const char usage_text[] =
	"usage: stream-checkpoint [--state PATH] [--json] COMMAND [ARGS]\n"
	"\n"
	"  show [NAME]                  committed positions (of every name without NAME)\n"
	"  list                         names, their number of positions, last checkpoint\n"
	"  history NAME [--limit N]     the newest checkpoints, newest first\n"
	"  set NAME CURSOR              resume right after CURSOR (SOURCE:PARTITION:POSITION)\n"
	"  set NAME --source S --partition P --position X\n"
	"  reset NAME [--source S [--partition P]]\n"
	"                               forget positions (and history, without --source)\n"
	"  lag NAME [--timeout T] [--endpoints FILE] [-X KEY=VALUE]...\n"
	"          [-F, --kafka-config FILE]\n"
	"                               how far each partition is behind its source\n"
	"  commit NAME [--checkpoint-rows N] [--checkpoint-interval T]\n"
	"              [--on-error fail|skip] [--max-line SIZE]\n"
	"                               copy stdin to stdout, commit the cursors written\n"
	"\n"
	"  --state PATH   state store (default $STREAMKIT_STATE,\n"
	"                 else $XDG_STATE_HOME/streamkit/state.db)\n"
	"  --name NAME    default NAME (default $STREAMKIT_NAME)\n"
	"  --json         one JSON object per line instead of a table\n"
	"  -q, --quiet    no warnings     -v, --verbose   more detail\n"
	"  --help, --version\n";

enum {
	OPT_STATE = 256, OPT_NAME, OPT_JSON, OPT_LIMIT, OPT_SOURCE, OPT_PARTITION,
	OPT_POSITION, OPT_ROWS, OPT_INTERVAL, OPT_ON_ERROR, OPT_MAX_LINE, OPT_HELP,
	OPT_VERSION, OPT_ENDPOINTS, OPT_TIMEOUT,
};

static const struct option longopts[] = {
	{ "state", required_argument, NULL, OPT_STATE },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "partition", required_argument, NULL, OPT_PARTITION },
	{ "position", required_argument, NULL, OPT_POSITION },
	{ "checkpoint-rows", required_argument, NULL, OPT_ROWS },
	{ "checkpoint-interval", required_argument, NULL, OPT_INTERVAL },
	{ "on-error", required_argument, NULL, OPT_ON_ERROR },
	{ "max-line", required_argument, NULL, OPT_MAX_LINE },
	{ "endpoints", required_argument, NULL, OPT_ENDPOINTS },
	{ "kafka-config", required_argument, NULL, 'F' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* Options that belong to one command: a bit each, to refuse them elsewhere. */
enum {
	F_LIMIT = 1 << 0, F_SOURCE = 1 << 1, F_PARTITION = 1 << 2, F_POSITION = 1 << 3,
	F_ROWS = 1 << 4, F_INTERVAL = 1 << 5, F_ON_ERROR = 1 << 6, F_MAX_LINE = 1 << 7,
	F_ENDPOINTS = 1 << 8, F_KAFKA_PROP = 1 << 9, F_KAFKA_CONFIG = 1 << 10, F_TIMEOUT = 1 << 11,
};

struct opts {
	const char *state_path;      /* NULL: the default */
	const char *name;            /* --name, else $STREAMKIT_NAME */
	int json;
	unsigned given;              /* F_* bits of the options given */
	uint64_t limit;
	const char *source, *partition, *position;
	uint64_t checkpoint_rows;
	int64_t checkpoint_interval_ms;
	sk_on_error on_error;        /* commit: fail or skip */
	uint64_t max_line;
	const char *endpoints;       /* lag: named endpoints file */
	const char *kafka_config;    /* lag: -F */
	const char **kafka_props;    /* lag: -X "KEY=VALUE", in order */
	size_t nkafka_props;
	int64_t lag_timeout_ms;
};

struct command {
	const char *name;
	int (*run)(struct opts *o, int argc, char **argv);
	unsigned allowed;            /* F_* bits */
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sk_error("%s (see --help)", msg);
	return EX_USAGE;
}

/* The NAME argument, else --name / $STREAMKIT_NAME; NULL when neither. */
static const char *name_arg(const struct opts *o, int argc, char **argv, int i)
{
	const char *name = i < argc ? argv[i] : o->name;

	return name && *name ? name : NULL;
}

static int stdout_epipe;      /* the reader of stdout went away: a clean stop */

/* Close stdout, checking it: EPIPE is a clean stop, anything else an error
 * (unless one was reported already). */
static int finish_stdout(int status)
{
	int failed, err;

	errno = 0;
	failed = fflush(stdout) == EOF || ferror(stdout);
	err = errno;
	if (fclose(stdout) == EOF && !failed) {
		failed = 1;
		err = errno;
	}
	if (!failed || status != 0 || stdout_epipe || err == EPIPE)
		return status;
	sk_error("stdout: %s", strerror(err ? err : EIO));
	return EX_IOERR;
}

/* For set, reset and commit: the store is created when there is none. */
static int open_state(const struct opts *o, sk_state **st)
{
	sk_err e = { 0 };

	if (sk_state_open(o->state_path, st, &e) < 0)
		return sk_fail(&e);
	return 0;
}

/* For show, list, history and lag: they read a store they cannot write,
 * and where there is none they say so (69) rather than create one. */
static int read_state(const struct opts *o, sk_state **st)
{
	sk_err e = { 0 };

	if (sk_state_open_readonly(o->state_path, st, &e) < 0)
		return sk_fail(&e);
	return 0;
}

static void format_time(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
}

/* A table printed with aligned columns once every row is known. */
struct table {
	size_t ncols, nrows;
	char **cells;                /* nrows * ncols strings */
	size_t cap;
	int failed;                  /* out of memory */
};

static void table_row(struct table *t, ...)
{
	va_list ap;
	size_t i;

	if (t->failed)
		return;
	if ((t->nrows + 1) * t->ncols > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : t->ncols * 16;
		char **cells = realloc(t->cells, cap * sizeof *cells);
		if (cells == NULL) {
			t->failed = 1;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		char *c = strdup(s ? s : "-");
		if (c == NULL)
			t->failed = 1;
		t->cells[t->nrows * t->ncols + i] = c;
	}
	va_end(ap);
	t->nrows++;
}

static void table_print(const struct table *t)
{
	size_t width[8] = { 0 }, r, c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);
			if (n > width[c])
				width[c] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			if (c + 1 < t->ncols)
				printf("%-*s  ", (int)width[c], s);
			else
				printf("%s\n", s);
		}
	}
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* What show, list, history and lag print: a table, or JSON lines. */
struct listing {
	const struct opts *o;
	struct table t;
	sk_buf b;            /* the JSON line being built */
	int64_t n;           /* rows seen */
	sk_json *json;       /* history: to embed the cursors array */
	sk_buf text, more;   /* show, lag: a position described */
	int werr;            /* errno of a failed write to stdout */
	int nomem;
};

static void json_begin(struct listing *l)
{
	sk_buf_reset(&l->b);
	if (sk_buf_addc(&l->b, '{') < 0)
		l->nomem = 1;
}

/* End the JSON line and print it; non-zero stops the iteration. */
static int json_end(struct listing *l)
{
	if (l->nomem || sk_buf_adds(&l->b, "}\n") < 0)
		return l->nomem = 1;
	if (fwrite(l->b.p, 1, l->b.len, stdout) != l->b.len) {
		l->werr = errno ? errno : EIO;
		stdout_epipe = l->werr == EPIPE;
		return 1;
	}
	return 0;
}

/* A "key":"value" member (null when value is NULL). */
static void json_str(struct listing *l, const char *key, const char *value)
{
	sk_buf *b = &l->b;

	if (sk_buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", key) < 0 ||
	    (value ? sk_json_add_string(b, value, strlen(value)) : sk_buf_adds(b, "null")) < 0)
		l->nomem = 1;
}

static void json_int(struct listing *l, const char *key, int64_t v)
{
	sk_buf *b = &l->b;

	if (sk_buf_printf(b, "%s\"%s\":%lld", b->len > 1 ? "," : "", key, (long long)v) < 0)
		l->nomem = 1;
}

/* The exit status of a listing once the state store has been walked. */
static int listing_finish(struct listing *l, int rc, const sk_err *e)
{
	int status = 0;

	if (l->werr) {
		if (l->werr != EPIPE) {
			sk_error("stdout: %s", strerror(l->werr));
			status = EX_IOERR;
		}
	} else if (l->nomem || l->t.failed) {
		status = sk_fail_oom();
	} else if (rc < 0) {
		status = sk_fail(e);
	} else if (l->t.nrows > 1) {
		table_print(&l->t);
	}
	table_free(&l->t);
	sk_buf_free(&l->b);
	sk_buf_free(&l->text);
	sk_buf_free(&l->more);
	return status;
}

/* --- show --- */

/* A position as its source's kind reads it: the text for the table, and
 * what more it says (a file's identity) as JSON members after the raw
 * position, which stays as it is so that it can be given back to set. */
static int describe(struct listing *l, const char *source, const char *position)
{
	if (sk_position_describe(source, position, &l->text, &l->more) < 0)
		return l->nomem = 1;
	return 0;
}

static int show_one(void *arg, const char *name, const char *source, const char *partition,
                    const char *position, int64_t updated_ms)
{
	struct listing *l = arg;
	char when[64];

	l->n++;
	if (describe(l, source, position))
		return 1;
	if (l->o->json) {
		json_begin(l);
		json_str(l, "name", name);
		json_str(l, "source", source);
		json_str(l, "partition", partition);
		json_str(l, "position", position);
		if (sk_buf_add(&l->b, l->more.p, l->more.len) < 0)
			l->nomem = 1;
		json_int(l, "updated_ms", updated_ms);
		return json_end(l);
	}
	format_time(updated_ms, when, sizeof when);
	table_row(&l->t, name, source, partition, l->text.p, when);
	return l->t.failed;
}

/* The supervisor's state (stream-run), as stream-run --status prints it. */
struct supervisor_out {
	const struct opts *o;
	sk_buf b;
};

static int supervisor_format(void *arg, const sk_run_info *r)
{
	struct supervisor_out *s = arg;

	if ((s->o->json && sk_buf_adds(&s->b, "{\"supervisor\":") < 0) ||
	    sk_run_status_format(&s->b, r, sk_wall_ms(), s->o->json) < 0 ||
	    (s->o->json && sk_buf_adds(&s->b, "}\n") < 0))
		return -1;
	return 0;
}

static int cmd_show(struct opts *o, int argc, char **argv)
{
	struct listing l = { .o = o, .t = { .ncols = 5 } };
	struct supervisor_out sup = { .o = o };
	const char *name = name_arg(o, argc, argv, 0);
	sk_state *st;
	sk_err e = { 0 };
	int status, rc, cb_rc = 0;

	if (argc > 1)
		return usage_error("show: too many arguments");
	if ((status = read_state(o, &st)) != 0)
		return status;
	table_row(&l.t, "NAME", "SOURCE", "PARTITION", "POSITION", "UPDATED");
	rc = sk_state_each_position(st, name, show_one, &l, &e);
	if (rc == 0 && name && (rc = sk_state_get_run(st, name, supervisor_format, &sup, &cb_rc, &e)) > 0)
		rc = cb_rc < 0 ? sk_err_oom(&e) : 0;
	if (rc == 0 && l.n == 0 && name)
		sk_warn("%s: no positions stored", name);
	sk_state_close(st);
	status = listing_finish(&l, rc, &e);
	if (status == 0 && sup.b.len && !stdout_epipe &&
	    ((!o->json && l.t.nrows > 1 && putchar('\n') == EOF) ||
	     fwrite(sup.b.p, 1, sup.b.len, stdout) != sup.b.len) && errno != EPIPE) {
		sk_error("stdout: %s", strerror(errno));
		status = EX_IOERR;
	}
	sk_buf_free(&sup.b);
	return status;
}

/* --- list --- */

static int list_one(void *arg, const char *name, int64_t positions, int64_t last_ms)
{
	struct listing *l = arg;
	char when[64], count[32];

	if (l->o->json) {
		json_begin(l);
		json_str(l, "name", name);
		json_int(l, "positions", positions);
		if (last_ms > 0)
			json_int(l, "last_checkpoint_ms", last_ms);
		else
			json_str(l, "last_checkpoint_ms", NULL);
		return json_end(l);
	}
	format_time(last_ms, when, sizeof when);
	snprintf(count, sizeof count, "%lld", (long long)positions);
	table_row(&l->t, name, count, when);
	return l->t.failed;
}

static int cmd_list(struct opts *o, int argc, char **argv)
{
	struct listing l = { .o = o, .t = { .ncols = 3 } };
	sk_state *st;
	sk_err e = { 0 };
	int status, rc;

	if (argc > 0)
		return usage_error("list: too many arguments");
	if ((status = read_state(o, &st)) != 0)
		return status;
	table_row(&l.t, "NAME", "POSITIONS", "LAST CHECKPOINT");
	rc = sk_state_each_name(st, list_one, &l, &e);
	sk_state_close(st);
	return listing_finish(&l, rc, &e);
}

/* --- history --- */

static int history_one(void *arg, int64_t id, const char *name, int64_t at_ms, int64_t rows,
                       const char *cursors)
{
	struct listing *l = arg;
	char when[64], sid[32], srows[32];

	l->n++;
	if (l->o->json) {
		json_begin(l);
		json_int(l, "id", id);
		json_str(l, "name", name);
		json_int(l, "at_ms", at_ms);
		json_int(l, "rows", rows);
		/* The store keeps them as a JSON array: embed it as one. */
		if (sk_buf_adds(&l->b, ",\"cursors\":") < 0 ||
		    sk_json_add_text(&l->b, l->json, cursors, strlen(cursors), 1) < 0)
			l->nomem = 1;
		return json_end(l);
	}
	format_time(at_ms, when, sizeof when);
	snprintf(sid, sizeof sid, "%lld", (long long)id);
	snprintf(srows, sizeof srows, "%lld", (long long)rows);
	table_row(&l->t, sid, when, srows, cursors);
	return l->t.failed;
}

static int cmd_history(struct opts *o, int argc, char **argv)
{
	struct listing l = { .o = o, .t = { .ncols = 4 } };
	const char *name = name_arg(o, argc, argv, 0);
	int limit = o->given & F_LIMIT ? (int)o->limit : 10;
	sk_state *st;
	sk_err e = { 0 };
	int status, rc;

	if (name == NULL)
		return usage_error("history: missing NAME");
	if (argc > 1)
		return usage_error("history: too many arguments");
	if ((l.json = sk_json_new()) == NULL) {
		return sk_fail_oom();
	}
	if ((status = read_state(o, &st)) != 0) {
		sk_json_free(l.json);
		return status;
	}
	table_row(&l.t, "ID", "AT", "ROWS", "CURSORS");
	rc = sk_state_each_checkpoint(st, name, limit, history_one, &l, &e);
	if (rc == 0 && l.n == 0)
		sk_warn("%s: no checkpoints recorded", name);
	sk_state_close(st);
	sk_json_free(l.json);
	return listing_finish(&l, rc, &e);
}

/* --- set --- */

static int cmd_set(struct opts *o, int argc, char **argv)
{
	unsigned by_parts = F_SOURCE | F_PARTITION | F_POSITION;
	const char *name, *cursor = NULL;
	char *source = NULL, *partition = NULL, *position = NULL, *canon = NULL;
	sk_cursor_parts p;
	sk_state *st = NULL;
	sk_err e = { 0 };
	int status = 0;

	if (o->given & by_parts) {
		if ((o->given & by_parts) != by_parts)
			return usage_error("set: --source, --partition and --position go together");
		if (argc > 1)
			return usage_error("set: a CURSOR and --source cannot both be given");
		name = name_arg(o, argc, argv, 0);
	} else {
		if (argc == 0)
			return usage_error("set: missing NAME and CURSOR");
		if (argc > 2)
			return usage_error("set: too many arguments");
		name = argc == 2 ? argv[0] : name_arg(o, 0, argv, 0);
		cursor = argv[argc - 1];
	}
	if (name == NULL)
		return usage_error("set: missing NAME");

	if (cursor) {
		if (sk_cursor_split(cursor, strlen(cursor), &p, &e) < 0)
			return usage_error("set: %s", e.msg);
		source = strndup(p.source, p.source_len);
		partition = strndup(p.partition, p.partition_len);
		position = strndup(p.position, p.position_len);
	} else {
		source = strdup(o->source);
		partition = strdup(o->partition);
		position = strdup(o->position);
	}
	if (!source || !partition || !position) {
		status = sk_fail_oom();
		goto out;
	}
	if (sk_position_source(source, &canon, &e) < 0 || sk_position_check(canon, partition, position, &e) < 0) {
		status = e.code == EX_USAGE ? usage_error("set: %s", e.msg) : sk_fail(&e);
		goto out;
	}
	if ((status = open_state(o, &st)) != 0)
		goto out;
	if (sk_state_set_position(st, name, canon, partition, position, &e) < 0)
		status = sk_fail(&e);
	else
		sk_info("%s: %s:%s set to %s", name, canon, partition, position);
out:
	if (st)
		sk_state_close(st);
	free(canon);
	free(source);
	free(partition);
	free(position);
	return status;
}

/* --- reset --- */

static int cmd_reset(struct opts *o, int argc, char **argv)
{
	const char *name = name_arg(o, argc, argv, 0);
	char *source = NULL;
	sk_state *st;
	sk_err e = { 0 };
	int status, n;

	if (name == NULL)
		return usage_error("reset: missing NAME");
	if (argc > 1)
		return usage_error("reset: too many arguments");
	if ((o->given & F_PARTITION) && !(o->given & F_SOURCE))
		return usage_error("reset: --partition needs --source");
	if (o->given & F_SOURCE) {
		if (sk_position_source(o->source, &source, &e) < 0)
			return e.code == EX_USAGE ? usage_error("reset: %s", e.msg) : sk_fail(&e);
	}
	if ((status = open_state(o, &st)) != 0) {
		free(source);
		return status;
	}
	if (source == NULL) {
		if (sk_state_reset_name(st, name, &e) < 0)
			status = sk_fail(&e);
		else
			sk_info("%s: every position and checkpoint forgotten", name);
	} else if ((n = sk_state_delete_positions(st, name, source,
	                                          o->given & F_PARTITION ? o->partition : NULL, &e)) < 0) {
		status = sk_fail(&e);
	} else {
		sk_info("%s: %d position%s forgotten", name, n, n == 1 ? "" : "s");
	}
	sk_state_close(st);
	free(source);
	return status;
}

/* --- lag --- */

struct lag {
	struct listing l;
	sk_state *st;
	sk_kafka_lag_opts kafka;
	char *kafka_done;        /* the Kafka source listed last: its rows are all out */
	int status;              /* of the first source whose end could not be asked */
};

/* One row; position NULL for a partition with none stored. */
static int lag_row(struct listing *l, const char *name, const char *source, const char *partition,
                   const char *position, int has_end, int64_t end, int has_lag, int64_t lag)
{
	char send[32] = "-", slag[32] = "-";

	l->n++;
	if (l->o->json) {
		json_begin(l);
		json_str(l, "name", name);
		json_str(l, "source", source);
		json_str(l, "partition", partition);
		json_str(l, "position", position);
		if (position && (describe(l, source, position) || sk_buf_add(&l->b, l->more.p, l->more.len) < 0))
			l->nomem = 1;
		if (has_end)
			json_int(l, "end", end);
		else
			json_str(l, "end", NULL);
		if (has_lag)
			json_int(l, "lag", lag);
		else
			json_str(l, "lag", NULL);
		return json_end(l);
	}
	if (has_end)
		snprintf(send, sizeof send, "%lld", (long long)end);
	if (has_lag)
		snprintf(slag, sizeof slag, "%lld", (long long)lag);
	if (position && describe(l, source, position))
		return 1;
	table_row(&l->t, source, partition, position ? l->text.p : NULL, send, slag);
	return l->t.failed;
}

struct kafka_rows {
	struct lag *g;
	const char *name, *source;
};

static int kafka_row(void *arg, const sk_kafka_lag_row *r)
{
	struct kafka_rows *k = arg;

	return lag_row(&k->g->l, k->name, k->source, r->partition, r->position, r->has_end, r->end,
	               r->has_lag, r->lag);
}

/* Every partition of a Kafka source at once: those stored and those of the
 * topic. A source whose brokers cannot be asked is listed without its end,
 * and makes the exit status. */
static int kafka_lag(struct lag *g, const char *name, const char *source)
{
	struct kafka_rows k = { .g = g, .name = name, .source = source };
	char *endpoint = NULL;
	sk_err e = { 0 };
	int rc;

	free(g->kafka_done);
	if ((g->kafka_done = strdup(source)) == NULL)
		return g->l.nomem = 1;
	if ((rc = sk_kafka_lag_endpoint(g->st, name, source, &endpoint, &e)) < 0) {
		rc = sk_fail(&e);
		g->status = g->status ? g->status : rc;
		return 1;
	}
	if (rc == 0)
		sk_info("%s: no endpoint recorded for %s (stream-read --name %s records it): its end is not known",
		        source, name, name);
	rc = sk_kafka_lag(g->st, name, source, endpoint, &g->kafka, kafka_row, &k, &e);
	free(endpoint);
	if (rc < 0) {
		rc = sk_fail(&e);
		g->status = g->status ? g->status : rc;
		return 0;
	}
	return rc;
}

static int lag_one(void *arg, const char *name, const char *source, const char *partition,
                   const char *position, int64_t updated_ms)
{
	struct lag *g = arg;
	sk_position_lag pl;

	(void)updated_ms;
	if (sk_position_lag_of(source, partition, position, &pl) == 0) {
		if (g->kafka_done && strcmp(g->kafka_done, source) == 0)
			return 0;
		return kafka_lag(g, name, source);
	}
	if (pl.note[0])
		sk_warn("%s: %s", source, pl.note);
	return lag_row(&g->l, name, source, partition, position, pl.has_end, pl.end, pl.has_lag, pl.lag);
}

static int cmd_lag(struct opts *o, int argc, char **argv)
{
	struct lag g = {
		.l = { .o = o, .t = { .ncols = 5 } },
		.kafka = { .endpoints_file = o->endpoints, .config_file = o->kafka_config,
		           .props = o->kafka_props, .nprops = o->nkafka_props, .timeout_ms = o->lag_timeout_ms },
	};
	const char *name = name_arg(o, argc, argv, 0);
	sk_err e = { 0 };
	int status, rc;

	if (name == NULL)
		return usage_error("lag: missing NAME");
	if (argc > 1)
		return usage_error("lag: too many arguments");
	if ((status = read_state(o, &g.st)) != 0)
		return status;
	table_row(&g.l.t, "SOURCE", "PARTITION", "POSITION", "END", "LAG");
	rc = sk_state_each_position(g.st, name, lag_one, &g, &e);
	if (rc == 0 && g.l.n == 0)
		sk_warn("%s: no positions stored", name);
	sk_state_close(g.st);
	free(g.kafka_done);
	status = listing_finish(&g.l, rc, &e);
	return status ? status : g.status;
}

/* --- commit --- */

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void warn_bad(void *arg, const char *msg)
{
	(void)arg;
	sk_warn("%s (passed through)", msg);
}

#define SHOW_CURSORS 4  /* a checkpoint of a topic of 64 partitions stays one readable line */

struct checkpoint_line {
	sk_buf b;
	size_t shown;
};

static int add_cursor(void *arg, const char *source, const char *partition, const char *position)
{
	struct checkpoint_line *l = arg;

	if (l->shown++ == SHOW_CURSORS)
		return 1;
	return sk_buf_printf(&l->b, " %s:%s:%s", source, partition, position) < 0 ? -1 : 0;
}

/* -v: one line per checkpoint, what it covers and where it got to. */
static void report_checkpoint(void *arg, const sk_cursorset *cs, int64_t lines)
{
	struct checkpoint_line l = { { 0 }, 0 };
	const char *name = ((const sk_commit_opts *)arg)->name;
	size_t n = sk_cursorset_count(cs);

	if (sk_verbosity <= 0)
		return;
	if (sk_buf_printf(&l.b, "%s: checkpoint: %lld line%s, %zu cursor%s:", name, (long long)lines,
	                  lines == 1 ? "" : "s", n, n == 1 ? "" : "s") < 0 ||
	    sk_cursorset_each(cs, add_cursor, &l) < 0 ||
	    (n > SHOW_CURSORS && sk_buf_printf(&l.b, " and %zu more", n - SHOW_CURSORS) < 0))
		sk_info("%s: checkpoint: %lld lines, %zu cursors", name, (long long)lines, n);
	else
		sk_info("%s", l.b.p);
	sk_buf_free(&l.b);
}

static int cmd_commit(struct opts *o, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	sk_commit_opts co = {
		.checkpoint_rows = o->checkpoint_rows, .checkpoint_ms = o->checkpoint_interval_ms,
		.on_error = o->on_error, .max_line = (size_t)o->max_line, .stop = &stop_signal,
		.input = "stdin", .output = "stdout", .on_bad = warn_bad, .on_checkpoint = report_checkpoint,
	};
	sk_commit_stats stats;
	sk_err e = { 0 };
	int rc, status;

	if ((co.name = name_arg(o, argc, argv, 0)) == NULL)
		return usage_error("commit: missing NAME");
	if (argc > 1)
		return usage_error("commit: too many arguments");
	co.arg = &co;
	if ((status = open_state(o, &co.state)) != 0)
		return status;
	/* No SA_RESTART: a stop signal must end the wait for input. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	rc = sk_commit_run(STDIN_FILENO, STDOUT_FILENO, &co, &stats, &e);
	status = rc < 0 ? sk_fail(&e) : 0;
	if (stats.skipped)
		sk_warn("%llu bad line%s skipped", (unsigned long long)stats.skipped, stats.skipped == 1 ? "" : "s");
	if (stop_signal)
		sk_info("stopped by signal %d", (int)stop_signal);
	sk_state_close(co.state);
	return status;
}

static const struct command commands[] = {
	{ "show", cmd_show, 0 },
	{ "list", cmd_list, 0 },
	{ "history", cmd_history, F_LIMIT },
	{ "set", cmd_set, F_SOURCE | F_PARTITION | F_POSITION },
	{ "reset", cmd_reset, F_SOURCE | F_PARTITION },
	{ "lag", cmd_lag, F_ENDPOINTS | F_KAFKA_PROP | F_KAFKA_CONFIG | F_TIMEOUT },
	{ "commit", cmd_commit, F_ROWS | F_INTERVAL | F_ON_ERROR | F_MAX_LINE },
};

static const char *const flag_names[] = {
	"--limit", "--source", "--partition", "--position", "--checkpoint-rows",
	"--checkpoint-interval", "--on-error", "--max-line", "--endpoints", "-X", "--kafka-config",
	"--timeout",
};

/* Parse the value of one option into o; 0 or a usage status. */
static int parse_value(struct opts *o, int opt, const char *arg)
{
	sk_err e = { 0 };

	switch (opt) {
	case OPT_LIMIT:
		if (sk_parse_count(arg, &o->limit, &e) < 0 || o->limit == 0 || o->limit > INT_MAX)
			return usage_error("--limit: invalid count '%s'", arg);
		o->given |= F_LIMIT;
		break;
	case OPT_SOURCE:
		if (*arg == '\0')
			return usage_error("--source: empty");
		o->source = arg;
		o->given |= F_SOURCE;
		break;
	case OPT_PARTITION:
		o->partition = arg;
		o->given |= F_PARTITION;
		break;
	case OPT_POSITION:
		o->position = arg;
		o->given |= F_POSITION;
		break;
	case OPT_ROWS:
		if (sk_parse_count(arg, &o->checkpoint_rows, &e) < 0 || o->checkpoint_rows == 0)
			return usage_error("--checkpoint-rows: invalid count '%s'", arg);
		o->given |= F_ROWS;
		break;
	case OPT_INTERVAL:
		if (sk_parse_duration(arg, &o->checkpoint_interval_ms, &e) < 0)
			return usage_error("--checkpoint-interval: %s", e.msg);
		o->given |= F_INTERVAL;
		break;
	case OPT_ON_ERROR:
		if (sk_on_error_parse(arg, SK_ON_ERROR_TAKES(SK_ON_ERROR_FAIL) | SK_ON_ERROR_TAKES(SK_ON_ERROR_SKIP),
		                      &o->on_error, &e) < 0)
			return usage_error("%s", e.msg);
		o->given |= F_ON_ERROR;
		break;
	case OPT_MAX_LINE:
		if (sk_parse_size(arg, &o->max_line, &e) < 0 || o->max_line == 0 || o->max_line > SIZE_MAX / 2)
			return usage_error("--max-line: invalid size '%s'", arg);
		o->given |= F_MAX_LINE;
		break;
	case OPT_ENDPOINTS:
		o->endpoints = arg;
		o->given |= F_ENDPOINTS;
		break;
	case 'X': {
		const char **p = realloc(o->kafka_props, (o->nkafka_props + 1) * sizeof *p);
		if (p == NULL) {
			return sk_fail_oom();
		}
		p[o->nkafka_props++] = arg;
		o->kafka_props = p;
		o->given |= F_KAFKA_PROP;
		break;
	}
	case 'F':
		o->kafka_config = arg;
		o->given |= F_KAFKA_CONFIG;
		break;
	case OPT_TIMEOUT:
		if (sk_parse_duration(arg, &o->lag_timeout_ms, &e) < 0 || o->lag_timeout_ms <= 0)
			return usage_error("--timeout: invalid duration '%s'", arg);
		o->given |= F_TIMEOUT;
		break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* Static: what parse_value allocates stays reachable on every return. */
	static struct opts o = {
		.checkpoint_rows = 1000,
		.checkpoint_interval_ms = 1000,
		.max_line = SK_LINES_DEFAULT_MAX,
		.lag_timeout_ms = 10000,
	};
	const struct command *cmd = NULL;
	size_t i;
	int opt, status;

	sk_log_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	o.name = getenv("STREAMKIT_NAME");
	while ((opt = getopt_long(argc, argv, "qvX:F:", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_STATE:
			o.state_path = optarg;
			break;
		case OPT_NAME:
			o.name = optarg;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case 'q':
			sk_verbosity = -1;
			break;
		case 'v':
			sk_verbosity = sk_verbosity < 0 ? 1 : sk_verbosity + 1;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return finish_stdout(0);
		case OPT_VERSION:
			printf("stream-checkpoint (streamkit) %s\n", PACKAGE_VERSION);
			return finish_stdout(0);
		case '?':
			fputs(usage_text, stderr);
			return EX_USAGE;
		default:
			if ((status = parse_value(&o, opt, optarg)) != 0)
				return status;
		}
	}
	if (optind == argc)
		return usage_error("missing COMMAND");
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL)
		return usage_error("unknown command '%s'", argv[optind]);
	for (i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
		if ((o.given & (1u << i)) && !(cmd->allowed & (1u << i)))
			return usage_error("%s: not an option of %s", flag_names[i], cmd->name);
	optind++;
	status = cmd->run(&o, argc - optind, argv + optind);
	free(o.kafka_props);
	return finish_stdout(status);
}
