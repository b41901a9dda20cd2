/* sink_epochs.h - cursors committed once the output they cover is
 * confirmed, for sinks that confirm it in the background (Kafka, SQS).
 *
 * The messages sent between two checkpoints make an epoch, which a
 * checkpoint closes with its cursors and row count; a closed epoch is
 * committed once every message of it, and of every epoch before it, is
 * confirmed. Epochs are numbered from 0: a message carries the number of
 * the epoch it was sent in, so that its confirmation finds it. */
#ifndef SK_SINK_EPOCHS_H
#define SK_SINK_EPOCHS_H

#include <stdint.h>

#include "cursor.h"
#include "err.h"
#include "sink.h"

typedef struct sk_epoch {
	uint64_t unconfirmed;       /* messages sent and not yet confirmed */
	sk_cursorset *cs;           /* once closed: its cursors, or NULL */
	int64_t rows;
} sk_epoch;

typedef struct sk_epochs {
	sk_epoch *ep;               /* ep[0] is epoch number first, ep[nep - 1] the open one */
	size_t nep, cap;
	uint64_t first;
} sk_epochs;

/* A new open epoch (the first one at open). */
int sk_epochs_open(sk_epochs *x, sk_err *e);
/* The number of the open epoch. */
uint64_t sk_epochs_current(const sk_epochs *x);
/* n more messages sent in the open epoch. */
void sk_epochs_sent(sk_epochs *x, uint64_t n);
/* A message of epoch number epoch is confirmed. */
void sk_epochs_confirmed(sk_epochs *x, uint64_t epoch);
/* Messages sent and not confirmed, in every epoch. */
uint64_t sk_epochs_unconfirmed(const sk_epochs *x);
/* Close the open epoch with cs (may be NULL; copied) and rows, and open
 * the next. */
int sk_epochs_close(sk_epochs *x, const sk_cursorset *cs, int64_t rows, sk_err *e);
/* Commit the closed epochs whose messages, and every earlier one's, are
 * confirmed, under k's name in its state store (when it has one): in
 * one transaction, their cursors merged (the later win). */
int sk_epochs_commit(sk_epochs *x, sk_sink *k, sk_err *e);
void sk_epochs_free(sk_epochs *x);

#endif
