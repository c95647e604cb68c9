# Shared helpers for the end-to-end tests: a private TAPIR_HOME, the real binary, assertions.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TAPIR_BIN=${TAPIR_BIN:-$TOP/build/tapir}
[ -x "$TAPIR_BIN" ] || { echo "tapir binary not found at $TAPIR_BIN" >&2; exit 1; }
# Scratch on tmpfs when it has room: a datastore is 65,536 chunk directories, and
# creating and removing those on a journalling disk dominates the suite's time.
scratch=/tmp
if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt 4194304 ]; then
	scratch=/dev/shm
fi
T=$(mktemp -d "${TAPIR_TEST_TMP:-$scratch}/tapir-e2e.XXXXXX")
export TAPIR_HOME=$T/home
mkdir -p "$TAPIR_HOME"
# at_exit CMD: run CMD (e.g. kill a background tapir) before the scratch goes.
exit_hooks=()
at_exit() { exit_hooks+=("$1"); }
cleanup() {
	local rc=$? h
	for h in "${exit_hooks[@]}"; do eval "$h" || true; done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
	exit $rc
}
trap cleanup EXIT

tapir() { "$TAPIR_BIN" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_fail PATTERN CMD...: the command must exit non-zero, print exactly one
# line on stderr, and that line must match PATTERN (grep -E).
expect_fail() {
	local pat=$1; shift
	local out rc=0
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[ $rc -ne 0 ] || fail "expected failure: $*"
	[ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] || fail "expected one error line from '$*', got: $out"
	printf '%s\n' "$out" | grep -Eq -- "$pat" || fail "error of '$*' does not match /$pat/: $out"
}

# json_get FILE_OR_STRING EXPR: evaluates a python expression on the parsed JSON `j`.
json_get() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# expect_fail_last PATTERN CMD...: non-zero exit; warnings may precede it, but the
# last stderr line is the error and must match PATTERN.
expect_fail_last() {
	local pat=$1; shift
	local out rc=0
	out=$("$@" 2>&1 >/dev/null) || rc=$?
	[ $rc -ne 0 ] || fail "expected failure: $*"
	printf '%s\n' "$out" | tail -n 1 | grep -Eq -- "$pat" || fail "last error line of '$*' does not match /$pat/: $out"
}
