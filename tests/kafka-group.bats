#!/usr/bin/env bats
# kafka-group.bats - stream-read kafka://… as a member of a consumer group:
# offsets committed to the group only for what the recipe's checkpoint
# covers, the drain at a clean stop and at a rebalance, resuming after the
# later of the local position and the group's, topic patterns, and groups
# of two members: one where a member is killed and the other takes its
# partitions, one where a partition moves with not one message twice.
#
# The test broker delays a group's rebalance by about session.timeout.ms:
# every member here uses 6 s. Where a group stands is asked of its
# coordinator without joining it (tests/helpers/kafka-unread).

load helpers/common
load helpers/kafka
load helpers/pipeline

bats_require_minimum_version 1.5.0

setup() {
	setup_scratch
	GROUP_OPTS=(-X session.timeout.ms=6000 -X heartbeat.interval.ms=500)
}

# produce TOPIC FROM TO: messages {"n":FROM}..{"n":TO} keyed k-N, spread
# over the partitions by key.
produce() {
	awk -v a="$2" -v b="$3" 'BEGIN { for (i = a; i <= b; i++) printf "k-%d:{\"n\":%d}\n", i, i }' |
		kafka_produce "$1" -K:
}

# lines_are N FILE: FILE has N lines (for wait_for).
lines_are() {
	[ "$(wc -l <"$2")" -eq "$1" ]
}

# unread GROUP TOPIC: how many messages of TOPIC lie after GROUP's
# committed offsets, asked of the group's coordinator without joining the
# group (a join waits seconds for the test broker's rebalance).
unread() {
	kafka-unread "$KAFKA_BOOTSTRAP" "$1" "$2"
}

@test "a group member reads every partition, exits at the end, and commits what its checkpoint covers" {
	kafka_cmd topic g1 4
	produce g1 1 100
	run stream-read --name r --group grp1 "${GROUP_OPTS[@]}" --exit-at-end --drain-timeout 1s "kafka://$KAFKA_BOOTSTRAP/g1"
	assert_status 0
	[ "${#lines[@]}" -eq 100 ]
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -c '.value | fromjson | .n' | sort -n | uniq | wc -l)" 100
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .partition | sort -u | tr '\n' ' ')" "0 1 2 3 "
	# Nothing checkpointed it (its drain gave up after 1 s): nothing was committed.
	assert_equal "$(unread grp1 g1)" 100
	# Checkpointed by the pipeline: committed at the stop.
	stream-read --name r --group grp1 "${GROUP_OPTS[@]}" --exit-at-end "kafka://$KAFKA_BOOTSTRAP/g1" |
		stream-checkpoint commit --name r >/dev/null
	assert_equal "$(unread grp1 g1)" 0
	assert_equal "$(stream-checkpoint show r | awk 'NR > 1 { n += $4 + 1 } END { print n }')" 100
}

@test "--count N through stream-checkpoint commit acknowledges exactly the N messages" {
	kafka_cmd topic g2 4
	produce g2 1 60
	stream-read --name r --group grp2 "${GROUP_OPTS[@]}" --count 25 "kafka://$KAFKA_BOOTSTRAP/g2" |
		stream-checkpoint commit --name r >out.ndjson
	[ "$(wc -l <out.ndjson)" -eq 25 ]
	assert_equal "$(unread grp2 g2)" 35
	# A member without a name starts at the group's committed offsets, and
	# commits nothing.
	run stream-read --group grp2 "${GROUP_OPTS[@]}" --exit-at-end "kafka://$KAFKA_BOOTSTRAP/g2"
	assert_status 0
	[ "${#lines[@]}" -eq 35 ]
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r '"\(.partition):\(.offset)"' | sort -u | wc -l)" 35
	assert_equal "$(unread grp2 g2)" 35
}

