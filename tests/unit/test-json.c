#define _DEFAULT_SOURCE 1   /* MAP_ANONYMOUS */
/* test-json.c - strict parsing, exact integers, plain members, written
 * objects (on every SIMD path the machine has, and built without SIMD as
 * test-json-portable), what --json embeds, and UTF-8 validation. Writing
 * JSON text is test-json-write.c's. */
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "json_impl.h"

static sk_json *p;

static void parsing(void)
{
	static const char *const good[] = {
		"{}", "[]", "1", "-0.5e3", "\"s\"", "true", "null", " {\"a\":[1,2,{\"b\":null}]} ",
		"{\"big\":9007199254740993}",
	};
	static const char *const bad[] = {
		"", "   ", "{", "{\"a\":1,}", "[1,]", "{'a':1}", "nul", "01", "{\"a\":1} x", "NaN",
		"\"a\xff\"", "[1] [2]", "[1.]", "[Infinity]", "[\"a\tb\"]",
		/* What json-c's strict mode lets through. */
		"00", "[-01]", "{\"a\":00}", "\"\xed\xa0\x80\"", "\"\xc0\x80\"", "\"\xf4\x90\x80\x80\"", "[.5]",
	};
	sk_err e;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		json_object *o = sk_json_parse(p, good[i], strlen(good[i]), &e);
		ok(o != NULL || strcmp(good[i], "null") == 0, "parses %s", good[i]);
		json_object_put(o);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sk_err_clear(&e);
		json_object *o = sk_json_parse(p, bad[i], strlen(bad[i]), &e);
		ok(o == NULL && e.code == EX_DATAERR && e.msg[0], "refuses '%s': %s", bad[i], e.msg);
		json_object_put(o);
	}
	{
		const char *t = "{\"big\":9007199254740993,\"f\":1.10}";
		json_object *o = sk_json_parse(p, t, strlen(t), &e), *v;
		json_object_object_get_ex(o, "big", &v);
		is_int(json_object_get_int64(v), 9007199254740993LL, "integers above 2^53 stay exact");
		sk_buf b = {0};
		sk_json_add_object(&b, o);
		is_str(b.p, t, "numbers are written back as they were read");
		sk_buf_free(&b);
		json_object_put(o);
	}
}

/* The message sk_json_parse gives for s, or "" when it parses. */
static const char *refusal(sk_json *q, const char *s, sk_err *e)
{
	json_object *o;

	sk_err_clear(e);
	o = sk_json_parse(q, s, strlen(s), e);
	json_object_put(o);
	return o ? "" : e->msg;
}

static void exact_integers(void)
{
	sk_json *q = sk_json_new();
	sk_err e;

	is_str(refusal(q, "[18446744073709551616]", &e), "", "json-c's own mode takes an integer it would clamp");
	sk_json_exact_integers(q);
	is_str(refusal(q, "[18446744073709551615,-9223372036854775808]", &e), "",
	       "exact integers: the 64-bit limits parse");
	is_str(refusal(q, "{\"a\":18446744073709551616}", &e),
	       "number at byte 6: integer out of the 64-bit range (write it as a string)", "2^64 is refused");
	is_str(refusal(q, "[-9223372036854775809]", &e),
	       "number at byte 2: integer out of the 64-bit range (write it as a string)", "-2^63-1 is refused");
	is_str(refusal(q, "[123456789012345678901234567890.5,1e400]", &e), "",
	       "numbers with a fraction or an exponent keep their text and parse");
	sk_json_free(q);
}

/* The text of the members sk_json_plain_members reports, "k=v;..." */
static char *members_of(const char *s)
{
	const sk_json_member *m;
	sk_buf b = {0};
	sk_err e;
	json_object *o = sk_json_parse(p, s, strlen(s), &e);
	size_t i, n = sk_json_plain_members(p, &m);

	sk_buf_adds(&b, "");
	for (i = 0; i < n; i++)
		sk_buf_printf(&b, "%.*s=%.*s;", (int)m[i].key_len, s + m[i].key, (int)m[i].value_len, s + m[i].value);
	json_object_put(o);
	return b.p;
}

