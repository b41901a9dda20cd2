/* writer.c - stream-write's pipeline: lines -> rows -> sink, with checkpoints. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "lines.h"
#include "writer.h"

#define CLOCK_EVERY 64

struct writer {
	sk_sink *k;
	const sk_writer_opts *o;
	sk_writer_stats *st;
	sk_json *parser;
	struct reader *r;
	uint64_t lineno;            /* of the line being handled */
	sk_cursorset *cs;           /* cursors to commit at the next checkpoint */
	int dl_fd;                  /* dead-letter file, or -1 */
	int dl_dirty;               /* written since its last fsync */
	uint64_t handled;           /* rows handled (written or rejected) since the checkpoint */
	int64_t staged;             /* rows written since the checkpoint */
	int64_t deadline;           /* of the next checkpoint by time */
	uint64_t ticks;             /* items handled, for reading the clock every CLOCK_EVERY */
	/* The line being handled: its rows, coerced, and their cursors. */
	json_object **out;
	const char **out_cursor;    /* each row's _cursor (held in cursors), or NULL */
	size_t nout, capout;
	json_object **cursors;
	size_t ncur, capcur;
	/* The line itself, parsed, and when it is one row that needs no
	 * change, the text staged for it (see as_written). */
	const char *line;
	size_t len;
	json_object *value;
	sk_buf text;
	int as_text;
};

static int push(json_object ***v, size_t *n, size_t *cap, json_object *o)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		json_object **nv = realloc(*v, c * sizeof *nv);
		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = o;
	return 0;
}

static void drop_line(struct writer *w)
{
	size_t i;

	for (i = 0; i < w->nout; i++)
		json_object_put(w->out[i]);
	for (i = 0; i < w->ncur; i++)
		json_object_put(w->cursors[i]);
	w->nout = w->ncur = 0;
	w->as_text = 0;
}

static void schedule_checkpoint(struct writer *w)
{
	w->deadline = w->o->checkpoint_ms > 0 ? sk_now_ms() + w->o->checkpoint_ms : INT64_MAX;
}

/* Commit what was handled since the last checkpoint; nothing when nothing was. */
static int checkpoint(struct writer *w, sk_err *e)
{
	int rc;

	schedule_checkpoint(w);
	if (w->handled == 0 && sk_cursorset_count(w->cs) == 0 && !w->dl_dirty)
		return 0;
	/* Dead letters are durable before the cursors of their lines commit. */
	if (w->dl_dirty) {
		if (fsync(w->dl_fd) < 0)
			return sk_err_set(e, EX_IOERR, "%s: fsync: %s", w->o->dead_letter, strerror(errno));
		w->dl_dirty = 0;
	}
	if ((rc = sk_sink_checkpoint(w->k, w->cs, w->staged, e)) != 0)
		return rc;
	sk_cursorset_clear(w->cs);
	w->handled = 0;
	w->staged = 0;
	w->st->checkpoints++;
	return 0;
}

/* The checkpoint that ends a run: after what the sink has in flight is
 * confirmed. */
static int last_checkpoint(struct writer *w, sk_err *e)
{
	int rc = sk_sink_finish(w->k, e);

	return rc != 0 ? rc : checkpoint(w, e);
}

/* Take the row's _cursor out, keeping it for the checkpoint. */
static int take_cursor(struct writer *w, json_object *row, sk_err *e)
{
	json_object *c;
	sk_cursor_parts parts;

	if (!json_object_object_get_ex(row, "_cursor", &c))
		return 0;
	if (!json_object_is_type(c, json_type_string))
		return sk_err_set(e, EX_DATAERR, "_cursor: expected a string (SOURCE:PARTITION:POSITION)");
	if (sk_cursor_split(json_object_get_string(c), (size_t)json_object_get_string_len(c), &parts, e) < 0)
		return sk_err_prefix(e, "_cursor");
	if (push(&w->cursors, &w->ncur, &w->capcur, json_object_get(c)) < 0) {
		json_object_put(c);
		return sk_err_oom(e);
	}
	json_object_object_del(row, "_cursor");
	return 0;
}

/* A new dataset takes its schema from its first row. */
static int adopt_schema(struct writer *w, json_object *row, sk_err *e)
{
	sk_schema *s;

	if (!sk_sink_wants_schema(w->k))
		return 0;
	if ((s = sk_schema_infer(row, e)) == NULL)
		return -1;
	return sk_sink_set_schema(w->k, s, e);
}

static int add_out(struct writer *w, json_object *row, const char *cursor, sk_err *e)
{
	if (row == NULL)
		return -1;
	if (w->nout == w->capout) {
		/* Grown as push() grows out. */
		const char **nc = realloc(w->out_cursor, (w->capout ? w->capout * 2 : 16) * sizeof *nc);
		if (nc == NULL) {
			json_object_put(row);
			return sk_err_oom(e);
		}
		w->out_cursor = nc;
	}
	w->out_cursor[w->nout] = cursor;
	if (push(&w->out, &w->nout, &w->capout, row) < 0) {
		json_object_put(row);
		return sk_err_oom(e);
	}
	return 0;
}

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

