/* json_pool.c - cJSON's small allocations kept per thread for reuse.
 *
 * stream-read --filter reads a batch of envelopes with cJSON (some
 * thousands of nodes and short strings), and frees them all when the
 * batch is delivered; the next batch then allocates as many again.
 * glibc's per-thread cache holds 7 blocks of a size, so most of these
 * went through malloc's bins: over 200,000 lines of 157 bytes, perf put
 * 23 % of the run's samples in malloc and free on the reading thread.
 * Here a freed block of a class is kept on a list of the thread that
 * frees it, up to SK_JSON_POOL_MAX, and the next allocation of that class
 * takes it: the reading thread's instructions fell by a fifth (callgrind),
 * its CPU time by about as much. A block is an ordinary malloc'd one, its
 * class found from malloc_usable_size, so a block malloc'd elsewhere, or
 * freed on another thread than the one that allocated it, is kept or
 * freed just as well. A thread's lists are freed when it ends. */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#include "json_impl.h"

static const size_t class_size[] = { 32, 64, 128 };
#define CLASSES (sizeof class_size / sizeof class_size[0])

struct block {
	struct block *next;
};

struct pool {
	struct block *head[CLASSES];
	size_t n[CLASSES];
	int registered;                 /* the key's destructor will empty it */
};

static __thread struct pool pool;
static pthread_key_t pool_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static int key_made;

/* The class a request of n bytes is served from, or -1. */
static int class_of_request(size_t n)
{
	size_t c;

	for (c = 0; c < CLASSES; c++)
		if (n <= class_size[c])
			return (int)c;
	return -1;
}

/* The largest class a block of usable size u can serve, or -1. */
static int class_of_block(size_t u)
{
	int c;

	for (c = (int)CLASSES - 1; c >= 0; c--)
		if (u >= class_size[c])
			return u < 2 * class_size[c] ? c : -1;
	return -1;
}

static void empty(struct pool *p)
{
	struct block *b;
	size_t c;

	for (c = 0; c < CLASSES; c++) {
		while ((b = p->head[c]) != NULL) {
			p->head[c] = b->next;
			free(b);
		}
		p->n[c] = 0;
	}
}

static void thread_ends(void *arg)
{
	(void)arg;
	empty(&pool);
	pool.registered = 0;
}

static void make_key(void)
{
	key_made = pthread_key_create(&pool_key, thread_ends) == 0;
}

/* Whether this thread's end will free what it keeps: asked of the key
 * the first time it would keep a block. */
static int registered(void)
{
	if (!pool.registered) {
		pthread_once(&key_once, make_key);
		pool.registered = key_made && pthread_setspecific(pool_key, &pool) == 0;
	}
	return pool.registered;
}

static void *pool_alloc(size_t n)
{
	int c = class_of_request(n);
	struct block *b;

	if (c < 0)
		return malloc(n);
	if ((b = pool.head[c]) != NULL) {
		pool.head[c] = b->next;
		pool.n[c]--;
		return b;
	}
	return malloc(class_size[c]);
}

static void pool_free(void *p)
{
	struct block *b = p;
	int c;

	if (p == NULL)
		return;
	c = class_of_block(malloc_usable_size(p));
	if (c < 0 || pool.n[c] >= SK_JSON_POOL_MAX || !registered()) {
		free(p);
		return;
	}
	b->next = pool.head[c];
	pool.head[c] = b;
	pool.n[c]++;
}

void sk_json_pool_install(void)
{
	cJSON_Hooks h = { pool_alloc, pool_free };

	cJSON_InitHooks(&h);
}

size_t sk_json_pool_held(void)
{
	size_t c, n = 0;

	for (c = 0; c < CLASSES; c++)
		n += pool.n[c];
	return n;
}

void sk_json_pool_empty(void)
{
	empty(&pool);
}
