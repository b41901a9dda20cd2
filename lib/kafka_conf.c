/* kafka_conf.c - librdkafka settings from endpoints, files and -X. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kafka_conf.h"
#include "util.h"

/* Values of settings that may hold secrets (sk_secret_name), so that
 * librdkafka's own texts (its log, the reasons of its error callback, its
 * errstr) are cleaned of them before anything prints them: librdkafka
 * quotes a value now and then (a keystore's path, the rest of a
 * sasl.oauthbearer.config it could not parse). Process-wide, as the log
 * callback has no opaque; kept until exit. Shorter values and booleans
 * would blank out common words: settings' values are never quoted by us,
 * and the debug log's configuration dump is cleaned by key. */
#define SECRET_MIN 4
#define REDACTED "[redacted]"
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char **secrets;
static size_t nsecrets;

static void remember_secret(const char *key, const char *value)
{
	char **v;
	size_t i;

	if (!sk_secret_name(key) || strlen(value) < SECRET_MIN || strcasecmp(value, "true") == 0 ||
	    strcasecmp(value, "false") == 0)
		return;
	pthread_mutex_lock(&secrets_lock);
	for (i = 0; i < nsecrets && strcmp(secrets[i], value) != 0; i++)
		;
	/* Out of memory: the value is not remembered, and the texts are
	 * cleaned of the others still. */
	if (i == nsecrets && (v = realloc(secrets, (nsecrets + 1) * sizeof *v)) != NULL) {
		secrets = v;
		if ((secrets[nsecrets] = strdup(value)) != NULL)
			nsecrets++;
	}
	pthread_mutex_unlock(&secrets_lock);
}

/* The secret that starts at s, or NULL. */
static const char *secret_at(const char *s)
{
	size_t i;

	for (i = 0; i < nsecrets; i++)
		if (strncmp(s, secrets[i], strlen(secrets[i])) == 0)
			return secrets[i];
	return NULL;
}

size_t sk_kafka_redact(const char *in, char *out, size_t size)
{
	size_t o = 0;
	const char *secret;

	if (size == 0)
		return 0;
	pthread_mutex_lock(&secrets_lock);
	while (*in && o + 1 < size) {
		if ((secret = secret_at(in)) != NULL) {
			size_t n = strlen(REDACTED) < size - 1 - o ? strlen(REDACTED) : size - 1 - o;
			memcpy(out + o, REDACTED, n);
			o += n;
			in += strlen(secret);
		} else
			out[o++] = *in++;
	}
	pthread_mutex_unlock(&secrets_lock);
	out[o] = '\0';
	return o;
}

/* A line of librdkafka's configuration dump, "...  KEY = VALUE": the
 * value replaced when the key may hold a secret (librdkafka 2.0.2 hides
 * only some, and not sasl.oauthbearer.client.secret). */
static void redact_dump_line(char *line, size_t size)
{
	char *eq = strstr(line, " = "), *k;
	char key[128];

	if (eq == NULL)
		return;
	for (k = eq; k > line && k[-1] != ' '; k--)
		;
	if ((size_t)(eq - k) >= sizeof key)
		return;
	memcpy(key, k, (size_t)(eq - k));
	key[eq - k] = '\0';
	if (sk_secret_name(key) && (size_t)(eq + 3 - line) + sizeof REDACTED <= size)
		strcpy(eq + 3, REDACTED);
}

/* librdkafka logs to stderr by default; a library prints nothing. */
static void on_log_quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk, (void)level, (void)fac, (void)buf;
}

/* -X debug=...: the user asked for librdkafka's log; it goes to stderr as
 * librdkafka prints it, without secrets. */
static void on_log_debug(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	char clean[2048];

	sk_kafka_redact(buf, clean, sizeof clean);
	if (strcmp(fac, "CONF") == 0)
		redact_dump_line(clean, sizeof clean);
	rd_kafka_log_print(rk, level, fac, clean);
}

/* Why librdkafka refused a setting, in its own words only when they
 * cannot hold the value: "unknown property", or "invalid value" with the
 * values or range its table of properties gives. */
