/* sqs_send.c - an SQS sink's messages sent with SendMessageBatch, several
 * batches in flight on one curl multi handle, and the cursors of their
 * rows committed once they are sent.
 *
 * A batch is sent when it holds 10 messages, when the next would take its
 * request body past 1 MiB (SK_SQS_BATCH_BYTES: the whole body counts, so
 * a message alone may go past it, never a batch of several), and whenever
 * the input is idle (a flush) or a checkpoint comes. Up to concurrency
 * batches are in flight; one more waits for one of them to end. FIFO
 * queues have one in flight, so that a group's messages arrive in order.
 *
 * Retries: a call that fails for a reason that passes (no answer, 5xx,
 * throttling, the in-flight cap) is sent again after a growing delay, and
 * so are the entries of an answer that failed for such a reason;
 * ATTEMPTS_MAX attempts in all. An entry SQS refuses for good is a bad
 * row that the writer decides on (sk_sink_refused: --on-error); its epoch
 * and the ones after it are not committed until it has. (sqs_message.c
 * refuses what SQS would before a row is taken, so this is rare.) Any
 * other error of a send is the run's: nothing is committed from then on,
 * and a restarted pipeline sends those rows again (at least once).
 *
 * Commits: as Kafka's (sink_epochs.h), a message being confirmed when SQS
 * answered that it took it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink_sqs_impl.h"
#include "stop.h"

#define ATTEMPTS_MAX 6          /* of a call or an entry: 0.1 + 0.2 + ... + 1.6 s of waits */
#define BACKOFF_MS 100
#define BACKOFF_MAX_MS 2000
#define WAIT_STEP_MS 100        /* one wait on the multi handle: a stop is seen that soon */
#define STOP_WAIT_MS 5000       /* after a stop signal, wait this long for answers */

static const char *const entry_ids[SK_SQS_BATCH_MAX] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

static int64_t backoff(int attempts)
{
	int64_t ms = (int64_t)BACKOFF_MS << (attempts > 5 ? 5 : attempts - 1);

	return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

static int retryable(sk_sqs_errkind k)
{
	return k == SK_SQS_RETRY || k == SK_SQS_OVER_LIMIT;
}

/* The error of a call that failed for good: no answer at all after the
 * retries is an endpoint that is not there (EX_UNAVAILABLE). */
static void call_failed(const sk_sqs_result *r, int attempts, sk_err *e)
{
	*e = r->error.err;
	if (r->error.kind == SK_SQS_RETRY && r->error.status == 0)
		e->code = EX_UNAVAILABLE;
	if (retryable(r->error.kind))
		sk_err_prefix(e, "after %d attempts", attempts);
}

/* Wait on the multi handle for ms at most, or until a stop signal. */
static int wait_multi(struct sk_sqs_sink *s, int64_t ms, sk_err *e)
{
	struct curl_waitfd stop = { .fd = sk_stop_wake_fd(), .events = CURL_WAIT_POLLIN };

	if (ms <= 0)
		return 0;
	if (curl_multi_poll(s->multi, &stop, stop.fd >= 0, ms > WAIT_STEP_MS ? WAIT_STEP_MS : (int)ms, NULL) !=
	    CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "waiting for SQS failed");
	return 0;
}

static int stopped(const struct sk_sqs_sink *s)
{
	return s->stop && *s->stop;
}

static int add_call(struct sk_sqs_sink *s, sk_sqs_call *c, sk_err *e)
{
	if (sk_sqs_call_sign(c, s->creds, e) < 0)
		return -1;
	if (curl_multi_add_handle(s->multi, c->easy) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "libcurl refuses another transfer");
	return 0;
}

/* Run the multi handle: the transfers that ended, by their calls. */
static int perform(struct sk_sqs_sink *s, void (*done)(struct sk_sqs_sink *, sk_sqs_call *, CURLcode), sk_err *e)
{
	CURLMsg *msg;
	int running, left;

	if (curl_multi_perform(s->multi, &running) != CURLM_OK)
		return sk_err_set(e, EX_SOFTWARE, "libcurl's multi handle failed");
	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		sk_sqs_call *c = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		curl_multi_remove_handle(s->multi, msg->easy_handle);
		if (c)
			done(s, c, msg->data.result);
	}
	return 0;
}

