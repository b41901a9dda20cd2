/* test-endpoint.c - the endpoints file parser and endpoint resolution. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "ini.h"
#include "tap.h"

/* What sk_ini_parse reported, one entry per key = value, and the sections. */
struct ini_seen {
	char section[64], key[64], value[128];
	unsigned line;
};

struct ini_log {
	struct ini_seen seen[16];
	int n;
	char sections[8][64];
	unsigned section_lines[8];
	int nsections;
	int stop_after;   /* return 7 from the callback after this many; 0: never */
};

static int record(void *arg, const char *section, const char *key, const char *value,
                  unsigned line)
{
	struct ini_log *log = arg;
	struct ini_seen *s;

	if (key == NULL) {
		if (log->nsections >= 8 || value != NULL)
			return -1;
		snprintf(log->sections[log->nsections], sizeof log->sections[0], "%s", section);
		log->section_lines[log->nsections++] = line;
		return 0;
	}
	if (log->n >= 16)
		return -1;
	s = &log->seen[log->n++];
	snprintf(s->section, sizeof s->section, "%s", section);
	snprintf(s->key, sizeof s->key, "%s", key);
	snprintf(s->value, sizeof s->value, "%s", value);
	s->line = line;
	return log->stop_after && log->n >= log->stop_after ? 7 : 0;
}

static int parse(const char *text, struct ini_log *log, sk_err *e)
{
	memset(log, 0, sizeof *log);
	sk_err_clear(e);
	return sk_ini_parse(text, strlen(text), "t.conf", record, log, e);
}

static void is_entry(const struct ini_log *log, int i, const char *section, const char *key,
                     const char *value, unsigned line)
{
	if (!ok(i < log->n, "entry %d exists (%s = %s)", i, key, value))
		return;
	is_str(log->seen[i].section, section, "entry %d: section", i);
	is_str(log->seen[i].key, key, "entry %d: key", i);
	is_str(log->seen[i].value, value, "entry %d: value", i);
	is_int(log->seen[i].line, line, "entry %d: line number", i);
}

static void test_ini_sections_comments_whitespace(void)
{
	static const char text[] =
		"# a comment\n"
		"; another comment\n"
		"\n"
		"[alpha]\n"
		"url = kafka://h:1/t\n"
		"  spaced   =   value with spaces   \n"
		"eq = a=b=c\n"
		"\t[ beta ]\t\n"
		"json=true\n"
		"   # an indented comment\n"
		"empty =\n"
		"[gamma]\n";
	struct ini_log log;
	sk_err e;

	is_int(parse(text, &log, &e), 0, "ini: a well-formed file parses");
	is_int(log.n, 5, "ini: every key = value is reported once");
	is_entry(&log, 0, "alpha", "url", "kafka://h:1/t", 5);
	is_entry(&log, 1, "alpha", "spaced", "value with spaces", 6);
	is_entry(&log, 2, "alpha", "eq", "a=b=c", 7);
	is_entry(&log, 3, "beta", "json", "true", 9);
	is_entry(&log, 4, "beta", "empty", "", 11);
	if (ok(log.nsections == 3, "ini: each section header is reported, an empty one too")) {
		is_str(log.sections[1], "beta", "ini: a section's name without the blanks around it");
		is_int(log.section_lines[2], 12, "ini: with its line");
	}
}

/* '#' and ';' start a comment only as a line's first character that is
 * not a blank: passwords may hold them. */
static void test_ini_comment_characters_in_values(void)
{
	struct ini_log log;
	sk_err e;

	is_int(parse("[a]\npassword = pa#ss;word # not a comment\nk = ;v\nh = #v\n", &log, &e), 0,
	       "ini: '#' and ';' inside values parse");
	is_entry(&log, 0, "a", "password", "pa#ss;word # not a comment", 2);
	is_entry(&log, 1, "a", "k", ";v", 3);
	is_entry(&log, 2, "a", "h", "#v", 4);
	is_int(parse("[a]\n\t; k = v\n  # k = v\nk = v\n", &log, &e), 0, "ini: indented comment lines");
	is_int(log.n, 1, "ini: ... are skipped, key and all");
}

