/* fuzz-endpoint - endpoint arguments and the endpoints file over any bytes:
 * the input is an argument, a NUL, then the file's text. Resolving must not
 * crash, and no message may quote the value of a secret-looking setting of
 * the file or query parameter of a URL (sk_secret_name), nor may the
 * argument as printed and stored (sk_endpoint.arg, sk_ep_safe_label). */
#define _GNU_SOURCE 1   /* memmem */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint_impl.h"
#include "ini.h"

#define SECRETS 16

/* Values of secret-looking names, long enough not to turn up by chance,
 * and found once in the input (not also as the value of another name). */
struct secrets {
	const uint8_t *input;
	size_t input_len;
	const char *v[SECRETS];
	char *owned[SECRETS];
	size_t n;
};

static int once(const struct secrets *s, const char *value, size_t len)
{
	const uint8_t *at = memmem(s->input, s->input_len, value, len);

	return at != NULL && memmem(at + 1, s->input_len - (size_t)(at + 1 - s->input), value, len) == NULL;
}

static void add_secret(struct secrets *s, const char *name, size_t name_len, const char *value, size_t len)
{
	char *nm;

	if (len < 6 || s->n == SECRETS || !once(s, value, len) || (nm = strndup(name, name_len)) == NULL)
		return;
	if (sk_secret_name(nm) && (s->owned[s->n] = strndup(value, len)) != NULL) {
		s->v[s->n] = s->owned[s->n];
		s->n++;
	}
	free(nm);
}

static int ini_secret(void *arg, const char *section, const char *key, const char *value, unsigned line)
{
	(void)section;
	(void)line;
	if (key != NULL)
		add_secret(arg, key, strlen(key), value, strlen(value));
	return 0;
}

/* The NAME=VALUE pairs of a URL's query, as written (an argument that is
 * not one is a file's path, and printed as it is). */
static void query_secrets(struct secrets *s, const char *url)
{
	struct sk_ep_scheme found;
	const char *q = strchr(url, '?'), *end, *amp, *eq;

	if (q == NULL || (!sk_ep_find_scheme(url, &found) && sk_ep_url_scheme(url) == 0))
		return;
	end = q + strcspn(q, "#");     /* the fragment is no query */
	while (q != NULL && q < end) {
		q++;
		if ((amp = memchr(q, '&', (size_t)(end - q))) == NULL)
			amp = end;
		if ((eq = memchr(q, '=', (size_t)(amp - q))) != NULL)
			add_secret(s, q, (size_t)(eq - q), eq + 1, (size_t)(amp - eq - 1));
		q = amp;
	}
}

static void not_in(const struct secrets *s, const char *text)
{
	size_t i;

	if (text == NULL)
		return;
	for (i = 0; i < s->n; i++)
		if (strstr(text, s->v[i]) != NULL)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[] = "/tmp/fuzz-endpoint-XXXXXX";
	static int fd = -1;
	const uint8_t *nul = memchr(data, '\0', size);
	struct secrets s = { data, size, { 0 }, { 0 }, 0 };
	sk_endpoint *ep = NULL;
	sk_err e = { 0 }, ignored = { 0 };
	char *arg, *label;
	size_t arg_len, i;

	if (nul == NULL)
		return 0;
	if (fd < 0 && ((fd = mkstemp(path)) < 0 || unlink(path) != 0))
		abort();
	/* The file, by a name that stays: /proc/self/fd/N. */
	arg_len = (size_t)(nul - data);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, nul + 1, size - arg_len - 1, 0) != (ssize_t)(size - arg_len - 1))
		abort();
	if ((arg = strndup((const char *)data, arg_len)) == NULL)
		abort();
	sk_ini_parse((const char *)nul + 1, size - arg_len - 1, "endpoints", ini_secret, &s, &ignored);
	query_secrets(&s, arg);
	{
		char file[64];

		snprintf(file, sizeof file, "/proc/self/fd/%d", fd);
		if (sk_endpoint_resolve(arg, file, &ep, &e) == 0) {
			not_in(&s, ep->arg);
			sk_endpoint_free(ep);
		} else {
			not_in(&s, e.msg);
		}
	}
	not_in(&s, ignored.msg);
	if ((label = sk_ep_safe_label(arg)) != NULL) {
		not_in(&s, label);
		free(label);
	}
	for (i = 0; i < s.n; i++)
		free(s.owned[i]);
	free(arg);
	return 0;
}
