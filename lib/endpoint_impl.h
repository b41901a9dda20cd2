/* endpoint_impl.h - what the parts of the endpoint module share: endpoint.c
 * (URL forms, query parameters, resolution), endpoint_label.c (secret
 * names, printable labels) and endpoints_file.c (named endpoints). */
#ifndef SK_ENDPOINT_IMPL_H
#define SK_ENDPOINT_IMPL_H

#include <stddef.h>
#include "endpoint.h"
#include "endpoint_syntax.h"

/* A URL form: its prefix, and its kind (the registry's, kinds.c). */
struct sk_ep_scheme {
	const char *prefix;
	const struct sk_kind *kind;
};

#define SK_BOOLEAN_WORDS "1, true, yes or on; 0, false, no or off"

/* endpoint.c: the syntax of URLs and of the keys kinds take. */
int sk_ep_find_scheme(const char *s, struct sk_ep_scheme *out);   /* 0: no known form */
int sk_ep_starts(const char *s, const char *prefix);
size_t sk_ep_url_scheme(const char *s);
size_t sk_ep_userinfo(const char *a);
long sk_ep_url_decode(char *s, size_t n);
int sk_ep_in_list(const char *const *list, const char *key);
int sk_ep_is_bool_key(const char *key);
int sk_ep_bool_value(const char *v);
void sk_ep_keys_taken(const struct sk_ep_syntax *k, int settings, char *buf, size_t size);
int sk_ep_kv_push(sk_kv **v, size_t *n, const char *key, size_t klen, const char *value, size_t vlen);
/* Parse url into ep (its kind, path or hosts and topic, query), checking
 * the query against what the kind takes. */
int sk_ep_parse_url(sk_endpoint *ep, const char *url, sk_err *e);


/* endpoints_file.c: named endpoints. */
int sk_ep_looks_like_name(const char *s);
/* Look ep->arg up in the endpoints file ini_path and parse its section. */
int sk_ep_resolve_name(sk_endpoint *ep, const char *ini_path, sk_err *e);

#endif
