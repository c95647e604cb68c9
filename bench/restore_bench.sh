#!/bin/bash
# Tape restore benchmark (by hand, never from the test suite): full-restore throughput vs cp+sync, and selective restores vs the 2021 design.
# usage: bench/restore_bench.sh [SIZE]   SIZE of the full-restore data set in MiB or with G/M suffix (default 1G)
# env:   BENCH_DIR (default /var/tmp/tapir-restore-bench), TAPIR_BIN (default build/tapir),
#        TAPE_SIZE (virtual cartridge size for part a, default 256M), PARTS (default ab: which parts to run),
#        part b: HOSTS (backup groups, default 10), DAYS (daily jobs, default 20), IMG_MIB (each host's
#        vm image, default 64), CHURN (4 MiB chunks rewritten per host per day, default 1),
#        TAPE_B (cartridge size, default 256M)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
TAPIR_BIN=${TAPIR_BIN:-$TOP/build/tapir}
BENCH_DIR=${BENCH_DIR:-/var/tmp/tapir-restore-bench}
TAPE_SIZE=${TAPE_SIZE:-256M}
PARTS=${PARTS:-ab}
HOSTS=${HOSTS:-10}
DAYS=${DAYS:-20}
IMG_MIB=${IMG_MIB:-64}
CHURN=${CHURN:-1}
TAPE_B=${TAPE_B:-256M}
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
echo "== (b) $HOSTS hosts (vm/100...), each a $IMG_MIB MiB vm image with $CHURN random 4 MiB chunk(s) rewritten a day; every day a"
echo "   snapshot of each host and one tape backup job (all groups, --latest-only) appended to one media set"
echo "   on $TAPE_B cartridges in a virtual changer: selective restores under the LTO-9 model"
tb0=$(now)
tapir datastore create daily "$B/daily" >/dev/null
tapir changer create lb --type virtual --path "$B/lib-b" --slots 16 --import-export-slots 1 >/dev/null
tapir drive create vb --type virtual --path "$B/vtl-b" --max-size "$TAPE_B" --changer lb --changer-drivenum 0 >/dev/null
# three more drives of the library, for the plan with every drive (PBS restores with one)
for i in 1 2 3; do
	tapir drive create "vb$i" --type virtual --path "$B/vtl-b$i" --max-size "$TAPE_B" --changer lb --changer-drivenum "$i" >/dev/null
done
tapir pool create pb >/dev/null
for i in $(seq 1 16); do tapir changer insert lb "B$(printf %05d "$i")L9" --slot "$i" >/dev/null; done
tapir tape barcode-label --drive vb --pool pb >/dev/null
mkdir -p "$B/img"
nchunks=$((IMG_MIB / 4))
for h in $(seq 0 $((HOSTS - 1))); do head -c $((IMG_MIB << 20)) /dev/urandom >"$B/img/$h"; done
day() { python3 -c "import datetime; print((datetime.date(2026,1,1)+datetime.timedelta(days=$1-1)).isoformat()+'T00:00:00Z')"; }
set_b=
tapes_b=
for d in $(seq 1 "$DAYS"); do
	t=$(day "$d")
	for h in $(seq 0 $((HOSTS - 1))); do
		if [ "$d" != 1 ]; then
			for _ in $(seq "$CHURN"); do
				dd if=/dev/urandom of="$B/img/$h" bs=4M count=1 seek=$((RANDOM % nchunks)) conv=notrunc status=none
			done
		fi
		tapir backup --store daily --type vm --id $((100 + h)) --time "$t" disk.img:"$B/img/$h" >/dev/null
	done
	out=$(tapir tape backup daily pb --drive vb --latest-only --output-format json 2>>"$B/tape-backup.log" | tail -n 1)
	set_b=$(json "$out" 'j["media-set"]')
	tapes_b="$tapes_b $(json "$out" '" ".join(j["tapes"])')"
