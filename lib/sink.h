/* sink.h - where rows go. Tools see only this interface (and writer.h). */
#ifndef SK_SINK_H
#define SK_SINK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "err.h"
#include "endpoint.h"
#include "state.h"
#include "cursor.h"
#include "schema.h"
#include "program.h"
#include "options.h"
#include "json.h"

typedef struct sk_sink_opts {
	const char *name;          /* recipe name; cursors are committed under it */
	sk_state *state;           /* open when name is set */
	const sk_schema *schema;   /* --schema, or NULL (copied by open) */
	/* The options of the endpoint's kind given (sk_sink_option_groups),
	 * which its module reads and checks; NULL: none. */
	const sk_kindopts *kindopts;
	/* --arg, --argjson for the jq programs among them (SK_OPTF_PROGRAM),
	 * or NULL. */
	const sk_program_args *args;
	/* Set (by a signal handler) to ask for a stop, incremented by each
	 * signal: a sink waiting for its output to be confirmed gives up
	 * after a bound, at once at the second. NULL: none. */
	volatile sig_atomic_t *stop;
} sk_sink_opts;

typedef struct sk_sink sk_sink;

/* The options of every kind that can be written, a group per kind (for
 * the parser and --help). */
const sk_option_group *sk_sink_option_groups(size_t *n);
/* Whether the options given all belong to ep's kind: -1 with EX_USAGE
 * "--key is an option of kafka endpoints" when one does not (0 for a
 * kind that cannot be written: open says so). Their values are the
 * module's to check, at open (EX_USAGE). */
int sk_sink_check(const sk_endpoint *ep, const sk_kindopts *given, sk_err *e);

/* Errors name the endpoint as the user wrote it. An endpoint kind that has
 * no sink module is EX_UNAVAILABLE; one that can only be read, EX_USAGE. */
int sk_sink_open(const sk_endpoint *ep, const sk_sink_opts *o, sk_sink **out, sk_err *e);
/* The schema rows are coerced to, or NULL (rows are written as they are). */
const sk_schema *sk_sink_schema(const sk_sink *k);
/* 1 when the sink stores a schema and has none yet (a new dataset without
 * --schema): the writer infers one from the first row and gives it to
 * sk_sink_set_schema, which takes it; it is stored at the next checkpoint. */
int sk_sink_wants_schema(const sk_sink *k);
int sk_sink_set_schema(sk_sink *k, sk_schema *s, sk_err *e);

/* The functions below return 0, -1 on error, or SK_EOF when the output was
 * closed by its reader (EPIPE on stdout): a clean stop, nothing committed. */

/* Stage one row (an object, _cursor removed, already coerced). */
int sk_sink_write(sk_sink *k, json_object *row, sk_err *e);
/* The same, given the row's _cursor (NULL when it had none): a sink that
 * keeps its own positions (sqlite) drops a row its destination holds. */
int sk_sink_write_cursor(sk_sink *k, json_object *row, const char *cursor, sk_err *e);
/* Rows dropped so far because the destination held them already. */
uint64_t sk_sink_dropped(const sk_sink *k);
/* 1 when the sink stores rows as JSON text and so takes a row as the text
 * sk_json_add_object would write for it: the writer saves itself building
 * and serialising the row when the line already is that text. */
int sk_sink_takes_json(const sk_sink *k);
/* 1 when a write that fails with EX_DATAERR refused that row alone (a
 * Kafka expression failed on it), leaving the sink as before: the writer
 * makes the row's line a bad line (--on-error). Otherwise such a failure
 * ends the run. */
int sk_sink_rejects_rows(const sk_sink *k);
/* Stage one row given as that text (compact, no newline, no _cursor). */
int sk_sink_write_json(sk_sink *k, const char *text, size_t n, sk_err *e);
/* 1 when the sink takes a row as the spans of its members (CSV parts, SQLite):
 * the writer saves itself building the row when its line is an object
 * written as json-c writes it (sk_json_written_object) whose members are
 * the columns of the sink's schema in order, each of its column's type. */
int sk_sink_takes_members(const sk_sink *k);
/* Stage one row given so: m[0..n) are the members of the object text
 * (spans into it; a string value with its quotes and escapes), cut the
 * _cursor member, which is no column (SIZE_MAX: none). */
int sk_sink_write_members(sk_sink *k, const char *text, const sk_json_member *m, size_t n, size_t cut, sk_err *e);
/* Push buffered rows out (stdout while the input is idle); no commit,
 * but for a sink that commits in the background (Kafka): what is confirmed. */
int sk_sink_flush(sk_sink *k, sk_err *e);
/* A descriptor (non-blocking) that becomes readable when the sink has
 * work for sk_sink_flush while the input is idle (Kafka: delivery reports
 * came); the reader of the events empties it. -1: none. */
int sk_sink_event_fd(const sk_sink *k);
/* Before the last checkpoint of a run: a sink that confirms its output in
 * the background (Kafka) waits for it, so that the checkpoint commits
 * everything written. */
int sk_sink_finish(sk_sink *k, sk_err *e);
/* Make the staged rows part of the output and commit cs (may be NULL or
 * empty) with them: atomically for datasets, after an fsync for files;
 * for Kafka once every report of the rows before is in (in the
 * background: at a later call, sk_sink_finish at the latest). */
int sk_sink_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e);
/* A row the sink refused after its write had returned (SQS: a message
 * SQS refused for good when its batch was answered): 1 with the row's
 * text as it was sent (valid until sk_sink_refused_done) and why; 0 when
 * there is none. The writer decides on it as on a bad line (--on-error),
 * then calls sk_sink_refused_done, which lets the checkpoints after it
 * commit: until then none does. */
int sk_sink_refused(sk_sink *k, const char **text, size_t *n, const char **why);
void sk_sink_refused_done(sk_sink *k);
/* Close without committing what is staged. */
void sk_sink_close(sk_sink *k);

#endif
