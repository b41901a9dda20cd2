/* lag.h - how far a recipe is behind its sources, for `stream-checkpoint
 * lag`: the one call the tool makes. What a position's lag is belongs to
 * the kind of its source (a file's size; a Kafka topic's watermarks, asked
 * of its brokers): each kind answers through the position operations of
 * the source interface (source.c), and this module asks each in turn. */
#ifndef SK_LAG_H
#define SK_LAG_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "options.h"
#include "state.h"

typedef struct sk_lag_opts {
	const char *endpoints_file;      /* for endpoints recorded by name; NULL: the default */
	int64_t timeout_ms;              /* bound on asking about one source */
	const sk_kindopts *kind_options; /* the kinds' own (-X, -F): see sk_lag_options */
} sk_lag_opts;

/* One partition of a source: stored, known to the source, or both. */
typedef struct sk_lag_row {
	const char *source;
	const char *partition;
	const char *position;     /* as stored, or NULL: none stored */
	int has_end, has_lag;
	int64_t end;              /* where the source ends now */
	int64_t lag;              /* what a resumed reader has still to read */
	const char *note;         /* a warning about the row, or NULL */
} sk_lag_row;

/* Non-zero stops the listing, and sk_lag returns it. */
typedef int (*sk_lag_cb)(void *arg, const sk_lag_row *row);
/* A source whose end could not be asked: its rows are listed without one,
 * and the listing goes on. */
typedef void (*sk_lag_failed_cb)(void *arg, const sk_err *e);

/* What one kind is asked with (see source_impl.h). */
typedef struct sk_lag_query {
	sk_state *st;
	const char *name;
	const sk_lag_opts *o;
	sk_lag_cb cb;
	void *arg;
} sk_lag_query;

/* The option groups of the kinds' lag (kafka: -X, -F): *n of them. */
const sk_option_group *sk_lag_options(size_t *n);

/* Every partition of every source of name, a row each, in the store's
 * order of sources. 0, the non-zero return of cb, or -1 with e when the
 * store could not be read. */
int sk_lag(sk_state *st, const char *name, const sk_lag_opts *o, sk_lag_cb cb,
           sk_lag_failed_cb failed, void *arg, sk_err *e);

#endif
