/* state_impl.h - what the parts of the state store share: the handle, the
 * statements it keeps prepared, and the helpers that run SQL and report
 * SQLite's errors. Shared by state.c (opening, checking, migrating),
 * state_positions.c, state_parts.c, state_run.c and state_settings.c. */
#ifndef SK_STATE_IMPL_H
#define SK_STATE_IMPL_H

#include <sqlite3.h>
#include "state.h"

#define HISTORY_KEEP 1000     /* checkpoint and attempt records kept per name */
#define RUN_SCHEMA 2          /* the version that made stream-run's tables */

/* The statements run at every checkpoint or delivery, kept prepared. */
enum sk_state_stmt {
	ST_GET_POS, ST_PUT_POS, ST_ADD_CHECKPOINT, ST_PRUNE_HISTORY, ST_STAGE, ST_UNSTAGE,
	ST_DATA_VERSION, ST_NOTE_READ, ST_COUNT
};

struct sk_state {
	sqlite3 *db;
	char *path;
	int version;                 /* older than SCHEMA_VERSION only when read-only */
	sqlite3_stmt *stmt[ST_COUNT];   /* prepared on first use */
};

/* e from SQLite's rc: the store's path, what (NULL: nothing) and SQLite's
 * message, with the sysexits code of sk_sqlite_code. -1. */
int sk_state_db_err(sk_state *st, int rc, sk_err *e, const char *what);
/* Run sql: statements that return no rows. */
int sk_state_exec(sk_state *st, const char *sql, sk_err *e);
/* The statement id, sql (the same text at every call for one id), prepared
 * on first use and kept until sk_state_close. */
sqlite3_stmt *sk_state_stmt(sk_state *st, enum sk_state_stmt id, const char *sql, sk_err *e);
/* Run a prepared statement that returns no rows, then reset it. */
int sk_state_step_reset(sk_state *st, sqlite3_stmt *s, sk_err *e);

/* Prepare sql for one use (the caller finalizes *s), with p1 bound to ?1
 * unless NULL (then ?1, if any, is null). */
int sk_state_prepare(sk_state *st, const char *sql, const char *p1, sqlite3_stmt **s, sk_err *e);
/* Step a statement that returns no rows, then finalize it. */
int sk_state_step_done(sk_state *st, sqlite3_stmt *s, sk_err *e);
/* Finalize s after a walk over its rows that a callback's non-zero return
 * (stop) or the step that returned rc ended: stop, else 0 at the last row,
 * else the error. */
int sk_state_walk_end(sk_state *st, sqlite3_stmt *s, int rc, int stop, sk_err *e);

#endif
