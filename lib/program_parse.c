/* program_parse.c - inputs of jq programs into jv values: JSON text
 * and json-c values.
 *
 * The JSON text of an input (stream-read's envelope) is read by cJSON and
 * its values converted to jv; text cJSON refuses or would read otherwise
 * than jq (see cjson_fits), and every error, go to jq's own parser, so
 * values and messages stay jq's. jq 1.6 numbers are doubles, as cJSON's
 * are. Over 1,000,000 --json envelopes of 157-byte lines (about 230
 * bytes), text to jv takes 2.8 s with jv_parse_sized, 2.0 s with cJSON and
 * a conversion (0.8 s of it cJSON's), 2.9 s with json-c and a conversion.
 * Object keys repeat from one input to the next: their jv strings are kept
 * in a small cache. Integers beyond 2^53 are noted, so that a result
 * passing one through unchanged writes it exactly (program_print.c).
 * An envelope whose value the source read already (sk_json_kept) is read
 * without it, and that tree put in its place. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "program_impl.h"

#define MAX_DEPTH 256               /* jq's parser nests no deeper either */
#define KEY_CACHE_MAX_LEN 64        /* longer keys are not cached */

void sk_jv_builder_init(struct sk_jv_builder *bd)
{
	size_t i;

	memset(bd, 0, sizeof *bd);
	for (i = 0; i < KEY_CACHE; i++)
		bd->keys[i].key = jv_null();
}

void sk_jv_builder_clear(struct sk_jv_builder *bd)
{
	size_t i;

	for (i = 0; i < KEY_CACHE; i++)
		jv_free(bd->keys[i].key);
	free(bd->big.v);
}

/* ---- JSON text to jv ---- */

static void big_int_add(struct sk_jv_builder *bd, const struct sk_big_int *b)
{
	struct sk_big_int *nv;
	size_t i;

	for (i = 0; i < bd->big.n; i++) {
		struct sk_big_int *x = &bd->big.v[i];
		if (x->d != b->d)
			continue;
		if (x->kind != b->kind || x->i != b->i || x->u != b->u || x->len != b->len ||
		    (x->kind == SK_BIG_TEXT && memcmp(x->text, b->text, b->len) != 0))
			x->ambiguous = 1;
		return;
	}
	if (bd->big.n == bd->big.cap) {
		size_t cap = bd->big.cap ? bd->big.cap * 2 : 8;
		if ((nv = realloc(bd->big.v, cap * sizeof *nv)) == NULL)
			return;         /* the integer is then written as jq would */
		bd->big.v = nv;
		bd->big.cap = cap;
	}
	bd->big.v[bd->big.n++] = *b;
}

/* The integer of the input whose double d is, if there is exactly one. */
const struct sk_big_int *sk_big_int_find(const struct sk_big_ints *ints, double d)
{
	size_t i;

	if (ints == NULL)
		return NULL;
	for (i = 0; i < ints->n; i++)
		if (ints->v[i].d == d)
			return ints->v[i].ambiguous ? NULL : &ints->v[i];
	return NULL;
}

int sk_big_ints_set(struct sk_big_ints *to, const struct sk_big_int *v, size_t n)
{
	to->n = 0;
	if (n > to->cap) {
		struct sk_big_int *nv = realloc(to->v, n * sizeof *nv);
		if (nv == NULL)
			return -1;
		to->v = nv;
		to->cap = n;
	}
	if (n > 0)
		memcpy(to->v, v, n * sizeof *v);
	to->n = n;
	return 0;
}

/* A jv string of s[0..n), shared with earlier inputs when it is a short key. */
static jv make_string(struct sk_jv_builder *b, const char *s, size_t n, int key)
{
	struct sk_cached_key *c;
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
	return !sk_json_has_nul_escape(s, n);
}

