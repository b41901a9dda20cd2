/* schema_coerce.c - how rows fit a schema: coercion of values to column
 * types, of object rows and of tuples (the rules are in stream-write(1),
 * COERCION), and the date strings a date column keeps. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schema_impl.h"

/* "string \"abc\"", "number 1.5", "boolean true", "array", "object", "null". */
static const char *describe(json_object *v, char *buf, size_t n)
{
	const char *text;

	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_array: return "an array";
	case json_type_object: return "an object";
	case json_type_boolean:
		return json_object_get_boolean(v) ? "boolean true" : "boolean false";
	case json_type_string:
		text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		snprintf(buf, n, "string %.40s%s", text, strlen(text) > 40 ? "...\"" : "");
		return buf;
	default:
		text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
		snprintf(buf, n, "number %.40s", text);
		return buf;
	}
}

static int expected(enum sk_type t, json_object *v, sk_err *e)
{
	char buf[96];

	return sk_err_set(e, EX_DATAERR, "expected %s, got %s", sk_type_name(t), describe(v, buf, sizeof buf));
}

static int out_of_range(enum sk_type t, json_object *v, sk_err *e)
{
	const char *text = json_object_is_type(v, json_type_string) ? json_object_get_string(v) :
	                   json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);

	return sk_err_set(e, EX_DATAERR, "%.40s is out of range for %s", text, sk_type_name(t));
}

/* A number read from a JSON number, or from a string holding exactly one. */
struct number {
	int is_int;          /* written without fraction or exponent */
	int too_big;         /* an integer outside the int64 range */
	int64_t i;
	double d;
};

/* Length of the JSON number (RFC 8259) at s, 0 when there is none; *frac is
 * set when it has a fraction or an exponent. */
static size_t json_number_len(const char *s, int *frac)
{
	const char *p = s;

	*frac = 0;
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return 0;
	if (*p == '.') {
		*frac = 1;
		if (!(*++p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		*frac = 1;
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return (size_t)(p - s);
}

/* 0 and *n when v is a number or a string holding one, -1 otherwise. */
static int number_of(json_object *v, struct number *n)
{
	const char *s;
	int frac;

	memset(n, 0, sizeof *n);
	switch (json_object_get_type(v)) {
	case json_type_int:
		n->is_int = 1;
		n->i = json_object_get_int64(v);
		n->d = (double)n->i;
		/* json-c clamps larger values to INT64_MAX and keeps them as uint64. */
		if (n->i == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
			n->too_big = 1;
			n->d = (double)json_object_get_uint64(v);
		}
		return 0;
	case json_type_double:
		n->d = json_object_get_double(v);
		return 0;
	case json_type_string:
		s = json_object_get_string(v);
		if (json_number_len(s, &frac) != (size_t)json_object_get_string_len(v))
			return -1;
		errno = 0;
		n->d = strtod(s, NULL);
		if (!frac) {
			n->is_int = 1;
			errno = 0;
			n->i = strtoll(s, NULL, 10);
			n->too_big = errno == ERANGE;
		}
		return 0;
	default:
		return -1;
	}
}

static int coerce_integer(enum sk_type t, json_object *v, json_object **out, sk_err *e)
{
	int64_t lo = t == SK_TYPE_INT ? INT32_MIN : INT64_MIN;
	int64_t hi = t == SK_TYPE_INT ? INT32_MAX : INT64_MAX;
	struct number n;
	int64_t i;

	if (number_of(v, &n) < 0)
		return expected(t, v, e);
	if (n.is_int) {
		if (n.too_big || n.i < lo || n.i > hi)
			return out_of_range(t, v, e);
		i = n.i;
	} else {
		/* 12.0 and 1e3 are integers; 1.5 is not. */
		if (!isfinite(n.d) || n.d != trunc(n.d))
			return expected(t, v, e);
		if (n.d < (double)lo || n.d >= -(double)lo)
			return out_of_range(t, v, e);
		i = (int64_t)n.d;
	}
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get(v);
		return 0;
	}
	*out = json_object_new_int64(i);
	return *out ? 0 : sk_err_oom(e);
}

static int coerce_real(enum sk_type t, json_object *v, json_object **out, sk_err *e)
{
	struct number n;

	if (number_of(v, &n) < 0)
		return expected(t, v, e);
	if (!isfinite(n.d) || (t == SK_TYPE_FLOAT && fabs(n.d) > FLT_MAX))
		return out_of_range(t, v, e);
	if (!json_object_is_type(v, json_type_string)) {
		/* Numbers keep the text they were written with. */
		*out = json_object_get(v);
		return 0;
	}
	*out = json_object_new_double_s(n.d, json_object_get_string(v));
	return *out ? 0 : sk_err_oom(e);
}

static int digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS[.f...] followed by Z or +HH:MM / -HH:MM. */
static int valid_date(const char *s, size_t n)
{
	int y, mo, d, h, mi, sec;
	size_t i;

	if (n < 10 || digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
	    digits(s + 8, 2, &d) < 0 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return 0;
	if (n == 10)
		return 1;
	if (n < 20 || s[10] != 'T' || digits(s + 11, 2, &h) < 0 || s[13] != ':' ||
	    digits(s + 14, 2, &mi) < 0 || s[16] != ':' || digits(s + 17, 2, &sec) < 0 ||
	    h > 23 || mi > 59 || sec > 60)
		return 0;
	i = 19;
	if (s[i] == '.') {
		size_t start = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return 0;
	}
	if (i + 1 == n && s[i] == 'Z')
		return 1;
	if (i + 6 == n && (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2, &h) == 0 &&
	    s[i + 3] == ':' && digits(s + i + 4, 2, &mi) == 0 && h <= 23 && mi <= 59)
		return 1;
	return 0;
}

int sk_schema_date_valid(const char *s, size_t n)
{
	return valid_date(s, n);
}

/* Milliseconds since the epoch as YYYY-MM-DDTHH:MM:SS.mmmZ (years 0-9999). */
static int date_from_ms(json_object *v, json_object **out, sk_err *e)
{
	int64_t ms = json_object_get_int64(v);
	int64_t secs = ms / 1000, rem = ms % 1000;
	char buf[80];
	struct tm tm;
	time_t t;

	if (ms < INT64_C(-62167219200000) || ms > INT64_C(253402300799999))
		return out_of_range(SK_TYPE_DATE, v, e);
	if (rem < 0) {
		rem += 1000;
		secs--;
	}
	t = (time_t)secs;
	if (gmtime_r(&t, &tm) == NULL)
		return out_of_range(SK_TYPE_DATE, v, e);
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)rem);
	*out = json_object_new_string(buf);
	return *out ? 0 : sk_err_oom(e);
}

static int coerce_date(json_object *v, json_object **out, sk_err *e)
{
	char buf[96];

	if (json_object_is_type(v, json_type_string) &&
	    valid_date(json_object_get_string(v), (size_t)json_object_get_string_len(v))) {
		*out = json_object_get(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_int))
		return date_from_ms(v, out, e);
	return sk_err_set(e, EX_DATAERR, "expected date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.fff] with Z or "
	                  "+HH:MM, or milliseconds since the epoch), got %s", describe(v, buf, sizeof buf));
}

static int coerce_string(json_object *v, json_object **out, sk_err *e)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		*out = json_object_get(v);
		return 0;
	case json_type_boolean:
		*out = json_object_new_string(json_object_get_boolean(v) ? "true" : "false");
		break;
	case json_type_int:
	case json_type_double:
		*out = json_object_new_string(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		break;
	default:
		return expected(SK_TYPE_STRING, v, e);
	}
	return *out ? 0 : sk_err_oom(e);
}

