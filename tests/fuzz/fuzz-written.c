/* fuzz-written - the one-pass check that a row is written as json-c writes
 * it (sk_json_written_object), which lets stream-write send a row as its
 * own bytes, against the slow path it stands for: where the check takes a
 * text (with its keys all different), json-c must read it and write it back
 * byte for byte; and every vector level must answer the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "simd.h"

static sk_json *parser;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const sk_json_member *m;
	size_t members, again;
	int level, distinct;
	sk_buf out = { 0 };
	sk_err e = { 0 };
	json_object *o;

	if (parser == NULL && (parser = sk_json_new()) == NULL)
		abort();
	sk_json_exact_integers(parser);
	sk_simd_portable(0);
	members = sk_json_written_object(parser, s, size, &m);
	distinct = members > 0 && sk_json_written_distinct(parser);
	for (level = 1; level < SK_SIMD_PATHS; level++) {
		sk_simd_portable(level);
		again = sk_json_written_object(parser, s, size, &m);
		if (again != members || (members > 0 && sk_json_written_distinct(parser) != distinct))
			abort();
	}
	sk_simd_portable(0);
	if (members == 0)
		return 0;
	/* Each member where the text says. */
	sk_json_written_object(parser, s, size, &m);
	for (again = 0; again < members; again++)
		if (m[again].key == 0 || s[m[again].key - 1] != '"' || m[again].key + m[again].key_len >= size ||
		    s[m[again].key + m[again].key_len] != '"' || m[again].value + m[again].value_len > size ||
		    m[again].value_len == 0)
			abort();
	if ((o = sk_json_parse(parser, s, size, &e)) == NULL)
		abort();
	if (distinct) {
		if (sk_json_add_object(&out, o) < 0 || out.len != size || memcmp(out.p, s, size) != 0)
			abort();
	}
	json_object_put(o);
	sk_buf_free(&out);
	return 0;
}
