/* commands.h - a program of several commands (stream-checkpoint show, set,
 * commit ...): the command its arguments name, the options that belong to
 * each, one message for an option given to a command that does not take
 * it, and --help from the tables. */
#ifndef SK_COMMANDS_H
#define SK_COMMANDS_H

#include <stddef.h>
#include "err.h"
#include "options.h"
#include "output.h"

typedef struct sk_command {
	const char *name;
	unsigned options;      /* the ids (bits) of the program's own options it takes */
	int kind_options;      /* it takes the endpoint kinds' options too */
	int id;                /* the program's own number for it */
} sk_command;

/* The command of cmds (n of them) called name, when every option given
 * belongs to it: given, the bits of the program's own options given (rows
 * of own whose id is a bit of given; those of every command are left out),
 * and kind, the kinds' options given. NULL with EX_USAGE: "unknown command 'x'", "--limit: not an
 * option of show" (an option known by its short form only, -X: "-X: ..."). */
const sk_command *sk_command_find(const sk_command *cmds, size_t n, const char *name, const sk_option *own,
                                  unsigned given, const sk_kindopts *kind, sk_err *e);

/* --help: text, then the options (sk_options_help), to out: 0, SK_EOF or -1. */
int sk_options_help_out(sk_output *out, const char *text, const sk_option *own, const sk_option_group *groups,
                        size_t ngroups, sk_err *e);

#endif
