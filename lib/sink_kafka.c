/* sink_kafka.c - rows produced to a Kafka topic (kafka://HOSTS/TOPIC).
 *
 * Each row is one message. Its value is the row as compact JSON text, or
 * the first result of the value expression (a string as its bytes, any
 * other value as JSON text, null or no result: a tombstone); key, headers,
 * partition and timestamp come from expressions too (null or no result:
 * no key, a null header, librdkafka's partitioner, the time of sending).
 * The headers expression gives an object, NAME: a string, null, or the
 * array of the values of a name that repeats: stream-read's envelope
 * headers. With base64, a key or value that is a string is base64 text,
 * sent decoded: what stream-read --binary=base64 prints.
 *
 * The producer is idempotent unless the settings say otherwise, so that
 * librdkafka's retries never duplicate. Delivery is confirmed in the
 * background: the messages produced between two checkpoints make an
 * epoch, which a checkpoint closes with its cursors; they are committed
 * once every message of that epoch and of the ones before has a
 * successful report: at a later checkpoint, when the input is idle (the
 * event pipe wakes the writer when reports come), or at finish, which
 * waits for every report. The first failed report fails
 * the run, and nothing is committed from then on. With sync, each row is
 * delivered before the next is taken.
 *
 * Rows given as text have no key: they go out in batches of BATCH_ROWS
 * to a partition picked at random among those with a leader, as
 * librdkafka's sticky partitioner spreads keyless messages, at a fifth of
 * the cost (no partitioner, clock or lock per message); unless the
 * settings ask for another partitioner or for no stickiness. Where
 * librdkafka sticks to a partition for a time, we stick to it for what
 * fills one of its produce batches (batch.num.messages, batch.size): a
 * request goes out as soon as it is full, where a partition with less
 * waits linger.ms, and fewer, fuller requests cost the brokers less.
 *
 * A stop signal bounds the waits for reports to STOP_WAIT_MS, a second
 * one ends them at once: the cursors of the rows not confirmed are not
 * committed, and the error says how many messages that is.
 *
 * librdkafka settings: kafka_conf.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "sink_impl.h"
#include "kafka_conf.h"
#include "json.h"
#include "program.h"
#include "util.h"

#define POLL_FULL_MS 100        /* the producer queue is full: serve reports, retry */
#define POLL_EVERY 1024         /* messages between two servings of the reports */
#define FLUSH_STEP_MS 100       /* one rd_kafka_flush call: a signal is seen that soon */
#define FLUSH_SLACK_MS 10000    /* past message.timeout.ms, a report is overdue */
#define STOP_WAIT_MS 5000       /* after a stop signal, wait this long for reports */
#define BATCH_ROWS 1024         /* rows given as text, handed to librdkafka at once */
#define PARTITIONS_LOOK_MS 10000    /* how often to look at the topic's partitions */
#define METADATA_WAIT_MS 500        /* for one look */
#define METADATA_NOTICE_MS 1000     /* at open: say that brokers are waited for after it */

struct header {
	char *name;
	sk_program *p;
};

/* The messages produced between two checkpoints. */
struct epoch {
	uint64_t unconfirmed;       /* messages without a report yet */
	sk_cursorset *cs;           /* once closed: its cursors, or NULL */
	int64_t rows;
};

struct ksink {
	char *topic;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	sk_program *key, *value, *partition, *timestamp, *headers_obj;
	struct header *headers;
	size_t nheaders;
	int sync, base64;
	unsigned unpolled;          /* messages produced since the reports were served */
	int64_t timeout_ms;         /* message.timeout.ms: each report comes within it */
	volatile sig_atomic_t *stop;
	int events[2];              /* a pipe librdkafka writes to when reports come */
	/* ep[0] is epoch number first, ep[nep - 1] the open one. */
	struct epoch *ep;
	size_t nep, capep;
	uint64_t first;
	sk_buf buf, kbuf, vbuf;
	/* Rows given as text, not handed to librdkafka yet: their values in
	 * batch_bytes, at batch_at[i]. */
	rd_kafka_message_t batch[BATCH_ROWS];
	size_t batch_at[BATCH_ROWS], nbatch;
	sk_buf batch_bytes;
	/* spread: such a batch goes to one partition picked here, among those
	 * with a leader at the last look. */
	int spread;
	int32_t *live;
	int nlive;
	int32_t part;               /* the partition stuck to, and what it was given */
	int64_t part_rows, part_bytes;
	int64_t stick_rows, stick_bytes;    /* batch.num.messages, batch.size */
	int64_t next_look_ms;
	uint32_t seed;
	rd_kafka_resp_err_t failed; /* the first failed delivery report */
	char failmsg[256];
	int32_t failpart;
	char fatal[256];            /* a fatal error from librdkafka's error callback */
};


