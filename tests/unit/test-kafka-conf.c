/* test-kafka-conf.c - librdkafka settings: messages that never quote a
 * value, the properties file's comments, where each mistake is, and the
 * values of secret settings removed from librdkafka's texts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_conf.h"
#include "tap.h"

#define SECRET "SuperSecretABC123"

static char dir[] = "/tmp/test-kafka-conf.XXXXXX";

static sk_endpoint ep_plain = { .arg = "kafka://h:1/t", .hosts = "h:1", .topic = "t" };

static rd_kafka_conf_t *new_conf(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (conf == NULL) {
		printf("Bail out! rd_kafka_conf_new\n");
		exit(1);
	}
	return conf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* The message of setting key=value with sk_kafka_conf_set at where. */
static void is_set_error(const char *key, const char *value, const char *where, const char *want,
                         const char *what)
{
	rd_kafka_conf_t *conf = new_conf();
	sk_err e = { 0 };

	is_int(sk_kafka_conf_set(conf, key, value, where, &e), -1, "%s is refused", what);
	is_int(e.code, EX_CONFIG, "%s: EX_CONFIG", what);
	is_str(e.msg, want, "%s: the message", what);
	ok(strstr(e.msg, value) == NULL, "%s: the message does not quote the value", what);
	rd_kafka_conf_destroy(conf);
}

static void test_messages(void)
{
	is_set_error("security.protocol", SECRET, "-X", "-X: security.protocol: invalid value (expected one of "
	             "plaintext, ssl, sasl_plaintext, sasl_ssl)", "an enum's bad value");
	is_set_error("linger.ms", "9999999", NULL, "linger.ms: invalid value (expected 0 .. 900000)",
	             "a number's bad value (librdkafka would quote its number)");
	is_set_error("enable.idempotence", SECRET, NULL, "enable.idempotence: invalid value (expected one of "
	             "true, false)", "a boolean's bad value");
	is_set_error("no.such.setting", SECRET, "-X", "-X: no.such.setting: unknown property", "an unknown key");
	is_set_error("compression.codec", "bogus", "--compression", "--compression: compression.codec: invalid "
	             "value (expected one of none, gzip, snappy, lz4, zstd)", "an option's bad value");
}

static void test_property_range(void)
{
	char range[256];

	is_int(sk_kafka_property_range("security.protocol", range, sizeof range), 0, "range: an enum has one");
	is_str(range, "plaintext, ssl, sasl_plaintext, sasl_ssl", "range: its values");
	is_int(sk_kafka_property_range("acks", range, sizeof range), 0, "range: a topic setting has one");
	is_str(range, "-1 .. 1000", "range: its bounds");
	is_int(sk_kafka_property_range("client.id", range, sizeof range), -1, "range: a string has none");
	is_int(sk_kafka_property_range("no.such", range, sizeof range), -1, "range: an unknown key has none");
	is_int(sk_kafka_property_range("linger", range, sizeof range), -1, "range: a key's prefix is not the key");
}

static void is_apply_error(const sk_endpoint *ep, const char *file, const char *const *props, size_t n,
                           const char *want, const char *what)
{
	rd_kafka_conf_t *conf = new_conf();
	sk_err e = { 0 };

	is_int(sk_kafka_conf_apply(conf, ep, file, props, n, &e), -1, "%s is refused", what);
	is_int(e.code, EX_CONFIG, "%s: EX_CONFIG", what);
	is_str(e.msg, want, "%s: the message names where", what);
	ok(strstr(e.msg, SECRET) == NULL, "%s: the message does not quote the value", what);
	rd_kafka_conf_destroy(conf);
}

