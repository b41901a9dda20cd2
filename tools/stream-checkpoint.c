/* stream-checkpoint - the state store's command line: show, list, history,
 * set, reset and lag; and commit, a pass-through filter that checkpoints
 * the cursors of the lines it has written out (at-least-once delivery for
 * any script that prints what it has finished). */
#include "config.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "commit.h"
#include "cursor.h"
#include "err.h"
#include "lag.h"
#include "lines.h"
#include "on_error.h"
#include "options.h"
#include "output.h"
#include "source.h"
#include "state.h"
#include "stop.h"
#include "store_listing.h"
#include "util.h"

static const char version_text[] = "stream-checkpoint (streamkit) " PACKAGE_VERSION "\n";

static const char commands_text[] =
	"usage: stream-checkpoint [--state PATH] [--json] COMMAND [ARGS]\n"
	"\n"
	"  show [NAME]                  committed positions (of every name without NAME)\n"
	"  list                         names, their number of positions, last checkpoint\n"
	"  history NAME [--limit N]     the newest checkpoints, newest first\n"
	"  set NAME CURSOR              resume right after CURSOR (SOURCE:PARTITION:POSITION)\n"
	"  set NAME --source S --partition P --position X\n"
	"  reset NAME [--source S [--partition P]]\n"
	"                               forget positions (and history, without --source)\n"
	"  lag NAME [OPTIONS]           how far each partition is behind its source\n"
	"  commit NAME [OPTIONS]        copy stdin to stdout, commit the cursors written\n"
	"\n";

/* The options of one command (a bit each, to refuse them elsewhere), then
 * those of every command. */
enum {
	F_LIMIT = 1 << 0, F_SOURCE = 1 << 1, F_PARTITION = 1 << 2, F_POSITION = 1 << 3,
	F_ROWS = 1 << 4, F_INTERVAL = 1 << 5, F_ON_ERROR = 1 << 6, F_MAX_LINE = 1 << 7,
	F_ENDPOINTS = 1 << 8, F_TIMEOUT = 1 << 9,
	O_STATE = 1 << 16, O_NAME = 1 << 17, O_JSON = 1 << 18, O_COMMON = 1 << 19,
};

