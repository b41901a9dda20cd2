/* source_kafka.h - the Kafka source's pure parts, for its unit tests.
 * Tools use source.h only. */
#ifndef SK_SOURCE_KAFKA_H
#define SK_SOURCE_KAFKA_H

#include <stdint.h>
#include "source.h"

/* The librdkafka start offset for --from (SK_FROM_TIME: the end, until
 * offsets for times say better). */
int64_t sk_kafka_start_offset(enum sk_from from, int64_t value);
/* The start offset for a partition's answer to offsets-for-times: the
 * offset, or the end when Kafka answers -1 (no message that recent). */
int64_t sk_kafka_time_offset(int64_t answer);

#endif
