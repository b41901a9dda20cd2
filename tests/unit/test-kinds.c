/* test-kinds.c - the registry of endpoint kinds: lookup by name and by URL
 * form, an unknown kind, and what the source and sink interfaces derive
 * from it (option groups, the check that an option is the kind's). */
#include <string.h>

#include "kinds.h"
#include "sink.h"
#include "source.h"
#include "tap.h"

static void by_name(void)
{
	const sk_kind *k = sk_kind_by_name("kafka");

	ok(k != NULL && strcmp(sk_kind_name(k), "kafka") == 0, "kafka by its name");
	ok(sk_kind_by_name("dataset") != NULL && sk_kind_by_name("file") != NULL, "dataset, file");
	ok(sk_kind_by_name("gopher") == NULL, "an unknown name: none");
	ok(sk_kind_by_name("") == NULL, "the empty name: none");
}

static void by_url(void)
{
	const sk_kind *k;

	k = sk_kind_by_url("kafka://h:9092/t");
	ok(k && strcmp(sk_kind_name(k), "kafka") == 0, "kafka:// is kafka");
	k = sk_kind_by_url("file:///tmp/x");
	ok(k && strcmp(sk_kind_name(k), "file") == 0, "file:// is file");
	is_str(sk_kind_scheme_of(k, "file:///tmp/x"), "file://", "by its longer form");
	is_str(sk_kind_scheme_of(k, "file:x"), "file:", "and file: by the shorter");
	k = sk_kind_by_url("sqs+http://127.0.0.1:1/q");
	ok(k && strcmp(sk_kind_name(k), "sqs") == 0, "sqs+http:// is sqs");
	k = sk_kind_by_url("sse+https://example.org/s");
	ok(k && strcmp(sk_kind_name(k), "sse") == 0, "sse+https:// is sse");
	ok(sk_kind_by_url("gopher://h/x") == NULL, "an unknown scheme: none");
	ok(sk_kind_by_url("in.txt") == NULL && sk_kind_by_url("-") == NULL, "a path or -: no URL form");
}

static void of_endpoints(void)
{
	sk_endpoint *ep = NULL;
	sk_err e = { 0 };
	size_t i;

	ok(sk_endpoint_resolve("dataset:out", "/nonexistent", &ep, &e) == 0, "dataset:out resolves");
	ok(ep && strcmp(sk_kind_name(sk_kind_of(ep)), "dataset") == 0, "its kind is dataset");
	sk_endpoint_free(ep);
	ok(sk_endpoint_resolve("-", "/nonexistent", &ep, &e) == 0 && !sk_source_resumes(ep),
	   "standard input has no position to resume from");
	sk_endpoint_free(ep);
	for (i = 0; sk_kind_at(i); i++)
		;
	ok(i >= 7, "every kind is listed (%zu)", i);
}

static void options(void)
{
	sk_optval key[] = { { "key", ".a" } }, follow[] = { { "follow", NULL } };
	sk_kindopts k = { key, 1 }, f = { follow, 1 };
	const sk_option_group *g;
	sk_endpoint *ep = NULL;
	sk_source *src = NULL;
	sk_err e = { 0 };
	size_t n, i, files = 0;

	g = sk_source_option_groups(&n);
	for (i = 0; i < n; i++)
		files += strcmp(g[i].kind, "file") == 0;
	is_int(files, 1, "files and standard input share one group of options");
	sk_endpoint_resolve("kafka://h:9092/t", "/nonexistent", &ep, &e);
	ok(sk_sink_check(ep, &k, &e) == 0, "kafka takes --key");
	ok(sk_source_check(ep, &f, &e) < 0 && e.code == EX_USAGE, "not --follow");
	is_str(e.msg, "--follow is an option of file endpoints", "saying whose it is");
	sk_endpoint_free(ep);
	sk_endpoint_resolve("dataset:out", "/nonexistent", &ep, &e);
	ok(sk_sink_check(ep, &k, &e) < 0, "a dataset does not take --key");
	is_str(e.msg, "--key is an option of kafka endpoints", "saying whose it is");
	ok(sk_source_check(ep, &k, &e) == 0, "a kind that cannot be read: no option is checked");
	ok(sk_source_open(ep, &(sk_source_opts){ 0 }, &src, &e) < 0 && e.code == EX_USAGE, "it cannot be read");
	is_str(e.msg, "dataset endpoints can be written, not read", "said by the registry");
	sk_endpoint_free(ep);
}

int main(void)
{
	by_name();
	by_url();
	of_endpoints();
	options();
	return tap_done();
}
