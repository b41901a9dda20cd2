/* test-filter.c - the --filter stage: results in order across batches,
 * with and without a thread; errors per message; draining; a callback
 * that stops it; a program that does not compile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "filter.h"

struct seen {
	sk_buf out;             /* every result, in order */
	size_t msgs, errors;
	size_t stop_at;         /* stop at this message (1-based); 0: never */
	int order_ok;           /* each message's results follow the one before */
	long last;
};

static int delivered(void *arg, const sk_filtered *f, sk_err *e)
{
	struct seen *s = arg;
	long n = strtol(f->msg->env + 5, NULL, 10);     /* {"n":N,... */

	s->msgs++;
	if (n != s->last + 1)
		s->order_ok = 0;
	s->last = n;
	if (f->error) {
		s->errors++;
		if (f->out_len != 0 || strstr(f->error->msg, "jq: error: odd") == NULL)
			s->order_ok = 0;
	}
	if (s->stop_at && s->msgs == s->stop_at)
		return sk_err_set(e, EX_DATAERR, "stopped at %zu", s->msgs);
	return sk_buf_add(&s->out, f->out, f->out_len) < 0 ? sk_err_set(e, EX_OSERR, "out of memory") : 0;
}

/* Push messages {"n":1} .. {"n":count} with cursor "t:0:N". */
static int push_all(sk_filter *f, long from, long count, sk_err *e)
{
	char env[64], cur[32];
	sk_msg m = { .env = env, .cursor = cur };
	long i;

	for (i = from; i < from + count; i++) {
		m.env_len = (size_t)snprintf(env, sizeof env, "{\"n\":%ld,\"_cursor\":\"t:0:%ld\"}", i, i);
		snprintf(cur, sizeof cur, "t:0:%ld", i);
		if (sk_filter_push(f, &m, e) < 0)
			return -1;
	}
	return 0;
}

static void many(int threaded)
{
	struct seen s = { .order_ok = 1 };
	sk_err e = { 0 };
	sk_filter *f = sk_filter_new("if .n % 1000 == 1 then error(\"odd\") else . end | select(.n % 3 != 0) | {n}",
	                             NULL, threaded, delivered, &s, &e);
	char want[64];

	ok(f != NULL, "%s: started", threaded ? "thread" : "inline");
	ok(push_all(f, 1, 5000, &e) == 0, "5000 messages pushed");
	ok(sk_filter_drain(f, &e) == 0, "drained");
	is_int(s.msgs, 5000, "every message delivered once");
	ok(s.order_ok, "in order, the failed ones without results");
	is_int(s.errors, 5, "the program failed on 5 of them");
	snprintf(want, sizeof want, "{\"n\":5000,\"_cursor\":\"t:0:5000\"}\n");
	ok(s.out.len > strlen(want) && strcmp(s.out.p + s.out.len - strlen(want), want) == 0,
	   "the last result, with its cursor");
	ok(push_all(f, 5001, 10, &e) == 0 && sk_filter_drain(f, &e) == 0 && s.msgs == 5010,
	   "more after a drain");
	ok(sk_filter_drain(f, &e) == 0 && s.msgs == 5010, "a drain with nothing held");
	sk_filter_free(f);
	sk_buf_free(&s.out);
}

static void stops(int threaded)
{
	struct seen s = { .order_ok = 1, .stop_at = 1500 };
	sk_err e = { 0 };
	sk_filter *f = sk_filter_new(".", NULL, threaded, delivered, &s, &e);
	int rc = push_all(f, 1, 3000, &e);

	if (rc == 0)
		rc = sk_filter_drain(f, &e);
	ok(rc < 0 && strcmp(e.msg, "stopped at 1500") == 0, "%s: the callback's error stops it: %s",
	   threaded ? "thread" : "inline", e.msg);
	ok(push_all(f, 3001, 1, &e) < 0 && sk_filter_drain(f, &e) < 0 && strcmp(e.msg, "stopped at 1500") == 0,
	   "and it stays stopped");
	is_int(s.msgs, 1500, "nothing delivered after");
	sk_filter_free(f);
	sk_buf_free(&s.out);
}

static void compile_error(int threaded)
{
	struct seen s = { 0 };
	sk_err e = { 0 };
	sk_filter *f = sk_filter_new(".[", NULL, threaded, delivered, &s, &e);

	ok(f == NULL && e.code == EX_USAGE && strncmp(e.msg, "jq: error: syntax error", 23) == 0,
	   "%s: a compile error: %s", threaded ? "thread" : "inline", e.msg);
}

