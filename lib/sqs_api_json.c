/* sqs_api_json.c - the JSON of SQS calls: request bodies written straight
 * into a buffer (a batch of ten 1 MiB bodies is no place for a DOM), and
 * answers read with json-c into sk_sqs_result, errors classified.
 *
 * Answers are read leniently where servers differ: an empty body is {}
 * (local-aws-sqs answers an empty receive so), an absent Successful or
 * Failed is an empty list, and the error message is "message" or
 * "Message". The error code is __type without its "com.amazonaws.sqs#"
 * namespace; the x-amzn-query-error header ("CODE;Sender") gives the Query
 * protocol's code of the same error, which older codes are known by. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "sqs_api.h"

/* --- request bodies --- */

/* "KEY": after a '{' that opens an object, ,"KEY": after a member. */
static int add_key(sk_buf *b, const char *key)
{
	return (b->p[b->len - 1] != '{' && sk_buf_addc(b, ',') < 0) || sk_json_add_string(b, key, strlen(key)) < 0 ||
	       sk_buf_addc(b, ':') < 0 ? -1 : 0;
}

static int add_str(sk_buf *b, const char *key, const char *s, size_t n)
{
	return add_key(b, key) < 0 || sk_json_add_string(b, s, n) < 0 ? -1 : 0;
}

static int add_int(sk_buf *b, const char *key, int v)
{
	return add_key(b, key) < 0 || sk_buf_add_i64(b, v) < 0 ? -1 : 0;
}

static int range(int v, int lo, int hi, const char *what, sk_err *e)
{
	if (v < lo || v > hi)
		return sk_err_set(e, EX_SOFTWARE, "sqs: %s %d out of range (%d to %d)", what, v, lo, hi);
	return 0;
}

/* {"QueueUrl":URL — the start every body shares. */
static int begin(sk_buf *b, const char *queue_url)
{
	return sk_buf_addc(b, '{') < 0 || add_str(b, "QueueUrl", queue_url, strlen(queue_url)) < 0 ? -1 : 0;
}

static int batch_size(size_t n, sk_err *e)
{
	if (n == 0 || n > SK_SQS_BATCH_MAX)
		return sk_err_set(e, EX_SOFTWARE, "sqs: a batch of %zu entries (1 to %d)", n, SK_SQS_BATCH_MAX);
	return 0;
}

int sk_sqs_build_receive(sk_buf *b, const char *queue_url, const sk_sqs_receive_req *r, sk_err *e)
{
	if (range(r->max_messages, 1, SK_SQS_RECEIVE_MAX, "MaxNumberOfMessages", e) < 0 ||
	    (r->wait_seconds >= 0 && range(r->wait_seconds, 0, SK_SQS_WAIT_MAX, "WaitTimeSeconds", e) < 0) ||
	    (r->visibility_timeout >= 0 &&
	     range(r->visibility_timeout, 0, SK_SQS_VISIBILITY_MAX, "VisibilityTimeout", e) < 0))
		return -1;
	if (begin(b, queue_url) < 0 || add_int(b, "MaxNumberOfMessages", r->max_messages) < 0 ||
	    (r->wait_seconds >= 0 && add_int(b, "WaitTimeSeconds", r->wait_seconds) < 0) ||
	    (r->visibility_timeout >= 0 && add_int(b, "VisibilityTimeout", r->visibility_timeout) < 0) ||
	    /* AttributeNames, not the newer MessageSystemAttributeNames: SQS
	     * takes both, local-aws-sqs only this one. */
	    add_key(b, "AttributeNames") < 0 || sk_buf_adds(b, "[\"All\"]") < 0 ||
	    add_key(b, "MessageAttributeNames") < 0 || sk_buf_adds(b, "[\"All\"]") < 0 ||
	    (r->attempt_id && add_str(b, "ReceiveRequestAttemptId", r->attempt_id, strlen(r->attempt_id)) < 0) ||
	    sk_buf_addc(b, '}') < 0)
		return sk_err_oom(e);
	return 0;
}

