/* source_file.c - the lines of a file or of standard input, one message each.
 *
 * Envelope: {"line":TEXT,"offset":START,"_cursor":"file:/abs/path:0:NEXT"}
 * where NEXT is the byte offset of the following line: what a restarted
 * reader resumes at.
 *
 * With follow set, a regular file is read like tail -F: at its end the
 * reader waits, checking every STAT_INTERVAL_MS whether the file was
 * truncated (its size fell below what was read: start again at 0) or
 * rotated (the path names another file: finish the old file, then read
 * the new one from 0). A removed path is waited for while the old file is
 * still read. */
/* realpath is POSIX 2008 base, but glibc declares it only for X/Open. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_impl.h"
#include "json.h"
#include "lines.h"
#include "util.h"

#define STAT_INTERVAL_MS 100

struct file_src {
	char *arg;              /* the endpoint as written, for warnings */
	char *path;             /* the path followed; NULL for standard input */
	int fd;                 /* -1 while waiting for the path to appear */
	int is_stdin, follow, json, base64;
	int regular;            /* fd is a regular file: its end can be followed */
	dev_t dev;
	ino_t ino;
	int gone;               /* the path was removed; the old file is still read */
	int draining;           /* the path names a new file: finish the old one */
	int ended;              /* SK_EOF returned */
	uint64_t start;         /* offset where reading this fd began */
	int64_t start_lineno;   /* lines before start; -1 until counted */
	size_t max_line;
	sk_lines *lr;
	sk_json *jp;
	sk_buf env;
	sk_buf cursor;          /* "SOURCE:0:" then the position */
	size_t cursor_prefix;
};

static void file_free(struct file_src *fs)
{
	if (fs == NULL)
		return;
	if (fs->fd >= 0 && !fs->is_stdin)
		close(fs->fd);
	sk_lines_free(fs->lr);
	sk_json_free(fs->jp);
	sk_buf_free(&fs->env);
	sk_buf_free(&fs->cursor);
	free(fs->arg);
	free(fs->path);
	free(fs);
}

static int oom(sk_err *e)
{
	return sk_err_set(e, EX_OSERR, "out of memory");
}

/* Decimal digits of v into buf (at least 21 bytes), NUL-terminated. */
static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[21];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

/* "file:" and the absolute path, symbolic links resolved. A path that does
 * not exist yet (--follow waits for it) is its directory's real path plus
 * its name, which is what realpath will say once it exists. */
static char *file_source_id(const char *path, sk_err *e)
{
	char *real = realpath(path, NULL), *dir, *id;
	const char *base, *slash;
	size_t n;

	if (real == NULL) {
		if (errno != ENOENT) {
			sk_err_set(e, sk_err_code_for_errno(errno), "%s", strerror(errno));
			return NULL;
		}
		slash = strrchr(path, '/');
		base = slash ? slash + 1 : path;
		if (slash == path)
			dir = strdup("/");
		else if (slash)
			dir = strndup(path, (size_t)(slash - path));
		else
			dir = strdup(".");
		if (dir == NULL) {
			oom(e);
			return NULL;
		}
		real = realpath(dir, NULL);
		free(dir);
		if (real == NULL) {
			sk_err_set(e, sk_err_code_for_errno(errno), "%s", strerror(errno));
			return NULL;
		}
		n = strlen(real) + strlen(base) + 2;
		dir = real;
		real = malloc(n);
		if (real == NULL) {
			free(dir);
			oom(e);
			return NULL;
		}
		snprintf(real, n, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base);
		free(dir);
	}
	n = strlen(real) + sizeof "file:";
	id = malloc(n);
	if (id)
		snprintf(id, n, "file:%s", real);
	else
		oom(e);
	free(real);
	return id;
}

/* Number of '\n' in the first `upto` bytes of fd, for line numbers in
 * messages about a file not read from its start. */
