/* program.c - jq programs over JSON text and json-c values, with libjq.
 *
 * Inputs reach libjq as jv values built here. The JSON text of an input
 * (stream-read's envelope) is read by cJSON and its values converted to jv;
 * text cJSON refuses or would read otherwise than jq (see cjson_fits), and
 * every error, go to jq's own parser, so values and messages stay jq's.
 * jq 1.6 numbers are doubles, as cJSON's are. Over 1,000,000 --json
 * envelopes of 157-byte lines (about 230 bytes), text to jv takes 2.8 s
 * with jv_parse_sized, 2.0 s with cJSON and a conversion (0.8 s of it
 * cJSON's), 2.9 s with json-c and a conversion. Object keys repeat from
 * one input to the next: their jv strings are kept in a small cache.
 * Results are written as JSON text here, exactly as `jq -c` writes them,
 * without the allocations of jv_dump_string.
 *
 * libjq aborts the process when it cannot allocate memory; nothing here
 * can change that. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <jq.h>

#include "json.h"
#include "program.h"

#define TWO_53 9007199254740992.0
#define MAX_DEPTH 256               /* jq's parser nests no deeper either */
#define KEY_CACHE 256               /* entries, a power of two */
#define KEY_CACHE_MAX_LEN 64        /* longer keys are not cached */

struct sk_program_args {
	jv named;                   /* an object: name -> value */
};

/* An integer of the input too large for a double to hold exactly, so that
 * a result passing it through unchanged can write it exactly. */
struct big_int {
	double d;
	int ambiguous;              /* another integer of the input has this double */
	enum { BIG_TEXT, BIG_SIGNED, BIG_UNSIGNED } kind;
	const char *text;           /* BIG_TEXT: its digits in the input text */
	size_t len;
	int64_t i;
	uint64_t u;
};

struct cached_key {
	jv key;                     /* a string, or null when the entry is free */
	size_t len;
};

/* What building jv values keeps from one input to the next. */
struct builder {
	struct cached_key keys[KEY_CACHE];
	int big_seen;               /* the input has a number beyond 2^53 */
	struct big_int *ints;       /* of the current input */
	size_t nints, capints;
};

struct sk_program {
	jq_state *jq;
	struct builder b;
	sk_buf errors;              /* jq's compile messages */
};

struct sk_result {
	jv v;
	const struct builder *bd;   /* the input's large integers */
};


static void builder_init(struct builder *bd)
{
	size_t i;

	memset(bd, 0, sizeof *bd);
	for (i = 0; i < KEY_CACHE; i++)
		bd->keys[i].key = jv_null();
}

static void builder_clear(struct builder *bd)
{
	size_t i;

	for (i = 0; i < KEY_CACHE; i++)
		jv_free(bd->keys[i].key);
	free(bd->ints);
}

static jv parse_json(struct builder *bd, const char *s, int n, const sk_program_text *t);
static int add_jv(sk_buf *b, const struct builder *bd, jv v);

/* ---- arguments ---- */

sk_program_args *sk_program_args_new(void)
{
	sk_program_args *a = malloc(sizeof *a);

	if (a)
		a->named = jv_object();
	return a;
}

void sk_program_args_free(sk_program_args *a)
{
	if (a) {
		jv_free(a->named);
		free(a);
	}
}

static int is_name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static int args_bind(sk_program_args *a, const char *name, jv value, sk_err *e)
{
	const char *c;

	for (c = name; *c; c++) {
		if (!is_name_char(*c, c == name)) {
			jv_free(value);
			return sk_err_set(e, EX_USAGE, "invalid variable name '%s' (letters, digits and _)", name);
		}
	}
	if (c == name) {
		jv_free(value);
		return sk_err_set(e, EX_USAGE, "empty variable name");
	}
	if (jv_object_has(jv_copy(a->named), jv_string(name)))
		jv_free(value);         /* jq keeps the first */
	else
		a->named = jv_object_set(a->named, jv_string(name), value);
	return 0;
}

