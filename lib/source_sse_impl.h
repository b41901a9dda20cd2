/* source_sse_impl.h - what the files of the SSE source share:
 * source_sse.c (opening: options, headers, the stored position) and
 * sse_connect.c (connections, reconnecting, events out). */
#ifndef SK_SOURCE_SSE_IMPL_H
#define SK_SOURCE_SSE_IMPL_H

#include <curl/curl.h>
#include <stdint.h>

#include "json.h"
#include "source_impl.h"
#include "sse_parse.h"
#include "util.h"

/* An event parsed and not yet returned: its envelope and cursor in the
 * queue's bytes, or a bad one (too long) known by where it ended. */
struct sk_sse_queued {
	size_t env, env_len;      /* offsets in q */
	size_t cursor;            /* offset of the NUL-terminated cursor; 0 for a bad one */
	unsigned long long line;  /* a bad one: the line of the connection it ended on */
	sk_json_kept value;       /* what jp read of its data (keep_values) */
};

struct sk_sse_src {
	char *arg;                /* the endpoint as messages name it */
	char *url;                /* the http(s) URL asked */
	int json;
	size_t max_event;

	/* Settings. */
	int64_t read_timeout_ms;  /* no byte for this long: reconnect; 0 never */
	int64_t connect_timeout_ms;
	int64_t retry_default_ms; /* the reconnection time until the server sets one */
	uint64_t retry_max;       /* give up after this many failures in a row; 0 never */
	int64_t retry_max_time_ms;/* or after failing for this long; 0 never */
	int insecure;
	struct curl_slist *headers;   /* ours and the user's, without Last-Event-ID */

	/* The connection. */
	CURLM *multi;
	CURL *easy;
	struct curl_slist *conn_headers;  /* headers plus this connection's Last-Event-ID */
	int live;                 /* a transfer is on */
	int checked;              /* its response was looked at */
	int refused;              /* its body is an error's, not a stream */
	int paused;               /* the queue is full: the transfer waits */
	int feed_failed;          /* the parser stopped the transfer (e set in feed_err) */
	sk_err feed_err;
	int64_t last_byte_ms;     /* monotonic */
	uint64_t conn_events;     /* events on this connection */
	char errbuf[CURL_ERROR_SIZE];

	/* Between connections. */
	int64_t wait_until;       /* monotonic: when to connect */
	uint64_t failures;        /* failed attempts in a row */
	int64_t failing_since;    /* wall: the first of them */
	int dropped;              /* a drop not yet reported as SK_END */
	int ended;                /* the server said 204: no more */
	int fatal;                /* fatal_err is the source's end */
	sk_err fatal_err;
	uint64_t rand;            /* jitter */

	/* Events. */
	sk_sse_parser *p;
	sk_json *jp;
	sk_buf q;                 /* envelopes and cursors of events not yet returned */
	struct sk_sse_queued *qv;
	size_t qn, qcap, qi;
	sk_buf cursor;            /* "sse:URL:0:" then an event's position */
	size_t cursor_prefix;
	sk_buf cursor_json;       /* ,"_cursor":"sse:URL:0:  (open) */
	sk_buf type, type_json;   /* the last event type, and  ,"event":TYPE,"data":  */
	int type_default;         /* that type was the default one */
	sk_buf bad;               /* a bad event's locating envelope */
};

/* sse_connect.c */
/* libcurl's write callback: the body of a response. */
size_t sk_sse_on_body(char *p, size_t size, size_t n, void *arg);
int sk_sse_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e);
/* Empty the queue of events. */
void sk_sse_queue_clear(struct sk_sse_src *ss);
/* The transfer stopped and removed: at close. */
void sk_sse_disconnect(struct sk_sse_src *ss);

#endif
