#!/bin/bash
# Truncated, wrong-magic and wrongly sized index files and manifest blobs: restore and verify name the file.
. "$(dirname "$0")/lib.sh"

tapir datastore create idxstore "$T/ds" >/dev/null
mkdir -p "$T/src"
for i in $(seq 1 20); do seq 1 $((i * 500)) >"$T/src/f$i"; done
head -c 3000000 /dev/urandom >"$T/img"
tapir backup --store idxstore --type host --id c --time 2026-01-01T00:00:00Z root.pxar:"$T/src" disk.img:"$T/img" >/dev/null
snap=host/c/2026-01-01T00:00:00Z
dir=$T/ds/$snap
cp -a "$dir" "$T/orig"
nchunks=$(find "$T/ds/.chunks" -type f | wc -l)

# each case: damage one file, restore and verify must fail naming it, then put it back
check() { # FILE RESTORE_ARCHIVE PATTERN
	local file=$1 arc=$2 pat=$3
	expect_fail "$file.*$pat|$pat.*$file" tapir restore --store idxstore "$snap" "$arc" "$T/out"
	[ ! -e "$T/out" ] || fail "failed restore of $arc left $T/out"
	expect_fail_last "$snap: .*$file.*$pat|$snap: .*$pat.*$file" tapir verify --store idxstore "$snap"
	cp -a "$T/orig/$file" "$dir/$file"
}

truncate -s 100 "$dir/disk.img.fidx"
check disk.img.fidx disk.img "truncated fixed index"
truncate -s 3000 "$dir/root.pxar.didx"
check root.pxar.didx root.pxar "truncated"
printf 'NOTMAGIC' | dd of="$dir/disk.img.fidx" bs=1 conv=notrunc status=none
check disk.img.fidx disk.img "wrong magic"
printf 'NOTMAGIC' | dd of="$dir/root.pxar.didx" bs=1 conv=notrunc status=none
check root.pxar.didx root.pxar "wrong magic"
# size not matching the header: one digest too many / a torn entry
head -c 32 /dev/zero >>"$dir/disk.img.fidx"
check disk.img.fidx disk.img "size mismatch"
head -c 7 /dev/zero >>"$dir/root.pxar.didx"
check root.pxar.didx root.pxar "size|multiple of 40"
# a consistent index that is not the one the manifest records
python3 - "$dir/disk.img.fidx" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); b[4096] ^= 0xff; open(p, 'wb').write(b)
PY
check disk.img.fidx disk.img "checksum"

# the manifest blob: truncated, wrong magic, flipped payload (CRC)
truncate -s 10 "$dir/index.json.blob"
check index.json.blob root.pxar "truncated|too short|short"
printf 'NOTMAGIC' | dd of="$dir/index.json.blob" bs=1 conv=notrunc status=none
check index.json.blob disk.img "magic"
size=$(stat -c %s "$dir/index.json.blob")
printf 'X' | dd of="$dir/index.json.blob" bs=1 seek=$((size - 3)) conv=notrunc status=none
check index.json.blob root.pxar "CRC"

# nothing was lost: the chunks are all there and the snapshot verifies and restores
[ "$(find "$T/ds/.chunks" -type f | wc -l)" = "$nchunks" ] || fail "chunks changed"
[ -z "$(find "$T/ds/.chunks" -name '*.bad')" ] || fail "an index problem marked chunks bad"
tapir verify --store idxstore >/dev/null
tapir restore --store idxstore "$snap" root.pxar "$T/r"
diff -r "$T/src" "$T/r" || fail "restore differs"
echo ok
