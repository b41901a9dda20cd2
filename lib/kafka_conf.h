/* kafka_conf.h - librdkafka settings, as the Kafka source and sink take
 * them: later ones winning, the endpoint's kafka.KEY settings in the
 * endpoints file, the properties file (KEY=VALUE lines) and -X KEY=VALUE.
 * Values are never quoted in messages: they may be secrets. The values of
 * settings whose names may hold secrets (sk_secret_name) are also removed
 * from what librdkafka says (sk_kafka_redact), and from its debug log. */
#ifndef SK_KAFKA_CONF_H
#define SK_KAFKA_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include "err.h"
#include "endpoint.h"
#include "options.h"

/* Set one setting; EX_CONFIG naming where (may be NULL: the key alone
 * then) and the key, and why: an unknown property, or an invalid value
 * with the values or range librdkafka accepts. */
int sk_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *where,
                      sk_err *e);
/* What librdkafka's table of properties says key accepts ("plaintext,
 * ssl, sasl_plaintext, sasl_ssl", "1 .. 1000000"), into out: 0, or -1
 * when it says nothing. */
int sk_kafka_property_range(const char *key, char *out, size_t size);
/* in, with every value set so far of a setting that may hold a secret
 * replaced by "[redacted]", into out (truncated to size): its length.
 * For any text of librdkafka's that is to be printed or kept. */
size_t sk_kafka_redact(const char *in, char *out, size_t size);
typedef void sk_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque);
/* A new configuration for ep's brokers (bootstrap.servers) naming the
 * client client_id, with opaque and the error callback on_error. */
int sk_kafka_conf_new(const sk_endpoint *ep, const char *client_id, void *opaque, sk_kafka_error_cb *on_error,
                      rd_kafka_conf_t **out, sk_err *e);
/* Apply, in order, ep's kafka.* settings, the properties file config_file
 * (may be NULL) and the n -X "KEY=VALUE" props; then, when the settings
 * ask for librdkafka's debug log, let it print that on stderr, cleaned of
 * secrets (otherwise a library prints nothing). Errors name the place:
 * "FILE:LINE: [NAME] kafka.KEY", "FILE:LINE: KEY", "-X KEY". */
int sk_kafka_conf_apply(rd_kafka_conf_t *conf, const sk_endpoint *ep, const char *config_file,
                        const char *const *props, size_t n, sk_err *e);
/* -X KEY=VALUE and -F FILE: the rows every role of Kafka endpoints shares
 * (the source's and the sink's option groups, stream-checkpoint lag's),
 * as an sk_option_group's shared rows. */
extern const sk_option sk_kafka_conf_options[];
/* sk_kafka_conf_apply with the -F file and the -X settings of given (the
 * options given for a group that shares sk_kafka_conf_options; may be NULL). */
int sk_kafka_conf_apply_given(rd_kafka_conf_t *conf, const sk_endpoint *ep, const sk_kindopts *given,
                              sk_err *e);
/* Say once, on stderr (a warning), that brokers did not answer at once and
 * are being waited for, and how long at most (bound_ms; 0: no end). */
void sk_kafka_waiting(const char *brokers, const char *topic, int64_t bound_ms);

/* The consumer's own settings, set before the user's so that each can be
 * overridden: a prefetch bounded at SK_KAFKA_PREFETCH_KB kilobytes
 * (librdkafka's default is 64 MB, and a fetch response as large), and
 * empty fetches answered after 100 ms, so that the end of a partition is
 * seen that soon after its last message (--exit-at-end). */
#define SK_KAFKA_PREFETCH_KB 1024
int sk_kafka_conf_consumer(rd_kafka_conf_t *conf, sk_err *e);

/* librdkafka 2.0.2 stops fetching from a broker once the consumer queue
 * holds queued.min.messages or queued.max.messages.kbytes, and looks again
 * only when something wakes that broker's thread, at the latest a second
 * later: a reader that empties the queue in less waits out the rest (kcat
 * -J reads 140k messages/s so). A request to a broker wakes its thread, so
 * once the queue was near a bound and has drained to half of it, a
 * ListOffsets request no one waits for goes to each broker messages came
 * from (librdkafka 2.1's fetch.queue.backoff.ms does this properly). */
#define SK_KAFKA_REFILL_BROKERS 16
typedef struct sk_kafka_refill {
	int64_t max_msgs, max_bytes;    /* the queue's bounds; 0: not read yet */
	double avg_bytes;               /* per message taken, a moving average */
	int full;                       /* near a bound since the last wake-up */
	struct sk_kafka_sender {
		int32_t broker, partition;
		char topic[256];        /* Kafka's limit is 249 bytes */
	} senders[SK_KAFKA_REFILL_BROKERS];   /* a partition of each broker */
	int nsenders;
} sk_kafka_refill;

/* After taking batch[0..n) (messages and events) from q, the queue of rk's
 * consumer: wake the brokers when it is time. r starts zeroed. */
void sk_kafka_refill_taken(sk_kafka_refill *r, rd_kafka_t *rk, rd_kafka_queue_t *q,
                           rd_kafka_message_t *const *batch, size_t n);

/* rd_kafka_new(type, conf) (conf is consumed, also on failure) and a
 * handle on topic, which asks for the topic's metadata at once (topic
 * NULL: no handle, *rkt NULL). */
int sk_kafka_client(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *topic,
                    rd_kafka_t **rk, rd_kafka_topic_t **rkt, sk_err *e);

#endif
