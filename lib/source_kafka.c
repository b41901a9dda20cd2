/* source_kafka.c - the messages of Kafka topics.
 *
 * Assign mode (no group): every partition of the topic (or the URL's
 * partition=P), each read from where the recipe's stored position or
 * --from says, with librdkafka's simple consumer; nothing is committed to
 * Kafka.
 *
 * Group mode (group=G or --group G): a member of a balanced consumer group
 * subscribed to the topic or to a ^regex pattern. A partition assigned to
 * this member starts after the later of the recipe's stored position and
 * the group's committed offset (else --from). Offsets are committed to the
 * group only for what the recipe's checkpoint covers: the positions the
 * pipeline's sink stored under --name, polled about once a second and
 * handed to librdkafka's offset store, which its auto commit sends. That
 * commit waits while the group rebalances: librdkafka 2.0.2 drops the
 * assignment when a commit sent then comes back ILLEGAL_GENERATION
 * (librdkafka #4059), and the partitions' drained commit with it. A
 * partition revoked in a rebalance, and every partition at a clean stop,
 * is drained first: the tool's output is flushed (or closed), the store is
 * polled until its checkpoint covers what was emitted (at most
 * --drain-timeout), and that is committed. Without --name nothing is ever
 * committed.
 *
 * Envelope: kafka_envelope.h.
 *
 * librdkafka settings: kafka_conf.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "source_impl.h"
#include "source_kafka.h"
#include "kafka_conf.h"
#include "kafka_envelope.h"
#include "util.h"

#define BATCH 1024                  /* messages taken from librdkafka at once */
#define METADATA_TRY_MS 2000        /* one metadata request */
#define METADATA_BOUND_MS 30000     /* unreachable brokers: give up after this */
#define METADATA_NOTICE_MS 1000     /* the first look: say that brokers are waited for after it */
#define OFFSETS_TIMEOUT_MS 10000    /* offsets for times */

#define STORE_EVERY_MS 1000      /* group mode: look for a newer checkpoint */
#define DRAIN_POLL_MS 50          /* group mode: looking at the store while draining */

/* A partition read now or before. */
struct part {
	char *topic;
	int32_t partition;
	unsigned char assigned;     /* being read now */
	unsigned char at_end;       /* EOF seen, nothing since */
	int64_t emitted;            /* offset of the last message returned, -1: none */
	int64_t committed;          /* group mode: next offset the group has, -1: unknown */
	int64_t stored;             /* group mode: next offset in librdkafka's offset store */
};

struct kafka_src {
	char *arg;                  /* the endpoint as written, for messages */
	char *topic;                /* a topic, or a ^regex in group mode */
	char *group;                /* NULL: assign mode */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;      /* assign mode, and group mode on one topic */
	rd_kafka_queue_t *q;
	struct part *parts;
	int nparts, cap, last;      /* last: the index found last */
	int started;                /* assign mode: partitions whose consume_start succeeded */
	/* group mode */
	const sk_source_opts *o;    /* --name, the store, --from, the flush hook */
	int assigned_once;          /* a first assignment came */
	int closing;                /* the output is closed: drain without flushing */
	sk_source_opts from;        /* --from, or the URL's offset= */
	int64_t next_store_ms;
	sk_err cb_err;              /* a failure inside a rebalance callback */
	int cb_failed;
	rd_kafka_message_t *batch[BATCH];
	ssize_t nbatch, ibatch;
	sk_kafka_env kenv;
	sk_kafka_refill refill;     /* see take_batch */
	char fatal[256];            /* a fatal error from librdkafka's error callback */
};


/* The index of topic's partition p, or -1. */
static int find_part(struct kafka_src *ks, const char *topic, int32_t p)
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
static int add_part(struct kafka_src *ks, const char *topic, int32_t p)
{
	int i = find_part(ks, topic, p);
	struct part *np;

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
	struct kafka_src *ks = opaque;

	(void)rk;
	/* Transport errors are retried by librdkafka; only fatal ones stop us. */
	if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
	    err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
		sk_kafka_redact(reason, ks->fatal, sizeof ks->fatal);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque);
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *l, void *opaque);

