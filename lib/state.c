/* state.c - the state store: positions, checkpoint history, staged dataset
 * parts and supervisor attempts, in one SQLite file shared by every process
 * of a pipeline. */
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
#define HISTORY_KEEP 1000     /* checkpoint records kept per name */

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
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

enum stmt_id {
	ST_GET_POS, ST_PUT_POS, ST_ADD_CHECKPOINT, ST_PRUNE_HISTORY, ST_STAGE, ST_UNSTAGE, ST_COUNT
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
};

struct sk_state {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[ST_COUNT];
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

static int int_query(sk_state *st, const char *sql, int *out, sk_err *e)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return db_err(st, rc, e, NULL);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(st, rc, e, NULL);
}

static int migrate(sk_state *st, sk_err *e)
{
	int version = 0;
	char sql[64];

	if (int_query(st, "PRAGMA user_version", &version, e) < 0)
		return -1;
	if (version == SCHEMA_VERSION)
		return 0;
	if (sk_state_begin(st, e) < 0)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if (int_query(st, "PRAGMA user_version", &version, e) < 0)
		goto fail;
	if (version > SCHEMA_VERSION) {
		sk_err_set(e, EX_CONFIG, "%s: state schema version %d is newer than this program knows (%d)",
		           st->path, version, SCHEMA_VERSION);
		goto fail;
	}
	for (; version < SCHEMA_VERSION; version++)
		if (exec(st, migrations[version], e) < 0)
			goto fail;
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (exec(st, sql, e) < 0)
		goto fail;
	return sk_state_commit(st, e);
fail:
	sk_state_rollback(st);
	return -1;
}

/* Create the file ourselves so that it is 0600 from its first byte; SQLite
 * gives its -wal and -shm files the same mode. */
static int create_private(const char *path, sk_err *e)
{
	char *dir = strdup(path), *slash;
	int fd;

	if (dir == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
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

int sk_state_open(const char *path, sk_state **out, sk_err *e)
{
	sk_state *st = calloc(1, sizeof *st);
	char mode[16] = "";
	int rc, i;

	if (st == NULL)
		return sk_err_set(e, EX_OSERR, "out of memory");
	st->path = path ? strdup(path) : sk_state_default_path();
	if (st->path == NULL) {
		free(st);
		return sk_err_set(e, EX_OSERR, "out of memory");
	}
	if (create_private(st->path, e) < 0)
		goto fail;
	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		db_err(st, rc, e, NULL);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 1);
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
	if (migrate(st, e) < 0)
		goto fail;
	for (i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
		if (rc != SQLITE_OK) {
			db_err(st, rc, e, NULL);
			goto fail;
		}
	}
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
	sqlite3_stmt *s = st->stmt[ST_GET_POS];
	int rc, found = 0;

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
	sqlite3_stmt *s = st->stmt[ST_PUT_POS];

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
		sk_err_set(c->e, EX_OSERR, "out of memory");
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
		return sk_err_set(e, EX_OSERR, "out of memory");
	if (cs && sk_cursorset_each(cs, put_one, &c) != 0) {
		sk_buf_free(&c.summary);
		return -1;
	}
	if (sk_buf_addc(&c.summary, ']') < 0) {
		sk_buf_free(&c.summary);
		return sk_err_set(e, EX_OSERR, "out of memory");
	}
	s = st->stmt[ST_ADD_CHECKPOINT];
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
		s = st->stmt[ST_PRUNE_HISTORY];
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
	sqlite3_stmt *s = st->stmt[ST_STAGE];

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
	sqlite3_stmt *s = st->stmt[ST_UNSTAGE];

	sqlite3_bind_int64(s, 1, id);
	return run(st, s, e);
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
