/* sqs_thread.c - an SQS source's thread, and next() and the drain on the
 * tool's side of it.
 *
 * The thread does all the talking to SQS (sqs_consume.c), so that held
 * messages have their visibility renewed, and covered ones are deleted,
 * while the tool is blocked writing to a pipeline that is slow to read:
 * a message is never given to another reader because we were waiting on
 * our output. It hands envelopes over in batches: it appends to q under
 * the lock, and next() swaps q with its own rq when rq is used up, so that
 * what next() returned stays where it is until the following call. The
 * sequence number next() last returned is all the thread needs of the
 * tool's side (for what may be released, and what a checkpoint may cover).
 * The thread takes no signal; it is woken by curl_multi_wakeup, and wakes
 * next() through a pipe, which next() polls with the stop pipe. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source_sqs_impl.h"
#include "stop.h"

uint64_t sk_sqs_returned(struct sk_sqs_src *ss)
{
	return __atomic_load_n(&ss->returned_atomic, __ATOMIC_ACQUIRE);
}

void sk_sqs_notify(struct sk_sqs_src *ss)
{
	char c = 1;

	/* Full (EAGAIN): next() has a wake-up waiting already. */
	if (write(ss->wake[1], &c, 1) < 0 && errno != EAGAIN)
		return;
}

int sk_sqs_fatal(struct sk_sqs_src *ss, sk_err *e)
{
	int fatal;

	pthread_mutex_lock(&ss->lock);
	fatal = ss->fatal;
	if (fatal && e)
		*e = ss->fatal_err;
	pthread_mutex_unlock(&ss->lock);
	return fatal;
}

void sk_sqs_set_fatal(struct sk_sqs_src *ss, const sk_err *err)
{
	pthread_mutex_lock(&ss->lock);
	if (!ss->fatal) {
		ss->fatal = 1;
		ss->fatal_err = *err;
	}
	pthread_mutex_unlock(&ss->lock);
	sk_sqs_notify(ss);
}

/* The thread: turns until close or drain asks it to stop; a drain's end
 * is run here too. */
static void *run(void *arg)
{
	struct sk_sqs_src *ss = arg;
	sk_err e;
	int quit, stop;

	for (;;) {
		pthread_mutex_lock(&ss->lock);
		quit = ss->quit;
		stop = ss->stop;
		pthread_mutex_unlock(&ss->lock);
		if (quit)
			break;
		if (stop) {
			sk_err_clear(&e);
			ss->drain_rc = sk_sqs_drain_loop(ss, &e);
			ss->drain_err = e;
			break;
		}
		if (!sk_sqs_fatal(ss, NULL) && sk_sqs_pump(ss, &e) < 0)
			sk_sqs_set_fatal(ss, &e);
		if (sk_sqs_wait(ss, sk_sqs_next_wait(ss, sk_now_ms(), 1000), 0, &e) < 0)
			sk_sqs_set_fatal(ss, &e);
	}
	return NULL;
}