static void plain_members(void)
{
	static const struct { const char *in, *want; } v[] = {
		{ "{\"a\":1,\"bc\":\"x,y:z}\",\"d\":null,\"e\":-1.5e3}",
		  "a=1;bc=\"x,y:z}\";d=null;e=-1.5e3;" },
		{ "{\"\xc3\xa9\":true}", "\xc3\xa9=true;" },
		{ "{\"a\": 1}", "" },                          /* white space */
		{ " {\"a\":1}", "" },
		{ "{\"a\":\"x\\ny\"}", "" },                      /* an escape */
		{ "{\"a\":[1]}", "" },                         /* nesting */
		{ "{\"a\":{}}", "" },
		{ "[1,2]", "" },                                 /* not an object */
		{ "{\"a\":1,}", "" },                          /* not JSON */
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		char *got = members_of(v[i].in);
		is_str(got, v[i].want, "plain members of %s", v[i].in);
		free(got);
	}
}

/* 1 when the strict parser takes s as an object. */
static int parses_as_object(const char *s, size_t n)
{
	sk_err e;
	json_object *o = sk_json_parse(p, s, n, &e);
	int good = o && json_object_is_type(o, json_type_object);

	json_object_put(o);
	return good;
}

static void diag_text(const char *s, size_t n)
{
	printf("#   taken, but not JSON: %.*s\n", (int)n, s);
}

static void written_objects(void)
{
	static const char *const yes[] = {
		"{\"a\":1}", "{\"a\":-0.5e+3,\"b\":\"x,y:z}\",\"c\":true,\"d\":false,\"e\":null,\"f\":\"\"}",
		"{\"\":0}", "{\"a\":1E2,\"a\":2}", "{\"a\":[1]}", "{\"a\":[],\"b\":{}}",
		"{\"a\":{\"b\":[1,{\"c\":null}],\"d\":\"e\"}}", "{\"a\":\"q\\\"b\\\\n\\nr\\rt\\tb\\bf\\f\"}",
		"{\"a\":\"\\u0000\\u001f\\u000b\"}", "{\"\\n\":1}", "{\"a\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \x7f\"}",
		"{\"a\":{\"b\":1,\"c\":{\"b\":2}}}", "{\"a\":-0.0,\"b\":[999999999999999999,-1.5e300]}",
		"{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}",
	};
	static const char *const no[] = {
		"{}", "{\"a\":1,}", "{\"a\":}", "{\"a\"}", "{\"a\"::1}", "{\"a\":1:2}", "{\"a\":1\"b\":2}",
		"{\"a\":tru}", "{\"a\":nul}", "{\"a\":sun}", "{\"a\":truex}", "{\"a\":-}", "{\"a\":1e}",
		"{\"a\":1.}", "{\"a\":01}", "{\"a\":1-2}", "{\"a\":\"x\"\"y\"}", "{\"a\":\"x\"1}",
		"{\"a\":1}}", "{\"a\":1}x", "{,\"a\":1}", "{\"a\",\"b\":1}", "{\"a\": 1}", "{\"a\":[1 ]}",
		"[1]", "{\"a\":1,\"b\"}", "{\"a\":1,,\"b\":2}", "{1:2}", "{\"a\":[1,]}", "{\"a\":[,1]}",
		"{\"a\":{\"b\":1,}}", "{\"a\":{\"b\"}}", "{\"a\":[1}", "{\"a\":{\"b\":1]}", "{\"a\":[1]]}",
		/* JSON, but json-c writes it otherwise. */
		"{\"a\":\"\\/\"}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\u000a\"}", "{\"a\":\"\\u001F\"}",
		"{\"a\":\"\\u0031\"}", "{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":-0}", "{\"a\":[-0]}",
		"{\"a\":1234567890123456789}", "{\"a\":{\"b\":1,\"b\":2}}", "{\"a\":[{\"b\":1,\"b\":1}]}",
		"{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
		/* Not JSON at all. */
		"{\"a\":\"x\x01\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u00\"}",
	};
	const char *row = "{\"id\":12,\"t\":\"P\\\"12\\n\",\"m\":{\"a\":[1,2.5,null],\"b\":{}},\"bot\":false,\"x\":null,"
	                  "\"ts\":1.5e3}";
	const char *bytes = "\"{}[]:,-+.eE0129aflnrstux \\";
	const sk_json_member *m;
	char buf[128];
	size_t i, j, n = strlen(row), wrong = 0, tried = 0;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ok(sk_json_written_object(p, yes[i], strlen(yes[i]), &m) > 0 && parses_as_object(yes[i], strlen(yes[i])),
		   "written as json-c writes it: %s", yes[i]);
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		ok(sk_json_written_object(p, no[i], strlen(no[i]), &m) == 0, "not as json-c writes it: %s", no[i]);
	is_int(sk_json_written_object(p, row, n, &m), 6, "a row of six members");
	is_int(m[2].value, 27, "... the third's value where it starts");
	is_int(m[2].value_len, 25, "... and its length: the whole object");
	/* Every text one byte away from a row (changed, dropped or doubled):
	 * what is taken as written, the parser takes too. */
	for (i = 0; i < n; i++) {
		for (j = 0; j <= strlen(bytes) + 1; j++) {
			size_t len = n;
			memcpy(buf, row, n);
			if (j < strlen(bytes))
				buf[i] = bytes[j];
			else if (j == strlen(bytes))
				memmove(buf + i, buf + i + 1, --len - i);
			else {
				memmove(buf + i + 1, buf + i, n - i);
				len++;
			}
			tried++;
			if (sk_json_written_object(p, buf, len, &m) > 0 && !parses_as_object(buf, len)) {
				wrong++;
				diag_text(buf, len);
			}
		}
	}
	ok(wrong == 0 && tried > 1000, "of %zu texts near a row, those taken as written parse (%zu do not)",
	   tried, wrong);
}

