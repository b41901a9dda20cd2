/* endpoint.h - endpoint arguments: URLs and named endpoints. */
#ifndef SK_ENDPOINT_H
#define SK_ENDPOINT_H

#include <stddef.h>
#include "err.h"

struct sk_kind;   /* kinds.h */

typedef struct sk_kv {
	char *key, *value;
	unsigned line;    /* settings: its line in the endpoints file */
} sk_kv;

typedef struct sk_endpoint {
	const struct sk_kind *kind;   /* its line in the registry (kinds.h) */
	char *arg;        /* what the user wrote (name or URL), for messages and
	                   * the state store: a URL with the values of its
	                   * secret-looking and unknown parameters replaced by
	                   * [redacted] (sk_secret_name) */
	char *name;       /* the named endpoint's name, or NULL */
	char *file;       /* a named endpoint's endpoints file, or NULL */
	char *url;        /* the URL it stands for */
	char *path;       /* STDIO: "-"; FILE, DATASET, SQLITE: the path */
	char *hosts;      /* KAFKA: "h1:p1,h2:p2" */
	char *topic;      /* KAFKA: topic (or ^regex) */
	char *http_url;   /* SQS, SSE: the http(s) URL without the "sqs+"/"sse+" */
	sk_kv *params;    /* the URL's query parameters, decoded */
	size_t nparams;
	sk_kv *settings;  /* keys of the INI section other than url, in order */
	size_t nsettings;
} sk_endpoint;

/* Where named endpoints are looked up: --endpoints FILE, else
 * $STREAMKIT_ENDPOINTS, else $XDG_CONFIG_HOME/streamkit/endpoints.conf
 * (~/.config/...). Returns a malloc'd path (which may not exist). */
char *sk_endpoints_file(const char *option);

/* Resolve an endpoint argument. A URL is parsed; anything else that is not
 * a path of an existing file is looked up as a name in ini_path. Errors:
 * EX_USAGE for a malformed URL, an unknown scheme, a query parameter the
 * kind does not take (sse+ and sqs+ URLs excepted: their query is the
 * server's), a bad boolean or a user name or password in the URL;
 * EX_CONFIG for an unknown name or a bad endpoints file ("FILE:LINE: ...";
 * the whole file's syntax is checked, the named section's keys and url
 * against its kind). A plain argument that is neither a name nor a URL is
 * taken as a file path (as `cat` would). No message quotes a value that
 * may be secret. */
int sk_endpoint_resolve(const char *arg, const char *ini_path, sk_endpoint **out, sk_err *e);
/* The query parameter, or the INI setting of that key, or NULL. */
const char *sk_endpoint_param(const sk_endpoint *ep, const char *key);
/* A boolean setting: "1", "true", "yes", "on" -> 1; "0", "false", "no",
 * "off" -> 0 (resolve refuses anything else); absent -> def. */
int sk_endpoint_flag(const sk_endpoint *ep, const char *key, int def);
void sk_endpoint_free(sk_endpoint *ep);
/* An argument or URL as it may be printed and stored: without user
 * information, with the values of secret-looking query parameters (and of
 * parameters its kind does not take) replaced. malloc'd; NULL: ENOMEM. */
char *sk_ep_safe_label(const char *arg);

/* 1 when a setting or query parameter of this name may hold a secret, so
 * that its value is never printed or stored: names (case aside, a leading
 * "kafka." aside) starting with "sasl." or "x-amz-", or containing
 * "password", "passwd", "secret", "token", "key", "credential",
 * "signature" or "auth" (ssl.key.*, ssl.keystore.*, api_key, ...); except
 * the sasl.* settings that name a mechanism or a service. */
int sk_secret_name(const char *name);

#endif
