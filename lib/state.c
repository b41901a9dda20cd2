/* state.c - the state store: positions, checkpoint history, staged dataset
 * parts and supervisor attempts, in one SQLite file shared by every process
 * of a pipeline. */
/* realpath is POSIX 2008 base, but glibc declares it only for X/Open. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"
#include "json.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 10000
#define HISTORY_KEEP 1000     /* checkpoint and attempt records kept per name */
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
#define RUN_SCHEMA 2          /* the version that made stream-run's tables */

enum stmt_id {
	ST_GET_POS, ST_PUT_POS, ST_ADD_CHECKPOINT, ST_PRUNE_HISTORY, ST_STAGE, ST_UNSTAGE,
	ST_DATA_VERSION, ST_NOTE_READ, ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_GET_POS] = "SELECT position FROM positions WHERE name = ?1 AND source = ?2 AND partition = ?3",
	[ST_PUT_POS] = "INSERT INTO positions(name, source, partition, position, updated_ms)"
	               " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name, source, partition)"
	               " DO UPDATE SET position = excluded.position, updated_ms = excluded.updated_ms",
	[ST_ADD_CHECKPOINT] = "INSERT INTO checkpoints(name, at_ms, rows, cursors) VALUES (?1, ?2, ?3, ?4)",
	[ST_PRUNE_HISTORY] = "DELETE FROM checkpoints WHERE name = ?1 AND id <= (SELECT id FROM checkpoints"
	                     " WHERE name = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
	[ST_STAGE] = "INSERT INTO staged_parts(name, dataset, tmp_path, final_path, created_ms)"
	             " VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_UNSTAGE] = "DELETE FROM staged_parts WHERE id = ?1",
	[ST_DATA_VERSION] = "PRAGMA data_version",
	[ST_NOTE_READ] = "INSERT INTO reads(name, read_ms, updated_ms) VALUES (?1, ?2, ?3)"
	                 " ON CONFLICT (name) DO UPDATE SET read_ms = max(read_ms, excluded.read_ms),"
	                 " updated_ms = excluded.updated_ms",
};

struct sk_state {
	sqlite3 *db;
	char *path;
	int version;                 /* older than SCHEMA_VERSION only when read-only */
	sqlite3_stmt *stmt[ST_COUNT];   /* prepared on first use */
};

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

static int db_err(sk_state *st, int rc, sk_err *e, const char *what)
{
	return sk_err_set(e, sk_sqlite_code(rc), "%s: %s%s%s", st->path, what ? what : "", what ? ": " : "",
	                  st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
}

static int exec(sk_state *st, const char *sql, sk_err *e)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : db_err(st, rc, e, NULL);
}

/* The statement id, prepared on first use: a store opened read-only may be
 * of an older schema, without the tables some of them name. */
