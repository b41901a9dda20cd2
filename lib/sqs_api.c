/* sqs_api.c - SQS calls on libcurl: a queue URL taken apart (endpoint,
 * region), one easy handle per call, signed with CURLOPT_AWS_SIGV4, and
 * what the transfer ended with turned into an sk_sqs_result.
 *
 * With the AWS JSON 1.0 protocol every request is a POST to the endpoint's
 * root with the queue URL in the body; the operation is the X-Amz-Target
 * header. A signed request is never redirected (the signature names the
 * host). Credentials go to libcurl (user name and password, the session
 * token as a header) and nowhere else: the access key id and the token
 * are sent, so a server could echo them, and they are scrubbed from every
 * message a call makes. */
#include <config.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aws_credentials.h"
#include "sqs_api.h"

#define RESPONSE_MAX ((size_t)256 << 20)   /* ten 1 MiB bodies, escaped, fit many times */
#define CONNECT_TIMEOUT_MS 10000L
#define CALL_TIMEOUT_MS 60000L             /* a call that is not a long poll */

static const char *const action_names[] = {
	[SK_SQS_RECEIVE] = "ReceiveMessage",
	[SK_SQS_DELETE_BATCH] = "DeleteMessageBatch",
	[SK_SQS_CHANGE_VISIBILITY_BATCH] = "ChangeMessageVisibilityBatch",
	[SK_SQS_SEND_BATCH] = "SendMessageBatch",
	[SK_SQS_GET_ATTRIBUTES] = "GetQueueAttributes",
};

const char *sk_sqs_action_name(sk_sqs_action a)
{
	return action_names[a];
}

/* --- queue URLs --- */