static void test_ini_line_endings(void)
{
	struct ini_log log;
	sk_err e;

	is_int(parse("[a]\r\nk = v\r\n", &log, &e), 0, "ini: CRLF lines parse");
	is_entry(&log, 0, "a", "k", "v", 2);
	is_int(parse("[a]\nk = last", &log, &e), 0, "ini: a last line without newline parses");
	is_entry(&log, 0, "a", "k", "last", 2);
	is_int(parse("", &log, &e), 0, "ini: an empty file parses");
	is_int(log.n, 0, "ini: an empty file has no keys");
}

static void is_ini_error(const char *text, const char *want, const char *what)
{
	struct ini_log log;
	sk_err e;

	is_int(parse(text, &log, &e), -1, "ini: %s is an error", what);
	is_int(e.code, EX_CONFIG, "ini: %s is a configuration error", what);
	is_str(e.msg, want, "ini: %s: the message names the file and line", what);
}

static void test_ini_errors(void)
{
	struct ini_log log;
	sk_err e;

	is_ini_error("[a]\nk = v\njunk\n", "t.conf:3: expected key = value", "a line without '='");
	is_ini_error("# c\n[unterminated\n", "t.conf:2: expected [name]", "an unterminated section");
	is_ini_error("[]\n", "t.conf:1: expected [name]", "an empty section name");
	is_ini_error("[ ]\n", "t.conf:1: expected [name]", "a blank section name");
	is_ini_error("[a] # c\n", "t.conf:1: expected [name]", "a comment after a section header");
	is_ini_error("[a]\n\n\n  = value\n", "t.conf:4: expected key = value", "an empty key");
	is_ini_error("# c\nk = v\n[a]\n", "t.conf:2: a key before any [section]", "a key before any section");
	is_ini_error("[a]\nk = v\n[b]\n[ a ]\n", "t.conf:4: section [a] again (first at line 1)",
	             "a duplicate section");
	is_ini_error("[a]\nk = 1\nj = 2\nk = 3\n", "t.conf:4: [a] k again (first at line 2)",
	             "a duplicate key");
	is_int(parse("[a]\nk = 1\n[b]\nk = 2\n", &log, &e), 0, "ini: one key in two sections is no duplicate");

	memset(&log, 0, sizeof log);
	log.stop_after = 1;
	sk_err_clear(&e);
	is_int(sk_ini_parse("[s]\na = 1\nb = 2\n", 16, "t.conf", record, &log, &e), 7,
	       "ini: a callback's non-zero return stops the parse and is returned");
	is_int(log.n, 1, "ini: no callback after the one that stopped");
}

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
	is_int(ep->kind, SK_EP_KAFKA, "kafka: kind");
	is_str(sk_ep_kind_name(ep->kind), "kafka", "kafka: kind name");
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
	           "password in the URL is refused, as URLs are printed and stored", "sse: user:password@");
	is_refused("gopher://u:" SECRET "@h/x?k=" SECRET, "gopher://h/x?k=[redacted]: unknown endpoint scheme "
	           "'gopher' (expected kafka, sqs+https, sse+https, file, dataset or sqlite)",
	           "an unknown scheme, printed without user or query values");
}

/* What is printed and stored of an endpoint (ep->arg) has no secret; what
 * the endpoint uses has everything. */
static void test_labels(void)
{
	sk_err e;
	sk_endpoint *ep;

	ep = resolve("sse+https://h.example/s?stream=edits&access_token=" SECRET "&API-Key=" SECRET "#top", NULL,
	             &e);
	if (ok(ep != NULL, "sse: a query with secrets resolves (%s)", e.msg)) {
		is_str(ep->arg, "sse+https://h.example/s?stream=edits&access_token=[redacted]&API-Key=[redacted]#top",
		       "sse: the label hides the values of secret-looking parameters only");
		is_str(sk_endpoint_param(ep, "access_token"), SECRET, "sse: the parameter keeps its value");
		ok(strstr(ep->http_url, SECRET) != NULL, "sse: the URL asked keeps it");
		sk_endpoint_free(ep);
	}
	ep = resolve("kafka://h:1/t?group=g&offset=5", NULL, &e);
	if (ok(ep != NULL, "kafka: resolves (%s)", e.msg)) {
		is_str(ep->arg, "kafka://h:1/t?group=g&offset=5", "kafka: a URL without secrets is its own label");
		sk_endpoint_free(ep);
	}
	ep = resolve("./in?x=" SECRET, NULL, &e);
	if (ok(ep != NULL, "a plain path with '?' resolves (%s)", e.msg)) {
		is_str(ep->arg, "./in?x=" SECRET, "a plain path is its own label (no query)");
		sk_endpoint_free(ep);
	}
}

