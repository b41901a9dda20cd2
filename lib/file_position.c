/* file_position.c - what a file position is, and the file it belongs to.
 *
 * A position is OFFSET@DEV.INO.FP: the offset of the next line, and the
 * file's device and inode numbers and FP, the 64-bit FNV-1a hash (16 hex
 * digits) of its first min(256, OFFSET) bytes. Those are bytes already
 * read, which an append-only file never changes, so that a file rewritten
 * in place or a new file that got the old one's inode is told apart. A
 * bare OFFSET (stores older than identities, `stream-checkpoint set`) is
 * about whatever file is at the path.
 *
 * Here: positions parsed and written, compared, checked, described and
 * their lag; the old file of a position found under another name or as a
 * copy (rotation, copytruncate); and the sizes of files left, noted in
 * the state store for the warning about what was never read. */
/* realpath is POSIX 2008 base, but glibc declares it only for X/Open. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_file_impl.h"
#include "util.h"

#define FNV_PRIME 0x100000001b3ULL
#define SIZES_NOTE "sizes"               /* the state store note of files left */
#define SIZES_KEPT 8                     /* files remembered per source */

/* "file:" and the absolute path, symbolic links resolved. A path that does
 * not exist yet (--follow waits for it) is its directory's real path plus
 * its name, which is what realpath will say once it exists. */
char *sk_file_source_id(const char *path, sk_err *e)
{
	char *real = realpath(path, NULL), *dir, *id;
	const char *base, *slash;
	size_t n;

	if (real == NULL) {
		if (errno != ENOENT) {
			sk_err_set(e, sk_err_code_for_errno(errno), "%s", strerror(errno));
			return NULL;
		}
		slash = strrchr(path, '/');
		base = slash ? slash + 1 : path;
		if (slash == path)
			dir = strdup("/");
		else if (slash)
			dir = strndup(path, (size_t)(slash - path));
		else
			dir = strdup(".");
		if (dir == NULL) {
			sk_err_oom(e);
			return NULL;
		}
		real = realpath(dir, NULL);
		free(dir);
		if (real == NULL) {
			sk_err_set(e, sk_err_code_for_errno(errno), "%s", strerror(errno));
			return NULL;
		}
		n = strlen(real) + strlen(base) + 2;
		dir = real;
		real = malloc(n);
		if (real == NULL) {
			free(dir);
			sk_err_oom(e);
			return NULL;
		}
		snprintf(real, n, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base);
		free(dir);
	}
	n = strlen(real) + sizeof "file:";
	id = malloc(n);
	if (id)
		snprintf(id, n, "file:%s", real);
	else
		sk_err_oom(e);
	free(real);
	return id;
}

/* --- positions and the files they belong to --- */

/* Extend *h, the hash of the bytes of fd before `from`, up to `to`; the
 * number of bytes hashed then (less than `to` for a shorter file). */
uint64_t sk_file_hash_more(int fd, uint64_t from, uint64_t to, uint64_t *h)
{
	unsigned char buf[SK_FILE_FP_MAX];
	ssize_t got, i;

	while (from < to) {
		got = pread(fd, buf, (size_t)(to - from) < sizeof buf ? (size_t)(to - from) : sizeof buf,
		            (off_t)from);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (i = 0; i < got; i++) {
			*h ^= buf[i];
			*h *= FNV_PRIME;
		}
		from += (uint64_t)got;
	}
	return from;
}

/* The fingerprint of a position at off in fd: 0, or -1 when the file is
 * shorter than that. */
static int fingerprint(int fd, uint64_t off, uint64_t *fp)
{
	*fp = SK_FILE_FNV_BASIS;
	return sk_file_hash_more(fd, 0, sk_file_fp_len(off), fp) == sk_file_fp_len(off) ? 0 : -1;
}

/* Digits of s[*i..n) in base 10 or 16 (at most `max` of them); -1 on none
 * or an overflow. */
