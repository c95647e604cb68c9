#!/bin/bash
# tape label / read-label / load-media / unload / eject / status on a standalone virtual drive, and their bad input.
source "$(dirname "$0")/lib.sh"

tapir pool create p1 >/dev/null
tapir drive create d0 --type virtual --path "$T/d0" >/dev/null

# a new cartridge is created and labelled; it goes into the inventory, offline, in pool p1
out=$(tapir tape label --drive d0 --label-text TAPE01 --pool p1 --output-format json)
[ "$(json_get "$out" 'j["label_text"]')" = TAPE01 ] || fail "label output: $out"
[ "$(json_get "$out" 'j["pool"]')" = p1 ] || fail "label pool: $out"
uuid=$(json_get "$out" 'j["uuid"]')
out=$(tapir media list --output-format json)
[ "$(json_get "$out" '[m["uuid"] for m in j if m["label-text"]=="TAPE01"][0]')" = "$uuid" ] || fail "not inventoried: $out"
[ "$(json_get "$out" '[m["location"] for m in j if m["label-text"]=="TAPE01"][0]')" = offline ] || fail "location: $out"
[ "$(json_get "$out" '[m["pool"] for m in j if m["label-text"]=="TAPE01"][0]')" = p1 ] || fail "pool: $out"

# read-label sees what was written (no media set yet)
out=$(tapir tape read-label --drive d0 --output-format json)
[ "$(json_get "$out" 'j["label"]["uuid"]')" = "$uuid" ] || fail "read-label uuid: $out"
[ "$(json_get "$out" 'j["media-set-label"]')" = None ] || fail "read-label set: $out"
tapir tape read-label --drive d0 | grep -q '^label-text: TAPE01$' || fail "read-label text"

# status in JSON and text
out=$(tapir tape status --drive d0 --output-format json)
[ "$(json_get "$out" 'j["loaded"]')" = True ] || fail "status loaded: $out"
[ "$(json_get "$out" 'j["label"]')" = TAPE01 ] || fail "status label: $out"
[ "$(json_get "$out" 'j["name"]')" = d0 ] || fail "status name: $out"
[ "$(json_get "$out" 'j["encryption"]')" = False ] || fail "status encryption: $out"
tapir tape status --drive d0 | grep -q TAPE01 || fail "status text"

# bad input: duplicate label text, data on the tape, unknown pool, bad text, no drive
expect_fail "a tape labelled 'TAPE01' is already in the inventory" tapir tape label --drive d0 --label-text TAPE01
tapir media destroy TAPE01 >/dev/null
expect_fail "the tape holds data \(label 'TAPE01'\)" tapir tape label --drive d0 --label-text TAPE01
expect_fail "media pool 'nope' does not exist" tapir tape label --drive d0 --label-text TAPE09 --pool nope
expect_fail "invalid label text" tapir tape label --drive d0 --label-text 'a/b'
expect_fail "--label-text is required" tapir tape label --drive d0
expect_fail "no drive given" tapir tape label --label-text TAPE09
expect_fail "drive 'nod' does not exist" tapir tape status --drive nod
expect_fail "unknown option" tapir tape status --drive d0 --bogus 1

# read-label --inventorize brings the destroyed entry back with the same uuid
tapir tape read-label --drive d0 --inventorize >/dev/null
out=$(tapir media list --output-format json)
[ "$(json_get "$out" '[m["uuid"] for m in j if m["label-text"]=="TAPE01"][0]')" = "$uuid" ] || fail "inventorize: $out"

# TAPAR_TAPE_DRIVE is the default drive
TAPIR_TAPE_DRIVE=d0 tapir tape status | grep -q TAPE01 || fail "TAPIR_TAPE_DRIVE"

# load-media of a new cartridge: blank, then labelled
out=$(tapir tape load-media --drive d0 TAPE02 --output-format json)
[ "$(json_get "$out" 'j["label-text"]')" = None ] || fail "new cartridge is not blank: $out"
expect_fail "the tape is blank" tapir tape read-label --drive d0
tapir tape label --drive d0 --label-text TAPE02 >/dev/null
out=$(tapir tape load-media --drive d0 TAPE01 --output-format json)
[ "$(json_get "$out" 'j["label-text"]')" = TAPE01 ] || fail "load-media TAPE01: $out"

# eject and unload
tapir tape eject --drive d0 | grep -q "ejected" || fail "eject"
out=$(tapir tape status --drive d0 --output-format json)
[ "$(json_get "$out" 'j["loaded"]')" = False ] || fail "still loaded after eject: $out"
tapir tape unload --drive d0 | grep -q "is empty" || fail "unload of an empty drive"
expect_fail "no changer" tapir tape unload --drive d0 --target-slot 2
expect_fail "no cartridge" tapir tape read-label --drive d0
echo OK