static void test_secret_names(void)
{
	static const char *const secret[] = {
		"sasl.password", "sasl.username", "sasl.oauthbearer.config", "sasl.oauthbearer.client.secret",
		"ssl.key.password", "ssl.key.pem", "ssl.key.location", "ssl.keystore.location",
		"ssl.keystore.password", "sasl.kerberos.keytab", "kafka.sasl.password", "SASL.PASSWORD",
		"access_token", "api_key", "X-Amz-Signature", "X-Amz-Credential", "authorization", "my.secret",
	};
	static const char *const plain[] = {
		"security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.kerberos.service.name",
		"sasl.oauthbearer.method", "ssl.ca.location", "ssl.certificate.location", "group", "table",
		"json", "bootstrap.servers", "ssl.sigalgs.list", "stream",
	};
	size_t i;

	for (i = 0; i < sizeof secret / sizeof *secret; i++)
		is_int(sk_secret_name(secret[i]), 1, "secret name: %s", secret[i]);
	for (i = 0; i < sizeof plain / sizeof *plain; i++)
		is_int(sk_secret_name(plain[i]), 0, "not a secret name: %s", plain[i]);
}

static void test_http_endpoints(void)
{
	sk_err e;
	sk_endpoint *ep;

	ep = resolve("sqs+https://sqs.eu-west-1.amazonaws.com/123456789012/orders", NULL, &e);
	if (ok(ep != NULL, "sqs+https resolves (%s)", e.msg)) {
		is_int(ep->kind, SK_EP_SQS, "sqs+https: kind");
		is_str(sk_ep_kind_name(ep->kind), "sqs", "sqs+https: kind name");
		is_str(ep->http_url, "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
		       "sqs+https: the queue URL without sqs+");
		sk_endpoint_free(ep);
	}
	ep = resolve("sqs+http://127.0.0.1:4566/000000000000/q", NULL, &e);
	if (ok(ep != NULL, "sqs+http resolves (%s)", e.msg)) {
		is_int(ep->kind, SK_EP_SQS, "sqs+http: kind");
		is_str(ep->http_url, "http://127.0.0.1:4566/000000000000/q", "sqs+http: the queue URL");
		sk_endpoint_free(ep);
	}
	ep = resolve("sse+http://127.0.0.1:8080/stream?since=5", NULL, &e);
	if (ok(ep != NULL, "sse+http resolves (%s)", e.msg)) {
		is_int(ep->kind, SK_EP_SSE, "sse+http: kind");
		is_str(sk_ep_kind_name(ep->kind), "sse", "sse+http: kind name");
		is_str(ep->http_url, "http://127.0.0.1:8080/stream?since=5", "sse+http: the stream URL");
		is_str(sk_endpoint_param(ep, "since"), "5", "sse+http: its query parameters");
		sk_endpoint_free(ep);
	}
	ep = resolve("sse+https://stream.wikimedia.org/v2/stream/recentchange", NULL, &e);
	if (ok(ep != NULL, "sse+https resolves (%s)", e.msg)) {
		is_int(ep->kind, SK_EP_SSE, "sse+https: kind");
		is_str(ep->http_url, "https://stream.wikimedia.org/v2/stream/recentchange",
		       "sse+https: the stream URL");
		sk_endpoint_free(ep);
	}
}

static void is_path_endpoint(const char *arg, enum sk_ep_kind kind, const char *path)
{
	sk_err e;
	sk_endpoint *ep = resolve(arg, NULL, &e);

	if (!ok(ep != NULL, "%s resolves (%s)", arg, e.msg))
		return;
	is_int(ep->kind, kind, "%s: kind %s", arg, sk_ep_kind_name(kind));
	is_str(ep->path, path, "%s: path", arg);
	sk_endpoint_free(ep);
}

