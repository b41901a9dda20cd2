/* kinds.h - the registry of endpoint kinds: per kind its name, what reads
 * it, what writes it, what its positions mean and the options each takes
 * (kinds.c). Adding a kind is adding its module and one line there;
 * source.c, sink.c and the tools ask the registry, never a kind by name. */
#ifndef SK_KINDS_H
#define SK_KINDS_H

#include <stddef.h>
#include "endpoint.h"

typedef struct sk_kind sk_kind;
struct sk_ep_syntax;

/* What an argument that is not a URL is: "-", or a plain path. */
enum sk_kind_plain { SK_KIND_NOT_PLAIN, SK_KIND_DASH, SK_KIND_PATH };

/* The kind called name ("kafka"), or NULL. */
const sk_kind *sk_kind_by_name(const char *name);
/* The kind of a URL by its form ("kafka://...", "file:..."), or NULL: a
 * plain path or "-" is not a URL. */
const sk_kind *sk_kind_by_url(const char *url);
/* The URL form of k that url starts with ("file://"), or NULL. */
const char *sk_kind_scheme_of(const sk_kind *k, const char *url);
/* The kind of a resolved endpoint. */
const sk_kind *sk_kind_of(const sk_endpoint *ep);
/* The i-th kind of the registry, in its order; NULL after the last. */
const sk_kind *sk_kind_at(size_t i);
const char *sk_kind_name(const sk_kind *k);
/* The kind of "-" (SK_KIND_DASH) or of a plain path (SK_KIND_PATH). */
const sk_kind *sk_kind_plain(enum sk_kind_plain which);
/* What k's URLs look like and take (endpoint_syntax.h). */
const struct sk_ep_syntax *sk_kind_syntax(const sk_kind *k);
/* "kafka, sqs+https, ... or sqlite": the URL forms, for messages. */
void sk_kind_forms(char *buf, size_t size);
/* The length of the kind's prefix name starts with, when it is a setting
 * passed through to a kind's library ("kafka.sasl.password": 6), else 0. */
size_t sk_kind_passthrough_len(const char *name);

#endif
