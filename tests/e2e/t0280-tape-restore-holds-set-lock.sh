#!/bin/bash
# While a restore runs (here: waiting for its first tape), a tape backup into the same media set fails and names the restore's task; once the restore ends, the backup goes on in that set.
. "$(dirname "$0")/lib.sh"
F=$T
at_exit '[ -z "${RPID:-}" ] || kill "$RPID" 2>/dev/null'

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 4M >/dev/null
tapir drive create d2 --type virtual --path "$F/vtl" --max-size 4M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
mkdir -p "$T/src"
head -c 300000 /dev/urandom >"$T/src/data"
tapir backup --store store1 --type host --id h1 --time "2026-11-01T00:00:00Z" root.pxar:"$T/src" >/dev/null
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
set_uuid=$(json_get "$out" 'j["media-set"]')
tapir tape unload --drive d1 >/dev/null

# the restore holds the set: it waits on d1 for a tape nobody inserts
TAPIR_VIRTUAL_MANUAL_LOAD=1 TAPIR_MEDIA_POLL_MS=100 "$TAPIR_BIN" tape restore "$set_uuid" store2 --drive d1 \
	--output-format json >"$T/o1" 2>"$T/e1" &
RPID=$!
for _ in $(seq 300); do grep -q "please insert tape" "$T/e1" && break; sleep 0.1; done
grep -q "please insert tape" "$T/e1" || fail "the restore does not wait for its tape: $(cat "$T/e1")"
upid=$(head -n 1 "$T/o1" | sed 's/^task //')
case $upid in UPID:*) ;; *) fail "no task line: $(cat "$T/o1")" ;; esac

# a second day's backup to tape, on the other drive, into the pool's current set: refused, naming the restore
tapir backup --store store1 --type host --id h1 --time "2026-11-02T00:00:00Z" root.pxar:"$T/src" >/dev/null
rc=0
tapir tape backup store1 p1 --drive d2 >"$T/o2" 2>"$T/e2" || rc=$?
[ $rc -ne 0 ] || fail "a backup into a set under restore must fail: $(cat "$T/o2")"
grep -qF "media set $set_uuid is locked by $upid" "$T/e2" || fail "the error must name the restore: $(cat "$T/e2")"
# said once, on the last line (the task's log has its TASK ERROR line; the terminal does not repeat it)
tail -n 1 "$T/e2" | grep -qF "is locked by $upid" || fail "the error is not the last line: $(cat "$T/e2")"
[ "$(grep -c "is locked by" "$T/e2")" = 1 ] || fail "the error is repeated: $(cat "$T/e2")"
[ "$(tapir media content --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
	|| fail "the refused backup wrote something"

# the restore ends (stopped); the next backup appends to the same set
tapir task stop "$upid" >/dev/null
rc=0; wait "$RPID" || rc=$?; RPID=
[ $rc -ne 0 ] || fail "a stopped restore must exit non-zero"
out=$(tapir tape backup store1 p1 --drive d2 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["media-set"]')" = "$set_uuid" ] || fail "the backup after the restore should continue the set: $out"
[ "$(json_get "$out" 'j["snapshots-written"]')" = 1 ] || fail "backup after the restore: $out"
echo ok
