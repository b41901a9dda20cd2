/* test-sqs-message.c - the message an SQS sink makes of a row: its body,
 * ids, delay and attributes from expressions, and what SQS would refuse
 * of it, refused here as a bad row (EX_DATAERR) with a message saying why. */
#include <string.h>

#include "sink_sqs_impl.h"
#include "tap.h"

/* The options given, as the parser leaves them. */
#define OPTS(...) ((sk_kindopts){ (sk_optval[]){ __VA_ARGS__ }, \
                                  sizeof((sk_optval[]){ __VA_ARGS__ }) / sizeof(sk_optval) })

/* A queue that takes max bytes a message; fifo, deduplicating by content or not. */
static void queue(struct sk_sqs_sink *s, long max, int fifo, int content_dedup)
{
	memset(s, 0, sizeof *s);
	s->max_size = max;
	s->queue.fifo = fifo;
	s->content_dedup = content_dedup;
}

/* The message of the JSON row text under the options o: 0 and *m, or -1 and *e. */
static int make(struct sk_sqs_sink *s, const sk_kindopts *o, const char *text, struct sk_sqs_out **m, sk_err *e)
{
	json_object *row = json_tokener_parse(text);
	int rc;

	*m = NULL;
	sk_err_clear(e);
	rc = sk_sqs_exprs_compile(&s->x, o, NULL, e) < 0 ? -1 : sk_sqs_message_of(s, row, NULL, 0, m, e);
	json_object_put(row);
	sk_sqs_exprs_free(&s->x);
	return rc;
}

static void out_free(struct sk_sqs_out *m)
{
	if (m) {
		free(m->attrs);
		free(m);
	}
}

static int body_is(const struct sk_sqs_out *m, const char *want)
{
	return m && m->entry.body_len == strlen(want) && memcmp(m->entry.body, want, m->entry.body_len) == 0;
}

static void plain_rows(void)
{
	struct sk_sqs_sink s;
	sk_kindopts o = { 0 };
	struct sk_sqs_out *m;
	sk_err e;

	queue(&s, 1024, 0, 0);
	if (!ok(make(&s, &o, "{\"a\":1,\"s\":\"é\\n\"}", &m, &e) == 0, "a row without expressions (%s)", e.msg))
		return;
	ok(body_is(m, "{\"a\":1,\"s\":\"é\\n\"}"), "its body is its JSON text");
	ok(m->entry.group_id == NULL && m->entry.deduplication_id == NULL, "no ids");
	is_int(m->entry.delay_seconds, -1, "the queue's own delay");
	is_int(m->entry.n_attrs, 0, "no attributes");
	out_free(m);
	ok(sk_sqs_message_of(&s, NULL, "{\"t\":1}", 7, &m, &e) == 0 && body_is(m, "{\"t\":1}"),
	   "a row given as text is its body as it is");
	out_free(m);
}

static void expressions(void)
{
	sk_kindopts o = OPTS({ "value", ".v" }, { "group-id", ".g" }, { "deduplication-id", ".n" },
	                     { "attributes", "{s: .v, n: .n, b: {type: \"Binary\", value: \"AAEC\"}, x: null, "
	                       "c: {type: \"Number.int\", value: 7}}" });
	struct sk_sqs_sink s;
	struct sk_sqs_out *m;
	sk_err e;

	queue(&s, 1024, 1, 0);
	if (!ok(make(&s, &o, "{\"v\":\"text\",\"g\":\"grp\",\"n\":2.5}", &m, &e) == 0, "every expression (%s)",
	        e.msg))
		return;
	ok(body_is(m, "text"), "a string body is its bytes");
	is_str(m->entry.group_id, "grp", "the group id");
	is_str(m->entry.deduplication_id, "2.5", "a number id is its JSON text");
	is_int(m->entry.n_attrs, 4, "four attributes, the null one left out");
	is_str(m->attrs[0].type, "String", "a string is a String attribute");
	is_str(m->attrs[1].type, "Number", "a number a Number");
	is_str(m->attrs[1].value, "2.5", "of its JSON text");
	is_str(m->attrs[2].type, "Binary", "a Binary attribute");
	ok(m->attrs[2].value_len == 3 && memcmp(m->attrs[2].value, "\0\1\2", 3) == 0, "is its base64 decoded");
	is_str(m->attrs[3].type, "Number.int", "a custom type is kept");
	is_str(m->attrs[3].value, "7", "and a number value of a Number type is its text");
	out_free(m);
	o = OPTS({ "value", ".v" });
	queue(&s, 1024, 0, 0);
	ok(make(&s, &o, "{\"v\":{\"x\":[1]}}", &m, &e) == 0 && body_is(m, "{\"x\":[1]}"),
	   "a body that is not a string is its JSON text");
	out_free(m);
	o = OPTS({ "delay", ".d" });
	ok(make(&s, &o, "{\"d\":900}", &m, &e) == 0 && m->entry.delay_seconds == 900, "a delay of 900 s");
	out_free(m);
}

