/* json_value.c - whether a text is one JSON value (stream-read --json),
 * and the values so read kept for the envelope's reader (sk_json_kept):
 * an object as json-c writes one by json_written.c's single pass, the
 * others by the lexical pass of json.c, then cJSON for the grammar. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_impl.h"

__attribute__((constructor)) static void pool_hooks(void)
{
	sk_json_pool_install();
}

/* s[0..n) read by cJSON when it is one strict JSON value, else NULL. */
static cJSON *read_value(sk_json *p, const char *s, size_t n)
{
	const char *why, *end = NULL;
	size_t at;
	cJSON *c;

	/* Cheap rejection: JSON text starts with one of these. */
	while (n > 0 && sk_json_is_space(*s))
		s++, n--;
	if (n == 0 || !strchr("{[\"-0123456789tfn", *s))
		return NULL;
	if (n > INT32_MAX || sk_json_lexically_strict(p, s, n, &at, &why) < 0)
		return NULL;
	/* The lexical pass leaves only the grammar to check: cJSON checks it
	 * in half json-c's time. */
	c = cJSON_ParseWithLengthOpts(s, n, &end, 0);
	if (c == NULL)
		return NULL;
	while (end < s + n && sk_json_is_space(*end))
		end++;
	if (end != s + n) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

int sk_json_is_value(sk_json *p, const char *s, size_t n)
{
	const sk_json_member *m;
	cJSON *c;

	/* The usual message, an object as json-c writes one, is one value by a
	 * single pass over its bytes, without a tree to build and free: the
	 * others are read whole. */
	while (n > 0 && sk_json_is_space(*s))
		s++, n--;
	while (n > 0 && sk_json_is_space(s[n - 1]))
		n--;
	if (n > 0 && *s == '{' && sk_json_written_object(p, s, n, &m) > 0)
		return 1;
	c = read_value(p, s, n);
	cJSON_Delete(c);
	return c != NULL;
}

int sk_json_has_nul_escape(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (end - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
			return 1;
		p += 2;                 /* the escaped character is no backslash */
		if (p >= end)
			break;
	}
	return 0;
}

void sk_json_keep_values(sk_json *p)
{
	p->keep = 1;
}

int sk_json_read_kept(sk_json *p, const char *s, size_t n)
{
	cJSON *c;

	if (!p->keep)
		return sk_json_is_value(p, s, n);
	cJSON_Delete(p->kept);
	p->kept = NULL;
	if ((c = read_value(p, s, n)) == NULL)
		return 0;
	/* cJSON's strings end at a NUL, where jq's do not: such a value is
	 * for jq's parser, and is not kept. */
	if (!sk_json_has_nul_escape(s, n))
		p->kept = c;
	else
		cJSON_Delete(c);
	return 1;
}

void sk_json_kept_at(sk_json *p, const sk_buf *b, size_t at, size_t len)
{
	p->kept_in = b;
	p->kept_at = at;
	p->kept_len = len;
}

sk_json_kept *sk_json_take_kept(sk_json *p, const sk_buf *b, size_t from, sk_json_kept *k)
{
	sk_json_kept_free(k);
	if (p->kept == NULL)
		return NULL;
	if (p->kept_in == b && p->kept_at >= from && p->kept_at + p->kept_len <= b->len) {
		k->tree = p->kept;
		k->at = p->kept_at - from;
		k->len = p->kept_len;
	} else {
		cJSON_Delete(p->kept);
	}
	p->kept = NULL;
	return k->tree ? k : NULL;
}

void sk_json_kept_free(sk_json_kept *k)
{
	cJSON_Delete(k->tree);
	k->tree = NULL;
}
