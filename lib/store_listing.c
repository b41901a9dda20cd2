/* store_listing.c - the state store's listings, each its columns and the
 * walk that gives their rows (see store_listing.h). */
#include <string.h>

#include "store_listing.h"
#include "run_status.h"
#include "source.h"

static const sk_column position_columns[] = {
	{ "NAME", "name", SK_COL_TEXT }, { "SOURCE", "source", SK_COL_TEXT },
	{ "PARTITION", "partition", SK_COL_TEXT }, { "POSITION", "position", SK_COL_TEXT },
	{ "UPDATED", "updated_ms", SK_COL_TIME },
};
static const sk_column name_columns[] = {
	{ "NAME", "name", SK_COL_TEXT }, { "POSITIONS", "positions", SK_COL_INT },
	{ "LAST CHECKPOINT", "last_checkpoint_ms", SK_COL_TIME },
};
/* The store keeps a checkpoint's cursors as a JSON array: embedded as one. */
static const sk_column history_columns[] = {
	{ "ID", "id", SK_COL_INT }, { NULL, "name", SK_COL_TEXT }, { "AT", "at_ms", SK_COL_TIME },
	{ "ROWS", "rows", SK_COL_INT }, { "CURSORS", "cursors", SK_COL_JSON },
};
static const sk_column lag_columns[] = {
	{ NULL, "name", SK_COL_TEXT }, { "SOURCE", "source", SK_COL_TEXT },
	{ "PARTITION", "partition", SK_COL_TEXT }, { "POSITION", "position", SK_COL_TEXT },
	{ "END", "end", SK_COL_INT }, { "LAG", "lag", SK_COL_INT },
};

/* A listing being walked: the row callbacks' argument. */
struct walk {
	sk_listing l;
	const sk_store_listing_opts *o;
	const char *name;
	int rc;                  /* of the last row: SK_EOF (out closed) or -1 stop the walk */
	sk_err e;
	sk_buf text, more;       /* a position described */
};

static int put_row(struct walk *w, const sk_cell *cells)
{
	w->rc = sk_listing_row(&w->l, cells, &w->e);
	return w->rc != 0;
}

/* A position as its source's kind reads it: the text for the table, and
 * what more it says (a file's identity) as JSON members after the raw
 * position, which stays as it is so that it can be given back to set. */
static int describe(struct walk *w, const char *source, const char *position, sk_cell *c)
{
	if (sk_position_describe(source, position, &w->text, &w->more) < 0) {
		w->rc = sk_err_oom(&w->e);
		return 1;
	}
	c->text = w->text.p;
	c->more = w->more.p;
	return 0;
}

static int position_row(void *arg, const char *name, const char *source, const char *partition,
                        const char *position, int64_t updated_ms)
{
	sk_cell c[] = { { .s = name }, { .s = source }, { .s = partition }, { .s = position },
	                { .n = updated_ms } };

	return describe(arg, source, position, &c[3]) || put_row(arg, c);
}

static int name_row(void *arg, const char *name, int64_t positions, int64_t last_ms)
{
	sk_cell c[] = { { .s = name }, { .n = positions }, { .n = last_ms, .null = last_ms <= 0 } };

	return put_row(arg, c);
}

static int history_row(void *arg, int64_t id, const char *name, int64_t at_ms, int64_t rows,
                       const char *cursors)
{
	sk_cell c[] = { { .n = id }, { .s = name }, { .n = at_ms }, { .n = rows }, { .s = cursors } };

	return put_row(arg, c);
}

static int lag_row(void *arg, const sk_lag_row *r)
{
	struct walk *w = arg;
	sk_cell c[] = { { .s = w->name }, { .s = r->source }, { .s = r->partition }, { .s = r->position },
	                { .n = r->end, .null = !r->has_end }, { .n = r->lag, .null = !r->has_lag } };

	if (r->note)
		sk_warn("%s: %s", r->source, r->note);
	return (r->position && describe(w, r->source, r->position, &c[3])) || put_row(w, c);
}

static void lag_failed(void *arg, const sk_err *e)
{
	struct walk *w = arg;

	w->o->failed(w->o->failed_arg, e);
}

/* show NAME: after its positions, what its supervisor does (stream-run),
 * as stream-run --status says it. */
struct supervisor_out {
	int json;
	sk_buf b;
};

static int supervisor_format(void *arg, const sk_run_info *r)
{
	struct supervisor_out *s = arg;

	if ((s->json && sk_buf_adds(&s->b, "{\"supervisor\":") < 0) ||
	    sk_run_status_format(&s->b, r, sk_wall_ms(), s->json) < 0 ||
	    (s->json && sk_buf_adds(&s->b, "}\n") < 0))
		return -1;
	return 0;
}

static int show_supervisor(sk_state *st, const char *name, int json, sk_output *out, int64_t rows,
                           sk_err *e)
{
	struct supervisor_out sup = { .json = json };
	int rc, cb_rc = 0;

	if ((rc = sk_state_get_run(st, name, supervisor_format, &sup, &cb_rc, e)) > 0)
		rc = cb_rc < 0 ? sk_err_oom(e) : 0;
	/* A blank line between the table and the supervisor's lines. */
	if (rc == 0 && sup.b.len && !json && rows > 0)
		rc = sk_output_add(out, "", 0, 1, e);
	if (rc == 0 && sup.b.len)
		rc = sk_output_add(out, sup.b.p, sup.b.len, 0, e);
	sk_buf_free(&sup.b);
	return rc;
}

#define COLUMNS(cols) cols, sizeof cols / sizeof cols[0]

int sk_store_listing(sk_state *st, enum sk_store_listing which, const sk_store_listing_opts *o,
                     int json, sk_output *out, int64_t *rows, sk_err *e)
{
	struct walk w = { .o = o, .name = o->name };
	int rc = 0;

	switch (which) {
	case SK_LIST_POSITIONS:
		sk_listing_init(&w.l, COLUMNS(position_columns), json, out);
		rc = sk_state_each_position(st, o->name, position_row, &w, e);
		break;
	case SK_LIST_NAMES:
		sk_listing_init(&w.l, COLUMNS(name_columns), json, out);
		rc = sk_state_each_name(st, name_row, &w, e);
		break;
	case SK_LIST_HISTORY:
		sk_listing_init(&w.l, COLUMNS(history_columns), json, out);
		rc = sk_state_each_checkpoint(st, o->name, o->limit, history_row, &w, e);
		break;
	case SK_LIST_LAG:
		sk_listing_init(&w.l, COLUMNS(lag_columns), json, out);
		rc = sk_lag(st, o->name, o->lag, lag_row, lag_failed, &w, e);
		break;
	}
	if (w.rc == 0 && rc < 0) {
		w.rc = -1;           /* the store's error, in e */
	} else {
		if (w.rc == 0)
			w.rc = sk_listing_end(&w.l, &w.e);
		if (w.rc < 0)
			*e = w.e;
	}
	*rows = w.l.rows;
	if (w.rc == 0 && which == SK_LIST_POSITIONS && o->name)
		w.rc = show_supervisor(st, o->name, json, out, w.l.rows, e);
	sk_listing_free(&w.l);
	sk_buf_free(&w.text);
	sk_buf_free(&w.more);
	return w.rc < 0 ? -1 : w.rc;
}