@test "only what the checkpoint covers is committed: the drain waits --drain-timeout, then commits that" {
	kafka_cmd topic g3 1
	produce g3 1 50
	# The pipeline checkpoints the first 20 messages only.
	start=$SECONDS
	stream-read --name r --group grp3 "${GROUP_OPTS[@]}" --exit-at-end --drain-timeout 1s \
		"kafka://$KAFKA_BOOTSTRAP/g3" | head -n 20 | stream-checkpoint commit --name r >/dev/null
	assert_equal "$(unread grp3 g3)" 30
	# A drain that is never covered stops waiting after its timeout.
	start=$SECONDS
	run stream-read --name other --group grp3b "${GROUP_OPTS[@]}" --exit-at-end --drain-timeout 2s \
		"kafka://$KAFKA_BOOTSTRAP/g3"
	assert_status 0
	[ "${#lines[@]}" -eq 50 ]
	[ $((SECONDS - start)) -lt 25 ]
	assert_equal "$(unread grp3b g3)" 50
}

@test "SIGTERM: the member closes its output, waits for the checkpoint, commits it and leaves the group" {
	kafka_cmd topic g4 2
	produce g4 1 40
	PIPELINE="stream-read --name r --group grp4 ${GROUP_OPTS[*]} kafka://$KAFKA_BOOTSTRAP/g4 2>reader.err |
		stream-checkpoint commit --name r >out.ndjson"
	start_pipeline
	wait_for 60 lines_are 40 out.ndjson
	pkill -TERM -g "$pgid" -x stream-read
	wait_for 30 eval '! pipeline_running'
	wait "$reaper"
	reaper= pgid=
	assert_equal "$(cat reader.err)" ""
	assert_equal "$(unread grp4 g4)" 0
}

@test "a member starts after the later of its stored position and the group's committed offset" {
	kafka_cmd topic g5 1
	produce g5 1 30
	# The group is at 10 (committed by a checkpoint of 10 messages).
	stream-read --name a --group grp5 "${GROUP_OPTS[@]}" --count 10 "kafka://$KAFKA_BOOTSTRAP/g5" |
		stream-checkpoint commit --name a >/dev/null
	assert_equal "$(unread grp5 g5)" 20
	# This host checkpointed up to offset 19 and crashed before committing:
	# it starts at 20, and commits its checkpoint to the group.
	stream-checkpoint set b kafka:g5:0:19
	run stream-read --name b --group grp5 "${GROUP_OPTS[@]}" --exit-at-end --drain-timeout 1s "kafka://$KAFKA_BOOTSTRAP/g5"
	assert_status 0
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .offset | head -n 1)" 20
	[ "${#lines[@]}" -eq 10 ]
	assert_equal "$(unread grp5 g5)" 10
	# This host is behind the group (another host read on): the group wins.
	stream-checkpoint set c kafka:g5:0:3
	run stream-read --name c --group grp5 "${GROUP_OPTS[@]}" --exit-at-end --drain-timeout 1s "kafka://$KAFKA_BOOTSTRAP/g5"
	assert_status 0
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r .offset | head -n 1)" 20
}

@test "a ^regex topic pattern reads every matching topic, each message under its own topic" {
	kafka_cmd topic pat.a 2
	kafka_cmd topic pat.b 3
	kafka_cmd topic other.c 1
	produce pat.a 1 10
	produce pat.b 11 30
	produce other.c 31 35
	stream-read --name p --group grp6 "${GROUP_OPTS[@]}" --exit-at-end "kafka://$KAFKA_BOOTSTRAP/^pat\\..*" |
		stream-checkpoint commit --name p >/dev/null
	run stream-read --name p2 --group grp6b "${GROUP_OPTS[@]}" --exit-at-end --drain-timeout 1s "kafka://$KAFKA_BOOTSTRAP/^pat\\..*"
	assert_status 0
	[ "${#lines[@]}" -eq 30 ]
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r '.topic' | sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')" \
		"pat.a=10 pat.b=20 "
	assert_equal "$(printf '%s\n' "${lines[@]}" | jq -r 'select(._cursor != "kafka:\(.topic):\(.partition):\(.offset)")')" ""
	assert_equal "$(stream-checkpoint show p | awk 'NR > 1 { print $2 }' | sort -u | tr '\n' ' ')" "kafka:pat.a kafka:pat.b "
}

