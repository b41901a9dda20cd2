/* output.c - the one buffered writer (see output.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output.h"

int sk_write_fd(int fd, const void *p, size_t n, const char *what, sk_err *e)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w >= 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* An output left non-blocking by whoever set it up. */
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, -1);
			continue;
		}
		if (errno == EPIPE)
			return SK_EOF;
		return sk_err_set(e, EX_IOERR, "%s: %s", what, strerror(errno));
	}
	return 0;
}

void sk_output_init(sk_output *o, int fd, const char *what)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->what = what;
}

int sk_output_flush(sk_output *o, sk_err *e)
{
	int rc;

	if (o->closed) {
		sk_buf_reset(&o->buf);
		return SK_EOF;
	}
	if (o->buf.len == 0)
		return 0;
	rc = sk_write_fd(o->fd, o->buf.p, o->buf.len, o->what, e);
	if (rc == SK_EOF)
		o->closed = 1;
	if (rc >= 0)
		sk_buf_reset(&o->buf);
	return rc;
}

int sk_output_ready(sk_output *o, sk_err *e)
{
	if (o->closed) {
		sk_buf_reset(&o->buf);
		return SK_EOF;
	}
	return o->buf.len >= SK_OUTPUT_BATCH ? sk_output_flush(o, e) : 0;
}

int sk_output_add(sk_output *o, const void *p, size_t n, int line, sk_err *e)
{
	if (o->closed)
		return SK_EOF;
	if (sk_buf_add(&o->buf, p, n) < 0 || (line && sk_buf_addc(&o->buf, '\n') < 0))
		return sk_err_oom(e);
	return sk_output_ready(o, e);
}

int sk_output_sync(sk_output *o, sk_err *e)
{
	struct stat st;
	int rc = sk_output_flush(o, e);

	if (rc != 0)
		return rc;
	/* fsync of a pipe or a terminal fails with EINVAL: nothing to keep. */
	if (fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode) && fsync(o->fd) < 0)
		return sk_err_set(e, EX_IOERR, "%s: fsync: %s", o->what, strerror(errno));
	return 0;
}

void sk_output_free(sk_output *o)
{
	sk_buf_free(&o->buf);
}
