/* sink_dataset.c - dataset:DIR, a directory of committed part files.
 *
 *   DIR/schema.json              the schema
 *   DIR/dataset.json             {"format":"ndjson"} or "csv": the parts' format
 *   DIR/part-NNNNNNNN.ndjson     committed parts (or .csv), numbered in order
 *   DIR/.staging/part-N...       the part being written, until its checkpoint
 *   DIR/.lock                    held (fcntl) by the one process writing DIR
 *
 * A checkpoint publishes the staged part exactly once, at whatever instant
 * the process is killed, in this order:
 *   1. write and fsync the staged part, fsync .staging;
 *   2. one state-store transaction records the intent (tmp -> final) and
 *      the cursors of the rows in the part;
 *   3. rename tmp to final;  4. fsync DIR;  5. forget the intent.
 * Killed before 2 commits, the part is a leftover that the next open
 * deletes, and since its cursors were not committed its rows come again.
 * Killed after, the next open finishes 3 to 5 from the record.
 *
 * The dataset's description, schema.json and dataset.json, and the lock:
 * dataset_meta.c; what the two share: sink_dataset_impl.h. */
/* realpath is POSIX 2008 base, but glibc declares it only for X/Open. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sink_dataset_impl.h"
#include "json.h"

#define FLUSH_AT (256u << 10)

char *sk_dataset_path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p) {
		memcpy(p, dir, a);
		p[a] = '/';
		memcpy(p + a + 1, name, b + 1);
	}
	return p;
}

/* part-NNNNNNNN.EXT: 1 and *num, *f; 0 for any other name. */
static int part_name(const char *name, uint64_t *num, enum sk_format *f)
{
	char *end;

	if (strncmp(name, "part-", 5) != 0 || !(name[5] >= '0' && name[5] <= '9'))
		return 0;
	errno = 0;
	*num = strtoull(name + 5, &end, 10);
	if (errno || *end != '.')
		return 0;
	return sk_dataset_format_from_name(end + 1, f) == 0;
}

/* The highest part number in dir (0 when none), and the
 * SK_DATASET_FORMAT_BITs of the formats of its parts. */
int sk_dataset_scan_parts(const char *dir, uint64_t *max, unsigned *formats, sk_err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	enum sk_format f;
	uint64_t n;

	if (d == NULL)
		return sk_err_set(e, EX_IOERR, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!part_name(de->d_name, &n, &f))
			continue;
		if (n > *max)
			*max = n;
		*formats |= SK_DATASET_FORMAT_BIT(f);
	}
	closedir(d);
	return 0;
}

struct staged {
	int64_t id;
	char *tmp, *final;
};

struct staged_list {
	struct staged *v;
	size_t n, cap;
};

/* Returns 1 (stop) when out of memory. */
static int collect_staged(void *arg, int64_t id, const char *tmp, const char *final)
{
	struct staged_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		struct staged *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return 1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].id = id;
	l->v[l->n].tmp = strdup(tmp);
	l->v[l->n].final = strdup(final);
	if (!l->v[l->n].tmp || !l->v[l->n].final) {
		free(l->v[l->n].tmp);
		free(l->v[l->n].final);
		return 1;
	}
	l->n++;
	return 0;
}

static void staged_free(struct staged_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].tmp);
		free(l->v[i].final);
	}
	free(l->v);
}

/* Finish the publication of every part a killed writer had recorded. */
static int publish_recorded(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	struct staged_list l = { 0 };
	size_t i;
	int rc = -1;

	rc = sk_state_each_staged_part(k->state, d->dir, collect_staged, &l, e);
	if (rc != 0) {
		if (rc > 0)
			sk_err_oom(e);
		staged_free(&l);
		return -1;
	}
	for (i = 0; i < l.n; i++) {
		if (rename(l.v[i].tmp, l.v[i].final) < 0 && errno != ENOENT) {
			sk_err_set(e, EX_IOERR, "%s: publishing %s: %s", k->label, l.v[i].tmp, strerror(errno));
			goto out;
		}
	}
	if (l.n > 0 && sk_fsync_dir(d->dir, e) < 0)
		goto out;
	for (i = 0; i < l.n; i++)
		if (sk_state_unstage_part(k->state, l.v[i].id, e) < 0)
			goto out;
	rc = 0;
out:
	staged_free(&l);
	return rc;
}

/* Delete what is left in .staging: parts no transaction recorded. */
static int remove_leftovers(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	DIR *dir = opendir(d->staging);
	struct dirent *de;
	int removed = 0;
	char *p;

	if (dir == NULL)
		return sk_err_set(e, EX_IOERR, "%s: %s", d->staging, strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((p = sk_dataset_path_join(d->staging, de->d_name)) == NULL) {
			closedir(dir);
			return sk_err_oom(e);
		}
		if (unlink(p) < 0 && errno != ENOENT) {
			sk_err_set(e, EX_IOERR, "%s: %s", p, strerror(errno));
			free(p);
			closedir(dir);
			return -1;
		}
		free(p);
		removed = 1;
	}
	closedir(dir);
	return removed ? sk_fsync_dir(d->staging, e) : 0;
}

