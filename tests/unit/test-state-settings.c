/* test-state-settings.c - the settings table (lib/state_settings.c): the
 * endpoint each source of a name was read from, and the notes a source
 * keeps between runs, under keys that no two (name, source) pairs share. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state_fixture.h"

/* The endpoint recorded for (name, source), as got() says. */
static const char *endpoint(sk_state *st, const char *name, const char *source)
{
	sk_err e = { 0 };
	char *ep = NULL;
	int rc = sk_state_get_endpoint(st, name, source, &ep, &e);

	return got(rc, ep, &e);
}

/* The note (name, source, what), as got() says. */
static const char *note(sk_state *st, const char *name, const char *source, const char *what)
{
	sk_err e = { 0 };
	char *v = NULL;
	int rc = sk_state_get_note(st, name, source, what, &v, &e);

	return got(rc, v, &e);
}

static void test_endpoints(void)
{
	char *path = path_in("endpoints.db");
	sk_state *st = open_ok(path);
	sk_err e = { 0 };
	char *ep = (char *)"untouched";
	int changes;

	if (!ok(st != NULL, "open a store for endpoints"))
		goto out;
	is_int(sk_state_get_endpoint(st, "r", "file:/a", &ep, &e), 0, "no endpoint recorded: get returns 0");
	ok(ep == NULL, "and *endpoint is NULL");
	is_int(sk_state_set_endpoint(st, "r", "file:/a", "/a", &e), 0, "record an endpoint");
	is_str(endpoint(st, "r", "file:/a"), "/a", "get returns it");
	changes = sqlite3_total_changes(sk_state_db(st));
	is_int(sk_state_set_endpoint(st, "r", "file:/a", "/a", &e), 0, "record the same again");
	is_int(sqlite3_total_changes(sk_state_db(st)), changes, "without writing anything");
	is_int(sk_state_set_endpoint(st, "r", "file:/a", "logs", &e), 0, "record another");
	is_str(endpoint(st, "r", "file:/a"), "logs", "it replaces the first");
	ok(sqlite3_total_changes(sk_state_db(st)) > changes, "written this time");

	sk_state_set_endpoint(st, "r:file", "/a", "one", &e);
	sk_state_set_endpoint(st, "r\",\"x", "y", "two", &e);
	sk_state_set_endpoint(st, "r", "x\",\"y", "three", &e);
	is_str(endpoint(st, "r:file", "/a"), "one", "a name and source that join to the same text are apart");
	is_str(endpoint(st, "r", "file:/a"), "logs", "from the first pair");
	is_str(endpoint(st, "r\",\"x", "y"), "two", "quotes and commas in a name are kept apart");
	is_str(endpoint(st, "r", "x\",\"y"), "three", "and in a source");
	is_str(endpoint(st, "s", "file:/a"), "(none)", "another name has none");
	sk_state_close(st);
out:
	free(path);
}

struct listed {
	int n;
	char text[512];
};

static int collect_endpoint(void *arg, const char *source, const char *ep)
{
	struct listed *l = arg;
	size_t len = strlen(l->text);

	snprintf(l->text + len, sizeof l->text - len, "%s%s=%s", l->n++ ? " " : "", source, ep);
	return 0;
}

static int stop_at_first(void *arg, const char *source, const char *ep)
{
	((struct listed *)arg)->n++;
	return 5;
}

static void test_each_endpoint(void)
{
	char *path = path_in("each-endpoint.db");
	sk_state *st = open_ok(path);
	struct listed l = { 0 };
	sk_err e = { 0 };

	if (!ok(st != NULL, "open a store for each_endpoint"))
		goto out;
	is_int(sk_state_each_endpoint(st, "r", collect_endpoint, &l, &e), 0, "a name with no endpoint");
	is_int(l.n, 0, "lists nothing");
	sk_state_set_endpoint(st, "r", "kafka:t", "kafka://h:9092/t", &e);
	sk_state_set_endpoint(st, "r", "file:/a", "/a", &e);
	sk_state_set_endpoint(st, "r", "file:/q\"uote", "q", &e);
	sk_state_set_endpoint(st, "rr", "file:/b", "/b", &e);
	sk_state_set_endpoint(st, "r\"", "file:/c", "/c", &e);
	sk_state_set_endpoint(st, "", "file:/d", "/d", &e);
	sk_state_set_note(st, "r", "file:/e", "sizes", "1", &e);
	is_int(sk_state_each_endpoint(st, "r", collect_endpoint, &l, &e), 0, "each_endpoint");
	is_str(l.text, "file:/a=/a file:/q\"uote=q kafka:t=kafka://h:9092/t",
	       "the name's endpoints by source, none of a name it is the start of, nor notes");
	memset(&l, 0, sizeof l);
	sk_state_each_endpoint(st, "r\"", collect_endpoint, &l, &e);
	is_str(l.text, "file:/c=/c", "a name with a quote has its own");
	memset(&l, 0, sizeof l);
	sk_state_each_endpoint(st, "", collect_endpoint, &l, &e);
	is_str(l.text, "file:/d=/d", "and so has the empty name");
	memset(&l, 0, sizeof l);
	is_int(sk_state_each_endpoint(st, "r", stop_at_first, &l, &e), 5,
	       "a non-zero return of the callback stops the walk and is returned");
	is_int(l.n, 1, "after one call");
	sk_state_close(st);
out:
	free(path);
}

static void test_notes(void)
{
	char *path = path_in("notes.db");
	sk_state *st = open_ok(path), *ro = NULL;
	sk_err e = { 0 };
	char *v = (char *)"untouched";

	if (!ok(st != NULL, "open a store for notes"))
		goto out;
	is_int(sk_state_get_note(st, "r", "file:/a", "sizes", &v, &e), 0, "no note: get returns 0");
	ok(v == NULL, "and *value is NULL");
	is_int(sk_state_set_note(st, "r", "file:/a", "sizes", "10 20", &e), 0, "keep a note");
	is_str(note(st, "r", "file:/a", "sizes"), "10 20", "get returns it");
	is_int(sk_state_set_note(st, "r", "file:/a", "sizes", "30", &e), 0, "keep another under the label");
	is_str(note(st, "r", "file:/a", "sizes"), "30", "it replaces the first");
	sk_state_set_note(st, "r", "file:/a", "other", "x", &e);
	sk_state_set_endpoint(st, "r", "file:/a", "/a", &e);
	is_str(note(st, "r", "file:/a", "other"), "x", "labels are apart");
	is_str(note(st, "r", "file:/a", "sizes"), "30", "from each other");
	is_str(endpoint(st, "r", "file:/a"), "/a", "and from the endpoint of the same name and source");
	is_str(note(st, "r", "file:/b", "sizes"), "(none)", "another source has none");
	sk_state_set_note(st, "r\",\"file:/a", "sizes", "", "q", &e);
	is_str(note(st, "r", "file:/a", "sizes"), "30", "a triple that joins to the same text is apart");
	is_str(note(st, "r\",\"file:/a", "sizes", ""), "q", "and kept");
	sk_state_close(st);
	st = NULL;
	is_int(sk_state_open_readonly(path, &ro, &e), 0, "a reader opens the store");
	is_str(ro ? note(ro, "r", "file:/a", "sizes") : NULL, "30", "and reads the notes");
	is_str(ro ? endpoint(ro, "r", "file:/a") : NULL, "/a", "and the endpoints");
	sk_state_close(ro);
out:
	sk_state_close(st);
	free(path);
}

int main(void)
{
	if (fixture_begin() < 0)
		return 1;
	test_endpoints();
	test_each_endpoint();
	test_notes();
	return fixture_end();
}
