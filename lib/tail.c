/* tail.c - the tail of a child's stderr: a ring of its last lines. */
#include <stdlib.h>
#include <string.h>

#include "tail.h"

static int tail_push(sk_tail *t)
{
	char *line;

	if (t->cut && sk_buf_adds(&t->partial, "...") < 0)
		return -1;
	line = strdup(t->partial.p ? t->partial.p : "");
	if (line == NULL)
		return -1;
	if (t->n == SK_TAIL_LINES) {
		free(t->lines[t->head]);
		t->lines[t->head] = line;
		t->head = (t->head + 1) % SK_TAIL_LINES;
	} else {
		t->lines[(t->head + t->n++) % SK_TAIL_LINES] = line;
	}
	sk_buf_reset(&t->partial);
	t->cut = 0;
	return 0;
}

int sk_tail_feed(sk_tail *t, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	size_t room, take;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		take = (size_t)((nl ? nl : end) - p);
		room = t->partial.len < SK_TAIL_LINE_MAX ? SK_TAIL_LINE_MAX - t->partial.len : 0;
		if (take > room)
			t->cut = 1;
		if (sk_buf_add(&t->partial, p, take < room ? take : room) < 0 || (nl && tail_push(t) < 0)) {
			t->nomem = 1;
			return -1;
		}
		p += take + (nl != NULL);
	}
	return 0;
}

char *sk_tail_text(const sk_tail *t, int *nomem)
{
	sk_buf b = { 0 };
	unsigned i;

	*nomem = t->nomem;
	for (i = 0; i < t->n; i++)
		if ((i && sk_buf_addc(&b, '\n') < 0) ||
		    sk_buf_adds(&b, t->lines[(t->head + i) % SK_TAIL_LINES]) < 0)
			goto oom;
	if (t->partial.len && ((t->n && sk_buf_addc(&b, '\n') < 0) ||
	                       sk_buf_add(&b, t->partial.p, t->partial.len) < 0 ||
	                       (t->cut && sk_buf_adds(&b, "...") < 0)))
		goto oom;
	return b.p;
oom:
	sk_buf_free(&b);
	*nomem = 1;
	return NULL;
}

void sk_tail_reset(sk_tail *t)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		free(t->lines[(t->head + i) % SK_TAIL_LINES]);
	sk_buf_free(&t->partial);
	memset(t, 0, sizeof *t);
}

size_t sk_complete_lines(const char *p, size_t n)
{
	while (n > 0 && p[n - 1] != '\n')
		n--;
	return n;
}

