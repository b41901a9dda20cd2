/* aws_metadata.c - credentials over HTTP from the machine's own
 * endpoints: the container credentials endpoint (ECS, EKS Pod Identity)
 * and EC2 instance metadata (IMDSv2: a session token PUT first, then the
 * role's name, then its credentials).
 *
 * Both are asked directly, never through a proxy the environment names,
 * and with a connect timeout of a second, so that a machine that has
 * neither learns it at once. IMDS failing is not an error (most machines
 * have none): the chain then says what it tried. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "aws_credentials_impl.h"

#define BODY_MAX (64u << 10)
#define CONNECT_MS 1000L
#define CONTAINER_MS 5000L
#define IMDS_MS 2000L
#define CONTAINER_HOST "http://169.254.170.2"
#define IMDS_HOST "http://169.254.169.254"

static size_t on_body(char *d, size_t size, size_t n, void *arg)
{
	sk_buf *b = arg;

	n *= size;
	/* The buffer was reserved whole: a realloc would leave a copy. */
	if (b->len + n > BODY_MAX || sk_buf_add(b, d, n) < 0)
		return 0;
	return n;
}

/* One request; body gets the answer's body whatever its status. */
static int http_call(const char *method, const char *url, struct curl_slist *headers, long total_ms,
                     const char *what, sk_buf *body, long *status, sk_err *e)
{
	char why[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode r;

	if (sk_buf_reserve(body, BODY_MAX + 1) < 0 || (c = curl_easy_init()) == NULL)
		return sk_err_oom(e);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, total_ms);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "streamkit");
	if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	r = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (r != CURLE_OK)
		return sk_err_set(e, EX_UNAVAILABLE, "%s: %s", what, why[0] ? why : curl_easy_strerror(r));
	return 0;
}

/* http_call with a header line that holds a secret, and 200 required. */
static int get_with_secret(const char *method, const char *url, const char *name, const char *secret,
                           long total_ms, const char *what, sk_buf *body, sk_err *e)
{
	char *line = sk_strprintf("%s: %s", name, secret);
	struct curl_slist *h = line ? curl_slist_append(NULL, line) : NULL;
	long status = 0;
	int rc;

	sk_aws_free_secret(line);
	if (h == NULL)
		return sk_err_oom(e);
	rc = http_call(method, url, h, total_ms, what, body, &status, e);
	/* curl's copy of the line, zeroed before curl frees it. */
	memset(h->data, 0, strlen(h->data));
	curl_slist_free_all(h);
	if (rc == 0 && status != 200)
		rc = sk_err_set(e, status == 401 || status == 403 ? EX_CONFIG : EX_UNAVAILABLE, "%s: HTTP status %ld",
		                what, status);
	return rc;
}

/* A header value may not hold a line break: it would forge headers. */
static int header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

/* The container endpoint's token: the file's content (which a platform
 * rotates: read at each refresh), else the variable. */
