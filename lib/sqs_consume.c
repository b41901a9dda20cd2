/* sqs_consume.c - an SQS source's calls on one libcurl multi handle:
 * receives in flight (--concurrency), the messages held, and deletes and
 * visibility changes in batches of ten, all at once.
 *
 * Every message received is held under a sequence number, the one its
 * cursor carries, until it is gone: deleted once the checkpoint stored
 * under --name covers its cursor (the store is asked every POLL_MS), or
 * released (made visible again) at the end. While it is held its
 * visibility is renewed when half of it has passed, never past the
 * 12 hours SQS allows from its receipt (then it is given up, and will
 * come again). A failed call is retried after a growing, jittered wait;
 * a missing queue or credentials that SQS refuses end the source.
 *
 * The end (drain): the tool's output is closed, so whatever it printed is
 * with the pipeline. The receives in flight end (within --wait-time),
 * messages never printed are released at once, and those printed wait up
 * to --drain-timeout for a checkpoint to cover them; the rest are
 * released. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source_sqs_impl.h"
#include "stop.h"

#define POLL_MS 100                 /* asking the store what a checkpoint covers */
#define FIRST_BACKOFF_MS 200
#define MAX_BACKOFF_MS 20000
#define MAX_CALLS 32                /* deletes and changes in flight */
#define END_WAIT_MS 10000           /* the last releases, at the end */

/* --- calls --- */

int sk_sqs_add_call(struct sk_sqs_src *ss, sk_sqs_call *c, sk_err *e)
{
	if (sk_sqs_call_sign(c, ss->creds, e) < 0)
		return -1;
	if (curl_multi_add_handle(ss->multi, c->easy) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "%s: libcurl refuses another transfer", ss->arg);
	return 0;
}

int sk_sqs_wait(struct sk_sqs_src *ss, int64_t ms, int stoppable, sk_err *e)
{
	struct curl_waitfd stop = { .fd = sk_stop_wake_fd(), .events = CURL_WAIT_POLLIN };

	if (ms <= 0)
		return 0;
	if (curl_multi_poll(ss->multi, &stop, stoppable && stop.fd >= 0, ms > 1000 ? 1000 : (int)ms, NULL) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "waiting for SQS failed");
	return 0;
}

/* A call not in flight, made when all are. */
static struct sk_sqs_slot *slot_get(struct sk_sqs_src *ss, sk_err *e)
{
	struct sk_sqs_slot *sl, **v;
	size_t i;

