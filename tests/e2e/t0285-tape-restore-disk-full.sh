#!/bin/bash
# A tape restore into a datastore on a full disk (a 24 MiB tmpfs, 40 MB of chunks): non-zero exit, the snapshot that did not fit failed with the disk's error and the datastore's name, only complete snapshots published, no staging or temp chunk files left; with room again the same restore completes the rest, byte for byte.
. "$(dirname "$0")/lib.sh"
F=$T

mkdir -p "$T/mnt"
mount -t tmpfs -o size=24m tmpfs "$T/mnt" 2>"$T/mount.err" \
	|| fail "cannot mount a tmpfs (this test needs root): $(cat "$T/mount.err")"
at_exit 'umount -l "$T/mnt" 2>/dev/null'

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create small "$T/mnt/ds" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 64M >/dev/null
tapir pool create p1 >/dev/null
tapir tape label --drive d1 --label-text tape1 --pool p1 >/dev/null
daily_backups store1 10 20000000 1 2
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
set_uuid=$(json_get "$out" 'j["media-set"]')
[ "$(json_get "$out" 'j["snapshots-written"]')" = 2 ] || fail "tape backup: $out"

no_leftovers() {
	[ -z "$(ls -A "$T/mnt/ds/.tmp/$set_uuid" 2>/dev/null)" ] || fail "$1: staging left in .tmp"
	[ -z "$(find "$T/mnt/ds/.chunks" -name '*.tmp_*')" ] || fail "$1: chunk temp files left"
}
# compare DAY...: the published snapshots verify and restore byte for byte
compare() {
	tapir verify --store small >/dev/null || fail "the restored store does not verify"
	restored_as_copied small 10 "$@"
}

rc=0
tapir tape restore "$set_uuid" small --drive d1 --output-format json >"$T/o1" 2>"$T/e1" || rc=$?
[ $rc -ne 0 ] || fail "a restore onto a full disk must fail: $(cat "$T/o1")"
res=$(tail -n 1 "$T/o1")
[ "$(json_get "$res" 'len(j["failed"]) >= 1 and len(j["restored"]) + len(j["failed"]) == 2')" = True ] \
	|| fail "at least one snapshot cannot fit: $res"
[ "$(json_get "$res" 'all("No space left on device" in v and "datastore '"$T"'/mnt/ds" in v for v in j["failed"].values())')" = True ] \
	|| fail "the failures must name the disk's error and the datastore: $res"
tail -n 1 "$T/e1" | grep -q "snapshot(s) failed.*No space left on device" || fail "last error line: $(tail -n 3 "$T/e1")"
[ "$(tapir snapshot list --store small --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = "$(json_get "$res" 'len(j["restored"])')" ] \
	|| fail "published snapshots are not the restored ones: $res"
no_leftovers "full disk"
restored_days=$(json_get "$res" '" ".join(s.split("2026-10-0")[1][0] for s in j["restored"])')
[ -z "$restored_days" ] || compare $restored_days

# room again: the chunks that did fit are only garbage, the same restore completes the rest
mount -o remount,size=200m "$T/mnt" || fail "cannot grow the tmpfs"
res=$(tapir tape restore "$set_uuid" small --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["failed"]) == 0 and len(j["restored"]) + len(j["skipped"]) == 2 and len(j["restored"]) >= 1')" = True ] \
	|| fail "restore with room: $res"
no_leftovers "good run"
compare 1 2
echo ok