static int container_token(const sk_aws_env *env, char **token, sk_err *e)
{
	const char *file = env->var[SK_AWS_CONTAINER_TOKEN_FILE];
	sk_buf b = {0};
	int missing;

	*token = NULL;
	if (file == NULL) {
		if (env->var[SK_AWS_CONTAINER_TOKEN] && (*token = strdup(env->var[SK_AWS_CONTAINER_TOKEN])) == NULL)
			return sk_err_oom(e);
		return 0;
	}
	if (sk_read_file(file, BODY_MAX, &b, &missing, e) < 0) {
		sk_aws_buf_free_secret(&b);
		return sk_err_prefix(e, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	}
	while (b.len > 0 && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r' || b.p[b.len - 1] == ' '))
		b.p[--b.len] = '\0';
	if ((*token = strdup(b.p ? b.p : "")) == NULL) {
		sk_aws_buf_free_secret(&b);
		return sk_err_oom(e);
	}
	sk_aws_buf_free_secret(&b);
	return 0;
}

/* Plain http only to this machine or the container credentials hosts, as
 * the SDKs allow: the token and the answer must not cross a network. */
static int full_uri_allowed(const char *uri, sk_err *e)
{
	static const char *const hosts[] = { "localhost", "[::1]", "169.254.170.2", "169.254.170.23",
	                                     "[fd00:ec2::23]" };
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok = 0;
	size_t i;

	if (u == NULL)
		return sk_err_oom(e);
	if (curl_url_set(u, CURLUPART_URL, uri, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		ok = strcasecmp(scheme, "https") == 0 || strncmp(host, "127.", 4) == 0;
		for (i = 0; i < sizeof hosts / sizeof hosts[0] && !ok && strcasecmp(scheme, "http") == 0; i++)
			ok = strcasecmp(host, hosts[i]) == 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	if (!ok)
		return sk_err_set(e, EX_CONFIG, "AWS_CONTAINER_CREDENTIALS_FULL_URI: not an https URL, nor http "
		                  "to a loopback address or the container credentials host");
	return 0;
}

static char *container_url(const sk_aws_env *env, sk_err *e)
{
	const char *rel = env->var[SK_AWS_CONTAINER_RELATIVE_URI];
	char *url;

	if (rel)
		url = sk_strprintf("%s%s%s", CONTAINER_HOST, rel[0] == '/' ? "" : "/", rel);
	else if (full_uri_allowed(env->var[SK_AWS_CONTAINER_FULL_URI], e) < 0)
		return NULL;
	else
		url = strdup(env->var[SK_AWS_CONTAINER_FULL_URI]);
	if (url == NULL)
		sk_err_oom(e);
	return url;
}

int sk_aws_from_container(const sk_aws_env *env, sk_aws_creds *c, sk_err *e)
{
	static const char what[] = "container credentials endpoint";
	char *url = NULL, *token = NULL;
	sk_buf body = {0};
	long status = 0;
	int rc = -1;

	if (env->var[SK_AWS_CONTAINER_RELATIVE_URI] == NULL && env->var[SK_AWS_CONTAINER_FULL_URI] == NULL) {
		sk_err_set(e, 0, "%s", "");
		return SK_AWS_NONE;
	}
	if ((url = container_url(env, e)) == NULL || container_token(env, &token, e) < 0)
		goto out;
	if (token && !header_safe(token))
		sk_err_set(e, EX_CONFIG, "the container authorization token holds a line break");
	else if (token)
		rc = get_with_secret("GET", url, "Authorization", token, CONTAINER_MS, what, &body, e);
	else if ((rc = http_call("GET", url, NULL, CONTAINER_MS, what, &body, &status, e)) == 0 && status != 200)
		rc = sk_err_set(e, EX_UNAVAILABLE, "%s: HTTP status %ld", what, status);
	if (rc == 0)
		rc = sk_aws_creds_from_json(body.p, body.len, "Token", what, c, e);
	if (rc == 0)
		snprintf(c->source, sizeof c->source, "container");
out:
	free(url);
	sk_aws_free_secret(token);
	sk_aws_buf_free_secret(&body);
	return rc;
}

/* The role's name: the first line of the listing, of the characters IAM
 * allows in one (so that it is a path segment as it stands). */
static int role_name(sk_buf *body, sk_err *e)
{
	size_t n = strcspn(body->p ? body->p : "", "\r\n");

	if (n == 0 || strspn(body->p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-") < n)
		return sk_err_set(e, EX_UNAVAILABLE, "no IAM role name in the answer");
	body->p[n] = '\0';
	body->len = n;
	return 0;
}

static int imds_fetch(const char *base, sk_aws_creds *c, sk_err *e)
{
	char *url = NULL, *role_url = NULL;
	sk_buf token = {0}, role = {0}, body = {0};
	int rc = -1;

	if ((url = sk_strprintf("%s/latest/api/token", base)) == NULL)
		goto oom;
	if (get_with_secret("PUT", url, "X-aws-ec2-metadata-token-ttl-seconds", "21600", IMDS_MS, url, &token, e) < 0)
		goto out;
	if (!header_safe(token.p ? token.p : "")) {
		sk_err_set(e, EX_UNAVAILABLE, "%s: a token with a line break", url);
		goto out;
	}
	free(url);
	if ((url = sk_strprintf("%s/latest/meta-data/iam/security-credentials/", base)) == NULL)
		goto oom;
	if (get_with_secret("GET", url, "X-aws-ec2-metadata-token", token.p ? token.p : "", IMDS_MS, url, &role, e) < 0 ||
	    role_name(&role, e) < 0)
		goto out;
	if ((role_url = sk_strprintf("%s%s", url, role.p)) == NULL)
		goto oom;
	if (get_with_secret("GET", role_url, "X-aws-ec2-metadata-token", token.p, IMDS_MS, url, &body, e) == 0 &&
	    sk_aws_creds_from_json(body.p, body.len, "Token", url, c, e) == 0) {
		snprintf(c->source, sizeof c->source, "instance metadata");
		rc = 0;
	}
	goto out;
oom:
	sk_err_oom(e);
out:
	free(url);
	free(role_url);
	sk_aws_buf_free_secret(&token);
	sk_buf_free(&role);
	sk_aws_buf_free_secret(&body);
	return rc;
}

int sk_aws_from_imds(const sk_aws_env *env, sk_aws_creds *c, sk_err *e)
{
	const char *v = env->var[SK_AWS_METADATA_DISABLED];
	char *base, why[900];
	size_t n;
	int rc;

	if (v && strcasecmp(v, "true") == 0) {
		sk_err_set(e, 0, "%s", "");
		return SK_AWS_NONE;
	}
	v = env->var[SK_AWS_METADATA_ENDPOINT] ? env->var[SK_AWS_METADATA_ENDPOINT] : IMDS_HOST;
	if ((base = strdup(v)) == NULL)
		return sk_err_oom(e);
	for (n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
	rc = imds_fetch(base, c, e);
	free(base);
	if (rc == 0)
		return 0;
	if (e == NULL || e->code == EX_OSERR)
		return -1;
	/* Most machines have no instance metadata: not an error, a reason. */
	memcpy(why, e->msg, sizeof why - 1);
	why[sizeof why - 1] = '\0';
	sk_err_set(e, 0, "instance metadata (%s)", why);
	return SK_AWS_NONE;
}