/* Append line[0..len), a plain object of members m[0..n), without member
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
static int as_written(struct writer *w, json_object *row, const sk_schema *s)
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
		if (m[i].key_len == 7 && memcmp(w->line + m[i].key, "_cursor", 7) == 0) {
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

/* A value of a parsed line, as cJSON read it: its type (cJSON_String,
 * cJSON_Number...) and, for a number, its value. The reader thread keeps
 * these of the members of an object and frees cJSON's tree: cJSON, whose
 * parser writes a global, runs in that thread only. */
struct value {
	int type;
	double number;
};

/* 1 when a column of type t keeps the value v (cJSON's reading of the
 * text text[0..n) of a plain object) and the sink writes it back as that
 * text: what sk_coerce_value and sk_json_written_as answer for json-c's
 * reading of the same text. Any doubt is a 0, for json-c's path is the
 * reference. */
static int keeps_text(enum sk_type t, const struct value *v, const char *text, size_t n)
{
	size_t digits;

	if (v->type == cJSON_NULL)
		return 1;
	switch (t) {
	case SK_TYPE_STRING:
		return v->type == cJSON_String;
	case SK_TYPE_BOOLEAN:
		return v->type == cJSON_True || v->type == cJSON_False;
	case SK_TYPE_DATE:
		/* No escapes in a plain text: the string is its bytes. */
		return v->type == cJSON_String && sk_schema_date_valid(text + 1, n - 2);
	case SK_TYPE_INT:
	case SK_TYPE_BIGINT:
	case SK_TYPE_FLOAT:
	case SK_TYPE_DOUBLE:
		if (v->type != cJSON_Number)
			return 0;
		if (!integer_text(text, n)) {
			/* A double keeps its text; an integer column would change it. */
			if (t != SK_TYPE_FLOAT && t != SK_TYPE_DOUBLE)
				return 0;
			return isfinite(v->number) && (t == SK_TYPE_DOUBLE || fabs(v->number) <= FLT_MAX);
		}
		/* An integer is written from its value: up to 18 digits, in range
		 * and canonical but for "-0"; cJSON's double holds up to 15 exactly. */
		digits = n - (text[0] == '-');
		if (digits > 18 || (n == 2 && text[0] == '-' && text[1] == '0'))
			return 0;
		if (t == SK_TYPE_INT)
			return digits <= 15 && v->number >= INT32_MIN && v->number <= INT32_MAX;
		return 1;
	case SK_TYPE_ARRAY:
	case SK_TYPE_OBJECT:
		return 0;       /* nesting: a plain text has none */
	}
	return 0;
}

static int column_named(const sk_schema *s, size_t col, const char *key, size_t n)
{
	const char *name = sk_schema_col_name(s, col);

	return strncmp(name, key, n) == 0 && name[n] == '\0';
}

/* The members m[0..n) of the plain object line, whose values cJSON read
 * as v[0..n), are every column of s in order, each value one its column
 * keeps, and at most one _cursor, a cursor: 1 and *cut (the _cursor
 * member, or SIZE_MAX). A repeated key fails the order. */
static int plain_row_fits(const char *line, const sk_schema *s, const struct value *v, const sk_json_member *m,
                          size_t n, size_t *cut)
{
	sk_cursor_parts parts;
	sk_err ignored;
	size_t i, col = 0, ncols = sk_schema_ncols(s);

	*cut = SIZE_MAX;
	for (i = 0; i < n; i++) {
		const char *key = line + m[i].key, *val = line + m[i].value;
		if (m[i].key_len == 7 && memcmp(key, "_cursor", 7) == 0) {
			if (*cut != SIZE_MAX || v[i].type != cJSON_String ||
			    sk_cursor_split(val + 1, m[i].value_len - 2, &parts, &ignored) < 0)
				return 0;
			*cut = i;
			continue;
		}
		if (col == ncols || !column_named(s, col, key, m[i].key_len) ||
		    !keeps_text(sk_schema_col_type(s, col), &v[i], val, m[i].value_len))
			return 0;
		col++;
	}
	return col == ncols;
}

/* Reading ahead. A reader thread reads the lines and parses each line that
 * may be a row with cJSON, which takes less than half json-c's time, and
 * keeps the types and numbers of its members. The main thread runs the
 * lexical pass: when the line is plain and as_written would take it (see
 * plain_row_fits), it stages its text less _cursor, and json-c never sees
 * it; otherwise it takes the slow path. For a sink without a schema (a
 * Kafka topic) there are no types to check: the reader only checks that
 * the line is a flat object (sk_json_flat_object, a fraction of cJSON's
 * time) written as json-c would write it (flat_row), and the main thread
 * hands its text to the sink. Lines come in batches, in order, through a
 * ring of NBATCH; the main thread holds the head batch while it handles
 * it, the reader the one it fills. */
#define NBATCH 8
#define BATCH_LINES 512
#define BATCH_BYTES (256u << 10)

