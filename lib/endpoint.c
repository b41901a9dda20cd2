/* endpoint.c - endpoint arguments: the kind of a URL (the registry's,
 * kinds.c) parsed by the kind's syntax (endpoint_syntax.h), the forms
 * kinds share (a path, an http URL), query parameters checked against
 * what the kind takes, and the resolved sk_endpoint.
 * Named endpoints: endpoints_file.c; what of an argument may be printed
 * and stored: endpoint_label.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "curl_dl.h"
#include "endpoint_impl.h"
#include "kinds.h"
#include "util.h"

void sk_endpoint_free(sk_endpoint *ep)
{
	size_t i;

	if (ep == NULL)
		return;
	free(ep->arg);
	free(ep->name);
	free(ep->file);
	free(ep->url);
	free(ep->path);
	free(ep->hosts);
	free(ep->topic);
	free(ep->http_url);
	for (i = 0; i < ep->nparams; i++) {
		free(ep->params[i].key);
		free(ep->params[i].value);
	}
	free(ep->params);
	for (i = 0; i < ep->nsettings; i++) {
		free(ep->settings[i].key);
		free(ep->settings[i].value);
	}
	free(ep->settings);
	free(ep);
}

int sk_ep_kv_push(sk_kv **v, size_t *n, const char *key, size_t klen, const char *value, size_t vlen)
{
	sk_kv *nv = realloc(*v, (*n + 1) * sizeof **v);

	if (nv == NULL)
		return -1;
	*v = nv;
	nv[*n].key = strndup(key, klen);
	nv[*n].value = strndup(value, vlen);
	nv[*n].line = 0;
	if (nv[*n].key == NULL || nv[*n].value == NULL) {
		free(nv[*n].key);
		free(nv[*n].value);
		return -1;
	}
	(*n)++;
	return 0;
}

/* Percent-decode s[0..n) in place ('+' is a space, as in forms); the new length, or -1. */
long sk_ep_url_decode(char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = sk_hex_digit(s[i + 1])) < 0 || (lo = sk_hex_digit(s[i + 2])) < 0)
				return -1;
			s[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			s[o++] = s[i] == '+' ? ' ' : s[i];
	}
	return (long)o;
}

int sk_ep_in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

/* The keys that hold a boolean (the kinds' parameters hold none). */
int sk_ep_is_bool_key(const char *key)
{
	return strcmp(key, "json") == 0;
}

