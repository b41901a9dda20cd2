/* kafka_envelope.c - a Kafka message as stream-read's envelope
 * (kafka_envelope.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kafka_envelope.h"

int sk_kafka_env_init(sk_kafka_env *k, int json, int base64, size_t max_line, sk_err *e)
{
	memset(k, 0, sizeof *k);
	k->json = json;
	k->base64 = base64;
	k->max_line = max_line;
	if ((k->jp = sk_json_new()) == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	return 0;
}

void sk_kafka_env_free(sk_kafka_env *k)
{
	sk_json_free(k->jp);
	sk_buf_free(&k->env);
	sk_buf_free(&k->cursor);
	k->jp = NULL;
}

/* Key or value: null, base64, JSON embedded, or a string. */
static int add_bytes(sk_kafka_env *ks, const void *p, size_t n, int embed)
{
	if (p == NULL)
		return sk_buf_adds(&ks->env, "null");
	if (ks->base64)
		return sk_json_add_base64(&ks->env, p, n);
	return embed ? sk_json_add_text(&ks->env, ks->jp, p, n, 1) : sk_json_add_string(&ks->env, p, n);
}

static int add_header_value(sk_buf *b, const void *v, size_t n)
{
	return v ? sk_json_add_string(b, v, n) : sk_buf_adds(b, "null");
}

/* {"NAME":VALUE,...}; a repeated name: {"NAME":[VALUE,VALUE]} at its first place. */
static int add_headers(sk_buf *b, rd_kafka_headers_t *h)
{
	size_t i, j, cnt = h ? rd_kafka_header_cnt(h) : 0, nn, nm, dups;
	const char *name, *other;
	const void *v;
	size_t vn;
	int first = 1;

	if (sk_buf_addc(b, '{') < 0)
		return -1;
	for (i = 0; i < cnt; i++) {
		if (rd_kafka_header_get_all(h, i, &name, &v, &vn))
			break;
		nn = strlen(name);
		for (j = 0, dups = 0; j < cnt; j++) {
			const void *ov;
			size_t on;

			if (rd_kafka_header_get_all(h, j, &other, &ov, &on) == 0 && strcmp(other, name) == 0) {
				if (j < i)
					break;
				dups++;
			}
		}
		if (j < cnt && dups == 0)
			continue;   /* seen before */
		if ((!first && sk_buf_addc(b, ',') < 0) || sk_json_add_string(b, name, nn) < 0 ||
		    sk_buf_addc(b, ':') < 0)
			return -1;
		first = 0;
		if (dups == 1) {
			if (add_header_value(b, v, vn) < 0)
				return -1;
			continue;
		}
		if (sk_buf_addc(b, '[') < 0)
			return -1;
		for (j = i, nm = 0; j < cnt; j++) {
			const void *ov;
			size_t on;

			if (rd_kafka_header_get_all(h, j, &other, &ov, &on) || strcmp(other, name) != 0)
				continue;
			if ((nm++ && sk_buf_addc(b, ',') < 0) || add_header_value(b, ov, on) < 0)
				return -1;
		}
		if (sk_buf_addc(b, ']') < 0)
			return -1;
	}
	return sk_buf_addc(b, '}');
}

int sk_kafka_envelope(sk_kafka_env *ks, rd_kafka_message_t *km, sk_msg *m, sk_err *e)
{
	const char *topic = rd_kafka_topic_name(km->rkt);
	rd_kafka_timestamp_type_t tt;
	rd_kafka_headers_t *h = NULL;
	int64_t ts = rd_kafka_message_timestamp(km, &tt);
	char part[16], off[24];
	sk_buf *b = &ks->env;

	snprintf(part, sizeof part, "%" PRId32, km->partition);
	snprintf(off, sizeof off, "%" PRId64, km->offset);
	sk_buf_reset(b);
	sk_buf_reset(&ks->cursor);
	if (sk_buf_adds(b, "{\"topic\":") < 0 || sk_json_add_string(b, topic, strlen(topic)) < 0 ||
	    sk_buf_printf(b, ",\"partition\":%s,\"offset\":%s", part, off) < 0)
		return sk_err_set(e, EX_OSERR, "out of memory");
	if (km->len > ks->max_line) {
		if (sk_buf_addc(b, '}') < 0)
			return sk_err_set(e, EX_OSERR, "out of memory");
		m->env = b->p;
		m->env_len = b->len;
		m->cursor = NULL;
		return sk_err_set(e, EX_DATAERR, "message %s:%s:%s: %zu bytes, more than --max-line", topic,
		                  part, off, km->len);
	}
	if ((tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? sk_buf_adds(b, ",\"timestamp\":null")
	                                            : sk_buf_printf(b, ",\"timestamp\":%" PRId64, ts)) < 0 ||
	    sk_buf_adds(b, tt == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ",\"timestamp_type\":\"create\""
	                   : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? ",\"timestamp_type\":\"log_append\""
	                   : ",\"timestamp_type\":null") < 0 ||
	    sk_buf_adds(b, ",\"key\":") < 0 || add_bytes(ks, km->key, km->key_len, 0) < 0 ||
	    sk_buf_adds(b, ",\"value\":") < 0 || add_bytes(ks, km->payload, km->len, ks->json) < 0 ||
	    sk_buf_adds(b, ",\"headers\":") < 0)
		return sk_err_set(e, EX_OSERR, "out of memory");
	if (rd_kafka_message_headers(km, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
		h = NULL;
	if (add_headers(b, h) < 0 ||
	    sk_buf_printf(&ks->cursor, "kafka:%s:%s:%s", topic, part, off) < 0 ||
	    sk_buf_addc(&ks->cursor, '\0') < 0 || sk_buf_adds(b, ",\"_cursor\":") < 0 ||
	    sk_json_add_string(b, ks->cursor.p, ks->cursor.len - 1) < 0 || sk_buf_addc(b, '}') < 0)
		return sk_err_set(e, EX_OSERR, "out of memory");
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = ks->cursor.p;
	return 1;
}

