/* sse_connect.c - an SSE source's connections: a transfer on a libcurl
 * multi handle feeding the parser, events queued as envelopes, and what
 * happens when a connection ends.
 *
 * A connection ends by a drop (the server closed, the network failed, or
 * no byte came for --read-timeout): the events parsed so far are returned,
 * the partial event is dropped, and the next connection sends
 * Last-Event-ID after the reconnection time (the server's retry:, else
 * --retry-delay, never under MIN_RETRY_MS). Attempts that fail in a row
 * (no event came) wait longer each time, with jitter, up to MAX_BACKOFF_MS;
 * an attempt that brought events resets that. A 204 ends the stream; a
 * 4xx other than 408 and 429, a response that is not text/event-stream
 * and a certificate that fails verification end the source at once;
 * 5xx, 408, 429 (and its Retry-After) and network errors are retried,
 * up to --retry-max attempts or --retry-max-time. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "source_sse_impl.h"
#include "sse_position.h"
#include "stop.h"

#define MIN_RETRY_MS 100            /* retry: 0 must not storm */
#define MAX_BACKOFF_MS 60000        /* the longest wait between failed attempts */
#define QUEUE_MAX (1u << 20)        /* bytes of envelopes queued before the transfer waits */

/* --- events in --- */

static int queue_entry(struct sk_sse_src *ss, struct sk_sse_queued **out)
{
	if (ss->qn == ss->qcap && sk_grow(&ss->qv, &ss->qcap, ss->qn, sizeof *ss->qv, 64) < 0)
		return -1;
	*out = &ss->qv[ss->qn];
	memset(*out, 0, sizeof **out);
	return 0;
}

/* ,"event":TYPE,"data": for the event's type, made again only when the
 * type is not the last one's (it is nearly always "message"). */
static int type_json(struct sk_sse_src *ss, const sk_sse_event *ev)
{
	if (ss->type_json.len > 0 && ((ev->type_default && ss->type_default) ||
	                              (ss->type.len == ev->type_len && memcmp(ss->type.p, ev->type, ev->type_len) == 0)))
		return 0;
	ss->type_default = ev->type_default;
	sk_buf_reset(&ss->type);
	sk_buf_reset(&ss->type_json);
	return sk_buf_add(&ss->type, ev->type, ev->type_len) < 0 || sk_buf_adds(&ss->type_json, ",\"event\":") < 0 ||
	       sk_json_add_string(&ss->type_json, ev->type, ev->type_len) < 0 ||
	       sk_buf_adds(&ss->type_json, ",\"data\":") < 0 ? -1 : 0;
}

/* Bytes that an id may hold and still be its own position and its own
 * JSON string's text: printable ASCII but '%', ':', '"' and '\\'. */
static const unsigned char plain_in_id[256] = {
	[' '] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['&' ... '/'] = 1, ['0' ... '9'] = 1, [';' ... '['] = 1,
	[']' ... '~'] = 1,
};

/* Whether id[0..n) is its own position and JSON text (nearly every id is):
 * it is then copied where it would be escaped twice. */
static int plain_id(const char *id, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!plain_in_id[(unsigned char)id[i]])
			return 0;
	return n > 0;
}

