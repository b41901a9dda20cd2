/* json_write.c - JSON text out: strings with their escapes, base64 (and
 * back), --json embedding, json-c values, and whether sk_json_add_object
 * writes a value of a plain object as the text it was read from (the
 * writer's fast path asks). */
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

/* Escaping writes whole blocks of 16, 32 or 64 bytes, the last of them
 * past what its input becomes: the output has this much room more than
 * the 6 bytes per byte in of the worst case. */
#define ROOM 64

/* The short escapes ("\\n" for a newline...) by byte; 0 for the others. */
static const char short_escape[256] = {
	['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\b'] = 'b', ['\f'] = 'f',
};

/* The byte at u[*i], one that sk_json_marks16 marks and that has no short
 * escape, written at o: its UTF-8 sequence as it is, or \u00XX (a control
 * character, or a byte that is not UTF-8). */
static char *escape_other(char *o, const unsigned char *u, size_t *i, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = u[*i];
	size_t k;

	if (c >= 0x80 && (k = sk_utf8_seq(u + *i, n - *i)) > 0) {
		/* And the sequences after it: text that is not ASCII comes in runs. */
		do {
			memcpy(o, u + *i, k);
			o += k;
			*i += k;
		} while (*i < n && u[*i] >= 0x80 && (k = sk_utf8_seq(u + *i, n - *i)) > 0);
		return o;
	}
	(*i)++;
	memcpy(o, "\\u00", 4);
	o[4] = hex[c >> 4];
	o[5] = hex[c & 15];
	return o + 6;
}

/* The marked byte at u[*i] (sk_json_marks16), escaped at o. */
static inline __attribute__((always_inline)) char *escape_marked(char *o, const unsigned char *u, size_t *i, size_t n)
{
	char e = short_escape[u[*i]];

	if (e == 0)
		return escape_other(o, u, i, n);
	o[0] = '\\';
	o[1] = e;
	(*i)++;
	return o + 2;
}

#ifdef SK_AVX512
/* The bytes of v (32 of them, in its low half) with a backslash before
 * each marked one, at o: two slots per byte, the backslash's (there when
 * the byte is marked) and its own; pext keeps the slots there, and VBMI2's
 * expand puts the bytes in the lanes that are not a backslash's. Controls
 * become their letters. Writes 64 bytes; returns 32 + the marks. */
static inline __attribute__((always_inline)) SK_AVX512_FN size_t expand32(char *o, __m512i v, uint32_t mark,
                                                                           int ctl, __m512i table)
{
	uint64_t bytes = _pext_u64(0xAAAAAAAAAAAAAAAAull, 0xAAAAAAAAAAAAAAAAull | _pdep_u64(mark, 0x5555555555555555ull));
	__m512i w = _mm512_mask_expand_epi8(_mm512_set1_epi8('\\'), bytes, v);

	if (ctl)
		w = _mm512_mask_permutexvar_epi8(w, _mm512_cmplt_epu8_mask(w, _mm512_set1_epi8(0x20)), w, table);
	_mm512_storeu_si512((void *)o, w);
	return 32 + (size_t)__builtin_popcount(mark);
}

/* The bytes of v that in marks (the first up to 64 of the text, the
 * others zero) escaped at *o (which has room for 128) in a few
 * instructions, however many need a backslash: each '"', '\\' and control
 * character with a short escape gets a backslash before it. It stops at a
 * byte that high marks (from 0x80 and not known to be UTF-8, for the
 * caller to look at) and at a control without a short escape: the bytes
 * taken, *o moved past what they became. */
static inline __attribute__((always_inline)) SK_AVX512_FN size_t escape64(char **o, __m512i v, __mmask64 in,
                                                                           __mmask64 high)
{
	static const char letters[64] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r' };
	const __m512i table = _mm512_loadu_si512((const void *)letters);
	__mmask64 ctl = _mm512_cmplt_epu8_mask(v, _mm512_set1_epi8(0x20));
	__mmask64 mark = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('"')) |
	                 _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\\')) | ctl;
	__mmask64 stop = high | ~in;
	size_t taken = 64, low;

	if (ctl != 0)
		stop |= _mm512_mask_cmpeq_epi8_mask(ctl, _mm512_permutexvar_epi8(v, table), _mm512_setzero_si512());
	if (stop != 0) {
		taken = (size_t)__builtin_ctzll(stop);
		mark &= ((__mmask64)1 << taken) - 1;    /* taken < 64 */
	}
	if (mark == 0) {
		_mm512_storeu_si512((void *)*o, v);
		*o += taken;
		return taken;
	}
	low = expand32(*o, v, (uint32_t)mark, ctl != 0, table);
	if (taken > 32)
		expand32(*o + low, _mm512_castsi256_si512(_mm512_extracti64x4_epi64(v, 1)), (uint32_t)(mark >> 32),
		         ctl != 0, table);
	*o += taken + (size_t)__builtin_popcountll(mark);
	return taken;
}

