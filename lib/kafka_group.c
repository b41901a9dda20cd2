/* kafka_group.c - the Kafka source as a member of a balanced consumer
 * group: subscribing, rebalances, the offsets stored and committed for
 * what the checkpoint covers, and draining partitions given up.
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
 * committed. */
#include <string.h>
#include <time.h>

#include "source_kafka_impl.h"
#include "util.h"

#define DRAIN_POLL_MS 50          /* group mode: looking at the store while draining */

static void set_assigned(struct sk_kafka_src *ks, const rd_kafka_topic_partition_list_t *l, int on)
{
	int i, k;

	for (i = 0; i < l->cnt; i++)
		if ((k = sk_kafka_find_part(ks, l->elems[i].topic, l->elems[i].partition)) >= 0) {
			ks->parts[k].assigned = (unsigned char)on;
			ks->parts[k].at_end = 0;
		}
}

/* Group mode: for the partitions of l (NULL: every assigned one), what the
 * checkpoint covers and the group does not have yet: committed, waiting for
 * the answer, or (store) handed to librdkafka's offset store. */
int sk_kafka_commit_covered(struct sk_kafka_src *ks, const rd_kafka_topic_partition_list_t *l, int store, sk_err *e)
{
	rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(ks->nparts);
	rd_kafka_resp_err_t err;
	int i, k, n = l ? l->cnt : ks->nparts;
	int64_t next;

	if (c == NULL)
		return sk_err_oom(e);
	for (i = 0; i < n; i++) {
		k = l ? sk_kafka_find_part(ks, l->elems[i].topic, l->elems[i].partition) : i;
		if (k < 0 || (l == NULL && !ks->parts[k].assigned))
			continue;
		next = -1;
		if (sk_kafka_stored_next(ks, ks->parts[k].topic, ks->parts[k].partition, &next, e) < 0) {
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
		    (k = sk_kafka_find_part(ks, c->elems[i].topic, c->elems[i].partition)) >= 0) {
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
void sk_kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                        void *opaque)
{
	struct sk_kafka_src *ks = opaque;
	int i, k;

	(void)rk;
	for (i = 0; l && i < l->cnt; i++)
		if (!err && !l->elems[i].err &&
		    (k = sk_kafka_find_part(ks, l->elems[i].topic, l->elems[i].partition)) >= 0 &&
		    l->elems[i].offset > ks->parts[k].committed)
			ks->parts[k].committed = l->elems[i].offset;
}

/* Does the checkpoint cover what was emitted from every partition of l? */
static int covered(struct sk_kafka_src *ks, const rd_kafka_topic_partition_list_t *l, sk_err *e)
{
	int i, k;
	int64_t next;

	for (i = 0; i < l->cnt; i++) {
		if ((k = sk_kafka_find_part(ks, l->elems[i].topic, l->elems[i].partition)) < 0 ||
		    ks->parts[k].emitted < 0)
			continue;
		next = -1;
		if (sk_kafka_stored_next(ks, l->elems[i].topic, l->elems[i].partition, &next, e) < 0)
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
static int release(struct sk_kafka_src *ks, const rd_kafka_topic_partition_list_t *l, int wait, sk_err *e)
{
	const sk_source_opts *o = ks->o;
	int64_t deadline = sk_now_ms() + ks->drain_ms;
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
	return sk_kafka_commit_covered(ks, l, 0, e);
}

static void cb_fail(struct sk_kafka_src *ks, const sk_err *e)
{
	if (!ks->cb_failed) {
		ks->cb_err = *e;
		ks->cb_failed = 1;
	}
}

/* Group mode: the group assigns partitions to this member or takes them. */
void sk_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                           void *opaque)
{
	struct sk_kafka_src *ks = opaque;
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
		if (sk_kafka_where_to_start(ks, l, &e) < 0) {
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

int sk_kafka_group_open(struct sk_kafka_src *ks, const sk_endpoint *ep, sk_err *e)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t err;
	int n;

	if (sk_endpoint_param(ep, "partition"))
		return sk_err_set(e, EX_USAGE, "partition= and a group exclude each other: the group assigns "
		                  "the partitions");
	/* A topic (not a pattern) must exist: say so now, not never. */
	if (ks->rkt && sk_kafka_topic_partitions(ks, &n, e) < 0)
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

/* The output is closed: drain every partition (group mode). */
int sk_kafka_group_drain(sk_source *s, sk_err *e)
{
	struct sk_kafka_src *ks = s->impl;
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