int sk_program_args_add(sk_program_args *a, const char *name, const char *value, sk_err *e)
{
	size_t n = strlen(value);

	if (n > INT_MAX)
		return sk_err_set(e, EX_USAGE, "$%s: value too long", name);
	return args_bind(a, name, jv_string_sized(value, (int)n), e);
}

int sk_program_args_add_json(sk_program_args *a, const char *name, const char *text, sk_err *e)
{
	struct builder *bd = malloc(sizeof *bd);
	size_t n = strlen(text);
	jv v, msg;

	if (bd == NULL)
		return sk_err_oom(e);
	if (n > INT_MAX) {
		free(bd);
		return sk_err_set(e, EX_USAGE, "$%s: value too long", name);
	}
	builder_init(bd);
	v = parse_json(bd, text, (int)n, NULL);
	builder_clear(bd);
	free(bd);
	if (!jv_is_valid(v)) {
		msg = jv_invalid_get_msg(v);
		sk_err_set(e, EX_USAGE, "$%s: invalid JSON text: %s", name, jv_string_value(msg));
		jv_free(msg);
		return -1;
	}
	return args_bind(a, name, v, e);
}

/* ---- compiling ---- */

/* jq reports compile errors through this: keep them, on one line. */
static void collect_error(void *arg, jv msg)
{
	sk_buf *errors = arg;
	const char *s, *c;
	size_t n;

	if (jv_get_kind(msg) != JV_KIND_STRING)
		msg = jv_dump_string(msg, 0);
	s = jv_string_value(msg);
	/* "jq: 2 compile errors" only counts what came before. */
	if (!(strncmp(s, "jq: ", 4) == 0 && s[4] >= '0' && s[4] <= '9')) {
		if (errors->len && sk_buf_adds(errors, "; ") < 0)
			goto out;
		for (c = s; *c; c++) {
			/* jq quotes the program's line after a newline. */
			if (sk_buf_addc(errors, *c == '\n' || *c == '\t' ? ' ' : *c) < 0)
				goto out;
		}
		for (n = errors->len; n > 0 && errors->p[n - 1] == ' '; n--)
			;
		errors->len = n;
		errors->p[n] = '\0';
	}
out:
	jv_free(msg);
}

/* `debug` writes ["DEBUG:",VALUE] to stderr, as jq does: output the
 * program itself asks for. */
static void print_debug(void *arg, jv v)
{
	sk_buf b = { 0 };

	if (sk_buf_adds(&b, "[\"DEBUG:\",") == 0 && add_jv(&b, arg, v) == 0 && sk_buf_adds(&b, "]\n") == 0)
		if (write(STDERR_FILENO, b.p, b.len) < 0) {
			/* stderr is gone: there is nobody to tell. */
		}
	sk_buf_free(&b);
	jv_free(v);
}

void sk_program_free(sk_program *p)
{
	if (p == NULL)
		return;
	if (p->jq)
		jq_teardown(&p->jq);
	builder_clear(&p->b);
	sk_buf_free(&p->errors);
	free(p);
}

