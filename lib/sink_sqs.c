/* sink_sqs.c - rows sent to an Amazon SQS queue (sqs+https://HOST/ACCOUNT/
 * QUEUE, sqs+http://127.0.0.1:PORT/... for a local server): the options,
 * opening (credentials, the queue's own limits), the sink's operations.
 *
 * How a row becomes a message: sqs_message.c. Batches, calls in flight,
 * retries, and the cursors committed once their rows are sent:
 * sqs_send.c. What the three share: sink_sqs_impl.h.
 *
 * The queue's MaximumMessageSize, FifoQueue and ContentBasedDeduplication
 * are read once at open (GetQueueAttributes), so that a row SQS would
 * refuse is a bad row of its own before anything is sent. The input going
 * idle sends what is gathered and waits for its answers: a quiet stream's
 * rows are neither held back nor left uncommitted. */
#include <stdlib.h>
#include <string.h>

#include "sink_sqs_impl.h"

#define DEFAULT_CONCURRENCY 8
#define MAX_CONCURRENCY 64

/* The expressions are compiled by sqs_message.c. The order of the
 * SK_OPTF_PROGRAM rows is the order "--arg and --argjson need ..." names
 * them in. */
static const sk_option sqs_options[] = {
	{ "value", 0, SK_OPT_VALUE, "EXPR", "the message body (default: the row as JSON)", 0, SK_OPTF_PROGRAM },
	{ "group-id", 0, SK_OPT_VALUE, "EXPR", "the message group id (FIFO queues need one)", 0, SK_OPTF_PROGRAM },
	{ "deduplication-id", 0, SK_OPT_VALUE, "EXPR", "the deduplication id (FIFO queues)", 0, SK_OPTF_PROGRAM },
	{ "delay", 0, SK_OPT_VALUE, "EXPR", "seconds before the message can be received, 0 to 900", 0,
	  SK_OPTF_PROGRAM },
	{ "attributes", 0, SK_OPT_VALUE, "EXPR", "message attributes from an object,\n"
	  "NAME: {\"type\": TYPE, \"value\": VALUE}, a string or a number", 0, SK_OPTF_PROGRAM },
	{ "concurrency", 0, SK_OPT_VALUE, "N", "batches in flight at once (default 8; 1 on FIFO queues)", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group sqs_option_group = { "sqs", sqs_options, NULL };

static void sqs_sink_free(struct sk_sqs_sink *s)
{
	if (s == NULL)
		return;
	sk_sqs_send_free(s);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	sk_sqs_exprs_free(&s->x);
	sk_aws_provider_free(s->creds);
	sk_sqs_queue_free(&s->queue);
	sk_buf_free(&s->scratch);
	free(s->arg);
	free(s);
}

static int attribute_true(json_object *attrs, const char *name)
{
	json_object *v;

	return attrs && json_object_object_get_ex(attrs, name, &v) && json_object_is_type(v, json_type_string) &&
	       strcmp(json_object_get_string(v), "true") == 0;
}

/* The queue's limits and kind, from GetQueueAttributes. */
static int read_queue(struct sk_sqs_sink *s, sk_err *e)
{
	static const char *const names[] = { "MaximumMessageSize", "FifoQueue", "ContentBasedDeduplication" };
	sk_sqs_call *c;
	sk_sqs_result r;
	json_object *v;
	int rc = -1;

	if ((c = sk_sqs_call_new(&s->queue, e)) == NULL)
		return -1;
	if (sk_sqs_call_get_attributes(c, names, sizeof names / sizeof names[0], e) < 0 ||
	    sk_sqs_sink_call(s, c, &r, e) < 0)
		goto out;
	s->max_size = SK_SQS_BATCH_BYTES;
	if (r.attributes && json_object_object_get_ex(r.attributes, "MaximumMessageSize", &v)) {
		long n = strtol(json_object_get_string(v), NULL, 10);

		if (n > 0)
			s->max_size = n;
	}
	s->queue.fifo = s->queue.fifo || attribute_true(r.attributes, "FifoQueue");
	s->content_dedup = attribute_true(r.attributes, "ContentBasedDeduplication");
	sk_sqs_result_free(&r);
	rc = 0;
out:
	sk_sqs_call_free(c);
	return rc;
}

static int concurrency_of(struct sk_sqs_sink *s, const sk_sink_opts *o, sk_err *e)
{
	const char *text = sk_kindopts_get(o->kindopts, "concurrency");
	uint64_t n = DEFAULT_CONCURRENCY;

	if (text && (sk_parse_count(text, &n, e) < 0 || n == 0 || n > MAX_CONCURRENCY))
		return sk_err_set(e, EX_USAGE, "invalid --concurrency '%s' (expected 1 to %d)", text, MAX_CONCURRENCY);
	s->concurrency = s->queue.fifo ? 1 : (size_t)n;
	return 0;
}

static int make_slots(struct sk_sqs_sink *s, sk_err *e)
{
	size_t i;

	if ((s->slots = calloc(s->concurrency, sizeof *s->slots)) == NULL)
		return sk_err_oom(e);
	for (i = 0; i < s->concurrency; i++) {
		if ((s->slots[i].call = sk_sqs_call_new(&s->queue, e)) == NULL)
			return -1;
		s->slots[i].call->user = &s->slots[i];
	}
	return 0;
}

static int sqs_open(sk_sink *k, const sk_endpoint *ep, const sk_sink_opts *o, sk_err *e)
{
	struct sk_sqs_sink *s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return sk_err_oom(e);
	s->stop = o->stop;
	if ((s->arg = strdup(ep->arg)) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (sk_sqs_queue_init(&s->queue, ep->http_url, e) < 0 ||
	    sk_sqs_exprs_compile(&s->x, o->kindopts, o->args, e) < 0 ||
	    (s->creds = sk_aws_provider_new(e)) == NULL)
		goto fail;
	if ((s->multi = curl_multi_init()) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (read_queue(s, e) < 0 || concurrency_of(s, o, e) < 0 || make_slots(s, e) < 0 ||
	    sk_epochs_open(&s->epochs, e) < 0 || sk_sqs_measure_wrapper(s, e) < 0)
		goto fail;
	/* Rows the writer has as text are the bodies, with nothing to compute. */
	k->takes_json = sk_sqs_exprs_none(&s->x);
	/* A write's EX_DATAERR is about its row: sqs_message.c refused it. */
	k->rejects_rows = 1;
	k->impl = s;
	return 0;
fail:
	sqs_sink_free(s);
	return sk_err_prefix(e, "%s", ep->arg);
}

/* A row (or its text, row NULL) as a message, gathered into a batch. An
 * earlier send's failure stops the run here. */
static int put(sk_sink *k, json_object *row, const char *text, size_t n, sk_err *e)
{
	struct sk_sqs_sink *s = k->impl;
	struct sk_sqs_out *m;

	if (s->failed.code) {
		*e = s->failed;
		return sk_err_prefix(e, "%s", s->arg);
	}
	if (sk_sqs_message_of(s, row, text, n, &m, e) < 0)
		return -1;
	if (sk_sqs_send_add(s, m, e) < 0)
		return sk_err_prefix(e, "%s", s->arg);
	return 0;
}

static int sqs_write(sk_sink *k, json_object *row, sk_err *e)
{
	return put(k, row, NULL, 0, e);
}

static int sqs_write_json(sk_sink *k, const char *text, size_t n, sk_err *e)
{
	return put(k, NULL, text, n, e);
}

/* The input is idle: send what is gathered, wait for the answers, commit
 * what they confirm. */
static int sqs_flush(sk_sink *k, sk_err *e)
{
	struct sk_sqs_sink *s = k->impl;

	if (sk_sqs_send_flush(s, 1, e) < 0)
		return sk_err_prefix(e, "%s", s->arg);
	return sk_epochs_commit(&s->epochs, k, e);
}

static int sqs_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct sk_sqs_sink *s = k->impl;

	if (sk_sqs_send_flush(s, 0, e) < 0)
		return sk_err_prefix(e, "%s", s->arg);
	if (sk_epochs_close(&s->epochs, cs, rows, e) < 0)
		return -1;
	return sk_epochs_commit(&s->epochs, k, e);
}

static int sqs_finish(sk_sink *k, sk_err *e)
{
	struct sk_sqs_sink *s = k->impl;
	sk_err why;

	if (sk_sqs_send_flush(s, 1, e) == 0)
		return sk_epochs_commit(&s->epochs, k, e);
	/* Stopped, or out of time: commit what is confirmed all the same. */
	if (s->failed.code == 0 && sk_epochs_commit(&s->epochs, k, &why) < 0)
		*e = why;
	return sk_err_prefix(e, "%s", s->arg);
}

static int sqs_refused(sk_sink *k, const char **text, size_t *n, const char **why)
{
	return sk_sqs_refused(k->impl, text, n, why);
}

static void sqs_refused_done(sk_sink *k)
{
	sk_sqs_refused_done(k->impl);
}

static void sqs_close(sk_sink *k)
{
	sqs_sink_free(k->impl);
	k->impl = NULL;
}

const struct sk_sink_ops sk_sink_sqs_ops = {
	.kind = "sqs",
	.options = &sqs_option_group,
	.open = sqs_open,
	.write = sqs_write,
	.flush = sqs_flush,
	.checkpoint = sqs_checkpoint,
	.close = sqs_close,
	.write_json = sqs_write_json,
	.finish = sqs_finish,
	.refused = sqs_refused,
	.refused_done = sqs_refused_done,
};
