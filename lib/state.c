/* state.c - the state store itself: where it is, opening it for the
 * programs that write (creating it 0600, WAL, migrating its schema, marking
 * it with the application id) and for those that only read (writing
 * nothing), refusing files that are not a store, and transactions. The
 * tables are read and written by state_positions.c, state_parts.c,
 * state_run.c and state_settings.c. */
/* realpath is POSIX 2008 base, but glibc declares it only for X/Open. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_impl.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 10000
#define APPLICATION_ID 0x534b7374     /* "SKst", the PRAGMA application_id of a store */

/* migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE positions("
	"  name TEXT NOT NULL, source TEXT NOT NULL, partition TEXT NOT NULL,"
	"  position TEXT NOT NULL, updated_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (name, source, partition)) WITHOUT ROWID;"
	"CREATE TABLE checkpoints("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL, at_ms INTEGER NOT NULL,"
	"  rows INTEGER NOT NULL, cursors TEXT NOT NULL);"
	"CREATE INDEX checkpoints_by_name ON checkpoints(name, id);"
	"CREATE TABLE staged_parts("
	"  id INTEGER PRIMARY KEY, name TEXT, dataset TEXT NOT NULL,"
	"  tmp_path TEXT NOT NULL, final_path TEXT NOT NULL, created_ms INTEGER NOT NULL);"
	"CREATE INDEX staged_parts_by_dataset ON staged_parts(dataset, id);"
	"CREATE TABLE attempts("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL, started_ms INTEGER NOT NULL,"
	"  ended_ms INTEGER, exit_code INTEGER, signal INTEGER, stderr_tail TEXT);"
	"CREATE INDEX attempts_by_name ON attempts(name, id);"
	"CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;",
	/* 2: stream-run's attempts, its supervisors, and what readers read. */
	"ALTER TABLE attempts ADD COLUMN run_id TEXT;"
	"ALTER TABLE attempts ADD COLUMN attempt INTEGER;"
	"ALTER TABLE attempts ADD COLUMN pid INTEGER;"
	"ALTER TABLE attempts ADD COLUMN error TEXT;"
	"CREATE TABLE supervisors("
	"  name TEXT PRIMARY KEY, desired TEXT NOT NULL, state TEXT NOT NULL,"
	"  run_id TEXT NOT NULL, supervisor_pid INTEGER NOT NULL, supervisor_start INTEGER,"
	"  pid INTEGER, attempt INTEGER NOT NULL, last_status INTEGER, message TEXT,"
	"  started_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE reads("
	"  name TEXT PRIMARY KEY, read_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL) WITHOUT ROWID;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))
/* Every table any version has made, and how many the first one made. */
#define STORE_TABLES "'positions', 'checkpoints', 'staged_parts', 'attempts', 'settings'," \
                     " 'supervisors', 'reads'"
#define FIRST_SCHEMA_TABLES 5

char *sk_state_default_path(void)
{
	const char *env = getenv("STREAMKIT_STATE"), *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (env && *env)
		return strdup(env);
	if (xdg && *xdg)
		return sk_strprintf("%s/streamkit/state.db", xdg);
	return sk_strprintf("%s/.local/state/streamkit/state.db", home ? home : ".");
}

int sk_sqlite_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return EX_CONFIG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EX_TEMPFAIL;
	case SQLITE_NOMEM:
		return EX_OSERR;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return EX_DATAERR;
	default:
		return EX_IOERR;
	}
}

/* --- for the parts of the store (state_impl.h) --- */

int sk_state_db_err(sk_state *st, int rc, sk_err *e, const char *what)
{
	return sk_err_set(e, sk_sqlite_code(rc), "%s: %s%s%s", st->path, what ? what : "", what ? ": " : "",
	                  st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

int sk_state_exec(sk_state *st, const char *sql, sk_err *e)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sk_state_db_err(st, rc, e, NULL);
}

/* The statement id, prepared on first use: a store opened read-only may be
 * of an older schema, without the tables some of them name. */
sqlite3_stmt *sk_state_stmt(sk_state *st, enum sk_state_stmt id, const char *sql, sk_err *e)
{
	int rc;

	if (st->stmt[id] == NULL &&
	    (rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
	                             NULL)) != SQLITE_OK) {
		sk_state_db_err(st, rc, e, NULL);
		return NULL;
	}
	return st->stmt[id];
}

