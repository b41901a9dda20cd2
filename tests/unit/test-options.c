/* test-options.c - options from tables: parsing, kinds' options, the check
 * that an option belongs to the endpoint's kind, --help. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "options.h"
#include "program.h"
#include "util.h"

enum { O_NAME, O_QUIET, O_COUNT };

static const sk_option own[] = {
	{ "name", 0, SK_OPT_VALUE, "NAME", "resume from NAME's positions", O_NAME, 0 },
	{ "quiet", 'q', SK_OPT_FLAG, NULL, "no warnings", O_QUIET, 0 },
	{ "count", 'c', SK_OPT_VALUE, "N", "stop after N messages\nand say so", O_COUNT, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option kafka[] = {
	{ "group", 0, SK_OPT_VALUE, "GROUP", "consume as a member of GROUP", 1, 0 },
	{ "kafka-config", 'F', SK_OPT_VALUE, "FILE", "librdkafka settings", 2, 0 },
	{ "partition", 0, SK_OPT_VALUE, "EXPR", "the partition", 3, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option sqs[] = {
	{ "partition", 0, SK_OPT_VALUE, "EXPR", "the group id", 1, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option file[] = {
	{ "follow", 'f', SK_OPT_FLAG, NULL, "keep reading as the file grows", 1, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group groups[] = {
	{ "file", file, NULL }, { "kafka", kafka, NULL }, { "sqs", sqs, NULL },
};
#define NGROUPS (sizeof groups / sizeof groups[0])

struct seen {
	const char *name;
	int quiet;
	const char *count;
};

static int on_own(void *arg, const sk_option *o, const char *value, sk_err *e)
{
	struct seen *s = arg;

	switch (o->id) {
	case O_NAME: s->name = value; break;
	case O_QUIET: s->quiet++; break;
	case O_COUNT:
		if (strcmp(value, "bad") == 0)
			return sk_err_set(e, EX_USAGE, "--count: not a number");
		s->count = value;
		break;
	}
	return 0;
}

static int parse(int argc, char **argv, struct seen *s, sk_kindopts *k, sk_err *e)
{
	optind = 0;      /* glibc: start over */
	memset(s, 0, sizeof *s);
	return sk_options_parse(argc, argv, own, groups, NGROUPS, on_own, s, k, e);
}

static void parsing(void)
{
	char *argv[] = { "prog", "--name", "r", "-q", "-c5", "--group=g", "-F", "f.conf", "-f",
	                 "--partition", "1", "--partition", "2", "ENDPOINT", NULL };
	struct seen s;
	sk_kindopts k;
	sk_err e = { 0 };
	int i = parse(14, argv, &s, &k, &e);

	ok(i == 13, "returns the index of the operand (%d)", i);
	ok(s.name && strcmp(s.name, "r") == 0 && s.quiet == 1 && s.count && strcmp(s.count, "5") == 0,
	   "the program's own options go to its callback");
	ok(k.n == 5, "the endpoint options are kept in order (%zu)", k.n);
	ok(k.n == 5 && strcmp(k.v[0].name, "group") == 0 && strcmp(k.v[0].value, "g") == 0 &&
	   strcmp(k.v[1].name, "kafka-config") == 0 && k.v[2].value == NULL,
	   "by long name, short forms and --name=value included");
	is_str(sk_kindopts_get(&k, "partition"), "2", "the last value of an option given twice");
	is_str(sk_kindopts_get(&k, "follow"), "", "a flag given reads as empty");
	ok(sk_kindopts_get(&k, "nothing") == NULL, "an option not given is NULL");
	sk_kindopts_free(&k);
}

