/* sqs_api.h - Amazon SQS requests over the AWS JSON 1.0 protocol: request
 * bodies, one libcurl easy handle per call (signed with SigV4), responses
 * and errors read back. No source or sink logic: the SQS modules decide
 * what to ask and what an answer means for the pipeline.
 *
 * A call is made to be run with others on ONE curl multi handle:
 *
 *	c = sk_sqs_call_new(&queue, &e);
 *	sk_sqs_call_receive(c, &req, &e);          (or _delete_batch, ...)
 *	sk_sqs_call_prepare(c, &creds, &e);
 *	curl_multi_add_handle(multi, c->easy);
 *	... curl_multi_perform / poll until CURLMSG_DONE for c->easy ...
 *	curl_multi_remove_handle(multi, c->easy);
 *	if (sk_sqs_call_result(c, msg->data.result, &r) < 0)
 *		... r.error.kind says what to do, r.error.err what to print ...
 *	sk_sqs_result_free(&r);
 *
 * A call may be filled and prepared again for the next request (its
 * connection stays in the multi's cache). Credentials are given to each
 * prepare, so refreshed ones take effect on the next request. */
#ifndef SK_SQS_API_H
#define SK_SQS_API_H

#include <stddef.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "util.h"

#define SK_SQS_BATCH_MAX 10            /* entries a batch call takes */
#define SK_SQS_RECEIVE_MAX 10          /* messages a receive asks for */
#define SK_SQS_WAIT_MAX 20             /* seconds of a long poll */
#define SK_SQS_VISIBILITY_MAX 43200    /* seconds: 12 hours */

/* Credentials, from whoever holds them (the credential chain). Borrowed;
 * never printed, never put in an error message. */
typedef struct sk_sqs_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token;        /* NULL or "" for long-term keys */
} sk_sqs_creds;

/* A queue by its URL: http(s)://HOST[:PORT]/ACCOUNT/NAME. */
typedef struct sk_sqs_queue {
	char *url;                        /* the queue URL, as given */
	char *endpoint;                   /* scheme://host[:port]/: where requests go */
	char region[64];
	int fifo;                         /* the name ends in .fifo */
} sk_sqs_queue;

/* Parse url; the region as sk_sqs_region says. EX_USAGE for a URL that is
 * not a queue's, EX_CONFIG when the region cannot be told. */
int sk_sqs_queue_init(sk_sqs_queue *q, const char *url, sk_err *e);
void sk_sqs_queue_free(sk_sqs_queue *q);
/* The region of a queue URL: from the host (sqs.REGION.amazonaws.com[.cn],
 * sqs-fips.REGION..., sqs.REGION.api.aws, vpce-...sqs.REGION.vpce...,
 * REGION.queue.amazonaws.com; queue.amazonaws.com is us-east-1), else
 * AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1 for an http URL
 * (a local server); otherwise -1 (EX_CONFIG). */
int sk_sqs_region(const char *url, char *region, size_t size, sk_err *e);

/* --- requests --- */

typedef enum sk_sqs_action {
	SK_SQS_RECEIVE,                   /* ReceiveMessage */
	SK_SQS_DELETE_BATCH,              /* DeleteMessageBatch */
	SK_SQS_CHANGE_VISIBILITY_BATCH,   /* ChangeMessageVisibilityBatch */
	SK_SQS_SEND_BATCH,                /* SendMessageBatch */
	SK_SQS_GET_ATTRIBUTES,            /* GetQueueAttributes */
} sk_sqs_action;

/* "ReceiveMessage", ...: the X-Amz-Target's operation. */
const char *sk_sqs_action_name(sk_sqs_action a);

typedef struct sk_sqs_receive_req {
	int max_messages;                 /* 1..10 */
	int wait_seconds;                 /* 0..20; -1: the queue's own */
	int visibility_timeout;           /* seconds; -1: the queue's own */
	const char *attempt_id;           /* ReceiveRequestAttemptId (FIFO), or NULL */
} sk_sqs_receive_req;

/* An entry of DeleteMessageBatch (visibility_timeout unused) or of
 * ChangeMessageVisibilityBatch. */
