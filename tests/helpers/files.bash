# files.bash - file positions as cursors name them: OFFSET@DEV.INO.FP, the
# offset and the file it belongs to: its device and inode numbers, and FP,
# the 64-bit FNV-1a hash of its first min(256, OFFSET) bytes in hex. Worked
# out here independently of streamkit, with stat(1), od(1) and bash's
# 64-bit arithmetic, which wraps as FNV needs.

# fingerprint FILE OFFSET: FP of a position at OFFSET in FILE.
fingerprint() {
	local n=$(($2 < 256 ? $2 : 256)) h=$((0xcbf29ce484222325)) b
	for b in $(head -c "$n" "$1" | od -An -v -tu1); do
		h=$(((h ^ b) * 0x100000001b3))
	done
	printf '%016x' "$h"
}

# position_in FILE OFFSET: the position of OFFSET in FILE as it is now.
position_in() {
	printf '%s@%s.%s' "$2" "$(stat -c %d.%i "$1")" "$(fingerprint "$1" "$2")"
}

# cursor_in FILE OFFSET: the cursor of a line of FILE that ends at OFFSET.
cursor_in() {
	printf 'file:%s:0:%s' "$(realpath "$1")" "$(position_in "$1" "$2")"
}

# offset_of POSITION: the offset of a file position, without its file.
offset_of() {
	printf '%s' "${1%%@*}"
}
