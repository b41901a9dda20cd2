/* aws_profile.c - a profile of the ~/.aws files: its section read from
 * the credentials file and the config file, and the credentials it gives
 * (static keys, or its credential_process).
 *
 * Not ini.c: these files are shared with the AWS CLI and the SDKs, which
 * read them with Python's configparser rules (':' as well as '=', keys in
 * any case, indented lines continuing a value, nested settings such as
 * `s3 =` whose keys repeat between sections), and hold sections of other
 * tools. Only the profile's own section is checked, so a file another
 * tool accepts is never refused for what streamkit does not read. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws_credentials_impl.h"

/* The ~/.aws files are small; a larger one is a mistake. */
#define AWS_FILE_MAX (1u << 20)

static const char *const key_names[SK_AWS_NKEYS] = {
	[SK_AWS_KEY_ID] = "aws_access_key_id",
	[SK_AWS_KEY_SECRET] = "aws_secret_access_key",
	[SK_AWS_KEY_TOKEN] = "aws_session_token",
	[SK_AWS_KEY_PROCESS] = "credential_process",
	[SK_AWS_KEY_REGION] = "region",
};

struct reader {
	const char *file, *name;
	int config;
	int in_section;            /* the current section is the profile's */
	int after_key;             /* a key line came before in this section */
	unsigned line;
	sk_aws_profile *p;
	sk_err *e;
};

static int blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *trim_start(const char *s, const char *t)
{
	while (s < t && blank(*s))
		s++;
	return s;
}

static const char *trim_end(const char *s, const char *t)
{
	while (t > s && (blank(t[-1]) || t[-1] == '\r'))
		t--;
	return t;
}

static int same(const char *s, const char *t, const char *name)
{
	return (size_t)(t - s) == strlen(name) && memcmp(s, name, (size_t)(t - s)) == 0;
}

/* Whether the header's name s..t is the profile's: NAME in the
 * credentials file; "profile NAME", or "default" for the default profile,
 * in the config file (where a bare [NAME] belongs to no profile). */
static int is_profile_section(const struct reader *r, const char *s, const char *t)
{
	s = trim_start(s, t);
	t = trim_end(s, t);
	if (!r->config)
		return same(s, t, r->name);
	if (same(s, t, "default"))
		return strcmp(r->name, "default") == 0;
	if (t - s > 8 && memcmp(s, "profile", 7) == 0 && blank(s[7]))
		return same(trim_start(s + 7, t), t, r->name);
	return 0;
}

static int set_value(struct reader *r, int k, const char *v, const char *t)
{
	sk_aws_free_secret(r->p->value[k]);
	if ((r->p->value[k] = strndup(v, (size_t)(t - v))) == NULL)
		return sk_err_oom(r->e);
	r->p->line[k] = r->line;
	return 0;
}

/* "key = value" or "key: value" in s..t. */
static int key_line(struct reader *r, const char *s, const char *t)
{
	const char *sep = s, *key_end;
	int k;

	while (sep < t && *sep != '=' && *sep != ':')
		sep++;
	key_end = trim_end(s, sep);
	if (sep == t || key_end == s)
		return r->in_section ? sk_err_set(r->e, EX_CONFIG, "%s:%u: expected key = value", r->file, r->line) : 0;
	r->after_key = 1;
	if (!r->in_section)
		return 0;
	for (k = 0; k < SK_AWS_NKEYS; k++)
		if ((size_t)(key_end - s) == strlen(key_names[k]) &&
		    strncasecmp(s, key_names[k], (size_t)(key_end - s)) == 0)
			return set_value(r, k, trim_start(sep + 1, t), t);
	return 0;
}

static int one_line(struct reader *r, const char *at, const char *eol)
{
	const char *s = trim_start(at, eol), *t = trim_end(s, eol);

	if (s == t || *s == '#' || *s == ';')
		return 0;
	if (s > at && r->after_key)
		return 0;              /* continues the value above, or a nested key */
	if (*s == '[' && t[-1] == ']' && t - s > 2) {
		r->in_section = is_profile_section(r, s + 1, t - 1);
		r->p->found |= r->in_section;
		r->after_key = 0;
		return 0;
	}
	return key_line(r, s, t);
}

int sk_aws_profile_parse(const char *buf, size_t len, const char *file, int config,
                         const char *name, sk_aws_profile *p, sk_err *e)
{
	struct reader r = { .file = file, .name = name, .config = config, .p = p, .e = e };
	const char *at = buf, *end = buf + len;

	while (at < end) {
		const char *eol = memchr(at, '\n', (size_t)(end - at));

		if (eol == NULL)
			eol = end;
		r.line++;
		if (one_line(&r, at, eol) < 0)
			return -1;
		at = eol < end ? eol + 1 : end;
	}
	return 0;
}

void sk_aws_profile_clear(sk_aws_profile *p)
{
	int k;

	for (k = 0; k < SK_AWS_NKEYS; k++)
		sk_aws_free_secret(p->value[k]);
	memset(p, 0, sizeof *p);
}

const char *sk_aws_profile_name(const sk_aws_env *env)
{
	return env->var[SK_AWS_PROFILE] ? env->var[SK_AWS_PROFILE] : "default";
}

