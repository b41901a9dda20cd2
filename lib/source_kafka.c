/* source_kafka.c - the messages of Kafka topics: opening the consumer,
 * where each partition starts, and the source's operations.
 *
 * Assign mode (no group): every partition of the topic (or the URL's
 * partition=P), each read from where the recipe's stored position or
 * --from says, with librdkafka's simple consumer; nothing is committed to
 * Kafka.
 *
 * Group mode (group=G or --group G), a member of a consumer group:
 * kafka_group.c. Taking messages from librdkafka: kafka_consume.c. What
 * the three share: source_kafka_impl.h.
 *
 * Envelope: kafka_envelope.h.
 *
 * librdkafka settings: kafka_conf.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_kafka_impl.h"
#include "source_kafka.h"
#include "util.h"

#define METADATA_TRY_MS 2000        /* one metadata request */
#define DEFAULT_DRAIN_MS 10000      /* --drain-timeout */
#define METADATA_BOUND_MS 30000     /* unreachable brokers: give up after this */
#define METADATA_NOTICE_MS 1000     /* the first look: say that brokers are waited for after it */

/* The index of topic's partition p, or -1. */
int sk_kafka_find_part(struct sk_kafka_src *ks, const char *topic, int32_t p)
{
	int i;

	if (ks->last < ks->nparts && ks->parts[ks->last].partition == p &&
	    strcmp(ks->parts[ks->last].topic, topic) == 0)
		return ks->last;
	for (i = 0; i < ks->nparts; i++)
		if (ks->parts[i].partition == p && strcmp(ks->parts[i].topic, topic) == 0)
			return ks->last = i;
	return -1;
}

/* The index of topic's partition p, added (not assigned) when new; -1 out of memory. */
static int add_part(struct sk_kafka_src *ks, const char *topic, int32_t p)
{
	int i = sk_kafka_find_part(ks, topic, p);
	struct sk_kafka_part *np;

	if (i >= 0)
		return i;
	if (ks->nparts == ks->cap) {
		int cap = ks->cap ? 2 * ks->cap : 16;
		if ((np = realloc(ks->parts, (size_t)cap * sizeof *np)) == NULL)
			return -1;
		ks->parts = np;
		ks->cap = cap;
	}
	np = &ks->parts[ks->nparts];
	memset(np, 0, sizeof *np);
	if ((np->topic = strdup(topic)) == NULL)
		return -1;
	np->partition = p;
	np->emitted = np->committed = np->stored = -1;
	return ks->nparts++;
}

int64_t sk_kafka_start_offset(enum sk_from from, int64_t value)
{
	switch (from) {
	case SK_FROM_EARLIEST: return RD_KAFKA_OFFSET_BEGINNING;
	case SK_FROM_LATEST: return RD_KAFKA_OFFSET_END;
	case SK_FROM_OFFSET: return value;
	case SK_FROM_TAIL: return RD_KAFKA_OFFSET_TAIL(value);
	case SK_FROM_TIME: return RD_KAFKA_OFFSET_END;   /* resolved by sk_kafka_time_offset */
	}
	return RD_KAFKA_OFFSET_END;
}

int64_t sk_kafka_time_offset(int64_t answer)
{
	/* Kafka answers -1 when no message is that recent: start at the end,
	 * where the next message will be the first at or after the time. */
	return answer < 0 ? RD_KAFKA_OFFSET_END : answer;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct sk_kafka_src *ks = opaque;

	(void)rk;
	/* Transport errors are retried by librdkafka; only fatal ones stop us. */
	if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
		sk_kafka_redact(reason, ks->fatal, sizeof ks->fatal);
}

