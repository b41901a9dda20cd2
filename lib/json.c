/* json.c - strict JSON parsing with json-c, and the lexical pass before it.
 *
 * json-c was picked by measurement over 1,000,000 lines of 157 bytes: cJSON
 * parses them in 0.57 s but keeps numbers as doubles (9007199254740993 comes
 * back as 9.00719925474099e+15); json-c takes 1.18 s and keeps int64 values
 * and the original text of other numbers; jansson 2.4 s, libjq 2.3 s.
 * json-c's cost is per member, not per byte (an allocation or two, a hash
 * insert, and a locale switch per call): a million of the 9-member rows of
 * scripts/bench take it 1.3 s, and 1.2 s with every string emptied. So
 * the lexical pass below does what json-c would do slowly (UTF-8) and
 * notes where the members of an object are, which lets the writer stage a
 * row that needs no change as its own text; the writer then has cJSON read
 * a row's values on a thread of its own, checks that its text is what
 * json-c would write (sk_json_written_object), and json-c parses only the
 * rows that need a change (see writer_readahead.c and writer_text.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_impl.h"


sk_json *sk_json_new(void)
{
	sk_json *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	if (p->tok == NULL) {
		free(p);
		return NULL;
	}
	/* UTF-8 is validated by the lexical pass, more strictly than json-c does
	 * (it lets surrogates and overlong forms through) and at less cost. */
	json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
	return p;
}

void sk_json_free(sk_json *p)
{
	if (p) {
		cJSON_Delete(p->kept);
		json_tokener_free(p->tok);
		free(p->members);
		free(p->marks);
		free(p);
	}
}

void sk_json_exact_integers(sk_json *p)
{
	p->exact = 1;
}

size_t sk_json_plain_members(const sk_json *p, const sk_json_member **m)
{
	*m = p->members;
	return p->plain ? p->nmembers : 0;
}

/* Bytes that stand for themselves inside a string: not '"', '\\', a
 * control character, or a byte of a UTF-8 sequence (validated apart). */
#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
const unsigned char sk_json_string_plain[256] = {
	R16(0), R16(0),
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         /* 0x20: '"' */
	R16(1), R16(1),
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,         /* 0x50: '\\' */
	R16(1), R16(1),
};

static const char integer_too_big[] = "integer out of the 64-bit range (write it as a string)";

/* The end of the run of sk_json_string_plain bytes at u[i]: sixteen at a
 * time, then one at a time. */
