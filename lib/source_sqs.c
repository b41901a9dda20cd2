/* source_sqs.c - the messages of an Amazon SQS queue (sqs+https://HOST/
 * ACCOUNT/QUEUE, sqs+http://127.0.0.1:PORT/... for a local server):
 * opening the source, its options, the credentials and the queue's own
 * settings. Receiving, holding and deleting: sqs_consume.c.
 *
 * Envelope: {"id":MessageId,"value":BODY,"attributes":{...},
 * "message_attributes":{NAME:{"type":T,"value":V},...},"sent_timestamp":MS,
 * "receive_count":N, on FIFO queues "group_id", "deduplication_id" and
 * "sequence_number", "_cursor":"sqs:URL:0:SESSION.SEQ"}. A Binary
 * attribute's value is its base64 text, as SQS sends it.
 *
 * At least once: a message is deleted only once the checkpoint stored
 * under --name covers its cursor (the reader asks the state store), and
 * its visibility is extended while it is held. --ack=receive deletes on
 * receipt (at most once). Without --name nothing is deleted: messages are
 * held up to --max-in-flight and released at the end. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "endpoint.h"
#include "source_sqs_impl.h"

#define DEFAULT_CONCURRENCY 8
#define DEFAULT_MAX_IN_FLIGHT 10000
#define DEFAULT_WAIT_S 10           /* a stop waits for the receives in flight */
#define DEFAULT_DRAIN_MS 10000
#define DEFAULT_VISIBILITY_S 30     /* a queue that says 0 would give nothing time */

