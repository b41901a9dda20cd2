/* kafka-mock - a Kafka cluster on 127.0.0.1 for the tests: librdkafka's mock
 * cluster (rdkafka_mock.h) behind a command line. It prints the bootstrap
 * servers as its first line on stdout, serves until SIGTERM or SIGINT, and
 * obeys commands, one a line, from a control FIFO (or stdin): each gets one
 * reply line on stdout, "ok COMMAND" once it has taken effect or
 * "error COMMAND: why", so a test can send a command and wait for its
 * reply. tests/helpers/kafka.bash drives it.
 *
 * `topic-error TOPIC ERROR` makes metadata requests for TOPIC answer with
 * a broker error named as by rd_kafka_err2name (UNKNOWN_TOPIC_OR_PART: the
 * topic does not exist, which the mock otherwise never says, because it
 * creates any topic a client asks about); `topic-error TOPIC none` clears
 * it. TOPIC need not have been created, but the mock creates it (with its
 * default of 4 partitions) to hold the error, so that it is listed from
 * then on and the topic command refuses it as existing.
 *
 * The mock's limits, for the suites that use it: it does not isolate
 * transactions, answers offsets-for-times with -1, delays a group's
 * rebalance by the members' session.timeout.ms (use about 6000), and keeps
 * a bounded log per partition (a few MB: spread big loads over many
 * partitions).
 *
 * Kafka brokers turn Nagle's algorithm off on their connections; the mock
 * does not, so that a small response sent right after another waits for
 * the client's delayed acknowledgement (40 ms on Linux). Accepted sockets
 * take TCP_NODELAY from their listener, so the helper sets it on the
 * mock's listening sockets. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_BROKERS 64
#define MAX_PARTITIONS 10000
#define MAX_LINE 1024

static const char usage_text[] =
	"usage: kafka-mock [--brokers N] [--topic NAME:PARTITIONS]... [--control FIFO]\n"
	"\n"
	"  --brokers N              brokers in the cluster, ids 1..N (default 1)\n"
	"  --topic NAME:PARTITIONS  create a topic (repeatable)\n"
	"  --control FIFO           read commands from FIFO (default stdin)\n"
	"  --help\n"
	"\n"
	"Prints the bootstrap servers as its first line, then one reply line\n"
	"(\"ok COMMAND\" or \"error COMMAND: why\") per command:\n"
	"  down BROKER|all          disconnect a broker and refuse connections\n"
	"  up BROKER|all            accept connections again\n"
	"  topic NAME PARTITIONS    create a topic\n"
	"  leader TOPIC PARTITION BROKER|none\n"
	"                           move a partition's leader\n"
	"  rtt BROKER|all MS        delay every response of a broker\n"
	"  topic-error TOPIC ERROR|none\n"
	"                           answer metadata requests for TOPIC with a\n"
	"                           broker error, e.g. UNKNOWN_TOPIC_OR_PART\n"
	"Runs until SIGTERM or SIGINT.\n";

/* Topics created here, so that `leader` can refuse an unknown topic or
 * partition instead of letting the mock create it silently. */
struct topic {
	char *name;
	int partitions;
};

struct mock {
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *cluster;
	int brokers;
	struct topic *topics;
	size_t ntopics, topics_cap;
	int control_fd;         /* commands */
	int control_writer;     /* our own writer on the FIFO, or -1 */
	int wake[2];            /* a byte on wake[1] stops the control thread */
};

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("kafka-mock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kafka-mock: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(usage_text, stderr);
	exit(64);
}

/* The whole of s as an integer in [min, max]. */
static int parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static struct topic *find_topic(struct mock *m, const char *name)
{
	for (size_t i = 0; i < m->ntopics; i++)
		if (strcmp(m->topics[i].name, name) == 0)
			return &m->topics[i];
	return NULL;
}

