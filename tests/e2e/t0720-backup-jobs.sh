#!/bin/bash
# Tape backup jobs: CLI create/list/show/update/remove/run and bad input, config/tape-backup-job through the
# API, a run through the API, the server's scheduler catching up a missed run exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server-lib.sh"

tapir datastore create store1 "$T/ds1" >/dev/null
tapir drive create d1 --type virtual --path "$T/vtl" >/dev/null
tapir pool create p1 >/dev/null
tapir tape label --drive d1 --label-text tape1 --pool p1 >/dev/null
mkdir -p "$T/src" && head -c 200000 /dev/urandom >"$T/src/data"
tapir backup --store store1 --type host --id h1 --time 2026-01-01T00:00:00Z root.pxar:"$T/src" >/dev/null
tapir backup --store store1 --type host --id h1 --time 2026-01-02T00:00:00Z root.pxar:"$T/src" >/dev/null
tapir datastore create store2 "$T/ds2" >/dev/null

# CLI
tapir tape backup-job create job1 --store store1 --pool p1 --drive d1 --schedule 'mon..fri 02:00' \
	--comment nightly --latest-only 1 >/dev/null
show=$(tapir tape backup-job show job1 --output-format json)
[ "$(json_get "$show" 'j["schedule"]')" = 'mon..fri 02:00' ] || fail "show: $show"
[ "$(json_get "$show" 'j["latest-only"]')" = True ] || fail "latest-only: $show"
tapir tape backup-job update job1 --schedule '*-*-01 03:00' --delete comment >/dev/null
show=$(tapir tape backup-job show job1 --output-format json)
[ "$(json_get "$show" 'j["schedule"]')" = '*-*-01 03:00' ] || fail "update: $show"
[ "$(json_get "$show" '"comment" in j')" = False ] || fail "delete comment: $show"
list=$(tapir tape backup-job list --output-format json)
[ "$(json_get "$list" '[x["id"] for x in j]')" = "['job1']" ] || fail "list: $list"
[ "$(json_get "$list" 'j[0]["next-run"] > 0')" = True ] || fail "next-run: $list"
tapir tape backup-job list | grep -q '^job1 ' || fail "text list"
expect_fail "parameter 'schedule'" tapir tape backup-job create job2 --store store1 --pool p1 --drive d1 --schedule someday
expect_fail "parameter 'id'" tapir tape backup-job create ../x --store store1 --pool p1 --drive d1
expect_fail "parameter 'drive'" tapir tape backup-job create job2 --store store1 --pool p1 --drive ../d1
expect_fail "store: missing" tapir tape backup-job create job2 --pool p1 --drive d1
expect_fail "already exists" tapir tape backup-job create job1 --store store1 --pool p1 --drive d1
expect_fail "unknown option --colour" tapir tape backup-job update job1 --colour red
expect_fail "does not exist" tapir tape backup-job show nojob
[ "$(stat -c %a "$TAPIR_HOME/etc/tape-job.json")" = 640 ] || fail "tape-job.json mode"

# run from the CLI: a worker task in this process, state recorded
upid=$(tapir tape backup-job run job1 2>/dev/null)
case "$upid" in UPID:*:tape-backup-job:job1:root@pam:) ;; *) fail "run: $upid" ;; esac
[ "$(json_get "$(tapir task status "$upid" --output-format json)" 'j["exitstatus"]')" = OK ] || fail "run status"
list=$(tapir tape backup-job list --output-format json)
[ "$(json_get "$list" 'j[0]["last-run-state"]')" = OK ] || fail "last run: $list"
[ "$(U=$upid json_get "$list" 'j[0]["last-run-upid"] == __import__("os").environ["U"]')" = True ] || fail "last upid"
[ "$(json_get "$(tapir media list --output-format json)" '[m.get("media-set-uuid") is not None for m in j]')" = "[True]" ] ||
	fail "nothing written to tape"

# API: create with a token of a TapeAdmin on /tape/job, run, poll; a reader may not run it
tapir user create op@pbs --email op@example.com >/dev/null
OP=$(json_get "$(tapir user generate-token op@pbs tk)" 'j["tokenid"] + ":" + j["value"]')
RD=$(json_get "$(tapir user generate-token op@pbs ro)" 'j["tokenid"] + ":" + j["value"]')
tapir acl update /tape/job TapeAdmin --auth-id op@pbs >/dev/null
tapir acl update /tape/job TapeAdmin --auth-id 'op@pbs!tk' >/dev/null
tapir acl update /tape/job TapeAudit --auth-id 'op@pbs!ro' >/dev/null
start_server --no-tls
AUTH=$OP expect_status 200 POST config/tape-backup-job '{"id":"job2","store":"store1","pool":"p1","drive":"d1","notify-user":"op@pbs"}' >/dev/null
AUTH=$OP expect_status 400 POST config/tape-backup-job '{"id":"job3","store":"store1","pool":"p1","drive":"d1","max-depth":"deep"}' |
	grep -q "parameter 'max-depth'" || fail "wrong type"
