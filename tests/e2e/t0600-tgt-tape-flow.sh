#!/bin/bash
# End to end over tgt: barcode labels, a backup spanning two cartridges and a selective restore, all through the scsi changer and the lto backend.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tgt-lib.sh"

[ "$(id -u)" = 0 ] || fail "needs root to run tgtd (CI runs as root)"

TGTDIR=$T/tgt
# tgtd ignores SIGTERM: stop it by its PID (tgt_stop) before $T goes
on_exit() {
	local rc=$?
	tgt_stop "$TGTDIR" >/dev/null 2>&1 || { echo "t0600: stopping tgtd failed" >&2; rc=1; }
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
	exit $rc
}
trap on_exit EXIT
SECONDS=0
lap() { echo "t0600: $1 after ${SECONDS}s"; }

# One changer, one drive, five 16 MB cartridges. tgt has no hard end: its
# early warning comes when a cartridge image passes its size.
TGT_TAPE_MB=16 tgt_start "$TGTDIR" 6 5 1 || fail "tgtd did not start"
[ "$(cat /proc/"$TGT_PID"/comm)" = tgtd ] || fail "no tgtd at pid $TGT_PID"
if command -v ss >/dev/null; then
	other=$(ss -ltnp | grep "pid=$TGT_PID," | awk '{print $4}' | grep -v '^127\.0\.0\.1:' || true)
	[ -z "$other" ] || fail "tgtd listens on more than 127.0.0.1: $other"
fi
lap "tgtd up on 127.0.0.1:$TGT_PORT"

# PBS's eject-before-unload: every robot move out of the drive then follows
# an UNLOAD sent to the drive itself (tgt's does nothing); a virtual changer
# has no drive to eject
expect_fail "SCSI changers only" tapir changer create vlib --type virtual --path "$T/vlib" --eject-before-unload
tapir changer create lib --path "$TGT_CHANGER_URL" --eject-before-unload >/dev/null
# tgt reports no capacity and has no hard end: --capacity stands in for the
# cartridge size (the restore planner scales tape distances by it, so it
# LOCATEs over gaps, which the lto backend does by REWIND + SPACE on tgt) and
# --leom-reserve for the end of tape after the early warning
expect_fail "apply to lto drives only" tapir drive create v0 --type virtual --path "$T/v0" --capacity 16M
tapir drive create lto0 --type lto --path "$TGT_DRIVE_URL" --changer lib --changer-drivenum 0 \
	--capacity 16M --leom-reserve 4M >/dev/null
out=$(tapir drive list --output-format json)
[ "$(json_get "$out" '(j[0]["capacity"], j[0]["leom-reserve"])')" = "(16777216, 4194304)" ] || fail "drive list: $out"
grep -q '"eject-before-unload": true' "$TAPIR_HOME/etc/tape.json" || fail "eject-before-unload lost: $(cat "$TAPIR_HOME/etc/tape.json")"
out=$(tapir changer status lib --output-format json)
[ "$(json_get "$out" 'sorted(s["label"] for s in j["slots"] if s["label"])')" = \
	"$(python3 -c 'import sys; print(sorted(sys.argv[1].split()))' "$TGT_BARCODES")" ] || fail "changer status: $out"
[ "$(json_get "$out" 'len(j["drives"])')" = 1 ] || fail "changer drives: $out"

tapir pool create p1 >/dev/null
tapir datastore create store1 "$T/ds1" >/dev/null
tapir datastore create store2 "$T/ds2" >/dev/null

out=$(tapir tape barcode-label --drive lto0 --pool p1 --output-format json 2>"$T/label.err" | tail -n 1)
# tgt has no MAM: each label is written all the same, with a warning
[ "$(grep -c 'drive lto0: the device does not take MAM attributes' "$T/label.err")" = 5 ] ||
	fail "MAM warnings: $(cat "$T/label.err")"
media=$(tapir media list --pool p1 --output-format json)
for bc in $TGT_BARCODES; do
	[ "$(json_get "$media" "len([m for m in j if m['label-text'] == '$bc'])")" = 1 ] || fail "$bc not labelled: $media"
done
lap "barcode-label"

