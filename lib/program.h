/* program.h - jq programs (libjq 1.6), compiled once and run over many
 * inputs: stream-read --filter runs one over each envelope (JSON text),
 * stream-write --map over each row (a json-c value), and the expression
 * options (Kafka key, partition, timestamp, headers; SQS group and
 * deduplication ids) take the first result of one per row.
 *
 * Results are jq's: a program's results are what `jq -c PROGRAM` prints
 * for the same input, with one difference. jq 1.6 numbers are doubles, so
 * arithmetic on integers beyond 2^53 loses precision, and jq prints
 * 9007199254740993 as 9007199254740992. Here an integer of the input that
 * reaches a result unchanged keeps its exact value: a result's number that
 * is the double of exactly one large integer of the input is written as
 * that integer. */
#ifndef SK_PROGRAM_H
#define SK_PROGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "json.h"
#include "util.h"

/* --arg and --argjson, bound as $NAME (and in $ARGS.named) as in jq. */
typedef struct sk_program_args sk_program_args;

sk_program_args *sk_program_args_new(void);
void sk_program_args_free(sk_program_args *a);
/* $name is the string value. As in jq, the first binding of a name wins. */
int sk_program_args_add(sk_program_args *a, const char *name, const char *value, sk_err *e);
/* $name is the JSON text's value; EX_USAGE when text is not one JSON value. */
int sk_program_args_add_json(sk_program_args *a, const char *name, const char *text, sk_err *e);

typedef struct sk_program sk_program;

/* Compile a program, with args (NULL: none). NULL on failure: EX_USAGE
 * and jq's own message ("jq: error: ... at <top-level>, line 1: ..."). */
sk_program *sk_program_compile(const char *text, const sk_program_args *args, sk_err *e);
void sk_program_free(sk_program *p);
struct sk_kindopts;
/* The program of the endpoint option --NAME (an expression over rows),
 * compiled into *out when it was given; *out is left alone when it was
 * not. -1 with jq's message prefixed "--NAME". */
int sk_program_compile_option(const struct sk_kindopts *given, const char *name, const sk_program_args *args,
                              sk_program **out, sk_err *e);

/* One result of a run; valid only during the callback that receives it. */
typedef struct sk_result sk_result;

enum sk_result_kind {
	SK_RESULT_NULL, SK_RESULT_FALSE, SK_RESULT_TRUE, SK_RESULT_NUMBER,
	SK_RESULT_STRING, SK_RESULT_ARRAY, SK_RESULT_OBJECT,
};

/* Called for each result, in order. 0 to go on; anything else stops the
 * run, which returns it (a positive value: stopped on purpose; -1: an
 * error the callback set in e). */
typedef int (*sk_result_cb)(void *arg, const sk_result *r, sk_err *e);

/* Run p over the JSON text s[0..n), or over a json-c value (NULL is
 * null). 0 when every result was delivered (there may be none). -1 with
 * EX_DATAERR when the input is not JSON or the program fails on it
 * ("jq: error: Cannot index number with \"a\""); the results delivered
 * before such an error are the caller's to keep or drop. */
int sk_program_run_text(sk_program *p, const char *s, size_t n, sk_result_cb cb, void *arg, sk_err *e);
int sk_program_run_json(sk_program *p, json_object *in, sk_result_cb cb, void *arg, sk_err *e);

/* Reading the text is the costliest part of a run over text; a caller with
 * a thread to spare reads it ahead (with cJSON) and hands the result to the
 * run. NULL when the text is left to the run (jq's own parser reads what
 * cJSON would not read as jq does) or on ENOMEM. cJSON's parser writes a
 * global: read texts on one thread only, and free them on it. */
typedef struct sk_program_text sk_program_text;
sk_program_text *sk_program_read_text(const char *s, size_t n);
/* The same for an object s[0..n) that embeds a value already read (k, a
 * member of the object: sk_msg.value), which it takes: only the rest of
 * the text is read. */
sk_program_text *sk_program_read_with(const char *s, size_t n, sk_json_kept *k);
void sk_program_text_free(sk_program_text *t);
/* sk_program_run_text over s[0..n), which t (may be NULL) holds read. */
int sk_program_run_read(sk_program *p, const char *s, size_t n, const sk_program_text *t,
                        sk_result_cb cb, void *arg, sk_err *e);

/* Further ahead still: the value a run takes, built from a text read
 * (libjq's values, made without a jq_state). Building keeps the names of
 * members, strings that values share and count, from one input to the
 * next in an sk_program_inputs. libjq's counts are not atomic: an
 * sk_program_inputs and the inputs built with it belong to one thread at a
 * time, and the thread that runs them calls sk_program_release before
 * they change hands again. */
typedef struct sk_program_inputs sk_program_inputs;
typedef struct sk_program_input sk_program_input;
sk_program_inputs *sk_program_inputs_new(void);      /* NULL on ENOMEM */
void sk_program_inputs_free(sk_program_inputs *b);
/* The value of s[0..n), which t holds read; s must outlive it. NULL when
 * the text is left to jq's parser (t is NULL, or cJSON read it otherwise
 * than jq would), or on ENOMEM. */
sk_program_input *sk_program_input_new(sk_program_inputs *b, const char *s, size_t n, const sk_program_text *t);
void sk_program_input_free(sk_program_input *in);
/* sk_program_run_text over s[0..n), built as in (NULL: the text is read
 * by jq's parser). The input stays the caller's, to free after
 * sk_program_release, on the thread that built it: its memory goes back
 * where it came from, and a run never frees what another thread may be
 * allocating beside. */
int sk_program_run_input(sk_program *p, const char *s, size_t n, const sk_program_input *in, sk_result_cb cb,
                         void *arg, sk_err *e);
/* The program lets go of the last value it ran over. */
void sk_program_release(sk_program *p);

enum sk_result_kind sk_result_kind(const sk_result *r);
const char *sk_result_kind_name(const sk_result *r);     /* "object", "number" ... */
/* A string result's bytes (which may hold NUL), else NULL. */
const char *sk_result_string(const sk_result *r, size_t *len);
/* Append the result as compact JSON text, as `jq -c` prints it. */
int sk_result_add_json(const sk_result *r, sk_buf *b);
/* Append the result as an envelope: an object without its own "_cursor"
 * and with "_cursor":cursor last; any other value as
 * {"value":RESULT,"_cursor":cursor}. */
int sk_result_add_envelope(const sk_result *r, const char *cursor, sk_buf *b);
/* The result as a new json-c value; NULL for null (e->code 0) or on
 * failure (EX_DATAERR: an object key holding NUL, which json-c cannot). */
json_object *sk_result_to_json(const sk_result *r, sk_err *e);

/* A program is used by one thread at a time. */

/* For expressions: the first result over a row (later ones are not
 * computed). 1 with the value, 0 when there is no result or it is null,
 * -1 on error (EX_DATAERR). */
int sk_program_first_json(sk_program *p, json_object *in, json_object **out, sk_err *e);
/* A string result as it is, any other as compact JSON text; *out is
 * malloc'd and NUL-terminated, *len its length (it may hold NUL). */
int sk_program_first_string(sk_program *p, json_object *in, char **out, size_t *len, sk_err *e);
/* An integer result; EX_DATAERR for anything else than an integral number
 * in the int64 range. */
int sk_program_first_int(sk_program *p, json_object *in, int64_t *out, sk_err *e);

#endif
