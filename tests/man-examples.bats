#!/usr/bin/env bats
# man-examples.bats - every example of every manual page, run: each test
# takes its example's text from the page itself (helpers/examples), puts the
# test's own broker and directory in place of the manual's hosts and paths,
# runs it, and checks that it does what the page says around it. The last
# test fails when a page has an example that no test runs.

bats_require_minimum_version 1.5.0

load helpers/common
load helpers/pipeline
load helpers/kafka
load helpers/examples
load helpers/sse
load helpers/sqs

setup_file() {
	kafka_start --topic events:4 --topic clicks:4 --topic wikipedia:2
	sqs_start
}

teardown_file() {
	kafka_stop
	sqs_stop
}

setup() {
	setup_scratch
	example_status=
}

teardown() {
	stop_everything
	sse_stop
}

# wiki_rows N [FIRST]: page edits shaped like the manual's: titles, users, a
# bot flag, languages, lengths, levels, statuses and times.
wiki_rows() {
	awk -v n="$1" -v first="${2:-1}" 'BEGIN {
		for (i = first; i < first + n; i++)
			printf "{\"id\":%d,\"title\":\"Page \\u00e9 %d\",\"user\":\"user%d\",\"bot\":%s,\"lang\":\"%s\",\"new_len\":%d,\"old_len\":%d,\"timestamp\":%d,\"level\":\"%s\",\"status\":%d}\n",
			       i, i, i % 7, (i % 4 == 0) ? "true" : "false", (i % 3 == 0) ? "de" : "en",
			       100 + i, 90 + i % 20, 1764000000 + i, (i % 5 == 0) ? "error" : "info",
			       (i % 6 == 0) ? 503 : 200
	}'
}

# jq_count FILE FILTER: how many lines of FILE (JSON) the filter selects.
jq_count() {
	jq -c "$2" "$1" | wc -l
}

rows_in() {
	dataset_rows "$1" | wc -l
}

rows_at_least() {
	[ "$(rows_in "$1")" -ge "$2" ]
}

# position_of NAME: the committed position of NAME's only partition.
position_of() {
	state_sql "SELECT position FROM positions WHERE name = '$1'"
}

offset_of() {
	local p
	p=$(position_of "$1")
	echo "${p%%@*}"
}

committed_to() {
	[ "$(offset_of "$1")" = "$2" ]
}

# has_read NAME: a reader of NAME has delivered messages (stream-run's
# stall watchdog records it).
has_read() {
	[ -n "$(state_sql "SELECT read_ms FROM reads WHERE name = '$1'" 2>/dev/null)" ]
}

topic_holds() {
	[ "$(kafka_count "$1")" -ge "$2" ]
}

# run_is NAME 'ATTEMPT STATE': what stream-run --status says of NAME.
run_is() {
	[ "$(stream-run --status "$1" --json 2>/dev/null | jq -r '"\(.attempt) \(.state)"')" = "$2" ]
}

# ---------------------------------------------------------------- stream-read(1)

@test "stream-read(1) example 1: replays the last 1000 messages of each partition and stops" {
	example_script stream-read.1 1 'from -1000' 's#/events$#/replay#'
	for p in 0 1 2 3; do
		seq 1 1500 | kafka_produce replay -p "$p"
	done
	run bash ex.sh
	assert_status 0
	assert_equal "$(wc -l <out.1)" 4000
	assert_equal "$(jq -s 'map(.offset) | min' out.1)" 500
	assert_equal "$(jq -r .value out.1 | sort -n | head -n 1)" 501
}

@test "stream-read(1) example 2: the hourly cron line copies what is new on each run" {
	example_script stream-read.1 2 'events-hourly' 's#^([^ ]+ ){5}##' 's#/events #/hourly #'
	mkdir -p etc/streamkit
	echo 'client.id=streamkit-examples' >etc/streamkit/kafka.properties
	wiki_rows 40 | kafka_produce hourly
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in data/events)" 40
	assert_equal "$(dataset_rows data/events | jq -s -c 'map(.value.id) | sort | .[0:2]')" '[1,2]'
	wiki_rows 10 41 | kafka_produce hourly
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in data/events)" 50
	assert_equal "$(dataset_rows data/events | jq -s 'map(.value.id) | unique | length')" 50
}

@test "stream-read(1) example 3: two hosts in one group share the partitions, each message once" {
	# The test broker delays each rebalance by session.timeout.ms.
	SESSION_BACKGROUND=1 example_script stream-read.1 3 'host2$' \
		's#--group clicks#--group clicks -X session.timeout.ms=6000#'
	start_pipeline 'bash ex.sh'
	seq 1 400 | kafka_produce clicks
	echo 400 >sent
	wait_for 60 both_hosts_hold
	stop_example stream-read
	local sent
	sent=$(cat sent)
	assert_equal "$( (dataset_rows data/clicks-host1; dataset_rows data/clicks-host2) | jq -r .value | sort -n | uniq | wc -l)" "$sent"
	assert_equal "$( (dataset_rows data/clicks-host1; dataset_rows data/clicks-host2) | wc -l)" "$sent"
}

