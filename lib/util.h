/* util.h - growable buffers, durations, sizes, clocks and diagnostics. */
#ifndef SK_UTIL_H
#define SK_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "err.h"

/* A growable byte buffer; p is always NUL-terminated when cap > 0. */
typedef struct sk_buf {
	char *p;
	size_t len, cap;
} sk_buf;

int sk_buf_reserve(sk_buf *b, size_t extra);              /* -1 on ENOMEM */
/* Room in the array *v (of *cap elements of size bytes, n in use) for one
 * more: doubled when full, first elements at first. -1 on ENOMEM. */
int sk_grow(void *v, size_t *cap, size_t n, size_t size, size_t first);

/* Appending, -1 on ENOMEM. Inline: every envelope is built by a dozen of
 * them, and the call cost more than the copy. */
static inline int sk_buf_add(sk_buf *b, const void *s, size_t n)
{
	if (b->cap - b->len <= n && sk_buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static inline int sk_buf_addc(sk_buf *b, char c)
{
	if (b->cap - b->len <= 1 && sk_buf_reserve(b, 1) < 0)
		return -1;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
	return 0;
}

static inline int sk_buf_adds(sk_buf *b, const char *s)
{
	return sk_buf_add(b, s, strlen(s));
}
/* The decimal digits of v at d, which has room for 20 bytes (21 with a
 * sign); no NUL. Returns how many. */
size_t sk_fmt_u64(char *d, uint64_t v);
size_t sk_fmt_i64(char *d, int64_t v);
int sk_buf_add_i64(sk_buf *b, int64_t v);
int sk_buf_printf(sk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* len = 0, keeps memory. */
static inline void sk_buf_reset(sk_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}
void sk_buf_free(sk_buf *b);

/* A malloc'd formatted string, NULL on ENOMEM. */
char *sk_strprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "250ms", "1.5s", "5m", "2h", "0.1" (seconds) -> milliseconds. */
int sk_parse_duration(const char *s, int64_t *ms, sk_err *e);
/* "4096", "64k", "16M", "1G" -> bytes. */
int sk_parse_size(const char *s, uint64_t *bytes, sk_err *e);
/* A non-negative integer, the whole string. */
int sk_parse_count(const char *s, uint64_t *n, sk_err *e);
/* The value of hexadecimal digit c, either case, or -1. */
int sk_hex_digit(int c);

int64_t sk_now_ms(void);        /* CLOCK_MONOTONIC */
int64_t sk_wall_ms(void);       /* CLOCK_REALTIME, for records */

/* Diagnostics on stderr, one line each, "PROG: message". */
extern const char *sk_progname;
extern int sk_verbosity;        /* -1 with -q, 0 default, 1.. with -v */
void sk_log_init(const char *argv0);
void sk_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* silenced by -q */
void sk_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* shown with -v */
void sk_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* always shown */
/* Print e as an error and return its code, for `return sk_fail(&e);` in tools. */
int sk_fail(const sk_err *e);
/* Print "out of memory" and return EX_OSERR, for tools. */
int sk_fail_oom(void);

/* Write all of buf to fd (sk_write_fd), EPIPE an error like any other. */
int sk_write_all(int fd, const void *buf, size_t n, sk_err *e, const char *what);
/* Read the whole file at path into b (NUL-terminated once anything is
 * read), at most max bytes; -1 with *missing set when it does not exist. */
int sk_read_file(const char *path, size_t max, sk_buf *b, int *missing, sk_err *e);
/* fsync a directory (after a rename in it). */
int sk_fsync_dir(const char *dir, sk_err *e);
/* mkdir -p with mode for the last component and its parents. */
int sk_mkdir_p(const char *path, int mode, sk_err *e);

#endif
