/* state.h - the state store: one SQLite file shared by every program of a
 * pipeline (see DESIGN.md, "The state store").
 *
 * Tables (schema version 1):
 *   positions(name, source, partition, position, updated_ms)
 *   checkpoints(id, name, at_ms, rows, cursors)          history
 *   staged_parts(id, name, dataset, tmp_path, final_path, created_ms)
 *   attempts(id, name, started_ms, ended_ms, exit_code, signal, stderr_tail)
 *   settings(key, value)
 */
#ifndef SK_STATE_H
#define SK_STATE_H

#include <stdint.h>
#include <sqlite3.h>
#include "err.h"
#include "cursor.h"

typedef struct sk_state sk_state;

/* The sysexits code for an SQLite result code: 78 not a database, 75 busy,
 * 65 a constraint or a value SQLite refuses, 74 any other failure. */
int sk_sqlite_code(int rc);

/* The path used when none is given: $STREAMKIT_STATE, else
 * $XDG_STATE_HOME/streamkit/state.db (~/.local/state/...). malloc'd. */
char *sk_state_default_path(void);
/* Open (creating with mode 0600 and parent directories) and migrate.
 * path NULL means the default. Not SQLite, not writable -> EX_IOERR or
 * EX_CONFIG with a message naming the file. */
int sk_state_open(const char *path, sk_state **out, sk_err *e);
void sk_state_close(sk_state *st);
const char *sk_state_path(const sk_state *st);
sqlite3 *sk_state_db(sk_state *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int sk_state_begin(sk_state *st, sk_err *e);
int sk_state_commit(sk_state *st, sk_err *e);
void sk_state_rollback(sk_state *st);

/* 1 and *pos (malloc'd) when a position is stored, 0 when none, -1 on error. */
int sk_state_get_position(sk_state *st, const char *name, const char *source,
                          const char *partition, char **pos, sk_err *e);
int sk_state_set_position(sk_state *st, const char *name, const char *source,
                          const char *partition, const char *pos, sk_err *e);
/* source or partition NULL: all of them. Returns the number deleted. */
int sk_state_delete_positions(sk_state *st, const char *name, const char *source,
                              const char *partition, sk_err *e);
typedef int (*sk_position_cb)(void *arg, const char *name, const char *source,
                              const char *partition, const char *position,
                              int64_t updated_ms);
/* name NULL: every name. Ordered by name, source, partition. */
int sk_state_each_position(sk_state *st, const char *name, sk_position_cb cb,
                           void *arg, sk_err *e);

/* Store every cursor of cs as the position of its (source, partition) and
 * add a checkpoint record of `rows` rows. Does not begin or commit: the
 * caller wraps it in one transaction with whatever must commit with it. */
int sk_state_put_cursors(sk_state *st, const char *name, const sk_cursorset *cs,
                         int64_t rows, sk_err *e);
/* begin + put_cursors + commit. */
int sk_state_checkpoint(sk_state *st, const char *name, const sk_cursorset *cs,
                        int64_t rows, sk_err *e);

typedef int (*sk_checkpoint_cb)(void *arg, int64_t id, const char *name,
                                int64_t at_ms, int64_t rows, const char *cursors);
/* The newest `limit` checkpoints of name (NULL: all names), newest first. */
int sk_state_each_checkpoint(sk_state *st, const char *name, int limit,
                             sk_checkpoint_cb cb, void *arg, sk_err *e);

/* Staged dataset parts: written and fsynced at tmp_path, to be renamed to
 * final_path once the transaction that stages them has committed. */
int sk_state_stage_part(sk_state *st, const char *name, const char *dataset,
                        const char *tmp_path, const char *final_path, sk_err *e);
typedef int (*sk_part_cb)(void *arg, int64_t id, const char *tmp_path,
                          const char *final_path);
int sk_state_each_staged_part(sk_state *st, const char *dataset, sk_part_cb cb,
                              void *arg, sk_err *e);
int sk_state_unstage_part(sk_state *st, int64_t id, sk_err *e);

/* Names that have anything stored, for `stream-checkpoint list`. */
typedef int (*sk_name_cb)(void *arg, const char *name, int64_t positions,
                          int64_t last_checkpoint_ms);
int sk_state_each_name(sk_state *st, sk_name_cb cb, void *arg, sk_err *e);
/* Delete everything stored for name (positions, history); returns 0/-1. */
int sk_state_reset_name(sk_state *st, const char *name, sk_err *e);

#endif
