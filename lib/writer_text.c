/* writer_text.c - stream-write's row-text fast path: a line that already
 * is the text coercing and serialising its row would write (less its
 * _cursor member) goes to a sink that takes rows as text (sk_sink_takes_json)
 * as it came, and the row is never built. Three ways in: json-c's parse
 * of the slow path (sk_writer_as_written), the written object check on the
 * reader thread and each value's type read from its text for a sink with a
 * schema (sk_writer_parsed_line), and the written object check alone for a
 * sink without one (sk_writer_flat_row, then sk_writer_row_text). Whatever they take must be written exactly as the
 * slow path would write it: tests/unit/test-writer-text.c holds them to
 * that. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "writer_impl.h"

/* The member ent of a row is column col of s, and its value's text is
 * text[0..n): 1 when coercion keeps the value and serialising writes that
 * text. */
static int column_as_written(const sk_schema *s, size_t col, const struct lh_entry *ent,
                             const char *text, size_t n)
{
	json_object *v = lh_entry_v(ent), *c;
	sk_err ignored;

	if (strcmp(lh_entry_k(ent), sk_schema_col_name(s, col)) != 0)
		return 0;
	if (sk_coerce_value(sk_schema_col_type(s, col), v, &c, &ignored) < 0)
		return 0;       /* the slow path says why */
	json_object_put(c);
	return c == v && sk_json_written_as(v, text, n);
}

/* Whether the member m of the object line is named _cursor (spelt so:
 * an escaped name is json-c's to read). */
static int cursor_member(const char *line, const sk_json_member *m)
{
	return m->key_len == 7 && memcmp(line + m->key, "_cursor", 7) == 0;
}

/* Append line[0..len), an object of members m[0..n), without member
 * cut (SIZE_MAX: none), to out. */
static int cut_member(sk_buf *out, const char *line, size_t len, const sk_json_member *m, size_t n, size_t cut)
{
	size_t a, b;

	if (cut == SIZE_MAX)
		return sk_buf_add(out, line, len);
	if (cut + 1 < n) {
		/* The member and the comma after it. */
		a = m[cut].key - 1;
		b = m[cut + 1].key - 1;
	} else {
		/* The last member and the comma before it. */
		a = m[cut - 1].value + m[cut - 1].value_len;
		b = m[cut].value + m[cut].value_len;
	}
	if (sk_buf_add(out, line, a) < 0)
		return -1;
	return sk_buf_add(out, line + b, len - b);
}

/* A line that is one plain object (no white space, no escapes, no nesting)
 * holding every column in schema order, each value already of its
 * column's type, is what coercing and serialising the row would write:
 * the sink takes that text, less the _cursor member, and the row is never
 * built again. 1 when w->text holds it; 0: take the slow path. */
int sk_writer_as_written(struct sk_writer *w, json_object *row, const sk_schema *s)
{
	const sk_json_member *m;
	const struct lh_entry *ent;
	size_t n, i, col = 0, ncols, cut = SIZE_MAX;

	if (row != w->value || s == NULL || !sk_sink_takes_json(w->k) ||
	    (n = sk_json_plain_members(w->parser, &m)) == 0)
		return 0;
	ncols = sk_schema_ncols(s);
	/* json-c keeps members in the order of the text, less _cursor, taken
	 * out; a repeated key leaves fewer members than the text has, and the
	 * counts differ. */
	ent = lh_table_head(json_object_get_object(row));
	for (i = 0; i < n; i++) {
		if (cursor_member(w->line, &m[i])) {
			if (cut != SIZE_MAX)
				return 0;
			cut = i;
			continue;
		}
		if (col == ncols || ent == NULL ||
		    !column_as_written(s, col, ent, w->line + m[i].value, m[i].value_len))
			return 0;
		ent = lh_entry_next(ent);
		col++;
	}
	sk_buf_reset(&w->text);
	if (col != ncols || ent != NULL || cut_member(&w->text, w->line, w->len, m, n, cut) < 0)
		return 0;
	w->as_text = 1;
	return 1;
}

/* 1 when text[0..n) is a JSON integer, which json-c reads as an int64
 * (a fraction or an exponent makes it a double). */
static int integer_text(const char *text, size_t n)
{
	size_t i;

	for (i = text[0] == '-'; i < n; i++)
		if (text[i] < '0' || text[i] > '9')
			return 0;
	return 1;
}

