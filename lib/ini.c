/* ini.c - the endpoints file: [sections] of key = value lines, parsed
 * strictly (ini.h): a file with a mistake is refused rather than half
 * used, since the mistake would otherwise surface as a default quietly
 * taken or a setting quietly lost. */
#include <stdlib.h>
#include <string.h>

#include "ini.h"

/* Names already met (sections of the file, keys of the current section),
 * with the line of each, to report where a repeated one first was. */
struct seen {
	struct seen_name {
		char *name;
		unsigned line;
	} *v;
	size_t n, cap;
};

static unsigned seen_line(const struct seen *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return s->v[i].line;
	return 0;
}

static int seen_add(struct seen *s, const char *name, unsigned line)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct seen_name *v = realloc(s->v, cap * sizeof *v);
		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	if ((s->v[s->n].name = strdup(name)) == NULL)
		return -1;
	s->v[s->n++].line = line;
	return 0;
}

static void seen_clear(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].name);
	s->n = 0;
}

static void seen_free(struct seen *s)
{
	seen_clear(s);
	free(s->v);
}

static const char *skip_space(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *end)
{
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return end;
}

struct parse {
	const char *name;          /* the file, for messages */
	sk_ini_cb cb;
	void *arg;
	char *section;             /* NULL before the first header */
	struct seen sections, keys;
	unsigned line;
	sk_err *e;
};


/* "[ name ]" in s..t. */
static int header(struct parse *p, const char *s, const char *t)
{
	unsigned first;

	if (t[-1] != ']' || t - s < 3)
		return sk_err_set(p->e, EX_CONFIG, "%s:%u: expected [name]", p->name, p->line);
	s = skip_space(s + 1, t - 1);
	free(p->section);
	if ((p->section = strndup(s, (size_t)(trim_end(s, t - 1) - s))) == NULL)
		return sk_err_oom(p->e);
	if (p->section[0] == '\0')
		return sk_err_set(p->e, EX_CONFIG, "%s:%u: expected [name]", p->name, p->line);
	if ((first = seen_line(&p->sections, p->section)) != 0)
		return sk_err_set(p->e, EX_CONFIG, "%s:%u: section [%s] again (first at line %u)", p->name,
		                  p->line, p->section, first);
	if (seen_add(&p->sections, p->section, p->line) < 0)
		return sk_err_oom(p->e);
	seen_clear(&p->keys);
	return p->cb(p->arg, p->section, NULL, NULL, p->line);
}

/* "key = value" in s..t. */
static int key_value(struct parse *p, const char *s, const char *t)
{
	const char *eq = memchr(s, '=', (size_t)(t - s));
	char *key, *value;
	unsigned first;
	int rc;

	if (eq == NULL || trim_end(s, eq) == s)
		return sk_err_set(p->e, EX_CONFIG, "%s:%u: expected key = value", p->name, p->line);
	if (p->section == NULL)
		return sk_err_set(p->e, EX_CONFIG, "%s:%u: a key before any [section]", p->name, p->line);
	if ((key = strndup(s, (size_t)(trim_end(s, eq) - s))) == NULL)
		return sk_err_oom(p->e);
	if ((first = seen_line(&p->keys, key)) != 0) {
		rc = sk_err_set(p->e, EX_CONFIG, "%s:%u: [%s] %s again (first at line %u)", p->name, p->line,
		                p->section, key, first);
		free(key);
		return rc;
	}
	eq = skip_space(eq + 1, t);
	if ((value = strndup(eq, (size_t)(t - eq))) == NULL || seen_add(&p->keys, key, p->line) < 0)
		rc = sk_err_oom(p->e);
	else
		rc = p->cb(p->arg, p->section, key, value, p->line);
	free(key);
	free(value);
	return rc;
}

int sk_ini_parse(const char *buf, size_t len, const char *name, sk_ini_cb cb, void *arg, sk_err *e)
{
	struct parse p = { .name = name, .cb = cb, .arg = arg, .e = e };
	const char *at = buf, *end;
	int rc = 0;

	if (len == 0)
		return 0;       /* an empty file's buffer may be NULL */
	end = buf + len;

	while (at < end && rc == 0) {
		const char *eol = memchr(at, '\n', (size_t)(end - at));
		const char *s, *t;

		if (eol == NULL)
			eol = end;
		p.line++;
		s = skip_space(at, eol);
		t = trim_end(s, eol);
		at = eol < end ? eol + 1 : end;
		if (s == t || *s == '#' || *s == ';')
			continue;
		rc = *s == '[' ? header(&p, s, t) : key_value(&p, s, t);
	}
	free(p.section);
	seen_free(&p.sections);
	seen_free(&p.keys);
	return rc;
}