/* Rows {"n":N,"k":"S"} and {"k":"S","n":N} with S of every length up to
 * 200 bytes, ending in bytes that end a run of plain ones (or in bytes
 * that are not UTF-8, across words too), and N of 16
 * to 19 digits: the marks of strings found at every place in a 64-byte
 * word and across words, a text that ends at a word's end or just past
 * it, integers read sixteen bytes at a time and one at a time. What is
 * taken is what json-c parses and writes again as it is. */
static void written_lengths(void)
{
	static const char *const ends[] = {
		"", "\xc3\xa9", "\\\"", "\\n", "\xf0\x9f\x98\x80", "\x01", "\\u0001",
		/* Not UTF-8: cut short, a surrogate, overlong, a lone continuation. */
		"\xe2\x82", "\xed\xa0\x80", "\xc0\xaf", "x\x80", "\xf0\x9f\x98",
	};
	static const char *const numbers[] = { "1234567890123456", "-12345678901234567", "123456789012345678",
	                                       "1234567890123456789", "0" };
	const sk_json_member *m;
	char s[256], row[512];
	size_t len, e, k, wrong = 0, tried = 0, taken = 0;
	int first;

	for (len = 0; len <= 200; len++) {
		for (e = 0; e < sizeof ends / sizeof ends[0]; e++) {
			memset(s, 'x', len);
			s[len] = '\0';
			strcpy(s + (len > 8 ? len - 8 : 0), ends[e]);
			for (k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
				for (first = 0; first < 2; first++) {
					int n = first ? snprintf(row, sizeof row, "{\"n\":%s,\"k\":\"%s\"}", numbers[k], s)
					              : snprintf(row, sizeof row, "{\"k\":\"%s\",\"n\":%s}", s, numbers[k]);
					/* Written as json-c writes it: no control but as \u00XX,
					 * no integer past 18 digits. */
					int want = e != 5 && k != 3 && parses_as_object(row, (size_t)n);
					size_t got = sk_json_written_object(p, row, (size_t)n, &m);

					tried++;
					taken += got > 0;
					if ((got > 0) != want || (got > 0 && (got != 2 || m[first].value_len != strlen(s) + 2))) {
						if (wrong++ < 5)
							printf("#   %s: %s\n", got > 0 ? "taken" : "refused", row);
					}
				}
			}
		}
	}
	ok(wrong == 0 && taken > 4000, "%zu rows of strings of every length, %zu taken as they should be",
	   tried, taken);
}

/* The keys of a row's top level all different, or not: repeats found
 * whether or not their bits are the same. */
