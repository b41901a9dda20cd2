/* test-ini.c - the endpoints file's parser. */
#include <stdio.h>
#include <string.h>

#include "ini.h"
#include "tap.h"

/* What sk_ini_parse reported, one entry per key = value, and the sections. */
struct ini_seen {
	char section[64], key[64], value[128];
	unsigned line;
};

struct ini_log {
	struct ini_seen seen[16];
	int n;
	char sections[8][64];
	unsigned section_lines[8];
	int nsections;
	int stop_after;   /* return 7 from the callback after this many; 0: never */
};

static int record(void *arg, const char *section, const char *key, const char *value,
                  unsigned line)
{
	struct ini_log *log = arg;
	struct ini_seen *s;

	if (key == NULL) {
		if (log->nsections >= 8 || value != NULL)
			return -1;
		snprintf(log->sections[log->nsections], sizeof log->sections[0], "%s", section);
		log->section_lines[log->nsections++] = line;
		return 0;
	}
	if (log->n >= 16)
		return -1;
	s = &log->seen[log->n++];
	snprintf(s->section, sizeof s->section, "%s", section);
	snprintf(s->key, sizeof s->key, "%s", key);
	snprintf(s->value, sizeof s->value, "%s", value);
	s->line = line;
	return log->stop_after && log->n >= log->stop_after ? 7 : 0;
}

static int parse(const char *text, struct ini_log *log, sk_err *e)
{
	memset(log, 0, sizeof *log);
	sk_err_clear(e);
	return sk_ini_parse(text, strlen(text), "t.conf", record, log, e);
}

static void is_entry(const struct ini_log *log, int i, const char *section, const char *key,
                     const char *value, unsigned line)
{
	if (!ok(i < log->n, "entry %d exists (%s = %s)", i, key, value))
		return;
	is_str(log->seen[i].section, section, "entry %d: section", i);
	is_str(log->seen[i].key, key, "entry %d: key", i);
	is_str(log->seen[i].value, value, "entry %d: value", i);
	is_int(log->seen[i].line, line, "entry %d: line number", i);
}

static void test_ini_sections_comments_whitespace(void)
{
	static const char text[] =
		"# a comment\n"
		"; another comment\n"
		"\n"
		"[alpha]\n"
		"url = kafka://h:1/t\n"
		"  spaced   =   value with spaces   \n"
		"eq = a=b=c\n"
		"\t[ beta ]\t\n"
		"json=true\n"
		"   # an indented comment\n"
		"empty =\n"
		"[gamma]\n";
	struct ini_log log;
	sk_err e;

	is_int(parse(text, &log, &e), 0, "ini: a well-formed file parses");
	is_int(log.n, 5, "ini: every key = value is reported once");
	is_entry(&log, 0, "alpha", "url", "kafka://h:1/t", 5);
	is_entry(&log, 1, "alpha", "spaced", "value with spaces", 6);
	is_entry(&log, 2, "alpha", "eq", "a=b=c", 7);
	is_entry(&log, 3, "beta", "json", "true", 9);
	is_entry(&log, 4, "beta", "empty", "", 11);
	if (ok(log.nsections == 3, "ini: each section header is reported, an empty one too")) {
		is_str(log.sections[1], "beta", "ini: a section's name without the blanks around it");
		is_int(log.section_lines[2], 12, "ini: with its line");
	}
}

/* '#' and ';' start a comment only as a line's first character that is
 * not a blank: passwords may hold them. */
static void test_ini_comment_characters_in_values(void)
{
	struct ini_log log;
	sk_err e;

	is_int(parse("[a]\npassword = pa#ss;word # not a comment\nk = ;v\nh = #v\n", &log, &e), 0,
	       "ini: '#' and ';' inside values parse");
	is_entry(&log, 0, "a", "password", "pa#ss;word # not a comment", 2);
	is_entry(&log, 1, "a", "k", ";v", 3);
	is_entry(&log, 2, "a", "h", "#v", 4);
	is_int(parse("[a]\n\t; k = v\n  # k = v\nk = v\n", &log, &e), 0, "ini: indented comment lines");
	is_int(log.n, 1, "ini: ... are skipped, key and all");
}

static void test_ini_line_endings(void)
{
	struct ini_log log;
	sk_err e;

	is_int(parse("[a]\r\nk = v\r\n", &log, &e), 0, "ini: CRLF lines parse");
	is_entry(&log, 0, "a", "k", "v", 2);
	is_int(parse("[a]\nk = last", &log, &e), 0, "ini: a last line without newline parses");
	is_entry(&log, 0, "a", "k", "last", 2);
	is_int(parse("", &log, &e), 0, "ini: an empty file parses");
	is_int(log.n, 0, "ini: an empty file has no keys");
}

static void is_ini_error(const char *text, const char *want, const char *what)
{
	struct ini_log log;
	sk_err e;

	is_int(parse(text, &log, &e), -1, "ini: %s is an error", what);
	is_int(e.code, EX_CONFIG, "ini: %s is a configuration error", what);
	is_str(e.msg, want, "ini: %s: the message names the file and line", what);
}

static void test_ini_errors(void)
{
	struct ini_log log;
	sk_err e;

	is_ini_error("[a]\nk = v\njunk\n", "t.conf:3: expected key = value", "a line without '='");
	is_ini_error("# c\n[unterminated\n", "t.conf:2: expected [name]", "an unterminated section");
	is_ini_error("[]\n", "t.conf:1: expected [name]", "an empty section name");
	is_ini_error("[ ]\n", "t.conf:1: expected [name]", "a blank section name");
	is_ini_error("[a] # c\n", "t.conf:1: expected [name]", "a comment after a section header");
	is_ini_error("[a]\n\n\n  = value\n", "t.conf:4: expected key = value", "an empty key");
	is_ini_error("# c\nk = v\n[a]\n", "t.conf:2: a key before any [section]", "a key before any section");
	is_ini_error("[a]\nk = v\n[b]\n[ a ]\n", "t.conf:4: section [a] again (first at line 1)",
	             "a duplicate section");
	is_ini_error("[a]\nk = 1\nj = 2\nk = 3\n", "t.conf:4: [a] k again (first at line 2)",
	             "a duplicate key");
	is_int(parse("[a]\nk = 1\n[b]\nk = 2\n", &log, &e), 0, "ini: one key in two sections is no duplicate");

	memset(&log, 0, sizeof log);
	log.stop_after = 1;
	sk_err_clear(&e);
	is_int(sk_ini_parse("[s]\na = 1\nb = 2\n", 16, "t.conf", record, &log, &e), 7,
	       "ini: a callback's non-zero return stops the parse and is returned");
	is_int(log.n, 1, "ini: no callback after the one that stopped");
}

/* An empty file, whose buffer is NULL (found by tests/fuzz/fuzz-endpoint:
 * NULL + 0 is undefined, which the sanitizers' build reports). */
static void test_ini_empty(void)
{
	struct ini_log log = { 0 };
	sk_err e = { 0 };

	is_int(sk_ini_parse(NULL, 0, "empty.conf", record, &log, &e), 0, "an empty file parses");
	is_int(log.n + log.nsections, 0, "... to nothing");
}

int main(void)
{
	test_ini_sections_comments_whitespace();
	test_ini_comment_characters_in_values();
	test_ini_line_endings();
	test_ini_errors();
	test_ini_empty();
	return tap_done();
}
