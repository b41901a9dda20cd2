/* restart.c - the restart policy, the delays between restarts and giving
 * up after too many failures. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "restart.h"
#include "util.h"

/* --- the restart policy --- */

void sk_policy_init(sk_policy *p)
{
	memset(p, 0, sizeof *p);
	p->restart = SK_RESTART_ON_FAILURE;
	p->delay_ms = 1000;
	p->delay_factor = 2;
	p->delay_max_ms = 60000;
	p->healthy_after_ms = 60000;
}

int sk_policy_parse_restart(sk_policy *p, const char *s, sk_err *e)
{
	if (strcmp(s, "no") == 0)
		p->restart = SK_RESTART_NO;
	else if (strcmp(s, "on-failure") == 0)
		p->restart = SK_RESTART_ON_FAILURE;
	else if (strcmp(s, "always") == 0)
		p->restart = SK_RESTART_ALWAYS;
	else
		return sk_err_set(e, EX_USAGE, "invalid restart policy '%s' (expected no, on-failure or always)",
		                  s);
	return 0;
}

/* One item of a --restart-on list: an exit code or a signal. */
static int set_rule(sk_policy *p, const char *item, signed char rule, sk_err *e)
{
	signed char *slot;
	uint64_t code;
	int sig;

	if (sk_parse_count(item, &code, NULL) == 0) {
		if (code > 255)
			return sk_err_set(e, EX_USAGE, "invalid exit code '%s' (expected 0-255)", item);
		slot = &p->code_rule[code];
	} else if (isdigit((unsigned char)*item)) {
		return sk_err_set(e, EX_USAGE, "invalid exit code '%s' (expected 0-255)", item);
	} else {
		if (sk_signal_parse(item, &sig, e) < 0)
			return -1;
		slot = &p->signal_rule[sig];
	}
	if (*slot == -rule)
		return sk_err_set(e, EX_USAGE, "'%s' is in both --restart-on and --no-restart-on", item);
	*slot = rule;
	return 0;
}

int sk_policy_parse_codes(sk_policy *p, const char *list, int restart, sk_err *e)
{
	char *copy = strdup(list), *item, *save = NULL;
	int rc = 0;

	if (copy == NULL)
		return sk_err_oom(e);
	if (*list == '\0')
		rc = sk_err_set(e, EX_USAGE, "an empty list of exit codes");
	for (item = strtok_r(copy, ",", &save); rc == 0 && item; item = strtok_r(NULL, ",", &save))
		rc = set_rule(p, item, restart ? 1 : -1, e);
	free(copy);
	return rc;
}

/* Exit codes that a restart cannot fix: usage, bad data, configuration
 * (sysexits), and the shell's cannot-execute and not-found. */
static int permanent_code(int code)
{
	return code == EX_USAGE || code == EX_DATAERR || code == EX_CONFIG || code == 126 || code == 127;
}

int sk_policy_restarts(const sk_policy *p, const sk_exit *x)
{
	int rule = 0;

	if (x->signal > 0 && x->signal <= SK_SIGNAL_MAX)
		rule = p->signal_rule[x->signal];
	else if (!x->signal && x->code >= 0 && x->code <= 255)
		rule = p->code_rule[x->code];
	if (rule)
		return rule > 0;
	switch (p->restart) {
	case SK_RESTART_NO:
		return 0;
	case SK_RESTART_ALWAYS:
		return 1;
	case SK_RESTART_ON_FAILURE:
		break;
	}
	if (x->stalled || x->requested || x->signal)
		return 1;
	return x->code != 0 && !x->exec_errno && !permanent_code(x->code);
}

/* --- restarts: delays and giving up --- */

int sk_restarts_init(sk_restarts *r, const sk_policy *p, sk_err *e)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->next_delay_ms = p->delay_ms;
	if (p->max_failures && p->window_ms > 0) {
		r->ends = calloc(p->max_failures, sizeof *r->ends);
		if (r->ends == NULL)
			return sk_err_oom(e);
	}
	return 0;
}

void sk_restarts_free(sk_restarts *r)
{
	free(r->ends);
	r->ends = NULL;
}

static int64_t grow_delay(const sk_policy *p, int64_t d)
{
	double next = (double)d * p->delay_factor + (double)p->delay_step_ms;

	return next >= (double)p->delay_max_ms ? p->delay_max_ms : (int64_t)next;
}

/* Remember a failure that ended at t; the number in the window ending at t. */
static unsigned failures_in_window(sk_restarts *r, int64_t t)
{
	unsigned i, n = 0, cap = r->p->max_failures;

	r->ends[r->head] = t;
	r->head = (r->head + 1) % cap;
	if (r->nends < cap)
		r->nends++;
	for (i = 0; i < r->nends; i++)
		if (t - r->ends[i] < r->p->window_ms)
			n++;
	return n;
}

sk_decision sk_restarts_decide(sk_restarts *r, const sk_exit *x, int64_t started_ms,
                               int64_t ended_ms)
{
	const sk_policy *p = r->p;
	int failed = sk_exit_is_failure(x);
	sk_decision d = { .verdict = SK_VERDICT_EXIT };

	if (!failed || (p->healthy_after_ms > 0 && ended_ms - started_ms >= p->healthy_after_ms)) {
		r->next_delay_ms = p->delay_ms;
		r->in_a_row = 0;
	}
	if (failed) {
		r->in_a_row++;
		d.failures = r->ends ? failures_in_window(r, ended_ms) : r->in_a_row;
	}
	if (!sk_policy_restarts(p, x))
		return d;
	if (failed && p->max_failures && d.failures >= p->max_failures) {
		d.verdict = SK_VERDICT_GIVE_UP;
		return d;
	}
	d.verdict = SK_VERDICT_RESTART;
	if (x->requested) {
		d.delay_ms = 0;
	} else if (failed) {
		d.delay_ms = r->next_delay_ms;
		r->next_delay_ms = grow_delay(p, r->next_delay_ms);
	} else {
		d.delay_ms = p->delay_ms;
	}
	return d;
}