@test "group usage errors: a pattern without a group, partition= with a group, an automatic offset store" {
	run --separate-stderr stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/^events"
	assert_status 64
	assert_equal "$stderr" "stream-read: kafka://$KAFKA_BOOTSTRAP/^events: a topic pattern (^events) needs a consumer group (--group G)"
	run --separate-stderr stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/events?group=g&partition=1"
	assert_status 64
	[[ $stderr == *"partition= and a group exclude each other"* ]]
	run --separate-stderr stream-read --group g -X enable.auto.offset.store=true "kafka://$KAFKA_BOOTSTRAP/events"
	assert_status 78
	[[ $stderr == *"enable.auto.offset.store=true: stream-read stores a group's offsets itself"* ]]
	run --separate-stderr stream-read --group '' "kafka://$KAFKA_BOOTSTRAP/events"
	assert_status 64
}

@test "a topic the member may not read exits 69 saying so, with or without a group" {
	kafka_cmd topic-error secret TOPIC_AUTHORIZATION_FAILED
	run --separate-stderr timeout 30 stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/secret"
	assert_status 69
	assert_equal "$stderr" "stream-read: kafka://$KAFKA_BOOTSTRAP/secret: topic secret: Broker: Topic authorization failed"
	run --separate-stderr timeout 30 stream-read --group gs "${GROUP_OPTS[@]}" --exit-at-end "kafka://$KAFKA_BOOTSTRAP/secret"
	assert_status 69
	assert_equal "$stderr" "stream-read: kafka://$KAFKA_BOOTSTRAP/secret: topic secret: Broker: Topic authorization failed"
	kafka_cmd topic-error secret none
}

# distinct_rows: the distinct partition:offset pairs in both members' datasets.
distinct_rows() {
	cat a/ds/part-* b/ds/part-* 2>/dev/null | jq -r '"\(.partition):\(.offset)"' | sort -u | wc -l
}
all_rows() {
	cat a/ds/part-* b/ds/part-* 2>/dev/null | wc -l
}
# distinct_are N, a_has N: for wait_for.
distinct_are() {
	[ "$(distinct_rows)" -eq "$1" ]
}
a_has() {
	[ "$(cat a/ds/part-* 2>/dev/null | wc -l)" -eq "$1" ]
}
# start_member GROUP DIR: a member of GROUP, reading the topic of that
# name into DIR/ds, on a host of its own (DIR: its state store, dataset
# and pipeline files); its pgid and reaper in pgid_DIR and reaper_DIR.
start_member() {
	cd "$2"
	STREAMKIT_STATE=$PWD/state.db start_pipeline "stream-read --name m --group $1 ${GROUP_OPTS[*]} \
		kafka://$KAFKA_BOOTSTRAP/$1 | stream-write --name m --checkpoint-interval 100ms dataset:ds"
	cd ..
	printf -v "pgid_$2" %s "$pgid"
	printf -v "reaper_$2" %s "$reaper"
}
# stop_members: SIGTERM to both members' stream-read; both pipelines end
# cleanly (exit 0).
stop_members() {
	pkill -TERM -g "$pgid_a" -x stream-read
	pkill -TERM -g "$pgid_b" -x stream-read
	wait_for 30 eval '! kill -0 "$reaper_a" 2>/dev/null && ! kill -0 "$reaper_b" 2>/dev/null'
	wait "$reaper_a" "$reaper_b"
	reaper= pgid=
}
# more TOPIC K: K messages after the $n so far, waited for in the datasets.
more() {
	produce "$1" $((n + 1)) $((n + $2))
	n=$((n + $2))
	wait_for 60 distinct_are "$n"
}
# more_until_b_writes TOPIC K: K more at a time until b has written a row.
more_until_b_writes() {
	local deadline=$((SECONDS + 60))
	until [ "$(cat b/ds/part-* 2>/dev/null | wc -l)" -gt 0 ]; do
		((SECONDS < deadline)) || return 1
		more "$1" "$2"
	done
}

