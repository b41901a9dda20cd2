/* cursor.c - "SOURCE:PARTITION:POSITION" and the last cursor per partition. */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "json.h"

int sk_cursor_split(const char *c, size_t n, sk_cursor_parts *out, sk_err *e)
{
	const char *pos = NULL, *part = NULL;
	size_t i;

	for (i = n; i > 0; i--) {
		if (c[i - 1] == ':') {
			if (pos == NULL)
				pos = c + i;
			else {
				part = c + i;
				break;
			}
		}
	}
	if (pos == NULL || part == NULL || part - 1 == c || pos == c + n || pos - 1 == part) {
		return sk_err_set(e, EX_DATAERR, "invalid cursor '%.*s' (expected SOURCE:PARTITION:POSITION)",
		                  (int)(n > 200 ? 200 : n), c);
	}
	out->source = c;
	out->source_len = (size_t)(part - 1 - c);
	out->partition = part;
	out->partition_len = (size_t)(pos - 1 - part);
	out->position = pos;
	out->position_len = (size_t)(c + n - pos);
	return 0;
}

int sk_cursor_add_json(sk_buf *b, const char *source, const char *partition, const char *position)
{
	size_t ns = strlen(source), np = strlen(partition), nq = strlen(position);
	char stack[512], *s = stack;
	int rc;

	if (ns + np + nq + 3 > sizeof stack && (s = malloc(ns + np + nq + 3)) == NULL)
		return -1;
	memcpy(s, source, ns);
	s[ns] = ':';
	memcpy(s + ns + 1, partition, np);
	s[ns + 1 + np] = ':';
	memcpy(s + ns + np + 2, position, nq);
	rc = sk_json_add_string(b, s, ns + np + nq + 2);
	if (s != stack)
		free(s);
	return rc;
}

struct entry {
	char *key;          /* "SOURCE:PARTITION:" */
	size_t key_len;
	char *source, *partition, *position;
};

struct sk_cursorset {
	struct entry *v;
	size_t n, cap;
	size_t last;        /* the entry hit last: consecutive rows share a partition */
};

sk_cursorset *sk_cursorset_new(void)
{
	return calloc(1, sizeof(sk_cursorset));
}

static void entry_free(struct entry *x)
{
	free(x->key);
	free(x->source);
	free(x->partition);
	free(x->position);
}

void sk_cursorset_clear(sk_cursorset *cs)
{
	size_t i;

	for (i = 0; i < cs->n; i++)
		entry_free(&cs->v[i]);
	cs->n = 0;
	cs->last = 0;
}

void sk_cursorset_free(sk_cursorset *cs)
{
	if (cs) {
		sk_cursorset_clear(cs);
		free(cs->v);
		free(cs);
	}
}

size_t sk_cursorset_count(const sk_cursorset *cs)
{
	return cs->n;
}

static int matches(const struct entry *x, const char *c, size_t key_len)
{
	return x->key_len == key_len && memcmp(x->key, c, key_len) == 0;
}

int sk_cursorset_add(sk_cursorset *cs, const char *c, size_t n, sk_err *e)
{
	sk_cursor_parts p;
	struct entry *x = NULL;
	size_t key_len, i;
	char *pos;

	if (sk_cursor_split(c, n, &p, e) < 0)
		return -1;
	key_len = (size_t)(p.position - c);
	if (cs->last < cs->n && matches(&cs->v[cs->last], c, key_len))
		x = &cs->v[cs->last];
	for (i = 0; x == NULL && i < cs->n; i++) {
		if (matches(&cs->v[i], c, key_len)) {
			x = &cs->v[i];
			cs->last = i;
		}
	}
	if (x) {
		if (strlen(x->position) >= p.position_len) {
			memcpy(x->position, p.position, p.position_len);
			x->position[p.position_len] = '\0';
			return 0;
		}
		if ((pos = strndup(p.position, p.position_len)) == NULL)
			return sk_err_oom(e);
		free(x->position);
		x->position = pos;
		return 0;
	}
	if (cs->n == cs->cap) {
		size_t cap = cs->cap ? cs->cap * 2 : 8;
		struct entry *v = realloc(cs->v, cap * sizeof *v);
		if (v == NULL)
			return sk_err_oom(e);
		cs->v = v;
		cs->cap = cap;
	}
	x = &cs->v[cs->n];
	x->key = strndup(c, key_len);
	x->key_len = key_len;
	x->source = strndup(p.source, p.source_len);
	x->partition = strndup(p.partition, p.partition_len);
	x->position = strndup(p.position, p.position_len);
	if (!x->key || !x->source || !x->partition || !x->position) {
		entry_free(x);
		return sk_err_oom(e);
	}
	cs->last = cs->n++;
	return 0;
}

int sk_cursorset_merge(sk_cursorset *dst, const sk_cursorset *src, sk_err *e)
{
	sk_buf c = {0};
	size_t i;
	int rc = 0;

	for (i = 0; i < src->n && rc == 0; i++) {
		const struct entry *x = &src->v[i];
		sk_buf_reset(&c);
		if (sk_buf_add(&c, x->key, x->key_len) < 0 || sk_buf_adds(&c, x->position) < 0)
			rc = sk_err_oom(e);
		else
			rc = sk_cursorset_add(dst, c.p, c.len, e);
	}
	sk_buf_free(&c);
	return rc;
}

int sk_cursorset_each(const sk_cursorset *cs, sk_cursor_cb cb, void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < cs->n; i++)
		if ((rc = cb(arg, cs->v[i].source, cs->v[i].partition, cs->v[i].position)) != 0)
			return rc;
	return 0;
}

int sk_cursorset_format(const sk_cursorset *cs, size_t max, sk_buf *b)
{
	size_t i;

	for (i = 0; i < cs->n && i < max; i++)
		if (sk_buf_printf(b, " %s:%s:%s", cs->v[i].source, cs->v[i].partition, cs->v[i].position) < 0)
			return -1;
	return cs->n > max ? sk_buf_printf(b, " and %zu more", cs->n - max) : 0;
}