/* Remember a topic; create_in_cluster makes it. */
static int add_topic(struct mock *m, const char *name, size_t namelen, int partitions,
		     char *why, size_t whysz)
{
	struct topic *t;

	for (size_t i = 0; i < m->ntopics; i++) {
		if (strlen(m->topics[i].name) == namelen &&
		    memcmp(m->topics[i].name, name, namelen) == 0) {
			snprintf(why, whysz, "topic %s exists", m->topics[i].name);
			return -1;
		}
	}
	if (m->ntopics == m->topics_cap) {
		size_t cap = m->topics_cap ? 2 * m->topics_cap : 8;
		t = realloc(m->topics, cap * sizeof *t);
		if (!t) {
			snprintf(why, whysz, "%s", strerror(errno));
			return -1;
		}
		m->topics = t;
		m->topics_cap = cap;
	}
	t = &m->topics[m->ntopics];
	if (!(t->name = strndup(name, namelen))) {
		snprintf(why, whysz, "%s", strerror(errno));
		return -1;
	}
	t->partitions = partitions;
	m->ntopics++;
	return 0;
}

/* Replicas on every broker (up to 3), as a real cluster would have, so
 * that a leader can move to any of them. */
static int create_in_cluster(struct mock *m, const struct topic *t, char *why, size_t whysz)
{
	int replicas = m->brokers < 3 ? m->brokers : 3;
	rd_kafka_resp_err_t err;

	err = rd_kafka_mock_topic_create(m->cluster, t->name, t->partitions, replicas);
	if (err) {
		snprintf(why, whysz, "%s", rd_kafka_err2str(err));
		return -1;
	}
	return 0;
}

static int create_topic(struct mock *m, const char *name, int partitions,
			char *why, size_t whysz)
{
	if (add_topic(m, name, strlen(name), partitions, why, whysz) < 0)
		return -1;
	if (create_in_cluster(m, &m->topics[m->ntopics - 1], why, whysz) < 0) {
		free(m->topics[--m->ntopics].name);
		return -1;
	}
	return 0;
}

/* A broker id argument: 1..N, or "all" (-1 to the mock). */
static int parse_broker(struct mock *m, const char *s, int all_ok, int32_t *id,
			char *why, size_t whysz)
{
	int v;

	if (all_ok && strcmp(s, "all") == 0) {
		*id = -1;
		return 0;
	}
	if (parse_int(s, 1, m->brokers, &v) < 0) {
		snprintf(why, whysz, "no broker %s (brokers are 1..%d%s)", s, m->brokers,
			 all_ok ? " or all" : "");
		return -1;
	}
	*id = v;
	return 0;
}

static int mock_result(rd_kafka_resp_err_t err, char *why, size_t whysz)
{
	if (!err)
		return 0;
	snprintf(why, whysz, "%s", rd_kafka_err2str(err));
	return -1;
}

static int cmd_down(struct mock *m, char **argv, char *why, size_t whysz)
{
	int32_t id;

	if (parse_broker(m, argv[1], 1, &id, why, whysz) < 0)
		return -1;
	return mock_result(rd_kafka_mock_broker_set_down(m->cluster, id), why, whysz);
}

static int cmd_up(struct mock *m, char **argv, char *why, size_t whysz)
{
	int32_t id;

	if (parse_broker(m, argv[1], 1, &id, why, whysz) < 0)
		return -1;
	return mock_result(rd_kafka_mock_broker_set_up(m->cluster, id), why, whysz);
}

static int cmd_topic(struct mock *m, char **argv, char *why, size_t whysz)
{
	int partitions;

	if (parse_int(argv[2], 1, MAX_PARTITIONS, &partitions) < 0) {
		snprintf(why, whysz, "partitions must be 1..%d, not %s", MAX_PARTITIONS, argv[2]);
		return -1;
	}
	return create_topic(m, argv[1], partitions, why, whysz);
}

static int cmd_leader(struct mock *m, char **argv, char *why, size_t whysz)
{
	struct topic *t = find_topic(m, argv[1]);
	int partition;
	int32_t id;

	if (!t) {
		snprintf(why, whysz, "no topic %s (create it with --topic or the topic command)",
			 argv[1]);
		return -1;
	}
	if (parse_int(argv[2], 0, t->partitions - 1, &partition) < 0) {
		snprintf(why, whysz, "no partition %s (topic %s has 0..%d)", argv[2],
			 t->name, t->partitions - 1);
		return -1;
	}
	if (strcmp(argv[3], "none") == 0)
		id = -1;
	else if (parse_broker(m, argv[3], 0, &id, why, whysz) < 0)
		return -1;
	return mock_result(rd_kafka_mock_partition_set_leader(m->cluster, t->name,
							      partition, id), why, whysz);
}

