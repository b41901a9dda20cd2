/* sink_kafka.c - rows produced to a Kafka topic (kafka://HOSTS/TOPIC).
 *
 * Each row is one message. Its value is the row as compact JSON text, or
 * the first result of the value expression (a string as its bytes, any
 * other value as JSON text, null or no result: a tombstone); key, headers,
 * partition and timestamp come from expressions too (null or no result:
 * no key, a null header, librdkafka's partitioner, the time of sending).
 *
 * The producer is idempotent unless the settings say otherwise, so that
 * librdkafka's retries never duplicate. Delivery: a checkpoint waits for
 * the delivery report of every message produced so far and commits the
 * cursors only when all of them succeeded; the first failed report fails
 * the run (the cursors of the rows not known delivered are never
 * committed). With sync, each row is delivered before the next is taken.
 *
 * librdkafka settings: kafka_conf.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "sink_impl.h"
#include "kafka_conf.h"
#include "json.h"
#include "program.h"
#include "util.h"

#define POLL_FULL_MS 100        /* the producer queue is full: serve reports, retry */
#define FLUSH_STEP_MS 500       /* one rd_kafka_flush call */
#define FLUSH_SLACK_MS 10000    /* past message.timeout.ms, a report is overdue */

struct header {
	char *name;
	sk_program *p;
};

struct ksink {
	char *topic;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	sk_program *key, *value, *partition, *timestamp;
	struct header *headers;
	size_t nheaders;
	int sync;
	int64_t timeout_ms;         /* message.timeout.ms: each report comes within it */
	sk_buf buf;
	rd_kafka_resp_err_t failed; /* the first failed delivery report */
	char failmsg[256];
	int32_t failpart;
	char fatal[256];            /* a fatal error from librdkafka's error callback */
};

