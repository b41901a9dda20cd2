/* options.c - command-line options from tables (see options.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "program.h"
#include "util.h"

#define HELP_COLUMN 27          /* where help text starts on its line */

/* One option of the parser: its row, and whose it is. */
struct entry {
	const sk_option *row;
	int own;                    /* the program's own; else an endpoint option */
};

struct parser {
	struct entry *entries;
	struct option *longopts;    /* the entries with a long name, then a zero row */
	size_t n, nlong;
	sk_buf shorts;              /* ":" then "X:" ... for getopt */
};

static int has_name(const struct parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->entries[i].row->name, name) == 0)
			return 1;
	return 0;
}

/* A row whose name is one character is its short form alone (-X). */
static int short_only(const sk_option *row)
{
	return row->name[0] != '\0' && row->name[1] == '\0';
}

static int add_entry(struct parser *p, const sk_option *row, int own)
{
	struct option *lo;

	if (has_name(p, row->name))
		return 0;
	p->entries[p->n] = (struct entry){ .row = row, .own = own };
	if (!short_only(row)) {
		lo = &p->longopts[p->nlong++];
		lo->name = row->name;
		lo->has_arg = row->arg == SK_OPT_FLAG ? no_argument : required_argument;
		lo->flag = NULL;
		lo->val = 256 + (int)p->n;
	}
	p->n++;
	if (row->short_name &&
	    (sk_buf_addc(&p->shorts, row->short_name) < 0 ||
	     (row->arg != SK_OPT_FLAG && sk_buf_addc(&p->shorts, ':') < 0)))
		return -1;
	return 0;
}

static size_t count_rows(const sk_option *t)
{
	size_t n = 0;

	while (t && t[n].name)
		n++;
	return n;
}

/* Call f on each row of group: its own, then the shared ones. */
static int each_row(const sk_option_group *g, int (*f)(void *arg, const sk_option *row), void *arg)
{
	const sk_option *t[2] = { g->options, g->shared };
	size_t i, j;
	int rc;

	for (i = 0; i < 2; i++)
		for (j = 0; t[i] && t[i][j].name; j++)
			if ((rc = f(arg, &t[i][j])) != 0)
				return rc;
	return 0;
}

static int add_kind_entry(void *arg, const sk_option *row)
{
	return add_entry(arg, row, 0);
}

static void parser_free(struct parser *p)
{
	free(p->entries);
	free(p->longopts);
	sk_buf_free(&p->shorts);
}

static int parser_build(struct parser *p, const sk_option *own, const sk_option_group *groups,
                        size_t ngroups, int in_order, sk_err *e)
{
	size_t total = count_rows(own), i, j;

	for (i = 0; i < ngroups; i++)
		total += count_rows(groups[i].options) + count_rows(groups[i].shared);
	memset(p, 0, sizeof *p);
	p->entries = calloc(total + 1, sizeof *p->entries);
	p->longopts = calloc(total + 1, sizeof *p->longopts);
	if (p->entries == NULL || p->longopts == NULL || (in_order && sk_buf_addc(&p->shorts, '+') < 0) ||
	    sk_buf_addc(&p->shorts, ':') < 0)
		return sk_err_oom(e);
	for (j = 0; own && own[j].name; j++)
		if (add_entry(p, &own[j], 1) < 0)
			return sk_err_oom(e);
	for (i = 0; i < ngroups; i++)
		if (each_row(&groups[i], add_kind_entry, p) < 0)
			return sk_err_oom(e);
	return 0;
}

/* The entry getopt_long returned c for. */
static const struct entry *entry_of(const struct parser *p, int c)
{
	size_t i;

	if (c >= 256 && (size_t)(c - 256) < p->n)
		return &p->entries[c - 256];
	for (i = 0; i < p->n; i++)
		if (p->entries[i].row->short_name == c)
			return &p->entries[i];
	return NULL;
}

static int push_given(sk_kindopts *k, const char *name, const char *value, sk_err *e)
{
	sk_optval *v = realloc(k->v, (k->n + 1) * sizeof *v);

	if (v == NULL)
		return sk_err_oom(e);
	v[k->n++] = (sk_optval){ .name = name, .value = value };
	k->v = v;
	return 0;
}

/* What getopt_long refused, said once: its own messages are off. */
static int refused(int c, char **argv, sk_err *e)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return optopt && strncmp(arg, "--", 2) != 0
		       ? sk_err_set(e, EX_USAGE, "option '-%c' needs an argument", optopt)
		       : sk_err_set(e, EX_USAGE, "option '%s' needs an argument", arg);
	if (optopt && strncmp(arg, "--", 2) != 0)
		return sk_err_set(e, EX_USAGE, "unknown option '-%c'", optopt);
	return sk_err_set(e, EX_USAGE, "unknown option '%s'", arg);
}

