#!/bin/bash
# Tape backup benchmark (by hand, never from the test suite): tapir tape backup vs `cat` of the same chunk files, and the lowest write rate while streaming.
# usage: bench/tape_backup_bench.sh [SIZE]   datastore size in MiB or with G/M suffix (default 2G)
# env:   BENCH_DIR (default /var/tmp/tapir-tape-bench, needs about 3x SIZE), TAPIR_BIN (default build/tapir),
#        TAPE_SIZE (virtual cartridge size, default 64G: one cartridge, no tape change in the window figures)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TAPIR_BIN=${TAPIR_BIN:-$TOP/build/tapir}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tapir-tape-bench}
TAPE_SIZE=${TAPE_SIZE:-64G}
size=${1:-2G}
case $size in
*G|*g) mib=$(( ${size%[Gg]} * 1024 )) ;;
*M|*m) mib=${size%[Mm]} ;;
*) mib=$size ;;
esac
[ -x "$TAPIR_BIN" ] || { echo "tapir binary not found at $TAPIR_BIN (build first or set TAPIR_BIN)" >&2; exit 1; }
tapir() { "$TAPIR_BIN" "$@"; }
now() { date +%s.%N; }

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/home"
export TAPIR_HOME=$BENCH_DIR/home
B=$BENCH_DIR

echo "generating a ${mib} MiB datastore (random vm images, so chunks do not compress)"
tapir datastore create src "$B/src" >/dev/null
left=$mib; k=0
while [ "$left" -gt 0 ]; do
	n=$(( left > 256 ? 256 : left ))
	head -c "$((n << 20))" /dev/urandom >"$B/img"
	tapir backup --store src --type vm --id $((100 + k)) --time 2026-01-01T00:00:00Z disk.img:"$B/img" >/dev/null
	left=$((left - n)); k=$((k + 1))
done
rm -f "$B/img"
tapir drive create vt --type virtual --path "$B/vtl" --max-size "$TAPE_SIZE" >/dev/null
tapir pool create pt >/dev/null
for i in 1 2 3 4; do tapir tape label --drive vt --label-text "T00$i" --pool pt >/dev/null; done
find "$B/src/.chunks" -type f | sort >"$B/chunks.list"
echo "$(wc -l <"$B/chunks.list") chunk files, $(xargs -a "$B/chunks.list" cat | wc -c) bytes (this also warms the page cache)"
sync

# the machine may be shared: the load goes with the figures
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# baseline: the same chunk files into one file on the same disk
t0=$(now)
xargs -a "$B/chunks.list" cat >"$B/cat.out"
sync
t1=$(now)
rm -f "$B/cat.out"
sync

# tape backup, sampling the cartridges' data size every 0.25 s
: >"$B/samples"
(
	while :; do
		s=0
		for f in "$B"/vtl/tape-*.dat; do [ -f "$f" ] && s=$((s + $(stat -c %s "$f"))); done
		echo "$(now) $s" >>"$B/samples"
		sleep 0.25
	done
) &
sampler=$!
t2=$(now)
tapir tape backup src pt --drive vt --output-format json >"$B/backup.json" 2>"$B/backup.log"
sync
t3=$(now)
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$t0" "$t1" "$t2" "$t3" "$B/samples" "$B/backup.json" <<'PY'
import json, sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
s = [tuple(map(float, l.split())) for l in open(sys.argv[5]) if l.strip()]
j = json.loads(open(sys.argv[6]).read().strip().splitlines()[-1])
cat, tape = t1 - t0, t3 - t2
print("tapir tape backup: %.2f s, %d tape bytes, %d chunks, %d tapes" % (tape, j["tape-bytes-written"], j["chunks-written"], len(j["tapes"])))
print("cat of the chunk files + sync: %.2f s" % cat)
print("wall time ratio cat / tape backup: %.2f (goal >= 0.9)" % (cat / tape))
# streaming: from the first growth of the cartridges to the last
grow = [i for i in range(1, len(s)) if s[i][1] > s[i - 1][1]]
if grow:
    a, b = grow[0] - 1, grow[-1]
    st = s[a:b + 1]
    worst, at = None, None
    for i in range(len(st)):
        k = i
        while k < len(st) and st[k][0] - st[i][0] < 1.0:
            k += 1
        if k == len(st):
            break
        rate = (st[k][1] - st[i][1]) / (st[k][0] - st[i][0])
        if worst is None or rate < worst:
            worst, at = rate, st[i][0] - st[0][0]
    mean = (st[-1][1] - st[0][1]) / max(st[-1][0] - st[0][0], 1e-9)
    print("streaming %.2f s, mean write rate %.1f MiB/s" % (st[-1][0] - st[0][0], mean / 2**20))
    if worst is None:
        print("lowest 1-s window: streaming lasted under a second")
    else:
        print("lowest write rate over a 1-s window: %.1f MiB/s (at +%.2f s)" % (worst / 2**20, at))
PY
