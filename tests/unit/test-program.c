/* test-program.c - jq programs: compiling, running over JSON text and
 * json-c values, the conversions both ways (exact integers, doubles,
 * unicode, nesting, NUL in strings), results as text, envelopes and json-c,
 * and the expression helpers. */
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "tap.h"
#include "json.h"
#include "program.h"

/* Every result of a run, as compact JSON lines. */
static int collect(void *arg, const sk_result *r, sk_err *e)
{
	sk_buf *b = arg;

	if ((b->len && sk_buf_addc(b, '\n') < 0) || sk_result_add_json(r, b) < 0)
		return sk_err_set(e, EX_OSERR, "out of memory");
	return 0;
}

/* The results of program over the JSON text input, or "ERROR: message". */
static char *run_text(const char *program, const char *input, const sk_program_args *args)
{
	sk_buf b = { 0 };
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(program, args, &e);

	if (p == NULL || sk_program_run_text(p, input, strlen(input), collect, &b, &e) < 0) {
		sk_buf_reset(&b);
		sk_buf_printf(&b, "ERROR: %s", e.msg);
	}
	sk_buf_addc(&b, '\0');
	sk_program_free(p);
	return b.p;
}

/* The same over the json-c value json-c parses input into. */
static char *run_json(const char *program, const char *input)
{
	sk_json *jp = sk_json_new();
	sk_buf b = { 0 };
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(program, NULL, &e);
	json_object *in = sk_json_parse(jp, input, strlen(input), &e);

	if (p == NULL || sk_program_run_json(p, in, collect, &b, &e) < 0) {
		sk_buf_reset(&b);
		sk_buf_printf(&b, "ERROR: %s", e.msg);
	}
	sk_buf_addc(&b, '\0');
	json_object_put(in);
	sk_program_free(p);
	sk_json_free(jp);
	return b.p;
}

#define TEXT(prog, in, want, what) do { char *got_ = run_text(prog, in, NULL); \
	is_str(got_, want, "%s", what); free(got_); } while (0)
#define JSON(prog, in, want, what) do { char *got_ = run_json(prog, in); \
	is_str(got_, want, "%s", what); free(got_); } while (0)

static void compiling(void)
{
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(".[", NULL, &e);

	ok(p == NULL && e.code == EX_USAGE, "a syntax error does not compile (EX_USAGE)");
	ok(strncmp(e.msg, "jq: error: syntax error", 23) == 0, "with jq's message: %s", e.msg);
	ok(strchr(e.msg, '\n') == NULL, "on one line");
	ok(strstr(e.msg, "compile error") == NULL, "without jq's count of errors");
	p = sk_program_compile("foo(1) | bar", NULL, &e);
	ok(p == NULL && strstr(e.msg, "foo/1 is not defined") && strstr(e.msg, "; jq: error: bar/0 is not defined"),
	   "every error, in order: %s", e.msg);
	p = sk_program_compile("$nope", NULL, &e);
	ok(p == NULL && strstr(e.msg, "$nope is not defined"), "an unbound variable: %s", e.msg);
	p = sk_program_compile("import \"no_such_module\" as m; 1", NULL, &e);
	ok(p == NULL && e.code == EX_USAGE, "a missing module is an error, not an abort: %s", e.msg);
}

static void arguments(void)
{
	sk_program_args *a = sk_program_args_new();
	sk_err e = { 0 };
	char *got;

	ok(sk_program_args_add(a, "name", "Ada", &e) == 0, "--arg name");
	ok(sk_program_args_add(a, "name", "second", &e) == 0, "a repeated --arg is accepted");
	ok(sk_program_args_add_json(a, "n", "{\"k\":[1,2.5,null]}", &e) == 0, "--argjson n");
	ok(sk_program_args_add_json(a, "bad", "{", &e) < 0 && e.code == EX_USAGE, "--argjson with bad JSON: %s", e.msg);
	ok(sk_program_args_add(a, "1x", "v", &e) < 0 && e.code == EX_USAGE, "a name must not start with a digit");
	ok(sk_program_args_add(a, "a-b", "v", &e) < 0, "a name holds letters, digits and _ only");
	got = run_text("[$name, $n.k[1], $ARGS.named.name]", "null", a);
	is_str(got, "[\"Ada\",2.5,\"Ada\"]", "bound as $NAME and in $ARGS.named; the first binding wins");
	free(got);
	got = run_text("$ARGS.positional", "null", a);
	is_str(got, "[]", "$ARGS.positional is empty");
	free(got);
	sk_program_args_free(a);
	TEXT("$ENV.SK_TEST_PROGRAM, env.SK_TEST_PROGRAM", "null", "\"here\"\n\"here\"", "$ENV and env");
}

