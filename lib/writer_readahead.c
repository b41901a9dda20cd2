/* writer_readahead.c - stream-write's reader thread and its ring of
 * batches of lines.
 *
 * Reading ahead. A reader thread reads the lines and checks each line
 * that may be a row: is it an object written as json-c writes what it
 * reads of it, at any depth (sk_json_written_object: one pass over its
 * bytes, a fraction of a parser's time)? Then it notes where its members
 * are, and that is the line's one parse. The main thread checks that each
 * value is of its column's type, from its text (row_fits in
 * writer_text.c), and stages the text less _cursor: json-c never sees it.
 * Otherwise the slow path decides. For a sink without a schema (a Kafka
 * topic) there are no types to check: the reader also checks the top level
 * (sk_writer_flat_row), and the main thread hands the text to the sink.
 * Lines come in batches, in order, through a ring of NBATCH; the main
 * thread holds the head batch while it handles it, the reader the one it
 * fills. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "writer_impl.h"

#define NBATCH 8
#define BATCH_LINES 512
#define BATCH_BYTES (256u << 10)

struct sk_readahead {
	int fd;
	int parse;                  /* the sink takes rows as text, and there is no --map */
	int flat;                   /* ... and has no schema and wants none: rows as their text */
	sk_json *scanner;           /* for parse */
	sk_lines *lines;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t not_full;
	struct sk_batch ring[NBATCH];
	size_t head, count;         /* under mu: the oldest full batch, how many are full */
	int quit;                   /* under mu: the main thread is done */
	int waiting;                /* under mu: the main thread waits for a batch */
	int ready[2];               /* a pipe: a byte wakes the waiting main thread */
	int stop[2];                /* a pipe: the main thread wrote a byte on quitting */
};

static struct sk_item *new_item(struct sk_batch *b, enum sk_item_kind kind, const char *line, size_t len,
                                uint64_t lineno)
{
	struct sk_item *it;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct sk_item *v = realloc(b->items, cap * sizeof *v);
		if (v == NULL)
			return NULL;
		b->items = v;
		b->cap = cap;
	}
	it = &b->items[b->n];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->lineno = lineno;
	it->text = b->bytes.len;
	it->len = len;
	if (sk_buf_add(&b->bytes, line, len) < 0)
		return NULL;
	b->n++;
	return it;
}

/* The members m[0..n) of the object of item it into b. */
static int keep_members(struct sk_batch *b, struct sk_item *it, const sk_json_member *m, size_t n)
{
	if (b->nmembers + n > b->capmembers) {
		size_t cap = b->capmembers ? b->capmembers : 1024;
		sk_json_member *v;
		while (cap < b->nmembers + n)
			cap *= 2;
		if ((v = realloc(b->members, cap * sizeof *v)) == NULL)
			return -1;
		b->members = v;
		b->capmembers = cap;
	}
	memcpy(b->members + b->nmembers, m, n * sizeof *m);
	it->members = b->nmembers;
	it->nmembers = n;
	b->nmembers += n;
	return 0;
}

/* An SK_ITEM_ROW_TEXT: the line, where its member cut is, and its cursor. */
static int add_row_text(struct sk_batch *b, const char *line, size_t len, uint64_t lineno,
                        const sk_json_member *m, size_t n, size_t cut)
{
	struct sk_item *it = new_item(b, SK_ITEM_ROW_TEXT, line, len, lineno);

	if (it == NULL)
		return -1;
	if (cut == SIZE_MAX)
		return 0;
	/* The member and the comma after it, or the last one and the comma
	 * before it (as cut_member does). */
	it->cut_at = it->text + (cut + 1 < n ? m[cut].key - 1 : m[cut - 1].value + m[cut - 1].value_len);
	it->cut_len = it->text + (cut + 1 < n ? m[cut + 1].key - 1 : m[cut].value + m[cut].value_len) - it->cut_at;
	it->cursor = it->text + m[cut].value + 1;
	it->cursor_len = m[cut].value_len - 2;
	return 0;
}

/* line as an SK_ITEM_ROW_TEXT when it is its row's text, as an
 * SK_ITEM_PARSED when it is an object written as json-c writes it, else as
 * an SK_ITEM_LINE. */
