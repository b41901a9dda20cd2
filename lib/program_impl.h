/* program_impl.h - what the parts of the jq program module share: the
 * builder that makes jv values of inputs and remembers their integers
 * beyond 2^53, and the calls between the parts. Shared by program.c
 * (compiling and running), program_parse.c (JSON text and json-c values
 * into jv) and program_print.c (jv out, as JSON text or json-c values). */
#ifndef SK_PROGRAM_IMPL_H
#define SK_PROGRAM_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <jq.h>
#include "program.h"

#define TWO_53 9007199254740992.0
#define KEY_CACHE 256               /* entries, a power of two */

/* An integer of the input too large for a double to hold exactly, so that
 * a result passing it through unchanged can write it exactly. */
struct sk_big_int {
	double d;
	int ambiguous;              /* another integer of the input has this double */
	enum { SK_BIG_TEXT, SK_BIG_SIGNED, SK_BIG_UNSIGNED } kind;
	const char *text;           /* SK_BIG_TEXT: its digits in the input text */
	size_t len;
	size_t at;                  /* and where they start in it (struct sk_program_input) */
	int64_t i;
	uint64_t u;
};

struct sk_cached_key {
	jv key;                     /* a string, or null when the entry is free */
	size_t len;
};

/* The integers beyond 2^53 of an input. */
struct sk_big_ints {
	struct sk_big_int *v;
	size_t n, cap;
};

/* What building jv values keeps from one input to the next. */
struct sk_jv_builder {
	struct sk_cached_key keys[KEY_CACHE];
	int big_seen;               /* the input has a number beyond 2^53 */
	struct sk_big_ints big;     /* of the current input */
};


/* A value built ahead of its run, with its integers beyond 2^53: those
 * of the text kind point nowhere yet (their text is where the run's text
 * is, which may have moved since), but hold their offset in it. */
struct sk_program_input {
	jv v;
	struct sk_big_int *ints;
	size_t nints;
};

/* program_parse.c */

void sk_jv_builder_init(struct sk_jv_builder *bd);
void sk_jv_builder_clear(struct sk_jv_builder *bd);
/* s[0..n) as jq parses it (t: cJSON has read it already, or NULL); an
 * invalid jv with jq's message when it is not one JSON value. */
jv sk_jv_parse(struct sk_jv_builder *bd, const char *s, int n, const sk_program_text *t);
/* s[0..n) read by jq's own parser. */
jv sk_jv_parse_jq(const char *s, int n);
/* A json-c value (NULL is null) as a jv. */
jv sk_jv_from_json(struct sk_jv_builder *bd, json_object *o);
/* The integer of the input whose double d is, if there is exactly one. */
const struct sk_big_int *sk_big_int_find(const struct sk_big_ints *ints, double d);
/* to's integers become v[0..n): -1 on ENOMEM. */
int sk_big_ints_set(struct sk_big_ints *to, const struct sk_big_int *v, size_t n);

/* program_print.c */

/* Append v (not consumed) as compact JSON, as `jq -c` writes it. */
int sk_jv_add(sk_buf *b, const struct sk_big_ints *ints, jv v);
/* The members of an object, without "_cursor" when skip_cursor is set;
 * *count: how many were written. */
int sk_jv_add_members(sk_buf *b, const struct sk_big_ints *ints, jv o, int skip_cursor, int *count);
/* v as a new json-c value in *out (NULL for null). */
int sk_jv_to_json(const struct sk_big_ints *ints, jv v, json_object **out, sk_err *e);

#endif
