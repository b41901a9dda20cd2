/* source_sse.c - the events of an HTTP Server-Sent-Events stream
 * (sse+https://..., sse+http://...): opening the source, its options and
 * headers, where it resumes, and the source's operations. Connections,
 * reconnecting and the events out: sse_connect.c; the event stream's
 * rules: sse_parse.c; positions: sse_position.c.
 *
 * Envelope: {"id":ID,"event":TYPE,"data":DATA,"_cursor":"sse:URL:0:POS"}
 * where ID is the last event id after the event (null when there is
 * none), TYPE the event type ("message" unless the server names one),
 * DATA the data lines joined with "\n" (with --json, embedded when it is
 * JSON), and POS the last event id as sse_position.h writes it. A reader
 * with --name resumes by sending the stored id as Last-Event-ID.
 *
 * Headers: -H 'Name: value' as curl takes it ("Name:" removes one of ours),
 * -H @FILE for a file of such lines (so that tokens stay out of argv), and
 * header.NAME keys of a named endpoint. Values are never printed. */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "endpoint.h"
#include "source_sse_impl.h"
#include "sse_position.h"

#define DEFAULT_READ_TIMEOUT_MS 120000    /* heartbeats come far more often */
#define DEFAULT_CONNECT_TIMEOUT_MS 30000
#define DEFAULT_RETRY_MS 3000             /* until the server sends retry: */
#define DEFAULT_MAX_EVENT (16u << 20)

