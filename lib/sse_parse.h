/* sse_parse.h - a Server-Sent-Events stream cut into events, by the rules of
 * WHATWG HTML's "event stream interpretation": a pure function over the
 * bytes of a connection, fed in pieces split anywhere, with no I/O. */
#ifndef SK_SSE_PARSE_H
#define SK_SSE_PARSE_H

#include <stddef.h>
#include "err.h"

typedef struct sk_sse_parser sk_sse_parser;

typedef struct sk_sse_event {
	const char *type;     /* the event field, else "message" */
	size_t type_len;
	int type_default;     /* 1: no event field gave it (it is "message") */
	const char *data;     /* the data lines joined with "\n", not NUL-ended */
	size_t data_len;
	const char *id;       /* the last event id after this event ("" if none) */
	size_t id_len;
	int too_long;         /* the event was longer than the limit: data is
	                       * empty, and the event is known only by where */
	unsigned long long line;   /* the line of the connection it ended on */
} sk_sse_event;

/* Each event dispatched: 0 to go on, -1 (with e set) to stop the feed. */
typedef int (*sk_sse_event_fn)(void *arg, const sk_sse_event *ev, sk_err *e);

/* A parser that accepts events of up to max bytes (their data and type;
 * a longer one is reported too_long and its bytes dropped). NULL: ENOMEM. */
sk_sse_parser *sk_sse_parser_new(size_t max);
void sk_sse_parser_free(sk_sse_parser *p);

/* The next n bytes of the connection: fn for each event they complete.
 * -1 when fn failed or memory ran out (e set); 0 otherwise. */
int sk_sse_feed(sk_sse_parser *p, const char *buf, size_t n, sk_sse_event_fn fn, void *arg, sk_err *e);

/* A new connection: the event that was not finished, the line that was
 * not ended, a pending CR are dropped; a BOM may start the stream again.
 * The last event id and the reconnection time are kept. -1 on ENOMEM. */
int sk_sse_new_connection(sk_sse_parser *p);

/* The last event id (what Last-Event-ID sends), and setting it from a
 * stored position. -1 on ENOMEM. */
const char *sk_sse_last_id(const sk_sse_parser *p, size_t *len);
int sk_sse_set_last_id(sk_sse_parser *p, const char *id, size_t len);

/* The reconnection time the server last asked for with retry:, in ms, or
 * -1 if it never did. */
long long sk_sse_retry_ms(const sk_sse_parser *p);

#endif
