/* stop.h - a clean stop asked by SIGTERM or SIGINT, for the programs whose
 * loops in lib/ watch for one (reader, writer, commit). */
#ifndef SK_STOP_H
#define SK_STOP_H

#include <signal.h>
#include "err.h"

/* Catch SIGTERM and SIGINT without SA_RESTART, so that a wait returns at
 * once, and ignore SIGPIPE: a closed output is EPIPE, a clean stop.
 * Returns the flag the loops watch: how many stop signals came, counted
 * up to 2 (a second one ends the last waits at once); NULL with e set
 * when the wake-up pipe cannot be made. */
volatile sig_atomic_t *sk_stop_catch(sk_err *e);
/* The read end of a pipe that becomes readable at each stop signal, for a
 * loop that waits in poll(); -1 before sk_stop_catch. */
int sk_stop_wake_fd(void);
/* The last stop signal caught, 0 if none: for messages. */
int sk_stop_signal(void);

#endif
