/* test-output.c - the buffered writer: batching, EPIPE as a clean stop,
 * other errors named, non-blocking descriptors, sync. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "output.h"

static size_t pending(int fd)
{
	char buf[4096];
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof buf)) > 0)
		n += (size_t)r;
	return n;
}

static void batching(void)
{
	int p[2];
	sk_output o;
	sk_err e = { 0 };
	char *big = calloc(1, SK_OUTPUT_BATCH);

	if (pipe(p) < 0 || big == NULL)
		abort();
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	sk_output_init(&o, p[1], "the pipe");
	ok(sk_output_add(&o, "one", 3, 1, &e) == 0, "a line is taken");
	ok(pending(p[0]) == 0, "and held while less than a batch waits");
	ok(sk_output_flush(&o, &e) == 0 && pending(p[0]) == 4, "flush writes it, with its newline");
	memset(big, 'x', SK_OUTPUT_BATCH);
	ok(sk_output_add(&o, big, SK_OUTPUT_BATCH - 1, 1, &e) == 0, "a batch is taken");
	ok(pending(p[0]) == SK_OUTPUT_BATCH, "and written out at once");
	ok(sk_buf_adds(&o.buf, "direct") == 0 && sk_output_ready(&o, &e) == 0 && pending(p[0]) == 0,
	   "text appended to the buffer waits for ready to see a batch");
	sk_output_free(&o);
	close(p[0]);
	close(p[1]);
	free(big);
}

static void epipe(void)
{
	int p[2];
	sk_output o;
	sk_err e = { 0 };

	if (pipe(p) < 0)
		abort();
	close(p[0]);
	sk_output_init(&o, p[1], "the pipe");
	ok(sk_output_add(&o, "one", 3, 1, &e) == 0, "held before the reader is known gone");
	ok(sk_output_flush(&o, &e) == SK_EOF && e.code == 0, "EPIPE is a clean stop, not an error");
	ok(o.closed && o.buf.len == 0, "what it held is dropped");
	ok(sk_output_add(&o, "two", 3, 1, &e) == SK_EOF && o.buf.len == 0, "and what comes after");
	ok(sk_write_fd(p[1], "x", 1, "the pipe", &e) == SK_EOF, "sk_write_fd says SK_EOF too");
	ok(sk_write_all(p[1], "x", 1, &e, "dead.ndjson") == -1 && e.code == EX_IOERR,
	   "sk_write_all makes it an error");
	sk_output_free(&o);
	close(p[1]);
}

static void errors(void)
{
	int fd = open("/dev/full", O_WRONLY);
	sk_output o;
	sk_err e = { 0 };

	if (fd < 0) {
		ok(1, "# SKIP no /dev/full here");
		return;
	}
	sk_output_init(&o, fd, "out.ndjson");
	ok(sk_output_add(&o, "one", 3, 1, &e) == 0 && sk_output_flush(&o, &e) == -1, "ENOSPC fails");
	ok(e.code == EX_IOERR, "with EX_IOERR");
	is_str(e.msg, "out.ndjson: No space left on device", "naming the output");
	sk_output_free(&o);
	close(fd);
}

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	size_t *n = malloc(sizeof *n);
	char buf[8192];
	ssize_t r;

	*n = 0;
	while ((r = read(fd, buf, sizeof buf)) > 0)
		*n += (size_t)r;
	return n;
}

static void nonblocking(void)
{
	int p[2];
	size_t total = 4 * SK_OUTPUT_BATCH + 17, *got;
	char *big = malloc(total);
	pthread_t t;
	sk_output o;
	sk_err e = { 0 };

	if (pipe(p) < 0 || big == NULL)
		abort();
	memset(big, 'y', total);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	pthread_create(&t, NULL, drain, &p[0]);
	sk_output_init(&o, p[1], "the pipe");
	ok(sk_output_add(&o, big, total, 0, &e) == 0 && sk_output_flush(&o, &e) == 0,
	   "a descriptor left non-blocking is waited for, not an error");
	close(p[1]);
	pthread_join(t, (void **)&got);
	ok(*got == total, "every byte arrives");
	free(got);
	sk_output_free(&o);
	close(p[0]);
	free(big);
}

static void sync_file(void)
{
	char path[] = "/tmp/test-output.XXXXXX";
	int fd = mkstemp(path), p[2];
	sk_output o;
	sk_err e = { 0 };

	if (fd < 0 || pipe(p) < 0)
		abort();
	sk_output_init(&o, fd, path);
	ok(sk_output_add(&o, "kept", 4, 1, &e) == 0 && sk_output_sync(&o, &e) == 0, "sync of a file");
	ok(lseek(fd, 0, SEEK_END) == 5, "writes it first");
	sk_output_free(&o);
	sk_output_init(&o, p[1], "the pipe");
	ok(sk_output_add(&o, "x", 1, 1, &e) == 0 && sk_output_sync(&o, &e) == 0,
	   "sync of a pipe writes and does not fail");
	sk_output_free(&o);
	unlink(path);
	close(fd);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	batching();
	epipe();
	errors();
	nonblocking();
	sync_file();
	return tap_done();
}
