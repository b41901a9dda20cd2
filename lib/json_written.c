/* json_written.c - whether an object's text is what json-c writes of what
 * it reads (sk_json_written_object, json.h), in one pass: the bytes are
 * marked 64 at a time ('"', '\\' and controls; and the bytes from 0x80,
 * whose UTF-8 is checked there, once), each string then ends at its next
 * mark, found by a shift and a count of zeros, and each token is where the
 * grammar puts it in an object without white space. Also the bytes of the
 * strings it admits (sk_json_string_bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_impl.h"

/* u[0..n) is exactly one JSON number (RFC 8259). */
static int json_number(const unsigned char *u, size_t n)
{
	size_t i = u[0] == '-';

	if (i == n || !sk_json_is_digit(u[i]))
		return 0;
	if (u[i++] != '0')
		while (i < n && sk_json_is_digit(u[i]))
			i++;
	if (i < n && u[i] == '.') {
		if (++i == n || !sk_json_is_digit(u[i]))
			return 0;
		while (i < n && sk_json_is_digit(u[i]))
			i++;
	}
	if (i < n && (u[i] == 'e' || u[i] == 'E')) {
		if (++i < n && (u[i] == '+' || u[i] == '-'))
			i++;
		if (i == n || !sk_json_is_digit(u[i]))
			return 0;
		while (i < n && sk_json_is_digit(u[i]))
			i++;
	}
	return i == n;
}

/* The control character that s[0..4) (after "\u") names as json-c
 * spells it, 00XX in lowercase, or -1. */
static int u00_control(const unsigned char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *lo;

	if (s[0] != '0' || s[1] != '0' || (s[2] != '0' && s[2] != '1') || (lo = memchr(hex, s[3], 16)) == NULL)
		return -1;
	return (s[2] - '0') * 16 + (int)(lo - hex);
}

/* The escapes json-c writes short ('/' it writes as it is). */
static const unsigned char short_escape[256] = {
	['"'] = 1, ['\\'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
};

/* The escape at u[i] ('\\'), as json-c writes one: the short ones, and
 * \u00XX for the other controls. Its length, or 0. */
static size_t written_escape(const unsigned char *u, size_t i, size_t n)
{
	int c;

	if (n - i < 2)
		return 0;
	if (short_escape[u[i + 1]])
		return 2;
	if (u[i + 1] != 'u' || n - i < 6 || (c = u00_control(u + i + 2)) < 0)
		return 0;
	return c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t' ? 0 : 6;
}

/* marks64 of u[0..len), len up to 64, a byte at a time. */
static uint64_t marks_bytes(const unsigned char *u, size_t len, uint64_t *high)
{
	uint64_t m = 0, h = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		m |= (uint64_t)(u[i] == '"' || u[i] == '\\' || u[i] < 0x20) << i;
		h |= (uint64_t)(u[i] >= 0x80) << i;
	}
	*high = h;
	return m;
}

/* The marks of the 64 bytes at u: '"', '\\' and controls (an end, an
 * escape, an error in a string), and in *high the bytes from 0x80 (UTF-8,
 * validated apart, once for the whole text). */
static inline uint64_t marks64(const unsigned char *u, uint64_t *high)
{
#ifdef SK_SSE2
	uint64_t m = 0, h = 0;
	unsigned i;

	for (i = 0; i < 64; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
		__m128i c = _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
		__m128i q = _mm_cmpeq_epi8(v, _mm_set1_epi8('"')), b = _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'));

		c = _mm_or_si128(c, _mm_or_si128(q, b));
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(c) << i;
		h |= (uint64_t)(unsigned)_mm_movemask_epi8(v) << i;
	}
	*high = h;
	return m;
#else
	return marks_bytes(u, 64, high);
#endif
}

#ifdef SK_AVX2
/* marks64 of the first words words of u (a text of n bytes), into w, and
 * their UTF-8 checked (sk_utf8_valid_high). */
