/* test-on-error.c - the one --on-error parser (every form a program takes
 * or refuses, and the message) and the dead-letter file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slurp.h"
#include "tap.h"
#include "on_error.h"

#define FAIL_SKIP (SK_ON_ERROR_TAKES(SK_ON_ERROR_FAIL) | SK_ON_ERROR_TAKES(SK_ON_ERROR_SKIP))

static void accepted(void)
{
	sk_on_error p;
	sk_err e = { 0 };

	ok(sk_on_error_parse("fail", SK_ON_ERROR_TAKES_ALL, &p, &e) == 0 && p.action == SK_ON_ERROR_FAIL &&
	   p.dead_letter == NULL, "fail");
	ok(sk_on_error_parse("skip", SK_ON_ERROR_TAKES_ALL, &p, &e) == 0 && p.action == SK_ON_ERROR_SKIP,
	   "skip");
	ok(sk_on_error_parse("dead-letter:bad.ndjson", SK_ON_ERROR_TAKES_ALL, &p, &e) == 0 &&
	   p.action == SK_ON_ERROR_DEAD_LETTER, "dead-letter:PATH");
	is_str(p.dead_letter, "bad.ndjson", "its path is what follows the colon");
	ok(sk_on_error_parse("dead-letter:a:b", SK_ON_ERROR_TAKES_ALL, &p, &e) == 0 &&
	   strcmp(p.dead_letter, "a:b") == 0, "a path may hold a colon");
	ok(sk_on_error_parse("fail", FAIL_SKIP, &p, &e) == 0 && p.action == SK_ON_ERROR_FAIL,
	   "fail, where only fail and skip are taken");
	ok(sk_on_error_parse("skip", FAIL_SKIP, &p, &e) == 0 && p.action == SK_ON_ERROR_SKIP,
	   "skip, where only fail and skip are taken");
}

static void refused_one(const char *arg, unsigned takes, const char *want)
{
	sk_on_error p = { SK_ON_ERROR_SKIP, "kept" };
	sk_err e = { 0 };

	ok(sk_on_error_parse(arg, takes, &p, &e) == -1 && e.code == EX_USAGE, "'%s' is a usage error (64)", arg);
	is_str(e.msg, want, "'%s': the message names what is expected", arg);
	ok(p.action == SK_ON_ERROR_SKIP && strcmp(p.dead_letter, "kept") == 0, "'%s' leaves the policy alone", arg);
}

static void refused(void)
{
	const char *all[] = { "", "retry", "dead-letter:", "dead-letter", "FAIL", "skip ", "fail,skip",
	                      "deadletter:x" };
	char want[256];
	size_t i;

	for (i = 0; i < sizeof all / sizeof *all; i++) {
		snprintf(want, sizeof want, "invalid --on-error '%s' (expected fail, skip or dead-letter:PATH)",
		         all[i]);
		refused_one(all[i], SK_ON_ERROR_TAKES_ALL, want);
	}
	refused_one("dead-letter:x", FAIL_SKIP, "invalid --on-error 'dead-letter:x' (expected fail or skip)");
	refused_one("drop", FAIL_SKIP, "invalid --on-error 'drop' (expected fail or skip)");
}

static void dead_letter(void)
{
	char dir[] = "/tmp/test-on-error.XXXXXX", path[256], bad[300];
	sk_dead_letter d, never;
	sk_err e = { 0 };

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof path, "%s/dead.ndjson", dir);
	memset(&never, 0, sizeof never);
	ok(sk_dead_letter_close(&never, &e) == 0, "one never opened closes at once");
	ok(sk_dead_letter_open(&d, path, &e) == 0, "open creates the file");
	ok(!d.dirty && sk_dead_letter_sync(&d, &e) == 0, "nothing to sync before a record");
	ok(sk_dead_letter_add(&d, "{\"a\":1}", 7, &e) == 0 && d.dirty, "a record is added");
	is_str(slurp(path), "{\"a\":1}\n", "and written at once, with its newline");
	ok(sk_dead_letter_sync(&d, &e) == 0 && !d.dirty, "sync makes it durable");
	ok(sk_dead_letter_add(&d, "two", 3, &e) == 0 && sk_dead_letter_close(&d, &e) == 0, "close");
	is_str(slurp(path), "{\"a\":1}\ntwo\n", "records append in order");
	ok(sk_dead_letter_open(&d, path, &e) == 0 && sk_dead_letter_add(&d, "3", 1, &e) == 0 &&
	   sk_dead_letter_close(&d, &e) == 0, "a second open appends");
	is_str(slurp(path), "{\"a\":1}\ntwo\n3\n", "to what is there");
	snprintf(bad, sizeof bad, "%s/no/such/dir", dir);
	ok(sk_dead_letter_open(&d, bad, &e) == -1 && e.code == EX_IOERR, "a path that cannot be opened: EX_IOERR");
	ok(strstr(e.msg, "no/such/dir: No such file or directory") != NULL, "naming it");
	ok(sk_dead_letter_close(&d, &e) == 0, "and closing it after is harmless");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	accepted();
	refused();
	dead_letter();
	return tap_done();
}
