#!/bin/bash
# Load on the API's read endpoints (media list, snapshots, task list): 32 concurrent clients for 30 s on
# loopback over HTTPS with an API token; prints requests/s, error count and the server's RSS before/after.
# usage: [ROUNDS=N] bench/api_load.sh [BUILD_DIR] [SECONDS] [CLIENTS]     (uses wrk when installed, else curl loops)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TAPIR_BIN:-$TOP/${1:-build}/tapir}
SECS=${2:-30}
CLIENTS=${3:-32}
[ -x "$BIN" ] || { echo "tapir binary not found at $BIN" >&2; exit 1; }
T=$(mktemp -d /tmp/tapir-bench.XXXXXX)
export TAPIR_HOME=$T/home
SRV=
# API_LOAD_SERVER_LOG=FILE keeps the server's output (e.g. a sanitizer build's leak report at exit)
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
	[ -n "${API_LOAD_SERVER_LOG:-}" ] && cp "$T/server.out" "$API_LOAD_SERVER_LOG"
	rm -rf "$T"
}
trap cleanup EXIT

# some content for the endpoints to return: a datastore with 20 snapshots, 10 tapes, 50 finished tasks
"$BIN" datastore create store1 "$T/ds1" >/dev/null
mkdir -p "$T/src" && head -c 100000 /dev/urandom >"$T/src/f"
for i in $(seq 1 20); do
	"$BIN" backup --store store1 --type host --id "h$((i % 4))" --time "2026-01-$(printf %02d "$i")T00:00:00Z" \
		root.pxar:"$T/src" >/dev/null
done
"$BIN" pool create p1 >/dev/null
"$BIN" drive create d1 --type virtual --path "$T/vtl" >/dev/null
for i in $(seq 1 10); do "$BIN" tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
for i in $(seq 1 50); do "$BIN" task selftest >/dev/null 2>&1; done
tok=$("$BIN" user generate-token root@pam bench)
AUTH=$(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["tokenid"] + ":" + j["value"])' "$tok")
"$BIN" acl update / Admin --auth-id 'root@pam!bench' >/dev/null

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" server --listen "127.0.0.1:$PORT" >"$T/server.out" 2>&1 &
SRV=$!
URL="https://127.0.0.1:$PORT/api2/json"
for _ in $(seq 100); do curl -sk -o /dev/null "$URL/access/ticket" && break; sleep 0.1; done
paths=(tape/media/list admin/datastore/store1/snapshots nodes/localhost/tasks)
for p in "${paths[@]}"; do
	code=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: PBSAPIToken=$AUTH" "$URL/$p")
	[ "$code" = 200 ] || { echo "warm-up: $p answered $code" >&2; exit 1; }
done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SRV/status"; }
rss_idle=$(rss)
# a short warm-up with the same requests first: thread stacks, malloc arenas and first-use allocations
# of every endpoint are not a leak
if command -v wrk >/dev/null; then
	cat >"$T/paths.lua" <<EOF
local paths = { "/api2/json/tape/media/list", "/api2/json/admin/datastore/store1/snapshots",
                "/api2/json/nodes/localhost/tasks" }
local i = 0
wrk.headers["Authorization"] = "PBSAPIToken=$AUTH"
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("non200 %d\n", summary.errors.status))
end
EOF
	wrk -t 4 -c "$CLIENTS" -d 5s -s "$T/paths.lua" "https://127.0.0.1:$PORT" >/dev/null
	sleep 1
fi
rss_before=$(rss)

if command -v wrk >/dev/null; then
	# ROUNDS=N repeats the load (fresh connections each round) and records the RSS after each: memory
	# that is only malloc's high-water mark levels off, a leak keeps climbing
	rss_rounds=
	for round in $(seq "${ROUNDS:-1}"); do
		wrk -t 4 -c "$CLIENTS" -d "${SECS}s" --latency -s "$T/paths.lua" "https://127.0.0.1:$PORT" >"$T/wrk.$round"
		sleep 1   # the server sees the closed connections (and returns free memory) first
		rss_rounds="$rss_rounds $(rss)"
	done
	cp "$T/wrk.$round" "$T/wrk.out"
	reqs=$(cat "$T"/wrk.[0-9]* | awk '/requests in/ {s+=$1} END {print s}')
	rps=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.out")
	non200=$(cat "$T"/wrk.[0-9]* | awk '/^non200/ {s+=$2} END {print s}')
	sockerr=$(cat "$T"/wrk.[0-9]* | awk '/Socket errors/ {for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+,?$/) n+=$i} END {print n+0}')
	errors=$(( ${non200:-0} + ${sockerr:-0} ))
	p99=$(awk '/ 99%/ {print $2}' "$T/wrk.out")
	tool="wrk (4 threads, keep-alive)"
else
	end=$(( $(date +%s) + SECS ))
	client() {
		local ok=0 bad=0
		while [ "$(date +%s)" -lt "$end" ]; do
			while read -r c; do
				if [ "$c" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
			done < <(curl -sk -H "Authorization: PBSAPIToken=$AUTH" -w '%{http_code}\n' -o /dev/null -o /dev/null \
				-o /dev/null "$URL/${paths[0]}" "$URL/${paths[1]}" "$URL/${paths[2]}" || echo 000)
		done
		echo "$ok $bad"
	}
	for i in $(seq "$CLIENTS"); do client >"$T/client.$i" & done
	wait $(jobs -p | grep -v "^$SRV$") 2>/dev/null || true
	reqs=$(cat "$T"/client.* | awk '{s+=$1+$2} END {print s}')
	errors=$(cat "$T"/client.* | awk '{s+=$2} END {print s}')
	rps=$(awk -v r="$reqs" -v s="$SECS" 'BEGIN {printf "%.1f", r / s}')
	p99="n/a"
	tool="curl loops (3 requests per process)"
fi
rss_after=$(rss)
echo "tool: $tool; clients: $CLIENTS; duration: ${SECS}s; endpoints: ${paths[*]}"
echo "requests: $reqs; requests/s: $rps; errors: $errors; p99 latency: $p99"
echo "server RSS: idle ${rss_idle} KiB, after warm-up ${rss_before} KiB, after the load ${rss_after} KiB"
[ -n "${rss_rounds:-}" ] && [ "${ROUNDS:-1}" -gt 1 ] && echo "server RSS after each round (KiB):$rss_rounds"
[ "$errors" = 0 ] || { echo "FAIL: $errors errors" >&2; exit 1; }
