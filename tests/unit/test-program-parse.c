/* test-program-parse.c - inputs of jq programs: JSON text (through cJSON
 * or jq's own parser, exact integers, unicode, nesting, NUL in strings),
 * json-c values, and envelopes whose value --json read already. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "program-run.h"

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

/* An envelope as the sources write one, {"line":VALUE,"offset":7,...},
 * VALUE embedded by a parser that keeps what it reads; then jq's input
 * read with the value kept against the whole text read again. */
static void kept(const char *value, int kept_want, const char *what)
{
	sk_json *p = sk_json_new();
	sk_json_kept k = { 0 };
	sk_program_text *with, *again;
	char *a = NULL, *b = NULL;
	void *tree;
	sk_buf env = { 0 };

	sk_json_keep_values(p);
	sk_buf_adds(&env, "{\"partition\":0,\"line\":");
	sk_json_add_text(&env, p, value, strlen(value), 1);
	sk_buf_adds(&env, ",\"headers\":{\"h\":[\"x\",\"y\"]},\"_cursor\":\"c:0:1\"}");
	sk_json_take_kept(p, &env, 0, &k);
	tree = k.tree;
	is_int(tree != NULL, kept_want, "%s: %s", what, kept_want ? "the value read is kept" : "nothing is kept");
	with = sk_program_read_with(env.p, env.len, &k);
	again = sk_program_read_text(env.p, env.len);
	ok(k.tree == NULL, "%s: the tree is taken", what);
	if (kept_want)
		ok(with && cJSON_GetObjectItemCaseSensitive((cJSON *)with, "line") == tree,
		   "%s: the envelope holds the value read, not read again", what);
	if (with)
		a = cJSON_PrintUnformatted((cJSON *)with);
	if (again)
		b = cJSON_PrintUnformatted((cJSON *)again);
	is_str(a, b, "%s: as the whole envelope read", what);
	free(a);
	free(b);
	sk_program_text_free(with);
	sk_program_text_free(again);
	sk_buf_free(&env);
	sk_json_free(p);
}

/* What is kept goes to the envelope it went into, and to no other. */
static void kept_elsewhere(void)
{
	sk_json *p = sk_json_new();
	sk_json_kept k = { 0 };
	sk_buf a = { 0 }, b = { 0 };

	sk_json_keep_values(p);
	sk_buf_adds(&a, "{\"line\":");
	sk_buf_adds(&b, "{\"other\":1234567890}");
	sk_json_add_text(&a, p, "[1]", 3, 1);
	sk_json_take_kept(p, &b, 0, &k);
	ok(k.tree == NULL, "a value added to another buffer is not taken");
	sk_json_add_text(&a, p, "[2]", 3, 1);
	sk_json_take_kept(p, &a, a.len, &k);
	ok(k.tree == NULL, "nor one added before the envelope's start");
	sk_json_add_text(&a, p, "[3]", 3, 1);
	sk_json_add_text(&a, p, "not json", 8, 1);
	sk_json_take_kept(p, &a, 0, &k);
	ok(k.tree == NULL, "nor one before a value that is not JSON");
	sk_buf_reset(&a);
	sk_buf_adds(&a, "{\"line\":");
	sk_json_add_text(&a, p, " [4] ", 5, 1);
	sk_json_take_kept(p, &a, 0, &k);
	is_int(k.tree ? (long long)k.at * 100 + (long long)k.len : -1, 8 * 100 + 3,
	       "the place of a value is its text without the white space around it");
	sk_json_take_kept(p, &a, 0, &k);
	ok(k.tree == NULL, "a value is taken once");
	/* A place that is not a member's value: the text is read whole. */
	sk_buf_adds(&a, "}");
	sk_buf_reset(&b);
	sk_json_add_text(&b, p, "[4]", 3, 1);
	sk_json_take_kept(p, &b, 0, &k);
	k.at = 1;
	{
		sk_program_text *t = sk_program_read_with(a.p, a.len, &k);
		char *s = t ? cJSON_PrintUnformatted((cJSON *)t) : NULL;
		is_str(s, "{\"line\":[4]}", "a place that is no member's value: the text is read whole");
		free(s);
		sk_program_text_free(t);
	}
	sk_json_kept_free(&k);
	sk_buf_free(&a);
	sk_buf_free(&b);
	sk_json_free(p);
}

static void kept_values(void)
{
	kept("{\"meta\":{\"uri\":\"https://de.wikipedia.org/wiki/Reykjav\xc3\xadk\",\"offset\":5000000001},"
	     "\"length\":{\"old\":1,\"new\":2},\"comment\":\"rv\\tvandalism \\\"q\\\" \\\\ \\/ \\u00e9\\ud83d\\ude00\",\"a\":[[[]],{}]}",
	     1, "nested objects, unicode and every escape");
	kept("[9007199254740993,-0,1.5e300,1e-7,true,false,null]", 1, "numbers and literals");
	kept("\"a string\"", 1, "a string");
	kept("12345", 1, "a number");
	kept("{\"k\":1,\"k\":2}", 1, "a repeated key");
	kept("\"a\\u0000b\"", 0, "\\u0000, which cJSON cannot hold");
	kept("{\"a\":", 0, "text that is not JSON");
	kept_elsewhere();
}

int main(void)
{
	text_inputs();
	as_jq_reads_it();
	json_inputs();
	kept_values();
	return tap_done();
}
