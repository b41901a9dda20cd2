/* ini.c - the endpoints file: [sections] of key = value lines. */
#include <stdlib.h>
#include <string.h>

#include "ini.h"

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

int sk_ini_parse(const char *buf, size_t len, sk_ini_cb cb, void *arg, sk_err *e)
{
	const char *p = buf, *end = buf + len;
	char *section = strdup(""), *key = NULL, *value = NULL;
	unsigned line = 0;
	int rc = 0;

	if (section == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	while (p < end && rc == 0) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *s, *t, *eq;

		if (eol == NULL)
			eol = end;
		line++;
		s = skip_space(p, eol);
		t = trim_end(s, eol);
		p = eol < end ? eol + 1 : end;
		if (s == t || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (t[-1] != ']' || t - s < 3) {
				rc = sk_err_set(e, EX_CONFIG, "line %u: expected [name]", line);
				break;
			}
			s = skip_space(s + 1, t - 1);
			free(section);
			section = strndup(s, (size_t)(trim_end(s, t - 1) - s));
			if (section == NULL) {
				rc = sk_err_set(e, EX_OSERR, "out of memory");
				break;
			}
			continue;
		}
		eq = memchr(s, '=', (size_t)(t - s));
		if (eq == NULL || trim_end(s, eq) == s) {
			rc = sk_err_set(e, EX_CONFIG, "line %u: expected key = value", line);
			break;
		}
		key = strndup(s, (size_t)(trim_end(s, eq) - s));
		eq = skip_space(eq + 1, t);
		value = strndup(eq, (size_t)(t - eq));
		if (key == NULL || value == NULL)
			rc = sk_err_set(e, EX_OSERR, "out of memory");
		else
			rc = cb(arg, section, key, value, line);
		free(key);
		free(value);
		key = value = NULL;
	}
	free(section);
	return rc;
}
