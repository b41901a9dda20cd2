/* test-kafka-lag.c - what `stream-checkpoint lag` says of a Kafka source
 * (lib/kafka_lag.c) without a broker: the lag arithmetic, the endpoints
 * stream-read records in the state store, the rows listed when no end can
 * be asked, and the bounded failure when no broker answers. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka_lag.h"
#include "state.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/test-kafka-lag-XXXXXX";

static void lag_count(void)
{
	is_int(sk_kafka_lag_count(9, 0, 10), 0, "caught up: the last message read is high - 1");
	is_int(sk_kafka_lag_count(4, 0, 10), 5, "five messages after offset 4 in [0, 10)");
	is_int(sk_kafka_lag_count(-1, 0, 10), 10, "no position: the whole log");
	is_int(sk_kafka_lag_count(-1, 3, 10), 7, "no position: from the start of the log");
	is_int(sk_kafka_lag_count(-1, 5, 5), 0, "no position, empty log: nothing");
	is_int(sk_kafka_lag_count(1, 6, 10), 4, "a position the log no longer holds: from its start");
	is_int(sk_kafka_lag_count(20, 0, 10), -11, "a position beyond the end: negative");
}

/* The rows as "PARTITION POSITION END LAG" lines ("-" for unknown). */
struct rows {
	char text[1024];
	int stop_after;          /* stop the listing after this many rows (0: never) */
	int n;
};

static int add_row(void *arg, const sk_kafka_lag_row *r)
{
	struct rows *w = arg;
	size_t len = strlen(w->text);
	char end[32] = "-", lag[32] = "-";

	if (r->has_end)
		snprintf(end, sizeof end, "%lld", (long long)r->end);
	if (r->has_lag)
		snprintf(lag, sizeof lag, "%lld", (long long)r->lag);
	snprintf(w->text + len, sizeof w->text - len, "%s %s %s %s\n", r->partition,
	         r->position ? r->position : "-", end, lag);
	w->n++;
	return w->stop_after && w->n >= w->stop_after ? 7 : 0;
}

static sk_state *open_store(void)
{
	char path[sizeof dir + 16];
	sk_state *st = NULL;
	sk_err e = { 0 };

	snprintf(path, sizeof path, "%s/state.db", dir);
	if (sk_state_open(path, &st, &e) < 0) {
		printf("Bail out! %s\n", e.msg);
		exit(1);
	}
	return st;
}

static void recorded_endpoints(sk_state *st)
{
	char *ep = NULL;
	sk_err e = { 0 };

	is_int(sk_state_get_endpoint(st, "r", "kafka:t", &ep, &e), 0, "no endpoint recorded at first");
	ok(sk_state_set_endpoint(st, "r", "kafka:t", "kafka://h:9092/t", &e) == 0, "record one");
	is_int(sk_state_get_endpoint(st, "r", "kafka:t", &ep, &e), 1, "and find it");
	is_str(ep, "kafka://h:9092/t", "as it was written");
	free(ep);
	ok(sk_state_set_endpoint(st, "r", "kafka:t", "prod", &e) == 0, "record another");
	sk_state_get_endpoint(st, "r", "kafka:t", &ep, &e);
	is_str(ep, "prod", "the last one recorded wins");
	free(ep);
	/* Names and sources are kept apart whatever they contain. */
	sk_state_set_endpoint(st, "r:kafka", "t", "one", &e);
	sk_state_set_endpoint(st, "r", "kafka:t", "two", &e);
	sk_state_get_endpoint(st, "r:kafka", "t", &ep, &e);
	is_str(ep, "one", "(r:kafka, t) and (r, kafka:t) are two records");
	free(ep);
	is_int(sk_state_get_endpoint(st, "s", "kafka:t", &ep, &e), 0, "another name has none");

	/* A group reading a topic pattern records the pattern's endpoint. */
	sk_state_set_endpoint(st, "g", "kafka:^ev.*", "kafka://h:9092/^ev.*", &e);
	sk_state_set_endpoint(st, "g", "kafka:other", "kafka://o:9092/other", &e);
	sk_state_set_endpoint(st, "gé", "kafka:^e.*", "kafka://x:9092/^e.*", &e);
	is_int(sk_kafka_lag_endpoint(st, "g", "kafka:events", &ep, &e), 1, "a topic a pattern matches");
	is_str(ep, "kafka://h:9092/^ev.*", "has the pattern's endpoint");
	free(ep);
	is_int(sk_kafka_lag_endpoint(st, "g", "kafka:other", &ep, &e), 1, "a topic of its own");
	is_str(ep, "kafka://o:9092/other", "has its own");
	free(ep);
	is_int(sk_kafka_lag_endpoint(st, "g", "kafka:logs", &ep, &e), 0, "a topic no pattern of the name matches: none");
	is_int(sk_kafka_lag_endpoint(st, "gé", "kafka:logs", &ep, &e), 0, "nor of another name");
	is_int(sk_kafka_lag_endpoint(st, "gé", "kafka:ex", &ep, &e), 1, "a name that is not ASCII");
	free(ep);
}

