/* state.h - the state store: one SQLite file shared by every program of a
 * pipeline (see DESIGN.md, "The state store").
 *
 * Tables (schema version 1):
 *   positions(name, source, partition, position, updated_ms)
 *   checkpoints(id, name, at_ms, rows, cursors)          history
 *   staged_parts(id, name, dataset, tmp_path, final_path, created_ms)
 *   attempts(id, name, started_ms, ended_ms, exit_code, signal, stderr_tail)
 *   settings(key, value)
 * Version 2, for stream-run:
 *   attempts + (run_id, attempt, pid, error)
 *   supervisors(name, desired, state, run_id, supervisor_pid, supervisor_start,
 *               pid, attempt, last_status, message, started_ms, updated_ms)
 *   reads(name, read_ms, updated_ms)     when a reader last delivered messages
 */
#ifndef SK_STATE_H
#define SK_STATE_H

#include <stdint.h>
#include <sqlite3.h>
#include "err.h"
#include "cursor.h"

typedef struct sk_state sk_state;

/* --- the store: opening, checking, migrating (state.c) --- */

/* The sysexits code for an SQLite result code: 78 not a database, 75 busy,
 * 65 a constraint or a value SQLite refuses, 74 any other failure. */
int sk_sqlite_code(int rc);

/* The path used when none is given: $STREAMKIT_STATE, else
 * $XDG_STATE_HOME/streamkit/state.db (~/.local/state/...). malloc'd. */
char *sk_state_default_path(void);
/* For the programs that write: open (creating with mode 0600 and parent
 * directories), migrate, and mark it (PRAGMA application_id). path NULL
 * means the default. Not SQLite, another application's database, a newer
 * schema -> EX_CONFIG, left untouched; not writable -> EX_IOERR; with a
 * message naming the file. An existing file that the group or others may
 * open gets a warning. */
int sk_state_open(const char *path, sk_state **out, sk_err *e);
/* For the programs that only read: open without writing anything, nor
 * creating, nor migrating, so that a store this process cannot write (its
 * mode, a read-only directory) is read. No store at path -> EX_UNAVAILABLE;
 * the rest as sk_state_open. A store of an older schema is read as it is
 * (a store from before stream-run has no supervisors or attempts). */
