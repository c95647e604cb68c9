#!/bin/bash
# Full restore without a catalog over two drives of a changer: the drives read tapes at the same time (a snapshot archive cut by early warning on one tape, whole on the next) without racing on the staging directory; a tape left in the other drive is moved back and read by the drive the plan gives it, and the estimate counts taking it out (or a tape not needed out of the restore's drive); a tape in a drive held by another task is a clear error.
. "$(dirname "$0")/lib.sh"
F=$T
at_exit '[ -z "${HPID:-}" ] || kill "$HPID" 2>/dev/null'

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir datastore create store3 "$F/ds3" >/dev/null
virtual_library 2 4M 8 1
daily_backups store1 10 700000 1 2 3 4 5 6 7 8
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 8 ] || fail "tape backup: $out"
[ "$(json_get "$out" 'len(j["tapes"]) >= 3')" = True ] || fail "expected >= 3 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
ntapes=$(json_get "$out" 'len(j["tapes"])')
first=$(json_get "$out" 'j["tapes"][0]')
second=$(json_get "$out" 'j["tapes"][1]')

# with the catalog: the second tape (the plan gives it to d2) sits in d1 and is read there, no error
tapir tape unload --drive d1 >/dev/null
tapir tape load-media --drive d1 "$second" >/dev/null
res=$(tapir tape restore "$set_uuid" store1=store3 --drive d1 --drive d2 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 8 ] || fail "restore with a tape already in d1: $res"
[ "$(json_get "$res" 'j["tape_loads"]')" = "$(json_get "$res" 'len(j["plan"]["tapes"])')" ] || fail "one load per needed tape: $res"
[ "$(json_get "$res" '[t["drive"] for t in j["plan"]["tapes"] if t["label"] == "'"$second"'"][0]')" = 0 ] || fail "the loaded tape should be read by d1: $res"

# one drive holding the third tape: it is read first, without a load, and the plan's estimate knows it
third=$(json_get "$out" 'j["tapes"][2]')
tapir datastore create store4 "$F/ds4" >/dev/null
tapir tape unload --drive d1 >/dev/null
tapir tape unload --drive d2 >/dev/null
est_empty=$(json_get "$(tapir tape restore "$set_uuid" store1=store4 --drive d1 --dry-run --output-format json | tail -n 1)" \
	'j["plan"]["estimated-seconds"]')
tapir tape load-media --drive d1 "$third" >/dev/null
res=$(tapir tape restore "$set_uuid" store1=store4 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 8 ] || fail "restore with the third tape in d1: $res"
[ "$(json_get "$res" '[t["label"] for t in j["plan"]["tapes"] if t.get("in-drive")]')" = "['$third']" ] || fail "in-drive: $res"
upid=$(json_get "$res" 'j["upid"]')
[ "$(tapir task log "$upid" | grep -o "loading tape [A-Z0-9]*" | head -n 1)" = "loading tape $third" ] ||
	fail "the tape in the drive is not read first: $(tapir task log "$upid" | grep "loading tape")"
[ "$(json_get "$res" 'j["tape_loads"] == len(j["plan"]["tapes"])')" = True ] || fail "loads: $res"
# a load, a changer move and an unload fewer than from empty drives; the run is what the plan said, to the
# second: the tape in the drive only goes back to BOT on both sides (no load counted by the executor either)
[ "$(json_get "$res" 'j["plan"]["estimated-seconds"] < '"$est_empty"' - 40')" = True ] ||
	fail "the plan does not count the tape in the drive: $est_empty s from empty drives: $res"
[ "$(json_get "$res" 'abs(j["simulated_tape_seconds"] - j["plan"]["estimated-seconds"]) <= 1e-6 * j["plan"]["estimated-seconds"]')" = True ] ||
	fail "the estimate does not match the run: $res"

# a tape in d2 while another task holds d2: the error names it; free, it is moved back to its slot and loaded into d1
tapir tape unload --drive d1 >/dev/null
tapir tape unload --drive d2 >/dev/null
tapir tape load-media --drive d2 "$first" >/dev/null
python3 - "$TAPIR_HOME" <<'EOF' &
import fcntl, os, sys, time
d = os.path.join(sys.argv[1], "run", "drive-lock")
os.makedirs(d, exist_ok=True)
f = open(os.path.join(d, "d2"), "a+")
fcntl.flock(f, fcntl.LOCK_EX)
f.seek(0); f.truncate(); f.write("UPID:other:task"); f.flush()
time.sleep(60)
EOF
HPID=$!
for _ in $(seq 100); do grep -q "UPID:other:task" "$TAPIR_HOME/run/drive-lock/d2" 2>/dev/null && break; sleep 0.1; done
grep -q "UPID:other:task" "$TAPIR_HOME/run/drive-lock/d2" || fail "the helper did not take d2's lock"
tapir tape restore "$set_uuid" store1=store2 "store1:host/h1/2026-10-01T00:00:00Z" --drive d1 --dry-run >"$F/plan.txt" 2>&1
grep -Eq "^  $first +seq 0 +drive d1 .*\(in another drive: taken out of it first\)$" "$F/plan.txt" ||
	fail "text plan does not say $first is in another drive: $(cat "$F/plan.txt")"
