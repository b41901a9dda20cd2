/* test-writer-text.c - stream-write's row-text fast path (writer_text.c):
 * whenever it takes a line as the text of its row, that text is what the
 * slow path writes for the line (coerce the row to the schema, then
 * serialise it), and the cursor it commits is the same.
 *
 * Each line of a table of near misses goes through sk_writer_run, once
 * for each column type and once for each sink without a schema (one that
 * wants none, one that adopts the first row's), to a sink that records
 * what it is given: a row's text (the fast path) or a row (serialised
 * here as every sink serialises rows, with sk_json_add_object). The
 * reference is worked out here from json-c's parse: _cursor taken out,
 * the row coerced (sk_schema_coerce_row) and serialised. Lines the fast
 * path leaves to the slow one must match the reference too: that keeps
 * the reference honest. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "sink_impl.h"
#include "writer.h"
#include "tap.h"

/* What the sink was given. */
struct record {
	sk_buf out;                 /* each row's text, a line each */
	int fast, slow;             /* rows given as text, and as rows */
	sk_cursorset *cs;           /* the cursors committed */
};

static int record_text(struct record *r, const char *text, size_t n, sk_err *e)
{
	if (sk_buf_add(&r->out, text, n) < 0 || sk_buf_addc(&r->out, '\n') < 0)
		return sk_err_oom(e);
	return 0;
}

static int record_write(sk_sink *k, json_object *row, sk_err *e)
{
	struct record *r = k->impl;
	sk_buf b = { 0 };
	int rc;

	if (sk_json_add_object(&b, row) < 0) {
		sk_buf_free(&b);
		return sk_err_oom(e);
	}
	rc = record_text(r, b.p, b.len, e);
	sk_buf_free(&b);
	r->slow++;
	return rc;
}

static int record_write_json(sk_sink *k, const char *text, size_t n, sk_err *e)
{
	struct record *r = k->impl;

	r->fast++;
	return record_text(r, text, n, e);
}

static int record_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct record *r = k->impl;

	(void)rows;
	return sk_cursorset_merge(r->cs, cs, e);
}

static void record_close(sk_sink *k)
{
	(void)k;
}

static const struct sk_sink_ops record_ops = {
	.kind = "record",
	.write = record_write,
	.checkpoint = record_checkpoint,
	.close = record_close,
	.write_json = record_write_json,
};

static int add_cursor(void *arg, const char *source, const char *partition, const char *position)
{
	return sk_buf_printf(arg, " %s:%s:%s", source, partition, position);
}

/* What a line came to: its rows, "bad" when it was refused, and the
 * cursors committed. */
