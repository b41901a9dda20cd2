/* test-state.c - the state store itself (lib/state.c): creating, marking,
 * refusing what is not a store, opening read-only, the default path, two
 * handles on one file, and migrating a store of schema 1. */
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

#include "state_fixture.h"

static int file_mode(const char *path)
{
	struct stat sb;

	return stat(path, &sb) < 0 ? -1 : (int)(sb.st_mode & 07777);
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

/* --- migrating: schema 1 to 2 (stream-run) --- */

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

int main(void)
{
	if (fixture_begin() < 0)
		return 1;
	test_create();
	test_foreign();
	test_unmarked();
	test_readonly();
	test_default_path();
	test_two_handles();
	test_bad_files();
	test_migrate_v1();
	return fixture_end();
}
