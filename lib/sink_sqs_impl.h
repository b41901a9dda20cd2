/* sink_sqs_impl.h - what the parts of the SQS sink share: sink_sqs.c
 * (options, opening, the sink's operations), sqs_message.c (the message a
 * row makes) and sqs_send.c (batches, calls in flight, retries, commits). */
#ifndef SK_SINK_SQS_IMPL_H
#define SK_SINK_SQS_IMPL_H

#include <signal.h>
#include <stdint.h>
#include <curl/curl.h>

#include "aws_credentials.h"
#include "sink_epochs.h"
#include "sink_impl.h"
#include "sqs_api.h"
#include "util.h"

#define SK_SQS_BATCH_BYTES 1048576      /* a SendMessageBatch request's body, at most */

/* What makes a row's message: the expressions of the options given. */
struct sk_sqs_exprs {
	sk_program *value, *group_id, *dedup_id, *delay, *attributes;
};

/* One message to send, in one allocation: the entry points into data. */
struct sk_sqs_out {
	sk_sqs_send_entry entry;    /* its id is set when its batch is built */
	sk_sqs_attr_in *attrs;
	uint64_t epoch;
	size_t json_len;            /* its part of a batch's body */
	char data[];
};

/* A batch: being filled (the open one), in flight, or waiting to be sent
 * again. */
struct sk_sqs_batch {
	sk_sqs_call *call;
	struct sk_sqs_out *m[SK_SQS_BATCH_MAX];
	size_t n, bytes;            /* bytes: its request body's length */
	int busy;                   /* in the multi handle, or waiting for retry_at */
	int attempts;
	int64_t retry_at;           /* 0: in the multi handle */
};

/* A message SQS refused for good: a bad row, for the writer to decide on
 * (sk_sink_refused); its epoch waits until then. */
struct sk_sqs_refusal {
	struct sk_sqs_out *m;
	char why[400];
};

/* The sink's own state (sk_sink's impl). */
struct sk_sqs_sink {
	char *arg;                  /* the endpoint, for messages */
	sk_sqs_queue queue;
	sk_aws_provider *creds;
	CURLM *multi;
	volatile sig_atomic_t *stop;
	struct sk_sqs_exprs x;
	long max_size;              /* the queue's MaximumMessageSize */
	int content_dedup;          /* FIFO: ContentBasedDeduplication */
	size_t wrapper;             /* a batch body's bytes around its entries */
	size_t concurrency;         /* batches in flight at most */
	struct sk_sqs_batch open;   /* being filled */
	struct sk_sqs_batch *slots; /* concurrency of them */
	sk_buf scratch;             /* one message's entry, measured */
	sk_epochs epochs;           /* a message carries its epoch's number */
	sk_err failed;              /* the first error of a send: the run's */
	struct sk_sqs_refusal *refused;     /* refused[refused_at .. nrefused) wait */
	size_t nrefused, refused_at, caprefused;
};

/* sqs_message.c */
int sk_sqs_exprs_compile(struct sk_sqs_exprs *x, const sk_kindopts *given, const sk_program_args *args,
                         sk_err *e);
int sk_sqs_exprs_none(const struct sk_sqs_exprs *x);
void sk_sqs_exprs_free(struct sk_sqs_exprs *x);
/* The message row makes (row NULL: text[0..n) is its body), checked
 * against what the queue takes: EX_DATAERR when it cannot be one. */
int sk_sqs_message_of(struct sk_sqs_sink *s, json_object *row, const char *text, size_t n,
                      struct sk_sqs_out **out, sk_err *e);

/* sqs_send.c */
/* Run one call to its end, retried as its error says: 0 and r, or -1. */
int sk_sqs_sink_call(struct sk_sqs_sink *s, sk_sqs_call *c, sk_sqs_result *r, sk_err *e);
/* The length of a batch body around its entries (the request's wrapper). */
int sk_sqs_measure_wrapper(struct sk_sqs_sink *s, sk_err *e);
/* Add m to the open batch (it is taken), sending the batch when full. */
int sk_sqs_send_add(struct sk_sqs_sink *s, struct sk_sqs_out *m, sk_err *e);
/* Send the open batch, serve what came back; with wait, until nothing is
 * in flight. */
int sk_sqs_send_flush(struct sk_sqs_sink *s, int wait, sk_err *e);
/* The refusal the writer is to decide on next: 1 and its row, or 0. */
int sk_sqs_refused(struct sk_sqs_sink *s, const char **text, size_t *n, const char **why);
/* The writer decided on it: its epoch may commit. */
void sk_sqs_refused_done(struct sk_sqs_sink *s);
void sk_sqs_send_free(struct sk_sqs_sink *s);

#endif