sk_program *sk_program_compile(const char *text, const sk_program_args *args, sk_err *e)
{
	sk_program *p = malloc(sizeof *p);
	jv named, vars;

	if (p == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	builder_init(&p->b);
	memset(&p->errors, 0, sizeof p->errors);
	if ((p->jq = jq_init()) == NULL) {
		sk_program_free(p);
		sk_err_oom(e);
		return NULL;
	}
	jq_set_error_cb(p->jq, collect_error, &p->errors);
	jq_set_debug_cb(p->jq, print_debug, &p->b);
	/* jq's own module search path (for /usr/bin/jq); without one, an
	 * `import` makes libjq abort. */
	jq_set_attr(p->jq, jv_string("JQ_ORIGIN"), jv_string("/usr/bin"));
	jq_set_attr(p->jq, jv_string("JQ_LIBRARY_PATH"),
	            JV_ARRAY(jv_string("~/.jq"), jv_string("$ORIGIN/../lib/jq"), jv_string("$ORIGIN/../lib")));
	named = args ? jv_copy(args->named) : jv_object();
	vars = jv_copy(named);
	if (!jv_object_has(jv_copy(vars), jv_string("ARGS")))
		vars = jv_object_set(vars, jv_string("ARGS"),
		                     JV_OBJECT(jv_string("positional"), jv_array(), jv_string("named"), jv_copy(named)));
	jv_free(named);
	if (!jq_compile_args(p->jq, text, vars)) {
		sk_err_set(e, EX_USAGE, "%s", p->errors.len ? p->errors.p : "jq: error: the program does not compile");
		sk_program_free(p);
		return NULL;
	}
	return p;
}

/* ---- JSON text to jv ---- */

static void big_int_add(struct builder *bd, const struct big_int *b)
{
	struct big_int *nv;
	size_t i;

	for (i = 0; i < bd->nints; i++) {
		struct big_int *x = &bd->ints[i];
		if (x->d != b->d)
			continue;
		if (x->kind != b->kind || x->i != b->i || x->u != b->u || x->len != b->len ||
		    (x->kind == BIG_TEXT && memcmp(x->text, b->text, b->len) != 0))
			x->ambiguous = 1;
		return;
	}
	if (bd->nints == bd->capints) {
		size_t cap = bd->capints ? bd->capints * 2 : 8;
		if ((nv = realloc(bd->ints, cap * sizeof *nv)) == NULL)
			return;         /* the integer is then written as jq would */
		bd->ints = nv;
		bd->capints = cap;
	}
	bd->ints[bd->nints++] = *b;
}

/* The integer of the input whose double d is, if there is exactly one. */
static const struct big_int *big_int_find(const struct builder *bd, double d)
{
	size_t i;

	if (bd == NULL)
		return NULL;
	for (i = 0; i < bd->nints; i++)
		if (bd->ints[i].d == d)
			return bd->ints[i].ambiguous ? NULL : &bd->ints[i];
	return NULL;
}

/* A jv string of s[0..n), shared with earlier inputs when it is a short key. */
static jv make_string(struct builder *b, const char *s, size_t n, int key)
{
	struct cached_key *c;
	uint32_t h = 2166136261u;
	size_t i;

	if (!key || n > KEY_CACHE_MAX_LEN)
		return jv_string_sized(s, (int)n);
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	c = &b->keys[h & (KEY_CACHE - 1)];
	if (jv_get_kind(c->key) == JV_KIND_STRING && c->len == n && memcmp(jv_string_value(c->key), s, n) == 0)
		return jv_copy(c->key);
	jv_free(c->key);
	c->key = jv_string_sized(s, (int)n);
	/* Bytes that are not UTF-8 were replaced: such a key never matches. */
	c->len = (size_t)jv_string_length_bytes(jv_copy(c->key));
	return jv_copy(c->key);
}

/* Whether cJSON reads s[0..n) as jq does, as far as a look at its bytes
 * tells: not when it holds a control character (jq refuses them raw, in
 * strings too, where cJSON takes them, and between tokens, where cJSON
 * skips them as white space) or "\u0000" (cJSON's strings end at a NUL).
 * NDJSON lines hold neither. */
static int cjson_fits(const char *s, size_t n)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	const char *p = s, *end = s + n;
	uint64_t w;
	size_t i;

	/* Eight bytes at a time: is any of them below 0x20? */
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		if ((w - ones * 0x20) & ~w & highs)
			return 0;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] < 0x20)
			return 0;
	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (end - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
			return 0;
		p += 2;                 /* the escaped character is no backslash */
		if (p >= end)
			break;
	}
	return 1;
}