static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ksink *ks = opaque;
	uint64_t epoch = (uint64_t)(uintptr_t)m->_private;

	(void)rk;
	if (epoch >= ks->first && epoch - ks->first < ks->nep)
		ks->ep[epoch - ks->first].unconfirmed--;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR || ks->failed != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	ks->failed = m->err;
	ks->failpart = m->partition;
	snprintf(ks->failmsg, sizeof ks->failmsg, "%s", rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct ksink *ks = opaque;
	char why[200];

	/* Transport errors are retried by librdkafka; only fatal ones stop us. */
	if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
		if (err == RD_KAFKA_RESP_ERR__FATAL &&
		    rd_kafka_fatal_error(rk, why, sizeof why) != RD_KAFKA_RESP_ERR_NO_ERROR)
			reason = why;
		sk_kafka_redact(reason, ks->fatal, sizeof ks->fatal);
	}
}

/* A failed delivery or a fatal error, as the run's error; 0 when none. */
static int check_failed(struct ksink *ks, sk_err *e)
{
	if (ks->fatal[0])
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", ks->topic, ks->fatal);
	if (ks->failed == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	switch (ks->failed) {
	case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
	case RD_KAFKA_RESP_ERR__TRANSPORT:
	case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
	case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
	case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
	case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
	case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
		return sk_err_set(e, EX_TEMPFAIL, "topic %s: delivery failed: %s", ks->topic, ks->failmsg);
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		return sk_err_set(e, EX_DATAERR, "topic %s has no partition %" PRId32, ks->topic, ks->failpart);
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return sk_err_set(e, EX_DATAERR, "topic %s: delivery failed: %s (message.max.bytes)", ks->topic,
		                  ks->failmsg);
	default:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: delivery failed: %s", ks->topic, ks->failmsg);
	}
}

static uint64_t unconfirmed(const struct ksink *ks)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < ks->nep; i++)
		n += ks->ep[i].unconfirmed;
	return n;
}

/* A new open epoch. */
static int open_epoch(struct ksink *ks, sk_err *e)
{
	if (ks->nep == ks->capep) {
		size_t cap = ks->capep ? 2 * ks->capep : 8;
		struct epoch *v = realloc(ks->ep, cap * sizeof *v);
		if (v == NULL)
			return sk_err_oom(e);
		ks->ep = v;
		ks->capep = cap;
	}
	memset(&ks->ep[ks->nep++], 0, sizeof *ks->ep);
	return 0;
}

/* Wait for the report of every message produced so far: within
 * message.timeout.ms (and a slack), after a stop signal within
 * STOP_WAIT_MS, after a second one not at all. */
static int drain(struct ksink *ks, sk_err *e)
{
	int64_t now = sk_now_ms(), deadline = now + ks->timeout_ms + FLUSH_SLACK_MS, stop_at = -1;

	while (rd_kafka_outq_len(ks->rk) > 0) {
		if (check_failed(ks, e) < 0)
			return -1;
		now = sk_now_ms();
		if (ks->stop && *ks->stop) {
			if (stop_at < 0)
				stop_at = now + STOP_WAIT_MS;
			if (*ks->stop > 1 || now >= stop_at)
				return sk_err_set(e, EX_TEMPFAIL, "topic %s: stopped with %" PRIu64 " messages not "
				                  "confirmed delivered; the cursors of their rows are not committed",
				                  ks->topic, unconfirmed(ks));
		}
		if (now >= deadline)
			return sk_err_set(e, EX_TEMPFAIL, "topic %s: %" PRIu64 " messages without a delivery "
			                  "report after %" PRId64 " s", ks->topic, unconfirmed(ks),
			                  (ks->timeout_ms + FLUSH_SLACK_MS) / 1000);
		rd_kafka_flush(ks->rk, FLUSH_STEP_MS);
	}
	rd_kafka_poll(ks->rk, 0);
	return check_failed(ks, e);
}

/* Commit the closed epochs whose messages, and every earlier one's, are
 * confirmed: in one transaction, their cursors merged (the later win). */
static int commit_confirmed(sk_sink *k, sk_err *e)
{
	struct ksink *ks = k->impl;
	sk_cursorset *cs = NULL;
	int64_t rows = 0;
	size_t n = 0, i;
	int rc = 0;

	while (n + 1 < ks->nep && ks->ep[n].unconfirmed == 0)
		n++;
	if (n == 0)
		return 0;
	if (check_failed(ks, e) < 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		rows += ks->ep[i].rows;
		if (ks->ep[i].cs == NULL)
			continue;
		if (cs == NULL)
			cs = ks->ep[i].cs;
		else
			rc = sk_cursorset_merge(cs, ks->ep[i].cs, e);
	}
	if (rc == 0 && k->state && (rows > 0 || (cs && sk_cursorset_count(cs) > 0)))
		rc = sk_state_checkpoint(k->state, k->name, cs, rows, e);
	if (rc < 0)
		return -1;
	for (i = 0; i < n; i++)
		sk_cursorset_free(ks->ep[i].cs);
	memmove(ks->ep, ks->ep + n, (ks->nep - n) * sizeof *ks->ep);
	ks->nep -= n;
	ks->first += n;
	return 0;
}