static const sk_option sqs_options[] = {
	{ "ack", 0, SK_OPT_VALUE, "WHEN", "delete a message once a checkpoint covers it\n"
	  "(checkpoint, the default), or on receipt (receive: at most once)", 0, 0 },
	{ "concurrency", 0, SK_OPT_VALUE, "N", "receives in flight at once (default 8)", 0, 0 },
	{ "max-in-flight", 0, SK_OPT_VALUE, "N", "messages held and not yet deleted, at most\n"
	  "(default 10000)", 0, 0 },
	{ "visibility", 0, SK_OPT_VALUE, "T", "how long a message stays invisible, renewed while\n"
	  "it is held (default: the queue's VisibilityTimeout)", 0, 0 },
	{ "wait-time", 0, SK_OPT_VALUE, "T", "a receive's long poll, up to 20s (default 10s)", 0, 0 },
	{ "drain-timeout", 0, SK_OPT_VALUE, "T", "at a stop, wait up to T for the checkpoint to\n"
	  "cover what was printed (default 10s)", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group sqs_option_group = { "sqs", sqs_options, NULL };

static int seconds_opt(const sk_source_opts *o, const char *name, int64_t max_s, int *out, sk_err *e)
{
	const char *v = sk_kindopts_get(o->kindopts, name);
	int64_t ms;

	if (v == NULL)
		return 0;
	if (sk_parse_duration(v, &ms, e) < 0)
		return sk_err_prefix(e, "--%s", name);
	if (ms % 1000 != 0 || ms / 1000 > max_s)
		return sk_err_set(e, EX_USAGE, "invalid --%s '%s' (expected whole seconds, up to %llds)", name, v,
		                  (long long)max_s);
	*out = (int)(ms / 1000);
	return 0;
}

static int count_opt(const sk_source_opts *o, const char *name, uint64_t max, uint64_t *out, sk_err *e)
{
	const char *v = sk_kindopts_get(o->kindopts, name);

	if (v == NULL)
		return 0;
	if (sk_parse_count(v, out, e) < 0 || *out == 0 || *out > max)
		return sk_err_set(e, EX_USAGE, "invalid --%s '%s' (expected a number from 1 to %llu)", name, v,
		                  (unsigned long long)max);
	return 0;
}

static int settings(struct sk_sqs_src *ss, const sk_source_opts *o, sk_err *e)
{
	const char *ack = sk_kindopts_get(o->kindopts, "ack"), *drain = sk_kindopts_get(o->kindopts, "drain-timeout");
	uint64_t n = DEFAULT_CONCURRENCY;

	if (o->from_given)
		return sk_err_set(e, EX_USAGE, "--from is not for sqs endpoints: a queue gives what it holds");
	if (o->base64)
		return sk_err_set(e, EX_USAGE, "--binary=base64 is not for sqs endpoints: bodies are text");
	if (ack && strcmp(ack, "receive") != 0 && strcmp(ack, "checkpoint") != 0)
		return sk_err_set(e, EX_USAGE, "invalid --ack '%s' (expected checkpoint or receive)", ack);
	ss->ack_receive = ack && strcmp(ack, "receive") == 0;
	if (count_opt(o, "concurrency", 100, &n, e) < 0)
		return -1;
	ss->concurrency = (int)n;
	ss->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
	if (count_opt(o, "max-in-flight", 120000, &ss->max_in_flight, e) < 0)
		return -1;
	ss->visibility = -1;
	ss->wait = DEFAULT_WAIT_S;
	if (seconds_opt(o, "visibility", SK_SQS_VISIBILITY_MAX, &ss->visibility, e) < 0 ||
	    seconds_opt(o, "wait-time", SK_SQS_WAIT_MAX, &ss->wait, e) < 0)
		return -1;
	if (ss->visibility == 0)
		return sk_err_set(e, EX_USAGE, "invalid --visibility '0' (a message must stay invisible a while)");
	ss->drain_ms = DEFAULT_DRAIN_MS;
	if (drain && sk_parse_duration(drain, &ss->drain_ms, e) < 0)
		return sk_err_prefix(e, "--drain-timeout");
	ss->max_body = o->max_line;
	ss->json = o->json;
	return 0;
}

/* Run one call to its end: 0 and *r, or -1 with e. */
static int run_one(struct sk_sqs_src *ss, sk_sqs_call *c, sk_sqs_result *r, sk_err *e)
{
	CURLMsg *msg;
	CURLcode rc = CURLE_OK;
	int running = 1, left, done = 0;

	if (sk_sqs_add_call(ss, c, e) < 0)
		return -1;
	while (!done) {
		if (curl_multi_perform(ss->multi, &running) != CURLM_OK) {
			curl_multi_remove_handle(ss->multi, c->easy);
			return sk_err_set(e, EX_SOFTWARE, "%s: the transfer failed", ss->arg);
		}
		while ((msg = curl_multi_info_read(ss->multi, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy) {
				rc = msg->data.result;
				done = 1;
			}
		if (!done && sk_sqs_wait(ss, 1000, 1, e) < 0)
			break;
	}
	curl_multi_remove_handle(ss->multi, c->easy);
	if (!done)
		return -1;
	if (sk_sqs_call_result(c, rc, r) < 0) {
		*e = r->error.err;
		sk_sqs_result_free(r);
		return -1;
	}
	return 0;
}

/* The queue's VisibilityTimeout, unless --visibility said; asking also
 * finds out at once whether the queue is there and the credentials do. */
static int queue_settings(struct sk_sqs_src *ss, sk_err *e)
{
	static const char *const names[] = { "VisibilityTimeout" };
	sk_sqs_result r;
	sk_sqs_call *c = sk_sqs_call_new(&ss->queue, e);
	json_object *v;
	int rc = -1;

	if (c == NULL)
		return -1;
	if (sk_sqs_call_get_attributes(c, names, 1, e) == 0 && run_one(ss, c, &r, e) == 0) {
		if (ss->visibility < 0) {
			ss->visibility = DEFAULT_VISIBILITY_S;
			if (r.attributes && json_object_object_get_ex(r.attributes, "VisibilityTimeout", &v) &&
			    atoi(json_object_get_string(v)) > 0)
				ss->visibility = atoi(json_object_get_string(v));
		}
		sk_sqs_result_free(&r);
		rc = 0;
	} else if (e->code == EX_TEMPFAIL) {
		e->code = EX_UNAVAILABLE;    /* at the start: not there (stream-run may try again) */
	}
	sk_sqs_call_free(c);
	return rc;
}

/* The source id, "sqs:" and the queue URL; the cursor's head with this
 * reader's session. */
static int source_id(sk_source *s, struct sk_sqs_src *ss, const sk_endpoint *ep, sk_err *e)
{
	char *label = sk_ep_safe_label(ep->url);
	const char *plus = label ? strchr(label, '+') : NULL;
	unsigned char r[8];
	size_t i;

	if (label == NULL || plus == NULL || (s->id = sk_strprintf("sqs:%s", plus + 1)) == NULL) {
		free(label);
		return sk_err_oom(e);
	}
	free(label);
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
		uint64_t t = (uint64_t)sk_wall_ms() ^ ((uint64_t)getpid() << 40) ^ (uint64_t)sk_now_ms() << 20;
		memcpy(r, &t, sizeof r);
	}
	for (i = 0; i < sizeof r; i++)
		snprintf(ss->session + 2 * i, 3, "%02x", r[i]);
	memcpy(&ss->rand, r, sizeof ss->rand);
	ss->rand |= 1;
	if (sk_buf_printf(&ss->cursor_head, "%s:0:%s.", s->id, ss->session) < 0)
		return sk_err_oom(e);
	return 0;
}

static void sqs_free(struct sk_sqs_src *ss)
{
	if (ss == NULL)
		return;
	sk_sqs_stop_thread(ss);
	sk_sqs_consume_free(ss);
	if (ss->store)
		sk_state_close(ss->store);
	if (ss->multi)
		curl_multi_cleanup(ss->multi);
	sk_aws_provider_free(ss->creds);
	sk_sqs_queue_free(&ss->queue);
	sk_json_free(ss->jp);
	sk_buf_free(&ss->cursor_head);
	free(ss->arg);
	free(ss);
}

static int sqs_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	struct sk_sqs_src *ss = calloc(1, sizeof *ss);

	if (ss == NULL)
		return sk_err_oom(e);
	ss->o = o;
	ss->next_seq = ss->base = 1;
	ss->due_ms = -1;
	if (settings(ss, o, e) < 0)
		goto fail;
	if ((ss->arg = strdup(ep->arg)) == NULL || (ss->jp = sk_json_new()) == NULL ||
	    (ss->multi = curl_multi_init()) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (o->keep_values)
		sk_json_keep_values(ss->jp);
	if (sk_sqs_queue_init(&ss->queue, ep->http_url, e) < 0 || (ss->creds = sk_aws_provider_new(e)) == NULL ||
	    source_id(s, ss, ep, e) < 0)
		goto fail;
	ss->id = s->id;
	s->impl = ss;
	if (queue_settings(ss, e) < 0) {
		s->impl = NULL;
		goto fail;
	}
	/* The thread asks the store on a connection of its own. */
	if (o->name && !ss->ack_receive && sk_state_open_readonly(sk_state_path(o->state), &ss->store, e) < 0) {
		s->impl = NULL;
		goto fail;
	}
	if (sk_sqs_start(ss, e) < 0) {
		s->impl = NULL;
		goto fail;
	}
	if (o->name == NULL && !ss->ack_receive)
		sk_info("%s: without --name nothing is deleted: messages are released at the end", ss->arg);
	return 0;
fail:
	sqs_free(ss);
	return -1;
}

static void sqs_close(sk_source *s)
{
	sqs_free(s->impl);
	s->impl = NULL;
}

const struct sk_source_ops sk_source_sqs_ops = {
	.kind = "sqs",
	.options = &sqs_option_group,
	.open = sqs_open,
	.next = sk_sqs_next,
	.drain = sk_sqs_drain,
	.close = sqs_close,
};
