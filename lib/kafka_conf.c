/* kafka_conf.c - librdkafka settings from endpoints, files and -X. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_conf.h"

int sk_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *where,
                      sk_err *e)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
		return sk_err_set(e, EX_CONFIG, "%s: %s", where, errstr);
	return 0;
}

/* "KEY=VALUE": split and set. */
static int conf_set_kv(rd_kafka_conf_t *conf, const char *kv, const char *where, sk_err *e)
{
	const char *eq = strchr(kv, '=');
	char *key;
	int rc;

	if (eq == NULL || eq == kv)
		return sk_err_set(e, EX_CONFIG, "%s: expected KEY=VALUE", where);
	if ((key = strndup(kv, (size_t)(eq - kv))) == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	rc = sk_kafka_conf_set(conf, key, eq + 1, where, e);
	free(key);
	return rc;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* A librdkafka properties file: KEY=VALUE lines, # comments, blank lines. */
static int conf_file(rd_kafka_conf_t *conf, const char *path, sk_err *e)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *s, *eq, where[64];
	size_t cap = 0;
	long lineno = 0;
	int rc = 0;

	if (f == NULL)
		return sk_err_set(e, errno == ENOENT || errno == EACCES ? EX_CONFIG : EX_IOERR, "%s: %s",
		                  path, strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		snprintf(where, sizeof where, "line %ld", lineno);
		if ((eq = strchr(s, '=')) == NULL || eq == s) {
			rc = sk_err_set(e, EX_CONFIG, "%s: line %ld: expected KEY=VALUE", path, lineno);
			break;
		}
		*eq = '\0';
		if (sk_kafka_conf_set(conf, trim(s), trim(eq + 1), where, e) < 0)
			rc = sk_err_prefix(e, "%s", path);
	}
	if (rc == 0 && ferror(f))
		rc = sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

/* librdkafka logs to stderr by default; a library prints nothing. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk, (void)level, (void)fac, (void)buf;
}

int sk_kafka_conf_new(const sk_endpoint *ep, const char *client_id, void *opaque, sk_kafka_error_cb *on_error,
                      rd_kafka_conf_t **out, sk_err *e)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (conf == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	rd_kafka_conf_set_opaque(conf, opaque);
	rd_kafka_conf_set_error_cb(conf, on_error);
	if (sk_kafka_conf_set(conf, "bootstrap.servers", ep->hosts, "bootstrap.servers", e) < 0 ||
	    sk_kafka_conf_set(conf, "client.id", client_id, "client.id", e) < 0) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	*out = conf;
	return 0;
}

int sk_kafka_conf_apply(rd_kafka_conf_t *conf, const sk_endpoint *ep, const char *config_file,
                        const char *const *props, size_t n, sk_err *e)
{
	char where[128];
	size_t i, dsize = sizeof where;

	for (i = 0; i < ep->nsettings; i++) {
		if (strncmp(ep->settings[i].key, "kafka.", 6) != 0)
			continue;
		snprintf(where, sizeof where, "%s: %s", ep->name ? ep->name : ep->arg, ep->settings[i].key);
		if (sk_kafka_conf_set(conf, ep->settings[i].key + 6, ep->settings[i].value, where, e) < 0)
			return -1;
	}
	if (config_file && conf_file(conf, config_file, e) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (conf_set_kv(conf, props[i], "-X", e) < 0)
			return -1;
	/* -X debug=...: the user asked for librdkafka's own log on stderr. */
	if (rd_kafka_conf_get(conf, "debug", where, &dsize) != RD_KAFKA_CONF_OK || where[0] == '\0')
		rd_kafka_conf_set_log_cb(conf, on_log);
	return 0;
}

int sk_kafka_conf_consumer(rd_kafka_conf_t *conf, sk_err *e)
{
	char kb[24];

	snprintf(kb, sizeof kb, "%d", SK_KAFKA_PREFETCH_KB);
	/* fetch.max.bytes follows queued.max.messages.kbytes (and
	 * message.max.bytes) unless set. */
	if (sk_kafka_conf_set(conf, "queued.max.messages.kbytes", kb, "queued.max.messages.kbytes", e) < 0 ||
	    sk_kafka_conf_set(conf, "fetch.wait.max.ms", "100", "fetch.wait.max.ms", e) < 0)
		return -1;
	return 0;
}

static int64_t conf_int(const rd_kafka_conf_t *conf, const char *key, int64_t otherwise)
{
	char v[32];
	size_t n = sizeof v;
	long long x;

	if (rd_kafka_conf_get(conf, key, v, &n) != RD_KAFKA_CONF_OK || (x = strtoll(v, NULL, 10)) <= 0)
		return otherwise;
	return x;
}

/* Keep a partition of the broker km came from. */
static void note_sender(sk_kafka_refill *r, const rd_kafka_message_t *km)
{
	struct sk_kafka_sender *s;
	int32_t broker = rd_kafka_message_broker_id(km);
	const char *topic;
	int i;

	if (broker < 0)
		return;
	for (i = 0; i < r->nsenders && r->senders[i].broker != broker; i++)
		;
	if (i == r->nsenders) {
		if (i == SK_KAFKA_REFILL_BROKERS)
			return;
		r->nsenders++;
		r->senders[i].topic[0] = '\0';
	}
	s = &r->senders[i];
	s->broker = broker;
	if (s->partition == km->partition && s->topic[0])
		return;
	topic = rd_kafka_topic_name(km->rkt);
	if (strlen(topic) >= sizeof s->topic)
		return;
	s->partition = km->partition;
	strcpy(s->topic, topic);
}

/* A ListOffsets request to the leader of each sender's partition; the
 * answers are dropped (offsets_for_times with no time to wait). */
static void wake_brokers(sk_kafka_refill *r, rd_kafka_t *rk)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->nsenders);
	int i;

	if (l == NULL)
		return;
	for (i = 0; i < r->nsenders; i++)
		rd_kafka_topic_partition_list_add(l, r->senders[i].topic, r->senders[i].partition)->offset =
			RD_KAFKA_OFFSET_END;
	rd_kafka_offsets_for_times(rk, l, 0);
	rd_kafka_topic_partition_list_destroy(l);
}

