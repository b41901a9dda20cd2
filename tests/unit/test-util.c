/* test-util.c - durations, sizes, counts and buffers. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"

static void durations(void)
{
	static const struct { const char *in; long long ms; } good[] = {
		{ "0", 0 }, { "5", 5000 }, { "0.1", 100 }, { "250ms", 250 }, { "1.5s", 1500 },
		{ "5m", 300000 }, { "2h", 7200000 }, { ".5", 500 },
	};
	static const char *const bad[] = { "", "s", "-1", "5x", "1e3", "5 m", "abc", "nan" };
	sk_err e;
	int64_t ms;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		ms = -1;
		ok(sk_parse_duration(good[i].in, &ms, &e) == 0 && ms == good[i].ms,
		   "duration '%s' is %lld ms", good[i].in, good[i].ms);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sk_err_clear(&e);
		ok(sk_parse_duration(bad[i], &ms, &e) < 0 && e.code == EX_USAGE && strstr(e.msg, "duration"),
		   "duration '%s' is refused with a usage error", bad[i]);
	}
}

static void sizes(void)
{
	sk_err e;
	uint64_t n;

	ok(sk_parse_size("4096", &n, &e) == 0 && n == 4096, "size 4096");
	ok(sk_parse_size("64k", &n, &e) == 0 && n == 65536, "size 64k");
	ok(sk_parse_size("16M", &n, &e) == 0 && n == 16u << 20, "size 16M");
	ok(sk_parse_size("1G", &n, &e) == 0 && n == 1u << 30, "size 1G");
	ok(sk_parse_size("12Q", &n, &e) < 0 && e.code == EX_USAGE, "size with an unknown unit is refused");
	ok(sk_parse_count("42", &n, &e) == 0 && n == 42, "count 42");
	ok(sk_parse_count("4x", &n, &e) < 0, "count 4x is refused");
	ok(sk_parse_count("-1", &n, &e) < 0, "count -1 is refused");
}

static void buffers(void)
{
	sk_buf b = {0};
	int i, fine = 1;

	for (i = 0; i < 10000; i++)
		fine &= sk_buf_printf(&b, "%d,", i) == 0;
	ok(fine && strncmp(b.p, "0,1,2,", 6) == 0 && b.p[b.len] == '\0', "buffer grows and stays terminated");
	sk_buf_reset(&b);
	ok(b.len == 0 && sk_buf_adds(&b, "x") == 0 && strcmp(b.p, "x") == 0, "reset keeps memory usable");
	sk_buf_free(&b);
	{
		char *s = sk_strprintf("%s-%d", "a", 7);
		is_str(s, "a-7", "sk_strprintf formats");
		free(s);
	}
}

static void errors(void)
{
	sk_err e;

	sk_err_set(&e, EX_IOERR, "read: %s", "broken");
	sk_err_prefix(&e, "in.ndjson");
	is_str(e.msg, "in.ndjson: read: broken", "prefix adds context before the message");
	is_int(e.code, EX_IOERR, "prefix keeps the code");
}

static void decimals(void)
{
	char d[24];
	sk_buf b = { 0 };

	d[sk_fmt_u64(d, 0)] = '\0';
	is_str(d, "0", "zero");
	d[sk_fmt_u64(d, UINT64_MAX)] = '\0';
	is_str(d, "18446744073709551615", "the largest unsigned");
	d[sk_fmt_i64(d, INT64_MIN)] = '\0';
	is_str(d, "-9223372036854775808", "the smallest signed");
	d[sk_fmt_i64(d, -7)] = '\0';
	is_str(d, "-7", "a negative");
	ok(sk_buf_adds(&b, "n=") == 0 && sk_buf_add_i64(&b, 42) == 0, "appended");
	is_str(b.p, "n=42", "after what the buffer held, NUL-terminated");
	sk_buf_free(&b);
}

int main(void)
{
	durations();
	sizes();
	buffers();
	errors();
	decimals();
	return tap_done();
}
