/* fuzz-lines - the line reader (lines.h) over any bytes in a file, with a
 * line limit the first byte chooses: every line it gives is the input's
 * bytes at the offset it reports, up to a '\n' (less a '\r' before it) or
 * the end (less a '\r' there), the lines follow each other with nothing left out but the lines
 * it refused as too long, and the whole input is read. */
#define _GNU_SOURCE 1   /* memfd_create */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lines.h"

static int fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line;
	size_t len, max, next = 0;
	uint64_t lineno = 0;
	sk_lines *r;
	sk_err e = { 0 };
	int rc;

	if (size < 1)
		return 0;
	max = data[0] < 128 ? (size_t)data[0] + 1 : SK_LINES_DEFAULT_MAX;
	data++;
	size--;
	if (fd < 0 && (fd = memfd_create("fuzz-lines", 0)) < 0)
		abort();
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if ((r = sk_lines_new(fd, max, 0)) == NULL)
		abort();
	for (;;) {
		rc = sk_lines_next(r, &line, &len, 0, &e);
		if (rc == SK_EOF)
			break;
		if (rc == -1 && e.code == EX_DATAERR) {
			/* Too long: skipped to the end of that line (or of the input). */
			const uint8_t *nl = memchr(data + next, '\n', size - next);
			size_t end = nl ? (size_t)(nl - data) : size;

			if (end - next <= max - 1)
				abort();
			next = end + (nl != NULL);
			lineno++;
			continue;
		}
		if (rc != 1 || sk_lines_offset(r) != next || sk_lines_lineno(r) != ++lineno || len > max ||
		    next + len > size || memcmp(line, data + next, len) != 0)
			abort();
		next += len;
		/* A '\r' before the '\n', or that ends the input, is not the line's. */
		if (next < size && data[next] == '\r' && (next + 1 == size || data[next + 1] == '\n'))
			next++;
		if (next < size && data[next] != '\n')
			abort();
		next += next < size;
		if (sk_lines_end(r) != next)
			abort();
	}
	if (next != size || sk_lines_pending(r) != 0)
		abort();
	sk_lines_free(r);
	return 0;
}
