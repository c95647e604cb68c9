#!/bin/bash
# Worker tasks through the CLI: list/log/status, warnings and errors, stop from another process, died tasks.
. "$(dirname "$0")/lib.sh"

upid1=$(tapir task selftest --id 'store1:vm/100' 2>/dev/null)
case "$upid1" in UPID:*:selftest:store1\\x3avm-100:root@pam:) ;; *) fail "UPID form: $upid1" ;; esac
upid2=$(tapir task selftest --warnings 2 2>/dev/null)
rc=0; upid3=$(tapir task selftest --fail "drive exploded" 2>/dev/null) || rc=$?
[ $rc -ne 0 ] || fail "failing task exited 0"

list=$(tapir task list --output-format json)
[ "$(json_get "$list" 'len(j)')" = 3 ] || fail "list: $list"
st() { json_get "$(tapir task status "$1" --output-format json)" "$2"; }
[ "$(st "$upid1" 'j["exitstatus"]')" = OK ] || fail "status 1"
[ "$(st "$upid1" 'j["id"]')" = 'store1:vm/100' ] || fail "worker id unescaped"
[ "$(st "$upid2" 'j["exitstatus"]')" = "WARNINGS: 2" ] || fail "status 2"
[ "$(st "$upid3" 'j["exitstatus"]')" = "drive exploded" ] || fail "status 3"
[ "$(st "$upid3" 'j["status"]')" = stopped ] || fail "stopped"
# the UPID holds a backslash, so it reaches python through the environment
sel="[x for x in j if x['upid'] == __import__('os').environ['U']]"
[ "$(U=$upid1 json_get "$list" "sorted($sel[0].keys())")" = \
  "['endtime', 'node', 'pid', 'pstart', 'starttime', 'status', 'upid', 'user', 'worker_id', 'worker_type']" ] ||
	fail "fields: $list"
[ "$(U=$upid1 json_get "$list" "$sel[0]['user']")" = root@pam ] || fail "user"
[ "$(U=$upid1 json_get "$list" "$sel[0]['worker_id']")" = 'store1:vm/100' ] || fail "worker_id"
tapir task log "$upid2" | grep -q "WARN: selftest warning 2" || fail "log warning"
tapir task log "$upid2" | tail -1 | grep -Eq '^[0-9T:+-]+: TASK WARNINGS: 2$' || fail "log last line"
tapir task log "$upid3" | tail -1 | grep -q 'TASK ERROR: drive exploded' || fail "log error line"
[ "$(json_get "$(tapir task log "$upid1" --output-format json)" 'j[-1]["n"]')" -ge 2 ] || fail "json log"
[ "$(json_get "$(tapir task list --limit 1 --output-format json)" 'len(j)')" = 1 ] || fail "limit"
[ "$(json_get "$(tapir task list --type nosuch --output-format json)" 'len(j)')" = 0 ] || fail "type filter"
[ "$(json_get "$(tapir task list --since 2100-01-01T00:00:00Z --output-format json)" 'len(j)')" = 0 ] || fail "since"

expect_fail "invalid UPID" tapir task log "not-a-upid"
expect_fail "invalid UPID" tapir task log "UPID:../../x:00000001:00000001:00000001:00000001:t::root@pam:"
expect_fail "not running" tapir task stop "$upid1"
expect_fail "no such task" tapir task status "UPID:vm:00000001:00000001:00000001:00000001:t::root@pam:"

# stop from another process
"$TAPIR_BIN" task selftest --seconds 30 >"$T/bg.out" 2>/dev/null &
bg=$!
for _ in $(seq 50); do [ -s "$T/bg.out" ] && break; sleep 0.1; done
upid=$(head -1 "$T/bg.out")
[ "$(U=$upid json_get "$(tapir task list --running --output-format json)" "len($sel)")" = 1 ] || fail "running list"
[ "$(st "$upid" 'j["status"]')" = running ] || fail "running status"
tapir task stop "$upid" >/dev/null
rc=0; wait $bg || rc=$?
[ $rc -ne 0 ] || fail "aborted task exited 0"
[ "$(st "$upid" 'j["exitstatus"]')" = aborted ] || fail "aborted status"
tapir task log "$upid" | grep -q 'TASK ERROR: aborted' || fail "aborted log"

# a worker that dies shows as unknown and leaves the running list
"$TAPIR_BIN" task selftest --seconds 30 >"$T/bg2.out" 2>/dev/null &
bg=$!
for _ in $(seq 50); do [ -s "$T/bg2.out" ] && break; sleep 0.1; done
upid=$(head -1 "$T/bg2.out")
kill -9 $bg
wait $bg 2>/dev/null || true
[ "$(json_get "$(tapir task list --running --output-format json)" 'len(j)')" = 0 ] || fail "dead task still running"
[ "$(st "$upid" 'j["exitstatus"]')" = unknown ] || fail "died task status"
[ "$(U=$upid json_get "$(tapir task list --output-format json)" "len($sel)")" = 1 ] || fail "died task listed twice"
echo "t0510 OK"
