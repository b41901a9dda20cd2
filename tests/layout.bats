#!/usr/bin/env bats
# layout.bats - the shape lib/README and DESIGN.md promise: small tools that
# parse options and call lib/, lib files of one concern each, every lib file
# named in lib/README, and no endpoint kind named outside its own modules.

load helpers/common

# The modules that see only the source and sink interfaces.
# kinds.c, the registry, is where kinds are named: one line each.
generic_modules=(source.c sink.c reader.c writer.c writer_readahead.c writer_rows.c
	writer_text.c lag.c listing.c store_listing.c commit.c on_error.c options.c commands.c
	endpoint.c endpoint_label.c endpoints_file.c supervise.c)

@test "no program in tools/ is over 400 lines" {
	run awk 'FNR == 1 && prev { if (n > 400) print prev ": " n " lines" }
	         { prev = FILENAME; n = FNR }
	         END { if (n > 400) print prev ": " n " lines" }' "$SK_SRCDIR"/tools/*.c
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "no file of lib/ is over 700 lines" {
	run awk 'FNR == 1 && prev { if (n > 700) print prev ": " n " lines" }
	         { prev = FILENAME; n = FNR }
	         END { if (n > 700) print prev ": " n " lines" }' "$SK_SRCDIR"/lib/*.[ch]
	[ "$status" -eq 0 ]
	[ -z "$output" ] || { echo "$output"; false; }
}

@test "lib/README names every file of lib/ that holds code" {
	local f missing=
	for f in "$SK_SRCDIR"/lib/*.c; do
		f=${f##*/}
		grep -q "^  $f " "$SK_SRCDIR/lib/README" || missing="$missing $f"
	done
	[ -z "$missing" ] || { echo "not in lib/README:$missing"; false; }
}

@test "no endpoint kind is named in tools/ or the generic modules" {
	local f files=("$SK_SRCDIR"/tools/*.c)
	for f in "${generic_modules[@]}"; do
		[ -f "$SK_SRCDIR/lib/$f" ] && files+=("$SK_SRCDIR/lib/$f")
	done
	run grep -nE 'SK_EP_[A-Z]|"(kafka|file|dataset|sqlite|stdio|sse|sqs)(:|://|\.|")' "${files[@]}"
	[ "$status" -eq 1 ] || { echo "$output"; false; }
}

@test "the programs in tools/ keep no mutable state at file scope" {
	# A static that is not const and not a function: a variable.
	run grep -nP '^static (?!const )(?![^=;]*\()[^;]*(;|=)' "$SK_SRCDIR"/tools/*.c
	[ "$status" -eq 1 ] || { echo "$output"; false; }
}