static int build_conf(struct kafka_src *ks, const sk_endpoint *ep, const sk_source_opts *o,
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
	if (sk_kafka_conf_apply(conf, ep, o->kafka_config_file, o->kafka_props, o->nkafka_props, e) < 0)
		goto fail;
	if (ks->group) {
		if (rd_kafka_conf_get(conf, "enable.auto.offset.store", v, &vn) == RD_KAFKA_CONF_OK &&
		    strcmp(v, "true") == 0) {
			sk_err_set(e, EX_CONFIG, "enable.auto.offset.store=true: stream-read stores a group's offsets "
			           "itself, once the checkpoint covers them");
			goto fail;
		}
		rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
		rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
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
static int topic_partitions(struct kafka_src *ks, int *n, sk_err *e)
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
static int choose_partitions(struct kafka_src *ks, const sk_endpoint *ep,
                             rd_kafka_topic_partition_list_t **out, sk_err *e)
{
	const char *p = sk_endpoint_param(ep, "partition");
	int n = 0, i;

	if (topic_partitions(ks, &n, e) < 0)
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
static int stored_next(struct kafka_src *ks, const char *topic, int32_t p, int64_t *next, sk_err *e)
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
static int start_offsets(struct kafka_src *ks, rd_kafka_topic_partition_list_t *l, sk_err *e)
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
		if (stored_next(ks, tp->topic, tp->partition, &local, e) < 0)
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

static void set_assigned(struct kafka_src *ks, const rd_kafka_topic_partition_list_t *l, int on)
{
	int i, k;

	for (i = 0; i < l->cnt; i++)
		if ((k = find_part(ks, l->elems[i].topic, l->elems[i].partition)) >= 0) {
			ks->parts[k].assigned = (unsigned char)on;
			ks->parts[k].at_end = 0;
		}
}

/* Group mode: for the partitions of l (NULL: every assigned one), what the
 * checkpoint covers and the group does not have yet: committed, waiting for
 * the answer, or (store) handed to librdkafka's offset store. */
static int commit_covered(struct kafka_src *ks, const rd_kafka_topic_partition_list_t *l, int store, sk_err *e)
{
	rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(ks->nparts);
	rd_kafka_resp_err_t err;
	int i, k, n = l ? l->cnt : ks->nparts;
	int64_t next;

	if (c == NULL)
		return sk_err_oom(e);
	for (i = 0; i < n; i++) {
		k = l ? find_part(ks, l->elems[i].topic, l->elems[i].partition) : i;
		if (k < 0 || (l == NULL && !ks->parts[k].assigned))
			continue;
		next = -1;
		if (stored_next(ks, ks->parts[k].topic, ks->parts[k].partition, &next, e) < 0) {
			rd_kafka_topic_partition_list_destroy(c);
			return -1;
		}
		if (next > (store ? ks->parts[k].stored : ks->parts[k].committed))
			rd_kafka_topic_partition_list_add(c, ks->parts[k].topic, ks->parts[k].partition)->offset = next;
	}
	/* Stored too when committed: librdkafka commits the offset store as
	 * partitions are revoked, which must not take the group back. A
	 * partition no longer assigned is not stored. */
	err = c->cnt ? rd_kafka_offsets_store(ks->rk, c) : 0;
	if (c->cnt && !store)
		err = rd_kafka_commit(ks->rk, c, 0);
	for (i = 0; i < c->cnt; i++)
		if ((err == 0 || c->elems[i].err == 0) &&
		    (k = find_part(ks, c->elems[i].topic, c->elems[i].partition)) >= 0) {
			if (c->elems[i].offset > ks->parts[k].stored)
				ks->parts[k].stored = c->elems[i].offset;
			if (!store && err == 0)
				ks->parts[k].committed = c->elems[i].offset;
		}
	rd_kafka_topic_partition_list_destroy(c);
	if (err && !store)
		return sk_err_set(e, EX_TEMPFAIL, "committing offsets to group %s: %s", ks->group,
		                  rd_kafka_err2str(err));
	return 0;
}

/* A commit (librdkafka's, of the offset store) came back: what the group
 * has. A failed one is sent again by librdkafka. */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                      void *opaque)
{
	struct kafka_src *ks = opaque;
	int i, k;

	(void)rk;
	for (i = 0; l && i < l->cnt; i++)
		if (!err && !l->elems[i].err && (k = find_part(ks, l->elems[i].topic, l->elems[i].partition)) >= 0 &&
		    l->elems[i].offset > ks->parts[k].committed)
			ks->parts[k].committed = l->elems[i].offset;
}

/* Does the checkpoint cover what was emitted from every partition of l? */
static int covered(struct kafka_src *ks, const rd_kafka_topic_partition_list_t *l, sk_err *e)
{
	int i, k;
	int64_t next;

	for (i = 0; i < l->cnt; i++) {
		if ((k = find_part(ks, l->elems[i].topic, l->elems[i].partition)) < 0 || ks->parts[k].emitted < 0)
			continue;
		next = -1;
		if (stored_next(ks, l->elems[i].topic, l->elems[i].partition, &next, e) < 0)
			return -1;
		if (next <= ks->parts[k].emitted)
			return 0;
	}
	return 1;
}

/* Group mode: partitions l are given up (revoked, or a clean stop). With
 * wait, flush the tool's output (unless it is closed) and wait up to
 * --drain-timeout for the checkpoint to cover what was emitted from them;
 * then commit what it covers. */
static int release(struct kafka_src *ks, const rd_kafka_topic_partition_list_t *l, int wait, sk_err *e)
{
	const sk_source_opts *o = ks->o;
	int64_t deadline = sk_now_ms() + o->drain_ms;
	struct timespec pause = { 0, DRAIN_POLL_MS * 1000000L };
	int rc;

	if (o->name == NULL)
		return 0;
	if (wait) {
		if ((rc = covered(ks, l, e)) < 0)
			return -1;
		if (rc == 0 && !ks->closing && o->flush && o->flush(o->flush_arg, e) < 0)
			return -1;
		while (rc == 0 && sk_now_ms() < deadline) {
			nanosleep(&pause, NULL);
			if ((rc = covered(ks, l, e)) < 0)
				return -1;
		}
	}
	return commit_covered(ks, l, 0, e);
}

static void cb_fail(struct kafka_src *ks, const sk_err *e)
{
	if (!ks->cb_failed) {
		ks->cb_err = *e;
		ks->cb_failed = 1;
	}
}

/* Group mode: the group assigns partitions to this member or takes them. */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                         void *opaque)
{
	struct kafka_src *ks = opaque;
	int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_resp_err_t ce = 0;
	rd_kafka_error_t *ke = NULL;
	sk_err e = { 0 };

	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		ks->assigned_once = 1;
		if (ks->cb_failed)
			return;
		/* The group's committed offsets, then ours. */
		if ((ce = rd_kafka_committed(rk, l, OFFSETS_TIMEOUT_MS)) != 0) {
			sk_err_set(&e, EX_TEMPFAIL, "offsets of group %s: %s", ks->group, rd_kafka_err2str(ce));
			cb_fail(ks, &e);
			return;
		}
		if (start_offsets(ks, l, &e) < 0) {
			cb_fail(ks, &e);
			return;
		}
		if (coop)
			ke = rd_kafka_incremental_assign(rk, l);
		else
			ce = rd_kafka_assign(rk, l);
	} else {
		/* Revoked: drain and commit; lost (another member has them by
		 * now): nothing may be committed for them. A commit the group
		 * refuses now (some brokers refuse them during a rebalance) only
		 * means the next owner reads again what it did not get. */
		if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk) &&
		    release(ks, l, !ks->closing, &e) < 0) {
			if (e.code != EX_TEMPFAIL)
				cb_fail(ks, &e);
			else
				sk_warn("%s (partitions revoked: their next owner reads from the group's last commit)",
				        e.msg);
		}
		set_assigned(ks, l, 0);
		if (coop)
			ke = rd_kafka_incremental_unassign(rk, l);
		else
			ce = rd_kafka_assign(rk, NULL);
		if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
			return;
	}
	if (ke) {
		sk_err_set(&e, EX_UNAVAILABLE, "group %s: %s", ks->group, rd_kafka_error_string(ke));
		rd_kafka_error_destroy(ke);
		cb_fail(ks, &e);
	} else if (ce) {
		sk_err_set(&e, EX_UNAVAILABLE, "group %s: %s", ks->group, rd_kafka_err2str(ce));
		cb_fail(ks, &e);
	} else if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
		set_assigned(ks, l, 1);
}

