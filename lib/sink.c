/* sink.c - the sink interface: the module the registry (kinds.c) names
 * for an endpoint's kind writes it; the calls tools make. */
#include <stdlib.h>
#include <string.h>

#include "kinds_impl.h"

/* The sink module of ep's kind, or NULL and why there is none. */
static const struct sk_sink_ops *module_for(const sk_endpoint *ep, sk_err *e)
{
	const struct sk_kind *k = sk_kind_of(ep);

	if (k == NULL)
		sk_err_set(e, EX_SOFTWARE, "%s: no endpoint kind", ep->arg);
	else if (k->sink == NULL && k->roles == SK_KIND_READ_ONLY)
		sk_err_set(e, EX_USAGE, "%s: %s endpoints can only be read", ep->arg, k->name);
	else if (k->sink == NULL)
		sk_err_set(e, EX_UNAVAILABLE, "%s: %s sinks are not available in this version", ep->arg, k->name);
	return k ? k->sink : NULL;
}

const sk_option_group *sk_sink_option_groups(size_t *n)
{
	return sk_kind_option_groups(SK_KIND_WRITE, n);
}

int sk_sink_check(const sk_endpoint *ep, const sk_kindopts *given, sk_err *e)
{
	/* A kind that cannot be written: sk_sink_open says so. */
	return module_for(ep, NULL) ? sk_kind_check_options(sk_kind_of(ep), SK_KIND_WRITE, given, e) : 0;
}

int sk_sink_open(const sk_endpoint *ep, const sk_sink_opts *o, sk_sink **out, sk_err *e)
{
	const struct sk_sink_ops *ops = module_for(ep, e);
	sk_sink *k;

	*out = NULL;
	if (ops == NULL)
		return -1;
	if (sk_sink_check(ep, o->kindopts, e) < 0)
		return -1;
	if ((k = calloc(1, sizeof *k)) == NULL || (k->label = strdup(ep->arg)) == NULL) {
		free(k);
		return sk_err_oom(e);
	}
	k->ops = ops;
	k->name = o->name;
	k->state = o->name ? o->state : NULL;
	if (o->schema && (k->schema = sk_schema_dup(o->schema)) == NULL) {
		free(k->label);
		free(k);
		return sk_err_oom(e);
	}
	if (ops->open(k, ep, o, e) < 0) {
		sk_schema_free(k->schema);
		free(k->label);
		free(k);
		return -1;
	}
	*out = k;
	return 0;
}

const sk_schema *sk_sink_schema(const sk_sink *k)
{
	return k->schema;
}

int sk_sink_wants_schema(const sk_sink *k)
{
	return k->keeps_schema && k->schema == NULL;
}

int sk_sink_set_schema(sk_sink *k, sk_schema *s, sk_err *e)
{
	if (k->schema) {
		sk_schema_free(s);
		return sk_err_set(e, EX_SOFTWARE, "%s: the schema is already set", k->label);
	}
	k->schema = s;
	k->schema_stored = 0;
	return 0;
}

int sk_sink_write(sk_sink *k, json_object *row, sk_err *e)
{
	return k->ops->write(k, row, e);
}

int sk_sink_write_cursor(sk_sink *k, json_object *row, const char *cursor, sk_err *e)
{
	if (k->ops->write_cursor)
		return k->ops->write_cursor(k, row, cursor, e);
	return k->ops->write(k, row, e);
}

uint64_t sk_sink_dropped(const sk_sink *k)
{
	return k->dropped;
}

int sk_sink_takes_json(const sk_sink *k)
{
	return k->takes_json && k->ops->write_json != NULL;
}

int sk_sink_write_json(sk_sink *k, const char *text, size_t n, sk_err *e)
{
	return k->ops->write_json(k, text, n, e);
}

int sk_sink_takes_members(const sk_sink *k)
{
	return k->takes_members && k->ops->write_members != NULL;
}

int sk_sink_write_members(sk_sink *k, const char *text, const sk_json_member *m, size_t n, size_t cut, sk_err *e)
{
	return k->ops->write_members(k, text, m, n, cut, e);
}

int sk_sink_flush(sk_sink *k, sk_err *e)
{
	return k->ops->flush ? k->ops->flush(k, e) : 0;
}

int sk_sink_rejects_rows(const sk_sink *k)
{
	return k->rejects_rows;
}

int sk_sink_event_fd(const sk_sink *k)
{
	return k->ops->event_fd ? k->ops->event_fd(k) : -1;
}

int sk_sink_finish(sk_sink *k, sk_err *e)
{
	return k->ops->finish ? k->ops->finish(k, e) : 0;
}

int sk_sink_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	return k->ops->checkpoint(k, cs, rows, e);
}

int sk_sink_refused(sk_sink *k, const char **text, size_t *n, const char **why)
{
	return k->ops->refused ? k->ops->refused(k, text, n, why) : 0;
}

void sk_sink_refused_done(sk_sink *k)
{
	if (k->ops->refused_done)
		k->ops->refused_done(k);
}

void sk_sink_close(sk_sink *k)
{
	if (k == NULL)
		return;
	k->ops->close(k);
	sk_schema_free(k->schema);
	free(k->label);
	free(k);
}