static inline char *put(char *o, const void *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

/* Room for n bytes more in b (and its NUL): where they go, or NULL. */
static inline char *room(sk_buf *b, size_t n)
{
	if (b->cap - b->len <= n && sk_buf_reserve(b, n) < 0)
		return NULL;
	return b->p + b->len;
}

/* One event as {"id":ID,"event":TYPE,"data":DATA,"_cursor":C}, then the
 * cursor, each NUL-terminated, at the end of the queue. Where the id is
 * plain (nearly always), what comes before DATA and what comes after it
 * are each put at once. */
static int on_event(void *arg, const sk_sse_event *ev, sk_err *e)
{
	struct sk_sse_src *ss = arg;
	struct sk_sse_queued *x;
	sk_buf *q = &ss->q;
	size_t pos;
	char *o;
	int plain;

	if (queue_entry(ss, &x) < 0)
		return sk_err_oom(e);
	ss->conn_events++;
	if (ev->too_long) {
		x->line = ev->line;
		ss->qn++;
		return 0;
	}
	/* A plain id is its own position: the cursor is put at once below. */
	plain = plain_id(ev->id, ev->id_len);
	ss->cursor.len = ss->cursor_prefix;
	if ((!plain && sk_sse_position_add(&ss->cursor, ev->id, ev->id_len) < 0) || type_json(ss, ev) < 0)
		return sk_err_oom(e);
	pos = ss->cursor.len;
	x->env = q->len;
	if (plain) {
		if ((o = room(q, 8 + ev->id_len + ss->type_json.len)) == NULL)
			return sk_err_oom(e);
		o = put(o, "{\"id\":\"", 7);
		o = put(o, ev->id, ev->id_len);
		*o++ = '"';
		o = put(o, ss->type_json.p, ss->type_json.len);
		q->len = (size_t)(o - q->p);
	} else if (sk_buf_adds(q, "{\"id\":") < 0 ||
	           (ev->id_len ? sk_json_add_string(q, ev->id, ev->id_len) : sk_buf_adds(q, "null")) < 0 ||
	           sk_buf_add(q, ss->type_json.p, ss->type_json.len) < 0) {
		return sk_err_oom(e);
	}
	if (sk_json_add_text(q, ss->jp, ev->data, ev->data_len, ss->json) < 0)
		return sk_err_oom(e);
	if (plain) {
		if ((o = room(q, ss->cursor_json.len + ev->id_len + 3 + ss->cursor_prefix + ev->id_len + 1)) == NULL)
			return sk_err_oom(e);
		o = put(o, ss->cursor_json.p, ss->cursor_json.len);
		o = put(o, ev->id, ev->id_len);
		o = put(o, "\"}", 2);
		x->env_len = (size_t)(o - q->p) - x->env;
		*o++ = '\0';
		x->cursor = (size_t)(o - q->p);
		o = put(o, ss->cursor.p, ss->cursor_prefix);
		o = put(o, ev->id, ev->id_len);
		*o++ = '\0';
		q->len = (size_t)(o - q->p);
		*o = '\0';
	} else {
		if (sk_buf_add(q, ss->cursor_json.p, ss->cursor_json.len) < 0 ||
		    sk_json_add_chars(q, ss->cursor.p + ss->cursor_prefix, pos - ss->cursor_prefix) < 0 ||
		    sk_buf_adds(q, "\"}") < 0)
			return sk_err_oom(e);
		x->env_len = q->len - x->env;
		if (sk_buf_addc(q, '\0') < 0)
			return sk_err_oom(e);
		x->cursor = q->len;
		if (sk_buf_add(q, ss->cursor.p, ss->cursor.len) < 0 || sk_buf_addc(q, '\0') < 0)
			return sk_err_oom(e);
	}
	if (ss->json)
		sk_json_take_kept(ss->jp, q, x->env, &x->value);
	ss->qn++;
	return 0;
}

/* Whether the response is a stream; if not, why the source must end or
 * wait, in fatal_err (ss->refused set). */
static void check_response(struct sk_sse_src *ss)
{
	long code = 0;
	char *ctype = NULL;

	ss->checked = 1;
	curl_easy_getinfo(ss->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(ss->easy, CURLINFO_CONTENT_TYPE, &ctype);
	if (code != 200)
		ss->refused = 1;
	else if (ctype == NULL || strncasecmp(ctype, "text/event-stream", 17) != 0 ||
	         (ctype[17] != '\0' && ctype[17] != ';' && ctype[17] != ' '))
		ss->refused = 2;
}

size_t sk_sse_on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sk_sse_src *ss = arg;

	(void)size;
	ss->last_byte_ms = sk_now_ms();
	if (!ss->checked)
		check_response(ss);
	if (ss->refused)
		return n;    /* an error page: not events */
	if (ss->q.len >= QUEUE_MAX) {
		ss->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (sk_sse_feed(ss->p, p, n, on_event, ss, &ss->feed_err) < 0) {
		ss->feed_failed = 1;
		return 0;    /* CURLE_WRITE_ERROR: the transfer stops */
	}
	return n;
}

/* --- connecting --- */

/* The source's end: fmt has one %s, for detail. The reader names the input. */
static int fail(struct sk_sse_src *ss, int code, const char *fmt, const char *detail)
{
	ss->fatal = 1;
	sk_err_set(&ss->fatal_err, code, fmt, detail);
	return -1;
}

static int start(struct sk_sse_src *ss, sk_err *e)
{
	const char *id;
	size_t idn;
	struct curl_slist *h, *n;

	curl_slist_free_all(ss->conn_headers);
	ss->conn_headers = NULL;
	for (h = ss->headers; h; h = h->next) {
		if ((n = curl_slist_append(ss->conn_headers, h->data)) == NULL)
			return sk_err_oom(e);
		ss->conn_headers = n;
	}
	id = sk_sse_last_id(ss->p, &idn);
	if (idn > 0) {
		char *line = malloc(idn + 16);
		if (line == NULL)
			return sk_err_oom(e);
		memcpy(line, "Last-Event-ID: ", 15);
		memcpy(line + 15, id, idn);
		line[15 + idn] = '\0';
		n = curl_slist_append(ss->conn_headers, line);
		free(line);
		if (n == NULL)
			return sk_err_oom(e);
		ss->conn_headers = n;
	}
	if (sk_sse_new_connection(ss->p) < 0)
		return sk_err_oom(e);
	curl_easy_setopt(ss->easy, CURLOPT_HTTPHEADER, ss->conn_headers);
	ss->checked = ss->refused = ss->paused = ss->feed_failed = 0;
	ss->conn_events = 0;
	ss->errbuf[0] = '\0';
	ss->last_byte_ms = sk_now_ms();
	if (curl_multi_add_handle(ss->multi, ss->easy) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "cannot start a transfer");
	ss->live = 1;
	sk_info("%s: connecting%s", ss->arg, idn ? " with Last-Event-ID" : "");
	return 0;
}

void sk_sse_disconnect(struct sk_sse_src *ss)
{
	if (ss->live)
		curl_multi_remove_handle(ss->multi, ss->easy);
	ss->live = 0;
}

/* The wait before the next attempt: the reconnection time after a
 * connection that brought events; growing, with jitter, after failures. */
static int64_t next_wait(struct sk_sse_src *ss, int64_t at_least)
{
	long long server = sk_sse_retry_ms(ss->p);
	int64_t base = server >= 0 ? (server > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : (int64_t)server)
	                           : ss->retry_default_ms;
	int64_t d = base < MIN_RETRY_MS ? MIN_RETRY_MS : base;
	uint64_t k;

	if (ss->failures > 1) {
		for (k = 1; k < ss->failures && d < MAX_BACKOFF_MS; k++)
			d *= 2;
		if (d > MAX_BACKOFF_MS)
			d = MAX_BACKOFF_MS;
		/* xorshift64: attempts of many readers spread out */
		ss->rand ^= ss->rand << 13;
		ss->rand ^= ss->rand >> 7;
		ss->rand ^= ss->rand << 17;
		d = d / 2 + (int64_t)(ss->rand % (uint64_t)(d / 2 + 1));
	}
	return d > at_least ? d : at_least;
}

/* An attempt failed (why: for the message): wait and try again, or give
 * up when --retry-max or --retry-max-time says so. */
static int failed(struct sk_sse_src *ss, const char *why, int64_t retry_after_ms)
{
	int64_t wait;

	if (ss->failures++ == 0)
		ss->failing_since = sk_wall_ms();
	if ((ss->retry_max && ss->failures >= ss->retry_max) ||
	    (ss->retry_max_time_ms && sk_wall_ms() - ss->failing_since >= ss->retry_max_time_ms)) {
		ss->fatal = 1;
		sk_err_set(&ss->fatal_err, EX_UNAVAILABLE, "%s; gave up after %llu attempts", why,
		           (unsigned long long)ss->failures);
		return 0;
	}
	wait = next_wait(ss, retry_after_ms);
	sk_warn("%s: %s; reconnecting in %lld ms", ss->arg, why, (long long)wait);
	ss->wait_until = sk_now_ms() + wait;
	return 0;
}

/* The connection ended without error from us: the server closed it, or
 * the network failed after the stream began. A drop. */
static void dropped(struct sk_sse_src *ss, const char *why)
{
	ss->dropped = 1;
	if (ss->conn_events > 0) {
		ss->failures = 0;
		ss->wait_until = sk_now_ms() + next_wait(ss, 0);
		sk_info("%s: %s after %llu events", ss->arg, why,
		        (unsigned long long)ss->conn_events);
		return;
	}
	failed(ss, why, 0);
}

/* What a refused response means: 204 the end, 408, 429 and 5xx a wait,
 * anything else the source's end. */
static void refused(struct sk_sse_src *ss)
{
	long code = 0;
	curl_off_t after = -1;
	char why[64];
	char *ctype = NULL;

	curl_easy_getinfo(ss->easy, CURLINFO_RESPONSE_CODE, &code);
	if (ss->refused == 2) {
		curl_easy_getinfo(ss->easy, CURLINFO_CONTENT_TYPE, &ctype);
		fail(ss, EX_UNAVAILABLE, "not an event stream (Content-Type %s, not text/event-stream)",
		     ctype ? ctype : "none");
		return;
	}
	if (code == 204) {
		ss->ended = 1;
		sk_info("%s: HTTP 204: the server ended the stream", ss->arg);
		return;
	}
	snprintf(why, sizeof why, "HTTP %ld", code);
	if (code == 408 || code == 429 || code >= 500) {
		curl_easy_getinfo(ss->easy, CURLINFO_RETRY_AFTER, &after);
		failed(ss, why, after > 0 ? (int64_t)(after > 86400 ? 86400 : after) * 1000 : 0);
		return;
	}
	fail(ss, code == 401 || code == 403 || code == 407 ? EX_CONFIG : EX_UNAVAILABLE,
	     "%s: refused, not retried", why);
}

/* The transfer finished with result r. */
static void finished(struct sk_sse_src *ss, CURLcode r)
{
	char why[CURL_ERROR_SIZE + 64];

	sk_sse_disconnect(ss);
	if (ss->feed_failed) {
		ss->fatal = 1;
		ss->fatal_err = ss->feed_err;
		return;
	}
	if (r == CURLE_OK && !ss->checked)
		check_response(ss);
	if (ss->checked && ss->refused) {
		refused(ss);
		return;
	}
	snprintf(why, sizeof why, "%s", ss->errbuf[0] ? ss->errbuf : curl_easy_strerror(r));
	switch (r) {
	case CURLE_OK:
		dropped(ss, "the server closed the stream");
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		fail(ss, EX_UNAVAILABLE, "%s (the server's certificate is not trusted: --cacert FILE names "
		     "whom to trust; --insecure does not check it)", why);
		return;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_TOO_MANY_REDIRECTS:
		fail(ss, EX_UNAVAILABLE, "%s", why);
		return;
	default:
		if (ss->checked)
			dropped(ss, why);
		else
			failed(ss, why, 0);
	}
}

/* A connection on which nothing came for --read-timeout: dropped. */
static void stalled(struct sk_sse_src *ss)
{
	char why[96];

	sk_sse_disconnect(ss);
	snprintf(why, sizeof why, "nothing received for %lld ms", (long long)ss->read_timeout_ms);
	if (ss->checked && !ss->refused)
		dropped(ss, why);
	else
		failed(ss, why, 0);
}

/* --- events out --- */

/* The next queued event into *m: 1, or -1 with EX_DATAERR for a bad one. */
static int pop(struct sk_sse_src *ss, sk_msg *m, sk_err *e)
{
	struct sk_sse_queued *x = &ss->qv[ss->qi++];

	if (x->cursor == 0) {
		sk_err_set(e, EX_DATAERR, "event ending at line %llu of the connection: longer than %zu bytes",
		           x->line, ss->max_event);
		sk_buf_reset(&ss->bad);
		if (sk_buf_printf(&ss->bad, "{\"event_line\":%llu}", x->line) < 0)
			return sk_err_oom(e);
		m->env = ss->bad.p;
		m->env_len = ss->bad.len;
		m->cursor = NULL;
		return -1;
	}
	m->env = ss->q.p + x->env;
	m->env_len = x->env_len;
	m->cursor = ss->q.p + x->cursor;
	m->value = x->value.tree ? &x->value : NULL;
	return 1;
}

void sk_sse_queue_clear(struct sk_sse_src *ss)
{
	size_t i;

	for (i = 0; i < ss->qn; i++)
		if (ss->qv[i].value.tree)
			sk_json_kept_free(&ss->qv[i].value);
	ss->qi = ss->qn = 0;
}

/* One turn of the transfer: bytes in, finished transfers looked at. */
static int perform(struct sk_sse_src *ss, sk_err *e)
{
	CURLMsg *msg;
	int running, left;

	if (curl_multi_perform(ss->multi, &running) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "the transfer failed");
	while ((msg = curl_multi_info_read(ss->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == ss->easy)
			finished(ss, msg->data.result);
	return 0;
}

/* Wait up to ms for the transfer (or, between connections, for time to pass). */
static int wait_for(struct sk_sse_src *ss, int64_t ms, sk_err *e)
{
	struct curl_waitfd stop = { .fd = sk_stop_wake_fd(), .events = CURL_WAIT_POLLIN };

	if (ms <= 0)
		return 0;
	if (curl_multi_poll(ss->multi, &stop, stop.fd >= 0, ms > 1000000 ? 1000000 : (int)ms, NULL) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "waiting for the transfer failed");
	return 0;
}

int sk_sse_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct sk_sse_src *ss = s->impl;
	int64_t now, deadline = -2, until;

	for (;;) {
		if (ss->qi < ss->qn)
			return pop(ss, m, e);    /* the usual case: no clock read */
		if (deadline == -2)
			deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms;
		sk_sse_queue_clear(ss);
		sk_buf_reset(&ss->q);
		if (ss->paused) {
			ss->paused = 0;
			curl_easy_pause(ss->easy, CURLPAUSE_CONT);   /* may call on_body now */
			continue;
		}
		if (ss->fatal) {
			*e = ss->fatal_err;
			return -1;
		}
		if (ss->ended)
			return SK_EOF;
		if (ss->dropped) {
			ss->dropped = 0;
			return SK_END;
		}
		now = sk_now_ms();
		if (!ss->live && now >= ss->wait_until) {
			if (start(ss, e) < 0)
				return -1;
		}
		if (ss->live) {
			if (perform(ss, e) < 0)
				return -1;
			if (ss->qn > 0 || !ss->live || ss->paused)
				continue;
			now = sk_now_ms();
			if (ss->read_timeout_ms > 0 && now - ss->last_byte_ms >= ss->read_timeout_ms) {
				stalled(ss);
				continue;
			}
		}
		if (deadline >= 0 && now >= deadline)
			return 0;
		until = ss->live ? (ss->read_timeout_ms > 0 ? ss->last_byte_ms + ss->read_timeout_ms : -1)
		                 : ss->wait_until;
		if (deadline >= 0 && (until < 0 || deadline < until))
			until = deadline;
		if (wait_for(ss, until < 0 ? 1000 : until - now, e) < 0)
			return -1;
		if (deadline >= 0 && sk_now_ms() >= deadline && !ss->live)
			return 0;
	}
}
