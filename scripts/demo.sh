#!/bin/bash
# The main job on tapir's embedded default, in a scratch directory: a datastore,
# two days of backups of a sample tree and a sample image with a change in
# between, listing, verification, and byte-for-byte checked restores.
set -euo pipefail
TAPIR=$(readlink -f "${1:-build/tapir}")
S=$(mktemp -d /tmp/tapir-demo.XXXXXX)
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

step "done: everything matched (scratch directory $S)"