enum item_kind {
	ITEM_PARSED,                /* an object cJSON parsed, and its values */
	ITEM_ROW_TEXT,              /* a line that is its row as the sink takes it, but for _cursor (flat_row) */
	ITEM_LINE,                  /* a line for the slow path */
	ITEM_OVERSIZE,              /* a line longer than --max-line, skipped */
};

enum batch_final {
	FINAL_NONE,                 /* more batches follow */
	FINAL_END,                  /* the input ends after this batch */
	FINAL_FAILED,               /* reading failed after this batch: err says why */
};

struct item {
	enum item_kind kind;
	uint64_t lineno;
	size_t text, len;           /* the line, in the batch's bytes */
	size_t values, nvalues;     /* ITEM_PARSED: its members' values, in the batch's values */
	/* ITEM_ROW_TEXT: the _cursor member, to cut, and its value, in the
	 * batch's bytes; 0 long: none. */
	size_t cut_at, cut_len, cursor, cursor_len;
};

struct batch {
	struct item *items;
	size_t n, cap, next;        /* next: the first item the main thread has not handled */
	sk_buf bytes;
	struct value *values;
	size_t nvalues, capvalues;
	enum batch_final final;
	sk_err err;
};

struct reader {
	int fd;
	int parse;                  /* the sink takes rows as text, and there is no --map */
	int flat;                   /* ... and has no schema and wants none */
	sk_json *scanner;           /* for flat */
	sk_lines *lines;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t not_full;
	struct batch ring[NBATCH];
	size_t head, count;         /* under mu: the oldest full batch, how many are full */
	int quit;                   /* under mu: the main thread is done */
	int waiting;                /* under mu: the main thread waits for a batch */
	int ready[2];               /* a pipe: a byte wakes the waiting main thread */
	int stop[2];                /* a pipe: the main thread wrote a byte on quitting */
};

static struct item *new_item(struct batch *b, enum item_kind kind, const char *line, size_t len,
                             uint64_t lineno)
{
	struct item *it;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct item *v = realloc(b->items, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		b->items = v;
		b->cap = cap;
	}
	it = &b->items[b->n];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->lineno = lineno;
	it->text = b->bytes.len;
	it->len = len;
	if (sk_buf_add(&b->bytes, line, len) < 0)
		return NULL;
	b->n++;
	return it;
}

/* The values of the members of the object o into b. */
static int keep_values(struct batch *b, struct item *it, const cJSON *o)
{
	const cJSON *c;

	it->values = b->nvalues;
	for (c = o->child; c != NULL; c = c->next) {
		if (b->nvalues == b->capvalues) {
			size_t cap = b->capvalues ? b->capvalues * 2 : 1024;
			struct value *v = realloc(b->values, cap * sizeof *v);
			if (v == NULL)
				return -1;
			b->values = v;
			b->capvalues = cap;
		}
		b->values[b->nvalues].type = c->type & 0xff;
		b->values[b->nvalues].number = c->valuedouble;
		b->nvalues++;
	}
	it->nvalues = b->nvalues - it->values;
	return 0;
}

/* A sink without a schema that takes rows as text (Kafka) takes the row
 * of a flat object line (sk_json_flat_object: checked at a fraction of a
 * parser's cost) as the line itself less its _cursor member, when that is
 * what json-c would write for it: no key repeats (json-c keeps the last
 * one), no integer is one json-c writes otherwise ("-0", and over 18
 * digits, which sk_json_written_as would have to compare), and _cursor,
 * if there, is a cursor. 1 and *cut (the _cursor member, SIZE_MAX: none),
 * or 0: the slow path decides, and says what is wrong. */
static int flat_row(const char *line, const sk_json_member *m, size_t n, size_t *cut)
{
	sk_cursor_parts parts;
	sk_err ignored;
	uint64_t seen = 0, bit;
	size_t i, j, digits;

	*cut = SIZE_MAX;
	for (i = 0; i < n; i++) {
		const char *key = line + m[i].key, *val = line + m[i].value;
		/* A key is compared with the earlier ones only when one of them
		 * has its length and last byte. */
		bit = UINT64_C(1) << ((m[i].key_len * 8 + (m[i].key_len ? (unsigned char)key[m[i].key_len - 1] : 0)) & 63);
		for (j = 0; (seen & bit) && j < i; j++)
			if (m[j].key_len == m[i].key_len && memcmp(line + m[j].key, key, m[i].key_len) == 0)
				return 0;
		seen |= bit;
		if (m[i].key_len == 7 && memcmp(key, "_cursor", 7) == 0) {
			if (val[0] != '"' || sk_cursor_split(val + 1, m[i].value_len - 2, &parts, &ignored) < 0)
				return 0;
			if (n == 1)
				return 0;       /* nothing but _cursor: the row is {} */
			*cut = i;
		} else if ((val[0] == '-' || (val[0] >= '0' && val[0] <= '9')) && integer_text(val, m[i].value_len)) {
			digits = m[i].value_len - (val[0] == '-');
			if (digits > 18 || (m[i].value_len == 2 && val[1] == '0'))
				return 0;
		}
	}
	return 1;
}