# both_hosts_hold: every message produced (the number in the file sent)
# is in one host's dataset or the other's, and each host has some.
both_hosts_hold() {
	local sent one two
	sent=$(cat sent)
	one=$(rows_in data/clicks-host1)
	two=$(rows_in data/clicks-host2)
	[ $((one + two)) -ge "$sent" ] || return 1
	[ "$one" -gt 0 ] && [ "$two" -gt 0 ] && return 0
	# One host took everything before the other joined: more messages,
	# until both have had some.
	seq $((sent + 1)) $((sent + 40)) | kafka_produce clicks
	echo $((sent + 40)) >sent
	return 1
}

@test "stream-read(1) example 4: prints the lines of a file as the page shows" {
	example_script stream-read.1 4 "printf 'hello"
	run bash ex.sh
	assert_status 0
	same_output out.2 expected.2
}

@test "stream-read(1) example 5: copies the rows of a file into a dataset, and a rerun adds none" {
	example_script stream-read.1 5 "dataset:out"
	wiki_rows 100 >in.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows out | jq -s -c 'map(.id)')" "$(jq -s -c 'map(.id)' in.ndjson)"
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in out)" 100
}

@test "stream-read(1) example 6: keeps only the errors, embedded with --json" {
	example_script stream-read.1 6 'dataset:errors'
	wiki_rows 100 >in.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in errors)" "$(jq_count in.ndjson 'select(.level == "error")')"
	assert_equal "$(dataset_rows errors | jq -r .level | sort -u)" error
}

@test "stream-read(1) example 7: follows a log across rotation, committing what the script handled" {
	example_script stream-read.1 7 'notify.sh'
	mkdir -p var/log
	printf 'one\ntwo\n' >var/log/app.log
	cat >notify.sh <<-'EOF'
	#!/bin/sh
	while IFS= read -r envelope; do
		printf '%s\n' "$envelope" | jq -r .line >>notified.txt
		printf '%s\n' "$envelope"
	done
	EOF
	chmod +x notify.sh
	start_pipeline 'bash ex.sh'
	wait_for 20 committed_to alerts 8
	mv var/log/app.log var/log/app.log.1
	printf 'three\n' >>var/log/app.log.1
	printf 'four\n' >var/log/app.log
	wait_for 20 committed_to alerts 5
	stop_example stream-read
	assert_equal "$(cat notified.txt)" "$(printf 'one\ntwo\nthree\nfour')"
}

@test "stream-read(1) example 8: the hourly run leaves a line still being written for the next run" {
	example_script stream-read.1 8 'hourly'
	wiki_rows 3 >in.ndjson
	printf '{"id":4,"title":"half' >>in.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows out | jq -s -c 'map(.id)')" '[1,2,3]'
	printf ' written"}\n' >>in.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows out | jq -s -c 'map(.id)')" '[1,2,3,4]'
	assert_equal "$(dataset_rows out | jq -r 'select(.id == 4) | .title')" 'half written'
}

@test "stream-read(1) example 9: keeps the edits of people with --filter" {
	example_script stream-read.1 9 'select(.line.bot|not)'
	wiki_rows 100 >wiki.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows out | jq -c .)" "$(jq -c 'select(.bot|not) | {title,user}' wiki.ndjson)"
}

@test "stream-read(1) example 10: takes the language as an argument" {
	example_script stream-read.1 10 'arg lang en'
	wiki_rows 30 | jq -c tostring | jq -r . >wiki.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in en)" "$(jq_count wiki.ndjson 'select(.lang == "en")')"
	assert_equal "$(dataset_rows en | jq -r .lang | sort -u)" en
}

@test "stream-read(1) example 11: looks at the next ten lines without moving a position" {
	example_script stream-read.1 11 'count 10'
	wiki_rows 30 >in.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(jq -c . out.1)" "$(head -n 10 in.ndjson | jq -c .)"
	assert_equal "$(state_sql 'SELECT count(*) FROM positions' 2>/dev/null || echo 0)" 0
}

# wiki_events N [FIRST]: wiki_rows as the events of an SSE server (--events),
# each with its id.
wiki_events() {
	wiki_rows "$@" | jq -c '{id: (.id | tostring), data: tostring}'
}