static const sk_option sse_options[] = {
	{ "header", 'H', SK_OPT_REPEAT, "LINE", "a request header 'Name: value', or @FILE of such\n"
	  "lines (repeatable; 'Name:' removes one of ours)", 0, 0 },
	{ "insecure", 'k', SK_OPT_FLAG, NULL, "do not verify the server's TLS certificate", 0, 0 },
	{ "cacert", 0, SK_OPT_VALUE, "FILE", "trust the certificates of FILE (PEM), not the\n"
	  "system's", 0, 0 },
	{ "read-timeout", 0, SK_OPT_VALUE, "T", "reconnect when nothing came for T (default 2m;\n"
	  "0: never)", 0, 0 },
	{ "connect-timeout", 0, SK_OPT_VALUE, "T", "one connection attempt's limit (default 30s)", 0, 0 },
	{ "retry-delay", 0, SK_OPT_VALUE, "T", "wait before reconnecting until the server sets\n"
	  "one with retry: (default 3s)", 0, 0 },
	{ "retry-max", 0, SK_OPT_VALUE, "N", "give up (exit 69) after N failed attempts in a row\n"
	  "(default: never)", 0, 0 },
	{ "retry-max-time", 0, SK_OPT_VALUE, "T", "give up after failing for T (default: never)", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group sse_option_group = { "sse", sse_options, NULL };

static int duration_opt(const sk_source_opts *o, const char *name, int64_t def, int64_t *out, sk_err *e)
{
	const char *v = sk_kindopts_get(o->kindopts, name);

	*out = def;
	if (v && sk_parse_duration(v, out, e) < 0)
		return sk_err_prefix(e, "--%s", name);
	return 0;
}

static int settings(struct sk_sse_src *ss, const sk_source_opts *o, sk_err *e)
{
	const char *v = sk_kindopts_get(o->kindopts, "retry-max");

	if (o->from_given)
		return sk_err_set(e, EX_USAGE, "--from is not for sse endpoints: a stream starts where its server "
		                  "says, or after the id of -H 'Last-Event-ID: ID'");
	if (o->base64)
		return sk_err_set(e, EX_USAGE, "--binary=base64 is not for sse endpoints: events are text");
	if (duration_opt(o, "read-timeout", DEFAULT_READ_TIMEOUT_MS, &ss->read_timeout_ms, e) < 0 ||
	    duration_opt(o, "connect-timeout", DEFAULT_CONNECT_TIMEOUT_MS, &ss->connect_timeout_ms, e) < 0 ||
	    duration_opt(o, "retry-delay", DEFAULT_RETRY_MS, &ss->retry_default_ms, e) < 0 ||
	    duration_opt(o, "retry-max-time", 0, &ss->retry_max_time_ms, e) < 0)
		return -1;
	if (v && (sk_parse_count(v, &ss->retry_max, e) < 0 || ss->retry_max == 0))
		return sk_err_set(e, EX_USAGE, "invalid --retry-max '%s' (expected a number of attempts, 1 or more)", v);
	ss->insecure = sk_kindopts_get(o->kindopts, "insecure") != NULL;
	ss->json = o->json;
	ss->max_event = o->max_line ? o->max_line : DEFAULT_MAX_EVENT;
	return 0;
}

/* --- headers --- */

/* The length of the name of header line h (up to its ':'), 0 when h is
 * not "Name: value" with a token for a name. */
static size_t header_name(const char *h)
{
	size_t i;

	for (i = 0; h[i] && h[i] != ':'; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr("!#$%&'*+-.^_`|~", h[i]))
			return 0;
	return h[i] == ':' ? i : 0;
}

static int named(const char *h, size_t n, const char *name)
{
	return strlen(name) == n && strncasecmp(h, name, n) == 0;
}

/* One header line: Last-Event-ID starts the stream there; the others go
 * to ss->headers. where names the line for messages (never its value). */
static int add_header(struct sk_sse_src *ss, const char *h, const char *where, sk_err *e)
{
	size_t n = header_name(h);
	const char *v = h + n + 1;
	struct curl_slist *l;

	if (n == 0 || strpbrk(h, "\r\n"))
		return sk_err_set(e, EX_USAGE, "%s: expected a header 'Name: value'", where);
	while (*v == ' ' || *v == '\t')
		v++;
	if (named(h, n, "Last-Event-ID")) {
		if (sk_sse_set_last_id(ss->p, v, strlen(v)) < 0)
			return sk_err_oom(e);
		return 0;
	}
	if ((l = curl_slist_append(ss->headers, h)) == NULL)
		return sk_err_oom(e);
	ss->headers = l;
	return 0;
}

/* -H @FILE: a header per line; blank lines and lines starting with '#' skipped. */
static int header_file(struct sk_sse_src *ss, const char *path, sk_err *e)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, where[4200];
	size_t cap = 0;
	unsigned long no = 0;
	ssize_t got;
	int rc = 0;

	if (f == NULL)
		return sk_err_set(e, EX_CONFIG, "-H @%s: %s", path, strerror(errno));
	while (rc == 0 && (got = getline(&line, &cap, f)) >= 0) {
		no++;
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			line[--got] = '\0';
		if (got == 0 || line[0] == '#')
			continue;
		snprintf(where, sizeof where, "-H @%s:%lu", path, no);
		rc = add_header(ss, line, where, e);
	}
	if (rc == 0 && ferror(f))
		rc = sk_err_set(e, EX_CONFIG, "-H @%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

/* Whether the user's headers name header name (set it, or remove it). */
static int user_has(const struct sk_sse_src *ss, const char *name)
{
	const struct curl_slist *l;

	for (l = ss->headers; l; l = l->next)
		if (named(l->data, header_name(l->data), name))
			return 1;
	return 0;
}

static int headers(struct sk_sse_src *ss, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	static const char *const ours[] = { "Accept: text/event-stream", "Cache-Control: no-cache" };
	const char *h;
	size_t i, k;
	struct curl_slist *l;

	for (i = 0; i < ep->nsettings; i++) {
		const sk_kv *s = &ep->settings[i];
		char *line, where[300];
		int rc;

		if (strncasecmp(s->key, "header.", 7) != 0)
			continue;
		snprintf(where, sizeof where, "%s:%u: %s", ep->file ? ep->file : "", s->line, s->key);
		if ((line = sk_strprintf("%s: %s", s->key + 7, s->value)) == NULL)
			return sk_err_oom(e);
		rc = add_header(ss, line, where, e);
		free(line);
		if (rc < 0) {
			e->code = EX_CONFIG;
			return -1;
		}
	}
	for (i = 0, k = 0; (h = sk_kindopts_next(o->kindopts, "header", &i)) != NULL; k++) {
		char where[32];

		snprintf(where, sizeof where, "-H (the %zu%s)", k + 1, k == 0 ? "st" : k == 1 ? "nd" : k == 2 ? "rd" : "th");
		if ((h[0] == '@' ? header_file(ss, h + 1, e) : add_header(ss, h, where, e)) < 0)
			return -1;
	}
	for (i = 0; i < sizeof ours / sizeof *ours; i++) {
		if (user_has(ss, i == 0 ? "Accept" : "Cache-Control"))
			continue;
		if ((l = curl_slist_append(ss->headers, ours[i])) == NULL)
			return sk_err_oom(e);
		ss->headers = l;
	}
	return 0;
}

/* --- opening --- */

/* The stored last event id, if any, as where the stream resumes. */
static int resume(struct sk_sse_src *ss, const char *id, const sk_source_opts *o, sk_err *e)
{
	char *stored = NULL;
	sk_buf v = { 0 };
	int rc;

	if (o->name == NULL)
		return 0;
	rc = sk_state_get_position(o->state, o->name, id, "0", &stored, e);
	if (rc <= 0)
		return rc;
	rc = sk_sse_position_id(stored, strlen(stored), &v);
	if (rc == -1)
		sk_err_set(e, EX_DATAERR, "stored position of %s for %s is not an event id", id, o->name);
	else if (rc < 0 || sk_sse_set_last_id(ss->p, v.p ? v.p : "", v.len) < 0)
		rc = sk_err_oom(e);
	else
		sk_info("%s: resuming after event id %s", ss->arg, v.len ? v.p : "(none)");
	free(stored);
	sk_buf_free(&v);
	return rc < 0 ? -1 : 0;
}

/* The source id, "sse:" and the URL as it may be stored; the cursor's head. */
static int source_id(sk_source *s, struct sk_sse_src *ss, const sk_endpoint *ep, sk_err *e)
{
	char *label = sk_ep_safe_label(ep->url);
	const char *plus = label ? strchr(label, '+') : NULL;

	if (label == NULL || plus == NULL || (s->id = sk_strprintf("sse:%s", plus + 1)) == NULL) {
		free(label);
		return sk_err_oom(e);
	}
	free(label);
	if (sk_buf_adds(&ss->cursor, s->id) < 0 || sk_buf_adds(&ss->cursor, ":0:") < 0 ||
	    sk_buf_adds(&ss->cursor_json, ",\"_cursor\":") < 0 ||
	    sk_json_add_string(&ss->cursor_json, ss->cursor.p, ss->cursor.len) < 0)
		return sk_err_oom(e);
	ss->cursor_prefix = ss->cursor.len;
	ss->cursor_json.p[--ss->cursor_json.len] = '\0';   /* open: the position follows */
	return 0;
}

static int set_curl(struct sk_sse_src *ss, const char *cacert, sk_err *e)
{
	CURL *c = ss->easy;

	if (curl_easy_setopt(c, CURLOPT_URL, ss->url) != CURLE_OK)
		return sk_err_set(e, EX_USAGE, "%s: libcurl refuses the URL", ss->arg);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sk_sse_on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, ss);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ss->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	/* Big reads: a busy stream costs a call per read (the events of a
	 * quiet one are passed on as they come, whatever the size). */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)ss->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "stream-read (streamkit " PACKAGE_VERSION ")");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
	if (ss->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return 0;
}

static void sse_free(struct sk_sse_src *ss)
{
	if (ss == NULL)
		return;
	sk_sse_disconnect(ss);
	if (ss->easy)
		curl_easy_cleanup(ss->easy);
	if (ss->multi)
		curl_multi_cleanup(ss->multi);
	curl_slist_free_all(ss->headers);
	curl_slist_free_all(ss->conn_headers);
	sk_sse_parser_free(ss->p);
	sk_sse_queue_clear(ss);
	sk_json_free(ss->jp);
	sk_buf_free(&ss->q);
	sk_buf_free(&ss->cursor);
	sk_buf_free(&ss->cursor_json);
	sk_buf_free(&ss->type);
	sk_buf_free(&ss->type_json);
	sk_buf_free(&ss->bad);
	free(ss->qv);
	free(ss->url);
	free(ss->arg);
	free(ss);
}

static int sse_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	struct sk_sse_src *ss = calloc(1, sizeof *ss);

	if (ss == NULL)
		return sk_err_oom(e);
	if (settings(ss, o, e) < 0)
		goto fail;
	ss->url = strdup(ep->http_url);
	ss->arg = strdup(ep->arg);
	ss->p = sk_sse_parser_new(ss->max_event);
	ss->jp = sk_json_new();
	ss->multi = curl_multi_init();
	ss->easy = curl_easy_init();
	if (ss->url == NULL || ss->arg == NULL || ss->p == NULL || ss->jp == NULL || ss->multi == NULL ||
	    ss->easy == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (o->keep_values)
		sk_json_keep_values(ss->jp);
	if (source_id(s, ss, ep, e) < 0 || headers(ss, ep, o, e) < 0 || resume(ss, s->id, o, e) < 0 ||
	    set_curl(ss, sk_kindopts_get(o->kindopts, "cacert"), e) < 0)
		goto fail;
	if (ss->insecure)
		sk_warn("%s: --insecure: the server's TLS certificate is not verified", ss->arg);
	ss->rand = (uint64_t)sk_wall_ms() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	s->impl = ss;
	return 0;
fail:
	sse_free(ss);
	return -1;
}

static void sse_close(sk_source *s)
{
	sse_free(s->impl);
	s->impl = NULL;
}

const struct sk_source_ops sk_source_sse_ops = {
	.kind = "sse",
	.options = &sse_option_group,
	.open = sse_open,
	.next = sk_sse_next,
	.close = sse_close,
};