static const sk_option options[] = {
	{ "state", 0, SK_OPT_VALUE, "PATH", "state store (default $STREAMKIT_STATE,\n"
	  "else $XDG_STATE_HOME/streamkit/state.db)", O_STATE, 0 },
	{ "name", 0, SK_OPT_VALUE, "NAME", "default NAME (default $STREAMKIT_NAME)", O_NAME, 0 },
	{ "json", 0, SK_OPT_FLAG, NULL, "one JSON object per line instead of a table", O_JSON, 0 },
	{ "limit", 0, SK_OPT_VALUE, "N", "history: the newest N (default 10)", F_LIMIT, 0 },
	{ "source", 0, SK_OPT_VALUE, "S", "set, reset: the source", F_SOURCE, 0 },
	{ "partition", 0, SK_OPT_VALUE, "P", "set, reset: the partition", F_PARTITION, 0 },
	{ "position", 0, SK_OPT_VALUE, "X", "set: the position", F_POSITION, 0 },
	{ "timeout", 0, SK_OPT_VALUE, "T", "lag: bound on asking one source (default 10s)", F_TIMEOUT, 0 },
	{ "endpoints", 0, SK_OPT_VALUE, "FILE", "lag: the named endpoints", F_ENDPOINTS, 0 },
	{ "checkpoint-rows", 0, SK_OPT_VALUE, "N", "commit: checkpoint every N lines (default 1000)", F_ROWS, 0 },
	{ "checkpoint-interval", 0, SK_OPT_VALUE, "T", "commit: and every T (default 1s)", F_INTERVAL, 0 },
	{ "on-error", 0, SK_OPT_VALUE, "fail|skip", "commit: a line without a cursor", F_ON_ERROR, 0 },
	{ "max-line", 0, SK_OPT_VALUE, "SIZE", "commit: the longest line", F_MAX_LINE, 0 },
	SK_OPTIONS_COMMON(O_COMMON),
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

struct opts {
	const char *state_path;      /* NULL: the default */
	const char *name;            /* --name, else $STREAMKIT_NAME */
	int json;
	const char *show;            /* "help", "version" or NULL */
	unsigned given;              /* F_* bits of the options given */
	uint64_t limit;
	const char *source, *partition, *position;
	uint64_t checkpoint_rows;
	int64_t checkpoint_interval_ms;
	sk_on_error on_error;        /* commit: fail or skip */
	uint64_t max_line;
	sk_lag_opts lag;
	sk_output out;               /* standard output */
};

/* The NAME argument, else --name / $STREAMKIT_NAME; NULL when neither. */
static const char *name_arg(const struct opts *o, int argc, char **argv, int i)
{
	const char *name = i < argc ? argv[i] : o->name;

	return name && *name ? name : NULL;
}

/* set, reset and commit create the store when there is none; show, list,
 * history and lag read a store they cannot write, and where there is none
 * they say so (69) rather than create one. */
static int open_state(const struct opts *o, sk_state **st, int readonly)
{
	sk_err e = { 0 };

	if ((readonly ? sk_state_open_readonly : sk_state_open)(o->state_path, st, &e) < 0)
		return sk_fail(&e);
	return 0;
}

/* --- the listings: show, list, history, lag --- */

/* A source whose end could not be asked: listed without it, and it makes
 * the exit status. */
static void lag_failed(void *arg, const sk_err *e)
{
	int *status = arg, s = sk_fail(e);

	*status = *status ? *status : s;
}

static int cmd_listing(struct opts *o, int argc, char **argv, const char *cmd, enum sk_store_listing which)
{
	sk_store_listing_opts lo = { .name = which == SK_LIST_NAMES ? NULL : name_arg(o, argc, argv, 0),
	                             .lag = &o->lag,
	                             .limit = o->given & F_LIMIT ? (int)o->limit : 10,
	                             .failed = lag_failed };
	sk_state *st;
	sk_err e = { 0 };
	int64_t rows = 0;
	int status = 0, rc;

	if (lo.name == NULL && which != SK_LIST_POSITIONS && which != SK_LIST_NAMES)
		return sk_usage_error(NULL, "%s: missing NAME (see --help)", cmd);
	if (argc > (which != SK_LIST_NAMES))
		return sk_usage_error(NULL, "%s: too many arguments (see --help)", cmd);
	if ((rc = open_state(o, &st, 1)) != 0)
		return rc;
	lo.failed_arg = &status;
	rc = sk_store_listing(st, which, &lo, o->json, &o->out, &rows, &e);
	if (rc == 0 && rows == 0 && lo.name)
		sk_warn("%s: no %s", lo.name, which == SK_LIST_HISTORY ? "checkpoints recorded" :
		        "positions stored");
	sk_state_close(st);
	return rc < 0 ? sk_fail(&e) : status;
}

/* --- set --- */

static int cmd_set(struct opts *o, int argc, char **argv)
{
	unsigned by_parts = F_SOURCE | F_PARTITION | F_POSITION;
	const char *name, *source = o->source, *partition = o->partition, *position = o->position;
	char *cursor = NULL, *canon = NULL;
	sk_cursor_parts p;
	sk_state *st = NULL;
	sk_err e = { 0 };
	int status = 0;

	if ((o->given & by_parts) && (o->given & by_parts) != by_parts)
		return sk_usage_error(NULL, "set: --source, --partition and --position go together (see --help)");
	if ((o->given & by_parts) && argc > 1)
		return sk_usage_error(NULL, "set: a CURSOR and --source cannot both be given (see --help)");
	if (!(o->given & by_parts) && (argc == 0 || argc > 2))
		return sk_usage_error(NULL, "set: %s (see --help)",
		                      argc ? "too many arguments" : "missing NAME and CURSOR");
	name = o->given & by_parts || argc == 2 ? name_arg(o, argc, argv, 0) : name_arg(o, 0, argv, 0);
	if (name == NULL)
		return sk_usage_error(NULL, "set: missing NAME (see --help)");
	if (!(o->given & by_parts)) {
		/* The cursor's parts, each ended in place. */
		if ((cursor = strdup(argv[argc - 1])) == NULL)
			return sk_fail_oom();
		if (sk_cursor_split(cursor, strlen(cursor), &p, &e) < 0) {
			free(cursor);
			return sk_usage_error(NULL, "set: %s (see --help)", e.msg);
		}
		cursor[p.source_len] = cursor[p.source_len + 1 + p.partition_len] = '\0';
		source = p.source, partition = p.partition, position = p.position;
	}
	if (sk_position_source(source, &canon, &e) < 0 || sk_position_check(canon, partition, position, &e) < 0)
		status = e.code == EX_USAGE ? sk_usage_error(NULL, "set: %s (see --help)", e.msg) : sk_fail(&e);
	else if ((status = open_state(o, &st, 0)) == 0 &&
	         sk_state_set_position(st, name, canon, partition, position, &e) < 0)
		status = sk_fail(&e);
	else if (status == 0)
		sk_info("%s: %s:%s set to %s", name, canon, partition, position);
	if (st)
		sk_state_close(st);
	free(canon);
	free(cursor);
	return status;
}

/* --- reset --- */

static int cmd_reset(struct opts *o, int argc, char **argv)
{
	const char *name = name_arg(o, argc, argv, 0);
	char *source = NULL;
	sk_state *st;
	sk_err e = { 0 };
	int status, n = 0;

	if (name == NULL)
		return sk_usage_error(NULL, "reset: missing NAME (see --help)");
	if (argc > 1)
		return sk_usage_error(NULL, "reset: too many arguments (see --help)");
	if ((o->given & F_PARTITION) && !(o->given & F_SOURCE))
		return sk_usage_error(NULL, "reset: --partition needs --source (see --help)");
	if ((o->given & F_SOURCE) && sk_position_source(o->source, &source, &e) < 0)
		return e.code == EX_USAGE ? sk_usage_error(NULL, "reset: %s (see --help)", e.msg) : sk_fail(&e);
	if ((status = open_state(o, &st, 0)) == 0) {
		if (source ? (n = sk_state_delete_positions(st, name, source, o->given & F_PARTITION ?
		                                            o->partition : NULL, &e)) < 0
		           : sk_state_reset_name(st, name, &e) < 0)
			status = sk_fail(&e);
		else if (source)
			sk_info("%s: %d position%s forgotten", name, n, n == 1 ? "" : "s");
		else
			sk_info("%s: every position and checkpoint forgotten", name);
		sk_state_close(st);
	}
	free(source);
	return status;
}

/* --- commit --- */

static void warn_bad(void *arg, const char *msg)
{
	(void)arg;
	sk_warn("%s (passed through)", msg);
}

#define SHOW_CURSORS 4  /* a checkpoint of a topic of 64 partitions stays one readable line */

/* -v: one line per checkpoint, what it covers and where it got to. */
static void report_checkpoint(void *arg, const sk_cursorset *cs, int64_t lines)
{
	const char *name = ((const sk_commit_opts *)arg)->name;
	size_t n = sk_cursorset_count(cs);
	sk_buf b = { 0 };

	if (sk_verbosity <= 0)
		return;
	if (sk_buf_printf(&b, "%s: checkpoint: %lld line%s, %zu cursor%s:", name, (long long)lines,
	                  lines == 1 ? "" : "s", n, n == 1 ? "" : "s") < 0 ||
	    sk_cursorset_format(cs, SHOW_CURSORS, &b) < 0)
		sk_info("%s: checkpoint: %lld lines, %zu cursors", name, (long long)lines, n);
	else
		sk_info("%s", b.p);
	sk_buf_free(&b);
}

static int cmd_commit(struct opts *o, int argc, char **argv)
{
	sk_commit_opts co = {
		.checkpoint_rows = o->checkpoint_rows, .checkpoint_ms = o->checkpoint_interval_ms,
		.on_error = o->on_error, .max_line = (size_t)o->max_line,
		.input = "stdin", .output = "stdout", .on_bad = warn_bad, .on_checkpoint = report_checkpoint,
	};
	sk_commit_stats stats;
	sk_err e = { 0 };
	int rc, status;

	if ((co.name = name_arg(o, argc, argv, 0)) == NULL)
		return sk_usage_error(NULL, "commit: missing NAME (see --help)");
	if (argc > 1)
		return sk_usage_error(NULL, "commit: too many arguments (see --help)");
	co.arg = &co;
	if ((status = open_state(o, &co.state, 0)) != 0)
		return status;
	/* A stop signal must end the wait for input. */
	if ((co.stop = sk_stop_catch(&e)) == NULL) {
		sk_state_close(co.state);
		return sk_fail(&e);
	}
	rc = sk_commit_run(STDIN_FILENO, STDOUT_FILENO, &co, &stats, &e);
	status = rc < 0 ? sk_fail(&e) : 0;
	if (stats.skipped)
		sk_warn("%llu bad line%s skipped", (unsigned long long)stats.skipped, stats.skipped == 1 ? "" : "s");
	if (sk_stop_signal())
		sk_info("stopped by signal %d", sk_stop_signal());
	sk_state_close(co.state);
	return status;
}

/* Parse the value of one option into o: 0, or -1 with EX_USAGE. */
static int take_option(void *arg, const sk_option *opt, const char *v, sk_err *e)
{
	struct opts *o = arg;
	const char *bad = NULL;      /* what v should have been */

	o->given |= opt->id < O_STATE ? (unsigned)opt->id : 0;
	switch (opt->id) {
	case O_STATE: o->state_path = v; break;
	case O_NAME: o->name = v; break;
	case O_JSON: o->json = 1; break;
	case O_COMMON: return sk_options_common(opt, &o->show, e) < 0 ? -1 : 0;
	case F_SOURCE: o->source = v; return *v ? 0 : sk_err_set(e, EX_USAGE, "--source: empty");
	case F_PARTITION: o->partition = v; break;
	case F_POSITION: o->position = v; break;
	case F_ENDPOINTS: o->lag.endpoints_file = v; break;
	case F_LIMIT: bad = sk_parse_count(v, &o->limit, e) < 0 || !o->limit || o->limit > INT_MAX ? "count" : 0; break;
	case F_ROWS: bad = sk_parse_count(v, &o->checkpoint_rows, e) < 0 || !o->checkpoint_rows ? "count" : 0; break;
	case F_INTERVAL:
		if (sk_parse_duration(v, &o->checkpoint_interval_ms, e) < 0)
			return sk_err_set(e, EX_USAGE, "--checkpoint-interval: %s", e->msg);
		break;
	case F_ON_ERROR:
		return sk_on_error_parse(v, SK_ON_ERROR_TAKES(SK_ON_ERROR_FAIL) | SK_ON_ERROR_TAKES(SK_ON_ERROR_SKIP),
		                         &o->on_error, e);
	case F_MAX_LINE:
		bad = sk_parse_size(v, &o->max_line, e) < 0 || !o->max_line || o->max_line > SIZE_MAX / 2 ? "size" : 0;
		break;
	case F_TIMEOUT:
		bad = sk_parse_duration(v, &o->lag.timeout_ms, e) < 0 || o->lag.timeout_ms <= 0 ? "duration" : 0;
		break;
	}
	return bad ? sk_err_set(e, EX_USAGE, "--%s: invalid %s '%s'", opt->name, bad, v) : 0;
}

enum { C_SET = 100, C_RESET, C_COMMIT };   /* the commands that are not listings */
static const sk_command commands[] = {
	{ "show", 0, 0, SK_LIST_POSITIONS },
	{ "list", 0, 0, SK_LIST_NAMES },
	{ "history", F_LIMIT, 0, SK_LIST_HISTORY },
	{ "set", F_SOURCE | F_PARTITION | F_POSITION, 0, C_SET },
	{ "reset", F_SOURCE | F_PARTITION, 0, C_RESET },
	{ "lag", F_ENDPOINTS | F_TIMEOUT, 1, SK_LIST_LAG },
	{ "commit", F_ROWS | F_INTERVAL | F_ON_ERROR | F_MAX_LINE, 0, C_COMMIT },
};

static int run(struct opts *o, const sk_kindopts *given, int argc, char **argv)
{
	size_t ngroups;
	const sk_option_group *groups = sk_lag_options(&ngroups);
	const sk_command *cmd;
	sk_err e = { 0 };

	if (o->show)
		return (strcmp(o->show, "help") == 0 ? sk_options_help_out(&o->out, commands_text, options, groups, ngroups, &e)
		        : sk_output_add(&o->out, version_text, sizeof version_text - 1, 0, &e)) < 0 ? sk_fail(&e) : 0;
	if (argc == 0)
		return sk_usage_error(NULL, "missing COMMAND (see --help)");
	if ((cmd = sk_command_find(commands, sizeof commands / sizeof commands[0], argv[0], options, o->given,
	                           given, &e)) == NULL)
		return sk_usage_error(NULL, "%s (see --help)", e.msg);
	o->lag.kind_options = given;
	switch (cmd->id) {
	case C_SET: return cmd_set(o, argc - 1, argv + 1);
	case C_RESET: return cmd_reset(o, argc - 1, argv + 1);
	case C_COMMIT: return cmd_commit(o, argc - 1, argv + 1);
	default: return cmd_listing(o, argc - 1, argv + 1, cmd->name, (enum sk_store_listing)cmd->id);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {
		.checkpoint_rows = 1000,
		.checkpoint_interval_ms = 1000,
		.max_line = SK_LINES_DEFAULT_MAX,
		.lag = { .timeout_ms = 10000 },
	};
	size_t ngroups;
	const sk_option_group *groups = sk_lag_options(&ngroups);
	sk_kindopts given;
	sk_err e = { 0 };
	int first, status;

	sk_log_init(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	o.name = getenv("STREAMKIT_NAME");
	sk_output_init(&o.out, STDOUT_FILENO, "stdout");
	first = sk_options_parse(argc, argv, options, groups, ngroups, take_option, &o, &given, &e);
	if (first < 0 && o.show == NULL)
		status = e.code == EX_USAGE ? sk_usage_error(NULL, "%s (see --help)", e.msg) : sk_fail(&e);
	else   /* --help and --version stop the parse; run() shows them */
		status = first < 0 ? run(&o, &given, 0, argv) : run(&o, &given, argc - first, argv + first);
	/* Standard output: EPIPE is a clean stop, anything else an error
	 * (unless one was reported already). */
	if (sk_output_flush(&o.out, &e) < 0 && status == 0)
		status = sk_fail(&e);
	sk_output_free(&o.out);
	sk_kindopts_free(&given);
	return status;
}
