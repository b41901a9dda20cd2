#!/usr/bin/env bats
# kafka-interop.bats - kcat, the client users already have, and streamkit
# agree on every field of every message, both ways: what kcat produces,
# stream-read reads as kcat does (and with --binary=base64, byte for byte);
# what stream-write produces, kcat reads as written. Keys, headers with a
# repeated name, bytes that are not UTF-8, null keys and null values, on
# a topic of 4 partitions.

load helpers/common
load helpers/kafka

# Our envelope in the shape of kcat -J's: headers {"n":"v","d":["a","b"]}
# become ["n","v","d","a","d","b"] (absent when there are none), timestamp
# and value take kcat's names; kcat's broker id is dropped from its own.
OURS_AS_KCAT='{topic, partition, offset, tstype: .timestamp_type, ts: .timestamp, key, payload: .value} +
	([.headers | to_entries[] | .key as $k | (.value | if type == "array" then .[] else . end) | $k, .] |
		if length == 0 then {} else {headers: .} end)'

# hex: standard input as hex digits, one line.
hex() {
	od -An -v -tx1 | tr -d ' \n'
	echo
}

# kcat_hex TOPIC PARTITION OFFSET %k|%s: the key or value of one message, as
# kcat prints it, in hex.
kcat_hex() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -p "$2" -o "$3" -c 1 -e -q -f "$4" | hex
}

# produce_mixed TOPIC: messages of every kind, with kcat: text keys and
# values with headers (one name twice), JSON text, empty and null keys and
# values, and keys and values that are not UTF-8, in each partition.
produce_mixed() {
	local p
	for p in 0 1 2 3; do
		printf 'k%d-a:v "a" é\nk%d-b:{"n":%d}\n' "$p" "$p" "$p" |
			kafka_produce "$1" -p "$p" -K: -H run=r1 -H dup=x -H dup=y
		printf ':no key\ntomb-%d:\n' "$p" | kafka_produce "$1" -p "$p" -K: -Z
		printf 'bin-%d\xff\x01=\x00\x80\xfe %d\xc3\x28|\xf0\x9f\x98\x80=\x7f|' "$p" "$p" |
			kafka_produce "$1" -p "$p" -K= -D '|'
	done
}

@test "produced by kcat: stream-read's envelope has every field kcat -J has" {
	kafka_cmd topic fromkcat 4
	produce_mixed fromkcat
	run --separate-stderr stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/fromkcat"
	assert_status 0
	printf '%s\n' "$output" >got.json
	assert_equal "$(wc -l <got.json)" 24
	# kcat -J writes bytes that are not UTF-8 as they are (no longer
	# JSON): those messages are compared byte for byte below.
	jq -c -S "select(.key // \"\" | startswith(\"bin-\") | not) | $OURS_AS_KCAT" got.json | sort >got
	kafka_consume fromkcat -J | LC_ALL=C grep -v '"bin-' | jq -c -S 'del(.broker)' | sort >want
	assert_equal "$(wc -l <want)" 20
	run diff want got
	assert_status 0
	run jq -c 'select(.key == null or .value == null) | [.partition, .key, .value]' got.json
	assert_equal "$(printf '%s\n' "$output" | sort | tr '\n' ' ')" \
		'[0,"tomb-0",null] [0,null,"no key"] [1,"tomb-1",null] [1,null,"no key"] [2,"tomb-2",null] [2,null,"no key"] [3,"tomb-3",null] [3,null,"no key"] '
}

@test "produced by kcat: stream-read --binary=base64 gives each key and value byte for byte" {
	kafka_cmd topic binread 4
	produce_mixed binread
	run --separate-stderr stream-read --binary=base64 --exit-at-end "kafka://$KAFKA_BOOTSTRAP/binread"
	assert_status 0
	printf '%s\n' "$output" >got.json
	jq -c 'select(.key != null and .value != null)' got.json >messages
	assert_equal "$(wc -l <messages)" 16
	while read -r m; do
		read -r p o < <(jq -r '"\(.partition) \(.offset)"' <<<"$m")
		assert_equal "$(jq -j .key <<<"$m" | base64 -d | hex)" "$(kcat_hex binread "$p" "$o" %k)"
		assert_equal "$(jq -j .value <<<"$m" | base64 -d | hex)" "$(kcat_hex binread "$p" "$o" %s)"
	done <messages
	# Not UTF-8 without --binary=base64: each such byte escaped, as \u00XX.
	run --separate-stderr stream-read --exit-at-end "kafka://$KAFKA_BOOTSTRAP/binread?partition=2"
	assert_status 0
	printf '%s\n' "$output" >escaped
	run grep -c -F '"key":"bin-2\u00ff\u0001","value":"\u0000\u0080\u00fe 2\u00c3("' escaped
	assert_equal "$output" 1
}

