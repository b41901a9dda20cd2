/* program_print.c - jv values out: results written as JSON text exactly
 * as `jq -c` writes them, without the allocations of jv_dump_string, and
 * as json-c values (--map's rows, the expressions' values). An integer of
 * the input beyond 2^53 that reaches a result unchanged keeps its digits
 * (see program.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "program_impl.h"

/* ---- jv to JSON text ---- */

/* A string as jq writes it: control characters and DEL escaped, the rest
 * (all of it valid UTF-8 in a jv) as it is. */
static int add_string(sk_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, run;

	if (n > (SIZE_MAX - 2) / 6 || sk_buf_reserve(b, n * 6 + 2) < 0)
		return -1;
	b->p[b->len++] = '"';
	while (i < n) {
		unsigned char c;
		for (run = i; run < n && (unsigned char)s[run] >= 0x20 && s[run] != 0x7f && s[run] != '"' &&
		     s[run] != '\\'; run++)
			;
		memcpy(b->p + b->len, s + i, run - i);
		b->len += run - i;
		if ((i = run) == n)
			break;
		c = (unsigned char)s[i++];
		b->p[b->len++] = '\\';
		switch (c) {
		case '"': b->p[b->len++] = '"'; break;
		case '\\': b->p[b->len++] = '\\'; break;
		case '\b': b->p[b->len++] = 'b'; break;
		case '\f': b->p[b->len++] = 'f'; break;
		case '\n': b->p[b->len++] = 'n'; break;
		case '\r': b->p[b->len++] = 'r'; break;
		case '\t': b->p[b->len++] = 't'; break;
		default:
			memcpy(b->p + b->len, "u00", 3);
			b->len += 3;
			b->p[b->len++] = hex[c >> 4];
			b->p[b->len++] = hex[c & 15];
		}
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
	return 0;
}

/* jq writes integers below 2^53 in full ("-0" for negative zero) and other
 * numbers in the shortest form that reads back the same (jvp_dtoa_fmt). */
static int add_number(sk_buf *b, const struct sk_big_ints *ints, double d)
{
	const struct sk_big_int *big;
	jv s;
	int rc;

	if (d > -TWO_53 && d < TWO_53 && d == (double)(int64_t)d) {
		if (d == 0 && 1 / d < 0)
			return sk_buf_adds(b, "-0");
		return sk_buf_add_i64(b, (int64_t)d);
	}
	if ((big = sk_big_int_find(ints, d)) != NULL) {
		switch (big->kind) {
		case SK_BIG_TEXT: return sk_buf_add(b, big->text, big->len);
		case SK_BIG_SIGNED: return sk_buf_add_i64(b, big->i);
		case SK_BIG_UNSIGNED: return sk_buf_printf(b, "%llu", (unsigned long long)big->u);
		}
	}
	s = jv_dump_string(jv_number(d), 0);
	rc = sk_buf_adds(b, jv_string_value(s));
	jv_free(s);
	return rc;
}

static int add_jv_string(sk_buf *b, jv s)
{
	return add_string(b, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
}

/* The members of an object, without "_cursor" when skip_cursor is set;
 * *count: how many were written. */
int sk_jv_add_members(sk_buf *b, const struct sk_big_ints *ints, jv o, int skip_cursor, int *count)
{
	int i, rc = 0;

	*count = 0;
	for (i = jv_object_iter(o); rc == 0 && jv_object_iter_valid(o, i); i = jv_object_iter_next(o, i)) {
		jv k = jv_object_iter_key(o, i), v;
		if (skip_cursor && jv_string_length_bytes(jv_copy(k)) == 7 &&
		    memcmp(jv_string_value(k), "_cursor", 7) == 0) {
			jv_free(k);
			continue;
		}
		v = jv_object_iter_value(o, i);
		if ((*count)++ && sk_buf_addc(b, ',') < 0)
			rc = -1;
		if (rc == 0 && (add_jv_string(b, k) < 0 || sk_buf_addc(b, ':') < 0 || sk_jv_add(b, ints, v) < 0))
			rc = -1;
		jv_free(k);
		jv_free(v);
	}
	return rc;
}

/* Append v (not consumed) as compact JSON. */
int sk_jv_add(sk_buf *b, const struct sk_big_ints *ints, jv v)
{
	int i, n, count;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL: return sk_buf_add(b, "null", 4);
	case JV_KIND_FALSE: return sk_buf_add(b, "false", 5);
	case JV_KIND_TRUE: return sk_buf_add(b, "true", 4);
	case JV_KIND_NUMBER: return add_number(b, ints, jv_number_value(v));
	case JV_KIND_STRING: return add_jv_string(b, v);
	case JV_KIND_ARRAY:
		if (sk_buf_addc(b, '[') < 0)
			return -1;
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv x = jv_array_get(jv_copy(v), i);
			int rc = (i > 0 && sk_buf_addc(b, ',') < 0) || sk_jv_add(b, ints, x) < 0 ? -1 : 0;
			jv_free(x);
			if (rc < 0)
				return -1;
		}
		return sk_buf_addc(b, ']');
	case JV_KIND_OBJECT:
		if (sk_buf_addc(b, '{') < 0 || sk_jv_add_members(b, ints, v, 0, &count) < 0)
			return -1;
		return sk_buf_addc(b, '}');
	default:
		return sk_buf_add(b, "null", 4);
	}
}

