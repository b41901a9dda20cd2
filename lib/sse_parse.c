/* sse_parse.c - WHATWG HTML's event stream interpretation over bytes fed in
 * any pieces: lines end at LF, CRLF or CR (a CR at the end of one piece and
 * the LF that starts the next are one line end), and nothing else ends
 * them (U+2028, U+2029 and NEL are data); one BOM at the start of a
 * connection is dropped; "data" lines are joined with "\n"; an event with
 * no data is not dispatched; the id is kept from event to event until an
 * "id" field replaces it ("id" with nothing after it resets it, one that
 * holds a NUL is ignored); "retry" counts only when it is all digits.
 *
 * Bytes are kept as they come: a split UTF-8 sequence is whole again once
 * its line is, since only CR and LF cut. One departure from the letter of
 * the spec, as browsers make it: a new connection starts from the last id,
 * not from an empty one, so events of a server that sends ids only now and
 * then still carry the id they follow. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"
#include "sse_parse.h"
#include "util.h"

static const char bom[] = "\xEF\xBB\xBF";

struct sk_sse_parser {
	size_t max;               /* the longest event (data and type) kept */
	sk_buf line;              /* a line not yet ended when its piece was */
	int line_over;            /* that line passed the limit; the rest dropped */
	int cr;                   /* the last byte fed was a CR */
	int bom_seen;             /* bytes of a BOM matched at the start; 3: past it */
	sk_buf data, type;        /* the event being read */
	sk_buf id;                /* the id buffer, when id_new; else it is last_id */
	int id_new;               /* an id field came since the last dispatch */
	const char *span;         /* or its data: one line, in the piece being fed */
	size_t span_len;
	int too_long;             /* the event being read passed the limit */
	sk_buf last_id;           /* the id as of the last dispatch */
	long long retry;          /* ms, or -1 */
	unsigned long long lineno;
};

sk_sse_parser *sk_sse_parser_new(size_t max)
{
	sk_sse_parser *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->max = max;
	p->retry = -1;
	return p;
}

void sk_sse_parser_free(sk_sse_parser *p)
{
	if (p == NULL)
		return;
	sk_buf_free(&p->line);
	sk_buf_free(&p->data);
	sk_buf_free(&p->type);
	sk_buf_free(&p->id);
	sk_buf_free(&p->last_id);
	free(p);
}

static inline int set(sk_buf *b, const char *s, size_t n)
{
	sk_buf_reset(b);
	return sk_buf_add(b, s, n);
}

/* The event's data in p->data (with its "\n"), from the piece if it is
 * there: the piece is not kept past the feed. -1 on ENOMEM. */
static int hold_data(sk_sse_parser *p)
{
	const char *s = p->span;

	if (s == NULL)
		return 0;
	p->span = NULL;
	return sk_buf_add(&p->data, s, p->span_len) < 0 || sk_buf_addc(&p->data, '\n') < 0 ? -1 : 0;
}

/* The bytes of data the event has, with a "\n" after each line. */
static size_t data_len(const sk_sse_parser *p)
{
	return p->span ? p->span_len + 1 : p->data.len;
}

static const char *text(const sk_buf *b, size_t *len)
{
	*len = b->len;
	return b->p ? b->p : "";
}

int sk_sse_new_connection(sk_sse_parser *p)
{
	sk_buf_reset(&p->line);
	sk_buf_reset(&p->data);
	sk_buf_reset(&p->type);
	p->span = NULL;
	p->line_over = p->cr = p->bom_seen = p->too_long = 0;
	p->lineno = 0;
	/* The id is the one the reconnection sends: an id field of the event
	 * that was not finished is dropped. */
	p->id_new = 0;
	return 0;
}

const char *sk_sse_last_id(const sk_sse_parser *p, size_t *len)
{
	return text(&p->last_id, len);
}

