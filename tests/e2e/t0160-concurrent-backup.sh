#!/bin/bash
# Two backups into one group at once: the second fails naming the locked group, the first succeeds;
# garbage collection running during a backup leaves it intact.
. "$(dirname "$0")/lib.sh"

tapir datastore create concstore "$T/ds" >/dev/null
head -c 300000000 /dev/urandom >"$T/big.img"
mkdir -p "$T/small"
seq 1 1000 >"$T/small/a"

tapir backup --store concstore --type vm --id 100 --time 2026-01-01T00:00:00Z disk.img:"$T/big.img" \
	>"$T/first.out" 2>"$T/first.err" &
first=$!
# wait until the first backup is writing (its staging directory exists)
for _ in $(seq 1 600); do
	[ -n "$(ls -A "$T/ds/.tmp" 2>/dev/null)" ] && break
	sleep 0.05
done
[ -n "$(ls -A "$T/ds/.tmp" 2>/dev/null)" ] || fail "first backup never started writing"
expect_fail "backup group concstore:vm/100 is locked by another backup" \
	tapir backup --store concstore --type vm --id 100 --time 2026-01-01T00:00:01Z root.pxar:"$T/small"
# another group is not blocked, and GC may run meanwhile
tapir backup --store concstore --type vm --id 101 root.pxar:"$T/small" >/dev/null
tapir garbage-collect --store concstore >"$T/gc.out"
kill -0 $first 2>/dev/null || echo "note: first backup ended before GC finished" >&2
wait $first || fail "first backup failed: $(cat "$T/first.err")"
grep -q "snapshot concstore:vm/100/2026-01-01T00:00:00Z" "$T/first.out" || fail "first backup output: $(cat "$T/first.out")"
[ "$(tapir snapshot list --store concstore | wc -l)" = 2 ] || fail "expected 2 snapshots"
[ -z "$(ls -A "$T/ds/.tmp")" ] || fail "staging left behind"
tapir verify --store concstore >/dev/null
tapir restore --store concstore vm/100/2026-01-01T00:00:00Z disk.img "$T/r.img"
cmp "$T/big.img" "$T/r.img" || fail "image differs"
echo ok
