/* sqs-api-run - lib/sqs_api.c driven from the command line, for
 * tests/sqs-api.bats: every request of a command runs at once on one curl
 * multi handle. Input and output are JSON lines shaped as
 * tests/helpers/sqs-client.js's, so the two clients compare with jq.
 *
 *   sqs-api-run [--batch N] send URL           stdin: {"body", "attributes":
 *       {NAME:{"type","value"}} (Binary in base64), "group_id",
 *       "deduplication_id", "delay"}; N entries a SendMessageBatch (10).
 *       Out: {"id","message_id","md5"} or {"id","failed","kind"} each
 *   sqs-api-run [--wait S] [--visibility V] [--deadline S] receive URL COUNT
 *       receives until COUNT messages came or the deadline passed (10 s);
 *       out: {"id","body","md5","receipt_handle","attributes",
 *       "message_attributes"} each
 *   sqs-api-run change-visibility URL SECONDS  stdin: receipt handles
 *   sqs-api-run delete URL                     stdin: receipt handles
 *       out: {"id":"N","ok":true} or {"id","failed","kind"} each
 *   sqs-api-run attributes URL                 the queue's attributes
 *
 * A call that fails prints {"error","kind","code","status"} and exits with
 * its sysexits code. Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sqs_api.h"

static const char *const kinds[] = { "ok", "retry", "over_limit", "no_queue", "auth", "bad_receipt", "refused" };

static sk_sqs_queue queue;
static sk_sqs_creds creds;
static sk_buf out;

static void flush_out(void)
{
	if (fwrite(out.p ? out.p : "", 1, out.len, stdout) != out.len || fflush(stdout) != 0)
		exit(74);
	sk_buf_reset(&out);
}

static void die(const sk_err *e)
{
	fprintf(stderr, "sqs-api-run: %s\n", e->msg);
	exit(e->code ? e->code : 70);
}

static void fail_call(const sk_sqs_error *er)
{
	sk_buf_adds(&out, "{\"error\":");
	sk_json_add_string(&out, er->err.msg, strlen(er->err.msg));
	sk_buf_printf(&out, ",\"kind\":\"%s\",\"code\":", kinds[er->kind]);
	sk_json_add_string(&out, er->code, strlen(er->code));
	sk_buf_printf(&out, ",\"status\":%ld}\n", er->status);
	flush_out();
	exit(er->err.code);
}

/* Run n prepared calls at once to their ends; their results in res. */
static void run(sk_sqs_call **calls, size_t n, sk_sqs_result *res)
{
	CURLM *m = curl_multi_init();
	CURLMsg *msg;
	int running = 1, left;
	size_t i;

	if (m == NULL)
		exit(71);
	for (i = 0; i < n; i++)
		if (curl_multi_add_handle(m, calls[i]->easy) != CURLM_OK)
			exit(71);
	for (;;) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			exit(71);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			sk_sqs_call *c;
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			for (i = 0; calls[i] != c; i++)
				;
			sk_sqs_call_result(c, msg->data.result, &res[i]);
			curl_multi_remove_handle(m, c->easy);
		}
		if (running == 0)
			break;
		if (curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			exit(71);
	}
	curl_multi_cleanup(m);
}

static sk_sqs_call *new_call(void)
{
	sk_err e;
	sk_sqs_call *c = sk_sqs_call_new(&queue, &e);

	if (c == NULL)
		die(&e);
	return c;
}

/* The lines of stdin, without their newlines. */
static char **read_lines(size_t *count)
{
	char **v = NULL, *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((v = realloc(v, (n + 1) * sizeof *v)) == NULL || (v[n++] = strdup(line)) == NULL)
			exit(71);
	}
	free(line);
	*count = n;
	return v;
}