static void written_distinct(void)
{
	static const struct {
		const char *in;
		int distinct;
	} v[] = {
		{ "{\"a\":1,\"b\":2}", 1 },
		{ "{\"a\":1,\"a\":2}", 0 },
		{ "{\"a\":1,\"b\":2,\"a\":3}", 0 },
		{ "{\"\":1,\"\":2}", 0 },
		{ "{\"\":1,\"a\":2}", 1 },
		{ "{\"abc\":1,\"axc\":2,\"abc\":3}", 0 },      /* the same bit, the first differs */
		{ "{\"abc\":1,\"axc\":2}", 1 },
		{ "{\"abc\":1,\"x\":{\"abc\":2}}", 1 },        /* a key inside is not a repeat */
		{ "{\"a\\n\":1,\"a\\n\":2}", 0 },
		{ "{\"_cursor\":\"f:0:1\",\"_cursor\":\"f:0:2\"}", 0 },
	};
	const sk_json_member *m;
	char row[2048];
	size_t i, n;

	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		ok(sk_json_written_object(p, v[i].in, strlen(v[i].in), &m) > 0 &&
		   sk_json_written_distinct(p) == v[i].distinct, "%s: keys %s", v[i].in,
		   v[i].distinct ? "all different" : "repeated");
	/* A hundred keys, then the fifth again. */
	n = 0;
	row[n++] = '{';
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(row + n, sizeof row - n, "\"key%zu\":%zu,", i, i);
	row[n - 1] = '}';
	ok(sk_json_written_object(p, row, n, &m) == 100 && sk_json_written_distinct(p), "100 keys, all different");
	memcpy(row + n - 1, ",\"key4\":0}", 10);
	ok(sk_json_written_object(p, row, n + 9, &m) == 101 && !sk_json_written_distinct(p),
	   "... and one of them again, the 101st");
}

/* The bytes of strings as sk_json_written_object admits them. */
static void string_bytes(void)
{
	static const char text[] = "q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\\u000b caf\xc3\xa9";
	static const char want[] = "q\"b\\s/\b\f\n\r\t\0\x1f\x0b caf\xc3\xa9";
	sk_buf b = { 0 };

	ok(sk_json_string_bytes(&b, text, sizeof text - 1) == 0 && b.len == sizeof want - 1 &&
	   memcmp(b.p, want, b.len) == 0, "escapes decoded, the rest as it is");
	sk_buf_reset(&b);
	ok(sk_json_string_bytes(&b, "plain", 5) == 0 && b.len == 5 && memcmp(b.p, "plain", 5) == 0, "no escape");
	sk_buf_reset(&b);
	ok(sk_json_string_bytes(&b, "x\\u00e9", 7) < 0, "\\u00e9 is not admitted");
	sk_buf_reset(&b);
	ok(sk_json_string_bytes(&b, "x\\", 2) < 0, "a lone backslash is not");
	sk_buf_free(&b);
}

/* What --json embeds: exactly the texts that are one strict JSON value. */
static void is_value(void)
{
	static const char *const yes[] = {
		"{}", "[]", "0", "-1.5e+3", "\"\"", "true", "false", "null", " [1, {\"a\": [null]}] ",
		"{\"a\":\"\\u00e9\\ud83d\\ude00\"}", "\"caf\xc3\xa9\"",
		/* Objects without white space, which one pass answers for. */
		"{\"a\":1,\"b\":[1,{\"c\":\"x\\\"y\"}],\"d\":null}", "{\"a\":1,\"a\":2}", "{\"a\":{\"b\":1,\"b\":2}}",
		" {\"k\":\"v\"}\n", "{\"n\":123456789012345678901234}", "{\"s\":\"\\u0000\"}", "{\"t\":\"Z\xc3\xbcrich \xe2\x82\xac\"}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}",
	};
	static const char *const no[] = {
		"", "[1 2]", "{\"a\" 1}", "{\"a\":}", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "1e",
		"\"\\u12\"", "\"\\x41\"", "[\"\\ud800\"]", "'a'", "NaN", "[Infinity]", "tru", "nul", "[1]]",
		"{\"a\":1}}", "[1] [2]", "\"a\tb\"", "\"\xff\"", "0x1F", "-", "[", "\"open",
		"{\"a\":1}x", "{\"a\":01}", "{\"a\":1.}", "{\"a\":\"x\\qy\"}", "{\"a\":\"\xc3\"}", "{\"a\":\"x\ty\"}",
		"{\"a\":tru}", "{\"a\":[1,]}", "{,\"a\":1}", "{\"a\":\"\\ud800\"}", "{\"a\":1}{\"b\":2}", "{\"a\":\"open}",
		"{\"a\":-}", "{\"a\":1e}", "{\"a\"1}",
		/* \u and what is not four hex digits, which cJSON takes: found by
		 * tests/fuzz/fuzz-json-string. */
		"\"\\u/0e9\"", "[\"\\uzzzz\"]", "{\"a\":\"\\u00g0\"}", "[1,\"\\u12G4\"]", "\"\\u:000\"",
	};
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
		ok(sk_json_is_value(p, yes[i], strlen(yes[i])), "is one JSON value: %s", yes[i]);
	for (i = 0; i < sizeof no / sizeof no[0]; i++)
		ok(!sk_json_is_value(p, no[i], strlen(no[i])), "is not: %s", no[i]);
}

