/* sink_epochs.c - the cursors of rows committed once their messages are
 * confirmed, epoch by epoch (sink_epochs.h): what the Kafka and SQS sinks
 * share of "at least once". */
#include <stdlib.h>
#include <string.h>

#include "sink_epochs.h"
#include "sink_impl.h"
#include "state.h"

int sk_epochs_open(sk_epochs *x, sk_err *e)
{
	if (x->nep == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 8;
		sk_epoch *v = realloc(x->ep, cap * sizeof *v);

		if (v == NULL)
			return sk_err_oom(e);
		x->ep = v;
		x->cap = cap;
	}
	memset(&x->ep[x->nep++], 0, sizeof *x->ep);
	return 0;
}

uint64_t sk_epochs_current(const sk_epochs *x)
{
	return x->first + x->nep - 1;
}

void sk_epochs_sent(sk_epochs *x, uint64_t n)
{
	x->ep[x->nep - 1].unconfirmed += n;
}

void sk_epochs_confirmed(sk_epochs *x, uint64_t epoch)
{
	if (epoch >= x->first && epoch - x->first < x->nep)
		x->ep[epoch - x->first].unconfirmed--;
}

uint64_t sk_epochs_unconfirmed(const sk_epochs *x)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < x->nep; i++)
		n += x->ep[i].unconfirmed;
	return n;
}

int sk_epochs_close(sk_epochs *x, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	sk_epoch *open = &x->ep[x->nep - 1];

	if (cs && sk_cursorset_count(cs) > 0 &&
	    ((open->cs = sk_cursorset_new()) == NULL || sk_cursorset_merge(open->cs, cs, e) < 0))
		return open->cs ? -1 : sk_err_oom(e);
	open->rows = rows;
	return sk_epochs_open(x, e);
}

int sk_epochs_commit(sk_epochs *x, sk_sink *k, sk_err *e)
{
	sk_cursorset *cs = NULL;
	int64_t rows = 0;
	size_t n = 0, i;
	int rc = 0;

	while (n + 1 < x->nep && x->ep[n].unconfirmed == 0)
		n++;
	if (n == 0)
		return 0;
	for (i = 0; i < n && rc == 0; i++) {
		rows += x->ep[i].rows;
		if (x->ep[i].cs == NULL)
			continue;
		if (cs == NULL)
			cs = x->ep[i].cs;
		else
			rc = sk_cursorset_merge(cs, x->ep[i].cs, e);
	}
	if (rc == 0 && k->state && (rows > 0 || (cs && sk_cursorset_count(cs) > 0)))
		rc = sk_state_checkpoint(k->state, k->name, cs, rows, e);
	if (rc < 0)
		return -1;
	for (i = 0; i < n; i++)
		sk_cursorset_free(x->ep[i].cs);
	memmove(x->ep, x->ep + n, (x->nep - n) * sizeof *x->ep);
	x->nep -= n;
	x->first += n;
	return 0;
}

void sk_epochs_free(sk_epochs *x)
{
	size_t i;

	for (i = 0; i < x->nep; i++)
		sk_cursorset_free(x->ep[i].cs);
	free(x->ep);
	memset(x, 0, sizeof *x);
}
