/* lag.c - a recipe's lag, asked of the kind of each of its sources (see
 * lag.h). It names no kind: source.c's position kinds answer. */
#include <stdlib.h>
#include <string.h>

#include "lag.h"
#include "source.h"

struct walk {
	sk_lag_query q;
	sk_lag_failed_cb failed;
	char *whole;      /* the source a kind listed whole last: its other positions are out */
	int nomem;
};

static int lag_one(void *arg, const char *name, const char *source, const char *partition,
                   const char *position, int64_t updated_ms)
{
	struct walk *w = arg;
	sk_err e = { 0 };
	int rc, whole = 0;

	(void)name, (void)updated_ms;
	if (w->whole && strcmp(w->whole, source) == 0)
		return 0;
	rc = sk_position_lag(&w->q, source, partition, position, &whole, &e);
	if (whole) {
		free(w->whole);
		if ((w->whole = strdup(source)) == NULL)
			return w->nomem = 1;
	}
	if (rc < 0) {
		w->failed(w->q.arg, &e);
		return 0;
	}
	return rc;
}

const sk_option_group *sk_lag_options(size_t *n)
{
	return sk_position_lag_options(n);
}

int sk_lag(sk_state *st, const char *name, const sk_lag_opts *o, sk_lag_cb cb,
           sk_lag_failed_cb failed, void *arg, sk_err *e)
{
	struct walk w = { .q = { .st = st, .name = name, .o = o, .cb = cb, .arg = arg }, .failed = failed };
	int rc;

	rc = sk_state_each_position(st, name, lag_one, &w, e);
	free(w.whole);
	return w.nomem ? sk_err_oom(e) : rc;
}
