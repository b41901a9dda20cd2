/* test-json-write.c - JSON text out: string escaping, what is written
 * back as it was read, --json embedding and base64. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "json.h"

static sk_json *p;

/* The text of s as a JSON string literal. */
static char *str(const char *s, size_t n)
{
	sk_buf b = {0};

	sk_json_add_string(&b, s, n);
	return b.p;
}

/* A literal written by sk_json_add_string is valid JSON that decodes to a string. */
static int valid_literal(const char *lit)
{
	sk_err e;
	json_object *o = sk_json_parse(p, lit, strlen(lit), &e);
	int good = o && json_object_is_type(o, json_type_string);

	json_object_put(o);
	return good;
}

static void strings(void)
{
	char *s;

	s = str("plain", 5);
	is_str(s, "\"plain\"", "plain text");
	free(s);
	s = str("q\"b\\n\nt\t", 8);
	is_str(s, "\"q\\\"b\\\\n\\nt\\t\"", "quotes, backslashes and controls escaped");
	free(s);
	s = str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
	is_str(s, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "valid UTF-8 kept as is");
	free(s);
	s = str("a\xff" "b\xc3", 4);
	is_str(s, "\"a\\u00ffb\\u00c3\"", "invalid and truncated UTF-8 escaped as \\u00XX");
	ok(valid_literal(s), "and the result is valid JSON");
	free(s);
	s = str("\xed\xa0\x80\xc0\xaf", 5);
	ok(valid_literal(s), "surrogates and overlong forms give valid JSON: %s", s);
	free(s);
	s = str("nul\0x", 5);
	is_str(s, "\"nul\\u0000x\"", "NUL byte escaped");
	free(s);
}

/* What sk_json_written_as says of the one value of {"v":TEXT}; *same is
 * set when sk_json_add_object writes the value as TEXT. */
static int written_as(const char *text, int *same)
{
	char s[128];
	sk_buf b = {0};
	sk_err e;
	json_object *o, *v;
	int says;

	snprintf(s, sizeof s, "{\"v\":%s}", text);
	o = sk_json_parse(p, s, strlen(s), &e);
	json_object_object_get_ex(o, "v", &v);
	says = sk_json_written_as(v, text, strlen(text));
	sk_json_add_object(&b, v);
	*same = b.p && strcmp(b.p, text) == 0;
	sk_buf_free(&b);
	json_object_put(o);
	return says;
}

/* The escapes of one byte or sequence, as the page of RFC 8259 says. */
static size_t reference_one(const unsigned char *u, size_t n, char *o, size_t *used)
{
	unsigned char c = u[0];

	*used = 1;
	if (c == '"' || c == '\\')
		return (size_t)sprintf(o, "\\%c", c);
	if (c == '\n')
		return (size_t)sprintf(o, "\\n");
	if (c == '\t')
		return (size_t)sprintf(o, "\\t");
	if (c >= 0x20 && c < 0x7f) {
		*o = (char)c;
		return 1;
	}
	if (c == 0xc3 && n >= 2 && u[1] >= 0x80 && u[1] < 0xc0) {   /* the two-byte sequences used below */
		memcpy(o, u, 2);
		*used = 2;
		return 2;
	}
	if (c == 0x7f) {
		*o = (char)c;
		return 1;
	}
	return (size_t)sprintf(o, "\\u%04x", c);
}

/* Every special byte at every place of strings longer than a word: the
 * eight-byte path and the byte path agree with the reference. */
static void strings_by_words(void)
{
	static const char *const specials[] = { "\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9",
	                                        "\xff", "\xc3", " ", "~" };
	char in[64], want[512];
	sk_buf b = { 0 };
	size_t len, at, k, i, n, used, bad = 0;

	for (len = 1; len <= 40; len += 3)
		for (at = 0; at < len; at++)
			for (k = 0; k < sizeof specials / sizeof *specials; k++) {
				size_t sl = strlen(specials[k]);
				memset(in, 'a', sizeof in);
				memcpy(in + at, specials[k], sl);
				n = len + sl;
				strcpy(want, "\"");
				for (i = 0, used = 0; i < n; i += used) {
					size_t w = strlen(want);
					want[w + reference_one((const unsigned char *)in + i, n - i, want + w, &used)] = '\0';
				}
				strcat(want, "\"");
				sk_buf_reset(&b);
				if (sk_json_add_string(&b, in, n) < 0 || strcmp(b.p, want) != 0) {
					if (bad++ < 3)
						printf("# len %zu, '%s' at %zu: got %s, want %s\n", n, specials[k], at, b.p, want);
				}
			}
	is_int(bad, 0, "strings of every length up to 40, a special byte at every place: escaped as the reference");
	sk_buf_free(&b);
}

static void written_back(void)
{
	static const char *const same[] = {
		"0", "-1", "123456789012345678", "9223372036854775807", "-9223372036854775808",
		"18446744073709551615", "1.50", "1E2", "-0.0", "0.1e-5", "\"caf\xc3\xa9\"", "true", "false", "null",
	};
	size_t i;
	int is_same;

	for (i = 0; i < sizeof same / sizeof same[0]; i++)
		ok(written_as(same[i], &is_same) && is_same, "%s is written back as it came", same[i]);
	ok(!written_as("-0", &is_same) && !is_same, "-0 is written back as 0, and said so");
	ok(!written_as("[1]", &is_same) && !written_as("{\"a\":1}", &is_same), "arrays and objects are not taken");
}

static void embedding(void)
{
	sk_buf b = {0};

	sk_json_add_text(&b, p, " {\"a\":1} ", 9, 1);
	is_str(b.p, "{\"a\":1}", "JSON text is embedded when asked");
	sk_buf_reset(&b);
	sk_json_add_text(&b, p, "{\"a\":1}", 7, 0);
	is_str(b.p, "\"{\\\"a\\\":1}\"", "and kept as a string otherwise");
	sk_buf_reset(&b);
	sk_json_add_text(&b, p, "hello", 5, 1);
	is_str(b.p, "\"hello\"", "text that is not JSON stays a string");
	sk_buf_reset(&b);
	sk_json_add_text(&b, p, "[\"a\tb\"]", 7, 1);
	ok(valid_literal("\"x\"") && (strcmp(b.p, "\"[\\\"a\\tb\\\"]\"") == 0),
	   "JSON with a raw tab in a string is not embedded: %s", b.p);
	sk_buf_reset(&b);
	sk_json_add_text(&b, p, "42", 2, 1);
	is_str(b.p, "42", "numbers embed");
	sk_buf_free(&b);
}

static void base64(void)
{
	static const struct { const char *in; const char *out; } v[] = {
		{ "", "\"\"" }, { "f", "\"Zg==\"" }, { "fo", "\"Zm8=\"" }, { "foo", "\"Zm9v\"" },
		{ "foob", "\"Zm9vYg==\"" }, { "\xff\x00\x80", "\"/wCA\"" },
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		sk_buf b = {0};
		size_t n = i == 5 ? 3 : strlen(v[i].in);
		sk_json_add_base64(&b, (const unsigned char *)v[i].in, n);
		is_str(b.p ? b.p : "", v[i].out, "base64 of %zu bytes", n);
		sk_buf_free(&b);
	}
}

int main(void)
{
	p = sk_json_new();
	strings();
	strings_by_words();
	written_back();
	embedding();
	base64();
	sk_json_free(p);
	return tap_done();
}