static int compile(const char *text, const sk_program_args *args, const char *opt, sk_program **out,
                   sk_err *e)
{
	if (text == NULL)
		return 0;
	if ((*out = sk_program_compile(text, args, e)) == NULL)
		return sk_err_prefix(e, "%s", opt);
	return 0;
}

static int compile_all(struct ksink *ks, const sk_sink_opts *o, sk_err *e)
{
	const sk_program_args *args = o->kafka_args;
	size_t i;

	if (compile(o->kafka_key, args, "--key", &ks->key, e) < 0 ||
	    compile(o->kafka_value, args, "--value", &ks->value, e) < 0 ||
	    compile(o->kafka_partition, args, "--partition", &ks->partition, e) < 0 ||
	    compile(o->kafka_timestamp, args, "--timestamp", &ks->timestamp, e) < 0 ||
	    compile(o->kafka_headers_expr, args, "--headers", &ks->headers_obj, e) < 0)
		return -1;
	if (o->nkafka_headers && (ks->headers = calloc(o->nkafka_headers, sizeof *ks->headers)) == NULL)
		return sk_err_oom(e);
	for (i = 0; i < o->nkafka_headers; i++) {
		const char *h = o->kafka_headers[i], *eq = strchr(h, '=');

		if (eq == NULL || eq == h || eq[1] == '\0')
			return sk_err_set(e, EX_USAGE, "--header '%s': expected NAME=EXPR", h);
		if ((ks->headers[i].name = strndup(h, (size_t)(eq - h))) == NULL)
			return sk_err_oom(e);
		ks->nheaders = i + 1;
		if ((ks->headers[i].p = sk_program_compile(eq + 1, args, e)) == NULL)
			return sk_err_prefix(e, "--header %s", ks->headers[i].name);
	}
	return 0;
}

/* 1 when the settings send a keyless message to a random partition and
 * stick to it for a while (librdkafka's default). */
static int keyless_random(rd_kafka_conf_t *conf)
{
	const rd_kafka_topic_conf_t *tc = rd_kafka_conf_get_default_topic_conf(conf);
	char v[64];
	size_t vn = sizeof v;

	if (tc && rd_kafka_topic_conf_get(tc, "partitioner", v, &vn) == RD_KAFKA_CONF_OK &&
	    strcmp(v, "random") != 0 && strcmp(v, "consistent_random") != 0 &&
	    strcmp(v, "murmur2_random") != 0 && strcmp(v, "fnv1a_random") != 0)
		return 0;
	vn = sizeof v;
	return rd_kafka_conf_get(conf, "sticky.partitioning.linger.ms", v, &vn) != RD_KAFKA_CONF_OK ||
	       strtol(v, NULL, 10) > 0;
}

/* The number librdkafka's setting key holds, or def. */
static int64_t conf_number(const rd_kafka_conf_t *conf, const char *key, int64_t def)
{
	char v[64];
	size_t vn = sizeof v;
	int64_t x;

	if (rd_kafka_conf_get(conf, key, v, &vn) != RD_KAFKA_CONF_OK || (x = strtoll(v, NULL, 10)) <= 0)
		return def;
	return x;
}

static int build_conf(struct ksink *ks, const sk_endpoint *ep, const sk_sink_opts *o,
                      rd_kafka_conf_t **out, sk_err *e)
{
	rd_kafka_conf_t *conf;

	if (sk_kafka_conf_new(ep, "stream-write", ks, on_error, &conf, e) < 0)
		return -1;
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	/* Ours first, so that every one can be overridden. Messages waiting
	 * in librdkafka: 1 MB, where librdkafka's default of 1 GB holds
	 * whatever the input brings faster than the brokers take it. A
	 * produce request goes out when a partition's batch is full or after
	 * linger.ms: batches of 2048 messages (not 10,000) fill that queue
	 * three times over, so that requests are always in flight. */
	if (sk_kafka_conf_set(conf, "enable.idempotence", "true", NULL, e) < 0 ||
	    sk_kafka_conf_set(conf, "queue.buffering.max.kbytes", "1024", NULL, e) < 0 ||
	    sk_kafka_conf_set(conf, "batch.num.messages", "2048", NULL, e) < 0 ||
	    (o->kafka_compression &&
	     sk_kafka_conf_set(conf, "compression.codec", o->kafka_compression, "--compression", e) < 0) ||
	    sk_kafka_conf_apply(conf, ep, o->kafka_config_file, o->kafka_props, o->nkafka_props, e) < 0)
		goto fail;
	ks->spread = keyless_random(conf);
	ks->stick_rows = conf_number(conf, "batch.num.messages", 10000);
	ks->stick_bytes = conf_number(conf, "batch.size", 1000000);
	/* 0: librdkafka waits forever; so do we, in steps */
	ks->timeout_ms = conf_number(conf, "message.timeout.ms", 300000);
	*out = conf;
	return 0;
fail:
	rd_kafka_conf_destroy(conf);
	return -1;
}

