/* fuzz-sse-parse - the SSE parser (sse_parse.h) over any bytes, fed whole,
 * a byte at a time and in pieces cut where the input's first bytes say,
 * on a vector level they choose: every feeding must give the same events,
 * the same last id and retry, and no event may break the stream's rules
 * (data without CR, an id without NUL, a type without CR or LF). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"
#include "sse_parse.h"
#include "util.h"

/* Each event appended to a buffer as it is told, lengths first. */
static int record(void *arg, const sk_sse_event *ev, sk_err *e)
{
	sk_buf *b = arg;

	(void)e;
	if (memchr(ev->data, '\r', ev->data_len) || memchr(ev->id, '\0', ev->id_len) ||
	    memchr(ev->type, '\r', ev->type_len) || memchr(ev->type, '\n', ev->type_len) ||
	    memchr(ev->id, '\r', ev->id_len) || memchr(ev->id, '\n', ev->id_len) ||
	    (ev->too_long && ev->data_len != 0) || ev->type_len == 0 ||
	    (ev->type_default && (ev->type_len != 7 || memcmp(ev->type, "message", 7) != 0)))
		abort();
	if (sk_buf_printf(b, "%zu:%zu:%zu:%d:%llu|", ev->type_len, ev->data_len, ev->id_len, ev->too_long,
	                  ev->line) < 0 ||
	    sk_buf_add(b, ev->type, ev->type_len) < 0 || sk_buf_add(b, ev->data, ev->data_len) < 0 ||
	    sk_buf_add(b, ev->id, ev->id_len) < 0)
		abort();
	return 0;
}

/* The events of s[0..n) fed in pieces of the sizes cuts gives in turn
 * (0: all of it), then the last id and retry, into out. A second
 * connection after the first half: the same on every feeding too. */
static void run(sk_buf *out, size_t max, const uint8_t *s, size_t n, const uint8_t *cuts, size_t ncuts)
{
	sk_sse_parser *p = sk_sse_parser_new(max);
	sk_err e = { 0 };
	size_t at = 0, k = 0, id_len;
	const char *id;

	if (p == NULL)
		abort();
	while (at < n) {
		size_t piece = ncuts ? (size_t)cuts[k++ % ncuts] % 97 + 1 : n;

		if (piece > n - at)
			piece = n - at;
		if (sk_sse_feed(p, (const char *)s + at, piece, record, out, &e) < 0)
			abort();
		at += piece;
	}
	id = sk_sse_last_id(p, &id_len);
	if (sk_buf_printf(out, "#%lld:%zu|", sk_sse_retry_ms(p), id_len) < 0 || sk_buf_add(out, id, id_len) < 0)
		abort();
	/* Again on a new connection: the id is kept, the rest starts over. */
	if (sk_sse_new_connection(p) < 0 || sk_sse_feed(p, (const char *)s, n / 2, record, out, &e) < 0 ||
	    sk_sse_feed(p, (const char *)s + n / 2, n - n / 2, record, out, &e) < 0)
		abort();
	sk_sse_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t limits[4] = { 1 << 20, 64, 7, 0 };
	sk_buf whole = { 0 }, bytes = { 0 }, cut = { 0 };
	uint8_t one = 1;
	size_t max, ncuts;

	if (size < 2)
		return 0;
	/* The first byte: the vector level, the event limit, how many cuts. */
	sk_simd_portable(data[0] & 3);
	max = limits[(data[0] >> 2) & 3];
	ncuts = (size_t)(data[0] >> 4);
	data++;
	size--;
	if (ncuts > size)
		ncuts = size;
	run(&whole, max, data + ncuts, size - ncuts, NULL, 0);
	run(&bytes, max, data + ncuts, size - ncuts, &one, 1);
	run(&cut, max, data + ncuts, size - ncuts, data, ncuts);
	if (whole.len != bytes.len || memcmp(whole.p, bytes.p, whole.len) != 0 || whole.len != cut.len ||
	    memcmp(whole.p, cut.p, whole.len) != 0)
		abort();
	sk_buf_free(&whole);
	sk_buf_free(&bytes);
	sk_buf_free(&cut);
	return 0;
}
