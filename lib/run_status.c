/* run_status.c - the status of a supervised name and the lines of its
 * attempts' history, as text or JSON, and durations as people read them. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "exit.h"
#include "json.h"
#include "listing.h"
#include "process.h"
#include "run_status.h"

/* --- durations for people --- */

void sk_duration_format(int64_t ms, char *buf, size_t size)
{
	long long s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;

	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, size, "%lldms", (long long)ms);
	else if (ms < 10000 && ms % 1000)
		snprintf(buf, size, "%.1fs", (double)ms / 1000);
	else if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (m < 60)
		snprintf(buf, size, s % 60 ? "%lldm%llds" : "%lldm", m, s % 60);
	else if (h < 24)
		snprintf(buf, size, m % 60 ? "%lldh%lldm" : "%lldh", h, m % 60);
	else
		snprintf(buf, size, h % 24 ? "%lldd%lldh" : "%lldd", d, h % 24);
}

/* --- the status of a supervised name --- */

static void ago(int64_t then, int64_t now, char *buf, size_t size)
{
	char d[32];

	if (then <= 0) {
		snprintf(buf, size, "never");
		return;
	}
	sk_duration_format(now - then, d, sizeof d);
	snprintf(buf, size, "%s ago", d);
}

/* The last line of a stderr tail. */
static const char *last_line(const char *tail)
{
	const char *nl = tail ? strrchr(tail, '\n') : NULL;

	return nl ? nl + 1 : tail;
}

/* final: the supervisor ended as it should; alive: it still runs. */
static int format_text(sk_buf *b, const sk_run_info *r, int final, int alive, int64_t now)
{
	const sk_supervisor *s = &r->s;
	const sk_attempt *a = &r->last_error;
	char t1[64], t2[64];
	int rc;

	rc = sk_buf_printf(b, "name:        %s\ndesired:     %s\nstate:       %s%s\n", s->name, s->desired,
	                   s->state, final || alive ? "" : " (its supervisor is gone)");
	if (alive && s->pid > 0)
		rc |= sk_buf_printf(b, "pid:         %lld\n", (long long)s->pid);
	else
		rc |= sk_buf_adds(b, "pid:         -\n");
	ago(s->started_ms, now, t1, sizeof t1);
	rc |= sk_buf_printf(b, "supervisor:  stream-run pid %lld (%s), run %s, started %s\n",
	                    (long long)s->supervisor_pid, alive ? "running" : final ? "exited" : "gone",
	                    s->run_id, t1);
	rc |= sk_buf_printf(b, "attempts:    %lld in this run, %lld failed; %lld recorded\n",
	                    (long long)s->attempt, (long long)r->failures, (long long)r->recorded);
	if (s->last_status >= 0)
		rc |= sk_buf_printf(b, "last status: %lld\n", (long long)s->last_status);
	if (s->message)
		rc |= sk_buf_printf(b, "message:     %s\n", s->message);
	if (a->id) {
		ago(a->ended_ms, now, t1, sizeof t1);
		rc |= sk_buf_printf(b, "last error:  attempt %lld, %s: %s", (long long)a->attempt, t1,
		                    a->error ? a->error : "");
		if (a->stderr_tail && *last_line(a->stderr_tail))
			rc |= sk_buf_printf(b, ": %s", last_line(a->stderr_tail));
		rc |= sk_buf_addc(b, '\n');
	} else {
		rc |= sk_buf_adds(b, "last error:  none\n");
	}
	ago(r->read_ms, now, t1, sizeof t1);
	ago(r->checkpoint_ms, now, t2, sizeof t2);
	rc |= sk_buf_printf(b, "last read:   %s\ncheckpoint:  %s\n", t1, t2);
	return rc;
}

static int json_str(sk_buf *b, const char *key, const char *v)
{
	if (sk_buf_printf(b, ",\"%s\":", key) < 0)
		return -1;
	return v ? sk_json_add_string(b, v, strlen(v)) : sk_buf_adds(b, "null");
}

static int json_int(sk_buf *b, const char *key, int64_t v, int64_t null_below)
{
	if (v < null_below)
		return sk_buf_printf(b, ",\"%s\":null", key);
	return sk_buf_printf(b, ",\"%s\":%lld", key, (long long)v);
}

