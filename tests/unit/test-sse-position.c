/* test-sse-position.c - SSE positions: the last event id written into a
 * cursor and read back byte for byte, whatever it holds, and what the
 * state store makes of them (compare, check, describe). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cursor.h"
#include "json.h"
#include "source.h"
#include "sse_position.h"

/* id -> position -> cursor -> split -> id again. */
static void round_trip(const char *id, size_t n, const char *want_pos, const char *what)
{
	sk_buf pos = { 0 }, cur = { 0 }, back = { 0 };
	sk_cursor_parts parts;
	int rc;

	ok(sk_sse_position_add(&pos, id, n) == 0, "%s: written", what);
	if (want_pos)
		is_str(pos.p, want_pos, "%s: as the position %s", what, want_pos);
	ok(memchr(pos.p, ':', pos.len) == NULL, "%s: no ':' in the position", what);
	sk_buf_adds(&cur, "sse:http://127.0.0.1:8080/v2/stream:0:");
	sk_buf_add(&cur, pos.p, pos.len);
	rc = sk_cursor_split(cur.p, cur.len, &parts, NULL);
	ok(rc == 0 && parts.source_len == strlen("sse:http://127.0.0.1:8080/v2/stream") &&
	   parts.partition_len == 1 && parts.partition[0] == '0', "%s: the cursor splits at its own colons", what);
	ok(sk_sse_position_id(parts.position, parts.position_len, &back) == 0, "%s: read back", what);
	ok(back.len == n && (n == 0 || memcmp(back.p, id, n) == 0), "%s: byte for byte", what);
	sk_buf_free(&pos);
	sk_buf_free(&cur);
	sk_buf_free(&back);
}

static void positions(void)
{
	static const char wiki[] = "[{\"topic\":\"eqiad.mediawiki.recentchange\",\"partition\":0,"
	                           "\"timestamp\":1700000000000},{\"topic\":\"codfw.rc\",\"partition\":0,\"offset\":-1}]";
	static const char bad_utf8[] = "a\xff\xfe:b";

	round_trip("42", 2, "42", "a number");
	round_trip(wiki, strlen(wiki), NULL, "a Wikimedia id (JSON with ':')");
	round_trip("100%:done", 9, "100%25%3Adone", "'%' and ':'");
	round_trip("tab\there\x7f", 9, "tab%09here%7F", "control characters");
	round_trip("Zürich", strlen("Zürich"), "Zürich", "UTF-8 kept as it is");
	round_trip(bad_utf8, strlen(bad_utf8), "a%FF%FE%3Ab", "bytes that are not UTF-8");
	round_trip("", 0, SK_SSE_NO_ID, "no id");
	round_trip("%00", 3, "%2500", "an id that reads like the no-id mark");
}

/* id[0..n) as a position, a byte at a time (the rules of sse_position.h). */
static void reference(const char *id, size_t n, int utf8, char *want)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];

		if ((c >= 0x20 && c < 0x7f && c != '%' && c != ':') || (c >= 0x80 && utf8))
			*want++ = (char)c;
		else
			want += sprintf(want, "%%%02X", c);
	}
	*want = '\0';
}

/* Each byte that is looked at, at every place of ids of every length up
 * to 70 (past blocks of sixteen), the others plain, written after a
 * cursor's head: as the reference, and read back. */
static void positions_by_blocks(void)
{
	static const char *const specials[] = { ":", "%", "\x01", "\x1f", "\x7f", " ", "~", "\xc3\xa9",
	                                        "\xe2\x82\xac", "\xff", "\xc3", "\xed\xa0\x80" };
	char id[96], want[512];
	sk_buf pos = { 0 }, back = { 0 };
	size_t len, at, k, n, bad = 0;

	for (len = 1; len <= 70; len++)
		for (at = 0; at < len; at++)
			for (k = 0; k < sizeof specials / sizeof *specials; k++) {
				size_t sl = strlen(specials[k]), j;

				for (j = 0; j < sizeof id; j++)
					id[j] = (char)('A' + j % 26);
				memcpy(id + at, specials[k], sl);
				n = len + sl - 1;
				reference(id, n, sk_utf8_valid(id, n), want);
				sk_buf_reset(&pos);
				sk_buf_adds(&pos, "sse:http://h/s:0:");
				if (sk_sse_position_add(&pos, id, n) < 0 || strcmp(pos.p + 17, want) != 0 ||
				    sk_sse_position_id(pos.p + 17, pos.len - 17, &back) < 0 || back.len != n ||
				    memcmp(back.p, id, n) != 0) {
					if (bad++ < 3)
						printf("# len %zu, special %zu at %zu: got %s, want %s\n", n, k, at, pos.p + 17, want);
				}
			}
	is_int(bad, 0, "a byte to look at at every place of ids up to 70 bytes: as the reference, and back");
	sk_buf_free(&pos);
	sk_buf_free(&back);
}

static void refused(void)
{
	static const char *const bad[] = { "", "a:b", "%", "%4", "%zz", "a%00b", "x\ny" };
	sk_buf id = { 0 };
	size_t i;

	for (i = 0; i < sizeof bad / sizeof *bad; i++)
		is_int(sk_sse_position_id(bad[i], strlen(bad[i]), &id), -1, "not a position: '%s'", bad[i]);
	sk_buf_free(&id);
}

static void kind(void)
{
	sk_buf text = { 0 }, json = { 0 };
	sk_err e;

	is_int(sk_position_compare("sse:http://h/s", "5", 1, "5", 1), 0, "the same id is the same position");
	is_int(sk_position_compare("sse:http://h/s", "5", 1, "10", 2), SK_POSITION_INCOMPARABLE,
	       "ids are not numbers: no order");
	ok(sk_position_check("sse:http://h/s", "0", "a%3Ab", &e) == 0, "check: a position");
	ok(sk_position_check("sse:http://h/s", "1", "a", &e) < 0 && e.code == EX_USAGE, "check: partition 0 only");
	ok(sk_position_check("sse:http://h/s", "0", "a%zz", &e) < 0 && e.code == EX_USAGE, "check: bad escapes");
	ok(sk_position_describe("sse:http://h/s", "a%3Ab", &text, &json) == 0, "describe");
	is_str(text.p, "a:b", "described as the id itself");
	is_str(json.p, ",\"event_id\":\"a:b\"", "and as event_id");
	sk_buf_reset(&text);
	sk_buf_reset(&json);
	ok(sk_position_describe("sse:http://h/s", SK_SSE_NO_ID, &text, &json) == 0, "describe no id");
	is_str(json.p, ",\"event_id\":null", "no id: null");
	sk_buf_free(&text);
	sk_buf_free(&json);
}

int main(void)
{
	positions();
	positions_by_blocks();
	refused();
	kind();
	return tap_done();
}