int sk_sse_set_last_id(sk_sse_parser *p, const char *id, size_t len)
{
	p->id_new = 0;
	return set(&p->last_id, id, len);
}

long long sk_sse_retry_ms(const sk_sse_parser *p)
{
	return p->retry;
}

static int dispatch(sk_sse_parser *p, sk_sse_event_fn fn, void *arg, sk_err *e)
{
	sk_sse_event ev = { 0 };
	int rc = 0;

	if (p->id_new) {
		/* The id buffer becomes the last id: the buffers trade places. */
		sk_buf was = p->last_id;

		p->last_id = p->id;
		p->id = was;
		p->id_new = 0;
	}
	if (p->data.len > 0 || p->span || p->too_long) {
		if (p->data.len > 0)
			p->data.p[--p->data.len] = '\0';   /* the last "\n" */
		ev.type = text(&p->type, &ev.type_len);
		if (ev.type_len == 0) {
			ev.type = "message";
			ev.type_len = strlen(ev.type);
			ev.type_default = 1;
		}
		if (p->span) {
			ev.data = p->span;
			ev.data_len = p->span_len;
		} else {
			ev.data = text(&p->data, &ev.data_len);   /* empty when too long */
		}
		ev.id = text(&p->last_id, &ev.id_len);
		ev.too_long = p->too_long;
		ev.line = p->lineno;
		rc = fn(arg, &ev, e);
	}
	sk_buf_reset(&p->data);
	sk_buf_reset(&p->type);
	p->span = NULL;
	p->too_long = 0;
	return rc;
}

static int field_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(name, want, n) == 0;
}

/* The event outgrew the limit: drop what it has, remember that it did. */
static void overflow(sk_sse_parser *p)
{
	p->too_long = 1;
	sk_buf_reset(&p->data);
	sk_buf_reset(&p->type);
	p->span = NULL;
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

/* The number the digits say, LLONG_MAX if it is more. */
static long long digits_value(const char *s, size_t n)
{
	long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v > (LLONG_MAX - (s[i] - '0')) / 10)
			return LLONG_MAX;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* One line, without its end; over: it was cut at the limit; piece: s is
 * in the piece being fed, not in p->line. */
static inline __attribute__((always_inline)) int take_line(sk_sse_parser *p, const char *s, size_t n, int over,
                                                          int piece, sk_sse_event_fn fn, void *arg, sk_err *e)
{
	const char *colon, *value;
	size_t name_len, value_len;

	p->lineno++;
	if (n == 0 && !over)
		return dispatch(p, fn, arg, e);
	if (s[0] == ':')
		return 0;   /* a comment */
	/* The colon, after a short name as a rule: no call for it. */
	for (colon = s; colon < s + n && *colon != ':'; colon++)
		;
	name_len = (size_t)(colon - s);
	value = colon < s + n ? colon + 1 : s + n;
	value_len = (size_t)(s + n - value);
	if (value_len > 0 && value[0] == ' ') {
		value++;
		value_len--;
	}
	if (field_is(s, name_len, "data")) {
		if (over || p->too_long || data_len(p) + p->type.len + value_len + 1 > p->max) {
			overflow(p);
			return 0;
		}
		if (piece && p->span == NULL && p->data.len == 0) {
			/* The usual event, one data line: not copied. */
			p->span = value;
			p->span_len = value_len;
		} else if (hold_data(p) < 0 || sk_buf_add(&p->data, value, value_len) < 0 ||
		           sk_buf_addc(&p->data, '\n') < 0) {
			return sk_err_oom(e);
		}
	} else if (field_is(s, name_len, "event")) {
		if (over || p->too_long || data_len(p) + value_len > p->max) {
			overflow(p);
			return 0;
		}
		if (set(&p->type, value, value_len) < 0)
			return sk_err_oom(e);
	} else if (field_is(s, name_len, "id")) {
		if (over)
			overflow(p);   /* an id cut short would resume elsewhere */
		else if (memchr(value, '\0', value_len) == NULL) {
			if (set(&p->id, value, value_len) < 0)
				return sk_err_oom(e);
			p->id_new = 1;
		}
	} else if (field_is(s, name_len, "retry")) {
		if (!over && all_digits(value, value_len))
			p->retry = digits_value(value, value_len);
	}
	return 0;   /* another field is ignored */
}

/* Bytes of a line that goes on past this piece. The line is kept up to the
 * limit (and a little, for its field name); past that it only counts as
 * too long. */
static int keep(sk_sse_parser *p, const char *s, size_t n, sk_err *e)
{
	size_t room = p->max + 16 > p->line.len ? p->max + 16 - p->line.len : 0;

	if (n > room) {
		p->line_over = 1;
		n = room;
	}
	return sk_buf_add(&p->line, s, n) < 0 ? sk_err_oom(e) : 0;
}

#ifdef SK_AVX2
/* line_end's blocks of thirty-two from s[*i]: the end's index, or n with
 * *i where fewer than 32 bytes are left. */
static SK_AVX2_FN size_t line_end_avx2(const char *s, size_t n, size_t *i)
{
	const __m256i lf = _mm256_set1_epi8('\n'), cr = _mm256_set1_epi8('\r');

	for (; n - *i >= 32; *i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + *i));
		unsigned m = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, lf), _mm256_cmpeq_epi8(v, cr)));

		if (m != 0)
			return *i + (size_t)__builtin_ctz(m);
	}
	return n;
}
#endif

