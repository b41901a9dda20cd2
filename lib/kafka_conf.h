/* kafka_conf.h - librdkafka settings, as the Kafka source and sink take
 * them: later ones winning, the endpoint's kafka.KEY settings in the
 * endpoints file, the properties file (KEY=VALUE lines) and -X KEY=VALUE.
 * Values are never quoted in messages: they may be secrets. */
#ifndef SK_KAFKA_CONF_H
#define SK_KAFKA_CONF_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include "err.h"
#include "endpoint.h"

/* Set one setting; EX_CONFIG with librdkafka's message after "where: ". */
int sk_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *where,
                      sk_err *e);
/* Apply, in order, ep's kafka.* settings, the properties file config_file
 * (may be NULL) and the n -X "KEY=VALUE" props; then, unless the settings
 * ask for librdkafka's debug log, silence librdkafka's log (a library
 * prints nothing). */
int sk_kafka_conf_apply(rd_kafka_conf_t *conf, const sk_endpoint *ep, const char *config_file,
                        const char *const *props, size_t n, sk_err *e);

/* rd_kafka_new(type, conf) (conf is consumed, also on failure) and a
 * handle on topic, which asks for the topic's metadata at once. */
int sk_kafka_client(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *topic,
                    rd_kafka_t **rk, rd_kafka_topic_t **rkt, sk_err *e);

#endif