@test "stream-read(1) example 12: keeps the edits of people from a stream, and resumes" {
	wiki_events 40 >ev.ndjson
	sse_start --events ev.ndjson --connections all-close --log log
	# -e: this run stops when the server closes the stream
	example_script stream-read.1 12 'recentchange' "s#sse\\+https://stream.wikimedia.org#sse+$SSE_URL#" \
		's#stream-read --name rc#stream-read --name rc -e#'
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows data/recentchange | jq -c .)" "$(jq -c 'select(.bot|not)' <(wiki_rows 40))"
	wiki_events 10 41 >>ev.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows data/recentchange | jq -c .)" "$(jq -c 'select(.bot|not)' <(wiki_rows 50))"
	# 40 is a bot's edit: dropped, so the last cursor committed is 39's
	grep -q '^Last-Event-ID: 39' log
}

@test "stream-read(1) example 13: sends the headers of a file, prints three titles" {
	wiki_events 10 >ev.ndjson
	sse_start --events ev.ndjson --connections all --log log
	mkdir -p etc/streamkit
	printf 'Authorization: Bearer t0ken\n' >etc/streamkit/wiki.headers
	example_script stream-read.1 13 'wiki.headers' "s#sse\\+https://stream.wikimedia.org#sse+$SSE_URL#"
	run timeout 30 bash ex.sh
	assert_status 0
	assert_equal "$(cat out.1)" "$(wiki_rows 3 | jq -r .title)"
	grep -q '^Authorization: Bearer t0ken' log
}

@test "stream-read(1) example 14: keeps an SQS queue's orders in a dataset, deleting what it holds" {
	sqs_need
	sqs_credentials
	local q
	q=$(sqs_create orders)
	wiki_rows 30 | jq -c '{body: tojson}' | sqs_client "$q" send >/dev/null
	# -e: this run stops at the first receive that finds the queue empty
	example_script stream-read.1 14 'sqs+https' "s#sqs\\+https://[^ ]*#sqs+$q#" \
		's#stream-read --name orders#stream-read --name orders -e --wait-time 1s#'
	run bash ex.sh
	assert_status 0
	# several receives at once: the order of the queue is not kept
	assert_equal "$(dataset_rows data/orders | jq -s -c 'sort_by(.id)')" "$(wiki_rows 30 | jq -s -c .)"
	sqs_queue_empty "$q"
}

# ---------------------------------------------------------------- stream-write(1)

@test "stream-write(1) example 1: copies the rows of a file into a dataset exactly once" {
	example_script stream-write.1 1 'dataset:out'
	wiki_rows 50 >in.ndjson
	run bash ex.sh
	assert_status 0
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows out | jq -s -c 'map(.id)')" "$(jq -s -c 'map(.id)' in.ndjson)"
}

@test "stream-write(1) example 2: writes CSV parts with a schema and puts aside what does not fit" {
	example_script stream-write.1 2 'format csv'
	{
		echo '{"id":1,"email":"ann@example.org","joined":"2025-01-02"}'
		echo '{"id":"x","email":"bob@example.org","joined":"2025-01-03"}'
		echo '{"id":3,"email":"cy@example.org","joined":"2025-02-30"}'
		echo '{"id":4,"email":"di@example.org","joined":"2025-03-04"}'
	} >users.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(cat users/part-*.csv | sed 1d | cut -d, -f1 | tr '\n' ' ')" '1 4 '
	assert_equal "$(jq -r .id rejected.ndjson | tr '\n' ' ')" 'x 3 '
}

@test "stream-write(1) example 3: keeps edits in an SQLite table and queries it" {
	example_script stream-write.1 3 'wiki.db'
	wiki_rows 70 >changes.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(sqlite3 wiki.db 'SELECT count(*) FROM edits')" 70
	assert_equal "$(wc -l <out.2)" 5
	# The most active people first: the top count is the highest.
	assert_equal "$(head -n 1 out.2 | cut -d'|' -f2)" "$(jq -r 'select(.bot|not) | .user' changes.ndjson | sort | uniq -c | sort -k1,1nr | head -n 1 | awk '{print $1}')"
}

@test "stream-write(1) example 4: maps the rows in process and commits the cursors of dropped ones" {
	example_script stream-write.1 4 '--map'
	wiki_rows 40 >changes.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(sqlite3 wiki.db 'SELECT count(*) FROM edits')" "$(jq_count changes.ndjson 'select(.bot|not)')"
	assert_equal "$(sqlite3 wiki.db 'SELECT size FROM edits ORDER BY rowid LIMIT 1')" "$(jq -r 'select(.bot|not) | .new_len - .old_len' changes.ndjson | head -n 1)"
	assert_equal "$(offset_of edits)" "$(wc -c <changes.ndjson)"
}

@test "stream-write(1) example 5: matches tuples to the schema by position, as the page shows" {
	example_script stream-write.1 5 'people'
	run bash ex.sh
	assert_status 0
	same_output out.2 expected.2
}