static void text_inputs(void)
{
	TEXT(".", "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
	     "{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}", "nested values come back as they went in");
	TEXT(".", " \t\r\n[1 , 2]\n ", "[1,2]", "white space around and inside");
	TEXT(".", "{\"k\":1,\"k\":2,\"j\":3}", "{\"k\":2,\"j\":3}", "a repeated key keeps its last value");
	TEXT(".[]", "[1,\"two\",[3]]", "1\n\"two\"\n[3]", "several results");
	TEXT("empty", "{}", "", "no result");
	TEXT(".a", "{\"a\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rf\\fb\\b\"}", "\"q\\\"b\\\\s/n\\nt\\tr\\rf\\fb\\b\"",
	     "escapes are decoded, and written back as jq writes them");
	TEXT(".", "\"\\u00e9\\u20ac\\ud83d\\ude00\"", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
	     "\\u escapes and surrogate pairs become UTF-8");
	TEXT(".", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "UTF-8 is kept as it is");
	TEXT(".", "\"\\udc00\"", "\"\xef\xbf\xbd\"", "a lone low surrogate is U+FFFD, as in jq");
	TEXT(".", "\"\\ud800x\"", "ERROR: jq: error: Invalid \\uXXXX\\uXXXX surrogate pair escape at line 1, column 9 "
	     "(while parsing '\"\\ud800x\"')", "a lone high surrogate is an error, as in jq");
	TEXT("., length", "\"a\\u0000b\"", "\"a\\u0000b\"\n3", "NUL in a string");
	TEXT(".", "\"\\u0001\\u001f\\u007f\"", "\"\\u0001\\u001f\\u007f\"", "control characters and DEL escaped");
	TEXT(".", "[0,-0,1.5,-2.25e3,1e-7,0.1,100,1e300,123456789012345]",
	     "[0,-0,1.5,-2250,1e-07,0.1,100,1e+300,123456789012345]", "numbers are written as jq writes them");
	TEXT(".", "[1e1000,-1e1000]", "[1.7976931348623157e+308,-1.7976931348623157e+308]", "infinities as jq");
	TEXT(".", "[9007199254740993,-9007199254740995,12345678901234567890]",
	     "[9007199254740993,-9007199254740995,12345678901234567890]",
	     "integers beyond 2^53 passed through keep their digits");
	TEXT(".a + 2, .a", "{\"a\":9007199254740993}", "9007199254740994\n9007199254740993",
	     "arithmetic on them is jq's (doubles)");
	TEXT(".[0]", "[9007199254740993,9007199254740992]", "9007199254740992",
	     "two integers with one double: written as jq writes it");
	TEXT("[.[] | tostring]", "[1,1.5,\"s\"]", "[\"1\",\"1.5\",\"s\"]", "tostring");
	TEXT(".", "nan", "null", "what is not strict JSON goes to jq's parser (nan)");
	TEXT(".", "[01]", "[1]", "jq's parser reads 01 as 1");
	TEXT(".", "{\"a\":", "ERROR: jq: error: Unfinished JSON term at EOF at line 1, column 5 (while parsing '{\"a\":')",
	     "text that is not JSON: jq's message");
	TEXT(".", "1 2", "ERROR: jq: error: Unexpected extra JSON values (while parsing '1 2')", "two values");
	TEXT(".", "", "ERROR: jq: error: Expected JSON value (while parsing '')", "no value");
}

/* Nested arrays, depth deep, around 1. */
static char *nested(int depth)
{
	char *s = malloc((size_t)depth * 2 + 2);
	int i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth + 1 + i] = ']';
	}
	s[depth] = '1';
	s[depth * 2 + 1] = '\0';
	return s;
}

