/* endpoint.c - endpoint arguments: URLs, paths and named endpoints. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "endpoint.h"
#include "ini.h"
#include "util.h"

static const char *const kind_names[] = {
	[SK_EP_STDIO] = "stdio", [SK_EP_FILE] = "file", [SK_EP_DATASET] = "dataset",
	[SK_EP_SQLITE] = "sqlite", [SK_EP_KAFKA] = "kafka", [SK_EP_SQS] = "sqs", [SK_EP_SSE] = "sse",
};

const char *sk_ep_kind_name(enum sk_ep_kind k)
{
	return kind_names[k];
}

char *sk_endpoints_file(const char *option)
{
	const char *env = getenv("STREAMKIT_ENDPOINTS"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (option)
		return strdup(option);
	if (env && *env)
		return strdup(env);
	if (xdg && *xdg)
		return sk_strprintf("%s/streamkit/endpoints.conf", xdg);
	return sk_strprintf("%s/.config/streamkit/endpoints.conf", home ? home : ".");
}

void sk_endpoint_free(sk_endpoint *ep)
{
	size_t i;

	if (ep == NULL)
		return;
	free(ep->arg);
	free(ep->name);
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

static int kv_push(sk_kv **v, size_t *n, const char *key, size_t klen, const char *value, size_t vlen)
{
	sk_kv *nv = realloc(*v, (*n + 1) * sizeof **v);

	if (nv == NULL)
		return -1;
	*v = nv;
	nv[*n].key = strndup(key, klen);
	nv[*n].value = strndup(value, vlen);
	if (nv[*n].key == NULL || nv[*n].value == NULL) {
		free(nv[*n].key);
		free(nv[*n].value);
		return -1;
	}
	(*n)++;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..n) in place ('+' is a space, as in forms); the new length, or -1. */
static long url_decode(char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
				return -1;
			s[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			s[o++] = s[i] == '+' ? ' ' : s[i];
	}
	return (long)o;
}

/* "k=v&k2=v2" into ep->params. */
static int parse_query(sk_endpoint *ep, const char *q, sk_err *e)
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
			return sk_err_set(e, EX_OSERR, "out of memory");
		eq = strchr(kv, '=');
		if (eq == NULL) {
			free(kv);
			return sk_err_set(e, EX_USAGE, "%s: query parameter '%.*s' has no value",
			                  ep->arg, (int)n, q);
		}
		kn = url_decode(kv, (size_t)(eq - kv));
		vn = url_decode((char *)eq + 1, strlen(eq + 1));
		if (kn <= 0 || vn < 0) {
			free(kv);
			return sk_err_set(e, EX_USAGE, "%s: bad query parameter '%.*s'", ep->arg, (int)n, q);
		}
		if (kv_push(&ep->params, &ep->nparams, kv, (size_t)kn, eq + 1, (size_t)vn) < 0) {
			free(kv);
			return sk_err_set(e, EX_OSERR, "out of memory");
		}
		free(kv);
		q += n + (amp ? 1 : 0);
	}
	return 0;
}

