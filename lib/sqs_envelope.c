/* sqs_envelope.c - an SQS message as stream-read's envelope (the fields
 * are listed in source_sqs.c), queued with its cursor until returned; a
 * body longer than --max-line queued as a bad message, located by its id. */
#include <string.h>

#include "source_sqs_impl.h"

static int queue_entry(struct sk_sqs_src *ss, struct sk_sqs_queued **out)
{
	if (sk_grow(&ss->qv, &ss->qcap, ss->qn, sizeof *ss->qv, 64) < 0)
		return -1;
	*out = &ss->qv[ss->qn];
	memset(*out, 0, sizeof **out);
	return 0;
}

static int all_digits(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int add_member(sk_buf *b, const char *name, const char *v)
{
	return sk_buf_addc(b, ',') < 0 || sk_json_add_string(b, name, strlen(name)) < 0 ||
	       sk_buf_addc(b, ':') < 0 || sk_json_add_string(b, v, strlen(v)) < 0 ? -1 : 0;
}

static int add_number(sk_buf *b, const char *name, const char *v)
{
	return sk_buf_printf(b, ",\"%s\":", name) < 0 ||
	       (all_digits(v) ? sk_buf_adds(b, v) : sk_buf_adds(b, "null")) < 0 ? -1 : 0;
}

static int add_attributes(sk_buf *b, const sk_sqs_message *m)
{
	size_t i;
	int first = 1;

	if (sk_buf_adds(b, ",\"attributes\":{") < 0)
		return -1;
	if (m->attributes) {
		json_object_object_foreach(m->attributes, k, v) {
			const char *s = json_object_get_string(v);

			if ((first ? 0 : sk_buf_addc(b, ',')) < 0 || sk_json_add_string(b, k, strlen(k)) < 0 ||
			    sk_buf_addc(b, ':') < 0 || sk_json_add_string(b, s ? s : "", s ? strlen(s) : 0) < 0)
				return -1;
			first = 0;
		}
	}
	if (sk_buf_adds(b, "},\"message_attributes\":{") < 0)
		return -1;
	for (i = 0; i < m->n_attrs; i++) {
		const sk_sqs_attr *a = &m->attrs[i];

		if ((i ? sk_buf_addc(b, ',') : 0) < 0 || sk_json_add_string(b, a->name, strlen(a->name)) < 0 ||
		    sk_buf_adds(b, ":{\"type\":") < 0 || sk_json_add_string(b, a->type, strlen(a->type)) < 0 ||
		    sk_buf_adds(b, ",\"value\":") < 0 || sk_json_add_string(b, a->value, a->value_len) < 0 ||
		    sk_buf_addc(b, '}') < 0)
			return -1;
	}
	return sk_buf_addc(b, '}');
}

static int fifo_members(sk_buf *b, const sk_sqs_message *m)
{
	static const char *const names[][2] = {
		{ "MessageGroupId", "group_id" },
		{ "MessageDeduplicationId", "deduplication_id" },
		{ "SequenceNumber", "sequence_number" },
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *v = sk_sqs_message_attribute(m, names[i][0]);

		if ((v ? add_member(b, names[i][1], v)
		       : sk_buf_printf(b, ",\"%s\":null", names[i][1])) < 0)
			return -1;
	}
	return 0;
}

int sk_sqs_envelope(struct sk_sqs_src *ss, const sk_sqs_message *m, uint64_t seq, sk_err *e)
{
	struct sk_sqs_queued *x;
	sk_buf *q = &ss->q;

	if (queue_entry(ss, &x) < 0)
		return sk_err_oom(e);
	x->seq = seq;
	x->env = q->len;
	if (ss->max_body && m->body_len > ss->max_body) {
		if (sk_buf_adds(q, "{\"message_id\":") < 0 || sk_json_add_string(q, m->id, strlen(m->id)) < 0 ||
		    sk_buf_printf(q, ",\"bytes\":%zu}", m->body_len) < 0)
			return sk_err_oom(e);
		x->env_len = q->len - x->env;
		x->why = q->len + 1;
		if (sk_buf_printf(q, "%c%s: %zu bytes, more than --max-line%c", 0, m->id, m->body_len, 0) < 0)
			return sk_err_oom(e);
		ss->qn++;
		return 0;
	}
	if (sk_buf_adds(q, "{\"id\":") < 0 || sk_json_add_string(q, m->id, strlen(m->id)) < 0 ||
	    sk_buf_adds(q, ",\"value\":") < 0 || sk_json_add_text(q, ss->jp, m->body, m->body_len, ss->json) < 0 ||
	    add_attributes(q, m) < 0 ||
	    add_number(q, "sent_timestamp", sk_sqs_message_attribute(m, "SentTimestamp")) < 0 ||
	    add_number(q, "receive_count", sk_sqs_message_attribute(m, "ApproximateReceiveCount")) < 0 ||
	    (ss->queue.fifo && fifo_members(q, m) < 0) || sk_buf_adds(q, ",\"_cursor\":\"") < 0 ||
	    sk_json_add_chars(q, ss->cursor_head.p, ss->cursor_head.len) < 0 ||
	    sk_buf_printf(q, "%llu\"}", (unsigned long long)seq) < 0)
		return sk_err_oom(e);
	x->env_len = q->len - x->env;
	sk_json_take_kept(ss->jp, q, x->env, &x->value);
	x->cursor = q->len + 1;
	if (sk_buf_addc(q, '\0') < 0 || sk_buf_add(q, ss->cursor_head.p, ss->cursor_head.len) < 0 ||
	    sk_buf_printf(q, "%llu", (unsigned long long)seq) < 0)
		return sk_err_oom(e);
	ss->qn++;
	return 0;
}