/* ---- jv to json-c ---- */

/* A double as json-c writes it back: in jq's own notation. */
static json_object *double_json(double d)
{
	jv s = jv_dump_string(jv_number(d), 0);
	json_object *o;

	if (d != d)
		o = NULL;               /* jq writes NaN as null */
	else
		o = json_object_new_double_s(d > 1.7976931348623157e308 ? 1.7976931348623157e308 :
		                             d < -1.7976931348623157e308 ? -1.7976931348623157e308 : d,
		                             jv_string_value(s));
	jv_free(s);
	return o;
}

/* Digits of the input text as the json-c integer they are, if they fit. */
static json_object *text_int_json(const struct sk_big_int *big, double d)
{
	char buf[32];
	long long i;
	unsigned long long u;

	if (big->len >= sizeof buf)
		return double_json(d);
	memcpy(buf, big->text, big->len);
	buf[big->len] = '\0';
	errno = 0;
	if (buf[0] == '-') {
		i = strtoll(buf, NULL, 10);
		return errno ? double_json(d) : json_object_new_int64(i);
	}
	u = strtoull(buf, NULL, 10);
	return errno ? double_json(d) : json_object_new_uint64(u);
}

static json_object *number_json(const struct sk_big_ints *ints, double d)
{
	const struct sk_big_int *big;

	if (d > -TWO_53 && d < TWO_53 && d == (double)(int64_t)d && !(d == 0 && 1 / d < 0))
		return json_object_new_int64((int64_t)d);
	if ((big = sk_big_int_find(ints, d)) != NULL) {
		switch (big->kind) {
		case SK_BIG_SIGNED: return json_object_new_int64(big->i);
		case SK_BIG_UNSIGNED: return json_object_new_uint64(big->u);
		case SK_BIG_TEXT:
			return text_int_json(big, d);
		}
	}
	return double_json(d);
}

static int to_json_object(const struct sk_big_ints *ints, jv v, json_object **out, sk_err *e)
{
	json_object *o = json_object_new_object(), *x;
	int i;

	if (o == NULL)
		return sk_err_oom(e);
	for (i = jv_object_iter(v); jv_object_iter_valid(v, i); i = jv_object_iter_next(v, i)) {
		jv k = jv_object_iter_key(v, i), val = jv_object_iter_value(v, i);
		const char *ks = jv_string_value(k);
		int rc = 0;
		if (strlen(ks) != (size_t)jv_string_length_bytes(jv_copy(k)))
			rc = sk_err_set(e, EX_DATAERR, "an object key holds a NUL character");
		else if ((rc = sk_jv_to_json(ints, val, &x, e)) == 0 &&
		         json_object_object_add_ex(o, ks, x, JSON_C_OBJECT_ADD_KEY_IS_NEW) < 0) {
			json_object_put(x);
			rc = sk_err_oom(e);
		}
		jv_free(k);
		jv_free(val);
		if (rc < 0) {
			json_object_put(o);
			return -1;
		}
	}
	*out = o;
	return 0;
}

int sk_jv_to_json(const struct sk_big_ints *ints, jv v, json_object **out, sk_err *e)
{
	json_object *x;
	int i, n;

	*out = NULL;
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		return 0;
	case JV_KIND_FALSE:
	case JV_KIND_TRUE:
		*out = json_object_new_boolean(jv_get_kind(v) == JV_KIND_TRUE);
		break;
	case JV_KIND_NUMBER:
		*out = number_json(ints, jv_number_value(v));
		if (*out == NULL && jv_number_value(v) == jv_number_value(v))
			return sk_err_oom(e);
		return 0;
	case JV_KIND_STRING:
		*out = json_object_new_string_len(jv_string_value(v), jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_ARRAY:
		n = jv_array_length(jv_copy(v));
		if ((*out = json_object_new_array_ext(n)) == NULL)
			return sk_err_oom(e);
		for (i = 0; i < n; i++) {
			jv item = jv_array_get(jv_copy(v), i);
			int rc = sk_jv_to_json(ints, item, &x, e);
			jv_free(item);
			if (rc < 0 || json_object_array_add(*out, x) < 0) {
				if (rc == 0)
					json_object_put(x);
				json_object_put(*out);
				*out = NULL;
				return rc < 0 ? -1 : sk_err_oom(e);
			}
		}
		return 0;
	case JV_KIND_OBJECT:
		return to_json_object(ints, v, out, e);
	default:
		return 0;
	}
	return *out ? 0 : sk_err_oom(e);
}