static void ksink_free(struct ksink *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	if (ks->rk) {
		/* Close without committing: what is in flight may still arrive,
		 * and its cursors were not committed; do not wait for it. */
		if (rd_kafka_outq_len(ks->rk) > 0) {
			rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
			rd_kafka_poll(ks->rk, 0);
		}
		if (ks->rkt)
			rd_kafka_topic_destroy(ks->rkt);
		rd_kafka_destroy(ks->rk);
	}
	sk_program_free(ks->key);
	sk_program_free(ks->value);
	sk_program_free(ks->partition);
	sk_program_free(ks->timestamp);
	sk_program_free(ks->headers_obj);
	for (i = 0; i < ks->nheaders; i++) {
		free(ks->headers[i].name);
		sk_program_free(ks->headers[i].p);
	}
	free(ks->headers);
	for (i = 0; i < ks->nep; i++)
		sk_cursorset_free(ks->ep[i].cs);
	free(ks->ep);
	free(ks->live);
	for (i = 0; i < 2; i++)
		if (ks->events[i] >= 0)
			close(ks->events[i]);
	sk_buf_free(&ks->batch_bytes);
	sk_buf_free(&ks->buf);
	sk_buf_free(&ks->kbuf);
	sk_buf_free(&ks->vbuf);
	free(ks->topic);
	free(ks);
}

/* Rows are taken while no broker answers, and wait in librdkafka for one
 * until message.timeout.ms: say so at once, when the brokers do not answer
 * a first look at the topic, so that a dead broker does not look like a
 * hang. */
static void look_for_brokers(struct ksink *ks, const char *brokers)
{
	const struct rd_kafka_metadata *md;

	if (rd_kafka_metadata(ks->rk, 0, ks->rkt, &md, METADATA_NOTICE_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_metadata_destroy(md);
		return;
	}
	/* ks->timeout_ms stands for 0 (no end) with librdkafka's default. */
	sk_kafka_waiting(brokers, ks->topic, conf_number(rd_kafka_conf(ks->rk), "message.timeout.ms", 0));
}

/* librdkafka writes a byte to the pipe when a report comes to its queue
 * of events, empty before; served by rd_kafka_poll. */
static int report_events(struct ksink *ks, sk_err *e)
{
	rd_kafka_queue_t *q;
	int i;

	if (pipe(ks->events) < 0)
		return sk_err_set(e, EX_OSERR, "pipe: %s", strerror(errno));
	for (i = 0; i < 2; i++)
		if (fcntl(ks->events[i], F_SETFL, O_NONBLOCK) < 0 || fcntl(ks->events[i], F_SETFD, FD_CLOEXEC) < 0)
			return sk_err_set(e, EX_OSERR, "pipe: %s", strerror(errno));
	if ((q = rd_kafka_queue_get_main(ks->rk)) == NULL)
		return sk_err_oom(e);
	rd_kafka_queue_io_event_enable(q, ks->events[1], "r", 1);
	rd_kafka_queue_destroy(q);
	return 0;
}

static int kafka_open(sk_sink *k, const sk_endpoint *ep, const sk_sink_opts *o, sk_err *e)
{
	struct ksink *ks;
	rd_kafka_conf_t *conf = NULL;

	if (ep->topic == NULL || ep->topic[0] == '\0')
		return sk_err_set(e, EX_USAGE, "%s: no topic (kafka://HOST:PORT/TOPIC)", ep->arg);
	if (ep->topic[0] == '^')
		return sk_err_set(e, EX_USAGE, "%s: a topic pattern names no topic to write to", ep->arg);
	if (sk_endpoint_param(ep, "partition") || sk_endpoint_param(ep, "offset") ||
	    sk_endpoint_param(ep, "group"))
		return sk_err_set(e, EX_USAGE, "%s: partition=, offset= and group= are for reading "
		                  "(stream-write takes --partition EXPR)", ep->arg);
	if ((ks = calloc(1, sizeof *ks)) == NULL)
		return sk_err_oom(e);
	/* Errors from here on are prefixed with the endpoint at fail. */
	ks->sync = o->kafka_sync;
	ks->base64 = o->kafka_base64;
	ks->stop = o->stop;
	ks->events[0] = ks->events[1] = -1;
	ks->seed = (uint32_t)sk_wall_ms() | 1;
	if ((ks->topic = strdup(ep->topic)) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (open_epoch(ks, e) < 0 || compile_all(ks, o, e) < 0 || build_conf(ks, ep, o, &conf, e) < 0)
		goto fail;
	/* The topic handle asks for the topic's metadata now: the first rows
	 * need not wait for librdkafka's periodic scan (a second). */
	if (sk_kafka_client(RD_KAFKA_PRODUCER, conf, ks->topic, &ks->rk, &ks->rkt, e) < 0 ||
	    report_events(ks, e) < 0)
		goto fail;
	look_for_brokers(ks, ep->hosts);
	/* Rows the writer has as text go out as that text, with nothing to
	 * compute from them. */
	k->takes_json = !ks->key && !ks->value && !ks->partition && !ks->timestamp && !ks->nheaders &&
	                !ks->headers_obj;
	/* A write's EX_DATAERR is about its row: librdkafka's refusal of it, or
	 * an expression failing on it (reports of earlier rows are looked at
	 * elsewhere; see produced). */
	k->rejects_rows = 1;
	k->impl = ks;
	return 0;
fail:
	ksink_free(ks);
	return sk_err_prefix(e, "%s", ep->arg);
}

/* Hand one message to librdkafka, as part of the open epoch. Without
 * headers or a timestamp, the older call, which takes a fifth less time
 * than producev. */
static rd_kafka_resp_err_t enqueue(struct ksink *ks, const void *key, size_t klen, const void *val, size_t vlen,
                                   int32_t part, int64_t ts, rd_kafka_headers_t *h)
{
	void *epoch = (void *)(uintptr_t)(ks->first + ks->nep - 1);

	if (h == NULL && ts == 0)
		return rd_kafka_produce(ks->rkt, part, RD_KAFKA_MSG_F_COPY, (void *)val, vlen, key, klen, epoch) < 0
		       ? rd_kafka_last_error() : RD_KAFKA_RESP_ERR_NO_ERROR;
	return rd_kafka_producev(ks->rk, RD_KAFKA_V_RKT(ks->rkt), RD_KAFKA_V_PARTITION(part),
	                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)val, vlen),
	                         RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h),
	                         RD_KAFKA_V_OPAQUE(epoch), RD_KAFKA_V_END);
}

