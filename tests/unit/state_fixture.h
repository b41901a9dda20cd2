/* state_fixture.h - what the unit tests of the state store share
 * (test-state.c, test-state-positions.c, test-state-parts.c,
 * test-state-run.c, test-state-settings.c): a scratch directory kept when
 * a test fails, stores opened in it, and looks at what they hold. */
#ifndef SK_STATE_FIXTURE_H
#define SK_STATE_FIXTURE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "state.h"
#include "util.h"

#define FIXTURE_FN static __attribute__((unused))

static char dir[] = "/tmp/test-state-XXXXXX";

/* Make the scratch directory: -1 (with a TAP bail out) when it cannot be. */
FIXTURE_FN int fixture_begin(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Remove the scratch directory unless a test failed; the exit status. */
FIXTURE_FN int fixture_end(void)
{
	if (tap_failed == 0) {
		char cmd[sizeof dir + 16];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	} else {
		printf("# files kept in %s\n", dir);
	}
	return tap_done();
}

FIXTURE_FN char *path_in(const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	if (p == NULL)
		abort();
	sprintf(p, "%s/%s", dir, name);
	return p;
}

FIXTURE_FN sk_state *open_ok(const char *path)
{
	sk_state *st = NULL;
	sk_err e = { 0 };

	if (sk_state_open(path, &st, &e) < 0) {
		printf("# open %s: %s\n", path, e.msg);
		return NULL;
	}
	return st;
}

FIXTURE_FN long long pragma_int(sk_state *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(sk_state_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The first column of the first row as text (static buffer). */
FIXTURE_FN const char *query_text(sk_state *st, const char *sql)
{
	static char buf[256];
	sqlite3_stmt *s;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(sk_state_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return "(prepare failed)";
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

/* What a get of the store returned (rc, and value, which it frees): the
 * value, or "(none)" / "(error: ...)". The result is static. */
FIXTURE_FN const char *got(int rc, char *value, const sk_err *e)
{
	static char buf[sizeof ((sk_err *)0)->msg + 16];

	if (rc < 0)
		snprintf(buf, sizeof buf, "(error: %s)", e->msg);
	else if (rc == 0)
		snprintf(buf, sizeof buf, "(none)");
	else
		snprintf(buf, sizeof buf, "%s", value);
	free(value);
	return buf;
}

/* The stored position, as got() says. */
FIXTURE_FN const char *position(sk_state *st, const char *name, const char *source, const char *part)
{
	sk_err e = { 0 };
	char *pos = NULL;
	int rc = sk_state_get_position(st, name, source, part, &pos, &e);

	return got(rc, pos, &e);
}

FIXTURE_FN sk_cursorset *cursors(const char *a, const char *b)
{
	sk_cursorset *cs = sk_cursorset_new();
	sk_err e = { 0 };

	if (cs == NULL)
		abort();
	if (a)
		sk_cursorset_add(cs, a, strlen(a), &e);
	if (b)
		sk_cursorset_add(cs, b, strlen(b), &e);
	return cs;
}

#endif
