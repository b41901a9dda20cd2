/* source_kafka.c - the messages of a Kafka topic, in assign mode: every
 * partition (or the URL's partition=P), each read from where the recipe's
 * stored position or --from says, with librdkafka's simple consumer
 * (no group, nothing committed to Kafka).
 *
 * Envelope: kafka_envelope.h.
 *
 * librdkafka settings: kafka_conf.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "source_impl.h"
#include "source_kafka.h"
#include "kafka_conf.h"
#include "kafka_envelope.h"
#include "json.h"
#include "util.h"

#define BATCH 1024                  /* messages taken from librdkafka at once */
#define METADATA_TRY_MS 2000        /* one metadata request */
#define METADATA_BOUND_MS 30000     /* unreachable brokers: give up after this */
#define OFFSETS_TIMEOUT_MS 10000    /* offsets for times */

struct kafka_src {
	char *arg;                  /* the endpoint as written, for messages */
	char *topic;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	rd_kafka_queue_t *q;
	int32_t *parts;             /* assigned partitions */
	int nparts;
	unsigned char *at_end;      /* per partition index: EOF seen, nothing since */
	int nend;
	int started;                /* partitions whose consume_start succeeded */
	rd_kafka_message_t *batch[BATCH];
	ssize_t nbatch, ibatch;
	sk_kafka_env kenv;
	char fatal[256];            /* a fatal error from librdkafka's error callback */
};

static int oom(sk_err *e)
{
	return sk_err_set(e, EX_OSERR, "out of memory");
}

int64_t sk_kafka_start_offset(enum sk_from from, int64_t value)
{
	switch (from) {
	case SK_FROM_EARLIEST: return RD_KAFKA_OFFSET_BEGINNING;
	case SK_FROM_LATEST: return RD_KAFKA_OFFSET_END;
	case SK_FROM_OFFSET: return value;
	case SK_FROM_TAIL: return RD_KAFKA_OFFSET_TAIL(value);
	case SK_FROM_TIME: return RD_KAFKA_OFFSET_END;   /* resolved by sk_kafka_time_offset */
	}
	return RD_KAFKA_OFFSET_END;
}

int64_t sk_kafka_time_offset(int64_t answer)
{
	/* Kafka answers -1 when no message is that recent: start at the end,
	 * where the next message will be the first at or after the time. */
	return answer < 0 ? RD_KAFKA_OFFSET_END : answer;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct kafka_src *ks = opaque;

	(void)rk;
	/* Transport errors are retried by librdkafka; only fatal ones stop us. */
	if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
		snprintf(ks->fatal, sizeof ks->fatal, "%s", reason);
}

static int build_conf(struct kafka_src *ks, const sk_endpoint *ep, const sk_source_opts *o,
                      rd_kafka_conf_t **out, sk_err *e)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (conf == NULL)
		return oom(e);
	rd_kafka_conf_set_opaque(conf, ks);
	rd_kafka_conf_set_error_cb(conf, on_error);
	/* Ours first, so that every one can be overridden. A stored position
	 * that is no longer in the log: read what is there, lose nothing. */
	if (sk_kafka_conf_set(conf, "bootstrap.servers", ep->hosts, "bootstrap.servers", e) < 0 ||
	    sk_kafka_conf_set(conf, "enable.partition.eof", "true", "enable.partition.eof", e) < 0 ||
	    sk_kafka_conf_set(conf, "auto.offset.reset", "earliest", "auto.offset.reset", e) < 0 ||
	    sk_kafka_conf_set(conf, "client.id", "stream-read", "client.id", e) < 0)
		goto fail;
	if (sk_kafka_conf_apply(conf, ep, o->kafka_config_file, o->kafka_props, o->nkafka_props, e) < 0)
		goto fail;
	*out = conf;
	return 0;
fail:
	rd_kafka_conf_destroy(conf);
	return -1;
}

