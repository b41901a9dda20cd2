/* source_kafka_impl.h - what the parts of the Kafka source share:
 * source_kafka.c (opening, where partitions start, the source's
 * operations), kafka_group.c (consumer groups) and kafka_consume.c
 * (taking messages from librdkafka). */
#ifndef SK_SOURCE_KAFKA_IMPL_H
#define SK_SOURCE_KAFKA_IMPL_H

#include <stdint.h>
#include <sys/types.h>

#include <librdkafka/rdkafka.h>

#include "source_impl.h"
#include "kafka_conf.h"
#include "kafka_envelope.h"

#define BATCH 1024                  /* messages taken from librdkafka at once */
#define OFFSETS_TIMEOUT_MS 10000    /* offsets for times */

/* A partition read now or before. */
struct sk_kafka_part {
	char *topic;
	int32_t partition;
	unsigned char assigned;     /* being read now */
	unsigned char at_end;       /* EOF seen, nothing since */
	int64_t emitted;            /* offset of the last message returned, -1: none */
	int64_t committed;          /* group mode: next offset the group has, -1: unknown */
	int64_t stored;             /* group mode: next offset in librdkafka's offset store */
};

/* The source's own state (sk_source's impl). */
struct sk_kafka_src {
	char *arg;                  /* the endpoint as written, for messages */
	char *topic;                /* a topic, or a ^regex in group mode */
	char *group;                /* NULL: assign mode */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;      /* assign mode, and group mode on one topic */
	rd_kafka_queue_t *q;
	struct sk_kafka_part *parts;
	int nparts, cap, last;      /* last: the index found last */
	int started;                /* assign mode: partitions whose consume_start succeeded */
	/* group mode */
	const sk_source_opts *o;    /* --name, the store, --from, the flush hook */
	int64_t drain_ms;           /* --drain-timeout */
	int assigned_once;          /* a first assignment came */
	int closing;                /* the output is closed: drain without flushing */
	sk_source_opts from;        /* --from, or the URL's offset= */
	int64_t next_store_ms;
	sk_err cb_err;              /* a failure inside a rebalance callback */
	int cb_failed;
	rd_kafka_message_t *batch[BATCH];
	ssize_t nbatch, ibatch;
	sk_kafka_env kenv;
	sk_kafka_refill refill;     /* see take_batch (kafka_consume.c) */
	char fatal[256];            /* a fatal error from librdkafka's error callback */
};

/* source_kafka.c */
/* The index of topic's partition p, or -1. */
int sk_kafka_find_part(struct sk_kafka_src *ks, const char *topic, int32_t p);
/* The stored position of topic's partition p under --name, plus one, in
 * *next: 1; 0 when none is stored; -1 on error. */
int sk_kafka_stored_next(struct sk_kafka_src *ks, const char *topic, int32_t p, int64_t *next, sk_err *e);
/* Where each partition of l starts, into its offset. */
int sk_kafka_where_to_start(struct sk_kafka_src *ks, rd_kafka_topic_partition_list_t *l, sk_err *e);
/* The topic's partition count, waiting a bounded time for brokers. */
int sk_kafka_topic_partitions(struct sk_kafka_src *ks, int *n, sk_err *e);

/* kafka_group.c */
/* librdkafka's callbacks for rebalances and commits (opaque: the source). */
void sk_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                           void *opaque);
void sk_kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                        void *opaque);
/* Join the group: subscribe to the topic or pattern. */
int sk_kafka_group_open(struct sk_kafka_src *ks, const sk_endpoint *ep, sk_err *e);
/* What the checkpoint covers of the partitions of l (NULL: every assigned
 * one), committed, or (store) handed to librdkafka's offset store. */
int sk_kafka_commit_covered(struct sk_kafka_src *ks, const rd_kafka_topic_partition_list_t *l, int store,
                            sk_err *e);
/* The source's drain operation. */
int sk_kafka_group_drain(sk_source *s, sk_err *e);

/* kafka_consume.c: the source's next operation. */
int sk_kafka_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e);

#endif
