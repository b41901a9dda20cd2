/* writer.c - stream-write's pipeline: lines -> rows -> sink, with checkpoints. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "lines.h"
#include "writer.h"

struct writer {
	sk_sink *k;
	const sk_writer_opts *o;
	sk_writer_stats *st;
	sk_json *parser;
	sk_lines *lines;
	sk_cursorset *cs;           /* cursors to commit at the next checkpoint */
	int dl_fd;                  /* dead-letter file, or -1 */
	int dl_dirty;               /* written since its last fsync */
	uint64_t handled;           /* rows handled (written or rejected) since the checkpoint */
	int64_t staged;             /* rows written since the checkpoint */
	int64_t deadline;           /* of the next checkpoint by time */
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
		return sk_err_set(e, EX_OSERR, "out of memory");
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
			return sk_err_set(e, EX_OSERR, "out of memory");
		}
		w->out_cursor = nc;
	}
	w->out_cursor[w->nout] = cursor;
	if (push(&w->out, &w->nout, &w->capout, row) < 0) {
		json_object_put(row);
		return sk_err_set(e, EX_OSERR, "out of memory");
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

/* The line without member cut (SIZE_MAX: none) into w->text. */
static int cut_member(struct writer *w, const sk_json_member *m, size_t n, size_t cut)
{
	size_t a, b;

	sk_buf_reset(&w->text);
	if (cut == SIZE_MAX)
		return sk_buf_add(&w->text, w->line, w->len);
	if (cut + 1 < n) {
		/* The member and the comma after it. */
		a = m[cut].key - 1;
		b = m[cut + 1].key - 1;
	} else {
		/* The last member and the comma before it. */
		a = m[cut - 1].value + m[cut - 1].value_len;
		b = m[cut].value + m[cut].value_len;
	}
	if (sk_buf_add(&w->text, w->line, a) < 0)
		return -1;
	return sk_buf_add(&w->text, w->line + b, w->len - b);
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
	if (col != ncols || ent != NULL || cut_member(w, m, n, cut) < 0)
		return 0;
	w->as_text = 1;
	return 1;
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
		return sk_err_set(e, EX_OSERR, "out of memory");
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
		return sk_err_set(e, EX_OSERR, "out of memory");
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
	         (unsigned long long)sk_lines_lineno(w->lines), why->msg);
	if (nrows == 0)
		nrows = 1;
	if (w->o->on_error == SK_ON_ERROR_FAIL) {
		drop_line(w);
		if ((rc = checkpoint(w, e)) != 0)
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
	if (w->as_text && (rc = sk_sink_write_json(w->k, w->text.p, w->text.len, e)) == 0) {
		w->staged++;
		w->st->rows++;
	}
	for (i = 0; i < w->nout && rc == 0; i++) {
		if ((rc = sk_sink_write_cursor(w->k, w->out[i], w->out_cursor[i], e)) == 0) {
			w->staged++;
			w->st->rows++;
		}
	}
	for (i = 0; i < w->ncur && rc == 0; i++) {
		json_object *c = w->cursors[i];
		rc = sk_cursorset_add(w->cs, json_object_get_string(c), (size_t)json_object_get_string_len(c), e);
	}
	drop_line(w);
	w->handled += nrows;
	return rc;
}

/* Wait for input until the next checkpoint is due, or a stop. */
static int wait_input(struct writer *w, int fd, sk_err *e)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = w->o->wake_fd, .events = POLLIN } };
	int64_t left = w->deadline == INT64_MAX ? -1 : w->deadline - sk_now_ms();
	int timeout = left < 0 ? (w->deadline == INT64_MAX ? -1 : 0) : left > INT_MAX ? INT_MAX : (int)left;

	/* A signal that came just before poll() is in the wake pipe. */
	if (poll(p, w->o->wake_fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
		return sk_err_set(e, EX_IOERR, "%s: poll: %s", w->o->input, strerror(errno));
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

static int run(struct writer *w, int fd, sk_err *e)
{
	const sk_writer_opts *o = w->o;
	const char *line;
	size_t len;
	sk_err le;
	int rc;

	schedule_checkpoint(w);
	for (;;) {
		if (o->stop && *o->stop)
			break;
		rc = sk_lines_next(w->lines, &line, &len, 0, &le);
		if (rc == 1) {
			if ((rc = handle_line(w, line, len, e)) != 0)
				return rc;
			if ((o->checkpoint_rows && w->handled >= o->checkpoint_rows) || sk_now_ms() >= w->deadline)
				if ((rc = checkpoint(w, e)) != 0)
					return rc;
			continue;
		}
		if (rc == SK_EOF)
			break;
		if (rc < 0) {
			if (le.code != EX_DATAERR)
				return sk_err_set(e, le.code, "%s: %s", o->input, le.msg);
			if ((rc = oversize_line(w, e)) != 0)
				return rc;
			continue;
		}
		/* Nothing ready: let what is buffered out, then wait. */
		if ((rc = sk_sink_flush(w->k, e)) != 0)
			return rc;
		if (wait_input(w, fd, e) < 0)
			return -1;
		if (sk_now_ms() >= w->deadline && (rc = checkpoint(w, e)) != 0)
			return rc;
	}
	return checkpoint(w, e);
}

int sk_writer_run(sk_sink *k, int fd, const sk_writer_opts *o, sk_writer_stats *st, sk_err *e)
{
	struct writer w = { .k = k, .o = o, .st = st, .dl_fd = -1 };
	int rc = -1;

	memset(st, 0, sizeof *st);
	w.parser = sk_json_new();
	w.lines = sk_lines_new(fd, o->max_line, 0);
	w.cs = sk_cursorset_new();
	if (w.parser == NULL || w.lines == NULL || w.cs == NULL) {
		sk_err_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	sk_json_exact_integers(w.parser);
	if (o->on_error == SK_ON_ERROR_DEAD_LETTER && open_dead_letter(&w, e) < 0)
		goto out;
	rc = run(&w, fd, e);
out:
	drop_line(&w);
	free(w.out);
	free(w.out_cursor);
	free(w.cursors);
	sk_buf_free(&w.text);
	if (w.dl_fd >= 0)
		close(w.dl_fd);
	sk_cursorset_free(w.cs);
	sk_lines_free(w.lines);
	sk_json_free(w.parser);
	return rc;
}
