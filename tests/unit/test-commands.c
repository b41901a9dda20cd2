/* test-commands.c - which command a program's arguments name, and one
 * message for an option given to a command that does not take it. */
#include <string.h>

#include "tap.h"
#include "commands.h"

enum { LIMIT = 1 << 0, SOURCE = 1 << 1, JSON = 1 << 16 };

static const sk_option own[] = {
	{ "limit", 0, SK_OPT_VALUE, "N", "history: how many", LIMIT, 0 },
	{ "source", 0, SK_OPT_VALUE, "S", "reset: the source", SOURCE, 0 },
	{ "json", 0, SK_OPT_FLAG, NULL, "JSON", JSON, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};
static const sk_command cmds[] = {
	{ "history", LIMIT, 0, 1 }, { "reset", SOURCE, 0, 2 }, { "lag", 0, 1, 3 },
};

static const sk_command *find(const char *name, unsigned given, const char *kind_option, sk_err *e)
{
	sk_optval v = { kind_option, "x" };
	sk_kindopts k = { &v, kind_option ? 1 : 0 };

	return sk_command_find(cmds, 3, name, own, given, &k, e);
}

int main(void)
{
	const sk_command *c;
	sk_err e = { 0 };

	ok((c = find("reset", SOURCE, NULL, &e)) && c->id == 2, "a command with its own options");
	ok((c = find("lag", 0, "kafka-config", &e)) && c->id == 3, "a command that takes the kinds' options");
	ok(find("frob", 0, NULL, &e) == NULL && e.code == EX_USAGE, "an unknown command is a usage error");
	is_str(e.msg, "unknown command 'frob'", "that names it");
	ok(find("history", SOURCE, NULL, &e) == NULL && e.code == EX_USAGE, "another command's option is refused");
	is_str(e.msg, "--source: not an option of history", "naming the option and the command");
	ok(find("reset", 0, "kafka-config", &e) == NULL, "so is a kind's option");
	is_str(e.msg, "--kafka-config: not an option of reset", "by its long name");
	ok(find("reset", 0, "X", &e) == NULL, "and -X");
	is_str(e.msg, "-X: not an option of reset", "by its short name, the one it is known by");
	return tap_done();
}