/* Sixty-four bytes at a look (a masked load reads nothing past n). The
 * bytes from 0x80 of a look are checked a UTF-8 sequence at a time: where
 * they all are valid they are taken as they are, with the rest of the
 * look; where one is not, the look stops at the first that was not
 * checked, for escape_marked. */
static SK_AVX512_FN char *escape_avx512(char *o, const unsigned char *u, size_t n)
{
	size_t i = 0, want, k, checked = 0;     /* the sequences that start before u[checked] are valid */

	while (i < n) {
		__mmask64 in, high;
		__m512i v;

		want = n - i < 64 ? n - i : 64;
		in = want == 64 ? ~(__mmask64)0 : (((__mmask64)1 << want) - 1);
		v = _mm512_maskz_loadu_epi8(in, u + i);
		high = _mm512_movepi8_mask(v);
		if (high != 0) {
			size_t to = checked;

			if (sk_utf8_valid_high(u, n, i, high, &to) == 0) {
				checked = to;
				high = 0;
			} else if (checked > i) {
				high &= checked - i >= 64 ? 0 : ~(__mmask64)0 << (checked - i);
			}
		}
		k = escape64(&o, v, in, high);
		i += k;
		if (k < want)
			o = escape_marked(o, u, &i, n);    /* where it stopped */
	}
	return o;
}
#endif

/* The plain run u[i..to) at o, sixteen bytes at once where the input has
 * them (the bytes past the run are overwritten next): its end. */
static inline char *run(char *o, const unsigned char *u, size_t i, size_t to, size_t n)
{
	if (n - i >= 16)
		memcpy(o, u + i, 16);
	else
		memcpy(o, u + i, to - i);
	return o + (to - i);
}

/* The block u[i..i+16) with marks m (bit k for u[i + k]), escaped at o,
 * mark by mark: each run before a mark copied and the marked byte escaped
 * (or its UTF-8 sequence, which may end past the block). *i moves to the
 * block's end or past it. */
static inline __attribute__((always_inline)) char *block_marked(char *o, const unsigned char *u, size_t *i,
                                                                unsigned m, size_t n)
{
	size_t end = *i + 16, at;

	memcpy(o, u + *i, 16);
	do {
		at = end - 16 + (size_t)__builtin_ctz(m);
		m &= m - 1;
		if (at < *i)
			continue;     /* inside a UTF-8 sequence taken whole */
		o = run(o, u, *i, at, n);
		*i = at;
		o = escape_marked(o, u, i, n);
	} while (m != 0);
	if (*i < end) {
		o = run(o, u, *i, end, n);
		*i = end;
	}
	return o;
}

/* What is left after the blocks, byte by byte. */
static inline __attribute__((always_inline)) char *tail(char *o, const unsigned char *u, size_t i, size_t n)
{
	while (i < n) {
		if (sk_json_string_plain[u[i]])
			*o++ = (char)u[i++];
		else
			o = escape_marked(o, u, &i, n);
	}
	return o;
}

#ifdef SK_SSSE3
/* For 8 bytes with marks m: the shuffle that puts a free lane before each
 * marked byte (8 + popcount(m) lanes; the others zero), and the backslashes
 * that fill those lanes. */
static unsigned char spread[256][16], slashes[256][16];
/* For the last k bytes of a 16-byte load: the shuffle that moves them to
 * the front (the others zero), and the plain bytes that fill the rest. */
static unsigned char last_k[16][16], last_pad[16][16];

__attribute__((constructor)) static void spread_tables(void)
{
	unsigned m, k, j;

	for (k = 0; k < 16; k++)
		for (j = 0; j < 16; j++) {
			last_k[k][j] = j < k ? (unsigned char)(16 - k + j) : 0x80;
			last_pad[k][j] = j < k ? 0 : 'a';
		}
	for (m = 0; m < 256; m++) {
		memset(spread[m], 0x80, 16);
		for (k = 0, j = 0; k < 8; k++) {
			if (m >> k & 1)
				slashes[m][j++] = '\\';
			spread[m][j++] = (unsigned char)k;
		}
	}
}

/* Eight bytes of w (from lane `from`) with marks m, a backslash before
 * each marked one, at o (16 bytes written): the bytes they became. */