/* Objects changed a byte at a time (each byte replaced by each of an
 * alphabet of JSON's bytes, or left out): one value exactly when the same
 * text in an array is, which the single pass never answers for. */
static void is_value_changed(void)
{
	static const char *const rows[] = {
		"{\"$schema\":\"/mediawiki/recentchange/1.0.0\",\"meta\":{\"uri\":\"https://de.wikipedia.org/wiki/Z\xc3\xbcrich\","
		"\"offset\":5000000001},\"id\":-17,\"comment\":\"rv\\tvandalism <a href=\\\"/wiki/\\\">\",\"bot\":false,"
		"\"length\":{\"old\":6.5e3,\"new\":null},\"tags\":[\"a\",true,[]]}",
		"{\"n\":[0,-0.5,1E+2,123456789012345678],\"s\":\"\\u001f\\\\\xe2\x82\xac\",\"o\":{}}",
	};
	static const char alphabet[] = "\"{}[]:,-+.eE019aflnrstu \\/\x01\x7f\xc3\xa9";
	char t[512], wrapped[520];
	size_t r, i, k, n, len, bad = 0, tried = 0;

	for (r = 0; r < sizeof rows / sizeof *rows; r++) {
		len = strlen(rows[r]);
		for (i = 0; i < len; i++)
			for (k = 0; k <= sizeof alphabet - 1; k++) {
				memcpy(t, rows[r], len);
				if (k < sizeof alphabet - 1) {
					t[i] = alphabet[k];
					n = len;
				} else {
					memmove(t + i, t + i + 1, len - i - 1);
					n = len - 1;
				}
				wrapped[0] = '[';
				memcpy(wrapped + 1, t, n);
				wrapped[n + 1] = ']';
				tried++;
				if (sk_json_is_value(p, t, n) != sk_json_is_value(p, wrapped, n + 2) && bad++ < 3)
					printf("# %.*s: %d\n", (int)n, t, sk_json_is_value(p, t, n));
			}
	}
	is_int(bad, 0, "%zu objects changed a byte: one value exactly when in an array", tried);
}

static void *free_and_end(void *arg)
{
	cJSON *c = cJSON_Parse("{\"a\":[1,2,3],\"b\":\"text\"}");

	(void)arg;
	cJSON_Delete(c);
	/* What it kept is freed when it ends (LeakSanitizer would tell). */
	return (void *)(sk_json_pool_held() > 0 ? "kept" : NULL);
}