static int oom(sk_err *e)
{
	return sk_err_set(e, EX_OSERR, "out of memory");
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct ksink *ks = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR || ks->failed != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	ks->failed = m->err;
	ks->failpart = m->partition;
	snprintf(ks->failmsg, sizeof ks->failmsg, "%s", rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct ksink *ks = opaque;

	(void)rk;
	/* Transport errors are retried by librdkafka; only fatal ones stop us. */
	if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
		if (err == RD_KAFKA_RESP_ERR__FATAL) {
			char why[200];

			if (rd_kafka_fatal_error(rk, why, sizeof why) != RD_KAFKA_RESP_ERR_NO_ERROR)
				reason = why;
			snprintf(ks->fatal, sizeof ks->fatal, "%s", reason);
			return;
		}
		snprintf(ks->fatal, sizeof ks->fatal, "%s", reason);
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

/* Wait for the delivery report of every message produced so far. */
static int drain(struct ksink *ks, sk_err *e)
{
	int64_t deadline = sk_now_ms() + ks->timeout_ms + FLUSH_SLACK_MS;
	int left;

	while ((left = rd_kafka_outq_len(ks->rk)) > 0) {
		if (check_failed(ks, e) < 0)
			return -1;
		if (sk_now_ms() >= deadline)
			return sk_err_set(e, EX_TEMPFAIL, "topic %s: %d messages without a delivery report "
			                  "after %" PRId64 " s", ks->topic, left,
			                  (ks->timeout_ms + FLUSH_SLACK_MS) / 1000);
		rd_kafka_flush(ks->rk, FLUSH_STEP_MS);
	}
	rd_kafka_poll(ks->rk, 0);
	return check_failed(ks, e);
}

static int compile(const char *text, const char *opt, sk_program **out, sk_err *e)
{
	if (text == NULL)
		return 0;
	if ((*out = sk_program_compile(text, NULL, e)) == NULL)
		return sk_err_prefix(e, "%s", opt);
	return 0;
}

static int compile_all(struct ksink *ks, const sk_sink_opts *o, sk_err *e)
{
	size_t i;

	if (compile(o->kafka_key, "--key", &ks->key, e) < 0 ||
	    compile(o->kafka_value, "--value", &ks->value, e) < 0 ||
	    compile(o->kafka_partition, "--partition", &ks->partition, e) < 0 ||
	    compile(o->kafka_timestamp, "--timestamp", &ks->timestamp, e) < 0)
		return -1;
	if (o->nkafka_headers && (ks->headers = calloc(o->nkafka_headers, sizeof *ks->headers)) == NULL)
		return oom(e);
	for (i = 0; i < o->nkafka_headers; i++) {
		const char *h = o->kafka_headers[i], *eq = strchr(h, '=');

		if (eq == NULL || eq == h || eq[1] == '\0')
			return sk_err_set(e, EX_USAGE, "--header '%s': expected NAME=EXPR", h);
		if ((ks->headers[i].name = strndup(h, (size_t)(eq - h))) == NULL)
			return oom(e);
		ks->nheaders = i + 1;
		if ((ks->headers[i].p = sk_program_compile(eq + 1, NULL, e)) == NULL)
			return sk_err_prefix(e, "--header %s", ks->headers[i].name);
	}
	return 0;
}

static int build_conf(struct ksink *ks, const sk_endpoint *ep, const sk_sink_opts *o,
                      rd_kafka_conf_t **out, sk_err *e)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char v[64];
	size_t vn = sizeof v;

	if (conf == NULL)
		return oom(e);
	rd_kafka_conf_set_opaque(conf, ks);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	/* Ours first, so that every one can be overridden. */
	if (sk_kafka_conf_set(conf, "bootstrap.servers", ep->hosts, "bootstrap.servers", e) < 0 ||
	    sk_kafka_conf_set(conf, "enable.idempotence", "true", "enable.idempotence", e) < 0 ||
	    sk_kafka_conf_set(conf, "client.id", "stream-write", "client.id", e) < 0 ||
	    (o->kafka_compression &&
	     sk_kafka_conf_set(conf, "compression.codec", o->kafka_compression, "--compression", e) < 0) ||
	    sk_kafka_conf_apply(conf, ep, o->kafka_config_file, o->kafka_props, o->nkafka_props, e) < 0)
		goto fail;
	if (rd_kafka_conf_get(conf, "message.timeout.ms", v, &vn) != RD_KAFKA_CONF_OK)
		snprintf(v, sizeof v, "300000");
	ks->timeout_ms = strtoll(v, NULL, 10);
	if (ks->timeout_ms <= 0)
		ks->timeout_ms = 300000;    /* 0: librdkafka waits forever; so do we, in steps */
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
	for (i = 0; i < ks->nheaders; i++) {
		free(ks->headers[i].name);
		sk_program_free(ks->headers[i].p);
	}
	free(ks->headers);
	sk_buf_free(&ks->buf);
	free(ks->topic);
	free(ks);
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
		return oom(e);
	/* Errors from here on are prefixed with the endpoint at fail. */
	ks->sync = o->kafka_sync;
	if ((ks->topic = strdup(ep->topic)) == NULL) {
		oom(e);
		goto fail;
	}
	if (compile_all(ks, o, e) < 0 || build_conf(ks, ep, o, &conf, e) < 0)
		goto fail;
	/* The topic handle asks for the topic's metadata now: the first rows
	 * need not wait for librdkafka's periodic scan (a second). */
	if (sk_kafka_client(RD_KAFKA_PRODUCER, conf, ks->topic, &ks->rk, &ks->rkt, e) < 0)
		goto fail;
	/* Rows the writer has as text go out as that text, with nothing to
	 * compute from them. */
	k->takes_json = !ks->key && !ks->value && !ks->partition && !ks->timestamp && !ks->nheaders;
	k->impl = ks;
	return 0;
fail:
	ksink_free(ks);
	return sk_err_prefix(e, "%s", ep->arg);
}

/* Produce one message (value NULL: a tombstone); h is taken. */
static int produce(struct ksink *ks, const void *key, size_t klen, const void *val, size_t vlen,
                   int32_t part, int64_t ts, rd_kafka_headers_t *h, sk_err *e)
{
	rd_kafka_resp_err_t err;

	for (;;) {
		err = rd_kafka_producev(ks->rk, RD_KAFKA_V_RKT(ks->rkt), RD_KAFKA_V_PARTITION(part),
		                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                        RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_KEY(key, klen),
		                        RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
		if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		if (check_failed(ks, e) < 0)
			goto fail;
		rd_kafka_poll(ks->rk, POLL_FULL_MS);
	}
	switch (err) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		break;
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		sk_err_set(e, EX_DATAERR, "topic %s has no partition %" PRId32, ks->topic, part);
		goto fail;
	case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
		sk_err_set(e, EX_DATAERR, "topic %s: a message of %zu bytes: %s", ks->topic, vlen,
		           rd_kafka_err2str(err));
		goto fail;
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
		sk_err_set(e, EX_UNAVAILABLE, "topic %s does not exist", ks->topic);
		goto fail;
	default:
		sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", ks->topic, rd_kafka_err2str(err));
		goto fail;
	}
	rd_kafka_poll(ks->rk, 0);
	if (check_failed(ks, e) < 0)
		return -1;
	return ks->sync ? drain(ks, e) : 0;
fail:
	if (h)
		rd_kafka_headers_destroy(h);
	return -1;
}

static int row_headers(struct ksink *ks, json_object *row, rd_kafka_headers_t **out, sk_err *e)
{
	rd_kafka_headers_t *h;
	size_t i, n;
	char *s;
	int rc;

	*out = NULL;
	if (ks->nheaders == 0)
		return 0;
	if ((h = rd_kafka_headers_new(ks->nheaders)) == NULL)
		return oom(e);
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
	*out = h;
	return 0;
}

static int kafka_write(sk_sink *k, json_object *row, sk_err *e)
{
	struct ksink *ks = k->impl;
	rd_kafka_headers_t *h = NULL;
	char *key = NULL, *val = NULL;
	size_t klen = 0, vlen = 0;
	int64_t part = RD_KAFKA_PARTITION_UA, ts = 0;
	const void *v;
	int rc = -1, has_val = 1;

	if (ks->value) {
		if ((has_val = sk_program_first_string(ks->value, row, &val, &vlen, e)) < 0) {
			sk_err_prefix(e, "--value");
			goto out;
		}
		v = val;
	} else {
		sk_buf_reset(&ks->buf);
		if (sk_json_add_object(&ks->buf, row) < 0) {
			oom(e);
			goto out;
		}
		v = ks->buf.p;
		vlen = ks->buf.len;
	}
	if (ks->key && sk_program_first_string(ks->key, row, &key, &klen, e) < 0) {
		sk_err_prefix(e, "--key");
		goto out;
	}
	if (ks->partition) {
		if ((rc = sk_program_first_int(ks->partition, row, &part, e)) < 0) {
			sk_err_prefix(e, "--partition");
			goto out;
		}
		rc = -1;
		if (part < 0 || part > INT32_MAX) {
			sk_err_set(e, EX_DATAERR, "--partition: %" PRId64 " is not a partition", part);
			goto out;
		}
	}
	if (ks->timestamp) {
		if (sk_program_first_int(ks->timestamp, row, &ts, e) < 0) {
			sk_err_prefix(e, "--timestamp");
			goto out;
		}
		if (ts < 0) {
			sk_err_set(e, EX_DATAERR, "--timestamp: %" PRId64 " is before 1970", ts);
			goto out;
		}
	}
	if (row_headers(ks, row, &h, e) < 0)
		goto out;
	rc = produce(ks, key, key ? klen : 0, has_val ? v : NULL, has_val ? vlen : 0, (int32_t)part, ts, h, e);
out:
	free(key);
	free(val);
	return rc;
}

static int kafka_write_json(sk_sink *k, const char *text, size_t n, sk_err *e)
{
	return produce(k->impl, NULL, 0, text, n, RD_KAFKA_PARTITION_UA, 0, NULL, e);
}

static int kafka_flush(sk_sink *k, sk_err *e)
{
	struct ksink *ks = k->impl;

	rd_kafka_poll(ks->rk, 0);
	return check_failed(ks, e);
}

static int kafka_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	if (drain(k->impl, e) < 0)
		return -1;
	if (k->state && (rows > 0 || (cs && sk_cursorset_count(cs) > 0)))
		return sk_state_checkpoint(k->state, k->name, cs, rows, e);
	return 0;
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
};
