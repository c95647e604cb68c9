#!/bin/bash
# Tape backup of daily snapshots over several virtual tapes, then selective restores into another datastore.
. "$(dirname "$0")/lib.sh"

tapir datastore create store1 "$T/ds1" >/dev/null
tapir datastore create store2 "$T/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$T/vtl" --max-size 12M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3 4 5 6; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done

# six days of a host backup: a shared base plus ~3 MB of new data a day
mkdir -p "$T/src/base"
head -c 1500000 /dev/urandom >"$T/src/base/common"
for d in 1 2 3 4 5 6; do
	head -c 3000000 /dev/urandom >"$T/src/day"
	seq 1 $((d * 1000)) >"$T/src/base/log"
	tapir backup --store store1 --type host --id h1 --time "2026-01-0${d}T00:00:00Z" root.pxar:"$T/src" >/dev/null
	cp -a "$T/src" "$T/copy$d"
done
tapir backup --store store1 --type vm --id 100 --time 2026-01-01T00:00:00Z disk.img:"$T/src/day" >/dev/null

out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 7 ] || fail "tape backup: $out"
[ "$(json_get "$out" 'len(j["tapes"]) >= 3')" = True ] || fail "expected >= 3 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')

# a second job writes nothing new
out2=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out2" 'j["snapshots-skipped"]')" = 7 ] || fail "second backup: $out2"
[ "$(json_get "$out2" 'j["chunks-written"]')" = 0 ] || fail "second backup wrote chunks: $out2"

# dry run: a plan, no tape touched, nothing created
plan=$(tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-01-03T00:00:00Z --drive d1 --dry-run \
	--output-format json | tail -n 1)
[ "$(json_get "$plan" 'j["tape_loads"]')" = 0 ] || fail "dry run loaded tapes: $plan"
[ "$(json_get "$plan" 'len(j["plan"]["tapes"]) >= 1')" = True ] || fail "dry run plan has no tapes: $plan"
[ -z "$(ls "$T/ds2" | grep -v '^\.')" ] || fail "dry run created something"
# in text: the snapshot and where it goes, each tape in order with its drive, the estimate
tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-01-03T00:00:00Z --drive d1 --dry-run >"$T/plan.txt" 2>&1
grep -q "^  selected store1:host/h1/2026-01-03T00:00:00Z -> store2:host/h1/2026-01-03T00:00:00Z ([0-9]* chunks)$" "$T/plan.txt" \
	|| fail "text plan: no snapshot line: $(cat "$T/plan.txt")"
for t in $(json_get "$plan" '" ".join(t["label"] for t in j["plan"]["tapes"])'); do
	grep -Eq "^  $t +seq [0-9]+ +drive d1 " "$T/plan.txt" || fail "text plan: no line for tape $t: $(cat "$T/plan.txt")"
done
grep -Eq "^estimated tape time \(LTO model\): [0-9]+ (h|min|s)" "$T/plan.txt" || fail "text plan: no estimate: $(cat "$T/plan.txt")"
grep -Eq "^dry run, no tape touched: 1 snapshot\(s\) would be restored, 0 skipped, 0 failed; [0-9]+ tape\(s\) to read" "$T/plan.txt" ||
	fail "text plan: no dry-run summary: $(cat "$T/plan.txt")"
[ -z "$(ls "$T/ds2" | grep -v '^\.')" ] || fail "text dry run created something"

# selective restore of one snapshot
res=$(tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-01-03T00:00:00Z --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['store1:host/h1/2026-01-03T00:00:00Z']" ] || fail "restore: $res"
need=$(json_get "$res" 'sum(r["needed-bytes"] for t in j["plan"]["tapes"] for r in t["reads"])')
read=$(json_get "$res" 'j["bytes_read_from_tape"]')
[ "$read" -le $(( need * 2 + 2 * 262144 * 4 )) ] || fail "read $read bytes for $need needed"
loads=$(json_get "$res" 'j["tape_loads"]'); ntapes=$(json_get "$res" 'len(j["plan"]["tapes"])')
[ "$loads" -le "$ntapes" ] || fail "$loads loads for $ntapes tapes (each tape once)"
tapir verify --store store2 >/dev/null || fail "restored snapshot does not verify"
tapir restore --store store2 host/h1/2026-01-03T00:00:00Z root.pxar "$T/r3"
diff -r "$T/copy3" "$T/r3" || fail "restored tree differs"

# the same again: skipped, exit 0
res=$(tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-01-03T00:00:00Z --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'list(j["skipped"].values())[0]')" = "snapshot already exists in datastore store2" ] || fail "not skipped: $res"

# several at once, one of them unknown and one malformed: those fail, the rest is restored
rc=0
res=$(tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-01-05T00:00:00Z store1:vm/100/2026-01-01T00:00:00Z \
	store1:host/h1/2030-01-01T00:00:00Z 'store1:host/../x' --drive d1 --output-format json | tail -n 1) || rc=$?
[ $rc -ne 0 ] || fail "failed entries must make the exit status non-zero"
[ "$(json_get "$res" 'len(j["restored"])')" = 2 ] || fail "restore of several: $res"
[ "$(json_get "$res" '"not in media set" in j["failed"]["store1:host/h1/2030-01-01T00:00:00Z"]')" = True ] || fail "$res"
[ "$(json_get "$res" '"malformed" in j["failed"]["store1:host/../x"]')" = True ] || fail "$res"
tapir restore --store store2 vm/100/2026-01-01T00:00:00Z disk.img "$T/r.img"
cmp "$T/copy6/day" "$T/r.img" || fail "restored image differs"
[ -z "$(ls -A "$T/ds2/.tmp/$set_uuid" 2>/dev/null)" ] || fail "staging left behind"

# owner mismatch: the group in the target belongs to someone else
res=$(tapir tape restore "$set_uuid" store2 store1:host/h1/2026-01-04T00:00:00Z --drive d1 --owner other@pbs --output-format json | tail -n 1)
[ "$(json_get "$res" '"owned by root@pam" in list(j["skipped"].values())[0]')" = True ] || fail "owner: $res"

# errors that stop everything: one line, non-zero, refused before a task is started
ntasks() { tapir task list --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
n0=$(ntasks)
expect_fail "invalid media set uuid" tapir tape restore not-a-uuid store2 --drive d1
expect_fail "invalid datastore name|datastore map" tapir tape restore "$set_uuid" 'a/b' --drive d1
expect_fail "drive 'nodrive' does not exist" tapir tape restore "$set_uuid" store2 --drive nodrive
expect_fail "media set 11111111-2222-3333-4444-555555555555 is not in the inventory" \
	tapir tape restore 11111111-2222-3333-4444-555555555555 store2 --drive d1
expect_fail "drive d1 is given twice" tapir tape restore "$set_uuid" store2 --drive d1 --drive d1
expect_fail "datastore 'nostore' does not exist" tapir tape backup nostore p1 --drive d1
expect_fail "media pool 'nopool' does not exist" tapir tape backup store1 nopool --drive d1
expect_fail "drive 'nodrive' does not exist" tapir tape backup store1 p1 --drive nodrive
[ "$(ntasks)" = "$n0" ] || fail "a refused job left a task: $(tapir task list)"
echo ok
