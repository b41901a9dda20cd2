/* program.c - jq programs over JSON text and json-c values, with libjq:
 * --arg and --argjson, compiling, running, results, and the first result
 * of an expression. Inputs reach libjq as jv values built by
 * program_parse.c; results are written out by program_print.c.
 *
 * libjq aborts the process when it cannot allocate memory; nothing here
 * can change that. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "options.h"
#include "program_impl.h"

struct sk_program_args {
	jv named;                   /* an object: name -> value */
};

struct sk_program {
	jq_state *jq;
	struct sk_jv_builder b;
	sk_buf errors;              /* jq's compile messages */
};

struct sk_result {
	jv v;
	const struct sk_big_ints *big;    /* the input's large integers */
};

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
	struct sk_jv_builder *bd = malloc(sizeof *bd);
	size_t n = strlen(text);
	jv v, msg;

	if (bd == NULL)
		return sk_err_oom(e);
	if (n > INT_MAX) {
		free(bd);
		return sk_err_set(e, EX_USAGE, "$%s: value too long", name);
	}
	sk_jv_builder_init(bd);
	v = sk_jv_parse(bd, text, (int)n, NULL);
	sk_jv_builder_clear(bd);
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

	if (sk_buf_adds(&b, "[\"DEBUG:\",") == 0 && sk_jv_add(&b, arg, v) == 0 && sk_buf_adds(&b, "]\n") == 0)
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
	sk_jv_builder_clear(&p->b);
	sk_buf_free(&p->errors);
	free(p);
}

int sk_program_compile_option(const struct sk_kindopts *given, const char *name, const sk_program_args *args,
                              sk_program **out, sk_err *e)
{
	const char *text = sk_kindopts_get(given, name);

	if (text == NULL)
		return 0;
	if ((*out = sk_program_compile(text, args, e)) == NULL)
		return sk_err_prefix(e, "--%s", name);
	return 0;
}

sk_program *sk_program_compile(const char *text, const sk_program_args *args, sk_err *e)
{
	sk_program *p = malloc(sizeof *p);
	jv named, vars;

	if (p == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	sk_jv_builder_init(&p->b);
	memset(&p->errors, 0, sizeof p->errors);
	if ((p->jq = jq_init()) == NULL) {
		sk_program_free(p);
		sk_err_oom(e);
		return NULL;
	}
	jq_set_error_cb(p->jq, collect_error, &p->errors);
	jq_set_debug_cb(p->jq, print_debug, &p->b.big);
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
		else if (jv_is_valid(msg) && jv_get_kind(msg) != JV_KIND_NULL && sk_jv_add(&b, &p->b.big, msg) == 0)
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
		else if (sk_jv_add(&b, &p->b.big, msg) == 0)
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
	sk_result r = { .big = &p->b.big };
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

/* A run over the text s[0..n): read by cJSON as t holds it (or by jq
 * when cJSON cannot), or with jq_only by jq's parser alone; when it is
 * not one value, jq's message. */
static int run_text(sk_program *p, const char *s, size_t n, const sk_program_text *t, int jq_only,
                    sk_result_cb cb, void *arg, sk_err *e)
{
	jv in;

	if (n > INT_MAX)
		return sk_err_set(e, EX_DATAERR, "input too long for jq (%zu bytes)", n);
	if (jq_only) {
		p->b.big.n = 0;
		in = sk_jv_parse_jq(s, (int)n);
	} else {
		in = sk_jv_parse(&p->b, s, (int)n, t);
	}
	if (!jv_is_valid(in)) {
		jv msg = jv_invalid_get_msg(in);
		sk_err_set(e, EX_DATAERR, "jq: error: %s", jv_string_value(msg));
		jv_free(msg);
		return -1;
	}
	return run(p, in, cb, arg, e);
}

int sk_program_run_read(sk_program *p, const char *s, size_t n, const sk_program_text *t,
                        sk_result_cb cb, void *arg, sk_err *e)
{
	return run_text(p, s, n, t, 0, cb, arg, e);
}

int sk_program_run_input(sk_program *p, const char *s, size_t n, const sk_program_input *in, sk_result_cb cb, void *arg,
                         sk_err *e)
{
	size_t k;

	if (in == NULL)
		return run_text(p, s, n, NULL, 1, cb, arg, e);
	if (sk_big_ints_set(&p->b.big, in->ints, in->nints) < 0)
		return sk_err_oom(e);
	for (k = 0; k < p->b.big.n; k++)
		if (p->b.big.v[k].kind == SK_BIG_TEXT)
			p->b.big.v[k].text = s + p->b.big.v[k].at;
	return run(p, jv_copy(in->v), cb, arg, e);
}

void sk_program_release(sk_program *p)
{
	/* The state holds the last input (and paths into it) until the next
	 * start: start over null. */
	jq_start(p->jq, jv_null(), 0);
}

int sk_program_run_json(sk_program *p, json_object *in, sk_result_cb cb, void *arg, sk_err *e)
{
	p->b.big.n = 0;
	return run(p, sk_jv_from_json(&p->b, in), cb, arg, e);
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
	return sk_jv_add(b, r->big, r->v);
}

int sk_result_add_envelope(const sk_result *r, const char *cursor, sk_buf *b)
{
	int count = 0;

	if (jv_get_kind(r->v) == JV_KIND_OBJECT) {
		if (sk_buf_addc(b, '{') < 0 || sk_jv_add_members(b, r->big, r->v, 1, &count) < 0)
			return -1;
	} else if (sk_buf_add(b, "{\"value\":", 9) < 0 || sk_jv_add(b, r->big, r->v) < 0) {
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
	return sk_jv_to_json(r->big, r->v, &o, e) < 0 ? NULL : o;
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
	const struct sk_big_int *big;
	double d;

	if (jv_get_kind(r->v) != JV_KIND_NUMBER)
		return sk_err_set(e, EX_DATAERR, "expected an integer, got %s", sk_result_kind_name(r));
	d = jv_number_value(r->v);
	if ((big = sk_big_int_find(r->big, d)) != NULL && big->kind == SK_BIG_SIGNED) {
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