/* The topic's partition count, retrying while no broker answers. */
static int topic_partitions(struct kafka_src *ks, int *n, sk_err *e)
{
	int64_t deadline = sk_now_ms() + METADATA_BOUND_MS;
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;

	for (;;) {
		err = rd_kafka_metadata(ks->rk, 0, ks->rkt, &md, METADATA_TRY_MS);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		if (ks->fatal[0])
			return sk_err_set(e, EX_UNAVAILABLE, "%s", ks->fatal);
		if (sk_now_ms() >= deadline)
			return sk_err_set(e, EX_UNAVAILABLE, "brokers %s not reachable for %d s: %s",
			                  ks->arg, METADATA_BOUND_MS / 1000, rd_kafka_err2str(err));
	}
	if (md->topic_cnt != 1) {
		rd_kafka_metadata_destroy(md);
		return sk_err_set(e, EX_UNAVAILABLE, "no metadata for topic %s", ks->topic);
	}
	err = md->topics[0].err;
	*n = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (err == 0 && *n == 0))
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s does not exist", ks->topic);
	if (err)
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", ks->topic, rd_kafka_err2str(err));
	return 0;
}

static int choose_partitions(struct kafka_src *ks, const sk_endpoint *ep, sk_err *e)
{
	const char *p = sk_endpoint_param(ep, "partition");
	int n = 0, i;

	if (topic_partitions(ks, &n, e) < 0)
		return -1;
	if (p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || *p < '0' || *p > '9' || *end != '\0' || v >= n)
			return sk_err_set(e, EX_USAGE, "invalid partition=%s (topic %s has partitions 0..%d)", p,
			                  ks->topic, n - 1);
		ks->nparts = 1;
		if ((ks->parts = malloc(sizeof *ks->parts)) == NULL)
			return oom(e);
		ks->parts[0] = (int32_t)v;
	} else {
		ks->nparts = n;
		if ((ks->parts = calloc((size_t)n, sizeof *ks->parts)) == NULL)
			return oom(e);
		for (i = 0; i < n; i++)
			ks->parts[i] = i;
	}
	if ((ks->at_end = calloc((size_t)ks->nparts, 1)) == NULL)
		return oom(e);
	return 0;
}

/* Offsets for the time ms, for every assigned partition, into offs. */
static int time_offsets(struct kafka_src *ks, int64_t ms, int64_t *offs, sk_err *e)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(ks->nparts);
	rd_kafka_resp_err_t err;
	int i;

	if (l == NULL)
		return oom(e);
	for (i = 0; i < ks->nparts; i++)
		rd_kafka_topic_partition_list_add(l, ks->topic, ks->parts[i])->offset = ms;
	err = rd_kafka_offsets_for_times(ks->rk, l, OFFSETS_TIMEOUT_MS);
	for (i = 0; err == 0 && i < l->cnt; i++) {
		if (l->elems[i].err) {
			err = l->elems[i].err;
			break;
		}
		offs[i] = sk_kafka_time_offset(l->elems[i].offset);
	}
	rd_kafka_topic_partition_list_destroy(l);
	if (err)
		return sk_err_set(e, EX_UNAVAILABLE, "offsets for time %" PRId64 ": %s", ms, rd_kafka_err2str(err));
	return 0;
}

/* Where each partition starts: after its stored position, else --from
 * (or the URL's offset=). */