static int build_conf(struct sk_kafka_src *ks, const sk_endpoint *ep, const sk_source_opts *o,
                      rd_kafka_conf_t **out, sk_err *e)
{
	rd_kafka_conf_t *conf;
	char v[16];
	size_t vn = sizeof v;

	if (sk_kafka_conf_new(ep, "stream-read", ks, on_error, &conf, e) < 0)
		return -1;
	/* Ours first, so that every one can be overridden. A stored position
	 * that is no longer in the log: read what is there, lose nothing. */
	if (sk_kafka_conf_consumer(conf, e) < 0 ||
	    sk_kafka_conf_set(conf, "enable.partition.eof", "true", NULL, e) < 0 ||
	    sk_kafka_conf_set(conf, "auto.offset.reset", "earliest", NULL, e) < 0)
		goto fail;
	/* A group member stores the offsets the checkpoint covers, which
	 * librdkafka commits; a cooperative assignment moves only the
	 * partitions that must move. */
	if (ks->group &&
	    (sk_kafka_conf_set(conf, "group.id", ks->group, "group", e) < 0 ||
	     sk_kafka_conf_set(conf, "enable.auto.commit", "true", NULL, e) < 0 ||
	     sk_kafka_conf_set(conf, "auto.commit.interval.ms", "1000", NULL, e) < 0 ||
	     sk_kafka_conf_set(conf, "enable.auto.offset.store", "false", NULL, e) < 0 ||
	     sk_kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky",
	                       NULL, e) < 0))
		goto fail;
	if (sk_kafka_conf_apply_given(conf, ep, o->kindopts, e) < 0)
		goto fail;
	if (ks->group) {
		if (rd_kafka_conf_get(conf, "enable.auto.offset.store", v, &vn) == RD_KAFKA_CONF_OK &&
		    strcmp(v, "true") == 0) {
			sk_err_set(e, EX_CONFIG, "enable.auto.offset.store=true: stream-read stores a group's offsets "
			           "itself, once the checkpoint covers them");
			goto fail;
		}
		rd_kafka_conf_set_rebalance_cb(conf, sk_kafka_on_rebalance);
		rd_kafka_conf_set_offset_commit_cb(conf, sk_kafka_on_commit);
	}
	*out = conf;
	return 0;
fail:
	rd_kafka_conf_destroy(conf);
	return -1;
}

/* The topic's partition count, retrying while no broker answers: for
 * METADATA_BOUND_MS, saying so once the first look went unanswered for
 * METADATA_NOTICE_MS, so that a dead broker does not look like a hang. */
int sk_kafka_topic_partitions(struct sk_kafka_src *ks, int *n, sk_err *e)
{
	int64_t deadline = sk_now_ms() + METADATA_BOUND_MS;
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t err;
	int tries = 0;

	for (;;) {
		err = rd_kafka_metadata(ks->rk, 0, ks->rkt, &md, tries++ ? METADATA_TRY_MS : METADATA_NOTICE_MS);
		if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		if (ks->fatal[0])
			return sk_err_set(e, EX_UNAVAILABLE, "%s", ks->fatal);
		if (sk_now_ms() >= deadline)
			return sk_err_set(e, EX_UNAVAILABLE, "brokers %s not reachable for %d s: %s",
			                  ks->arg, METADATA_BOUND_MS / 1000, rd_kafka_err2str(err));
		if (tries == 1)
			sk_kafka_waiting(ks->arg, ks->topic, METADATA_BOUND_MS);
	}
	if (md->topic_cnt != 1) {
		rd_kafka_metadata_destroy(md);
		return sk_err_set(e, EX_UNAVAILABLE, "no metadata for topic %s", ks->topic);
	}
	err = md->topics[0].err;
	*n = md->topics[0].partition_cnt;
	rd_kafka_metadata_destroy(md);
	if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || (err == 0 && *n == 0))
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s does not exist", ks->topic);
	if (err)
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", ks->topic, rd_kafka_err2str(err));
	return 0;
}

/* Assign mode: the partitions to read, into *out. */
static int choose_partitions(struct sk_kafka_src *ks, const sk_endpoint *ep,
                             rd_kafka_topic_partition_list_t **out, sk_err *e)
{
	const char *p = sk_endpoint_param(ep, "partition");
	int n = 0, i;

	if (sk_kafka_topic_partitions(ks, &n, e) < 0)
		return -1;
	if ((*out = rd_kafka_topic_partition_list_new(p ? 1 : n)) == NULL)
		return sk_err_oom(e);
	if (p) {
		char *end;
		long v;

		errno = 0;
		v = strtol(p, &end, 10);
		if (errno || *p < '0' || *p > '9' || *end != '\0' || v >= n)
			return sk_err_set(e, EX_USAGE, "invalid partition=%s (topic %s has partitions 0..%d)", p,
			                  ks->topic, n - 1);
		rd_kafka_topic_partition_list_add(*out, ks->topic, (int32_t)v);
	} else
		for (i = 0; i < n; i++)
			rd_kafka_topic_partition_list_add(*out, ks->topic, i);
	return 0;
}

/* The stored position of topic's partition p under --name, plus one, in
 * *next: 1; 0 when none is stored; -1 on error. */
