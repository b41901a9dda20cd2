/* source_sqs_impl.h - what the files of the SQS source share:
 * source_sqs.c (opening: options, credentials, the queue's settings) and
 * sqs_consume.c (receives, the messages held, deletes and visibility
 * changes, the drain), sqs_envelope.c (messages as envelopes). Positions:
 * sqs_position.c. */
#ifndef SK_SOURCE_SQS_IMPL_H
#define SK_SOURCE_SQS_IMPL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>

#include "aws_credentials.h"
#include "json.h"
#include "source_impl.h"
#include "sqs_api.h"
#include "util.h"

/* What became of a message received. */
enum sk_sqs_held_state {
	SK_SQS_HELD,          /* in flight, ours: queued or returned */
	SK_SQS_BUSY,          /* a delete or a visibility change carries it */
	SK_SQS_GONE,          /* deleted, released, or no longer ours */
};

/* A message received and not yet deleted or released; the message of
 * sequence number seq is held[seq - base]. */
struct sk_sqs_held {
	char *receipt;            /* its receipt handle */
	int64_t received_ms;      /* monotonic */
	int64_t visible_ms;       /* monotonic: when it is visible again unless extended */
	unsigned char state;      /* enum sk_sqs_held_state */
};

enum sk_sqs_call_kind { SK_SQS_CALL_RECEIVE, SK_SQS_CALL_DELETE, SK_SQS_CALL_CHANGE };

/* A call on the multi handle and what it carries. */
struct sk_sqs_slot {
	sk_sqs_call *call;
	int busy;
	enum sk_sqs_call_kind kind;
	uint64_t seq[SK_SQS_BATCH_MAX];   /* delete, change: the messages */
	int visibility[SK_SQS_BATCH_MAX]; /* change: the timeouts asked, seconds (0: release) */
	size_t n;
	int asked;                /* receive: the messages asked for */
	int64_t sent_ms;
	char attempt[48];         /* a FIFO receive's ReceiveRequestAttemptId */
};

/* A message parsed and not yet returned: offsets of its envelope and
 * cursor in q; cursor 0 for one too long to return. */
struct sk_sqs_queued {
	size_t env, env_len, cursor;
	size_t why;               /* a bad one: the offset of what is wrong with it */
	uint64_t seq;
	sk_json_kept value;       /* what jp read of its body (keep_values) */
};

/* Free what the entries v[0..n) kept of their bodies. */
static inline void sk_sqs_queued_clear(struct sk_sqs_queued *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sk_json_kept_free(&v[i].value);
}

struct sk_sqs_src {
	char *arg;                /* the endpoint as messages name it */
	const sk_source_opts *o;
	sk_sqs_queue queue;
	sk_aws_provider *creds;

	/* Settings. */
	int ack_receive;          /* --ack=receive: delete on receipt */
	int concurrency;          /* receives in flight */
	uint64_t max_in_flight;   /* messages held, at most */
	int visibility;           /* seconds a receive or an extension asks for */
	int wait;                 /* a receive's long poll, seconds */
	int64_t drain_ms;
	size_t max_body;          /* --max-line: longer bodies are bad messages */
	int json;

	/* Calls. */
	CURLM *multi;
	struct sk_sqs_slot **slots;
	size_t nslots, busy;      /* calls made, and in flight */
	int receiving;            /* receives in flight */
	uint64_t asked;           /* the messages they asked for */
	char again[SK_SQS_BATCH_MAX][48];  /* FIFO: attempt ids of failed receives, to retry */
	size_t nagain;
	uint64_t attempts;
	int64_t retry_at;         /* monotonic: no new call before */
	int64_t backoff_ms;       /* the next wait after a failure */
	int failing;              /* a failure not yet followed by a success */
	uint64_t rand;
	int stopping;             /* drain: no more receives */
	int release_all;          /* drain's end: release what is not covered */
	const char *id;           /* the source id, for the store */
	sk_state *store;          /* the thread's own connection to it (--name) */

	/* Messages held. */
	struct sk_sqs_held *held;
	size_t nheld, heldcap;
	uint64_t base;            /* the sequence number of held[0] */
	uint64_t next_seq;        /* the next message's (1 is the first) */
	uint64_t live;            /* held and not gone */
	uint64_t covered;         /* the last one a checkpoint covers */
	int64_t polled_ms;        /* when the store was last asked */
	int64_t due_ms;           /* the earliest extension due; -1: none */
	int dirty;                /* something to delete or release: look */

