/* output.h - one buffered writer over a descriptor, for every program's
 * standard output and every file that lib/ appends lines to.
 *
 * EPIPE is not an error: the reader went away, which is a clean stop. The
 * writer then says SK_EOF, drops what it holds, and drops what comes after,
 * so that a pipeline whose last program ended early winds down without a
 * message. Any other failure (ENOSPC, EIO) is EX_IOERR naming the output. */
#ifndef SK_OUTPUT_H
#define SK_OUTPUT_H

#include <stddef.h>
#include "err.h"
#include "util.h"

#define SK_OUTPUT_BATCH (64u << 10)   /* written out once this much waits */

typedef struct sk_output {
	int fd;
	const char *what;      /* its name in messages: "standard output", a path */
	sk_buf buf;            /* what waits; callers may append to it directly */
	int closed;            /* EPIPE was met */
} sk_output;

/* Start writing to fd; what is kept, not copied. */
void sk_output_init(sk_output *o, int fd, const char *what);
/* Append n bytes, and a newline when line is set; write out when a batch
 * is waiting. 0, SK_EOF (closed), or -1. */
int sk_output_add(sk_output *o, const void *p, size_t n, int line, sk_err *e);
/* After appending to o->buf directly: write out when a batch is waiting. */
int sk_output_ready(sk_output *o, sk_err *e);
/* Write out everything that waits: 0, SK_EOF or -1. */
int sk_output_flush(sk_output *o, sk_err *e);
/* Flush, then fsync a regular file, so that what was written survives a
 * crash before anything that depends on it is committed. */
int sk_output_sync(sk_output *o, sk_err *e);
/* Free the buffer; the descriptor is the caller's. */
void sk_output_free(sk_output *o);

/* Write all of p to fd, retrying on EINTR, short writes and a descriptor
 * left non-blocking: 0, SK_EOF on EPIPE, or -1 with EX_IOERR naming what. */
int sk_write_fd(int fd, const void *p, size_t n, const char *what, sk_err *e);

#endif