static void refusing(void)
{
	char *unknown[] = { "prog", "--nope", NULL };
	char *unknown_short[] = { "prog", "-z", NULL };
	char *missing[] = { "prog", "--name", NULL };
	char *bad[] = { "prog", "--count", "bad", NULL };
	struct seen s;
	sk_kindopts k;
	sk_err e = { 0 };

	ok(parse(2, unknown, &s, &k, &e) == -1 && e.code == EX_USAGE, "an unknown option is a usage error");
	is_str(e.msg, "unknown option '--nope'", "naming it");
	sk_kindopts_free(&k);
	parse(2, unknown_short, &s, &k, &e);
	is_str(e.msg, "unknown option '-z'", "a short one too");
	sk_kindopts_free(&k);
	ok(parse(2, missing, &s, &k, &e) == -1, "a missing argument is refused");
	is_str(e.msg, "option '--name' needs an argument", "and said");
	sk_kindopts_free(&k);
	ok(parse(3, bad, &s, &k, &e) == -1, "what the callback refuses stops the parse");
	is_str(e.msg, "--count: not a number", "with its message");
	sk_kindopts_free(&k);
}

static void kinds(void)
{
	char *argv[] = { "prog", "--group", "g", "--partition", "1", "x", NULL };
	struct seen s;
	sk_kindopts k;
	sk_err e = { 0 };

	parse(6, argv, &s, &k, &e);
	ok(sk_kindopts_check(&k, "kafka", groups, NGROUPS, &e) == 0, "kafka takes --group and --partition");
	ok(sk_kindopts_check(&k, "file", groups, NGROUPS, &e) == -1 && e.code == EX_USAGE,
	   "a file endpoint takes neither");
	is_str(e.msg, "--group is an option of kafka endpoints", "the first one given is named, with its kind");
	sk_kindopts_free(&k);
	{
		char *argv2[] = { "prog", "--partition", "1", "x", NULL };
		parse(4, argv2, &s, &k, &e);
		sk_kindopts_check(&k, "file", groups, NGROUPS, &e);
		is_str(e.msg, "--partition is an option of kafka and sqs endpoints", "every kind that takes it");
		sk_kindopts_free(&k);
	}
	ok(sk_option_find(kafka, "group") == &kafka[0] && sk_option_find(kafka, "follow") == NULL,
	   "a module finds its own rows by name");
}

static void help(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	ok(sk_options_help(f, own, groups, 2) == 0, "help is written");
	fclose(f);
	is_str(text,
	       "      --name NAME          resume from NAME's positions\n"
	       "  -q, --quiet              no warnings\n"
	       "  -c, --count N            stop after N messages\n"
	       "                           and say so\n"
	       "\n"
	       "file endpoints:\n"
	       "  -f, --follow             keep reading as the file grows\n"
	       "\n"
	       "kafka endpoints:\n"
	       "      --group GROUP        consume as a member of GROUP\n"
	       "  -F, --kafka-config FILE  librdkafka settings\n"
	       "      --partition EXPR     the partition\n",
	       "the program's options, then each kind's, aligned");
	free(text);
}