static char *outcome(const sk_buf *rows, int bad, const sk_cursorset *cs)
{
	sk_buf b = { 0 };

	if (sk_buf_add(&b, rows->p ? rows->p : "", rows->len) < 0 || (bad && sk_buf_adds(&b, "bad\n") < 0) ||
	    sk_buf_adds(&b, "cursors:") < 0 || sk_cursorset_each(cs, add_cursor, &b) != 0) {
		sk_buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* A sink for the way a schema is had. */
enum mode { HAS_SCHEMA, NO_SCHEMA, ADOPTS_SCHEMA };

/* The line through sk_writer_run to a recording sink; *fast: how many of
 * its rows the sink was given as text. */
static char *through_writer(enum mode mode, const sk_schema *s, const char *line, int *fast)
{
	struct record r = { .cs = sk_cursorset_new() };
	char label[] = "record";
	sk_sink k = { .ops = &record_ops, .label = label, .takes_json = 1, .impl = &r };
	sk_writer_opts o = { .on_error = { SK_ON_ERROR_SKIP }, .input = "<test>", .wake_fd = -1 };
	sk_writer_stats st;
	sk_err e;
	char *got = NULL;
	int p[2], rc;

	if (mode == HAS_SCHEMA)
		k.schema = sk_schema_dup(s);
	k.keeps_schema = mode == ADOPTS_SCHEMA;
	/* The lines are far shorter than a pipe holds. */
	if (r.cs == NULL || pipe(p) < 0)
		return NULL;
	if (write(p[1], line, strlen(line)) == (ssize_t)strlen(line) && write(p[1], "\n", 1) == 1) {
		close(p[1]);
		rc = sk_writer_run(&k, p[0], &o, &st, &e);
		if (rc == 0)
			got = outcome(&r.out, st.skipped > 0, r.cs);
		else
			printf("# sk_writer_run: %s\n", e.msg);
	} else {
		close(p[1]);
	}
	close(p[0]);
	*fast = r.fast;
	sk_schema_free(k.schema);
	sk_buf_free(&r.out);
	sk_cursorset_free(r.cs);
	return got;
}

/* The slow path's rules for one object row: take a _cursor that is a
 * cursor, adopt a schema when the sink wants one, coerce, serialise.
 * -1 when the row is bad. */
static int reference_row(enum mode mode, const sk_schema **s, sk_schema **adopted, json_object *row, sk_buf *rows,
                         sk_cursorset *cs)
{
	sk_cursor_parts parts;
	json_object *c, *out;
	sk_err e;
	int rc;

	if (json_object_object_get_ex(row, "_cursor", &c)) {
		if (!json_object_is_type(c, json_type_string) ||
		    sk_cursor_split(json_object_get_string(c), (size_t)json_object_get_string_len(c), &parts, &e) < 0 ||
		    sk_cursorset_add(cs, json_object_get_string(c), (size_t)json_object_get_string_len(c), &e) < 0)
			return -1;
		json_object_object_del(row, "_cursor");
	}
	if (mode == ADOPTS_SCHEMA && *s == NULL) {
		if ((*adopted = sk_schema_infer(row, &e)) == NULL)
			return -1;
		*s = *adopted;
	}
	out = *s ? sk_schema_coerce_row(*s, row, &e) : json_object_get(row);
	if (out == NULL)
		return -1;
	rc = sk_json_add_object(rows, out) < 0 || sk_buf_addc(rows, '\n') < 0 ? -1 : 0;
	json_object_put(out);
	return rc;
}

/* What the slow path writes for line, worked out from json-c's parse. */
static char *reference(enum mode mode, const sk_schema *schema, const char *line)
{
	const sk_schema *s = mode == HAS_SCHEMA ? schema : NULL;
	sk_schema *adopted = NULL;
	sk_json *p = sk_json_new();
	sk_cursorset *cs = sk_cursorset_new();
	sk_buf rows = { 0 };
	json_object *v = NULL, *t;
	sk_err e;
	size_t i, n;
	int bad = 0;
	char *want;

	if (sk_json_blank(line, strlen(line)))
		goto out;
	sk_json_exact_integers(p);
	v = sk_json_parse(p, line, strlen(line), &e);
	if (json_object_is_type(v, json_type_object)) {
		bad = reference_row(mode, &s, &adopted, v, &rows, cs) < 0;
	} else if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n && json_object_is_type(json_object_array_get_idx(v, i), json_type_object); i++)
			;
		if (n > 0 && i == n) {
			/* A batch: one bad row makes the line bad, and the cursors
			 * of all its rows still count. */
			for (i = 0; i < n; i++)
				if (reference_row(mode, &s, &adopted, json_object_array_get_idx(v, i), &rows, cs) < 0)
					bad = 1;
		} else if (n > 0) {
			/* A tuple. */
			if (s == NULL || (t = sk_schema_coerce_tuple(s, v, &e)) == NULL) {
				bad = 1;
			} else {
				bad = sk_json_add_object(&rows, t) < 0 || sk_buf_addc(&rows, '\n') < 0;
				json_object_put(t);
			}
		}
	} else {
		bad = 1;        /* not JSON, or not a row */
	}
	if (bad)
		rows.len = 0;
out:
	want = outcome(&rows, bad, cs);
	json_object_put(v);
	sk_schema_free(adopted);
	sk_buf_free(&rows);
	sk_cursorset_free(cs);
	sk_json_free(p);
	return want;
}

