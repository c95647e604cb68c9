#!/bin/bash
# Selective restores of 1 and of several of 20 daily snapshots spread over >= 3 tapes, a restore into a datastore that already holds the chunks, a full restore.
. "$(dirname "$0")/lib.sh"
# datastores, cartridges and the catalog on tmpfs when there is one: a datastore is 65536 directories
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir datastore create store3 "$F/ds3" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 8M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3 4 5 6 7 8; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done

# 20 days of a host backup (a small shared file, a growing log, ~1 MB new a day) and a vm image on two days
mkdir -p "$T/src/etc"
echo "shared config" >"$T/src/etc/conf"
for d in $(seq 1 20); do
	day=$(printf '%02d' "$d")
	head -c 1000000 /dev/urandom >"$T/src/day.bin"
	seq 1 $((d * 300)) >"$T/src/etc/log"
	tapir backup --store store1 --type host --id h1 --time "2026-01-${day}T00:00:00Z" root.pxar:"$T/src" >/dev/null
	cp -a "$T/src" "$T/copy$day"
done
head -c 700000 /dev/urandom >"$T/vm1.img"
head -c 500000 /dev/urandom >"$T/vm2.img"
tapir backup --store store1 --type vm --id 100 --time 2026-01-05T00:00:00Z disk.img:"$T/vm1.img" >/dev/null
tapir backup --store store1 --type vm --id 100 --time 2026-01-06T00:00:00Z disk.img:"$T/vm2.img" >/dev/null

out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 22 ] || fail "tape backup: $out"
[ "$(json_get "$out" 'len(j["tapes"]) >= 3')" = True ] || fail "expected >= 3 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')