	for (i = 0; i < ss->nslots; i++)
		if (!ss->slots[i]->busy)
			return ss->slots[i];
	if ((v = realloc(ss->slots, (ss->nslots + 1) * sizeof *v)) == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	ss->slots = v;
	if ((sl = calloc(1, sizeof *sl)) == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	if ((sl->call = sk_sqs_call_new(&ss->queue, e)) == NULL) {
		free(sl);
		return NULL;
	}
	sl->call->user = sl;
	ss->slots[ss->nslots++] = sl;
	return sl;
}

static int launch(struct sk_sqs_src *ss, struct sk_sqs_slot *sl, sk_err *e)
{
	if (sk_sqs_add_call(ss, sl->call, e) < 0)
		return -1;
	sl->busy = 1;
	sl->sent_ms = sk_now_ms();
	ss->busy++;
	return 0;
}

static void finish(struct sk_sqs_src *ss, struct sk_sqs_slot *sl)
{
	curl_multi_remove_handle(ss->multi, sl->call->easy);
	sl->busy = 0;
	ss->busy--;
	if (sl->kind == SK_SQS_CALL_RECEIVE) {
		ss->receiving--;
		ss->asked -= (uint64_t)sl->asked;
	}
}

/* A failed call: SQS is busy or away (wait and try again), or the source
 * cannot go on. */
static void failed(struct sk_sqs_src *ss, const sk_sqs_error *err)
{
	int64_t jitter;

	if (err->kind != SK_SQS_RETRY && err->kind != SK_SQS_OVER_LIMIT) {
		sk_sqs_set_fatal(ss, &err->err);
		return;
	}
	if (!ss->failing)
		sk_warn("%s: %s; retrying", ss->arg, err->err.msg);
	ss->failing = 1;
	/* The calls in flight fail together when SQS goes away: one wait for
	 * them all, not one more doubling each. */
	if (sk_now_ms() < ss->retry_at)
		return;
	if (ss->backoff_ms == 0)
		ss->backoff_ms = FIRST_BACKOFF_MS;
	ss->rand ^= ss->rand << 13;
	ss->rand ^= ss->rand >> 7;
	ss->rand ^= ss->rand << 17;
	jitter = (int64_t)(ss->rand % (uint64_t)(ss->backoff_ms / 2 + 1));
	ss->retry_at = sk_now_ms() + ss->backoff_ms / 2 + jitter;
	ss->backoff_ms = ss->backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : ss->backoff_ms * 2;
}

static void succeeded(struct sk_sqs_src *ss)
{
	if (ss->failing)
		sk_info("%s: SQS answers again", ss->arg);
	ss->failing = 0;
	ss->backoff_ms = 0;
}

/* --- messages held --- */

static struct sk_sqs_held *held_at(struct sk_sqs_src *ss, uint64_t seq)
{
	return seq >= ss->base && seq - ss->base < ss->nheld ? &ss->held[seq - ss->base] : NULL;
}

static void gone(struct sk_sqs_src *ss, struct sk_sqs_held *h)
{
	free(h->receipt);
	h->receipt = NULL;
	h->state = SK_SQS_GONE;
	ss->live--;
}

/* Messages gone at the front are forgotten. */
static void trim(struct sk_sqs_src *ss)
{
	size_t k = 0;

	while (k < ss->nheld && ss->held[k].state == SK_SQS_GONE)
		k++;
	if (k == 0 || (k < 1024 && k < ss->nheld))
		return;
	memmove(ss->held, ss->held + k, (ss->nheld - k) * sizeof *ss->held);
	ss->nheld -= k;
	ss->base += k;
}

static struct sk_sqs_held *hold(struct sk_sqs_src *ss, const char *receipt, int64_t sent_ms, sk_err *e)
{
	struct sk_sqs_held *h;

	if (sk_grow(&ss->held, &ss->heldcap, ss->nheld, sizeof *ss->held, 256) < 0) {
		sk_err_oom(e);
		return NULL;
	}
	h = &ss->held[ss->nheld];
	if ((h->receipt = strdup(receipt)) == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	ss->nheld++;
	ss->next_seq++;
	ss->live++;
	h->state = SK_SQS_HELD;
	h->received_ms = sent_ms;
	h->visible_ms = sent_ms + (int64_t)ss->visibility * 1000;
	if (ss->due_ms < 0 || h->visible_ms - (int64_t)ss->visibility * 500 < ss->due_ms)
		ss->due_ms = h->visible_ms - (int64_t)ss->visibility * 500;
	return h;
}

/* A message received: held, and its envelope queued. */
static int received(struct sk_sqs_src *ss, const sk_sqs_message *m, int64_t sent_ms, sk_err *e)
{
	uint64_t seq = ss->next_seq;

	if (hold(ss, m->receipt_handle, sent_ms, e) == NULL || sk_sqs_envelope(ss, m, seq, e) < 0)
		return -1;
	if (ss->ack_receive) {
		ss->covered = seq;
		ss->dirty = 1;
	}
	return 0;
}

/* --- receiving --- */

static int receive(struct sk_sqs_src *ss, uint64_t room, sk_err *e)
{
	struct sk_sqs_slot *sl = slot_get(ss, e);
	sk_sqs_receive_req req = { 0 };

	if (sl == NULL)
		return -1;
	sl->kind = SK_SQS_CALL_RECEIVE;
	sl->n = 0;
	req.max_messages = room < SK_SQS_RECEIVE_MAX ? (int)room : SK_SQS_RECEIVE_MAX;
	req.wait_seconds = ss->wait;
	req.visibility_timeout = ss->visibility;
	if (ss->queue.fifo) {
		/* A receive that failed is asked again with its attempt id:
		 * SQS answers it with the messages it had given it. */
		if (ss->nagain > 0)
			memcpy(sl->attempt, ss->again[--ss->nagain], sizeof sl->attempt);
		else
			snprintf(sl->attempt, sizeof sl->attempt, "%s-%llu", ss->session,
			         (unsigned long long)++ss->attempts);
		req.attempt_id = sl->attempt;
	}
	if (sk_sqs_call_receive(sl->call, &req, e) < 0 || launch(ss, sl, e) < 0)
		return -1;
	sl->asked = req.max_messages;
	ss->receiving++;
	ss->asked += (uint64_t)sl->asked;
	return 0;
}

/* The messages of a receive: held, and their envelopes where next() takes
 * them. */
static int receive_done(struct sk_sqs_src *ss, struct sk_sqs_slot *sl, const sk_sqs_result *r, int ok, sk_err *e)
{
	size_t i;
	int rc = 0;

	if (!ok) {
		if (ss->queue.fifo && r->error.kind == SK_SQS_RETRY && ss->nagain < SK_SQS_BATCH_MAX)
			memcpy(ss->again[ss->nagain++], sl->attempt, sizeof sl->attempt);
		failed(ss, &r->error);
		return 0;
	}
	succeeded(ss);
	pthread_mutex_lock(&ss->lock);
	if (r->n_messages == 0)
		ss->empty = 1;
	for (i = 0; i < r->n_messages && rc == 0; i++)
		rc = received(ss, &r->messages[i], sl->sent_ms, e);
	pthread_mutex_unlock(&ss->lock);
	sk_sqs_notify(ss);
	return rc;
}

/* --- deletes and visibility changes --- */

/* A batch being filled: one call's entries. */
struct batch {
	enum sk_sqs_call_kind kind;
	sk_sqs_handle v[SK_SQS_BATCH_MAX];
	char ids[SK_SQS_BATCH_MAX][4];
	uint64_t seq[SK_SQS_BATCH_MAX];
	size_t n;
};

static int batch_send(struct sk_sqs_src *ss, struct batch *b, sk_err *e)
{
	struct sk_sqs_slot *sl;
	size_t i;
	int rc;

	if (b->n == 0)
		return 0;
	if ((sl = slot_get(ss, e)) == NULL)
		return -1;
	sl->kind = b->kind;
	rc = b->kind == SK_SQS_CALL_DELETE ? sk_sqs_call_delete_batch(sl->call, b->v, b->n, e)
	                                   : sk_sqs_call_change_visibility_batch(sl->call, b->v, b->n, e);
	if (rc < 0 || launch(ss, sl, e) < 0)
		return -1;
	for (i = 0; i < b->n; i++) {
		sl->seq[i] = b->seq[i];
		sl->visibility[i] = b->v[i].visibility_timeout;
		held_at(ss, b->seq[i])->state = SK_SQS_BUSY;
	}
	sl->n = b->n;
	b->n = 0;
	return 0;
}

static int batch_add(struct sk_sqs_src *ss, struct batch *b, uint64_t seq, int visibility, sk_err *e)
{
	struct sk_sqs_held *h = held_at(ss, seq);

	snprintf(b->ids[b->n], sizeof b->ids[b->n], "%zu", b->n);
	b->v[b->n].id = b->ids[b->n];
	b->v[b->n].receipt_handle = h->receipt;
	b->v[b->n].visibility_timeout = visibility;
	b->seq[b->n++] = seq;
	return b->n == SK_SQS_BATCH_MAX ? batch_send(ss, b, e) : 0;
}

int sk_sqs_renewal(int64_t received_ms, int64_t visible_ms, int visibility, int64_t now, int *renew,
                   int64_t *due)
{
	int64_t at = visible_ms - (int64_t)visibility * 500, left;

	if (now < at) {
		*due = at;
		return 0;
	}
	left = received_ms + SK_SQS_HOLD_MAX_MS - now;
	if (left < 2000)
		return -1;
	*renew = left / 1000 < visibility ? (int)(left / 1000) : visibility;
	return 1;
}

/* What a held message needs now: a delete (covered), a release (the end),
 * a renewal (sk_sqs_renewal), or nothing yet (then *due says when). A
 * message held for SQS's 12 hours is given up. */
enum need { NEED_NOTHING, NEED_DELETE, NEED_CHANGE };

static enum need need(struct sk_sqs_src *ss, uint64_t seq, int64_t now, int *visibility, int64_t *due)
{
	struct sk_sqs_held *h = held_at(ss, seq);

	if (seq <= ss->covered)
		return NEED_DELETE;
	if (ss->release_all || (ss->stopping && seq > sk_sqs_returned(ss))) {
		*visibility = 0;
		return NEED_CHANGE;
	}
	switch (sk_sqs_renewal(h->received_ms, h->visible_ms, ss->visibility, now, visibility, due)) {
	case 0:
		return NEED_NOTHING;
	case 1:
		return NEED_CHANGE;
	}
	if (!ss->warned_expired)
		sk_warn("%s: a message held for 12 hours is given up (SQS's limit): it will come again", ss->arg);
	ss->warned_expired = 1;
	ss->expired++;
	gone(ss, h);
	return NEED_NOTHING;
}

/* Deletes, releases and renewals due, in batches. Only the covered front
 * is looked at unless a renewal is due or the source is stopping. */
static int plan(struct sk_sqs_src *ss, int64_t now, sk_err *e)
{
	struct batch del = { .kind = SK_SQS_CALL_DELETE }, chg = { .kind = SK_SQS_CALL_CHANGE };
	int whole = ss->stopping || (ss->due_ms >= 0 && now >= ss->due_ms);
	int64_t due = -1;
	size_t i, end = ss->nheld;

	if (!whole && !ss->dirty)
		return 0;
	if (!whole)
		end = ss->covered < ss->base ? 0 : ss->covered - ss->base + 1 < end ? ss->covered - ss->base + 1 : end;
	ss->dirty = 0;
	for (i = 0; i < end; i++) {
		uint64_t seq = ss->base + i;
		int64_t at = -1;
		int visibility = 0;
		enum need n;

		if (ss->held[i].state != SK_SQS_HELD)
			continue;
		if (ss->busy >= MAX_CALLS + (size_t)ss->receiving) {
			ss->dirty = 1;     /* more next time */
			whole = 0;
			break;
		}
		n = need(ss, seq, now, &visibility, &at);
		if (n == NEED_DELETE && batch_add(ss, &del, seq, 0, e) < 0)
			return -1;
		if (n == NEED_CHANGE && batch_add(ss, &chg, seq, visibility, e) < 0)
			return -1;
		if (at >= 0 && (due < 0 || at < due))
			due = at;
	}
	if (batch_send(ss, &del, e) < 0 || batch_send(ss, &chg, e) < 0)
		return -1;
	if (whole)
		ss->due_ms = due;
	trim(ss);
	return 0;
}

static void entry_failed(struct sk_sqs_src *ss, struct sk_sqs_held *h, const sk_sqs_entry *f, int deleting)
{
	if (f->kind == SK_SQS_RETRY || f->kind == SK_SQS_OVER_LIMIT) {
		h->state = SK_SQS_HELD;
		ss->dirty = 1;
		ss->due_ms = 0;
		return;
	}
	/* The receipt is no longer good: the message was given to another
	 * reader after its visibility ran out, and will come again. */
	if (!ss->warned_late)
		sk_warn("%s: %s of a message failed (%s): it will come again", ss->arg,
		        deleting ? "a delete" : "a visibility change", f->code ? f->code : "?");
	ss->warned_late = 1;
	ss->late++;
	gone(ss, h);
}

static void batch_done(struct sk_sqs_src *ss, struct sk_sqs_slot *sl, const sk_sqs_result *r, int ok)
{
	size_t i;

	if (!ok) {
		for (i = 0; i < sl->n; i++)
			held_at(ss, sl->seq[i])->state = SK_SQS_HELD;
		ss->dirty = 1;
		ss->due_ms = 0;    /* renewals among them: all looked at again */
		failed(ss, &r->error);
		return;
	}
	succeeded(ss);
	for (i = 0; i < r->n_ok; i++) {
		size_t k = (size_t)atoi(r->ok[i].id);
		struct sk_sqs_held *h;

		if (k >= sl->n || (h = held_at(ss, sl->seq[k])) == NULL || h->state != SK_SQS_BUSY)
			continue;
		if (sl->kind == SK_SQS_CALL_DELETE) {
			ss->deleted++;
			gone(ss, h);
		} else if (sl->visibility[k] == 0) {
			ss->released++;
			gone(ss, h);
		} else {
			int64_t at;

			h->state = SK_SQS_HELD;
			h->visible_ms = sl->sent_ms + (int64_t)sl->visibility[k] * 1000;
			at = h->visible_ms - (int64_t)ss->visibility * 500;
			if (ss->due_ms < 0 || at < ss->due_ms)
				ss->due_ms = at;
		}
	}
	for (i = 0; i < r->n_failed; i++) {
		size_t k = (size_t)atoi(r->failed[i].id);
		struct sk_sqs_held *h;

		if (k < sl->n && (h = held_at(ss, sl->seq[k])) != NULL && h->state == SK_SQS_BUSY)
			entry_failed(ss, h, &r->failed[i], sl->kind == SK_SQS_CALL_DELETE);
	}
	/* An entry in neither list is asked again. */
	for (i = 0; i < sl->n; i++) {
		struct sk_sqs_held *h = held_at(ss, sl->seq[i]);

		if (h && h->state == SK_SQS_BUSY) {
			h->state = SK_SQS_HELD;
			ss->dirty = 1;
			ss->due_ms = 0;
		}
	}
}

/* --- the loop --- */

/* What the checkpoint stored under --name covers of this session. */
static int poll_store(struct sk_sqs_src *ss, int64_t now, sk_err *e)
{
	char session[SK_SQS_SESSION_LEN + 1], *pos = NULL;
	uint64_t seq, returned = sk_sqs_returned(ss);
	int rc;

	if (ss->store == NULL || returned <= ss->covered || now - ss->polled_ms < POLL_MS)
		return 0;
	ss->polled_ms = now;
	rc = sk_state_get_position(ss->store, ss->o->name, ss->id, "0", &pos, e);
	if (rc <= 0)
		return rc;
	if (sk_sqs_position_parse(pos, session, &seq) == 0 && strcmp(session, ss->session) == 0 &&
	    seq > ss->covered) {
		ss->covered = seq < returned ? seq : returned;
		ss->dirty = 1;
	}
	free(pos);
	return 0;
}

static int collect(struct sk_sqs_src *ss, sk_err *e)
{
	CURLMsg *msg;
	int running, left;

	if (curl_multi_perform(ss->multi, &running) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "%s: the transfer failed", ss->arg);
	while ((msg = curl_multi_info_read(ss->multi, &left)) != NULL) {
		struct sk_sqs_slot *sl = NULL;
		sk_sqs_result r;
		int ok, rc = 0;
		size_t i;

		if (msg->msg != CURLMSG_DONE)
			continue;
		for (i = 0; i < ss->nslots && sl == NULL; i++)
			if (ss->slots[i]->busy && ss->slots[i]->call->easy == msg->easy_handle)
				sl = ss->slots[i];
		if (sl == NULL)
			continue;
		ok = sk_sqs_call_result(sl->call, msg->data.result, &r) == 0;
		finish(ss, sl);
		if (sl->kind == SK_SQS_CALL_RECEIVE)
			rc = receive_done(ss, sl, &r, ok, e);
		else
			batch_done(ss, sl, &r, ok);
		sk_sqs_result_free(&r);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* One turn: what the store says, calls due started, answers taken. */
int sk_sqs_pump(struct sk_sqs_src *ss, sk_err *e)
{
	int64_t now = sk_now_ms();

	if (poll_store(ss, now, e) < 0)
		return -1;
	if (now >= ss->retry_at && !sk_sqs_fatal(ss, NULL)) {
		if (plan(ss, now, e) < 0)
			return -1;
		while (!ss->stopping && ss->receiving < ss->concurrency &&
		       ss->live + ss->asked < ss->max_in_flight)
			if (receive(ss, ss->max_in_flight - ss->live - ss->asked, e) < 0)
				return -1;
	}
	return collect(ss, e);
}

/* How long to wait for the next thing to do, at most ms. */
int64_t sk_sqs_next_wait(struct sk_sqs_src *ss, int64_t now, int64_t ms)
{
	int64_t at[3] = { -1, -1, -1 };
	size_t i;

	if (ss->store && sk_sqs_returned(ss) > ss->covered)
		at[0] = ss->polled_ms + POLL_MS;
	/* Renewals wait, as every call does, for the end of a backoff. */
	at[1] = ss->due_ms >= 0 && ss->due_ms < ss->retry_at ? ss->retry_at : ss->due_ms;
	if (ss->retry_at > now)
		at[2] = ss->retry_at;
	for (i = 0; i < 3; i++)
		if (at[i] >= 0 && at[i] - now < ms)
			ms = at[i] - now;
	return ms < 1 ? 1 : ms;
}

/* No more receives, and nothing more returned. The receives in flight are
 * waited for, not abandoned: a long poll the server still runs would take
 * the messages released next and keep them from everyone for their
 * visibility timeout. What they bring is released. */
static void stop_receiving(struct sk_sqs_src *ss)
{
	ss->stopping = 1;
	pthread_mutex_lock(&ss->lock);
	sk_sqs_queued_clear(ss->qv, ss->qn);
	ss->qn = 0;
	sk_buf_reset(&ss->q);
	pthread_mutex_unlock(&ss->lock);
	ss->dirty = 1;
}

int sk_sqs_drain_loop(struct sk_sqs_src *ss, sk_err *e)
{
	int64_t deadline = sk_now_ms() + ss->drain_ms, now;
	uint64_t printed = sk_sqs_returned(ss);

	stop_receiving(ss);
	if (ss->o->name == NULL)
		ss->release_all = !ss->ack_receive;
	for (;;) {
		if (sk_sqs_pump(ss, e) < 0)
			return -1;
		stop_receiving(ss);
		if (sk_sqs_fatal(ss, e))
			return sk_err_prefix(e, "%s", ss->arg);
		if (ss->live == 0 && ss->busy == 0)
			break;
		now = sk_now_ms();
		if (!ss->release_all && now >= deadline && ss->covered < printed) {
			sk_warn("%s: no checkpoint covered messages %llu to %llu of %llu printed within --drain-timeout: "
			        "released, they will come again", ss->arg, (unsigned long long)(ss->covered + 1),
			        (unsigned long long)printed, (unsigned long long)printed);
			ss->release_all = 1;
			ss->dirty = 1;
			deadline = now;
		}
		if (ss->release_all && now >= deadline + END_WAIT_MS) {
			sk_warn("%s: %llu messages were not released: they come again after their visibility timeout",
			        ss->arg, (unsigned long long)ss->live);
			break;
		}
		if (sk_sqs_wait(ss, sk_sqs_next_wait(ss, now, 50), 0, e) < 0)
			return -1;
	}
	sk_info("%s: %llu messages deleted, %llu released, %llu late (a receipt SQS no longer took: they come "
	        "again), %llu given up after 12 hours", ss->arg, (unsigned long long)ss->deleted,
	        (unsigned long long)ss->released, (unsigned long long)ss->late, (unsigned long long)ss->expired);
	return 0;
}

void sk_sqs_consume_free(struct sk_sqs_src *ss)
{
	size_t i;

	for (i = 0; i < ss->nslots; i++) {
		if (ss->slots[i]->busy)
			curl_multi_remove_handle(ss->multi, ss->slots[i]->call->easy);
		sk_sqs_call_free(ss->slots[i]->call);
		free(ss->slots[i]);
	}
	free(ss->slots);
	for (i = 0; i < ss->nheld; i++)
		free(ss->held[i].receipt);
	free(ss->held);
	sk_sqs_queued_clear(ss->qv, ss->qn);
	free(ss->qv);
	sk_buf_free(&ss->q);
}