static inline __attribute__((always_inline)) SK_SSSE3_FN size_t spread8(char *o, __m128i w, unsigned m, int from)
{
	__m128i s = _mm_loadu_si128((const __m128i *)(const void *)spread[m]);

	if (from)
		s = _mm_add_epi8(s, _mm_set1_epi8((char)from));    /* 0x80 stays above 0x7f: still zero */
	s = _mm_or_si128(_mm_shuffle_epi8(w, s), _mm_loadu_si128((const __m128i *)(const void *)slashes[m]));
	_mm_storeu_si128((__m128i *)(void *)o, s);
	return 8 + (size_t)__builtin_popcount(m);
}

/* The marks of the 16 bytes of v ('"', '\\', below 0x20 and from 0x80) in
 * *m; when every one has a short escape ('"', '\\' and five controls: most
 * marks in text), the bytes escaped at o in two shuffles however many
 * there are (the controls become their letters, then each half is spread
 * by the tables): the end of what they became. NULL, nothing written,
 * when a mark needs more. */
static inline __attribute__((always_inline)) SK_SSSE3_FN char *block_ssse3(char *o, __m128i v, unsigned *m)
{
	static const char letter_of[16] = { ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r' };
	__m128i quote = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
	__m128i low = _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xf0)), _mm_setzero_si128());
	__m128i letter, ctl;

	*m = (unsigned)_mm_movemask_epi8(_mm_or_si128(quote, _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))));
	if (*m == 0) {
		_mm_storeu_si128((__m128i *)(void *)o, v);
		return o + 16;
	}
	/* A byte from 0x80 shuffles to 0. */
	letter = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)letter_of), v);
	ctl = _mm_andnot_si128(_mm_cmpeq_epi8(letter, _mm_setzero_si128()), low);
	if ((unsigned)_mm_movemask_epi8(_mm_or_si128(quote, ctl)) != *m)
		return NULL;
	v = _mm_or_si128(_mm_andnot_si128(ctl, v), _mm_and_si128(ctl, letter));
	o += spread8(o, v, *m & 0xff, 0);
	return o + spread8(o, v, *m >> 8, 8);
}

/* One block of sixteen at u[*i] escaped at o, as escape below, but a block
 * whose marks all have short escapes at once (block_ssse3): *i moves past
 * it (or past a UTF-8 sequence that ends after it). */
static inline __attribute__((always_inline)) SK_SSSE3_FN char *step16(char *o, const unsigned char *u, size_t *i,
                                                                      size_t n)
{
	unsigned m;
	char *e = block_ssse3(o, _mm_loadu_si128((const __m128i *)(const void *)(u + *i)), &m);

	if (e == NULL)
		return block_marked(o, u, i, m, n);
	*i += 16;
	return e;
}

/* The last bytes u[i..n), fewer than 16: when the string has 16 or more,
 * at once, loaded with the bytes before them, moved to the front, padded
 * with plain ones; otherwise (or when one needs more than a short escape)
 * byte by byte. */
static inline __attribute__((always_inline)) SK_SSSE3_FN char *last16(char *o, const unsigned char *u, size_t i,
                                                                      size_t n)
{
	size_t k = n - i;
	unsigned m;
	__m128i v;

	if (i == n || n < 16)
		return tail(o, u, i, n);
	v = _mm_loadu_si128((const __m128i *)(const void *)(u + n - 16));
	v = _mm_or_si128(_mm_shuffle_epi8(v, _mm_loadu_si128((const __m128i *)(const void *)last_k[k])),
	                 _mm_loadu_si128((const __m128i *)(const void *)last_pad[k]));
	if (block_ssse3(o, v, &m) == NULL)
		return tail(o, u, i, n);
	return o + k + (size_t)__builtin_popcount(m);
}

static SK_SSSE3_FN char *escape_ssse3(char *o, const unsigned char *u, size_t n)
{
	size_t i = 0;

	while (n - i >= 16)
		o = step16(o, u, &i, n);
	return last16(o, u, i, n);
}

/* The rest of a UTF-8 sequence that the last block began, when it goes
 * on past that block (u[*i..checked), checked already): copied, so that
 * a path that looks at sequences whole starts after it. */
static inline char *sequence_rest(char *o, const unsigned char *u, size_t *i, size_t checked)
{
	if (checked <= *i)
		return o;
	memcpy(o, u + *i, checked - *i);
	o += checked - *i;
	*i = checked;
	return o;
}

/* As escape_ssse3, thirty-two bytes at a look: a block with no mark is
 * copied; one whose marks are '"' and '\\' (the marks of JSON text in a
 * string) and bytes from 0x80 that are UTF-8 (checked there, a sequence at
 * a time) is spread by the tables a quarter at a time, its UTF-8 as it
 * is; one with a control or with bytes that are not UTF-8 goes sixteen
 * bytes at a time. */
