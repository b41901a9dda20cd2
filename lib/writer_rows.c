/* writer_rows.c - the rows of a line, for stream-write's slow path: an
 * object is a row, an array of objects a batch, any other array a tuple;
 * _cursor is taken out of each, the row coerced to the sink's schema (a
 * new dataset first adopts one), or handed to --map first. */
#include <stdlib.h>
#include <string.h>

#include "writer_impl.h"

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

void sk_writer_drop_line(struct sk_writer *w)
{
	size_t i;

	for (i = 0; i < w->nout; i++)
		json_object_put(w->out[i]);
	for (i = 0; i < w->ncur; i++)
		json_object_put(w->cursors[i]);
	w->nout = w->ncur = 0;
	w->as_text = 0;
}

/* Take the row's _cursor out, keeping it for the checkpoint. */
static int take_cursor(struct sk_writer *w, json_object *row, sk_err *e)
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
static int adopt_schema(struct sk_writer *w, json_object *row, sk_err *e)
{
	sk_schema *s;

	if (!sk_sink_wants_schema(w->k))
		return 0;
	if ((s = sk_schema_infer(row, e)) == NULL)
		return -1;
	return sk_sink_set_schema(w->k, s, e);
}

static int add_out(struct sk_writer *w, json_object *row, const char *cursor, sk_err *e)
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

static int object_row(struct sk_writer *w, json_object *row, sk_err *e)
{
	const sk_schema *s;
	const char *cursor;
	size_t ncur = w->ncur;

	if (take_cursor(w, row, e) < 0 || adopt_schema(w, row, e) < 0)
		return -1;
	s = sk_sink_schema(w->k);
	if (sk_writer_as_written(w, row, s))
		return 0;
	cursor = w->ncur > ncur ? json_object_get_string(w->cursors[ncur]) : NULL;
	return add_out(w, s ? sk_schema_coerce_row(s, row, e) : json_object_get(row), cursor, e);
}

static int tuple_row(struct sk_writer *w, json_object *tuple, sk_err *e)
{
	const sk_schema *s = sk_sink_schema(w->k);

	if (s == NULL)
		return sk_err_set(e, EX_DATAERR, "a tuple (an array of values) needs a schema: give --schema%s",
		                  sk_sink_wants_schema(w->k) ? ", or write an object row first" : "");
	return add_out(w, sk_schema_coerce_tuple(s, tuple, e), NULL, e);
}

struct mapped {
	struct sk_writer *w;
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
static int mapped_row(struct sk_writer *w, json_object *row, sk_err *e)
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

static int one_row(struct sk_writer *w, json_object *row, sk_err *e)
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
int sk_writer_line_rows(struct sk_writer *w, json_object *v, uint64_t *nrows, sk_err *e)
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

