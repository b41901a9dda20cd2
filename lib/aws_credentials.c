/* aws_credentials.c - the AWS credential chain (aws_credentials.h): the
 * environment read once, the sources asked in order, the credentials
 * cached until five minutes before they expire, and the JSON answer that
 * credential processes and metadata endpoints share.
 *
 * A source that is not configured gives way to the next; one that is
 * configured and broken (half a key pair, a failing credential_process,
 * a container endpoint that refuses) stops the chain with its error, as
 * in the AWS SDKs: quietly signing as someone else would be worse. */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <json-c/printbuf.h>

#include "aws_credentials_impl.h"

/* Refreshed this long before they expire, so that a request signed just
 * before is not refused on arrival. */
#define REFRESH_AHEAD_S 300

struct sk_aws_provider {
	sk_aws_env env;
	sk_aws_creds creds;
	int have;
};

static const char *const var_names[SK_AWS_NVARS] = {
	[SK_AWS_ACCESS_KEY_ID] = "AWS_ACCESS_KEY_ID",
	[SK_AWS_SECRET_ACCESS_KEY] = "AWS_SECRET_ACCESS_KEY",
	[SK_AWS_SESSION_TOKEN] = "AWS_SESSION_TOKEN",
	[SK_AWS_PROFILE] = "AWS_PROFILE",
	[SK_AWS_SHARED_CREDENTIALS_FILE] = "AWS_SHARED_CREDENTIALS_FILE",
	[SK_AWS_CONFIG_FILE] = "AWS_CONFIG_FILE",
	[SK_AWS_HOME] = "HOME",
	[SK_AWS_CONTAINER_FULL_URI] = "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	[SK_AWS_CONTAINER_RELATIVE_URI] = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	[SK_AWS_CONTAINER_TOKEN] = "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	[SK_AWS_CONTAINER_TOKEN_FILE] = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	[SK_AWS_METADATA_DISABLED] = "AWS_EC2_METADATA_DISABLED",
	[SK_AWS_METADATA_ENDPOINT] = "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	[SK_AWS_REGION] = "AWS_REGION",
	[SK_AWS_DEFAULT_REGION] = "AWS_DEFAULT_REGION",
};

void sk_aws_free_secret(char *s)
{
	if (s) {
		/* volatile: a memset just before free may be optimised away. */
		volatile char *v = s;
		while (*v)
			*v++ = 0;
		free(s);
	}
}

void sk_aws_buf_free_secret(sk_buf *b)
{
	if (b->p) {
		volatile char *v = b->p;
		size_t i;
		for (i = 0; i < b->cap; i++)
			v[i] = 0;
	}
	sk_buf_free(b);
}

void sk_aws_creds_clear(sk_aws_creds *c)
{
	sk_aws_free_secret(c->access_key_id);
	sk_aws_free_secret(c->secret_access_key);
	sk_aws_free_secret(c->session_token);
	memset(c, 0, sizeof *c);
}

static void env_free(sk_aws_env *env)
{
	size_t i;

	for (i = 0; i < SK_AWS_NVARS; i++)
		sk_aws_free_secret(env->var[i]);
}

static int env_read(sk_aws_env *env, sk_err *e)
{
	size_t i;

	for (i = 0; i < SK_AWS_NVARS; i++) {
		const char *v = getenv(var_names[i]);
		if (v && *v && (env->var[i] = strdup(v)) == NULL)
			return sk_err_oom(e);
	}
	return 0;
}

/* 0 with *out a copy of s (NULL for NULL), -1 on ENOMEM. */
static int dup_or_null(const char *s, char **out)
{
	*out = NULL;
	return s && (*out = strdup(s)) == NULL ? -1 : 0;
}