int sk_state_step_reset(sk_state *st, sqlite3_stmt *s, sk_err *e)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : sk_state_db_err(st, rc, e, NULL);
}

int sk_state_prepare(sk_state *st, const char *sql, const char *p1, sqlite3_stmt **s, sk_err *e)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

	if (rc != SQLITE_OK)
		return sk_state_db_err(st, rc, e, NULL);
	if (p1)
		sqlite3_bind_text(*s, 1, p1, -1, SQLITE_STATIC);
	return 0;
}

int sk_state_step_done(sk_state *st, sqlite3_stmt *s, sk_err *e)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : sk_state_db_err(st, rc, e, NULL);
}

int sk_state_walk_end(sk_state *st, sqlite3_stmt *s, int rc, int stop, sk_err *e)
{
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : sk_state_db_err(st, rc, e, NULL);
}

/* --- opening --- */

/* The first statement reads the header: a file that is not SQLite fails here.
 * Switching a new file to WAL answers SQLITE_BUSY at once, without the busy
 * handler, while another process does the same: retry for the busy timeout. */
static int set_wal(sk_state *st, char *mode, size_t size)
{
	int64_t deadline = sk_now_ms() + BUSY_TIMEOUT_MS;
	sqlite3_stmt *s;
	int rc;

	for (;;) {
		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s);
			if (rc == SQLITE_ROW)
				snprintf(mode, size, "%s", (const char *)sqlite3_column_text(s, 0));
			sqlite3_finalize(s);
		}
		if ((rc & 0xff) != SQLITE_BUSY || sk_now_ms() >= deadline)
			return rc;
		sqlite3_sleep(5);
	}
}

/* A store holds positions, the endpoints read and the tails of commands'
 * stderr: say so when it lets the group or others in. */
static void warn_loose_mode(const char *path, const struct stat *sb)
{
	if (S_ISREG(sb->st_mode) && (sb->st_mode & 077))
		sk_warn("%s: mode %04o lets users other than its owner open the state store (positions,"
		        " endpoints, error output): chmod 600 it", path, (unsigned)(sb->st_mode & 07777));
}

static sk_state *state_new(const char *path, sk_err *e)
{
	sk_state *st = calloc(1, sizeof *st);

	if (st && (st->path = path ? strdup(path) : sk_state_default_path()) != NULL)
		return st;
	free(st);
	sk_err_oom(e);
	return NULL;
}

static int open_db(sk_state *st, const char *filename, int flags, sk_err *e)
{
	int rc = sqlite3_open_v2(filename, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK)
		return sk_state_db_err(st, rc, e, NULL);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
	return 0;
}

/* What an SQLite file holds, as far as telling a store from another
 * application's database goes. */
struct header {
	int app_id, version;
	int tables;          /* tables that are not SQLite's own */
	int ours;            /* of them, those named as the store's tables */
};

enum kind { KIND_EMPTY, KIND_OURS, KIND_FOREIGN };

/* Read the header and the table names; nothing is written. */
static int read_header(sk_state *st, struct header *h, sk_err *e)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db,
	                            "SELECT (SELECT application_id FROM pragma_application_id),"
	                            " (SELECT user_version FROM pragma_user_version),"
	                            " (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	                            "  AND name NOT LIKE 'sqlite!_%' ESCAPE '!'),"
	                            " (SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	                            "  AND name IN (" STORE_TABLES "))", -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		h->app_id = sqlite3_column_int(s, 0);
		h->version = sqlite3_column_int(s, 1);
		h->tables = sqlite3_column_int(s, 2);
		h->ours = sqlite3_column_int(s, 3);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : sk_state_db_err(st, rc, e, NULL);
}

/* Ours: our application id, or (a store from before it was set) a schema
 * version we wrote and our tables only. Empty: nothing at all, a store to
 * be. Anything else is another application's database. */
static enum kind classify(const struct header *h)
{
	if (h->app_id == APPLICATION_ID)
		return KIND_OURS;
	if (h->app_id != 0)
		return KIND_FOREIGN;
	if (h->tables == 0 && h->version == 0)
		return KIND_EMPTY;
	if (h->version >= 1 && h->version <= SCHEMA_VERSION && h->tables == h->ours &&
	    h->ours >= FIRST_SCHEMA_TABLES)
		return KIND_OURS;
	return KIND_FOREIGN;
}