/* An ITEM_ROW_TEXT: the line, where its member cut is, and its cursor. */
static int add_row_text(struct batch *b, const char *line, size_t len, uint64_t lineno,
                        const sk_json_member *m, size_t n, size_t cut)
{
	struct item *it = new_item(b, ITEM_ROW_TEXT, line, len, lineno);

	if (it == NULL)
		return -1;
	if (cut == SIZE_MAX)
		return 0;
	/* The member and the comma after it, or the last one and the comma
	 * before it (as cut_member does). */
	it->cut_at = it->text + (cut + 1 < n ? m[cut].key - 1 : m[cut - 1].value + m[cut - 1].value_len);
	it->cut_len = it->text + (cut + 1 < n ? m[cut + 1].key - 1 : m[cut].value + m[cut].value_len) - it->cut_at;
	it->cursor = it->text + m[cut].value + 1;
	it->cursor_len = m[cut].value_len - 2;
	return 0;
}

/* line as an ITEM_ROW_TEXT when it is a flat row, as an ITEM_PARSED when
 * cJSON reads it as an object, else as an ITEM_LINE. */
static int add_line(struct reader *r, struct batch *b, const char *line, size_t len, uint64_t lineno)
{
	const sk_json_member *m;
	const char *end;
	cJSON *o = NULL;
	struct item *it;
	size_t n, cut;
	int rc = 0;

	if (r->flat) {
		if ((n = sk_json_flat_object(r->scanner, line, len, &m)) > 0 && flat_row(line, m, n, &cut))
			return add_row_text(b, line, len, lineno, m, n, cut);
		return new_item(b, ITEM_LINE, line, len, lineno) == NULL ? -1 : 0;
	}
	if (r->parse && len > 0 && line[0] == '{' && (o = cJSON_ParseWithLengthOpts(line, len, &end, 0)) != NULL &&
	    (end != line + len || !cJSON_IsObject(o))) {
		cJSON_Delete(o);
		o = NULL;
	}
	if ((it = new_item(b, o ? ITEM_PARSED : ITEM_LINE, line, len, lineno)) == NULL ||
	    (o && keep_values(b, it, o) < 0))
		rc = -1;
	cJSON_Delete(o);
	return rc;
}

/* Hand the batch being filled to the main thread and, unless it is the
 * last, wait for the next one to be free: *b. 0, or -1 when done. */
static int publish(struct reader *r, struct batch **b, int last)
{
	char c = 1;
	int quit;

	pthread_mutex_lock(&r->mu);
	r->count++;
	/* A system call only when the main thread waits: a full pipe holds
	 * wake-ups enough. */
	if (r->waiting && write(r->ready[1], &c, 1) < 0 && errno != EAGAIN)
		r->quit = 1;
	r->waiting = 0;
	while (r->count == NBATCH && !r->quit && !last)
		pthread_cond_wait(&r->not_full, &r->mu);
	*b = &r->ring[(r->head + r->count) % NBATCH];
	quit = r->quit;
	pthread_mutex_unlock(&r->mu);
	if (quit || last)
		return -1;
	(*b)->n = (*b)->next = (*b)->nvalues = 0;
	(*b)->final = FINAL_NONE;
	sk_buf_reset(&(*b)->bytes);
	return 0;
}

/* Wait for input, or for the main thread to be done (1). */
static int reader_wait(struct reader *r)
{
	struct pollfd p[2] = { { .fd = r->fd, .events = POLLIN }, { .fd = r->stop[0], .events = POLLIN } };

	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return 0;       /* the read that follows reports it */
	return p[1].revents != 0;
}

/* One line into b: 0, or 1 when the reader is done (b->final says why);
 * *none is set when no complete line is ready. */
static int read_line(struct reader *r, struct batch *b, int *none)
{
	const char *line;
	size_t len;
	int rc = sk_lines_next(r->lines, &line, &len, 0, &b->err);

	if (rc == 0) {
		*none = 1;
		return 0;
	}
	if (rc == SK_EOF || (rc < 0 && b->err.code != EX_DATAERR)) {
		b->final = rc == SK_EOF ? FINAL_END : FINAL_FAILED;
		return 1;
	}
	if (rc < 0)
		rc = new_item(b, ITEM_OVERSIZE, "", 0, sk_lines_lineno(r->lines)) == NULL ? -1 : 0;
	else
		rc = add_line(r, b, line, len, sk_lines_lineno(r->lines));
	if (rc < 0) {
		sk_err_oom(&b->err);
		b->final = FINAL_FAILED;
		return 1;
	}
	return 0;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct batch *b = &r->ring[0];
	int none, done = 0;

	while (!done) {
		none = 0;
		while (!done && !none && b->n < BATCH_LINES && b->bytes.len < BATCH_BYTES)
			done = read_line(r, b, &none);
		if ((b->n > 0 || done) && publish(r, &b, done) < 0)
			break;
		if (none && !done && reader_wait(r))
			break;
	}
	return NULL;
}
/* The batch the main thread is to handle next, or NULL when none is full. */
static struct batch *full_batch(struct reader *r)
{
	struct batch *b = NULL;

