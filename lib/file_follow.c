/* file_follow.c - the next line of a file as a message, and following the
 * file as it grows, is truncated or rotated.
 *
 * With follow set, a regular file is read like tail -F: at its end the
 * reader waits, checking every STAT_INTERVAL_MS whether the file was
 * truncated (its size fell below what was read: its copy is finished if
 * there is one, then it starts again at 0) or rotated (the path names
 * another file: finish the old file, then read the new one from 0). A
 * removed path is waited for while the old file is still read. A last
 * line held back (source_file.c) is returned once its newline is
 * written; a rotated file's last line is returned without one. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_file_impl.h"
#include "json.h"
#include "util.h"

#define STAT_INTERVAL_MS 100

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
static int reopen(struct sk_file_src *fs, sk_err *e)
{
	struct stat st;
	int rc = sk_file_open_path(fs, &st, e);

	if (rc <= 0)
		return rc;
	sk_info("%s: reading the new file from its start", fs->arg);
	return sk_file_begin(fs, 0, e) < 0 ? -1 : 1;
}

/* Done with a file the path no longer names: note its size, close it. */
static int leave_file(struct sk_file_src *fs, sk_err *e)
{
	int rc = sk_file_note_size(fs, e);

	close(fs->fd);
	fs->fd = -1;
	fs->draining = 0;
	return rc;
}

/* The position after the last line returned, with the file's identity
 * when its fingerprint covers it: 1, else 0. */
static int current_position(const struct sk_file_src *fs, struct sk_file_pos *p)
{
	p->off = sk_lines_end(fs->lr);
	p->has_id = 1;
	p->dev = (uint64_t)fs->dev;
	p->ino = (uint64_t)fs->ino;
	p->fp = fs->fp;
	return fs->has_id && p->off > 0 && fs->fp_done == sk_file_fp_len(p->off);
}

/* The followed file became shorter than what was read: finish its copy
 * when there is one (copytruncate), then read it again from 0. */
static int truncated(struct sk_file_src *fs, sk_err *e)
{
	struct sk_file_pos p;
	char *name = NULL;
	int old, rc;

	if (fs->path && current_position(fs, &p) && (old = sk_file_find_old(fs->real, &p, &name)) >= 0) {
		sk_info("%s: file truncated; finishing its copy %s from offset %llu", fs->arg, name,
		        (unsigned long long)p.off);
		close(fs->fd);
		fs->fd = -1;
		rc = sk_file_finish_old(fs, old, name, &p, e);
		free(name);
		return rc < 0 ? -1 : 1;
	}
	sk_warn("%s: file truncated; reading from the start", fs->arg);
	return sk_file_begin(fs, 0, e) < 0 ? -1 : 1;
}

/* At the end of a followed file: 1 when it was truncated (reading starts
 * over) or the path names another file (draining starts), else 0. */
