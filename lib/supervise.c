/* supervise.c - stream-run's decisions (restart, delay, give up, stall),
 * the tail of a child's stderr, and the process facts a supervisor needs. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "supervise.h"

extern char **environ;

/* --- how an attempt ended --- */

sk_exit sk_exit_from_wait(int status)
{
	sk_exit x = { .code = -1 };

	if (WIFEXITED(status))
		x.code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		x.signal = WTERMSIG(status);
	return x;
}

sk_exit sk_exit_from_exec(int errnum)
{
	sk_exit x = { .code = errnum == ENOENT ? 127 : 126, .exec_errno = errnum };

	return x;
}

int sk_exit_status(const sk_exit *x)
{
	return x->signal ? 128 + x->signal : x->code;
}

int sk_exit_failed(const sk_exit *x)
{
	return x->stalled || x->signal != 0 || x->code != 0;
}

int sk_exit_is_failure(const sk_exit *x)
{
	return sk_exit_failed(x) && !x->requested;
}

void sk_exit_describe(const sk_exit *x, char *buf, size_t size)
{
	const char *name = sk_signal_name(x->signal);
	char how[128];

	if (x->exec_errno) {
		snprintf(buf, size, "could not be executed: %s",
		         x->exec_errno == ENOENT ? "command not found" : strerror(x->exec_errno));
		return;
	}
	if (x->signal && name)
		snprintf(how, sizeof how, "killed by signal %d (%s)", x->signal, name);
	else if (x->signal)
		snprintf(how, sizeof how, "killed by signal %d", x->signal);
	else
		snprintf(how, sizeof how, "exited with status %d", x->code);
	if (x->stalled)
		snprintf(buf, size, "stalled, then %s", how);
	else
		snprintf(buf, size, "%s", how);
}

/* --- signals by name --- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "BUS", SIGBUS }, { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CHLD", SIGCHLD },
	{ "CONT", SIGCONT }, { "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "SYS", SIGSYS },
};

#define NSIGNALS (sizeof signals / sizeof signals[0])
#define MAX_SIGNAL 64

int sk_signal_parse(const char *s, int *sig, sk_err *e)
{
	const char *name = s;
	uint64_t n;
	size_t i;

	if (sk_parse_count(s, &n, NULL) == 0) {
		if (n < 1 || n > MAX_SIGNAL)
			goto bad;
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < NSIGNALS; i++)
		if (strcasecmp(name, signals[i].name) == 0) {
			*sig = signals[i].sig;
			return 0;
		}
bad:
	return sk_err_set(e, EX_USAGE, "invalid signal '%s' (expected a name such as TERM, or 1-%d)",
	                  s, MAX_SIGNAL);
}

const char *sk_signal_name(int sig)
{
	size_t i;

	for (i = 0; i < NSIGNALS; i++)
		if (signals[i].sig == sig)
			return signals[i].name;
	return NULL;
}

/* --- the restart policy --- */

void sk_policy_init(sk_policy *p)
{
	memset(p, 0, sizeof *p);
	p->restart = SK_RESTART_ON_FAILURE;
	p->delay_ms = 1000;
	p->delay_factor = 2;
	p->delay_max_ms = 60000;
	p->healthy_after_ms = 60000;
}

int sk_policy_parse_restart(sk_policy *p, const char *s, sk_err *e)
{
	if (strcmp(s, "no") == 0)
		p->restart = SK_RESTART_NO;
	else if (strcmp(s, "on-failure") == 0)
		p->restart = SK_RESTART_ON_FAILURE;
	else if (strcmp(s, "always") == 0)
		p->restart = SK_RESTART_ALWAYS;
	else
		return sk_err_set(e, EX_USAGE, "invalid restart policy '%s' (expected no, on-failure or always)",
		                  s);
	return 0;
}

