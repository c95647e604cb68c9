#!/bin/bash
# Virtual changer: create, insert cartridges, load into a drive, transfer, export, status in text and JSON.
source "$(dirname "$0")/lib.sh"

tapir changer create lib1 --type virtual --path "$T/lib1" --slots 4 --import-export-slots 2 >/dev/null
tapir drive create d0 --type virtual --path "$T/d0" --changer lib1 --changer-drivenum 0 >/dev/null
tapir drive create d1 --type virtual --path "$T/d1" --changer lib1 --changer-drivenum 1 >/dev/null
expect_fail "drive number 1 is already drive 'd1'" \
	tapir drive create d2 --type virtual --path "$T/d2" --changer lib1 --changer-drivenum 1
tapir changer create scsi1 --path iscsi://10.0.0.1/iqn.2003-01.org.linux-iscsi.vtl:lib/0 >/dev/null
expect_fail "cannot be in" tapir drive create d3 --type virtual --path "$T/d3" --changer scsi1
expect_fail "already exists" tapir changer create d0 --type virtual --path "$T/x" --slots 2
expect_fail "slots must be" tapir changer create c9 --type virtual --path "$T/c9" --slots 0
expect_fail "virtual only" tapir changer create c9 --path /dev/sg5 --slots 3

out=$(tapir changer list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 2 ] || fail "changer list: $out"

tapir changer insert lib1 AAA001L9 --slot 1 >/dev/null
tapir changer insert lib1 BBB001L9 >/dev/null   # first free import/export slot: 5
tapir changer transfer lib1 5 2 >/dev/null
expect_fail "source slot 5 is empty" tapir changer transfer lib1 5 3
expect_fail "target slot 1 is full" tapir changer transfer lib1 2 1
expect_fail "slot 9 does not exist" tapir changer transfer lib1 2 9

tapir changer load lib1 1 --drivenum 1 >/dev/null
out=$(tapir drive status d1 --output-format json)
[ "$(json_get "$out" 'j["label"]')" = AAA001L9 ] || fail "drive d1 does not see the cartridge: $out"

out=$(tapir changer status lib1 --output-format json)
[ "$(json_get "$out" '[d for d in j["drives"] if d["drive"]==1][0]["label"]')" = AAA001L9 ] || fail "status drive: $out"
[ "$(json_get "$out" '[d for d in j["drives"] if d["drive"]==1][0]["name"]')" = d1 ] || fail "drive name: $out"
[ "$(json_get "$out" 'j["slots"][0]["label"]')" = None ] || fail "slot 1 should be empty: $out"
[ "$(json_get "$out" 'j["slots"][1]["label"]')" = BBB001L9 ] || fail "slot 2: $out"
[ "$(json_get "$out" 'j["slots"][4]["import-export"]')" = True ] || fail "slot 5 is I/E: $out"
tapir changer status lib1 | grep -q '^drive 1 (d1): AAA001L9$' || fail "text status"

tapir changer export lib1 AAA001L9 >/dev/null
out=$(tapir changer status lib1 --output-format json)
[ "$(json_get "$out" 'j["slots"][4]["label"]')" = AAA001L9 ] || fail "export to I/E: $out"
out=$(tapir drive status d1 --output-format json)
[ "$(json_get "$out" 'j["loaded"]')" = False ] || fail "drive still loaded after export: $out"

expect_fail "no changer named 'nolib'" tapir changer status nolib
expect_fail "no backend for changer type 'scsi'|scsi" tapir changer status scsi1
expect_fail "still used by drive" tapir changer remove lib1
tapir drive remove d0 >/dev/null
tapir drive remove d1 >/dev/null
tapir changer remove lib1 >/dev/null
out=$(tapir changer list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 1 ] || fail "changer not removed: $out"
echo OK