int sk_kafka_stored_next(struct sk_kafka_src *ks, const char *topic, int32_t p, int64_t *next, sk_err *e)
{
	char part[16], *src, *pos = NULL, *end;
	long long v;
	int rc;

	if (ks->o->name == NULL)
		return 0;
	if ((src = sk_strprintf("kafka:%s", topic)) == NULL)
		return sk_err_oom(e);
	snprintf(part, sizeof part, "%" PRId32, p);
	rc = sk_state_get_position(ks->o->state, ks->o->name, src, part, &pos, e);
	if (rc <= 0) {
		free(src);
		return rc;
	}
	errno = 0;
	v = strtoll(pos, &end, 10);
	if (errno || *end != '\0' || v < 0 || pos[0] < '0' || pos[0] > '9')
		rc = sk_err_set(e, EX_DATAERR, "stored position '%s' of %s partition %s is not an offset", pos, src,
		                part);
	else
		*next = v + 1;
	free(pos);
	free(src);
	return rc;
}

/* Where each partition of l starts, into its offset: after the later of
 * its stored position and (group mode) the group's committed offset, which
 * l holds; else --from (offsets for times asked of Kafka). */
int sk_kafka_where_to_start(struct sk_kafka_src *ks, rd_kafka_topic_partition_list_t *l, sk_err *e)
{
	rd_kafka_topic_partition_list_t *t = NULL;   /* those started by time */
	rd_kafka_resp_err_t err = 0;
	int i, j, k;

	for (i = 0; i < l->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &l->elems[i];
		int64_t local = -1, group = ks->group && tp->offset >= 0 ? tp->offset : -1;

		if ((k = add_part(ks, tp->topic, tp->partition)) < 0)
			goto nomem;
		ks->parts[k].committed = ks->parts[k].stored = group;
		ks->parts[k].emitted = -1;
		ks->parts[k].at_end = 0;
		if (sk_kafka_stored_next(ks, tp->topic, tp->partition, &local, e) < 0)
			goto fail;
		if (local >= 0 || group >= 0) {
			tp->offset = local > group ? local : group;
			continue;
		}
		tp->offset = sk_kafka_start_offset(ks->from.from, ks->from.from_value);
		if (ks->from.from != SK_FROM_TIME)
			continue;
		if (t == NULL && (t = rd_kafka_topic_partition_list_new(l->cnt)) == NULL)
			goto nomem;
		rd_kafka_topic_partition_list_add(t, tp->topic, tp->partition)->offset = ks->from.from_value;
	}
	if (t == NULL)
		return 0;
	err = rd_kafka_offsets_for_times(ks->rk, t, OFFSETS_TIMEOUT_MS);
	for (j = 0; err == 0 && j < t->cnt; j++) {
		if ((err = t->elems[j].err) != 0)
			break;
		for (i = 0; i < l->cnt; i++)
			if (l->elems[i].partition == t->elems[j].partition &&
			    strcmp(l->elems[i].topic, t->elems[j].topic) == 0)
				l->elems[i].offset = sk_kafka_time_offset(t->elems[j].offset);
	}
	rd_kafka_topic_partition_list_destroy(t);
	if (err)
		return sk_err_set(e, EX_UNAVAILABLE, "offsets for time %" PRId64 ": %s", ks->from.from_value,
		                  rd_kafka_err2str(err));
	return 0;
nomem:
	sk_err_oom(e);
fail:
	if (t)
		rd_kafka_topic_partition_list_destroy(t);
	return -1;
}

static void kafka_free(struct sk_kafka_src *ks)
{
	int i;

	if (ks == NULL)
		return;
	while (ks->ibatch < ks->nbatch)
		rd_kafka_message_destroy(ks->batch[ks->ibatch++]);
	if (ks->group && ks->rk) {
		/* Leave the group: what the checkpoint covers is committed as
		 * the partitions are revoked, without waiting any more. */
		ks->closing = 1;
		rd_kafka_consumer_close(ks->rk);
	}
	for (i = 0; !ks->group && ks->rkt && i < ks->started; i++)
		rd_kafka_consume_stop(ks->rkt, ks->parts[i].partition);
	if (ks->q)
		rd_kafka_queue_destroy(ks->q);
	if (ks->rkt)
		rd_kafka_topic_destroy(ks->rkt);
	if (ks->rk)
		rd_kafka_destroy(ks->rk);
	sk_kafka_env_free(&ks->kenv);
	for (i = 0; i < ks->nparts; i++)
		free(ks->parts[i].topic);
	free(ks->parts);
	free(ks->topic);
	free(ks->group);
	free(ks->arg);
	free(ks);
}