static int take_number(const char *s, size_t n, size_t *i, int hex, size_t max, uint64_t *v)
{
	size_t start = *i;
	uint64_t x = 0;

	for (; *i < n && *i - start < max; (*i)++) {
		char c = s[*i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (hex && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			break;
		if (x > (UINT64_MAX - d) / (hex ? 16 : 10))
			return -1;
		x = x * (hex ? 16 : 10) + d;
	}
	*v = x;
	return *i > start ? 0 : -1;
}

/* OFFSET, or OFFSET@DEV.INO.FP with FP 16 hex digits. */
int sk_file_pos_parse(const char *s, size_t n, struct sk_file_pos *p)
{
	size_t i = 0, fp_at;

	memset(p, 0, sizeof *p);
	if (take_number(s, n, &i, 0, 20, &p->off) < 0)
		return -1;
	if (i == n)
		return 0;
	p->has_id = 1;
	if (s[i++] != '@' || take_number(s, n, &i, 0, 20, &p->dev) < 0 || i == n || s[i++] != '.' ||
	    take_number(s, n, &i, 0, 20, &p->ino) < 0 || i == n || s[i++] != '.')
		return -1;
	fp_at = i;
	if (take_number(s, n, &i, 1, 16, &p->fp) < 0 || i != n || n - fp_at != 16)
		return -1;
	return 0;
}

/* "@DEV.INO." */
size_t sk_file_format_id_tag(char *buf, size_t size, uint64_t dev, uint64_t ino)
{
	int n = snprintf(buf, size, "@%llu.%llu.", (unsigned long long)dev, (unsigned long long)ino);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static void format_position(char *buf, size_t size, const struct sk_file_pos *p)
{
	if (p->has_id)
		snprintf(buf, size, "%llu@%llu.%llu.%016llx", (unsigned long long)p->off,
		         (unsigned long long)p->dev, (unsigned long long)p->ino, (unsigned long long)p->fp);
	else
		snprintf(buf, size, "%llu", (unsigned long long)p->off);
}

/* Whether two positions with identities belong to one file: one inode
 * with the same first bytes. Device numbers count only where fingerprints
 * of different lengths cannot tell, since some filesystems (overlayfs)
 * number their device anew at each mount; equal full fingerprints of one
 * inode are the same file whatever the device says. */
static int same_file(const struct sk_file_pos *a, const struct sk_file_pos *b)
{
	if (a->ino != b->ino)
		return 0;
	if (sk_file_fp_len(a->off) == sk_file_fp_len(b->off)) {
		if (a->fp != b->fp)
			return 0;
		return a->dev == b->dev || sk_file_fp_len(a->off) == SK_FILE_FP_MAX;
	}
	return a->dev == b->dev;
}

/* Whether the file open at fd (stat st) holds p->off bytes or more, the
 * first of which are those p's fingerprint was made of. */
static int starts_like(int fd, const struct stat *st, const struct sk_file_pos *p)
{
	uint64_t fp;

	return (uint64_t)st->st_size >= p->off && fingerprint(fd, p->off, &fp) == 0 && fp == p->fp;
}

/* Whether the file open at fd (stat st) is the one position p belongs to
 * and holds at least p->off bytes: its inode, its device unless a full
 * fingerprint agrees (as same_file says), and its first bytes. */
int sk_file_is_position_file(int fd, const struct stat *st, const struct sk_file_pos *p)
{
	return (uint64_t)st->st_ino == p->ino &&
	       ((uint64_t)st->st_dev == p->dev || sk_file_fp_len(p->off) == SK_FILE_FP_MAX) && starts_like(fd, st, p);
}

/* Directory and base name of path (absolute, no trailing '/'), malloc'd. */
static int split_path(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash ? slash + 1 : path;
	*dir = slash == NULL ? strdup(".") : slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	return *dir ? 0 : -1;
}

/* A candidate for the old file of p: the name in dfd's directory, open,
 * when it is p's file under another name, or a copy of it: a regular file
 * named after the path's base (a.log.1, a.log-20251125) that holds p->off
 * bytes or more and starts with the same bytes. The fd, or -1; *same_inode
 * says which of the two it is. */
static int candidate(int dfd, const char *name, const char *base, const struct sk_file_pos *p,
                     struct stat *st, int *same_inode)
{
	size_t nb = strlen(base);
	int fd;

	*same_inode = 0;
	if (fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st->st_mode) ||
	    (uint64_t)st->st_size < p->off)
		return -1;
	if ((uint64_t)st->st_ino != p->ino && !(strncmp(name, base, nb) == 0 && name[nb] != '\0'))
		return -1;
	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) == 0 && sk_file_is_position_file(fd, st, p)) {
		*same_inode = 1;
		return fd;
	}
	if ((uint64_t)st->st_ino != p->ino && strncmp(name, base, nb) == 0 && starts_like(fd, st, p))
		return fd;
	close(fd);
	return -1;
}

