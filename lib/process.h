/* process.h - the few process facts a supervisor needs: start a command
 * in a process group of its own, list its own children, tell whether a
 * pid is still the process it was. */
#ifndef SK_PROCESS_H
#define SK_PROCESS_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* posix_spawnp argv in a new process group, with the signal mask mask and
 * the default action for the signals in defaults, stderr to err_fd (-1:
 * inherited). 0 and *pid; -1 with errno when the command cannot be run. */
int sk_spawn(char *const argv[], const sigset_t *mask, const sigset_t *defaults, int err_fd,
             pid_t *pid);
/* The same with fds[0..2] as the command's stdin, stdout and stderr (-1:
 * inherited), in a process group of its own only when new_group is set. */
int sk_spawn_io(char *const argv[], const sigset_t *mask, const sigset_t *defaults, const int fds[3],
                int new_group, pid_t *pid);
/* The children of this process (its only thread), from /proc; -1 when
 * Linux does not say. *pids is malloc'd. */
int sk_own_children(pid_t **pids, size_t *n);
/* The start time of pid (clock ticks since boot, /proc/PID/stat), to tell
 * the same process from a later one with its pid; -1 when unknown. */
int64_t sk_process_start(pid_t pid);
/* Whether pid is alive and, when start is known (>= 0), started then. */
int sk_process_alive(int64_t pid, int64_t start);

#endif
