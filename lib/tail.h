/* tail.h - the last lines of a child's stderr, kept as they are written
 * (in any pieces) so that the attempts' history can say what went wrong. */
#ifndef SK_TAIL_H
#define SK_TAIL_H

#include <stddef.h>
#include "util.h"

#define SK_TAIL_LINES 10
#define SK_TAIL_LINE_MAX 512     /* longer lines are cut, with "..." */

typedef struct sk_tail {
	char *lines[SK_TAIL_LINES];     /* a ring of the complete lines */
	unsigned n, head;
	sk_buf partial;                 /* the line being written */
	int cut;                        /* it was longer than SK_TAIL_LINE_MAX */
	int nomem;
} sk_tail;

/* Bytes as they come, in any pieces. -1 on ENOMEM. */
int sk_tail_feed(sk_tail *t, const char *p, size_t n);
/* The last lines, '\n' between them, the unfinished one last; NULL when
 * there are none or on ENOMEM (*nomem set). malloc'd. */
char *sk_tail_text(const sk_tail *t, int *nomem);
void sk_tail_reset(sk_tail *t);
/* How many bytes of p make complete lines (up to the last '\n'). */
size_t sk_complete_lines(const char *p, size_t n);

#endif
