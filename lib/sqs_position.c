/* sqs_position.c - SQS positions: "SESSION.SEQ", the SEQth message a
 * reader returned in its session (16 hex digits of its own). A queue has no
 * position to resume from: a position says what a checkpoint covers, so
 * that the reader that returned the messages deletes them. Two positions
 * order only within one session; one partition, 0; no lag known. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "source_impl.h"
#include "source_sqs_impl.h"

int sk_sqs_position_parse(const char *pos, char session[SK_SQS_SESSION_LEN + 1], uint64_t *seq)
{
	unsigned long long v;
	char *end;
	size_t i;

	for (i = 0; i < SK_SQS_SESSION_LEN; i++)
		if (!strchr("0123456789abcdef", pos[i]) || pos[i] == '\0')
			return -1;
	if (pos[i] != '.' || pos[i + 1] < '1' || pos[i + 1] > '9')
		return -1;
	errno = 0;
	v = strtoull(pos + i + 1, &end, 10);
	if (errno || *end != '\0')
		return -1;
	memcpy(session, pos, SK_SQS_SESSION_LEN);
	session[SK_SQS_SESSION_LEN] = '\0';
	*seq = v;
	return 0;
}

static int parse_n(const char *p, size_t n, char session[SK_SQS_SESSION_LEN + 1], uint64_t *seq)
{
	char buf[64];

	if (n >= sizeof buf)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return sk_sqs_position_parse(buf, session, seq);
}

static int position_compare(const char *a, size_t na, const char *b, size_t nb)
{
	char sa[SK_SQS_SESSION_LEN + 1], sb[SK_SQS_SESSION_LEN + 1];
	uint64_t qa, qb;

	if (parse_n(a, na, sa, &qa) < 0 || parse_n(b, nb, sb, &qb) < 0 || strcmp(sa, sb) != 0)
		return na == nb && memcmp(a, b, na) == 0 ? 0 : SK_POSITION_INCOMPARABLE;
	return qa < qb ? -1 : qa > qb;
}

static int position_check(const char *source, const char *partition, const char *position, sk_err *e)
{
	char session[SK_SQS_SESSION_LEN + 1];
	uint64_t seq;

	if (strcmp(partition, "0") != 0)
		return sk_err_set(e, EX_USAGE, "invalid partition '%s' for %s (a queue has one partition, 0)",
		                  partition, source);
	if (sk_sqs_position_parse(position, session, &seq) < 0)
		return sk_err_set(e, EX_USAGE, "invalid position for %s (expected SESSION.N: a reader's 16 hex "
		                  "digits and the number of a message it returned)", source);
	return 0;
}

/* "message 42 of reader session 5f3a...", and the two as JSON. */
static int position_describe(const char *position, sk_buf *text, sk_buf *json)
{
	char session[SK_SQS_SESSION_LEN + 1];
	uint64_t seq;

	if (sk_sqs_position_parse(position, session, &seq) < 0)
		return sk_buf_adds(text, position);
	return sk_buf_printf(text, "message %llu of reader session %s", (unsigned long long)seq, session) < 0 ||
	       sk_buf_printf(json, ",\"session\":\"%s\",\"message\":%llu", session, (unsigned long long)seq) < 0
	       ? -1 : 0;
}

const struct sk_position_ops sk_position_sqs_ops = {
	.prefix = "sqs:",
	.compare = position_compare,
	.check = position_check,
	.describe = position_describe,
};
