/* source.c - the source interface: the module the registry (kinds.c)
 * names for an endpoint's kind reads it; what positions mean, by kind. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kinds_impl.h"

/* The source module of ep's kind, or NULL and why there is none. */
static const struct sk_source_ops *module_for(const sk_endpoint *ep, sk_err *e)
{
	const struct sk_kind *k = sk_kind_of(ep);

	if (k == NULL)
		sk_err_set(e, EX_SOFTWARE, "%s: no endpoint kind", ep->arg);
	else if (k->source == NULL && k->roles == SK_KIND_WRITE_ONLY)
		sk_err_set(e, EX_USAGE, "%s endpoints can be written, not read", k->name);
	else if (k->source == NULL)
		sk_err_set(e, EX_UNAVAILABLE, "%s sources are not available in this version", k->name);
	return k ? k->source : NULL;
}

const sk_option_group *sk_source_option_groups(size_t *n)
{
	return sk_kind_option_groups(SK_KIND_READ, n);
}

int sk_source_check(const sk_endpoint *ep, const sk_kindopts *given, sk_err *e)
{
	/* A kind that cannot be read: sk_source_open says so. */
	return module_for(ep, NULL) ? sk_kind_check_options(sk_kind_of(ep), SK_KIND_READ, given, e) : 0;
}

int sk_source_resumes(const sk_endpoint *ep)
{
	const struct sk_kind *k = sk_kind_of(ep);

	return k && !k->unpositioned;
}

int sk_source_open(const sk_endpoint *ep, const sk_source_opts *o, sk_source **out, sk_err *e)
{
	const struct sk_source_ops *ops = module_for(ep, e);
	sk_source *s;

	*out = NULL;
	if (ops == NULL)
		return -1;
	if (o->name && o->state == NULL)
		return sk_err_set(e, EX_SOFTWARE, "a recipe name needs an open state store");
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return sk_err_oom(e);
	s->ops = ops;
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
	m->value = NULL;       /* for the modules that keep none */
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

	if (strcmp(s, "earliest") == 0 || strcmp(s, "beginning") == 0)
		o->from = SK_FROM_EARLIEST;
	else if (strcmp(s, "latest") == 0 || strcmp(s, "end") == 0)
		o->from = SK_FROM_LATEST;
	else if (s[0] == '-' && parse_i64(s + 1, &v) == 0)
		o->from = SK_FROM_TAIL;
	else if (s[0] == '@' && parse_i64(s + 1, &v) == 0)
		o->from = SK_FROM_TIME;
	else if (s[0] == 's' && s[1] == '@' && parse_i64(s + 2, &v) == 0)
		o->from = SK_FROM_TIME;
	else if (parse_i64(s, &v) == 0)
		o->from = SK_FROM_OFFSET;
	else
		return sk_err_set(e, EX_USAGE, "invalid --from '%s' (expected earliest or beginning, "
		                  "latest or end, an offset, -N, @MS or s@MS)", s);
	o->from_value = v;
	o->from_given = 1;
	return 0;
}

/* --- positions --- */

/* 1 when s is a non-empty run of decimal digits. */
static int decimal(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

int sk_position_compare_decimal(const char *a, size_t na, const char *b, size_t nb)
{
	int c;

	if (na == nb && memcmp(a, b, na) == 0)
		return 0;
	if (!decimal(a, na) || !decimal(b, nb))
		return SK_POSITION_INCOMPARABLE;
	/* Numbers of any size: leading zeros do not count. */
	while (na > 1 && *a == '0')
		a++, na--;
	while (nb > 1 && *b == '0')
		b++, nb--;
	if (na != nb)
		return na < nb ? -1 : 1;
	c = memcmp(a, b, na);
	return c < 0 ? -1 : c > 0;
}

/* Sources of no kind listed here (stdin, ids written by hand). */
static const struct sk_position_ops default_position_ops = {
	.prefix = "",
	.compare = sk_position_compare_decimal,
};

/* The position operations of the kind whose source ids source has. */
static const struct sk_position_ops *position_ops(const char *source)
{
	const struct sk_kind *k;
	size_t i;

	for (i = 0; (k = sk_kind_at(i)) != NULL; i++)
		if (k->position && strncmp(source, k->position->prefix, strlen(k->position->prefix)) == 0)
			return k->position;
	return &default_position_ops;
}

int sk_position_compare(const char *source, const char *a, size_t na, const char *b, size_t nb)
{
	return position_ops(source)->compare(a, na, b, nb);
}

int sk_position_source(const char *source, char **out, sk_err *e)
{
	const struct sk_position_ops *k = position_ops(source);

	if (k->source)
		return k->source(source, out, e);
	if ((*out = strdup(source)) == NULL)
		return sk_err_oom(e);
	return 0;
}

int sk_position_check(const char *source, const char *partition, const char *position, sk_err *e)
{
	const struct sk_position_ops *k = position_ops(source);

	if (*partition == '\0' || strchr(partition, ':'))
		return sk_err_set(e, EX_USAGE, "invalid partition '%s' (not empty, no ':')", partition);
	if (*position == '\0' || strchr(position, ':'))
		return sk_err_set(e, EX_USAGE, "invalid position '%s' (not empty, no ':')", position);
	return k->check ? k->check(source, partition, position, e) : 0;
}

int sk_position_describe(const char *source, const char *position, sk_buf *text, sk_buf *json)
{
	const struct sk_position_ops *k = position_ops(source);

	sk_buf_reset(text);
	sk_buf_reset(json);
	if (k->describe)
		return k->describe(position, text, json);
	return sk_buf_adds(text, position);
}

int sk_position_lag(const sk_lag_query *q, const char *source, const char *partition,
                    const char *position, int *whole, sk_err *e)
{
	const struct sk_position_ops *k = position_ops(source);
	sk_lag_row r = { .source = source, .partition = partition, .position = position };

	*whole = 0;
	if (k->lag)
		return k->lag(q, source, partition, position, whole, e);
	return q->cb(q->arg, &r);
}

const sk_option_group *sk_position_lag_options(size_t *n)
{
	static sk_option_group groups[16];
	static size_t ngroups;
	static int made;
	const struct sk_kind *k;
	size_t i;

	for (i = 0; !made && (k = sk_kind_at(i)) != NULL; i++)
		if (k->position && k->position->lag_options && ngroups < sizeof groups / sizeof groups[0])
			groups[ngroups++] = *k->position->lag_options;
	made = 1;
	*n = ngroups;
	return groups;
}
