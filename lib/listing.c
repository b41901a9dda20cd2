/* listing.c - a listing's table and JSON lines from one declaration of its
 * columns (see listing.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "listing.h"

void sk_listing_init(sk_listing *l, const sk_column *cols, size_t ncols, int json, sk_output *out)
{
	memset(l, 0, sizeof *l);
	l->cols = cols;
	l->ncols = ncols;
	l->json = json;
	l->out = out;
}

void sk_listing_time(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || localtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, size, "-");
}

static int keep_cell(sk_listing *l, const char *s)
{
	char *c;

	if (l->ncells == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : l->ncols * 16;
		char **cells = realloc(l->cells, cap * sizeof *cells);
		if (cells == NULL)
			return -1;
		l->cells = cells;
		l->cap = cap;
	}
	if ((c = strdup(s ? s : "-")) == NULL)
		return -1;
	l->cells[l->ncells++] = c;
	return 0;
}

/* A cell as text (buf holds a number's), or NULL when it has no value. */
static const char *cell_text(const sk_column *col, const sk_cell *c, char buf[64])
{
	if (c->text)
		return c->text;
	if (col->type == SK_COL_INT)
		return c->null ? NULL : (buf[sk_fmt_i64(buf, c->n)] = '\0', buf);
	if (col->type == SK_COL_TIME) {
		sk_listing_time(c->null ? 0 : c->n, buf, 64);
		return buf;
	}
	return c->s;
}

static int table_row(sk_listing *l, const sk_cell *cells)
{
	char buf[64];
	size_t i;

	/* The headings are the first row. */
	for (i = 0; l->rows == 1 && i < l->ncols; i++)
		if (l->cols[i].heading && keep_cell(l, l->cols[i].heading) < 0)
			return -1;
	for (i = 0; i < l->ncols; i++)
		if (l->cols[i].heading && keep_cell(l, cell_text(&l->cols[i], &cells[i], buf)) < 0)
			return -1;
	return 0;
}

static int json_member(sk_buf *b, size_t start, sk_json **parser, const sk_column *col, const sk_cell *c)
{
	if (sk_buf_printf(b, "%s\"%s\":", b->len > start + 1 ? "," : "", col->key) < 0)
		return -1;
	switch (col->type) {
	case SK_COL_INT:
	case SK_COL_TIME:
		if (!c->null)
			return sk_buf_add_i64(b, c->n);
		break;
	case SK_COL_JSON:
		if (c->s == NULL)
			break;
		if (*parser == NULL && (*parser = sk_json_new()) == NULL)
			return -1;
		return sk_json_add_text(b, *parser, c->s, strlen(c->s), 1);
	case SK_COL_TEXT:
		if (c->s)
			return sk_json_add_string(b, c->s, strlen(c->s));
		break;
	}
	return sk_buf_adds(b, "null");
}

/* The row as one JSON object, appended to b. */
static int row_object(const sk_column *cols, size_t ncols, const sk_cell *cells, sk_json **parser,
                       sk_buf *b)
{
	size_t i, start = b->len;

	if (sk_buf_addc(b, '{') < 0)
		return -1;
	for (i = 0; i < ncols; i++)
		if (cols[i].key && (json_member(b, start, parser, &cols[i], &cells[i]) < 0 ||
		                    (cells[i].more && sk_buf_adds(b, cells[i].more) < 0)))
			return -1;
	return sk_buf_addc(b, '}');
}

/* The row as a line of its values, each after its heading ("  pid 42"). */
static int labelled_line(const sk_column *cols, size_t ncols, const sk_cell *cells, sk_buf *b)
{
	char buf[64];
	const char *v;
	size_t i;

	for (i = 0; i < ncols; i++) {
		if (cols[i].heading == NULL || (v = cell_text(&cols[i], &cells[i], buf)) == NULL)
			continue;
		if (sk_buf_printf(b, "  %s%s%s", cols[i].heading, *cols[i].heading ? " " : "", v) < 0)
			return -1;
	}
	return 0;
}

int sk_listing_format(const sk_column *cols, size_t ncols, const sk_cell *cells, int json, sk_buf *b)
{
	sk_json *parser = NULL;
	int rc;

	if (!json)
		return labelled_line(cols, ncols, cells, b);
	rc = row_object(cols, ncols, cells, &parser, b);
	sk_json_free(parser);
	return rc;
}

static int json_row(sk_listing *l, const sk_cell *cells, sk_err *e)
{
	sk_buf_reset(&l->line);
	if (row_object(l->cols, l->ncols, cells, &l->parser, &l->line) < 0)
		return sk_err_oom(e);
	return sk_output_add(l->out, l->line.p, l->line.len, 1, e);
}

int sk_listing_row(sk_listing *l, const sk_cell *cells, sk_err *e)
{
	l->rows++;
	if (l->json)
		return json_row(l, cells, e);
	return table_row(l, cells) < 0 ? sk_err_oom(e) : 0;
}

int sk_listing_end(sk_listing *l, sk_err *e)
{
	size_t ncols = 0, width[16] = { 0 }, i, c, n;
	int rc = 0;

	for (i = 0; i < l->ncols; i++)
		ncols += l->cols[i].heading != NULL;
	if (l->json || l->ncells <= ncols || ncols > sizeof width / sizeof width[0])
		return 0;
	for (i = 0; i < l->ncells; i++)
		if ((n = strlen(l->cells[i])) > width[i % ncols])
			width[i % ncols] = n;
	for (i = 0; rc == 0 && i < l->ncells; i++) {
		c = i % ncols;
		n = strlen(l->cells[i]);
		if ((rc = sk_output_add(l->out, l->cells[i], n, c + 1 == ncols, e)) == 0 && c + 1 < ncols) {
			if (sk_buf_printf(&l->out->buf, "%*s", (int)(width[c] - n + 2), "") < 0)
				return sk_err_oom(e);
		}
	}
	return rc;
}

void sk_listing_free(sk_listing *l)
{
	size_t i;

	for (i = 0; i < l->ncells; i++)
		free(l->cells[i]);
	free(l->cells);
	sk_buf_free(&l->line);
	sk_json_free(l->parser);
	l->cells = NULL;
	l->ncells = l->cap = 0;
	l->parser = NULL;
}