static jv from_cjson(struct builder *bd, const cJSON *c, int depth)
{
	const cJSON *x;
	jv r, v;

	switch (c->type & 0xff) {
	case cJSON_NULL: return jv_null();
	case cJSON_False: return jv_false();
	case cJSON_True: return jv_true();
	case cJSON_Number:
		if (c->valuedouble >= TWO_53 || c->valuedouble <= -TWO_53)
			bd->big_seen = 1;
		return jv_number(c->valuedouble);
	case cJSON_String: return jv_string_sized(c->valuestring, (int)strlen(c->valuestring));
	case cJSON_Array:
	case cJSON_Object:
		if (depth >= MAX_DEPTH)
			return jv_invalid();
		r = c->type & cJSON_Array ? jv_array() : jv_object();
		for (x = c->child; x; x = x->next) {
			if (!jv_is_valid(v = from_cjson(bd, x, depth + 1))) {
				jv_free(r);
				return v;
			}
			if (c->type & cJSON_Array)
				r = jv_array_append(r, v);
			else
				r = jv_object_set(r, make_string(bd, x->string, strlen(x->string), 1), v);
		}
		return r;
	}
	return jv_invalid();
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* An integer of the text, JSON's way (no leading zero), at s[0..n). */
static void note_int(struct builder *bd, const char *s, size_t n)
{
	char buf[64];
	struct big_int b = { .kind = BIG_TEXT, .text = s, .len = n };
	size_t i;

	for (i = s[0] == '-'; i < n; i++)
		if (!is_digit(s[i]))
			return;
	if (n >= sizeof buf || s[s[0] == '-'] == '0')
		return;
	memcpy(buf, s, n);
	buf[n] = '\0';
	b.d = strtod(buf, NULL);
	if (b.d >= TWO_53 || b.d <= -TWO_53)
		big_int_add(bd, &b);
}

/* The integers of s[0..n) beyond 2^53, whose digits a double does not
 * keep, so that a result passing one through unchanged writes it exactly.
 * cJSON read the text as JSON: outside strings, a token that starts with
 * a digit or '-' is a number. */
static void note_big_ints(struct builder *bd, const char *s, size_t n)
{
	const char *p = s, *end = s + n, *from;

	while (p < end) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else if (*p == '-' || is_digit(*p)) {
			for (from = p++; p < end && (is_digit(*p) || strchr(".eE+-", *p)); p++)
				;
			note_int(bd, from, (size_t)(p - from));
		} else {
			p++;
		}
	}
}

/* A text read by cJSON ahead of its run: a cJSON tree under another name. */
struct sk_program_text {
	cJSON c;
};

sk_program_text *sk_program_read_text(const char *s, size_t n)
{
	const char *end = NULL;
	cJSON *c;

	if (!cjson_fits(s, n) || (c = cJSON_ParseWithLengthOpts(s, n, &end, 0)) == NULL)
		return NULL;
	while (end < s + n && *end == ' ')
		end++;
	if (end != s + n) {
		cJSON_Delete(c);        /* more than one value */
		return NULL;
	}
	return (sk_program_text *)c;
}

void sk_program_text_free(sk_program_text *t)
{
	cJSON_Delete((cJSON *)t);
}

/* The value of s[0..n), which cJSON has read as t. */
static jv from_text(struct builder *bd, const sk_program_text *t, const char *s, size_t n)
{
	jv v;

	bd->big_seen = 0;
	v = from_cjson(bd, (const cJSON *)t, 0);
	if (jv_is_valid(v) && bd->big_seen)
		note_big_ints(bd, s, n);
	return v;
}

/* One JSON value in s[0..n) read by cJSON, or invalid when cJSON cannot
 * read it as jq does. */
static jv parse_cjson(struct builder *bd, const char *s, size_t n)
{
	sk_program_text *t = sk_program_read_text(s, n);
	jv v;

	if (t == NULL)
		return jv_invalid();
	v = from_text(bd, t, s, n);
	sk_program_text_free(t);
	return v;
}