/* sk_sqs_sink_call's transfer: the call's user is its result code. */
static void one_done(struct sk_sqs_sink *s, sk_sqs_call *c, CURLcode rc)
{
	(void)s;
	*(CURLcode *)c->user = rc;
	c->user = NULL;
}

int sk_sqs_sink_call(struct sk_sqs_sink *s, sk_sqs_call *c, sk_sqs_result *r, sk_err *e)
{
	CURLcode rc;
	int attempts;

	for (attempts = 1;; attempts++) {
		int64_t until;

		rc = CURLE_OK;
		c->user = &rc;
		if (add_call(s, c, e) < 0)
			return -1;
		curl_easy_setopt(c->easy, CURLOPT_PRIVATE, (char *)c);
		while (c->user != NULL) {
			if (stopped(s))
				sk_err_set(e, EX_TEMPFAIL, "stopped while waiting for %s", sk_sqs_action_name(c->action));
			if (stopped(s) || perform(s, one_done, e) < 0 ||
			    (c->user && wait_multi(s, WAIT_STEP_MS, e) < 0)) {
				curl_multi_remove_handle(s->multi, c->easy);
				return -1;
			}
		}
		if (sk_sqs_call_result(c, rc, r) == 0)
			return 0;
		if (!retryable(r->error.kind) || attempts == ATTEMPTS_MAX || stopped(s)) {
			call_failed(r, attempts, e);
			sk_sqs_result_free(r);
			return -1;
		}
		sk_sqs_result_free(r);
		for (until = sk_now_ms() + backoff(attempts); sk_now_ms() < until && !stopped(s);)
			if (wait_multi(s, until - sk_now_ms(), e) < 0)
				return -1;
	}
}

int sk_sqs_measure_wrapper(struct sk_sqs_sink *s, sk_err *e)
{
	sk_sqs_send_entry v[2] = { { .id = "0", .body = "x", .body_len = 1, .delay_seconds = -1 },
	                           { .id = "0", .body = "x", .body_len = 1, .delay_seconds = -1 } };
	size_t one, two;

	sk_buf_reset(&s->scratch);
	if (sk_sqs_build_send_batch(&s->scratch, s->queue.url, v, 1, e) < 0)
		return -1;
	one = s->scratch.len;
	sk_buf_reset(&s->scratch);
	if (sk_sqs_build_send_batch(&s->scratch, s->queue.url, v, 2, e) < 0)
		return -1;
	two = s->scratch.len;
	/* two entries: the wrapper, two entries and a comma */
	s->wrapper = 2 * one - two + 1;
	return 0;
}

static void out_free(struct sk_sqs_out *m)
{
	if (m) {
		free(m->attrs);
		free(m);
	}
}

static void batch_clear(struct sk_sqs_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		out_free(b->m[i]);
	b->n = b->bytes = 0;
	b->busy = 0;
	b->attempts = 0;
	b->retry_at = 0;
}

/* The run's error, the first one. */
static void fail(struct sk_sqs_sink *s, const sk_err *why)
{
	if (s->failed.code == 0)
		s->failed = *why;
}

/* Send b's messages (again), now. */
static int start(struct sk_sqs_sink *s, struct sk_sqs_batch *b, sk_err *e)
{
	sk_sqs_send_entry v[SK_SQS_BATCH_MAX];
	size_t i;

	for (i = 0; i < b->n; i++) {
		v[i] = b->m[i]->entry;
		v[i].id = entry_ids[i];
	}
	if (sk_sqs_call_send_batch(b->call, v, b->n, e) < 0 || add_call(s, b->call, e) < 0)
		return -1;
	curl_easy_setopt(b->call->easy, CURLOPT_PRIVATE, (char *)b->call);
	b->attempts++;
	b->retry_at = 0;
	b->busy = 1;
	return 0;
}

/* b failed with r, or some of its entries did: again later, or the run's
 * error after ATTEMPTS_MAX attempts. */
static void again(struct sk_sqs_sink *s, struct sk_sqs_batch *b, const sk_err *why)
{
	sk_err e;
	size_t i;

	if (b->attempts >= ATTEMPTS_MAX || stopped(s)) {
		e = *why;
		sk_err_prefix(&e, "after %d attempts", b->attempts);
		fail(s, &e);
		batch_clear(b);
		return;
	}
	b->bytes = s->wrapper + b->n - 1;
	for (i = 0; i < b->n; i++)
		b->bytes += b->m[i]->json_len;
	b->retry_at = sk_now_ms() + backoff(b->attempts);
}