	pthread_mutex_lock(&r->mu);
	if (r->count > 0)
		b = &r->ring[r->head];
	pthread_mutex_unlock(&r->mu);
	return b;
}

static void release_batch(struct reader *r)
{
	pthread_mutex_lock(&r->mu);
	r->head = (r->head + 1) % NBATCH;
	r->count--;
	pthread_cond_signal(&r->not_full);
	pthread_mutex_unlock(&r->mu);
}

static void reader_free(struct reader *r)
{
	size_t i;
	int j;

	if (r == NULL)
		return;
	if (r->started) {
		char c = 1;
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_signal(&r->not_full);
		pthread_mutex_unlock(&r->mu);
		while (write(r->stop[1], &c, 1) < 0 && errno == EINTR)
			;
		pthread_join(r->thread, NULL);
	}
	pthread_cond_destroy(&r->not_full);
	pthread_mutex_destroy(&r->mu);
	for (i = 0; i < NBATCH; i++) {
		free(r->ring[i].items);
		free(r->ring[i].values);
		sk_buf_free(&r->ring[i].bytes);
	}
	for (j = 0; j < 2; j++) {
		if (r->ready[j] >= 0)
			close(r->ready[j]);
		if (r->stop[j] >= 0)
			close(r->stop[j]);
	}
	sk_lines_free(r->lines);
	sk_json_free(r->scanner);
	free(r);
}