/* What jv_parse_sized does in libjq 1.6, through its public parser: its
 * message quotes the text with "%s", which would read on to a NUL. */
static jv jq_parse(const char *s, int n)
{
	jv_parser *parser = jv_parser_new(0);
	jv v, next, msg;

	jv_parser_set_buf(parser, s, n, 0);
	v = jv_parser_next(parser);
	if (jv_is_valid(v)) {
		next = jv_parser_next(parser);
		if (jv_is_valid(next)) {
			jv_free(v);
			jv_free(next);
			v = jv_invalid_with_msg(jv_string("Unexpected extra JSON values"));
		} else if (jv_invalid_has_msg(jv_copy(next))) {
			jv_free(v);
			v = next;
		} else {
			jv_free(next);
		}
	} else if (!jv_invalid_has_msg(jv_copy(v))) {
		jv_free(v);
		v = jv_invalid_with_msg(jv_string("Expected JSON value"));
	}
	jv_parser_free(parser);
	if (!jv_is_valid(v) && jv_invalid_has_msg(jv_copy(v))) {
		msg = jv_invalid_get_msg(v);
		v = jv_invalid_with_msg(jv_string_fmt("%s (while parsing '%.*s')", jv_string_value(msg), n, s));
		jv_free(msg);
	}
	return v;
}

/* s[0..n) as jq parses it: by cJSON when it reads it as jq does (t: cJSON
 * has read it already), else (and for every error) by jq. */
static jv parse_json(struct builder *bd, const char *s, int n, const sk_program_text *t)
{
	jv v;

	bd->nints = 0;
	v = t ? from_text(bd, t, s, (size_t)n) : parse_cjson(bd, s, (size_t)n);
	if (jv_is_valid(v))
		return v;
	jv_free(v);
	bd->nints = 0;
	return jq_parse(s, n);
}

/* ---- json-c to jv ---- */

static jv from_json(struct builder *bd, json_object *o);

static jv from_json_object(struct builder *bd, json_object *o)
{
	jv r = jv_object();

	json_object_object_foreach(o, k, v) {
		r = jv_object_set(r, make_string(bd, k, strlen(k), 1), from_json(bd, v));
	}
	return r;
}

static jv from_json_int(struct builder *bd, json_object *o)
{
	struct big_int b = { .kind = BIG_SIGNED };

	b.i = json_object_get_int64(o);
	if (b.i == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX) {
		/* json-c keeps integers above INT64_MAX as unsigned. */
		b.kind = BIG_UNSIGNED;
		b.u = json_object_get_uint64(o);
		b.i = 0;
		b.d = (double)b.u;
	} else {
		b.d = (double)b.i;
	}
	if (b.d >= TWO_53 || b.d <= -TWO_53)
		big_int_add(bd, &b);
	return jv_number(b.d);
}

