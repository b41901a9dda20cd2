#!/usr/bin/env bats
# fuzz.bats - each libFuzzer harness of tests/fuzz/ (scripts/fuzz): its
# regression inputs (inputs that once crashed it), its seed corpus, then a
# short run of new inputs. A crash fails the test and names the file that
# holds its input; scripts/fuzz --time 600 NAME fuzzes for longer.

load helpers/common

setup() {
	setup_scratch
}

# Seconds each harness is fuzzed here (SK_FUZZ_SECONDS to change it).
seconds=${SK_FUZZ_SECONDS:-8}

fuzz() {
	run "$SK_SRCDIR/scripts/fuzz" --time "$seconds" --build "$SK_BUILDDIR/fuzz" "$1"
	printf '%s\n' "$output" | tail -n 40
	assert_status 0
	[[ "${lines[${#lines[@]} - 1]}" =~ ^$1:\ [0-9]+\ executions\ in\ [0-9]+\ s,\ no\ crash$ ]]
}

@test "the SSE parser gives the same events however its input is cut" {
	fuzz sse-parse
}

@test "the envelope's strings are JSON whatever the bytes, and --json embeds only JSON" {
	fuzz json-string
}

@test "a row the one pass takes is what json-c writes back, byte for byte" {
	fuzz written
}

@test "the line reader gives every line at its offset, whatever the bytes and the limit" {
	fuzz lines
}

@test "endpoint arguments and files: no crash, no secret value in a message or a label" {
	fuzz endpoint
}

@test "SQS answers: no crash, errors of a kind and an exit code, messages where they say" {
	fuzz sqs-response
}

@test "a harness that crashes fails, naming the input" {
	# A harness of this test's own, which crashes on its seed.
	mkdir -p fz/corpus/boom
	printf '#include <stddef.h>\n#include <stdint.h>\n#include <stdlib.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { if (n > 0 && d[0] == 0x42) abort(); return 0; }\n' \
		>fz/fuzz-boom.c
	printf 'B' >fz/corpus/boom/seed
	SK_FUZZ_DIR=$PWD/fz run "$SK_SRCDIR/scripts/fuzz" --time 5 --build "$SK_BUILDDIR/fuzz" boom
	assert_status 1
	[[ "${lines[${#lines[@]} - 1]}" =~ ^boom:\ crashed\;\ the\ input\ is\ in\ .*/fuzz-crashes/boom/crash- ]]
}

@test "a regression input that crashes again fails" {
	mkdir -p fz/corpus/boom fz/regressions/boom
	printf '#include <stddef.h>\n#include <stdint.h>\n#include <stdlib.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { if (n == 3 && d[0] == 0x42) abort(); return 0; }\n' \
		>fz/fuzz-boom.c
	printf 'Bxy' >fz/regressions/boom/kept
	SK_FUZZ_DIR=$PWD/fz run "$SK_SRCDIR/scripts/fuzz" --time 0 --build "$SK_BUILDDIR/fuzz" boom
	assert_status 1
	assert_equal "${lines[${#lines[@]} - 1]}" "boom: a regression input crashes it again (see $SK_BUILDDIR/fuzz/fuzz-boom.log)"
}
