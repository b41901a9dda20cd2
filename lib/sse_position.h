/* sse_position.h - what an SSE source's position is: the last event id,
 * written so that a cursor holds it unambiguously (sse_position.c). */
#ifndef SK_SSE_POSITION_H
#define SK_SSE_POSITION_H

#include <stddef.h>
#include "util.h"

/* The position of a stream that has no last event id: "%00" (an id never
 * holds NUL: the parser ignores such an id). */
#define SK_SSE_NO_ID "%00"

/* Append the position of last event id id[0..n) to b: the id, with '%',
 * ':' and control characters percent-encoded (and every byte from 0x80 on
 * when the id is not valid UTF-8), so that a cursor, split from the
 * right, gives it back byte for byte; SK_SSE_NO_ID for the empty id. -1
 * when out of memory. */
int sk_sse_position_add(sk_buf *b, const char *id, size_t n);
/* The id a position stands for, into *id (reset first): 0, or -1 when p is
 * not a position (a '%' not followed by two hex digits, a ':', a control
 * character, the NUL of "%00" anywhere but alone). ENOMEM is -2. */
int sk_sse_position_id(const char *p, size_t n, sk_buf *id);

#endif