static int build_handles(sk_buf *b, const char *queue_url, const sk_sqs_handle *v, size_t n, int visibility,
                         sk_err *e)
{
	size_t i;

	if (batch_size(n, e) < 0)
		return -1;
	for (i = 0; visibility && i < n; i++)
		if (range(v[i].visibility_timeout, 0, SK_SQS_VISIBILITY_MAX, "VisibilityTimeout", e) < 0)
			return -1;
	if (begin(b, queue_url) < 0 || add_key(b, "Entries") < 0 || sk_buf_addc(b, '[') < 0)
		return sk_err_oom(e);
	for (i = 0; i < n; i++)
		if ((i > 0 && sk_buf_addc(b, ',') < 0) || sk_buf_addc(b, '{') < 0 ||
		    add_str(b, "Id", v[i].id, strlen(v[i].id)) < 0 ||
		    add_str(b, "ReceiptHandle", v[i].receipt_handle, strlen(v[i].receipt_handle)) < 0 ||
		    (visibility && add_int(b, "VisibilityTimeout", v[i].visibility_timeout) < 0) ||
		    sk_buf_addc(b, '}') < 0)
			return sk_err_oom(e);
	return sk_buf_adds(b, "]}") < 0 ? sk_err_oom(e) : 0;
}

int sk_sqs_build_delete_batch(sk_buf *b, const char *queue_url, const sk_sqs_handle *v, size_t n, sk_err *e)
{
	return build_handles(b, queue_url, v, n, 0, e);
}

int sk_sqs_build_change_visibility_batch(sk_buf *b, const char *queue_url, const sk_sqs_handle *v, size_t n,
                                         sk_err *e)
{
	return build_handles(b, queue_url, v, n, 1, e);
}

/* "MessageAttributes":{NAME:{"DataType":T,"StringValue"|"BinaryValue":V},...} */
static int add_attributes(sk_buf *b, const sk_sqs_attr_in *a, size_t n)
{
	size_t i;

	if (add_key(b, "MessageAttributes") < 0 || sk_buf_addc(b, '{') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		int binary = strncmp(a[i].type, "Binary", 6) == 0;
		if ((i > 0 && sk_buf_addc(b, ',') < 0) || sk_json_add_string(b, a[i].name, strlen(a[i].name)) < 0 ||
		    sk_buf_adds(b, ":{") < 0 || add_str(b, "DataType", a[i].type, strlen(a[i].type)) < 0)
			return -1;
		if (binary ? add_key(b, "BinaryValue") < 0 ||
		             sk_json_add_base64(b, (const unsigned char *)a[i].value, a[i].value_len) < 0
		           : add_str(b, "StringValue", a[i].value, a[i].value_len) < 0)
			return -1;
		if (sk_buf_addc(b, '}') < 0)
			return -1;
	}
	return sk_buf_addc(b, '}');
}

static int add_send_entry(sk_buf *b, const sk_sqs_send_entry *s)
{
	return sk_buf_addc(b, '{') < 0 || add_str(b, "Id", s->id, strlen(s->id)) < 0 ||
	       add_str(b, "MessageBody", s->body, s->body_len) < 0 ||
	       (s->delay_seconds >= 0 && add_int(b, "DelaySeconds", s->delay_seconds) < 0) ||
	       (s->group_id && add_str(b, "MessageGroupId", s->group_id, strlen(s->group_id)) < 0) ||
	       (s->deduplication_id &&
	        add_str(b, "MessageDeduplicationId", s->deduplication_id, strlen(s->deduplication_id)) < 0) ||
	       (s->n_attrs > 0 && add_attributes(b, s->attrs, s->n_attrs) < 0) || sk_buf_addc(b, '}') < 0
	       ? -1 : 0;
}

