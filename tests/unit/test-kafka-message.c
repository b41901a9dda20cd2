/* test-kafka-message.c - the message a Kafka sink makes of a row: key,
 * value, partition, timestamp and headers from expressions, base64, and
 * the errors that refuse one row. */
#include <string.h>

#include "kafka_message.h"
#include "tap.h"

/* The options given, as the parser leaves them. */
#define OPTS(...) ((sk_kindopts){ (sk_optval[]){ __VA_ARGS__ }, \
                                  sizeof((sk_optval[]){ __VA_ARGS__ }) / sizeof(sk_optval) })

/* The expressions of o over the JSON row text: 0 and *m, or -1 and *e. */
static int make(const sk_kindopts *o, const char *text, sk_kafka_exprs *x, sk_kafka_message *m, sk_err *e)
{
	json_object *row = json_tokener_parse(text);
	int rc;

	memset(x, 0, sizeof *x);
	sk_err_clear(e);
	rc = sk_kafka_exprs_compile(x, o, NULL, e) < 0 ? -1 : sk_kafka_message_of(x, row, m, e);
	json_object_put(row);
	return rc;
}

static int bytes_are(const void *p, size_t n, const char *want)
{
	return p != NULL && n == strlen(want) && memcmp(p, want, n) == 0;
}

/* The value of header i of m, and its name in *name. */
static const char *header(const sk_kafka_message *m, size_t i, const char **name)
{
	const void *v = NULL;
	size_t n = 0;

	if (m->headers == NULL || rd_kafka_header_get_all(m->headers, i, name, &v, &n) != 0)
		return "(none)";
	return v ? v : "(null)";
}

static void plain_rows(void)
{
	sk_kindopts o = { 0 };
	sk_kafka_exprs x;
	sk_kafka_message m;
	sk_err e;

	ok(make(&o, "{\"a\":1}", &x, &m, &e) == 0, "a row without expressions");
	ok(sk_kafka_exprs_none(&x), "has none");
	ok(bytes_are(m.value, m.vlen, "{\"a\":1}"), "its value is its JSON text");
	ok(m.key == NULL && m.klen == 0, "no key");
	is_int(m.partition, RD_KAFKA_PARTITION_UA, "librdkafka's partitioner");
	is_int(m.timestamp, 0, "the time of sending");
	ok(m.headers == NULL, "no headers");
	sk_kafka_exprs_free(&x);
}

static void expressions(void)
{
	sk_kindopts o = OPTS({ "key", ".id" }, { "value", ".body" }, { "partition", ".p" }, { "timestamp", ".t" },
	                     { "header", "src=.src" }, { "header", "n=.n" }, { "header", "none=.missing" });
	const char *name = NULL;
	sk_kafka_exprs x;
	sk_kafka_message m;
	sk_err e;

	if (!ok(make(&o, "{\"id\":\"k1\",\"body\":{\"x\":[1,2]},\"p\":3,\"t\":1700000000000,\"src\":\"web\","
	             "\"n\":7}", &x, &m, &e) == 0, "every expression (%s)", e.msg))
		return;
	ok(!sk_kafka_exprs_none(&x), "with expressions");
	ok(bytes_are(m.key, m.klen, "k1"), "a string key is its bytes");
	ok(bytes_are(m.value, m.vlen, "{\"x\":[1,2]}"), "a value that is not a string is its JSON text");
	is_int(m.partition, 3, "the partition");
	is_int(m.timestamp, 1700000000000LL, "the timestamp");
	is_str(header(&m, 0, &name), "web", "a header is its string");
	is_str(name, "src", "under its name");
	is_str(header(&m, 1, &name), "7", "a number is its text");
	is_str(header(&m, 2, &name), "(null)", "no result: a null header");
	rd_kafka_headers_destroy(m.headers);
	sk_kafka_exprs_free(&x);

	o = OPTS({ "value", ".gone" });
	ok(make(&o, "{\"a\":1}", &x, &m, &e) == 0 && m.value == NULL && m.vlen == 0,
	   "a value expression without a result: a tombstone");
	sk_kafka_exprs_free(&x);
}