static int parse(int argc, char **argv, const sk_option *own, const sk_option_group *groups, size_t ngroups,
                 int in_order, sk_option_cb cb, void *arg, sk_kindopts *given, sk_err *e)
{
	struct parser p;
	const struct entry *en;
	int c, rc = 0;

	memset(given, 0, sizeof *given);
	if (parser_build(&p, own, groups, ngroups, in_order, e) < 0) {
		parser_free(&p);
		return -1;
	}
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, p.shorts.p, p.longopts, NULL)) != -1) {
		en = entry_of(&p, c);
		if (c == '?' || c == ':' || en == NULL)
			rc = refused(c, argv, e);
		else if (en->own)
			rc = cb(arg, en->row, en->row->arg == SK_OPT_FLAG ? NULL : optarg, e);
		else
			rc = push_given(given, en->row->name, en->row->arg == SK_OPT_FLAG ? NULL : optarg, e);
	}
	parser_free(&p);
	return rc < 0 ? -1 : optind;
}

int sk_options_parse(int argc, char **argv, const sk_option *own, const sk_option_group *groups,
                     size_t ngroups, sk_option_cb cb, void *arg, sk_kindopts *given, sk_err *e)
{
	return parse(argc, argv, own, groups, ngroups, 0, cb, arg, given, e);
}

int sk_options_parse_command(int argc, char **argv, const sk_option *own, sk_option_cb cb, void *arg,
                             sk_err *e)
{
	sk_kindopts none;

	return parse(argc, argv, own, NULL, 0, 1, cb, arg, &none, e);
}

