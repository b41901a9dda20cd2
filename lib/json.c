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
 * json-c would write (sk_json_written_object, json_written.c), and json-c
 * parses only the rows that need a change (see writer_readahead.c and
 * writer_text.c). */
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
static const char nul_in_key[] = "\\u0000 in a key (json-c would cut the key there)";

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

/* The length of the escape at u[0] ('\\'), left bytes from the end of the
 * text: \" \\ \/ \b \f \n \r \t, or \u and four hex digits (cJSON, which
 * reads some texts, takes other bytes there). An escape the end cuts is
 * what is left of it (the string is then unclosed); 0 when invalid. */
static size_t escape_len(const unsigned char *u, size_t left)
{
	static const unsigned char one[256] = {
		['"'] = 1, ['\\'] = 1, ['/'] = 1, ['b'] = 1, ['f'] = 1, ['n'] = 1, ['r'] = 1, ['t'] = 1,
	};
	size_t k;

	if (left < 2)
		return left;
	if (u[1] != 'u')
		return one[u[1]] ? 2 : 0;
	for (k = 2; k < 6 && k < left; k++)
		if (!sk_json_is_digit(u[k]) && ((u[k] | 0x20) < 'a' || (u[k] | 0x20) > 'f'))
			return 0;
	return k;
}

/* The string whose opening quote is at u[*pos - 1]: *pos is left on its
 * closing quote (or at n when there is none: json-c reports that). *plain
 * is cleared when it has an escape. */
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
			if ((k = escape_len(u + i, n - i)) == 0) {
				*why = "invalid escape in a string";
				rc = -1;
				break;
			}
			i += k;
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

int sk_json_number_token(const unsigned char *u, size_t n, size_t *i, int exact, size_t *err_at,
                         const char **why)
{
	size_t start = *i, digits, ndigits;
	int negative = u[*i] == '-', fraction = 0;

	if (negative)
		(*i)++;
	digits = *i;
	while (*i < n && sk_json_is_digit(u[*i]))
		(*i)++;
	ndigits = *i - digits;
	if (ndigits > 1 && u[digits] == '0') {
		*err_at = digits;
		*why = "a number must not start with 0";
		return -1;
	}
	if (*i < n && u[*i] == '.') {
		if (*i + 1 >= n || !sk_json_is_digit(u[*i + 1])) {
			*err_at = *i;
			*why = "a digit must follow the decimal point";
			return -1;
		}
		fraction = 1;
		for ((*i)++; *i < n && sk_json_is_digit(u[*i]); (*i)++)
			;
	}
	if (*i < n && (u[*i] == 'e' || u[*i] == 'E')) {
		fraction = 1;
		(*i)++;
		if (*i < n && (u[*i] == '+' || u[*i] == '-'))
			(*i)++;
		while (*i < n && sk_json_is_digit(u[*i]))
			(*i)++;
	}
	if (exact && !fraction && beyond_64_bits(u + digits, ndigits, negative)) {
		*err_at = start;
		*why = integer_too_big;
		return -1;
	}
	return 0;
}

int sk_json_grow_members(sk_json *p)
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

	if (p->nmembers == p->capmembers && sk_json_grow_members(p) < 0) {
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
			if (sk_json_number_token(u, n, &i, p->exact, err_at, why) < 0)
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

/* Where the first key of s[0..n) (a text the lexical pass took) with a
 * \u0000 in it starts, or n when none has. json-c keeps keys as C strings,
 * cut at their first NUL: such an object cannot be read whole. */
static size_t nul_key(const char *s, size_t n)
{
	const char *q;
	size_t i = 0, start;
	int nul;

	while (i < n && (q = memchr(s + i, '"', n - i)) != NULL) {
		start = (size_t)(q - s);
		i = start + 1;
		for (nul = 0; i < n && s[i] != '"'; i++)
			if (s[i] == '\\') {
				nul |= n - i >= 6 && memcmp(s + i, "\\u0000", 6) == 0;
				i++;
			}
		for (i++; i < n && sk_json_is_space(s[i]); i++)
			;
		if (nul && i < n && s[i] == ':')
			return start;
	}
	return n;
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
	if (!p->plain && sk_json_has_nul_escape(s, n) && (*err_at = nul_key(s, n)) < n) {
		*why = nul_in_key;
		return NULL;
	}
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
	else if (o == NULL && why == nul_in_key)
		sk_err_set(e, EX_DATAERR, "key at byte %zu: %s", at + 1, why);
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
