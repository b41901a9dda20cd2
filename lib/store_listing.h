/* store_listing.h - what the state store's listings print (stream-checkpoint
 * show, list, history and lag): each is a declaration of its columns
 * (listing.h) and a walk of the store. */
#ifndef SK_STORE_LISTING_H
#define SK_STORE_LISTING_H

#include "err.h"
#include "lag.h"
#include "listing.h"
#include "output.h"
#include "state.h"

enum sk_store_listing {
	SK_LIST_POSITIONS,    /* show: the committed positions of a name (and what its
	                         supervisor does), or of every name */
	SK_LIST_NAMES,        /* list: names, their number of positions, last checkpoint */
	SK_LIST_HISTORY,      /* history: the newest checkpoints of a name, newest first */
	SK_LIST_LAG,          /* lag: how far each partition of a name is behind its source */
};

typedef struct sk_store_listing_opts {
	const char *name;            /* NULL: every name (positions) */
	int limit;                   /* history: how many */
	const sk_lag_opts *lag;
	sk_lag_failed_cb failed;     /* lag: a source whose end could not be asked */
	void *failed_arg;
} sk_store_listing_opts;

/* Write the listing which of st to out, as a table or JSON lines; *rows
 * says how many rows it had. 0, SK_EOF when out was closed (EPIPE), or -1
 * with e. A warning about a row (a file shorter than its position) goes to
 * stderr. */
int sk_store_listing(sk_state *st, enum sk_store_listing which, const sk_store_listing_opts *o,
                     int json, sk_output *out, int64_t *rows, sk_err *e);

#endif