static sqlite3_stmt *stmt(sk_state *st, enum stmt_id id, sk_err *e)
{
	int rc;

	if (st->stmt[id] == NULL &&
	    (rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
	                             NULL)) != SQLITE_OK) {
		db_err(st, rc, e, NULL);
		return NULL;
	}
	return st->stmt[id];
}

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
		return db_err(st, rc, e, NULL);
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
	return rc == SQLITE_ROW ? 0 : db_err(st, rc, e, NULL);
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
		if (exec(st, migrations[version], e) < 0)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d; PRAGMA application_id = %d",
	         SCHEMA_VERSION, APPLICATION_ID);
	if (exec(st, sql, e) < 0)
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
		db_err(st, rc, e, NULL);
		goto fail;
	}
	if (strcmp(mode, "wal") != 0) {
		sk_err_set(e, EX_IOERR, "%s: cannot use write-ahead logging (journal mode %s)", st->path, mode);
		goto fail;
	}
	if (exec(st, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", e) < 0)
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
		return exec(st, "PRAGMA query_only = 1", e);
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
	return exec(st, "BEGIN IMMEDIATE", e);
}

int sk_state_commit(sk_state *st, sk_err *e)
{
	if (exec(st, "COMMIT", e) < 0) {
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

/* Run a prepared statement that returns no rows, then reset it. */
static int run(sk_state *st, sqlite3_stmt *s, sk_err *e)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

int sk_state_get_position(sk_state *st, const char *name, const char *source,
                          const char *partition, char **pos, sk_err *e)
{
	sqlite3_stmt *s = stmt(st, ST_GET_POS, e);
	int rc, found = 0;

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, partition, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		*pos = strdup((const char *)sqlite3_column_text(s, 0));
		if (*pos == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, rc, e, NULL);
	return found;
}

int sk_state_set_position(sk_state *st, const char *name, const char *source,
                          const char *partition, const char *pos, sk_err *e)
{
	sqlite3_stmt *s = stmt(st, ST_PUT_POS, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, partition, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, pos, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_wall_ms());
	return run(st, s, e);
}

int sk_state_delete_positions(sk_state *st, const char *name, const char *source,
                              const char *partition, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "DELETE FROM positions WHERE name = ?1"
	                        " AND (?2 IS NULL OR source = ?2) AND (?3 IS NULL OR partition = ?3)",
	                        -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	if (source)
		sqlite3_bind_text(s, 2, source, -1, SQLITE_STATIC);
	if (partition)
		sqlite3_bind_text(s, 3, partition, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_err(st, rc, e, NULL);
	return sqlite3_changes(st->db);
}

int sk_state_each_position(sk_state *st, const char *name, sk_position_cb cb,
                           void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT name, source, partition, position, updated_ms"
	                        " FROM positions WHERE ?1 IS NULL OR name = ?1"
	                        " ORDER BY name, source, length(partition), partition", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		          (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
		          sqlite3_column_int64(s, 4));
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

struct put_ctx {
	sk_state *st;
	const char *name;
	sk_buf summary;       /* the cursors as a JSON array, for the history */
	sk_err *e;
	int failed;
};

static int put_one(void *arg, const char *source, const char *partition, const char *position)
{
	struct put_ctx *c = arg;

	if (sk_state_set_position(c->st, c->name, source, partition, position, c->e) < 0)
		return c->failed = -1;
	if ((c->summary.len > 1 && sk_buf_addc(&c->summary, ',') < 0) ||
	    sk_cursor_add_json(&c->summary, source, partition, position) < 0) {
		sk_err_oom(c->e);
		return c->failed = -1;
	}
	return 0;
}

int sk_state_put_cursors(sk_state *st, const char *name, const sk_cursorset *cs,
                         int64_t rows, sk_err *e)
{
	struct put_ctx c = { .st = st, .name = name, .e = e };
	sqlite3_stmt *s;
	sqlite3_int64 id;
	int rc = 0;

	if (sk_buf_addc(&c.summary, '[') < 0)
		return sk_err_oom(e);
	if (cs && sk_cursorset_each(cs, put_one, &c) != 0) {
		sk_buf_free(&c.summary);
		return -1;
	}
	if (sk_buf_addc(&c.summary, ']') < 0) {
		sk_buf_free(&c.summary);
		return sk_err_oom(e);
	}
	if ((s = stmt(st, ST_ADD_CHECKPOINT, e)) == NULL) {
		sk_buf_free(&c.summary);
		return -1;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, sk_wall_ms());
	sqlite3_bind_int64(s, 3, rows);
	sqlite3_bind_text(s, 4, c.summary.p, (int)c.summary.len, SQLITE_STATIC);
	rc = run(st, s, e);
	sk_buf_free(&c.summary);
	if (rc < 0)
		return -1;
	id = sqlite3_last_insert_rowid(st->db);
	if (id > HISTORY_KEEP && id % 64 == 0) {
		if ((s = stmt(st, ST_PRUNE_HISTORY, e)) == NULL)
			return -1;
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, HISTORY_KEEP);
		return run(st, s, e);
	}
	return 0;
}

int sk_state_checkpoint(sk_state *st, const char *name, const sk_cursorset *cs,
                        int64_t rows, sk_err *e)
{
	if (sk_state_begin(st, e) < 0)
		return -1;
	if (sk_state_put_cursors(st, name, cs, rows, e) < 0) {
		sk_state_rollback(st);
		return -1;
	}
	return sk_state_commit(st, e);
}

int sk_state_each_checkpoint(sk_state *st, const char *name, int limit,
                             sk_checkpoint_cb cb, void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT id, name, at_ms, rows, cursors FROM checkpoints"
	                        " WHERE ?1 IS NULL OR name = ?1 ORDER BY id DESC LIMIT ?2", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		          sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3),
		          (const char *)sqlite3_column_text(s, 4));
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

int sk_state_stage_part(sk_state *st, const char *name, const char *dataset,
                        const char *tmp_path, const char *final_path, sk_err *e)
{
	sqlite3_stmt *s = stmt(st, ST_STAGE, e);

	if (s == NULL)
		return -1;
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, dataset, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, tmp_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, final_path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, sk_wall_ms());
	return run(st, s, e);
}

int sk_state_each_staged_part(sk_state *st, const char *dataset, sk_part_cb cb,
                              void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	rc = sqlite3_prepare_v2(st->db, "SELECT id, tmp_path, final_path FROM staged_parts"
	                        " WHERE dataset = ?1 ORDER BY id", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	sqlite3_bind_text(s, 1, dataset, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		          (const char *)sqlite3_column_text(s, 2));
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

int sk_state_unstage_part(sk_state *st, int64_t id, sk_err *e)
{
	sqlite3_stmt *s = stmt(st, ST_UNSTAGE, e);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return run(st, s, e);
}

/* --- stream-run: supervisors, attempts, reads --- */

static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static int64_t column_opt_int(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

static const char *column_opt_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Prepare sql and bind name to ?1: the start of every query below. */
static int prepare_named(sk_state *st, const char *sql, const char *name, sqlite3_stmt **s,
                         sk_err *e)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);

	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	sqlite3_bind_text(*s, 1, name, -1, SQLITE_STATIC);
	return 0;
}

/* Step a statement that returns no rows, then finalize it. */
static int step_done(sk_state *st, sqlite3_stmt *s, sk_err *e)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

int sk_state_put_supervisor(sk_state *st, const sk_supervisor *v, sk_err *e)
{
	sqlite3_stmt *s;

	if (prepare_named(st, "INSERT OR REPLACE INTO supervisors(name, desired, state, run_id,"
	                  " supervisor_pid, supervisor_start, pid, attempt, last_status, message,"
	                  " started_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	                  v->name, &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 2, v->desired, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, v->state, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, v->run_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, v->supervisor_pid);
	bind_opt_int(s, 6, v->supervisor_start);
	bind_opt_int(s, 7, v->pid);
	sqlite3_bind_int64(s, 8, v->attempt);
	bind_opt_int(s, 9, v->last_status);
	if (v->message)
		sqlite3_bind_text(s, 10, v->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, v->started_ms);
	sqlite3_bind_int64(s, 12, sk_wall_ms());
	return step_done(st, s, e);
}

/* Whether the row of name is held by a live supervisor: 1 and its pid. */
static int supervisor_held(sk_state *st, const char *name, int (*alive)(int64_t, int64_t),
                           int64_t *pid, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, held = 0;

	if (prepare_named(st, "SELECT supervisor_pid, supervisor_start FROM supervisors WHERE name = ?1"
	                  " AND state NOT IN ('stopped', 'exited', 'gave-up')", name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*pid = sqlite3_column_int64(s, 0);
		held = alive(*pid, column_opt_int(s, 1));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, rc, e, NULL);
	return held;
}

int sk_state_claim_supervisor(sk_state *st, const sk_supervisor *v,
                              int (*alive)(int64_t pid, int64_t start), sk_err *e)
{
	int64_t pid = 0;
	int held;

	if (sk_state_begin(st, e) < 0)
		return -1;
	held = supervisor_held(st, v->name, alive, &pid, e);
	if (held == 1)
		sk_err_set(e, EX_TEMPFAIL, "%s: already supervised by stream-run pid %lld", v->name,
		           (long long)pid);
	if (held != 0 || sk_state_put_supervisor(st, v, e) < 0) {
		sk_state_rollback(st);
		return held == 1 ? 1 : -1;
	}
	return sk_state_commit(st, e);
}

int sk_state_attempt_start(sk_state *st, const char *name, const char *run_id,
                           int64_t attempt, int64_t pid, int64_t started_ms, int64_t *id,
                           sk_err *e)
{
	sqlite3_stmt *s;

	if (prepare_named(st, "INSERT INTO attempts(name, run_id, attempt, pid, started_ms)"
	                  " VALUES (?1, ?2, ?3, ?4, ?5)", name, &s, e) < 0)
		return -1;
	sqlite3_bind_text(s, 2, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, attempt);
	bind_opt_int(s, 4, pid);
	sqlite3_bind_int64(s, 5, started_ms);
	if (step_done(st, s, e) < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(st->db);
	if (*id <= HISTORY_KEEP || *id % 64 != 0)
		return 0;
	if (prepare_named(st, "DELETE FROM attempts WHERE name = ?1 AND id <= (SELECT id FROM attempts"
	                  " WHERE name = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)", name, &s, e) < 0)
		return -1;
	sqlite3_bind_int(s, 2, HISTORY_KEEP);
	return step_done(st, s, e);
}

int sk_state_attempt_end(sk_state *st, int64_t id, int64_t ended_ms, int exit_code,
                         int signal, const char *error, const char *stderr_tail, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(st->db, "UPDATE attempts SET ended_ms = ?2, exit_code = ?3, signal = ?4,"
	                        " error = ?5, stderr_tail = ?6 WHERE id = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, ended_ms);
	bind_opt_int(s, 3, exit_code);
	bind_opt_int(s, 4, signal);
	if (error)
		sqlite3_bind_text(s, 5, error, -1, SQLITE_STATIC);
	if (stderr_tail)
		sqlite3_bind_text(s, 6, stderr_tail, -1, SQLITE_STATIC);
	return step_done(st, s, e);
}

#define ATTEMPT_COLUMNS "id, run_id, attempt, pid, started_ms, ended_ms, exit_code, signal," \
                        " error, stderr_tail"

static void attempt_from_row(sqlite3_stmt *s, sk_attempt *a)
{
	a->id = sqlite3_column_int64(s, 0);
	a->run_id = column_opt_text(s, 1);
	a->attempt = column_opt_int(s, 2);
	a->pid = column_opt_int(s, 3);
	a->started_ms = sqlite3_column_int64(s, 4);
	a->ended_ms = sqlite3_column_int64(s, 5);
	a->exit_code = column_opt_int(s, 6);
	a->signal = column_opt_int(s, 7);
	a->error = column_opt_text(s, 8);
	a->stderr_tail = column_opt_text(s, 9);
}

int sk_state_each_attempt(sk_state *st, const char *name, int limit, sk_attempt_cb cb,
                          void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	sk_attempt a;
	int rc, stop = 0;

	if (st->version < RUN_SCHEMA)       /* read as it is: from before stream-run */
		return 0;
	if (prepare_named(st, "SELECT " ATTEMPT_COLUMNS " FROM attempts WHERE name = ?1"
	                  " ORDER BY id DESC LIMIT ?2", name, &s, e) < 0)
		return -1;
	sqlite3_bind_int(s, 2, limit > 0 ? limit : -1);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		attempt_from_row(s, &a);
		stop = cb(arg, &a);
	}
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

/* r->last_error from the newest failed attempt of name, then cb. */
static int run_with_last_error(sk_state *st, const char *name, sk_run_info *r, sk_run_cb cb,
                               void *arg, int *cb_rc, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare_named(st, "SELECT " ATTEMPT_COLUMNS " FROM attempts WHERE name = ?1"
	                  " AND error IS NOT NULL ORDER BY id DESC LIMIT 1", name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		attempt_from_row(s, &r->last_error);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		*cb_rc = cb(arg, r);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 1 : db_err(st, rc, e, NULL);
}

int sk_state_get_run(sk_state *st, const char *name, sk_run_cb cb, void *arg, int *cb_rc,
                     sk_err *e)
{
	sk_run_info r = { .s = { .name = name } };
	sqlite3_stmt *s;
	int rc, found = 0;

	if (st->version < RUN_SCHEMA)       /* read as it is: no supervisor then */
		return 0;
	if (prepare_named(st, "SELECT desired, state, run_id, supervisor_pid, supervisor_start, pid,"
	                  " attempt, last_status, message, started_ms, updated_ms,"
	                  " (SELECT count(*) FROM attempts a WHERE a.name = ?1 AND a.run_id = v.run_id"
	                  "  AND a.error IS NOT NULL),"
	                  " (SELECT count(*) FROM attempts a WHERE a.name = ?1),"
	                  " (SELECT read_ms FROM reads WHERE name = ?1),"
	                  " (SELECT at_ms FROM checkpoints WHERE name = ?1 ORDER BY id DESC LIMIT 1)"
	                  " FROM supervisors v WHERE name = ?1", name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.s.desired = column_opt_text(s, 0);
		r.s.state = column_opt_text(s, 1);
		r.s.run_id = column_opt_text(s, 2);
		r.s.supervisor_pid = sqlite3_column_int64(s, 3);
		r.s.supervisor_start = column_opt_int(s, 4);
		r.s.pid = column_opt_int(s, 5);
		r.s.attempt = sqlite3_column_int64(s, 6);
		r.s.last_status = column_opt_int(s, 7);
		r.s.message = column_opt_text(s, 8);
		r.s.started_ms = sqlite3_column_int64(s, 9);
		r.updated_ms = sqlite3_column_int64(s, 10);
		r.failures = sqlite3_column_int64(s, 11);
		r.recorded = sqlite3_column_int64(s, 12);
		r.read_ms = sqlite3_column_int64(s, 13);
		r.checkpoint_ms = sqlite3_column_int64(s, 14);
		found = run_with_last_error(st, name, &r, cb, arg, cb_rc, e);
	}
	sqlite3_finalize(s);
	if (found < 0)
		return -1;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, rc, e, NULL);
	return found;
}

int sk_state_note_read(sk_state *st, const char *name, sk_read_note *n, int final, sk_err *e)
{
	sqlite3_stmt *s = stmt(st, ST_DATA_VERSION, e);
	int64_t version = n->version, at;
	int rc, full;

	if (s == NULL)
		return -1;
	if (final) {
		if (n->held_ms == 0)
			return 0;
		at = n->held_ms;
	} else {
		/* The version first: a commit after it changes the next one. */
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW)
			version = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (rc != SQLITE_ROW)
			return db_err(st, rc, e, NULL);
		at = sk_wall_ms();
		if (n->recorded_ms && version == n->version && at >= n->recorded_ms &&
		    at - n->recorded_ms < 1000) {
			n->held_ms = at;
			return 0;
		}
	}
	/* A record per checkpoint of the pipeline, at worst: without an fsync
	 * each (a lost one is only a later stall). */
	if ((s = stmt(st, ST_NOTE_READ, e)) == NULL)
		return -1;
	full = sqlite3_get_autocommit(st->db);
	if (full && exec(st, "PRAGMA synchronous = NORMAL", e) < 0)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, at);
	sqlite3_bind_int64(s, 3, sk_wall_ms());
	rc = run(st, s, e);
	if (full && exec(st, "PRAGMA synchronous = FULL", rc < 0 ? NULL : e) < 0 && rc == 0)
		rc = -1;
	if (rc < 0)
		return -1;
	n->recorded_ms = at;
	n->version = version;
	n->held_ms = 0;
	return 0;
}

int sk_state_read_progress(sk_state *st, const char *name, int64_t *read_ms,
                           int64_t *checkpoint_ms, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare_named(st, "SELECT (SELECT read_ms FROM reads WHERE name = ?1),"
	                  " (SELECT at_ms FROM checkpoints WHERE name = ?1 ORDER BY id DESC LIMIT 1)",
	                  name, &s, e) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*read_ms = sqlite3_column_int64(s, 0);
		*checkpoint_ms = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : db_err(st, rc, e, NULL);
}

int sk_state_each_name(sk_state *st, sk_name_cb cb, void *arg, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, stop = 0;

	rc = sqlite3_prepare_v2(st->db,
	                        "SELECT n.name,"
	                        " (SELECT count(*) FROM positions p WHERE p.name = n.name),"
	                        " (SELECT max(at_ms) FROM checkpoints c WHERE c.name = n.name)"
	                        " FROM (SELECT name FROM positions UNION SELECT name FROM checkpoints) n"
	                        " ORDER BY n.name", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW)
		stop = cb(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1),
		          sqlite3_column_int64(s, 2));
	sqlite3_finalize(s);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

int sk_state_reset_name(sk_state *st, const char *name, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (sk_state_begin(st, e) < 0)
		return -1;
	if (sk_state_delete_positions(st, name, NULL, NULL, e) < 0)
		goto fail;
	rc = sqlite3_prepare_v2(st->db, "DELETE FROM checkpoints WHERE name = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		db_err(st, rc, e, NULL);
		goto fail;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		db_err(st, rc, e, NULL);
		goto fail;
	}
	return sk_state_commit(st, e);
fail:
	sk_state_rollback(st);
	return -1;
}

/* The settings key of (name, source): a JSON array of the two, so that no
 * two pairs share a key whatever characters they hold. */
static char *endpoint_key(const char *name, const char *source)
{
	sk_buf b = { 0 };

	if (sk_buf_adds(&b, "endpoint [") < 0 || sk_json_add_string(&b, name, strlen(name)) < 0 ||
	    sk_buf_addc(&b, ',') < 0 || sk_json_add_string(&b, source, strlen(source)) < 0 ||
	    sk_buf_addc(&b, ']') < 0) {
		sk_buf_free(&b);
		return NULL;
	}
	return b.p;
}

/* The value of a settings key: 1 and *value (malloc'd), 0 none, -1 error.
 * key is freed, whatever happens (NULL: out of memory). */
static int get_setting(sk_state *st, char *key, char **value, sk_err *e)
{
	sqlite3_stmt *s;
	int rc, found = 0;

	*value = NULL;
	if (key == NULL)
		return sk_err_oom(e);
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM settings WHERE key = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		free(key);
		return db_err(st, rc, e, NULL);
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		found = 1;
		if ((*value = strdup((const char *)sqlite3_column_text(s, 0))) == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(s);
	free(key);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, rc, e, NULL);
	return found;
}

/* Set a settings key (freed, as by get_setting) to value. */
static int put_setting(sk_state *st, char *key, const char *value, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (key == NULL)
		return sk_err_oom(e);
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO settings(key, value) VALUES (?1, ?2)"
	                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		free(key);
		return db_err(st, rc, e, NULL);
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	free(key);
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

int sk_state_get_endpoint(sk_state *st, const char *name, const char *source,
                          char **endpoint, sk_err *e)
{
	return get_setting(st, endpoint_key(name, source), endpoint, e);
}

int sk_state_set_endpoint(sk_state *st, const char *name, const char *source,
                          const char *endpoint, sk_err *e)
{
	char *old = NULL;
	int rc;

	/* Readers start often and their endpoint rarely changes: no write then. */
	if ((rc = sk_state_get_endpoint(st, name, source, &old, e)) < 0)
		return -1;
	if (rc == 1 && strcmp(old, endpoint) == 0) {
		free(old);
		return 0;
	}
	free(old);
	return put_setting(st, endpoint_key(name, source), endpoint, e);
}

int sk_state_each_endpoint(sk_state *st, const char *name, sk_endpoint_cb cb, void *arg,
                           sk_err *e)
{
	char *key = endpoint_key(name, "");
	size_t prefix;
	sqlite3_stmt *s;
	sk_json *jp = sk_json_new();
	json_object *src;
	sk_err ignored;
	int rc, stop = 0;

	if (key == NULL || jp == NULL) {
		free(key);
		sk_json_free(jp);
		return sk_err_oom(e);
	}
	/* The keys of name: 'endpoint ["NAME",' and the source as a JSON string. */
	prefix = strlen(key) - 3;
	key[prefix] = '\0';
	/* Every such key goes on with '"': they sort between prefix and prefix + '#'. */
	rc = sqlite3_prepare_v2(st->db, "SELECT key, value FROM settings WHERE key > ?1 AND key < ?1 || '#'"
	                        " ORDER BY key", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
			const char *k = (const char *)sqlite3_column_text(s, 0);
			size_t n = (size_t)sqlite3_column_bytes(s, 0);

			if (n < prefix + 3 || k[n - 1] != ']' ||
			    (src = sk_json_parse(jp, k + prefix, n - prefix - 1, &ignored)) == NULL)
				continue;
			if (json_object_is_type(src, json_type_string))
				stop = cb(arg, json_object_get_string(src), (const char *)sqlite3_column_text(s, 1));
			json_object_put(src);
		}
		sqlite3_finalize(s);
	}
	free(key);
	sk_json_free(jp);
	if (stop)
		return stop;
	return rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

/* --- notes: what a source remembers between runs besides positions --- */

/* The settings key of (name, source, what): a JSON array of the three, as
 * for endpoints, so that no two triples share a key. */
static char *note_key(const char *name, const char *source, const char *what)
{
	sk_buf b = { 0 };

	if (sk_buf_adds(&b, "note [") < 0 || sk_json_add_string(&b, name, strlen(name)) < 0 ||
	    sk_buf_addc(&b, ',') < 0 || sk_json_add_string(&b, source, strlen(source)) < 0 ||
	    sk_buf_addc(&b, ',') < 0 || sk_json_add_string(&b, what, strlen(what)) < 0 ||
	    sk_buf_addc(&b, ']') < 0) {
		sk_buf_free(&b);
		return NULL;
	}
	return b.p;
}

int sk_state_get_note(sk_state *st, const char *name, const char *source, const char *what,
                      char **value, sk_err *e)
{
	return get_setting(st, note_key(name, source, what), value, e);
}

int sk_state_set_note(sk_state *st, const char *name, const char *source, const char *what,
                      const char *value, sk_err *e)
{
	return put_setting(st, note_key(name, source, what), value, e);
}
