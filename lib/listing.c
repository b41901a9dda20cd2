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

static int table_row(sk_listing *l, const sk_cell *cells)
{
	char buf[64];
	const char *s;
	size_t i;

	/* The headings are the first row. */
	for (i = 0; l->rows == 1 && i < l->ncols; i++)
		if (l->cols[i].heading && keep_cell(l, l->cols[i].heading) < 0)
			return -1;
	for (i = 0; i < l->ncols; i++) {
		const sk_cell *c = &cells[i];
		if (l->cols[i].heading == NULL)
			continue;
		s = c->text ? c->text : c->s;
		if (c->text == NULL && l->cols[i].type == SK_COL_INT)
			s = c->null ? NULL : (buf[sk_fmt_i64(buf, c->n)] = '\0', buf);
		else if (c->text == NULL && l->cols[i].type == SK_COL_TIME)
			sk_listing_time(c->null ? 0 : c->n, buf, sizeof buf), s = buf;
		if (keep_cell(l, s) < 0)
			return -1;
	}
	return 0;
}

static int json_member(sk_listing *l, const sk_column *col, const sk_cell *c)
{
	sk_buf *b = &l->line;

	if (sk_buf_printf(b, "%s\"%s\":", b->len > 1 ? "," : "", col->key) < 0)
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
		if (l->parser == NULL && (l->parser = sk_json_new()) == NULL)
			return -1;
		return sk_json_add_text(b, l->parser, c->s, strlen(c->s), 1);
	case SK_COL_TEXT:
		if (c->s)
			return sk_json_add_string(b, c->s, strlen(c->s));
		break;
	}
	return sk_buf_adds(b, "null");
}

static int json_row(sk_listing *l, const sk_cell *cells, sk_err *e)
{
	size_t i;

	sk_buf_reset(&l->line);
	if (sk_buf_addc(&l->line, '{') < 0)
		return sk_err_oom(e);
	for (i = 0; i < l->ncols; i++) {
		if (l->cols[i].key == NULL)
			continue;
		if (json_member(l, &l->cols[i], &cells[i]) < 0 ||
		    (cells[i].more && sk_buf_adds(&l->line, cells[i].more) < 0))
			return sk_err_oom(e);
	}
	if (sk_buf_addc(&l->line, '}') < 0)
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
