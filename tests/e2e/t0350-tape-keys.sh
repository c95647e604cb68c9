#!/bin/bash
# Tape encryption keys: create/list/show/change-passphrase/paperkey/restore/remove, file modes, bad input,
# and restoring a lost key from the media-set label of a tape in a virtual drive.
. "$(dirname "$0")/lib.sh"

ETC=$TAPIR_HOME/etc
export TAPIR_KEY_PASSWORD=first-pass

# create (scrypt default), list, show
out=$(tapir tape key create --hint "the safe" --output-format json)
FP=$(json_get "$out" 'j["fingerprint"]')
[ ${#FP} -eq 95 ] || fail "fingerprint: $out"
[ "$(json_get "$out" 'j["kdf"]')" = scrypt ] || fail "default kdf: $out"
[ "$(stat -c %a "$ETC/tape-encryption-keys.json")" = 600 ] || fail "keys file mode"
[ "$(stat -c %a "$ETC/tape-encryption-key-config.json")" = 600 ] || fail "key config file mode"
[ "$(stat -c %a "$ETC")" = 700 ] || fail "config dir mode"
python3 - "$ETC/tape-encryption-keys.json" "$FP" <<'PY' || fail "keys file content"
import json, re, sys
keys = json.load(open(sys.argv[1]))
assert len(keys) == 1 and keys[0]["fingerprint"] == sys.argv[2], keys
assert re.fullmatch(r"[0-9a-f]{64}", keys[0]["key"]), keys
PY
FP2=$(TAPIR_KEY_PASSWORD= tapir tape key create --kdf none)
FP3=$(tapir tape key create --kdf pbkdf2 --hint other)
[ "$FP2" != "$FP" ] && [ "$FP3" != "$FP" ] || fail "fingerprints not distinct"
out=$(tapir tape key list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 3 ] || fail "list: $out"
[ "$(json_get "$out" '[k["hint"] for k in j if k["fingerprint"] == "'"$FP"'"][0]')" = "the safe" ] || fail "hint: $out"
[ "$(json_get "$out" 'sorted(k["kdf"] for k in j)')" = "['none', 'pbkdf2', 'scrypt']" ] || fail "kdfs: $out"
[ "$(json_get "$out" 'all(k["key"] and k["key-config"] for k in j)')" = True ] || fail "state: $out"
tapir tape key list | grep -q "^$FP .*scrypt.*the safe" || fail "text list"
tapir tape key show "$FP" | grep -q "^hint: *the safe" || fail "show"
out=$(tapir tape key show "$FP3" --output-format json)
[ "$(json_get "$out" 'j["kdf"]')" = pbkdf2 ] || fail "show json: $out"

# bad input
expect_fail "set the passphrase in TAPIR_KEY_PASSWORD" env TAPIR_KEY_PASSWORD= "$TAPIR_BIN" tape key create
expect_fail "invalid --kdf 'rot13'" tapir tape key create --kdf rot13
expect_fail "invalid key fingerprint '12:34'" tapir tape key show 12:34
NOFP=00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff
expect_fail "no tape encryption key with fingerprint $NOFP; restore it with .tapir tape key restore." \
	tapir tape key show "$NOFP"
expect_fail "no tape encryption key with fingerprint $NOFP" tapir tape key remove "$NOFP"
expect_fail "unknown option --force" tapir tape key show "$FP" --force
expect_fail "unknown subcommand 'tape key frobnicate'" tapir tape key frobnicate
expect_fail "exactly one of --key-config FILE or --drive D" tapir tape key restore

# change-passphrase: the old one must open it, the new one opens it afterwards
expect_fail "wrong passphrase" env TAPIR_KEY_PASSWORD=nope TAPIR_NEW_KEY_PASSWORD=x "$TAPIR_BIN" tape key change-passphrase "$FP"
expect_fail "set the new passphrase in TAPIR_NEW_KEY_PASSWORD" tapir tape key change-passphrase "$FP"
TAPIR_NEW_KEY_PASSWORD=second-pass tapir tape key change-passphrase "$FP" >/dev/null
[ "$(stat -c %a "$ETC/tape-encryption-key-config.json")" = 600 ] || fail "mode after change"
out=$(tapir tape key show "$FP" --output-format json)
[ "$(json_get "$out" 'j["hint"]')" = "the safe" ] || fail "hint kept: $out"

# paperkey round trip: remove the key, restore it from the printed text
tapir tape key paperkey "$FP" >"$T/paper.txt"
grep -q -- '^| -----BEGIN PROXMOX BACKUP KEY-----  *|$' "$T/paper.txt" || fail "paperkey begin line"
grep -q -- '-----END PROXMOX BACKUP KEY-----' "$T/paper.txt" || fail "paperkey end line"
grep -q "fingerprint: $FP" "$T/paper.txt" || fail "paperkey fingerprint"
[ "$(awk '{ print length($0) }' "$T/paper.txt" | sort -u | wc -l)" = 1 ] || fail "paperkey frame not rectangular"
tapir tape key remove "$FP" >/dev/null
expect_fail "no tape encryption key with fingerprint $FP" tapir tape key show "$FP"
expect_fail "wrong passphrase" tapir tape key restore --key-config "$T/paper.txt"
out=$(TAPIR_KEY_PASSWORD=second-pass tapir tape key restore --key-config "$T/paper.txt" --output-format json)
[ "$(json_get "$out" 'j["fingerprint"]')" = "$FP" ] || fail "restored fingerprint: $out"
expect_fail "already exists" env TAPIR_KEY_PASSWORD=second-pass "$TAPIR_BIN" tape key restore --key-config "$T/paper.txt"
echo '{"a": 1}' >"$T/junk.json"
expect_fail "no key config found" tapir tape key restore --key-config "$T/junk.json"

# a key config claiming another key's fingerprint is refused
tapir tape key paperkey "$FP2" --output-format json >"$T/kc2.json"
tapir tape key remove "$FP2" >/dev/null
python3 - "$T/kc2.json" "$FP3" <<'PY'
import json, sys
kc = json.load(open(sys.argv[1])); kc["fingerprint"] = sys.argv[2]
json.dump(kc, open(sys.argv[1], "w"))
PY
expect_fail "wrong fingerprint" tapir tape key restore --key-config "$T/kc2.json"

# pools hold on to their key
tapir pool create secure --encrypt "$FP" >/dev/null
expect_fail "used by media pool 'secure'" tapir tape key remove "$FP"

# A tape whose media-set label carries the key config, written with an independent encoder
# (PBS block stream + content header + label JSON on a tapir virtual cartridge, docs/format/tape.md
# and docs/tape-drives.md).
tapir drive create vd --type virtual --path "$T/vd" >/dev/null
tapir tape key paperkey "$FP" --output-format json >"$T/kc.json"
write_tape() { # LABEL FINGERPRINT KEYCONFIG-FILE|-
	python3 - "$T/vd" "$1" "$2" "$3" <<'PY'
import hashlib, json, os, struct, sys, uuid, zlib
d, label, fp, kcfile = sys.argv[1:5]
magic = lambda t: hashlib.sha256(t.encode()).digest()[:8]
BLOCK, PAYLOAD = 262144, 262128
objs = []  # (kind, bytes)
def tape_file(content_magic, doc):
    data = json.dumps(doc, indent=2, sort_keys=True).encode()
    stream = (magic("Proxmox Backup Content Header v1.0") + content_magic + uuid.uuid4().bytes
              + struct.pack("<qIB3x", 1700000000, len(data), 0) + data)
    assert len(stream) <= PAYLOAD
    hdr = magic("Proxmox Tape Block Header v1.0") + bytes([1]) + len(stream).to_bytes(3, "little") + struct.pack("<I", 0)
    objs.append((1, (hdr + stream).ljust(BLOCK, b"\0")))
    objs.append((2, b""))
tape_file(magic("Proxmox Backup Tape Label v1.0"),
          {"ctime": 1700000000, "label_text": label, "pool": "secure", "uuid": str(uuid.uuid4())})
msl = {"ctime": 1700000100, "pool": "secure", "seq_nr": 0, "uuid": "3e3e3e3e-3e3e-4e3e-8e3e-3e3e3e3e3e3e"}
if fp != "-":
    msl["encryption_key_fingerprint"] = fp
if kcfile != "-":
    msl["key-config"] = json.load(open(kcfile))
tape_file(magic("Proxmox Backup MediaSet Label v1.0"), msl)
hdr = b"TPVTAPE1" + struct.pack("<II", 1, 64) + os.urandom(16) + bytes(28)
idx, dat, files = [hdr + struct.pack("<I", zlib.crc32(hdr))], b"", 0
for kind, data in objs:
    e = struct.pack("<QIIBBHIQ16s8s4x", len(dat), len(data), files, kind, 0, 0, zlib.crc32(data), 0, bytes(16), bytes(8))
    idx.append(e + struct.pack("<I", zlib.crc32(e)))
    dat += data
    files += kind == 2
open(os.path.join(d, "tape-%s.idx" % label), "wb").write(b"".join(idx))
open(os.path.join(d, "tape-%s.dat" % label), "wb").write(dat)
json.dump({"current_tape": {"name": label, "pos": 0}}, open(os.path.join(d, "drive-status.json"), "w"))
PY
}
write_tape TAPE01 "$FP" "$T/kc.json"
tapir tape key remove "$FP" --force >/dev/null
expect_fail "no tape encryption key with fingerprint $FP" tapir tape key show "$FP"
expect_fail "tape TAPE01 .*wrong passphrase" tapir tape key restore --drive vd
out=$(TAPIR_KEY_PASSWORD=second-pass tapir tape key restore --drive vd --output-format json)
[ "$(json_get "$out" 'j["fingerprint"]')" = "$FP" ] || fail "restored from tape: $out"
[ "$(json_get "$out" 'j["label-text"]')" = TAPE01 ] || fail "label: $out"
out=$(tapir tape key show "$FP" --output-format json)
[ "$(json_get "$out" 'j["key"] and j["key-config"]')" = True ] || fail "restored key state: $out"
[ "$(json_get "$out" 'j["hint"]')" = "the safe" ] || fail "restored hint: $out"
[ "$(stat -c %a "$ETC/tape-encryption-keys.json")" = 600 ] || fail "keys file mode after restore"

# a label naming another fingerprint than its key's, and an unencrypted set, are refused
tapir tape key remove "$FP" --force >/dev/null
write_tape TAPE02 "$FP3" "$T/kc.json"
expect_fail "but $FP3 was expected" env TAPIR_KEY_PASSWORD=second-pass "$TAPIR_BIN" tape key restore --drive vd
write_tape TAPE03 - -
expect_fail "tape TAPE03 .*no key-config" env TAPIR_KEY_PASSWORD=second-pass "$TAPIR_BIN" tape key restore --drive vd
expect_fail "drive 'nodrive' does not exist" tapir tape key restore --drive nodrive
echo "t0350 ok"
