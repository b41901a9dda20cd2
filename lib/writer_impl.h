/* writer_impl.h - what the parts of stream-write's pipeline share: the
 * writer's state, and the batches of lines the reader thread hands over.
 * Shared by writer.c (the loop: checkpoints, bad lines, dead letters),
 * writer_readahead.c (the reader thread and its ring of batches),
 * writer_text.c (the row-text fast path) and writer_rows.c (rows, tuples,
 * batches and --map). */
#ifndef SK_WRITER_IMPL_H
#define SK_WRITER_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "cursor.h"
#include "json.h"
#include "schema.h"
#include "writer.h"

struct sk_readahead;

struct sk_writer {
	sk_sink *k;
	const sk_writer_opts *o;
	sk_writer_stats *st;
	sk_json *parser;
	struct sk_readahead *r;
	uint64_t lineno;            /* of the line being handled */
	sk_cursorset *cs;           /* cursors to commit at the next checkpoint */
	sk_dead_letter dl;          /* --on-error=dead-letter:PATH */
	uint64_t handled;           /* rows handled (written or rejected) since the checkpoint */
	int64_t staged;             /* rows written since the checkpoint */
	int64_t deadline;           /* of the next checkpoint by time */
	uint64_t ticks;             /* items handled, for reading the clock every CLOCK_EVERY */
	/* The line being handled: its rows, coerced, and their cursors. */
	json_object **out;
	const char **out_cursor;    /* each row's _cursor (held in cursors), or NULL */
	size_t nout, capout;
	json_object **cursors;
	size_t ncur, capcur;
	/* The line itself, parsed, and when it is one row that needs no
	 * change, the text staged for it (see sk_writer_as_written). */
	const char *line;
	size_t len;
	json_object *value;
	sk_buf text;
	int as_text;
};

enum sk_item_kind {
	SK_ITEM_PARSED,             /* an object written as json-c writes it, and its members */
	SK_ITEM_ROW_TEXT,           /* a line that is its row as the sink takes it, but for _cursor (sk_writer_flat_row) */
	SK_ITEM_LINE,               /* a line for the slow path */
	SK_ITEM_OVERSIZE,           /* a line longer than --max-line, skipped */
};

enum sk_batch_final {
	SK_FINAL_NONE,              /* more batches follow */
	SK_FINAL_END,               /* the input ends after this batch */
	SK_FINAL_FAILED,            /* reading failed after this batch: err says why */
};

struct sk_item {
	enum sk_item_kind kind;
	uint64_t lineno;
	size_t text, len;           /* the line, in the batch's bytes */
	size_t members, nmembers;   /* SK_ITEM_PARSED: its members, in the batch's members */
	/* SK_ITEM_ROW_TEXT: the _cursor member, to cut, and its value, in the
	 * batch's bytes; 0 long: none. */
	size_t cut_at, cut_len, cursor, cursor_len;
};

struct sk_batch {
	struct sk_item *items;
	size_t n, cap, next;        /* next: the first item the main thread has not handled */
	sk_buf bytes;
	sk_json_member *members;    /* offsets into each item's line */
	size_t nmembers, capmembers;
	enum sk_batch_final final;
	sk_err err;
};

/* writer.c: the loop. */

/* A line that is not rows, for why: fail, or count it and go on. */
int sk_writer_bad_line(struct sk_writer *w, const char *line, size_t len, uint64_t nrows, const sk_err *why,
                       sk_err *e);
/* The slow path: parse the line with json-c, make its rows, write them. */
int sk_writer_handle_line(struct sk_writer *w, const char *line, size_t len, sk_err *e);

/* writer_rows.c: the rows of a line. */

/* The rows of one parsed line into w->out; *nrows is how many it holds. */
int sk_writer_line_rows(struct sk_writer *w, json_object *v, uint64_t *nrows, sk_err *e);
/* Forget the rows and cursors of the line handled last. */
void sk_writer_drop_line(struct sk_writer *w);

/* writer_text.c: the row-text fast path. */

/* A row that json-c parsed from w->line, with the schema s: 1 when w->text
 * holds what coercing and serialising it would write, 0: take the slow
 * path. */
int sk_writer_as_written(struct sk_writer *w, json_object *row, const sk_schema *s);
/* For a sink without a schema: 1 and *cut when the object line, of
 * members m[0..n) (sk_json_written_object), is its row as json-c would
 * write it, but for _cursor. */
int sk_writer_flat_row(const char *line, const sk_json_member *m, size_t n, int distinct, size_t *cut);
/* An SK_ITEM_PARSED and an SK_ITEM_ROW_TEXT to the sink. */
int sk_writer_parsed_line(struct sk_writer *w, const struct sk_batch *b, const struct sk_item *it, sk_err *e);
int sk_writer_row_text(struct sk_writer *w, const struct sk_batch *b, const struct sk_item *it, sk_err *e);

/* writer_readahead.c: the reader thread. */

struct sk_readahead *sk_readahead_start(struct sk_writer *w, int fd, sk_err *e);
void sk_readahead_free(struct sk_readahead *r);
/* The batch the main thread is to handle next, or NULL when none is full;
 * released when handled. */
struct sk_batch *sk_readahead_full_batch(struct sk_readahead *r);
void sk_readahead_release_batch(struct sk_readahead *r);
/* Wait for the reader until the next checkpoint is due, or a stop. */
int sk_readahead_wait(struct sk_writer *w, sk_err *e);

#endif
