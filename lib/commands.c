/* commands.c - which command a program's arguments name, and whether the
 * options given belong to it (see commands.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

const sk_command *sk_command_find(const sk_command *cmds, size_t n, const char *name, const sk_option *own,
                                  unsigned given, const sk_kindopts *kind, sk_err *e)
{
	const sk_command *cmd = NULL;
	size_t i;

	for (i = 0; cmd == NULL && i < n; i++)
		if (strcmp(name, cmds[i].name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL)
		return sk_err_set(e, EX_USAGE, "unknown command '%s'", name), NULL;
	for (; own && own->name; own++)
		if ((given & (unsigned)own->id) && !(cmd->options & (unsigned)own->id))
			return sk_err_set(e, EX_USAGE, "--%s: not an option of %s", own->name, cmd->name), NULL;
	/* -X is known by its short form only (kcat's habit). */
	if (!cmd->kind_options && kind->n > 0)
		return sk_err_set(e, EX_USAGE, "%s%s: not an option of %s", kind->v[0].name[1] ? "--" : "-",
		                  kind->v[0].name, cmd->name), NULL;
	return cmd;
}

int sk_options_help_out(sk_output *out, const char *text, const sk_option *own, const sk_option_group *groups,
                        size_t ngroups, sk_err *e)
{
	char *help = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&help, &len);
	int rc;

	if (f == NULL)
		return sk_err_oom(e);
	rc = fputs(text, f) < 0 || sk_options_help(f, own, groups, ngroups) < 0;
	if (fclose(f) != 0 || rc) {
		free(help);
		return sk_err_oom(e);
	}
	rc = sk_output_add(out, help, len, 0, e);
	free(help);
	return rc;
}