static int watch(struct sk_file_src *fs, sk_err *e)
{
	struct stat st;
	off_t here = lseek(fs->fd, 0, SEEK_CUR);

	if (here >= 0 && fstat(fs->fd, &st) == 0 && st.st_size < here)
		return truncated(fs, e);
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
static uint64_t line_number(struct sk_file_src *fs)
{
	if (fs->start_lineno < 0)
		fs->start_lineno = fs->regular ? count_lines(fs->fd, fs->start) : -1;
	if (fs->start_lineno < 0)
		return 0;
	return (uint64_t)fs->start_lineno + sk_lines_lineno(fs->lr);
}

static int add_value(struct sk_file_src *fs, const char *line, size_t len)
{
	if (fs->base64 && !(fs->json && sk_json_is_value(fs->jp, line, len)))
		return sk_json_add_base64(&fs->env, (const unsigned char *)line, len);
	return sk_json_add_text(&fs->env, fs->jp, line, len, fs->json);
}

/* The position of the line that ends at `next`, after the cursor's
 * prefix in *b: the offset and "@DEV.INO.FP". The fingerprint grows with
 * the first SK_FILE_FP_MAX bytes, and is then the same for every line. */
static int add_position(struct sk_file_src *fs, sk_buf *b, const char *next, size_t nnext, uint64_t end)
{
	if (fs->has_id && fs->fp_done < sk_file_fp_len(end)) {
		fs->fp_done = sk_file_hash_more(fs->fd, fs->fp_done, sk_file_fp_len(end), &fs->fp);
		snprintf(fs->fp_hex, sizeof fs->fp_hex, "%016llx", (unsigned long long)fs->fp);
	}
	if (sk_buf_add(b, next, nnext) < 0)
		return -1;
	if (fs->has_id && (sk_buf_add(b, fs->id_tag, fs->id_tag_len) < 0 || sk_buf_add(b, fs->fp_hex, 16) < 0))
		return -1;
	return 0;
}

static int envelope(struct sk_file_src *fs, sk_msg *m, const char *line, size_t len, sk_err *e)
{
	char off[24], next[24];
	uint64_t end = sk_lines_end(fs->lr);
	size_t noff = sk_fmt_u64(off, sk_lines_offset(fs->lr));
	size_t nnext = sk_fmt_u64(next, end);
	sk_buf *b = &fs->env;

	sk_buf_reset(b);
	fs->cursor.len = fs->cursor_prefix;
	if (add_position(fs, &fs->cursor, next, nnext, end) < 0 ||
	    sk_buf_add(b, "{\"line\":", 8) < 0 ||
	    add_value(fs, line, len) < 0 ||
	    sk_buf_add(b, ",\"offset\":", 10) < 0 ||
	    sk_buf_add(b, off, noff) < 0 ||
	    sk_buf_add(b, fs->cursor_json.p, fs->cursor_json.len) < 0 ||
	    sk_buf_add(b, fs->cursor.p + fs->cursor_prefix, fs->cursor.len - fs->cursor_prefix) < 0 ||
	    sk_buf_add(b, "\"}", 2) < 0)
		return sk_err_oom(e);
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = fs->cursor.p;
	m->value = sk_json_take_kept(fs->jp, b, 0, &fs->value);
	return 1;
}

/* A line the reader refused (too long): say which, in the message and in
 * *m, whose envelope then locates it: {"line_number":N,"offset":START}. */
static int bad_line(struct sk_file_src *fs, sk_msg *m, sk_err *e)
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
	if ((n > 0 ? sk_buf_printf(b, "{\"line_number\":%llu,\"offset\":%llu}", (unsigned long long)n,
	                           (unsigned long long)off)
	           : sk_buf_printf(b, "{\"offset\":%llu}", (unsigned long long)off)) < 0)
		return sk_err_oom(e);
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = NULL;
	return -1;
}

/* The end of the file reached: whether a line without newline is held. */
static void note_end(struct sk_file_src *fs)
{
	fs->held = sk_lines_pending(fs->lr) > 0;
	if (fs->held)
		fs->held_at = sk_lines_end(fs->lr);
}

/* No file open (the path is to be opened again): 1 one is, 0 or SK_END
 * from waiting for it, SK_EOF when there is nothing to wait for. */
static int next_file(struct sk_file_src *fs, int64_t deadline, sk_err *e)
{
	int rc = reopen(fs, e);

	if (rc != 0)
		return rc;
	if (!fs->follow) {
		fs->ended = 1;
		return SK_EOF;
	}
	return pause_until(deadline);
}

int sk_file_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct sk_file_src *fs = s->impl;
	int64_t deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms;
	const char *line;
	size_t len;
	int rc;

	if (fs->ended)
		return SK_EOF;
	for (;;) {
		if (fs->fd < 0) {
			if ((rc = next_file(fs, deadline, e)) != 1)
				return rc;
			continue;
		}
		rc = sk_lines_next(fs->lr, &line, &len, fs->regular ? 0 : remaining_ms(deadline), e);
		if (rc == 1) {
			fs->held = 0;
			return envelope(fs, m, line, len, e);
		}
		if (rc < 0)
			return e->code == EX_DATAERR ? bad_line(fs, m, e) : -1;
		if (rc == 0)
			return 0;
		/* SK_EOF */
		if (fs->draining) {
			if (leave_file(fs, e) < 0)
				return -1;
			continue;
		}
		note_end(fs);
		if (!fs->follow || !fs->regular) {
			fs->ended = 1;
			return SK_EOF;
		}
		rc = watch(fs, e);
		if (rc < 0)
			return -1;
		if (rc == 0 && (rc = pause_until(deadline)) != 1)
			return rc;
	}
}
