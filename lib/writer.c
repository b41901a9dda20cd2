/* writer.c - stream-write's pipeline: lines -> rows -> sink, with
 * checkpoints. The loop: it takes the batches the reader thread fills
 * (writer_readahead.c), hands each line to the fast path (writer_text.c)
 * or the slow one (sk_writer_handle_line, with writer_rows.c), and
 * checkpoints by count, by time and at the end; bad lines fail the run,
 * are skipped or are dead-lettered here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "writer_impl.h"

#define CLOCK_EVERY 64

static void schedule_checkpoint(struct sk_writer *w)
{
	w->deadline = w->o->checkpoint_ms > 0 ? sk_now_ms() + w->o->checkpoint_ms : INT64_MAX;
}

/* Rows the sink refused after their write had returned (sk_sink_refused):
 * bad rows as bad lines are, but the line is gone; with fail nothing more
 * is checkpointed, for rows after them were handed to the sink already. */
static int late_refusals(struct sk_writer *w, sk_err *e)
{
	const char *text, *why;
	char msg[sizeof e->msg];
	size_t n;

	while (sk_sink_refused(w->k, &text, &n, &why) == 1) {
		snprintf(msg, sizeof msg, "%s: a row at or before line %llu: %s", w->o->input,
		         (unsigned long long)w->lineno, why);
		if (w->o->on_error.action == SK_ON_ERROR_FAIL)
			return sk_err_set(e, EX_DATAERR, "%s", msg);
		if (w->o->on_error.action == SK_ON_ERROR_DEAD_LETTER) {
			if (sk_dead_letter_add(&w->dl, text, n, e) < 0)
				return -1;
			w->st->dead_lettered++;
		} else {
			w->st->skipped++;
		}
		if (w->o->on_bad)
			w->o->on_bad(w->o->arg, msg);
		sk_sink_refused_done(w->k);
	}
	return 0;
}

/* Commit what was handled since the last checkpoint; nothing when nothing was. */
static int checkpoint(struct sk_writer *w, sk_err *e)
{
	int rc;

	schedule_checkpoint(w);
	if (late_refusals(w, e) < 0)
		return -1;
	if (w->handled == 0 && sk_cursorset_count(w->cs) == 0 && !w->dl.dirty)
		return 0;
	/* Dead letters are durable before the cursors of their lines commit. */
	if (sk_dead_letter_sync(&w->dl, e) < 0)
		return -1;
	if ((rc = sk_sink_checkpoint(w->k, w->cs, w->staged, e)) != 0)
		return rc;
	sk_cursorset_clear(w->cs);
	w->handled = 0;
	w->staged = 0;
	w->st->checkpoints++;
	return 0;
}

/* The checkpoint that ends a run: after what the sink has in flight is
 * confirmed. */
static int last_checkpoint(struct sk_writer *w, sk_err *e)
{
	int rc = sk_sink_finish(w->k, e);

	return rc != 0 ? rc : checkpoint(w, e);
}

/* A line that is not rows: fail, or count it (and keep it) and go on.
 * line is NULL when it was too long to keep. The cursors of a line that
 * is skipped or dead-lettered are committed: it was handled. */
int sk_writer_bad_line(struct sk_writer *w, const char *line, size_t len, uint64_t nrows, const sk_err *why,
                       sk_err *e)
{
	char msg[sizeof why->msg + 64];
	size_t i;
	int rc;

	snprintf(msg, sizeof msg, "%s:%llu: %s", w->o->input,
	         (unsigned long long)w->lineno, why->msg);
	if (nrows == 0)
		nrows = 1;
	if (w->o->on_error.action == SK_ON_ERROR_FAIL) {
		sk_writer_drop_line(w);
		if ((rc = last_checkpoint(w, e)) != 0)
			return rc;
		return sk_err_set(e, EX_DATAERR, "%s", msg);
	}
	if (w->o->on_error.action == SK_ON_ERROR_DEAD_LETTER && line) {
		if (sk_dead_letter_add(&w->dl, line, len, e) < 0) {
			sk_writer_drop_line(w);
			return -1;
		}
		w->st->dead_lettered += nrows;
	} else {
		w->st->skipped += nrows;
	}
	if (w->o->on_bad)
		w->o->on_bad(w->o->arg, msg);
	for (i = 0; i < w->ncur; i++) {
		json_object *c = w->cursors[i];
		if (sk_cursorset_add(w->cs, json_object_get_string(c), (size_t)json_object_get_string_len(c), e) < 0) {
			sk_writer_drop_line(w);
			return -1;
		}
	}
	sk_writer_drop_line(w);
	w->handled += nrows;
	return 0;
}

