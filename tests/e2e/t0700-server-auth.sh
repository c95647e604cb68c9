#!/bin/bash
# API server: TLS certificate, token/ticket auth (401), privileges (403/200), strict parameters (400), body
# limit (413), tasks through the API (list/status/log/abort), clean SIGTERM, state kept across restarts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server-lib.sh"

tok() { json_get "$(tapir user generate-token "$1" "$2")" 'j["tokenid"] + ":" + j["value"]'; }
tapir user create alice@pbs --password 'alice-pw-1' >/dev/null
tapir user create bob@pbs --password 'bob-pw-123' >/dev/null
ROOT=$(tok root@pam admin)
# root@pam's tokens have only what their ACLs give them (PBS privilege separation)
tapir acl update / Admin --auth-id 'root@pam!admin' >/dev/null
ALICE=$(tok alice@pbs t1)
BOB=$(tok bob@pbs t1)
tapir datastore create store1 "$T/ds1" >/dev/null
tapir drive create d1 --type virtual --path "$T/vtl1" >/dev/null
tapir drive create d2 --type virtual --path "$T/vtl2" >/dev/null

# --no-tls only on loopback; numeric addresses only
expect_fail "loopback" tapir server --listen 0.0.0.0:1 --no-tls
expect_fail "numeric IP address" tapir server --listen localhost:1

# TLS: certificate generated once, 0600, fingerprint printed and matching the file
start_server
fp=$(sed -n 's/^generated certificate fingerprint (SHA-256): //p' "$T/server.out")
[ -n "$fp" ] || fail "no fingerprint printed: $(cat "$T/server.out")"
[ "$(stat -c %a "$TAPIR_HOME/etc/proxy.key")" = 600 ] || fail "proxy.key mode"
[ "$(stat -c %a "$TAPIR_HOME/etc/proxy.pem")" = 600 ] || fail "proxy.pem mode"
ofp=$(openssl x509 -noout -fingerprint -sha256 -in "$TAPIR_HOME/etc/proxy.pem" | sed 's/.*=//' | tr A-F a-f)
[ "$fp" = "$ofp" ] || fail "fingerprint $fp != $ofp"
curl -s --cacert "$TAPIR_HOME/etc/proxy.pem" -o /dev/null "$SRV_URL/access/ticket" || fail "certificate does not verify for 127.0.0.1"

# 401: no credentials, wrong secret, malformed header, unknown token
AUTH= expect_status 401 GET config/datastore | grep -q "authentication required" || fail "401 message"
AUTH="${ALICE%:*}:00000000-0000-0000-0000-000000000000" expect_status 401 GET config/datastore >/dev/null
AUTH="garbage" expect_status 401 GET config/datastore >/dev/null
AUTH="alice@pbs!nope:${ALICE#*:}" expect_status 401 GET config/datastore >/dev/null
AUTH=$ALICE expect_status 404 GET no/such/path >/dev/null
AUTH=$ALICE expect_status 405 PUT config/datastore '{}' >/dev/null

# privileges: nothing -> 403 / empty lists; with ACLs -> 200, on exactly the given paths
AUTH=$ALICE
[ "$(json_get "$(expect_status 200 GET config/datastore)" 'len(j["data"])')" = 0 ] || fail "alice sees datastores"
expect_status 403 GET config/datastore/store1 | grep -q "alice@pbs!t1 lacks Datastore.Audit on /datastore/store1" || fail "403 message"
expect_status 403 GET config/drive/d1 >/dev/null
tapir acl update /datastore/store1 DatastoreAudit --auth-id alice@pbs >/dev/null
tapir acl update /datastore/store1 DatastoreAudit --auth-id 'alice@pbs!t1' >/dev/null
tapir acl update /tape/device/d1 TapeAudit --auth-id alice@pbs >/dev/null
tapir acl update /tape/device/d1 TapeAudit --auth-id 'alice@pbs!t1' >/dev/null
[ "$(json_get "$(expect_status 200 GET config/datastore)" 'j["data"][0]["name"]')" = store1 ] || fail "datastore list"
expect_status 200 GET config/datastore/store1 >/dev/null
expect_status 200 GET config/drive/d1 >/dev/null
expect_status 403 GET config/drive/d2 >/dev/null
[ "$(json_get "$(expect_status 200 GET config/drive)" '[d["name"] for d in j["data"]]')" = "['d1']" ] || fail "drive filter"
expect_status 403 POST config/datastore "{\"name\":\"store9\",\"path\":\"$T/ds9\"}" >/dev/null
[ -e "$T/ds9" ] && fail "refused datastore was created"
# a token never has more than its user: bob's token with an ACL but bob without one
tapir acl update /datastore/store1 DatastoreAudit --auth-id 'bob@pbs!t1' >/dev/null
AUTH=$BOB expect_status 403 GET config/datastore/store1 >/dev/null

