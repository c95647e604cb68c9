#!/bin/bash
# Disk full during backup (datastore on a 30 MiB tmpfs): clear ENOSPC error, no snapshot, no temp files; next backup works.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/mnt"
mount -t tmpfs -o size=30m tmpfs "$T/mnt" 2>"$T/mount.err" \
	|| fail "cannot mount a tmpfs (this test needs root): $(cat "$T/mount.err")"
at_exit 'umount -l "$T/mnt" 2>/dev/null'

tapir datastore create fullstore "$T/mnt/ds" >/dev/null
head -c 60000000 /dev/urandom >"$T/big.img"
mkdir -p "$T/bigdir" "$T/small"
head -c 40000000 /dev/urandom >"$T/bigdir/blob"
seq 1 20000 >"$T/small/text"

no_leftovers() {
	[ "$(tapir snapshot list --store fullstore | wc -l)" = "$1" ] || fail "$2: expected $1 snapshots"
	[ -z "$(ls -A "$T/mnt/ds/.tmp" 2>/dev/null)" ] || fail "$2: staging left in .tmp: $(ls "$T/mnt/ds/.tmp")"
	[ -z "$(find "$T/mnt/ds/.chunks" -name '*.tmp_*')" ] || fail "$2: chunk temp files left"
	[ -z "$(find "$T/mnt/ds/host" -name '*.tmp_*' 2>/dev/null)" ] || fail "$2: index temp files left"
}

expect_fail "No space left on device" tapir backup --store fullstore --type host --id full disk.img:"$T/big.img"
no_leftovers 0 "image backup"
expect_fail "No space left on device" tapir backup --store fullstore --type host --id full2 root.pxar:"$T/bigdir"
no_leftovers 0 "pxar backup"

# the chunks that did fit are only garbage; a small backup still fits and restores
rm -f "$T/mnt/ds/.chunks"/*/*
tapir backup --store fullstore --type host --id full --time 2026-01-01T00:00:00Z root.pxar:"$T/small" >/dev/null
no_leftovers 1 "small backup"
tapir verify --store fullstore >/dev/null
tapir restore --store fullstore host/full/2026-01-01T00:00:00Z root.pxar "$T/r"
diff -r "$T/small" "$T/r" || fail "restore differs"
echo ok
