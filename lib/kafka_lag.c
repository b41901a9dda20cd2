/* kafka_lag.c - a recipe's Kafka positions next to the topic's watermarks.
 *
 * The brokers are those of the endpoint stream-read recorded for the
 * (name, source): the state store's source ids ("kafka:TOPIC") name no
 * brokers. The settings are the endpoint's kafka.* keys, then -F and -X as
 * for stream-read. Every request is bounded by one deadline per source, so
 * that brokers that are down cost at most that long. */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "kafka_lag.h"
#include "endpoint.h"
#include "kafka_conf.h"
#include "kinds_impl.h"
#include "source_impl.h"
#include "util.h"

#define ASK_MS 1000          /* one request; retried until the deadline */

int64_t sk_kafka_lag_count(int64_t position, int64_t low, int64_t high)
{
	/* A reader resumes at position + 1, or at the start of the log when
	 * that is gone (stream-read reads what is there). */
	int64_t next = position < 0 ? low : position + 1;

	return high - (next < low ? low : next);
}


/* --- the endpoint --- */

struct pattern_match {
	const char *topic;
	char *endpoint;
};

static int match_pattern(void *arg, const char *source, const char *endpoint)
{
	struct pattern_match *m = arg;
	regex_t re;
	int hit;

	if (strncmp(source, "kafka:^", 7) != 0 || regcomp(&re, source + 6, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	hit = regexec(&re, m->topic, 0, NULL, 0) == 0;
	regfree(&re);
	if (!hit)
		return 0;
	m->endpoint = strdup(endpoint);     /* NULL: out of memory */
	return 1;
}

int sk_kafka_lag_endpoint(sk_state *st, const char *name, const char *source, char **endpoint,
                          sk_err *e)
{
	struct pattern_match m = { .topic = source + 6 };
	int rc = sk_state_get_endpoint(st, name, source, endpoint, e);

	if (rc != 0 || strncmp(source, "kafka:", 6) != 0)
		return rc;
	if ((rc = sk_state_each_endpoint(st, name, match_pattern, &m, e)) <= 0)
		return rc;
	if (m.endpoint == NULL)
		return sk_err_oom(e);
	*endpoint = m.endpoint;
	return 1;
}

/* --- the stored positions of one source --- */

struct stored {
	char *partition, *position;
	int numbered;            /* partition is a number: p */
	int64_t p;
};

struct stored_list {
	const char *source;
	struct stored *v;
	size_t n, cap;
};

/* The whole of s as a non-negative 64-bit integer. */
static int parse_offset(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end != '\0')
		return 0;
	*out = v;
	return 1;
}

static int collect(void *arg, const char *name, const char *source, const char *partition,
                   const char *position, int64_t updated_ms)
{
	struct stored_list *l = arg;
	struct stored *s;

	(void)name, (void)updated_ms;
	if (strcmp(source, l->source) != 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		if ((s = realloc(l->v, cap * sizeof *s)) == NULL)
			return 1;
		l->v = s;
		l->cap = cap;
	}
	s = &l->v[l->n];
	s->partition = strdup(partition);
	s->position = strdup(position);
	if (s->partition == NULL || s->position == NULL) {
		free(s->partition);
		free(s->position);
		return 1;
	}
	s->numbered = parse_offset(partition, &s->p);
	l->n++;
	return 0;
}

static void stored_free(struct stored_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].partition);
		free(l->v[i].position);
	}
	free(l->v);
}

/* Numbered partitions first, by number; then the others as stored. */
static int stored_order(const void *a, const void *b)
{
	const struct stored *x = a, *y = b;

	if (x->numbered != y->numbered)
		return x->numbered ? -1 : 1;
	if (x->numbered && x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return strcmp(x->partition, y->partition);
}

/* --- the watermarks of the topic --- */

struct marks {
	int n;                   /* partitions of the topic */
	int64_t *low, *high;
	int32_t *leader;         /* the broker that leads each */
	unsigned char *known;    /* low and high are known */
};

struct client {
	const char *arg;         /* the endpoint as recorded, for messages */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char fatal[256];         /* an error no retry will mend */
	char last[256];          /* the last error librdkafka reported */
};

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct client *c = opaque;

	(void)rk;
	sk_kafka_redact(reason, c->last, sizeof c->last);
	if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION)
		sk_kafka_redact(reason, c->fatal, sizeof c->fatal);
}

