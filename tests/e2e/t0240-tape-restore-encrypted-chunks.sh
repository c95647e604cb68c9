#!/bin/bash
# A datastore backup made with --keyfile goes to tape and back: the chunks stay encrypted, verify passes, the key restores the data.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir key create "$T/key" --kdf none >/dev/null
tapir key create "$T/other" --kdf none >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 8M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
mkdir -p "$T/src/sub"
for i in $(seq 1 5); do seq 1 $((i * 3000)) >"$T/src/f$i"; done
head -c 1200000 /dev/urandom >"$T/src/sub/rand"
head -c 3000000 /dev/urandom >"$T/img"
tapir backup --store store1 --type host --id e --time 2026-07-01T00:00:00Z --keyfile "$T/key" \
	root.pxar:"$T/src" disk.img:"$T/img" >/dev/null
tapir backup --store store1 --type host --id plain --time 2026-07-01T00:00:00Z root.pxar:"$T/src" >/dev/null
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 2 ] || fail "tape backup: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')

res=$(tapir tape restore "$set_uuid" store1=store2 store1:host/e/2026-07-01T00:00:00Z --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['store1:host/e/2026-07-01T00:00:00Z']" ] || fail "restore: $res"
[ "$(json_get "$res" 'j["chunks_restored"] >= 2')" = True ] || fail "no chunks restored: $res"
# the restored chunks are the encrypted blobs, byte for byte
python3 - "$F/ds1/.chunks" "$F/ds2/.chunks" <<'PY' || fail "restored chunks differ from the source's"
import hashlib, os, sys
enc = {hashlib.sha256(t.encode()).digest()[:8] for t in
       ("Proxmox Backup encrypted blob v1.0", "Proxmox Backup zstd compressed encrypted blob v1.0")}
n = 0
for root, _, files in os.walk(sys.argv[2]):
    for f in files:
        n += 1
        got = open(os.path.join(root, f), 'rb').read()
        src = open(os.path.join(sys.argv[1], os.path.relpath(os.path.join(root, f), sys.argv[2])), 'rb').read()
        assert got == src, f
        assert got[:8] in enc, f
sys.exit(0 if n >= 2 else 1)
PY
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
tapir restore --store store2 host/e/2026-07-01T00:00:00Z root.pxar "$T/r" --keyfile "$T/key"
diff -r "$T/src" "$T/r" || fail "restored tree differs"
tapir restore --store store2 host/e/2026-07-01T00:00:00Z disk.img "$T/r.img" --keyfile "$T/key"
cmp "$T/img" "$T/r.img" || fail "restored image differs"
expect_fail "encrypted: give --keyfile" tapir restore --store store2 host/e/2026-07-01T00:00:00Z root.pxar "$T/r2"
rc=0
tapir restore --store store2 host/e/2026-07-01T00:00:00Z disk.img "$T/r2.img" --keyfile "$T/other" >/dev/null 2>&1 || rc=$?
[ $rc -ne 0 ] || fail "the wrong key restored the image"
echo ok