static void kafka_free(struct kafka_src *ks)
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
static int assign_start(struct kafka_src *ks, const rd_kafka_topic_partition_list_t *l, sk_err *e)
{
	int k;

	for (ks->started = 0; ks->started < l->cnt; ks->started++) {
		const rd_kafka_topic_partition_t *tp = &l->elems[ks->started];

		/* parts[] was filled in l's order by start_offsets. */
		k = find_part(ks, tp->topic, tp->partition);
		if (rd_kafka_consume_start_queue(ks->rkt, tp->partition, tp->offset, ks->q) < 0)
			return sk_err_set(e, EX_UNAVAILABLE, "partition %" PRId32 ": %s", tp->partition,
			                  rd_kafka_err2str(rd_kafka_last_error()));
		ks->parts[k].assigned = 1;
	}
	ks->assigned_once = 1;
	return 0;
}

static int assign_open(struct kafka_src *ks, const sk_endpoint *ep, sk_err *e)
{
	rd_kafka_topic_partition_list_t *l = NULL;
	int rc;

	if ((ks->q = rd_kafka_queue_new(ks->rk)) == NULL)
		return sk_err_oom(e);
	rc = choose_partitions(ks, ep, &l, e) < 0 || start_offsets(ks, l, e) < 0 || assign_start(ks, l, e) < 0
	         ? -1 : 0;
	if (l)
		rd_kafka_topic_partition_list_destroy(l);
	return rc;
}