/* The file position p belongs to, when the path names another: in the
 * path's directory, the file of p's inode under another name (a.log
 * renamed a.log.1), else the newest copy of it (copytruncate: a.log
 * copied to a.log.1, then truncated), a regular file whose name is the
 * path's and more, that holds p->off bytes or more and starts with the
 * same bytes. Its fd and, in *name, its name (malloc'd); -1 when none. */
int sk_file_find_old(const char *path, const struct sk_file_pos *p, char **name)
{
	char *dirpath;
	const char *base;
	struct dirent *d;
	struct stat st;
	struct timespec newest = { 0, 0 };
	int found = -1, same = 0, fd, dfd;
	DIR *dir;

	*name = NULL;
	if (!p->has_id || split_path(path, &dirpath, &base) < 0)
		return -1;
	dir = opendir(dirpath);
	free(dirpath);
	if (dir == NULL)
		return -1;
	dfd = dirfd(dir);
	while (!same && (d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 || strcmp(d->d_name, base) == 0)
			continue;
		if ((fd = candidate(dfd, d->d_name, base, p, &st, &same)) < 0)
			continue;
		if (!same && found >= 0 && (st.st_mtim.tv_sec < newest.tv_sec ||
		                            (st.st_mtim.tv_sec == newest.tv_sec && st.st_mtim.tv_nsec <= newest.tv_nsec))) {
			close(fd);
			continue;
		}
		if (found >= 0)
			close(found);
		free(*name);
		found = fd;
		newest = st.st_mtim;
		if ((*name = strdup(d->d_name)) == NULL) {
			close(found);
			found = -1;
			break;
		}
	}
	closedir(dir);
	return found;
}

/* --- the sizes of files left, noted in the state store --- */

/* The note is "SIZE@DEV.INO.FP" entries, newest first, one space apart.
 * 1 and the next entry after *s (its text in *text, *n bytes, parsed in
 * *q), or 0 at the end; an entry that does not parse is passed over. */
static int next_noted(const char **s, const char **text, size_t *n, struct sk_file_pos *q)
{
	while (**s) {
		const char *start = *s, *end = strchr(start, ' ');
		if (end == NULL)
			end = start + strlen(start);
		*s = *end ? end + 1 : end;
		if (sk_file_pos_parse(start, (size_t)(end - start), q) == 0 && q->has_id) {
			*text = start;
			*n = (size_t)(end - start);
			return 1;
		}
	}
	return 0;
}

/* The size last seen of p's file, or -1 when the note does not say. */
static int64_t noted_size(const char *note, const struct sk_file_pos *p)
{
	const char *text;
	struct sk_file_pos q;
	size_t n;

	while (next_noted(&note, &text, &n, &q))
		if (same_file(&q, p))
			return (int64_t)q.off;
	return -1;
}

/* Note the size of the file at fs->fd now (the reader leaves it), in front
 * of the others noted for the source, keeping the SIZES_KEPT newest. */
