/* test-endpoint.c - endpoint resolution: URL forms, query parameters, flags. */
#include <stdio.h>
#include <string.h>

#include "endpoint.h"
#include "kinds.h"
#include "tap.h"

static sk_endpoint *resolve(const char *arg, const char *ini, sk_err *e)
{
	sk_endpoint *ep = NULL;

	sk_err_clear(e);
	if (sk_endpoint_resolve(arg, ini, &ep, e) < 0)
		return NULL;
	return ep;
}

static void test_kafka(void)
{
	sk_err e;
	sk_endpoint *ep = resolve("kafka://h1:9092,h2.example:9093/events?group=my%20group&partition=3"
	                          "&offset=earliest&json=1", NULL, &e);

	if (!ok(ep != NULL, "kafka: several brokers and query parameters resolve (%s)", e.msg))
		return;
	is_str(sk_kind_name(ep->kind), "kafka", "kafka: kind");
	is_str(sk_kind_name(sk_kind_of(ep)), "kafka", "kafka: kind name");
	is_str(ep->hosts, "h1:9092,h2.example:9093", "kafka: hosts");
	is_str(ep->topic, "events", "kafka: topic");
	is_int(ep->nparams, 4, "kafka: four query parameters");
	is_str(sk_endpoint_param(ep, "group"), "my group", "kafka: group, percent-decoded");
	is_str(sk_endpoint_param(ep, "partition"), "3", "kafka: partition");
	is_str(sk_endpoint_param(ep, "offset"), "earliest", "kafka: offset");
	is_int(sk_endpoint_flag(ep, "json", 0), 1, "kafka: the json flag");
	is_str(sk_endpoint_param(ep, "absent"), NULL, "kafka: an absent parameter is NULL");
	is_str(ep->arg, ep->url, "kafka: a URL argument is its own url");
	is_str(ep->name, NULL, "kafka: a URL has no endpoint name");
	sk_endpoint_free(ep);

	ep = resolve("kafka://127.0.0.1:9092/^logs-.*", NULL, &e);
	if (ok(ep != NULL, "kafka: one broker and a topic pattern resolve (%s)", e.msg)) {
		is_str(ep->hosts, "127.0.0.1:9092", "kafka: one broker");
		is_str(ep->topic, "^logs-.*", "kafka: topic pattern");
		is_int(ep->nparams, 0, "kafka: no query parameters");
		sk_endpoint_free(ep);
	}
}

static void is_usage_error(const char *arg, const char *what)
{
	sk_err e;
	sk_endpoint *ep = resolve(arg, NULL, &e);

	ok(ep == NULL, "%s is refused", what);
	sk_endpoint_free(ep);
	is_int(e.code, EX_USAGE, "%s is a usage error (%s)", what, e.msg);
	ok(strstr(e.msg, arg) != NULL, "%s: the message names the argument", what);
}

static void test_malformed_urls(void)
{
	is_usage_error("kafka://h1/events", "kafka: a broker without a port");
	is_usage_error("kafka://h1:9092/", "kafka: a missing topic");
	is_usage_error("kafka://h1:99999/t", "kafka: a port out of range");
	is_usage_error("kafka:///t", "kafka: no broker");
	is_usage_error("kafka://h:1/t?group", "kafka: a query parameter without a value");
	is_usage_error("kafka://h:1/t?group=%zz", "kafka: a bad percent escape");
	is_usage_error("sse+http://", "sse: no host");
	is_usage_error("file:", "file: an empty path");
	is_usage_error("dataset:", "dataset: an empty path");
	is_usage_error("sqlite:/tmp/db.sqlite", "sqlite: no table");
	is_usage_error("ftp://example.com/x", "an unknown scheme");
}

/* arg is refused (EX_USAGE) with exactly the message want. */
static void is_refused(const char *arg, const char *want, const char *what)
{
	sk_err e;
	sk_endpoint *ep = resolve(arg, NULL, &e);

	ok(ep == NULL, "%s is refused", what);
	sk_endpoint_free(ep);
	is_int(e.code, EX_USAGE, "%s is a usage error", what);
	is_str(e.msg, want, "%s: the message", what);
}

#define SECRET "SuperSecretABC123"

