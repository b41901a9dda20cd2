/* sink_file.c - NDJSON rows to stdout ("-") or appended to file:PATH.
 *
 * At least once: a checkpoint writes the buffered rows out, fsyncs a
 * regular file, and only then commits the cursors of those rows. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "output.h"
#include "sink_impl.h"

struct out {
	int owned;          /* ours to close (file:PATH) */
	int regular;        /* a regular file: fsync at checkpoints */
	char *what;         /* "<stdout>" or the path, for messages */
	sk_output w;        /* closed once the reader went away (EPIPE) */
};

static int out_write(sk_sink *k, json_object *row, sk_err *e)
{
	struct out *o = k->impl;

	if (o->w.closed)
		return SK_EOF;
	if (sk_json_add_object(&o->w.buf, row) < 0 || sk_buf_addc(&o->w.buf, '\n') < 0)
		return sk_err_oom(e);
	return sk_output_ready(&o->w, e);
}

static int out_flush(sk_sink *k, sk_err *e)
{
	struct out *o = k->impl;

	return sk_output_flush(&o->w, e);
}

static int out_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct out *o = k->impl;
	int rc;

	if ((rc = sk_output_flush(&o->w, e)) != 0)
		return rc;
	if (o->regular && fsync(o->w.fd) < 0 && errno != EINVAL && errno != EROFS)
		return sk_err_set(e, EX_IOERR, "%s: fsync: %s", o->what, strerror(errno));
	if (k->state && (rows > 0 || (cs && sk_cursorset_count(cs) > 0)))
		return sk_state_checkpoint(k->state, k->name, cs, rows, e);
	return 0;
}

static void out_close(sk_sink *k)
{
	struct out *o = k->impl;

	if (o == NULL)
		return;
	if (o->owned)
		close(o->w.fd);
	sk_output_free(&o->w);
	free(o->what);
	free(o);
}

static int out_new(sk_sink *k, int fd, int owned, const char *what, sk_err *e)
{
	struct out *o = calloc(1, sizeof *o);
	struct stat st;

	if (o == NULL || (o->what = strdup(what)) == NULL) {
		free(o);
		if (owned)
			close(fd);
		return sk_err_oom(e);
	}
	sk_output_init(&o->w, fd, o->what);
	o->owned = owned;
	o->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	k->impl = o;
	return 0;
}

static int stdout_open(sk_sink *k, const sk_endpoint *ep, const sk_sink_opts *opts, sk_err *e)
{
	return out_new(k, STDOUT_FILENO, 0, "<stdout>", e);
}

/* A kill in the middle of a write may leave a last line without its '\n';
 * end it, so that the next row does not run into it. */
static int end_partial_line(struct out *o, sk_err *e)
{
	struct stat st;
	char c;

	if (fstat(o->w.fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;
	if (pread(o->w.fd, &c, 1, st.st_size - 1) != 1)
		return errno == EBADF ? 0 : sk_err_set(e, EX_IOERR, "%s: %s", o->what, strerror(errno));
	if (c != '\n' && sk_buf_addc(&o->w.buf, '\n') < 0)
		return sk_err_oom(e);
	return 0;
}

static int file_open(sk_sink *k, const sk_endpoint *ep, const sk_sink_opts *opts, sk_err *e)
{
	int fd = open(ep->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0 && errno == EACCES)
		fd = open(ep->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", ep->arg, strerror(errno));
	if (out_new(k, fd, 1, ep->path, e) < 0)
		return -1;
	if (end_partial_line(k->impl, e) < 0) {
		out_close(k);
		k->impl = NULL;
		return -1;
	}
	return 0;
}

const struct sk_sink_ops sk_sink_stdout_ops = {
	.kind = "stdout",
	.open = stdout_open,
	.write = out_write,
	.flush = out_flush,
	.checkpoint = out_checkpoint,
	.close = out_close,
};

const struct sk_sink_ops sk_sink_file_ops = {
	.kind = "file",
	.open = file_open,
	.write = out_write,
	.flush = out_flush,
	.checkpoint = out_checkpoint,
	.close = out_close,
};
