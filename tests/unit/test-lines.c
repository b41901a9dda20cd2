/* test-lines.c - the line reader: offsets, numbers, CRLF, partial lines,
 * oversize lines and timeouts on a pipe. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "lines.h"

static int pipe_with(const char *text)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	if (write(p[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(p[1]);
	return p[0];
}

static void basics(void)
{
	int fd = pipe_with("one\ntwo\r\n\nlast");
	sk_lines *r = sk_lines_new(fd, 0, 100);
	const char *l;
	size_t n;
	sk_err e;

	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 3 && memcmp(l, "one", 3) == 0, "first line");
	is_int(sk_lines_offset(r), 100, "offset of the first line counts from the start offset");
	is_int(sk_lines_end(r), 104, "end of the first line is after its newline");
	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 3 && memcmp(l, "two", 3) == 0, "CR before LF is dropped");
	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 0, "empty line");
	is_int(sk_lines_lineno(r), 3, "line numbers count every line");
	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 4 && memcmp(l, "last", 4) == 0,
	   "a final line without newline is returned at end of file");
	is_int(sk_lines_end(r), 100 + 14, "its end is the end of the file");
	is_int(sk_lines_next(r, &l, &n, -1, &e), SK_EOF, "then end of file");
	sk_lines_free(r);
	close(fd);
}

static void held_partial(void)
{
	int fd = pipe_with("a\npart");
	sk_lines *r = sk_lines_new(fd, 0, 0);
	const char *l;
	size_t n;
	sk_err e;

	sk_lines_hold_partial(r, 1);
	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 1, "complete line");
	is_int(sk_lines_next(r, &l, &n, -1, &e), SK_EOF, "a partial line is held back when asked");
	is_int(sk_lines_pending(r), 4, "and kept pending");
	sk_lines_free(r);
	close(fd);
}

/* A file still being written: the held line comes whole, once, when its
 * newline is there, at the offsets of its start and end. */
static void held_then_completed(void)
{
	char path[] = "/tmp/test-lines-XXXXXX";
	int fd = mkstemp(path);
	sk_lines *r;
	const char *l;
	size_t n;
	sk_err e;

	ok(fd >= 0 && write(fd, "a\npart", 6) == 6 && lseek(fd, 0, SEEK_SET) == 0, "a file with a partial line");
	r = sk_lines_new(fd, 0, 0);
	sk_lines_hold_partial(r, 1);
	ok(sk_lines_next(r, &l, &n, 0, &e) == 1 && n == 1, "its complete line");
	is_int(sk_lines_next(r, &l, &n, 0, &e), SK_EOF, "then its end, the partial line held");
	is_int(sk_lines_end(r), 2, "the end stays after the last complete line");
	ok(pwrite(fd, "ial\n", 4, 6) == 4, "the writer finishes the line");
	ok(sk_lines_next(r, &l, &n, 0, &e) == 1 && n == 7 && memcmp(l, "partial", 7) == 0,
	   "the line comes whole");
	is_int(sk_lines_offset(r), 2, "from where it starts");
	is_int(sk_lines_end(r), 10, "to after its newline");
	is_int(sk_lines_next(r, &l, &n, 0, &e), SK_EOF, "once");
	sk_lines_free(r);
	close(fd);
	unlink(path);
}

static void oversize(void)
{
	char big[300];
	char text[400];
	int fd;
	sk_lines *r;
	const char *l;
	size_t n;
	sk_err e;

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(text, sizeof text, "ok\n%s\nafter\n", big);
	fd = pipe_with(text);
	r = sk_lines_new(fd, 100, 0);
	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 2, "short line before");
	ok(sk_lines_next(r, &l, &n, -1, &e) == -1 && e.code == EX_DATAERR && strstr(e.msg, "line 2"),
	   "an oversize line is an error naming its line: %s", e.msg);
	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 5 && memcmp(l, "after", 5) == 0,
	   "reading goes on after it");
	is_int(sk_lines_lineno(r), 3, "and counts it");
	sk_lines_free(r);
	close(fd);
}

static void oversize_across_reads(void)
{
	size_t big = 3u << 20;
	char *text = malloc(big + 10);
	int p[2];
	sk_lines *r;
	const char *l;
	size_t n;
	sk_err e;
	pid_t pid;

	memset(text, 'y', big);
	memcpy(text + big, "\nz\n", 4);
	if (pipe(p) < 0 || (pid = fork()) < 0)
		return;
	if (pid == 0) {
		close(p[0]);
		ssize_t w = write(p[1], text, big + 3);
		_exit(w == (ssize_t)(big + 3) ? 0 : 1);
	}
	close(p[1]);
	r = sk_lines_new(p[0], 1u << 20, 0);
	ok(sk_lines_next(r, &l, &n, -1, &e) == -1 && e.code == EX_DATAERR, "a 3 MiB line over a 1 MiB limit is refused");
	ok(sk_lines_next(r, &l, &n, -1, &e) == 1 && n == 1 && l[0] == 'z', "the next line is read after it");
	is_int(sk_lines_offset(r), big + 1, "at its true offset");
	sk_lines_free(r);
	close(p[0]);
	free(text);
}

static void timeout(void)
{
	int p[2];
	sk_lines *r;
	const char *l;
	size_t n;
	sk_err e;

	if (pipe(p) < 0)
		return;
	r = sk_lines_new(p[0], 0, 0);
	is_int(sk_lines_next(r, &l, &n, 10, &e), 0, "nothing on a quiet pipe within the timeout");
	if (write(p[1], "x\n", 2) != 2)
		return;
	is_int(sk_lines_next(r, &l, &n, 1000, &e), 1, "a line as soon as it arrives");
	close(p[1]);
	is_int(sk_lines_next(r, &l, &n, 1000, &e), SK_EOF, "end when the writer closes");
	sk_lines_free(r);
	close(p[0]);
}

int main(void)
{
	basics();
	held_partial();
	held_then_completed();
	oversize();
	oversize_across_reads();
	timeout();
	return tap_done();
}