static int group_open(struct kafka_src *ks, const sk_endpoint *ep, sk_err *e)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;
	int n;

	if (sk_endpoint_param(ep, "partition"))
		return sk_err_set(e, EX_USAGE, "partition= and a group exclude each other: the group assigns "
		                  "the partitions");
	/* A topic (not a pattern) must exist: say so now, not never. */
	if (ks->rkt && topic_partitions(ks, &n, e) < 0)
		return -1;
	if ((err = rd_kafka_poll_set_consumer(ks->rk)) != 0)
		return sk_err_set(e, EX_SOFTWARE, "group %s: %s", ks->group, rd_kafka_err2str(err));
	if ((ks->q = rd_kafka_queue_get_consumer(ks->rk)) == NULL)
		return sk_err_oom(e);
	if ((l = rd_kafka_topic_partition_list_new(1)) == NULL)
		return sk_err_oom(e);
	rd_kafka_topic_partition_list_add(l, ks->topic, RD_KAFKA_PARTITION_UA);
	err = rd_kafka_subscribe(ks->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (err)
		return sk_err_set(e, EX_UNAVAILABLE, "group %s: subscribing to %s: %s", ks->group, ks->topic,
		                  rd_kafka_err2str(err));
	return 0;
}

static int kafka_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	const char *group = o->group ? o->group : sk_endpoint_param(ep, "group");
	const char *param = sk_endpoint_param(ep, "offset");
	struct kafka_src *ks;
	rd_kafka_conf_t *conf = NULL;

	if (ep->topic == NULL || ep->topic[0] == '\0')
		return sk_err_set(e, EX_USAGE, "no topic (kafka://HOST:PORT/TOPIC)");
	if (group && group[0] == '\0')
		return sk_err_set(e, EX_USAGE, "an empty group name");
	if (ep->topic[0] == '^' && group == NULL)
		return sk_err_set(e, EX_USAGE, "a topic pattern (%s) needs a consumer group (--group G)", ep->topic);
	if ((ks = calloc(1, sizeof *ks)) == NULL)
		return sk_err_oom(e);
	ks->o = o;
	ks->from = *o;
	if (!o->from_given && param && sk_from_parse(param, &ks->from, e) < 0) {
		sk_err_prefix(e, "offset=%s", param);
		goto fail;
	}
	if (sk_kafka_env_init(&ks->kenv, o->json, o->base64, o->max_line, e) < 0)
		goto fail;
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
	if ((ks->group ? group_open(ks, ep, e) : assign_open(ks, ep, e)) < 0)
		goto fail;
	s->impl = ks;
	return 0;
fail:
	kafka_free(ks);
	return -1;
}

/* Every partition being read is at its end (group mode: once the group
 * has assigned this member its partitions, which may be none). */
static int all_at_end(const struct kafka_src *ks)
{
	int i;

	if (!ks->assigned_once)
		return 0;
	for (i = 0; i < ks->nparts; i++)
		if (ks->parts[i].assigned && !ks->parts[i].at_end)
			return 0;
	return 1;
}

/* A partition reached its end (1), or an error that ends the read (-1). */
static int event(struct kafka_src *ks, rd_kafka_message_t *km, sk_err *e)
{
	const char *topic = km->rkt ? rd_kafka_topic_name(km->rkt) : ks->topic;
	char why[512];
	int i;

	if (km->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if ((i = find_part(ks, topic, km->partition)) >= 0)
			ks->parts[i].at_end = 1;
		return 1;
	}
	switch (km->err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s does not exist", topic);
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s has no partition %" PRId32, topic, km->partition);
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
	case RD_KAFKA_RESP_ERR__FATAL:
		sk_kafka_redact(rd_kafka_message_errstr(km), why, sizeof why);
		return sk_err_set(e, EX_UNAVAILABLE, "topic %s: %s", topic, why);
	default:
		/* Transient (transport, leader moves): librdkafka retries. */
		return 1;
	}
}