int sk_sqs_start(struct sk_sqs_src *ss, sk_err *e)
{
	sigset_t all, old;
	int rc, i;

	if (pipe(ss->wake) < 0)
		return sk_err_set(e, EX_OSERR, "%s: pipe: %s", ss->arg, strerror(errno));
	for (i = 0; i < 2; i++)
		if (fcntl(ss->wake[i], F_SETFL, O_NONBLOCK) < 0 || fcntl(ss->wake[i], F_SETFD, FD_CLOEXEC) < 0)
			return sk_err_set(e, EX_OSERR, "%s: fcntl: %s", ss->arg, strerror(errno));
	if ((rc = pthread_mutex_init(&ss->lock, NULL)) != 0)
		return sk_err_set(e, EX_OSERR, "%s: mutex: %s", ss->arg, strerror(rc));
	/* Signals are the tool's: the thread is started with them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&ss->thread, NULL, run, ss);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_mutex_destroy(&ss->lock);
		return sk_err_set(e, EX_OSERR, "%s: cannot start a thread: %s", ss->arg, strerror(rc));
	}
	ss->running = 1;
	return 0;
}

/* Ask the thread to stop (quit) or to drain, and wait for it. */
static void join(struct sk_sqs_src *ss, int quit)
{
	if (!ss->running)
		return;
	pthread_mutex_lock(&ss->lock);
	if (quit)
		ss->quit = 1;
	else
		ss->stop = 1;
	pthread_mutex_unlock(&ss->lock);
	curl_multi_wakeup(ss->multi);
	pthread_join(ss->thread, NULL);
	ss->running = 0;
}

void sk_sqs_stop_thread(struct sk_sqs_src *ss)
{
	int was = ss->running;

	join(ss, 1);
	if (was)
		pthread_mutex_destroy(&ss->lock);
	if (ss->wake[0] > 0) {
		close(ss->wake[0]);
		close(ss->wake[1]);
	}
	sk_sqs_queued_clear(ss->rqv, ss->rqn);
	free(ss->rqv);
	sk_buf_free(&ss->rq);
}

static int pop(struct sk_sqs_src *ss, sk_msg *m, sk_err *e)
{
	struct sk_sqs_queued *x = &ss->rqv[ss->rqi++];

	__atomic_store_n(&ss->returned_atomic, x->seq, __ATOMIC_RELEASE);
	m->env = ss->rq.p + x->env;
	m->env_len = x->env_len;
	if (x->cursor == 0) {
		m->cursor = NULL;
		return sk_err_set(e, EX_DATAERR, "message %s", ss->rq.p + x->why);
	}
	m->cursor = ss->rq.p + x->cursor;
	m->value = x->value.tree ? &x->value : NULL;
	return 1;
}

/* What the thread made since the last take becomes next()'s batch: 1, or
 * 0 with nothing, SK_END when a receive found the queue empty, -1 when the
 * source failed. */
static int take(struct sk_sqs_src *ss, sk_err *e)
{
	struct sk_sqs_queued *v;
	size_t cap;
	sk_buf b;
	int rc = 0;

	pthread_mutex_lock(&ss->lock);
	if (ss->qn > 0) {
		sk_sqs_queued_clear(ss->rqv, ss->rqn);
		b = ss->rq, ss->rq = ss->q, ss->q = b;
		v = ss->rqv, ss->rqv = ss->qv, ss->qv = v;
		cap = ss->rqcap, ss->rqcap = ss->qcap, ss->qcap = cap;
		ss->rqn = ss->qn;
		ss->rqi = 0;
		ss->qn = 0;
		sk_buf_reset(&ss->q);
		rc = 1;
	} else if (ss->fatal) {
		*e = ss->fatal_err;
		rc = -1;
	} else if (ss->empty) {
		ss->empty = 0;
		rc = SK_END;
	}
	pthread_mutex_unlock(&ss->lock);
	return rc;
}

int sk_sqs_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct sk_sqs_src *ss = s->impl;
	int64_t deadline = -2, now;
	struct pollfd p[2];
	char buf[64];
	int rc;

	for (;;) {
		if (ss->rqi < ss->rqn)
			return pop(ss, m, e);
		while (read(ss->wake[0], buf, sizeof buf) > 0)
			;
		if ((rc = take(ss, e)) != 0) {
			if (rc == 1)
				continue;
			return rc;
		}
		now = sk_now_ms();
		if (deadline == -2)
			deadline = timeout_ms < 0 ? -1 : now + timeout_ms;
		if (deadline >= 0 && now >= deadline)
			return 0;
		p[0].fd = ss->wake[0];
		p[0].events = POLLIN;
		p[1].fd = sk_stop_wake_fd();
		p[1].events = POLLIN;
		if (poll(p, p[1].fd >= 0 ? 2 : 1, deadline < 0 ? 1000 : (int)(deadline - now)) < 0 && errno != EINTR)
			return sk_err_set(e, EX_OSERR, "poll: %s", strerror(errno));
		if (p[1].fd >= 0 && (p[1].revents & POLLIN))
			return 0;     /* a stop: the tool looks at its flag */
	}
}

int sk_sqs_drain(sk_source *s, sk_err *e)
{
	struct sk_sqs_src *ss = s->impl;

	join(ss, 0);
	if (ss->drain_rc < 0) {
		*e = ss->drain_err;
		return -1;
	}
	return 0;
}