int sk_sqs_build_send_batch(sk_buf *b, const char *queue_url, const sk_sqs_send_entry *v, size_t n, sk_err *e)
{
	size_t i;

	if (batch_size(n, e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (v[i].delay_seconds >= 0 && range(v[i].delay_seconds, 0, 900, "DelaySeconds", e) < 0)
			return -1;
	if (begin(b, queue_url) < 0 || add_key(b, "Entries") < 0 || sk_buf_addc(b, '[') < 0)
		return sk_err_oom(e);
	for (i = 0; i < n; i++)
		if ((i > 0 && sk_buf_addc(b, ',') < 0) || add_send_entry(b, &v[i]) < 0)
			return sk_err_oom(e);
	return sk_buf_adds(b, "]}") < 0 ? sk_err_oom(e) : 0;
}

int sk_sqs_build_get_attributes(sk_buf *b, const char *queue_url, const char *const *names, size_t n, sk_err *e)
{
	size_t i;

	if (begin(b, queue_url) < 0 || add_key(b, "AttributeNames") < 0 || sk_buf_addc(b, '[') < 0)
		return sk_err_oom(e);
	if (names == NULL || n == 0)
		return sk_buf_adds(b, "\"All\"]}") < 0 ? sk_err_oom(e) : 0;
	for (i = 0; i < n; i++)
		if ((i > 0 && sk_buf_addc(b, ',') < 0) || sk_json_add_string(b, names[i], strlen(names[i])) < 0)
			return sk_err_oom(e);
	return sk_buf_adds(b, "]}") < 0 ? sk_err_oom(e) : 0;
}

/* --- errors --- */

static int code_in(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

static const char *const retry_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
	"RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
	"ProvisionedThroughputExceededException", "SlowDown", "ServiceUnavailable",
	"ServiceUnavailableException", "InternalFailure", "InternalError", "InternalServerError",
	"RequestTimeout", "RequestTimeoutException", "KmsThrottled",
	"AWS.SimpleQueueService.KmsThrottled", NULL,
};
static const char *const auth_codes[] = {
	"InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied", "AccessDeniedException",
	"UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature",
	"MissingAuthenticationToken", "MissingAuthenticationTokenException", "ExpiredToken",
	"ExpiredTokenException", "InvalidAccessKeyId", "InvalidSecurity", "OptInRequired",
	"RequestExpired", "AuthFailure", "NotAuthorized", "KmsAccessDenied",
	"AWS.SimpleQueueService.KmsAccessDenied", NULL,
};
static const char *const no_queue_codes[] = {
	"QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "NonExistentQueue", NULL,
};
static const char *const receipt_codes[] = {
	"ReceiptHandleIsInvalid", "InvalidReceiptHandle", "MessageNotInflight",
	"AWS.SimpleQueueService.MessageNotInflight", NULL,
};

sk_sqs_errkind sk_sqs_classify(long status, const char *code, const char *message)
{
	if (code && *code) {
		if (code_in(code, no_queue_codes))
			return SK_SQS_NO_QUEUE;
		if (strcmp(code, "OverLimit") == 0)
			return SK_SQS_OVER_LIMIT;
		if (code_in(code, receipt_codes))
			return SK_SQS_BAD_RECEIPT;
		/* An expired handle is InvalidParameterValue ("Value X for
		 * parameter ReceiptHandle is invalid. Reason: ...expired"). */
		if (strcmp(code, "InvalidParameterValue") == 0 && message &&
		    strstr(message, "ReceiptHandle is invalid"))
			return SK_SQS_BAD_RECEIPT;
		if (code_in(code, auth_codes))
			return SK_SQS_AUTH;
		if (code_in(code, retry_codes))
			return SK_SQS_RETRY;
	}
	if (status == 401 || status == 403)
		return SK_SQS_AUTH;
	if (status == 429 || status >= 500 || status == 0)
		return status == 0 && code && *code ? SK_SQS_REFUSED : SK_SQS_RETRY;
	return SK_SQS_REFUSED;
}

static int errkind_exit(sk_sqs_errkind k)
{
	switch (k) {
	case SK_SQS_OK: return 0;
	case SK_SQS_RETRY: case SK_SQS_OVER_LIMIT: return EX_TEMPFAIL;
	case SK_SQS_AUTH: return EX_CONFIG;
	case SK_SQS_BAD_RECEIPT: return EX_DATAERR;
	case SK_SQS_NO_QUEUE: case SK_SQS_REFUSED: break;
	}
	return EX_UNAVAILABLE;
}

/* "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist"; a code
 * that carries ":http://..." after it (x-amzn-ErrorType's habit) loses it. */
static void strip_type(char *dst, size_t size, const char *type)
{
	const char *hash = strrchr(type, '#');
	size_t n;

	if (hash)
		type = hash + 1;
	n = strcspn(type, ":");
	if (n >= size)
		n = size - 1;
	memcpy(dst, type, n);
	dst[n] = '\0';
}

/* x-amzn-query-error: "CODE;Sender" or "CODE;Receiver". */
static void read_query_error(sk_sqs_error *er, const char *h)
{
	size_t n = strcspn(h, ";");

	if (n >= sizeof er->query_code)
		n = sizeof er->query_code - 1;
	memcpy(er->query_code, h, n);
	er->query_code[n] = '\0';
	er->sender_fault = h[n] == ';' && strncasecmp(h + n + 1, "Sender", 6) == 0;
}

static const char *member_str(json_object *o, const char *key)
{
	json_object *v;

	if (o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* The error of a call answered with status (not 200). */
static void answer_error(sk_sqs_action a, long status, const char *query_error, json_object *root,
                         sk_sqs_error *er)
{
	const char *type = member_str(root, "__type"), *msg = member_str(root, "message");
	const char *code;

	if (msg == NULL)
		msg = member_str(root, "Message");
	if (type == NULL)
		type = member_str(root, "code");
	if (type)
		strip_type(er->code, sizeof er->code, type);
	if (query_error)
		read_query_error(er, query_error);
	er->status = status;
	er->kind = sk_sqs_classify(status, er->code, msg);
	if (er->kind == SK_SQS_REFUSED && er->query_code[0])
		er->kind = sk_sqs_classify(status, er->query_code, msg);
	code = er->code[0] ? er->code : er->query_code[0] ? er->query_code : NULL;
	if (code == NULL && msg == NULL)
		sk_err_set(&er->err, errkind_exit(er->kind), "%s: HTTP %ld", sk_sqs_action_name(a), status);
	else
		sk_err_set(&er->err, errkind_exit(er->kind), "%s: %s%s%.300s (HTTP %ld)", sk_sqs_action_name(a),
		           code ? code : "error", msg ? ": " : "", msg ? msg : "", status);
}

/* --- answers --- */

static json_object *member(json_object *o, const char *key, json_type t)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, t))
		return v;
	return NULL;
}

static int read_attrs(json_object *o, sk_sqs_message *m)
{
	size_t n = 0;

	if (o == NULL || json_object_object_length(o) == 0)
		return 0;
	m->attrs = calloc((size_t)json_object_object_length(o), sizeof *m->attrs);
	if (m->attrs == NULL)
		return -1;
	json_object_object_foreach(o, name, val) {
		sk_sqs_attr *a = &m->attrs[n];
		json_object *v;
		memset(a, 0, sizeof *a);
		if (!json_object_is_type(val, json_type_object))
			continue;
		a->name = name;
		a->type = member_str(val, "DataType");
		if ((v = member(val, "BinaryValue", json_type_string)) != NULL)
			a->binary = 1;
		else
			v = member(val, "StringValue", json_type_string);
		if (a->type == NULL || v == NULL)
			continue;
		a->value = json_object_get_string(v);
		a->value_len = (size_t)json_object_get_string_len(v);
		n++;
	}
	m->n_attrs = n;
	return 0;
}

static int read_messages(json_object *root, sk_sqs_result *r, sk_sqs_error *er)
{
	json_object *list = member(root, "Messages", json_type_array);
	size_t i, n = list ? json_object_array_length(list) : 0;

	if (n == 0)
		return 0;
	if ((r->messages = calloc(n, sizeof *r->messages)) == NULL)
		return sk_err_oom(&er->err);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i), *body;
		sk_sqs_message *m = &r->messages[r->n_messages];
		if (!json_object_is_type(o, json_type_object))
			continue;
		m->id = member_str(o, "MessageId");
		m->receipt_handle = member_str(o, "ReceiptHandle");
		body = member(o, "Body", json_type_string);
		if (m->id == NULL || m->receipt_handle == NULL || body == NULL)
			return sk_err_set(&er->err, EX_PROTOCOL, "ReceiveMessage: a message without %s",
			                  m->id == NULL ? "MessageId" : body == NULL ? "Body" : "ReceiptHandle");
		m->body = json_object_get_string(body);
		m->body_len = (size_t)json_object_get_string_len(body);
		m->md5_of_body = member_str(o, "MD5OfBody");
		m->attributes = member(o, "Attributes", json_type_object);
		if (read_attrs(member(o, "MessageAttributes", json_type_object), m) < 0)
			return sk_err_oom(&er->err);
		r->n_messages++;
	}
	return 0;
}