static inline __attribute__((always_inline)) size_t plain_run(const unsigned char *u, size_t i, size_t n)
{
	unsigned m;

	for (; n - i >= 16; i += 16)
		if ((m = sk_json_marks16(u + i)) != 0)
			return i + (size_t)__builtin_ctz(m);
	while (i < n && sk_json_string_plain[u[i]])
		i++;
	return i;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The string whose opening quote is at u[*pos - 1]: *pos is left on its
 * closing quote (or at n when there is none: json-c reports that). Its
 * escapes are json-c's to check; *plain is cleared when it has one. */
static int string_token(const unsigned char *u, size_t n, size_t *pos, int *plain, const char **why)
{
	size_t i = *pos, k;     /* a local: u may alias *pos, which would cost a load a byte */
	int rc = 0;

	for (;;) {
		i = plain_run(u, i, n);
		if (i >= n) {
			i = n;
			break;
		}
		if (u[i] == '"')
			break;
		if (u[i] == '\\') {
			*plain = 0;
			i += 2;
			continue;
		}
		if (u[i] < 0x20) {
			*why = "control character in a string (must be escaped)";
			rc = -1;
			break;
		}
		if ((k = sk_utf8_seq(u + i, n - i)) == 0) {
			*why = "invalid utf-8 string";
			rc = -1;
			break;
		}
		i += k;
	}
	*pos = i;
	return rc;
}

/* 1 when the digits d[0..n) of an integer (no leading zero) are beyond
 * what json-c holds: it clamps those to the nearest 64-bit value. */
static int beyond_64_bits(const unsigned char *d, size_t n, int negative)
{
	const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
	size_t len = strlen(limit);

	return n > len || (n == len && memcmp(d, limit, n) > 0);
}

/* The number at u[*i] ('-' or a digit); *i is left after it. Its grammar
 * is json-c's to check, apart from what json-c lets through: "1." and
 * leading zeros ("00"), and integers it would clamp when exact is set. */
static int number_token(const unsigned char *u, size_t n, size_t *i, int exact, size_t *err_at,
                        const char **why)
{
	size_t start = *i, digits, ndigits;
	int negative = u[*i] == '-', fraction = 0;

	if (negative)
		(*i)++;
	digits = *i;
	while (*i < n && is_digit(u[*i]))
		(*i)++;
	ndigits = *i - digits;
	if (ndigits > 1 && u[digits] == '0') {
		*err_at = digits;
		*why = "a number must not start with 0";
		return -1;
	}
	if (*i < n && u[*i] == '.') {
		if (*i + 1 >= n || !is_digit(u[*i + 1])) {
			*err_at = *i;
			*why = "a digit must follow the decimal point";
			return -1;
		}
		fraction = 1;
		for ((*i)++; *i < n && is_digit(u[*i]); (*i)++)
			;
	}
	if (*i < n && (u[*i] == 'e' || u[*i] == 'E')) {
		fraction = 1;
		(*i)++;
		if (*i < n && (u[*i] == '+' || u[*i] == '-'))
			(*i)++;
		while (*i < n && is_digit(u[*i]))
			(*i)++;
	}
	if (exact && !fraction && beyond_64_bits(u + digits, ndigits, negative)) {
		*err_at = start;
		*why = integer_too_big;
		return -1;
	}
	return 0;
}

/* Room for more members: -1 when there is none. */
static int grow_members(sk_json *p)
{
	size_t cap = p->capmembers ? p->capmembers * 2 : 16;
	sk_json_member *m = realloc(p->members, cap * sizeof *m);

	if (m == NULL)
		return -1;
	p->members = m;
	p->capmembers = cap;
	return 0;
}

/* Note where the members of the top-level object are. Out of memory, the
 * layout is lost (the text is not plain), not the parse. */
static inline void open_member(sk_json *p, size_t key, size_t key_len, int *plain)
{
	sk_json_member *m;

	if (p->nmembers == p->capmembers && grow_members(p) < 0) {
		*plain = 0;
		return;
	}
	m = &p->members[p->nmembers++];
	m->key = key;
	m->key_len = key_len;
	m->value = m->value_len = 0;
}

static void close_member(sk_json *p, size_t end)
{
	sk_json_member *m;

	if (p->nmembers == 0)
		return;
	m = &p->members[p->nmembers - 1];
	if (m->value > 0 && m->value_len == 0 && end >= m->value)
		m->value_len = end - m->value;
}

/* json-c's strict mode still takes single-quoted strings, NaN and Infinity,
 * "1.", "00", raw control characters inside strings and invalid UTF-8, and
 * writes some of them back out as invalid JSON. This pass refuses them
 * before json-c parses, and notes the layout of a top-level object. */
int sk_json_lexically_strict(sk_json *p, const char *s, size_t n, size_t *err_at, const char **why)
{
	const unsigned char *u = (const unsigned char *)s;
	int top = n > 0 && s[0] == '{', plain = 1, depth = 0, want_key = 0;
	size_t i = 0, start;

	p->nmembers = 0;
	p->plain = 0;
	while (i < n) {
		unsigned char c = u[i];
		switch (c) {
		case '"':
			start = ++i;
			if (string_token(u, n, &i, &plain, why) < 0)
				goto bad;
			if (top && depth == 1 && want_key) {
				open_member(p, start, i - start, &plain);
				want_key = 0;
			}
			break;
		case '{': case '[':
			if (++depth > 1)
				plain = 0;
			want_key = top && depth == 1;
			break;
		case '}': case ']':
			if (top && depth == 1)
				close_member(p, i);
			depth--;
			break;
		case ',':
			if (top && depth == 1) {
				close_member(p, i);
				want_key = 1;
			}
			break;
		case ':':
			if (top && depth == 1 && p->nmembers > 0)
				p->members[p->nmembers - 1].value = i + 1;
			break;
		case ' ': case '\t': case '\r': case '\n':
			plain = 0;
			break;
		case '-': case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			if (number_token(u, n, &i, p->exact, err_at, why) < 0)
				return -1;
			continue;
		case '.':
			*why = "unexpected character";
			goto bad;
		case '+': case 'e': case 'E':
		case 't': case 'r': case 'u': case 'f': case 'a': case 'l': case 's': case 'n':
			break;
		default:
			*why = "unexpected character";
			goto bad;
		}
		i++;
	}
	p->plain = top && plain;
	return 0;
bad:
	*err_at = i;
	return -1;
}

/* NULL with *err_at set to the byte offset of the problem and *why to a
 * description, or the value. */
static json_object *parse(sk_json *p, const char *s, size_t n, size_t *err_at, const char **why)
{
	json_object *o;
	enum json_tokener_error jerr;
	size_t used;
	int plain;

	*why = NULL;
	if (n > INT32_MAX) {
		*err_at = 0;
		*why = "text too long";
		return NULL;
	}
	if (sk_json_lexically_strict(p, s, n, err_at, why) < 0)
		return NULL;
	/* The layout counts only once json-c has taken the text. */
	plain = p->plain;
	p->plain = 0;
	json_tokener_reset(p->tok);
	o = json_tokener_parse_ex(p->tok, s, (int)n);
	jerr = json_tokener_get_error(p->tok);
	if (o == NULL && jerr == json_tokener_continue) {
		/* A number or literal at the very end needs to see where the text ends. */
		o = json_tokener_parse_ex(p->tok, "", 1);
		jerr = json_tokener_get_error(p->tok);
		if (o == NULL && jerr != json_tokener_success) {
			*err_at = n;
			*why = jerr == json_tokener_continue ? "unexpected end of text" :
			       json_tokener_error_desc(jerr);
			return NULL;
		}
		return o;
	}
	if (o == NULL && jerr == json_tokener_success)
		return NULL;            /* the literal null */
	if (o == NULL) {
		*err_at = json_tokener_get_parse_end(p->tok);
		*why = json_tokener_error_desc(jerr);
		return NULL;
	}
	for (used = json_tokener_get_parse_end(p->tok); used < n; used++) {
		if (!sk_json_is_space(s[used])) {
			json_object_put(o);
			*err_at = used;
			*why = "unexpected text after the value";
			return NULL;
		}
	}
	p->plain = plain;
	return o;
}

/* u[0..n) is exactly one JSON number (RFC 8259). */
static int json_number(const unsigned char *u, size_t n)
{
	size_t i = u[0] == '-';

	if (i == n || !is_digit(u[i]))
		return 0;
	if (u[i++] != '0')
		while (i < n && is_digit(u[i]))
			i++;
	if (i < n && u[i] == '.') {
		if (++i == n || !is_digit(u[i]))
			return 0;
		while (i < n && is_digit(u[i]))
			i++;
	}
	if (i < n && (u[i] == 'e' || u[i] == 'E')) {
		if (++i < n && (u[i] == '+' || u[i] == '-'))
			i++;
		if (i == n || !is_digit(u[i]))
			return 0;
		while (i < n && is_digit(u[i]))
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
	uint64_t m = 0, h = 0;
	unsigned i;

	for (i = 0; i < 64; i++) {
		m |= (uint64_t)(u[i] == '"' || u[i] == '\\' || u[i] < 0x20) << i;
		h |= (uint64_t)(u[i] >= 0x80) << i;
	}
	*high = h;
	return m;
#endif
}

/* The bytes from 0x80 that h marks in the word at u[at], from u[*from] on
 * (the sequences before are valid): each the start of a valid UTF-8
 * sequence or inside one. *from is left after a sequence that goes on
 * into the next word. -1 when one is not valid. */
static inline __attribute__((always_inline)) int valid_high(const unsigned char *u, size_t n, size_t at, uint64_t h,
                                                           size_t *from)
{
	size_t b, k;

	if (*from > at)
		h &= *from - at >= 64 ? 0 : ~UINT64_C(0) << (*from - at);
	while (h != 0) {
		b = (size_t)__builtin_ctzll(h);
		if ((k = sk_utf8_seq(u + at + b, n - at - b)) == 0)
			return -1;
		if (b + k >= 64) {
			*from = at + b + k;
			return 0;
		}
		h &= ~UINT64_C(0) << (b + k);
	}
	return 0;
}

#ifdef SK_AVX2
/* marks64 of the first words words of u (a text of n bytes), into w, and
 * their UTF-8 checked (valid_high). */
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
		if (h != 0 && valid_high(u, n, i << 6, h, from) < 0)
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
	size_t words = (n >> 6) + 1, full = n >> 6, k = 0, r = n & 63, from = 0, i;
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
		if ((w[k] = marks64(u + (k << 6), &h), h != 0) && valid_high(u, n, k << 6, h, &from) < 0)
			return -1;
	if (r > 0 && n >= 64) {
		/* The last 64 bytes, of which the end's word has the last r. */
		m = marks64(u + n - 64, &h) >> (64 - r);
		h >>= 64 - r;
	} else {
		for (i = 0, m = h = 0; i < r; i++) {
			unsigned char c = u[full * 64 + i];
			m |= (uint64_t)(c == '"' || c == '\\' || c < 0x20) << i;
			h |= (uint64_t)(c >= 0x80) << i;
		}
	}
	if (h != 0 && valid_high(u, n, full << 6, h, &from) < 0)
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
 * json-c writes the string it reads. */
static inline __attribute__((always_inline)) size_t written_string(const uint64_t *mk, const unsigned char *u,
                                                                  size_t n, size_t j)
{
	size_t k;

	for (;;) {
		if ((j = next_mark(mk, j)) >= n)
			return 0;
		if (u[j] == '"')
			return j + 1;
		/* An escape, or a control: UTF-8 is valid (fill_marks). */
		if (u[j] != '\\' || (k = written_escape(u, j, n)) == 0)
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

	/* number_token refuses what json-c would misread; the grammar of what
	 * it took is checked here. */
	if ((u[start] != '-' && !is_digit(u[start])) || number_token(u, n, &i, p->exact, &err_at, &why) < 0 ||
	    !json_number(u + start, i - start))
		return 0;
	for (k = start + (u[start] == '-'); k < i && is_digit(u[k]); k++)
		;
	if (k < i)
		return i;       /* a double: json-c keeps its text */
	return k - start - (u[start] == '-') <= 18 && !(u[start] == '-' && u[start + 1] == '0') ? i : 0;
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
		return written_string(mk, u, n, i + 1);
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
	while (digits < n && is_digit(u[digits]))
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
	size_t key[WRITTEN_KEYS], len[WRITTEN_KEYS], nkeys = 0, k;
	uint64_t bits[WRITTEN_KEYS], seen = 0, bit;
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
			key[nkeys] = i + 1;
			if ((i = written_string(mk, u, n, i + 1)) == 0 || i >= n || u[i] != ':')
				return 0;
			len[nkeys] = i - 1 - key[nkeys];
			bit = sk_json_key_bit((const char *)u + key[nkeys], len[nkeys]);
			if (seen & bit)
				for (k = 0; k < nkeys; k++)
					if (bits[k] == bit && len[k] == len[nkeys] &&
					    memcmp(u + key[k], u + key[nkeys], len[k]) == 0)
						return 0;
			seen |= bit;
			bits[nkeys++] = bit;
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
	size_t i = 1, key, len, k, nm = 0;
	uint64_t seen = 0, bit;

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
		if ((i = written_string(mk, u, n, key)) == 0 || i >= n || u[i] != ':' || ++i >= n)
			return 0;
		if (nm == p->capmembers && grow_members(p) < 0)
			return 0;
		len = i - 2 - key;
		/* A key is compared with the earlier keys when one had its bit. */
		bit = sk_json_key_bit(s + key, len);
		if (seen & bit)
			for (k = 0; k < nm; k++)
				if (p->members[k].key_len == len && memcmp(u + p->members[k].key, u + key, len) == 0)
					p->distinct = 0;
		seen |= bit;
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

int sk_json_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && sk_json_is_space(s[i]); i++)
		;
	return i == n;
}

json_object *sk_json_parse(sk_json *p, const char *s, size_t n, sk_err *e)
{
	const char *why;
	size_t at;
	json_object *o;
	size_t i;

	for (i = 0; i < n && sk_json_is_space(s[i]); i++)
		;
	if (i == n) {
		sk_err_set(e, EX_DATAERR, "empty line (expected JSON)");
		return NULL;
	}
	o = parse(p, s, n, &at, &why);
	if (o == NULL && why == integer_too_big)
		sk_err_set(e, EX_DATAERR, "number at byte %zu: %s", at + 1, why);
	else if (o == NULL && why != NULL)
		sk_err_set(e, EX_DATAERR, "invalid JSON at byte %zu: %s", at + 1, why);
	else if (o == NULL)
		sk_err_clear(e);        /* null: code 0 tells it from a failure */
	return o;
}

int sk_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		k = sk_utf8_seq(u + i, n - i);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}