/* Number the next part after every part there is. Without a state store a
 * part left in .staging may be recorded in a store we cannot see: it is
 * kept, and its number is not reused. */
static int number_parts(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	unsigned formats = 0;
	uint64_t max = 0;

	if (sk_dataset_scan_parts(d->dir, &max, &formats, e) < 0)
		return -1;
	/* The record and the parts disagree: dataset.json was edited. */
	if (formats & ~SK_DATASET_FORMAT_BIT(d->format))
		return sk_err_set(e, EX_CONFIG, "%s: %s says the parts are %s, but there are %s parts", k->label,
		                  d->format_path, sk_dataset_format_name(d->format),
		                  sk_dataset_format_name(d->format == SK_FORMAT_CSV ? SK_FORMAT_NDJSON
		                                                                    : SK_FORMAT_CSV));
	if (sk_dataset_scan_parts(d->staging, &max, &formats, e) < 0)
		return -1;
	d->next_part = max + 1;
	return 0;
}

static void dataset_free(struct sk_dataset *d)
{
	if (d == NULL)
		return;
	if (d->fd >= 0) {
		close(d->fd);
		unlink(d->tmp_path);    /* never recorded: not part of the dataset */
	}
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	free(d->tmp_path);
	free(d->final_path);
	free(d->dir);
	free(d->staging);
	free(d->schema_path);
	free(d->format_path);
	sk_buf_free(&d->buf);
	sk_buf_free(&d->field);
	free(d);
}

static const sk_option dataset_options[] = {
	{ "format", 0, SK_OPT_VALUE, "ndjson|csv", "format of a new dataset's parts (default ndjson);\n"
	  "an existing dataset keeps its own", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group dataset_option_group = { "dataset", dataset_options, NULL };

static int dataset_open(sk_sink *k, const sk_endpoint *ep, const sk_sink_opts *o, sk_err *e)
{
	const char *format_name = sk_kindopts_get(o->kindopts, "format");
	enum sk_format format = SK_FORMAT_DEFAULT;
	struct sk_dataset *d;
	char *real;

	/* Before the directory is made. */
	if (format_name && sk_dataset_format_from_name(format_name, &format) < 0)
		return sk_err_set(e, EX_USAGE, "%s: invalid --format '%s' (expected ndjson or csv)", k->label,
		                  format_name);
	if ((d = calloc(1, sizeof *d)) == NULL)
		return sk_err_oom(e);
	d->fd = d->lock_fd = -1;
	if (sk_mkdir_p(ep->path, 0777, e) < 0) {
		if (e)
			e->code = EX_IOERR;
		sk_err_prefix(e, "%s", k->label);
		goto fail;
	}
	if ((real = realpath(ep->path, NULL)) == NULL) {
		sk_err_set(e, EX_IOERR, "%s: %s", k->label, strerror(errno));
		goto fail;
	}
	d->dir = real;
	d->staging = sk_dataset_path_join(real, ".staging");
	d->schema_path = sk_dataset_path_join(real, "schema.json");
	d->format_path = sk_dataset_path_join(real, "dataset.json");
	if (d->staging == NULL || d->schema_path == NULL || d->format_path == NULL) {
		sk_err_oom(e);
		goto fail;
	}
	if (mkdir(d->staging, 0777) < 0 && errno != EEXIST) {
		sk_err_set(e, EX_IOERR, "%s: %s", d->staging, strerror(errno));
		goto fail;
	}
	k->impl = d;
	if (sk_dataset_lock(k, d, e) < 0)
		goto fail;
	/* A part a killed writer recorded is the dataset's already: it is
	 * published before the parts tell the format of a dataset that has
	 * no record of it. */
	if (k->state && (publish_recorded(k, d, e) < 0 || remove_leftovers(k, d, e) < 0))
		goto fail;
	if (sk_dataset_settle_format(k, d, format, e) < 0 || sk_dataset_settle_schema(k, d, e) < 0 ||
	    number_parts(k, d, e) < 0)
		goto fail;
	k->takes_json = d->format == SK_FORMAT_NDJSON;
	k->takes_members = d->format == SK_FORMAT_CSV;
	return 0;
fail:
	k->impl = NULL;
	dataset_free(d);
	return -1;
}

/* One CSV field, quoted when it holds a separator, a quote or a line
 * break, or is empty (so that "" differs from a null, which is nothing). */
static int csv_field(sk_buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != ',' && s[i] != '"' && s[i] != '\r' && s[i] != '\n'; i++)
		;
	if (n > 0 && i == n)
		return sk_buf_add(b, s, n);
	if (sk_buf_addc(b, '"') < 0)
		return -1;
	for (i = 0; i < n; i++)
		if ((s[i] == '"' && sk_buf_addc(b, '"') < 0) || sk_buf_addc(b, s[i]) < 0)
			return -1;
	return sk_buf_addc(b, '"');
}

static int csv_header(sk_buf *b, const sk_schema *s)
{
	size_t i;

	for (i = 0; i < sk_schema_ncols(s); i++) {
		const char *name = sk_schema_col_name(s, i);
		if ((i > 0 && sk_buf_addc(b, ',') < 0) || csv_field(b, name, strlen(name)) < 0)
			return -1;
	}
	return sk_buf_add(b, "\r\n", 2);
}

/* A row as CSV: strings as they are, other values as their JSON text,
 * nulls as empty fields; RFC 4180 with CRLF line ends. */
static int csv_row(sk_buf *b, const sk_schema *s, json_object *row)
{
	json_object *v;
	const char *t;
	size_t i, n;

	for (i = 0; i < sk_schema_ncols(s); i++) {
		if (i > 0 && sk_buf_addc(b, ',') < 0)
			return -1;
		if (!json_object_object_get_ex(row, sk_schema_col_name(s, i), &v) || v == NULL)
			continue;
		if (json_object_is_type(v, json_type_string)) {
			t = json_object_get_string(v);
			n = (size_t)json_object_get_string_len(v);
		} else {
			t = json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN |
			                                      JSON_C_TO_STRING_NOSLASHESCAPE, &n);
		}
		if (t == NULL || csv_field(b, t, n) < 0)
			return -1;
	}
	return sk_buf_add(b, "\r\n", 2);
}

