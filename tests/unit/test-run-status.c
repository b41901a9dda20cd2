/* test-run-status.c - what --status and the attempts' history say
 * (lib/run_status.c): durations for people, the status of a name as text
 * and JSON, and the line of each attempt. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "process.h"
#include "run_status.h"

static void test_durations(void)
{
	static const struct { int64_t ms; const char *want; } cases[] = {
		{ 0, "0ms" }, { 250, "250ms" }, { 1500, "1.5s" }, { 2000, "2s" }, { 42000, "42s" },
		{ 60000, "1m" }, { 192000, "3m12s" }, { 7500000, "2h5m" }, { 3600000, "1h" },
		{ 273600000, "3d4h" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sk_duration_format(cases[i].ms, buf, sizeof buf);
		is_str(buf, cases[i].want, "%lld ms is %s", (long long)cases[i].ms, cases[i].want);
	}
}

/* A name whose supervisor exited, after a failure with a stderr tail. */
static sk_run_info exited_run(void)
{
	sk_run_info r = {
		.s = { .name = "job", .desired = "down", .state = "exited", .run_id = "r1",
		       .supervisor_pid = 100, .supervisor_start = -1, .pid = 101, .attempt = 3,
		       .last_status = 0, .message = "stopped by SIGTERM", .started_ms = 1000 },
		.updated_ms = 60000, .failures = 1, .recorded = 4,
		.last_error = { .id = 7, .run_id = "r1", .attempt = 2, .pid = 99, .started_ms = 20000,
		                .ended_ms = 31000, .exit_code = 75, .signal = -1,
		                .error = "exited with status 75", .stderr_tail = "oops\nbroker down" },
		.read_ms = 51000,
	};

	return r;
}

static void test_status_text(void)
{
	sk_run_info r = exited_run();
	sk_buf b = { 0 };

	is_int(sk_run_status_format(&b, &r, 61000, 0), 0, "the status of a name as text");
	is_str(b.p, "name:        job\n"
	            "desired:     down\n"
	            "state:       exited\n"
	            "pid:         -\n"
	            "supervisor:  stream-run pid 100 (exited), run r1, started 1m ago\n"
	            "attempts:    3 in this run, 1 failed; 4 recorded\n"
	            "last status: 0\n"
	            "message:     stopped by SIGTERM\n"
	            "last error:  attempt 2, 30s ago: exited with status 75: broker down\n"
	            "last read:   10s ago\n"
	            "checkpoint:  never\n",
	       "a supervisor that exited: no pid, the last error with the last line of its stderr");

	r.s.state = "running";
	r.s.supervisor_pid = 0;
	r.s.last_status = -1;
	r.s.message = NULL;
	r.last_error.id = 0;
	r.checkpoint_ms = 41000;
	b.len = 0;
	sk_run_status_format(&b, &r, 61000, 0);
	is_str(b.p, "name:        job\n"
	            "desired:     down\n"
	            "state:       running (its supervisor is gone)\n"
	            "pid:         -\n"
	            "supervisor:  stream-run pid 0 (gone), run r1, started 1m ago\n"
	            "attempts:    3 in this run, 1 failed; 4 recorded\n"
	            "last error:  none\n"
	            "last read:   10s ago\n"
	            "checkpoint:  20s ago\n",
	       "a running state whose supervisor is gone says so, without a status or message");

	r.s.supervisor_pid = getpid();
	r.s.supervisor_start = sk_process_start(getpid());
	b.len = 0;
	sk_run_status_format(&b, &r, 61000, 0);
	ok(b.p && strstr(b.p, "state:       running\npid:         101\n") &&
	   strstr(b.p, "(running), run r1"), "a live supervisor: its child's pid");
	sk_buf_free(&b);
}

/* The member key of the JSON object text as JSON text; "(none)" when
 * missing, "(invalid)" when text is not an object (static). */
static const char *member(const char *text, const char *key)
{
	static char buf[256];
	json_object *o = json_tokener_parse(text), *v;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		snprintf(buf, sizeof buf, "(invalid)");
	else if (!json_object_object_get_ex(o, key, &v))
		snprintf(buf, sizeof buf, "(none)");
	else
		snprintf(buf, sizeof buf, "%s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return buf;
}

static void test_status_json(void)
{
	sk_run_info r = exited_run();
	sk_buf b = { 0 };

	is_int(sk_run_status_format(&b, &r, 61000, 1), 0, "the status of a name as JSON");
	ok(b.p && b.len && b.p[b.len - 1] == '}', "one object, no newline");
	is_str(member(b.p, "name"), "\"job\"", "its name");
	is_str(member(b.p, "state"), "\"exited\"", "its state");
	is_str(member(b.p, "pid"), "null", "no pid when the supervisor is not running");
	is_str(member(b.p, "supervisor_alive"), "false", "the supervisor is not alive");
	is_str(member(b.p, "attempt"), "3", "the attempt");
	is_str(member(b.p, "failures"), "1", "the failures of the run");
	is_str(member(b.p, "message"), "\"stopped by SIGTERM\"", "the message");
	is_str(member(b.p, "checkpoint_ms"), "null", "no checkpoint: null");
	is_str(member(b.p, "read_ms"), "51000", "the time of the last read");
	is_str(member(b.p, "last_error"), "{\"attempt\":2,\"ended_ms\":31000,\"error\":\"exited with status 75\","
	       "\"stderr_tail\":\"oops\\nbroker down\"}", "the last error with its whole stderr tail");
	r.last_error.id = 0;
	r.s.message = NULL;
	b.len = 0;
	sk_run_status_format(&b, &r, 61000, 1);
	is_str(member(b.p, "last_error"), "null", "no error: null");
	is_str(member(b.p, "message"), "null", "no message: null");
	sk_buf_free(&b);
}

/* The lines of the attempts' history: what each ended by. */
static void test_attempt_lines(void)
{
	sk_attempt a = { .id = 1, .run_id = "r", .attempt = 2, .pid = 42, .started_ms = 1000,
	                 .ended_ms = 2500, .exit_code = -1, .signal = SIGHUP };
	sk_buf b = { 0 };

	is_int(sk_attempt_format(&b, &a, 61000, 0), 0, "an attempt ended by the SIGHUP passed on");
	is_str(b.p, "  attempt 2  pid 42  started 1m ago  ran 1.5s  ended by the SIGHUP passed on to it;"
	       " restarted", "says so, not that it failed");
	b.len = 0;
	a.error = "killed by signal 1 (HUP)";
	sk_attempt_format(&b, &a, 61000, 0);
	is_str(b.p, "  attempt 2  pid 42  started 1m ago  ran 1.5s  killed by signal 1 (HUP)",
	       "a failure is its error");
	b.len = 0;
	a.error = NULL;
	a.signal = SIGTERM;
	sk_attempt_format(&b, &a, 61000, 0);
	is_str(b.p, "  attempt 2  pid 42  started 1m ago  ran 1.5s  stopped by signal 15 (TERM), as asked",
	       "one a stop's signal ended, that it was asked to stop");
	b.len = 0;
	a.signal = -1;
	a.exit_code = 0;
	sk_attempt_format(&b, &a, 61000, 0);
	is_str(b.p, "  attempt 2  pid 42  started 1m ago  ran 1.5s  exited with status 0", "a success its status");
	sk_buf_free(&b);
}

int main(void)
{
	test_durations();
	test_status_text();
	test_status_json();
	test_attempt_lines();
	return tap_done();
}
