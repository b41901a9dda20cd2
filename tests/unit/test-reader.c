/* test-reader.c - stream-read's loop driven over a file source, with the
 * output in a file or a pipe: counts, the end, bad messages by --on-error
 * (the lines before a failure delivered), --filter, EPIPE and a stop. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slurp.h"
#include "tap.h"
#include "reader.h"

static char dir[] = "/tmp/test-reader.XXXXXX";
static char in_path[256], out_path[256], dl_path[256];

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void write_input(const char *text)
{
	int fd = open(in_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

/* Run a reader with o over the input (lines of at most 16 bytes) into
 * out_path, or into o->out_fd when it is set: sk_reader_run's result. */
static int run(sk_reader_opts *o, sk_reader_stats *st, sk_err *e)
{
	sk_source_opts so = { .max_line = 16 };
	char url[300];
	sk_endpoint *ep = NULL;
	sk_source *src = NULL;
	sk_reader *r;
	int rc = -1;

	snprintf(url, sizeof url, "file:%s", in_path);
	o->input = "in.txt";
	if (o->out_fd == 0)
		o->out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	memset(st, 0, sizeof *st);
	if ((r = sk_reader_new(o, e)) == NULL) {
		close(o->out_fd);
		return -1;
	}
	so.flush = sk_reader_flush;
	so.flush_arg = r;
	if (sk_endpoint_resolve(url, NULL, &ep, e) == 0 && sk_source_open(ep, &so, &src, e) == 0)
		rc = sk_reader_run(r, src, st, e);
	else
		close(o->out_fd);
	sk_reader_free(r);
	sk_source_close(src);
	sk_endpoint_free(ep);
	return rc;
}

static void to_the_end(void)
{
	sk_reader_opts o = { .idle_ms = -1 };
	sk_reader_stats st;
	sk_err e = { 0 };
	const char *out;

	write_input("a\nb\nc\n");
	ok(run(&o, &st, &e) == 0, "a file is read to its end");
	out = slurp(out_path);
	is_int(count_lines(out), 3, "one line out per message");
	is_int(st.emitted, 3, "each counted");
	ok(strncmp(out, "{\"line\":\"a\"", 11) == 0 && strstr(out, "\"_cursor\":\"file:") != NULL,
	   "as envelopes with their cursor");
}

static void count(void)
{
	sk_reader_opts o = { .idle_ms = -1, .have_count = 1, .count = 2 };
	sk_reader_stats st;
	sk_err e = { 0 };

	write_input("a\nb\nc\n");
	ok(run(&o, &st, &e) == 0 && st.emitted == 2, "--count stops after that many");
	is_int(count_lines(slurp(out_path)), 2, "and prints them");
	o = (sk_reader_opts){ .idle_ms = -1, .have_count = 1, .count = 0 };
	ok(run(&o, &st, &e) == 0 && st.emitted == 0 && *slurp(out_path) == '\0', "--count 0 prints nothing");
}

static void bad_messages(void)
{
	sk_reader_opts o = { .idle_ms = -1, .on_error = { SK_ON_ERROR_SKIP } };
	sk_reader_stats st;
	sk_err e = { 0 };
	const char *dl;

	write_input("a\nthis line is far too long\nc\n");
	ok(run(&o, &st, &e) == 0 && st.emitted == 2 && st.skipped == 1, "skip: a bad message is counted, the rest out");
	is_int(count_lines(slurp(out_path)), 2, "two lines out");

	o = (sk_reader_opts){ .idle_ms = -1, .on_error = { SK_ON_ERROR_FAIL } };
	ok(run(&o, &st, &e) == -1 && e.code == EX_DATAERR, "fail: a bad message is EX_DATAERR");
	ok(strncmp(e.msg, "in.txt: line 2: longer than 16 bytes", 36) == 0, "naming the input and the line");
	is_int(count_lines(slurp(out_path)), 1, "what came before it is delivered");

	o = (sk_reader_opts){ .idle_ms = -1, .on_error = { SK_ON_ERROR_DEAD_LETTER, dl_path } };
	ok(run(&o, &st, &e) == 0 && st.dead_lettered == 1 && st.emitted == 2, "dead-letter: counted, the rest out");
	dl = slurp(dl_path);
	is_int(count_lines(dl), 1, "one record");
	ok(strstr(dl, "\"input\":\"in.txt\"") && strstr(dl, "\"error\":\"line 2: longer than 16 bytes\"") &&
	   strstr(dl, "\"line_number\":2"), "saying where the message was and why");
	unlink(dl_path);
}

