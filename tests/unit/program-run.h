/* program-run.h - running a jq program over an input for the unit tests
 * of the program module (test-program*.c): the results as compact JSON
 * lines, or "ERROR: message". */
#ifndef SK_PROGRAM_RUN_H
#define SK_PROGRAM_RUN_H

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "json.h"
#include "program.h"

/* Every result of a run, as compact JSON lines. */
TAP_FN int collect(void *arg, const sk_result *r, sk_err *e)
{
	sk_buf *b = arg;

	if ((b->len && sk_buf_addc(b, '\n') < 0) || sk_result_add_json(r, b) < 0)
		return sk_err_oom(e);
	return 0;
}

/* The results of program over the JSON text input, or "ERROR: message". */
TAP_FN char *run_text(const char *program, const char *input, const sk_program_args *args)
{
	sk_buf b = { 0 };
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(program, args, &e);

	if (p == NULL || sk_program_run_text(p, input, strlen(input), collect, &b, &e) < 0) {
		sk_buf_reset(&b);
		sk_buf_printf(&b, "ERROR: %s", e.msg);
	}
	sk_buf_addc(&b, '\0');
	sk_program_free(p);
	return b.p;
}

/* The same over the json-c value json-c parses input into. */
TAP_FN char *run_json(const char *program, const char *input)
{
	sk_json *jp = sk_json_new();
	sk_buf b = { 0 };
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(program, NULL, &e);
	json_object *in = sk_json_parse(jp, input, strlen(input), &e);

	if (p == NULL || sk_program_run_json(p, in, collect, &b, &e) < 0) {
		sk_buf_reset(&b);
		sk_buf_printf(&b, "ERROR: %s", e.msg);
	}
	sk_buf_addc(&b, '\0');
	json_object_put(in);
	sk_program_free(p);
	sk_json_free(jp);
	return b.p;
}

#define TEXT(prog, in, want, what) do { char *got_ = run_text(prog, in, NULL); \
	is_str(got_, want, "%s", what); free(got_); } while (0)
#define JSON(prog, in, want, what) do { char *got_ = run_json(prog, in); \
	is_str(got_, want, "%s", what); free(got_); } while (0)

#endif
