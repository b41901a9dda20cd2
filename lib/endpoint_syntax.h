/* endpoint_syntax.h - what a kind's endpoint URLs look like and what they
 * take, declared by the kind's module and named by its line in the
 * registry (kinds.c); endpoint.c parses and checks an argument by it. The
 * forms several kinds share (a path, an http URL) and the pieces a kind's
 * own form is made of are endpoint.c's. */
#ifndef SK_ENDPOINT_SYNTAX_H
#define SK_ENDPOINT_SYNTAX_H

#include <stddef.h>
#include "endpoint.h"

struct sk_ep_syntax {
	/* The query parameters the kind takes besides json, NULL-terminated;
	 * in the endpoints file, the same keys besides url and json. NULL:
	 * the URL's query is the server's, not ours. */
	const char *const *params;
	const char *passthrough;    /* endpoints-file keys passed on ("kafka."), or NULL */
	const char *credentials;    /* where credentials go instead of the URL, or NULL */
	/* Parse url, whose form's prefix ends at rest (rest is url when there
	 * is none), into ep: its path, or hosts and topic, and query
	 * (sk_ep_parse_query). -1 with EX_USAGE "ARG: expected ...". */
	int (*parse)(sk_endpoint *ep, const char *url, const char *rest, sk_err *e);
};

/* PATH[?query]; after a prefix ending in "//" (file://), an absolute path. */
extern const struct sk_ep_syntax sk_ep_path_syntax;
int sk_ep_parse_path(sk_endpoint *ep, const char *url, const char *rest, sk_err *e);
/* X+http://... and X+https://...: the http(s) URL (ep->http_url), checked
 * by libcurl; its query is the server's. */
int sk_ep_parse_http(sk_endpoint *ep, const char *url, const char *rest, sk_err *e);
/* "k=v&k2=v2", percent-decoded, into ep->params. Messages name a
 * parameter, never its value. */
int sk_ep_parse_query(sk_endpoint *ep, const char *q, sk_err *e);
/* 1 when s[0..n) is a port number, 1 to 65535. */
int sk_ep_valid_port(const char *s, size_t n);

#endif
