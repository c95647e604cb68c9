#!/bin/bash
# A corrupted block (and a read error) under one snapshot's chunk: that snapshot fails and is named, the others are restored and verify.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir datastore create store3 "$F/ds3" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 16M >/dev/null
tapir pool create p1 >/dev/null
tapir tape label --drive d1 --label-text tape1 --pool p1 >/dev/null
tapir tape label --drive d1 --label-text tape2 --pool p1 >/dev/null
daily_backups store1 03 700000 1 2 3 4 5
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 5 ] || fail "tape backup: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')

# a block inside a chunk archive that only snapshot N needs, from the plan of its restore
chunk_block() {
	local plan
	plan=$(tapir tape restore "$set_uuid" store1=store3 "store1:host/h1/2026-03-0${1}T00:00:00Z" --drive d1 --dry-run \
		--output-format json | tail -n 1)
	# the biggest chunk read is its own data chunk (the small ones may be shared with other days)
	json_get "$plan" 'max([(r["needed-bytes"], t["label"], r["first-block"] + r["blocks"] // 2) for t in j["plan"]["tapes"] for r in t["reads"] if r["kind"] == "chunks"])[1:]'
}
restored_ok() { # STORE SNAPSHOTS...: each listed, verifies, and gives back its tree
	local store=$1; shift
	for d in "$@"; do
		tapir verify --store "$store" "host/h1/2026-03-0${d}T00:00:00Z" >/dev/null || fail "day $d does not verify in $store"
	done
	restored_as_copied "$store" 03 "$@"
}

# corrupted block under day 3
loc=$(chunk_block 3)
label=$(python3 -c 'import sys; print(eval(sys.argv[1])[0])' "$loc")
obj=$(python3 -c 'import sys; print(eval(sys.argv[1])[1])' "$loc")
echo "{\"corrupt\": $obj, \"media\": \"$label\"}" >"$F/vtl/faults.json"
rc=0
res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --output-format json 2>"$T/err" | tail -n 1) || rc=$?
[ $rc -ne 0 ] || fail "a failed snapshot must make the exit status non-zero: $res"
[ "$(json_get "$res" 'list(j["failed"])')" = "['store1:host/h1/2026-03-03T00:00:00Z']" ] || fail "day 3 should fail alone: $res"
[ "$(json_get "$res" '"missing" in j["failed"]["store1:host/h1/2026-03-03T00:00:00Z"]')" = True ] || fail "reason: $res"
# the reason says where the bad copy was: the tape and the file of the damaged chunk
[ "$(json_get "$res" '"tape '"$label"' file " in j["failed"]["store1:host/h1/2026-03-03T00:00:00Z"]')" = True ] \
	|| fail "the reason must name the damaged chunk's tape: $res"
[ "$(json_get "$res" 'len(j["restored"])')" = 4 ] || fail "the others should be restored: $res"
grep -q "host/h1/2026-03-03T00:00:00Z" "$T/err" || fail "the error line does not name the failed snapshot: $(cat "$T/err")"
[ ! -e "$F/ds2/host/h1/2026-03-03T00:00:00Z" ] || fail "the failed snapshot is visible in the target"
restored_ok store2 1 2 4 5
[ -z "$(ls -A "$F/ds2/.tmp/$set_uuid" 2>/dev/null)" ] || fail "staging left behind"

# the fault gone, the restore of day 3 completes what is missing
rm "$F/vtl/faults.json"
res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['store1:host/h1/2026-03-03T00:00:00Z']" ] || fail "rerun: $res"
[ "$(json_get "$res" 'len(j["skipped"])')" = 4 ] || fail "rerun skips the others: $res"
restored_ok store2 3

# a medium error under day 2's chunks
loc=$(chunk_block 2)
label=$(python3 -c 'import sys; print(eval(sys.argv[1])[0])' "$loc")
obj=$(python3 -c 'import sys; print(eval(sys.argv[1])[1])' "$loc")
echo "{\"read-error\": [$obj], \"media\": \"$label\"}" >"$F/vtl/faults.json"
rc=0
res=$(tapir tape restore "$set_uuid" store1=store3 --drive d1 --output-format json 2>"$T/err2" | tail -n 1) || rc=$?
[ $rc -ne 0 ] || fail "read error: exit status 0: $res"
[ "$(json_get "$res" 'list(j["failed"])')" = "['store1:host/h1/2026-03-02T00:00:00Z']" ] || fail "day 2 should fail alone: $res"
[ "$(json_get "$res" 'len(j["restored"])')" = 4 ] || fail "read error: the others should be restored: $res"
[ "$(json_get "$res" '"tape '"$label"' file " in j["failed"]["store1:host/h1/2026-03-02T00:00:00Z"]')" = True ] \
	|| fail "the reason must name where the tape could not be read: $res"
# the reader resumed at the next entry header after the damaged block (day 2's
# chunk spans three blocks; the error is in the middle one)
grep -q "medium error reading object $obj.*reading on from block" "$T/err2" || fail "no resync after the medium error: $(cat "$T/err2")"
restored_ok store3 1 3 4 5
[ ! -e "$F/ds3/host/h1/2026-03-02T00:00:00Z" ] || fail "the failed snapshot is visible in store3"
echo ok
