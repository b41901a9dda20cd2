/* kafka_lag.h - how far a recipe is behind a Kafka topic, for
 * `stream-checkpoint lag`: each partition's committed position next to the
 * topic's watermarks, asked of the brokers the recipe read from (the
 * endpoint stream-read recorded) within a bounded time. */
#ifndef SK_KAFKA_LAG_H
#define SK_KAFKA_LAG_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "state.h"

typedef struct sk_kafka_lag_opts {
	const char *endpoints_file;      /* for endpoints recorded by name; NULL: the default */
	const char *config_file;         /* librdkafka properties file, or NULL */
	const char *const *props;        /* -X "KEY=VALUE", in order */
	size_t nprops;
	int64_t timeout_ms;              /* bound on asking the brokers of one source */
} sk_kafka_lag_opts;

/* One partition: stored, in the topic, or both. */
typedef struct sk_kafka_lag_row {
	const char *partition;    /* as stored, or the topic's partition number */
	const char *position;     /* the committed offset as stored, or NULL */
	int has_end, has_lag;
	int64_t end;              /* the high watermark: the offset of the next message */
	int64_t lag;              /* messages a resumed reader has still to read */
} sk_kafka_lag_row;

/* Non-zero stops the listing, and sk_kafka_lag returns it. */
typedef int (*sk_kafka_lag_cb)(void *arg, const sk_kafka_lag_row *row);

/* The messages of a partition whose log holds [low, high) that a reader
 * resuming after offset position (-1: no position, it starts at low) has
 * still to read; negative when position is beyond the end (the topic was
 * recreated). */
int64_t sk_kafka_lag_count(int64_t position, int64_t low, int64_t high);

/* The endpoint to ask about source ("kafka:TOPIC") for name: the one
 * stream-read recorded for it, else the one recorded for a topic pattern of
 * name ("kafka:^REGEX", a group reading several topics) that matches TOPIC.
 * 1 and *endpoint (malloc'd), 0 when there is none, -1 on error. */
int sk_kafka_lag_endpoint(sk_state *st, const char *name, const char *source, char **endpoint,
                          sk_err *e);

/* The partitions of source ("kafka:TOPIC") for name, in partition order:
 * those with a stored position and every partition of the topic, which the
 * brokers of endpoint (as recorded; its topic may be a pattern: TOPIC is
 * asked) are asked about, each partition's leader given a second at most.
 * endpoint NULL: no end is known, the stored positions are listed. Returns
 * 0, or the non-zero return of cb, or -1 when some end could not be asked
 * (every row has been listed, those without an end too): EX_CONFIG for an
 * endpoint that does not resolve to a Kafka endpoint or bad settings,
 * EX_UNAVAILABLE for brokers that did not answer within o->timeout_ms or a
 * topic they do not have, EX_OSERR; the message starts with the endpoint. */
int sk_kafka_lag(sk_state *st, const char *name, const char *source, const char *endpoint,
                 const sk_kafka_lag_opts *o, sk_kafka_lag_cb cb, void *arg, sk_err *e);

#endif