static int cmd_rtt(struct mock *m, char **argv, char *why, size_t whysz)
{
	int32_t id;
	int ms;

	if (parse_broker(m, argv[1], 1, &id, why, whysz) < 0)
		return -1;
	if (parse_int(argv[2], 0, INT_MAX, &ms) < 0) {
		snprintf(why, whysz, "not a delay in milliseconds: %s", argv[2]);
		return -1;
	}
	return mock_result(rd_kafka_mock_broker_set_rtt(m->cluster, id, ms), why, whysz);
}

/* A broker error by its name without the RD_KAFKA_RESP_ERR_ prefix, as
 * rd_kafka_err2name gives it; "none" is no error. Local errors (names
 * starting with "_") never come from a broker and are refused. */
static int parse_resp_err(const char *s, rd_kafka_resp_err_t *out, char *why, size_t whysz)
{
	const struct rd_kafka_err_desc *descs;
	size_t n;

	if (strcmp(s, "none") == 0) {
		*out = RD_KAFKA_RESP_ERR_NO_ERROR;
		return 0;
	}
	rd_kafka_get_err_descs(&descs, &n);
	for (size_t i = 0; i < n; i++) {
		if (descs[i].name && descs[i].code > 0 && strcmp(descs[i].name, s) == 0) {
			*out = descs[i].code;
			return 0;
		}
	}
	snprintf(why, whysz, "no broker error %s (a name such as UNKNOWN_TOPIC_OR_PART, or none)", s);
	return -1;
}

/* Unlike leader, any topic name: a topic that was never created is the
 * point of UNKNOWN_TOPIC_OR_PART. */
static int cmd_topic_error(struct mock *m, char **argv, char *why, size_t whysz)
{
	rd_kafka_resp_err_t err;

	if (parse_resp_err(argv[2], &err, why, whysz) < 0)
		return -1;
	rd_kafka_mock_topic_set_error(m->cluster, argv[1], err);
	return 0;
}

static const struct command {
	const char *name;
	int argc;               /* with the name */
	const char *usage;
	int (*run)(struct mock *m, char **argv, char *why, size_t whysz);
} commands[] = {
	{ "down", 2, "down BROKER|all", cmd_down },
	{ "up", 2, "up BROKER|all", cmd_up },
	{ "topic", 3, "topic NAME PARTITIONS", cmd_topic },
	{ "leader", 4, "leader TOPIC PARTITION BROKER|none", cmd_leader },
	{ "rtt", 3, "rtt BROKER|all MS", cmd_rtt },
	{ "topic-error", 3, "topic-error TOPIC ERROR|none", cmd_topic_error },
};

/* The reply goes out in one write, so a reader polling the file for whole
 * lines never sees half of it. A failed write is reported and the cluster
 * keeps serving: the test waiting for the reply will time out and say so. */
static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void reply(const char *fmt, ...)
{
	va_list ap;
	int failed;

	va_start(ap, fmt);
	failed = vprintf(fmt, ap) < 0;
	va_end(ap);
	if (putchar('\n') == EOF || fflush(stdout) == EOF || failed)
		fprintf(stderr, "kafka-mock: stdout: %s\n", strerror(errno));
}

/* Run one command line; blank lines are ignored. */
static void run_command(struct mock *m, char *line)
{
	char *argv[8], *save = NULL, *tok;
	char echo[MAX_LINE], why[256];
	size_t n = 0, len = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (n == sizeof argv / sizeof *argv) {
			reply("error %s: too many arguments", argv[0]);
			return;
		}
		argv[n++] = tok;
		len += (size_t)snprintf(echo + len, sizeof echo - len, "%s%s", len ? " " : "", tok);
	}
	if (n == 0)
		return;
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
		const struct command *c = &commands[i];

		if (strcmp(argv[0], c->name) != 0)
			continue;
		if (n != (size_t)c->argc)
			reply("error %s: usage: %s", echo, c->usage);
		else if (c->run(m, argv, why, sizeof why) < 0)
			reply("error %s: %s", echo, why);
		else
			reply("ok %s", echo);
		return;
	}
	reply("error %s: unknown command (down, up, topic, leader, rtt, topic-error)", echo);
}