/* Near misses of a plain row {"a":VALUE,"b":"x"}: each is written the
 * same way with and without the fast path, or refused both ways. */
static const char *const lines[] = {
	/* Plain rows, one value of each kind. */
	"{\"a\":1,\"b\":\"x\"}",
	"{\"a\":\"1\",\"b\":\"x\"}",
	"{\"a\":1.5,\"b\":\"x\"}",
	"{\"a\":true,\"b\":\"x\"}",
	"{\"a\":false,\"b\":\"\"}",
	"{\"a\":null,\"b\":null}",
	"{\"a\":[1,\"x\"],\"b\":\"x\"}",
	"{\"a\":{\"c\":1},\"b\":\"x\"}",
	/* Dates, valid and not, and milliseconds. */
	"{\"a\":\"2024-02-29\",\"b\":\"x\"}",
	"{\"a\":\"2024-02-29T23:59:60Z\",\"b\":\"x\"}",
	"{\"a\":\"2024-01-31T08:00:00.123+02:00\",\"b\":\"x\"}",
	"{\"a\":\"2023-02-29\",\"b\":\"x\"}",
	"{\"a\":\"2024-01-01T10:00:00\",\"b\":\"x\"}",
	"{\"a\":1700000000123,\"b\":\"x\"}",
	/* Escapes: json-c decodes them and writes its own spelling. */
	"{\"a\":\"x\\\"y\",\"b\":\"x\"}",
	"{\"a\":\"x\\\\y\",\"b\":\"x\"}",
	"{\"a\":\"x\\/y\",\"b\":\"x\"}",
	"{\"a\":\"\\u00e9\",\"b\":\"x\"}",
	"{\"a\":\"\\ud83d\\ude00\",\"b\":\"x\"}",
	"{\"a\":\"tab\\tx\",\"b\":\"x\"}",
	"{\"a\":\"\\u0000\",\"b\":\"x\"}",
	"{\"a\":\"\\u007f\",\"b\":\"x\"}",
	"{\"a\":\"\\u0031\",\"b\":\"x\"}",
	"{\"\\u0061\":1,\"b\":\"x\"}",
	"{\"a\":1,\"\\u0062\":\"x\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"f:0:\\u0031\"}",
	"{\"a\":1,\"b\":\"x\",\"\\u005fcursor\":\"f:0:1\"}",
	/* Unicode as it is, DEL, and bytes that are not UTF-8. */
	"{\"a\":\"caf\xc3\xa9\",\"b\":\"\xf0\x9f\x98\x80\"}",
	"{\"a\":\"\x7f\",\"b\":\"x\"}",
	"{\"a\":\"\xed\xa0\x80\",\"b\":\"x\"}",
	"{\"a\":\"\xc0\xaf\",\"b\":\"x\"}",
	"{\"a\":\"x\x01y\",\"b\":\"x\"}",
	"{\"\xc3\xa9\":1,\"b\":\"x\"}",
	/* Nesting. */
	"{\"a\":[],\"b\":{}}",
	"{\"a\":[[1],{\"c\":[2]}],\"b\":\"x\"}",
	"{\"a\":{\"_cursor\":\"f:0:9\"},\"b\":\"x\"}",
	"{\"a\":[{\"_cursor\":\"f:0:9\"}],\"b\":\"x\"}",
	"{\"a\":{\"b\":\"x\"},\"b\":\"{\\\"a\\\":1}\"}",
	/* Nesting with what json-c writes otherwise inside it. */
	"{\"a\":{\"c\":\"q\\\"\\n\\u0001\\\\\"},\"b\":[\"caf\xc3\xa9\",-1.5e3,null,true]}",
	"{\"a\":{\"c\":\"\\u00e9\"},\"b\":\"x\"}",
	"{\"a\":[\"\\/\"],\"b\":\"x\"}",
	"{\"a\":{\"c\":1,\"c\":2},\"b\":\"x\"}",
	"{\"a\":[{\"c\":1},{\"c\":1}],\"b\":\"x\"}",
	"{\"a\":[-0],\"b\":\"x\"}",
	"{\"a\":{\"c\":-0.0},\"b\":\"x\"}",
	"{\"a\":[999999999999999999,1000000000000000000],\"b\":\"x\"}",
	"{\"a\":[9223372036854775808],\"b\":\"x\"}",
	"{\"a\":{\"c\": 1},\"b\":\"x\"}",
	"{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]],\"b\":\"x\"}",
	"{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],\"b\":\"x\"}",
	"{\"a\":{\"_cursor\":\"f:0:9\"},\"b\":\"x\",\"_cursor\":\"f:0:1\"}",
	"{\"meta\":{\"uri\":\"https://de.wikipedia.org/wiki/Z\xc3\xbcrich\",\"offset\":5000000001},\"id\":1,"
	"\"comment\":\"rv\\tvandalism\",\"length\":{\"old\":679,\"new\":680},\"_cursor\":\"f:0:1\"}",
	/* Integers: zero, -0, the int and bigint limits, 15 to 20 digits,
	 * 2^53 + 1, beyond 64 bits. */
	"{\"a\":0,\"b\":\"x\"}",
	"{\"a\":-0,\"b\":\"x\"}",
	"{\"a\":-1,\"b\":\"x\"}",
	"{\"a\":100000,\"b\":\"x\"}",
	"{\"a\":2147483647,\"b\":\"x\"}",
	"{\"a\":2147483648,\"b\":\"x\"}",
	"{\"a\":-2147483648,\"b\":\"x\"}",
	"{\"a\":-2147483649,\"b\":\"x\"}",
	"{\"a\":999999999999999,\"b\":\"x\"}",
	"{\"a\":9999999999999999,\"b\":\"x\"}",
	"{\"a\":-99999999999999999,\"b\":\"x\"}",
	"{\"a\":999999999999999999,\"b\":\"x\"}",
	"{\"a\":9007199254740993,\"b\":\"x\"}",
	"{\"a\":9223372036854775807,\"b\":\"x\"}",
	"{\"a\":-9223372036854775808,\"b\":\"x\"}",
	"{\"a\":9223372036854775808,\"b\":\"x\"}",
	"{\"a\":18446744073709551615,\"b\":\"x\"}",
	"{\"a\":18446744073709551616,\"b\":\"x\"}",
	"{\"a\":-9223372036854775809,\"b\":\"x\"}",
	/* Other numbers: 1e5 is not 100000, nor 100000.0. */
	"{\"a\":1e5,\"b\":\"x\"}",
	"{\"a\":1E5,\"b\":\"x\"}",
	"{\"a\":1e+5,\"b\":\"x\"}",
	"{\"a\":100000.0,\"b\":\"x\"}",
	"{\"a\":12.0,\"b\":\"x\"}",
	"{\"a\":-0.0,\"b\":\"x\"}",
	"{\"a\":0.1e-5,\"b\":\"x\"}",
	"{\"a\":1.5e300,\"b\":\"x\"}",
	"{\"a\":1e39,\"b\":\"x\"}",
	"{\"a\":3.4028234e38,\"b\":\"x\"}",
	"{\"a\":1e400,\"b\":\"x\"}",
	"{\"a\":-1e400,\"b\":\"x\"}",
	"{\"a\":1e-400,\"b\":\"x\"}",
	"{\"a\":2.5e3,\"b\":\"x\"}",
	"{\"a\":00,\"b\":\"x\"}",
	"{\"a\":1.,\"b\":\"x\"}",
	"{\"a\":.5,\"b\":\"x\"}",
	"{\"a\":+1,\"b\":\"x\"}",
	"{\"a\":NaN,\"b\":\"x\"}",
	/* Values that need coercion by a schema. */
	"{\"a\":\"12\",\"b\":\"x\"}",
	"{\"a\":\"-7\",\"b\":\"x\"}",
	"{\"a\":\"1.50\",\"b\":\"x\"}",
	"{\"a\":\"true\",\"b\":\"x\"}",
	"{\"a\":\"abc\",\"b\":\"x\"}",
	"{\"a\":1,\"b\":2}",
	"{\"a\":1,\"b\":true}",
	"{\"a\":1,\"b\":1.50}",
	"{\"a\":1,\"b\":[1]}",
	/* Repeated keys: json-c keeps the last. */
	"{\"a\":1,\"a\":2,\"b\":\"x\"}",
	"{\"a\":1,\"b\":\"x\",\"b\":\"y\"}",
	"{\"a\":1,\"b\":\"x\",\"a\":1}",
	"{\"a\":1,\"b\":\"x\",\"a\":\"1\"}",
	/* White space. */
	"{\"a\": 1,\"b\":\"x\"}",
	"{ \"a\":1,\"b\":\"x\"}",
	"{\"a\":1 ,\"b\":\"x\"}",
	"{\"a\":1,\"b\":\"x\"} ",
	" {\"a\":1,\"b\":\"x\"}",
	"{\"a\":1,\"b\":\"x\"}\r",
	"{\"a\":1,\t\"b\":\"x\"}",
	"{\"a\":\"x y\",\"b\":\" \"}",
	/* _cursor first, between, last, alone, twice, and not a cursor. */
	"{\"_cursor\":\"f:0:1\",\"a\":1,\"b\":\"x\"}",
	"{\"a\":1,\"_cursor\":\"f:0:1\",\"b\":\"x\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"f:0:1\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"file:/tmp/in:0:12\"}",
	"{\"_cursor\":\"f:0:1\"}",
	"{\"_cursor\":\"f:0:1\",\"a\":1}",
	"{\"_cursor\":\"f:0:1\",\"_cursor\":\"f:0:2\",\"a\":1,\"b\":\"x\"}",
	"{\"a\":1,\"_cursor\":\"f:0:1\",\"b\":\"x\",\"_cursor\":\"f:0:2\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":1}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":null}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"no colons\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"f:0:\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"f\\\"x:0:1\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"f\\\\x:0:1\"}",
	"{\"a\":[1],\"b\":\"x\",\"_cursor\":\"f\\tx:0:1\"}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":[\"f:0:1\"]}",
	"{\"a\":1,\"b\":\"x\",\"_cursor\":\"f:0:1\",\"c\":2}",
	/* Columns out of order, missing, extra, named otherwise. */
	"{\"b\":\"x\",\"a\":1}",
	"{\"a\":1}",
	"{\"b\":\"x\"}",
	"{\"a\":1,\"b\":\"x\",\"c\":2}",
	"{\"A\":1,\"b\":\"x\"}",
	"{\"a \":1,\"b\":\"x\"}",
	"{}",
	/* Lines that are not one object. */
	"[{\"a\":1,\"b\":\"x\"}]",
	"[{\"a\":1,\"b\":\"x\",\"_cursor\":\"f:0:1\"},{\"a\":2,\"b\":\"y\",\"_cursor\":\"f:0:2\"}]",
	"[{\"a\":1,\"b\":\"x\",\"_cursor\":\"f:0:1\"},{\"a\":\"z\",\"b\":\"y\",\"_cursor\":\"f:0:2\"}]",
	"[1,\"x\"]",
	"[]",
	"\"x\"",
	"1",
	"null",
	"   ",
	"{\"a\":1,\"b\":\"x\"}}",
	"{\"a\":1,\"b\":\"x\"",
	"{\"a\":1,\"b\":\"x\",}",
	"{\"a\":1,,\"b\":\"x\"}",
	"{\"a\":'x',\"b\":\"x\"}",
	"{\"a\":1,\"b\":\"x\"}{\"a\":1,\"b\":\"x\"}",
};

