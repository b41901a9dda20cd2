/* source_file.c - the lines of a file or of standard input, one message each.
 *
 * Envelope: {"line":TEXT,"offset":START,"_cursor":"file:/abs/path:0:NEXT@DEV.INO.FP"}
 * where NEXT is the byte offset of the following line, what a restarted
 * reader resumes at, and DEV.INO.FP names the file it belongs to: its
 * device and inode numbers, and FP, the 64-bit FNV-1a hash (16 hex digits)
 * of its first min(256, NEXT) bytes. Those are bytes already read, which an
 * append-only file never changes, so that a file rewritten in place or a
 * new file that got the old one's inode is told apart. A bare NEXT (stores
 * older than identities, `stream-checkpoint set`) is about whatever file
 * is at the path. Files that are not regular (pipes) have bare offsets.
 *
 * On start, a stored position whose file is not the one at the path is
 * looked for in the path's directory: the file of its inode under another
 * name (a.log renamed a.log.1), else the newest copy of it (copytruncate).
 * Found, it is finished from the position (its last line even without a
 * newline: a rotated file is complete), then the path is read from 0. Not
 * found, the path is read from 0 with a warning saying how much of the old
 * file was never read, from the sizes of the files left that the reader
 * records in the state store (at a clean stop and at a rotation).
 *
 * With follow set, a regular file is read like tail -F: at its end the
 * reader waits, checking every STAT_INTERVAL_MS whether the file was
 * truncated (its size fell below what was read: its copy is finished if
 * there is one, then it starts again at 0) or rotated (the path names
 * another file: finish the old file, then read the new one from 0). A
 * removed path is waited for while the old file is still read.
 *
 * A last line without a newline is held, not returned, when partial lines
 * are held (a resumable read, or a followed file): it is returned whole
 * once its newline is written, and never committed in pieces. */
/* realpath is POSIX 2008 base, but glibc declares it only for X/Open. */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_impl.h"
#include "json.h"
#include "lines.h"
#include "util.h"

#define STAT_INTERVAL_MS 100
#define FP_MAX 256                       /* bytes of a file's start in its fingerprint */
#define FNV_BASIS 0xcbf29ce484222325ULL  /* 64-bit FNV-1a */
#define FNV_PRIME 0x100000001b3ULL
#define SIZES_NOTE "sizes"               /* the state store note of files left */
#define SIZES_KEPT 8                     /* files remembered per source */

/* A position: an offset, and the file it belongs to when has_id. */
struct file_pos {
	uint64_t off;
	int has_id;
	uint64_t dev, ino;
	uint64_t fp;           /* FNV-1a of the first fp_len(off) bytes */
};

struct file_src {
	char *arg;              /* the endpoint as written, for warnings */
	char *path;             /* the path followed; NULL for standard input */
	const char *real;       /* its absolute path (in the source id) */
	int fd;                 /* -1 while waiting for the path to appear */
	int is_stdin, follow, json, base64;
	int regular;            /* fd is a regular file: its end can be followed */
	enum sk_partial_line partial;   /* what to do with a last line without newline */
	int resumable;          /* a name: positions are committed */
	dev_t dev;
	ino_t ino;
	int gone;               /* the path was removed; the old file is still read */
	int draining;           /* the path names another file: finish this one */
	int ended;              /* SK_EOF returned */
	int held;               /* at the end, a line without newline is held */
	uint64_t held_at;       /* where that line starts */
	uint64_t start;         /* offset where reading this fd began */
	int64_t start_lineno;   /* lines before start; -1 until counted */
	size_t max_line;
	sk_lines *lr;
	sk_json *jp;
	sk_buf env;
	sk_buf cursor;          /* "SOURCE:0:" then the position */
	size_t cursor_prefix;
	sk_buf cursor_json;     /* ,"_cursor":"SOURCE:0: escaped once: the
	                           position needs no escaping */
	/* The identity of the file at fd, for positions (regular files). */
	int has_id;
	uint64_t fp;            /* FNV-1a of its first fp_done bytes */
	uint64_t fp_done;
	char id_tag[64];        /* "@DEV.INO." */
	size_t id_tag_len;
	char fp_hex[17];        /* fp in hex */
	sk_state *state;        /* with name: where file sizes are noted */
	char *name;
	const char *id;
};