static int refused(rd_kafka_conf_res_t res, const char *key, const char *errstr, const char *ctx, sk_err *e)
{
	char range[256];

	if (res == RD_KAFKA_CONF_UNKNOWN)
		return sk_err_set(e, EX_CONFIG, "%s: unknown property", ctx);
	if (strstr(errstr, "not supported in this build"))
		return sk_err_set(e, EX_CONFIG, "%s: not supported by this build of librdkafka", ctx);
	if (sk_kafka_property_range(key, range, sizeof range) == 0)
		return sk_err_set(e, EX_CONFIG, "%s: invalid value (expected %s%s)", ctx,
		                  strstr(range, " .. ") ? "" : "one of ", range);
	return sk_err_set(e, EX_CONFIG, "%s: invalid value", ctx);
}

/* Set key; a refusal names ctx (where it was set, and the key). */
static int conf_set_ctx(rd_kafka_conf_t *conf, const char *key, const char *value, const char *ctx, sk_err *e)
{
	char errstr[512];
	rd_kafka_conf_res_t res;

	remember_secret(key, value);
	if ((res = rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr)) != RD_KAFKA_CONF_OK)
		return refused(res, key, errstr, ctx, e);
	return 0;
}

int sk_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *where,
                      sk_err *e)
{
	char ctx[256];

	if (where == NULL)
		return conf_set_ctx(conf, key, value, key, e);
	snprintf(ctx, sizeof ctx, "%s: %s", where, key);
	return conf_set_ctx(conf, key, value, ctx, e);
}

int sk_kafka_property_range(const char *key, char *out, size_t size)
{
	char *text = NULL, *line, *next, *bar, *field;
	size_t n = 0, klen = strlen(key);
	FILE *f = open_memstream(&text, &n);
	int rc = -1;

	if (f == NULL)
		return -1;
	rd_kafka_conf_properties_show(f);
	if (fclose(f) != 0) {
		free(text);
		return -1;
	}
	/* "NAME<blanks> | C/P | RANGE | DEFAULT | ..." */
	for (line = text; line && *line && rc < 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, key, klen) != 0 || (line[klen] != ' ' && line[klen] != '|'))
			continue;
		if ((bar = strchr(line, '|')) == NULL || (bar = strchr(bar + 1, '|')) == NULL)
			continue;
		field = bar + 1;
		if ((bar = strchr(field, '|')) == NULL)
			continue;
		while (field < bar && *field == ' ')
			field++;
		while (bar > field && bar[-1] == ' ')
			bar--;
		if (bar > field && (size_t)(bar - field) < size) {
			memcpy(out, field, (size_t)(bar - field));
			out[bar - field] = '\0';
			rc = 0;
		}
	}
	free(text);
	return rc;
}

/* "KEY=VALUE" from -X: split and set. */
static int conf_set_kv(rd_kafka_conf_t *conf, const char *kv, sk_err *e)
{
	const char *eq = strchr(kv, '=');
	char *key, *ctx;
	int rc;

	if (eq == NULL || eq == kv)
		return sk_err_set(e, EX_CONFIG, "-X: expected KEY=VALUE");
	if ((key = strndup(kv, (size_t)(eq - kv))) == NULL || (ctx = sk_strprintf("-X %s", key)) == NULL) {
		free(key);
		return sk_err_oom(e);
	}
	rc = conf_set_ctx(conf, key, eq + 1, ctx, e);
	free(ctx);
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

/* One line of a properties file, trimmed and not a comment: KEY=VALUE. */
static int conf_file_line(rd_kafka_conf_t *conf, char *s, const char *path, long lineno, sk_err *e)
{
	char *eq = strchr(s, '='), *ctx;
	int rc;

	if (eq == NULL || eq == s)
		return sk_err_set(e, EX_CONFIG, "%s:%ld: expected KEY=VALUE", path, lineno);
	*eq = '\0';
	s = trim(s);
	if ((ctx = sk_strprintf("%s:%ld: %s", path, lineno, s)) == NULL)
		return sk_err_oom(e);
	rc = conf_set_ctx(conf, s, trim(eq + 1), ctx, e);
	free(ctx);
	return rc;
}

/* A librdkafka properties file: KEY=VALUE lines, blank lines, and comment
 * lines, whose first character that is not a blank is '#' or ';' (as in
 * the endpoints file: elsewhere they belong to the value). */
static int conf_file(rd_kafka_conf_t *conf, const char *path, sk_err *e)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *s;
	size_t cap = 0;
	long lineno = 0;
	int rc = 0;

	if (f == NULL)
		return sk_err_set(e, errno == ENOENT || errno == EACCES ? EX_CONFIG : EX_IOERR, "%s: %s",
		                  path, strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		s = trim(line);
		if (*s != '\0' && *s != '#' && *s != ';')
			rc = conf_file_line(conf, s, path, lineno, e);
	}
	if (rc == 0 && ferror(f))
		rc = sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

int sk_kafka_conf_new(const sk_endpoint *ep, const char *client_id, void *opaque, sk_kafka_error_cb *on_error,
                      rd_kafka_conf_t **out, sk_err *e)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (conf == NULL)
		return sk_err_oom(e);
	rd_kafka_conf_set_opaque(conf, opaque);
	rd_kafka_conf_set_error_cb(conf, on_error);
	rd_kafka_conf_set_log_cb(conf, on_log_quiet);
	if (sk_kafka_conf_set(conf, "bootstrap.servers", ep->hosts, NULL, e) < 0 ||
	    sk_kafka_conf_set(conf, "client.id", client_id, NULL, e) < 0) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	*out = conf;
	return 0;
}