static int start_offsets(struct kafka_src *ks, const sk_endpoint *ep, const sk_source_opts *o,
                         sk_source *s, int64_t *offs, unsigned char *stored, sk_err *e)
{
	sk_source_opts from = *o;
	const char *param = sk_endpoint_param(ep, "offset");
	int i, need_time = 0, rc;

	if (!o->from_given && param && sk_from_parse(param, &from, e) < 0)
		return sk_err_prefix(e, "offset=%s", param);
	for (i = 0; i < ks->nparts; i++) {
		char part[16], *pos = NULL, *end;
		long long v;

		offs[i] = sk_kafka_start_offset(from.from, from.from_value);
		need_time |= from.from == SK_FROM_TIME;
		if (o->name == NULL)
			continue;
		snprintf(part, sizeof part, "%" PRId32, ks->parts[i]);
		rc = sk_state_get_position(o->state, o->name, s->id, part, &pos, e);
		if (rc < 0)
			return -1;
		if (rc == 0)
			continue;
		errno = 0;
		v = strtoll(pos, &end, 10);
		if (errno || *end != '\0' || v < 0 || pos[0] < '0' || pos[0] > '9') {
			sk_err_set(e, EX_DATAERR, "stored position '%s' of %s partition %s is not an offset",
			           pos, s->id, part);
			free(pos);
			return -1;
		}
		free(pos);
		offs[i] = v + 1;
		stored[i] = 1;
	}
	if (need_time) {
		int64_t *t = calloc((size_t)ks->nparts, sizeof *t);

		if (t == NULL)
			return oom(e);
		if (time_offsets(ks, from.from_value, t, e) < 0) {
			free(t);
			return -1;
		}
		for (i = 0; i < ks->nparts; i++)
			if (!stored[i])
				offs[i] = t[i];
		free(t);
	}
	return 0;
}

static void kafka_free(struct kafka_src *ks)
{
	int i;

	if (ks == NULL)
		return;
	while (ks->ibatch < ks->nbatch)
		rd_kafka_message_destroy(ks->batch[ks->ibatch++]);
	for (i = 0; ks->rkt && i < ks->started; i++)
		rd_kafka_consume_stop(ks->rkt, ks->parts[i]);
	if (ks->q)
		rd_kafka_queue_destroy(ks->q);
	if (ks->rkt)
		rd_kafka_topic_destroy(ks->rkt);
	if (ks->rk)
		rd_kafka_destroy(ks->rk);
	sk_kafka_env_free(&ks->kenv);
	free(ks->parts);
	free(ks->at_end);
	free(ks->topic);
	free(ks->arg);
	free(ks);
}

static int kafka_start(struct kafka_src *ks, const int64_t *offs, sk_err *e)
{
	int i;

	for (ks->started = 0; ks->started < ks->nparts; ks->started++) {
		i = ks->started;
		if (rd_kafka_consume_start_queue(ks->rkt, ks->parts[i], offs[i], ks->q) < 0)
			return sk_err_set(e, EX_UNAVAILABLE, "partition %" PRId32 ": %s", ks->parts[i],
			                  rd_kafka_err2str(rd_kafka_last_error()));
	}
	return 0;
}

static int kafka_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	struct kafka_src *ks;
	rd_kafka_conf_t *conf = NULL;
	int64_t *offs = NULL;
	unsigned char *stored = NULL;   /* partitions with a stored position */

	if (o->group || sk_endpoint_param(ep, "group"))
		return sk_err_set(e, EX_UNAVAILABLE, "kafka consumer groups are not available in this version");
	if (ep->topic == NULL || ep->topic[0] == '\0')
		return sk_err_set(e, EX_USAGE, "no topic (kafka://HOST:PORT/TOPIC)");
	if (ep->topic[0] == '^')
		return sk_err_set(e, EX_USAGE, "topic patterns (%s) need a consumer group, "
		                  "which is not available in this version", ep->topic);
	if ((ks = calloc(1, sizeof *ks)) == NULL)
		return oom(e);
	if (sk_kafka_env_init(&ks->kenv, o->json, o->base64, o->max_line, e) < 0)
		goto fail;
	if ((ks->arg = strdup(ep->hosts ? ep->hosts : "")) == NULL || (ks->topic = strdup(ep->topic)) == NULL ||
	    (s->id = sk_strprintf("kafka:%s", ep->topic)) == NULL) {
		oom(e);
		goto fail;
	}
	if (build_conf(ks, ep, o, &conf, e) < 0 ||
	    sk_kafka_client(RD_KAFKA_CONSUMER, conf, ks->topic, &ks->rk, &ks->rkt, e) < 0)
		goto fail;
	if ((ks->q = rd_kafka_queue_new(ks->rk)) == NULL) {
		oom(e);
		goto fail;
	}
	if (choose_partitions(ks, ep, e) < 0)
		goto fail;
	if ((offs = calloc((size_t)ks->nparts, sizeof *offs)) == NULL ||
	    (stored = calloc((size_t)ks->nparts, 1)) == NULL) {
		oom(e);
		goto fail;
	}
	if (start_offsets(ks, ep, o, s, offs, stored, e) < 0 || kafka_start(ks, offs, e) < 0)
		goto fail;
	free(stored);
	free(offs);
	s->impl = ks;
	return 0;