typedef struct sk_sqs_handle {
	const char *id;                   /* unique in the batch: [A-Za-z0-9_-]{1,80} */
	const char *receipt_handle;
	int visibility_timeout;           /* seconds, 0..43200 */
} sk_sqs_handle;

/* A message attribute to send. type is "String", "Number", "Binary", or
 * one of them with a custom ".suffix"; a Binary value is the bytes
 * themselves (sent as base64), the others text. */
typedef struct sk_sqs_attr_in {
	const char *name;
	const char *type;
	const char *value;
	size_t value_len;
} sk_sqs_attr_in;

typedef struct sk_sqs_send_entry {
	const char *id;
	const char *body;
	size_t body_len;
	int delay_seconds;                /* 0..900; -1: the queue's own */
	const char *group_id;             /* MessageGroupId, or NULL */
	const char *deduplication_id;     /* MessageDeduplicationId, or NULL */
	const sk_sqs_attr_in *attrs;
	size_t n_attrs;
} sk_sqs_send_entry;

/* The JSON bodies, appended to b (pure functions, for tests and for
 * measuring a batch against the byte limit). -1 with e set on ENOMEM, or
 * EX_SOFTWARE for a request SQS could never take (no entries, more than
 * 10, a number out of range). */
int sk_sqs_build_receive(sk_buf *b, const char *queue_url, const sk_sqs_receive_req *r, sk_err *e);
int sk_sqs_build_delete_batch(sk_buf *b, const char *queue_url, const sk_sqs_handle *v, size_t n, sk_err *e);
int sk_sqs_build_change_visibility_batch(sk_buf *b, const char *queue_url, const sk_sqs_handle *v, size_t n,
                                         sk_err *e);
int sk_sqs_build_send_batch(sk_buf *b, const char *queue_url, const sk_sqs_send_entry *v, size_t n, sk_err *e);
/* names NULL (or n 0) asks for "All". */
int sk_sqs_build_get_attributes(sk_buf *b, const char *queue_url, const char *const *names, size_t n, sk_err *e);

/* --- calls --- */

typedef struct sk_sqs_call {
	CURL *easy;                       /* add it to a multi handle after prepare */
	sk_sqs_action action;
	const sk_sqs_queue *queue;        /* borrowed: outlives the call */
	sk_buf body;                      /* the request's JSON */
	sk_buf response;                  /* the response's body */
	long timeout_ms;                  /* the whole transfer; set by the fill */
	struct curl_slist *headers;
	char *key_id;                     /* a copy, to scrub it from messages */
	char errbuf[CURL_ERROR_SIZE];
	void *user;                       /* the caller's */
} sk_sqs_call;

sk_sqs_call *sk_sqs_call_new(const sk_sqs_queue *q, sk_err *e);
void sk_sqs_call_free(sk_sqs_call *c);           /* remove it from its multi first */

/* Fill the call with a request (the body built, the action set). */
int sk_sqs_call_receive(sk_sqs_call *c, const sk_sqs_receive_req *r, sk_err *e);
int sk_sqs_call_delete_batch(sk_sqs_call *c, const sk_sqs_handle *v, size_t n, sk_err *e);
int sk_sqs_call_change_visibility_batch(sk_sqs_call *c, const sk_sqs_handle *v, size_t n, sk_err *e);
int sk_sqs_call_send_batch(sk_sqs_call *c, const sk_sqs_send_entry *v, size_t n, sk_err *e);
int sk_sqs_call_get_attributes(sk_sqs_call *c, const char *const *names, size_t n, sk_err *e);

/* Sign the filled request with cr and make the easy handle ready: headers,
 * body, an empty response. EX_CONFIG when credentials are missing. */
int sk_sqs_call_prepare(sk_sqs_call *c, const sk_sqs_creds *cr, sk_err *e);
/* The same with the credentials p holds now (refreshed when due). */
struct sk_aws_provider;
int sk_sqs_call_sign(sk_sqs_call *c, struct sk_aws_provider *p, sk_err *e);

/* --- answers --- */

