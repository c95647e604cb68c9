#!/bin/bash
# Encrypted backup: restore needs the right key (clear errors otherwise); verify checks encrypted chunks by CRC.
. "$(dirname "$0")/lib.sh"

tapir datastore create encstore "$T/ds" >/dev/null
tapir key create "$T/key" --kdf none >/dev/null
tapir key create "$T/other" --kdf none >/dev/null
mkdir -p "$T/src/sub"
for i in $(seq 1 10); do seq 1 $((i * 2000)) >"$T/src/f$i"; done
head -c 1500000 /dev/urandom >"$T/src/sub/rand"
head -c 5000000 /dev/urandom >"$T/img"
tapir backup --store encstore --type host --id e --time 2026-01-01T00:00:00Z --keyfile "$T/key" \
	root.pxar:"$T/src" disk.img:"$T/img" >/dev/null
snap=host/e/2026-01-01T00:00:00Z

# every stored chunk is an encrypted blob (zstd+encrypted or encrypted magic), none is plaintext
python3 - "$T/ds/.chunks" <<'PY' || fail "unencrypted chunk in an encrypted backup"
import hashlib, os, sys
enc = {hashlib.sha256(t.encode()).digest()[:8] for t in
       ("Proxmox Backup encrypted blob v1.0", "Proxmox Backup zstd compressed encrypted blob v1.0")}
n = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        n += 1
        if open(os.path.join(root, f), 'rb').read(8) not in enc:
            sys.exit(1)
sys.exit(0 if n > 0 else 1)
PY

expect_fail "archive root.pxar.didx of $snap is encrypted: give --keyfile" \
	tapir restore --store encstore "$snap" root.pxar "$T/r0"
expect_fail "archive disk.img.fidx of $snap is encrypted: give --keyfile" \
	tapir restore --store encstore "$snap" disk.img "$T/r0.img"
expect_fail "wrong key - manifest.s key .* does not match provided key" \
	tapir restore --store encstore "$snap" root.pxar "$T/r0" --keyfile "$T/other"
expect_fail "wrong key - manifest.s key .* does not match provided key" \
	tapir restore --store encstore "$snap" disk.img "$T/r0.img" --keyfile "$T/other"
[ ! -e "$T/r0" ] && [ ! -e "$T/r0.img" ] || fail "failed restore left files"
ls "$T" | grep -q 'tmp_restore' && fail "failed restore left a temp file"

tapir restore --store encstore "$snap" root.pxar "$T/r1" --keyfile "$T/key"
tapir restore --store encstore "$snap" disk.img "$T/r1.img" --keyfile "$T/key"
diff -r "$T/src" "$T/r1" || fail "restored tree differs"
cmp "$T/img" "$T/r1.img" || fail "restored image differs"

# verify needs no key: CRC of every encrypted chunk
out=$(tapir verify --store encstore --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["chunks"] > 2')" = True ] || fail "verify read no chunks: $out"
[ "$(json_get "$out" 'len(j["failed"])')" = 0 ] || fail "verify failed: $out"
# a flipped byte inside an encrypted chunk is found by its CRC
chunk=$(find "$T/ds/.chunks" -type f -size +1000k | head -1)
printf 'XXXX' | dd of="$chunk" bs=1 seek=200 conv=notrunc status=none
expect_fail_last "chunk $(basename "$chunk") .*CRC mismatch.*referenced by $snap" tapir verify --store encstore
echo ok