static int add_line(struct sk_readahead *r, struct sk_batch *b, const char *line, size_t len, uint64_t lineno)
{
	const sk_json_member *m;
	struct sk_item *it;
	size_t n = 0, cut;

	if (r->parse && len > 0 && line[0] == '{')
		n = sk_json_written_object(r->scanner, line, len, &m);
	if (r->flat) {
		if (n > 0 && sk_writer_flat_row(line, m, n, sk_json_written_distinct(r->scanner), &cut))
			return add_row_text(b, line, len, lineno, m, n, cut);
		return new_item(b, SK_ITEM_LINE, line, len, lineno) == NULL ? -1 : 0;
	}
	if ((it = new_item(b, n > 0 ? SK_ITEM_PARSED : SK_ITEM_LINE, line, len, lineno)) == NULL ||
	    (n > 0 && keep_members(b, it, m, n) < 0))
		return -1;
	return 0;
}

/* Hand the batch being filled to the main thread and, unless it is the
 * last, wait for the next one to be free: *b. 0, or -1 when done. */
static int publish(struct sk_readahead *r, struct sk_batch **b, int last)
{
	char c = 1;
	int quit;

	pthread_mutex_lock(&r->mu);
	r->count++;
	/* A system call only when the main thread waits: a full pipe holds
	 * wake-ups enough. */
	if (r->waiting && write(r->ready[1], &c, 1) < 0 && errno != EAGAIN)
		r->quit = 1;
	r->waiting = 0;
	while (r->count == NBATCH && !r->quit && !last)
		pthread_cond_wait(&r->not_full, &r->mu);
	*b = &r->ring[(r->head + r->count) % NBATCH];
	quit = r->quit;
	pthread_mutex_unlock(&r->mu);
	if (quit || last)
		return -1;
	(*b)->n = (*b)->next = (*b)->nmembers = 0;
	(*b)->final = SK_FINAL_NONE;
	sk_buf_reset(&(*b)->bytes);
	return 0;
}

/* Wait for input, or for the main thread to be done (1). */
static int reader_wait(struct sk_readahead *r)
{
	struct pollfd p[2] = { { .fd = r->fd, .events = POLLIN }, { .fd = r->stop[0], .events = POLLIN } };

	while (poll(p, 2, -1) < 0)
		if (errno != EINTR)
			return 0;       /* the read that follows reports it */
	return p[1].revents != 0;
}

/* One line into b: 0, or 1 when the reader is done (b->final says why);
 * *none is set when no complete line is ready. */
static int read_line(struct sk_readahead *r, struct sk_batch *b, int *none)
{
	const char *line;
	size_t len;
	int rc = sk_lines_next(r->lines, &line, &len, 0, &b->err);

	if (rc == 0) {
		*none = 1;
		return 0;
	}
	if (rc == SK_EOF || (rc < 0 && b->err.code != EX_DATAERR)) {
		b->final = rc == SK_EOF ? SK_FINAL_END : SK_FINAL_FAILED;
		return 1;
	}
	if (rc < 0)
		rc = new_item(b, SK_ITEM_OVERSIZE, "", 0, sk_lines_lineno(r->lines)) == NULL ? -1 : 0;
	else
		rc = add_line(r, b, line, len, sk_lines_lineno(r->lines));
	if (rc < 0) {
		sk_err_oom(&b->err);
		b->final = SK_FINAL_FAILED;
		return 1;
	}
	return 0;
}

static void *reader_main(void *arg)
{
	struct sk_readahead *r = arg;
	struct sk_batch *b = &r->ring[0];
	int none, done = 0;

	while (!done) {
		none = 0;
		while (!done && !none && b->n < BATCH_LINES && b->bytes.len < BATCH_BYTES)
			done = read_line(r, b, &none);
		if ((b->n > 0 || done) && publish(r, &b, done) < 0)
			break;
		if (none && !done && reader_wait(r))
			break;
	}
	return NULL;
}

/* The batch the main thread is to handle next, or NULL when none is full. */
struct sk_batch *sk_readahead_full_batch(struct sk_readahead *r)
{
	struct sk_batch *b = NULL;

	pthread_mutex_lock(&r->mu);
	if (r->count > 0)
		b = &r->ring[r->head];
	pthread_mutex_unlock(&r->mu);
	return b;
}

void sk_readahead_release_batch(struct sk_readahead *r)
{
	pthread_mutex_lock(&r->mu);
	r->head = (r->head + 1) % NBATCH;
	r->count--;
	pthread_cond_signal(&r->not_full);
	pthread_mutex_unlock(&r->mu);
}