# 400 naming the parameter: malformed JSON, unknown parameter, wrong type, overlong, traversal
AUTH=$ROOT
body=$(api POST config/datastore -H 'Content-Type: application/json' --data-binary '{"name": "x",')
[ "$(status)" = 400 ] && grep -q "request body" <<<"$body" || fail "malformed JSON: $(status) $body"
expect_status 400 POST config/datastore "{\"name\":\"store9\",\"path\":\"$T/ds9\",\"colour\":\"red\"}" |
	grep -q "parameter 'colour': unknown parameter" || fail "unknown parameter"
expect_status 400 POST config/datastore '{"name":"store9","path":17}' | grep -q "parameter 'path'" || fail "wrong type"
expect_status 400 GET "nodes/localhost/tasks?limit=many" | grep -q "parameter 'limit'" || fail "wrong type (query)"
long=$(head -c 300 /dev/zero | tr '\0' a)
expect_status 400 POST config/datastore "{\"name\":\"$long\",\"path\":\"$T/x\"}" | grep -q "parameter 'name': longer than" ||
	fail "overlong"
expect_status 400 GET 'admin/datastore/%2E%2E/snapshots' | grep -q "parameter 'store'" || fail "store traversal"
expect_status 400 GET 'admin/datastore/store1/snapshots?ns=a/../../b' | grep -q "parameter 'ns'" || fail "ns traversal"
expect_status 400 GET 'config/drive/%2E%2E' | grep -q "parameter 'name'" || fail "drive traversal"
ms=00000000-0000-0000-0000-000000000001
expect_status 400 POST tape/restore "{\"store\":\"store1\",\"drive\":\"../d1\",\"media-set\":\"$ms\"}" |
	grep -q "parameter 'drive'" || fail "drive traversal (restore)"
expect_status 400 POST tape/restore "{\"store\":\"store1\",\"drive\":\"d1\",\"media-set\":\"$ms\",\"snapshots\":[\"store1:host/../../x/2026-01-01T00:00:00Z\"]}" |
	grep -q "parameter 'snapshots'" || fail "snapshot traversal"
expect_status 400 POST tape/restore-single "{\"store\":\"store1\",\"drive\":\"d1\",\"media-set\":\"$ms\",\"snapshots\":\"x\"}" |
	grep -q "parameter 'snapshots'" || fail "bad snapshot (alias)"
expect_status 400 POST tape/restore "{\"store\":\"store1\",\"drive\":\"d1\"}" | grep -q "parameter 'media-set'" ||
	fail "missing parameter"

# 413: body larger than the limit
head -c 2000000 /dev/zero | tr '\0' ' ' >"$T/big.json"
api POST config/datastore -H 'Content-Type: application/json' --data-binary @"$T/big.json" >/dev/null
[ "$(status)" = 413 ] || fail "big body: $(status)"

# tickets: cookie for GET; state-changing calls need the CSRF header
login=$(curl -sk -d 'username=alice@pbs' --data-urlencode 'password=alice-pw-1' "$SRV_URL/access/ticket")
ticket=$(json_get "$login" 'j["data"]["ticket"]')
csrf=$(json_get "$login" 'j["data"]["CSRFPreventionToken"]')
curl -sk -d 'username=alice@pbs' -d 'password=wrong-pw-1' -o /dev/null -w '%{http_code}' "$SRV_URL/access/ticket" |
	grep -q 403 || fail "wrong password accepted"
AUTH= api GET config/datastore/store1 -b "PBSAuthCookie=$ticket" >/dev/null
[ "$(status)" = 200 ] || fail "ticket GET: $(status)"
AUTH= api POST access/users/alice@pbs/token/t2 -b "PBSAuthCookie=$ticket" >/dev/null
[ "$(status)" = 401 ] || fail "POST without CSRF: $(status)"
AUTH= api POST access/users/alice@pbs/token/t2 -b "PBSAuthCookie=$ticket" -H "CSRFPreventionToken: $csrf" >"$T/t2"
[ "$(status)" = 200 ] || fail "POST with CSRF: $(status) $(cat "$T/t2")"
AUTH= api GET config/datastore -b "PBSAuthCookie=${ticket%??}00" >/dev/null
[ "$(status)" = 401 ] || fail "forged ticket: $(status)"