@test "stream-write(1) example 6: checks rows against a schema and passes them on" {
	example_script stream-write.1 6 'schema.json'
	echo '[{"name":"id","type":"int"},{"name":"name","type":"string"}]' >schema.json
	printf '#!/bin/sh\nprintf %s "{\\"id\\":1,\\"name\\":\\"ann\\"}" "{\\"id\\":2,\\"name\\":\\"bob\\"}"\n' "'%s\n'" >produce
	printf '#!/bin/sh\ncat >consumed\n' >consume
	chmod +x produce consume
	run bash ex.sh
	assert_status 0
	assert_equal "$(jq -c . consumed)" "$(printf '{"id":1,"name":"ann"}\n{"id":2,"name":"bob"}')"
}

@test "stream-write(1) example 7: appends the errors of a followed log to a file" {
	example_script stream-write.1 7 'errors.ndjson'
	mkdir -p var/log
	printf 'ok\nERROR one\nok\nERROR two\n' >var/log/app.log
	start_pipeline 'bash ex.sh'
	wait_for 20 has_read log
	stop_example stream-read
	assert_equal "$(jq -r .line errors.ndjson)" "$(printf 'ERROR one\nERROR two')"
	assert_equal "$(offset_of log)" "$(wc -c <var/log/app.log)"
}

@test "stream-write(1) example 8: sends rows to Kafka with a key, a header and timestamps" {
	example_script stream-write.1 8 'compression zstd'
	wiki_rows 20 >changes.ndjson
	run bash ex.sh
	assert_status 0
	run kafka_consume edits -J
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 20
	assert_equal "$(printf '%s\n' "$output" | jq -r 'select(.payload | fromjson | .id == 3) | "\(.key) \(.headers) \(.ts)"')" \
		'user3 ["source","wiki"] 1764000003000'
}

@test "stream-write(1) example 9: copies a topic to another cluster, keys, headers and bytes kept" {
	example_script stream-write.1 9 'binary=base64' \
		's#old:9092/events#old:9092/old-events#' 's#new:9092/events#new:9092/new-events#'
	for i in 1 2 3 4 5 6; do echo "k$i:v$i"; done | kafka_produce old-events -K: -H h=x
	start_pipeline 'bash ex.sh'
	wait_for 30 topic_holds new-events 6
	stop_example stream-read
	assert_equal "$(kafka_consume new-events -f '%k=%s %h\n' | sort)" "$(kafka_consume old-events -f '%k=%s %h\n' | sort)"
}

@test "stream-write(1) example 10: keys rows by a prefix given on the command line" {
	example_script stream-write.1 10 'arg env prod' 's#/users #/prod-users #'
	printf '{"id":"u1"}\n{"id":"u2"}\n' >users.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(kafka_consume prod-users -f '%k %h\n' | sort)" "$(printf 'prod/u1 env=prod\nprod/u2 env=prod')"
}

@test "stream-write(1) example 11: deletes keys from a compacted topic with tombstones" {
	example_script stream-write.1 11 '--value null' 's#/users$#/compacted#'
	printf '{"id":"a","name":"x"}\n{"id":"b","name":"y"}\n' >deleted.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(kafka_consume compacted -Z -f '%k=%s\n' | sort)" "$(printf 'a=NULL\nb=NULL')"
}

@test "stream-write(1) example 12: sends orders to an SQS FIFO queue, in order per customer, resends dropped" {
	sqs_need
	sqs_credentials
	local url
	url=$(sqs_create orders.fifo FifoQueue=true)
	example_script stream-write.1 12 'orders.fifo' \
		"s#sqs\\+https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo#sqs+$url#"
	awk 'BEGIN { for (i = 1; i <= 12; i++)
		printf "{\"order_id\":\"o-%d\",\"customer\":\"c%d\",\"kind\":\"%s\",\"total\":%d.5}\n",
		       i, i % 3, (i % 2) ? "book" : "pen", i }' >orders.ndjson
	run bash ex.sh
	assert_status 0
	# rewound, the pipeline sends every order again: the deduplication ids drop them
	stream-checkpoint reset orders
	run bash ex.sh
	assert_status 0
	sqs_drain "$url" 12 got
	local c
	for c in c0 c1 c2; do
		assert_equal "$(jq -r --arg c "$c" 'select(.attributes.MessageGroupId == $c) | .body | fromjson | .order_id' got | tr '\n' ' ')" \
			"$(jq -r --arg c "$c" 'select(.customer == $c) | .order_id' orders.ndjson | tr '\n' ' ')"
	done
	assert_equal "$(jq -c 'select(.body | fromjson | .order_id == "o-3") | .message_attributes' got)" \
		'{"kind":{"type":"String","value":"book"},"total":{"type":"Number","value":"3.5"}}'
	sqs_queue_empty "$url"
}

