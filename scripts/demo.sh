#!/bin/bash
# The main job on tapir's embedded default, in a scratch directory: a datastore
# and a virtual tape library; several days of backups of a sample tree and
# image, verification and restores; a tape backup spanning several cartridges;
# the local snapshots forgotten; a selective restore of one of them from tape
# with its summary; and a byte-for-byte check of the result.
set -euo pipefail
TAPIR=$(readlink -f "${1:-build/tapir}")
# TAPIR_DEMO_DIR: scratch directory to use (the e2e test t0900 runs the demo in its own)
if [ -n "${TAPIR_DEMO_DIR:-}" ]; then
	S=$TAPIR_DEMO_DIR
	mkdir -p "$S"
else
	S=$(mktemp -d /tmp/tapir-demo.XXXXXX)
fi
export TAPIR_HOME=$S/home
step() { printf '\n== %s\n' "$*"; }
trap 'echo "demo failed; scratch directory kept at $S" >&2' ERR

step "sample data in $S/src"
mkdir -p "$S/src/tree/etc" "$S/src/tree/var/log" "$S/src/tree/bin"
for i in $(seq 1 40); do seq 1 $((i * 500)) >"$S/src/tree/var/log/log$i.txt"; done
head -c 3000000 /dev/urandom >"$S/src/tree/bin/random.bin"
printf 'hostname=demo\n' >"$S/src/tree/etc/config"
ln -s ../etc/config "$S/src/tree/bin/config-link"
ln "$S/src/tree/etc/config" "$S/src/tree/etc/config.hardlink"
head -c 12000000 /dev/urandom >"$S/src/disk.img"
dd if=/dev/zero of="$S/src/disk.img" bs=1M count=4 seek=12 conv=notrunc status=none
cp -a "$S/src" "$S/day1"

step "datastore"
"$TAPIR" datastore create demo "$S/datastore"

step "backup day 1"
"$TAPIR" backup --store demo --type host --id demo --time 2026-01-01T02:00:00Z \
	root.pxar:"$S/src/tree" disk.img:"$S/src/disk.img"

step "change ~5 % of the data, backup day 2"
seq 1 1000 >"$S/src/tree/var/log/log1.txt"
printf 'hostname=demo2\n' >"$S/src/tree/etc/config"
dd if=/dev/urandom of="$S/src/disk.img" bs=64K count=8 seek=10 conv=notrunc status=none
"$TAPIR" backup --store demo --type host --id demo --time 2026-01-02T02:00:00Z \
	root.pxar:"$S/src/tree" disk.img:"$S/src/disk.img"

step "snapshots"
"$TAPIR" snapshot list --store demo

step "verify"
"$TAPIR" verify --store demo

step "file catalog of day 2"
"$TAPIR" catalog dump --store demo host/demo/2026-01-02T02:00:00Z | head -n 8

step "restore and compare"
for day in 1 2; do
	snap=host/demo/2026-01-0${day}T02:00:00Z
	ref=$S/day1; [ $day = 2 ] && ref=$S/src
	"$TAPIR" restore --store demo "$snap" root.pxar "$S/restore$day/tree"
	"$TAPIR" restore --store demo "$snap" disk.img "$S/restore$day/disk.img"
	diff -r --no-dereference "$ref/tree" "$S/restore$day/tree"
	cmp "$ref/disk.img" "$S/restore$day/disk.img"
	echo "day $day: restored tree and image are identical to the source"
done

step "five more days of backups (each day ~2 MB of new data)"
for day in 3 4 5 6 7; do
	head -c 2000000 /dev/urandom >"$S/src/tree/bin/random.bin"
	seq 1 $((day * 700)) >"$S/src/tree/var/log/log2.txt"
	"$TAPIR" backup --store demo --type host --id demo --time "2026-01-0${day}T02:00:00Z" root.pxar:"$S/src/tree" >/dev/null
	[ $day = 5 ] && cp -a "$S/src/tree" "$S/day5"
done
"$TAPIR" snapshot list --store demo

step "virtual tape library: a drive with 16 MiB cartridges, a media pool, four labelled tapes"
"$TAPIR" drive create vtl0 --type virtual --path "$S/vtl" --max-size 16M
"$TAPIR" pool create daily
for t in DEMO01 DEMO02 DEMO03 DEMO04 DEMO05; do "$TAPIR" tape label --drive vtl0 --label-text "$t" --pool daily; done

step "tape backup of the datastore"
"$TAPIR" tape backup demo daily --drive vtl0 --output-format json | tail -n 1 | tee "$S/tape-backup.json"
set_uuid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["media-set"])' "$S/tape-backup.json")
"$TAPIR" media list

step "the local snapshots are gone (forgotten)"
for day in 1 2 3 4 5 6 7; do "$TAPIR" snapshot forget --store demo "host/demo/2026-01-0${day}T02:00:00Z"; done
"$TAPIR" snapshot list --store demo
# restore into a fresh datastore, so that every chunk has to come from tape
"$TAPIR" datastore create restored "$S/restored"

step "selective restore of day 5 from tape (plan first, then the restore)"
"$TAPIR" tape restore "$set_uuid" demo=restored demo:host/demo/2026-01-05T02:00:00Z --drive vtl0 --dry-run --output-format json \
	| tail -n 1 | python3 -c 'import json,sys; p=json.load(sys.stdin)["plan"]; print("plan:", [(t["label"], t["bytes"]) for t in p["tapes"]], "estimated", round(p["estimated-seconds"]), "s")'
"$TAPIR" tape restore "$set_uuid" demo=restored demo:host/demo/2026-01-05T02:00:00Z --drive vtl0 --output-format json \
	| tail -n 1 | tee "$S/tape-restore.json" | python3 -c 'import json,sys; j=json.load(sys.stdin); j.pop("plan"); print(json.dumps(j, indent=2))'

step "byte-for-byte check of the snapshot restored from tape"
"$TAPIR" verify --store restored host/demo/2026-01-05T02:00:00Z
"$TAPIR" restore --store restored host/demo/2026-01-05T02:00:00Z root.pxar "$S/from-tape"
diff -r --no-dereference "$S/day5" "$S/from-tape"
echo "day 5 restored from tape is identical to the source"

step "done: everything matched (scratch directory $S)"