/* Wait up to wait_ms for one message or event, then take what else is
 * ready without waiting (a batch call alone waits until it is full). */
static int take_batch(struct kafka_src *ks, int wait_ms, sk_err *e)
{
	ssize_t n;

	ks->ibatch = ks->nbatch = 0;
	if ((ks->batch[0] = rd_kafka_consume_queue(ks->q, wait_ms)) == NULL)
		return 0;
	n = rd_kafka_consume_batch_queue(ks->q, 0, ks->batch + 1, BATCH - 1);
	if (n < 0) {
		rd_kafka_message_destroy(ks->batch[0]);
		return sk_err_set(e, EX_SOFTWARE, "consume: %s", rd_kafka_err2str(rd_kafka_last_error()));
	}
	ks->nbatch = n + 1;
	sk_kafka_refill_taken(&ks->refill, ks->rk, ks->q, ks->batch, (size_t)ks->nbatch);
	return 0;
}

static int kafka_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct kafka_src *ks = s->impl;
	rd_kafka_message_t *km;
	int64_t deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms, now;
	int wait, i, rc, took = 0;

	for (;;) {
		if (ks->cb_failed) {
			*e = ks->cb_err;
			return -1;
		}
		while (ks->ibatch < ks->nbatch) {
			km = ks->batch[ks->ibatch];
			ks->batch[ks->ibatch++] = NULL;
			if (km->err) {
				took = 1;
				rc = event(ks, km, e);
				rd_kafka_message_destroy(km);
				if (rc < 0)
					return -1;
				continue;
			}
			i = find_part(ks, rd_kafka_topic_name(km->rkt), km->partition);
			if (i >= 0 && !ks->parts[i].assigned) {
				rd_kafka_message_destroy(km);   /* revoked since it was fetched */
				continue;
			}
			rc = sk_kafka_envelope(&ks->kenv, km, m, e);
			if (i >= 0) {
				ks->parts[i].at_end = 0;
				if (rc == 1)
					ks->parts[i].emitted = km->offset;
			}
			rd_kafka_message_destroy(km);
			return rc;
		}
		now = sk_now_ms();
		if (!ks->group)
			rd_kafka_poll(ks->rk, 0);
		else if (ks->o->name && now >= ks->next_store_ms) {
			ks->next_store_ms = now + STORE_EVERY_MS;
			if (commit_covered(ks, NULL, 1, e) < 0)
				return -1;
		}
		if (ks->fatal[0])
			return sk_err_set(e, EX_UNAVAILABLE, "%s", ks->fatal);
		if (took && all_at_end(ks))
			return SK_END;  /* the batch just taken brought every partition to its end */
		wait = 0;
		if (deadline >= 0) {
			int64_t left = deadline - now;
			wait = left > 0 ? (int)left : 0;
		} else
			wait = 1000;
		if (take_batch(ks, wait, e) < 0)
			return -1;
		took = ks->nbatch > 0;
		if (ks->nbatch == 0 && !ks->cb_failed && deadline >= 0 && sk_now_ms() >= deadline)
			return all_at_end(ks) ? SK_END : 0;
	}
}

/* The output is closed: drain every partition (group mode). */
static int kafka_drain(sk_source *s, sk_err *e)
{
	struct kafka_src *ks = s->impl;
	rd_kafka_topic_partition_list_t *l;
	int i, rc;

	if (!ks->group || ks->o->name == NULL)
		return 0;
	ks->closing = 1;
	if ((l = rd_kafka_topic_partition_list_new(ks->nparts)) == NULL)
		return sk_err_oom(e);
	for (i = 0; i < ks->nparts; i++)
		if (ks->parts[i].assigned)
			rd_kafka_topic_partition_list_add(l, ks->parts[i].topic, ks->parts[i].partition);
	rc = release(ks, l, 1, e);
	rd_kafka_topic_partition_list_destroy(l);
	return rc;
}

static void kafka_close(sk_source *s)
{
	kafka_free(s->impl);
}

const struct sk_source_ops sk_source_kafka_ops = {
	.kind = "kafka",
	.open = kafka_open,
	.next = kafka_next,
	.drain = kafka_drain,
	.close = kafka_close,
};
