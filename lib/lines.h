/* lines.h - an NDJSON / text line reader over a file descriptor.
 *
 * Reads big blocks with read(2), never holds a complete line back, waits
 * for input with poll(2) up to a timeout, counts line numbers and byte
 * offsets, and refuses lines longer than a maximum. */
#ifndef SK_LINES_H
#define SK_LINES_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define SK_LINES_DEFAULT_MAX (16u << 20)   /* 16 MiB */

typedef struct sk_lines sk_lines;

/* fd is not closed by sk_lines_free. start_offset is the byte offset of the
 * fd's current position (for the offsets reported). */
sk_lines *sk_lines_new(int fd, size_t max_line, uint64_t start_offset);
void sk_lines_free(sk_lines *r);

/* Hold back a final line that has no '\n' at end of file (a file still
 * being written, read resumably or followed) instead of returning it: it
 * stays pending (sk_lines_pending) and is returned whole once its newline
 * arrives. Default: return it. */
void sk_lines_hold_partial(sk_lines *r, int hold);

/* Next line, without its '\n' (and without a '\r' before it). *line stays
 * valid until the next call. Returns
 *   1        a line;
 *   0        no complete line arrived within timeout_ms (-1: wait forever);
 *   SK_EOF   end of file (calling again reads again: a file may grow);
 *   -1       error: e->code EX_IOERR for a read error, EX_DATAERR for a line
 *            longer than the maximum (the rest of that line is skipped, so
 *            the caller may go on after it). */
int sk_lines_next(sk_lines *r, const char **line, size_t *len, int timeout_ms, sk_err *e);

uint64_t sk_lines_lineno(const sk_lines *r);    /* 1-based number of the last line */
uint64_t sk_lines_offset(const sk_lines *r);    /* byte offset where the last line starts */
uint64_t sk_lines_end(const sk_lines *r);       /* byte offset just after the last line's '\n' */
size_t sk_lines_pending(const sk_lines *r);     /* bytes read but not yet returned */
/* Start over on another fd (rotation), at start_offset, line numbers reset. */
void sk_lines_reset(sk_lines *r, int fd, uint64_t start_offset);

#endif
