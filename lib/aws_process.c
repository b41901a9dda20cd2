/* aws_process.c - a profile's credential_process: the command line run
 * by /bin/sh -c, as the AWS CLI runs it (it is a command line the user
 * wrote in a config file, not an argv), its stdout read as
 * {"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
 * "Expiration"}. Its stderr stays the user's. What it prints is never
 * repeated in a message: a broken process may print its secret. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws_credentials_impl.h"
#include "process.h"

/* Far more than any credentials document. */
#define OUTPUT_MAX (64u << 10)

/* The command's stdout until it closes it, at most OUTPUT_MAX bytes. */
static int read_output(int fd, sk_buf *b, const char *what, sk_err *e)
{
	ssize_t r;

	if (sk_buf_reserve(b, OUTPUT_MAX + 1) < 0)
		return sk_err_oom(e);
	for (;;) {
		r = read(fd, b->p + b->len, OUTPUT_MAX + 1 - b->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		b->len += (size_t)r;
		if (b->len > OUTPUT_MAX)
			return sk_err_set(e, EX_DATAERR, "%s: printed more than %u bytes", what, OUTPUT_MAX);
	}
	b->p[b->len] = '\0';
	return r < 0 ? sk_err_set(e, EX_IOERR, "%s: reading its output: %s", what, strerror(errno)) : 0;
}

static int wait_exit(pid_t pid, const char *what, sk_err *e)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return sk_err_set(e, EX_OSERR, "%s: waitpid: %s", what, strerror(errno));
	if (WIFSIGNALED(status))
		return sk_err_set(e, EX_UNAVAILABLE, "%s: killed by signal %d", what, WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return sk_err_set(e, EX_UNAVAILABLE, "%s: exited with status %d", what, WEXITSTATUS(status));
	return 0;
}

/* The command started with its stdout on *out_fd; stdin /dev/null, a
 * clean signal mask, and SIGPIPE, which streamkit ignores, back to its
 * default. */
static int start(const char *command, pid_t *pid, int *out_fd, const char *what, sk_err *e)
{
	char *argv[] = { "/bin/sh", "-c", (char *)command, NULL };
	int pipefd[2], fds[3] = { -1, -1, -1 }, saved;
	sigset_t none, defaults;

	if (pipe(pipefd) < 0)
		return sk_err_set(e, EX_OSERR, "%s: pipe: %s", what, strerror(errno));
	fcntl(pipefd[0], F_SETFD, FD_CLOEXEC);
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	if ((fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		saved = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return sk_err_set(e, EX_OSERR, "%s: /dev/null: %s", what, strerror(saved));
	}
	fds[1] = pipefd[1];
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	saved = sk_spawn_io(argv, &none, &defaults, fds, 0, pid) < 0 ? errno : 0;
	close(fds[0]);
	close(pipefd[1]);
	if (saved) {
		close(pipefd[0]);
		return sk_err_set(e, EX_OSERR, "%s: /bin/sh: %s", what, strerror(saved));
	}
	*out_fd = pipefd[0];
	return 0;
}

int sk_aws_from_process(const char *command, const char *profile, sk_aws_creds *c, sk_err *e)
{
	char what[160];
	sk_buf out = {0};
	sk_err exit_err;
	pid_t pid;
	int fd = -1, rc;

	snprintf(what, sizeof what, "credential_process of profile %s", profile);
	if (start(command, &pid, &fd, what, e) < 0)
		return -1;
	rc = read_output(fd, &out, what, e);
	close(fd);
	/* Reaped even when its output was refused; a failed process is said
	 * rather than the output it left. */
	if (wait_exit(pid, what, &exit_err) < 0 && rc == 0) {
		rc = -1;
		if (e)
			*e = exit_err;
	}
	if (rc == 0)
		rc = sk_aws_creds_from_json(out.p, out.len, "SessionToken", what, c, e);
	sk_aws_buf_free_secret(&out);
	if (rc == 0)
		snprintf(c->source, sizeof c->source, "credential_process (profile %s)", profile);
	return rc;
}