# A host snapshot of a few small files, then four days of a VM disk image of
# 8 MiB: the first 4 MiB (one fixed-size chunk) the same every day, the second
# new random data. The chunks (4 MiB each, random, so stored as they are) make
# the set span two cartridges: the first holds the host snapshot, days 1 and 2,
# the early warning cuts the third day's chunk, which goes on the second.
mkdir -p "$T/src/etc"
for f in a b c; do head -c 100000 /dev/urandom >"$T/src/etc/$f"; done
seq 1 5000 >"$T/src/etc/log"
tapir backup --store store1 --type host --id h1 --time 2026-01-01T00:00:00Z root.pxar:"$T/src" >/dev/null
head -c 4194304 /dev/urandom >"$T/base.img"
for d in 1 2 3 4; do
	{ cat "$T/base.img"; head -c 4194304 /dev/urandom; } >"$T/disk$d.img"
	tapir backup --store store1 --type vm --id 100 --time "2026-01-0${d}T00:00:00Z" disk.img:"$T/disk$d.img" >/dev/null
done
lap "datastore backups"

out=$(tapir tape backup store1 p1 --drive lto0 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 5 ] || fail "tape backup: $out"
[ "$(json_get "$out" 'j["chunks-written"]')" -ge 6 ] || fail "tape backup chunks: $out"
[ "$(json_get "$out" 'j["tapes"]')" = "['TPR001L6', 'TPR002L6']" ] || fail "expected a media set of 2 tapes: $out"
# the drive's counters survive the robot moves between the two tapes
[ "$(json_get "$out" 'j["tape-bytes-written"] > j["chunk-bytes-written"]')" = True ] ||
	fail "tape-bytes-written must count both tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
lap "tape backup"

# the drive still holds the last tape of the set
st=$(tapir tape status --drive lto0 --output-format json)
[ "$(json_get "$st" 'j["loaded"]')" = True ] || fail "tape status: $st"
[ "$(json_get "$st" 'j["label"]')" = TPR002L6 ] || fail "tape status label: $st"
[ "$(json_get "$st" 'j["changer"]')" = lib ] || fail "tape status changer: $st"
[ "$(json_get "$st" 'j["capacity"]')" = 16777216 ] || fail "tape status capacity: $st"
[ "$(json_get "$st" 'j["diagnostics"]["vendor"], j["diagnostics"]["serial"]')" = "('IET', 'TAPIRDRV00')" ] ||
	fail "tape status diagnostics: $st"
[ "$(json_get "$st" 'j["diagnostics"]["position-tracked"]')" = True ] || fail "tgt has no READ POSITION: $st"
tapir tape status --drive lto0 | grep -q 'position:.*tracked' || fail "tape status text"

# selective restore of the newest VM snapshot: its base chunk is on the first
# tape, its own chunk and snapshot archive on the second
snap=vm/100/2026-01-04T00:00:00Z
res=$(tapir tape restore "$set_uuid" store1=store2 "store1:$snap" --drive lto0 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['store1:$snap']" ] || fail "restore: $res"
[ "$(json_get "$res" 'sorted(t["label"] for t in j["plan"]["tapes"])')" = "['TPR001L6', 'TPR002L6']" ] ||
	fail "restore should read both tapes: $res"
# TPR002L6 is still in the drive: one robot move brings TPR001L6; every needed
# byte is read, whichever tape it is on
[ "$(json_get "$res" 'j["tape_loads"]')" = 2 ] || fail "each tape made ready once: $res"
[ "$(json_get "$res" 'j["bytes_read_from_tape"] >= j["plan"]["bytes-needed"]')" = True ] ||
	fail "bytes read must count both tapes: $res"
# on a 16 MiB cartridge standing for a native one the gaps are worth a LOCATE:
# tracked positioning (tgt has neither LOCATE nor READ POSITION) skips them
[ "$(json_get "$res" 'j["tape_locates"] >= 1')" = True ] || fail "expected LOCATEs over the gaps: $res"
[ "$(json_get "$res" 'j["bytes_read_from_tape"] <= sum(t["bytes"] for t in j["plan"]["tapes"]) + 8 * 262144')" = True ] ||
	fail "read more than the planned reads: $res"
lap "selective restore"
tapir verify --store store2 >/dev/null || fail "restored snapshot does not verify"
tapir restore --store store2 "$snap" disk.img "$T/r4.img"
cmp "$T/disk4.img" "$T/r4.img" || fail "restored image differs"
[ "$(tapir snapshot list --store store2 --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
	fail "only the selected snapshot is restored"

# and the host snapshot from the first tape, back through the changer
res=$(tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-01-01T00:00:00Z --drive lto0 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 1 ] || fail "restore host: $res"
tapir restore --store store2 host/h1/2026-01-01T00:00:00Z root.pxar "$T/r-host"
diff -r "$T/src" "$T/r-host" || fail "restored tree differs"
lap "done"
echo ok
