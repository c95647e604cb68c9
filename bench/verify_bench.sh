#!/bin/bash
# Verify benchmark (by hand): `tapir verify` vs `sha256sum` over the chunk files of the datastore
# that bench/backup_bench.sh left in BENCH_DIR.  RUNS (default 3) repeats the timed pair; medians are printed.
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
runs=${RUNS:-3}
: >"$BENCH_DIR/vruns"
for i in $(seq 1 "$runs"); do
	t0=$(date +%s.%N)
	xargs -0 sha256sum <"$BENCH_DIR/chunk-files" >/dev/null
	t1=$(date +%s.%N)
	"$TAPIR_BIN" verify --store benchstore >"$BENCH_DIR/verify.out"
	t2=$(date +%s.%N)
	echo "$t0 $t1 $t2 $(cut -d' ' -f1 /proc/loadavg)" >>"$BENCH_DIR/vruns"
done
tail -n 1 "$BENCH_DIR/verify.out"
python3 - "$BENCH_DIR/vruns" "$(xargs -0 stat -c %s <"$BENCH_DIR/chunk-files" | awk '{ s += $1 } END { print s }')" "$(tr -cd '\0' <"$BENCH_DIR/chunk-files" | wc -c)" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
sha = [r[1] - r[0] for r in rows]
ver = [r[2] - r[1] for r in rows]
print('chunk files: %s bytes in %s files, %d runs (load %s)' % (sys.argv[2], sys.argv[3], len(rows), ' '.join('%.1f' % r[3] for r in rows)))
print('sha256sum:    %.2f s median (%s)' % (statistics.median(sha), ' '.join('%.2f' % x for x in sha)))
print('tapir verify: %.2f s median (%s)' % (statistics.median(ver), ' '.join('%.2f' % x for x in ver)))
print('ratio verify / sha256sum: %.2f (medians; per run %s)' % (statistics.median(ver) / statistics.median(sha),
      ' '.join('%.2f' % (v / s) for v, s in zip(ver, sha))))
PY
