#!/bin/bash
# TapeAlert before writing: a critical flag stops the backup before any write and marks the tape damaged; a warning flag only warns; the next job uses another tape.
. "$(dirname "$0")/lib.sh"

tapir datastore create store1 "$T/ds1" >/dev/null
tapir drive create d1 --type virtual --path "$T/vtl" --max-size 64M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
mkdir -p "$T/src"
head -c 300000 /dev/urandom >"$T/src/data"
tapir backup --store store1 --type host --id h1 --time 2026-09-01T00:00:00Z root.pxar:"$T/src" >/dev/null

before=$(cd "$T/vtl" && md5sum tape-*)

# flag 4 (Media) and 20 (Clean now) are critical; 7 (Media life) is a warning
echo '{"tapealert": [4, 7, 20], "media": "tape1"}' >"$T/vtl/faults.json"
rc=0
tapir tape backup store1 p1 --drive d1 >"$T/out" 2>"$T/err" || rc=$?
[ $rc -ne 0 ] || fail "a critical TapeAlert flag must stop the backup"
tail -n 1 "$T/err" | grep -Eq "drive d1: critical TapeAlert flags 4 \(Media\), 20 \(Clean now\)" \
	|| fail "the error does not name the drive and the flags: $(cat "$T/err")"
grep -q "TapeAlert flag 7 (Media life)" "$T/err" "$T/out" || fail "the warning flag is not reported"
[ "$(cd "$T/vtl" && md5sum tape-*)" = "$before" ] || fail "something was written to the cartridges"
st=$(tapir media list --output-format json | python3 -c 'import json,sys; print({m["label-text"]: m["status"] for m in json.load(sys.stdin)}["tape1"])')
[ "$st" = damaged ] || fail "tape1 should be damaged, is $st"
[ "$(tapir media content --output-format json)" = "[]" ] || fail "no snapshot may be recorded"

# the next job, flags unchanged on tape1, leaves the damaged tape alone and
# writes to tape2 in a new set (at once: a set begun in the second the last
# one was labelled is dated a second later, so the pool's latest set is defined)
rc=0
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1) || rc=$?
[ $rc -eq 0 ] || fail "second backup failed: $out"
[ "$(json_get "$out" 'j["tapes"]')" = "['tape2']" ] || fail "the second job should use tape2 only: $out"
[ "$(json_get "$out" 'j["snapshots-written"]')" = 1 ] || fail "second job wrote no snapshot: $out"

# a warning flag alone: written, with the warning in the log
tapir backup --store store1 --type host --id h1 --time 2026-09-02T00:00:00Z root.pxar:"$T/src" >/dev/null
echo '{"tapealert": [7], "media": "tape2"}' >"$T/vtl/faults.json"
tapir tape backup store1 p1 --drive d1 >"$T/out" 2>"$T/err" || fail "a warning flag must not stop the backup: $(cat "$T/err")"
grep -q "drive d1: TapeAlert flag 7 (Media life) is set" "$T/err" || fail "warning not logged: $(cat "$T/err")"
[ "$(tapir media content --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] \
	|| fail "both snapshots should be on tape"

# a bad flag number in faults.json is an error naming it
echo '{"tapealert": [65]}' >"$T/vtl/faults.json"
expect_fail_last 'tapealert.*1\.\.64' tapir tape backup store1 p1 --drive d1
echo ok
