/* cursor.h - the _cursor string and sets of cursors to commit.
 *
 * A cursor is "SOURCE:PARTITION:POSITION". SOURCE names the source in the
 * state store (e.g. "file:/abs/in.ndjson", "kafka:topic"), PARTITION and
 * POSITION contain no ':'. POSITION is what the source resumes *after*
 * (a file's cursor holds the offset of the next line). */
#ifndef SK_CURSOR_H
#define SK_CURSOR_H

#include <stddef.h>
#include "err.h"
#include "util.h"

typedef struct sk_cursor_parts {
	const char *source;    size_t source_len;
	const char *partition; size_t partition_len;
	const char *position;  size_t position_len;
} sk_cursor_parts;

/* Split a cursor in place; -1 with EX_DATAERR when it is not of the form. */
int sk_cursor_split(const char *c, size_t n, sk_cursor_parts *out, sk_err *e);
/* Append "SOURCE:PARTITION:POSITION" as a JSON string literal. */
int sk_cursor_add_json(sk_buf *b, const char *source, const char *partition, const char *position);

/* The last cursor seen per (source, partition), to commit at a checkpoint. */
typedef struct sk_cursorset sk_cursorset;
sk_cursorset *sk_cursorset_new(void);
void sk_cursorset_free(sk_cursorset *cs);
/* Record a cursor; it replaces the one of the same (source, partition). */
int sk_cursorset_add(sk_cursorset *cs, const char *cursor, size_t n, sk_err *e);
/* Add every entry of src to dst (src's positions win). */
int sk_cursorset_merge(sk_cursorset *dst, const sk_cursorset *src, sk_err *e);
size_t sk_cursorset_count(const sk_cursorset *cs);
void sk_cursorset_clear(sk_cursorset *cs);
typedef int (*sk_cursor_cb)(void *arg, const char *source, const char *partition, const char *position);
/* Calls cb for each entry, stops at the first non-zero return and returns it. */
int sk_cursorset_each(const sk_cursorset *cs, sk_cursor_cb cb, void *arg);
/* Append the first max cursors to b, each after a space, then " and N more"
 * for the rest: a checkpoint of a topic of 64 partitions stays one line.
 * -1 when out of memory. */
int sk_cursorset_format(const sk_cursorset *cs, size_t max, sk_buf *b);

#endif
