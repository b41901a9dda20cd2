/* test-program.c - jq programs: compiling, --arg and --argjson, running,
 * runtime errors, fromjson, and the expression helpers. Inputs into jv
 * are test-program-parse.c's, results out test-program-print.c's. */
#include <stdlib.h>
#include <string.h>

#include "program-run.h"

static void compiling(void)
{
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(".[", NULL, &e);

	ok(p == NULL && e.code == EX_USAGE, "a syntax error does not compile (EX_USAGE)");
	ok(strncmp(e.msg, "jq: error: syntax error", 23) == 0, "with jq's message: %s", e.msg);
	ok(strchr(e.msg, '\n') == NULL, "on one line");
	ok(strstr(e.msg, "compile error") == NULL, "without jq's count of errors");
	p = sk_program_compile("foo(1) | bar", NULL, &e);
	ok(p == NULL && strstr(e.msg, "foo/1 is not defined") && strstr(e.msg, "; jq: error: bar/0 is not defined"),
	   "every error, in order: %s", e.msg);
	p = sk_program_compile("$nope", NULL, &e);
	ok(p == NULL && strstr(e.msg, "$nope is not defined"), "an unbound variable: %s", e.msg);
	p = sk_program_compile("import \"no_such_module\" as m; 1", NULL, &e);
	ok(p == NULL && e.code == EX_USAGE, "a missing module is an error, not an abort: %s", e.msg);
}

static void arguments(void)
{
	sk_program_args *a = sk_program_args_new();
	sk_err e = { 0 };
	char *got;

	ok(sk_program_args_add(a, "name", "Ada", &e) == 0, "--arg name");
	ok(sk_program_args_add(a, "name", "second", &e) == 0, "a repeated --arg is accepted");
	ok(sk_program_args_add_json(a, "n", "{\"k\":[1,2.5,null]}", &e) == 0, "--argjson n");
	ok(sk_program_args_add_json(a, "bad", "{", &e) < 0 && e.code == EX_USAGE, "--argjson with bad JSON: %s", e.msg);
	ok(sk_program_args_add(a, "1x", "v", &e) < 0 && e.code == EX_USAGE, "a name must not start with a digit");
	ok(sk_program_args_add(a, "a-b", "v", &e) < 0, "a name holds letters, digits and _ only");
	got = run_text("[$name, $n.k[1], $ARGS.named.name]", "null", a);
	is_str(got, "[\"Ada\",2.5,\"Ada\"]", "bound as $NAME and in $ARGS.named; the first binding wins");
	free(got);
	got = run_text("$ARGS.positional", "null", a);
	is_str(got, "[]", "$ARGS.positional is empty");
	free(got);
	sk_program_args_free(a);
	TEXT("$ENV.SK_TEST_PROGRAM, env.SK_TEST_PROGRAM", "null", "\"here\"\n\"here\"", "$ENV and env");
}

static void fromjson(void)
{
	TEXT(".line | fromjson | .b", "{\"line\":\"{\\\"a\\\":1,\\\"b\\\":[2,3]}\"}", "[2,3]", "fromjson");
	TEXT(".[] | tonumber", "[\"12\",\" 7 \",\"1e2\"]", "12\n7\n100", "tonumber, jq's way (spaces allowed)");
	TEXT(".[] | try fromjson catch .", "[\"{\",\"nan\",\"[1,]\"]",
	     "\"Unfinished JSON term at EOF at line 1, column 1 (while parsing '{')\"\nnull\n"
	     "\"Expected another array element at line 1, column 4 (while parsing '[1,]')\"",
	     "fromjson's errors and leniency are jq's");
	TEXT("tojson | fromjson", "{\"u\":\"\\u0000\xc3\xa9\",\"n\":[1.5,-0]}", "{\"u\":\"\\u0000\xc3\xa9\",\"n\":[1.5,-0]}",
	     "tojson | fromjson round trip");
}

static void runtime_errors(void)
{
	TEXT(".a.b", "{\"a\":1}", "ERROR: jq: error: Cannot index number with string \"b\"", "a runtime error");
	TEXT("error({\"x\":1})", "null", "ERROR: jq: error (not a string): {\"x\":1}", "an error that is not a string");
	TEXT("error(\"two\\nlines\")", "null", "ERROR: jq: error: two lines", "an error message stays on one line");
	TEXT("1, error(\"e\")", "null", "ERROR: jq: error: e", "an error after a result");
	TEXT("halt_error", "\"bye\\n\"", "ERROR: jq: halted: bye ", "halt_error");
	TEXT("halt", "1", "ERROR: jq: halted", "halt");
	TEXT("try error(\"x\") catch .", "null", "\"x\"", "try/catch");
	TEXT("\"abc\" | test(\"B\"; \"i\")", "null", "true", "regular expressions (oniguruma)");
}

