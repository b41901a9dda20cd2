/* kafka_message.c - the message stream-write makes of a row for Kafka.
 *
 * Each row is one message. Its value is the row as compact JSON text, or
 * the first result of the value expression (a string as its bytes, any
 * other value as JSON text, null or no result: a tombstone); key, headers,
 * partition and timestamp come from expressions too (null or no result:
 * no key, a null header, librdkafka's partitioner, the time of sending).
 * The headers expression gives an object, NAME: a string, null, or the
 * array of the values of a name that repeats: stream-read's envelope
 * headers. With base64, a key or value that is a string is base64 text,
 * sent decoded: what stream-read --binary=base64 prints.
 *
 * The expressions are jq programs (program.h), compiled once at open. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_message.h"
#include "json.h"

int sk_kafka_exprs_compile(sk_kafka_exprs *x, const sk_kindopts *given, const sk_program_args *args,
                           sk_err *e)
{
	const char *binary = sk_kindopts_get(given, "binary"), *h;
	size_t i, n = 0;

	if (binary && strcmp(binary, "base64") != 0 && strcmp(binary, "escape") != 0)
		return sk_err_set(e, EX_USAGE, "invalid --binary '%s' (expected escape or base64)", binary);
	x->base64 = binary && strcmp(binary, "base64") == 0;
	if (sk_program_compile_option(given, "key", args, &x->key, e) < 0 ||
	    sk_program_compile_option(given, "value", args, &x->value, e) < 0 ||
	    sk_program_compile_option(given, "partition", args, &x->partition, e) < 0 ||
	    sk_program_compile_option(given, "timestamp", args, &x->timestamp, e) < 0 ||
	    sk_program_compile_option(given, "headers", args, &x->headers_obj, e) < 0)
		return -1;
	for (i = 0; sk_kindopts_next(given, "header", &i) != NULL;)
		n++;
	if (n && (x->headers = calloc(n, sizeof *x->headers)) == NULL)
		return sk_err_oom(e);
	for (i = 0; (h = sk_kindopts_next(given, "header", &i)) != NULL;) {
		const char *eq = strchr(h, '=');

		if (eq == NULL || eq == h || eq[1] == '\0')
			return sk_err_set(e, EX_USAGE, "--header '%s': expected NAME=EXPR", h);
		if ((x->headers[x->nheaders].name = strndup(h, (size_t)(eq - h))) == NULL)
			return sk_err_oom(e);
		x->nheaders++;
		if ((x->headers[x->nheaders - 1].p = sk_program_compile(eq + 1, args, e)) == NULL)
			return sk_err_prefix(e, "--header %s", x->headers[x->nheaders - 1].name);
	}
	return 0;
}

/* The first result of p over row as the bytes of a key or value, into
 * out: 1, or 0 when there is none or it is null. A string is its bytes,
 * base64 decoded with base64; anything else is its JSON text. */
static int bytes_of(sk_kafka_exprs *x, sk_program *p, json_object *row, sk_buf *out, const char *opt, sk_err *e)
{
	json_object *v;
	char *s;
	size_t n;
	int rc;

	sk_buf_reset(out);
	if (!x->base64) {
		if ((rc = sk_program_first_string(p, row, &s, &n, e)) <= 0)
			return rc < 0 ? sk_err_prefix(e, "%s", opt) : 0;
		rc = sk_buf_add(out, s, n);
		free(s);
		return rc < 0 ? sk_err_oom(e) : 1;
	}
	if ((rc = sk_program_first_json(p, row, &v, e)) <= 0)
		return rc < 0 ? sk_err_prefix(e, "%s", opt) : 0;
	if (json_object_is_type(v, json_type_string)) {
		rc = sk_base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v), out);
		if (rc < 0)
			sk_err_set(e, EX_DATAERR, "%s: not base64 (--binary=base64)", opt);
	} else if ((rc = sk_json_add_object(out, v)) < 0)
		sk_err_oom(e);
	json_object_put(v);
	return rc < 0 ? -1 : 1;
}

/* Add one header: a string is its bytes, null a null header, anything
 * else its JSON text. */
static int add_header(sk_kafka_exprs *x, rd_kafka_headers_t *h, const char *name, json_object *v, sk_err *e)
{
	const char *s = NULL;
	ssize_t n = 0;
	rd_kafka_resp_err_t err;

	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		n = json_object_get_string_len(v);
	} else if (v != NULL) {
		sk_buf_reset(&x->buf);
		if (sk_json_add_object(&x->buf, v) < 0)
			return sk_err_oom(e);
		s = x->buf.p;
		n = (ssize_t)x->buf.len;
	}
	if ((err = rd_kafka_header_add(h, name, -1, s, n)) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return sk_err_set(e, EX_SOFTWARE, "header %s: %s", name, rd_kafka_err2str(err));
	return 0;
}

/* The headers object: NAME: value, or an array of the values of a name
 * that repeats, each added in order. */
