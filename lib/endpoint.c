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

/* The query parameters each kind takes besides json, which all take; in
 * the endpoints file, the same keys besides url and json, and the
 * settings passed through under a prefix. */
static const char *const kafka_params[] = { "group", "partition", "offset", NULL };
static const char *const sqlite_params[] = { "table", NULL };
static const char *const no_params[] = { NULL };

static const struct kind {
	const char *name;
	const char *const *params;    /* NULL: the URL's query is the server's, not ours */
	const char *passthrough;      /* endpoints-file keys passed on, or NULL */
	const char *credentials;      /* where credentials go instead of the URL, or NULL */
} kinds[] = {
	[SK_EP_STDIO] = { "stdio", no_params, NULL, NULL },
	[SK_EP_FILE] = { "file", no_params, NULL, NULL },
	[SK_EP_DATASET] = { "dataset", no_params, NULL, NULL },
	[SK_EP_SQLITE] = { "sqlite", sqlite_params, NULL, NULL },
	[SK_EP_KAFKA] = { "kafka", kafka_params, "kafka.",
	                  "with -F FILE, or kafka.sasl.username and kafka.sasl.password in the endpoints file" },
	[SK_EP_SQS] = { "sqs", NULL, NULL, "from the AWS environment variables or ~/.aws/credentials" },
	[SK_EP_SSE] = { "sse", NULL, NULL, NULL },
};

/* The URL forms, by prefix; "file://" before "file:". */
static const struct scheme {
	const char *prefix;
	enum sk_ep_kind kind;
} schemes[] = {
	{ "file://", SK_EP_FILE }, { "file:", SK_EP_FILE }, { "dataset:", SK_EP_DATASET },
	{ "sqlite:", SK_EP_SQLITE }, { "kafka://", SK_EP_KAFKA }, { "sqs+https://", SK_EP_SQS },
	{ "sqs+http://", SK_EP_SQS }, { "sse+https://", SK_EP_SSE }, { "sse+http://", SK_EP_SSE },
};

const char *sk_ep_kind_name(enum sk_ep_kind k)
{
	return kinds[k].name;
}

/* s contains word, case aside. */
static int contains_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

