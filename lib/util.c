/* util.c - buffers, durations, sizes, clocks, diagnostics, careful writes. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "output.h"

const char *sk_progname = "streamkit";
int sk_verbosity;

int sk_grow(void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	void **pv = v, *p;
	size_t want;

	if (n < *cap)
		return 0;
	want = *cap ? 2 * *cap : first;
	if (want > SIZE_MAX / size || (p = realloc(*pv, want * size)) == NULL)
		return -1;
	*pv = p;
	*cap = want;
	return 0;
}

int sk_buf_reserve(sk_buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return -1;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

int sk_buf_printf(sk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sk_buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

char *sk_strprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void sk_buf_free(sk_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* A decimal number with an optional fraction; *end points after it. */
static int parse_decimal(const char *s, double *v, const char **end)
{
	char *e;

	const char *d;

	for (d = s; (*d >= '0' && *d <= '9') || *d == '.'; d++)
		;
	if (d == s || (d == s + 1 && *s == '.'))
		return -1;
	errno = 0;
	*v = strtod(s, &e);
	if (e != d || errno == ERANGE || !isfinite(*v) || *v < 0)
		return -1;
	*end = e;
	return 0;
}

int sk_parse_duration(const char *s, int64_t *ms, sk_err *e)
{
	const char *unit;
	double v, scale;

	if (s == NULL || parse_decimal(s, &v, &unit) < 0)
		goto bad;
	if (strcmp(unit, "") == 0 || strcmp(unit, "s") == 0)
		scale = 1000;
	else if (strcmp(unit, "ms") == 0)
		scale = 1;
	else if (strcmp(unit, "m") == 0)
		scale = 60e3;
	else if (strcmp(unit, "h") == 0)
		scale = 3600e3;
	else
		goto bad;
	v *= scale;
	if (v > 9.2e15)
		goto bad;
	*ms = (int64_t)(v + 0.5);
	return 0;
bad:
	return sk_err_set(e, EX_USAGE, "invalid duration '%s' (expected a number with ms, s, m or h)",
	                  s ? s : "");
}

int sk_parse_size(const char *s, uint64_t *bytes, sk_err *e)
{
	const char *unit;
	double v, scale;

	if (s == NULL || parse_decimal(s, &v, &unit) < 0)
		goto bad;
	if (strcmp(unit, "") == 0)
		scale = 1;
	else if (strcmp(unit, "k") == 0 || strcmp(unit, "K") == 0)
		scale = 1024.0;
	else if (strcmp(unit, "M") == 0)
		scale = 1024.0 * 1024;
	else if (strcmp(unit, "G") == 0)
		scale = 1024.0 * 1024 * 1024;
	else
		goto bad;
	v *= scale;
	if (v > 1.8e19)
		goto bad;
	*bytes = (uint64_t)v;
	return 0;
bad:
	return sk_err_set(e, EX_USAGE, "invalid size '%s' (expected bytes with k, M or G)", s ? s : "");
}

int sk_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int sk_parse_count(const char *s, uint64_t *n, sk_err *e)
{
	unsigned long long v;
	char *end;

	if (s == NULL || !(*s >= '0' && *s <= '9'))
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		goto bad;
	*n = v;
	return 0;
bad:
	return sk_err_set(e, EX_USAGE, "invalid count '%s' (expected a non-negative integer)", s ? s : "");
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sk_now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t sk_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

void sk_log_init(const char *argv0)
{
	const char *slash = strrchr(argv0, '/');

	sk_progname = slash ? slash + 1 : argv0;
}

static void vlog(const char *fmt, va_list ap)
{
	char line[2048];

	vsnprintf(line, sizeof line, fmt, ap);
	/* One write per line, so that lines of several processes never interleave. */
	dprintf(STDERR_FILENO, "%s: %s\n", sk_progname, line);
}

void sk_warn(const char *fmt, ...)
{
	va_list ap;

	if (sk_verbosity < 0)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void sk_info(const char *fmt, ...)
{
	va_list ap;

	if (sk_verbosity < 1)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void sk_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

int sk_fail(const sk_err *e)
{
	sk_error("%s", e->msg);
	return e->code ? e->code : EX_SOFTWARE;
}

int sk_write_all(int fd, const void *buf, size_t n, sk_err *e, const char *what)
{
	int rc = sk_write_fd(fd, buf, n, what, e);

	/* Where a reader going away is not a clean stop, it is an error. */
	return rc == SK_EOF ? sk_err_set(e, EX_IOERR, "%s: %s", what, strerror(EPIPE)) : rc;
}

int sk_fsync_dir(const char *dir, sk_err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", dir, strerror(errno));
	if (fsync(fd) < 0 && errno != EINVAL) {
		int saved = errno;
		close(fd);
		return sk_err_set(e, EX_IOERR, "%s: fsync: %s", dir, strerror(saved));
	}
	close(fd);
	return 0;
}

int sk_mkdir_p(const char *path, int mode, sk_err *e)
{
	char *p = strdup(path), *s;
	struct stat st;

	if (p == NULL)
		return sk_err_oom(e);
	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
				sk_err_set(e, sk_err_code_for_errno(errno), "%s: %s", p, strerror(errno));
				free(p);
				return -1;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sk_err_set(e, EX_IOERR, "%s: not a directory", path);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

int sk_fail_oom(void)
{
	sk_err e;

	sk_err_oom(&e);
	return sk_fail(&e);
}

size_t sk_fmt_u64(char *d, uint64_t v)
{
	char tmp[20], *t = tmp + sizeof tmp;
	size_t n;

	do
		*--t = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	n = (size_t)(tmp + sizeof tmp - t);
	memcpy(d, t, n);
	return n;
}

size_t sk_fmt_i64(char *d, int64_t v)
{
	if (v >= 0)
		return sk_fmt_u64(d, (uint64_t)v);
	*d = '-';
	return 1 + sk_fmt_u64(d + 1, 0 - (uint64_t)v);
}

int sk_buf_add_i64(sk_buf *b, int64_t v)
{
	if (sk_buf_reserve(b, 21) < 0)
		return -1;
	b->len += sk_fmt_i64(b->p + b->len, v);
	b->p[b->len] = '\0';
	return 0;
}

int sk_read_file(const char *path, size_t max, sk_buf *b, int *missing, sk_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	*missing = 0;
	if (fd < 0) {
		*missing = errno == ENOENT;
		return sk_err_set(e, errno == EACCES ? EX_CONFIG : EX_IOERR, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		if (sk_buf_reserve(b, 65536) < 0) {
			close(fd);
			return sk_err_oom(e);
		}
		r = read(fd, b->p + b->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b->len += (size_t)r;
		b->p[b->len] = '\0';
		if (b->len > max) {
			close(fd);
			return sk_err_set(e, EX_CONFIG, "%s: larger than %zu bytes", path, max);
		}
	}
	if (r < 0) {
		int saved = errno;
		close(fd);
		return sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(saved));
	}
	close(fd);
	return 0;
}
