/* sink_sqlite_impl.h - what the parts of the sqlite: sink share:
 * sink_sqlite.c (the database, transactions, inserts, the sink's
 * operations), sqlite_table.c (the table checked or created) and
 * sqlite_positions.c (the destination's positions, re-delivered rows). */
#ifndef SK_SINK_SQLITE_IMPL_H
#define SK_SINK_SQLITE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "sink_impl.h"

/* A destination position loaded at open, while rows before it may come again. */
struct sk_sink_sqlite_held {
	char *source, *partition;
	char *dest;             /* the destination's committed position */
	char *state;            /* the state store's at open, or NULL */
	int catching_up;        /* no row of the partition has been kept yet */
};

/* The sink's own state (sk_sink's impl). */
struct sk_sink_sqlite_table {
	sqlite3 *db;
	const char *name;       /* T */
	char *quoted;           /* "T", quoted for SQL */
	int ready;              /* the table exists and insert is prepared */
	int in_txn;
	sqlite3_stmt *insert;
	sqlite3_stmt *put_pos;
	int64_t inserted;       /* since the last checkpoint */
	struct sk_sink_sqlite_held *held;
	size_t nheld;
	size_t catching_up;     /* entries of held still catching up */
	sk_buf scratch;         /* a row's cursor, or a number's text, given as spans */
};

/* sink_sqlite.c */
/* The database's error rc as e, prefixed with the endpoint. */
int sk_sink_sqlite_db_err(sk_sink *k, int rc, sk_err *e);
int sk_sink_sqlite_exec(sk_sink *k, const char *sql, sk_err *e);

/* sqlite_table.c */
int sk_sink_sqlite_add_ident(sk_buf *b, const char *name);
/* Inside a transaction: check or create the table, prepare the INSERT. */
int sk_sink_sqlite_settle_table(sk_sink *k, sk_err *e);

/* sqlite_positions.c */
/* Create _streamkit_positions when missing, and prepare its upsert. */
int sk_sink_sqlite_prepare_positions(sk_sink *k, sk_err *e);
/* Load the destination's positions, bringing the state store up to them. */
int sk_sink_sqlite_load_positions(sk_sink *k, sk_err *e);
/* 1 when the row with this cursor is in the table already (drop it). */
int sk_sink_sqlite_already_stored(struct sk_sink_sqlite_table *t, const char *cursor);
/* Write the positions of cs to _streamkit_positions, in the open
 * transaction, and add the cursors to commit to the state store to out. */
int sk_sink_sqlite_put_positions(sk_sink *k, const sk_cursorset *cs, sk_cursorset *out, sk_err *e);

#endif
