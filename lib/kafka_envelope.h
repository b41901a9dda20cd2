/* kafka_envelope.h - a Kafka message as stream-read's envelope:
 *   {"topic":T,"partition":P,"offset":O,"timestamp":MS,
 *    "timestamp_type":"create"|"log_append"|null,"key":K,"value":V,
 *    "headers":{NAME:VALUE,...},"_cursor":"kafka:T:P:O"}
 * A null key or value is null; a header name that occurs more than once
 * maps to the array of its values, in order. The cursor's position is the
 * message's own offset: a restarted reader resumes at offset + 1. */
#ifndef SK_KAFKA_ENVELOPE_H
#define SK_KAFKA_ENVELOPE_H

#include <stddef.h>
#include <librdkafka/rdkafka.h>
#include "err.h"
#include "json.h"
#include "source.h"
#include "util.h"

typedef struct sk_kafka_env {
	int json;           /* embed values that are JSON text */
	int base64;         /* key and value as base64 */
	size_t max_line;    /* longer values are bad messages */
	sk_json *jp;        /* for json */
	sk_json_kept value; /* what jp read of the last value (sk_json_keep_values) */
	sk_buf env, cursor; /* the last envelope and its cursor */
	/* What depends on the topic alone, written once per topic: the
	 * envelope's start up to the partition, and the cursor's start, as
	 * is and as JSON text. */
	char *topic;
	sk_buf head, cursor_head, cursor_json;
} sk_kafka_env;

/* 0, or -1 out of memory. */
int sk_kafka_env_init(sk_kafka_env *k, int json, int base64, size_t max_line, sk_err *e);
void sk_kafka_env_free(sk_kafka_env *k);
/* km (a message, not an event) into *m, valid until the next call: 1; or
 * -1: EX_DATAERR for a message longer than max_line (m->env locates it,
 * m->cursor is NULL), EX_OSERR out of memory. */
int sk_kafka_envelope(sk_kafka_env *k, rd_kafka_message_t *km, sk_msg *m, sk_err *e);

#endif
