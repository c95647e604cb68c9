#!/bin/bash
# A restore killed (SIGKILL) at random points, 12 times: no partial snapshot is ever visible, the rerun succeeds and .tmp ends empty.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
tapir drive create d1 --type virtual --path "$F/vtl" --max-size 64M >/dev/null
tapir pool create p1 >/dev/null
for i in 1 2 3 4; do tapir tape label --drive d1 --label-text "tape$i" --pool p1 >/dev/null; done
daily_backups store1 04 8000000 1 2 3 4 5 6 7 8
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 8 ] || fail "tape backup: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')

nsnaps() { tapir snapshot list --store store2 --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# how long an undisturbed restore takes: the kills are spread over that time
t0=$(date +%s%N)
tapir tape restore "$set_uuid" store1=store2 --drive d1 >/dev/null 2>&1 || fail "undisturbed restore failed"
span=$((($(date +%s%N) - t0) / 1000000))
[ "$(nsnaps)" = 8 ] || fail "undisturbed restore"

forget_all() {
	for d in 1 2 3 4 5 6 7 8; do
		tapir snapshot forget --store store2 "host/h1/2026-04-0${d}T00:00:00Z" >/dev/null 2>&1 || true
	done
	[ "$(nsnaps)" = 0 ] || fail "forget left snapshots"
}
forget_all
# mostly a fresh store, so that chunk inserts get killed too; every third run goes on from what the last kill left
killed=0
for run in $(seq 1 12); do
	if [ $((run % 3)) != 0 ]; then
		tapir datastore remove store2 >/dev/null 2>&1 || true
		rm -rf "$F/ds2"
		tapir datastore create store2 "$F/ds2" >/dev/null
	fi
	delay=$((RANDOM % (span * 2 / 3) + 5))
	# a run that finished before its kill shrinks the span: on a loaded machine the timed run can be the slow one
	if kill_after_ms "$delay" "$TAPIR_BIN" tape restore "$set_uuid" store1=store2 --drive d1; then
		killed=$((killed + 1))
	else
		span=$((span * 2 / 3 + 8))
	fi
	# whatever is listed is complete: every snapshot verifies
	n=$(nsnaps)
	if [ "$n" != 0 ]; then
		tapir verify --store store2 >/dev/null 2>&1 || fail "run $run (killed after ${delay} ms): a listed snapshot does not verify"
	fi
	for d in 1 2 3 4 5 6 7 8; do
		dir="$F/ds2/host/h1/2026-04-0${d}T00:00:00Z"
		[ ! -d "$dir" ] || [ -f "$dir/index.json.blob" ] || fail "run $run: $dir without a manifest"
	done
done
echo "$killed of 12 restores killed while running (span ${span} ms)"
[ "$killed" -ge 6 ] || fail "only $killed of 12 runs were killed while running (span ${span} ms)"

# the rerun completes everything and cleans the staging area
res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"]) + len(j["skipped"])')" = 8 ] || fail "rerun: $res"
[ "$(json_get "$res" 'j["failed"]')" = "{}" ] || fail "rerun failed: $res"
[ "$(nsnaps)" = 8 ] || fail "rerun did not restore all"
tapir verify --store store2 >/dev/null || fail "store2 does not verify after the rerun"
restored_as_copied store2 04 2 7
[ -z "$(find "$F/ds2/.tmp" -mindepth 1 2>/dev/null)" ] || fail ".tmp not empty: $(find "$F/ds2/.tmp" -mindepth 1 | head)"
echo ok
