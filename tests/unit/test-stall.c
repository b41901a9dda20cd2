/* test-stall.c - the stall watchdog (lib/stall.c): when messages read and
 * not covered by a checkpoint make a stall, without timing anything. */
#include "tap.h"
#include "stall.h"

static void test_stall(void)
{
	sk_stall s = { .timeout_ms = 5000 };
	int64_t start = 1000000;      /* the attempt's start, wall clock */

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, 0, 0), "nothing read: no stall");
	ok(!sk_stall_check(&s, 100000, start, 0, 0), "ever");
	ok(!sk_stall_check(&s, 0, start, start - 10, 0), "reads of an earlier attempt do not count");
	ok(!sk_stall_check(&s, 100000, start, start - 10, 0), "however long ago");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 10, start + 20), "read then checkpointed: nothing pending");
	ok(!sk_stall_check(&s, 100000, start, start + 10, start + 20), "a quiet source is not a stall");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, start + 20), "read after the checkpoint: pending");
	ok(!sk_stall_check(&s, 4999, start, start + 40, start + 20), "not yet stalled before the timeout");
	ok(sk_stall_check(&s, 5000, start, start + 40, start + 20), "stalled once pending for the timeout");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, start + 20), "pending");
	ok(!sk_stall_check(&s, 4000, start, start + 4030, start + 4000), "the checkpoint moves");
	ok(!sk_stall_check(&s, 8000, start, start + 8030, start + 8000), "and moves again");
	ok(!sk_stall_check(&s, 12000, start, start + 12030, start + 8000), "it stops moving");
	ok(!sk_stall_check(&s, 12999, start, start + 12999, start + 8000), "not stalled yet");
	ok(sk_stall_check(&s, 13000, start, start + 13030, start + 8000), "stalled 5s after it last moved");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, 0), "a name never checkpointed, read: pending");
	ok(sk_stall_check(&s, 5000, start, start + 30, 0), "stalled after the timeout");

	sk_stall_reset(&s);
	ok(!sk_stall_check(&s, 0, start, start + 30, start + 20), "pending");
	ok(!sk_stall_check(&s, 3000, start, start + 30, start + 40), "covered");
	ok(!sk_stall_check(&s, 100000, start, start + 30, start + 40), "then quiet: never stalled");
}

int main(void)
{
	test_stall();
	return tap_done();
}