/* PATH[?query]: the path, and the query into params. */
static int split_path_query(sk_endpoint *ep, const char *s, sk_err *e)
{
	const char *q = strchr(s, '?');
	size_t n = q ? (size_t)(q - s) : strlen(s);

	if (n == 0)
		return sk_err_set(e, EX_USAGE, "%s: missing path", ep->arg);
	if ((ep->path = strndup(s, n)) == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	return q ? parse_query(ep, q + 1, e) : 0;
}

static int valid_port(const char *s, size_t n)
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

/* kafka://HOST:PORT[,HOST:PORT]/TOPIC[?query] */
static int parse_kafka(sk_endpoint *ep, const char *rest, sk_err *e)
{
	const char *slash = strchr(rest, '/'), *h, *q;
	size_t tn;

	if (slash == NULL || slash == rest)
		return sk_err_set(e, EX_USAGE, "%s: expected kafka://HOST:PORT[,HOST:PORT]/TOPIC", ep->arg);
	for (h = rest; h < slash;) {
		const char *comma = memchr(h, ',', (size_t)(slash - h)), *colon;
		const char *end = comma ? comma : slash;
		colon = NULL;
		for (const char *c = h; c < end; c++)
			if (*c == ':')
				colon = c;
		if (colon == NULL || colon == h || !valid_port(colon + 1, (size_t)(end - colon - 1)))
			return sk_err_set(e, EX_USAGE, "%s: bad broker '%.*s' (expected HOST:PORT)",
			                  ep->arg, (int)(end - h), h);
		h = comma ? comma + 1 : slash;
	}
	q = strchr(slash + 1, '?');
	tn = q ? (size_t)(q - slash - 1) : strlen(slash + 1);
	if (tn == 0)
		return sk_err_set(e, EX_USAGE, "%s: missing topic", ep->arg);
	ep->hosts = strndup(rest, (size_t)(slash - rest));
	ep->topic = strndup(slash + 1, tn);
	if (ep->hosts == NULL || ep->topic == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	return q ? parse_query(ep, q + 1, e) : 0;
}

/* sqs+http(s)://... and sse+http(s)://...: an HTTP URL, checked by libcurl. */
static int parse_http(sk_endpoint *ep, const char *http, sk_err *e)
{
	CURLU *u = curl_url();
	CURLUcode rc;
	char *query = NULL;

	if (u == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	rc = curl_url_set(u, CURLUPART_URL, http, 0);
	if (rc != CURLUE_OK) {
		curl_url_cleanup(u);
		return sk_err_set(e, EX_USAGE, "%s: bad URL: %s", ep->arg, curl_url_strerror(rc));
	}
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query) {
		int qrc = parse_query(ep, query, e);
		curl_free(query);
		if (qrc < 0) {
			curl_url_cleanup(u);
			return -1;
		}
	}
	curl_url_cleanup(u);
	if ((ep->http_url = strdup(http)) == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	return 0;
}

static int starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "scheme://" at the start: the length of the scheme, else 0. */
static size_t url_scheme(const char *s)
{
	size_t i = 0;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	while (s[i] && (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	return starts(s + i, "://") ? i : 0;
}

static int parse_url(sk_endpoint *ep, const char *url, sk_err *e)
{
	size_t scheme;

	if ((ep->url = strdup(url)) == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	if (strcmp(url, "-") == 0) {
		ep->kind = SK_EP_STDIO;
		ep->path = strdup("-");
		return ep->path ? 0 : sk_err_set(e, EX_OSERR, "out of memory");
	}
	if (starts(url, "file://")) {
		ep->kind = SK_EP_FILE;
		if (url[7] != '/')
			return sk_err_set(e, EX_USAGE, "%s: expected file:PATH or file:///ABSOLUTE/PATH", ep->arg);
		return split_path_query(ep, url + 7, e);
	}
	if (starts(url, "file:")) {
		ep->kind = SK_EP_FILE;
		return split_path_query(ep, url + 5, e);
	}
	if (starts(url, "dataset:")) {
		ep->kind = SK_EP_DATASET;
		return split_path_query(ep, url + 8, e);
	}
	if (starts(url, "sqlite:")) {
		ep->kind = SK_EP_SQLITE;
		if (split_path_query(ep, url + 7, e) < 0)
			return -1;
		if (sk_endpoint_param(ep, "table") == NULL)
			return sk_err_set(e, EX_USAGE, "%s: expected sqlite:PATH?table=TABLE", ep->arg);
		return 0;
	}
	if (starts(url, "kafka://")) {
		ep->kind = SK_EP_KAFKA;
		return parse_kafka(ep, url + 8, e);
	}
	if (starts(url, "sqs+https://") || starts(url, "sqs+http://")) {
		ep->kind = SK_EP_SQS;
		return parse_http(ep, url + 4, e);
	}
	if (starts(url, "sse+https://") || starts(url, "sse+http://")) {
		ep->kind = SK_EP_SSE;
		return parse_http(ep, url + 4, e);
	}
	if ((scheme = url_scheme(url)) > 0)
		return sk_err_set(e, EX_USAGE, "%s: unknown endpoint scheme '%.*s' (expected kafka, "
		                  "sqs+https, sse+https, file, dataset or sqlite)", ep->arg, (int)scheme, url);
	/* A plain path. */
	ep->kind = SK_EP_FILE;
	ep->path = strdup(url);
	return ep->path ? 0 : sk_err_set(e, EX_OSERR, "out of memory");
}

/* A bare word that names an endpoint rather than a file: no '/', no '.', no ':'. */
static int looks_like_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] == '/' || s[i] == '.' || s[i] == ':')
			return 0;
	return i > 0 && strcmp(s, "-") != 0;
}

struct lookup {
	const char *name;
	sk_endpoint *ep;
	char *url;
	int found;
	int failed;
};

static int lookup_cb(void *arg, const char *section, const char *key, const char *value, unsigned line)
{
	struct lookup *l = arg;

	(void)line;
	if (strcmp(section, l->name) != 0)
		return 0;
	l->found = 1;
	if (strcmp(key, "url") == 0) {
		free(l->url);
		if ((l->url = strdup(value)) == NULL)
			return l->failed = -1;
		return 0;
	}
	if (kv_push(&l->ep->settings, &l->ep->nsettings, key, strlen(key), value, strlen(value)) < 0)
		return l->failed = -1;
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len, sk_err *e)
{
	FILE *f = fopen(path, "r");
	sk_buf b = {0};
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return sk_err_set(e, errno == ENOENT ? EX_CONFIG : EX_IOERR, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (sk_buf_add(&b, chunk, n) < 0) {
			fclose(f);
			sk_buf_free(&b);
			return sk_err_set(e, EX_OSERR, "out of memory");
		}
	}
	if (ferror(f)) {
		fclose(f);
		sk_buf_free(&b);
		return sk_err_set(e, EX_IOERR, "%s: read error", path);
	}
	fclose(f);
	*buf = b.p;
	*len = b.len;
	return 0;
}

static int resolve_name(sk_endpoint *ep, const char *ini_path, sk_err *e)
{
	struct lookup l = { .name = ep->arg, .ep = ep };
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int rc;

	if (ini_path == NULL || stat(ini_path, &st) < 0)
		return sk_err_set(e, EX_CONFIG, "unknown endpoint '%s': no endpoints file %s "
		                  "(for a file of that name write file:%s)", ep->arg,
		                  ini_path ? ini_path : "", ep->arg);
	if (read_file(ini_path, &buf, &len, e) < 0)
		return -1;
	rc = sk_ini_parse(buf, len, lookup_cb, &l, e);
	free(buf);
	if (rc != 0 || l.failed) {
		free(l.url);
		if (l.failed)
			return sk_err_set(e, EX_OSERR, "out of memory");
		return sk_err_prefix(e, "%s", ini_path);
	}
	if (!l.found) {
		free(l.url);
		return sk_err_set(e, EX_CONFIG, "unknown endpoint '%s': no [%s] in %s "
		                  "(for a file of that name write file:%s)", ep->arg, ep->arg, ini_path, ep->arg);
	}
	if (l.url == NULL)
		return sk_err_set(e, EX_CONFIG, "%s: [%s] has no url", ini_path, ep->arg);
	if ((ep->name = strdup(ep->arg)) == NULL) {
		free(l.url);
		return sk_err_set(e, EX_OSERR, "out of memory");
	}
	rc = parse_url(ep, l.url, e);
	free(l.url);
	if (rc < 0 && e && e->code == EX_USAGE) {
		e->code = EX_CONFIG;    /* the mistake is in the file, not the command line */
		sk_err_prefix(e, "%s", ini_path);
	}
	return rc;
}

int sk_endpoint_resolve(const char *arg, const char *ini_path, sk_endpoint **out, sk_err *e)
{
	sk_endpoint *ep = calloc(1, sizeof *ep);
	struct stat st;
	int rc;

	if (ep == NULL || (ep->arg = strdup(arg)) == NULL) {
		free(ep);
		return sk_err_set(e, EX_OSERR, "out of memory");
	}
	if (*arg == '\0')
		rc = sk_err_set(e, EX_USAGE, "empty endpoint");
	else if (looks_like_name(arg) && stat(arg, &st) < 0)
		rc = resolve_name(ep, ini_path, e);
	else
		rc = parse_url(ep, arg, e);
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

	if (v == NULL)
		return def;
	return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
	       strcasecmp(v, "on") == 0;
}