int sk_secret_name(const char *name)
{
	static const char *const parts[] = {
		"password", "passwd", "secret", "token", "key", "credential", "signature", "auth",
	};
	/* sasl.* settings that say how to authenticate, not with what. */
	static const char *const plain[] = {
		"sasl.mechanism", "sasl.mechanisms", "sasl.kerberos.service.name",
		"sasl.kerberos.min.time.before.relogin", "sasl.oauthbearer.method",
	};
	size_t i;

	if (strncasecmp(name, "kafka.", 6) == 0)
		name += 6;
	for (i = 0; i < sizeof plain / sizeof *plain; i++)
		if (strcasecmp(name, plain[i]) == 0)
			return 0;
	if (strncasecmp(name, "sasl.", 5) == 0 || strncasecmp(name, "x-amz-", 6) == 0)
		return 1;
	for (i = 0; i < sizeof parts / sizeof *parts; i++)
		if (contains_word(name, parts[i]))
			return 1;
	return 0;
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

static int kv_push(sk_kv **v, size_t *n, const char *key, size_t klen, const char *value, size_t vlen)
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



static int in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

/* The keys that hold a boolean (the kinds' parameters hold none). */
static int is_bool_key(const char *key)
{
	return strcmp(key, "json") == 0;
}

#define BOOLEANS "1, true, yes or on; 0, false, no or off"

/* A boolean's value: 1, 0, or -1 when v is not one. */
static int bool_value(const char *v)
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

/* What kind k takes, for messages: its query parameters ("group,
 * partition, offset and json"), or (settings) its endpoints-file keys. */
static void keys_taken(const struct kind *k, int settings, char *buf, size_t size)
{
	const char *v[8];
	size_t n = 0, i, used = 0;

	if (settings)
		v[n++] = "url";
	if (!settings)
		for (i = 0; k->params[i] && n < 6; i++)
			v[n++] = k->params[i];
	v[n++] = "json";
	if (settings)
		for (i = 0; k->params && k->params[i] && n < 7; i++)
			v[n++] = k->params[i];
	if (settings && k->passthrough)
		v[n++] = "kafka.SETTING";
	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++) {
		int w = snprintf(buf + used, size - used, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", v[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* 1 when the value of query parameter key is not shown: it may be a
 * secret, or it is one kind k (NULL: unknown) does not take, whose
 * meaning is not known. */
static int hidden_param(const struct kind *k, const char *key)
{
	if (sk_secret_name(key) || k == NULL)
		return 1;
	if (k->params == NULL)
		return 0;   /* the server's parameters: only secret-looking ones */
	return !is_bool_key(key) && !in_list(k->params, key);
}

/* The query q (up to its end or '#') with hidden values replaced. */
static int label_query(sk_buf *b, const struct kind *k, const char *q)
{
	size_t qn = strcspn(q, "#");

	while (qn > 0) {
		const char *amp = memchr(q, '&', qn), *eq;
		size_t n = amp ? (size_t)(amp - q) : qn;
		char *key;
		long kn;

		eq = memchr(q, '=', n);
		if (eq == NULL) {
			if (sk_buf_add(b, q, n) < 0)
				return -1;
		} else {
			if ((key = strndup(q, (size_t)(eq - q))) == NULL)
				return -1;
			if ((kn = url_decode(key, strlen(key))) >= 0)
				key[kn] = '\0';
			if (sk_buf_add(b, q, hidden_param(k, key) ? (size_t)(eq - q + 1) : n) < 0 ||
			    (hidden_param(k, key) && sk_buf_adds(b, "[redacted]") < 0)) {
				free(key);
				return -1;
			}
			free(key);
		}
		if (amp == NULL)
			break;
		if (sk_buf_addc(b, '&') < 0)
			return -1;
		qn -= n + 1;
		q += n + 1;
	}
	return 0;
}

static const struct scheme *find_scheme(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof schemes / sizeof *schemes; i++)
		if (strncmp(s, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
			return &schemes[i];
	return NULL;
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

/* The user information ("user:password@") of a URL's authority, which
 * starts at a: its length, 0 when there is none. */
static size_t userinfo(const char *a)
{
	size_t n = strcspn(a, "/?#");
	const char *at = NULL, *p;

	for (p = a; p < a + n; p++)
		if (*p == '@')
			at = p;
	return at ? (size_t)(at - a + 1) : 0;
}

/* The argument as it may be printed and stored: a URL without its user
 * information and with hidden query values (hidden_param) replaced; a
 * path or a name as it is. */
static char *safe_label(const char *arg)
{
	const struct scheme *sc = find_scheme(arg);
	size_t sn = sc ? strlen(sc->prefix) : url_scheme(arg);
	const struct kind *k = sc ? &kinds[sc->kind] : NULL;
	const char *rest, *q;
	sk_buf b = { 0 };

	if (sn == 0)
		return strdup(arg);
	if (sc == NULL)
		sn += 3;    /* "://" */
	rest = arg + sn;
	if (sk_buf_add(&b, arg, sn) < 0)
		goto fail;
	if (sn >= 2 && arg[sn - 1] == '/' && arg[sn - 2] == '/')
		rest += userinfo(rest);
	q = strchr(rest, '?');
	if (sk_buf_add(&b, rest, q ? (size_t)(q - rest + 1) : strlen(rest)) < 0 ||
	    (q && (label_query(&b, k, q + 1) < 0 || sk_buf_adds(&b, q + 1 + strcspn(q + 1, "#")) < 0)))
		goto fail;
	return b.p;
fail:
	sk_buf_free(&b);
	return NULL;
}

/* "k=v&k2=v2" into ep->params. Messages name a parameter, never its value. */
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
			return sk_err_oom(e);
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
			return sk_err_set(e, EX_USAGE, "%s: query parameter '%.*s': bad percent escape (%%XX)",
			                  ep->arg, (int)(strchr(q, '=') - q), q);
		}
		if (kv_push(&ep->params, &ep->nparams, kv, (size_t)kn, eq + 1, (size_t)vn) < 0) {
			free(kv);
			return sk_err_oom(e);
		}
		free(kv);
		q += n + (amp ? 1 : 0);
	}
	return 0;
}

/* The query parameters against what kind k takes. */
static int check_params(const sk_endpoint *ep, const struct kind *k, sk_err *e)
{
	char taken[160];
	size_t i;

	if (k->params == NULL)
		return 0;   /* the server's */
	for (i = 0; i < ep->nparams; i++) {
		const char *key = ep->params[i].key;

		if (is_bool_key(key)) {
			if (bool_value(ep->params[i].value) < 0)
				return sk_err_set(e, EX_USAGE, "%s: %s: expected a boolean (%s)", ep->arg, key, BOOLEANS);
		} else if (!in_list(k->params, key)) {
			keys_taken(k, 0, taken, sizeof taken);
			return sk_err_set(e, EX_USAGE, "%s: unknown parameter '%s' (%s endpoints take %s)", ep->arg,
			                  key, k->name, taken);
		}
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
		return sk_err_oom(e);
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
		return sk_err_oom(e);
	return q ? parse_query(ep, q + 1, e) : 0;
}

/* sqs+http(s)://... and sse+http(s)://...: an HTTP URL, checked by libcurl. */
static int parse_http(sk_endpoint *ep, const char *http, sk_err *e)
{
	CURLU *u = curl_url();
	CURLUcode rc;
	char *query = NULL;

	if (u == NULL)
		return sk_err_oom(e);
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
		return sk_err_oom(e);
	return 0;
}

/* A URL's user information is refused: URLs are printed and stored. */
static int refuse_userinfo(const sk_endpoint *ep, const struct kind *k, sk_err *e)
{
	if (k->credentials)
		return sk_err_set(e, EX_USAGE, "%s: a user name or password in the URL is refused, as URLs are "
		                  "printed and stored; give credentials %s", ep->arg, k->credentials);
	return sk_err_set(e, EX_USAGE, "%s: a user name or password in the URL is refused, as URLs are "
	                  "printed and stored", ep->arg);
}

/* The URL's form, by kind. */
static int parse_kind(sk_endpoint *ep, const char *url, const struct scheme *sc, sk_err *e)
{
	const char *rest = url + strlen(sc->prefix);

	switch (sc->kind) {
	case SK_EP_FILE:
		if (starts(url, "file://") && url[7] != '/')
			return sk_err_set(e, EX_USAGE, "%s: expected file:PATH or file:///ABSOLUTE/PATH", ep->arg);
		return split_path_query(ep, rest, e);
	case SK_EP_DATASET:
		return split_path_query(ep, rest, e);
	case SK_EP_SQLITE:
		if (split_path_query(ep, rest, e) < 0)
			return -1;
		if (sk_endpoint_param(ep, "table") == NULL)
			return sk_err_set(e, EX_USAGE, "%s: expected sqlite:PATH?table=TABLE", ep->arg);
		return 0;
	case SK_EP_KAFKA:
		return parse_kafka(ep, rest, e);
	case SK_EP_SQS:
	case SK_EP_SSE:
		return parse_http(ep, url + 4, e);
	case SK_EP_STDIO:
		break;
	}
	return sk_err_set(e, EX_SOFTWARE, "%s: no parser for this kind", ep->arg);
}

static int parse_url(sk_endpoint *ep, const char *url, sk_err *e)
{
	const struct scheme *sc = find_scheme(url);
	size_t scheme;

	if ((ep->url = strdup(url)) == NULL)
		return sk_err_oom(e);
	if (strcmp(url, "-") == 0) {
		ep->kind = SK_EP_STDIO;
		ep->path = strdup("-");
		return ep->path ? 0 : sk_err_oom(e);
	}
	if (sc) {
		ep->kind = sc->kind;
		if (starts(sc->prefix + strlen(sc->prefix) - 2, "//") && userinfo(url + strlen(sc->prefix)) > 0)
			return refuse_userinfo(ep, &kinds[sc->kind], e);
		if (parse_kind(ep, url, sc, e) < 0)
			return -1;
		return check_params(ep, &kinds[sc->kind], e);
	}
	if ((scheme = url_scheme(url)) > 0)
		return sk_err_set(e, EX_USAGE, "%s: unknown endpoint scheme '%.*s' (expected kafka, "
		                  "sqs+https, sse+https, file, dataset or sqlite)", ep->arg, (int)scheme, url);
	/* A plain path. */
	ep->kind = SK_EP_FILE;
	ep->path = strdup(url);
	return ep->path ? 0 : sk_err_oom(e);
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

/* The named section, as the endpoints file is parsed. */
struct lookup {
	const char *name;
	sk_endpoint *ep;
	char *url;
	unsigned section_line, url_line;
	int failed;
};

static int lookup_cb(void *arg, const char *section, const char *key, const char *value, unsigned line)
{
	struct lookup *l = arg;

	if (strcmp(section, l->name) != 0)
		return 0;
	if (key == NULL) {
		l->section_line = line;
		return 0;
	}
	if (strcmp(key, "url") == 0) {
		l->url_line = line;
		if ((l->url = strdup(value)) == NULL)
			return l->failed = -1;
		return 0;
	}
	if (kv_push(&l->ep->settings, &l->ep->nsettings, key, strlen(key), value, strlen(value)) < 0)
		return l->failed = -1;
	l->ep->settings[l->ep->nsettings - 1].line = line;
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
			return sk_err_oom(e);
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

/* The keys of the named section against what its kind takes. */
static int check_settings(const sk_endpoint *ep, sk_err *e)
{
	const struct kind *k = &kinds[ep->kind];
	const char *pre = k->passthrough;
	char taken[160];
	size_t i;

	for (i = 0; i < ep->nsettings; i++) {
		const sk_kv *s = &ep->settings[i];

		if (is_bool_key(s->key)) {
			if (bool_value(s->value) < 0)
				return sk_err_set(e, EX_CONFIG, "%s:%u: [%s] %s: expected a boolean (%s)", ep->file, s->line,
				                  ep->name, s->key, BOOLEANS);
			continue;
		}
		if ((k->params && in_list(k->params, s->key)) ||
		    (pre && starts(s->key, pre) && s->key[strlen(pre)] != '\0'))
			continue;
		keys_taken(k, 1, taken, sizeof taken);
		return sk_err_set(e, EX_CONFIG, "%s:%u: [%s] unknown key '%s' (%s endpoints take %s)", ep->file, s->line,
		                  ep->name, s->key, k->name, taken);
	}
	return 0;
}

/* The url of the named section, parsed; its mistakes are the file's. */
static int parse_named_url(sk_endpoint *ep, struct lookup *l, sk_err *e)
{
	if (l->url == NULL)
		return sk_err_set(e, EX_CONFIG, "%s:%u: [%s] has no url", ep->file, l->section_line, ep->name);
	if (parse_url(ep, l->url, e) < 0) {
		if (e && e->code == EX_USAGE)
			e->code = EX_CONFIG;    /* the mistake is in the file, not the command line */
		return sk_err_prefix(e, "%s:%u", ep->file, l->url_line);
	}
	return check_settings(ep, e);
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
	rc = sk_ini_parse(buf, len, ini_path, lookup_cb, &l, e);
	free(buf);
	if (rc == 0 && !l.failed && l.section_line == 0)
		rc = sk_err_set(e, EX_CONFIG, "unknown endpoint '%s': no [%s] in %s "
		                "(for a file of that name write file:%s)", ep->arg, ep->arg, ini_path, ep->arg);
	if (rc == 0 && !l.failed && ((ep->name = strdup(ep->arg)) == NULL || (ep->file = strdup(ini_path)) == NULL))
		l.failed = -1;
	if (l.failed)
		rc = sk_err_oom(e);
	if (rc == 0)
		rc = parse_named_url(ep, &l, e);
	free(l.url);
	return rc == 0 ? 0 : -1;
}

int sk_endpoint_resolve(const char *arg, const char *ini_path, sk_endpoint **out, sk_err *e)
{
	sk_endpoint *ep = calloc(1, sizeof *ep);
	struct stat st;
	int rc;

	if (ep == NULL || (ep->arg = safe_label(arg)) == NULL) {
		free(ep);
		return sk_err_oom(e);
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

	return v == NULL || bool_value(v) < 0 ? def : bool_value(v);
}