static int64_t count_lines(int fd, uint64_t upto)
{
	char buf[65536];
	uint64_t off = 0;
	int64_t n = 0;

	while (off < upto) {
		size_t want = upto - off < sizeof buf ? (size_t)(upto - off) : sizeof buf;
		ssize_t got = pread(fd, buf, want, (off_t)off);
		const char *p, *end;
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		for (p = buf, end = buf + got; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			n++;
		off += (uint64_t)got;
	}
	return n;
}

/* The offset just after the last '\n' of the first `size` bytes of fd. */
static int end_of_last_line(int fd, uint64_t size, uint64_t *out, sk_err *e)
{
	char buf[65536];
	uint64_t hi = size;

	while (hi > 0) {
		size_t want = hi < sizeof buf ? (size_t)hi : sizeof buf;
		uint64_t lo = hi - want;
		ssize_t got = pread(fd, buf, want, (off_t)lo);
		size_t i;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return sk_err_set(e, EX_IOERR, "read: %s", strerror(errno));
		if ((size_t)got < want)   /* shrank meanwhile: look again at what is there */
			return end_of_last_line(fd, lo + (uint64_t)got, out, e);
		for (i = want; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				*out = lo + i;
				return 0;
			}
		}
		hi = lo;
	}
	*out = 0;
	return 0;
}

static int parse_position(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (!(*s >= '0' && *s <= '9'))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*v = n;
	return 0;
}

/* Where to start in the file open at fs->fd: right after the stored
 * position of (name, id, "0"), else where --from says. */
static int initial_offset(struct file_src *fs, const char *id, const sk_source_opts *o,
                          uint64_t size, uint64_t *off, sk_err *e)
{
	char *stored = NULL;
	int rc;

	*off = 0;
	if (o->name) {
		rc = sk_state_get_position(o->state, o->name, id, "0", &stored, e);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (parse_position(stored, off) < 0) {
				sk_err_set(e, EX_DATAERR, "stored position '%s' of %s for %s is not a byte offset",
				           stored, id, o->name);
				free(stored);
				return -1;
			}
			free(stored);
			if (!fs->regular && *off > 0)
				return sk_err_set(e, EX_USAGE, "cannot resume: not a regular file");
			if (*off > size) {
				sk_warn("%s: file is shorter than the stored position %llu (truncated or replaced); "
				        "reading from the start", fs->arg, (unsigned long long)*off);
				*off = 0;
			}
			return 0;
		}
	}
	if (o->from == SK_FROM_LATEST && fs->regular)
		return end_of_last_line(fs->fd, size, off, e);
	return 0;
}

/* Begin reading fs->fd (just opened) at offset off. */
static int begin_fd(struct file_src *fs, uint64_t off, sk_err *e)
{
	if (fs->regular && lseek(fs->fd, (off_t)off, SEEK_SET) < 0)
		return sk_err_set(e, EX_IOERR, "seek: %s", strerror(errno));
	fs->start = off;
	fs->start_lineno = off == 0 ? 0 : -1;
	if (fs->lr == NULL) {
		fs->lr = sk_lines_new(fs->fd, fs->max_line, off);
		if (fs->lr == NULL)
			return oom(e);
	} else {
		sk_lines_reset(fs->lr, fs->fd, off);
	}
	sk_lines_hold_partial(fs->lr, fs->follow && fs->regular);
	return 0;
}

/* Open fs->path. 1 opened, 0 it does not exist, -1 error. */
static int open_path(struct file_src *fs, struct stat *st, sk_err *e)
{
	fs->fd = open(fs->path, O_RDONLY | O_CLOEXEC);
	if (fs->fd < 0) {
		if (errno == ENOENT)
			return 0;
		return sk_err_set(e, sk_err_code_for_errno(errno), "%s", strerror(errno));
	}
	if (fstat(fs->fd, st) < 0) {
		int saved = errno;
		close(fs->fd);
		fs->fd = -1;
		return sk_err_set(e, EX_IOERR, "%s", strerror(saved));
	}
	if (S_ISDIR(st->st_mode)) {
		close(fs->fd);
		fs->fd = -1;
		return sk_err_set(e, EX_USAGE, "is a directory");
	}
	fs->regular = S_ISREG(st->st_mode);
	fs->dev = st->st_dev;
	fs->ino = st->st_ino;
	fs->gone = 0;
	return 1;
}

static int open_stdin(struct file_src *fs, sk_source *s, const sk_source_opts *o, sk_err *e)
{
	struct stat st;
	off_t here;

	if (o->name)
		return sk_err_set(e, EX_USAGE, "cannot resume standard input");
	fs->is_stdin = 1;
	fs->fd = STDIN_FILENO;
	if (fstat(fs->fd, &st) < 0)
		return sk_err_set(e, EX_IOERR, "%s", strerror(errno));
	fs->regular = S_ISREG(st.st_mode);
	s->id = strdup("stdin");
	if (s->id == NULL)
		return oom(e);
	/* `stream-read < file` reports the file's own offsets. */
	here = fs->regular ? lseek(fs->fd, 0, SEEK_CUR) : 0;
	fs->start = here > 0 ? (uint64_t)here : 0;
	fs->start_lineno = fs->start == 0 ? 0 : -1;
	fs->lr = sk_lines_new(fs->fd, fs->max_line, fs->start);
	if (fs->lr == NULL)
		return oom(e);
	sk_lines_hold_partial(fs->lr, fs->follow && fs->regular);
	return 0;
}

