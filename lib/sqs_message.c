/* sqs_message.c - the message stream-write makes of a row for SQS.
 *
 * Its body is the row as compact JSON text, or the first result of the
 * value expression (a string as its bytes, any other value as its JSON
 * text). The group id and deduplication id (a string, any other value
 * as its JSON text) and the delay (an integer number of seconds, 0 to
 * 900) come from expressions too; null or no result: none. The
 * attributes expression gives an object, as stream-read prints a
 * message's: NAME: {"type": T, "value": V}, a Binary value as its base64
 * text (sent decoded); or NAME: a string (a String attribute) or a number
 * (a Number); a null member is no attribute.
 *
 * What SQS would refuse is refused here, before anything is sent, as a
 * bad row of its own, so that a later failure of a batch is never the
 * fault of one row: a message (body and attributes) over the queue's
 * MaximumMessageSize, which is never truncated; an empty body, or one
 * holding characters SQS does not take; on a FIFO queue a message
 * without a group id, without a deduplication id where the queue does
 * not deduplicate by content, or with a delay; a deduplication id on
 * another queue; ids and attributes SQS would not take. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "options.h"
#include "program.h"
#include "sink_sqs_impl.h"

#define ATTRS_MAX 10        /* message attributes SQS takes on a message */
#define ID_MAX 128          /* a group or deduplication id */
#define ATTR_NAME_MAX 256
#define DELAY_MAX 900

int sk_sqs_exprs_compile(struct sk_sqs_exprs *x, const sk_kindopts *given, const sk_program_args *args,
                         sk_err *e)
{
	if (sk_program_compile_option(given, "value", args, &x->value, e) < 0 ||
	    sk_program_compile_option(given, "group-id", args, &x->group_id, e) < 0 ||
	    sk_program_compile_option(given, "deduplication-id", args, &x->dedup_id, e) < 0 ||
	    sk_program_compile_option(given, "delay", args, &x->delay, e) < 0 ||
	    sk_program_compile_option(given, "attributes", args, &x->attributes, e) < 0)
		return -1;
	return 0;
}

int sk_sqs_exprs_none(const struct sk_sqs_exprs *x)
{
	return !x->value && !x->group_id && !x->dedup_id && !x->delay && !x->attributes;
}

void sk_sqs_exprs_free(struct sk_sqs_exprs *x)
{
	sk_program_free(x->value);
	sk_program_free(x->group_id);
	sk_program_free(x->dedup_id);
	sk_program_free(x->delay);
	sk_program_free(x->attributes);
	memset(x, 0, sizeof *x);
}

/* A message's parts while they are made: pieces of one buffer. */
struct piece {
	size_t at, len;
	int has;
};

struct parts {
	sk_buf b, bin;
	struct piece body, group, dedup;
	struct piece name[ATTRS_MAX], type[ATTRS_MAX], value[ATTRS_MAX];
	size_t nattrs;
	int64_t delay;              /* -1: none */
};

static int add_piece(struct parts *m, struct piece *p, const char *s, size_t n, sk_err *e)
{
	p->at = m->b.len;
	p->len = n;
	p->has = 1;
	/* each piece NUL-terminated: ids are C strings */
	if (sk_buf_add(&m->b, s, n) < 0 || sk_buf_addc(&m->b, '\0') < 0)
		return sk_err_oom(e);
	return 0;
}

/* The first result of p over row as text, into *piece: 0 (has 0 when
 * none or null), or -1 prefixed with opt. */
static int text_of(struct parts *m, sk_program *p, json_object *row, struct piece *piece, const char *opt,
                   sk_err *e)
{
	char *s;
	size_t n;
	int rc;

	if (p == NULL)
		return 0;
	if ((rc = sk_program_first_string(p, row, &s, &n, e)) <= 0)
		return rc < 0 ? sk_err_prefix(e, "%s", opt) : 0;
	rc = add_piece(m, piece, s, n, e);
	free(s);
	return rc;
}

/* SQS takes #x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD and
 * #x10000 to #x10FFFF; in valid UTF-8 (what jq and the writer give)
 * the others are control bytes and U+FFFE and U+FFFF (EF BF BE/BF). */
static int check_chars(const char *what, const char *s, size_t n, sk_err *e)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
			return sk_err_set(e, EX_DATAERR, "%s holds the character U+%04X, which SQS does not take "
			                  "(at byte %zu)", what, p[i], i);
		if (p[i] == 0xEF && i + 2 < n && p[i + 1] == 0xBF && (p[i + 2] == 0xBE || p[i + 2] == 0xBF))
			return sk_err_set(e, EX_DATAERR, "%s holds the character U+FFF%c, which SQS does not take "
			                  "(at byte %zu)", what, p[i + 2] == 0xBE ? 'E' : 'F', i);
	}
	return 0;
}