/* What an error means for the caller. */
typedef enum sk_sqs_errkind {
	SK_SQS_OK = 0,
	SK_SQS_RETRY,          /* 5xx, 429, throttling, network, a garbled answer: retry with backoff */
	SK_SQS_OVER_LIMIT,     /* OverLimit (in-flight cap): wait for some to finish */
	SK_SQS_NO_QUEUE,       /* QueueDoesNotExist / NonExistentQueue */
	SK_SQS_AUTH,           /* 403, bad or expired credentials, bad signature, access denied */
	SK_SQS_BAD_RECEIPT,    /* ReceiptHandleIsInvalid, a handle that has expired */
	SK_SQS_REFUSED,        /* any other error: the request is wrong */
} sk_sqs_errkind;

/* The kind of an error code (with the prefix stripped, or an
 * x-amzn-query-error code), its HTTP status (0 for a batch entry) and
 * message. */
sk_sqs_errkind sk_sqs_classify(long status, const char *code, const char *message);

typedef struct sk_sqs_error {
	sk_sqs_errkind kind;
	long status;                      /* HTTP status; 0: no answer (network) */
	char code[128];                   /* "QueueDoesNotExist" (__type without its prefix) */
	char query_code[128];             /* x-amzn-query-error's code, "AWS.SimpleQueueService.NonExistentQueue" */
	int sender_fault;                 /* x-amzn-query-error said ";Sender" */
	/* err.code: 75 retry and over limit, 69 no queue and others, 78 auth,
	 * 65 a bad receipt; err.msg: "ReceiveMessage: QueueDoesNotExist: The
	 * specified queue does not exist (HTTP 400)", with no credential. */
	sk_err err;
} sk_sqs_error;

/* A received message. Strings are NUL-terminated and borrowed from the
 * result; body may hold NUL bytes (body_len says). */
typedef struct sk_sqs_attr {
	const char *name;
	const char *type;                 /* DataType: "String", "Number", "Binary"[.suffix] */
	const char *value;                /* StringValue, or BinaryValue as base64 */
	size_t value_len;
	int binary;
} sk_sqs_attr;

typedef struct sk_sqs_message {
	const char *id;                   /* MessageId */
	const char *receipt_handle;
	const char *body;
	size_t body_len;
	const char *md5_of_body;          /* NULL when absent */
	json_object *attributes;          /* {"SentTimestamp":"...",...}, or NULL; borrowed */
	sk_sqs_attr *attrs;               /* MessageAttributes, in the answer's order */
	size_t n_attrs;
} sk_sqs_message;

/* An entry of a batch answer: Successful (code NULL) or Failed. */
typedef struct sk_sqs_entry {
	const char *id;
	const char *code, *message;       /* Failed */
	int sender_fault;
	sk_sqs_errkind kind;              /* Failed: sk_sqs_classify of its code */
	const char *message_id;           /* SendMessageBatch: MessageId */
	const char *md5_of_body;          /* SendMessageBatch: MD5OfMessageBody */
	const char *sequence_number;      /* SendMessageBatch on FIFO queues */
} sk_sqs_entry;

typedef struct sk_sqs_result {
	sk_sqs_error error;               /* kind SK_SQS_OK when the call succeeded */
	sk_sqs_message *messages;         /* ReceiveMessage */
	size_t n_messages;
	sk_sqs_entry *ok, *failed;        /* batch calls: Successful and Failed */
	size_t n_ok, n_failed;
	json_object *attributes;          /* GetQueueAttributes: the Attributes object */
	json_object *root;                /* the parsed answer: owns the above */
} sk_sqs_result;

/* After the transfer of c ended with rc (CURLMSG_DONE): 0 and r filled
 * when SQS answered 200 with a body that parses; -1 with r->error
 * otherwise. A batch call's Failed entries are not an error of the call.
 * Free r with sk_sqs_result_free in either case. */
int sk_sqs_call_result(sk_sqs_call *c, CURLcode rc, sk_sqs_result *r);
/* The same on a response already in hand (status, the x-amzn-query-error
 * header or NULL, the body): what sk_sqs_call_result does after the
 * transfer, for tests on canned answers. */
int sk_sqs_parse_response(sk_sqs_action a, long status, const char *query_error, const char *body, size_t n,
                          sk_sqs_result *r);
void sk_sqs_result_free(sk_sqs_result *r);
/* A system attribute of m ("SentTimestamp", ...), or NULL. */
const char *sk_sqs_message_attribute(const sk_sqs_message *m, const char *name);

#endif
