#!/bin/bash
# Every path listed in docs/api.md answers: GETs with 200 on real objects; other methods reach their
# handler's validation (an unknown probe parameter gives 400 naming it), never 404/405/500.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server-lib.sh"

tapir user create alice@pbs >/dev/null
tapir user generate-token alice@pbs tok1 >/dev/null
tapir datastore create store1 "$T/ds1" >/dev/null
tapir changer create changer1 --type virtual --path "$T/vtl" --slots 4 >/dev/null
tapir drive create drive1 --type virtual --path "$T/vd" --changer changer1 --changer-drivenum 0 >/dev/null
tapir pool create pool1 >/dev/null
# a labelled tape stays in the drive: read-label, status and inventory have something to show
tapir changer insert changer1 TAPE01 --slot 1 >/dev/null
tapir tape label --drive drive1 --label-text TAPE01 --pool pool1 >/dev/null
upid=$(tapir task selftest 2>/dev/null)
upid_enc=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$upid")
tok=$(tapir user generate-token root@pam api)
AUTH=$(json_get "$tok" 'j["tokenid"] + ":" + j["value"]')
tapir acl update / Admin --auth-id 'root@pam!api' >/dev/null

start_server --no-tls
expect_status 200 POST config/tape-backup-job '{"id":"job1","store":"store1","pool":"pool1","drive":"drive1"}' >/dev/null

rows=$(grep -E '^\| (GET|POST|PUT|DELETE) \| `[^`]+` \|' "$TOP/docs/api.md" | sed -E 's/^\| ([A-Z]+) \| `([^`]+)`.*/\1 \2/')
n=0
while read -r method path; do
	p=$path
	case "$p" in
	config/drive/*) p=${p//\{name\}/drive1} ;;
	config/changer/* | tape/changer/*) p=${p//\{name\}/changer1} ;;
	config/media-pool/*) p=${p//\{name\}/pool1} ;;
	config/datastore/*) p=${p//\{name\}/store1} ;;
	esac
	p=${p//\{drive\}/drive1}
	p=${p//\{store\}/store1}
	p=${p//\{userid\}/alice@pbs}
	p=${p//\{token-name\}/tok1}
	p=${p//\{node\}/localhost}
	p=${p//\{upid\}/$upid_enc}
	p=${p//\{id\}/job1}
	case "$p" in *\{*) fail "unsubstituted parameter in $path" ;; esac
	if [ "$method" = GET ] && [ "$path" != tape/media/destroy ]; then
		body=$(api GET "$p")
		[ "$(status)" = 200 ] || fail "GET $path: $(status) $body"
	else
		body=$(api "$method" "$p" -H 'Content-Type: application/json' --data-binary '{"zz-probe": 1}')
		[ "$(status)" = 400 ] && grep -q "parameter 'zz-probe': unknown parameter" <<<"$body" ||
			fail "$method $path: $(status) $body"
	fi
	n=$((n + 1))
done <<<"$rows"
[ $n -ge 66 ] || fail "only $n paths in docs/api.md"

# and the other way round: a path that is not documented does not exist
expect_status 404 GET config/not-documented >/dev/null
stop_server