static void with_args(void)
{
	struct seen s = { .order_ok = 1 };
	sk_program_args *a = sk_program_args_new();
	sk_err e = { 0 };
	sk_filter *f;

	sk_program_args_add(a, "x", "y", &e);
	f = sk_filter_new("$x", a, 1, delivered, &s, &e);
	ok(f && push_all(f, 1, 1, &e) == 0 && sk_filter_drain(f, &e) == 0, "a program with --arg");
	is_str(s.out.p, "{\"value\":\"y\",\"_cursor\":\"t:0:1\"}\n", "sees $x");
	sk_filter_free(f);
	sk_program_args_free(a);
	sk_buf_free(&s.out);
}

/* Values built on the caller's thread (all, half, none of them), run on
 * the filter's: integers beyond 2^53 keep their digits though the batch's
 * text moved as it grew, a program may change its input (which the caller
 * still holds), and member names shared from one message to the next
 * come out right. */
static void built_ahead(int steps)
{
	static const char program[] =
		"if .n % 997 == 5 then error(\"odd\") else . end | .x = .big | del(.pad) | {n, big, neg, x, k: (keys | length)}";
	struct seen s = { .order_ok = 1 };
	sk_err e = { 0 };
	sk_filter *f = sk_filter_new(program, NULL, 1, delivered, &s, &e);
	char env[600], cur[32], want[256], pad[400];
	sk_msg m = { .env = env, .cursor = cur };
	unsigned long long big;
	const char *at;
	long i, bad = 0;

	ok(f != NULL, "built ahead (%d of 64): started", steps);
	if (f == NULL)
		return;
	sk_filter_fix_share(f, steps);
	memset(pad, 'p', sizeof pad);
	for (i = 1; i <= 3000; i++) {
		big = 9007199254740993ull + 2 * (unsigned long long)i;
		m.env_len = (size_t)snprintf(env, sizeof env, "{\"n\":%ld,\"big\":%llu,\"neg\":-%llu,\"pad\":\"%.*s\","
		                             "\"_cursor\":\"t:0:%ld\"}", i, big, big + 2, (int)(i * 7 % 397), pad, i);
		snprintf(cur, sizeof cur, "t:0:%ld", i);
		if (sk_filter_push(f, &m, &e) < 0)
			break;
	}
	ok(i > 3000 && sk_filter_drain(f, &e) == 0, "3000 messages through");
	is_int(s.msgs, 3000, "every message delivered once");
	is_int(s.errors, 4, "the program failed on 4 of them");
	ok(s.order_ok, "in order");
	at = s.out.p;
	for (i = 1; i <= 3000 && at; i++) {
		if (i % 997 == 5)
			continue;
		big = 9007199254740993ull + 2 * (unsigned long long)i;
		snprintf(want, sizeof want, "{\"n\":%ld,\"big\":%llu,\"neg\":-%llu,\"x\":%llu,\"k\":5,\"_cursor\":\"t:0:%ld\"}\n",
		         i, big, big + 2, big, i);
		if (strncmp(at, want, strlen(want)) != 0) {
			if (bad++ == 0)
				printf("# message %ld: %.*s, not %s", i, (int)strlen(want), at, want);
		} else {
			at += strlen(want);
		}
		if (bad)
			break;
	}
	ok(bad == 0 && at && *at == '\0', "every result exact");
	sk_filter_free(f);
	sk_buf_free(&s.out);
}

/* An envelope cJSON would read otherwise than jq (a NUL in a string) is
 * read by jq's parser, on either thread. */
static void left_to_jq(int threaded)
{
	struct seen s = { .order_ok = 1 };
	sk_err e = { 0 };
	sk_filter *f = sk_filter_new("{n, l: (.s | length)}", NULL, threaded, delivered, &s, &e);
	const char env[] = "{\"n\":1,\"s\":\"a\\u0000b\",\"_cursor\":\"t:0:1\"}";
	sk_msg m = { .env = env, .env_len = sizeof env - 1, .cursor = "t:0:1" };

	ok(f && sk_filter_push(f, &m, &e) == 0 && sk_filter_drain(f, &e) == 0, "%s: a NUL in a string",
	   threaded ? "thread" : "inline");
	is_str(s.out.p, "{\"n\":1,\"l\":3,\"_cursor\":\"t:0:1\"}\n", "read as jq reads it");
	sk_filter_free(f);
	sk_buf_free(&s.out);
}

int main(void)
{
	many(1);
	many(0);
	stops(1);
	stops(0);
	compile_error(1);
	compile_error(0);
	with_args();
	built_ahead(64);
	built_ahead(32);
	built_ahead(0);
	left_to_jq(1);
	left_to_jq(0);
	return tap_done();
}
