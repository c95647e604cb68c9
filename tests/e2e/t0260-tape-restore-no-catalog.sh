#!/bin/bash
# Full restore of a media set without a local catalog: every file of every tape is read, every snapshot restored and verifiable.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir datastore create store3 "$F/ds3" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 4M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3 4 5 6; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
daily_backups store1 10 700000 1 2 3 4 5 6 7
head -c 900000 /dev/urandom >"$T/vm.img"
tapir backup --store store1 --type vm --id 200 --time 2026-10-01T00:00:00Z disk.img:"$T/vm.img" >/dev/null
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 8 ] || fail "tape backup: $out"
[ "$(json_get "$out" 'len(j["tapes"]) >= 3')" = True ] || fail "expected >= 3 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
ntapes=$(json_get "$out" 'len(j["tapes"])')
# a restore into store3 with the catalog, for comparing the counters
withcat=$(tapir tape restore "$set_uuid" store1=store3 --drive d1 --output-format json | tail -n 1)

rm -f "$TAPIR_HOME"/lib/catalog.db "$TAPIR_HOME"/lib/catalog.db-wal "$TAPIR_HOME"/lib/catalog.db-shm
# a selective restore needs the catalog
expect_fail_last "media set $set_uuid has no local catalog: run 'tapir tape catalog" \
	tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-10-03T00:00:00Z --drive d1
# the dry run of a full restore lists every tape of the set
plan=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --dry-run --output-format json | tail -n 1)
[ "$(json_get "$plan" 'j["plan"]["catalog"]')" = False ] || fail "dry run: $plan"
[ "$(json_get "$plan" '[t["seq"] for t in j["plan"]["tapes"]] == list(range('"$ntapes"'))')" = True ] || fail "dry run tapes: $plan"
[ -z "$(ls "$F/ds2" | grep -v '^\.')" ] || fail "dry run created something"

res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 8 ] || fail "full restore without catalog: $res"
[ "$(json_get "$res" 'j["failed"]')" = "{}" ] || fail "failed: $res"
[ "$(json_get "$res" 'j["tape_loads"] >= '"$ntapes"' - 1 and j["tape_loads"] <= '"$ntapes")" = True ] || fail "each tape once: $res"
# every file was read: at least as much as the restore with the catalog read
[ "$(json_get "$res" 'j["bytes_read_from_tape"]')" -ge "$(json_get "$withcat" 'j["bytes_read_from_tape"]')" ] || fail "read less than with a catalog: $res"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
restored_as_copied store2 10 1 4 7
tapir restore --store store2 vm/200/2026-10-01T00:00:00Z disk.img "$T/r.img"
cmp "$T/vm.img" "$T/r.img" || fail "vm image differs"
[ -z "$(find "$F/ds2/.tmp" -mindepth 1 2>/dev/null)" ] || fail ".tmp not empty"

# again: everything exists, nothing is inserted twice
tapir snapshot forget --store store2 host/h1/2026-10-05T00:00:00Z >/dev/null
res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['store1:host/h1/2026-10-05T00:00:00Z']" ] || fail "second run: $res"
[ "$(json_get "$res" 'len(j["skipped"])')" = 7 ] || fail "second run skips: $res"
[ "$(json_get "$res" 'j["chunks_restored"]')" = 0 ] || fail "second run restored chunks again: $res"
[ "$(json_get "$res" 'j["chunks_present"] > 0')" = True ] || fail "second run: $res"
tapir verify --store store2 host/h1/2026-10-05T00:00:00Z >/dev/null || fail "day 5 does not verify"
echo ok
