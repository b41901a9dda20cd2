#!/usr/bin/env bats
# tsan.bats - the threaded paths under ThreadSanitizer: the tools built
# with --enable-tsan (in the build directory's tsan/) run the suites that
# drive --filter's thread, stream-write's read-ahead and the SQS source's
# thread, and the unit test of the filter thread. Any report of TSan fails
# the test (it is written to a file of its own, so that none goes unseen).
# Not in a build with --enable-sanitizers: TSan cannot be combined with
# ASan, and the plain build's run covers it. Kafka is not here: librdkafka
# starts its threads with C11's thrd_create, which glibc runs without the
# pthread_create that GCC 12's TSan intercepts, and TSan then crashes in
# librdkafka's first thread.

load helpers/common

setup_file() {
	[ "${SK_SANITIZERS:-no}" != yes ] || return 0    # each test skips, saying why
	tsan=$SK_BUILDDIR/tsan
	mkdir -p "$tsan"
	if [ ! -f "$tsan/Makefile" ]; then
		(cd "$tsan" && "$SK_SRCDIR/configure" -q --enable-tsan) >"$tsan/configure.out" 2>&1 ||
			{ cat "$tsan/configure.out" >&3; return 1; }
	fi
	# A make of its own: not the make check that runs this (its MAKEFLAGS
	# carry TESTS=..., which would run this suite again in there).
	{ env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$tsan" -s -j2 all &&
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$tsan" -s tests/unit/test-filter; } \
		>"$tsan/make.out" 2>&1 || { cat "$tsan/make.out" >&3; return 1; }
	export TSAN_BUILD=$tsan
}

setup() {
	[ "${SK_SANITIZERS:-no}" != yes ] ||
		skip "ThreadSanitizer cannot be combined with the sanitizers of this build; the plain build runs it"
	setup_scratch
	mkdir -p reports
	export TSAN_OPTIONS="halt_on_error=1 exitcode=66 log_path=$PWD/reports/tsan"
}

# no_reports: TSan wrote nothing.
no_reports() {
	if [ -n "$(ls reports)" ]; then
		cat reports/* | head -n 60
		return 1
	fi
}

@test "tsan: the filter thread's unit test runs clean" {
	run "$TSAN_BUILD/tests/unit/test-filter"
	printf '%s\n' "$output" | grep -v '^ok' | tail -n 20
	assert_status 0
	[ "$(printf '%s\n' "$output" | grep -c '^not ok')" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -c '^ok')" -ge 20 ]
	no_reports
}

@test "tsan: --filter's thread, stream-write's read-ahead and the SQS thread run clean through their suites" {
	PATH=$TSAN_BUILD/tools:$PATH run bats --tap "$SK_SRCDIR/tests/jq.bats" "$SK_SRCDIR/tests/stream-write-fast.bats" \
		"$SK_SRCDIR/tests/sqs-read.bats"
	printf '%s\n' "$output" | grep -v '^ok' | head -n 40
	assert_status 0
	# Each suite ran its tests with the TSan tools.
	[ "$(printf '%s\n' "$output" | grep -c '^ok')" -ge 40 ]
	no_reports
}