int sk_file_note_size(struct sk_file_src *fs, sk_err *e)
{
	struct sk_file_pos me = { .has_id = 1, .dev = (uint64_t)fs->dev, .ino = (uint64_t)fs->ino };
	char *old = NULL, entry[80];
	const char *s, *text;
	struct sk_file_pos q;
	struct stat st;
	sk_buf b = { 0 };
	size_t n;
	int kept = 1, rc;

	if (fs->name == NULL || !fs->has_id || fs->fd < 0 || fstat(fs->fd, &st) < 0)
		return 0;
	me.off = (uint64_t)st.st_size;
	me.fp = fs->fp;
	if (sk_file_hash_more(fs->fd, fs->fp_done, sk_file_fp_len(me.off), &me.fp) != sk_file_fp_len(me.off))
		return 0;   /* shrank meanwhile: nothing true to say */
	format_position(entry, sizeof entry, &me);
	if (sk_state_get_note(fs->state, fs->name, fs->id, SIZES_NOTE, &old, e) < 0)
		return -1;
	if (sk_buf_adds(&b, entry) < 0)
		goto nomem;
	for (s = old ? old : ""; kept < SIZES_KEPT && next_noted(&s, &text, &n, &q);) {
		if (q.dev == me.dev && q.ino == me.ino)
			continue;   /* this file's older size */
		if (sk_buf_addc(&b, ' ') < 0 || sk_buf_add(&b, text, n) < 0)
			goto nomem;
		kept++;
	}
	rc = old && strcmp(old, b.p) == 0 ? 0 : sk_state_set_note(fs->state, fs->name, fs->id, SIZES_NOTE, b.p, e);
	free(old);
	sk_buf_free(&b);
	return rc;
nomem:
	free(old);
	sk_buf_free(&b);
	return sk_err_oom(e);
}

/* Say that a file the stored position p belongs to is gone (or was
 * rewritten), with how much of it was never read. */
int sk_file_warn_lost(struct sk_file_src *fs, const struct sk_file_pos *p, const char *what, sk_err *e)
{
	char *note = NULL;
	int64_t size = -1;

	if (fs->name && sk_state_get_note(fs->state, fs->name, fs->id, SIZES_NOTE, &note, e) < 0)
		return -1;
	if (note)
		size = noted_size(note, p);
	free(note);
	if (size >= (int64_t)p->off)
		sk_warn("%s: the file of the stored position (inode %llu) %s: %llu byte%s after the position "
		        "when last seen %s never read; reading %s from its start", fs->arg,
		        (unsigned long long)p->ino, what, (unsigned long long)(size - (int64_t)p->off),
		        size - (int64_t)p->off == 1 ? "" : "s", size - (int64_t)p->off == 1 ? "was" : "were", fs->arg);
	else
		sk_warn("%s: the file of the stored position (inode %llu) %s: how many bytes of it were never "
		        "read is not known; reading %s from its start", fs->arg, (unsigned long long)p->ino, what,
		        fs->arg);
	return 0;
}

/* --- what file positions mean (source.h) --- */

static int position_compare(const char *a, size_t na, const char *b, size_t nb)
{
	struct sk_file_pos pa, pb;

	if (sk_file_pos_parse(a, na, &pa) < 0 || sk_file_pos_parse(b, nb, &pb) < 0)
		return sk_position_compare_decimal(a, na, b, nb);
	/* A bare offset is about whatever file is at the path. */
	if (pa.has_id && pb.has_id && !same_file(&pa, &pb))
		return SK_POSITION_INCOMPARABLE;
	return pa.off < pb.off ? -1 : pa.off > pb.off;
}

/* The id readers give the file: a path that does not resolve (a
 * directory that is gone) is kept as written when it is absolute. */
static int position_source(const char *source, char **out, sk_err *e)
{
	if ((*out = sk_file_source_id(source + 5, e)) != NULL)
		return 0;
	if (source[5] != '/')
		return sk_err_set(e, EX_USAGE, "%s: %s", source, e->msg);
	if ((*out = strdup(source)) == NULL)
		return sk_err_oom(e);
	return 0;
}

static int position_check(const char *source, const char *partition, const char *position, sk_err *e)
{
	struct sk_file_pos p;

	if (strcmp(partition, "0") != 0)
		return sk_err_set(e, EX_USAGE, "invalid partition '%s' for %s (a file has one partition, 0)",
		                  partition, source);
	if (sk_file_pos_parse(position, strlen(position), &p) < 0)
		return sk_err_set(e, EX_USAGE, "invalid position '%s' for %s (expected a byte offset, "
		                  "or OFFSET@DEV.INO.FINGERPRINT as in a cursor)", position, source);
	return 0;
}

