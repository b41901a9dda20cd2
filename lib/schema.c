/* schema.c - parse, infer, save schemas, and coerce rows to them. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "schema.h"

#define SCHEMA_MAX_BYTES (16u << 20)

struct column {
	char *name;
	enum sk_type type;
};

struct sk_schema {
	struct column *cols;
	size_t n;
	json_object *entries;   /* the entries as read or made, written by save */
};

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

/* Read path into b; -1 with *missing set when it does not exist. */
static int read_file(const char *path, sk_buf *b, int *missing, sk_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	*missing = 0;
	if (fd < 0) {
		*missing = errno == ENOENT;
		return sk_err_set(e, errno == EACCES ? EX_CONFIG : EX_IOERR, "%s: %s", path, strerror(errno));
	}
	for (;;) {
		if (sk_buf_reserve(b, 65536) < 0) {
			close(fd);
			return sk_err_oom(e);
		}
		r = read(fd, b->p + b->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b->len += (size_t)r;
		b->p[b->len] = '\0';
		if (b->len > SCHEMA_MAX_BYTES) {
			close(fd);
			return sk_err_set(e, EX_CONFIG, "%s: larger than %u bytes", path, SCHEMA_MAX_BYTES);
		}
	}
	if (r < 0) {
		int saved = errno;
		close(fd);
		return sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(saved));
	}
	close(fd);
	return 0;
}

int sk_schema_load(const char *path, sk_schema **out, sk_err *e)
{
	sk_buf b = { 0 };
	int rc, missing;

	if (read_file(path, &b, &missing, e) < 0) {
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

/* Coercion. */

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
