/* kinds_impl.h - a kind's entry in the registry, for kinds.c and the
 * interfaces that dispatch on it: source.c (sources, positions) and
 * sink.c (sinks). */
#ifndef SK_KINDS_IMPL_H
#define SK_KINDS_IMPL_H

#include "endpoint_syntax.h"
#include "kinds.h"
#include "sink_impl.h"
#include "source_impl.h"

/* What a kind is for, by nature: a kind without a module for a role it
 * has is "not available in this version"; one without the role refuses
 * it as a usage error. */
enum sk_kind_roles { SK_KIND_READ_WRITE, SK_KIND_READ_ONLY, SK_KIND_WRITE_ONLY };

struct sk_kind {
	const char *name;
	const char *const *schemes;             /* its URL prefixes, NULL-terminated; NULL: none */
	enum sk_kind_roles roles;
	const struct sk_source_ops *source;     /* NULL: no source module */
	const struct sk_sink_ops *sink;         /* NULL: no sink module */
	const struct sk_position_ops *position; /* what its positions mean; NULL: the default */
	const struct sk_ep_syntax *syntax;      /* its URLs and what they take */
	int unpositioned;                       /* its messages have no position to resume from */
	enum sk_kind_plain plain;               /* the kind of "-", or of a plain path */
};

/* The URL syntax of the kinds whose modules have their own. */
extern const struct sk_ep_syntax sk_kafka_syntax;
extern const struct sk_ep_syntax sk_sqlite_syntax;

/* A role of a kind's modules. */
enum sk_kind_role { SK_KIND_READ, SK_KIND_WRITE };

/* The option groups of the role's modules, each once (files and standard
 * input share one), in the registry's order. */
const sk_option_group *sk_kind_option_groups(enum sk_kind_role role, size_t *n);
/* Whether the options given all belong to k's module for the role: -1
 * with EX_USAGE "--key is an option of kafka endpoints" when one does not. */
int sk_kind_check_options(const struct sk_kind *k, enum sk_kind_role role, const sk_kindopts *given,
                          sk_err *e);

#endif
