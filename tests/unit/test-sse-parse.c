/* test-sse-parse - the event stream rules, each case fed whole, a byte at a
 * time, cut once at every place, and in random pieces: the events must not
 * depend on how the bytes arrived. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"
#include "sse_parse.h"
#include "util.h"
#include "tap.h"

/* The events as text: "TYPE|ID|DATA" each, ";" after each; a too long
 * event is "TYPE|ID|<too long>". */
static int collect(void *arg, const sk_sse_event *ev, sk_err *e)
{
	sk_buf *b = arg;

	if (sk_buf_add(b, ev->type, ev->type_len) < 0 || sk_buf_addc(b, '|') < 0 ||
	    sk_buf_add(b, ev->id, ev->id_len) < 0 || sk_buf_addc(b, '|') < 0 ||
	    (ev->too_long ? sk_buf_adds(b, "<too long>") : sk_buf_add(b, ev->data, ev->data_len)) < 0 ||
	    sk_buf_addc(b, ';') < 0)
		return sk_err_oom(e);
	return 0;
}

static unsigned long rnd_state = 1;

static size_t rnd(size_t n)
{
	rnd_state = rnd_state * 6364136223846793005UL + 1442695040888963407UL;
	return n ? (size_t)((rnd_state >> 33) % n) : 0;
}

enum split { WHOLE, BYTES, AT, RANDOM };

/* in fed to a new parser in pieces: cut at `at` for AT; the events. */
static char *parse(const char *in, size_t n, size_t max, enum split how, size_t at, long long *retry)
{
	sk_sse_parser *p = sk_sse_parser_new(max);
	sk_buf out = { 0 };
	sk_err e = { 0 };
	size_t i = 0, piece;
	char *copy;
	int rc = 0;

	if (p == NULL || sk_buf_adds(&out, "") < 0)
		abort();
	while (rc == 0 && i < n) {
		switch (how) {
		case WHOLE: piece = n; break;
		case BYTES: piece = 1; break;
		case AT: piece = i < at ? at - i : n - i; break;
		default: piece = 1 + rnd(i % 3 ? 7 : 300); break;
		}
		if (piece > n - i)
			piece = n - i;
		/* Each piece in a buffer of its own, spoilt after the feed, as a
		 * transfer's is: the parser keeps nothing of it. */
		if ((copy = malloc(piece)) == NULL)
			abort();
		memcpy(copy, in + i, piece);
		rc = sk_sse_feed(p, copy, piece, collect, &out, &e);
		memset(copy, '#', piece);
		free(copy);
		i += piece;
	}
	if (rc < 0)
		sk_buf_adds(&out, e.msg);
	if (retry)
		*retry = sk_sse_retry_ms(p);
	sk_sse_parser_free(p);
	return out.p;
}

/* A case: every way of feeding it gives want. */
static void is_events(const char *in, size_t n, size_t max, const char *want, const char *what)
{
	char *got = parse(in, n, max, WHOLE, 0, NULL);
	int same = 1;
	size_t at, k;

	is_str(got, want, "%s", what);
	free(got);
	got = parse(in, n, max, BYTES, 0, NULL);
	is_str(got, want, "%s, a byte at a time", what);
	free(got);
	for (at = 1; at < n && same; at++) {
		got = parse(in, n, max, AT, at, NULL);
		if (strcmp(got, want) != 0) {
			printf("# cut at %zu: %s\n", at, got);
			same = 0;
		}
		free(got);
	}
	ok(same, "%s, cut at every place", what);
	for (k = 0, same = 1; k < 20 && same; k++) {
		got = parse(in, n, max, RANDOM, 0, NULL);
		if (strcmp(got, want) != 0) {
			printf("# random pieces, run %zu: %s\n", k, got);
			same = 0;
		}
		free(got);
	}
	ok(same, "%s, in random pieces", what);
}

#define CASE(in, want, what) is_events((in), sizeof(in) - 1, 1 << 20, (want), (what))

static void test_lines(void)
{
	CASE("data: hello\n\n", "message||hello;", "one event");
	CASE("data:hello\n\n", "message||hello;", "no space after the colon");
	CASE("data:  two\n\n", "message|| two;", "only one space stripped");
	CASE("data: a\ndata: b\n\n", "message||a\nb;", "data lines joined with a newline");
	CASE("data: a\r\ndata: b\r\n\r\n", "message||a\nb;", "CRLF line ends");
	CASE("data: a\rdata: b\r\r", "message||a\nb;", "CR line ends");
	CASE("data: a\r\ndata: b\rdata: c\n\n", "message||a\nb\nc;", "mixed line ends");
	CASE("data: a\r\r\ndata: b\n\n", "message||a;message||b;", "CR, then CRLF: two line ends");
	CASE("data: x\n\ndata: y\n\n", "message||x;message||y;", "two events");
	CASE("\n\n\n", "", "blank lines alone dispatch nothing");
	CASE("data\n\n", "message||;", "a field without a colon: data with an empty value");
	CASE("data:\n\n", "message||;", "empty data is still an event");
	CASE("data: x\n", "", "an event not ended is not dispatched");
	CASE("data: x", "", "a line not ended is not taken");
}