static void test_paths(void)
{
	sk_err e;
	sk_endpoint *ep;

	is_path_endpoint("file:/tmp/in.ndjson", SK_EP_FILE, "/tmp/in.ndjson");
	is_path_endpoint("file:logs/in.ndjson", SK_EP_FILE, "logs/in.ndjson");
	is_path_endpoint("file:///var/log/app.log", SK_EP_FILE, "/var/log/app.log");
	is_path_endpoint("no/such/dir/in.ndjson", SK_EP_FILE, "no/such/dir/in.ndjson");
	is_path_endpoint("in.ndjson", SK_EP_FILE, "in.ndjson");
	is_path_endpoint("-", SK_EP_STDIO, "-");
	is_path_endpoint("dataset:out", SK_EP_DATASET, "out");
	is_path_endpoint("dataset:/srv/data/events", SK_EP_DATASET, "/srv/data/events");
	is_path_endpoint("sqlite:/tmp/db.sqlite?table=events", SK_EP_SQLITE, "/tmp/db.sqlite");

	ep = resolve("sqlite:out.db?table=my_rows", NULL, &e);
	if (ok(ep != NULL, "sqlite: resolves (%s)", e.msg)) {
		is_str(sk_endpoint_param(ep, "table"), "my_rows", "sqlite: table parameter");
		is_str(sk_ep_kind_name(ep->kind), "sqlite", "sqlite: kind name");
		sk_endpoint_free(ep);
	}
	ok(resolve("", NULL, &e) == NULL && e.code == EX_USAGE, "an empty endpoint is a usage error");
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	if (fputs(text, f) == EOF) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

static const char endpoints_conf[] =
	"# endpoints used by the unit tests\n"
	"[mykafka]\n"
	"url = kafka://127.0.0.1:9092/events?group=g\n"
	"json = true\n"
	"kafka.security.protocol = SSL\n"
	"\n"
	"[myfile]\n"
	"url = file:/data/in.ndjson?json=0\n"
	"json = true\n"
	"\n"
	"[nourl]\n"
	"json = true\n"
	"\n"
	"[badurl]\n"
	"url = gopher://x/y\n"
	"\n"
	"[typo]\n"
	"url = kafka://h:1/t\n"
	"kafka.sasl.password = pa#ss;word\n"
	"grup = etl\n"
	"\n"
	"[maybe]\n"
	"url = file:x\n"
	"json = maybe\n"
	"\n"
	"[notkafka]\n"
	"url = file:x\n"
	"kafka.security.protocol = SSL\n"
	"\n"
	"[withuser]\n"
	"url = kafka://u:" SECRET "@h:1/t\n"
	"\n"
	"[sqlitetable]\n"
	"url = sqlite:o.db\n"
	"table = t\n"
	"\n"
	"[unknownparam]\n"
	"url = kafka://h:1/t?sasl.password=" SECRET "\n";

/* name is refused as a mistake of the endpoints file ini, with the message
 * "INI:" + want. */
static void is_file_error(const char *ini, const char *name, const char *want, const char *what)
{
	char full[1024];
	sk_err e;
	sk_endpoint *ep = resolve(name, ini, &e);

	ok(ep == NULL, "named: %s is refused", what);
	sk_endpoint_free(ep);
	is_int(e.code, EX_CONFIG, "named: %s is a configuration error", what);
	snprintf(full, sizeof full, "%s:%s", ini, want);
	is_str(e.msg, full, "named: %s: the message names the file and line", what);
}

static void test_named_strict(const char *ini)
{
	sk_err e;
	sk_endpoint *ep;

	is_file_error(ini, "nourl", "11: [nourl] has no url", "a section without url");
	is_file_error(ini, "badurl", "15: badurl: unknown endpoint scheme 'gopher' (expected kafka, sqs+https, "
	              "sse+https, file, dataset or sqlite)", "a bad url");
	is_file_error(ini, "typo", "20: [typo] unknown key 'grup' (kafka endpoints take url, json, group, "
	              "partition, offset and kafka.SETTING)", "an unknown key");
	is_file_error(ini, "maybe", "24: [maybe] json: expected a boolean (1, true, yes or on; 0, false, no or off)",
	              "a bad boolean");
	is_file_error(ini, "notkafka", "28: [notkafka] unknown key 'kafka.security.protocol' (file endpoints take "
	              "url and json)", "a kafka. key for a file");
	is_file_error(ini, "withuser", "31: withuser: a user name or password in the URL is refused, as URLs are "
	              "printed and stored; give credentials with -F FILE, or kafka.sasl.username and "
	              "kafka.sasl.password in the endpoints file", "user:password in a url");
	is_file_error(ini, "unknownparam", "38: unknownparam: unknown parameter 'sasl.password' (kafka endpoints "
	              "take group, partition, offset and json)", "an unknown url parameter");
	ep = resolve("sqlitetable", ini, &e);
	if (ok(ep != NULL, "named: a kind's parameter as a key resolves (%s)", e.msg)) {
		is_str(sk_endpoint_param(ep, "table"), "t", "named: ... and is found as the parameter");
		sk_endpoint_free(ep);
	}
	ep = resolve("mykafka", ini, &e);
	if (ok(ep != NULL, "named: mistakes in other sections do not stop one without (%s)", e.msg)) {
		is_str(ep->file, ini, "named: the endpoint knows its file");
		is_int(ep->settings[1].line, 5, "named: and the line of each setting");
		sk_endpoint_free(ep);
	}
}

static void test_named(const char *ini)
{
	sk_err e;
	sk_endpoint *ep;

	ep = resolve("mykafka", ini, &e);
	if (ok(ep != NULL, "named: a name in the endpoints file resolves (%s)", e.msg)) {
		is_int(ep->kind, SK_EP_KAFKA, "named: the kind of its url");
		is_str(ep->name, "mykafka", "named: name");
		is_str(ep->arg, "mykafka", "named: arg is what the user wrote");
		is_str(ep->url, "kafka://127.0.0.1:9092/events?group=g", "named: url");
		is_str(ep->topic, "events", "named: its url is parsed");
		is_str(sk_endpoint_param(ep, "group"), "g", "named: the url's query parameters");
		if (ok(ep->nsettings == 2, "named: the section's other keys are settings")) {
			is_str(ep->settings[0].key, "json", "named: settings in file order (1)");
			is_str(ep->settings[1].key, "kafka.security.protocol",
			       "named: settings in file order (2)");
		}
		is_str(sk_endpoint_param(ep, "kafka.security.protocol"), "SSL",
		       "named: a setting is found by sk_endpoint_param");
		is_int(sk_endpoint_flag(ep, "json", 0), 1, "named: a true flag");
		is_int(sk_endpoint_flag(ep, "absent", 1), 1, "named: an absent flag takes its default");
		is_int(sk_endpoint_flag(ep, "absent", 0), 0, "named: an absent flag takes its default (0)");
		sk_endpoint_free(ep);
	}

	ep = resolve("myfile", ini, &e);
	if (ok(ep != NULL, "named: a file endpoint resolves (%s)", e.msg)) {
		is_int(ep->kind, SK_EP_FILE, "named: file kind");
		is_str(ep->path, "/data/in.ndjson", "named: file path");
		is_str(sk_endpoint_param(ep, "json"), "0", "named: a query parameter wins over a setting");
		is_int(sk_endpoint_flag(ep, "json", 1), 0, "named: flag '0' is false");
		sk_endpoint_free(ep);
	}

	ep = resolve("nosuch", ini, &e);
	ok(ep == NULL, "named: an unknown name is refused");
	is_int(e.code, EX_CONFIG, "named: an unknown name is a configuration error");
	ok(strstr(e.msg, "nosuch") && strstr(e.msg, ini), "named: the message names it and the file: %s",
	   e.msg);

	ep = resolve("mykafka", "/nonexistent/endpoints.conf", &e);
	ok(ep == NULL && e.code == EX_CONFIG, "named: no endpoints file is a configuration error (%s)",
	   e.msg);
	ep = resolve("mykafka", NULL, &e);
	ok(ep == NULL && e.code == EX_CONFIG, "named: no endpoints file given is a configuration error");

	ep = resolve("nourl", ini, &e);
	ok(ep == NULL && e.code == EX_CONFIG, "named: a section without url is a configuration error");
	ok(strstr(e.msg, "url") != NULL, "named: ... saying so: %s", e.msg);

	ep = resolve("badurl", ini, &e);
	ok(ep == NULL && e.code == EX_CONFIG,
	   "named: a bad url in the file is a configuration error, not a usage error (%s)", e.msg);
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

static void test_bad_endpoints_file(const char *dir)
{
	char path[512];
	sk_err e;
	sk_endpoint *ep;

	snprintf(path, sizeof path, "%s/broken.conf", dir);
	if (!ok(write_text(path, "[a]\nurl = file:x\n[b]\nurl = file:y\nurl = file:z\n") == 0,
	        "write a broken endpoints file"))
		return;
	ep = resolve("a", path, &e);
	ok(ep == NULL && e.code == EX_CONFIG, "a broken endpoints file is a configuration error");
	ok(strstr(e.msg, path) && strstr(e.msg, ":5: [b] url again (first at line 4)"),
	   "... naming the file and line, whichever section is asked for: %s", e.msg);
}

/* A bare word names an endpoint, unless a file of that name exists. */
static void test_existing_file_wins(const char *dir, const char *ini)
{
	char path[512];
	sk_err e;
	sk_endpoint *ep;

	snprintf(path, sizeof path, "%s/myfile", dir);
	if (!ok(write_text(path, "{}\n") == 0 && chdir(dir) == 0, "create ./myfile"))
		return;
	ep = resolve("myfile", ini, &e);
	if (ok(ep != NULL, "an existing file named like an endpoint resolves (%s)", e.msg)) {
		is_int(ep->kind, SK_EP_FILE, "... as a file");
		is_str(ep->path, "myfile", "... at that path");
		is_str(ep->name, NULL, "... not as the named endpoint");
		sk_endpoint_free(ep);
	}
	unlink(path);
}

static void is_lookup(const char *option, const char *want, const char *what)
{
	char *got = sk_endpoints_file(option);

	is_str(got, want, "endpoints file: %s", what);
	free(got);
}

static void test_endpoints_file_lookup(void)
{
	setenv("HOME", "/home/u", 1);
	setenv("XDG_CONFIG_HOME", "/xdg", 1);
	setenv("STREAMKIT_ENDPOINTS", "/env/endpoints.conf", 1);
	is_lookup("/opt/e.conf", "/opt/e.conf", "--endpoints first");
	is_lookup(NULL, "/env/endpoints.conf", "then $STREAMKIT_ENDPOINTS");
	unsetenv("STREAMKIT_ENDPOINTS");
	is_lookup(NULL, "/xdg/streamkit/endpoints.conf", "then $XDG_CONFIG_HOME");
	unsetenv("XDG_CONFIG_HOME");
	is_lookup(NULL, "/home/u/.config/streamkit/endpoints.conf", "then ~/.config");
}

int main(void)
{
	char dir[] = "/tmp/test-endpoint.XXXXXX", ini[512];

	test_ini_sections_comments_whitespace();
	test_ini_comment_characters_in_values();
	test_ini_line_endings();
	test_ini_errors();
	test_kafka();
	test_malformed_urls();
	test_unknown_parameters();
	test_userinfo();
	test_labels();
	test_secret_names();
	test_http_endpoints();
	test_paths();
	test_flags();

	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return tap_done();
	}
	snprintf(ini, sizeof ini, "%s/endpoints.conf", dir);
	if (ok(write_text(ini, endpoints_conf) == 0, "write an endpoints file")) {
		test_named(ini);
		test_named_strict(ini);
		test_bad_endpoints_file(dir);
		test_existing_file_wins(dir, ini);
	}
	test_endpoints_file_lookup();

	unlink(ini);
	snprintf(ini, sizeof ini, "%s/broken.conf", dir);
	unlink(ini);
	rmdir(dir);
	return tap_done();
}
