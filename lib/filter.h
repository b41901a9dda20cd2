/* filter.h - stream-read --filter: a jq program over each message, on a
 * thread of its own, so that the next messages are read while the program
 * runs, as they would be with `| jq -c` in a pipeline. Messages come back
 * in the order they went in, with their results or the error the program
 * failed with; everything else (output, --on-error) stays with the caller,
 * on its own thread. */
#ifndef SK_FILTER_H
#define SK_FILTER_H

#include <stddef.h>
#include "err.h"
#include "program.h"
#include "source.h"

typedef struct sk_filter sk_filter;

/* What became of one message. */
typedef struct sk_filtered {
	const sk_msg *msg;          /* the message as it was read (env, cursor) */
	const char *out;            /* its results: one line each, '\n' after each */
	size_t out_len;
	const sk_err *error;        /* or why the program failed on it (no results then) */
} sk_filtered;

/* Called on the caller's thread for each message, in order. A nonzero
 * return stops the filter: every later call of it returns -1 with e. */
typedef int (*sk_filtered_cb)(void *arg, const sk_filtered *f, sk_err *e);

/* Compile program (with args, NULL: none) and start a filter running it.
 * NULL on failure, with the compile error (EX_USAGE, jq's message). The
 * results are written as sk_result_add_envelope writes them. With threaded
 * 0, or when no thread can be started, the program runs within
 * sk_filter_push and sk_filter_drain, on the caller's thread. */
sk_filter *sk_filter_new(const char *program, const sk_program_args *args, int threaded,
                         sk_filtered_cb cb, void *arg, sk_err *e);
/* Hand over a copy of m; earlier messages may be delivered meanwhile. */
int sk_filter_push(sk_filter *f, const sk_msg *m, sk_err *e);
/* Deliver every message handed over so far, waiting for the program. */
int sk_filter_drain(sk_filter *f, sk_err *e);
/* Stop the thread; messages not delivered yet are dropped. */
void sk_filter_free(sk_filter *f);
/* For tests: the caller's thread builds the values of steps of every 64
 * messages (0 to 64), whichever thread is the slower; -1: as their pace
 * says again. */
void sk_filter_fix_share(sk_filter *f, int steps);

#endif
