#!/bin/bash
# Tape restore benchmark (by hand, never from the test suite): full-restore throughput vs cp+sync, and selective restores vs the 2021 design.
# usage: bench/restore_bench.sh [SIZE]   SIZE of the full-restore data set in MiB or with G/M suffix (default 1G)
# env:   BENCH_DIR (default /var/tmp/tapir-restore-bench), TAPIR_BIN (default build/tapir),
#        TAPE_SIZE (virtual cartridge size for part a, default 256M), PARTS (default ab: which parts to run),
#        DAYS (part b: daily snapshots, default 24)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TAPIR_BIN=${TAPIR_BIN:-$TOP/build/tapir}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tapir-restore-bench}
TAPE_SIZE=${TAPE_SIZE:-256M}
PARTS=${PARTS:-ab}
DAYS=${DAYS:-24}
size=${1:-1G}
case $size in
*G|*g) mib=$(( ${size%[Gg]} * 1024 )) ;;
*M|*m) mib=${size%[Mm]} ;;
*) mib=$size ;;
esac
[ -x "$TAPIR_BIN" ] || { echo "tapir binary not found at $TAPIR_BIN (build first or set TAPIR_BIN)" >&2; exit 1; }
tapir() { "$TAPIR_BIN" "$@"; }
now() { date +%s.%N; }
json() { python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR/home"
export TAPIR_HOME=$BENCH_DIR/home
B=$BENCH_DIR

case $PARTS in *a*) ;; *) skip_a=1 ;; esac
if [ -z "${skip_a:-}" ]; then
echo "== (a) full restore of ${mib} MiB from virtual tapes of $TAPE_SIZE vs cp + sync of the cartridge files"
tapir datastore create src "$B/src" >/dev/null
tapir datastore create dst "$B/dst" >/dev/null
tapir drive create va --type virtual --path "$B/vtl-a" --max-size "$TAPE_SIZE" >/dev/null
tapir pool create pa >/dev/null
ntapes=$(python3 -c "import sys; t='$TAPE_SIZE'; m={'G':1024,'M':1}.get(t[-1].upper(),0); v=int(t[:-1])*m if m else int(t)>>20; print($mib // v + 2)")
for i in $(seq 1 "$ntapes"); do tapir tape label --drive va --label-text "A$(printf %03d "$i")" --pool pa >/dev/null; done
# random (incompressible) images of at most 256 MiB: what is on tape is what is restored
left=$mib; k=0
while [ "$left" -gt 0 ]; do
	n=$(( left > 256 ? 256 : left ))
	head -c "$((n << 20))" /dev/urandom >"$B/img"
	tapir backup --store src --type vm --id $((100 + k)) --time 2026-01-01T00:00:00Z disk.img:"$B/img" >/dev/null
	left=$((left - n)); k=$((k + 1))
done
rm -f "$B/img"
out=$(tapir tape backup src pa --drive va --output-format json | tail -n 1)
set_a=$(json "$out" 'j["media-set"]')
echo "media set $set_a: $(json "$out" 'len(j["tapes"])') tapes, $(json "$out" 'j["tape-bytes-written"]') bytes on tape"
dat_bytes=$(cat "$B"/vtl-a/tape-*.dat | wc -c)   # also warms the page cache for both runs
sync
t0=$(now)
res=$(tapir tape restore "$set_a" dst --drive va --output-format json | tail -n 1)
sync
t1=$(now)
[ "$(json "$res" 'len(j["failed"])')" = 0 ] || { echo "restore failed: $res" >&2; exit 1; }
mkdir -p "$B/cp"
t2=$(now)
cp "$B"/vtl-a/tape-*.dat "$B/cp/"
sync
t3=$(now)
rm -rf "$B/cp"
python3 - "$t0" "$t1" "$t2" "$t3" "$dat_bytes" "$(json "$res" 'j["bytes_read_from_tape"]')" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5]); dat, rd = int(sys.argv[5]), int(sys.argv[6])
r, c = t1 - t0, t3 - t2
print("tapir tape restore (full set): %.2f s, %.1f MiB/s of cartridge data (%d bytes read from tape)" % (r, dat / r / 2**20, rd))
print("cp cartridge files + sync:     %.2f s, %.1f MiB/s (%d bytes)" % (c, dat / c / 2**20, dat))
print("throughput ratio restore / cp:  %.2f (goal >= 0.9)" % (c / r))
PY

