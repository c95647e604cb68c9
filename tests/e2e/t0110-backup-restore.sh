#!/bin/bash
# Backup of a tree and an image, twice with a change; verify, restore and compare; bad input.
. "$(dirname "$0")/lib.sh"

tapir datastore create store1 "$T/ds" >/dev/null
mkdir -p "$T/src/d/sub"
for i in $(seq 1 30); do seq 1 $((i * 300)) >"$T/src/d/f$i"; done
head -c 2000000 /dev/urandom >"$T/src/d/sub/rand"
: >"$T/src/d/empty"
ln -s f1 "$T/src/d/link"
ln "$T/src/d/f2" "$T/src/d/sub/hard"
mkfifo "$T/src/d/fifo"
touch -d '2020-02-03 04:05:06.123456789' "$T/src/d/f3"
head -c 5000000 /dev/urandom >"$T/src/img"
cp -a "$T/src" "$T/orig"

tapir backup --store store1 --type host --id h1 --time 2026-01-01T00:00:00Z root.pxar:"$T/src/d" disk.img:"$T/src/img" >/dev/null
seq 1 5 >"$T/src/d/f1"
out=$(tapir backup --store store1 --type host --id h1 --time 2026-01-02T00:00:00Z --output-format json \
	root.pxar:"$T/src/d" disk.img:"$T/src/img" | tail -n 1)
# the second backup re-uses every unchanged chunk
[ "$(json_get "$out" 'j["duplicate-chunks"] >= 1')" = True ] || fail "no dedup: $out"
[ "$(tapir snapshot list --store store1 | wc -l)" = 2 ] || fail "expected 2 snapshots"
tapir verify --store store1 >/dev/null
tapir catalog dump --store store1 host/h1/2026-01-01T00:00:00Z | grep -q '^f 2000000 .* /root.pxar.didx/sub/rand$' \
	|| fail "catalog dump lacks sub/rand"

tapir restore --store store1 host/h1/2026-01-01T00:00:00Z root.pxar "$T/r1" 
tapir restore --store store1 host/h1/2026-01-01T00:00:00Z disk.img.fidx "$T/r1.img"
diff -r --no-dereference -x fifo "$T/orig/d" "$T/r1" || fail "tree 1 differs"
cmp "$T/orig/img" "$T/r1.img" || fail "image 1 differs"
[ "$(stat -c %Y.%y "$T/r1/f3")" = "$(stat -c %Y.%y "$T/orig/d/f3")" ] || fail "mtime not restored"
[ "$(stat -c %i "$T/r1/f2")" = "$(stat -c %i "$T/r1/sub/hard")" ] || fail "hardlink not restored"
[ -p "$T/r1/fifo" ] && [ -L "$T/r1/link" ] || fail "fifo/symlink not restored"
tapir restore --store store1 host/h1/2026-01-02T00:00:00Z root.pxar "$T/r2"
diff -r --no-dereference -x fifo "$T/src/d" "$T/r2" || fail "tree 2 differs"

# bad input: one clear line, non-zero exit, nothing created
expect_fail "invalid backup type" tapir backup --store store1 --type lxc --id x root.pxar:"$T/src/d"
expect_fail "invalid backup id" tapir backup --store store1 --type host --id ../x root.pxar:"$T/src/d"
expect_fail "must end in .pxar or .img" tapir backup --store store1 --type host --id x root.tar:"$T/src/d"
expect_fail "backup source .*/missing" tapir backup --store store1 --type host --id x root.pxar:"$T/missing"
expect_fail "not a directory" tapir backup --store store1 --type host --id x root.pxar:"$T/src/img"
expect_fail "already exists" tapir backup --store store1 --type host --id h1 --time 2026-01-02T00:00:00Z root.pxar:"$T/src/d"
expect_fail "older than" tapir backup --store store1 --type host --id h1 --time 2025-01-01T00:00:00Z root.pxar:"$T/src/d"
expect_fail "datastore 'nostore' does not exist" tapir backup --store nostore --type host --id x root.pxar:"$T/src/d"
expect_fail "namespace 'nons' does not exist" tapir backup --store store1 --ns nons --type host --id x root.pxar:"$T/src/d"
expect_fail "does not exist" tapir restore --store store1 host/h1/2030-01-01T00:00:00Z root.pxar "$T/rx"
expect_fail "has no archive" tapir restore --store store1 host/h1/2026-01-01T00:00:00Z other.pxar "$T/rx"
expect_fail "already exists" tapir restore --store store1 host/h1/2026-01-01T00:00:00Z disk.img "$T/r1.img"
expect_fail "malformed snapshot path|invalid backup time" tapir restore --store store1 host/h1 root.pxar "$T/rx"
[ ! -e "$T/rx" ] || fail "failed restore left $T/rx"
[ "$(tapir snapshot list --store store1 | wc -l)" = 2 ] || fail "a failed backup left a snapshot"
[ -z "$(ls -A "$T/ds/.tmp" 2>/dev/null)" ] || fail "staging left in .tmp: $(ls "$T/ds/.tmp")"

# a corrupt chunk: verify names it and the snapshots using it; restore fails cleanly
chunk=$(find "$T/ds/.chunks" -type f -size +1000k | head -1)
printf 'XXXX' | dd of="$chunk" bs=1 seek=100 conv=notrunc status=none
expect_fail_last "chunk $(basename "$chunk") .*CRC mismatch.*referenced by host/h1/2026-01-0[12]T00:00:00Z" tapir verify --store store1
# the corrupt chunk was set aside as .bad; verify now reports it missing
[ -n "$(find "$T/ds/.chunks" -name "$(basename "$chunk").*.bad")" ] || fail "corrupt chunk not renamed to .bad"
echo ok