char *sk_aws_file_path(const sk_aws_env *env, enum sk_aws_var var, const char *base, sk_err *e)
{
	const char *v = env->var[var], *home = env->var[SK_AWS_HOME];
	char *path;

	if (v && strncmp(v, "~/", 2) == 0 && home)
		path = sk_strprintf("%s/%s", home, v + 2);
	else if (v)
		path = strdup(v);
	else if (home)
		path = sk_strprintf("%s/.aws/%s", home, base);
	else
		path = strdup("");     /* no home, no file: read as a missing one */
	if (path == NULL)
		sk_err_oom(e);
	return path;
}

int sk_aws_profile_load(const char *path, int config, const char *name, sk_aws_profile *p, sk_err *e)
{
	sk_buf b = {0};
	int missing = 0, rc;

	rc = sk_read_file(path, AWS_FILE_MAX, &b, &missing, e);
	if (rc == 0)
		rc = sk_aws_profile_parse(b.p, b.len, path, config, name, p, e);
	else if (missing) {
		sk_err_clear(e);
		rc = 0;
	}
	sk_aws_buf_free_secret(&b);
	return rc;
}

/* A file's profile and where it came from, for messages. */
struct profile_file {
	sk_aws_profile keys;
	char *path;
};

/* The static key pair of one file: SK_AWS_NONE without one, an error
 * naming the file and line when it has half of one. */
static int static_keys(const struct profile_file *f, const char *name, sk_aws_creds *c, sk_err *e)
{
	char *const *v = f->keys.value;

	if (v[SK_AWS_KEY_ID] == NULL && v[SK_AWS_KEY_SECRET] == NULL)
		return SK_AWS_NONE;
	if (v[SK_AWS_KEY_ID] == NULL || v[SK_AWS_KEY_SECRET] == NULL) {
		int have = v[SK_AWS_KEY_ID] ? SK_AWS_KEY_ID : SK_AWS_KEY_SECRET;
		return sk_err_set(e, EX_CONFIG, "%s:%u: profile %s has %s but no %s", f->path, f->keys.line[have],
		                  name, key_names[have], key_names[have == SK_AWS_KEY_ID ? SK_AWS_KEY_SECRET : SK_AWS_KEY_ID]);
	}
	if ((c->access_key_id = strdup(v[SK_AWS_KEY_ID])) == NULL ||
	    (c->secret_access_key = strdup(v[SK_AWS_KEY_SECRET])) == NULL ||
	    (v[SK_AWS_KEY_TOKEN] && (c->session_token = strdup(v[SK_AWS_KEY_TOKEN])) == NULL))
		return sk_err_oom(e);
	snprintf(c->source, sizeof c->source, "profile %s", name);
	return 0;
}

/* As botocore orders them: the credentials file's keys, the profile's
 * credential_process (from either file, the credentials file first), the
 * config file's keys. */
static int profile_creds(const sk_aws_env *env, const char *name, struct profile_file f[2], sk_aws_creds *c,
                         sk_err *e)
{
	const char *process = f[0].keys.value[SK_AWS_KEY_PROCESS] ? f[0].keys.value[SK_AWS_KEY_PROCESS]
	                                                          : f[1].keys.value[SK_AWS_KEY_PROCESS];
	int rc;

	if (!f[0].keys.found && !f[1].keys.found) {
		if (env->var[SK_AWS_PROFILE])
			return sk_err_set(e, EX_CONFIG, "AWS_PROFILE: no profile %s in %s or %s", name, f[0].path,
			                  f[1].path);
		sk_err_set(e, 0, "profile %s", name);
		return SK_AWS_NONE;
	}
	if ((rc = static_keys(&f[0], name, c, e)) != SK_AWS_NONE)
		return rc;
	if (process)
		return sk_aws_from_process(process, name, c, e);
	if ((rc = static_keys(&f[1], name, c, e)) != SK_AWS_NONE)
		return rc;
	sk_err_set(e, 0, "profile %s", name);
	return SK_AWS_NONE;
}

int sk_aws_from_profile(const sk_aws_env *env, sk_aws_creds *c, sk_err *e)
{
	const char *name = sk_aws_profile_name(env);
	struct profile_file f[2] = { { .path = NULL }, { .path = NULL } };
	int rc = -1;

	if ((f[0].path = sk_aws_file_path(env, SK_AWS_SHARED_CREDENTIALS_FILE, "credentials", e)) != NULL &&
	    (f[1].path = sk_aws_file_path(env, SK_AWS_CONFIG_FILE, "config", e)) != NULL &&
	    sk_aws_profile_load(f[0].path, 0, name, &f[0].keys, e) == 0 &&
	    sk_aws_profile_load(f[1].path, 1, name, &f[1].keys, e) == 0)
		rc = profile_creds(env, name, f, c, e);
	sk_aws_profile_clear(&f[0].keys);
	sk_aws_profile_clear(&f[1].keys);
	free(f[0].path);
	free(f[1].path);
	return rc;
}

int sk_aws_region_from_config(const sk_aws_env *env, char **region, sk_err *e)
{
	char *path = sk_aws_file_path(env, SK_AWS_CONFIG_FILE, "config", e);
	sk_aws_profile p = {0};
	int rc = path ? sk_aws_profile_load(path, 1, sk_aws_profile_name(env), &p, e) : -1;

	*region = NULL;
	if (rc == 0 && p.value[SK_AWS_KEY_REGION] && (*region = strdup(p.value[SK_AWS_KEY_REGION])) == NULL)
		rc = sk_err_oom(e);
	sk_aws_profile_clear(&p);
	free(path);
	return rc;
}