/* SQS refused m for good, saying so in f: a refusal for the writer. */
static void refuse(struct sk_sqs_sink *s, struct sk_sqs_out *m, const sk_sqs_entry *f)
{
	struct sk_sqs_refusal *r;
	sk_err e;

	if (s->nrefused == s->caprefused) {
		size_t cap = s->caprefused ? 2 * s->caprefused : 8;

		if ((r = realloc(s->refused, cap * sizeof *r)) == NULL) {
			sk_err_oom(&e);
			fail(s, &e);
			out_free(m);
			return;
		}
		s->refused = r;
		s->caprefused = cap;
	}
	r = &s->refused[s->nrefused++];
	r->m = m;
	snprintf(r->why, sizeof r->why, "SQS refused its message: %s: %s", f->code ? f->code : "no code",
	         f->message ? f->message : "no message");
}

int sk_sqs_refused(struct sk_sqs_sink *s, const char **text, size_t *n, const char **why)
{
	struct sk_sqs_refusal *r;

	if (s->refused_at == s->nrefused)
		return 0;
	r = &s->refused[s->refused_at];
	*text = r->m->entry.body;
	*n = r->m->entry.body_len;
	*why = r->why;
	return 1;
}

void sk_sqs_refused_done(struct sk_sqs_sink *s)
{
	struct sk_sqs_refusal *r;

	if (s->refused_at == s->nrefused)
		return;
	r = &s->refused[s->refused_at++];
	sk_epochs_confirmed(&s->epochs, r->m->epoch);
	out_free(r->m);
	if (s->refused_at == s->nrefused)
		s->refused_at = s->nrefused = 0;
}

/* The answer to a batch: the messages SQS took are confirmed, those it
 * refused for good are refusals; the others go again. */
static void batch_answered(struct sk_sqs_sink *s, struct sk_sqs_batch *b, const sk_sqs_result *r)
{
	struct sk_sqs_out *kept[SK_SQS_BATCH_MAX] = { NULL };
	size_t i, k, n = 0;
	sk_err why = { 0 };

	for (i = 0; i < r->n_ok; i++) {
		k = (size_t)strtoul(r->ok[i].id, NULL, 10);
		if (k < b->n && b->m[k]) {
			sk_epochs_confirmed(&s->epochs, b->m[k]->epoch);
			out_free(b->m[k]);
			b->m[k] = NULL;
		}
	}
	for (i = 0; i < r->n_failed; i++) {
		const sk_sqs_entry *f = &r->failed[i];

		k = (size_t)strtoul(f->id, NULL, 10);
		if (k >= b->n || b->m[k] == NULL)
			continue;
		sk_err_set(&why, retryable(f->kind) ? EX_TEMPFAIL : EX_DATAERR, "SendMessageBatch: a message "
		           "refused: %s: %s", f->code ? f->code : "no code", f->message ? f->message : "no message");
		if (!retryable(f->kind)) {
			refuse(s, b->m[k], f);
			b->m[k] = NULL;
		}
	}
	/* what is left failed for a passing reason, or was not answered */
	for (i = 0; i < b->n; i++)
		if (b->m[i])
			kept[n++] = b->m[i];
	memcpy(b->m, kept, sizeof kept);
	b->n = n;
	if (n == 0) {
		batch_clear(b);
		return;
	}
	if (why.code == 0)
		sk_err_set(&why, EX_TEMPFAIL, "SendMessageBatch: %zu messages neither taken nor refused", n);
	again(s, b, &why);
}

static void batch_done(struct sk_sqs_sink *s, sk_sqs_call *c, CURLcode rc)
{
	struct sk_sqs_batch *b = c->user;
	sk_sqs_result r;

	if (sk_sqs_call_result(c, rc, &r) == 0) {
		batch_answered(s, b, &r);
	} else if (retryable(r.error.kind)) {
		sk_err why = r.error.err;

		if (r.error.status == 0)
			why.code = EX_UNAVAILABLE;
		again(s, b, &why);
	} else {
		sk_err why;

		call_failed(&r, b->attempts, &why);
		fail(s, &why);
		batch_clear(b);
	}
	sk_sqs_result_free(&r);
}

