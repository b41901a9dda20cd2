/* test-endpoints-file.c - named endpoints: the endpoints file, its strict
 * keys, and where it is looked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "kinds.h"
#include "tap.h"

#define SECRET "SuperSecretABC123"

/* arg resolved against the endpoints file ini, or NULL with *e. */
static sk_endpoint *resolve(const char *arg, const char *ini, sk_err *e)
{
	sk_endpoint *ep = NULL;

	sk_err_clear(e);
	return sk_endpoint_resolve(arg, ini, &ep, e) < 0 ? NULL : ep;
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
		is_str(sk_kind_name(ep->kind), "kafka", "named: the kind of its url");
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
		is_str(sk_kind_name(ep->kind), "file", "named: file kind");
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
		is_str(sk_kind_name(ep->kind), "file", "... as a file");
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
	char dir[] = "/tmp/test-endpoints-file.XXXXXX", ini[512];

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