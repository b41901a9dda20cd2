/* source.c - the source interface: which module reads which endpoint kind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source_impl.h"

/* One line per endpoint kind. A kind without a module says why. */
static const struct source_kind {
	const struct sk_source_ops *ops;
	int code;
	const char *why;
} source_kinds[] = {
	[SK_EP_STDIO] = { &sk_source_file_ops, 0, NULL },
	[SK_EP_FILE] = { &sk_source_file_ops, 0, NULL },
	[SK_EP_DATASET] = { NULL, EX_USAGE, "dataset endpoints can be written, not read" },
	[SK_EP_SQLITE] = { NULL, EX_USAGE, "sqlite endpoints can be written, not read" },
	[SK_EP_KAFKA] = { &sk_source_kafka_ops, 0, NULL },
	[SK_EP_SQS] = { NULL, EX_UNAVAILABLE, "sqs sources are not available in this version" },
	[SK_EP_SSE] = { NULL, EX_UNAVAILABLE, "sse sources are not available in this version" },
};

int sk_source_open(const sk_endpoint *ep, const sk_source_opts *o, sk_source **out, sk_err *e)
{
	const struct source_kind *k;
	sk_source *s;

	*out = NULL;
	if ((size_t)ep->kind >= sizeof source_kinds / sizeof source_kinds[0] ||
	    (source_kinds[ep->kind].ops == NULL && source_kinds[ep->kind].why == NULL))
		return sk_err_set(e, EX_SOFTWARE, "endpoint kind %d has no source", (int)ep->kind);
	k = &source_kinds[ep->kind];
	if (k->ops == NULL)
		return sk_err_set(e, k->code, "%s", k->why);
	if (o->name && o->state == NULL)
		return sk_err_set(e, EX_SOFTWARE, "a recipe name needs an open state store");
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	s->ops = k->ops;
	/* A module whose open fails has freed its own state; id is ours. */
	if (s->ops->open(s, ep, o, e) < 0) {
		free(s->id);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int sk_source_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	return s->ops->next(s, m, timeout_ms, e);
}

int sk_source_drain(sk_source *s, sk_err *e)
{
	return s->ops->drain ? s->ops->drain(s, e) : 0;
}

void sk_source_close(sk_source *s)
{
	if (s == NULL)
		return;
	s->ops->close(s);
	free(s->id);
	free(s);
}

const char *sk_source_id(const sk_source *s)
{
	return s->id;
}

/* Digits only, no sign, within int64_t. */
static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	long long n;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

int sk_from_parse(const char *s, sk_source_opts *o, sk_err *e)
{
	int64_t v = 0;

	if (strcmp(s, "earliest") == 0)
		o->from = SK_FROM_EARLIEST;
	else if (strcmp(s, "latest") == 0)
		o->from = SK_FROM_LATEST;
	else if (s[0] == '-' && parse_i64(s + 1, &v) == 0)
		o->from = SK_FROM_TAIL;
	else if (s[0] == '@' && parse_i64(s + 1, &v) == 0)
		o->from = SK_FROM_TIME;
	else if (parse_i64(s, &v) == 0)
		o->from = SK_FROM_OFFSET;
	else
		return sk_err_set(e, EX_USAGE, "invalid --from '%s' (expected earliest, latest, "
		                  "an offset, -N or @MS)", s);
	o->from_value = v;
	o->from_given = 1;
	return 0;
}