/* One item of a --restart-on list: an exit code or a signal. */
static int set_rule(sk_policy *p, const char *item, signed char rule, sk_err *e)
{
	signed char *slot;
	uint64_t code;
	int sig;

	if (sk_parse_count(item, &code, NULL) == 0) {
		if (code > 255)
			return sk_err_set(e, EX_USAGE, "invalid exit code '%s' (expected 0-255)", item);
		slot = &p->code_rule[code];
	} else if (isdigit((unsigned char)*item)) {
		return sk_err_set(e, EX_USAGE, "invalid exit code '%s' (expected 0-255)", item);
	} else {
		if (sk_signal_parse(item, &sig, e) < 0)
			return -1;
		slot = &p->signal_rule[sig];
	}
	if (*slot == -rule)
		return sk_err_set(e, EX_USAGE, "'%s' is in both --restart-on and --no-restart-on", item);
	*slot = rule;
	return 0;
}

int sk_policy_parse_codes(sk_policy *p, const char *list, int restart, sk_err *e)
{
	char *copy = strdup(list), *item, *save = NULL;
	int rc = 0;

	if (copy == NULL)
		return sk_err_oom(e);
	if (*list == '\0')
		rc = sk_err_set(e, EX_USAGE, "an empty list of exit codes");
	for (item = strtok_r(copy, ",", &save); rc == 0 && item; item = strtok_r(NULL, ",", &save))
		rc = set_rule(p, item, restart ? 1 : -1, e);
	free(copy);
	return rc;
}

/* Exit codes that a restart cannot fix: usage, bad data, configuration
 * (sysexits), and the shell's cannot-execute and not-found. */
static int permanent_code(int code)
{
	return code == EX_USAGE || code == EX_DATAERR || code == EX_CONFIG || code == 126 || code == 127;
}

int sk_policy_restarts(const sk_policy *p, const sk_exit *x)
{
	int rule = 0;

	if (x->signal > 0 && x->signal <= MAX_SIGNAL)
		rule = p->signal_rule[x->signal];
	else if (!x->signal && x->code >= 0 && x->code <= 255)
		rule = p->code_rule[x->code];
	if (rule)
		return rule > 0;
	switch (p->restart) {
	case SK_RESTART_NO:
		return 0;
	case SK_RESTART_ALWAYS:
		return 1;
	case SK_RESTART_ON_FAILURE:
		break;
	}
	if (x->stalled || x->requested || x->signal)
		return 1;
	return x->code != 0 && !x->exec_errno && !permanent_code(x->code);
}

/* --- restarts: delays and giving up --- */

int sk_restarts_init(sk_restarts *r, const sk_policy *p, sk_err *e)
{
	memset(r, 0, sizeof *r);
	r->p = p;
	r->next_delay_ms = p->delay_ms;
	if (p->max_failures && p->window_ms > 0) {
		r->ends = calloc(p->max_failures, sizeof *r->ends);
		if (r->ends == NULL)
			return sk_err_oom(e);
	}
	return 0;
}

void sk_restarts_free(sk_restarts *r)
{
	free(r->ends);
	r->ends = NULL;
}

static int64_t grow_delay(const sk_policy *p, int64_t d)
{
	double next = (double)d * p->delay_factor + (double)p->delay_step_ms;

	return next >= (double)p->delay_max_ms ? p->delay_max_ms : (int64_t)next;
}

/* Remember a failure that ended at t; the number in the window ending at t. */
static unsigned failures_in_window(sk_restarts *r, int64_t t)
{
	unsigned i, n = 0, cap = r->p->max_failures;

	r->ends[r->head] = t;
	r->head = (r->head + 1) % cap;
	if (r->nends < cap)
		r->nends++;
	for (i = 0; i < r->nends; i++)
		if (t - r->ends[i] < r->p->window_ms)
			n++;
	return n;
}

sk_decision sk_restarts_decide(sk_restarts *r, const sk_exit *x, int64_t started_ms,
                               int64_t ended_ms)
{
	const sk_policy *p = r->p;
	int failed = sk_exit_is_failure(x);
	sk_decision d = { .verdict = SK_VERDICT_EXIT };

	if (!failed || (p->healthy_after_ms > 0 && ended_ms - started_ms >= p->healthy_after_ms)) {
		r->next_delay_ms = p->delay_ms;
		r->in_a_row = 0;
	}
	if (failed) {
		r->in_a_row++;
		d.failures = r->ends ? failures_in_window(r, ended_ms) : r->in_a_row;
	}
	if (!sk_policy_restarts(p, x))
		return d;
	if (failed && p->max_failures && d.failures >= p->max_failures) {
		d.verdict = SK_VERDICT_GIVE_UP;
		return d;
	}
	d.verdict = SK_VERDICT_RESTART;
	if (x->requested) {
		d.delay_ms = 0;
	} else if (failed) {
		d.delay_ms = r->next_delay_ms;
		r->next_delay_ms = grow_delay(p, r->next_delay_ms);
	} else {
		d.delay_ms = p->delay_ms;
	}
	return d;
}