static jv from_json(struct builder *bd, json_object *o)
{
	size_t i, n;
	jv a;

	switch (json_object_get_type(o)) {
	case json_type_null:
		return jv_null();
	case json_type_boolean:
		return jv_bool(json_object_get_boolean(o));
	case json_type_double:
		return jv_number(json_object_get_double(o));
	case json_type_int:
		return from_json_int(bd, o);
	case json_type_string:
		return jv_string_sized(json_object_get_string(o), json_object_get_string_len(o));
	case json_type_array:
		n = json_object_array_length(o);
		a = jv_array_sized(n > INT_MAX ? INT_MAX : (int)n);
		for (i = 0; i < n; i++)
			a = jv_array_append(a, from_json(bd, json_object_array_get_idx(o, i)));
		return a;
	case json_type_object:
		return from_json_object(bd, o);
	}
	return jv_null();
}

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
static int add_number(sk_buf *b, const struct builder *bd, double d)
{
	const struct big_int *big;
	jv s;
	int rc;

	if (d > -TWO_53 && d < TWO_53 && d == (double)(int64_t)d) {
		if (d == 0 && 1 / d < 0)
			return sk_buf_adds(b, "-0");
		return sk_buf_add_i64(b, (int64_t)d);
	}
	if ((big = big_int_find(bd, d)) != NULL) {
		switch (big->kind) {
		case BIG_TEXT: return sk_buf_add(b, big->text, big->len);
		case BIG_SIGNED: return sk_buf_add_i64(b, big->i);
		case BIG_UNSIGNED: return sk_buf_printf(b, "%llu", (unsigned long long)big->u);
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
static int add_members(sk_buf *b, const struct builder *bd, jv o, int skip_cursor, int *count)
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
		if (rc == 0 && (add_jv_string(b, k) < 0 || sk_buf_addc(b, ':') < 0 || add_jv(b, bd, v) < 0))
			rc = -1;
		jv_free(k);
		jv_free(v);
	}
	return rc;
}

/* Append v (not consumed) as compact JSON. */
static int add_jv(sk_buf *b, const struct builder *bd, jv v)
{
	int i, n, count;

	switch (jv_get_kind(v)) {
	case JV_KIND_NULL: return sk_buf_add(b, "null", 4);
	case JV_KIND_FALSE: return sk_buf_add(b, "false", 5);
	case JV_KIND_TRUE: return sk_buf_add(b, "true", 4);
	case JV_KIND_NUMBER: return add_number(b, bd, jv_number_value(v));
	case JV_KIND_STRING: return add_jv_string(b, v);
	case JV_KIND_ARRAY:
		if (sk_buf_addc(b, '[') < 0)
			return -1;
		n = jv_array_length(jv_copy(v));
		for (i = 0; i < n; i++) {
			jv x = jv_array_get(jv_copy(v), i);
			int rc = (i > 0 && sk_buf_addc(b, ',') < 0) || add_jv(b, bd, x) < 0 ? -1 : 0;
			jv_free(x);
			if (rc < 0)
				return -1;
		}
		return sk_buf_addc(b, ']');
	case JV_KIND_OBJECT:
		if (sk_buf_addc(b, '{') < 0 || add_members(b, bd, v, 0, &count) < 0)
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
static json_object *text_int_json(const struct big_int *big, double d)
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

static json_object *number_json(const struct builder *bd, double d)
{
	const struct big_int *big;

	if (d > -TWO_53 && d < TWO_53 && d == (double)(int64_t)d && !(d == 0 && 1 / d < 0))
		return json_object_new_int64((int64_t)d);
	if ((big = big_int_find(bd, d)) != NULL) {
		switch (big->kind) {
		case BIG_SIGNED: return json_object_new_int64(big->i);
		case BIG_UNSIGNED: return json_object_new_uint64(big->u);
		case BIG_TEXT:
			return text_int_json(big, d);
		}
	}
	return double_json(d);
}

static int to_json(const struct builder *bd, jv v, json_object **out, sk_err *e);

static int to_json_object(const struct builder *bd, jv v, json_object **out, sk_err *e)
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
		else if ((rc = to_json(bd, val, &x, e)) == 0 &&
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

static int to_json(const struct builder *bd, jv v, json_object **out, sk_err *e)
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
		*out = number_json(bd, jv_number_value(v));
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
			int rc = to_json(bd, item, &x, e);
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
		return to_json_object(bd, v, out, e);
	default:
		return 0;
	}
	return *out ? 0 : sk_err_oom(e);
}

/* ---- running ---- */

static int failed(sk_program *p, jv v, sk_err *e)
{
	jv msg;
	sk_buf b = { 0 };
	size_t i;

	if (jq_halted(p->jq)) {
		jv_free(v);
		msg = jq_get_error_message(p->jq);
		if (jv_get_kind(msg) == JV_KIND_STRING)
			sk_err_set(e, EX_DATAERR, "jq: halted: %s", jv_string_value(msg));
		else if (jv_is_valid(msg) && jv_get_kind(msg) != JV_KIND_NULL && add_jv(&b, &p->b, msg) == 0)
			sk_err_set(e, EX_DATAERR, "jq: halted: %s", b.p);
		else
			sk_err_set(e, EX_DATAERR, "jq: halted");
		jv_free(msg);
	} else if (!jv_invalid_has_msg(jv_copy(v))) {
		jv_free(v);
		return 0;               /* the end of the results */
	} else {
		msg = jv_invalid_get_msg(v);
		if (jv_get_kind(msg) == JV_KIND_STRING)
			sk_err_set(e, EX_DATAERR, "jq: error: %s", jv_string_value(msg));
		else if (add_jv(&b, &p->b, msg) == 0)
			sk_err_set(e, EX_DATAERR, "jq: error (not a string): %s", b.p);
		else
			sk_err_oom(e);
		jv_free(msg);
	}
	sk_buf_free(&b);
	/* One line on stderr, whatever the program's message holds. */
	for (i = 0; e->msg[i]; i++)
		if (e->msg[i] == '\n' || e->msg[i] == '\r' || e->msg[i] == '\t')
			e->msg[i] = ' ';
	return -1;
}

static int run(sk_program *p, jv in, sk_result_cb cb, void *arg, sk_err *e)
{
	sk_result r = { .bd = &p->b };
	jv v;
	int rc;

	jq_start(p->jq, in, 0);
	while (jv_is_valid(v = jq_next(p->jq))) {
		r.v = v;
		rc = cb(arg, &r, e);
		jv_free(v);
		if (rc != 0)
			return rc;
	}
	return failed(p, v, e);
}

int sk_program_run_text(sk_program *p, const char *s, size_t n, sk_result_cb cb, void *arg, sk_err *e)
{
	return sk_program_run_read(p, s, n, NULL, cb, arg, e);
}

int sk_program_run_read(sk_program *p, const char *s, size_t n, const sk_program_text *t,
                        sk_result_cb cb, void *arg, sk_err *e)
{
	jv in;

	if (n > INT_MAX)
		return sk_err_set(e, EX_DATAERR, "input too long for jq (%zu bytes)", n);
	in = parse_json(&p->b, s, (int)n, t);
	if (!jv_is_valid(in)) {
		jv msg = jv_invalid_get_msg(in);
		sk_err_set(e, EX_DATAERR, "jq: error: %s", jv_string_value(msg));
		jv_free(msg);
		return -1;
	}
	return run(p, in, cb, arg, e);
}

int sk_program_run_json(sk_program *p, json_object *in, sk_result_cb cb, void *arg, sk_err *e)
{
	p->b.nints = 0;
	return run(p, from_json(&p->b, in), cb, arg, e);
}

/* ---- results ---- */

enum sk_result_kind sk_result_kind(const sk_result *r)
{
	switch (jv_get_kind(r->v)) {
	case JV_KIND_FALSE: return SK_RESULT_FALSE;
	case JV_KIND_TRUE: return SK_RESULT_TRUE;
	case JV_KIND_NUMBER: return SK_RESULT_NUMBER;
	case JV_KIND_STRING: return SK_RESULT_STRING;
	case JV_KIND_ARRAY: return SK_RESULT_ARRAY;
	case JV_KIND_OBJECT: return SK_RESULT_OBJECT;
	default: return SK_RESULT_NULL;
	}
}

const char *sk_result_kind_name(const sk_result *r)
{
	switch (jv_get_kind(r->v)) {
	case JV_KIND_FALSE:
	case JV_KIND_TRUE: return "boolean";
	default: return jv_kind_name(jv_get_kind(r->v));
	}
}

const char *sk_result_string(const sk_result *r, size_t *len)
{
	if (jv_get_kind(r->v) != JV_KIND_STRING)
		return NULL;
	*len = (size_t)jv_string_length_bytes(jv_copy(r->v));
	return jv_string_value(r->v);
}

int sk_result_add_json(const sk_result *r, sk_buf *b)
{
	return add_jv(b, r->bd, r->v);
}

int sk_result_add_envelope(const sk_result *r, const char *cursor, sk_buf *b)
{
	int count = 0;

	if (jv_get_kind(r->v) == JV_KIND_OBJECT) {
		if (sk_buf_addc(b, '{') < 0 || add_members(b, r->bd, r->v, 1, &count) < 0)
			return -1;
	} else if (sk_buf_add(b, "{\"value\":", 9) < 0 || add_jv(b, r->bd, r->v) < 0) {
		return -1;
	} else {
		count = 1;
	}
	if ((count && sk_buf_addc(b, ',') < 0) || sk_buf_add(b, "\"_cursor\":", 10) < 0 ||
	    sk_json_add_string(b, cursor, strlen(cursor)) < 0)
		return -1;
	return sk_buf_addc(b, '}');
}

json_object *sk_result_to_json(const sk_result *r, sk_err *e)
{
	json_object *o;

	sk_err_clear(e);
	return to_json(r->bd, r->v, &o, e) < 0 ? NULL : o;
}

/* ---- expressions ---- */

struct first {
	int (*take)(struct first *f, const sk_result *r, sk_err *e);
	json_object *json;
	char *s;
	size_t len;
	int64_t i;
};

static int take_first(void *arg, const sk_result *r, sk_err *e)
{
	struct first *f = arg;

	if (jv_get_kind(r->v) == JV_KIND_NULL)
		return 2;
	return f->take(f, r, e) < 0 ? -1 : 1;
}

static int first(sk_program *p, json_object *in, struct first *f, sk_err *e)
{
	int rc = sk_program_run_json(p, in, take_first, f, e);

	return rc == 1 ? 1 : rc < 0 ? -1 : 0;
}

static int take_json(struct first *f, const sk_result *r, sk_err *e)
{
	f->json = sk_result_to_json(r, e);
	return f->json ? 0 : -1;
}

int sk_program_first_json(sk_program *p, json_object *in, json_object **out, sk_err *e)
{
	struct first f = { .take = take_json };
	int rc = first(p, in, &f, e);

	*out = f.json;
	return rc;
}

static int take_string(struct first *f, const sk_result *r, sk_err *e)
{
	sk_buf b = { 0 };
	const char *s;
	size_t n;

	if ((s = sk_result_string(r, &n)) != NULL) {
		if (sk_buf_add(&b, s, n) < 0 || sk_buf_reserve(&b, 1) < 0)
			goto fail;
	} else if (sk_result_add_json(r, &b) < 0)
		goto fail;
	f->s = b.p;
	f->len = b.len;
	return 0;
fail:
	sk_buf_free(&b);
	return sk_err_oom(e);
}

int sk_program_first_string(sk_program *p, json_object *in, char **out, size_t *len, sk_err *e)
{
	struct first f = { .take = take_string };
	int rc = first(p, in, &f, e);

	*out = f.s;
	*len = f.len;
	return rc;
}

static int take_int(struct first *f, const sk_result *r, sk_err *e)
{
	const struct big_int *big;
	double d;

	if (jv_get_kind(r->v) != JV_KIND_NUMBER)
		return sk_err_set(e, EX_DATAERR, "expected an integer, got %s", sk_result_kind_name(r));
	d = jv_number_value(r->v);
	if ((big = big_int_find(r->bd, d)) != NULL && big->kind == BIG_SIGNED) {
		f->i = big->i;
		return 0;
	}
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != (double)(int64_t)d)
		return sk_err_set(e, EX_DATAERR, "expected an integer, got %.17g", d);
	f->i = (int64_t)d;
	return 0;
}

int sk_program_first_int(sk_program *p, json_object *in, int64_t *out, sk_err *e)
{
	struct first f = { .take = take_int };
	int rc = first(p, in, &f, e);

	if (rc == 1)
		*out = f.i;
	return rc;
}