int sk_writer_handle_line(struct sk_writer *w, const char *line, size_t len, sk_err *e)
{
	json_object *v;
	uint64_t nrows = 1;
	sk_err why;
	size_t i;
	int rc = 0;

	w->st->lines++;
	/* jq's habit: blank lines between the texts of a stream are no row.
	 * Fast-path lines never come here, so they never pay for the look. */
	if (sk_json_blank(line, len))
		return 0;
	v = sk_json_parse(w->parser, line, len, &why);
	w->line = line;
	w->len = len;
	w->value = v;
	if (v == NULL) {
		if (why.code == 0)      /* the literal null */
			sk_err_set(&why, EX_DATAERR, "expected a JSON object (a row), an array of objects (a batch) "
			           "or an array of values (a tuple), got null");
		if (why.code != EX_DATAERR)
			return sk_err_set(e, why.code, "%s", why.msg);
		return sk_writer_bad_line(w, line, len, 1, &why, e);
	}
	if (sk_writer_line_rows(w, v, &nrows, &why) < 0) {
		json_object_put(v);
		if (why.code != EX_DATAERR) {
			sk_writer_drop_line(w);
			return sk_err_set(e, why.code, "%s", why.msg);
		}
		return sk_writer_bad_line(w, line, len, nrows, &why, e);
	}
	json_object_put(v);
	if (w->as_text && (rc = sk_sink_write_json(w->k, w->text.p, w->text.len, &why)) == 0) {
		w->staged++;
		w->st->rows++;
	}
	for (i = 0; i < w->nout && rc == 0; i++) {
		if ((rc = sk_sink_write_cursor(w->k, w->out[i], w->out_cursor[i], &why)) == 0) {
			w->staged++;
			w->st->rows++;
		}
	}
	/* A sink that refuses a row (EX_DATAERR: a Kafka expression fails on
	 * it) makes the line bad; the rows of it written before stay. */
	if (rc < 0 && why.code == EX_DATAERR && sk_sink_rejects_rows(w->k))
		return sk_writer_bad_line(w, line, len, nrows, &why, e);
	if (rc < 0) {
		sk_writer_drop_line(w);
		*e = why;
		return -1;
	}
	for (i = 0; i < w->ncur && rc == 0; i++) {
		json_object *c = w->cursors[i];
		rc = sk_cursorset_add(w->cs, json_object_get_string(c), (size_t)json_object_get_string_len(c), e);
	}
	sk_writer_drop_line(w);
	w->handled += nrows;
	return rc;
}

static int oversize_line(struct sk_writer *w, sk_err *e)
{
	sk_err why;
	size_t max = w->o->max_line ? w->o->max_line : SK_LINES_DEFAULT_MAX;

	sk_err_set(&why, EX_DATAERR, "line longer than %zu bytes (--max-line)%s", max,
	           w->o->on_error.action == SK_ON_ERROR_DEAD_LETTER ? ", too long to dead-letter: skipped" : "");
	return sk_writer_bad_line(w, NULL, 0, 1, &why, e);
}

static int handle_item(struct sk_writer *w, const struct sk_batch *b, const struct sk_item *it, sk_err *e)
{
	w->lineno = it->lineno;
	switch (it->kind) {
	case SK_ITEM_PARSED:
		return sk_writer_parsed_line(w, b, it, e);
	case SK_ITEM_ROW_TEXT:
		return sk_writer_row_text(w, b, it, e);
	case SK_ITEM_LINE:
		return sk_writer_handle_line(w, b->bytes.p + it->text, it->len, e);
	case SK_ITEM_OVERSIZE:
		w->st->lines++;
		return oversize_line(w, e);
	}
	return sk_err_set(e, EX_SOFTWARE, "unknown item kind %d", (int)it->kind);
}

static int run(struct sk_writer *w, sk_err *e)
{
	const sk_writer_opts *o = w->o;
	struct sk_batch *b = NULL;
	int rc;

	schedule_checkpoint(w);
	for (;;) {
		if (o->stop && *o->stop)
			break;
		/* The head batch is the main thread's until it releases it: the
		 * lock is taken once a batch, not once a line. */
		if (b == NULL && (b = sk_readahead_full_batch(w->r)) == NULL) {
			/* Nothing ready: let what is buffered out, then wait. */
			if ((rc = sk_sink_flush(w->k, e)) != 0)
				return rc;
			if (sk_readahead_wait(w, e) < 0)
				return -1;
			if (sk_now_ms() >= w->deadline && (rc = checkpoint(w, e)) != 0)
				return rc;
			continue;
		}
		if (b->next == b->n) {
			if (b->final == SK_FINAL_END)
				break;
			if (b->final == SK_FINAL_FAILED)
				return sk_err_set(e, b->err.code, "%s: %s", o->input, b->err.msg);
			sk_readahead_release_batch(w->r);
			b = NULL;
			continue;
		}
		if ((rc = handle_item(w, b, &b->items[b->next++], e)) != 0)
			return rc;
		/* A row takes a microsecond or so: the clock is read every
		 * CLOCK_EVERY of them, not for each. */
		if ((o->checkpoint_rows && w->handled >= o->checkpoint_rows) ||
		    (++w->ticks % CLOCK_EVERY == 0 && sk_now_ms() >= w->deadline))
			if ((rc = checkpoint(w, e)) != 0)
				return rc;
	}
	return last_checkpoint(w, e);
}

int sk_writer_run(sk_sink *k, int fd, const sk_writer_opts *o, sk_writer_stats *st, sk_err *e)
{
	struct sk_writer w = { .k = k, .o = o, .st = st };
	sk_err ignored;
	int rc = -1;

	memset(st, 0, sizeof *st);
	w.parser = sk_json_new();
	w.cs = sk_cursorset_new();
	if (w.parser == NULL || w.cs == NULL) {
		sk_err_oom(e);
		goto out;
	}
	sk_json_exact_integers(w.parser);
	if (o->on_error.action == SK_ON_ERROR_DEAD_LETTER &&
	    sk_dead_letter_open(&w.dl, o->on_error.dead_letter, e) < 0)
		goto out;
	if ((w.r = sk_readahead_start(&w, fd, e)) == NULL)
		goto out;
	rc = run(&w, e);
out:
	sk_readahead_free(w.r);
	sk_writer_drop_line(&w);
	free(w.out);
	free(w.out_cursor);
	free(w.cursors);
	sk_buf_free(&w.text);
	sk_dead_letter_close(&w.dl, &ignored);
	sk_cursorset_free(w.cs);
	sk_json_free(w.parser);
	return rc;
}