/* The number text[0..n) says (JSON text: strtod reads it as JSON means
 * it), HUGE_VAL when it is too long to be a column's. */
static double number_of(const char *text, size_t n)
{
	char buf[64];

	if (n >= sizeof buf)
		return HUGE_VAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return strtod(buf, NULL);
}

/* 1 when a column of type t keeps the value whose text is text[0..n) (a
 * member of an object written as json-c writes it: sk_json_written_object
 * has checked it, so its first byte tells its type) and the sink writes
 * it back as that text: what sk_coerce_value and sk_json_written_as
 * answer for json-c's reading of the same text. Any doubt is a 0, for
 * json-c's path is the reference. */
static int keeps_text(enum sk_type t, const char *text, size_t n)
{
	size_t digits;
	double v;

	if (text[0] == 'n')
		return 1;               /* null */
	switch (t) {
	case SK_TYPE_STRING:
		return text[0] == '"';
	case SK_TYPE_BOOLEAN:
		return text[0] == 't' || text[0] == 'f';
	case SK_TYPE_DATE:
		/* A date spells no escape: a text with one is no date. */
		return text[0] == '"' && sk_schema_date_valid(text + 1, n - 2);
	case SK_TYPE_INT:
	case SK_TYPE_BIGINT:
	case SK_TYPE_FLOAT:
	case SK_TYPE_DOUBLE:
		if (text[0] != '-' && (text[0] < '0' || text[0] > '9'))
			return 0;
		if (!integer_text(text, n)) {
			/* A double keeps its text; an integer column would change it. */
			if (t != SK_TYPE_FLOAT && t != SK_TYPE_DOUBLE)
				return 0;
			v = number_of(text, n);
			return isfinite(v) && (t == SK_TYPE_DOUBLE || fabs(v) <= FLT_MAX);
		}
		/* An integer is written from its value: up to 18 digits, in range
		 * and canonical but for "-0". */
		digits = n - (text[0] == '-');
		if (digits > 18 || (n == 2 && text[0] == '-' && text[1] == '0'))
			return 0;
		if (t == SK_TYPE_INT) {
			v = number_of(text, n);
			return digits <= 15 && v >= INT32_MIN && v <= INT32_MAX;
		}
		return 1;
	case SK_TYPE_ARRAY:
		return text[0] == '[';      /* its text is json-c's (sk_json_written_object) */
	case SK_TYPE_OBJECT:
		return text[0] == '{';
	}
	return 0;
}

static int column_named(const sk_schema *s, size_t col, const char *key, size_t n)
{
	const char *name = sk_schema_col_name(s, col);

	return strncmp(name, key, n) == 0 && name[n] == '\0';
}

/* 1 when val[0..n), the value of a _cursor member, is a string without
 * an escape (its text is the cursor the slow path commits) and a cursor. */
static int cursor_text(const char *val, size_t n)
{
	sk_cursor_parts parts;
	sk_err ignored;

	return n >= 2 && val[0] == '"' && memchr(val, '\\', n) == NULL &&
	       sk_cursor_split(val + 1, n - 2, &parts, &ignored) == 0;
}

/* The members m[0..n) of the object line are every column of s in
 * order, each value one its column keeps, and at most one _cursor, a
 * cursor: 1 and *cut (the _cursor member, or SIZE_MAX). A repeated key
 * fails the order. */
static int row_fits(const char *line, const sk_schema *s, const sk_json_member *m, size_t n, size_t *cut)
{
	size_t i, col = 0, ncols = sk_schema_ncols(s);

	*cut = SIZE_MAX;
	for (i = 0; i < n; i++) {
		const char *key = line + m[i].key, *val = line + m[i].value;
		if (cursor_member(line, &m[i])) {
			if (*cut != SIZE_MAX || !cursor_text(val, m[i].value_len))
				return 0;
			*cut = i;
			continue;
		}
		/* A key with an escape is not the name its text spells. */
		if (col == ncols || memchr(key, '\\', m[i].key_len) != NULL || !column_named(s, col, key, m[i].key_len) ||
		    !keeps_text(sk_schema_col_type(s, col), val, m[i].value_len))
			return 0;
		col++;
	}
	return col == ncols;
}