static int read_entries(json_object *root, int failed, sk_sqs_entry **out, size_t *count, sk_sqs_error *er)
{
	const char *key = failed ? "Failed" : "Successful";
	json_object *list = member(root, key, json_type_array);
	size_t i, n = list ? json_object_array_length(list) : 0;

	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof **out)) == NULL)
		return sk_err_oom(&er->err);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(list, i), *sf = NULL;
		sk_sqs_entry *x = &(*out)[*count];
		if (!json_object_is_type(o, json_type_object) || (x->id = member_str(o, "Id")) == NULL)
			continue;
		x->code = member_str(o, "Code");
		x->message = member_str(o, "Message");
		/* SenderFault is a boolean in JSON, "true" in local-aws-sqs's Query answers */
		if (json_object_object_get_ex(o, "SenderFault", &sf) && sf)
			x->sender_fault = json_object_is_type(sf, json_type_string)
			                  ? strcmp(json_object_get_string(sf), "true") == 0
			                  : json_object_get_boolean(sf);
		x->message_id = member_str(o, "MessageId");
		x->md5_of_body = member_str(o, "MD5OfMessageBody");
		x->sequence_number = member_str(o, "SequenceNumber");
		if (failed)
			x->kind = x->code ? sk_sqs_classify(0, x->code, x->message) : SK_SQS_REFUSED;
		/* a fault of the server's own, whatever its code: try it again */
		if (x->kind == SK_SQS_REFUSED && sf && !x->sender_fault)
			x->kind = SK_SQS_RETRY;
		(*count)++;
	}
	return 0;
}

