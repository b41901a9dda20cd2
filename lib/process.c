/* process.c - spawning a command in its own process group, and what
 * /proc says of processes. */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process.h"
#include "util.h"

extern char **environ;

int sk_spawn_io(char *const argv[], const sigset_t *mask, const sigset_t *defaults, const int fds[3],
                int new_group, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	int rc, i;

	if ((rc = posix_spawnattr_init(&a)) != 0) {
		errno = rc;
		return -1;
	}
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&a);
		errno = rc;
		return -1;
	}
	rc = posix_spawnattr_setflags(&a, (new_group ? POSIX_SPAWN_SETPGROUP : 0) | POSIX_SPAWN_SETSIGMASK |
	                              POSIX_SPAWN_SETSIGDEF);
	if (rc == 0 && new_group)
		rc = posix_spawnattr_setpgroup(&a, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&a, mask);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&a, defaults);
	for (i = 0; i < 3 && rc == 0; i++)
		if (fds[i] >= 0 && fds[i] != i)
			rc = posix_spawn_file_actions_adddup2(&fa, fds[i], i);
	if (rc == 0)
		rc = posix_spawnp(pid, argv[0], &fa, &a, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&a);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

int sk_spawn(char *const argv[], const sigset_t *mask, const sigset_t *defaults, int err_fd,
             pid_t *pid)
{
	const int fds[3] = { -1, -1, err_fd };

	return sk_spawn_io(argv, mask, defaults, fds, 1, pid);
}

/* A small file of /proc, whole; NULL when it cannot be read. */
static char *read_proc(const char *path, size_t *len)
{
	sk_buf b = { 0 };
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	do {
		if (sk_buf_reserve(&b, 4096) < 0) {
			sk_buf_free(&b);
			fclose(f);
			return NULL;
		}
		n = fread(b.p + b.len, 1, 4096, f);
		b.len += n;
		b.p[b.len] = '\0';
	} while (n > 0);
	if (ferror(f) || b.p == NULL) {
		sk_buf_free(&b);
		b.p = NULL;
	}
	fclose(f);
	*len = b.len;
	return b.p;
}

int sk_own_children(pid_t **pids, size_t *n)
{
	char path[64], *text, *p, *end;
	size_t len, cap = 0;
	long v;

	snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)getpid());
	*pids = NULL;
	*n = 0;
	if ((text = read_proc(path, &len)) == NULL)
		return -1;
	for (p = text; ; p = end) {
		v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (*n == cap) {
			pid_t *more = realloc(*pids, (cap = cap ? cap * 2 : 16) * sizeof *more);
			if (more == NULL) {
				free(*pids);
				free(text);
				*pids = NULL;
				*n = 0;
				return -1;
			}
			*pids = more;
		}
		(*pids)[(*n)++] = (pid_t)v;
	}
	free(text);
	return 0;
}

int64_t sk_process_start(pid_t pid)
{
	char path[64], *text, *p;
	long long start = -1;
	size_t len;
	int field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((text = read_proc(path, &len)) == NULL)
		return -1;
	/* The command name (field 2) may hold spaces and parentheses: the
	 * fields that follow start after its last ')'. starttime is field 22. */
	p = strrchr(text, ')');
	for (field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%lld", &start) != 1)
		start = -1;
	free(text);
	return start;
}

int sk_process_alive(int64_t pid, int64_t start)
{
	int64_t now;

	if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
		return 0;
	now = start >= 0 ? sk_process_start((pid_t)pid) : -1;
	return now < 0 || now == start;
}