	/* The thread that talks to SQS (sqs_thread.c), so that visibility is
	 * renewed while the tool waits on its output; next() takes envelopes
	 * from it a batch at a time. Under lock: q, qv, qn, empty, fatal,
	 * fatal_err, quit, stop, drain_rc, drain_err. */
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	int wake[2];              /* the thread to next(): something came */
	int quit, stop;           /* asked of the thread by close and drain */
	int empty;                /* a receive found nothing: caught up */
	int fatal;
	sk_err fatal_err;
	int drain_rc;
	sk_err drain_err;
	uint64_t returned_atomic; /* the last sequence number returned (next()'s) */
	sk_json *jp;
	sk_buf q;                 /* envelopes the thread made, not yet taken */
	struct sk_sqs_queued *qv;
	size_t qn, qcap;
	sk_buf rq;                /* next()'s batch: envelopes being returned */
	struct sk_sqs_queued *rqv;
	size_t rqn, rqcap, rqi;
	char session[17];         /* this reader's, in its positions */
	sk_buf cursor_head;       /* "sqs:URL:0:SESSION." */

	/* Counts, for the end. */
	uint64_t deleted, released, expired, late;
	int warned_late, warned_expired;
};

/* sqs_consume.c: the thread's work */
/* Call c signed with the current credentials and added to the multi. */
int sk_sqs_add_call(struct sk_sqs_src *ss, sk_sqs_call *c, sk_err *e);
/* Wait for the calls up to ms (stoppable: or a stop signal). */
int sk_sqs_wait(struct sk_sqs_src *ss, int64_t ms, int stoppable, sk_err *e);
/* One turn: the store asked, calls started, answers taken. */
int sk_sqs_pump(struct sk_sqs_src *ss, sk_err *e);
/* How long to wait for the next thing to do (now monotonic), at most ms. */
int64_t sk_sqs_next_wait(struct sk_sqs_src *ss, int64_t now, int64_t ms);
/* The end: see sqs_consume.c. */
int sk_sqs_drain_loop(struct sk_sqs_src *ss, sk_err *e);
/* SQS keeps a message from others for at most 12 hours from its receipt. */
#define SK_SQS_HOLD_MAX_MS (43200LL * 1000)
/* A held message received at received_ms and invisible until visible_ms
 * (monotonic ms), on a queue of visibility seconds, at now: 0 when nothing
 * is due yet (*due: when its renewal is, half its visibility before it
 * ends); 1 when it is to be renewed for *renew seconds (the visibility,
 * less as its 12 hours near); -1 when its 12 hours are up (2 s left or
 * less): it is given up. */
int sk_sqs_renewal(int64_t received_ms, int64_t visible_ms, int visibility, int64_t now, int *renew,
                   int64_t *due);
void sk_sqs_consume_free(struct sk_sqs_src *ss);

/* sqs_thread.c */
int sk_sqs_start(struct sk_sqs_src *ss, sk_err *e);
int sk_sqs_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e);
int sk_sqs_drain(sk_source *s, sk_err *e);
/* The thread stopped (close): before freeing. */
void sk_sqs_stop_thread(struct sk_sqs_src *ss);
/* The last sequence number next() returned. */
uint64_t sk_sqs_returned(struct sk_sqs_src *ss);
/* Whether the source failed for good (its error in *e when e is not NULL). */
int sk_sqs_fatal(struct sk_sqs_src *ss, sk_err *e);
/* The source fails for good: next() says so. */
void sk_sqs_set_fatal(struct sk_sqs_src *ss, const sk_err *err);
/* Wake next(): envelopes, the end of a receive, a failure. */
void sk_sqs_notify(struct sk_sqs_src *ss);

/* sqs_envelope.c: message m, number seq, queued as an envelope. */
int sk_sqs_envelope(struct sk_sqs_src *ss, const sk_sqs_message *m, uint64_t seq, sk_err *e);

/* sqs_position.c: "SESSION.SEQ" */
#define SK_SQS_SESSION_LEN 16
/* Parse a position: 0 and its session (NUL-ended) and sequence number. */
int sk_sqs_position_parse(const char *pos, char session[SK_SQS_SESSION_LEN + 1], uint64_t *seq);

#endif
