/* commit.c - the pass-through filter behind `stream-checkpoint commit`:
 * lines are copied unchanged, and the cursors they carry are committed once
 * the lines have left the process (at-least-once for any script that
 * prints what it has finished). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commit.h"
#include "json.h"
#include "lines.h"
#include "output.h"
#include "util.h"

#define IDLE_WAKEUP_MS 500     /* bounds a stop signal that lands just before a wait */

/* Lines go to `out`; the cursors of the lines in it are `buffered`. Once
 * out is written in full they move to `written`, and only those are ever
 * committed: a cursor is committed after its line has left the process. */
struct committer {
	const sk_commit_opts *o;
	sk_json *json;
	sk_output out;
	sk_cursorset *buffered, *written;
	int64_t buffered_rows, written_rows;
	int64_t last_checkpoint_ms;
	int out_is_file;
	sk_commit_stats *stats;
	sk_err e;
};

/* Write out in full. 0 done, 1 stdout is closed (EPIPE), -1 error. */
static int flush_out(struct committer *c)
{
	int rc = sk_output_flush(&c->out, &c->e);

	if (rc != 0)
		return rc == SK_EOF ? 1 : -1;
	if (sk_cursorset_merge(c->written, c->buffered, &c->e) < 0)
		return -1;
	sk_cursorset_clear(c->buffered);
	c->written_rows += c->buffered_rows;
	c->buffered_rows = 0;
	return 0;
}

/* Commit what has been written. */
static int commit_written(struct committer *c)
{
	if (sk_cursorset_count(c->written) == 0) {
		c->written_rows = 0;
		return 0;
	}
	/* A line in a file must be on disk before its cursor says so. */
	if (c->out_is_file && fsync(c->out.fd) < 0 && errno != EINVAL)
		return sk_err_set(&c->e, EX_IOERR, "%s: fsync: %s", c->o->output, strerror(errno));
	if (sk_state_checkpoint(c->o->state, c->o->name, c->written, c->written_rows, &c->e) < 0)
		return -1;
	c->stats->checkpoints++;
	if (c->o->on_checkpoint)
		c->o->on_checkpoint(c->o->arg, c->written, c->written_rows);
	sk_cursorset_clear(c->written);
	c->written_rows = 0;
	return 0;
}

/* Flush and commit. 0 done, 1 stdout is closed, -1 error. */
static int checkpoint(struct committer *c)
{
	int rc = flush_out(c);

	if (commit_written(c) < 0)
		return -1;
	c->last_checkpoint_ms = sk_now_ms();
	return rc;
}

static int checkpoint_due(const struct committer *c)
{
	if (c->buffered_rows + c->written_rows >= (int64_t)c->o->checkpoint_rows)
		return 1;
	return (sk_cursorset_count(c->buffered) || sk_cursorset_count(c->written)) &&
	       sk_now_ms() - c->last_checkpoint_ms >= c->o->checkpoint_ms;
}

/* How long to wait for input: not at all while output waits to be written,
 * until the next checkpoint while cursors wait to be committed. */
static int wait_ms(const struct committer *c)
{
	int64_t left;

	if (c->out.buf.len > 0)
		return 0;
	if (sk_cursorset_count(c->written) == 0)
		return IDLE_WAKEUP_MS;
	left = c->last_checkpoint_ms + c->o->checkpoint_ms - sk_now_ms();
	return left < 0 ? 0 : left > IDLE_WAKEUP_MS ? IDLE_WAKEUP_MS : (int)left;
}

/* Bad data on line lineno: 0 to go on (skip mode), -1 to stop. */
static int bad_line(struct committer *c, uint64_t lineno, const char *what)
{
	sk_err_set(&c->e, EX_DATAERR, "%s:%llu: %s", c->o->input, (unsigned long long)lineno, what);
	if (c->o->on_error.action != SK_ON_ERROR_SKIP)
		return -1;
	c->stats->skipped++;
	if (c->o->on_bad)
		c->o->on_bad(c->o->arg, c->e.msg);
	return 0;
}

/* Record the line's _cursor, if it has one. 0 ok, -1 bad data or error. */
static int take_cursor(struct committer *c, const char *line, size_t len, uint64_t lineno)
{
	json_object *row, *cursor;
	sk_err e = { 0 };
	char what[sizeof e.msg + 16];
	int rc = 0;

	/* A blank line between JSON texts (jq skips them) has no cursor; it
	 * is copied like any other line. */
	if (sk_json_blank(line, len))
		return 0;
	row = sk_json_parse(c->json, line, len, &e);
	if (row == NULL)
		return e.code == 0 ? 0 : bad_line(c, lineno, e.msg);     /* null has no cursor */
	if (json_object_is_type(row, json_type_object) &&
	    json_object_object_get_ex(row, "_cursor", &cursor)) {
		if (!json_object_is_type(cursor, json_type_string)) {
			rc = bad_line(c, lineno, "_cursor is not a string");
		} else if (sk_cursorset_add(c->buffered, json_object_get_string(cursor),
		                            (size_t)json_object_get_string_len(cursor), &e) < 0) {
			if (e.code != EX_DATAERR) {
				c->e = e;
				rc = -1;
			} else {
				snprintf(what, sizeof what, "_cursor: %s", e.msg);
				rc = bad_line(c, lineno, what);
			}
		}
	}
	json_object_put(row);
	return rc;
}

