#!/bin/bash
# Abort of a running tape restore through DELETE nodes/localhost/tasks/{upid}: the task ends "aborted",
# no partial snapshot in the target, <target>/.tmp cleaned, the drive free again (a second restore works).
# The virtual drive's read-delay-ms fault keeps the restore running long enough to catch it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server-lib.sh"

tapir datastore create store1 "$T/ds1" >/dev/null
tapir datastore create store2 "$T/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$T/vtl" >/dev/null
tapir pool create p1 >/dev/null
tapir tape label --drive d1 --label-text tape1 --pool p1 >/dev/null
mkdir -p "$T/src" && head -c 6000000 /dev/urandom >"$T/src/data"
snap=host/h1/2026-01-01T00:00:00Z
tapir backup --store store1 --type host --id h1 --time 2026-01-01T00:00:00Z root.pxar:"$T/src" >/dev/null
tapir tape backup store1 p1 --drive d1 >/dev/null 2>&1
set_uuid=$(json_get "$(tapir media list --output-format json)" 'j[0]["media-set-uuid"]')
ADM=$(json_get "$(tapir user generate-token root@pam adm)" 'j["tokenid"] + ":" + j["value"]')
tapir acl update / Admin --auth-id 'root@pam!adm' >/dev/null
AUTH=$ADM

enc() { python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
task_state() { expect_status 200 GET "nodes/localhost/tasks/$(enc "$1")/status"; }
wait_stopped() { # UPID -> final status JSON
	local st
	for _ in $(seq 600); do
		st=$(task_state "$1")
		[ "$(json_get "$st" 'j["data"]["status"]')" = stopped ] && break
		sleep 0.1
	done
	printf '%s' "$st"
}
body=$(printf '{"store":"store2","drive":"d1","media-set":"%s","snapshots":["store1:%s"]}' "$set_uuid" "$snap")

# every block read takes 150 ms: ~24 blocks of chunks are several seconds of restore
echo '{"read-delay-ms": 150}' >"$T/vtl/faults.json"
start_server --no-tls
up=$(json_get "$(expect_status 200 POST tape/restore "$body")" 'j["data"]')
# abort once the restore reads chunks (staging in store2/.tmp exists), not before it started
for _ in $(seq 200); do
	[ -n "$(ls -A "$T/ds2/.tmp" 2>/dev/null)" ] && break
	sleep 0.05
done
[ -n "$(ls -A "$T/ds2/.tmp" 2>/dev/null)" ] || fail "restore never started staging: $(task_state "$up")"
[ "$(json_get "$(task_state "$up")" 'j["data"]["status"]')" = running ] || fail "restore finished before the abort"
expect_status 200 DELETE "nodes/localhost/tasks/$(enc "$up")" >/dev/null
t0=$(date +%s)
st=$(wait_stopped "$up")
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = aborted ] || fail "exit status: $st"
[ $(( $(date +%s) - t0 )) -le 15 ] || fail "abort took more than 15 s"
log=$(expect_status 200 GET "nodes/localhost/tasks/$(enc "$up")/log?limit=0")
[ "$(json_get "$log" 'j["data"][-1]["t"].endswith("TASK ERROR: aborted")')" = True ] || fail "log: $log"
# nothing published, staging removed
[ "$(json_get "$(expect_status 200 GET admin/datastore/store2/snapshots)" 'len(j["data"])')" = 0 ] ||
	fail "a snapshot was published by the aborted restore"
[ ! -e "$T/ds2/host/h1/2026-01-01T00:00:00Z" ] || fail "partial snapshot directory left"
[ -z "$(ls -A "$T/ds2/.tmp" 2>/dev/null)" ] || fail "store2/.tmp not cleaned: $(ls -AR "$T/ds2/.tmp")"
expect_status 400 DELETE "nodes/localhost/tasks/$(enc "$up")" | grep -q "not running" || fail "second DELETE"

# the drive and the locks are free again: the same restore, without the delay, completes
rm "$T/vtl/faults.json"
up=$(json_get "$(expect_status 200 POST tape/restore "$body")" 'j["data"]')
st=$(wait_stopped "$up")
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = OK ] || fail "second restore: $st"
[ "$(json_get "$(expect_status 200 GET admin/datastore/store2/snapshots)" 'len(j["data"])')" = 1 ] || fail "not restored"
# tapir extension: more drives for one restore; the tape already in d1 is read there
tapir datastore create store3 "$T/ds3" >/dev/null
tapir drive create d2 --type virtual --path "$T/vtl2" >/dev/null
body3=$(printf '{"store":"store3","drive":"d1","extra-drives":["d2"],"media-set":"%s","snapshots":["store1:%s"]}' "$set_uuid" "$snap")
up=$(json_get "$(expect_status 200 POST tape/restore "$body3")" 'j["data"]')
st=$(wait_stopped "$up")
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = OK ] || fail "restore with an extra drive: $st"
[ "$(json_get "$(expect_status 200 GET admin/datastore/store3/snapshots)" 'len(j["data"])')" = 1 ] || fail "not restored with two drives"
log=$(expect_status 200 GET "nodes/localhost/tasks/$(enc "$up")/log?limit=0")
[ "$(json_get "$log" 'any("drive d1 and further drives" in l["t"] for l in j["data"])')" = True ] || fail "log: $log"
# dry-run (tapir extension): the plan at once, no task, no tape moved, nothing created
tapir datastore create store4 "$T/ds4" >/dev/null
body5=$(printf '{"store":"store4","drive":"d1","media-set":"%s","snapshots":["store1:%s"],"dry-run":true}' "$set_uuid" "$snap")
plan=$(expect_status 200 POST tape/restore "$body5")
[ "$(json_get "$plan" 'len(j["data"]["plan"]["tapes"]) == 1 and j["data"]["plan"]["tapes"][0]["label"] == "tape1"')" = True ] \
	|| fail "dry-run plan: $plan"
[ "$(json_get "$plan" 'j["data"]["tape_loads"] == 0 and j["data"]["plan"]["snapshots"][0]["state"] == "selected"')" = True ] \
	|| fail "dry-run: $plan"
[ -z "$(ls "$T/ds4" | grep -v '^\.')" ] || fail "the dry run created something"
# a drive named twice is refused before any task starts
body4=$(printf '{"store":"store3","drive":"d1","extra-drives":["d1"],"media-set":"%s"}' "$set_uuid")
expect_status 400 POST tape/restore "$body4" | grep -q "drive d1 is given twice" || fail "a drive given twice must be refused"
stop_server
tapir verify --store store2 >/dev/null || fail "restored snapshot does not verify"
[ -z "$(ls -A "$T/ds2/.tmp" 2>/dev/null)" ] || fail "store2/.tmp not empty after the restore"
echo "t0730 OK"