static void test_where(void)
{
	sk_kv settings[] = {
		{ .key = "kafka.client.id", .value = "x", .line = 3 },
		{ .key = "kafka.security.protocol", .value = SECRET, .line = 4 },
	};
	sk_endpoint named = { .arg = "src", .name = "src", .file = "/e/endpoints.conf",
	                      .hosts = "h:1", .topic = "t", .settings = settings, .nsettings = 2 };
	char path[sizeof dir + 32], want[256];

	is_apply_error(&named, NULL, NULL, 0, "/e/endpoints.conf:4: [src] kafka.security.protocol: invalid "
	               "value (expected one of plaintext, ssl, sasl_plaintext, sasl_ssl)",
	               "an endpoints-file setting");
	is_apply_error(&ep_plain, NULL, (const char *const[]){ "security.protocol=" SECRET }, 1,
	               "-X security.protocol: invalid value (expected one of plaintext, ssl, sasl_plaintext, "
	               "sasl_ssl)", "a -X setting");
	is_apply_error(&ep_plain, NULL, (const char *const[]){ SECRET }, 1, "-X: expected KEY=VALUE",
	               "a -X without '='");
	snprintf(path, sizeof path, "%s/client.properties", dir);
	write_file(path, "# c\nclient.id = a\n\n  security.protocol =  " SECRET "\n");
	snprintf(want, sizeof want, "%s:4: security.protocol: invalid value (expected one of plaintext, ssl, "
	         "sasl_plaintext, sasl_ssl)", path);
	is_apply_error(&ep_plain, path, NULL, 0, want, "a properties-file setting");
	write_file(path, "client.id = a\n" SECRET "\n");
	snprintf(want, sizeof want, "%s:2: expected KEY=VALUE", path);
	is_apply_error(&ep_plain, path, NULL, 0, want, "a properties-file line without '='");
}

/* As in the endpoints file: a comment is a line that starts with '#' or
 * ';' (blanks aside); elsewhere they are the value's. */
static void test_properties_file_comments(void)
{
	rd_kafka_conf_t *conf = new_conf();
	char path[sizeof dir + 32], v[128];
	size_t vn = sizeof v;
	sk_err e = { 0 };

	snprintf(path, sizeof path, "%s/comments.properties", dir);
	write_file(path, "# a comment\n; another\n  ; indented\n\t# indented\nclient.id = a#b;c # d\n");
	is_int(sk_kafka_conf_apply(conf, &ep_plain, path, NULL, 0, &e), 0, "file: comments and values (%s)", e.msg);
	ok(rd_kafka_conf_get(conf, "client.id", v, &vn) == RD_KAFKA_CONF_OK, "file: client.id is set");
	is_str(v, "a#b;c # d", "file: '#' and ';' inside a value are the value's");
	rd_kafka_conf_destroy(conf);
}

static void test_redact(void)
{
	rd_kafka_conf_t *conf = new_conf();
	char out[128];
	sk_err e = { 0 };

	is_int(sk_kafka_conf_apply(conf, &ep_plain, NULL,
	                           (const char *const[]){ "sasl.password=" SECRET, "client.id=visible-id",
	                                                  "sasl.username=bob", "ssl.key.password=k3yP4ss" },
	                           4, &e),
	       0, "redact: secret settings apply (%s)", e.msg);
	sk_kafka_redact("auth failed for " SECRET " at " SECRET "!", out, sizeof out);
	is_str(out, "auth failed for [redacted] at [redacted]!", "redact: every occurrence of a secret value");
	sk_kafka_redact("key k3yP4ss", out, sizeof out);
	is_str(out, "key [redacted]", "redact: each secret setting's value");
	sk_kafka_redact("client visible-id, user bob", out, sizeof out);
	is_str(out, "client visible-id, user bob",
	       "redact: values of other settings, and values shorter than 4 characters, stay");
	sk_kafka_redact("x " SECRET, out, 8);
	is_str(out, "x [reda", "redact: truncated to the size given");
	rd_kafka_conf_destroy(conf);
}

int main(void)
{
	char path[sizeof dir + 32];

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_messages();
	test_property_range();
	test_where();
	test_properties_file_comments();
	test_redact();
	snprintf(path, sizeof path, "%s/client.properties", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/comments.properties", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