static int open_file(struct file_src *fs, sk_source *s, const sk_endpoint *ep,
                     const sk_source_opts *o, sk_err *e)
{
	struct stat st;
	uint64_t off;
	int rc;

	fs->path = strdup(ep->path);
	if (fs->path == NULL)
		return oom(e);
	s->id = file_source_id(fs->path, e);
	if (s->id == NULL)
		return -1;
	rc = open_path(fs, &st, e);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (!fs->follow)
			return sk_err_set(e, EX_UNAVAILABLE, "%s", strerror(ENOENT));
		/* tail -F: wait for it. A stored position was about a file that
		 * is gone, so the one that appears is read from its start. */
		sk_warn("%s: %s; waiting for it to appear", fs->arg, strerror(ENOENT));
		return 0;
	}
	if (initial_offset(fs, s->id, o, (uint64_t)st.st_size, &off, e) < 0)
		return -1;
	sk_info("%s: starting at offset %llu", fs->arg, (unsigned long long)off);
	return begin_fd(fs, off, e);
}

static int file_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	struct file_src *fs = calloc(1, sizeof *fs);
	int rc;

	if (fs == NULL)
		return oom(e);
	fs->fd = -1;
	fs->follow = o->follow;
	fs->json = o->json;
	fs->base64 = o->base64;
	fs->max_line = o->max_line ? o->max_line : SK_LINES_DEFAULT_MAX;
	fs->arg = strdup(ep->arg ? ep->arg : ep->path);
	fs->jp = sk_json_new();
	if (fs->arg == NULL || fs->jp == NULL) {
		file_free(fs);
		return oom(e);
	}
	if (ep->kind == SK_EP_STDIO)
		rc = open_stdin(fs, s, o, e);
	else
		rc = open_file(fs, s, ep, o, e);
	if (rc == 0 && (sk_buf_adds(&fs->cursor, s->id) < 0 || sk_buf_adds(&fs->cursor, ":0:") < 0))
		rc = oom(e);
	if (rc < 0) {
		file_free(fs);
		return -1;
	}
	fs->cursor_prefix = fs->cursor.len;
	s->impl = fs;
	return 0;
}

/* Milliseconds left until deadline (-1: none) for a blocking wait. */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - sk_now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait for the next look at the file: 1 go on, 0 a signal came (so the
 * caller can see it), SK_END the deadline has passed. */
static int pause_until(int64_t deadline)
{
	int64_t ms = STAT_INTERVAL_MS, now = sk_now_ms();

	if (deadline >= 0) {
		if (now >= deadline)
			return SK_END;
		if (deadline - now < ms)
			ms = deadline - now;
	}
	if (poll(NULL, 0, (int)ms) < 0 && errno == EINTR)
		return 0;
	return 1;
}

/* Open the path again (it appeared, or names a new file): 1 reading it
 * from 0, 0 not there, -1 error. */
static int reopen(struct file_src *fs, sk_err *e)
{
	struct stat st;
	int rc = open_path(fs, &st, e);

	if (rc <= 0)
		return rc;
	sk_info("%s: reading the new file from its start", fs->arg);
	return begin_fd(fs, 0, e) < 0 ? -1 : 1;
}

/* At the end of a followed file: 1 when it was truncated (reading starts
 * over) or the path names another file (draining starts), else 0. */
static int watch(struct file_src *fs, sk_err *e)
{
	struct stat st;
	off_t here = lseek(fs->fd, 0, SEEK_CUR);

	if (here >= 0 && fstat(fs->fd, &st) == 0 && st.st_size < here) {
		sk_warn("%s: file truncated; reading from the start", fs->arg);
		return begin_fd(fs, 0, e) < 0 ? -1 : 1;
	}
	if (fs->path == NULL)
		return 0;
	if (stat(fs->path, &st) < 0) {
		if (errno == ENOENT && !fs->gone) {
			fs->gone = 1;
			sk_info("%s: file removed; waiting for a new one", fs->arg);
		}
		return 0;
	}
	if (st.st_dev != fs->dev || st.st_ino != fs->ino) {
		/* Rotated: the old file's last lines (even one without '\n')
		 * come before the new file's first. */
		fs->draining = 1;
		sk_lines_hold_partial(fs->lr, 0);
		return 1;
	}
	return 0;
}

