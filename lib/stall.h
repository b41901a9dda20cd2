/* stall.h - stream-run's stall watchdog (--stall-timeout): whether messages
 * a reader delivered have waited too long for a checkpoint to cover them.
 * A pure function over what the state store says, unit-tested without
 * timing anything. */
#ifndef SK_STALL_H
#define SK_STALL_H

#include <stdint.h>

typedef struct sk_stall {
	int64_t timeout_ms;
	int64_t checkpoint_ms;          /* the newest checkpoint seen */
	int64_t pending_since;          /* monotonic: reads not covered since then; -1 none */
} sk_stall;

/* At the start of each attempt. */
void sk_stall_reset(sk_stall *s);
/* One look at the store at monotonic time now: read_ms is when the name's
 * reader last delivered messages, checkpoint_ms its newest checkpoint (wall
 * clock, 0 for none), started_ms when this attempt started (wall clock).
 * Messages read in this attempt and not covered by a checkpoint are
 * pending; 1 once they have been pending, with the checkpoint unchanged,
 * for the timeout. A quiet source has nothing pending: never a stall. */
int sk_stall_check(sk_stall *s, int64_t now, int64_t started_ms, int64_t read_ms,
                   int64_t checkpoint_ms);

#endif
