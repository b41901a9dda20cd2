/* test-state-parts.c - dataset parts staged with a checkpoint
 * (lib/state_parts.c). */
#include <stdint.h>
#include <string.h>

#include "state_fixture.h"

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

int main(void)
{
	if (fixture_begin() < 0)
		return 1;
	test_staged_parts();
	return fixture_end();
}
