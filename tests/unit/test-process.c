/* test-process.c - the process facts a supervisor needs (lib/process.c):
 * spawning, its own children, start times, telling a live process. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "tap.h"
#include "process.h"

static void test_processes(void)
{
	sigset_t none;
	pid_t pid = 0, *kids;
	size_t n, i;
	int status = 0, found = 0;
	char *argv_true[] = { "sh", "-c", "exit 3", NULL };
	char *argv_none[] = { "streamkit-no-such-command", NULL };

	sigemptyset(&none);
	ok(sk_spawn(argv_true, &none, &none, -1, &pid) == 0 && pid > 0, "a command is spawned");
	ok(sk_own_children(&kids, &n) == 0, "our children are listed");
	for (i = 0; i < n; i++)
		found |= kids[i] == pid;
	ok(found, "the spawned command among them");
	free(kids);
	ok(sk_process_start(pid) > 0, "its start time is known");
	ok(sk_process_alive(pid, sk_process_start(pid)), "it is alive");
	ok(!sk_process_alive(pid, sk_process_start(pid) + 1), "a later start is another process");
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 3, "it ran the command");
	ok(!sk_process_alive(pid, -1), "a reaped process is not alive");
	errno = 0;
	is_int(sk_spawn(argv_none, &none, &none, -1, &pid), -1, "a command that is not found");
	is_int(errno, ENOENT, "fails with ENOENT");
}

int main(void)
{
	test_processes();
	return tap_done();
}
