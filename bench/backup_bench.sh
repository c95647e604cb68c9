#!/bin/bash
# Backup benchmark (by hand, never from the test suite): tapir backup vs `tar -c | zstd -1` on one generated tree.
# usage: bench/backup_bench.sh [SIZE]   SIZE in MiB or with G/M suffix (default 2G)
# env:   BENCH_DIR (default /var/tmp/tapir-bench, kept for verify_bench.sh), TAPIR_BIN (default build/tapir),
#        RUNS (default 3: the timed pair tar|zstd / tapir backup is repeated, medians printed; machines are shared)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TAPIR_BIN=${TAPIR_BIN:-$TOP/build/tapir}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tapir-bench}
size=${1:-2G}
case $size in
*G|*g) mib=$(( ${size%[Gg]} * 1024 )) ;;
*M|*m) mib=${size%[Mm]} ;;
*) mib=$size ;;
esac
[ -x "$TAPIR_BIN" ] || { echo "tapir binary not found at $TAPIR_BIN (build first or set TAPIR_BIN)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time missing (bash scripts/setup.sh installs package 'time')" >&2; exit 1; }
command -v zstd >/dev/null || { echo "zstd missing" >&2; exit 1; }

runs=${RUNS:-3}
tree=$BENCH_DIR/tree
# the generated tree is deterministic in shape; reuse one of the same size (regenerating 2 GiB takes minutes)
if [ "$(cat "$BENCH_DIR/tree.mib" 2>/dev/null)" = "$mib" ] && [ -d "$tree" ]; then
	find "$BENCH_DIR" -mindepth 1 -maxdepth 1 ! -name tree ! -name tree.mib -exec rm -rf {} +
	echo "reusing the ${mib} MiB tree in $tree"
	regen=0
else
	rm -rf "$BENCH_DIR"
	regen=1
fi
mkdir -p "$BENCH_DIR/home"
export TAPIR_HOME=$BENCH_DIR/home