fi
case $PARTS in *b*) ;; *) exit 0 ;; esac
echo
echo "== (b) $DAYS daily snapshots of a 32 MiB vm image (one 4 MiB chunk rewritten a day), each day's tape backup appended"
echo "   to one media set on 32 MiB cartridges in a virtual changer: selective restores"
tapir datastore create daily "$B/daily" >/dev/null
tapir datastore create sel1 "$B/sel1" >/dev/null
tapir datastore create sel5 "$B/sel5" >/dev/null
tapir changer create lb --type virtual --path "$B/lib-b" --slots 16 --import-export-slots 1 >/dev/null
tapir drive create vb --type virtual --path "$B/vtl-b" --max-size 32M --changer lb --changer-drivenum 0 >/dev/null
tapir pool create pb >/dev/null
for i in $(seq 1 12); do tapir changer insert lb "B$(printf %05d "$i")L9" --slot "$i" >/dev/null; done
tapir tape barcode-label --drive vb --pool pb >/dev/null
head -c $((32 << 20)) /dev/urandom >"$B/vm.img"
set_b=
tapes_b=
for d in $(seq 1 "$DAYS"); do
	[ "$d" = 1 ] || dd if=/dev/urandom of="$B/vm.img" bs=4M count=1 seek=$((RANDOM % 8)) conv=notrunc status=none
	t=$(python3 -c "import datetime; print((datetime.date(2026,1,1)+datetime.timedelta(days=$d-1)).isoformat())")
	tapir backup --store daily --type vm --id 300 --time "${t}T00:00:00Z" disk.img:"$B/vm.img" >/dev/null
	out=$(tapir tape backup daily pb --drive vb --latest-only --output-format json | tail -n 1)
	set_b=$(json "$out" 'j["media-set"]')
	tapes_b="$tapes_b $(json "$out" '" ".join(j["tapes"])')"
done
rm -f "$B/vm.img"
ntapes_b=$(printf '%s\n' $tapes_b | sort -u | grep -c .)
echo "media set $set_b: $DAYS daily tape backups, $ntapes_b tapes"
day() { python3 -c "import datetime; print((datetime.date(2026,1,1)+datetime.timedelta(days=$1-1)).isoformat()+'T00:00:00Z')"; }
report() { # LABEL RESULT-JSON
	python3 - "$1" "$2" <<'PY'
import json, sys
name, j = sys.argv[1], json.loads(sys.argv[2])
p = j["plan"]; o = p["pbs-2021"]
need = p["bytes-needed"]
tapes = len(p["tapes"])
print("%s: %d restored, %d tapes needed, %d bytes needed" % (name, len(j["restored"]), tapes, need))
print("  %-28s %14s %14s" % ("", "tapir", "2021 design"))
print("  %-28s %14.3f %14.3f" % ("bytes read / needed", j["bytes_read_from_tape"] / need, o["bytes_read_from_tape"] / need))
print("  %-28s %14d %14d" % ("tape loads", j["tape_loads"], o["tape_loads"]))
print("  %-28s %14d %14d" % ("changer moves", j["changer_moves"], o["changer_moves"]))
print("  %-28s %14d %14d" % ("tape locates", j["tape_locates"], o["tape_locates"]))
print("  %-28s %14.0f %14.0f" % ("simulated tape seconds", j["simulated_tape_seconds"], o["simulated_tape_seconds"]))
print("  %-28s %14.0f" % ("planned (estimated) seconds", p["estimated-seconds"]))
print("  2021 / tapir simulated time: %.1fx; each needed tape loaded once: %s" % (
    o["simulated_tape_seconds"] / max(j["simulated_tape_seconds"], 1e-9), j["tape_loads"] <= tapes))
PY
}
# the tape the last backup left in the drive would need no load: start from an empty drive, as after a restart
tapir tape unload --drive vb >/dev/null
res=$(tapir tape restore "$set_b" daily=sel1 "daily:vm/300/$(day 15)" --drive vb --output-format json | tail -n 1)
report "1 snapshot (day 15)" "$res"
tapir tape unload --drive vb >/dev/null
res=$(tapir tape restore "$set_b" daily=sel5 "daily:vm/300/$(day 2)" "daily:vm/300/$(day 6)" "daily:vm/300/$(day 10)" \
	"daily:vm/300/$(day 14)" "daily:vm/300/$(day 19)" --drive vb --output-format json | tail -n 1)
report "5 snapshots (days 2, 6, 10, 14, 19)" "$res"
echo
echo "goals: each needed tape loaded once; bytes read <= 1.1 x needed; simulated time >= 5x lower than the 2021 design for one snapshot"
