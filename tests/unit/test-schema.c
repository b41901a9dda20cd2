/* test-schema.c - schema parsing, inference and saving. How rows fit a
 * schema is test-schema-coerce.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema.h"
#include "tap.h"

static sk_schema *schema(const char *s)
{
	sk_err e;
	sk_schema *sc = sk_schema_parse(s, strlen(s), &e);

	if (sc == NULL)
		printf("# %s\n", e.msg);
	return sc;
}

static const char *parse_error(const char *s)
{
	static sk_err e;
	sk_schema *sc = sk_schema_parse(s, strlen(s), &e);

	if (sc) {
		sk_schema_free(sc);
		return "parsed";
	}
	return e.code == EX_CONFIG ? e.msg : "wrong code";
}

static void test_parse(void)
{
	sk_schema *s = schema("[{\"name\":\"id\",\"type\":\"bigint\"},{\"name\":\"at\",\"type\":\"date\","
	                      "\"comment\":\"kept\"}]");
	sk_schema *w = schema("{\"columns\":[{\"name\":\"id\",\"type\":\"bigint\"},{\"name\":\"at\",\"type\":\"date\"}]}");
	sk_buf b = { 0 };

	ok(s != NULL, "parses an array of columns");
	is_int(sk_schema_ncols(s), 2, "two columns");
	is_str(sk_schema_col_name(s, 1), "at", "column names in order");
	is_int(sk_schema_col_type(s, 0), SK_TYPE_BIGINT, "column types");
	is_int(sk_schema_find(s, "at"), 1, "find a column");
	is_int(sk_schema_find(s, "nope"), -1, "find a missing column");
	ok(w != NULL && sk_schema_equal(s, w), "reads {\"columns\": [...]} too, equal by names and types");
	sk_schema_to_json(s, &b);
	is_str(b.p, "[\n  {\"name\":\"id\",\"type\":\"bigint\"},\n  {\"name\":\"at\",\"type\":\"date\",\"comment\":\"kept\"}\n]\n",
	       "writes one column per line, keeping other keys");
	sk_buf_free(&b);
	sk_schema_free(s);
	sk_schema_free(w);

	is_str(parse_error("[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"b\",\"type\":\"integer\"}]"),
	       "schema entry 2 (\"b\"): unknown type \"integer\" (expected string, int, bigint, float, double, "
	       "boolean, date, array or object)", "an unknown type names the entry");
	is_str(parse_error("[{\"name\":\"a\",\"type\":\"string\"},{\"type\":\"int\"}]"),
	       "schema entry 2: expected \"name\" to be a non-empty string", "a missing name names the entry");
	is_str(parse_error("[{\"name\":\"a\",\"type\":\"string\"},{\"name\":\"a\",\"type\":\"int\"}]"),
	       "schema entry 2 (\"a\"): duplicate column name", "duplicate names are refused");
	is_str(parse_error("[{\"name\":\"_cursor\",\"type\":\"string\"}]"),
	       "schema entry 1 (\"_cursor\"): _cursor is reserved for cursors", "_cursor is not a column");
	is_str(parse_error("[]"), "schema: no columns", "an empty schema is refused");
	is_str(parse_error("[\"a\"]"), "schema entry 1: expected an object with \"name\" and \"type\"",
	       "an entry must be an object");
	is_str(parse_error("{\"a\":1}"), "schema: expected an array of {\"name\":...,\"type\":...} entries",
	       "an object without columns is refused");
	ok(strncmp(parse_error("[{\"name\":"), "schema: invalid JSON", 20) == 0, "invalid JSON is refused");
}

static void test_infer(void)
{
	json_object *row = json_tokener_parse("{\"_cursor\":\"f:0:1\",\"i\":1,\"d\":1.5,\"s\":\"x\",\"b\":true,"
	                                      "\"n\":null,\"a\":[1],\"o\":{}}");
	sk_schema *s;
	sk_buf b = { 0 };
	sk_err e;

	s = sk_schema_infer(row, &e);
	ok(s != NULL, "infers a schema from a row");
	sk_schema_to_json(s, &b);
	is_str(b.p, "[\n  {\"name\":\"i\",\"type\":\"bigint\"},\n  {\"name\":\"d\",\"type\":\"double\"},\n"
	       "  {\"name\":\"s\",\"type\":\"string\"},\n  {\"name\":\"b\",\"type\":\"boolean\"},\n"
	       "  {\"name\":\"n\",\"type\":\"string\"},\n  {\"name\":\"a\",\"type\":\"array\"},\n"
	       "  {\"name\":\"o\",\"type\":\"object\"}\n]\n",
	       "integers are bigint, numbers double, nulls string, _cursor left out");
	sk_buf_free(&b);
	sk_schema_free(s);
	json_object_put(row);

	row = json_tokener_parse("{\"_cursor\":\"f:0:1\"}");
	ok(sk_schema_infer(row, &e) == NULL && e.code == EX_DATAERR, "an empty row gives no schema");
	json_object_put(row);
}

static void test_save_load(void)
{
	char dir[] = "/tmp/test-schema-XXXXXX", path[64];
	sk_schema *s = schema("[{\"name\":\"x\",\"type\":\"double\"}]"), *back = NULL;
	sk_err e;

	ok(mkdtemp(dir) != NULL, "scratch directory");
	snprintf(path, sizeof path, "%s/schema.json", dir);
	is_int(sk_schema_load(path, &back, &e), 0, "load: a missing file is 0");
	is_int(sk_schema_save(s, path, &e), 0, "save");
	is_int(sk_schema_load(path, &back, &e), 1, "load: 1");
	ok(back && sk_schema_equal(s, back), "what was saved comes back");
	snprintf(path + strlen(path), sizeof path - strlen(path), ".tmp");
	ok(access(path, F_OK) != 0, "no temporary file is left");
	path[strlen(path) - 4] = '\0';
	sk_schema_free(back);
	back = sk_schema_from_arg(path, &e);
	ok(back != NULL, "--schema takes a file");
	sk_schema_free(back);
	back = sk_schema_from_arg(" [{\"name\":\"y\",\"type\":\"int\"}]", &e);
	ok(back != NULL && sk_schema_find(back, "y") == 0, "--schema takes inline JSON");
	sk_schema_free(back);
	ok(sk_schema_from_arg("/nonexistent/schema.json", &e) == NULL && e.code == EX_CONFIG,
	   "--schema with a missing file is a configuration error");
	unlink(path);
	rmdir(dir);
	sk_schema_free(s);
}

int main(void)
{
	test_parse();
	test_infer();
	test_save_load();
	return tap_done();
}
