/* fuzz-sqs-response - an SQS answer over any bytes (sk_sqs_parse_response):
 * the input's first byte picks the call and the HTTP status, the next says
 * how many bytes of x-amzn-query-error follow, the rest is the body. No
 * crash; an error is of a kind and a sysexits code, with a message; every field of an answer that was read is where it says, with
 * the length it says. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sqs_api.h"

static void readable(const char *s)
{
	if (s != NULL && strlen(s) > (1u << 20))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[8] = { 200, 200, 200, 400, 403, 404, 500, 503 };
	sk_sqs_result r;
	char *qe = NULL, *body;
	size_t qn, i, k;
	volatile unsigned sum;
	int rc;

	if (size < 2)
		return 0;
	qn = data[1] % 64;
	if (qn > size - 2)
		qn = size - 2;
	if (data[1] >= 64 && (qe = strndup((const char *)data + 2, qn)) == NULL)
		abort();
	/* The body at the end of its own allocation, as curl leaves it. */
	if ((body = malloc(size - 2 - qn + 1)) == NULL)
		abort();
	memcpy(body, data + 2 + qn, size - 2 - qn);
	body[size - 2 - qn] = '\0';
	rc = sk_sqs_parse_response((sk_sqs_action)(data[0] % 5), statuses[(data[0] / 5) % 8], qe, body,
	                           size - 2 - qn, &r);
	if (rc < 0) {
		int c = r.error.err.code;

		if (r.error.kind == SK_SQS_OK || r.error.err.msg[0] == '\0' || c < EX__BASE || c > EX__MAX)
			abort();
	} else {
		for (i = 0; i < r.n_messages; i++) {
			const sk_sqs_message *m = &r.messages[i];

			readable(m->id);
			readable(m->receipt_handle);
			readable(m->md5_of_body);
			if (m->receipt_handle == NULL || (m->body_len > 0 && m->body == NULL))
				abort();
			for (k = 0, sum = 0; k < m->body_len; k++)   /* each byte readable */
				sum += (unsigned char)m->body[k];
			for (k = 0; k < m->n_attrs; k++) {
				readable(m->attrs[k].name);
				readable(m->attrs[k].type);
				if (m->attrs[k].value != NULL && strlen(m->attrs[k].value) > m->attrs[k].value_len)
					abort();
			}
			readable(sk_sqs_message_attribute(m, "SentTimestamp"));
		}
		for (i = 0; i < r.n_ok; i++) {
			readable(r.ok[i].id);
			readable(r.ok[i].message_id);
		}
		for (i = 0; i < r.n_failed; i++) {
			readable(r.failed[i].id);
			readable(r.failed[i].code);
			readable(r.failed[i].message);
		}
	}
	sk_sqs_result_free(&r);
	free(body);
	free(qe);
	return 0;
}
