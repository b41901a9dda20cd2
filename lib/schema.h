/* schema.h - the dataset schema of the recipe model, and how rows fit it.
 *
 * A schema is JSON text: [{"name":"id","type":"bigint"},...] (an object
 * {"columns":[...]} is read too). Types: string, int (32-bit), bigint
 * (64-bit), float, double, boolean, date, array, object. Keys of an entry
 * other than name and type (comment, maxLength...) are kept as they are.
 *
 * Coercion turns a row into an object holding every column of the schema,
 * in schema order; the rules are in stream-write(1), COERCION. */
#ifndef SK_SCHEMA_H
#define SK_SCHEMA_H

#include <stddef.h>
#include <json-c/json.h>
#include "err.h"
#include "util.h"

enum sk_type {
	SK_TYPE_STRING,
	SK_TYPE_INT,
	SK_TYPE_BIGINT,
	SK_TYPE_FLOAT,
	SK_TYPE_DOUBLE,
	SK_TYPE_BOOLEAN,
	SK_TYPE_DATE,
	SK_TYPE_ARRAY,
	SK_TYPE_OBJECT,
};

typedef struct sk_schema sk_schema;

const char *sk_type_name(enum sk_type t);
/* 0 and *t for a known type name, -1 otherwise. */
int sk_type_from_name(const char *s, enum sk_type *t);

/* Parse schema JSON text. Errors (EX_CONFIG) name the offending entry:
 * "schema entry 2 (\"id\"): unknown type \"integer\" (expected ...)". */
sk_schema *sk_schema_parse(const char *text, size_t n, sk_err *e);
/* --schema's argument: inline JSON when it starts with '[' or '{',
 * otherwise the path of a file holding it. */
sk_schema *sk_schema_from_arg(const char *arg, sk_err *e);
/* 1 and *out when path holds a schema, 0 when path does not exist, -1. */
int sk_schema_load(const char *path, sk_schema **out, sk_err *e);
/* Replace path atomically: write a temporary file, fsync, rename, fsync
 * the directory. */
int sk_schema_save(const sk_schema *s, const char *path, sk_err *e);
/* The schema as JSON text, one column per line, ending with '\n'. */
int sk_schema_to_json(const sk_schema *s, sk_buf *b);
/* A schema from a first row (an object without _cursor): its keys in
 * order; integers give bigint, other numbers double, strings and nulls
 * string, booleans boolean, arrays array, objects object. */
sk_schema *sk_schema_infer(json_object *row, sk_err *e);
void sk_schema_free(sk_schema *s);
sk_schema *sk_schema_dup(const sk_schema *s);
/* 1 when both have the same column names and types in the same order. */
int sk_schema_equal(const sk_schema *a, const sk_schema *b);

size_t sk_schema_ncols(const sk_schema *s);
const char *sk_schema_col_name(const sk_schema *s, size_t i);
enum sk_type sk_schema_col_type(const sk_schema *s, size_t i);
/* The index of column name, or -1. */
long sk_schema_find(const sk_schema *s, const char *name);

/* Coerce one value (NULL is JSON null) to type t. On success *out is a new
 * reference (NULL for null). Errors are EX_DATAERR, such as
 * "expected int, got string \"abc\"" or "3000000000 is out of range for int". */
int sk_coerce_value(enum sk_type t, json_object *v, json_object **out, sk_err *e);
/* 1 when s[0..n) is a date string that a date column keeps as it is. */
int sk_schema_date_valid(const char *s, size_t n);
/* An object row to a new object with every column of s, in order; a
 * missing column is null, a key the schema does not have is an error. */
json_object *sk_schema_coerce_row(const sk_schema *s, json_object *row, sk_err *e);
/* An array of values matched to the columns by position; the array must
 * have exactly one value per column. */
json_object *sk_schema_coerce_tuple(const sk_schema *s, json_object *tuple, sk_err *e);

#endif
