/* test-json-write.c - JSON text out: string escaping, what is written
 * back as it was read, --json embedding and base64. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "json.h"
#include "simd.h"

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

/* The length of the well-formed UTF-8 sequence at u, by the table of
 * The Unicode Standard (3.9, Table 3-7), or 0. */
static size_t reference_utf8(const unsigned char *u, size_t n)
{
	static const struct { unsigned char lo, hi, second_lo, second_hi; size_t len; } rows[] = {
		{ 0xc2, 0xdf, 0x80, 0xbf, 2 }, { 0xe0, 0xe0, 0xa0, 0xbf, 3 }, { 0xe1, 0xec, 0x80, 0xbf, 3 },
		{ 0xed, 0xed, 0x80, 0x9f, 3 }, { 0xee, 0xef, 0x80, 0xbf, 3 }, { 0xf0, 0xf0, 0x90, 0xbf, 4 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4 }, { 0xf4, 0xf4, 0x80, 0x8f, 4 },
	};
	size_t r, k;

	for (r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		if (u[0] < rows[r].lo || u[0] > rows[r].hi)
			continue;
		if (n < rows[r].len || u[1] < rows[r].second_lo || u[1] > rows[r].second_hi)
			return 0;
		for (k = 2; k < rows[r].len; k++)
			if (u[k] < 0x80 || u[k] > 0xbf)
				return 0;
		return rows[r].len;
	}
	return 0;
}

/* The escapes of one byte or sequence, as RFC 8259 allows and as we
 * write them: the short escapes where there is one, \u00XX for the other
 * controls and for a byte that is not well-formed UTF-8. */
static size_t reference_one(const unsigned char *u, size_t n, char *o, size_t *used)
{
	static const char shorts[] = "\"\"\\\\\nn\rr\tt\bb\ff";
	unsigned char c = u[0];
	size_t k;

	*used = 1;
	for (k = 0; shorts[k]; k += 2)
		if (c == (unsigned char)shorts[k])
			return (size_t)sprintf(o, "\\%c", shorts[k + 1]);
	if (c >= 0x20 && c <= 0x7f) {
		*o = (char)c;
		return 1;
	}
	if (c >= 0x80 && (k = reference_utf8(u, n)) > 0) {
		memcpy(o, u, k);
		*used = k;
		return k;
	}
	return (size_t)sprintf(o, "\\u%04x", c);
}

/* in[0..n) as the reference writes it inside a string, at o: its length. */
static size_t reference_chars(const char *in, size_t n, char *o)
{
	size_t i, used, w = 0;

	for (i = 0; i < n; i += used)
		w += reference_one((const unsigned char *)in + i, n - i, o + w, &used);
	return w;
}

/* in[0..n) as the reference writes it, quoted, in want (NUL-ended). */
static void reference(const char *in, size_t n, char *want)
{
	size_t w = 1;

	want[0] = '"';
	w += reference_chars(in, n, want + w);
	want[w++] = '"';
	want[w] = '\0';
}

/* The escaping paths, each where the machine has it (a path it lacks is
 * the next one down, taken again): AVX-512's (VBMI2), AVX2's, SSSE3's and
 * the sixteen-byte one of SSE2. */
static const char *const path_names[SK_SIMD_PATHS] = { "the machine's path", "the path without AVX-512",
                                                          "the SSSE3 path", "the 16-byte path" };

/* Every special byte or sequence at every place of strings of every length
 * up to 100 (past blocks of 16, 32 and 64 bytes): as the reference, on
 * each path. */
static void strings_by_blocks(void)
{
	static const char *const specials[] = { "\"", "\\", "\n", "\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f",
	                                        "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
	                                        "\xff", "\xc3", "\xe2\x82", "\xc0\xaf", " ", "~" };
	char in[128], want[1024];
	sk_buf b = { 0 };
	size_t len, at, k, n, bad;
	int path;

	for (path = 0; path < SK_SIMD_PATHS; path++) {
		sk_simd_portable(path);
		bad = 0;
		for (len = 1; len <= 100; len++)
			for (at = 0; at < len; at++)
				for (k = 0; k < sizeof specials / sizeof *specials; k++) {
					size_t sl = strlen(specials[k]);

					memset(in, 'a', sizeof in);
					memcpy(in + at, specials[k], sl);
					n = len + sl - 1;
					reference(in, n, want);
					sk_buf_reset(&b);
					if (sk_json_add_string(&b, in, n) < 0 || strcmp(b.p, want) != 0) {
						if (bad++ < 3)
							printf("# len %zu, '%s' at %zu: got %s, want %s\n", n, specials[k], at, b.p, want);
					}
				}
		is_int(bad, 0, "%s: a special byte at every place of every length up to 100, escaped as the reference",
		       path_names[path]);
	}
	sk_simd_portable(0);
	sk_buf_free(&b);
}

/* A UTF-8 sequence at every place of strings up to 100 bytes, and a
 * second byte to look at at every place after it: a quote, a control, a
 * byte that is not UTF-8, a sequence cut short; so that a sequence that
 * goes on past a block of 16, 32 or 64 bytes is followed by a block that
 * must be escaped byte by byte. As the reference, on each path. */
