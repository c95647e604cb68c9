#!/bin/bash
# tape/drive/{drive}/… and admin/datastore/{store}/gc through the API: label, read-label, status, unload,
# load, inventory (list and update), catalog, eject as worker tasks; GC task and status; privileges per
# path (Tape.Audit/Read/Write on /tape/device/D, Datastore.Modify/Audit on /datastore/S); bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server-lib.sh"

tapir pool create p1 >/dev/null
tapir changer create lib1 --type virtual --path "$T/lib1" --slots 4 >/dev/null
tapir drive create d0 --type virtual --path "$T/d0" --changer lib1 --changer-drivenum 0 >/dev/null
tapir drive create solo --type virtual --path "$T/solo" >/dev/null
tapir changer insert lib1 AAA001 --slot 1 >/dev/null
tapir changer insert lib1 BBB001 --slot 2 >/dev/null
tapir changer insert lib1 CLN001 --slot 3 >/dev/null
tapir datastore create store1 "$T/ds1" >/dev/null
mkdir -p "$T/src" && head -c 100000 /dev/urandom >"$T/src/f"
tapir backup --store store1 --type host --id h1 --time 2026-01-01T00:00:00Z root.pxar:"$T/src" >/dev/null

tapir user create op@pbs >/dev/null
ADM=$(json_get "$(tapir user generate-token root@pam adm)" 'j["tokenid"] + ":" + j["value"]')
tapir acl update / Admin --auth-id 'root@pam!adm' >/dev/null
AU=$(json_get "$(tapir user generate-token op@pbs au)" 'j["tokenid"] + ":" + j["value"]')
RD=$(json_get "$(tapir user generate-token op@pbs rd)" 'j["tokenid"] + ":" + j["value"]')
tapir acl update /tape/device/d0 TapeOperator --auth-id op@pbs >/dev/null
tapir acl update /datastore/store1 DatastoreReader --auth-id op@pbs >/dev/null
tapir acl update /tape/device/d0 TapeAudit --auth-id 'op@pbs!au' >/dev/null
tapir acl update /tape/device/d0 TapeReader --auth-id 'op@pbs!rd' >/dev/null
tapir acl update /datastore/store1 DatastoreReader --auth-id 'op@pbs!rd' >/dev/null

start_server --no-tls
AUTH=$ADM

wait_task() { # UPID -> final status JSON (data)
	local enc st
	enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")
	for _ in $(seq 300); do
		st=$(expect_status 200 GET "nodes/localhost/tasks/$enc/status")
		[ "$(json_get "$st" 'j["data"]["status"]')" = stopped ] && break
		sleep 0.1
	done
	json_get "$st" 'json.dumps(j["data"])'
}
task_log() { # UPID -> log text
	local enc
	enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")
	json_get "$(expect_status 200 GET "nodes/localhost/tasks/$enc/log?limit=0")" '"\n".join(l["t"] for l in j["data"])'
}
# run_task EXPECTED_TYPE METHOD PATH [JSON]: starts the task, waits, requires OK; prints the UPID.
run_task() {
	local type=$1; shift
	local body upid st
	body=$(expect_status 200 "$@")
	upid=$(json_get "$body" 'j["data"]')
	case "$upid" in UPID:*:"$type":*) ;; *) fail "$2: not a $type UPID: $body" ;; esac
	st=$(wait_task "$upid")
	[ "$(json_get "$st" 'j["exitstatus"]')" = OK ] || fail "$2: $st: $(task_log "$upid")"
	printf '%s' "$upid"
}
slot_label() { json_get "$(expect_status 200 GET tape/changer/lib1/status)" "[e.get('label-text') for e in j['data'] if e['entry-kind']=='$1' and e['entry-id']==$2][0]"; }

# label-media: a task; the tape is in the inventory with its pool
up=$(run_task label-media POST tape/drive/d0/label-media '{"label-text":"AAA001","pool":"p1"}')
grep -q "labelled tape AAA001 (uuid .*) in pool p1" <<<"$(task_log "$up")" || fail "label log: $(task_log "$up")"
[ "$(json_get "$(tapir media list --output-format json)" '[(m["label-text"], m.get("pool")) for m in j]')" = "[('AAA001', 'p1')]" ] ||
	fail "inventory after label-media"