AUTH=$OP expect_status 409 POST config/tape-backup-job '{"id":"job2","store":"store1","pool":"p1","drive":"d1"}' >/dev/null
AUTH=$RD expect_status 403 POST tape/backup/job2 >/dev/null
AUTH=$RD expect_status 403 DELETE config/tape-backup-job/job2 >/dev/null
[ "$(json_get "$(AUTH=$RD expect_status 200 GET config/tape-backup-job)" '[x["id"] for x in j["data"]]')" = "['job1', 'job2']" ] ||
	fail "reader list"
up2=$(json_get "$(AUTH=$OP expect_status 200 POST tape/backup/job2)" 'j["data"]')
up2_enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$up2")
for _ in $(seq 200); do
	st=$(AUTH=$OP expect_status 200 GET "nodes/localhost/tasks/$up2_enc/status")
	[ "$(json_get "$st" 'j["data"]["status"]')" = stopped ] && break
	sleep 0.1
done
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = OK ] || fail "API run: $st"
log=$(AUTH=$OP expect_status 200 GET "nodes/localhost/tasks/$up2_enc/log?limit=0")
grep -q "not sent: no mail command configured" <<<"$log" || fail "notification not reported: $log"
jobs=$(AUTH=$OP expect_status 200 GET tape/backup)
[ "$(json_get "$jobs" '[x.get("last-run-state") for x in j["data"] if x["id"] == "job2"]')" = "['OK']" ] ||
	fail "job2 state: $jobs"

# restore through the API: TapeReader on the pool and the drive plus DatastoreBackup on the target suffice
tapir user create rs@pbs >/dev/null
RS=$(json_get "$(tapir user generate-token rs@pbs tk)" 'j["tokenid"] + ":" + j["value"]')
grant() { tapir acl update "$1" "$2" --auth-id rs@pbs >/dev/null; tapir acl update "$1" "$2" --auth-id 'rs@pbs!tk' >/dev/null; }
revoke() { tapir acl update "$1" "$2" --auth-id rs@pbs --delete >/dev/null; }
grant /tape/pool/p1 TapeReader
grant /tape/device/d1 TapeReader
grant /datastore/store2 DatastoreBackup
set_uuid=$(json_get "$(tapir media list --output-format json)" 'j[0]["media-set-uuid"]')
restore() { # PATH SNAPSHOT [EXTRA JSON MEMBERS]
	printf '{"store":"store1=store2","drive":"d1","media-set":"%s","snapshots":["store1:%s"]%s}' "$set_uuid" "$2" "${3:-}"
}
wait_task() { # UPID -> final status JSON
	local enc; enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1")
	for _ in $(seq 300); do
		st=$(AUTH=$RS expect_status 200 GET "nodes/localhost/tasks/$enc/status")
		[ "$(json_get "$st" 'j["data"]["status"]')" = stopped ] && break
		sleep 0.1
	done
	printf '%s' "$st"
}
snap1=host/h1/2026-01-01T00:00:00Z
snap2=host/h1/2026-01-02T00:00:00Z
# any one privilege missing: 403 and nothing restored
revoke /tape/pool/p1 TapeReader
AUTH=$RS expect_status 403 POST tape/restore "$(restore x $snap1)" | grep -q "Tape.Read on /tape/pool/p1" || fail "pool priv"
grant /tape/pool/p1 TapeReader
revoke /tape/device/d1 TapeReader
AUTH=$RS expect_status 403 POST tape/restore "$(restore x $snap1)" | grep -q "/tape/device/d1" || fail "drive priv"
grant /tape/device/d1 TapeReader
revoke /datastore/store2 DatastoreBackup
AUTH=$RS expect_status 403 POST tape/restore-single "$(restore x $snap1)" | grep -q "/datastore/store2" || fail "store priv"
grant /datastore/store2 DatastoreBackup
AUTH=$RS expect_status 403 POST tape/restore "$(restore x $snap1 ',"owner":"op@pbs"')" | grep -q "Datastore.Modify" ||
	fail "owner without Datastore.Modify"