# one snapshot: its chunk archive and snapshot archive are read, nothing else
snap=store1:host/h1/2026-01-13T00:00:00Z
plan=$(tapir tape restore "$set_uuid" store1=store2 "$snap" --drive d1 --dry-run --output-format json | tail -n 1)
res=$(tapir tape restore "$set_uuid" store1=store2 "$snap" --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['$snap']" ] || fail "restore of one: $res"
[ "$(json_get "$res" 'j["failed"]')" = "{}" ] || fail "restore of one failed: $res"
need=$(json_get "$plan" 'j["plan"]["bytes-needed"]')
read=$(json_get "$res" 'j["bytes_read_from_tape"]')
first_read=$read
[ "$need" -gt 1000000 ] || fail "plan needs only $need bytes"
[ "$read" -ge 1000000 ] || fail "read $read bytes, less than the snapshot's data"
[ "$read" -le $((need + 3 * 262144)) ] || fail "read $read bytes for $need needed"
loads=$(json_get "$res" 'j["tape_loads"]')
ntapes=$(json_get "$res" 'len(j["plan"]["tapes"])')
# each tape once (the one already in the drive needs no load)
[ "$loads" -le "$ntapes" ] && [ "$loads" -ge $((ntapes - 1)) ] || fail "$loads loads for $ntapes tapes"
[ "$(json_get "$res" 'j["chunks_restored"] >= 1')" = True ] || fail "no chunks restored: $res"
# one drive: its time is the elapsed time, and the model counted something
[ "$(json_get "$res" 'j["simulated_tape_seconds"] > 0 and abs(j["simulated_elapsed_seconds"] - j["simulated_tape_seconds"]) < 1e-6')" = True ] \
	|| fail "one drive: elapsed must equal the drive time: $res"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
tapir restore --store store2 host/h1/2026-01-13T00:00:00Z root.pxar "$T/r13"
diff -r "$T/copy13" "$T/r13" || fail "restored tree of day 13 differs"
[ "$(tapir snapshot list --store store2 --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
	|| fail "store2 holds more than the one snapshot"

# several, from different tapes: the first host snapshot on each of the first three tapes, and the vm images
picks=$(tapir media content --output-format json | python3 -c '
import json, sys
rows = [r for r in json.load(sys.stdin) if r["snapshot"].startswith("host/") and "2026-01-13" not in r["snapshot"]]
first = {}
for r in sorted(rows, key=lambda r: (r["seq-nr"], r["file-nr"])):
    first.setdefault(r["seq-nr"], r["snapshot"])
print(" ".join(first[s] for s in sorted(first)[:3]))')
set -- $picks
[ $# = 3 ] || fail "host snapshots on fewer than 3 tapes: $picks"
res=$(tapir tape restore "$set_uuid" store1=store2 store1:$1 store1:$2 store1:$3 store1:vm/100/2026-01-05T00:00:00Z \
	store1:vm/100/2026-01-06T00:00:00Z --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 5 ] || fail "restore of several: $res"
[ "$(json_get "$res" 'len(j["plan"]["tapes"]) >= 3')" = True ] || fail "several snapshots should span >= 3 tapes: $res"
[ "$(json_get "$res" '0 <= len(j["plan"]["tapes"]) - j["tape_loads"] <= 1')" = True ] || fail "a tape loaded twice: $res"
tapir verify --store store2 >/dev/null || fail "store2 does not verify after several"
for p in $picks; do
	day=${p#host/h1/2026-01-}
	day=${day%%T*}
	tapir restore --store store2 "$p" root.pxar "$T/r$day"
	diff -r "$T/copy$day" "$T/r$day" || fail "restored tree of $p differs"
done
tapir restore --store store2 vm/100/2026-01-05T00:00:00Z disk.img "$T/r1.img"
cmp "$T/vm1.img" "$T/r1.img" || fail "vm image 1 differs"
tapir restore --store store2 vm/100/2026-01-06T00:00:00Z disk.img "$T/r2.img"
cmp "$T/vm2.img" "$T/r2.img" || fail "vm image 2 differs"

# the target already holds the chunks: forget a snapshot, restore it again; only its snapshot archive is read
full=$(json_get "$res" 'j["bytes_read_from_tape"]')
tapir snapshot forget --store store2 host/h1/2026-01-13T00:00:00Z >/dev/null
[ ! -e "$F/ds2/host/h1/2026-01-13T00:00:00Z" ] || fail "forget left the snapshot"
res=$(tapir tape restore "$set_uuid" store1=store2 store1:host/h1/2026-01-13T00:00:00Z --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 1 ] || fail "restore after forget: $res"
[ "$(json_get "$res" 'j["chunks_present"] > 0')" = True ] || fail "chunks_present should be > 0: $res"
[ "$(json_get "$res" 'j["chunks_restored"]')" = 0 ] || fail "chunks read again: $res"
again=$(json_get "$res" 'j["bytes_read_from_tape"]')
snapbytes=$(json_get "$res" 'sum(r["blocks"] for t in j["plan"]["tapes"] for r in t["reads"] if r["kind"] == "snapshot") * 262144')
[ "$(json_get "$res" 'all(r["kind"] == "snapshot" for t in j["plan"]["tapes"] for r in t["reads"])')" = True ] \
	|| fail "the plan reads chunks though they were present: $res"
# each load reads the two label blocks
labels=$(json_get "$res" 'j["tape_loads"] * 2 * 262144')
[ "$again" -le $((snapbytes + labels)) ] || fail "read $again bytes, more than its snapshot archive ($snapbytes) and labels"
[ $((again * 2)) -lt "$first_read" ] || fail "read $again bytes, not much less than the first time ($first_read)"
tapir verify --store store2 host/h1/2026-01-13T00:00:00Z >/dev/null || fail "re-restored snapshot does not verify"
tapir restore --store store2 host/h1/2026-01-13T00:00:00Z root.pxar "$T/r13b"
diff -r "$T/copy13" "$T/r13b" || fail "re-restored tree differs"

# the whole set into an empty datastore: every snapshot, every tape once
res=$(tapir tape restore "$set_uuid" store3 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 22 ] || fail "full restore: $res"
[ "$(json_get "$res" 'len(j["failed"]) + len(j["skipped"])')" = 0 ] || fail "full restore: $res"
[ "$(json_get "$res" '0 <= len(j["plan"]["tapes"]) - j["tape_loads"] <= 1')" = True ] || fail "full restore loads: $res"
tapir verify --store store3 >/dev/null || fail "store3 does not verify"
n=$(tapir snapshot list --store store3 --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" = 22 ] || fail "store3 lists $n snapshots"
for day in 02 13 19; do
	tapir restore --store store3 "host/h1/2026-01-${day}T00:00:00Z" root.pxar "$T/f$day"
	diff -r "$T/copy$day" "$T/f$day" || fail "fully restored tree of day $day differs"
done
[ -z "$(ls -A "$F/ds3/.tmp/$set_uuid" 2>/dev/null)" ] || fail "staging left behind"
echo ok
