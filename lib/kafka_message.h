/* kafka_message.h - the message a Kafka sink makes of a row: its key,
 * value, partition, timestamp and headers, from the expressions of
 * --key, --value, --partition, --timestamp, --header and --headers (see
 * kafka_message.c). For sink_kafka.c and its unit tests; tools use
 * sink.h only. */
#ifndef SK_KAFKA_MESSAGE_H
#define SK_KAFKA_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <librdkafka/rdkafka.h>

#include "err.h"
#include "options.h"
#include "program.h"
#include "sink.h"
#include "util.h"

struct sk_kafka_header {
	char *name;
	sk_program *p;
};

/* The expressions, compiled; zeroed before sk_kafka_exprs_compile. */
typedef struct sk_kafka_exprs {
	sk_program *key, *value, *partition, *timestamp, *headers_obj;
	struct sk_kafka_header *headers;
	size_t nheaders;
	int base64;                 /* string keys and values are base64 text, sent decoded */
	sk_buf buf, kbuf, vbuf;
} sk_kafka_exprs;

/* A message made of a row; its bytes are valid until the next row. */
typedef struct sk_kafka_message {
	const void *key, *value;    /* NULL: no key; a tombstone */
	size_t klen, vlen;
	int32_t partition;          /* RD_KAFKA_PARTITION_UA: librdkafka's partitioner */
	int64_t timestamp;          /* 0: the time of sending */
	rd_kafka_headers_t *headers;    /* NULL: none; the caller's to free or hand on */
} sk_kafka_message;

/* Compile the expressions given (--key ... --headers, with the variables
 * args, which may be NULL) and read --binary (EX_USAGE for a --header
 * without NAME=EXPR or a bad --binary; an expression's error prefixed with
 * its option). */
int sk_kafka_exprs_compile(sk_kafka_exprs *x, const sk_kindopts *given, const sk_program_args *args,
                           sk_err *e);
/* 1 when no expression is given: a row's message is its JSON text alone. */
int sk_kafka_exprs_none(const sk_kafka_exprs *x);
/* The message of row into *m: 0, or -1 (EX_DATAERR: an expression
 * failed on this row, or gave what cannot be a key, a partition, ...). */
int sk_kafka_message_of(sk_kafka_exprs *x, json_object *row, sk_kafka_message *m, sk_err *e);
void sk_kafka_exprs_free(sk_kafka_exprs *x);

#endif