@test "two members split the partitions; one is killed; the other takes its partitions over; none lost" {
	kafka_cmd topic duo 4
	produce duo 1 200
	mkdir a b
	start_member duo a
	wait_for 60 a_has 200
	start_member duo b
	# Messages keep coming until the group has given b its share; a drains
	# the partitions it gives up before they move.
	n=200
	more_until_b_writes duo 20
	more duo 100
	# Each has a share.
	[ "$(cat a/ds/part-* | jq -r 'select(.offset > 60) | .partition' | sort -u | wc -l)" -ge 1 ]
	# a is killed: b takes every partition once the group notices.
	pgid=$pgid_a reaper=$reaper_a
	stop_pipeline
	more duo 200
	assert_equal "$(cat b/ds/part-* | jq -r .partition | sort -u | tr '\n' ' ')" "0 1 2 3 "
	# b stops cleanly.
	pkill -TERM -g "$pgid_b" -x stream-read
	pgid=$pgid_b reaper=$reaper_b
	wait_for 30 eval '! pipeline_running'
	wait "$reaper"
	reaper= pgid=
	assert_equal "$(distinct_rows)" "$n"
}

# overlap_rows: partition:offset pairs that both members wrote.
overlap_rows() {
	cat a/ds/part-* b/ds/part-* 2>/dev/null | jq -r '"\(.partition):\(.offset)"' | sort | uniq -d | wc -l
}

@test "a partition moved in a rebalance is drained and committed: the new owner starts right after the old one's last row" {
	kafka_cmd topic hand 4
	mkdir a b
	start_member hand a
	n=0
	more hand 40
	start_member hand b
	# Messages keep coming, each batch written before the next, until the
	# group has given b its share: a's last commit before the rebalance
	# lags what it wrote, and only the drain of the partitions it gives up
	# commits the rest.
	more_until_b_writes hand 8
	more hand 40
	stop_members
	assert_equal "$(distinct_rows)" "$n"
	[ "$(cat b/ds/part-* | jq -r .partition | sort -u | wc -l)" -ge 1 ]
	[ "$(cat a/ds/part-* | jq -r .partition | sort -u | wc -l)" -eq 4 ]
	# Not one message twice, not one lost: b started each partition it took
	# at the offset after a's last row there. On a loaded machine the test
	# broker sometimes refuses a's commit (it is rejoining by then): a says
	# so, and b reads again from the last commit (at least once, checked
	# above); this run then cannot show the handover exactly once.
	if grep -qF "(partitions revoked: their next owner reads from the group's last commit)" a/pipeline.log; then
		skip "the test broker refused a's drained commit (a was rejoining): the handover was at least once, exactly once is not checked"
	fi
	assert_equal "$(overlap_rows)" 0
	assert_equal "$(all_rows)" "$n"
}

@test "a commit the group refuses at a revocation is a warning; the next owner reads again from the last commit" {
	kafka_cmd topic eager 2
	mkdir a b
	# Eager members give up every partition before they rejoin, while the
	# test broker refuses commits; without auto commit, a has something to
	# commit then.
	GROUP_OPTS+=(-X partition.assignment.strategy=range -X enable.auto.commit=false)
	start_member eager a
	n=0
	more eager 10
	start_member eager b
	more_until_b_writes eager 4
	stop_members
	grep -F "stream-read: committing offsets to group eager: Broker: Group rebalance in progress (partitions revoked: their next owner reads from the group's last commit)" a/pipeline.log
	# At least once: none lost.
	assert_equal "$(distinct_rows)" "$n"
}
