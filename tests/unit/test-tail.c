/* test-tail.c - the tail of a child's stderr (lib/tail.c): lines in any
 * pieces, the last ones kept, long ones cut. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tail.h"

static void test_tail(void)
{
	sk_tail t = { 0 };
	char *text, big[2000];
	int nomem, i;

	text = sk_tail_text(&t, &nomem);
	ok(text == NULL && !nomem, "an empty tail has no text");
	sk_tail_feed(&t, "one\ntw", 6);
	sk_tail_feed(&t, "o\nthr", 5);
	text = sk_tail_text(&t, &nomem);
	is_str(text, "one\ntwo\nthr", "lines in pieces, the unfinished one last");
	free(text);
	for (i = 0; i < 20; i++) {
		char line[16];
		snprintf(line, sizeof line, "line %d\n", i);
		sk_tail_feed(&t, line, strlen(line));
	}
	text = sk_tail_text(&t, &nomem);
	ok(text && strncmp(text, "line 10\n", 8) == 0 && strcmp(text + strlen(text) - 7, "line 19") == 0,
	   "the last %d lines are kept", SK_TAIL_LINES);
	free(text);
	sk_tail_reset(&t);
	memset(big, 'x', sizeof big);
	sk_tail_feed(&t, big, sizeof big);
	sk_tail_feed(&t, "\nend\n", 5);
	text = sk_tail_text(&t, &nomem);
	ok(text && strlen(text) == SK_TAIL_LINE_MAX + 3 + 4 &&
	   strncmp(text + SK_TAIL_LINE_MAX, "...\nend", 7) == 0, "a long line is cut at %d bytes, with ...",
	   SK_TAIL_LINE_MAX);
	free(text);
	sk_tail_reset(&t);

	is_int(sk_complete_lines("a\nb\nc", 5), 4, "complete lines end at the last newline");
	is_int(sk_complete_lines("abc", 3), 0, "none without a newline");
	is_int(sk_complete_lines("a\n", 2), 2, "all of it when it ends with one");
}

int main(void)
{
	test_tail();
	return tap_done();
}