# ---------------------------------------------------------------- stream-checkpoint(1)

@test "stream-checkpoint(1) example 1: a script's finished lines are committed, at least once" {
	example_script stream-checkpoint.1 1 'my-script'
	wiki_rows 20 >in.ndjson
	printf '#!/bin/sh\nexec cat\n' >my-script
	chmod +x my-script
	run bash ex.sh
	assert_status 0
	assert_equal "$(jq -r .line done.log | jq -s -c 'map(.id)')" "$(jq -s -c 'map(.id)' in.ndjson)"
	assert_equal "$(offset_of r)" "$(wc -c <in.ndjson)"
}

@test "stream-checkpoint(1) example 2: commit after the script that pages: a page never sent is not committed" {
	example_script stream-checkpoint.1 2 'page-someone.sh'
	mkdir -p var/log
	wiki_rows 10 >var/log/app.ndjson
	# Pages each error, but dies on the second one before it is sent.
	cat >page-someone.sh <<-'EOF'
	#!/bin/sh
	while IFS= read -r envelope; do
		id=$(printf '%s\n' "$envelope" | jq .line.id)
		[ "$id" = 10 ] && [ ! -e pager-fixed ] && exit 1
		echo "$id" >>paged.txt
		printf '%s\n' "$envelope"
	done
	EOF
	chmod +x page-someone.sh
	start_pipeline 'bash ex.sh'
	wait_for 20 committed_to errors "$(head -n 5 var/log/app.ndjson | wc -c)"
	# The script dies at the second error, and commit with it; the rest of
	# the pipeline follows the file until it is stopped.
	wait_for 20 eval '! pgrep -g "$pgid" -x stream-checkpoint >/dev/null'
	stop_example
	assert_equal "$(offset_of errors)" "$(head -n 5 var/log/app.ndjson | wc -c)"
	touch pager-fixed
	start_pipeline 'bash ex.sh'
	wait_for 20 committed_to errors "$(wc -c <var/log/app.ndjson)"
	stop_example stream-read
	assert_equal "$(tr '\n' ' ' <paged.txt)" '5 10 '
}

@test "stream-checkpoint(1) example 3: show lists the stored positions as the page shows" {
	example_script stream-checkpoint.1 3 'stream-checkpoint show'
	wiki_rows 5 >in.ndjson
	stream-read --name r --exit-at-end in.ndjson | stream-checkpoint commit r >/dev/null
	run bash ex.sh
	assert_status 0
	assert_equal "$(head -n 1 out.1 | tr -s ' ')" "$(head -n 1 expected.1 | tr -s ' ')"
	assert_equal "$(sed 1d out.1 | awk '{print $1, $2, $3}')" "r file:$PWD/in.ndjson 0"
	assert_equal "$(sed 1d out.1 | awk '{print $4}')" "$(wc -c <in.ndjson)"
}

@test "stream-checkpoint(1) example 4: lag says how many bytes are still to be read" {
	example_script stream-checkpoint.1 4 'lag r'
	wiki_rows 5 >in.ndjson
	stream-read --name r --exit-at-end in.ndjson | head -n 2 | stream-checkpoint commit r >/dev/null
	run bash ex.sh
	assert_status 0
	assert_equal "$(cat out.1)" "$(( $(wc -c <in.ndjson) - $(head -n 2 in.ndjson | wc -c) ))"
}

@test "stream-checkpoint(1) examples 5 and 6: lag of a Kafka copy, and the cron alert" {
	example_script stream-checkpoint.1 5 'kafka.properties' 's#/events #/lagged #'
	mv ex.sh ex5.sh
	mv expected.2 expected5.2
	example_script stream-checkpoint.1 6 'echo behind'
	mv ex.sh ex6.sh
	mkdir -p etc/streamkit
	echo 'client.id=streamkit-examples' >etc/streamkit/kafka.properties
	seq 1 30 | kafka_produce lagged
	# The reader of the page lets the copy run a while before asking.
	printf '#!/bin/sh\n[ "$1" != 1 ] || timeout 30 sh -c %s\n' \
		"'until [ \"\$(ls data/lagged/part-* 2>/dev/null)\" ]; do sleep 0.05; done'" >pause
	chmod +x pause
	start_pipeline 'bash ex5.sh'
	wait_for 30 test -s out.2
	rm pause
	assert_equal "$(head -n 1 out.2 | tr -s ' ')" "$(head -n 1 expected5.2 | tr -s ' ')"
	assert_equal "$(sed 1d out.2 | awk '{print $1}' | sort -u)" 'kafka:lagged'
	run bash ex6.sh
	assert_status 0
	assert_equal "$(cat out.1 2>/dev/null)$output" ''
	stop_example stream-read
	seq 1 100001 | kafka_produce lagged
	run bash ex6.sh
	assert_status 0
	assert_equal "$(cat out.1)" behind
}