static void test_unknown_parameters(void)
{
	is_refused("kafka://h:1/t?sasl.password=" SECRET,
	           "kafka://h:1/t?sasl.password=[redacted]: unknown parameter 'sasl.password' "
	           "(kafka endpoints take group, partition, offset and json)",
	           "kafka: an unknown parameter, named without its value");
	is_refused("kafka://h:1/t?group=g&grup=" SECRET,
	           "kafka://h:1/t?group=g&grup=[redacted]: unknown parameter 'grup' "
	           "(kafka endpoints take group, partition, offset and json)",
	           "kafka: an unknown parameter's value is hidden, whatever its name");
	is_refused("file:in.log?table=t", "file:in.log?table=[redacted]: unknown parameter 'table' "
	           "(file endpoints take json)", "file: a parameter of another kind");
	is_refused("sqlite:o.db?table=t&tables=u", "sqlite:o.db?table=t&tables=[redacted]: unknown parameter "
	           "'tables' (sqlite endpoints take table and json)", "sqlite: an unknown parameter");
	is_refused("dataset:out?json=maybe", "dataset:out?json=maybe: json: expected a boolean "
	           "(1, true, yes or on; 0, false, no or off)", "a bad boolean");
	/* The authority ends at the query: what follows is not quoted as a
	 * broker. Found by tests/fuzz/fuzz-endpoint. */
	is_refused("kafka://h:1?token=" SECRET "/t", "kafka://h:1?token=[redacted]: expected "
	           "kafka://HOST:PORT[,HOST:PORT]/TOPIC", "kafka: a query before the topic, named without its value");
	is_refused("kafka://h#x?token=" SECRET "/t", "kafka://h#x?token=[redacted]: expected "
	           "kafka://HOST:PORT[,HOST:PORT]/TOPIC", "kafka: a fragment in the authority");
	is_refused("kafka://h:1/t?sasl.password=" SECRET "%zz",
	           "kafka://h:1/t?sasl.password=[redacted]: query parameter 'sasl.password': bad percent escape (%XX)",
	           "a bad escape, named without its value");
}

static void test_userinfo(void)
{
	is_refused("kafka://user:" SECRET "@h:1/t",
	           "kafka://h:1/t: a user name or password in the URL is refused, as URLs are printed and stored; "
	           "give credentials with -F FILE, or kafka.sasl.username and kafka.sasl.password in the "
	           "endpoints file", "kafka: user:password@");
	is_refused("kafka://" SECRET "@h1:1,h2:2/t", "kafka://h1:1,h2:2/t: a user name or password in the URL is "
	           "refused, as URLs are printed and stored; give credentials with -F FILE, or kafka.sasl.username "
	           "and kafka.sasl.password in the endpoints file", "kafka: a user name alone");
	is_refused("sqs+https://k:" SECRET "@sqs.example.com/1/q", "sqs+https://sqs.example.com/1/q: a user name or "
	           "password in the URL is refused, as URLs are printed and stored; give credentials from the AWS "
	           "environment variables or ~/.aws/credentials", "sqs: user:password@");
	is_refused("sse+http://u:" SECRET "@127.0.0.1:8/s?x=1", "sse+http://127.0.0.1:8/s?x=1: a user name or "
	           "password in the URL is refused, as URLs are printed and stored; give credentials in a header: "
	           "-H @FILE, or a header.NAME key of a named endpoint", "sse: user:password@");
	is_refused("gopher://u:" SECRET "@h/x?k=" SECRET, "gopher://h/x?k=[redacted]: unknown endpoint scheme "
	           "'gopher' (expected kafka, sqs+https, sse+https, file, dataset or sqlite)",
	           "an unknown scheme, printed without user or query values");
}

