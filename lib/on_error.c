/* on_error.c - the --on-error parser and the dead-letter file (see on_error.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "on_error.h"

#define DEAD_LETTER_PREFIX "dead-letter:"

int sk_on_error_parse(const char *arg, unsigned takes, sk_on_error *out, sk_err *e)
{
	size_t np = strlen(DEAD_LETTER_PREFIX);
	sk_on_error p = { SK_ON_ERROR_FAIL, NULL };
	int known = 1;

	if (strcmp(arg, "fail") == 0)
		p.action = SK_ON_ERROR_FAIL;
	else if (strcmp(arg, "skip") == 0)
		p.action = SK_ON_ERROR_SKIP;
	else if (strncmp(arg, DEAD_LETTER_PREFIX, np) == 0 && arg[np] != '\0') {
		p.action = SK_ON_ERROR_DEAD_LETTER;
		p.dead_letter = arg + np;
	} else
		known = 0;
	if (!known || !(takes & SK_ON_ERROR_TAKES(p.action))) {
		if (takes & SK_ON_ERROR_TAKES(SK_ON_ERROR_DEAD_LETTER))
			return sk_err_set(e, EX_USAGE, "invalid --on-error '%s' "
			                  "(expected fail, skip or dead-letter:PATH)", arg);
		return sk_err_set(e, EX_USAGE, "invalid --on-error '%s' (expected fail or skip)", arg);
	}
	*out = p;
	return 0;
}

int sk_dead_letter_open(sk_dead_letter *d, const char *path, sk_err *e)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);

	memset(d, 0, sizeof *d);
	sk_output_init(&d->out, -1, path);
	if (fd < 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
	d->out.fd = fd;
	return 0;
}

int sk_dead_letter_add(sk_dead_letter *d, const char *rec, size_t n, sk_err *e)
{
	int rc = sk_output_add(&d->out, rec, n, 1, e);

	if (rc == 0)
		rc = sk_output_flush(&d->out, e);
	d->dirty = 1;
	/* A dead-letter FIFO whose reader went away loses records: an error. */
	if (rc == SK_EOF)
		return sk_err_set(e, EX_IOERR, "%s: %s", d->out.what, strerror(EPIPE));
	return rc;
}

int sk_dead_letter_sync(sk_dead_letter *d, sk_err *e)
{
	int rc;

	if (!d->dirty)
		return 0;
	if ((rc = sk_output_sync(&d->out, e)) == SK_EOF)
		return sk_err_set(e, EX_IOERR, "%s: %s", d->out.what, strerror(EPIPE));
	if (rc == 0)
		d->dirty = 0;
	return rc;
}

int sk_dead_letter_close(sk_dead_letter *d, sk_err *e)
{
	int rc = 0;

	if (d->out.what == NULL || d->out.fd < 0)
		return 0;
	rc = sk_dead_letter_sync(d, e);
	if (close(d->out.fd) < 0 && rc == 0)
		rc = sk_err_set(e, EX_IOERR, "%s: %s", d->out.what, strerror(errno));
	d->out.fd = -1;
	sk_output_free(&d->out);
	return rc;
}