expect_fail_last "tape $first is in drive d2, which another task holds .*UPID:other:task" \
	tapir tape restore "$set_uuid" store1=store2 "store1:host/h1/2026-10-01T00:00:00Z" --drive d1
kill "$HPID"; wait "$HPID" 2>/dev/null || true; HPID=
res=$(tapir tape restore "$set_uuid" store1=store2 "store1:host/h1/2026-10-01T00:00:00Z" --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['store1:host/h1/2026-10-01T00:00:00Z']" ] || fail "restore from d2's tape: $res"
st=$(tapir changer status lib1 --output-format json)
[ "$(json_get "$st" '[d["label"] for d in j["drives"] if d["drive"] == 1][0]')" = None ] || fail "d2 should be empty now: $st"
# the plan knew the tape had to come out of d2 first (an unload there, rewound from where d2 said it stood, and a
# move more), and the run is what it said
[ "$(json_get "$res" '[t["label"] for t in j["plan"]["tapes"] if t.get("in-other-drive")]')" = "['$first']" ] ||
	fail "in-other-drive: $res"
[ "$(json_get "$res" 'abs(j["simulated_tape_seconds"] - j["plan"]["estimated-seconds"]) <= 1e-6 * j["plan"]["estimated-seconds"]')" = True ] ||
	fail "the estimate does not count taking the tape out of d2: $res"
tapir snapshot forget --store store2 "host/h1/2026-10-01T00:00:00Z" >/dev/null

# d1 holds a tape this restore does not need: the estimate counts unloading it, and the run matches
tapir tape unload --drive d1 >/dev/null
est_empty=$(json_get "$(tapir tape restore "$set_uuid" store1=store2 "store1:host/h1/2026-10-01T00:00:00Z" --drive d1 --dry-run \
	--output-format json | tail -n 1)" 'j["plan"]["estimated-seconds"]')
tapir tape load-media --drive d1 "$third" >/dev/null
res=$(tapir tape restore "$set_uuid" store1=store2 "store1:host/h1/2026-10-01T00:00:00Z" --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["restored"]')" = "['store1:host/h1/2026-10-01T00:00:00Z']" ] || fail "restore with $third in d1: $res"
[ "$(json_get "$res" '"'"$third"'" not in [t["label"] for t in j["plan"]["tapes"]]')" = True ] || fail "$third is needed: $res"
[ "$(json_get "$res" 'j["plan"]["estimated-seconds"] > '"$est_empty"' + 26')" = True ] ||
	fail "the plan does not count unloading $third ($est_empty s from an empty drive): $res"
[ "$(json_get "$res" 'abs(j["simulated_tape_seconds"] - j["plan"]["estimated-seconds"]) <= 0.0005 * j["plan"]["estimated-seconds"]')" = True ] ||
	fail "the estimate does not match the run with $third in d1: $res"
tapir snapshot forget --store store2 "host/h1/2026-10-01T00:00:00Z" >/dev/null

# without a catalog, two drives: everything restored once, nothing staged twice
rm -f "$TAPIR_HOME"/lib/catalog.db "$TAPIR_HOME"/lib/catalog.db-wal "$TAPIR_HOME"/lib/catalog.db-shm
tapir tape unload --drive d1 >/dev/null
tapir tape unload --drive d2 >/dev/null
res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --drive d2 --output-format json | tail -n 1)
[ "$(json_get "$res" 'j["plan"]["catalog"]')" = False ] || fail "expected a catalog-less restore: $res"
[ "$(json_get "$res" 'sorted(set(t["drive"] for t in j["plan"]["tapes"]))')" = "[0, 1]" ] || fail "both drives: $res"
[ "$(json_get "$res" 'len(j["restored"])')" = 8 ] || fail "two-drive full restore without catalog: $res"
[ "$(json_get "$res" 'j["failed"]')" = "{}" ] || fail "failed: $res"
[ "$(json_get "$res" 'j["tape_loads"]')" = "$ntapes" ] || fail "each tape once: $res"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
restored_as_copied store2 10 1 2 3 4 5 6 7 8
[ -z "$(find "$F/ds2/.tmp" -mindepth 1 2>/dev/null)" ] || fail ".tmp not empty: $(find "$F/ds2/.tmp")"
echo ok
