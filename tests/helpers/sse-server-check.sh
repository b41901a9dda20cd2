#!/usr/bin/env bash
# sse-server-check.sh - exercise every option of sse-server.py against the
# server itself, with curl as the client. For developers changing the server;
# not part of the test suite. Needs python3, curl and openssl (for --tls).
# Prints each failure, then "N checks passed" (and "M failed", exiting 1, if
# any failed).
#
#   tests/helpers/sse-server-check.sh [-v]     -v: name each check as it passes
set -u
export LC_ALL=C # strings are bytes

here=$(cd "$(dirname "$0")" && pwd)
server=$here/sse-server.py
verbose=${1:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sse-server-check.XXXXXX")
declare -A pid url
passed=0 failed=0

cleanup() {
	local p
	for p in "${pid[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pid[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 130" INT TERM

# check DESCRIPTION COMMAND...: one check, passing when COMMAND succeeds.
check() {
	local what=$1; shift
	if "$@"; then
		passed=$((passed + 1))
		[ "$verbose" = -v ] && echo "ok: $what"
	else
		failed=$((failed + 1))
		echo "FAIL: $what" >&2
	fi
	return 0
}

# start NAME ARGS...: start a server (stdout NAME.out, stderr NAME.err), wait
# for its URL line; sets url[NAME] and pid[NAME].
start() {
	local name=$1; shift
	python3 "$server" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid[$name]=$!
	local i
	for ((i = 0; i < 500; i++)); do
		[ -s "$tmp/$name.out" ] && break
		kill -0 "${pid[$name]}" 2>/dev/null || break
		sleep 0.02
	done
	url[$name]=$(head -n 1 "$tmp/$name.out")
	if [ -z "${url[$name]}" ]; then
		echo "server $name did not start: $(cat "$tmp/$name.err")" >&2
		exit 1
	fi
}

# stop NAME [quiet|noisy]: SIGTERM; checks that it exits 0 at once, wrote
# exactly one line to stdout and (unless noisy) nothing to stderr.
stop() {
	local name=$1 t0=$EPOCHREALTIME status
	kill -TERM "${pid[$name]}"
	wait "${pid[$name]}"
	status=$?
	unset "pid[$name]"
	check "$name: SIGTERM exits 0 (got $status)" test "$status" -eq 0
	check "$name: exits within a second" within_ms "$t0" 1000
	check "$name: one line on stdout" test "$(wc -l <"$tmp/$name.out")" -eq 1
	if [ "${2:-quiet}" = quiet ]; then
		check "$name: nothing on stderr" test ! -s "$tmp/$name.err"
		[ -s "$tmp/$name.err" ] && sed 's/^/    /' "$tmp/$name.err" >&2
	fi
	return 0
}

# within_ms T0 MS: whether less than MS milliseconds passed since T0
# ($EPOCHREALTIME); elapsed_ms T0: the milliseconds since.
elapsed_ms() {
	local now=$EPOCHREALTIME
	echo $(((${now/./} - ${1/./}) / 1000))
}
within_ms() { test "$(elapsed_ms "$1")" -lt "$2"; }

# get OUT CURL-ARGS...: curl -sS -N with a 5 s limit, the body in OUT, the
# response headers in OUT.h; sets rc.
get() {
	local out=$1; shift
	curl -sS -N --max-time 5 -D "$out.h" -o "$out" "$@" 2>"$out.curlerr"
	rc=$?
}

# same FILE STRING: whether FILE holds exactly the bytes of STRING.
same() {
	if cmp -s "$1" <(printf '%s' "$2"); then
		return 0
	fi
	echo "  $1 differs; expected then got:" >&2
	printf '%s' "$2" | od -c | head -20 | sed 's/^/    /' >&2
	od -c "$1" | head -20 | sed 's/^/    /' >&2
	return 1
}

# header FILE.h LINE: whether the response headers hold LINE (no CR).
header() { grep -qixF "$2"$'\r' "$1"; }
no_header() { ! grep -qi "^$2:" "$1"; }
status_is() { head -n 1 "$1" | grep -q "^HTTP/1\.[01] $2 "; }
contains() { grep -qF -- "$2" "$1"; }
is() { test "$1" = "$2" || { echo "  expected '$2', got '$1'" >&2; return 1; }; }

# framed CHUNK...: sets want to the chunked encoding (as curl --raw shows
# it) of CHUNKs, then the body's end.
framed() {
	local c
	want=
	for c in "$@"; do
		printf -v c '%x\r\n%s\r\n' "${#c}" "$c"
		want+=$c
	done
	want+=$'0\r\n\r\n'
}
# framed_is FILE CHUNK...: whether FILE holds CHUNKs, chunked.
framed_is() {
	framed "${@:2}"
	same "$1" "$want"
}

# sliced N STRING: sets the array PIECES to STRING cut in N-byte pieces.
sliced() {
	local n=$1 s=$2 i
	PIECES=()
	for ((i = 0; i < ${#s}; i += n)); do
		PIECES+=("${s:i:n}")
	done
}

# --- the events file and the bytes it composes ------------------------------

cat >"$tmp/ev.ndjson" <<'EOF'
{"id":"1","event":"greet","data":"hello\nworld"}
{"comment":"note","retry":1500}
{"id":"a:b[\"c","data":"quote"}
{"data":{"x":[1,2]}}
{"id":"dup","data":"first dup"}
{"raw":"data: \u00ff\u0001\r\n\r\n","id":"r"}
{"raw":"data: \u20ac\n\n"}

{"id":"","data":""}
{"id":null,"data":"no id"}
{"id":"dup","data":"second dup"}
{"id":"é","data":"utf8 id"}
{"data":"last"}
EOF
E=(
	$'id: 1\nevent: greet\ndata: hello\ndata: world\n\n'
	$': note\nretry: 1500\n\n'
	$'id: a:b["c\ndata: quote\n\n'
	$'data: {"x":[1,2]}\n\n'
	$'id: dup\ndata: first dup\n\n'
	$'data: \xff\x01\r\n\r\n'
	$'data: \xe2\x82\xac\n\n'
	$'id:\ndata:\n\n'
	$'data: no id\n\n'
	$'id: dup\ndata: second dup\n\n'
	$'id: \xc3\xa9\ndata: utf8 id\n\n'
	$'data: last\n\n'
)
# events FROM [COUNT]: sets want to the expected bytes of COUNT events (all
# by default) from FROM (0-based). A variable, as $(...) drops newlines.
events() {
	local IFS=
	if [ $# -eq 2 ]; then want="${E[*]:$1:$2}"; else want="${E[*]:$1}"; fi
}
# has_events FILE FROM [COUNT]: whether FILE holds exactly those events.
has_events() {
	events "${@:2}"
	same "$1" "$want"
}
# starts_with_events FILE FROM: whether FILE begins with events FROM.. .
starts_with_events() {
	events "$2"
	cmp -s -n "${#want}" "$1" <(printf '%s' "$want")
}

# --- composing, headers, HEAD, HTTP/1.0, paths, resuming, the log ----------

start basic --events "$tmp/ev.ndjson" --connections all-close \
	--log "$tmp/basic.log"
u=${url[basic]}
check "URL line is http://127.0.0.1:PORT" \
	eval '[[ $u =~ ^http://127\.0\.0\.1:[0-9]+$ ]]'
get "$tmp/b1" "$u"
check "all-close: curl ends cleanly (rc $rc)" test "$rc" -eq 0
check "composed events: id, event, multi-line data, retry, comment, JSON data, raw bytes (latin-1 and UTF-8), empty id and data, null id" \
	has_events "$tmp/b1" 0
check "status 200" status_is "$tmp/b1.h" 200
check "Content-Type: text/event-stream; charset=utf-8" \
	header "$tmp/b1.h" "Content-Type: text/event-stream; charset=utf-8"
check "Cache-Control: no-cache" header "$tmp/b1.h" "Cache-Control: no-cache"
check "Transfer-Encoding: chunked" header "$tmp/b1.h" "Transfer-Encoding: chunked"
check "no Content-Encoding without --gzip" no_header "$tmp/b1.h" Content-Encoding

get "$tmp/b2" "$u/some/path?q=1&r=%20"
check "any path serves the stream" has_events "$tmp/b2" 0

curl -sS -I --max-time 5 "$u" >"$tmp/b3" 2>&1
check "HEAD: 200, the stream's headers, no body" eval \
	'status_is "$tmp/b3" 200 && header "$tmp/b3" "Content-Type: text/event-stream; charset=utf-8" && ! contains "$tmp/b3" data:'

get "$tmp/b4" -0 "$u"
check "HTTP/1.0: the same bytes, not chunked (rc $rc)" eval \
	'test $rc -eq 0 && has_events "$tmp/b4" 0 && no_header "$tmp/b4.h" Transfer-Encoding'

resume() { # resume LAST-EVENT-ID-HEADER FIRST-EXPECTED-EVENT
	get "$tmp/r" -H "$1" "$u"
	has_events "$tmp/r" "$2"
}
check "resume after id 1" resume "Last-Event-ID: 1" 1
check "resume after an id with : [ and \"" resume 'Last-Event-ID: a:b["c' 3
check "resume after the LAST event with a repeated id" resume "Last-Event-ID: dup" 10
check "resume after a raw event's id" resume "Last-Event-ID: r" 6
check "resume after the empty id (empty header)" resume "Last-Event-ID;" 8
check "resume after a UTF-8 id, byte for byte" resume $'Last-Event-ID: \xc3\xa9' 11
check "unknown id: from the start" resume "Last-Event-ID: nope" 0
check "an id is matched exactly (prefix does not match)" resume "Last-Event-ID: du" 0

get "$tmp/b5" -H "Last-Event-ID: 1" -H "X-Custom: a: b" \
	-H "Authorization: Bearer t0k" -H "Accept: text/event-stream" \
	-H "Cache-Control: no-cache" "$u/logged?x=1"
log=$tmp/basic.log
check "log: the request line" grep -qxF "REQUEST GET /logged?x=1 HTTP/1.1" "$log"
for h in "Last-Event-ID: 1" "X-Custom: a: b" "Authorization: Bearer t0k" \
	"Accept: text/event-stream" "Cache-Control: no-cache"; do
	check "log: header '$h' as sent" grep -qxF "$h" "$log"
done
check "log: a block for every request (13 so far)" \
	test "$(grep -c '^REQUEST ' "$log")" -eq 13
check "log: each block ends with a blank line" \
	test "$(grep -c '^$' "$log")" -eq 13
check "log: the HEAD request" grep -qxF "REQUEST HEAD / HTTP/1.1" "$log"
check "log: the HTTP/1.0 request" grep -qxF "REQUEST GET / HTTP/1.0" "$log"

echo '{"id":"new","data":"appended"}' >>"$tmp/ev.ndjson"
E+=($'id: new\ndata: appended\n\n')
get "$tmp/b6" "$u"
check "the events file is read again: an appended event is served" \
	has_events "$tmp/b6" 0
check "resume: the appended event follows" resume $'Last-Event-ID: \xc3\xa9' 11
printf '{"data":"half-writ' >>"$tmp/ev.ndjson"
get "$tmp/b7" "$u"
check "a half-written last line is skipped quietly" has_events "$tmp/b7" 0
basic_port=${u##*:}
stop basic

start ignore --events "$tmp/ev.ndjson" --connections all-close \
	--ignore-last-event-id
get "$tmp/i1" -H "Last-Event-ID: dup" "${url[ignore]}"
check "--ignore-last-event-id: from the start" has_events "$tmp/i1" 0
stop ignore

start port --host 127.0.0.1 --port "$basic_port" --events "$tmp/ev.ndjson"
check "--host and --port: the URL names them" \
	is "${url[port]}" "http://127.0.0.1:$basic_port"
stop port

start stderrlog --events "$tmp/ev.ndjson" --connections status:204 --log -
get "$tmp/l1" -H "X-Where: stderr" "${url[stderrlog]}/x"
stop stderrlog noisy
check "--log -: the request on stderr" eval \
	'grep -qxF "REQUEST GET /x HTTP/1.1" "$tmp/stderrlog.err" && grep -qxF "X-Where: stderr" "$tmp/stderrlog.err"'

# --- the connection SPEC ------------------------------------------------------

start spec --events "$tmp/ev.ndjson" --retry-after 7 --heartbeat 0.2 \
	--connections '2,2-mid,1-reset,status:503,status:429,status:500,status:204,status:302,status:401,status:404,status:408,ctype:text/html,ctype:,1-silent,all'
u=${url[spec]}
get "$tmp/s1" -H "Last-Event-ID: 1" "$u"
check "N: N events from the resume point, then a clean end (rc $rc)" eval \
	'test $rc -eq 0 && has_events "$tmp/s1" 1 2'
get "$tmp/s2" "$u"
events 2 1
half=${want:0:${#want}/2}
events 0 2
want+=$half
check "N-mid: N events and half the next, then a drop (rc $rc, 18 expected)" eval \
	'test $rc -eq 18 && same "$tmp/s2" "$want"'
get "$tmp/s3" "$u"
check "N-reset: N events, then a reset (rc $rc, 56 expected)" eval \
	'test $rc -eq 56 && has_events "$tmp/s3" 0 1 && contains "$tmp/s3.curlerr" reset'
get "$tmp/s4" "$u"
check "status:503 with Retry-After" eval \
	'status_is "$tmp/s4.h" 503 && header "$tmp/s4.h" "Retry-After: 7" && header "$tmp/s4.h" "Content-Type: text/plain; charset=utf-8" && test -s "$tmp/s4"'
get "$tmp/s5" "$u"
check "status:429 with Retry-After" eval \
	'status_is "$tmp/s5.h" 429 && header "$tmp/s5.h" "Retry-After: 7"'
get "$tmp/s6" "$u"
check "status:500 without Retry-After" eval \
	'status_is "$tmp/s6.h" 500 && no_header "$tmp/s6.h" Retry-After && test $rc -eq 0'
get "$tmp/s7" "$u"
check "status:204 without a body" eval \
	'status_is "$tmp/s7.h" 204 && test ! -s "$tmp/s7" && test $rc -eq 0'
get "$tmp/s8" "$u/here?x"
check "status:302 with a Location to the same path" eval \
	'status_is "$tmp/s8.h" 302 && header "$tmp/s8.h" "Location: /here?x"'
for code in 401 404 408; do
	get "$tmp/s$code" "$u"
	check "status:$code" status_is "$tmp/s$code.h" "$code"
done
get "$tmp/s9" "$u"
check "ctype:text/html: 200, that type, a body that is no event stream" eval \
	'status_is "$tmp/s9.h" 200 && header "$tmp/s9.h" "Content-Type: text/html" && contains "$tmp/s9" "not an event stream"'
get "$tmp/s10" "$u"
check "ctype: (empty): no Content-Type at all" eval \
	'status_is "$tmp/s10.h" 200 && no_header "$tmp/s10.h" Content-Type'
get "$tmp/s11" --max-time 1.2 "$u"
check "N-silent: N events, then silence, no heartbeat (rc $rc, 28 expected)" eval \
	'test $rc -eq 28 && has_events "$tmp/s11" 0 1'
get "$tmp/s12" --max-time 1.2 "$u"
beats=$(grep -c '^: heartbeat$' "$tmp/s12")
check "all: every event, then kept open (rc $rc, 28 expected)" eval \
	'test $rc -eq 28 && starts_with_events "$tmp/s12" 0'
check "--heartbeat 0.2: ': heartbeat' lines while idle ($beats in 1.2 s)" \
	test "$beats" -ge 3 -a "$beats" -le 7
check "heartbeats come after the events, nothing else" \
	eval 'events 0; for ((i = 0; i < beats; i++)); do want+=$'"'"': heartbeat\n'"'"'; done; same "$tmp/s12" "$want"'
get "$tmp/s13" --max-time 0.5 -H "Last-Event-ID: dup" "$u"
check "the last item repeats, resume included (rc $rc)" eval \
	'test $rc -eq 28 && starts_with_events "$tmp/s13" 10'
# A client still connected when SIGTERM comes.
curl -sS -N --max-time 10 "$u" >"$tmp/s14" 2>/dev/null &
client=$!
for ((i = 0; i < 250; i++)); do [ -s "$tmp/s14" ] && break; sleep 0.02; done
stop spec
wait "$client"
crc=$?
check "SIGTERM with a client connected: the client sees the end (rc $crc)" \
	test "$crc" -ne 28

start count --events "$tmp/ev.ndjson" \
	--connections status:201,status:202,status:203,status:204,status:205,status:206,status:207,status:208,status:226,status:299,status:599
clients=()
for ((i = 0; i < 10; i++)); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "${url[count]}" >"$tmp/c$i" &
	clients+=($!)
done
wait "${clients[@]}"
check "connections counted thread-safely: 10 parallel, 10 different items" \
	is "$(cat "$tmp"/c? | sort | tr '\n' ' ')" "201 202 203 204 205 206 207 208 226 299 "
get "$tmp/c10" "${url[count]}"
get "$tmp/c11" "${url[count]}"
check "the last item repeats" eval 'status_is "$tmp/c10.h" 599 && status_is "$tmp/c11.h" 599'
stop count

# --- line endings, BOM ----------------------------------------------------------

printf '%s\n' '{"id":"7","data":"a\nb"}' '{"comment":"x"}' >"$tmp/eol.ndjson"
for eol in lf crlf cr mixed; do
	case $eol in
	lf) want=$'id: 7\ndata: a\ndata: b\n\n: x\n\n' ;;
	crlf) want=$'id: 7\r\ndata: a\r\ndata: b\r\n\r\n: x\r\n\r\n' ;;
	cr) want=$'id: 7\rdata: a\rdata: b\r\r: x\r\r' ;;
	mixed) want=$'id: 7\ndata: a\r\ndata: b\r\n: x\r\n\r' ;;
	esac
	start "eol$eol" --events "$tmp/eol.ndjson" --eol "$eol" --connections all-close
	get "$tmp/e$eol" "${url[eol$eol]}"
	check "--eol $eol" same "$tmp/e$eol" "$want"
	stop "eol$eol"
done
start bom --events "$tmp/eol.ndjson" --eol crlf --bom --connections all-close
get "$tmp/bom1" "${url[bom]}"
get "$tmp/bom2" "${url[bom]}"
want=$'\xef\xbb\xbfid: 7\r\ndata: a\r\ndata: b\r\n\r\n: x\r\n\r\n'
check "--bom: a BOM first, on every connection" eval \
	'same "$tmp/bom1" "$want" && same "$tmp/bom2" "$want"'
stop bom

# --- writes: --chunk, --write-delay -------------------------------------------------

printf '%s\n' '{"data":"é"}' '{"data":"abcd"}' '{"data":"xyz"}' >"$tmp/ch.ndjson"
body=$'data: \xc3\xa9\n\ndata: abcd\n\ndata: xyz\n\n'
start chdefault --events "$tmp/ch.ndjson" --connections all-close
get "$tmp/ch0" --raw "${url[chdefault]}"
check "default writes: the events gathered into one chunk" \
	framed_is "$tmp/ch0" "$body"
stop chdefault
start chbyte --events "$tmp/ch.ndjson" --connections all-close --chunk byte
get "$tmp/ch1" --raw "${url[chbyte]}"
sliced 1 "$body"
check "--chunk byte: one byte per chunk" framed_is "$tmp/ch1" "${PIECES[@]}"
get "$tmp/ch1b" "${url[chbyte]}"
check "--chunk byte: the same stream" same "$tmp/ch1b" "$body"
stop chbyte
start chn --events "$tmp/ch.ndjson" --connections all-close --chunk 5
get "$tmp/ch2" --raw "${url[chn]}"
sliced 5 "$body"
check "--chunk 5: 5-byte chunks across events" framed_is "$tmp/ch2" "${PIECES[@]}"
stop chn
start chutf --events "$tmp/ch.ndjson" --connections all-close --chunk split-utf8 --bom
get "$tmp/ch3" --raw "${url[chutf]}"
check "--chunk split-utf8: cut inside the BOM and the é, else in half" \
	framed_is "$tmp/ch3" $'\xef' $'\xbb\xbf' $'data: \xc3' $'\xa9\n\n' 'data: ' $'abcd\n\n' 'data:' $' xyz\n\n'
stop chutf
start delay --events "$tmp/ch.ndjson" --connections all-close --write-delay 0.3
t0=$EPOCHREALTIME
get "$tmp/ch4" --raw "${url[delay]}"
ms=$(elapsed_ms "$t0")
check "--write-delay 0.3: one chunk per event" \
	framed_is "$tmp/ch4" $'data: \xc3\xa9\n\n' $'data: abcd\n\n' $'data: xyz\n\n'
check "--write-delay 0.3: 0.6 s for 3 events (took $ms ms)" \
	test "$ms" -ge 600 -a "$ms" -lt 2000
stop delay

# --- gzip -------------------------------------------------------------------------

start gzip --events "$tmp/ev.ndjson" --gzip --connections all-close,all-close,all
get "$tmp/g1" --compressed "${url[gzip]}"
check "--gzip: Content-Encoding: gzip, and the stream (rc $rc)" eval \
	'test $rc -eq 0 && header "$tmp/g1.h" "Content-Encoding: gzip" && has_events "$tmp/g1" 0'
get "$tmp/g2" "${url[gzip]}"
check "--gzip: plain to a client without Accept-Encoding: gzip" eval \
	'no_header "$tmp/g2.h" Content-Encoding && has_events "$tmp/g2" 0'
get "$tmp/g3" --compressed --max-time 1 "${url[gzip]}"
check "--gzip: every event flushed at once, in a kept-open stream (rc $rc)" eval \
	'test $rc -eq 28 && has_events "$tmp/g3" 0'
stop gzip

# --- TLS -------------------------------------------------------------------------------

if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/key.pem" \
	-out "$tmp/cert.pem" >/dev/null 2>&1; then
	start tls --tls "$tmp/cert.pem" "$tmp/key.pem" --events "$tmp/ev.ndjson" \
		--connections status:201,all-close
	u=${url[tls]}
	check "--tls: the URL is https://127.0.0.1:PORT" \
		eval '[[ $u =~ ^https://127\.0\.0\.1:[0-9]+$ ]]'
	get "$tmp/t0" "$u"
	check "--tls: an untrusted certificate fails the handshake (rc $rc)" test "$rc" -eq 60
	get "$tmp/t1" --cacert "$tmp/cert.pem" "$u"
	check "--tls: a failed handshake is no connection; the first item" \
		status_is "$tmp/t1.h" 201
	get "$tmp/t2" -k "$u"
	check "--tls: the stream over TLS (rc $rc)" eval \
		'test $rc -eq 0 && has_events "$tmp/t2" 0'
	stop tls
else
	check "openssl makes a self-signed certificate" false
fi

# --- fast mode ------------------------------------------------------------------------

printf 'data: 1\r\n\r\ndata: 2\r\n\r\nid: 3\r\ndata: 3\r\n\r\ndata: 4\n\n' >"$tmp/fast"
start fast --fast "$tmp/fast" --connections 3,2-mid,1-reset,all-close,1-silent,all
u=${url[fast]}
first3=$'data: 1\r\n\r\ndata: 2\r\n\r\nid: 3\r\ndata: 3\r\n\r\n'
first1=$'data: 1\r\n\r\n'
mid=$'data: 1\r\n\r\ndata: 2\r\n\r\nid: 3\r\nda'
get "$tmp/f1" -H "Last-Event-ID: 1" "$u"
check "--fast N: N events of the file, blank lines ending them (rc $rc)" eval \
	'test $rc -eq 0 && same "$tmp/f1" "$first3"'
get "$tmp/f2" "$u"
check "--fast N-mid: N events and half the next (rc $rc)" eval \
	'test $rc -eq 18 && same "$tmp/f2" "$mid"'
get "$tmp/f3" "$u"
check "--fast N-reset (rc $rc)" eval \
	'test $rc -eq 56 && same "$tmp/f3" "$first1"'
get "$tmp/f4" "$u"
check "--fast all-close: the file's bytes (rc $rc)" eval \
	'test $rc -eq 0 && cmp -s "$tmp/f4" "$tmp/fast"'
get "$tmp/f5" --max-time 0.5 "$u"
check "--fast N-silent (rc $rc)" eval \
	'test $rc -eq 28 && same "$tmp/f5" "$first1"'
get "$tmp/f6" --max-time 0.5 "$u"
check "--fast all: the file, kept open (rc $rc)" eval \
	'test $rc -eq 28 && cmp -s "$tmp/f6" "$tmp/fast"'
stop fast

yes $'data: 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghij\n' |
	head -c $((256 * 1024 * 1024)) >"$tmp/big"
start big --fast "$tmp/big" --connections all-close
get "$tmp/big.got" "${url[big]}"
check "--fast: the whole 256 MiB" cmp -s "$tmp/big.got" "$tmp/big"
rm -f "$tmp/big.got"
speed=$(curl -sS --max-time 30 -o /dev/null -w '%{speed_download}' "${url[big]}")
speed=$((${speed%.*} / 1000000))
check "--fast: at least 300 MB/s over loopback ($speed MB/s)" test "$speed" -ge 300
curl -sS -N --max-time 30 "${url[big]}" 2>/dev/null | head -c 1000 >/dev/null
sleep 0.3
check "a client leaving mid-write is no error (stderr stays empty)" \
	test ! -s "$tmp/big.err"
stop big

# --- 100,000 events ---------------------------------------------------------------------

seq 100000 | sed 's/.*/{"id":"&","data":"row &"}/' >"$tmp/many.ndjson"
start many --events "$tmp/many.ndjson" --connections all-close
t0=$EPOCHREALTIME
get "$tmp/m1" "${url[many]}"
ms=$(elapsed_ms "$t0")
check "--events: 100,000 events in one connection ($ms ms)" eval \
	'test $rc -eq 0 && test "$(grep -c "^data: row " "$tmp/m1")" -eq 100000 && test "$ms" -lt 5000'
get "$tmp/m2" -H "Last-Event-ID: 99990" "${url[many]}"
check "--events: resume near the end of 100,000" \
	test "$(grep -c "^data: row " "$tmp/m2")" -eq 10
stop many

# --- warnings and bad command lines --------------------------------------------------------

printf '%s\n' '{"data":"ok","bogus":1}' 'not json' '[1,2]' '{"data":"fine"}' >"$tmp/bad.ndjson"
start warn --events "$tmp/bad.ndjson" --connections all-close
get "$tmp/w1" "${url[warn]}"
check "bad lines are skipped" same "$tmp/w1" $'data: ok\n\ndata: fine\n\n'
stop warn noisy
check "warnings name the file, line and fault" eval \
	'grep -q "bad.ndjson:1: unknown key .bogus." "$tmp/warn.err" && grep -q "bad.ndjson:2: not JSON" "$tmp/warn.err" && grep -q "bad.ndjson:3: not a JSON object" "$tmp/warn.err"'

bad() { # bad ARGS...: the server refuses to start, exit 2, saying why
	python3 "$server" "$@" >"$tmp/bad.out" 2>"$tmp/bad.err"
	test $? -eq 2 && test ! -s "$tmp/bad.out" && test -s "$tmp/bad.err"
}
check "refused: a bad SPEC item" bad --events "$tmp/ev.ndjson" --connections 2-bogus
check "refused: status:99" bad --events "$tmp/ev.ndjson" --connections status:99
check "refused: a missing events file" bad --events "$tmp/missing"
check "refused: --events and --fast" bad --events "$tmp/ev.ndjson" --fast "$tmp/fast"
check "refused: neither --events nor --fast" bad
check "refused: --chunk 0" bad --events "$tmp/ev.ndjson" --chunk 0
check "refused: --heartbeat 0" bad --events "$tmp/ev.ndjson" --heartbeat 0
check "refused: --eol bad" bad --events "$tmp/ev.ndjson" --eol bad

if [ "$failed" -gt 0 ]; then
	echo "$passed checks passed, $failed failed"
	exit 1
fi
echo "$passed checks passed"