static void free_lines(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

static void print_entries(const sk_sqs_result *r, int send)
{
	size_t i;

	for (i = 0; i < r->n_ok; i++) {
		sk_buf_printf(&out, "{\"id\":\"%s\"", r->ok[i].id);
		if (send)
			sk_buf_printf(&out, ",\"message_id\":\"%s\",\"md5\":\"%s\"}\n", r->ok[i].message_id,
			              r->ok[i].md5_of_body ? r->ok[i].md5_of_body : "");
		else
			sk_buf_adds(&out, ",\"ok\":true}\n");
	}
	for (i = 0; i < r->n_failed; i++)
		sk_buf_printf(&out, "{\"id\":\"%s\",\"failed\":\"%s\",\"kind\":\"%s\"}\n", r->failed[i].id,
		              r->failed[i].code ? r->failed[i].code : "", kinds[r->failed[i].kind]);
}

/* Finish calls: print each one's entries, or fail on the first error. */
static void finish_batches(sk_sqs_call **calls, size_t n, int send)
{
	sk_sqs_result *res = calloc(n, sizeof *res);
	size_t i;

	if (res == NULL)
		exit(71);
	run(calls, n, res);
	for (i = 0; i < n; i++)
		if (res[i].error.kind != SK_SQS_OK)
			fail_call(&res[i].error);
	for (i = 0; i < n; i++) {
		print_entries(&res[i], send);
		sk_sqs_result_free(&res[i]);
		sk_sqs_call_free(calls[i]);
	}
	flush_out();
	free(res);
	free(calls);
}

/* One line of send's input as an entry; Binary values decoded into bins. */
static void send_entry(json_object *o, sk_sqs_send_entry *s, sk_buf *bins)
{
	json_object *v, *attrs;
	sk_sqs_attr_in *a;
	size_t k = 0;

	if (!json_object_object_get_ex(o, "body", &v))
		exit(65);
	s->body = json_object_get_string(v);
	s->body_len = (size_t)json_object_get_string_len(v);
	s->delay_seconds = json_object_object_get_ex(o, "delay", &v) ? json_object_get_int(v) : -1;
	s->group_id = json_object_object_get_ex(o, "group_id", &v) ? json_object_get_string(v) : NULL;
	s->deduplication_id = json_object_object_get_ex(o, "deduplication_id", &v) ? json_object_get_string(v) : NULL;
	if (!json_object_object_get_ex(o, "attributes", &attrs) || json_object_object_length(attrs) == 0)
		return;
	if (json_object_object_length(attrs) > 16 ||
	    (a = calloc((size_t)json_object_object_length(attrs), sizeof *a)) == NULL)
		exit(65);
	json_object_object_foreach(attrs, name, val) {
		json_object *type, *value;
		if (!json_object_object_get_ex(val, "type", &type) || !json_object_object_get_ex(val, "value", &value))
			exit(65);
		a[k].name = name;
		a[k].type = json_object_get_string(type);
		a[k].value = json_object_get_string(value);
		a[k].value_len = (size_t)json_object_get_string_len(value);
		if (strncmp(a[k].type, "Binary", 6) == 0) {
			if (sk_base64_decode(a[k].value, a[k].value_len, &bins[k]) < 0)
				exit(65);
			a[k].value = bins[k].p ? bins[k].p : "";
			a[k].value_len = bins[k].len;
		}
		k++;
	}
	s->attrs = a;
	s->n_attrs = k;
}

static void cmd_send(size_t batch)
{
	size_t n, i, j, ncalls;
	char **lines = read_lines(&n), (*ids)[24];
	sk_sqs_send_entry *v = calloc(n ? n : 1, sizeof *v);
	sk_buf (*bins)[16] = calloc(n ? n : 1, sizeof *bins);
	json_object **rows = calloc(n ? n : 1, sizeof *rows);
	sk_sqs_call **calls;
	sk_json *p = sk_json_new();
	sk_err e;

	ncalls = (n + batch - 1) / batch;
	ids = calloc(n ? n : 1, sizeof *ids);
	calls = calloc(ncalls ? ncalls : 1, sizeof *calls);
	if (v == NULL || bins == NULL || ids == NULL || calls == NULL || p == NULL || rows == NULL)
		exit(71);
	for (i = 0; i < n; i++) {
		if ((rows[i] = sk_json_parse(p, lines[i], strlen(lines[i]), &e)) == NULL)
			die(&e);
		snprintf(ids[i], sizeof ids[i], "%zu", i);
		v[i].id = ids[i];
		send_entry(rows[i], &v[i], bins[i]);     /* v points into rows[i] */
	}
	for (i = j = 0; i < n; i += batch, j++) {
		calls[j] = new_call();
		if (sk_sqs_call_send_batch(calls[j], &v[i], n - i < batch ? n - i : batch, &e) < 0 ||
		    sk_sqs_call_prepare(calls[j], &creds, &e) < 0)
			die(&e);
	}
	finish_batches(calls, ncalls, 1);
	for (i = 0; i < n; i++) {
		for (j = 0; j < 16; j++)
			sk_buf_free(&bins[i][j]);
		free((void *)v[i].attrs);
		json_object_put(rows[i]);
	}
	free(rows);
	free(bins);
	free(v);
	free(ids);
	sk_json_free(p);
	free_lines(lines, n);
}

/* change-visibility (visibility >= 0) or delete: stdin's handles, ten a
 * call, all calls at once. */
static void cmd_handles(int visibility)
{
	size_t n, i, j, ncalls;
	char **lines = read_lines(&n), (*ids)[24];
	sk_sqs_handle *v = calloc(n ? n : 1, sizeof *v);
	sk_sqs_call **calls;
	sk_err e;

	ncalls = (n + SK_SQS_BATCH_MAX - 1) / SK_SQS_BATCH_MAX;
	ids = calloc(n ? n : 1, sizeof *ids);
	calls = calloc(ncalls ? ncalls : 1, sizeof *calls);
	if (v == NULL || ids == NULL || calls == NULL)
		exit(71);
	for (i = 0; i < n; i++) {
		snprintf(ids[i], sizeof ids[i], "%zu", i);
		v[i] = (sk_sqs_handle){ ids[i], lines[i], visibility };
	}
	for (i = j = 0; i < n; i += SK_SQS_BATCH_MAX, j++) {
		size_t k = n - i < SK_SQS_BATCH_MAX ? n - i : SK_SQS_BATCH_MAX;
		calls[j] = new_call();
		if ((visibility >= 0 ? sk_sqs_call_change_visibility_batch(calls[j], &v[i], k, &e)
		                     : sk_sqs_call_delete_batch(calls[j], &v[i], k, &e)) < 0 ||
		    sk_sqs_call_prepare(calls[j], &creds, &e) < 0)
			die(&e);
	}
	finish_batches(calls, ncalls, 0);
	free(v);
	free(ids);
	free_lines(lines, n);
}

static void print_message(const sk_sqs_message *m)
{
	size_t i;

	sk_buf_adds(&out, "{\"id\":");
	sk_json_add_string(&out, m->id, strlen(m->id));
	sk_buf_adds(&out, ",\"body\":");
	sk_json_add_string(&out, m->body, m->body_len);
	sk_buf_adds(&out, ",\"md5\":");
	sk_json_add_string(&out, m->md5_of_body ? m->md5_of_body : "", m->md5_of_body ? strlen(m->md5_of_body) : 0);
	sk_buf_adds(&out, ",\"receipt_handle\":");
	sk_json_add_string(&out, m->receipt_handle, strlen(m->receipt_handle));
	sk_buf_adds(&out, ",\"attributes\":");
	if (m->attributes)
		sk_json_add_object(&out, m->attributes);
	else
		sk_buf_adds(&out, "{}");
	sk_buf_adds(&out, ",\"message_attributes\":{");
	for (i = 0; i < m->n_attrs; i++) {
		sk_buf_adds(&out, i ? "," : "");
		sk_json_add_string(&out, m->attrs[i].name, strlen(m->attrs[i].name));
		sk_buf_adds(&out, ":{\"type\":");
		sk_json_add_string(&out, m->attrs[i].type, strlen(m->attrs[i].type));
		sk_buf_adds(&out, ",\"value\":");
		sk_json_add_string(&out, m->attrs[i].value, m->attrs[i].value_len);
		sk_buf_adds(&out, "}");
	}
	sk_buf_adds(&out, "}}\n");
}

static void cmd_receive(size_t count, int wait, int visibility, long deadline_s)
{
	sk_sqs_receive_req req = { .max_messages = SK_SQS_RECEIVE_MAX, .wait_seconds = wait,
	                           .visibility_timeout = visibility };
	int64_t deadline = sk_now_ms() + deadline_s * 1000;
	sk_sqs_call *c = new_call();
	size_t got = 0, i;
	sk_sqs_result r;
	sk_err e;

	while (got < count && sk_now_ms() < deadline) {
		if (sk_sqs_call_receive(c, &req, &e) < 0 || sk_sqs_call_prepare(c, &creds, &e) < 0)
			die(&e);
		run(&c, 1, &r);
		if (r.error.kind != SK_SQS_OK)
			fail_call(&r.error);
		for (i = 0; i < r.n_messages; i++)
			print_message(&r.messages[i]);
		got += r.n_messages;
		sk_sqs_result_free(&r);
		flush_out();
	}
	sk_sqs_call_free(c);
	if (got < count) {
		fprintf(stderr, "sqs-api-run: %zu messages of %zu came before the deadline\n", got, count);
		exit(75);
	}
}

static void cmd_attributes(void)
{
	sk_sqs_call *c = new_call();
	sk_sqs_result r;
	sk_err e;

	if (sk_sqs_call_get_attributes(c, NULL, 0, &e) < 0 || sk_sqs_call_prepare(c, &creds, &e) < 0)
		die(&e);
	run(&c, 1, &r);
	if (r.error.kind != SK_SQS_OK)
		fail_call(&r.error);
	if (r.attributes)
		sk_json_add_object(&out, r.attributes);
	sk_buf_adds(&out, "\n");
	flush_out();
	sk_sqs_result_free(&r);
	sk_sqs_call_free(c);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "batch", required_argument, NULL, 'b' }, { "wait", required_argument, NULL, 'w' },
		{ "visibility", required_argument, NULL, 'v' }, { "deadline", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, wait = 0, visibility = -1;
	long deadline = 10;
	size_t batch = SK_SQS_BATCH_MAX;
	sk_err e;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		switch (opt) {
		case 'b': batch = (size_t)atoi(optarg); break;
		case 'w': wait = atoi(optarg); break;
		case 'v': visibility = atoi(optarg); break;
		case 'd': deadline = atol(optarg); break;
		default: return 64;
		}
	if (argc - optind < 2 || batch == 0) {
		fprintf(stderr, "usage: sqs-api-run [options] send|receive|change-visibility|delete|attributes URL ...\n");
		return 64;
	}
	creds = (sk_sqs_creds){ getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"),
	                        getenv("AWS_SESSION_TOKEN") };
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 71;
	if (sk_sqs_queue_init(&queue, argv[optind + 1], &e) < 0)
		die(&e);
	if (strcmp(argv[optind], "send") == 0)
		cmd_send(batch);
	else if (strcmp(argv[optind], "receive") == 0 && argc - optind == 3)
		cmd_receive((size_t)atol(argv[optind + 2]), wait, visibility, deadline);
	else if (strcmp(argv[optind], "change-visibility") == 0 && argc - optind == 3)
		cmd_handles(atoi(argv[optind + 2]));
	else if (strcmp(argv[optind], "delete") == 0)
		cmd_handles(-1);
	else if (strcmp(argv[optind], "attributes") == 0)
		cmd_attributes();
	else
		return 64;
	sk_sqs_queue_free(&queue);
	sk_buf_free(&out);
	curl_global_cleanup();
	return 0;
}
