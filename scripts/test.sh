#!/bin/bash
# Installs what is missing, builds tapir (-Werror, and ASan+UBSan), runs unit,
# end-to-end and fuzz tests, and ends with the line "N passed, N failed".
# usage: scripts/test.sh [--quick] [PATTERN]   (--quick: skip sanitizers and fuzzing)
set -uo pipefail
cd "$(dirname "$0")/.."
quick=0
[ "${1:-}" = --quick ] && { quick=1; shift; }
pattern=${1:-}
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0; failed=0; failures=()
ok() { passed=$((passed + 1)); echo "PASS $1${2:+ ($2 s)}"; }
bad() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"; }
logdir=$(mktemp -d /tmp/tapir-test-logs.XXXXXX)

build() { # dir, options...
	local d=$1; shift
	if ! bash scripts/build.sh "$d" "$@" >"$logdir/build-$d.log" 2>&1; then
		cat "$logdir/build-$d.log"; bad "build $d"; return 1
	fi
	ok "build $d"
}

# The sanitizer and fuzz builds are compiled in the background while the
# plain build's tests run (much of an e2e test is waiting on files and
# processes); build_wait reports one of them when its tests are next.
build_bg() { # dir, options...
	local d=$1; shift
	(bash scripts/build.sh "$d" "$@" >"$logdir/build-$d.log" 2>&1; echo $? >"$logdir/build-$d.rc") &
}
build_wait() { # dir
	local d=$1
	while [ ! -f "$logdir/build-$d.rc" ]; do sleep 1; done
	if [ "$(cat "$logdir/build-$d.rc")" != 0 ]; then
		cat "$logdir/build-$d.log"; bad "build $d"; return 1
	fi
	ok "build $d"
}

# Unit tests get a private tmpfs on /tmp when we may make one (root, mount
# namespaces): each creates datastores of 65,536 directories, which on a
# journalling disk costs minutes, and a private /tmp also keeps tests apart.
isolated() {
	if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
		unshare -m sh -c 'mount -t tmpfs -o size=8g tapir-test /tmp && exec "$@"' sh "$@"
	else
		"$@"
	fi
}

run_units() { # build dir, label
	local d=$1 label=$2
	for t in "$d"/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		local n; n=$(basename "$t")
		[ -n "$pattern" ] && [[ "$n" != *$pattern* ]] && continue
		local t0=$SECONDS
		if TAPIR_FIXTURES="$PWD/tests/fixtures" isolated timeout 600 "$t" >"$logdir/$label-$n.log" 2>&1; then
			ok "$label $n" $((SECONDS - t0))
		else
			tail -40 "$logdir/$label-$n.log"; bad "$label $n"
		fi
	done
}

if build build -Dwerror=true; then
	if [ $quick = 0 ]; then
		bg_builds=1
		# -Werror is enforced by the plain build; GCC 12 emits false positives under sanitizers
		(build_bg build-asan -Dwerror=false -Db_sanitize=address,undefined -Db_lundef=false; wait
		 CC=clang build_bg build-fuzz -Dfuzz=true -Dtests=disabled -Db_sanitize=address,undefined \
			-Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link; wait) &
	fi
	run_units build unit
	export TAPIR_BIN="$PWD/build/tapir"
	for t in tests/e2e/t[0-9]*.sh; do
		[ -f "$t" ] || continue
		n=$(basename "$t" .sh)
		[ -n "$pattern" ] && [[ "$n" != *$pattern* ]] && continue
		t0=$SECONDS
		if timeout 900 bash "$t" >"$logdir/e2e-$n.log" 2>&1; then
			ok "e2e $n" $((SECONDS - t0))
		else
			tail -40 "$logdir/e2e-$n.log"; bad "e2e $n"
		fi
	done
fi

if [ $quick = 0 ] && [ -n "${bg_builds:-}" ]; then
	if build_wait build-asan; then
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
		run_units build-asan asan
		unset ASAN_OPTIONS UBSAN_OPTIONS
	fi
	if build_wait build-fuzz; then
		secs=${FUZZ_SECONDS:-20}
		# one fuzzer per core at a time: each is single-threaded; an input that takes
		# over 30 s (e.g. exponential backtracking) is a failure
		fuzz_one() { # target binary; writes its log and rc
			local f=$1 n corpus
			n=$(basename "$f")
			corpus=$(mktemp -d)
			[ -d "tests/fuzz/corpus/$n" ] && cp -r "tests/fuzz/corpus/$n/." "$corpus/"
			timeout $((secs + 120)) "$f" -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 -max_len=1048576 \
				"$corpus" >"$logdir/fuzz-$n.log" 2>&1
			echo $? >"$logdir/fuzz-$n.rc"
			rm -rf "$corpus"
		}
		targets=()
		for f in build-fuzz/fuzz_*; do
			[ -f "$f" ] && [ -x "$f" ] || continue
			n=$(basename "$f")
			[ -n "$pattern" ] && [[ "$n" != *$pattern* ]] && continue
			targets+=("$f")
		done
		jobs=$(nproc 2>/dev/null || echo 2)
		for ((i = 0; i < ${#targets[@]}; i += jobs)); do
			for f in "${targets[@]:i:jobs}"; do fuzz_one "$f" & done
			wait
		done
		for f in "${targets[@]}"; do
			n=$(basename "$f")
			if [ "$(cat "$logdir/fuzz-$n.rc" 2>/dev/null)" = 0 ]; then
				ok "fuzz $n"
			else
				tail -40 "$logdir/fuzz-$n.log"; bad "fuzz $n"
			fi
		done
	fi
fi

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "logs in $logdir"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