static jv from_cjson(struct sk_jv_builder *bd, const cJSON *c, int depth)
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
static void note_int(struct sk_jv_builder *bd, const char *s, size_t n)
{
	char buf[64];
	struct sk_big_int b = { .kind = SK_BIG_TEXT, .text = s, .len = n };
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
static void note_big_ints(struct sk_jv_builder *bd, const char *s, size_t n)
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

/* The name of the member whose value starts at s[at] in the object s: the
 * text before it is ..."NAME": with NAME as the envelope's writer spells
 * it (no escape). NULL when it is not. */
static const char *member_name(const char *s, size_t at, size_t *len)
{
	size_t q;

	if (at < 4 || s[at - 1] != ':' || s[at - 2] != '"')
		return NULL;
	for (q = at - 3; q > 0 && s[q] != '"'; q--)
		if (s[q] == '\\')
			return NULL;
	if (q == 0)
		return NULL;
	*len = at - 2 - (q + 1);
	return s + q + 1;
}

sk_program_text *sk_program_read_with(const char *s, size_t n, sk_json_kept *k)
{
	cJSON *tree = k->tree, *c = NULL;
	char stack[1024], *shell = stack, name[64];
	const char *key, *end = NULL;
	size_t klen, rest, len;

	k->tree = NULL;
	key = k->at <= n && k->len <= n - k->at ? member_name(s, k->at, &klen) : NULL;
	if (key == NULL || klen >= sizeof name)
		goto read_all;
	/* The object with 0 for the value, which then takes its place. */
	rest = n - k->at - k->len;
	len = k->at + 1 + rest;
	if (len > sizeof stack && (shell = malloc(len)) == NULL)
		goto read_all;
	memcpy(shell, s, k->at);
	shell[k->at] = '0';
	memcpy(shell + k->at + 1, s + k->at + k->len, rest);
	memcpy(name, key, klen);
	name[klen] = '\0';
	if (cjson_fits(shell, len))
		c = cJSON_ParseWithLengthOpts(shell, len, &end, 0);
	if (c != NULL && (end != shell + len || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, name)) ||
	                  !cJSON_ReplaceItemInObjectCaseSensitive(c, name, tree))) {
		cJSON_Delete(c);
		c = NULL;
	}
	if (shell != stack)
		free(shell);
	if (c != NULL)
		return (sk_program_text *)c;
read_all:
	cJSON_Delete(tree);
	return sk_program_read_text(s, n);
}

void sk_program_text_free(sk_program_text *t)
{
	cJSON_Delete((cJSON *)t);
}

/* The value of s[0..n), which cJSON has read as t. */
static jv from_text(struct sk_jv_builder *bd, const sk_program_text *t, const char *s, size_t n)
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
static jv parse_cjson(struct sk_jv_builder *bd, const char *s, size_t n)
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
jv sk_jv_parse_jq(const char *s, int n)
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
jv sk_jv_parse(struct sk_jv_builder *bd, const char *s, int n, const sk_program_text *t)
{
	jv v;

	bd->big.n = 0;
	v = t ? from_text(bd, t, s, (size_t)n) : parse_cjson(bd, s, (size_t)n);
	if (jv_is_valid(v))
		return v;
	jv_free(v);
	bd->big.n = 0;
	return sk_jv_parse_jq(s, n);
}

/* ---- values built ahead ---- */

struct sk_program_inputs {
	struct sk_jv_builder bd;
};

sk_program_inputs *sk_program_inputs_new(void)
{
	sk_program_inputs *b = malloc(sizeof *b);

	if (b)
		sk_jv_builder_init(&b->bd);
	return b;
}

void sk_program_inputs_free(sk_program_inputs *b)
{
	if (b) {
		sk_jv_builder_clear(&b->bd);
		free(b);
	}
}

sk_program_input *sk_program_input_new(sk_program_inputs *b, const char *s, size_t n, const sk_program_text *t)
{
	sk_program_input *in;
	size_t k;
	jv v;

	if (t == NULL || n > INT_MAX)
		return NULL;
	b->bd.big.n = 0;
	v = from_text(&b->bd, t, s, n);
	if (!jv_is_valid(v)) {
		jv_free(v);     /* jq's parser says why */
		return NULL;
	}
	if ((in = malloc(sizeof *in)) == NULL) {
		jv_free(v);
		return NULL;
	}
	in->v = v;
	in->ints = NULL;
	in->nints = k = b->bd.big.n;
	if (k && (in->ints = malloc(k * sizeof *in->ints)) == NULL) {
		sk_program_input_free(in);
		return NULL;
	}
	while (k-- > 0) {
		in->ints[k] = b->bd.big.v[k];
		if (in->ints[k].kind == SK_BIG_TEXT) {
			in->ints[k].at = (size_t)(in->ints[k].text - s);
			in->ints[k].text = NULL;
		}
	}
	return in;
}

void sk_program_input_free(sk_program_input *in)
{
	if (in) {
		jv_free(in->v);
		free(in->ints);
		free(in);
	}
}

/* ---- json-c to jv ---- */

static jv from_json_object(struct sk_jv_builder *bd, json_object *o)
{
	jv r = jv_object();

	json_object_object_foreach(o, k, v) {
		r = jv_object_set(r, make_string(bd, k, strlen(k), 1), sk_jv_from_json(bd, v));
	}
	return r;
}

static jv from_json_int(struct sk_jv_builder *bd, json_object *o)
{
	struct sk_big_int b = { .kind = SK_BIG_SIGNED };

	b.i = json_object_get_int64(o);
	if (b.i == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX) {
		/* json-c keeps integers above INT64_MAX as unsigned. */
		b.kind = SK_BIG_UNSIGNED;
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

jv sk_jv_from_json(struct sk_jv_builder *bd, json_object *o)
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
			a = jv_array_append(a, sk_jv_from_json(bd, json_object_array_get_idx(o, i)));
		return a;
	case json_type_object:
		return from_json_object(bd, o);
	}
	return jv_null();
}