static int open_part(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	char name[64];

	snprintf(name, sizeof name, "part-%08" PRIu64 ".%s", d->next_part, sk_dataset_format_name(d->format));
	free(d->tmp_path);
	free(d->final_path);
	d->tmp_path = sk_dataset_path_join(d->staging, name);
	d->final_path = sk_dataset_path_join(d->dir, name);
	if (d->tmp_path == NULL || d->final_path == NULL)
		return sk_err_oom(e);
	d->fd = open(d->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (d->fd < 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", d->tmp_path, strerror(errno));
	sk_buf_reset(&d->buf);
	if (d->format == SK_FORMAT_CSV && csv_header(&d->buf, k->schema) < 0)
		return sk_err_oom(e);
	return 0;
}

static int write_out(struct sk_dataset *d, sk_err *e)
{
	if (sk_write_all(d->fd, d->buf.p, d->buf.len, e, d->tmp_path) < 0)
		return -1;
	sk_buf_reset(&d->buf);
	return 0;
}

/* The part a row goes to: open one if none is. */
static int staging_part(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	if (k->schema == NULL)
		return sk_err_set(e, EX_SOFTWARE, "%s: a row came before the schema", k->label);
	if (d->fd < 0 && open_part(k, d, e) < 0)
		return -1;
	return 0;
}

static int dataset_write(sk_sink *k, json_object *row, sk_err *e)
{
	struct sk_dataset *d = k->impl;
	int rc;

	if (staging_part(k, d, e) < 0)
		return -1;
	if (d->format == SK_FORMAT_CSV)
		rc = csv_row(&d->buf, k->schema, row);
	else
		rc = sk_json_add_object(&d->buf, row) < 0 ? -1 : sk_buf_addc(&d->buf, '\n');
	if (rc < 0)
		return sk_err_oom(e);
	return d->buf.len >= FLUSH_AT ? write_out(d, e) : 0;
}

/* CSV parts only (takes_members): the row's fields from its text, as
 * csv_row writes them: a string's bytes, another value's text (which is
 * json-c's), nothing for a null. */
static int dataset_write_members(sk_sink *k, const char *text, const sk_json_member *m, size_t n, size_t cut,
                                 sk_err *e)
{
	struct sk_dataset *d = k->impl;
	size_t i;
	int first = 1;

	if (staging_part(k, d, e) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *v = text + m[i].value;
		size_t len = m[i].value_len;

		if (i == cut)
			continue;
		if (!first && sk_buf_addc(&d->buf, ',') < 0)
			return sk_err_oom(e);
		first = 0;
		if (v[0] == '"') {
			sk_buf_reset(&d->field);
			if (sk_json_string_bytes(&d->field, v + 1, len - 2) < 0)
				return sk_err_set(e, EX_SOFTWARE, "%s: a string not as sk_json_written_object admits", k->label);
			v = d->field.p ? d->field.p : "";
			len = d->field.len;
		} else if (len == 4 && memcmp(v, "null", 4) == 0) {
			continue;
		}
		if (csv_field(&d->buf, v, len) < 0)
			return sk_err_oom(e);
	}
	if (sk_buf_add(&d->buf, "\r\n", 2) < 0)
		return sk_err_oom(e);
	return d->buf.len >= FLUSH_AT ? write_out(d, e) : 0;
}

/* NDJSON parts only (takes_json): the row's text is its line. */
static int dataset_write_json(sk_sink *k, const char *text, size_t n, sk_err *e)
{
	struct sk_dataset *d = k->impl;

	if (staging_part(k, d, e) < 0)
		return -1;
	if (sk_buf_reserve(&d->buf, n + 1) < 0)
		return sk_err_oom(e);
	memcpy(d->buf.p + d->buf.len, text, n);
	d->buf.len += n;
	d->buf.p[d->buf.len++] = '\n';
	d->buf.p[d->buf.len] = '\0';
	return d->buf.len >= FLUSH_AT ? write_out(d, e) : 0;
}

/* Step 1: the staged part complete and durable in .staging. */
static int seal_part(struct sk_dataset *d, sk_err *e)
{
	int fd = d->fd;

	if (write_out(d, e) < 0)
		return -1;
	if (fsync(fd) < 0)
		return sk_err_set(e, EX_IOERR, "%s: fsync: %s", d->tmp_path, strerror(errno));
	d->fd = -1;
	if (close(fd) < 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", d->tmp_path, strerror(errno));
	return sk_fsync_dir(d->staging, e);
}

/* Step 2: the intent to publish and the cursors, in one transaction. */
static int record_part(sk_sink *k, struct sk_dataset *d, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	if (sk_state_begin(k->state, e) < 0)
		return -1;
	if (sk_state_stage_part(k->state, k->name, d->dir, d->tmp_path, d->final_path, e) < 0 ||
	    sk_state_put_cursors(k->state, k->name, cs, rows, e) < 0 ||
	    sk_state_commit(k->state, e) < 0) {
		sk_state_rollback(k->state);
		return -1;
	}
	return 0;
}

struct unstage_arg {
	const char *tmp;
	int64_t id;     /* the staged part's, -1: not found */
};

static int find_mine(void *arg, int64_t id, const char *tmp, const char *final)
{
	struct unstage_arg *u = arg;

	(void)final;
	if (strcmp(tmp, u->tmp) != 0)
		return 0;
	u->id = id;
	return 1;
}

/* Step 5: forget the intent, the part is published. The row is deleted
 * after the query that found it has ended: a write from inside a read
 * that another process's commit made stale fails at once (SQLITE_BUSY,
 * without waiting), and the other programs of a pipeline write to the
 * store too. */
static int unstage_part(sk_sink *k, struct sk_dataset *d, sk_err *e)
{
	struct unstage_arg u = { d->tmp_path, -1 };

	if (sk_state_each_staged_part(k->state, d->dir, find_mine, &u, e) < 0)
		return -1;
	return u.id < 0 ? 0 : sk_state_unstage_part(k->state, u.id, e);
}

static int publish_part(sk_sink *k, struct sk_dataset *d, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	if (!k->schema_stored) {
		if (sk_schema_save(k->schema, d->schema_path, e) < 0)
			return -1;
		k->schema_stored = 1;
	}
	if (seal_part(d, e) < 0)
		return -1;
	if (k->state && record_part(k, d, cs, rows, e) < 0)
		return -1;
	if (rename(d->tmp_path, d->final_path) < 0)
		return sk_err_set(e, EX_IOERR, "%s: publishing %s: %s", k->label, d->final_path, strerror(errno));
	if (sk_fsync_dir(d->dir, e) < 0)
		return -1;
	if (k->state && unstage_part(k, d, e) < 0)
		return -1;
	d->next_part++;
	return 0;
}

static int dataset_checkpoint(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e)
{
	struct sk_dataset *d = k->impl;
	sk_cursorset *none = NULL;
	int rc;

	if (k->state && cs == NULL && (cs = none = sk_cursorset_new()) == NULL)
		return sk_err_oom(e);
	if (d->fd >= 0)
		rc = publish_part(k, d, cs, rows, e);
	else if (k->state && sk_cursorset_count(cs) > 0)
		rc = sk_state_checkpoint(k->state, k->name, cs, 0, e);
	else
		rc = 0;
	sk_cursorset_free(none);
	return rc;
}

static void dataset_close(sk_sink *k)
{
	dataset_free(k->impl);
}

const struct sk_sink_ops sk_sink_dataset_ops = {
	.kind = "dataset",
	.options = &dataset_option_group,
	.open = dataset_open,
	.write = dataset_write,
	.flush = NULL,
	.checkpoint = dataset_checkpoint,
	.close = dataset_close,
	.write_json = dataset_write_json,
	.write_members = dataset_write_members,
};