static SK_AVX2_FN int marks_avx2(uint64_t *w, const unsigned char *u, size_t n, size_t words, size_t *from)
{
	const __m256i q = _mm256_set1_epi8('"'), b = _mm256_set1_epi8('\\'), c = _mm256_set1_epi8(0x1f);
	size_t i;

	for (i = 0; i < words; i++) {
		const unsigned char *s = u + (i << 6);
		__m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)s);
		__m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(s + 32));
		__m256i mlo = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(lo, q), _mm256_cmpeq_epi8(lo, b)),
		                              _mm256_cmpeq_epi8(_mm256_max_epu8(lo, c), c));
		__m256i mhi = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(hi, q), _mm256_cmpeq_epi8(hi, b)),
		                              _mm256_cmpeq_epi8(_mm256_max_epu8(hi, c), c));
		uint64_t h = (uint32_t)_mm256_movemask_epi8(lo) | (uint64_t)(uint32_t)_mm256_movemask_epi8(hi) << 32;

		w[i] = (uint32_t)_mm256_movemask_epi8(mlo) | (uint64_t)(uint32_t)_mm256_movemask_epi8(mhi) << 32;
		if (h != 0 && sk_utf8_valid_high(u, n, i << 6, h, from) < 0)
			return -1;
	}
	return 0;
}
#endif

/* The marks of u[0..n) in p->marks, and of the word of its end (what is
 * past the end is marked): -1 when there is no room for them, or when
 * the text is not UTF-8 (it is then not JSON, in a string or out). */
static int fill_marks(sk_json *p, const unsigned char *u, size_t n)
{
	size_t words = (n >> 6) + 1, full = n >> 6, k = 0, r = n & 63, from = 0;
	uint64_t m, h, *w;

	if (words > p->capmarks) {
		size_t cap = words < 64 ? 64 : words;
		if ((w = realloc(p->marks, cap * sizeof *w)) == NULL)
			return -1;
		p->marks = w;
		p->capmarks = cap;
	}
	w = p->marks;
#ifdef SK_AVX2
	if (sk_simd_avx2()) {
		if (marks_avx2(w, u, n, full, &from) < 0)
			return -1;
		k = full;
	}
#endif
	for (; k < full; k++)
		if ((w[k] = marks64(u + (k << 6), &h), h != 0) && sk_utf8_valid_high(u, n, k << 6, h, &from) < 0)
			return -1;
	if (r > 0 && n >= 64) {
		/* The last 64 bytes, of which the end's word has the last r. */
		m = marks64(u + n - 64, &h) >> (64 - r);
		h >>= 64 - r;
	} else {
		m = marks_bytes(u + (full << 6), r, &h);
	}
	if (h != 0 && sk_utf8_valid_high(u, n, full << 6, h, &from) < 0)
		return -1;
	w[full] = m | ~UINT64_C(0) << r;      /* r < 64 */
	return 0;
}

/* The first marked byte from u[j] on (j <= n): n or past it when none is
 * before the end. Each string's search is a shift and a count of zeros. */
static inline __attribute__((always_inline)) size_t next_mark(const uint64_t *mk, size_t j)
{
	size_t w = j >> 6;
	uint64_t m = mk[w] >> (j & 63);

	if (m != 0)
		return j + (size_t)__builtin_ctzll(m);
	do
		m = mk[++w];
	while (m == 0);
	return (w << 6) + (size_t)__builtin_ctzll(m);
}

/* The functions below give the index after what they read, or 0 when it
 * is not as json-c writes it: indexes are passed and returned, not kept
 * behind a pointer, which u (bytes) could alias and make a load of every
 * use of them. */

/* The string whose text starts at u[j], after its opening quote, spelt as
 * json-c writes the string it reads; a key without \u0000 (json-c cuts a
 * key at a NUL). */
