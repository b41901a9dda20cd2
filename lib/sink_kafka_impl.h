/* sink_kafka_impl.h - what the parts of the Kafka sink share:
 * sink_kafka.c (the producer's settings, opening, the sink's operations)
 * and kafka_produce.c (producing, delivery reports, commits). */
#ifndef SK_SINK_KAFKA_IMPL_H
#define SK_SINK_KAFKA_IMPL_H

#include <signal.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#include "sink_impl.h"
#include "kafka_conf.h"
#include "kafka_message.h"
#include "sink_epochs.h"
#include "util.h"

#define BATCH_ROWS 1024         /* rows given as text, handed to librdkafka at once */

/* The sink's own state (sk_sink's impl). */
struct sk_ksink {
	char *topic;
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	sk_kafka_exprs x;           /* what makes a row's message */
	int sync;
	unsigned unpolled;          /* messages produced since the reports were served */
	int64_t timeout_ms;         /* message.timeout.ms: each report comes within it */
	volatile sig_atomic_t *stop;
	int events[2];              /* a pipe librdkafka writes to when reports come */
	sk_epochs epochs;           /* a message's opaque is its epoch's number */
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

/* kafka_produce.c */
/* librdkafka's delivery report callback (opaque: the sink). */
void sk_ksink_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
/* A failed delivery or a fatal error, as the run's error; 0 when none. */
int sk_ksink_check_failed(struct sk_ksink *ks, sk_err *e);
/* Wait for the report of every message produced so far (bounded). */
int sk_ksink_drain(struct sk_ksink *ks, sk_err *e);
/* Commit the closed epochs whose messages, and every earlier one's, are
 * confirmed. */
int sk_ksink_commit_confirmed(sk_sink *k, sk_err *e);
/* Hand the rows given as text to librdkafka. */
int sk_ksink_produce_batch(struct sk_ksink *ks, sk_err *e);
/* Produce one message (value NULL: a tombstone); h is taken. */
int sk_ksink_produce(struct sk_ksink *ks, const void *key, size_t klen, const void *val, size_t vlen,
                     int32_t part, int64_t ts, rd_kafka_headers_t *h, sk_err *e);

#endif
