/* source_file_impl.h - what the parts of the file source share:
 * source_file.c (opening, where reading starts, the source's operations),
 * file_follow.c (reading lines, following the file) and file_position.c
 * (positions, the file they belong to, the sizes of files left). */
#ifndef SK_SOURCE_FILE_IMPL_H
#define SK_SOURCE_FILE_IMPL_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "source_impl.h"
#include "json.h"
#include "lines.h"

#define SK_FILE_FP_MAX 256                       /* bytes of a file's start in its fingerprint */
#define SK_FILE_FNV_BASIS 0xcbf29ce484222325ULL  /* 64-bit FNV-1a */

/* A position: an offset, and the file it belongs to when has_id. */
struct sk_file_pos {
	uint64_t off;
	int has_id;
	uint64_t dev, ino;
	uint64_t fp;           /* FNV-1a of the first sk_file_fp_len(off) bytes */
};

/* --partial-line: what a file reader does with a last line that has no
 * newline yet. DEFAULT holds it when the read is resumable (a name) or
 * follows the file, and emits it otherwise, as cat does. */
enum sk_partial_line { SK_PARTIAL_DEFAULT, SK_PARTIAL_HOLD, SK_PARTIAL_EMIT };

/* The source's own state (sk_source's impl). */
struct sk_file_src {
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
	sk_json_kept value;     /* what jp read of the last line (keep_values) */
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

/* How many of the first bytes of a file a position at off fingerprints. */
static inline uint64_t sk_file_fp_len(uint64_t off)
{
	return off < SK_FILE_FP_MAX ? off : SK_FILE_FP_MAX;
}

/* source_file.c */
/* Begin reading fs->fd (just opened) at offset off. */
int sk_file_begin(struct sk_file_src *fs, uint64_t off, sk_err *e);
/* Open fs->path. 1 opened, 0 it does not exist, -1 error. */
int sk_file_open_path(struct sk_file_src *fs, struct stat *st, sk_err *e);
/* Read fd, the old file of p found under another name, from p->off first. */
int sk_file_finish_old(struct sk_file_src *fs, int fd, const char *name, const struct sk_file_pos *p,
                       sk_err *e);

/* file_follow.c: the source's next operation. */
int sk_file_next(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e);

/* file_position.c */
/* "file:" and the absolute path, symbolic links resolved, malloc'd. */
char *sk_file_source_id(const char *path, sk_err *e);
uint64_t sk_file_hash_more(int fd, uint64_t from, uint64_t to, uint64_t *h);
int sk_file_pos_parse(const char *s, size_t n, struct sk_file_pos *p);
size_t sk_file_format_id_tag(char *buf, size_t size, uint64_t dev, uint64_t ino);
int sk_file_is_position_file(int fd, const struct stat *st, const struct sk_file_pos *p);
int sk_file_find_old(const char *path, const struct sk_file_pos *p, char **name);
int sk_file_note_size(struct sk_file_src *fs, sk_err *e);
int sk_file_warn_lost(struct sk_file_src *fs, const struct sk_file_pos *p, const char *what, sk_err *e);

#endif