static int from_environment(const sk_aws_env *env, sk_aws_creds *c, sk_err *e)
{
	const char *id = env->var[SK_AWS_ACCESS_KEY_ID], *secret = env->var[SK_AWS_SECRET_ACCESS_KEY];

	if (id == NULL && secret == NULL) {
		sk_err_set(e, 0, "environment");
		return SK_AWS_NONE;
	}
	if (id == NULL || secret == NULL)
		return sk_err_set(e, EX_CONFIG, "%s is set but %s is not",
		                  var_names[id ? SK_AWS_ACCESS_KEY_ID : SK_AWS_SECRET_ACCESS_KEY],
		                  var_names[id ? SK_AWS_SECRET_ACCESS_KEY : SK_AWS_ACCESS_KEY_ID]);
	if (dup_or_null(id, &c->access_key_id) < 0 || dup_or_null(secret, &c->secret_access_key) < 0 ||
	    dup_or_null(env->var[SK_AWS_SESSION_TOKEN], &c->session_token) < 0)
		return sk_err_oom(e);
	snprintf(c->source, sizeof c->source, "environment");
	return 0;
}

typedef int (*source_fn)(const sk_aws_env *env, sk_aws_creds *c, sk_err *e);

/* Each source in turn until one answers. A source that has none leaves
 * in e->msg what it tried ("" when it is not configured), for the
 * message when no source has any. */
static int run_chain(const sk_aws_env *env, sk_aws_creds *c, sk_err *e)
{
	static const source_fn chain[] = { from_environment, sk_aws_from_profile, sk_aws_from_container,
	                                   sk_aws_from_imds };
	char tried[600] = "";
	size_t i, n = 0;
	int rc;

	for (i = 0; i < sizeof chain / sizeof chain[0]; i++) {
		sk_err_clear(e);
		if ((rc = chain[i](env, c, e)) != SK_AWS_NONE) {
			if (rc < 0)
				sk_aws_creds_clear(c);
			return rc;
		}
		sk_aws_creds_clear(c);
		if (e && e->msg[0] && n < sizeof tried)
			n += (size_t)snprintf(tried + n, sizeof tried - n, "%s%s", n ? ", " : "", e->msg);
	}
	return sk_err_set(e, EX_CONFIG, "no AWS credentials: tried %s", tried);
}

sk_aws_provider *sk_aws_provider_new(sk_err *e)
{
	sk_aws_provider *p = calloc(1, sizeof *p);

	if (p == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	if (env_read(&p->env, e) < 0) {
		sk_aws_provider_free(p);
		return NULL;
	}
	return p;
}

int sk_aws_provider_get(sk_aws_provider *p, const sk_aws_creds **out, sk_err *e)
{
	time_t now = time(NULL);
	sk_aws_creds fresh = {0};

	if (p->have && (p->creds.expires == 0 || p->creds.expires - now > REFRESH_AHEAD_S)) {
		*out = &p->creds;
		return 0;
	}
	if (run_chain(&p->env, &fresh, e) < 0) {
		if (!p->have || p->creds.expires <= now)
			return -1;
		/* They still work for a while: the next call tries again. */
		sk_warn("AWS credentials from %s not refreshed: %s", p->creds.source, e ? e->msg : "");
		sk_err_clear(e);
		*out = &p->creds;
		return 0;
	}
	sk_aws_creds_clear(&p->creds);
	p->creds = fresh;
	p->have = 1;
	*out = &p->creds;
	return 0;
}

void sk_aws_provider_free(sk_aws_provider *p)
{
	if (p == NULL)
		return;
	sk_aws_creds_clear(&p->creds);
	env_free(&p->env);
	free(p);
}

char *sk_aws_provider_region(sk_aws_provider *p, sk_err *e)
{
	const char *v = p->env.var[SK_AWS_REGION] ? p->env.var[SK_AWS_REGION] : p->env.var[SK_AWS_DEFAULT_REGION];
	char *region = NULL;

	sk_err_clear(e);
	if (v) {
		if ((region = strdup(v)) == NULL)
			sk_err_oom(e);
		return region;
	}
	if (sk_aws_region_from_config(&p->env, &region, e) < 0)
		return NULL;
	return region;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): timegm is not POSIX. */
static long days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static int digits(const char **s, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (*(*s)++ - '0');
	}
	return 0;
}

