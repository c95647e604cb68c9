#!/bin/bash
# Tape backups killed (SIGKILL) at random points: every snapshot the catalog lists restores and verifies, the next job continues the set, nothing is lost.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir datastore create store3 "$F/ds3" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 12M >/dev/null
tapir pool create p1 >/dev/null
for i in $(seq 1 12); do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
mkdir -p "$T/src"
n=0
add_snapshots() { # two new days
	for k in 1 2; do
		n=$((n + 1))
		head -c 1500000 /dev/urandom >"$T/src/data"
		echo "$n" >"$T/src/day"
		tapir backup --store store1 --type host --id h1 --time "$(date -u -d "2026-05-01 + $n days" +%Y-%m-%dT00:00:00Z)" \
			root.pxar:"$T/src" >/dev/null
	done
}
add_snapshots
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
set_uuid=$(json_get "$out" 'j["media-set"]')
add_snapshots
t0=$(date +%s%N)
tapir tape backup store1 p1 --drive d1 >/dev/null 2>&1 || fail "undisturbed backup failed"
span=$((($(date +%s%N) - t0) / 1000000))

catalog_snaps() { tapir media content --output-format json | python3 -c 'import json,sys; print(" ".join(sorted(set("store1:" + r["snapshot"] for r in json.load(sys.stdin)))))'; }
killed=0
for run in $(seq 1 10); do
	add_snapshots
	delay=$((RANDOM % (span * 3 / 4 + 1) + 2))
	# a run that finished before its kill shrinks the span: on a loaded machine the timed run can be the slow one
	if kill_after_ms "$delay" "$TAPIR_BIN" tape backup store1 p1 --drive d1; then
		killed=$((killed + 1))
	else
		span=$((span * 3 / 4 + 4))
	fi
	# inventory and catalog agree: one media set, its tapes in sequence, every catalog row on a tape of the set
	sets=$(tapir media-set list --output-format json)
	[ "$(json_get "$sets" 'len(j)')" = 1 ] || fail "run $run: the set did not continue: $sets"
	[ "$(json_get "$sets" 'j[0]["uuid"] if "uuid" in j[0] else j[0]["media-set-uuid"]')" = "$set_uuid" ] || fail "run $run: $sets"
	media=$(tapir media list --output-format json)
	content=$(tapir media content --output-format json)
	python3 - "$media" "$content" "$set_uuid" <<'PY' || fail "run $run: inventory and catalog disagree"
import json, sys
media, content, su = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
members = {m["label-text"]: m for m in media if m.get("media-set-uuid") == su}
seqs = sorted(m["seq-nr"] for m in members.values())
assert seqs == list(range(len(seqs))), ("sequence numbers", seqs)
for r in content:
    assert r["media-set-uuid"] == su, r
    assert r["label-text"] in members and members[r["label-text"]]["seq-nr"] == r["seq-nr"], r
PY
done
[ "$killed" -ge 3 ] || fail "only $killed of 10 backups were killed while running (span ${span} ms)"

# every snapshot the catalog lists is complete on tape
listed=$(catalog_snaps)
nlisted=$(echo "$listed" | wc -w)
[ "$nlisted" -ge 4 ] || fail "the catalog lists only $nlisted snapshots"
res=$(tapir tape restore "$set_uuid" store1=store2 $listed --drive d1 --output-format json | tail -n 1) || fail "restore of listed: $res"
[ "$(json_get "$res" 'len(j["restored"])')" = "$nlisted" ] || fail "restore of what the catalog lists: $res"
tapir verify --store store2 >/dev/null || fail "a snapshot the catalog listed does not verify"

# the next job finishes the work in the same set
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1) || fail "backup after the kills: $out"
[ "$(json_get "$out" 'j["media-set"]')" = "$set_uuid" ] || fail "the next job started another set: $out"
[ "$(json_get "$out" 'j["snapshots-written"] + j["snapshots-skipped"]')" = "$n" ] || fail "the next job: $out"
[ "$(json_get "$out" 'j["snapshots-failed"]')" = 0 ] || fail "the next job: $out"
[ "$(catalog_snaps | wc -w)" = "$n" ] || fail "the catalog lists $(catalog_snaps | wc -w) of $n snapshots"
res=$(tapir tape restore "$set_uuid" store1=store3 --drive d1 --output-format json | tail -n 1) || fail "full restore: $res"
[ "$(json_get "$res" 'len(j["restored"])')" = "$n" ] || fail "full restore after the kills: $res"
tapir verify --store store3 >/dev/null || fail "store3 does not verify"
echo ok