int sk_sqs_parse_response(sk_sqs_action a, long status, const char *query_error, const char *body, size_t n,
                          sk_sqs_result *r)
{
	sk_sqs_error *er = &r->error;
	sk_json *p;
	sk_err pe;

	memset(r, 0, sizeof *r);
	if (!sk_json_blank(body, n)) {
		if ((p = sk_json_new()) == NULL)
			return sk_err_oom(&er->err);
		r->root = sk_json_parse(p, body, n, &pe);
		sk_json_free(p);
		if (r->root == NULL && pe.code == EX_OSERR)
			return sk_err_oom(&er->err);
		if (r->root != NULL && !json_object_is_type(r->root, json_type_object)) {
			json_object_put(r->root);
			r->root = NULL;
		}
		if (r->root == NULL && status == 200) {
			/* a proxy's page, a cut answer: worth another try */
			er->kind = SK_SQS_RETRY;
			er->status = status;
			return sk_err_set(&er->err, EX_TEMPFAIL, "%s: the answer is not a JSON object (HTTP 200)",
			                  sk_sqs_action_name(a));
		}
	}
	if (status != 200) {
		answer_error(a, status, query_error, r->root, er);
		return -1;
	}
	if (r->root == NULL && (r->root = json_object_new_object()) == NULL)
		return sk_err_oom(&er->err);
	switch (a) {
	case SK_SQS_RECEIVE:
		if (read_messages(r->root, r, er) < 0)
			break;
		return 0;
	case SK_SQS_GET_ATTRIBUTES:
		r->attributes = member(r->root, "Attributes", json_type_object);
		return 0;
	case SK_SQS_DELETE_BATCH:
	case SK_SQS_CHANGE_VISIBILITY_BATCH:
	case SK_SQS_SEND_BATCH:
		if (read_entries(r->root, 0, &r->ok, &r->n_ok, er) < 0 ||
		    read_entries(r->root, 1, &r->failed, &r->n_failed, er) < 0)
			break;
		return 0;
	}
	er->kind = er->err.code == EX_OSERR ? SK_SQS_REFUSED : SK_SQS_RETRY;
	er->status = status;
	return -1;
}

void sk_sqs_result_free(sk_sqs_result *r)
{
	size_t i;

	for (i = 0; i < r->n_messages; i++)
		free(r->messages[i].attrs);
	free(r->messages);
	free(r->ok);
	free(r->failed);
	json_object_put(r->root);
	memset(r, 0, sizeof *r);
}

const char *sk_sqs_message_attribute(const sk_sqs_message *m, const char *name)
{
	return m->attributes ? member_str(m->attributes, name) : NULL;
}