/* Assign mode: every partition of l from its offset. */
static int assign_start(struct sk_kafka_src *ks, const rd_kafka_topic_partition_list_t *l, sk_err *e)
{
	int k;

	for (ks->started = 0; ks->started < l->cnt; ks->started++) {
		const rd_kafka_topic_partition_t *tp = &l->elems[ks->started];

		/* parts[] was filled in l's order by sk_kafka_where_to_start. */
		k = sk_kafka_find_part(ks, tp->topic, tp->partition);
		if (rd_kafka_consume_start_queue(ks->rkt, tp->partition, tp->offset, ks->q) < 0)
			return sk_err_set(e, EX_UNAVAILABLE, "partition %" PRId32 ": %s", tp->partition,
			                  rd_kafka_err2str(rd_kafka_last_error()));
		ks->parts[k].assigned = 1;
	}
	ks->assigned_once = 1;
	return 0;
}

static int assign_open(struct sk_kafka_src *ks, const sk_endpoint *ep, sk_err *e)
{
	rd_kafka_topic_partition_list_t *l = NULL;
	int rc;

	if ((ks->q = rd_kafka_queue_new(ks->rk)) == NULL)
		return sk_err_oom(e);
	rc = choose_partitions(ks, ep, &l, e) < 0 || sk_kafka_where_to_start(ks, l, e) < 0 ||
	     assign_start(ks, l, e) < 0 ? -1 : 0;
	if (l)
		rd_kafka_topic_partition_list_destroy(l);
	return rc;
}

/* What reading a topic takes besides librdkafka's settings (-X, -F). */
static const sk_option kafka_options[] = {
	{ "group", 0, SK_OPT_VALUE, "GROUP", "consume as a member of GROUP", 0, 0 },
	{ "drain-timeout", 0, SK_OPT_VALUE, "T", "groups: wait up to T for the checkpoint to\n"
	  "cover what was printed, at a stop (default 10s)", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group kafka_option_group = { "kafka", kafka_options, sk_kafka_conf_options };

/* --drain-timeout, 10s when not given. */
static int drain_timeout(const sk_source_opts *o, int64_t *ms, sk_err *e)
{
	const char *v = sk_kindopts_get(o->kindopts, "drain-timeout");

	*ms = DEFAULT_DRAIN_MS;
	if (v && sk_parse_duration(v, ms, e) < 0)
		return sk_err_prefix(e, "--drain-timeout");
	return 0;
}

static int kafka_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	const char *group = sk_kindopts_get(o->kindopts, "group");
	const char *param = sk_endpoint_param(ep, "offset");
	struct sk_kafka_src *ks;
	rd_kafka_conf_t *conf = NULL;
	int64_t drain_ms;

	if (group == NULL)
		group = sk_endpoint_param(ep, "group");
	if (drain_timeout(o, &drain_ms, e) < 0)
		return -1;
	if (ep->topic == NULL || ep->topic[0] == '\0')
		return sk_err_set(e, EX_USAGE, "no topic (kafka://HOST:PORT/TOPIC)");
	if (group && group[0] == '\0')
		return sk_err_set(e, EX_USAGE, "an empty group name");
	if (ep->topic[0] == '^' && group == NULL)
		return sk_err_set(e, EX_USAGE, "a topic pattern (%s) needs a consumer group (--group G)", ep->topic);
	if ((ks = calloc(1, sizeof *ks)) == NULL)
		return sk_err_oom(e);
	ks->o = o;
	ks->drain_ms = drain_ms;
	ks->from = *o;
	if (!o->from_given && param && sk_from_parse(param, &ks->from, e) < 0) {
		sk_err_prefix(e, "offset=%s", param);
		goto fail;
	}
	if (sk_kafka_env_init(&ks->kenv, o->json, o->base64, o->max_line, e) < 0)
		goto fail;
	if (o->keep_values)
		sk_json_keep_values(ks->kenv.jp);
	if ((ks->arg = strdup(ep->hosts ? ep->hosts : "")) == NULL || (ks->topic = strdup(ep->topic)) == NULL ||
	    (group && (ks->group = strdup(group)) == NULL) ||
	    (s->id = sk_strprintf("kafka:%s", ep->topic)) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (build_conf(ks, ep, o, &conf, e) < 0 ||
	    sk_kafka_client(RD_KAFKA_CONSUMER, conf, ep->topic[0] == '^' ? NULL : ks->topic, &ks->rk, &ks->rkt,
	                    e) < 0)
		goto fail;
	if ((ks->group ? sk_kafka_group_open(ks, ep, e) : assign_open(ks, ep, e)) < 0)
		goto fail;
	s->impl = ks;
	return 0;
fail:
	kafka_free(ks);
	return -1;
}

static void kafka_close(sk_source *s)
{
	kafka_free(s->impl);
}

const struct sk_source_ops sk_source_kafka_ops = {
	.kind = "kafka",
	.options = &kafka_option_group,
	.open = kafka_open,
	.next = sk_kafka_next,
	.drain = sk_kafka_group_drain,
	.close = kafka_close,
};