done
rm -rf "$B/img"
ntapes_b=$(printf '%s\n' $tapes_b | sort -u | grep -c .)
tb1=$(now)
echo "media set $set_b: $DAYS daily jobs of $HOSTS snapshots, $ntapes_b tapes of $TAPE_B ($(python3 -c "print('%.0f' % ($tb1 - $tb0))") s to generate)"
media=$(python3 -c "t='$TAPE_B'; m={'G':1<<30,'M':1<<20}.get(t[-1].upper(),0); print(int(t[:-1])*m if m else int(t))")
report() { # LABEL RESULT-JSON RESULT-WITH-4-DRIVES-JSON
	python3 - "$1" "$2" "$media" "$3" <<'PY'
import json, sys
name, j, media = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
j4 = json.loads(sys.argv[4]); p4 = j4["plan"]
p = j["plan"]; o = p["pbs-2021"]
need = p["bytes-needed"]
tapes = len(p["tapes"])
# LTO-9 terms (docs/tape-drives.md): reading scaled like the cartridge, fixed costs per load and changer move
rd = lambda b: b * 18e12 / media / 400e6
def terms(loads, moves, read_bytes, total):
    fixed = moves * 26 + loads * 16 + max(loads - 1, 0) * 56
    return rd(read_bytes), fixed, total - rd(read_bytes) - fixed
tt = terms(j["tape_loads"], j["changer_moves"], j["bytes_read_from_tape"], j["simulated_tape_seconds"])
to = terms(o["tape_loads"], o["changer_moves"], o["bytes_read_from_tape"], o["simulated_tape_seconds"])
print("%s: %d restored, %d tapes needed, %d bytes needed (%.1f MiB per tape)" % (
    name, len(j["restored"]), tapes, need, need / max(tapes, 1) / 2**20))
print("  %-34s %14s %14s" % ("", "tapir", "2021 design"))
print("  %-34s %14.3f %14.3f" % ("bytes read / needed", j["bytes_read_from_tape"] / need, o["bytes_read_from_tape"] / need))
lab = 2 * 262144  # the two label blocks read at every load
print("  %-34s %14.3f %14.3f" % ("  the same without label blocks", (j["bytes_read_from_tape"] - lab * j["tape_loads"]) / need,
                                 (o["bytes_read_from_tape"] - lab * o["tape_loads"]) / need))
print("  %-34s %14d %14d" % ("tape loads", j["tape_loads"], o["tape_loads"]))
print("  %-34s %14d %14d" % ("changer moves", j["changer_moves"], o["changer_moves"]))
print("  %-34s %14d %14d" % ("tape locates", j["tape_locates"], o["tape_locates"]))
print("  %-34s %14.0f %14.0f" % ("simulated tape seconds", j["simulated_tape_seconds"], o["simulated_tape_seconds"]))
print("  %-34s %14.0f %14.0f" % ("  of which reading", tt[0], to[0]))
print("  %-34s %14.0f %14.0f" % ("  moves, loads, unloads", tt[1], to[1]))
print("  %-34s %14.0f %14.0f" % ("  locates and rewinds", tt[2], to[2]))
print("  %-34s %14.0f" % ("planned (estimated) seconds", p["estimated-seconds"]))
print("  2021 / tapir simulated time: %.2fx; each needed tape loaded once: %s" % (
    o["simulated_tape_seconds"] / max(j["simulated_tape_seconds"], 1e-9), j["tape_loads"] <= tapes))
print("  on the library's 4 drives: %.0f s elapsed (plan: %.0f), %.0f drive-seconds, %d loads; 2021 (one drive) / that: %.2fx" % (
    j4["simulated_elapsed_seconds"], p4["estimated-elapsed-seconds"], j4["simulated_tape_seconds"], j4["tape_loads"],
    o["simulated_tape_seconds"] / max(j4["simulated_elapsed_seconds"], 1e-9)))
PY
}
mid=$((100 + HOSTS / 2)); last=$((100 + HOSTS - 1)); d1=$((DAYS * 3 / 4))
n=0
restore() { # LABEL SNAPSHOT...
	local label=$1; shift
	n=$((n + 1))
	tapir datastore create "sel$n" "$B/sel$n" >/dev/null
	tapir datastore create "sel${n}q" "$B/sel${n}q" >/dev/null
	if [ -n "${SEED:-}" ]; then # the target already holds this snapshot (restored first, not measured)
		local t
		for t in "sel$n" "sel${n}q"; do
			tapir tape restore "$set_b" "daily=$t" "daily:$SEED" --drive vb --output-format json >/dev/null 2>>"$B/restore.log"
		done
	fi
	# start from empty drives, as after a restart: a tape the last job left in a drive would need no load, and
	# one left in another drive would cost an unload there, which neither the plan nor the 2021 model counts
	local d
	for d in vb vb1 vb2 vb3; do tapir tape unload --drive "$d" >/dev/null 2>&1 || true; done
	local args=() s
	for s in "$@"; do args+=("daily:$s"); done
	local res res4
	res=$(tapir tape restore "$set_b" "daily=sel$n" "${args[@]}" --drive vb --output-format json 2>>"$B/restore.log" | tail -n 1)
	[ "$(json "$res" 'len(j["failed"])')" = 0 ] || { echo "restore failed: $res" >&2; exit 1; }
	# the same selection again into an empty datastore, on all four drives of the library
	for d in vb vb1 vb2 vb3; do tapir tape unload --drive "$d" >/dev/null 2>&1 || true; done
	res4=$(tapir tape restore "$set_b" "daily=sel${n}q" "${args[@]}" --drive vb --drive vb1 --drive vb2 --drive vb3 \
		--output-format json 2>>"$B/restore.log" | tail -n 1)
	[ "$(json "$res4" 'len(j["failed"])')" = 0 ] || { echo "4-drive restore failed: $res4" >&2; exit 1; }
	report "$label" "$res" "$res4"
}
restore "1 snapshot, middle host vm/$mid, day $d1" "vm/$mid/$(day "$d1")"
restore "1 snapshot, first host vm/100, day $d1" "vm/100/$(day "$d1")"
restore "1 snapshot, last host vm/$last, day $d1" "vm/$last/$(day "$d1")"
restore "5 snapshots of vm/$mid (days 2, $((DAYS * 3 / 10)), $((DAYS / 2)), $d1, $DAYS)" "vm/$mid/$(day 2)" \
	"vm/$mid/$(day $((DAYS * 3 / 10)))" "vm/$mid/$(day $((DAYS / 2)))" "vm/$mid/$(day "$d1")" "vm/$mid/$(day "$DAYS")"
# the usual bad day: a VM's image is damaged, its recent snapshots are still on disk, the older one wanted was
# pruned from disk long ago: the target already holds the host's latest snapshot, so most chunks need no tape
d0=$((DAYS / 4))
SEED="vm/$mid/$(day "$DAYS")" restore "1 snapshot, vm/$mid day $d0, into a datastore holding vm/$mid day $DAYS" "vm/$mid/$(day "$d0")"
SEED="vm/100/$(day "$DAYS")" restore "1 snapshot, vm/100 day $d1, into a datastore holding vm/100 day $DAYS" "vm/100/$(day "$d1")"
echo "part b: $(python3 -c "print('%.0f' % ($(now) - $tb0))") s"
echo
echo "goals: each needed tape loaded once; bytes read <= 1.1 x needed; simulated time >= 5x lower than the 2021 design for one snapshot"