static SK_AVX2_FN char *escape_avx2(char *o, const unsigned char *u, size_t n)
{
	size_t i = 0, checked = 0;      /* the sequences that start before u[checked] are valid */

	while (n - i >= 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(u + i));
		unsigned quote = (unsigned)_mm256_movemask_epi8(
			_mm256_or_si256(_mm256_cmpeq_epi8(v, _mm256_set1_epi8('"')), _mm256_cmpeq_epi8(v, _mm256_set1_epi8('\\'))));
		/* Signed: below 0x20, and from 0x80. */
		unsigned other = (unsigned)_mm256_movemask_epi8(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), v));
		__m128i lo, hi;

		if (other != 0) {
			unsigned high = (unsigned)_mm256_movemask_epi8(v);
			size_t to = checked;

			if (other != high || sk_utf8_valid_high(u, n, i, high, &to) < 0) {
				o = sequence_rest(o, u, &i, checked);
				o = step16(o, u, &i, n);
				continue;
			}
			checked = to;
		}
		if (quote == 0) {
			_mm256_storeu_si256((__m256i *)(void *)o, v);
			o += 32;
			i += 32;
			continue;
		}
		lo = _mm256_castsi256_si128(v);
		hi = _mm256_extracti128_si256(v, 1);
		o += spread8(o, lo, quote & 0xff, 0);
		o += spread8(o, lo, quote >> 8 & 0xff, 8);
		o += spread8(o, hi, quote >> 16 & 0xff, 0);
		o += spread8(o, hi, quote >> 24, 8);
		i += 32;
	}
	o = sequence_rest(o, u, &i, checked);
	while (n - i >= 16)
		o = step16(o, u, &i, n);
	return last16(o, u, i, n);
}
#endif

/* s[0..n) escaped at o, which has room for n * 6 + ROOM bytes: the end. */
static char *escape(char *o, const unsigned char *u, size_t n)
{
	size_t i = 0;
	unsigned m;

#ifdef SK_AVX512
	if (sk_simd_avx512())
		return escape_avx512(o, u, n);
#endif
#ifdef SK_AVX2
	if (sk_simd_avx2())
		return escape_avx2(o, u, n);
#endif
#ifdef SK_SSSE3
	if (sk_simd_ssse3())
		return escape_ssse3(o, u, n);
#endif

	/* Sixteen bytes at a time. A block with nothing marked is copied; one
	 * with marks, mark by mark. */
	while (n - i >= 16) {
		m = sk_json_marks16(u + i);
		if (m == 0) {
			memcpy(o, u + i, 16);
			o += 16;
			i += 16;
			continue;
		}
		o = block_marked(o, u, &i, m, n);
	}
	return tail(o, u, i, n);
}

/* Room for s escaped, and extra bytes more. */
static char *room(sk_buf *b, size_t n, size_t extra)
{
	size_t need;

	if (n > (SIZE_MAX - ROOM - extra) / 6)
		return NULL;
	need = n * 6 + ROOM + extra;
	if (b->cap - b->len <= need && sk_buf_reserve(b, need) < 0)
		return NULL;
	return b->p + b->len;
}

static void ended(sk_buf *b, char *o)
{
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
}

int sk_json_add_string(sk_buf *b, const char *s, size_t n)
{
	char *o = room(b, n, 2);

	if (o == NULL)
		return -1;
	*o++ = '"';
	o = escape(o, (const unsigned char *)s, n);
	*o++ = '"';
	ended(b, o);
	return 0;
}

int sk_json_add_chars(sk_buf *b, const char *s, size_t n)
{
	char *o = room(b, n, 0);

	if (o == NULL)
		return -1;
	ended(b, escape(o, (const unsigned char *)s, n));
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
	if (embed && sk_json_read_kept(p, s, n)) {
		/* Embedded as written, without the white space around it. */
		while (n > 0 && sk_json_is_space(*s))
			s++, n--;
		while (n > 0 && sk_json_is_space(s[n - 1]))
			n--;
		sk_json_kept_at(p, b, b->len, n);
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

static int base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int sk_base64_decode(const char *s, size_t n, sk_buf *out)
{
	size_t i, pad = n >= 1 && s[n - 1] == '=' ? (n >= 2 && s[n - 2] == '=' ? 2 : 1) : 0;
	int v[4], j;

	sk_buf_reset(out);
	if (n % 4 != 0 || sk_buf_reserve(out, n / 4 * 3) < 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		for (j = 0; j < 4; j++)
			if ((v[j] = i + (size_t)j >= n - pad ? 0 : base64_value((unsigned char)s[i + (size_t)j])) < 0)
				return -1;
		out->p[out->len++] = (char)(v[0] << 2 | v[1] >> 4);
		out->p[out->len++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		out->p[out->len++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	/* The bits the padding leaves over are zero in canonical base64. */
	if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
		return -1;
	out->len -= pad;
	return 0;
}
