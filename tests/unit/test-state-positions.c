/* test-state-positions.c - positions and the checkpoint history
 * (lib/state_positions.c): set, get, delete and list positions, cursors
 * committed with their record, the bounded history, names and resets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "state_fixture.h"

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

int main(void)
{
	if (fixture_begin() < 0)
		return 1;
	test_positions();
	test_each_position();
	test_cursors();
	test_history_bounded();
	test_each_name();
	return fixture_end();
}