static void file_free(struct file_src *fs)
{
	if (fs == NULL)
		return;
	if (fs->fd >= 0 && !fs->is_stdin)
		close(fs->fd);
	sk_lines_free(fs->lr);
	sk_json_free(fs->jp);
	sk_buf_free(&fs->env);
	sk_buf_free(&fs->cursor);
	sk_buf_free(&fs->cursor_json);
	free(fs->arg);
	free(fs->path);
	free(fs->name);
	free(fs);
}


/* "file:" and the absolute path, symbolic links resolved. A path that does
 * not exist yet (--follow waits for it) is its directory's real path plus
 * its name, which is what realpath will say once it exists. */
static char *file_source_id(const char *path, sk_err *e)
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

/* Number of '\n' in the first `upto` bytes of fd, for line numbers in
 * messages about a file not read from its start. */
static int64_t count_lines(int fd, uint64_t upto)
{
	char buf[65536];
	uint64_t off = 0;
	int64_t n = 0;

	while (off < upto) {
		size_t want = upto - off < sizeof buf ? (size_t)(upto - off) : sizeof buf;
		ssize_t got = pread(fd, buf, want, (off_t)off);
		const char *p, *end;
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		for (p = buf, end = buf + got; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
			n++;
		off += (uint64_t)got;
	}
	return n;
}

/* The offset just after the last '\n' of the first `size` bytes of fd. */
static int end_of_last_line(int fd, uint64_t size, uint64_t *out, sk_err *e)
{
	char buf[65536];
	uint64_t hi = size;

	while (hi > 0) {
		size_t want = hi < sizeof buf ? (size_t)hi : sizeof buf;
		uint64_t lo = hi - want;
		ssize_t got = pread(fd, buf, want, (off_t)lo);
		size_t i;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return sk_err_set(e, EX_IOERR, "read: %s", strerror(errno));
		if ((size_t)got < want)   /* shrank meanwhile: look again at what is there */
			return end_of_last_line(fd, lo + (uint64_t)got, out, e);
		for (i = want; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				*out = lo + i;
				return 0;
			}
		}
		hi = lo;
	}
	*out = 0;
	return 0;
}

/* --- positions and the files they belong to --- */

static uint64_t fp_len(uint64_t off)
{
	return off < FP_MAX ? off : FP_MAX;
}

/* Extend *h, the hash of the bytes of fd before `from`, up to `to`; the
 * number of bytes hashed then (less than `to` for a shorter file). */