static void test_http_endpoints(void)
{
	sk_err e;
	sk_endpoint *ep;

	ep = resolve("sqs+https://sqs.eu-west-1.amazonaws.com/123456789012/orders", NULL, &e);
	if (ok(ep != NULL, "sqs+https resolves (%s)", e.msg)) {
		is_str(sk_kind_name(ep->kind), "sqs", "sqs+https: kind");
		is_str(sk_kind_name(sk_kind_of(ep)), "sqs", "sqs+https: kind name");
		is_str(ep->http_url, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
		       "sqs+https: the queue URL without sqs+");
		sk_endpoint_free(ep);
	}
	ep = resolve("sqs+http://127.0.0.1:4566/000000000000/q", NULL, &e);
	if (ok(ep != NULL, "sqs+http resolves (%s)", e.msg)) {
		is_str(sk_kind_name(ep->kind), "sqs", "sqs+http: kind");
		is_str(ep->http_url, "http://127.0.0.1:4566/000000000000/q", "sqs+http: the queue URL");
		sk_endpoint_free(ep);
	}
	ep = resolve("sse+http://127.0.0.1:8080/stream?since=5", NULL, &e);
	if (ok(ep != NULL, "sse+http resolves (%s)", e.msg)) {
		is_str(sk_kind_name(ep->kind), "sse", "sse+http: kind");
		is_str(sk_kind_name(sk_kind_of(ep)), "sse", "sse+http: kind name");
		is_str(ep->http_url, "http://127.0.0.1:8080/stream?since=5", "sse+http: the stream URL");
		is_str(sk_endpoint_param(ep, "since"), "5", "sse+http: its query parameters");
		sk_endpoint_free(ep);
	}
	ep = resolve("sse+https://stream.wikimedia.org/v2/stream/recentchange", NULL, &e);
	if (ok(ep != NULL, "sse+https resolves (%s)", e.msg)) {
		is_str(sk_kind_name(ep->kind), "sse", "sse+https: kind");
		is_str(ep->http_url, "https://stream.wikimedia.org/v2/stream/recentchange",
		       "sse+https: the stream URL");
		sk_endpoint_free(ep);
	}
}

static void is_path_endpoint(const char *arg, const char *kind, const char *path)
{
	sk_err e;
	sk_endpoint *ep = resolve(arg, NULL, &e);

	if (!ok(ep != NULL, "%s resolves (%s)", arg, e.msg))
		return;
	is_str(sk_kind_name(sk_kind_of(ep)), kind, "%s: kind", arg);
	is_str(ep->path, path, "%s: path", arg);
	sk_endpoint_free(ep);
}

static void test_paths(void)
{
	sk_err e;
	sk_endpoint *ep;

	is_path_endpoint("file:/tmp/in.ndjson", "file", "/tmp/in.ndjson");
	is_path_endpoint("file:logs/in.ndjson", "file", "logs/in.ndjson");
	is_path_endpoint("file:///var/log/app.log", "file", "/var/log/app.log");
	is_path_endpoint("no/such/dir/in.ndjson", "file", "no/such/dir/in.ndjson");
	is_path_endpoint("in.ndjson", "file", "in.ndjson");
	is_path_endpoint("-", "stdio", "-");
	is_path_endpoint("dataset:out", "dataset", "out");
	is_path_endpoint("dataset:/srv/data/events", "dataset", "/srv/data/events");
	is_path_endpoint("sqlite:/tmp/db.sqlite?table=events", "sqlite", "/tmp/db.sqlite");

	ep = resolve("sqlite:out.db?table=my_rows", NULL, &e);
	if (ok(ep != NULL, "sqlite: resolves (%s)", e.msg)) {
		is_str(sk_endpoint_param(ep, "table"), "my_rows", "sqlite: table parameter");
		is_str(sk_kind_name(sk_kind_of(ep)), "sqlite", "sqlite: kind name");
		sk_endpoint_free(ep);
	}
	ok(resolve("", NULL, &e) == NULL && e.code == EX_USAGE, "an empty endpoint is a usage error");
}

static void test_flags(void)
{
	static const char *const truths[] = { "1", "true", "TRUE", "yes", "on" };
	static const char *const lies[] = { "0", "false", "no", "off" };
	char url[64];
	sk_err e;
	size_t i;

	for (i = 0; i < sizeof truths / sizeof *truths; i++) {
		sk_endpoint *ep;
		snprintf(url, sizeof url, "file:x?json=%s", truths[i]);
		ep = resolve(url, NULL, &e);
		ok(ep && sk_endpoint_flag(ep, "json", 0) == 1, "flag: '%s' is true", truths[i]);
		sk_endpoint_free(ep);
	}
	for (i = 0; i < sizeof lies / sizeof *lies; i++) {
		sk_endpoint *ep;
		snprintf(url, sizeof url, "file:x?json=%s", lies[i]);
		ep = resolve(url, NULL, &e);
		ok(ep && sk_endpoint_flag(ep, "json", 1) == 0, "flag: '%s' is false", lies[i]);
		sk_endpoint_free(ep);
	}
}

int main(void)
{
	test_kafka();
	test_malformed_urls();
	test_unknown_parameters();
	test_userinfo();
	test_http_endpoints();
	test_paths();
	test_flags();
	return tap_done();
}
