/* test-cursor.c - cursor syntax, cursor sets, and what positions mean
 * by the kind of their source (a file's: test-file-position.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "cursor.h"
#include "source.h"

struct seen { char text[512]; };

static int collect(void *arg, const char *source, const char *partition, const char *position)
{
	struct seen *s = arg;
	size_t n = strlen(s->text);

	snprintf(s->text + n, sizeof s->text - n, "%s|%s|%s;", source, partition, position);
	return 0;
}

static int cmp(const char *source, const char *a, const char *b)
{
	return sk_position_compare(source, a, strlen(a), b, strlen(b));
}

static void comparisons(void)
{
	is_int(cmp("kafka:t", "9", "10"), -1, "kafka offsets compare as numbers");
	is_int(cmp("kafka:t", "0010", "10"), 0, "leading zeros do not count");
	is_int(cmp("k:t", "99999999999999999999999", "100000000000000000000000"), -1,
	       "numbers of any size, for a source of no known kind");
	is_int(cmp("sse:x", "abc", "abc"), 0, "text positions are equal or not");
	is_int(cmp("sse:x", "abc", "abd"), SK_POSITION_INCOMPARABLE, "and cannot be ordered");
}

static void checks(void)
{
	sk_err e;

	ok(sk_position_check("kafka:t", "3", "42", &e) == 0, "kafka partitions are many");
	ok(sk_position_check("t", "a:b", "1", &e) < 0 && e.code == EX_USAGE, "no partition holds ':'");
	ok(sk_position_check("t", "0", "", &e) < 0, "no position is empty");
}

static void descriptions(void)
{
	sk_buf text = { 0 }, json = { 0 };

	sk_position_describe("kafka:t", "42", &text, &json);
	is_str(text.p, "42", "a kafka offset as it is");
	sk_buf_free(&text);
	sk_buf_free(&json);
}

static void sources(void)
{
	char *id = NULL;
	sk_err e;

	ok(sk_position_source("kafka:t", &id, &e) == 0, "other sources");
	is_str(id, "kafka:t", "are taken as they are");
	free(id);
}

static void from(void)
{
	sk_source_opts o = { 0 };
	sk_err e;

	ok(sk_from_parse("beginning", &o, &e) == 0 && o.from == SK_FROM_EARLIEST, "beginning is earliest");
	ok(sk_from_parse("end", &o, &e) == 0 && o.from == SK_FROM_LATEST, "end is latest");
	ok(sk_from_parse("s@1700000000000", &o, &e) == 0 && o.from == SK_FROM_TIME &&
	   o.from_value == 1700000000000, "s@MS is @MS, as kcat says it");
	ok(sk_from_parse("s@", &o, &e) < 0 && e.code == EX_USAGE, "s@ needs a time");
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

	comparisons();
	checks();
	descriptions();
	sources();
	from();
	return tap_done();
}