/* The first end of line (CR or LF) in s[0..n): its index, or n. Lines are
 * short, so a block at a time inline beats two calls of memchr. */
static size_t line_end(const char *s, size_t n)
{
	size_t i = 0;
#ifdef SK_SSE2
	const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
#ifdef SK_AVX2
	size_t end;

	if (sk_simd_avx2() && (end = line_end_avx2(s, n, &i)) < n)
		return end;
#endif
	for (; n - i >= 16; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));

		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
	}
#endif
	for (; i < n; i++)
		if (s[i] == '\n' || s[i] == '\r')
			return i;
	return n;
}

static int feed_lines(sk_sse_parser *p, const char *s, size_t n, sk_sse_event_fn fn, void *arg, sk_err *e)
{
	while (n > 0) {
		size_t end;
		int rc;

		if (p->cr) {
			p->cr = 0;
			if (*s == '\n') {
				s++;
				n--;
				continue;
			}
		}
		end = line_end(s, n);
		if (end == n)
			return keep(p, s, n, e);
		if (p->line.len == 0 && !p->line_over) {
			rc = take_line(p, s, end, end > p->max + 16, 1, fn, arg, e);
		} else {
			if (keep(p, s, end, e) < 0)
				return -1;
			rc = take_line(p, p->line.p, p->line.len, p->line_over, 0, fn, arg, e);
			sk_buf_reset(&p->line);
			p->line_over = 0;
		}
		if (rc < 0)
			return -1;
		p->cr = s[end] == '\r';
		s += end + 1;
		n -= end + 1;
	}
	return 0;
}

int sk_sse_feed(sk_sse_parser *p, const char *buf, size_t n, sk_sse_event_fn fn, void *arg, sk_err *e)
{
	/* A BOM, perhaps in pieces, at the start of the connection. */
	while (p->bom_seen < 3 && n > 0) {
		size_t seen = (size_t)p->bom_seen;

		if (*buf == bom[seen]) {
			p->bom_seen++;
			buf++;
			n--;
			continue;
		}
		/* Not a BOM after all: what matched of it is text. */
		p->bom_seen = 3;
		if (seen > 0 && feed_lines(p, bom, seen, fn, arg, e) < 0)
			return -1;
	}
	if (feed_lines(p, buf, n, fn, arg, e) < 0)
		return -1;
	return hold_data(p) < 0 ? sk_err_oom(e) : 0;
}
