#!/bin/bash
# Bad archive names and unreadable sources: one clear error line, no snapshot, no staging left.
. "$(dirname "$0")/lib.sh"

tapir datastore create srcstore "$T/ds" >/dev/null
mkdir -p "$T/d"
seq 1 100 >"$T/d/a"
mkfifo "$T/fifo"

b() { tapir backup --store srcstore --type host --id s "$@"; }
expect_fail "archive name 'root' must end in .pxar or .img" b root:"$T/d"
expect_fail "archive name 'root.tar' must end in .pxar or .img" b root.tar:"$T/d"
expect_fail "archive name 'disk.img.fidx' must end in .pxar or .img" b disk.img.fidx:"$T/d/a"
expect_fail "invalid archive name '.pxar'" b .pxar:"$T/d"
expect_fail "invalid archive name 'a b.pxar'" b "a b.pxar:$T/d"
expect_fail "invalid backup source 'root.pxar'" b root.pxar
expect_fail "invalid backup source 'root.pxar:'" b root.pxar:
expect_fail "archive name 'x.pxar' given twice" b x.pxar:"$T/d" x.pxar:"$T/d"
# sources that cannot be read: a FIFO as image, a directory as image, a vanished path, a read error
expect_fail "backup source $T/fifo is not a regular file" b disk.img:"$T/fifo"
expect_fail "backup source $T/d is not a regular file" b disk.img:"$T/d"
rm -rf "$T/gone"; mkdir "$T/gone"; rmdir "$T/gone"
expect_fail "backup source $T/gone: No such file or directory" b root.pxar:"$T/gone"
# /proc/self/mem is a regular file whose first page is never mapped: read() fails with EIO
expect_fail "archive mem.img: .*/proc/self/mem.*Input/output error" b mem.img:/proc/self/mem
[ "$(tapir snapshot list --store srcstore | wc -l)" = 0 ] || fail "a failed backup left a snapshot"
[ -z "$(ls -A "$T/ds/.tmp" 2>/dev/null)" ] || fail "staging left in .tmp"

# restore: archive names without .pxar/.img
tapir backup --store srcstore --type host --id s --time 2026-01-01T00:00:00Z root.pxar:"$T/d" >/dev/null
snap=host/s/2026-01-01T00:00:00Z
expect_fail "archive 'root': expected NAME.pxar or NAME.img" tapir restore --store srcstore $snap root "$T/r"
expect_fail "archive 'index.json.blob': expected NAME.pxar or NAME.img" tapir restore --store srcstore $snap index.json.blob "$T/r"
expect_fail "archive 'catalog.pcat1': expected NAME.pxar or NAME.img" tapir restore --store srcstore $snap catalog.pcat1 "$T/r"
[ ! -e "$T/r" ] || fail "failed restore left $T/r"
tapir restore --store srcstore $snap root.pxar "$T/r"
diff -r "$T/d" "$T/r" || fail "restore differs"
echo ok
