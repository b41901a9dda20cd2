/* commit.h - a pass-through filter that commits the cursors of the lines
 * it has written out (stream-checkpoint commit). */
#ifndef SK_COMMIT_H
#define SK_COMMIT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "on_error.h"
#include "state.h"

typedef struct sk_commit_opts {
	const char *name;              /* recipe name the cursors are committed under */
	sk_state *state;
	uint64_t checkpoint_rows;      /* commit after this many lines */
	int64_t checkpoint_ms;         /* ... and this long after the last commit */
	sk_on_error on_error;          /* fail, or skip: pass bad lines through (counted) */
	size_t max_line;
	const char *input, *output;    /* names in messages: "stdin", "stdout" */
	void (*on_bad)(void *arg, const char *msg);   /* each bad line passed on; may be NULL */
	/* After each checkpoint: the cursors it committed and how many lines
	 * it covers. May be NULL. */
	void (*on_checkpoint)(void *arg, const sk_cursorset *cs, int64_t lines);
	void *arg;                     /* of on_bad and on_checkpoint */
	volatile sig_atomic_t *stop;   /* set by a signal handler: commit and return */
} sk_commit_opts;

typedef struct sk_commit_stats {
	uint64_t lines, skipped, checkpoints;
} sk_commit_stats;

/* Copy lines from in_fd to out_fd until end of input or *stop, committing
 * the `_cursor` of each line once it has been written (and fsynced when
 * out_fd is a regular file). Blank lines (white space alone) are copied
 * and carry no cursor: jq skips them between JSON texts. Returns 0 when done, SK_EOF when out_fd's
 * reader went away (what was written is committed), -1 on error: a bad
 * line ("INPUT:LINE: what", EX_DATAERR, after the lines before it were
 * written and committed), or an I/O or state store error. */
int sk_commit_run(int in_fd, int out_fd, const sk_commit_opts *o, sk_commit_stats *stats, sk_err *e);

#endif