/* Text cJSON would read otherwise than jq is read by jq's parser. */
static void as_jq_reads_it(void)
{
	char *deep, *got, *want;

	TEXT(".", "\"a\tb\"", "ERROR: jq: error: Invalid string: control characters from U+0000 through U+001F "
	     "must be escaped at line 1, column 5 (while parsing '\"a\tb\"')", "a raw tab in a string is an error, as in jq");
	TEXT(".", "\"a\x1f\"", "\"a\\u001f\"", "a raw U+001F in a string is not, as in jq 1.6");
	TEXT(".", "{\f\"a\":1}", "ERROR: jq: error: Invalid numeric literal at line 1, column 3 (while parsing '{\f\"a\":1}')",
	     "a form feed is no white space, as in jq");
	TEXT(".", "\"a\\u0000\\\\u0000\"", "\"a\\u0000\\\\u0000\"", "\\u0000 and an escaped backslash before u0000");
	TEXT(".", "\xef\xbb\xbf{\"a\":1}", "{\"a\":1}", "a UTF-8 byte order mark is skipped, as in jq");
	TEXT(".", "{\"a\xff\":\"b\xc3\"}", "{\"a\xef\xbf\xbd\":\"b\xef\xbf\xbd\"}",
	     "bytes that are not UTF-8 become U+FFFD, as in jq");
	TEXT(".", "[09007199254740993,-01]", "[9007199254740992,-1]", "leading zeros: jq's numbers, no digits kept");
	TEXT(".[1] + 1", "[\"\\\"9007199254740993\",9007199254740991,1e16]", "9007199254740992",
	     "digits in a string are no integer of the input");
	TEXT(".", "[1, 2] ", "[1,2]", "spaces after the value");
	TEXT(".", "{\"a\":1}{\"b\":2}", "ERROR: jq: error: Unexpected extra JSON values (while parsing "
	     "'{\"a\":1}{\"b\":2}')", "a second value after the first");
	TEXT(".", "[1e5, 1.5E-3, 1.]", "[100000,0.0015,1]", "exponents, and 1. as jq reads it");
	deep = nested(256);
	want = nested(256);
	got = run_text(".", deep, NULL);
	is_str(got, want, "256 nested arrays");
	free(got);
	free(deep);
	free(want);
	deep = nested(257);
	got = run_text(".", deep, NULL);
	ok(strstr(got, "ERROR: jq: error: Exceeds depth limit for parsing") == got, "257 are too deep for jq: %.60s", got);
	free(got);
	free(deep);
}

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

static void fromjson(void)
{
	TEXT(".line | fromjson | .b", "{\"line\":\"{\\\"a\\\":1,\\\"b\\\":[2,3]}\"}", "[2,3]", "fromjson");
	TEXT(".[] | tonumber", "[\"12\",\" 7 \",\"1e2\"]", "12\n7\n100", "tonumber, jq's way (spaces allowed)");
	TEXT(".[] | try fromjson catch .", "[\"{\",\"nan\",\"[1,]\"]",
	     "\"Unfinished JSON term at EOF at line 1, column 1 (while parsing '{')\"\nnull\n"
	     "\"Expected another array element at line 1, column 4 (while parsing '[1,]')\"",
	     "fromjson's errors and leniency are jq's");
	TEXT("tojson | fromjson", "{\"u\":\"\\u0000\xc3\xa9\",\"n\":[1.5,-0]}", "{\"u\":\"\\u0000\xc3\xa9\",\"n\":[1.5,-0]}",
	     "tojson | fromjson round trip");
}

static void runtime_errors(void)
{
	TEXT(".a.b", "{\"a\":1}", "ERROR: jq: error: Cannot index number with string \"b\"", "a runtime error");
	TEXT("error({\"x\":1})", "null", "ERROR: jq: error (not a string): {\"x\":1}", "an error that is not a string");
	TEXT("error(\"two\\nlines\")", "null", "ERROR: jq: error: two lines", "an error message stays on one line");
	TEXT("1, error(\"e\")", "null", "ERROR: jq: error: e", "an error after a result");
	TEXT("halt_error", "\"bye\\n\"", "ERROR: jq: halted: bye ", "halt_error");
	TEXT("halt", "1", "ERROR: jq: halted", "halt");
	TEXT("try error(\"x\") catch .", "null", "\"x\"", "try/catch");
	TEXT("\"abc\" | test(\"B\"; \"i\")", "null", "true", "regular expressions (oniguruma)");
}

