/* test-sqs-hold.c - when an SQS source renews a held message's visibility:
 * half its visibility before it ends, for the queue's visibility, less as
 * the 12 hours SQS allows from its receipt near, and not at all once they
 * are up (the message is given up; it will come again). */
#include "source_sqs_impl.h"
#include "tap.h"

#define S 1000LL
#define HOURS_12 (43200 * S)

int main(void)
{
	int renew = -1;
	int64_t due = -1;
	const int64_t got = 5000;     /* received at, monotonic ms */

	/* A queue of 30 s: just received, invisible until got + 30 s. */
	is_int(sk_sqs_renewal(got, got + 30 * S, 30, got, &renew, &due), 0, "just received: nothing due");
	is_int(due, got + 15 * S, "... its renewal due half its visibility before it ends");
	is_int(sk_sqs_renewal(got, got + 30 * S, 30, got + 15 * S - 1, &renew, &due), 0, "... not a millisecond before");
	renew = -1;
	is_int(sk_sqs_renewal(got, got + 30 * S, 30, got + 15 * S, &renew, &due), 1, "then renewed");
	is_int(renew, 30, "... for the queue's visibility");
	renew = -1;
	is_int(sk_sqs_renewal(got, got + 30 * S, 30, got + 29 * S, &renew, &due), 1, "late (a backoff): still renewed");
	is_int(renew, 30, "... for the whole visibility");

	/* Held for hours: renewed for less as the 12 hours near. */
	is_int(sk_sqs_renewal(got, got + HOURS_12 - 40 * S, 30, got + HOURS_12 - 60 * S, &renew, &due), 0,
	       "11 h 59 min in, invisible until 40 s before 12 h: nothing due yet");
	is_int(due, got + HOURS_12 - 55 * S, "... due 55 s before 12 h");
	renew = -1;
	is_int(sk_sqs_renewal(got, got + HOURS_12 - 10 * S, 30, got + HOURS_12 - 20 * S, &renew, &due), 1,
	       "20 s before 12 h: renewed");
	is_int(renew, 20, "... only to the 12 hours, not past them");
	renew = -1;
	is_int(sk_sqs_renewal(got, got + HOURS_12 - 1 * S, 30, got + HOURS_12 - 2001, &renew, &due), 1,
	       "2.001 s before 12 h: renewed");
	is_int(renew, 2, "... for 2 s");
	is_int(sk_sqs_renewal(got, got + HOURS_12, 30, got + HOURS_12 - 1999, &renew, &due), -1,
	       "1.999 s before 12 h: given up");
	is_int(sk_sqs_renewal(got, got + HOURS_12, 30, got + HOURS_12 + 60 * S, &renew, &due), -1,
	       "past 12 h: given up");

	/* A visibility longer than what is left of the 12 hours. */
	renew = -1;
	is_int(sk_sqs_renewal(got, got + 3600 * S, 43200, got + 3600 * S, &renew, &due), 1,
	       "a queue of 12 h: renewed when due");
	is_int(renew, 39600, "... for the 11 hours left");
	return tap_done();
}
