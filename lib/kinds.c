/* kinds.c - the registry of endpoint kinds: one line per kind. A kind's
 * modules declare their operations, options (an sk_option_group in their
 * ops), URL syntax and what its positions mean; the line here says which
 * URL forms are the kind's and names those modules. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kinds_impl.h"

static const char *const file_schemes[] = { "file://", "file:", NULL };   /* "file://" first */
static const char *const dataset_schemes[] = { "dataset:", NULL };
static const char *const sqlite_schemes[] = { "sqlite:", NULL };
static const char *const kafka_schemes[] = { "kafka://", NULL };
static const char *const sqs_schemes[] = { "sqs+https://", "sqs+http://", NULL };
static const char *const sse_schemes[] = { "sse+https://", "sse+http://", NULL };

/* SQS and SSE: an http URL whose query is the server's;
 * an SSE endpoint's headers are its header.NAME keys. */
static const struct sk_ep_syntax sqs_syntax = {
	NULL, NULL, "from the AWS environment variables or ~/.aws/credentials", sk_ep_parse_http,
};
static const struct sk_ep_syntax sse_syntax = {
	NULL, "header.", "in a header: -H @FILE, or a header.NAME key of a named endpoint", sk_ep_parse_http,
};

/* In the order that messages list the URL forms. */
static const struct sk_kind kinds[] = {
	{ "kafka", kafka_schemes, SK_KIND_READ_WRITE, &sk_source_kafka_ops, &sk_sink_kafka_ops,
	  &sk_position_kafka_ops, &sk_kafka_syntax, 0, SK_KIND_NOT_PLAIN },
	{ "sqs", sqs_schemes, SK_KIND_READ_WRITE, &sk_source_sqs_ops, &sk_sink_sqs_ops, &sk_position_sqs_ops,
	  &sqs_syntax, 0, SK_KIND_NOT_PLAIN },
	{ "sse", sse_schemes, SK_KIND_READ_ONLY, &sk_source_sse_ops, NULL, &sk_position_sse_ops,
	  &sse_syntax, 0, SK_KIND_NOT_PLAIN },
	{ "file", file_schemes, SK_KIND_READ_WRITE, &sk_source_file_ops, &sk_sink_file_ops,
	  &sk_position_file_ops, &sk_ep_path_syntax, 0, SK_KIND_PATH },
	{ "dataset", dataset_schemes, SK_KIND_WRITE_ONLY, NULL, &sk_sink_dataset_ops, NULL,
	  &sk_ep_path_syntax, 0, SK_KIND_NOT_PLAIN },
	{ "sqlite", sqlite_schemes, SK_KIND_WRITE_ONLY, NULL, &sk_sink_sqlite_ops, NULL,
	  &sk_sqlite_syntax, 0, SK_KIND_NOT_PLAIN },
	{ "stdio", NULL, SK_KIND_READ_WRITE, &sk_source_file_ops, &sk_sink_stdout_ops, NULL,
	  &sk_ep_path_syntax, 1, SK_KIND_DASH },
};

#define NKINDS (sizeof kinds / sizeof kinds[0])

const sk_kind *sk_kind_at(size_t i)
{
	return i < NKINDS ? &kinds[i] : NULL;
}

const char *sk_kind_name(const sk_kind *k)
{
	return k->name;
}

const sk_kind *sk_kind_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

const char *sk_kind_scheme_of(const sk_kind *k, const char *url)
{
	const char *const *s;

	for (s = k->schemes; s && *s; s++)
		if (strncmp(url, *s, strlen(*s)) == 0)
			return *s;
	return NULL;
}

const sk_kind *sk_kind_by_url(const char *url)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (sk_kind_scheme_of(&kinds[i], url))
			return &kinds[i];
	return NULL;
}

static const sk_option_group *module_options(const struct sk_kind *k, enum sk_kind_role role)
{
	if (role == SK_KIND_READ)
		return k->source ? k->source->options : NULL;
	return k->sink ? k->sink->options : NULL;
}

#define MAX_GROUPS 16

const sk_option_group *sk_kind_option_groups(enum sk_kind_role role, size_t *n)
{
	static sk_option_group groups[2][MAX_GROUPS];
	sk_option_group *out = groups[role];
	const sk_option_group *g;
	size_t i, j, m = 0;

	for (i = 0; i < NKINDS; i++) {
		if ((g = module_options(&kinds[i], role)) == NULL)
			continue;
		for (j = 0; j < m && out[j].options != g->options; j++)
			;
		if (j == m && m < MAX_GROUPS)
			out[m++] = *g;
	}
	*n = m;
	return out;
}

int sk_kind_check_options(const struct sk_kind *k, enum sk_kind_role role, const sk_kindopts *given,
                          sk_err *e)
{
	const sk_option_group *mine = module_options(k, role), *groups;
	size_t n;

	if (given == NULL || given->n == 0)
		return 0;
	groups = sk_kind_option_groups(role, &n);
	return sk_kindopts_check(given, mine ? mine->kind : "", groups, n, e);
}

const sk_kind *sk_kind_of(const sk_endpoint *ep)
{
	return ep->kind;
}

const sk_kind *sk_kind_plain(enum sk_kind_plain which)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (kinds[i].plain == which)
			return &kinds[i];
	return NULL;
}

const struct sk_ep_syntax *sk_kind_syntax(const sk_kind *k)
{
	return k->syntax;
}

void sk_kind_forms(char *buf, size_t size)
{
	size_t i, used = 0, last = 0;

	for (i = 0; i < NKINDS; i++)
		if (kinds[i].schemes)
			last = i;
	buf[0] = '\0';
	for (i = 0; i < NKINDS && used < size; i++) {
		const char *s = kinds[i].schemes ? kinds[i].schemes[0] : NULL;
		size_t len;
		int w;

		if (s == NULL)
			continue;
		len = strcspn(s, ":");
		w = snprintf(buf + used, size - used, "%s%.*s", used == 0 ? "" : i == last ? " or " : ", ",
		             (int)len, s);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

size_t sk_kind_passthrough_len(const char *name)
{
	size_t i, n;

	for (i = 0; i < NKINDS; i++) {
		const char *p = kinds[i].syntax ? kinds[i].syntax->passthrough : NULL;
		if (p && strncasecmp(name, p, n = strlen(p)) == 0)
			return n;
	}
	return 0;
}
