/* endpoints_file.c - named endpoints: where the endpoints file is, the
 * named section looked up in it, and its keys checked against what the
 * kind of its url takes (strict: an unknown key is an error). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "endpoint_impl.h"
#include "kinds.h"
#include "ini.h"
#include "util.h"

char *sk_endpoints_file(const char *option)
{
	const char *env = getenv("STREAMKIT_ENDPOINTS"), *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (option)
		return strdup(option);
	if (env && *env)
		return strdup(env);
	if (xdg && *xdg)
		return sk_strprintf("%s/streamkit/endpoints.conf", xdg);
	return sk_strprintf("%s/.config/streamkit/endpoints.conf", home ? home : ".");
}

/* A bare word that names an endpoint rather than a file: no '/', no '.', no ':'. */
int sk_ep_looks_like_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] == '/' || s[i] == '.' || s[i] == ':')
			return 0;
	return i > 0 && strcmp(s, "-") != 0;
}

/* The named section, as the endpoints file is parsed. */
struct lookup {
	const char *name;
	sk_endpoint *ep;
	char *url;
	unsigned section_line, url_line;
	int failed;
};

static int lookup_cb(void *arg, const char *section, const char *key, const char *value, unsigned line)
{
	struct lookup *l = arg;

	if (strcmp(section, l->name) != 0)
		return 0;
	if (key == NULL) {
		l->section_line = line;
		return 0;
	}
	if (strcmp(key, "url") == 0) {
		l->url_line = line;
		if ((l->url = strdup(value)) == NULL)
			return l->failed = -1;
		return 0;
	}
	if (sk_ep_kv_push(&l->ep->settings, &l->ep->nsettings, key, strlen(key), value, strlen(value)) < 0)
		return l->failed = -1;
	l->ep->settings[l->ep->nsettings - 1].line = line;
	return 0;
}

static int read_file(const char *path, char **buf, size_t *len, sk_err *e)
{
	FILE *f = fopen(path, "r");
	sk_buf b = {0};
	char chunk[8192];
	size_t n;

	if (f == NULL)
		return sk_err_set(e, errno == ENOENT ? EX_CONFIG : EX_IOERR, "%s: %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (sk_buf_add(&b, chunk, n) < 0) {
			fclose(f);
			sk_buf_free(&b);
			return sk_err_oom(e);
		}
	}
	if (ferror(f)) {
		fclose(f);
		sk_buf_free(&b);
		return sk_err_set(e, EX_IOERR, "%s: read error", path);
	}
	fclose(f);
	*buf = b.p;
	*len = b.len;
	return 0;
}

/* The keys of the named section against what its kind takes. */
static int check_settings(const sk_endpoint *ep, sk_err *e)
{
	const sk_kind *kind = sk_kind_of(ep);
	const struct sk_ep_syntax *k = sk_kind_syntax(kind);
	const char *pre = k->passthrough;
	char taken[160];
	size_t i;

	for (i = 0; i < ep->nsettings; i++) {
		const sk_kv *s = &ep->settings[i];

		if (sk_ep_is_bool_key(s->key)) {
			if (sk_ep_bool_value(s->value) < 0)
				return sk_err_set(e, EX_CONFIG, "%s:%u: [%s] %s: expected a boolean (%s)", ep->file, s->line,
				                  ep->name, s->key, SK_BOOLEAN_WORDS);
			continue;
		}
		if ((k->params && sk_ep_in_list(k->params, s->key)) ||
		    (pre && sk_ep_starts(s->key, pre) && s->key[strlen(pre)] != '\0'))
			continue;
		sk_ep_keys_taken(k, 1, taken, sizeof taken);
		return sk_err_set(e, EX_CONFIG, "%s:%u: [%s] unknown key '%s' (%s endpoints take %s)", ep->file, s->line,
		                  ep->name, s->key, sk_kind_name(kind), taken);
	}
	return 0;
}

/* The url of the named section, parsed; its mistakes are the file's. */
static int parse_named_url(sk_endpoint *ep, struct lookup *l, sk_err *e)
{
	if (l->url == NULL)
		return sk_err_set(e, EX_CONFIG, "%s:%u: [%s] has no url", ep->file, l->section_line, ep->name);
	if (sk_ep_parse_url(ep, l->url, e) < 0) {
		if (e && e->code == EX_USAGE)
			e->code = EX_CONFIG;    /* the mistake is in the file, not the command line */
		return sk_err_prefix(e, "%s:%u", ep->file, l->url_line);
	}
	return check_settings(ep, e);
}

int sk_ep_resolve_name(sk_endpoint *ep, const char *ini_path, sk_err *e)
{
	struct lookup l = { .name = ep->arg, .ep = ep };
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int rc;

	if (ini_path == NULL || stat(ini_path, &st) < 0)
		return sk_err_set(e, EX_CONFIG, "unknown endpoint '%s': no endpoints file %s "
		                  "(for a file of that name write file:%s)", ep->arg,
		                  ini_path ? ini_path : "", ep->arg);
	if (read_file(ini_path, &buf, &len, e) < 0)
		return -1;
	rc = sk_ini_parse(buf, len, ini_path, lookup_cb, &l, e);
	free(buf);
	if (rc == 0 && !l.failed && l.section_line == 0)
		rc = sk_err_set(e, EX_CONFIG, "unknown endpoint '%s': no [%s] in %s "
		                "(for a file of that name write file:%s)", ep->arg, ep->arg, ini_path, ep->arg);
	if (rc == 0 && !l.failed && ((ep->name = strdup(ep->arg)) == NULL || (ep->file = strdup(ini_path)) == NULL))
		l.failed = -1;
	if (l.failed)
		rc = sk_err_oom(e);
	if (rc == 0)
		rc = parse_named_url(ep, &l, e);
	free(l.url);
	return rc == 0 ? 0 : -1;
}
