# kafka.bash - a Kafka cluster for the suites that need one, and kcat
# wrappers to talk to it. Load after helpers/common:
#
#	load helpers/common
#	load helpers/kafka
#	setup_file() { kafka_start --brokers 3 --topic events:4; }
#	teardown_file() { kafka_stop; }
#
# A suite that defines none of setup_file, teardown_file and setup gets
# those below: one cluster for the file with a topic "events" of 4
# partitions, and a scratch directory per test. A suite's own definitions,
# after the load, replace them.
#
# The cluster is tests/helpers/kafka-mock (librdkafka's mock cluster on
# 127.0.0.1). kafka_start exports KAFKA_BOOTSTRAP, KAFKA_PID and KAFKA_DIR,
# which the tests of the file inherit. Start and stop it from the same shell
# (setup_file and teardown_file, or one test), one cluster at a time.

# kafka_start [KAFKA-MOCK ARGS]: start the cluster in the background and
# wait for its bootstrap line.
kafka_start() {
	local dir
	dir=$(mktemp -d "${BATS_FILE_TMPDIR:-${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}}/kafka.XXXXXX") || return 1
	mkfifo "$dir/control" || return 1
	KAFKA_DIR=$dir
	server_start "$dir" kafka-mock --control "$dir/control" "$@" || return 1
	KAFKA_PID=$server_pid
	KAFKA_BOOTSTRAP=$(head -n 1 "$dir/out")
	export KAFKA_PID KAFKA_DIR KAFKA_BOOTSTRAP
}

# kafka_stop: SIGTERM, then wait (10 s at most) for the cluster to exit;
# returns its exit status. SIGKILL and failure if it does not exit in time.
kafka_stop() {
	local pid=${KAFKA_PID:-}
	[ -n "$pid" ] || return 0
	unset KAFKA_PID KAFKA_BOOTSTRAP
	server_stop "$pid" "$KAFKA_DIR"
}

# kafka_cmd COMMAND...: send one command (down 1, up 1, topic NAME N,
# leader TOPIC PARTITION BROKER, rtt BROKER MS, topic-error TOPIC ERROR|none
# with ERROR a broker error name such as UNKNOWN_TOPIC_OR_PART) and wait
# for its reply;
# fails with the reply when it is an error. Commands from one shell at a
# time: the reply is the line after those already in the output.
kafka_cmd() {
	local out=$KAFKA_DIR/out seen reply
	seen=$(wc -l <"$out") || return 1
	# Opened read-write, the FIFO never blocks the test, even when kafka-mock
	# is gone (then the wait below fails).
	printf '%s\n' "$*" 1<>"$KAFKA_DIR/control" || return 1
	if ! wait_for 10 _kafka_replied "$((seen + 1))"; then
		echo "kafka_cmd: no reply to: $*" >&2
		return 1
	fi
	reply=$(sed -n "$((seen + 1))p" "$out")
	if [[ $reply != "ok "* ]]; then
		echo "kafka_cmd: $reply" >&2
		return 1
	fi
}

_kafka_replied() {
	[ "$(wc -l <"$KAFKA_DIR/out")" -ge "$1" ]
}

# kafka_produce TOPIC [KCAT ARGS]: produce each line of stdin as one message
# (add -K: for KEY:VALUE lines, -H NAME=VALUE for headers of every message),
# with the idempotent producer, so retries never duplicate; returns once
# every message is delivered, non-zero when one was not.
kafka_produce() {
	local topic=$1; shift
	kcat -P -b "$KAFKA_BOOTSTRAP" -t "$topic" -X enable.idempotence=true "$@"
}

# kafka_consume TOPIC [KCAT ARGS]: every message from the beginning to the
# current end of each partition, one a line (add -J for kcat's envelopes,
# -p N for one partition).
kafka_consume() {
	local topic=$1; shift
	kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -o beginning -e -q "$@"
}

# kafka_count TOPIC: the number of messages in the topic.
kafka_count() {
	kafka_consume "$1" -f 'x\n' | wc -l
}

# kafka_topics: "TOPIC PARTITIONS" per topic, sorted.
kafka_topics() {
	kcat -L -b "$KAFKA_BOOTSTRAP" -J | jq -r '.topics[] | "\(.topic) \(.partitions | length)"' | sort
}

# kafka_leader TOPIC PARTITION: the broker id that leads the partition.
kafka_leader() {
	kcat -L -b "$KAFKA_BOOTSTRAP" -t "$1" -J |
		jq -r --argjson p "$2" '.topics[0].partitions[] | select(.partition == $p) | .leader'
}

# kafka_broker_address ID: HOST:PORT of a broker, as clients name it in
# their logs.
kafka_broker_address() {
	kcat -L -b "$KAFKA_BOOTSTRAP" -J | jq -r --argjson id "$1" '.brokers[] | select(.id == $id) | .name'
}

setup_file() {
	kafka_start --topic events:4
}

teardown_file() {
	kafka_stop
}

setup() {
	setup_scratch
}