/* Buffer the line for stdout. 0 ok, 1 stdout closed, -1 error. */
static int pass_line(struct committer *c, const char *line, size_t len)
{
	sk_buf *b = &c->out.buf;

	if (sk_buf_reserve(b, len + 1) < 0)
		return sk_err_oom(&c->e);
	sk_buf_add(b, line, len);
	sk_buf_addc(b, '\n');
	c->buffered_rows++;
	c->stats->lines++;
	if (b->len >= SK_OUTPUT_BATCH)
		return flush_out(c);
	return 0;
}

/* Why copy_lines stopped. */
enum stop {
	STOP_DONE,        /* end of input or a stop signal */
	STOP_CLOSED,      /* stdout was closed (EPIPE) */
	STOP_BAD_INPUT,   /* a bad line (--on-error=fail) or a read error, in c->e */
	STOP_FAILED,      /* a write or state store error, in c->e */
};

/* Copy stdin to stdout, committing on the way, until one of enum stop. */
static enum stop copy_lines(struct committer *c, sk_lines *r)
{
	const char *line;
	size_t len;
	int rc;

	while (!*c->o->stop) {
		sk_err e = { 0 };

		rc = sk_lines_next(r, &line, &len, wait_ms(c), &e);
		if (rc == 1) {
			if (take_cursor(c, line, len, sk_lines_lineno(r)) < 0)
				return c->e.code == EX_DATAERR ? STOP_BAD_INPUT : STOP_FAILED;
			rc = pass_line(c, line, len);
		} else if (rc == 0) {
			rc = c->out.buf.len > 0 ? flush_out(c) : 0;
		} else if (rc == SK_EOF) {
			return STOP_DONE;
		} else if (e.code == EX_DATAERR && c->o->on_error.action == SK_ON_ERROR_SKIP) {
			/* A line over the maximum: the reader has skipped it, so it cannot pass. */
			c->stats->skipped++;
			sk_err_prefix(&e, "%s", c->o->input);
			if (c->o->on_bad)
				c->o->on_bad(c->o->arg, e.msg);
			rc = 0;
		} else {
			c->e = e;
			sk_err_prefix(&c->e, "%s", c->o->input);
			return STOP_BAD_INPUT;
		}
		if (rc == 0 && checkpoint_due(c))
			rc = checkpoint(c);
		if (rc != 0)
			return rc > 0 ? STOP_CLOSED : STOP_FAILED;
	}
	return STOP_DONE;
}


int sk_commit_run(int in_fd, int out_fd, const sk_commit_opts *o, sk_commit_stats *stats, sk_err *e)
{
	struct committer c = { .o = o, .stats = stats };
	struct stat sb;
	sk_lines *r;
	enum stop why;
	int rc, status = 0;

	memset(stats, 0, sizeof *stats);
	sk_output_init(&c.out, out_fd, o->output);
	c.json = sk_json_new();
	c.buffered = sk_cursorset_new();
	c.written = sk_cursorset_new();
	r = sk_lines_new(in_fd, o->max_line, 0);
	if (!c.json || !c.buffered || !c.written || !r) {
		status = sk_err_oom(e);
		goto out;
	}
	c.out_is_file = fstat(out_fd, &sb) == 0 && S_ISREG(sb.st_mode);
	c.last_checkpoint_ms = sk_now_ms();

	why = copy_lines(&c, r);
	if (why == STOP_BAD_INPUT || why == STOP_FAILED) {
		*e = c.e;
		status = -1;
	}
	/* The lines read before a bad one still go out and are committed; after
	 * EPIPE or a failed write, only what was written is. */
	if (why == STOP_DONE || why == STOP_BAD_INPUT)
		rc = checkpoint(&c);
	else
		rc = commit_written(&c);
	if (rc < 0 && status == 0) {
		*e = c.e;
		status = -1;
	}
	if (status == 0 && (why == STOP_CLOSED || rc > 0))
		status = SK_EOF;
out:
	sk_lines_free(r);
	sk_cursorset_free(c.buffered);
	sk_cursorset_free(c.written);
	sk_json_free(c.json);
	sk_output_free(&c.out);
	return status;
}