/* The endpoint's kafka.KEY settings from the endpoints file. */
static int conf_endpoint(rd_kafka_conf_t *conf, const sk_endpoint *ep, sk_err *e)
{
	char *ctx;
	size_t i;
	int rc;

	for (i = 0; i < ep->nsettings; i++) {
		const sk_kv *s = &ep->settings[i];

		if (strncmp(s->key, "kafka.", 6) != 0)
			continue;
		if (ep->file)
			ctx = sk_strprintf("%s:%u: [%s] %s", ep->file, s->line, ep->name, s->key);
		else
			ctx = sk_strprintf("%s: %s", ep->arg, s->key);
		if (ctx == NULL)
			return sk_err_oom(e);
		rc = conf_set_ctx(conf, s->key + 6, s->value, ctx, e);
		free(ctx);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int sk_kafka_conf_apply(rd_kafka_conf_t *conf, const sk_endpoint *ep, const char *config_file,
                        const char *const *props, size_t n, sk_err *e)
{
	char debug[128];
	size_t i, dsize = sizeof debug;

	if (conf_endpoint(conf, ep, e) < 0 || (config_file && conf_file(conf, config_file, e) < 0))
		return -1;
	for (i = 0; i < n; i++)
		if (conf_set_kv(conf, props[i], e) < 0)
			return -1;
	/* -X debug=...: the user asked for librdkafka's own log on stderr. */
	if (rd_kafka_conf_get(conf, "debug", debug, &dsize) == RD_KAFKA_CONF_OK && debug[0] != '\0')
		rd_kafka_conf_set_log_cb(conf, on_log_debug);
	return 0;
}

const sk_option sk_kafka_conf_options[] = {
	{ "X", 'X', SK_OPT_REPEAT, "KEY=VALUE", "a librdkafka setting (repeatable)", 0, 0 },
	{ "kafka-config", 'F', SK_OPT_VALUE, "FILE", "librdkafka settings, KEY=VALUE lines", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

int sk_kafka_conf_apply_given(rd_kafka_conf_t *conf, const sk_endpoint *ep, const sk_kindopts *given,
                              sk_err *e)
{
	const char **props = NULL, *v;
	size_t i = 0, n = 0;
	int rc;

	if (given && (props = calloc(given->n + 1, sizeof *props)) == NULL)
		return sk_err_oom(e);
	while ((v = sk_kindopts_next(given, "X", &i)) != NULL)
		props[n++] = v;
	rc = sk_kafka_conf_apply(conf, ep, sk_kindopts_get(given, "kafka-config"), props, n, e);
	free(props);
	return rc;
}

void sk_kafka_waiting(const char *brokers, const char *topic, int64_t bound_ms)
{
	if (bound_ms > 0)
		sk_warn("waiting for brokers %s (topic %s) to answer, for up to %" PRId64 " s", brokers, topic,
		        (bound_ms + 999) / 1000);
	else
		sk_warn("waiting for brokers %s (topic %s) to answer, without end (message.timeout.ms=0)", brokers,
		        topic);
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
		char clean[512];

		rd_kafka_conf_destroy(conf);
		sk_kafka_redact(errstr, clean, sizeof clean);
		return sk_err_set(e, EX_CONFIG, "%s", clean);
	}
	*rkt = NULL;
	if (topic && (*rkt = rd_kafka_topic_new(*rk, topic, NULL)) == NULL)
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", topic,
		                  rd_kafka_err2str(rd_kafka_last_error()));
	return 0;
}