/* A group or deduplication id: 1 to 128 of the printable ASCII characters. */
static int check_id(const char *opt, const char *s, size_t n, sk_err *e)
{
	size_t i;

	if (n == 0 || n > ID_MAX)
		return sk_err_set(e, EX_DATAERR, "%s: an id of %zu characters (SQS takes 1 to %d)", opt, n, ID_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < '!' || (unsigned char)s[i] > '~')
			return sk_err_set(e, EX_DATAERR, "%s: the id holds a character SQS does not take "
			                  "(letters, digits and ASCII punctuation only)", opt);
	return 0;
}

static int check_attr_name(const char *name, size_t n, sk_err *e)
{
	size_t i;

	if (n == 0 || n > ATTR_NAME_MAX)
		return sk_err_set(e, EX_DATAERR, "--attributes: a name of %zu characters (SQS takes 1 to %d)", n,
		                  ATTR_NAME_MAX);
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-' || name[i] == '.'))
			return sk_err_set(e, EX_DATAERR, "--attributes: the name \"%.64s\" holds a character SQS "
			                  "does not take (letters, digits, _, - and . only)", name);
	return 0;
}

/* One attribute, NAME: v, as the top of this file says. */
static int add_attr(struct parts *m, const char *name, json_object *v, sk_err *e)
{
	size_t i = m->nattrs, nlen = strlen(name);
	json_object *t = NULL, *val = v;
	const char *type, *s;
	size_t n;

	if (v == NULL)
		return 0;
	if (check_attr_name(name, nlen, e) < 0)
		return -1;
	if (i == ATTRS_MAX)
		return sk_err_set(e, EX_DATAERR, "--attributes: more than %d attributes (SQS takes %d a message)",
		                  ATTRS_MAX, ATTRS_MAX);
	if (json_object_is_type(v, json_type_object) &&
	    (!json_object_object_get_ex(v, "type", &t) || !json_object_is_type(t, json_type_string) ||
	     !json_object_object_get_ex(v, "value", &val)))
		return sk_err_set(e, EX_DATAERR, "--attributes: %s: expected {\"type\": TYPE, \"value\": VALUE}", name);
	type = t ? json_object_get_string(t) : json_object_is_type(v, json_type_string) ? "String" : "Number";
	if (strncmp(type, "String", 6) != 0 && strncmp(type, "Number", 6) != 0 && strncmp(type, "Binary", 6) != 0)
		return sk_err_set(e, EX_DATAERR, "--attributes: %s: the type \"%.64s\" is none of String, Number "
		                  "and Binary", name, type);
	if (!json_object_is_type(val, json_type_string) &&
	    (strncmp(type, "Number", 6) != 0 || !(json_object_is_type(val, json_type_int) ||
	                                          json_object_is_type(val, json_type_double))))
		return sk_err_set(e, EX_DATAERR, "--attributes: %s: expected a string%s, got %s", name,
		                  t ? "" : " or a number", json_type_to_name(json_object_get_type(val)));
	s = json_object_get_string(val);
	n = json_object_is_type(val, json_type_string) ? (size_t)json_object_get_string_len(val) : strlen(s);
	if (strncmp(type, "Binary", 6) == 0) {
		if (sk_base64_decode(s, n, &m->bin) < 0)
			return sk_err_set(e, EX_DATAERR, "--attributes: %s: a Binary value is its bytes in base64", name);
		s = m->bin.p ? m->bin.p : "";
		n = m->bin.len;
	} else if (check_chars("--attributes: a value", s, n, e) < 0) {
		return -1;
	}
	if (n == 0)
		return sk_err_set(e, EX_DATAERR, "--attributes: %s: an empty value (SQS takes none)", name);
	if (add_piece(m, &m->name[i], name, nlen, e) < 0 || add_piece(m, &m->type[i], type, strlen(type), e) < 0 ||
	    add_piece(m, &m->value[i], s, n, e) < 0)
		return -1;
	m->nattrs++;
	return 0;
}

static int row_attrs(struct parts *m, sk_program *p, json_object *row, sk_err *e)
{
	json_object *obj;
	int rc;

	if (p == NULL)
		return 0;
	if ((rc = sk_program_first_json(p, row, &obj, e)) <= 0)
		return rc < 0 ? sk_err_prefix(e, "--attributes") : 0;
	if (!json_object_is_type(obj, json_type_object)) {
		sk_err_set(e, EX_DATAERR, "--attributes: expected an object (NAME: {\"type\": TYPE, \"value\": VALUE}), "
		           "got %s", json_type_to_name(json_object_get_type(obj)));
		json_object_put(obj);
		return -1;
	}
	rc = 0;
	json_object_object_foreach(obj, name, v) {
		if (rc == 0)
			rc = add_attr(m, name, v, e);
	}
	json_object_put(obj);
	return rc;
}

/* The body: text, the row's JSON text, or what --value gives. */
static int body_of(struct sk_sqs_sink *s, struct parts *m, json_object *row, const char *text, size_t n, sk_err *e)
{
	if (row == NULL)
		return add_piece(m, &m->body, text, n, e);
	if (s->x.value)
		return text_of(m, s->x.value, row, &m->body, "--value", e);
	m->body.at = m->b.len;
	if (sk_json_add_object(&m->b, row) < 0 || sk_buf_addc(&m->b, '\0') < 0)
		return sk_err_oom(e);
	m->body.len = m->b.len - 1 - m->body.at;
	m->body.has = 1;
	return 0;
}

