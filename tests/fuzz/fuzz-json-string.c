/* fuzz-json-string - the envelope's string writer (sk_json_add_string) over
 * any bytes, on every vector level: the same text on each, one strict JSON
 * string, whose value is the input's UTF-8 sequences as they are and each
 * other byte's Latin-1 reading. And the embedding of --json
 * (sk_json_add_text): what it writes is one JSON value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "simd.h"

static sk_json *parser;

/* s[0..n) as a JSON string on vector level level, into b (reset). */
static void written(sk_buf *b, int level, const uint8_t *s, size_t n)
{
	sk_simd_portable(level);
	sk_buf_reset(b);
	if (sk_json_add_string(b, (const char *)s, n) < 0)
		abort();
}

/* The value of the string text b holds: NULL when it is not one. */
static json_object *read_back(const sk_buf *b)
{
	sk_err e = { 0 };
	json_object *v = sk_json_parse(parser, b->p, b->len, &e);

	if (v != NULL && !json_object_is_type(v, json_type_string)) {
		json_object_put(v);
		return NULL;
	}
	return v;
}

/* got[0..n) is s[0..size) with each byte that starts no UTF-8 sequence
 * written as the character of its value. */
static int as_written(const unsigned char *got, size_t n, const uint8_t *s, size_t size)
{
	size_t i, j = 0;

	for (i = 0; i < size; i++) {
		unsigned c = s[i];
		size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;

		if (c >= 0x80 && len > 1 && i + len <= size && sk_utf8_valid((const char *)s + i, len)) {
			if (n - j < len || memcmp(got + j, s + i, len) != 0)
				return 0;
			i += len - 1;
			j += len;
		} else if (c < 0x80) {
			if (j >= n || got[j++] != c)
				return 0;
		} else if (n - j < 2 || got[j++] != (0xC0 | c >> 6) || got[j++] != (0x80 | (c & 0x3F))) {
			return 0;
		}
	}
	return j == n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_buf first = { 0 }, other = { 0 };
	sk_err e = { 0 };
	json_object *v;
	int level;

	if (parser == NULL && (parser = sk_json_new()) == NULL)
		abort();
	written(&first, 0, data, size);
	for (level = 1; level < SK_SIMD_PATHS; level++) {
		written(&other, level, data, size);
		if (other.len != first.len || memcmp(other.p, first.p, first.len) != 0)
			abort();
	}
	if ((v = read_back(&first)) == NULL ||
	    !as_written((const unsigned char *)json_object_get_string(v), (size_t)json_object_get_string_len(v),
	                data, size))
		abort();
	json_object_put(v);

	/* --json's embedding: one value out, whatever came in. */
	sk_simd_portable(0);
	sk_buf_reset(&other);
	if (sk_json_add_text(&other, parser, (const char *)data, size, 1) < 0)
		abort();
	v = sk_json_parse(parser, other.p, other.len, &e);
	/* (A key with \u0000 is JSON, which json-c cannot read whole.) */
	if (v == NULL && e.code != 0 && strstr(e.msg, "\\u0000 in a key") == NULL)
		abort();
	json_object_put(v);
	sk_buf_free(&first);
	sk_buf_free(&other);
	return 0;
}