static int object_headers(sk_kafka_exprs *x, json_object *row, rd_kafka_headers_t *h, sk_err *e)
{
	json_object *obj;
	size_t i, n;
	int rc;

	if ((rc = sk_program_first_json(x->headers_obj, row, &obj, e)) <= 0)
		return rc < 0 ? sk_err_prefix(e, "--headers") : 0;
	if (!json_object_is_type(obj, json_type_object)) {
		sk_err_set(e, EX_DATAERR, "--headers: expected an object (NAME: value or [values]), got %s",
		           json_type_to_name(json_object_get_type(obj)));
		json_object_put(obj);
		return -1;
	}
	rc = 0;
	json_object_object_foreach(obj, name, v) {
		if (rc < 0)
			break;
		if (!json_object_is_type(v, json_type_array)) {
			rc = add_header(x, h, name, v, e);
			continue;
		}
		n = json_object_array_length(v);
		for (i = 0; i < n && rc == 0; i++)
			rc = add_header(x, h, name, json_object_array_get_idx(v, i), e);
	}
	json_object_put(obj);
	return rc < 0 ? sk_err_prefix(e, "--headers") : 0;
}

static int row_headers(sk_kafka_exprs *x, json_object *row, rd_kafka_headers_t **out, sk_err *e)
{
	rd_kafka_headers_t *h;
	size_t i, n;
	char *s;
	int rc;

	*out = NULL;
	if (x->nheaders == 0 && x->headers_obj == NULL)
		return 0;
	if ((h = rd_kafka_headers_new(x->nheaders + 8)) == NULL)
		return sk_err_oom(e);
	if (x->headers_obj && object_headers(x, row, h, e) < 0) {
		rd_kafka_headers_destroy(h);
		return -1;
	}
	for (i = 0; i < x->nheaders; i++) {
		if ((rc = sk_program_first_string(x->headers[i].p, row, &s, &n, e)) < 0) {
			rd_kafka_headers_destroy(h);
			return sk_err_prefix(e, "--header %s", x->headers[i].name);
		}
		rc = rd_kafka_header_add(h, x->headers[i].name, -1, rc ? s : NULL, rc ? (ssize_t)n : 0);
		free(s);
		if (rc) {
			rd_kafka_headers_destroy(h);
			return sk_err_set(e, EX_SOFTWARE, "--header %s: %s", x->headers[i].name,
			                  rd_kafka_err2str((rd_kafka_resp_err_t)rc));
		}
	}
	/* No header at all (an empty object): a message without headers. */
	if (rd_kafka_header_cnt(h) == 0) {
		rd_kafka_headers_destroy(h);
		return 0;
	}
	*out = h;
	return 0;
}

/* The message made of row, as the top of this file says. */
int sk_kafka_message_of(sk_kafka_exprs *x, json_object *row, sk_kafka_message *m, sk_err *e)
{
	rd_kafka_headers_t *h = NULL;
	int64_t part = RD_KAFKA_PARTITION_UA, ts = 0;
	int has_val = 1, has_key = 0;
	sk_buf *v = &x->vbuf;

	if (x->value) {
		if ((has_val = bytes_of(x, x->value, row, v, "--value", e)) < 0)
			return -1;
	} else {
		sk_buf_reset(v);
		if (sk_json_add_object(v, row) < 0)
			return sk_err_oom(e);
	}
	if (x->key && (has_key = bytes_of(x, x->key, row, &x->kbuf, "--key", e)) < 0)
		return -1;
	if (x->partition) {
		if (sk_program_first_int(x->partition, row, &part, e) < 0)
			return sk_err_prefix(e, "--partition");
		if (part < 0 || part > INT32_MAX)
			return sk_err_set(e, EX_DATAERR, "--partition: %" PRId64 " is not a partition", part);
	}
	if (x->timestamp) {
		if (sk_program_first_int(x->timestamp, row, &ts, e) < 0)
			return sk_err_prefix(e, "--timestamp");
		if (ts < 0)
			return sk_err_set(e, EX_DATAERR, "--timestamp: %" PRId64 " is before 1970", ts);
	}
	if (row_headers(x, row, &h, e) < 0)
		return -1;
	m->key = has_key ? x->kbuf.p : NULL;
	m->klen = has_key ? x->kbuf.len : 0;
	m->value = has_val ? v->p : NULL;
	m->vlen = has_val ? v->len : 0;
	m->partition = (int32_t)part;
	m->timestamp = ts;
	m->headers = h;
	return 0;
}

int sk_kafka_exprs_none(const sk_kafka_exprs *x)
{
	return !x->key && !x->value && !x->partition && !x->timestamp && !x->nheaders && !x->headers_obj;
}

void sk_kafka_exprs_free(sk_kafka_exprs *x)
{
	size_t i;

	sk_program_free(x->key);
	sk_program_free(x->value);
	sk_program_free(x->partition);
	sk_program_free(x->timestamp);
	sk_program_free(x->headers_obj);
	for (i = 0; i < x->nheaders; i++) {
		free(x->headers[i].name);
		sk_program_free(x->headers[i].p);
	}
	free(x->headers);
	sk_buf_free(&x->buf);
	sk_buf_free(&x->kbuf);
	sk_buf_free(&x->vbuf);
	memset(x, 0, sizeof *x);
}
