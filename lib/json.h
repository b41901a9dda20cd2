/* json.h - the JSON parser (json-c, chosen by measurement: see the closing
 * notes) in strict mode, and JSON text output. */
#ifndef SK_JSON_H
#define SK_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "util.h"

typedef struct sk_json sk_json;          /* a reusable strict parser */

sk_json *sk_json_new(void);
void sk_json_free(sk_json *p);
/* Parse exactly one JSON value in s[0..n) (surrounding white space allowed),
 * strict RFC 8259, UTF-8 validated. NULL on failure with e->code EX_DATAERR
 * and a message such as "invalid JSON at column 17: unexpected character".
 * The caller owns the result (json_object_put). The literal null gives
 * NULL with e->code 0: check e->code to tell it from a failure. */
json_object *sk_json_parse(sk_json *p, const char *s, size_t n, sk_err *e);
/* 1 when s[0..n) is empty or JSON white space alone (space, tab, CR,
 * LF): a blank line between the texts of a JSON stream, which jq skips. */
int sk_json_blank(const char *s, size_t n);
/* 1 when s[0..n) is one strict JSON value (used by --json embedding).
 * An object as json-c writes it is known by sk_json_written_object's one
 * pass; other texts are parsed with cJSON, whose parser writes a global:
 * call it on one thread of a process only (the reading one). */
int sk_json_is_value(sk_json *p, const char *s, size_t n);
/* A bit of 64 for a key k[0..len) of an object's text, from its length,
 * first and last byte (of an empty key, the quotes around it: k[-1] is
 * read): keys of different bits differ, and a key need be compared only
 * with the earlier keys of its bit to find a repeat. */
static inline uint64_t sk_json_key_bit(const char *k, size_t len)
{
	const unsigned char *u = (const unsigned char *)k;

	return UINT64_C(1) << ((len * 131 + u[0] * 31u + u[(ptrdiff_t)len - 1]) & 63);
}

/* 1 when s[0..n) holds the escape \u0000 (cJSON's strings end at a NUL). */
int sk_json_has_nul_escape(const char *s, size_t n);

/* A value sk_json_add_text embedded after reading it whole, kept for a
 * reader of the envelope that would read the value again (stream-read
 * --filter gives it to jq): its place in the envelope and its tree (a
 * cJSON; NULL: none kept), which is the holder's to free. */
typedef struct sk_json_kept {
	size_t at, len;
	void *tree;
} sk_json_kept;
/* From now on, keep what sk_json_add_text reads of the value it embeds:
 * the value it embedded last, until sk_json_take_kept takes it. */
void sk_json_keep_values(sk_json *p);
/* The value kept, if it went into b at or after b's byte `from`, into k
 * (whatever k held is freed first), with k->at counted from `from`: k,
 * or NULL when nothing was kept. */
sk_json_kept *sk_json_take_kept(sk_json *p, const sk_buf *b, size_t from, sk_json_kept *k);
void sk_json_kept_free(sk_json_kept *k);
/* sk_json_is_value, which keeps the value read (sk_json_keep_values);
 * sk_json_kept_at records where its text went. For sk_json_add_text. */
int sk_json_read_kept(sk_json *p, const char *s, size_t n);
void sk_json_kept_at(sk_json *p, const sk_buf *b, size_t at, size_t len);
/* Make sk_json_parse refuse integers outside the 64-bit range ("number at
 * byte N: integer out of the 64-bit range ..."), which json-c would clamp:
 * for callers that write the values back (stream-write). */
void sk_json_exact_integers(sk_json *p);

/* A member of an object, by byte offsets into the text it was parsed
 * from: the key without its quotes, and the value. */
typedef struct sk_json_member {
	size_t key, key_len;
	size_t value, value_len;
} sk_json_member;

/* The members of the object sk_json_parse returned last, in the order of
 * its text, when that text is plain: no white space outside strings, no
 * escape in any string, no object or array inside. Returns how many (*m
 * points at them, until the next parse), or 0 when the text was not plain
 * or not an object. Such a text is the object as sk_json_add_object writes
 * it, but for repeated keys (json-c keeps the last) and each value that
 * sk_json_written_as does not take. */
size_t sk_json_plain_members(const sk_json *p, const sk_json_member **m);
/* The members of s[0..n) when it is an object with at least one member,
 * valid JSON, written as json-c writes what it reads of it (with
 * sk_json_add_object), but perhaps for a repeated key of the top level:
 * 0 otherwise (the text may still be JSON, and the parse says what is
 * wrong). That is {"KEY":VALUE,...} with no white space outside strings,
 * strings spelt as json-c spells them (UTF-8 as it is, only the escapes
 * \" \\ \b \f \n \r \t and \u00XX in lowercase for other controls),
 * integers of up to 18 digits but -0, any double (json-c keeps its text),
 * objects and arrays inside to a depth of 16, keys of an inner object all
 * different (up to 64 of them). One pass checks it, at a fraction of a
 * parser's cost, over marks of its bytes made 64 at a time (stream-write
 * takes such a row as its text). Repeated keys of the top level are the
 * caller's to see (sk_json_written_distinct). *m is valid until the next
 * call on p. */
size_t sk_json_written_object(sk_json *p, const char *s, size_t n, const sk_json_member **m);
/* 1 when the keys of the object sk_json_written_object took last are all
 * different, at its top level too. */
int sk_json_written_distinct(const sk_json *p);
/* Append the bytes of the string whose text (between its quotes) is
 * s[0..n), as sk_json_written_object admits one: its escapes short, or
 * \u00XX. -1 when out of memory, or on an escape of another kind. */
int sk_json_string_bytes(sk_buf *out, const char *s, size_t n);
/* 1 when sk_json_add_object writes v, a value of a plain object, as
 * text[0..n): always for strings, doubles (json-c keeps their text),
 * booleans and null; for an integer when text is its canonical form. */
int sk_json_written_as(json_object *v, const char *text, size_t n);

/* Append s[0..n) as a JSON string literal. Bytes that are not valid UTF-8
 * are written as \u00XX (their Latin-1 reading) so the output is always
 * valid JSON. */
int sk_json_add_string(sk_buf *b, const char *s, size_t n);
/* The same without the quotes: s as (a piece of) a string's inside. */
int sk_json_add_chars(sk_buf *b, const char *s, size_t n);
/* Append s[0..n) as base64 inside a JSON string literal. */
int sk_json_add_base64(sk_buf *b, const unsigned char *s, size_t n);
/* s[0..n), base64 with its padding (RFC 4648, as sk_json_add_base64
 * writes it), decoded into out (reset first): 0, or -1 when it is not
 * that or memory ran out. */
int sk_base64_decode(const char *s, size_t n, sk_buf *out);
/* Append a value: s itself when embed is set and s is one JSON value,
 * otherwise s as a string. The one --json embedding for every source. */
int sk_json_add_text(sk_buf *b, sk_json *p, const char *s, size_t n, int embed);
/* Append an object or value as compact JSON text. */
int sk_json_add_object(sk_buf *b, json_object *o);
/* 1 when s[0..n) is valid UTF-8. */
int sk_utf8_valid(const char *s, size_t n);

#endif