static int coerce_boolean(json_object *v, json_object **out, sk_err *e)
{
	const char *s;

	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get(v);
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
			*out = json_object_new_boolean(s[0] == 't');
			return *out ? 0 : sk_err_oom(e);
		}
	}
	return expected(SK_TYPE_BOOLEAN, v, e);
}

int sk_coerce_value(enum sk_type t, json_object *v, json_object **out, sk_err *e)
{
	*out = NULL;
	if (v == NULL)
		return 0;
	switch (t) {
	case SK_TYPE_STRING:
		return coerce_string(v, out, e);
	case SK_TYPE_INT:
	case SK_TYPE_BIGINT:
		return coerce_integer(t, v, out, e);
	case SK_TYPE_FLOAT:
	case SK_TYPE_DOUBLE:
		return coerce_real(t, v, out, e);
	case SK_TYPE_BOOLEAN:
		return coerce_boolean(v, out, e);
	case SK_TYPE_DATE:
		return coerce_date(v, out, e);
	case SK_TYPE_ARRAY:
	case SK_TYPE_OBJECT:
		if (!json_object_is_type(v, t == SK_TYPE_ARRAY ? json_type_array : json_type_object))
			return expected(t, v, e);
		*out = json_object_get(v);
		return 0;
	}
	return sk_err_set(e, EX_SOFTWARE, "unknown column type %d", (int)t);
}

/* Coerce v to column i of s and add it to row out. */
static int add_column(const sk_schema *s, size_t i, json_object *v, json_object *out, sk_err *e)
{
	json_object *c;

	if (sk_coerce_value(s->cols[i].type, v, &c, e) < 0)
		return sk_err_prefix(e, "column \"%s\"", s->cols[i].name);
	if (json_object_object_add_ex(out, s->cols[i].name, c, JSON_C_OBJECT_ADD_KEY_IS_NEW) < 0) {
		json_object_put(c);
		return sk_err_oom(e);
	}
	return 0;
}

json_object *sk_schema_coerce_row(const sk_schema *s, json_object *row, sk_err *e)
{
	json_object *out, *v;
	char buf[96];
	size_t i;

	if (!json_object_is_type(row, json_type_object)) {
		sk_err_set(e, EX_DATAERR, "expected a row object, got %s", describe(row, buf, sizeof buf));
		return NULL;
	}
	json_object_object_foreach(row, key, val) {
		(void)val;
		if (sk_schema_find(s, key) < 0) {
			sk_err_set(e, EX_DATAERR, "unknown column \"%.100s\" (not in the schema)", key);
			return NULL;
		}
	}
	if ((out = json_object_new_object()) == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	for (i = 0; i < s->n; i++) {
		if (!json_object_object_get_ex(row, s->cols[i].name, &v))
			v = NULL;
		if (add_column(s, i, v, out, e) < 0) {
			json_object_put(out);
			return NULL;
		}
	}
	return out;
}

json_object *sk_schema_coerce_tuple(const sk_schema *s, json_object *tuple, sk_err *e)
{
	json_object *out;
	size_t i, n;

	if (!json_object_is_type(tuple, json_type_array)) {
		sk_err_set(e, EX_DATAERR, "expected a tuple (a JSON array)");
		return NULL;
	}
	n = json_object_array_length(tuple);
	if (n != s->n) {
		sk_err_set(e, EX_DATAERR, "tuple has %zu value%s, the schema has %zu column%s", n,
		           n == 1 ? "" : "s", s->n, s->n == 1 ? "" : "s");
		return NULL;
	}
	if ((out = json_object_new_object()) == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (add_column(s, i, json_object_array_get_idx(tuple, i), out, e) < 0) {
			json_object_put(out);
			return NULL;
		}
	}
	return out;
}
