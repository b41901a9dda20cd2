/* test-endpoint-label.c - what of an endpoint is printed and stored: names
 * that may hold secrets, and the argument's label. */
#include <string.h>

#include "endpoint.h"
#include "tap.h"

#define SECRET "SuperSecretABC123"

/* arg resolved, or NULL with *e. */
static sk_endpoint *resolve(const char *arg, sk_err *e)
{
	sk_endpoint *ep = NULL;

	sk_err_clear(e);
	return sk_endpoint_resolve(arg, NULL, &ep, e) < 0 ? NULL : ep;
}

/* What is printed and stored of an endpoint (ep->arg) has no secret; what
 * the endpoint uses has everything. */
static void test_labels(void)
{
	sk_err e;
	sk_endpoint *ep;

	ep = resolve("sse+https://h.example/s?stream=edits&access_token=" SECRET "&API-Key=" SECRET "#top",
	             &e);
	if (ok(ep != NULL, "sse: a query with secrets resolves (%s)", e.msg)) {
		is_str(ep->arg, "sse+https://h.example/s?stream=edits&access_token=[redacted]&API-Key=[redacted]#top",
		       "sse: the label hides the values of secret-looking parameters only");
		is_str(sk_endpoint_param(ep, "access_token"), SECRET, "sse: the parameter keeps its value");
		ok(strstr(ep->http_url, SECRET) != NULL, "sse: the URL asked keeps it");
		sk_endpoint_free(ep);
	}
	ep = resolve("kafka://h:1/t?group=g&offset=5", &e);
	if (ok(ep != NULL, "kafka: resolves (%s)", e.msg)) {
		is_str(ep->arg, "kafka://h:1/t?group=g&offset=5", "kafka: a URL without secrets is its own label");
		sk_endpoint_free(ep);
	}
	ep = resolve("./in?x=" SECRET, &e);
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

int main(void)
{
	test_labels();
	test_secret_names();
	return tap_done();
}
