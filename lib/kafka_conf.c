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

int sk_kafka_client(rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *topic,
                    rd_kafka_t **rk, rd_kafka_topic_t **rkt, sk_err *e)
{
	char errstr[512];

	if ((*rk = rd_kafka_new(type, conf, errstr, sizeof errstr)) == NULL) {
		rd_kafka_conf_destroy(conf);
		return sk_err_set(e, EX_CONFIG, "%s", errstr);
	}
	if ((*rkt = rd_kafka_topic_new(*rk, topic, NULL)) == NULL)
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", topic,
		                  rd_kafka_err2str(rd_kafka_last_error()));
	return 0;
}
