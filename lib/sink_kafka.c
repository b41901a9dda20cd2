/* sink_kafka.c - rows produced to a Kafka topic (kafka://HOSTS/TOPIC):
 * the producer's settings, opening it, and the sink's operations.
 *
 * How a row becomes a message: kafka_message.c. Handing messages to
 * librdkafka and committing the cursors of rows once their delivery is
 * confirmed: kafka_produce.c. What the two share: sink_kafka_impl.h.
 *
 * The producer is idempotent unless the settings say otherwise, so that
 * librdkafka's retries never duplicate.
 *
 * librdkafka settings: kafka_conf.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sink_kafka_impl.h"
#include "util.h"

#define METADATA_NOTICE_MS 1000     /* at open: say that brokers are waited for after it */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct sk_ksink *ks = opaque;
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

/* What writing to a topic takes besides librdkafka's settings (-X, -F);
 * the expressions are compiled by kafka_message.c. The order of the
 * SK_OPTF_PROGRAM rows is the order "--arg and --argjson need ..." names
 * them in. */
static const sk_option kafka_options[] = {
	{ "key", 0, SK_OPT_VALUE, "EXPR", "the message key (jq expression over the row)", 0, SK_OPTF_PROGRAM },
	{ "value", 0, SK_OPT_VALUE, "EXPR", "the message value (default: the row as JSON)", 0, SK_OPTF_PROGRAM },
	{ "partition", 0, SK_OPT_VALUE, "EXPR", "the partition (default: librdkafka's partitioner)", 0,
	  SK_OPTF_PROGRAM },
	{ "timestamp", 0, SK_OPT_VALUE, "EXPR", "the timestamp, ms since 1970 (default: now)", 0, SK_OPTF_PROGRAM },
	{ "header", 0, SK_OPT_REPEAT, "NAME=EXPR", "a header (repeatable)", 0, SK_OPTF_PROGRAM },
	{ "headers", 0, SK_OPT_VALUE, "EXPR", "headers from an object, NAME: value or [values]", 0,
	  SK_OPTF_PROGRAM },
	{ "binary", 0, SK_OPT_VALUE, "MODE", "escape (default) or base64: key and value\n"
	  "strings are base64, sent decoded", 0, 0 },
	{ "compression", 0, SK_OPT_VALUE, "CODEC", "none, gzip, snappy, lz4 or zstd", 0, 0 },
	{ "sync", 0, SK_OPT_FLAG, NULL, "deliver each row before reading the next", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group kafka_option_group = { "kafka", kafka_options, sk_kafka_conf_options };

static int build_conf(struct sk_ksink *ks, const sk_endpoint *ep, const sk_sink_opts *o,
                      rd_kafka_conf_t **out, sk_err *e)
{
	const char *compression = sk_kindopts_get(o->kindopts, "compression");
	rd_kafka_conf_t *conf;

	if (sk_kafka_conf_new(ep, "stream-write", ks, on_error, &conf, e) < 0)
		return -1;
	rd_kafka_conf_set_dr_msg_cb(conf, sk_ksink_on_delivery);
	/* Ours first, so that every one can be overridden. Messages waiting
	 * in librdkafka: 4 MB, where librdkafka's default of 1 GB holds
	 * whatever the input brings faster than the brokers take it (1 MB
	 * held too few events of a kilobyte to keep requests in flight:
	 * 200,000 recentchange events took 0.9 s, and 0.5 s with 4 MB). A
	 * produce request goes out when a partition's batch is full or after
	 * linger.ms: batches of 2048 messages (not 10,000) fill that queue
	 * several times over, so that requests are always in flight. */
	if (sk_kafka_conf_set(conf, "enable.idempotence", "true", NULL, e) < 0 ||
	    sk_kafka_conf_set(conf, "queue.buffering.max.kbytes", "4096", NULL, e) < 0 ||
	    sk_kafka_conf_set(conf, "batch.num.messages", "2048", NULL, e) < 0 ||
	    (compression && sk_kafka_conf_set(conf, "compression.codec", compression, "--compression", e) < 0) ||
	    sk_kafka_conf_apply_given(conf, ep, o->kindopts, e) < 0)
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

static void ksink_free(struct sk_ksink *ks)
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
	sk_kafka_exprs_free(&ks->x);
	sk_epochs_free(&ks->epochs);
	free(ks->live);
	for (i = 0; i < 2; i++)
		if (ks->events[i] >= 0)
			close(ks->events[i]);
	sk_buf_free(&ks->batch_bytes);
	free(ks->topic);
	free(ks);
}

/* Rows are taken while no broker answers, and wait in librdkafka for one
 * until message.timeout.ms: say so at once, when the brokers do not answer
 * a first look at the topic, so that a dead broker does not look like a
 * hang. */
static void look_for_brokers(struct sk_ksink *ks, const char *brokers)
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
static int report_events(struct sk_ksink *ks, sk_err *e)
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
	struct sk_ksink *ks;
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
	ks->sync = sk_kindopts_get(o->kindopts, "sync") != NULL;
	ks->stop = o->stop;
	ks->events[0] = ks->events[1] = -1;
	ks->seed = (uint32_t)sk_wall_ms() | 1;
	if ((ks->topic = strdup(ep->topic)) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (sk_epochs_open(&ks->epochs, e) < 0 || sk_kafka_exprs_compile(&ks->x, o->kindopts, o->args, e) < 0 ||
	    build_conf(ks, ep, o, &conf, e) < 0)
		goto fail;
	/* The topic handle asks for the topic's metadata now: the first rows
	 * need not wait for librdkafka's periodic scan (a second). */
	if (sk_kafka_client(RD_KAFKA_PRODUCER, conf, ks->topic, &ks->rk, &ks->rkt, e) < 0 ||
	    report_events(ks, e) < 0)
		goto fail;
	look_for_brokers(ks, ep->hosts);
	/* Rows the writer has as text go out as that text, with nothing to
	 * compute from them. */
	k->takes_json = sk_kafka_exprs_none(&ks->x);
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

static int kafka_write(sk_sink *k, json_object *row, sk_err *e)
{
	struct sk_ksink *ks = k->impl;
	sk_kafka_message m;

	if (sk_kafka_message_of(&ks->x, row, &m, e) < 0)
		return -1;
	return sk_ksink_produce(ks, m.key, m.klen, m.value, m.vlen, m.partition, m.timestamp, m.headers, e);
}

static int kafka_write_json(sk_sink *k, const char *text, size_t n, sk_err *e)
{
	struct sk_ksink *ks = k->impl;
	rd_kafka_message_t *m;

	if (ks->sync)
		return sk_ksink_produce(ks, NULL, 0, text, n, RD_KAFKA_PARTITION_UA, 0, NULL, e);
	m = &ks->batch[ks->nbatch];
	memset(m, 0, sizeof *m);
	m->len = n;
	ks->batch_at[ks->nbatch++] = ks->batch_bytes.len;
	if (sk_buf_add(&ks->batch_bytes, text, n) < 0)
		return sk_err_oom(e);
	return ks->nbatch == BATCH_ROWS ? sk_ksink_produce_batch(ks, e) : 0;
}

/* The input is idle, or reports came while it was: commit what is
 * confirmed, so that a quiet stream's checkpoint is not left behind. */
static int kafka_flush(sk_sink *k, sk_err *e)
{
	struct sk_ksink *ks = k->impl;

	if (ks->nbatch > 0 && sk_ksink_produce_batch(ks, e) < 0)
		return -1;
	rd_kafka_poll(ks->rk, 0);
	if (sk_ksink_check_failed(ks, e) < 0)
		return -1;
	return sk_ksink_commit_confirmed(k, e);
}

static int kafka_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct sk_ksink *ks = k->impl;

	if ((ks->nbatch > 0 && sk_ksink_produce_batch(ks, e) < 0) || sk_ksink_check_failed(ks, e) < 0 ||
	    sk_epochs_close(&ks->epochs, cs, rows, e) < 0)
		return -1;
	rd_kafka_poll(ks->rk, 0);
	return sk_ksink_commit_confirmed(k, e);
}

static int kafka_finish(sk_sink *k, sk_err *e)
{
	struct sk_ksink *ks = k->impl;
	sk_err why;

	if (ks->nbatch > 0 && sk_ksink_produce_batch(ks, e) < 0)
		return -1;
	if (sk_ksink_drain(ks, e) == 0)
		return sk_ksink_commit_confirmed(k, e);
	/* Stopped, or out of time: commit what is confirmed all the same. */
	if (ks->failed == RD_KAFKA_RESP_ERR_NO_ERROR && !ks->fatal[0] && sk_ksink_commit_confirmed(k, &why) < 0)
		*e = why;
	return -1;
}

static int kafka_event_fd(const sk_sink *k)
{
	const struct sk_ksink *ks = k->impl;

	return ks->events[0];
}

static void kafka_close(sk_sink *k)
{
	ksink_free(k->impl);
	k->impl = NULL;
}

const struct sk_sink_ops sk_sink_kafka_ops = {
	.kind = "kafka",
	.options = &kafka_option_group,
	.open = kafka_open,
	.write = kafka_write,
	.flush = kafka_flush,
	.checkpoint = kafka_checkpoint,
	.close = kafka_close,
	.write_json = kafka_write_json,
	.finish = kafka_finish,
	.event_fd = kafka_event_fd,
};