/* kafka_envelope.c - a Kafka message as stream-read's envelope
 * (kafka_envelope.h). */
#include <stdlib.h>
#include <string.h>

#include "kafka_envelope.h"

int sk_kafka_env_init(sk_kafka_env *k, int json, int base64, size_t max_line, sk_err *e)
{
	memset(k, 0, sizeof *k);
	k->json = json;
	k->base64 = base64;
	k->max_line = max_line;
	if ((k->jp = sk_json_new()) == NULL)
		return sk_err_oom(e);
	return 0;
}

void sk_kafka_env_free(sk_kafka_env *k)
{
	sk_json_kept_free(&k->value);
	sk_json_free(k->jp);
	sk_buf_free(&k->env);
	sk_buf_free(&k->cursor);
	sk_buf_free(&k->head);
	sk_buf_free(&k->cursor_head);
	sk_buf_free(&k->cursor_json);
	free(k->topic);
	k->jp = NULL;
	k->topic = NULL;
}

/* The parts that depend on the topic alone, when it is not the last one:
 * messages come from one topic, or a few, and printf and escaping per
 * message cost a fifth of stream-read's time. */
static int topic_parts(sk_kafka_env *k, const char *topic)
{
	size_t n = strlen(topic);

	if (k->topic && strcmp(k->topic, topic) == 0)
		return 0;
	free(k->topic);
	if ((k->topic = strdup(topic)) == NULL)
		return -1;
	sk_buf_reset(&k->head);
	sk_buf_reset(&k->cursor_head);
	sk_buf_reset(&k->cursor_json);
	/* escape(T ":" digits) is escape(T) ":" digits: ':' ends any UTF-8
	 * sequence T may leave open. */
	if (sk_buf_adds(&k->head, "{\"topic\":") < 0 || sk_json_add_string(&k->head, topic, n) < 0 ||
	    sk_buf_adds(&k->head, ",\"partition\":") < 0 ||
	    sk_buf_adds(&k->cursor_head, "kafka:") < 0 || sk_buf_add(&k->cursor_head, topic, n) < 0 ||
	    sk_buf_addc(&k->cursor_head, ':') < 0 ||
	    sk_buf_adds(&k->cursor_json, ",\"_cursor\":") < 0 ||
	    sk_json_add_string(&k->cursor_json, k->cursor_head.p, k->cursor_head.len) < 0) {
		free(k->topic);
		k->topic = NULL;
		return -1;
	}
	k->cursor_json.p[--k->cursor_json.len] = '\0';     /* open: digits follow */
	return 0;
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

/* PART ":" OFFSET: the end of a cursor, into d (room for 41). */
static size_t position(char *d, int32_t partition, int64_t offset)
{
	size_t n = sk_fmt_i64(d, partition);

	d[n++] = ':';
	return n + sk_fmt_i64(d + n, offset);
}

int sk_kafka_envelope(sk_kafka_env *ks, rd_kafka_message_t *km, sk_msg *m, sk_err *e)
{
	rd_kafka_timestamp_type_t tt;
	rd_kafka_headers_t *h = NULL;
	int64_t ts = rd_kafka_message_timestamp(km, &tt);
	char pos[48];
	size_t npos = position(pos, km->partition, km->offset), npart = strchr(pos, ':') - pos;
	sk_buf *b = &ks->env;

	sk_buf_reset(b);
	sk_buf_reset(&ks->cursor);
	if (topic_parts(ks, rd_kafka_topic_name(km->rkt)) < 0 || sk_buf_add(b, ks->head.p, ks->head.len) < 0 ||
	    sk_buf_add(b, pos, npart) < 0 || sk_buf_adds(b, ",\"offset\":") < 0 ||
	    sk_buf_add(b, pos + npart + 1, npos - npart - 1) < 0)
		return sk_err_oom(e);
	if (km->len > ks->max_line) {
		if (sk_buf_addc(b, '}') < 0)
			return sk_err_oom(e);
		m->env = b->p;
		m->env_len = b->len;
		m->cursor = NULL;
		pos[npart] = '\0';
		return sk_err_set(e, EX_DATAERR, "message %s:%s:%s: %zu bytes, more than --max-line", ks->topic,
		                  pos, pos + npart + 1, km->len);
	}
	if (sk_buf_adds(b, ",\"timestamp\":") < 0 ||
	    (tt == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? sk_buf_adds(b, "null") : sk_buf_add_i64(b, ts)) < 0 ||
	    sk_buf_adds(b, tt == RD_KAFKA_TIMESTAMP_CREATE_TIME ? ",\"timestamp_type\":\"create\""
	                   : tt == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? ",\"timestamp_type\":\"log_append\""
	                   : ",\"timestamp_type\":null") < 0 ||
	    sk_buf_adds(b, ",\"key\":") < 0 || add_bytes(ks, km->key, km->key_len, 0) < 0 ||
	    sk_buf_adds(b, ",\"value\":") < 0 || add_bytes(ks, km->payload, km->len, ks->json) < 0 ||
	    sk_buf_adds(b, ",\"headers\":") < 0)
		return sk_err_oom(e);
	if (rd_kafka_message_headers(km, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
		h = NULL;
	if (add_headers(b, h) < 0 ||
	    sk_buf_add(&ks->cursor, ks->cursor_head.p, ks->cursor_head.len) < 0 ||
	    sk_buf_add(&ks->cursor, pos, npos) < 0 ||
	    sk_buf_add(b, ks->cursor_json.p, ks->cursor_json.len) < 0 || sk_buf_add(b, pos, npos) < 0 ||
	    sk_buf_add(b, "\"}", 2) < 0)
		return sk_err_oom(e);
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = ks->cursor.p;
	m->value = sk_json_take_kept(ks->jp, b, 0, &ks->value);
	return 1;
}