/* librdkafka refused a message: the run's error. */
static int refused(struct ksink *ks, rd_kafka_resp_err_t err, int32_t part, size_t vlen, sk_err *e)
{
	switch (err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		return sk_err_set(e, EX_DATAERR, "topic %s has no partition %" PRId32, ks->topic, part);
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		return sk_err_set(e, EX_DATAERR, "topic %s: a message of %zu bytes: %s", ks->topic, vlen,
		                  rd_kafka_err2str(err));
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s does not exist", ks->topic);
	default:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", ks->topic, rd_kafka_err2str(err));
	}
}

/* librdkafka's queue is full: serve reports for a while, unless stopped. */
static int queue_full(struct ksink *ks, sk_err *e)
{
	if (ks->stop && *ks->stop)
		return sk_err_set(e, EX_TEMPFAIL, "topic %s: stopped while the producer queue was full, with %"
		                  PRIu64 " messages not confirmed delivered; the cursors of their rows are not "
		                  "committed", ks->topic, unconfirmed(ks));
	rd_kafka_poll(ks->rk, POLL_FULL_MS);
	return 0;
}

/* n more messages of the open epoch in librdkafka's hands. A failed
 * report is not looked at here, but at the next checkpoint, flush or
 * finish: an error of a write (EX_DATAERR) is about its row alone. */
static void produced(struct ksink *ks, size_t n)
{
	ks->ep[ks->nep - 1].unconfirmed += n;
	ks->unpolled += (unsigned)n;
	if (ks->unpolled >= POLL_EVERY) {
		ks->unpolled = 0;
		rd_kafka_poll(ks->rk, 0);
	}
}

/* The partitions of the topic with a leader, looked at every
 * PARTITIONS_LOOK_MS; a failed look keeps the last. */