static void strings_utf8_across_blocks(void)
{
	static const char *const seqs[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	static const char *const after[] = { "\"", "\x01", "\n", "\xff", "\xe2\x82", "\xc3\xa9" };
	char in[160], want[1024];
	sk_buf b = { 0 };
	size_t at, at2, i, k, n, bad;
	int path;

	for (path = 0; path < SK_SIMD_PATHS; path++) {
		sk_simd_portable(path);
		bad = 0;
		for (i = 0; i < sizeof seqs / sizeof *seqs; i++)
			for (at = 0; at < 70; at++)
				for (at2 = at + strlen(seqs[i]); at2 < 100; at2++)
					for (k = 0; k < sizeof after / sizeof *after; k++) {
						memset(in, 'a', sizeof in);
						memcpy(in + at, seqs[i], strlen(seqs[i]));
						memcpy(in + at2, after[k], strlen(after[k]));
						n = at2 + strlen(after[k]) + (at2 + k) % 7;
						reference(in, n, want);
						sk_buf_reset(&b);
						if (sk_json_add_string(&b, in, n) < 0 || strcmp(b.p, want) != 0) {
							if (bad++ < 3)
								printf("# sequence %zu at %zu, byte %zu at %zu: got %s, want %s\n", i, at, k,
								       at2, b.p, want);
						}
					}
		is_int(bad, 0, "%s: UTF-8 at every place, then a byte to escape at every place after it, as the reference",
		       path_names[path]);
	}
	sk_simd_portable(0);
	sk_buf_free(&b);
}

/* Random strings, thick with what needs a look (quotes, controls, UTF-8
 * whole, cut and malformed, runs of it), of every length up to 300: as the
 * reference on each path, written at once and in two pieces with
 * sk_json_add_chars (cut where a sequence may be: it is then not UTF-8). */
static void strings_at_random(void)
{
	static const char *const pieces[] = {
		"\"", "\\", "\n", "\t", "\r", "\b", "\f", "\x00", "\x1b", "\x7f", "\xc3\xa9", "\xd0\x96\xd0\xb8",
		"\xe2\x80\xa8", "\xef\xbf\xbd", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80",
		"\xed\x9f\xbf", "\xed\xa0\x80", "\xe0\x9f\xbf", "\xc1\xbf", "\x80", "\xbf", "\xfe",
		"\xf8\x88\x80\x80\x80", "\xe2", "\xf0\x9f",
		/* plain, the last 7 */
		"a", "Z", "0", " ", "<a href=", "}", "Reykjavik",
	};
	const size_t npieces = sizeof pieces / sizeof *pieces;
	char in[400], want[4096], want2[4096];
	sk_buf b = { 0 }, c = { 0 };
	unsigned long long x = 88172645463325252ull;
	size_t n, cut, k, bad, round, len;
	int path;

	for (path = 0; path < SK_SIMD_PATHS; path++) {
		sk_simd_portable(path);
		bad = 0;
		for (round = 0; round < 20000; round++) {
			for (n = 0, len = round % 301; n < len;) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				/* Plain text half the time. */
				k = x % 2 ? npieces - 7 + x / 2 % 7 : x / 2 % npieces;
				if (n + strlen(pieces[k]) + 1 > sizeof in)
					break;
				memcpy(in + n, pieces[k], strlen(pieces[k]) + 1);
				n += strlen(pieces[k]) + (pieces[k][0] == '\0');     /* "\x00" is one byte: NUL */
			}
			reference(in, n, want);
			cut = (size_t)(x >> 20) % (n + 1);
			/* The two pieces, each escaped alone. */
			k = 0;
			want2[k++] = '"';
			k += reference_chars(in, cut, want2 + k);
			k += reference_chars(in + cut, n - cut, want2 + k);
			want2[k++] = '"';
			want2[k] = '\0';
			sk_buf_reset(&b);
			sk_buf_reset(&c);
			if (sk_json_add_string(&b, in, n) < 0 || strcmp(b.p, want) != 0 || sk_buf_addc(&c, '"') < 0 ||
			    sk_json_add_chars(&c, in, cut) < 0 || sk_json_add_chars(&c, in + cut, n - cut) < 0 ||
			    sk_buf_addc(&c, '"') < 0 || strcmp(c.p, want2) != 0) {
				if (bad++ < 3)
					printf("# round %zu (%zu bytes, cut at %zu): got %s and %s, want %s and %s\n", round, n, cut,
					       b.p, c.p, want, want2);
			}
		}
		is_int(bad, 0, "%s: 20000 random strings up to 300 bytes, escaped as the reference, whole and in two",
		       path_names[path]);
	}
	sk_simd_portable(0);
	sk_buf_free(&b);
	sk_buf_free(&c);
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
	strings_by_blocks();
	strings_utf8_across_blocks();
	strings_at_random();
	written_back();
	embedding();
	base64();
	sk_json_free(p);
	return tap_done();
}
