/* test-schema-coerce.c - the coercion rules of stream-write(1): values
 * to column types, object rows and tuples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "schema.h"
#include "tap.h"

static json_object *parse(const char *s)
{
	sk_json *p = sk_json_new();
	sk_err e;
	json_object *o = sk_json_parse(p, s, strlen(s), &e);

	sk_json_free(p);
	return o;
}

static const char *text(json_object *o)
{
	return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
	         : "null";
}

/* What a coercion gave: r's text, or "error: msg" when it failed. */
static const char *result(int failed, json_object *r, const sk_err *e)
{
	static char out[1200];

	if (failed)
		snprintf(out, sizeof out, "error: %s", e->msg);
	else
		snprintf(out, sizeof out, "%s", text(r));
	return out;
}

/* Coerce the JSON text in to type t: the result's text, or "error: msg". */
static const char *coerce(enum sk_type t, const char *in)
{
	json_object *v = strcmp(in, "null") == 0 ? NULL : parse(in), *r;
	sk_err e;
	int failed = sk_coerce_value(t, v, &r, &e) < 0;
	const char *out = result(failed, r, &e);

	json_object_put(r);
	json_object_put(v);
	return out;
}

static const struct {
	enum sk_type type;
	const char *in, *out;
} rules[] = {
	{ SK_TYPE_STRING, "\"abc\"", "\"abc\"" },
	{ SK_TYPE_STRING, "12", "\"12\"" },
	{ SK_TYPE_STRING, "1.50", "\"1.50\"" },
	{ SK_TYPE_STRING, "true", "\"true\"" },
	{ SK_TYPE_STRING, "[1]", "error: expected string, got an array" },
	{ SK_TYPE_STRING, "{}", "error: expected string, got an object" },
	{ SK_TYPE_STRING, "null", "null" },
	{ SK_TYPE_INT, "12", "12" },
	{ SK_TYPE_INT, "\"12\"", "12" },
	{ SK_TYPE_INT, "\"-7\"", "-7" },
	{ SK_TYPE_INT, "12.0", "12" },
	{ SK_TYPE_INT, "1e3", "1000" },
	{ SK_TYPE_INT, "1.5", "error: expected int, got number 1.5" },
	{ SK_TYPE_INT, "\"1.5\"", "error: expected int, got string \"1.5\"" },
	{ SK_TYPE_INT, "\" 12\"", "error: expected int, got string \" 12\"" },
	{ SK_TYPE_INT, "\"abc\"", "error: expected int, got string \"abc\"" },
	{ SK_TYPE_INT, "true", "error: expected int, got boolean true" },
	{ SK_TYPE_INT, "2147483647", "2147483647" },
	{ SK_TYPE_INT, "-2147483648", "-2147483648" },
	{ SK_TYPE_INT, "2147483648", "error: 2147483648 is out of range for int" },
	{ SK_TYPE_INT, "3e9", "error: 3e9 is out of range for int" },
	{ SK_TYPE_BIGINT, "9007199254740993", "9007199254740993" },
	{ SK_TYPE_BIGINT, "\"9223372036854775807\"", "9223372036854775807" },
	{ SK_TYPE_BIGINT, "-9223372036854775808", "-9223372036854775808" },
	{ SK_TYPE_BIGINT, "9223372036854775808", "error: 9223372036854775808 is out of range for bigint" },
	{ SK_TYPE_BIGINT, "\"9223372036854775808\"", "error: 9223372036854775808 is out of range for bigint" },
	{ SK_TYPE_BIGINT, "null", "null" },
	{ SK_TYPE_DOUBLE, "1.50", "1.50" },
	{ SK_TYPE_DOUBLE, "3", "3" },
	{ SK_TYPE_DOUBLE, "\"2.5e3\"", "2.5e3" },
	{ SK_TYPE_DOUBLE, "\"NaN\"", "error: expected double, got string \"NaN\"" },
	{ SK_TYPE_DOUBLE, "1e400", "error: 1e400 is out of range for double" },
	{ SK_TYPE_DOUBLE, "false", "error: expected double, got boolean false" },
	{ SK_TYPE_FLOAT, "0.1", "0.1" },
	{ SK_TYPE_FLOAT, "1e39", "error: 1e39 is out of range for float" },
	{ SK_TYPE_BOOLEAN, "true", "true" },
	{ SK_TYPE_BOOLEAN, "\"false\"", "false" },
	{ SK_TYPE_BOOLEAN, "1", "error: expected boolean, got number 1" },
	{ SK_TYPE_BOOLEAN, "\"yes\"", "error: expected boolean, got string \"yes\"" },
	{ SK_TYPE_DATE, "\"2024-02-29\"", "\"2024-02-29\"" },
	{ SK_TYPE_DATE, "\"2024-02-29T23:59:60Z\"", "\"2024-02-29T23:59:60Z\"" },
	{ SK_TYPE_DATE, "\"2024-01-31T08:00:00.123+02:00\"", "\"2024-01-31T08:00:00.123+02:00\"" },
	{ SK_TYPE_DATE, "0", "\"1970-01-01T00:00:00.000Z\"" },
	{ SK_TYPE_DATE, "1700000000123", "\"2023-11-14T22:13:20.123Z\"" },
	{ SK_TYPE_DATE, "-1", "\"1969-12-31T23:59:59.999Z\"" },
	{ SK_TYPE_DATE, "\"2023-02-29\"", "error: expected date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.fff] with Z or "
	  "+HH:MM, or milliseconds since the epoch), got string \"2023-02-29\"" },
	{ SK_TYPE_DATE, "\"2024-01-01T10:00:00\"", "error: expected date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.fff] "
	  "with Z or +HH:MM, or milliseconds since the epoch), got string \"2024-01-01T10:00:00\"" },
	{ SK_TYPE_DATE, "1.5", "error: expected date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[.fff] with Z or +HH:MM, "
	  "or milliseconds since the epoch), got number 1.5" },
	{ SK_TYPE_ARRAY, "[1,\"a\"]", "[1,\"a\"]" },
	{ SK_TYPE_ARRAY, "\"[1]\"", "error: expected array, got string \"[1]\"" },
	{ SK_TYPE_OBJECT, "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}" },
	{ SK_TYPE_OBJECT, "[]", "error: expected object, got an array" },
};

