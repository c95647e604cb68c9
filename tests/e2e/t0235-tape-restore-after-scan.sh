#!/bin/bash
# catalog.db deleted, rebuilt by `tapir tape catalog --scan` tape by tape; then a selective restore works and reads only what it needs.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 6M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3 4 5; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
daily_backups store1 06 1000000 1 2 3 4 5 6 7 8
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'len(j["tapes"]) >= 2')" = True ] || fail "expected >= 2 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
tapes=$(json_get "$out" '" ".join(j["tapes"])')
snap=store1:host/h1/2026-06-06T00:00:00Z
before=$(tapir tape restore "$set_uuid" store1=store2 "$snap" --drive d1 --dry-run --output-format json | tail -n 1)

rm -f "$TAPIR_HOME"/lib/catalog.db "$TAPIR_HOME"/lib/catalog.db-wal "$TAPIR_HOME"/lib/catalog.db-shm
expect_fail_last "has no local catalog.*tapir tape catalog" \
	tapir tape restore "$set_uuid" store1=store2 "$snap" --drive d1
for t in $tapes; do
	tapir tape load-media --drive d1 "$t" >/dev/null
	out=$(tapir tape catalog --drive d1 --scan --output-format json)
	[ "$(json_get "$out" 'j["fast"]')" = False ] || fail "scan of $t: $out"
done
[ "$(tapir media content --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 8 ] \
	|| fail "the scanned catalog does not list 8 snapshots"

# the plan from the scanned catalog is the plan from the writer's catalog
after=$(tapir tape restore "$set_uuid" store1=store2 "$snap" --drive d1 --dry-run --output-format json | tail -n 1)
[ "$(json_get "$before" 'j["plan"]["tapes"]')" = "$(json_get "$after" 'j["plan"]["tapes"]')" ] \
	|| fail "plans differ: $(json_get "$before" 'j["plan"]["tapes"]') vs $(json_get "$after" 'j["plan"]["tapes"]')"
res=$(tapir tape restore "$set_uuid" store1=store2 "$snap" --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['$snap']" ] || fail "restore after scan: $res"
need=$(json_get "$res" 'j["plan"]["bytes-needed"]')
read=$(json_get "$res" 'j["bytes_read_from_tape"]')
# beyond what is needed: the two label blocks per load and the rounding of each read to whole blocks
slack=$(json_get "$res" '(2 * j["tape_loads"] + sum(len(t["reads"]) for t in j["plan"]["tapes"]) + 1) * 262144')
[ "$read" -le $((need + slack)) ] || fail "read $read bytes for $need needed"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
tapir restore --store store2 host/h1/2026-06-06T00:00:00Z root.pxar "$T/r"
diff -r "$T/copy6" "$T/r" || fail "restored tree differs"
echo ok
