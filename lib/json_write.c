/* json_write.c - JSON text out: strings with their escapes, base64,
 * --json embedding, json-c values, and whether sk_json_add_object writes a
 * value of a plain object as the text it was read from (the writer's fast
 * path asks). */
#include <stdint.h>
#include <string.h>

#include "json_impl.h"

int sk_json_written_as(json_object *v, const char *text, size_t n)
{
	char buf[24], *d;
	uint64_t mag;
	int64_t i;

	switch (json_object_get_type(v)) {
	case json_type_int:
		/* Written from its value: "-0" comes back as "0", and what json-c
		 * clamped as its limit. Text of a JSON integer (no leading zero)
		 * of up to 18 digits is in range, and canonical but for "-0". */
		if (n <= 18)
			return n != 2 || memcmp(text, "-0", 2) != 0;
		i = json_object_get_int64(v);
		if (i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX)
			mag = json_object_get_uint64(v);
		else
			mag = i < 0 ? -(uint64_t)i : (uint64_t)i;
		d = buf;
		if (i < 0)
			*d++ = '-';
		d += sk_fmt_u64(d, mag);
		return (size_t)(d - buf) == n && memcmp(buf, text, n) == 0;
	case json_type_object:
	case json_type_array:
		return 0;
	default:
		/* Strings of a plain text are their own text; json-c keeps the
		 * text of doubles; true, false and null have one spelling. */
		return 1;
	}
}

/* The bytes of the word w (8 bytes of a string, in memory order) that may
 * not stand for themselves: below 0x20, '"', '\\', or from 0x80 (which may
 * be UTF-8, checked one sequence at a time), each marked by its high bit.
 * As in "Bit Twiddling Hacks", a byte below n <= 128 has its high bit set
 * in w - n..n; a borrow marks bytes after a marked one, never before, so
 * the first mark is exact (the rest may not be). */
static inline uint64_t word_marks(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');

	return ((w - ones * 0x20) | (q - ones) | (bs - ones) | w) & high;
}

/* One byte, or one UTF-8 sequence, of s[*i..n) written at o, escaped. */
static inline __attribute__((always_inline)) char *escape_one(char *o, const unsigned char *u, size_t *i, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = u[*i];
	size_t k;

	if (sk_json_string_plain[c]) {
		*o++ = (char)c;
		(*i)++;
		return o;
	}
	if (c >= 0x80 && (k = sk_utf8_seq(u + *i, n - *i)) > 0) {
		memcpy(o, u + *i, k);
		*i += k;
		return o + k;
	}
	*o++ = '\\';
	switch (c) {
	case '"': *o++ = '"'; break;
	case '\\': *o++ = '\\'; break;
	case '\n': *o++ = 'n'; break;
	case '\r': *o++ = 'r'; break;
	case '\t': *o++ = 't'; break;
	case '\b': *o++ = 'b'; break;
	case '\f': *o++ = 'f'; break;
	default:
		/* A control character, or a byte that is not UTF-8: \u00XX. */
		memcpy(o, "u00", 3);
		o[3] = hex[c >> 4];
		o[4] = hex[c & 15];
		o += 5;
	}
	(*i)++;
	return o;
}

int sk_json_add_string(sk_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;
	uint64_t w, marks;
	char *o;

	/* Worst case 6 bytes out per byte in, plus quotes. */
	if (n > (SIZE_MAX - 2) / 6 || sk_buf_reserve(b, n * 6 + 2) < 0)
		return -1;
	o = b->p + b->len;
	*o++ = '"';
	/* Eight bytes at a time: those before the first that needs a look are
	 * copied as they are, that one is escaped (or its UTF-8 sequence
	 * checked). In a word, the first byte is the lowest on a little-endian
	 * machine; elsewhere, a marked word goes a byte at a time. */
	while (i + 8 <= n) {
		memcpy(&w, u + i, 8);
		marks = word_marks(w);
		memcpy(o, u + i, 8);
		if (marks == 0) {
			o += 8;
			i += 8;
			continue;
		}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		k = (size_t)__builtin_ctzll(marks) >> 3;
		o += k;
		i += k;
		o = escape_one(o, u, &i, n);
#else
		for (k = i + 8; i < k;)
			o = escape_one(o, u, &i, n);
#endif
	}
	while (i < n)
		o = escape_one(o, u, &i, n);
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
	return 0;
}

int sk_json_add_base64(sk_buf *b, const unsigned char *s, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	char *o;

	if (n > SIZE_MAX / 2 || sk_buf_reserve(b, (n + 2) / 3 * 4 + 2) < 0)
		return -1;
	o = b->p + b->len;
	*o++ = '"';
	for (i = 0; i + 2 < n; i += 3) {
		*o++ = tab[s[i] >> 2];
		*o++ = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
		*o++ = tab[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
		*o++ = tab[s[i + 2] & 63];
	}
	if (i < n) {
		*o++ = tab[s[i] >> 2];
		if (i + 1 < n) {
			*o++ = tab[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
			*o++ = tab[(s[i + 1] & 15) << 2];
		} else {
			*o++ = tab[(s[i] & 3) << 4];
			*o++ = '=';
		}
		*o++ = '=';
	}
	*o++ = '"';
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
	return 0;
}

int sk_json_add_text(sk_buf *b, sk_json *p, const char *s, size_t n, int embed)
{
	if (embed && sk_json_is_value(p, s, n)) {
		/* Embedded as written, without the white space around it. */
		while (n > 0 && sk_json_is_space(*s))
			s++, n--;
		while (n > 0 && sk_json_is_space(s[n - 1]))
			n--;
		return sk_buf_add(b, s, n);
	}
	return sk_json_add_string(b, s, n);
}

int sk_json_add_object(sk_buf *b, json_object *o)
{
	size_t n;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
	                                                  JSON_C_TO_STRING_NOSLASHESCAPE, &n);

	if (s == NULL)
		return -1;
	return sk_buf_add(b, s, n);
}
