/* test-file-position.c - file positions: comparing, checking and
 * describing them, the id readers give a file, and finding the file a
 * position belongs to once the path names another (rotation,
 * copytruncate), with the lag that counts it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "source.h"
#include "source_file_impl.h"

#define FP "0123456789abcdef"
#define FP2 "fedcba9876543210"

static int cmp(const char *a, const char *b)
{
	return sk_position_compare("file:/a", a, strlen(a), b, strlen(b));
}

static void comparisons(void)
{
	is_int(cmp("10@1.2." FP, "300@1.2." FP), -1, "offsets of one file compare as numbers");
	is_int(cmp("300@1.2." FP, "10@1.2." FP), 1, "after");
	is_int(cmp("300@1.2." FP, "300@1.2." FP), 0, "at");
	is_int(cmp("10@1.2." FP, "10@1.3." FP), SK_POSITION_INCOMPARABLE,
	       "positions of two inodes cannot be ordered");
	is_int(cmp("300@1.2." FP, "400@1.2." FP2), SK_POSITION_INCOMPARABLE,
	       "one inode with other first bytes is another file (inode reuse)");
	is_int(cmp("300@1.2." FP, "400@9.2." FP), -1,
	       "one inode and the same 256 first bytes is one file whatever the device says");
	is_int(cmp("10@1.2." FP, "20@9.2." FP2), SK_POSITION_INCOMPARABLE,
	       "below 256 bytes the device counts");
	is_int(cmp("10@1.2." FP, "20@1.2." FP2), -1,
	       "fingerprints of different lengths do not tell files apart");
	is_int(cmp("10", "20@1.2." FP), -1, "a bare offset is about the file at the path");
	is_int(cmp("9", "10"), -1, "bare offsets compare as numbers");
}

static void checks(void)
{
	sk_err e;

	ok(sk_position_check("file:/a", "0", "5", &e) == 0, "a file position may be a bare offset");
	ok(sk_position_check("file:/a", "0", "5@1.2." FP, &e) == 0, "or an offset and its file");
	ok(sk_position_check("file:/a", "1", "5", &e) < 0 && e.code == EX_USAGE, "a file has no partition 1");
	is_str(e.msg, "invalid partition '1' for file:/a (a file has one partition, 0)", "which it says");
	ok(sk_position_check("file:/a", "0", "5@1.2", &e) < 0 && e.code == EX_USAGE, "an identity has three parts");
	ok(sk_position_check("file:/a", "0", "5@1.2.0123456789ABCDEF", &e) < 0, "in lowercase hex");
	ok(sk_position_check("file:/a", "0", "5@1.2.0123", &e) < 0, "of 16 digits");
	ok(sk_position_check("file:/a", "0", "ten", &e) < 0, "an offset is a number");
	ok(sk_position_check("file:/a", "0", "99999999999999999999", &e) < 0, "within 64 bits");
}

static void descriptions(void)
{
	sk_buf text = { 0 }, json = { 0 };

	ok(sk_position_describe("file:/a", "4096@2049.131077." FP, &text, &json) == 0, "describe a file position");
	is_str(text.p, "4096 (inode 131077)", "for people: the offset and the inode");
	is_str(json.p, ",\"file\":{\"device\":2049,\"inode\":131077,\"fingerprint\":\"" FP "\"}",
	       "as JSON: the file it belongs to");
	sk_position_describe("file:/a", "4096", &text, &json);
	is_str(text.p, "4096", "a bare offset as it is");
	is_int(json.len, 0, "with nothing more");
	sk_buf_free(&text);
	sk_buf_free(&json);
}

static void sources(void)
{
	char *id = NULL, *cwd = getcwd(NULL, 0), want[4200];
	sk_err e;

	ok(sk_position_source("file:.", &id, &e) == 0, "a relative file source");
	snprintf(want, sizeof want, "file:%s", cwd);
	is_str(id, want, "is made absolute, as readers name it");
	free(id);
	ok(sk_position_source("file:/no/such/dir/f", &id, &e) == 0, "an absolute path that does not resolve");
	is_str(id, "file:/no/such/dir/f", "is kept as written");
	free(id);
	ok(sk_position_source("file:no/such/dir/f", &id, &e) < 0 && e.code == EX_USAGE,
	   "a relative one is an error");
	free(cwd);
}

static void syntax(void)
{
	const char *full = "4096@2049.131077." FP;
	struct sk_file_pos p;

	ok(sk_file_pos_parse(full, strlen(full), &p) == 0 && p.has_id, "OFFSET@DEV.INO.FP parses");
	ok(p.off == 4096 && p.dev == 2049 && p.ino == 131077 && p.fp == 0x0123456789abcdefULL,
	   "into its offset, device, inode and fingerprint");
	ok(sk_file_pos_parse("42", 2, &p) == 0 && !p.has_id && p.off == 42, "a bare offset has no file");
	ok(sk_file_pos_parse("42@", 3, &p) < 0, "an '@' needs an identity");
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	return fd >= 0 && close(fd) == 0 && n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The position at off in the file at path, with its identity, as a
 * reader's cursor names it. */
