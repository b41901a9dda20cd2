/* lines.c - read lines from a file descriptor in big blocks. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"

#define READ_BLOCK (256u << 10)

struct sk_lines {
	int fd;
	char *buf;
	size_t cap;
	size_t start, end;       /* unreturned bytes are buf[start..end) */
	size_t scanned;          /* buf[start..scanned) holds no '\n' */
	size_t max_line;
	uint64_t base;           /* file offset of buf[0] */
	uint64_t lineno;
	uint64_t line_off, line_end;
	int hold_partial;
	int skipping;            /* discarding the rest of an oversize line */
};

sk_lines *sk_lines_new(int fd, size_t max_line, uint64_t start_offset)
{
	sk_lines *r = calloc(1, sizeof *r);

	if (r == NULL)
		return NULL;
	r->cap = READ_BLOCK * 2;
	r->buf = malloc(r->cap);
	if (r->buf == NULL) {
		free(r);
		return NULL;
	}
	r->fd = fd;
	r->max_line = max_line ? max_line : SK_LINES_DEFAULT_MAX;
	r->base = start_offset;
	r->line_off = r->line_end = start_offset;
	return r;
}

void sk_lines_free(sk_lines *r)
{
	if (r) {
		free(r->buf);
		free(r);
	}
}

void sk_lines_hold_partial(sk_lines *r, int hold)
{
	r->hold_partial = hold;
}

void sk_lines_reset(sk_lines *r, int fd, uint64_t start_offset)
{
	r->fd = fd;
	r->start = r->end = r->scanned = 0;
	r->base = start_offset;
	r->lineno = 0;
	r->line_off = r->line_end = start_offset;
	r->skipping = 0;
}

uint64_t sk_lines_lineno(const sk_lines *r) { return r->lineno; }
uint64_t sk_lines_offset(const sk_lines *r) { return r->line_off; }
uint64_t sk_lines_end(const sk_lines *r) { return r->line_end; }
size_t sk_lines_pending(const sk_lines *r) { return r->end - r->start; }

/* Make room for one more block: move the pending bytes to the front, or grow. */
static int make_room(sk_lines *r)
{
	if (r->start > 0) {
		size_t n = r->end - r->start;
		memmove(r->buf, r->buf + r->start, n);
		r->base += r->start;
		r->scanned -= r->start;
		r->start = 0;
		r->end = n;
	}
	if (r->cap - r->end < READ_BLOCK) {
		size_t cap = r->cap * 2;
		char *p = realloc(r->buf, cap);
		if (p == NULL)
			return -1;
		r->buf = p;
		r->cap = cap;
	}
	return 0;
}

/* 1 bytes read, 0 nothing within the timeout, SK_EOF, -1 error. */
static int fill(sk_lines *r, int timeout_ms, sk_err *e)
{
	ssize_t n;

	if (make_room(r) < 0)
		return sk_err_oom(e);
	if (timeout_ms >= 0) {
		struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
		int pr = poll(&pfd, 1, timeout_ms);
		if (pr == 0 || (pr < 0 && errno == EINTR))
			return 0;
		if (pr < 0)
			return sk_err_set(e, EX_IOERR, "poll: %s", strerror(errno));
	}
	for (;;) {
		n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n > 0)
			break;
		if (n == 0)
			return SK_EOF;
		if (errno == EINTR)
			return 0;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return sk_err_set(e, EX_IOERR, "read: %s", strerror(errno));
	}
	r->end += (size_t)n;
	return 1;
}

/* Return buf[start..stop) as the next line; next is where the following line starts. */
static int take(sk_lines *r, size_t stop, size_t next, const char **line, size_t *len)
{
	size_t n = stop - r->start;

	if (n > 0 && r->buf[r->start + n - 1] == '\r')
		n--;
	*line = r->buf + r->start;
	*len = n;
	r->line_off = r->base + r->start;
	r->line_end = r->base + next;
	r->lineno++;
	r->start = r->scanned = next;
	return 1;
}

int sk_lines_next(sk_lines *r, const char **line, size_t *len, int timeout_ms, sk_err *e)
{
	for (;;) {
		char *nl = NULL;
		int rc;

		if (r->scanned < r->end)
			nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
		if (nl) {
			size_t stop = (size_t)(nl - r->buf);
			if (r->skipping) {
				/* The end of an oversize line already reported. */
				r->skipping = 0;
				r->start = r->scanned = stop + 1;
				continue;
			}
			if (stop - r->start > r->max_line) {
				r->lineno++;
				r->line_off = r->base + r->start;
				r->line_end = r->base + stop + 1;
				r->start = r->scanned = stop + 1;
				return sk_err_set(e, EX_DATAERR, "line %llu: longer than %zu bytes",
				                  (unsigned long long)r->lineno, r->max_line);
			}
			return take(r, stop, stop + 1, line, len);
		}
		r->scanned = r->end;
		if (r->end - r->start > r->max_line) {
			if (r->skipping) {
				r->base += r->end;
				r->start = r->end = r->scanned = 0;
			} else {
				r->lineno++;
				r->line_off = r->base + r->start;
				r->skipping = 1;
				r->base += r->end;
				r->start = r->end = r->scanned = 0;
				return sk_err_set(e, EX_DATAERR, "line %llu: longer than %zu bytes",
				                  (unsigned long long)r->lineno, r->max_line);
			}
		}
		rc = fill(r, timeout_ms, e);
		if (rc == SK_EOF && r->end > r->start && !r->hold_partial) {
			if (r->skipping) {
				r->skipping = 0;
				r->start = r->scanned = r->end;
				return SK_EOF;
			}
			return take(r, r->end, r->end, line, len);
		}
		if (rc != 1)
			return rc;
	}
}
