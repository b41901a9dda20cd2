/* run_status.h - what stream-run --status and stream-checkpoint show say
 * of a supervised name and its attempts, as text or JSON, and durations
 * as people read them. */
#ifndef SK_RUN_STATUS_H
#define SK_RUN_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include "state.h"
#include "util.h"

/* --- durations for people --- */

/* "250ms", "1.5s", "42s", "3m12s", "2h5m", "3d4h". */
void sk_duration_format(int64_t ms, char *buf, size_t size);

/* --- the status of a supervised name --- */

/* stream-run --status NAME and stream-checkpoint show NAME: the
 * supervisor's state as "key: value" lines, or one JSON object (no
 * newline) when json. */
int sk_run_status_format(sk_buf *b, const sk_run_info *r, int64_t now_ms, int json);
/* One attempt of the history: a line "  attempt 3  pid 42  started 5m ago
 * ran 1.2s  exited with status 75" (no newline), or a JSON object. An
 * attempt that ended by a signal without a failure recorded ended by the
 * SIGHUP passed on to it, and says so. */
int sk_attempt_format(sk_buf *b, const sk_attempt *a, int64_t now_ms, int json);

#endif
