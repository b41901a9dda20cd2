/* test-sqs-api - SQS requests and answers without a server: the JSON
 * bodies read back with json-c (every escape and unicode survive), answers
 * canned from SQS and local-aws-sqs (messages, batch failures, errors and
 * their classes), regions from queue URLs, and what a prepared call sends.
 * The round trip against a server is tests/sqs-api.bats. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqs_api.h"
#include "tap.h"

#define URL "https://sqs.eu-west-3.amazonaws.com/123456789012/q"

/* Every JSON escape, a NUL, controls, and text beyond the BMP. */
static const char tricky[] = "q\" b\\ s/ \b\f\n\r\t \x01\x1f\x7f \0 é € \xf0\x9f\x98\x80 \xe2\x80\xa8 end";
#define TRICKY_LEN (sizeof tricky - 1)

static json_object *parse_back(const sk_buf *b)
{
	json_tokener *t = json_tokener_new();
	json_object *o;

	json_tokener_set_flags(t, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(t, b->p, (int)b->len);
	if (json_tokener_get_error(t) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(t);
	return o;
}

/* The member at a path of keys and array indexes ("Entries.1.Id"). */
static json_object *at(json_object *o, const char *path)
{
	char key[128];
	const char *p = path;

	while (o && *p) {
		size_t n = strcspn(p, ".");
		snprintf(key, sizeof key, "%.*s", (int)n, p);
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(key));
		else if (!json_object_object_get_ex(o, key, &o))
			o = NULL;
		p += n + (p[n] == '.');
	}
	return o;
}

static const char *str_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static long long int_at(json_object *o, const char *path)
{
	json_object *v = at(o, path);
	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -999;
}

static void receive_body(void)
{
	sk_buf b = { 0 };
	sk_err e;
	json_object *o;
	sk_sqs_receive_req r = { .max_messages = 10, .wait_seconds = 20, .visibility_timeout = 45,
	                         .attempt_id = "try-1" };

	ok(sk_sqs_build_receive(&b, URL, &r, &e) == 0, "a receive body is built");
	o = parse_back(&b);
	ok(o != NULL, "it is strict JSON");
	is_str(str_at(o, "QueueUrl"), URL, "QueueUrl");
	is_int(int_at(o, "MaxNumberOfMessages"), 10, "MaxNumberOfMessages");
	is_int(int_at(o, "WaitTimeSeconds"), 20, "WaitTimeSeconds");
	is_int(int_at(o, "VisibilityTimeout"), 45, "VisibilityTimeout");
	is_str(str_at(o, "AttributeNames.0"), "All", "AttributeNames [\"All\"]");
	is_str(str_at(o, "MessageAttributeNames.0"), "All", "MessageAttributeNames [\"All\"]");
	is_str(str_at(o, "ReceiveRequestAttemptId"), "try-1", "ReceiveRequestAttemptId");
	json_object_put(o);

	sk_buf_reset(&b);
	r = (sk_sqs_receive_req){ .max_messages = 1, .wait_seconds = -1, .visibility_timeout = -1 };
	ok(sk_sqs_build_receive(&b, URL, &r, &e) == 0, "a receive with the queue's own wait and visibility");
	o = parse_back(&b);
	ok(o && !at(o, "WaitTimeSeconds") && !at(o, "VisibilityTimeout") && !at(o, "ReceiveRequestAttemptId"),
	   "leaves WaitTimeSeconds, VisibilityTimeout and the attempt id out");
	json_object_put(o);

	r.max_messages = 11;
	ok(sk_sqs_build_receive(&b, URL, &r, &e) < 0 && e.code == EX_SOFTWARE, "MaxNumberOfMessages 11 is refused");
	r = (sk_sqs_receive_req){ .max_messages = 1, .wait_seconds = 21, .visibility_timeout = -1 };
	ok(sk_sqs_build_receive(&b, URL, &r, &e) < 0, "WaitTimeSeconds 21 is refused: %s", e.msg);
	sk_buf_free(&b);
}

static void handle_bodies(void)
{
	sk_buf b = { 0 };
	sk_err e;
	json_object *o;
	sk_sqs_handle h[2] = { { "a-1", "AQEB+/=handle", 0 }, { "b_2", tricky, 43200 } };
	sk_sqs_handle many[11];
	size_t i;

	ok(sk_sqs_build_delete_batch(&b, URL, h, 2, &e) == 0, "a DeleteMessageBatch body is built");
	o = parse_back(&b);
	is_str(str_at(o, "Entries.0.Id"), "a-1", "first entry's Id");
	is_str(str_at(o, "Entries.0.ReceiptHandle"), "AQEB+/=handle", "first entry's ReceiptHandle");
	is_str(str_at(o, "Entries.1.Id"), "b_2", "second entry's Id");
	ok(at(o, "Entries.0.VisibilityTimeout") == NULL, "deletes carry no VisibilityTimeout");
	is_int(json_object_array_length(at(o, "Entries")), 2, "two entries");
	json_object_put(o);

	sk_buf_reset(&b);
	ok(sk_sqs_build_change_visibility_batch(&b, URL, h, 2, &e) == 0, "a ChangeMessageVisibilityBatch body");
	o = parse_back(&b);
	is_int(int_at(o, "Entries.0.VisibilityTimeout"), 0, "VisibilityTimeout 0 (release)");
	is_int(int_at(o, "Entries.1.VisibilityTimeout"), 43200, "VisibilityTimeout 43200 (the maximum)");
	json_object_put(o);

	h[1].visibility_timeout = 43201;
	ok(sk_sqs_build_change_visibility_batch(&b, URL, h, 2, &e) < 0, "past 12 hours is refused");
	for (i = 0; i < 11; i++)
		many[i] = h[0];
	ok(sk_sqs_build_delete_batch(&b, URL, many, 11, &e) < 0, "11 entries are refused: %s", e.msg);
	ok(sk_sqs_build_delete_batch(&b, URL, many, 0, &e) < 0, "no entry is refused");
	sk_buf_free(&b);
}

static void send_body(void)
{
	static const char bin[] = { 0, 1, 2, (char)0xfe, (char)0xff };
	sk_sqs_attr_in attrs[] = {
		{ "s", "String", tricky, TRICKY_LEN },
		{ "n", "Number", "-1.5e3", 6 },
		{ "b", "Binary", bin, sizeof bin },
		{ "é name", "Binary.gif", "GIF", 3 },
	};
	sk_sqs_send_entry v[2] = {
		{ .id = "0", .body = tricky, .body_len = TRICKY_LEN, .delay_seconds = -1 },
		{ .id = "1", .body = "plain", .body_len = 5, .delay_seconds = 900, .group_id = "g\"1",
		  .deduplication_id = "d-1", .attrs = attrs, .n_attrs = 4 },
	};
	sk_buf b = { 0 };
	sk_err e;
	json_object *o, *body;

	ok(sk_sqs_build_send_batch(&b, URL, v, 2, &e) == 0, "a SendMessageBatch body is built");
	o = parse_back(&b);
	ok(o != NULL, "it is strict JSON");
	body = at(o, "Entries.0.MessageBody");
	ok(body && (size_t)json_object_get_string_len(body) == TRICKY_LEN &&
	   memcmp(json_object_get_string(body), tricky, TRICKY_LEN) == 0,
	   "every escape, a NUL and unicode survive in a body");
	ok(!at(o, "Entries.0.DelaySeconds") && !at(o, "Entries.0.MessageGroupId") &&
	   !at(o, "Entries.0.MessageAttributes"), "a plain entry carries no delay, group or attributes");
	is_int(int_at(o, "Entries.1.DelaySeconds"), 900, "DelaySeconds");
	is_str(str_at(o, "Entries.1.MessageGroupId"), "g\"1", "MessageGroupId");
	is_str(str_at(o, "Entries.1.MessageDeduplicationId"), "d-1", "MessageDeduplicationId");
	is_str(str_at(o, "Entries.1.MessageAttributes.s.DataType"), "String", "a String attribute's type");
	body = at(o, "Entries.1.MessageAttributes.s.StringValue");
	ok(body && (size_t)json_object_get_string_len(body) == TRICKY_LEN &&
	   memcmp(json_object_get_string(body), tricky, TRICKY_LEN) == 0, "a String value survives");
	is_str(str_at(o, "Entries.1.MessageAttributes.n.StringValue"), "-1.5e3", "a Number is sent as text");
	is_str(str_at(o, "Entries.1.MessageAttributes.b.BinaryValue"), "AAEC/v8=", "a Binary value is base64");
	ok(!at(o, "Entries.1.MessageAttributes.b.StringValue"), "a Binary has no StringValue");
	is_str(str_at(o, "Entries.1.MessageAttributes.é name.DataType"), "Binary.gif", "a custom type's suffix");
	is_str(str_at(o, "Entries.1.MessageAttributes.é name.BinaryValue"), "R0lG", "and its value in base64");
	json_object_put(o);

	v[0].delay_seconds = 901;
	ok(sk_sqs_build_send_batch(&b, URL, v, 2, &e) < 0, "DelaySeconds 901 is refused");
	sk_buf_reset(&b);
	ok(sk_sqs_build_get_attributes(&b, URL, NULL, 0, &e) == 0, "a GetQueueAttributes body");
	o = parse_back(&b);
	is_str(str_at(o, "AttributeNames.0"), "All", "asks for All");
	json_object_put(o);
	sk_buf_free(&b);
}

static int parse(sk_sqs_action a, long status, const char *qe, const char *body, sk_sqs_result *r)
{
	return sk_sqs_parse_response(a, status, qe, body, strlen(body), r);
}

static void receive_answers(void)
{
	sk_sqs_result r;
	const sk_sqs_message *m;

	ok(parse(SK_SQS_RECEIVE, 200, NULL,
	         "{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"rh1\",\"MD5OfBody\":\"abc\","
	         "\"Body\":\"a\\u0000b\\n\\\"\\u00e9\\ud83d\\ude00\","
	         "\"Attributes\":{\"SentTimestamp\":\"1700000000000\",\"ApproximateReceiveCount\":\"2\","
	         "\"MessageGroupId\":\"g\"},"
	         "\"MessageAttributes\":{\"s\":{\"DataType\":\"String\",\"StringValue\":\"v\"},"
	         "\"b\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AAE=\"},"
	         "\"n\":{\"DataType\":\"Number.int\",\"StringValue\":\"7\"}}},"
	         "{\"MessageId\":\"m2\",\"ReceiptHandle\":\"rh2\",\"Body\":\"\"}]}", &r) == 0,
	   "a receive answer is read");
	is_int(r.n_messages, 2, "two messages");
	m = &r.messages[0];
	is_str(m->id, "m1", "MessageId");
	is_str(m->receipt_handle, "rh1", "ReceiptHandle");
	is_str(m->md5_of_body, "abc", "MD5OfBody");
	ok(m->body_len == 11 && memcmp(m->body, "a\0b\n\"\xc3\xa9\xf0\x9f\x98\x80", 11) == 0,
	   "the body with its NUL, escapes and a surrogate pair");
	is_str(sk_sqs_message_attribute(m, "SentTimestamp"), "1700000000000", "SentTimestamp");
	is_str(sk_sqs_message_attribute(m, "ApproximateReceiveCount"), "2", "ApproximateReceiveCount");
	is_str(sk_sqs_message_attribute(m, "MessageGroupId"), "g", "MessageGroupId");
	ok(sk_sqs_message_attribute(m, "SequenceNumber") == NULL, "an absent attribute is NULL");
	is_int(m->n_attrs, 3, "three message attributes");
	ok(m->n_attrs == 3 && strcmp(m->attrs[0].name, "s") == 0 && strcmp(m->attrs[0].type, "String") == 0 &&
	   strcmp(m->attrs[0].value, "v") == 0 && !m->attrs[0].binary, "a String attribute");
	ok(m->n_attrs == 3 && strcmp(m->attrs[1].value, "AAE=") == 0 && m->attrs[1].binary,
	   "a Binary attribute, as base64");
	ok(m->n_attrs == 3 && strcmp(m->attrs[2].type, "Number.int") == 0, "a custom Number type");
	m = &r.messages[1];
	ok(m->body_len == 0 && m->md5_of_body == NULL && m->attributes == NULL && m->n_attrs == 0,
	   "a bare message");
	sk_sqs_result_free(&r);

	ok(parse(SK_SQS_RECEIVE, 200, NULL, "", &r) == 0 && r.n_messages == 0,
	   "an empty body is no message (local-aws-sqs)");
	sk_sqs_result_free(&r);
	ok(parse(SK_SQS_RECEIVE, 200, NULL, "{}", &r) == 0 && r.n_messages == 0, "{} is no message (SQS)");
	sk_sqs_result_free(&r);
	ok(parse(SK_SQS_RECEIVE, 200, NULL, "<html>gateway</html>", &r) < 0 && r.error.kind == SK_SQS_RETRY &&
	   r.error.err.code == EX_TEMPFAIL, "a 200 that is not JSON is retried: %s", r.error.err.msg);
	sk_sqs_result_free(&r);
	ok(parse(SK_SQS_RECEIVE, 200, NULL, "{\"Messages\":[{\"MessageId\":\"m\",\"Body\":\"x\"}]}", &r) < 0,
	   "a message without a receipt handle is an error: %s", r.error.err.msg);
	sk_sqs_result_free(&r);
	ok(parse(SK_SQS_GET_ATTRIBUTES, 200, NULL,
	         "{\"Attributes\":{\"VisibilityTimeout\":\"30\",\"MaximumMessageSize\":\"1048576\"}}", &r) == 0 &&
	   r.attributes && strcmp(str_at(r.attributes, "VisibilityTimeout"), "30") == 0,
	   "GetQueueAttributes' Attributes");
	sk_sqs_result_free(&r);
}

static void batch_answers(void)
{
	sk_sqs_result r;

	ok(parse(SK_SQS_SEND_BATCH, 200, NULL,
	         "{\"Successful\":[{\"Id\":\"0\",\"MessageId\":\"m0\",\"MD5OfMessageBody\":\"d41d\","
	         "\"SequenceNumber\":\"180\"}],"
	         "\"Failed\":[{\"Id\":\"1\",\"Code\":\"InvalidParameterValue\",\"SenderFault\":true,"
	         "\"Message\":\"too long\"},"
	         "{\"Id\":\"2\",\"Code\":\"InternalError\",\"SenderFault\":false,\"Message\":\"oops\"},"
	         "{\"Id\":\"3\",\"Code\":\"Weird\",\"SenderFault\":false}]}", &r) == 0,
	   "a partly failed SendMessageBatch is not an error of the call");
	ok(r.n_ok == 1 && strcmp(r.ok[0].id, "0") == 0 && strcmp(r.ok[0].message_id, "m0") == 0 &&
	   strcmp(r.ok[0].md5_of_body, "d41d") == 0 && strcmp(r.ok[0].sequence_number, "180") == 0 &&
	   r.ok[0].code == NULL, "its Successful entry");
	is_int(r.n_failed, 3, "three Failed entries");
	ok(r.n_failed == 3 && strcmp(r.failed[0].id, "1") == 0 && strcmp(r.failed[0].code, "InvalidParameterValue") == 0 &&
	   r.failed[0].sender_fault && strcmp(r.failed[0].message, "too long") == 0 &&
	   r.failed[0].kind == SK_SQS_REFUSED, "a sender's fault is refused");
	ok(r.n_failed == 3 && r.failed[1].kind == SK_SQS_RETRY, "InternalError is retried");
	ok(r.n_failed == 3 && r.failed[2].kind == SK_SQS_RETRY && r.failed[2].message == NULL,
	   "an unknown code that is not the sender's fault is retried");
	sk_sqs_result_free(&r);

	ok(parse(SK_SQS_DELETE_BATCH, 200, NULL,
	         "{\"Failed\":[{\"Code\":\"ReceiptHandleIsInvalid\",\"Id\":\"a\",\"Message\":\"The input receipt "
	         "handle \\\"x\\\" is not valid.\",\"SenderFault\":true}]}", &r) == 0,
	   "a DeleteMessageBatch with no Successful (local-aws-sqs leaves it out)");
	ok(r.n_ok == 0 && r.n_failed == 1 && r.failed[0].kind == SK_SQS_BAD_RECEIPT, "ReceiptHandleIsInvalid");
	sk_sqs_result_free(&r);
	ok(parse(SK_SQS_CHANGE_VISIBILITY_BATCH, 200, NULL,
	         "{\"Successful\":[{\"Id\":\"a\"}],\"Failed\":[{\"Id\":\"b\",\"Code\":\"InvalidParameterValue\","
	         "\"Message\":\"Value X for parameter ReceiptHandle is invalid. Reason: The receipt handle has "
	         "expired.\",\"SenderFault\":true}]}", &r) == 0 && r.n_ok == 1 && r.n_failed == 1 &&
	   r.failed[0].kind == SK_SQS_BAD_RECEIPT, "an expired handle (InvalidParameterValue) is a bad receipt");
	sk_sqs_result_free(&r);
}

static void error_answers(void)
{
	static const struct {
		long status;
		const char *header, *body;
		sk_sqs_errkind kind;
		int exit;
		const char *code, *msg;
	} v[] = {
		{ 400, "AWS.SimpleQueueService.NonExistentQueue;Sender",
		  "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The specified queue does not exist.\"}",
		  SK_SQS_NO_QUEUE, EX_UNAVAILABLE, "QueueDoesNotExist",
		  "ReceiveMessage: QueueDoesNotExist: The specified queue does not exist. (HTTP 400)" },
		{ 400, "AWS.SimpleQueueService.NonExistentQueue;Sender", "", SK_SQS_NO_QUEUE, EX_UNAVAILABLE, "",
		  "ReceiveMessage: AWS.SimpleQueueService.NonExistentQueue (HTTP 400)" },
		{ 403, "InvalidClientTokenId;Sender",
		  "{\"__type\":\"com.amazon.coral.service#InvalidClientTokenId\",\"message\":\"The security token "
		  "included in the request is invalid.\"}", SK_SQS_AUTH, EX_CONFIG, "InvalidClientTokenId", NULL },
		{ 400, NULL, "{\"__type\":\"com.amazon.coral.service#SignatureDoesNotMatch\",\"Message\":\"bad\"}",
		  SK_SQS_AUTH, EX_CONFIG, "SignatureDoesNotMatch", "ReceiveMessage: SignatureDoesNotMatch: bad (HTTP 400)" },
		{ 403, NULL, "{}", SK_SQS_AUTH, EX_CONFIG, "", NULL },
		{ 400, "AccessDenied;Sender", "{\"__type\":\"com.amazon.coral.service#AccessDeniedException\"}",
		  SK_SQS_AUTH, EX_CONFIG, "AccessDeniedException", NULL },
		{ 400, "RequestThrottled;Sender", "{\"__type\":\"com.amazonaws.sqs#RequestThrottled\"}", SK_SQS_RETRY,
		  EX_TEMPFAIL, "RequestThrottled", NULL },
		{ 400, NULL, "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\",\"message\":\"Rate "
		  "exceeded\"}", SK_SQS_RETRY, EX_TEMPFAIL, "ThrottlingException", NULL },
		{ 503, NULL, "{\"__type\":\"com.amazon.coral.service#ServiceUnavailable\"}", SK_SQS_RETRY, EX_TEMPFAIL,
		  "ServiceUnavailable", NULL },
		{ 500, NULL, "<html>", SK_SQS_RETRY, EX_TEMPFAIL, "", NULL },
		{ 429, NULL, "", SK_SQS_RETRY, EX_TEMPFAIL, "", "ReceiveMessage: HTTP 429" },
		{ 400, "OverLimit;Sender", "{\"__type\":\"com.amazonaws.sqs#OverLimit\",\"message\":\"The maximum "
		  "number of in flight messages is reached\"}", SK_SQS_OVER_LIMIT, EX_TEMPFAIL, "OverLimit", NULL },
		{ 400, "InvalidParameterValue;Sender", "{\"__type\":\"com.amazon.coral.service#InvalidParameterValueException\","
		  "\"message\":\"Value 11 for parameter MaxNumberOfMessages is invalid.\"}", SK_SQS_REFUSED,
		  EX_UNAVAILABLE, "InvalidParameterValueException", NULL },
		{ 400, "ReceiptHandleIsInvalid;Sender", "{\"__type\":\"com.amazonaws.sqs#ReceiptHandleIsInvalid\"}",
		  SK_SQS_BAD_RECEIPT, EX_DATAERR, "ReceiptHandleIsInvalid", NULL },
		{ 400, NULL, "{\"__type\":\"UnrecognizedClientException:http://internal.amazon.com/coral/\"}",
		  SK_SQS_AUTH, EX_CONFIG, "UnrecognizedClientException", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		sk_sqs_result r;
		int rc = parse(SK_SQS_RECEIVE, v[i].status, v[i].header, v[i].body, &r);
		ok(rc < 0 && r.error.kind == v[i].kind && r.error.err.code == v[i].exit && r.error.status == v[i].status,
		   "HTTP %ld %s: kind %d, exit %d (%s)", v[i].status, v[i].code, r.error.kind, r.error.err.code,
		   r.error.err.msg);
		is_str(r.error.code, v[i].code, "its code");
		if (v[i].msg)
			is_str(r.error.err.msg, v[i].msg, "its message");
		sk_sqs_result_free(&r);
	}
	{
		sk_sqs_result r;
		parse(SK_SQS_RECEIVE, 400, "AWS.SimpleQueueService.NonExistentQueue;Sender", "{}", &r);
		is_str(r.error.query_code, "AWS.SimpleQueueService.NonExistentQueue", "x-amzn-query-error's code");
		ok(r.error.sender_fault, "and its ;Sender");
		sk_sqs_result_free(&r);
	}
}

static void regions(void)
{
	static const struct { const char *url, *region; } v[] = {
		{ "https://sqs.eu-west-3.amazonaws.com/123456789012/q", "eu-west-3" },
		{ "https://SQS.US-EAST-2.AMAZONAWS.COM/123456789012/q", "us-east-2" },
		{ "https://sqs-fips.us-gov-west-1.amazonaws.com/1/q", "us-gov-west-1" },
		{ "https://sqs.cn-north-1.amazonaws.com.cn/1/q", "cn-north-1" },
		{ "https://sqs.ap-south-1.api.aws/1/q", "ap-south-1" },
		{ "https://vpce-0a1b-xyz.sqs.eu-central-1.vpce.amazonaws.com/1/q", "eu-central-1" },
		{ "https://ap-northeast-1.queue.amazonaws.com/1/q", "ap-northeast-1" },
		{ "https://queue.amazonaws.com/1/q", "us-east-1" },
		{ "http://127.0.0.1:4566/000000000000/q", "us-east-1" },
		{ "http://localhost/000000000000/q", "us-east-1" },
	};
	char region[64];
	sk_sqs_queue q;
	sk_err e;
	size_t i;

	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		region[0] = '\0';
		ok(sk_sqs_region(v[i].url, region, sizeof region, &e) == 0, "region of %s", v[i].url);
		is_str(region, v[i].region, "is %s", v[i].region);
	}
	ok(sk_sqs_region("https://sqs.example.com/1/q", region, sizeof region, &e) < 0 && e.code == EX_CONFIG,
	   "an https host that names no region, no AWS_REGION: %s", e.msg);
	setenv("AWS_DEFAULT_REGION", "sa-east-1", 1);
	ok(sk_sqs_region("https://sqs.example.com/1/q", region, sizeof region, &e) == 0 &&
	   strcmp(region, "sa-east-1") == 0, "AWS_DEFAULT_REGION when the host names none");
	setenv("AWS_REGION", "ca-central-1", 1);
	ok(sk_sqs_region("http://127.0.0.1:1/1/q", region, sizeof region, &e) == 0 &&
	   strcmp(region, "ca-central-1") == 0, "AWS_REGION before AWS_DEFAULT_REGION, and before us-east-1");
	ok(sk_sqs_region("https://sqs.eu-west-1.amazonaws.com/1/q", region, sizeof region, &e) == 0 &&
	   strcmp(region, "eu-west-1") == 0, "the host before the environment");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");

	ok(sk_sqs_queue_init(&q, "sqs+http://127.0.0.1:4566/000000000000/jobs.fifo?x=1", &e) == 0, "a queue");
	is_str(q.url, "http://127.0.0.1:4566/000000000000/jobs.fifo?x=1", "its URL without sqs+");
	is_str(q.endpoint, "http://127.0.0.1:4566/", "its endpoint is the root");
	ok(q.fifo, "a .fifo name is a FIFO queue");
	sk_sqs_queue_free(&q);
	ok(sk_sqs_queue_init(&q, "https://sqs.us-west-1.amazonaws.com/1/plain/", &e) == 0 && !q.fifo &&
	   strcmp(q.region, "us-west-1") == 0, "a standard queue, a trailing slash");
	sk_sqs_queue_free(&q);
	ok(sk_sqs_queue_init(&q, "https://sqs.us-west-1.amazonaws.com/", &e) < 0 && e.code == EX_USAGE,
	   "a URL naming no queue: %s", e.msg);
	ok(sk_sqs_queue_init(&q, "ftp://h/1/q", &e) < 0 && e.code == EX_USAGE, "not http(s): %s", e.msg);
	ok(sk_sqs_queue_init(&q, "https://AKIDSECRET:sekrit@sqs.us-west-1.amazonaws.com/1/q", &e) < 0 &&
	   e.code == EX_USAGE && !strstr(e.msg, "AKIDSECRET") && !strstr(e.msg, "sekrit"),
	   "user information is refused, and not repeated: %s", e.msg);
}

static void prepared_calls(void)
{
	sk_sqs_creds cr = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "FQoGZXIvYXdzEXAMPLETOKEN" };
	sk_sqs_creds none = { NULL, NULL, NULL };
	sk_sqs_receive_req rr = { .max_messages = 10, .wait_seconds = 5, .visibility_timeout = -1 };
	struct curl_slist *h;
	sk_sqs_queue q;
	sk_sqs_call *c;
	sk_sqs_result r;
	sk_err e;
	int target = 0, type = 0, token = 0;

	/* (credentials echoed by a server are scrubbed: tests/sqs-api.bats) */

	ok(sk_sqs_queue_init(&q, "http://127.0.0.1:9/1/q", &e) == 0, "a queue to call");
	c = sk_sqs_call_new(&q, &e);
	ok(c != NULL, "a call");
	ok(sk_sqs_call_prepare(c, &cr, &e) < 0 && e.code == EX_SOFTWARE, "a call with no request is not prepared");
	ok(sk_sqs_call_receive(c, &rr, &e) == 0 && c->action == SK_SQS_RECEIVE, "filled with a receive");
	ok(c->timeout_ms > 5000, "a long poll's timeout is longer than its wait");
	ok(sk_sqs_call_prepare(c, &none, &e) < 0 && e.code == EX_CONFIG, "no credentials: %s", e.msg);
	ok(sk_sqs_call_prepare(c, &cr, &e) == 0, "prepared");
	for (h = c->headers; h; h = h->next) {
		target |= strcmp(h->data, "X-Amz-Target: AmazonSQS.ReceiveMessage") == 0;
		type |= strcmp(h->data, "Content-Type: application/x-amz-json-1.0") == 0;
		token |= strcmp(h->data, "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLETOKEN") == 0;
	}
	ok(target && type && token, "X-Amz-Target, Content-Type and the session token as headers");
	ok(sk_sqs_call_get_attributes(c, NULL, 0, &e) == 0 && sk_sqs_call_prepare(c, &cr, &e) == 0,
	   "a call is filled and prepared again");
	for (h = c->headers, target = 0; h; h = h->next)
		target += strncmp(h->data, "X-Amz-Target: ", 14) == 0;
	ok(target == 1 && strstr(c->headers->next->data, "GetQueueAttributes"), "with one X-Amz-Target, the new one");

	ok(sk_sqs_call_result(c, CURLE_COULDNT_CONNECT, &r) < 0 && r.error.kind == SK_SQS_RETRY &&
	   r.error.err.code == EX_TEMPFAIL && strstr(r.error.err.msg, "GetQueueAttributes: http://127.0.0.1:9/"),
	   "a network error is retried: %s", r.error.err.msg);
	sk_sqs_result_free(&r);
	sk_sqs_call_free(c);
	sk_sqs_queue_free(&q);
}

int main(void)
{
	receive_body();
	handle_bodies();
	send_body();
	receive_answers();
	batch_answers();
	error_answers();
	regions();
	prepared_calls();
	return tap_done();
}
