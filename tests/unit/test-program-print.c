/* test-program-print.c - results of jq programs out: numbers as jq
 * writes them, json-c values, and envelopes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "program-run.h"

/* Numbers are written as jq's own jv_dump_string writes them. */
static void numbers_as_jq(void)
{
	static const double some[] = {
		0, 1, -1, 7, 10, 100, 1e15, 1e15 + 1, 999999999999999, 9007199254740991.0, -9007199254740991.0,
		4503599627370495.5, 1e16, 1e17, 123456789012345678.0, 0.1, 0.5, 1.5, -2.25, 1e-5, 1e-7, 0.0001,
		3.141592653589793, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 1e21, 1e22, 123e-20,
	};
	char text[64];
	size_t i, bad = 0;

	for (i = 0; i < sizeof some / sizeof *some; i++) {
		jv want = jv_dump_string(jv_number(some[i]), 0);
		char *got;
		/* With an exponent: digits alone would be an integer kept exactly. */
		snprintf(text, sizeof text, "%.17e", some[i]);
		got = run_text(".", text, NULL);
		if (strcmp(got, jv_string_value(want)) != 0) {
			printf("# %s: got %s, jq writes %s\n", text, got, jv_string_value(want));
			bad++;
		}
		free(got);
		jv_free(want);
	}
	is_int(bad, 0, "numbers are written as jq writes them (%zu numbers)", i);
}

/* One json-c value through a program, back as json-c text. */
static char *to_json_text(const char *program, const char *input)
{
	sk_json *jp = sk_json_new();
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(program, NULL, &e);
	json_object *in = sk_json_parse(jp, input, strlen(input), &e), *out = NULL;
	sk_buf b = { 0 };
	int rc = sk_program_first_json(p, in, &out, &e);

	if (rc < 0)
		sk_buf_printf(&b, "ERROR: %s", e.msg);
	else if (rc == 0)
		sk_buf_adds(&b, "(none)");
	else
		sk_json_add_object(&b, out);
	json_object_put(out);
	json_object_put(in);
	sk_program_free(p);
	sk_json_free(jp);
	return b.p;
}

#define BACK(prog, in, want, what) do { char *got_ = to_json_text(prog, in); \
	is_str(got_, want, "%s", what); free(got_); } while (0)

static void json_results(void)
{
	sk_json *jp = sk_json_new();
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(".", NULL, &e);
	const char *text = "{\"big\":9007199254740993,\"i\":7,\"d\":1.5}";
	json_object *in = sk_json_parse(jp, text, strlen(text), &e), *out = NULL, *v;

	ok(sk_program_first_json(p, in, &out, &e) == 1, "a result as json-c");
	ok(json_object_object_get_ex(out, "big", &v) && json_object_is_type(v, json_type_int) &&
	   json_object_get_int64(v) == 9007199254740993LL, "an integer beyond 2^53 stays that int64");
	ok(json_object_object_get_ex(out, "i", &v) && json_object_is_type(v, json_type_int), "an integer is an int");
	ok(json_object_object_get_ex(out, "d", &v) && json_object_is_type(v, json_type_double) &&
	   json_object_get_double(v) == 1.5, "a double is a double");
	json_object_put(out);
	json_object_put(in);
	sk_program_free(p);
	sk_json_free(jp);
	BACK(".", "{\"a\":[1,\"s\",null,true,{\"b\":0.1}]}", "{\"a\":[1,\"s\",null,true,{\"b\":0.1}]}", "nested, back");
	BACK("[.[] * 3]", "[0.1,1e300]", "[0.30000000000000004,3e+300]", "doubles written as jq writes them");
	BACK("[1e17, 18446744073709551615, nan, infinite]", "null",
	     "[1e+17,18446744073709552000,null,1.7976931348623157e+308]",
	     "computed large numbers, NaN and infinity as jq writes them");
	BACK(".x", "{\"x\":18446744073709551615}", "18446744073709551615", "an unsigned 64-bit integer back");
	BACK("{\"a\\u0000b\": 1}", "null", "ERROR: an object key holds a NUL character", "json-c cannot hold a key with NUL");
	BACK("\"a\\u0000b\"", "null", "\"a\\u0000b\"", "a string with NUL, back");
	BACK("empty", "{}", "(none)", "no result");
	BACK("null", "{}", "(none)", "null counts as none");
	BACK("1, 2", "{}", "1", "the first result only");
}

/* Results as stream-read --filter prints them. */
static int envelope(void *arg, const sk_result *r, sk_err *e)
{
	sk_buf *b = arg;

	if (sk_result_add_envelope(r, "file:/x:0:10", b) < 0 || sk_buf_addc(b, '\n') < 0)
		return sk_err_oom(e);
	return 0;
}

static void envelopes(void)
{
	sk_err e = { 0 };
	sk_buf b = { 0 };
	static const char *in = "{\"line\":\"a\",\"_cursor\":\"old\",\"n\":1}";

#define ENV(prog, want, what) do { \
	sk_program *p_ = sk_program_compile(prog, NULL, &e); \
	sk_buf_reset(&b); \
	sk_program_run_text(p_, in, strlen(in), envelope, &b, &e); \
	is_str(b.p ? b.p : "", want, "%s", what); \
	sk_program_free(p_); } while (0)
	ENV(".", "{\"line\":\"a\",\"n\":1,\"_cursor\":\"file:/x:0:10\"}\n",
	    "an object keeps the message's cursor, last");
	ENV("{line}", "{\"line\":\"a\",\"_cursor\":\"file:/x:0:10\"}\n", "a new object gets it");
	ENV(".n, .line, [1], null", "{\"value\":1,\"_cursor\":\"file:/x:0:10\"}\n"
	    "{\"value\":\"a\",\"_cursor\":\"file:/x:0:10\"}\n{\"value\":[1],\"_cursor\":\"file:/x:0:10\"}\n"
	    "{\"value\":null,\"_cursor\":\"file:/x:0:10\"}\n", "other values are wrapped as {value, _cursor}");
	ENV("{}", "{\"_cursor\":\"file:/x:0:10\"}\n", "an empty object");
	ENV("{_cursor: 5}", "{\"_cursor\":\"file:/x:0:10\"}\n", "a _cursor the program sets is replaced");
	sk_buf_free(&b);
}

int main(void)
{
	numbers_as_jq();
	json_results();
	envelopes();
	return tap_done();
}
