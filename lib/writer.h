/* writer.h - stream-write's pipeline: NDJSON lines in, rows into a sink,
 * checkpoints by count, by time, at end of input and when asked to stop.
 *
 * A line holding an object is one row (write_row_dict); an array of
 * objects is a batch of rows (write_dataframe); any other array is a
 * tuple matched to the schema by position (write_tuple). A row's
 * "_cursor" is taken out and committed with the checkpoint that holds it.
 * A line is the unit of rejection: when one row of a batch does not fit,
 * the whole line is bad. A blank line (white space alone) is skipped, as
 * jq skips it between JSON texts. */
#ifndef SK_WRITER_H
#define SK_WRITER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "on_error.h"
#include "program.h"
#include "sink.h"

typedef struct sk_writer_opts {
	/* A bad line: fail (checkpoint what came before, then stop with
	 * EX_DATAERR), skip it (counted), or append it to the dead-letter
	 * file as it came (counted); either way its cursors commit. */
	sk_on_error on_error;
	uint64_t checkpoint_rows;  /* checkpoint after this many rows; 0: never by count */
	int64_t checkpoint_ms;     /* ... and this long after the last; 0: never by time */
	size_t max_line;           /* 0: SK_LINES_DEFAULT_MAX */
	const char *input;         /* the input's name in messages: "<stdin>" */
	/* Called for each bad line that is skipped or dead-lettered, with
	 * "INPUT:LINE: what was expected". May be NULL. */
	void (*on_bad)(void *arg, const char *msg);
	void *arg;
	/* Set (by a signal handler) to stop: the line being handled is
	 * finished, a checkpoint taken, and sk_writer_run returns 0. */
	volatile sig_atomic_t *stop;
	/* The read end of a pipe the same handler writes a byte to, so that
	 * a wait for input ends at once; -1 when there is none. */
	int wake_fd;
	/* stream-write --map: a jq program run over each row (an object
	 * line, each object of a batch, a tuple) before the sink. Its
	 * results, which must be objects, are the rows written, each with
	 * the row's _cursor; that cursor is committed even when there is no
	 * result. NULL: none. */
	sk_program *map;
} sk_writer_opts;

typedef struct sk_writer_stats {
	uint64_t lines;            /* lines read, blank ones included */
	uint64_t rows;             /* rows written to the sink */
	uint64_t skipped;          /* bad rows skipped (an unparsable line counts one) */
	uint64_t dead_lettered;    /* bad rows whose line went to the dead-letter file */
	uint64_t checkpoints;      /* checkpoints that committed something */
} sk_writer_stats;

/* Read lines from fd until end of input or *stop. Returns 0 when done,
 * SK_EOF when the sink's reader went away (a clean stop, the rows since
 * the last checkpoint uncommitted), -1 on error: EX_DATAERR with
 * "INPUT:LINE: ..." for a bad line under SK_ON_ERROR_FAIL, after the rows
 * before it were checkpointed. */
int sk_writer_run(sk_sink *k, int fd, const sk_writer_opts *o, sk_writer_stats *st, sk_err *e);

#endif
