/* source.h - where messages come from. Tools see only this interface. */
#ifndef SK_SOURCE_H
#define SK_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "json.h"
#include "endpoint.h"
#include "lag.h"
#include "options.h"
#include "state.h"
#include "util.h"

/* --from: earliest, latest, OFFSET, -N (N before the end), @MS (the first
 * message at or after a time). Files take earliest and latest only. */
enum sk_from { SK_FROM_EARLIEST, SK_FROM_LATEST, SK_FROM_OFFSET, SK_FROM_TAIL, SK_FROM_TIME };

typedef struct sk_source_opts {
	const char *name;      /* recipe name: resume from its positions; NULL: none */
	sk_state *state;       /* open when name is set */
	enum sk_from from;     /* where to start without a stored position */
	int64_t from_value;    /* SK_FROM_OFFSET, _TAIL, _TIME: the offset, N, ms */
	int from_given;        /* --from was given (else a URL's offset= may say) */
	int json;              /* embed values that are JSON text */
	int keep_values;       /* and keep what was read of them (sk_msg.value) */
	int base64;            /* --binary=base64: values as base64 */
	size_t max_line;       /* longest message accepted, bytes */
	/* The options of the endpoint's kind given (sk_source_option_groups),
	 * which its module reads and checks; NULL: none. Kept until close. */
	const sk_kindopts *kindopts;
	/* Write out every message returned so far (the tool's output and what
	 * its filter holds): called before waiting for the checkpoint to
	 * cover them when a source gives partitions up while running. */
	int (*flush)(void *arg, sk_err *e);
	void *flush_arg;
} sk_source_opts;

/* Parse a --from argument into o->from and o->from_value: -1 with
 * EX_USAGE and a message saying what is expected. kcat's words are
 * taken too: beginning, end, s@MS. */
int sk_from_parse(const char *s, sk_source_opts *o, sk_err *e);

typedef struct sk_msg {
	const char *env;       /* the envelope: one JSON object with _cursor, no '\n' */
	size_t env_len;
	const char *cursor;    /* the cursor alone, NUL-terminated */
	/* With keep_values, what --json read of a value the envelope embeds,
	 * or NULL: a reader that would read it again may take its tree. */
	sk_json_kept *value;
} sk_msg;

typedef struct sk_source sk_source;

/* The options of every kind that can be read, a group per kind (for the
 * parser and --help). */
const sk_option_group *sk_source_option_groups(size_t *n);
/* Whether the options given all belong to ep's kind: -1 with EX_USAGE
 * "--group is an option of kafka endpoints" when one does not (0 for a
 * kind that cannot be read: open says so). Their values are the module's
 * to check, at open (EX_USAGE). */
int sk_source_check(const sk_endpoint *ep, const sk_kindopts *given, sk_err *e);
/* 0 when ep's messages have no position to resume from (standard input). */
int sk_source_resumes(const sk_endpoint *ep);

int sk_source_open(const sk_endpoint *ep, const sk_source_opts *o, sk_source **out, sk_err *e);
/* 1 and *m (valid until the next call) when a message is ready;
 * 0 when none came within timeout_ms (-1: wait as long as it takes);
 * SK_END when caught up with the data there is now (more may come later);
 * SK_EOF when there will never be more (a file read without --follow);
 * -1 on error (e->code: EX_DATAERR bad message, which may be skipped by
 * calling again; anything else is fatal). On EX_DATAERR, m->env is a JSON
 * object locating the bad message (for a dead-letter record) and m->cursor
 * is NULL. */
int sk_source_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e);
/* A clean stop, after the tool closed its output: wait (bounded: Kafka's
 * --drain-timeout) for the downstream checkpoint (the positions stored under
 * o->name) to cover every message returned, and acknowledge upstream what
 * it covers (a Kafka group commit), or record what the next start needs
 * (the size of the file being read). 0 when nothing is left to do. */
int sk_source_drain(sk_source *s, sk_err *e);
void sk_source_close(sk_source *s);
/* Source name as it appears in cursors and in the state store. */
const char *sk_source_id(const sk_source *s);

/* What a position means, by the kind of its source: the id's prefix
 * ("file:", "kafka:"). Positions of a source of no known kind compare as
 * numbers when both are decimal digits and are otherwise equal or not. */

/* sk_position_compare: the two positions cannot be ordered (two different
 * files; text that is not equal). */
#define SK_POSITION_INCOMPARABLE 2

/* -1, 0 or 1 as a is before, at or after b in one partition of source,
 * or SK_POSITION_INCOMPARABLE. */
int sk_position_compare(const char *source, const char *a, size_t na, const char *b, size_t nb);
/* The source id as readers name it (a file's relative path made absolute,
 * symbolic links resolved), malloc'd in *out. */
int sk_position_source(const char *source, char **out, sk_err *e);
/* Whether partition and position can belong to source, for a position
 * given by hand: -1 with EX_USAGE and a message saying what is expected. */
int sk_position_check(const char *source, const char *partition, const char *position, sk_err *e);
/* position for people in *text ("4096 (inode 131077)"), and what more it
 * says as JSON members in *json (,"file":{...}: nothing when there is
 * nothing more). -1 when out of memory. */
int sk_position_describe(const char *source, const char *position, sk_buf *text, sk_buf *json);

/* The lag of one stored position, by its source's kind: its row given to
 * q->cb; or, from a kind that answers for every partition of a source at
 * once (a Kafka topic, over the network), the rows of every partition of
 * source, and *whole set. 0, the non-zero return of q->cb, or -1 with e
 * when the source's end could not be asked (its rows are listed without
 * one; *whole is set then too). */
int sk_position_lag(const sk_lag_query *q, const char *source, const char *partition,
                    const char *position, int *whole, sk_err *e);
/* The options the kinds take for lag, a group per kind that takes some:
 * *n of them. */
const sk_option_group *sk_position_lag_options(size_t *n);

#endif