static inline __attribute__((always_inline)) size_t written_string(const uint64_t *mk, const unsigned char *u,
                                                                  size_t n, size_t j, int key)
{
	size_t k;

	for (;;) {
		if ((j = next_mark(mk, j)) >= n)
			return 0;
		if (u[j] == '"')
			return j + 1;
		/* An escape, or a control: UTF-8 is valid (fill_marks). */
		if (u[j] != '\\' || (k = written_escape(u, j, n)) == 0 ||
		    (key && k == 6 && u[j + 4] == '0' && u[j + 5] == '0'))
			return 0;
		j += k;
	}
}

/* A number at u[start] other than the usual integer. Integers are written
 * from their value: only those of up to 18 digits, but "-0", are sure to
 * come back as they are. */
static size_t written_number(sk_json *p, const unsigned char *u, size_t n, size_t start)
{
	size_t i = start, err_at, k;
	const char *why;

	/* sk_json_number_token refuses what json-c would misread; the grammar of what
	 * it took is checked here. */
	if ((u[start] != '-' && !sk_json_is_digit(u[start])) || sk_json_number_token(u, n, &i, p->exact, &err_at, &why) < 0 ||
	    !json_number(u + start, i - start))
		return 0;
	for (k = start + (u[start] == '-'); k < i && sk_json_is_digit(u[k]); k++)
		;
	if (k < i)
		return i;       /* a double: json-c keeps its text */
	return k - start - (u[start] == '-') <= 18 && !(u[start] == '-' && u[start + 1] == '0') ? i : 0;
}

/* Whether the key u[key..key+len) is one of the keys m[0..nm) of its
 * object: compared with them only when one had its bit (sk_json_key_bit),
 * which it adds to *seen. */
static inline int repeated(const unsigned char *u, const sk_json_member *m, size_t nm, size_t key, size_t len,
                           uint64_t *seen)
{
	uint64_t bit = sk_json_key_bit((const char *)u + key, len);
	size_t k;

	if (*seen & bit)
		for (k = 0; k < nm; k++)
			if (m[k].key_len == len && memcmp(u + m[k].key, u + key, len) == 0)
				return 1;
	*seen |= bit;
	return 0;
}

#define WRITTEN_DEPTH 16        /* well inside json-c's limit (32) */
#define WRITTEN_KEYS 64         /* keys of an inner object compared for repeats */

static size_t written_nested(sk_json *p, const uint64_t *mk, const unsigned char *u, size_t n, size_t i, int depth);

/* The value at u[i] (i < n) as json-c writes what it reads of it; depth:
 * the levels it is in; p says whether integers must be exact. */
static inline __attribute__((always_inline)) size_t written_value(sk_json *p, const uint64_t *mk,
                                                                 const unsigned char *u, size_t n, size_t i, int depth)
{
	size_t k, digits;

	switch (u[i]) {
	case '"':
		return written_string(mk, u, n, i + 1, 0);
	case '{': case '[':
		return written_nested(p, mk, u, n, i, depth + 1);
	case 't':
		return n - i >= 4 && memcmp(u + i, "true", 4) == 0 ? i + 4 : 0;
	case 'f':
		return n - i >= 5 && memcmp(u + i, "false", 5) == 0 ? i + 5 : 0;
	case 'n':
		return n - i >= 4 && memcmp(u + i, "null", 4) == 0 ? i + 4 : 0;
	}
	/* The usual number, an integer of up to 18 digits, at one look. */
	digits = k = i + (u[i] == '-');
#ifdef SK_SSE2
	if (n - k >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(u + k));
		unsigned d = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
		                                                       _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1))));

		digits += (size_t)__builtin_ctz(~d);   /* the first of sixteen not a digit, or 16 */
	}
#endif
	while (digits < n && sk_json_is_digit(u[digits]))
		digits++;
	/* A leading 0 only as "0" itself: "-0" and "01" are for written_number. */
	if (digits > k && digits - k <= 18 && (digits == n || (u[digits] != '.' && u[digits] != 'e' && u[digits] != 'E')) &&
	    (u[k] != '0' || (digits - k == 1 && k == i)))
		return digits;
	return written_number(p, u, n, i);
}

