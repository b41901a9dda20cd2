/* reader.h - stream-read's loop, the mirror of writer.h: messages from a
 * source out as JSON lines, through --filter when there is one, batched
 * while messages flow and flushed whenever the source has none ready;
 * stops at a count, at the end of the data, after an idle time, on a
 * signal, or when the output's reader goes away (EPIPE, a clean stop);
 * bad messages by --on-error; and at a clean stop the drain, which waits
 * for the downstream checkpoint and acknowledges what it covers. */
#ifndef SK_READER_H
#define SK_READER_H

#include <signal.h>
#include <stdint.h>
#include "err.h"
#include "on_error.h"
#include "program.h"
#include "source.h"
#include "state.h"

typedef struct sk_reader_opts {
	const char *input;          /* the endpoint's name in messages */
	int out_fd;                 /* where the lines go; closed by sk_reader_run */
	const char *out_name;       /* its name in messages: "standard output" */
	int have_count;             /* stop after count messages */
	uint64_t count;
	int exit_at_end;            /* stop once caught up (SK_END) */
	int64_t idle_ms;            /* stop after this long without a message; -1: never */
	sk_on_error on_error;       /* what a bad message becomes */
	const char *filter;         /* --filter: a jq program, or NULL */
	const sk_program_args *args;   /* its --arg and --argjson, or NULL */
	/* With --name: when messages last went out is noted under name, for
	 * stream-run --stall-timeout. NULL: not noted. */
	sk_state *state;
	const char *name;
	/* Set (by a signal handler) to stop: a clean stop. */
	volatile sig_atomic_t *stop;
} sk_reader_opts;

typedef struct sk_reader_stats {
	uint64_t emitted;           /* messages handed to the output or the filter */
	uint64_t skipped;           /* bad messages skipped */
	uint64_t dead_lettered;     /* bad messages written to the dead-letter file */
} sk_reader_stats;

typedef struct sk_reader sk_reader;

/* Compile o->filter and open the dead-letter file. o is kept: input,
 * state and name may be filled in until sk_reader_run. NULL on failure
 * (a compile error is EX_USAGE, "--filter: ..."). */
sk_reader *sk_reader_new(const sk_reader_opts *o, sk_err *e);
/* Write out everything read so far (what the filter holds, then the
 * output): the sk_source_opts flush hook, with the reader as its arg. */
int sk_reader_flush(void *reader, sk_err *e);
/* Read src until a stop, close the output, and at a clean stop drain src.
 * *st says what became of the messages. 0 done
 * (the output's reader going away included), -1 on error: what came
 * before the error has been written out. */
int sk_reader_run(sk_reader *r, sk_source *src, sk_reader_stats *st, sk_err *e);
void sk_reader_free(sk_reader *r);

#endif