static void filter(void)
{
	sk_reader_opts o = { .idle_ms = -1, .filter = "select(.line != \"b\") | {l: .line}" };
	sk_reader_stats st;
	sk_err e = { 0 };
	const char *out, *dl;

	write_input("a\nb\nc\n");
	ok(run(&o, &st, &e) == 0 && st.emitted == 3, "--filter: every message goes through the program");
	out = slurp(out_path);
	is_int(count_lines(out), 2, "its results are printed");
	ok(strncmp(out, "{\"l\":\"a\",\"_cursor\":\"file:", 25) == 0, "an object result keeps its cursor");

	o = (sk_reader_opts){ .idle_ms = -1, .filter = ".line | tonumber",
	                      .on_error = { SK_ON_ERROR_DEAD_LETTER, dl_path } };
	write_input("1\nx\n3\n");
	ok(run(&o, &st, &e) == 0 && st.dead_lettered == 1, "a message the program fails on is a bad message");
	out = slurp(out_path);
	ok(count_lines(out) == 2 && strncmp(out, "{\"value\":1,", 11) == 0 && strstr(out, "\n{\"value\":3,"),
	   "the others' results are out, in order");
	dl = slurp(dl_path);
	ok(strstr(dl, "\"message\":{\"line\":\"x\"") != NULL, "its record holds the message whole");
	unlink(dl_path);

	o = (sk_reader_opts){ .idle_ms = -1, .filter = "{" };
	ok(run(&o, &st, &e) == -1 && e.code == EX_USAGE && strncmp(e.msg, "--filter: ", 10) == 0,
	   "a program that does not compile: EX_USAGE, --filter: ...");
}

/* With keep_values, a line --json embeds comes with what was read of it,
 * placed where the envelope holds its text; other lines with nothing. */
static void kept_values(void)
{
	sk_source_opts so = { .max_line = 64, .json = 1, .keep_values = 1 };
	const char *lines[] = { "{\"a\":[1,\"\xc3\xa9\"]}", "not json", " 12 " }, *text[] = { "{\"a\":[1,\"\xc3\xa9\"]}", NULL, "12" };
	char url[300];
	sk_endpoint *ep = NULL;
	sk_source *src = NULL;
	sk_err e = { 0 };
	sk_msg m;
	int i;

	write_input("{\"a\":[1,\"\xc3\xa9\"]}\nnot json\n 12 \n");
	snprintf(url, sizeof url, "file:%s", in_path);
	if (sk_endpoint_resolve(url, NULL, &ep, &e) < 0 || sk_source_open(ep, &so, &src, &e) < 0)
		abort();
	for (i = 0; i < 3; i++) {
		int rc = sk_source_next(src, &m, 0, &e);
		if (text[i] == NULL)
			ok(rc == 1 && m.value == NULL, "%s: nothing kept", lines[i]);
		else
			ok(rc == 1 && m.value && m.value->tree && m.value->len == strlen(text[i]) &&
			   memcmp(m.env + m.value->at, text[i], m.value->len) == 0,
			   "%s: kept, at its place in the envelope", lines[i]);
	}
	sk_source_close(src);
	so.keep_values = 0;
	if (sk_source_open(ep, &so, &src, &e) < 0)
		abort();
	ok(sk_source_next(src, &m, 0, &e) == 1 && m.value == NULL, "without keep_values, nothing is kept");
	sk_source_close(src);
	sk_endpoint_free(ep);
}

static void clean_stops(void)
{
	volatile sig_atomic_t stop = 1;
	sk_reader_opts o = { .idle_ms = -1 };
	sk_reader_stats st;
	sk_err e = { 0 };
	int p[2];

	write_input("a\nb\nc\n");
	if (pipe(p) < 0)
		abort();
	close(p[0]);
	o.out_fd = p[1];
	ok(run(&o, &st, &e) == 0, "a reader that went away (EPIPE) is a clean stop");
	ok(fcntl(p[1], F_GETFD) == -1, "the output is closed at the end");

	o = (sk_reader_opts){ .idle_ms = -1, .stop = &stop };
	ok(run(&o, &st, &e) == 0 && st.emitted == 0, "a stop asked for before the start reads nothing");

	o = (sk_reader_opts){ .idle_ms = -1, .on_error = { SK_ON_ERROR_DEAD_LETTER, "/nonexistent/dir/x" } };
	ok(run(&o, &st, &e) == -1 && e.code == EX_IOERR, "a dead-letter file that cannot be opened fails at the start");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(in_path, sizeof in_path, "%s/in.txt", dir);
	snprintf(out_path, sizeof out_path, "%s/out.ndjson", dir);
	snprintf(dl_path, sizeof dl_path, "%s/dead.ndjson", dir);
	to_the_end();
	count();
	bad_messages();
	filter();
	kept_values();
	clean_stops();
	unlink(in_path);
	unlink(out_path);
	rmdir(dir);
	return tap_done();
}