fail:
	free(stored);
	free(offs);
	kafka_free(ks);
	return -1;
}

static int part_index(const struct kafka_src *ks, int32_t p)
{
	int i;

	if (ks->nparts > 1 && ks->parts[0] == 0 && p >= 0 && p < ks->nparts)
		return p;
	for (i = 0; i < ks->nparts; i++)
		if (ks->parts[i] == p)
			return i;
	return -1;
}

/* A partition reached its end (1), or an error that ends the read (-1). */
static int event(struct kafka_src *ks, rd_kafka_message_t *km, sk_err *e)
{
	int i = part_index(ks, km->partition);

	if (km->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (i >= 0 && !ks->at_end[i]) {
			ks->at_end[i] = 1;
			ks->nend++;
		}
		return 1;
	}
	switch (km->err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s does not exist", ks->topic);
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s has no partition %" PRId32, ks->topic, km->partition);
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR__FATAL:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", ks->topic, rd_kafka_message_errstr(km));
	default:
		/* Transient (transport, leader moves): librdkafka retries. */
		return 1;
	}
}

/* Wait up to wait_ms for one message or event, then take what else is
 * ready without waiting (a batch call alone waits until it is full). */
static int take_batch(struct kafka_src *ks, int wait_ms, sk_err *e)
{
	ssize_t n;

	ks->ibatch = ks->nbatch = 0;
	if ((ks->batch[0] = rd_kafka_consume_queue(ks->q, wait_ms)) == NULL)
		return 0;
	n = rd_kafka_consume_batch_queue(ks->q, 0, ks->batch + 1, BATCH - 1);
	if (n < 0) {
		rd_kafka_message_destroy(ks->batch[0]);
		return sk_err_set(e, EX_SOFTWARE, "consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
	}
	ks->nbatch = n + 1;
	return 0;
}

static int kafka_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct kafka_src *ks = s->impl;
	rd_kafka_message_t *km;
	int64_t deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms;
	int wait, i, rc, took = 0;

	for (;;) {
		while (ks->ibatch < ks->nbatch) {
			km = ks->batch[ks->ibatch];
			ks->batch[ks->ibatch++] = NULL;
			if (km->err) {
				took = 1;
				rc = event(ks, km, e);
				rd_kafka_message_destroy(km);
				if (rc < 0)
					return -1;
				continue;
			}
			if ((i = part_index(ks, km->partition)) >= 0 && ks->at_end[i]) {
				ks->at_end[i] = 0;
				ks->nend--;
			}
			rc = sk_kafka_envelope(&ks->kenv, km, m, e);
			rd_kafka_message_destroy(km);
			return rc;
		}
		rd_kafka_poll(ks->rk, 0);
		if (ks->fatal[0])
			return sk_err_set(e, EX_UNAVAILABLE, "%s", ks->fatal);
		if (took && ks->nend == ks->nparts)
			return SK_END;  /* the batch just taken brought every partition to its end */
		wait = 0;
		if (deadline >= 0) {
			int64_t left = deadline - sk_now_ms();
			wait = left > 0 ? (int)left : 0;
		} else
			wait = 1000;
		if (take_batch(ks, wait, e) < 0)
			return -1;
		took = ks->nbatch > 0;
		if (ks->nbatch == 0 && deadline >= 0 && sk_now_ms() >= deadline)
			return ks->nend == ks->nparts ? SK_END : 0;
	}
}

static void kafka_close(sk_source *s)
{
	kafka_free(s->impl);
}

const struct sk_source_ops sk_source_kafka_ops = {
	.kind = "kafka",
	.open = kafka_open,
	.next = kafka_next,
	.ack = NULL,
	.close = kafka_close,
};