static int position_describe(const char *position, sk_buf *text, sk_buf *json)
{
	struct sk_file_pos p;

	if (sk_file_pos_parse(position, strlen(position), &p) < 0 || !p.has_id)
		return sk_buf_adds(text, position);
	if (sk_buf_printf(text, "%llu (inode %llu)", (unsigned long long)p.off, (unsigned long long)p.ino) < 0 ||
	    sk_buf_printf(json, ",\"file\":{\"device\":%llu,\"inode\":%llu,\"fingerprint\":\"%016llx\"}",
	                  (unsigned long long)p.dev, (unsigned long long)p.ino, (unsigned long long)p.fp) < 0)
		return -1;
	return 0;
}

/* How far a position is behind its file's end. */
struct file_lag {
	int has_end, has_lag;
	int64_t end, lag;
	char note[512];        /* a warning about it, or "" */
};

/* The lag of a position that belongs to another file than the path's
 * (open at fd, stat st): the rest of that file, if it is still here under
 * another name, and the whole file at the path. */
static void lag_elsewhere(const char *path, int fd, const struct stat *st, const struct sk_file_pos *p,
                          struct file_lag *out)
{
	struct stat ost;
	char *name = NULL;
	int old;

	if (fd >= 0 && (uint64_t)st->st_ino == p->ino && (uint64_t)st->st_dev == p->dev &&
	    (uint64_t)st->st_size < p->off) {
		out->has_lag = 1;
		out->lag = (int64_t)st->st_size - (int64_t)p->off;
		snprintf(out->note, sizeof out->note, "the file is shorter than the position (truncated)");
		return;
	}
	if ((old = sk_file_find_old(path, p, &name)) >= 0 && fstat(old, &ost) == 0) {
		out->has_lag = 1;
		out->lag = (int64_t)ost.st_size - (int64_t)p->off + out->end;
		snprintf(out->note, sizeof out->note, "the position belongs to inode %llu, now %s, not to the "
		         "file at the path (inode %llu): the lag counts the rest of it and the file at the path",
		         (unsigned long long)p->ino, name, (unsigned long long)st->st_ino);
	} else {
		snprintf(out->note, sizeof out->note, "the position belongs to inode %llu, not to the file at "
		         "the path (inode %llu), and that file is gone: the lag is not known",
		         (unsigned long long)p->ino, (unsigned long long)st->st_ino);
	}
	if (old >= 0)
		close(old);
	free(name);
}

static void file_lag(const char *source, const char *position, struct file_lag *out)
{
	const char *path = source + 5;
	struct sk_file_pos p;
	struct stat st;
	int fd;

	if (path[0] != '/' || sk_file_pos_parse(position, strlen(position), &p) < 0)
		return;
	if (stat(path, &st) < 0) {
		snprintf(out->note, sizeof out->note, "%s", strerror(errno));
		return;
	}
	out->has_end = 1;
	out->end = (int64_t)st.st_size;
	fd = p.has_id ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	/* A file that cannot be read is taken for its inode's. */
	if (!p.has_id || (fd < 0 && (uint64_t)st.st_ino == p.ino) ||
	    (fd >= 0 && sk_file_is_position_file(fd, &st, &p))) {
		out->has_lag = 1;
		out->lag = out->end - (int64_t)p.off;
	} else {
		lag_elsewhere(path, fd, &st, &p, out);
	}
	if (fd >= 0)
		close(fd);
}

static int position_lag(const sk_lag_query *q, const char *source, const char *partition,
                        const char *position, int *whole, sk_err *e)
{
	struct file_lag l = { 0 };
	sk_lag_row r = { .source = source, .partition = partition, .position = position };

	(void)whole, (void)e;
	file_lag(source, position, &l);
	r.has_end = l.has_end;
	r.end = l.end;
	r.has_lag = l.has_lag;
	r.lag = l.lag;
	r.note = l.note[0] ? l.note : NULL;
	return q->cb(q->arg, &r);
}

const struct sk_position_ops sk_position_file_ops = {
	.prefix = "file:",
	.compare = position_compare,
	.source = position_source,
	.check = position_check,
	.describe = position_describe,
	.lag = position_lag,
};