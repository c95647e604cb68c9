#!/bin/bash
# Two drives of a changer reading at once, SIGKILLed at random points 8 times (4 planned from the catalog, 4 without one, where each drive stages its own copy of an archive): no partial snapshot is ever visible; the rerun restores everything and .tmp ends empty.
. "$(dirname "$0")/lib.sh"
F=$T

tapir datastore create store1 "$F/ds1" >/dev/null
tapir datastore create store2 "$F/ds2" >/dev/null
virtual_library 2 24M 6
daily_backups store1 05 6000000 1 2 3 4 5 6
out=$(tapir tape backup store1 p1 --drive d1 --output-format json | tail -n 1)
[ "$(json_get "$out" 'j["snapshots-written"]')" = 6 ] || fail "tape backup: $out"
[ "$(json_get "$out" 'len(j["tapes"]) >= 2')" = True ] || fail "expected >= 2 tapes: $out"
set_uuid=$(json_get "$out" 'j["media-set"]')
unload_all() { tapir tape unload --drive d1 >/dev/null 2>&1 || true; tapir tape unload --drive d2 >/dev/null 2>&1 || true; }
unload_all

nsnaps() { tapir snapshot list --store store2 --output-format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
fresh_store2() {
	tapir datastore remove store2 >/dev/null 2>&1 || true
	rm -rf "$F/ds2"
	tapir datastore create store2 "$F/ds2" >/dev/null
}

# how long an undisturbed two-drive restore takes: the kills are spread over that time
t0=$(date +%s%N)
tapir tape restore "$set_uuid" store1=store2 --drive d1 --drive d2 >/dev/null 2>&1 || fail "undisturbed restore failed"
span=$((($(date +%s%N) - t0) / 1000000))
[ "$(nsnaps)" = 6 ] || fail "undisturbed restore"

lib=$TAPIR_HOME/lib
# Each phase (with the catalog, then without: every file of every tape read) runs at least 4 times and
# until 2 kills landed while the restore ran; a run that finished before its kill shrinks the span, since
# a loaded machine can make the undisturbed run slower than the later ones.
killed=0
run=0
for phase in catalog none; do
	if [ "$phase" = none ]; then
		mkdir -p "$T/saved" && mv "$lib"/catalog.db* "$T/saved/"
	fi
	k=0
	for i in $(seq 1 12); do
		[ "$i" -le 4 ] || [ "$k" -lt 2 ] || break
		run=$((run + 1))
		[ $((i % 4)) = 0 ] || fresh_store2 # every 4th run continues over what the killed one left
		unload_all
		delay=$((RANDOM % (span * 2 / 3 + 1) + 5))
		if kill_after_ms "$delay" "$TAPIR_BIN" tape restore "$set_uuid" store1=store2 --drive d1 --drive d2; then
			k=$((k + 1))
		else
			span=$((span * 2 / 3 + 1))
		fi
		# whatever is listed is complete: every snapshot verifies, none lacks its manifest
		if [ "$(nsnaps)" != 0 ]; then
			tapir verify --store store2 >/dev/null 2>&1 || fail "run $run (killed after ${delay} ms): a listed snapshot does not verify"
		fi
		for d in 1 2 3 4 5 6; do
			dir="$F/ds2/host/h1/2026-05-0${d}T00:00:00Z"
			[ ! -d "$dir" ] || [ -f "$dir/index.json.blob" ] || fail "run $run: $dir without a manifest"
		done
		# no staged copy of a drive ever appears as a snapshot
		[ -z "$(find "$F/ds2/host" -maxdepth 3 -name '*.~drive*' 2>/dev/null)" ] || fail "run $run: a drive's staging copy is published"
	done
	[ "$k" -ge 2 ] || fail "phase $phase: only $k of $i restores were killed while running (span now ${span} ms)"
	killed=$((killed + k))
done
echo "$killed of $run restores killed while running (span at the end ${span} ms)"

# the rerun (without a catalog still) completes everything and cleans the staging area
unload_all
res=$(tapir tape restore "$set_uuid" store1=store2 --drive d1 --drive d2 --output-format json | tail -n 1)
[ "$(json_get "$res" 'len(j["restored"]) + len(j["skipped"])')" = 6 ] || fail "rerun: $res"
[ "$(json_get "$res" 'j["failed"]')" = "{}" ] || fail "rerun failed: $res"
[ "$(nsnaps)" = 6 ] || fail "rerun did not restore all"
tapir verify --store store2 >/dev/null || fail "store2 does not verify after the rerun"
restored_as_copied store2 05 1 4 6
[ -z "$(find "$F/ds2/.tmp" -mindepth 1 2>/dev/null)" ] || fail ".tmp not empty: $(find "$F/ds2/.tmp" -mindepth 1 | head)"
echo ok