int sk_aws_parse_time(const char *s, time_t *t)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

	if (digits(&s, 4, &y) < 0 || *s++ != '-' || digits(&s, 2, &mo) < 0 || *s++ != '-' ||
	    digits(&s, 2, &d) < 0 || (*s != 'T' && *s != 't' && *s != ' ') || !*s++ ||
	    digits(&s, 2, &h) < 0 || *s++ != ':' || digits(&s, 2, &mi) < 0 || *s++ != ':' ||
	    digits(&s, 2, &sec) < 0)
		return -1;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	if (*s == 'Z' || *s == 'z')
		s++;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh) < 0 || (*s == ':' && !*s++) || digits(&s, 2, &om) < 0)
			return -1;
	} else
		return -1;
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	*t = (time_t)(days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400L + h * 3600L + mi * 60L + sec -
	              sign * (oh * 3600L + om * 60L));
	return 0;
}

/* A copy of o's string member key (NULL when absent or not a string).
 * json-c's own copy is zeroed: it is freed with the tree, unzeroed. */
static int take_string(json_object *o, const char *key, char **out)
{
	json_object *v;
	char *s;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return 0;
	s = (char *)json_object_get_string(v);
	*out = strdup(s);
	memset(s, 0, (size_t)json_object_get_string_len(v));
	return *out ? 0 : -1;
}

/* Parse text strictly; the tokener's buffer, which held every string,
 * is zeroed before it is freed. */
static json_object *parse_secret_json(const char *text, size_t n)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL;

	if (tok == NULL || n > 1 << 20)
		goto out;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)n);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) < n) {
		json_object_put(o);
		o = NULL;
	}
	if (tok->pb && tok->pb->buf)
		memset(tok->pb->buf, 0, (size_t)tok->pb->size);
out:
	if (tok)
		json_tokener_free(tok);
	return o;
}

static int creds_from_object(json_object *o, const char *token_key, const char *what, sk_aws_creds *c,
                             sk_err *e)
{
	json_object *v;
	char *when = NULL;

	if (!json_object_is_type(o, json_type_object))
		return sk_err_set(e, EX_DATAERR, "%s: the answer is not a JSON object", what);
	if (strcmp(token_key, "SessionToken") == 0 &&
	    (!json_object_object_get_ex(o, "Version", &v) || !json_object_is_type(v, json_type_int) ||
	     json_object_get_int64(v) != 1))
		return sk_err_set(e, EX_DATAERR, "%s: the answer's Version is not 1", what);
	if (json_object_object_get_ex(o, "Code", &v) &&
	    (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "Success") != 0))
		return sk_err_set(e, EX_UNAVAILABLE, "%s: the answer's Code is not Success", what);
	if (take_string(o, "AccessKeyId", &c->access_key_id) < 0 ||
	    take_string(o, "SecretAccessKey", &c->secret_access_key) < 0 ||
	    take_string(o, token_key, &c->session_token) < 0 || take_string(o, "Expiration", &when) < 0) {
		free(when);
		return sk_err_oom(e);
	}
	if (c->access_key_id == NULL || !*c->access_key_id || c->secret_access_key == NULL ||
	    !*c->secret_access_key) {
		free(when);
		return sk_err_set(e, EX_DATAERR, "%s: the answer has no %s", what,
		                  c->access_key_id && *c->access_key_id ? "SecretAccessKey" : "AccessKeyId");
	}
	if (when && sk_aws_parse_time(when, &c->expires) < 0) {
		free(when);
		return sk_err_set(e, EX_DATAERR, "%s: the answer's Expiration is not an ISO 8601 time", what);
	}
	free(when);
	return 0;
}

int sk_aws_creds_from_json(const char *text, size_t n, const char *token_key, const char *what,
                           sk_aws_creds *c, sk_err *e)
{
	json_object *o = parse_secret_json(text, n);
	int rc;

	if (o == NULL)
		return sk_err_set(e, EX_DATAERR, "%s: the answer is not JSON", what);
	rc = creds_from_object(o, token_key, what, c, e);
	if (rc < 0)
		sk_aws_creds_clear(c);
	json_object_put(o);
	return rc;
}
