/* dataset_meta.c - what describes a dataset: its parts' format
 * (DIR/dataset.json), its schema (DIR/schema.json), and the lock that
 * lets one process write DIR (DIR/.lock). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sink_dataset_impl.h"
#include "json.h"

#define FORMAT_RECORD_MAX 4096  /* dataset.json is a line; more is not ours */
#define LOCK_WAIT_MS 10000      /* a writer killed a moment ago may still hold it */

const char *sk_dataset_format_name(enum sk_format f)
{
	return f == SK_FORMAT_CSV ? "csv" : "ndjson";
}

int sk_dataset_format_from_name(const char *name, enum sk_format *f)
{
	if (strcmp(name, "ndjson") == 0)
		*f = SK_FORMAT_NDJSON;
	else if (strcmp(name, "csv") == 0)
		*f = SK_FORMAT_CSV;
	else
		return -1;
	return 0;
}

/* Read at most FORMAT_RECORD_MAX + 1 bytes of fd into text: how many. */
static ssize_t read_small(int fd, char *text)
{
	size_t n = 0;
	ssize_t r;

	while (n <= FORMAT_RECORD_MAX) {
		r = read(fd, text + n, FORMAT_RECORD_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

/* The format dataset.json records: 1 and *f, 0 when there is no record
 * (a new dataset, or one written before formats were recorded), -1. */
static int read_format_record(const struct sk_dataset *d, enum sk_format *f, sk_err *e)
{
	char text[FORMAT_RECORD_MAX + 1];
	json_object *root = NULL, *v;
	sk_json *p;
	ssize_t n;
	int fd;

	if ((fd = open(d->format_path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		return sk_err_set(e, sk_err_code_for_errno(errno), "%s: %s", d->format_path, strerror(errno));
	}
	n = read_small(fd, text);
	if (n < 0) {
		sk_err_set(e, EX_IOERR, "%s: %s", d->format_path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if ((p = sk_json_new()) == NULL)
		return sk_err_oom(e);
	if (n <= FORMAT_RECORD_MAX)
		root = sk_json_parse(p, text, (size_t)n, e);
	sk_json_free(p);
	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "format", &v) || !json_object_is_type(v, json_type_string) ||
	    sk_dataset_format_from_name(json_object_get_string(v), f) < 0) {
		json_object_put(root);
		return sk_err_set(e, EX_CONFIG, "%s: expected {\"format\":\"ndjson\"} or {\"format\":\"csv\"}",
		                  d->format_path);
	}
	json_object_put(root);
	return 1;
}

/* Record f in dataset.json: a temporary file, fsync, rename, fsync DIR, so
 * that a crash leaves the old record or the new one. */
static int write_format_record(const struct sk_dataset *d, enum sk_format f, sk_err *e)
{
	char text[32];
	char *tmp = sk_strprintf("%s.tmp", d->format_path);
	int n = snprintf(text, sizeof text, "{\"format\":\"%s\"}\n", sk_dataset_format_name(f));
	int fd = -1, rc = -1;

	if (tmp == NULL)
		return sk_err_oom(e);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		sk_err_set(e, sk_err_code_for_errno(errno), "%s: %s", tmp, strerror(errno));
		goto out;
	}
	if (sk_write_all(fd, text, (size_t)n, e, tmp) < 0)
		goto out;
	if (fsync(fd) < 0) {
		sk_err_set(e, EX_IOERR, "%s: fsync: %s", tmp, strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0 || rename(tmp, d->format_path) < 0) {
		rc = sk_err_set(e, EX_IOERR, "%s: %s", d->format_path, strerror(errno));
		goto out;
	}
	rc = sk_fsync_dir(d->dir, e);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* The format of the parts in DIR, for a dataset that has no record: 1 and
 * *f, 0 when it has no parts, -1 (parts of both formats are an error). */
static int format_of_parts(sk_sink *k, const struct sk_dataset *d, enum sk_format *f, sk_err *e)
{
	unsigned formats = 0;
	uint64_t max = 0;

	if (sk_dataset_scan_parts(d->dir, &max, &formats, e) < 0)
		return -1;
	if (formats == 0)
		return 0;
	if (formats == (SK_DATASET_FORMAT_BIT(SK_FORMAT_NDJSON) | SK_DATASET_FORMAT_BIT(SK_FORMAT_CSV)))
		return sk_err_set(e, EX_CONFIG, "%s: the dataset has both csv and ndjson parts", k->label);
	*f = formats == SK_DATASET_FORMAT_BIT(SK_FORMAT_CSV) ? SK_FORMAT_CSV : SK_FORMAT_NDJSON;
	return 1;
}

/* The parts' format is the dataset's, kept in dataset.json (inferred from
 * the parts of a dataset written before it was kept); --format may only
 * repeat it. A new dataset takes --format, ndjson by default, and keeps it
 * at once, so that a run without --format goes on in it. */
int sk_dataset_settle_format(sk_sink *k, struct sk_dataset *d, enum sk_format want, sk_err *e)
{
	enum sk_format have;
	int recorded, rc;

	if ((rc = recorded = read_format_record(d, &have, e)) == 0)
		rc = format_of_parts(k, d, &have, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		have = want == SK_FORMAT_DEFAULT ? SK_FORMAT_NDJSON : want;
	else if (want != SK_FORMAT_DEFAULT && want != have)
		return sk_err_set(e, EX_CONFIG, "%s: --format %s does not match the dataset's format, %s", k->label,
		                  sk_dataset_format_name(want), sk_dataset_format_name(have));
	d->format = have;
	return recorded == 1 ? 0 : write_format_record(d, have, e);
}

int sk_dataset_lock(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	char *path = sk_dataset_path_join(d->dir, ".lock");
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct timespec pause = { 0, 20 * 1000000 };
	int64_t deadline = sk_now_ms() + LOCK_WAIT_MS;

	if (path == NULL)
		return sk_err_oom(e);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (d->lock_fd < 0) {
		sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	while (fcntl(d->lock_fd, F_SETLK, &fl) < 0) {
		if (errno != EACCES && errno != EAGAIN && errno != EINTR)
			return sk_err_set(e, EX_IOERR, "%s: lock: %s", k->label, strerror(errno));
		if (sk_now_ms() >= deadline) {
			struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
			if (fcntl(d->lock_fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
				return sk_err_set(e, EX_TEMPFAIL, "%s: being written by another process (pid %ld)",
				                  k->label, (long)who.l_pid);
			return sk_err_set(e, EX_TEMPFAIL, "%s: being written by another process", k->label);
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

/* Describe how two schemas differ, for the mismatch message. */
static void schema_difference(const sk_schema *want, const sk_schema *have, char *buf, size_t n)
{
	size_t i, nw = sk_schema_ncols(want), nh = sk_schema_ncols(have);

	for (i = 0; i < nw && i < nh; i++) {
		if (strcmp(sk_schema_col_name(want, i), sk_schema_col_name(have, i)) != 0 ||
		    sk_schema_col_type(want, i) != sk_schema_col_type(have, i)) {
			snprintf(buf, n, "column %zu is \"%s\" %s in --schema, \"%s\" %s in the dataset", i + 1,
			         sk_schema_col_name(want, i), sk_type_name(sk_schema_col_type(want, i)),
			         sk_schema_col_name(have, i), sk_type_name(sk_schema_col_type(have, i)));
			return;
		}
	}
	snprintf(buf, n, "--schema has %zu columns, the dataset %zu", nw, nh);
}

/* The schema: the stored one, checked against --schema, or --schema
 * stored now, or none yet (inferred from the first row). */
int sk_dataset_settle_schema(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	sk_schema *disk = NULL;
	char diff[256];
	int rc;

	k->keeps_schema = 1;
	rc = sk_schema_load(d->schema_path, &disk, e);
	if (rc < 0) {
		if (e)
			e->code = EX_CONFIG;
		return -1;
	}
	if (rc == 1) {
		if (k->schema && !sk_schema_equal(k->schema, disk)) {
			schema_difference(k->schema, disk, diff, sizeof diff);
			sk_schema_free(disk);
			return sk_err_set(e, EX_CONFIG, "%s: --schema does not match %s: %s", k->label,
			                  d->schema_path, diff);
		}
		sk_schema_free(k->schema);
		k->schema = disk;
		k->schema_stored = 1;
		return 0;
	}
	if (k->schema) {
		if (sk_schema_save(k->schema, d->schema_path, e) < 0)
			return -1;
		k->schema_stored = 1;
	}
	return 0;
}