/* --- the stall watchdog --- */

void sk_stall_reset(sk_stall *s)
{
	s->checkpoint_ms = -1;
	s->pending_since = -1;
}

int sk_stall_check(sk_stall *s, int64_t now, int64_t started_ms, int64_t read_ms,
                   int64_t checkpoint_ms)
{
	int pending = read_ms > checkpoint_ms && read_ms >= started_ms;

	if (!pending || checkpoint_ms != s->checkpoint_ms) {
		s->checkpoint_ms = checkpoint_ms;
		s->pending_since = pending ? now : -1;
		return 0;
	}
	if (s->pending_since < 0)
		s->pending_since = now;
	return now - s->pending_since >= s->timeout_ms;
}

/* --- the tail of a child's stderr --- */

static int tail_push(sk_tail *t)
{
	char *line;

	if (t->cut && sk_buf_adds(&t->partial, "...") < 0)
		return -1;
	line = strdup(t->partial.p ? t->partial.p : "");
	if (line == NULL)
		return -1;
	if (t->n == SK_TAIL_LINES) {
		free(t->lines[t->head]);
		t->lines[t->head] = line;
		t->head = (t->head + 1) % SK_TAIL_LINES;
	} else {
		t->lines[(t->head + t->n++) % SK_TAIL_LINES] = line;
	}
	sk_buf_reset(&t->partial);
	t->cut = 0;
	return 0;
}

int sk_tail_feed(sk_tail *t, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	size_t room, take;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		take = (size_t)((nl ? nl : end) - p);
		room = t->partial.len < SK_TAIL_LINE_MAX ? SK_TAIL_LINE_MAX - t->partial.len : 0;
		if (take > room)
			t->cut = 1;
		if (sk_buf_add(&t->partial, p, take < room ? take : room) < 0 || (nl && tail_push(t) < 0)) {
			t->nomem = 1;
			return -1;
		}
		p += take + (nl != NULL);
	}
	return 0;
}

char *sk_tail_text(const sk_tail *t, int *nomem)
{
	sk_buf b = { 0 };
	unsigned i;

	*nomem = t->nomem;
	for (i = 0; i < t->n; i++)
		if ((i && sk_buf_addc(&b, '\n') < 0) ||
		    sk_buf_adds(&b, t->lines[(t->head + i) % SK_TAIL_LINES]) < 0)
			goto oom;
	if (t->partial.len && ((t->n && sk_buf_addc(&b, '\n') < 0) ||
	                       sk_buf_add(&b, t->partial.p, t->partial.len) < 0 ||
	                       (t->cut && sk_buf_adds(&b, "...") < 0)))
		goto oom;
	return b.p;
oom:
	sk_buf_free(&b);
	*nomem = 1;
	return NULL;
}

void sk_tail_reset(sk_tail *t)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		free(t->lines[(t->head + i) % SK_TAIL_LINES]);
	sk_buf_free(&t->partial);
	memset(t, 0, sizeof *t);
}

size_t sk_complete_lines(const char *p, size_t n)
{
	while (n > 0 && p[n - 1] != '\n')
		n--;
	return n;
}

/* --- durations for people --- */

void sk_duration_format(int64_t ms, char *buf, size_t size)
{
	long long s = ms / 1000, m = s / 60, h = m / 60, d = h / 24;

	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(buf, size, "%lldms", (long long)ms);
	else if (ms < 10000 && ms % 1000)
		snprintf(buf, size, "%.1fs", (double)ms / 1000);
	else if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (m < 60)
		snprintf(buf, size, s % 60 ? "%lldm%llds" : "%lldm", m, s % 60);
	else if (h < 24)
		snprintf(buf, size, m % 60 ? "%lldh%lldm" : "%lldh", h, m % 60);
	else
		snprintf(buf, size, h % 24 ? "%lldd%lldh" : "%lldd", d, h % 24);
}