static int copy_region(const char *s, size_t n, char *region, size_t size)
{
	size_t i;

	if (n == 0 || n >= size)
		return -1;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return -1;
	memcpy(region, s, n);
	region[n] = '\0';
	return 0;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* The region an AWS host names, lowercase host: 0, or -1 when it names
 * none (not an AWS host). */
static int host_region(const char *host, char *region, size_t size)
{
	static const char *const suffixes[] = { ".amazonaws.com", ".amazonaws.com.cn", ".api.aws", NULL };
	const char *const *sfx;
	const char *label, *next;
	size_t n = strlen(host), len;

	if (strcmp(host, "queue.amazonaws.com") == 0 || strcmp(host, "sqs.amazonaws.com") == 0)
		return copy_region("us-east-1", 9, region, size);
	for (sfx = suffixes; *sfx && !ends_with(host, n, *sfx); sfx++)
		;
	if (*sfx == NULL)
		return -1;
	n -= strlen(*sfx);
	/* REGION.queue.amazonaws.com, the legacy form */
	if (ends_with(host, n, ".queue") && memchr(host, '.', n - 6) == NULL)
		return copy_region(host, n - 6, region, size);
	/* sqs.REGION..., sqs-fips.REGION..., vpce-ID.sqs.REGION.vpce... */
	for (label = host; label < host + n; label = next + 1) {
		len = strcspn(label, ".");
		next = label + len;
		if (next >= host + n)
			break;
		if ((len == 3 && memcmp(label, "sqs", 3) == 0) || (len == 8 && memcmp(label, "sqs-fips", 8) == 0))
			return copy_region(next + 1, strcspn(next + 1, "."), region, size);
	}
	return -1;
}

static int region_from_env(char *region, size_t size)
{
	const char *v = getenv("AWS_REGION");

	if (v == NULL || *v == '\0')
		v = getenv("AWS_DEFAULT_REGION");
	if (v == NULL || *v == '\0' || strlen(v) >= size)
		return -1;
	strcpy(region, v);
	return 0;
}

/* url taken apart by curl: the parts asked for (each may be NULL), freed
 * with curl_free. A URL with user information is refused: credentials
 * never come from an argument. */
static int url_parts(const char *url, CURLU **u, char **scheme, char **host, sk_err *e)
{
	char *user = NULL;

	*scheme = *host = NULL;
	if ((*u = curl_url()) == NULL)
		return sk_err_oom(e);
	if (curl_url_set(*u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(*u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
	    curl_url_get(*u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
	    (strcmp(*scheme, "http") != 0 && strcmp(*scheme, "https") != 0))
		return sk_err_set(e, EX_USAGE, "%s: not an http(s) queue URL", url);
	if (curl_url_get(*u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		curl_free(user);
		return sk_err_set(e, EX_USAGE, "a queue URL with user information is refused: credentials come "
		                  "from the AWS environment");
	}
	return 0;
}

static void url_parts_free(CURLU *u, char *scheme, char *host)
{
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
}

static int region_of(const char *url, const char *scheme, char *host, char *region, size_t size, sk_err *e)
{
	char *h;

	for (h = host; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	if (host_region(host, region, size) == 0 || region_from_env(region, size) == 0)
		return 0;
	if (strcmp(scheme, "http") == 0)
		return copy_region("us-east-1", 9, region, size);
	return sk_err_set(e, EX_CONFIG, "%s: cannot tell the queue's region from its host: set AWS_REGION", url);
}

int sk_sqs_region(const char *url, char *region, size_t size, sk_err *e)
{
	CURLU *u;
	char *scheme, *host;
	int rc = url_parts(url, &u, &scheme, &host, e);

	if (rc == 0)
		rc = region_of(url, scheme, host, region, size, e);
	url_parts_free(u, scheme, host);
	return rc;
}

/* scheme://host[:port]/, and whether the path names a queue (its last
 * segment not empty). */
static int queue_endpoint(sk_sqs_queue *q, CURLU *u, sk_err *e)
{
	char *path = NULL, *s;
	size_t n;
	int rc = 0;

	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		return sk_err_oom(e);
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0)
		rc = sk_err_set(e, EX_USAGE, "%s: no queue in the URL (expected .../ACCOUNT/QUEUE)", q->url);
	q->fifo = ends_with(path, n, ".fifo");
	curl_free(path);
	if (rc < 0)
		return -1;
	if (curl_url_set(u, CURLUPART_PATH, "/", 0) != CURLUE_OK || curl_url_set(u, CURLUPART_QUERY, NULL, 0) ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) || curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		return sk_err_oom(e);
	q->endpoint = strdup(s);
	curl_free(s);
	return q->endpoint ? 0 : sk_err_oom(e);
}

int sk_sqs_queue_init(sk_sqs_queue *q, const char *url, sk_err *e)
{
	CURLU *u;
	char *scheme, *host;
	int rc;

	memset(q, 0, sizeof *q);
	if (strncmp(url, "sqs+", 4) == 0)
		url += 4;
	if ((q->url = strdup(url)) == NULL)
		return sk_err_oom(e);
	rc = url_parts(q->url, &u, &scheme, &host, e);
	if (rc == 0)
		rc = region_of(q->url, scheme, host, q->region, sizeof q->region, e);
	if (rc == 0)
		rc = queue_endpoint(q, u, e);
	url_parts_free(u, scheme, host);
	if (rc < 0)
		sk_sqs_queue_free(q);
	return rc;
}

void sk_sqs_queue_free(sk_sqs_queue *q)
{
	free(q->url);
	free(q->endpoint);
	memset(q, 0, sizeof *q);
}

/* --- calls --- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	sk_sqs_call *c = arg;

	(void)size;
	if (c->response.len + n > RESPONSE_MAX || sk_buf_add(&c->response, p, n) < 0)
		return 0;       /* CURLE_WRITE_ERROR: the result says which */
	return n;
}

sk_sqs_call *sk_sqs_call_new(const sk_sqs_queue *q, sk_err *e)
{
	sk_sqs_call *c = calloc(1, sizeof *c);

	if (c == NULL || (c->easy = curl_easy_init()) == NULL) {
		free(c);
		sk_err_oom(e);
		return NULL;
	}
	c->queue = q;
	if (curl_easy_setopt(c->easy, CURLOPT_URL, q->endpoint) != CURLE_OK) {
		sk_err_set(e, EX_USAGE, "%s: libcurl refuses the URL", q->url);
		sk_sqs_call_free(c);
		return NULL;
	}
	curl_easy_setopt(c->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->easy, CURLOPT_USERAGENT, "streamkit/" PACKAGE_VERSION);
	return c;
}

void sk_sqs_call_free(sk_sqs_call *c)
{
	if (c == NULL)
		return;
	curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	sk_buf_free(&c->body);
	sk_buf_free(&c->response);
	free(c->key_id);
	free(c);
}

static void fill(sk_sqs_call *c, sk_sqs_action a, long timeout_ms)
{
	sk_buf_reset(&c->body);
	c->action = a;
	c->timeout_ms = timeout_ms;
}

int sk_sqs_call_receive(sk_sqs_call *c, const sk_sqs_receive_req *r, sk_err *e)
{
	/* a long poll lasts its wait, the queue's own (20 s at most) when unsaid */
	fill(c, SK_SQS_RECEIVE, (r->wait_seconds >= 0 ? r->wait_seconds : SK_SQS_WAIT_MAX) * 1000L + CALL_TIMEOUT_MS);
	return sk_sqs_build_receive(&c->body, c->queue->url, r, e);
}

int sk_sqs_call_delete_batch(sk_sqs_call *c, const sk_sqs_handle *v, size_t n, sk_err *e)
{
	fill(c, SK_SQS_DELETE_BATCH, CALL_TIMEOUT_MS);
	return sk_sqs_build_delete_batch(&c->body, c->queue->url, v, n, e);
}

int sk_sqs_call_change_visibility_batch(sk_sqs_call *c, const sk_sqs_handle *v, size_t n, sk_err *e)
{
	fill(c, SK_SQS_CHANGE_VISIBILITY_BATCH, CALL_TIMEOUT_MS);
	return sk_sqs_build_change_visibility_batch(&c->body, c->queue->url, v, n, e);
}

int sk_sqs_call_send_batch(sk_sqs_call *c, const sk_sqs_send_entry *v, size_t n, sk_err *e)
{
	fill(c, SK_SQS_SEND_BATCH, CALL_TIMEOUT_MS);
	return sk_sqs_build_send_batch(&c->body, c->queue->url, v, n, e);
}

int sk_sqs_call_get_attributes(sk_sqs_call *c, const char *const *names, size_t n, sk_err *e)
{
	fill(c, SK_SQS_GET_ATTRIBUTES, CALL_TIMEOUT_MS);
	return sk_sqs_build_get_attributes(&c->body, c->queue->url, names, n, e);
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	char *line = sk_strprintf("%s: %s", name, value);
	struct curl_slist *n = line ? curl_slist_append(*list, line) : NULL;

	free(line);
	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

int sk_sqs_call_prepare(sk_sqs_call *c, const sk_sqs_creds *cr, sk_err *e)
{
	char target[64], sigv4[96];

	if (c->body.len == 0)
		return sk_err_set(e, EX_SOFTWARE, "sqs: a call prepared with no request");
	if (cr == NULL || cr->access_key_id == NULL || *cr->access_key_id == '\0' || cr->secret_access_key == NULL ||
	    *cr->secret_access_key == '\0')
		return sk_err_set(e, EX_CONFIG, "%s: no AWS credentials (an access key id and a secret access key)",
		                  c->queue->url);
	curl_slist_free_all(c->headers);
	c->headers = NULL;
	free(c->key_id);
	snprintf(target, sizeof target, "AmazonSQS.%s", sk_sqs_action_name(c->action));
	snprintf(sigv4, sizeof sigv4, "aws:amz:%s:sqs", c->queue->region);
	if ((c->key_id = strdup(cr->access_key_id)) == NULL ||
	    add_header(&c->headers, "Content-Type", "application/x-amz-json-1.0") < 0 ||
	    add_header(&c->headers, "X-Amz-Target", target) < 0 ||
	    (cr->session_token && *cr->session_token &&
	     add_header(&c->headers, "X-Amz-Security-Token", cr->session_token) < 0))
		return sk_err_oom(e);
	/* No "Expect:" to spare a big batch the 100-continue wait: libcurl
	 * (7.88) signs the header it then leaves out, and SQS would refuse
	 * the signature. */
	if (curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_USERNAME, cr->access_key_id) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_PASSWORD, cr->secret_access_key) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_AWS_SIGV4, sigv4) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body.len) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body.p) != CURLE_OK ||
	    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms) != CURLE_OK)
		return sk_err_oom(e);
	sk_buf_reset(&c->response);
	c->errbuf[0] = '\0';
	return 0;
}

