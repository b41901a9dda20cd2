/* options.h - command-line options declared once, in tables.
 *
 * A program's own options and each endpoint kind's are rows of sk_option:
 * one row gives the parser (getopt_long's table and short options), the
 * --help line, and the check that an option given for an endpoint belongs
 * to its kind. A module that implements a kind declares its rows next to
 * the code that reads them (git's OPT_* arrays, curl's option table); the
 * tools list them through the source and sink interfaces and never name a
 * kind's option themselves. */
#ifndef SK_OPTIONS_H
#define SK_OPTIONS_H

#include <stddef.h>
#include <stdio.h>
#include "err.h"
#include "util.h"

enum sk_opt_arg {
	SK_OPT_FLAG,      /* no argument */
	SK_OPT_VALUE,     /* one argument; given again, the last one counts */
	SK_OPT_REPEAT,    /* one argument, every one kept in order (-X, --header) */
};

/* sk_option.flags */
#define SK_OPTF_PROGRAM 1u      /* a jq program over the row: takes --arg, --argjson */

typedef struct sk_option {
	const char *name;       /* long name, without "--"; NULL ends a table.
	                         * One character: the short form alone (-X),
	                         * there is no long one */
	char short_name;        /* 0: none */
	enum sk_opt_arg arg;
	const char *metavar;    /* the argument in --help: "EXPR"; NULL for a flag */
	const char *help;       /* --help text; '\n' continues it on another line */
	int id;                 /* the owner's own number for it */
	unsigned flags;         /* SK_OPTF_* */
} sk_option;

/* The options of one endpoint kind, for one role (reading, writing, lag):
 * its own rows, then rows it shares with the kind's other roles (Kafka's
 * -X and -F), which may be NULL. */
typedef struct sk_option_group {
	const char *kind;       /* "kafka": messages say "... of kafka endpoints" */
	const sk_option *options;
	const sk_option *shared;
} sk_option_group;

/* An endpoint option as given on the command line. */
typedef struct sk_optval {
	const char *name;       /* its long name */
	const char *value;      /* its argument; NULL for a flag */
} sk_optval;

/* Every endpoint option given, in command-line order. */
typedef struct sk_kindopts {
	sk_optval *v;
	size_t n;
} sk_kindopts;

/* Called for each of the program's own options: 0 to go on, else -1 with
 * e set (EX_USAGE for a bad value). optind is getopt's: an option that
 * takes a second argument (--arg NAME VALUE) reads argv[optind] and moves
 * it on. */
typedef int (*sk_option_cb)(void *arg, const sk_option *o, const char *value, sk_err *e);

/* Parse argv: the program's own options (own, NULL-terminated) go to cb;
 * the options of the groups (an array of ngroups; rows of the same name in
 * several groups are one option) are collected in *given. Returns the index
 * of the first operand, or -1 with EX_USAGE for an unknown option or a
 * missing argument (or whatever cb set). *given is freed by
 * sk_kindopts_free, whatever the result. */
int sk_options_parse(int argc, char **argv, const sk_option *own, const sk_option_group *groups,
                     size_t ngroups, sk_option_cb cb, void *arg, sk_kindopts *given, sk_err *e);
/* The same for a program that runs a command (stream-run): its own
 * options only, up to the first operand, which starts the command. */
int sk_options_parse_command(int argc, char **argv, const sk_option *own, sk_option_cb cb, void *arg,
                             sk_err *e);
void sk_kindopts_free(sk_kindopts *k);

/* Check that every option in given belongs to kind: -1 with EX_USAGE
 * "--key is an option of kafka endpoints" (every kind that takes it)
 * when one does not. */
int sk_kindopts_check(const sk_kindopts *given, const char *kind, const sk_option_group *groups,
                      size_t ngroups, sk_err *e);
/* The row of table named name, or NULL. */
const sk_option *sk_option_find(const sk_option *table, const char *name);
/* The row of group (its own rows, then the shared ones) named name, or NULL. */
const sk_option *sk_option_group_find(const sk_option_group *group, const char *name);
/* The last value given for name (a flag: "" when given), or NULL. given
 * may be NULL here and below: nothing given. */
const char *sk_kindopts_get(const sk_kindopts *given, const char *name);
/* Every value given for name, in order: start *i at 0; NULL after the last. */
const char *sk_kindopts_next(const sk_kindopts *given, const char *name, size_t *i);
/* 1 when an option given has a row with flag among the groups'. */
int sk_kindopts_flagged(const sk_kindopts *given, const sk_option_group *groups, size_t ngroups,
                        unsigned flag);
/* "--key, --value or --headers": the options with flag among the groups',
 * each once, appended to b; -1 when out of memory. */
int sk_options_list(sk_buf *b, const sk_option_group *groups, size_t ngroups, unsigned flag);

/* Write the options' help: the program's own, then a block per group
 * ("kafka endpoints:"). Returns -1 when the write failed. */
int sk_options_help(FILE *f, const sk_option *own, const sk_option_group *groups, size_t ngroups);

/* The options every program has, by their rows' names: -q/--quiet,
 * -v/--verbose (sk_verbosity), --help and --version. 1 when o is -q or -v
 * (done), 0 when o is none of them; for --help and --version, *show is
 * set to the name and -1 returned with e's code EX_OK, which stops
 * sk_options_parse there. */
int sk_options_common(const sk_option *o, const char **show, sk_err *e);
/* The rows of those options, for a tool's table, all with the id ID. */
#define SK_OPTIONS_COMMON(id) \
	{ "quiet", 'q', SK_OPT_FLAG, NULL, "no warnings", (id), 0 }, \
	{ "verbose", 'v', SK_OPT_FLAG, NULL, "more detail on stderr", (id), 0 }, \
	{ "help", 0, SK_OPT_FLAG, NULL, "this text", (id), 0 }, \
	{ "version", 0, SK_OPT_FLAG, NULL, "the version", (id), 0 }
/* What sk_options_common stopped for, on stdout: "--version" prints
 * "PROGRAM (streamkit) VERSION"; "--help" prints head (the usage line and
 * what the program does), then the options. The exit code. */
int sk_options_show(const char *show, const char *program, const char *version, const char *head,
                    const sk_option *own, const sk_option_group *groups, size_t ngroups);

/* A usage error of a program: the message (fmt may be NULL: none) as
 * sk_error prints it, then "usage: USAGE" when usage is not NULL. Returns
 * EX_USAGE, for the program to exit with. */
int sk_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct sk_program_args;
/* --arg NAME VALUE and --argjson NAME JSON, as jq takes them (opt is
 * which, name its argument): VALUE is argv[optind], which this moves on.
 * The variable is added to *args (made when NULL). -1 with EX_USAGE for a
 * missing value, a bad name or bad JSON, the message naming opt. */
int sk_program_arg(struct sk_program_args **args, int argc, char **argv, const char *opt, const char *name,
                   sk_err *e);

#endif
