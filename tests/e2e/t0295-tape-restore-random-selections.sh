#!/bin/bash
# Random selective restores (seed printed; T0295_SEED=N repeats a run): whatever is selected, however many drives, whatever tape each drive holds and whatever the target already has, the run is exactly its plan (tape time and elapsed time), each needed tape is loaded once, nothing fails, and every restored snapshot gives back its tree byte for byte.
. "$(dirname "$0")/lib.sh"
F=$T
SEED=${T0295_SEED:-$((RANDOM * 32768 + RANDOM))}
echo "seed $SEED"
RANDOM=$SEED
say() { echo "seed $SEED, round $round: $*"; }

tapir datastore create src "$F/src-ds" >/dev/null
virtual_library 2 4M 10
# two hosts, six days each: a 12 MiB image (three 4 MiB chunks, mostly zeros so that they pack small) that gets
# 256 KiB of new data in one chunk a day, so later snapshots share chunks with earlier ones; and a note
snaps=()
for h in h1 h2; do
	mkdir -p "$F/$h"
	dd if=/dev/zero of="$F/$h.img" bs=1M count=12 status=none
	for c in 0 1 2; do dd if=/dev/urandom of="$F/$h.img" bs=64K count=4 seek=$((c * 64)) conv=notrunc status=none; done
done
for d in 1 2 3 4 5 6; do
	for h in h1 h2; do
		[ $d = 1 ] || dd if=/dev/urandom of="$F/$h.img" bs=64K count=4 seek=$((RANDOM % 3 * 64 + 10 + RANDOM % 40)) \
			conv=notrunc status=none
		echo "$h day $d" >"$F/$h/note"
		tapir backup --store src --type host --id "$h" --time "2026-12-0${d}T00:00:00Z" root.pxar:"$F/$h" \
			disk.img:"$F/$h.img" >/dev/null
		cp -a "$F/$h" "$F/copy-$h-$d"
		cp "$F/$h.img" "$F/copy-$h-$d.img"
		snaps+=("$h:$d")
	done
done
out=$(tapir tape backup src p1 --drive d1 --output-format json | tail -n 1)
set_uuid=$(json_get "$out" 'j["media-set"]')
read -r -a tapes <<<"$(json_get "$out" '" ".join(j["tapes"])')"
[ "${#tapes[@]}" -ge 3 ] || fail "expected >= 3 tapes: $out"

targets=0
for round in 1 2 3 4 5 6 7 8; do
	# the selection: 1 to 3 distinct snapshots
	n=$((1 + RANDOM % 3)) sel=() picked=" "
	while [ ${#sel[@]} -lt $n ]; do
		s=${snaps[RANDOM % ${#snaps[@]}]}
		case $picked in *" $s "*) continue ;; esac
		picked+="$s "
		sel+=("$s")
	done
	args=()
	for s in "${sel[@]}"; do args+=("src:host/${s%%:*}/2026-12-0${s##*:}T00:00:00Z"); done
	# the drives, and what they hold: nothing, a tape of the set, or (d1 only) the tape just unloaded
	drives=(--drive d1)
	[ $((RANDOM % 2)) = 1 ] && drives+=(--drive d2)
	tapir tape unload --drive d1 >/dev/null
	tapir tape unload --drive d2 >/dev/null
	for d in d1 d2; do
		case $((RANDOM % 3)) in
		1) tapir tape load-media --drive "$d" "${tapes[RANDOM % ${#tapes[@]}]}" >/dev/null 2>&1 || true ;;
		esac
	done
	# the target: a new datastore, or the last one again (what it holds is skipped or not read)
	if [ $targets = 0 ] || [ $((RANDOM % 2)) = 1 ]; then
		targets=$((targets + 1))
		tapir datastore create "tgt$targets" "$F/tgt$targets" >/dev/null
	fi
	tgt=tgt$targets
	say "${args[*]} into $tgt with ${drives[*]}"
	res=$(tapir tape restore "$set_uuid" "src=$tgt" "${args[@]}" "${drives[@]}" --output-format json 2>"$F/log") ||
		fail "seed $SEED round $round: restore failed: $(tail -n 5 "$F/log")"
	res=$(printf '%s\n' "$res" | tail -n 1)
	python3 - "$res" <<'PY' || fail "seed $SEED round $round: $res"
import json, sys
j = json.loads(sys.argv[1])
p = j["plan"]
assert not j["failed"], j["failed"]
sel = [s for s in p["snapshots"]]
assert len(j["restored"]) + len(j["skipped"]) == len(sel), (j["restored"], j["skipped"])
for s, why in j["skipped"].items():
    assert "already exists" in why, (s, why)
if j["restored"]:
    assert j["tape_loads"] == len(p["tapes"]), ("loads", j["tape_loads"], len(p["tapes"]))
est, run = p["estimated-seconds"], j["simulated_tape_seconds"]
assert abs(run - est) <= 1e-6 * max(est, 1.0), ("tape time", run, est)
ee, re_ = p["estimated-elapsed-seconds"], j["simulated_elapsed_seconds"]
assert abs(re_ - ee) <= 1e-6 * max(ee, 1.0), ("elapsed", re_, ee)
PY
	for s in $(json_get "$res" '" ".join(x.split(":", 1)[1] for x in j["restored"])'); do
		h=${s#host/}; h=${h%%/*}; d=${s##*2026-12-0}; d=${d%%T*}
		rm -rf "$F/r" "$F/r.img"
		tapir restore --store "$tgt" "$s" root.pxar "$F/r"
		tapir restore --store "$tgt" "$s" disk.img "$F/r.img"
		diff -r "$F/copy-$h-$d" "$F/r" || fail "seed $SEED round $round: $s in $tgt differs"
		cmp "$F/copy-$h-$d.img" "$F/r.img" || fail "seed $SEED round $round: the image of $s in $tgt differs"
	done
	tapir verify --store "$tgt" >/dev/null || fail "seed $SEED round $round: $tgt does not verify"
	[ -z "$(find "$F/$tgt/.tmp" -mindepth 1 2>/dev/null)" ] || fail "seed $SEED round $round: .tmp not clean"
done
echo ok