/* The header, checked: another application's database and a store of a
 * newer schema are refused before anything is written to them. */
static int check_header(sk_state *st, struct header *h, sk_err *e)
{
	enum kind kind;

	if (read_header(st, h, e) < 0)
		return -1;
	kind = classify(h);
	if (kind == KIND_FOREIGN && h->app_id != 0)
		return sk_err_set(e, EX_CONFIG, "%s: not a streamkit state store (an SQLite database"
		                  " of application id 0x%08x); left untouched", st->path, (unsigned)h->app_id);
	if (kind == KIND_FOREIGN)
		return sk_err_set(e, EX_CONFIG, "%s: not a streamkit state store (an SQLite database"
		                  " with other tables); left untouched", st->path);
	if (h->version > SCHEMA_VERSION)
		return sk_err_set(e, EX_CONFIG, "%s: state schema version %d is newer than this program"
		                  " knows (%d)", st->path, h->version, SCHEMA_VERSION);
	return (int)kind;
}

/* Create the file ourselves so that it is 0600 from its first byte; SQLite
 * gives its -wal and -shm files the same mode. */
static int create_private(const char *path, sk_err *e)
{
	char *dir = strdup(path), *slash;
	int fd;

	if (dir == NULL)
		return sk_err_oom(e);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (sk_mkdir_p(dir, 0700, e) < 0) {
			free(dir);
			return -1;
		}
	}
	free(dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

/* Bring the schema to SCHEMA_VERSION and mark the file as a store, in one
 * transaction: a store from before the application id gets it here. */
static int migrate(sk_state *st, const struct header *h, sk_err *e)
{
	struct header now;
	char sql[96];
	int version;

	if (h->version == SCHEMA_VERSION && h->app_id == APPLICATION_ID)
		return 0;
	if (sk_state_begin(st, e) < 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (check_header(st, &now, e) < 0)
		goto fail;
	for (version = now.version; version < SCHEMA_VERSION; version++)
		if (sk_state_exec(st, migrations[version], e) < 0)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
	         SCHEMA_VERSION, APPLICATION_ID);
	if (sk_state_exec(st, sql, e) < 0)
		goto fail;
	return sk_state_commit(st, e);
fail:
	sk_state_rollback(st);
	return -1;
}

int sk_state_open(const char *path, sk_state **out, sk_err *e)
{
	sk_state *st = state_new(path, e);
	struct header h;
	struct stat sb;
	char mode[16] = "";
	int rc, existed;

	if (st == NULL)
		return -1;
	existed = stat(st->path, &sb) == 0;
	if (create_private(st->path, e) < 0 || open_db(st, st->path, SQLITE_OPEN_READWRITE, e) < 0 ||
	    check_header(st, &h, e) < 0)
		goto fail;
	/* An empty file becomes a store here, as one we create: 0600 (the
	 * sqlite3 shell run on a path before any writer leaves one behind). */
	if (existed && !(S_ISREG(sb.st_mode) && sb.st_size == 0 && chmod(st->path, 0600) == 0))
		warn_loose_mode(st->path, &sb);
	if ((rc = set_wal(st, mode, sizeof mode)) != SQLITE_ROW) {
		sk_state_db_err(st, rc, e, NULL);
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		sk_err_set(e, EX_IOERR, "%s: cannot use write-ahead logging (journal mode %s)", st->path, mode);
		goto fail;
	}
	if (sk_state_exec(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", e) < 0)
		goto fail;
	if (migrate(st, &h, e) < 0)
		goto fail;
	st->version = SCHEMA_VERSION;
	*out = st;
	return 0;
fail:
	sk_state_close(st);
	return -1;
}

/* The directory that will hold the -wal and -shm files of path (SQLite
 * puts them beside the file a symbolic link points to). malloc'd. */
static char *store_dir(const char *path)
{
	char *real = realpath(path, NULL), *slash;

	if (real == NULL)
		return NULL;
	slash = strrchr(real, '/');
	if (slash == real)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return real;
}

static int may_write(const char *path)
{
	char *dir = store_dir(path);
	int yes = dir && faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 &&
	          faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) == 0;

	free(dir);
	return yes;
}

static int wal_exists(const char *path)
{
	char *real = realpath(path, NULL), *wal = real ? sk_strprintf("%s-wal", real) : NULL;
	struct stat sb;
	int yes = wal == NULL || stat(wal, &sb) == 0;

	free(real);
	free(wal);
	return yes;
}

/* "file:" and path as a URI path, with "?immutable=1": every byte that is
 * not unreserved is percent-encoded, '?', '#' and '%' among them. */
static char *immutable_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *real = realpath(path, NULL);
	sk_buf b = { 0 };
	const unsigned char *p;
	int rc = real ? sk_buf_adds(&b, "file:") : -1;

	for (p = (const unsigned char *)real; rc == 0 && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p))
			rc = sk_buf_addc(&b, (char)*p);
		else
			rc = sk_buf_addc(&b, '%') | sk_buf_addc(&b, hex[*p >> 4]) | sk_buf_addc(&b, hex[*p & 15]);
	}
	if (rc == 0)
		rc = sk_buf_adds(&b, "?immutable=1");
	free(real);
	if (rc < 0) {
		sk_buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* A reader that could write the store opens it read-write, with writes
 * refused (query_only): as the writers' connections do, it then removes the
 * -wal and -shm files it made when it closes, which a read-only connection
 * would leave behind. One that cannot write it opens it read-only: with the
 * -wal file there, through it; without, as immutable, for SQLite refuses a
 * WAL database it cannot make a -shm file for (a read-only directory), and
 * would otherwise leave one behind. No -wal file means that no process has
 * the store open: there is no log to read. */
static int connect_reader(sk_state *st, sk_err *e)
{
	char *uri;
	int rc;

	if (may_write(st->path)) {
		if (open_db(st, st->path, SQLITE_OPEN_READWRITE, e) < 0)
			return -1;
		return sk_state_exec(st, "PRAGMA query_only = 1", e);
	}
	if (wal_exists(st->path))
		return open_db(st, st->path, SQLITE_OPEN_READONLY, e);
	if ((uri = immutable_uri(st->path)) == NULL)
		return sk_err_set(e, EX_IOERR, "%s: %s", st->path, strerror(errno));
	rc = open_db(st, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, e);
	free(uri);
	return rc;
}

/* Where no store exists there is nothing to read: say so rather than
 * create one (a mistyped --state would look like an empty store). */
static int stat_store(const char *path, struct stat *sb, sk_err *e)
{
	if (stat(path, sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return sk_err_set(e, EX_UNAVAILABLE, "%s: no state store here", path);
		return sk_err_set(e, EX_IOERR, "%s: %s", path, strerror(errno));
	}
	if (S_ISDIR(sb->st_mode))
		return sk_err_set(e, EX_CONFIG, "%s: a directory, not a state store", path);
	return 0;
}

int sk_state_open_readonly(const char *path, sk_state **out, sk_err *e)
{
	sk_state *st = state_new(path, e);
	struct header h;
	struct stat sb;
	int kind;

	if (st == NULL)
		return -1;
	if (stat_store(st->path, &sb, e) < 0 || connect_reader(st, e) < 0 ||
	    (kind = check_header(st, &h, e)) < 0)
		goto fail;
	if (kind == KIND_EMPTY || h.version == 0) {
		sk_err_set(e, EX_UNAVAILABLE, "%s: no state store here (an empty file)", st->path);
		goto fail;
	}
	warn_loose_mode(st->path, &sb);
	st->version = h.version;
	*out = st;
	return 0;
fail:
	sk_state_close(st);
	return -1;
}

void sk_state_close(sk_state *st)
{
	int i;

	if (st == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

const char *sk_state_path(const sk_state *st)
{
	return st->path;
}

sqlite3 *sk_state_db(sk_state *st)
{
	return st->db;
}

int sk_state_begin(sk_state *st, sk_err *e)
{
	return sk_state_exec(st, "BEGIN IMMEDIATE", e);
}

int sk_state_commit(sk_state *st, sk_err *e)
{
	if (sk_state_exec(st, "COMMIT", e) < 0) {
		sk_state_rollback(st);
		return -1;
	}
	return 0;
}

void sk_state_rollback(sk_state *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}
