/* state_settings.c - the settings table: the endpoint each source of a
 * name was read from, and the notes a source module keeps between runs. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "state_impl.h"
#include "util.h"

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
	if (sk_state_prepare(st, "SELECT value FROM settings WHERE key = ?1", key, &s, e) < 0) {
		free(key);
		return -1;
	}
	if ((rc = sqlite3_step(s)) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
		found = 1;
		if ((*value = strdup((const char *)sqlite3_column_text(s, 0))) == NULL)
			rc = SQLITE_NOMEM;
	}
	sqlite3_finalize(s);
	free(key);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sk_state_db_err(st, rc, e, NULL);
	return found;
}

/* Set a settings key (freed, as by get_setting) to value. */
static int put_setting(sk_state *st, char *key, const char *value, sk_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if (key == NULL)
		return sk_err_oom(e);
	if (sk_state_prepare(st, "INSERT INTO settings(key, value) VALUES (?1, ?2)"
	                     " ON CONFLICT (key) DO UPDATE SET value = excluded.value", key, &s, e) < 0) {
		free(key);
		return -1;
	}
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	rc = sk_state_step_done(st, s, e);
	free(key);
	return rc;
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
	return rc == SQLITE_DONE ? 0 : sk_state_db_err(st, rc, e, NULL);
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
