#!/bin/bash
# Tape backup faults: a vanished chunk, a corrupt chunk and a vanished index fail only their snapshots (named, exit non-zero); two jobs on one drive.
. "$(dirname "$0")/lib.sh"
F=$T
at_exit 'kill -CONT "${pid:-0}" 2>/dev/null'

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 16M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
daily_backups store1 09 900000 1 2 3 4 5

# chunk files only snapshot N references (digests from its .didx: 4096-byte header, then 40-byte entries)
own_chunks() {
	python3 - "$F/ds1" "$1" <<'PY'
import glob, os, sys
ds, day = sys.argv[1], sys.argv[2]
def digests(path):
    b = open(path, "rb").read()[4096:]
    return {b[i + 8:i + 40].hex() for i in range(0, len(b), 40)}
mine, others = set(), set()
for d in glob.glob(os.path.join(ds, "host/h1/*")):
    s = set().union(*[digests(f) for f in glob.glob(os.path.join(d, "*.didx"))])
    (mine if d.endswith("2026-09-0%sT00:00:00Z" % day) else others).update(s)
print(" ".join(os.path.join(ds, ".chunks", h[:4], h) for h in sorted(mine - others)))
PY
}
set -- $(own_chunks 2)
[ $# -ge 1 ] || fail "day 2 has no chunks of its own"
rm "$1"                                  # day 2: a chunk vanished
set -- $(own_chunks 3)
python3 - "$1" <<'PY'                    # day 3: a chunk corrupt (a byte in the middle flipped)
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x55; open(p, "wb").write(b)
PY
rm "$F/ds1/host/h1/2026-09-04T00:00:00Z/root.pxar.didx"   # day 4: an index vanished

rc=0
out=$(tapir tape backup store1 p1 --drive d1 --output-format json 2>"$T/err" | tail -n 1) || rc=$?
[ $rc -ne 0 ] || fail "failed snapshots must make the exit status non-zero: $out"
[ "$(json_get "$out" 'sorted(j["failed"])')" = "['host/h1/2026-09-02T00:00:00Z', 'host/h1/2026-09-03T00:00:00Z', 'host/h1/2026-09-04T00:00:00Z']" ] \
	|| fail "days 2, 3 and 4 should fail: $out"
[ "$(json_get "$out" 'j["snapshots-written"]')" = 2 ] || fail "days 1 and 5 should be written: $out"
[ "$(json_get "$out" 'j["snapshots-failed"]')" = 3 ] || fail "three failed: $out"
tail -n 1 "$T/err" | grep -q "3 snapshot(s) failed" || fail "the error line does not say what failed: $(tail -n 1 "$T/err")"
[ "$(json_get "$out" '"missing" in j["failed"]["host/h1/2026-09-02T00:00:00Z"] and "CRC" in j["failed"]["host/h1/2026-09-03T00:00:00Z"] and "root.pxar.didx" in j["failed"]["host/h1/2026-09-04T00:00:00Z"]')" = True ] \
	|| fail "the reasons do not say what is wrong: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
listed=$(tapir media content --output-format json | python3 -c 'import json,sys; print(" ".join(sorted(r["snapshot"] for r in json.load(sys.stdin))))')
[ "$listed" = "host/h1/2026-09-01T00:00:00Z host/h1/2026-09-05T00:00:00Z" ] || fail "the catalog lists: $listed"
res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"])')" = 2 ] || fail "restore of the written ones: $res"
tapir verify --store store2 >/dev/null || fail "store2 does not verify"
restored_as_copied store2 09 1 5

# two jobs on the same drive: the second fails naming the first's task
for d in 6 7; do
	head -c 3000000 /dev/urandom >"$T/src/data"
	tapir backup --store store1 --type host --id h2 --time "2026-09-0${d}T00:00:00Z" root.pxar:"$T/src" >/dev/null
done
"$TAPIR_BIN" tape backup store1 p1 --drive d1 --group host/h2 >"$T/job1.out" 2>&1 &
pid=$!
lockf="$TAPIR_HOME/run/drive-lock/d1"
for i in $(seq 1 500); do grep -q "tape-backup" "$lockf" 2>/dev/null && break; sleep 0.01; done
kill -STOP "$pid"
upid=$(grep -o 'UPID:[^ ]*' "$lockf" | head -n 1)
[ -n "$upid" ] || fail "the first job did not write its UPID into the drive lock: $(cat "$lockf")"
rc=0
tapir tape backup store1 p1 --drive d1 >/dev/null 2>"$T/err2" || rc=$?
[ $rc -ne 0 ] || fail "the second job on drive d1 did not fail"
tail -n 1 "$T/err2" | grep -qF "drive d1 is locked by $upid" || fail "the second job does not name the first: $(cat "$T/err2")"
kill -CONT "$pid"
wait "$pid" || rc=$?
grep -q "TASK OK" "$T/job1.out" || fail "the first job did not finish: $(cat "$T/job1.out")"
echo ok