/* The object or array at u[i] (depth levels in, the top one 1), each of
 * its values as json-c writes it, and an object's keys all different
 * (json-c keeps the last of a repeated key). */
static size_t written_nested(sk_json *p, const uint64_t *mk, const unsigned char *u, size_t n, size_t i, int depth)
{
	sk_json_member keys[WRITTEN_KEYS];
	size_t nkeys = 0, key;
	uint64_t seen = 0;
	int object = u[i] == '{';
	unsigned char close = object ? '}' : ']';

	if (depth > WRITTEN_DEPTH || ++i >= n)
		return 0;
	if (u[i] == close)
		return i + 1;
	for (;;) {
		if (object) {
			if (u[i] != '"' || nkeys == WRITTEN_KEYS)
				return 0;
			key = i + 1;
			if ((i = written_string(mk, u, n, key, 1)) == 0 || i >= n || u[i] != ':' ||
			    repeated(u, keys, nkeys, key, i - 1 - key, &seen))
				return 0;
			keys[nkeys].key = key;
			keys[nkeys++].key_len = i - 1 - key;
			if (++i >= n)
				return 0;
		}
		if ((i = written_value(p, mk, u, n, i, depth)) == 0 || i >= n)
			return 0;
		if (u[i] == close)
			return i + 1;
		if (u[i++] != ',' || i >= n)
			return 0;
	}
}

size_t sk_json_written_object(sk_json *p, const char *s, size_t n, const sk_json_member **m)
{
	const unsigned char *u = (const unsigned char *)s;
	const uint64_t *mk;
	sk_json_member *mb;
	size_t i = 1, key, len, nm = 0;
	uint64_t seen = 0;

	/* One pass: in an object without white space, each token is where the
	 * grammar puts it, and a string ends at its next mark. */
	p->nmembers = 0;
	p->plain = 0;       /* sk_json_plain_members answers for json-c's parses only */
	*m = p->members;
	if (n < 2 || n > INT32_MAX || u[0] != '{' || fill_marks(p, u, n) < 0)
		return 0;
	mk = p->marks;
	p->distinct = 1;
	for (;;) {
		if (i >= n || u[i] != '"')
			return 0;
		key = i + 1;
		if ((i = written_string(mk, u, n, key, 1)) == 0 || i >= n || u[i] != ':' || ++i >= n)
			return 0;
		if (nm == p->capmembers && sk_json_grow_members(p) < 0)
			return 0;
		len = i - 2 - key;
		if (repeated(u, p->members, nm, key, len, &seen))
			p->distinct = 0;
		mb = &p->members[nm++];
		mb->key = key;
		mb->key_len = len;
		mb->value = i;
		if ((i = written_value(p, mk, u, n, i, 1)) == 0 || i >= n)
			return 0;
		mb->value_len = i - mb->value;
		if (u[i] == '}')
			break;
		if (u[i++] != ',')
			return 0;
	}
	p->nmembers = nm;
	*m = p->members;
	return i + 1 == n ? nm : 0;
}

int sk_json_written_distinct(const sk_json *p)
{
	return p->distinct;
}

int sk_json_string_bytes(sk_buf *out, const char *s, size_t n)
{
	const char *end = s + n, *bs;
	int c;

	while ((bs = memchr(s, '\\', (size_t)(end - s))) != NULL) {
		if (sk_buf_add(out, s, (size_t)(bs - s)) < 0 || end - bs < 2)
			return -1;
		s = bs + 2;
		switch (bs[1]) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			if (end - s < 4 || (c = u00_control((const unsigned char *)s)) < 0)
				return -1;
			s += 4;
			break;
		default: c = (unsigned char)bs[1]; break;
		}
		if (sk_buf_addc(out, (char)c) < 0)
			return -1;
	}
	return sk_buf_add(out, s, (size_t)(end - s));
}