# tasks: a long CLI task is listed, its status and log are readable, DELETE aborts it
"$TAPIR_BIN" task selftest --seconds 60 >"$T/bg.out" 2>/dev/null &
bg=$!
for _ in $(seq 50); do [ -s "$T/bg.out" ] && break; sleep 0.1; done
upid=$(head -1 "$T/bg.out")
upid_enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$upid")
list=$(expect_status 200 GET 'nodes/localhost/tasks?running=1')
[ "$(U=$upid json_get "$list" "[t['upid'] for t in j['data']] == [__import__('os').environ['U']]")" = True ] ||
	fail "running task list: $list"
st=$(expect_status 200 GET "nodes/localhost/tasks/$upid_enc/status")
[ "$(json_get "$st" 'j["data"]["status"]')" = running ] || fail "status: $st"
AUTH=$ALICE expect_status 403 DELETE "nodes/localhost/tasks/$upid_enc" >/dev/null
AUTH=$ALICE expect_status 403 GET "nodes/localhost/tasks/$upid_enc/log" >/dev/null
expect_status 200 DELETE "nodes/localhost/tasks/$upid_enc" >/dev/null
rc=0; wait $bg || rc=$?
[ $rc -ne 0 ] || fail "aborted task exited 0"
st=$(expect_status 200 GET "nodes/localhost/tasks/$upid_enc/status")
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = aborted ] || fail "aborted status: $st"
log=$(expect_status 200 GET "nodes/localhost/tasks/$upid_enc/log?limit=0")
[ "$(json_get "$log" 'j["data"][-1]["t"].endswith("TASK ERROR: aborted")')" = True ] || fail "log: $log"
[ "$(json_get "$log" 'j["total"] == len(j["data"])')" = True ] || fail "log total: $log"
expect_status 400 DELETE "nodes/localhost/tasks/$upid_enc" | grep -q "not running" || fail "second DELETE"

# a worker task of the server itself: verify a datastore
mkdir -p "$T/src" && echo hello >"$T/src/f"
tapir backup --store store1 --type host --id h1 --time 2026-01-01T00:00:00Z root.pxar:"$T/src" >/dev/null
vupid=$(json_get "$(expect_status 200 POST admin/datastore/store1/verify '{}')" 'j["data"]')
vupid_enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$vupid")
for _ in $(seq 100); do
	st=$(expect_status 200 GET "nodes/localhost/tasks/$vupid_enc/status")
	[ "$(json_get "$st" 'j["data"]["status"]')" = stopped ] && break
	sleep 0.1
done
[ "$(json_get "$st" 'j["data"]["exitstatus"]')" = OK ] || fail "verify task: $st"
expect_status 200 GET "nodes/localhost/tasks/$vupid_enc/log" | grep -q "verified 1 snapshots" || fail "verify log"
snaps=$(expect_status 200 GET admin/datastore/store1/snapshots)
[ "$(json_get "$snaps" 'j["data"][0]["backup-id"]')" = h1 ] || fail "snapshots: $snaps"

# SIGTERM stops cleanly; a restart keeps users, tokens, ACLs and task history, and the certificate
stop_server
start_server
grep -q '^server certificate fingerprint (SHA-256): '"$fp"'$' "$T/server.out" || fail "certificate changed on restart"
[ "$(json_get "$(expect_status 200 GET access/users)" '"alice@pbs" in [u["userid"] for u in j["data"]]')" = True ] ||
	fail "users lost"
AUTH=$ALICE expect_status 200 GET config/datastore/store1 >/dev/null
acl=$(expect_status 200 GET 'access/acl?path=/tape/device/d1')
[ "$(json_get "$acl" 'len(j["data"])')" = 2 ] || fail "ACLs lost: $acl"
hist=$(expect_status 200 GET 'nodes/localhost/tasks?limit=0')
[ "$(U=$upid json_get "$hist" "__import__('os').environ['U'] in [t['upid'] for t in j['data']]")" = True ] ||
	fail "task history lost: $hist"
[ "$(V=$vupid json_get "$hist" "[t['status'] for t in j['data'] if t['upid'] == __import__('os').environ['V']]")" = "['OK']" ] ||
	fail "verify task lost: $hist"
stop_server