/* Read command lines until end of input or a byte on the wake pipe. */
static void *control_thread(void *arg)
{
	struct mock *m = arg;
	char buf[MAX_LINE];
	size_t len = 0;
	int overlong = 0;

	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = m->control_fd, .events = POLLIN },
			{ .fd = m->wake[0], .events = POLLIN },
		};
		ssize_t r;
		char *nl;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "kafka-mock: poll: %s\n", strerror(errno));
			return NULL;
		}
		if (pfd[1].revents)
			return NULL;
		if (!pfd[0].revents)
			continue;
		r = read(m->control_fd, buf + len, sizeof buf - 1 - len);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "kafka-mock: control: %s\n", strerror(errno));
			return NULL;
		}
		if (r == 0)
			return NULL;    /* stdin closed: keep serving, take no more commands */
		len += (size_t)r;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			size_t used = (size_t)(nl - buf) + 1;

			*nl = '\0';
			if (overlong)
				reply("error: command longer than %d bytes", MAX_LINE - 2);
			else
				run_command(m, buf);
			overlong = 0;
			memmove(buf, buf + used, len - used + 1);
			len -= used;
		}
		if (len == sizeof buf - 1) {
			overlong = 1;
			len = 0;
		}
	}
}

/* The control FIFO is opened for reading without waiting for a writer, and
 * we hold a writer of our own so that a test's writes, each opening and
 * closing the FIFO, never leave it at end of file. */
static void open_control(struct mock *m, const char *path)
{
	struct stat st;

	m->control_writer = -1;
	if (!path) {
		m->control_fd = STDIN_FILENO;
		return;
	}
	m->control_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (m->control_fd < 0)
		die(66, "%s: %s", path, strerror(errno));
	if (fstat(m->control_fd, &st) < 0)
		die(74, "%s: %s", path, strerror(errno));
	if (!S_ISFIFO(st.st_mode))
		die(64, "%s: not a FIFO (make one with mkfifo)", path);
	m->control_writer = open(path, O_WRONLY | O_CLOEXEC);
	if (m->control_writer < 0)
		die(74, "%s: %s", path, strerror(errno));
}

/* Descriptors 0, 1 and 2 open, on /dev/null if they were closed, so that
 * no socket or pipe of ours takes their place and is read as commands. */
static void keep_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int null;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		null = open("/dev/null", O_RDWR);
		if (null != fd)
			die(71, "/dev/null: %s", null < 0 ? strerror(errno) : "not opened in place");
	}
}

/* --topic NAME:PARTITIONS, checked before the cluster starts. */
static void add_topic_option(struct mock *m, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	char why[256];
	int partitions;

	if (!colon || colon == arg || parse_int(colon + 1, 1, MAX_PARTITIONS, &partitions) < 0)
		usage_error("--topic %s: expected NAME:PARTITIONS with 1..%d partitions",
			    arg, MAX_PARTITIONS);
	if (add_topic(m, arg, (size_t)(colon - arg), partitions, why, sizeof why) < 0)
		usage_error("--topic %s: %s", arg, why);
}

/* librdkafka's own log lines, under our name. */
static void log_line(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	fprintf(stderr, "kafka-mock: librdkafka: %s: %s\n", fac, buf);
}

/* TCP_NODELAY on each listening socket of the process (the mock's
 * brokers', listening from their creation on): the brokers' count. */
static void no_delay_listeners(int brokers)
{
	int fd, listening, on = 1, found = 0;
	socklen_t len;

	for (fd = 0; fd < 1024; fd++) {
		len = sizeof listening;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0)
			die(69, "TCP_NODELAY: %s", strerror(errno));
		found++;
	}
	if (found != brokers)
		die(69, "found %d listening sockets for %d brokers", found, brokers);
}