static int delay_of(struct sk_sqs_sink *s, struct parts *m, json_object *row, sk_err *e)
{
	int64_t d;
	int rc;

	if (s->x.delay == NULL)
		return 0;
	if ((rc = sk_program_first_int(s->x.delay, row, &d, e)) <= 0)
		return rc < 0 ? sk_err_prefix(e, "--delay") : 0;
	m->delay = d;
	if (m->delay < 0 || m->delay > DELAY_MAX)
		return sk_err_set(e, EX_DATAERR, "--delay: %" PRId64 " s is not a delay (SQS takes 0 to %d s)",
		                  m->delay, DELAY_MAX);
	return 0;
}

/* What SQS would refuse of the message, as the top of this file says. */
static int check_message(struct sk_sqs_sink *s, struct parts *m, sk_err *e)
{
	const char *b = m->b.p;
	size_t size = m->body.len, i;

	if (!m->body.has || m->body.len == 0)
		return sk_err_set(e, EX_DATAERR, "%s", s->x.value ? "--value: no body (SQS takes no empty message)"
		                  : "an empty body (SQS takes no empty message)");
	if (check_chars("the body", b + m->body.at, m->body.len, e) < 0)
		return -1;
	if ((m->group.has && check_id("--group-id", b + m->group.at, m->group.len, e) < 0) ||
	    (m->dedup.has && check_id("--deduplication-id", b + m->dedup.at, m->dedup.len, e) < 0))
		return -1;
	if (s->queue.fifo) {
		if (!m->group.has)
			return sk_err_set(e, EX_DATAERR, "a message to a FIFO queue needs a group id (--group-id)%s",
			                  s->x.group_id ? ": the expression gave none" : "");
		if (!m->dedup.has && !s->content_dedup)
			return sk_err_set(e, EX_DATAERR, "the FIFO queue does not deduplicate by content: a message "
			                  "needs a deduplication id (--deduplication-id)");
		if (m->delay >= 0)
			return sk_err_set(e, EX_DATAERR, "--delay: FIFO queues take no delay per message");
	} else if (m->dedup.has) {
		return sk_err_set(e, EX_DATAERR, "--deduplication-id: only FIFO queues take one");
	}
	for (i = 0; i < m->nattrs; i++)
		size += m->name[i].len + m->type[i].len + m->value[i].len;
	if ((long)size > s->max_size || size > SK_SQS_BATCH_BYTES)
		return sk_err_set(e, EX_DATAERR, "a message of %zu bytes (body%s) is over the queue's "
		                  "MaximumMessageSize of %ld bytes: not sent", size,
		                  m->nattrs ? " and attributes" : "", s->max_size);
	return 0;
}

/* The message, in one allocation, pointing into its own copy of m's bytes. */
static int make_out(const struct parts *m, struct sk_sqs_out **out, sk_err *e)
{
	struct sk_sqs_out *o = malloc(sizeof *o + m->b.len);
	size_t i;

	if (o == NULL)
		return sk_err_oom(e);
	memset(o, 0, sizeof *o);
	memcpy(o->data, m->b.p, m->b.len);
	if (m->nattrs && (o->attrs = calloc(m->nattrs, sizeof *o->attrs)) == NULL) {
		free(o);
		return sk_err_oom(e);
	}
	for (i = 0; i < m->nattrs; i++) {
		o->attrs[i].name = o->data + m->name[i].at;
		o->attrs[i].type = o->data + m->type[i].at;
		o->attrs[i].value = o->data + m->value[i].at;
		o->attrs[i].value_len = m->value[i].len;
	}
	o->entry.body = o->data + m->body.at;
	o->entry.body_len = m->body.len;
	o->entry.group_id = m->group.has ? o->data + m->group.at : NULL;
	o->entry.deduplication_id = m->dedup.has ? o->data + m->dedup.at : NULL;
	o->entry.delay_seconds = (int)m->delay;
	o->entry.attrs = o->attrs;
	o->entry.n_attrs = m->nattrs;
	*out = o;
	return 0;
}

int sk_sqs_message_of(struct sk_sqs_sink *s, json_object *row, const char *text, size_t n,
                      struct sk_sqs_out **out, sk_err *e)
{
	struct parts m;
	int rc;

	memset(&m, 0, sizeof m);
	m.delay = -1;
	rc = body_of(s, &m, row, text, n, e) < 0 ||
	     text_of(&m, s->x.group_id, row, &m.group, "--group-id", e) < 0 ||
	     text_of(&m, s->x.dedup_id, row, &m.dedup, "--deduplication-id", e) < 0 ||
	     delay_of(s, &m, row, e) < 0 || row_attrs(&m, s->x.attributes, row, e) < 0 ||
	     check_message(s, &m, e) < 0 || make_out(&m, out, e) < 0 ? -1 : 0;
	sk_buf_free(&m.b);
	sk_buf_free(&m.bin);
	return rc;
}