/* 1-based number of the line just read in the whole file, 0 if unknown. */
static uint64_t line_number(struct file_src *fs)
{
	if (fs->start_lineno < 0)
		fs->start_lineno = fs->regular ? count_lines(fs->fd, fs->start) : -1;
	if (fs->start_lineno < 0)
		return 0;
	return (uint64_t)fs->start_lineno + sk_lines_lineno(fs->lr);
}

static int add_value(struct file_src *fs, const char *line, size_t len)
{
	if (fs->base64 && !(fs->json && sk_json_is_value(fs->jp, line, len)))
		return sk_json_add_base64(&fs->env, (const unsigned char *)line, len);
	return sk_json_add_text(&fs->env, fs->jp, line, len, fs->json);
}

static int envelope(struct file_src *fs, sk_msg *m, const char *line, size_t len, sk_err *e)
{
	char off[24], next[24];
	size_t noff = fmt_u64(off, sk_lines_offset(fs->lr));
	size_t nnext = fmt_u64(next, sk_lines_end(fs->lr));
	sk_buf *b = &fs->env;

	sk_buf_reset(b);
	fs->cursor.len = fs->cursor_prefix;
	if (sk_buf_add(&fs->cursor, next, nnext) < 0 ||
	    sk_buf_add(b, "{\"line\":", 8) < 0 ||
	    add_value(fs, line, len) < 0 ||
	    sk_buf_add(b, ",\"offset\":", 10) < 0 ||
	    sk_buf_add(b, off, noff) < 0 ||
	    sk_buf_add(b, ",\"_cursor\":", 11) < 0 ||
	    sk_json_add_string(b, fs->cursor.p, fs->cursor.len) < 0 ||
	    sk_buf_addc(b, '}') < 0)
		return oom(e);
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = fs->cursor.p;
	return 1;
}

/* A line the reader refused (too long): say which, in the message and in
 * *m, whose envelope then locates it: {"line":N,"offset":START}. */
static int bad_line(struct file_src *fs, sk_msg *m, sk_err *e)
{
	uint64_t n = line_number(fs), off = sk_lines_offset(fs->lr);
	sk_buf *b = &fs->env;

	if (n > 0)
		sk_err_set(e, EX_DATAERR, "line %llu: longer than %zu bytes",
		           (unsigned long long)n, fs->max_line);
	else
		sk_err_set(e, EX_DATAERR, "line at offset %llu: longer than %zu bytes",
		           (unsigned long long)off, fs->max_line);
	sk_buf_reset(b);
	if ((n > 0 ? sk_buf_printf(b, "{\"line\":%llu,\"offset\":%llu}", (unsigned long long)n,
	                           (unsigned long long)off)
	           : sk_buf_printf(b, "{\"offset\":%llu}", (unsigned long long)off)) < 0)
		return oom(e);
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = NULL;
	return -1;
}

static int file_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct file_src *fs = s->impl;
	int64_t deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms;
	const char *line;
	size_t len;
	int rc;

	if (fs->ended)
		return SK_EOF;
	for (;;) {
		if (fs->fd < 0) {
			rc = reopen(fs, e);
			if (rc < 0)
				return -1;
			if (rc == 0 && (rc = pause_until(deadline)) != 1)
				return rc;
			continue;
		}
		rc = sk_lines_next(fs->lr, &line, &len, fs->regular ? 0 : remaining_ms(deadline), e);
		if (rc == 1)
			return envelope(fs, m, line, len, e);
		if (rc < 0)
			return e->code == EX_DATAERR ? bad_line(fs, m, e) : -1;
		if (rc == 0)
			return 0;
		/* SK_EOF */
		if (!fs->follow || !fs->regular) {
			fs->ended = 1;
			return SK_EOF;
		}
		if (fs->draining) {
			close(fs->fd);
			fs->fd = -1;
			fs->draining = 0;
			continue;
		}
		rc = watch(fs, e);
		if (rc < 0)
			return -1;
		if (rc == 0 && (rc = pause_until(deadline)) != 1)
			return rc;
	}
}

static void file_close(sk_source *s)
{
	file_free(s->impl);
	s->impl = NULL;
}

const struct sk_source_ops sk_source_file_ops = {
	.kind = "file",
	.open = file_open,
	.next = file_next,
	.close = file_close,
};