static int nonblocking_pipe(int p[2])
{
	if (pipe(p) < 0)
		return -1;
	if (fcntl(p[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(p[1], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(p[1], F_SETFL, O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* Start reading fd ahead. Signals go to the main thread: the reader
 * blocks them all. */
static struct reader *reader_start(struct writer *w, int fd, sk_err *e)
{
	struct reader *r = calloc(1, sizeof *r);
	sigset_t all, old;
	int rc;

	if (r == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	r->fd = fd;
	r->ready[0] = r->ready[1] = r->stop[0] = r->stop[1] = -1;
	r->parse = w->o->map == NULL && sk_sink_takes_json(w->k);
	r->flat = r->parse && sk_sink_schema(w->k) == NULL && !sk_sink_wants_schema(w->k);
	if (r->flat) {
		if ((r->scanner = sk_json_new()) == NULL) {
			sk_err_oom(e);
			goto fail;
		}
		sk_json_exact_integers(r->scanner);
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->not_full, NULL);
	if ((r->lines = sk_lines_new(fd, w->o->max_line, 0)) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (nonblocking_pipe(r->ready) < 0 || nonblocking_pipe(r->stop) < 0) {
		sk_err_set(e, EX_OSERR, "pipe: %s", strerror(errno));
		goto fail;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, reader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		sk_err_set(e, EX_OSERR, "a thread to read with: %s", strerror(rc));
		goto fail;
	}
	r->started = 1;
	return r;
fail:
	reader_free(r);
	return NULL;
}

static int object_row(struct writer *w, json_object *row, sk_err *e)
{
	const sk_schema *s;
	const char *cursor;
	size_t ncur = w->ncur;

	if (take_cursor(w, row, e) < 0 || adopt_schema(w, row, e) < 0)
		return -1;
	s = sk_sink_schema(w->k);
	if (as_written(w, row, s))
		return 0;
	cursor = w->ncur > ncur ? json_object_get_string(w->cursors[ncur]) : NULL;
	return add_out(w, s ? sk_schema_coerce_row(s, row, e) : json_object_get(row), cursor, e);
}

static int tuple_row(struct writer *w, json_object *tuple, sk_err *e)
{
	const sk_schema *s = sk_sink_schema(w->k);

	if (s == NULL)
		return sk_err_set(e, EX_DATAERR, "a tuple (an array of values) needs a schema: give --schema%s",
		                  sk_sink_wants_schema(w->k) ? ", or write an object row first" : "");
	return add_out(w, sk_schema_coerce_tuple(s, tuple, e), NULL, e);
}

struct mapped {
	struct writer *w;
	json_object *cursor;        /* the row's _cursor, or NULL */
	size_t n;                   /* results so far */
};

/* One result of --map: a row, with the cursor of the row it came from. */
static int map_result(void *arg, const sk_result *r, sk_err *e)
{
	struct mapped *m = arg;
	json_object *row;
	int rc;

	m->n++;
	if (sk_result_kind(r) != SK_RESULT_OBJECT)
		return sk_err_set(e, EX_DATAERR, "--map: result %zu: expected an object (a row), got %s", m->n,
		                  sk_result_kind_name(r));
	if ((row = sk_result_to_json(r, e)) == NULL)
		return sk_err_prefix(e, "--map: result %zu", m->n);
	if (m->cursor == NULL)
		json_object_object_del(row, "_cursor");
	else if (json_object_object_add(row, "_cursor", json_object_get(m->cursor)) < 0) {
		json_object_put(m->cursor);
		json_object_put(row);
		return sk_err_oom(e);
	}
	if ((rc = object_row(m->w, row, e)) < 0 && e->code == EX_DATAERR)
		sk_err_prefix(e, "--map: result %zu", m->n);
	json_object_put(row);
	return rc;
}

/* A row through --map. The program sees it as it came, _cursor and all. */
static int mapped_row(struct writer *w, json_object *row, sk_err *e)
{
	struct mapped m = { .w = w };
	sk_err ignored;
	int rc, is_object = json_object_is_type(row, json_type_object);

	if (is_object)
		json_object_object_get_ex(row, "_cursor", &m.cursor);
	rc = sk_program_run_json(w->o->map, row, map_result, &m, e);
	if (rc < 0 && e->code == EX_DATAERR && strncmp(e->msg, "--map", 5) != 0)
		sk_err_prefix(e, "--map");
	/* Dropped, mapped or failed, the row was handled: its cursor counts. */
	if (is_object && take_cursor(w, row, rc < 0 ? &ignored : e) < 0)
		rc = -1;
	return rc;
}

static int one_row(struct writer *w, json_object *row, sk_err *e)
{
	return w->o->map ? mapped_row(w, row, e) : object_row(w, row, e);
}

static int all_objects(json_object *arr)
{
	size_t i, n = json_object_array_length(arr);

	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_object))
			return 0;
	return n > 0;
}

/* The rows of one parsed line into w->out; *nrows is how many it holds. */
static int line_rows(struct writer *w, json_object *v, uint64_t *nrows, sk_err *e)
{
	size_t i, n;

	*nrows = 1;
	switch (json_object_get_type(v)) {
	case json_type_object:
		return one_row(w, v, e);
	case json_type_array:
		n = json_object_array_length(v);
		if (n == 0) {
			*nrows = 0;     /* an empty batch */
			return 0;
		}
		if (!all_objects(v))
			return w->o->map ? mapped_row(w, v, e) : tuple_row(w, v, e);
		*nrows = n;
		for (i = 0; i < n; i++) {
			if (one_row(w, json_object_array_get_idx(v, i), e) < 0) {
				/* The line is bad; the cursors of its other rows still count. */
				sk_err ignored;
				sk_err_prefix(e, "row %zu", i + 1);
				while (++i < n)
					take_cursor(w, json_object_array_get_idx(v, i), &ignored);
				return -1;
			}
		}
		return 0;
	default:
		return sk_err_set(e, EX_DATAERR, "expected a JSON object (a row), an array of objects (a batch) "
		                  "or an array of values (a tuple), got %s",
		                  v == NULL ? "null" : json_type_to_name(json_object_get_type(v)));
	}
}

static int open_dead_letter(struct writer *w, sk_err *e)
{
	w->dl_fd = open(w->o->dead_letter, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (w->dl_fd < 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", w->o->dead_letter, strerror(errno));
	return 0;
}

static int dead_letter(struct writer *w, const char *line, size_t len, sk_err *e)
{
	char *copy = malloc(len + 1);
	int rc;

	if (copy == NULL)
		return sk_err_oom(e);
	memcpy(copy, line, len);
	copy[len] = '\n';
	rc = sk_write_all(w->dl_fd, copy, len + 1, e, w->o->dead_letter);
	free(copy);
	w->dl_dirty = 1;
	return rc;
}

/* A line that is not rows: fail, or count it (and keep it) and go on.
 * line is NULL when it was too long to keep. The cursors of a line that
 * is skipped or dead-lettered are committed: it was handled. */
static int bad_line(struct writer *w, const char *line, size_t len, uint64_t nrows, const sk_err *why, sk_err *e)
{
	char msg[sizeof why->msg + 64];
	size_t i;
	int rc;

	snprintf(msg, sizeof msg, "%s:%llu: %s", w->o->input,
	         (unsigned long long)w->lineno, why->msg);
	if (nrows == 0)
		nrows = 1;
	if (w->o->on_error == SK_ON_ERROR_FAIL) {
		drop_line(w);
		if ((rc = last_checkpoint(w, e)) != 0)
			return rc;
		return sk_err_set(e, EX_DATAERR, "%s", msg);
	}
	if (w->o->on_error == SK_ON_ERROR_DEAD_LETTER && line) {
		if (dead_letter(w, line, len, e) < 0) {
			drop_line(w);
			return -1;
		}
		w->st->dead_lettered += nrows;
	} else {
		w->st->skipped += nrows;
	}
	if (w->o->on_bad)
		w->o->on_bad(w->o->arg, msg);
	for (i = 0; i < w->ncur; i++) {
		json_object *c = w->cursors[i];
		if (sk_cursorset_add(w->cs, json_object_get_string(c), (size_t)json_object_get_string_len(c), e) < 0) {
			drop_line(w);
			return -1;
		}
	}
	drop_line(w);
	w->handled += nrows;
	return 0;
}

static int handle_line(struct writer *w, const char *line, size_t len, sk_err *e)
{
	json_object *v;
	uint64_t nrows = 1;
	sk_err why;
	size_t i;
	int rc = 0;

	w->st->lines++;
	/* jq's habit: blank lines between the texts of a stream are no row.
	 * Fast-path lines never come here, so they never pay for the look. */
	if (sk_json_blank(line, len))
		return 0;
	v = sk_json_parse(w->parser, line, len, &why);
	w->line = line;
	w->len = len;
	w->value = v;
	if (v == NULL) {
		if (why.code == 0)      /* the literal null */
			sk_err_set(&why, EX_DATAERR, "expected a JSON object (a row), an array of objects (a batch) "
			           "or an array of values (a tuple), got null");
		if (why.code != EX_DATAERR)
			return sk_err_set(e, why.code, "%s", why.msg);
		return bad_line(w, line, len, 1, &why, e);
	}
	if (line_rows(w, v, &nrows, &why) < 0) {
		json_object_put(v);
		if (why.code != EX_DATAERR) {
			drop_line(w);
			return sk_err_set(e, why.code, "%s", why.msg);
		}
		return bad_line(w, line, len, nrows, &why, e);
	}
	json_object_put(v);
	if (w->as_text && (rc = sk_sink_write_json(w->k, w->text.p, w->text.len, &why)) == 0) {
		w->staged++;
		w->st->rows++;
	}
	for (i = 0; i < w->nout && rc == 0; i++) {
		if ((rc = sk_sink_write_cursor(w->k, w->out[i], w->out_cursor[i], &why)) == 0) {
			w->staged++;
			w->st->rows++;
		}
	}
	/* A sink that refuses a row (EX_DATAERR: a Kafka expression fails on
	 * it) makes the line bad; the rows of it written before stay. */
	if (rc < 0 && why.code == EX_DATAERR && sk_sink_rejects_rows(w->k))
		return bad_line(w, line, len, nrows, &why, e);
	if (rc < 0) {
		drop_line(w);
		*e = why;
		return -1;
	}
	for (i = 0; i < w->ncur && rc == 0; i++) {
		json_object *c = w->cursors[i];
		rc = sk_cursorset_add(w->cs, json_object_get_string(c), (size_t)json_object_get_string_len(c), e);
	}
	drop_line(w);
	w->handled += nrows;
	return rc;
}

/* Wait for the reader until the next checkpoint is due, or a stop. */
static int wait_input(struct writer *w, sk_err *e)
{
	struct pollfd p[3] = { { .fd = w->r->ready[0], .events = POLLIN } };
	int64_t left = w->deadline == INT64_MAX ? -1 : w->deadline - sk_now_ms();
	int timeout = left < 0 ? (w->deadline == INT64_MAX ? -1 : 0) : left > INT_MAX ? INT_MAX : (int)left;
	int sink_fd = sk_sink_event_fd(w->k);
	nfds_t n = 1;
	char drain[64];
	int ready;

	/* A batch published from now on writes to the pipe. */
	pthread_mutex_lock(&w->r->mu);
	ready = w->r->count > 0;
	w->r->waiting = !ready;
	pthread_mutex_unlock(&w->r->mu);
	if (ready)
		return 0;
	/* A signal that came just before poll() is in the wake pipe. */
	if (w->o->wake_fd >= 0)
		p[n++] = (struct pollfd){ .fd = w->o->wake_fd, .events = POLLIN };
	/* The sink has something to do (the next sk_sink_flush does it). */
	if (sink_fd >= 0)
		p[n++] = (struct pollfd){ .fd = sink_fd, .events = POLLIN };
	if (poll(p, n, timeout) < 0 && errno != EINTR)
		return sk_err_set(e, EX_IOERR, "%s: poll: %s", w->o->input, strerror(errno));
	pthread_mutex_lock(&w->r->mu);
	w->r->waiting = 0;
	pthread_mutex_unlock(&w->r->mu);
	/* The bytes stand for batches full_batch() sees after this. */
	while (read(w->r->ready[0], drain, sizeof drain) > 0)
		;
	while (sink_fd >= 0 && read(sink_fd, drain, sizeof drain) > 0)
		;
	return 0;
}

static int oversize_line(struct writer *w, sk_err *e)
{
	sk_err why;
	size_t max = w->o->max_line ? w->o->max_line : SK_LINES_DEFAULT_MAX;

	sk_err_set(&why, EX_DATAERR, "line longer than %zu bytes (--max-line)%s", max,
	           w->o->on_error == SK_ON_ERROR_DEAD_LETTER ? ", too long to dead-letter: skipped" : "");
	return bad_line(w, NULL, 0, 1, &why, e);
}

/* The row of line, given as text, to the sink: the row is staged and its
 * cursor (may be NULL) kept, or the sink refused it (sk_sink_rejects_rows:
 * too large for Kafka) and the line is bad. */
static int write_text(struct writer *w, const char *line, size_t len, const char *text, size_t n,
                      const char *cursor, size_t cursor_len, sk_err *e)
{
	sk_err why;
	int rc;

	w->st->lines++;
	if ((rc = sk_sink_write_json(w->k, text, n, &why)) < 0 && why.code == EX_DATAERR && sk_sink_rejects_rows(w->k)) {
		/* Skipped or dead-lettered, the line was handled: its cursor counts. */
		if (w->o->on_error != SK_ON_ERROR_FAIL && cursor && sk_cursorset_add(w->cs, cursor, cursor_len, e) < 0)
			return -1;
		return bad_line(w, line, len, 1, &why, e);
	}
	if (rc < 0)
		*e = why;
	if (rc != 0)
		return rc;
	w->handled++;
	w->staged++;
	w->st->rows++;
	return cursor == NULL ? 0 : sk_cursorset_add(w->cs, cursor, cursor_len, e);
}

/* An object the reader parsed: staged as its text, less _cursor, when it
 * is a row that needs no change; otherwise the slow path decides. */
static int parsed_line(struct writer *w, const struct batch *b, const struct item *it, sk_err *e)
{
	const char *line = b->bytes.p + it->text;
	const sk_schema *s = sk_sink_schema(w->k);
	const sk_json_member *m;
	size_t n, cut;

	if (s == NULL || (n = sk_json_scan_plain(w->parser, line, it->len, &m)) == 0 || n != it->nvalues ||
	    !plain_row_fits(line, s, b->values + it->values, m, n, &cut))
		return handle_line(w, line, it->len, e);
	sk_buf_reset(&w->text);
	if (cut_member(&w->text, line, it->len, m, n, cut) < 0)
		return sk_err_oom(e);
	if (cut == SIZE_MAX)
		return write_text(w, line, it->len, w->text.p, w->text.len, NULL, 0, e);
	return write_text(w, line, it->len, w->text.p, w->text.len, line + m[cut].value + 1, m[cut].value_len - 2, e);
}

/* A row the reader took as the sink takes it (flat_row). */
static int row_text(struct writer *w, const struct batch *b, const struct item *it, sk_err *e)
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

static int handle_item(struct writer *w, const struct batch *b, const struct item *it, sk_err *e)
{
	w->lineno = it->lineno;
	switch (it->kind) {
	case ITEM_PARSED:
		return parsed_line(w, b, it, e);
	case ITEM_ROW_TEXT:
		return row_text(w, b, it, e);
	case ITEM_LINE:
		return handle_line(w, b->bytes.p + it->text, it->len, e);
	case ITEM_OVERSIZE:
		w->st->lines++;
		return oversize_line(w, e);
	}
	return sk_err_set(e, EX_SOFTWARE, "unknown item kind %d", (int)it->kind);
}

static int run(struct writer *w, sk_err *e)
{
	const sk_writer_opts *o = w->o;
	struct batch *b = NULL;
	int rc;

	schedule_checkpoint(w);
	for (;;) {
		if (o->stop && *o->stop)
			break;
		/* The head batch is the main thread's until it releases it: the
		 * lock is taken once a batch, not once a line. */
		if (b == NULL && (b = full_batch(w->r)) == NULL) {
			/* Nothing ready: let what is buffered out, then wait. */
			if ((rc = sk_sink_flush(w->k, e)) != 0)
				return rc;
			if (wait_input(w, e) < 0)
				return -1;
			if (sk_now_ms() >= w->deadline && (rc = checkpoint(w, e)) != 0)
				return rc;
			continue;
		}
		if (b->next == b->n) {
			if (b->final == FINAL_END)
				break;
			if (b->final == FINAL_FAILED)
				return sk_err_set(e, b->err.code, "%s: %s", o->input, b->err.msg);
			release_batch(w->r);
			b = NULL;
			continue;
		}
		if ((rc = handle_item(w, b, &b->items[b->next++], e)) != 0)
			return rc;
		/* A row takes a microsecond or so: the clock is read every
		 * CLOCK_EVERY of them, not for each. */
		if ((o->checkpoint_rows && w->handled >= o->checkpoint_rows) ||
		    (++w->ticks % CLOCK_EVERY == 0 && sk_now_ms() >= w->deadline))
			if ((rc = checkpoint(w, e)) != 0)
				return rc;
	}
	return last_checkpoint(w, e);
}

int sk_writer_run(sk_sink *k, int fd, const sk_writer_opts *o, sk_writer_stats *st, sk_err *e)
{
	struct writer w = { .k = k, .o = o, .st = st, .dl_fd = -1 };
	int rc = -1;

	memset(st, 0, sizeof *st);
	w.parser = sk_json_new();
	w.cs = sk_cursorset_new();
	if (w.parser == NULL || w.cs == NULL) {
		sk_err_oom(e);
		goto out;
	}
	sk_json_exact_integers(w.parser);
	if (o->on_error == SK_ON_ERROR_DEAD_LETTER && open_dead_letter(&w, e) < 0)
		goto out;
	if ((w.r = reader_start(&w, fd, e)) == NULL)
		goto out;
	rc = run(&w, e);
out:
	reader_free(w.r);
	drop_line(&w);
	free(w.out);
	free(w.out_cursor);
	free(w.cursors);
	sk_buf_free(&w.text);
	if (w.dl_fd >= 0)
		close(w.dl_fd);
	sk_cursorset_free(w.cs);
	sk_json_free(w.parser);
	return rc;
}
