/* source_file.c - the lines of a file or of standard input, one message
 * each: opening the file, where reading starts, and the source's
 * operations. Reading and following the file: file_follow.c; what a
 * position is and which file it belongs to: file_position.c; what they
 * share: source_file_impl.h.
 *
 * Envelope: {"line":TEXT,"offset":START,"_cursor":"file:/abs/path:0:NEXT@DEV.INO.FP"}
 * where NEXT is the byte offset of the following line, what a restarted
 * reader resumes at, and DEV.INO.FP names the file it belongs to
 * (file_position.c). Files that are not regular (pipes) have bare offsets.
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
 * A last line without a newline is held, not returned, when partial lines
 * are held (a resumable read, or a followed file): it is returned whole
 * once its newline is written, and never committed in pieces. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_file_impl.h"
#include "json.h"
#include "util.h"
#include "kinds.h"

static void file_free(struct sk_file_src *fs)
{
	if (fs == NULL)
		return;
	if (fs->fd >= 0 && !fs->is_stdin)
		close(fs->fd);
	sk_lines_free(fs->lr);
	sk_json_kept_free(&fs->value);
	sk_json_free(fs->jp);
	sk_buf_free(&fs->env);
	sk_buf_free(&fs->cursor);
	sk_buf_free(&fs->cursor_json);
	free(fs->arg);
	free(fs->path);
	free(fs->name);
	free(fs);
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

/* --- opening --- */

/* Take fd (stat st) as the file being read. */
static void adopt_fd(struct sk_file_src *fs, int fd, const struct stat *st)
{
	fs->fd = fd;
	fs->regular = S_ISREG(st->st_mode);
	fs->dev = st->st_dev;
	fs->ino = st->st_ino;
}

/* Whether a last line without its newline is held: when asked for, and
 * by default in a regular file read resumably or followed (a pipe's end
 * is final: its last line is complete). */
static int holds_partial_lines(const struct sk_file_src *fs)
{
	if (fs->partial != SK_PARTIAL_DEFAULT)
		return fs->partial == SK_PARTIAL_HOLD;
	return fs->regular && (fs->resumable || fs->follow);
}

/* Begin reading fs->fd (just opened) at offset off. */
int sk_file_begin(struct sk_file_src *fs, uint64_t off, sk_err *e)
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
		fs->fp = SK_FILE_FNV_BASIS;
		fs->fp_done = sk_file_hash_more(fs->fd, 0, sk_file_fp_len(off), &fs->fp);
		snprintf(fs->fp_hex, sizeof fs->fp_hex, "%016llx", (unsigned long long)fs->fp);
		fs->id_tag_len = sk_file_format_id_tag(fs->id_tag, sizeof fs->id_tag, (uint64_t)fs->dev,
		                                       (uint64_t)fs->ino);
	}
	return 0;
}

/* Open fs->path. 1 opened, 0 it does not exist, -1 error. */
int sk_file_open_path(struct sk_file_src *fs, struct stat *st, sk_err *e)
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