int sk_state_open_readonly(const char *path, sk_state **out, sk_err *e);
void sk_state_close(sk_state *st);
const char *sk_state_path(const sk_state *st);
sqlite3 *sk_state_db(sk_state *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int sk_state_begin(sk_state *st, sk_err *e);
int sk_state_commit(sk_state *st, sk_err *e);
void sk_state_rollback(sk_state *st);

/* --- positions and checkpoint history (state_positions.c) --- */

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

/* Names that have anything stored, for `stream-checkpoint list`. */
typedef int (*sk_name_cb)(void *arg, const char *name, int64_t positions,
                          int64_t last_checkpoint_ms);
int sk_state_each_name(sk_state *st, sk_name_cb cb, void *arg, sk_err *e);
/* Delete everything stored for name (positions, history); returns 0/-1. */
int sk_state_reset_name(sk_state *st, const char *name, sk_err *e);

/* --- staged dataset parts (state_parts.c) --- */

/* Staged dataset parts: written and fsynced at tmp_path, to be renamed to
 * final_path once the transaction that stages them has committed. */
int sk_state_stage_part(sk_state *st, const char *name, const char *dataset,
                        const char *tmp_path, const char *final_path, sk_err *e);
typedef int (*sk_part_cb)(void *arg, int64_t id, const char *tmp_path,
                          const char *final_path);
int sk_state_each_staged_part(sk_state *st, const char *dataset, sk_part_cb cb,
                              void *arg, sk_err *e);
int sk_state_unstage_part(sk_state *st, int64_t id, sk_err *e);

/* --- stream-run's tables, schema 2 (state_run.c) --- */

/* A supervisor's own row, one per name: what it wants and what it does. */
typedef struct sk_supervisor {
	const char *name;
	const char *desired;         /* "up" or "down" */
	const char *state;           /* starting, running, waiting, stopping, stopped,
	                                exited, gave-up */
	const char *run_id;          /* one per stream-run process */
	int64_t supervisor_pid, supervisor_start;   /* start: sk_process_start, -1 unknown */
	int64_t pid;                 /* the running child, -1 none */
	int64_t attempt;             /* the current or last attempt of the run */
	int64_t last_status;         /* the last attempt's status (128 + N: signal N), -1 none */
	const char *message;         /* why it stopped or gave up, or NULL */
	int64_t started_ms;          /* when the run started */
} sk_supervisor;

/* Claim name for s: in one transaction, write s unless the row of name is
 * held by a supervisor that alive(pid, start) says still runs. 0 when
 * claimed; 1 when held (e says by whom, EX_TEMPFAIL); -1 on error. */
int sk_state_claim_supervisor(sk_state *st, const sk_supervisor *s,
                              int (*alive)(int64_t pid, int64_t start), sk_err *e);
/* Write s over the row of s->name. */
int sk_state_put_supervisor(sk_state *st, const sk_supervisor *s, sk_err *e);

/* An attempt starts: a row of attempts; *id for sk_state_attempt_end. */
int sk_state_attempt_start(sk_state *st, const char *name, const char *run_id,
                           int64_t attempt, int64_t pid, int64_t started_ms, int64_t *id,
                           sk_err *e);
/* It ended: exit_code or signal (-1: none of it), error (NULL for a success)
 * and the tail of its stderr (NULL: none). */
int sk_state_attempt_end(sk_state *st, int64_t id, int64_t ended_ms, int exit_code,
                         int signal, const char *error, const char *stderr_tail, sk_err *e);

typedef struct sk_attempt {
	int64_t id;
	const char *run_id;
	int64_t attempt, pid;        /* -1: unknown */
	int64_t started_ms, ended_ms;   /* ended 0: not ended */
	int64_t exit_code, signal;   /* -1: none */
	const char *error, *stderr_tail;   /* NULL: none */
} sk_attempt;
typedef int (*sk_attempt_cb)(void *arg, const sk_attempt *a);
/* The newest `limit` attempts of name (0: all), newest first. */
int sk_state_each_attempt(sk_state *st, const char *name, int limit, sk_attempt_cb cb,
                          void *arg, sk_err *e);

/* What stream-run --status and stream-checkpoint show print of a name. */
typedef struct sk_run_info {
	sk_supervisor s;
	int64_t updated_ms;
	int64_t failures;            /* failed attempts of this run */
	int64_t recorded;            /* attempts recorded for name, every run */
	sk_attempt last_error;       /* the newest failed attempt; id 0: none */
	int64_t read_ms;             /* when a reader of name last delivered, 0: never */
	int64_t checkpoint_ms;       /* the newest checkpoint of name, 0: none */
} sk_run_info;
typedef int (*sk_run_cb)(void *arg, const sk_run_info *r);
/* 1 after cb (its return in *cb_rc), 0 when no supervisor has recorded name. */
int sk_state_get_run(sk_state *st, const char *name, sk_run_cb cb, void *arg, int *cb_rc,
                     sk_err *e);

/* How far a reader has read, for stream-run's stall watchdog: called before
 * each write of messages downstream, it records the time in reads at most
 * about once a second, but always when the store has changed (a checkpoint,
 * perhaps) since its last record, so that a reader blocked by a stuck
 * pipeline has always recorded that it delivered past the last checkpoint.
 * final: at a clean end, record what the last call held back. */
typedef struct sk_read_note {
	int64_t recorded_ms;         /* wall clock of the last record, 0: none */
	int64_t version;             /* PRAGMA data_version then */
	int64_t held_ms;             /* a delivery not recorded yet, 0: none */
} sk_read_note;
int sk_state_note_read(sk_state *st, const char *name, sk_read_note *n, int final, sk_err *e);
/* The name's read_ms and newest checkpoint at_ms (0 when none). */
int sk_state_read_progress(sk_state *st, const char *name, int64_t *read_ms,
                           int64_t *checkpoint_ms, sk_err *e);

/* --- settings: endpoints and notes (state_settings.c) --- */

/* The endpoint that name's reader read source from, as the user wrote it
 * (a URL, or the name of an endpoint in an endpoints file; never the -X
 * settings, which may be secrets), so that `stream-checkpoint lag` can ask
 * the source where its end is. Kept in the settings table. */
int sk_state_set_endpoint(sk_state *st, const char *name, const char *source,
                          const char *endpoint, sk_err *e);
/* 1 and *endpoint (malloc'd) when one is recorded, 0 when none, -1 on error. */
int sk_state_get_endpoint(sk_state *st, const char *name, const char *source,
                          char **endpoint, sk_err *e);
typedef int (*sk_endpoint_cb)(void *arg, const char *source, const char *endpoint);
/* Every endpoint recorded for name, by source; stops at the first non-zero
 * return of cb and returns it. */
int sk_state_each_endpoint(sk_state *st, const char *name, sk_endpoint_cb cb, void *arg,
                           sk_err *e);

/* A short value a source module keeps for (name, source) under the label
 * what, besides positions: the sizes of the files a reader left, so that
 * the next start can say how much of a file that is gone was never read.
 * get: 1 and *value (malloc'd), 0 when none, -1 on error. */
int sk_state_get_note(sk_state *st, const char *name, const char *source, const char *what,
                      char **value, sk_err *e);
int sk_state_set_note(sk_state *st, const char *name, const char *source, const char *what,
                      const char *value, sk_err *e);

#endif
