/* reader.c - stream-read's loop (see reader.h): the next message, waits
 * bounded so that a stop is never missed, the output batched through
 * sk_output, the --filter hand-off, bad messages by --on-error, and the
 * end: output closed first, then the source drained. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "json.h"
#include "output.h"
#include "reader.h"
#include "util.h"

#define MAX_WAIT_MS 1000        /* bound on one wait, so a stop is never missed */

struct sk_reader {
	const sk_reader_opts *o;
	sk_source *src;
	sk_filter *filter;          /* --filter, or NULL */
	sk_output out;
	sk_dead_letter dl;
	sk_read_note note;          /* with a state: when messages last went out */
	sk_reader_stats st;
	sk_buf rec;                 /* a dead-letter record being made */
};

/* Everything waiting goes out; a closed output is not an error here, the
 * loop sees it. Dead letters written since the last flush reach the disk
 * first: the messages after a bad one carry cursors that cover it, and a
 * downstream checkpoint may commit them as soon as they are out. */
static int out_flush(struct sk_reader *r, sk_err *e)
{
	int rc;

	if (r->out.buf.len && r->o->state &&
	    sk_state_note_read(r->o->state, r->o->name, &r->note, 0, e) < 0)
		return -1;
	if (r->out.buf.len && sk_dead_letter_sync(&r->dl, e) < 0)
		return -1;
	rc = sk_output_flush(&r->out, e);
	return rc == SK_EOF ? 0 : rc;
}

static int out_ready(struct sk_reader *r, sk_err *e)
{
	return r->out.buf.len >= SK_OUTPUT_BATCH ? out_flush(r, e) : 0;
}

static int out_message(struct sk_reader *r, const sk_msg *m, sk_err *e)
{
	if (r->out.closed)
		return 0;
	if (sk_buf_add(&r->out.buf, m->env, m->env_len) < 0 || sk_buf_addc(&r->out.buf, '\n') < 0)
		return sk_err_oom(e);
	return out_ready(r, e);
}

/* A bad message: one JSON line in the dead-letter file, saying where it
 * was and why. A message read whole (one a --filter program failed on)
 * is in "message", as its envelope; one that was not (too long) is located
 * by the members the source gives for it ("line_number" and "offset" in a
 * file, "topic", "partition" and "offset" in Kafka), so that no member
 * means two things. */
static int dead_letter_write(struct sk_reader *r, const sk_msg *m, const sk_err *why, sk_err *e)
{
	const char *input = r->o->input;
	int whole = m->cursor != NULL;
	sk_buf *b = &r->rec;

	sk_buf_reset(b);
	if (sk_buf_adds(b, "{\"input\":") < 0 || sk_json_add_string(b, input, strlen(input)) < 0 ||
	    sk_buf_adds(b, ",\"error\":") < 0 || sk_json_add_string(b, why->msg, strlen(why->msg)) < 0)
		return sk_err_oom(e);
	if (m->env && m->env_len > 2 && m->env[0] == '{') {
		if (whole ? (sk_buf_adds(b, ",\"message\":") < 0 || sk_buf_add(b, m->env, m->env_len) < 0 ||
		             sk_buf_addc(b, '}') < 0)
		          : (sk_buf_addc(b, ',') < 0 || sk_buf_add(b, m->env + 1, m->env_len - 1) < 0))
			return sk_err_oom(e);
	} else if (sk_buf_addc(b, '}') < 0)
		return sk_err_oom(e);
	return sk_dead_letter_add(&r->dl, b->p, b->len, e);
}

/* A message the source refused (e->code EX_DATAERR): 0 to go on. */
static int bad_message(struct sk_reader *r, const sk_msg *m, sk_err *e)
{
	sk_err werr;

	switch (r->o->on_error.action) {
	case SK_ON_ERROR_SKIP:
		r->st.skipped++;
		sk_warn("%s: %s; skipped", r->o->input, e->msg);
		return 0;
	case SK_ON_ERROR_DEAD_LETTER:
		if (dead_letter_write(r, m, e, &werr) < 0) {
			*e = werr;
			return -1;
		}
		r->st.dead_lettered++;
		sk_info("%s: %s; written to %s", r->o->input, e->msg, r->o->on_error.dead_letter);
		return 0;
	default:
		sk_err_prefix(e, "%s", r->o->input);
		return -1;
	}
}

/* The results of --filter over one message, each with its cursor. A
 * message the program fails on prints nothing and is a bad message. */
static int out_filtered(void *arg, const sk_filtered *f, sk_err *e)
{
	struct sk_reader *r = arg;
	sk_err why;

	if (f->error) {
		why = *f->error;
		if (why.code == EX_DATAERR) {
			sk_err_prefix(&why, "message %s: --filter", f->msg->cursor);
			if (bad_message(r, f->msg, &why) == 0)
				return 0;
		}
		*e = why;
		return -1;
	}
	if (r->out.closed)
		return 0;
	if (sk_buf_add(&r->out.buf, f->out, f->out_len) < 0)
		return sk_err_oom(e);
	return out_ready(r, e);
}

/* Everything the filter holds, out: before a pause, a bad message, the end. */
static int drain(struct sk_reader *r, sk_err *e)
{
	return r->filter ? sk_filter_drain(r->filter, e) : 0;
}

