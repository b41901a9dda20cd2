/* slurp.h - a small file's whole text, for the unit tests that check what
 * lib/ wrote to a file (test-on-error.c, test-reader.c). */
#ifndef SK_TEST_SLURP_H
#define SK_TEST_SLURP_H

#include <fcntl.h>
#include <unistd.h>

/* The text of path (up to 16k), in a static buffer; "" when unreadable. */
static char *slurp(const char *path)
{
	static char buf[16384];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);

	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

#endif