/* The endpoint as recorded, resolved now: a Kafka endpoint. */
static int resolve(const char *endpoint, const sk_kafka_lag_opts *o, sk_endpoint **ep, sk_err *e)
{
	char *ini = sk_endpoints_file(o->endpoints_file);
	int rc;

	if (ini == NULL)
		return sk_err_oom(e);
	rc = sk_endpoint_resolve(endpoint, ini, ep, e);
	free(ini);
	if (rc < 0) {
		/* Not a mistake on this command line: in what was recorded, or in
		 * the endpoints file since. */
		if (e && e->code == EX_USAGE)
			e->code = EX_CONFIG;
		return -1;
	}
	if (sk_kind_syntax(sk_kind_of(*ep)) != &sk_kafka_syntax)
		return sk_err_set(e, EX_CONFIG, "%s: a %s endpoint now, not kafka", endpoint,
		                  sk_kind_name(sk_kind_of(*ep)));
	return 0;
}

static int open_client(struct client *c, const sk_endpoint *ep, const char *topic,
                       const sk_kafka_lag_opts *o, sk_err *e)
{
	rd_kafka_conf_t *conf;

	if (sk_kafka_conf_new(ep, "stream-checkpoint", c, on_error, &conf, e) < 0)
		return -1;
	if (sk_kafka_conf_apply(conf, ep, o->config_file, o->props, o->nprops, e) < 0) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	return sk_kafka_client(RD_KAFKA_CONSUMER, conf, topic, &c->rk, &c->rkt, e);
}

/* Whether to ask again: the deadline has not passed and nothing fatal came.
 * Waits a little (serving librdkafka's callbacks) after a quick failure. */
static int again(struct client *c, int64_t deadline, int64_t started)
{
	if (sk_now_ms() - started < 100)
		rd_kafka_poll(c->rk, 100);
	else
		rd_kafka_poll(c->rk, 0);
	return c->fatal[0] == '\0' && sk_now_ms() < deadline;
}

static int left_ms(int64_t deadline)
{
	int64_t left = deadline - sk_now_ms();

	return left <= 0 ? 1 : left < ASK_MS ? (int)left : ASK_MS;
}

/* Why the brokers gave no answer: a fatal error, or silence until the
 * deadline. */
static int unreachable(struct client *c, int64_t timeout_ms, rd_kafka_resp_err_t err, sk_err *e)
{
	if (c->fatal[0])
		return sk_err_set(e, EX_UNAVAILABLE, "%s: %s", c->arg, c->fatal);
	if (timeout_ms % 1000 == 0)
		return sk_err_set(e, EX_UNAVAILABLE, "%s: brokers not reachable within %" PRId64 " s: %s", c->arg,
		                  timeout_ms / 1000, c->last[0] ? c->last : rd_kafka_err2str(err));
	return sk_err_set(e, EX_UNAVAILABLE, "%s: brokers not reachable within %" PRId64 " ms: %s", c->arg,
	                  timeout_ms, c->last[0] ? c->last : rd_kafka_err2str(err));
}

/* The topic's partitions and their leaders, into m. */
static int topic_layout(struct client *c, const char *topic, int64_t deadline, int64_t timeout_ms,
                        struct marks *m, sk_err *e)
{
	const struct rd_kafka_metadata *md;
	const struct rd_kafka_metadata_topic *t;
	rd_kafka_resp_err_t err;
	int64_t started;
	int i, rc = 0;