/* Rows shared by groups (-X with no long name), flags, the common options. */
static void shared_rows(void)
{
	static const sk_option conf[] = {
		{ "X", 'X', SK_OPT_REPEAT, "KEY=VALUE", "a setting", 0, 0 },
		{ NULL, 0, 0, NULL, NULL, 0, 0 },
	};
	static const sk_option sink[] = {
		{ "key", 0, SK_OPT_VALUE, "EXPR", "the key", 0, SK_OPTF_PROGRAM },
		{ "headers", 0, SK_OPT_VALUE, "EXPR", "the headers", 0, SK_OPTF_PROGRAM },
		{ NULL, 0, 0, NULL, NULL, 0, 0 },
	};
	static const sk_option_group g[] = { { "file", file, NULL }, { "kafka", sink, conf } };
	char *argv[] = { "prog", "-X", "a=1", "--key", ".k", "-Xb=2", "x", NULL };
	struct seen s;
	sk_kindopts k;
	sk_err e = { 0 };
	sk_buf b = { 0 };
	size_t i = 0;
	const char *v1, *v2;
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	optind = 0;
	ok(sk_options_parse(7, argv, own, g, 2, on_own, &s, &k, &e) == 6, "a shared row with no long name parses");
	v1 = sk_kindopts_next(&k, "X", &i);
	v2 = sk_kindopts_next(&k, "X", &i);
	ok(v1 && v2 && strcmp(v1, "a=1") == 0 && strcmp(v2, "b=2") == 0 && sk_kindopts_next(&k, "X", &i) == NULL,
	   "every value of a repeated option, in order");
	ok(sk_kindopts_check(&k, "kafka", g, 2, &e) == 0, "the group takes its shared rows");
	ok(sk_kindopts_check(&k, "file", g, 2, &e) < 0, "another group does not");
	is_str(e.msg, "-X is an option of kafka endpoints", "named by its short form");
	ok(sk_kindopts_flagged(&k, g, 2, SK_OPTF_PROGRAM), "a program option was given");
	ok(sk_options_list(&b, g, 2, SK_OPTF_PROGRAM) == 0, "the program options are listed");
	is_str(b.p, "--key or --headers", "in their order");
	sk_buf_free(&b);
	sk_kindopts_free(&k);
	f = open_memstream(&text, &size);
	sk_options_help(f, NULL, g + 1, 1);
	fclose(f);
	is_str(text, "\nkafka endpoints:\n"
	       "      --key EXPR           the key\n"
	       "      --headers EXPR       the headers\n"
	       "  -X KEY=VALUE             a setting\n", "help: own rows, then shared ones; -X alone");
	free(text);
}

static void program_args(void)
{
	static const sk_option common[] = {
		{ "verbose", 'v', SK_OPT_FLAG, NULL, "more", 0, 0 },
		{ "help", 0, SK_OPT_FLAG, NULL, "this", 0, 0 },
	};
	char *argv[] = { "prog", "--arg", "n", "v", "--argjson", "j", "{", NULL };
	sk_program_args *args = NULL;
	const char *show = NULL;
	sk_err e = { 0 };

	optind = 3;
	ok(sk_program_arg(&args, 7, argv, "--arg", "n", &e) == 0 && optind == 4, "--arg NAME VALUE takes VALUE");
	optind = 6;
	ok(sk_program_arg(&args, 7, argv, "--argjson", "j", &e) < 0 && e.code == EX_USAGE, "bad JSON is refused");
	ok(strncmp(e.msg, "--argjson: ", 11) == 0, "naming the option (%s)", e.msg);
	optind = 7;
	ok(sk_program_arg(&args, 7, argv, "--arg", "n", &e) < 0, "a missing VALUE is refused");
	is_str(e.msg, "--arg n: missing value (--arg NAME VALUE)", "said so");
	sk_program_args_free(args);
	sk_verbosity = 0;
	ok(sk_options_common(&common[0], &show, &e) == 1 && sk_verbosity == 1, "-v is common");
	ok(sk_options_common(&common[1], &show, &e) < 0 && e.code == EX_OK && strcmp(show, "help") == 0,
	   "--help stops the parse, to be shown");
	ok(sk_options_common(&own[0], &show, &e) == 0, "--name is not common");
	sk_verbosity = 0;
}

/* What sk_usage_error writes to stderr, caught in a file. */
static char *usage_text(int *rc, const char *usage, const char *what)
{
	static char text[512];
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	if (!f || saved < 0 || dup2(fileno(f), 2) < 0)
		abort();
	*rc = what ? sk_usage_error(usage, "bad %s", what) : sk_usage_error(usage, NULL);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static void usage_error(void)
{
	int rc;

	sk_progname = "prog";
	is_str(usage_text(&rc, "prog [options] FILE", "--count"),
	       "prog: bad --count\nusage: prog [options] FILE\n", "the message, then the usage line");
	ok(rc == EX_USAGE, "exit status 64");
	is_str(usage_text(&rc, NULL, "--count"), "prog: bad --count\n", "no usage line when none is given");
	is_str(usage_text(&rc, "prog FILE", NULL), "usage: prog FILE\n", "no message when none is given");
}

int main(void)
{
	parsing();
	refusing();
	kinds();
	help();
	shared_rows();
	program_args();
	usage_error();
	return tap_done();
}