@test "stream-checkpoint(1) example 7: set rewinds to a cursor and skips to the end of a file" {
	example_script stream-checkpoint.1 7 'stream-checkpoint set r'
	mkdir -p data
	wiki_rows 200 >data/in.ndjson
	wiki_rows 5 >in.ndjson
	run bash ex.sh
	assert_status 0
	run stream-read --name r --exit-at-end data/in.ndjson
	assert_equal "$(printf '%s\n' "$output" | head -n 1 | jq .offset)" 4096
	run stream-read --name r --exit-at-end in.ndjson
	assert_status 0
	assert_equal "$output" ''
}

@test "stream-checkpoint(1) example 8: reset starts a recipe over" {
	example_script stream-checkpoint.1 8 'reset r'
	wiki_rows 5 >in.ndjson
	stream-read --name r --exit-at-end in.ndjson | stream-checkpoint commit r >/dev/null
	run bash ex.sh
	assert_status 0
	assert_equal "$(state_sql "SELECT count(*) FROM positions WHERE name = 'r'")" 0
	assert_equal "$(stream-read --name r --exit-at-end in.ndjson | wc -l)" 5
}

# ---------------------------------------------------------------- stream-run(1)

@test "stream-run(1) example 1: keeps a Kafka recipe running until stopped" {
	example_script stream-run.1 1 'stall-timeout 5m'
	wiki_rows 25 | kafka_produce wikipedia
	start_pipeline 'bash ex.sh'
	wait_for 30 rows_at_least srv/data/wiki 25
	stop_example stream-run
	assert_equal "$(dataset_rows srv/data/wiki | jq -s -c 'map(.user) | sort | .[0:2]')" '["user0","user0"]'
	assert_equal "$(dataset_rows srv/data/wiki | wc -l)" 25
}

# A recipe as the examples' /srv/recipes/wiki.sh: Kafka into a dataset.
wiki_recipe() {
	mkdir -p srv/recipes
	cat >srv/recipes/wiki.sh <<-EOF
	#!/bin/sh
	exec stream-read --json kafka://$KAFKA_BOOTSTRAP/wikipedia |
	    stream-write --map '{title: .value.title, _cursor}' dataset:$PWD/srv/data/wiki-\$STREAMKIT_NAME
	EOF
	chmod +x srv/recipes/wiki.sh
}

@test "stream-run(1) example 2: the systemd unit's command runs and stops with a status systemd accepts" {
	example_script stream-run.1 2 'ExecStart'
	wiki_recipe
	wiki_rows 5 | kafka_produce wikipedia
	# What systemd would run: the Environment= and ExecStart= lines.
	{
		sed -n 's/^Environment=/export /p' ex.sh
		sed -n '/^ExecStart=/,/[^\\]$/p' ex.sh | sed 's/^ExecStart=//'
	} >unit.sh
	grep -q 'KillMode=mixed' ex.sh
	grep -q 'SuccessExitStatus=143' ex.sh
	start_pipeline 'bash unit.sh'
	wait_for 30 rows_at_least srv/data/wiki-wiki 1
	# KillMode=mixed: SIGTERM to the main process alone.
	stop_example stream-run
	[[ "$example_status" == 0 || "$example_status" == 143 ]]
}

@test "stream-run(1) example 3: from cron, a second stream-run of the name exits 75 quietly" {
	example_script stream-run.1 3 '*/5' 's#^([^ ]+ ){5}##'
	wiki_recipe
	export STREAMKIT_STATE=$PWD/state.db
	start_pipeline 'bash ex.sh'
	wait_for 30 run_is wiki '1 running'
	run --separate-stderr bash ex.sh
	assert_status 75
	assert_equal "$stderr" ''
	stop_example stream-run
}

@test "stream-run(1) example 4: a replay retried until it succeeds ends with status 0" {
	example_script stream-run.1 4 'replay'
	wiki_rows 30 >archive.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in replayed)" 30
}

@test "stream-run(1) example 5: --status says what runs, and SIGHUP restarts it without a failure" {
	example_script stream-run.1 5 'kill -HUP'
	wiki_recipe
	start_pipeline 'stream-run --name wiki -- srv/recipes/wiki.sh'
	wait_for 30 run_is wiki '1 running'
	run bash ex.sh
	assert_status 0
	grep -q running out.1
	wait_for 30 run_is wiki '2 running'
	assert_equal "$(stream-run --status wiki --json | jq .failures)" 0
	stop_example stream-run
}

# ---------------------------------------------------------------- streamkit(7)