@test "produced by stream-write: kcat reads every key, value, header, partition and timestamp as written" {
	kafka_cmd topic fromwrite 4
	jq -c . >rows <<-'EOF'
		{"p":0,"k":"k-0","v":"plain é","h":{"run":"r1","dup":["x","y"]},"ts":1700000000000,"_cursor":"s:0:1"}
		{"p":1,"k":null,"v":"{\"n\":1}","h":{"only":null},"ts":1700000000001,"_cursor":"s:0:2"}
		{"p":2,"k":"tomb","v":null,"h":{},"ts":1700000000002,"_cursor":"s:0:3"}
		{"p":3,"k":"","v":"","h":{"e":""},"ts":1700000000003,"_cursor":"s:0:4"}
	EOF
	run --separate-stderr stream-write --name w --key .k --value .v --headers .h --partition .p --timestamp .ts \
		"kafka://$KAFKA_BOOTSTRAP/fromwrite" <rows
	assert_status 0
	kafka_consume fromwrite -J | jq -c -S '{partition, ts, key, payload, headers}' | sort >got
	jq -c -S '{partition: .p, ts, key: .k, payload: .v,
		headers: ([.h | to_entries[] | .key as $k | (.value | if type == "array" then .[] else . end) | $k, .] |
			if length == 0 then null else . end)}' rows | sort >want
	run diff want got
	assert_status 0
	assert_equal "$(state_sql "SELECT position FROM positions WHERE name = 'w'")" 4
}

@test "produced by stream-write --binary=base64: kcat reads the decoded bytes" {
	kafka_cmd topic binwrite 4
	for p in 0 1 2 3; do
		key=$(printf 'k\xff%d\x00' "$p" | base64)
		value=$(printf '\x80\xfe\x00 %d \xc3\x28' "$p" | base64)
		printf '{"p":%d,"k":"%s","v":"%s"}\n' "$p" "$key" "$value"
	done >rows
	run --separate-stderr stream-write --binary=base64 --key .k --value .v --partition .p \
		"kafka://$KAFKA_BOOTSTRAP/binwrite" <rows
	assert_status 0
	for p in 0 1 2 3; do
		assert_equal "$(kcat_hex binwrite "$p" 0 %k)" "$(printf 'k\xff%d\x00' "$p" | hex)"
		assert_equal "$(kcat_hex binwrite "$p" 0 %s)" "$(printf '\x80\xfe\x00 %d \xc3\x28' "$p" | hex)"
	done
}

@test "stream-read --binary=base64 | stream-write --binary=base64 copies a topic kcat wrote, byte for byte" {
	kafka_cmd topic copysrc 4
	kafka_cmd topic copydst 4
	produce_mixed copysrc
	stream-read --binary=base64 --exit-at-end "kafka://$KAFKA_BOOTSTRAP/copysrc" |
		stream-write --binary=base64 --key .key --value .value --headers .headers --partition .partition \
			--timestamp .timestamp "kafka://$KAFKA_BOOTSTRAP/copydst"
	for t in copysrc copydst; do
		kafka_consume "$t" -f '%p %o %T %K %S %h\n' -q | sort >"$t.meta"
	done
	run diff copysrc.meta copydst.meta
	assert_status 0
	assert_equal "$(wc -l <copydst.meta)" 24
	while read -r p o _; do
		assert_equal "$(kcat_hex copydst "$p" "$o" %k)" "$(kcat_hex copysrc "$p" "$o" %k)"
		assert_equal "$(kcat_hex copydst "$p" "$o" %s)" "$(kcat_hex copysrc "$p" "$o" %s)"
	done <copysrc.meta
	# Null keys and values stay null (kcat -J tells them from empty ones).
	kafka_consume copydst -J | LC_ALL=C grep -v '"bin-' | jq -c '[.partition, .offset, .key, .payload]' | sort >dst
	kafka_consume copysrc -J | LC_ALL=C grep -v '"bin-' | jq -c '[.partition, .offset, .key, .payload]' | sort >src
	run diff src dst
	assert_status 0
}