static void header_objects(void)
{
	sk_kindopts o = OPTS({ "headers", ".h" });
	const char *name = NULL;
	sk_kafka_exprs x;
	sk_kafka_message m;
	sk_err e;

	if (!ok(make(&o, "{\"h\":{\"a\":\"1\",\"b\":[\"2\",\"3\"],\"c\":null}}", &x, &m, &e) == 0,
	        "--headers gives an object (%s)", e.msg))
		return;
	is_str(header(&m, 0, &name), "1", "a name and its value");
	is_str(header(&m, 1, &name), "2", "a repeated name's values in order (1)");
	is_str(name, "b", "under that name");
	is_str(header(&m, 2, &name), "3", "a repeated name's values in order (2)");
	is_str(header(&m, 3, &name), "(null)", "null: a null header");
	rd_kafka_headers_destroy(m.headers);
	sk_kafka_exprs_free(&x);

	ok(make(&o, "{\"h\":{}}", &x, &m, &e) == 0 && m.headers == NULL, "an empty object: no headers at all");
	sk_kafka_exprs_free(&x);
	ok(make(&o, "{\"h\":[1]}", &x, &m, &e) < 0 && e.code == EX_DATAERR, "anything else is refused");
	is_str(e.msg, "--headers: expected an object (NAME: value or [values]), got array", "saying what it got");
	sk_kafka_exprs_free(&x);
}

static void base64(void)
{
	sk_kindopts o = OPTS({ "key", ".k" }, { "value", ".v" }, { "binary", "base64" });
	sk_kafka_exprs x;
	sk_kafka_message m;
	sk_err e;

	ok(make(&o, "{\"k\":\"AAE=\",\"v\":\"aGk=\"}", &x, &m, &e) == 0, "base64 key and value (%s)", e.msg);
	ok(m.klen == 2 && memcmp(m.key, "\0\1", 2) == 0, "are sent decoded");
	ok(bytes_are(m.value, m.vlen, "hi"), "both of them");
	sk_kafka_exprs_free(&x);
	ok(make(&o, "{\"k\":\"AAE=\",\"v\":\"aGk\"}", &x, &m, &e) < 0 && e.code == EX_DATAERR, "text that is not base64");
	is_str(e.msg, "--value: not base64 (--binary=base64)", "is refused, naming the option");
	sk_kafka_exprs_free(&x);
	ok(make(&o, "{\"k\":\"AAF=\",\"v\":\"aGk=\"}", &x, &m, &e) < 0, "padding bits that are not zero");
	sk_kafka_exprs_free(&x);
	ok(make(&o, "{\"k\":1,\"v\":\"aGk=\"}", &x, &m, &e) == 0 && bytes_are(m.key, m.klen, "1"),
	   "a key that is not a string is its JSON text");
	sk_kafka_exprs_free(&x);
}

static void refusals(void)
{
	sk_kindopts o = OPTS({ "partition", ".p" });
	sk_kafka_exprs x;
	sk_kafka_message m;
	sk_err e;

	ok(make(&o, "{\"p\":-1}", &x, &m, &e) < 0 && e.code == EX_DATAERR, "a negative partition");
	is_str(e.msg, "--partition: -1 is not a partition", "is refused");
	sk_kafka_exprs_free(&x);
	o = OPTS({ "timestamp", ".t" });
	ok(make(&o, "{\"t\":-5}", &x, &m, &e) < 0 && e.code == EX_DATAERR, "a timestamp before 1970");
	is_str(e.msg, "--timestamp: -5 is before 1970", "is refused");
	sk_kafka_exprs_free(&x);
	o = OPTS({ "header", "noequals" });
	ok(make(&o, "{}", &x, &m, &e) < 0 && e.code == EX_USAGE, "--header without NAME=EXPR");
	is_str(e.msg, "--header 'noequals': expected NAME=EXPR", "is a usage error");
	sk_kafka_exprs_free(&x);
	o = OPTS({ "key", ".[" });
	ok(make(&o, "{}", &x, &m, &e) < 0 && strncmp(e.msg, "--key", 5) == 0,
	   "an expression that does not compile names its option (%s)", e.msg);
	sk_kafka_exprs_free(&x);
}

int main(void)
{
	plain_rows();
	expressions();
	header_objects();
	base64();
	refusals();
	return tap_done();
}
