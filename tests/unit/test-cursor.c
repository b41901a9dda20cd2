/* test-cursor.c - cursor syntax, cursor sets, and what positions mean
 * by the kind of their source. */
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

#define FP "0123456789abcdef"
#define FP2 "fedcba9876543210"

static int cmp(const char *source, const char *a, const char *b)
{
	return sk_position_compare(source, a, strlen(a), b, strlen(b));
}

static void comparisons(void)
{
	is_int(cmp("file:/a", "10@1.2." FP, "300@1.2." FP), -1, "offsets of one file compare as numbers");
	is_int(cmp("file:/a", "300@1.2." FP, "10@1.2." FP), 1, "after");
	is_int(cmp("file:/a", "300@1.2." FP, "300@1.2." FP), 0, "at");
	is_int(cmp("file:/a", "10@1.2." FP, "10@1.3." FP), SK_POSITION_INCOMPARABLE,
	       "positions of two inodes cannot be ordered");
	is_int(cmp("file:/a", "300@1.2." FP, "400@1.2." FP2), SK_POSITION_INCOMPARABLE,
	       "one inode with other first bytes is another file (inode reuse)");
	is_int(cmp("file:/a", "300@1.2." FP, "400@9.2." FP), -1,
	       "one inode and the same 256 first bytes is one file whatever the device says");
	is_int(cmp("file:/a", "10@1.2." FP, "20@9.2." FP2), SK_POSITION_INCOMPARABLE,
	       "below 256 bytes the device counts");
	is_int(cmp("file:/a", "10@1.2." FP, "20@1.2." FP2), -1,
	       "fingerprints of different lengths do not tell files apart");
	is_int(cmp("file:/a", "10", "20@1.2." FP), -1, "a bare offset is about the file at the path");
	is_int(cmp("file:/a", "9", "10"), -1, "bare offsets compare as numbers");
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

	ok(sk_position_check("file:/a", "0", "5", &e) == 0, "a file position may be a bare offset");
	ok(sk_position_check("file:/a", "0", "5@1.2." FP, &e) == 0, "or an offset and its file");
	ok(sk_position_check("file:/a", "1", "5", &e) < 0 && e.code == EX_USAGE, "a file has no partition 1");
	is_str(e.msg, "invalid partition '1' for file:/a (a file has one partition, 0)", "which it says");
	ok(sk_position_check("file:/a", "0", "5@1.2", &e) < 0 && e.code == EX_USAGE, "an identity has three parts");
	ok(sk_position_check("file:/a", "0", "5@1.2.0123456789ABCDEF", &e) < 0, "in lowercase hex");
	ok(sk_position_check("file:/a", "0", "5@1.2.0123", &e) < 0, "of 16 digits");
	ok(sk_position_check("file:/a", "0", "ten", &e) < 0, "an offset is a number");
	ok(sk_position_check("file:/a", "0", "99999999999999999999", &e) < 0, "within 64 bits");
	ok(sk_position_check("kafka:t", "3", "42", &e) == 0, "kafka partitions are many");
	ok(sk_position_check("t", "a:b", "1", &e) < 0 && e.code == EX_USAGE, "no partition holds ':'");
	ok(sk_position_check("t", "0", "", &e) < 0, "no position is empty");
}

static void descriptions(void)
{
	sk_buf text = { 0 }, json = { 0 };

	ok(sk_position_describe("file:/a", "4096@2049.131077." FP, &text, &json) == 0, "describe a file position");
	is_str(text.p, "4096 (inode 131077)", "for people: the offset and the inode");
	is_str(json.p, ",\"file\":{\"device\":2049,\"inode\":131077,\"fingerprint\":\"" FP "\"}",
	       "as JSON: the file it belongs to");
	sk_position_describe("file:/a", "4096", &text, &json);
	is_str(text.p, "4096", "a bare offset as it is");
	is_int(json.len, 0, "with nothing more");
	sk_position_describe("kafka:t", "42", &text, &json);
	is_str(text.p, "42", "a kafka offset as it is");
	sk_buf_free(&text);
	sk_buf_free(&json);
}

static void sources(void)
{
	char *id = NULL, *cwd = getcwd(NULL, 0), want[4200];
	sk_err e;

	ok(sk_position_source("file:.", &id, &e) == 0, "a relative file source");
	snprintf(want, sizeof want, "file:%s", cwd);
	is_str(id, want, "is made absolute, as readers name it");
	free(id);
	ok(sk_position_source("file:/no/such/dir/f", &id, &e) == 0, "an absolute path that does not resolve");
	is_str(id, "file:/no/such/dir/f", "is kept as written");
	free(id);
	ok(sk_position_source("file:no/such/dir/f", &id, &e) < 0 && e.code == EX_USAGE,
	   "a relative one is an error");
	ok(sk_position_source("kafka:t", &id, &e) == 0, "other sources");
	is_str(id, "kafka:t", "are taken as they are");
	free(id);
	free(cwd);
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