static void start_cluster(struct mock *m)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];

	if (!conf)
		die(69, "rd_kafka_conf_new failed");
	/* The handle only hosts the cluster: it has no brokers of its own and
	 * warnings about that are noise. */
	if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
		die(69, "log_level: %s", errstr);
	rd_kafka_conf_set_log_cb(conf, log_line);
	m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	if (!m->rk) {
		rd_kafka_conf_destroy(conf);
		die(69, "rd_kafka_new: %s", errstr);
	}
	m->cluster = rd_kafka_mock_cluster_new(m->rk, m->brokers);
	if (!m->cluster)
		die(69, "cannot create a mock cluster of %d brokers", m->brokers);
	no_delay_listeners(m->brokers);
}

static void stop_cluster(struct mock *m)
{
	rd_kafka_mock_cluster_destroy(m->cluster);
	rd_kafka_destroy(m->rk);
	for (size_t i = 0; i < m->ntopics; i++)
		free(m->topics[i].name);
	free(m->topics);
	m->topics = NULL;
	m->ntopics = m->topics_cap = 0;
	if (m->control_writer >= 0)
		close(m->control_writer);
	close(m->wake[0]);
	close(m->wake[1]);
}

enum { OPT_BROKERS = 256, OPT_TOPIC, OPT_CONTROL, OPT_HELP };

static const struct option longopts[] = {
	{ "brokers", required_argument, NULL, OPT_BROKERS },
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	/* Static: what exit() leaves behind stays reachable. */
	static struct mock m = { .brokers = 1 };
	const char *control = NULL;
	char why[256];
	sigset_t stop;
	pthread_t thread;
	int c, sig, rc;

	keep_std_fds();
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_BROKERS:
			if (parse_int(optarg, 1, MAX_BROKERS, &m.brokers) < 0)
				usage_error("--brokers %s: expected 1..%d", optarg, MAX_BROKERS);
			break;
		case OPT_TOPIC:
			add_topic_option(&m, optarg);
			break;
		case OPT_CONTROL:
			control = optarg;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return fflush(stdout) == EOF ? 74 : 0;
		default:
			usage_error("bad option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument: %s", argv[optind]);

	/* Blocked before librdkafka starts its threads, which inherit the mask:
	 * otherwise one of them may take SIGTERM and we would never see it.
	 * Default actions first, because a shell starts background jobs with
	 * SIGINT ignored, and an ignored signal may be dropped before sigwait
	 * sees it. A failed reply write must be an error, not a death. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	if ((rc = pthread_sigmask(SIG_BLOCK, &stop, NULL)) != 0)
		die(71, "pthread_sigmask: %s", strerror(rc));
	if (signal(SIGTERM, SIG_DFL) == SIG_ERR || signal(SIGINT, SIG_DFL) == SIG_ERR ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		die(71, "signal: %s", strerror(errno));

	open_control(&m, control);
	if (pipe(m.wake) < 0)
		die(71, "pipe: %s", strerror(errno));
	start_cluster(&m);
	for (size_t i = 0; i < m.ntopics; i++) {
		if (create_in_cluster(&m, &m.topics[i], why, sizeof why) < 0) {
			fprintf(stderr, "kafka-mock: topic %s: %s\n", m.topics[i].name, why);
			stop_cluster(&m);
			return 69;
		}
	}

	if (printf("%s\n", rd_kafka_mock_cluster_bootstraps(m.cluster)) < 0 ||
	    fflush(stdout) == EOF) {
		stop_cluster(&m);
		die(74, "stdout: %s", strerror(errno));
	}
	if ((rc = pthread_create(&thread, NULL, control_thread, &m)) != 0) {
		stop_cluster(&m);
		die(71, "pthread_create: %s", strerror(rc));
	}

	if ((rc = sigwait(&stop, &sig)) != 0)
		die(71, "sigwait: %s", strerror(rc));

	/* The control thread finishes the command it is running, if any,
	 * before the cluster goes away under it. */
	if (write(m.wake[1], "", 1) != 1)
		die(71, "wake pipe: %s", strerror(errno));
	if ((rc = pthread_join(thread, NULL)) != 0)
		die(71, "pthread_join: %s", strerror(rc));
	stop_cluster(&m);
	if (fclose(stdout) == EOF)
		die(74, "stdout: %s", strerror(errno));
	return 0;
}