up=$(expect_status 200 POST tape/drive/d0/label-media '{"label-text":"AAA001"}')
st=$(wait_task "$(json_get "$up" 'j["data"]')")
[ "$(json_get "$st" '"already" in j["exitstatus"] or "exists" in j["exitstatus"]')" = True ] || fail "label twice: $st"
expect_status 400 POST tape/drive/d0/label-media '{"label-text":"CCC001","pool":"nopool"}' | grep -q "parameter 'pool'" ||
	fail "unknown pool"

# read-label (PBS MediaIdFlat) and status of the loaded tape
out=$(expect_status 200 GET tape/drive/d0/read-label)
[ "$(json_get "$out" 'j["data"]["label-text"], j["data"]["pool"]')" = "('AAA001', 'p1')" ] || fail "read-label: $out"
uuid=$(json_get "$(tapir media list --output-format json)" 'j[0]["uuid"]')
[ "$(json_get "$out" 'j["data"]["uuid"]')" = "$uuid" ] || fail "read-label uuid: $out"
out=$(expect_status 200 GET tape/drive/d0/status)
[ "$(json_get "$out" 'j["data"]["name"], j["data"]["changer"], j["data"]["loaded"]')" = "('d0', 'lib1', True)" ] ||
	fail "status: $out"

# unload to the slot it came from, load another, read-label of a blank tape: 404
run_task unload-media POST tape/drive/d0/unload >/dev/null
[ "$(slot_label slot 1)" = AAA001 ] || fail "AAA001 not back in slot 1"
[ "$(slot_label drive 0)" = None ] || fail "drive not empty"
up=$(run_task load-media POST tape/drive/d0/load-media '{"label-text":"BBB001"}')
case "$up" in *:load-media:d0\\x3aBBB001:*) ;; *) fail "load-media worker id: $up" ;; esac
[ "$(slot_label drive 0)" = BBB001 ] || fail "BBB001 not loaded"
expect_status 404 GET tape/drive/d0/read-label | grep -q "blank" || fail "read-label of a blank tape"
run_task unload-media POST tape/drive/d0/unload '{"target-slot":4}' >/dev/null
[ "$(slot_label slot 4)" = BBB001 ] || fail "BBB001 not in slot 4"
expect_status 400 POST tape/drive/solo/unload '{"target-slot":2}' | grep -q "parameter 'target-slot'" ||
	fail "target-slot without changer"

# inventory: GET lists the changer's tapes (uuid for known ones, no cleaning tapes); PUT reads labels
out=$(expect_status 200 GET tape/drive/d0/inventory)
[ "$(json_get "$out" 'sorted((e["label-text"], "uuid" in e) for e in j["data"])')" = "[('AAA001', True), ('BBB001', False)]" ] ||
	fail "inventory list: $out"
expect_status 400 GET tape/drive/solo/inventory | grep -q "no changer" || fail "inventory without changer"
tapir media destroy AAA001 >/dev/null
up=$(run_task inventory-update PUT tape/drive/d0/inventory '{"read-all-labels":true}')
grep -q "AAA001" <<<"$(task_log "$up")" || fail "inventory log: $(task_log "$up")"
[ "$(json_get "$(tapir media list --output-format json)" '[m["uuid"] for m in j]')" = "['$uuid']" ] ||
	fail "inventory update did not find AAA001 again"
[ "$(slot_label slot 1)" = AAA001 ] || fail "AAA001 not back after inventory"

# catalog of a tape in no set; eject
run_task load-media POST tape/drive/d0/load-media '{"label-text":"AAA001"}' >/dev/null
up=$(run_task catalog-media POST tape/drive/d0/catalog '{"scan":true,"verbose":true}')
grep -q "tape AAA001 is in no media set" <<<"$(task_log "$up")" || fail "catalog log: $(task_log "$up")"
grep -q "statistics: {" <<<"$(task_log "$up")" || fail "verbose catalog log"
run_task eject-media POST tape/drive/d0/eject-media >/dev/null
[ "$(slot_label slot 1)" = AAA001 ] || fail "eject did not put AAA001 back"

# barcode-label-media: the blank BBB001 gets its barcode as label, in pool p1; AAA001 (labelled) and the
# cleaning cartridge are left alone
expect_status 400 POST tape/drive/d0/barcode-label-media '{"pool":"nopool"}' | grep -q "parameter 'pool'" ||
	fail "barcode-label-media: unknown pool"
