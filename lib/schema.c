/* schema.c - schemas: parse, load, save, infer from a first row, and
 * the columns of one. How rows fit a schema is schema_coerce.c's. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "schema_impl.h"

#define SCHEMA_MAX_BYTES (16u << 20)

static const char *const type_names[] = {
	[SK_TYPE_STRING] = "string",
	[SK_TYPE_INT] = "int",
	[SK_TYPE_BIGINT] = "bigint",
	[SK_TYPE_FLOAT] = "float",
	[SK_TYPE_DOUBLE] = "double",
	[SK_TYPE_BOOLEAN] = "boolean",
	[SK_TYPE_DATE] = "date",
	[SK_TYPE_ARRAY] = "array",
	[SK_TYPE_OBJECT] = "object",
};
#define NTYPES (sizeof type_names / sizeof type_names[0])

const char *sk_type_name(enum sk_type t)
{
	return (size_t)t < NTYPES ? type_names[t] : "unknown";
}

int sk_type_from_name(const char *s, enum sk_type *t)
{
	size_t i;

	for (i = 0; i < NTYPES; i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*t = (enum sk_type)i;
			return 0;
		}
	}
	return -1;
}

void sk_schema_free(sk_schema *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->cols[i].name);
	free(s->cols);
	json_object_put(s->entries);
	free(s);
}

static sk_schema *schema_alloc(size_t n, sk_err *e)
{
	sk_schema *s = calloc(1, sizeof *s);

	if (s == NULL || (s->cols = calloc(n ? n : 1, sizeof *s->cols)) == NULL) {
		free(s);
		sk_err_oom(e);
		return NULL;
	}
	return s;
}

long sk_schema_find(const sk_schema *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Check one entry and append its column to s. */
static int add_entry(sk_schema *s, json_object *ent, size_t i, sk_err *e)
{
	json_object *jname, *jtype;
	const char *name, *type;
	enum sk_type t;

	if (!json_object_is_type(ent, json_type_object))
		return sk_err_set(e, EX_CONFIG, "schema entry %zu: expected an object with \"name\" and \"type\"", i);
	if (!json_object_object_get_ex(ent, "name", &jname) || !json_object_is_type(jname, json_type_string) ||
	    json_object_get_string_len(jname) == 0)
		return sk_err_set(e, EX_CONFIG, "schema entry %zu: expected \"name\" to be a non-empty string", i);
	name = json_object_get_string(jname);
	if (strlen(name) != (size_t)json_object_get_string_len(jname))
		return sk_err_set(e, EX_CONFIG, "schema entry %zu: the name contains a NUL character", i);
	if (strcmp(name, "_cursor") == 0)
		return sk_err_set(e, EX_CONFIG, "schema entry %zu (\"_cursor\"): _cursor is reserved for cursors", i);
	if (!json_object_object_get_ex(ent, "type", &jtype) || !json_object_is_type(jtype, json_type_string))
		return sk_err_set(e, EX_CONFIG, "schema entry %zu (\"%s\"): expected \"type\" to be a string", i, name);
	type = json_object_get_string(jtype);
	if (sk_type_from_name(type, &t) < 0)
		return sk_err_set(e, EX_CONFIG, "schema entry %zu (\"%s\"): unknown type \"%s\" (expected string, "
		                  "int, bigint, float, double, boolean, date, array or object)", i, name, type);
	if (sk_schema_find(s, name) >= 0)
		return sk_err_set(e, EX_CONFIG, "schema entry %zu (\"%s\"): duplicate column name", i, name);
	if ((s->cols[s->n].name = strdup(name)) == NULL)
		return sk_err_oom(e);
	s->cols[s->n++].type = t;
	return 0;
}

