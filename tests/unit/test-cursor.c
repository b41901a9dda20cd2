/* test-cursor.c - cursor syntax and cursor sets. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cursor.h"

struct seen { char text[512]; };

static int collect(void *arg, const char *source, const char *partition, const char *position)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);

	snprintf(s->text + n, sizeof s->text - n, "%s|%s|%s;", source, partition, position);
	return 0;
}

int main(void)
{
	sk_cursor_parts c;
	sk_err e;
	const char *k = "file:/tmp/a:b.ndjson:0:1234";
	sk_cursorset *cs = sk_cursorset_new();
	struct seen s = {""};
	sk_buf b = {0};

	ok(sk_cursor_split(k, strlen(k), &c, &e) == 0, "split a file cursor");
	ok(c.source_len == 20 && memcmp(c.source, "file:/tmp/a:b.ndjson", 20) == 0,
	   "the source may itself contain ':'");
	ok(c.partition_len == 1 && c.partition[0] == '0', "partition");
	ok(c.position_len == 4 && memcmp(c.position, "1234", 4) == 0, "position");
	ok(sk_cursor_split("nocolon", 7, &c, &e) < 0 && e.code == EX_DATAERR, "a cursor needs three parts");
	ok(sk_cursor_split("a::1", 4, &c, &e) < 0, "an empty partition is refused");
	ok(sk_cursor_split("a:0:", 4, &c, &e) < 0, "an empty position is refused");
	ok(sk_cursor_split(":0:1", 4, &c, &e) < 0, "an empty source is refused");

	sk_cursorset_add(cs, "kafka:t:0:5", 11, &e);
	sk_cursorset_add(cs, "kafka:t:1:7", 11, &e);
	sk_cursorset_add(cs, "kafka:t:0:6", 11, &e);
	sk_cursorset_add(cs, "kafka:t:0:10", 12, &e);
	sk_cursorset_add(cs, "kafka:t:1:8", 11, &e);
	is_int(sk_cursorset_count(cs), 2, "one entry per partition");
	sk_cursorset_each(cs, collect, &s);
	is_str(s.text, "kafka:t|0|10;kafka:t|1|8;", "the last cursor of each partition is kept");
	ok(sk_cursorset_add(cs, "bad", 3, &e) < 0, "a bad cursor is refused by the set");
	sk_cursorset_clear(cs);
	is_int(sk_cursorset_count(cs), 0, "clear empties the set");
	sk_cursorset_free(cs);

	sk_cursor_add_json(&b, "file:/x", "0", "42");
	is_str(b.p, "\"file:/x:0:42\"", "cursor written as a JSON string");
	sk_buf_free(&b);
	return tap_done();
}