static int format_json(sk_buf *b, const sk_run_info *r, int alive)
{
	const sk_supervisor *s = &r->s;
	const sk_attempt *a = &r->last_error;
	int rc;

	rc = sk_buf_adds(b, "{\"name\":") | sk_json_add_string(b, s->name, strlen(s->name));
	rc |= json_str(b, "desired", s->desired) | json_str(b, "state", s->state);
	rc |= json_int(b, "pid", alive ? s->pid : -1, 1) | json_int(b, "attempt", s->attempt, 0);
	rc |= json_int(b, "failures", r->failures, 0) | json_int(b, "recorded", r->recorded, 0);
	rc |= json_int(b, "last_status", s->last_status, 0) | json_str(b, "message", s->message);
	rc |= json_str(b, "run_id", s->run_id) | json_int(b, "supervisor_pid", s->supervisor_pid, 1);
	rc |= sk_buf_printf(b, ",\"supervisor_alive\":%s", alive ? "true" : "false");
	rc |= json_int(b, "started_ms", s->started_ms, 1) | json_int(b, "updated_ms", r->updated_ms, 1);
	rc |= json_int(b, "read_ms", r->read_ms, 1) | json_int(b, "checkpoint_ms", r->checkpoint_ms, 1);
	if (a->id) {
		rc |= sk_buf_printf(b, ",\"last_error\":{\"attempt\":%lld", (long long)a->attempt);
		rc |= json_int(b, "ended_ms", a->ended_ms, 1) | json_str(b, "error", a->error);
		rc |= json_str(b, "stderr_tail", a->stderr_tail) | sk_buf_addc(b, '}');
	} else {
		rc |= sk_buf_adds(b, ",\"last_error\":null");
	}
	return rc | sk_buf_addc(b, '}');
}

int sk_run_status_format(sk_buf *b, const sk_run_info *r, int64_t now_ms, int json)
{
	static const char *const final_states[] = { "stopped", "exited", "gave-up" };
	int final = 0, alive;
	size_t i;

	for (i = 0; i < sizeof final_states / sizeof final_states[0]; i++)
		if (strcmp(r->s.state, final_states[i]) == 0)
			final = 1;
	alive = !final && sk_process_alive(r->s.supervisor_pid, r->s.supervisor_start);
	return (json ? format_json(b, r, alive) : format_text(b, r, final, alive, now_ms)) ? -1 : 0;
}

/* An attempt of the history: a line of the text columns, an object of
 * the JSON ones. */
static const sk_column attempt_columns[] = {
	{ "attempt", "attempt", SK_COL_INT },
	{ NULL, "run_id", SK_COL_TEXT },
	{ "pid", NULL, SK_COL_INT },
	{ NULL, "pid", SK_COL_INT },
	{ "started", NULL, SK_COL_TEXT },
	{ NULL, "started_ms", SK_COL_INT },
	{ NULL, "ended_ms", SK_COL_INT },
	{ NULL, "exit_code", SK_COL_INT },
	{ NULL, "signal", SK_COL_INT },
	{ NULL, "error", SK_COL_TEXT },
	{ NULL, "stderr_tail", SK_COL_TEXT },
	{ "ran", NULL, SK_COL_TEXT },
	{ "", NULL, SK_COL_TEXT },      /* how it ended, or "running" */
};

int sk_attempt_format(sk_buf *b, const sk_attempt *a, int64_t now_ms, int json)
{
	char started[64], ran[32], status[96], sig[64];
	const char *how = a->error;
	sk_cell c[] = {
		{ .n = a->attempt }, { .s = a->run_id }, { .n = a->pid }, { .n = a->pid, .null = a->pid < 1 },
		{ .s = started }, { .n = a->started_ms, .null = a->started_ms < 1 },
		{ .n = a->ended_ms, .null = a->ended_ms < 1 }, { .n = a->exit_code, .null = a->exit_code < 0 },
		{ .n = a->signal, .null = a->signal < 1 }, { .s = a->error }, { .s = a->stderr_tail },
		{ .s = a->ended_ms > 0 ? ran : NULL }, { .s = status },
	};

	ago(a->started_ms, now_ms, started, sizeof started);
	sk_duration_format(a->ended_ms - a->started_ms, ran, sizeof ran);
	if (a->ended_ms <= 0)
		how = "running";
	else if (how == NULL && a->signal == SIGHUP)
		how = "ended by the SIGHUP passed on to it; restarted";
	else if (how == NULL && a->signal > 0) {
		sk_signal_describe((int)a->signal, sig, sizeof sig);
		snprintf(status, sizeof status, "stopped by %s, as asked", sig);
	}
	else if (how == NULL)
		snprintf(status, sizeof status, "exited with status %lld", (long long)(a->exit_code > 0 ? a->exit_code : 0));
	c[12].s = how ? how : status;
	return sk_listing_format(attempt_columns, sizeof attempt_columns / sizeof attempt_columns[0], c, json, b);
}
