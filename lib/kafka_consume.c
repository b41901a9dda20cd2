/* kafka_consume.c - the Kafka source's next message: batches taken from
 * librdkafka's queue, partition ends and errors, each message's envelope
 * (kafka_envelope.h), and in group mode the look at the checkpoint about
 * once a second (kafka_group.c). */
#include <inttypes.h>

#include "source_kafka_impl.h"
#include "util.h"

#define STORE_EVERY_MS 1000      /* group mode: look for a newer checkpoint */

/* Every partition being read is at its end (group mode: once the group
 * has assigned this member its partitions, which may be none). */
static int all_at_end(const struct sk_kafka_src *ks)
{
	int i;

	if (!ks->assigned_once)
		return 0;
	for (i = 0; i < ks->nparts; i++)
		if (ks->parts[i].assigned && !ks->parts[i].at_end)
			return 0;
	return 1;
}

/* A partition reached its end (1), or an error that ends the read (-1). */
static int event(struct sk_kafka_src *ks, rd_kafka_message_t *km, sk_err *e)
{
	const char *topic = km->rkt ? rd_kafka_topic_name(km->rkt) : ks->topic;
	char why[512];
	int i;

	if (km->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if ((i = sk_kafka_find_part(ks, topic, km->partition)) >= 0)
			ks->parts[i].at_end = 1;
		return 1;
	}
	switch (km->err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s does not exist", topic);
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s has no partition %" PRId32, topic, km->partition);
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR__FATAL:
		sk_kafka_redact(rd_kafka_message_errstr(km), why, sizeof why);
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", topic, why);
	default:
		/* Transient (transport, leader moves): librdkafka retries. */
		return 1;
	}
}

/* Wait up to wait_ms for one message or event, then take what else is
 * ready without waiting (a batch call alone waits until it is full). */
static int take_batch(struct sk_kafka_src *ks, int wait_ms, sk_err *e)
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
	sk_kafka_refill_taken(&ks->refill, ks->rk, ks->q, ks->batch, (size_t)ks->nbatch);
	return 0;
}

int sk_kafka_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct sk_kafka_src *ks = s->impl;
	rd_kafka_message_t *km;
	int64_t deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms, now;
	int wait, i, rc, took = 0;

	for (;;) {
		if (ks->cb_failed) {
			*e = ks->cb_err;
			return -1;
		}
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
			i = sk_kafka_find_part(ks, rd_kafka_topic_name(km->rkt), km->partition);
			if (i >= 0 && !ks->parts[i].assigned) {
				rd_kafka_message_destroy(km);   /* revoked since it was fetched */
				continue;
			}
			rc = sk_kafka_envelope(&ks->kenv, km, m, e);
			if (i >= 0) {
				ks->parts[i].at_end = 0;
				if (rc == 1)
					ks->parts[i].emitted = km->offset;
			}
			rd_kafka_message_destroy(km);
			return rc;
		}
		now = sk_now_ms();
		if (!ks->group)
			rd_kafka_poll(ks->rk, 0);
		else if (ks->o->name && now >= ks->next_store_ms) {
			ks->next_store_ms = now + STORE_EVERY_MS;
			if (sk_kafka_commit_covered(ks, NULL, 1, e) < 0)
				return -1;
		}
		if (ks->fatal[0])
			return sk_err_set(e, EX_UNAVAILABLE, "%s", ks->fatal);
		if (took && all_at_end(ks))
			return SK_END;  /* the batch just taken brought every partition to its end */
		wait = 0;
		if (deadline >= 0) {
			int64_t left = deadline - now;
			wait = left > 0 ? (int)left : 0;
		} else
			wait = 1000;
		if (take_batch(ks, wait, e) < 0)
			return -1;
		took = ks->nbatch > 0;
		if (ks->nbatch == 0 && !ks->cb_failed && deadline >= 0 && sk_now_ms() >= deadline)
			return all_at_end(ks) ? SK_END : 0;
	}
}