void sk_readahead_free(struct sk_readahead *r)
{
	size_t i;
	int j;

	if (r == NULL)
		return;
	if (r->started) {
		char c = 1;
		pthread_mutex_lock(&r->mu);
		r->quit = 1;
		pthread_cond_signal(&r->not_full);
		pthread_mutex_unlock(&r->mu);
		while (write(r->stop[1], &c, 1) < 0 && errno == EINTR)
			;
		pthread_join(r->thread, NULL);
	}
	pthread_cond_destroy(&r->not_full);
	pthread_mutex_destroy(&r->mu);
	for (i = 0; i < NBATCH; i++) {
		free(r->ring[i].items);
		free(r->ring[i].members);
		sk_buf_free(&r->ring[i].bytes);
	}
	for (j = 0; j < 2; j++) {
		if (r->ready[j] >= 0)
			close(r->ready[j]);
		if (r->stop[j] >= 0)
			close(r->stop[j]);
	}
	sk_lines_free(r->lines);
	sk_json_free(r->scanner);
	free(r);
}

static int nonblocking_pipe(int p[2])
{
	if (pipe(p) < 0)
		return -1;
	if (fcntl(p[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(p[1], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 || fcntl(p[1], F_SETFL, O_NONBLOCK) < 0)
		return -1;
	return 0;
}

/* Start reading fd ahead. Signals go to the main thread: the reader
 * blocks them all. */
struct sk_readahead *sk_readahead_start(struct sk_writer *w, int fd, sk_err *e)
{
	struct sk_readahead *r = calloc(1, sizeof *r);
	sigset_t all, old;
	int rc;

	if (r == NULL) {
		sk_err_oom(e);
		return NULL;
	}
	r->fd = fd;
	r->ready[0] = r->ready[1] = r->stop[0] = r->stop[1] = -1;
	r->parse = w->o->map == NULL && (sk_sink_takes_json(w->k) || sk_sink_takes_members(w->k));
	r->flat = r->parse && sk_sink_takes_json(w->k) && sk_sink_schema(w->k) == NULL && !sk_sink_wants_schema(w->k);
	if (r->parse) {
		if ((r->scanner = sk_json_new()) == NULL) {
			sk_err_oom(e);
			goto fail;
		}
		sk_json_exact_integers(r->scanner);
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->not_full, NULL);
	if ((r->lines = sk_lines_new(fd, w->o->max_line, 0)) == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (nonblocking_pipe(r->ready) < 0 || nonblocking_pipe(r->stop) < 0) {
		sk_err_set(e, EX_OSERR, "pipe: %s", strerror(errno));
		goto fail;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->thread, NULL, reader_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		sk_err_set(e, EX_OSERR, "a thread to read with: %s", strerror(rc));
		goto fail;
	}
	r->started = 1;
	return r;
fail:
	sk_readahead_free(r);
	return NULL;
}

/* Wait for the reader until the next checkpoint is due, or a stop. */
int sk_readahead_wait(struct sk_writer *w, sk_err *e)
{
	struct pollfd p[3] = { { .fd = w->r->ready[0], .events = POLLIN } };
	int64_t left = w->deadline == INT64_MAX ? -1 : w->deadline - sk_now_ms();
	int timeout = left < 0 ? (w->deadline == INT64_MAX ? -1 : 0) : left > INT_MAX ? INT_MAX : (int)left;
	int sink_fd = sk_sink_event_fd(w->k);
	nfds_t n = 1;
	char drain[64];
	int ready;

	/* A batch published from now on writes to the pipe. */
	pthread_mutex_lock(&w->r->mu);
	ready = w->r->count > 0;
	w->r->waiting = !ready;
	pthread_mutex_unlock(&w->r->mu);
	if (ready)
		return 0;
	/* A signal that came just before poll() is in the wake pipe. */
	if (w->o->wake_fd >= 0)
		p[n++] = (struct pollfd){ .fd = w->o->wake_fd, .events = POLLIN };
	/* The sink has something to do (the next sk_sink_flush does it). */
	if (sink_fd >= 0)
		p[n++] = (struct pollfd){ .fd = sink_fd, .events = POLLIN };
	if (poll(p, n, timeout) < 0 && errno != EINTR)
		return sk_err_set(e, EX_IOERR, "%s: poll: %s", w->o->input, strerror(errno));
	pthread_mutex_lock(&w->r->mu);
	w->r->waiting = 0;
	pthread_mutex_unlock(&w->r->mu);
	/* The bytes stand for batches sk_readahead_full_batch() sees after this. */
	while (read(w->r->ready[0], drain, sizeof drain) > 0)
		;
	while (sink_fd >= 0 && read(sink_fd, drain, sizeof drain) > 0)
		;
	return 0;
}