/* cJSON's blocks kept by the thread that frees them (json_pool.c). */
static void pool(void)
{
	const char *t = "{\"a\":[1,2,{\"b\":null}],\"title\":\"Page\",\"comment\":\"a longer string of more than thirty-two bytes\"}";
	cJSON *c, *d;
	void *blocks[SK_JSON_POOL_MAX + 10], *big, *r = NULL;
	size_t held, i;
	pthread_t th;

	sk_json_pool_empty();
	c = cJSON_Parse(t);
	ok(c != NULL && sk_json_pool_held() == 0, "nothing is kept while the tree lives");
	cJSON_Delete(c);
	held = sk_json_pool_held();
	ok(held >= 8, "its nodes and strings are kept when it is freed (%zu)", held);
	d = cJSON_Parse(t);
	ok(d != NULL && sk_json_pool_held() == 0, "and taken again by the next parse");
	ok(d && strcmp(cJSON_GetObjectItem(d, "comment")->valuestring,
	               "a longer string of more than thirty-two bytes") == 0, "which reads the same");
	cJSON_Delete(d);
	big = cJSON_malloc(4096);
	held = sk_json_pool_held();
	cJSON_free(big);
	ok(sk_json_pool_held() == held, "a block larger than the classes is freed, not kept");
	big = malloc(50);
	ok(big != NULL, "a block malloc'd elsewhere");
	cJSON_free(big);
	ok(sk_json_pool_held() == held + 1, "is kept as well");
	sk_json_pool_empty();
	for (i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
		blocks[i] = cJSON_malloc(64);
	for (i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
		cJSON_free(blocks[i]);
	ok(sk_json_pool_held() == SK_JSON_POOL_MAX, "at most %d blocks of a class are kept", SK_JSON_POOL_MAX);
	sk_json_pool_empty();
	ok(sk_json_pool_held() == 0, "emptied on request");
	ok(pthread_create(&th, NULL, free_and_end, NULL) == 0 && pthread_join(th, &r) == 0 && r != NULL,
	   "another thread keeps its own");
}

/* A key with \u0000 in it, which json-c would cut there: refused by the
 * parse, and not a text the one pass takes (so that no path writes the
 * row as it came while another writes it cut). Found by
 * tests/fuzz/fuzz-written. */
static void nul_keys(void)
{
	static const char *const refused[] = {
		"{\"a\\u0000b\":1}", "{\"x\":{\"k\\u0000\":1}}", "[{\"\\u0000\" : 2}]", "{\"c\":1,\"\\t\\u0000\":[]}",
	};
	static const char *const taken[] = {
		"{\"v\":\"a\\u0000b\"}", "[\"a\\u0000b\"]", "{\"\\\\u0000\":1}", "{\"k\":[\"\\u0000\",{\"b\":\"\\u0000\"}]}",
	};
	const sk_json_member *m;
	sk_err e;
	size_t i;

	for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		json_object *o = sk_json_parse(p, refused[i], strlen(refused[i]), &e);

		ok(o == NULL && e.code == EX_DATAERR && strstr(e.msg, "\\u0000 in a key") != NULL,
		   "a key with \\u0000 is refused: %s (%s)", refused[i], e.msg);
		ok(sk_json_written_object(p, refused[i], strlen(refused[i]), &m) == 0, "... and not taken as written");
		json_object_put(o);
	}
	for (i = 0; i < sizeof taken / sizeof taken[0]; i++) {
		json_object *o = sk_json_parse(p, taken[i], strlen(taken[i]), &e);

		ok(o != NULL, "\\u0000 elsewhere is read: %s", taken[i]);
		json_object_put(o);
	}
}

/* A text that ends inside a string, on a backslash, read to its end and
 * not a byte past it: each is put last on a page before one that cannot
 * be read. Found by tests/fuzz/fuzz-json-string. */
static void backslash_at_end(void)
{
	static const char *const texts[] = {
		"\"\\", "{\"a\":\"\\", "[\"x\\", "{\"a\":[1,2.5e3,\"{\\", "\"0123456789abcdefghij\\\\\\",
	};
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t i;

	if (mem == MAP_FAILED || mprotect(mem + page, (size_t)page, PROT_NONE) != 0)
		abort();
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		size_t n = strlen(texts[i]);
		char *t = mem + page - n;
		sk_err e = { 0 };
		json_object *o;

		memcpy(t, texts[i], n);
		o = sk_json_parse(p, t, n, &e);
		ok(o == NULL && e.code == EX_DATAERR, "a string cut after a backslash is refused: %s", texts[i]);
		ok(!sk_json_is_value(p, t, n), "... and is no value");
		json_object_put(o);
	}
	munmap(mem, (size_t)page * 2);
}

int main(void)
{
	int level;

	p = sk_json_new();
	is_value();
	is_value_changed();
	parsing();
	exact_integers();
	plain_members();
	for (level = 0; level < SK_SIMD_PATHS; level++) {
		sk_simd_portable(level);
		written_objects();
		written_lengths();
		written_distinct();
	}
	sk_simd_portable(0);
	backslash_at_end();
	nul_keys();
	string_bytes();
	pool();
	ok(sk_utf8_valid("abc\xc3\xa9", 5) && !sk_utf8_valid("\xc3", 1), "UTF-8 validation");
	sk_json_free(p);
	return tap_done();
}
