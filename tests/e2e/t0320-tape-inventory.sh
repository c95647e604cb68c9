#!/bin/bash
# barcode-label, load/unload through a virtual changer, and tape inventory: online/offline locations, reading labels.
source "$(dirname "$0")/lib.sh"

tapir pool create p1 >/dev/null
tapir changer create lib1 --type virtual --path "$T/lib1" --slots 4 --import-export-slots 1 >/dev/null
tapir drive create d0 --type virtual --path "$T/d0" --changer lib1 --changer-drivenum 0 >/dev/null
tapir changer insert lib1 AAA001 --slot 1 >/dev/null
tapir changer insert lib1 BBB001 --slot 2 >/dev/null
tapir changer insert lib1 CLN001 --slot 3 >/dev/null

loc() { json_get "$(tapir media list --output-format json)" "[m['location'] for m in j if m['label-text']=='$1'][0]"; }
uuid_of() { json_get "$(tapir media list --output-format json)" "[m['uuid'] for m in j if m['label-text']=='$1'][0]"; }
action() { json_get "$1" "[r['action'] for r in j if r['label-text']=='$2'][0]"; }

# every unlabelled cartridge gets its barcode; cleaning cartridges are left alone; all go back to their slots
out=$(tapir tape barcode-label --drive d0 --pool p1 --output-format json)
[ "$(action "$out" AAA001)" = labelled ] || fail "AAA001: $out"
[ "$(action "$out" BBB001)" = labelled ] || fail "BBB001: $out"
[ "$(action "$out" CLN001)" = skipped ] || fail "CLN001: $out"
[ "$(loc AAA001)" = online-lib1 ] || fail "AAA001 location"
[ "$(loc BBB001)" = online-lib1 ] || fail "BBB001 location"
out=$(tapir changer status lib1 --output-format json)
[ "$(json_get "$out" 'j["slots"][0]["label"]')" = AAA001 ] || fail "AAA001 not back in slot 1: $out"
[ "$(json_get "$out" 'j["drives"][0]["label"]')" = None ] || fail "drive not empty: $out"
out=$(tapir tape barcode-label --drive d0 --pool p1 --output-format json)
[ "$(action "$out" AAA001)" = known ] || fail "second barcode-label: $out"
a_uuid=$(uuid_of AAA001)

# load-media and unload through the changer; label of a cartridge in the I/E slot
tapir changer insert lib1 CCC001 >/dev/null
tapir tape load-media --drive d0 CCC001 >/dev/null
out=$(tapir changer status lib1 --output-format json)
[ "$(json_get "$out" 'j["drives"][0]["label"]')" = CCC001 ] || fail "load-media: $out"
tapir tape label --drive d0 --label-text CCC001 >/dev/null
[ "$(loc CCC001)" = online-lib1 ] || fail "CCC001 location"
out=$(tapir tape unload --drive d0 --target-slot 4 --output-format json)
[ "$(json_get "$out" 'j["slot"]')" = 4 ] || fail "unload slot: $out"
out=$(tapir changer status lib1 --output-format json)
[ "$(json_get "$out" 'j["slots"][3]["label"]')" = CCC001 ] || fail "CCC001 not in slot 4: $out"
expect_fail "tape ZZZ001 is not in changer lib1" tapir tape load-media --drive d0 ZZZ001
tapir tape load-media --drive d0 AAA001 >/dev/null
tapir tape eject --drive d0 | grep -q "slot 1 of changer lib1" || fail "eject to slot"

# an operator takes BBB001 out through the mail slot: inventory marks it offline
tapir changer export lib1 BBB001 >/dev/null
python3 - "$T/lib1/changer-status.json" <<'PY'
import json, sys
p = sys.argv[1]; s = json.load(open(p))
s["import-export"] = [None if x == "BBB001" else x for x in s["import-export"]]
json.dump(s, open(p, "w"))
PY
tapir tape inventory --drive d0 >/dev/null
[ "$(loc BBB001)" = offline ] || fail "BBB001 should be offline"
[ "$(loc AAA001)" = online-lib1 ] || fail "AAA001 should stay online"