static uint64_t hash_more(int fd, uint64_t from, uint64_t to, uint64_t *h)
{
	unsigned char buf[FP_MAX];
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
	*fp = FNV_BASIS;
	return hash_more(fd, 0, fp_len(off), fp) == fp_len(off) ? 0 : -1;
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
static int parse_file_position(const char *s, size_t n, struct file_pos *p)
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
static size_t format_id_tag(char *buf, size_t size, uint64_t dev, uint64_t ino)
{
	int n = snprintf(buf, size, "@%llu.%llu.", (unsigned long long)dev, (unsigned long long)ino);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static void format_position(char *buf, size_t size, const struct file_pos *p)
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
static int same_file(const struct file_pos *a, const struct file_pos *b)
{
	if (a->ino != b->ino)
		return 0;
	if (fp_len(a->off) == fp_len(b->off)) {
		if (a->fp != b->fp)
			return 0;
		return a->dev == b->dev || fp_len(a->off) == FP_MAX;
	}
	return a->dev == b->dev;
}

/* Whether the file open at fd (stat st) holds p->off bytes or more, the
 * first of which are those p's fingerprint was made of. */
static int starts_like(int fd, const struct stat *st, const struct file_pos *p)
{
	uint64_t fp;

	return (uint64_t)st->st_size >= p->off && fingerprint(fd, p->off, &fp) == 0 && fp == p->fp;
}

/* Whether the file open at fd (stat st) is the one position p belongs to
 * and holds at least p->off bytes: its inode, its device unless a full
 * fingerprint agrees (as same_file says), and its first bytes. */
static int is_position_file(int fd, const struct stat *st, const struct file_pos *p)
{
	return (uint64_t)st->st_ino == p->ino &&
	       ((uint64_t)st->st_dev == p->dev || fp_len(p->off) == FP_MAX) && starts_like(fd, st, p);
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
static int candidate(int dfd, const char *name, const char *base, const struct file_pos *p,
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
	if (fstat(fd, st) == 0 && is_position_file(fd, st, p)) {
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
static int find_old_file(const char *path, const struct file_pos *p, char **name)
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
static int next_noted(const char **s, const char **text, size_t *n, struct file_pos *q)
{
	while (**s) {
		const char *start = *s, *end = strchr(start, ' ');
		if (end == NULL)
			end = start + strlen(start);
		*s = *end ? end + 1 : end;
		if (parse_file_position(start, (size_t)(end - start), q) == 0 && q->has_id) {
			*text = start;
			*n = (size_t)(end - start);
			return 1;
		}
	}
	return 0;
}

/* The size last seen of p's file, or -1 when the note does not say. */
static int64_t noted_size(const char *note, const struct file_pos *p)
{
	const char *text;
	struct file_pos q;
	size_t n;

	while (next_noted(&note, &text, &n, &q))
		if (same_file(&q, p))
			return (int64_t)q.off;
	return -1;
}

/* Note the size of the file at fs->fd now (the reader leaves it), in front
 * of the others noted for the source, keeping the SIZES_KEPT newest. */
static int note_size(struct file_src *fs, sk_err *e)
{
	struct file_pos me = { .has_id = 1, .dev = (uint64_t)fs->dev, .ino = (uint64_t)fs->ino };
	char *old = NULL, entry[80];
	const char *s, *text;
	struct file_pos q;
	struct stat st;
	sk_buf b = { 0 };
	size_t n;
	int kept = 1, rc;

	if (fs->name == NULL || !fs->has_id || fs->fd < 0 || fstat(fs->fd, &st) < 0)
		return 0;
	me.off = (uint64_t)st.st_size;
	me.fp = fs->fp;
	if (hash_more(fs->fd, fs->fp_done, fp_len(me.off), &me.fp) != fp_len(me.off))
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
static int warn_lost(struct file_src *fs, const struct file_pos *p, const char *what, sk_err *e)
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

/* --- opening --- */

/* Take fd (stat st) as the file being read. */
static void adopt_fd(struct file_src *fs, int fd, const struct stat *st)
{
	fs->fd = fd;
	fs->regular = S_ISREG(st->st_mode);
	fs->dev = st->st_dev;
	fs->ino = st->st_ino;
}

/* Whether a last line without its newline is held: when asked for, and
 * by default in a regular file read resumably or followed (a pipe's end
 * is final: its last line is complete). */
static int holds_partial_lines(const struct file_src *fs)
{
	if (fs->partial != SK_PARTIAL_DEFAULT)
		return fs->partial == SK_PARTIAL_HOLD;
	return fs->regular && (fs->resumable || fs->follow);
}

/* Begin reading fs->fd (just opened) at offset off. */
static int begin_fd(struct file_src *fs, uint64_t off, sk_err *e)
{
	if (fs->regular && lseek(fs->fd, (off_t)off, SEEK_SET) < 0)
		return sk_err_set(e, EX_IOERR, "seek: %s", strerror(errno));
	fs->start = off;
	fs->start_lineno = off == 0 ? 0 : -1;
	fs->held = 0;
	if (fs->lr == NULL) {
		fs->lr = sk_lines_new(fs->fd, fs->max_line, off);
		if (fs->lr == NULL)
			return sk_err_oom(e);
	} else {
		sk_lines_reset(fs->lr, fs->fd, off);
	}
	/* A file being finished after a rotation is complete: its last line
	 * has all it will ever have. */
	sk_lines_hold_partial(fs->lr, holds_partial_lines(fs) && !fs->draining);
	fs->has_id = fs->regular && !fs->is_stdin;
	if (fs->has_id) {
		fs->fp = FNV_BASIS;
		fs->fp_done = hash_more(fs->fd, 0, fp_len(off), &fs->fp);
		snprintf(fs->fp_hex, sizeof fs->fp_hex, "%016llx", (unsigned long long)fs->fp);
		fs->id_tag_len = format_id_tag(fs->id_tag, sizeof fs->id_tag, (uint64_t)fs->dev, (uint64_t)fs->ino);
	}
	return 0;
}

/* Open fs->path. 1 opened, 0 it does not exist, -1 error. */
static int open_path(struct file_src *fs, struct stat *st, sk_err *e)
{
	int fd = open(fs->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return sk_err_set(e, sk_err_code_for_errno(errno), "%s", strerror(errno));
	}
	if (fstat(fd, st) < 0) {
		int saved = errno;
		close(fd);
		return sk_err_set(e, EX_IOERR, "%s", strerror(saved));
	}
	if (S_ISDIR(st->st_mode)) {
		close(fd);
		return sk_err_set(e, EX_USAGE, "is a directory");
	}
	adopt_fd(fs, fd, st);
	fs->gone = 0;
	return 1;
}

static int open_stdin(struct file_src *fs, sk_source *s, const sk_source_opts *o, sk_err *e)
{
	struct stat st;
	off_t here;

	if (o->name)
		return sk_err_set(e, EX_USAGE, "cannot resume standard input");
	fs->is_stdin = 1;
	if (fstat(STDIN_FILENO, &st) < 0)
		return sk_err_set(e, EX_IOERR, "%s", strerror(errno));
	adopt_fd(fs, STDIN_FILENO, &st);
	s->id = strdup("stdin");
	if (s->id == NULL)
		return sk_err_oom(e);
	/* `stream-read < file` reports the file's own offsets. */
	here = fs->regular ? lseek(fs->fd, 0, SEEK_CUR) : 0;
	fs->start = here > 0 ? (uint64_t)here : 0;
	fs->start_lineno = fs->start == 0 ? 0 : -1;
	fs->lr = sk_lines_new(fs->fd, fs->max_line, fs->start);
	if (fs->lr == NULL)
		return sk_err_oom(e);
	sk_lines_hold_partial(fs->lr, holds_partial_lines(fs));
	return 0;
}

/* 1 and *p when a position is stored for (name, id, "0"), 0 when none. */
static int stored_position(struct file_src *fs, const sk_source_opts *o, struct file_pos *p, sk_err *e)
{
	char *stored = NULL;
	int rc;

	if (o->name == NULL)
		return 0;
	rc = sk_state_get_position(o->state, o->name, fs->id, "0", &stored, e);
	if (rc <= 0)
		return rc;
	if (parse_file_position(stored, strlen(stored), p) < 0) {
		sk_err_set(e, EX_DATAERR, "stored position '%s' of %s for %s is not a file position",
		           stored, fs->id, o->name);
		free(stored);
		return -1;
	}
	free(stored);
	return 1;
}

/* The old file of p, found under another name: read it from p->off first
 * (fs->fd, at the path, if open, is closed: it is opened again after). */
static int finish_old_file(struct file_src *fs, int fd, const char *name, const struct file_pos *p,
                           sk_err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		close(fd);
		return sk_err_set(e, EX_IOERR, "%s: %s", name, strerror(errno));
	}
	if (fs->fd >= 0)
		close(fs->fd);
	adopt_fd(fs, fd, &st);
	fs->draining = 1;
	return begin_fd(fs, p->off, e);
}

/* Start with the stored position p, the path open at fs->fd (stat st) or
 * not there (fs->fd -1, st NULL): at p in the file at the path when it is
 * p's, else after finishing p's file when it is found, else at 0 with a
 * warning. */
static int resume(struct file_src *fs, const struct file_pos *p, const struct stat *st, sk_err *e)
{
	char *name = NULL;
	int old, rc;
	uint64_t size = st ? (uint64_t)st->st_size : 0;

	if (fs->fd >= 0 && !fs->regular) {
		if (p->off > 0)
			return sk_err_set(e, EX_USAGE, "cannot resume: not a regular file");
		return begin_fd(fs, 0, e);
	}
	if (fs->fd >= 0 && (!p->has_id || is_position_file(fs->fd, st, p))) {
		if (p->off <= size)
			return begin_fd(fs, p->off, e);
		sk_warn("%s: file is shorter than the stored position %llu (truncated or replaced); "
		        "reading from the start", fs->arg, (unsigned long long)p->off);
		return begin_fd(fs, 0, e);
	}
	if ((old = find_old_file(fs->real, p, &name)) >= 0) {
		sk_info("%s: finishing %s, the file of the stored position, from offset %llu; then %s from its start",
		        fs->arg, name, (unsigned long long)p->off, fs->arg);
		rc = finish_old_file(fs, old, name, p, e);
		free(name);
		return rc;
	}
	if (p->off > 0) {
		const char *what = fs->fd < 0 || (uint64_t)st->st_ino != p->ino ? "is gone"
		                   : size < p->off ? "was truncated" : "was replaced or rewritten";
		if (warn_lost(fs, p, what, e) < 0)
			return -1;
	}
	return fs->fd >= 0 ? begin_fd(fs, 0, e) : 0;
}

static int open_file(struct file_src *fs, sk_source *s, const sk_endpoint *ep,
                     const sk_source_opts *o, sk_err *e)
{
	struct file_pos p;
	struct stat st;
	uint64_t off = 0;
	int rc, have_pos;

	fs->path = strdup(ep->path);
	if (fs->path == NULL)
		return sk_err_oom(e);
	s->id = file_source_id(fs->path, e);
	if (s->id == NULL)
		return -1;
	fs->id = s->id;
	fs->real = s->id + 5;
	if ((have_pos = stored_position(fs, o, &p, e)) < 0)
		return -1;
	rc = open_path(fs, &st, e);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (!fs->follow)
			return sk_err_set(e, EX_UNAVAILABLE, "%s", strerror(ENOENT));
		/* tail -F: wait for it, once the stored position's file, if it
		 * is still here under another name, is finished. */
		sk_warn("%s: %s; waiting for it to appear", fs->arg, strerror(ENOENT));
		return have_pos ? resume(fs, &p, NULL, e) : 0;
	}
	if (have_pos)
		return resume(fs, &p, &st, e);
	if (o->from == SK_FROM_LATEST && fs->regular && end_of_last_line(fs->fd, (uint64_t)st.st_size, &off, e) < 0)
		return -1;
	sk_info("%s: starting at offset %llu", fs->arg, (unsigned long long)off);
	return begin_fd(fs, off, e);
}

static int file_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	struct file_src *fs = calloc(1, sizeof *fs);
	int rc;

	if (fs == NULL)
		return sk_err_oom(e);
	fs->fd = -1;
	fs->follow = o->follow;
	fs->json = o->json;
	fs->base64 = o->base64;
	fs->partial = o->partial_line;
	fs->resumable = o->name != NULL;
	fs->max_line = o->max_line ? o->max_line : SK_LINES_DEFAULT_MAX;
	fs->arg = strdup(ep->arg ? ep->arg : ep->path);
	fs->jp = sk_json_new();
	fs->state = o->name ? o->state : NULL;
	fs->name = o->name ? strdup(o->name) : NULL;
	if (fs->arg == NULL || fs->jp == NULL || (o->name && fs->name == NULL)) {
		file_free(fs);
		return sk_err_oom(e);
	}
	if (ep->kind == SK_EP_STDIO)
		rc = open_stdin(fs, s, o, e);
	else
		rc = open_file(fs, s, ep, o, e);
	if (rc == 0 && (sk_buf_adds(&fs->cursor, s->id) < 0 || sk_buf_adds(&fs->cursor, ":0:") < 0 ||
	                sk_buf_adds(&fs->cursor_json, ",\"_cursor\":") < 0 ||
	                sk_json_add_string(&fs->cursor_json, fs->cursor.p, fs->cursor.len) < 0))
		rc = sk_err_oom(e);
	if (rc < 0) {
		file_free(fs);
		return -1;
	}
	fs->cursor_prefix = fs->cursor.len;
	fs->cursor_json.len--;   /* its closing quote */
	s->impl = fs;
	return 0;
}

/* --- reading --- */

/* Milliseconds left until deadline (-1: none) for a blocking wait. */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - sk_now_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait for the next look at the file: 1 go on, 0 a signal came (so the
 * caller can see it), SK_END the deadline has passed. */
static int pause_until(int64_t deadline)
{
	int64_t ms = STAT_INTERVAL_MS, now = sk_now_ms();

	if (deadline >= 0) {
		if (now >= deadline)
			return SK_END;
		if (deadline - now < ms)
			ms = deadline - now;
	}
	if (poll(NULL, 0, (int)ms) < 0 && errno == EINTR)
		return 0;
	return 1;
}

/* Open the path again (it appeared, or names a new file): 1 reading it
 * from 0, 0 not there, -1 error. */
static int reopen(struct file_src *fs, sk_err *e)
{
	struct stat st;
	int rc = open_path(fs, &st, e);

	if (rc <= 0)
		return rc;
	sk_info("%s: reading the new file from its start", fs->arg);
	return begin_fd(fs, 0, e) < 0 ? -1 : 1;
}

/* Done with a file the path no longer names: note its size, close it. */
static int leave_file(struct file_src *fs, sk_err *e)
{
	int rc = note_size(fs, e);

	close(fs->fd);
	fs->fd = -1;
	fs->draining = 0;
	return rc;
}

/* The position after the last line returned, with the file's identity
 * when its fingerprint covers it: 1, else 0. */
static int current_position(const struct file_src *fs, struct file_pos *p)
{
	p->off = sk_lines_end(fs->lr);
	p->has_id = 1;
	p->dev = (uint64_t)fs->dev;
	p->ino = (uint64_t)fs->ino;
	p->fp = fs->fp;
	return fs->has_id && p->off > 0 && fs->fp_done == fp_len(p->off);
}

/* The followed file became shorter than what was read: finish its copy
 * when there is one (copytruncate), then read it again from 0. */
static int truncated(struct file_src *fs, sk_err *e)
{
	struct file_pos p;
	char *name = NULL;
	int old, rc;

	if (fs->path && current_position(fs, &p) && (old = find_old_file(fs->real, &p, &name)) >= 0) {
		sk_info("%s: file truncated; finishing its copy %s from offset %llu", fs->arg, name,
		        (unsigned long long)p.off);
		close(fs->fd);
		fs->fd = -1;
		rc = finish_old_file(fs, old, name, &p, e);
		free(name);
		return rc < 0 ? -1 : 1;
	}
	sk_warn("%s: file truncated; reading from the start", fs->arg);
	return begin_fd(fs, 0, e) < 0 ? -1 : 1;
}

/* At the end of a followed file: 1 when it was truncated (reading starts
 * over) or the path names another file (draining starts), else 0. */
static int watch(struct file_src *fs, sk_err *e)
{
	struct stat st;
	off_t here = lseek(fs->fd, 0, SEEK_CUR);

	if (here >= 0 && fstat(fs->fd, &st) == 0 && st.st_size < here)
		return truncated(fs, e);
	if (fs->path == NULL)
		return 0;
	if (stat(fs->path, &st) < 0) {
		if (errno == ENOENT && !fs->gone) {
			fs->gone = 1;
			sk_info("%s: file removed; waiting for a new one", fs->arg);
		}
		return 0;
	}
	if (st.st_dev != fs->dev || st.st_ino != fs->ino) {
		/* Rotated: the old file's last lines (even one without '\n')
		 * come before the new file's first. */
		fs->draining = 1;
		sk_lines_hold_partial(fs->lr, 0);
		return 1;
	}
	return 0;
}

/* 1-based number of the line just read in the whole file, 0 if unknown. */
static uint64_t line_number(struct file_src *fs)
{
	if (fs->start_lineno < 0)
		fs->start_lineno = fs->regular ? count_lines(fs->fd, fs->start) : -1;
	if (fs->start_lineno < 0)
		return 0;
	return (uint64_t)fs->start_lineno + sk_lines_lineno(fs->lr);
}

static int add_value(struct file_src *fs, const char *line, size_t len)
{
	if (fs->base64 && !(fs->json && sk_json_is_value(fs->jp, line, len)))
		return sk_json_add_base64(&fs->env, (const unsigned char *)line, len);
	return sk_json_add_text(&fs->env, fs->jp, line, len, fs->json);
}

/* The position of the line that ends at `next`, after the cursor's
 * prefix in *b: the offset and "@DEV.INO.FP". The fingerprint grows with
 * the first FP_MAX bytes, and is then the same for every line. */
static int add_position(struct file_src *fs, sk_buf *b, const char *next, size_t nnext, uint64_t end)
{
	if (fs->has_id && fs->fp_done < fp_len(end)) {
		fs->fp_done = hash_more(fs->fd, fs->fp_done, fp_len(end), &fs->fp);
		snprintf(fs->fp_hex, sizeof fs->fp_hex, "%016llx", (unsigned long long)fs->fp);
	}
	if (sk_buf_add(b, next, nnext) < 0)
		return -1;
	if (fs->has_id && (sk_buf_add(b, fs->id_tag, fs->id_tag_len) < 0 || sk_buf_add(b, fs->fp_hex, 16) < 0))
		return -1;
	return 0;
}

static int envelope(struct file_src *fs, sk_msg *m, const char *line, size_t len, sk_err *e)
{
	char off[24], next[24];
	uint64_t end = sk_lines_end(fs->lr);
	size_t noff = sk_fmt_u64(off, sk_lines_offset(fs->lr));
	size_t nnext = sk_fmt_u64(next, end);
	sk_buf *b = &fs->env;

	sk_buf_reset(b);
	fs->cursor.len = fs->cursor_prefix;
	if (add_position(fs, &fs->cursor, next, nnext, end) < 0 ||
	    sk_buf_add(b, "{\"line\":", 8) < 0 ||
	    add_value(fs, line, len) < 0 ||
	    sk_buf_add(b, ",\"offset\":", 10) < 0 ||
	    sk_buf_add(b, off, noff) < 0 ||
	    sk_buf_add(b, fs->cursor_json.p, fs->cursor_json.len) < 0 ||
	    sk_buf_add(b, fs->cursor.p + fs->cursor_prefix, fs->cursor.len - fs->cursor_prefix) < 0 ||
	    sk_buf_add(b, "\"}", 2) < 0)
		return sk_err_oom(e);
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = fs->cursor.p;
	return 1;
}

/* A line the reader refused (too long): say which, in the message and in
 * *m, whose envelope then locates it: {"line_number":N,"offset":START}. */
static int bad_line(struct file_src *fs, sk_msg *m, sk_err *e)
{
	uint64_t n = line_number(fs), off = sk_lines_offset(fs->lr);
	sk_buf *b = &fs->env;

	if (n > 0)
		sk_err_set(e, EX_DATAERR, "line %llu: longer than %zu bytes",
		           (unsigned long long)n, fs->max_line);
	else
		sk_err_set(e, EX_DATAERR, "line at offset %llu: longer than %zu bytes",
		           (unsigned long long)off, fs->max_line);
	sk_buf_reset(b);
	if ((n > 0 ? sk_buf_printf(b, "{\"line_number\":%llu,\"offset\":%llu}", (unsigned long long)n,
	                           (unsigned long long)off)
	           : sk_buf_printf(b, "{\"offset\":%llu}", (unsigned long long)off)) < 0)
		return sk_err_oom(e);
	m->env = b->p;
	m->env_len = b->len;
	m->cursor = NULL;
	return -1;
}

/* The end of the file reached: whether a line without newline is held. */
static void note_end(struct file_src *fs)
{
	fs->held = sk_lines_pending(fs->lr) > 0;
	if (fs->held)
		fs->held_at = sk_lines_end(fs->lr);
}

/* No file open (the path is to be opened again): 1 one is, 0 or SK_END
 * from waiting for it, SK_EOF when there is nothing to wait for. */
static int next_file(struct file_src *fs, int64_t deadline, sk_err *e)
{
	int rc = reopen(fs, e);

	if (rc != 0)
		return rc;
	if (!fs->follow) {
		fs->ended = 1;
		return SK_EOF;
	}
	return pause_until(deadline);
}

static int file_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e)
{
	struct file_src *fs = s->impl;
	int64_t deadline = timeout_ms < 0 ? -1 : sk_now_ms() + timeout_ms;
	const char *line;
	size_t len;
	int rc;

	if (fs->ended)
		return SK_EOF;
	for (;;) {
		if (fs->fd < 0) {
			if ((rc = next_file(fs, deadline, e)) != 1)
				return rc;
			continue;
		}
		rc = sk_lines_next(fs->lr, &line, &len, fs->regular ? 0 : remaining_ms(deadline), e);
		if (rc == 1) {
			fs->held = 0;
			return envelope(fs, m, line, len, e);
		}
		if (rc < 0)
			return e->code == EX_DATAERR ? bad_line(fs, m, e) : -1;
		if (rc == 0)
			return 0;
		/* SK_EOF */
		if (fs->draining) {
			if (leave_file(fs, e) < 0)
				return -1;
			continue;
		}
		note_end(fs);
		if (!fs->follow || !fs->regular) {
			fs->ended = 1;
			return SK_EOF;
		}
		rc = watch(fs, e);
		if (rc < 0)
			return -1;
		if (rc == 0 && (rc = pause_until(deadline)) != 1)
			return rc;
	}
}

/* A clean stop: note the size of the file being read, for the next start. */
static int file_drain(sk_source *s, sk_err *e)
{
	struct file_src *fs = s->impl;

	return fs->is_stdin ? 0 : note_size(fs, e);
}

static void file_close(sk_source *s)
{
	struct file_src *fs = s->impl;

	if (fs->held)
		sk_warn("%s: a last line without a newline, at offset %llu, was held back, not read",
		        fs->arg, (unsigned long long)fs->held_at);
	file_free(fs);
	s->impl = NULL;
}

const struct sk_source_ops sk_source_file_ops = {
	.kind = "file",
	.open = file_open,
	.next = file_next,
	.drain = file_drain,
	.close = file_close,
};

/* --- what file positions mean (source.h) --- */

static int position_compare(const char *a, size_t na, const char *b, size_t nb)
{
	struct file_pos pa, pb;

	if (parse_file_position(a, na, &pa) < 0 || parse_file_position(b, nb, &pb) < 0)
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
	if ((*out = file_source_id(source + 5, e)) != NULL)
		return 0;
	if (source[5] != '/')
		return sk_err_set(e, EX_USAGE, "%s: %s", source, e->msg);
	if ((*out = strdup(source)) == NULL)
		return sk_err_oom(e);
	return 0;
}

static int position_check(const char *source, const char *partition, const char *position, sk_err *e)
{
	struct file_pos p;

	if (strcmp(partition, "0") != 0)
		return sk_err_set(e, EX_USAGE, "invalid partition '%s' for %s (a file has one partition, 0)",
		                  partition, source);
	if (parse_file_position(position, strlen(position), &p) < 0)
		return sk_err_set(e, EX_USAGE, "invalid position '%s' for %s (expected a byte offset, "
		                  "or OFFSET@DEV.INO.FINGERPRINT as in a cursor)", position, source);
	return 0;
}

static int position_describe(const char *position, sk_buf *text, sk_buf *json)
{
	struct file_pos p;

	if (parse_file_position(position, strlen(position), &p) < 0 || !p.has_id)
		return sk_buf_adds(text, position);
	if (sk_buf_printf(text, "%llu (inode %llu)", (unsigned long long)p.off, (unsigned long long)p.ino) < 0 ||
	    sk_buf_printf(json, ",\"file\":{\"device\":%llu,\"inode\":%llu,\"fingerprint\":\"%016llx\"}",
	                  (unsigned long long)p.dev, (unsigned long long)p.ino, (unsigned long long)p.fp) < 0)
		return -1;
	return 0;
}

/* The lag of a position that belongs to another file than the path's
 * (open at fd, stat st): the rest of that file, if it is still here under
 * another name, and the whole file at the path. */
static void lag_elsewhere(const char *path, int fd, const struct stat *st, const struct file_pos *p,
                          sk_position_lag *out)
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
	if ((old = find_old_file(path, p, &name)) >= 0 && fstat(old, &ost) == 0) {
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

static int position_lag(const char *source, const char *position, sk_position_lag *out)
{
	const char *path = source + 5;
	struct file_pos p;
	struct stat st;
	int fd;

	if (path[0] != '/' || parse_file_position(position, strlen(position), &p) < 0)
		return 0;
	if (stat(path, &st) < 0) {
		snprintf(out->note, sizeof out->note, "%s", strerror(errno));
		return 0;
	}
	out->has_end = 1;
	out->end = (int64_t)st.st_size;
	fd = p.has_id ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	/* A file that cannot be read is taken for its inode's. */
	if (!p.has_id || (fd < 0 && (uint64_t)st.st_ino == p.ino) || (fd >= 0 && is_position_file(fd, &st, &p))) {
		out->has_lag = 1;
		out->lag = out->end - (int64_t)p.off;
	} else {
		lag_elsewhere(path, fd, &st, &p, out);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

const struct sk_position_ops sk_position_file_ops = {
	.prefix = "file:",
	.compare = position_compare,
	.source = position_source,
	.check = position_check,
	.describe = position_describe,
	.lag = position_lag,
};
