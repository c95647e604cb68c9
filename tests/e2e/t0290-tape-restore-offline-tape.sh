#!/bin/bash
# A needed tape that is not in the changer (taken out through the mailslot): the plan names it up front, the restore asks for it when its turn comes and waits; put back into the changer it is loaded and the restore completes; with --media-wait the wait ends with one clear error and nothing half-restored.
. "$(dirname "$0")/lib.sh"
F=$T
at_exit '[ -z "${RPID:-}" ] || kill "$RPID" 2>/dev/null'

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
virtual_library 1 4M 8 1
daily_backups store1 10 700000 1 2 3 4 5 6 7 8
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'len(j["tapes"]) >= 3')" = True ] || fail "expected >= 3 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
second=$(json_get "$out" 'j["tapes"][1]')
tapir tape unload --drive d1 >/dev/null

# the operator exports the second tape and takes it out of the mailslot
tapir changer export lib1 "$second" >/dev/null
python3 - "$F/lib1/changer-status.json" "$second" <<'EOF'
import json, sys
p, label = sys.argv[1], sys.argv[2]
s = json.load(open(p))
s["import-export"] = [None if x == label else x for x in s["import-export"]]
json.dump(s, open(p, "w"))
EOF
[ "$(tapir changer status lib1 | grep -c "$second")" = 0 ] || fail "$second is still in the changer: $(tapir changer status lib1)"

# the plan says so before any tape moves
plan=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --dry-run --output-format json 2>/dev/null | tail -n 1)
[ "$(json_get "$plan" '[t["label"] for t in j["plan"]["tapes"] if t.get("offline")]')" = "['$second']" ] ||
	fail "the plan does not mark $second offline: $plan"
tapir tape restore "$set_uuid" store1=store2 --drive d1 --dry-run >"$F/plan.txt" 2>&1
grep -Eq "^  $second +seq 1 .*\(not in the changer: asked for when its turn comes\)$" "$F/plan.txt" ||
	fail "text plan: $(cat "$F/plan.txt")"
grep -q "tape $second (seq 1) is not in changer lib1" "$F/plan.txt" || fail "no up-front notice: $(cat "$F/plan.txt")"

# a bounded wait ends with one clear error; nothing half-restored, staging clean
export TAPIR_MEDIA_POLL_MS=200
expect_fail_last "tape $second was not inserted into changer lib1 within 2 s" \
	tapir tape restore "$set_uuid" store1=store2 --drive d1 --media-wait 2
tapir verify --store store2 >/dev/null || fail "store2 holds a snapshot that does not verify"
[ -z "$(find "$F/ds2/.tmp" -mindepth 1 2>/dev/null)" ] || fail ".tmp not empty: $(find "$F/ds2/.tmp")"

# unbounded: the restore asks, waits, and goes on when the tape is back in the changer
tapir tape restore "$set_uuid" store1=store2 --drive d1 --output-format json >"$F/res.json" 2>"$F/res.log" &
RPID=$!
for _ in $(seq 300); do grep -q "please insert tape $second into changer lib1" "$F/res.log" && break; sleep 0.1; done
grep -q "please insert tape $second into changer lib1" "$F/res.log" || fail "no request for $second: $(cat "$F/res.log")"
kill -0 "$RPID" 2>/dev/null || fail "the restore did not wait: $(cat "$F/res.log")"
tapir changer insert lib1 "$second" >/dev/null
wait "$RPID" || fail "restore after the tape came back: $(tail -5 "$F/res.log")"
RPID=
res=$(tail -n 1 "$F/res.json")
[ "$(json_get "$res" 'j["failed"]')" = "{}" ] || fail "failed: $res"
[ "$(json_get "$res" 'len(j["restored"]) + len(j["skipped"])')" = 8 ] || fail "not all restored: $res"
[ "$(json_get "$res" 'j["tape_loads"]')" = "$(json_get "$res" 'len(j["plan"]["tapes"])')" ] || fail "each tape once: $res"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
restored_as_copied store2 10 1 2 3 4 5 6 7 8
[ -z "$(find "$F/ds2/.tmp" -mindepth 1 2>/dev/null)" ] || fail ".tmp not empty: $(find "$F/ds2/.tmp")"
echo ok