static void test_rules(void)
{
	size_t i;

	for (i = 0; i < sizeof rules / sizeof rules[0]; i++)
		is_str(coerce(rules[i].type, rules[i].in), rules[i].out, "%s %s -> %s",
		       sk_type_name(rules[i].type), rules[i].in, rules[i].out);
}

static const char *row_result(const sk_schema *s, const char *in, int tuple)
{
	json_object *v = parse(in), *r;
	sk_err e;
	const char *out;

	r = tuple ? sk_schema_coerce_tuple(s, v, &e) : sk_schema_coerce_row(s, v, &e);
	out = result(r == NULL, r, &e);
	json_object_put(r);
	json_object_put(v);
	return out;
}

static void test_rows(void)
{
	const char *cols = "[{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"name\",\"type\":\"string\"},"
	                   "{\"name\":\"ok\",\"type\":\"boolean\"}]";
	sk_err e;
	sk_schema *s = sk_schema_parse(cols, strlen(cols), &e);

	is_str(row_result(s, "{\"ok\":\"true\",\"id\":\"7\",\"name\":5}", 0), "{\"id\":7,\"name\":\"5\",\"ok\":true}",
	       "a row comes out in schema order, coerced");
	is_str(row_result(s, "{\"id\":1}", 0), "{\"id\":1,\"name\":null,\"ok\":null}", "missing columns are null");
	is_str(row_result(s, "{\"id\":1,\"extra\":2}", 0), "error: unknown column \"extra\" (not in the schema)",
	       "a key the schema lacks is an error");
	is_str(row_result(s, "{\"id\":1.5}", 0), "error: column \"id\": expected int, got number 1.5",
	       "errors name the column");
	is_str(row_result(s, "[1,\"a\",false]", 1), "{\"id\":1,\"name\":\"a\",\"ok\":false}",
	       "a tuple is matched by position");
	is_str(row_result(s, "[1,\"a\"]", 1), "error: tuple has 2 values, the schema has 3 columns",
	       "a tuple of the wrong arity is an error");
	is_str(row_result(s, "[\"x\",\"a\",null]", 1), "error: column \"id\": expected int, got string \"x\"",
	       "tuple values are coerced too");
	sk_schema_free(s);
}

int main(void)
{
	test_rules();
	test_rows();
	return tap_done();
}