/* Replace each occurrence of secret in s with "***". */
static void scrub(char *s, const char *secret)
{
	size_t k = secret ? strlen(secret) : 0;
	char *p;

	if (k < 4)
		return;
	while ((p = strstr(s, secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + k, strlen(p + k) + 1);
	}
}

static void scrub_credentials(const sk_sqs_call *c, sk_sqs_error *er)
{
	static const char token[] = "X-Amz-Security-Token: ";
	const struct curl_slist *h;

	scrub(er->err.msg, c->key_id);
	scrub(er->code, c->key_id);
	for (h = c->headers; h; h = h->next)
		if (strncmp(h->data, token, sizeof token - 1) == 0) {
			scrub(er->err.msg, h->data + sizeof token - 1);
			scrub(er->code, h->data + sizeof token - 1);
		}
}

/* A transfer that ended without an answer. */
static int transfer_error(sk_sqs_call *c, CURLcode rc, sk_sqs_result *r)
{
	sk_sqs_error *er = &r->error;
	const char *why = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);

	if (rc == CURLE_WRITE_ERROR && c->response.len + CURL_MAX_WRITE_SIZE > RESPONSE_MAX)
		why = "the answer is too large";
	else if (rc == CURLE_WRITE_ERROR)
		why = "out of memory";
	/* a certificate or a protocol libcurl cannot speak is no passing trouble */
	er->kind = rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
	           rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT
	           ? SK_SQS_REFUSED : SK_SQS_RETRY;
	sk_err_set(&er->err, er->kind == SK_SQS_RETRY ? EX_TEMPFAIL : EX_UNAVAILABLE, "%s: %s: %s",
	           sk_sqs_action_name(c->action), c->queue->endpoint, why);
	return -1;
}

int sk_sqs_call_result(sk_sqs_call *c, CURLcode rc, sk_sqs_result *r)
{
	struct curl_header *h;
	const char *query_error = NULL;
	long status = 0;
	int rv;

	if (rc != CURLE_OK) {
		memset(r, 0, sizeof *r);
		rv = transfer_error(c, rc, r);
	} else {
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
		if (curl_easy_header(c->easy, "x-amzn-query-error", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
			query_error = h->value;
		rv = sk_sqs_parse_response(c->action, status, query_error, c->response.p ? c->response.p : "",
		                           c->response.len, r);
	}
	if (rv < 0)
		scrub_credentials(c, &r->error);
	return rv;
}

int sk_sqs_call_sign(sk_sqs_call *c, struct sk_aws_provider *p, sk_err *e)
{
	const sk_aws_creds *cr;
	sk_sqs_creds sc;

	if (sk_aws_provider_get(p, &cr, e) < 0)
		return -1;
	sc.access_key_id = cr->access_key_id;
	sc.secret_access_key = cr->secret_access_key;
	sc.session_token = cr->session_token;
	return sk_sqs_call_prepare(c, &sc, e);
}