static void rows_without_end(sk_state *st)
{
	sk_kafka_lag_opts o = { .timeout_ms = 1000 };
	struct rows w = { .text = "" };
	sk_err e = { 0 };

	sk_state_set_position(st, "r", "kafka:t", "10", "5", &e);
	sk_state_set_position(st, "r", "kafka:t", "2", "41", &e);
	sk_state_set_position(st, "r", "kafka:t", "x", "7", &e);
	sk_state_set_position(st, "r", "kafka:u", "0", "1", &e);
	sk_state_set_position(st, "q", "kafka:t", "3", "1", &e);
	is_int(sk_kafka_lag(st, "r", "kafka:t", NULL, &o, add_row, &w, &e), 0, "no endpoint: listed");
	is_str(w.text, "2 41 - -\n10 5 - -\nx 7 - -\n",
	       "the stored partitions of that name and source, numbers in order first");

	w = (struct rows){ .text = "", .stop_after = 2 };
	is_int(sk_kafka_lag(st, "r", "kafka:t", NULL, &o, add_row, &w, &e), 7, "a callback stops the listing");
	is_int(w.n, 2, "after its row");
}

static void unreachable(sk_state *st)
{
	sk_kafka_lag_opts o = { .timeout_ms = 500 };
	struct rows w = { .text = "" };
	sk_err e = { 0 };
	int64_t t0;
	FILE *f;
	char ini[sizeof dir + 32];

	/* Port 1 on loopback: nothing listens, every connection is refused. */
	t0 = sk_now_ms();
	is_int(sk_kafka_lag(st, "r", "kafka:t", "kafka://127.0.0.1:1/t", &o, add_row, &w, &e), -1,
	       "brokers that refuse: -1");
	ok(sk_now_ms() - t0 < 5000, "within a bounded time (%lld ms)", (long long)(sk_now_ms() - t0));
	is_int(e.code, EX_UNAVAILABLE, "EX_UNAVAILABLE");
	ok(strncmp(e.msg, "kafka://127.0.0.1:1/t: brokers not reachable within 500 ms", 58) == 0,
	   "naming the endpoint and the bound: %s", e.msg);
	is_str(w.text, "2 41 - -\n10 5 - -\nx 7 - -\n", "the stored positions are listed all the same");

	w = (struct rows){ .text = "" };
	o.props = (const char *const[]){ "no.such.setting=1" };
	o.nprops = 1;
	is_int(sk_kafka_lag(st, "r", "kafka:t", "kafka://127.0.0.1:1/t", &o, add_row, &w, &e), -1,
	       "a bad -X: -1");
	is_int(e.code, EX_CONFIG, "EX_CONFIG");
	is_str(e.msg, "-X no.such.setting: unknown property", "the key, and why");

	o.nprops = 0;
	snprintf(ini, sizeof ini, "%s/endpoints.conf", dir);
	if ((f = fopen(ini, "w")) == NULL || fputs("[logs]\nurl = file:/var/log/x\n", f) < 0 || fclose(f) != 0) {
		printf("Bail out! %s: %s\n", ini, strerror(errno));
		exit(1);
	}
	o.endpoints_file = ini;
	is_int(sk_kafka_lag(st, "r", "kafka:t", "logs", &o, add_row, &w, &e), -1,
	       "a recorded name that is no longer a kafka endpoint: -1");
	is_int(e.code, EX_CONFIG, "EX_CONFIG");
	is_str(e.msg, "logs: a file endpoint now, not kafka", "saying what it is now");
	is_int(sk_kafka_lag(st, "r", "kafka:t", "gone", &o, add_row, &w, &e), -1, "an unknown name: -1");
	is_int(e.code, EX_CONFIG, "EX_CONFIG");
}

int main(void)
{
	sk_state *st;
	char cmd[sizeof dir + 16];

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	lag_count();
	st = open_store();
	recorded_endpoints(st);
	rows_without_end(st);
	unreachable(st);
	sk_state_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