static void json_inputs(void)
{
	JSON(".", "{\"s\":\"t\",\"i\":-42,\"d\":2.5,\"b\":true,\"n\":null,\"a\":[1,{\"x\":[]}],\"o\":{}}",
	     "{\"s\":\"t\",\"i\":-42,\"d\":2.5,\"b\":true,\"n\":null,\"a\":[1,{\"x\":[]}],\"o\":{}}",
	     "json-c values of every type convert");
	JSON(".", "[9223372036854775807,-9223372036854775808,18446744073709551615,9007199254740993]",
	     "[9223372036854775807,-9223372036854775808,18446744073709551615,9007199254740993]",
	     "64-bit integers convert exactly");
	JSON(".", "\"\xe2\x82\xac\\u0000x\"", "\"\xe2\x82\xac\\u0000x\"", "unicode and NUL in strings");
	JSON(".", "null", "null", "null (json-c's NULL)");
	JSON("{a: .x}", "{\"x\":0.1}", "{\"a\":0.1}", "a double");
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
		return sk_err_set(e, EX_OSERR, "out of memory");
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

static void expressions(void)
{
	sk_json *jp = sk_json_new();
	sk_err e = { 0 };
	const char *text = "{\"k\":\"key\",\"p\":3,\"f\":2.5,\"big\":9007199254740993,\"o\":{\"a\":1}}";
	json_object *in = sk_json_parse(jp, text, strlen(text), &e);
	sk_program *p;
	char *s = NULL;
	size_t n = 0;
	int64_t i = 0;
	int runs;

#define EXPR(prog) (sk_program_free(p), p = sk_program_compile(prog, NULL, &e))
	p = NULL;
	EXPR(".k");
	ok(sk_program_first_string(p, in, &s, &n, &e) == 1 && n == 3 && strcmp(s, "key") == 0, "a string result");
	free(s);
	EXPR(".o");
	ok(sk_program_first_string(p, in, &s, &n, &e) == 1 && strcmp(s, "{\"a\":1}") == 0, "another as JSON text");
	free(s);
	EXPR(".missing");
	ok(sk_program_first_string(p, in, &s, &n, &e) == 0, "null is no value");
	EXPR(".p");
	ok(sk_program_first_int(p, in, &i, &e) == 1 && i == 3, "an integer");
	EXPR(".big");
	ok(sk_program_first_int(p, in, &i, &e) == 1 && i == 9007199254740993LL, "an integer beyond 2^53, exactly");
	EXPR(".f");
	ok(sk_program_first_int(p, in, &i, &e) < 0 && e.code == EX_DATAERR, "2.5 is not an integer: %s", e.msg);
	EXPR(".k");
	ok(sk_program_first_int(p, in, &i, &e) < 0 && strstr(e.msg, "got string"), "nor is a string: %s", e.msg);
	EXPR("empty");
	ok(sk_program_first_int(p, in, &i, &e) == 0, "no result");
	EXPR(".k | error");
	ok(sk_program_first_int(p, in, &i, &e) < 0 && strcmp(e.msg, "jq: error: key") == 0, "an error: %s", e.msg);
	EXPR(".p");
	for (runs = 0; runs < 1000; runs++)
		if (sk_program_first_int(p, in, &i, &e) != 1 || i != 3)
			break;
	ok(runs == 1000, "a program runs again and again");
	sk_program_free(p);
	json_object_put(in);
	sk_json_free(jp);
}

int main(void)
{
	setenv("SK_TEST_PROGRAM", "here", 1);
	compiling();
	arguments();
	text_inputs();
	as_jq_reads_it();
	numbers_as_jq();
	fromjson();
	runtime_errors();
	json_inputs();
	json_results();
	envelopes();
	expressions();
	return tap_done();
}