static int position_in(const char *path, uint64_t off, struct sk_file_pos *p, char *text, size_t size)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	p->off = off;
	p->has_id = 1;
	p->dev = (uint64_t)st.st_dev;
	p->ino = (uint64_t)st.st_ino;
	p->fp = SK_FILE_FNV_BASIS;
	sk_file_hash_more(fd, 0, sk_file_fp_len(off), &p->fp);
	close(fd);
	snprintf(text, size, "%llu@%llu.%llu.%016llx", (unsigned long long)p->off, (unsigned long long)p->dev,
	         (unsigned long long)p->ino, (unsigned long long)p->fp);
	return 0;
}

/* The name sk_file_find_old gives for p and path, or "" when none. */
static const char *old_name(const char *path, const struct sk_file_pos *p)
{
	static char found[256];
	char *name = NULL;
	int fd = sk_file_find_old(path, p, &name);

	snprintf(found, sizeof found, "%s", fd >= 0 && name ? name : "");
	if (fd >= 0)
		close(fd);
	free(name);
	return found;
}

/* The row sk_position_lag gives for one position. */
static sk_lag_row lag;
static char lag_note[512];

static int keep_row(void *arg, const sk_lag_row *r)
{
	(void)arg;
	lag = *r;
	snprintf(lag_note, sizeof lag_note, "%s", r->note ? r->note : "");
	lag.note = lag_note;
	return 0;
}

static int lag_of(const char *source, const char *position)
{
	sk_lag_opts o = { 0 };
	sk_lag_query q = { .o = &o, .cb = keep_row };
	sk_err e = { 0 };
	int whole;

	memset(&lag, 0, sizeof lag);
	return sk_position_lag(&q, source, "0", position, &whole, &e) == 0 && !whole;
}

static void rotations(const char *dir)
{
	char path[512], old[512], copy[512], source[520], text[128];
	struct sk_file_pos p;

	snprintf(path, sizeof path, "%s/a.log", dir);
	snprintf(old, sizeof old, "%s/a.log.1", dir);
	snprintf(copy, sizeof copy, "%s/a.log-copy", dir);
	snprintf(source, sizeof source, "file:%s", path);
	if (!ok(write_file(path, "one\ntwo\nthree\n") == 0 && position_in(path, 8, &p, text, sizeof text) == 0,
	        "a file and a position in it"))
		return;
	ok(lag_of(source, text) && lag.has_lag && lag.lag == 6,
	   "its lag is the rest of the file");
	is_str(old_name(path, &p), "", "the path's own file is not looked for elsewhere");

	if (!ok(rename(path, old) == 0 && write_file(path, "new\n") == 0, "rotate: rename, and a new file"))
		return;
	is_str(old_name(path, &p), "a.log.1", "the position's file is found under its new name");
	ok(lag_of(source, text) && lag.has_lag && lag.lag == 6 + 4,
	   "the lag counts the rest of it and the new file (%s)", lag.note);

	if (!ok(position_in(path, 4, &p, text, sizeof text) == 0 && write_file(copy, "new\nmore\n") == 0 &&
	        truncate(path, 0) == 0, "copytruncate: a copy, and the file emptied"))
		return;
	is_str(old_name(path, &p), "a.log-copy", "the position's file is found as the copy that starts the same");
	ok(lag_of(source, text) && lag.has_lag && lag.lag == -4 &&
	   strstr(lag.note, "truncated") != NULL, "the lag of a truncated file says so (%s)", lag.note);

	p.fp ^= 1;
	is_str(old_name(path, &p), "", "a file that starts otherwise is not it");
	unlink(copy);
	unlink(old);
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/test-file-position.XXXXXX";

	comparisons();
	checks();
	descriptions();
	sources();
	syntax();
	if (!ok(mkdtemp(dir) != NULL, "a scratch directory"))
		return tap_done();
	rotations(dir);
	rmdir(dir);
	return tap_done();
}