/* --- processes --- */

int sk_spawn(char *const argv[], const sigset_t *mask, const sigset_t *defaults, int err_fd,
             pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t a;
	int rc;

	if ((rc = posix_spawnattr_init(&a)) != 0) {
		errno = rc;
		return -1;
	}
	if ((rc = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&a);
		errno = rc;
		return -1;
	}
	rc = posix_spawnattr_setflags(&a, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
	                              POSIX_SPAWN_SETSIGDEF);
	if (rc == 0)
		rc = posix_spawnattr_setpgroup(&a, 0);
	if (rc == 0)
		rc = posix_spawnattr_setsigmask(&a, mask);
	if (rc == 0)
		rc = posix_spawnattr_setsigdefault(&a, defaults);
	if (rc == 0 && err_fd >= 0 && err_fd != STDERR_FILENO)
		rc = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
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

/* --- the status of a supervised name --- */

static void ago(int64_t then, int64_t now, char *buf, size_t size)
{
	char d[32];

	if (then <= 0) {
		snprintf(buf, size, "never");
		return;
	}
	sk_duration_format(now - then, d, sizeof d);
	snprintf(buf, size, "%s ago", d);
}

/* The last line of a stderr tail. */
static const char *last_line(const char *tail)
{
	const char *nl = tail ? strrchr(tail, '\n') : NULL;

	return nl ? nl + 1 : tail;
}

/* final: the supervisor ended as it should; alive: it still runs. */
static int format_text(sk_buf *b, const sk_run_info *r, int final, int alive, int64_t now)
{
	const sk_supervisor *s = &r->s;
	const sk_attempt *a = &r->last_error;
	char t1[64], t2[64];
	int rc;

	rc = sk_buf_printf(b, "name:        %s\ndesired:     %s\nstate:       %s%s\n", s->name, s->desired,
	                   s->state, final || alive ? "" : " (its supervisor is gone)");
	if (alive && s->pid > 0)
		rc |= sk_buf_printf(b, "pid:         %lld\n", (long long)s->pid);
	else
		rc |= sk_buf_adds(b, "pid:         -\n");
	ago(s->started_ms, now, t1, sizeof t1);
	rc |= sk_buf_printf(b, "supervisor:  stream-run pid %lld (%s), run %s, started %s\n",
	                    (long long)s->supervisor_pid, alive ? "running" : final ? "exited" : "gone",
	                    s->run_id, t1);
	rc |= sk_buf_printf(b, "attempts:    %lld in this run, %lld failed; %lld recorded\n",
	                    (long long)s->attempt, (long long)r->failures, (long long)r->recorded);
	if (s->last_status >= 0)
		rc |= sk_buf_printf(b, "last status: %lld\n", (long long)s->last_status);
	if (s->message)
		rc |= sk_buf_printf(b, "message:     %s\n", s->message);
	if (a->id) {
		ago(a->ended_ms, now, t1, sizeof t1);
		rc |= sk_buf_printf(b, "last error:  attempt %lld, %s: %s", (long long)a->attempt, t1,
		                    a->error ? a->error : "");
		if (a->stderr_tail && *last_line(a->stderr_tail))
			rc |= sk_buf_printf(b, ": %s", last_line(a->stderr_tail));
		rc |= sk_buf_addc(b, '\n');
	} else {
		rc |= sk_buf_adds(b, "last error:  none\n");
	}
	ago(r->read_ms, now, t1, sizeof t1);
	ago(r->checkpoint_ms, now, t2, sizeof t2);
	rc |= sk_buf_printf(b, "last read:   %s\ncheckpoint:  %s\n", t1, t2);
	return rc;
}

static int json_str(sk_buf *b, const char *key, const char *v)
{
	if (sk_buf_printf(b, ",\"%s\":", key) < 0)
		return -1;
	return v ? sk_json_add_string(b, v, strlen(v)) : sk_buf_adds(b, "null");
}

static int json_int(sk_buf *b, const char *key, int64_t v, int64_t null_below)
{
	if (v < null_below)
		return sk_buf_printf(b, ",\"%s\":null", key);
	return sk_buf_printf(b, ",\"%s\":%lld", key, (long long)v);
}

static int format_json(sk_buf *b, const sk_run_info *r, int alive)
{
	const sk_supervisor *s = &r->s;
	const sk_attempt *a = &r->last_error;
	int rc;

	rc = sk_buf_adds(b, "{\"name\":") | sk_json_add_string(b, s->name, strlen(s->name));
	rc |= json_str(b, "desired", s->desired) | json_str(b, "state", s->state);
	rc |= json_int(b, "pid", alive ? s->pid : -1, 1) | json_int(b, "attempt", s->attempt, 0);
	rc |= json_int(b, "failures", r->failures, 0) | json_int(b, "recorded", r->recorded, 0);
	rc |= json_int(b, "last_status", s->last_status, 0) | json_str(b, "message", s->message);
	rc |= json_str(b, "run_id", s->run_id) | json_int(b, "supervisor_pid", s->supervisor_pid, 1);
	rc |= sk_buf_printf(b, ",\"supervisor_alive\":%s", alive ? "true" : "false");
	rc |= json_int(b, "started_ms", s->started_ms, 1) | json_int(b, "updated_ms", r->updated_ms, 1);
	rc |= json_int(b, "read_ms", r->read_ms, 1) | json_int(b, "checkpoint_ms", r->checkpoint_ms, 1);
	if (a->id) {
		rc |= sk_buf_printf(b, ",\"last_error\":{\"attempt\":%lld", (long long)a->attempt);
		rc |= json_int(b, "ended_ms", a->ended_ms, 1) | json_str(b, "error", a->error);
		rc |= json_str(b, "stderr_tail", a->stderr_tail) | sk_buf_addc(b, '}');
	} else {
		rc |= sk_buf_adds(b, ",\"last_error\":null");
	}
	return rc | sk_buf_addc(b, '}');
}

int sk_run_status_format(sk_buf *b, const sk_run_info *r, int64_t now_ms, int json)
{
	static const char *const final_states[] = { "stopped", "exited", "gave-up" };
	int final = 0, alive;
	size_t i;

	for (i = 0; i < sizeof final_states / sizeof final_states[0]; i++)
		if (strcmp(r->s.state, final_states[i]) == 0)
			final = 1;
	alive = !final && sk_process_alive(r->s.supervisor_pid, r->s.supervisor_start);
	return (json ? format_json(b, r, alive) : format_text(b, r, final, alive, now_ms)) ? -1 : 0;
}

int sk_attempt_format(sk_buf *b, const sk_attempt *a, int64_t now_ms, int json)
{
	char t1[64], t2[32];
	int rc;

	if (json) {
		rc = sk_buf_printf(b, "{\"attempt\":%lld", (long long)a->attempt);
		rc |= json_str(b, "run_id", a->run_id) | json_int(b, "pid", a->pid, 1);
		rc |= json_int(b, "started_ms", a->started_ms, 1) | json_int(b, "ended_ms", a->ended_ms, 1);
		rc |= json_int(b, "exit_code", a->exit_code, 0) | json_int(b, "signal", a->signal, 1);
		rc |= json_str(b, "error", a->error) | json_str(b, "stderr_tail", a->stderr_tail);
		return sk_buf_addc(b, '}') | rc ? -1 : 0;
	}
	ago(a->started_ms, now_ms, t1, sizeof t1);
	rc = sk_buf_printf(b, "  attempt %lld  pid %lld  started %s", (long long)a->attempt,
	                   (long long)a->pid, t1);
	if (a->ended_ms <= 0)
		return rc | sk_buf_adds(b, "  running") ? -1 : 0;
	sk_duration_format(a->ended_ms - a->started_ms, t2, sizeof t2);
	rc |= sk_buf_printf(b, "  ran %s  ", t2);
	if (a->error)
		rc |= sk_buf_adds(b, a->error);
	else if (a->signal > 0)
		rc |= sk_buf_adds(b, "ended by the SIGHUP passed on to it; restarted");
	else
		rc |= sk_buf_printf(b, "exited with status %lld", (long long)(a->exit_code > 0 ? a->exit_code : 0));
	return rc ? -1 : 0;
}
