/* kinds.h - the registry of endpoint kinds: per kind its name, what reads
 * it, what writes it, what its positions mean and the options each takes
 * (kinds.c). Adding a kind is adding its module and one line there;
 * source.c, sink.c and the tools ask the registry, never a kind by name. */
#ifndef SK_KINDS_H
#define SK_KINDS_H

#include <stddef.h>
#include "endpoint.h"

typedef struct sk_kind sk_kind;

/* The kind called name ("kafka"), or NULL. */
const sk_kind *sk_kind_by_name(const char *name);
/* The kind of a URL by its form ("kafka://...", "file:..."), or NULL: a
 * plain path or "-" is not a URL. */
const sk_kind *sk_kind_by_url(const char *url);
/* The URL form of k that url starts with ("file://"), or NULL. */
const char *sk_kind_scheme_of(const sk_kind *k, const char *url);
/* What endpoint.c resolves k's URLs to. */
enum sk_ep_kind sk_kind_ep(const sk_kind *k);
/* The kind of a resolved endpoint. */
const sk_kind *sk_kind_of(const sk_endpoint *ep);
/* The i-th kind of the registry, in its order; NULL after the last. */
const sk_kind *sk_kind_at(size_t i);
const char *sk_kind_name(const sk_kind *k);

#endif