# a tape missing from the inventory is read and stored again (same uuid); known ones are not loaded
tapir media destroy AAA001 >/dev/null
out=$(tapir tape inventory --drive d0 --output-format json)
[ "$(action "$out" AAA001)" = inventoried ] || fail "AAA001 not read: $out"
[ "$(action "$out" CCC001)" = known ] || fail "CCC001 read without --read-all-labels: $out"
[ "$(uuid_of AAA001)" = "$a_uuid" ] || fail "AAA001 uuid changed"
[ "$(loc AAA001)" = online-lib1 ] || fail "AAA001 location after inventory"
out=$(tapir tape inventory --drive d0 --read-all-labels --output-format json)
[ "$(action "$out" CCC001)" = inventoried ] || fail "--read-all-labels: $out"
[ "$(action "$out" CLN001)" = skipped ] || fail "cleaning cartridge read: $out"
tapir tape inventory --drive d0 --read-all-labels | grep -Eq "^AAA001 +inventoried" || fail "text report"

# a blank cartridge is reported, not stored; BBB001 returns
tapir changer insert lib1 DDD001 >/dev/null
out=$(tapir tape inventory --drive d0 --output-format json)
[ "$(action "$out" DDD001)" = blank ] || fail "DDD001: $out"
json_get "$(tapir media list --output-format json)" '[m["label-text"] for m in j]' | grep -q DDD001 && fail "blank tape inventoried"

# a cartridge whose barcode differs from its label (a copy of AAA001 under barcode EEE001)
cp "$T/lib1/tape-AAA001.idx" "$T/lib1/tape-EEE001.idx"
cp "$T/lib1/tape-AAA001.dat" "$T/lib1/tape-EEE001.dat"
tapir changer insert lib1 EEE001 --slot 2 >/dev/null
out=$(tapir tape inventory --drive d0 --output-format json)
[ "$(action "$out" EEE001)" = mismatch ] || fail "EEE001: $out"
json_get "$out" "[r['message'] for r in j if r['label-text']=='EEE001'][0]" | grep -q "the tape says AAA001" || fail "mismatch message: $out"
expect_fail "1 tape\(s\) not labelled; EEE001: the tape holds data \(label AAA001\)" tapir tape barcode-label --drive d0
json_get "$(tapir media list --output-format json)" '[m["label-text"] for m in j]' | grep -q EEE001 && fail "EEE001 inventoried"

# a standalone drive: inventory reads the loaded tape only
tapir drive create d1 --type virtual --path "$T/d1" >/dev/null
expect_fail "drive d1 is empty" tapir tape inventory --drive d1
tapir tape label --drive d1 --label-text SOLO01 >/dev/null
tapir media destroy SOLO01 >/dev/null
out=$(tapir tape inventory --drive d1 --output-format json)
[ "$(action "$out" SOLO01)" = inventoried ] || fail "standalone inventory: $out"
[ "$(loc SOLO01)" = offline ] || fail "SOLO01 location"
expect_fail "has no changer" tapir tape barcode-label --drive d1

# the commands that change something ran as worker tasks, as their API twins: listed with their type and
# drive, the failed barcode-label with its error; the one that could not have the drive left no task
tasks=$(tapir task list --limit 0 --output-format json)
types() { json_get "$tasks" "sorted(set(t['worker_type'] for t in j if t['worker_id'] == '$1'))"; }
[ "$(types d0)" = "['barcode-label-media', 'eject-media', 'inventory-update', 'label-media', 'unload-media']" ] || fail "tasks on d0: $(types d0)"
[ "$(types d1)" = "['inventory-update', 'label-media']" ] || fail "tasks on d1: $(types d1)"
json_get "$tasks" "[t['status'] for t in j if t['worker_type'] == 'barcode-label-media']" | grep -q "EEE001: the tape holds data" ||
	fail "the failed barcode-label task: $tasks"
json_get "$tasks" "[t['worker_id'] for t in j if t['worker_type'] == 'load-media']" | grep -q "d0:" || fail "load-media id: $tasks"
out=$(tapir tape label --drive d1 --label-text SOLO02 --output-format json 2>/dev/null || true)
n0=$(json_get "$(tapir task list --limit 0 --output-format json)" 'len(j)')
flock "$TAPIR_HOME/run/drive-lock/d1" -c 'sleep 12' & # the CLI waits 10 s for a drive
holder=$!
sleep 0.3
expect_fail "drive d1 is in use|locked" tapir tape unload --drive d1
wait "$holder"
[ "$(json_get "$(tapir task list --limit 0 --output-format json)" 'len(j)')" = "$n0" ] || fail "a busy drive started a task"
upid=$(json_get "$(tapir tape unload --drive d1 --output-format json)" 'j["upid"]')
tapir task log "$upid" | grep -q "unloaded drive d1" || fail "the result is not in the task log: $(tapir task log "$upid")"
tapir task log "$upid" | tail -n 1 | grep -q "TASK OK" || fail "task end: $(tapir task log "$upid")"
echo OK