/* A sink without a schema that takes rows as text (Kafka) takes the row
 * of an object line written as json-c writes it (sk_json_written_object:
 * checked at a fraction of a parser's cost, at every depth) as the line
 * itself less its _cursor member, when its top level is what json-c would
 * write too: no key repeats (json-c keeps the last one; distinct, from
 * sk_json_written_distinct, says there is none), and _cursor, if there,
 * is a cursor. 1 and *cut (the _cursor member, SIZE_MAX: none), or 0: the
 * slow path decides, and says what is wrong. */
int sk_writer_flat_row(const char *line, const sk_json_member *m, size_t n, int distinct, size_t *cut)
{
	size_t i;

	*cut = SIZE_MAX;
	if (!distinct)
		return 0;
	for (i = 0; i < n; i++) {
		if (cursor_member(line, &m[i])) {
			if (!cursor_text(line + m[i].value, m[i].value_len))
				return 0;
			if (n == 1)
				return 0;       /* nothing but _cursor: the row is {} */
			*cut = i;
		}
	}
	return 1;
}

/* The row of line after the sink was given it (rc, why): the row is
 * staged and its cursor (may be NULL) kept, or the sink refused it
 * (sk_sink_rejects_rows: too large for Kafka) and the line is bad. */
static int given(struct sk_writer *w, const char *line, size_t len, int rc, sk_err *why, const char *cursor,
                 size_t cursor_len, sk_err *e)
{
	w->st->lines++;
	if (rc < 0 && why->code == EX_DATAERR && sk_sink_rejects_rows(w->k)) {
		/* Skipped or dead-lettered, the line was handled: its cursor counts. */
		if (w->o->on_error.action != SK_ON_ERROR_FAIL && cursor && sk_cursorset_add(w->cs, cursor, cursor_len, e) < 0)
			return -1;
		return sk_writer_bad_line(w, line, len, 1, why, e);
	}
	if (rc < 0)
		*e = *why;
	if (rc != 0)
		return rc;
	w->handled++;
	w->staged++;
	w->st->rows++;
	return cursor == NULL ? 0 : sk_cursorset_add(w->cs, cursor, cursor_len, e);
}

/* The row of line, given as text, to the sink (given). */
static int write_text(struct sk_writer *w, const char *line, size_t len, const char *text, size_t n,
                      const char *cursor, size_t cursor_len, sk_err *e)
{
	sk_err why;

	return given(w, line, len, sk_sink_write_json(w->k, text, n, &why), &why, cursor, cursor_len, e);
}

/* An object the reader found written as json-c writes it: staged as its text, less _cursor, when it
 * is a row that needs no change; otherwise the slow path decides. */
int sk_writer_parsed_line(struct sk_writer *w, const struct sk_batch *b, const struct sk_item *it, sk_err *e)
{
	const char *line = b->bytes.p + it->text, *cursor = NULL;
	const sk_schema *s = sk_sink_schema(w->k);
	const sk_json_member *m = b->members + it->members;
	size_t n = it->nmembers, cut, cursor_len = 0;
	sk_err why;

	if (s == NULL || !row_fits(line, s, m, n, &cut))
		return sk_writer_handle_line(w, line, it->len, e);
	if (cut != SIZE_MAX) {
		cursor = line + m[cut].value + 1;
		cursor_len = m[cut].value_len - 2;
	}
	if (!sk_sink_takes_json(w->k))
		return given(w, line, it->len, sk_sink_write_members(w->k, line, m, n, cut, &why), &why, cursor,
		             cursor_len, e);
	sk_buf_reset(&w->text);
	if (cut_member(&w->text, line, it->len, m, n, cut) < 0)
		return sk_err_oom(e);
	return write_text(w, line, it->len, w->text.p, w->text.len, cursor, cursor_len, e);
}

/* A row the reader took as the sink takes it (sk_writer_flat_row). */
int sk_writer_row_text(struct sk_writer *w, const struct sk_batch *b, const struct sk_item *it, sk_err *e)
{
	const char *line = b->bytes.p + it->text, *cursor = it->cursor_len ? b->bytes.p + it->cursor : NULL;
	size_t at = it->cut_at - it->text;

	if (it->cut_len == 0)
		return write_text(w, line, it->len, line, it->len, NULL, 0, e);
	sk_buf_reset(&w->text);
	if (sk_buf_add(&w->text, line, at) < 0 || sk_buf_add(&w->text, line + at + it->cut_len, it->len - at - it->cut_len) < 0)
		return sk_err_oom(e);
	return write_text(w, line, it->len, w->text.p, w->text.len, cursor, it->cursor_len, e);
}