/* Start the batches whose time to go again came, and serve the answers. */
static int serve(struct sk_sqs_sink *s, sk_err *e)
{
	int64_t now = sk_now_ms();
	size_t i;

	for (i = 0; i < s->concurrency; i++) {
		struct sk_sqs_batch *b = &s->slots[i];

		if (b->busy && b->retry_at && b->retry_at <= now && start(s, b, e) < 0)
			return -1;
	}
	return perform(s, batch_done, e);
}

static size_t busy_slots(const struct sk_sqs_sink *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->concurrency; i++)
		n += s->slots[i].busy != 0;
	return n;
}

/* Wait while n batches or more are in flight: bounded by the calls'
 * timeouts and attempts; after a stop signal by STOP_WAIT_MS, after a
 * second not at all. */
static int wait_below(struct sk_sqs_sink *s, size_t n, sk_err *e)
{
	int64_t stop_at = -1;

	while (busy_slots(s) >= n && busy_slots(s) > 0) {
		if (stopped(s)) {
			int64_t now = sk_now_ms();

			if (stop_at < 0)
				stop_at = now + STOP_WAIT_MS;
			if (*s->stop > 1 || now >= stop_at)
				return sk_err_set(e, EX_TEMPFAIL, "stopped with %llu messages not confirmed sent; the "
				                  "cursors of their rows are not committed",
				                  (unsigned long long)sk_epochs_unconfirmed(&s->epochs));
		}
		if (wait_multi(s, WAIT_STEP_MS, e) < 0 || serve(s, e) < 0)
			return -1;
	}
	return 0;
}

/* Send the open batch in a free slot. */
static int dispatch(struct sk_sqs_sink *s, sk_err *e)
{
	struct sk_sqs_batch *b = NULL;
	size_t i;

	if (s->open.n == 0)
		return 0;
	if (wait_below(s, s->concurrency, e) < 0)
		return -1;
	for (i = 0; i < s->concurrency && b == NULL; i++)
		if (!s->slots[i].busy)
			b = &s->slots[i];
	if (b == NULL)
		return sk_err_set(e, EX_SOFTWARE, "no batch free after a wait for one");
	memcpy(b->m, s->open.m, sizeof b->m);
	b->n = s->open.n;
	b->bytes = s->open.bytes;
	b->attempts = 0;
	s->open.n = s->open.bytes = 0;
	if (start(s, b, e) < 0) {
		batch_clear(b);
		return -1;
	}
	return 0;
}

int sk_sqs_send_add(struct sk_sqs_sink *s, struct sk_sqs_out *m, sk_err *e)
{
	sk_sqs_send_entry one = m->entry;

	one.id = entry_ids[0];
	sk_buf_reset(&s->scratch);
	if (sk_sqs_build_send_batch(&s->scratch, s->queue.url, &one, 1, e) < 0) {
		out_free(m);
		return -1;
	}
	m->json_len = s->scratch.len - s->wrapper;
	if (s->open.n > 0 && s->open.bytes + 1 + m->json_len > SK_SQS_BATCH_BYTES && dispatch(s, e) < 0) {
		out_free(m);
		return -1;
	}
	m->epoch = sk_epochs_current(&s->epochs);
	sk_epochs_sent(&s->epochs, 1);
	s->open.bytes = s->open.n == 0 ? s->wrapper + m->json_len : s->open.bytes + 1 + m->json_len;
	s->open.m[s->open.n++] = m;
	if (s->open.n == SK_SQS_BATCH_MAX && dispatch(s, e) < 0)
		return -1;
	return serve(s, e);
}

int sk_sqs_send_flush(struct sk_sqs_sink *s, int wait, sk_err *e)
{
	if (dispatch(s, e) < 0 || serve(s, e) < 0 || (wait && wait_below(s, 1, e) < 0))
		return -1;
	if (s->failed.code) {
		*e = s->failed;
		return -1;
	}
	return 0;
}

void sk_sqs_send_free(struct sk_sqs_sink *s)
{
	size_t i;

	for (i = 0; s->slots && i < s->concurrency; i++) {
		if (s->slots[i].call) {
			if (s->slots[i].busy && !s->slots[i].retry_at)
				curl_multi_remove_handle(s->multi, s->slots[i].call->easy);
			sk_sqs_call_free(s->slots[i].call);
		}
		batch_clear(&s->slots[i]);
	}
	free(s->slots);
	batch_clear(&s->open);
	while (s->refused_at < s->nrefused)
		out_free(s->refused[s->refused_at++].m);
	free(s->refused);
	sk_epochs_free(&s->epochs);
}
