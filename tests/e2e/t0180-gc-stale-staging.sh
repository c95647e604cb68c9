#!/bin/bash
# A backup killed mid-run leaves its staging directory; GC removes it once the grace period is over (and
# reports it), never while a running backup holds it.
. "$(dirname "$0")/lib.sh"

tapir datastore create stalestore "$T/ds" >/dev/null
head -c 400000000 /dev/urandom >"$T/big.img"
mkdir -p "$T/small"
seq 1 1000 >"$T/small/a"

wait_staging() { # waits until N entries are in .tmp
	for _ in $(seq 1 600); do
		[ "$(ls -A "$T/ds/.tmp" 2>/dev/null | wc -l)" -ge "$1" ] && return 0
		sleep 0.05
	done
	fail "no staging directory appeared"
}

# the killed backup
"$TAPIR_BIN" backup --store stalestore --type vm --id 100 disk.img:"$T/big.img" >/dev/null 2>&1 &
pid=$!
wait_staging 1
sleep 0.3
kill -KILL $pid
wait $pid 2>/dev/null && fail "killed backup reported success"
dead=$(ls "$T/ds/.tmp")
case $dead in backup-vm-100-*) ;; *) fail "unexpected staging entry '$dead'" ;; esac
[ -z "$(tapir snapshot list --store stalestore)" ] || fail "a snapshot appeared"

# fresh: left in place and counted as stale
out=$(tapir garbage-collect --store stalestore --output-format json 2>"$T/gc.err" | tail -n 1)
[ "$(json_get "$out" 'j["staging-stale"]')" = 1 ] || fail "stale count: $out"
[ "$(json_get "$out" 'j["staging-removed"]')" = 0 ] || fail "fresh staging removed: $out"
[ -d "$T/ds/.tmp/$dead" ] || fail "fresh staging directory removed"
grep -q "$dead belongs to no running writer" "$T/gc.err" || fail "no warning: $(cat "$T/gc.err")"

# a running backup of another group, with the dead one aged past the grace period
touch -d '2 hours ago' "$T/ds/.tmp/$dead"
tapir backup --store stalestore --type vm --id 101 disk.img:"$T/big.img" >"$T/live.out" 2>&1 &
live=$!
wait_staging 2
touch -d '2 hours ago' "$T/ds/.tmp"/backup-vm-101-*   # old, but locked by its running backup
out=$(tapir garbage-collect --store stalestore --dry-run --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$out" 'j["staging-removed"]')" = 1 ] || fail "dry run count: $out"
[ -d "$T/ds/.tmp/$dead" ] || fail "dry run removed the staging directory"
tapir garbage-collect --store stalestore >"$T/gc.out" 2>"$T/gc.err" || fail "gc failed: $(cat "$T/gc.err")"
grep -q "^staging: 1 entries of writers that are gone, 1 removed" "$T/gc.out" || fail "gc output: $(cat "$T/gc.out")"
grep -q "removed stale staging entry .*/$dead" "$T/gc.out" || fail "removal not reported: $(cat "$T/gc.out")"
[ ! -e "$T/ds/.tmp/$dead" ] || fail "stale staging directory kept"
wait $live || fail "running backup failed: $(cat "$T/live.out")"
[ -z "$(ls -A "$T/ds/.tmp")" ] || fail "staging left behind: $(ls "$T/ds/.tmp")"
tapir verify --store stalestore >/dev/null
snap=$(tapir snapshot list --store stalestore | grep '^vm/101/') || fail "no snapshot of the running backup"
tapir restore --store stalestore "$snap" disk.img "$T/r.img"
cmp "$T/big.img" "$T/r.img" || fail "image of the backup that ran during GC differs"
echo ok