[ $regen = 1 ] && echo "generating a ${mib} MiB tree in $tree (half compressible text, half random)"
[ $regen = 0 ] || python3 - "$tree" "$mib" <<'PY'
import os, random, sys
top, mib = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
words = [''.join(rnd.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rnd.randint(2, 10))) for _ in range(5000)]
total, target, n = 0, mib << 20, 0
while total < target:
    d = os.path.join(top, 'd%03d' % (n // 100))
    os.makedirs(d, exist_ok=True)
    size = min(int(rnd.lognormvariate(11.5, 1.6)), 64 << 20, target - total) or 1
    p = os.path.join(d, 'f%06d' % n)
    if n % 2:
        data = os.urandom(size)
    else:
        line = []
        out = bytearray()
        while len(out) < size:
            out += (' '.join(rnd.choices(words, k=12)) + '\n').encode()
        data = bytes(out[:size])
    with open(p, 'wb') as f:
        f.write(data)
    total += size
    n += 1
print('%d files, %d bytes' % (n, total))
PY
[ $regen = 0 ] || echo "$mib" >"$BENCH_DIR/tree.mib"

measure() { # LABEL CMD... -> prints wall seconds and max RSS (KiB) into $BENCH_DIR/LABEL.time
	local label=$1; shift
	/usr/bin/time -v -o "$BENCH_DIR/$label.time" "$@" >"$BENCH_DIR/$label.out"
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$BENCH_DIR/$label.time")
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$BENCH_DIR/$label.time")
	# CPU seconds (user + system) of the whole command: a figure the other load on a shared machine disturbs less
	cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$BENCH_DIR/$label.time")
	echo "$wall $rss $cpu"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
tar -C "$BENCH_DIR" -c tree >/dev/null   # warm the page cache for both contenders
"$TAPIR_BIN" datastore create benchstore "$BENCH_DIR/ds" >/dev/null
: >"$BENCH_DIR/runs"
for i in $(seq 1 "$runs"); do
	# an empty store each run (emptied rather than re-created: creating 65536 directories is slow)
	rm -rf "$BENCH_DIR/ds/host"
	find "$BENCH_DIR/ds/.chunks" -type f -delete
	sync
	read -r tar_wall tar_rss tar_cpu < <(measure tar sh -c "tar -C '$BENCH_DIR' -c tree | zstd -1 -q -T1 >'$BENCH_DIR/tree.tar.zst'")
	# the same with its output made durable, as tapir's backup is (it syncs the store before publishing)
	rm -f "$BENCH_DIR/tree.tar.zst"
	sync
	read -r tars_wall _ _ < <(measure tarsync sh -c "tar -C '$BENCH_DIR' -c tree | zstd -1 -q -T1 >'$BENCH_DIR/tree.tar.zst' && sync")
	read -r tp_wall tp_rss tp_cpu < <(measure tapir "$TAPIR_BIN" backup --store benchstore --type host --id bench \
		--time 2026-01-01T00:00:00Z root.pxar:"$tree")
	echo "run $i: tar|zstd ${tar_wall} s (cpu ${tar_cpu} s) ${tar_rss} KiB, tapir ${tp_wall} s (cpu ${tp_cpu} s)" \
		"${tp_rss} KiB, tar|zstd+sync ${tars_wall} s, load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$BENCH_DIR/runs.txt"
	echo "$tar_wall $tar_rss $tp_wall $tp_rss $tar_cpu $tp_cpu $tars_wall" >>"$BENCH_DIR/runs"
done
tar_wall=$(awk '{ print $1 }' "$BENCH_DIR/runs" | median); tar_rss=$(awk '{ print $2 }' "$BENCH_DIR/runs" | median)
tp_wall=$(awk '{ print $3 }' "$BENCH_DIR/runs" | median); tp_rss=$(awk '{ print $4 }' "$BENCH_DIR/runs" | median)
tar_cpu=$(awk '{ print $5 }' "$BENCH_DIR/runs" | median); tp_cpu=$(awk '{ print $6 }' "$BENCH_DIR/runs" | median)
ratios=$(awk '{ printf "%.2f ", $3 / $1 }' "$BENCH_DIR/runs")
tars_wall=$(awk '{ print $7 }' "$BENCH_DIR/runs" | median)
ratios_sync=$(awk '{ printf "%.2f ", $3 / $7 }' "$BENCH_DIR/runs")
tree_bytes=$(du -sb "$tree" | cut -f1)
echo "tree:                $tree_bytes bytes ($runs runs, medians below; uptime: $(uptime | sed 's/.*load/load/'))"
echo "tar | zstd -1:       ${tar_wall} s (cpu ${tar_cpu} s), peak RSS ${tar_rss} KiB, output $(stat -c %s "$BENCH_DIR/tree.tar.zst") bytes"
echo "tapir backup:        ${tp_wall} s (cpu ${tp_cpu} s), peak RSS ${tp_rss} KiB, chunk files $(find "$BENCH_DIR/ds/.chunks" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }') bytes"
python3 -c "import sys; print('wall time ratio tapir / (tar|zstd): %.2f (median times; per run: %s)' % (float(sys.argv[1]) / float(sys.argv[2]), sys.argv[3].strip()))" "$tp_wall" "$tar_wall" "$ratios"
python3 -c "import sys; print('wall time ratio tapir / (tar|zstd + sync, equally durable): %.2f (tar|zstd + sync %s s; per run: %s)' % (float(sys.argv[1]) / float(sys.argv[2]), sys.argv[2], sys.argv[3].strip()))" "$tp_wall" "$tars_wall" "$ratios_sync"
rm -f "$BENCH_DIR/tree.tar.zst"

# change ~5 % of the files (every 20th): random files get new random bytes, text files a new line in the middle
changed=$(python3 - "$tree" <<'PY'
import os, sys
files = sorted(os.path.join(r, f) for r, _, fs in os.walk(sys.argv[1]) for f in fs)
changed = 0
for p in files[::20]:
    size = os.path.getsize(p)
    if int(p[-1]) % 2:
        with open(p, 'wb') as f:
            f.write(os.urandom(size))
        changed += size
    else:
        b = open(p, 'rb').read()
        b = b[:len(b) // 2] + b'a changed line\n' + b[len(b) // 2:]
        open(p, 'wb').write(b)
        changed += len(b)
print(changed)
PY
)
out=$("$TAPIR_BIN" backup --store benchstore --type host --id bench --time 2026-01-02T00:00:00Z \
	--output-format json root.pxar:"$tree" | tail -n 1)
new=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["new-bytes"])' "$out")
echo "second backup:       changed files total $changed bytes, new bytes written $new" \
	"($(python3 -c "import sys; print('%.2f' % (int(sys.argv[1]) / max(1, int(sys.argv[2]))))" "$new" "$changed") x)"
echo "datastore kept in $BENCH_DIR for bench/verify_bench.sh"