/* A schema from a parsed JSON value: an array of entries, or {"columns": [...]}. */
static sk_schema *schema_from_json(json_object *root, sk_err *e)
{
	json_object *arr = root;
	sk_schema *s;
	size_t i, n;

	if (json_object_is_type(root, json_type_object) && !json_object_object_get_ex(root, "columns", &arr))
		arr = NULL;
	if (!json_object_is_type(arr, json_type_array)) {
		sk_err_set(e, EX_CONFIG, "schema: expected an array of {\"name\":...,\"type\":...} entries");
		return NULL;
	}
	n = json_object_array_length(arr);
	if (n == 0) {
		sk_err_set(e, EX_CONFIG, "schema: no columns");
		return NULL;
	}
	if ((s = schema_alloc(n, e)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (add_entry(s, json_object_array_get_idx(arr, i), i + 1, e) < 0) {
			sk_schema_free(s);
			return NULL;
		}
	}
	s->entries = json_object_get(arr);
	return s;
}

sk_schema *sk_schema_parse(const char *text, size_t n, sk_err *e)
{
	sk_json *p = sk_json_new();
	json_object *root;
	sk_schema *s;

	if (p == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	root = sk_json_parse(p, text, n, e);
	sk_json_free(p);
	if (root == NULL && e && e->code == 0)      /* the literal null */
		sk_err_set(e, EX_CONFIG, "expected an array of columns, got null");
	if (root == NULL) {
		if (e) {
			e->code = EX_CONFIG;
			sk_err_prefix(e, "schema");
		}
		return NULL;
	}
	s = schema_from_json(root, e);
	json_object_put(root);
	return s;
}

int sk_schema_load(const char *path, sk_schema **out, sk_err *e)
{
	sk_buf b = { 0 };
	int rc, missing;

	if (sk_read_file(path, SCHEMA_MAX_BYTES, &b, &missing, e) < 0) {
		sk_buf_free(&b);
		return missing ? 0 : -1;
	}
	*out = sk_schema_parse(b.p ? b.p : "", b.len, e);
	rc = *out ? 1 : sk_err_prefix(e, "%s", path);
	sk_buf_free(&b);
	return rc;
}

sk_schema *sk_schema_from_arg(const char *arg, sk_err *e)
{
	const char *s = arg;
	sk_schema *out = NULL;
	int rc;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '[' || *s == '{')
		return sk_schema_parse(s, strlen(s), e);
	rc = sk_schema_load(arg, &out, e);
	if (rc == 0)
		sk_err_set(e, EX_CONFIG, "%s: no such file (expected a schema file or inline JSON)", arg);
	return out;
}

int sk_schema_to_json(const sk_schema *s, sk_buf *b)
{
	size_t i;

	if (sk_buf_adds(b, "[\n") < 0)
		return -1;
	for (i = 0; i < s->n; i++) {
		if (sk_buf_adds(b, "  ") < 0 ||
		    sk_json_add_object(b, json_object_array_get_idx(s->entries, i)) < 0 ||
		    sk_buf_adds(b, i + 1 < s->n ? ",\n" : "\n") < 0)
			return -1;
	}
	return sk_buf_adds(b, "]\n");
}

int sk_schema_save(const sk_schema *s, const char *path, sk_err *e)
{
	sk_buf b = { 0 }, tmp = { 0 };
	char *dcopy = NULL;
	int fd = -1, rc = -1;

	if (sk_schema_to_json(s, &b) < 0 || sk_buf_printf(&tmp, "%s.tmp", path) < 0 ||
	    (dcopy = strdup(path)) == NULL) {
		sk_err_oom(e);
		goto out;
	}
	fd = open(tmp.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		sk_err_set(e, sk_err_code_for_errno(errno), "%s: %s", tmp.p, strerror(errno));
		goto out;
	}
	if (sk_write_all(fd, b.p, b.len, e, tmp.p) < 0)
		goto out;
	if (fsync(fd) < 0) {
		sk_err_set(e, EX_IOERR, "%s: fsync: %s", tmp.p, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		sk_err_set(e, EX_IOERR, "%s: %s", tmp.p, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.p, path) < 0) {
		sk_err_set(e, EX_IOERR, "rename %s: %s", path, strerror(errno));
		goto out;
	}
	rc = sk_fsync_dir(dirname(dcopy), e);
out:
	if (fd >= 0) {
		close(fd);
		unlink(tmp.p);
	}
	free(dcopy);
	sk_buf_free(&tmp);
	sk_buf_free(&b);
	return rc;
}

static enum sk_type inferred_type(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_int: return SK_TYPE_BIGINT;
	case json_type_double: return SK_TYPE_DOUBLE;
	case json_type_boolean: return SK_TYPE_BOOLEAN;
	case json_type_array: return SK_TYPE_ARRAY;
	case json_type_object: return SK_TYPE_OBJECT;
	default: return SK_TYPE_STRING;
	}
}

sk_schema *sk_schema_infer(json_object *row, sk_err *e)
{
	json_object *entries, *ent;
	sk_schema *s;

	if (!json_object_is_type(row, json_type_object)) {
		sk_err_set(e, EX_DATAERR, "cannot infer a schema from a row that is not an object (give --schema)");
		return NULL;
	}
	if ((entries = json_object_new_array()) == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	json_object_object_foreach(row, key, val) {
		if (strcmp(key, "_cursor") == 0)
			continue;
		ent = json_object_new_object();
		if (ent == NULL || json_object_array_add(entries, ent) < 0 ||
		    json_object_object_add(ent, "name", json_object_new_string(key)) < 0 ||
		    json_object_object_add(ent, "type",
		                           json_object_new_string(sk_type_name(inferred_type(val)))) < 0) {
			json_object_put(entries);
			sk_err_oom(e);
			return NULL;
		}
	}
	if (json_object_array_length(entries) == 0) {
		json_object_put(entries);
		sk_err_set(e, EX_DATAERR, "cannot infer a schema from an empty row (give --schema)");
		return NULL;
	}
	s = schema_from_json(entries, e);
	json_object_put(entries);
	if (s == NULL && e)
		e->code = EX_DATAERR;
	return s;
}

sk_schema *sk_schema_dup(const sk_schema *s)
{
	sk_schema *d = schema_alloc(s->n, NULL);
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < s->n; i++) {
		if ((d->cols[i].name = strdup(s->cols[i].name)) == NULL) {
			d->n = i;
			sk_schema_free(d);
			return NULL;
		}
		d->cols[i].type = s->cols[i].type;
	}
	d->n = s->n;
	d->entries = json_object_get(s->entries);   /* never modified once made */
	return d;
}

int sk_schema_equal(const sk_schema *a, const sk_schema *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->cols[i].type != b->cols[i].type || strcmp(a->cols[i].name, b->cols[i].name) != 0)
			return 0;
	return 1;
}

size_t sk_schema_ncols(const sk_schema *s) { return s->n; }
const char *sk_schema_col_name(const sk_schema *s, size_t i) { return s->cols[i].name; }
enum sk_type sk_schema_col_type(const sk_schema *s, size_t i) { return s->cols[i].type; }