static void look_at_partitions(struct ksink *ks)
{
	const struct rd_kafka_metadata *md;
	const struct rd_kafka_metadata_topic *t;
	int64_t now = sk_now_ms();
	int32_t *v;
	int i;

	if (now < ks->next_look_ms)
		return;
	ks->next_look_ms = now + PARTITIONS_LOOK_MS;
	if (rd_kafka_metadata(ks->rk, 0, ks->rkt, &md, METADATA_WAIT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
	if (t && t->err == RD_KAFKA_RESP_ERR_NO_ERROR && t->partition_cnt > 0 &&
	    (v = realloc(ks->live, (size_t)t->partition_cnt * sizeof *v)) != NULL) {
		ks->live = v;
		ks->nlive = 0;
		for (i = 0; i < t->partition_cnt; i++)
			if (t->partitions[i].leader >= 0)
				v[ks->nlive++] = t->partitions[i].id;
	}
	rd_kafka_metadata_destroy(md);
}

/* The partition of the next batch, of rows rows and bytes bytes, or
 * RD_KAFKA_PARTITION_UA. */
static int32_t batch_partition(struct ksink *ks, size_t rows, size_t bytes)
{
	if (!ks->spread)
		return RD_KAFKA_PARTITION_UA;
	if (ks->part_rows == 0 || ks->part_rows >= ks->stick_rows || ks->part_bytes >= ks->stick_bytes) {
		look_at_partitions(ks);
		if (ks->nlive == 0)
			return RD_KAFKA_PARTITION_UA;
		/* xorshift32: no locks */
		ks->seed ^= ks->seed << 13;
		ks->seed ^= ks->seed >> 17;
		ks->seed ^= ks->seed << 5;
		ks->part = ks->live[ks->seed % (uint32_t)ks->nlive];
		ks->part_rows = ks->part_bytes = 0;
	}
	ks->part_rows += (int64_t)rows;
	ks->part_bytes += (int64_t)bytes;
	return ks->part;
}

/* Hand the rows given as text to librdkafka, in one call, in order: a
 * third of the time a call per row takes (the clocks are read once). */
static int produce_batch(struct ksink *ks, sk_err *e)
{
	rd_kafka_message_t *m = ks->batch;
	size_t i, n = ks->nbatch, done;
	void *epoch = (void *)(uintptr_t)(ks->first + ks->nep - 1);
	int32_t part = batch_partition(ks, n, ks->batch_bytes.len);

	for (i = 0; i < n; i++) {
		m[i].payload = ks->batch_bytes.p + ks->batch_at[i];
		m[i]._private = epoch;
	}
	ks->nbatch = 0;
	while (n > 0) {
		done = (size_t)rd_kafka_produce_batch(ks->rkt, part, RD_KAFKA_MSG_F_COPY, m, (int)n);
		produced(ks, done);
		if (done == n) {
			n = 0;
			break;
		}
		/* The ones refused go again, in order, once there is room. */
		for (i = done = 0; i < n; i++) {
			if (m[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
				continue;
			if (m[i].err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION && part != RD_KAFKA_PARTITION_UA) {
				/* Gone since the last look: librdkafka picks. */
				ks->next_look_ms = 0;
				ks->part_rows = 0;
				part = RD_KAFKA_PARTITION_UA;
			} else if (m[i].err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
				refused(ks, m[i].err, part, m[i].len, e);
				break;
			}
			m[done++] = m[i];
		}
		if (i < n || queue_full(ks, e) < 0)
			break;
		n = done;
	}
	sk_buf_reset(&ks->batch_bytes);     /* the values were copied */
	return n == 0 ? 0 : -1;
}

/* Produce one message (value NULL: a tombstone); h is taken. */
static int produce(struct ksink *ks, const void *key, size_t klen, const void *val, size_t vlen,
                   int32_t part, int64_t ts, rd_kafka_headers_t *h, sk_err *e)
{
	rd_kafka_resp_err_t err;

	if (ks->nbatch > 0 && produce_batch(ks, e) < 0)
		goto fail;
	while ((err = enqueue(ks, key, klen, val, vlen, part, ts, h)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		if (queue_full(ks, e) < 0)
			goto fail;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		refused(ks, err, part, vlen, e);
		goto fail;
	}
	produced(ks, 1);
	/* With sync, nothing before is in flight: a failure is this row's. */
	return ks->sync ? drain(ks, e) : 0;
fail:
	if (h)
		rd_kafka_headers_destroy(h);
	return -1;
}

static int base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* s[0..n), base64 with its padding (RFC 4648, as sk_json_add_base64
 * writes it), decoded into out: 0, or -1 when it is not that. */
static int base64_decode(const char *s, size_t n, sk_buf *out)
{
	size_t i, pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
	int v[4], j;

	sk_buf_reset(out);
	if (n % 4 != 0 || sk_buf_reserve(out, n / 4 * 3) < 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		for (j = 0; j < 4; j++)
			if ((v[j] = i + (size_t)j >= n - pad ? 0 : base64_value((unsigned char)s[i + (size_t)j])) < 0)
				return -1;
		out->p[out->len++] = (char)(v[0] << 2 | v[1] >> 4);
		out->p[out->len++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		out->p[out->len++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	/* The bits the padding leaves over are zero in canonical base64. */
	if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
		return -1;
	out->len -= pad;
	return 0;
}

/* The first result of p over row as the bytes of a key or value, into
 * out: 1, or 0 when there is none or it is null. A string is its bytes,
 * base64 decoded with base64; anything else is its JSON text. */
static int bytes_of(struct ksink *ks, sk_program *p, json_object *row, sk_buf *out, const char *opt, sk_err *e)
{
	json_object *v;
	char *s;
	size_t n;
	int rc;

	sk_buf_reset(out);
	if (!ks->base64) {
		if ((rc = sk_program_first_string(p, row, &s, &n, e)) <= 0)
			return rc < 0 ? sk_err_prefix(e, "%s", opt) : 0;
		rc = sk_buf_add(out, s, n);
		free(s);
		return rc < 0 ? sk_err_oom(e) : 1;
	}
	if ((rc = sk_program_first_json(p, row, &v, e)) <= 0)
		return rc < 0 ? sk_err_prefix(e, "%s", opt) : 0;
	if (json_object_is_type(v, json_type_string)) {
		rc = base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), out);
		if (rc < 0)
			sk_err_set(e, EX_DATAERR, "%s: not base64 (--binary=base64)", opt);
	} else if ((rc = sk_json_add_object(out, v)) < 0)
		sk_err_oom(e);
	json_object_put(v);
	return rc < 0 ? -1 : 1;
}

/* Add one header: a string is its bytes, null a null header, anything
 * else its JSON text. */
static int add_header(struct ksink *ks, rd_kafka_headers_t *h, const char *name, json_object *v, sk_err *e)
{
	const char *s = NULL;
	ssize_t n = 0;
	rd_kafka_resp_err_t err;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = json_object_get_string_len(v);
	} else if (v != NULL) {
		sk_buf_reset(&ks->buf);
		if (sk_json_add_object(&ks->buf, v) < 0)
			return sk_err_oom(e);
		s = ks->buf.p;
		n = (ssize_t)ks->buf.len;
	}
	if ((err = rd_kafka_header_add(h, name, -1, s, n)) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return sk_err_set(e, EX_SOFTWARE, "header %s: %s", name, rd_kafka_err2str(err));
	return 0;
}

/* The headers object: NAME: value, or an array of the values of a name
 * that repeats, each added in order. */
static int object_headers(struct ksink *ks, json_object *row, rd_kafka_headers_t *h, sk_err *e)
{
	json_object *obj;
	size_t i, n;
	int rc;

	if ((rc = sk_program_first_json(ks->headers_obj, row, &obj, e)) <= 0)
		return rc < 0 ? sk_err_prefix(e, "--headers") : 0;
	if (!json_object_is_type(obj, json_type_object)) {
		sk_err_set(e, EX_DATAERR, "--headers: expected an object (NAME: value or [values]), got %s",
		           json_type_to_name(json_object_get_type(obj)));
		json_object_put(obj);
		return -1;
	}
	rc = 0;
	json_object_object_foreach(obj, name, v) {
		if (rc < 0)
			break;
		if (!json_object_is_type(v, json_type_array)) {
			rc = add_header(ks, h, name, v, e);
			continue;
		}
		n = json_object_array_length(v);
		for (i = 0; i < n && rc == 0; i++)
			rc = add_header(ks, h, name, json_object_array_get_idx(v, i), e);
	}
	json_object_put(obj);
	return rc < 0 ? sk_err_prefix(e, "--headers") : 0;
}

static int row_headers(struct ksink *ks, json_object *row, rd_kafka_headers_t **out, sk_err *e)
{
	rd_kafka_headers_t *h;
	size_t i, n;
	char *s;
	int rc;

	*out = NULL;
	if (ks->nheaders == 0 && ks->headers_obj == NULL)
		return 0;
	if ((h = rd_kafka_headers_new(ks->nheaders + 8)) == NULL)
		return sk_err_oom(e);
	if (ks->headers_obj && object_headers(ks, row, h, e) < 0) {
		rd_kafka_headers_destroy(h);
		return -1;
	}
	for (i = 0; i < ks->nheaders; i++) {
		if ((rc = sk_program_first_string(ks->headers[i].p, row, &s, &n, e)) < 0) {
			rd_kafka_headers_destroy(h);
			return sk_err_prefix(e, "--header %s", ks->headers[i].name);
		}
		rc = rd_kafka_header_add(h, ks->headers[i].name, -1, rc ? s : NULL, rc ? (ssize_t)n : 0);
		free(s);
		if (rc) {
			rd_kafka_headers_destroy(h);
			return sk_err_set(e, EX_SOFTWARE, "--header %s: %s", ks->headers[i].name,
			                  rd_kafka_err2str((rd_kafka_resp_err_t)rc));
		}
	}
	/* No header at all (an empty object): a message without headers. */
	if (rd_kafka_header_cnt(h) == 0) {
		rd_kafka_headers_destroy(h);
		return 0;
	}
	*out = h;
	return 0;
}

static int kafka_write(sk_sink *k, json_object *row, sk_err *e)
{
	struct ksink *ks = k->impl;
	rd_kafka_headers_t *h = NULL;
	int64_t part = RD_KAFKA_PARTITION_UA, ts = 0;
	int has_val = 1, has_key = 0;
	sk_buf *v = &ks->vbuf;

	if (ks->value) {
		if ((has_val = bytes_of(ks, ks->value, row, v, "--value", e)) < 0)
			return -1;
	} else {
		sk_buf_reset(v);
		if (sk_json_add_object(v, row) < 0)
			return sk_err_oom(e);
	}
	if (ks->key && (has_key = bytes_of(ks, ks->key, row, &ks->kbuf, "--key", e)) < 0)
		return -1;
	if (ks->partition) {
		if (sk_program_first_int(ks->partition, row, &part, e) < 0)
			return sk_err_prefix(e, "--partition");
		if (part < 0 || part > INT32_MAX)
			return sk_err_set(e, EX_DATAERR, "--partition: %" PRId64 " is not a partition", part);
	}
	if (ks->timestamp) {
		if (sk_program_first_int(ks->timestamp, row, &ts, e) < 0)
			return sk_err_prefix(e, "--timestamp");
		if (ts < 0)
			return sk_err_set(e, EX_DATAERR, "--timestamp: %" PRId64 " is before 1970", ts);
	}
	if (row_headers(ks, row, &h, e) < 0)
		return -1;
	return produce(ks, has_key ? ks->kbuf.p : NULL, has_key ? ks->kbuf.len : 0, has_val ? v->p : NULL,
	               has_val ? v->len : 0, (int32_t)part, ts, h, e);
}

static int kafka_write_json(sk_sink *k, const char *text, size_t n, sk_err *e)
{
	struct ksink *ks = k->impl;
	rd_kafka_message_t *m;

	if (ks->sync)
		return produce(ks, NULL, 0, text, n, RD_KAFKA_PARTITION_UA, 0, NULL, e);
	m = &ks->batch[ks->nbatch];
	memset(m, 0, sizeof *m);
	m->len = n;
	ks->batch_at[ks->nbatch++] = ks->batch_bytes.len;
	if (sk_buf_add(&ks->batch_bytes, text, n) < 0)
		return sk_err_oom(e);
	return ks->nbatch == BATCH_ROWS ? produce_batch(ks, e) : 0;
}

/* The input is idle, or reports came while it was: commit what is
 * confirmed, so that a quiet stream's checkpoint is not left behind. */
static int kafka_flush(sk_sink *k, sk_err *e)
{
	struct ksink *ks = k->impl;

	if (ks->nbatch > 0 && produce_batch(ks, e) < 0)
		return -1;
	rd_kafka_poll(ks->rk, 0);
	if (check_failed(ks, e) < 0)
		return -1;
	return commit_confirmed(k, e);
}

static int kafka_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct ksink *ks = k->impl;
	struct epoch *open;

	if ((ks->nbatch > 0 && produce_batch(ks, e) < 0) || check_failed(ks, e) < 0)
		return -1;
	open = &ks->ep[ks->nep - 1];
	if (cs && sk_cursorset_count(cs) > 0 &&
	    ((open->cs = sk_cursorset_new()) == NULL || sk_cursorset_merge(open->cs, cs, e) < 0))
		return open->cs ? -1 : sk_err_oom(e);
	open->rows = rows;
	if (open_epoch(ks, e) < 0)
		return -1;
	rd_kafka_poll(ks->rk, 0);
	return commit_confirmed(k, e);
}

static int kafka_finish(sk_sink *k, sk_err *e)
{
	struct ksink *ks = k->impl;
	sk_err why;

	if (ks->nbatch > 0 && produce_batch(ks, e) < 0)
		return -1;
	if (drain(ks, e) == 0)
		return commit_confirmed(k, e);
	/* Stopped, or out of time: commit what is confirmed all the same. */
	if (ks->failed == RD_KAFKA_RESP_ERR_NO_ERROR && !ks->fatal[0] && commit_confirmed(k, &why) < 0)
		*e = why;
	return -1;
}

static int kafka_event_fd(const sk_sink *k)
{
	const struct ksink *ks = k->impl;

	return ks->events[0];
}

static void kafka_close(sk_sink *k)
{
	ksink_free(k->impl);
	k->impl = NULL;
}

const struct sk_sink_ops sk_sink_kafka_ops = {
	.kind = "kafka",
	.open = kafka_open,
	.write = kafka_write,
	.flush = kafka_flush,
	.checkpoint = kafka_checkpoint,
	.close = kafka_close,
	.write_json = kafka_write_json,
	.finish = kafka_finish,
	.event_fd = kafka_event_fd,
};