void sk_kindopts_free(sk_kindopts *k)
{
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

const sk_option *sk_option_find(const sk_option *table, const char *name)
{
	for (; table && table->name; table++)
		if (strcmp(table->name, name) == 0)
			return table;
	return NULL;
}

const sk_option *sk_option_group_find(const sk_option_group *group, const char *name)
{
	const sk_option *o = sk_option_find(group->options, name);

	return o ? o : sk_option_find(group->shared, name);
}

const char *sk_kindopts_next(const sk_kindopts *given, const char *name, size_t *i)
{
	for (; given && *i < given->n; ++*i)
		if (strcmp(given->v[*i].name, name) == 0)
			return given->v[(*i)++].value;
	return NULL;
}

/* The row named name among the groups', or NULL. */
static const sk_option *groups_find(const sk_option_group *groups, size_t ngroups, const char *name)
{
	const sk_option *o = NULL;
	size_t i;

	for (i = 0; o == NULL && i < ngroups; i++)
		o = sk_option_group_find(&groups[i], name);
	return o;
}

int sk_kindopts_flagged(const sk_kindopts *given, const sk_option_group *groups, size_t ngroups,
                        unsigned flag)
{
	const sk_option *o;
	size_t i;

	for (i = 0; given && i < given->n; i++)
		if ((o = groups_find(groups, ngroups, given->v[i].name)) && (o->flags & flag))
			return 1;
	return 0;
}

/* "--name", or "-X" for a row with no long name. */
static int add_label(sk_buf *b, const char *name)
{
	return sk_buf_adds(b, name[1] == '\0' ? "-" : "--") < 0 ? -1 : sk_buf_adds(b, name);
}

int sk_options_list(sk_buf *b, const sk_option_group *groups, size_t ngroups, unsigned flag)
{
	const sk_option *rows[64];
	size_t i, j, n = 0;

	for (i = 0; i < ngroups; i++) {
		const sk_option *t[2] = { groups[i].options, groups[i].shared };
		for (j = 0; j < 2; j++) {
			const sk_option *o;
			for (o = t[j]; o && o->name; o++)
				if ((o->flags & flag) && groups_find(groups, i, o->name) == NULL &&
				    n < sizeof rows / sizeof rows[0])
					rows[n++] = o;
		}
	}
	for (i = 0; i < n; i++)
		if ((i > 0 && sk_buf_adds(b, i + 1 == n ? " or " : ", ") < 0) || add_label(b, rows[i]->name) < 0)
			return -1;
	return 0;
}

const char *sk_kindopts_get(const sk_kindopts *given, const char *name)
{
	const char *last = NULL;
	size_t i;

	for (i = 0; given && i < given->n; i++)
		if (strcmp(given->v[i].name, name) == 0)
			last = given->v[i].value ? given->v[i].value : "";
	return last;
}

/* "kafka endpoints", "kafka and sqs endpoints": the kinds that take name. */
static int kinds_taking(sk_buf *b, const char *name, const sk_option_group *groups, size_t ngroups)
{
	size_t i, found = 0, total = 0;

	for (i = 0; i < ngroups; i++)
		total += sk_option_group_find(&groups[i], name) != NULL;
	for (i = 0; i < ngroups; i++) {
		if (sk_option_group_find(&groups[i], name) == NULL)
			continue;
		found++;
		if (found > 1 && sk_buf_adds(b, found == total ? " and " : ", ") < 0)
			return -1;
		if (sk_buf_adds(b, groups[i].kind) < 0)
			return -1;
	}
	return sk_buf_adds(b, " endpoints");
}

int sk_kindopts_check(const sk_kindopts *given, const char *kind, const sk_option_group *groups,
                      size_t ngroups, sk_err *e)
{
	const sk_option_group *mine = NULL;
	sk_buf b = { 0 };
	size_t i;
	int rc;

	for (i = 0; i < ngroups; i++)
		if (strcmp(groups[i].kind, kind) == 0)
			mine = &groups[i];
	for (i = 0; i < given->n; i++) {
		if (mine && sk_option_group_find(mine, given->v[i].name))
			continue;
		if (add_label(&b, given->v[i].name) < 0 || sk_buf_adds(&b, " is an option of ") < 0 ||
		    kinds_taking(&b, given->v[i].name, groups, ngroups) < 0) {
			sk_buf_free(&b);
			return sk_err_oom(e);
		}
		rc = sk_err_set(e, EX_USAGE, "%s", b.p);
		sk_buf_free(&b);
		return rc;
	}
	return 0;
}

/* "  -F, --kafka-config FILE", padded to the help column (or a line of its
 * own when longer), then the help, its continuation lines indented. */
static int help_row(FILE *f, const sk_option *o)
{
	const char *h = o->help, *nl;
	int n;

	if (short_only(o))
		n = fprintf(f, "  -%c%s%s", o->short_name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
	else
		n = fprintf(f, "  %c%c%s--%s%s%s", o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
		            o->short_name ? ", " : "  ", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
	if (n < 0)
		return -1;
	if (n >= HELP_COLUMN - 1)
		n = fprintf(f, "\n%*s", HELP_COLUMN, "");
	else
		n = fprintf(f, "%*s", HELP_COLUMN - n, "");
	while (n >= 0 && (nl = strchr(h, '\n')) != NULL) {
		n = fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COLUMN, "");
		h = nl + 1;
	}
	return n < 0 || fprintf(f, "%s\n", h) < 0 ? -1 : 0;
}

static int help_row_of(void *f, const sk_option *o)
{
	return help_row(f, o);
}

int sk_options_help(FILE *f, const sk_option *own, const sk_option_group *groups, size_t ngroups)
{
	size_t i;

	for (; own && own->name; own++)
		if (help_row(f, own) < 0)
			return -1;
	for (i = 0; i < ngroups; i++) {
		if (count_rows(groups[i].options) + count_rows(groups[i].shared) == 0)
			continue;
		if (fprintf(f, "\n%s endpoints:\n", groups[i].kind) < 0 ||
		    each_row(&groups[i], help_row_of, f) < 0)
			return -1;
	}
	return 0;
}

int sk_options_common(const sk_option *o, const char **show, sk_err *e)
{
	if (strcmp(o->name, "quiet") == 0)
		sk_verbosity = -1;
	else if (strcmp(o->name, "verbose") == 0)
		sk_verbosity = sk_verbosity < 0 ? 1 : sk_verbosity + 1;
	else if (strcmp(o->name, "help") == 0 || strcmp(o->name, "version") == 0) {
		*show = o->name;
		return sk_err_set(e, EX_OK, "--%s", o->name);   /* stop here */
	} else
		return 0;
	return 1;
}

int sk_options_show(const char *show, const char *program, const char *version, const char *head,
                    const sk_option *own, const sk_option_group *groups, size_t ngroups)
{
	int rc;

	if (strcmp(show, "version") == 0)
		rc = printf("%s (streamkit) %s\n", program, version) < 0 ? -1 : 0;
	else
		rc = fputs(head, stdout) < 0 ? -1 : sk_options_help(stdout, own, groups, ngroups);
	return rc == 0 && fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

int sk_usage_error(const char *usage, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		sk_error("%s", msg);
	}
	if (usage)
		fprintf(stderr, "usage: %s\n", usage);
	return EX_USAGE;
}

int sk_program_arg(sk_program_args **args, int argc, char **argv, const char *opt, const char *name,
                   sk_err *e)
{
	int json = strcmp(opt, "--argjson") == 0;

	if (optind >= argc)
		return sk_err_set(e, EX_USAGE, "%s %s: missing value (%s NAME %s)", opt, name, opt,
		                  json ? "JSON" : "VALUE");
	if (*args == NULL && (*args = sk_program_args_new()) == NULL)
		return sk_err_oom(e);
	if ((json ? sk_program_args_add_json : sk_program_args_add)(*args, name, argv[optind], e) < 0)
		return sk_err_prefix(e, "%s", opt);
	optind++;
	return 0;
}