/* line, printable: control bytes, DEL and bytes of invalid UTF-8 as \xHH. */
static const char *shown(const char *line)
{
	static char out[1024];
	int utf8 = sk_utf8_valid(line, strlen(line));
	size_t i, o = 0;

	for (i = 0; line[i] && o + 5 < sizeof out; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
			o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

static const char *const types[] = {
	"string", "int", "bigint", "float", "double", "boolean", "date", "array", "object",
};

#define NTYPES (sizeof types / sizeof types[0])
#define NLINES (sizeof lines / sizeof lines[0])

int main(void)
{
	sk_schema *schemas[NTYPES];
	char text[128], what[64];
	size_t i, j, taken = 0, pairs = 0, taken_per_mode[3] = { 0 };
	sk_err e;

	for (j = 0; j < NTYPES; j++) {
		snprintf(text, sizeof text, "[{\"name\":\"a\",\"type\":\"%s\"},{\"name\":\"b\",\"type\":\"string\"}]",
		         types[j]);
		if ((schemas[j] = sk_schema_parse(text, strlen(text), &e)) == NULL) {
			printf("# %s: %s\n", text, e.msg);
			return 1;
		}
	}
	for (i = 0; i < NLINES; i++) {
		int same = 1, line_taken = 0;
		/* Each column type, then the two sinks without a schema. */
		for (j = 0; j < NTYPES + 2; j++) {
			enum mode mode = j < NTYPES ? HAS_SCHEMA : j == NTYPES ? NO_SCHEMA : ADOPTS_SCHEMA;
			const sk_schema *s = j < NTYPES ? schemas[j] : NULL;
			char *got, *want;
			int fast = 0;

			snprintf(what, sizeof what, "%s", j < NTYPES ? types[j] : mode == NO_SCHEMA ? "no schema" : "adopted");
			got = through_writer(mode, s, lines[i], &fast);
			want = reference(mode, s, lines[i]);
			pairs++;
			if (fast) {
				taken++;
				line_taken++;
				taken_per_mode[mode]++;
			}
			if (got == NULL || want == NULL || strcmp(got, want) != 0) {
				same = 0;
				printf("# %s, %s (%s):\n#   got:      '%s'\n#   expected: '%s'\n", shown(lines[i]), what,
				       fast ? "fast path" : "slow path", got ? got : "(null)", want ? want : "(null)");
			}
			free(got);
			free(want);
		}
		ok(same, "written as the slow path writes it (fast path for %d of %zu sinks): %s", line_taken,
		   NTYPES + 2, shown(lines[i]));
	}
	/* Rows nested and escaped as json-c writes them are taken as text by
	 * a sink without a schema. */
	for (i = 0; i < NLINES; i++) {
		static const char *const nested[] = { "{\"a\":[],\"b\":{}}", "{\"meta\":", "{\"a\":{\"c\":\"q" };
		int fast = 0;
		char *got;

		for (j = 0; j < sizeof nested / sizeof *nested; j++)
			if (strncmp(lines[i], nested[j], strlen(nested[j])) == 0)
				break;
		if (j == sizeof nested / sizeof *nested)
			continue;
		got = through_writer(NO_SCHEMA, NULL, lines[i], &fast);
		ok(fast == 1, "taken as its text without a schema: %s", shown(lines[i]));
		free(got);
	}
	/* The table must reach the fast path, or it proves nothing. */
	printf("# the fast path took %zu of %zu (line, sink) pairs\n", taken, pairs);
	ok(taken_per_mode[HAS_SCHEMA] > 0, "lines were taken as text with a schema: %zu", taken_per_mode[HAS_SCHEMA]);
	ok(taken_per_mode[NO_SCHEMA] > 0, "lines were taken as text without one: %zu", taken_per_mode[NO_SCHEMA]);
	ok(taken_per_mode[ADOPTS_SCHEMA] > 0, "lines were taken as text with the schema of the first row: %zu",
	   taken_per_mode[ADOPTS_SCHEMA]);
	for (j = 0; j < NTYPES; j++)
		sk_schema_free(schemas[j]);
	return tap_done();
}