/* The source gives messages up (a Kafka rebalance): everything printed
 * so far goes out first, so that the pipeline can checkpoint it. */
int sk_reader_flush(void *arg, sk_err *e)
{
	struct sk_reader *r = arg;

	return drain(r, e) < 0 ? -1 : out_flush(r, e);
}

static int stopping(const struct sk_reader *r)
{
	return (r->o->stop && *r->o->stop) || r->out.closed;
}

/* The next message, flushing the output whenever none is ready: 1, 0 to
 * stop cleanly, -1 on error. */
static int next_message(struct sk_reader *r, sk_msg *m, sk_err *e)
{
	const sk_reader_opts *o = r->o;
	int64_t idle_until = -1;
	sk_err held;
	int rc, wait;

	for (;;) {
		if (stopping(r))
			return 0;
		rc = sk_source_next(r->src, m, 0, e);
		if (rc == 0 || rc == SK_END) {
			if (drain(r, e) < 0 || out_flush(r, e) < 0)
				return -1;
			if (r->out.closed || (rc == SK_END && o->exit_at_end))
				return 0;
			if (o->idle_ms >= 0 && idle_until < 0)
				idle_until = sk_now_ms() + o->idle_ms;
			wait = MAX_WAIT_MS;
			if (idle_until >= 0) {
				int64_t left = idle_until - sk_now_ms();
				if (left <= 0)
					return 0;
				if (left < wait)
					wait = (int)left;
			}
			rc = sk_source_next(r->src, m, wait, e);
			/* Caught up during the wait: a stream's drop is said once. */
			if (rc == SK_END && o->exit_at_end)
				return 0;
		}
		if (rc == 1)
			return 1;
		if (rc == SK_EOF)
			return 0;
		if (rc < 0) {
			if (e->code != EX_DATAERR)
				return sk_err_prefix(e, "%s", o->input);
			/* In order: what the filter holds came before. */
			if (drain(r, &held) < 0) {
				*e = held;
				return -1;
			}
			if (bad_message(r, m, e) < 0)
				return -1;
			idle_until = -1;
		}
	}
}

static int read_all(struct sk_reader *r, sk_err *e)
{
	sk_err ignored;
	sk_msg m;
	int rc = 0;

	while (!(r->o->have_count && r->st.emitted >= r->o->count)) {
		rc = next_message(r, &m, e);
		if (rc <= 0)
			break;
		if ((rc = r->filter ? sk_filter_push(r->filter, &m, e) : out_message(r, &m, e)) < 0)
			break;
		r->st.emitted++;
	}
	if (rc >= 0)
		rc = drain(r, e);
	if (rc < 0) {
		/* What came before the error is good output: deliver it. */
		drain(r, &ignored);
		out_flush(r, &ignored);
		return -1;
	}
	return out_flush(r, e);
}

/* The output closed, so that the pipeline sees its end before the drain
 * waits for its checkpoint. */
static int close_output(struct sk_reader *r, int rc, sk_err *e)
{
	if (close(r->o->out_fd) != 0 && errno != EPIPE && rc == 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", r->out.what, strerror(errno));
	return rc;
}

int sk_reader_run(sk_reader *r, sk_source *src, sk_reader_stats *st, sk_err *e)
{
	int rc;

	r->src = src;
	rc = read_all(r, e);
	/* A clean stop: the output ends first, then the source waits for the
	 * pipeline's checkpoint and acknowledges what it covers. */
	rc = close_output(r, rc, e);
	if (rc == 0 && r->o->state && sk_state_note_read(r->o->state, r->o->name, &r->note, 1, e) < 0)
		rc = -1;
	if (rc == 0 && sk_source_drain(src, e) < 0)
		rc = -1;
	if (rc == 0 && sk_dead_letter_close(&r->dl, e) < 0)
		rc = -1;
	*st = r->st;
	return rc;
}

sk_reader *sk_reader_new(const sk_reader_opts *o, sk_err *e)
{
	struct sk_reader *r = calloc(1, sizeof *r);

	if (r == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	r->o = o;
	sk_output_init(&r->out, o->out_fd, o->out_name ? o->out_name : "standard output");
	/* On a thread of its own when there is a second CPU for it, as there
	 * would be for jq in a pipeline. */
	if (o->filter &&
	    (r->filter = sk_filter_new(o->filter, o->args, sysconf(_SC_NPROCESSORS_ONLN) > 1,
	                               out_filtered, r, e)) == NULL) {
		sk_err_prefix(e, "--filter");
		goto fail;
	}
	if (o->on_error.action == SK_ON_ERROR_DEAD_LETTER &&
	    sk_dead_letter_open(&r->dl, o->on_error.dead_letter, e) < 0)
		goto fail;
	return r;
fail:
	sk_reader_free(r);
	return NULL;
}

void sk_reader_free(sk_reader *r)
{
	sk_err ignored;

	if (r == NULL)
		return;
	sk_filter_free(r->filter);
	sk_dead_letter_close(&r->dl, &ignored);
	sk_output_free(&r->out);
	sk_buf_free(&r->rec);
	free(r);
}
