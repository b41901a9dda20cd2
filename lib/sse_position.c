/* sse_position.c - SSE positions: the last event id, percent-encoded where
 * a cursor needs it (sse_position.h), and what positions of the kind mean
 * to the state store: one partition, 0; no order (an id is the server's
 * token, not a number we may compare); no end known, so no lag. */
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "simd.h"
#include "source_impl.h"
#include "sse_position.h"

/* The bytes a position holds as they are: printable ASCII but '%' and ':'
 * (and, when the id is UTF-8, the bytes from 0x80). */
static const unsigned char as_is[256] = { [' ' ... '$'] = 1, ['&' ... '9'] = 1, [';' ... '~'] = 1 };

#ifdef SK_SSE2
/* Bit k for u[k] of the sixteen at u that is not as_is. */
static inline unsigned marks16(const unsigned char *u)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)u);
	__m128i m = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));

	m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('%')), _mm_cmpeq_epi8(v, _mm_set1_epi8(':'))));
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f)));
	return (unsigned)(_mm_movemask_epi8(m) | _mm_movemask_epi8(v));
}
#endif

int sk_sse_position_add(sk_buf *b, const char *id, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)id;
	int utf8 = -1;          /* whether the id is UTF-8: asked at its first byte from 0x80 */
	size_t i = 0;
	char *o;

	if (n == 0)
		return sk_buf_adds(b, SK_SSE_NO_ID);
	/* Room for every byte encoded, and for a block of sixteen written whole. */
	if (n > (SIZE_MAX - 16) / 3 || sk_buf_reserve(b, n * 3 + 16) < 0)
		return -1;
	o = b->p + b->len;
	while (i < n) {
		unsigned char c;

#ifdef SK_SSE2
		/* Sixteen at a time up to the next byte to look at. */
		if (n - i >= 16) {
			unsigned m = marks16(u + i);
			size_t k = m ? (size_t)__builtin_ctz(m) : 16;

			memcpy(o, u + i, 16);
			o += k;
			i += k;
			if (k == 16)
				continue;
		}
#endif
		c = u[i++];
		if (as_is[c] || (c >= 0x80 && (utf8 < 0 ? (utf8 = sk_utf8_valid(id, n)) : utf8))) {
			*o++ = (char)c;
			continue;
		}
		o[0] = '%';
		o[1] = digits[c >> 4];
		o[2] = digits[c & 15];
		o += 3;
	}
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
	return 0;
}

int sk_sse_position_id(const char *p, size_t n, sk_buf *id)
{
	size_t i;

	sk_buf_reset(id);
	if (n == 3 && memcmp(p, SK_SSE_NO_ID, 3) == 0)
		return sk_buf_reserve(id, 1) < 0 ? -2 : 0;
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int hi, lo;

		if (c == ':' || c < 0x20 || c == 0x7f)
			return -1;
		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = sk_hex_digit(p[i + 1])) < 0 || (lo = sk_hex_digit(p[i + 2])) < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (sk_buf_addc(id, (char)c) < 0)
			return -2;
	}
	return 0;
}

/* --- the kind's position operations --- */

/* An id is the server's: two positions are the same or cannot be ordered. */
static int position_compare(const char *a, size_t na, const char *b, size_t nb)
{
	return na == nb && memcmp(a, b, na) == 0 ? 0 : SK_POSITION_INCOMPARABLE;
}

static int position_check(const char *source, const char *partition, const char *position, sk_err *e)
{
	sk_buf id = { 0 };
	int rc;

	if (strcmp(partition, "0") != 0)
		return sk_err_set(e, EX_USAGE, "invalid partition '%s' for %s (a stream has one partition, 0)",
		                  partition, source);
	rc = sk_sse_position_id(position, strlen(position), &id);
	sk_buf_free(&id);
	if (rc == -2)
		return sk_err_oom(e);
	if (rc < 0)
		return sk_err_set(e, EX_USAGE, "invalid position for %s (expected an event id with '%%' and ':' "
		                  "written %%25 and %%3A, or %s for none)", source, SK_SSE_NO_ID);
	return 0;
}

/* For people, the id itself (or "none"); as JSON, "event_id": the id, or null. */
static int position_describe(const char *position, sk_buf *text, sk_buf *json)
{
	sk_buf id = { 0 };
	int rc = sk_sse_position_id(position, strlen(position), &id);

	if (rc == -2)
		return -1;
	if (rc < 0) {
		sk_buf_free(&id);
		return sk_buf_adds(text, position);
	}
	if (id.len == 0)
		rc = sk_buf_adds(text, "none (no event id)") < 0 || sk_buf_adds(json, ",\"event_id\":null") < 0;
	else
		rc = sk_buf_add(text, id.p, id.len) < 0 || sk_buf_adds(json, ",\"event_id\":") < 0 ||
		     sk_json_add_string(json, id.p, id.len) < 0;
	sk_buf_free(&id);
	return rc ? -1 : 0;
}

const struct sk_position_ops sk_position_sse_ops = {
	.prefix = "sse:",
	.compare = position_compare,
	.check = position_check,
	.describe = position_describe,
};
