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

# daily_backups STORE MONTH BYTES DAY...: for each day a new random $T/src/data
# of BYTES, a backup host/h1 at 2026-MONTH-0DAYT00:00:00Z into STORE, and the
# tree as it was in $T/copyDAY (days 1-9).
daily_backups() {
	local store=$1 month=$2 bytes=$3 d
	shift 3
	mkdir -p "$T/src"
	for d in "$@"; do
		head -c "$bytes" /dev/urandom >"$T/src/data"
		echo "day $d" >"$T/src/day"
		tapir backup --store "$store" --type host --id h1 --time "2026-$month-0${d}T00:00:00Z" root.pxar:"$T/src" >/dev/null
		cp -a "$T/src" "$T/copy$d"
	done
}

# virtual_library NDRIVES TAPE_SIZE NTAPES [IE_SLOTS]: virtual changer lib1 in $T/lib1 with NTAPES + 2
# storage slots (and IE_SLOTS import/export ones, default 0), its drives d1..dNDRIVES with cartridges of
# TAPE_SIZE, cartridges TAPE01L9.. in slots 1..NTAPES, pool p1, and every cartridge barcode-labelled into p1.
virtual_library() {
	local nd=$1 size=$2 nt=$3 ie=${4:-0} i
	tapir changer create lib1 --type virtual --path "$T/lib1" --slots $((nt + 2)) --import-export-slots "$ie" >/dev/null
	for i in $(seq "$nd"); do
		tapir drive create "d$i" --type virtual --path "$T/d$i" --max-size "$size" --changer lib1 \
			--changer-drivenum $((i - 1)) >/dev/null
	done
	tapir pool create p1 >/dev/null
	for i in $(seq "$nt"); do tapir changer insert lib1 "TAPE0${i}L9" --slot "$i" >/dev/null; done
	tapir tape barcode-label --drive d1 --pool p1 >/dev/null
}

# restored_as_copied STORE MONTH DAY...: each day's snapshot of daily_backups in
# STORE gives back its tree byte for byte.
restored_as_copied() {
	local store=$1 month=$2 d
	shift 2
	for d in "$@"; do
		rm -rf "$T/r$d"
		tapir restore --store "$store" "host/h1/2026-$month-0${d}T00:00:00Z" root.pxar "$T/r$d"
		diff -r "$T/copy$d" "$T/r$d" || fail "the restored tree of $store day $d differs"
	done
}

# kill_after_ms MS CMD...: runs CMD (its output discarded) and SIGKILLs it
# after MS milliseconds; returns 0 when the kill came while it still ran.
kill_after_ms() {
	local ms=$1 pid st=0
	shift
	"$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || st=$?
	[ "$st" = 137 ]
}