	do {
		started = sk_now_ms();
		err = rd_kafka_metadata(c->rk, 0, c->rkt, &md, left_ms(deadline));
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
	} while (again(c, deadline, started));
	if (err)
		return unreachable(c, timeout_ms, err, e);
	t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
	if (t == NULL || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (t->err == 0 && t->partition_cnt == 0))
		rc = sk_err_set(e, EX_UNAVAILABLE, "%s: topic %s does not exist", c->arg, topic);
	else if (t->err)
		rc = sk_err_set(e, EX_UNAVAILABLE, "%s: topic %s: %s", c->arg, topic, rd_kafka_err2str(t->err));
	else if ((m->low = calloc((size_t)t->partition_cnt, sizeof *m->low)) == NULL ||
	         (m->high = calloc((size_t)t->partition_cnt, sizeof *m->high)) == NULL ||
	         (m->leader = calloc((size_t)t->partition_cnt, sizeof *m->leader)) == NULL ||
	         (m->known = calloc((size_t)t->partition_cnt, 1)) == NULL)
		rc = sk_err_oom(e);
	else {
		m->n = t->partition_cnt;
		for (i = 0; i < m->n; i++)
			m->leader[i] = -1;
		for (i = 0; i < t->partition_cnt; i++)
			if (t->partitions[i].id >= 0 && t->partitions[i].id < m->n)
				m->leader[t->partitions[i].id] = t->partitions[i].leader;
	}
	rd_kafka_metadata_destroy(md);
	return rc;
}

/* Offsets for the time `when` (-2: the start of the log, -1: its end) of
 * the partitions of topic that broker leader leads and that are not known
 * yet, into out. Offsets for times, not the watermark query: librdkafka 2.0's
 * watermark query does not keep its timeout while a broker is down. */
static rd_kafka_resp_err_t offsets_at(struct client *c, const char *topic, int32_t leader, int64_t when,
                                      int64_t until, const struct marks *m, int64_t *out)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(m->n);
	rd_kafka_resp_err_t err;
	int64_t started;
	int p, i;

	if (l == NULL)
		return RD_KAFKA_RESP_ERR__FAIL;
	for (p = 0; p < m->n; p++)
		if (m->leader[p] == leader && !m->known[p])
			rd_kafka_topic_partition_list_add(l, topic, p)->offset = when;
	do {
		started = sk_now_ms();
		err = rd_kafka_offsets_for_times(c->rk, l, left_ms(until));
	} while (err && again(c, until, started));
	for (i = 0; err == 0 && i < l->cnt; i++) {
		if ((err = l->elems[i].err) == 0)
			out[l->elems[i].partition] = l->elems[i].offset;
	}
	rd_kafka_topic_partition_list_destroy(l);
	return err;
}

/* The watermarks of every partition broker leader leads, given ASK_MS. */
static rd_kafka_resp_err_t ask_leader(struct client *c, const char *topic, int32_t leader, int64_t deadline,
                                      struct marks *m)
{
	int64_t now = sk_now_ms(), until = now + ASK_MS < deadline ? now + ASK_MS : deadline;
	rd_kafka_resp_err_t err;
	int p;

	err = offsets_at(c, topic, leader, RD_KAFKA_OFFSET_BEGINNING, until, m, m->low);
	if (err == 0)
		err = offsets_at(c, topic, leader, RD_KAFKA_OFFSET_END, until, m, m->high);
	for (p = 0; err == 0 && p < m->n; p++)
		if (m->leader[p] == leader)
			m->known[p] = 1;
	return err;
}

/* Every partition's watermarks that its leader gives in time, each leader
 * asked once for all of its partitions: a broker down costs ASK_MS at most
 * and the others are still asked. -1 when a partition is left without (m
 * has the others). */