/* Lines longer than the blocks the line scan reads (16 and 64 bytes),
 * their ends at every place of one. */
static void test_long_lines(void)
{
	static const char *const ends[] = { "\n", "\r", "\r\n" };
	sk_buf in = { 0 }, want = { 0 };
	size_t len, i, k;

	for (len = 1; len <= 140; len += 9)
		for (k = 0; k < 3; k++) {
			if (sk_buf_adds(&in, "data: ") < 0 || sk_buf_adds(&want, "message||") < 0)
				abort();
			for (i = 0; i < len; i++)
				if (sk_buf_addc(&in, (char)('a' + (len + i) % 26)) < 0 ||
				    sk_buf_addc(&want, (char)('a' + (len + i) % 26)) < 0)
					abort();
			if (sk_buf_adds(&in, ends[k]) < 0 || sk_buf_adds(&in, ends[k]) < 0 || sk_buf_addc(&want, ';') < 0)
				abort();
		}
	is_events(in.p, in.len, 1 << 20, want.p, "lines of 7 to 142 bytes, ended by LF, CR and CRLF");
	sk_buf_free(&in);
	sk_buf_free(&want);
}

static void test_fields(void)
{
	CASE(": heartbeat\n\ndata: x\n\n", "message||x;", "a comment");
	CASE(":\n:\ndata: x\n:c\n\n", "message||x;", "comments inside an event");
	CASE("event: add\ndata: 1\n\ndata: 2\n\n", "add||1;message||2;", "the type, then message again");
	CASE("event: add\n\ndata: 2\n\n", "message||2;", "a type without data is dropped with its event");
	CASE("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n", "message|1|a;message|1|b;message||c;",
	     "the id is kept until replaced, and reset by an empty id");
	CASE("id: 1\n\ndata: a\n\n", "message|1|a;", "an id in an event without data still counts");
	CASE("id: 1\n\ndata: a\nid: x\0y\n\n", "message|1|a;", "an id with a NUL is ignored");
	CASE("id: [{\"topic\":\"eqiad.rc\",\"partition\":0,\"offset\":42}]\ndata: {}\n\n",
	     "message|[{\"topic\":\"eqiad.rc\",\"partition\":0,\"offset\":42}]|{};", "a JSON array id, byte for byte");
	CASE("id:  spaced \ndata: a\n\n", "message| spaced |a;", "an id keeps all but one leading space");
	CASE("foo: bar\ndata: x\nDATA: y\n\n", "message||x;", "unknown fields (and case) are ignored");
	CASE("data: a\xE2\x80\xA8" "b\xC2\x85" "c\n\n", "message||a\xE2\x80\xA8" "b\xC2\x85" "c;",
	     "U+2028 and NEL are data, not line ends");
	CASE("data: caf\xC3\xA9 \xF0\x9F\x8E\x89\n\n", "message||caf\xC3\xA9 \xF0\x9F\x8E\x89;",
	     "UTF-8 split anywhere comes out whole");
	CASE("data: a\\nb \"q\"\n\n", "message||a\\nb \"q\";", "escapes are the data's own");
}

static void test_bom(void)
{
	CASE("\xEF\xBB\xBF" "data: x\n\n", "message||x;", "a BOM is dropped");
	CASE("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\n", "", "only one BOM: the second is part of a field name");
	CASE("\xEF\xBB" "data: x\n\n", "", "half a BOM is not dropped");
	CASE("data: \xEF\xBB\xBFx\n\n", "message||\xEF\xBB\xBFx;", "a BOM later is data");
}

static void test_retry(void)
{
	struct { const char *in; long long want; } cases[] = {
		{ "retry: 1500\n", 1500 },
		{ "retry: 0\n", 0 },
		{ "retry: 15x\n", -1 },
		{ "retry:\n", -1 },
		{ "retry: -1\n", -1 },
		{ "retry: 1.5\n", -1 },
		{ "retry: 99999999999999999999999\n", 9223372036854775807LL },
		{ "retry: 10\nretry: x\n", 10 },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long long got;
		free(parse(cases[i].in, strlen(cases[i].in), 1 << 20, BYTES, 0, &got));
		is_int(got, cases[i].want, "%s: reconnection time", cases[i].in);
	}
}

