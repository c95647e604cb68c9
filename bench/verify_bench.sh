#!/bin/bash
# Verify benchmark (by hand): `tapir verify` vs `sha256sum` over the chunk files of the datastore
# that bench/backup_bench.sh left in BENCH_DIR.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TAPIR_BIN=${TAPIR_BIN:-$TOP/build/tapir}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tapir-bench}
export TAPIR_HOME=$BENCH_DIR/home
[ -d "$BENCH_DIR/ds/.chunks" ] || { echo "no datastore in $BENCH_DIR: run bench/backup_bench.sh first" >&2; exit 1; }
chunks=$BENCH_DIR/ds/.chunks

# list the files first so that the 65536-directory walk is not timed; warm the page cache for both
find "$chunks" -type f -print0 >"$BENCH_DIR/chunk-files"
xargs -0 cat <"$BENCH_DIR/chunk-files" >/dev/null
t0=$(date +%s.%N)
xargs -0 sha256sum <"$BENCH_DIR/chunk-files" >/dev/null
t1=$(date +%s.%N)
"$TAPIR_BIN" verify --store benchstore
t2=$(date +%s.%N)
python3 - "$t0" "$t1" "$t2" "$(xargs -0 stat -c %s <"$BENCH_DIR/chunk-files" | awk '{ s += $1 } END { print s }')" "$(tr -cd '\0' <"$BENCH_DIR/chunk-files" | wc -c)" <<'PY'
import sys
t0, t1, t2 = map(float, sys.argv[1:4])
print('chunk files: %s bytes in %s files' % (sys.argv[4], sys.argv[5]))
print('sha256sum:    %.2f s' % (t1 - t0))
print('tapir verify: %.2f s' % (t2 - t1))
print('ratio verify / sha256sum: %.2f' % ((t2 - t1) / (t1 - t0)))
PY