/* make must refuse the row with EX_DATAERR and a message starting with want. */
static void refused(struct sk_sqs_sink *s, const sk_kindopts *o, const char *row, const char *want)
{
	struct sk_sqs_out *m;
	sk_err e;

	if (!ok(make(s, o, row, &m, &e) < 0 && e.code == EX_DATAERR, "%s is refused", row))
		out_free(m);
	else
		ok(strncmp(e.msg, want, strlen(want)) == 0, "saying \"%s\" (%s)", want, e.msg);
}

static void refusals(void)
{
	struct sk_sqs_sink s;
	sk_kindopts none = { 0 }, value = OPTS({ "value", ".v" }), attrs = OPTS({ "attributes", ".a" }),
	            ids = OPTS({ "group-id", ".g" }, { "deduplication-id", ".d" }, { "delay", ".t" });
	struct sk_sqs_out *m;
	sk_err e;
	char row[2100];

	queue(&s, 1024, 0, 0);
	memset(row, 0, sizeof row);
	strcpy(row, "{\"s\":\"");
	memset(row + 6, 'x', 1012);
	strcpy(row + 1018, "\"}");
	ok(make(&s, &none, row, &m, &e) == 0 && m->entry.body_len == 1020, "1020 bytes fit in 1024");
	out_free(m);
	memset(row + 6, 'x', 1020);
	strcpy(row + 1026, "\"}");
	refused(&s, &none, row, "a message of 1028 bytes (body) is over the queue's MaximumMessageSize of 1024 bytes");
	refused(&s, &value, "{\"v\":null}", "--value: no body");
	refused(&s, &value, "{\"v\":\"\"}", "--value: no body");
	refused(&s, &value, "{\"v\":\"a\\u0001b\"}", "the body holds the character U+0001");
	refused(&s, &value, "{\"v\":\"a\\ufffeb\"}", "the body holds the character U+FFFE");
	ok(make(&s, &value, "{\"v\":\"tab\\tcr\\rlf\\n \\ud83d\\ude00\"}", &m, &e) == 0, "tab, CR, LF and emoji pass");
	out_free(m);
	refused(&s, &attrs, "{\"a\":{\"a b\":\"y\"}}", "--attributes: the name \"a b\" holds a character");
	refused(&s, &attrs, "{\"a\":{\"s\":\"\"}}", "--attributes: s: an empty value");
	refused(&s, &attrs, "{\"a\":{\"s\":true}}", "--attributes: s: expected a string or a number, got boolean");
	refused(&s, &attrs, "{\"a\":{\"s\":{\"type\":\"String\",\"value\":1}}}", "--attributes: s: expected a string");
	refused(&s, &attrs, "{\"a\":{\"s\":{\"value\":\"x\"}}}", "--attributes: s: expected {\"type\"");
	refused(&s, &attrs, "{\"a\":{\"a\":1,\"b\":1,\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1,\"j\":1,"
	        "\"k\":1}}", "--attributes: more than 10 attributes");
	refused(&s, &attrs, "{\"a\":\"x\"}", "--attributes: expected an object");
	refused(&s, &ids, "{\"d\":\"x\"}", "--deduplication-id: only FIFO queues take one");
	refused(&s, &ids, "{\"t\":-1}", "--delay: -1 s is not a delay");
	refused(&s, &ids, "{\"t\":1.5}", "--delay: ");
	refused(&s, &ids, "{\"g\":\"a b\"}", "--group-id: the id holds a character SQS does not take");
	queue(&s, 1024, 1, 0);
	refused(&s, &ids, "{\"d\":\"x\"}", "a message to a FIFO queue needs a group id (--group-id): the expression");
	refused(&s, &none, "{}", "a message to a FIFO queue needs a group id (--group-id)");
	refused(&s, &ids, "{\"g\":\"x\"}", "the FIFO queue does not deduplicate by content");
	refused(&s, &ids, "{\"g\":\"x\",\"d\":\"y\",\"t\":0}", "--delay: FIFO queues take no delay per message");
	queue(&s, 1024, 1, 1);
	ok(make(&s, &ids, "{\"g\":\"x\"}", &m, &e) == 0, "content-based deduplication needs no id");
	out_free(m);
}

int main(void)
{
	plain_rows();
	expressions();
	refusals();
	return tap_done();
}