void sk_kafka_refill_taken(sk_kafka_refill *r, rd_kafka_t *rk, rd_kafka_queue_t *q,
                           rd_kafka_message_t *const *batch, size_t n)
{
	double len, taken = (double)n;
	size_t i;

	if (r->max_msgs == 0) {
		r->max_msgs = conf_int(rd_kafka_conf(rk), "queued.min.messages", 100000);
		r->max_bytes = conf_int(rd_kafka_conf(rk), "queued.max.messages.kbytes", 65536) * 1024;
	}
	for (i = 0; i < n; i++) {
		if (batch[i]->err)
			continue;
		note_sender(r, batch[i]);
		if (r->avg_bytes == 0)
			r->avg_bytes = (double)batch[i]->len + 1;
		r->avg_bytes += ((double)batch[i]->len - r->avg_bytes) / 64;
	}
	len = (double)rd_kafka_queue_length(q);
	/* The queue shrinks by at most a batch from one look to the next, so
	 * one look sees it within a batch of a bound it reached; its size in
	 * bytes is estimated, hence the margin of a quarter. */
	if (len + taken >= (double)r->max_msgs || 4 * (len + taken) * r->avg_bytes >= 3 * (double)r->max_bytes)
		r->full = 1;
	else if (r->full && 2 * len <= (double)r->max_msgs && 2 * len * r->avg_bytes <= (double)r->max_bytes) {
		r->full = 0;
		wake_brokers(r, rk);
	}
}

int sk_kafka_client(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *topic,
                    rd_kafka_t **rk, rd_kafka_topic_t **rkt, sk_err *e)
{
	char errstr[512];

	if ((*rk = rd_kafka_new(type, conf, errstr, sizeof errstr)) == NULL) {
		rd_kafka_conf_destroy(conf);
		return sk_err_set(e, EX_CONFIG, "%s", errstr);
	}
	*rkt = NULL;
	if (topic && (*rkt = rd_kafka_topic_new(*rk, topic, NULL)) == NULL)
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", topic,
		                  rd_kafka_err2str(rd_kafka_last_error()));
	return 0;
}
