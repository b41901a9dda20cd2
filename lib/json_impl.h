/* json_impl.h - what json.c (parsing), json_value.c and json_write.c
 * (JSON text out) share: the parser, which bytes stand for themselves in
 * a string, and UTF-8. */
#ifndef SK_JSON_IMPL_H
#define SK_JSON_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "json.h"
#include "simd.h"

/* The parser (json.c), and what json_value.c keeps. */
struct sk_json {
	json_tokener *tok;
	int exact;              /* refuse integers json-c would clamp */
	/* What the lexical pass saw of the top-level object parsed last, and
	 * whether its text is plain (see sk_json_plain_members). */
	sk_json_member *members;
	size_t nmembers, capmembers;
	int plain;
	/* sk_json_keep_values: the value sk_json_add_text embedded last. */
	int keep;
	cJSON *kept;
	const sk_buf *kept_in;  /* the buffer it went into, at kept_at */
	size_t kept_at, kept_len;
	/* sk_json_written_object's marks of the text it reads: bit k of word w
	 * is set when byte 64 w + k is not plain in a string, or is past the
	 * end (an eighth of the longest text's length). */
	uint64_t *marks;
	size_t capmarks;
	int distinct;           /* its top-level keys are all different */
};

/* cJSON allocating through json_pool.c (called before main by
 * json_value.c, so that no thread parses while the hooks change); the
 * blocks this thread keeps, and freeing them. */
#define SK_JSON_POOL_MAX 16384  /* blocks kept by a thread, per class */
void sk_json_pool_install(void);
size_t sk_json_pool_held(void);
void sk_json_pool_empty(void);

/* The lexical pass of json.c: -1 with *err_at and *why when s[0..n) is
 * not JSON as far as its tokens tell (UTF-8, strings, numbers). */
int sk_json_lexically_strict(sk_json *p, const char *s, size_t n, size_t *err_at, const char **why);

/* The number at u[*i] ('-' or a digit); *i is left after it. Its grammar
 * is json-c's to check, apart from what json-c lets through: "1." and
 * leading zeros ("00"), and integers it would clamp when exact is set:
 * -1 with *err_at and *why for those. */
int sk_json_number_token(const unsigned char *u, size_t n, size_t *i, int exact, size_t *err_at,
                         const char **why);

/* Room for more members in p->members: -1 when there is none. */
int sk_json_grow_members(sk_json *p);

static inline int sk_json_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* 1 for the bytes that stand for themselves inside a string (json.c). */
extern const unsigned char sk_json_string_plain[256];

/* The bytes of s[0..16) that do not stand for themselves in a string
 * ('"', '\\', below 0x20, and from 0x80, which may be UTF-8 and is checked
 * apart): bit i set for s[i]. Without SSE2 the table says, byte by byte. */
static inline unsigned sk_json_marks16(const unsigned char *s)
{
#ifdef SK_SSE2
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"'));
	__m128i b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));
	__m128i c = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));   /* signed: 0x80 and up too */

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, b), c));
#else
	unsigned m = 0, i;

	for (i = 0; i < 16; i++)
		m |= (unsigned)!sk_json_string_plain[s[i]] << i;
	return m;
#endif
}

static inline int sk_json_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), 0 when invalid. */
static inline size_t sk_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;       /* overlong */
		if (c == 0xED && s[1] > 0x9F)
			return 0;       /* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;
		if (c == 0xF4 && s[1] > 0x8F)
			return 0;
		return 4;
	}
	return 0;
}

/* The bytes from 0x80 that h marks in the word at u[at] (bit k for
 * u[at + k]; n: the text's length), from u[*from] on (the sequences that
 * start before it are checked): each the start of a valid UTF-8 sequence
 * or inside one. *from is left after the last sequence, which may go on
 * into the next word. -1 when one is not valid. */
static inline __attribute__((always_inline)) int sk_utf8_valid_high(const unsigned char *u, size_t n, size_t at,
                                                                   uint64_t h, size_t *from)
{
	size_t b, k;

	if (*from > at)
		h &= *from - at >= 64 ? 0 : ~UINT64_C(0) << (*from - at);
	while (h != 0) {
		b = (size_t)__builtin_ctzll(h);
		if ((k = sk_utf8_seq(u + at + b, n - at - b)) == 0)
			return -1;
		*from = at + b + k;
		if (b + k >= 64)
			return 0;
		h &= ~UINT64_C(0) << (b + k);
	}
	return 0;
}

#endif