/* A boolean's value: 1, 0, or -1 when v is not one. */
int sk_ep_bool_value(const char *v)
{
	static const char *const yes[] = { "1", "true", "yes", "on" }, *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* What a kind of syntax k takes, for messages: its query parameters
 * ("group, partition, offset and json"), or (settings) its endpoints-file
 * keys. */
void sk_ep_keys_taken(const struct sk_ep_syntax *k, int settings, char *buf, size_t size)
{
	const char *v[8];
	char pass[64];
	size_t n = 0, i, used = 0;

	if (settings)
		v[n++] = "url";
	if (!settings)
		for (i = 0; k->params && k->params[i] && n < 6; i++)
			v[n++] = k->params[i];
	v[n++] = "json";
	if (settings)
		for (i = 0; k->params && k->params[i] && n < 7; i++)
			v[n++] = k->params[i];
	if (settings && k->passthrough) {
		snprintf(pass, sizeof pass, "%sSETTING", k->passthrough);
		v[n++] = pass;
	}
	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++) {
		int w = snprintf(buf + used, size - used, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", v[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

int sk_ep_find_scheme(const char *s, struct sk_ep_scheme *out)
{
	const sk_kind *k = sk_kind_by_url(s);

	if (k == NULL)
		return 0;
	out->prefix = sk_kind_scheme_of(k, s);
	out->kind = k;
	return 1;
}

int sk_ep_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "scheme://" at the start: the length of the scheme, else 0. */
size_t sk_ep_url_scheme(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while (s[i] && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	return sk_ep_starts(s + i, "://") ? i : 0;
}

/* The user information ("user:password@") of a URL's authority, which
 * starts at a: its length, 0 when there is none. */
size_t sk_ep_userinfo(const char *a)
{
	size_t n = strcspn(a, "/?#");
	const char *at = NULL, *p;

	for (p = a; p < a + n; p++)
		if (*p == '@')
			at = p;
	return at ? (size_t)(at - a + 1) : 0;
}

int sk_ep_parse_query(sk_endpoint *ep, const char *q, sk_err *e)
{
	while (*q) {
		const char *amp = strchr(q, '&'), *eq;
		size_t n = amp ? (size_t)(amp - q) : strlen(q);
		char *kv;
		long kn, vn;

		if (n == 0) {
			q += 1;
			continue;
		}
		if ((kv = strndup(q, n)) == NULL)
			return sk_err_oom(e);
		eq = strchr(kv, '=');
		if (eq == NULL) {
			free(kv);
			return sk_err_set(e, EX_USAGE, "%s: query parameter '%.*s' has no value",
			                  ep->arg, (int)n, q);
		}
		kn = sk_ep_url_decode(kv, (size_t)(eq - kv));
		vn = sk_ep_url_decode((char *)eq + 1, strlen(eq + 1));
		if (kn <= 0 || vn < 0) {
			free(kv);
			return sk_err_set(e, EX_USAGE, "%s: query parameter '%.*s': bad percent escape (%%XX)",
			                  ep->arg, (int)(strchr(q, '=') - q), q);
		}
		if (sk_ep_kv_push(&ep->params, &ep->nparams, kv, (size_t)kn, eq + 1, (size_t)vn) < 0) {
			free(kv);
			return sk_err_oom(e);
		}
		free(kv);
		q += n + (amp ? 1 : 0);
	}
	return 0;
}

/* The query parameters against what ep's kind takes. */
static int check_params(const sk_endpoint *ep, sk_err *e)
{
	const struct sk_ep_syntax *k = sk_kind_syntax(ep->kind);
	char taken[160];
	size_t i;

	if (k->params == NULL)
		return 0;   /* the server's */
	for (i = 0; i < ep->nparams; i++) {
		const char *key = ep->params[i].key;

		if (sk_ep_is_bool_key(key)) {
			if (sk_ep_bool_value(ep->params[i].value) < 0)
				return sk_err_set(e, EX_USAGE, "%s: %s: expected a boolean (%s)", ep->arg, key, SK_BOOLEAN_WORDS);
		} else if (!sk_ep_in_list(k->params, key)) {
			sk_ep_keys_taken(k, 0, taken, sizeof taken);
			return sk_err_set(e, EX_USAGE, "%s: unknown parameter '%s' (%s endpoints take %s)", ep->arg,
			                  key, sk_kind_name(ep->kind), taken);
		}
	}
	return 0;
}

int sk_ep_parse_path(sk_endpoint *ep, const char *url, const char *rest, sk_err *e)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);

	if (rest - url >= 2 && rest[-1] == '/' && rest[-2] == '/' && *rest != '/')
		return sk_err_set(e, EX_USAGE, "%s: expected %.*sPATH or %.*s/ABSOLUTE/PATH", ep->arg,
		                  (int)(rest - url - 2), url, (int)(rest - url), url);
	if (n == 0)
		return sk_err_set(e, EX_USAGE, "%s: missing path", ep->arg);
	if ((ep->path = strndup(rest, n)) == NULL)
		return sk_err_oom(e);
	return q ? sk_ep_parse_query(ep, q + 1, e) : 0;
}

static const char *const no_params[] = { NULL };
const struct sk_ep_syntax sk_ep_path_syntax = { no_params, NULL, NULL, sk_ep_parse_path };

int sk_ep_valid_port(const char *s, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v > 0 && v < 65536;
}

int sk_ep_parse_http(sk_endpoint *ep, const char *url, const char *rest, sk_err *e)
{
	const char *plus = strchr(url, '+');
	const char *http = plus && plus < rest ? plus + 1 : rest;
	CURLU *u;
	CURLUcode rc;
	char *query = NULL;

	/* The first need of libcurl, whose failure to load says so. */
	if (sk_curl_load(ep->arg, e) < 0)
		return -1;
	if ((u = curl_url()) == NULL)
		return sk_err_oom(e);
	rc = curl_url_set(u, CURLUPART_URL, http, 0);
	if (rc != CURLUE_OK) {
		curl_url_cleanup(u);
		return sk_err_set(e, EX_USAGE, "%s: bad URL: %s", ep->arg, curl_url_strerror(rc));
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query) {
		int qrc = sk_ep_parse_query(ep, query, e);
		curl_free(query);
		if (qrc < 0) {
			curl_url_cleanup(u);
			return -1;
		}
	}
	curl_url_cleanup(u);
	if ((ep->http_url = strdup(http)) == NULL)
		return sk_err_oom(e);
	return 0;
}

/* A URL's user information is refused: URLs are printed and stored. */
static int refuse_userinfo(const sk_endpoint *ep, sk_err *e)
{
	const struct sk_ep_syntax *k = sk_kind_syntax(ep->kind);

	if (k->credentials)
		return sk_err_set(e, EX_USAGE, "%s: a user name or password in the URL is refused, as URLs are "
		                  "printed and stored; give credentials %s", ep->arg, k->credentials);
	return sk_err_set(e, EX_USAGE, "%s: a user name or password in the URL is refused, as URLs are "
	                  "printed and stored", ep->arg);
}

int sk_ep_parse_url(sk_endpoint *ep, const char *url, sk_err *e)
{
	struct sk_ep_scheme found;
	const struct sk_ep_scheme *sc = sk_ep_find_scheme(url, &found) ? &found : NULL;
	size_t scheme;

	if ((ep->url = strdup(url)) == NULL)
		return sk_err_oom(e);
	if (strcmp(url, "-") == 0) {
		ep->kind = sk_kind_plain(SK_KIND_DASH);
		ep->path = strdup("-");
		return ep->path ? 0 : sk_err_oom(e);
	}
	if (sc) {
		ep->kind = sc->kind;
		if (sk_ep_starts(sc->prefix + strlen(sc->prefix) - 2, "//") && sk_ep_userinfo(url + strlen(sc->prefix)) > 0)
			return refuse_userinfo(ep, e);
		if (sk_kind_syntax(sc->kind)->parse(ep, url, url + strlen(sc->prefix), e) < 0)
			return -1;
		return check_params(ep, e);
	}
	if ((scheme = sk_ep_url_scheme(url)) > 0) {
		char forms[160];
		sk_kind_forms(forms, sizeof forms);
		return sk_err_set(e, EX_USAGE, "%s: unknown endpoint scheme '%.*s' (expected %s)", ep->arg,
		                  (int)scheme, url, forms);
	}
	/* A plain path. */
	ep->kind = sk_kind_plain(SK_KIND_PATH);
	ep->path = strdup(url);
	return ep->path ? 0 : sk_err_oom(e);
}

int sk_endpoint_resolve(const char *arg, const char *ini_path, sk_endpoint **out, sk_err *e)
{
	sk_endpoint *ep = calloc(1, sizeof *ep);
	struct stat st;
	int rc;

	if (ep == NULL || (ep->arg = sk_ep_safe_label(arg)) == NULL) {
		free(ep);
		return sk_err_oom(e);
	}
	if (*arg == '\0')
		rc = sk_err_set(e, EX_USAGE, "empty endpoint");
	else if (sk_ep_looks_like_name(arg) && stat(arg, &st) < 0)
		rc = sk_ep_resolve_name(ep, ini_path, e);
	else
		rc = sk_ep_parse_url(ep, arg, e);
	if (rc < 0) {
		sk_endpoint_free(ep);
		return -1;
	}
	*out = ep;
	return 0;
}

const char *sk_endpoint_param(const sk_endpoint *ep, const char *key)
{
	size_t i;

	for (i = 0; i < ep->nparams; i++)
		if (strcmp(ep->params[i].key, key) == 0)
			return ep->params[i].value;
	for (i = 0; i < ep->nsettings; i++)
		if (strcmp(ep->settings[i].key, key) == 0)
			return ep->settings[i].value;
	return NULL;
}

int sk_endpoint_flag(const sk_endpoint *ep, const char *key, int def)
{
	const char *v = sk_endpoint_param(ep, key);

	return v == NULL || sk_ep_bool_value(v) < 0 ? def : sk_ep_bool_value(v);
}
