/* kafka_produce.c - handing a Kafka sink's messages to librdkafka, and
 * committing their rows' cursors once their delivery is confirmed.
 *
 * Delivery is confirmed in the background: the messages produced between
 * two checkpoints make an epoch, which a checkpoint closes with its
 * cursors; they are committed once every message of that epoch and of the
 * ones before has a successful report: at a later checkpoint, when the
 * input is idle (the event pipe wakes the writer when reports come), or at
 * finish, which waits for every report. The first failed report fails the
 * run, and nothing is committed from then on. With sync, each row is
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
 * committed, and the error says how many messages that is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_kafka_impl.h"
#include "util.h"

#define POLL_FULL_MS 100        /* the producer queue is full: serve reports, retry */
#define POLL_EVERY 1024         /* messages between two servings of the reports */
#define FLUSH_STEP_MS 100       /* one rd_kafka_flush call: a signal is seen that soon */
#define FLUSH_SLACK_MS 10000    /* past message.timeout.ms, a report is overdue */
#define STOP_WAIT_MS 5000       /* after a stop signal, wait this long for reports */
#define PARTITIONS_LOOK_MS 10000    /* how often to look at the topic's partitions */
#define METADATA_WAIT_MS 500        /* for one look */

void sk_ksink_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct sk_ksink *ks = opaque;
	(void)rk;
	sk_epochs_confirmed(&ks->epochs, (uint64_t)(uintptr_t)m->_private);
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR || ks->failed != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	ks->failed = m->err;
	ks->failpart = m->partition;
	snprintf(ks->failmsg, sizeof ks->failmsg, "%s", rd_kafka_err2str(m->err));
}

/* A failed delivery or a fatal error, as the run's error; 0 when none. */
int sk_ksink_check_failed(struct sk_ksink *ks, sk_err *e)
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

static uint64_t unconfirmed(const struct sk_ksink *ks)
{
	return sk_epochs_unconfirmed(&ks->epochs);
}

/* Wait for the report of every message produced so far: within
 * message.timeout.ms (and a slack), after a stop signal within
 * STOP_WAIT_MS, after a second one not at all. */
int sk_ksink_drain(struct sk_ksink *ks, sk_err *e)
{
	int64_t now = sk_now_ms(), deadline = now + ks->timeout_ms + FLUSH_SLACK_MS, stop_at = -1;

	while (rd_kafka_outq_len(ks->rk) > 0) {
		if (sk_ksink_check_failed(ks, e) < 0)
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
	return sk_ksink_check_failed(ks, e);
}

/* Commit the closed epochs whose messages, and every earlier one's, are
 * confirmed; nothing once a delivery failed. */
int sk_ksink_commit_confirmed(sk_sink *k, sk_err *e)
{
	struct sk_ksink *ks = k->impl;

	if (sk_ksink_check_failed(ks, e) < 0)
		return -1;
	return sk_epochs_commit(&ks->epochs, k, e);
}

/* Hand one message to librdkafka, as part of the open epoch. Without
 * headers or a timestamp, the older call, which takes a fifth less time
 * than producev. */
static rd_kafka_resp_err_t enqueue(struct sk_ksink *ks, const void *key, size_t klen, const void *val, size_t vlen,
                                   int32_t part, int64_t ts, rd_kafka_headers_t *h)
{
	void *epoch = (void *)(uintptr_t)sk_epochs_current(&ks->epochs);

	if (h == NULL && ts == 0)
		return rd_kafka_produce(ks->rkt, part, RD_KAFKA_MSG_F_COPY, (void *)val, vlen, key, klen, epoch) < 0
		       ? rd_kafka_last_error() : RD_KAFKA_RESP_ERR_NO_ERROR;
	return rd_kafka_producev(ks->rk, RD_KAFKA_V_RKT(ks->rkt), RD_KAFKA_V_PARTITION(part),
	                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)val, vlen),
	                         RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(h),
	                         RD_KAFKA_V_OPAQUE(epoch), RD_KAFKA_V_END);
}

/* librdkafka refused a message: the run's error. */
static int refused(struct sk_ksink *ks, rd_kafka_resp_err_t err, int32_t part, size_t vlen, sk_err *e)
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
static int queue_full(struct sk_ksink *ks, sk_err *e)
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
static void produced(struct sk_ksink *ks, size_t n)
{
	sk_epochs_sent(&ks->epochs, n);
	ks->unpolled += (unsigned)n;
	if (ks->unpolled >= POLL_EVERY) {
		ks->unpolled = 0;
		rd_kafka_poll(ks->rk, 0);
	}
}

/* The partitions of the topic with a leader, looked at every
 * PARTITIONS_LOOK_MS; a failed look keeps the last. */
static void look_at_partitions(struct sk_ksink *ks)
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
static int32_t batch_partition(struct sk_ksink *ks, size_t rows, size_t bytes)
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
int sk_ksink_produce_batch(struct sk_ksink *ks, sk_err *e)
{
	rd_kafka_message_t *m = ks->batch;
	size_t i, n = ks->nbatch, done;
	void *epoch = (void *)(uintptr_t)sk_epochs_current(&ks->epochs);
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
int sk_ksink_produce(struct sk_ksink *ks, const void *key, size_t klen, const void *val, size_t vlen,
                     int32_t part, int64_t ts, rd_kafka_headers_t *h, sk_err *e)
{
	rd_kafka_resp_err_t err;

	if (ks->nbatch > 0 && sk_ksink_produce_batch(ks, e) < 0)
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
	return ks->sync ? sk_ksink_drain(ks, e) : 0;
fail:
	if (h)
		rd_kafka_headers_destroy(h);
	return -1;
}
