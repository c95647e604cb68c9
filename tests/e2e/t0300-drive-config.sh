#!/bin/bash
# Drive configuration: create virtual and lto drives, list, validation errors, remove, status after restart.
source "$(dirname "$0")/lib.sh"

tapir drive create vd1 --type virtual --path "$T/vd1" --max-size 16M >/dev/null
[ -d "$T/vd1" ] || fail "virtual drive directory not created"
tapir drive create vd2 --type virtual --path "$T/vd2" >/dev/null
tapir drive create l1 --type lto --path /dev/tape/by-id/scsi-XYZ-sg >/dev/null
tapir drive create l2 --type lto --path iscsi://127.0.0.1:3260/iqn.2003-01.org.linux-iscsi.vtl:lib/1 >/dev/null
tapir drive create l3 --type lto --path 'iscsi://[::1]/iqn.2003-01.org.x:y/0' >/dev/null

out=$(tapir drive list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 5 ] || fail "expected 5 drives: $out"
[ "$(json_get "$out" '[d for d in j if d["name"]=="vd1"][0]["max-size"]')" = 16777216 ] || fail "max-size 16M: $out"
[ "$(json_get "$out" '[d for d in j if d["name"]=="vd2"][0]["max-size"]')" = 67108864 ] || fail "default 64 MiB: $out"
[ "$(json_get "$out" '[d for d in j if d["name"]=="l2"][0]["type"]')" = lto ] || fail "lto type: $out"
tapir drive list | grep -q '^vd1 ' || fail "text list lacks vd1"

# validation: one clear line each
expect_fail "already exists" tapir drive create vd1 --type virtual --path "$T/x"
expect_fail "name 'bad/name'" tapir drive create bad/name --type virtual --path "$T/x"
expect_fail "longer than 32" tapir drive create aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa --type virtual --path "$T/x"
expect_fail "name '-x'" tapir drive create --type virtual --path "$T/x" -- -x
expect_fail "unknown drive type 'floppy'" tapir drive create f1 --type floppy --path "$T/x"
expect_fail "--type virtual.lto is required" tapir drive create f1 --path "$T/x"
expect_fail "port must be" tapir drive create l9 --type lto --path iscsi://host:99999/iqn.2003-01.x:y/1
expect_fail "LUN" tapir drive create l9 --type lto --path iscsi://host/iqn.2003-01.x:y/lun
expect_fail "iqn., eui. or naa." tapir drive create l9 --type lto --path iscsi://host/target/1
expect_fail "absolute device path" tapir drive create l9 --type lto --path sg0
expect_fail "minimum" tapir drive create v9 --type virtual --path "$T/v9" --max-size 1000
expect_fail "bad size suffix" tapir drive create v9 --type virtual --path "$T/v9" --max-size 10X
expect_fail "virtual drives only" tapir drive create l9 --type lto --path /dev/sg3 --max-size 1G
expect_fail "unknown changer 'nochanger'" tapir drive create l9 --type lto --path /dev/sg3 --changer nochanger
expect_fail "needs --changer" tapir drive create l9 --type lto --path /dev/sg3 --changer-drivenum 1
expect_fail "unknown option --bogus" tapir drive create l9 --type lto --path /dev/sg3 --bogus 1

# status of a virtual drive; an unknown drive is named
out=$(tapir drive status vd1 --output-format json)
[ "$(json_get "$out" 'j["loaded"]')" = False ] || fail "fresh drive not empty: $out"
[ "$(json_get "$out" 'j["capacity"]')" = 16777216 ] || fail "capacity: $out"
expect_fail "no drive named 'nosuch'" tapir drive status nosuch
expect_fail "no backend for drive type 'lto'|lto" tapir drive status l1

# the drive remembers its cartridge across processes (drive-status.json)
printf '{"current_tape": {"name": "TAPE01", "pos": 0}}\n' > "$T/vd1/drive-status.json"
out=$(tapir drive status vd1 --output-format json)
[ "$(json_get "$out" 'j["label"]')" = TAPE01 ] || fail "loaded cartridge not picked up: $out"
[ -f "$T/vd1/tape-TAPE01.idx" ] || fail "cartridge files not created"
echo '{"explode": 1}' > "$T/vd1/faults.json"
expect_fail "unknown fault \"explode\"" tapir drive status vd1
rm "$T/vd1/faults.json"

tapir drive remove l3 >/dev/null
expect_fail "no drive named 'l3'" tapir drive remove l3
out=$(tapir drive list --output-format json)
[ "$(json_get "$out" 'len(j)')" = 4 ] || fail "remove did not remove: $out"
echo OK
