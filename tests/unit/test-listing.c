/* test-listing.c - a listing's table and JSON lines from one declaration of
 * its columns: alignment, "-" and null for what is not known, columns of
 * one form only, members added after a value, JSON text embedded. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "listing.h"

static const sk_column columns[] = {
	{ NULL, "name", SK_COL_TEXT },
	{ "SOURCE", "source", SK_COL_TEXT },
	{ "N", "n", SK_COL_INT },
	{ "AT", "at_ms", SK_COL_TIME },
	{ "CURSORS", "cursors", SK_COL_JSON },
};
#define NCOLS (sizeof columns / sizeof columns[0])

/* The listing of rows (json or not), as written to a file. */
static char *listing_of(const sk_cell (*rows)[NCOLS], size_t nrows, int json)
{
	static char text[4096];
	char path[] = "/tmp/test-listing.XXXXXX";
	int fd = mkstemp(path);
	sk_output out;
	sk_listing l;
	sk_err e = { 0 };
	ssize_t n;
	size_t i;

	if (fd < 0)
		abort();
	unlink(path);
	sk_output_init(&out, fd, path);
	sk_listing_init(&l, columns, NCOLS, json, &out);
	for (i = 0; i < nrows; i++)
		if (sk_listing_row(&l, rows[i], &e) != 0)
			return NULL;
	if (sk_listing_end(&l, &e) != 0 || sk_output_flush(&out, &e) != 0)
		return NULL;
	sk_listing_free(&l);
	sk_output_free(&out);
	n = pread(fd, text, sizeof text - 1, 0);
	close(fd);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

/* A row alone: its values after their labels, or one JSON object. */
static void labelled(void)
{
	static const sk_column line[] = {
		{ "attempt", "attempt", SK_COL_INT }, { "pid", NULL, SK_COL_INT }, { NULL, "pid", SK_COL_INT },
		{ "ran", NULL, SK_COL_TEXT }, { "", NULL, SK_COL_TEXT },
	};
	sk_cell c[] = { { .n = 2 }, { .n = -1 }, { .n = -1, .null = 1 }, { .s = NULL }, { .s = "running" } };
	sk_buf b = { 0 };

	ok(sk_listing_format(line, 5, c, 0, &b) == 0, "a line");
	is_str(b.p, "  attempt 2  pid -1  running", "each value after its label, unknown ones left out");
	sk_buf_reset(&b);
	ok(sk_listing_format(line, 5, c, 1, &b) == 0, "an object");
	is_str(b.p, "{\"attempt\":2,\"pid\":null}", "of the JSON columns");
	sk_buf_free(&b);
}

int main(void)
{
	const sk_cell rows[][NCOLS] = {
		{ { .s = "r" }, { .s = "file:/a" }, { .n = 42 }, { .n = 0, .null = 1 }, { .s = "[\"a:0:1\"]" } },
		{ { .s = "r" }, { .s = "kafka:longer", .text = "described", .more = ",\"x\":1" }, { .null = 1 },
		  { .n = 1000 }, { .s = NULL } },
	};

	setenv("TZ", "UTC", 1);
	is_str(listing_of(rows, 2, 0),
	       "SOURCE     N   AT                   CURSORS\n"
	       "file:/a    42  -                    [\"a:0:1\"]\n"
	       "described  -   1970-01-01 00:00:01  -\n",
	       "the table: headings, columns aligned, '-' for what is not known, a JSON-only column left out");
	is_str(listing_of(rows, 2, 1),
	       "{\"name\":\"r\",\"source\":\"file:/a\",\"n\":42,\"at_ms\":null,\"cursors\":[\"a:0:1\"]}\n"
	       "{\"name\":\"r\",\"source\":\"kafka:longer\",\"x\":1,\"n\":null,\"at_ms\":1000,\"cursors\":null}\n",
	       "JSON lines: every member, null for what is not known, the raw value and the members after it");
	is_str(listing_of(rows, 0, 0), "", "a table without rows is not written, not even its headings");
	is_str(listing_of(rows, 0, 1), "", "nor are JSON lines");
	labelled();
	return tap_done();
}