static void test_limit(void)
{
	is_events("data: 0123456789abcdefXYZ\n\ndata: ok\n\n", 38, 16, "message||<too long>;message||ok;",
	          "an event over the limit is reported, the next one read");
	is_events("id: 7\ndata: 0123456789\ndata: 0123456789\n\ndata: ok\n\n", 52, 16,
	          "message|7|<too long>;message|7|ok;", "data lines that add up to more than the limit");
	is_events("event: 0123456789abcdefghij\ndata: a\n\n", 37, 16, "message||<too long>;",
	          "a type over the limit");
	is_events(": 0123456789abcdefghijklmnopqrstuvwxyz\ndata: ok\n\n", 49, 16, "message||ok;",
	          "a long comment is only a comment");
}

/* A 1 MiB event in random pieces, and one of 2 MiB over a 1 MiB limit,
 * which the parser drops without keeping it. */
static void test_big(void)
{
	size_t size = 1 << 20, n = size + 8, i;
	char *in = malloc(2 * size + 16), *got, *want = malloc(size + 16);

	if (in == NULL || want == NULL)
		abort();
	memcpy(in, "data: ", 6);
	for (i = 0; i < size; i++)
		in[6 + i] = want[9 + i] = (char)('a' + i % 26);
	memcpy(in + 6 + size, "\n\n", 2);
	memcpy(want, "message||", 9);
	memcpy(want + 9 + size, ";", 2);
	got = parse(in, n, 16 << 20, RANDOM, 0, NULL);
	is_str(got, want, "a 1 MiB event in random pieces");
	free(got);
	got = parse(in, n, 16 << 20, WHOLE, 0, NULL);
	is_str(got, want, "a 1 MiB event whole");
	free(got);

	memcpy(in, "data: ", 6);
	for (i = 0; i < 2 * size; i++)
		in[6 + i] = 'x';
	memcpy(in + 6 + 2 * size, "\n\n", 2);
	got = parse(in, 2 * size + 8, size, RANDOM, 0, NULL);
	is_str(got, "message||<too long>;", "a 2 MiB event over a 1 MiB limit");
	free(got);
	free(in);
	free(want);
}

static void feed(sk_sse_parser *p, const char *s, sk_buf *out)
{
	sk_err e;

	if (sk_sse_feed(p, s, strlen(s), collect, out, &e) < 0)
		abort();
}

static void test_connections(void)
{
	sk_sse_parser *p = sk_sse_parser_new(1 << 20);
	sk_buf out = { 0 };
	size_t len;

	if (p == NULL || sk_buf_adds(&out, "") < 0)
		abort();
	is_int(sk_sse_set_last_id(p, "41", 2), 0, "a stored id");
	is_int(sk_sse_new_connection(p), 0, "a connection");
	feed(p, "data: a\n\nid: 42\ndata: b\n\nid: 43\ndata: cut", &out);
	is_str(out.p, "message|41|a;message|42|b;", "events carry the stored id until the server sends one");
	is_str(sk_sse_last_id(p, &len), "42", "the id of an event not finished does not count");
	is_int(sk_sse_new_connection(p), 0, "the connection dropped; a new one");
	sk_buf_reset(&out);
	feed(p, "\xEF\xBB\xBF" "\ndata: c\n\n", &out);
	is_str(out.p, "message|42|c;", "the unfinished event is gone; a BOM may start the new connection");
	sk_buf_reset(&out);
	feed(p, "data: d\r", &out);
	is_int(sk_sse_new_connection(p), 0, "a drop after a CR");
	feed(p, "\ndata: e\n\n", &out);
	is_str(out.p, "message|42|e;", "a CR of the old connection does not join an LF of the new");
	sk_buf_free(&out);
	sk_sse_parser_free(p);
}

static int refuse(void *arg, const sk_sse_event *ev, sk_err *e)
{
	++*(int *)arg;
	return sk_err_set(e, EX_DATAERR, "refused %.*s", (int)ev->data_len, ev->data);
}

static void test_callback_stops(void)
{
	sk_sse_parser *p = sk_sse_parser_new(1 << 20);
	sk_err e = { 0 };
	int calls = 0;

	if (p == NULL)
		abort();
	is_int(sk_sse_feed(p, "data: a\n\ndata: b\n\n", 18, refuse, &calls, &e), -1, "a callback's error stops the feed");
	is_int(calls, 1, "... at that event");
	is_str(e.msg, "refused a", "... with its message");
	sk_sse_parser_free(p);
}

int main(void)
{
	int portable;

	/* On each level of the machine's vector paths (simd.h). */
	for (portable = 0; portable < SK_SIMD_PATHS; portable++) {
		printf("# the paths of level %d (0: the machine's)\n", portable);
		sk_simd_portable(portable);
		test_lines();
		test_long_lines();
		test_fields();
		test_bom();
		test_retry();
		test_limit();
		test_big();
		test_connections();
		test_callback_stops();
	}
	return tap_done();
}