static int ask_marks(struct client *c, const char *topic, int64_t timeout_ms, struct marks *m, sk_err *e)
{
	int64_t deadline = sk_now_ms() + timeout_ms;
	rd_kafka_resp_err_t err, first = 0;
	int p, q, missing = 0, first_p = -1;

	if (topic_layout(c, topic, deadline, timeout_ms, m, e) < 0)
		return -1;
	for (p = 0; p < m->n; p++) {
		for (q = 0; q < p && m->leader[q] != m->leader[p]; q++)
			;
		if (q < p || sk_now_ms() >= deadline)
			continue;       /* its leader was asked with partition q, or no time is left */
		err = ask_leader(c, topic, m->leader[p], deadline, m);
		if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
			return sk_err_set(e, EX_UNAVAILABLE, "%s: topic %s does not exist", c->arg, topic);
		if (err && first_p < 0) {
			first = err;
			first_p = p;
		}
	}
	for (p = 0; p < m->n; p++)
		missing += !m->known[p];
	if (missing == 0)
		return 0;
	if (first_p < 0)
		return sk_err_set(e, EX_UNAVAILABLE, "%s: topic %s: %d of %d partitions without an end: "
		                  "not asked within the %" PRId64 " ms given", c->arg, topic, missing, m->n,
		                  timeout_ms);
	return sk_err_set(e, EX_UNAVAILABLE, "%s: topic %s: %d of %d partitions without an end: "
	                  "broker %" PRId32 " (partition %d) did not answer: %s", c->arg, topic, missing, m->n,
	                  m->leader[first_p], first_p, c->fatal[0] ? c->fatal : rd_kafka_err2str(first));
}

static int watermarks(const char *endpoint, const char *topic, const sk_kafka_lag_opts *o,
                      struct marks *m, sk_err *e)
{
	struct client c = { .arg = endpoint };
	sk_endpoint *ep = NULL;
	int rc = -1;

	if (resolve(endpoint, o, &ep, e) == 0 && open_client(&c, ep, topic, o, e) == 0)
		rc = ask_marks(&c, topic, o->timeout_ms, m, e);
	if (c.rkt)
		rd_kafka_topic_destroy(c.rkt);
	if (c.rk)
		rd_kafka_destroy(c.rk);
	sk_endpoint_free(ep);
	return rc;
}

/* --- the rows --- */

static int row_of(const struct stored *s, const struct marks *m, sk_kafka_lag_cb cb, void *arg)
{
	sk_kafka_lag_row r = { .partition = s->partition, .position = s->position };
	int64_t pos;

	if (m && s->numbered && s->p < m->n && m->known[s->p]) {
		r.has_end = 1;
		r.end = m->high[s->p];
		if (parse_offset(s->position, &pos)) {
			r.has_lag = 1;
			r.lag = sk_kafka_lag_count(pos, m->low[s->p], r.end);
		}
	}
	return cb(arg, &r);
}

/* A partition of the topic with no stored position: a reader would start
 * at the start of its log. */
static int topic_row(int p, const struct marks *m, sk_kafka_lag_cb cb, void *arg)
{
	char part[16];
	sk_kafka_lag_row r = { .partition = part };

	snprintf(part, sizeof part, "%d", p);
	if (m->known[p]) {
		r.has_end = r.has_lag = 1;
		r.end = m->high[p];
		r.lag = sk_kafka_lag_count(-1, m->low[p], m->high[p]);
	}
	return cb(arg, &r);
}

/* Every partition of the topic (m, which may be NULL) and every stored
 * one, in partition order. */
static int emit(struct stored_list *l, const struct marks *m, sk_kafka_lag_cb cb, void *arg)
{
	size_t i = 0;
	int p, rc;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, stored_order);
	for (p = 0; m && p < m->n; p++) {
		if (i < l->n && l->v[i].numbered && l->v[i].p == p)
			rc = row_of(&l->v[i++], m, cb, arg);
		else
			rc = topic_row(p, m, cb, arg);
		/* "1" and "01" name one partition: only the first has an end. */
		while (rc == 0 && i < l->n && l->v[i].numbered && l->v[i].p == p)
			rc = row_of(&l->v[i++], NULL, cb, arg);
		if (rc)
			return rc;
	}
	for (; i < l->n; i++)
		if ((rc = row_of(&l->v[i], m, cb, arg)) != 0)
			return rc;
	return 0;
}

