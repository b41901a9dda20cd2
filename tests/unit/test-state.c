/* test-state.c - the state store: one SQLite file shared by the programs
 * of a pipeline (lib/state.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "state.h"
#include "util.h"

static char dir[] = "/tmp/test-state-XXXXXX";

static char *path_in(const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	if (p == NULL)
		abort();
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static sk_state *open_ok(const char *path)
{
	sk_state *st = NULL;
	sk_err e = { 0 };

	if (sk_state_open(path, &st, &e) < 0) {
		printf("# open %s: %s\n", path, e.msg);
		return NULL;
	}
	return st;
}

static long long pragma_int(sk_state *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(sk_state_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The first column of the first row as text (static buffer). */
static const char *query_text(sk_state *st, const char *sql)
{
	static char buf[256];
	sqlite3_stmt *s;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(sk_state_db(st), sql, -1, &s, NULL) != SQLITE_OK)
		return "(prepare failed)";
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(buf, sizeof buf, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

static int file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) < 0 ? -1 : (int)(sb.st_mode & 07777);
}

/* The stored position, or "(none)" / "(error)". The result is static. */
static const char *position(sk_state *st, const char *name, const char *source, const char *part)
{
	static char buf[sizeof ((sk_err *)0)->msg + 16];
	sk_err e = { 0 };
	char *pos = NULL;
	int rc = sk_state_get_position(st, name, source, part, &pos, &e);

	if (rc < 0)
		snprintf(buf, sizeof buf, "(error: %s)", e.msg);
	else if (rc == 0)
		snprintf(buf, sizeof buf, "(none)");
	else
		snprintf(buf, sizeof buf, "%s", pos);
	free(pos);
	return buf;
}

static void test_create(void)
{
	char *path = path_in("sub/dir/state.db"), *wal = path_in("sub/dir/state.db-wal");
	char *shm = path_in("sub/dir/state.db-shm");
	sk_err e = { 0 };
	sk_state *st = open_ok(path);

	ok(st != NULL, "open creates the file and its parent directories");
	if (st == NULL)
		goto out;
	is_int(file_mode(path), 0600, "the file is created mode 0600");
	is_str(query_text(st, "PRAGMA journal_mode"), "wal", "the store is in WAL mode");
	is_int(pragma_int(st, "PRAGMA synchronous"), 2, "synchronous is FULL");
	ok(pragma_int(st, "PRAGMA busy_timeout") > 0, "busy_timeout is set");
	is_int(pragma_int(st, "PRAGMA user_version"), 2, "the schema version is recorded in user_version");
	is_int(pragma_int(st, "PRAGMA application_id"), 0x534b7374, "the file is marked as a store ('SKst')");
	is_int(pragma_int(st, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
	                      " ('positions', 'checkpoints', 'staged_parts', 'attempts', 'settings')"), 5,
	       "positions, checkpoints, staged_parts, attempts and settings exist");
	is_str(sk_state_path(st), path, "sk_state_path is the path opened");
	ok(sk_state_set_position(st, "r", "s", "0", "1", &e) == 0, "a first write");
	is_int(file_mode(wal), 0600, "the -wal file is mode 0600 too");
	is_int(file_mode(shm), 0600, "the -shm file is mode 0600 too");
	sk_state_close(st);

	st = open_ok(path);
	ok(st != NULL, "a second open of an existing store");
	is_str(st ? position(st, "r", "s", "0") : NULL, "1", "what was written is there after reopening");
	is_int(st ? pragma_int(st, "PRAGMA user_version") : 0, 2, "reopening keeps the schema version");
	sk_state_close(st);
out:
	free(path);
	free(wal);
	free(shm);
}

/* A checksum of a file's bytes, to tell that nothing touched it; 0 when
 * it cannot be read. */
static unsigned long file_sum(const char *path)
{
	unsigned long h = 5381;
	FILE *f = fopen(path, "rb");
	int c;

	if (f == NULL)
		return 0;
	while ((c = getc(f)) != EOF)
		h = h * 33 + (unsigned char)c;
	fclose(f);
	return h;
}