[ -z "$(tapir snapshot list --store store2 --output-format json | tr -d '[] \n')" ] || fail "refused restore restored something"
# with all of them: selective restore through tape/restore and through restore-single
for pair in "tape/restore $snap1" "tape/restore-single $snap2"; do
	set -- $pair
	up=$(json_get "$(AUTH=$RS expect_status 200 POST "$1" "$(restore x "$2")")" 'j["data"]')
	st=$(wait_task "$up")
	[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = OK ] || fail "$1: $st"
	enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$up")
	AUTH=$RS expect_status 200 GET "nodes/localhost/tasks/$enc/log?limit=0" | grep -q "restore result" || fail "$1 log"
done
[ "$(json_get "$(tapir snapshot list --store store2 --output-format json)" 'len(j)')" = 2 ] || fail "not restored"
tapir verify --store store2 >/dev/null || fail "restored snapshots do not verify"
owners=$(AUTH=$RS expect_status 200 GET admin/datastore/store2/snapshots)
[ "$(json_get "$owners" 'sorted(set(s["owner"] for s in j["data"]))')" = "['rs@pbs!tk']" ] || fail "owner: $owners"
# a namespace the restore has to create needs Datastore.Modify on its parent (PBS's namespace-modification privilege)
nsreq=$(printf '{"store":"store1=store2","drive":"d1","media-set":"%s","namespaces":["store=store1,target=nsx,max-depth=0"]}' "$set_uuid")
up=$(json_get "$(AUTH=$RS expect_status 200 POST tape/restore "$nsreq")" 'j["data"]')
st=$(wait_task "$up")
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" != OK ] || fail "created a namespace without Datastore.Modify: $st"
enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$up")
AUTH=$RS expect_status 200 GET "nodes/localhost/tasks/$enc/log?limit=0" |
	grep -q "creating namespace nsx.*Datastore.Modify on /datastore/store2" || fail "no reason naming the privilege"
[ ! -e "$T/ds2/ns/nsx" ] || fail "namespace nsx created without the privilege"
grant /datastore/store2 DatastoreAdmin
up=$(json_get "$(AUTH=$RS expect_status 200 POST tape/restore "$nsreq")" 'j["data"]')
st=$(wait_task "$up")
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = OK ] || fail "restore into a new namespace with Datastore.Modify: $st"
[ "$(json_get "$(tapir snapshot list --store store2 --ns nsx --output-format json)" 'len(j)')" = 2 ] || fail "not restored into nsx"
stop_server

# scheduler: job3 created two days ago with a daily schedule missed two runs; it runs once on start
tapir tape backup-job create job3 --store store1 --pool p1 --drive d1 --schedule daily --notify-user op@pbs >/dev/null
printf '#!/bin/sh\ncat >>"%s/mail.txt"\n' "$T" >"$T/sendmail" && chmod +x "$T/sendmail"
export TAPIR_SENDMAIL=$T/sendmail
state="$TAPIR_HOME/lib/jobstates/tape-backup-job-job3.json"
[ -f "$state" ] || fail "no job state file"
python3 - "$state" <<'EOF'
import json, sys, time
p = sys.argv[1]
j = json.load(open(p))
j["time"] = int(time.time()) - 2 * 86400 - 3600
json.dump(j, open(p, "w"))
EOF
start_server --no-tls --scheduler-interval 1
for _ in $(seq 100); do
	[ "$(json_get "$(cat "$state")" 'j.get("state")')" = finished ] && break
	sleep 0.1
done
[ "$(json_get "$(cat "$state")" 'j.get("status")')" = OK ] || fail "scheduled run: $(cat "$state")"
grep -q '^Subject: Tape backup job job3: finished' "$T/mail.txt" || fail "no notification mail: $(cat "$T/mail.txt")"
grep -q '^To: op@example.com' "$T/mail.txt" || fail "mail recipient"
sleep 3
runs=$(tapir task list --type tape-backup-job --limit 0 --output-format json)
[ "$(json_get "$runs" 'len([t for t in j if t["worker_id"] == "job3"])')" = 1 ] || fail "job3 ran more than once: $runs"
[ "$(json_get "$runs" 'len([t for t in j if t["worker_id"] == "job1"])')" = 1 ] || fail "job1 (not due) ran again: $runs"
stop_server

# remove
tapir tape backup-job remove job3 >/dev/null
[ -e "$state" ] && fail "state of a removed job kept"
expect_fail "does not exist" tapir tape backup-job remove job3
