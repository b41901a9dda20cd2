/* on_error.h - the one bad-input policy of every program
 * (--on-error=fail|skip|dead-letter:PATH), its parser, and the dead-letter
 * file the third form appends to.
 *
 * A dead-letter record is a line of its own. It must be on disk before
 * anything that covers its message's cursor is committed (stream-write,
 * before the checkpoint that holds the line) or emitted (stream-read,
 * before the next message, whose cursor covers the bad one): the callers
 * call sk_dead_letter_sync at that point. */
#ifndef SK_ON_ERROR_H
#define SK_ON_ERROR_H

#include <stddef.h>
#include "err.h"
#include "output.h"

enum sk_on_error_action {
	SK_ON_ERROR_FAIL,          /* what came before is delivered, then stop (EX_DATAERR) */
	SK_ON_ERROR_SKIP,          /* count it, warn, go on */
	SK_ON_ERROR_DEAD_LETTER,   /* append a record of it to a file, count it, go on */
};

/* The actions a program takes, for sk_on_error_parse. */
#define SK_ON_ERROR_TAKES(a) (1u << (a))
#define SK_ON_ERROR_TAKES_ALL \
	(SK_ON_ERROR_TAKES(SK_ON_ERROR_FAIL) | SK_ON_ERROR_TAKES(SK_ON_ERROR_SKIP) | \
	 SK_ON_ERROR_TAKES(SK_ON_ERROR_DEAD_LETTER))

typedef struct sk_on_error {
	enum sk_on_error_action action;
	const char *dead_letter;   /* SK_ON_ERROR_DEAD_LETTER: PATH, within the argument */
} sk_on_error;

/* Parse an --on-error argument into *out. takes: the SK_ON_ERROR_TAKES
 * bits of the actions the program accepts; any other argument is -1 with
 * EX_USAGE and "invalid --on-error 'ARG' (expected ...)" naming those. */
int sk_on_error_parse(const char *arg, unsigned takes, sk_on_error *out, sk_err *e);

/* The dead-letter file: appended to, each record written as it comes (so
 * that a crash loses none that was handed over), fsynced by sync. */
typedef struct sk_dead_letter {
	sk_output out;
	int dirty;                 /* written since the last sync */
} sk_dead_letter;

/* Open (create) path for appending; path is kept, not copied. */
int sk_dead_letter_open(sk_dead_letter *d, const char *path, sk_err *e);
/* Append one record of n bytes and its newline. */
int sk_dead_letter_add(sk_dead_letter *d, const char *rec, size_t n, sk_err *e);
/* Make the records added so far durable: nothing to do when none was. */
int sk_dead_letter_sync(sk_dead_letter *d, sk_err *e);
/* Sync and close; 0 or -1 (EX_IOERR). One zeroed and never opened, or
 * whose open failed, is closed at once (0). */
int sk_dead_letter_close(sk_dead_letter *d, sk_err *e);

#endif