static int exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* An SQLite file made by another application, with sql run in it. */
static int make_db(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open(path, &db) == SQLITE_OK &&
	         sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;

	if (!rc)
		printf("# make %s: %s\n", path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

static void refused_untouched(const char *path, const char *what)
{
	char *wal = sk_strprintf("%s-wal", path), *shm = sk_strprintf("%s-shm", path);
	unsigned long sum = file_sum(path);
	sk_state *st = NULL;
	sk_err e = { 0 };

	is_int(sk_state_open(path, &st, &e), -1, "%s is refused by a writer", what);
	is_int(e.code, EX_CONFIG, "as a configuration error (78)");
	ok(strstr(e.msg, path) && strstr(e.msg, "not a streamkit state store"), "saying so: %s", e.msg);
	sk_err_clear(&e);
	is_int(sk_state_open_readonly(path, &st, &e), -1, "and by a reader");
	is_int(e.code, EX_CONFIG, "as a configuration error (78)");
	ok(sum != 0 && file_sum(path) == sum, "the file is left byte for byte as it was");
	ok(!exists(wal) && !exists(shm), "and no -wal or -shm file is left beside it");
	free(wal);
	free(shm);
}

static void test_foreign(void)
{
	char *notes = path_in("notes.db"), *walnotes = path_in("walnotes.db"), *other = path_in("other.db");
	char *named = path_in("named.db");
	sk_state *st;

	if (make_db(notes, "CREATE TABLE notes(x); INSERT INTO notes VALUES (1)"))
		refused_untouched(notes, "an SQLite file with other tables");
	if (make_db(walnotes, "PRAGMA journal_mode = WAL; CREATE TABLE notes(x); INSERT INTO notes VALUES (1)"))
		refused_untouched(walnotes, "one in WAL mode");
	if (make_db(other, "PRAGMA application_id = 42"))
		refused_untouched(other, "an empty one with another application id");
	/* Our table names, another application's mark. */
	st = open_ok(named);
	if (st && sqlite3_exec(sk_state_db(st), "PRAGMA application_id = 7", NULL, NULL, NULL) == SQLITE_OK) {
		sk_state_close(st);
		refused_untouched(named, "a file with the store's tables and another application id");
	} else {
		sk_state_close(st);
		ok(0, "make a store with another application id");
	}
	free(notes);
	free(walnotes);
	free(other);
	free(named);
}

/* A store made before stores were marked: our tables, application id 0. */
static void test_unmarked(void)
{
	char *path = path_in("unmarked.db");
	sk_state *st = open_ok(path);
	sk_err e = { 0 };

	if (st == NULL || sk_state_set_position(st, "r", "s", "0", "5", &e) < 0 ||
	    sqlite3_exec(sk_state_db(st), "PRAGMA application_id = 0", NULL, NULL, NULL) != SQLITE_OK) {
		ok(0, "make an unmarked store");
		sk_state_close(st);
		free(path);
		return;
	}
	sk_state_close(st);
	st = NULL;
	is_int(sk_state_open_readonly(path, &st, &e), 0, "a reader opens a store from before the mark");
	if (st) {
		is_str(position(st, "r", "s", "0"), "5", "and reads it");
		is_int(pragma_int(st, "PRAGMA application_id"), 0, "without marking it");
		sk_state_close(st);
	}
	st = open_ok(path);
	ok(st != NULL, "a writer opens it");
	is_int(st ? pragma_int(st, "PRAGMA application_id") : 0, 0x534b7374, "and marks it as a store");
	is_str(st ? position(st, "r", "s", "0") : NULL, "5", "keeping what it held");
	sk_state_close(st);
	free(path);
}

static void test_readonly(void)
{
	char *missing = path_in("nowhere/state.db"), *parent = path_in("nowhere"), *path = path_in("ro.db");
	char *wal = path_in("ro.db-wal"), *shm = path_in("ro.db-shm"), *empty = path_in("empty.db");
	sk_state *st = NULL, *w;
	sk_err e = { 0 };
	int fd;

	is_int(sk_state_open_readonly(missing, &st, &e), -1, "a reader refuses a path with no store");
	is_int(e.code, EX_UNAVAILABLE, "as unavailable (69)");
	ok(strstr(e.msg, missing) && strstr(e.msg, "no state store here"), "saying so: %s", e.msg);
	ok(!exists(parent), "creating neither the store nor its directory");

	fd = open(empty, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
	sk_err_clear(&e);
	is_int(sk_state_open_readonly(empty, &st, &e), -1, "an empty file is no store to a reader");
	is_int(e.code, EX_UNAVAILABLE, "unavailable too: %s", e.msg);

	if ((w = open_ok(path)) == NULL || sk_state_set_position(w, "r", "s", "0", "9", &e) < 0) {
		ok(0, "make a store: %s", e.msg);
		sk_state_close(w);
		goto out;
	}
	sk_err_clear(&e);
	is_int(sk_state_open_readonly(path, &st, &e), 0, "a reader opens a store a writer has open");
	is_str(st ? position(st, "r", "s", "0") : NULL, "9", "and reads what it committed");
	ok(st && sk_state_set_position(st, "r", "s", "0", "10", &e) < 0, "a reader cannot write: %s", e.msg);
	is_str(position(w, "r", "s", "0"), "9", "the position is unchanged");
	sk_state_close(st);
	st = NULL;
	sk_state_close(w);
	ok(!exists(wal) && !exists(shm), "the writer gone, no -wal or -shm is left");
	sk_err_clear(&e);
	is_int(sk_state_open_readonly(path, &st, &e), 0, "a reader alone opens it");
	is_str(st ? position(st, "r", "s", "0") : NULL, "9", "and reads it");
	sk_state_close(st);
	st = NULL;
	ok(!exists(wal) && !exists(shm), "and leaves no -wal or -shm behind");

	/* A store the reader may not write (the mode is enough when not root;
	 * then it reads through the file as immutable, making nothing). */
	if (chmod(path, 0400) == 0) {
		sk_err_clear(&e);
		is_int(sk_state_open_readonly(path, &st, &e), 0, "a store mode 0400 opens: %s", e.msg);
		is_str(st ? position(st, "r", "s", "0") : NULL, "9", "and reads");
		sk_state_close(st);
		st = NULL;
		ok(!exists(wal) && !exists(shm), "leaving nothing behind");
		chmod(path, 0600);
	}
out:
	free(missing);
	free(parent);
	free(path);
	free(wal);
	free(shm);
	free(empty);
}

static void test_default_path(void)
{
	char *p;

	setenv("STREAMKIT_STATE", "/x/state.db", 1);
	p = sk_state_default_path();
	is_str(p, "/x/state.db", "$STREAMKIT_STATE is the default path");
	free(p);
	unsetenv("STREAMKIT_STATE");
	setenv("XDG_STATE_HOME", "/xdg", 1);
	p = sk_state_default_path();
	is_str(p, "/xdg/streamkit/state.db", "else $XDG_STATE_HOME/streamkit/state.db");
	free(p);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/u", 1);
	p = sk_state_default_path();
	is_str(p, "/home/u/.local/state/streamkit/state.db", "else ~/.local/state/streamkit/state.db");
	free(p);
}

static void test_positions(void)
{
	char *path = path_in("positions.db");
	sk_state *st = open_ok(path);
	sk_err e = { 0 };
	char *pos = (char *)"untouched";
	int64_t before = sk_wall_ms();

	if (!ok(st != NULL, "open a store for positions"))
		goto out;
	is_int(sk_state_get_position(st, "r", "file:/a", "0", &pos, &e), 0, "no position: get returns 0");
	is_str(pos, "untouched", "and leaves *pos alone");
	is_int(sk_state_set_position(st, "r", "file:/a", "0", "100", &e), 0, "set a position");
	is_str(position(st, "r", "file:/a", "0"), "100", "get returns it");
	is_int(sk_state_set_position(st, "r", "file:/a", "0", "250", &e), 0, "set it again");
	is_str(position(st, "r", "file:/a", "0"), "250", "the new position replaces the old");
	is_int(pragma_int(st, "SELECT count(*) FROM positions"), 1, "one row per (name, source, partition)");
	ok(pragma_int(st, "SELECT updated_ms FROM positions") >= before, "updated_ms is the wall clock");

	sk_state_set_position(st, "r", "file:/a", "1", "7", &e);
	sk_state_set_position(st, "r", "file:/b", "0", "8", &e);
	sk_state_set_position(st, "other", "file:/a", "0", "9", &e);
	is_str(position(st, "r", "file:/a", "1"), "7", "partitions are apart");
	is_str(position(st, "other", "file:/a", "0"), "9", "names are apart");

	is_int(sk_state_delete_positions(st, "r", "file:/a", "1", &e), 1, "delete one partition");
	is_str(position(st, "r", "file:/a", "1"), "(none)", "that partition is gone");
	is_str(position(st, "r", "file:/a", "0"), "250", "the other partition stays");
	sk_state_set_position(st, "r", "file:/a", "1", "7", &e);
	is_int(sk_state_delete_positions(st, "r", "file:/a", NULL, &e), 2, "delete every partition of a source");
	is_str(position(st, "r", "file:/b", "0"), "8", "another source stays");
	is_int(sk_state_delete_positions(st, "r", NULL, NULL, &e), 1, "delete everything of a name");
	is_str(position(st, "r", "file:/b", "0"), "(none)", "its positions are gone");
	is_str(position(st, "other", "file:/a", "0"), "9", "another name's position stays");
	is_int(sk_state_delete_positions(st, "nobody", NULL, NULL, &e), 0, "deleting nothing returns 0");
	sk_state_close(st);
out:
	free(path);
}

struct seen {
	char text[1024];
	int n;
};

static int collect_position(void *arg, const char *name, const char *source, const char *partition,
                            const char *pos, int64_t updated_ms)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof s->text - len, "%s%s|%s|%s=%s", s->n++ ? " " : "", name, source,
	         partition, pos);
	return 0;
}

static int stop_after_one(void *arg, const char *name, const char *source, const char *partition,
                          const char *pos, int64_t updated_ms)
{
	(*(int *)arg)++;
	return 7;
}

static void test_each_position(void)
{
	char *path = path_in("each.db");
	sk_state *st = open_ok(path);
	struct seen s = { "", 0 };
	sk_err e = { 0 };
	int calls = 0;

	if (!ok(st != NULL, "open a store for each_position"))
		goto out;
	sk_state_set_position(st, "b", "kafka:t", "10", "1", &e);
	sk_state_set_position(st, "b", "kafka:t", "2", "2", &e);
	sk_state_set_position(st, "a", "file:/z", "0", "3", &e);
	sk_state_set_position(st, "b", "kafka:t", "1", "4", &e);
	sk_state_set_position(st, "b", "file:/y", "0", "5", &e);
	is_int(sk_state_each_position(st, NULL, collect_position, &s, &e), 0, "each_position over every name");
	is_str(s.text, "a|file:/z|0=3 b|file:/y|0=5 b|kafka:t|1=4 b|kafka:t|2=2 b|kafka:t|10=1",
	       "ordered by name, source, then partition in numeric order");
	s.text[0] = '\0';
	s.n = 0;
	sk_state_each_position(st, "a", collect_position, &s, &e);
	is_str(s.text, "a|file:/z|0=3", "each_position of one name");
	is_int(sk_state_each_position(st, NULL, stop_after_one, &calls, &e), 7,
	       "a non-zero return of the callback stops the walk and is returned");
	is_int(calls, 1, "after one call");
	sk_state_close(st);
out:
	free(path);
}

static sk_cursorset *cursors(const char *a, const char *b)
{
	sk_cursorset *cs = sk_cursorset_new();
	sk_err e = { 0 };

	if (cs == NULL)
		abort();
	if (a)
		sk_cursorset_add(cs, a, strlen(a), &e);
	if (b)
		sk_cursorset_add(cs, b, strlen(b), &e);
	return cs;
}

struct history {
	int n;
	int64_t first_id, rows;
	char name[64], cursors[512];
};

static int collect_checkpoint(void *arg, int64_t id, const char *name, int64_t at_ms, int64_t rows,
                              const char *cs)
{
	struct history *h = arg;

	if (h->n++ == 0) {
		h->first_id = id;
		h->rows = rows;
		snprintf(h->name, sizeof h->name, "%s", name);
		snprintf(h->cursors, sizeof h->cursors, "%s", cs);
	}
	return 0;
}

/* 1 when text is a JSON array of exactly the strings a and b (b may be NULL). */
static int json_array_of(const char *text, const char *a, const char *b)
{
	json_object *o = json_tokener_parse(text);
	size_t want = b ? 2 : 1;
	int good = o && json_object_is_type(o, json_type_array) && json_object_array_length(o) == want &&
	           strcmp(json_object_get_string(json_object_array_get_idx(o, 0)), a) == 0 &&
	           (b == NULL || strcmp(json_object_get_string(json_object_array_get_idx(o, 1)), b) == 0);

	json_object_put(o);
	return good;
}

static void test_cursors(void)
{
	char *path = path_in("cursors.db");
	sk_state *st = open_ok(path);
	sk_cursorset *cs = cursors("file:/in:0:10", "kafka:t:3:99");
	struct history h = { 0 };
	sk_err e = { 0 };

	if (!ok(st != NULL, "open a store for cursors"))
		goto out;
	is_int(sk_state_begin(st, &e), 0, "begin a transaction");
	is_int(sk_state_put_cursors(st, "r", cs, 5, &e), 0, "put_cursors inside it");
	is_str(position(st, "r", "file:/in", "0"), "10", "the transaction sees its own positions");
	sk_state_rollback(st);
	is_str(position(st, "r", "file:/in", "0"), "(none)", "after rollback no position is left");
	is_str(position(st, "r", "kafka:t", "3"), "(none)", "of any cursor");
	sk_state_each_checkpoint(st, "r", 0, collect_checkpoint, &h, &e);
	is_int(h.n, 0, "and no checkpoint record");

	is_int(sk_state_checkpoint(st, "r", cs, 5, &e), 0, "checkpoint commits the cursors");
	is_str(position(st, "r", "file:/in", "0"), "10", "the file partition's position is stored");
	is_str(position(st, "r", "kafka:t", "3"), "99", "the kafka partition's position is stored");
	sk_state_each_checkpoint(st, "r", 0, collect_checkpoint, &h, &e);
	is_int(h.n, 1, "one checkpoint record");
	is_int(h.rows, 5, "with its number of rows");
	is_str(h.name, "r", "and its name");
	ok(json_array_of(h.cursors, "file:/in:0:10", "kafka:t:3:99"),
	   "its cursors are a JSON array of the cursors committed");
	if (!json_array_of(h.cursors, "file:/in:0:10", "kafka:t:3:99"))
		printf("#   cursors: %s\n", h.cursors);

	sk_cursorset_free(cs);
	cs = cursors("file:/in:0:20", NULL);
	sk_state_checkpoint(st, "r", cs, 1, &e);
	memset(&h, 0, sizeof h);
	sk_state_each_checkpoint(st, "r", 0, collect_checkpoint, &h, &e);
	is_int(h.n, 2, "a second checkpoint adds a record");
	is_int(h.rows, 1, "the newest comes first");
	ok(json_array_of(h.cursors, "file:/in:0:20", NULL), "a checkpoint of one cursor: an array of one");
	is_str(position(st, "r", "kafka:t", "3"), "99", "a partition missing from a checkpoint keeps its position");
	memset(&h, 0, sizeof h);
	sk_state_each_checkpoint(st, "r", 1, collect_checkpoint, &h, &e);
	is_int(h.n, 1, "each_checkpoint honours its limit");

	is_int(sk_state_checkpoint(st, "r", NULL, 0, &e), 0, "a checkpoint without cursors");
	memset(&h, 0, sizeof h);
	sk_state_each_checkpoint(st, "r", 1, collect_checkpoint, &h, &e);
	is_str(h.cursors, "[]", "records an empty array");

	is_int(sk_state_reset_name(st, "r", &e), 0, "reset_name");
	memset(&h, 0, sizeof h);
	sk_state_each_checkpoint(st, "r", 0, collect_checkpoint, &h, &e);
	is_int(h.n, 0, "forgets the history of the name");
	is_str(position(st, "r", "file:/in", "0"), "(none)", "and its positions");
	sk_state_close(st);
out:
	sk_cursorset_free(cs);
	free(path);
}

static void test_history_bounded(void)
{
	char *path = path_in("history.db");
	sk_state *st = open_ok(path);
	sk_cursorset *cs = cursors("s:0:1", NULL);
	struct history h = { 0 };
	sk_err e = { 0 };
	int i, failed = 0;

	if (!ok(st != NULL, "open a store for the history"))
		goto out;
	sk_state_checkpoint(st, "quiet", cs, 1, &e);
	sk_state_begin(st, &e);
	for (i = 0; i < 1200; i++)
		failed += sk_state_put_cursors(st, "busy", cs, i, &e) < 0;
	is_int(sk_state_commit(st, &e), 0, "1200 checkpoints of one name");
	is_int(failed, 0, "every put_cursors succeeded");
	ok(pragma_int(st, "SELECT count(*) FROM checkpoints WHERE name = 'busy'") <= 1064,
	   "the history of a name is bounded");
	sk_state_each_checkpoint(st, "busy", 1, collect_checkpoint, &h, &e);
	is_int(h.rows, 1199, "the newest record is kept");
	is_int(pragma_int(st, "SELECT count(*) FROM checkpoints WHERE name = 'quiet'"), 1,
	       "another name's history is untouched");
	sk_state_close(st);
out:
	sk_cursorset_free(cs);
	free(path);
}

struct names {
	char text[256];
};

static int collect_name(void *arg, const char *name, int64_t positions, int64_t last_ms)
{
	struct names *n = arg;
	size_t len = strlen(n->text);

	snprintf(n->text + len, sizeof n->text - len, "%s%s:%lld:%s", len ? " " : "", name,
	         (long long)positions, last_ms > 0 ? "t" : "none");
	return 0;
}

static void test_each_name(void)
{
	char *path = path_in("names.db");
	sk_state *st = open_ok(path);
	sk_cursorset *cs = cursors("s:0:1", "s:1:1");
	struct names n = { "" };
	sk_err e = { 0 };

	if (!ok(st != NULL, "open a store for names"))
		goto out;
	sk_state_checkpoint(st, "b", cs, 2, &e);
	sk_state_set_position(st, "a", "s", "0", "5", &e);
	is_int(sk_state_each_name(st, collect_name, &n, &e), 0, "each_name");
	is_str(n.text, "a:1:none b:2:t", "names in order with their positions and last checkpoint");
	sk_state_close(st);
out:
	sk_cursorset_free(cs);
	free(path);
}

struct parts {
	int n;
	int64_t first_id;
	char text[512];
};

static int collect_part(void *arg, int64_t id, const char *tmp, const char *final)
{
	struct parts *p = arg;
	size_t len = strlen(p->text);

	if (p->n++ == 0)
		p->first_id = id;
	snprintf(p->text + len, sizeof p->text - len, "%s%s>%s", len ? " " : "", tmp, final);
	return 0;
}

static void test_staged_parts(void)
{
	char *path = path_in("parts.db");
	sk_state *st = open_ok(path);
	struct parts p = { 0 };
	sk_err e = { 0 };

	if (!ok(st != NULL, "open a store for staged parts"))
		goto out;
	is_int(sk_state_stage_part(st, "r", "/d", "/d/.tmp-1", "/d/part-1", &e), 0, "stage a part");
	sk_state_stage_part(st, "r", "/d", "/d/.tmp-2", "/d/part-2", &e);
	sk_state_stage_part(st, NULL, "/other", "/other/.tmp-1", "/other/part-1", &e);
	sk_state_begin(st, &e);
	sk_state_stage_part(st, "r", "/d", "/d/.tmp-3", "/d/part-3", &e);
	sk_state_rollback(st);
	is_int(sk_state_each_staged_part(st, "/d", collect_part, &p, &e), 0, "each_staged_part");
	is_str(p.text, "/d/.tmp-1>/d/part-1 /d/.tmp-2>/d/part-2",
	       "the dataset's parts in staging order, without the one rolled back or another dataset's");
	is_int(sk_state_unstage_part(st, p.first_id, &e), 0, "unstage a part");
	memset(&p, 0, sizeof p);
	sk_state_each_staged_part(st, "/d", collect_part, &p, &e);
	is_str(p.text, "/d/.tmp-2>/d/part-2", "it is no longer listed");
	memset(&p, 0, sizeof p);
	sk_state_each_staged_part(st, "/other", collect_part, &p, &e);
	is_int(p.n, 1, "a part staged without a name is kept");
	sk_state_close(st);
out:
	free(path);
}

static void test_two_handles(void)
{
	char *path = path_in("shared.db");
	sk_state *a = open_ok(path), *b = open_ok(path);
	sk_cursorset *cs = cursors("s:0:1", NULL);
	sk_err e = { 0 };
	int ready[2], status = -1;
	pid_t pid;
	char c;

	if (!ok(a && b, "two handles on one file"))
		goto out;
	is_int(sk_state_set_position(a, "r", "s", "0", "1", &e), 0, "the first writes");
	is_int(sk_state_set_position(b, "r", "s", "1", "2", &e), 0, "the second writes");
	is_str(position(b, "r", "s", "0"), "1", "the second sees the first's write");
	is_str(position(a, "r", "s", "1"), "2", "the first sees the second's write");

	/* Another process holds the write lock for a while: a checkpoint waits
	 * for it (busy_timeout) instead of failing with "database is locked". */
	if (pipe(ready) < 0 || (pid = fork()) < 0) {
		ok(0, "pipe and fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		sk_state *st = NULL;
		struct timespec hold = { 0, 300 * 1000000L };
		int rc = 1;

		close(ready[0]);
		if (sk_state_open(path, &st, &e) == 0 && sk_state_begin(st, &e) == 0 &&
		    sk_state_set_position(st, "child", "s", "0", "3", &e) == 0 &&
		    write(ready[1], "x", 1) == 1) {
			nanosleep(&hold, NULL);
			rc = sk_state_commit(st, &e) == 0 ? 0 : 1;
		}
		_exit(rc);
	}
	close(ready[1]);
	is_int(read(ready[0], &c, 1), 1, "another process holds the write lock");
	close(ready[0]);
	is_int(sk_state_checkpoint(a, "r", cs, 1, &e), 0, "a checkpoint meanwhile waits and succeeds");
	if (e.msg[0])
		printf("#   error: %s\n", e.msg);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the other process committed");
	is_str(position(a, "child", "s", "0"), "3", "its write is there");
	is_str(position(b, "r", "s", "0"), "1", "and so is the checkpoint");
out:
	sk_cursorset_free(cs);
	sk_state_close(a);
	sk_state_close(b);
	free(path);
}

static void test_bad_files(void)
{
	char *junk = path_in("junk.db"), *plain = path_in("plain"), *under = path_in("plain/state.db");
	char *newer = path_in("newer.db");
	sk_state *st = NULL;
	sk_err e = { 0 };
	int fd;

	fd = open(junk, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		for (int i = 0; i < 64; i++)
			if (write(fd, "this is not an sqlite database ", 31) != 31)
				break;
		close(fd);
	}
	is_int(sk_state_open(junk, &st, &e), -1, "a file that is not SQLite is refused");
	ok(st == NULL, "and nothing is returned");
	is_int(e.code, EX_CONFIG, "as a configuration error (78)");
	ok(strstr(e.msg, junk) != NULL, "the message names the file: %s", e.msg);
	ok(strstr(e.msg, "not a database") != NULL, "and says what is wrong");

	fd = open(plain, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);
	sk_err_clear(&e);
	is_int(sk_state_open(under, &st, &e), -1, "a store under a regular file cannot be created");
	ok(e.code == EX_IOERR || e.code == EX_CANTCREAT, "an I/O error: %d", e.code);
	ok(strstr(e.msg, "plain") != NULL, "the message names the place: %s", e.msg);

	sk_err_clear(&e);
	is_int(sk_state_open(dir, &st, &e), -1, "a directory is not a store");
	ok(strstr(e.msg, dir) != NULL, "the message names it: %s", e.msg);

	st = open_ok(newer);
	if (st) {
		sqlite3_exec(sk_state_db(st), "PRAGMA user_version = 99", NULL, NULL, NULL);
		sk_state_close(st);
		st = NULL;
	}
	sk_err_clear(&e);
	is_int(sk_state_open(newer, &st, &e), -1, "a store of a newer schema version is refused");
	is_int(e.code, EX_CONFIG, "as a configuration error");
	ok(strstr(e.msg, "newer") != NULL, "saying so: %s", e.msg);
	free(junk);
	free(plain);
	free(under);
	free(newer);
}

/* --- schema 2: stream-run --- */

static void test_migrate_v1(void)
{
	char *path = path_in("v1.db");
	sk_state *st = open_ok(path);
	int64_t id = 0;
	sk_err e = { 0 };

	/* Take a new store back to version 1, with an attempt of that time. */
	if (st == NULL || sqlite3_exec(sk_state_db(st),
	                               "DROP TABLE supervisors; DROP TABLE reads;"
	                               " ALTER TABLE attempts DROP COLUMN run_id;"
	                               " ALTER TABLE attempts DROP COLUMN attempt;"
	                               " ALTER TABLE attempts DROP COLUMN pid;"
	                               " ALTER TABLE attempts DROP COLUMN error;"
	                               " INSERT INTO attempts(name, started_ms, exit_code) VALUES ('old', 5, 75);"
	                               " PRAGMA user_version = 1", NULL, NULL, NULL) != SQLITE_OK) {
		ok(0, "make a version 1 store: %s", st ? sqlite3_errmsg(sk_state_db(st)) : "open failed");
		sk_state_close(st);
		free(path);
		return;
	}
	sk_state_close(st);
	st = NULL;
	is_int(sk_state_open_readonly(path, &st, &e), 0, "a reader opens a version 1 store");
	if (st) {
		int cb_rc = 0;

		is_int(pragma_int(st, "PRAGMA user_version"), 1, "without migrating it");
		is_int(sk_state_get_run(st, "old", NULL, NULL, &cb_rc, &e), 0, "it has no supervisor");
		is_int(sk_state_each_attempt(st, "old", 0, NULL, NULL, &e), 0, "nor attempts to list");
		sk_state_close(st);
	}
	st = open_ok(path);
	ok(st != NULL, "a version 1 store opens");
	if (st == NULL)
		goto out;
	is_int(pragma_int(st, "PRAGMA user_version"), 2, "and is migrated to version 2");
	is_int(pragma_int(st, "SELECT exit_code FROM attempts WHERE name = 'old'"), 75,
	       "keeping its attempts");
	is_int(pragma_int(st, "SELECT count(*) FROM sqlite_master WHERE name IN ('supervisors', 'reads')"), 2,
	       "supervisors and reads exist");
	is_int(sk_state_attempt_start(st, "old", "r1", 1, 42, 10, &id, &e), 0,
	       "attempts take the new columns");
out:
	sk_state_close(st);
	free(path);
}

static int always_alive(int64_t pid, int64_t start)
{
	return 1;
}

static int never_alive(int64_t pid, int64_t start)
{
	return 0;
}

static void test_supervisors(void)
{
	char *path = path_in("supervisors.db");
	sk_state *st = open_ok(path);
	sk_supervisor s = { .name = "job", .desired = "up", .state = "running", .run_id = "r1",
	                    .supervisor_pid = 100, .supervisor_start = 7, .pid = 101, .attempt = 1,
	                    .last_status = -1, .started_ms = 1000 };
	sk_err e = { 0 };

	if (!ok(st != NULL, "open"))
		goto out;
	is_int(sk_state_claim_supervisor(st, &s, always_alive, &e), 0, "a first supervisor claims a name");
	is_str(query_text(st, "SELECT state || ' ' || pid || ' ' || supervisor_start FROM supervisors"),
	       "running 101 7", "its row is written");
	s.run_id = "r2";
	s.supervisor_pid = 200;
	is_int(sk_state_claim_supervisor(st, &s, always_alive, &e), 1,
	       "a second is refused while the first is alive");
	is_int(e.code, EX_TEMPFAIL, "as a temporary failure");
	ok(strstr(e.msg, "job") && strstr(e.msg, "100"), "naming the name and the pid: %s", e.msg);
	is_int(sk_state_claim_supervisor(st, &s, never_alive, &e), 0, "it takes over from a dead one");
	is_str(query_text(st, "SELECT run_id FROM supervisors WHERE name = 'job'"), "r2", "its row replaces it");
	s.state = "exited";
	s.pid = -1;
	s.last_status = 0;
	is_int(sk_state_put_supervisor(st, &s, &e), 0, "a supervisor updates its row");
	is_str(query_text(st, "SELECT state || ' ' || ifnull(pid, 'none') || ' ' || last_status"
	                      " FROM supervisors"), "exited none 0", "with what it does");
	s.run_id = "r3";
	is_int(sk_state_claim_supervisor(st, &s, always_alive, &e), 0,
	       "a name whose supervisor has exited is free, whatever its pid is now");
out:
	sk_state_close(st);
	free(path);
}

struct attempts_seen {
	int n;
	char got[256];
};

static int attempt_seen(void *arg, const sk_attempt *a)
{
	struct attempts_seen *s = arg;
	size_t len = strlen(s->got);

	snprintf(s->got + len, sizeof s->got - len, "%s%lld:%lld:%lld:%s", s->n++ ? " " : "",
	         (long long)a->attempt, (long long)a->exit_code, (long long)a->signal,
	         a->error ? a->error : "-");
	return 0;
}

static int run_seen(void *arg, const sk_run_info *r)
{
	struct attempts_seen *s = arg;

	snprintf(s->got, sizeof s->got, "%s %s failures=%lld recorded=%lld last=%lld:%s:%s read=%lld ckpt=%d",
	         r->s.desired, r->s.state, (long long)r->failures, (long long)r->recorded,
	         (long long)r->last_error.attempt, r->last_error.error ? r->last_error.error : "-",
	         r->last_error.stderr_tail ? r->last_error.stderr_tail : "-", (long long)r->read_ms,
	         r->checkpoint_ms > 0);
	return 7;
}

static void test_attempts(void)
{
	char *path = path_in("attempts.db");
	sk_state *st = open_ok(path);
	sk_supervisor s = { .name = "job", .desired = "up", .state = "running", .run_id = "r1",
	                    .supervisor_pid = 1, .supervisor_start = -1, .pid = 11, .attempt = 2,
	                    .last_status = 75, .started_ms = 1000 };
	struct attempts_seen seen = { 0 };
	sk_cursorset *cs = cursors("s:0:1", NULL);
	int64_t id1 = 0, id2 = 0, id3 = 0;
	int cb_rc = 0;
	sk_err e = { 0 };

	if (!ok(st != NULL, "open"))
		goto out;
	is_int(sk_state_get_run(st, "job", run_seen, &seen, &cb_rc, &e), 0, "nothing recorded for a new name");
	is_int(sk_state_attempt_start(st, "job", "r0", 1, 10, 500, &id1, &e), 0, "an attempt of an earlier run");
	is_int(sk_state_attempt_end(st, id1, 600, -1, 9, "killed by signal 9 (KILL)", "old\nlast", &e), 0,
	       "ends killed");
	is_int(sk_state_attempt_start(st, "job", "r1", 1, 10, 1000, &id2, &e), 0, "attempt 1 starts");
	ok(id2 > id1, "with a new id");
	is_int(sk_state_attempt_end(st, id2, 2000, 75, -1, "exited with status 75", "oops\nbroker down", &e), 0,
	       "and ends with 75");
	is_int(sk_state_attempt_start(st, "job", "r1", 2, 11, 3000, &id3, &e), 0, "attempt 2 starts");
	is_int(sk_state_each_attempt(st, "job", 0, attempt_seen, &seen, &e), 0, "the attempts are listed");
	is_str(seen.got, "2:-1:-1:- 1:75:-1:exited with status 75 1:-1:9:killed by signal 9 (KILL)",
	       "newest first, running ones without an end");
	memset(&seen, 0, sizeof seen);
	sk_state_each_attempt(st, "job", 1, attempt_seen, &seen, &e);
	is_int(seen.n, 1, "limited to the newest");
	is_str(query_text(st, "SELECT pid || ' ' || started_ms || ' ' || ifnull(ended_ms, '-') FROM attempts"
	                      " WHERE id = (SELECT max(id) FROM attempts)"), "11 3000 -", "with pid and times");

	sk_state_put_supervisor(st, &s, &e);
	sk_state_checkpoint(st, "job", cs, 1, &e);
	memset(&seen, 0, sizeof seen);
	is_int(sk_state_get_run(st, "job", run_seen, &seen, &cb_rc, &e), 1, "the run of a supervised name");
	is_int(cb_rc, 7, "the callback's return is passed back");
	is_str(seen.got, "up running failures=1 recorded=3 last=1:exited with status 75:oops\nbroker down "
	       "read=0 ckpt=1", "the failures of this run, every attempt, the last error with its tail");
out:
	sk_cursorset_free(cs);
	sk_state_close(st);
	free(path);
}

static void test_read_notes(void)
{
	char *path = path_in("reads.db");
	sk_state *reader = open_ok(path), *writer = open_ok(path);
	sk_cursorset *cs = cursors("s:0:1", NULL);
	sk_read_note n = { 0 };
	int64_t read_ms = -1, ckpt_ms = -1, first;
	sk_err e = { 0 };

	if (!ok(reader && writer, "a reader and a writer"))
		goto out;
	is_int(sk_state_read_progress(reader, "r", &read_ms, &ckpt_ms, &e), 0, "progress of a new name");
	ok(read_ms == 0 && ckpt_ms == 0, "nothing read, nothing checkpointed");
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "a first delivery");
	sk_state_read_progress(writer, "r", &read_ms, &ckpt_ms, &e);
	ok(read_ms > 0 && read_ms == n.recorded_ms, "is recorded at once");
	is_int(pragma_int(reader, "PRAGMA synchronous"), 2, "without an fsync, then synchronous is FULL again");
	first = read_ms;
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "a second one within the second");
	ok(n.held_ms >= first && n.recorded_ms == first, "is held back");
	sk_state_read_progress(writer, "r", &read_ms, &ckpt_ms, &e);
	is_int(read_ms, first, "not recorded");
	is_int(sk_state_checkpoint(writer, "r", cs, 1, &e), 0, "the writer checkpoints");
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "the next delivery");
	ok(n.held_ms == 0 && n.recorded_ms >= first, "is recorded at once: the store has changed");
	is_int(sk_state_note_read(reader, "r", &n, 0, &e), 0, "another within the second");
	ok(n.held_ms != 0, "is held back");
	first = n.held_ms;
	is_int(sk_state_note_read(reader, "r", &n, 1, &e), 0, "at the end");
	sk_state_read_progress(writer, "r", &read_ms, &ckpt_ms, &e);
	ok(read_ms == first && n.held_ms == 0, "what was held back is recorded, with its own time");
	ok(ckpt_ms > 0, "the checkpoint's time is there too");
	is_int(sk_state_note_read(reader, "r", &n, 1, &e), 0, "an end with nothing held back");
	n.recorded_ms -= 1000;
	sk_state_note_read(reader, "r", &n, 0, &e);
	is_int(n.held_ms, 0, "a delivery a second after the last record is recorded");
out:
	sk_cursorset_free(cs);
	sk_state_close(reader);
	sk_state_close(writer);
	free(path);
}

int main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_create();
	test_foreign();
	test_unmarked();
	test_readonly();
	test_default_path();
	test_positions();
	test_each_position();
	test_cursors();
	test_history_bounded();
	test_each_name();
	test_staged_parts();
	test_two_handles();
	test_bad_files();
	test_migrate_v1();
	test_supervisors();
	test_attempts();
	test_read_notes();
	if (tap_failed == 0) {
		char cmd[sizeof dir + 16];
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	} else {
		printf("# files kept in %s\n", dir);
	}
	return tap_done();
}