static void expressions(void)
{
	sk_json *jp = sk_json_new();
	sk_err e = { 0 };
	const char *text = "{\"k\":\"key\",\"p\":3,\"f\":2.5,\"big\":9007199254740993,\"o\":{\"a\":1}}";
	json_object *in = sk_json_parse(jp, text, strlen(text), &e);
	sk_program *p;
	char *s = NULL;
	size_t n = 0;
	int64_t i = 0;
	int runs;

#define EXPR(prog) (sk_program_free(p), p = sk_program_compile(prog, NULL, &e))
	p = NULL;
	EXPR(".k");
	ok(sk_program_first_string(p, in, &s, &n, &e) == 1 && n == 3 && strcmp(s, "key") == 0, "a string result");
	free(s);
	EXPR(".o");
	ok(sk_program_first_string(p, in, &s, &n, &e) == 1 && strcmp(s, "{\"a\":1}") == 0, "another as JSON text");
	free(s);
	EXPR(".missing");
	ok(sk_program_first_string(p, in, &s, &n, &e) == 0, "null is no value");
	EXPR(".p");
	ok(sk_program_first_int(p, in, &i, &e) == 1 && i == 3, "an integer");
	EXPR(".big");
	ok(sk_program_first_int(p, in, &i, &e) == 1 && i == 9007199254740993LL, "an integer beyond 2^53, exactly");
	EXPR(".f");
	ok(sk_program_first_int(p, in, &i, &e) < 0 && e.code == EX_DATAERR, "2.5 is not an integer: %s", e.msg);
	EXPR(".k");
	ok(sk_program_first_int(p, in, &i, &e) < 0 && strstr(e.msg, "got string"), "nor is a string: %s", e.msg);
	EXPR("empty");
	ok(sk_program_first_int(p, in, &i, &e) == 0, "no result");
	EXPR(".k | error");
	ok(sk_program_first_int(p, in, &i, &e) < 0 && strcmp(e.msg, "jq: error: key") == 0, "an error: %s", e.msg);
	EXPR(".p");
	for (runs = 0; runs < 1000; runs++)
		if (sk_program_first_int(p, in, &i, &e) != 1 || i != 3)
			break;
	ok(runs == 1000, "a program runs again and again");
	sk_program_free(p);
	json_object_put(in);
	sk_json_free(jp);
}

/* The results of program over input built ahead (sk_program_input_new),
 * as run_text gives them; *built: whether a value was built. */
static char *run_built(const char *program, const char *input, int *built)
{
	sk_buf b = { 0 };
	sk_err e = { 0 };
	sk_program *p = sk_program_compile(program, NULL, &e);
	sk_program_inputs *ins = sk_program_inputs_new();
	sk_program_text *t = sk_program_read_text(input, strlen(input));
	sk_program_input *in = sk_program_input_new(ins, input, strlen(input), t);

	*built = in != NULL;
	sk_program_text_free(t);
	if (p == NULL || sk_program_run_input(p, input, strlen(input), in, collect, &b, &e) < 0) {
		sk_buf_reset(&b);
		sk_buf_printf(&b, "ERROR: %s", e.msg);
	}
	sk_buf_addc(&b, '\0');
	if (p)
		sk_program_release(p);
	sk_program_input_free(in);
	sk_program_inputs_free(ins);
	sk_program_free(p);
	return b.p;
}

/* Inputs built ahead give what the same text gives; a text cJSON would
 * read otherwise than jq, or not at all, is left to jq's parser. */
static void built_inputs(void)
{
	static const struct {
		const char *program, *input;
		int built;
	} cases[] = {
		{ ".a.b", "{\"a\":{\"b\":[1,\"x\"]}}", 1 },
		{ ". as $x | .n", "{\"n\":12345678901234567890,\"m\":-9007199254740993}", 1 },
		{ "{m, k: keys}", "{\"n\":12345678901234567890,\"m\":-9007199254740993}", 1 },
		{ ".a = 1 | del(.b)", "{\"a\":0,\"b\":\"\u00e9\"}", 1 },
		{ ".s | length", "{\"s\":\"a\\u0000b\"}", 0 },
		{ ".", "{\"a\":", 0 },
		{ ".", "[1] [2]", 0 },
		{ ".[0]", "[\"x\"]", 1 },
		{ ".a.b", "{\"a\":1}", 1 },
	};
	char deep[700];
	size_t i;
	int built;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *want = run_text(cases[i].program, cases[i].input, NULL);
		char *got = run_built(cases[i].program, cases[i].input, &built);

		is_str(got, want, "built ahead: %s over %s", cases[i].program, cases[i].input);
		ok(built == cases[i].built, "... %s", cases[i].built ? "built" : "left to jq's parser");
		free(want);
		free(got);
	}
	/* Deeper than jq nests: jq's parser says so. */
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	deep[600] = '\0';
	{
		char *want = run_text("length", deep, NULL);
		char *got = run_built("length", deep, &built);

		is_str(got, want, "built ahead: 300 arrays deep, as jq says: %.60s", got);
		ok(!built, "... left to jq's parser");
		free(want);
		free(got);
	}
}

int main(void)
{
	setenv("SK_TEST_PROGRAM", "here", 1);
	compiling();
	arguments();
	fromjson();
	runtime_errors();
	expressions();
	built_inputs();
	return tap_done();
}
