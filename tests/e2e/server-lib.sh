# Helpers for e2e tests against a running `tapir server` on 127.0.0.1 (sourced after lib.sh).

# free_port: a TCP port nobody listens on right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_server [ARGS...]: starts the server on a free port (SRV_PORT, SRV_PID, SRV_URL set);
# TLS unless --no-tls is among ARGS; waits until it answers.
start_server() {
	SRV_PORT=$(free_port)
	local scheme=https
	for a in "$@"; do [ "$a" = --no-tls ] && scheme=http; done
	SRV_URL="$scheme://127.0.0.1:$SRV_PORT/api2/json"
	"$TAPIR_BIN" server --listen "127.0.0.1:$SRV_PORT" "$@" >"$T/server.out" 2>"$T/server.err" &
	SRV_PID=$!
	for _ in $(seq 100); do
		curl -sk -o /dev/null "$SRV_URL/access/ticket" 2>/dev/null && return 0
		kill -0 $SRV_PID 2>/dev/null || { cat "$T/server.err" >&2; fail "server exited"; }
		sleep 0.1
	done
	fail "server did not answer on port $SRV_PORT"
}

# stop_server: SIGTERM by PID; the server must exit 0.
stop_server() {
	kill -TERM "$SRV_PID"
	local rc=0
	wait "$SRV_PID" || rc=$?
	[ $rc -eq 0 ] || { cat "$T/server.err" >&2; fail "server exited with $rc after SIGTERM"; }
	SRV_PID=
}

# api METHOD PATH [CURL ARGS...]: prints the body; the status goes to $T/status. AUTH (a token
# "USER@REALM!NAME:SECRET") is sent when set.
api() {
	local m=$1 p=$2; shift 2
	local auth=()
	[ -n "${AUTH:-}" ] && auth=(-H "Authorization: PBSAPIToken=$AUTH")
	curl -sk -X "$m" "${auth[@]}" -o "$T/body" -w '%{http_code}' "$@" "$SRV_URL/$p" >"$T/status" || true
	cat "$T/body"
}
status() { cat "$T/status"; }

# expect_status CODE METHOD PATH [JSON]: the call (with JSON as request body when given) must
# answer CODE; prints the body.
expect_status() {
	local code=$1 m=$2 p=$3 body
	if [ $# -ge 4 ]; then
		body=$(api "$m" "$p" -H 'Content-Type: application/json' --data-binary "$4")
	else
		body=$(api "$m" "$p")
	fi
	[ "$(status)" = "$code" ] || fail "$m $p: expected $code, got $(status): $body"
	printf '%s' "$body"
}

# A failing test must not leave its server running.
server_cleanup() {
	local rc=$?
	[ -n "${SRV_PID:-}" ] && kill -TERM "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	(exit $rc)
	cleanup
}
trap server_cleanup EXIT