@test "streamkit(7) example 1: the until loop keeps a followed log's errors in a dataset" {
	example_script streamkit.7 1 'until stream-read'
	mkdir -p var/log
	wiki_rows 60 >var/log/app.ndjson
	start_pipeline 'bash ex.sh'
	wait_for 30 rows_at_least srv/data/errors "$(jq_count var/log/app.ndjson 'select(.status >= 500)')"
	stop_example
	assert_equal "$(dataset_rows srv/data/errors | jq -r .status | sort -u)" 503
}

@test "streamkit(7) example 2: the same recipe under stream-run" {
	example_script streamkit.7 2 'stall-timeout 10m'
	mkdir -p var/log
	wiki_rows 60 >var/log/app.ndjson
	start_pipeline 'bash ex.sh'
	wait_for 30 rows_at_least srv/data/errors "$(jq_count var/log/app.ndjson 'select(.status >= 500)')"
	stop_example stream-run
	assert_equal "$(rows_in srv/data/errors)" "$(jq_count var/log/app.ndjson 'select(.status >= 500)')"
}

@test "streamkit(7) example 3: the cron run reads what is new and stops" {
	example_script streamkit.7 3 'exit-at-end file:/var/log/app.ndjson'
	mkdir -p var/log
	wiki_rows 60 >var/log/app.ndjson
	run bash ex.sh
	assert_status 0
	wiki_rows 12 61 >>var/log/app.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in srv/data/errors)" "$(jq_count var/log/app.ndjson 'select(.status >= 500)')"
}

@test "streamkit(7) example 4: a script that prints what it has sent gets at-least-once delivery" {
	example_script streamkit.7 4 'send-mail.py'
	wiki_rows 8 >outbox.ndjson
	cat >send-mail.py <<-'EOF'
	#!/usr/bin/env python3
	import sys
	for envelope in sys.stdin:
	    print(envelope, end="", flush=True)
	EOF
	chmod +x send-mail.py
	run bash ex.sh
	assert_status 0
	assert_equal "$(wc -l <sent.ndjson)" 8
	run bash ex.sh
	assert_status 0
	assert_equal "$(wc -l <sent.ndjson)" 0
	assert_equal "$(offset_of mail)" "$(wc -c <outbox.ndjson)"
}

@test "streamkit(7) example 5: show says where the recipe got to" {
	example_script streamkit.7 5 'show errors'
	wiki_rows 6 >in.ndjson
	stream-read --name errors --exit-at-end in.ndjson | stream-checkpoint commit errors >/dev/null
	run bash ex.sh
	assert_status 0
	assert_equal "$(sed 1d out.1 | awk '{print $1, $2}')" "errors file:$PWD/in.ndjson"
}

# ---------------------------------------------------------------- stream-endpoints(5)

# The endpoints file of the page's first example, with local paths and
# broker; the test broker speaks no TLS.
endpoints_file() {
	example_script stream-endpoints.5 1 '[wikipedia_kafka]' 's#security.protocol = SSL#security.protocol = PLAINTEXT#' \
		"s#sse\\+https://stream.wikimedia.org#sse+${SSE_URL:-http://127.0.0.1:9}#"
	mv ex.sh "$1"
	mkdir -p var/log/nginx srv/spool
	printf '127.0.0.1 - - "GET / HTTP/1.1" 200\n' >var/log/nginx/access.log
	wiki_rows 9 >srv/spool/events.ndjson
}

@test "stream-endpoints(5) example 1: every endpoint of the example file resolves and reads" {
	wiki_events 2 >ev.ndjson
	sse_start --events ev.ndjson --connections all-close --log log
	endpoints_file endpoints.conf
	run stream-read --endpoints endpoints.conf --exit-at-end recentchange
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .data.title)" "$(wiki_rows 2 | jq -r .title)"
	grep -q '^Authorization: Bearer 8f4e2c' log
	run stream-read --endpoints endpoints.conf --exit-at-end access_log
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .line)" '127.0.0.1 - - "GET / HTTP/1.1" 200'
	run stream-read --endpoints endpoints.conf --exit-at-end events
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | head -n 1 | jq .line.id)" 1
	wiki_rows 3 | kafka_produce wikipedia
	run stream-read --endpoints endpoints.conf --count 1 -X session.timeout.ms=6000 wikipedia_kafka
	assert_status 0
	assert_equal "$(printf '%s\n' "$output" | jq -r .topic)" wikipedia
	wiki_rows 2 | stream-write --endpoints endpoints.conf clean_events
	assert_equal "$(rows_in srv/data/clean_events)" 2
}

@test "stream-endpoints(5) example 2: copies new events between named endpoints" {
	endpoints_file endpoints.conf
	export STREAMKIT_ENDPOINTS=$PWD/endpoints.conf
	example_script stream-endpoints.5 2 'clean_events'
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in srv/data/clean_events)" 9
}