expect_status 400 POST tape/drive/solo/barcode-label-media | grep -q "no changer" || fail "barcode-label-media without changer"
AUTH=$RD expect_status 403 POST tape/drive/d0/barcode-label-media | grep -q "lacks Tape.Write" || fail "reader barcode-label"
up=$(run_task barcode-label-media POST tape/drive/d0/barcode-label-media '{"pool":"p1"}')
grep -q "BBB001: labelled" <<<"$(task_log "$up")" || fail "barcode-label log: $(task_log "$up")"
[ "$(json_get "$(tapir media list --output-format json)" 'sorted((m["label-text"], m.get("pool")) for m in j)')" = \
	"[('AAA001', 'p1'), ('BBB001', 'p1')]" ] || fail "inventory after barcode-label-media: $(tapir media list)"
[ "$(slot_label slot 4)" = BBB001 ] || fail "BBB001 not back in slot 4"

# garbage collection: a task, then its status
out=$(expect_status 200 GET admin/datastore/store1/gc)
[ "$(json_get "$out" 'j["data"]["index-file-count"], "upid" in j["data"]')" = "(0, False)" ] || fail "gc status before: $out"
up=$(run_task garbage_collection POST admin/datastore/store1/gc)
out=$(expect_status 200 GET admin/datastore/store1/gc)
[ "$(json_get "$out" 'j["data"]["upid"]')" = "$up" ] || fail "gc upid: $out"
[ "$(json_get "$out" 'j["data"]["last-run-state"], j["data"]["index-file-count"] > 0, j["data"]["disk-chunks"] > 0')" = \
	"('OK', True, True)" ] || fail "gc status: $out"
expect_status 404 POST admin/datastore/nostore/gc >/dev/null

# privileges: Tape.Audit may read the status only; Tape.Read may load but not label; GC needs Datastore.Modify
AUTH=$AU expect_status 200 GET tape/drive/d0/status >/dev/null
AUTH=$AU expect_status 403 GET tape/drive/d0/read-label | grep -q "lacks Tape.Read on /tape/device/d0" || fail "audit read-label"
AUTH=$AU expect_status 403 POST tape/drive/d0/load-media '{"label-text":"AAA001"}' >/dev/null
AUTH=$AU expect_status 403 PUT tape/drive/d0/inventory >/dev/null
AUTH=$RD expect_status 403 POST tape/drive/d0/label-media '{"label-text":"ZZZ001"}' | grep -q "lacks Tape.Write" ||
	fail "reader label-media"
AUTH=$RD expect_status 403 GET tape/drive/solo/status >/dev/null
AUTH=$RD run_task load-media POST tape/drive/d0/load-media '{"label-text":"AAA001"}' >/dev/null
AUTH=$RD run_task eject-media POST tape/drive/d0/eject-media >/dev/null
AUTH=$RD expect_status 403 POST admin/datastore/store1/gc | grep -q "lacks Datastore.Modify on /datastore/store1" ||
	fail "gc without Datastore.Modify"
AUTH=$RD expect_status 200 GET admin/datastore/store1/gc >/dev/null

# a drive in use: 409 at once, no task started
flock "$TAPIR_HOME/run/drive-lock/d0" -c 'sleep 3' &
holder=$!
sleep 0.5
ntasks=$(json_get "$(expect_status 200 GET 'nodes/localhost/tasks?limit=0')" 'j["total"]')
expect_status 409 POST tape/drive/d0/load-media '{"label-text":"AAA001"}' | grep -q "drive d0" || fail "busy drive load"
expect_status 409 GET tape/drive/d0/status >/dev/null
[ "$(json_get "$(expect_status 200 GET 'nodes/localhost/tasks?limit=0')" 'j["total"]')" = "$ntasks" ] ||
	fail "a task was started for a busy drive"
wait $holder

# an empty drive: 409 naming it
expect_status 409 GET tape/drive/solo/read-label | grep -q "no cartridge" || fail "read-label of an empty drive"

# bad input names the parameter; unknown drive 404
expect_status 400 POST tape/drive/d0/load-media '{"label-text":"../x"}' | grep -q "parameter 'label-text'" || fail "label"
expect_status 400 POST tape/drive/d0/load-media '{}' | grep -q "parameter 'label-text'" || fail "missing label"
expect_status 400 POST tape/drive/d0/unload '{"target-slot":"two"}' | grep -q "parameter 'target-slot'" || fail "type"
expect_status 404 GET tape/drive/nodrive/status >/dev/null
expect_status 405 DELETE tape/drive/d0/status >/dev/null
stop_server
echo "t0740 OK"