static int open_stdin(struct sk_file_src *fs, sk_source *s, const sk_source_opts *o, sk_err *e)
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
static int stored_position(struct sk_file_src *fs, const sk_source_opts *o, struct sk_file_pos *p, sk_err *e)
{
	char *stored = NULL;
	int rc;

	if (o->name == NULL)
		return 0;
	rc = sk_state_get_position(o->state, o->name, fs->id, "0", &stored, e);
	if (rc <= 0)
		return rc;
	if (sk_file_pos_parse(stored, strlen(stored), p) < 0) {
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
int sk_file_finish_old(struct sk_file_src *fs, int fd, const char *name, const struct sk_file_pos *p,
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
	return sk_file_begin(fs, p->off, e);
}

/* Start with the stored position p, the path open at fs->fd (stat st) or
 * not there (fs->fd -1, st NULL): at p in the file at the path when it is
 * p's, else after finishing p's file when it is found, else at 0 with a
 * warning. */
static int resume(struct sk_file_src *fs, const struct sk_file_pos *p, const struct stat *st, sk_err *e)
{
	char *name = NULL;
	int old, rc;
	uint64_t size = st ? (uint64_t)st->st_size : 0;

	if (fs->fd >= 0 && !fs->regular) {
		if (p->off > 0)
			return sk_err_set(e, EX_USAGE, "cannot resume: not a regular file");
		return sk_file_begin(fs, 0, e);
	}
	if (fs->fd >= 0 && (!p->has_id || sk_file_is_position_file(fs->fd, st, p))) {
		if (p->off <= size)
			return sk_file_begin(fs, p->off, e);
		sk_warn("%s: file is shorter than the stored position %llu (truncated or replaced); "
		        "reading from the start", fs->arg, (unsigned long long)p->off);
		return sk_file_begin(fs, 0, e);
	}
	if ((old = sk_file_find_old(fs->real, p, &name)) >= 0) {
		sk_info("%s: finishing %s, the file of the stored position, from offset %llu; then %s from its start",
		        fs->arg, name, (unsigned long long)p->off, fs->arg);
		rc = sk_file_finish_old(fs, old, name, p, e);
		free(name);
		return rc;
	}
	if (p->off > 0) {
		const char *what = fs->fd < 0 || (uint64_t)st->st_ino != p->ino ? "is gone"
		                   : size < p->off ? "was truncated" : "was replaced or rewritten";
		if (sk_file_warn_lost(fs, p, what, e) < 0)
			return -1;
	}
	return fs->fd >= 0 ? sk_file_begin(fs, 0, e) : 0;
}

static int open_file(struct sk_file_src *fs, sk_source *s, const sk_endpoint *ep,
                     const sk_source_opts *o, sk_err *e)
{
	struct sk_file_pos p;
	struct stat st;
	uint64_t off = 0;
	int rc, have_pos;

	fs->path = strdup(ep->path);
	if (fs->path == NULL)
		return sk_err_oom(e);
	s->id = sk_file_source_id(fs->path, e);
	if (s->id == NULL)
		return -1;
	fs->id = s->id;
	fs->real = s->id + 5;
	if ((have_pos = stored_position(fs, o, &p, e)) < 0)
		return -1;
	rc = sk_file_open_path(fs, &st, e);
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
	return sk_file_begin(fs, off, e);
}

/* The options of files and standard input (sk_source_opts.kindopts). */
static const sk_option file_options[] = {
	{ "follow", 'f', SK_OPT_FLAG, NULL, "keep reading as the file grows, across rotation", 0, 0 },
	{ "partial-line", 0, SK_OPT_VALUE, "MODE", "hold or emit a last line without a newline\n"
	  "(default: hold with --name or --follow)", 0, 0 },
	{ NULL, 0, 0, NULL, NULL, 0, 0 },
};

static const sk_option_group file_option_group = { "file", file_options, NULL };

/* The file options of o into fs, checked; and the places --from names
 * that a file has. */
static int file_settings(struct sk_file_src *fs, const sk_source_opts *o, sk_err *e)
{
	const char *partial = sk_kindopts_get(o->kindopts, "partial-line");

	if (o->from != SK_FROM_EARLIEST && o->from != SK_FROM_LATEST)
		return sk_err_set(e, EX_USAGE, "--from OFFSET, -N and @MS are for kafka endpoints");
	fs->follow = sk_kindopts_get(o->kindopts, "follow") != NULL;
	if (partial == NULL)
		fs->partial = SK_PARTIAL_DEFAULT;
	else if (strcmp(partial, "hold") == 0)
		fs->partial = SK_PARTIAL_HOLD;
	else if (strcmp(partial, "emit") == 0)
		fs->partial = SK_PARTIAL_EMIT;
	else
		return sk_err_set(e, EX_USAGE, "invalid --partial-line '%s' (expected hold or emit)", partial);
	if (fs->partial == SK_PARTIAL_EMIT && o->name)
		return sk_err_set(e, EX_USAGE, "--partial-line=emit cannot be used with --name: a line "
		                  "emitted before its newline would be committed, and its rest read "
		                  "later as a line of its own");
	return 0;
}

static int file_open(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e)
{
	struct sk_file_src *fs = calloc(1, sizeof *fs);
	int rc;

	if (fs == NULL)
		return sk_err_oom(e);
	fs->fd = -1;
	if (file_settings(fs, o, e) < 0) {
		free(fs);
		return -1;
	}
	fs->json = o->json;
	fs->base64 = o->base64;
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
	if (o->keep_values)
		sk_json_keep_values(fs->jp);
	if (ep->kind == sk_kind_plain(SK_KIND_DASH))
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

/* A clean stop: note the size of the file being read, for the next start. */
static int file_drain(sk_source *s, sk_err *e)
{
	struct sk_file_src *fs = s->impl;

	return fs->is_stdin ? 0 : sk_file_note_size(fs, e);
}

static void file_close(sk_source *s)
{
	struct sk_file_src *fs = s->impl;

	if (fs->held)
		sk_warn("%s: a last line without a newline, at offset %llu, was held back, not read",
		        fs->arg, (unsigned long long)fs->held_at);
	file_free(fs);
	s->impl = NULL;
}

const struct sk_source_ops sk_source_file_ops = {
	.kind = "file",
	.options = &file_option_group,
	.open = file_open,
	.next = sk_file_next,
	.drain = file_drain,
	.close = file_close,
};
