/* stall.c - the stall watchdog. */
#include "stall.h"

void sk_stall_reset(sk_stall *s)
{
	s->checkpoint_ms = -1;
	s->pending_since = -1;
}

int sk_stall_check(sk_stall *s, int64_t now, int64_t started_ms, int64_t read_ms,
                   int64_t checkpoint_ms)
{
	int pending = read_ms > checkpoint_ms && read_ms >= started_ms;

	if (!pending || checkpoint_ms != s->checkpoint_ms) {
		s->checkpoint_ms = checkpoint_ms;
		s->pending_since = pending ? now : -1;
		return 0;
	}
	if (s->pending_since < 0)
		s->pending_since = now;
	return now - s->pending_since >= s->timeout_ms;
}