int sk_kafka_lag(sk_state *st, const char *name, const char *source, const char *endpoint,
                 const sk_kafka_lag_opts *o, sk_kafka_lag_cb cb, void *arg, sk_err *e)
{
	struct stored_list l = { .source = source };
	struct marks m = { 0 };
	sk_err why = { 0 };
	int asked = -1, rc;

	if (strncmp(source, "kafka:", 6) != 0 || source[6] == '\0')
		return sk_err_set(e, EX_SOFTWARE, "%s: not a kafka source", source);
	rc = sk_state_each_position(st, name, collect, &l, e);
	if (rc != 0) {
		stored_free(&l);
		return rc > 0 ? sk_err_oom(e) : -1;
	}
	if (endpoint)
		asked = watermarks(endpoint, source + 6, o, &m, &why);
	/* Brokers that answered for some partitions: those have an end. */
	rc = emit(&l, m.n > 0 ? &m : NULL, cb, arg);
	stored_free(&l);
	free(m.low);
	free(m.high);
	free(m.leader);
	free(m.known);
	if (rc == 0 && endpoint && asked < 0) {
		if (e)
			*e = why;
		return -1;
	}
	return rc;
}

/* --- the kind's positions --- */

/* What lag takes for Kafka sources: the settings stream-read took. */
static const sk_option_group lag_options = { "kafka", NULL, sk_kafka_conf_options };

struct lag_rows {
	const sk_lag_query *q;
	const char *source;
};

static int lag_row(void *arg, const sk_kafka_lag_row *k)
{
	struct lag_rows *l = arg;
	sk_lag_row r = {
		.source = l->source, .partition = k->partition, .position = k->position,
		.has_end = k->has_end, .end = k->end, .has_lag = k->has_lag, .lag = k->lag,
	};

	return l->q->cb(l->q->arg, &r);
}

/* Every partition of a Kafka source at once: those stored and those of the
 * topic. A source whose brokers cannot be asked is listed without its end. */
static int position_lag(const sk_lag_query *q, const char *source, const char *partition,
                        const char *position, int *whole, sk_err *e)
{
	sk_kafka_lag_opts o = { .endpoints_file = q->o->endpoints_file, .timeout_ms = q->o->timeout_ms };
	const sk_kindopts *k = q->o->kind_options;
	struct lag_rows rows = { q, source };
	const char **props = NULL, *v;
	char *endpoint = NULL;
	size_t i = 0;
	int rc;

	(void)partition, (void)position;
	*whole = 1;
	if ((rc = sk_kafka_lag_endpoint(q->st, q->name, source, &endpoint, e)) < 0)
		return -1;
	if (rc == 0)
		sk_info("%s: no endpoint recorded for %s (stream-read --name %s records it): its end is not known",
		        source, q->name, q->name);
	if (k && k->n && (props = calloc(k->n, sizeof *props)) == NULL) {
		free(endpoint);
		return sk_err_oom(e);
	}
	while ((v = sk_kindopts_next(k, "X", &i)) != NULL)
		props[o.nprops++] = v;
	o.props = props;
	o.config_file = k ? sk_kindopts_get(k, "kafka-config") : NULL;
	rc = sk_kafka_lag(q->st, q->name, source, endpoint, &o, lag_row, &rows, e);
	free(props);
	free(endpoint);
	return rc;
}

/* Kafka offsets are numbers; its lag is asked of the brokers, a topic at
 * a time. */
const struct sk_position_ops sk_position_kafka_ops = {
	.prefix = "kafka:",
	.compare = sk_position_compare_decimal,
	.lag = position_lag,
	.lag_options = &lag_options,
};
