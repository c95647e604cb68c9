#!/bin/bash
# A restore with two drives of one virtual changer: the tapes are split between the drives, each loaded once, everything restored.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
virtual_library 2 4M 6 1
[ "$(tapir media list --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 6 ] \
	|| fail "barcode-label did not label 6 tapes"

daily_backups store1 02 600000 1 2 3 4 5 6
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 6 ] || fail "tape backup: $out"
[ "$(json_get "$out" 'len(j["tapes"]) >= 2')" = True ] || fail "expected >= 2 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
tapir tape unload --drive d1 >/dev/null

# one drive named twice: refused at once (not a 10 s wait for its own lock)
expect_fail_last "drive d1 is given twice" tapir tape restore "$set_uuid" store2 --drive d1 --drive d1 --dry-run

# the plan gives tapes to both drives
plan=$(tapir tape restore "$set_uuid" store2 --drive d1 --drive d2 --dry-run --output-format json | tail -n 1)
[ "$(json_get "$plan" 'sorted(set(t["drive"] for t in j["plan"]["tapes"]))')" = "[0, 1]" ] || fail "plan does not use both drives: $plan"
# with the drives working at once, the elapsed estimate is the slower drive's part: less than the drive time, at least half
[ "$(json_get "$plan" '0.5 * j["plan"]["estimated-seconds"] <= j["plan"]["estimated-elapsed-seconds"] < j["plan"]["estimated-seconds"]')" = True ] \
	|| fail "elapsed estimate of two drives: $plan"

res=$(TAPIR_PROGRESS_S=0 tapir tape restore "$set_uuid" store2 --drive d1 --drive d2 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 6 ] || fail "two-drive restore: $res"
[ "$(json_get "$res" 'j["failed"]')" = "{}" ] || fail "two-drive restore failed: $res"
ntapes=$(json_get "$res" 'len(j["plan"]["tapes"])')
[ "$(json_get "$res" 'j["tape_loads"]')" = "$ntapes" ] || fail "each tape must be loaded once: $res"
# the summary's elapsed figure is the busier drive's time: below the drive time, at least half, and what the plan said
[ "$(json_get "$res" '0.5 * j["simulated_tape_seconds"] <= j["simulated_elapsed_seconds"] < j["simulated_tape_seconds"]')" = True ] \
	|| fail "elapsed time of two drives: $res"
[ "$(json_get "$res" 'abs(j["simulated_elapsed_seconds"] - j["plan"]["estimated-elapsed-seconds"]) <= 0.05 * j["plan"]["estimated-elapsed-seconds"]')" = True ] \
	|| fail "executor's elapsed time is not the plan's: $res"
# the task log tells how it went: each tape's throughput, and progress up to all of the planned data
tapir task log "$(json_get "$res" 'j["upid"]')" >"$T/log"
for t in $(json_get "$res" '" ".join(t["label"] for t in j["plan"]["tapes"])'); do
	grep -Eq "tape $t done in drive d[12]: [0-9.]+ MiB read in [0-9.]+ s \([0-9.]+ MiB/s\)" "$T/log" \
		|| fail "no throughput line for tape $t: $(cat "$T/log")"
done
[ "$(grep -c 'progress: [0-9]*% of the planned tape data' "$T/log")" -ge "$ntapes" ] || fail "too few progress lines: $(cat "$T/log")"
# the last one: all of the plan done, and every byte the drives read counted
mib=$(json_get "$res" '"%.1f" % (j["bytes_read_from_tape"] / 1048576)')
grep 'progress: ' "$T/log" | tail -n 1 | grep -q "progress: 100% of the planned tape data (.*), $mib MiB read at " \
	|| fail "the last progress line must be at 100% with $mib MiB read: $(grep progress "$T/log")"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
restored_as_copied store2 02 1 4 6
# each drive got its own tapes: both drives hold a cartridge now
st=$(tapir changer status lib1 --output-format json)
[ "$(json_get "$st" 'sum(1 for d in j["drives"] if d["label"])')" = 2 ] || fail "both drives should have loaded tapes: $st"
[ -z "$(ls -A "$F/ds2/.tmp/$set_uuid" 2>/dev/null)" ] || fail "staging left behind"
echo ok