@test "stream-endpoints(5) example 3: the same with URLs, and a file given on the command line" {
	endpoints_file endpoints.conf
	example_script stream-endpoints.5 3 'endpoints ./endpoints.conf'
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in srv/data/clean_events)" 9
	assert_equal "$(jq -r .line out.2)" '127.0.0.1 - - "GET / HTTP/1.1" 200'
}

# ---------------------------------------------------------------- README

@test "README example 2: keeps the edits of people from a stream, resuming after the last event" {
	wiki_events 20 >ev.ndjson
	sse_start --events ev.ndjson --connections all-close --log log
	example_script README 2 'recentchange' "s#sse\\+https://stream.wikimedia.org#sse+$SSE_URL#" \
		's#stream-read --name rc#stream-read --name rc -e#'
	run bash ex.sh
	assert_status 0
	wiki_events 10 21 >>ev.ndjson
	run bash ex.sh
	assert_status 0
	assert_equal "$(dataset_rows recentchange | jq -c .)" "$(jq -c 'select(.bot|not)' <(wiki_rows 30))"
}

@test "README example 3: copies a topic into an SQLite table and queries it" {
	example_script README 3 'wiki-sql'
	local before
	before=$(kafka_count wikipedia)
	wiki_rows 30 "$((before + 1))" | kafka_produce wikipedia
	run bash ex.sh
	assert_status 0
	assert_equal "$(sqlite3 wiki.db 'SELECT count(*) FROM edits')" "$((before + 30))"
	assert_equal "$(printf '%s\n' "$output" | sed -n 's/|.*//p' | sort | tr '\n' ' ')" "de en "
	run bash ex.sh
	assert_status 0
	assert_equal "$(sqlite3 wiki.db 'SELECT count(*) FROM edits')" "$((before + 30))"
}

@test "README example 4: keeps the edits of people, and a rerun adds nothing" {
	example_script README 4 'human-edits'
	wiki_rows 40 >edits.ndjson
	run bash ex.sh
	assert_status 0
	run bash ex.sh
	assert_status 0
	assert_equal "$(rows_in human-edits)" "$(jq_count edits.ndjson 'select(.bot == false)')"
}

@test "README example 5: the same recipe kept running by stream-run" {
	example_script README 5 'stream-run --name edits'
	wiki_rows 40 >edits.ndjson
	start_pipeline 'bash ex.sh'
	wait_for 30 rows_at_least human-edits "$(jq_count edits.ndjson 'select(.bot == false)')"
	stop_example stream-run
	assert_equal "$(rows_in human-edits)" "$(jq_count edits.ndjson 'select(.bot == false)')"
}

# ---------------------------------------------------------------- every example

@test "every example of every manual page is run by a test of this file" {
	local page n missing=
	for page in stream-read.1 stream-write.1 stream-checkpoint.1 stream-run.1 streamkit.7 stream-endpoints.5; do
		for n in $(seq 1 "$(example_count "$page")"); do
			grep -qF "example_script $page $n " "$BATS_TEST_FILENAME" || missing="$missing $page:$n"
		done
	done
	[ -z "$missing" ] || { echo "examples that no test runs:$missing" >&2; return 1; }
	# Every page is in the list above.
	assert_equal "$(cd "$SK_SRCDIR/man" && ls | sort | tr '\n' ' ')" \
		"stream-checkpoint.1 stream-endpoints.5 stream-read.1 stream-run.1 stream-write.1 streamkit.7 "
}

# --------------------------------------------------------------- every option

# help_options TOOL: the options its --help names; page_options TOOL: those
# its page lists with .It (DESCRIPTION's option list).
help_options() {
	"$1" --help | grep -oE -- '(^|[] ,[])--?[A-Za-z][A-Za-z0-9-]*' | grep -oE -- '--?[A-Za-z][A-Za-z0-9-]*' |
		grep -vx -- -N | sort -u    # --from's -N (N before the end) is a value
}

page_options() {
	grep -E '^\.It ' "$SK_SRCDIR/man/$1.1" | grep -oE 'Fl -?[A-Za-z][A-Za-z0-9-]*' |
		sed -E 's/^Fl /-/' | sort -u
}

@test "every option of every program is in its --help and in its manual page" {
	local tool only_help only_page bad=
	for tool in stream-read stream-write stream-checkpoint stream-run; do
		only_help=$(comm -23 <(help_options "$tool") <(page_options "$tool") | tr '\n' ' ')
		only_page=$(comm -13 <(help_options "$tool") <(page_options "$tool") | tr '\n' ' ')
		[ -z "$only_help" ] || bad="$bad$tool --help only: $only_help; "
		[ -z "$only_page" ] || bad="$bad$tool(1) only: $only_page; "
	done
	[ -z "$bad" ] || { echo "$bad" >&2; return 1; }
}
